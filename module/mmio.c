// SPDX-License-Identifier: GPL-2.0
/*
 * Instruction emulation for MMIO and for string I/O items the fast path
 * cannot take.
 *
 * A guest access to guest-physical memory that is not RAM (or a write to
 * read-only RAM) is decoded and emulated here: every memory operand is
 * translated through the guest's page tables with the guest's rights
 * (a fault becomes #PF for the guest), split at page boundaries, and each
 * piece goes to RAM directly or to userspace as an MMIO exit. An
 * instruction that needs several exits (a read-modify-write: a read exit,
 * then a write exit; MOVS between two devices; an access that straddles
 * two pages of MMIO) is run again from the start after each one, with the
 * data of the reads already made and the writes already done remembered
 * in struct lv_emul; it completes (registers, flags, RIP) once, at the
 * end. This is how KVM's emulator works, and what a device model expects:
 * the same exits as under KVM.
 *
 * Not emulated (documented in docs/security.md): segment limit and type
 * checks outside 64-bit mode (the hardware checked them before the
 * access faulted in EPT), and atomicity of LOCK-prefixed operations on
 * MMIO, which a device model cannot give anyway.
 */
#include <linux/mm.h>
#include <asm/trapnr.h>

#include "lightvisor.h"
#include "irq/irqchip.h"

enum lv_emul_ret {
	LV_EMUL_DONE,		/* access made (or the instruction finished) */
	LV_EMUL_USER,		/* an exit to userspace is filled in */
	LV_EMUL_FAULT,		/* an exception for the guest is queued */
	LV_EMUL_ERROR,		/* an internal error exit is filled in */
};

/* One run of an instruction, from the start. */
struct lv_emul_ctx {
	struct lv_vcpu *vcpu;
	struct lv_emul *em;
	struct lv_paging pg;
	unsigned int nread;
	unsigned int nwrite;
	unsigned long regs[16];
};

void lv_get_paging(struct lv_vcpu *vcpu, struct lv_paging *pg)
{
	lv_vendor->get_paging(vcpu, pg);
	pg->rflags = lv_vendor->get_rflags(vcpu);
	pg->cpl = lv_vendor->get_cpl(vcpu);
}

enum lv_exit_action lv_queue_page_fault(struct lv_vcpu *vcpu, u64 addr,
					u32 error_code)
{
	lv_vendor->set_cr2(vcpu, addr);
	return lv_inject_exception(vcpu, X86_TRAP_PF, error_code);
}

/* Fetch up to LV_MAX_INSN_LEN bytes at RIP; returns how many were read. */
static unsigned int lv_fetch_insn(struct lv_vcpu *vcpu,
				  const struct lv_paging *pg, u8 *buf,
				  enum lv_cpu_mode *mode)
{
	u64 rip;

	lv_vendor->get_code(vcpu, &rip, mode);
	return lv_read_guest_virt(vcpu->vm, pg, rip, buf, LV_MAX_INSN_LEN);
}

/**
 * lv_decode_sys_at_rip() - decode the system instruction at the guest's RIP
 * @vcpu: the vCPU, in an exit handler
 * @insn: out: the instruction
 *
 * For backends whose CPU does not report the length or the operands of
 * the instruction that exited.
 *
 * Return: 0, or -EFAULT if it cannot be read, -EINVAL if not known.
 */
int lv_decode_sys_at_rip(struct lv_vcpu *vcpu, struct lv_sys_insn *insn)
{
	u8 code[LV_MAX_INSN_LEN];
	enum lv_cpu_mode mode;
	struct lv_paging pg;
	unsigned int n;

	lv_get_paging(vcpu, &pg);
	n = lv_fetch_insn(vcpu, &pg, code, &mode);
	if (!n)
		return -EFAULT;
	return lv_decode_sys(code, n, mode, insn) ? -EINVAL : 0;
}

static void lv_mmio_emulation_error(struct lv_vcpu *vcpu, u64 gpa,
				    const u8 *code, unsigned int len)
{
	struct lv_run *run = vcpu->run;

	lv_internal_error(vcpu, LV_INTERNAL_ERROR_EMULATION, gpa);
	/* The instruction bytes, for whoever reads the report. */
	run->internal.ndata = 3;
	memcpy(&run->internal.data[1], code, min(len, 16U));
}

static enum lv_emul_ret lv_emul_translate(struct lv_emul_ctx *ctx, u64 la,
					  u32 access, u64 *gpa)
{
	const struct lv_emul *em = ctx->em;
	u32 err;

	/*
	 * The hardware translated the access that exited, with the guest's
	 * rights: where the offsets agree this is that access, and the
	 * walk can be skipped (as KVM's gpa_available). String forms move
	 * on to other addresses and always walk.
	 */
	if (em->gpa_hint_valid &&
	    offset_in_page(la) == offset_in_page(em->gpa_hint)) {
		*gpa = em->gpa_hint;
		return LV_EMUL_DONE;
	}

	if (ctx->pg.cpl == 3)
		access |= LV_ACC_USER;
	if (!lv_gva_to_gpa(ctx->vcpu->vm, &ctx->pg, la, access, gpa, &err))
		return LV_EMUL_DONE;
	lv_queue_page_fault(ctx->vcpu, la, err);
	return LV_EMUL_FAULT;
}

static void lv_emul_mmio_exit(struct lv_emul_ctx *ctx, u64 gpa,
			      unsigned int len, bool write, u64 data)
{
	struct lv_run *run = ctx->vcpu->run;

	run->exit_reason = LV_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write)
		memcpy(run->mmio.data, &data, len);
}

static enum lv_emul_ret lv_emul_host_fault(struct lv_emul_ctx *ctx, u64 gpa)
{
	lv_internal_error(ctx->vcpu, LV_INTERNAL_ERROR_HOST_FAULT, gpa);
	return LV_EMUL_ERROR;
}

/* The length of the piece of [la + done, la + size) within one page. */
static unsigned int lv_emul_piece(u64 la, unsigned int done, unsigned int size)
{
	return min_t(u64, size - done, PAGE_SIZE - offset_in_page(la + done));
}

/*
 * The devices the kernel emulates itself (the local APIC page, the I/O
 * APIC), then the status registers and, for a write, the ioeventfds are
 * looked up before an access goes to userspace; a device's access
 * completes here, within this run of the instruction.
 */
static bool lv_emul_kernel_mmio(struct lv_emul_ctx *ctx, u64 gpa,
				unsigned int len, bool write, u64 *data)
{
	struct lv_vcpu *vcpu = ctx->vcpu;

	if (!vcpu->lapic || !lv_irqchip_mmio(vcpu, gpa, write, len, data)) {
		if (lv_irq_status_access(vcpu->vm, gpa, len, write, data))
			return true;
		return write && lv_ioeventfd_write(vcpu->vm, false, gpa, len,
						   *data);
	}
	/* A read gives @len bytes, as one from RAM does. */
	if (!write && len < 8)
		*data &= BIT_ULL(8 * len) - 1;
	return true;
}

/*
 * Read @size bytes at linear @la: from the cache, RAM, an in-kernel
 * device, or userspace.
 */
static enum lv_emul_ret lv_emul_read(struct lv_emul_ctx *ctx, u64 la,
				     unsigned int size, u64 *val)
{
	struct lv_emul *em = ctx->em;
	unsigned int done, len;
	enum lv_emul_ret ret;
	u64 gpa, part;
	int r;

	*val = 0;
	for (done = 0; done < size; done += len, ctx->nread++) {
		len = lv_emul_piece(la, done, size);
		if (ctx->nread >= LV_EMUL_MAX_OPS)
			return lv_emul_host_fault(ctx, la);
		if (ctx->nread < em->ncached) {
			part = em->cache[ctx->nread];
		} else {
			ret = lv_emul_translate(ctx, la + done, 0, &gpa);
			if (ret)
				return ret;
			part = 0;
			r = lv_access_guest_ram(ctx->vcpu->vm, gpa, &part, len,
						false);
			if (r == -ENOENT &&
			    lv_emul_kernel_mmio(ctx, gpa, len, false, &part))
				r = 0;
			if (r == -ENOENT) {
				lv_emul_mmio_exit(ctx, gpa, len, false, 0);
				em->read_pending = true;
				em->pending_len = len;
				em->pending_io = false;
				return LV_EMUL_USER;
			}
			if (r)
				return lv_emul_host_fault(ctx, gpa);
			em->cache[em->ncached++] = part;
		}
		*val |= part << (8 * done);
	}
	return LV_EMUL_DONE;
}

/*
 * Write @size bytes at linear @la: to RAM, an in-kernel device, or
 * userspace.
 */
static enum lv_emul_ret lv_emul_write(struct lv_emul_ctx *ctx, u64 la,
				      unsigned int size, u64 val)
{
	struct lv_emul *em = ctx->em;
	unsigned int done, len;
	enum lv_emul_ret ret;
	u64 gpa, part;
	int r;

	for (done = 0; done < size; done += len, ctx->nwrite++) {
		len = lv_emul_piece(la, done, size);
		if (ctx->nwrite < em->nwritten)
			continue;
		ret = lv_emul_translate(ctx, la + done, LV_ACC_WRITE, &gpa);
		if (ret)
			return ret;
		part = val >> (8 * done);
		r = lv_access_guest_ram(ctx->vcpu->vm, gpa, &part, len, true);
		em->nwritten++;
		if (r == -ENOENT &&
		    lv_emul_kernel_mmio(ctx, gpa, len, true, &part))
			r = 0;
		if (r == -ENOENT) {
			lv_emul_mmio_exit(ctx, gpa, len, true, part);
			return LV_EMUL_USER;
		}
		if (r)
			return lv_emul_host_fault(ctx, gpa);
	}
	return LV_EMUL_DONE;
}

/* One item of port input: from the cache or from userspace. */
static enum lv_emul_ret lv_emul_port_in(struct lv_emul_ctx *ctx, u64 *val)
{
	const struct lv_pio_exit *io = &ctx->em->pio_exit;
	struct lv_emul *em = ctx->em;
	struct lv_run *run = ctx->vcpu->run;

	if (ctx->nread < em->ncached) {
		*val = em->cache[ctx->nread++];
		return LV_EMUL_DONE;
	}
	run->exit_reason = LV_EXIT_IO;
	run->io.direction = LV_EXIT_IO_IN;
	run->io.size = io->size;
	run->io.port = io->port;
	run->io.count = 1;
	run->io.data_offset = LV_RUN_IO_DATA_OFFSET;
	em->read_pending = true;
	em->pending_len = io->size;
	em->pending_io = true;
	return LV_EMUL_USER;
}

/* One item of port output, unless it went out already. */
static enum lv_emul_ret lv_emul_port_out(struct lv_emul_ctx *ctx, u64 val)
{
	const struct lv_pio_exit *io = &ctx->em->pio_exit;
	struct lv_run *run = ctx->vcpu->run;

	if (ctx->nwrite++ < ctx->em->nwritten)
		return LV_EMUL_DONE;
	ctx->em->nwritten++;
	run->exit_reason = LV_EXIT_IO;
	run->io.direction = LV_EXIT_IO_OUT;
	run->io.size = io->size;
	run->io.port = io->port;
	run->io.count = 1;
	run->io.data_offset = LV_RUN_IO_DATA_OFFSET;
	memcpy((void *)run + LV_RUN_IO_DATA_OFFSET, &val, io->size);
	return LV_EMUL_USER;
}

static void lv_emul_set_reg(struct lv_vcpu *vcpu, unsigned int reg, u64 val)
{
	if (reg == LV_RSP)
		lv_vendor->set_rsp(vcpu, val);
	else
		vcpu->regs[reg] = val;
}

/* Write @val (@size bytes) to a register as an instruction result does. */
static void lv_emul_set_reg_sized(struct lv_emul_ctx *ctx, unsigned int reg,
				  bool high_byte, unsigned int size, u64 val)
{
	struct lv_mmio_insn w = {
		.op = LV_MMIO_LOAD, .size = size, .dst_size = size,
		.high_byte = high_byte,
	};

	lv_emul_set_reg(ctx->vcpu, reg,
			lv_mmio_load_result(&w, ctx->regs[reg], val));
}

/* Segment base + offset, as the CPU forms a linear address. */
static u64 lv_emul_linear(struct lv_emul_ctx *ctx, unsigned int seg, u64 ea)
{
	if (ctx->em->insn.mode == LV_MODE_LONG64) {
		/* Only FS and GS have a base in 64-bit mode. */
		if (seg != LV_SEG_FS && seg != LV_SEG_GS)
			return ea;
		return lv_vendor->get_seg_base(ctx->vcpu, seg) + ea;
	}
	return (lv_vendor->get_seg_base(ctx->vcpu, seg) + ea) & 0xffffffffULL;
}

/* The linear address of the ModRM or moffs memory operand. */
static u64 lv_emul_operand(struct lv_emul_ctx *ctx, s64 adjust)
{
	const struct lv_mmio_insn *insn = &ctx->em->insn;
	u64 rip, ea;
	enum lv_cpu_mode mode;
	unsigned int seg;

	lv_vendor->get_code(ctx->vcpu, &rip, &mode);
	ea = lv_mmio_ea(insn, ctx->regs, rip + insn->len) + adjust;
	ea &= lv_addr_mask(insn->addr_size);
	seg = insn->seg ?: (insn->bp_base ? LV_SEG_SS : LV_SEG_DS);
	return lv_emul_linear(ctx, seg, ea);
}

/* The source operand of a store or read-modify-write, @size bytes. */
static u64 lv_emul_src(struct lv_emul_ctx *ctx)
{
	const struct lv_mmio_insn *insn = &ctx->em->insn;

	return lv_mmio_store_data(insn, insn->has_imm ? 0 : ctx->regs[insn->reg]);
}

/* Step rSI/rDI past one element; false while REP has elements left. */
static bool lv_emul_string_done(struct lv_emul_ctx *ctx, bool si, bool di)
{
	const struct lv_mmio_insn *insn = &ctx->em->insn;
	long step = ctx->pg.rflags & X86_EFLAGS_DF ? -(long)insn->size :
		    insn->size;

	if (si)
		lv_string_reg_add(ctx->vcpu, LV_RSI, step, insn->addr_size);
	if (di)
		lv_string_reg_add(ctx->vcpu, LV_RDI, step, insn->addr_size);
	return !insn->rep ||
	       !lv_string_reg_add(ctx->vcpu, LV_RCX, -1, insn->addr_size);
}

/* STOS, MOVS: one element per run; the guest re-executes for the rest. */
static enum lv_emul_ret lv_emul_string(struct lv_emul_ctx *ctx, bool *done)
{
	const struct lv_mmio_insn *insn = &ctx->em->insn;
	unsigned long mask = lv_addr_mask(insn->addr_size);
	u64 dst = lv_emul_linear(ctx, LV_SEG_ES, ctx->regs[LV_RDI] & mask);
	bool movs = insn->op == LV_MMIO_COPY;
	enum lv_emul_ret ret;
	u64 val;

	if (insn->rep && !(ctx->regs[LV_RCX] & mask)) {
		*done = true;
		return LV_EMUL_DONE;
	}
	if (movs) {
		ret = lv_emul_read(ctx, lv_emul_linear(ctx, insn->seg ?: LV_SEG_DS,
						       ctx->regs[LV_RSI] & mask),
				   insn->size, &val);
		if (ret)
			return ret;
	} else {
		val = lv_mmio_store_data(insn, ctx->regs[LV_RAX]);
	}
	ret = lv_emul_write(ctx, dst, insn->size, val);
	if (ret)
		return ret;
	*done = lv_emul_string_done(ctx, movs, true);
	return LV_EMUL_DONE;
}

/*
 * BT* with a register bit offset address a bit string: the offset's
 * upper bits select the operand-sized word (SDM vol. 2, BT).
 */
static s64 lv_emul_bit_adjust(const struct lv_mmio_insn *insn, u64 *bit)
{
	unsigned int bits = insn->size * 8;
	s64 off;

	if (insn->has_imm || insn->alu < LV_ALU_BT || insn->alu > LV_ALU_BTC)
		return 0;
	off = (s64)(*bit << (64 - bits)) >> (64 - bits);
	*bit &= bits - 1;
	return (off & ~(s64)(bits - 1)) >> 3;
}

/*
 * The result of a read-modify-write of @old by @src: the value to write
 * back (*@write set) and the register result (*@reg_out set), with the
 * flags updated in *@flags.
 */
static u64 lv_emul_rmw_result(const struct lv_mmio_insn *insn, u64 old,
			      u64 src, u64 rax, u64 *flags, bool *write,
			      bool *reg_out, u64 *reg_val)
{
	u64 bit = BIT_ULL(src & (insn->size * 8 - 1));

	*write = true;
	*reg_out = false;
	switch (insn->alu) {
	case LV_ALU_CMP:
	case LV_ALU_TEST:
		*write = false;
		fallthrough;
	default:		/* ADD ... XOR, INC, DEC, NOT, NEG */
		return lv_alu(insn->alu, insn->size, old, src, flags);
	case LV_ALU_XCHG:
		*reg_out = true;
		*reg_val = old;
		return src;
	case LV_ALU_XADD:
		*reg_out = true;
		*reg_val = old;
		return lv_alu(LV_ALU_ADD, insn->size, old, src, flags);
	case LV_ALU_CMPXCHG:
		/* On a mismatch the CPU writes the old value back too. */
		lv_alu(LV_ALU_CMP, insn->size, rax, old, flags);
		if (*flags & X86_EFLAGS_ZF)
			return src;
		*reg_out = true;
		*reg_val = old;
		return old;
	case LV_ALU_BT:
	case LV_ALU_BTS:
	case LV_ALU_BTR:
	case LV_ALU_BTC:
		*flags = (*flags & ~X86_EFLAGS_CF) |
			 ((old & bit) ? X86_EFLAGS_CF : 0);
		*write = insn->alu != LV_ALU_BT;
		if (insn->alu == LV_ALU_BTS)
			return old | bit;
		if (insn->alu == LV_ALU_BTR)
			return old & ~bit;
		return old ^ bit;
	}
}

static enum lv_emul_ret lv_emul_rmw(struct lv_emul_ctx *ctx)
{
	const struct lv_mmio_insn *insn = &ctx->em->insn;
	u64 src = lv_emul_src(ctx), flags = ctx->pg.rflags, old, new, reg_val;
	s64 adjust = lv_emul_bit_adjust(insn, &src);
	u64 la = lv_emul_operand(ctx, adjust);
	bool write, reg_out;
	enum lv_emul_ret ret;

	ret = lv_emul_read(ctx, la, insn->size, &old);
	if (ret)
		return ret;
	new = lv_emul_rmw_result(insn, old, src, ctx->regs[LV_RAX], &flags,
				 &write, &reg_out, &reg_val);
	if (write) {
		ret = lv_emul_write(ctx, la, insn->size, new);
		if (ret)
			return ret;
	}
	/* Every access made: now the registers. */
	if (reg_out && insn->alu == LV_ALU_CMPXCHG)
		lv_emul_set_reg_sized(ctx, LV_RAX, false, insn->size, reg_val);
	else if (reg_out)
		lv_emul_set_reg_sized(ctx, insn->reg, insn->high_byte,
				      insn->size, reg_val);
	lv_vendor->set_rflags(ctx->vcpu, flags);
	return LV_EMUL_DONE;
}

/* Run the decoded MMIO instruction; on LV_EMUL_DONE it has completed. */
static enum lv_emul_ret lv_emul_insn(struct lv_emul_ctx *ctx)
{
	const struct lv_mmio_insn *insn = &ctx->em->insn;
	enum lv_emul_ret ret;
	bool done = true;
	u64 val;

	if (insn->string) {
		ret = lv_emul_string(ctx, &done);
	} else if (insn->op == LV_MMIO_LOAD) {
		ret = lv_emul_read(ctx, lv_emul_operand(ctx, 0), insn->size, &val);
		if (!ret)
			lv_emul_set_reg(ctx->vcpu, insn->reg,
					lv_mmio_load_result(insn,
							    ctx->regs[insn->reg],
							    val));
	} else if (insn->op == LV_MMIO_STORE) {
		ret = lv_emul_write(ctx, lv_emul_operand(ctx, 0), insn->size,
				    lv_emul_src(ctx));
	} else {
		ret = lv_emul_rmw(ctx);
	}
	/* With REP elements left, RIP stays: the guest executes it again. */
	if (!ret && done)
		lv_vendor->advance_rip(ctx->vcpu, insn->len);
	return ret;
}

/* One string I/O item, through memory that the fast path cannot take. */
static enum lv_emul_ret lv_emul_pio_item(struct lv_emul_ctx *ctx)
{
	const struct lv_pio_exit *io = &ctx->em->pio_exit;
	long step = io->df ? -(long)io->size : io->size;
	enum lv_emul_ret ret;
	u64 val = 0;

	if (io->in) {
		ret = lv_emul_port_in(ctx, &val) ?:
		      lv_emul_write(ctx, io->linear_addr, io->size, val);
	} else {
		ret = lv_emul_read(ctx, io->linear_addr, io->size, &val) ?:
		      lv_emul_port_out(ctx, val);
	}
	if (ret)
		return ret;
	lv_string_reg_add(ctx->vcpu, io->in ? LV_RDI : LV_RSI, step,
			  io->addr_size);
	if (!io->rep || !lv_string_reg_add(ctx->vcpu, LV_RCX, -1, io->addr_size))
		lv_vendor->skip_instruction(ctx->vcpu);
	return LV_EMUL_DONE;
}

/*
 * Run the instruction in flight once more, from the start. @pg: the
 * paging registers if the caller has just read them, else NULL.
 */
static enum lv_exit_action lv_emul_run(struct lv_vcpu *vcpu,
				       const struct lv_paging *pg)
{
	struct lv_emul_ctx ctx = { .vcpu = vcpu, .em = &vcpu->emul };
	enum lv_emul_ret ret;

	if (pg)
		ctx.pg = *pg;
	else
		lv_get_paging(vcpu, &ctx.pg);
	memcpy(ctx.regs, vcpu->regs, sizeof(ctx.regs));
	ctx.regs[LV_RSP] = lv_vendor->get_rsp(vcpu);

	ret = vcpu->emul.pio ? lv_emul_pio_item(&ctx) : lv_emul_insn(&ctx);
	if (ret == LV_EMUL_USER)
		return LV_EXIT_TO_USER;
	vcpu->emul.active = false;
	return ret == LV_EMUL_ERROR ? LV_EXIT_TO_USER : LV_RESUME_GUEST;
}

static void lv_emul_start(struct lv_vcpu *vcpu, bool pio)
{
	struct lv_emul *em = &vcpu->emul;

	em->active = true;
	em->pio = pio;
	em->read_pending = false;
	em->ncached = 0;
	em->nwritten = 0;
	em->gpa_hint_valid = false;
}

/**
 * lv_handle_mmio() - emulate the instruction that accessed MMIO
 * @vcpu: the vCPU
 * @gpa: the guest-physical address accessed (for error reports)
 * @write: the hardware saw a write
 *
 * String instructions (STOS, MOVS) move one element per exit; the guest
 * re-executes the instruction for the rest.
 */
enum lv_exit_action lv_handle_mmio(struct lv_vcpu *vcpu, u64 gpa, bool write)
{
	struct lv_mmio_insn *insn = &vcpu->emul.insn;
	u8 code[LV_MAX_INSN_LEN];
	enum lv_cpu_mode mode;
	struct lv_paging pg;
	unsigned int len;

	lv_exit_restat(vcpu, LV_EXIT_STAT_MMIO);
	lv_get_paging(vcpu, &pg);
	len = lv_fetch_insn(vcpu, &pg, code, &mode);
	if (lv_decode_mmio_cached(&vcpu->emul.decoded, code, len, mode, insn)) {
		lv_mmio_emulation_error(vcpu, gpa, code, len);
		return LV_EXIT_TO_USER;
	}
	lv_emul_start(vcpu, false);
	vcpu->emul.gpa_hint = gpa;
	vcpu->emul.gpa_hint_valid = !insn->string;
	return lv_emul_run(vcpu, &pg);
}

/**
 * lv_handle_pio_item() - one string I/O item the fast path cannot take
 * @vcpu: the vCPU
 * @io: the instruction; its memory operand is not all in one RAM page
 *
 * The item's memory part goes to RAM or, piece by piece, to userspace as
 * MMIO; its port part to userspace as an I/O exit of one item.
 */
enum lv_exit_action lv_handle_pio_item(struct lv_vcpu *vcpu,
				       const struct lv_pio_exit *io)
{
	vcpu->emul.pio_exit = *io;
	lv_emul_start(vcpu, true);
	return lv_emul_run(vcpu, NULL);
}

/**
 * lv_complete_emul() - userspace answered: go on with the instruction
 * @vcpu: the vCPU, with an emulation in flight
 *
 * Return: LV_RESUME_GUEST when the instruction is done (or faulted),
 * LV_EXIT_TO_USER with the next exit filled in.
 */
enum lv_exit_action lv_complete_emul(struct lv_vcpu *vcpu)
{
	struct lv_emul *em = &vcpu->emul;
	struct lv_run *run = vcpu->run;
	u64 data = 0;

	if (em->read_pending) {
		if (em->pending_io)
			memcpy(&data, (void *)run + LV_RUN_IO_DATA_OFFSET,
			       em->pending_len);
		else
			memcpy(&data, run->mmio.data, em->pending_len);
		em->cache[em->ncached++] = data;
		em->read_pending = false;
	}
	return lv_emul_run(vcpu, NULL);
}
