#include "arch/pic8259.hpp"

#include "arch/cpu.hpp"
#include "lib/boot_code.hpp"

namespace arch::pic8259 {
namespace {

// 8259A data sheet, "Initialization Command Words": ICW1 (bit 4 set marks it; bit 0: ICW4
// follows; cascade mode and edge triggering with the other bits clear), ICW2 (the vector
// base), ICW3 (master: which IR line has a slave, IR2 on the PC/AT; slave: its ID, 2),
// ICW4 (bit 0: 8086/88 mode). OCW1 is the mask register, one bit per IR line.
constexpr u8 kIcw1Init = 1u << 4;
constexpr u8 kIcw1NeedIcw4 = 1u << 0;
constexpr u8 kIcw3MasterSlaveOnIr2 = 1u << 2;
constexpr u8 kIcw3SlaveId = 2;
constexpr u8 kIcw4Mode8086 = 1u << 0;
constexpr u8 kOcw1MaskAll = 0xff;

// A write to an unused port: the 8259A needs a short recovery time between accesses
// that old chipsets did not insert themselves (port 0x80, the POST code port, as Linux).
void io_wait() { outb(0x80, 0); }

}  // namespace

BOOT_CODE void disable() {
  outb(kMasterData, kOcw1MaskAll);  // quiet while reprogrammed
  outb(kSlaveData, kOcw1MaskAll);
  outb(kMasterCommand, kIcw1Init | kIcw1NeedIcw4);
  io_wait();
  outb(kSlaveCommand, kIcw1Init | kIcw1NeedIcw4);
  io_wait();
  outb(kMasterData, kMasterBase);
  io_wait();
  outb(kSlaveData, kSlaveBase);
  io_wait();
  outb(kMasterData, kIcw3MasterSlaveOnIr2);
  io_wait();
  outb(kSlaveData, kIcw3SlaveId);
  io_wait();
  outb(kMasterData, kIcw4Mode8086);
  io_wait();
  outb(kSlaveData, kIcw4Mode8086);
  io_wait();
  // Initialization cleared the masks: mask every line again.
  outb(kMasterData, kOcw1MaskAll);
  outb(kSlaveData, kOcw1MaskAll);
}

}  // namespace arch::pic8259
