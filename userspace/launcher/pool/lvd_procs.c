// SPDX-License-Identifier: GPL-2.0
/*
 * lvd's pool of prepared lvrun processes. Each is started as
 *
 *	lvrun --pool-prepared 3,4 --vcpus N [--irqchip] --mem SIZE
 *
 * with the listening socket as fd 3 and a pipe to lvd as fd 4. It
 * prepares its VM, writes 'r' (ready) and accepts one client itself:
 * the kernel gives each connection to exactly one of the waiting
 * processes, so no request passes through lvd. It then writes 't'
 * (taken), closes its copy of the socket and serves that client alone
 * (pool/serve.c); it writes 's' when the guest's vCPUs start, and closes
 * the pipe. lvd starts another for each one taken, once that one has
 * started its guest (or ended): preparing the next must not compete for
 * the CPU with starting this guest.
 *
 * A prepared lvrun that serves nobody yet dies with lvd (parent-death
 * signal): with lvd gone, nobody accepts on the socket any more and a
 * client gets "nobody listens there". One that serves a client is the
 * client's: it runs on without lvd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lvd.h"

/* The fds a prepared lvrun finds its socket and its pipe to lvd on. */
#define PREPARED_LISTEN_FD	3
#define PREPARED_NOTIFY_FD	4
/* A prepared lvrun that died before serving is replaced after this. */
#define RESPAWN_DELAY_MS	1000

struct prepared {
	pid_t pid;		/* 0: none in this slot */
	int notify_fd;		/* lvd's end of its pipe */
	bool ready;
	bool taken;		/* has its client; replaced once it started */
	long respawn_at_ms;	/* when to start one in an empty slot */
};

static struct {
	char lvrun[PATH_MAX + 8];	/* room for "/lvrun" after a PATH_MAX dir */
	char *argv[16];
	char args[4][32];
	struct prepared *slot;	/* [lvd_opts.size] */
	unsigned int nr_ready;
	unsigned long started, served;
	bool announced_full;
	pid_t lvd_pid;
} procs;

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

static bool executable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* --lvrun, else the lvrun beside lvd, else the first in PATH. */
static void find_lvrun(void)
{
	char self[PATH_MAX], *slash, *path, *dir, *save = NULL;
	ssize_t n;

	if (lvd_opts.lvrun) {
		if (!executable(lvd_opts.lvrun))
			lvd_die("--lvrun %s: not an executable file", lvd_opts.lvrun);
		snprintf(procs.lvrun, sizeof(procs.lvrun), "%s", lvd_opts.lvrun);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(procs.lvrun, sizeof(procs.lvrun), "%s/lvrun", self);
			if (executable(procs.lvrun))
				return;
		}
	}
	path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	for (dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(procs.lvrun, sizeof(procs.lvrun), "%s/lvrun", dir);
		if (executable(procs.lvrun)) {
			free(path);
			return;
		}
	}
	lvd_die("cannot find lvrun beside lvd or in PATH (give --lvrun PATH)");
}

/* The command line of every prepared lvrun, made once. */
static void build_argv(void)
{
	int n = 0;

	snprintf(procs.args[0], sizeof(procs.args[0]), "%d,%d",
		 PREPARED_LISTEN_FD, PREPARED_NOTIFY_FD);
	snprintf(procs.args[1], sizeof(procs.args[1]), "%u", lvd_opts.nr_vcpus);
	snprintf(procs.args[2], sizeof(procs.args[2]), "%llu",
		 (unsigned long long)lvd_opts.mem_size);
	procs.argv[n++] = "lvrun";
	procs.argv[n++] = "--pool-prepared";
	procs.argv[n++] = procs.args[0];
	procs.argv[n++] = "--vcpus";
	procs.argv[n++] = procs.args[1];
	procs.argv[n++] = "--mem";
	procs.argv[n++] = procs.args[2];
	if (lvd_opts.irqchip)
		procs.argv[n++] = "--irqchip";
	procs.argv[n] = NULL;
}

/*
 * In the child, between fork and exec: async-signal-safe calls only.
 * The signals lvd changed, or inherited ignored (a background job
 * ignores SIGINT and SIGQUIT), go back to their defaults: a prepared
 * lvrun must behave as one started from a shell.
 */
static void exec_prepared(int listen_fd, int notify_fd)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
				    SIGCHLD };
	static const char msg[] = "lvd: cannot start lvrun\n";
	unsigned int i;
	int l, n, null;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != procs.lvd_pid)
		_exit(1);	/* lvd is gone already */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	/* Out of the way of 3 and 4 first: either may be one of them. */
	l = fcntl(listen_fd, F_DUPFD, 10);
	n = fcntl(notify_fd, F_DUPFD, 10);
	if (l < 0 || n < 0 || dup2(l, PREPARED_LISTEN_FD) < 0 ||
	    dup2(n, PREPARED_NOTIFY_FD) < 0)
		_exit(1);
	close(l);
	close(n);
	null = open("/dev/null", O_RDONLY);
	if (null >= 0 && null != STDIN_FILENO) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	execv(procs.lvrun, procs.argv);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

static void start_prepared(struct prepared *p, int listen_fd)
{
	int pipefd[2];
	pid_t pid;

	p->pid = 0;
	p->ready = false;
	p->taken = false;
	if (pipe2(pipefd, O_CLOEXEC)) {
		lvd_log("cannot make a pipe: %s; retrying", strerror(errno));
		p->respawn_at_ms = now_ms() + RESPAWN_DELAY_MS;
		return;
	}
	pid = fork();
	if (pid == 0)
		exec_prepared(listen_fd, pipefd[1]);
	close(pipefd[1]);
	if (pid < 0) {
		lvd_log("cannot fork: %s; retrying", strerror(errno));
		close(pipefd[0]);
		p->respawn_at_ms = now_ms() + RESPAWN_DELAY_MS;
		return;
	}
	p->pid = pid;
	p->notify_fd = pipefd[0];
	procs.started++;
}

/*
 * 'r', 't', 's', or the end of the pipe: what the prepared lvrun in @p
 * did. A slot is free again when its lvrun started its client's guest,
 * or ended after taking it (a refused client): a new one at once. One
 * that ended before it took a client failed to prepare: another after
 * a pause, so that a lasting failure does not spin.
 */
static void handle_notice(struct prepared *p, int listen_fd)
{
	char c;
	ssize_t n;

	n = read(p->notify_fd, &c, 1);
	if (n < 0 && errno == EINTR)
		return;
	if (n == 1 && c == 'r' && !p->ready && !p->taken) {
		p->ready = true;
		procs.nr_ready++;
		if (procs.nr_ready == lvd_opts.size && !procs.announced_full) {
			procs.announced_full = true;
			lvd_log("pool full: %u prepared lvrun processes ready",
				lvd_opts.size);
		}
		return;
	}
	if (n == 1 && c == 't' && p->ready) {
		p->ready = false;
		p->taken = true;
		procs.nr_ready--;
		procs.served++;
		return;
	}
	if (p->ready)
		procs.nr_ready--;
	close(p->notify_fd);
	if (p->taken) {
		/* Its client's now: a new one takes its place at once. */
		start_prepared(p, listen_fd);
		return;
	}
	lvd_log("prepared lvrun %d ended before serving (see its message above); another in %d ms",
		(int)p->pid, RESPAWN_DELAY_MS);
	p->pid = 0;
	p->respawn_at_ms = now_ms() + RESPAWN_DELAY_MS;
}

/* Children that served their client, or failed, are gone: reap them. */
static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Empty slots whose delay is over get a new prepared lvrun. */
static int restart_due(int listen_fd)
{
	long now = now_ms(), wait = -1, left;
	unsigned int i;

	for (i = 0; i < lvd_opts.size; i++) {
		struct prepared *p = &procs.slot[i];

		if (p->pid)
			continue;
		left = p->respawn_at_ms - now;
		if (left <= 0) {
			start_prepared(p, listen_fd);
			if (p->pid)
				continue;
			left = RESPAWN_DELAY_MS;
		}
		if (wait < 0 || left < wait)
			wait = left;
	}
	return wait;
}

void lvd_run_processes(int listen_fd)
{
	struct pollfd *pfd;
	unsigned int i, n, *which;
	int timeout;

	procs.lvd_pid = getpid();
	find_lvrun();
	build_argv();
	procs.slot = calloc(lvd_opts.size, sizeof(*procs.slot));
	pfd = calloc(lvd_opts.size, sizeof(*pfd));
	which = calloc(lvd_opts.size, sizeof(*which));
	if (!procs.slot || !pfd || !which)
		lvd_die("out of memory");
	lvd_log("pool of %u prepared lvrun processes (%s; %u vCPU(s), %s irqchip, %lluK of memory) on %s",
		lvd_opts.size, procs.lvrun, lvd_opts.nr_vcpus,
		lvd_opts.irqchip ? "with" : "no",
		(unsigned long long)(lvd_opts.mem_size >> 10), lvd_opts.socket_path);
	for (i = 0; i < lvd_opts.size; i++)
		start_prepared(&procs.slot[i], listen_fd);

	for (;;) {
		timeout = restart_due(listen_fd);
		/* Reaping needs no signal handler: a bound on how late it is. */
		if (timeout < 0 || timeout > RESPAWN_DELAY_MS)
			timeout = RESPAWN_DELAY_MS;
		for (i = n = 0; i < lvd_opts.size; i++) {
			if (!procs.slot[i].pid)
				continue;
			pfd[n] = (struct pollfd){ .fd = procs.slot[i].notify_fd,
						  .events = POLLIN };
			which[n++] = i;
		}
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			lvd_die("poll: %s", strerror(errno));
		/* By slot, not by fd: a replacement may reuse a closed fd's number. */
		for (i = 0; i < n; i++)
			if (pfd[i].revents)
				handle_notice(&procs.slot[which[i]], listen_fd);
		reap();
	}
}
