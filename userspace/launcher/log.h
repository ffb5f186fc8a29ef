/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: messages and process exit. A leaf: it calls nothing else in
 * lvrun. Whoever must act when lvrun exits (statistics, the terminal)
 * registers a handler with lvrun_at_exit(); lvrun_exit() serialises the
 * exit so that those handlers run once, whichever thread ends the run.
 */
#ifndef LVRUN_LOG_H
#define LVRUN_LOG_H

#include <stdbool.h>

extern bool log_trace_on;

void lvrun_at_exit(void (*fn)(void));
/*
 * @fn is called last by lvrun_exit(), with the status, after the output
 * is flushed: a prepared lvrun sends it to its client (pool/serve.c).
 */
void lvrun_at_exit_status(void (*fn)(int status));
void lvrun_exit(int status) __attribute__((noreturn));
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void die_ioctl(const char *name) __attribute__((noreturn));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void trace_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Marks the end of a named step of lvrun's start; with --trace,
 * trace_phases_print() prints each step's TSC ticks (where the start's
 * time goes).
 */
void trace_phase(const char *name);
void trace_phases_print(void);
void trace_phases_reset(void);

/* One line per event on stderr with --trace; arguments unevaluated without. */
#define trace(...) do { if (log_trace_on) trace_msg(__VA_ARGS__); } while (0)



/* Exit statuses of lvrun (documented in --help); debug-exit gives (V << 1) | 1. */
#define LVRUN_EXIT_HALT		0	/* every running vCPU halted, IF=0 */
#define LVRUN_EXIT_ERROR	1
#define LVRUN_EXIT_SHUTDOWN	2	/* triple fault */
#define LVRUN_EXIT_FAIL_ENTRY	3
#define LVRUN_EXIT_INTERNAL	4
#define LVRUN_EXIT_POWEROFF	6	/* ACPI S5 */
#define LVRUN_EXIT_REBOOT	8	/* reset through 0x64, 0xcf9 or 0x92 */
#define LVRUN_EXIT_PANIC	10	/* the guest reported a panic (pvpanic) */
#define LVRUN_EXIT_MIGRATED	12	/* lvctl migrate: the target runs the guest */
/* lvctl migrate: the stream broke after GO; the target may run the guest */
#define LVRUN_EXIT_MIGRATE_UNKNOWN	14
#define LVRUN_EXIT_TIMEOUT	124
#endif /* LVRUN_LOG_H */
