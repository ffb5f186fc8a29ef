// SPDX-License-Identifier: GPL-2.0
/*
 * External interrupt injection: wait in STI;HLT for vector 0x40, which
 * lvrun injects with --irq-after-ms 100:0x40.
 */
#include "lib/guest.h"

#define TEST_VECTOR	0x40

static volatile int got_vector = -1;
static volatile uint64_t got_rflags;

static void handler(struct irq_frame *f)
{
	got_vector = f->vector;
	got_rflags = f->rflags;
}

int main(void)
{
	unsigned long wakeups = 0;

	idt_init();
	idt_set_handler(TEST_VECTOR, handler);
	tap_plan(3);
	printf("# waiting for vector 0x%x in sti;hlt\n", TEST_VECTOR);
	while (got_vector < 0) {
		sti_hlt();
		cli();
		wakeups++;
	}
	printf("# woke up %lu time(s)\n", wakeups);
	tap_eq(TEST_VECTOR, got_vector, "interrupt delivered with the queued vector");
	tap_ok(got_rflags & X86_RFLAGS_IF, "interrupted context had IF set");
	tap_ok(!(read_rflags() & X86_RFLAGS_IF), "IF is clear again after CLI");
	return tap_done();
}
