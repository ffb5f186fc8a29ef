// SPDX-License-Identifier: GPL-2.0
/*
 * Touch every 4 KiB page of guest memory between the end of the image
 * (rounded up to 2 MiB) and 2 MiB below the top (the stack), write a
 * value derived from its address, then read everything back and compare
 * checksums.
 *
 * Each first write is timed with RDTSC: one that takes longer than
 * SLOW_TICKS left the guest (an EPT violation, or now and then a host
 * interrupt). The last line, "# memtouch: ...", gives the counts for the
 * test script: with 4 KiB EPT pages nearly every page faults, with 2 MiB
 * EPT pages one page in 512 does.
 */
#include "lib/guest.h"

/* A guest-side store takes tens of ticks; any VM exit takes thousands. */
#define SLOW_TICKS	2000
#define PAGE		4096UL
#define SZ_2M		(2UL << 20)

extern char _end[];

static uint64_t value_of(uint64_t addr)
{
	return addr * 0x9e3779b97f4a7c15UL ^ 0x5555aaaa5555aaaaUL;
}

/* Offset inside the page: varies so more than one cache line is used. */
static uint64_t offset_of(uint64_t i)
{
	return (i * 72) % (PAGE - 8);
}

int main(void)
{
	uint64_t top = ((uint64_t)__builtin_frame_address(0) + 0xffff) & ~0xffffUL;
	uint64_t start = ((uint64_t)_end + SZ_2M - 1) & ~(SZ_2M - 1);
	uint64_t end = top - SZ_2M, npages, i, bad = 0;
	uint64_t sum_w = 0, sum_r = 0, slow = 0, slow_ticks = 0, fast_ticks = 0;
	uint64_t mapped_ticks = 0;

	tap_plan(3);
	if (end <= start) {
		tap_ok(false, "memory large enough to test");
		return tap_done();
	}
	npages = (end - start) / PAGE;

	for (i = 0; i < npages; i++) {
		uint64_t a = start + i * PAGE + offset_of(i);
		uint64_t v = value_of(a), t0, t1;

		t0 = rdtsc();
		*(volatile uint64_t *)a = v;
		t1 = rdtsc();
		sum_w += v;
		if (t1 - t0 > SLOW_TICKS) {
			slow++;
			slow_ticks += t1 - t0;
		} else {
			fast_ticks += t1 - t0;
		}
	}
	for (i = 0; i < npages; i++) {
		uint64_t a = start + i * PAGE + offset_of(i);
		uint64_t t0, t1, v;

		t0 = rdtsc();
		v = *(volatile uint64_t *)a;
		t1 = rdtsc();
		mapped_ticks += t1 - t0;
		sum_r += v;
		if (v != value_of(a) && bad++ < 5)
			printf("# page at 0x%lx holds 0x%lx\n", a, v);
	}

	printf("# touched %lu pages, 0x%lx-0x%lx (%lu MiB)\n", npages, start,
	       end, (end - start) >> 20);
	tap_eq(0, bad, "every page reads back what was written");
	tap_eq(sum_w, sum_r, "checksum of all pages");
	/* A second pass over mapped memory never leaves the guest (almost). */
	tap_ok(mapped_ticks / npages < SLOW_TICKS, "mapped pages are fast");
	printf("# memtouch: pages=%lu slow=%lu slow_avg=%lu fast_avg=%lu mapped_avg=%lu\n",
	       npages, slow, slow ? slow_ticks / slow : 0,
	       npages > slow ? fast_ticks / (npages - slow) : 0,
	       mapped_ticks / npages);
	return tap_done();
}
