// Test-and-test-and-set spinlock. Interrupt state is the caller's business; the
// console lock can be broken by a panicking CPU once all others are stopped.
#pragma once
#include "lib/types.hpp"

namespace lib {

class Spinlock {
 public:
  void lock() {
    while (__atomic_exchange_n(&locked_, true, __ATOMIC_ACQUIRE)) {
      while (__atomic_load_n(&locked_, __ATOMIC_RELAXED)) __builtin_ia32_pause();
    }
  }
  bool try_lock() { return !__atomic_exchange_n(&locked_, true, __ATOMIC_ACQUIRE); }
  void unlock() { __atomic_store_n(&locked_, false, __ATOMIC_RELEASE); }
  void force_unlock() { __atomic_store_n(&locked_, false, __ATOMIC_RELEASE); }

 private:
  bool locked_ = false;
};

// A spinlock that knows its holder (a nonzero token per CPU: its per-CPU pointer or
// index + 1). Taking it while the same CPU holds it does not deadlock: that can only mean
// the holder was unwound past its release (a fault in a guarded monitor command resumes at
// the command's start) or interrupted by an NMI whose handler needs the lock. The caller
// takes it over and the count of takeovers says so.
class OwnerLock {
 public:
  // True if the lock was taken; false if another CPU held it for `spins` attempts.
  bool lock(u64 me, u64 spins = ~u64{0}) {
    for (u64 i = 0;; ++i) {
      u64 expected = 0;
      if (__atomic_compare_exchange_n(&owner_, &expected, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return true;
      if (expected == me) {
        __atomic_fetch_add(&takeovers_, 1, __ATOMIC_RELAXED);
        return true;
      }
      if (i >= spins) return false;
      __builtin_ia32_pause();
    }
  }
  void unlock() { __atomic_store_n(&owner_, 0, __ATOMIC_RELEASE); }
  u64 owner() const { return __atomic_load_n(&owner_, __ATOMIC_ACQUIRE); }
  u64 takeovers() const { return __atomic_load_n(&takeovers_, __ATOMIC_RELAXED); }
  // For a panicking CPU once every other CPU is stopped.
  void force_unlock() { unlock(); }

 private:
  u64 owner_ = 0;
  u64 takeovers_ = 0;
};

class LockGuard {
 public:
  explicit LockGuard(Spinlock& l) : l_(l) { l_.lock(); }
  ~LockGuard() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Spinlock& l_;
};

}  // namespace lib
