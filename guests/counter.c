// SPDX-License-Identifier: GPL-2.0
/*
 * Counts forever, one console line per step: "count N tsc T", T being
 * the TSC when step N began. Steps are paced by the TSC, so the gap
 * between two lines' T shows how far the guest's clock moved between
 * them: across a pause of lvrun (lvctl pause/resume) it must stay near
 * one step, unless lvrun runs with --pause-clock=wall.
 *
 * vCPU 0 first sets its TSC to 2^40 (WRMSR IA32_TSC), far from the
 * host's: a pause must move the guest's own clock, not restore one lvrun
 * assumed.
 *
 * Other vCPUs (--vcpus N) spin in the guest and now and then write to
 * the MMIO test page, so a pause finds one vCPU in port I/O, one in the
 * guest or in MMIO.
 */
#include "lib/guest.h"

/* About 20 ms of emulated time in Bochs (100 ticks per microsecond). */
#define STEP_TICKS	2000000ULL
#define MSR_IA32_TSC	0x10
#define TSC_BASE	(1ULL << 40)

void ap_main(unsigned long index)
{
	volatile uint64_t *page = (volatile uint64_t *)MMIO_TESTDEV;
	uint64_t n = 0;

	for (;;) {
		uint64_t t = rdtsc();

		while (rdtsc() - t < STEP_TICKS / 16)
			cpu_relax();
		page[index] = ++n;
	}
}

int main(void)
{
	unsigned long long n = 0, start;

	wrmsr(MSR_IA32_TSC, TSC_BASE);
	start = rdtsc();
	printf("counter: step %llu ticks, TSC from %llu\n", STEP_TICKS, TSC_BASE);
	for (;;) {
		unsigned long long t = rdtsc();

		if (t - start < STEP_TICKS) {
			cpu_relax();
			continue;
		}
		start = t;
		printf("count %llu tsc %llu\n", ++n, t);
	}
}
