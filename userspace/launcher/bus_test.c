// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the port/MMIO bus (bus.c); linked into
 * lvrun-loadertest, which prints the TAP plan.
 */
#include <string.h>

#include "bus.h"
#include "tap.h"

static int hits_a, hits_b;
static uint64_t last_off;

static void dev_a(void *dev, uint64_t off, bool is_write, uint8_t *data,
		  unsigned int len)
{
	(void)dev;
	(void)is_write;
	memset(data, 0xaa, len);
	last_off = off;
	hits_a++;
}

static void dev_b(void *dev, uint64_t off, bool is_write, uint8_t *data,
		  unsigned int len)
{
	(void)dev;
	(void)is_write;
	memset(data, 0xbb, len);
	last_off = off;
	hits_b++;
}

void bus_tests(void)
{
	struct bus bus = { .name = "test" };
	uint8_t data[4];
	int i;

	tap_ok(bus_register(&bus, 0x3f8, 8, "a", dev_a, NULL) == 0, "bus: register 0x3f8+8");
	tap_ok(bus_register(&bus, 0x3f0, 8, "b", dev_b, NULL) == 0,
	       "bus: an adjacent range below is accepted");
	tap_ok(bus_register(&bus, 0x3ff, 1, "c", dev_b, NULL) != 0,
	       "bus: a range overlapping the last port is refused");
	tap_ok(bus_register(&bus, 0x3e0, 0x100, "d", dev_b, NULL) != 0,
	       "bus: a range covering another is refused");
	tap_ok(bus_register(&bus, 0, 0, "e", dev_b, NULL) != 0,
	       "bus: an empty range is refused");
	tap_ok(bus_register(&bus, ~0ULL, 2, "f", dev_b, NULL) != 0,
	       "bus: a wrapping range is refused");
	tap_ok(bus.nr == 2, "bus: refused ranges left no trace (%d ranges)", bus.nr);

	tap_ok(bus_access(&bus, 0x3fd, false, data, 1) && hits_a == 1 &&
	       last_off == 5 && data[0] == 0xaa,
	       "bus: 0x3fd goes to a at offset 5");
	tap_ok(bus_access(&bus, 0x3f7, false, data, 1) && hits_b == 1 &&
	       last_off == 7, "bus: 0x3f7 goes to b at offset 7");
	tap_ok(!bus_access(&bus, 0x400, false, data, 1) &&
	       !bus_access(&bus, 0x3ef, false, data, 1),
	       "bus: addresses outside every range find nothing");

	/* Many ranges registered out of order stay sorted and findable. */
	for (i = 40; i > 0; i--)
		bus_register(&bus, 0x1000 + i * 0x10, 0x10, "many", dev_a, NULL);
	tap_ok(bus_find(&bus, 0x1000 + 17 * 0x10 + 3) &&
	       bus_find(&bus, 0x1000 + 17 * 0x10 + 3)->base == 0x1000 + 17 * 0x10,
	       "bus: lookup among 42 ranges");
}
