/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The AMD SVM backend: AMD-V with nested paging (AMD64 APM vol. 2,
 * chapter 15). Nothing outside module/svm/ needs more than
 * lv_svm_probe() and lv_svm_exit().
 */
#ifndef LV_SVM_H
#define LV_SVM_H

#include <linux/types.h>

struct lv_hw_caps;
struct lv_vendor_ops;

const struct lv_vendor_ops *lv_svm_probe(struct lv_hw_caps *caps);
void lv_svm_exit(void);

#ifdef LV_SVM_INTERNAL

#include <asm/svm.h>

#include "../lightvisor.h"
#include "../ept/ept.h"

/**
 * struct lv_svm_vm - the SVM part of a VM
 * @npt: the guest-physical address space (x86-64 page-table format)
 * @pml5: with 5-level host paging, the top table: nested paging walks as
 *	many levels as the host's own paging has, and entry 0 points to
 *	@npt's root (guest-physical addresses stay below 2^48)
 * @ncr3: the nested CR3 written into every vCPU's VMCB
 * @id: never reused; tells a CPU that it switches to another VM (IBPB)
 */
struct lv_svm_vm {
	struct lv_ept npt;
	u64 *pml5;
	u64 ncr3;
	u64 id;
};

/**
 * struct lv_svm_vcpu - a vCPU as the SVM backend sees it
 * @vcpu: the vendor-neutral part (must stay first)
 * @vmcb: the VMCB: control area and the guest's saved state
 * @vmcb_pa: its physical address, for VMRUN, VMLOAD and VMSAVE
 * @asid: the ASID tagging this vCPU's TLB entries
 * @flush: flush the ASID's TLB entries at the next entry
 * @cr0: the guest's CR0 as it sees it (the hardware's lacks CD and NW,
 *	see lv_svm_set_cr0())
 * @xcr0: guest XCR0
 * @dr: guest DR0-DR3 (MOV DR always exits; loaded into hardware while
 *	the guest's DR7 enables a breakpoint)
 * @guest_bp: the guest's DR7 enables a breakpoint: load DR0-DR3 for it
 * @pkru: the guest's PKRU while the host's is in hardware
 * @pkru_used: the guest has had CR4.PKE or XCR0.PKRU set: switch PKRU
 * @tsc_aux: the guest's TSC_AUX (RDTSCP and RDPID read it without exits)
 * @host_tsc_aux: the host's, while the vCPU is loaded
 * @loaded: the guest's TSC_AUX is in the MSR
 * @cr8: guest TPR without an in-kernel APIC
 * @nmi_masked: an NMI was delivered and its handler has not run IRET
 * @iret_rip: the RIP of that IRET while its completion is awaited
 * @awaiting_iret: the IRET exited and NMIs unblock once it completed
 * @nmi_singlestep: RFLAGS.TF was set to find the end of that IRET for a
 *	pending NMI
 * @nmi_ss_dr6: the guest's DR6 from before that single step
 * @insn_len: length of the instruction that exited, if known, else 0
 * @exit_code: of the last exit
 * @npt_cache: page-table pages for the next nested page fault
 */
struct lv_svm_vcpu {
	struct lv_vcpu vcpu;
	struct vmcb *vmcb;
	u64 vmcb_pa;
	u32 asid;
	bool flush;
	u64 cr0;
	u64 xcr0;
	unsigned long dr[4];
	bool guest_bp;
	u32 pkru;
	bool pkru_used;
	u64 tsc_aux;
	u64 host_tsc_aux;
	bool loaded;
	unsigned long cr8;
	bool nmi_masked;
	bool awaiting_iret;
	bool nmi_singlestep;
	u64 nmi_ss_dr6;
	u64 iret_rip;
	u8 insn_len;
	u32 exit_code;
	struct lv_ept_cache npt_cache;
};

static inline struct lv_svm_vcpu *to_svm(struct lv_vcpu *vcpu)
{
	return container_of(vcpu, struct lv_svm_vcpu, vcpu);
}

static inline struct lv_svm_vm *to_svm_vm(struct lv_vm *vm)
{
	return vm->vendor;
}

/* PAE PDPTE bits an AMD CPU reserves (it sets A, bit 5, itself). */
#define LV_SVM_PDPTE_RSVD	GENMASK_ULL(2, 1)

/* vmenter.S */
void __lv_svm_vcpu_run(unsigned long *regs, u64 vmcb_pa, u64 host_save_pa,
		       unsigned int flags, u64 guest_spec_ctrl,
		       u64 host_spec_ctrl);

/* svm.c */
void lv_svm_set_cr0(struct lv_svm_vcpu *svm, u64 cr0);
void lv_svm_set_cr4(struct lv_svm_vcpu *svm, u64 cr4);
void lv_svm_set_efer(struct lv_svm_vcpu *svm, u64 efer);
void lv_svm_set_dr7(struct lv_svm_vcpu *svm, unsigned long dr7);
void lv_svm_set_xcr0(struct lv_svm_vcpu *svm, u64 xcr0);
void lv_svm_set_intercept(struct lv_svm_vcpu *svm, unsigned int bit, bool on);
void lv_svm_skip_instruction(struct lv_vcpu *vcpu);
bool lv_svm_nrips(void);
bool lv_svm_nmi_singlestep_done(struct lv_svm_vcpu *svm);

/* exits.c */
enum lv_exit_action lv_svm_handle_exit(struct lv_svm_vcpu *svm);

/* msr.c */
int lv_svm_get_msr(struct lv_svm_vcpu *svm, u32 index, u64 *value);
int lv_svm_set_msr(struct lv_svm_vcpu *svm, u32 index, u64 value);
void lv_svm_msrpm_init(unsigned long *msrpm);

#endif /* LV_SVM_INTERNAL */
#endif /* LV_SVM_H */
