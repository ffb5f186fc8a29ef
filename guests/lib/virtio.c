// SPDX-License-Identifier: GPL-2.0
/* A minimal virtio-mmio driver for test guests: see virtio.h. */
#include "virtio.h"

#define APIC			0xfee00000UL
#define IOAPIC			0xfec00000UL

static const uint8_t slot_irq[VIRTIO_MMIO_SLOTS] = { 5, 6, 7, 10, 11, 15 };

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_X2APIC	(3ULL << 10)	/* EN and EXTD */
#define X2APIC_EOI		0x80b
#define X2APIC_SVR		0x80f
#define X2APIC_LVT_LINT0	0x835

volatile unsigned long virtio_irqs[VIRTIO_MMIO_SLOTS];
static bool x2apic;
volatile uint32_t virtio_isr_seen[VIRTIO_MMIO_SLOTS];

static void ioapic_write(unsigned int reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

/* The vector says which slot: acknowledge what it reports, then EOI. */
static void virtio_irq(struct irq_frame *f)
{
	unsigned int slot = f->vector - VIRTIO_VECTOR;
	uintptr_t base = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SLOT_SIZE;
	uint32_t isr;

	isr = *(volatile uint32_t *)(base + VM_INTERRUPT_STATUS);
	*(volatile uint32_t *)(base + VM_INTERRUPT_ACK) = isr;
	virtio_isr_seen[slot] |= isr;
	virtio_irqs[slot]++;
	if (x2apic)
		wrmsr(X2APIC_EOI, 0);
	else
		*(volatile uint32_t *)(APIC + 0xb0) = 0;
}

/* x2APIC where the CPU has it, as Linux guests do: EOI is then a WRMSR. */
static void apic_enable(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	x2apic = c & (1U << 21);
	if (x2apic) {
		wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_X2APIC);
		wrmsr(X2APIC_SVR, 0x1ff);
		wrmsr(X2APIC_LVT_LINT0, 1 << 16);
		return;
	}
	*(volatile uint32_t *)(APIC + 0xf0) = 0x1ff;
	*(volatile uint32_t *)(APIC + 0x350) = 1 << 16;
}

/* Only the I/O APIC delivers the slots' lines: the PICs stay masked. */
void virtio_route_irqs(void)
{
	unsigned int i;

	idt_init();
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	apic_enable();
	for (i = 0; i < VIRTIO_MMIO_SLOTS; i++) {
		idt_set_handler(VIRTIO_VECTOR + i, virtio_irq);
		ioapic_write(0x11 + 2 * slot_irq[i], 0);
		ioapic_write(0x10 + 2 * slot_irq[i], VIRTIO_VECTOR + i);
	}
}

bool virtio_find(struct vdev *d, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < VIRTIO_MMIO_SLOTS; i++) {
		d->base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SLOT_SIZE;
		d->slot = i;
		if (vdev_read(d, VM_MAGIC) == 0x74726976 &&
		    vdev_read(d, VM_VERSION) == 2 &&
		    vdev_read(d, VM_DEVICE_ID) == id)
			return true;
	}
	d->base = 0;
	return false;
}

uint64_t virtio_device_features(const struct vdev *d)
{
	uint64_t f;

	vdev_write(d, VM_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)vdev_read(d, VM_DEVICE_FEATURES) << 32;
	vdev_write(d, VM_DEVICE_FEATURES_SEL, 0);
	return f | vdev_read(d, VM_DEVICE_FEATURES);
}

static void setup_queue(struct vdev *d, unsigned int q)
{
	struct vq *vq = &d->vq[q];
	uint8_t *p = (uint8_t *)vq;
	uintptr_t a;
	unsigned int i;

	for (i = 0; i < sizeof(*vq); i++)
		p[i] = 0;
	vdev_write(d, VM_QUEUE_SEL, q);
	vdev_write(d, VM_QUEUE_NUM, QSIZE);
	a = (uintptr_t)vq->desc;
	vdev_write(d, VM_QUEUE_DESC, a);
	vdev_write(d, VM_QUEUE_DESC + 4, a >> 32);
	a = (uintptr_t)&vq->avail;
	vdev_write(d, VM_QUEUE_DRIVER, a);
	vdev_write(d, VM_QUEUE_DRIVER + 4, a >> 32);
	a = (uintptr_t)&vq->used;
	vdev_write(d, VM_QUEUE_DEVICE, a);
	vdev_write(d, VM_QUEUE_DEVICE + 4, a >> 32);
	vdev_write(d, VM_QUEUE_READY, 1);
}

/* Resets the device and brings it up with @want; returns the final status. */
uint32_t virtio_init(struct vdev *d, uint64_t want, unsigned int nr_queues)
{
	unsigned int q;

	vdev_write(d, VM_STATUS, 0);
	vdev_write(d, VM_STATUS, S_ACKNOWLEDGE);
	vdev_write(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	d->features = virtio_device_features(d) & want;
	vdev_write(d, VM_DRIVER_FEATURES_SEL, 1);
	vdev_write(d, VM_DRIVER_FEATURES, d->features >> 32);
	vdev_write(d, VM_DRIVER_FEATURES_SEL, 0);
	vdev_write(d, VM_DRIVER_FEATURES, (uint32_t)d->features);
	vdev_write(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!(vdev_read(d, VM_STATUS) & S_FEATURES_OK))
		return vdev_read(d, VM_STATUS);
	for (q = 0; q < nr_queues; q++)
		setup_queue(d, q);
	vdev_write(d, VM_STATUS, S_UP);
	return vdev_read(d, VM_STATUS);
}

void vq_set_desc(struct vring_desc *desc, const volatile void *addr,
		 uint32_t len, uint16_t flags, uint16_t next)
{
	*desc = (struct vring_desc){ (uintptr_t)addr, len, flags, next };
}

/* Makes the chain at @head available and tells the device. */
void vq_submit(struct vdev *d, unsigned int q, uint16_t head)
{
	struct vq *vq = &d->vq[q];

	vq->avail.ring[vq->avail.idx % QSIZE] = head;
	barrier();
	vq->avail.idx++;
	barrier();
	vdev_write(d, VM_QUEUE_NOTIFY, q);
}

/* Waits for the next used entry; returns the length the device wrote. */
uint32_t vq_wait_used(struct vdev *d, unsigned int q)
{
	struct vq *vq = &d->vq[q];
	volatile uint16_t *idx = &vq->used.idx;
	uint32_t len;

	while (*idx == vq->last_used)
		wait_sti();
	barrier();
	len = vq->used.ring[vq->last_used % QSIZE].len;
	vq->last_used++;
	return len;
}
