// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: messages and process exit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

bool log_trace_on;

static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Whichever thread first decides the run is over runs the atexit()
 * handlers and ends the process; the others block here until exit() kills
 * them.
 */
void lvrun_exit(int status)
{
	pthread_mutex_lock(&exit_lock);
	fflush(stdout);
	exit(status);
}

static void vmsg(const char *fmt, va_list ap)
{
	/* One locked stream per line keeps lines from different threads whole. */
	flockfile(stderr);
	fputs("lvrun: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	lvrun_exit(1);
}

void die_ioctl(const char *name)
{
	die("ioctl %s failed: %s", name, strerror(errno));
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void trace_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}
