// SPDX-License-Identifier: GPL-2.0
/*
 * SVM exits: one handler per exit code, each sending the guest to the
 * same lv_run exit the VMX backend gives the same event.
 *
 * A CPU without next-RIP saving or decode assists (QEMU's emulated SVM
 * has neither) reports neither the length of the instruction that exited
 * nor its operands: the instruction at RIP is decoded instead.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": svm: " fmt
#define LV_SVM_INTERNAL

#include <linux/nospec.h>
#include <asm/cpu.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/traps.h>

#include "svm.h"
#include "../trace.h"
#include "irq/lapic.h"

/* Exit codes 0x00-0x1f are CR reads and writes, 0x20-0x3f DR ones. */
#define LV_SVM_EXIT_LAST_CR	0x1f
#define LV_SVM_EXIT_LAST_DR	0x3f

typedef enum lv_exit_action (*lv_svm_handler_t)(struct lv_svm_vcpu *svm);

static enum lv_exit_action lv_inject_gp(struct lv_svm_vcpu *svm)
{
	return lv_inject_exception(&svm->vcpu, X86_TRAP_GP, 0);
}

static enum lv_exit_action lv_inject_ud(struct lv_svm_vcpu *svm)
{
	return lv_inject_exception(&svm->vcpu, X86_TRAP_UD, 0);
}

static enum lv_exit_action lv_skip(struct lv_svm_vcpu *svm)
{
	lv_svm_skip_instruction(&svm->vcpu);
	return LV_RESUME_GUEST;
}

static enum lv_exit_action handle_nothing(struct lv_svm_vcpu *svm)
{
	return LV_RESUME_GUEST;
}

static enum lv_exit_action handle_unexpected(struct lv_svm_vcpu *svm)
{
	static DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 2);
	struct vmcb *vmcb = svm->vmcb;

	if (__ratelimit(&rs)) {
		pr_err("vCPU %u: exit code %#x info %#llx %#llx\n",
		       svm->vcpu.id, svm->exit_code, vmcb->control.exit_info_1,
		       vmcb->control.exit_info_2);
		pr_err("  RIP %#llx RSP %#llx RFLAGS %#llx CR0 %#llx CR3 %#llx CR4 %#llx EFER %#llx; EXITINTINFO %#x\n",
		       vmcb->save.rip, vmcb->save.rsp, vmcb->save.rflags,
		       vmcb->save.cr0, vmcb->save.cr3, vmcb->save.cr4,
		       vmcb->save.efer, vmcb->control.exit_int_info);
	}
	return lv_internal_error(&svm->vcpu, LV_INTERNAL_ERROR_UNHANDLED_EXIT,
				 svm->exit_code);
}

static unsigned long lv_get_gpr(struct lv_svm_vcpu *svm, unsigned int reg)
{
	return reg == LV_RSP ? svm->vmcb->save.rsp : svm->vcpu.regs[reg];
}

static void lv_set_gpr(struct lv_svm_vcpu *svm, unsigned int reg,
		       unsigned long val)
{
	if (reg == LV_RSP)
		svm->vmcb->save.rsp = val;
	else
		svm->vcpu.regs[reg] = val;
}

static bool lv_in_64bit_mode(struct lv_svm_vcpu *svm)
{
	return (svm->vmcb->save.efer & EFER_LMA) &&
	       (svm->vmcb->save.cs.attrib & BIT(9));
}

/* --- exceptions --- */

/*
 * A #DB in the guest: the CPU already put its DR6 bits into the guest's
 * DR6 (the VMCB's); reflect it. ICEBP comes as its own intercept.
 */
static enum lv_exit_action handle_db(struct lv_svm_vcpu *svm)
{
	if (lv_svm_nmi_singlestep_done(svm))
		return LV_RESUME_GUEST;
	return lv_inject_exception(&svm->vcpu, X86_TRAP_DB, 0);
}

/* INT1: completed, then the #DB it raises, as under VMX. */
static enum lv_exit_action handle_icebp(struct lv_svm_vcpu *svm)
{
	lv_svm_skip_instruction(&svm->vcpu);
	return lv_inject_exception(&svm->vcpu, X86_TRAP_DB, 0);
}

/*
 * #AC is the guest's when it asked for alignment checks (CPL 3, CR0.AM,
 * RFLAGS.AC), or when the host cannot tell split-lock #ACs apart.
 * Otherwise it is a split lock the host's detection caught; the kernel
 * decides (warn and let the task go on, or kill it).
 */
static enum lv_exit_action handle_ac(struct lv_svm_vcpu *svm)
{
	struct vmcb_save_area *save = &svm->vmcb->save;

	if (!boot_cpu_has(X86_FEATURE_SPLIT_LOCK_DETECT) ||
	    (save->cpl == 3 && (svm->cr0 & X86_CR0_AM) &&
	     (save->rflags & X86_EFLAGS_AC)))
		return lv_inject_exception(&svm->vcpu, X86_TRAP_AC, 0);
	if (handle_guest_split_lock(save->rip))
		return LV_RESUME_GUEST;
	return handle_unexpected(svm);
}

/*
 * #UD: guests written for VMX make hypercalls with VMCALL, which AMD
 * CPUs do not know; it is the same hypercall as VMMCALL. Anything else
 * is the guest's own #UD.
 */
static enum lv_exit_action handle_ud(struct lv_svm_vcpu *svm)
{
	struct lv_sys_insn insn;

	if (lv_decode_sys_at_rip(&svm->vcpu, &insn))
		return lv_inject_ud(svm);
	svm->insn_len = insn.len;
	if (insn.opcode == 0x01 && (insn.modrm == 0xc1 || insn.modrm == 0xd9))
		return lv_handle_hypercall(&svm->vcpu);
	/* QEMU 7.2 raises #UD for INT1 where a CPU raises #DB. */
	if (insn.opcode == (LV_SYS_ONE_BYTE | 0xf1))
		return handle_icebp(svm);
	return lv_inject_ud(svm);
}

/* --- control and debug registers --- */

/*
 * PAE paging without long mode reads its PDPTEs when CR0/CR4 change:
 * check them, so that a bad one is #GP for the guest (with nested paging
 * the CPU reads them itself at VMRUN, never at a MOV that exited).
 */
static bool lv_pdptes_bad(struct lv_svm_vcpu *svm, u64 cr0, u64 cr4, u64 efer)
{
	u64 pdpte[4];

	return lv_pae_paging(cr0, cr4, efer) &&
	       lv_load_pdptes_rsvd(svm->vcpu.vm, svm->vmcb->save.cr3, pdpte,
				   LV_SVM_PDPTE_RSVD);
}

static enum lv_exit_action lv_write_cr0(struct lv_svm_vcpu *svm, u64 cr0)
{
	u64 efer = svm->vmcb->save.efer & ~EFER_SVME;
	u64 cr4 = svm->vmcb->save.cr4;

	if (!lv_cr0_write(svm->cr0, cr0, cr4, &efer, lv_in_64bit_mode(svm)))
		return lv_inject_gp(svm);
	if (lv_pdptes_bad(svm, cr0, cr4, efer))
		return lv_inject_gp(svm);
	lv_svm_set_efer(svm, efer);
	lv_svm_set_cr0(svm, cr0);
	return lv_skip(svm);
}

static enum lv_exit_action lv_write_cr4(struct lv_svm_vcpu *svm, u64 cr4)
{
	u64 efer = svm->vmcb->save.efer & ~EFER_SVME;

	if (!lv_cr4_write_ok(svm->vmcb->save.cr4, cr4, efer & EFER_LMA,
			     svm->vmcb->save.cr3))
		return lv_inject_gp(svm);
	if (lv_pdptes_bad(svm, svm->cr0, cr4, efer))
		return lv_inject_gp(svm);
	lv_svm_set_cr4(svm, cr4);
	return lv_skip(svm);
}

static enum lv_exit_action lv_write_cr8(struct lv_svm_vcpu *svm,
					unsigned long val)
{
	if (val > 15)
		return lv_inject_gp(svm);
	svm->cr8 = val;
	/* CR8 is the APIC's TPR[7:4]. */
	if (svm->vcpu.lapic)
		lv_lapic_set_tpr(svm->vcpu.lapic, val << 4);
	return lv_skip(svm);
}

/* 0F 01 /4 SMSW, /6 LMSW, in their register forms. */
#define LV_GRP7_SMSW	4
#define LV_GRP7_LMSW	6

static enum lv_exit_action handle_cr(struct lv_svm_vcpu *svm,
				     const struct lv_sys_insn *insn)
{
	unsigned int grp7 = (insn->modrm >> 3) & 7;
	unsigned long val;

	switch (insn->opcode) {
	case 0x06:				/* CLTS */
		return lv_write_cr0(svm, svm->cr0 & ~X86_CR0_TS);
	case 0x01:
		if (grp7 == LV_GRP7_LMSW) {
			/* LMSW sets PE but never clears it. */
			val = lv_get_gpr(svm, insn->rm) & 0xf;
			val |= svm->cr0 & X86_CR0_PE;
			return lv_write_cr0(svm, (svm->cr0 & ~0xfUL) | val);
		}
		if (grp7 == LV_GRP7_SMSW) {
			lv_set_gpr(svm, insn->rm, svm->cr0);
			return lv_skip(svm);
		}
		break;
	case 0x22:				/* MOV to CR */
		val = lv_get_gpr(svm, insn->rm);
		if (!lv_in_64bit_mode(svm))
			val = (u32)val;
		switch (insn->reg) {
		case 0:
			return lv_write_cr0(svm, val);
		case 4:
			return lv_write_cr4(svm, val);
		case 8:
			return lv_write_cr8(svm, val);
		}
		break;
	case 0x20:				/* MOV from CR */
		if (insn->reg == 0) {
			val = svm->cr0;
		} else if (insn->reg == 8) {
			if (svm->vcpu.lapic)
				svm->cr8 = lv_lapic_get_tpr(svm->vcpu.lapic) >> 4;
			val = svm->cr8;
		} else {
			break;
		}
		lv_set_gpr(svm, insn->rm, val);
		return lv_skip(svm);
	}
	return handle_unexpected(svm);
}

/*
 * The guest's debug registers: DR0-DR3 in software (loaded into hardware
 * while its DR7 enables a breakpoint), DR6 and DR7 in the VMCB. MOV DR
 * always exits, as under VMX.
 */
static enum lv_exit_action handle_dr(struct lv_svm_vcpu *svm,
				     const struct lv_sys_insn *insn)
{
	struct vmcb_save_area *save = &svm->vmcb->save;
	unsigned int dr = insn->reg;
	unsigned long val;

	if (insn->opcode != 0x21 && insn->opcode != 0x23)
		return handle_unexpected(svm);
	if (dr > 7)
		return lv_inject_ud(svm);
	if (dr == 4 || dr == 5) {
		if (save->cr4 & X86_CR4_DE)
			return lv_inject_ud(svm);
		dr += 2;
	}
	/* General detect: the #DB the access raises, DR6.BD set, GD off. */
	if (save->dr7 & LV_DR7_GD) {
		save->dr6 = (save->dr6 & ~(u64)DR_TRAP_BITS) | LV_DR6_BD;
		lv_svm_set_dr7(svm, save->dr7 & ~LV_DR7_GD);
		return lv_inject_exception(&svm->vcpu, X86_TRAP_DB, 0);
	}
	if (insn->opcode == 0x21) {		/* MOV from DR */
		if (dr == 7)
			val = save->dr7;
		else if (dr == 6)
			val = save->dr6;
		else
			val = svm->dr[dr];
		lv_set_gpr(svm, insn->rm, val);
		return lv_skip(svm);
	}
	val = lv_get_gpr(svm, insn->rm);
	if (dr >= 6 && val >> 32)
		return lv_inject_gp(svm);
	if (dr == 7)
		lv_svm_set_dr7(svm, val);
	else if (dr == 6)
		save->dr6 = (val & LV_DR6_VOLATILE) | LV_DR6_RESET;
	else
		svm->dr[dr] = val;
	return lv_skip(svm);
}

/* --- instructions --- */

static enum lv_exit_action handle_cpuid(struct lv_svm_vcpu *svm)
{
	lv_cpuid_exit(&svm->vcpu, svm->vmcb->save.cr4, svm->xcr0);
	return lv_skip(svm);
}

static enum lv_exit_action handle_hlt(struct lv_svm_vcpu *svm)
{
	return lv_handle_halt(&svm->vcpu,
			      svm->vmcb->save.rflags & X86_EFLAGS_IF);
}

static enum lv_exit_action handle_vmmcall(struct lv_svm_vcpu *svm)
{
	return lv_handle_hypercall(&svm->vcpu);
}

static enum lv_exit_action handle_xsetbv(struct lv_svm_vcpu *svm)
{
	unsigned long *regs = svm->vcpu.regs;
	u64 value = (u32)regs[LV_RAX] | ((u64)(u32)regs[LV_RDX] << 32);

	if ((u32)regs[LV_RCX] != 0 || !lv_xcr0_valid(&svm->vcpu, value))
		return lv_inject_gp(svm);
	lv_svm_set_xcr0(svm, value);
	return lv_skip(svm);
}

static enum lv_exit_action handle_msr(struct lv_svm_vcpu *svm)
{
	unsigned long *regs = svm->vcpu.regs;
	u32 index = regs[LV_RCX];
	u64 value;
	int ret;

	if (!svm->vmcb->control.exit_info_1) {		/* RDMSR */
		if (lv_svm_get_msr(svm, index, &value))
			return lv_inject_gp(svm);
		regs[LV_RAX] = lower_32_bits(value);
		regs[LV_RDX] = upper_32_bits(value);
		return lv_skip(svm);
	}
	value = (u32)regs[LV_RAX] | ((u64)(u32)regs[LV_RDX] << 32);
	/* Every interrupt handler's EOI: straight to the APIC. */
	if (index == LV_X2APIC_MSR_BASE + (APIC_EOI >> 4) && svm->vcpu.lapic)
		ret = lv_lapic_x2apic_eoi(svm->vcpu.lapic, value);
	else
		ret = lv_svm_set_msr(svm, index, value);
	if (ret)
		return lv_inject_gp(svm);
	return lv_skip(svm);
}

/*
 * The memory operand of INS (ES:rDI) or OUTS (DS:rSI or the override):
 * SVM reports only the port. Segment bases other than FS and GS are 0 in
 * 64-bit mode.
 */
static u64 lv_string_io_addr(struct lv_svm_vcpu *svm, bool in,
			     unsigned int addr_size, unsigned int seg)
{
	u64 ea = lv_get_gpr(svm, in ? LV_RDI : LV_RSI) & lv_addr_mask(addr_size);

	if (in || seg == LV_SEG_NONE)
		seg = in ? LV_SEG_ES : LV_SEG_DS;
	if (lv_in_64bit_mode(svm) && seg != LV_SEG_FS && seg != LV_SEG_GS)
		return ea;
	ea += lv_vendor->get_seg_base(&svm->vcpu, seg);
	return lv_in_64bit_mode(svm) ? ea : (u32)ea;
}

/* EXITINFO1 of an IOIO intercept (APM vol. 2, 15.10.2). */
#define LV_IOIO_IN		BIT(0)
#define LV_IOIO_STR		BIT(2)
#define LV_IOIO_REP		BIT(3)
#define LV_IOIO_SZ_SHIFT	4	/* one-hot: 8, 16, 32 bits */

static enum lv_exit_action handle_io(struct lv_svm_vcpu *svm)
{
	u64 info = svm->vmcb->control.exit_info_1;
	struct lv_pio_exit io = {
		.in = info & LV_IOIO_IN,
		.string = info & LV_IOIO_STR,
		.rep = info & LV_IOIO_REP,
		.size = (info >> LV_IOIO_SZ_SHIFT) & 7,
		.port = info >> 16,
	};
	struct lv_sys_insn insn = { };

	/* EXITINFO2 is the next RIP, whatever the CPU's features. */
	svm->insn_len = svm->vmcb->control.exit_info_2 - svm->vmcb->save.rip;
	if (io.size != 1 && io.size != 2 && io.size != 4)
		return handle_unexpected(svm);
	/*
	 * String forms: the address size and segment come from the
	 * instruction, not from EXITINFO1 (QEMU 7.2 reports its address
	 * size one bit off).
	 */
	if (io.string) {
		if (lv_decode_sys_at_rip(&svm->vcpu, &insn))
			return lv_internal_error(&svm->vcpu,
						 LV_INTERNAL_ERROR_EMULATION,
						 svm->vmcb->save.rip);
		io.addr_size = insn.addr_size;
		io.linear_addr = lv_string_io_addr(svm, io.in, io.addr_size,
						   insn.seg);
		io.df = svm->vmcb->save.rflags & X86_EFLAGS_DF;
	}
	return lv_handle_pio(&svm->vcpu, &io);
}

static enum lv_exit_action handle_shutdown(struct lv_svm_vcpu *svm)
{
	svm->vcpu.run->exit_reason = LV_EXIT_SHUTDOWN;
	return LV_EXIT_TO_USER;
}

static enum lv_exit_action handle_vintr(struct lv_svm_vcpu *svm)
{
	struct lv_run *run = svm->vcpu.run;
	struct vmcb_control_area *c = &svm->vmcb->control;

	c->int_ctl &= ~V_IRQ_INJECTION_BITS_MASK;
	lv_svm_set_intercept(svm, INTERCEPT_VINTR, false);
	if (!run->request_interrupt_window || svm->vcpu.pending_irq)
		return LV_RESUME_GUEST;
	run->exit_reason = LV_EXIT_IRQ_WINDOW_OPEN;
	run->ready_for_interrupt_injection = 1;
	run->if_flag = 1;
	return LV_EXIT_TO_USER;
}

/*
 * The NMI handler's IRET: NMIs unblock once it completed, which the
 * single step of an NMI window or the next exit with RIP elsewhere shows
 * (lv_svm_complete_events()).
 */
static enum lv_exit_action handle_iret(struct lv_svm_vcpu *svm)
{
	lv_svm_set_intercept(svm, INTERCEPT_IRET, false);
	svm->awaiting_iret = true;
	svm->iret_rip = svm->vmcb->save.rip;
	return LV_RESUME_GUEST;
}

/* EXITINFO1 of a nested page fault: the #PF error code bits. */
#define LV_NPF_WRITE		BIT_ULL(1)
#define LV_NPF_FETCH		BIT_ULL(4)

static enum lv_exit_action handle_npf(struct lv_svm_vcpu *svm)
{
	u64 info = svm->vmcb->control.exit_info_1;
	u64 gpa = svm->vmcb->control.exit_info_2;
	bool write = info & LV_NPF_WRITE;
	int ret;

	ret = lv_mmu_page_fault(&svm->vcpu, gpa, write);
	if (!ret)
		return LV_RESUME_GUEST;
	if (ret != -ENOENT)
		return lv_internal_error(&svm->vcpu,
					 LV_INTERNAL_ERROR_HOST_FAULT, gpa);
	/*
	 * Delivering an event touched MMIO (an IDT, GDT or stack there):
	 * RIP is not the instruction that made the access, so there is
	 * nothing to emulate, as under VMX.
	 */
	if (svm->vcpu.event.valid)
		return lv_internal_error(&svm->vcpu,
					 LV_INTERNAL_ERROR_DELIVERY_EV, gpa);
	/* Not RAM: code cannot run from a device. */
	if (info & LV_NPF_FETCH)
		return lv_internal_error(&svm->vcpu,
					 LV_INTERNAL_ERROR_EMULATION, gpa);
	return lv_handle_mmio(&svm->vcpu, gpa, write);
}

static enum lv_exit_action handle_exception(struct lv_svm_vcpu *svm)
{
	switch (svm->exit_code - SVM_EXIT_EXCP_BASE) {
	case X86_TRAP_DB:
		return handle_db(svm);
	case X86_TRAP_AC:
		return handle_ac(svm);
	case X86_TRAP_UD:
		return handle_ud(svm);
	case X86_TRAP_MC:
		/* The host's handler saw it already. */
		return LV_RESUME_GUEST;
	}
	return handle_unexpected(svm);
}

/* Indexed by exit code - SVM_EXIT_INTR. */
static const lv_svm_handler_t lv_svm_handlers[] = {
	[SVM_EXIT_INTR - SVM_EXIT_INTR]	= handle_nothing,
	[SVM_EXIT_NMI - SVM_EXIT_INTR]	= handle_nothing,
	[SVM_EXIT_SMI - SVM_EXIT_INTR]	= handle_nothing,
	[SVM_EXIT_VINTR - SVM_EXIT_INTR]	= handle_vintr,
	[SVM_EXIT_CPUID - SVM_EXIT_INTR]	= handle_cpuid,
	[SVM_EXIT_RSM - SVM_EXIT_INTR]	= lv_inject_ud,
	[SVM_EXIT_IRET - SVM_EXIT_INTR]	= handle_iret,
	[SVM_EXIT_INVD - SVM_EXIT_INTR]	= lv_skip,
	[SVM_EXIT_HLT - SVM_EXIT_INTR]	= handle_hlt,
	[SVM_EXIT_RDPMC - SVM_EXIT_INTR]	= lv_inject_gp,
	[SVM_EXIT_INVLPGA - SVM_EXIT_INTR]	= lv_inject_ud,
	[SVM_EXIT_IOIO - SVM_EXIT_INTR]	= handle_io,
	[SVM_EXIT_MSR - SVM_EXIT_INTR]	= handle_msr,
	[SVM_EXIT_SHUTDOWN - SVM_EXIT_INTR]	= handle_shutdown,
	[SVM_EXIT_VMRUN - SVM_EXIT_INTR]	= lv_inject_ud,
	[SVM_EXIT_VMMCALL - SVM_EXIT_INTR]	= handle_vmmcall,
	[SVM_EXIT_VMLOAD - SVM_EXIT_INTR]	= lv_inject_ud,
	[SVM_EXIT_VMSAVE - SVM_EXIT_INTR]	= lv_inject_ud,
	[SVM_EXIT_STGI - SVM_EXIT_INTR]	= lv_inject_ud,
	[SVM_EXIT_CLGI - SVM_EXIT_INTR]	= lv_inject_ud,
	[SVM_EXIT_SKINIT - SVM_EXIT_INTR]	= lv_inject_ud,
	[SVM_EXIT_ICEBP - SVM_EXIT_INTR]	= handle_icebp,
	[SVM_EXIT_WBINVD - SVM_EXIT_INTR]	= lv_skip,
	[SVM_EXIT_MONITOR - SVM_EXIT_INTR]	= lv_skip,
	[SVM_EXIT_MWAIT - SVM_EXIT_INTR]	= lv_skip,
	[SVM_EXIT_MWAIT_COND - SVM_EXIT_INTR]	= lv_skip,
	[SVM_EXIT_XSETBV - SVM_EXIT_INTR]	= handle_xsetbv,
	[SVM_EXIT_RDPRU - SVM_EXIT_INTR]	= lv_inject_ud,
};

static lv_svm_handler_t lv_svm_handler(u32 code)
{
	unsigned int i = code - SVM_EXIT_INTR;

	if (code < SVM_EXIT_INTR || i >= ARRAY_SIZE(lv_svm_handlers))
		return NULL;
	i = array_index_nospec(i, ARRAY_SIZE(lv_svm_handlers));
	return lv_svm_handlers[i];
}

/* Exits of an instruction that the handler may complete (skip). */
static bool lv_svm_insn_exit(u32 code)
{
	switch (code) {
	case SVM_EXIT_READ_CR0 ... LV_SVM_EXIT_LAST_DR:
	case SVM_EXIT_CPUID:
	case SVM_EXIT_INVD:
	case SVM_EXIT_HLT:
	case SVM_EXIT_MSR:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_ICEBP:
	case SVM_EXIT_WBINVD:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
	case SVM_EXIT_XSETBV:
		return true;
	}
	return false;
}

/*
 * Measure the instruction that exited: from the next RIP the CPU saved,
 * or by decoding it. Return: false if it cannot be decoded (the guest
 * changed it under us, say).
 */
static bool lv_svm_measure(struct lv_svm_vcpu *svm, struct lv_sys_insn *insn)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	bool cr_dr = svm->exit_code < SVM_EXIT_EXCP_BASE;

	if (!cr_dr && lv_svm_nrips() && c->next_rip) {
		svm->insn_len = c->next_rip - svm->vmcb->save.rip;
		return true;
	}
	if (lv_decode_sys_at_rip(&svm->vcpu, insn))
		return false;
	svm->insn_len = insn->len;
	return true;
}

enum lv_exit_action lv_svm_handle_exit(struct lv_svm_vcpu *svm)
{
	u32 code = svm->exit_code;
	struct lv_sys_insn insn = { };
	lv_svm_handler_t handler;

	svm->vcpu.run->hw_exit_reason = code;
	if (trace_lv_exit_enabled())
		trace_lv_exit(svm->vcpu.id, code, svm->vmcb->save.rip,
			      svm->vmcb->control.exit_info_1);
	svm->insn_len = 0;
	if (lv_svm_insn_exit(code) && !lv_svm_measure(svm, &insn))
		return lv_internal_error(&svm->vcpu, LV_INTERNAL_ERROR_EMULATION,
					 svm->vmcb->save.rip);
	if (code <= LV_SVM_EXIT_LAST_CR)
		return handle_cr(svm, &insn);
	if (code <= LV_SVM_EXIT_LAST_DR)
		return handle_dr(svm, &insn);
	if (code < SVM_EXIT_INTR)
		return handle_exception(svm);
	if (code == SVM_EXIT_NPF)
		return handle_npf(svm);
	handler = lv_svm_handler(code);
	if (!handler)
		return handle_unexpected(svm);
	return handler(svm);
}
