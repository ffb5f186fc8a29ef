// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: harmless answers for the legacy ports a Linux boot touches, so no
 * probe waits for a time-out and nothing is logged as unhandled (the list
 * kvmtool's x86/ioport.c keeps, too). Reads give 0, writes are dropped,
 * except that the POST code reads back what was written. A read of 0
 * from the PIC mask tells Linux there is no 8259 (its probe writes 0xff
 * and expects it back); with an in-kernel irqchip these ports are the
 * hypervisor's and never reach lvrun. The CMOS/RTC has its own file,
 * rtc.c.
 */
#include <string.h>

#include "../layout.h"
#include "../log.h"
#include "devices.h"

static void legacy_access(void *dev, uint64_t off, bool is_write, uint8_t *data,
			  unsigned int len)
{
	(void)dev;
	(void)off;
	if (!is_write)
		memset(data, 0, len);
}

static void post_access(void *dev, uint64_t off, bool is_write, uint8_t *data,
			unsigned int len)
{
	struct legacy_ports *l = dev;

	(void)off;
	pthread_mutex_lock(&l->lock);
	if (is_write) {
		l->post = data[0];
	} else {
		memset(data, 0, len);
		data[0] = l->post;
	}
	pthread_mutex_unlock(&l->lock);
}

static const struct {
	uint16_t port, len;
	const char *name;
} dummies[] = {
	{ PORT_PIC1, 2, "8259 master" },
	{ PORT_PIT, 4, "8254 PIT" },
	{ PORT_SYSCTL_B, 1, "system control B" },
	{ PORT_DMA_PAGE_LOW, 15, "DMA page registers" },
	{ PORT_PIC2, 2, "8259 slave" },
	{ PORT_IO_DELAY, 1, "I/O delay" },
	{ PORT_FPU, PORT_DEBUG_EXIT - PORT_FPU, "FPU error" },
	{ PORT_DEBUG_EXIT + 1, 0x100 - PORT_DEBUG_EXIT - 1, "FPU error" },
	{ PORT_ELCR, 2, "ELCR" },
};

void legacy_ports_init(struct legacy_ports *l, struct bus *pio)
{
	unsigned int i;

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	for (i = 0; i < sizeof(dummies) / sizeof(dummies[0]); i++)
		if (bus_register(pio, dummies[i].port, dummies[i].len, dummies[i].name,
				 legacy_access, l))
			die("cannot register the legacy ports");
	if (bus_register(pio, PORT_POST, 1, "POST code", post_access, l))
		die("cannot register the legacy ports");
}

void legacy_ports_save(struct legacy_ports *l, struct legacy_ports_state *s)
{
	pthread_mutex_lock(&l->lock);
	s->post = l->post;
	pthread_mutex_unlock(&l->lock);
}

void legacy_ports_restore(struct legacy_ports *l,
			  const struct legacy_ports_state *s)
{
	pthread_mutex_lock(&l->lock);
	l->post = s->post;
	pthread_mutex_unlock(&l->lock);
}
