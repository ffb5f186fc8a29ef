// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: pages ever touched, from /proc/self/pagemap (pagemap.h).
 */
#include <fcntl.h>
#include <unistd.h>

#include "pagemap.h"

#define PAGE	4096u

int mig_pagemap_open(void)
{
	return open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

bool mig_pagemap_read(int fd, const void *addr, uint32_t n,
		      uint64_t *entries)
{
	off_t at = (uintptr_t)addr / PAGE * sizeof(uint64_t);
	size_t len = (size_t)n * sizeof(uint64_t);
	uint32_t i;

	if (fd >= 0 && pread(fd, entries, len, at) == (ssize_t)len)
		return true;
	for (i = 0; i < n; i++)
		entries[i] = PAGEMAP_PRESENT;
	return false;
}
