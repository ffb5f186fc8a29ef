// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: virtio-blk (virtio 1.x, section 5.2) backed by a raw file.
 * One request queue; reads and writes go with preadv/pwritev straight
 * between the file and the guest's buffers. FLUSH is fdatasync(),
 * DISCARD punches a hole. A read-only disk (--disk FILE,ro) is opened
 * O_RDONLY, offers VIRTIO_BLK_F_RO and fails writes with IOERR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "../log.h"
#include "virtio.h"

#define SECTOR_SHIFT		9
#define BLK_SEG_MAX		(VIRTIO_MAX_SEGS - 2)	/* plus header and status */
#define BLK_MAX_DISCARD_SEG	16
#define BLK_MAX_DISCARD_SECTORS	0x400000		/* 2 GiB per segment */
#define BLK_DISCARD_ALIGN	8			/* 4 KiB */

#define CFG(field) { offsetof(struct virtio_blk_config, field), \
		     sizeof(((struct virtio_blk_config *)0)->field) }

static struct virtio_blk *to_blk(struct virtio_dev *dev)
{
	return (struct virtio_blk *)((char *)dev - offsetof(struct virtio_blk, dev));
}

static const struct virtio_cfg_field blk_cfg_fields[] = {
	CFG(capacity), CFG(size_max), CFG(seg_max), CFG(geometry.cylinders),
	CFG(geometry.heads), CFG(geometry.sectors), CFG(blk_size),
	CFG(physical_block_exp), CFG(alignment_offset), CFG(min_io_size),
	CFG(opt_io_size), CFG(wce), CFG(num_queues), CFG(max_discard_sectors),
	CFG(max_discard_seg), CFG(discard_sector_alignment),
	CFG(max_write_zeroes_sectors), CFG(max_write_zeroes_seg),
	CFG(write_zeroes_may_unmap),
};

/* A request's data buffers, without the header and the status byte. */
struct blk_data {
	struct iovec iov[VIRTIO_QUEUE_NUM_MAX + VIRTIO_MAX_SEGS];
	unsigned int n;
	uint64_t len;
};

/* Reads or writes all of @d at @off; false on an error or a short file. */
static bool blk_rw_full(int fd, bool write, struct blk_data *d, uint64_t off)
{
	struct iovec *iov = d->iov;
	unsigned int n = d->n;

	while (n) {
		ssize_t r = write ? pwritev(fd, iov, n, off) : preadv(fd, iov, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		off += r;
		while (n && (size_t)r >= iov->iov_len) {
			r -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= r;
		}
	}
	return true;
}

static bool blk_in_range(const struct virtio_blk *blk, uint64_t sector, uint64_t len)
{
	return sector <= blk->capacity &&
	       len <= (blk->capacity - sector) << SECTOR_SHIFT;
}

static uint8_t blk_rw(struct virtio_blk *blk, bool write, uint64_t sector,
		      struct blk_data *d)
{
	if (write && blk->ro)
		return VIRTIO_BLK_S_IOERR;
	if (!blk_in_range(blk, sector, d->len))
		return VIRTIO_BLK_S_IOERR;
	if (!blk_rw_full(blk->fd, write, d, sector << SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_discard(struct virtio_blk *blk, struct blk_data *d)
{
	struct virtio_blk_discard_write_zeroes seg;
	unsigned int nr = d->len / sizeof(seg), i;

	if (blk->ro)
		return VIRTIO_BLK_S_IOERR;
	if (!nr || d->len % sizeof(seg) || nr > BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_IOERR;
	for (i = 0; i < nr; i++) {
		iov_to_buf(d->iov, d->n, i * sizeof(seg), &seg, sizeof(seg));
		if (seg.flags)
			return VIRTIO_BLK_S_UNSUPP;	/* "unmap" is for WRITE_ZEROES */
		if (seg.num_sectors > BLK_MAX_DISCARD_SECTORS ||
		    !blk_in_range(blk, seg.sector, (uint64_t)seg.num_sectors << SECTOR_SHIFT))
			return VIRTIO_BLK_S_IOERR;
		if (seg.num_sectors &&
		    fallocate(blk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      seg.sector << SECTOR_SHIFT,
			      (uint64_t)seg.num_sectors << SECTOR_SHIFT))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Splits @req into the data the device reads (@out) or writes (@in). */
static void blk_split(const struct virtq_req *req, struct blk_data *out,
		      struct blk_data *in)
{
	size_t skip = sizeof(struct virtio_blk_outhdr);
	unsigned int i;

	out->n = out->len = 0;
	for (i = 0; i < req->nr_out; i++) {
		struct iovec v = req->iov[i];

		if (skip >= v.iov_len) {
			skip -= v.iov_len;
			continue;
		}
		v.iov_base = (uint8_t *)v.iov_base + skip;
		v.iov_len -= skip;
		skip = 0;
		out->iov[out->n++] = v;
		out->len += v.iov_len;
	}
	in->n = req->nr_in;
	memcpy(in->iov, &req->iov[req->nr_out], in->n * sizeof(in->iov[0]));
	in->len = req->in_len - 1;
	if (!--in->iov[in->n - 1].iov_len)	/* the status byte */
		in->n--;
}

/* Handles one request; returns the bytes written into its buffers. */
static uint32_t blk_request(struct virtio_blk *blk, const struct virtq_req *req)
{
	static __thread struct blk_data out, in;
	const struct iovec *last = &req->iov[req->nr_out + req->nr_in - 1];
	struct virtio_blk_outhdr hdr;
	uint32_t written = 0;
	uint8_t status;

	iov_to_buf(req->iov, req->nr_out, 0, &hdr, sizeof(hdr));
	blk_split(req, &out, &in);
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		status = blk_rw(blk, false, hdr.sector, &in);
		if (status == VIRTIO_BLK_S_OK)
			written = in.len;
		break;
	case VIRTIO_BLK_T_OUT:
		status = blk_rw(blk, true, hdr.sector, &out);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = fdatasync(blk->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		written = iov_from_buf(in.iov, in.n, 0, blk->id, sizeof(blk->id));
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
		status = blk_discard(blk, &out);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	((uint8_t *)last->iov_base)[last->iov_len - 1] = status;
	return written + 1;
}

static bool blk_handle_queue(struct virtio_dev *dev, unsigned int q)
{
	struct virtio_blk *blk = to_blk(dev);
	static __thread struct virtq_req req;
	struct virtq *vq = &dev->vq[q];
	unsigned int done = 0;
	int r;

	do {
		while (done < VIRTIO_BATCH && (r = virtq_pop(dev, vq, &req)) > 0) {
			if (req.out_len < sizeof(struct virtio_blk_outhdr) || !req.in_len) {
				virtio_dev_broken(dev, "request without header or status byte");
				return false;
			}
			virtq_push(dev, vq, &req, blk_request(blk, &req));
			done++;
		}
	} while (done < VIRTIO_BATCH && !r && virtq_enable_notify(dev, vq));
	if (done)
		virtq_notify_driver(dev, vq);
	return done == VIRTIO_BATCH;
}

static const struct virtio_dev_ops blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.handle_queue = blk_handle_queue,
};

static void blk_fill_config(struct virtio_blk *blk)
{
	struct virtio_blk_config c;

	memset(&c, 0, sizeof(c));
	c.capacity = blk->capacity;
	c.seg_max = BLK_SEG_MAX;
	c.max_discard_sectors = BLK_MAX_DISCARD_SECTORS;
	c.max_discard_seg = BLK_MAX_DISCARD_SEG;
	c.discard_sector_alignment = BLK_DISCARD_ALIGN;
	c.num_queues = 1;
	_Static_assert(sizeof(blk->config) >= offsetof(struct virtio_blk_config, unused1),
		       "virtio_blk config buffer too small");
	memcpy(blk->config, &c, sizeof(blk->config));
}

/* GET_ID answers with the file's name (at most 20 bytes, NUL-padded). */
static void blk_set_id(struct virtio_blk *blk, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	memset(blk->id, 0, sizeof(blk->id));
	memcpy(blk->id, base, strnlen(base, sizeof(blk->id)));
}

static int blk_open(struct virtio_blk *blk, const char *path, bool ro)
{
	struct stat st;
	off_t size;

	blk->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk->fd < 0) {
		warn("--disk %s: %s", path, strerror(errno));
		return -1;
	}
	size = lseek(blk->fd, 0, SEEK_END);
	if (fstat(blk->fd, &st) || size < 0 ||
	    !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		warn("--disk %s: not a regular file or block device", path);
		close(blk->fd);
		return -1;
	}
	/*
	 * Two writers, or a writer and a reader, would corrupt each other.
	 * A kernel without file locking (ENOSYS) leaves the disk unlocked.
	 */
	if (flock(blk->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			trace("--disk %s: not locked: %s", path, strerror(errno));
		} else {
			warn("--disk %s: in use by another lvrun or --disk", path);
			close(blk->fd);
			return -1;
		}
	}
	blk->capacity = (uint64_t)size >> SECTOR_SHIFT;
	return 0;
}

int virtio_blk_init(struct virtio_blk *blk, int index, const char *path, bool ro,
		    struct bus *mmio, uint64_t base, struct irq_line irq,
		    struct guest_mem mem)
{
	struct virtio_dev *dev = &blk->dev;

	memset(blk, 0, sizeof(*blk));
	if (blk_open(blk, path, ro))
		return -1;
	blk->ro = ro;
	blk_set_id(blk, path);
	blk_fill_config(blk);
	snprintf(dev->name, sizeof(dev->name), "virtio-blk%d", index);
	dev->ops = &blk_ops;
	dev->config = blk->config;
	dev->config_len = sizeof(blk->config);
	dev->cfg_fields = blk_cfg_fields;
	dev->nr_cfg_fields = ARRAY_SIZE(blk_cfg_fields);
	dev->device_features = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_FLUSH;
	dev->device_features |= ro ? 1ULL << VIRTIO_BLK_F_RO : 1ULL << VIRTIO_BLK_F_DISCARD;
	virtio_dev_init(dev, mmio, base, irq, mem, 1);
	trace("%s: %s%s, %llu sectors, at 0x%llx IRQ %u", dev->name, path,
	      ro ? " (read-only)" : "", (unsigned long long)blk->capacity,
	      (unsigned long long)base, irq.gsi);
	return 0;
}
