// SPDX-License-Identifier: GPL-2.0
/*
 * VM exits: one handler per basic exit reason, in one table.
 *
 * A handler returns LV_RESUME_GUEST when the exit is dealt with in the
 * kernel, or LV_EXIT_TO_USER with the run structure filled in. An exit
 * nobody expects is reported to userspace as an internal error with the
 * VMCS dumped to the kernel log: the guest stops, the host goes on.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": vmx: " fmt
#define LV_VMX_INTERNAL

#include <linux/nospec.h>
#include <asm/cpu.h>
#include <asm/cpufeature.h>
#include <asm/fpu/xcr.h>
#include <asm/processor.h>
#include <asm/traps.h>

#include "vmx.h"
#include "vmcs.h"
#include "../trace.h"
#include "irq/irqchip.h"
#include "irq/lapic.h"

static unsigned long lv_vmx_exit_qual(struct lv_vmx_vcpu *vmx)
{
	return vmcs_readl(EXIT_QUALIFICATION);
}

/* The core applies the SDM's rules (error code only in protected mode). */
static enum lv_exit_action lv_inject_gp(struct lv_vmx_vcpu *vmx)
{
	return lv_inject_exception(&vmx->vcpu, X86_TRAP_GP, 0);
}

static enum lv_exit_action lv_inject_ud(struct lv_vmx_vcpu *vmx)
{
	return lv_inject_exception(&vmx->vcpu, X86_TRAP_UD, 0);
}

static enum lv_exit_action lv_skip(struct lv_vmx_vcpu *vmx)
{
	lv_vmx_skip_instruction(&vmx->vcpu);
	return LV_RESUME_GUEST;
}

static enum lv_exit_action handle_nothing(struct lv_vmx_vcpu *vmx)
{
	return LV_RESUME_GUEST;
}

/*
 * The guest lowered its TPR shadow below the threshold: an interrupt it
 * held back may be taken now. The exit path already copied VTPR into
 * the APIC; the next entry injects the vector or opens a window. A trap:
 * RIP is past the MOV to CR8 already.
 */
static enum lv_exit_action handle_tpr_below_threshold(struct lv_vmx_vcpu *vmx)
{
	return LV_RESUME_GUEST;
}

/*
 * The guest ended a vector (EOI virtualization): its ISR bit is already
 * clear in the virtual-APIC page, and so in the APIC. A trap, like the
 * TPR one. The EOI-exit bitmap is the TMR, or at times every vector
 * (vid_erratum in vmx.c): only a level-triggered one goes on to the I/O
 * APIC.
 */
static enum lv_exit_action handle_eoi_induced(struct lv_vmx_vcpu *vmx)
{
	unsigned int vector = lv_vmx_exit_qual(vmx) & 0xff;

	if (test_bit(vector, (unsigned long *)vmx->tmr))
		lv_lapic_level_eoi(vmx->vcpu.lapic, vector);
	return LV_RESUME_GUEST;
}

/* The 10 ms bound, or the local APIC's TSC deadline (see vmx.c). */
static enum lv_exit_action handle_preemption_timer(struct lv_vmx_vcpu *vmx)
{
	if (vmx->vcpu.lapic)
		lv_lapic_hv_timer_expired(vmx->vcpu.lapic);
	return LV_RESUME_GUEST;
}

static void lv_vmx_dump_vmcs(struct lv_vmx_vcpu *vmx)
{
	pr_err("vCPU %u: exit reason %#x qualification %#lx\n",
	       vmx->vcpu.id, vmx->exit_reason, lv_vmx_exit_qual(vmx));
	pr_err("  RIP %#lx RSP %#lx RFLAGS %#lx CR0 %#lx CR3 %#lx CR4 %#lx EFER %#llx\n",
	       vmcs_readl(GUEST_RIP), vmcs_readl(GUEST_RSP),
	       vmcs_readl(GUEST_RFLAGS), vmcs_readl(GUEST_CR0),
	       vmcs_readl(GUEST_CR3), vmcs_readl(GUEST_CR4),
	       vmcs_read64(GUEST_IA32_EFER));
	pr_err("  CS %#x base %#lx AR %#x; intr info %#x; IDT vectoring %#x\n",
	       vmcs_read16(GUEST_CS_SELECTOR), vmcs_readl(GUEST_CS_BASE),
	       vmcs_read32(GUEST_CS_AR_BYTES), vmcs_read32(VM_EXIT_INTR_INFO),
	       vmcs_read32(IDT_VECTORING_INFO_FIELD));
}

static enum lv_exit_action handle_unexpected(struct lv_vmx_vcpu *vmx)
{
	static DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 2);

	if (__ratelimit(&rs))
		lv_vmx_dump_vmcs(vmx);
	return lv_internal_error(&vmx->vcpu, LV_INTERNAL_ERROR_UNHANDLED_EXIT,
				 vmx->exit_reason);
}

/*
 * A write the CPU did not virtualize: with virtual-interrupt delivery and
 * no APIC-register virtualization, only a SELF IPI of a vector below 16
 * (SDM vol. 3C, 30.5). The APIC refuses it as it would (ESR).
 */
static enum lv_exit_action handle_apic_write(struct lv_vmx_vcpu *vmx)
{
	unsigned int off = lv_vmx_exit_qual(vmx) & 0xff0;
	struct lv_lapic *apic = vmx->vcpu.lapic;
	u32 val;

	if (!vmx->virt_apic)
		return handle_unexpected(vmx);
	val = READ_ONCE(*(u32 *)(vmx->virt_apic + off));
	if (off == APIC_SELF_IPI && vmx->x2apic_virt) {
		lv_lapic_msr_write(apic, LV_X2APIC_MSR_BASE + (APIC_SELF_IPI >> 4),
				   val & 0xff);
		return LV_RESUME_GUEST;
	}
	/*
	 * The xAPIC page: a write to the ICR's low half that the CPU did not
	 * take as a self-IPI (SDM vol. 3C, 30.4.3.2) is in the virtual-APIC
	 * page; the high half went through an APIC-access exit already.
	 */
	if (off == APIC_ICR && vmx->apic_access) {
		lv_lapic_write(apic, APIC_ICR, val);
		return LV_RESUME_GUEST;
	}
	return handle_unexpected(vmx);
}

/* An APIC-access exit's qualification (SDM vol. 3C, table 28-6). */
#define LV_APIC_ACCESS_OFFSET(qual)	((qual) & 0xfff)
#define LV_APIC_ACCESS_TYPE(qual)	(((qual) >> 12) & 0xf)
#define LV_APIC_ACCESS_LINEAR_READ	0
#define LV_APIC_ACCESS_LINEAR_WRITE	1

/*
 * The guest's xAPIC page, through the APIC-access page: an instruction's
 * read or write of a register that the CPU did not virtualize. The
 * address comes with the exit, so the emulator needs no walk to find it.
 * A fetch from the page, or an access while delivering an event (an IDT
 * or a stack on the APIC page), has no instruction at RIP to emulate: as
 * for MMIO, the VM stops with the cause named.
 */
static enum lv_exit_action handle_apic_access(struct lv_vmx_vcpu *vmx)
{
	unsigned long qual = lv_vmx_exit_qual(vmx);
	unsigned int type = LV_APIC_ACCESS_TYPE(qual);
	u64 gpa = APIC_DEFAULT_PHYS_BASE + LV_APIC_ACCESS_OFFSET(qual);

	if (vmx->vcpu.event.valid ||
	    (vmcs_read32(IDT_VECTORING_INFO_FIELD) & VECTORING_INFO_VALID_MASK))
		return lv_internal_error(&vmx->vcpu,
					 LV_INTERNAL_ERROR_DELIVERY_EV, gpa);
	if (type != LV_APIC_ACCESS_LINEAR_READ &&
	    type != LV_APIC_ACCESS_LINEAR_WRITE)
		return lv_internal_error(&vmx->vcpu,
					 LV_INTERNAL_ERROR_EMULATION, gpa);
	return lv_handle_mmio(&vmx->vcpu, gpa,
			      type == LV_APIC_ACCESS_LINEAR_WRITE);
}

/*
 * Is the event whose delivery the exit cut short a #DB trap (single step,
 * task switch, data breakpoint, or ICEBP, which lightvisor reflects with
 * RIP already past it)? Only instruction breakpoints and general detect
 * are faults, raised again when the instruction runs again; a #DB with
 * neither is a single step, a task switch or ICEBP. Read before this
 * exit's own #DB updates DR6.
 */
static bool lv_vmx_delivering_db_trap(struct lv_vmx_vcpu *vmx)
{
	const struct lv_event *ev = &vmx->vcpu.event;
	unsigned long dr6 = vmx->dr[4], dr7 = vmx->dr[7];
	bool fault = dr6 & LV_DR6_BD;
	int i;

	if (!ev->valid || ev->type != LV_EVENT_EXCEPTION ||
	    ev->vector != X86_TRAP_DB)
		return false;
	/* B0-B3 are this #DB's own; BS, BT and BD may be left from before. */
	for (i = 0; i < 4; i++) {
		if (!(dr6 & BIT(i)))
			continue;
		if ((dr7 >> (DR_CONTROL_SHIFT + i * DR_CONTROL_SIZE)) & 3)
			return true;	/* data or I/O breakpoint */
		fault = true;		/* instruction breakpoint */
	}
	return !fault;
}

/*
 * A #DB in the guest: reflect it, with its DR6 bits in the guest's DR6
 * (the exit qualification has them active-high, as the pending debug
 * exceptions field does; SDM vol. 3C, 28.2.1).
 */
static enum lv_exit_action handle_guest_db(struct lv_vmx_vcpu *vmx, u32 info)
{
	bool trap_in_delivery = lv_vmx_delivering_db_trap(vmx);
	unsigned long payload = lv_vmx_exit_qual(vmx) & LV_DR6_VOLATILE;
	unsigned long dr6 = vmx->dr[4] & ~(unsigned long)DR_TRAP_BITS;

	dr6 |= LV_DR6_RESET | payload;
	vmx->dr[4] = dr6;
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION) {
		/* ICEBP (INT1) exits as an instruction, before it completes. */
		lv_vmx_skip_instruction(&vmx->vcpu);
	} else if ((vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_TF) &&
		   (vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) &
		    (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))) {
		/* VM entry checks that a single step is pending here. */
		vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS,
			    vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) | LV_DR6_BS);
	}
	if (trap_in_delivery)
		return lv_inject_exception_first(&vmx->vcpu, X86_TRAP_DB, 0);
	return lv_inject_exception(&vmx->vcpu, X86_TRAP_DB, 0);
}

/*
 * #AC is the guest's when it asked for alignment checks (CPL 3, CR0.AM,
 * RFLAGS.AC), or when the host cannot tell split-lock #ACs apart.
 * Otherwise it is a split lock the host's detection caught; the kernel
 * decides (warn and let the task go on, or kill it).
 */
static enum lv_exit_action handle_guest_ac(struct lv_vmx_vcpu *vmx)
{
	/* SS.DPL is the CPL. */
	unsigned int cpl = (vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3;

	if (!boot_cpu_has(X86_FEATURE_SPLIT_LOCK_DETECT) ||
	    (cpl == 3 &&
	     (lv_vmx_read_cr0(vmx) & X86_CR0_AM) &&
	     (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_AC))) {
		if (lv_vmx_delivering_db_trap(vmx))
			return lv_inject_exception_first(&vmx->vcpu,
							 X86_TRAP_AC, 0);
		return lv_inject_exception(&vmx->vcpu, X86_TRAP_AC, 0);
	}
	if (handle_guest_split_lock(vmcs_readl(GUEST_RIP)))
		return LV_RESUME_GUEST;
	return handle_unexpected(vmx);
}

/*
 * An IRET that unblocked NMIs faulted before it completed: NMIs are
 * blocked again, as they were, since the IRET runs again (SDM vol. 3C,
 * 28.2.3), for EPT violations and exceptions alike. Not so for an exit
 * during event delivery, where the bit is undefined.
 */
static void lv_recover_nmi_blocking(struct lv_vmx_vcpu *vmx, bool unblocked)
{
	u32 intr_state;

	if (!unblocked || vmx->vcpu.event.valid ||
	    !(lv_vmcs_config.pin & PIN_BASED_VIRTUAL_NMIS))
		return;
	intr_state = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
		     intr_state | GUEST_INTR_STATE_NMI);
}

static enum lv_exit_action handle_exception_nmi(struct lv_vmx_vcpu *vmx)
{
	u32 info = vmcs_read32(VM_EXIT_INTR_INFO);

	/* Host NMIs and machine checks were handed to the host already. */
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
		return LV_RESUME_GUEST;
	if ((info & INTR_INFO_VECTOR_MASK) != X86_TRAP_DF)
		lv_recover_nmi_blocking(vmx, info & INTR_INFO_UNBLOCK_NMI);
	switch (info & INTR_INFO_VECTOR_MASK) {
	case X86_TRAP_MC:
		return LV_RESUME_GUEST;
	case X86_TRAP_DB:
		return handle_guest_db(vmx, info);
	case X86_TRAP_AC:
		return handle_guest_ac(vmx);
	}
	return handle_unexpected(vmx);
}

static enum lv_exit_action handle_triple_fault(struct lv_vmx_vcpu *vmx)
{
	vmx->vcpu.run->exit_reason = LV_EXIT_SHUTDOWN;
	return LV_EXIT_TO_USER;
}

static enum lv_exit_action handle_interrupt_window(struct lv_vmx_vcpu *vmx)
{
	struct lv_run *run = vmx->vcpu.run;

	lv_vmx_request_window(vmx, CPU_BASED_INTR_WINDOW_EXITING, false);
	if (!run->request_interrupt_window || vmx->vcpu.pending_irq)
		return LV_RESUME_GUEST;
	run->exit_reason = LV_EXIT_IRQ_WINDOW_OPEN;
	run->ready_for_interrupt_injection = 1;
	run->if_flag = 1;
	return LV_EXIT_TO_USER;
}

static enum lv_exit_action handle_nmi_window(struct lv_vmx_vcpu *vmx)
{
	lv_vmx_request_window(vmx, CPU_BASED_NMI_WINDOW_EXITING, false);
	return LV_RESUME_GUEST;
}

static enum lv_exit_action handle_cpuid(struct lv_vmx_vcpu *vmx)
{
	u32 leaf = vmx->vcpu.regs[LV_RAX];
	u64 cr4 = lv_cpuid_uses_cr4(leaf) ? lv_vmx_read_cr4(vmx) : 0;

	lv_cpuid_exit(&vmx->vcpu, cr4, vmx->xcr0);
	return lv_skip(vmx);
}

static enum lv_exit_action handle_hlt(struct lv_vmx_vcpu *vmx)
{
	return lv_handle_halt(&vmx->vcpu,
			      vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_IF);
}

static enum lv_exit_action handle_vmcall(struct lv_vmx_vcpu *vmx)
{
	return lv_handle_hypercall(&vmx->vcpu);
}

static unsigned long lv_get_gpr(struct lv_vmx_vcpu *vmx, unsigned int reg)
{
	return reg == LV_RSP ? vmcs_readl(GUEST_RSP) : vmx->vcpu.regs[reg];
}

static void lv_set_gpr(struct lv_vmx_vcpu *vmx, unsigned int reg,
		       unsigned long val)
{
	if (reg == LV_RSP)
		vmcs_writel(GUEST_RSP, val);
	else
		vmx->vcpu.regs[reg] = val;
}

/*
 * PAE paging without long mode reads its PDPTEs when CR0/CR4 change: check
 * them before anything changes, so that a bad one is #GP for the guest
 * and not a failed VM entry; then load exactly the entries checked, not a
 * second read another vCPU could change.
 */
static bool lv_in_64bit_mode(struct lv_vmx_vcpu *vmx)
{
	return (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) &&
	       (vmcs_read32(GUEST_CS_AR_BYTES) & BIT(13));
}

static enum lv_exit_action lv_write_cr0(struct lv_vmx_vcpu *vmx,
					unsigned long cr0)
{
	u64 efer = vmcs_read64(GUEST_IA32_EFER);
	unsigned long cr4 = lv_vmx_read_cr4(vmx);
	u64 pdpte[4];

	if (!lv_cr0_write(lv_vmx_read_cr0(vmx), cr0, cr4, &efer,
			  lv_in_64bit_mode(vmx)))
		return lv_inject_gp(vmx);
	if (lv_pae_paging(cr0, cr4, efer) &&
	    lv_load_pdptes(vmx->vcpu.vm, vmcs_readl(GUEST_CR3), pdpte))
		return lv_inject_gp(vmx);
	lv_vmx_set_efer(vmx, efer);
	lv_vmx_set_cr0(vmx, cr0);
	if (lv_pae_paging(cr0, cr4, efer))
		lv_vmx_write_pdptes(pdpte);
	return lv_skip(vmx);
}

static enum lv_exit_action lv_write_cr4(struct lv_vmx_vcpu *vmx,
					unsigned long cr4)
{
	unsigned long cr0 = lv_vmx_read_cr0(vmx);
	u64 efer = vmcs_read64(GUEST_IA32_EFER);
	u64 pdpte[4];

	if (!lv_cr4_write_ok(lv_vmx_read_cr4(vmx), cr4, efer & EFER_LMA,
			     vmcs_readl(GUEST_CR3)))
		return lv_inject_gp(vmx);
	if (lv_pae_paging(cr0, cr4, efer) &&
	    lv_load_pdptes(vmx->vcpu.vm, vmcs_readl(GUEST_CR3), pdpte))
		return lv_inject_gp(vmx);
	lv_vmx_set_cr4(vmx, cr4);
	if (lv_pae_paging(cr0, cr4, efer))
		lv_vmx_write_pdptes(pdpte);
	return lv_skip(vmx);
}

static enum lv_exit_action handle_cr_access(struct lv_vmx_vcpu *vmx)
{
	unsigned long qual = lv_vmx_exit_qual(vmx);
	unsigned int cr = qual & 15, type = (qual >> 4) & 3;
	unsigned int reg = (qual >> 8) & 15;
	unsigned long val = lv_get_gpr(vmx, reg);

	if (type == 0) {			/* MOV to CR */
		switch (cr) {
		case 0:
			return lv_write_cr0(vmx, val);
		case 4:
			return lv_write_cr4(vmx, val);
		case 8:
			if (val > 15)
				return lv_inject_gp(vmx);
			vmx->cr8 = val;
			/* CR8 is the APIC's TPR[7:4] (SDM 11.8.6). */
			if (vmx->vcpu.lapic)
				lv_lapic_set_tpr(vmx->vcpu.lapic, val << 4);
			return lv_skip(vmx);
		}
	} else if (type == 1 && cr == 8) {	/* MOV from CR8 */
		if (vmx->vcpu.lapic)
			vmx->cr8 = lv_lapic_get_tpr(vmx->vcpu.lapic) >> 4;
		lv_set_gpr(vmx, reg, vmx->cr8);
		return lv_skip(vmx);
	}
	return handle_unexpected(vmx);
}

/*
 * The guest's debug registers live in software (DR7 in the VMCS), and
 * DR0-DR3 go into hardware while the guest runs with a breakpoint
 * enabled (see lv_vmx_load_guest_dr()). MOV DR always exits.
 */
static enum lv_exit_action handle_dr_access(struct lv_vmx_vcpu *vmx)
{
	unsigned long qual = lv_vmx_exit_qual(vmx);
	unsigned int dr = qual & 7, reg = (qual >> 8) & 15;
	bool from_dr = qual & BIT(4);
	unsigned long val, dr7 = vmcs_readl(GUEST_DR7);

	if (dr == 4 || dr == 5) {
		if (lv_vmx_read_cr4(vmx) & X86_CR4_DE)
			return lv_inject_ud(vmx);
		dr += 2;
	}
	/*
	 * General detect: the VM exit comes before the #DB the access would
	 * raise, so raise it here, as the CPU would (DR6.BD, DR7.GD off).
	 */
	if (dr7 & LV_DR7_GD) {
		vmx->dr[4] = (vmx->dr[4] & ~(unsigned long)DR_TRAP_BITS) |
			     LV_DR6_RESET | LV_DR6_BD;
		lv_vmx_set_dr7(vmx, dr7 & ~LV_DR7_GD);
		return lv_inject_exception(&vmx->vcpu, X86_TRAP_DB, 0);
	}
	if (from_dr) {
		if (dr == 7)
			val = vmcs_readl(GUEST_DR7);
		else
			val = vmx->dr[dr == 6 ? 4 : dr];
		lv_set_gpr(vmx, reg, val);
		return lv_skip(vmx);
	}
	val = lv_get_gpr(vmx, reg);
	if (dr >= 6 && val >> 32)
		return lv_inject_gp(vmx);
	if (dr == 7)
		lv_vmx_set_dr7(vmx, val);
	else if (dr == 6)
		vmx->dr[4] = (val & LV_DR6_VOLATILE) | LV_DR6_RESET;
	else
		vmx->dr[dr] = val;
	return lv_skip(vmx);
}

static enum lv_exit_action handle_io(struct lv_vmx_vcpu *vmx)
{
	unsigned long qual = lv_vmx_exit_qual(vmx);
	struct lv_pio_exit io = {
		.size = (qual & 7) + 1,
		.in = qual & BIT(3),
		.string = qual & BIT(4),
		.rep = qual & BIT(5),
		.port = qual >> 16,
	};

	if (io.string) {
		/* Address size in bits 9:7 of the instruction information. */
		io.addr_size = 2 << ((vmcs_read32(VMX_INSTRUCTION_INFO) >> 7) & 3);
		io.linear_addr = vmcs_readl(GUEST_LINEAR_ADDRESS);
		io.df = vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_DF;
	}
	return lv_handle_pio(&vmx->vcpu, &io);
}

static enum lv_exit_action handle_rdmsr(struct lv_vmx_vcpu *vmx)
{
	unsigned long *regs = vmx->vcpu.regs;
	u64 value;

	if (lv_vmx_get_msr(vmx, regs[LV_RCX], &value))
		return lv_inject_gp(vmx);
	regs[LV_RAX] = lower_32_bits(value);
	regs[LV_RDX] = upper_32_bits(value);
	return lv_skip(vmx);
}

static enum lv_exit_action handle_wrmsr(struct lv_vmx_vcpu *vmx)
{
	unsigned long *regs = vmx->vcpu.regs;
	u64 value = (u32)regs[LV_RAX] | ((u64)(u32)regs[LV_RDX] << 32);
	u32 index = regs[LV_RCX];
	int ret;

	/* Every interrupt handler's EOI: not worth the MSR switch. */
	if (index == LV_X2APIC_MSR_BASE + (APIC_EOI >> 4) && vmx->vcpu.lapic)
		ret = lv_lapic_x2apic_eoi(vmx->vcpu.lapic, value);
	else
		ret = lv_vmx_set_msr(vmx, index, value);
	if (ret)
		return lv_inject_gp(vmx);
	return lv_skip(vmx);
}

static enum lv_exit_action handle_xsetbv(struct lv_vmx_vcpu *vmx)
{
	unsigned long *regs = vmx->vcpu.regs;
	u64 value = (u32)regs[LV_RAX] | ((u64)(u32)regs[LV_RDX] << 32);

	if ((u32)regs[LV_RCX] != 0 || !lv_xcr0_valid(&vmx->vcpu, value))
		return lv_inject_gp(vmx);
	lv_vmx_set_xcr0(vmx, value);
	return lv_skip(vmx);
}

/*
 * An interrupt handler's xAPIC EOI, without fetching and decoding the
 * store (see lv_irqchip_fast_eoi()): a plain write, stepped over by the
 * length the CPU reported. The SDM leaves that length undefined for EPT
 * violations; CPUs fill it in, an emulated one (nested) may not. As
 * KVM's fast MMIO, bare metal only. Under single-step the emulator runs,
 * to raise the #DB after the instruction.
 */
static bool lv_vmx_fast_eoi(struct lv_vmx_vcpu *vmx, unsigned long qual,
			    u64 gpa)
{
	unsigned int len;

	if ((qual & (EPT_VIOLATION_ACC_READ | EPT_VIOLATION_ACC_WRITE)) !=
	    EPT_VIOLATION_ACC_WRITE || boot_cpu_has(X86_FEATURE_HYPERVISOR) ||
	    (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_TF))
		return false;
	len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
	if (!len || len > LV_MAX_INSN_LEN)
		return false;
	return lv_irqchip_fast_eoi(&vmx->vcpu, gpa);
}

static enum lv_exit_action handle_ept_violation(struct lv_vmx_vcpu *vmx)
{
	unsigned long qual = lv_vmx_exit_qual(vmx);
	u64 gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	bool write = qual & EPT_VIOLATION_ACC_WRITE;
	int ret;

	lv_recover_nmi_blocking(vmx, qual & INTR_INFO_UNBLOCK_NMI);
	ret = lv_mmu_page_fault(&vmx->vcpu, gpa, write);
	if (!ret)
		return LV_RESUME_GUEST;
	if (ret != -ENOENT)
		return lv_internal_error(&vmx->vcpu,
					 LV_INTERNAL_ERROR_HOST_FAULT, gpa);
	/*
	 * Delivering an event touched MMIO (an IDT, GDT or stack there):
	 * RIP is not the instruction that made the access, so there is
	 * nothing to emulate. The event stays in vcpu->event.
	 */
	if (vmx->vcpu.event.valid)
		return lv_internal_error(&vmx->vcpu,
					 LV_INTERNAL_ERROR_DELIVERY_EV, gpa);
	/* Not RAM: code cannot run from a device. */
	if (qual & EPT_VIOLATION_ACC_INSTR)
		return lv_internal_error(&vmx->vcpu,
					 LV_INTERNAL_ERROR_EMULATION, gpa);
	/*
	 * The access belongs to the delivery of an event (an exception
	 * frame pushed onto a stack in MMIO, an IDT or GDT in MMIO), not to
	 * the instruction at RIP: there is nothing to emulate. As KVM does,
	 * stop with the event described.
	 */
	if (vmcs_read32(IDT_VECTORING_INFO_FIELD) & VECTORING_INFO_VALID_MASK)
		return lv_internal_error(&vmx->vcpu,
					 LV_INTERNAL_ERROR_DELIVERY_EV, gpa);
	if (lv_vmx_fast_eoi(vmx, qual, gpa))
		return lv_skip(vmx);
	return lv_handle_mmio(&vmx->vcpu, gpa, write);
}

static enum lv_exit_action handle_ept_misconfig(struct lv_vmx_vcpu *vmx)
{
	pr_err_ratelimited("EPT misconfiguration at guest-physical %#llx\n",
			   vmcs_read64(GUEST_PHYSICAL_ADDRESS));
	return lv_internal_error(&vmx->vcpu, LV_INTERNAL_ERROR_HOST_FAULT,
				 vmcs_read64(GUEST_PHYSICAL_ADDRESS));
}

static const lv_exit_handler_t lv_vmx_exit_handlers[] = {
	[EXIT_REASON_EXCEPTION_NMI]		= handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT]	= handle_nothing,
	[EXIT_REASON_TRIPLE_FAULT]		= handle_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW]		= handle_interrupt_window,
	[EXIT_REASON_NMI_WINDOW]		= handle_nmi_window,
	[EXIT_REASON_CPUID]			= handle_cpuid,
	[LV_EXIT_REASON_GETSEC]		= lv_inject_ud,
	[EXIT_REASON_HLT]			= handle_hlt,
	[EXIT_REASON_INVD]			= lv_skip,
	[EXIT_REASON_RDPMC]			= lv_inject_gp,
	[EXIT_REASON_VMCALL]			= handle_vmcall,
	[EXIT_REASON_VMCLEAR]			= lv_inject_ud,
	[EXIT_REASON_VMLAUNCH]			= lv_inject_ud,
	[EXIT_REASON_VMPTRLD]			= lv_inject_ud,
	[EXIT_REASON_VMPTRST]			= lv_inject_ud,
	[EXIT_REASON_VMREAD]			= lv_inject_ud,
	[EXIT_REASON_VMRESUME]			= lv_inject_ud,
	[EXIT_REASON_VMWRITE]			= lv_inject_ud,
	[EXIT_REASON_VMOFF]			= lv_inject_ud,
	[EXIT_REASON_VMON]			= lv_inject_ud,
	[EXIT_REASON_CR_ACCESS]			= handle_cr_access,
	[EXIT_REASON_DR_ACCESS]			= handle_dr_access,
	[EXIT_REASON_IO_INSTRUCTION]		= handle_io,
	[EXIT_REASON_MSR_READ]			= handle_rdmsr,
	[EXIT_REASON_MSR_WRITE]			= handle_wrmsr,
	[EXIT_REASON_MWAIT_INSTRUCTION]		= lv_skip,
	[EXIT_REASON_MONITOR_INSTRUCTION]	= lv_skip,
	[EXIT_REASON_EPT_VIOLATION]		= handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG]		= handle_ept_misconfig,
	[EXIT_REASON_INVEPT]			= lv_inject_ud,
	[EXIT_REASON_INVVPID]			= lv_inject_ud,
	[EXIT_REASON_WBINVD]			= lv_skip,
	[EXIT_REASON_XSETBV]			= handle_xsetbv,
	[EXIT_REASON_PREEMPTION_TIMER]		= handle_preemption_timer,
	[EXIT_REASON_VMFUNC]			= lv_inject_ud,
	[EXIT_REASON_TPR_BELOW_THRESHOLD]	= handle_tpr_below_threshold,
	[EXIT_REASON_APIC_ACCESS]		= handle_apic_access,
	[EXIT_REASON_EOI_INDUCED]		= handle_eoi_induced,
	[EXIT_REASON_APIC_WRITE]		= handle_apic_write,
};

/**
 * lv_vmx_exit_handler() - the handler of a basic exit reason
 * @reason: bits 15:0 of the exit reason
 *
 * Return: the handler, or NULL for an exit lightvisor does not expect.
 * Bounds-checked, also under speculation: @reason comes from hardware
 * but describes what the guest did.
 */
lv_exit_handler_t lv_vmx_exit_handler(unsigned int reason)
{
	if (reason >= ARRAY_SIZE(lv_vmx_exit_handlers))
		return NULL;
	reason = array_index_nospec(reason, ARRAY_SIZE(lv_vmx_exit_handlers));
	return lv_vmx_exit_handlers[reason];
}
EXPORT_SYMBOL_IF_KUNIT(lv_vmx_exit_handler);

enum lv_exit_action lv_vmx_handle_exit(struct lv_vmx_vcpu *vmx)
{
	lv_exit_handler_t handler = lv_vmx_exit_handler((u16)vmx->exit_reason);

	vmx->vcpu.run->hw_exit_reason = vmx->exit_reason;
	/* The VMREADs only when someone listens. */
	if (trace_lv_exit_enabled())
		trace_lv_exit(vmx->vcpu.id, vmx->exit_reason,
			      vmcs_readl(GUEST_RIP), lv_vmx_exit_qual(vmx));
	if (!handler)
		return handle_unexpected(vmx);
	return handler(vmx);
}
