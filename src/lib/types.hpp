// Fixed-width integers and size units. Addresses are plain u64: physical ones are named
// `pa`/`phys` and virtual ones `va` throughout, and the conversions go through
// mm::layout::phys_to_virt / mm::kvm::phys_to_virt only. Freestanding: only the compiler's own
// <stdint.h>/<stddef.h>.
#pragma once
#include <stddef.h>
#include <stdint.h>

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i8 = int8_t;
using i16 = int16_t;
using i32 = int32_t;
using i64 = int64_t;
using usize = size_t;

constexpr u64 KiB = 1024;
constexpr u64 MiB = 1024 * KiB;
constexpr u64 GiB = 1024 * MiB;
constexpr u64 TiB = 1024 * GiB;

constexpr u64 align_down(u64 v, u64 a) { return v & ~(a - 1); }
constexpr u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }
constexpr bool is_aligned(u64 v, u64 a) { return (v & (a - 1)) == 0; }
