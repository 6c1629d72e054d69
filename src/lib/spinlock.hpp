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
