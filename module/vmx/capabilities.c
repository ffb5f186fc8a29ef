// SPDX-License-Identifier: GPL-2.0
/*
 * VMX capability probing: which controls the CPU allows, read from the
 * capability MSRs (SDM vol. 3D, appendix A), and the controls we use.
 */
#define LV_VMX_INTERNAL

#include <linux/kernel.h>
#include <asm/msr.h>
#include <asm/vmx.h>

#include "vmx.h"

struct lv_vmcs_config lv_vmcs_config;

/**
 * lv_adjust_controls() - fit wanted controls to what the CPU allows
 * @cap_msr: a control capability MSR: bits 31:0 are the allowed 0-settings
 *	(a 1 there means the control must be 1), bits 63:32 the allowed
 *	1-settings (a 0 there means the control must be 0)
 * @required: controls lightvisor cannot work without
 * @optional: controls used when present
 * @result: the value to program
 *
 * Return: 0, or -EOPNOTSUPP when a required control cannot be set.
 */
int lv_adjust_controls(u64 cap_msr, u32 required, u32 optional, u32 *result)
{
	u32 must_be_one = lower_32_bits(cap_msr);
	u32 may_be_one = upper_32_bits(cap_msr);

	if (required & ~may_be_one)
		return -EOPNOTSUPP;
	*result = ((required | optional) & may_be_one) | must_be_one;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_adjust_controls);

/*
 * Exits lightvisor needs: external interrupts and NMIs (the host keeps its
 * CPU), HLT (blocking), I/O and MSR bitmaps (device emulation, MSRs that
 * must not reach hardware), CR8 (the guest must not move the host's TPR),
 * MOV DR (host breakpoints), MWAIT/MONITOR and RDPMC (host resources).
 * TSC offsetting, so that RDTSC reads what the guest wrote to the TSC.
 */
#define LV_PIN_REQUIRED		(PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING)
#define LV_PIN_OPTIONAL		(PIN_BASED_VIRTUAL_NMIS | \
				 PIN_BASED_VMX_PREEMPTION_TIMER)
#define LV_PROC_REQUIRED	(CPU_BASED_HLT_EXITING |		\
				 CPU_BASED_USE_IO_BITMAPS |		\
				 CPU_BASED_USE_MSR_BITMAPS |		\
				 CPU_BASED_CR8_LOAD_EXITING |		\
				 CPU_BASED_CR8_STORE_EXITING |		\
				 CPU_BASED_MOV_DR_EXITING |		\
				 CPU_BASED_MWAIT_EXITING |		\
				 CPU_BASED_MONITOR_EXITING |		\
				 CPU_BASED_RDPMC_EXITING |		\
				 CPU_BASED_USE_TSC_OFFSETTING |		\
				 CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
#define LV_PROC2_REQUIRED	(SECONDARY_EXEC_ENABLE_EPT |		\
				 SECONDARY_EXEC_UNRESTRICTED_GUEST |	\
				 SECONDARY_EXEC_WBINVD_EXITING)
#define LV_PROC2_OPTIONAL	(SECONDARY_EXEC_ENABLE_RDTSCP |		\
				 SECONDARY_EXEC_ENABLE_VPID)
/*
 * Host in 64-bit mode; EFER and PAT switched by hardware on entry/exit;
 * the guest's DR7 and IA32_DEBUGCTL loaded on entry and saved on exit
 * (the exit clears the host's: lightvisor puts them back).
 */
#define LV_EXIT_REQUIRED	(VM_EXIT_HOST_ADDR_SPACE_SIZE |		\
				 VM_EXIT_SAVE_DEBUG_CONTROLS |		\
				 VM_EXIT_SAVE_IA32_EFER |		\
				 VM_EXIT_LOAD_IA32_EFER |		\
				 VM_EXIT_SAVE_IA32_PAT |		\
				 VM_EXIT_LOAD_IA32_PAT)
#define LV_ENTRY_REQUIRED	(VM_ENTRY_LOAD_DEBUG_CONTROLS |		\
				 VM_ENTRY_LOAD_IA32_EFER |		\
				 VM_ENTRY_LOAD_IA32_PAT)

/* EPT as we build it: 4 levels, write-back tables, INVEPT by context. */
#define LV_EPT_REQUIRED		(VMX_EPT_PAGE_WALK_4_BIT |		\
				 VMX_EPTP_WB_BIT |			\
				 VMX_EPT_INVEPT_BIT |			\
				 VMX_EPT_EXTENT_CONTEXT_BIT)

/*
 * The controls that spare a vCPU with an in-kernel APIC its exits. None
 * is in the controls every vCPU starts from: a vCPU without an APIC
 * needs its CR8 exits. Each is usable only where its parent is (SDM vol.
 * 3C, 26.2.1.1): the TPR shadow needs CR8 exiting that may be 0; the
 * APIC-access page, the register virtualization, the virtual-interrupt
 * delivery and the x2APIC mode all need the TPR shadow, and the
 * virtual-interrupt delivery needs external-interrupt exiting, which
 * lightvisor always has.
 */
static void lv_vmx_compute_apicv(const struct lv_vmx_msrs *m, bool true_ctls,
				 struct lv_vmcs_config *conf)
{
	u64 proc = true_ctls ? m->true_proc : m->proc;
	u32 cr8_exits = CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING;
	u32 proc2_may = upper_32_bits(m->proc2);

	conf->tpr_shadow_ok = (upper_32_bits(proc) & CPU_BASED_TPR_SHADOW) &&
			      !(lower_32_bits(proc) & cr8_exits);
	if (!conf->tpr_shadow_ok)
		return;
	conf->apic_access_ok = proc2_may & SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES;
	conf->apic_reg_virt_ok = proc2_may & SECONDARY_EXEC_APIC_REGISTER_VIRT;
	conf->virt_intr_delivery_ok = proc2_may & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY;
	conf->x2apic_virt_ok = proc2_may & SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE;
}

/**
 * lv_vmx_compute_config() - derive the VMCS configuration from MSR values
 * @m: capability MSR values
 * @conf: result
 * @missing: set to the name of the first missing feature on failure
 *
 * Pure, so that it can be tested with values recorded on other CPUs.
 */
int lv_vmx_compute_config(const struct lv_vmx_msrs *m,
			  struct lv_vmcs_config *conf, const char **missing)
{
	bool true_ctls = m->basic & LV_VMX_BASIC_TRUE_CTLS;
	u32 may_be_one;

	*missing = NULL;
	memset(conf, 0, sizeof(*conf));
	conf->revision_id = m->basic & 0x7fffffff;
	conf->vmcs_size = (m->basic >> 32) & 0x1fff;

	if (lv_adjust_controls(true_ctls ? m->true_pin : m->pin,
			       LV_PIN_REQUIRED, LV_PIN_OPTIONAL, &conf->pin))
		*missing = "pin-based controls (external interrupt/NMI exiting)";
	else if (lv_adjust_controls(true_ctls ? m->true_proc : m->proc,
				    LV_PROC_REQUIRED, 0, &conf->proc))
		*missing = "processor-based controls (I/O, MSR bitmaps, secondary controls)";
	else if (lv_adjust_controls(m->proc2, SECONDARY_EXEC_ENABLE_EPT, 0,
				    &conf->proc2))
		*missing = "EPT";
	else if (lv_adjust_controls(m->proc2,
				    SECONDARY_EXEC_UNRESTRICTED_GUEST, 0,
				    &conf->proc2))
		*missing = "unrestricted guest";
	else if (lv_adjust_controls(m->proc2, LV_PROC2_REQUIRED,
				    LV_PROC2_OPTIONAL, &conf->proc2))
		*missing = "WBINVD exiting";
	else if (lv_adjust_controls(true_ctls ? m->true_exit : m->exit,
				    LV_EXIT_REQUIRED, 0, &conf->exit))
		*missing = "VM-exit controls (64-bit host, debug controls, EFER/PAT switching)";
	else if (lv_adjust_controls(true_ctls ? m->true_entry : m->entry,
				    LV_ENTRY_REQUIRED, 0, &conf->entry))
		*missing = "VM-entry controls (debug controls, EFER/PAT loading)";
	else if ((m->ept_vpid_cap & LV_EPT_REQUIRED) != LV_EPT_REQUIRED)
		*missing = "EPT with 4-level write-back tables and INVEPT";
	if (*missing)
		return -EOPNOTSUPP;

	/*
	 * VPIDs spare the guest a TLB flush on every entry and exit, but
	 * only if we can flush one VPID when a vCPU changes CPU: without
	 * single-context INVVPID, run untagged (VPID 0, flushed by hardware).
	 */
	if (!(m->ept_vpid_cap & VMX_VPID_INVVPID_BIT) ||
	    !(m->ept_vpid_cap & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT))
		conf->proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;

	/* "IA-32e mode guest" is switched per guest; start without it. */
	conf->entry &= ~VM_ENTRY_IA32E_MODE;
	may_be_one = upper_32_bits(true_ctls ? m->true_proc : m->proc);
	conf->intr_window_ok = may_be_one & CPU_BASED_INTR_WINDOW_EXITING;
	conf->nmi_window_ok = (may_be_one & CPU_BASED_NMI_WINDOW_EXITING) &&
			      (conf->pin & PIN_BASED_VIRTUAL_NMIS);
	lv_vmx_compute_apicv(m, true_ctls, conf);
	conf->ept_vpid_cap = m->ept_vpid_cap;
	conf->misc = m->misc;
	conf->cr0_fixed0 = m->cr0_fixed0;
	conf->cr0_fixed1 = m->cr0_fixed1;
	conf->cr4_fixed0 = m->cr4_fixed0;
	conf->cr4_fixed1 = m->cr4_fixed1;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_vmx_compute_config);

/* Read the capability MSRs of this CPU. Only valid if VMX exists. */
void lv_vmx_read_msrs(struct lv_vmx_msrs *m)
{
	memset(m, 0, sizeof(*m));
	rdmsrl(MSR_IA32_VMX_BASIC, m->basic);
	rdmsrl(MSR_IA32_VMX_PINBASED_CTLS, m->pin);
	rdmsrl(MSR_IA32_VMX_PROCBASED_CTLS, m->proc);
	rdmsrl(MSR_IA32_VMX_EXIT_CTLS, m->exit);
	rdmsrl(MSR_IA32_VMX_ENTRY_CTLS, m->entry);
	if (m->basic & LV_VMX_BASIC_TRUE_CTLS) {
		rdmsrl(MSR_IA32_VMX_TRUE_PINBASED_CTLS, m->true_pin);
		rdmsrl(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, m->true_proc);
		rdmsrl(MSR_IA32_VMX_TRUE_EXIT_CTLS, m->true_exit);
		rdmsrl(MSR_IA32_VMX_TRUE_ENTRY_CTLS, m->true_entry);
	}
	/* Secondary controls and EPT exist only if their parent bit may be 1. */
	if (upper_32_bits(m->proc) & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
		rdmsrl(MSR_IA32_VMX_PROCBASED_CTLS2, m->proc2);
	if (upper_32_bits(m->proc2) & (SECONDARY_EXEC_ENABLE_EPT |
				       SECONDARY_EXEC_ENABLE_VPID))
		rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, m->ept_vpid_cap);
	rdmsrl(MSR_IA32_VMX_MISC, m->misc);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, m->cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, m->cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, m->cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, m->cr4_fixed1);
}
EXPORT_SYMBOL_IF_KUNIT(lv_vmx_read_msrs);
