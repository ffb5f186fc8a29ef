// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the VMX backend's pure parts: control adjustment from
 * capability MSRs, probing on the CPU we run on, VMCS field widths, the
 * exit dispatch table, and memory-region validation.
 */
#define LV_VMX_INTERNAL

#include <kunit/test.h>
#include <linux/mm.h>
#include <asm/cpufeature.h>

#include "../../module/vmx/vmx.h"
#include "../../module/vmx/vmcs.h"

static void adjust_sets_required_and_allowed(struct kunit *test)
{
	/* Must-be-one 0x16, may-be-one 0xff: optional bit 0x100 is dropped. */
	u64 msr = (0xffULL << 32) | 0x16;
	u32 val;

	KUNIT_ASSERT_EQ(test, lv_adjust_controls(msr, 0x01, 0x100, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 0x17U);
}

static void adjust_rejects_missing_required(struct kunit *test)
{
	u64 msr = (0x0fULL << 32) | 0x01;
	u32 val = 0xdead;

	KUNIT_EXPECT_EQ(test, lv_adjust_controls(msr, 0x10, 0, &val),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, val, 0xdeadU);
}

/* A CPU that allows everything but forces nothing. */
static void permissive_msrs(struct lv_vmx_msrs *m)
{
	memset(m, 0, sizeof(*m));
	m->basic = LV_VMX_BASIC_TRUE_CTLS | (4096ULL << 32) | 0x12;
	m->pin = m->true_pin = 0xffffffffULL << 32;
	m->proc = m->true_proc = 0xffffffffULL << 32;
	m->exit = m->true_exit = 0xffffffffULL << 32;
	m->entry = m->true_entry = 0xffffffffULL << 32;
	m->proc2 = 0xffffffffULL << 32;
	m->ept_vpid_cap = ~0ULL;
	m->misc = 5;
	m->cr0_fixed0 = X86_CR0_PE | X86_CR0_NE | X86_CR0_PG;
	m->cr0_fixed1 = ~0ULL;
	m->cr4_fixed0 = X86_CR4_VMXE;
	m->cr4_fixed1 = ~0ULL;
}

static void compute_config_permissive(struct kunit *test)
{
	struct lv_vmcs_config conf;
	struct lv_vmx_msrs m;
	const char *missing;

	permissive_msrs(&m);
	KUNIT_ASSERT_EQ(test, lv_vmx_compute_config(&m, &conf, &missing), 0);
	KUNIT_EXPECT_NULL(test, missing);
	KUNIT_EXPECT_EQ(test, conf.revision_id, 0x12U);
	KUNIT_EXPECT_EQ(test, conf.vmcs_size, 4096U);
	KUNIT_EXPECT_TRUE(test, conf.pin & PIN_BASED_EXT_INTR_MASK);
	KUNIT_EXPECT_TRUE(test, conf.pin & PIN_BASED_NMI_EXITING);
	KUNIT_EXPECT_TRUE(test, conf.proc & CPU_BASED_HLT_EXITING);
	KUNIT_EXPECT_TRUE(test, conf.proc & CPU_BASED_CR8_LOAD_EXITING);
	KUNIT_EXPECT_TRUE(test, conf.proc2 & SECONDARY_EXEC_ENABLE_EPT);
	KUNIT_EXPECT_TRUE(test, conf.proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST);
	KUNIT_EXPECT_TRUE(test, conf.exit & VM_EXIT_HOST_ADDR_SPACE_SIZE);
	/* Switched per guest, never set up front. */
	KUNIT_EXPECT_FALSE(test, conf.entry & VM_ENTRY_IA32E_MODE);
	/* Interrupt windows are not set at start, only allowed. */
	KUNIT_EXPECT_FALSE(test, conf.proc & CPU_BASED_INTR_WINDOW_EXITING);
	KUNIT_EXPECT_TRUE(test, conf.intr_window_ok);
}

static void compute_config_names_missing_ept(struct kunit *test)
{
	struct lv_vmcs_config conf;
	struct lv_vmx_msrs m;
	const char *missing;

	permissive_msrs(&m);
	m.proc2 &= ~((u64)SECONDARY_EXEC_ENABLE_EPT << 32);
	KUNIT_EXPECT_EQ(test, lv_vmx_compute_config(&m, &conf, &missing),
			-EOPNOTSUPP);
	KUNIT_EXPECT_STREQ(test, missing, "EPT");
}

static void compute_config_names_missing_unrestricted(struct kunit *test)
{
	struct lv_vmcs_config conf;
	struct lv_vmx_msrs m;
	const char *missing;

	permissive_msrs(&m);
	m.proc2 &= ~((u64)SECONDARY_EXEC_UNRESTRICTED_GUEST << 32);
	KUNIT_EXPECT_EQ(test, lv_vmx_compute_config(&m, &conf, &missing),
			-EOPNOTSUPP);
	KUNIT_EXPECT_STREQ(test, missing, "unrestricted guest");
}

/* Without TRUE_* MSRs, the plain ones decide. */
static void compute_config_without_true_msrs(struct kunit *test)
{
	struct lv_vmcs_config conf;
	struct lv_vmx_msrs m;
	const char *missing;

	permissive_msrs(&m);
	m.basic &= ~LV_VMX_BASIC_TRUE_CTLS;
	m.true_proc = 0;		/* would forbid everything if read */
	m.proc |= CPU_BASED_CR3_LOAD_EXITING;	/* a default-1 control */
	KUNIT_ASSERT_EQ(test, lv_vmx_compute_config(&m, &conf, &missing), 0);
	KUNIT_EXPECT_TRUE(test, conf.proc & CPU_BASED_CR3_LOAD_EXITING);
}

/*
 * The APIC-virtualization controls are found, not turned on: a vCPU
 * without an in-kernel APIC keeps its CR8 exits. Each child needs the
 * TPR shadow, and the TPR shadow needs CR8 exiting that may be 0.
 */
static void compute_config_apicv(struct kunit *test)
{
	struct lv_vmcs_config conf;
	struct lv_vmx_msrs m;
	const char *missing;

	permissive_msrs(&m);
	KUNIT_ASSERT_EQ(test, lv_vmx_compute_config(&m, &conf, &missing), 0);
	KUNIT_EXPECT_TRUE(test, conf.tpr_shadow_ok);
	KUNIT_EXPECT_TRUE(test, conf.apic_access_ok);
	KUNIT_EXPECT_TRUE(test, conf.apic_reg_virt_ok);
	KUNIT_EXPECT_TRUE(test, conf.virt_intr_delivery_ok);
	KUNIT_EXPECT_TRUE(test, conf.x2apic_virt_ok);
	KUNIT_EXPECT_FALSE(test, conf.proc & CPU_BASED_TPR_SHADOW);
	KUNIT_EXPECT_TRUE(test, conf.proc & CPU_BASED_CR8_STORE_EXITING);
	KUNIT_EXPECT_FALSE(test, conf.proc2 & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY);

	/* Only virtual-interrupt delivery missing. */
	m.proc2 &= ~((u64)SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY << 32);
	KUNIT_ASSERT_EQ(test, lv_vmx_compute_config(&m, &conf, &missing), 0);
	KUNIT_EXPECT_TRUE(test, conf.tpr_shadow_ok);
	KUNIT_EXPECT_TRUE(test, conf.apic_reg_virt_ok);
	KUNIT_EXPECT_FALSE(test, conf.virt_intr_delivery_ok);

	/* No TPR shadow: none of its children either. */
	permissive_msrs(&m);
	m.true_proc &= ~((u64)CPU_BASED_TPR_SHADOW << 32);
	KUNIT_ASSERT_EQ(test, lv_vmx_compute_config(&m, &conf, &missing), 0);
	KUNIT_EXPECT_FALSE(test, conf.tpr_shadow_ok);
	KUNIT_EXPECT_FALSE(test, conf.apic_reg_virt_ok);
	KUNIT_EXPECT_FALSE(test, conf.virt_intr_delivery_ok);

	/* CR8-store exiting forced to 1: the shadow would not save a thing. */
	permissive_msrs(&m);
	m.true_proc |= CPU_BASED_CR8_STORE_EXITING;
	KUNIT_ASSERT_EQ(test, lv_vmx_compute_config(&m, &conf, &missing), 0);
	KUNIT_EXPECT_FALSE(test, conf.tpr_shadow_ok);
}

static bool allowed(u64 msr, u32 val)
{
	return (val & lower_32_bits(msr)) == lower_32_bits(msr) &&
	       !(val & ~upper_32_bits(msr));
}

/* The probe on the CPU we run on: in Bochs, a Haswell with VMX. */
static void probe_this_cpu(struct kunit *test)
{
	struct lv_vmcs_config conf;
	struct lv_vmx_msrs m;
	const char *missing;
	bool true_ctls;

	if (!boot_cpu_has(X86_FEATURE_VMX))
		kunit_skip(test, "this CPU has no VMX");
	lv_vmx_read_msrs(&m);
	KUNIT_ASSERT_EQ_MSG(test, lv_vmx_compute_config(&m, &conf, &missing),
			    0, "missing: %s", missing ?: "?");
	true_ctls = m.basic & LV_VMX_BASIC_TRUE_CTLS;
	KUNIT_EXPECT_TRUE(test, allowed(true_ctls ? m.true_pin : m.pin, conf.pin));
	KUNIT_EXPECT_TRUE(test, allowed(true_ctls ? m.true_proc : m.proc, conf.proc));
	KUNIT_EXPECT_TRUE(test, allowed(m.proc2, conf.proc2));
	KUNIT_EXPECT_TRUE(test, allowed(true_ctls ? m.true_exit : m.exit, conf.exit));
	KUNIT_EXPECT_TRUE(test, allowed(true_ctls ? m.true_entry : m.entry,
					conf.entry | (conf.entry & VM_ENTRY_IA32E_MODE)));
	KUNIT_EXPECT_NE(test, conf.revision_id, 0U);
	KUNIT_EXPECT_LE(test, conf.vmcs_size, 4096U);
	/* VMX operation requires CR0.PE/PG/NE and CR4.VMXE to be 1. */
	KUNIT_EXPECT_TRUE(test, conf.cr0_fixed0 & X86_CR0_NE);
	KUNIT_EXPECT_TRUE(test, conf.cr4_fixed0 & X86_CR4_VMXE);
	kunit_info(test, "pin %#x proc %#x proc2 %#x exit %#x entry %#x ept %#llx",
		   conf.pin, conf.proc, conf.proc2, conf.exit, conf.entry,
		   conf.ept_vpid_cap);
	kunit_info(test, "may be 1: proc %#x proc2 %#x; TPR shadow %d, APIC-access page %d, APIC-register virtualization %d, virtual-interrupt delivery %d, x2APIC mode %d",
		   upper_32_bits(true_ctls ? m.true_proc : m.proc),
		   upper_32_bits(m.proc2), conf.tpr_shadow_ok,
		   conf.apic_access_ok, conf.apic_reg_virt_ok,
		   conf.virt_intr_delivery_ok, conf.x2apic_virt_ok);
}

static void vmcs_field_widths(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, VMCS_FIELD_WIDTH(GUEST_ES_SELECTOR), VMCS_WIDTH_16);
	KUNIT_EXPECT_EQ(test, VMCS_FIELD_WIDTH(VIRTUAL_PROCESSOR_ID), VMCS_WIDTH_16);
	KUNIT_EXPECT_EQ(test, VMCS_FIELD_WIDTH(VMCS_LINK_POINTER), VMCS_WIDTH_64);
	KUNIT_EXPECT_EQ(test, VMCS_FIELD_WIDTH(EPT_POINTER), VMCS_WIDTH_64);
	KUNIT_EXPECT_EQ(test, VMCS_FIELD_WIDTH(GUEST_ES_LIMIT), VMCS_WIDTH_32);
	KUNIT_EXPECT_EQ(test, VMCS_FIELD_WIDTH(VM_EXIT_REASON), VMCS_WIDTH_32);
	KUNIT_EXPECT_EQ(test, VMCS_FIELD_WIDTH(GUEST_CR0), VMCS_WIDTH_NATURAL);
	KUNIT_EXPECT_EQ(test, VMCS_FIELD_WIDTH(HOST_RSP), VMCS_WIDTH_NATURAL);
	/* The "high" half of a 64-bit field is an access of its own. */
	KUNIT_EXPECT_TRUE(test, VMCS_FIELD_HIGH(EPT_POINTER_HIGH));
	KUNIT_EXPECT_FALSE(test, VMCS_FIELD_HIGH(EPT_POINTER));
}

static void exit_dispatch(struct kunit *test)
{
	static const unsigned int handled[] = {
		EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_TRIPLE_FAULT,
		EXIT_REASON_CPUID, EXIT_REASON_HLT, EXIT_REASON_VMCALL,
		EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_MSR_READ,
		EXIT_REASON_MSR_WRITE, EXIT_REASON_CR_ACCESS,
		EXIT_REASON_EPT_VIOLATION, EXIT_REASON_XSETBV,
		EXIT_REASON_VMON, EXIT_REASON_INTERRUPT_WINDOW,
		EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_TPR_BELOW_THRESHOLD,
		EXIT_REASON_EOI_INDUCED, EXIT_REASON_APIC_ACCESS,
		EXIT_REASON_APIC_WRITE,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(handled); i++)
		KUNIT_EXPECT_NOT_NULL_MSG(test, lv_vmx_exit_handler(handled[i]),
					  "exit reason %u", handled[i]);
	/* Exits we never enable have no handler: an internal error. */
	KUNIT_EXPECT_NULL(test, lv_vmx_exit_handler(EXIT_REASON_TASK_SWITCH));
	KUNIT_EXPECT_NULL(test, lv_vmx_exit_handler(EXIT_REASON_RDTSC));
	/* Out of range, also far out. */
	KUNIT_EXPECT_NULL(test, lv_vmx_exit_handler(100));
	KUNIT_EXPECT_NULL(test, lv_vmx_exit_handler(0xffff));
	/* The same handler serves every VMX instruction: they all #UD. */
	KUNIT_EXPECT_PTR_EQ(test, lv_vmx_exit_handler(EXIT_REASON_VMON),
			    lv_vmx_exit_handler(EXIT_REASON_INVEPT));
}

static void memory_region_checks(struct kunit *test)
{
	struct lv_memory_region ok = {
		.slot = 0, .guest_phys_addr = 0x100000, .memory_size = 0x10000,
		.userspace_addr = 0x7f0000000000,
	};
	struct lv_memory_region r;

	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&ok), 0);
	r = ok; r.slot = LV_NR_MEMSLOTS;
	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&r), -EINVAL);
	r = ok; r.flags = 1U << 7;
	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&r), -EINVAL);
	r = ok; r.guest_phys_addr += 1;
	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&r), -EINVAL);
	r = ok; r.memory_size = 0x1800;
	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&r), -EINVAL);
	r = ok; r.userspace_addr += 8;
	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&r), -EINVAL);
	r = ok; r.guest_phys_addr = ~0ULL & PAGE_MASK;
	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&r), -EINVAL);
	r = ok; r.guest_phys_addr = LV_MAX_GPA - 0x1000; r.memory_size = 0x2000;
	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&r), -EINVAL);
	r = ok; r.userspace_addr = ~0ULL & PAGE_MASK;
	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&r), -EINVAL);
	/* Size 0 deletes: nothing else matters then. */
	r = ok; r.memory_size = 0; r.guest_phys_addr = 3;
	KUNIT_EXPECT_EQ(test, lv_check_memory_region(&r), 0);
}

static struct kunit_case lv_vmx_cases[] = {
	KUNIT_CASE(adjust_sets_required_and_allowed),
	KUNIT_CASE(adjust_rejects_missing_required),
	KUNIT_CASE(compute_config_permissive),
	KUNIT_CASE(compute_config_names_missing_ept),
	KUNIT_CASE(compute_config_names_missing_unrestricted),
	KUNIT_CASE(compute_config_without_true_msrs),
	KUNIT_CASE(compute_config_apicv),
	KUNIT_CASE(probe_this_cpu),
	KUNIT_CASE(vmcs_field_widths),
	KUNIT_CASE(exit_dispatch),
	KUNIT_CASE(memory_region_checks),
	{}
};

static struct kunit_suite lv_vmx_suite = {
	.name = "lightvisor_vmx",
	.test_cases = lv_vmx_cases,
};
kunit_test_suite(lv_vmx_suite);
