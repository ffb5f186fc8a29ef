// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the terminal. When stdin is a tty it goes into raw mode, so that
 * every key reaches the guest's serial port as typed, and it is restored
 * on every way out: lvrun_exit(), and the signals that end lvrun. Ctrl-C
 * still ends lvrun (ISIG stays on).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "lvrun.h"

static struct termios saved;
static volatile sig_atomic_t raw_active;

static void console_restore(void)
{
	if (raw_active) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		raw_active = 0;
	}
}

/* Restore, then die of the same signal (tcsetattr is async-signal-safe). */
static void console_signal(int sig)
{
	console_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

void console_setup(void)
{
	static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV,
				     SIGBUS, SIGABRT, SIGFPE, SIGILL };
	struct termios raw;
	unsigned int i;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved))
		return;
	lvrun_at_exit(console_restore);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], console_signal);
	raw = saved;
	cfmakeraw(&raw);
	raw.c_lflag |= ISIG;
	raw.c_oflag |= OPOST | ONLCR;	/* lvrun's own messages stay readable */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		warn("cannot put the terminal in raw mode");
	else
		raw_active = 1;
}
