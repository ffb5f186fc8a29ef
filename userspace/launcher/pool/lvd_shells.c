// SPDX-License-Identifier: GPL-2.0
/*
 * lvd --shells: a pool of prepared VM shells. A prepared VM is created
 * LV_VM_UNBOUND, with its in-kernel interrupt controllers (--irqchip)
 * and its vCPUs (each with its VMCS, the VM with its EPT root). lvrun
 * --pool-vm takes one, binds it to its own address space (LV_BIND_VM),
 * adds its memory, loads the guest and starts it. A refill thread keeps
 * the pool full in the background.
 *
 * lvd closes its fds of a VM once it is sent, and could not use them
 * anyway once the receiver has bound the VM (EIO): it never sees guest
 * memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/lightvisor.h>

#include "lvd.h"
#include "proto.h"

/* A client gets this long to send its request: one stuck client must not
 * hold up the others for longer. */
#define LVD_REQUEST_TIMEOUT_S	5

struct pool_vm {
	int vm_fd;
	int vcpu_fds[POOL_MAX_VCPUS];
};


struct lvd_shells {
	int sys_fd;

	pthread_mutex_t lock;
	pthread_cond_t changed;	/* a VM taken (refill) or added (clients) */
	struct pool_vm *ready;	/* [size]; the first nr_ready are prepared */
	unsigned int nr_ready;
	unsigned long served;
	const char *refill_error;	/* refilling stopped: why */
};

static struct lvd_shells shells;

static void close_vm(struct pool_vm *p)
{
	unsigned int i;

	for (i = 0; i < lvd_opts.nr_vcpus; i++)
		if (p->vcpu_fds[i] >= 0)
			close(p->vcpu_fds[i]);
	if (p->vm_fd >= 0)
		close(p->vm_fd);
}

/* Everything of a VM that does not depend on the guest. NULL or why not. */
static const char *prepare_vm(struct pool_vm *p)
{
	unsigned int i;

	p->vm_fd = ioctl(shells.sys_fd, LV_CREATE_VM, LV_VM_UNBOUND);
	for (i = 0; i < POOL_MAX_VCPUS; i++)
		p->vcpu_fds[i] = -1;
	if (p->vm_fd < 0)
		return "LV_CREATE_VM(LV_VM_UNBOUND)";
	if (lvd_opts.irqchip && ioctl(p->vm_fd, LV_CREATE_IRQCHIP, 0)) {
		close_vm(p);
		return "LV_CREATE_IRQCHIP";
	}
	for (i = 0; i < lvd_opts.nr_vcpus; i++) {
		p->vcpu_fds[i] = ioctl(p->vm_fd, LV_CREATE_VCPU, i);
		if (p->vcpu_fds[i] < 0) {
			close_vm(p);
			return "LV_CREATE_VCPU";
		}
	}
	return NULL;
}

/*
 * Keeps the pool full. A failure (out of memory, fds) is retried after a
 * pause; clients meanwhile get the reason.
 */
static void *refill_thread(void *arg)
{
	struct pool_vm p;
	const char *err;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&shells.lock);
		while (shells.nr_ready == lvd_opts.size)
			pthread_cond_wait(&shells.changed, &shells.lock);
		pthread_mutex_unlock(&shells.lock);

		err = prepare_vm(&p);
		pthread_mutex_lock(&shells.lock);
		if (err) {
			shells.refill_error = err;
			pthread_cond_broadcast(&shells.changed);
			pthread_mutex_unlock(&shells.lock);
			lvd_log("cannot prepare a VM: %s: %s; retrying in 1 s",
				err, strerror(errno));
			sleep(1);
			continue;
		}
		shells.refill_error = NULL;
		shells.ready[shells.nr_ready++] = p;
		if (shells.nr_ready == lvd_opts.size && shells.served == 0)
			lvd_log("pool full: %u VMs ready", lvd_opts.size);
		pthread_cond_broadcast(&shells.changed);
		pthread_mutex_unlock(&shells.lock);
	}
	return NULL;
}

/*
 * Waits for a prepared VM and takes it out of the pool. Returns NULL, or
 * with the pool empty and refilling failing, why (the client is told
 * rather than left waiting).
 */
static const char *take_vm(struct pool_vm *p, unsigned long *served)
{
	const char *err = NULL;

	pthread_mutex_lock(&shells.lock);
	while (!shells.nr_ready && !shells.refill_error)
		pthread_cond_wait(&shells.changed, &shells.lock);
	if (shells.nr_ready) {
		*p = shells.ready[--shells.nr_ready];
		*served = shells.served++;
		pthread_cond_broadcast(&shells.changed);
	} else {
		err = shells.refill_error;
	}
	pthread_mutex_unlock(&shells.lock);
	return err;
}

static void reply_error(int sock, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_error(int sock, int err, const char *fmt, ...)
{
	struct pool_reply r = { .magic = POOL_MAGIC, .version = POOL_VERSION,
				.error = err };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
	va_end(ap);
	lvd_log("refused a client: %s", r.msg);
	pool_send(sock, &r, sizeof(r), NULL, 0);
}

static void serve_client(int sock)
{
	struct pool_reply r = { .magic = POOL_MAGIC, .version = POOL_VERSION };
	struct timeval tv = { .tv_sec = LVD_REQUEST_TIMEOUT_S };
	char buf[sizeof(struct pool_request) + 64];
	struct pool_request *req = (struct pool_request *)buf;
	int fds[1 + POOL_MAX_VCPUS], nr_fds;
	size_t len;
	unsigned long served = 0;
	struct pool_vm p = { .vm_fd = -1 };
	const char *err;
	unsigned int i;

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (pool_recv_upto(sock, buf, sizeof(buf), &len, fds, 0, &nr_fds)) {
		lvd_log("a client sent no request: %s", strerror(errno));
		return;
	}
	err = pool_check_request(req, len, POOL_KIND_VM);
	if (err) {
		reply_error(sock, EINVAL, "%s", err);
		return;
	}
	if (req->nr_vcpus != lvd_opts.nr_vcpus) {
		reply_error(sock, EINVAL, "this pool's VMs have %u vCPU(s), not %u",
			    lvd_opts.nr_vcpus, req->nr_vcpus);
		return;
	}

	err = take_vm(&p, &served);
	if (err) {
		reply_error(sock, EAGAIN, "lvd cannot prepare VMs now (%s failed)", err);
		return;
	}
	fds[0] = p.vm_fd;
	for (i = 0; i < lvd_opts.nr_vcpus; i++)
		fds[1 + i] = p.vcpu_fds[i];
	r.nr_vcpus = lvd_opts.nr_vcpus;
	r.flags = lvd_opts.irqchip ? POOL_IRQCHIP : 0;
	r.served = served;
	if (pool_send(sock, &r, sizeof(r), fds, 1 + lvd_opts.nr_vcpus))
		lvd_log("a client went away before its VM was sent: %s",
			strerror(errno));
	/* Sent or not, this VM is no longer ours. */
	close_vm(&p);
}

void lvd_run_shells(int sys_fd, int listen_fd)
{
	pthread_t refill;
	int c;

	shells.sys_fd = sys_fd;
	shells.ready = calloc(lvd_opts.size, sizeof(*shells.ready));
	if (!shells.ready)
		lvd_die("out of memory");
	pthread_mutex_init(&shells.lock, NULL);
	pthread_cond_init(&shells.changed, NULL);
	if (pthread_create(&refill, NULL, refill_thread, NULL))
		lvd_die("cannot start the refill thread");
	lvd_log("pool of %u VM shells (%u vCPU(s), %s irqchip) on %s", lvd_opts.size,
		lvd_opts.nr_vcpus, lvd_opts.irqchip ? "with" : "no",
		lvd_opts.socket_path);

	for (;;) {
		c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				lvd_log("accept: %s", strerror(errno));
			continue;
		}
		serve_client(c);
		close(c);
	}
}
