// SPDX-License-Identifier: GPL-2.0
/*
 * Sizes on the command line, for lvrun and lvd.
 */
#include <errno.h>
#include <stdlib.h>

#include "size.h"

static int size_shift(char suffix)
{
	switch (suffix) {
	case 'k': case 'K':
		return 10;
	case 'm': case 'M':
		return 20;
	case 'g': case 'G':
		return 30;
	}
	return 0;
}

int parse_size(const char *s, uint64_t *size)
{
	unsigned long long v;
	char *end;
	int shift;

	/* strtoull takes a sign and wraps "-1" to ULLONG_MAX: no sign here. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	shift = size_shift(*end);
	if (shift)
		end++;
	/* "17179869185G" would wrap to 1G, not be refused. */
	if (*end || v > (~0ULL >> shift))
		return -1;
	*size = (uint64_t)v << shift;
	return 0;
}

bool guest_mem_size_ok(uint64_t size)
{
	return size >= GUEST_MEM_MIN && size <= GUEST_MEM_MAX &&
	       !(size & 0xfff);
}
