// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun --pool PATH: take a prepared VM from lvd. Every way this can go
 * wrong ends lvrun with a message naming the cause, before anything of
 * the guest is loaded.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../log.h"
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

static void check_reply(const char *path, const struct pool_reply *r,
			int nr_fds, int nr_vcpus, bool irqchip)
{
	if (r->magic != POOL_MAGIC || r->version != POOL_VERSION)
		die("--pool %s: not an lvd of pool protocol version %d", path,
		    POOL_VERSION);
	if (r->error)
		die("--pool %s: lvd refused: %.*s (%s)", path,
		    (int)sizeof(r->msg), r->msg, strerror(r->error));
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
		.nr_vcpus = nr_vcpus,
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
	struct timeval tv = { .tv_sec = POOL_REPLY_TIMEOUT_S };
	int fds[1 + POOL_MAX_VCPUS], nr_fds, i;
	struct pool_reply r;
	uint64_t t0 = __rdtsc();

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (pool_recv(sock, &r, sizeof(r), fds, 1 + POOL_MAX_VCPUS, &nr_fds)) {
		if (errno == ECONNRESET)
			die("--pool %s: lvd closed the connection without a VM (killed?)",
			    path);
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			die("--pool %s: lvd sent no VM within %d s", path,
			    POOL_REPLY_TIMEOUT_S);
		die("--pool %s: bad answer from lvd: %s", path, strerror(errno));
	}
	close(sock);
	check_reply(path, &r, nr_fds, nr_vcpus, irqchip);

	vm->vm_fd = fds[0];
	vm->nr_vcpus = nr_vcpus;
	for (i = 0; i < nr_vcpus; i++)
		vm->vcpu_fds[i] = fds[1 + i];
	vm->irqchip = r.flags & POOL_IRQCHIP;
	trace("--pool %s: VM number %u of this lvd, %d vCPU(s)%s, answer taken in %llu TSC ticks",
	      path, r.served, nr_vcpus, vm->irqchip ? ", irqchip" : "",
	      (unsigned long long)(__rdtsc() - t0));
}
