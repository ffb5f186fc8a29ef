/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the command line. A leaf: parse_options() fills struct options
 * and everything else only reads it.
 */
#ifndef LVRUN_OPTIONS_H
#define LVRUN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define LVRUN_MAX_VCPUS		64
#define LVRUN_MAX_INITRDS	16
#define LVRUN_MAX_DISKS		6	/* VIRTIO_MMIO_SLOTS */
#define LVRUN_MAX_FORKS		64	/* --count */

/* How guest memory is backed. */
enum backing {
	BACKING_DEFAULT,	/* anonymous memory, the host's THP policy */
	BACKING_THP,		/* MADV_HUGEPAGE, 2 MiB aligned */
	BACKING_NO_THP,		/* MADV_NOHUGEPAGE: 4 KiB pages only */
	BACKING_HUGETLB,	/* MAP_HUGETLB, 2 MiB hugetlbfs pages */
};

enum hypervisor {
	HV_LIGHTVISOR,
	HV_KVM,
};

/* What the guest's clocks do while the control socket pauses it. */
enum pause_clock {
	PAUSE_CLOCK_GUEST,	/* they stop: the pause is invisible */
	PAUSE_CLOCK_WALL,	/* they run on: they jump on resume */
};

/* Which device the guest's console input (lvrun's stdin) goes to. */
enum console_kind {
	CONSOLE_16550,		/* COM1 */
	CONSOLE_VIRTIO,		/* a virtio-console: the guest's hvc0 */
};

/* How virtio notifications and interrupts travel. */
enum virtio_notify {
	VIRTIO_NOTIFY_KERNEL,	/* ioeventfd and irqfd where the hv has them */
	VIRTIO_NOTIFY_EXIT,	/* every QueueNotify exits to lvrun */
};

struct disk_option {
	const char *path;
	bool ro;
};

/* --net tap=NAME[,mac=MAC]: NULL tap if not given. */
struct net_option {
	const char *tap;
	uint8_t mac[6];
};

struct options {
	enum hypervisor hv;
	uint64_t mem_size;	/* 0: pick the default for the image type */
	enum backing backing;
	int nr_vcpus;
	bool irqchip;		/* --irqchip: also for ELF64 and real mode */
	bool trace;
	bool stats;
	unsigned int timeout_sec;
	long irq_after_ms;	/* < 0: not requested */
	unsigned int irq_vector;
	long nmi_after_ms;	/* < 0: not requested */
	const char *image;	/* NULL with --restore */
	const char *restore;	/* --restore FILE (or --fork-from FILE), or NULL */
	const char *fork_from;	/* --fork-from FILE, or NULL */
	int fork_count;		/* --count N children of --fork-from */
	const char *fork_out;	/* --fork-out PREFIX: child K's console in PREFIX.K */
	const char *assign;	/* --assign BDF, or NULL */
	const char *cmdline;	/* --cmdline, or NULL */
	const char *control;	/* --control PATH, or NULL */
	const char *pool;	/* --pool PATH (lvd's socket), or NULL */
	const char *pool_vm;	/* --pool-vm PATH (lvd --shells), or NULL */
	const char *pool_any;	/* the one of --pool and --pool-vm given */
	/*
	 * --pool-prepared LISTEN_FD,NOTIFY_FD: lvd started this lvrun to
	 * prepare a VM (--vcpus, --irqchip, --mem) and serve one client
	 * (pool/serve.c); -1 otherwise.
	 */
	int pool_listen_fd;
	int pool_notify_fd;
	const char *incoming;	/* --incoming ADDRESS, or NULL */
	enum pause_clock pause_clock;
	const char *initrd[LVRUN_MAX_INITRDS];
	int nr_initrds;
	struct disk_option disk[LVRUN_MAX_DISKS];	/* --disk, in order */
	int nr_disks;
	enum console_kind console;
	struct net_option net;
	enum virtio_notify virtio_notify;
};

extern struct options opts;

void parse_options(int argc, char **argv);
/*
 * Back to the defaults, then @argv parsed as parse_options() does: a
 * prepared lvrun takes its client's command line this way.
 */
void reparse_options(int argc, char **argv);

#endif /* LVRUN_OPTIONS_H */
