/* SPDX-License-Identifier: GPL-2.0 */
/* A TAP helper for lvrun's host-side tests. */
#ifndef LVRUN_TAP_H
#define LVRUN_TAP_H

#include <stdarg.h>
#include <stdio.h>

extern int tap_nr, tap_failed;

static inline void __attribute__((format(printf, 2, 3)))
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	tap_failed += !cond;
}

#endif /* LVRUN_TAP_H */
