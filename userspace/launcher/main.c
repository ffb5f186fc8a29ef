// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: command line, timers and process exit.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lvrun.h"

struct options opts = {
	.nr_vcpus = 1,
	.irq_after_ms = -1,
	.nmi_after_ms = -1,
};

volatile sig_atomic_t timed_out;

static struct vm the_vm;
static pthread_mutex_t finish_lock = PTHREAD_MUTEX_INITIALIZER;

static const char usage_text[] =
"Usage: lvrun [OPTIONS] IMAGE\n"
"Run IMAGE as a lightvisor guest.\n"
"\n"
"IMAGE is either an ELF64 executable or a flat real-mode binary:\n"
"  flat binary  loaded at guest-physical 0x7c00, started in real mode at\n"
"               CS:IP 0000:7c00 with SP 0x7c00 (boot-sector convention);\n"
"               default memory 2M.\n"
"  ELF64        PT_LOAD segments placed at their physical addresses (at or\n"
"               above 0x8000); started in 64-bit long mode at the ELF entry\n"
"               with identity-mapped page tables (2 MiB pages, the low\n"
"               4 GiB), CS 0x08 (64-bit code), DS/ES/SS/FS/GS 0x10, RDI =\n"
"               vCPU index, RSP = top of memory - index * 64K, interrupts\n"
"               off, no IDT; default memory 16M. lvrun uses guest-physical\n"
"               0x1000-0x7fff for the GDT, a TSS and the page tables.\n"
"\n"
"Options:\n"
"  --mem SIZE           guest memory, with optional K, M or G suffix\n"
"                       (at most 3G)\n"
"  --hugepages          back guest memory with hugetlbfs pages (MAP_HUGETLB,\n"
"                       2 MiB; reserve them first in /proc/sys/vm/nr_hugepages);\n"
"                       SIZE is rounded up to 2M. Fails if none are free.\n"
"  --thp                ask for transparent huge pages (madvise\n"
"                       MADV_HUGEPAGE, memory aligned to 2 MiB)\n"
"  --no-thp             forbid transparent huge pages (MADV_NOHUGEPAGE)\n"
"  --vcpus N            number of vCPUs, one host thread each. For ELF\n"
"                       images every vCPU starts at the entry point with\n"
"                       RDI = its index. For real-mode images only vCPU 0\n"
"                       runs; the others are created but parked (never run).\n"
"  --trace              one line per exit on stderr\n"
"  --stats              print exit counts by reason on stderr at the end\n"
"  --timeout SEC        stop the guest after SEC seconds (status 124)\n"
"  --irq-after-ms MS:VECTOR\n"
"                       inject external interrupt VECTOR (32-255, decimal\n"
"                       or 0x-hex) into vCPU 0 MS milliseconds after start\n"
"  --nmi-after-ms MS    inject an NMI into vCPU 0 after MS milliseconds\n"
"  --assign BDF         give host PCI device BDF (SEGMENT:BUS:DEV.FN, as in\n"
"                       /sys/bus/pci/devices; no host driver bound, behind\n"
"                       an IOMMU) to the guest; see PCI below\n"
"  --help               this text\n"
"\n"
"Devices:\n"
"  0x3f8-0x3ff          16550A UART; transmitted bytes go to stdout, the\n"
"                       receiver is always empty\n"
"  0xf4                 QEMU isa-debug-exit: writing V exits lvrun with\n"
"                       status (V << 1) | 1\n"
"  0xfe000000           MMIO test device, one 4 KiB page: every access\n"
"                       exits to lvrun; writes of any size (1, 2, 4, 8) are\n"
"                       stored and reads return the stored bytes (initially 0)\n"
"  0xcf8, 0xcfc-0xcff   with --assign: PCI configuration mechanism #1; a\n"
"                       host bridge at 00:00.0 (8086:1237) and the assigned\n"
"                       device at 00:01.0, everything else absent\n"
"  other ports          reads return all ones, writes are ignored\n"
"  other MMIO           reads return all ones, writes are ignored\n"
"PCI (--assign): the guest sees the device's real config space, except:\n"
"  command              memory enable, bus master and INTx disable reach the\n"
"                       device; other bits are kept but not passed on\n"
"  BARs                 virtual: sizing (writing all ones) reads back the\n"
"                       real size; while memory decoding is on, a memory BAR\n"
"                       is mapped at the address the guest wrote\n"
"                       (LV_MAP_PCI_BAR: no exits on access); I/O BARs and\n"
"                       the expansion ROM read as 0\n"
"  MSI capability       virtual: enabling it routes the device interrupt to\n"
"                       vCPU <address bits 19:12> with vector <data bits\n"
"                       7:0> (LV_SET_DEVICE_IRQ); an MSI-X capability\n"
"                       is read-only (MSI-X not supported yet)\n"
"  anything else        read-only; writes are ignored\n"
"Hypercalls that reach userspace (LV_EXIT_HYPERCALL) are logged on stderr\n"
"and return -38 (ENOSYS) to the guest.\n"
"\n"
"Exit status:\n"
"  0    every running vCPU halted with interrupts disabled\n"
"  1    lvrun error (bad option or image, failed ioctl); note that a guest\n"
"       writing 0 to port 0xf4 also gives 1, as under QEMU\n"
"  2    guest shutdown (triple fault)\n"
"  3    VM entry failed\n"
"  4    lightvisor internal error (unhandled exit)\n"
"  124  --timeout expired\n"
"  odd  (V << 1) | 1 after the guest wrote V to port 0xf4\n";

static void usage(FILE *f, int status)
{
	fputs(usage_text, f);
	exit(status);
}

void die(const char *fmt, ...)
{
	va_list ap;

	fputs("lvrun: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	lvrun_finish(LVRUN_EXIT_ERROR);
}

void die_ioctl(const char *name)
{
	die("ioctl %s failed: %s", name, strerror(errno));
}

void trace(const char *fmt, ...)
{
	va_list ap;

	if (!opts.trace)
		return;
	va_start(ap, fmt);
	/* One fprintf per line keeps lines from different vCPUs whole. */
	flockfile(stderr);
	fputs("lvrun: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

/*
 * Whichever thread first decides the run is over prints the statistics and
 * ends the process; the others block here until the process is gone.
 *
 * _exit(), not exit(): exit() runs the program's destructors while the
 * other vCPU threads still run. In a static binary one of those removes
 * the unwind tables, and a thread unwinding at that moment (or one still
 * using stdio while it is torn down) aborts the process with SIGABRT.
 * Everything lvrun must leave behind is its output: flushed here first.
 */
void lvrun_finish(int status)
{
	pthread_mutex_lock(&finish_lock);
	fflush(stdout);
	if (opts.stats)
		stats_print();
	fflush(stderr);
	_exit(status);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		die("bad size '%s'", s);
	switch (*end) {
	case 'k': case 'K':
		v <<= 10; end++; break;
	case 'm': case 'M':
		v <<= 20; end++; break;
	case 'g': case 'G':
		v <<= 30; end++; break;
	}
	if (*end)
		die("bad size '%s'", s);
	return v;
}

static long parse_num(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		die("bad %s '%s'", what, s);
	return v;
}

static void parse_irq_after(const char *arg)
{
	char buf[64];
	char *colon;

	if (strlen(arg) >= sizeof(buf))
		die("bad --irq-after-ms '%s'", arg);
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (!colon)
		die("--irq-after-ms wants MS:VECTOR");
	*colon = '\0';
	opts.irq_after_ms = parse_num(buf, "milliseconds", 0, 86400000L);
	opts.irq_vector = parse_num(colon + 1, "vector", 32, 255);
}

static void parse_options(int argc, char **argv)
{
	enum { OPT_MEM = 256, OPT_HUGEPAGES, OPT_THP, OPT_NO_THP, OPT_VCPUS,
	       OPT_TRACE, OPT_STATS, OPT_TIMEOUT, OPT_IRQ, OPT_NMI, OPT_ASSIGN,
	       OPT_HELP };
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
		{ "thp", no_argument, NULL, OPT_THP },
		{ "no-thp", no_argument, NULL, OPT_NO_THP },
		{ "vcpus", required_argument, NULL, OPT_VCPUS },
		{ "trace", no_argument, NULL, OPT_TRACE },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "irq-after-ms", required_argument, NULL, OPT_IRQ },
		{ "nmi-after-ms", required_argument, NULL, OPT_NMI },
		{ "assign", required_argument, NULL, OPT_ASSIGN },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MEM:
			opts.mem_size = parse_size(optarg);
			if (opts.mem_size < 0x100000 || opts.mem_size > (3ULL << 30) ||
			    opts.mem_size & 0xfff)
				die("--mem must be a multiple of 4K between 1M and 3G");
			break;
		case OPT_HUGEPAGES:
			opts.backing = BACKING_HUGETLB;
			break;
		case OPT_THP:
			opts.backing = BACKING_THP;
			break;
		case OPT_NO_THP:
			opts.backing = BACKING_NO_THP;
			break;
		case OPT_VCPUS:
			opts.nr_vcpus = parse_num(optarg, "vCPU count", 1, LVRUN_MAX_VCPUS);
			break;
		case OPT_TRACE:
			opts.trace = true;
			break;
		case OPT_STATS:
			opts.stats = true;
			break;
		case OPT_TIMEOUT:
			opts.timeout_sec = parse_num(optarg, "timeout", 1, 86400);
			break;
		case OPT_IRQ:
			parse_irq_after(optarg);
			break;
		case OPT_NMI:
			opts.nmi_after_ms = parse_num(optarg, "milliseconds", 0, 86400000L);
			break;
		case OPT_ASSIGN:
			opts.assign = optarg;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout, 0);
			break;
		default:
			usage(stderr, LVRUN_EXIT_ERROR);
		}
	}
	if (optind != argc - 1)
		usage(stderr, LVRUN_EXIT_ERROR);
	opts.image = argv[optind];
}

enum event_kind { EV_IRQ, EV_NMI, EV_TIMEOUT };

struct event {
	long ms;
	enum event_kind kind;
};

static void sleep_until_ms(const struct timespec *start, long ms)
{
	struct timespec t = *start;

	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

/*
 * The main thread turns into the timer thread: it fires the --irq-after-ms,
 * --nmi-after-ms and --timeout events in time order, then waits for a vCPU
 * thread to end the process.
 */
static void run_events(struct vm *vm)
{
	struct event ev[3];
	struct timespec start;
	int n = 0, i, j;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (opts.irq_after_ms >= 0)
		ev[n++] = (struct event){ opts.irq_after_ms, EV_IRQ };
	if (opts.nmi_after_ms >= 0)
		ev[n++] = (struct event){ opts.nmi_after_ms, EV_NMI };
	if (opts.timeout_sec)
		ev[n++] = (struct event){ opts.timeout_sec * 1000L, EV_TIMEOUT };

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && ev[j].ms < ev[j - 1].ms; j--) {
			struct event t = ev[j];

			ev[j] = ev[j - 1];
			ev[j - 1] = t;
		}

	for (i = 0; i < n; i++) {
		sleep_until_ms(&start, ev[i].ms);
		switch (ev[i].kind) {
		case EV_IRQ:
			trace("timer: interrupt vector 0x%x for vcpu 0", opts.irq_vector);
			vcpu_request_irq(&vm->vcpus[0], opts.irq_vector);
			break;
		case EV_NMI:
			trace("timer: NMI for vcpu 0");
			vcpu_request_nmi(&vm->vcpus[0]);
			break;
		case EV_TIMEOUT:
			timed_out = 1;
			for (j = 0; j < vm->nr_vcpus; j++)
				if (!vm->vcpus[j].parked)
					vcpu_kick(&vm->vcpus[j]);
			/*
			 * The vCPU threads report the timeout; if none does
			 * within a second (a thread stuck in the kernel), give up
			 * here.
			 */
			sleep(1);
			fprintf(stderr, "lvrun: timeout after %u s; vCPUs did not stop\n",
				opts.timeout_sec);
			lvrun_finish(LVRUN_EXIT_TIMEOUT);
		}
	}
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	struct vm *vm = &the_vm;

	parse_options(argc, argv);
	vcpu_install_kick_handler();
	vm_open(vm);
	vm_load_image(vm, opts.image);
	vm_create_vcpus(vm);
	assign_device(vm);
	vcpu_start_all(vm);
	run_events(vm);
	return 0;
}
