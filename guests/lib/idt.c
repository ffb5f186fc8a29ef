// SPDX-License-Identifier: GPL-2.0
/*
 * A 256-entry IDT of interrupt gates; handlers are C functions. Faults
 * with no handler either resume at the armed fixup (see FAULT_ASM_BEGIN)
 * or end the guest with GUEST_EXIT_EXCEPTION.
 */
#include "guest.h"

struct idt_gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off1;
	uint32_t off2;
	uint32_t reserved;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char isr_stubs[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_t handlers[256];

volatile uint64_t fault_fixup;
volatile int fault_vector = -1;

void isr_dispatch(struct irq_frame *f);

void isr_dispatch(struct irq_frame *f)
{
	if (handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	if (f->vector < 32 && fault_fixup) {
		fault_vector = f->vector;
		f->rip = fault_fixup;
		fault_fixup = 0;
		return;
	}
	printf("not ok - unexpected exception %lu at rip 0x%lx error 0x%lx\n",
	       f->vector, f->rip, f->error);
	guest_exit(GUEST_EXIT_EXCEPTION);
}

void idt_set_handler(unsigned int vector, irq_handler_t fn)
{
	handlers[vector & 0xff] = fn;
}

void idt_init(void)
{
	struct idt_ptr p;
	uint16_t cs;
	int i;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	for (i = 0; i < 256; i++) {
		uint64_t a = (uint64_t)(isr_stubs + i * 16);

		idt[i] = (struct idt_gate){
			.off0 = a & 0xffff,
			.sel = cs,
			.ist = 0,
			.type = 0x8e,	/* present, DPL 0, 64-bit interrupt gate */
			.off1 = (a >> 16) & 0xffff,
			.off2 = a >> 32,
		};
	}
	p.limit = sizeof(idt) - 1;
	p.base = (uint64_t)idt;
	asm volatile("lidt %0" : : "m"(p) : "memory");
}
