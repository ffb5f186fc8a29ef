// SPDX-License-Identifier: GPL-2.0
/*
 * String I/O corner cases: 32-bit address size in 64-bit mode (the upper
 * halves of RSI/RDI/RCX become 0), items in MMIO (lvrun's test device at
 * 0xfe000000), a linear address with no mapping (#PF), and a huge REP
 * count that runs into one.
 */
#include "lib/guest.h"

#define UART_SCR	(UART_BASE + 7)
#define UART_LSR	(UART_BASE + 5)
#define DEV		MMIO_TESTDEV
#define UNMAPPED	0x100000000UL	/* lvrun maps the low 4 GiB only */

static volatile uint64_t pf_cr2;

static void test_addr32(void)
{
	static char buf[4] = "abcd";
	uint64_t si = (1UL << 32) | (uint64_t)buf, cx = (1UL << 32) | 4;

	asm volatile("cld; addr32 rep outsb"
		     : "+S"(si), "+c"(cx) : "d"(UART_SCR) : "memory");
	tap_eq((uint64_t)buf + 4, si, "addr32 rep outsb: RSI upper half zeroed");
	tap_eq(0, cx, "addr32 rep outsb: RCX upper half zeroed");
	tap_eq('d', inb(UART_SCR), "addr32 rep outsb: data from ESI");
}

static void test_mmio_items(void)
{
	volatile uint8_t *dev = (volatile uint8_t *)DEV;
	unsigned int i;
	uint64_t p, cx;
	bool ok;

	for (i = 0; i < 8; i++)
		dev[0x300 + i] = 0;
	p = DEV + 0x300;
	cx = 8;
	asm volatile("cld; rep insb" : "+D"(p), "+c"(cx) : "d"(UART_LSR) : "memory");
	for (ok = true, i = 0; i < 8; i++)
		ok &= (dev[0x300 + i] & 0x60) == 0x60;
	tap_ok(ok, "rep insb into MMIO: every item reaches the device");

	for (i = 0; i < 4; i++)
		dev[0x400 + i] = 0x30 + i;
	p = DEV + 0x400;
	cx = 4;
	asm volatile("cld; rep outsb" : "+S"(p), "+c"(cx) : "d"(UART_SCR) : "memory");
	tap_eq(0x33, inb(UART_SCR), "rep outsb from MMIO: last item sent");
}

static void pf_handler(struct irq_frame *f)
{
	pf_cr2 = read_cr2();
	f->rip = fault_fixup;
	fault_fixup = 0;
	fault_vector = 14;
}

static void test_unmapped(void)
{
	uint64_t di = UNMAPPED, cx = 4;

	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "cld; rep insb" FAULT_ASM_END
		     : "+D"(di), "+c"(cx) : "d"(UART_LSR) : "r11", "memory");
	tap_eq(14, (uint64_t)fault_vector, "rep insb to an unmapped address: #PF");
	tap_eq(UNMAPPED, pf_cr2, "... with CR2 = the address");
	tap_eq(4, cx, "... and RCX unchanged");

	/* A huge count: 16 items of MMIO, then the unmapped page. */
	di = UNMAPPED - 16;
	cx = 0x10000000;
	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "cld; rep insb" FAULT_ASM_END
		     : "+D"(di), "+c"(cx) : "d"(UART_LSR) : "r11", "memory");
	tap_eq(14, (uint64_t)fault_vector, "huge rep insb count: #PF where the mapping ends");
	tap_eq(0x10000000 - 16, cx, "... after 16 items");

	di = UNMAPPED;
	cx = 2;
	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "cld; rep outsb" FAULT_ASM_END
		     : "+S"(di), "+c"(cx) : "d"(UART_SCR) : "r11", "memory");
	tap_eq(14, (uint64_t)fault_vector, "rep outsb from an unmapped address: #PF");
}

int main(void)
{
	idt_init();
	idt_set_handler(14, pf_handler);
	tap_plan(11);
	test_addr32();
	test_mmio_items();
	test_unmapped();
	return tap_done();
}
