// SPDX-License-Identifier: GPL-2.0
/*
 * Counts forever, one console line per step: "count N tsc T", T being
 * the TSC when step N began. Steps are paced by the TSC, so the gap
 * between two lines' T shows how far the guest's clock moved between
 * them: across a pause of lvrun (lvctl pause/resume) it must stay near
 * one step, unless lvrun runs with --pause-clock=wall.
 */
#include "lib/guest.h"

/* About 20 ms of emulated time in Bochs (100 ticks per microsecond). */
#define STEP_TICKS	2000000ULL

int main(void)
{
	unsigned long long n = 0, start = rdtsc();

	printf("counter: step %llu ticks\n", STEP_TICKS);
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
