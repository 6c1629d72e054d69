// kernel_main: from the multiboot2 handoff to the monitor prompt, in order:
//   serial -> boot information -> physical memory -> final address space -> IDT ->
//   LAPIC -> per-CPU slot 0 (the BSP moves onto its own stack) -> ACPI -> TSC (against
//   the best reference clock the tables name) -> CPU list (MADT, else MP table) -> AP
//   bring-up -> boot report -> monitor.
#include "acpi/acpi.hpp"
#include "arch/cpu.hpp"
#include "arch/hpet.hpp"
#include "arch/idt.hpp"
#include "arch/ioapic.hpp"
#include "arch/lapic.hpp"
#include "arch/pic8259.hpp"
#include "arch/pmtimer.hpp"
#include "arch/serial.hpp"
#include "arch/tsc.hpp"
#include "arch/uart_regs.hpp"
#include "boot/multiboot2.hpp"
#include "boot/ports.hpp"
#include "debug/gdb_stub.hpp"
#include "debug/panic.hpp"
#include "debug/stop.hpp"
#include "kernel/console.hpp"
#include "kernel/panic.hpp"
#include "kernel/timeline.hpp"
#include "lib/boot_code.hpp"
#include "lib/string.hpp"
#include "mm/kvm.hpp"
#include "mm/layout.hpp"
#include "monitor/monitor.hpp"
#include "smp/bringup.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"
#if KCONFIG_BENCH_FLOOR
#include "bench/floor.hpp"
#endif

extern "C" u64 boot_handoff_tsc;
extern "C" char __kernel_phys_start[], __kernel_phys_end[];

namespace boot {
void run_global_constructors();
}

// Not in an anonymous namespace: gdb/kernel.py reads them by name.
namespace boot {
mm::MemoryMap g_map;           // normalized, usable ranges trimmed to whole pages: what is used
mm::MemoryMap g_firmware_map;  // normalized but exact: what `physmap` shows
mm::FrameAllocator g_frames;
BootInfo g_boot;
SerialPorts g_ports;
}  // namespace boot
using boot::g_boot;
using boot::g_frames;
using boot::g_map;
using boot::g_ports;

namespace {

// The lowest page in [4 KiB, 640 KiB) that is usable in the firmware map and free of
// the boot information: the AP trampoline's page. Page 0 holds the real-mode IVT and
// BIOS data area; the EBDA and ROMs sit above 0x9fc00.
BOOT_CODE u64 pick_trampoline_page(u64 mbi_start, u64 mbi_end) {
  for (u64 pa = 0x1000; pa < 0xa0000; pa += 0x1000) {
    bool usable = false;
    for (usize i = 0; i < g_map.size(); ++i) {
      const auto& r = g_map[i];
      if (r.type == mm::MemType::Usable && pa >= r.start && pa + 0x1000 <= r.end) usable = true;
    }
    if (usable && (pa + 0x1000 <= mbi_start || pa >= mbi_end)) return pa;
  }
  return 0;
}

[[noreturn]] void continue_on_own_stack();

// debug.break=<addr|sym>[,<addr|sym>...]: breakpoints set before the APs start, so
// bring-up can be debugged (each AP loads them on arrival). debug.wait: stop at kstop>
// before AP bring-up, to set breakpoints by hand first.
BOOT_CODE void debug_options() {
  char val[128];
  if (boot::cmdline_option(g_boot.cmdline, "debug.break", val, sizeof val)) {
    for (char* p = val; *p != 0;) {
      char* end = p;
      while (*end != 0 && *end != ',') ++end;
      char sep = *end;
      *end = 0;
      u64 addr = 0;
      unsigned slot = 0;
      const char* why = nullptr;
      if (!monitor::parse_address(p, &addr, nullptr))
        why = "not an address or symbol";
      else
        why = debug::add_breakpoint(debug::BpKind::Exec, addr, 1, &slot);
      if (why != nullptr)
        kernel::console::printf("debug.break=%s: %s; not set\n", p, why);
      else
        kernel::console::printf("debug.break: breakpoint %u at 0x%016lx\n", slot, addr);
      p = sep != 0 ? end + 1 : end;
    }
    debug::apply_breakpoints_here();
  }
  if (boot::cmdline_option(g_boot.cmdline, "debug.wait", val, sizeof val))
    debug::stop_here("debug.wait: before AP bring-up ('continue' starts them)");
  if (boot::cmdline_option(g_boot.cmdline, "debug.gdb.wait", val, sizeof val)) debug::gdb::wait_for_gdb();
}

// Every I/O APIC the firmware lists, into the device window for `ioapic` (nothing is
// routed). The MP table gives no GSI bases (its interrupt entries name an I/O APIC and an
// INTIN): number_gsis numbers them in table order, each chip after the previous one's
// redirection entries, as the MADT would.
BOOT_CODE void map_ioapics(const acpi::IoApic* list, usize count, bool number_gsis, const char* listed) {
  u32 next_gsi = 0;
  for (usize i = 0; i < count; ++i) {
    const acpi::IoApic& io = list[i];
    arch::ioapic::Chip c{io.id, io.gsi_base, io.address, mm::kvm::map_device(io.address, 0x1000, "ioapic"), listed};
    if (c.va == 0) kernel::console::printf("ioapic: cannot map the I/O APIC at 0x%x; not shown\n", io.address);
    if (number_gsis) {
      c.gsi_base = next_gsi;
      if (c.va != 0) next_gsi += arch::ioapic::entries(c);
    }
    if (!arch::ioapic::add(c)) {
      kernel::console::printf("ioapic: more than %lu I/O APICs (arch::ioapic::kMaxChips); the rest not shown\n",
                              static_cast<u64>(arch::ioapic::kMaxChips));
      return;
    }
  }
}

// The reference clocks the tables name, handed to arch/ before the TSC is calibrated:
// the HPET's register block mapped uncached, the PM timer's port (or mapped register).
BOOT_CODE void set_up_clocks() {
  const acpi::Info& info = acpi::g_info;
  if (info.hpet_status == acpi::TimerTable::Ok) {
    const u64 va = mm::kvm::map_device(info.hpet.base, arch::hpet::kBlockBytes, "hpet");
    if (va == 0) kernel::console::printf("hpet: cannot map the register block at 0x%lx\n", info.hpet.base);
    (void)arch::hpet::init(va);  // its status is what `timing sources` and calibrate() read
  }
  if (info.pm_timer_status == acpi::TimerTable::Ok) {
    const acpi::PmTimerInfo& pm = info.pm_timer;
    if (pm.io) {
      arch::pmtimer::init_port(static_cast<u16>(pm.address), pm.ext32);
    } else {
      const u64 va = mm::kvm::map_device(pm.address, sizeof(u32), "pm-timer");
      if (va == 0) kernel::console::printf("pm-timer: cannot map its register at 0x%lx\n", pm.address);
      arch::pmtimer::init_mmio(va, pm.ext32);
    }
  }
}

// The CPU list: the MADT, else the MP table, else the bootstrap CPU alone.
BOOT_CODE void register_cpus() {
  const u32 bsp = arch::lapic::id();
  if (acpi::g_info.madt_found) {
    const acpi::Madt& madt = acpi::g_info.madt;
    smp::register_cpus(madt.cpus, madt.cpu_count, madt.cpus_dropped, bsp, "the MADT");
    map_ioapics(madt.ioapics, madt.ioapic_count, false, "madt");
    return;
  }
  if (acpi::load_mp(mm::kvm::phys())) {
    const acpi::MpTable& mp = acpi::g_mp;
    if (mp.bsp_listed && mp.bsp_apic_id != bsp)
      kernel::console::printf("mptable: warning: it names apic %u the bootstrap CPU; this is apic %u\n", mp.bsp_apic_id,
                              bsp);
    smp::register_cpus(mp.cpus, mp.cpu_count, mp.cpus_dropped, bsp, "the MP table");
    map_ioapics(mp.ioapics, mp.ioapic_count, true, "mptable");
  }
}

}  // namespace

extern "C" [[noreturn]] BOOT_CODE void kernel_main(u32 magic, u32 mbi_phys) {
  arch::serial::init(arch::uart::kCom1);
  boot::run_global_constructors();
  kernel::timeline_mark(kernel::Phase::Handoff, boot_handoff_tsc);
  kernel::timeline_mark(kernel::Phase::KernelEntry, arch::rdtsc());
  if (magic != boot::kMultiboot2BootMagic) kernel::panic("not started by a multiboot2 loader (eax=0x%x)", magic);

  // The boot information is read through the boot identity map (it lies below 4 GiB).
  const u8* mbi = reinterpret_cast<const u8*>(static_cast<u64>(mbi_phys));
  u32 mbi_size = *reinterpret_cast<const u32*>(mbi);
  const char* err = nullptr;
  if (!boot::parse_multiboot2(mbi, mbi_size, &g_boot, &g_map, &err))
    kernel::panic("multiboot2 information: %s (%lu entries kept at most)", err,
                  static_cast<u64>(mm::MemoryMap::kMaxRanges));
  // The command line names the ports (console=, debug.gdb=): the banner goes to the one chosen.
  g_ports = boot::choose_serial_ports(g_boot.cmdline);
  kernel::console::printf("\nkmon: x86-64 SMP kernel, serial console on %s\n", arch::serial::name(g_ports.console));
  if (!g_boot.has_mmap) kernel::panic("the boot loader gave no memory map");
  boot::g_firmware_map = g_map;
  boot::g_firmware_map.normalize(false);
  mm::set_firmware_map(&boot::g_firmware_map);
  g_map.normalize();

  // Physical memory: never the low 1 MiB (allocator rule), the kernel image, the boot
  // information or the trampoline page.
  u64 mbi_start = mbi_phys, mbi_end = mbi_phys + mbi_size;
  u64 tramp = pick_trampoline_page(mbi_start, mbi_end);
  // Two excludes of kMaxExcludes: cannot fail, but an allocator that hands out the
  // kernel image or the boot information must never be allowed to start.
  if (!g_frames.exclude(reinterpret_cast<u64>(__kernel_phys_start), reinterpret_cast<u64>(__kernel_phys_end)) ||
      !g_frames.exclude(mbi_start, mbi_end))
    kernel::panic("frame allocator: no room to exclude the kernel image and boot information");
  g_frames.init(g_map);
  smp::set_trampoline_page(tramp);

  bool huge = (arch::cpuid(arch::cpuid_leaf::kExtFeatures).edx & arch::cpuid_bit::kExt1EdxPdpe1gb) != 0;
  mm::kvm::build_and_switch(g_map, g_frames, huge);
  kernel::timeline_mark(kernel::Phase::Paging, arch::rdtsc());

  arch::idt_init();
  arch::idt_load();
  arch::pic8259::disable();  // before anything enables interrupts (arch/pic8259.hpp: why)
  // Who handles what, registered before anything can trap: faults, NMI and panics
  // (debug), cross-CPU calls and TLB flushes (smp), the panic shell (monitor).
  debug::init();
  debug::set_panic_shell(monitor::panic_shell);
  debug::set_stop_shell(monitor::stop_shell);
  debug::gdb::init(g_ports.gdb, g_ports.gdb_note);
  debug::gdb::set_command_runner(monitor::run_command);
  smp::xcall_init();
  arch::lapic::init_bsp();
  if (!arch::lapic::x2apic()) {
    u64 va = mm::kvm::map_device(arch::lapic::mmio_phys(), 0x1000, "lapic");
    if (va == 0) kernel::panic("cannot map the local APIC at 0x%lx", arch::lapic::mmio_phys());
    arch::lapic::set_mmio(va);
  }
  smp::bsp_enter_slot(arch::lapic::id(), continue_on_own_stack);
}

namespace {

// SDM Vol. 3A 11.11.8: every CPU must have the same MTRRs (and 11.12.4: the same PAT);
// each AP compares its own with the BSP's once every AP has arrived (smp::ap_main, told by
// start_aps), and this line reports what they found.
BOOT_CODE void print_cache_line(lib::Sink& out) {
  const arch::cache::Snapshot& bsp = smp::g_bsp_cache;
  if (bsp.count == 0) {
    lib::format(out, "cache: no MTRRs and no PAT in CPUID; nothing to compare\n");
    return;
  }
  u64 differ = 0, compared = 0, first = 0, loaded = 0, first_loaded = 0;
  for (u64 i = 1; i < smp::g_cpu_count; ++i) {
    const smp::PerCpu* p = smp::g_cpus[i].percpu;
    if (p == nullptr || smp::g_cpus[i].state != smp::CpuState::Online) continue;
    ++compared;
    if (p->cache_found.count != 0 && loaded++ == 0) first_loaded = i;
    if (p->cache_diff.count != 0 && differ++ == 0) first = i;
  }
  if (loaded != 0) {
    const arch::cache::Difference& d = smp::g_cpus[first_loaded].percpu->cache_found;
    lib::format(out,
                "cache: %lu APs arrived with MTRRs/PAT unlike cpu 0's (cpu %lu: msr 0x%x was 0x%lx, cpu 0 has 0x%lx); "
                "they loaded cpu 0's (SDM 11.11.8)\n",
                loaded, first_loaded, d.first_msr, d.found, d.expected);
  }
  u64 pat = 0;
  for (unsigned k = 0; k < bsp.count; ++k)
    if (bsp.msr[k] == arch::cache::kPat) pat = bsp.value[k];
  if (differ == 0) {
    lib::format(out, "cache: MTRRs and PAT identical on all %lu CPUs (%u variable MTRRs, PAT 0x%016lx)", compared + 1,
                bsp.var_ranges, pat);
  } else {
    const arch::cache::Difference& d = smp::g_cpus[first].percpu->cache_diff;
    lib::format(out,
                "cache: warning: MTRRs/PAT of %lu CPUs differ from cpu 0's (cpu %lu: msr 0x%x is 0x%lx, cpu 0 has "
                "0x%lx); SDM 11.11.8 requires them identical",
                differ, first, d.first_msr, d.found, d.expected);
  }
  if (bsp.var_ranges_cut)
    lib::format(out, " (only the first %u of %u variable MTRRs compared: arch::cache::kMaxVarMtrrs)",
                arch::cache::kMaxVarMtrrs, bsp.var_ranges);
  lib::format(out, "\n");
}

// What the processor is and which of its features the kernel relies on: 1 GiB pages (the
// direct map), NX (EFER.NXE: every non-code mapping), x2APIC, and whether the TSC is
// invariant (CPUID 0x80000007 EDX[8]: it then runs at a constant rate in every state).
BOOT_CODE void print_cpu_line(lib::Sink& out, bool huge_pages) {
  const auto v = arch::cpuid(arch::cpuid_leaf::kVendor);
  char vendor[13];
  memcpy(vendor, &v.ebx, 4);
  memcpy(vendor + 4, &v.edx, 4);
  memcpy(vendor + 8, &v.ecx, 4);
  vendor[12] = '\0';
  const arch::CpuVersion ver = arch::decode_version(arch::cpuid(arch::cpuid_leaf::kVersion).eax);
  const bool nx = (arch::rdmsr(arch::msr::kEfer) & arch::efer::kNXE) != 0;
  const bool invariant = arch::cpuid(arch::cpuid_leaf::kExtMax).eax >= arch::cpuid_leaf::kExtPower &&
                         (arch::cpuid(arch::cpuid_leaf::kExtPower).edx & arch::cpuid_bit::kExt7EdxInvariantTsc) != 0;
  lib::format(out, "cpu: %s family %u model %u stepping %u; 1g-pages %s, nx %s, x2apic %s, invariant-tsc %s\n", vendor,
              ver.family, ver.model, ver.stepping, huge_pages ? "yes" : "no", nx ? "yes" : "no",
              arch::lapic::x2apic() ? "yes" : "no", invariant ? "yes" : "no");
}

BOOT_CODE void print_boot_report() {
  const auto& st = mm::kvm::stats();
  kernel::console::Locked lock;
  lib::Sink& out = kernel::console::sink();
  lib::format(out, "boot: %s, loader \"%s\", cmdline \"%s\"\n", g_boot.efi ? "UEFI" : "BIOS", g_boot.loader,
              g_boot.cmdline);
  lib::format(out, "memory: %lu MiB usable in %lu ranges; direct map %lu MiB (%s pages); page tables %lu KiB\n",
              g_map.total(mm::MemType::Usable) / MiB, static_cast<u64>(g_map.size()), st.direct_map_bytes / MiB,
              st.huge_pages ? "1G/2M" : "2M", g_frames.allocated_bytes(mm::Purpose::PageTable) / KiB);
  lib::format(
      out,
      "image: text %lu KiB r-x (%lu KiB boot-only, NX from the prompt on), rodata %lu KiB r--, data+bss %lu KiB rw-\n",
      st.image_text / KiB, mm::kvm::boot_code_bytes() / KiB, st.image_rodata / KiB, st.image_data / KiB);
  print_cpu_line(out, st.huge_pages);
  arch::lapic::Mode mode = arch::lapic::bsp_mode();
  lib::format(out, "tsc: %lu.%03lu MHz (%s); lapic: %s (%s), timer %lu kHz\n", arch::tsc::hz() / 1000000,
              (arch::tsc::hz() / 1000) % 1000, arch::tsc::source_name(), arch::lapic::x2apic() ? "x2apic" : "xapic",
              mode == arch::lapic::Mode::X2apicFirmware ? "enabled by firmware"
              : mode == arch::lapic::Mode::X2apicKernel ? "enabled by the kernel"
                                                        : "no x2apic in cpuid",
              arch::lapic::timer_hz() / 1000);
  const auto& b = smp::g_bringup;
  u64 enabled = smp::g_noslot_enabled;
  for (u64 i = 0; i < smp::g_cpu_count; ++i)
    if (smp::g_cpus[i].state != smp::CpuState::Offline) ++enabled;
  lib::format(out, "smp: %lu of %lu enabled CPUs online (%lu failed), ", smp::g_online_count, enabled, b.failed);
  if (smp::g_cpu_list_source != nullptr) {
    lib::format(out, "%lu listed in %s", smp::g_cpus_listed, smp::g_cpu_list_source);
  } else {
    // Why there is no list, in the order it was looked for.
    lib::format(out, "the bootstrap CPU alone (");
    if (acpi::g_ignored)
      lib::format(out, "ACPI ignored: acpi=off");
    else if (acpi::g_info.error == acpi::Error::NoRsdp)
      lib::format(out, "no ACPI tables");
    else if (acpi::g_info.error == acpi::Error::MadtMissing)
      lib::format(out, "no ACPI MADT");
    else
      lib::format(out, "no usable ACPI MADT: %s", acpi::error_text(acpi::g_info.error));
    lib::format(out, "; %s)",
                acpi::g_mp_error == acpi::MpError::NotFound ? "no MP table" : acpi::mp_error_text(acpi::g_mp_error));
  }
  if (smp::g_noslot_enabled != 0)
    lib::format(out, ", %lu without a slot (KCONFIG_MAX_CPUS=%lu)", smp::g_noslot_enabled, config::kMaxCpus);
  lib::format(out, "\n");
  if (b.started > 0) {
    lib::format(
        out, "smp: bring-up %lu us from first INIT to last AP online (trampoline at 0x%lx)\n",
        arch::tsc::ticks_to_us(b.last_arrival_tsc > b.first_init_tsc ? b.last_arrival_tsc - b.first_init_tsc : 0),
        b.trampoline_phys);
  }
  print_cache_line(out);
  debug::gdb::describe(out);
  lib::format(out, "boot: %lu us from multiboot handoff to prompt; type 'help'\n",
              arch::tsc::ticks_to_us(arch::rdtsc() - kernel::timeline_tsc(kernel::Phase::Handoff)));
}

// A reference clock the tables name but which gave no figure is worth a line; the source
// that was used is in the boot report.
BOOT_CODE void report_clock_fallbacks() {
  for (int i = 0; i < static_cast<int>(arch::tsc::Source::Uncalibrated); ++i) {
    const auto s = static_cast<arch::tsc::Source>(i);
    const arch::tsc::Measurement& m = arch::tsc::boot_attempt(s);
    if (m.ok || m.why == nullptr) continue;
    const bool named = (s == arch::tsc::Source::Hpet && acpi::g_info.hpet_status == acpi::TimerTable::Ok) ||
                       (s == arch::tsc::Source::PmTimer && acpi::g_info.pm_timer_status == acpi::TimerTable::Ok) ||
                       s == arch::tsc::Source::Pit;
    if (named) kernel::console::printf("tsc: %s unusable: %s\n", arch::tsc::source_name(s), m.why);
  }
  const arch::tsc::CpuidCheck& c = arch::tsc::cpuid_check();
  if (c.rejected) {
    const u64 got = c.against.tsc_hz, ppm = static_cast<u64>(c.ppm < 0 ? -c.ppm : c.ppm);
    kernel::console::printf(
        "tsc: cpuid says %lu.%03lu MHz but %s measures %lu.%03lu MHz (%lu.%lu%% apart): cpuid's figure not used\n",
        c.cpuid_hz / 1000000, (c.cpuid_hz / 1000) % 1000, arch::tsc::source_name(c.against.source), got / 1000000,
        (got / 1000) % 1000, ppm / 10000, (ppm / 1000) % 10);
  } else if (c.cpuid_hz != 0 && !c.against.ok) {
    kernel::console::printf("tsc: cpuid's %lu.%03lu MHz unchecked: no clock to measure it against\n",
                            c.cpuid_hz / 1000000, (c.cpuid_hz / 1000) % 1000);
  }
}

[[noreturn]] BOOT_CODE void continue_on_own_stack() {
  // init_bsp already switched the BSP's mode, so what enable_this_cpu finds now is the
  // kernel's own doing; init_bsp's finding is the one to report.
  arch::lapic::Mode found = arch::lapic::enable_this_cpu();
  smp::this_cpu()->apic_mode = arch::lapic::is_x2apic(found) ? arch::lapic::bsp_mode() : found;
  char val[32];
  u64 v;
  // The firmware tables first: they name the reference clocks the TSC is calibrated
  // against. `acpi=off` ignores them all (CPU list from the MP table, PIT only).
  if (boot::cmdline_option(g_boot.cmdline, "acpi", val, sizeof val) && lib::streq(val, "off"))
    acpi::ignore();
  else
    acpi::load(g_boot.rsdp, g_boot.rsdp_len, g_boot.rsdp_v2, mm::kvm::phys());
  kernel::timeline_mark(kernel::Phase::Acpi, arch::rdtsc());
  set_up_clocks();
  arch::tsc::calibrate();
  arch::lapic::timer_calibrate();
  kernel::timeline_mark(kernel::Phase::Timers, arch::rdtsc());
  report_clock_fallbacks();
  register_cpus();
  smp::BringupOptions opt{};
  if (boot::cmdline_option(g_boot.cmdline, "smp.skip_apic", val, sizeof val) && lib::parse_u64(val, &v)) {
    opt.skip_apic_set = true;
    opt.skip_apic = static_cast<u32>(v);
  }
  if (boot::cmdline_option(g_boot.cmdline, "smp.timeout_ms", val, sizeof val) && lib::parse_u64(val, &v))
    opt.timeout_ms = v;
  if (boot::cmdline_option(g_boot.cmdline, "smp.init_delay_us", val, sizeof val) && lib::parse_u64(val, &v)) {
    opt.init_delay_set = true;
    opt.init_delay_us = v;
  }
  debug_options();
#if KCONFIG_BENCH_FLOOR
  bench::floor_run(opt);  // scripts/bench's floor build: times a bare trampoline instead, never returns
#endif
  smp::start_aps(opt);
  kernel::timeline_mark(kernel::Phase::Smp, arch::rdtsc());
  print_boot_report();
  debug::gdb::start_polling();
  kernel::timeline_mark(kernel::Phase::Prompt, arch::rdtsc());
  mm::kvm::retire_boot_code_and_run(monitor::run);
}

}  // namespace
