// SPDX-License-Identifier: GPL-2.0
/*
 * A prepared lvrun serving its one client (lvrun --pool): the hand-over
 * of the command line and the terminal, the exit status back, and the
 * client's end ending the guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../log.h"
#include "proto.h"
#include "serve.h"
#include "../threads.h"

/* A client gets this long to send its request once connected. */
#define POOL_REQUEST_TIMEOUT_S	5

static int client_sock = -1;
static int lvd_fd = -1;

/* lvrun_exit()'s last step: the client exits with the same status. */
static void send_exit_status(int status)
{
	struct pool_exit e = { .magic = POOL_MAGIC, .status = status };

	send(client_sock, &e, sizeof(e), MSG_NOSIGNAL);
}

/* The signals a client forwards: those that end a cold lvrun. */
static bool forwardable(uint32_t signo)
{
	return signo == SIGINT || signo == SIGTERM || signo == SIGHUP ||
	       signo == SIGQUIT;
}

/*
 * The client got a signal: this lvrun takes it as a cold lvrun would
 * (the console restores the terminal and dies of it). The client gone
 * without a word (killed): the guest has nobody to serve, it ends.
 */
static void *watch_client(void *arg)
{
	struct pool_signal s;
	ssize_t n;

	(void)arg;
	for (;;) {
		n = recv(client_sock, &s, sizeof(s), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == sizeof(s) && s.magic == POOL_MAGIC && forwardable(s.signo)) {
			trace("pool: the client got signal %u: ending the guest with it",
			      s.signo);
			kill(getpid(), s.signo);
			continue;
		}
		if (n > 0)
			continue;	/* nothing else is asked of us */
		warn("pool: the client lvrun --pool is gone: ending the guest");
		lvrun_exit(LVRUN_EXIT_ERROR);
	}
	return NULL;
}

static void notify_lvd(int fd, char what)
{
	while (write(fd, &what, 1) < 0 && errno == EINTR)
		;
}

/* No guest for this client: it prints @why, we go (lvd starts another). */
static void refuse(int sock, const char *why)
{
	struct pool_reply r = { .magic = POOL_MAGIC, .version = POOL_VERSION,
				.error = EINVAL };

	snprintf(r.msg, sizeof(r.msg), "%s", why);
	pool_send(sock, &r, sizeof(r), NULL, 0);
	die("pool: refused a client: %s", why);
}

static int accept_one(int listen_fd)
{
	int sock;

	do
		sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	while (sock < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (sock < 0)
		die("pool: accept: %s", strerror(errno));
	return sock;
}

/* The client's terminal and directory become ours. */
static const char *take_client_fds(const int *fds, int nr_fds)
{
	int i;

	if (nr_fds != POOL_NR_CLIENT_FDS)
		return "the request must carry stdin, stdout, stderr and the working directory";
	if (fchdir(fds[POOL_FD_CWD]))
		return "cannot enter the client's working directory";
	if (dup2(fds[POOL_FD_STDIN], STDIN_FILENO) < 0 ||
	    dup2(fds[POOL_FD_STDOUT], STDOUT_FILENO) < 0 ||
	    dup2(fds[POOL_FD_STDERR], STDERR_FILENO) < 0)
		return "cannot take the client's stdin, stdout and stderr";
	for (i = 0; i < nr_fds; i++)
		if (fds[i] > STDERR_FILENO)
			close(fds[i]);
	return NULL;
}

void pool_serve_one(int listen_fd, int notify_fd, int nr_vcpus,
		    struct pool_client *c)
{
	static char buf[sizeof(struct pool_request) + POOL_MAX_ARGS_LEN];
	static char *argv[1 + POOL_MAX_ARGS + 1];
	static char why[sizeof(((struct pool_reply *)0)->msg)];
	struct pool_request *req = (struct pool_request *)buf;
	struct pool_reply r = { .magic = POOL_MAGIC, .version = POOL_VERSION };
	struct timeval tv = { .tv_sec = POOL_REQUEST_TIMEOUT_S };
	int fds[POOL_NR_CLIENT_FDS], nr_fds, sock;
	const char *err;
	pthread_t watcher;
	size_t len;

	notify_lvd(notify_fd, 'r');
	sock = accept_one(listen_fd);
	/* One client, ever: nothing of this VM can reach a second one. */
	close(listen_fd);
	notify_lvd(notify_fd, 't');
	lvd_fd = notify_fd;
	/* The guest is the client's now: it outlives lvd. */
	prctl(PR_SET_PDEATHSIG, 0);

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (pool_recv_upto(sock, buf, sizeof(buf), &len, fds, POOL_NR_CLIENT_FDS,
			   &nr_fds))
		die("pool: a client sent no request: %s", strerror(errno));
	c->request_tsc = __rdtsc();
	trace_phases_reset();
	trace_phase("request");
	err = pool_check_request(req, len, POOL_KIND_PROCESS);
	if (!err && pool_unpack_args(buf + sizeof(*req), req->args_len, req->argc,
				     argv + 1))
		err = "malformed arguments";
	if (!err && req->nr_vcpus != (uint32_t)nr_vcpus) {
		snprintf(why, sizeof(why), "this pool's lvrun processes have %d vCPU(s), not %u (lvd --vcpus)",
			 nr_vcpus, req->nr_vcpus);
		err = why;
	}
	if (!err)
		err = take_client_fds(fds, nr_fds);
	if (err)
		refuse(sock, err);
	trace_phase("checks, fds");

	r.nr_vcpus = nr_vcpus;
	r.pid = getpid();
	if (pool_send(sock, &r, sizeof(r), NULL, 0))
		die("pool: the client went away: %s", strerror(errno));
	trace_phase("reply");
	client_sock = sock;
	lvrun_at_exit_status(send_exit_status);
	tv.tv_sec = 0;
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (lvrun_thread_create(&watcher, watch_client, NULL))
		die("pool: cannot start the thread watching the client");
	pthread_detach(watcher);
	trace_phase("watcher");

	argv[0] = "lvrun";
	c->argc = 1 + req->argc;
	c->argv = argv;
	c->start_tsc = req->start_tsc;
}

void pool_serve_started(void)
{
	if (lvd_fd < 0)
		return;
	notify_lvd(lvd_fd, 's');
	close(lvd_fd);
	lvd_fd = -1;
}
