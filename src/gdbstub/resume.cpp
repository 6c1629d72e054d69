#include "gdbstub/resume.hpp"

namespace gdbstub {

ThreadAction Resume::action_for(ThreadId tid) const {
  for (usize i = 0; i < count; ++i)
    if (actions[i].tid == tid || actions[i].tid == kAllThreads) {
      ThreadAction a = actions[i];
      a.tid = tid;
      return a;
    }
  ThreadAction stay;
  stay.tid = tid;
  return stay;
}

bool parse_vcont(Cursor& in, Resume* out) {
  *out = Resume{};
  if (in.at_end()) return false;
  while (in.eat(';')) {
    if (out->count == kMaxResumeActions) return false;
    ThreadAction a;
    int c = in.peek();
    if (c == 'c' || c == 's') {
      (void)in.eat(static_cast<char>(c));
    } else if (c == 'C' || c == 'S') {
      (void)in.eat(static_cast<char>(c));
      u64 sig = 0;
      if (!in.hex_u64(&sig) || sig > 0xff) return false;
      a.signal = static_cast<u8>(sig);
    } else {
      return false;  // t, r and anything else: not offered in our vCont? reply
    }
    a.mode = (c == 'c' || c == 'C') ? RunMode::Continue : RunMode::Step;
    if (in.eat(':')) {
      if (!in.thread_id(&a.tid) || a.tid == kAnyThread) return false;
    }
    out->actions[out->count++] = a;
  }
  return in.at_end() && out->count > 0;
}

}  // namespace gdbstub
