// SPDX-License-Identifier: GPL-2.0
/* Polled output on the COM1 16550. */
#include "guest.h"

#define UART_THR	0
#define UART_LSR	5
#define LSR_THRE	0x20

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	while (!(inb(UART_BASE + UART_LSR) & LSR_THRE))
		cpu_relax();
	outb(UART_BASE + UART_THR, c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}
