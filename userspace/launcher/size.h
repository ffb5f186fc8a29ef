/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sizes on the command line ("16M", "0x1000", "2G"): one parser for
 * lvrun and lvd, a leaf with no other dependency.
 */
#ifndef LVRUN_SIZE_H
#define LVRUN_SIZE_H

#include <stdbool.h>
#include <stdint.h>

/* Guest memory lvrun can give (--mem): 4K pages, from 1M to 3G. */
#define GUEST_MEM_MIN	(1ULL << 20)
#define GUEST_MEM_MAX	(3ULL << 30)

/*
 * A number (decimal, 0x hex or 0 octal) with an optional K, M or G.
 * Returns 0, or -1 for anything else, trailing text, or a value that
 * does not fit in 64 bits once scaled.
 */
int parse_size(const char *s, uint64_t *size);

/* A size lvrun can give a guest as its memory. */
bool guest_mem_size_ok(uint64_t size);

#endif
