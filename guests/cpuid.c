// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID as the guest sees it: a vendor string, VMX hidden (no nested
 * virtualisation), the hypervisor-present bit set.
 */
#include "lib/guest.h"

int main(void)
{
	uint32_t a, b, c, d, max;
	char vendor[13];
	int i;

	tap_plan(5);
	cpuid(0, 0, &max, &b, &c, &d);
	for (i = 0; i < 4; i++) {
		vendor[i] = b >> (8 * i);
		vendor[4 + i] = d >> (8 * i);
		vendor[8 + i] = c >> (8 * i);
	}
	vendor[12] = '\0';
	printf("# vendor '%s', max basic leaf 0x%x\n", vendor, max);
	tap_ok(b && c && d, "leaf 0 vendor string is non-empty");
	tap_ok(max >= 1, "leaf 0 max basic leaf >= 1");

	cpuid(1, 0, &a, &b, &c, &d);
	printf("# leaf 1: eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x\n", a, b, c, d);
	tap_ok(!(c & (1u << 5)), "leaf 1 ECX.VMX[5] is clear (VMX hidden)");
	tap_ok(c & (1u << 31), "leaf 1 ECX.hypervisor[31] is set");
	tap_ok(d & (1u << 0) && d & (1u << 4), "leaf 1 EDX reports FPU and TSC");

	cpuid(0x40000000, 0, &a, &b, &c, &d);
	printf("# leaf 0x40000000: max 0x%x signature %08x %08x %08x\n", a, b, c, d);
	return tap_done();
}
