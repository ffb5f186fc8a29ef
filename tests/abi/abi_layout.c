// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI is the same for 64-bit and 32-bit (compat) callers: every ioctl
 * number, structure size and offset of a 32-bit build equals the 64-bit
 * one, and the kernel accepts the 32-bit numbers. A 32-bit build used to
 * get ENOTTY on the SREGS and VCPU_STATE ioctls, as struct lv_segment
 * was 28 bytes there and 32 here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "abi_layout.h"
#include "test_util.h"

#define VALUE(x) x,
#define NAME(x) #x,

static const unsigned int values_64[] = { LV_ABI_VALUES(VALUE) };
static const char *const names[] = { LV_ABI_VALUES(NAME) };
static const unsigned int values_32[] = {
#include "abi_layout32.h"
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static unsigned int value_32(const char *name)
{
	unsigned int i;

	for (i = 0; i < N(names); i++)
		if (!strcmp(names[i], name))
			return values_32[i];
	die("no value %s", name);
}

static void test_values(void)
{
	unsigned int i;

	tap_eq(N(values_64), N(values_32), "the i386 build gave every value");
	for (i = 0; i < N(values_64) && i < N(values_32); i++) {
		if (values_64[i] != values_32[i])
			tap_diag("%s: 64-bit %#x, i386 %#x", names[i],
				 values_64[i], values_32[i]);
		tap_result(values_64[i] == values_32[i], "%s same for i386",
			   names[i]);
	}
}

/*
 * The Intel names of the ABI stay as aliases of the vendor-neutral ones:
 * the same values, the same field, so that old callers keep working.
 */
static void test_aliases(void)
{
	struct lv_run run;

	tap_eq(LV_CAP_EPT, LV_CAP_TDP, "LV_CAP_EPT is LV_CAP_TDP (2)");
	tap_eq(LV_CAP_TDP, 2, "LV_CAP_TDP keeps the value 2");
	tap_eq(LV_CAP_VPID, LV_CAP_TAGGED_TLB, "LV_CAP_VPID is LV_CAP_TAGGED_TLB");
	tap_eq(LV_CAP_TAGGED_TLB, 4, "LV_CAP_TAGGED_TLB keeps the value 4");
	tap_eq(LV_CAP_PREEMPTION_TIMER, LV_CAP_HV_TIMER,
	       "LV_CAP_PREEMPTION_TIMER is LV_CAP_HV_TIMER");
	tap_eq(LV_CAP_HV_TIMER, 5, "LV_CAP_HV_TIMER keeps the value 5");
	tap_eq(offsetof(struct lv_run, exit_qualification),
	       offsetof(struct lv_run, hw_exit_reason),
	       "lv_run.exit_qualification is at hw_exit_reason's offset");
	tap_eq(sizeof(run.exit_qualification), sizeof(run.hw_exit_reason),
	       "lv_run.exit_qualification is as wide as hw_exit_reason");
	memset(&run, 0, sizeof(run));
	run.hw_exit_reason = 0x123456789abcdef0ULL;
	tap_result(run.exit_qualification == 0x123456789abcdef0ULL,
		   "a value written as hw_exit_reason reads as exit_qualification");
}

/* The numbers an i386 build passes, on a vCPU of this kernel. */
static void test_ioctls_32(int sys_fd)
{
	static struct lv_vcpu_state st;
	struct test_vcpu vcpu;
	struct lv_sregs sregs;
	struct test_vm vm;

	if (!check_cap(sys_fd, LV_CAP_RUN_GUESTS)) {
		tap_skip("LV_GET_SREGS as i386 numbers it", "no VMX");
		tap_skip("LV_SET_SREGS as i386 numbers it", "no VMX");
		tap_skip("LV_GET_VCPU_STATE as i386 numbers it", "no VMX");
		tap_skip("LV_SET_VCPU_STATE as i386 numbers it", "no VMX");
		return;
	}
	vm_create(sys_fd, &vm);
	vcpu_create(sys_fd, &vm, 0, &vcpu);
	tap_errno(ioctl(vcpu.fd, value_32("LV_GET_SREGS"), &sregs), errno, 0,
		  "LV_GET_SREGS as i386 numbers it");
	tap_errno(ioctl(vcpu.fd, value_32("LV_SET_SREGS"), &sregs), errno, 0,
		  "LV_SET_SREGS as i386 numbers it");
	tap_errno(ioctl(vcpu.fd, value_32("LV_GET_VCPU_STATE"), &st), errno, 0,
		  "LV_GET_VCPU_STATE as i386 numbers it");
	tap_errno(ioctl(vcpu.fd, value_32("LV_SET_VCPU_STATE"), &st), errno, 0,
		  "LV_SET_VCPU_STATE as i386 numbers it");
	close(vcpu.fd);
	close(vm.fd);
}

int main(void)
{
	int sys_fd = open_sys();

	test_values();
	test_aliases();
	test_ioctls_32(sys_fd);
	return tap_finish();
}
