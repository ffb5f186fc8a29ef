// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the command line and --help.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/lightvisor.h>

#include "layout.h"
#include "log.h"
#include "options.h"
#include "size.h"

#define OPTIONS_DEFAULT {			\
	.hv = HV_LIGHTVISOR,			\
	.nr_vcpus = 1,				\
	.irq_after_ms = -1,			\
	.nmi_after_ms = -1,			\
	.pool_listen_fd = -1,			\
	.pool_notify_fd = -1,			\
}

struct options opts = OPTIONS_DEFAULT;

static const char usage_text[] =
"Usage: lvrun [OPTIONS] IMAGE\n"
"       lvrun [OPTIONS] --restore FILE\n"
"       lvrun [OPTIONS] --fork-from FILE [--count N] [--fork-out PREFIX]\n"
"       lvrun [OPTIONS] --incoming ADDRESS\n"
"Run IMAGE as a guest of lightvisor (or of KVM, with --hv kvm).\n"
"\n"
"IMAGE is recognised by its contents:\n"
"  Linux bzImage  (\"HdrS\" at 0x202, boot protocol 2.12 or later) booted\n"
"               through the 64-bit boot protocol: the protected-mode kernel\n"
"               at pref_address (or, if relocatable, the lowest suitably\n"
"               aligned address from 16 MiB that fits), a zero page at\n"
"               0x8000 with an e820 map, --cmdline at 0x20000, --initrd\n"
"               at the top of RAM below initrd_addr_max, entry at load\n"
"               address + 0x200 in 64-bit mode with RSI = zero page and the\n"
"               low 4 GiB identity mapped; default memory 256M.\n"
"  Linux vmlinux  (ELF64 whose segments are linked at virtual addresses\n"
"               other than their physical ones, or with a PVH note):\n"
"               segments at their physical addresses; with the\n"
"               XEN_ELFNOTE_PHYS32_ENTRY note, the PVH entry (32-bit\n"
"               protected mode, paging off, EBX = struct hvm_start_info at\n"
"               0x8000, --initrd as module 0), otherwise the 64-bit entry\n"
"               as for a bzImage; default memory 256M.\n"
"  multiboot    (header magic 0x1badb002 in the first 8 KiB; ELF32, or any\n"
"               file whose header has the address fields, flag 16) loaded\n"
"               as QEMU's -kernel does; entry in 32-bit protected mode,\n"
"               paging off, EAX = 0x2badb002, EBX = the multiboot info at\n"
"               0x8000 (memory sizes, --cmdline, every --initrd as a module\n"
"               whose string is its file name, the memory map);\n"
"               default memory 128M.\n"
"  ELF64        (any other x86-64 ELF executable) PT_LOAD segments placed\n"
"               at their physical addresses (at or above 0x100000);\n"
"               started in 64-bit long mode at the ELF entry with\n"
"               identity-mapped page tables (2 MiB pages, the low 4 GiB),\n"
"               CS 0x08 (64-bit code), DS/ES/SS/FS/GS 0x10, RDI = vCPU\n"
"               index, RSP = top of memory - index * 64K, interrupts off,\n"
"               no IDT; default memory 16M.\n"
"  flat binary  (anything else) loaded at guest-physical 0x7c00, started in\n"
"               real mode at CS:IP 0000:7c00 with SP 0x7c00 (boot-sector\n"
"               convention); default memory 2M.\n"
"lvrun uses guest-physical 0x1000-0x7fff for the GDT, a TSS and the page\n"
"tables; for Linux and multiboot kernels also up to 0x2ffff for boot\n"
"information and the command line, and 0xe0000-0xeffff for ACPI tables.\n"
"\n"
"Options:\n"
"  --hv lightvisor|kvm  the hypervisor (default lightvisor). Linux and\n"
"                       multiboot kernels get the hypervisor's in-kernel\n"
"                       local APICs, I/O APIC, PICs and PIT\n"
"                       (LV_CREATE_IRQCHIP, or KVM_CREATE_IRQCHIP and\n"
"                       KVM_CREATE_PIT2); lvrun's ELF64 and real-mode guests\n"
"                       get none unless --irqchip is given\n"
"  --mem SIZE           guest memory, with optional K, M or G suffix\n"
"                       (at most 3G)\n"
"  --cmdline STRING     kernel command line (Linux, multiboot)\n"
"  --initrd FILE        Linux: the initrd; multiboot: one module, repeatable\n"
"                       (at most 16)\n"
"  --hugepages          back guest memory with hugetlbfs pages (MAP_HUGETLB,\n"
"                       2 MiB; reserve them first in /proc/sys/vm/nr_hugepages);\n"
"                       SIZE is rounded up to 2M. Fails if none are free.\n"
"  --thp                ask for transparent huge pages (madvise\n"
"                       MADV_HUGEPAGE, memory aligned to 2 MiB)\n"
"  --no-thp             forbid transparent huge pages (MADV_NOHUGEPAGE)\n"
"  --vcpus N            number of vCPUs, one host thread each. For ELF64\n"
"                       images every vCPU starts at the entry point with\n"
"                       RDI = its index (with --irqchip the others wait for\n"
"                       INIT-SIPI instead). For Linux and multiboot images\n"
"                       the others wait for the guest's INIT-SIPI-SIPI.\n"
"                       For real-mode images only vCPU 0 runs; the others\n"
"                       are created but parked (never run).\n"
"  --irqchip            the in-kernel interrupt controllers for lvrun's\n"
"                       ELF64 and real-mode guests too (kernels always get\n"
"                       them); a halt with interrupts off still ends the run\n"
"                       under lightvisor, but not under --hv kvm, where it\n"
"                       stays in KVM. Not with --irq-after-ms (external\n"
"                       interrupts then come from the controllers' lines)\n"
"  --trace              one line per exit on stderr\n"
"  --stats              print exit counts by reason on stderr at the end\n"
"  --timeout SEC        stop the guest after SEC seconds (status 124)\n"
"  --irq-after-ms MS:VECTOR\n"
"                       inject external interrupt VECTOR (32-255, decimal\n"
"                       or 0x-hex) into vCPU 0 MS milliseconds after start\n"
"  --nmi-after-ms MS    inject an NMI into vCPU 0 after MS milliseconds\n"
"  --assign BDF         give host PCI device BDF (SEGMENT:BUS:DEV.FN, as in\n"
"                       /sys/bus/pci/devices; no host driver bound, behind\n"
"                       an IOMMU) to the guest; see PCI below (lightvisor\n"
"                       only)\n"
"  --restore FILE       continue the VM saved in snapshot FILE (lvctl save)\n"
"                       instead of starting an image: its vCPUs, interrupt\n"
"                       controllers, devices and memory (mapped copy-on-write\n"
"                       from FILE, read as the guest touches it). A bad,\n"
"                       truncated or foreign snapshot, or one whose guest may\n"
"                       use CPU features this host lacks, is refused before\n"
"                       anything runs (lightvisor only)\n"
"  --fork-from FILE     start --count N (default 1, at most 64) children,\n"
"                       each a separate lvrun process restored from FILE,\n"
"                       all sharing its memory copy-on-write; child K's\n"
"                       console goes to PREFIX.K with --fork-out PREFIX\n"
"                       (else to stdout), its control socket is PATH.K with\n"
"                       --control PATH. lvrun exits once every child has,\n"
"                       with their status if they agree, else 1\n"
"  --incoming ADDRESS   wait on ADDRESS (unix:PATH, or tcp:HOST:PORT with\n"
"                       HOST an IPv4 or IPv6 address) for one VM that\n"
"                       another lvrun sends (lvctl PATH migrate ADDRESS)\n"
"                       and run it. A source whose stream version, memory\n"
"                       size (with --mem, it must match) or CPU features\n"
"                       do not fit this lvrun is refused, and lvrun exits\n"
"                       with status 1; so it does if the stream breaks\n"
"                       before the guest runs here (lightvisor only)\n"
"  --control PATH       listen on a UNIX stream socket at PATH for control\n"
"                       commands (pause, resume, status, save, reset,\n"
"                       fork, migrate; see lvctl(1)); an existing PATH is\n"
"                       refused unless it is a socket no one listens on\n"
"                       (left by a killed lvrun). PATH is removed when\n"
"                       lvrun exits\n"
"  --pool PATH          run IMAGE in a prepared lvrun of lvd(1) listening at\n"
"                       PATH: one that has already created its VM, vCPUs,\n"
"                       interrupt controllers (lvd --irqchip) and guest\n"
"                       memory. This lvrun hands it its options, stdin,\n"
"                       stdout, stderr and working directory, waits, and\n"
"                       exits with the guest's status; SIGINT, SIGTERM,\n"
"                       SIGHUP or SIGQUIT to it end the guest. --vcpus,\n"
"                       the memory size (--mem, or the image's default)\n"
"                       and whether the image gets interrupt controllers\n"
"                       must be what lvd prepared (lvd --vcpus, --mem,\n"
"                       --irqchip), else lvrun refuses and says which;\n"
"                       not with --hugepages, --thp or --no-thp. An absent\n"
"                       or dead lvd is an error (lightvisor only)\n"
"  --pool-vm PATH       take only the VM from lvd --shells at PATH, created\n"
"                       with its vCPUs (and interrupt controllers), bind it\n"
"                       and do the rest here (lightvisor only)\n"
"  --pool-prepared LISTEN_FD,NOTIFY_FD\n"
"                       how lvd starts a prepared lvrun; not for users\n"
"  --pause-clock guest|wall\n"
"                       what the guest's clocks do while paused: guest\n"
"                       (default) stops them, so on resume the TSC and\n"
"                       the RTC go on from where they stopped; wall lets\n"
"                       them run, so they jump by the paused time\n"
"  --disk FILE[,ro]     a virtio-blk disk backed by the raw FILE (size\n"
"                       rounded down to 512-byte sectors); ,ro opens it\n"
"                       read-only and the guest's writes fail. Repeatable,\n"
"                       one virtio-mmio slot each (see Devices)\n"
"  --console 16550|virtio\n"
"                       where stdin goes: the 16550 on COM1 (default), or\n"
"                       a virtio-console (the guest's hvc0) whose output\n"
"                       also goes to stdout; the 16550 still transmits\n"
"  --net tap=NAME[,mac=xx:xx:xx:xx:xx:xx]\n"
"                       a virtio-net device on the host's tap interface\n"
"                       NAME (created if missing, which needs\n"
"                       CAP_NET_ADMIN); the guest's MAC is MAC, by default\n"
"                       02:4c:56:00:00:01. One virtio-mmio slot; at most one\n"
"  --virtio-notify kernel|exit\n"
"                       kernel (default): a virtio QueueNotify signals the\n"
"                       back-end from inside the hypervisor (ioeventfd)\n"
"                       and the back-end interrupts through an irqfd,\n"
"                       where the hypervisor offers them; exit: both go\n"
"                       through lvrun (a VM exit per notification)\n"
"  --help               this text\n"
"  --version            print lvrun's version and the lightvisor API version\n"
"                       it was built for\n"
"\n"
"Devices (guest-physical and port map: userspace/launcher/layout.h):\n"
"  0x3f8-0x3ff          16550A UART on IRQ 4; transmitted bytes go to\n"
"                       stdout, bytes read from stdin are received (a tty on\n"
"                       stdin is put in raw mode and restored on exit;\n"
"                       Ctrl-C still ends lvrun)\n"
"  0xf4                 QEMU isa-debug-exit: writing V exits lvrun with\n"
"                       status (V << 1) | 1\n"
"  0x5f0                boot marker: writing V prints \"lvrun: guest mark V\"\n"
"                       with the time and TSC ticks since lvrun started\n"
"  0x505                pvpanic (ACPI QEMU0001): writing 1 reports a panic\n"
"  0x600, 0x601         ACPI sleep control and status (hardware-reduced\n"
"                       FADT): S5 powers off\n"
"  0x64, 0xcf9, 0x92    reset: keyboard controller command 0xfe, reset\n"
"                       control bit 2, fast-reset bit 0 (A20 in bit 1\n"
"                       reads back as set)\n"
"  0x70, 0x71           CMOS/RTC (MC146818): time and date from the host's\n"
"                       clock (UTC) at start, BCD or binary, 24 or 12 hour,\n"
"                       settable; periodic, alarm and update-ended\n"
"                       interrupts on IRQ 8 (with the in-kernel interrupt\n"
"                       controllers); memory sizes at 0x15-0x18, 0x30-0x31,\n"
"                       0x34-0x35, 0x5b-0x5d as a PC BIOS leaves them\n"
"  0x20, 0xa0, 0x40-0x43, 0x61, 0x80, 0xed, ...\n"
"                       legacy ports Linux probes: harmless answers\n"
"                       (with the in-kernel interrupt controllers, the PICs\n"
"                       and the PIT are the hypervisor's own)\n"
"  0xfe000000           MMIO test device, one 4 KiB page: every access\n"
"                       exits to lvrun; writes of any size (1, 2, 4, 8) are\n"
"                       stored and reads return the stored bytes (initially 0)\n"
"  0xfe800000-0xfe805fff\n"
"                       six virtio-mmio slots (virtio 1.x, MMIO version 2),\n"
"                       one 4 KiB page each on IRQ 5, 6, 7, 10, 11, 15:\n"
"                       --disk devices in order, then --console virtio,\n"
"                       then --net; an empty slot reads DeviceID 0. The\n"
"                       DSDT names each device (LNRO0005, its page and\n"
"                       line), so Linux's virtio_mmio driver finds it. A\n"
"                       front-end breaking the rules gets\n"
"                       DEVICE_NEEDS_RESET and a message\n"
"  0xcf8, 0xcfc-0xcff   PCI configuration mechanism #1: a host bridge at\n"
"                       00:00.0 (8086:1237), with --assign the device at\n"
"                       00:01.0, everything else absent\n"
"  other ports          reads return all ones, writes are ignored\n"
"  other MMIO           reads return all ones, writes are ignored\n"
"Linux and multiboot guests get an e820 map with a PC's holes (RAM below\n"
"0x9fc00 and from 1 MiB, reserved 0x9fc00-0xfffff) and ACPI tables (RSDP at\n"
"0xe0000, XSDT, MADT with one local APIC per vCPU and the I/O APIC at\n"
"0xfec00000, hardware-reduced FADT, DSDT with _S5 and pvpanic).\n"
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
"  4    hypervisor internal error (unhandled exit)\n"
"  6    guest power-off (ACPI S5)\n"
"  8    guest reboot (reset through 0x64, 0xcf9 or 0x92)\n"
"  10   guest panic (reported through pvpanic)\n"
"  12   the guest migrated away (lvctl migrate): the target runs it\n"
"  14   lvctl migrate lost the stream after its GO: the target may run the\n"
"       guest or not, which this lvrun cannot tell; it kept it paused\n"
"  124  --timeout expired\n"
"  odd  (V << 1) | 1 after the guest wrote V to port 0xf4\n";

static void usage(FILE *f, int status)
{
	fputs(usage_text, f);
	exit(status);
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

static enum pause_clock parse_pause_clock(const char *s)
{
	if (!strcmp(s, "guest"))
		return PAUSE_CLOCK_GUEST;
	if (!strcmp(s, "wall"))
		return PAUSE_CLOCK_WALL;
	die("--pause-clock wants guest or wall, got '%s'", s);
}

/* FILE or FILE,ro. */
static void parse_disk(const char *arg)
{
	struct disk_option *d;
	size_t len = strlen(arg);
	char *path;

	if (opts.nr_disks == LVRUN_MAX_DISKS)
		die("at most %d --disk", LVRUN_MAX_DISKS);
	d = &opts.disk[opts.nr_disks++];
	if (len > 3 && !strcmp(arg + len - 3, ",ro")) {
		d->ro = true;
		len -= 3;
	}
	path = strndup(arg, len);
	if (!path)
		die("out of memory");
	if (!*path)
		die("--disk wants FILE[,ro]");
	d->path = path;
}

/* The default MAC: locally administered, unicast ("LV" in it). */
static const uint8_t default_mac[6] = { 0x02, 0x4c, 0x56, 0x00, 0x00, 0x01 };

/* xx:xx:xx:xx:xx:xx, unicast and not all zero. */
static void parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6], i;
	int end = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6 || end != 17 || s[end])
		die("--net mac= wants xx:xx:xx:xx:xx:xx, got '%s'", s);
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	if (mac[0] & 1 || !(b[0] | b[1] | b[2] | b[3] | b[4] | b[5]))
		die("--net mac=%s: not a unicast address", s);
}

/* tap=NAME[,mac=MAC] */
static void parse_net(const char *arg)
{
	char *copy = strdup(arg), *word, *save = NULL;

	if (!copy)
		die("out of memory");
	if (opts.net.tap)
		die("at most one --net");
	memcpy(opts.net.mac, default_mac, sizeof(default_mac));
	for (word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
		if (!strncmp(word, "tap=", 4) && word[4])
			opts.net.tap = word + 4;
		else if (!strncmp(word, "mac=", 4))
			parse_mac(word + 4, opts.net.mac);
		else
			die("--net wants tap=NAME[,mac=xx:xx:xx:xx:xx:xx], got '%s'", arg);
	}
	if (!opts.net.tap)
		die("--net wants tap=NAME[,mac=xx:xx:xx:xx:xx:xx], got '%s'", arg);
}

static enum console_kind parse_console(const char *s)
{
	if (!strcmp(s, "16550") || !strcmp(s, "serial"))
		return CONSOLE_16550;
	if (!strcmp(s, "virtio"))
		return CONSOLE_VIRTIO;
	die("--console wants 16550 or virtio, got '%s'", s);
}

static enum virtio_notify parse_virtio_notify(const char *s)
{
	if (!strcmp(s, "kernel"))
		return VIRTIO_NOTIFY_KERNEL;
	if (!strcmp(s, "exit"))
		return VIRTIO_NOTIFY_EXIT;
	die("--virtio-notify wants kernel or exit, got '%s'", s);
}

static enum hypervisor parse_hv(const char *s)
{
	if (!strcmp(s, "lightvisor") || !strcmp(s, "lv"))
		return HV_LIGHTVISOR;
	if (!strcmp(s, "kvm"))
		return HV_KVM;
	die("--hv wants lightvisor or kvm, got '%s'", s);
}

/* LISTEN_FD,NOTIFY_FD of --pool-prepared (given by lvd, see options.h). */
static void parse_pool_prepared(const char *arg)
{
	char *end;
	long l, n;

	errno = 0;
	l = strtol(arg, &end, 10);
	if (errno || end == arg || *end != ',' || l < 3)
		die("--pool-prepared wants LISTEN_FD,NOTIFY_FD (lvd starts lvrun so)");
	arg = end + 1;
	n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 3 || n == l)
		die("--pool-prepared wants LISTEN_FD,NOTIFY_FD (lvd starts lvrun so)");
	opts.pool_listen_fd = l;
	opts.pool_notify_fd = n;
}

/*
 * A prepared lvrun is told only what it prepares: the vCPUs, the
 * interrupt controllers and the memory; its client brings the rest.
 */
static void check_pool_prepared(int argc)
{
	if (optind != argc)
		die("--pool-prepared takes no IMAGE: the client sends it");
	if (!opts.mem_size)
		die("--pool-prepared needs --mem");
	if (opts.hv != HV_LIGHTVISOR || opts.pool_any || opts.restore ||
	    opts.incoming || opts.control || opts.cmdline || opts.nr_initrds ||
	    opts.assign || opts.nr_disks || opts.net.tap ||
	    opts.backing != BACKING_DEFAULT)
		die("--pool-prepared takes only --vcpus, --irqchip, --mem and --trace");
}

void reparse_options(int argc, char **argv)
{
	opts = (struct options)OPTIONS_DEFAULT;
	log_trace_on = false;
	optind = 0;	/* glibc: start over, forgetting the last scan */
	parse_options(argc, argv);
}

void parse_options(int argc, char **argv)
{
	enum { OPT_MEM = 256, OPT_HUGEPAGES, OPT_THP, OPT_NO_THP, OPT_VCPUS,
	       OPT_TRACE, OPT_STATS, OPT_TIMEOUT, OPT_IRQ, OPT_NMI, OPT_ASSIGN,
	       OPT_HV, OPT_CMDLINE, OPT_INITRD, OPT_IRQCHIP, OPT_HELP,
	       OPT_VERSION, OPT_RESTORE, OPT_CONTROL, OPT_PAUSE_CLOCK, OPT_DISK,
	       OPT_CONSOLE, OPT_NET, OPT_VIRTIO_NOTIFY, OPT_FORK_FROM, OPT_COUNT,
	       OPT_FORK_OUT, OPT_POOL, OPT_INCOMING, OPT_POOL_VM,
	       OPT_POOL_PREPARED };
	static const struct option longopts[] = {
		{ "hv", required_argument, NULL, OPT_HV },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
		{ "thp", no_argument, NULL, OPT_THP },
		{ "no-thp", no_argument, NULL, OPT_NO_THP },
		{ "vcpus", required_argument, NULL, OPT_VCPUS },
		{ "irqchip", no_argument, NULL, OPT_IRQCHIP },
		{ "trace", no_argument, NULL, OPT_TRACE },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "irq-after-ms", required_argument, NULL, OPT_IRQ },
		{ "nmi-after-ms", required_argument, NULL, OPT_NMI },
		{ "assign", required_argument, NULL, OPT_ASSIGN },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "fork-from", required_argument, NULL, OPT_FORK_FROM },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "fork-out", required_argument, NULL, OPT_FORK_OUT },
		{ "incoming", required_argument, NULL, OPT_INCOMING },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "pool", required_argument, NULL, OPT_POOL },
		{ "pool-vm", required_argument, NULL, OPT_POOL_VM },
		{ "pool-prepared", required_argument, NULL, OPT_POOL_PREPARED },
		{ "pause-clock", required_argument, NULL, OPT_PAUSE_CLOCK },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "net", required_argument, NULL, OPT_NET },
		{ "virtio-notify", required_argument, NULL, OPT_VIRTIO_NOTIFY },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_HV:
			opts.hv = parse_hv(optarg);
			break;
		case OPT_MEM:
			if (parse_size(optarg, &opts.mem_size) ||
			    !guest_mem_size_ok(opts.mem_size))
				die("--mem %s: want a multiple of 4K between 1M and 3G", optarg);
			break;
		case OPT_CMDLINE:
			opts.cmdline = optarg;
			break;
		case OPT_INITRD:
			if (opts.nr_initrds == LVRUN_MAX_INITRDS)
				die("at most %d --initrd", LVRUN_MAX_INITRDS);
			opts.initrd[opts.nr_initrds++] = optarg;
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
		case OPT_IRQCHIP:
			opts.irqchip = true;
			break;
		case OPT_TRACE:
			opts.trace = true;
			log_trace_on = true;
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
		case OPT_RESTORE:
			opts.restore = optarg;
			break;
		case OPT_FORK_FROM:
			opts.fork_from = optarg;
			break;
		case OPT_COUNT:
			opts.fork_count = parse_num(optarg, "child count", 1,
						    LVRUN_MAX_FORKS);
			break;
		case OPT_FORK_OUT:
			opts.fork_out = optarg;
			break;
		case OPT_INCOMING:
			opts.incoming = optarg;
			break;
		case OPT_CONTROL:
			opts.control = optarg;
			break;
		case OPT_POOL:
			opts.pool = optarg;
			break;
		case OPT_POOL_VM:
			opts.pool_vm = optarg;
			break;
		case OPT_POOL_PREPARED:
			parse_pool_prepared(optarg);
			break;
		case OPT_PAUSE_CLOCK:
			opts.pause_clock = parse_pause_clock(optarg);
			break;
		case OPT_DISK:
			parse_disk(optarg);
			break;
		case OPT_CONSOLE:
			opts.console = parse_console(optarg);
			break;
		case OPT_NET:
			parse_net(optarg);
			break;
		case OPT_VIRTIO_NOTIFY:
			opts.virtio_notify = parse_virtio_notify(optarg);
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout, 0);
			break;
		case OPT_VERSION:
			printf("lvrun (lightvisor) %s, API version %d\n",
			       LV_VERSION, LV_API_VERSION);
			exit(0);
		default:
			usage(stderr, LVRUN_EXIT_ERROR);
		}
	}
	if ((opts.fork_count || opts.fork_out) && !opts.fork_from)
		die("--count and --fork-out go with --fork-from");
	if (opts.fork_from) {
		if (opts.restore)
			die("--fork-from and --restore: one or the other");
		opts.restore = opts.fork_from;
		if (!opts.fork_count)
			opts.fork_count = 1;
	}
	if (opts.pool && opts.pool_vm)
		die("--pool and --pool-vm: one or the other");
	opts.pool_any = opts.pool ? opts.pool : opts.pool_vm;
	if (opts.pool_listen_fd >= 0) {
		check_pool_prepared(argc);
		return;
	}
	if (opts.pool_any && opts.restore)
		die("--pool starts a new guest: not with --restore or --fork-from");
	if (opts.incoming) {
		/* The source says what the machine is; --mem must agree. */
		if (opts.restore)
			die("--incoming and --restore or --fork-from: one or the other");
		if (opts.pool_any)
			die("--incoming takes its VM from the source: not with --pool");
		if (optind != argc)
			die("--incoming takes no IMAGE: the source sends the guest");
		if (opts.hv != HV_LIGHTVISOR || opts.nr_vcpus != 1 || opts.cmdline ||
		    opts.nr_initrds || opts.assign || opts.irqchip || opts.nr_disks ||
		    opts.console == CONSOLE_VIRTIO || opts.net.tap)
			die("--incoming takes the machine from the source: not with --hv kvm, --vcpus, --cmdline, --initrd, --assign, --irqchip, --disk, --console virtio or --net");
		return;
	}
	if (opts.restore) {
		/* The snapshot says what the machine is. */
		if (optind != argc)
			die("--restore takes no IMAGE: the snapshot has the guest");
		if (opts.mem_size || opts.nr_vcpus != 1 || opts.cmdline ||
		    opts.nr_initrds || opts.assign || opts.irqchip || opts.nr_disks ||
		    opts.console == CONSOLE_VIRTIO || opts.net.tap)
			die("--restore takes the machine from the snapshot: not with --mem, --vcpus, --cmdline, --initrd, --assign, --irqchip, --disk, --console virtio or --net");
		return;
	}
	if (optind != argc - 1)
		usage(stderr, LVRUN_EXIT_ERROR);
	opts.image = argv[optind];
	if (opts.assign && opts.hv != HV_LIGHTVISOR)
		die("--assign needs --hv lightvisor");
	if (opts.pool_any && opts.hv != HV_LIGHTVISOR)
		die("--pool needs --hv lightvisor (lvd prepares lightvisor VMs)");
	if (opts.pool && opts.backing != BACKING_DEFAULT)
		die("--pool: lvd prepared the guest memory with the host's default backing: not with --hugepages, --thp or --no-thp");
	if (opts.nr_disks + (opts.console == CONSOLE_VIRTIO) + !!opts.net.tap >
	    VIRTIO_MMIO_SLOTS)
		die("%d virtio-mmio slots: --disk, --console virtio and --net take one each",
		    VIRTIO_MMIO_SLOTS);
	if (opts.irqchip && opts.irq_after_ms >= 0)
		die("--irq-after-ms injects without an interrupt controller: not with --irqchip");
}
