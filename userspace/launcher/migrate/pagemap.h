/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: which pages of private anonymous memory were ever touched, from
 * /proc/self/pagemap (one 64-bit entry per page of the address space).
 * A page neither in RAM nor in swap was never touched (or was dropped):
 * it reads as zero, and migration's first round need not read it. Not
 * for file mappings (a --restore'd snapshot's memory), whose untouched
 * pages hold the file's data.
 */
#ifndef LVRUN_MIGRATE_PAGEMAP_H
#define LVRUN_MIGRATE_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>

#define PAGEMAP_PRESENT		(1ULL << 63)
#define PAGEMAP_SWAPPED		(1ULL << 62)

/* This process's pagemap, or -1. */
int mig_pagemap_open(void);

/*
 * The entries of the @n pages from @addr (page-aligned) into @entries;
 * where that fails (@fd -1, a short read), entries that say every page
 * may hold something. Returns false then.
 */
bool mig_pagemap_read(int fd, const void *addr, uint32_t n,
		      uint64_t *entries);

static inline bool mig_page_untouched(uint64_t entry)
{
	return !(entry & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED));
}

#endif /* LVRUN_MIGRATE_PAGEMAP_H */
