// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side test of pagemap.c on this kernel: in private anonymous
 * memory, every page written or read shows as touched, so migration's
 * first round reads it; only pages never touched (or dropped with
 * MADV_DONTNEED, which zeroes them, where the kernel has madvise) are
 * skipped; and without a pagemap every page counts as touched.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../tap.h"
#include "pagemap.h"

#define PAGES	64

void migrate_pagemap_tests(void)
{
	uint64_t entries[PAGES];
	volatile uint8_t *mem;
	int fd = mig_pagemap_open(), i, wrong = 0;
	bool ok, dropped;

	mem = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		tap_ok(0, "migrate pagemap: cannot map memory");
		return;
	}
	/* No huge page: one would make all 64 pages present at once. */
	madvise((void *)mem, PAGES * 4096, MADV_NOHUGEPAGE);
	mem[3 * 4096 + 17] = 1;
	mem[63 * 4096 + 4095] = 2;
	(void)mem[10 * 4096];
	mem[40 * 4096] = 3;
	/* Kernels without CONFIG_ADVISE_SYSCALLS keep page 40. */
	dropped = !madvise((void *)mem + 40 * 4096, 4096, MADV_DONTNEED);
	ok = mig_pagemap_read(fd, (const void *)mem, PAGES, entries);
	for (i = 0; i < PAGES; i++)
		wrong += mig_page_untouched(entries[i]) !=
			 (i != 3 && i != 63 && i != 10 && (i != 40 || dropped));
	tap_ok(fd >= 0 && ok && !wrong,
	       "migrate pagemap: pages written (3, 63%s) or read (10) are touched, the others untouched%s: %d wrong",
	       dropped ? "" : ", 40", dropped ? " (40 dropped)" : "", wrong);
	ok = mig_pagemap_read(-1, (const void *)mem, PAGES, entries);
	for (i = wrong = 0; i < PAGES; i++)
		wrong += mig_page_untouched(entries[i]);
	tap_ok(!ok && !wrong,
	       "migrate pagemap: without a pagemap every page counts as touched");
	munmap((void *)mem, PAGES * 4096);
	if (fd >= 0)
		close(fd);
}
