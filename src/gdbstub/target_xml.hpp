// The target description gdb reads with qXfer:features:read:target.xml (gdb manual,
// appendix "Target Descriptions"): architecture i386:x86-64 and one feature, org.gnu.gdb.i386.core, with
// the registers of regs.hpp and the flag, vector and union types they name. It is
// generated from those tables (names, order, sizes and types as in QEMU 10's
// gdb-xml/i386-64bit.xml, the bit names from the SDM), so the layout of 'g' cannot
// disagree with the description.
#pragma once
#include "lib/fmt.hpp"
#include "lib/types.hpp"

namespace gdbstub {

// The annex gdb asks for first; the description is one document (no xi:include).
constexpr const char* kTargetXmlAnnex = "target.xml";

// Writes the whole document. Deterministic: the same bytes every call, so a reader may
// take it in chunks at any offsets. Contains none of $ # } *, so it goes out unescaped.
void write_target_xml(lib::Sink& out);

}  // namespace gdbstub
