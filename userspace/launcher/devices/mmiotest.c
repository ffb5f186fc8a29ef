// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: an MMIO test device, one page at guest-physical 0xfe000000.
 *
 * The page is not guest RAM, so every guest access to it exits to lvrun;
 * that is the point of it. Writes of any size (1, 2, 4 or 8 bytes) are
 * stored and reads return the stored bytes, so a guest can check the
 * width, address and data of the emulated access by reading back. In
 * particular offset 0 works as an 8-byte register. Initially all bytes
 * are 0.
 */
#include <string.h>

#include "../layout.h"
#include "../log.h"
#include "devices.h"

static void mmio_testdev_access(void *dev, uint64_t off, bool is_write,
				uint8_t *data, unsigned int len)
{
	struct mmio_testdev *t = dev;

	/* An access that runs off the end of the page is cut short. */
	if (len > MMIO_TESTDEV_BYTES - off)
		len = MMIO_TESTDEV_BYTES - off;
	pthread_mutex_lock(&t->lock);
	if (is_write)
		memcpy(t->mem + off, data, len);
	else
		memcpy(data, t->mem + off, len);
	pthread_mutex_unlock(&t->lock);
}

void mmio_testdev_init(struct mmio_testdev *t, struct bus *mmio)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	if (bus_register(mmio, MMIO_TESTDEV_BASE, MMIO_TESTDEV_SIZE,
			 "mmio-testdev", mmio_testdev_access, t))
		die("cannot register the MMIO test device");
}

void mmio_testdev_save(struct mmio_testdev *t, struct mmio_testdev_state *s)
{
	pthread_mutex_lock(&t->lock);
	memcpy(s->mem, t->mem, sizeof(s->mem));
	pthread_mutex_unlock(&t->lock);
}

void mmio_testdev_restore(struct mmio_testdev *t,
			  const struct mmio_testdev_state *s)
{
	pthread_mutex_lock(&t->lock);
	memcpy(t->mem, s->mem, sizeof(t->mem));
	pthread_mutex_unlock(&t->lock);
}
