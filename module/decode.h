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
};

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

#endif /* LIGHTVISOR_DECODE_H */
