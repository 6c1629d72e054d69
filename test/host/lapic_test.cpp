// The ICR encodings for xAPIC and x2APIC, and the order in which the mode is switched
// (IA32_APIC_BASE writes) for every state firmware can leave a CPU in.
#include <gtest/gtest.h>

#include "arch/lapic_regs.hpp"

using namespace arch::lapic;

TEST(Lapic, InitIpiXapicPutsDestinationInHighByte) {
  u64 icr = encode_icr(Ipi{.delivery = Delivery::Init, .dest = 5}, false);
  EXPECT_EQ(icr & 0xffffffff, 0x4500u);  // INIT, level assert
  EXPECT_EQ(icr >> 32, 0x05000000u);     // ICR high bits 24-31
}

TEST(Lapic, InitIpiX2apicPutsDestinationInUpperDword) {
  u64 icr = encode_icr(Ipi{.delivery = Delivery::Init, .dest = 0x1234}, true);
  EXPECT_EQ(icr & 0xffffffff, 0x4500u);
  EXPECT_EQ(icr >> 32, 0x1234u);  // full 32-bit x2APIC ID
}

TEST(Lapic, StartupIpiCarriesTrampolinePage) {
  u8 v = 0;
  ASSERT_TRUE(sipi_vector_for(0x8000, &v));
  EXPECT_EQ(v, 0x08);
  EXPECT_FALSE(sipi_vector_for(0x100000, &v));  // above 1 MiB: unreachable in real mode
  EXPECT_FALSE(sipi_vector_for(0x8001, &v));    // not page aligned
  u64 icr = encode_icr(Ipi{.delivery = Delivery::Startup, .vector = 0x08, .dest = 3}, false);
  EXPECT_EQ(icr & 0xffffffff, 0x4608u);
  EXPECT_EQ(icr >> 32, 0x03000000u);
}

TEST(Lapic, ShorthandIgnoresDestination) {
  u64 icr = encode_icr(Ipi{.delivery = Delivery::Nmi, .shorthand = Shorthand::AllExcludingSelf, .dest = 7}, true);
  EXPECT_EQ(icr, 0xc4400u);
  EXPECT_EQ(IcrShorthand::get(icr), 3u);
}

TEST(Lapic, XapicTruncatesDestinationToEightBits) {
  u64 icr = encode_icr(Ipi{.delivery = Delivery::Fixed, .vector = 0xf0, .dest = 0x1ff}, false);
  EXPECT_EQ(icr >> 56, 0xffu);
  EXPECT_EQ(IcrVector::get(icr), 0xf0u);
}

TEST(Lapic, X2apicMsrNumbers) {
  EXPECT_EQ(x2apic_msr(Reg::Id), 0x802u);
  EXPECT_EQ(x2apic_msr(Reg::Svr), 0x80fu);
  EXPECT_EQ(x2apic_msr(Reg::IcrLow), 0x830u);
  EXPECT_EQ(x2apic_msr(Reg::LvtTimer), 0x832u);
  EXPECT_EQ(x2apic_msr(Reg::TimerDivide), 0x83eu);
}

TEST(Lapic, Fields) {
  EXPECT_EQ(SvrEnable::make(1) | SvrVector::make(0xff), 0x1ffu);
  EXPECT_EQ(LvtMask::make(1), 0x10000u);
  EXPECT_EQ(LvtMask::get(0x100ef), 1u);
}

// The base address bits of IA32_APIC_BASE as firmware leaves them (BSP flag included).
constexpr u64 kBase = 0xfee00000 | (1u << 8);

TEST(LapicEnable, XapicLeftByFirmwareIsSwitchedInOneWrite) {
  EnablePlan p = plan_enable(kBase | kApicBaseEnable, true);
  ASSERT_EQ(p.count, 1u);
  EXPECT_EQ(p.writes[0], kBase | kApicBaseEnable | kApicBaseX2Apic);
  EXPECT_EQ(p.mode, Mode::X2apicKernel);
}

TEST(LapicEnable, X2apicLeftByFirmwareIsKeptWithoutAWrite) {
  // x2APIC -> xAPIC is illegal, and rewriting the same value is pointless: no writes.
  EnablePlan p = plan_enable(kBase | kApicBaseEnable | kApicBaseX2Apic, true);
  EXPECT_EQ(p.count, 0u);
  EXPECT_EQ(p.mode, Mode::X2apicFirmware);
  // Even when CPUID were to say otherwise (the mode is what the MSR says).
  EXPECT_EQ(plan_enable(kBase | kApicBaseEnable | kApicBaseX2Apic, false).mode, Mode::X2apicFirmware);
}

TEST(LapicEnable, DisabledApicGoesThroughXapicFirst) {
  EnablePlan p = plan_enable(kBase, true);
  ASSERT_EQ(p.count, 2u);
  EXPECT_EQ(p.writes[0], kBase | kApicBaseEnable);                    // disabled -> xAPIC
  EXPECT_EQ(p.writes[1], kBase | kApicBaseEnable | kApicBaseX2Apic);  // xAPIC -> x2APIC
  EXPECT_EQ(p.mode, Mode::X2apicKernel);
}

TEST(LapicEnable, NoX2apicInCpuidStaysXapic) {
  EnablePlan p = plan_enable(kBase | kApicBaseEnable, false);
  EXPECT_EQ(p.count, 0u);
  EXPECT_EQ(p.mode, Mode::Xapic);
  p = plan_enable(kBase, false);
  ASSERT_EQ(p.count, 1u);
  EXPECT_EQ(p.writes[0], kBase | kApicBaseEnable);
  EXPECT_EQ(p.mode, Mode::Xapic);
}

TEST(LapicEnable, InvalidExtdWithoutEnableIsRepaired) {
  // EN=0, EXTD=1 is the invalid state (SDM Vol. 3A Table 11-5); never write it back.
  EnablePlan p = plan_enable(kBase | kApicBaseX2Apic, true);
  ASSERT_EQ(p.count, 2u);
  EXPECT_EQ(p.writes[0], kBase | kApicBaseEnable);
  EXPECT_EQ(p.writes[1], kBase | kApicBaseEnable | kApicBaseX2Apic);
  for (unsigned i = 0; i < p.count; ++i)  // no write of EXTD without EN
    EXPECT_FALSE((p.writes[i] & kApicBaseX2Apic) && !(p.writes[i] & kApicBaseEnable));
}

TEST(LapicEnable, ModeNames) {
  EXPECT_STREQ(mode_name(Mode::Xapic), "xapic");
  EXPECT_STREQ(mode_name(Mode::X2apicKernel), "x2apic");
  EXPECT_STREQ(mode_name(Mode::X2apicFirmware), "x2apic(fw)");
}
