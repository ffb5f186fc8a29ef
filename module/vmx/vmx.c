// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VMX backend: VMX operation per CPU, the VMCS of each vCPU, and
 * the path into the guest and back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": vmx: " fmt
#define LV_VMX_INTERNAL

#include <linux/acpi.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <asm/trapnr.h>
#include <asm/cpu_entry_area.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/xcr.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/mmu_context.h>
#include <asm/mce.h>
#include <asm/nospec-branch.h>
#include <asm/pkru.h>
#include <asm/traps.h>
#if IS_ENABLED(CONFIG_X86_FRED)
#include <asm/fred.h>
#endif

#include "vmx.h"
#include "vmcs.h"
#include "../run_flags.h"
#include "irq/lapic.h"

/* One VMXON region per CPU, and the VMCSs currently loaded on it. */
static DEFINE_PER_CPU(void *, lv_vmxon_region);
static DEFINE_PER_CPU(struct list_head, lv_loaded_vmcss);
static DEFINE_PER_CPU(struct lv_vmx_vcpu *, lv_current_vmcs);
/* The VM whose vCPU ran last on this CPU (struct lv_vmx_vm.id). */
static DEFINE_PER_CPU(u64, lv_last_vm_id);
static atomic64_t lv_vm_ids = ATOMIC64_INIT(0);

static DEFINE_IDA(lv_vpid_ida);

/* Shared by every vCPU: all ports exit; most MSRs exit. */
static unsigned long *lv_io_bitmap;
static unsigned long *lv_msr_bitmap;
/* The same with the APIC's TPR, EOI and SELF IPI MSRs virtualized. */
static unsigned long *lv_msr_bitmap_x2apic;

/* VMX-preemption timer: bounds the time a vCPU stays in the guest. */
static u32 lv_preemption_timer_value;
/* L1TF: flush L1D before every entry; the buffer for CPUs without the MSR. */
static bool lv_l1d_flush;

/*
 * Use the TPR shadow where the CPU has it (LV_CAP_TPR_SHADOW); 0 keeps
 * every CR8 access an exit, the path of CPUs without it.
 */
static bool tpr_shadow = true;
module_param(tpr_shadow, bool, 0444);
MODULE_PARM_DESC(tpr_shadow, "Let guests with an in-kernel APIC move CR8 without a VM exit where the CPU allows (default: on)");

/*
 * Virtual-interrupt delivery (LV_CAP_VIRT_INTR_DELIVERY), with the TPR
 * shadow and the x2APIC mode virtualization: interrupts delivered, and
 * edge-triggered ones ended, without exits. 0: every EOI exits.
 */
static bool apicv = true;
module_param(apicv, bool, 0444);
MODULE_PARM_DESC(apicv, "Deliver and end guest interrupts without VM exits where the CPU allows (needs tpr_shadow; default: on)");

/*
 * The APIC-access page (LV_CAP_APIC_ACCESS) for xAPIC-mode guests, with
 * virtual-interrupt delivery. Off by default: its only test CPU, Bochs,
 * cannot use it safely (vid_erratum below).
 */
static bool apic_access;
module_param(apic_access, bool, 0444);
MODULE_PARM_DESC(apic_access, "Virtualize xAPIC-mode accesses through an APIC-access page where the CPU allows (needs apicv; default: off)");

/*
 * Bochs 2.7 delivers a virtual interrupt that is pending but held back
 * by the guest's IF=0 as soon as a host interrupt arrives: its
 * InterruptAcknowledge() tests that the event is pending, not that it is
 * unmasked, and with external-interrupt exiting a host interrupt is never
 * masked by the guest's IF. A real CPU delivers a virtual interrupt only
 * with IF=1 (SDM vol. 3C, 30.2.2). An interrupt becomes pending at an
 * entry, which lightvisor handles (an entry with IF=0 and an interrupt
 * waiting arms the interrupt window, and Bochs marks nothing pending then),
 * and inside the guest: at the EOI of a higher vector, or at a self-IPI.
 * Guests do both with IF=0 (every handler ends with its EOI). So on such
 * a CPU every x2APIC SELF IPI write exits, every EOI exits while the IRR
 * holds a vector the entry does not deliver, and the APIC-access page is
 * not used: with it, an xAPIC self-IPI through the ICR's shorthand stays
 * inside the guest.
 */
static int vid_erratum = -1;
module_param(vid_erratum, int, 0444);
MODULE_PARM_DESC(vid_erratum, "Make x2APIC self-IPIs, and EOIs that could let an interrupt through, exit and use no APIC-access page, for CPUs that deliver virtual interrupts with IF clear (-1: on Bochs, the default; 0: off; 1: on)");
static bool lv_vid_erratum;
static void *lv_l1d_flush_pages;
#define LV_L1D_FLUSH_ORDER	4

/*
 * CR4 bits the guest changes without exits, as in KVM: none of them
 * changes how the host or lightvisor reads guest memory or which state
 * must be switched. Every other bit is validated on its way in.
 */
#define LV_CR4_GUEST_OWNED	(X86_CR4_PVI | X86_CR4_DE | X86_CR4_PCE |	\
				 X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |		\
				 X86_CR4_PGE | X86_CR4_TSD | X86_CR4_FSGSBASE)
/* CR4 bits whose change flushes the TLB (SDM vol. 3A, 4.10.4.1). */
#define LV_CR4_TLB_BITS		(X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE |	\
				 X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP |	\
				 X86_CR4_LA57 | X86_CR4_PKE)

/*
 * The VM-instruction error of the current VMCS, read without the error
 * hooks (they call us); -1 when there is no current VMCS (VMfailInvalid).
 */
static long lv_vmx_insn_error(void)
{
	unsigned long value;
	bool fail;

	asm volatile("vmread %[field], %[value]" CC_SET(be)
		     : CC_OUT(be) (fail), [value] "=r" (value)
		     : [field] "r" ((unsigned long)VM_INSTRUCTION_ERROR));
	return fail ? -1 : (long)(u32)value;
}

void lv_vmread_error(unsigned long field)
{
	pr_err_ratelimited("VMREAD of field %#lx failed: VM-instruction error %ld\n",
			   field, lv_vmx_insn_error());
}

void lv_vmwrite_error(unsigned long field, unsigned long value)
{
	pr_err_ratelimited("VMWRITE %#lx to field %#lx failed: VM-instruction error %ld\n",
			   value, field, lv_vmx_insn_error());
}

static bool lv_vmx_insn(const char *name, bool fail)
{
	if (unlikely(fail))
		pr_err_ratelimited("%s failed: VM-instruction error %ld\n", name,
				   lv_vmx_insn_error());
	return !fail;
}

static bool vmx_on(u64 pa)
{
	bool fail;

	asm volatile("vmxon %[pa]" CC_SET(be)
		     : CC_OUT(be) (fail) : [pa] "m" (pa) : "memory");
	return lv_vmx_insn("VMXON", fail);
}

static void vmxoff(void)
{
	asm volatile("vmxoff" ::: "cc", "memory");
}

static bool vmcs_clear(void *vmcs)
{
	u64 pa = __pa(vmcs);
	bool fail;

	asm volatile("vmclear %[pa]" CC_SET(be)
		     : CC_OUT(be) (fail) : [pa] "m" (pa) : "memory");
	return lv_vmx_insn("VMCLEAR", fail);
}

static bool vmcs_load(void *vmcs)
{
	u64 pa = __pa(vmcs);
	bool fail;

	asm volatile("vmptrld %[pa]" CC_SET(be)
		     : CC_OUT(be) (fail) : [pa] "m" (pa) : "memory");
	return lv_vmx_insn("VMPTRLD", fail);
}

/*
 * INVEPT and INVVPID share a form: the invalidation type in a register,
 * a 128-bit descriptor in memory.
 */
#define lv_vmx_invalidate(insn, name, type, desc_lo, desc_hi) do {	\
	struct { u64 lo, hi; } __desc = { (desc_lo), (desc_hi) };	\
	bool __fail;							\
									\
	asm volatile(insn " %[desc], %[t]" CC_SET(be)			\
		     : CC_OUT(be) (__fail)				\
		     : [desc] "m" (__desc), [t] "r" ((unsigned long)(type)) \
		     : "memory");					\
	lv_vmx_insn(name, __fail);					\
} while (0)

static void invept_single(u64 eptp)
{
	lv_vmx_invalidate("invept", "INVEPT", VMX_EPT_EXTENT_CONTEXT, eptp, 0);
}

static void invvpid_single(u16 vpid)
{
	lv_vmx_invalidate("invvpid", "INVVPID", VMX_VPID_EXTENT_SINGLE_CONTEXT,
			  vpid, 0);
}

/* --- VMX operation on this CPU --- */

static int lv_vmx_cpu_enable(void)
{
	int cpu = raw_smp_processor_id();
	u64 feat;

	/* Someone else (kvm_intel) is in VMX operation here. */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;

	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if (!(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return -EOPNOTSUPP;

	INIT_LIST_HEAD(per_cpu_ptr(&lv_loaded_vmcss, cpu));
	cr4_set_bits(X86_CR4_VMXE);
	if (!vmx_on(__pa(per_cpu(lv_vmxon_region, cpu)))) {
		cr4_clear_bits(X86_CR4_VMXE);
		return -EIO;
	}
	/* Stale translations tagged with our VPIDs or EPTPs may survive. */
	return 0;
}

static void lv_vmx_vmcs_clear(void *arg)
{
	struct lv_vmx_vcpu *vmx = arg;
	int cpu = raw_smp_processor_id();

	if (vmx->vcpu.cpu != cpu)
		return;
	vmcs_clear(vmx->vmcs);
	if (per_cpu(lv_current_vmcs, cpu) == vmx)
		per_cpu(lv_current_vmcs, cpu) = NULL;
	list_del(&vmx->loaded_on);
	vmx->launched = false;
	/* Order the list removal before another CPU loads this VMCS. */
	smp_wmb();
	WRITE_ONCE(vmx->vcpu.cpu, -1);
}

/*
 * Interrupts are off: the list changes only on its own CPU, in the VMCLEAR
 * IPI or in vcpu_load with interrupts off, so nothing unlinks an entry
 * under this walk.
 */
static void lv_vmx_cpu_disable(void)
{
	int cpu = raw_smp_processor_id();
	struct lv_vmx_vcpu *vmx, *tmp;

	lockdep_assert_irqs_disabled();
	/* A VMCS must be cleared before it may be used on another CPU. */
	list_for_each_entry_safe(vmx, tmp, per_cpu_ptr(&lv_loaded_vmcss, cpu),
				 loaded_on)
		lv_vmx_vmcs_clear(vmx);
	vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
}

/*
 * Reboot or crash, in NMI context: the list may be half changed by the
 * code this NMI interrupted, which never resumes. Write back what VMCSs
 * can be found (for a crash dump) and leave VMX operation so INIT works.
 */
static void lv_vmx_cpu_emergency_disable(void)
{
	struct lv_vmx_vcpu *vmx;

	list_for_each_entry(vmx, this_cpu_ptr(&lv_loaded_vmcss), loaded_on)
		vmcs_clear(vmx->vmcs);
	vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
}

/* --- VMCS load and put --- */

static void lv_vmx_clear_on_old_cpu(struct lv_vmx_vcpu *vmx)
{
	int cpu = READ_ONCE(vmx->vcpu.cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, lv_vmx_vmcs_clear, vmx, 1);
}

/* Host state that depends on the CPU or the task. */
static void lv_vmx_set_host_cpu_state(int cpu)
{
	struct desc_ptr idt;
	unsigned long sysenter_esp, gs_base;

	vmcs_writel(HOST_TR_BASE,
		    (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	vmcs_writel(HOST_GDTR_BASE, (unsigned long)get_cpu_gdt_ro(cpu));
	store_idt(&idt);
	vmcs_writel(HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_IA32_SYSENTER_ESP, sysenter_esp);
	vmcs_writel(HOST_IA32_SYSENTER_ESP, sysenter_esp);
	/* In the kernel, GS_BASE is this CPU's per-CPU area. */
	rdmsrl(MSR_GS_BASE, gs_base);
	vmcs_writel(HOST_GS_BASE, gs_base);
}

/*
 * Branch predictions trained by one VM must not steer another (Spectre
 * v2 between guests): IBPB when a CPU switches to a vCPU of another VM,
 * if the kernel uses IBPB at all.
 */
static void lv_vmx_switch_vm_barrier(struct lv_vmx_vm *vvm, int cpu)
{
	if (per_cpu(lv_last_vm_id, cpu) == vvm->id)
		return;
	per_cpu(lv_last_vm_id, cpu) = vvm->id;
	indirect_branch_prediction_barrier();
}

static void lv_vmx_vcpu_load(struct lv_vcpu *vcpu, int cpu)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);
	bool migrated = vcpu->cpu != cpu;

	if (migrated) {
		lv_vmx_clear_on_old_cpu(vmx);
		/* Pairs with the smp_wmb() in lv_vmx_vmcs_clear(). */
		smp_rmb();
		local_irq_disable();
		list_add(&vmx->loaded_on, per_cpu_ptr(&lv_loaded_vmcss, cpu));
		local_irq_enable();
		WRITE_ONCE(vcpu->cpu, cpu);
	}
	if (per_cpu(lv_current_vmcs, cpu) != vmx) {
		vmcs_load(vmx->vmcs);
		per_cpu(lv_current_vmcs, cpu) = vmx;
		lv_vmx_switch_vm_barrier(to_vmx_vm(vcpu->vm), cpu);
	}
	if (migrated) {
		lv_vmx_set_host_cpu_state(cpu);
		/* Translations this CPU cached for us may be stale. */
		invept_single(to_vmx_vm(vcpu->vm)->eptp);
		if (vmx->vpid)
			invvpid_single(vmx->vpid);
		vcpu->tlb_gen = atomic64_read(&vcpu->vm->tlb_gen);
	}

	/* The host segment state of this task, restored on put. */
	savesegment(ds, vmx->host_seg.ds);
	savesegment(es, vmx->host_seg.es);
	savesegment(fs, vmx->host_seg.fs);
	savesegment(gs, vmx->host_seg.gs);
	vmx->host_seg.ldt = 0;
	asm volatile("sldt %0" : "=g" (vmx->host_seg.ldt));
	rdmsrl(MSR_FS_BASE, vmx->host_seg.fs_base);
	vmcs_writel(HOST_FS_BASE, vmx->host_seg.fs_base);
	/* A VM exit clears IA32_DEBUGCTL: the value to put back after each. */
	vmx->host_debugctl = get_debugctlmsr();
	lv_vmx_load_guest_msrs(vmx);
	vmx->host_seg.saved = true;
}

/*
 * A VM exit loads null DS/ES/FS/GS selectors and LDTR and limits the GDT
 * and TSS: put the task's own values back before it can notice.
 */
static void lv_vmx_vcpu_put(struct lv_vcpu *vcpu)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);

	if (!vmx->host_seg.saved)
		return;
	vmx->host_seg.saved = false;
	lv_vmx_load_host_msrs(vmx);
	if (vmx->host_seg.ldt)
		asm volatile("lldt %0" : : "rm" (vmx->host_seg.ldt));
	loadsegment(ds, vmx->host_seg.ds);
	loadsegment(es, vmx->host_seg.es);
	if (vmx->host_seg.fs) {
		loadsegment(fs, vmx->host_seg.fs);
		wrmsrl(MSR_FS_BASE, vmx->host_seg.fs_base);
	}
	if (vmx->host_seg.gs)
		load_gs_index(vmx->host_seg.gs);
	invalidate_tss_limit();
	load_fixmap_gdt(raw_smp_processor_id());
}

/* --- VMCS setup --- */

#define LV_AR_UNUSABLE		BIT(16)

/*
 * Host state that is the same on every CPU, as the host really has it:
 * a VM exit loads all of it, and anything wrong here is wrong for every
 * host task after the exit (a SYSENTER_EIP of 0 sends the next SYSENTER
 * from user mode to address 0 in ring 0).
 */
static void lv_vmx_setup_host_state(void)
{
	unsigned long sysenter_eip;
	u64 sysenter_cs;

	/* CD and NW are kept by a VM exit; the guest never gets them. */
	vmcs_writel(HOST_CR0, read_cr0() & ~X86_CR0_TS);
	vmcs_writel(HOST_CR4, cr4_read_shadow());
	vmcs_writel(HOST_CR3, __get_current_cr3_fast());
	vmcs_write16(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write16(HOST_SS_SELECTOR, __KERNEL_DS);
	/* Null data selectors: lv_vmx_vcpu_put() restores the task's own. */
	vmcs_write16(HOST_DS_SELECTOR, 0);
	vmcs_write16(HOST_ES_SELECTOR, 0);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmcs_writel(HOST_RIP, (unsigned long)lv_vmx_vmexit);
	rdmsrl(MSR_IA32_SYSENTER_CS, sysenter_cs);
	vmcs_write32(HOST_IA32_SYSENTER_CS, (u32)sysenter_cs);
	rdmsrl(MSR_IA32_SYSENTER_EIP, sysenter_eip);
	vmcs_writel(HOST_IA32_SYSENTER_EIP, sysenter_eip);
	vmcs_write64(HOST_IA32_PAT, native_read_msr(MSR_IA32_CR_PAT));
	vmcs_write64(HOST_IA32_EFER, native_read_msr(MSR_EFER));
}

static void lv_vmx_write_segment(unsigned int sel_field, u16 sel, u64 base,
				 u32 limit, u32 ar)
{
	/* Fields of one segment are spaced alike for ES..TR (SDM B.1-B.4). */
	unsigned int i = (sel_field - GUEST_ES_SELECTOR) / 2;

	__vmcs_write(GUEST_ES_SELECTOR + i * 2, sel);
	__vmcs_write(GUEST_ES_BASE + i * 2, base);
	__vmcs_write(GUEST_ES_LIMIT + i * 2, limit);
	__vmcs_write(GUEST_ES_AR_BYTES + i * 2, ar);
}

/* The state of a CPU after INIT, as the SDM's table 10-1 gives it. */
static void lv_vmx_setup_guest_state(struct lv_vmx_vcpu *vmx)
{
	lv_vmx_write_segment(GUEST_CS_SELECTOR, 0xf000, 0xffff0000, 0xffff, 0x9b);
	lv_vmx_write_segment(GUEST_DS_SELECTOR, 0, 0, 0xffff, 0x93);
	lv_vmx_write_segment(GUEST_ES_SELECTOR, 0, 0, 0xffff, 0x93);
	lv_vmx_write_segment(GUEST_FS_SELECTOR, 0, 0, 0xffff, 0x93);
	lv_vmx_write_segment(GUEST_GS_SELECTOR, 0, 0, 0xffff, 0x93);
	lv_vmx_write_segment(GUEST_SS_SELECTOR, 0, 0, 0xffff, 0x93);
	lv_vmx_write_segment(GUEST_TR_SELECTOR, 0, 0, 0xffff, 0x8b);
	lv_vmx_write_segment(GUEST_LDTR_SELECTOR, 0, 0, 0xffff, 0x82);
	vmcs_writel(GUEST_GDTR_BASE, 0);
	vmcs_write32(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_writel(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, 0xffff);

	/* CD and NW are set after INIT, but only in the read shadow. */
	vmcs_writel(GUEST_CR0, X86_CR0_ET | lv_vmx_cr0_forced());
	vmcs_writel(CR0_READ_SHADOW, X86_CR0_ET | X86_CR0_CD | X86_CR0_NW);
	vmcs_writel(GUEST_CR4, lv_vmcs_config.cr4_fixed0);
	vmcs_writel(CR4_READ_SHADOW, 0);
	vmcs_writel(GUEST_CR3, 0);
	vmcs_writel(GUEST_RIP, 0xfff0);
	vmcs_writel(GUEST_RSP, 0);
	vmcs_writel(GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmcs_writel(GUEST_DR7, LV_DR7_FIXED_1);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write64(GUEST_IA32_PAT, 0x0007040600070406ULL);
	vmcs_write64(GUEST_IA32_EFER, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writel(GUEST_SYSENTER_ESP, 0);
	vmcs_writel(GUEST_SYSENTER_EIP, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write64(VMCS_LINK_POINTER, ~0ULL);
	vmx->xcr0 = XFEATURE_MASK_FP;
	memset(vmx->dr, 0, sizeof(vmx->dr));
	vmx->dr[4] = LV_DR6_RESET;
	vmx->guest_bp = false;
	vmx->pkru = 0;
	vmx->pkru_used = false;
	vmx->vcpu.spec_ctrl = 0;
	vmx->vcpu.apic_base = APIC_DEFAULT_PHYS_BASE |
			      MSR_IA32_APICBASE_ENABLE |
			      (vmx->vcpu.id ? 0 : MSR_IA32_APICBASE_BSP);
	memset(vmx->vcpu.regs, 0, sizeof(vmx->vcpu.regs));
	vmx->vcpu.regs[LV_RDX] = 0x600;	/* a family 6 CPU, as after reset */
}

static void lv_vmx_setup_controls(struct lv_vmx_vcpu *vmx)
{
	struct lv_vmcs_config *c = &lv_vmcs_config;

	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, c->pin);
	vmx->proc_ctls = c->proc;
	if (vmx->virt_apic) {
		/*
		 * CR8 is the APIC's TPR[7:4]: with the TPR shadow the guest
		 * reads and writes VTPR, and exits only when it falls below
		 * the threshold (SDM vol. 3C, 30.1.2 and 30.3).
		 */
		vmx->proc_ctls |= CPU_BASED_TPR_SHADOW;
		vmx->proc_ctls &= ~(CPU_BASED_CR8_LOAD_EXITING |
				    CPU_BASED_CR8_STORE_EXITING);
		vmcs_write64(VIRTUAL_APIC_PAGE_ADDR, __pa(vmx->virt_apic));
		vmcs_write32(TPR_THRESHOLD, 0);
		vmx->tpr_threshold = 0;
	}
	vmx->proc2_ctls = c->proc2;
	vmx->vid = vmx->virt_apic && lv_caps.virt_intr_delivery;
	vmx->vid_active = false;
	if (vmx->vid) {
		/* Turned on at the first entry in protected mode. */
		vmcs_write16(GUEST_INTR_STATUS, 0);
		vmcs_write64(EOI_EXIT_BITMAP0, 0);
		vmcs_write64(EOI_EXIT_BITMAP1, 0);
		vmcs_write64(EOI_EXIT_BITMAP2, 0);
		vmcs_write64(EOI_EXIT_BITMAP3, 0);
		memset(vmx->eoi_exit, 0, sizeof(vmx->eoi_exit));
		memset(vmx->tmr, 0, sizeof(vmx->tmr));
	}
	vmx->x2apic_virt = false;
	vmx->apic_access = false;
	if (vmx->virt_apic && lv_apic_access_hpa(vmx->vcpu.vm))
		vmcs_write64(APIC_ACCESS_ADDR, lv_apic_access_hpa(vmx->vcpu.vm));
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, vmx->proc_ctls);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmx->proc2_ctls);
	vmcs_write32(VM_EXIT_CONTROLS, c->exit);
	vmcs_write32(VM_ENTRY_CONTROLS, c->entry);
	/*
	 * Always intercepted, as KVM does: #DB and #AC, because a guest can
	 * make their delivery cause the same exception again, which hangs
	 * the CPU in microcode for good (CVE-2015-8104, CVE-2015-5307); #MC,
	 * because machine checks belong to the host.
	 */
	vmcs_write32(EXCEPTION_BITMAP, BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) |
		     BIT(X86_TRAP_MC));
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write64(IO_BITMAP_A, __pa(lv_io_bitmap));
	vmcs_write64(IO_BITMAP_B, __pa(lv_io_bitmap) + PAGE_SIZE);
	vmcs_write64(MSR_BITMAP, __pa(lv_msr_bitmap));
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write64(TSC_OFFSET, 0);
	vmcs_write64(EPT_POINTER, to_vmx_vm(vmx->vcpu.vm)->eptp);
	if (vmx->vpid)
		vmcs_write16(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	if (c->pin & PIN_BASED_VMX_PREEMPTION_TIMER)
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, lv_preemption_timer_value);
	vmx->preemption_timer = lv_preemption_timer_value;
	/* Writes to the bits we own exit; reads see the read shadow. */
	vmcs_writel(CR0_GUEST_HOST_MASK, lv_vmx_cr0_owned());
	vmcs_writel(CR4_GUEST_HOST_MASK, lv_vmx_cr4_owned());
}

/* CR0 bits that must be 1 in VMX operation, beyond PE/PG (unrestricted). */
unsigned long lv_vmx_cr0_forced(void)
{
	return lv_vmcs_config.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
}

/*
 * CR0 bits the host owns: those VMX forces on, and CD and NW, which a VM
 * exit does not load (SDM vol. 3C, 28.5.1): a guest that owned them
 * would leave the host CPU running with caches disabled. The guest's
 * CD/NW live in the read shadow only, as in KVM. PE, MP, EM, TS, WP, AM
 * and PG are the guest's: a VM exit loads the host's from HOST_CR0.
 */
unsigned long lv_vmx_cr0_owned(void)
{
	return lv_vmx_cr0_forced() | X86_CR0_CD | X86_CR0_NW;
}

/* CR4 bits the host owns: all but LV_CR4_GUEST_OWNED. */
unsigned long lv_vmx_cr4_owned(void)
{
	return ~(LV_CR4_GUEST_OWNED & lv_cr4_allowed());
}

/*
 * A change of the paging bits flushes the TLB on a real CPU. Writes the
 * guest makes without exits have hardware do it; for the ones we carry
 * out, flush the vCPU's VPID (without VPIDs, every entry flushes).
 */
void lv_vmx_flush_guest_tlb(struct lv_vmx_vcpu *vmx)
{
	if (vmx->vpid)
		invvpid_single(vmx->vpid);
}

static struct lv_vcpu *lv_vmx_vcpu_create(struct lv_vm *vm, unsigned int id)
{
	struct lv_vmx_vcpu *vmx;
	int ret, cpu;

	vmx = lv_vcpu_alloc();
	if (!vmx)
		return ERR_PTR(-ENOMEM);
	ret = lv_vcpu_init(&vmx->vcpu, vm, id);
	if (ret)
		goto err_free;

	ret = -ENOMEM;
	vmx->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vmx->vmcs)
		goto err_uninit;
	*(u32 *)vmx->vmcs = lv_vmcs_config.revision_id;
	/* VMCLEAR puts a new VMCS in the "clear" launch state. */
	vmcs_clear(vmx->vmcs);

	if (vmx->vcpu.lapic && lv_caps.tpr_shadow) {
		vmx->virt_apic = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!vmx->virt_apic)
			goto err_vmcs;
	}
	if (lv_vmcs_config.proc2 & SECONDARY_EXEC_ENABLE_VPID) {
		ret = ida_alloc_range(&lv_vpid_ida, 1, 0xffff, GFP_KERNEL);
		if (ret < 0)
			goto err_vmcs;
		vmx->vpid = ret;
	}
	INIT_LIST_HEAD(&vmx->loaded_on);

	cpu = get_cpu();
	lv_vmx_vcpu_load(&vmx->vcpu, cpu);
	lv_vmx_setup_host_state();
	lv_vmx_setup_controls(vmx);
	lv_vmx_setup_guest_state(vmx);
	vmx->host_cr3 = vmcs_readl(HOST_CR3);
	vmx->host_cr4 = vmcs_readl(HOST_CR4);
	lv_vmx_vcpu_put(&vmx->vcpu);
	put_cpu();
	return &vmx->vcpu;

err_vmcs:
	free_page((unsigned long)vmx->virt_apic);
	free_page((unsigned long)vmx->vmcs);
err_uninit:
	lv_vcpu_uninit(&vmx->vcpu);
err_free:
	lv_vcpu_free_mem(vmx);
	return ERR_PTR(ret);
}

static void lv_vmx_vcpu_free(struct lv_vcpu *vcpu)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);

	lv_vmx_clear_on_old_cpu(vmx);
	if (vmx->vpid)
		ida_free(&lv_vpid_ida, vmx->vpid);
	lv_ept_cache_free(&vmx->ept_cache);
	free_page((unsigned long)vmx->virt_apic);
	free_page((unsigned long)vmx->vmcs);
	lv_vcpu_uninit(vcpu);
	lv_vcpu_free_mem(vmx);
}

/* --- events --- */

#define LV_BLOCKING_STI_MOVSS	(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)

static void lv_vmx_set_proc_ctls(struct lv_vmx_vcpu *vmx, u32 ctls)
{
	if (ctls != vmx->proc_ctls) {
		vmx->proc_ctls = ctls;
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, ctls);
	}
}

void lv_vmx_request_window(struct lv_vmx_vcpu *vmx, u32 window, bool on)
{
	u32 ctls = vmx->proc_ctls;

	lv_vmx_set_proc_ctls(vmx, on ? ctls | window : ctls & ~window);
}

static bool lv_vmx_interrupt_allowed(struct lv_vcpu *vcpu)
{
	return (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_IF) &&
	       !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & LV_BLOCKING_STI_MOVSS);
}

static bool lv_vmx_nmi_allowed(struct lv_vcpu *vcpu)
{
	return !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) &
		 (LV_BLOCKING_STI_MOVSS | GUEST_INTR_STATE_NMI));
}

static void lv_vmx_enable_irq_window(struct lv_vcpu *vcpu)
{
	lv_vmx_request_window(to_vmx(vcpu), CPU_BASED_INTR_WINDOW_EXITING, true);
}

static void lv_vmx_enable_nmi_window(struct lv_vcpu *vcpu)
{
	if (lv_vmcs_config.nmi_window_ok)
		lv_vmx_request_window(to_vmx(vcpu), CPU_BASED_NMI_WINDOW_EXITING,
				      true);
}

/* The event types of struct lv_event are the SDM's own encoding. */
static_assert((LV_EVENT_EXT_INTR << 8) == INTR_TYPE_EXT_INTR);
static_assert((LV_EVENT_NMI << 8) == INTR_TYPE_NMI_INTR);
static_assert((LV_EVENT_EXCEPTION << 8) == INTR_TYPE_HARD_EXCEPTION);
static_assert((LV_EVENT_SOFT_INTR << 8) == INTR_TYPE_SOFT_INTR);
static_assert((LV_EVENT_PRIV_SW_EXC << 8) == INTR_TYPE_PRIV_SW_EXCEPTION);
static_assert((LV_EVENT_SOFT_EXC << 8) == INTR_TYPE_SOFT_EXCEPTION);

static void lv_vmx_inject_event(struct lv_vcpu *vcpu, const struct lv_event *ev)
{
	u32 info = INTR_INFO_VALID_MASK | ev->type << 8 | ev->vector;

	if (ev->has_error_code) {
		info |= INTR_INFO_DELIVER_CODE_MASK;
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, ev->error_code);
	}
	if (ev->insn_len)
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, ev->insn_len);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
	/*
	 * The window asked for while this interrupt waited is used now. Left
	 * armed, it would exit at the handler's IRET for nothing; the core
	 * arms it again if another interrupt is still pending.
	 */
	if (ev->type == LV_EVENT_EXT_INTR)
		lv_vmx_request_window(to_vmx(vcpu), CPU_BASED_INTR_WINDOW_EXITING,
				      false);
}

static void lv_vmx_cancel_injection(struct lv_vcpu *vcpu)
{
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
}

/*
 * Tell the core which event, if any, the exit interrupted (an EPT
 * violation on the guest's IDT or stack, say): it is delivered again.
 */
static void lv_vmx_complete_events(struct lv_vmx_vcpu *vmx)
{
	u32 info = vmx->idt_vectoring;
	struct lv_event ev;
	u32 intr_state;

	if (likely(!(info & VECTORING_INFO_VALID_MASK))) {
		lv_event_interrupted(&vmx->vcpu, NULL);
		return;
	}
	if (vmx->vid_cut_short) {
		ev = (struct lv_event) {
			.valid = 1, .type = LV_EVENT_EXT_INTR,
			.vector = vmx->vid_cut_short,
		};
		vmx->vid_cut_short = 0;
		lv_event_interrupted(&vmx->vcpu, &ev);
		return;
	}
	ev = (struct lv_event) {
		.valid = 1,
		.type = (info & VECTORING_INFO_TYPE_MASK) >> 8,
		.vector = info & VECTORING_INFO_VECTOR_MASK,
	};
	if (info & VECTORING_INFO_DELIVER_CODE_MASK) {
		ev.has_error_code = 1;
		ev.error_code = vmcs_read32(IDT_VECTORING_ERROR_CODE);
	}
	switch (ev.type) {
	case LV_EVENT_SOFT_INTR:
	case LV_EVENT_PRIV_SW_EXC:
	case LV_EVENT_SOFT_EXC:
		ev.insn_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
		break;
	case LV_EVENT_NMI:
		/* A faulted NMI delivery may leave NMIs blocked: redelivery sets it. */
		intr_state = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
		if (intr_state & GUEST_INTR_STATE_NMI)
			vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
				     intr_state & ~GUEST_INTR_STATE_NMI);
		break;
	}
	lv_event_interrupted(&vmx->vcpu, &ev);
}

/* --- into the guest and back --- */

static void lv_vmx_update_host_cr(struct lv_vmx_vcpu *vmx)
{
	unsigned long cr3 = __get_current_cr3_fast();
	unsigned long cr4 = cr4_read_shadow();

	/* Both change under us: CR3 with PTI and mm switches, CR4 rarely. */
	if (unlikely(cr3 != vmx->host_cr3)) {
		vmcs_writel(HOST_CR3, cr3);
		vmx->host_cr3 = cr3;
	}
	if (unlikely(cr4 != vmx->host_cr4)) {
		vmcs_writel(HOST_CR4, cr4);
		vmx->host_cr4 = cr4;
	}
}

static enum lv_exit_action lv_vmx_entry_failed(struct lv_vmx_vcpu *vmx,
					       u64 reason)
{
	struct lv_run *run = vmx->vcpu.run;

	run->exit_reason = LV_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.cpu = raw_smp_processor_id();
	return LV_EXIT_TO_USER;
}

/*
 * The guest's breakpoints are armed in hardware only while it runs:
 * DR0-DR3 are loaded when its DR7 enables one (VM entry loads DR7 from
 * the VMCS), and the host's come back after the exit.
 */
static void lv_vmx_load_guest_dr(struct lv_vmx_vcpu *vmx)
{
	/* No host breakpoint may fire on a guest address meanwhile. */
	if (hw_breakpoint_active())
		set_debugreg(0, 7);
	set_debugreg(vmx->dr[0], 0);
	set_debugreg(vmx->dr[1], 1);
	set_debugreg(vmx->dr[2], 2);
	set_debugreg(vmx->dr[3], 3);
}

/*
 * L1 terminal fault: a guest can read what the L1D cache holds through
 * a not-present guest PTE, so flush it before every entry where the
 * kernel says the CPU is affected (KVM's "always" mode). Without the
 * flush MSR, fill the cache with a buffer of our own, as KVM does.
 */
static void lv_vmx_flush_l1d(void)
{
	int size = PAGE_SIZE << LV_L1D_FLUSH_ORDER;

	if (static_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	asm volatile(
		/* First bring the buffer's pages into the TLB... */
		"xorl	%%eax, %%eax\n"
		"1:\n\t"
		"movzbl	(%[pages], %%rax), %%ecx\n\t"
		"addl	$4096, %%eax\n\t"
		"cmpl	%%eax, %[size]\n\t"
		"jne	1b\n\t"
		"xorl	%%eax, %%eax\n\t"
		"cpuid\n\t"
		/* ...then touch every line of it. */
		"xorl	%%eax, %%eax\n"
		"2:\n\t"
		"movzbl	(%[pages], %%rax), %%ecx\n\t"
		"addl	$64, %%eax\n\t"
		"cmpl	%%eax, %[size]\n\t"
		"jne	2b\n\t"
		"lfence\n"
		: : [pages] "r" (lv_l1d_flush_pages), [size] "r" (size)
		: "eax", "ebx", "ecx", "edx");
}

static void lv_vmx_clear_cpu_state(struct lv_vcpu *vcpu)
{
	if (unlikely(lv_l1d_flush)) {
		lv_vmx_flush_l1d();
		this_cpu_inc(lv_stats.l1d_flushes);
	}
	/* MMIO stale data: the kernel asks for VERW only for device owners. */
	else if (static_branch_unlikely(&mmio_stale_data_clear) &&
		 READ_ONCE(vcpu->vm->iommu))
		x86_clear_cpu_buffers();
}

/*
 * A machine check in the guest, or during VM entry, is the host's: its
 * handler must see it, as if it had come from user mode (the guest, not
 * the kernel, was running).
 */
static void lv_vmx_machine_check(void)
{
#if IS_ENABLED(CONFIG_X86_MCE)
	struct pt_regs regs = {
		.cs = 3,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

/* With interrupts still off: NMIs and machine checks go to the host. */
static void lv_vmx_handle_host_events(struct lv_vmx_vcpu *vmx)
{
	u32 info;

	if ((u16)vmx->exit_reason != EXIT_REASON_EXCEPTION_NMI)
		return;
	info = vmcs_read32(VM_EXIT_INTR_INFO);
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR) {
#if IS_ENABLED(CONFIG_X86_FRED)
		if (cpu_feature_enabled(X86_FEATURE_FRED)) {
			fred_entry_from_kvm(EVENT_TYPE_NMI, NMI_VECTOR);
			return;
		}
#endif
		lv_vmx_do_nmi_irqoff();
	} else if ((info & INTR_INFO_VECTOR_MASK) == X86_TRAP_MC) {
		lv_vmx_machine_check();
	}
}

/*
 * The preemption timer bounds every entry (10 ms); sooner if the local
 * APIC's TSC deadline falls earlier: its expiry is then an exit of this
 * vCPU, not a host timer interrupt. The timer counts 2^rate TSC ticks
 * per unit; one unit more than the deadline needs, never less, and
 * lv_lapic_hv_timer_expired() checks the TSC itself.
 */
static void lv_vmx_set_preemption_timer(struct lv_vmx_vcpu *vmx)
{
	unsigned int rate = lv_vmcs_config.misc & LV_VMX_MISC_TIMER_RATE;
	u32 value = lv_preemption_timer_value;
	u64 left;

	if (!vmx->vcpu.lapic || !lv_caps.hv_timer)
		return;
	left = lv_lapic_hv_timer_left(vmx->vcpu.lapic);
	if (left != U64_MAX)
		value = min_t(u64, value, left ? (left >> rate) + 1 : 0);
	if (value != vmx->preemption_timer) {
		vmx->preemption_timer = value;
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, value);
	}
}

/* VTPR: the TPR as the guest sees it through the TPR shadow. */
static u32 *lv_vmx_vtpr(struct lv_vmx_vcpu *vmx)
{
	return vmx->virt_apic + APIC_TASKPRI;
}

/*
 * Before an entry, with interrupts off and after the events were chosen:
 * VTPR from the APIC's TPR and the threshold from its IRR. Both come from
 * the APIC's state read here, so the threshold never exceeds VTPR[7:4]
 * (a VM-entry check), whatever userspace put into the APIC. Read without
 * the APIC's lock: only this vCPU's thread writes its TPR and ISR, and
 * whoever sets an IRR bit kicks the vCPU, so a vector missed here makes
 * the entry exit again at once.
 */
static void lv_vmx_tpr_shadow_enter(struct lv_vmx_vcpu *vmx)
{
	struct lv_lapic *apic = vmx->vcpu.lapic;
	u32 threshold;

	/* Unchanged since the last entry: VTPR and the threshold still hold. */
	if (!lv_lapic_vapic_dirty(apic) || !lv_lapic_vapic_take_dirty(apic))
		return;
	threshold = lv_lapic_tpr_threshold(apic);

	WRITE_ONCE(*lv_vmx_vtpr(vmx), lv_lapic_get_tpr(apic) & 0xff);
	if (threshold != vmx->tpr_threshold) {
		vmx->tpr_threshold = threshold;
		vmcs_write32(TPR_THRESHOLD, threshold);
	}
}

/* After an exit, before its handler: the guest's MOV to CR8 moved VTPR. */
static void lv_vmx_tpr_shadow_exit(struct lv_vmx_vcpu *vmx)
{
	u32 vtpr = READ_ONCE(*lv_vmx_vtpr(vmx)) & 0xff;

	if (vtpr != lv_lapic_get_tpr(vmx->vcpu.lapic))
		lv_lapic_set_tpr(vmx->vcpu.lapic, vtpr);
}

/* One secondary control on or off, in the VMCS at once. */
static void lv_vmx_set_proc2(struct lv_vmx_vcpu *vmx, u32 control, bool on)
{
	if (on)
		vmx->proc2_ctls |= control;
	else
		vmx->proc2_ctls &= ~control;
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmx->proc2_ctls);
}

/* The APIC went in or out of x2APIC mode (or was software-disabled). */
static void lv_vmx_set_x2apic_virt(struct lv_vmx_vcpu *vmx, bool on)
{
	vmx->x2apic_virt = on;
	lv_vmx_set_proc2(vmx, SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE, on);
	vmcs_write64(MSR_BITMAP, __pa(on ? lv_msr_bitmap_x2apic : lv_msr_bitmap));
}

/*
 * Should the guest's APIC page go through the VM's APIC-access page? Only
 * in xAPIC mode at the default base (where the page is mapped), and only
 * while the VM has not turned the page off. IA32_APIC_BASE changes only
 * on this vCPU's thread (its WRMSR, or an ioctl on its fd).
 */
static bool lv_vmx_wants_apic_access(struct lv_vmx_vcpu *vmx)
{
	u64 base = READ_ONCE(vmx->vcpu.lapic->base);

	return lv_caps.apic_access &&
	       (base & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE)) ==
			MSR_IA32_APICBASE_ENABLE &&
	       (base & MSR_IA32_APICBASE_BASE) == APIC_DEFAULT_PHYS_BASE &&
	       lv_apic_access_on(vmx->vcpu.vm);
}

/*
 * "Virtualize APIC accesses" on or off. It and "virtualize x2APIC mode"
 * are never both on at an entry (a VM-entry check): the APIC is in one
 * mode or the other, and lv_vmx_vid_enter() runs after this.
 */
static void lv_vmx_set_apic_access(struct lv_vmx_vcpu *vmx, bool on)
{
	vmx->apic_access = on;
	lv_vmx_set_proc2(vmx, SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES, on);
}

/*
 * Virtual-interrupt delivery on or off. The TPR threshold is not used
 * while it is on: lowering VTPR makes the CPU deliver what it lets
 * through (SDM vol. 3C, 30.1.2). The x2APIC MSRs are virtualized only
 * with it: without it, their writes would reach the host's APIC.
 */
static void lv_vmx_set_vid(struct lv_vmx_vcpu *vmx, bool on)
{
	vmx->vid_active = on;
	lv_lapic_vapic_invalidate(vmx->vcpu.lapic);
	if (!on && vmx->x2apic_virt)
		lv_vmx_set_x2apic_virt(vmx, false);
	lv_vmx_set_proc2(vmx, SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY, on);
}

static void lv_vmx_set_eoi_exit(struct lv_vmx_vcpu *vmx, const u64 bitmap[4])
{
	if (bitmap[0] != vmx->eoi_exit[0])
		vmcs_write64(EOI_EXIT_BITMAP0, bitmap[0]);
	if (bitmap[1] != vmx->eoi_exit[1])
		vmcs_write64(EOI_EXIT_BITMAP1, bitmap[1]);
	if (bitmap[2] != vmx->eoi_exit[2])
		vmcs_write64(EOI_EXIT_BITMAP2, bitmap[2]);
	if (bitmap[3] != vmx->eoi_exit[3])
		vmcs_write64(EOI_EXIT_BITMAP3, bitmap[3]);
	memcpy(vmx->eoi_exit, bitmap, sizeof(vmx->eoi_exit));
}

/*
 * With lv_vid_erratum: could an EOI inside the guest let a vector through
 * while the guest has IF=0? Only if the IRR holds a vector that this entry
 * does not deliver: two vectors or more, or one that the PPR holds back.
 * The IRR grows only at entries: x2APIC self-IPIs exit with the erratum,
 * and the APIC-access page is not used.
 */
static bool lv_vmx_vid_eoi_may_unmask(struct lv_vmx_vcpu *vmx, u16 status)
{
	u8 rvi = status & 0xff, svi = status >> 8;
	u8 vtpr = *(u32 *)(vmx->virt_apic + APIC_TASKPRI) & 0xff;
	unsigned int i, pending = 0;

	if (!rvi)
		return false;
	for (i = 0; i < 8; i++)
		pending += hweight32(*(u32 *)(vmx->virt_apic + APIC_IRR + i * 0x10));
	return pending > 1 || rvi >> 4 <= max(vtpr >> 4, svi >> 4);
}

/*
 * Level-triggered vectors exit on EOI (the I/O APIC's remote IRR). With
 * lv_vid_erratum every vector does while an EOI could let another one
 * through.
 */
static void lv_vmx_vid_eoi_exits(struct lv_vmx_vcpu *vmx, u16 status,
				 bool tmr_changed)
{
	static const u64 every_vector[4] = { ~0ULL, ~0ULL, ~0ULL, ~0ULL };

	if (lv_vid_erratum && lv_vmx_vid_eoi_may_unmask(vmx, status))
		lv_vmx_set_eoi_exit(vmx, every_vector);
	else if (lv_vid_erratum || tmr_changed)
		lv_vmx_set_eoi_exit(vmx, vmx->tmr);
}

/*
 * Before an entry with virtual-interrupt delivery, interrupts off: the
 * APIC's IRR, ISR and TPR go to the virtual-APIC page, RVI and SVI to
 * the guest interrupt status, the TMR to the EOI-exit bitmap. The x2APIC
 * MSRs are virtualized only while the APIC is in x2APIC mode and
 * software-enabled (a disabled APIC refuses self-IPIs, which the CPU
 * would not know).
 */
static void lv_vmx_vid_enter(struct lv_vmx_vcpu *vmx)
{
	struct lv_lapic *apic = vmx->vcpu.lapic;
	bool x2 = lv_apic_x2apic(apic) && lv_apic_sw_enabled(apic);
	bool tmr_changed;
	u16 status;

	if (x2 != vmx->x2apic_virt)
		lv_vmx_set_x2apic_virt(vmx, x2);
	/*
	 * Only when the APIC changed: else the page and the RVI and SVI the
	 * CPU left in the VMCS at the last exit are still right.
	 */
	if (!lv_lapic_vapic_dirty(apic))
		return;
	status = lv_lapic_vapic_enter(apic, vmx->virt_apic, vmx->tmr,
				      &tmr_changed);
	vmcs_write16(GUEST_INTR_STATUS, status);
	vmx->vid_status = status;
	lv_vmx_vid_eoi_exits(vmx, status, tmr_changed);
}

/*
 * Right after an exit with virtual-interrupt delivery on, before the page
 * goes back to the APIC: was it the CPU's delivery of a virtual interrupt
 * that the exit cut short (an EPT violation on the guest's IDT or stack)?
 * Then that vector must be delivered again. The CPU reports it in the
 * IDT-vectoring information as an external interrupt (SDM vol. 3C,
 * 28.2.4), but Bochs 2.7 does not record a virtual-interrupt delivery
 * there and reports the event it delivered or injected before: another
 * vector, an exception, even one of another guest. So tell it from the
 * page instead: the CPU set SVI to the vector before it walked the IDT
 * (30.2.2), and only delivers with RFLAGS.IF set, which the exit leaves
 * as it was before the delivery. A vector in service now that was not
 * at the entry, with IF set, is that one.
 *
 * Return: the vector, or 0.
 */
static u8 lv_vmx_vid_cut_short(struct lv_vmx_vcpu *vmx, u16 status)
{
	u8 svi = status >> 8;

	if (likely(!(vmx->idt_vectoring & VECTORING_INFO_VALID_MASK)) ||
	    !svi || !(vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_IF) ||
	    !lv_lapic_vapic_new_in_service(vmx->vcpu.lapic, svi))
		return 0;
	return svi;
}

/*
 * Right after an exit, or a failed entry (the page holds the APIC's IRR
 * then too), before anything reads the APIC: the page goes back to it
 * unless the guest left it as it got it (the usual exit).
 */
static void lv_vmx_vid_exit(struct lv_vmx_vcpu *vmx, bool failed)
{
	struct lv_lapic *apic = vmx->vcpu.lapic;
	u16 status = vmcs_read16(GUEST_INTR_STATUS);

	if (likely(!failed))
		vmx->vid_cut_short = lv_vmx_vid_cut_short(vmx, status);
	if (!lv_lapic_vapic_unchanged(apic, vmx->virt_apic, vmx->vid_status,
				      status)) {
		u8 top = max3(vmx->vid_status & 0xff, vmx->vid_status >> 8,
			      max(status & 0xff, status >> 8));

		lv_lapic_vapic_exit(apic, vmx->virt_apic, top / 32 + 1);
	}
	vmx->vid_status = status;
}

/*
 * Before an entry of a vCPU with the TPR shadow. Virtual-interrupt
 * delivery only in protected mode: in Bochs, an interrupt it delivered
 * to a real-mode guest did not reach the guest's handler (abi_irqchip's
 * real-mode guest ran off elsewhere); the injection path serves real
 * mode, where APIC-driven guests are rare.
 */
static void lv_vmx_apic_enter(struct lv_vmx_vcpu *vmx)
{
	bool vid = vmx->vid && (vmcs_readl(GUEST_CR0) & X86_CR0_PE);
	bool access = lv_vmx_wants_apic_access(vmx);

	if (access != vmx->apic_access)
		lv_vmx_set_apic_access(vmx, access);
	if (vid != vmx->vid_active)
		lv_vmx_set_vid(vmx, vid);
	if (vid)
		lv_vmx_vid_enter(vmx);
	else
		lv_vmx_tpr_shadow_enter(vmx);
}

static enum lv_exit_action lv_vmx_vcpu_run(struct lv_vcpu *vcpu)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);
	u64 host_xcr0 = 0, host_spec_ctrl = 0;
	unsigned int flags;
	u32 host_pkru = 0;
	int fail;

	local_irq_disable();
	WRITE_ONCE(vcpu->mode, LV_IN_GUEST);
	smp_mb();	/* mode before reading requests; pairs with kicks */
	if (need_resched() || signal_pending(current) || READ_ONCE(vcpu->kicked)) {
		WRITE_ONCE(vcpu->mode, LV_OUTSIDE_GUEST);
		local_irq_enable();
		return LV_ENTRY_CANCELLED;
	}
	lv_guest_fpu_reload_irqoff();
	if (unlikely(vcpu->tlb_gen != atomic64_read(&vcpu->vm->tlb_gen))) {
		vcpu->tlb_gen = atomic64_read(&vcpu->vm->tlb_gen);
		invept_single(to_vmx_vm(vcpu->vm)->eptp);
	}
	lv_vmx_update_host_cr(vmx);
	lv_vmx_set_preemption_timer(vmx);
	if (vmx->virt_apic)
		lv_vmx_apic_enter(vmx);
	if (unlikely(lv_host_xcr0() && vmx->xcr0 != lv_host_xcr0())) {
		host_xcr0 = lv_host_xcr0();
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vmx->xcr0);
	}
	/* PKRU is not part of the guest FPU state the kernel swaps. */
	if (vmx->pkru_used) {
		host_pkru = rdpkru();
		if (vmx->pkru != host_pkru)
			write_pkru(vmx->pkru);
	}
	if (unlikely(vmx->guest_bp))
		lv_vmx_load_guest_dr(vmx);
	flags = lv_spec_ctrl_flags(vcpu->spec_ctrl, &host_spec_ctrl);
	if (vmx->launched)
		flags |= LV_RUN_VMRESUME;
	lv_vmx_clear_cpu_state(vcpu);

	/* The hardware does not switch CR2: it is the guest's while it runs. */
	if (unlikely(read_cr2() != vmx->cr2))
		write_cr2(vmx->cr2);

	fail = __lv_vmx_vcpu_run(vcpu->regs, flags, vcpu->spec_ctrl,
				 host_spec_ctrl);

	vmx->cr2 = read_cr2();

	WRITE_ONCE(vcpu->mode, LV_OUTSIDE_GUEST);
	lv_guest_exited_irqoff();
	if (likely(!fail))
		vmx->idt_vectoring = vmcs_read32(IDT_VECTORING_INFO_FIELD);
	if (vmx->vid_active)
		lv_vmx_vid_exit(vmx, fail);
	else if (vmx->virt_apic)
		lv_vmx_tpr_shadow_exit(vmx);
	/* A VM exit clears IA32_DEBUGCTL and disarms DR7 (0x400). */
	if (vmx->host_debugctl)
		update_debugctlmsr(vmx->host_debugctl);
	if (unlikely(hw_breakpoint_active()))
		hw_breakpoint_restore();
	if (vmx->pkru_used) {
		vmx->pkru = rdpkru();
		if (vmx->pkru != host_pkru)
			write_pkru(host_pkru);
	}
	if (unlikely(host_xcr0))
		xsetbv(XCR_XFEATURE_ENABLED_MASK, host_xcr0);

	if (unlikely(fail)) {
		local_irq_enable();
		return lv_vmx_entry_failed(vmx, vmcs_read32(VM_INSTRUCTION_ERROR));
	}
	vmx->exit_reason = vmcs_read32(VM_EXIT_REASON);
	lv_exit_mark(vcpu, (u16)vmx->exit_reason);
	if (unlikely(vmx->exit_reason & VMX_EXIT_REASONS_FAILED_VMENTRY)) {
		if ((u16)vmx->exit_reason == EXIT_REASON_MCE_DURING_VMENTRY)
			lv_vmx_machine_check();
		local_irq_enable();
		return lv_vmx_entry_failed(vmx, vmx->exit_reason);
	}
	vmx->launched = true;

	lv_vmx_handle_host_events(vmx);
	/* External interrupts stay pending in the APIC until now. */
	local_irq_enable();

	lv_vmx_complete_events(vmx);
	return lv_vmx_handle_exit(vmx);
}

/* --- register state --- */

static void lv_vmx_get_regs(struct lv_vcpu *vcpu, struct lv_regs *r)
{
	unsigned long *g = vcpu->regs;

	*r = (struct lv_regs) {
		.rax = g[LV_RAX], .rbx = g[LV_RBX], .rcx = g[LV_RCX],
		.rdx = g[LV_RDX], .rsi = g[LV_RSI], .rdi = g[LV_RDI],
		.rsp = vmcs_readl(GUEST_RSP), .rbp = g[LV_RBP],
		.r8 = g[LV_R8], .r9 = g[LV_R9], .r10 = g[LV_R10],
		.r11 = g[LV_R11], .r12 = g[LV_R12], .r13 = g[LV_R13],
		.r14 = g[LV_R14], .r15 = g[LV_R15],
		.rip = vmcs_readl(GUEST_RIP), .rflags = vmcs_readl(GUEST_RFLAGS),
	};
}

static void lv_vmx_clear_sti_blocking(void)
{
	u32 intr_state = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	if (intr_state & GUEST_INTR_STATE_STI)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     intr_state & ~GUEST_INTR_STATE_STI);
}

/*
 * In an STI or MOV-SS shadow, VM entry requires the pending debug
 * exceptions to hold a single step (BS) exactly when RFLAGS.TF is set
 * (IA32_DEBUGCTL.BTF is always 0 for the guest; SDM vol. 3C, 27.3.1.5):
 * what a CPU has pending after such an instruction run with TF. Kept so
 * when userspace sets RFLAGS or the interruptibility state.
 */
static void lv_vmx_fix_pending_dbg(void)
{
	unsigned long dbg = vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS);
	unsigned long want = dbg & ~LV_DR6_BS;

	if (!(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) &
	      (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)))
		return;
	if (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_TF)
		want |= LV_DR6_BS;
	if (want != dbg)
		vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, want);
}

static void lv_vmx_set_regs(struct lv_vcpu *vcpu, const struct lv_regs *r)
{
	unsigned long *g = vcpu->regs;

	g[LV_RAX] = r->rax; g[LV_RBX] = r->rbx; g[LV_RCX] = r->rcx;
	g[LV_RDX] = r->rdx; g[LV_RSI] = r->rsi; g[LV_RDI] = r->rdi;
	g[LV_RBP] = r->rbp;
	g[LV_R8] = r->r8; g[LV_R9] = r->r9; g[LV_R10] = r->r10;
	g[LV_R11] = r->r11; g[LV_R12] = r->r12; g[LV_R13] = r->r13;
	g[LV_R14] = r->r14; g[LV_R15] = r->r15;
	vmcs_writel(GUEST_RSP, r->rsp);
	vmcs_writel(GUEST_RIP, r->rip);
	/* Bit 1 is always 1; reserved bits would fail VM entry. */
	vmcs_writel(GUEST_RFLAGS, (r->rflags & 0x3f7fd7) | X86_EFLAGS_FIXED);
	/* An STI shadow needs IF = 1 (SDM vol. 3C, 27.3.1.5): it is over. */
	if (!(r->rflags & X86_EFLAGS_IF))
		lv_vmx_clear_sti_blocking();
	lv_vmx_fix_pending_dbg();
}



static void lv_vmx_get_segment(unsigned int sel_field, struct lv_segment *s)
{
	unsigned int i = (sel_field - GUEST_ES_SELECTOR) / 2;
	u32 ar = __vmcs_read(GUEST_ES_AR_BYTES + i * 2);

	*s = (struct lv_segment) {
		.selector = __vmcs_read(GUEST_ES_SELECTOR + i * 2),
		.base = __vmcs_read(GUEST_ES_BASE + i * 2),
		.limit = __vmcs_read(GUEST_ES_LIMIT + i * 2),
		.type = ar & 15, .s = (ar >> 4) & 1, .dpl = (ar >> 5) & 3,
		.present = (ar >> 7) & 1, .avl = (ar >> 12) & 1,
		.l = (ar >> 13) & 1, .db = (ar >> 14) & 1, .g = (ar >> 15) & 1,
		.unusable = (ar >> 16) & 1,
	};
}

static void lv_vmx_set_segment(unsigned int sel_field,
			       const struct lv_segment *s)
{
	u32 ar = (s->type & 15) | (s->s & 1) << 4 | (s->dpl & 3) << 5 |
		 (s->present & 1) << 7 | (s->avl & 1) << 12 | (s->l & 1) << 13 |
		 (s->db & 1) << 14 | (s->g & 1) << 15;

	/* A segment that is not present is unusable to VMX. */
	if (s->unusable || !s->present)
		ar = LV_AR_UNUSABLE;
	lv_vmx_write_segment(sel_field, s->selector, s->base, s->limit, ar);
}

/* The segment registers of struct lv_sregs and their VMCS selector fields. */
static const struct {
	unsigned int sel_field;
	size_t offset;
} lv_vmx_segments[] = {
	{ GUEST_CS_SELECTOR, offsetof(struct lv_sregs, cs) },
	{ GUEST_DS_SELECTOR, offsetof(struct lv_sregs, ds) },
	{ GUEST_ES_SELECTOR, offsetof(struct lv_sregs, es) },
	{ GUEST_FS_SELECTOR, offsetof(struct lv_sregs, fs) },
	{ GUEST_GS_SELECTOR, offsetof(struct lv_sregs, gs) },
	{ GUEST_SS_SELECTOR, offsetof(struct lv_sregs, ss) },
	{ GUEST_TR_SELECTOR, offsetof(struct lv_sregs, tr) },
	{ GUEST_LDTR_SELECTOR, offsetof(struct lv_sregs, ldt) },
};

static void lv_vmx_get_sregs(struct lv_vcpu *vcpu, struct lv_sregs *sr)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);
	int i;

	memset(sr, 0, sizeof(*sr));
	for (i = 0; i < ARRAY_SIZE(lv_vmx_segments); i++)
		lv_vmx_get_segment(lv_vmx_segments[i].sel_field,
				   (void *)sr + lv_vmx_segments[i].offset);
	sr->gdt.base = vmcs_readl(GUEST_GDTR_BASE);
	sr->gdt.limit = vmcs_read32(GUEST_GDTR_LIMIT);
	sr->idt.base = vmcs_readl(GUEST_IDTR_BASE);
	sr->idt.limit = vmcs_read32(GUEST_IDTR_LIMIT);
	sr->cr0 = lv_vmx_read_cr0(vmx);
	sr->cr2 = vmx->cr2;
	sr->cr3 = vmcs_readl(GUEST_CR3);
	sr->cr4 = lv_vmx_read_cr4(vmx);
	sr->cr8 = vmx->cr8;
	sr->efer = vmcs_read64(GUEST_IA32_EFER);
	sr->apic_base = vcpu->apic_base;
}

/* With EPT, VM entry loads the PDPTEs from these fields (SDM 27.3.2.4). */
void lv_vmx_write_pdptes(const u64 pdpte[4])
{
	int i;

	for (i = 0; i < 4; i++)
		__vmcs_write(GUEST_PDPTR0 + i * 2, pdpte[i]);
}

/*
 * Reject what a real CPU could never be in; the rest VM entry checks.
 * For PAE paging, read the PDPTEs into @pdpte, as loading CR3 would.
 */
static int lv_vmx_check_sregs(struct lv_vcpu *vcpu, const struct lv_sregs *sr,
			      u64 pdpte[4])
{
	/* With an irqchip the base is the local APIC's, which has x2APIC. */
	if (lv_apic_base_check(vcpu->apic_base, sr->apic_base, !!vcpu->lapic,
			       true))
		return -EINVAL;
	if (lv_check_sregs_cr(sr))
		return -EINVAL;
	if (lv_pae_paging(sr->cr0, sr->cr4, sr->efer) &&
	    lv_load_pdptes(vcpu->vm, sr->cr3, pdpte))
		return -EINVAL;
	return 0;
}

/* Load system registers checked by lv_vmx_check_sregs(). */
static void lv_vmx_load_sregs(struct lv_vmx_vcpu *vmx,
			      const struct lv_sregs *sr, const u64 pdpte[4])
{
	int i;

	for (i = 0; i < ARRAY_SIZE(lv_vmx_segments); i++)
		lv_vmx_set_segment(lv_vmx_segments[i].sel_field,
				   (const void *)sr + lv_vmx_segments[i].offset);
	vmcs_writel(GUEST_GDTR_BASE, sr->gdt.base);
	vmcs_write32(GUEST_GDTR_LIMIT, sr->gdt.limit);
	vmcs_writel(GUEST_IDTR_BASE, sr->idt.base);
	vmcs_write32(GUEST_IDTR_LIMIT, sr->idt.limit);
	vmcs_writel(GUEST_CR3, sr->cr3);
	vmx->cr2 = sr->cr2;
	vmx->cr8 = sr->cr8;
	lv_vmx_set_efer(vmx, sr->efer);
	lv_vmx_set_cr0(vmx, sr->cr0);
	lv_vmx_set_cr4(vmx, sr->cr4);
	if (lv_pae_paging(sr->cr0, sr->cr4, sr->efer))
		lv_vmx_write_pdptes(pdpte);
	vmx->vcpu.apic_base = sr->apic_base;
}

static int lv_vmx_set_sregs(struct lv_vcpu *vcpu, const struct lv_sregs *sr)
{
	u64 pdpte[4] = {};
	int ret = lv_vmx_check_sregs(vcpu, sr, pdpte);

	if (ret)
		return ret;
	lv_vmx_load_sregs(to_vmx(vcpu), sr, pdpte);
	return 0;
}

/*
 * The guest sees the hardware value of the bits it owns (it changes them
 * without exits) and the read shadow of the bits we own.
 */
unsigned long lv_vmx_read_cr0(struct lv_vmx_vcpu *vmx)
{
	unsigned long mask = lv_vmx_cr0_owned();

	return (vmcs_readl(GUEST_CR0) & ~mask) |
	       (vmcs_readl(CR0_READ_SHADOW) & mask);
}

unsigned long lv_vmx_read_cr4(struct lv_vmx_vcpu *vmx)
{
	unsigned long mask = lv_vmx_cr4_owned();

	return (vmcs_readl(GUEST_CR4) & ~mask) |
	       (vmcs_readl(CR4_READ_SHADOW) & mask);
}

void lv_vmx_set_cr0(struct lv_vmx_vcpu *vmx, unsigned long cr0)
{
	unsigned long old = lv_vmx_read_cr0(vmx);

	vmcs_writel(CR0_READ_SHADOW, cr0);
	vmcs_writel(GUEST_CR0, (cr0 & ~(X86_CR0_CD | X86_CR0_NW)) |
		    lv_vmx_cr0_forced());
	if ((old ^ cr0) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE))
		lv_vmx_flush_guest_tlb(vmx);
}

void lv_vmx_set_cr4(struct lv_vmx_vcpu *vmx, unsigned long cr4)
{
	unsigned long old = lv_vmx_read_cr4(vmx);

	vmcs_writel(CR4_READ_SHADOW, cr4);
	vmcs_writel(GUEST_CR4, cr4 | lv_vmcs_config.cr4_fixed0);
	if (cr4 & X86_CR4_PKE)
		vmx->pkru_used = true;
	if ((old ^ cr4) & LV_CR4_TLB_BITS)
		lv_vmx_flush_guest_tlb(vmx);
}

/* Reserved DR7 bits read as 0, bit 10 as 1; bits 63:32 are checked by callers. */
void lv_vmx_set_dr7(struct lv_vmx_vcpu *vmx, unsigned long dr7)
{
	dr7 = (dr7 & LV_DR7_VOLATILE) | LV_DR7_FIXED_1;
	vmcs_writel(GUEST_DR7, dr7);
	vmx->guest_bp = dr7 & 0xff;
}

void lv_vmx_set_xcr0(struct lv_vmx_vcpu *vmx, u64 xcr0)
{
	vmx->xcr0 = xcr0;
	if (xcr0 & XFEATURE_MASK_PKRU)
		vmx->pkru_used = true;
}

/* EFER.LMA and the "IA-32e mode guest" entry control must agree. */
void lv_vmx_set_efer(struct lv_vmx_vcpu *vmx, u64 efer)
{
	/* Read, not cached: every VM exit stores the guest's LMA into it. */
	u32 old = vmcs_read32(VM_ENTRY_CONTROLS);
	u32 entry = old & ~VM_ENTRY_IA32E_MODE;

	if (efer & EFER_LMA)
		entry |= VM_ENTRY_IA32E_MODE;
	vmcs_write64(GUEST_IA32_EFER, efer);
	if (entry != old)
		vmcs_write32(VM_ENTRY_CONTROLS, entry);
}

static void lv_vmx_get_state(struct lv_vcpu *vcpu, struct lv_vcpu_state *st)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);

	lv_vmx_get_regs(vcpu, &st->regs);
	lv_vmx_get_sregs(vcpu, &st->sregs);
	st->interruptibility = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	st->sysenter_cs = vmcs_read32(GUEST_SYSENTER_CS);
	st->sysenter_esp = vmcs_readl(GUEST_SYSENTER_ESP);
	st->sysenter_eip = vmcs_readl(GUEST_SYSENTER_EIP);
	lv_vmx_get_msr(vmx, MSR_STAR, &st->star);
	lv_vmx_get_msr(vmx, MSR_LSTAR, &st->lstar);
	lv_vmx_get_msr(vmx, MSR_CSTAR, &st->cstar);
	lv_vmx_get_msr(vmx, MSR_SYSCALL_MASK, &st->fmask);
	lv_vmx_get_msr(vmx, MSR_KERNEL_GS_BASE, &st->kernel_gs_base);
	st->pat = vmcs_read64(GUEST_IA32_PAT);
	st->xcr0 = vmx->xcr0;
	st->dr7 = vmcs_readl(GUEST_DR7);
	st->pkru = vmx->pkru;
	memcpy(st->db, vmx->dr, sizeof(st->db));
	st->dr6 = vmx->dr[4];
	lv_vmx_get_msr(vmx, MSR_IA32_TSC, &st->tsc);
	st->tsc_adjust = vcpu->tsc_adjust;
}

/*
 * Everything is checked before anything changes: a state refused with
 * EINVAL leaves the vCPU as it was. The core checked the event state.
 */
static int lv_vmx_set_state(struct lv_vcpu *vcpu, const struct lv_vcpu_state *st)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);
	u64 pdpte[4] = {};
	int ret;

	/* The host's own XSETBV would take #GP on a bad XCR0 at LV_RUN. */
	if (!lv_xcr0_valid(vcpu, st->xcr0) || st->dr7 >> 32)
		return -EINVAL;
	/*
	 * PKRU (version 2 of the state) has no reserved bits, but a guest
	 * without protection keys has none: only 0 then.
	 */
	if (st->version >= 2 && st->pkru &&
	    !lv_cr4_valid(X86_CR4_PKE))
		return -EINVAL;
	/* DR6 as MOV to DR6 leaves it: only the bits the CPU sets vary. */
	if (st->version >= 2 && (st->dr6 & ~LV_DR6_VOLATILE) != LV_DR6_RESET)
		return -EINVAL;
	ret = lv_vmx_check_sregs(vcpu, &st->sregs, pdpte);
	if (ret)
		return ret;
	if (!lv_check_state_msrs(st))
		return -EINVAL;

	lv_vmx_load_sregs(vmx, &st->sregs, pdpte);
	ret = lv_vmx_set_msr(vmx, MSR_STAR, st->star) ?:
	      lv_vmx_set_msr(vmx, MSR_LSTAR, st->lstar) ?:
	      lv_vmx_set_msr(vmx, MSR_CSTAR, st->cstar) ?:
	      lv_vmx_set_msr(vmx, MSR_SYSCALL_MASK, st->fmask) ?:
	      lv_vmx_set_msr(vmx, MSR_KERNEL_GS_BASE, st->kernel_gs_base) ?:
	      lv_vmx_set_msr(vmx, MSR_IA32_CR_PAT, st->pat) ?:
	      lv_vmx_set_msr(vmx, MSR_IA32_SYSENTER_CS, st->sysenter_cs) ?:
	      lv_vmx_set_msr(vmx, MSR_IA32_SYSENTER_ESP, st->sysenter_esp) ?:
	      lv_vmx_set_msr(vmx, MSR_IA32_SYSENTER_EIP, st->sysenter_eip);
	/* Checked above: cannot fail. */
	WARN_ON_ONCE(ret);
	lv_vmx_set_regs(vcpu, &st->regs);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, st->interruptibility);
	lv_vmx_fix_pending_dbg();
	lv_vmx_set_xcr0(vmx, st->xcr0);
	lv_vmx_set_dr7(vmx, st->dr7);
	if (st->version >= 2) {
		/* Loaded at entry once the guest can read it (CR4.PKE, XCR0). */
		vmx->pkru = st->pkru;
		if (st->pkru)
			vmx->pkru_used = true;
		memcpy(vmx->dr, st->db, sizeof(st->db));
		vmx->dr[4] = st->dr6;
		/* Any value: the TSC is only an offset from the host's. */
		WARN_ON_ONCE(lv_vmx_set_msr(vmx, MSR_IA32_TSC, st->tsc));
	}
	/* After the TSC, whose restore would have moved it. */
	vcpu->tsc_adjust = st->tsc_adjust;
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	return 0;
}

/* Complete an instruction for the guest: move RIP, end any STI shadow. */
static void vcpu_advance_rip(struct lv_vmx_vcpu *vmx, unsigned int len)
{
	unsigned long rip = vmcs_readl(GUEST_RIP) + len;
	u32 intr_state;

	if (!(vmcs_read32(GUEST_CS_AR_BYTES) & BIT(13)))
		rip &= 0xffffffffUL;
	vmcs_writel(GUEST_RIP, rip);
	intr_state = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	if (intr_state & LV_BLOCKING_STI_MOVSS)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     intr_state & ~LV_BLOCKING_STI_MOVSS);
}

void lv_vmx_skip_instruction(struct lv_vcpu *vcpu)
{
	vcpu_advance_rip(to_vmx(vcpu), vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
}

static void lv_vmx_advance_rip(struct lv_vcpu *vcpu, unsigned int len)
{
	vcpu_advance_rip(to_vmx(vcpu), len);
}

static void lv_vmx_get_paging(struct lv_vcpu *vcpu, struct lv_paging *pg)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);

	pg->cr0 = lv_vmx_read_cr0(vmx);
	pg->cr3 = vmcs_readl(GUEST_CR3);
	pg->cr4 = lv_vmx_read_cr4(vmx);
	pg->efer = vmcs_read64(GUEST_IA32_EFER);
}

static void lv_vmx_get_code(struct lv_vcpu *vcpu, u64 *linear_rip,
			    enum lv_cpu_mode *mode)
{
	u32 cs_ar = vmcs_read32(GUEST_CS_AR_BYTES);
	u64 rip = vmcs_readl(GUEST_RIP);

	if (!(lv_vmx_read_cr0(to_vmx(vcpu)) & X86_CR0_PE) ||
	    (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_VM))
		*mode = LV_MODE_REAL;
	else if ((vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) && (cs_ar & BIT(13)))
		*mode = LV_MODE_LONG64;
	else
		*mode = cs_ar & BIT(14) ? LV_MODE_PROT32 : LV_MODE_PROT16;
	if (*mode == LV_MODE_LONG64)
		*linear_rip = rip;
	else
		*linear_rip = (vmcs_readl(GUEST_CS_BASE) + rip) & 0xffffffffULL;
}

static unsigned int lv_vmx_get_cpl(struct lv_vcpu *vcpu)
{
	/* SS.DPL is the CPL, also in real mode (where it is 0). */
	return (vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3;
}

static u64 lv_vmx_get_rflags(struct lv_vcpu *vcpu)
{
	return vmcs_readl(GUEST_RFLAGS);
}

static void lv_vmx_set_rflags(struct lv_vcpu *vcpu, u64 rflags)
{
	/* Bit 1 is always 1; reserved bits would fail VM entry. */
	vmcs_writel(GUEST_RFLAGS, (rflags & 0x3f7fd7) | X86_EFLAGS_FIXED);
}

static unsigned long lv_vmx_get_rsp(struct lv_vcpu *vcpu)
{
	return vmcs_readl(GUEST_RSP);
}

static void lv_vmx_set_rsp(struct lv_vcpu *vcpu, unsigned long rsp)
{
	vmcs_writel(GUEST_RSP, rsp);
}

static u64 lv_vmx_get_seg_base(struct lv_vcpu *vcpu, unsigned int seg)
{
	/* enum lv_seg is the SREG encoding + 1, as the VMCS fields are. */
	if (seg < LV_SEG_ES || seg > LV_SEG_GS)
		return 0;
	return __vmcs_read(GUEST_ES_BASE + (seg - LV_SEG_ES) * 2);
}

/* The next entry delivers a #PF: CR2 is the guest's while it runs. */
static void lv_vmx_set_cr2(struct lv_vcpu *vcpu, u64 cr2)
{
	to_vmx(vcpu)->cr2 = cr2;
}

/* --- guest memory --- */

static int lv_vmx_vm_init(struct lv_vm *vm)
{
	struct lv_vmx_vm *vvm;
	int ret;

	vvm = kzalloc(sizeof(*vvm), GFP_KERNEL_ACCOUNT);
	if (!vvm)
		return -ENOMEM;
	ret = lv_ept_init(&vvm->ept);
	if (ret) {
		kfree(vvm);
		return ret;
	}
	vvm->eptp = lv_ept_pointer(&vvm->ept, false);
	vvm->id = atomic64_inc_return(&lv_vm_ids);
	vm->vendor = vvm;
	return 0;
}

static void lv_vmx_vm_destroy(struct lv_vm *vm)
{
	struct lv_vmx_vm *vvm = to_vmx_vm(vm);

	if (!vvm)
		return;
	lv_ept_destroy(&vvm->ept);
	kfree(vvm);
	vm->vendor = NULL;
}

static bool lv_vmx_vm_unmap_range(struct lv_vm *vm, u64 gpa, u64 size)
{
	/* No cache: large leaves go whole, and the guest faults back in. */
	struct lv_ept_cache none = { .nr = 0 };

	return lv_ept_unmap_range(&to_vmx_vm(vm)->ept, &none, gpa, size, NULL,
				  NULL);
}

static void lv_vmx_vm_flushed(struct lv_vm *vm)
{
	lv_ept_free_zapped(&to_vmx_vm(vm)->ept);
}

static int lv_vmx_mmu_topup(struct lv_vcpu *vcpu)
{
	return lv_ept_cache_topup(&to_vmx(vcpu)->ept_cache, GFP_KERNEL_ACCOUNT);
}

static int lv_vmx_mmu_map(struct lv_vcpu *vcpu, u64 gpa, u64 hpa,
			  enum lv_map_level level, unsigned int prot)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned int ept_prot = 0;

	if (prot & LV_PROT_READ)
		ept_prot |= LV_EPT_R;
	if (prot & LV_PROT_WRITE)
		ept_prot |= LV_EPT_W;
	if (prot & LV_PROT_EXEC)
		ept_prot |= LV_EPT_X;
	return lv_ept_map(&to_vmx_vm(vcpu->vm)->ept, &vmx->ept_cache, gpa, hpa,
			  level == LV_MAP_2M ? LV_EPT_2M : LV_EPT_4K, ept_prot);
}

/* Device memory (assigned BARs): see lv_ept_map_phys(). */
static int lv_vmx_vm_map_phys(struct lv_vm *vm, u64 gpa, u64 hpa, u64 size,
			      unsigned int prot, bool uncached)
{
	unsigned int ept_prot = uncached ? LV_EPT_UC : 0;

	if (prot & LV_PROT_READ)
		ept_prot |= LV_EPT_R;
	if (prot & LV_PROT_WRITE)
		ept_prot |= LV_EPT_W;
	if (prot & LV_PROT_EXEC)
		ept_prot |= LV_EPT_X;
	return lv_ept_map_phys(&to_vmx_vm(vm)->ept, &vm->mmu_lock, gpa, hpa,
			       size, ept_prot);
}

/* INIT: the reset state but for the MSRs INIT keeps (SDM vol. 3A, 10.1.1). */
static void lv_vmx_init_vcpu(struct lv_vcpu *vcpu)
{
	struct lv_vmx_vcpu *vmx = to_vmx(vcpu);

	lv_vmx_setup_guest_state(vmx);
	vmx->cr2 = 0;
	vmx->cr8 = 0;
	/* The core dropped the vCPU's events; the hardware forgets them. */
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	lv_vmx_request_window(vmx, CPU_BASED_INTR_WINDOW_EXITING |
			      CPU_BASED_NMI_WINDOW_EXITING, false);
}

static void lv_vmx_set_tsc_offset(struct lv_vcpu *vcpu, s64 offset)
{
	vmcs_write64(TSC_OFFSET, offset);
}

static const struct {
	u16 reason;
	const char *name;
} lv_vmx_exit_names[] = { VMX_EXIT_REASONS };

static const char *lv_vmx_exit_reason_name(u16 reason)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lv_vmx_exit_names); i++)
		if (lv_vmx_exit_names[i].reason == reason)
			return lv_vmx_exit_names[i].name;
	return NULL;
}

/*
 * Each line names a mitigation of module/vmx and how the kernel's state
 * set it: the L1D flush before entry (L1TF), VERW before entry (the
 * kernel's X86_FEATURE_CLEAR_CPU_BUF, MDS and its kin), the RSB fill
 * after exit (X86_FEATURE_RSB_VMEXIT or its LITE form, Spectre v2), IBPB
 * between VMs (X86_FEATURE_IBPB) and the SPEC_CTRL bits guests may set.
 */
static void lv_vmx_show_mitigations(struct seq_file *m)
{
	const char *rsb = "off";

	if (cpu_feature_enabled(X86_FEATURE_RSB_VMEXIT))
		rsb = "full";
	else if (cpu_feature_enabled(X86_FEATURE_RSB_VMEXIT_LITE))
		rsb = "lite";
	seq_printf(m, "l1d_flush %s\n", !lv_l1d_flush ? "off" :
		   boot_cpu_has(X86_FEATURE_FLUSH_L1D) ? "msr" : "software");
	seq_printf(m, "clear_cpu_buffers %s\n",
		   cpu_feature_enabled(X86_FEATURE_CLEAR_CPU_BUF) ? "verw" : "off");
	seq_printf(m, "rsb_fill %s\n", rsb);
	seq_printf(m, "ibpb_between_vms %s\n",
		   cpu_feature_enabled(X86_FEATURE_IBPB) ? "on" : "off");
	seq_printf(m, "guest_spec_ctrl %#llx\n", lv_spec_ctrl_bits());
}

static const struct lv_vendor_ops lv_vmx_ops = {
	.name			= "vmx",
	.exit_reason_name	= lv_vmx_exit_reason_name,
	.show_mitigations	= lv_vmx_show_mitigations,
	.cpu_enable		= lv_vmx_cpu_enable,
	.cpu_disable		= lv_vmx_cpu_disable,
	.cpu_emergency_disable	= lv_vmx_cpu_emergency_disable,
	.vm_init		= lv_vmx_vm_init,
	.vm_destroy		= lv_vmx_vm_destroy,
	.vm_unmap_range		= lv_vmx_vm_unmap_range,
	.vm_flushed		= lv_vmx_vm_flushed,
	.mmu_topup		= lv_vmx_mmu_topup,
	.mmu_map		= lv_vmx_mmu_map,
	.vm_map_phys		= lv_vmx_vm_map_phys,
	.vcpu_create		= lv_vmx_vcpu_create,
	.vcpu_free		= lv_vmx_vcpu_free,
	.vcpu_size		= sizeof(struct lv_vmx_vcpu),
	.vcpu_load		= lv_vmx_vcpu_load,
	.vcpu_put		= lv_vmx_vcpu_put,
	.vcpu_run		= lv_vmx_vcpu_run,
	.get_regs		= lv_vmx_get_regs,
	.set_regs		= lv_vmx_set_regs,
	.get_sregs		= lv_vmx_get_sregs,
	.set_sregs		= lv_vmx_set_sregs,
	.get_state		= lv_vmx_get_state,
	.set_state		= lv_vmx_set_state,
	.skip_instruction	= lv_vmx_skip_instruction,
	.advance_rip		= lv_vmx_advance_rip,
	.get_paging		= lv_vmx_get_paging,
	.get_code		= lv_vmx_get_code,
	.get_cpl		= lv_vmx_get_cpl,
	.get_rflags		= lv_vmx_get_rflags,
	.interrupt_allowed	= lv_vmx_interrupt_allowed,
	.nmi_allowed		= lv_vmx_nmi_allowed,
	.enable_irq_window	= lv_vmx_enable_irq_window,
	.enable_nmi_window	= lv_vmx_enable_nmi_window,
	.inject_event		= lv_vmx_inject_event,
	.cancel_injection	= lv_vmx_cancel_injection,
	.set_rflags		= lv_vmx_set_rflags,
	.get_rsp		= lv_vmx_get_rsp,
	.set_rsp		= lv_vmx_set_rsp,
	.get_seg_base		= lv_vmx_get_seg_base,
	.set_cr2		= lv_vmx_set_cr2,
	.init_vcpu		= lv_vmx_init_vcpu,
	.set_tsc_offset		= lv_vmx_set_tsc_offset,
};

/* --- load and unload --- */

static void lv_vmx_free_regions(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		free_page((unsigned long)per_cpu(lv_vmxon_region, cpu));
		per_cpu(lv_vmxon_region, cpu) = NULL;
	}
	free_pages((unsigned long)lv_l1d_flush_pages, LV_L1D_FLUSH_ORDER);
	lv_l1d_flush_pages = NULL;
	free_pages((unsigned long)lv_io_bitmap, 1);
	free_page((unsigned long)lv_msr_bitmap);
	free_page((unsigned long)lv_msr_bitmap_x2apic);
	lv_io_bitmap = NULL;
	lv_msr_bitmap = NULL;
	lv_msr_bitmap_x2apic = NULL;
}

static int lv_vmx_alloc_regions(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		void *region = (void *)get_zeroed_page(GFP_KERNEL);

		if (!region)
			return -ENOMEM;
		*(u32 *)region = lv_vmcs_config.revision_id;
		per_cpu(lv_vmxon_region, cpu) = region;
	}
	lv_io_bitmap = (void *)__get_free_pages(GFP_KERNEL, 1);
	lv_msr_bitmap = (void *)get_zeroed_page(GFP_KERNEL);
	lv_msr_bitmap_x2apic = (void *)get_zeroed_page(GFP_KERNEL);
	if (!lv_io_bitmap || !lv_msr_bitmap || !lv_msr_bitmap_x2apic)
		return -ENOMEM;
	/* Every port exits: devices live in userspace. */
	memset(lv_io_bitmap, 0xff, 2 * PAGE_SIZE);
	lv_vmx_msr_bitmap_init(lv_msr_bitmap);
	lv_vmx_msr_bitmap_init_x2apic(lv_msr_bitmap_x2apic, lv_vid_erratum);
	return 0;
}

/*
 * L1TF: flush the L1D before entries where the kernel says the CPU is
 * affected and its mitigation is on, unless the CPU reports that VM
 * entry needs no flush (the kernel's own view, as KVM's
 * vmx_setup_l1d_flush() takes it).
 */
static int lv_vmx_setup_l1d_flush(void)
{
	u64 arch_cap = 0;

	if (!boot_cpu_has_bug(X86_BUG_L1TF) || cpu_mitigations_off() ||
	    l1tf_mitigation == L1TF_MITIGATION_OFF)
		return 0;
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &arch_cap);
	if (arch_cap & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH)
		return 0;
	lv_l1d_flush = true;
	pr_info("L1TF: L1D flushed before every VM entry%s\n",
		cpu_smt_possible() ? "; SMT siblings stay exposed" : "");
	if (boot_cpu_has(X86_FEATURE_FLUSH_L1D))
		return 0;
	lv_l1d_flush_pages = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO,
						       LV_L1D_FLUSH_ORDER);
	return lv_l1d_flush_pages ? 0 : -ENOMEM;
}

/* Say plainly why guests cannot run here. */
static bool lv_vmx_supported(void)
{
	u64 feat;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_CENTAUR &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_ZHAOXIN) {
		pr_info("not an Intel CPU: no VMX backend\n");
		return false;
	}
	if (!(cpuid_ecx(1) & BIT(X86_FEATURE_VMX & 31))) {
		pr_info("CPU has no VMX (CPUID.1:ECX.VMX[bit 5] = 0)\n");
		return false;
	}
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat) ||
	    !(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_info("VMX is disabled by the firmware (IA32_FEATURE_CONTROL = %#llx: lock bit 0 and bit 2 must be set)\n",
			feat);
		return false;
	}
	return true;
}

/*
 * Bochs: a PC whose ACPI tables its BIOS made ("BOCHS " is also QEMU's
 * OEM ID, but QEMU's CPUs carry the hypervisor flag; Bochs's do not).
 */
static bool lv_vmx_on_bochs(void)
{
#ifdef CONFIG_ACPI
	struct acpi_table_header *fadt;
	bool bochs;

	if (boot_cpu_has(X86_FEATURE_HYPERVISOR) ||
	    ACPI_FAILURE(acpi_get_table(ACPI_SIG_FADT, 0, &fadt)))
		return false;
	bochs = !memcmp(fadt->oem_id, "BOCHS ", ACPI_OEM_ID_SIZE);
	acpi_put_table(fadt);
	return bochs;
#else
	return false;
#endif
}

/* For the load message: whether the CPU has a feature and we use it. */
static const char *lv_vmx_apicv_state(bool present, bool used)
{
	if (!present)
		return "absent";
	return used ? "used" : "unused";
}

const struct lv_vendor_ops *lv_vmx_probe(struct lv_hw_caps *caps)
{
	struct lv_vmx_msrs msrs;
	const char *missing;
	u64 cap;

	if (!lv_vmx_supported())
		return NULL;
	lv_vmx_read_msrs(&msrs);
	if (lv_vmx_compute_config(&msrs, &lv_vmcs_config, &missing)) {
		pr_info("VMX lacks %s: guests cannot run\n", missing);
		return NULL;
	}
	lv_vid_erratum = vid_erratum < 0 ? lv_vmx_on_bochs() : vid_erratum;
	if (lv_vmx_alloc_regions()) {
		lv_vmx_free_regions();
		pr_err("out of memory for VMX regions\n");
		return NULL;
	}
	lv_x86_init(lv_vmcs_config.cr4_fixed1);
	if (lv_vmx_setup_l1d_flush()) {
		lv_vmx_free_regions();
		pr_err("out of memory for the L1D flush buffer\n");
		return NULL;
	}
	/*
	 * The timer ticks every 2^rate TSC cycles and restarts at this value
	 * on each entry: a guest that keeps the host's interrupts from
	 * reaching it still gives the CPU back every 10 ms.
	 */
	lv_preemption_timer_value = min_t(u64, U32_MAX,
		((u64)tsc_khz * 10) >> (lv_vmcs_config.misc & LV_VMX_MISC_TIMER_RATE));

	cap = lv_vmcs_config.ept_vpid_cap;
	caps->run_guests = true;
	caps->tdp = true;
	caps->unrestricted_guest = true;
	caps->tagged_tlb = lv_vmcs_config.proc2 & SECONDARY_EXEC_ENABLE_VPID;
	caps->ept_ad_bits = cap & VMX_EPT_AD_BIT;
	caps->ept_1g_pages = cap & VMX_EPT_1GB_PAGE_BIT;
	caps->hv_timer = lv_vmcs_config.pin &
				 PIN_BASED_VMX_PREEMPTION_TIMER;
	caps->tpr_shadow = tpr_shadow && lv_vmcs_config.tpr_shadow_ok;
	caps->virt_intr_delivery = apicv && caps->tpr_shadow &&
				   lv_vmcs_config.virt_intr_delivery_ok &&
				   lv_vmcs_config.x2apic_virt_ok;
	caps->apic_access = apic_access && caps->virt_intr_delivery &&
			    lv_vmcs_config.apic_access_ok && !lv_vid_erratum;
	lv_vcpu_module_init();
	pr_info("VMX with EPT and unrestricted guest%s%s%s\n",
		caps->tagged_tlb ? ", VPID" : " (no VPID: INVVPID is missing)",
		caps->hv_timer ? ", preemption timer" : "",
		caps->ept_ad_bits ? ", EPT A/D bits" : "");
	pr_info("APIC virtualization: TPR shadow %s, APIC-access page %s, APIC-register virtualization %s, virtual-interrupt delivery %s, x2APIC mode %s\n",
		lv_vmx_apicv_state(lv_vmcs_config.tpr_shadow_ok, caps->tpr_shadow),
		lv_vmx_apicv_state(lv_vmcs_config.apic_access_ok, caps->apic_access),
		lv_vmx_apicv_state(lv_vmcs_config.apic_reg_virt_ok, caps->apic_reg_virt),
		lv_vmx_apicv_state(lv_vmcs_config.virt_intr_delivery_ok,
				   caps->virt_intr_delivery),
		lv_vmx_apicv_state(lv_vmcs_config.x2apic_virt_ok,
				   caps->virt_intr_delivery));
	if (lv_vid_erratum && caps->virt_intr_delivery)
		pr_info("APIC virtualization: x2APIC self-IPIs and EOIs that could let an interrupt through exit, and no APIC-access page is used, because this CPU delivers virtual interrupts with IF clear (vid_erratum=%d)\n",
			vid_erratum);
	return &lv_vmx_ops;
}

void lv_vmx_exit(void)
{
	if (!lv_io_bitmap)
		return;
	lv_vcpu_module_exit();
	lv_vmx_free_regions();
}
