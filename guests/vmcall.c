// SPDX-License-Identifier: GPL-2.0
/* The VMCALL hypercall ABI of uapi/linux/lightvisor.h. */
#include "lib/guest.h"

int main(void)
{
	tap_plan(5);
	tap_eq(1, vmcall(LV_HC_VERSION, 0, 0, 0, 0), "LV_HC_VERSION returns 1");
	tap_eq(0, vmcall(LV_HC_NOP, 0, 0, 0, 0), "LV_HC_NOP returns 0");
	tap_eq((uint64_t)-LV_HC_ENOSYS, vmcall(0x1234, 1, 2, 3, 4),
	       "unknown hypercall 0x1234 returns -38");
	/* lvrun prints these on stderr and answers -ENOSYS. */
	tap_eq((uint64_t)-LV_HC_ENOSYS, vmcall(LV_HC_USER_BASE, 5, 6, 7, 8),
	       "userspace hypercall 0x10000 returns -38 from lvrun");

	uint64_t t0 = rdtsc();
	for (int i = 0; i < 1000; i++)
		vmcall(LV_HC_NOP, 0, 0, 0, 0);
	printf("# 1000 LV_HC_NOP took %lu TSC cycles\n", rdtsc() - t0);
	tap_ok(true, "1000 LV_HC_NOP hypercalls");
	return tap_done();
}
