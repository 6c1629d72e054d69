// Fields shared between CPUs, said once: lib::Atomic<T> instead of `volatile` plus
// scattered __atomic_* calls. Plain reads and writes of an Atomic are acquire loads and
// release stores (what the cross-CPU handshakes here need); read-modify-write operations
// are explicit. Same size and alignment as T, so structures shared with assembly and gdb
// keep their layout (the value is the member `v`).
#pragma once
#include "lib/types.hpp"

namespace lib {

template <typename T>
class Atomic {
 public:
  constexpr Atomic() = default;
  constexpr explicit Atomic(T x) : v(x) {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(int order = __ATOMIC_ACQUIRE) const {
    T out;
    __atomic_load(&v, &out, order);
    return out;
  }
  void store(T x, int order = __ATOMIC_RELEASE) { __atomic_store(&v, &x, order); }
  operator T() const { return load(); }  // NOLINT(google-explicit-constructor)
  Atomic& operator=(T x) {
    store(x);
    return *this;
  }
  T exchange(T x, int order = __ATOMIC_ACQ_REL) {
    T out;
    __atomic_exchange(&v, &x, &out, order);
    return out;
  }
  // Moves from `expected` to `desired`; false (and expected = what was there) otherwise.
  bool compare_exchange(T& expected, T desired, int order = __ATOMIC_ACQ_REL) {
    return __atomic_compare_exchange(&v, &expected, &desired, false, order, __ATOMIC_ACQUIRE);
  }
  T fetch_add(T d, int order = __ATOMIC_ACQ_REL) { return __atomic_fetch_add(&v, d, order); }

  T v{};  // public only so that offsetof and gdb see it; use the operations above
};

}  // namespace lib
