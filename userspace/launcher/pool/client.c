// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun --pool PATH: have a prepared lvrun of lvd run the guest, and
 * lvrun --pool-vm PATH: take a prepared VM from lvd --shells. Every way
 * this can go wrong ends lvrun with a message naming the cause, before
 * anything of the guest is loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../log.h"
#include "../options.h"
#include "client.h"
#include "proto.h"

/* lvd answers at once when it has a VM; else as soon as it prepared one. */
#define POOL_REPLY_TIMEOUT_S	60

static int pool_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int s;

	if (strlen(path) >= sizeof(addr.sun_path))
		die("--pool %s: path longer than %zu bytes", path,
		    sizeof(addr.sun_path) - 1);
	strcpy(addr.sun_path, path);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("--pool: socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return s;
	switch (errno) {
	case ENOENT:
		die("--pool %s: no such socket (is lvd running?)", path);
	case ECONNREFUSED:
		die("--pool %s: nobody listens there (lvd has stopped?)", path);
	case EPROTOTYPE:
	case ENOTSOCK:
		die("--pool %s: not an lvd socket", path);
	default:
		die("--pool %s: cannot connect: %s", path, strerror(errno));
	}
}

static void check_reply_header(const char *path, const struct pool_reply *r)
{
	if (r->magic != POOL_MAGIC || r->version != POOL_VERSION)
		die("--pool %s: not an lvd of pool protocol version %d", path,
		    POOL_VERSION);
	if (r->error)
		die("--pool %s: lvd refused: %.*s (%s)", path,
		    (int)sizeof(r->msg), r->msg, strerror(r->error));
}

/* The answer, within POOL_REPLY_TIMEOUT_S; dies naming what went wrong. */
static void receive_reply(int sock, const char *path, struct pool_reply *r,
			  int *fds, int max_fds, int *nr_fds)
{
	struct timeval tv = { .tv_sec = POOL_REPLY_TIMEOUT_S };

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (pool_recv(sock, r, sizeof(*r), fds, max_fds, nr_fds)) {
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			die("--pool %s: lvd closed the connection without an answer (killed?)",
			    path);
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			die("--pool %s: lvd did not answer within %d s", path,
			    POOL_REPLY_TIMEOUT_S);
		die("--pool %s: bad answer from lvd: %s", path, strerror(errno));
	}
	tv.tv_sec = 0;
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void check_reply(const char *path, const struct pool_reply *r,
			int nr_fds, int nr_vcpus, bool irqchip)
{
	check_reply_header(path, r);
	if (r->nr_vcpus != (uint32_t)nr_vcpus || nr_fds != 1 + nr_vcpus)
		die("--pool %s: lvd sent %d fds for %u vCPUs, lvrun asked for %d",
		    path, nr_fds, r->nr_vcpus, nr_vcpus);
	/* Known only once the image is read: checked here, not by lvd. */
	if (!!(r->flags & POOL_IRQCHIP) != irqchip)
		die("--pool %s: lvd's VMs have %s in-kernel interrupt controllers, this guest %s them (lvd %s--irqchip)",
		    path, irqchip ? "no" : "the", irqchip ? "needs" : "must run without",
		    irqchip ? "" : "without ");
}

int pool_request(const char *path, int nr_vcpus)
{
	struct pool_request req = {
		.magic = POOL_MAGIC, .version = POOL_VERSION,
		.kind = POOL_KIND_VM, .nr_vcpus = nr_vcpus,
	};
	int s;

	if (nr_vcpus < 1 || nr_vcpus > POOL_MAX_VCPUS)
		die("--pool: %d vCPUs, a pool VM has 1 to %d", nr_vcpus,
		    POOL_MAX_VCPUS);
	s = pool_connect(path);
	if (pool_send(s, &req, sizeof(req), NULL, 0))
		die("--pool %s: cannot send the request: %s (lvd gone?)", path,
		    strerror(errno));
	return s;
}

void pool_receive(int sock, const char *path, int nr_vcpus, bool irqchip,
		  struct hv_prepared *vm)
{
	int fds[1 + POOL_MAX_VCPUS], nr_fds, i;
	struct pool_reply r;
	uint64_t t0 = __rdtsc();

	receive_reply(sock, path, &r, fds, 1 + POOL_MAX_VCPUS, &nr_fds);
	close(sock);
	check_reply(path, &r, nr_fds, nr_vcpus, irqchip);

	vm->vm_fd = fds[0];
	vm->nr_vcpus = nr_vcpus;
	for (i = 0; i < nr_vcpus; i++)
		vm->vcpu_fds[i] = fds[1 + i];
	vm->irqchip = r.flags & POOL_IRQCHIP;
	trace("--pool-vm %s: VM number %u of this lvd, %d vCPU(s)%s, answer taken in %llu TSC ticks",
	      path, r.served, nr_vcpus, vm->irqchip ? ", irqchip" : "",
	      (unsigned long long)(__rdtsc() - t0));
}

static int remote_sock = -1;
static volatile sig_atomic_t forwarded_signal;

/* The guest ends with the signal that ends us (pool/serve.c). */
static void forward_signal(int sig)
{
	struct pool_signal s = { .magic = POOL_MAGIC, .signo = sig };

	forwarded_signal = sig;
	send(remote_sock, &s, sizeof(s), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void forward_signals(int sock)
{
	static const int ending[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = forward_signal };
	unsigned int i;

	remote_sock = sock;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(ending) / sizeof(ending[0]); i++)
		sigaction(ending[i], &sa, NULL);
}

/* The prepared lvrun's last word is the status to exit with. */
static void __attribute__((noreturn)) wait_for_exit(int sock, const char *path)
{
	struct pool_exit e;
	ssize_t n;
	int sig;

	for (;;) {
		n = recv(sock, &e, sizeof(e), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == sizeof(e) && e.magic == POOL_MAGIC)
			lvrun_exit(e.status & 0xff);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			sig = forwarded_signal;
			if (sig) {
				/* It died of our signal: so do we, as a cold lvrun would. */
				signal(sig, SIG_DFL);
				raise(sig);
			}
			die("--pool %s: the prepared lvrun ended without an exit status (killed?)",
			    path);
		}
		if (n < 0)
			die("--pool %s: waiting for the guest: %s", path, strerror(errno));
		die("--pool %s: a message of %zd bytes instead of the exit status", path, n);
	}
}

void pool_run_remote(const char *path, int argc, char **argv, uint64_t start_tsc)
{
	static char buf[sizeof(struct pool_request) + POOL_MAX_ARGS_LEN];
	struct pool_request *req = (struct pool_request *)buf;
	int fds[POOL_NR_CLIENT_FDS], nr_fds, sock;
	struct pool_reply r;
	long len;

	len = pool_pack_args(buf + sizeof(*req), POOL_MAX_ARGS_LEN, argc - 1, argv + 1);
	if (len < 0)
		die("--pool: more than %d arguments or %d bytes of them", POOL_MAX_ARGS,
		    POOL_MAX_ARGS_LEN);
	*req = (struct pool_request){
		.magic = POOL_MAGIC, .version = POOL_VERSION,
		.kind = POOL_KIND_PROCESS, .nr_vcpus = opts.nr_vcpus,
		.start_tsc = start_tsc, .argc = argc - 1, .args_len = len,
	};
	fds[POOL_FD_STDIN] = STDIN_FILENO;
	fds[POOL_FD_STDOUT] = STDOUT_FILENO;
	fds[POOL_FD_STDERR] = STDERR_FILENO;
	fds[POOL_FD_CWD] = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fds[POOL_FD_CWD] < 0)
		die("--pool: cannot open the working directory: %s", strerror(errno));

	sock = pool_connect(path);
	forward_signals(sock);
	if (pool_send(sock, buf, sizeof(*req) + len, fds, POOL_NR_CLIENT_FDS))
		die("--pool %s: cannot send the request: %s (lvd gone?)", path,
		    strerror(errno));
	close(fds[POOL_FD_CWD]);
	trace("--pool %s: request sent %llu TSC ticks after lvrun started", path,
	      (unsigned long long)(__rdtsc() - start_tsc));
	receive_reply(sock, path, &r, NULL, 0, &nr_fds);
	check_reply_header(path, &r);
	trace("--pool %s: prepared lvrun %u runs the guest", path, r.pid);
	wait_for_exit(sock, path);
}
