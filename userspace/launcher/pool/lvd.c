// SPDX-License-Identifier: GPL-2.0
/*
 * lvd: keeps a pool of prepared lightvisor guests' homes and hands them
 * out on a UNIX socket (the split toolstack of the LightVM paper).
 *
 * By default the pool is of prepared lvrun processes (lvd_procs.c): each
 * has opened the device, created its VM (its own, so the mmu notifier is
 * registered), the in-kernel interrupt controllers (--irqchip), its vCPUs
 * with their run pages, and mapped and registered its guest memory
 * (--mem); a client lvrun --pool hands one its command line and terminal
 * and it loads and starts the guest. With --shells the pool is of VM
 * shells instead (lvd_shells.c), which lvrun --pool-vm takes and binds.
 *
 * This file: the options, the device check, the socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/lightvisor.h>

#include "lvd.h"
#include "proto.h"
#include "../size.h"

/* lvrun's default for its own ELF64 guests, the usual pool's guests. */
#define LVD_DEFAULT_MEM		(16ULL << 20)

struct lvd_options lvd_opts;

static void lvd_vlog(const char *fmt, va_list ap)
{
	fputs("lvd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void lvd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lvd_vlog(fmt, ap);
	va_end(ap);
}

void lvd_die(const char *fmt, ...)
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
"usage: lvd --pool N --socket PATH [--vcpus N] [--irqchip] [--mem SIZE]\n"
"           [--lvrun PATH]\n"
"       lvd --shells --pool N --socket PATH [--vcpus N] [--irqchip]\n"
"\n"
"Keeps N lvrun processes prepared, each with its lightvisor VM, vCPUs,\n"
"in-kernel interrupt controllers (--irqchip) and guest memory already\n"
"made, and gives each lvrun --pool PATH that connects one of them: it\n"
"takes the client's command line and terminal, runs the guest, and the\n"
"client exits with the guest's status. Each serves one client, then\n"
"exits; lvd starts another in the background.\n"
"With --shells, keeps N VM shells (VM, vCPUs, interrupt controllers,\n"
"no process, no memory) for lvrun --pool-vm PATH instead.\n"
"\n"
"  --pool N         lvrun processes (or VMs) kept prepared (1-%d)\n"
"  --socket PATH    the UNIX socket to listen on (created mode 0600; a\n"
"                   stale socket with nobody listening is replaced)\n"
"  --vcpus N        vCPUs per VM (default 1, at most %d); the client's\n"
"                   --vcpus must be the same\n"
"  --irqchip        VMs with the in-kernel interrupt controllers (what\n"
"                   lvrun gives Linux, multiboot and vmlinux images, and\n"
"                   its own guests with --irqchip)\n"
"  --mem SIZE       guest memory of each prepared lvrun (default 16M,\n"
"                   lvrun's own ELF64 guests' default); the client's\n"
"                   --mem, or its image's default, must be the same\n"
"  --lvrun PATH     the lvrun to start (default: the one beside lvd, else\n"
"                   the first in PATH)\n"
"  --shells         keep VM shells for lvrun --pool-vm instead\n"
"  --help, --version\n"
"\n"
"lvd runs until SIGINT or SIGTERM, then removes its socket; the prepared\n"
"lvrun processes that serve no client yet end with it, running guests\n"
"go on.\n",
		LVD_MAX_POOL, POOL_MAX_VCPUS);
}

/* SIZE with an optional K, M or G; a multiple of 4K from 1M to 3G. */
static uint64_t parse_mem(const char *arg)
{
	uint64_t v;

	if (parse_size(arg, &v) || !guest_mem_size_ok(v))
		lvd_die("--mem %s: want a multiple of 4K between 1M and 3G", arg);
	return v;
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
		{ "mem", required_argument, NULL, 'm' },
		{ "lvrun", required_argument, NULL, 'l' },
		{ "shells", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	lvd_opts.nr_vcpus = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			lvd_opts.size = parse_count("--pool", optarg, LVD_MAX_POOL);
			break;
		case 's':
			lvd_opts.socket_path = optarg;
			break;
		case 'c':
			lvd_opts.nr_vcpus = parse_count("--vcpus", optarg, POOL_MAX_VCPUS);
			break;
		case 'i':
			lvd_opts.irqchip = true;
			break;
		case 'm':
			lvd_opts.mem_size = parse_mem(optarg);
			break;
		case 'l':
			lvd_opts.lvrun = optarg;
			break;
		case 'S':
			lvd_opts.shells = true;
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
	if (!lvd_opts.size || !lvd_opts.socket_path)
		lvd_die("--pool N and --socket PATH are both needed (see --help)");
	if (lvd_opts.shells && (lvd_opts.mem_size || lvd_opts.lvrun))
		lvd_die("--shells: VM shells have no memory and no lvrun: not with --mem or --lvrun");
	if (!lvd_opts.mem_size)
		lvd_opts.mem_size = LVD_DEFAULT_MEM;
}

/* What the pool needs of lightvisor, checked once here. Returns the fd. */
static int open_device(void)
{
	int ret, fd;

	fd = open("/dev/lightvisor", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		lvd_die("cannot open /dev/lightvisor: %s", strerror(errno));
	ret = ioctl(fd, LV_GET_API_VERSION, 0);
	if (ret != LV_API_VERSION)
		lvd_die("lightvisor API version %d, lvd needs %d", ret, LV_API_VERSION);
	if (lvd_opts.shells && ioctl(fd, LV_CHECK_CAP, LV_CAP_VM_UNBOUND) <= 0)
		lvd_die("this lightvisor cannot create VMs for another process (no LV_CAP_VM_UNBOUND)");
	if (ioctl(fd, LV_CHECK_CAP, LV_CAP_RUN_GUESTS) <= 0)
		lvd_die("this CPU cannot run lightvisor guests (no usable VMX)");
	ret = ioctl(fd, LV_CHECK_CAP, LV_CAP_MAX_VCPUS);
	if (ret > 0 && lvd_opts.nr_vcpus > (unsigned int)ret)
		lvd_die("--vcpus %u: lightvisor supports at most %d", lvd_opts.nr_vcpus, ret);
	if (lvd_opts.irqchip && ioctl(fd, LV_CHECK_CAP, LV_CAP_IRQCHIP) <= 0)
		lvd_die("--irqchip: this lightvisor has no in-kernel interrupt controller");
	return fd;
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

	if (strlen(lvd_opts.socket_path) >= sizeof(addr.sun_path))
		lvd_die("--socket %s: path longer than %zu bytes", lvd_opts.socket_path,
			sizeof(addr.sun_path) - 1);
	strcpy(addr.sun_path, lvd_opts.socket_path);
	remove_stale_socket(&addr);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		lvd_die("socket: %s", strerror(errno));
	/* Whoever can connect gets a VM: only our user, as with lvrun --control. */
	old = umask(0177);
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)))
		lvd_die("--socket %s: %s", lvd_opts.socket_path, strerror(errno));
	umask(old);
	if (listen(s, 128))
		lvd_die("listen on %s: %s", lvd_opts.socket_path, strerror(errno));
	return s;
}

static void on_signal(int sig)
{
	unlink(lvd_opts.socket_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	int ls, sys_fd;

	parse_options(argc, argv);
	sys_fd = open_device();
	signal(SIGPIPE, SIG_IGN);

	ls = listen_socket();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (lvd_opts.shells)
		lvd_run_shells(sys_fd, ls);
	close(sys_fd);
	lvd_run_processes(ls);
}
