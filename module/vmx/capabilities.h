/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the CPU's VMX implementation allows, read once at load from the
 * VMX capability MSRs, and the control values lightvisor runs with.
 */
#ifndef LV_VMX_CAPABILITIES_H
#define LV_VMX_CAPABILITIES_H

#include <linux/types.h>

/**
 * struct lv_vmcs_config - the VMCS controls every vCPU starts from
 * @revision_id: VMCS revision identifier (IA32_VMX_BASIC[30:0])
 * @vmcs_size: bytes to allocate for a VMCS region
 * @pin: pin-based VM-execution controls
 * @proc: primary processor-based controls
 * @proc2: secondary processor-based controls
 * @exit: VM-exit controls
 * @entry: VM-entry controls
 * @ept_vpid_cap: IA32_VMX_EPT_VPID_CAP
 * @misc: IA32_VMX_MISC
 * @cr0_fixed0: CR0 bits that must be 1 in VMX operation
 * @cr0_fixed1: CR0 bits that may be 1
 * @cr4_fixed0: CR4 bits that must be 1
 * @cr4_fixed1: CR4 bits that may be 1
 * @intr_window_ok: interrupt-window exiting can be turned on
 * @nmi_window_ok: NMI-window exiting can be turned on
 * @tpr_shadow_ok: "use TPR shadow" can be 1 with CR8-load and CR8-store
 *	exiting 0 (a vCPU with an in-kernel APIC turns it on)
 * @apic_access_ok: "virtualize APIC accesses" can be 1
 * @apic_reg_virt_ok: "APIC-register virtualization" can be 1
 * @virt_intr_delivery_ok: "virtual-interrupt delivery" can be 1
 * @x2apic_virt_ok: "virtualize x2APIC mode" can be 1
 */
struct lv_vmcs_config {
	u32 revision_id;
	u32 vmcs_size;
	u32 pin;
	u32 proc;
	u32 proc2;
	u32 exit;
	u32 entry;
	u64 ept_vpid_cap;
	u64 misc;
	u64 cr0_fixed0, cr0_fixed1;
	u64 cr4_fixed0, cr4_fixed1;
	bool intr_window_ok;
	bool nmi_window_ok;
	bool tpr_shadow_ok;
	bool apic_access_ok;
	bool apic_reg_virt_ok;
	bool virt_intr_delivery_ok;
	bool x2apic_virt_ok;
};

extern struct lv_vmcs_config lv_vmcs_config;

int lv_adjust_controls(u64 cap_msr, u32 required, u32 optional, u32 *result);
int lv_vmx_setup_config(struct lv_vmcs_config *conf, const char **missing);

#endif /* LV_VMX_CAPABILITIES_H */
