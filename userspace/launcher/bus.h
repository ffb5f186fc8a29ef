/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the port and MMIO buses. A device registers the ranges it
 * decodes; the exit path looks the address up and calls the device with
 * the offset into its range. Ranges are registered before any vCPU runs
 * and never change afterwards, so lookups take no lock; each device locks
 * its own state.
 */
#ifndef LVRUN_BUS_H
#define LVRUN_BUS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * @offset is relative to the start of the registered range; @data holds
 * @len bytes, little endian: the value written, or room for the value read.
 */
typedef void (*bus_access_fn)(void *dev, uint64_t offset, bool is_write,
			      uint8_t *data, unsigned int len);

struct bus_range {
	uint64_t base, len;
	const char *name;
	bus_access_fn access;
	void *dev;
};

struct bus {
	const char *name;
	struct bus_range *ranges;	/* sorted by base, disjoint */
	int nr, cap;
};

/* Returns 0, or -1 (with a message) if the range overlaps a registered one. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const char *name,
		 bus_access_fn access, void *dev);
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr);
/* Dispatches by the first address of the access; false if nobody decodes it. */
bool bus_access(const struct bus *bus, uint64_t addr, bool is_write,
		uint8_t *data, unsigned int len);

#endif /* LVRUN_BUS_H */
