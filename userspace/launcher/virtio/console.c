// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: virtio-console (virtio 1.x, section 5.3), one port, no
 * MULTIPORT: the guest's hvc0. The transmit queue goes to lvrun's stdout,
 * as the 16550's transmitter does; bytes read from stdin wait in a
 * backlog until the guest has receive buffers.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

#include "../log.h"
#include "virtio.h"

#define CONSOLE_RXQ	0
#define CONSOLE_TXQ	1

static const struct virtio_cfg_field console_cfg_fields[] = {
	{ offsetof(struct virtio_console_config, cols), 2 },
	{ offsetof(struct virtio_console_config, rows), 2 },
	{ offsetof(struct virtio_console_config, max_nr_ports), 4 },
	{ offsetof(struct virtio_console_config, emerg_wr), 4 },
};

static struct virtio_console *to_console(struct virtio_dev *dev)
{
	return (struct virtio_console *)((char *)dev - offsetof(struct virtio_console, dev));
}

/* Fills one receive buffer from the backlog; in_lock held. */
static uint32_t console_fill(struct virtio_console *con, const struct virtq_req *req)
{
	const struct iovec *iov = &req->iov[req->nr_out];
	uint32_t done = 0;
	unsigned int i;

	for (i = 0; i < req->nr_in && con->in_count; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t j;

		for (j = 0; j < iov[i].iov_len && con->in_count; j++) {
			p[j] = con->in[con->in_head];
			con->in_head = (con->in_head + 1) % VIRTIO_CONSOLE_BACKLOG;
			con->in_count--;
			done++;
		}
	}
	return done;
}

static void console_deliver(struct virtio_console *con)
{
	static __thread struct virtq_req req;
	struct virtq *vq = &con->dev.vq[CONSOLE_RXQ];
	unsigned int done = 0;
	int r;

	if (!vq->ready)
		return;

	pthread_mutex_lock(&con->in_lock);
	while (con->in_count) {
		if (done == VIRTIO_BATCH) {
			virtio_dev_wake(&con->dev);	/* the rest on the next turn */
			break;
		}
		r = virtq_pop(&con->dev, vq, &req);
		if (r < 0)
			break;
		if (!r) {
			if (!virtq_enable_notify(&con->dev, vq))
				break;
			continue;
		}
		virtq_push(&con->dev, vq, &req, console_fill(con, &req));
		done++;
	}
	pthread_cond_broadcast(&con->in_drained);
	pthread_mutex_unlock(&con->in_lock);
	if (done)
		virtq_notify_driver(&con->dev, vq);
}

static void console_write_all(int fd, const struct iovec *iov, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			ssize_t w = write(fd, p, left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return;		/* output gone: drop, as the 16550 does */
			p += w;
			left -= w;
		}
	}
}

static bool console_transmit(struct virtio_console *con)
{
	static __thread struct virtq_req req;
	struct virtq *vq = &con->dev.vq[CONSOLE_TXQ];
	unsigned int done = 0;
	int r;

	do {
		while (done < VIRTIO_BATCH && (r = virtq_pop(&con->dev, vq, &req)) > 0) {
			console_write_all(con->out_fd, req.iov, req.nr_out);
			virtq_push(&con->dev, vq, &req, 0);
			done++;
		}
	} while (done < VIRTIO_BATCH && !r && virtq_enable_notify(&con->dev, vq));
	if (done)
		virtq_notify_driver(&con->dev, vq);
	return done == VIRTIO_BATCH;
}

static bool console_handle_queue(struct virtio_dev *dev, unsigned int q)
{
	struct virtio_console *con = to_console(dev);

	if (q == CONSOLE_RXQ) {
		console_deliver(con);
		return false;
	}
	return console_transmit(con);
}

static void console_handle_event(struct virtio_dev *dev)
{
	console_deliver(to_console(dev));
}

static const struct virtio_dev_ops console_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.handle_queue = console_handle_queue,
	.handle_event = console_handle_event,
};

void virtio_console_receive(struct virtio_console *con, const uint8_t *buf,
			    unsigned int len)
{
	unsigned int i;

	pthread_mutex_lock(&con->in_lock);
	for (i = 0; i < len; i++) {
		while (con->in_count == VIRTIO_CONSOLE_BACKLOG)
			pthread_cond_wait(&con->in_drained, &con->in_lock);
		con->in[(con->in_head + con->in_count) % VIRTIO_CONSOLE_BACKLOG] = buf[i];
		con->in_count++;
		if (con->in_count == VIRTIO_CONSOLE_BACKLOG)
			virtio_dev_wake(&con->dev);
	}
	pthread_mutex_unlock(&con->in_lock);
	virtio_dev_wake(&con->dev);
}

static void *console_input_thread(void *opaque)
{
	struct virtio_console *con = opaque;
	int fd = con->in_fd;
	uint8_t buf[256];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* end of input: the receiver stays idle */
		virtio_console_receive(con, buf, n);
	}
	return NULL;
}

void virtio_console_start_input(struct virtio_console *con, int in_fd)
{
	pthread_t thread;
	int err;

	con->in_fd = in_fd;
	err = pthread_create(&thread, NULL, console_input_thread, con);
	if (err)
		die("pthread_create: %s", strerror(err));
	pthread_detach(thread);
}

void virtio_console_init(struct virtio_console *con, struct bus *mmio,
			 uint64_t base, struct irq_line irq, struct guest_mem mem,
			 int out_fd)
{
	struct virtio_dev *dev = &con->dev;

	memset(con, 0, sizeof(*con));
	pthread_mutex_init(&con->in_lock, NULL);
	pthread_cond_init(&con->in_drained, NULL);
	con->out_fd = out_fd;
	snprintf(dev->name, sizeof(dev->name), "virtio-console");
	dev->ops = &console_ops;
	dev->config = con->config;
	dev->config_len = sizeof(con->config);
	dev->cfg_fields = console_cfg_fields;
	dev->nr_cfg_fields = ARRAY_SIZE(console_cfg_fields);
	virtio_dev_init(dev, mmio, base, irq, mem, 2);
	trace("%s: hvc0 at 0x%llx IRQ %u", dev->name, (unsigned long long)base, irq.gsi);
}
