// A bounded, little-endian view of bytes from outside the kernel's control (firmware
// tables, the boot loader's information): every read names its offset and is refused
// when it does not fit, so a parser cannot read past what it was given. Shared by the
// ACPI and multiboot2 parsers; structures are read whole into packed structs whose sizes
// are static_asserted against the specification.
#pragma once
#include "lib/string.hpp"
#include "lib/types.hpp"

namespace lib {

class ByteReader {
 public:
  constexpr ByteReader() = default;
  constexpr ByteReader(const u8* data, usize size) : data_(data), size_(data == nullptr ? 0 : size) {}

  constexpr usize size() const { return size_; }
  constexpr const u8* data() const { return data_; }
  // [off, off + n) lies inside the view (written so it cannot overflow).
  constexpr bool has(usize off, usize n) const { return off <= size_ && n <= size_ - off; }

  // Copies a T (an integer or a packed struct) from off; false, *out untouched, if it
  // does not fit.
  template <typename T>
  [[nodiscard]] bool read(usize off, T* out) const {
    if (!has(off, sizeof(T))) return false;
    memcpy(out, data_ + off, sizeof(T));
    return true;
  }
  // The value at off, or `fallback` when it does not fit: for fields the caller has
  // already bounds-checked as part of a larger structure.
  template <typename T>
  T get(usize off, T fallback = T{}) const {
    T v = fallback;
    (void)read(off, &v);
    return v;
  }
  // A view of [off, off + n), empty when that does not fit.
  constexpr ByteReader sub(usize off, usize n) const { return has(off, n) ? ByteReader(data_ + off, n) : ByteReader(); }

 private:
  const u8* data_ = nullptr;
  usize size_ = 0;
};

}  // namespace lib
