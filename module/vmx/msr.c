// SPDX-License-Identifier: GPL-2.0
/*
 * Guest MSRs.
 *
 * MSRs with a guest field in the VMCS (EFER, PAT, SYSENTER_*, FS/GS base)
 * are switched by hardware on every entry and exit; the cheap ones of
 * those do not even exit. The SYSCALL MSRs, KERNEL_GS_BASE and TSC_AUX
 * have no VMCS field but matter to the host only in user mode, so they
 * are swapped when the vCPU is loaded and put, not on every exit (the
 * guest changes KERNEL_GS_BASE with SWAPGS without exiting, so it must
 * be swapped whether the guest wrote it or not). Anything else the guest
 * gets is emulated here or refused with #GP.
 */
#define LV_VMX_INTERNAL

#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>

#include "vmx.h"
#include "irq/lapic.h"
#include "vmcs.h"

static const u32 lv_swapped_msrs[LV_NR_SWITCHED_MSRS] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	MSR_TSC_AUX,
};

static int lv_swapped_msr_slot(u32 index)
{
	int i;

	for (i = 0; i < LV_NR_SWITCHED_MSRS; i++)
		if (lv_swapped_msrs[i] == index)
			return i;
	return -1;
}

/* On load: keep the host's values, give the CPU the guest's. */
void lv_vmx_load_guest_msrs(struct lv_vmx_vcpu *vmx)
{
	int i;

	for (i = 0; i < LV_NR_SWITCHED_MSRS; i++) {
		if (lv_swapped_msrs[i] == MSR_TSC_AUX &&
		    !boot_cpu_has(X86_FEATURE_RDTSCP))
			continue;
		rdmsrl(lv_swapped_msrs[i], vmx->host_msrs[i]);
		wrmsrl(lv_swapped_msrs[i], vmx->guest_msrs[i]);
	}
}

/* On put: keep what the guest left there, give the host its own back. */
void lv_vmx_load_host_msrs(struct lv_vmx_vcpu *vmx)
{
	int i;

	for (i = 0; i < LV_NR_SWITCHED_MSRS; i++) {
		if (lv_swapped_msrs[i] == MSR_TSC_AUX &&
		    !boot_cpu_has(X86_FEATURE_RDTSCP))
			continue;
		rdmsrl(lv_swapped_msrs[i], vmx->guest_msrs[i]);
		wrmsrl(lv_swapped_msrs[i], vmx->host_msrs[i]);
	}
}

/* Bit set in the bitmap: the access exits (SDM vol. 3C, 25.6.9). */
static void lv_msr_passthrough(unsigned long *bitmap, u32 msr)
{
	unsigned int base = msr >= 0xc0000000 ? 1024 * 8 : 0;
	unsigned int bit = msr & 0x1fff;

	__clear_bit(base + bit, bitmap);		/* read */
	__clear_bit(base + 2048 * 8 + bit, bitmap);	/* write */
}

void lv_vmx_msr_bitmap_init(unsigned long *bitmap)
{
	memset(bitmap, 0xff, PAGE_SIZE);
	/* Their guest values live in the VMCS: nothing of the host leaks. */
	lv_msr_passthrough(bitmap, MSR_FS_BASE);
	lv_msr_passthrough(bitmap, MSR_GS_BASE);
	lv_msr_passthrough(bitmap, MSR_IA32_SYSENTER_CS);
	lv_msr_passthrough(bitmap, MSR_IA32_SYSENTER_ESP);
	lv_msr_passthrough(bitmap, MSR_IA32_SYSENTER_EIP);
}

/*
 * For a vCPU with virtual-interrupt delivery whose APIC is in x2APIC
 * mode: TPR reads and writes, EOI and SELF IPI writes go to the
 * virtual-APIC page (SDM vol. 3C, 30.5); every other APIC MSR still
 * exits. SELF IPI writes exit too with @self_ipi_exits (vid_erratum in
 * vmx.c).
 */
void lv_vmx_msr_bitmap_init_x2apic(unsigned long *bitmap, bool self_ipi_exits)
{
	lv_vmx_msr_bitmap_init(bitmap);
	lv_msr_passthrough(bitmap, LV_X2APIC_MSR_BASE + (APIC_TASKPRI >> 4));
	__clear_bit(2048 * 8 + LV_X2APIC_MSR_BASE + (APIC_EOI >> 4), bitmap);
	if (!self_ipi_exits)
		__clear_bit(2048 * 8 + LV_X2APIC_MSR_BASE + (APIC_SELF_IPI >> 4),
			    bitmap);
}

int lv_vmx_get_msr(struct lv_vmx_vcpu *vmx, u32 index, u64 *value)
{
	int slot = lv_swapped_msr_slot(index);
	int ret;

	ret = lv_msr_get_common(&vmx->vcpu, index, value);
	if (ret != -ENOENT)
		return ret;

	if (slot >= 0) {
		/* While loaded, the CPU holds the guest's current value. */
		if (vmx->vcpu.cpu == raw_smp_processor_id() && vmx->host_seg.saved)
			rdmsrl(index, *value);
		else
			*value = vmx->guest_msrs[slot];
		return 0;
	}

	switch (index) {
	case MSR_EFER:
		*value = vmcs_read64(GUEST_IA32_EFER);
		break;
	case MSR_IA32_CR_PAT:
		*value = vmcs_read64(GUEST_IA32_PAT);
		break;
	case MSR_IA32_SYSENTER_CS:
		*value = vmcs_read32(GUEST_SYSENTER_CS);
		break;
	case MSR_IA32_SYSENTER_ESP:
		*value = vmcs_readl(GUEST_SYSENTER_ESP);
		break;
	case MSR_IA32_SYSENTER_EIP:
		*value = vmcs_readl(GUEST_SYSENTER_EIP);
		break;
	case MSR_FS_BASE:
		*value = vmcs_readl(GUEST_FS_BASE);
		break;
	case MSR_GS_BASE:
		*value = vmcs_readl(GUEST_GS_BASE);
		break;
	case MSR_IA32_TSC:
		*value = rdtsc() + vmcs_read64(TSC_OFFSET);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int lv_vmx_set_efer_msr(struct lv_vmx_vcpu *vmx, u64 efer)
{
	if (!lv_efer_write(vmcs_read64(GUEST_IA32_EFER), &efer,
			   lv_vmx_read_cr0(vmx)))
		return -EINVAL;
	lv_vmx_set_efer(vmx, efer);
	return 0;
}

/*
 * Move this vCPU's TSC by @delta ticks, as a write of IA32_TSC or
 * IA32_TSC_ADJUST does; each write changes the other MSR by as much
 * (SDM 17.17.3). RDTSC reads it too: "use TSC offsetting" is always on.
 */
static void lv_vmx_move_tsc(struct lv_vmx_vcpu *vmx, s64 delta)
{
	u64 offset = vmcs_read64(TSC_OFFSET) + delta;

	vmcs_write64(TSC_OFFSET, offset);
	vmx->vcpu.tsc_adjust += delta;
	lv_vcpu_tsc_offset_changed(&vmx->vcpu, offset);
}

int lv_vmx_set_msr(struct lv_vmx_vcpu *vmx, u32 index, u64 value)
{
	int slot = lv_swapped_msr_slot(index);
	int ret;

	ret = lv_msr_set_common(&vmx->vcpu, index, value);
	if (ret != -ENOENT)
		return ret;

	if (!lv_msr_value_ok(index, value))
		return -EINVAL;
	if (slot >= 0) {
		vmx->guest_msrs[slot] = value;
		if (vmx->vcpu.cpu == raw_smp_processor_id() && vmx->host_seg.saved)
			wrmsrl(index, value);
		return 0;
	}

	switch (index) {
	case MSR_EFER:
		return lv_vmx_set_efer_msr(vmx, value);
	case MSR_IA32_CR_PAT:
		vmcs_write64(GUEST_IA32_PAT, value);
		return 0;
	case MSR_IA32_SYSENTER_CS:
		vmcs_write32(GUEST_SYSENTER_CS, value);
		return 0;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		if (index == MSR_IA32_SYSENTER_ESP)
			vmcs_writel(GUEST_SYSENTER_ESP, value);
		else if (index == MSR_IA32_SYSENTER_EIP)
			vmcs_writel(GUEST_SYSENTER_EIP, value);
		else if (index == MSR_FS_BASE)
			vmcs_writel(GUEST_FS_BASE, value);
		else
			vmcs_writel(GUEST_GS_BASE, value);
		return 0;
	case MSR_IA32_TSC:
		lv_vmx_move_tsc(vmx, value - (rdtsc() + vmcs_read64(TSC_OFFSET)));
		return 0;
	case MSR_IA32_TSC_ADJUST:
		lv_vmx_move_tsc(vmx, value - vmx->vcpu.tsc_adjust);
		return 0;
	default:
		return -EINVAL;
	}
}
