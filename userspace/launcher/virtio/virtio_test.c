// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the virtio-mmio transport, the split virtqueue,
 * virtio-blk and virtio-console, with no hypervisor: a small driver
 * writes descriptors and rings into a fake guest RAM and reaches the
 * registers through the MMIO bus, as a guest's accesses would. The fake
 * RAM lies between inaccessible guard pages, so a device touching memory
 * outside guest RAM kills the test. Linked into lvrun-loadertest, which
 * prints the TAP plan.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>

#include "../bus.h"
#include "../layout.h"
#include "../log.h"
#include "../tap.h"
#include "virtio.h"

/*
 * 64 MiB, touched only where the test writes: large enough for a chain
 * whose lengths add up past 4 GiB while every segment is in RAM.
 */
#define RAM_SIZE	(64ULL << 20)
#define PAGE		4096ULL

#define QNUM		16
#define DESC_ADDR	0x1000ULL
#define AVAIL_ADDR	0x2000ULL
#define USED_ADDR	0x3000ULL
#define Q1_OFFSET	0x4000ULL	/* queue 1's rings: the same plus this */
#define HDR_ADDR	0x10000ULL
#define DATA_ADDR	0x11000ULL
#define STATUS_ADDR	0x30000ULL
#define TABLE_ADDR	0x40000ULL
#define DATA_MAX	0x10000ULL

#define DISK_SECTORS	2048ULL
#define SLOT0		VIRTIO_MMIO_BASE
#define SLOT1		(VIRTIO_MMIO_BASE + VIRTIO_MMIO_SLOT_SIZE)

static struct guest_mem ram;
static uint8_t *ram_mapping;

/* --- A fake interrupt chip: counts rising edges ------------------------ */

static pthread_mutex_t edge_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t edge_cond = PTHREAD_COND_INITIALIZER;
static unsigned int edges;

static void fake_set_line(struct irq_chip *chip, unsigned int gsi, int level)
{
	(void)chip;
	(void)gsi;
	if (!level)
		return;
	pthread_mutex_lock(&edge_lock);
	edges++;
	pthread_cond_broadcast(&edge_cond);
	pthread_mutex_unlock(&edge_lock);
}

static struct irq_chip fake_chip = { "fake", fake_set_line };

static unsigned int edge_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&edge_lock);
	n = edges;
	pthread_mutex_unlock(&edge_lock);
	return n;
}

/* --- Fake guest RAM ----------------------------------------------------- */

static void ram_setup(void)
{
	ram_mapping = mmap(NULL, RAM_SIZE + 2 * PAGE, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram_mapping == MAP_FAILED ||
	    mprotect(ram_mapping + PAGE, RAM_SIZE, PROT_READ | PROT_WRITE)) {
		perror("guest memory");
		exit(1);
	}
	ram.host = ram_mapping + PAGE;
	ram.size = RAM_SIZE;
}

static void *gpa(uint64_t addr)
{
	return ram.host + addr;
}

/* --- The driver side ------------------------------------------------------ */

struct drv {
	struct bus bus;
	uint64_t base;
	struct virtio_dev *dev;
	uint16_t avail_idx[VIRTIO_MAX_QUEUES];
};

static uint32_t rd(struct drv *d, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	bus_access(&d->bus, d->base + off, false, (uint8_t *)&v, 4);
	return v;
}

static void wr(struct drv *d, uint64_t off, uint32_t v)
{
	bus_access(&d->bus, d->base + off, true, (uint8_t *)&v, 4);
}

static uint64_t device_features(struct drv *d)
{
	uint64_t f;

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK: the status read back. */
static uint32_t negotiate(struct drv *d, uint64_t features)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	return rd(d, VIRTIO_MMIO_STATUS);
}

static uint64_t qoff(unsigned int q)
{
	return q * Q1_OFFSET;
}

static void setup_queue(struct drv *d, unsigned int q, uint32_t num, uint64_t desc)
{
	memset(gpa(DESC_ADDR + qoff(q)), 0, 3 * PAGE);
	wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, desc >> 32);
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_ADDR + qoff(q));
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, USED_ADDR + qoff(q));
	wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	d->avail_idx[q] = 0;
}

#define DEFAULT_FEATURES (1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_RING_F_INDIRECT_DESC)

/* The whole start-up sequence; true if the device ends up DRIVER_OK. */
static bool drv_start(struct drv *d, uint64_t features)
{
	unsigned int q;

	if (!(negotiate(d, features) & VIRTIO_CONFIG_S_FEATURES_OK))
		return false;
	for (q = 0; q < d->dev->nr_queues; q++)
		setup_queue(d, q, QNUM, DESC_ADDR + qoff(q));
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	virtio_dev_poll(d->dev);	/* DRIVER_OK kicks every queue */
	return rd(d, VIRTIO_MMIO_STATUS) == (VIRTIO_CONFIG_S_ACKNOWLEDGE |
		VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
		VIRTIO_CONFIG_S_DRIVER_OK);
}

static struct vring_desc *desc_table(unsigned int q)
{
	return gpa(DESC_ADDR + qoff(q));
}

static struct vring_avail *avail_ring(unsigned int q)
{
	return gpa(AVAIL_ADDR + qoff(q));
}

static struct vring_used *used_ring(unsigned int q)
{
	return gpa(USED_ADDR + qoff(q));
}

static void set_desc(struct vring_desc *t, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	t[i] = (struct vring_desc){ addr, len, flags, next };
}

/* Makes descriptor @head available on @q and notifies; no processing. */
static void kick(struct drv *d, unsigned int q, uint16_t head)
{
	struct vring_avail *a = avail_ring(q);

	a->ring[d->avail_idx[q] % QNUM] = head;
	__atomic_store_n(&a->idx, ++d->avail_idx[q], __ATOMIC_RELEASE);
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static void submit(struct drv *d, unsigned int q, uint16_t head)
{
	kick(d, q, head);
	virtio_dev_poll(d->dev);
}

static uint16_t used_idx(unsigned int q)
{
	return __atomic_load_n(&used_ring(q)->idx, __ATOMIC_ACQUIRE);
}

/* --- virtio-blk requests ------------------------------------------------ */

static uint8_t *status_byte(void)
{
	return gpa(STATUS_ADDR);
}

/* Header, optional data, status: a three-descriptor chain from 0. */
static void blk_chain(uint32_t type, uint64_t sector, uint32_t data_len,
		      bool data_writable)
{
	struct virtio_blk_outhdr *h = gpa(HDR_ADDR);
	struct vring_desc *t = desc_table(0);
	unsigned int i = 0;

	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	*status_byte() = 0xee;
	set_desc(t, i, HDR_ADDR, sizeof(*h), VRING_DESC_F_NEXT, i + 1);
	i++;
	if (data_len) {
		set_desc(t, i, DATA_ADDR, data_len,
			 VRING_DESC_F_NEXT | (data_writable ? VRING_DESC_F_WRITE : 0), i + 1);
		i++;
	}
	set_desc(t, i, STATUS_ADDR, 1, VRING_DESC_F_WRITE, 0);
}

/* Runs one request; returns its status byte, @len gets the used length. */
static int blk_do(struct drv *d, uint32_t type, uint64_t sector, uint32_t data_len,
		  bool data_writable, uint32_t *len)
{
	uint16_t before = used_idx(0);

	blk_chain(type, sector, data_len, data_writable);
	submit(d, 0, 0);
	if (used_idx(0) != (uint16_t)(before + 1))
		return -1;
	if (len)
		*len = used_ring(0)->ring[before % QNUM].len;
	return *status_byte();
}

static char disk_path[4096];
static int disk_fd = -1;

static void disk_create(void)
{
	const char *dir = getenv("TMPDIR");

	snprintf(disk_path, sizeof(disk_path), "%s/lvrun-virtiotest-XXXXXX",
		 dir && *dir ? dir : "/tmp");
	disk_fd = mkstemp(disk_path);
	if (disk_fd < 0 || ftruncate(disk_fd, DISK_SECTORS * 512)) {
		perror("disk image");
		exit(1);
	}
}

static void drv_blk(struct drv *d, struct virtio_blk *blk, bool ro)
{
	memset(d, 0, sizeof(*d));
	d->base = SLOT0;
	d->dev = &blk->dev;
	if (virtio_blk_init(blk, 0, disk_path, ro, &d->bus, SLOT0,
			    irq_line_get(&fake_chip, 5), ram)) {
		fprintf(stderr, "cannot create virtio-blk\n");
		exit(1);
	}
	virtio_empty_slot_init(&d->bus, SLOT1);
}

static void drv_free(struct drv *d, struct virtio_blk *blk)
{
	virtio_dev_stop(d->dev);
	close(d->dev->doorbell_fd);
	if (blk)
		close(blk->fd);
	free(d->bus.ranges);
}

/* --- Transport ------------------------------------------------------------ */

static void test_identity(void)
{
	struct virtio_blk blk;
	struct drv d;

	drv_blk(&d, &blk, false);
	tap_ok(rd(&d, VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976 &&
	       rd(&d, VIRTIO_MMIO_VERSION) == 2 &&
	       rd(&d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_BLOCK &&
	       rd(&d, VIRTIO_MMIO_VENDOR_ID) == VIRTIO_VENDOR_ID,
	       "virtio: magic, version 2, DeviceID 2, vendor");
	d.base = SLOT1;
	tap_ok(rd(&d, VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976 &&
	       rd(&d, VIRTIO_MMIO_VERSION) == 2 && rd(&d, VIRTIO_MMIO_DEVICE_ID) == 0,
	       "virtio: an empty slot reads magic, version 2 and DeviceID 0");
	wr(&d, VIRTIO_MMIO_STATUS, 1);
	tap_ok(rd(&d, VIRTIO_MMIO_STATUS) == 0, "virtio: an empty slot ignores writes");
	d.base = SLOT0;
	tap_ok(!bus_find(&d.bus, VIRTIO_MMIO_BASE + 2 * VIRTIO_MMIO_SLOT_SIZE),
	       "virtio: nothing decodes past the registered slots");
	drv_free(&d, &blk);
}

static void test_features(void)
{
	struct virtio_blk blk;
	struct drv d;
	uint64_t f;

	drv_blk(&d, &blk, false);
	f = device_features(&d);
	tap_ok(f & 1ULL << VIRTIO_F_VERSION_1 && f & 1ULL << VIRTIO_RING_F_EVENT_IDX &&
	       f & 1ULL << VIRTIO_RING_F_INDIRECT_DESC && f & 1ULL << VIRTIO_BLK_F_FLUSH &&
	       f & 1ULL << VIRTIO_BLK_F_DISCARD && !(f & 1ULL << VIRTIO_BLK_F_RO),
	       "virtio-blk: offers VERSION_1, EVENT_IDX, INDIRECT_DESC, FLUSH, DISCARD, not RO");
	tap_ok(!(negotiate(&d, 1ULL << VIRTIO_RING_F_EVENT_IDX) & VIRTIO_CONFIG_S_FEATURES_OK),
	       "virtio: FEATURES_OK refused without VERSION_1");
	tap_ok(!(negotiate(&d, 1ULL << VIRTIO_F_VERSION_1 | 1ULL << 40) &
		 VIRTIO_CONFIG_S_FEATURES_OK),
	       "virtio: FEATURES_OK refused for a feature the device lacks");
	tap_ok(negotiate(&d, f) & VIRTIO_CONFIG_S_FEATURES_OK,
	       "virtio: FEATURES_OK kept for all offered features");
	wr(&d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(&d, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	tap_ok(blk.dev.driver_features == f,
	       "virtio: driver features are fixed once FEATURES_OK is set");
	drv_free(&d, &blk);
}

static void test_queue_setup(void)
{
	struct virtio_blk blk;
	struct drv d;
	uint64_t cap = 0;
	uint32_t lo, hi;

	drv_blk(&d, &blk, false);
	negotiate(&d, DEFAULT_FEATURES);
	wr(&d, VIRTIO_MMIO_QUEUE_SEL, 0);
	tap_ok(rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX) == VIRTIO_QUEUE_NUM_MAX &&
	       rd(&d, VIRTIO_MMIO_QUEUE_READY) == 0,
	       "virtio: queue 0 has QueueNumMax 256 and is not ready");
	wr(&d, VIRTIO_MMIO_QUEUE_SEL, 1);
	tap_ok(rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX) == 0,
	       "virtio-blk: queue 1 does not exist (QueueNumMax 0)");
	setup_queue(&d, 0, QNUM, DESC_ADDR);
	tap_ok(rd(&d, VIRTIO_MMIO_QUEUE_READY) == 1 && blk.dev.vq[0].num == QNUM &&
	       blk.dev.vq[0].desc_addr == DESC_ADDR &&
	       blk.dev.vq[0].driver_addr == AVAIL_ADDR &&
	       blk.dev.vq[0].device_addr == USED_ADDR,
	       "virtio: queue set up through QueueNum/Desc/Driver/Device/Ready");
	wr(&d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	tap_ok(blk.dev.vq[0].desc_addr == DESC_ADDR,
	       "virtio: queue addresses do not change while the queue is ready");

	lo = rd(&d, 0x100);
	hi = rd(&d, 0x104);
	bus_access(&d.bus, SLOT0 + 0x100, false, (uint8_t *)&cap, 8);
	tap_ok(lo == DISK_SECTORS && hi == 0 && cap == DISK_SECTORS,
	       "virtio-blk: capacity in config space, read as 2x32 and 64 bits");
	cap = 0xff;
	bus_access(&d.bus, SLOT0 + 0x101, false, (uint8_t *)&cap, 2);
	tap_ok((cap & 0xffff) == 0, "virtio: a misaligned config read returns 0");
	cap = 0xff;
	bus_access(&d.bus, SLOT0 + VIRTIO_MMIO_MAGIC_VALUE, false, (uint8_t *)&cap, 2);
	tap_ok((cap & 0xffff) == 0, "virtio: a 16-bit register read returns 0");
	drv_free(&d, &blk);
}

/* --- virtio-blk requests ------------------------------------------------ */

static void test_blk_io(void)
{
	struct virtio_blk blk;
	uint8_t buf[4096], file[4096];
	struct drv d;
	uint32_t len = 0;
	unsigned int e;
	int i;

	drv_blk(&d, &blk, false);
	tap_ok(drv_start(&d, DEFAULT_FEATURES), "virtio-blk: driver start-up reaches DRIVER_OK");

	for (i = 0; i < 4096; i++)
		buf[i] = i * 7 + 3;
	memcpy(gpa(DATA_ADDR), buf, sizeof(buf));
	e = edge_count();
	tap_ok(blk_do(&d, VIRTIO_BLK_T_OUT, 4, 4096, false, &len) == VIRTIO_BLK_S_OK &&
	       len == 1 && pread(disk_fd, file, 4096, 4 * 512) == 4096 &&
	       !memcmp(file, buf, 4096), "virtio-blk: OUT writes the file");
	tap_ok(edge_count() == e + 1 && rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS) == 1,
	       "virtio: a completion raises an edge and InterruptStatus bit 0");
	wr(&d, VIRTIO_MMIO_INTERRUPT_ACK, 1);
	tap_ok(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS) == 0, "virtio: InterruptACK clears it");

	for (i = 0; i < 4096; i++)
		file[i] = i * 13 + 1;
	if (pwrite(disk_fd, file, 4096, 100 * 512) != 4096)
		perror("pwrite");
	memset(gpa(DATA_ADDR), 0, 4096);
	tap_ok(blk_do(&d, VIRTIO_BLK_T_IN, 100, 4096, true, &len) == VIRTIO_BLK_S_OK &&
	       len == 4097 && !memcmp(gpa(DATA_ADDR), file, 4096),
	       "virtio-blk: IN reads the file into guest memory");
	tap_ok(blk_do(&d, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL) == VIRTIO_BLK_S_OK,
	       "virtio-blk: FLUSH");
	memset(gpa(DATA_ADDR), 0, 32);
	tap_ok(blk_do(&d, VIRTIO_BLK_T_GET_ID, 0, 20, true, &len) == VIRTIO_BLK_S_OK &&
	       len == 21 && !memcmp(gpa(DATA_ADDR), "lvrun-virtiotest-", 17),
	       "virtio-blk: GET_ID answers with the file name");
	tap_ok(blk_do(&d, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 1024, true, NULL) ==
	       VIRTIO_BLK_S_IOERR, "virtio-blk: a read past the end gets IOERR");
	tap_ok(blk_do(&d, VIRTIO_BLK_T_OUT, ~0ULL, 512, false, NULL) == VIRTIO_BLK_S_IOERR,
	       "virtio-blk: a sector number that overflows gets IOERR");
	tap_ok(blk_do(&d, 99, 0, 0, false, NULL) == VIRTIO_BLK_S_UNSUPP,
	       "virtio-blk: an unknown request type gets UNSUPP");
	drv_free(&d, &blk);
}

static void test_blk_discard(void)
{
	struct virtio_blk_discard_write_zeroes *seg = gpa(DATA_ADDR);
	uint8_t buf[4096], zero[4096] = { 0 };
	struct virtio_blk blk;
	struct drv d;

	drv_blk(&d, &blk, false);
	drv_start(&d, DEFAULT_FEATURES | 1ULL << VIRTIO_BLK_F_DISCARD);
	memset(buf, 0x5a, sizeof(buf));
	if (pwrite(disk_fd, buf, 4096, 16 * 512) != 4096)
		perror("pwrite");
	*seg = (struct virtio_blk_discard_write_zeroes){ .sector = 16, .num_sectors = 8 };
	tap_ok(blk_do(&d, VIRTIO_BLK_T_DISCARD, 0, sizeof(*seg), false, NULL) ==
	       VIRTIO_BLK_S_OK && pread(disk_fd, buf, 4096, 16 * 512) == 4096 &&
	       !memcmp(buf, zero, 4096), "virtio-blk: DISCARD punches a hole (reads as zeros)");
	*seg = (struct virtio_blk_discard_write_zeroes){ .sector = 16, .num_sectors = 8,
							 .flags = 1 };
	tap_ok(blk_do(&d, VIRTIO_BLK_T_DISCARD, 0, sizeof(*seg), false, NULL) ==
	       VIRTIO_BLK_S_UNSUPP, "virtio-blk: DISCARD with the unmap flag gets UNSUPP");
	*seg = (struct virtio_blk_discard_write_zeroes){ .sector = DISK_SECTORS - 4,
							 .num_sectors = 8 };
	tap_ok(blk_do(&d, VIRTIO_BLK_T_DISCARD, 0, sizeof(*seg), false, NULL) ==
	       VIRTIO_BLK_S_IOERR, "virtio-blk: DISCARD past the end gets IOERR");
	drv_free(&d, &blk);
}

static void test_blk_ro(void)
{
	uint8_t before[512], after[512];
	struct virtio_blk blk;
	struct drv d;

	drv_blk(&d, &blk, true);
	tap_ok(device_features(&d) & 1ULL << VIRTIO_BLK_F_RO &&
	       !(device_features(&d) & 1ULL << VIRTIO_BLK_F_DISCARD) &&
	       (fcntl(blk.fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	       "virtio-blk ro: offers RO, not DISCARD; the file is open O_RDONLY");
	drv_start(&d, DEFAULT_FEATURES | 1ULL << VIRTIO_BLK_F_RO);
	if (pread(disk_fd, before, 512, 0) != 512)
		perror("pread");
	memset(gpa(DATA_ADDR), 0x77, 512);
	tap_ok(blk_do(&d, VIRTIO_BLK_T_OUT, 0, 512, false, NULL) == VIRTIO_BLK_S_IOERR &&
	       pread(disk_fd, after, 512, 0) == 512 && !memcmp(before, after, 512),
	       "virtio-blk ro: a write gets IOERR and the file is unchanged");
	tap_ok(blk_do(&d, VIRTIO_BLK_T_IN, 0, 512, true, NULL) == VIRTIO_BLK_S_OK,
	       "virtio-blk ro: reads work");
	drv_free(&d, &blk);
}

/* True if this kernel has flock() (CONFIG_FILE_LOCKING). */
static bool have_flock(void)
{
	if (flock(disk_fd, LOCK_SH | LOCK_NB))
		return errno != ENOSYS;
	flock(disk_fd, LOCK_UN);
	return true;
}

/* A writable disk is locked: neither another writer nor a reader gets it. */
static void test_blk_lock(void)
{
	struct virtio_blk *a;
	struct bus bus = { .name = "lock" };

	if (!have_flock()) {
		tap_ok(1, "virtio-blk: disk locks # SKIP no file locking in this kernel");
		return;
	}
	a = calloc(3, sizeof(*a));
	tap_ok(a && !virtio_blk_init(&a[0], 0, disk_path, false, &bus, SLOT0,
				     irq_line_get(&fake_chip, 5), ram) &&
	       virtio_blk_init(&a[1], 1, disk_path, false, &bus, SLOT1,
			       irq_line_get(&fake_chip, 6), ram) &&
	       virtio_blk_init(&a[1], 1, disk_path, true, &bus, SLOT1,
			       irq_line_get(&fake_chip, 6), ram),
	       "virtio-blk: a disk open for writing is refused to a second user");
	if (a) {
		close(a[0].fd);
		tap_ok(!virtio_blk_init(&a[1], 1, disk_path, true, &bus, SLOT1,
					irq_line_get(&fake_chip, 6), ram) &&
		       !virtio_blk_init(&a[2], 2, disk_path, true, &bus,
					SLOT1 + VIRTIO_MMIO_SLOT_SIZE,
					irq_line_get(&fake_chip, 7), ram),
		       "virtio-blk: read-only users share a disk");
		close(a[1].fd);
		close(a[2].fd);
	}
	free(bus.ranges);
	free(a);
}

/* --- Notifications -------------------------------------------------------- */

static uint16_t *used_event_of(unsigned int q)
{
	return &avail_ring(q)->ring[QNUM];
}

static uint16_t *avail_event_of(unsigned int q)
{
	return (uint16_t *)&used_ring(q)->ring[QNUM];
}

static void test_event_idx(void)
{
	struct virtio_blk blk;
	struct drv d;
	unsigned int e;

	drv_blk(&d, &blk, false);
	drv_start(&d, DEFAULT_FEATURES | 1ULL << VIRTIO_RING_F_EVENT_IDX);
	e = edge_count();
	blk_do(&d, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL);
	tap_ok(edge_count() == e + 1, "event idx: the first completion interrupts");
	tap_ok(*avail_event_of(0) == 1, "event idx: avail_event tells the driver where to notify");
	*used_event_of(0) = 2;	/* interrupt when entry 2 is used */
	e = edge_count();
	blk_do(&d, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL);
	tap_ok(edge_count() == e, "event idx: no interrupt before used_event is passed");
	blk_do(&d, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL);
	tap_ok(edge_count() == e + 1, "event idx: an interrupt once used_event is passed");
	drv_free(&d, &blk);

	drv_blk(&d, &blk, false);
	drv_start(&d, DEFAULT_FEATURES);
	avail_ring(0)->flags = VRING_AVAIL_F_NO_INTERRUPT;
	e = edge_count();
	tap_ok(blk_do(&d, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL) == VIRTIO_BLK_S_OK &&
	       edge_count() == e, "no event idx: VRING_AVAIL_F_NO_INTERRUPT suppresses it");
	drv_free(&d, &blk);
}

static void test_indirect(void)
{
	struct vring_desc *table = gpa(TABLE_ADDR);
	struct virtio_blk_outhdr *h = gpa(HDR_ADDR);
	uint8_t file[512];
	struct virtio_blk blk;
	struct drv d;

	drv_blk(&d, &blk, false);
	drv_start(&d, DEFAULT_FEATURES);
	memset(file, 0x3c, sizeof(file));
	if (pwrite(disk_fd, file, 512, 200 * 512) != 512)
		perror("pwrite");
	*h = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_IN, .sector = 200 };
	set_desc(table, 0, HDR_ADDR, sizeof(*h), VRING_DESC_F_NEXT, 1);
	set_desc(table, 1, DATA_ADDR, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set_desc(table, 2, STATUS_ADDR, 1, VRING_DESC_F_WRITE, 0);
	set_desc(desc_table(0), 3, TABLE_ADDR, 3 * sizeof(*table), VRING_DESC_F_INDIRECT, 0);
	memset(gpa(DATA_ADDR), 0, 512);
	*status_byte() = 0xee;
	submit(&d, 0, 3);
	tap_ok(used_idx(0) == 1 && used_ring(0)->ring[0].id == 3 &&
	       *status_byte() == VIRTIO_BLK_S_OK && !memcmp(gpa(DATA_ADDR), file, 512),
	       "indirect: a request in an indirect table is handled");
	drv_free(&d, &blk);
}

/*
 * A long queue is handled VIRTIO_BATCH requests per turn; the back-end
 * then signals itself for the rest, so a reset never waits for a guest
 * that keeps adding requests.
 */
static void test_batch(void)
{
	struct vring_avail *a = avail_ring(0);
	struct virtio_blk blk;
	unsigned int i, n = VIRTIO_BATCH + 36;
	struct drv d;

	drv_blk(&d, &blk, false);
	negotiate(&d, DEFAULT_FEATURES);
	setup_queue(&d, 0, VIRTIO_QUEUE_NUM_MAX, DESC_ADDR);
	wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	blk_chain(VIRTIO_BLK_T_FLUSH, 0, 0, false);
	for (i = 0; i < n; i++)
		a->ring[i] = 0;
	__atomic_store_n(&a->idx, n, __ATOMIC_RELEASE);
	wr(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_dev_poll(&blk.dev);
	tap_ok(used_idx(0) == VIRTIO_BATCH,
	       "batch: one turn of the back-end handles %d requests", VIRTIO_BATCH);
	virtio_dev_poll(&blk.dev);
	tap_ok(used_idx(0) == n, "batch: it signalled itself and handles the rest next turn");
	drv_free(&d, &blk);
}

/* The back-end on its own thread: notify, then wait for the interrupt. */
static void test_thread(void)
{
	struct virtio_blk blk;
	struct drv d;
	unsigned int e;

	drv_blk(&d, &blk, false);
	drv_start(&d, DEFAULT_FEATURES);
	virtio_dev_start(&blk.dev);
	e = edge_count();
	blk_chain(VIRTIO_BLK_T_FLUSH, 0, 0, false);
	kick(&d, 0, 0);
	pthread_mutex_lock(&edge_lock);
	while (edges == e)
		pthread_cond_wait(&edge_cond, &edge_lock);
	pthread_mutex_unlock(&edge_lock);
	tap_ok(used_idx(0) == 1 && *status_byte() == VIRTIO_BLK_S_OK,
	       "thread: QueueNotify wakes the back-end thread, which completes the request");
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	tap_ok(rd(&d, VIRTIO_MMIO_STATUS) == 0 && !blk.dev.vq[0].ready,
	       "thread: a reset with the back-end running leaves the device reset");
	tap_ok(drv_start(&d, DEFAULT_FEATURES), "thread: the device starts again after the reset");
	drv_free(&d, &blk);
}

/* --- Hostile front-ends ------------------------------------------------- */

struct hostile {
	const char *what;
	const char *msg;	/* expected in the message */
	uint64_t features;
	void (*arrange)(struct drv *d);	/* writes the bad ring and kicks */
};

static void loop_chain(struct drv *d)
{
	set_desc(desc_table(0), 0, HDR_ADDR, 16, VRING_DESC_F_NEXT, 1);
	set_desc(desc_table(0), 1, HDR_ADDR, 16, VRING_DESC_F_NEXT, 0);
	submit(d, 0, 0);
}

static void past_ram(struct drv *d)
{
	set_desc(desc_table(0), 0, RAM_SIZE - 8, 16, 0, 0);
	submit(d, 0, 0);
}

static void in_mmio(struct drv *d)
{
	set_desc(desc_table(0), 0, VIRTIO_MMIO_BASE, 16, 0, 0);
	submit(d, 0, 0);
}

static void addr_wraps(struct drv *d)
{
	set_desc(desc_table(0), 0, ~0ULL - 4, 16, 0, 0);
	submit(d, 0, 0);
}

/* 80 segments of 64 MiB, each in RAM: more than 4 GiB in all. */
static void length_overflows(struct drv *d)
{
	struct vring_desc *table = gpa(TABLE_ADDR);
	unsigned int i;

	for (i = 0; i < 80; i++)
		set_desc(table, i, 0, RAM_SIZE, VRING_DESC_F_NEXT, i + 1);
	table[79].flags = 0;
	set_desc(desc_table(0), 0, TABLE_ADDR, 80 * sizeof(*table), VRING_DESC_F_INDIRECT, 0);
	submit(d, 0, 0);
}

static void nested_indirect(struct drv *d)
{
	struct vring_desc *table = gpa(TABLE_ADDR);

	set_desc(table, 0, TABLE_ADDR, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(desc_table(0), 0, TABLE_ADDR, 16, VRING_DESC_F_INDIRECT, 0);
	submit(d, 0, 0);
}

static void indirect_bad_len(struct drv *d)
{
	set_desc(desc_table(0), 0, TABLE_ADDR, 24, VRING_DESC_F_INDIRECT, 0);
	submit(d, 0, 0);
}

static void indirect_zero_len(struct drv *d)
{
	set_desc(desc_table(0), 0, TABLE_ADDR, 0, VRING_DESC_F_INDIRECT, 0);
	submit(d, 0, 0);
}

static void indirect_loop(struct drv *d)
{
	struct vring_desc *table = gpa(TABLE_ADDR);

	set_desc(table, 0, HDR_ADDR, 16, VRING_DESC_F_NEXT, 1);
	set_desc(table, 1, HDR_ADDR, 16, VRING_DESC_F_NEXT, 0);
	set_desc(desc_table(0), 0, TABLE_ADDR, 32, VRING_DESC_F_INDIRECT, 0);
	submit(d, 0, 0);
}

static void indirect_past_ram(struct drv *d)
{
	set_desc(desc_table(0), 0, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	submit(d, 0, 0);
}

static void indirect_unnegotiated(struct drv *d)
{
	set_desc(desc_table(0), 0, TABLE_ADDR, 16, VRING_DESC_F_INDIRECT, 0);
	submit(d, 0, 0);
}

static void index_backwards(struct drv *d)
{
	blk_do(d, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL);
	avail_ring(0)->idx = 0;
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_dev_poll(d->dev);
}

static void index_jumps(struct drv *d)
{
	blk_chain(VIRTIO_BLK_T_FLUSH, 0, 0, false);
	avail_ring(0)->idx = QNUM + 1;
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_dev_poll(d->dev);
}

static void head_out_of_range(struct drv *d)
{
	submit(d, 0, 200);
}

static void next_out_of_range(struct drv *d)
{
	set_desc(desc_table(0), 0, HDR_ADDR, 16, VRING_DESC_F_NEXT, 99);
	submit(d, 0, 0);
}

static void read_after_write(struct drv *d)
{
	set_desc(desc_table(0), 0, STATUS_ADDR, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(desc_table(0), 1, HDR_ADDR, 16, 0, 0);
	submit(d, 0, 0);
}

static void no_status_byte(struct drv *d)
{
	set_desc(desc_table(0), 0, HDR_ADDR, 16, 0, 0);
	submit(d, 0, 0);
}

static void ring_past_ram(struct drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	negotiate(d, DEFAULT_FEATURES);
	setup_queue(d, 0, QNUM, RAM_SIZE - 64);
}

static void queue_size_bad(struct drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	negotiate(d, DEFAULT_FEATURES);
	setup_queue(d, 0, 3, DESC_ADDR);
}

static const struct hostile hostiles[] = {
	{ "a chain that loops", "virtio-blk0: descriptor chain loops", DEFAULT_FEATURES, loop_chain },
	{ "a descriptor past the end of RAM", "descriptor outside guest RAM", DEFAULT_FEATURES, past_ram },
	{ "a descriptor in the MMIO window", "descriptor outside guest RAM", DEFAULT_FEATURES, in_mmio },
	{ "a descriptor whose address wraps", "descriptor outside guest RAM", DEFAULT_FEATURES, addr_wraps },
	{ "lengths adding up past 4 GiB", "descriptor chain length overflows", DEFAULT_FEATURES, length_overflows },
	{ "a nested indirect table", "nested indirect descriptor table", DEFAULT_FEATURES, nested_indirect },
	{ "an indirect table of 24 bytes", "indirect table has a bad length", DEFAULT_FEATURES, indirect_bad_len },
	{ "an indirect table of 0 bytes", "indirect table has a bad length", DEFAULT_FEATURES, indirect_zero_len },
	{ "a loop inside an indirect table", "descriptor chain loops", DEFAULT_FEATURES, indirect_loop },
	{ "an indirect table past RAM", "indirect table outside guest RAM", DEFAULT_FEATURES, indirect_past_ram },
	{ "an indirect descriptor, feature not taken", "without VIRTIO_F_INDIRECT_DESC",
	  1ULL << VIRTIO_F_VERSION_1, indirect_unnegotiated },
	{ "the avail index going backwards", "avail index went backwards from 1 to 0", DEFAULT_FEATURES, index_backwards },
	{ "the avail index jumping past the queue size", "avail index jumped past the queue size from 0 to 17",
	  DEFAULT_FEATURES, index_jumps },
	{ "an avail entry naming descriptor 200", "names descriptor 200 of 16", DEFAULT_FEATURES, head_out_of_range },
	{ "a next index out of range", "descriptor index 99 out of range", DEFAULT_FEATURES, next_out_of_range },
	{ "a readable descriptor after a writable one", "device-readable descriptor after a writable one",
	  DEFAULT_FEATURES, read_after_write },
	{ "a request without a status byte", "request without header or status byte",
	  DEFAULT_FEATURES, no_status_byte },
	{ "rings past the end of RAM", "queue 0: ring outside guest RAM", DEFAULT_FEATURES, ring_past_ram },
	{ "a queue size of 3", "queue 0: size 3 is not a power of two", DEFAULT_FEATURES, queue_size_bad },
};

/* One hostile case: broken, flagged, silent afterwards, fixed by a reset. */
static void test_hostile(const struct hostile *h)
{
	struct virtio_blk blk;
	struct drv d;
	uint16_t used;
	unsigned int e;

	drv_blk(&d, &blk, false);
	drv_start(&d, h->features);
	e = edge_count();
	h->arrange(&d);
	tap_ok(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET &&
	       rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG &&
	       edge_count() > e && strstr(blk.dev.broken_msg, h->msg),
	       "hostile: %s: DEVICE_NEEDS_RESET, config interrupt, \"%s\"", h->what,
	       blk.dev.broken_msg);
	used = used_idx(0);
	if (blk.dev.vq[0].ready) {
		blk_chain(VIRTIO_BLK_T_FLUSH, 0, 0, false);
		submit(&d, 0, 0);
	}
	tap_ok(used_idx(0) == used, "hostile: %s: nothing handled until a reset", h->what);
	tap_ok(drv_start(&d, DEFAULT_FEATURES) && !blk.dev.broken_msg[0] &&
	       blk_do(&d, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL) == VIRTIO_BLK_S_OK,
	       "hostile: %s: usable again after a reset", h->what);
	drv_free(&d, &blk);
}

/* --- virtio-console ------------------------------------------------------- */

static void test_console(void)
{
	struct virtio_console con;
	struct vring_desc *t;
	char out[16] = { 0 };
	struct drv d;
	int pipefd[2];

	if (pipe(pipefd)) {
		perror("pipe");
		exit(1);
	}
	memset(&d, 0, sizeof(d));
	d.base = SLOT0;
	d.dev = &con.dev;
	virtio_console_init(&con, &d.bus, SLOT0, irq_line_get(&fake_chip, 6), ram, pipefd[1]);
	tap_ok(rd(&d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_CONSOLE &&
	       !(device_features(&d) & ~(DEFAULT_FEATURES | 1ULL << VIRTIO_RING_F_EVENT_IDX)),
	       "virtio-console: DeviceID 3, no MULTIPORT/SIZE/EMERG_WRITE");
	virtio_console_receive(&con, (const uint8_t *)"abc", 3);
	tap_ok(drv_start(&d, DEFAULT_FEATURES), "virtio-console: two queues set up, DRIVER_OK");

	t = desc_table(0);
	set_desc(t, 0, DATA_ADDR, 64, VRING_DESC_F_WRITE, 0);
	memset(gpa(DATA_ADDR), 0, 64);
	submit(&d, 0, 0);
	tap_ok(used_idx(0) == 1 && used_ring(0)->ring[0].len == 3 &&
	       !memcmp(gpa(DATA_ADDR), "abc", 3),
	       "virtio-console: input received before the driver came is delivered");
	set_desc(t, 1, DATA_ADDR + 64, 64, VRING_DESC_F_WRITE, 0);
	kick(&d, 0, 1);
	virtio_dev_poll(&con.dev);
	virtio_console_receive(&con, (const uint8_t *)"xy", 2);
	virtio_dev_poll(&con.dev);
	tap_ok(used_idx(0) == 2 && used_ring(0)->ring[1].len == 2 &&
	       !memcmp(gpa(DATA_ADDR + 64), "xy", 2),
	       "virtio-console: later input goes into a waiting buffer");

	t = desc_table(1);
	memcpy(gpa(DATA_ADDR + 0x1000), "hello", 5);
	set_desc(t, 0, DATA_ADDR + 0x1000, 5, 0, 0);
	submit(&d, 1, 0);
	tap_ok(used_idx(1) == 1 && read(pipefd[0], out, sizeof(out)) == 5 &&
	       !memcmp(out, "hello", 5), "virtio-console: transmitted bytes reach the output");
	drv_free(&d, NULL);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* --- virtio-net --------------------------------------------------------- */

/*
 * The tap is a SOCK_SEQPACKET socket pair: lvrun's end carries what a tap
 * with a 12-byte vnet header does (header, then the frame), one packet
 * per message; the test reads and writes the other end.
 */
#define NET_FEATURES	(DEFAULT_FEATURES | 1ULL << VIRTIO_NET_F_MAC)
#define NET_RX		0
#define NET_TX		1
#define RX_GUARD	0xa5

static const uint8_t test_mac[6] = { 0x02, 0x4c, 0x56, 0x11, 0x22, 0x33 };

struct net_fixture {
	struct drv d;
	struct virtio_net net;
	int peer;		/* the host's side of the "tap" */
};

static void net_open(struct net_fixture *f)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
		perror("socketpair");
		exit(1);
	}
	memset(&f->d, 0, sizeof(f->d));
	f->d.base = SLOT0;
	f->d.dev = &f->net.dev;
	f->peer = sv[1];
	virtio_net_init_fd(&f->net, sv[0], false, test_mac, &f->d.bus, SLOT0,
			   irq_line_get(&fake_chip, 5), ram);
}

static void net_close(struct net_fixture *f)
{
	drv_free(&f->d, NULL);
	close(f->net.tap_fd);
	if (f->peer >= 0)
		close(f->peer);
	free(f->net.spill);
}

/* The host sends a packet: @hdr, then @len bytes of @fill. */
static void peer_send(struct net_fixture *f, const struct virtio_net_hdr_v1 *hdr,
		      uint8_t fill, size_t len)
{
	static uint8_t pkt[VIRTIO_NET_HDR_LEN + 4096];

	memcpy(pkt, hdr, sizeof(*hdr));
	memset(pkt + sizeof(*hdr), fill, len);
	if (send(f->peer, pkt, sizeof(*hdr) + len, 0) != (ssize_t)(sizeof(*hdr) + len)) {
		perror("send");
		exit(1);
	}
}

/* A receive chain at @addr in @nr pieces of @piece bytes; guard bytes after. */
static void rx_chain(unsigned int head, uint64_t addr, unsigned int nr, uint32_t piece)
{
	unsigned int i;

	memset(gpa(addr), 0, (uint64_t)nr * piece);
	memset(gpa(addr + (uint64_t)nr * piece), RX_GUARD, 64);
	for (i = 0; i < nr; i++)
		set_desc(desc_table(NET_RX), head + i, addr + (uint64_t)i * piece, piece,
			 VRING_DESC_F_WRITE | (i + 1 < nr ? VRING_DESC_F_NEXT : 0),
			 head + i + 1);
}

static bool guard_intact(uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < 64; i++)
		if (((uint8_t *)gpa(addr))[i] != RX_GUARD)
			return false;
	return true;
}

/* @len bytes at @addr are all @fill. */
static bool all_bytes(uint64_t addr, uint8_t fill, size_t len)
{
	const uint8_t *p = gpa(addr);
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != fill)
			return false;
	return true;
}

static void test_net_identity(void)
{
	struct net_fixture f;
	uint8_t mac[6];
	uint64_t feat;
	unsigned int i;

	net_open(&f);
	feat = device_features(&f.d);
	tap_ok(rd(&f.d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_NET &&
	       feat == (DEFAULT_FEATURES | 1ULL << VIRTIO_RING_F_EVENT_IDX |
			1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_CSUM |
			1ULL << VIRTIO_NET_F_GUEST_CSUM),
	       "virtio-net: DeviceID 1, offers MAC, CSUM, GUEST_CSUM and the ring features (0x%llx)",
	       (unsigned long long)feat);
	for (i = 0; i < 6; i++)
		bus_access(&f.d.bus, SLOT0 + 0x100 + i, false, &mac[i], 1);
	tap_ok(!memcmp(mac, test_mac, 6), "virtio-net: the MAC in config space, byte by byte");
	wr(&f.d, VIRTIO_MMIO_QUEUE_SEL, 2);
	tap_ok(rd(&f.d, VIRTIO_MMIO_QUEUE_NUM_MAX) == 0,
	       "virtio-net: a receive and a transmit queue, no control queue");
	net_close(&f);
}

/* Guest to tap: lvrun's copy of the header, then the frame as it was. */
static void test_net_tx(void)
{
	struct virtio_net_hdr_v1 *h = gpa(HDR_ADDR);
	uint8_t got[VIRTIO_NET_HDR_LEN + 512];
	struct virtio_net_hdr_v1 sent;
	struct vring_desc *t = desc_table(NET_TX);
	struct net_fixture f;
	ssize_t n;

	net_open(&f);
	drv_start(&f.d, NET_FEATURES | 1ULL << VIRTIO_NET_F_CSUM);
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	h->csum_start = 34;
	h->csum_offset = 16;
	h->num_buffers = 0x5555;
	memset(gpa(DATA_ADDR), 0x11, 100);
	memset(gpa(DATA_ADDR + 0x1000), 0x22, 200);
	/* The header and the frame's first 100 bytes in one descriptor. */
	memcpy(gpa(DATA_ADDR - sizeof(*h)), h, sizeof(*h));
	set_desc(t, 0, DATA_ADDR - sizeof(*h), sizeof(*h) + 100, VRING_DESC_F_NEXT, 1);
	set_desc(t, 1, DATA_ADDR + 0x1000, 200, 0, 0);
	submit(&f.d, NET_TX, 0);
	n = recv(f.peer, got, sizeof(got), 0);
	memcpy(&sent, got, sizeof(sent));
	tap_ok(n == VIRTIO_NET_HDR_LEN + 300 && used_idx(NET_TX) == 1 &&
	       used_ring(NET_TX)->ring[0].len == 0,
	       "virtio-net: transmit: one packet of header + 300 bytes reaches the tap (%zd)", n);
	tap_ok(sent.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && sent.gso_type == 0 &&
	       sent.csum_start == 34 && sent.csum_offset == 16 && !sent.num_buffers,
	       "virtio-net: transmit: the tap's header keeps NEEDS_CSUM and its offsets, drops DATA_VALID and num_buffers");
	tap_ok(n == VIRTIO_NET_HDR_LEN + 300 &&
	       !memcmp(got + 12, gpa(DATA_ADDR), 100) &&
	       !memcmp(got + 112, gpa(DATA_ADDR + 0x1000), 200),
	       "virtio-net: transmit: the frame crosses descriptors unchanged");
	net_close(&f);
}

/* Posts the receive chain from descriptor 0 and lets the device see it. */
static void rx_post(struct net_fixture *f, uint64_t addr, unsigned int nr, uint32_t piece)
{
	rx_chain(0, addr, nr, piece);
	submit(&f->d, NET_RX, 0);
}

static void test_net_rx(void)
{
	struct virtio_net_hdr_v1 hdr = { .flags = VIRTIO_NET_HDR_F_DATA_VALID,
					 .num_buffers = 0x7777 };
	struct virtio_net_hdr_v1 *got = gpa(DATA_ADDR);
	struct net_fixture f;
	uint16_t before;

	net_open(&f);
	drv_start(&f.d, NET_FEATURES);
	/* 8 + 8 + 1514: the header split over two descriptors. */
	rx_chain(0, DATA_ADDR, 2, 8);
	set_desc(desc_table(NET_RX), 1, DATA_ADDR + 8, 8, VRING_DESC_F_WRITE |
		 VRING_DESC_F_NEXT, 2);
	set_desc(desc_table(NET_RX), 2, DATA_ADDR + 16, 1514, VRING_DESC_F_WRITE, 0);
	memset(gpa(DATA_ADDR + 16 + 1514), RX_GUARD, 64);
	submit(&f.d, NET_RX, 0);
	tap_ok(used_idx(NET_RX) == 0 && atomic_load(&f.net.dev.io_wait),
	       "virtio-net: receive: with a buffer and nothing to read, it waits for the tap");
	peer_send(&f, &hdr, 0x3c, 1000);
	virtio_dev_poll(&f.net.dev);
	tap_ok(used_idx(NET_RX) == 1 && used_ring(NET_RX)->ring[0].len == 1012 &&
	       all_bytes(DATA_ADDR + 12, 0x3c, 1000) && guard_intact(DATA_ADDR + 1530),
	       "virtio-net: receive: a packet from the tap lands in the chain, used length 1012");
	tap_ok(got->flags == 0 && got->num_buffers == 1,
	       "virtio-net: receive: without GUEST_CSUM, flags 0; num_buffers 1");
	tap_ok(!atomic_load(&f.net.dev.io_wait),
	       "virtio-net: receive: out of buffers, it stops reading the tap");

	peer_send(&f, &hdr, 0x4d, 64);
	virtio_dev_poll(&f.net.dev);
	before = used_idx(NET_RX);
	rx_post(&f, DATA_ADDR + 0x1000, 1, 1530);
	tap_ok(before == 1 && used_idx(NET_RX) == 2 &&
	       used_ring(NET_RX)->ring[1].len == 76 && all_bytes(DATA_ADDR + 0x100c, 0x4d, 64),
	       "virtio-net: receive: a packet waits in the tap until the driver posts a buffer");

	/* With GUEST_CSUM the driver sees DATA_VALID and NEEDS_CSUM. */
	drv_start(&f.d, NET_FEATURES | 1ULL << VIRTIO_NET_F_GUEST_CSUM);
	hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr.csum_start = 34;
	hdr.csum_offset = 6;
	rx_post(&f, DATA_ADDR, 1, 1530);
	peer_send(&f, &hdr, 0x5e, 300);
	virtio_dev_poll(&f.net.dev);
	tap_ok(used_idx(NET_RX) == 1 && got->flags == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
	       got->csum_start == 34 && got->csum_offset == 6 && got->num_buffers == 1,
	       "virtio-net: receive: with GUEST_CSUM, a partial checksum reaches the driver");
	net_close(&f);
}

/* Packets the posted buffer cannot hold, or the driver cannot take. */
static void test_net_rx_drop(void)
{
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct net_fixture f;

	net_open(&f);
	drv_start(&f.d, NET_FEATURES);
	rx_post(&f, DATA_ADDR, 2, 50);	/* 100 bytes */
	peer_send(&f, &hdr, 0x6f, 89);
	virtio_dev_poll(&f.net.dev);
	tap_ok(used_idx(NET_RX) == 0 && f.net.rx_dropped == 1 && guard_intact(DATA_ADDR + 100),
	       "virtio-net: receive: a packet longer than the chain is dropped, nothing past it written");
	peer_send(&f, &hdr, 0x70, 88);
	virtio_dev_poll(&f.net.dev);
	tap_ok(used_idx(NET_RX) == 1 && used_ring(NET_RX)->ring[0].id == 0 &&
	       used_ring(NET_RX)->ring[0].len == 100 && all_bytes(DATA_ADDR + 12, 0x70, 88) &&
	       guard_intact(DATA_ADDR + 100),
	       "virtio-net: receive: the same chain takes the next packet that fits exactly");

	rx_post(&f, DATA_ADDR, 1, 8);	/* shorter than the header */
	peer_send(&f, &hdr, 0x71, 1);
	virtio_dev_poll(&f.net.dev);
	tap_ok(used_idx(NET_RX) == 1 && f.net.rx_dropped == 2 && guard_intact(DATA_ADDR + 8),
	       "virtio-net: receive: a chain shorter than the header takes nothing");

	rx_post(&f, DATA_ADDR, 1, 1530);
	hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	peer_send(&f, &hdr, 0x72, 60);
	hdr.flags = 0;
	hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	peer_send(&f, &hdr, 0x73, 60);
	hdr.gso_type = 0;
	peer_send(&f, &hdr, 0x74, 60);
	virtio_dev_poll(&f.net.dev);
	virtio_dev_poll(&f.net.dev);
	tap_ok(used_idx(NET_RX) == 2 && f.net.rx_dropped == 4 &&
	       all_bytes(DATA_ADDR + 12, 0x74, 60),
	       "virtio-net: receive: partial checksum without GUEST_CSUM, and GSO, are dropped");
	net_close(&f);
}

/* The back-end thread wakes up for the tap, not only for notifies. */
static void test_net_thread(void)
{
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct net_fixture f;
	unsigned int e;

	net_open(&f);
	drv_start(&f.d, NET_FEATURES);
	rx_post(&f, DATA_ADDR, 1, 1530);
	virtio_dev_start(&f.net.dev);
	e = edge_count();
	peer_send(&f, &hdr, 0x42, 500);
	pthread_mutex_lock(&edge_lock);
	while (edges == e)
		pthread_cond_wait(&edge_cond, &edge_lock);
	pthread_mutex_unlock(&edge_lock);
	tap_ok(used_idx(NET_RX) == 1 && all_bytes(DATA_ADDR + 12, 0x42, 500),
	       "virtio-net: thread: a packet on the tap wakes the back-end, which interrupts");
	net_close(&f);
}

/* Front-ends that break the rules; each time usable after a reset. */
struct net_hostile {
	const char *what, *msg;
	unsigned int q;
	void (*arrange)(void);
};

static void tx_writable(void)
{
	set_desc(desc_table(NET_TX), 0, HDR_ADDR, 12, VRING_DESC_F_NEXT, 1);
	set_desc(desc_table(NET_TX), 1, DATA_ADDR, 64, VRING_DESC_F_WRITE, 0);
}

static void tx_short(void)
{
	set_desc(desc_table(NET_TX), 0, HDR_ADDR, 11, 0, 0);
}

static void tx_gso(void)
{
	struct virtio_net_hdr_v1 *h = gpa(HDR_ADDR);

	memset(h, 0, sizeof(*h));
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	set_desc(desc_table(NET_TX), 0, HDR_ADDR, 12 + 60, 0, 0);
}

static void tx_csum(void)
{
	struct virtio_net_hdr_v1 *h = gpa(HDR_ADDR);

	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	set_desc(desc_table(NET_TX), 0, HDR_ADDR, 12 + 60, 0, 0);
}

static void rx_readable(void)
{
	set_desc(desc_table(NET_RX), 0, DATA_ADDR, 64, 0, 0);
}

static const struct net_hostile net_hostiles[] = {
	{ "transmit buffer with a writable descriptor",
	  "transmit buffer with device-writable descriptors", NET_TX, tx_writable },
	{ "transmit buffer shorter than the header",
	  "transmit buffer shorter than its 12-byte header", NET_TX, tx_short },
	{ "transmit with GSO", "transmit header with GSO type 1, none offered", NET_TX, tx_gso },
	{ "transmit NEEDS_CSUM without CSUM",
	  "transmit header asks for a checksum without VIRTIO_NET_F_CSUM", NET_TX, tx_csum },
	{ "receive buffer with a readable descriptor",
	  "receive buffer with device-readable descriptors", NET_RX, rx_readable },
};

static void test_net_hostile(const struct net_hostile *h)
{
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct net_fixture f;
	char none[16];
	unsigned int e;

	net_open(&f);
	drv_start(&f.d, NET_FEATURES);	/* CSUM not taken */
	e = edge_count();
	h->arrange();
	submit(&f.d, h->q, 0);
	tap_ok(rd(&f.d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET &&
	       rd(&f.d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG &&
	       edge_count() > e && strstr(f.net.dev.broken_msg, h->msg) &&
	       !strncmp(f.net.dev.broken_msg, "virtio-net0: ", 13) &&
	       recv(f.peer, none, sizeof(none), 0) < 0 && used_idx(h->q) == 0,
	       "virtio-net: hostile: %s: DEVICE_NEEDS_RESET, nothing sent, \"%s\"", h->what,
	       f.net.dev.broken_msg);
	drv_start(&f.d, NET_FEATURES);
	rx_post(&f, DATA_ADDR, 1, 1530);
	peer_send(&f, &hdr, 0x33, 40);
	virtio_dev_poll(&f.net.dev);
	tap_ok(!f.net.dev.broken_msg[0] && used_idx(NET_RX) == 1 &&
	       all_bytes(DATA_ADDR + 12, 0x33, 40),
	       "virtio-net: hostile: %s: receives again after a reset", h->what);
	net_close(&f);
}

/*
 * A real tap, in a network namespace of this thread's own: the kernel's
 * side of the vnet header against lvrun's. The host's stack is at
 * 10.9.0.1 on the tap, the "guest" at 10.9.0.2.
 */
#define TAP_NAME	"lvtest0"
#define TAP_HOST_IP	"10.9.0.1"
#define TAP_GUEST_IP	"10.9.0.2"

/* Gives the tap its address and brings it up; its MAC in @mac. */
static bool tap_configure(uint8_t mac[6])
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", TAP_NAME);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, TAP_HOST_IP, &sin->sin_addr);
	ok = s >= 0 && !ioctl(s, SIOCSIFADDR, &ifr);
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	ok = ok && !ioctl(s, SIOCSIFNETMASK, &ifr);
	ok = ok && !ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ok = ok && !ioctl(s, SIOCSIFFLAGS, &ifr) && !ioctl(s, SIOCGIFHWADDR, &ifr);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (s >= 0)
		close(s);
	return ok;
}

/* Waits (at most 10 s: a failure, never a pass) for the tap to have a packet. */
static bool tap_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 10000) == 1;
}

/*
 * The host sends a datagram to the guest's address: its stack asks who
 * has it with an ARP request out of the tap, which must reach a receive
 * buffer with a proper header (other packets, IPv6's, may come first).
 */
static void tap_rx_arp(struct net_fixture *f, const uint8_t tap_mac[6])
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	const uint8_t *frame = gpa(DATA_ADDR + VIRTIO_NET_HDR_LEN);
	struct virtio_net_hdr_v1 *hdr = gpa(DATA_ADDR);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool arp = false;
	unsigned int i;
	uint32_t len = 0;

	inet_pton(AF_INET, TAP_GUEST_IP, &to.sin_addr);
	if (s < 0 || sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) != 1)
		perror("sendto");
	for (i = 0; i < 8 && !arp && tap_readable(f->net.tap_fd); i++) {
		memset(hdr, 0xee, VIRTIO_NET_HDR_LEN);
		rx_post(f, DATA_ADDR, 1, 1530);
		virtio_dev_poll(&f->net.dev);
		len = used_ring(NET_RX)->ring[i % QNUM].len;
		arp = used_idx(NET_RX) == i + 1 && frame[12] == 0x08 && frame[13] == 0x06;
	}
	tap_ok(arp && len == VIRTIO_NET_HDR_LEN + 42 && !memcmp(frame + 6, tap_mac, 6) &&
	       !memcmp(frame + 38, &to.sin_addr, 4),
	       "virtio-net: real tap: the host's ARP request for the guest arrives (%u bytes)", len);
	tap_ok(arp && hdr->num_buffers == 1 && hdr->flags == 0 && hdr->gso_type == 0,
	       "virtio-net: real tap: its header: num_buffers 1, flags 0, no GSO");
	if (s >= 0)
		close(s);
}

/* 16-bit one's complement sum, for the IPv4 header. */
static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* The guest sends a UDP datagram to the host's socket through the tap. */
static void tap_tx_udp(struct net_fixture *f, const uint8_t tap_mac[6])
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(4242) };
	uint8_t *pkt = gpa(DATA_ADDR + 0x2000), *ip, *udp;
	static const char payload[] = "through the tap";
	size_t plen = sizeof(payload);
	char got[64] = { 0 };
	uint16_t sum;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n = -1;

	inet_pton(AF_INET, TAP_HOST_IP, &me.sin_addr);
	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof(me)))
		perror("bind");
	memset(pkt, 0, 12 + 14 + 20 + 8);
	memcpy(pkt + 12, tap_mac, 6);
	memcpy(pkt + 18, test_mac, 6);
	pkt[24] = 0x08;					/* IPv4 */
	ip = pkt + 26;
	ip[0] = 0x45;
	ip[3] = 20 + 8 + plen;
	ip[8] = 64;					/* TTL */
	ip[9] = 17;					/* UDP */
	inet_pton(AF_INET, TAP_GUEST_IP, ip + 12);
	inet_pton(AF_INET, TAP_HOST_IP, ip + 16);
	sum = ip_checksum(ip, 20);
	ip[10] = sum >> 8;
	ip[11] = sum;
	udp = ip + 20;
	udp[0] = 0x10;					/* from port 4096 */
	udp[2] = 4242 >> 8;
	udp[3] = 4242 & 0xff;
	udp[5] = 8 + plen;				/* no checksum */
	memcpy(udp + 8, payload, plen);
	set_desc(desc_table(NET_TX), 0, DATA_ADDR + 0x2000, 12 + 14 + 20 + 8 + plen, 0, 0);
	submit(&f->d, NET_TX, 0);
	if (tap_readable(s))
		n = recv(s, got, sizeof(got), MSG_DONTWAIT);
	tap_ok(used_idx(NET_TX) == 1 && n == (ssize_t)plen && !memcmp(got, payload, plen),
	       "virtio-net: real tap: a UDP datagram from the guest reaches a host socket");
	if (s >= 0)
		close(s);
}

static void test_net_real_tap(void)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct net_fixture f;
	uint8_t tap_mac[6];

	memset(&f, 0, sizeof(f));
	f.d.base = SLOT0;
	f.d.dev = &f.net.dev;
	f.peer = -1;
	if (home < 0 || unshare(CLONE_NEWNET)) {
		tap_ok(1, "virtio-net: real tap # SKIP no network namespace: %s", strerror(errno));
		return;
	}
	if (virtio_net_init(&f.net, TAP_NAME, test_mac, &f.d.bus, SLOT0,
			    irq_line_get(&fake_chip, 5), ram)) {
		tap_ok(1, "virtio-net: real tap # SKIP no tap here (see the message above)");
		goto out;
	}
	tap_ok(tap_configure(tap_mac) && drv_start(&f.d, NET_FEATURES),
	       "virtio-net: real tap: lvrun made " TAP_NAME ", up at " TAP_HOST_IP "/24");
	tap_rx_arp(&f, tap_mac);
	tap_tx_udp(&f, tap_mac);
	net_close(&f);
out:
	if (setns(home, CLONE_NEWNET))
		perror("setns");
	close(home);
}

/*
 * Broken while waiting for the tap: the back-end stops waiting for it,
 * or a packet there would wake its thread again and again.
 */
static void test_net_broken_stops_tap(void)
{
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct net_fixture f;

	net_open(&f);
	drv_start(&f.d, NET_FEATURES);
	rx_post(&f, DATA_ADDR, 1, 1530);
	tx_writable();
	submit(&f.d, NET_TX, 0);
	peer_send(&f, &hdr, 0x44, 60);
	virtio_dev_poll(&f.net.dev);
	tap_ok(f.net.dev.broken_msg[0] && used_idx(NET_RX) == 0 &&
	       !atomic_load(&f.net.dev.io_wait),
	       "virtio-net: broken with a receive buffer posted: it stops waiting for the tap");
	net_close(&f);
}

void virtio_tests(void)
{
	unsigned int i;

	ram_setup();
	disk_create();
	test_identity();
	test_features();
	test_queue_setup();
	test_blk_io();
	test_blk_discard();
	test_blk_ro();
	test_blk_lock();
	test_event_idx();
	test_indirect();
	test_batch();
	test_thread();
	for (i = 0; i < ARRAY_SIZE(hostiles); i++)
		test_hostile(&hostiles[i]);
	test_console();
	test_net_identity();
	test_net_tx();
	test_net_rx();
	test_net_rx_drop();
	test_net_thread();
	for (i = 0; i < ARRAY_SIZE(net_hostiles); i++)
		test_net_hostile(&net_hostiles[i]);
	test_net_broken_stops_tap();
	test_net_real_tap();
	close(disk_fd);
	unlink(disk_path);
	munmap(ram_mapping, RAM_SIZE + 2 * PAGE);
}
