// Fixed-width integers and the two address spaces as distinct types, so that a
// physical address can never be passed where a virtual one is expected.
// Freestanding: only the compiler's own <stdint.h>/<stddef.h>.
#pragma once
#include <stddef.h>
#include <stdint.h>

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i64 = int64_t;
using usize = size_t;

struct PhysAddr {
  u64 value = 0;
  constexpr PhysAddr() = default;
  constexpr explicit PhysAddr(u64 v) : value(v) {}
  constexpr PhysAddr operator+(u64 off) const { return PhysAddr(value + off); }
  constexpr bool operator==(const PhysAddr&) const = default;
  constexpr bool operator<(const PhysAddr& o) const { return value < o.value; }
};

struct VirtAddr {
  u64 value = 0;
  constexpr VirtAddr() = default;
  constexpr explicit VirtAddr(u64 v) : value(v) {}
  constexpr VirtAddr operator+(u64 off) const { return VirtAddr(value + off); }
  constexpr bool operator==(const VirtAddr&) const = default;
  constexpr bool operator<(const VirtAddr& o) const { return value < o.value; }
  template <typename T>
  T* ptr() const {
    return reinterpret_cast<T*>(value);
  }
};

constexpr u64 KiB = 1024;
constexpr u64 MiB = 1024 * KiB;
constexpr u64 GiB = 1024 * MiB;
constexpr u64 TiB = 1024 * GiB;

constexpr u64 align_down(u64 v, u64 a) { return v & ~(a - 1); }
constexpr u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }
constexpr bool is_aligned(u64 v, u64 a) { return (v & (a - 1)) == 0; }
