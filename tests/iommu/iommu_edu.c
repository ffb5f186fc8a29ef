// SPDX-License-Identifier: GPL-2.0
/*
 * VT-d device assignment with QEMU's edu device (1234:11e8): the launcher
 * assigns edu to a VM and drives edu's DMA engine through BAR0 itself (no
 * guest runs), checking that DMA reaches exactly the VM's memory slots at
 * IOVA = GPA, and that everything is given back on release.
 *
 * edu DMA registers (BAR0): 0x80 source, 0x88 destination, 0x90 count,
 * 0x98 command (bit 0 start, bit 1 edu -> RAM). Its buffer is 4 KiB at
 * device address 0x40000. QEMU aborts on an edu-side address outside that
 * buffer, so only the RAM side ever points anywhere interesting.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "../abi/test_util.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_ID		0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_RUN	1
#define EDU_CMD_TO_RAM	2
#define EDU_BUF		0x40000
/*
 * QEMU 7.2's edu rejects (aborts on) a transfer that ends exactly at the
 * end of its 4 KiB buffer, so transfers stay below that.
 */
#define EDU_XFER	0xf00

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x200000ULL
#define EXTRA_GPA	0x800000ULL
#define EXTRA_MOVED	0xa00000ULL
#define EXTRA_SIZE	0x10000ULL
#define RO_GPA		0xc00000ULL
#define HOLE_GPA	0x400000ULL	/* in no slot */

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4

struct bdf {
	unsigned int seg, bus, dev, fn;
	char name[32];
};

static int sys_fd;
static struct bdf edu;
static volatile uint8_t *bar0;

static void parse_bdf(const char *name, struct bdf *b)
{
	sscanf(name, "%x:%x:%x.%x", &b->seg, &b->bus, &b->dev, &b->fn);
	snprintf(b->name, sizeof(b->name), "%s", name);
}

static struct lv_pci_device to_lv(const struct bdf *b)
{
	struct lv_pci_device d = {
		.segment = b->seg, .bus = b->bus,
		.devfn = (b->dev << 3) | b->fn,
	};
	return d;
}

struct device_wanted {
	unsigned long vendor, device;	/* vendor 0: any device with a driver */
	char *driver;
	size_t dlen;
};

/* A device with these IDs, or one a host driver holds in an IOMMU group. */
static bool device_matches(const char *dir, void *arg)
{
	struct device_wanted *w = arg;
	char link[320], target[300];
	ssize_t n;

	if (w->vendor)
		return pci_ids_are(dir, w->vendor, w->device);
	snprintf(link, sizeof(link), "%s/driver", dir);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = 0;
	snprintf(link, sizeof(link), "%s/iommu_group", dir);
	if (access(link, F_OK))
		return false;
	snprintf(w->driver, w->dlen, "%s", strrchr(target, '/') + 1);
	return true;
}

/* First device matching vendor/device, or (vendor 0) one with a driver. */
static int find_device(unsigned long vendor, unsigned long device,
		       struct bdf *out, char *driver, size_t dlen)
{
	struct device_wanted w = { vendor, device, driver, dlen };
	char name[64];

	if (find_pci_device(device_matches, &w, name, sizeof(name)))
		return -1;
	parse_bdf(name, out);
	return 0;
}

static int assign(int vm_fd, const struct bdf *b, unsigned int flags)
{
	struct lv_pci_device d = to_lv(b);

	d.flags = flags;
	return ioctl(vm_fd, LV_ASSIGN_PCI_DEVICE, &d);
}

static int release(int vm_fd, const struct bdf *b)
{
	struct lv_pci_device d = to_lv(b);

	return ioctl(vm_fd, LV_RELEASE_PCI_DEVICE, &d);
}

static int set_slot(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa,
		    uint64_t size, void *mem)
{
	struct lv_memory_region mr = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)mem,
	};
	return ioctl(vm_fd, LV_SET_MEMORY_REGION, &mr);
}

static int vm_new(void)
{
	int fd = ioctl(sys_fd, LV_CREATE_VM, 0);

	if (fd < 0)
		die("LV_CREATE_VM: %s", strerror(errno));
	return fd;
}

static uint16_t config_command(int set, uint16_t val)
{
	char path[300];
	uint16_t cmd = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", edu.name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if (set) {
		if (pwrite(fd, &val, 2, PCI_COMMAND) != 2)
			die("config write: %s", strerror(errno));
	}
	if (pread(fd, &cmd, 2, PCI_COMMAND) != 2)
		die("config read: %s", strerror(errno));
	close(fd);
	return cmd;
}

static uint32_t rd32(unsigned int off)
{
	return *(volatile uint32_t *)(bar0 + off);
}

static void wr64(unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(bar0 + off) = v;
}

static uint64_t rd64(unsigned int off)
{
	return *(volatile uint64_t *)(bar0 + off);
}

/* One edu DMA; true when the engine finished within 5 s. */
static bool edu_dma(uint64_t src, uint64_t dst, uint64_t len, bool to_ram)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	wr64(EDU_DMA_SRC, src);
	wr64(EDU_DMA_DST, dst);
	wr64(EDU_DMA_CNT, len);
	wr64(EDU_DMA_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
	for (i = 0; i < 500; i++) {
		if (!(rd64(EDU_DMA_CMD) & EDU_CMD_RUN))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

/* RAM gpa -> edu buffer -> RAM gpa2; checks the bytes at @out. */
static bool roundtrip(uint64_t gpa_in, uint8_t *in, uint64_t gpa_out,
		      uint8_t *out, size_t len, unsigned int seed)
{
	fill(in, len, seed);
	memset(out, 0, len);
	if (!edu_dma(gpa_in, EDU_BUF, len, false) ||
	    !edu_dma(EDU_BUF, gpa_out, len, true))
		return false;
	return !memcmp(in, out, len);
}

/* Pins now held system-wide; per-CPU vmstat deltas folded first. */
static long pins_held(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			tap_diag("vm/stat_refresh: %s", strerror(errno));
		close(fd);
	}
	return read_stat("/proc/vmstat", "nr_foll_pin_acquired") -
	       read_stat("/proc/vmstat", "nr_foll_pin_released");
}

/* The last kernel log line containing @what, copied to @out. */
static bool klog_find(const char *what, char *out, size_t len)
{
	static char buf[1 << 17];
	char *line, *save, *hit = NULL;
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);

	if (n <= 0)
		return false;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, what))
			hit = line;
	if (hit)
		snprintf(out, len, "%s", hit);
	return hit;
}

static void test_errors(void)
{
	struct bdf bad = { 0 }, host;
	char driver[64];
	int vm = vm_new(), vm2;

	parse_bdf("0000:fe:1f.7", &bad);
	tap_errno(assign(vm, &bad, 0), errno, ENODEV,
		  "assign a BDF with no device: ENODEV");
	tap_errno(assign(vm, &edu, 1), errno, EINVAL,
		  "assign with flags != 0: EINVAL");
	tap_errno(release(vm, &edu), errno, ENOENT,
		  "release a device never assigned: ENOENT");
	tap_errno(assign(vm, &edu, 0), errno, 0, "assign edu");
	tap_errno(assign(vm, &edu, 0), errno, EEXIST,
		  "assign edu twice: EEXIST");

	vm2 = vm_new();
	tap_errno(assign(vm2, &edu, 0), errno, EBUSY,
		  "assign edu to a second VM while the first has it: EBUSY");
	tap_errno(release(vm2, &edu), errno, ENOENT,
		  "release from the VM that does not have it: ENOENT");

	if (find_device(0, 0, &host, driver, sizeof(driver)) == 0) {
		char name[160];

		snprintf(name, sizeof(name),
			 "assign %s bound to host driver %s: EBUSY",
			 host.name, driver);
		tap_errno(assign(vm2, &host, 0), errno, EBUSY, name);
	} else {
		tap_skip("assign a device bound to a host driver: EBUSY",
			 "no PCI device behind the IOMMU has a host driver in this machine");
	}
	close(vm2);

	tap_errno(release(vm, &edu), errno, 0, "release edu");
	tap_errno(release(vm, &edu), errno, ENOENT,
		  "release edu again: ENOENT");
	close(vm);
}

static void test_dma(void)
{
	uint8_t *ram = alloc_anon(RAM_SIZE), *extra = alloc_anon(EXTRA_SIZE);
	uint8_t *ro = alloc_anon(EXTRA_SIZE), *copy;
	long locked, bytes = 0;
	char line[512];
	uint16_t cmd;
	bool ok;
	int vm = vm_new();

	if (set_slot(vm, 0, 0, RAM_GPA, RAM_SIZE, ram))
		die("slot 0: %s", strerror(errno));
	tap_errno(assign(vm, &edu, 0), errno, 0,
		  "assign edu to a VM with 2 MiB at GPA 0x100000");
	locked = read_stat("/proc/self/status", "VmLck");
	tap_result(locked == RAM_SIZE / 1024,
		   "slot memory pinned and charged to locked_vm (VmLck %ld kB)",
		   locked);

	cmd = config_command(1, config_command(0, 0) | PCI_COMMAND_MEMORY |
			     PCI_COMMAND_MASTER);
	tap_result(cmd & PCI_COMMAND_MASTER,
		   "bus mastering on through config space (command 0x%x)", cmd);
	bar0 = map_pci_bar(edu.name, 0, NULL);
	tap_eq(0x010000ed, rd32(EDU_ID), "edu identification register");

	/* 4 KiB across a page boundary, out to another place in the slot. */
	ok = roundtrip(RAM_GPA + 0x1800, ram + 0x1800, RAM_GPA + 0x1ff000 - 0x800,
		       ram + 0x1ff000 - 0x800, EDU_XFER, 1);
	bytes += ok ? EDU_XFER : 0;
	tap_result(ok, "DMA GPA 0x101800 -> edu -> GPA 0x2fe800: %d bytes arrive in the launcher's memory", EDU_XFER);

	/* A slot added while the device is assigned. */
	ok = !set_slot(vm, 1, 0, EXTRA_GPA, EXTRA_SIZE, extra) &&
	     roundtrip(RAM_GPA, ram, EXTRA_GPA + 0x100, extra + 0x100,
		       EDU_XFER, 2);
	bytes += ok ? EDU_XFER : 0;
	tap_result(ok, "slot added after assign is DMA-mapped");

	/* The same slot moved: the new GPA works, the old one is gone. */
	ok = !set_slot(vm, 1, 0, EXTRA_MOVED, EXTRA_SIZE, extra) &&
	     roundtrip(RAM_GPA, ram, EXTRA_MOVED, extra, EDU_XFER, 3);
	bytes += ok ? EDU_XFER : 0;
	tap_result(ok, "moved slot is DMA-mapped at its new GPA");
	copy = malloc(RAM_SIZE);
	if (!copy)
		die("malloc");
	memcpy(copy, extra, EXTRA_SIZE);
	ok = edu_dma(EDU_BUF, EXTRA_GPA, EDU_XFER, true) &&
	     !memcmp(copy, extra, EXTRA_SIZE);
	tap_result(ok, "DMA to the slot's old GPA does not reach its memory");

	/* Read-only slot: the device may read it, not write it. */
	fill(ro, EXTRA_SIZE, 4);
	memcpy(copy, ro, EXTRA_SIZE);
	ok = !set_slot(vm, 2, LV_MEM_READONLY, RO_GPA, EXTRA_SIZE, ro) &&
	     edu_dma(RO_GPA, EDU_BUF, EDU_XFER, false) &&
	     edu_dma(EDU_BUF, RAM_GPA + 0x10000, EDU_XFER, true) &&
	     !memcmp(ram + 0x10000, ro, EDU_XFER);
	bytes += ok ? EDU_XFER : 0;
	tap_result(ok, "read-only slot: DMA reads it");
	fill(ram, EDU_XFER, 5);
	ok = edu_dma(RAM_GPA, EDU_BUF, EDU_XFER, false) &&
	     edu_dma(EDU_BUF, RO_GPA, EDU_XFER, true) &&
	     !memcmp(copy, ro, EXTRA_SIZE);
	tap_result(ok, "read-only slot: DMA write blocked, memory unchanged");

	/* Outside every slot. */
	memcpy(copy, ram, RAM_SIZE);
	ok = edu_dma(EDU_BUF, HOLE_GPA, EDU_XFER, true) &&
	     !memcmp(copy, ram, RAM_SIZE);
	tap_result(ok, "DMA to GPA 0x400000 (no slot) blocked, guest memory unchanged");
	usleep(200 * 1000);
	if (klog_find("DMAR: [DMA Write", line, sizeof(line)))
		tap_diag("kernel: %s", line);
	tap_result(klog_find("fault addr 0x400000", line, sizeof(line)),
		   "DMAR fault logged for IOVA 0x400000");

	/* Deleting a slot unmaps it. */
	memcpy(copy, extra, EXTRA_SIZE);
	ok = !set_slot(vm, 1, 0, EXTRA_MOVED, 0, extra) &&
	     edu_dma(EDU_BUF, EXTRA_MOVED, EDU_XFER, true) &&
	     !memcmp(copy, extra, EXTRA_SIZE);
	tap_result(ok, "deleted slot no longer reachable by DMA");
	locked = read_stat("/proc/self/status", "VmLck");
	tap_result(locked == (RAM_SIZE + EXTRA_SIZE) / 1024,
		   "VmLck follows the slots (%ld kB for slots 0 and 2)", locked);

	tap_errno(release(vm, &edu), errno, 0, "release edu");
	cmd = config_command(0, 0);
	tap_result(!(cmd & PCI_COMMAND_MASTER),
		   "release cleared bus mastering (command 0x%x)", cmd);
	locked = read_stat("/proc/self/status", "VmLck");
	tap_result(locked == 0, "release unpinned everything (VmLck %ld kB)",
		   locked);
	tap_diag("%ld bytes of DMA checked", bytes);

	munmap((void *)bar0, 0x1000);
	close(vm);
	free(copy);
	munmap(ram, RAM_SIZE);
	munmap(extra, EXTRA_SIZE);
	munmap(ro, EXTRA_SIZE);
}

static void test_leaks(void)
{
	uint8_t *ram = alloc_anon(RAM_SIZE);
	long slab0, slab1, pins0, pins1, pins_mid = -1;
	int i, vm, fails = 0;

	memset(ram, 1, RAM_SIZE);
	/* Warm up caches once before measuring. */
	vm = vm_new();
	set_slot(vm, 0, 0, RAM_GPA, RAM_SIZE, ram);
	assign(vm, &edu, 0);
	release(vm, &edu);
	close(vm);

	slab0 = meminfo_kb("SUnreclaim");
	pins0 = pins_held();
	vm = vm_new();
	if (set_slot(vm, 0, 0, RAM_GPA, RAM_SIZE, ram))
		die("slot: %s", strerror(errno));
	for (i = 0; i < 100; i++) {
		if (assign(vm, &edu, 0) || release(vm, &edu))
			fails++;
		if (i == 50 && !assign(vm, &edu, 0)) {
			pins_mid = pins_held() - pins0;
			release(vm, &edu);
		}
	}
	close(vm);
	/* Destroying a VM with the device assigned releases it too. */
	for (i = 0; i < 100; i++) {
		vm = vm_new();
		if (set_slot(vm, 0, 0, RAM_GPA, RAM_SIZE, ram) ||
		    assign(vm, &edu, 0))
			fails++;
		close(vm);
	}
	pins1 = pins_held();
	slab1 = meminfo_kb("SUnreclaim");
	tap_result(!fails, "100 assign/release cycles and 100 VMs destroyed with edu assigned (%d failures)",
		   fails);
	tap_result(pins_mid == RAM_SIZE / 4096,
		   "while assigned, %ld pages pinned (expected %llu)",
		   pins_mid, RAM_SIZE / 4096);
	tap_result(pins1 == pins0, "no pinned page leaked (%ld pins before, %ld after)",
		   pins0, pins1);
	tap_result(slab1 - slab0 < 64,
		   "unreclaimable slab %ld kB -> %ld kB (less than 64 kB growth)",
		   slab0, slab1);
	tap_result(read_stat("/proc/self/status", "VmLck") == 0,
		   "VmLck back to 0");

	vm = vm_new();
	tap_errno(assign(vm, &edu, 0), errno, 0,
		  "edu still assignable afterwards (group DMA ownership given back)");
	release(vm, &edu);
	close(vm);
	munmap(ram, RAM_SIZE);
}

static void test_driver_link(void)
{
	char path[300];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", edu.name);
	tap_result(access(path, F_OK) != 0,
		   "edu has no driver afterwards, free for a host driver");
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers_probe");
	{
		int fd = open(path, O_WRONLY);
		bool ok = fd >= 0 &&
			  write(fd, edu.name, strlen(edu.name)) ==
			  (ssize_t)strlen(edu.name);

		if (fd >= 0)
			close(fd);
		tap_result(ok, "drivers_probe accepts edu (probe allowed again)");
	}
}

/* Drop one capability from this process's effective set. */
static int drop_effective_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[cap / 32].effective &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &hdr, data);
}

/* Assigning a device is VFIO's privilege: CAP_SYS_RAWIO, not an open fd. */
static void test_privilege(void)
{
	int vm, status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		/* A VM belongs to its creator's address space. */
		vm = vm_new();
		if (drop_effective_cap(CAP_SYS_RAWIO))
			_exit(100);
		if (assign(vm, &edu, 0) == 0)
			_exit(101);
		_exit(errno == EPERM ? 0 : 102);
	}
	vm = vm_new();
	waitpid(pid, &status, 0);
	if (status)
		tap_diag("child status %#x (100: capset failed, 101: assigned, 102: other errno)",
			 status);
	tap_result(status == 0, "assign without CAP_SYS_RAWIO: EPERM");
	tap_errno(assign(vm, &edu, 0), errno, 0, "assign with CAP_SYS_RAWIO");
	tap_errno(release(vm, &edu), errno, 0, "release it");
	close(vm);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	int ret = -1;

	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) == (ssize_t)strlen(text))
		ret = 0;
	close(fd);
	return ret;
}

#define UNSAFE_PARAM "/sys/module/lightvisor/parameters/allow_unsafe_interrupts"

/*
 * Booted without interrupt remapping (intremap=off): edu's MSIs are not
 * isolated, so assignment needs allow_unsafe_interrupts.
 */
static void test_no_remapping(void)
{
	int vm = vm_new();
	char line[300];

	tap_errno(assign(vm, &edu, 0), errno, EPERM,
		  "assign without interrupt remapping: EPERM");
	tap_result(klog_find("MSIs are not isolated", line, sizeof(line)),
		   "the kernel log says why");
	tap_result(write_file(UNSAFE_PARAM, "1") == 0,
		   "set allow_unsafe_interrupts=1");
	tap_errno(assign(vm, &edu, 0), errno, 0,
		  "assign with allow_unsafe_interrupts=1");
	tap_errno(release(vm, &edu), errno, 0, "release it");
	tap_result(write_file(UNSAFE_PARAM, "0") == 0,
		   "set allow_unsafe_interrupts=0 again");
	close(vm);
}

/*
 * The device leaves the host while a VM has it (sysfs remove, as a hot
 * unplug): the VM loses it cleanly, the host gets it back on rescan.
 */
static void test_hot_remove(void)
{
	struct lv_device_irq irq = {
		.dev = to_lv(&edu), .vcpu = 0, .vector = 0x40,
	};
	int vm = vm_new(), vm2, ret;
	char path[300], line[300];

	tap_errno(assign(vm, &edu, 0), errno, 0, "assign edu before removal");
	tap_errno(ioctl(vm, LV_SET_DEVICE_IRQ, &irq), errno, 0,
		  "and give it an interrupt");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", edu.name);
	tap_result(write_file(path, "1") == 0, "remove edu from the host");
	tap_result(klog_find("removed from the host: taken from its VM", line,
			     sizeof(line)), "the VM lost it");
	ret = release(vm, &edu);
	tap_errno(ret, errno, ENODEV, "release after removal: ENODEV");
	close(vm);

	tap_result(write_file("/sys/bus/pci/rescan", "1") == 0,
		   "rescan the PCI bus");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", edu.name);
	tap_result(access(path, F_OK) == 0, "edu is back");
	vm2 = vm_new();
	tap_errno(assign(vm2, &edu, 0), errno, 0,
		  "a new VM can assign it again");
	tap_errno(release(vm2, &edu), errno, 0, "and release it");
	close(vm2);
}

int main(int argc, char **argv)
{
	char unused[8];

	sys_fd = open_sys();
	if (find_device(EDU_VENDOR, EDU_DEVICE, &edu, unused, sizeof(unused)))
		skip_all("no edu device (1234:11e8)");
	tap_diag("edu at %s", edu.name);
	if (check_cap(sys_fd, LV_CAP_IOMMU) != 1)
		skip_all("LV_CAP_IOMMU is 0: no IOMMU");
	tap_result(true, "LV_CAP_IOMMU is 1");

	if (argc > 1 && !strcmp(argv[1], "--no-remapping")) {
		test_no_remapping();
		return tap_finish();
	}
	test_privilege();
	test_errors();
	test_dma();
	test_leaks();
	test_driver_link();
	test_hot_remove();
	return tap_finish();
}
