// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the vendor-neutral architectural rules (module/x86.c):
 * the MTRR MSRs and the IA32_APIC_BASE state machine.
 */
#include <kunit/test.h>
#include <asm/msr-index.h>

#include "../../module/lightvisor.h"

#define EN	BIT_ULL(11)
#define EXTD	BIT_ULL(10)
#define BSP	BIT_ULL(8)
#define BASE	0xfee00000ULL

static void apic_base_reserved_bits(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | BSP,
						 false, false), 0);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | 1,
						 false, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | BIT(9),
						 false, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN,
						 BASE | EN | BIT_ULL(63),
						 true, true), -EINVAL);
	/* EXTD is reserved without CPUID x2APIC, also for userspace. */
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | EXTD,
						 false, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | EXTD,
						 true, false), 0);
}

static void apic_base_transitions(struct kunit *test)
{
	/* EXTD without EN is invalid from anywhere. */
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE | EXTD,
						 true, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE | EXTD,
						 true, true), -EINVAL);
	/* x2APIC -> xAPIC and disabled -> x2APIC: guest no, userspace yes. */
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE | EN,
						 true, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE | EN,
						 true, true), 0);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE, BASE | EN | EXTD,
						 true, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE, BASE | EN | EXTD,
						 true, true), 0);
	/* x2APIC -> disabled -> xAPIC is the legal way back. */
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE,
						 true, false), 0);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE, BASE | EN,
						 true, false), 0);
}

static void mtrr_read_back_and_reject(struct kunit *test)
{
	struct lv_vcpu *vcpu = kunit_kzalloc(test, sizeof(*vcpu), GFP_KERNEL);
	u64 v = 0;

	KUNIT_ASSERT_NOT_NULL(test, vcpu);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, MSR_MTRRcap, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0x508ULL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRcap, 0), -EINVAL);

	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x200, 0x80000006), 0);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, 0x200, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0x80000006ULL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x200, 0x80000003), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x200, 0x80000f06), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x201, 0xfff0000800ULL), 0);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x201, 0xfff0000400ULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x20f, 0x800), 0);
	/* MTRRCAP says 8: PHYSBASE8 is no MTRR of ours. */
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x210, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, 0x210, &v), -ENOENT);

	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRfix16K_A0000,
					  0x0101010100000000ULL), 0);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRfix4K_C0000,
					  0x0000000200000000ULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, MSR_MTRRfix16K_A0000, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0x0101010100000000ULL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRdefType, 0xc06), 0);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRdefType, 0x1006), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, MSR_MTRRdefType, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0xc06ULL);
}

static struct kunit_case lv_x86_test_cases[] = {
	KUNIT_CASE(apic_base_reserved_bits),
	KUNIT_CASE(apic_base_transitions),
	KUNIT_CASE(mtrr_read_back_and_reject),
	{}
};

static struct kunit_suite lv_x86_test_suite = {
	.name = "lightvisor_x86",
	.test_cases = lv_x86_test_cases,
};

kunit_test_suite(lv_x86_test_suite);
