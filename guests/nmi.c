// SPDX-License-Identifier: GPL-2.0
/* NMI injection: wait in STI;HLT for the NMI lvrun sends with --nmi-after-ms. */
#include "lib/guest.h"

static volatile int nmis;

static void nmi_handler(struct irq_frame *f)
{
	(void)f;
	nmis++;
}

int main(void)
{
	idt_init();
	idt_set_handler(VEC_NMI, nmi_handler);
	tap_plan(1);
	printf("# waiting for an NMI in sti;hlt\n");
	while (!nmis) {
		sti_hlt();
		cli();
	}
	tap_eq(1, nmis, "exactly one NMI delivered");
	return tap_done();
}
