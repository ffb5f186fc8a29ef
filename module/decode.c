// SPDX-License-Identifier: GPL-2.0
/*
 * lightvisor: decoder for the guest instructions that fault on MMIO.
 *
 * Only the forms a guest uses to access device memory are known: MOV in
 * all its memory forms, MOVZX, MOVSX, MOVSXD, STOS and MOVS. The effective
 * address is not computed (the EPT violation reports the guest-physical
 * address), so ModRM, SIB and displacement bytes are only measured.
 */
#include <linux/errno.h>
#include <linux/types.h>

#include "decode.h"
#include <linux/export.h>
#include <kunit/visibility.h>

#define REX_W	0x8
#define REX_R	0x4

struct lv_cursor {
	const u8 *code;
	unsigned int avail;
	unsigned int pos;
};

/* Consume @n bytes, little-endian, into @val. */
static int lv_fetch(struct lv_cursor *c, unsigned int n, u64 *val)
{
	unsigned int i;
	u64 v = 0;

	if (c->pos + n > LV_MAX_INSN_LEN)
		return -EINVAL;
	if (c->pos + n > c->avail)
		return -ENODATA;
	for (i = 0; i < n; i++)
		v |= (u64)c->code[c->pos + i] << (8 * i);
	c->pos += n;
	*val = v;
	return 0;
}

/*
 * Consume a ModRM byte and what follows it in the memory operand (SIB,
 * displacement); return the ModRM byte in @modrm. Register operands
 * (mod = 3) access no memory and are rejected.
 */
static int lv_modrm(struct lv_cursor *c, unsigned int addr_size, u8 *modrm)
{
	unsigned int mod, rm, disp = 0;
	u64 b;
	int ret;

	ret = lv_fetch(c, 1, &b);
	if (ret)
		return ret;
	*modrm = b;
	mod = b >> 6;
	rm = b & 7;
	if (mod == 3)
		return -EINVAL;

	if (addr_size == 2) {
		/* [bx+si] ... [bx]; mod 0 rm 6 is a bare disp16 */
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || rm == 6)
			disp = 2;
		return lv_fetch(c, disp, &b);
	}

	/*
	 * 32/64-bit forms. REX.B does not change the special encodings: rm 4
	 * always means SIB, and mod 0 with rm 5 (RIP/EIP-relative in 64-bit
	 * mode, absolute otherwise) or SIB base 5 always means disp32.
	 */
	if (rm == 4) {
		ret = lv_fetch(c, 1, &b);
		if (ret)
			return ret;
		if (mod == 0 && (b & 7) == 5)
			disp = 4;
	}
	if (mod == 1)
		disp = 1;
	else if (mod == 2 || (mod == 0 && rm == 5))
		disp = 4;
	return lv_fetch(c, disp, &b);
}

/* Sign-extend the low @bytes bytes of @val. */
static u64 lv_sext(u64 val, unsigned int bytes)
{
	unsigned int shift = 64 - 8 * bytes;

	if (!bytes || bytes >= 8)
		return val;
	return (u64)((s64)(val << shift) >> shift);
}

static u64 lv_trunc(u64 val, unsigned int bytes)
{
	if (!bytes || bytes >= 8)
		return val;
	return val & ((1ULL << (8 * bytes)) - 1);
}

/*
 * The ModRM register operand: REX.R, and AH..BH for byte registers. Call
 * after setting op, size and dst_size: the register of a load is as wide
 * as dst_size (MOVZX r32, r/m8 has no byte register).
 */
static void lv_set_reg(struct lv_mmio_insn *insn, u8 modrm, bool has_rex,
		       unsigned int rex)
{
	unsigned int reg = (modrm >> 3) & 7;
	unsigned int width;

	width = insn->op == LV_MMIO_LOAD ? insn->dst_size : insn->size;
	if (width == 1 && !has_rex && reg >= 4) {
		insn->high_byte = true;
		reg -= 4;
	}
	if (rex & REX_R)
		reg += 8;
	insn->reg = reg;
}

struct lv_prefixes {
	bool opsize;
	bool adsize;
	bool rep;
	bool has_rex;
	unsigned int rex;
};

/* Consume one legacy prefix; false if @b is not one. */
static bool lv_legacy_prefix(u8 b, struct lv_prefixes *p,
			     struct lv_mmio_insn *insn)
{
	switch (b) {
	case 0x66:
		p->opsize = true;
		break;
	case 0x67:
		p->adsize = true;
		break;
	case 0xf2:
	case 0xf3:
		p->rep = true;
		break;
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
		insn->seg = LV_SEG_ES + ((b >> 3) & 3); /* ES CS SS DS */
		break;
	case 0x64:
		insn->seg = LV_SEG_FS;
		break;
	case 0x65:
		insn->seg = LV_SEG_GS;
		break;
	default:
		return false;
	}
	return true;
}

/* The one-byte opcodes that use ModRM: 88, 89, 8A, 8B, C6, C7, 63. */
static int lv_decode_modrm_op(struct lv_cursor *c, u8 op,
			      const struct lv_prefixes *p,
			      unsigned int opsize, struct lv_mmio_insn *insn)
{
	u64 imm;
	u8 modrm;
	int ret;

	insn->size = (op & 1) ? opsize : 1;
	ret = lv_modrm(c, insn->addr_size, &modrm);
	if (ret)
		return ret;

	switch (op) {
	case 0x88:		/* MOV r/m8, r8 */
	case 0x89:		/* MOV r/m, r */
		insn->op = LV_MMIO_STORE;
		lv_set_reg(insn, modrm, p->has_rex, p->rex);
		return 0;
	case 0x8a:		/* MOV r8, r/m8 */
	case 0x8b:		/* MOV r, r/m */
		insn->op = LV_MMIO_LOAD;
		insn->dst_size = insn->size;
		lv_set_reg(insn, modrm, p->has_rex, p->rex);
		return 0;
	case 0xc6:		/* MOV r/m8, imm8 */
	case 0xc7:		/* MOV r/m, imm16/32 */
		if (modrm & 0x38)	/* only /0 */
			return -EINVAL;
		ret = lv_fetch(c, insn->size > 4 ? 4 : insn->size, &imm);
		if (ret)
			return ret;
		insn->op = LV_MMIO_STORE;
		insn->has_imm = true;
		insn->imm = insn->size == 8 ? lv_sext(imm, 4) : imm;
		return 0;
	default:		/* 63: MOVSXD r, r/m32 (64-bit mode only) */
		insn->op = LV_MMIO_LOAD;
		insn->dst_size = opsize;
		if (opsize == 8) {
			insn->size = 4;
			insn->sign_extend = true;
		}
		lv_set_reg(insn, modrm, p->has_rex, p->rex);
		return 0;
	}
}

/* Two-byte opcodes 0F B6, B7 (MOVZX), BE, BF (MOVSX). */
static int lv_decode_0f(struct lv_cursor *c, const struct lv_prefixes *p,
			unsigned int opsize, struct lv_mmio_insn *insn)
{
	u64 op;
	u8 modrm;
	int ret;

	ret = lv_fetch(c, 1, &op);
	if (ret)
		return ret;
	/* F2/F3 select other instructions in this map (POPCNT, TZCNT...) */
	if (p->rep)
		return -EINVAL;
	switch (op) {
	case 0xb6:
	case 0xb7:
		insn->zero_extend = true;
		break;
	case 0xbe:
	case 0xbf:
		insn->sign_extend = true;
		break;
	default:
		return -EINVAL;
	}
	insn->op = LV_MMIO_LOAD;
	insn->size = (op & 1) ? 2 : 1;
	insn->dst_size = opsize;
	ret = lv_modrm(c, insn->addr_size, &modrm);
	if (ret)
		return ret;
	lv_set_reg(insn, modrm, p->has_rex, p->rex);
	return 0;
}

int lv_decode_mmio(const u8 *code, unsigned int avail, enum lv_cpu_mode mode,
		   struct lv_mmio_insn *insn)
{
	struct lv_cursor c = { .code = code, .avail = avail };
	struct lv_prefixes p = { };
	unsigned int opsize;
	u64 b, moffs;
	int ret;

	*insn = (struct lv_mmio_insn){ };

	switch (mode) {
	case LV_MODE_REAL:
	case LV_MODE_PROT16:
	case LV_MODE_PROT32:
	case LV_MODE_LONG64:
		break;
	default:
		return -EINVAL;
	}

	/*
	 * Prefixes. A REX prefix only counts when the opcode follows it
	 * directly; a legacy prefix after it cancels it. In other modes
	 * 40-4F are INC/DEC, which are not supported.
	 */
	for (;;) {
		ret = lv_fetch(&c, 1, &b);
		if (ret)
			return ret;
		if (b == 0xf0)		/* LOCK */
			return -EINVAL;
		if (lv_legacy_prefix(b, &p, insn)) {
			p.has_rex = false;
			p.rex = 0;
			continue;
		}
		if (mode != LV_MODE_LONG64 || (b & 0xf0) != 0x40)
			break;
		p.has_rex = true;
		p.rex = b & 0xf;
	}

	if (mode == LV_MODE_LONG64) {
		opsize = (p.rex & REX_W) ? 8 : p.opsize ? 2 : 4;
		insn->addr_size = p.adsize ? 4 : 8;
	} else {
		opsize = mode == LV_MODE_PROT32 ? 4 : 2;
		insn->addr_size = opsize;
		if (p.opsize)
			opsize ^= 6;		/* 2 <-> 4 */
		if (p.adsize)
			insn->addr_size ^= 6;
	}

	switch (b) {
	case 0x63:
		if (mode != LV_MODE_LONG64)	/* ARPL */
			return -EINVAL;
		fallthrough;
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
	case 0xc6:
	case 0xc7:
		ret = lv_decode_modrm_op(&c, b, &p, opsize, insn);
		break;
	case 0x0f:
		ret = lv_decode_0f(&c, &p, opsize, insn);
		break;
	case 0xa0:		/* MOV AL, moffs8 */
	case 0xa1:		/* MOV rAX, moffs */
	case 0xa2:		/* MOV moffs8, AL */
	case 0xa3:		/* MOV moffs, rAX */
		ret = lv_fetch(&c, insn->addr_size, &moffs);
		insn->size = (b & 1) ? opsize : 1;
		if (b & 2) {
			insn->op = LV_MMIO_STORE;
		} else {
			insn->op = LV_MMIO_LOAD;
			insn->dst_size = insn->size;
		}
		break;
	case 0xa4:		/* MOVS m8, m8 */
	case 0xa5:		/* MOVS m, m */
	case 0xaa:		/* STOS m8, AL */
	case 0xab:		/* STOS m, rAX */
		insn->size = (b & 1) ? opsize : 1;
		insn->op = (b & 8) ? LV_MMIO_STORE : LV_MMIO_COPY;
		insn->string = true;
		insn->rep = p.rep;
		ret = 0;
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	insn->len = c.pos;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_decode_mmio);

u64 lv_mmio_load_result(const struct lv_mmio_insn *insn, u64 old_reg, u64 data)
{
	u64 val;

	if (insn->sign_extend)
		val = lv_sext(data, insn->size);
	else
		val = lv_trunc(data, insn->size);

	switch (insn->dst_size) {
	case 1:
		if (insn->high_byte)
			return (old_reg & ~0xff00ULL) | ((val & 0xff) << 8);
		return (old_reg & ~0xffULL) | (val & 0xff);
	case 2:
		return (old_reg & ~0xffffULL) | (val & 0xffff);
	case 4:
		/*
		 * Zero-extended in 64-bit mode; outside it the upper half is
		 * not visible to the guest, so zeroing it is harmless.
		 */
		return (u32)val;
	default:
		return val;
	}
}
EXPORT_SYMBOL_IF_KUNIT(lv_mmio_load_result);

u64 lv_mmio_store_data(const struct lv_mmio_insn *insn, u64 reg_val)
{
	if (insn->has_imm)
		return lv_trunc(insn->imm, insn->size);
	if (insn->high_byte)
		reg_val >>= 8;
	return lv_trunc(reg_val, insn->size);
}
EXPORT_SYMBOL_IF_KUNIT(lv_mmio_store_data);
