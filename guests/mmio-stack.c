// SPDX-License-Identifier: GPL-2.0
/*
 * An exception whose frame is pushed onto a stack in MMIO: the access
 * belongs to the event delivery, not to the instruction at RIP, and
 * lightvisor must say so (an internal error "event delivery failure", as
 * KVM reports it) instead of emulating the instruction's own access.
 * lvrun ends with status 4 and names the suberror.
 */
#include "lib/guest.h"

int main(void)
{
	idt_init();
	printf("# ud2 with RSP in MMIO\n");
	asm volatile("mov %0, %%rsp; ud2" : : "r"(MMIO_TESTDEV + 0x800) : "memory");
	printf("not ok - the exception was delivered onto an MMIO stack\n");
	return 1;
}
