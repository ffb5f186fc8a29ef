// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest (lvrun --irqchip): the APIC timer at its shortest
 * period, self-IPIs in a tight loop, and a vector whose handler never
 * EOIs. It runs until lvrun's --timeout; the host and other VMs must
 * keep going meanwhile (tests/guests/irq.sh).
 */
#include "lib/guest.h"

static volatile unsigned long ticks, stuck;

static void timer(struct irq_frame *f)
{
	(void)f;
	ticks++;
	wrmsr(0x80b, 0);
}

/* Never EOIs: class 5 and below stay blocked for good. */
static void no_eoi(struct irq_frame *f)
{
	(void)f;
	stuck++;
}

int main(void)
{
	idt_init();
	idt_set_handler(0x60, timer);
	idt_set_handler(0x51, no_eoi);
	idt_set_handler(0x52, no_eoi);
	wrmsr(0x1b, rdmsr(0x1b) | (1 << 10));	/* x2APIC */
	wrmsr(0x80f, 0x1ff);
	wrmsr(0x83e, 0xb);			/* divide by 1 */
	wrmsr(0x832, 0x20060);			/* periodic, vector 0x60 */
	wrmsr(0x838, 1);			/* one bus clock */
	asm volatile("sti");
	for (;;) {
		wrmsr(0x83f, 0x51);
		wrmsr(0x830, 0xc4000 | 0x52);	/* all including self */
	}
	return 0;
}
