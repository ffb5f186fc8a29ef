/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal virtio 1.x driver for test guests: lvrun's virtio-mmio slots
 * (version 2 registers), split virtqueues of QSIZE entries that the
 * caller fills itself, and the slots' ISA lines routed through the I/O
 * APIC (lvrun --irqchip) to VIRTIO_VECTOR + slot.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "guest.h"

#define VIRTIO_MMIO_BASE	0xfe800000UL
#define VIRTIO_MMIO_SLOT_SIZE	0x1000UL
#define VIRTIO_MMIO_SLOTS	6
#define VIRTIO_VECTOR		0x50

/* The MMIO transport's registers. */
#define VM_MAGIC		0x000
#define VM_VERSION		0x004
#define VM_DEVICE_ID		0x008
#define VM_DEVICE_FEATURES	0x010
#define VM_DEVICE_FEATURES_SEL	0x014
#define VM_DRIVER_FEATURES	0x020
#define VM_DRIVER_FEATURES_SEL	0x024
#define VM_QUEUE_SEL		0x030
#define VM_QUEUE_NUM_MAX	0x034
#define VM_QUEUE_NUM		0x038
#define VM_QUEUE_READY		0x044
#define VM_QUEUE_NOTIFY		0x050
#define VM_INTERRUPT_STATUS	0x060
#define VM_INTERRUPT_ACK	0x064
#define VM_STATUS		0x070
#define VM_QUEUE_DESC		0x080
#define VM_QUEUE_DRIVER		0x090
#define VM_QUEUE_DEVICE		0x0a0
#define VM_CONFIG		0x100

#define S_ACKNOWLEDGE		1
#define S_DRIVER		2
#define S_DRIVER_OK		4
#define S_FEATURES_OK		8
#define S_NEEDS_RESET		0x40
#define S_UP			(S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

#define INT_USED_BUFFER		1
#define INT_CONFIG		2

#define F_BLK_FLUSH		9
#define F_INDIRECT_DESC		28
#define F_EVENT_IDX		29
#define F_VERSION_1		32

#define ID_NET			1
#define ID_BLOCK		2
#define ID_CONSOLE		3

#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_T_GET_ID		8
#define BLK_S_OK		0
#define BLK_S_IOERR		1
#define BLK_ID_BYTES		20

#define DESC_F_NEXT		1
#define DESC_F_WRITE		2
#define DESC_F_INDIRECT		4

#define QSIZE			16

#define barrier()		asm volatile("" : : : "memory")

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[QSIZE];
	uint16_t used_event;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct {
		uint32_t id;
		uint32_t len;
	} ring[QSIZE];
	uint16_t avail_event;
};

struct vq {
	struct vring_desc desc[QSIZE] __attribute__((aligned(16)));
	struct vring_avail avail __attribute__((aligned(2)));
	struct vring_used used __attribute__((aligned(4)));
	uint16_t last_used;
};

struct vdev {
	uintptr_t base;
	unsigned int slot;
	uint64_t features;
	struct vq vq[2];
};

struct blk_req {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* Interrupts seen per slot, and the InterruptStatus bits they acked. */
extern volatile unsigned long virtio_irqs[VIRTIO_MMIO_SLOTS];
extern volatile uint32_t virtio_isr_seen[VIRTIO_MMIO_SLOTS];

static inline uint32_t vdev_read(const struct vdev *d, unsigned int off)
{
	return *(volatile uint32_t *)(d->base + off);
}

static inline void vdev_write(const struct vdev *d, unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(d->base + off) = v;
}

/* Waits with interrupts on: the handler counts while the guest polls. */
static inline void wait_sti(void)
{
	asm volatile("sti; pause; cli" : : : "memory");
}

void virtio_route_irqs(void);
bool virtio_find(struct vdev *d, uint32_t id);
uint64_t virtio_device_features(const struct vdev *d);
uint32_t virtio_init(struct vdev *d, uint64_t want, unsigned int nr_queues);
void vq_set_desc(struct vring_desc *desc, const volatile void *addr,
		 uint32_t len, uint16_t flags, uint16_t next);
void vq_submit(struct vdev *d, unsigned int q, uint16_t head);
uint32_t vq_wait_used(struct vdev *d, unsigned int q);

#endif /* GUEST_VIRTIO_H */
