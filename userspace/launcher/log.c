// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: messages and process exit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#include "log.h"

bool log_trace_on;

static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_EXIT_HANDLERS 8
static void (*exit_handlers[MAX_EXIT_HANDLERS])(void);
static unsigned int nr_exit_handlers;
static void (*exit_status_handler)(int status);

/* Called from the main thread during setup, before any vCPU runs. */
void lvrun_at_exit(void (*fn)(void))
{
	if (nr_exit_handlers == MAX_EXIT_HANDLERS)
		die("too many exit handlers");
	exit_handlers[nr_exit_handlers++] = fn;
}

void lvrun_at_exit_status(void (*fn)(int status))
{
	exit_status_handler = fn;
}

/*
 * Whichever thread first decides the run is over runs the exit handlers
 * (last registered first) and ends the process; the others block here
 * until the process is gone.
 *
 * _exit(), not exit(): exit() runs the program's destructors while the
 * other vCPU threads still run. In a static binary one of those removes
 * the unwind tables, and a thread unwinding at that moment (or one still
 * using stdio while it is torn down) aborts the process with SIGABRT.
 * Everything lvrun must leave behind is its output and the terminal:
 * both are dealt with here first.
 */
void lvrun_exit(int status)
{
	pthread_mutex_lock(&exit_lock);
	while (nr_exit_handlers)
		exit_handlers[--nr_exit_handlers]();
	fflush(stdout);
	fflush(stderr);
	if (exit_status_handler)
		exit_status_handler(status);
	_exit(status);
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

#define MAX_PHASES 24
static struct { const char *name; uint64_t tsc; } phases[MAX_PHASES];
static unsigned int nr_phases;

void trace_phase(const char *name)
{
	if (nr_phases < MAX_PHASES)
		phases[nr_phases++] = (typeof(phases[0])){ name, __rdtsc() };
}

void trace_phases_reset(void)
{
	nr_phases = 0;
}

void trace_phases_print(void)
{
	unsigned int i;

	if (!log_trace_on)
		return;
	for (i = 1; i < nr_phases; i++)
		trace_msg("phase %s: %llu TSC ticks", phases[i].name,
			  (unsigned long long)(phases[i].tsc - phases[i - 1].tsc));
	nr_phases = 0;
}

void trace_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}
