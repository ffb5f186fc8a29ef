// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun --assign: give a host PCI device to the guest (LV_ASSIGN_PCI_DEVICE)
 * and back pci.c's config-space emulation (behind pci_host.c) with the
 * real device (its sysfs config file) and lightvisor's pass-through
 * ioctls. lightvisor only: options.c refuses --assign with --hv kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../log.h"
#include "../lvrun.h"

struct assigned {
	int vm_fd;
	int cfg_fd;
	struct lv_pci_device dev;
};

static struct assigned the_dev;

static int cfg_read(void *ctx, unsigned int off, void *buf, int len)
{
	struct assigned *a = ctx;

	return pread(a->cfg_fd, buf, len, off);
}

static int cfg_write(void *ctx, unsigned int off, const void *buf, int len)
{
	struct assigned *a = ctx;

	return pwrite(a->cfg_fd, buf, len, off);
}

static int map_bar(void *ctx, int bar, uint64_t gpa, bool unmap)
{
	struct assigned *a = ctx;
	struct lv_pci_bar b = {
		.dev = a->dev, .bar = bar, .guest_phys_addr = gpa,
		.flags = unmap ? LV_PCI_BAR_UNMAP : 0,
	};

	trace("pci: BAR %d %s 0x%llx", bar, unmap ? "unmapped from" : "mapped at",
	      (unsigned long long)gpa);
	return ioctl(a->vm_fd, LV_MAP_PCI_BAR, &b) ? errno : 0;
}

static int set_irq(void *ctx, unsigned int vcpu, unsigned int vector,
		   bool disable)
{
	struct assigned *a = ctx;
	struct lv_device_irq r = {
		.dev = a->dev, .vcpu = vcpu, .vector = vector,
		.flags = disable ? LV_DEVICE_IRQ_DISABLE : 0,
	};

	trace("pci: MSI %s vcpu %u vector 0x%x", disable ? "off" : "to", vcpu,
	      vector);
	return ioctl(a->vm_fd, LV_SET_DEVICE_IRQ, &r) ? errno : 0;
}

static void assign_warn(void *ctx, const char *msg)
{
	(void)ctx;
	warn("%s: %s", opts.assign, msg);
}

void assign_device(struct vm *vm)
{
	struct pci_backend be = {
		.ctx = &the_dev, .cfg_read = cfg_read, .cfg_write = cfg_write,
		.map_bar = map_bar, .set_irq = set_irq, .warn = assign_warn,
	};
	unsigned int seg, bus, dev, fn;
	char path[300];

	if (!opts.assign)
		return;
	if (sscanf(opts.assign, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4 ||
	    bus > 255 || dev > 31 || fn > 7)
		die("--assign wants a PCI address SEGMENT:BUS:DEV.FN, got '%s'",
		    opts.assign);
	the_dev.vm_fd = vm->hv.vm_fd;
	the_dev.dev = (struct lv_pci_device){
		.segment = seg, .bus = bus, .devfn = dev << 3 | fn,
	};
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%04x:%02x:%02x.%x/config",
		 seg, bus, dev, fn);
	the_dev.cfg_fd = open(path, O_RDWR | O_CLOEXEC);
	if (the_dev.cfg_fd < 0)
		die("%s: %s", path, strerror(errno));
	if (ioctl(vm->hv.vm_fd, LV_ASSIGN_PCI_DEVICE, &the_dev.dev))
		die_ioctl("LV_ASSIGN_PCI_DEVICE");
	/* Before any vCPU runs: the PCI host's lock is not needed yet. */
	if (pci_passthru_init(&vm->dev.pci.pt, &be, vm->nr_vcpus))
		die("%s: cannot read its config space", path);
}
