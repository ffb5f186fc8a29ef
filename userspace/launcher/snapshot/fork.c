// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun --fork-from FILE --count N: N children restored from one
 * snapshot. Each child is a whole lvrun (its VM, vCPUs, devices, console
 * and control socket); what they share is the file, which the page cache
 * holds once and every child maps copy-on-write (vm_restore()): a child
 * costs the pages its guest writes. The parent starts them and waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
