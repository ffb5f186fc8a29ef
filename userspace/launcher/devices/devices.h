/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the board's devices. Each has its own file and keeps all of its
 * state in one struct; each registers its ranges on the port or MMIO bus
 * itself and raises interrupts only through its struct irq_line.
 *
 * A snapshot keeps what a device's struct holds of the guest's view, as
 * a plain struct *_state without pointers, locks or host times: *_save()
 * fills one, *_restore() (devices built, no vCPU running) puts it back
 * and raises the interrupt line as the restored state says.
 */
#ifndef LVRUN_DEVICES_H
#define LVRUN_DEVICES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../bus.h"
#include "../irq.h"
#include "pci.h"

#define UART_BACKLOG	4096

struct uart16550 {
	pthread_mutex_t lock;
	pthread_cond_t drained;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_ipending;	/* "THR empty" interrupt not yet acknowledged */
	/* Received bytes not yet read by the guest (the FIFO and a backlog). */
	uint8_t rx[UART_BACKLOG];
	unsigned int rx_head, rx_count;
	struct irq_line irq;
	int out_fd;
};

void uart_init(struct uart16550 *u, struct bus *pio, uint16_t base,
	       struct irq_line irq, int out_fd);
/* Feeds bytes read from @in_fd to the receiver, from a thread of its own. */
void uart_start_input(struct uart16550 *u, int in_fd);
/* Queues bytes for the receiver; blocks while the backlog is full. */
void uart_receive(struct uart16550 *u, const uint8_t *buf, unsigned int len);

struct uart_state {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, thr_ipending;
	uint32_t rx_count;	/* received bytes not yet read, oldest first */
	uint32_t padding;
	uint8_t rx[UART_BACKLOG];
};

void uart_save(struct uart16550 *u, struct uart_state *s);
/* 0, or -EINVAL for a state no UART can be in. */
int uart_restore(struct uart16550 *u, const struct uart_state *s);

struct debug_exit {
	int unused;
};

void debug_exit_init(struct debug_exit *d, struct bus *pio);

#define MMIO_TESTDEV_BYTES	4096

struct mmio_testdev {
	pthread_mutex_t lock;
	uint8_t mem[MMIO_TESTDEV_BYTES];
};

void mmio_testdev_init(struct mmio_testdev *t, struct bus *mmio);

struct mmio_testdev_state {
	uint8_t mem[MMIO_TESTDEV_BYTES];
};

void mmio_testdev_save(struct mmio_testdev *t, struct mmio_testdev_state *s);
void mmio_testdev_restore(struct mmio_testdev *t,
			  const struct mmio_testdev_state *s);

/* Keyboard-controller reset, 0x92 (fast A20/reset), 0xcf9 (reset control). */
struct reset_ctl {
	pthread_mutex_t lock;
	uint8_t kbd_cmd;	/* last command written to 0x64 */
	uint8_t kbd_output_port;
	uint8_t sysctl_a;	/* port 0x92 */
	uint8_t rcr;		/* port 0xcf9 */
};

void reset_ctl_init(struct reset_ctl *r, struct bus *pio);

struct reset_ctl_state {
	uint8_t kbd_cmd, kbd_output_port, sysctl_a, rcr;
};

void reset_ctl_save(struct reset_ctl *r, struct reset_ctl_state *s);
void reset_ctl_restore(struct reset_ctl *r, const struct reset_ctl_state *s);

/* ACPI sleep control/status (hardware-reduced FADT) and pvpanic. */
struct acpi_pm {
	pthread_mutex_t lock;
	uint8_t sleep_status;
	uint8_t pvpanic_events;
};

void acpi_pm_init(struct acpi_pm *pm, struct bus *pio);

struct acpi_pm_state {
	uint8_t sleep_status, pvpanic_events;
};

void acpi_pm_save(struct acpi_pm *pm, struct acpi_pm_state *s);
void acpi_pm_restore(struct acpi_pm *pm, const struct acpi_pm_state *s);

/*
 * Ports a PC has and Linux probes, answered harmlessly. With an in-kernel
 * interrupt controller (KVM) the PIC, PIT and ELCR ports never reach lvrun.
 */
struct legacy_ports {
	pthread_mutex_t lock;
	uint8_t post;
};

void legacy_ports_init(struct legacy_ports *l, struct bus *pio);

struct legacy_ports_state {
	uint8_t post;
};

void legacy_ports_save(struct legacy_ports *l, struct legacy_ports_state *s);
void legacy_ports_restore(struct legacy_ports *l,
			  const struct legacy_ports_state *s);

#define RTC_CMOS_BYTES	128

/*
 * The MC146818 RTC and its CMOS RAM (0x70, 0x71, ISA line 8). Its clock is
 * CLOCK_MONOTONIC + offset_ns, in ns since the epoch (UTC): it runs on its
 * own from the host's time at start and does not follow host clock steps,
 * as a battery-backed RTC does not.
 */
struct rtc {
	pthread_mutex_t lock;
	uint8_t index;		/* last write to 0x70, NMI-disable bit 7 kept */
	/* Registers A-D, the alarm, NVRAM; the time only while stopped. */
	uint8_t cmos[RTC_CMOS_BYTES];
	int64_t offset_ns;
	bool stopped;		/* SET or divider reset: time in cmos[] */
	int64_t seen_ns;	/* monotonic time up to which flags are set */
	struct irq_line irq;
	/* When the interrupt thread must look next (-1: nothing due). */
	pthread_cond_t wake;
	int64_t wake_at;	/* CLOCK_MONOTONIC ns */
	bool thread_on;		/* false in host-side tests */
	bool paused;		/* the VM is paused: no events */
};

/* Registers the ports; the memory-size bytes describe @mem_size of RAM. */
void rtc_init(struct rtc *r, struct bus *pio, struct irq_line irq,
	      uint64_t mem_size);
/* Starts the thread that raises the interrupts on time. */
void rtc_start(struct rtc *r);
/* A port access at CLOCK_MONOTONIC time @now_ns (the bus passes the clock). */
void rtc_io(struct rtc *r, unsigned int off, bool is_write, uint8_t *data,
	    unsigned int len, int64_t now_ns);
/*
 * The VM pauses at CLOCK_MONOTONIC @now_ns: the flags are brought up to
 * date and no interrupt comes until rtc_resume(), which drops the events
 * of the paused time and moves the RTC's time back by @hide_ns (the
 * paused time, or 0 to let the guest see it).
 */
void rtc_pause(struct rtc *r, int64_t now_ns);
void rtc_resume(struct rtc *r, int64_t now_ns, int64_t hide_ns);
/* The periodic interrupt's rate for register A's value, 0 if none. */
unsigned int rtc_periodic_hz(uint8_t reg_a);

/*
 * The RTC's time is kept, not the host's: a restored RTC goes on from
 * the moment of the save, as the restored guest's TSC does.
 */
struct rtc_state {
	uint8_t index, stopped;
	uint8_t padding[6];
	uint8_t cmos[RTC_CMOS_BYTES];
	int64_t clock_ns;	/* the RTC's time at the save */
	int64_t unseen_ns;	/* how long before that flags were last set */
};

void rtc_save(struct rtc *r, struct rtc_state *s);
/* 0, or -EINVAL for a state the RTC cannot be in. */
int rtc_restore(struct rtc *r, const struct rtc_state *s);

/*
 * A port the guest writes to mark a point of its boot (the guest kernel's
 * init writes 1 when it starts); lvrun prints how long it took.
 */
struct guest_mark {
	uint64_t start_ns;	/* CLOCK_MONOTONIC when lvrun started */
	uint64_t start_tsc;
};

void guest_mark_init(struct guest_mark *m, struct bus *pio);

/* PCI configuration mechanism #1: host bridge, optionally the assigned device. */
struct pci_host {
	pthread_mutex_t lock;
	struct pci_passthru pt;	/* zeroed: an empty bus behind the bridge */
};

void pci_host_init(struct pci_host *p, struct bus *pio);

#endif /* LVRUN_DEVICES_H */
