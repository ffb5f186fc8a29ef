// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun --fork-from FILE --count N: N children restored from one
 * snapshot. Each child is a whole lvrun (its VM, vCPUs, devices, console
 * and control socket); what they share is the file, which the page cache
 * holds once and every child maps copy-on-write (vm_restore()): a child
 * costs the pages its guest writes. The parent starts them and waits.
 */
#define _GNU_SOURCE	/* POSIX_SPAWN_SETSID, environ */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../log.h"
#include "../options.h"
#include "snapshot.h"

/* "@base.@k" into @buf, or die: the per-child socket and console names. */
static const char *child_name(char *buf, size_t size, const char *base, int k)
{
	if (snprintf(buf, size, "%s.%d", base, k) >= (int)size)
		die("%s: name too long", base);
	return buf;
}

/* In child @k: its own control socket, console and no terminal input. */
static void child_setup(int k, pid_t parent)
{
	static char control[4096];
	char out[4096];
	int fd;

	/* A child outlives no parent: killing lvrun ends the whole fork. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		exit(LVRUN_EXIT_ERROR);
	if (opts.control)
		opts.control = child_name(control, sizeof(control), opts.control, k);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		die("child %d: cannot detach stdin: %s", k, strerror(errno));
	close(fd);
	if (!opts.fork_out)
		return;
	child_name(out, sizeof(out), opts.fork_out, k);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("child %d: cannot create %s: %s", k, out, strerror(errno));
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		die("child %d: cannot write to %s: %s", k, out, strerror(errno));
	close(fd);
}

static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return LVRUN_EXIT_ERROR;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void fork_children(void)
{
	pid_t pids[LVRUN_MAX_FORKS], parent = getpid();
	int k, status, first = 0;
	bool agree = true;

	fflush(NULL);
	for (k = 0; k < opts.fork_count; k++) {
		pids[k] = fork();
		if (!pids[k]) {
			child_setup(k, parent);
			return;
		}
		if (pids[k] < 0) {
			warn("cannot fork child %d: %s", k, strerror(errno));
			while (k--)
				kill(pids[k], SIGTERM);
			exit(LVRUN_EXIT_ERROR);
		}
	}
	for (k = 0; k < opts.fork_count; k++) {
		status = wait_child(pids[k]);
		warn("child %d (pid %d) exited with status %d", k, pids[k], status);
		if (!k)
			first = status;
		agree &= status == first;
	}
	exit(agree ? first : LVRUN_EXIT_ERROR);
}

/*
 * This lvrun never waits for the forks it starts: they are VMs of their
 * own and may outlive it. The kernel reaps them (SA_NOCLDWAIT); the flag
 * does not pass through execve, so the forking lvrun still waits for its
 * children.
 */
static void reap_forks_automatically(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
}

int fork_spawn(const char *file, int count, pid_t *pid, char *err,
	       size_t errlen)
{
	char n[16], secs[16], out[PATH_MAX], control[PATH_MAX], log[PATH_MAX];
	char *argv[] = { "lvrun", "--fork-from", (char *)file, "--count", n,
			 "--fork-out", out, "--control", control,
			 "--timeout", secs, NULL };
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	int ret;

	if (snprintf(out, sizeof(out), "%s.console", file) >= (int)sizeof(out) ||
	    snprintf(control, sizeof(control), "%s.control", file) >=
	    (int)sizeof(control) ||
	    snprintf(log, sizeof(log), "%s.log", file) >= (int)sizeof(log)) {
		snprintf(err, errlen, "%s: name too long", file);
		return -EINVAL;
	}
	snprintf(n, sizeof(n), "%d", count);
	snprintf(secs, sizeof(secs), "%u", opts.timeout_sec);
	if (!opts.timeout_sec)
		argv[9] = NULL;	/* no --timeout: none for the forks either */

	reap_forks_automatically();
	posix_spawnattr_init(&attr);
	/* Its own session: a signal to this lvrun's group is not for it. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log,
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
	/*
	 * posix_spawn() shares this address space until the exec instead of
	 * copying it as fork() would: the running guest's memory is not
	 * write-protected for a copy nobody uses.
	 */
	ret = posix_spawn(pid, "/proc/self/exe", &actions, &attr, argv,
			  environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	if (ret) {
		snprintf(err, errlen, "cannot start lvrun --fork-from: %s",
			 strerror(ret));
		return -ret;
	}
	return 0;
}
