// SPDX-License-Identifier: GPL-2.0
/*
 * virtio over MMIO from inside a guest: lvrun is started with --irqchip
 * --disk RW --disk RO,ro --console virtio, so slot 0 is a writable disk,
 * slot 1 a read-only one, slot 2 the console and slot 3 empty
 * (docs/virtio.md). Polling the used ring, the guest negotiates, sets up
 * queue 0, writes, reads back, flushes, asks for the id, reads past the
 * end, breaks the device with a looping chain and checks
 * DEVICE_NEEDS_RESET and that a reset brings it back. Then it takes a
 * completion and a breakage as interrupts on IRQ 5, and sends a line
 * through the console and receives lvrun's input. The host side
 * (tests/guests/virtio.sh) checks the image files and the output.
 */
#include "lib/guest.h"

#define VIRTIO_MMIO_BASE	0xfe800000UL
#define VIRTIO_MMIO_SLOT_SIZE	0x1000UL

#define R_MAGIC		0x000
#define R_VERSION	0x004
#define R_DEVICE_ID	0x008
#define R_DEV_FEATURES	0x010
#define R_DEV_FEAT_SEL	0x014
#define R_DRV_FEATURES	0x020
#define R_DRV_FEAT_SEL	0x024
#define R_QUEUE_SEL	0x030
#define R_QUEUE_NUM_MAX	0x034
#define R_QUEUE_NUM	0x038
#define R_QUEUE_READY	0x044
#define R_QUEUE_NOTIFY	0x050
#define R_ISR		0x060
#define R_ISR_ACK	0x064
#define R_STATUS	0x070
#define R_DESC_LOW	0x080
#define R_DESC_HIGH	0x084
#define R_DRIVER_LOW	0x090
#define R_DRIVER_HIGH	0x094
#define R_DEVICE_LOW	0x0a0
#define R_DEVICE_HIGH	0x0a4
#define R_CONFIG	0x100

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	0x40

#define F_RO		(1u << 5)	/* VIRTIO_BLK_F_RO, low word */
#define F_VERSION_1	1u		/* bit 32: bit 0 of the high word */

#define T_IN		0
#define T_OUT		1
#define T_FLUSH		4
#define T_GET_ID	8

#define D_NEXT		1
#define D_WRITE		2

#define QNUM		8

/* Slot 0's line, IRQ 5, through the in-kernel I/O APIC (--irqchip). */
#define APIC		0xfee00000UL
#define IOAPIC		0xfec00000UL
#define SLOT0_IRQ	5
#define SLOT0_VECTOR	0x50

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct used_elem {
	uint32_t id, len;
};

/* A split virtqueue of QNUM entries; guest-physical = virtual here. */
struct vring {
	struct desc desc[QNUM];
	struct {
		uint16_t flags, idx, ring[QNUM], used_event;
	} avail;
	struct {
		uint16_t flags, idx;
		struct used_elem ring[QNUM];
		uint16_t avail_event;
	} used __attribute__((aligned(4)));
	uint16_t next_avail;
} __attribute__((aligned(16)));

static struct vring blkq, rxq, txq;

static struct {
	uint32_t type, reserved;
	uint64_t sector;
} hdr;
static uint8_t buf[512] __attribute__((aligned(16)));
static volatile uint8_t status;

static uintptr_t slot;		/* the device in use */

static uint32_t rd(uint32_t off)
{
	return *(volatile uint32_t *)(slot + off);
}

static void wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(slot + off) = v;
}

static void use_slot(unsigned int n)
{
	slot = VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_SLOT_SIZE;
}

static void set_desc(struct vring *r, unsigned int i, const volatile void *addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	r->desc[i].addr = (uintptr_t)addr;
	r->desc[i].len = len;
	r->desc[i].flags = flags;
	r->desc[i].next = next;
}

static void zero_ring(struct vring *r)
{
	volatile uint8_t *p = (volatile uint8_t *)r;
	unsigned int i;

	for (i = 0; i < sizeof(*r); i++)
		p[i] = 0;
}

/* Queue setup (spec 4.2.3.2); false if the device has no such queue. */
static bool setup_queue(unsigned int q, struct vring *r)
{
	uintptr_t d = (uintptr_t)r->desc, a = (uintptr_t)&r->avail;
	uintptr_t u = (uintptr_t)&r->used;

	zero_ring(r);
	wr(R_QUEUE_SEL, q);
	if (rd(R_QUEUE_READY) || rd(R_QUEUE_NUM_MAX) < QNUM)
		return false;
	wr(R_QUEUE_NUM, QNUM);
	wr(R_DESC_LOW, d);
	wr(R_DESC_HIGH, d >> 32);
	wr(R_DRIVER_LOW, a);
	wr(R_DRIVER_HIGH, a >> 32);
	wr(R_DEVICE_LOW, u);
	wr(R_DEVICE_HIGH, u >> 32);
	wr(R_QUEUE_READY, 1);
	return true;
}

/* The driver's start-up (spec 3.1.1); the status read back at the end. */
static uint32_t start(uint32_t features_low, struct vring *q0, struct vring *q1)
{
	wr(R_STATUS, 0);
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEATURES, F_VERSION_1);
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEATURES, features_low);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd(R_STATUS) & S_FEATURES_OK))
		return rd(R_STATUS);
	if (!setup_queue(0, q0) || (q1 && !setup_queue(1, q1)))
		return 0;
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return rd(R_STATUS);
}

/* Makes descriptor 0 of queue @q available, waits for it or a breakage. */
static bool kick_and_wait(struct vring *r, unsigned int q)
{
	volatile uint16_t *used_idx = &r->used.idx;
	uint16_t want = r->next_avail + 1;

	r->avail.ring[r->next_avail % QNUM] = 0;
	asm volatile("" : : : "memory");	/* x86: stores stay in order */
	r->avail.idx = ++r->next_avail;
	wr(R_QUEUE_NOTIFY, q);
	while (*used_idx != want) {
		if (rd(R_STATUS) & S_NEEDS_RESET)
			return false;
		asm volatile("pause");
	}
	return true;
}

/* One request: header, optional data, status; the status or -1. */
static int request(uint32_t type, uint64_t sector, uint32_t len, bool to_device)
{
	hdr.type = type;
	hdr.reserved = 0;
	hdr.sector = sector;
	status = 0xee;
	set_desc(&blkq, 0, &hdr, sizeof(hdr), D_NEXT, 1);
	if (len) {
		set_desc(&blkq, 1, buf, len, D_NEXT | (to_device ? 0 : D_WRITE), 2);
		set_desc(&blkq, 2, &status, 1, D_WRITE, 0);
	} else {
		set_desc(&blkq, 1, &status, 1, D_WRITE, 0);
	}
	return kick_and_wait(&blkq, 0) ? status : -1;
}

static uint32_t used_len(struct vring *r, unsigned int i)
{
	return ((volatile struct used_elem *)&r->used.ring[i])->len;
}

static const char text[] = "lightvisor virtio-blk sector 1";

static bool buf_is_text(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(text) - 1; i++)
		if (buf[i] != (uint8_t)text[i])
			return false;
	return true;
}

static void test_probe(void)
{
	use_slot(0);
	tap_ok(rd(R_MAGIC) == 0x74726976 && rd(R_VERSION) == 2 && rd(R_DEVICE_ID) == 2,
	       "slot 0: virtio-mmio version 2, DeviceID 2 (block)");
	use_slot(3);
	tap_ok(rd(R_MAGIC) == 0x74726976 && rd(R_DEVICE_ID) == 0,
	       "slot 3: empty, DeviceID 0");
	use_slot(0);
	wr(R_DEV_FEAT_SEL, 1);
	tap_ok(rd(R_DEV_FEATURES) & F_VERSION_1, "slot 0 offers VERSION_1");
	tap_ok(!(start(0xffffffff, &blkq, NULL) & S_FEATURES_OK),
	       "FEATURES_OK refused for features the device did not offer");
}

static void test_io(void)
{
	unsigned int i;

	tap_eq(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK, start(0, &blkq, NULL),
	       "start-up reaches DRIVER_OK");
	tap_eq(2048, rd(R_CONFIG), "capacity: 2048 sectors");
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i < sizeof(text) - 1 ? text[i] : 0;
	tap_eq(0, request(T_OUT, 1, 512, true), "write sector 1: OK");
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = 0;
	tap_ok(request(T_IN, 1, 512, false) == 0 && buf_is_text() &&
	       used_len(&blkq, 1) == 513, "read sector 1 back, 513 bytes used");
	tap_eq(0, request(T_FLUSH, 0, 0, false), "flush: OK");
	tap_ok(request(T_GET_ID, 0, 20, false) == 0 && buf[0] == 'r' && buf[1] == 'w',
	       "get-id: the file's name");
	tap_eq(1, request(T_IN, 2047, 1024, false), "a read past the end: IOERR");
	tap_eq(2, request(77, 0, 0, false), "an unknown request: UNSUPP");
}

static void test_ro(void)
{
	use_slot(1);
	wr(R_DEV_FEAT_SEL, 0);
	tap_ok(rd(R_DEVICE_ID) == 2 && rd(R_DEV_FEATURES) & F_RO,
	       "slot 1: a block device offering RO");
	start(F_RO, &blkq, NULL);
	buf[0] = 'X';
	tap_eq(1, request(T_OUT, 0, 512, true), "ro disk: a write gets IOERR");
	tap_ok(request(T_IN, 0, 512, false) == 0 && buf[0] == 'R',
	       "ro disk: a read works and shows the old contents");
	use_slot(0);
}

static void test_hostile(void)
{
	unsigned int i;

	start(0, &blkq, NULL);
	set_desc(&blkq, 0, &hdr, sizeof(hdr), D_NEXT, 1);
	set_desc(&blkq, 1, &hdr, sizeof(hdr), D_NEXT, 0);
	tap_ok(!kick_and_wait(&blkq, 0), "a looping chain is not completed");
	tap_ok(rd(R_STATUS) & S_NEEDS_RESET && rd(R_ISR) & 2,
	       "looping chain: DEVICE_NEEDS_RESET and a config-change interrupt");
	wr(R_ISR_ACK, rd(R_ISR));
	wr(R_STATUS, 0);
	tap_ok(rd(R_STATUS) == 0 && rd(R_ISR) == 0, "a reset clears it");
	start(0, &blkq, NULL);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = 0;
	tap_ok(request(T_IN, 1, 512, false) == 0 && buf_is_text(),
	       "after the reset the device works again");
}

static volatile unsigned int irqs;
static volatile uint32_t isr_seen;

static void apic_write(unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(APIC + off) = v;
}

static void ioapic_write(unsigned int reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

/* As Linux's vm_interrupt(): read InterruptStatus, acknowledge it, EOI. */
static void slot0_handler(struct irq_frame *f)
{
	volatile uint32_t *regs = (volatile uint32_t *)VIRTIO_MMIO_BASE;
	uint32_t isr = regs[R_ISR / 4];

	(void)f;
	regs[R_ISR_ACK / 4] = isr;
	isr_seen |= isr;
	irqs++;
	apic_write(0xb0, 0);
}

static void irq_setup(void)
{
	idt_init();
	idt_set_handler(SLOT0_VECTOR, slot0_handler);
	outb(0x21, 0xff);			/* the PICs stay masked */
	outb(0xa1, 0xff);
	apic_write(0xf0, 0x1ff);
	apic_write(0x350, 1 << 16);		/* LINT0 (ExtINT) masked */
	ioapic_write(0x11 + 2 * SLOT0_IRQ, 0);	/* to APIC 0 */
	ioapic_write(0x10 + 2 * SLOT0_IRQ, SLOT0_VECTOR);	/* edge, unmasked */
}

/* Waits, halted, for one more interrupt than @before. */
static void wait_irq(unsigned int before)
{
	while (irqs == before)
		sti_hlt();
	asm volatile("cli" ::: "memory");
}

/* Interrupts instead of polling: a completion, then a breakage. */
static void test_interrupts(void)
{
	use_slot(0);
	start(0, &blkq, NULL);
	asm volatile("sti; nop; nop; cli" ::: "memory");	/* stale edges */
	irqs = 0;
	isr_seen = 0;
	hdr.type = T_FLUSH;
	status = 0xee;
	set_desc(&blkq, 0, &hdr, sizeof(hdr), D_NEXT, 1);
	set_desc(&blkq, 1, &status, 1, D_WRITE, 0);
	blkq.avail.ring[0] = 0;
	asm volatile("" : : : "memory");
	blkq.avail.idx = ++blkq.next_avail;
	wr(R_QUEUE_NOTIFY, 0);
	wait_irq(0);
	tap_ok(isr_seen == 1 && status == 0 && blkq.used.idx == 1,
	       "irq 5: a completion interrupts with InterruptStatus bit 0");
	set_desc(&blkq, 0, &hdr, sizeof(hdr), D_NEXT, 1);
	set_desc(&blkq, 1, &hdr, sizeof(hdr), D_NEXT, 0);
	isr_seen = 0;
	blkq.avail.ring[1] = 0;
	asm volatile("" : : : "memory");
	blkq.avail.idx = ++blkq.next_avail;
	wr(R_QUEUE_NOTIFY, 0);
	wait_irq(1);
	tap_ok(isr_seen == 2 && rd(R_STATUS) & S_NEEDS_RESET,
	       "irq 5: a breakage interrupts with InterruptStatus bit 1");
	wr(R_STATUS, 0);
}

/* Slot 2: the console (--console virtio); lvrun's stdin has "ping". */
static void test_console(void)
{
	static const char hello[] = "hello from hvc0\n";
	static char in[64];

	use_slot(2);
	tap_ok(rd(R_DEVICE_ID) == 3 &&
	       start(0, &rxq, &txq) == (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK),
	       "slot 2: a console, receive and transmit queues set up");
	set_desc(&txq, 0, hello, sizeof(hello) - 1, 0, 0);
	tap_ok(kick_and_wait(&txq, 1), "console: a transmit buffer is used (lvrun prints it)");
	set_desc(&rxq, 0, in, sizeof(in), D_WRITE, 0);
	tap_ok(kick_and_wait(&rxq, 0) && used_len(&rxq, 0) >= 4 && in[0] == 'p' &&
	       in[1] == 'i' && in[2] == 'n' && in[3] == 'g',
	       "console: a receive buffer gets lvrun's input");
	use_slot(0);
}

int main(void)
{
	irq_setup();
	tap_plan(24);
	test_probe();
	test_io();
	test_ro();
	test_hostile();
	test_interrupts();
	test_console();
	return tap_done();
}
