/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: a minimal launcher for lightvisor guests.
 */
#ifndef LVRUN_H
#define LVRUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>

#include <linux/lightvisor.h>

#define LVRUN_MAX_VCPUS		64

/* Exit statuses of lvrun itself; debug-exit statuses are (v << 1) | 1. */
#define LVRUN_EXIT_HALT		0
#define LVRUN_EXIT_ERROR	1
#define LVRUN_EXIT_SHUTDOWN	2
#define LVRUN_EXIT_FAIL_ENTRY	3
#define LVRUN_EXIT_INTERNAL	4
#define LVRUN_EXIT_TIMEOUT	124

/* Signal used to kick vCPU threads out of LV_RUN. */
#define LVRUN_KICK_SIGNAL	SIGUSR1

/* Guest-physical layout of what lvrun itself puts in guest memory. */
#define REALMODE_LOAD_ADDR	0x7c00ULL
#define LM_GDT_ADDR		0x1000ULL
#define LM_TSS_ADDR		0x1800ULL
#define LM_PML4_ADDR		0x2000ULL
#define LM_PDPT_ADDR		0x3000ULL
#define LM_PD_ADDR		0x4000ULL	/* four pages: 4 GiB */
#define LM_RESERVED_START	0x1000ULL
#define LM_RESERVED_END		0x8000ULL
#define LM_STACK_PER_VCPU	0x10000ULL

#define MMIO_TESTDEV_BASE	0xfe000000ULL
#define MMIO_TESTDEV_SIZE	0x1000ULL

#define UART_BASE		0x3f8
#define DEBUG_EXIT_PORT		0xf4

/* How guest memory is backed. */
enum backing {
	BACKING_DEFAULT,	/* anonymous memory, the host's THP policy */
	BACKING_THP,		/* MADV_HUGEPAGE, 2 MiB aligned */
	BACKING_NO_THP,		/* MADV_NOHUGEPAGE: 4 KiB pages only */
	BACKING_HUGETLB,	/* MAP_HUGETLB, 2 MiB hugetlbfs pages */
};

struct options {
	uint64_t mem_size;	/* 0: pick the default for the image type */
	enum backing backing;
	int nr_vcpus;
	bool irqchip;
	bool trace;
	bool stats;
	unsigned int timeout_sec;
	long irq_after_ms;	/* < 0: not requested */
	unsigned int irq_vector;
	long nmi_after_ms;	/* < 0: not requested */
	const char *image;
	const char *assign;	/* --assign BDF, or NULL */
};

enum image_kind {
	IMAGE_REALMODE,
	IMAGE_ELF64,
};

struct vcpu {
	int id;
	int fd;
	struct lv_run *run;
	pthread_t thread;
	bool parked;		/* never entered: see --help */

	/* Events another thread asks this vCPU to queue before its next entry. */
	int pending_irq;	/* vector, or -1 */
	bool pending_nmi;
	pthread_mutex_t lock;
};

struct vm {
	int sys_fd;
	int vm_fd;
	size_t run_size;
	uint8_t *mem;
	uint64_t mem_size;
	enum image_kind kind;
	uint64_t entry;
	int nr_vcpus;
	struct vcpu vcpus[LVRUN_MAX_VCPUS];
};

extern struct options opts;
extern volatile sig_atomic_t timed_out;

/* main.c */
void lvrun_finish(int status) __attribute__((noreturn));
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void die_ioctl(const char *name) __attribute__((noreturn));
void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* vm.c */
void vm_open(struct vm *vm);
void vm_load_image(struct vm *vm, const char *path);
void vm_create_vcpus(struct vm *vm);

/* vcpu.c */
void vcpu_install_kick_handler(void);
void vcpu_start_all(struct vm *vm);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_request_irq(struct vcpu *vcpu, int vector);
void vcpu_request_nmi(struct vcpu *vcpu);
void stats_print(void);

/* uart.c */
bool uart_io(uint16_t port, bool is_write, unsigned int size, uint32_t *val);

/* debugexit.c */
bool debug_exit_io(uint16_t port, bool is_write, unsigned int size, uint32_t *val);

/* assign.c */
void assign_device(struct vm *vm);
bool pci_io(uint16_t port, bool is_write, unsigned int size, uint32_t *val);

/* mmiodev.c */
bool mmio_testdev_access(uint64_t gpa, bool is_write, unsigned int len, uint8_t *data);

#endif /* LVRUN_H */
