// SPDX-License-Identifier: GPL-2.0
/*
 * virtio benchmarks, run as `lvrun --irqchip --disk FILE virtio-bench.elf`
 * on a disk of at least BENCH_MIB MiB. Prints "VBENCH name value" lines
 * for tests/bench/bench-guest.sh, in TSC ticks (the host's rate):
 *
 * - virtio.kick_irq: a GET_ID request (no disk I/O), from the QueueNotify
 *   write to the guest's interrupt handler having run, the guest in HLT;
 *   median and p90 of KICKS trips;
 * - uart.byte: one OUT to the 16550 (its scratch register), the cost per
 *   byte of the emulated console, median of as many;
 * - virtio.blk_read, virtio.blk_write: sequential 64 KiB requests over
 *   BENCH_MIB MiB, in MiB per 10^9 ticks (higher is better).
 */
#include "lib/virtio.h"

#define KICKS			201
#define BENCH_MIB		8
#define CHUNK			(64 * 1024)
#define UART_SCRATCH		(UART_BASE + 7)

static struct vdev blk;
static struct blk_req req;
static volatile uint8_t status;
static uint8_t id[BLK_ID_BYTES];
static uint8_t chunk[CHUNK] __attribute__((aligned(4096)));
static uint64_t samples[KICKS];

static void sort(uint64_t *v, unsigned int n)
{
	unsigned int i, j;
	uint64_t t;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void submit_request(uint32_t type, uint64_t sector, void *buf,
			   uint32_t len, bool device_writes)
{
	struct vring_desc *desc = blk.vq[0].desc;

	req = (struct blk_req){ type, 0, sector };
	status = 0xff;
	vq_set_desc(&desc[0], &req, sizeof(req), DESC_F_NEXT, 1);
	vq_set_desc(&desc[1], buf, len,
		    DESC_F_NEXT | (device_writes ? DESC_F_WRITE : 0), 2);
	vq_set_desc(&desc[2], &status, 1, DESC_F_WRITE, 0);
	vq_submit(&blk, 0, 0);
}

/* One kick to interrupt trip, the guest halted in between. */
static uint64_t kick_irq_once(void)
{
	unsigned long before = virtio_irqs[blk.slot];
	uint64_t t0, t1;

	blk.vq[0].avail.used_event = blk.vq[0].last_used;
	t0 = rdtsc();
	submit_request(BLK_T_GET_ID, 0, id, sizeof(id), true);
	while (virtio_irqs[blk.slot] == before)
		sti_hlt();
	t1 = rdtsc();
	cli();
	vq_wait_used(&blk, 0);
	return t1 - t0;
}

static bool bench_kick_irq(void)
{
	unsigned int i;

	for (i = 0; i < KICKS; i++) {
		samples[i] = kick_irq_once();
		if (status != BLK_S_OK)
			return false;
	}
	sort(samples, KICKS);
	printf("VBENCH virtio.kick_irq %lu\n", samples[KICKS / 2]);
	printf("VBENCH virtio.kick_irq.p90 %lu\n", samples[KICKS * 9 / 10]);
	return true;
}

static void bench_uart(void)
{
	unsigned int i;
	uint64_t t0;

	for (i = 0; i < KICKS; i++) {
		t0 = rdtsc();
		outb(UART_SCRATCH, i);
		samples[i] = rdtsc() - t0;
	}
	sort(samples, KICKS);
	printf("VBENCH uart.byte %lu\n", samples[KICKS / 2]);
}

/* Sequential requests of CHUNK bytes, polled; MiB per 10^9 ticks. */
static bool bench_blk(const char *name, uint32_t type, bool device_writes)
{
	uint64_t sector, t0, centi;

	blk.vq[0].avail.used_event = 0xffff;	/* polled: no interrupts */
	t0 = rdtsc();
	for (sector = 0; sector < BENCH_MIB * 2048; sector += CHUNK / 512) {
		submit_request(type, sector, chunk, CHUNK, device_writes);
		vq_wait_used(&blk, 0);
		if (status != BLK_S_OK)
			return false;
	}
	centi = BENCH_MIB * 100000000000UL / (rdtsc() - t0);
	printf("VBENCH %s %lu.%02lu\n", name, centi / 100, centi % 100);
	return true;
}

int main(void)
{
	uint64_t want = 1ULL << F_VERSION_1 | 1ULL << F_EVENT_IDX;
	unsigned int i;

	virtio_route_irqs();
	if (!virtio_find(&blk, ID_BLOCK) || virtio_init(&blk, want, 1) != S_UP ||
	    *(volatile uint64_t *)(blk.base + VM_CONFIG) < BENCH_MIB * 2048) {
		printf("virtio-bench: no virtio-blk disk of %d MiB\n", BENCH_MIB);
		return GUEST_EXIT_FAIL;
	}
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = i * 7;
	if (!bench_kick_irq() || !bench_blk("virtio.blk_write", BLK_T_OUT, false) ||
	    !bench_blk("virtio.blk_read", BLK_T_IN, true)) {
		printf("virtio-bench: a request failed, status %u\n", status);
		return GUEST_EXIT_FAIL;
	}
	bench_uart();
	return GUEST_EXIT_PASS;
}
