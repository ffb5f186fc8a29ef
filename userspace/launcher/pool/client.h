/* SPDX-License-Identifier: GPL-2.0 */
/* lvrun --pool PATH: take a prepared VM from lvd (pool/lvd.c). */
#ifndef LVRUN_POOL_CLIENT_H
#define LVRUN_POOL_CLIENT_H

#include <stdbool.h>

#include "../hv/hv.h"

/*
 * Asks lvd at @path for a VM with @nr_vcpus vCPUs and an in-kernel
 * irqchip or not; fills @vm, or dies naming why not.
 */
void pool_take(const char *path, int nr_vcpus, bool irqchip,
	       struct hv_prepared *vm);

#endif /* LVRUN_POOL_CLIENT_H */
