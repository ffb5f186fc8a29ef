// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO exits: a guest access to guest-physical memory that is not RAM (or
 * a write to read-only RAM) is decoded and handed to userspace, which
 * emulates the device; the instruction completes on the next LV_RUN.
 */
#include <linux/mm.h>

#include "lightvisor.h"
#include "irq/irqchip.h"

static void lv_mmio_finish(struct lv_vcpu *vcpu, u64 data);

/* Fetch up to LV_MAX_INSN_LEN bytes at RIP; returns how many were read. */
static unsigned int lv_fetch_insn(struct lv_vcpu *vcpu, u8 *buf,
				  enum lv_cpu_mode *mode)
{
	struct lv_paging pg;
	u64 rip;

	lv_vendor->get_code(vcpu, &rip, mode);
	lv_vendor->get_paging(vcpu, &pg);
	return lv_read_guest_virt(vcpu->vm, &pg, rip, buf, LV_MAX_INSN_LEN);
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

/**
 * lv_handle_mmio() - exit to userspace for an MMIO access
 * @vcpu: the vCPU
 * @gpa: the guest-physical address accessed
 * @write: the hardware saw a write
 *
 * String stores (STOS) move one element per exit; the guest re-executes
 * the instruction for the rest.
 */
enum lv_exit_action lv_handle_mmio(struct lv_vcpu *vcpu, u64 gpa, bool write)
{
	struct lv_mmio_insn *insn = &vcpu->mmio_insn;
	struct lv_run *run = vcpu->run;
	enum lv_cpu_mode mode;
	u8 code[LV_MAX_INSN_LEN];
	unsigned int len;
	u64 data;

	len = lv_fetch_insn(vcpu, code, &mode);
	if (lv_decode_mmio(code, len, mode, insn) ||
	    insn->op == LV_MMIO_COPY ||
	    write != (insn->op == LV_MMIO_STORE)) {
		lv_mmio_emulation_error(vcpu, gpa, code, len);
		return LV_EXIT_TO_USER;
	}

	data = 0;
	if (write) {
		data = lv_mmio_store_data(insn, insn->has_imm ? 0 :
					  vcpu->regs[insn->reg]);
		if (insn->string)
			data = lv_mmio_store_data(insn, vcpu->regs[LV_RAX]);
	}
	/* The local APIC and I/O APIC pages never leave the kernel. */
	if (vcpu->lapic && lv_irqchip_mmio(vcpu, gpa, write, insn->size, &data)) {
		lv_mmio_finish(vcpu, data);
		return LV_RESUME_GUEST;
	}

	run->exit_reason = LV_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = insn->size;
	run->mmio.is_write = write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write)
		memcpy(run->mmio.data, &data, insn->size);
	vcpu->mmio_pending = true;
	return LV_EXIT_TO_USER;
}

/* Userspace emulated the access: finish the instruction. */
int lv_complete_mmio(struct lv_vcpu *vcpu)
{
	u64 data = 0;

	vcpu->mmio_pending = false;
	memcpy(&data, vcpu->run->mmio.data, vcpu->mmio_insn.size);
	lv_mmio_finish(vcpu, data);
	return 0;
}

/* Finish the decoded instruction; @data is what a load reads. */
static void lv_mmio_finish(struct lv_vcpu *vcpu, u64 data)
{
	struct lv_mmio_insn *insn = &vcpu->mmio_insn;
	unsigned long *regs = vcpu->regs;
	long step;

	if (insn->op == LV_MMIO_LOAD)
		regs[insn->reg] = lv_mmio_load_result(insn, regs[insn->reg],
						      data);
	if (!insn->string) {
		lv_vendor->advance_rip(vcpu, insn->len);
		return;
	}

	/* STOS: step rDI by one element; with REP, count rCX down. */
	step = lv_vendor->get_rflags(vcpu) & X86_EFLAGS_DF ?
	       -(long)insn->size : insn->size;
	lv_string_reg_add(vcpu, LV_RDI, step, insn->addr_size);
	/* With RCX left, the guest re-executes for the next element. */
	if (insn->rep && lv_string_reg_add(vcpu, LV_RCX, -1, insn->addr_size))
		return;
	lv_vendor->advance_rip(vcpu, insn->len);
}
