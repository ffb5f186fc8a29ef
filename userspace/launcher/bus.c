// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: port and MMIO buses (a sorted array, binary search).
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const char *name,
		 bus_access_fn access, void *dev)
{
	int i, pos = 0;

	if (!len || base + len - 1 < base) {
		warn("%s bus: %s: empty or wrapping range 0x%llx+0x%llx", bus->name,
		     name, (unsigned long long)base, (unsigned long long)len);
		return -1;
	}
	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len) {
			warn("%s bus: %s at 0x%llx+0x%llx overlaps %s at 0x%llx+0x%llx",
			     bus->name, name, (unsigned long long)base,
			     (unsigned long long)len, r->name,
			     (unsigned long long)r->base, (unsigned long long)r->len);
			return -1;
		}
		if (r->base < base)
			pos = i + 1;
	}
	if (bus->nr == bus->cap) {
		int cap = bus->cap ? 2 * bus->cap : 16;
		struct bus_range *n = realloc(bus->ranges, cap * sizeof(*n));

		if (!n)
			die("out of memory");
		bus->ranges = n;
		bus->cap = cap;
	}
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos],
		(bus->nr - pos) * sizeof(bus->ranges[0]));
	bus->ranges[pos] = (struct bus_range){ base, len, name, access, dev };
	bus->nr++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	int lo = 0, hi = bus->nr - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid - 1;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool bus_access(const struct bus *bus, uint64_t addr, bool is_write,
		uint8_t *data, unsigned int len)
{
	const struct bus_range *r = bus_find(bus, addr);

	if (!r)
		return false;
	r->access(r->dev, addr - r->base, is_write, data, len);
	return true;
}
