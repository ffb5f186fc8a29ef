// SPDX-License-Identifier: GPL-2.0
/*
 * NMI blocking and the NMI window (lvrun --irqchip): the NMI handler
 * sends itself a second NMI through the local APIC's ICR. It must wait
 * for the handler's IRET (NMIs are blocked until then), and then come
 * at once: before the instruction after the first NMI's return.
 */
#include "lib/guest.h"

#define APIC		0xfee00000UL
#define APIC_ICR	0x300
#define APIC_ICR2	0x310
#define ICR_NMI		0x400		/* delivery mode NMI */
#define ICR_ASSERT	0x4000

static volatile int nmis, nested, in_handler, seen_before_return;
static volatile bool returned;

static void apic_write(unsigned int reg, uint32_t v)
{
	*(volatile uint32_t *)(APIC + reg) = v;
}

static void nmi_handler(struct irq_frame *f)
{
	(void)f;
	if (in_handler)
		nested++;
	in_handler = 1;
	if (++nmis == 1) {
		/* To APIC ID 0, this vCPU: blocked until our IRET. */
		apic_write(APIC_ICR2, 0);
		apic_write(APIC_ICR, ICR_NMI | ICR_ASSERT);
		/* A few exits while blocked. */
		for (int i = 0; i < 3; i++)
			outb(0x80, i);
		seen_before_return = nmis;
	}
	in_handler = 0;
}

int main(void)
{
	int after;

	idt_init();
	idt_set_handler(VEC_NMI, nmi_handler);
	tap_plan(4);
	apic_write(0xf0, 0x1ff);		/* SVR: APIC on */
	apic_write(APIC_ICR2, 0);
	apic_write(APIC_ICR, ICR_NMI | ICR_ASSERT);
	after = nmis;
	tap_eq(1, seen_before_return, "the second NMI waited while the first was handled");
	tap_eq(0, nested, "no NMI nested in the NMI handler");
	tap_eq(2, after, "the second NMI came right after the first handler's IRET");
	tap_eq(2, nmis, "exactly two NMIs");
	return tap_done();
}
