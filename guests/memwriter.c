// SPDX-License-Identifier: GPL-2.0
/*
 * Counts forever like counter.elf ("count N tsc T", one line per step of
 * STEP_TICKS) while writing memory all the time: each step writes N into
 * every page of a 1 MiB area, one page after the other, after checking
 * that each page still holds N - 1. A migration that loses or tears a
 * page, or puts back an old one, shows as
 * "memwriter: page P holds X, expected Y" and lvrun exit status 5;
 * one that stops the guest or restarts it shows in the count.
 */
#include "lib/guest.h"

#define STEP_TICKS	2000000ULL
#define PAGE		4096UL
#define SZ_2M		(2UL << 20)
/* 1 MiB from 2 MiB on: fits a 4 MiB guest, whose stack is at its top. */
#define AREA_PAGES	256UL

extern char _end[];

/* A page's word: the step and the page, so a page put elsewhere shows. */
static uint64_t value_of(uint64_t step, uint64_t page)
{
	return step << 20 | page;
}

int main(void)
{
	uint64_t area = ((uint64_t)_end + SZ_2M - 1) & ~(SZ_2M - 1);
	unsigned long long n = 0;

	printf("memwriter: step %llu ticks, %lu pages at 0x%lx\n", STEP_TICKS,
	       AREA_PAGES, area);
	for (;;) {
		unsigned long long t = rdtsc();
		uint64_t p;

		for (p = 0; p < AREA_PAGES; p++) {
			volatile uint64_t *w = (volatile uint64_t *)(area + p * PAGE);

			if (n && *w != value_of(n, p)) {
				printf("memwriter: page %lu holds 0x%lx, expected 0x%lx\n",
				       p, *w, value_of(n, p));
				guest_exit(GUEST_EXIT_FAIL);
			}
			*w = value_of(n + 1, p);
		}
		n++;
		while (rdtsc() - t < STEP_TICKS)
			cpu_relax();
		printf("count %llu tsc %llu\n", n, t);
	}
}
