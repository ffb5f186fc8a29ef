// SPDX-License-Identifier: GPL-2.0
/*
 * lvd: keeps a pool of prepared lightvisor VMs and hands them out on a
 * UNIX socket (the split toolstack). A prepared VM is created
 * LV_VM_UNBOUND, with its in-kernel interrupt controllers (--irqchip) and
 * its vCPUs (each with its VMCS, the VM with its EPT root): everything
 * that does not depend on the guest. lvrun --pool takes one, binds it to
 * its own address space (LV_BIND_VM), adds its memory, loads the guest
 * and starts it. A refill thread keeps the pool full in the background.
 *
 * lvd closes its fds of a VM once it is sent, and could not use them
 * anyway once the receiver has bound the VM (EIO): it never sees guest
 * memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <linux/lightvisor.h>

#include "proto.h"

#define LVD_MAX_POOL	1024
/* A client gets this long to send its request: one stuck client must not
 * hold up the others for longer. */
#define LVD_REQUEST_TIMEOUT_S	5

struct pool_vm {
	int vm_fd;
	int vcpu_fds[POOL_MAX_VCPUS];
};

struct lvd {
	const char *socket_path;
	unsigned int size;	/* --pool N */
	unsigned int nr_vcpus;
	bool irqchip;
	int sys_fd;

	pthread_mutex_t lock;
	pthread_cond_t changed;	/* a VM taken (refill) or added (clients) */
	struct pool_vm *ready;	/* [size]; the first nr_ready are prepared */
	unsigned int nr_ready;
	unsigned long served;
	const char *refill_error;	/* refilling stopped: why */
};

static struct lvd lvd;

static void lvd_vlog(const char *fmt, va_list ap)
{
	fputs("lvd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void lvd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void lvd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lvd_vlog(fmt, ap);
	va_end(ap);
}

static void lvd_die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

static void lvd_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lvd_vlog(fmt, ap);
	va_end(ap);
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: lvd --pool N --socket PATH [--vcpus N] [--irqchip]\n"
"\n"
"Keeps N lightvisor VMs prepared (VM, vCPUs, in-kernel interrupt\n"
"controllers) and hands one to each lvrun --pool PATH that asks, refilling\n"
"the pool in the background.\n"
"\n"
"  --pool N         VMs kept prepared (1-%d)\n"
"  --socket PATH    the UNIX socket to listen on (created mode 0600; a\n"
"                   stale socket with nobody listening is replaced)\n"
"  --vcpus N        vCPUs per VM (default 1, at most %d)\n"
"  --irqchip        VMs with the in-kernel interrupt controllers (what\n"
"                   lvrun gives Linux, multiboot and vmlinux images, and\n"
"                   its own guests with --irqchip)\n"
"  --help, --version\n"
"\n"
"lvd runs until SIGINT or SIGTERM, then removes its socket.\n",
		LVD_MAX_POOL, POOL_MAX_VCPUS);
}

static unsigned int parse_count(const char *opt, const char *arg,
				unsigned int max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || *end || !*arg || v < 1 || v > max)
		lvd_die("%s %s: want a number from 1 to %u", opt, arg, max);
	return v;
}

static void parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "vcpus", required_argument, NULL, 'c' },
		{ "irqchip", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	lvd.nr_vcpus = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			lvd.size = parse_count("--pool", optarg, LVD_MAX_POOL);
			break;
		case 's':
			lvd.socket_path = optarg;
			break;
		case 'c':
			lvd.nr_vcpus = parse_count("--vcpus", optarg, POOL_MAX_VCPUS);
			break;
		case 'i':
			lvd.irqchip = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("lvd (lightvisor) %s, API version %d\n", LV_VERSION, LV_API_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		lvd_die("unexpected argument %s (see --help)", argv[optind]);
	if (!lvd.size || !lvd.socket_path)
		lvd_die("--pool N and --socket PATH are both needed (see --help)");
}

static void open_device(void)
{
	int ret;

	lvd.sys_fd = open("/dev/lightvisor", O_RDWR | O_CLOEXEC);
	if (lvd.sys_fd < 0)
		lvd_die("cannot open /dev/lightvisor: %s", strerror(errno));
	ret = ioctl(lvd.sys_fd, LV_GET_API_VERSION, 0);
	if (ret != LV_API_VERSION)
		lvd_die("lightvisor API version %d, lvd needs %d", ret, LV_API_VERSION);
	if (ioctl(lvd.sys_fd, LV_CHECK_CAP, LV_CAP_VM_UNBOUND) <= 0)
		lvd_die("this lightvisor cannot create VMs for another process (no LV_CAP_VM_UNBOUND)");
	if (ioctl(lvd.sys_fd, LV_CHECK_CAP, LV_CAP_RUN_GUESTS) <= 0)
		lvd_die("this CPU cannot run lightvisor guests (no usable VMX)");
	ret = ioctl(lvd.sys_fd, LV_CHECK_CAP, LV_CAP_MAX_VCPUS);
	if (ret > 0 && lvd.nr_vcpus > (unsigned int)ret)
		lvd_die("--vcpus %u: lightvisor supports at most %d", lvd.nr_vcpus, ret);
	if (lvd.irqchip && ioctl(lvd.sys_fd, LV_CHECK_CAP, LV_CAP_IRQCHIP) <= 0)
		lvd_die("--irqchip: this lightvisor has no in-kernel interrupt controller");
}

static void close_vm(struct pool_vm *p)
{
	unsigned int i;

	for (i = 0; i < lvd.nr_vcpus; i++)
		if (p->vcpu_fds[i] >= 0)
			close(p->vcpu_fds[i]);
	if (p->vm_fd >= 0)
		close(p->vm_fd);
}

/* Everything of a VM that does not depend on the guest. NULL or why not. */
static const char *prepare_vm(struct pool_vm *p)
{
	unsigned int i;

	p->vm_fd = ioctl(lvd.sys_fd, LV_CREATE_VM, LV_VM_UNBOUND);
	for (i = 0; i < POOL_MAX_VCPUS; i++)
		p->vcpu_fds[i] = -1;
	if (p->vm_fd < 0)
		return "LV_CREATE_VM(LV_VM_UNBOUND)";
	if (lvd.irqchip && ioctl(p->vm_fd, LV_CREATE_IRQCHIP, 0)) {
		close_vm(p);
		return "LV_CREATE_IRQCHIP";
	}
	for (i = 0; i < lvd.nr_vcpus; i++) {
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
		pthread_mutex_lock(&lvd.lock);
		while (lvd.nr_ready == lvd.size)
			pthread_cond_wait(&lvd.changed, &lvd.lock);
		pthread_mutex_unlock(&lvd.lock);

		err = prepare_vm(&p);
		pthread_mutex_lock(&lvd.lock);
		if (err) {
			lvd.refill_error = err;
			pthread_cond_broadcast(&lvd.changed);
			pthread_mutex_unlock(&lvd.lock);
			lvd_log("cannot prepare a VM: %s: %s; retrying in 1 s",
				err, strerror(errno));
			sleep(1);
			continue;
		}
		lvd.refill_error = NULL;
		lvd.ready[lvd.nr_ready++] = p;
		if (lvd.nr_ready == lvd.size && lvd.served == 0)
			lvd_log("pool full: %u VMs ready", lvd.size);
		pthread_cond_broadcast(&lvd.changed);
		pthread_mutex_unlock(&lvd.lock);
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

	pthread_mutex_lock(&lvd.lock);
	while (!lvd.nr_ready && !lvd.refill_error)
		pthread_cond_wait(&lvd.changed, &lvd.lock);
	if (lvd.nr_ready) {
		*p = lvd.ready[--lvd.nr_ready];
		*served = lvd.served++;
		pthread_cond_broadcast(&lvd.changed);
	} else {
		err = lvd.refill_error;
	}
	pthread_mutex_unlock(&lvd.lock);
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
	struct pool_request req;
	int fds[1 + POOL_MAX_VCPUS], nr_fds;
	unsigned long served = 0;
	struct pool_vm p = { .vm_fd = -1 };
	const char *err;
	unsigned int i;

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (pool_recv(sock, &req, sizeof(req), fds, 0, &nr_fds)) {
		lvd_log("a client sent no request: %s", strerror(errno));
		return;
	}
	if (req.magic != POOL_MAGIC || req.version != POOL_VERSION) {
		reply_error(sock, EPROTO, "not an lvrun pool request of version %u",
			    POOL_VERSION);
		return;
	}
	if (req.flags) {
		reply_error(sock, EINVAL, "unknown request flags %#x", req.flags);
		return;
	}
	if (req.nr_vcpus != lvd.nr_vcpus) {
		reply_error(sock, EINVAL, "this pool's VMs have %u vCPU(s), not %u",
			    lvd.nr_vcpus, req.nr_vcpus);
		return;
	}

	err = take_vm(&p, &served);
	if (err) {
		reply_error(sock, EAGAIN, "lvd cannot prepare VMs now (%s failed)", err);
		return;
	}
	fds[0] = p.vm_fd;
	for (i = 0; i < lvd.nr_vcpus; i++)
		fds[1 + i] = p.vcpu_fds[i];
	r.nr_vcpus = lvd.nr_vcpus;
	r.flags = lvd.irqchip ? POOL_IRQCHIP : 0;
	r.served = served;
	if (pool_send(sock, &r, sizeof(r), fds, 1 + lvd.nr_vcpus))
		lvd_log("a client went away before its VM was sent: %s",
			strerror(errno));
	/* Sent or not, this VM is no longer ours. */
	close_vm(&p);
}

/* A socket at @path that nobody listens on is left over: remove it. */
static void remove_stale_socket(const struct sockaddr_un *addr)
{
	struct stat st;
	int s;

	if (lstat(addr->sun_path, &st))
		return;
	if (!S_ISSOCK(st.st_mode))
		lvd_die("--socket %s exists and is not a socket", addr->sun_path);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s >= 0 && connect(s, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
		lvd_die("--socket %s: another lvd is serving it", addr->sun_path);
	if (s >= 0)
		close(s);
	if (unlink(addr->sun_path))
		lvd_die("--socket %s: cannot remove the stale socket: %s",
			addr->sun_path, strerror(errno));
}

static int listen_socket(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old;
	int s;

	if (strlen(lvd.socket_path) >= sizeof(addr.sun_path))
		lvd_die("--socket %s: path longer than %zu bytes", lvd.socket_path,
			sizeof(addr.sun_path) - 1);
	strcpy(addr.sun_path, lvd.socket_path);
	remove_stale_socket(&addr);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		lvd_die("socket: %s", strerror(errno));
	/* Whoever can connect gets a VM: only our user, as with lvrun --control. */
	old = umask(0177);
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)))
		lvd_die("--socket %s: %s", lvd.socket_path, strerror(errno));
	umask(old);
	if (listen(s, 16))
		lvd_die("listen on %s: %s", lvd.socket_path, strerror(errno));
	return s;
}

static void on_signal(int sig)
{
	unlink(lvd.socket_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	pthread_t refill;
	int ls, c;

	parse_options(argc, argv);
	open_device();
	lvd.ready = calloc(lvd.size, sizeof(*lvd.ready));
	if (!lvd.ready)
		lvd_die("out of memory");
	pthread_mutex_init(&lvd.lock, NULL);
	pthread_cond_init(&lvd.changed, NULL);
	signal(SIGPIPE, SIG_IGN);

	ls = listen_socket();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (pthread_create(&refill, NULL, refill_thread, NULL))
		lvd_die("cannot start the refill thread");
	lvd_log("pool of %u VMs (%u vCPU(s), %s irqchip) on %s", lvd.size,
		lvd.nr_vcpus, lvd.irqchip ? "with" : "no", lvd.socket_path);

	for (;;) {
		c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				lvd_log("accept: %s", strerror(errno));
			continue;
		}
		serve_client(c);
		close(c);
	}
}
