/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a prepared lvrun has made ahead (lvd --vcpus, --mem, --irqchip)
 * against what its client's guest needs. A leaf, tested on the host.
 */
#ifndef LVRUN_POOL_SHAPE_H
#define LVRUN_POOL_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool_shape {
	int nr_vcpus;
	uint64_t mem_size;
	bool irqchip;
	bool default_backing;	/* no --hugepages, --thp, --no-thp */
};

/*
 * 0 if a guest that needs @want can run on what was @prepared; else -1
 * and @msg (@len bytes) names the first difference and the lvd option
 * that prepares it. Nothing prepared is ever changed to fit.
 */
int pool_shape_check(const struct pool_shape *prepared,
		     const struct pool_shape *want, char *msg, size_t len);

#endif /* LVRUN_POOL_SHAPE_H */
