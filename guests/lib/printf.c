// SPDX-License-Identifier: GPL-2.0
/*
 * printf-lite: %d %i %u %x %p %s %c %%, with l/ll length modifiers and an
 * optional zero-padded width (e.g. %016lx).
 */
#include "guest.h"

static int put_num(unsigned long long v, unsigned int base, bool neg, int width,
		   char pad)
{
	char buf[24];
	int n = 0, out = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	for (; width > n; width--, out++)
		serial_putc(pad);
	while (n)
		serial_putc(buf[--n]), out++;
	return out;
}

int vprintf(const char *fmt, va_list ap)
{
	int out = 0;

	for (; *fmt; fmt++) {
		int longs = 0, width = 0;
		char pad = ' ';
		unsigned long long u;
		long long s;
		const char *str;

		if (*fmt != '%') {
			serial_putc(*fmt);
			out++;
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;

		switch (*fmt) {
		case 'd':
		case 'i':
			s = longs ? va_arg(ap, long long) : va_arg(ap, int);
			u = s < 0 ? -(unsigned long long)s : (unsigned long long)s;
			out += put_num(u, 10, s < 0, width, pad);
			break;
		case 'u':
		case 'x':
			u = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
			out += put_num(u, *fmt == 'u' ? 10 : 16, false, width, pad);
			break;
		case 'p':
			serial_puts("0x");
			out += 2 + put_num((uintptr_t)va_arg(ap, void *), 16, false, width,
					   pad);
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			for (; *str; str++, out++)
				serial_putc(*str);
			break;
		case 'c':
			serial_putc((char)va_arg(ap, int));
			out++;
			break;
		case '%':
			serial_putc('%');
			out++;
			break;
		case '\0':
			return out;
		default:
			serial_putc('%');
			serial_putc(*fmt);
			out += 2;
		}
	}
	return out;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
