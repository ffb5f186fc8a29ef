// SPDX-License-Identifier: GPL-2.0
/*
 * Two vCPUs (lvrun --vcpus 2): vCPU 1 checks it got RDI = 1 and signals
 * vCPU 0 through shared memory; vCPU 0 waits for it.
 */
#include "lib/guest.h"

static volatile unsigned long ap_seen;

void ap_main(unsigned long index)
{
	__atomic_store_n(&ap_seen, index + 100, __ATOMIC_SEQ_CST);
	guest_halt();
}

int main(void)
{
	uint64_t start = rdtsc();

	tap_plan(1);
	while (!__atomic_load_n(&ap_seen, __ATOMIC_SEQ_CST) &&
	       rdtsc() - start < 20000000000UL)
		cpu_relax();
	tap_eq(101, ap_seen, "vCPU 1 ran with RDI = 1");
	return tap_done();
}
