// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O: IN/OUT of each size against the UART scratch register (0x3ff),
 * string I/O (REP OUTSB/INSB), and ports nobody claims.
 */
#include "lib/guest.h"

#define UART_SCR	(UART_BASE + 7)
#define UART_LSR	(UART_BASE + 5)
#define UNCLAIMED_PORT	0x1e0

static char big[5000];

int main(void)
{
	static const char msg[] = "rep outsb to the UART works\n";
	uint8_t buf[16];
	unsigned int i;
	bool all;

	tap_plan(9);

	outb(UART_SCR, 0xa5);
	tap_eq(0xa5, inb(UART_SCR), "OUTB/INB scratch register");

	/* Only the low byte lands in the 8-bit register at 0x3ff. */
	outw(UART_SCR, 0x1234);
	tap_eq(0x34, inw(UART_SCR) & 0xff, "OUTW/INW scratch register low byte");
	outl(UART_SCR, 0xdeadbe5a);
	tap_eq(0x5a, inl(UART_SCR) & 0xff, "OUTL/INL scratch register low byte");

	outsb(UART_SCR, "wxyz", 4);
	tap_eq('z', inb(UART_SCR), "REP OUTSB of 4 bytes to the scratch register");

	/* More data than fits in one exit's share of the run page. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = i * 7;
	outsb(UART_SCR, big, sizeof(big));
	tap_eq((uint8_t)big[sizeof(big) - 1], inb(UART_SCR),
	       "REP OUTSB of 5000 bytes ends with the last byte");

	outsb(UART_BASE, msg, sizeof(msg) - 1);
	tap_ok(true, "REP OUTSB of a string to THR");

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = 0;
	insb(UART_LSR, buf, sizeof(buf));
	for (all = true, i = 0; i < sizeof(buf); i++)
		all &= (buf[i] & 0x60) == 0x60;
	tap_ok(all, "REP INSB of 16 bytes from LSR: all say transmitter empty");

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = 0;
	insb(UNCLAIMED_PORT, buf, sizeof(buf));
	for (all = true, i = 0; i < sizeof(buf); i++)
		all &= buf[i] == 0xff;
	tap_ok(all, "REP INSB from an unclaimed port reads all ones");

	tap_eq(0xffffffff, inl(UNCLAIMED_PORT), "INL from an unclaimed port reads all ones");
	return tap_done();
}
