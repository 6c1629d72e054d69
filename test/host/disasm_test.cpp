// The x86 decoder against llvm-objdump (LLVM 14): every instruction of the kernel ELF,
// the AP trampoline (16-, 32- and 64-bit parts), the portable sources compiled with the
// kernel's flags at -O0/-O2 (and with SSE and AVX2 allowed, for a wider mix) and a
// hand-written listing of system instructions, compared by length, mnemonic and
// operands. objdump's "# comment" and "<symbol>" annotations are dropped; its
// "<unknown>" must be our "(bad)" (lengths of undecodable bytes are not compared: llvm
// reports how far its decoder got, we report 1). Plus hand-written bytes per mode and
// truncated buffers, copied into exactly-sized heap buffers so ASan sees any overread.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "disasm/x86_decode.hpp"
#include "smp/trampoline_layout.h"

namespace {

using disasm::Insn;
using disasm::Mode;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Decodes from an exactly-sized heap copy, so reading past `avail` is an ASan error.
Insn decode_copy(const u8* bytes, size_t avail, u64 addr, Mode mode) {
  std::unique_ptr<u8[]> copy(new u8[avail == 0 ? 1 : avail]);
  if (avail) memcpy(copy.get(), bytes, avail);
  Insn insn;
  disasm::decode(copy.get(), avail, addr, mode, &insn);
  return insn;
}

struct RefInsn {
  u64 addr;
  size_t len;
  std::string text;
};

// One "Disassembly of section" block: its bytes (from objdump's byte column, which
// covers the section when zero blocks are not skipped) and its instructions.
struct Block {
  u64 base = 0;
  std::vector<u8> bytes;
  std::vector<RefInsn> insns;
};

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Parses "  addr: bb bb bb <spaces>\tmnemonic\toperands  # comment" by hand: std::regex
// under ASan takes minutes over a whole kernel.
std::vector<Block> parse_objdump(const std::string& out) {
  std::vector<Block> blocks;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Disassembly of section", 0) == 0) {
      blocks.emplace_back();
      continue;
    }
    size_t i = 0;
    while (i < line.size() && line[i] == ' ') ++i;
    size_t a = i;
    while (i < line.size() && is_hex(line[i])) ++i;
    if (blocks.empty() || i == a || i + 1 >= line.size() || line[i] != ':' || line[i + 1] != ' ') continue;
    u64 addr = std::stoull(line.substr(a, i - a), nullptr, 16);
    i += 2;
    std::vector<u8> bytes;
    while (i + 1 < line.size() && is_hex(line[i]) && is_hex(line[i + 1]) &&
           (i + 2 == line.size() || line[i + 2] == ' ' || line[i + 2] == '\t')) {
      bytes.push_back(static_cast<u8>(std::stoul(line.substr(i, 2), nullptr, 16)));
      i += 2;
      if (i < line.size() && line[i] == ' ') ++i;
    }
    if (bytes.empty()) continue;
    Block* b = &blocks.back();
    if (b->bytes.empty()) b->base = addr;
    if (addr != b->base + b->bytes.size()) {  // a gap: start a new block there
      blocks.emplace_back();
      b = &blocks.back();
      b->base = addr;
    }
    b->bytes.insert(b->bytes.end(), bytes.begin(), bytes.end());
    size_t tab = line.find('\t', i > 0 ? i - 1 : 0);
    if (tab == std::string::npos) continue;  // data shown as bytes
    std::string text = line.substr(tab + 1);
    size_t hash = text.find('#');
    if (hash != std::string::npos) text.resize(hash);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
    if (!text.empty() && text.back() == '>') {  // a branch target's " <symbol+off>"
      size_t lt = text.rfind(" <");
      if (lt != std::string::npos) text.resize(lt);
    }
    b->insns.push_back(RefInsn{addr, bytes.size(), text});
  }
  return blocks;
}

struct Result {
  size_t compared = 0;
  std::vector<std::string> mismatches;
};

void compare(const std::string& objdump_out, Mode mode, Result* r) {
  for (const Block& b : parse_objdump(objdump_out)) {
    for (const RefInsn& ref : b.insns) {
      size_t off = ref.addr - b.base;
      Insn insn = decode_copy(b.bytes.data() + off, b.bytes.size() - off, ref.addr, mode);
      ++r->compared;
      bool ok = ref.text == "<unknown>" ? insn.bad : (!insn.bad && insn.len == ref.len && ref.text == insn.text);
      if (ok) continue;
      char head[64];
      snprintf(head, sizeof(head), "%#llx:", static_cast<unsigned long long>(ref.addr));
      std::string msg = head;
      for (size_t i = 0; i < ref.len && off + i < b.bytes.size(); ++i) {
        snprintf(head, sizeof(head), " %02x", b.bytes[off + i]);
        msg += head;
      }
      msg += "\n    objdump: [" + ref.text + "] len " + std::to_string(ref.len) + "\n    ours:    [" + insn.text +
             "] len " + std::to_string(insn.len);
      r->mismatches.push_back(msg);
    }
  }
}

void report(const std::string& what, const Result& r) {
  printf("%s: %zu instructions compared, %zu mismatches\n", what.c_str(), r.compared, r.mismatches.size());
  size_t shown = 0;
  for (const std::string& m : r.mismatches) {
    if (++shown > 200) break;
    printf("  %s\n", m.c_str());
  }
  EXPECT_GT(r.compared, 0u) << what;
  EXPECT_EQ(r.mismatches.size(), 0u) << what;
}

const char* triple(Mode m) {
  return m == Mode::Real16   ? "i386-unknown-unknown-code16"
         : m == Mode::Prot32 ? "i386-unknown-unknown"
                             : "x86_64-unknown-unknown";
}

const std::string kSrc = SOURCE_DIR;
const std::string kWork = kSrc + "/build/host/disasm_cmp";

void ensure_work_dir() { run("mkdir -p '" + kWork + "'"); }

// ---------------------------------------------------------------------------------------
// The kernel image and the trampoline.

TEST(DisasmObjdump, KernelElf) {
  std::string elf = kSrc + "/build/kernel.elf";
  if (!exists(elf)) run("cd '" + kSrc + "' && scripts/build >/dev/null 2>&1");
  ASSERT_TRUE(exists(elf)) << "build the kernel first (scripts/build)";
  Result r;
  compare(run("llvm-objdump -d -z '" + elf + "'"), Mode::Long64, &r);
  report("kernel.elf", r);
}

TEST(DisasmObjdump, Trampoline) {
  std::string bin = kSrc + "/build/trampoline.bin";
  if (!exists(bin)) run("cd '" + kSrc + "' && scripts/build >/dev/null 2>&1");
  ASSERT_TRUE(exists(bin));
  std::ifstream f(bin, std::ios::binary);
  std::vector<u8> tramp((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GE(tramp.size(), static_cast<size_t>(TRAMP_DATA_END));
  // The assembler records where its 32- and 64-bit parts start (trampoline_layout.h).
  u32 pm32 = 0, lm64 = 0;
  memcpy(&pm32, &tramp[TRAMP_PM32_OFF], 4);
  memcpy(&lm64, &tramp[TRAMP_LM64_OFF], 4);
  ASSERT_LT(pm32, lm64);
  ASSERT_LT(lm64, static_cast<u32>(TRAMP_DATA));
  ensure_work_dir();
  std::string o32 = kWork + "/trampoline32.o", o64 = kWork + "/trampoline64.o";
  run("llvm-objcopy -I binary -O elf32-i386 '" + bin + "' '" + o32 + "'");
  run("llvm-objcopy -I binary -O elf64-x86-64 '" + bin + "' '" + o64 + "'");
  struct Part {
    Mode mode;
    u32 start, stop;
    const std::string* obj;
  } parts[] = {{Mode::Real16, 0, pm32, &o32}, {Mode::Prot32, pm32, lm64, &o32}, {Mode::Long64, lm64, TRAMP_DATA, &o64}};
  for (const Part& p : parts) {
    Result r;
    char range[96];
    snprintf(range, sizeof(range), " --start-address=%u --stop-address=%u ", p.start, p.stop);
    compare(run(std::string("llvm-objdump -D -z -j .data --triple=") + triple(p.mode) + range + "'" + *p.obj + "'"),
            p.mode, &r);
    report(std::string("trampoline ") + triple(p.mode), r);
  }
}

// ---------------------------------------------------------------------------------------
// The portable sources (cmake/sources.cmake) built like the kernel at other levels.

std::vector<std::string> portable_sources() {
  std::ifstream f(kSrc + "/cmake/sources.cmake");
  std::vector<std::string> out;
  std::string line;
  static const std::regex re(R"(^\s*(src/\S+\.cpp)\s*$)");
  while (std::getline(f, line)) {
    std::smatch m;
    if (std::regex_match(line, m, re)) out.push_back(m[1].str());
  }
  return out;
}

void compare_build(const std::string& tag, const std::string& flags) {
  ensure_work_dir();
  auto sources = portable_sources();
  ASSERT_FALSE(sources.empty());
  Result r;
  for (const std::string& src : sources) {
    std::string obj = kWork + "/" + std::regex_replace(src, std::regex("[/.]"), "_") + "." + tag + ".o";
    std::string cc =
        "clang++ --target=x86_64-unknown-none-elf -std=c++20 -ffreestanding -fno-exceptions -fno-rtti "
        "-mno-red-zone -mcmodel=kernel -fno-pic -nostdlib -fno-stack-protector -I'" +
        kSrc + "/src' " + flags + " -c '" + kSrc + "/" + src + "' -o '" + obj + "' 2>&1";
    std::string err = run(cc);
    ASSERT_TRUE(exists(obj)) << cc << "\n" << err;
    compare(run("llvm-objdump -d -z '" + obj + "'"), Mode::Long64, &r);
  }
  report("portable sources " + tag, r);
}

TEST(DisasmObjdump, PortableO0) { compare_build("O0", "-O0 -mgeneral-regs-only"); }
TEST(DisasmObjdump, PortableO2) { compare_build("O2", "-O2 -mgeneral-regs-only"); }
TEST(DisasmObjdump, PortableO2Sse) { compare_build("O2sse", "-O2"); }
TEST(DisasmObjdump, PortableO2Avx2) { compare_build("O2avx2", "-O2 -mavx2"); }

// ---------------------------------------------------------------------------------------
// A hand-written listing of what the brief names, assembled by llvm-mc, per mode.

const char kListing64[] = R"(
  movq %rsp, %rbp; movq %cr0, %rax; movq %rax, %cr3; movq %cr4, %r9; movq %dr7, %rax; movq %rax, %dr0
  movw %ax, %ds; movl %eax, %ss; movw %es, (%rax); lgdtq (%rax); lidtq 8(%rbx); sgdtq (%rsp); sidtq -8(%rbp)
  lldtw %ax; ltrw %cx; strw (%rax); rdmsr; wrmsr; rdtsc; rdtscp; cpuid; swapgs; iretq; iretl; sysretq; sysretl
  syscall; invlpg (%rdi); hlt; pause; cli; sti; int3; int $0x80; ud2; inb $0x60, %al; outb %al, $0x80
  inb %dx, %al; inw %dx, %ax; inl %dx, %eax; outb %al, %dx; outw %ax, %dx; outl %eax, %dx
  rep movsb; rep movsq; rep stosb; rep stosq; repne scasb; repe cmpsb; rep lodsq; movsl; stosw
  lock xchgq %rax, (%rbx); xchgl %eax, %ecx; lock cmpxchgq %rcx, (%rdx); lock xaddl %eax, (%rbx); cmpxchg16b (%rdi)
  btq %rax, %rbx; btsl $3, (%rax); btrq $63, %rdx; btcw %ax, (%rbx); bsfq %rax, %rbx; bsrl (%rcx), %edx
  movzbl %al, %eax; movzwq (%rax), %rcx; movsbq %dl, %r8; movswl %ax, %eax; movslq %edi, %rax
  cmoveq %rax, %rbx; cmovll (%rax), %ecx; sete %al; setg (%rbx); jne .+2; jmp .+0x100; call .+0x100
  enter $16, $0; leave; lfence; mfence; sfence; clflush (%rax); clflushopt (%rbx); wbinvd; invd; endbr64
  nop; nopw %cs:0(%rax,%rax); nopl 0(%rax); nopw 0(%rax,%rax); xchgw %ax, %ax; pushfq; popfq; pushq %fs; popq %gs
  movabsq $0x123456789abcdef0, %rax; movabsb 0x1122334455667788, %al; movl %fs:0x28, %eax; movq %gs:(%rax), %rcx
  leaq 0x10(%rip), %rax; callq *0x10(%rip); jmpq *(%rax,%rcx,8); callq *%rax; lretq; retq $8
  shldq $4, %rax, %rbx; shrdl %cl, %eax, (%rbx); rolb %al; sarq $3, %rax; shrl %cl, %edx; imulq $-1, %rax, %rbx
  divq %rcx; idivl (%rax); mull %ebx; negq %rax; notb (%rdi); cqto; cltq; cwtl; xlatb; sahf; lahf; cmc; clc; stc; cld; std
  fldz; fld1; fldl (%rax); fstpt (%rbx); faddp %st, %st(1); fxch %st(2); fnstcw (%rsp); fldcw (%rsp); fninit; fucomip %st(1), %st
  fildll (%rax); fistpl (%rbx); fsqrt; fsin; fcos; fchs; fabs; fmul %st(3), %st; fdivrp %st, %st(2); fcmovbe %st(1), %st
  movaps %xmm0, %xmm1; movups (%rax), %xmm2; movdqa %xmm3, (%rbx); movdqu (%rcx), %xmm15; pxor %xmm0, %xmm0
  movq %xmm0, %rax; movq %rax, %xmm1; movd %xmm2, %eax; movd %ecx, %xmm3; movq (%rax), %xmm4; movq %xmm5, (%rbx)
  addps %xmm1, %xmm2; mulsd (%rax), %xmm3; subss %xmm4, %xmm5; divpd %xmm6, %xmm7; sqrtsd %xmm0, %xmm1; xorps %xmm2, %xmm2
  cvtsi2sd %rax, %xmm0; cvttsd2si %xmm0, %eax; ucomisd %xmm1, %xmm0; comiss (%rax), %xmm1; cmpltps %xmm1, %xmm0
  paddd %xmm1, %xmm2; psubq %xmm3, %xmm4; pcmpeqb %xmm5, %xmm6; pmovmskb %xmm7, %eax; pshufd $0x1b, %xmm0, %xmm1
  punpcklqdq %xmm1, %xmm2; psrldq $8, %xmm3; pslld $2, %xmm4; pand %xmm5, %xmm6; por %mm0, %mm1; emms
  movntdq %xmm0, (%rax); movnti %eax, (%rbx); ldmxcsr (%rax); stmxcsr (%rbx); fxsave (%rax); fxrstor64 (%rbx); xsave (%rcx)
  vmovaps %xmm0, %xmm1; vmovups (%rax), %ymm2; vmovdqa %ymm3, (%rbx); vmovdqu (%rcx), %xmm15; vpxor %xmm0, %xmm1, %xmm2
  vaddps %ymm1, %ymm2, %ymm3; vmulsd (%rax), %xmm3, %xmm4; vmovq %xmm0, %rax; vmovd %ecx, %xmm3; vzeroupper
  vpaddd %ymm1, %ymm2, %ymm3; vpshufb %xmm1, %xmm2, %xmm3; vpcmpeqb %ymm0, %ymm1, %ymm2; vpmovmskb %ymm0, %eax
  vmovss (%rax), %xmm0; vmovsd %xmm1, %xmm2, %xmm3; vcvtsi2sdq (%rax), %xmm1, %xmm2; vcmpltps %xmm1, %xmm2, %xmm3
  vpinsrq $1, %rax, %xmm1, %xmm2; vpextrd $2, %xmm0, %eax; vpbroadcastb %xmm0, %ymm1
  popcntq %rax, %rbx; tzcntl %eax, %ecx; lzcntq (%rax), %rdx; crc32b %al, %eax; crc32q %rax, %rax; movbel (%rax), %eax
  rdrandq %rax; rdseedl %ecx; xgetbv; xsetbv; monitor; mwait; clac; stac; prefetchnta (%rax); prefetchw (%rbx)
)";

const char kListing32[] = R"(
  movl %cr0, %eax; movl %eax, %cr0; movl %eax, %cr3; ljmp $0x08, $0x1000; lgdtl (%ebx); lidtl 0x10(%esi)
  movw $0x10, %ax; movw %ax, %ds; movl (%ebx,%ecx,4), %eax; movl 0x1000, %eax; movl %eax, 0x2000; jmp *%eax
  pushl %es; popl %ds; pushal; popal; incl %eax; decw %cx; aaa; daa; das; aas; aam; aad $10; into
  lesl (%eax), %ebx; ldsw (%eax), %bx; rdmsr; wrmsr; cpuid; iretl; iretw; lretl; calll *(%eax); ljmpl *(%ebx)
  rep movsl; rep stosb; outb %al, $0x80; inb $0x71, %al; jecxz .+2; jcxz .+3; loop .+2; arpl %ax, (%ebx)
  fldt (%eax); fstpl (%esp); movsd (%eax), %xmm0; vmovaps %xmm0, %xmm1; vpxor %xmm7, %xmm6, %xmm5
)";

const char kListing16[] = R"(
  cli; cld; movw %cs, %ax; movw %ax, %ds; xorl %ebx, %ebx; movw %ax, %bx; shll $4, %ebx; lgdtw 0xf30
  lgdtl 0xf30; movl %cr0, %eax; orl $1, %eax; movl %eax, %cr0; ljmpl *0xf38; ljmpw $0x08, $0x20; ljmpl $0x08, $0x100000
  movw (%bx,%si), %ax; movw 4(%bp,%di), %cx; movw -2(%bp), %dx; movb (%si), %al; movw 0x1234, %ax; movw (%eax), %ax
  pushw %ax; popw %bx; pushl %eax; pushfw; popfw; int $0x10; iretw; retw; retl; callw .+0x10; jmp .+2; jne .+0x80
  rep stosw; rep movsb; inb $0x92, %al; outb %al, $0x92; hlt; jmp .
)";

void compare_listing(const char* listing, Mode mode, const char* tag) {
  ensure_work_dir();
  std::string base = kWork + "/listing" + tag;
  {
    std::ofstream s(base + ".s");
    s << (mode == Mode::Real16 ? ".code16\n" : mode == Mode::Prot32 ? ".code32\n" : ".code64\n") << listing;
  }
  std::string t = mode == Mode::Long64 ? "x86_64" : "i386";
  std::string err = run("llvm-mc -triple=" + t + " -filetype=obj '" + base + ".s' -o '" + base + ".o' 2>&1 && echo ok");
  ASSERT_NE(err.find("ok"), std::string::npos) << err;
  Result r;
  compare(run(std::string("llvm-objdump -d -z --triple=") + triple(mode) + " '" + base + ".o'"), mode, &r);
  report(std::string("listing ") + tag, r);
}

TEST(DisasmObjdump, Listing64) { compare_listing(kListing64, Mode::Long64, "64"); }
TEST(DisasmObjdump, Listing32) { compare_listing(kListing32, Mode::Prot32, "32"); }
TEST(DisasmObjdump, Listing16) { compare_listing(kListing16, Mode::Real16, "16"); }

// ---------------------------------------------------------------------------------------
// Hand-written bytes.

struct Case {
  Mode mode;
  std::vector<u8> bytes;
  const char* text;
};

std::string decode_text(const Case& c, u64 addr, Insn* out) {
  *out = decode_copy(c.bytes.data(), c.bytes.size(), addr, c.mode);
  return out->text;
}

TEST(DisasmBytes, EveryMode) {
  const Case cases[] = {
      {Mode::Long64, {0x48, 0x89, 0xe5}, "movq\t%rsp, %rbp"},
      {Mode::Long64, {0x0f, 0x22, 0xd8}, "movq\t%rax, %cr3"},
      {Mode::Long64, {0xf3, 0x48, 0xab}, "rep\t\tstosq\t%rax, %es:(%rdi)"},
      {Mode::Long64, {0xf0}, "lock"},
      {Mode::Long64, {0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0}, "nopw\t%cs:(%rax,%rax)"},
      {Mode::Long64, {0x65, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0}, "movq\t%gs:0, %rax"},
      {Mode::Long64, {0x0f, 0x01, 0xf8}, "swapgs"},
      {Mode::Long64, {0x48, 0xcf}, "iretq"},
      {Mode::Long64, {0xf3, 0x0f, 0x1e, 0xfa}, "endbr64"},
      {Mode::Long64, {0x66, 0x0f, 0xef, 0xc0}, "pxor\t%xmm0, %xmm0"},
      {Mode::Long64, {0xc5, 0xfd, 0x6f, 0x01}, "vmovdqa\t(%rcx), %ymm0"},
      {Mode::Long64, {0xdd, 0xd9}, "fstp\t%st(1)"},
      {Mode::Prot32, {0x0f, 0x20, 0xc0}, "movl\t%cr0, %eax"},
      {Mode::Prot32, {0x40}, "incl\t%eax"},
      {Mode::Prot32, {0xea, 0x00, 0x10, 0x00, 0x00, 0x08, 0x00}, "ljmpl\t$8, $4096"},
      {Mode::Prot32, {0x8b, 0x04, 0x8b}, "movl\t(%ebx,%ecx,4), %eax"},
      {Mode::Real16, {0x8b, 0x42, 0x04}, "movw\t4(%bp,%si), %ax"},
      {Mode::Real16, {0x0f, 0x01, 0x16, 0x30, 0x0f}, "lgdtw\t3888"},
      {Mode::Real16, {0x66, 0xb8, 1, 0, 0, 0}, "movl\t$1, %eax"},
      {Mode::Real16, {0xfa}, "cli"},
  };
  for (const Case& c : cases) {
    Insn insn;
    EXPECT_EQ(decode_text(c, 0x1000, &insn), c.text);
    EXPECT_FALSE(insn.bad) << c.text;
    EXPECT_EQ(insn.len, c.bytes.size()) << c.text;
  }
}

TEST(DisasmBytes, TargetsAreNumbers) {
  Insn insn;
  Case call{Mode::Long64, {0xe8, 0xfb, 0xff, 0xff, 0xff}, ""};
  EXPECT_EQ(decode_text(call, 0xffffffff80200000ull, &insn), "callq\t0xffffffff80200000");
  EXPECT_EQ(insn.ref_kind, disasm::Ref::Branch);
  EXPECT_EQ(insn.ref, 0xffffffff80200000ull);
  Case rip{Mode::Long64, {0x48, 0x8b, 0x05, 0x10, 0, 0, 0}, ""};
  EXPECT_EQ(decode_text(rip, 0x1000, &insn), "movq\t16(%rip), %rax");
  EXPECT_EQ(insn.ref_kind, disasm::Ref::Memory);
  EXPECT_EQ(insn.ref, 0x1000u + 7 + 16);
  Case jmp16{Mode::Real16, {0xeb, 0xfe}, ""};
  EXPECT_EQ(decode_text(jmp16, 0x7c00, &insn), "jmp\t0x7c00");
  EXPECT_EQ(insn.ref, 0x7c00u);
}

TEST(DisasmBytes, BadBytes) {
  const Case cases[] = {
      {Mode::Long64, {0x06}, ""},        // push %es: invalid in long mode
      {Mode::Long64, {0x0f, 0x0a}, ""},  // unassigned
      {Mode::Long64, {0x8c, 0xf0}, ""},  // segment register 6
      {Mode::Prot32, {0x0f, 0x01, 0xc0 | 5 << 3}, ""},
      {Mode::Long64,
       {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90},
       ""},  // 15 bytes is fine, see below
  };
  for (size_t i = 0; i + 1 < sizeof(cases) / sizeof(cases[0]); ++i) {
    Insn insn;
    EXPECT_EQ(decode_text(cases[i], 0, &insn), "(bad)");
    EXPECT_TRUE(insn.bad);
    EXPECT_EQ(insn.len, 1);
  }
  Insn insn;
  decode_text(cases[4], 0, &insn);
  EXPECT_FALSE(insn.bad);
  EXPECT_EQ(insn.len, 15);
  Case too_long{Mode::Long64, std::vector<u8>(15, 0x66), ""};
  too_long.bytes.push_back(0x90);
  decode_text(too_long, 0, &insn);
  EXPECT_TRUE(insn.bad);  // 16 bytes: over the architectural limit
}

// Every prefix of a valid instruction shorter than it is "truncated", and no decode
// reads past `avail` (the heap copy is exactly `avail` bytes).
TEST(DisasmBytes, Truncated) {
  const Case cases[] = {
      {Mode::Long64, {0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0}, ""},
      {Mode::Long64, {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}, ""},
      {Mode::Long64, {0xc4, 0xe2, 0x7d, 0x00, 0x84, 0x88, 1, 2, 3, 4}, ""},
      {Mode::Long64, {0x48, 0x81, 0x84, 0x88, 1, 2, 3, 4, 5, 6, 7, 8}, ""},
      {Mode::Long64, {0xf3, 0x0f, 0x1e, 0xfa}, ""},
      {Mode::Long64, {0xdd, 0x84, 0x24, 0, 1, 0, 0}, ""},
      {Mode::Prot32, {0xea, 0x00, 0x10, 0x00, 0x00, 0x08, 0x00}, ""},
      {Mode::Prot32, {0xc5, 0xf9, 0xef, 0xc1}, ""},
      {Mode::Real16, {0x66, 0x0f, 0x01, 0x16, 0x30, 0x0f}, ""},
      {Mode::Real16, {0xc8, 0x10, 0x00, 0x01}, ""},
  };
  for (const Case& c : cases) {
    Insn full;
    decode_text(c, 0, &full);
    ASSERT_FALSE(full.bad) << full.text;
    ASSERT_EQ(full.len, c.bytes.size()) << full.text;
    for (size_t n = 0; n < c.bytes.size(); ++n) {
      Insn part = decode_copy(c.bytes.data(), n, 0, c.mode);
      EXPECT_TRUE(part.bad) << full.text << " with " << n << " bytes";
      EXPECT_TRUE(part.truncated) << full.text << " with " << n << " bytes";
      EXPECT_EQ(part.len, 1);
    }
  }
}

}  // namespace
