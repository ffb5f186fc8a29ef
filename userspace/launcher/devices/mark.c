// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the boot marker. A guest writes a byte to PORT_GUEST_MARK at a
 * point of its boot it wants timed (the guest kernel's init writes 1);
 * lvrun prints the wall time and the host TSC ticks since it started.
 * Inside an emulator the TSC counts emulated instructions, so the ticks
 * are the figure to compare between hypervisors.
 */
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "../layout.h"
#include "../log.h"
#include "devices.h"

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void mark_access(void *dev, uint64_t off, bool is_write, uint8_t *data,
			unsigned int len)
{
	struct guest_mark *m = dev;
	uint64_t tsc = __rdtsc(), ns = now_ns();

	(void)off;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	warn("guest mark %u: %llu ms, %llu TSC ticks after lvrun started", data[0],
	     (unsigned long long)(ns - m->start_ns) / 1000000,
	     (unsigned long long)(tsc - m->start_tsc));
}

void guest_mark_init(struct guest_mark *m, struct bus *pio)
{
	m->start_ns = now_ns();
	m->start_tsc = __rdtsc();
	if (bus_register(pio, PORT_GUEST_MARK, 1, "boot marker", mark_access, m))
		die("cannot register the boot marker");
}
