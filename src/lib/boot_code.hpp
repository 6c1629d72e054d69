// Code that runs only while the kernel boots (seL4's BOOT_CODE idea): it goes to
// .text.boot, its own pages at the end of the text segment, which
// mm::kvm::retire_boot_code_and_run() makes non-executable once the monitor starts. Calling a BOOT_CODE function after
// that is a page fault with a clear report, not a silent use of stale code.
#pragma once

#define BOOT_CODE [[gnu::section(".text.boot"), gnu::noinline]]
