// SPDX-License-Identifier: GPL-2.0
/* Ending a guest: debug-exit with a status, or halting for good. */
#include "guest.h"

void guest_exit(unsigned int code)
{
	outl(DEBUG_EXIT_PORT, code);
	/* Not reached under lvrun or QEMU with isa-debug-exit. */
	guest_halt();
}

void guest_halt(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

/* Secondary vCPUs park here unless the guest supplies its own. */
void __attribute__((weak)) ap_main(unsigned long index)
{
	(void)index;
	guest_halt();
}
