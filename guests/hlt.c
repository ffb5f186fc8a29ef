// SPDX-License-Identifier: GPL-2.0
/*
 * HLT with interrupts disabled ends the guest: lvrun exits 0. Also checks
 * that HLT with interrupts enabled and nothing pending does not end it
 * early: there is no source of interrupts, so it is not tested here (see
 * the interrupt guest).
 */
#include "lib/guest.h"

int main(void)
{
	tap_plan(1);
	tap_ok(!(read_rflags() & X86_RFLAGS_IF), "interrupts are off at entry");
	printf("# halting with interrupts off; lvrun should exit 0\n");
	guest_halt();
}
