#include "boot/multiboot2.hpp"

#include "lib/bytes.hpp"
#include "lib/string.hpp"

namespace boot {
namespace {
// Tag types (Multiboot2 spec 3.6.2 ff.).
constexpr u32 kTagEnd = 0, kTagCmdline = 1, kTagLoader = 2, kTagMmap = 6;
constexpr u32 kTagEfi32 = 11, kTagEfi64 = 12, kTagAcpiOld = 14, kTagAcpiNew = 15;

// A memory-map entry (3.6.8): base, length, type, reserved; entry_size may be larger.
struct __attribute__((packed)) MmapEntry {
  u64 base;
  u64 length;
  u32 type;
  u32 reserved;
};
static_assert(sizeof(MmapEntry) == 24);
struct __attribute__((packed)) TagHeader {
  u32 type;
  u32 size;
};

void copy_string(char* dst, usize cap, const u8* src, usize n) {
  usize i = 0;
  for (; i + 1 < cap && i < n && src[i] != 0; ++i) dst[i] = static_cast<char>(src[i]);
  dst[i] = '\0';
}
}  // namespace

bool parse_multiboot2(const u8* info, usize size, BootInfo* out, mm::MemoryMap* map, const char** error) {
  memset(out, 0, sizeof(*out));
  *error = nullptr;
  if (size < 8) {
    *error = "boot information shorter than its header";
    return false;
  }
  const lib::ByteReader whole(info, size);
  u32 total = whole.get<u32>(0);
  if (total < 8 || total > size) {
    *error = "boot information size out of range";
    return false;
  }
  out->info_size = total;
  const lib::ByteReader bytes = whole.sub(0, total);
  usize off = 8;
  TagHeader tag;
  while (bytes.read(off, &tag)) {
    u32 type = tag.type;
    u32 tag_size = tag.size;
    if (tag_size < sizeof tag || !bytes.has(off, tag_size)) {
      *error = "boot information tag runs past the end";
      return false;
    }
    const lib::ByteReader tag_body = bytes.sub(off + sizeof tag, tag_size - sizeof tag);
    const u8* body = tag_body.data();
    usize body_len = tag_body.size();
    switch (type) {
      case kTagEnd: return true;
      case kTagCmdline: copy_string(out->cmdline, sizeof out->cmdline, body, body_len); break;
      case kTagLoader: copy_string(out->loader, sizeof out->loader, body, body_len); break;
      case kTagMmap: {
        if (body_len < 8) break;
        u32 entry_size = tag_body.get<u32>(0);
        if (entry_size < sizeof(MmapEntry)) {
          *error = "memory map entry size below 24";
          return false;
        }
        out->has_mmap = true;
        MmapEntry ent;
        for (usize e = 8; tag_body.has(e, entry_size) && tag_body.read(e, &ent); e += entry_size) {
          if (!map->add(ent.base, ent.length, mm::mem_type_from_multiboot(ent.type))) {
            // Never keep part of a map: the rest could hold the RAM or tables needed.
            *error = "the memory map has more entries than KCONFIG_MAX_MEMMAP_RANGES; rebuild with a larger value";
            return false;
          }
        }
        break;
      }
      case kTagEfi32:
      case kTagEfi64: out->efi = true; break;
      case kTagAcpiOld:
      case kTagAcpiNew:
        // Prefer the ACPI 2.0 copy (it has the XSDT address) when both are present.
        if (type == kTagAcpiNew || !out->rsdp_v2) {
          usize n = body_len < sizeof out->rsdp ? body_len : sizeof out->rsdp;
          memcpy(out->rsdp, body, n);
          out->rsdp_len = n;
          out->rsdp_v2 = type == kTagAcpiNew;
        }
        break;
      default: break;
    }
    off += (tag_size + 7) & ~usize{7};
  }
  *error = "boot information has no end tag";
  return false;
}

bool cmdline_option(const char* cmdline, const char* key, char* buf, usize cap) {
  usize klen = lib::strlen(key);
  const char* p = cmdline;
  while (*p != '\0') {
    while (*p == ' ') ++p;
    const char* word = p;
    while (*p != '\0' && *p != ' ') ++p;
    usize wlen = static_cast<usize>(p - word);
    if (wlen >= klen && lib::strncmp(word, key, klen) == 0 && (wlen == klen || word[klen] == '=')) {
      if (buf != nullptr && cap > 0) {
        usize vlen = wlen > klen ? wlen - klen - 1 : 0;
        if (vlen >= cap) vlen = cap - 1;
        memcpy(buf, word + klen + (wlen > klen ? 1 : 0), vlen);
        buf[vlen] = '\0';
      }
      return true;
    }
  }
  return false;
}

}  // namespace boot
