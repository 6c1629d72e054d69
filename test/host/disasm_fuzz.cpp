// libFuzzer target: arbitrary bytes through the x86 decoder in every mode, walking the
// buffer the way `dis` will. Each decode sees an exactly-sized heap copy of what is
// left, so ASan reports any read past `avail`; the invariants are a length of 1..15
// (1 when bad), progress, and a NUL-terminated text that fits. Comparing the results
// with llvm-objdump is the job of disasm_test.cpp, not of the fuzzer.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disasm/x86_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr disasm::Mode kModes[] = {disasm::Mode::Real16, disasm::Mode::Prot32, disasm::Mode::Long64};
  for (disasm::Mode mode : kModes) {
    size_t off = 0;
    while (off < size) {
      size_t avail = size - off;
      u8* copy = static_cast<u8*>(malloc(avail));
      memcpy(copy, data + off, avail);
      disasm::Insn insn;
      bool ok = disasm::decode(copy, avail, 0xffffffff80200000ull + off, mode, &insn);
      free(copy);
      if (ok == insn.bad) abort();
      if (insn.len < 1 || insn.len > disasm::kMaxInsnBytes || insn.len > avail) abort();
      if (insn.bad && insn.len != 1) abort();
      if (insn.truncated && !insn.bad) abort();
      if (strnlen(insn.text, disasm::kTextBytes) >= disasm::kTextBytes || insn.text[0] == '\0') abort();
      off += insn.len;
    }
  }
  return 0;
}
