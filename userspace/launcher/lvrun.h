/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the VM and its vCPUs.
 */
#ifndef LVRUN_H
#define LVRUN_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "board/board.h"
#include "bus.h"
#include "devices/devices.h"
#include "hv/hv.h"
#include "loaders/loader.h"
#include "options.h"

/* Signal used to kick vCPU threads out of the hypervisor's run call. */
#define LVRUN_KICK_SIGNAL	SIGUSR1

struct vm;

struct vcpu {
	struct hv_vcpu hv;
	struct vm *vm;
	pthread_t thread;
	bool parked;		/* never entered: see --help */
	bool halted;		/* halted for good with interrupts off */

	/* Events another thread asks this vCPU to queue before its next entry. */
	int pending_irq;	/* vector, or -1 */
	bool pending_nmi;
	pthread_mutex_t lock;
};

/* Every device of the board, each with its state in its own struct. */
struct board_devices {
	struct uart16550 com1;
	struct debug_exit debug_exit;
	struct mmio_testdev testdev;
	struct reset_ctl reset;
	struct acpi_pm pm;
	struct legacy_ports legacy;
	struct rtc rtc;
	struct pci_host pci;
	struct guest_mark mark;
};

struct vm {
	struct hv hv;
	struct guest_mem mem;
	enum image_kind kind;
	struct boot_entry entry;
	int nr_vcpus;
	struct vcpu vcpus[LVRUN_MAX_VCPUS];
	struct bus pio;
	struct bus mmio;
	struct board_devices dev;
};

/* vm.c */
void vm_create(struct vm *vm);
void vm_create_devices(struct vm *vm);

/* vcpu.c */
void vcpu_install_kick_handler(void);
void vcpu_start_all(struct vm *vm);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_request_irq(struct vcpu *vcpu, int vector);
void vcpu_request_nmi(struct vcpu *vcpu);
/* Makes every vCPU thread end the run with LVRUN_EXIT_TIMEOUT. */
void vcpu_stop_all_timeout(struct vm *vm);
void vcpu_stats_at_exit(void);

/* assign.c */
void assign_device(struct vm *vm);

/* console.c */
void console_setup(void);

#endif /* LVRUN_H */
