// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test for the KUnit plumbing: checks properties of the userspace ABI
 * that do not depend on any module code.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/lightvisor.h>

static void lv_abi_run_layout_test(struct kunit *test)
{
	/* The I/O data area must not overlap struct lv_run. */
	KUNIT_EXPECT_LE(test, sizeof(struct lv_run),
			(size_t)LV_RUN_IO_DATA_OFFSET);
	KUNIT_EXPECT_LT(test, (size_t)LV_RUN_IO_DATA_OFFSET, (size_t)PAGE_SIZE);
}

static void lv_abi_ioctl_numbers_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, _IOC_TYPE(LV_RUN), LVIO);
	KUNIT_EXPECT_NE(test, LV_GET_REGS, LV_SET_REGS);
	KUNIT_EXPECT_EQ(test, _IOC_SIZE(LV_GET_VCPU_STATE),
			sizeof(struct lv_vcpu_state));
}

static struct kunit_case lv_smoke_cases[] = {
	KUNIT_CASE(lv_abi_run_layout_test),
	KUNIT_CASE(lv_abi_ioctl_numbers_test),
	{}
};

static struct kunit_suite lv_smoke_suite = {
	.name = "lightvisor-smoke",
	.test_cases = lv_smoke_cases,
};

kunit_test_suite(lv_smoke_suite);

MODULE_DESCRIPTION("lightvisor KUnit tests");
MODULE_LICENSE("GPL");
