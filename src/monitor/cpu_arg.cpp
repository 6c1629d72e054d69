#include "monitor/cpu_arg.hpp"

#include "lib/string.hpp"
#include "monitor/monitor.hpp"
#include "smp/percpu.hpp"

namespace monitor {
namespace {

bool running(const char* s, u64* index, const char* what) {
  if (!lib::parse_u64(s, index) || *index >= smp::g_cpu_count) {
    error("no cpu '%s' (a decimal index below %lu; see cpus)", s, smp::g_cpu_count);
    return false;
  }
  smp::PerCpu* p = smp::cpu(*index);
  if (p == nullptr || (p->state != smp::CpuState::Online && p != smp::this_cpu())) {
    error("cpu %lu is %s", *index, smp::cpu_state_name(p != nullptr ? p->state : smp::g_cpus[*index].state));
    return false;
  }
  if (in_panic_shell() && p != smp::this_cpu()) {
    error("cpu %lu is stopped (panic shell): only this cpu, %lu, %s", *index, smp::this_cpu()->index,
          what != nullptr ? what : "can be asked");
    return false;
  }
  return true;
}

bool stopped(const char* s, u64* index, const char* what) {
  if (!lib::parse_u64(s, index) || *index >= smp::g_cpu_count) {
    error("no cpu '%s' (a decimal index below %lu; see cpus)", s, smp::g_cpu_count);
    return false;
  }
  if (smp::cpu(*index) == nullptr) {
    error("cpu %lu has no slot (%s)%s%s", *index, smp::cpu_state_name(smp::g_cpus[*index].state),
          what != nullptr ? ": " : "", what != nullptr ? what : "");
    return false;
  }
  return true;
}

bool listed(const char* s, u64* index) {
  if (!lib::parse_u64(s, index)) {
    error("invalid cpu '%s' (a decimal index; see cpus)", s);
    return false;
  }
  if (*index >= smp::g_cpu_count && *index - smp::g_cpu_count < smp::g_noslot_count) {
    error("cpu %lu (apic %u) has no slot: %s lists more CPUs than KCONFIG_MAX_CPUS=%lu", *index,
          smp::g_noslot[*index - smp::g_cpu_count].apic_id,
          smp::g_cpu_list_source != nullptr ? smp::g_cpu_list_source : "the firmware", config::kMaxCpus);
    return false;
  }
  if (*index >= smp::g_cpu_count) {
    error("no cpu %lu (there are %lu)", *index, smp::g_cpu_count + smp::g_noslot_count);
    return false;
  }
  return true;
}

}  // namespace

bool parse_cpu(const char* s, CpuArg mode, u64* index, const char* what) {
  switch (mode) {
    case CpuArg::Running: return running(s, index, what);
    case CpuArg::Stopped: return stopped(s, index, what);
    case CpuArg::Listed: return listed(s, index);
  }
  return false;
}

}  // namespace monitor
