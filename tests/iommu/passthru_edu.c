// SPDX-License-Identifier: GPL-2.0
/*
 * Pass-through ioctls with QEMU's edu device (1234:11e8), from the host
 * side only: LV_MAP_PCI_BAR and LV_SET_DEVICE_IRQ argument checks, what a
 * machine without VMX answers to a valid BAR mapping (ENODEV), and edu's
 * MSI reaching lightvisor's interrupt thread (edu is made to raise it by
 * a write to BAR0 + 0x60 from here; with no vCPU 0 to take it, it shows
 * as dev_irqs_dropped in debugfs). The guest side is guests/edu.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../abi/test_util.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4

static int sys_fd;
static char edu_name[64];
static struct lv_pci_device edu;
static volatile uint8_t *bar0;
static unsigned long bar0_size;

static bool is_edu(const char *dir, void *arg __attribute__((unused)))
{
	return pci_ids_are(dir, EDU_VENDOR, EDU_DEVICE);
}

static int find_edu(void)
{
	unsigned int seg, bus, dev, fn;

	if (find_pci_device(is_edu, NULL, edu_name, sizeof(edu_name)) ||
	    sscanf(edu_name, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
		return -1;
	edu.segment = seg;
	edu.bus = bus;
	edu.devfn = dev << 3 | fn;
	return 0;
}

static void config_rw(unsigned int off, void *buf, int len, bool write)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", edu_name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if ((write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off)) != len)
		die("config %s: %s", write ? "write" : "read", strerror(errno));
	close(fd);
}

static int map_bar(int vm, const struct lv_pci_device *d, uint32_t bar,
		   uint32_t flags, uint64_t gpa)
{
	struct lv_pci_bar b = {
		.dev = *d, .bar = bar, .flags = flags, .guest_phys_addr = gpa,
	};
	return ioctl(vm, LV_MAP_PCI_BAR, &b);
}

static int set_irq(int vm, uint32_t vcpu, uint32_t vector, uint32_t flags)
{
	struct lv_device_irq r = {
		.dev = edu, .vcpu = vcpu, .vector = vector, .flags = flags,
	};
	return ioctl(vm, LV_SET_DEVICE_IRQ, &r);
}

#define LV_DEBUGFS_STATS "/sys/kernel/debug/lightvisor/stats"

static int assign(int vm, uint32_t cmd)
{
	return ioctl(vm, cmd, &edu);
}

/* The /proc/interrupts count of the lightvisor[edu] line, -1 if none. */
static long proc_irq_count(void)
{
	char line[512], want[96];
	long total = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "lightvisor[%s]", edu_name);
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;

		if (!strstr(line, want))
			continue;
		p = strchr(line, ':');
		total = 0;
		for (p = p ? p + 1 : line;; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			total += v;
		}
	}
	fclose(f);
	return total;
}

static void test_bar(bool run_guests)
{
	int vm = ioctl(sys_fd, LV_CREATE_VM, 0);
	struct lv_memory_region mr = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = 0x100000,
	};
	struct lv_pci_device bad = edu;
	int want = run_guests ? 0 : ENODEV;

	if (vm < 0)
		die("LV_CREATE_VM: %s", strerror(errno));
	mr.userspace_addr = (uintptr_t)alloc_anon(mr.memory_size);
	if (ioctl(vm, LV_SET_MEMORY_REGION, &mr))
		die("LV_SET_MEMORY_REGION: %s", strerror(errno));

	tap_errno(map_bar(vm, &edu, 0, 0, 0xe0000000), errno, ENOENT,
		  "LV_MAP_PCI_BAR before assigning: ENOENT");
	bad.bus = 0xfe;
	tap_errno(map_bar(vm, &bad, 0, 0, 0xe0000000), errno, ENODEV,
		  "LV_MAP_PCI_BAR on no device: ENODEV");
	tap_errno(assign(vm, LV_ASSIGN_PCI_DEVICE), errno, 0, "assign edu");
	tap_errno(map_bar(vm, &edu, 6, 0, 0xe0000000), errno, EINVAL,
		  "BAR index 6: EINVAL");
	tap_errno(map_bar(vm, &edu, 0, 2, 0xe0000000), errno, EINVAL,
		  "unknown flag: EINVAL");
	tap_errno(map_bar(vm, &edu, 1, 0, 0xe0000000), errno, EINVAL,
		  "BAR 1 (edu implements BAR 0 only): EINVAL");
	tap_errno(map_bar(vm, &edu, 0, 0, 0xe0000800), errno, EINVAL,
		  "guest address not page aligned: EINVAL");
	tap_errno(map_bar(vm, &edu, 0, 0, 1ULL << 48), errno, EINVAL,
		  "guest address beyond 48 bits: EINVAL");
	tap_errno(map_bar(vm, &edu, 0, 0, 0x80000), errno, EEXIST,
		  "BAR over a memory slot: EEXIST");
	tap_errno(map_bar(vm, &edu, 0, LV_PCI_BAR_UNMAP, 0), errno, ENOENT,
		  "unmap a BAR never mapped: ENOENT");
	tap_errno(map_bar(vm, &edu, 0, 0, 0xe0000000), errno, want,
		  run_guests ? "map BAR 0 at 0xe0000000" :
		  "map BAR 0 without VMX: ENODEV (validated, not mapped)");
	if (run_guests) {
		mr.slot = 1;
		mr.guest_phys_addr = 0xe0000000;
		mr.memory_size = 0x1000;
		tap_errno(ioctl(vm, LV_SET_MEMORY_REGION, &mr), errno, EEXIST,
			  "memory slot over a mapped BAR: EEXIST");
		tap_errno(map_bar(vm, &edu, 0, 0, 0xd0000000), errno, 0,
			  "move BAR 0 to 0xd0000000");
		tap_errno(map_bar(vm, &edu, 0, LV_PCI_BAR_UNMAP, 0), errno, 0,
			  "unmap BAR 0");
		tap_errno(map_bar(vm, &edu, 0, LV_PCI_BAR_UNMAP, 0), errno,
			  ENOENT, "unmap BAR 0 again: ENOENT");
		tap_errno(map_bar(vm, &edu, 0, 0, 0xd0000000), errno, 0,
			  "map BAR 0 again (released with the device)");
	} else {
		tap_skip("memory slot over a mapped BAR, move, unmap",
			 "no VMX: BARs cannot be mapped here");
	}
	tap_errno(assign(vm, LV_RELEASE_PCI_DEVICE), errno, 0, "release edu");
	tap_errno(map_bar(vm, &edu, 0, 0, 0xe0000000), errno, ENOENT,
		  "LV_MAP_PCI_BAR after release: ENOENT");
	close(vm);
}

static void test_irq(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int vm = ioctl(sys_fd, LV_CREATE_VM, 0);
	long dropped, n = -1, before_proc;
	uint16_t cmd;
	int i;

	if (vm < 0)
		die("LV_CREATE_VM: %s", strerror(errno));
	tap_errno(set_irq(vm, 0, 0x40, 0), errno, ENOENT,
		  "LV_SET_DEVICE_IRQ before assigning: ENOENT");
	tap_errno(assign(vm, LV_ASSIGN_PCI_DEVICE), errno, 0, "assign edu");
	tap_errno(set_irq(vm, 0, 31, 0), errno, EINVAL,
		  "vector 31 (an exception): EINVAL");
	tap_errno(set_irq(vm, 0, 256, 0), errno, EINVAL, "vector 256: EINVAL");
	tap_errno(set_irq(vm, 64, 0x40, 0), errno, EINVAL,
		  "vCPU id 64 (beyond LV_CAP_MAX_VCPUS): EINVAL");
	tap_errno(set_irq(vm, 0, 0x40, 4), errno, EINVAL,
		  "unknown flag: EINVAL");
	tap_errno(set_irq(vm, 0, 0, LV_DEVICE_IRQ_DISABLE), errno, ENOENT,
		  "disable an interrupt never set up: ENOENT");
	tap_errno(set_irq(vm, 0, 0x40, 0), errno, 0,
		  "route edu's interrupt to vCPU 0 vector 0x40");
	tap_errno(set_irq(vm, 1, 0x41, 0), errno, 0,
		  "retarget it to vCPU 1 vector 0x41");
	tap_errno(set_irq(vm, 0, 0x40, 0), errno, 0, "and back");
	before_proc = proc_irq_count();
	tap_result(before_proc >= 0, "/proc/interrupts lists lightvisor[%s]",
		   edu_name);

	/* MSIs are DMA writes: edu needs bus mastering to send one. */
	config_rw(PCI_COMMAND, &cmd, 2, false);
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	config_rw(PCI_COMMAND, &cmd, 2, true);
	bar0 = map_pci_bar(edu_name, 0, &bar0_size);
	dropped = read_stat(LV_DEBUGFS_STATS, "dev_irqs_dropped");
	*(volatile uint32_t *)(bar0 + EDU_IRQ_RAISE) = 1;
	for (i = 0; i < 200; i++) {
		n = read_stat(LV_DEBUGFS_STATS, "dev_irqs_dropped");
		if (n > dropped)
			break;
		nanosleep(&ts, NULL);
	}
	tap_diag("irq status %#x, dev_irqs_dropped %ld -> %ld, /proc/interrupts %ld -> %ld",
		 *(volatile uint32_t *)(bar0 + EDU_IRQ_STATUS), dropped, n,
		 before_proc, proc_irq_count());
	tap_result(dropped >= 0 && n == dropped + 1,
		   "edu MSI (raised through BAR0+0x60) reached the interrupt thread; no vCPU 0, so dropped and counted");
	*(volatile uint32_t *)(bar0 + EDU_IRQ_ACK) = 1;
	tap_result(proc_irq_count() > before_proc,
		   "/proc/interrupts counted it on the host vector");
	munmap((void *)bar0, 0x1000);
	tap_diag("edu BAR0: %#lx bytes", bar0_size);

	tap_errno(set_irq(vm, 0, 0, LV_DEVICE_IRQ_DISABLE), errno, 0,
		  "disable the interrupt");
	tap_result(proc_irq_count() < 0, "host vector freed");
	tap_errno(set_irq(vm, 0, 0, LV_DEVICE_IRQ_DISABLE), errno, ENOENT,
		  "disable again: ENOENT");
	tap_errno(set_irq(vm, 2, 0x50, 0), errno, 0,
		  "set it up again (freed by closing the VM)");
	close(vm);
	tap_result(proc_irq_count() < 0,
		   "closing the VM freed the host vector");
	vm = ioctl(sys_fd, LV_CREATE_VM, 0);
	tap_errno(assign(vm, LV_ASSIGN_PCI_DEVICE), errno, 0,
		  "edu can be assigned again afterwards");
	close(vm);
}

int main(void)
{
	sys_fd = open_sys();
	if (find_edu())
		skip_all("no edu device (1234:11e8)");
	tap_diag("edu at %s", edu_name);
	if (check_cap(sys_fd, LV_CAP_IOMMU) != 1)
		skip_all("LV_CAP_IOMMU is 0: no IOMMU");

	test_bar(check_cap(sys_fd, LV_CAP_RUN_GUESTS) > 0);
	test_irq();
	return tap_finish();
}
