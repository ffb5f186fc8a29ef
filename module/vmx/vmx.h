/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Intel VMX backend: its vCPU and VM, and what the rest of the
 * backend shares. Nothing outside module/vmx/ needs more than
 * lv_vmx_probe() and lv_vmx_exit().
 */
#ifndef LV_VMX_H
#define LV_VMX_H

#include <linux/bits.h>
#include <linux/types.h>

struct lv_hw_caps;
struct lv_vendor_ops;

const struct lv_vendor_ops *lv_vmx_probe(struct lv_hw_caps *caps);
void lv_vmx_exit(void);

#ifdef LV_VMX_INTERNAL

#include "../lightvisor.h"
#include "../ept/ept.h"
#include "capabilities.h"

/* Names the asm/vmx.h of older kernels lacks. */
#define LV_VMX_BASIC_TRUE_CTLS		BIT_ULL(55)
#define LV_VMX_MISC_TIMER_RATE		GENMASK_ULL(4, 0)
#define LV_EXIT_REASON_GETSEC		11

/* The MSRs that describe a VMX implementation. */
struct lv_vmx_msrs {
	u64 basic;
	u64 pin, proc, exit, entry;
	u64 true_pin, true_proc, true_exit, true_entry;
	u64 proc2;
	u64 ept_vpid_cap;
	u64 misc;
	u64 cr0_fixed0, cr0_fixed1;
	u64 cr4_fixed0, cr4_fixed1;
};

void lv_vmx_read_msrs(struct lv_vmx_msrs *m);
int lv_vmx_compute_config(const struct lv_vmx_msrs *m,
			  struct lv_vmcs_config *conf, const char **missing);

/* MSRs without a VMCS field, swapped at vCPU load and put (msr.c). */
#define LV_NR_SWITCHED_MSRS	6

/**
 * struct lv_vmx_vm - the VMX part of a VM
 * @ept: the guest-physical address space
 * @eptp: EPT pointer written into every vCPU's VMCS
 * @id: never reused; tells a CPU that it switches to another VM (IBPB)
 */
struct lv_vmx_vm {
	struct lv_ept ept;
	u64 eptp;
	u64 id;
};

/**
 * struct lv_vmx_vcpu - a vCPU as the VMX backend sees it
 * @vcpu: the vendor-neutral part (must stay first)
 * @vmcs: the VMCS region
 * @vpid: VPID tagging this vCPU's TLB entries
 * @launched: VMLAUNCH done since the last VMCLEAR
 * @loaded_on: list entry on the per-CPU list of VMCSs loaded there
 * @host_cr3: HOST_CR3 as last written
 * @host_cr4: HOST_CR4 as last written
 * @proc_ctls: primary processor-based controls as last written
 * @preemption_timer: VMX_PREEMPTION_TIMER_VALUE as last written
 * @exit_reason: of the last exit
 * @exit_qual: exit qualification of the last exit
 * @cr2: guest CR2 (not in the VMCS)
 * @cr8: guest TPR of a vCPU without an in-kernel APIC (its CR8 accesses
 *	exit; with an APIC, CR8 is the APIC's TPR)
 * @virt_apic: the virtual-APIC page while the vCPU uses the TPR shadow,
 *	else NULL; only its VTPR (offset 0x80) is used
 * @tpr_threshold: TPR_THRESHOLD as last written
 * @vid: the vCPU may use virtual-interrupt delivery
 * @vid_active: it is on for the current entry (protected mode): the
 *	virtual-APIC page holds the APIC's IRR, ISR and TPR while the guest
 *	runs
 * @x2apic_virt: "virtualize x2APIC mode" is on (the guest's APIC is in
 *	x2APIC mode): its TPR, EOI and SELF IPI MSRs do not exit
 * @apic_access: "virtualize APIC accesses" is on (the guest's APIC is in
 *	xAPIC mode at the default base, and the VM maps its APIC-access
 *	page there): accesses to the page exit as APIC accesses, or with
 *	virtual-interrupt delivery, EOI and TPR writes do not exit
 * @vid_status: the guest interrupt status (RVI, SVI) the CPU starts from
 *	at the next entry, or left at the last exit
 * @vid_cut_short: the virtual interrupt whose delivery the last exit cut
 *	short (delivered again), or 0
 * @idt_vectoring: the IDT-vectoring information of the last exit
 * @proc2_ctls: secondary processor-based controls as last written
 * @eoi_exit: the EOI-exit bitmap as last written
 * @tmr: the APIC's TMR as last seen at an entry: the vectors whose EOI
 *	goes on to the I/O APIC
 * @xcr0: guest XCR0
 * @dr: guest DR0-DR3 and DR6 (MOV DR always exits; DR0-DR3 are loaded
 *	into hardware for the guest while its DR7 enables a breakpoint)
 * @guest_bp: the guest's DR7 enables a breakpoint: load DR0-DR3 for it
 * @host_debugctl: the host's IA32_DEBUGCTL, which a VM exit clears
 * @pkru: the guest's PKRU while the host's is in hardware
 * @pkru_used: the guest has had CR4.PKE or XCR0.PKRU set: switch PKRU
 * @guest_msrs: guest values of the swapped MSRs while the vCPU is put
 * @host_msrs: host values of the swapped MSRs while the vCPU is loaded
 * @host_seg: host segment state restored when the vCPU is put
 * @ept_cache: page-table pages for the next EPT fault
 */
struct lv_vmx_vcpu {
	struct lv_vcpu vcpu;
	void *vmcs;
	u16 vpid;
	bool launched;
	struct list_head loaded_on;
	unsigned long host_cr3;
	unsigned long host_cr4;
	u32 proc_ctls;
	u32 preemption_timer;
	u32 exit_reason;
	unsigned long exit_qual;
	unsigned long cr2;
	unsigned long cr8;
	void *virt_apic;
	u32 tpr_threshold;
	bool vid;
	bool vid_active;
	bool x2apic_virt;
	bool apic_access;
	u16 vid_status;
	u8 vid_cut_short;
	u32 idt_vectoring;
	u32 proc2_ctls;
	u64 eoi_exit[4];
	u64 tmr[4];
	u64 xcr0;
	unsigned long dr[5];
	bool guest_bp;
	u64 host_debugctl;
	u32 pkru;
	bool pkru_used;
	u64 guest_msrs[LV_NR_SWITCHED_MSRS];
	u64 host_msrs[LV_NR_SWITCHED_MSRS];
	struct {
		u16 ds, es, fs, gs, ldt;
		unsigned long fs_base;
		bool saved;
	} host_seg;
	struct lv_ept_cache ept_cache;
};

static inline struct lv_vmx_vcpu *to_vmx(struct lv_vcpu *vcpu)
{
	return container_of(vcpu, struct lv_vmx_vcpu, vcpu);
}

static inline struct lv_vmx_vm *to_vmx_vm(struct lv_vm *vm)
{
	return vm->vendor;
}

/* vmenter.S: 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed. */
int __lv_vmx_vcpu_run(unsigned long *regs, unsigned int flags,
		      u64 guest_spec_ctrl, u64 host_spec_ctrl);
void lv_vmx_do_nmi_irqoff(void);
extern const char lv_vmx_vmexit[];

/* vmx.c */
void lv_vmx_request_window(struct lv_vmx_vcpu *vmx, u32 window, bool on);
unsigned long lv_vmx_cr0_forced(void);
unsigned long lv_vmx_cr0_owned(void);
unsigned long lv_vmx_cr4_owned(void);
void lv_vmx_set_xcr0(struct lv_vmx_vcpu *vmx, u64 xcr0);
void lv_vmx_set_dr7(struct lv_vmx_vcpu *vmx, unsigned long dr7);
void lv_vmx_flush_guest_tlb(struct lv_vmx_vcpu *vmx);
unsigned long lv_vmx_read_cr0(struct lv_vmx_vcpu *vmx);
unsigned long lv_vmx_read_cr4(struct lv_vmx_vcpu *vmx);
void lv_vmx_set_cr0(struct lv_vmx_vcpu *vmx, unsigned long cr0);
void lv_vmx_set_cr4(struct lv_vmx_vcpu *vmx, unsigned long cr4);
void lv_vmx_set_efer(struct lv_vmx_vcpu *vmx, u64 efer);
void lv_vmx_write_pdptes(const u64 pdpte[4]);

/* exits.c */
typedef enum lv_exit_action (*lv_exit_handler_t)(struct lv_vmx_vcpu *vmx);

enum lv_exit_action lv_vmx_handle_exit(struct lv_vmx_vcpu *vmx);
lv_exit_handler_t lv_vmx_exit_handler(unsigned int reason);
void lv_vmx_skip_instruction(struct lv_vcpu *vcpu);

/* msr.c */
int lv_vmx_get_msr(struct lv_vmx_vcpu *vmx, u32 index, u64 *value);
int lv_vmx_set_msr(struct lv_vmx_vcpu *vmx, u32 index, u64 value);
void lv_vmx_msr_bitmap_init(unsigned long *bitmap);
void lv_vmx_msr_bitmap_init_x2apic(unsigned long *bitmap, bool self_ipi_exits);
void lv_vmx_load_guest_msrs(struct lv_vmx_vcpu *vmx);
void lv_vmx_load_host_msrs(struct lv_vmx_vcpu *vmx);

#endif /* LV_VMX_INTERNAL */
#endif /* LV_VMX_H */
