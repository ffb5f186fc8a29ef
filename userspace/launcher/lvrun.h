/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the VM and its vCPUs.
 */
#ifndef LVRUN_H
#define LVRUN_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "board/board.h"
#include "bus.h"
#include "devices/devices.h"
#include "hv/hv.h"
#include "loaders/loader.h"
#include "options.h"
#include "pool/shape.h"
#include "virtio/virtio.h"

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
	struct virtio_board virtio;
};

/*
 * Pausing the vCPUs (vcpu.c) and the clocks around it (pause.c). Only the
 * control thread requests and ends a pause.
 */
struct vm_pause {
	pthread_mutex_t lock;
	pthread_cond_t changed;	/* parked or members changed, or resumed */
	atomic_bool requested;	/* read by vCPU threads without the lock */
	int parked;		/* vCPU threads waiting in the pause */
	int members;		/* threads that must park: started, not halted */
	uint64_t host_tsc;	/* when the last one parked */
	int64_t host_ns;	/* CLOCK_MONOTONIC then */
};

struct vm {
	struct hv hv;
	struct guest_mem mem;
	/*
	 * mem is private anonymous memory, not a snapshot's file: a page
	 * never touched reads as zero (migration need not read it).
	 */
	bool mem_anonymous;
	enum image_kind kind;
	struct boot_entry entry;
	int nr_vcpus;
	struct vcpu vcpus[LVRUN_MAX_VCPUS];
	struct bus pio;
	struct bus mmio;
	struct board_devices dev;
	struct vm_pause pause;
	/* TSC ticks making (or taking from --pool-vm) the VM, vCPUs, irqchip. */
	uint64_t instantiate_ticks;
	/* A prepared lvrun (--pool-prepared): what it made ahead. */
	struct pool_shape prepared;
	/*
	 * If set, each vCPU thread calls it once, just before its first run
	 * call (lvrun --incoming tells the source the guest runs here).
	 */
	void (*vcpu_entering)(void);
};

/* vm.c */
void vm_create(struct vm *vm);
/*
 * A prepared lvrun: vm_prepare_for_pool() makes everything that does not
 * depend on the guest (VM, irqchip, vCPUs, memory) from --vcpus,
 * --irqchip and --mem; once its client's options are in opts,
 * vm_create_prepared() refuses a guest that needs something else by
 * name, then loads it.
 */
void vm_prepare_for_pool(struct vm *vm);
void vm_create_prepared(struct vm *vm);
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
/* Exits to lvrun so far, all vCPUs and reasons. */
uint64_t vcpu_exits_total(void);
/*
 * Parks every running vCPU thread at an instruction boundary, with no
 * exit left half handled, and returns once all are parked; -EALREADY if
 * they are. vcpu_resume_all() lets them go on (-EALREADY if not paused).
 */
int vcpu_pause_all(struct vm *vm);
int vcpu_resume_all(struct vm *vm);

/* pause.c: the vCPUs and the guest's clocks, for the control socket. */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
bool vm_paused(struct vm *vm);
/*
 * The state of a paused VM was replaced (a reset to its snapshot): the
 * time paused so far is not to be hidden from it on resume.
 */
void vm_pause_restart_clock(struct vm *vm);

/* assign.c */
void assign_device(struct vm *vm);

/* console.c */
void console_setup(void);

#endif /* LVRUN_H */
