// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the split virtqueue (virtio 1.x, section 2.7), device side.
 *
 * The rings live in guest memory that the guest's CPUs change under our
 * feet: every descriptor is copied once before it is checked, and every
 * guest address becomes a host pointer only through gmem_ptr(), which
 * refuses anything not wholly inside guest RAM. A front-end that breaks a
 * rule marks the device broken (virtio_dev_broken()); nothing it does
 * makes lvrun touch memory outside guest RAM, loop or crash.
 *
 * Ordering: the driver is another CPU. The avail index is loaded with
 * acquire (the ring entries and descriptors it covers are read after it);
 * the used index is stored with release (the used entries and the data
 * written into the buffers are visible before it). The event-index checks
 * need a full fence between the index update and the read of the other
 * side's event index, as in the driver (virtio_ring.c).
 */
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "../log.h"
#include "virtio.h"

static unsigned int vq_index(const struct virtio_dev *dev, const struct virtq *vq)
{
	return vq - dev->vq;
}

static uint16_t load_acquire16(const uint16_t *p)
{
	return atomic_load_explicit((_Atomic uint16_t *)p, memory_order_acquire);
}

static uint16_t load16(const uint16_t *p)
{
	return atomic_load_explicit((_Atomic uint16_t *)p, memory_order_relaxed);
}

static void store_release16(uint16_t *p, uint16_t v)
{
	atomic_store_explicit((_Atomic uint16_t *)p, v, memory_order_release);
}

/* used_event sits after the avail ring, avail_event after the used ring. */
static uint16_t *used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->num];
}

static uint16_t *avail_event(struct virtq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

bool virtq_map(struct virtio_dev *dev, struct virtq *vq)
{
	unsigned int q = vq_index(dev, vq);
	uint64_t num = vq->num;

	if (!num || num > VIRTIO_QUEUE_NUM_MAX || num & (num - 1)) {
		virtio_dev_broken(dev, "queue %u: size %llu is not a power of two up to %u",
				  q, (unsigned long long)num, VIRTIO_QUEUE_NUM_MAX);
		return false;
	}
	if (vq->desc_addr & 15 || vq->driver_addr & 1 || vq->device_addr & 3) {
		virtio_dev_broken(dev, "queue %u: misaligned ring", q);
		return false;
	}
	vq->desc = gmem_ptr(&dev->mem, vq->desc_addr, 16 * num);
	vq->avail = gmem_ptr(&dev->mem, vq->driver_addr, 6 + 2 * num);
	vq->used = gmem_ptr(&dev->mem, vq->device_addr, 6 + 8 * num);
	if (!vq->desc || !vq->avail || !vq->used) {
		virtio_dev_broken(dev, "queue %u: ring outside guest RAM", q);
		return false;
	}
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
	return true;
}

/* One copy of a descriptor the guest may be rewriting. */
static struct vring_desc read_desc(const struct vring_desc *table, unsigned int i)
{
	struct vring_desc d;

	memcpy(&d, &table[i], sizeof(d));
	/* Every later use reads the copy, never the guest's memory again. */
	atomic_signal_fence(memory_order_seq_cst);
	return d;
}

/* Where the walk through a chain is. */
struct chain_walk {
	const struct vring_desc *table;
	unsigned int size;		/* entries in table */
	unsigned int visited;
	bool indirect;
};

static int enter_indirect(struct virtio_dev *dev, struct chain_walk *w,
			  const struct vring_desc *d)
{
	if (w->indirect) {
		virtio_dev_broken(dev, "nested indirect descriptor table");
		return -1;
	}
	if (!virtio_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC)) {
		virtio_dev_broken(dev, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
		return -1;
	}
	if (d->flags & VRING_DESC_F_NEXT) {
		virtio_dev_broken(dev, "indirect descriptor with NEXT set");
		return -1;
	}
	if (!d->len || d->len % sizeof(*d) || d->len / sizeof(*d) > VIRTIO_MAX_SEGS) {
		virtio_dev_broken(dev, "indirect table has a bad length (%u bytes)", d->len);
		return -1;
	}
	w->table = gmem_ptr(&dev->mem, d->addr, d->len);
	if (!w->table) {
		virtio_dev_broken(dev, "indirect table outside guest RAM (0x%llx, %u bytes)",
				  (unsigned long long)d->addr, d->len);
		return -1;
	}
	w->size = d->len / sizeof(*d);
	w->visited = 0;
	w->indirect = true;
	return 0;
}

static int add_segment(struct virtio_dev *dev, struct virtq_req *req,
		       const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	void *p;

	if (!writable && req->nr_in) {
		virtio_dev_broken(dev, "device-readable descriptor after a writable one");
		return -1;
	}
	if (req->out_len + req->in_len + d->len > UINT32_MAX) {
		virtio_dev_broken(dev, "descriptor chain length overflows");
		return -1;
	}
	p = gmem_ptr(&dev->mem, d->addr, d->len);
	if (!p) {
		virtio_dev_broken(dev, "descriptor outside guest RAM (0x%llx, %u bytes)",
				  (unsigned long long)d->addr, d->len);
		return -1;
	}
	if (!d->len)
		return 0;
	req->iov[req->nr_out + req->nr_in] = (struct iovec){ p, d->len };
	if (writable) {
		req->nr_in++;
		req->in_len += d->len;
	} else {
		req->nr_out++;
		req->out_len += d->len;
	}
	return 0;
}

/*
 * Follows the chain from @head. Every descriptor is visited at most once
 * per table: more visits than the table has entries means a loop.
 */
static int walk_chain(struct virtio_dev *dev, struct virtq *vq, struct virtq_req *req)
{
	struct chain_walk w = { vq->desc, vq->num, 0, false };
	unsigned int i = req->head;

	for (;;) {
		struct vring_desc d;

		if (++w.visited > w.size) {
			virtio_dev_broken(dev, "descriptor chain loops");
			return -1;
		}
		d = read_desc(w.table, i);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (enter_indirect(dev, &w, &d))
				return -1;
			i = 0;
			continue;
		}
		if (add_segment(dev, req, &d))
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 1;
		i = d.next;
		if (i >= w.size) {
			virtio_dev_broken(dev, "descriptor index %u out of range", i);
			return -1;
		}
	}
}

int virtq_pop(struct virtio_dev *dev, struct virtq *vq, struct virtq_req *req)
{
	uint16_t avail_idx = load_acquire16(&vq->avail->idx);
	uint16_t pending = avail_idx - vq->last_avail;

	if (atomic_load(&dev->broken))
		return -1;
	if (!pending)
		return 0;
	if (pending > vq->num) {
		/* Modulo 2^16, "backwards" is a jump of more than half the range. */
		virtio_dev_broken(dev, "queue %u: avail index %s from %u to %u",
				  vq_index(dev, vq),
				  pending >= 0x8000 ? "went backwards" : "jumped past the queue size",
				  vq->last_avail, avail_idx);
		return -1;
	}
	req->head = load16(&vq->avail->ring[vq->last_avail & (vq->num - 1)]);
	req->nr_out = req->nr_in = 0;
	req->out_len = req->in_len = 0;
	if (req->head >= vq->num) {
		virtio_dev_broken(dev, "queue %u: avail entry names descriptor %u of %u",
				  vq_index(dev, vq), req->head, vq->num);
		return -1;
	}
	vq->last_avail++;
	return walk_chain(dev, vq, req);
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

void virtq_push(struct virtio_dev *dev, struct virtq *vq,
		const struct virtq_req *req, uint32_t len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx & (vq->num - 1)];

	(void)dev;
	e->id = req->head;
	e->len = len;
	vq->used_idx++;
	store_release16(&vq->used->idx, vq->used_idx);
}

static bool driver_wants_interrupt(struct virtio_dev *dev, struct virtq *vq)
{
	uint16_t old = vq->signalled_used;
	bool valid = vq->signalled_valid;

	/* The used index must be visible before the driver's wish is read. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!virtio_has_feature(dev, VIRTIO_RING_F_EVENT_IDX))
		return !(load16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	return !valid || vring_need_event(load16(used_event(vq)), vq->used_idx, old);
}

void virtq_notify_driver(struct virtio_dev *dev, struct virtq *vq)
{
	if (driver_wants_interrupt(dev, vq))
		virtio_raise_irq(dev, VIRTIO_MMIO_INT_VRING);
}

bool virtq_enable_notify(struct virtio_dev *dev, struct virtq *vq)
{
	if (!virtio_has_feature(dev, VIRTIO_RING_F_EVENT_IDX) || atomic_load(&dev->broken))
		return false;
	store_release16(avail_event(vq), vq->last_avail);
	/* Published before the avail index is looked at again. */
	atomic_thread_fence(memory_order_seq_cst);
	return load_acquire16(&vq->avail->idx) != vq->last_avail;
}

/* Copies between @buf and the segments, @skip bytes into them. */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t skip,
		       void *buf, size_t len, bool to_iov)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < n && done < len; i++) {
		uint8_t *seg = iov[i].iov_base;
		size_t chunk;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		chunk = iov[i].iov_len - skip;
		if (chunk > len - done)
			chunk = len - done;
		if (to_iov)
			memcpy(seg + skip, (uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done, seg + skip, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip,
		    const void *buf, size_t len)
{
	return iov_copy(iov, n, skip, (void *)buf, len, true);
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip,
		  void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

unsigned int iov_skip(const struct iovec *iov, unsigned int n, size_t skip,
		      struct iovec *dst)
{
	unsigned int i, out = 0;

	for (i = 0; i < n; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		dst[out].iov_base = (uint8_t *)iov[i].iov_base + skip;
		dst[out].iov_len = iov[i].iov_len - skip;
		out++;
		skip = 0;
	}
	return out;
}
