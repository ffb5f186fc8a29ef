// SPDX-License-Identifier: GPL-2.0
/*
 * Guest MSRs under SVM.
 *
 * The MSRs VMLOAD and VMSAVE switch (FS/GS base, KERNEL_GS_BASE, the
 * SYSCALL and SYSENTER MSRs) live in the VMCB and do not exit: the
 * host's are never exposed. Every other MSR exits (the MSR permission
 * map has all its other bits set) and is emulated here with the same
 * rules as under VMX, or refused with #GP.
 */
#define LV_SVM_INTERNAL

#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>

#include "svm.h"
#include "irq/lapic.h"

/* The MSRPM's three ranges, 2 bits (read, write) per MSR (APM 15.11). */
static int lv_msrpm_bit(u32 msr)
{
	static const u32 base[] = { 0, 0xc0000000, 0xc0010000 };
	int i;

	for (i = 0; i < ARRAY_SIZE(base); i++)
		if (msr - base[i] < 0x2000)
			return i * 0x800 * 8 + (msr - base[i]) * 2;
	return -1;
}

static void lv_msr_passthrough(unsigned long *msrpm, u32 msr, bool write)
{
	int bit = lv_msrpm_bit(msr);

	__clear_bit(bit, msrpm);		/* read */
	if (write)
		__clear_bit(bit + 1, msrpm);	/* write */
}

void lv_svm_msrpm_init(unsigned long *msrpm)
{
	memset(msrpm, 0xff, 2 * PAGE_SIZE);
	/*
	 * Switched by VMLOAD/VMSAVE around every VMRUN. FS and GS base
	 * change at every guest context switch; the others are written
	 * rarely, and their writes exit so that the rules of WRMSR
	 * (canonical addresses) hold even where the CPU, or the emulator,
	 * would not check them.
	 */
	lv_msr_passthrough(msrpm, MSR_FS_BASE, true);
	lv_msr_passthrough(msrpm, MSR_GS_BASE, true);
	lv_msr_passthrough(msrpm, MSR_KERNEL_GS_BASE, false);
	lv_msr_passthrough(msrpm, MSR_STAR, false);
	lv_msr_passthrough(msrpm, MSR_LSTAR, false);
	lv_msr_passthrough(msrpm, MSR_CSTAR, false);
	lv_msr_passthrough(msrpm, MSR_SYSCALL_MASK, false);
	lv_msr_passthrough(msrpm, MSR_IA32_SYSENTER_CS, false);
	lv_msr_passthrough(msrpm, MSR_IA32_SYSENTER_ESP, false);
	lv_msr_passthrough(msrpm, MSR_IA32_SYSENTER_EIP, false);
}

/* The MSRs whose guest value is a VMCB field. */
static u64 *lv_svm_vmcb_msr(struct lv_svm_vcpu *svm, u32 index)
{
	struct vmcb_save_area *save = &svm->vmcb->save;

	switch (index) {
	case MSR_FS_BASE:
		return &save->fs.base;
	case MSR_GS_BASE:
		return &save->gs.base;
	case MSR_KERNEL_GS_BASE:
		return &save->kernel_gs_base;
	case MSR_STAR:
		return &save->star;
	case MSR_LSTAR:
		return &save->lstar;
	case MSR_CSTAR:
		return &save->cstar;
	case MSR_SYSCALL_MASK:
		return &save->sfmask;
	case MSR_IA32_SYSENTER_CS:
		return &save->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP:
		return &save->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP:
		return &save->sysenter_eip;
	case MSR_IA32_CR_PAT:
		return &save->g_pat;
	}
	return NULL;
}

int lv_svm_get_msr(struct lv_svm_vcpu *svm, u32 index, u64 *value)
{
	u64 *field = lv_svm_vmcb_msr(svm, index);
	int ret;

	if (field) {
		*value = *field;
		return 0;
	}
	ret = lv_msr_get_common(&svm->vcpu, index, value);
	if (ret != -ENOENT)
		return ret;

	switch (index) {
	case MSR_EFER:
		*value = svm->vmcb->save.efer & ~EFER_SVME;
		break;
	case MSR_TSC_AUX:
		*value = svm->tsc_aux;
		break;
	case MSR_IA32_TSC:
		*value = rdtsc() + svm->vmcb->control.tsc_offset;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int lv_svm_set_efer_msr(struct lv_svm_vcpu *svm, u64 efer)
{
	if (!lv_efer_write(svm->vmcb->save.efer & ~EFER_SVME, &efer, svm->cr0))
		return -EINVAL;
	lv_svm_set_efer(svm, efer);
	return 0;
}

/*
 * Move this vCPU's TSC by @delta ticks, as a write of IA32_TSC or
 * IA32_TSC_ADJUST does; each write changes the other MSR by as much.
 */
static void lv_svm_move_tsc(struct lv_svm_vcpu *svm, s64 delta)
{
	u64 offset = svm->vmcb->control.tsc_offset + delta;

	svm->vmcb->control.tsc_offset = offset;
	svm->vcpu.tsc_adjust += delta;
	lv_vcpu_tsc_offset_changed(&svm->vcpu, offset);
}

int lv_svm_set_msr(struct lv_svm_vcpu *svm, u32 index, u64 value)
{
	u64 *field = lv_svm_vmcb_msr(svm, index);
	int ret;

	if (!lv_msr_value_ok(index, value))
		return -EINVAL;
	if (field) {
		*field = index == MSR_IA32_SYSENTER_CS ? (u32)value : value;
		return 0;
	}
	ret = lv_msr_set_common(&svm->vcpu, index, value);
	if (ret != -ENOENT)
		return ret;

	switch (index) {
	case MSR_EFER:
		return lv_svm_set_efer_msr(svm, value);
	case MSR_TSC_AUX:
		svm->tsc_aux = value;
		if (svm->loaded)
			wrmsrl(MSR_TSC_AUX, value);
		return 0;
	case MSR_IA32_TSC:
		lv_svm_move_tsc(svm, value - (rdtsc() +
					      svm->vmcb->control.tsc_offset));
		return 0;
	case MSR_IA32_TSC_ADJUST:
		lv_svm_move_tsc(svm, value - svm->vcpu.tsc_adjust);
		return 0;
	default:
		return -EINVAL;
	}
}
