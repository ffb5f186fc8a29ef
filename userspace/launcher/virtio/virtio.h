/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: virtio 1.x over MMIO (transport version 2, modern only), split
 * virtqueues. See docs/virtio.md.
 *
 * A device is a struct virtio_dev (the transport's registers, its queues,
 * its back-end thread) inside the back-end's own struct (virtio_blk,
 * virtio_console). The vCPU threads only touch registers; requests are
 * handled on the device's back-end thread, woken by one eventfd per queue
 * that a QueueNotify write signals.
 *
 * Locks: dev->lock guards the registers; dev->work_lock is held by the
 * back-end while it handles a queue. Whatever changes what the back-end
 * reads (Status, the queues, the negotiated features) takes both, in that
 * order, so a reset waits for the request in flight and the back-end never
 * sees a half-changed queue. dev->irq_lock (a leaf) guards the line.
 */
#ifndef LVRUN_VIRTIO_H
#define LVRUN_VIRTIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_ring.h>

#include "../bus.h"
#include "../hv/hv.h"
#include "../irq.h"
#include "../layout.h"
#include "../loaders/loader.h"

#define VIRTIO_MAX_QUEUES	2
#define VIRTIO_QUEUE_NUM_MAX	256
/* Segments in one request: a chain, or one indirect table, at most. */
#define VIRTIO_MAX_SEGS		VIRTIO_QUEUE_NUM_MAX
#define VIRTIO_NAME_MAX		32
#define VIRTIO_CAUSE_MAX	96
#define VIRTIO_VENDOR_ID	0x4e52564c	/* "LVRN" */
/*
 * Requests handled per turn of the back-end: a guest that keeps adding
 * requests cannot keep work_lock, and so a reset, waiting for long.
 */
#define VIRTIO_BATCH		64

/* virtio_dev.wake: why the doorbell rang besides a queue notify. */
#define VIRTIO_WAKE_EVENT	(1U << 0)	/* ops->handle_event */
#define VIRTIO_WAKE_STOP	(1U << 1)	/* the thread ends */

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* The split virtqueue of one queue index (queue.c). */
struct virtq {
	/* Set by the driver through the registers. */
	uint16_t num;
	bool ready;
	uint64_t desc_addr, driver_addr, device_addr;
	/* Checked and translated when the driver sets QueueReady. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	/* The device's side. */
	uint16_t last_avail;	/* next avail entry to take */
	uint16_t used_idx;	/* next used entry to fill */
	uint16_t signalled_used;	/* used_idx at the last interrupt */
	bool signalled_valid;
};

/* One request: its segments, device-readable ones first. */
struct virtq_req {
	uint16_t head;
	unsigned int nr_out, nr_in;	/* readable, then writable segments */
	uint64_t out_len, in_len;
	/* A direct chain may end in an indirect table. */
	struct iovec iov[VIRTIO_QUEUE_NUM_MAX + VIRTIO_MAX_SEGS];
};

struct virtio_dev;

/* A device's field in its config space; accesses must match one. */
struct virtio_cfg_field {
	uint16_t offset, size;
};

struct virtio_dev_ops {
	uint32_t device_id;
	/*
	 * Handles what is available on queue @q (work_lock held), at most
	 * VIRTIO_BATCH requests; true if it stopped with more to do.
	 */
	bool (*handle_queue)(struct virtio_dev *dev, unsigned int q);
	/* The device went back to its initial state (both locks held). */
	void (*reset)(struct virtio_dev *dev);
	/* Another wakeup of the back-end thread (virtio_dev_wake(), io_fd). */
	void (*handle_event)(struct virtio_dev *dev);
};

struct virtio_dev {
	char name[VIRTIO_NAME_MAX];	/* "virtio-blk0": in every message */
	const struct virtio_dev_ops *ops;
	struct guest_mem mem;
	uint64_t base;

	pthread_mutex_t lock;
	pthread_mutex_t work_lock;
	pthread_mutex_t irq_lock;

	/* Registers. */
	uint64_t device_features;
	uint64_t driver_features;
	uint32_t device_features_sel, driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t config_generation;
	atomic_uint isr;
	atomic_bool broken;	/* DEVICE_NEEDS_RESET: nothing is handled */
	char broken_msg[VIRTIO_NAME_MAX + 128];	/* the last cause, as printed */

	/* The device config space, as the guest reads it. */
	uint8_t *config;
	unsigned int config_len;
	const struct virtio_cfg_field *cfg_fields;
	unsigned int nr_cfg_fields;

	unsigned int nr_queues;
	struct virtq vq[VIRTIO_MAX_QUEUES];

	struct irq_line irq;
	/*
	 * The hypervisor for the in-kernel paths (NULL: none), set before
	 * virtio_dev_start(): QueueNotify writes ring the doorbell in the
	 * kernel (ioeventfd), and interrupts are writes to irq_fd (irqfd,
	 * -1 if not in use).
	 */
	struct hv *hv;
	int irq_fd;
	/*
	 * The back-end thread's one wakeup: an eventfd (blocking, read only
	 * by the thread) that every QueueNotify rings, and that
	 * virtio_dev_wake() and virtio_dev_stop() ring after setting their
	 * bit in wake. At each ring the thread looks at every queue.
	 */
	int doorbell_fd;
	atomic_uint wake;	/* VIRTIO_WAKE_* */
	/*
	 * A back-end's own file (the tap), -1 if none: while io_wait is set
	 * (by the back-end, or cleared by a reset), the thread also waits
	 * for it to become readable and then calls ops->handle_event.
	 */
	int io_fd;
	atomic_bool io_wait;
	pthread_t thread;
	bool thread_running;
};

/* --- mmio.c: the transport ------------------------------------------- */

/*
 * Registers @dev at @base on @mmio (one VIRTIO_MMIO_SLOT_SIZE slot);
 * the back-end has set name, ops, config and device_features.
 */
void virtio_dev_init(struct virtio_dev *dev, struct bus *mmio, uint64_t base,
		     struct irq_line irq, struct guest_mem mem,
		     unsigned int nr_queues);
/* An empty slot: magic, version 2, DeviceID 0; all else reads 0. */
void virtio_empty_slot_init(struct bus *mmio, uint64_t base);
/*
 * Starts the back-end thread, after registering the in-kernel paths if
 * dev->hv offers them (they need the interrupt controller, which exists
 * only once the board is built); virtio_dev_stop() ends the thread.
 */
void virtio_dev_start(struct virtio_dev *dev);
void virtio_dev_stop(struct virtio_dev *dev);
/*
 * One pass of the back-end without its thread, if the doorbell rang or
 * io_fd is readable while io_wait is set: ops->handle_event for a wake
 * or the file, then every queue (host-side tests).
 */
void virtio_dev_poll(struct virtio_dev *dev);
/* Sets InterruptStatus bits @bits and sends an edge on the line. */
void virtio_raise_irq(struct virtio_dev *dev, unsigned int bits);
/*
 * The front-end broke the rules: DEVICE_NEEDS_RESET, a config-change
 * interrupt and one message; nothing more is handled until a reset.
 */
void virtio_dev_broken(struct virtio_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Wakes the back-end thread for ops->handle_event. */
void virtio_dev_wake(struct virtio_dev *dev);
bool virtio_has_feature(const struct virtio_dev *dev, unsigned int bit);
/* DRIVER_OK, features accepted and not broken: requests are handled. */
bool virtio_dev_live(struct virtio_dev *dev);

/* --- queue.c: the split virtqueue ------------------------------------- */

/* Checks and maps the rings as QueueReady is set; false if bad. */
bool virtq_map(struct virtio_dev *dev, struct virtq *vq);
/*
 * Takes the next available request: 1, 0 if there is none, -1 if the
 * front-end broke a rule (the device is then marked broken).
 */
int virtq_pop(struct virtio_dev *dev, struct virtq *vq, struct virtq_req *req);
/* Gives back the request virtq_pop() just took, unused: it comes again. */
void virtq_unpop(struct virtq *vq);
/* Puts @req on the used ring with @len bytes written. */
void virtq_push(struct virtio_dev *dev, struct virtq *vq,
		const struct virtq_req *req, uint32_t len);
/* Interrupts the driver for new used entries unless it asked not to. */
void virtq_notify_driver(struct virtio_dev *dev, struct virtq *vq);
/*
 * With EVENT_IDX, tells the driver to notify at the next avail entry and
 * returns true if it already added one (look again before sleeping).
 */
bool virtq_enable_notify(struct virtio_dev *dev, struct virtq *vq);

/* Copies between a request's segments and a buffer; return bytes copied. */
size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip,
		    const void *buf, size_t len);
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip,
		  void *buf, size_t len);
/* Stores in @dst the segments past the first @skip bytes; returns how many. */
unsigned int iov_skip(const struct iovec *iov, unsigned int n, size_t skip,
		      struct iovec *dst);

/* --- blk.c ------------------------------------------------------------ */

struct virtio_blk {
	struct virtio_dev dev;
	int fd;
	bool ro;
	uint64_t capacity;	/* in 512-byte sectors */
	char id[20];		/* GET_ID: VIRTIO_BLK_ID_BYTES */
	uint8_t config[60];
};

/* 0, or -1 with a message if @path cannot be opened. */
int virtio_blk_init(struct virtio_blk *blk, int index, const char *path, bool ro,
		    struct bus *mmio, uint64_t base, struct irq_line irq,
		    struct guest_mem mem);

/* --- console.c -------------------------------------------------------- */

#define VIRTIO_CONSOLE_BACKLOG	4096

struct virtio_console {
	struct virtio_dev dev;
	int out_fd, in_fd;
	/* Bytes read from the input, not yet in a receive buffer. */
	pthread_mutex_t in_lock;
	pthread_cond_t in_drained;
	uint8_t in[VIRTIO_CONSOLE_BACKLOG];
	unsigned int in_head, in_count;
	uint8_t config[12];
};

void virtio_console_init(struct virtio_console *con, struct bus *mmio,
			 uint64_t base, struct irq_line irq, struct guest_mem mem,
			 int out_fd);
/* Feeds bytes to the guest; blocks while the backlog is full. */
void virtio_console_receive(struct virtio_console *con, const uint8_t *buf,
			    unsigned int len);
/* Feeds bytes read from @in_fd, from a thread of its own. */
void virtio_console_start_input(struct virtio_console *con, int in_fd);

/* --- net.c ------------------------------------------------------------ */

/* virtio_net_hdr_v1: the driver's header and the tap's (TUNSETVNETHDRSZ). */
#define VIRTIO_NET_HDR_LEN	12
/* Room for the bytes of a packet that do not fit the receive buffer. */
#define VIRTIO_NET_SPILL	(64 * 1024)

struct virtio_net {
	struct virtio_dev dev;
	int tap_fd;
	bool is_tap;		/* false: a socket standing in for it (tests) */
	bool offloads_set;	/* the tap's offloads match the driver's features */
	uint64_t rx_dropped, tx_dropped;
	uint8_t *spill;		/* VIRTIO_NET_SPILL bytes */
	uint8_t config[8];	/* mac, status */
};

/* 0, or -1 with a message if tap @tap cannot be opened or attached. */
int virtio_net_init(struct virtio_net *net, const char *tap, const uint8_t mac[6],
		    struct bus *mmio, uint64_t base, struct irq_line irq,
		    struct guest_mem mem);
/*
 * The device over @fd, a tap with a 12-byte vnet header (is_tap) or a
 * packet socket carrying the same frames (header first) for the tests.
 */
void virtio_net_init_fd(struct virtio_net *net, int fd, bool is_tap,
			const uint8_t mac[6], struct bus *mmio, uint64_t base,
			struct irq_line irq, struct guest_mem mem);

/* --- The board's virtio devices (board.c) ----------------------------- */

struct virtio_board {
	unsigned int nr_devs;	/* slots taken, in creation order */
	struct virtio_dev *devs[VIRTIO_MMIO_SLOTS];
	struct virtio_blk blk[VIRTIO_MMIO_SLOTS];
	struct virtio_console console;
	struct virtio_net net;
};

/* Creates --disk, --console virtio and --net devices, slot by slot. */
void virtio_board_init(struct virtio_board *vb, struct bus *mmio,
		       struct irq_chip *chip, struct guest_mem mem);
/*
 * Starts the back-end threads and the console's input; with
 * --virtio-notify kernel (the default), over @hv's in-kernel paths.
 */
void virtio_board_start(struct virtio_board *vb, struct hv *hv);

#endif /* LVRUN_VIRTIO_H */
