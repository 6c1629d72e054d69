#include "gdbstub/target_xml.hpp"

#include "gdbstub/regs.hpp"

namespace gdbstub {

namespace {

// A bit field of a <flags> type; an empty name marks reserved bits, listed so gdb shows
// the type as QEMU's description does.
struct Field {
  const char* name;
  u8 start;
  u8 end;
};

struct FlagsType {
  const char* id;
  const Field* fields;
  usize count;
  u8 size_bytes;
};

// EFLAGS (SDM Vol. 1, 3.4.3, Figure 3-8), high bits first. Bit 1 is reserved (reads 1),
// bits 3, 5, 15 and 22-31 are reserved (read 0).
constexpr Field kEflags[] = {
    {"", 22, 31},   {"ID", 21, 21}, {"VIP", 20, 20}, {"VIF", 19, 19},  {"AC", 18, 18}, {"VM", 17, 17},
    {"RF", 16, 16}, {"", 15, 15},   {"NT", 14, 14},  {"IOPL", 12, 13}, {"OF", 11, 11}, {"DF", 10, 10},
    {"IF", 9, 9},   {"TF", 8, 8},   {"SF", 7, 7},    {"ZF", 6, 6},     {"", 5, 5},     {"AF", 4, 4},
    {"", 3, 3},     {"PF", 2, 2},   {"", 1, 1},      {"CF", 0, 0},
};
// CR0 (SDM Vol. 3A, 2.5, Figure 2-7).
constexpr Field kCr0[] = {
    {"PG", 31, 31}, {"CD", 30, 30}, {"NW", 29, 29}, {"AM", 18, 18}, {"WP", 16, 16}, {"NE", 5, 5},
    {"ET", 4, 4},   {"TS", 3, 3},   {"EM", 2, 2},   {"MP", 1, 1},   {"PE", 0, 0},
};
// CR3 with CR4.PCIDE = 1 (SDM Vol. 3A, 4.5, Table 4-13): the PML4 table's base and the
// PCID; the PWT/PCD reading of bits 3 and 4 (PCIDE = 0) is not described.
constexpr Field kCr3[] = {{"PDBR", 12, 63}, {"PCID", 0, 11}};
// CR4 (SDM Vol. 3A, 2.5, Figure 2-7), the bits up to PKE.
constexpr Field kCr4[] = {
    {"PKE", 22, 22},        {"SMAP", 21, 21}, {"SMEP", 20, 20}, {"OSXSAVE", 18, 18}, {"PCIDE", 17, 17},
    {"FSGSBASE", 16, 16},   {"SMXE", 14, 14}, {"VMXE", 13, 13}, {"LA57", 12, 12},    {"UMIP", 11, 11},
    {"OSXMMEXCPT", 10, 10}, {"OSFXSR", 9, 9}, {"PCE", 8, 8},    {"PGE", 7, 7},       {"MCE", 6, 6},
    {"PAE", 5, 5},          {"PSE", 4, 4},    {"DE", 3, 3},     {"TSD", 2, 2},       {"PVI", 1, 1},
    {"VME", 0, 0},
};
// IA32_EFER (SDM Vol. 3A, 2.2.1, Table 2-1: SCE, LME, LMA, NXE; AMD APM Vol. 2, 3.1.7:
// SVME, LMSLE, FFXSR, TCE).
constexpr Field kEfer[] = {
    {"TCE", 15, 15}, {"FFXSR", 14, 14}, {"LMSLE", 13, 13}, {"SVME", 12, 12},
    {"NXE", 11, 11}, {"LMA", 10, 10},   {"LME", 8, 8},     {"SCE", 0, 0},
};
// MXCSR (SDM Vol. 1, 10.2.3, Figure 10-3), low bits first: flags, DAZ, masks, FZ.
constexpr Field kMxcsr[] = {
    {"IE", 0, 0}, {"DE", 1, 1}, {"ZE", 2, 2}, {"OE", 3, 3},   {"UE", 4, 4},   {"PE", 5, 5},   {"DAZ", 6, 6},
    {"IM", 7, 7}, {"DM", 8, 8}, {"ZM", 9, 9}, {"OM", 10, 10}, {"UM", 11, 11}, {"PM", 12, 12}, {"FZ", 15, 15},
};

template <usize N>
constexpr FlagsType flags(const char* id, u8 size_bytes, const Field (&f)[N]) {
  return FlagsType{id, f, N, size_bytes};
}

const FlagsType kFlags[] = {
    flags("x64_eflags", 4, kEflags), flags("x64_cr0", 8, kCr0),   flags("x64_cr3", 8, kCr3),
    flags("x64_cr4", 8, kCr4),       flags("x64_efer", 8, kEfer), flags("x64_mxcsr", 4, kMxcsr),
};

// The 128-bit views of an XMM register: packed floats and integers of each width, and the
// whole register (gdb's predefined element types).
struct Vector {
  const char* id;
  const char* element;
  u8 count;
};
constexpr Vector kVectors[] = {
    {"v4f", "ieee_single", 4}, {"v2d", "ieee_double", 2}, {"v16i8", "int8", 16},
    {"v8i16", "int16", 8},     {"v4i32", "int32", 4},     {"v2i64", "int64", 2},
};
struct UnionField {
  const char* name;
  const char* type;
};
constexpr UnionField kVec128[] = {
    {"v4_float", "v4f"},   {"v2_double", "v2d"},  {"v16_int8", "v16i8"},  {"v8_int16", "v8i16"},
    {"v4_int32", "v4i32"}, {"v2_int64", "v2i64"}, {"uint128", "uint128"},
};

}  // namespace

void write_target_xml(lib::Sink& out) {
  lib::format(out,
              "<?xml version=\"1.0\"?>\n"
              "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
              "<target version=\"1.0\">\n"
              "<architecture>i386:x86-64</architecture>\n"
              "<feature name=\"org.gnu.gdb.i386.core\">\n");
  // Types first: a register may only name a type defined before it.
  for (const FlagsType& t : kFlags) {
    lib::format(out, "<flags id=\"%s\" size=\"%u\">\n", t.id, static_cast<unsigned>(t.size_bytes));
    for (usize i = 0; i < t.count; ++i) {
      lib::format(out, "<field name=\"%s\" start=\"%u\" end=\"%u\"/>\n", t.fields[i].name,
                  static_cast<unsigned>(t.fields[i].start), static_cast<unsigned>(t.fields[i].end));
    }
    lib::format(out, "</flags>\n");
  }
  for (const Vector& v : kVectors) {
    lib::format(out, "<vector id=\"%s\" type=\"%s\" count=\"%u\"/>\n", v.id, v.element, static_cast<unsigned>(v.count));
  }
  lib::format(out, "<union id=\"vec128\">\n");
  for (const UnionField& f : kVec128) lib::format(out, "<field name=\"%s\" type=\"%s\"/>\n", f.name, f.type);
  lib::format(out, "</union>\n");
  for (const RegDesc& r : kRegDescs) {
    lib::format(out, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\"", r.name, static_cast<unsigned>(r.bits), r.type);
    if (r.group != nullptr) lib::format(out, " group=\"%s\"", r.group);
    lib::format(out, "/>\n");
  }
  lib::format(out, "</feature>\n</target>\n");
}

}  // namespace gdbstub
