// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: virtio-net (virtio 1.x, section 5.1) backed by a tap device.
 * One receive queue (0) and one transmit queue (1), no control queue.
 * The tap is opened with IFF_VNET_HDR and a 12-byte vnet header, the
 * size of virtio_net_hdr_v1, so a packet is the same bytes on both sides;
 * lvrun only checks and adjusts the header, on its own copy of it.
 *
 * Offered: MAC, CSUM (the guest may send packets with a partial checksum:
 * the tap accepts them as they are) and GUEST_CSUM (the tap may hand
 * lvrun such packets, TUNSETOFFLOAD(TUN_F_CSUM), only once the driver
 * took it). No GSO and no mergeable receive buffers: every packet fits
 * one receive chain, and a packet that does not fit is dropped, never
 * cut.
 *
 * The back-end thread reads the tap while the receive queue has buffers
 * (dev->io_wait); with none, it waits for the driver's notify instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "../log.h"
#include "virtio.h"

#define NET_RXQ		0
#define NET_TXQ		1

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VIRTIO_NET_HDR_LEN,
	       "virtio_net_hdr_v1 is 12 bytes");

static const struct virtio_cfg_field net_cfg_fields[] = {
	{ 0, 1 }, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 }, { 5, 1 },	/* mac */
	{ offsetof(struct virtio_net_config, status), 2 },
};

static struct virtio_net *to_net(struct virtio_dev *dev)
{
	return (struct virtio_net *)((char *)dev - offsetof(struct virtio_net, dev));
}

/*
 * The tap hands lvrun packets with a partial checksum only if the driver
 * can take them; set once per negotiation, before the first read.
 */
static void net_set_offloads(struct virtio_net *net)
{
	unsigned int offloads = 0;

	if (net->offloads_set)
		return;
	net->offloads_set = true;
	if (virtio_has_feature(&net->dev, VIRTIO_NET_F_GUEST_CSUM))
		offloads |= TUN_F_CSUM;
	if (net->is_tap && ioctl(net->tap_fd, TUNSETOFFLOAD, offloads))
		trace("%s: TUNSETOFFLOAD 0x%x: %s", net->dev.name, offloads,
		      strerror(errno));
}

/* --- Receive: tap to guest ------------------------------------------------ */

/*
 * Makes the tap's header one the driver may see; false to drop the
 * packet. The tap leaves num_buffers alone; without mergeable buffers it
 * is 1. Partial checksums come only after TUN_F_CSUM, but packets read
 * before a renegotiation may still carry one.
 */
static bool net_rx_header(struct virtio_net *net, struct virtio_net_hdr_v1 *hdr)
{
	bool guest_csum = virtio_has_feature(&net->dev, VIRTIO_NET_F_GUEST_CSUM);

	if (hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM && !guest_csum)
		return false;
	hdr->flags &= guest_csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM |
				   VIRTIO_NET_HDR_F_DATA_VALID : 0;
	hdr->num_buffers = 1;
	return true;
}

/*
 * Reads one packet: the header into @hdr, the rest into @req's buffers
 * past the header's room, and what does not fit into the spill buffer.
 * Returns the packet's length with its header (more than req->in_len:
 * it did not fit), 0 if the tap has none, -1 on an error.
 */
static ssize_t net_read_packet(struct virtio_net *net, const struct virtq_req *req,
			       struct virtio_net_hdr_v1 *hdr)
{
	static __thread struct iovec iov[VIRTIO_QUEUE_NUM_MAX + VIRTIO_MAX_SEGS + 2];
	unsigned int n = 0;
	ssize_t r;

	iov[n++] = (struct iovec){ hdr, sizeof(*hdr) };
	n += iov_skip(&req->iov[req->nr_out], req->nr_in, sizeof(*hdr), &iov[n]);
	iov[n++] = (struct iovec){ net->spill, VIRTIO_NET_SPILL };
	do
		r = readv(net->tap_fd, iov, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN ? 0 : -1;
	if (!r) {
		/* A socket in the tests may end; a tap never reads 0 bytes. */
		errno = 0;
		return -1;
	}
	return r;
}

/*
 * Puts one packet into the chain @req; false if the tap had none (or
 * failed). A packet that does not fit, or that the driver cannot take, is
 * dropped and the chain waits for the next one.
 */
static bool net_receive_one(struct virtio_net *net, struct virtq_req *req)
{
	struct virtq *vq = &net->dev.vq[NET_RXQ];
	struct virtio_net_hdr_v1 hdr;
	ssize_t len = net_read_packet(net, req, &hdr);

	if (len <= 0) {
		virtq_unpop(vq);
		if (len < 0) {
			warn("%s: reading the tap: %s; receiving stops",
			     net->dev.name, errno ? strerror(errno) : "end of file");
			net->dev.io_fd = -1;
		}
		return false;
	}
	if ((size_t)len < sizeof(hdr) || (uint64_t)len > req->in_len ||
	    !net_rx_header(net, &hdr)) {
		trace("%s: received packet of %zd bytes dropped (buffer %llu bytes)",
		      net->dev.name, len, (unsigned long long)req->in_len);
		net->rx_dropped++;
		virtq_unpop(vq);
		return true;
	}
	iov_from_buf(&req->iov[req->nr_out], req->nr_in, 0, &hdr, sizeof(hdr));
	virtq_push(&net->dev, vq, req, len);
	return true;
}

/*
 * One turn of receiving: packets from the tap into receive buffers while
 * both last, VIRTIO_BATCH at most. Says whether to wait for the tap.
 */
static void net_receive(struct virtio_net *net)
{
	static __thread struct virtq_req req;
	struct virtio_dev *dev = &net->dev;
	struct virtq *vq = &dev->vq[NET_RXQ];
	uint16_t used = vq->used_idx;
	unsigned int turn;
	bool wait = false;
	int r;

	if (!vq->ready || dev->io_fd < 0)
		goto out;
	net_set_offloads(net);
	for (turn = 0; turn < VIRTIO_BATCH; turn++) {
		r = virtq_pop(dev, vq, &req);
		if (r < 0)
			break;
		if (!r) {
			/* No buffer: the driver's notify brings us back. */
			if (virtq_enable_notify(dev, vq))
				continue;
			break;
		}
		if (req.nr_out) {
			virtio_dev_broken(dev, "receive buffer with device-readable descriptors");
			break;
		}
		if (!net_receive_one(net, &req)) {
			wait = dev->io_fd >= 0;
			break;
		}
	}
	if (turn == VIRTIO_BATCH)
		virtio_dev_wake(dev);	/* the rest on the next turn */
	if (vq->used_idx != used)
		virtq_notify_driver(dev, vq);
out:
	atomic_store(&dev->io_wait, wait);
}

/* --- Transmit: guest to tap ------------------------------------------------ */

/* Checks the driver's header; false (the device broken) if it is bad. */
static bool net_tx_header(struct virtio_net *net, struct virtio_net_hdr_v1 *hdr)
{
	if (hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		virtio_dev_broken(&net->dev, "transmit header with GSO type %u, none offered",
				  hdr->gso_type);
		return false;
	}
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM &&
	    !virtio_has_feature(&net->dev, VIRTIO_NET_F_CSUM)) {
		virtio_dev_broken(&net->dev, "transmit header asks for a checksum without VIRTIO_NET_F_CSUM");
		return false;
	}
	/* DATA_VALID and RSC_INFO are the device's; num_buffers is unused. */
	hdr->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr->num_buffers = 0;
	return true;
}

/*
 * Writes one packet to the tap: lvrun's checked copy of the header, then
 * the guest's bytes after it. A packet the tap refuses (a bad checksum
 * offset, a runt, the tap down) is dropped, as a wire would.
 */
static bool net_transmit_one(struct virtio_net *net, const struct virtq_req *req)
{
	static __thread struct iovec iov[VIRTIO_QUEUE_NUM_MAX + VIRTIO_MAX_SEGS + 1];
	struct virtio_net_hdr_v1 hdr;
	unsigned int n = 0;
	ssize_t r;

	iov_to_buf(req->iov, req->nr_out, 0, &hdr, sizeof(hdr));
	if (!net_tx_header(net, &hdr))
		return false;
	iov[n++] = (struct iovec){ &hdr, sizeof(hdr) };
	n += iov_skip(req->iov, req->nr_out, sizeof(hdr), &iov[n]);
	do
		r = writev(net->tap_fd, iov, n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		trace("%s: transmitted packet of %llu bytes dropped: %s", net->dev.name,
		      (unsigned long long)req->out_len, strerror(errno));
		net->tx_dropped++;
	}
	return true;
}

static bool net_transmit(struct virtio_net *net)
{
	static __thread struct virtq_req req;
	struct virtio_dev *dev = &net->dev;
	struct virtq *vq = &dev->vq[NET_TXQ];
	unsigned int done = 0;
	int r;

	do {
		while (done < VIRTIO_BATCH && (r = virtq_pop(dev, vq, &req)) > 0) {
			if (req.nr_in) {
				virtio_dev_broken(dev, "transmit buffer with device-writable descriptors");
				return false;
			}
			if (req.out_len < VIRTIO_NET_HDR_LEN) {
				virtio_dev_broken(dev, "transmit buffer shorter than its %u-byte header",
						  VIRTIO_NET_HDR_LEN);
				return false;
			}
			if (!net_transmit_one(net, &req))
				return false;
			virtq_push(dev, vq, &req, 0);
			done++;
		}
	} while (done < VIRTIO_BATCH && !r && virtq_enable_notify(dev, vq));
	if (done)
		virtq_notify_driver(dev, vq);
	return done == VIRTIO_BATCH;
}

/* --- The device ------------------------------------------------------------ */

static bool net_handle_queue(struct virtio_dev *dev, unsigned int q)
{
	if (q == NET_RXQ) {
		net_receive(to_net(dev));
		return false;
	}
	return net_transmit(to_net(dev));
}

static void net_handle_event(struct virtio_dev *dev)
{
	net_receive(to_net(dev));
}

static void net_reset(struct virtio_dev *dev)
{
	to_net(dev)->offloads_set = false;
}

static const struct virtio_dev_ops net_ops = {
	.device_id = VIRTIO_ID_NET,
	.handle_queue = net_handle_queue,
	.handle_event = net_handle_event,
	.reset = net_reset,
};

void virtio_net_init_fd(struct virtio_net *net, int fd, bool is_tap,
			const uint8_t mac[6], struct bus *mmio, uint64_t base,
			struct irq_line irq, struct guest_mem mem)
{
	struct virtio_dev *dev = &net->dev;

	memset(net, 0, sizeof(*net));
	net->tap_fd = fd;
	net->is_tap = is_tap;
	net->spill = malloc(VIRTIO_NET_SPILL);
	if (!net->spill)
		die("out of memory");
	memcpy(net->config, mac, 6);
	snprintf(dev->name, sizeof(dev->name), "virtio-net0");
	dev->ops = &net_ops;
	dev->config = net->config;
	dev->config_len = sizeof(net->config);
	dev->cfg_fields = net_cfg_fields;
	dev->nr_cfg_fields = ARRAY_SIZE(net_cfg_fields);
	dev->device_features = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_CSUM |
			       1ULL << VIRTIO_NET_F_GUEST_CSUM;
	virtio_dev_init(dev, mmio, base, irq, mem, 2);
	dev->io_fd = fd;
}

/* Why attaching failed, in words a user can act on. */
static const char *tap_error_hint(int err)
{
	switch (err) {
	case EPERM:
		return " (needs CAP_NET_ADMIN, or a tap made for this user: ip tuntap add NAME mode tap user USER)";
	case EBUSY:
		return " (another program has it open)";
	case EINVAL:
		return " (not a valid name, or an interface that is not a tap)";
	}
	return "";
}

static int tap_open(const char *name)
{
	int hdr_len = VIRTIO_NET_HDR_LEN;
	struct ifreq ifr;
	int fd;

	if (!*name || strlen(name) >= IFNAMSIZ) {
		warn("--net tap=%s: an interface name is 1 to %d characters", name,
		     IFNAMSIZ - 1);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		warn("--net tap=%s: /dev/net/tun: %s", name, strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int err = errno;

		warn("--net tap=%s: cannot attach: %s%s", name, strerror(err),
		     tap_error_hint(err));
		close(fd);
		return -1;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) || ioctl(fd, TUNSETOFFLOAD, 0)) {
		warn("--net tap=%s: vnet header: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int virtio_net_init(struct virtio_net *net, const char *tap, const uint8_t mac[6],
		    struct bus *mmio, uint64_t base, struct irq_line irq,
		    struct guest_mem mem)
{
	int fd = tap_open(tap);

	if (fd < 0)
		return -1;
	virtio_net_init_fd(net, fd, true, mac, mmio, base, irq, mem);
	trace("%s: tap %s, %02x:%02x:%02x:%02x:%02x:%02x, at 0x%llx IRQ %u",
	      net->dev.name, tap, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
	      (unsigned long long)base, irq.gsi);
	return 0;
}
