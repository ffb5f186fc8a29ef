// SPDX-License-Identifier: GPL-2.0
/*
 * A bare-metal virtio 1.x driver for lvrun's virtio-mmio devices, run as
 * `lvrun --irqchip --disk FILE --console virtio virtio.elf`: it finds the
 * devices by DeviceID in lvrun's slots, negotiates, and drives the split
 * virtqueues directly, covering what Linux's driver would not:
 *
 * - block reads, writes, flush, GET_ID and a read past the end; the same
 *   read through an indirect table; interrupts on the slot's ISA line,
 *   and their suppression by the used_event index;
 * - the console's transmit queue (checked by the caller on lvrun's
 *   stdout) and its receive queue (fed from lvrun's stdin);
 * - hostile front-ends: a chain that loops, a buffer outside guest RAM or
 *   over an MMIO range, a length that wraps the address space, an indirect
 *   table inside an indirect table or of a bad size, and an avail index
 *   that jumps by more than the queue size. Each must leave the device in
 *   DEVICE_NEEDS_RESET with a configuration interrupt, and a reset must
 *   make it usable again.
 *
 * The caller prepares the disk: 128 sectors, sector 3 starting with
 * SECTOR3_TEXT; it checks afterwards that sector 5 holds what the guest
 * wrote there.
 */
#include "lib/virtio.h"

#define IOAPIC			0xfec00000UL
#define DISK_SECTORS		128
#define SECTOR3_TEXT		"lightvisor sector 3"
#define SECTOR5_BYTE		0xa5

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

static struct vdev blk, con;
static struct blk_req req;
static uint8_t data[512] __attribute__((aligned(512)));
static volatile uint8_t status;
static struct vring_desc indirect[4] __attribute__((aligned(16)));

/*
 * A block request in descriptors 0-2: header, data (none if @len is 0)
 * and status. Returns the length the device reports it wrote.
 */
static uint32_t blk_request(uint32_t type, uint64_t sector, void *buf,
			    uint32_t len, bool device_writes)
{
	struct vring_desc *desc = blk.vq[0].desc;

	req = (struct blk_req){ type, 0, sector };
	status = 0xff;
	vq_set_desc(&desc[0], &req, sizeof(req), DESC_F_NEXT, len ? 1 : 2);
	vq_set_desc(&desc[1], buf, len,
		    DESC_F_NEXT | (device_writes ? DESC_F_WRITE : 0), 2);
	vq_set_desc(&desc[2], &status, 1, DESC_F_WRITE, 0);
	vq_submit(&blk, 0, 0);
	return vq_wait_used(&blk, 0);
}

static void fill(uint8_t v)
{
	unsigned int i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = v;
}

static bool data_is(uint8_t v)
{
	unsigned int i;

	for (i = 0; i < sizeof(data); i++)
		if (data[i] != v)
			return false;
	return true;
}

static bool starts_with(const uint8_t *p, const char *s)
{
	while (*s)
		if (*p++ != (uint8_t)*s++)
			return false;
	return true;
}

static void test_probe(void)
{
	uint64_t want = 1ULL << F_VERSION_1 | 1ULL << F_BLK_FLUSH |
			1ULL << F_INDIRECT_DESC | 1ULL << F_EVENT_IDX;
	uint32_t st;

	tap_ok(virtio_find(&blk, ID_BLOCK), "a virtio-blk device in a slot");
	tap_ok(virtio_find(&con, ID_CONSOLE), "a virtio-console device in a slot");
	tap_ok(blk.slot != con.slot, "in different slots");
	/* A modern device refuses a driver that does not take VERSION_1. */
	st = virtio_init(&blk, 0, 1);
	tap_ok(!(st & S_FEATURES_OK), "FEATURES_OK refused without VERSION_1");
	tap_eq(want, virtio_device_features(&blk) & want,
	       "blk offers VERSION_1, FLUSH, INDIRECT_DESC and EVENT_IDX");
	st = virtio_init(&blk, want, 1);
	tap_eq(S_UP, st,
	       "blk: driver OK");
	tap_eq(DISK_SECTORS, *(volatile uint64_t *)(blk.base + VM_CONFIG),
	       "blk: capacity in sectors");
	blk.vq[0].avail.used_event = 0xffff;	/* no interrupts yet */
}

static void test_blk(void)
{
	static uint8_t id[BLK_ID_BYTES];
	uint32_t len;

	fill(0);
	len = blk_request(BLK_T_IN, 3, data, sizeof(data), true);
	tap_ok(status == BLK_S_OK && starts_with(data, SECTOR3_TEXT),
	       "read of sector 3");
	tap_eq(sizeof(data) + 1, len, "used length: data and status byte");

	fill(SECTOR5_BYTE);
	blk_request(BLK_T_OUT, 5, data, sizeof(data), false);
	tap_eq(BLK_S_OK, status, "write of sector 5");
	fill(0);
	blk_request(BLK_T_IN, 5, data, sizeof(data), true);
	tap_ok(status == BLK_S_OK && data_is(SECTOR5_BYTE),
	       "sector 5 reads back what was written");

	blk_request(BLK_T_FLUSH, 0, NULL, 0, false);
	tap_eq(BLK_S_OK, status, "flush");

	blk_request(BLK_T_IN, DISK_SECTORS, data, sizeof(data), true);
	tap_eq(BLK_S_IOERR, status, "read past the end: IOERR");

	blk_request(BLK_T_GET_ID, 0, id, sizeof(id), true);
	tap_ok(status == BLK_S_OK && id[0], "GET_ID: a serial");
}

static void test_indirect(void)
{
	req = (struct blk_req){ BLK_T_IN, 0, 3 };
	status = 0xff;
	fill(0);
	vq_set_desc(&indirect[0], &req, sizeof(req), DESC_F_NEXT, 1);
	vq_set_desc(&indirect[1], data, sizeof(data), DESC_F_NEXT | DESC_F_WRITE, 2);
	vq_set_desc(&indirect[2], &status, 1, DESC_F_WRITE, 0);
	vq_set_desc(&blk.vq[0].desc[4], indirect, 3 * sizeof(indirect[0]),
		 DESC_F_INDIRECT, 0);
	vq_submit(&blk, 0, 4);
	vq_wait_used(&blk, 0);
	tap_ok(status == BLK_S_OK && starts_with(data, SECTOR3_TEXT),
	       "read through an indirect table");
}

/*
 * With EVENT_IDX, the device interrupts only when the used index passes
 * used_event. Interrupts stay enabled while the guest polls, so one that
 * should have been suppressed would be counted before the next request.
 */
static void test_interrupts(void)
{
	unsigned int s = blk.slot;
	struct vq *vq = &blk.vq[0];
	unsigned long before;

	before = virtio_irqs[s];
	vq->avail.used_event = vq->last_used;	/* the next completion */
	blk_request(BLK_T_IN, 3, data, sizeof(data), true);
	while (virtio_irqs[s] == before)
		wait_sti();
	tap_ok(virtio_isr_seen[s] & INT_USED_BUFFER,
	       "a completion raises the slot's line, InterruptStatus bit 0");
	tap_eq(vq->avail.idx, vq->used.avail_event,
	       "the device asks for the next notification (avail_event)");

	before = virtio_irqs[s];
	vq->avail.used_event = vq->last_used + 1;	/* skip one */
	blk_request(BLK_T_IN, 3, data, sizeof(data), true);
	blk_request(BLK_T_IN, 3, data, sizeof(data), true);
	while (virtio_irqs[s] == before)
		wait_sti();
	tap_eq(before + 1, virtio_irqs[s],
	       "used_event suppresses the first of two completions");
	vq->avail.used_event = 0xffff;
}

/* The console: transmit on queue 1, receive on queue 0. */
static void test_console(void)
{
	static const char msg[] = "virtio-console: hello from the guest\n";
	static char rx[64];
	struct vring_desc *tx = con.vq[1].desc, *rxd = con.vq[0].desc;
	uint32_t st, len;

	st = virtio_init(&con, 1ULL << F_VERSION_1, 2);
	tap_eq(S_UP, st,
	       "console: driver OK");
	vq_set_desc(&tx[0], msg, sizeof(msg) - 1, 0, 0);
	vq_submit(&con, 1, 0);
	tap_eq(0, vq_wait_used(&con, 1),
	       "console: transmit buffer used, nothing written to it");
	vq_set_desc(&rxd[0], rx, sizeof(rx), DESC_F_WRITE, 0);
	vq_submit(&con, 0, 0);
	len = vq_wait_used(&con, 0);
	tap_ok(len >= 5 && starts_with((uint8_t *)rx, "ping\n"),
	       "console: receives lvrun's stdin");
}

struct hostile {
	const char *name;
	void (*build)(struct vdev *d);
};

static void chain_loop(struct vdev *d)
{
	vq_set_desc(&d->vq[0].desc[0], data, 16, DESC_F_NEXT, 1);
	vq_set_desc(&d->vq[0].desc[1], data, 16, DESC_F_NEXT, 0);
	vq_submit(d, 0, 0);
}

/* A read whose data buffer is at @addr: a buffer the device must refuse. */
static void read_into(struct vdev *d, uintptr_t addr, uint32_t len)
{
	req = (struct blk_req){ BLK_T_IN, 0, 0 };
	vq_set_desc(&d->vq[0].desc[0], &req, sizeof(req), DESC_F_NEXT, 1);
	vq_set_desc(&d->vq[0].desc[1], (void *)addr, len,
		    DESC_F_NEXT | DESC_F_WRITE, 2);
	vq_set_desc(&d->vq[0].desc[2], &status, 1, DESC_F_WRITE, 0);
	vq_submit(d, 0, 0);
}

static void chain_outside_ram(struct vdev *d)
{
	read_into(d, 0x40000000UL, 512);
}

static void chain_over_mmio(struct vdev *d)
{
	read_into(d, IOAPIC, 512);
}

static void chain_wraps(struct vdev *d)
{
	read_into(d, 0xfffffffffffffe00UL, 0x400);
}

static void nested_indirect(struct vdev *d)
{
	vq_set_desc(&indirect[0], indirect, 2 * sizeof(indirect[0]),
		 DESC_F_INDIRECT, 0);
	vq_set_desc(&d->vq[0].desc[0], indirect, 2 * sizeof(indirect[0]),
		 DESC_F_INDIRECT, 0);
	vq_submit(d, 0, 0);
}

static void indirect_bad_size(struct vdev *d)
{
	vq_set_desc(&d->vq[0].desc[0], indirect, 17, DESC_F_INDIRECT, 0);
	vq_submit(d, 0, 0);
}

static void avail_jumps(struct vdev *d)
{
	struct vq *vq = &d->vq[0];

	vq->avail.idx += QSIZE + 1;
	barrier();
	vdev_write(d, VM_QUEUE_NOTIFY, 0);
}

static const struct hostile hostile[] = {
	{ "needs reset: a descriptor chain that loops", chain_loop },
	{ "needs reset: a buffer outside guest RAM", chain_outside_ram },
	{ "needs reset: a buffer over the I/O APIC's MMIO", chain_over_mmio },
	{ "needs reset: a length that wraps the address space", chain_wraps },
	{ "needs reset: an indirect table in an indirect table", nested_indirect },
	{ "needs reset: an indirect table of 17 bytes", indirect_bad_size },
	{ "needs reset: avail index jumps past the queue size", avail_jumps },
};

static void test_hostile(void)
{
	uint64_t want = 1ULL << F_VERSION_1 | 1ULL << F_INDIRECT_DESC;
	unsigned int s = blk.slot, i;

	for (i = 0; i < ARRAY_SIZE(hostile); i++) {
		virtio_init(&blk, want, 1);
		virtio_isr_seen[s] = 0;
		/* A device that misses the case hangs here: lvrun's timeout fails the run. */
		printf("# hostile front-end: %s\n", hostile[i].name);
		hostile[i].build(&blk);
		while (!(vdev_read(&blk, VM_STATUS) & S_NEEDS_RESET))
			wait_sti();
		while (!(virtio_isr_seen[s] & INT_CONFIG))
			wait_sti();
		tap_ok(true, hostile[i].name);
	}
	/* After a reset the device works again. */
	virtio_init(&blk, want, 1);
	fill(0);
	blk_request(BLK_T_IN, 3, data, sizeof(data), true);
	tap_ok(status == BLK_S_OK && starts_with(data, SECTOR3_TEXT),
	       "after a reset, the broken device reads again");
}

int main(void)
{
	tap_plan(7 + 7 + 1 + 3 + 3 + ARRAY_SIZE(hostile) + 1);
	virtio_route_irqs();
	test_probe();
	if (!blk.base || !con.base)
		return tap_done();
	test_blk();
	test_indirect();
	test_interrupts();
	test_console();
	test_hostile();
	return tap_done();
}
