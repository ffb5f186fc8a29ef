// SPDX-License-Identifier: GPL-2.0
/* An empty IDT and INT3: #GP, #DF, then a triple fault (LV_EXIT_SHUTDOWN). */
#include "lib/guest.h"

int main(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) null_idt = { 0, 0 };

	printf("about to triple fault\n");
	asm volatile("lidt %0; int3" : : "m"(null_idt) : "memory");
	printf("not ok - still running after the triple fault\n");
	return GUEST_EXIT_FAIL;
}
