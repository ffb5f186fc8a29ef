// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: an MMIO test device, one page at guest-physical 0xfe000000.
 *
 * The page is not guest RAM, so every guest access to it exits to lvrun
 * with LV_EXIT_MMIO; that is the point of it. Writes of any size (1, 2,
 * 4 or 8 bytes) are stored and reads return the stored bytes, so a guest
 * can check the width, address and data of the emulated access by reading
 * back. In particular offset 0 works as an 8-byte register. Initially all
 * bytes are 0.
 */
#include <pthread.h>
#include <string.h>

#include "lvrun.h"

static uint8_t testdev_mem[MMIO_TESTDEV_SIZE];
static pthread_mutex_t testdev_lock = PTHREAD_MUTEX_INITIALIZER;

bool mmio_testdev_access(uint64_t gpa, bool is_write, unsigned int len, uint8_t *data)
{
	uint64_t off;

	if (gpa < MMIO_TESTDEV_BASE || gpa >= MMIO_TESTDEV_BASE + MMIO_TESTDEV_SIZE)
		return false;
	off = gpa - MMIO_TESTDEV_BASE;
	/* An access that runs off the end of the page is cut short. */
	if (len > MMIO_TESTDEV_SIZE - off)
		len = MMIO_TESTDEV_SIZE - off;

	pthread_mutex_lock(&testdev_lock);
	if (is_write)
		memcpy(testdev_mem + off, data, len);
	else
		memcpy(data, testdev_mem + off, len);
	pthread_mutex_unlock(&testdev_lock);
	return true;
}
