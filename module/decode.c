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
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/types.h>

#include "decode.h"
#include <linux/export.h>
#include <kunit/visibility.h>

#define REX_W	0x8
#define REX_R	0x4
#define REX_X	0x2
#define REX_B	0x1
#define LV_RSP_REG	4

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

/* The 16-bit ModRM memory forms: base, index (rm 0..7). */
static const u8 lv_modrm16[8][2] = {
	{ 3, 6 }, { 3, 7 }, { 5, 6 }, { 5, 7 },		/* bx+si ... bp+di */
	{ 6, LV_REG_NONE }, { 7, LV_REG_NONE },		/* si, di */
	{ 5, LV_REG_NONE }, { 3, LV_REG_NONE },		/* bp, bx */
};

/* A 16-bit memory operand: [base+index+disp], bp forms default to SS. */
static int lv_modrm16_mem(struct lv_cursor *c, unsigned int mod,
			  unsigned int rm, struct lv_mmio_insn *insn)
{
	unsigned int disp = 0;
	u64 d;
	int ret;

	insn->base = lv_modrm16[rm][0];
	insn->index = lv_modrm16[rm][1];
	if (mod == 0 && rm == 6) {	/* bare disp16 */
		insn->base = LV_REG_NONE;
		disp = 2;
	} else if (mod == 1) {
		disp = 1;
	} else if (mod == 2) {
		disp = 2;
	}
	insn->bp_base = insn->base == 5;
	ret = lv_fetch(c, disp, &d);
	if (ret)
		return ret;
	insn->disp = lv_sext(d, disp);
	return 0;
}

/*
 * Consume a ModRM byte and what follows it in the memory operand (SIB,
 * displacement) and record the address form; return the ModRM byte in
 * @modrm. Register operands (mod = 3) access no memory and are rejected.
 */
static int lv_modrm(struct lv_cursor *c, unsigned int rex,
		    struct lv_mmio_insn *insn, u8 *modrm)
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
	insn->scale = 1;
	insn->index = LV_REG_NONE;
	if (mod == 3)
		return -EINVAL;
	if (insn->addr_size == 2)
		return lv_modrm16_mem(c, mod, rm, insn);

	/*
	 * 32/64-bit forms. REX.B does not change the special encodings: rm 4
	 * always means SIB, and mod 0 with rm 5 (RIP/EIP-relative in 64-bit
	 * mode, absolute otherwise) or SIB base 5 always means disp32.
	 */
	insn->base = rm | ((rex & REX_B) ? 8 : 0);
	if (rm == 4) {
		ret = lv_fetch(c, 1, &b);
		if (ret)
			return ret;
		insn->scale = 1 << (b >> 6);
		insn->index = ((b >> 3) & 7) | ((rex & REX_X) ? 8 : 0);
		if (insn->index == LV_RSP_REG)	/* no index */
			insn->index = LV_REG_NONE;
		insn->base = (b & 7) | ((rex & REX_B) ? 8 : 0);
		if (mod == 0 && (b & 7) == 5) {
			insn->base = LV_REG_NONE;
			disp = 4;
		}
	} else if (mod == 0 && rm == 5) {
		insn->base = insn->mode == LV_MODE_LONG64 ? LV_REG_RIP : LV_REG_NONE;
	}
	if (mod == 1)
		disp = 1;
	else if (mod == 2 || (mod == 0 && rm == 5))
		disp = 4;
	insn->bp_base = (insn->base & 7) == 4 || (insn->base & 7) == 5;
	if (insn->base == LV_REG_NONE || insn->base == LV_REG_RIP)
		insn->bp_base = false;
	ret = lv_fetch(c, disp, &b);
	if (ret)
		return ret;
	insn->disp = lv_sext(b, disp);
	return 0;
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

/* An immediate of @n bytes (at most 4), sign-extended to @size bytes. */
static int lv_fetch_imm(struct lv_cursor *c, unsigned int n,
			unsigned int size, struct lv_mmio_insn *insn)
{
	u64 imm;
	int ret;

	ret = lv_fetch(c, n, &imm);
	if (ret)
		return ret;
	insn->has_imm = true;
	insn->imm = lv_trunc(lv_sext(imm, n), size);
	return 0;
}

/* A read-modify-write of r/m by the ModRM register operand. */
static void lv_set_rmw(struct lv_mmio_insn *insn, enum lv_alu_op alu,
		       u8 modrm, const struct lv_prefixes *p)
{
	insn->op = LV_MMIO_RMW;
	insn->alu = alu;
	lv_set_reg(insn, modrm, p->has_rex, p->rex);
}

/*
 * The one-byte opcodes that use ModRM: MOV (88-8B, C6, C7, 63), the ALU
 * group with a register (00-39) or an immediate (80, 81, 83), TEST (84,
 * 85), XCHG (86, 87), NOT and NEG (F6, F7 /2, /3), INC and DEC (FE, FF
 * /0, /1).
 */
static int lv_decode_modrm_op(struct lv_cursor *c, u8 op,
			      const struct lv_prefixes *p,
			      unsigned int opsize, struct lv_mmio_insn *insn)
{
	unsigned int ext;
	u8 modrm;
	int ret;

	insn->size = (op & 1) ? opsize : 1;
	ret = lv_modrm(c, p->rex, insn, &modrm);
	if (ret)
		return ret;
	ext = (modrm >> 3) & 7;

	if (op < 0x40) {	/* ALU r/m, r: 00, 01, 08, 09, ... 38, 39 */
		lv_set_rmw(insn, op >> 3, modrm, p);
		return 0;
	}
	switch (op) {
	case 0x80:		/* ALU r/m8, imm8 */
	case 0x81:		/* ALU r/m, imm16/32 */
	case 0x83:		/* ALU r/m, imm8 sign-extended */
		insn->op = LV_MMIO_RMW;
		insn->alu = ext;
		return lv_fetch_imm(c, op == 0x81 ? min_t(unsigned int,
							  insn->size, 4) : 1,
				    insn->size, insn);
	case 0x84:		/* TEST r/m, r */
	case 0x85:
		lv_set_rmw(insn, LV_ALU_TEST, modrm, p);
		return 0;
	case 0x86:		/* XCHG r/m, r */
	case 0x87:
		lv_set_rmw(insn, LV_ALU_XCHG, modrm, p);
		return 0;
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
		if (ext)	/* only /0 */
			return -EINVAL;
		insn->op = LV_MMIO_STORE;
		return lv_fetch_imm(c, min_t(unsigned int, insn->size, 4),
				    insn->size, insn);
	case 0xf6:		/* NOT, NEG r/m; the rest of group 3 is not */
	case 0xf7:
		if (ext != 2 && ext != 3)
			return -EINVAL;
		insn->op = LV_MMIO_RMW;
		insn->alu = LV_ALU_NOT + ext - 2;
		return 0;
	case 0xfe:		/* INC, DEC r/m; CALL, JMP, PUSH are not */
	case 0xff:
		if (ext > 1)
			return -EINVAL;
		insn->op = LV_MMIO_RMW;
		insn->alu = LV_ALU_INC + ext;
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

/* 0F BA /4-/7: BT, BTS, BTR, BTC r/m, imm8. */
static int lv_decode_bt_imm(struct lv_cursor *c, const struct lv_prefixes *p,
			    struct lv_mmio_insn *insn)
{
	u8 modrm;
	u64 imm;
	int ret;

	ret = lv_modrm(c, p->rex, insn, &modrm);
	if (ret)
		return ret;
	if (!(modrm & 0x20))	/* /0-/3 are undefined */
		return -EINVAL;
	ret = lv_fetch(c, 1, &imm);
	if (ret)
		return ret;
	insn->op = LV_MMIO_RMW;
	insn->alu = LV_ALU_BT + ((modrm >> 3) & 3);
	insn->has_imm = true;
	/* An immediate bit offset stays within the operand. */
	insn->imm = imm & (insn->size * 8 - 1);
	return 0;
}

/*
 * Two-byte opcodes: MOVZX (0F B6, B7), MOVSX (BE, BF), MOVNTI (C3),
 * CMPXCHG (B0, B1), XADD (C0, C1) and the bit tests (A3, AB, B3, BB, BA).
 */
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
	insn->size = (op & 1) ? opsize : 1;
	switch (op) {
	case 0xb6:
	case 0xb7:
		insn->zero_extend = true;
		break;
	case 0xbe:
	case 0xbf:
		insn->sign_extend = true;
		break;
	case 0xc3:		/* MOVNTI m32/m64, r: a plain store */
		if (p->opsize)
			return -EINVAL;
		ret = lv_modrm(c, p->rex, insn, &modrm);
		if (ret)
			return ret;
		insn->op = LV_MMIO_STORE;
		lv_set_reg(insn, modrm, p->has_rex, p->rex);
		return 0;
	case 0xb0:
	case 0xb1:
	case 0xc0:
	case 0xc1:
	case 0xa3:
	case 0xab:
	case 0xb3:
	case 0xbb:
		ret = lv_modrm(c, p->rex, insn, &modrm);
		if (ret)
			return ret;
		lv_set_rmw(insn, op == 0xb0 || op == 0xb1 ? LV_ALU_CMPXCHG :
			   op == 0xc0 || op == 0xc1 ? LV_ALU_XADD :
			   LV_ALU_BT + ((op >> 3) & 3), modrm, p);
		return 0;
	case 0xba:
		insn->size = opsize;
		return lv_decode_bt_imm(c, p, insn);
	default:
		return -EINVAL;
	}
	insn->op = LV_MMIO_LOAD;
	insn->size = (op & 1) ? 2 : 1;
	insn->dst_size = opsize;
	ret = lv_modrm(c, p->rex, insn, &modrm);
	if (ret)
		return ret;
	lv_set_reg(insn, modrm, p->has_rex, p->rex);
	return 0;
}

/* LOCK is allowed on the read-modify-write forms that write memory. */
static bool lv_lock_ok(const struct lv_mmio_insn *insn)
{
	return insn->op == LV_MMIO_RMW && insn->alu != LV_ALU_CMP &&
	       insn->alu != LV_ALU_TEST && insn->alu != LV_ALU_BT;
}

static int lv_decode_opcode(struct lv_cursor *c, u8 b,
			    const struct lv_prefixes *p, unsigned int opsize,
			    struct lv_mmio_insn *insn)
{
	u64 moffs;
	int ret;

	if (b < 0x40 && (b & 7) < 2)
		return lv_decode_modrm_op(c, b, p, opsize, insn);
	switch (b) {
	case 0x63:
		if (insn->mode != LV_MODE_LONG64)	/* ARPL */
			return -EINVAL;
		fallthrough;
	case 0x80:
	case 0x81:
	case 0x83:
	case 0x84:
	case 0x85:
	case 0x86:
	case 0x87:
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
	case 0xc6:
	case 0xc7:
	case 0xf6:
	case 0xf7:
	case 0xfe:
	case 0xff:
		return lv_decode_modrm_op(c, b, p, opsize, insn);
	case 0x0f:
		return lv_decode_0f(c, p, opsize, insn);
	case 0xa0:		/* MOV AL, moffs8 */
	case 0xa1:		/* MOV rAX, moffs */
	case 0xa2:		/* MOV moffs8, AL */
	case 0xa3:		/* MOV moffs, rAX */
		ret = lv_fetch(c, insn->addr_size, &moffs);
		insn->moffs = true;
		insn->disp = moffs;
		insn->base = LV_REG_NONE;
		insn->index = LV_REG_NONE;
		insn->size = (b & 1) ? opsize : 1;
		if (b & 2) {
			insn->op = LV_MMIO_STORE;
		} else {
			insn->op = LV_MMIO_LOAD;
			insn->dst_size = insn->size;
		}
		return ret;
	case 0xa4:		/* MOVS m8, m8 */
	case 0xa5:		/* MOVS m, m */
	case 0xaa:		/* STOS m8, AL */
	case 0xab:		/* STOS m, rAX */
		insn->size = (b & 1) ? opsize : 1;
		insn->op = (b & 8) ? LV_MMIO_STORE : LV_MMIO_COPY;
		insn->string = true;
		insn->rep = p->rep;
		return 0;
	default:
		return -EINVAL;
	}
}

int lv_decode_mmio(const u8 *code, unsigned int avail, enum lv_cpu_mode mode,
		   struct lv_mmio_insn *insn)
{
	struct lv_cursor c = { .code = code, .avail = avail };
	struct lv_prefixes p = { };
	unsigned int opsize;
	bool lock = false;
	u64 b;
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
	insn->mode = mode;

	/*
	 * Prefixes. A REX prefix only counts when the opcode follows it
	 * directly; a legacy prefix after it cancels it. In other modes
	 * 40-4F are INC/DEC, which are not supported.
	 */
	for (;;) {
		ret = lv_fetch(&c, 1, &b);
		if (ret)
			return ret;
		if (b == 0xf0) {	/* LOCK */
			lock = true;
			p.has_rex = false;
			p.rex = 0;
			continue;
		}
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

	ret = lv_decode_opcode(&c, b, &p, opsize, insn);
	if (ret)
		return ret;
	/* Anything else with LOCK is #UD on the CPU, and never reaches us. */
	if (lock && !lv_lock_ok(insn))
		return -EINVAL;
	insn->lock = lock;
	insn->len = c.pos;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_decode_mmio);

/**
 * lv_decode_mmio_cached() - lv_decode_mmio(), remembering what it decoded
 * @dc: the vCPU's cache
 * @code: the instruction's bytes
 * @avail: how many of them could be fetched
 * @mode: the mode it runs in
 * @insn: out: its decoding
 *
 * A guest touches MMIO from a few instructions, again and again: a
 * driver's doorbell write, its status read and acknowledgement, an EOI.
 * A decoding is a function of the bytes and the mode alone, so an entry
 * whose bytes equal the first bytes fetched, in the same mode, is this
 * instruction's decoding, wherever the guest has it. The fetch is not
 * saved: the bytes at RIP are what the CPU ran, and only they say which
 * instruction that was.
 *
 * Return: as lv_decode_mmio(); failures are not remembered.
 */
int lv_decode_mmio_cached(struct lv_decode_cache *dc, const u8 *code,
			  unsigned int avail, enum lv_cpu_mode mode,
			  struct lv_mmio_insn *insn)
{
	unsigned int i;
	int ret;

	for (i = 0; i < LV_DECODE_CACHE_SIZE; i++) {
		const struct lv_mmio_insn *e = &dc->insn[i];

		if (e->len && e->mode == mode && e->len <= avail &&
		    !memcmp(dc->code[i], code, e->len)) {
			*insn = *e;
			return 0;
		}
	}
	ret = lv_decode_mmio(code, avail, mode, insn);
	if (ret)
		return ret;
	i = dc->next;
	dc->next = (i + 1) % LV_DECODE_CACHE_SIZE;
	memcpy(dc->code[i], code, insn->len);
	dc->insn[i] = *insn;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_decode_mmio_cached);

/* One-byte opcodes lv_decode_sys() knows: HLT, INT1, IN and OUT. */
static bool lv_sys_one_byte(u8 b)
{
	return b == 0xf4 || b == 0xf1 || (b >= 0xe4 && b <= 0xe7) ||
	       (b >= 0xec && b <= 0xef) || (b >= 0x6c && b <= 0x6f);
}

static int lv_decode_sys_0f(struct lv_cursor *c, unsigned int rex,
			    bool lock, struct lv_sys_insn *insn)
{
	u64 b, modrm;
	int ret;

	ret = lv_fetch(c, 1, &b);
	if (ret)
		return ret;
	insn->opcode = b;
	/* MOV CR/DR (0F 20-23) and group 7 (0F 01) take a ModRM byte. */
	if (b != 0x01 && (b < 0x20 || b > 0x23))
		return lock ? -EINVAL : 0;
	ret = lv_fetch(c, 1, &modrm);
	if (ret)
		return ret;
	/*
	 * MOV CR/DR always take registers, whatever ModRM.mod says; memory
	 * operands of group 7 (LMSW m16, INVLPG m) are not expected here.
	 */
	if (b == 0x01 && (modrm >> 6) != 3)
		return -EINVAL;
	insn->modrm = modrm;
	insn->reg = ((modrm >> 3) & 7) | (rex & REX_R ? 8 : 0);
	insn->rm = (modrm & 7) | (rex & REX_B ? 8 : 0);
	if (!lock)
		return 0;
	/* AMD's alternative encoding of CR8: LOCK MOV CR0. */
	if ((b == 0x20 || b == 0x22) && insn->reg == 0) {
		insn->reg = 8;
		return 0;
	}
	return -EINVAL;
}

int lv_decode_sys(const u8 *code, unsigned int avail, enum lv_cpu_mode mode,
		  struct lv_sys_insn *insn)
{
	struct lv_cursor c = { .code = code, .avail = avail };
	struct lv_mmio_insn seg = { };
	struct lv_prefixes p = { };
	bool lock = false;
	unsigned int rex = 0;
	u64 b;
	int ret;

	*insn = (struct lv_sys_insn){ };
	for (;;) {
		ret = lv_fetch(&c, 1, &b);
		if (ret)
			return ret;
		if (b == 0xf0) {
			lock = true;
			rex = 0;
		} else if (lv_legacy_prefix(b, &p, &seg)) {
			rex = 0;
		} else if (mode == LV_MODE_LONG64 && (b & 0xf0) == 0x40) {
			rex = b & 0xf;
		} else {
			break;
		}
	}
	if (b == 0x0f) {
		ret = lv_decode_sys_0f(&c, rex, lock, insn);
	} else if (lv_sys_one_byte(b) && !lock) {
		insn->opcode = LV_SYS_ONE_BYTE | b;
		/* IN/OUT with an immediate port. */
		if ((b & 0xf4) == 0xe4)
			ret = lv_fetch(&c, 1, &b);
	} else {
		ret = -EINVAL;
	}
	if (ret)
		return ret;
	insn->len = c.pos;
	insn->seg = seg.seg;
	if (mode == LV_MODE_LONG64)
		insn->addr_size = p.adsize ? 4 : 8;
	else
		insn->addr_size = (mode == LV_MODE_PROT32) ^ p.adsize ? 4 : 2;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_decode_sys);

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

u64 lv_mmio_ea(const struct lv_mmio_insn *insn, const unsigned long *regs,
	       u64 next_rip)
{
	u64 ea = insn->disp;

	if (insn->base == LV_REG_RIP)
		ea += next_rip;
	else if (insn->base != LV_REG_NONE)
		ea += regs[insn->base];
	if (insn->index != LV_REG_NONE)
		ea += regs[insn->index] * insn->scale;
	return lv_trunc(ea, insn->addr_size);
}
EXPORT_SYMBOL_IF_KUNIT(lv_mmio_ea);

/* PF: even number of set bits in the low byte. */
static bool lv_parity_even(u64 v)
{
	unsigned int b = v & 0xff;

	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return !(b & 1);
}

static u64 lv_alu2(unsigned int op, unsigned int size, u64 dst, u64 src,
		   u64 *rflags)
{
	u64 sign = 1ULL << (size * 8 - 1);
	u64 cf_in = *rflags & X86_EFLAGS_CF ? 1 : 0;
	u64 flags = 0, r;
	bool sub = false;

	dst = lv_trunc(dst, size);
	src = lv_trunc(src, size);
	switch (op) {
	case LV_ALU_ADD:
		cf_in = 0;
		fallthrough;
	case LV_ALU_ADC:
		r = lv_trunc(dst + src + cf_in, size);
		if (r < dst || (cf_in && r == dst))
			flags |= X86_EFLAGS_CF;
		if ((dst ^ r) & (src ^ r) & sign)
			flags |= X86_EFLAGS_OF;
		break;
	case LV_ALU_SUB:
	case LV_ALU_CMP:
		cf_in = 0;
		fallthrough;
	case LV_ALU_SBB:
		r = lv_trunc(dst - src - cf_in, size);
		if (dst < src || (cf_in && dst == src))
			flags |= X86_EFLAGS_CF;
		if ((dst ^ src) & (dst ^ r) & sign)
			flags |= X86_EFLAGS_OF;
		sub = true;
		break;
	case LV_ALU_OR:
		r = dst | src;
		break;
	case LV_ALU_XOR:
		r = dst ^ src;
		break;
	default:	/* AND, TEST */
		r = dst & src;
		break;
	}
	if (sub || op == LV_ALU_ADD || op == LV_ALU_ADC)
		flags |= (dst ^ src ^ r) & X86_EFLAGS_AF;
	if (!r)
		flags |= X86_EFLAGS_ZF;
	if (r & sign)
		flags |= X86_EFLAGS_SF;
	if (lv_parity_even(r))
		flags |= X86_EFLAGS_PF;
	*rflags = (*rflags & ~LV_FLAGS_ARITH) | flags;
	return r;
}

u64 lv_alu(unsigned int op, unsigned int size, u64 dst, u64 src, u64 *rflags)
{
	u64 cf = *rflags & X86_EFLAGS_CF;
	u64 r;

	switch (op) {
	case LV_ALU_INC:
	case LV_ALU_DEC:
		/* ADD or SUB of 1, but CF is left as it was. */
		r = lv_alu2(op == LV_ALU_INC ? LV_ALU_ADD : LV_ALU_SUB, size,
			    dst, 1, rflags);
		*rflags = (*rflags & ~X86_EFLAGS_CF) | cf;
		return r;
	case LV_ALU_NOT:
		return lv_trunc(~dst, size);
	case LV_ALU_NEG:
		/* 0 - dst: CF is set unless the operand is 0. */
		return lv_alu2(LV_ALU_SUB, size, 0, dst, rflags);
	}
	return lv_alu2(op, size, dst, src, rflags);
}
EXPORT_SYMBOL_IF_KUNIT(lv_alu);
