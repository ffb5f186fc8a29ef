/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lightvisor: decoder for the guest instructions that fault on MMIO.
 *
 * An EPT violation gives the guest-physical address, not the size,
 * direction or data of the access. lv_decode_mmio() decodes the faulting
 * instruction far enough to describe the access and to complete it. It is
 * pure: no VMX, no allocation, no guest memory access; the caller fetches
 * the instruction bytes.
 */
#ifndef LIGHTVISOR_DECODE_H
#define LIGHTVISOR_DECODE_H

#include <linux/types.h>
#include <asm/processor-flags.h>

/* Maximum length of an x86 instruction. */
#define LV_MAX_INSN_LEN		15

/* Default operand and address size, from CR0.PE, CS.D and CS.L. */
enum lv_cpu_mode {
	LV_MODE_REAL,		/* 16-bit operands and addresses */
	LV_MODE_PROT16,		/* protected or compat mode, CS.D = 0 */
	LV_MODE_PROT32,		/* protected or compat mode, CS.D = 1 */
	LV_MODE_LONG64,		/* 64-bit mode, CS.L = 1 */
};

enum lv_mmio_op {
	LV_MMIO_LOAD,		/* memory -> register */
	LV_MMIO_STORE,		/* register or immediate -> memory */
	LV_MMIO_COPY,		/* MOVS: memory -> memory, see below */
	LV_MMIO_RMW,		/* read, compute (@alu), maybe write back */
};

/* The operation of an LV_MMIO_RMW instruction. */
enum lv_alu_op {
	/* The ALU group, in opcode order (00, 08, ... 38; 80 /0 ... /7). */
	LV_ALU_ADD, LV_ALU_OR, LV_ALU_ADC, LV_ALU_SBB,
	LV_ALU_AND, LV_ALU_SUB, LV_ALU_XOR, LV_ALU_CMP,
	LV_ALU_TEST,
	LV_ALU_XCHG,
	LV_ALU_CMPXCHG,
	LV_ALU_XADD,
	/* BT group, in 0F BA /4 ... /7 order. */
	LV_ALU_BT, LV_ALU_BTS, LV_ALU_BTR, LV_ALU_BTC,
	/* One operand: FE/FF /0, /1 and F6/F7 /2, /3. */
	LV_ALU_INC, LV_ALU_DEC, LV_ALU_NOT, LV_ALU_NEG,
};

/* No register in lv_mmio_insn.base / .index; RIP-relative base. */
#define LV_REG_NONE	0xff
#define LV_REG_RIP	0x10

/* Segment override prefix: SREG encoding + 1, so that 0 means none. */
enum lv_seg {
	LV_SEG_NONE,
	LV_SEG_ES,
	LV_SEG_CS,
	LV_SEG_SS,
	LV_SEG_DS,
	LV_SEG_FS,
	LV_SEG_GS,
};

/**
 * struct lv_mmio_insn - a decoded instruction that accesses memory
 * @len: instruction length in bytes
 * @size: bytes accessed in memory: 1, 2, 4 or 8
 * @op: enum lv_mmio_op
 * @reg: GPR number (rax = 0 ... r15 = 15) of the register operand, when
 *	!@has_imm; with @high_byte, the register holding it (AH -> 0, i.e.
 *	rax, CH -> 1, DH -> 2, BH -> 3). For MOVS it is 0 and unused.
 * @dst_size: for loads, the width written to @reg: 1, 2, 4 or 8; 0 for
 *	stores. 4 zeroes the upper half of the register.
 * @addr_size: address size in bytes (2, 4, 8): the width of rSI, rDI and
 *	rCX for string instructions.
 * @seg: segment override (enum lv_seg), LV_SEG_NONE without one. Only the
 *	source of MOVS needs it; the hardware gives the physical address.
 * @has_imm: a store of @imm rather than of a register
 * @high_byte: the register operand is AH, CH, DH or BH
 * @sign_extend: MOVSX, MOVSXD with REX.W
 * @zero_extend: MOVZX
 * @string: STOS or MOVS; the memory operand is ES:rDI (and DS:rSI)
 * @rep: a string instruction with a REP (F3) or REPNE (F2) prefix
 * @imm: the immediate of a store, extended as the CPU does to @size bytes
 * @mode: the enum lv_cpu_mode it was decoded in
 * @alu: for LV_MMIO_RMW, an enum lv_alu_op
 * @lock: a LOCK prefix (only on read-modify-write forms)
 * @base: base register of the memory operand, LV_REG_RIP or LV_REG_NONE
 * @index: index register, or LV_REG_NONE
 * @scale: index scale, 1, 2, 4 or 8
 * @bp_base: the base is rBP or rSP (the default segment is then SS)
 * @moffs: the operand is a bare offset (A0-A3): @disp holds it
 * @disp: displacement, sign-extended
 */
struct lv_mmio_insn {
	u8 len;
	u8 size;
	u8 op;
	u8 reg;
	u8 dst_size;
	u8 addr_size;
	u8 seg;
	bool has_imm;
	bool high_byte;
	bool sign_extend;
	bool zero_extend;
	bool string;
	bool rep;
	u64 imm;
	u8 mode;
	u8 alu;
	bool lock;
	u8 base;
	u8 index;
	u8 scale;
	bool bp_base;
	bool moffs;
	s64 disp;
};

/*
 * Decode the instruction at @code, of which @avail bytes could be fetched.
 * Returns 0 and fills @insn, -ENODATA if the instruction needs more than
 * @avail bytes, -EINVAL if it is not a supported memory access (including
 * LOCK prefixes, register-only ModRM forms and instructions longer than
 * LV_MAX_INSN_LEN). On error *@insn is not meaningful.
 */
int lv_decode_mmio(const u8 *code, unsigned int avail, enum lv_cpu_mode mode,
		   struct lv_mmio_insn *insn);

/* How many decodings a vCPU keeps (see lv_decode_mmio_cached()). */
#define LV_DECODE_CACHE_SIZE	4

/**
 * struct lv_decode_cache - the last instructions a vCPU decoded for MMIO
 * @code: each one's bytes, @insn.len of them
 * @insn: each one's decoding; a zero len marks an empty entry
 * @next: the entry the next miss replaces
 */
struct lv_decode_cache {
	u8 code[LV_DECODE_CACHE_SIZE][LV_MAX_INSN_LEN];
	struct lv_mmio_insn insn[LV_DECODE_CACHE_SIZE];
	unsigned int next;
};

int lv_decode_mmio_cached(struct lv_decode_cache *dc, const u8 *code,
			  unsigned int avail, enum lv_cpu_mode mode,
			  struct lv_mmio_insn *insn);

/*
 * The new value of register @insn->reg after a load (@insn->op ==
 * LV_MMIO_LOAD) that read @data (only the low @insn->size bytes are used),
 * given its old value @old_reg.
 */
u64 lv_mmio_load_result(const struct lv_mmio_insn *insn, u64 old_reg, u64 data);

/*
 * The value written by a store (@insn->op == LV_MMIO_STORE), in the low
 * @insn->size bytes: @insn->imm, or taken from @reg_val, the value of
 * register @insn->reg.
 */
u64 lv_mmio_store_data(const struct lv_mmio_insn *insn, u64 reg_val);

/*
 * The effective address of the memory operand (not of string forms),
 * within the address size: @regs are the 16 GPRs (RSP current), @next_rip
 * the address of the next instruction.
 */
u64 lv_mmio_ea(const struct lv_mmio_insn *insn, const unsigned long *regs,
	       u64 next_rip);

/**
 * struct lv_sys_insn - a system instruction that exited, decoded
 * @len: its length in bytes
 * @opcode: the byte after 0F, or the one-byte opcode with bit 8 set
 * @modrm: the ModRM byte (0F 01, MOV CR/DR), else 0
 * @reg: ModRM.reg extended by REX.R (LOCK MOV CR0 is CR8: reg 8)
 * @rm: ModRM.rm extended by REX.B
 * @seg: segment override prefix (enum lv_seg), LV_SEG_NONE if none
 * @addr_size: address size in bytes (mode and 67 prefix)
 */
struct lv_sys_insn {
	u8 len;
	u16 opcode;
	u8 modrm;
	u8 reg;
	u8 rm;
	u8 seg;
	u8 addr_size;
};

#define LV_SYS_ONE_BYTE		0x100

/*
 * lv_decode_sys() - measure and decode a system instruction (CPU
 * without next-RIP saving or decode assists): HLT, IN/OUT, INT1, 0F xx
 * with no operand, 0F 01 and MOV CR/DR in their register forms. -EINVAL
 * for anything else (a memory operand, say), -ENODATA if @avail is short.
 */
int lv_decode_sys(const u8 *code, unsigned int avail, enum lv_cpu_mode mode,
		  struct lv_sys_insn *insn);

/* RFLAGS bits an ALU operation sets. */
#define LV_FLAGS_ARITH	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)

/*
 * ADD, OR, ADC, SBB, AND, SUB, XOR, CMP or TEST of @dst and @src, both
 * @size bytes, or INC, DEC, NOT or NEG of @dst (@src unused): returns the
 * result (for CMP and TEST, what SUB and AND would give) and updates the
 * arithmetic flags in *@rflags as the CPU does (AF is left 0 by logic
 * operations, where the SDM leaves it undefined; INC and DEC keep CF,
 * NOT changes no flag).
 */
u64 lv_alu(unsigned int op, unsigned int size, u64 dst, u64 src, u64 *rflags);

#endif /* LIGHTVISOR_DECODE_H */
