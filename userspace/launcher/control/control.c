// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the control socket's server. One thread polls the listening
 * socket and every client, so a client that connects and says nothing,
 * or sends half a line, holds up nobody; vCPU threads never touch it.
 * Answers go out without blocking: a client that does not read them
 * loses its connection, not lvrun its thread.
 */
#define _GNU_SOURCE	/* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <x86intrin.h>
#include <unistd.h>

#include "../log.h"
#include "../lvrun.h"
#include "../options.h"
#include "../snapshot/snapshot.h"
#include "control.h"
#include "../threads.h"

_Static_assert(CONTROL_MAX_FORKS == LVRUN_MAX_FORKS,
	       "lvctl fork N and lvrun --count N have one limit");

/* More clients at once than any script needs; the rest are turned away. */
#define MAX_CLIENTS	8

struct client {
	int fd;			/* -1: free */
	size_t len;		/* bytes of an unfinished line in buf */
	char buf[CONTROL_LINE_MAX];
};

static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct client clients[MAX_CLIENTS];

static void control_unlink(void)
{
	unlink(sock_path);
}

/* Signals that end lvrun, and what they did before control_start(). */
static const int ending_signals[] = { SIGTERM, SIGINT, SIGHUP };
#define NR_ENDING	(sizeof(ending_signals) / sizeof(ending_signals[0]))
static struct sigaction old_actions[NR_ENDING];

/* The socket goes with lvrun, then the signal does what it did before. */
static void control_signal(int sig)
{
	unsigned int i;

	unlink(sock_path);	/* async-signal-safe */
	for (i = 0; i < NR_ENDING; i++) {
		if (ending_signals[i] != sig)
			continue;
		if (old_actions[i].sa_handler != SIG_DFL &&
		    old_actions[i].sa_handler != SIG_IGN) {
			old_actions[i].sa_handler(sig);
			return;
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void control_catch_signals(void)
{
	struct sigaction sa;
	unsigned int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = control_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NR_ENDING; i++)
		sigaction(ending_signals[i], &sa, &old_actions[i]);
}

/* True if something accepts connections on @addr (a live lvrun). */
static bool socket_in_use(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		die("socket: %s", strerror(errno));
	used = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ||
	       errno != ECONNREFUSED;
	close(fd);
	return used;
}

/* A socket file left by an lvrun that was killed may go; nothing else. */
static void remove_stale(const char *path, const struct sockaddr_un *addr)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			die("--control %s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISSOCK(st.st_mode))
		die("--control %s: exists and is not a socket", path);
	if (socket_in_use(addr))
		die("--control %s: another process listens there", path);
	if (unlink(path) < 0)
		die("--control %s: cannot remove the stale socket: %s", path,
		    strerror(errno));
}

void control_open(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strlen(path);

	if (len >= sizeof(addr.sun_path))
		die("--control %s: path longer than %zu bytes", path,
		    sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, len + 1);
	remove_stale(path, &addr);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0)
		die("socket: %s", strerror(errno));
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("--control %s: %s", path, strerror(errno));
	memcpy(sock_path, path, len + 1);
	lvrun_at_exit(control_unlink);
	if (listen(listen_fd, MAX_CLIENTS) < 0)
		die("--control %s: listen: %s", path, strerror(errno));
}

static void client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Returns false if the client could not take the answer. */
static bool client_send(struct client *c, const char *answer)
{
	char line[CONTROL_ANSWER_MAX + 1];
	size_t n = strlen(answer);
	ssize_t ret;

	memcpy(line, answer, n);
	line[n++] = '\n';
	ret = send(c->fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	return ret == (ssize_t)n;
}

static const struct control_ops *vm_ops;
/*
 * Set by a migration that sent GO (migrate.h): lvrun ends with this
 * status once it has answered, the guest paused for good.
 */
static int migrated;

/* Every complete line in the buffer, in order; keeps a partial one. */
static bool client_lines(struct client *c)
{
	char answer[CONTROL_ANSWER_MAX];
	char *nl;
	size_t i, done;

	while ((nl = memchr(c->buf, '\n', c->len))) {
		*nl = '\0';
		/* A NUL would end the command early: make it visible. */
		for (i = 0; c->buf + i < nl; i++)
			if (!c->buf[i])
				c->buf[i] = '?';
		control_execute(vm_ops, c->buf, answer, sizeof(answer));
		if (migrated) {
			/* The target runs the guest, or may: this lvrun is done. */
			client_send(c, answer);
			lvrun_exit(migrated);
		}
		if (!client_send(c, answer))
			return false;
		done = nl + 1 - c->buf;
		memmove(c->buf, nl + 1, c->len - done);
		c->len -= done;
	}
	if (c->len < sizeof(c->buf))
		return true;
	control_answer_too_long(answer, sizeof(answer));
	client_send(c, answer);
	return false;
}

static void client_read(struct client *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len,
			 MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->len += n;
	if (!client_lines(c))
		client_close(c);
}

static void accept_client(void)
{
	static const char busy[] = "error code=EBUSY msg=\"too many clients\"\n";
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	unsigned int i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd < 0) {
			clients[i].fd = fd;
			clients[i].len = 0;
			return;
		}
	}
	send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void *control_thread(void *p)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	unsigned int i;

	(void)p;
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		for (i = 0; i < MAX_CLIENTS; i++)
			pfd[i + 1] = (struct pollfd){ .fd = clients[i].fd,
						      .events = POLLIN };
		if (poll(pfd, MAX_CLIENTS + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("control socket: poll: %s", strerror(errno));
		}
		for (i = 0; i < MAX_CLIENTS; i++)
			if (clients[i].fd >= 0 && pfd[i + 1].revents)
				client_read(&clients[i]);
		if (pfd[0].revents & POLLIN)
			accept_client();
	}
	return NULL;
}

static int vm_ctl_pause(void *ctx)
{
	return vm_pause(ctx);
}

static int vm_ctl_resume(void *ctx)
{
	return vm_resume(ctx);
}

/*
 * Runs @fn on @vm paused. A running VM is paused for it and resumed after,
 * its clocks moved back as for any pause: the guest does not see the
 * command. *@was_running says which it was.
 */
static int while_paused(struct vm *vm,
			int (*fn)(struct vm *vm, void *arg, char *err,
				  size_t errlen),
			void *arg, bool *was_running, char *err, size_t errlen)
{
	int ret;

	*was_running = !vm_paused(vm);
	if (*was_running) {
		ret = vm_pause(vm);
		if (ret) {
			snprintf(err, errlen, "cannot pause: %s", strerror(-ret));
			return ret;
		}
	}
	ret = fn(vm, arg, err, errlen);
	if (*was_running)
		vm_resume(vm);
	return ret;
}

static int save_paused(struct vm *vm, void *path, char *err, size_t errlen)
{
	uint64_t tsc = __rdtsc();
	int ret;

	ret = snapshot_save(vm, path, err, errlen);
	if (!ret)
		warn("saved %s in %llu TSC ticks", (const char *)path,
		     (unsigned long long)(__rdtsc() - tsc));
	return ret;
}

static int vm_ctl_save(void *ctx, const char *path, char *err, size_t errlen)
{
	bool was_running;

	return while_paused(ctx, save_paused, (void *)path, &was_running,
			    err, errlen);
}

/* The guest's clocks go on from the snapshot's: the pause is not hidden twice. */
static int reset_paused(struct vm *vm, void *arg __attribute__((unused)),
			char *err, size_t errlen)
{
	uint64_t tsc = __rdtsc();
	int ret;

	ret = snapshot_reset(vm, err, errlen);
	if (!ret) {
		warn("reset to the snapshot in %llu TSC ticks",
		     (unsigned long long)(__rdtsc() - tsc));
		vm_pause_restart_clock(vm);
	}
	return ret;
}

static int vm_ctl_reset(void *ctx, bool *paused, char *err, size_t errlen)
{
	bool was_running;
	int ret;

	ret = while_paused(ctx, reset_paused, NULL, &was_running, err, errlen);
	*paused = !was_running;
	return ret;
}

/*
 * fork: the VM is saved, then a lvrun --fork-from starts the children
 * from the file while this VM runs on. The snapshot also refuses what
 * cannot be forked (an assigned device).
 */
static int vm_ctl_fork(void *ctx, const char *path, int count, pid_t *pid,
		       char *err, size_t errlen)
{
	bool was_running;
	int ret;

	ret = while_paused(ctx, save_paused, (void *)path, &was_running, err,
			   errlen);
	if (ret)
		return ret;
	ret = fork_spawn(path, count, pid, err, errlen);
	if (!ret)
		warn("forked %d children from %s: lvrun pid %d", count, path,
		     (int)*pid);
	return ret;
}

/*
 * The guest pre-copies while it runs, pauses for the rest and, once the
 * source sent GO, stays paused here for good. Other clients wait
 * meanwhile: the control thread is busy.
 */
static int vm_ctl_migrate(void *ctx, const char *address, bool checksum,
			  struct mig_report *r, char *err, size_t errlen)
{
	int ret = migrate_send(ctx, address, checksum, r, err, errlen);

	if (!ret)
		migrated = LVRUN_EXIT_MIGRATED;
	else if (r->committed)
		migrated = LVRUN_EXIT_MIGRATE_UNKNOWN;
	return ret;
}

static void vm_ctl_status(void *ctx, struct control_status *st)
{
	struct vm *vm = ctx;

	st->paused = vm_paused(vm);
	st->vcpus = vm->nr_vcpus;
	st->exits = vcpu_exits_total();
	st->memory = vm->mem.size;
}

void control_start(struct vm *vm)
{
	static struct control_ops ops = {
		.pause = vm_ctl_pause,
		.resume = vm_ctl_resume,
		.save = vm_ctl_save,
		.reset = vm_ctl_reset,
		.fork = vm_ctl_fork,
		.migrate = vm_ctl_migrate,
		.status = vm_ctl_status,
	};
	pthread_t thread;
	unsigned int i;
	int err;

	if (listen_fd < 0)
		return;
	ops.ctx = vm;
	vm_ops = &ops;
	control_catch_signals();
	for (i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	err = lvrun_thread_create(&thread, control_thread, NULL);
	if (err)
		die("pthread_create: %s", strerror(err));
	pthread_detach(thread);
}
