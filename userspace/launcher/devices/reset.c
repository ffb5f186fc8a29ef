// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the ways a PC resets itself. lvrun does not rebuild the machine:
 * a reset ends the run with LVRUN_EXIT_REBOOT, as QEMU's -no-reboot does.
 *  - 8042 keyboard controller: command 0xfe (pulse the reset line), or
 *    command 0xd1 (write output port) with bit 0 (reset) clear;
 *  - port 0x92 (system control A): bit 0 is the fast reset, bit 1 the
 *    fast A20 gate, which is always on here and reads back as such;
 *  - port 0xcf9 (reset control register): writing bit 2 (RST_CPU) resets.
 */
#include <string.h>

#include "../layout.h"
#include "../log.h"
#include "devices.h"

#define KBD_CMD_WRITE_OUTPUT	0xd1
#define KBD_CMD_PULSE_RESET	0xfe
#define KBD_OUT_RESET		0x01	/* active low */
#define SYSCTL_A_RESET		0x01
#define SYSCTL_A_A20		0x02
#define RCR_RST_CPU		0x04

static void guest_reset(const char *how)
{
	warn("guest reset (%s)", how);
	lvrun_exit(LVRUN_EXIT_REBOOT);
}

static void kbd_data(void *dev, uint64_t off, bool is_write, uint8_t *data,
		     unsigned int len)
{
	struct reset_ctl *r = dev;

	(void)off;
	pthread_mutex_lock(&r->lock);
	if (!is_write) {
		memset(data, 0, len);
	} else if (r->kbd_cmd == KBD_CMD_WRITE_OUTPUT) {
		r->kbd_output_port = data[0];
		r->kbd_cmd = 0;
		if (!(data[0] & KBD_OUT_RESET))
			guest_reset("keyboard controller output port");
	}
	pthread_mutex_unlock(&r->lock);
}

static void kbd_cmd(void *dev, uint64_t off, bool is_write, uint8_t *data,
		    unsigned int len)
{
	struct reset_ctl *r = dev;

	(void)off;
	pthread_mutex_lock(&r->lock);
	if (!is_write) {
		/* Status: no output data, input buffer empty: ready for a command. */
		memset(data, 0, len);
	} else {
		r->kbd_cmd = data[0];
		if (data[0] == KBD_CMD_PULSE_RESET)
			guest_reset("keyboard controller command 0xfe");
	}
	pthread_mutex_unlock(&r->lock);
}

static void sysctl_a(void *dev, uint64_t off, bool is_write, uint8_t *data,
		     unsigned int len)
{
	struct reset_ctl *r = dev;

	(void)off;
	pthread_mutex_lock(&r->lock);
	if (!is_write) {
		memset(data, 0, len);
		data[0] = r->sysctl_a | SYSCTL_A_A20;
	} else {
		r->sysctl_a = data[0] & ~SYSCTL_A_RESET;
		if (data[0] & SYSCTL_A_RESET)
			guest_reset("port 0x92");
	}
	pthread_mutex_unlock(&r->lock);
}

static void reset_control(void *dev, uint64_t off, bool is_write, uint8_t *data,
			  unsigned int len)
{
	struct reset_ctl *r = dev;

	(void)off;
	pthread_mutex_lock(&r->lock);
	if (!is_write) {
		memset(data, 0, len);
		data[0] = r->rcr;
	} else {
		r->rcr = data[0] & ~RCR_RST_CPU;
		if (data[0] & RCR_RST_CPU)
			guest_reset("port 0xcf9");
	}
	pthread_mutex_unlock(&r->lock);
}

void reset_ctl_init(struct reset_ctl *r, struct bus *pio)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->kbd_output_port = KBD_OUT_RESET;
	if (bus_register(pio, PORT_KBD_DATA, 1, "i8042 data", kbd_data, r) ||
	    bus_register(pio, PORT_KBD_CMD, 1, "i8042 command", kbd_cmd, r) ||
	    bus_register(pio, PORT_SYSCTL_A, 1, "system control A", sysctl_a, r) ||
	    bus_register(pio, PORT_RESET_CTL, 1, "reset control", reset_control, r))
		die("cannot register the reset ports");
}

void reset_ctl_save(struct reset_ctl *r, struct reset_ctl_state *s)
{
	pthread_mutex_lock(&r->lock);
	s->kbd_cmd = r->kbd_cmd;
	s->kbd_output_port = r->kbd_output_port;
	s->sysctl_a = r->sysctl_a;
	s->rcr = r->rcr;
	pthread_mutex_unlock(&r->lock);
}

void reset_ctl_restore(struct reset_ctl *r, const struct reset_ctl_state *s)
{
	pthread_mutex_lock(&r->lock);
	r->kbd_cmd = s->kbd_cmd;
	r->kbd_output_port = s->kbd_output_port;
	r->sysctl_a = s->sysctl_a;
	r->rcr = s->rcr;
	pthread_mutex_unlock(&r->lock);
}
