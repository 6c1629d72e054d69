// Opcode tables for x86_decode.cpp (SDM Vol. 2D Appendix A, "Opcode Map"), written as
// short strings so that the whole decoder stays a few KiB. An entry is
//
//   [flags] mnemonic [operands]          e.g. "^push* Zv", "imul* Gv,Ev,Iz"
//
// flags:     '^' 64-bit default operand size in long mode (a 66 prefix makes it 16)
//            '-' REX.W does not make the operand size 64 (IN/OUT/INS/OUTS)
//            '&' 64-bit operand size in long mode whatever the prefixes say
//            '~' invalid in long mode          '!' valid only in long mode
//            '?' VEX-encoded only (AVX2 additions)
// mnemonic:  a trailing '*' is the AT&T size suffix (b/w/l/q) of the operation size,
//            taken from the first sized E/G/Z/M/R operand, else the operand size.
//            "#N" (N a letter) is group N (indexed by ModRM.reg, see kGroups).
// operands:  Intel order (destination first); printed reversed, as AT&T does.
//            E=r/m G=ModRM.reg Z=opcode low bits M=memory only R=register only
//            I=immediate (b signed 8, u unsigned 8, w signed 16, r RET's 16, z operand size up to
//            32 bits, v full operand size) J=relative branch O=moffs X/Y=string source/
//            destination S=segment C/D=control/debug V/W/U/H=xmm (reg, r/m, r/m register,
//            VEX.vvvv) P/Q/N=mmx (xmm with a 66 prefix); sizes b w d q v(operand size)
//            y(d, q with REX.W) x(register: operand size, memory: w); for xmm operands
//            x follows VEX.L, h is always xmm (the narrow side of a widening op). L is
//            the register in imm8[7:4] (SDM Vol. 2A 2.3.10 "/is4"). Lower-case names
//            (al, cl, dx, es .. gs, av = accumulator of the operand size) are registers.
//            A leading '*' marks an indirect branch operand.
// Entries of the 0F maps may hold "none|66|F3|F2" variants (mandatory prefixes) and
// ';' separates a legacy-mode entry from a long-mode one. Empty or null: invalid.
#pragma once
#include "lib/types.hpp"

namespace disasm::tables {

// The eight ALU operations of opcodes 00-3F and group 1 (80-83), by bits 5:3.
inline constexpr const char* kAlu[8] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
// Condition codes by the low nibble of Jcc/SETcc/CMOVcc (SDM Vol. 1 Appendix B).
inline constexpr const char* kCond[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                          "s", "ns", "p", "np", "l", "ge", "le", "g"};

// One-byte map, 40-FF (00-3F: ALU rows, segment push/pop and BCD, handled in code).
inline constexpr const char* kOneByte[0xc0] = {
    // 40-4F: INC/DEC in legacy modes (REX prefixes in long mode, never looked up)
    "inc* Zv",
    "inc* Zv",
    "inc* Zv",
    "inc* Zv",
    "inc* Zv",
    "inc* Zv",
    "inc* Zv",
    "inc* Zv",  //
    "dec* Zv",
    "dec* Zv",
    "dec* Zv",
    "dec* Zv",
    "dec* Zv",
    "dec* Zv",
    "dec* Zv",
    "dec* Zv",  //
    // 50-5F
    "^push* Zv",
    "^push* Zv",
    "^push* Zv",
    "^push* Zv",
    "^push* Zv",
    "^push* Zv",
    "^push* Zv",
    "^push* Zv",  //
    "^pop* Zv",
    "^pop* Zv",
    "^pop* Zv",
    "^pop* Zv",
    "^pop* Zv",
    "^pop* Zv",
    "^pop* Zv",
    "^pop* Zv",  //
    // 60-6F
    "~pusha*",
    "~popa*",
    "~bound* Gv,Mm",
    "arpl Ew,Gw;movslq Gv,Ed",
    nullptr,
    nullptr,
    nullptr,
    nullptr,  //
    "^push* Iz",
    "imul* Gv,Ev,Iz",
    "^push* Ib",
    "imul* Gv,Ev,Ib",
    "insb Yb,dx",
    "-ins* Yv,dx",
    "outsb dx,Xb",
    "-outs* dx,Xv",
    // 70-7F: Jcc rel8, handled in code
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,  //
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,  //
    // 80-8F
    "#a Eb,Ib",
    "#a Ev,Iz",
    "~#a Eb,Ib",
    "#a Ev,Ib",
    "testb Eb,Gb",
    "test* Ev,Gv",
    "xchgb Eb,Gb",
    "xchg* Ev,Gv",  //
    "movb Eb,Gb",
    "mov* Ev,Gv",
    "movb Gb,Eb",
    "mov* Gv,Ev",
    "mov* Ex,Sw",
    "lea* Gv,Mm",
    "mov* Sw,Ex",
    "#b Ev",
    // 90-9F (90 itself is handled in code)
    nullptr,
    "xchg* av,Zv",
    "xchg* av,Zv",
    "xchg* av,Zv",
    "xchg* av,Zv",
    "xchg* av,Zv",
    "xchg* av,Zv",
    "xchg* av,Zv",  //
    nullptr,
    nullptr,
    "~lcall* Ap",
    "wait",
    "^pushf*",
    "^popf*",
    "sahf",
    "lahf",
    // A0-AF
    "movb al,Ob;movabsb al,Ob",
    "mov* av,Ov;movabs* av,Ov",
    "movb Ob,al;movabsb Ob,al",
    "mov* Ov,av;movabs* Ov,av",
    "movsb Yb,Xb",
    "movs* Yv,Xv",
    "cmpsb Xb,Yb",
    "cmps* Xv,Yv",  //
    "testb al,Ib",
    "test* av,Iz",
    "stosb Yb,al",
    "stos* Yv,av",
    "lodsb al,Xb",
    "lods* av,Xv",
    "scasb al,Yb",
    "scas* av,Yv",
    // B0-BF
    "movb Zb,Ib",
    "movb Zb,Ib",
    "movb Zb,Ib",
    "movb Zb,Ib",
    "movb Zb,Ib",
    "movb Zb,Ib",
    "movb Zb,Ib",
    "movb Zb,Ib",  //
    "mov* Zv,Iv",
    "mov* Zv,Iv",
    "mov* Zv,Iv",
    "mov* Zv,Iv",
    "mov* Zv,Iv",
    "mov* Zv,Iv",
    "mov* Zv,Iv",
    "mov* Zv,Iv",
    // C0-CF (C8 ENTER and C4/C5 VEX are handled in code)
    "#c Eb,Iu",
    "#c Ev,Iu",
    "^ret* Ir",
    "^ret*",
    "~les* Gv,Mp",
    "~lds* Gv,Mp",
    "#d Eb,Ib",
    "#d Ev,Iz",  //
    nullptr,
    "leave",
    "lret* Ir",
    "lret*",
    "int3",
    "int Iu",
    "~into",
    "iret*",
    // D0-DF (D8-DF x87, handled in code)
    "#c Eb",
    "#c Ev",
    "#c Eb,cl",
    "#c Ev,cl",
    "~aam Iu",
    "~aad Iu",
    nullptr,
    "xlatb",  //
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    // E0-EF (E3 JCXZ handled in code)
    "loopne Jb",
    "loope Jb",
    "loop Jb",
    nullptr,
    "inb al,Iu",
    "-in* av,Iu",
    "outb Iu,al",
    "-out* Iu,av",  //
    "^call* Jz",
    "^jmp Jz",
    "~ljmp* Ap",
    "jmp Jb",
    "inb al,dx",
    "-in* av,dx",
    "outb dx,al",
    "-out* dx,av",
    // F0-FF
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    "hlt",
    "cmc",
    "#e Eb",
    "#e Ev",  //
    "clc",
    "stc",
    "cli",
    "sti",
    "cld",
    "std",
    "#f Eb",
    "#g Ev",
};

// Groups by ModRM.reg (SDM Vol. 2D Table A-6). An entry "mem@reg" differs by ModRM.mod;
// "+ops" appends operands to the opcode's own, other operands replace them.
inline constexpr const char* kGroups[][8] = {
    /* a: 80-83 */ {"add*", "or*", "adc*", "sbb*", "and*", "sub*", "xor*", "cmp*"},
    /* b: 8F    */ {"^pop*", "", "", "", "", "", "", ""},
    /* c: C0-D3 */ {"rol*", "ror*", "rcl*", "rcr*", "shl*", "shr*", "", "sar*"},
    /* d: C6/C7 */ {"mov*", "", "", "", "", "", "", ""},
    /* e: F6/F7 */ {"test* +Iz", "", "not*", "neg*", "mul*", "imul*", "div*", "idiv*"},
    /* f: FE    */ {"inc*", "dec*", "", "", "", "", "", ""},
    /* g: FF    */ {"inc*", "dec*", "&call* *Ev", "lcall* *Mp", "&jmp* *Ev", "ljmp* *Mp", "^push*", ""},
    /* h: 0F00  */ {"sldt* Ex", "str* Ex", "lldtw Ew", "ltrw Ew", "verr Ew", "verw Ew", "", ""},
    /* i: 0F01 (register forms in code) */
    {"&sgdt* Mm", "&sidt* Mm", "&lgdt* Mm", "&lidt* Mm", "smsw* Ex", "", "lmsww Ew", "invlpg Mm"},
    /* j: 0FBA  */ {"", "", "", "", "bt* Ev,Iu", "bts* Ev,Iu", "btr* Ev,Iu", "btc* Ev,Iu"},
    /* k: 0FC7 (REX.W 0F C7 /1 is cmpxchg16b, in code) */
    {"", "cmpxchg8b Mm@", "", "", "", "", "@rdrand* Rv", "@rdseed* Rv"},
    /* l: 0FAE (register forms in code) */
    {"fxsave Mm", "fxrstor Mm", "ldmxcsr Mm", "stmxcsr Mm", "xsave Mm", "xrstor Mm", "xsaveopt Mm", "clflush Mm"},
    /* m: 0F18  */ {"prefetchnta Mm", "prefetcht0 Mm", "prefetcht1 Mm", "prefetcht2 Mm", "", "", "", ""},
    /* n: 0F71 */ {"", "", "psrlw Hx,Nq,Iu", "", "psraw Hx,Nq,Iu", "", "psllw Hx,Nq,Iu", ""},
    /* o: 0F72 */ {"", "", "psrld Hx,Nq,Iu", "", "psrad Hx,Nq,Iu", "", "pslld Hx,Nq,Iu", ""},
    /* p: 0F73 */ {"", "", "psrlq Hx,Nq,Iu", "|psrldq Hx,Ux,Iu", "", "", "psllq Hx,Nq,Iu", "|pslldq Hx,Ux,Iu"},
    /* q: 0F0D */ {"prefetch Mm", "prefetchw Mm", "prefetchwt1 Mm", "", "", "", "", ""},
};

// Two-byte map 0F xx.
inline constexpr const char* kTwoByte[256] = {
    // 00-0F
    "#h",
    "#i",
    "lar* Gv,Ew",
    "lsl* Gv,Ew",
    nullptr,
    "syscall",
    "clts",
    "sysretl;sysret",  //
    "invd",
    "wbinvd||wbnoinvd",
    nullptr,
    "ud2",
    nullptr,
    "#q",
    "femms",
    nullptr,
    // 10-1F
    "movups Vx,Wx|movupd Vx,Wx|movss Vx,Hx,Wx|movsd Vx,Hx,Wx",
    "movups Wx,Vx|movupd Wx,Vx|movss Wx,Hx,Vx|movsd Wx,Hx,Vx",
    "movlps Vx,Hx,Wx|movlpd Vx,Hx,Mq|movsldup Vx,Wx|movddup Vx,Wx",
    "movlps Mq,Vx|movlpd Mq,Vx",
    "unpcklps Vx,Hx,Wx|unpcklpd Vx,Hx,Wx",
    "unpckhps Vx,Hx,Wx|unpckhpd Vx,Hx,Wx",
    "movhps Vx,Hx,Wx|movhpd Vx,Hx,Mq|movshdup Vx,Wx",
    "movhps Mq,Vx|movhpd Mq,Vx",  //
    "#m",
    nullptr,
    nullptr,
    nullptr,
    "cldemote Mm",
    nullptr,
    nullptr,
    "nop* Ev",
    // 20-2F
    "mov* Rd,Cd",
    "mov* Rd,Dd",
    "mov* Cd,Rd",
    "mov* Dd,Rd",
    nullptr,
    nullptr,
    nullptr,
    nullptr,  //
    "movaps Vx,Wx|movapd Vx,Wx",
    "movaps Wx,Vx|movapd Wx,Vx",
    "cvtpi2ps Vx,Qm|cvtpi2pd Vx,Qm|cvtsi2ss$ Vx,Hx,Ey|cvtsi2sd$ Vx,Hx,Ey",
    "movntps Mx,Vx|movntpd Mx,Vx",
    "cvttps2pi Pm,Wx|cvttpd2pi Pm,Wx|cvttss2si Gy,Wx|cvttsd2si Gy,Wx",
    "cvtps2pi Pm,Wx|cvtpd2pi Pm,Wx|cvtss2si Gy,Wx|cvtsd2si Gy,Wx",
    "ucomiss Vx,Wx|ucomisd Vx,Wx",
    "comiss Vx,Wx|comisd Vx,Wx",
    // 30-3F (38 and 3A are escapes, handled in code)
    "wrmsr",
    "rdtsc",
    "rdmsr",
    "rdpmc",
    "sysenter",
    "sysexit*",
    nullptr,
    "getsec",  //
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    // 40-4F: CMOVcc, handled in code
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,  //
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    // 50-5F
    "movmskps Gd,Ux|movmskpd Gd,Ux",
    "sqrtps Vx,Wx|sqrtpd Vx,Wx|sqrtss Vx,Hx,Wx|sqrtsd Vx,Hx,Wx",
    "rsqrtps Vx,Wx||rsqrtss Vx,Hx,Wx",
    "rcpps Vx,Wx||rcpss Vx,Hx,Wx",
    "andps Vx,Hx,Wx|andpd Vx,Hx,Wx",
    "andnps Vx,Hx,Wx|andnpd Vx,Hx,Wx",
    "orps Vx,Hx,Wx|orpd Vx,Hx,Wx",
    "xorps Vx,Hx,Wx|xorpd Vx,Hx,Wx",  //
    "addps Vx,Hx,Wx|addpd Vx,Hx,Wx|addss Vx,Hx,Wx|addsd Vx,Hx,Wx",
    "mulps Vx,Hx,Wx|mulpd Vx,Hx,Wx|mulss Vx,Hx,Wx|mulsd Vx,Hx,Wx",
    "cvtps2pd Vx,Wx|cvtpd2ps Vx,Wx|cvtss2sd Vx,Hx,Wx|cvtsd2ss Vx,Hx,Wx",
    "cvtdq2ps Vx,Wx|cvtps2dq Vx,Wx|cvttps2dq Vx,Wx",
    "subps Vx,Hx,Wx|subpd Vx,Hx,Wx|subss Vx,Hx,Wx|subsd Vx,Hx,Wx",
    "minps Vx,Hx,Wx|minpd Vx,Hx,Wx|minss Vx,Hx,Wx|minsd Vx,Hx,Wx",
    "divps Vx,Hx,Wx|divpd Vx,Hx,Wx|divss Vx,Hx,Wx|divsd Vx,Hx,Wx",
    "maxps Vx,Hx,Wx|maxpd Vx,Hx,Wx|maxss Vx,Hx,Wx|maxsd Vx,Hx,Wx",
    // 60-6F
    "punpcklbw Pq,Hx,Qq",
    "punpcklwd Pq,Hx,Qq",
    "punpckldq Pq,Hx,Qq",
    "packsswb Pq,Hx,Qq",
    "pcmpgtb Pq,Hx,Qq",
    "pcmpgtw Pq,Hx,Qq",
    "pcmpgtd Pq,Hx,Qq",
    "packuswb Pq,Hx,Qq",  //
    "punpckhbw Pq,Hx,Qq",
    "punpckhwd Pq,Hx,Qq",
    "punpckhdq Pq,Hx,Qq",
    "packssdw Pq,Hx,Qq",
    "|punpcklqdq Vx,Hx,Wx",
    "|punpckhqdq Vx,Hx,Wx",
    "movd Pq,Ey|movd Vx,Ey",
    "movq Pq,Qq|movdqa Vx,Wx|movdqu Vx,Wx",
    // 70-7F
    "pshufw Pq,Qq,Iu|pshufd Vx,Wx,Iu|pshufhw Vx,Wx,Iu|pshuflw Vx,Wx,Iu",
    "#n",
    "#o",
    "#p",
    "pcmpeqb Pq,Hx,Qq",
    "pcmpeqw Pq,Hx,Qq",
    "pcmpeqd Pq,Hx,Qq",
    "emms",  //
    "&vmread* Ev,Gv",
    "&vmwrite* Gv,Ev",
    nullptr,
    nullptr,
    "|haddpd Vx,Hx,Wx||haddps Vx,Hx,Wx",
    "|hsubpd Vx,Hx,Wx||hsubps Vx,Hx,Wx",
    "movd Ey,Pq|movd Ey,Vx|movq Vx,Wx",
    "movq Qq,Pq|movdqa Wx,Vx|movdqu Wx,Vx",
    // 80-8F: Jcc rel32, 90-9F: SETcc, handled in code
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,  //
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,  //
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,  //
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    // A0-AF
    "^push* fs",
    "^pop* fs",
    "cpuid",
    "bt* Ev,Gv",
    "shld* Ev,Gv,Iu",
    "shld* Ev,Gv,cl",
    nullptr,
    nullptr,  //
    "^push* gs",
    "^pop* gs",
    "rsm",
    "bts* Ev,Gv",
    "shrd* Ev,Gv,Iu",
    "shrd* Ev,Gv,cl",
    "#l",
    "imul* Gv,Ev",
    // B0-BF
    "cmpxchgb Eb,Gb",
    "cmpxchg* Ev,Gv",
    "lss* Gv,Mp",
    "btr* Ev,Gv",
    "lfs* Gv,Mp",
    "lgs* Gv,Mp",
    "movzb* Gv,Eb",
    "movzw* Gv,Ew",  //
    "||popcnt* Gv,Ev",
    "ud1* Gv,Ev",
    "#j Ev",
    "btc* Ev,Gv",
    "bsf* Gv,Ev||tzcnt* Gv,Ev",
    "bsr* Gv,Ev||lzcnt* Gv,Ev",
    "movsb* Gv,Eb",
    "movsw* Gv,Ew",
    // C0-CF (C2's predicates and C8-CF BSWAP handled in code)
    "xaddb Eb,Gb",
    "xadd* Ev,Gv",
    "cmpps Vx,Hx,Wx,Iu|cmppd Vx,Hx,Wx,Iu|cmpss Vx,Hx,Wx,Iu|cmpsd Vx,Hx,Wx,Iu",
    "movnti* My,Gy",
    "pinsrw Pq,Hx,Ed,Iu|pinsrw Vx,Hx,Ed,Iu",
    "pextrw Gd,Nq,Iu|pextrw Gd,Ux,Iu",
    "shufps Vx,Hx,Wx,Iu|shufpd Vx,Hx,Wx,Iu",
    "#k",  //
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    // D0-DF
    "|addsubpd Vx,Hx,Wx||addsubps Vx,Hx,Wx",
    "psrlw Pq,Hx,Qq",
    "psrld Pq,Hx,Qq",
    "psrlq Pq,Hx,Qq",
    "paddq Pq,Hx,Qq",
    "pmullw Pq,Hx,Qq",
    "|movq Wx,Vx|movq2dq Vx,Nm|movdq2q Pm,Ux",
    "pmovmskb Gd,Nq",  //
    "psubusb Pq,Hx,Qq",
    "psubusw Pq,Hx,Qq",
    "pminub Pq,Hx,Qq",
    "pand Pq,Hx,Qq",
    "paddusb Pq,Hx,Qq",
    "paddusw Pq,Hx,Qq",
    "pmaxub Pq,Hx,Qq",
    "pandn Pq,Hx,Qq",
    // E0-EF
    "pavgb Pq,Hx,Qq",
    "psraw Pq,Hx,Qq",
    "psrad Pq,Hx,Qq",
    "pavgw Pq,Hx,Qq",
    "pmulhuw Pq,Hx,Qq",
    "pmulhw Pq,Hx,Qq",
    "|cvttpd2dq Vx,Wx|cvtdq2pd Vx,Wx|cvtpd2dq Vx,Wx",
    "movntq Mq,Pq|movntdq Mx,Vx",  //
    "psubsb Pq,Hx,Qq",
    "psubsw Pq,Hx,Qq",
    "pminsw Pq,Hx,Qq",
    "por Pq,Hx,Qq",
    "paddsb Pq,Hx,Qq",
    "paddsw Pq,Hx,Qq",
    "pmaxsw Pq,Hx,Qq",
    "pxor Pq,Hx,Qq",
    // F0-FF
    "|||lddqu Vx,Mx",
    "psllw Pq,Hx,Qq",
    "pslld Pq,Hx,Qq",
    "psllq Pq,Hx,Qq",
    "pmuludq Pq,Hx,Qq",
    "pmaddwd Pq,Hx,Qq",
    "psadbw Pq,Hx,Qq",
    "maskmovq Pq,Nq|maskmovdqu Vx,Ux",  //
    "psubb Pq,Hx,Qq",
    "psubw Pq,Hx,Qq",
    "psubd Pq,Hx,Qq",
    "psubq Pq,Hx,Qq",
    "paddb Pq,Hx,Qq",
    "paddw Pq,Hx,Qq",
    "paddd Pq,Hx,Qq",
    nullptr,
};

// Three-byte maps 0F 38 xx and 0F 3A xx (SDM Vol. 2D Tables A-4, A-5): sparse, so
// kept as (opcode, entry) pairs.
struct Sparse {
  u8 opcode;
  const char* entry;
};

inline constexpr Sparse k0F38[] = {
    {0x00, "pshufb Pq,Hx,Qq"},
    {0x01, "phaddw Pq,Hx,Qq"},
    {0x02, "phaddd Pq,Hx,Qq"},
    {0x03, "phaddsw Pq,Hx,Qq"},
    {0x04, "pmaddubsw Pq,Hx,Qq"},
    {0x05, "phsubw Pq,Hx,Qq"},
    {0x06, "phsubd Pq,Hx,Qq"},
    {0x07, "phsubsw Pq,Hx,Qq"},
    {0x08, "psignb Pq,Hx,Qq"},
    {0x09, "psignw Pq,Hx,Qq"},
    {0x0a, "psignd Pq,Hx,Qq"},
    {0x0b, "pmulhrsw Pq,Hx,Qq"},
    {0x10, "|pblendvb Vx,Wx,x0"},
    {0x14, "|blendvps Vx,Wx,x0"},
    {0x15, "|blendvpd Vx,Wx,x0"},
    {0x16, "|?permps Vx,Hx,Wx"},
    {0x17, "|ptest Vx,Wx"},
    {0x18, "|?broadcastss Vx,Wh"},
    {0x19, "|?broadcastsd Vx,Wh"},
    {0x1c, "pabsb Pq,Qq"},
    {0x1d, "pabsw Pq,Qq"},
    {0x1e, "pabsd Pq,Qq"},
    {0x20, "|pmovsxbw Vx,Wh"},
    {0x21, "|pmovsxbd Vx,Wh"},
    {0x22, "|pmovsxbq Vx,Wh"},
    {0x23, "|pmovsxwd Vx,Wh"},
    {0x24, "|pmovsxwq Vx,Wh"},
    {0x25, "|pmovsxdq Vx,Wh"},
    {0x28, "|pmuldq Vx,Hx,Wx"},
    {0x29, "|pcmpeqq Vx,Hx,Wx"},
    {0x2a, "|movntdqa Vx,Mx"},
    {0x2b, "|packusdw Vx,Hx,Wx"},
    {0x30, "|pmovzxbw Vx,Wh"},
    {0x31, "|pmovzxbd Vx,Wh"},
    {0x32, "|pmovzxbq Vx,Wh"},
    {0x33, "|pmovzxwd Vx,Wh"},
    {0x34, "|pmovzxwq Vx,Wh"},
    {0x35, "|pmovzxdq Vx,Wh"},
    {0x36, "|?permd Vx,Hx,Wx"},
    {0x37, "|pcmpgtq Vx,Hx,Wx"},
    {0x38, "|pminsb Vx,Hx,Wx"},
    {0x39, "|pminsd Vx,Hx,Wx"},
    {0x3a, "|pminuw Vx,Hx,Wx"},
    {0x3b, "|pminud Vx,Hx,Wx"},
    {0x3c, "|pmaxsb Vx,Hx,Wx"},
    {0x3d, "|pmaxsd Vx,Hx,Wx"},
    {0x3e, "|pmaxuw Vx,Hx,Wx"},
    {0x3f, "|pmaxud Vx,Hx,Wx"},
    {0x40, "|pmulld Vx,Hx,Wx"},
    {0x41, "|phminposuw Vx,Wx"},
    {0x45, "|?psrlv% Vx,Hx,Wx"},
    {0x46, "|?psravd Vx,Hx,Wx"},
    {0x47, "|?psllv% Vx,Hx,Wx"},
    {0x58, "|?pbroadcastd Vx,Wh"},
    {0x59, "|?pbroadcastq Vx,Wh"},
    {0x5a, "|?broadcasti128 Vx,Mm"},
    {0x78, "|?pbroadcastb Vx,Wh"},
    {0x79, "|?pbroadcastw Vx,Wh"},
    {0x8c, "|?pmaskmov% Vx,Hx,Mm"},
    {0x8e, "|?pmaskmov% Mm,Hx,Vx"},
    {0xf0, "movbe* Gv,Mv|||crc32b Gy,Eb"},
    {0xf1, "movbe* Mv,Gv|||crc32* Gy,Ev"},
};

inline constexpr Sparse k0F3A[] = {
    {0x00, "|?permq Vx,Wx,Iu"},         {0x01, "|?permpd Vx,Wx,Iu"},        {0x02, "|?pblendd Vx,Hx,Wx,Iu"},
    {0x06, "|?perm2f128 Vx,Hx,Wx,Iu"},  {0x08, "|roundps Vx,Wx,Iu"},        {0x09, "|roundpd Vx,Wx,Iu"},
    {0x0a, "|roundss Vx,Hx,Wx,Iu"},     {0x0b, "|roundsd Vx,Hx,Wx,Iu"},     {0x0c, "|blendps Vx,Hx,Wx,Iu"},
    {0x0d, "|blendpd Vx,Hx,Wx,Iu"},     {0x0e, "|pblendw Vx,Hx,Wx,Iu"},     {0x0f, "palignr Pq,Hx,Qq,Iu"},
    {0x14, "|pextrb Ed,Vx,Iu"},         {0x15, "|pextrw Ed,Vx,Iu"},         {0x16, "|pextr% Ey,Vx,Iu"},
    {0x17, "|extractps Ed,Vx,Iu"},      {0x18, "|?insertf128 Vx,Hx,Wh,Iu"}, {0x19, "|?extractf128 Wh,Vx,Iu"},
    {0x20, "|pinsrb Vx,Hx,Ed,Iu"},      {0x21, "|insertps Vx,Hx,Wx,Iu"},    {0x22, "|pinsr% Vx,Hx,Ey,Iu"},
    {0x38, "|?inserti128 Vx,Hx,Wh,Iu"}, {0x39, "|?extracti128 Wh,Vx,Iu"},   {0x40, "|dpps Vx,Hx,Wx,Iu"},
    {0x41, "|dppd Vx,Hx,Wx,Iu"},        {0x42, "|mpsadbw Vx,Hx,Wx,Iu"},     {0x44, "|pclmulqdq Vx,Hx,Wx,Iu"},
    {0x46, "|?perm2i128 Vx,Hx,Wx,Iu"},  {0x4a, "|?blendvps Vx,Hx,Wx,Lx"},   {0x4b, "|?blendvpd Vx,Hx,Wx,Lx"},
    {0x4c, "|?pblendvb Vx,Hx,Wx,Lx"},   {0x60, "|pcmpestrm Vx,Wx,Iu"},      {0x61, "|pcmpestri Vx,Wx,Iu"},
    {0x62, "|pcmpistrm Vx,Wx,Iu"},      {0x63, "|pcmpistri Vx,Wx,Iu"},
};

// x87 escapes D8-DF (SDM Vol. 2D A.5 "Escape Opcode Instructions"), memory forms by
// ModRM.reg; AT&T names carry the memory operand's size.
inline constexpr const char* kX87Mem[8][8] = {
    {"fadds", "fmuls", "fcoms", "fcomps", "fsubs", "fsubrs", "fdivs", "fdivrs"},
    {"flds", "", "fsts", "fstps", "fldenv", "fldcw", "fnstenv", "fnstcw"},
    {"fiaddl", "fimull", "ficoml", "ficompl", "fisubl", "fisubrl", "fidivl", "fidivrl"},
    {"fildl", "fisttpl", "fistl", "fistpl", "", "fldt", "", "fstpt"},
    {"faddl", "fmull", "fcoml", "fcompl", "fsubl", "fsubrl", "fdivl", "fdivrl"},
    {"fldl", "fisttpll", "fstl", "fstpl", "frstor", "", "fnsave", "fnstsw"},
    {"fiadds", "fimuls", "ficoms", "ficomps", "fisubs", "fisubrs", "fidivs", "fidivrs"},
    {"filds", "fisttps", "fists", "fistps", "fbld", "fildll", "fbstp", "fistpll"},
};
// Register forms by ModRM.reg: the first character says how %st(i) appears:
// 'a' "%st(i), %st"  'b' "%st, %st(i)"  'c' "%st(i)"  '-' no operand (one ModRM only,
// the digit after '-' is ModRM.rm), '=' see kX87D9 (D9 E0-FF).
inline constexpr const char* kX87Reg[8][8] = {
    {"afadd", "afmul", "cfcom", "cfcomp", "afsub", "afsubr", "afdiv", "afdivr"},
    {"cfld", "cfxch", "-0fnop", "", "=", "=", "=", "="},
    {"afcmovb", "afcmove", "afcmovbe", "afcmovu", "", "-1fucompp", "", ""},
    {"afcmovnb", "afcmovne", "afcmovnbe", "afcmovnu", "", "afucomi", "afcomi", ""},
    {"bfadd", "bfmul", "", "", "bfsub", "bfsubr", "bfdiv", "bfdivr"},
    {"cffree", "", "cfst", "cfstp", "cfucom", "cfucomp", "", ""},
    {"bfaddp", "bfmulp", "", "-1fcompp", "bfsubp", "bfsubrp", "bfdivp", "bfdivrp"},
    {"cffreep", "", "", "", "-0fnstsw", "afucompi", "afcompi", ""},
};
inline constexpr const char* kX87D9[32] = {
    "fchs",  "fabs",    "",       "",        "ftst",    "fxam",   "",        "",         //
    "fld1",  "fldl2t",  "fldl2e", "fldpi",   "fldlg2",  "fldln2", "fldz",    "",         //
    "f2xm1", "fyl2x",   "fptan",  "fpatan",  "fxtract", "fprem1", "fdecstp", "fincstp",  //
    "fprem", "fyl2xp1", "fsqrt",  "fsincos", "frndint", "fscale", "fsin",    "fcos",
};

}  // namespace disasm::tables
