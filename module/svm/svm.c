// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM backend: EFER.SVME per CPU, the VMCB of each vCPU, and the path
 * into the guest and back (AMD64 APM vol. 2, chapter 15).
 *
 * The policy is the core's (CPUID, CR0/CR4/EFER/XCR0 rules, MSRs,
 * events); this file only moves state between the core and the VMCB.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": svm: " fmt
#define LV_SVM_INTERNAL

#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <asm/debugreg.h>
#include <asm/fpu/xcr.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/pgtable.h>
#include <asm/pkru.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/traps.h>

#include "svm.h"
#include "../run_flags.h"
#include "irq/lapic.h"

/* CPUID 0x8000000A EDX: what this SVM implementation has. */
#define LV_SVM_FEAT_NPT			BIT(0)
#define LV_SVM_FEAT_NRIPS		BIT(3)
#define LV_SVM_FEAT_FLUSH_BY_ASID	BIT(6)
#define LV_SVM_FEAT_DECODE_ASSISTS	BIT(7)

/* VM_CR.SVMDIS: the firmware disabled SVM (the name differs by kernel). */
#define LV_VM_CR_SVMDIS			BIT(4)

/* VMCB segment attributes (APM vol. 2, 15.5.1): type, S, DPL, P, ..., G. */
#define LV_SVM_ATTR_P			BIT(7)

/*
 * Per CPU: the host save area VMRUN writes (VM_HSAVE_PA), and the page
 * the host's VMSAVE state goes to around each VMRUN.
 */
static DEFINE_PER_CPU(void *, lv_hsave);
static DEFINE_PER_CPU(void *, lv_host_save);
/* The VM whose vCPU ran last on this CPU (struct lv_svm_vm.id). */
static DEFINE_PER_CPU(u64, lv_last_vm_id);
static atomic64_t lv_vm_ids = ATOMIC64_INIT(0);

/*
 * One ASID per vCPU. Which vCPU last used an ASID on a CPU is not
 * tracked: a vCPU flushes its ASID whenever it arrives on a CPU, which
 * also drops what a former owner of a reused ASID left there.
 */
static DEFINE_IDA(lv_asid_ida);
static u32 lv_nr_asids;
static u32 lv_svm_features;

/* Shared by every vCPU: every port exits; every MSR but the safe ones. */
static void *lv_iopm;
static unsigned long *lv_msrpm;

#define LV_IOPM_ORDER	2	/* 12 KiB used */
#define LV_MSRPM_ORDER	1	/* 8 KiB */

static bool lv_svm_has(u32 feature)
{
	return lv_svm_features & feature;
}

/* The CPU saves the next RIP of an intercepted instruction. */
bool lv_svm_nrips(void)
{
	return lv_svm_has(LV_SVM_FEAT_NRIPS);
}

/* --- EFER.SVME on this CPU --- */

static int lv_svm_cpu_enable(void)
{
	u64 efer, vm_cr;

	rdmsrl(MSR_EFER, efer);
	/* Someone else (kvm_amd) uses SVM here. */
	if (efer & EFER_SVME)
		return -EBUSY;
	rdmsrl(MSR_VM_CR, vm_cr);
	if (vm_cr & LV_VM_CR_SVMDIS)
		return -EOPNOTSUPP;
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, __pa(this_cpu_read(lv_hsave)));
	return 0;
}

/*
 * Leave SVM on this CPU. STGI first: a CPU stopped in the middle of an
 * entry (reboot, crash) may have GIF clear, which would keep INIT and
 * NMIs blocked for whoever comes next.
 */
static void lv_svm_cpu_disable(void)
{
	u64 efer;

	asm volatile("stgi" ::: "memory");
	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

/*
 * Reboot or crash, in NMI context: no VMCB needs writing back (SVM keeps
 * no state in the CPU between VMRUNs), only SVM to leave.
 */
static void lv_svm_cpu_emergency_disable(void)
{
	lv_svm_cpu_disable();
}

/* --- vCPU load and put --- */

/*
 * Branch predictions trained by one VM must not steer another (Spectre
 * v2 between guests): IBPB when a CPU switches to a vCPU of another VM,
 * if the kernel uses IBPB at all.
 */
static void lv_svm_switch_vm_barrier(struct lv_svm_vm *svm_vm, int cpu)
{
	if (per_cpu(lv_last_vm_id, cpu) == svm_vm->id)
		return;
	per_cpu(lv_last_vm_id, cpu) = svm_vm->id;
	indirect_branch_prediction_barrier();
}

/*
 * TSC_AUX is the only MSR the guest reads without an exit that VMLOAD
 * and VMSAVE do not switch (RDTSCP, RDPID): the guest's while loaded.
 */
static void lv_svm_vcpu_load(struct lv_vcpu *vcpu, int cpu)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);

	/*
	 * Another CPU may hold translations tagged with this ASID from an
	 * earlier stay there; this one may hold stale ones from before.
	 */
	if (vcpu->cpu != cpu) {
		svm->flush = true;
		WRITE_ONCE(vcpu->cpu, cpu);
	}
	lv_svm_switch_vm_barrier(to_svm_vm(vcpu->vm), cpu);
	if (boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID)) {
		rdmsrl(MSR_TSC_AUX, svm->host_tsc_aux);
		if (svm->tsc_aux != svm->host_tsc_aux)
			wrmsrl(MSR_TSC_AUX, svm->tsc_aux);
	}
	svm->loaded = true;
}

static void lv_svm_vcpu_put(struct lv_vcpu *vcpu)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);

	if (!svm->loaded)
		return;
	svm->loaded = false;
	if (boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID)) {
		if (svm->tsc_aux != svm->host_tsc_aux)
			wrmsrl(MSR_TSC_AUX, svm->host_tsc_aux);
	}
}

/* --- the VMCB --- */

void lv_svm_set_intercept(struct lv_svm_vcpu *svm, unsigned int bit, bool on)
{
	u32 *word = &svm->vmcb->control.intercepts[bit / 32];

	if (on)
		*word |= BIT(bit % 32);
	else
		*word &= ~BIT(bit % 32);
}

static void lv_svm_write_seg(struct vmcb_seg *s, u16 sel, u64 base,
			     u32 limit, u16 attrib)
{
	*s = (struct vmcb_seg) {
		.selector = sel, .base = base, .limit = limit, .attrib = attrib,
	};
}

/* The state of a CPU after INIT (APM vol. 2, table 14-1). */
static void lv_svm_setup_guest_state(struct lv_svm_vcpu *svm)
{
	struct vmcb_save_area *save = &svm->vmcb->save;

	lv_svm_write_seg(&save->cs, 0xf000, 0xffff0000, 0xffff, 0x9b);
	lv_svm_write_seg(&save->ds, 0, 0, 0xffff, 0x93);
	lv_svm_write_seg(&save->es, 0, 0, 0xffff, 0x93);
	lv_svm_write_seg(&save->fs, 0, 0, 0xffff, 0x93);
	lv_svm_write_seg(&save->gs, 0, 0, 0xffff, 0x93);
	lv_svm_write_seg(&save->ss, 0, 0, 0xffff, 0x93);
	lv_svm_write_seg(&save->tr, 0, 0, 0xffff, 0x8b);
	lv_svm_write_seg(&save->ldtr, 0, 0, 0xffff, 0x82);
	lv_svm_write_seg(&save->gdtr, 0, 0, 0xffff, 0);
	lv_svm_write_seg(&save->idtr, 0, 0, 0xffff, 0);
	save->cpl = 0;
	save->efer = EFER_SVME;
	save->cr3 = 0;
	save->cr4 = 0;
	/* CD and NW are set after INIT, but only in the guest's view. */
	svm->cr0 = 0;
	lv_svm_set_cr0(svm, X86_CR0_ET | X86_CR0_CD | X86_CR0_NW);
	save->cr2 = 0;
	save->rip = 0xfff0;
	save->rsp = 0;
	save->rflags = X86_EFLAGS_FIXED;
	save->dr6 = LV_DR6_RESET;
	save->dr7 = LV_DR7_FIXED_1;
	save->g_pat = 0x0007040600070406ULL;
	save->dbgctl = 0;
	save->star = 0;
	save->lstar = 0;
	save->cstar = 0;
	save->sfmask = 0;
	save->kernel_gs_base = 0;
	save->sysenter_cs = 0;
	save->sysenter_esp = 0;
	save->sysenter_eip = 0;
	svm->vmcb->control.int_state = 0;
	svm->xcr0 = XFEATURE_MASK_FP;
	memset(svm->dr, 0, sizeof(svm->dr));
	svm->guest_bp = false;
	svm->pkru = 0;
	svm->pkru_used = false;
	svm->vcpu.spec_ctrl = 0;
	svm->nmi_masked = false;
	svm->awaiting_iret = false;
	svm->nmi_singlestep = false;
	svm->cr8 = 0;
	svm->vcpu.apic_base = APIC_DEFAULT_PHYS_BASE |
			      MSR_IA32_APICBASE_ENABLE |
			      (svm->vcpu.id ? 0 : MSR_IA32_APICBASE_BSP);
	memset(svm->vcpu.regs, 0, sizeof(svm->vcpu.regs));
	svm->vcpu.regs[LV_RDX] = 0x600;	/* as the VMX backend reports */
	svm->flush = true;
}

static const unsigned int lv_svm_intercepts[] = {
	/*
	 * CR0 and CR4 writes follow the core's rules; CR8 is the APIC's
	 * TPR (or a register of our own without an in-kernel APIC), as in
	 * the VMX backend without the TPR shadow.
	 */
	INTERCEPT_CR0_WRITE, INTERCEPT_CR4_WRITE,
	INTERCEPT_CR8_READ, INTERCEPT_CR8_WRITE,
	/* Physical interrupts, NMIs and SMIs are the host's. */
	INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI,
	INTERCEPT_CPUID, INTERCEPT_HLT, INTERCEPT_INVD, INTERCEPT_RDPMC,
	INTERCEPT_RSM, INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
	/* Task switches are not emulated: the VM stops, as under VMX. */
	INTERCEPT_TASK_SWITCH,
	/* A triple fault: LV_EXIT_SHUTDOWN, never a host reset. */
	INTERCEPT_SHUTDOWN,
	/* No nested virtualization: SVM instructions raise #UD. */
	INTERCEPT_VMRUN, INTERCEPT_VMMCALL, INTERCEPT_VMLOAD,
	INTERCEPT_VMSAVE, INTERCEPT_STGI, INTERCEPT_CLGI, INTERCEPT_SKINIT,
	INTERCEPT_INVLPGA, INTERCEPT_RDPRU,
	/* INT1 is reflected as the #DB the VMX backend gives it. */
	INTERCEPT_ICEBP,
	INTERCEPT_WBINVD, INTERCEPT_MONITOR, INTERCEPT_MWAIT,
	INTERCEPT_MWAIT_COND, INTERCEPT_XSETBV,
	INTERCEPT_INVLPGB, INTERCEPT_INVLPGB_ILLEGAL, INTERCEPT_TLBSYNC,
};

static void lv_svm_setup_control(struct lv_svm_vcpu *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	int i;

	memset(c->intercepts, 0, sizeof(c->intercepts));
	for (i = 0; i < ARRAY_SIZE(lv_svm_intercepts); i++)
		lv_svm_set_intercept(svm, lv_svm_intercepts[i], true);
	/* MOV DR always exits, as under VMX. */
	c->intercepts[INTERCEPT_DR] = 0xffffffff;
	/*
	 * Always intercepted, as KVM does: #DB and #AC, because a guest can
	 * make their delivery cause the same exception again, which hangs
	 * the CPU in microcode for good (CVE-2015-8104, CVE-2015-5307); #MC,
	 * because machine checks belong to the host; #UD, because guests
	 * written for VMX make hypercalls with VMCALL.
	 */
	c->intercepts[INTERCEPT_EXCEPTION] = BIT(X86_TRAP_DB) |
		BIT(X86_TRAP_AC) | BIT(X86_TRAP_MC) | BIT(X86_TRAP_UD);
	c->iopm_base_pa = __pa(lv_iopm);
	c->msrpm_base_pa = __pa(lv_msrpm);
	c->tsc_offset = 0;
	c->asid = svm->asid;
	/*
	 * The guest's RFLAGS.IF masks only virtual interrupts; physical ones
	 * stay the host's (they exit as INTR).
	 */
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = to_svm_vm(svm->vcpu.vm)->ncr3;
	c->event_inj = 0;
	c->virt_ext = 0;
	c->clean = 0;
}

static struct lv_vcpu *lv_svm_vcpu_create(struct lv_vm *vm, unsigned int id)
{
	struct lv_svm_vcpu *svm;
	int ret;

	svm = lv_vcpu_alloc();
	if (!svm)
		return ERR_PTR(-ENOMEM);
	ret = lv_vcpu_init(&svm->vcpu, vm, id);
	if (ret)
		goto err_free;
	ret = -ENOMEM;
	svm->vmcb = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!svm->vmcb)
		goto err_uninit;
	svm->vmcb_pa = __pa(svm->vmcb);
	/*
	 * ASID 0 is the host's. Past the CPU's supply, vCPUs share the last
	 * one and flush it at every entry.
	 */
	ret = ida_alloc_range(&lv_asid_ida, 1, lv_nr_asids - 2, GFP_KERNEL);
	svm->asid = ret < 0 ? lv_nr_asids - 1 : ret;
	svm->vcpu.cpu = -1;
	lv_svm_setup_control(svm);
	lv_svm_setup_guest_state(svm);
	return &svm->vcpu;

err_uninit:
	lv_vcpu_uninit(&svm->vcpu);
err_free:
	lv_vcpu_free_mem(svm);
	return ERR_PTR(ret);
}

static void lv_svm_vcpu_free(struct lv_vcpu *vcpu)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);

	if (svm->asid < lv_nr_asids - 1)
		ida_free(&lv_asid_ida, svm->asid);
	lv_ept_cache_free(&svm->npt_cache);
	free_page((unsigned long)svm->vmcb);
	lv_vcpu_uninit(vcpu);
	lv_vcpu_free_mem(svm);
}

/* --- control registers --- */

/*
 * The guest's CR0 as it sees it is svm->cr0; the hardware's lacks CD and
 * NW, as in KVM and in the VMX backend: a guest running with caches off
 * would slow its host core down for nothing and gains nothing (nested
 * paging maps RAM write-back anyway). While the two differ, reads of CR0
 * exit so that the guest sees its own value.
 */
void lv_svm_set_cr0(struct lv_svm_vcpu *svm, u64 cr0)
{
	u64 hw = cr0 & ~(X86_CR0_CD | X86_CR0_NW);
	u64 old = svm->cr0;

	svm->cr0 = cr0;
	svm->vmcb->save.cr0 = hw;
	lv_svm_set_intercept(svm, INTERCEPT_CR0_READ, hw != cr0);
	if ((old ^ cr0) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE))
		svm->flush = true;
}

void lv_svm_set_cr4(struct lv_svm_vcpu *svm, u64 cr4)
{
	svm->vmcb->save.cr4 = cr4;
	if (cr4 & X86_CR4_PKE)
		svm->pkru_used = true;
	svm->flush = true;
}

/* The hardware's EFER has SVME, which VMRUN requires; the guest never sees it. */
void lv_svm_set_efer(struct lv_svm_vcpu *svm, u64 efer)
{
	svm->vmcb->save.efer = efer | EFER_SVME;
}

void lv_svm_set_dr7(struct lv_svm_vcpu *svm, unsigned long dr7)
{
	dr7 = (dr7 & LV_DR7_VOLATILE) | LV_DR7_FIXED_1;
	svm->vmcb->save.dr7 = dr7;
	svm->guest_bp = dr7 & 0xff;
}

void lv_svm_set_xcr0(struct lv_svm_vcpu *svm, u64 xcr0)
{
	svm->xcr0 = xcr0;
	if (xcr0 & XFEATURE_MASK_PKRU)
		svm->pkru_used = true;
}

/* --- events --- */

static bool lv_svm_in_shadow(struct lv_svm_vcpu *svm)
{
	return svm->vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK;
}

static bool lv_svm_interrupt_allowed(struct lv_vcpu *vcpu)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);

	return (svm->vmcb->save.rflags & X86_EFLAGS_IF) &&
	       !lv_svm_in_shadow(svm);
}

static bool lv_svm_nmi_allowed(struct lv_vcpu *vcpu)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);

	return !svm->nmi_masked && !lv_svm_in_shadow(svm);
}

/*
 * An interrupt window: a virtual interrupt the guest takes as soon as it
 * can (IF set, no shadow), intercepted (VINTR) before it is delivered.
 */
static void lv_svm_set_vintr(struct lv_svm_vcpu *svm, bool on)
{
	struct vmcb_control_area *c = &svm->vmcb->control;

	c->int_ctl &= ~V_IRQ_INJECTION_BITS_MASK;
	c->int_vector = 0;
	if (on)
		c->int_ctl |= V_IRQ_MASK | V_IGN_TPR_MASK |
			      (0xf << V_INTR_PRIO_SHIFT);
	lv_svm_set_intercept(svm, INTERCEPT_VINTR, on);
}

static void lv_svm_enable_irq_window(struct lv_vcpu *vcpu)
{
	lv_svm_set_vintr(to_svm(vcpu), true);
}

/*
 * NMIs blocked by an NMI handler unblock after its IRET, which exits
 * (SVM has no NMI window of its own): then RFLAGS.TF single-steps the
 * IRET, whose #DB trap (always intercepted) ends the window, as KVM
 * does. The IRET loads RFLAGS from the handler's frame, so the TF set
 * here is gone after it. Blocked only by an interrupt shadow: the irq
 * window exits after it, if IF is set.
 */
static void lv_svm_enable_nmi_window(struct lv_vcpu *vcpu)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *save = &svm->vmcb->save;

	if (!svm->nmi_masked) {
		if (save->rflags & X86_EFLAGS_IF)
			lv_svm_set_vintr(svm, true);
		return;
	}
	if (!svm->awaiting_iret || svm->nmi_singlestep ||
	    (save->rflags & X86_EFLAGS_TF))
		return;
	svm->nmi_singlestep = true;
	svm->nmi_ss_dr6 = save->dr6;
	save->rflags |= X86_EFLAGS_TF;
}

/**
 * lv_svm_nmi_singlestep_done() - was this #DB the end of the NMI window?
 * @svm: the vCPU, at a #DB intercept
 *
 * Return: true if the #DB is the single step of the NMI handler's IRET
 * (the guest's DR6 is put back, NMIs are unblocked), false if it is the
 * guest's own.
 */
bool lv_svm_nmi_singlestep_done(struct lv_svm_vcpu *svm)
{
	struct vmcb_save_area *save = &svm->vmcb->save;

	if (!svm->nmi_singlestep || !(save->dr6 & LV_DR6_BS))
		return false;
	svm->nmi_singlestep = false;
	save->dr6 = svm->nmi_ss_dr6;
	svm->awaiting_iret = false;
	svm->nmi_masked = false;
	return true;
}

static void lv_svm_rewind_soft(struct lv_svm_vcpu *svm, unsigned int len)
{
	svm->vmcb->save.rip -= len;
}

/*
 * Without next-RIP saving, VMRUN pushes RIP as the return address of an
 * injected INT n, INT3, INTO or INT1: RIP moves past the instruction
 * first, as KVM does, and back if the event does not get delivered.
 */
static void lv_svm_inject_event(struct lv_vcpu *vcpu, const struct lv_event *ev)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control_area *c = &svm->vmcb->control;
	u32 inj = SVM_EVTINJ_VALID | ev->vector;

	switch (ev->type) {
	case LV_EVENT_EXT_INTR:
		inj |= SVM_EVTINJ_TYPE_INTR;
		/* The window waited for is used now. */
		lv_svm_set_vintr(svm, false);
		break;
	case LV_EVENT_NMI:
		inj |= SVM_EVTINJ_TYPE_NMI;
		svm->nmi_masked = true;
		svm->awaiting_iret = false;
		lv_svm_set_intercept(svm, INTERCEPT_IRET, true);
		break;
	case LV_EVENT_SOFT_INTR:
		inj |= SVM_EVTINJ_TYPE_SOFT;
		svm->vmcb->save.rip += ev->insn_len;
		break;
	case LV_EVENT_SOFT_EXC:
	case LV_EVENT_PRIV_SW_EXC:
		inj |= SVM_EVTINJ_TYPE_EXEPT;
		svm->vmcb->save.rip += ev->insn_len;
		break;
	default:
		inj |= SVM_EVTINJ_TYPE_EXEPT;
		break;
	}
	if (ev->has_error_code) {
		inj |= SVM_EVTINJ_VALID_ERR;
		c->event_inj_err = ev->error_code;
	}
	c->event_inj = inj;
}

static unsigned int lv_svm_soft_len(struct lv_svm_vcpu *svm)
{
	const struct lv_event *ev = &svm->vcpu.event;

	if (!ev->valid)
		return 0;
	switch (ev->type) {
	case LV_EVENT_SOFT_INTR:
	case LV_EVENT_SOFT_EXC:
	case LV_EVENT_PRIV_SW_EXC:
		return ev->insn_len;
	}
	return 0;
}

static void lv_svm_cancel_injection(struct lv_vcpu *vcpu)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);

	if (svm->vmcb->control.event_inj & SVM_EVTINJ_VALID)
		lv_svm_rewind_soft(svm, lv_svm_soft_len(svm));
	svm->vmcb->control.event_inj = 0;
}

/*
 * Tell the core which event, if any, the exit interrupted (a nested page
 * fault on the guest's IDT or stack, say): it is delivered again. The
 * core's own record says what kind of event an injected one was, which
 * EXITINTINFO cannot tell for INT3 and INTO.
 */
static void lv_svm_complete_events(struct lv_svm_vcpu *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	u32 info = c->exit_int_info;
	struct lv_event ev;
	unsigned int soft = 0;

	if (svm->awaiting_iret && !svm->nmi_singlestep &&
	    svm->vmcb->save.rip != svm->iret_rip) {
		svm->awaiting_iret = false;
		svm->nmi_masked = false;
	}
	if (likely(!(info & SVM_EXITINTINFO_VALID))) {
		lv_event_interrupted(&svm->vcpu, NULL);
		return;
	}
	ev = (struct lv_event) {
		.valid = 1, .vector = info & SVM_EXITINTINFO_VEC_MASK,
	};
	switch (info & SVM_EXITINTINFO_TYPE_MASK) {
	case SVM_EXITINTINFO_TYPE_INTR:
		ev.type = LV_EVENT_EXT_INTR;
		break;
	case SVM_EXITINTINFO_TYPE_NMI:
		ev.type = LV_EVENT_NMI;
		/* Delivered again, and masked again then. */
		svm->nmi_masked = false;
		break;
	case SVM_EXITINTINFO_TYPE_SOFT:
		ev.type = LV_EVENT_SOFT_INTR;
		soft = lv_svm_soft_len(svm);
		break;
	default:
		ev.type = LV_EVENT_EXCEPTION;
		soft = lv_svm_soft_len(svm);
		if (soft)
			ev.type = svm->vcpu.event.type;
		break;
	}
	if (soft) {
		ev.insn_len = soft;
		lv_svm_rewind_soft(svm, soft);
	}
	if (info & SVM_EXITINTINFO_VALID_ERR) {
		ev.has_error_code = 1;
		ev.error_code = c->exit_int_info_err;
	}
	lv_event_interrupted(&svm->vcpu, &ev);
}

/* --- into the guest and back --- */

static enum lv_exit_action lv_svm_entry_failed(struct lv_svm_vcpu *svm)
{
	struct lv_run *run = svm->vcpu.run;

	struct vmcb_save_area *save = &svm->vmcb->save;

	pr_err_ratelimited("vCPU %u: VMRUN failed (VMEXIT_INVALID): CR0 %#llx CR3 %#llx CR4 %#llx EFER %#llx CS attr %#x RIP %#llx RFLAGS %#llx DR6 %#llx DR7 %#llx EVENTINJ %#x\n",
			   svm->vcpu.id, save->cr0, save->cr3, save->cr4,
			   save->efer, save->cs.attrib, save->rip,
			   save->rflags, save->dr6, save->dr7,
			   svm->vmcb->control.event_inj);
	run->exit_reason = LV_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = (u32)SVM_EXIT_ERR;
	run->fail_entry.cpu = raw_smp_processor_id();
	return LV_EXIT_TO_USER;
}

/*
 * The guest's breakpoints are armed in hardware only while it runs:
 * DR0-DR3 are loaded when its DR7 enables one (VMRUN loads DR7 from the
 * VMCB), and the host's come back after the exit.
 */
/*
 * QEMU 7.2 arms breakpoints only at a MOV to DR7, not when VMRUN loads
 * DR7 from the VMCB. Under a hypervisor, the guest's enables are written
 * to DR7 as well, with GIF clear, just before VMRUN; a CPU loads the
 * same value at VMRUN anyway, and the host's comes back after the exit.
 * Never GD (it would trap our own MOV DR), and only breakpoints on
 * user-half addresses, which the kernel does not touch on its way into
 * the guest: a guest cannot make the host take a #DB.
 */
static unsigned long lv_svm_host_dr7(struct lv_svm_vcpu *svm)
{
	unsigned long dr7 = svm->vmcb->save.dr7 & ~LV_DR7_GD;
	int i;

	for (i = 0; i < 4; i++) {
		/* R/W = 10b: an I/O breakpoint (with CR4.DE, as Linux has). */
		if (svm->dr[i] < TASK_SIZE_MAX &&
		    ((dr7 >> (DR_CONTROL_SHIFT + i * DR_CONTROL_SIZE)) & 3) != 2)
			continue;
		dr7 &= ~(3UL << (i * 2));
	}
	return dr7;
}

static void lv_svm_load_guest_dr(struct lv_svm_vcpu *svm)
{
	if (hw_breakpoint_active())
		set_debugreg(0, 7);
	set_debugreg(svm->dr[0], 0);
	set_debugreg(svm->dr[1], 1);
	set_debugreg(svm->dr[2], 2);
	set_debugreg(svm->dr[3], 3);
	if (boot_cpu_has(X86_FEATURE_HYPERVISOR))
		set_debugreg(lv_svm_host_dr7(svm), 7);
}

/*
 * A machine check in the guest is the host's: its handler must see it,
 * as if it had come from user mode (the guest, not the kernel, ran).
 */
static void lv_svm_machine_check(void)
{
#if IS_ENABLED(CONFIG_X86_MCE)
	struct pt_regs regs = {
		.cs = 3,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

static void lv_svm_prepare_tlb(struct lv_svm_vcpu *svm)
{
	struct lv_vcpu *vcpu = &svm->vcpu;
	u8 ctl = TLB_CONTROL_DO_NOTHING;

	if (unlikely(vcpu->tlb_gen != atomic64_read(&vcpu->vm->tlb_gen))) {
		vcpu->tlb_gen = atomic64_read(&vcpu->vm->tlb_gen);
		svm->flush = true;
	}
	if (svm->flush || svm->asid == lv_nr_asids - 1)
		ctl = lv_svm_has(LV_SVM_FEAT_FLUSH_BY_ASID) ?
		      TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL_ASID;
	svm->vmcb->control.tlb_ctl = ctl;
	svm->flush = false;
}

/*
 * XSETBV is intercepted, but QEMU 7.2's SVM runs the guest's XSETBV
 * without the intercept: whatever XCR0 the guest left in the CPU (which
 * passed the CPU's own checks) is taken if the core's rules allow it,
 * and the host gets its own back in any case.
 */
static void lv_svm_sync_xcr0(struct lv_svm_vcpu *svm, u64 *host_xcr0)
{
	u64 loaded = *host_xcr0 ? svm->xcr0 : lv_host_xcr0();
	u64 now = xgetbv(XCR_XFEATURE_ENABLED_MASK);

	if (likely(now == loaded))
		return;
	if (lv_xcr0_valid(&svm->vcpu, now))
		lv_svm_set_xcr0(svm, now);
	*host_xcr0 = lv_host_xcr0();
}

/* After the exit, with GIF still clear: give the host its state back. */
static void lv_svm_restore_host(struct lv_svm_vcpu *svm, u64 host_xcr0,
				u32 host_pkru)
{
	if (lv_host_xcr0())
		lv_svm_sync_xcr0(svm, &host_xcr0);
	if (unlikely(svm->guest_bp))
		set_debugreg(0, 7);
	if (unlikely(hw_breakpoint_active()))
		hw_breakpoint_restore();
	if (svm->pkru_used) {
		svm->pkru = rdpkru();
		if (svm->pkru != host_pkru)
			write_pkru(host_pkru);
	}
	if (unlikely(host_xcr0))
		xsetbv(XCR_XFEATURE_ENABLED_MASK, host_xcr0);
}

static unsigned int lv_svm_stat(const struct vmcb_control_area *c);

static enum lv_exit_action lv_svm_vcpu_run(struct lv_vcpu *vcpu)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	u64 host_xcr0 = 0, host_spec_ctrl = 0;
	unsigned int flags;
	u32 host_pkru = 0;

	local_irq_disable();
	WRITE_ONCE(vcpu->mode, LV_IN_GUEST);
	smp_mb();	/* mode before reading requests; pairs with kicks */
	if (need_resched() || signal_pending(current) || READ_ONCE(vcpu->kicked)) {
		WRITE_ONCE(vcpu->mode, LV_OUTSIDE_GUEST);
		local_irq_enable();
		return LV_ENTRY_CANCELLED;
	}
	lv_guest_fpu_reload_irqoff();
	lv_svm_prepare_tlb(svm);
	vmcb->save.rax = vcpu->regs[LV_RAX];

	/* GIF clear: no interrupt, NMI or SMI until the host's state is back. */
	asm volatile("clgi" ::: "memory");
	if (unlikely(lv_host_xcr0() && svm->xcr0 != lv_host_xcr0())) {
		host_xcr0 = lv_host_xcr0();
		xsetbv(XCR_XFEATURE_ENABLED_MASK, svm->xcr0);
	}
	/* PKRU is not part of the guest FPU state the kernel swaps. */
	if (svm->pkru_used) {
		host_pkru = rdpkru();
		if (svm->pkru != host_pkru)
			write_pkru(svm->pkru);
	}
	if (unlikely(svm->guest_bp))
		lv_svm_load_guest_dr(svm);
	flags = lv_spec_ctrl_flags(vcpu->spec_ctrl, &host_spec_ctrl);
	/* MMIO stale data: the kernel asks for VERW only for device owners. */
	if (static_branch_unlikely(&mmio_stale_data_clear) &&
	    READ_ONCE(vcpu->vm->iommu))
		x86_clear_cpu_buffers();

	__lv_svm_vcpu_run(vcpu->regs, svm->vmcb_pa,
			  __pa(this_cpu_read(lv_host_save)), flags,
			  vcpu->spec_ctrl, host_spec_ctrl);

	WRITE_ONCE(vcpu->mode, LV_OUTSIDE_GUEST);
	lv_guest_exited_irqoff();
	vcpu->regs[LV_RAX] = vmcb->save.rax;
	lv_svm_restore_host(svm, host_xcr0, host_pkru);
	svm->exit_code = vmcb->control.exit_code;
	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	asm volatile("stgi" ::: "memory");

	lv_exit_mark(vcpu, lv_svm_stat(&vmcb->control));
	if (unlikely(svm->exit_code == (u32)SVM_EXIT_ERR)) {
		local_irq_enable();
		return lv_svm_entry_failed(svm);
	}
	if (svm->exit_code == SVM_EXIT_EXCP_BASE + X86_TRAP_MC)
		lv_svm_machine_check();
	/* Physical interrupts stay pending until now. */
	local_irq_enable();

	vmcb->control.event_inj = 0;
	lv_svm_complete_events(svm);
	return lv_svm_handle_exit(svm);
}

/* --- register state --- */

static void lv_svm_get_regs(struct lv_vcpu *vcpu, struct lv_regs *r)
{
	struct vmcb_save_area *save = &to_svm(vcpu)->vmcb->save;
	unsigned long *g = vcpu->regs;

	*r = (struct lv_regs) {
		.rax = g[LV_RAX], .rbx = g[LV_RBX], .rcx = g[LV_RCX],
		.rdx = g[LV_RDX], .rsi = g[LV_RSI], .rdi = g[LV_RDI],
		.rsp = save->rsp, .rbp = g[LV_RBP],
		.r8 = g[LV_R8], .r9 = g[LV_R9], .r10 = g[LV_R10],
		.r11 = g[LV_R11], .r12 = g[LV_R12], .r13 = g[LV_R13],
		.r14 = g[LV_R14], .r15 = g[LV_R15],
		.rip = save->rip, .rflags = save->rflags,
	};
}

static void lv_svm_set_rflags(struct lv_vcpu *vcpu, u64 rflags)
{
	/* Bit 1 is always 1; the reserved bits stay clear. */
	to_svm(vcpu)->vmcb->save.rflags = (rflags & 0x3f7fd7) | X86_EFLAGS_FIXED;
}

static void lv_svm_update_cpl(struct lv_svm_vcpu *svm);

static void lv_svm_set_regs(struct lv_vcpu *vcpu, const struct lv_regs *r)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);
	unsigned long *g = vcpu->regs;

	g[LV_RAX] = r->rax; g[LV_RBX] = r->rbx; g[LV_RCX] = r->rcx;
	g[LV_RDX] = r->rdx; g[LV_RSI] = r->rsi; g[LV_RDI] = r->rdi;
	g[LV_RBP] = r->rbp;
	g[LV_R8] = r->r8; g[LV_R9] = r->r9; g[LV_R10] = r->r10;
	g[LV_R11] = r->r11; g[LV_R12] = r->r12; g[LV_R13] = r->r13;
	g[LV_R14] = r->r14; g[LV_R15] = r->r15;
	svm->vmcb->save.rsp = r->rsp;
	svm->vmcb->save.rip = r->rip;
	lv_svm_set_rflags(vcpu, r->rflags);
	lv_svm_update_cpl(svm);
	/* An STI shadow needs IF = 1: it is over (as under VMX). */
	if (!(r->rflags & X86_EFLAGS_IF))
		svm->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

static void lv_svm_get_segment(const struct vmcb_seg *v, struct lv_segment *s)
{
	u16 a = v->attrib;

	*s = (struct lv_segment) {
		.selector = v->selector, .base = v->base, .limit = v->limit,
		.type = a & 15, .s = (a >> 4) & 1, .dpl = (a >> 5) & 3,
		.present = (a >> 7) & 1, .avl = (a >> 8) & 1,
		.l = (a >> 9) & 1, .db = (a >> 10) & 1, .g = (a >> 11) & 1,
		.unusable = !((a >> 7) & 1),
	};
}

static void lv_svm_set_segment(struct vmcb_seg *v, const struct lv_segment *s)
{
	u16 a = (s->type & 15) | (s->s & 1) << 4 | (s->dpl & 3) << 5 |
		(s->present & 1) << 7 | (s->avl & 1) << 8 | (s->l & 1) << 9 |
		(s->db & 1) << 10 | (s->g & 1) << 11;

	/* What VMX calls unusable is a segment that is not present. */
	if (s->unusable)
		a &= ~LV_SVM_ATTR_P;
	lv_svm_write_seg(v, s->selector, s->base, s->limit, a);
}

/* The segment registers of struct lv_sregs and their VMCB fields. */
static const struct {
	size_t vmcb;
	size_t sregs;
} lv_svm_segments[] = {
	{ offsetof(struct vmcb_save_area, cs), offsetof(struct lv_sregs, cs) },
	{ offsetof(struct vmcb_save_area, ds), offsetof(struct lv_sregs, ds) },
	{ offsetof(struct vmcb_save_area, es), offsetof(struct lv_sregs, es) },
	{ offsetof(struct vmcb_save_area, fs), offsetof(struct lv_sregs, fs) },
	{ offsetof(struct vmcb_save_area, gs), offsetof(struct lv_sregs, gs) },
	{ offsetof(struct vmcb_save_area, ss), offsetof(struct lv_sregs, ss) },
	{ offsetof(struct vmcb_save_area, tr), offsetof(struct lv_sregs, tr) },
	{ offsetof(struct vmcb_save_area, ldtr), offsetof(struct lv_sregs, ldt) },
};

/*
 * TR's type: the busy TSS a loaded TR always is (and VMX requires), kept
 * as "available" in the VMCB. No CPU looks at the hidden type (task
 * switches exit), but QEMU 7.2 aborts the whole machine on the first
 * privilege change of a guest whose TR cache says busy.
 */
#define LV_TSS_BUSY		BIT(1)

static void lv_svm_get_sregs(struct lv_vcpu *vcpu, struct lv_sregs *sr)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *save = &svm->vmcb->save;
	int i;

	memset(sr, 0, sizeof(*sr));
	for (i = 0; i < ARRAY_SIZE(lv_svm_segments); i++)
		lv_svm_get_segment((void *)save + lv_svm_segments[i].vmcb,
				   (void *)sr + lv_svm_segments[i].sregs);
	if (sr->tr.present && (sr->tr.type & 7) == 1)
		sr->tr.type |= LV_TSS_BUSY;
	sr->gdt.base = save->gdtr.base;
	sr->gdt.limit = save->gdtr.limit;
	sr->idt.base = save->idtr.base;
	sr->idt.limit = save->idtr.limit;
	sr->cr0 = svm->cr0;
	sr->cr2 = save->cr2;
	sr->cr3 = save->cr3;
	sr->cr4 = save->cr4;
	sr->cr8 = svm->cr8;
	sr->efer = save->efer & ~EFER_SVME;
	sr->apic_base = vcpu->apic_base;
}

/*
 * Reject what a real CPU could never be in; the core checked segments,
 * CR3 and the NW-without-CD rule (lv_check_entry_regs()). Together they
 * are what VMRUN's consistency checks (APM vol. 2, 15.5.1) look at, so
 * that no state userspace sets makes VMRUN fail.
 */
static int lv_svm_check_sregs(struct lv_vcpu *vcpu, const struct lv_sregs *sr)
{
	u64 pdpte[4];

	if (lv_apic_base_check(vcpu->apic_base, sr->apic_base, !!vcpu->lapic,
			       true))
		return -EINVAL;
	if (lv_check_sregs_cr(sr))
		return -EINVAL;
	/* As under VMX: PAE paging with a bad PDPTE is refused. */
	if (lv_pae_paging(sr->cr0, sr->cr4, sr->efer) &&
	    lv_load_pdptes_rsvd(vcpu->vm, sr->cr3, pdpte,
				LV_SVM_PDPTE_RSVD))
		return -EINVAL;
	return 0;
}

/* CPL: 0 in real mode, 3 in virtual-8086 mode, else SS.DPL. */
static void lv_svm_update_cpl(struct lv_svm_vcpu *svm)
{
	struct vmcb_save_area *save = &svm->vmcb->save;

	if (!(svm->cr0 & X86_CR0_PE))
		save->cpl = 0;
	else if (save->rflags & X86_EFLAGS_VM)
		save->cpl = 3;
	else
		save->cpl = (save->ss.attrib >> 5) & 3;
}

static void lv_svm_load_sregs(struct lv_svm_vcpu *svm,
			      const struct lv_sregs *sr)
{
	struct vmcb_save_area *save = &svm->vmcb->save;
	int i;

	for (i = 0; i < ARRAY_SIZE(lv_svm_segments); i++)
		lv_svm_set_segment((void *)save + lv_svm_segments[i].vmcb,
				   (const void *)sr + lv_svm_segments[i].sregs);
	if ((save->tr.attrib & 7) == 3)
		save->tr.attrib &= ~LV_TSS_BUSY;
	lv_svm_write_seg(&save->gdtr, 0, sr->gdt.base, sr->gdt.limit, 0);
	lv_svm_write_seg(&save->idtr, 0, sr->idt.base, sr->idt.limit, 0);
	save->cr2 = sr->cr2;
	save->cr3 = sr->cr3;
	svm->cr8 = sr->cr8;
	lv_svm_set_efer(svm, sr->efer);
	lv_svm_set_cr0(svm, sr->cr0);
	lv_svm_set_cr4(svm, sr->cr4);
	svm->vcpu.apic_base = sr->apic_base;
	lv_svm_update_cpl(svm);
	svm->flush = true;
}

static int lv_svm_set_sregs(struct lv_vcpu *vcpu, const struct lv_sregs *sr)
{
	int ret = lv_svm_check_sregs(vcpu, sr);

	if (ret)
		return ret;
	lv_svm_load_sregs(to_svm(vcpu), sr);
	return 0;
}

/*
 * The interruptibility state of struct lv_vcpu_state is the SDM's:
 * bit 0 STI blocking, bit 1 MOV-SS blocking, bit 3 NMI blocking. SVM
 * has one shadow for both.
 */
#define LV_INTR_STI		BIT(0)
#define LV_INTR_MOV_SS		BIT(1)
#define LV_INTR_NMI		BIT(3)

static void lv_svm_get_state(struct lv_vcpu *vcpu, struct lv_vcpu_state *st)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *save = &svm->vmcb->save;

	lv_svm_get_regs(vcpu, &st->regs);
	lv_svm_get_sregs(vcpu, &st->sregs);
	st->interruptibility = (lv_svm_in_shadow(svm) ? LV_INTR_STI : 0) |
			       (svm->nmi_masked ? LV_INTR_NMI : 0);
	st->sysenter_cs = save->sysenter_cs;
	st->sysenter_esp = save->sysenter_esp;
	st->sysenter_eip = save->sysenter_eip;
	st->star = save->star;
	st->lstar = save->lstar;
	st->cstar = save->cstar;
	st->fmask = save->sfmask;
	st->kernel_gs_base = save->kernel_gs_base;
	st->pat = save->g_pat;
	st->xcr0 = svm->xcr0;
	st->dr7 = save->dr7;
	st->pkru = svm->pkru;
	memcpy(st->db, svm->dr, sizeof(st->db));
	st->dr6 = save->dr6;
	lv_svm_get_msr(svm, MSR_IA32_TSC, &st->tsc);
	st->tsc_adjust = vcpu->tsc_adjust;
}

/*
 * Everything is checked before anything changes: a state refused with
 * EINVAL leaves the vCPU as it was. The core checked the event state,
 * the segments and the entry registers.
 */
static int lv_svm_set_state(struct lv_vcpu *vcpu, const struct lv_vcpu_state *st)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *save = &svm->vmcb->save;
	int ret;

	/* The host's own XSETBV would take #GP on a bad XCR0 at LV_RUN. */
	if (!lv_xcr0_valid(vcpu, st->xcr0) || st->dr7 >> 32)
		return -EINVAL;
	if (st->version >= 2 && st->pkru && !lv_cr4_valid(X86_CR4_PKE))
		return -EINVAL;
	/* DR6 as MOV to DR6 leaves it; its bits 63:32 would fail VMRUN. */
	if (st->version >= 2 &&
	    (st->dr6 & ~LV_DR6_VOLATILE) != LV_DR6_RESET)
		return -EINVAL;
	ret = lv_svm_check_sregs(vcpu, &st->sregs);
	if (ret)
		return ret;
	if (!lv_check_state_msrs(st))
		return -EINVAL;

	lv_svm_load_sregs(svm, &st->sregs);
	ret = lv_svm_set_msr(svm, MSR_STAR, st->star) ?:
	      lv_svm_set_msr(svm, MSR_LSTAR, st->lstar) ?:
	      lv_svm_set_msr(svm, MSR_CSTAR, st->cstar) ?:
	      lv_svm_set_msr(svm, MSR_SYSCALL_MASK, st->fmask) ?:
	      lv_svm_set_msr(svm, MSR_KERNEL_GS_BASE, st->kernel_gs_base) ?:
	      lv_svm_set_msr(svm, MSR_IA32_CR_PAT, st->pat) ?:
	      lv_svm_set_msr(svm, MSR_IA32_SYSENTER_CS, st->sysenter_cs) ?:
	      lv_svm_set_msr(svm, MSR_IA32_SYSENTER_ESP, st->sysenter_esp) ?:
	      lv_svm_set_msr(svm, MSR_IA32_SYSENTER_EIP, st->sysenter_eip);
	/* Checked above: cannot fail. */
	WARN_ON_ONCE(ret);
	lv_svm_set_regs(vcpu, &st->regs);
	lv_svm_update_cpl(svm);
	if (st->interruptibility & (LV_INTR_STI | LV_INTR_MOV_SS))
		svm->vmcb->control.int_state |= SVM_INTERRUPT_SHADOW_MASK;
	else
		svm->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	svm->nmi_masked = st->interruptibility & LV_INTR_NMI;
	svm->awaiting_iret = false;
	svm->nmi_singlestep = false;
	lv_svm_set_intercept(svm, INTERCEPT_IRET, svm->nmi_masked);
	lv_svm_set_xcr0(svm, st->xcr0);
	lv_svm_set_dr7(svm, st->dr7);
	if (st->version >= 2) {
		svm->pkru = st->pkru;
		if (st->pkru)
			svm->pkru_used = true;
		memcpy(svm->dr, st->db, sizeof(st->db));
		save->dr6 = st->dr6;
		/* Any value: the TSC is only an offset from the host's. */
		WARN_ON_ONCE(lv_svm_set_msr(svm, MSR_IA32_TSC, st->tsc));
	}
	vcpu->tsc_adjust = st->tsc_adjust;
	svm->vmcb->control.event_inj = 0;
	return 0;
}

/* Complete an instruction for the guest: move RIP, end any STI shadow. */
static void lv_svm_advance_rip(struct lv_vcpu *vcpu, unsigned int len)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *save = &svm->vmcb->save;
	u64 rip = save->rip + len;

	if (!((save->efer & EFER_LMA) && (save->cs.attrib & BIT(9))))
		rip &= 0xffffffffUL;
	save->rip = rip;
	svm->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

/* The exit handler measured the instruction (lv_svm_handle_exit()). */
void lv_svm_skip_instruction(struct lv_vcpu *vcpu)
{
	lv_svm_advance_rip(vcpu, to_svm(vcpu)->insn_len);
}

static void lv_svm_get_paging(struct lv_vcpu *vcpu, struct lv_paging *pg)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);

	pg->cr0 = svm->cr0;
	pg->cr3 = svm->vmcb->save.cr3;
	pg->cr4 = svm->vmcb->save.cr4;
	pg->efer = svm->vmcb->save.efer & ~EFER_SVME;
}

static void lv_svm_get_code(struct lv_vcpu *vcpu, u64 *linear_rip,
			    enum lv_cpu_mode *mode)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *save = &svm->vmcb->save;
	u16 cs = save->cs.attrib;

	if (!(svm->cr0 & X86_CR0_PE) || (save->rflags & X86_EFLAGS_VM))
		*mode = LV_MODE_REAL;
	else if ((save->efer & EFER_LMA) && (cs & BIT(9)))
		*mode = LV_MODE_LONG64;
	else
		*mode = cs & BIT(10) ? LV_MODE_PROT32 : LV_MODE_PROT16;
	if (*mode == LV_MODE_LONG64)
		*linear_rip = save->rip;
	else
		*linear_rip = (save->cs.base + save->rip) & 0xffffffffULL;
}

static unsigned int lv_svm_get_cpl(struct lv_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.cpl & 3;
}

static u64 lv_svm_get_rflags(struct lv_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.rflags;
}

static unsigned long lv_svm_get_rsp(struct lv_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.rsp;
}

static void lv_svm_set_rsp(struct lv_vcpu *vcpu, unsigned long rsp)
{
	to_svm(vcpu)->vmcb->save.rsp = rsp;
}

static u64 lv_svm_get_seg_base(struct lv_vcpu *vcpu, unsigned int seg)
{
	struct vmcb_save_area *save = &to_svm(vcpu)->vmcb->save;

	switch (seg) {
	case LV_SEG_ES:
		return save->es.base;
	case LV_SEG_CS:
		return save->cs.base;
	case LV_SEG_SS:
		return save->ss.base;
	case LV_SEG_DS:
		return save->ds.base;
	case LV_SEG_FS:
		return save->fs.base;
	case LV_SEG_GS:
		return save->gs.base;
	}
	return 0;
}

/* The next entry delivers a #PF: VMRUN loads CR2 from the VMCB. */
static void lv_svm_set_cr2(struct lv_vcpu *vcpu, u64 cr2)
{
	to_svm(vcpu)->vmcb->save.cr2 = cr2;
}

/* --- guest memory --- */

static int lv_svm_vm_init(struct lv_vm *vm)
{
	struct lv_svm_vm *svm_vm;
	int ret;

	svm_vm = kzalloc(sizeof(*svm_vm), GFP_KERNEL_ACCOUNT);
	if (!svm_vm)
		return -ENOMEM;
	ret = lv_ept_init_format(&svm_vm->npt, LV_PT_NPT);
	if (ret)
		goto err_free;
	svm_vm->ncr3 = lv_npt_cr3(&svm_vm->npt);
	if (pgtable_l5_enabled()) {
		ret = -ENOMEM;
		svm_vm->pml5 = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!svm_vm->pml5)
			goto err_npt;
		svm_vm->pml5[0] = svm_vm->ncr3 | NPT_PRESENT | NPT_WRITE |
				  NPT_USER;
		svm_vm->ncr3 = __pa(svm_vm->pml5);
	}
	svm_vm->id = atomic64_inc_return(&lv_vm_ids);
	vm->vendor = svm_vm;
	return 0;

err_npt:
	lv_ept_destroy(&svm_vm->npt);
err_free:
	kfree(svm_vm);
	return ret;
}

static void lv_svm_vm_destroy(struct lv_vm *vm)
{
	struct lv_svm_vm *svm_vm = to_svm_vm(vm);

	if (!svm_vm)
		return;
	lv_ept_destroy(&svm_vm->npt);
	free_page((unsigned long)svm_vm->pml5);
	kfree(svm_vm);
	vm->vendor = NULL;
}

static bool lv_svm_vm_unmap_range(struct lv_vm *vm, u64 gpa, u64 size)
{
	/* No cache: large leaves go whole, and the guest faults back in. */
	struct lv_ept_cache none = { .nr = 0 };

	return lv_ept_unmap_range(&to_svm_vm(vm)->npt, &none, gpa, size, NULL,
				  NULL);
}

static void lv_svm_vm_flushed(struct lv_vm *vm)
{
	lv_ept_free_zapped(&to_svm_vm(vm)->npt);
}

static int lv_svm_mmu_topup(struct lv_vcpu *vcpu)
{
	return lv_ept_cache_topup(&to_svm(vcpu)->npt_cache, GFP_KERNEL_ACCOUNT);
}

/* LV_PROT_* and LV_EPT_* are the same bits; the table code converts. */
static unsigned int lv_svm_prot(unsigned int prot)
{
	unsigned int p = 0;

	if (prot & LV_PROT_READ)
		p |= LV_EPT_R;
	if (prot & LV_PROT_WRITE)
		p |= LV_EPT_W;
	if (prot & LV_PROT_EXEC)
		p |= LV_EPT_X;
	return p;
}

static int lv_svm_mmu_map(struct lv_vcpu *vcpu, u64 gpa, u64 hpa,
			  enum lv_map_level level, unsigned int prot)
{
	return lv_ept_map(&to_svm_vm(vcpu->vm)->npt, &to_svm(vcpu)->npt_cache,
			  gpa, hpa, level == LV_MAP_2M ? LV_EPT_2M : LV_EPT_4K,
			  lv_svm_prot(prot));
}

/* Device memory (assigned BARs): see lv_ept_map_phys(). */
static int lv_svm_vm_map_phys(struct lv_vm *vm, u64 gpa, u64 hpa, u64 size,
			      unsigned int prot, bool uncached)
{
	return lv_ept_map_phys(&to_svm_vm(vm)->npt, &vm->mmu_lock, gpa, hpa,
			       size, lv_svm_prot(prot) |
			       (uncached ? LV_EPT_UC : 0));
}

/* INIT: the reset state but for the MSRs INIT keeps. */
static void lv_svm_init_vcpu(struct lv_vcpu *vcpu)
{
	struct lv_svm_vcpu *svm = to_svm(vcpu);

	lv_svm_setup_guest_state(svm);
	/* The core dropped the vCPU's events; the hardware forgets them. */
	svm->vmcb->control.event_inj = 0;
	lv_svm_set_vintr(svm, false);
	lv_svm_set_intercept(svm, INTERCEPT_IRET, false);
}

static void lv_svm_set_tsc_offset(struct lv_vcpu *vcpu, s64 offset)
{
	to_svm(vcpu)->vmcb->control.tsc_offset = offset;
}

/*
 * Exit statistics: SVM's exit codes go up to 0x400 (NPF); the table has
 * LV_MAX_EXIT_STATS entries. CR, DR and exception intercepts share one
 * entry each, MSR writes have their own; 0x60 (INTR) and up keep theirs.
 * The shared entries are named as VMX's alike exits are, so that tools
 * reading debugfs count the same things under both backends.
 */
#define LV_SVM_STAT_OTHER	0
#define LV_SVM_STAT_NPF		1
#define LV_SVM_STAT_CR		2
#define LV_SVM_STAT_DR		3
#define LV_SVM_STAT_EXCP	4
#define LV_SVM_STAT_MSR_WRITE	5
#define LV_SVM_STAT_BASE	16

static unsigned int lv_svm_stat(const struct vmcb_control_area *c)
{
	u32 code = c->exit_code;

	if (code == SVM_EXIT_MSR && c->exit_info_1)
		return LV_SVM_STAT_MSR_WRITE;
	if (code < SVM_EXIT_READ_DR0)
		return LV_SVM_STAT_CR;
	if (code < SVM_EXIT_EXCP_BASE)
		return LV_SVM_STAT_DR;
	if (code < SVM_EXIT_INTR)
		return LV_SVM_STAT_EXCP;
	if (code == SVM_EXIT_NPF)
		return LV_SVM_STAT_NPF;
	if (code - SVM_EXIT_INTR + LV_SVM_STAT_BASE < LV_EXIT_STAT_MMIO)
		return code - SVM_EXIT_INTR + LV_SVM_STAT_BASE;
	return LV_SVM_STAT_OTHER;
}

static const struct {
	u32 code;
	const char *name;
} lv_svm_exit_names[] = { SVM_EXIT_REASONS };

static const char *lv_svm_exit_reason_name(u16 stat)
{
	unsigned int i;

	switch (stat) {
	case LV_SVM_STAT_NPF:
		return "NPF";
	case LV_SVM_STAT_CR:
		return "CR_ACCESS";
	case LV_SVM_STAT_DR:
		return "DR_ACCESS";
	case LV_SVM_STAT_EXCP:
		return "EXCEPTION";
	case LV_SVM_STAT_MSR_WRITE:
		return "MSR_WRITE";
	case SVM_EXIT_MSR - SVM_EXIT_INTR + LV_SVM_STAT_BASE:
		return "MSR_READ";
	}
	if (stat < LV_SVM_STAT_BASE)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(lv_svm_exit_names); i++)
		if (lv_svm_exit_names[i].code == stat - LV_SVM_STAT_BASE +
		    SVM_EXIT_INTR)
			return lv_svm_exit_names[i].name;
	return NULL;
}

static const struct lv_vendor_ops lv_svm_ops = {
	.name			= "svm",
	.exit_reason_name	= lv_svm_exit_reason_name,
	.cpu_enable		= lv_svm_cpu_enable,
	.cpu_disable		= lv_svm_cpu_disable,
	.cpu_emergency_disable	= lv_svm_cpu_emergency_disable,
	.vm_init		= lv_svm_vm_init,
	.vm_destroy		= lv_svm_vm_destroy,
	.vm_unmap_range		= lv_svm_vm_unmap_range,
	.vm_flushed		= lv_svm_vm_flushed,
	.mmu_topup		= lv_svm_mmu_topup,
	.mmu_map		= lv_svm_mmu_map,
	.vm_map_phys		= lv_svm_vm_map_phys,
	.vcpu_create		= lv_svm_vcpu_create,
	.vcpu_free		= lv_svm_vcpu_free,
	.vcpu_size		= sizeof(struct lv_svm_vcpu),
	.vcpu_load		= lv_svm_vcpu_load,
	.vcpu_put		= lv_svm_vcpu_put,
	.vcpu_run		= lv_svm_vcpu_run,
	.get_regs		= lv_svm_get_regs,
	.set_regs		= lv_svm_set_regs,
	.get_sregs		= lv_svm_get_sregs,
	.set_sregs		= lv_svm_set_sregs,
	.get_state		= lv_svm_get_state,
	.set_state		= lv_svm_set_state,
	.skip_instruction	= lv_svm_skip_instruction,
	.advance_rip		= lv_svm_advance_rip,
	.get_paging		= lv_svm_get_paging,
	.get_code		= lv_svm_get_code,
	.get_cpl		= lv_svm_get_cpl,
	.get_rflags		= lv_svm_get_rflags,
	.interrupt_allowed	= lv_svm_interrupt_allowed,
	.nmi_allowed		= lv_svm_nmi_allowed,
	.enable_irq_window	= lv_svm_enable_irq_window,
	.enable_nmi_window	= lv_svm_enable_nmi_window,
	.inject_event		= lv_svm_inject_event,
	.cancel_injection	= lv_svm_cancel_injection,
	.set_rflags		= lv_svm_set_rflags,
	.get_rsp		= lv_svm_get_rsp,
	.set_rsp		= lv_svm_set_rsp,
	.get_seg_base		= lv_svm_get_seg_base,
	.set_cr2		= lv_svm_set_cr2,
	.init_vcpu		= lv_svm_init_vcpu,
	.set_tsc_offset		= lv_svm_set_tsc_offset,
};

/* --- load and unload --- */

static void lv_svm_free_regions(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		free_page((unsigned long)per_cpu(lv_hsave, cpu));
		free_page((unsigned long)per_cpu(lv_host_save, cpu));
		per_cpu(lv_hsave, cpu) = NULL;
		per_cpu(lv_host_save, cpu) = NULL;
	}
	free_pages((unsigned long)lv_iopm, LV_IOPM_ORDER);
	free_pages((unsigned long)lv_msrpm, LV_MSRPM_ORDER);
	lv_iopm = NULL;
	lv_msrpm = NULL;
}

static int lv_svm_alloc_regions(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		per_cpu(lv_hsave, cpu) = (void *)get_zeroed_page(GFP_KERNEL);
		per_cpu(lv_host_save, cpu) = (void *)get_zeroed_page(GFP_KERNEL);
		if (!per_cpu(lv_hsave, cpu) || !per_cpu(lv_host_save, cpu))
			return -ENOMEM;
	}
	lv_iopm = (void *)__get_free_pages(GFP_KERNEL, LV_IOPM_ORDER);
	lv_msrpm = (void *)__get_free_pages(GFP_KERNEL, LV_MSRPM_ORDER);
	if (!lv_iopm || !lv_msrpm)
		return -ENOMEM;
	/* Every port exits: devices live in userspace. */
	memset(lv_iopm, 0xff, PAGE_SIZE << LV_IOPM_ORDER);
	lv_svm_msrpm_init(lv_msrpm);
	return 0;
}

/* Say plainly why guests cannot run here. */
static bool lv_svm_supported(void)
{
	u64 vm_cr;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		pr_info("not an AMD CPU: no SVM backend\n");
		return false;
	}
	if (!boot_cpu_has(X86_FEATURE_SVM)) {
		pr_info("CPU has no SVM (CPUID.80000001H:ECX.SVM[bit 2] = 0)\n");
		return false;
	}
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) ||
	    (vm_cr & LV_VM_CR_SVMDIS)) {
		pr_info("SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
		return false;
	}
	if (cpuid_eax(0x80000000) < SVM_CPUID_FUNC) {
		pr_info("CPU has no SVM feature leaf\n");
		return false;
	}
	return true;
}

const struct lv_vendor_ops *lv_svm_probe(struct lv_hw_caps *caps)
{
	if (!lv_svm_supported())
		return NULL;
	lv_svm_features = cpuid_edx(SVM_CPUID_FUNC);
	lv_nr_asids = cpuid_ebx(SVM_CPUID_FUNC);
	if (!lv_svm_has(LV_SVM_FEAT_NPT)) {
		pr_info("SVM lacks nested paging: guests cannot run\n");
		return NULL;
	}
	if (lv_nr_asids < 2) {
		pr_info("SVM has no ASID for guests: guests cannot run\n");
		return NULL;
	}
	if (lv_svm_alloc_regions()) {
		lv_svm_free_regions();
		pr_err("out of memory for SVM regions\n");
		return NULL;
	}
	/* VMRUN refuses no CR4 bit the host has: the core's list is all. */
	lv_x86_init(~0UL);
	caps->run_guests = true;
	caps->tdp = true;
	caps->unrestricted_guest = true;
	caps->tagged_tlb = true;
	lv_vcpu_module_init();
	pr_info("SVM with nested paging, %u ASIDs%s%s%s\n", lv_nr_asids,
		lv_svm_has(LV_SVM_FEAT_NRIPS) ? ", next-RIP saving" : "",
		lv_svm_has(LV_SVM_FEAT_DECODE_ASSISTS) ? ", decode assists" : "",
		lv_svm_has(LV_SVM_FEAT_FLUSH_BY_ASID) ? ", flush by ASID" : "");
	return &lv_svm_ops;
}

void lv_svm_exit(void)
{
	if (!lv_iopm)
		return;
	lv_vcpu_module_exit();
	lv_svm_free_regions();
}
