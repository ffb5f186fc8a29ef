// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: power management the guest reaches through lvrun's ACPI tables
 * (board/acpi.c):
 *  - the hardware-reduced FADT's sleep control register: SLP_EN (bit 5)
 *    with SLP_TYP (bits 4:2) = 5, the value the DSDT's _S5 gives, is
 *    power-off; its sleep status register reads 0 (no wake event);
 *  - pvpanic (ACPI QEMU0001): reads give the events it supports (bit 0,
 *    "panicked"); writing bit 0 reports a guest panic.
 */
#include <string.h>

#include "../layout.h"
#include "../log.h"
#include "devices.h"

#define SLP_EN			0x20
#define SLP_TYP(v)		(((v) >> 2) & 7)
#define SLP_TYP_S5		5
#define PVPANIC_PANICKED	0x01
#define PVPANIC_CRASH_LOADED	0x02

static void sleep_control(void *dev, uint64_t off, bool is_write, uint8_t *data,
			  unsigned int len)
{
	(void)dev;
	(void)off;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (!(data[0] & SLP_EN))
		return;
	if (SLP_TYP(data[0]) == SLP_TYP_S5) {
		trace("guest powered off (ACPI S5)");
		lvrun_exit(LVRUN_EXIT_POWEROFF);
	}
	warn("guest asked for sleep type %u, which this board does not have",
	     SLP_TYP(data[0]));
}

static void sleep_status(void *dev, uint64_t off, bool is_write, uint8_t *data,
			 unsigned int len)
{
	struct acpi_pm *pm = dev;

	(void)off;
	pthread_mutex_lock(&pm->lock);
	if (is_write)
		pm->sleep_status &= ~data[0];	/* write 1 to clear */
	else {
		memset(data, 0, len);
		data[0] = pm->sleep_status;
	}
	pthread_mutex_unlock(&pm->lock);
}

static void pvpanic(void *dev, uint64_t off, bool is_write, uint8_t *data,
		    unsigned int len)
{
	struct acpi_pm *pm = dev;

	(void)off;
	if (!is_write) {
		memset(data, 0, len);
		data[0] = PVPANIC_PANICKED;
		return;
	}
	pthread_mutex_lock(&pm->lock);
	pm->pvpanic_events |= data[0];
	pthread_mutex_unlock(&pm->lock);
	if (data[0] & PVPANIC_PANICKED) {
		warn("guest panic (reported through pvpanic)");
		lvrun_exit(LVRUN_EXIT_PANIC);
	}
}

void acpi_pm_init(struct acpi_pm *pm, struct bus *pio)
{
	memset(pm, 0, sizeof(*pm));
	pthread_mutex_init(&pm->lock, NULL);
	if (bus_register(pio, PORT_ACPI_SLEEP_CTL, 1, "ACPI sleep control",
			 sleep_control, pm) ||
	    bus_register(pio, PORT_ACPI_SLEEP_STS, 1, "ACPI sleep status",
			 sleep_status, pm) ||
	    bus_register(pio, PORT_PVPANIC, 1, "pvpanic", pvpanic, pm))
		die("cannot register the ACPI power-management ports");
}

void acpi_pm_save(struct acpi_pm *pm, struct acpi_pm_state *s)
{
	pthread_mutex_lock(&pm->lock);
	s->sleep_status = pm->sleep_status;
	s->pvpanic_events = pm->pvpanic_events;
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_restore(struct acpi_pm *pm, const struct acpi_pm_state *s)
{
	pthread_mutex_lock(&pm->lock);
	pm->sleep_status = s->sleep_status;
	pm->pvpanic_events = s->pvpanic_events;
	pthread_mutex_unlock(&pm->lock);
}
