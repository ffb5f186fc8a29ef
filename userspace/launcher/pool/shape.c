// SPDX-License-Identifier: GPL-2.0
/*
 * A prepared lvrun's VM against its client's guest: a conflict is
 * refused by name, never papered over.
 */
#include <inttypes.h>
#include <stdio.h>

#include "shape.h"

/* 16M, or 1536K: how --mem would say it. */
static void mem_text(char *buf, size_t len, uint64_t size)
{
	if (size && !(size & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 "M", size >> 20);
	else
		snprintf(buf, len, "%" PRIu64 "K", size >> 10);
}

int pool_shape_check(const struct pool_shape *prepared,
		     const struct pool_shape *want, char *msg, size_t len)
{
	char have_mem[32], want_mem[32];

	if (want->nr_vcpus != prepared->nr_vcpus) {
		snprintf(msg, len, "--vcpus %d: this pool's lvrun processes have %d vCPU(s) (lvd --vcpus)",
			 want->nr_vcpus, prepared->nr_vcpus);
		return -1;
	}
	if (want->mem_size != prepared->mem_size) {
		mem_text(have_mem, sizeof(have_mem), prepared->mem_size);
		mem_text(want_mem, sizeof(want_mem), want->mem_size);
		snprintf(msg, len, "this guest wants %s of memory, this pool's lvrun processes have %s (lvd --mem %s, or lvrun --mem %s)",
			 want_mem, have_mem, want_mem, have_mem);
		return -1;
	}
	if (want->irqchip != prepared->irqchip) {
		snprintf(msg, len, "this pool's lvrun processes have %s in-kernel interrupt controllers, this guest %s them (lvd %s--irqchip)",
			 want->irqchip ? "no" : "the",
			 want->irqchip ? "needs" : "must run without",
			 want->irqchip ? "" : "without ");
		return -1;
	}
	if (want->default_backing != prepared->default_backing) {
		snprintf(msg, len, "this pool's guest memory has the host's default backing: not with --hugepages, --thp or --no-thp");
		return -1;
	}
	return 0;
}
