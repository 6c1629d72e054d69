// Resume requests: what gdb asks each thread to do when it lets the machine run (c, s,
// C, S and vCont, RSP "Packets"). The Session parses them and hands them to the caller,
// which resumes the CPUs and later reports the next stop.
#pragma once
#include "gdbstub/hex.hpp"
#include "gdbstub/protocol.hpp"
#include "lib/types.hpp"

namespace gdbstub {

enum class RunMode : u8 {
  Stay,      // not resumed: stays stopped (vCont names no action for it)
  Continue,  // c, C
  Step,      // s, S: one instruction, then stop (and report a stop)
};

struct ThreadAction {
  ThreadId tid = kAllThreads;  // kAllThreads: every thread no earlier action named
  RunMode mode = RunMode::Stay;
  u8 signal = 0;  // C/S: the signal gdb passes (0 for c/s); a kernel may ignore it
};

// vCont takes several actions: one per thread gdb treats specially plus a default is the
// usual case (`vCont;s:2;c`); more than this many is refused with an error reply.
constexpr usize kMaxResumeActions = 16;

struct Resume {
  ThreadAction actions[kMaxResumeActions];
  u64 addr = 0;           // c/s/C/S with an address: resume addr_tid there
  ThreadId addr_tid = 0;  // (set only when has_addr)
  usize count = 0;
  bool has_addr = false;

  // What tid does: the leftmost action naming it, else the leftmost default (RSP
  // "Packets", vCont: "the leftmost action with a matching thread-id is applied"),
  // else it stays stopped.
  ThreadAction action_for(ThreadId tid) const;
};

// Parses the actions after "vCont" (";c", ";s:2;c", ";C05:3"). Thread ids are checked
// by the caller. False for anything malformed, an action other than c/C/s/S, or too many.
[[nodiscard]] bool parse_vcont(Cursor& in, Resume* out);

}  // namespace gdbstub
