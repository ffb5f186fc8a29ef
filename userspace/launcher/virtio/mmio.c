// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the virtio MMIO transport, version 2 (virtio 1.x, section 4.2):
 * the registers of one device slot, feature negotiation, queue setup,
 * reset, and the device's back-end thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "../layout.h"
#include "../log.h"
#include "virtio.h"

#define MMIO_MAGIC		0x74726976	/* "virt" */
#define MMIO_VERSION		2
#define VIRTIO_MMIO_CONFIG	0x100

bool virtio_has_feature(const struct virtio_dev *dev, unsigned int bit)
{
	return dev->driver_features & (1ULL << bit);
}

bool virtio_dev_live(struct virtio_dev *dev)
{
	uint32_t need = VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK;

	return (dev->status & need) == need && !atomic_load(&dev->broken);
}

static void eventfd_signal(int fd);

/*
 * The one place an interrupt leaves a device: an edge on its ISA line,
 * sent by the kernel through the irqfd if there is one, else by lvrun.
 */
void virtio_raise_irq(struct virtio_dev *dev, unsigned int bits)
{
	atomic_fetch_or(&dev->isr, bits);
	if (dev->irq_fd >= 0) {
		eventfd_signal(dev->irq_fd);
		return;
	}
	pthread_mutex_lock(&dev->irq_lock);
	irq_line_set(&dev->irq, 1);
	irq_line_set(&dev->irq, 0);
	pthread_mutex_unlock(&dev->irq_lock);
}

void virtio_dev_broken(struct virtio_dev *dev, const char *fmt, ...)
{
	char cause[VIRTIO_CAUSE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	if (atomic_exchange(&dev->broken, true))
		return;		/* one message per breakage */
	snprintf(dev->broken_msg, sizeof(dev->broken_msg), "%s: %s", dev->name, cause);
	warn("%s (device needs reset)", dev->broken_msg);
	virtio_raise_irq(dev, VIRTIO_MMIO_INT_CONFIG);
}

/*
 * ioeventfd for each queue (a 4-byte write of its index to QueueNotify
 * rings the doorbell) and an irqfd for the line. Where the hypervisor
 * refuses one, that path stays in lvrun: the exit handler and
 * irq_line_set() do the same work.
 */
static void virtio_kernel_paths(struct virtio_dev *dev)
{
	struct hv *hv = dev->hv;
	unsigned int q;
	int fd;

	for (q = 0; q < dev->nr_queues; q++)
		if (hv->ops->ioeventfd(hv, dev->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4,
				       false, true, q, dev->doorbell_fd, true))
			trace("%s: queue %u notifies through lvrun (ioeventfd: %s)",
			      dev->name, q, strerror(errno));
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		die("%s: eventfd for the irqfd: %s", dev->name, strerror(errno));
	if (hv->ops->irqfd(hv, dev->irq.gsi, fd, true)) {
		trace("%s: interrupts through lvrun (irqfd: %s)", dev->name,
		      strerror(errno));
		close(fd);
		return;
	}
	dev->irq_fd = fd;
	/* The handler's status read and acknowledgement, without exits. */
	if (hv->ops->irq_status(hv, dev->base + VIRTIO_MMIO_INTERRUPT_STATUS,
				dev->base + VIRTIO_MMIO_INTERRUPT_ACK, &dev->isr,
				true))
		trace("%s: interrupt status through lvrun (%s)", dev->name,
		      strerror(errno));
}

static void eventfd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		warn("eventfd write: %s", strerror(errno));
}

static void virtio_ring(struct virtio_dev *dev)
{
	eventfd_signal(dev->doorbell_fd);
}

void virtio_dev_wake(struct virtio_dev *dev)
{
	atomic_fetch_or(&dev->wake, VIRTIO_WAKE_EVENT);
	virtio_ring(dev);
}

/* --- Feature negotiation and status --------------------------------- */

static bool features_acceptable(const struct virtio_dev *dev)
{
	if (dev->driver_features & ~dev->device_features)
		return false;
	return dev->driver_features & (1ULL << VIRTIO_F_VERSION_1);
}

/* Both locks held. */
static void virtio_dev_reset(struct virtio_dev *dev)
{
	unsigned int i;

	dev->status = 0;
	dev->driver_features = 0;
	dev->device_features_sel = 0;
	dev->driver_features_sel = 0;
	dev->queue_sel = 0;
	for (i = 0; i < dev->nr_queues; i++)
		memset(&dev->vq[i], 0, sizeof(dev->vq[i]));
	atomic_store(&dev->isr, 0);
	atomic_store(&dev->broken, false);
	atomic_store(&dev->io_wait, false);
	dev->broken_msg[0] = 0;
	if (dev->ops->reset)
		dev->ops->reset(dev);
}

static void status_write(struct virtio_dev *dev, uint32_t val)
{
	uint32_t old = dev->status;

	pthread_mutex_lock(&dev->work_lock);
	if (!val) {
		virtio_dev_reset(dev);
		goto out;
	}
	val &= ~VIRTIO_CONFIG_S_NEEDS_RESET;	/* the device's bit */
	if (val & ~old & VIRTIO_CONFIG_S_FEATURES_OK && !features_acceptable(dev)) {
		trace("%s: driver features 0x%llx refused", dev->name,
		      (unsigned long long)dev->driver_features);
		val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	dev->status = val;
	/* Buffers made available before DRIVER_OK are looked at now. */
	if (val & ~old & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_ring(dev);
out:
	pthread_mutex_unlock(&dev->work_lock);
}

static void driver_features_write(struct virtio_dev *dev, uint32_t val)
{
	unsigned int shift = dev->driver_features_sel * 32;

	/* Fixed once FEATURES_OK is set; only two words exist. */
	if (dev->status & VIRTIO_CONFIG_S_FEATURES_OK || dev->driver_features_sel > 1)
		return;
	dev->driver_features &= ~(0xffffffffULL << shift);
	dev->driver_features |= (uint64_t)val << shift;
}

/* --- Queue registers ------------------------------------------------- */

static struct virtq *selected_queue(struct virtio_dev *dev)
{
	return dev->queue_sel < dev->nr_queues ? &dev->vq[dev->queue_sel] : NULL;
}

static void set_low(uint64_t *reg, uint32_t val)
{
	*reg = (*reg & ~0xffffffffULL) | val;
}

static void set_high(uint64_t *reg, uint32_t val)
{
	*reg = (*reg & 0xffffffffULL) | (uint64_t)val << 32;
}

static void queue_ready_write(struct virtio_dev *dev, struct virtq *vq, uint32_t val)
{
	pthread_mutex_lock(&dev->work_lock);
	if (!val)
		vq->ready = false;
	else if (!vq->ready && !atomic_load(&dev->broken))
		vq->ready = virtq_map(dev, vq);
	pthread_mutex_unlock(&dev->work_lock);
}

/* The address and size registers only change while the queue is off. */
static void queue_write(struct virtio_dev *dev, uint64_t off, uint32_t val)
{
	struct virtq *vq = selected_queue(dev);

	if (!vq)
		return;
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		queue_ready_write(dev, vq, val);
		return;
	}
	if (vq->ready)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->num = val > 0xffff ? 0 : val;	/* checked on QueueReady */
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		set_low(&vq->desc_addr, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_high(&vq->desc_addr, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		set_low(&vq->driver_addr, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		set_high(&vq->driver_addr, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		set_low(&vq->device_addr, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		set_high(&vq->device_addr, val);
		break;
	}
}

static void notify_write(struct virtio_dev *dev, uint32_t val)
{
	if (val < dev->nr_queues)
		virtio_ring(dev);
}

/* --- Register dispatch ----------------------------------------------- */

static uint32_t features_word(uint64_t features, uint32_t sel)
{
	return sel < 2 ? (uint32_t)(features >> (sel * 32)) : 0;
}

static uint32_t queue_read(struct virtio_dev *dev, uint64_t off)
{
	struct virtq *vq = selected_queue(dev);

	if (!vq)
		return 0;
	if (off == VIRTIO_MMIO_QUEUE_NUM_MAX)
		return VIRTIO_QUEUE_NUM_MAX;
	return vq->ready;	/* VIRTIO_MMIO_QUEUE_READY */
}

static uint32_t reg_read(struct virtio_dev *dev, uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return features_word(dev->device_features, dev->device_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
	case VIRTIO_MMIO_QUEUE_READY:
		return queue_read(dev, off);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return atomic_load(&dev->isr);
	case VIRTIO_MMIO_STATUS:
		return dev->status |
		       (atomic_load(&dev->broken) ? VIRTIO_CONFIG_S_NEEDS_RESET : 0);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff;	/* no shared memory region: length -1 */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return dev->config_generation;
	}
	return 0;
}

static void reg_write(struct virtio_dev *dev, uint64_t off, uint32_t val)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->device_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		driver_features_write(dev, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->driver_features_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		queue_write(dev, off, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		notify_write(dev, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		atomic_fetch_and(&dev->isr, ~val);
		break;
	case VIRTIO_MMIO_STATUS:
		status_write(dev, val);
		break;
	}
}

/*
 * A config access must fit one field, aligned, at the field's size (or
 * as one 32-bit half of a 64-bit field): what the spec asks of drivers.
 */
static bool config_access_ok(const struct virtio_dev *dev, uint64_t off,
			     unsigned int len)
{
	unsigned int i;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return false;
	if (off & (len - 1))
		return false;
	for (i = 0; i < dev->nr_cfg_fields; i++) {
		const struct virtio_cfg_field *f = &dev->cfg_fields[i];

		if (off < f->offset || off + len > (uint64_t)f->offset + f->size)
			continue;
		return len == f->size || (f->size == 8 && len == 4);
	}
	return false;
}

static void config_access(struct virtio_dev *dev, uint64_t off, bool is_write,
			  uint8_t *data, unsigned int len)
{
	if (!config_access_ok(dev, off, len) || off + len > dev->config_len) {
		trace("%s: config %s of %u bytes at 0x%llx ignored", dev->name,
		      is_write ? "write" : "read", len, (unsigned long long)off);
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	/* Every field lvrun offers is read-only for the driver. */
	if (!is_write)
		memcpy(data, dev->config + off, len);
}

static void virtio_mmio_access(void *opaque, uint64_t off, bool is_write,
			       uint8_t *data, unsigned int len)
{
	struct virtio_dev *dev = opaque;
	uint32_t val = 0;

	pthread_mutex_lock(&dev->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_access(dev, off - VIRTIO_MMIO_CONFIG, is_write, data, len);
	} else if (len != 4 || off & 3) {
		/* Registers are 32-bit only. */
		trace("%s: %u-byte access to register 0x%llx ignored", dev->name,
		      len, (unsigned long long)off);
		if (!is_write)
			memset(data, 0, len);
	} else if (is_write) {
		memcpy(&val, data, 4);
		reg_write(dev, off, val);
	} else {
		val = reg_read(dev, off);
		memcpy(data, &val, 4);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* --- Empty slots ------------------------------------------------------ */

static void empty_slot_access(void *opaque, uint64_t off, bool is_write,
			      uint8_t *data, unsigned int len)
{
	uint32_t val = 0;

	(void)opaque;
	if (is_write)
		return;
	memset(data, 0, len);
	if (len != 4 || off & 3)
		return;
	if (off == VIRTIO_MMIO_MAGIC_VALUE)
		val = MMIO_MAGIC;
	else if (off == VIRTIO_MMIO_VERSION)
		val = MMIO_VERSION;
	else if (off == VIRTIO_MMIO_VENDOR_ID)
		val = VIRTIO_VENDOR_ID;
	memcpy(data, &val, 4);
}

void virtio_empty_slot_init(struct bus *mmio, uint64_t base)
{
	if (bus_register(mmio, base, VIRTIO_MMIO_SLOT_SIZE, "virtio-mmio (empty)",
			 empty_slot_access, NULL))
		die("cannot register an empty virtio-mmio slot");
}

/* --- The back-end thread ----------------------------------------------- */

static void handle_queue_locked(struct virtio_dev *dev, unsigned int q)
{
	bool more = false;

	pthread_mutex_lock(&dev->work_lock);
	if (virtio_dev_live(dev) && dev->vq[q].ready)
		more = dev->ops->handle_queue(dev, q);
	pthread_mutex_unlock(&dev->work_lock);
	/* Come back for the rest after whoever waits for work_lock. */
	if (more)
		virtio_ring(dev);
}

static void handle_event_locked(struct virtio_dev *dev)
{
	pthread_mutex_lock(&dev->work_lock);
	if (dev->ops->handle_event && virtio_dev_live(dev))
		dev->ops->handle_event(dev);
	else	/* broken or stopped: io_fd would wake the thread in a loop */
		atomic_store(&dev->io_wait, false);
	pthread_mutex_unlock(&dev->work_lock);
}

/* The doorbell rang @n times since the last take; 0 if it did not. */
static uint64_t doorbell_take(struct virtio_dev *dev)
{
	uint64_t n;

	while (read(dev->doorbell_fd, &n, sizeof(n)) != sizeof(n)) {
		if (errno != EINTR)
			die("%s: doorbell: %s", dev->name, strerror(errno));
	}
	return n;
}

/* The back-end's own file, if it waits for it now. */
static bool io_waits(struct virtio_dev *dev)
{
	return dev->io_fd >= 0 && atomic_load(&dev->io_wait);
}

/*
 * Wait for the doorbell and, while the back-end waits for it, its own
 * file. Without a file of its own (virtio-blk, the console) this is one
 * blocking read, the cheapest wait there is. @timeout 0: do not wait.
 * Returns whether anything is there; *@io: the file is readable.
 */
static bool virtio_wait(struct virtio_dev *dev, int timeout, bool *io)
{
	struct pollfd pfd[2] = {
		{ .fd = dev->doorbell_fd, .events = POLLIN },
		{ .fd = dev->io_fd, .events = POLLIN },
	};

	*io = false;
	if (timeout && !io_waits(dev)) {
		doorbell_take(dev);
		return true;
	}
	if (poll(pfd, io_waits(dev) ? 2 : 1, timeout) <= 0)
		return false;
	if (pfd[0].revents)
		doorbell_take(dev);
	*io = pfd[1].revents;
	return true;
}

/*
 * After a wake: the back-end's event or file, then every queue (a ring
 * does not say which queue was notified; a queue with nothing new costs
 * a look at its avail index). Returns false when the thread must end.
 */
static bool virtio_dev_serve(struct virtio_dev *dev, bool io)
{
	unsigned int wake = atomic_exchange(&dev->wake, 0);
	unsigned int q;

	if (wake & VIRTIO_WAKE_STOP)
		return false;
	if ((wake & VIRTIO_WAKE_EVENT) || io)
		handle_event_locked(dev);
	for (q = 0; q < dev->nr_queues; q++)
		handle_queue_locked(dev, q);
	return true;
}

void virtio_dev_poll(struct virtio_dev *dev)
{
	bool io;

	if (virtio_wait(dev, 0, &io))
		virtio_dev_serve(dev, io);
}

static void *virtio_thread(void *opaque)
{
	struct virtio_dev *dev = opaque;
	bool io;

	do {
		while (!virtio_wait(dev, -1, &io))
			;
	} while (virtio_dev_serve(dev, io));
	return NULL;
}

void virtio_dev_start(struct virtio_dev *dev)
{
	int err;

	if (dev->hv)
		virtio_kernel_paths(dev);
	err = pthread_create(&dev->thread, NULL, virtio_thread, dev);

	if (err)
		die("%s: pthread_create: %s", dev->name, strerror(err));
	dev->thread_running = true;
}

void virtio_dev_stop(struct virtio_dev *dev)
{
	if (!dev->thread_running)
		return;
	atomic_fetch_or(&dev->wake, VIRTIO_WAKE_STOP);
	virtio_ring(dev);
	pthread_join(dev->thread, NULL);
	dev->thread_running = false;
}

void virtio_dev_init(struct virtio_dev *dev, struct bus *mmio, uint64_t base,
		     struct irq_line irq, struct guest_mem mem,
		     unsigned int nr_queues)
{
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->work_lock, NULL);
	pthread_mutex_init(&dev->irq_lock, NULL);
	dev->base = base;
	dev->irq = irq;
	dev->irq_fd = -1;
	dev->io_fd = -1;	/* the back-end sets its own after this */
	dev->mem = mem;
	dev->nr_queues = nr_queues;
	dev->device_features |= 1ULL << VIRTIO_F_VERSION_1 |
				1ULL << VIRTIO_RING_F_EVENT_IDX |
				1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	/* Blocking: only the back-end thread reads it, and waits there. */
	dev->doorbell_fd = eventfd(0, EFD_CLOEXEC);
	if (dev->doorbell_fd < 0)
		die("%s: eventfd: %s", dev->name, strerror(errno));
	if (bus_register(mmio, base, VIRTIO_MMIO_SLOT_SIZE, dev->name,
			 virtio_mmio_access, dev))
		die("cannot register %s", dev->name);
}
