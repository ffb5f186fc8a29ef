// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: PCI configuration mechanism #1 (ports 0xcf8/0xcfc) with a host
 * bridge at 00:00.0 and the assigned device at 00:01.0.
 *
 * The device's config space is read through from the real one, except:
 *  - command: the guest's value is kept; memory space enable, bus master
 *    and INTx disable are passed to the device, other bits are not;
 *  - BARs: virtual. Sizing (all ones) reads back the real size mask; an
 *    address written while memory decoding is on places the BAR in the
 *    guest with LV_MAP_PCI_BAR, turning decoding off (or sizing) removes
 *    it. I/O BARs and the expansion ROM read as 0 (not supported);
 *  - MSI capability: virtual. The host owns the real one (lightvisor's
 *    LV_SET_DEVICE_IRQ programs it with a host vector); the guest's
 *    address and data are kept here, and enabling MSI routes the device
 *    interrupt to vCPU (address bits 19:12, the destination APIC id) at
 *    vector (data bits 7:0);
 *  - every other write is ignored (read-only).
 * Other devices on bus 0 and other buses read as all ones (absent). A
 * zeroed struct pci_passthru (no backend) is a bus with the bridge alone.
 */
#include <stdio.h>
#include <string.h>

#include "pci.h"

#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_BAR0		0x10
#define PCI_ROM			0x30
#define PCI_CAP_PTR		0x34
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_CAP_ID_MSI		0x05
#define PCI_CMD_IO		0x1
#define PCI_CMD_MEMORY		0x2
#define PCI_CMD_MASTER		0x4
#define PCI_CMD_INTX_DISABLE	0x400
#define PCI_CMD_PASSED		(PCI_CMD_MEMORY | PCI_CMD_MASTER | \
				 PCI_CMD_INTX_DISABLE)
#define MSI_CTRL_ENABLE		0x1
#define MSI_CTRL_64BIT		0x80
#define MSI_CTRL_MME		0x70	/* multiple message enable */

/* The host bridge: Intel 440FX, class 06:00. */
static const uint32_t bridge_cfg[16] = {
	[0] = 0x12378086, [1] = 0x00000006, [2] = 0x06000002,
};

static void warn(struct pci_passthru *p, const char *fmt, int a, int b)
{
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, a, b);
	if (p->be.warn)
		p->be.warn(p->be.ctx, msg);
}

static uint32_t real_read32(struct pci_passthru *p, unsigned int off)
{
	uint32_t v = 0xffffffff;

	if (p->be.cfg_read(p->be.ctx, off, &v, 4) != 4)
		return 0xffffffff;
	return v;
}

static void real_write(struct pci_passthru *p, unsigned int off, uint32_t v,
		       int len)
{
	p->be.cfg_write(p->be.ctx, off, &v, len);
}

int pci_passthru_init(struct pci_passthru *p, const struct pci_backend *be,
		      unsigned int nr_vcpus)
{
	uint16_t cmd;
	unsigned int pos, guard;
	int i;

	memset(p, 0, sizeof(*p));
	p->be = *be;
	p->nr_vcpus = nr_vcpus;
	if ((real_read32(p, 0) & 0xffff) == 0xffff)
		return -1;

	/* Size the real BARs with decoding off, then restore them. */
	cmd = real_read32(p, PCI_COMMAND) & 0xffff;
	real_write(p, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY), 2);
	for (i = 0; i < PCI_NUM_BARS; i++) {
		unsigned int off = PCI_BAR0 + 4 * i;
		uint32_t orig = real_read32(p, off), mask, hi_orig, hi_mask = 0;
		struct pci_bar *b = &p->bar[i];

		if (orig & 1)
			continue;	/* I/O BAR: not passed through */
		real_write(p, off, 0xffffffff, 4);
		mask = real_read32(p, off);
		real_write(p, off, orig, 4);
		b->flags = orig & 0xf;
		b->is64 = (orig & 0x6) == 0x4 && i < PCI_NUM_BARS - 1;
		if (b->is64) {
			hi_orig = real_read32(p, off + 4);
			real_write(p, off + 4, 0xffffffff, 4);
			hi_mask = real_read32(p, off + 4);
			real_write(p, off + 4, hi_orig, 4);
		}
		mask &= ~0xfu;
		if (mask || hi_mask) {
			uint64_t m = (uint64_t)hi_mask << 32 | mask;

			if (!b->is64)
				m |= 0xffffffff00000000ull;
			b->size = ~m + 1;
		}
		if (b->is64)
			i++;	/* the upper half is part of this BAR */
	}
	real_write(p, PCI_COMMAND, cmd, 2);
	/* The guest starts with decoding and bus mastering off. */
	p->command = 0;
	real_write(p, PCI_COMMAND, cmd & ~PCI_CMD_PASSED, 2);

	/* Find the MSI capability. */
	if ((real_read32(p, PCI_COMMAND) >> 16) & PCI_STATUS_CAP_LIST) {
		pos = real_read32(p, PCI_CAP_PTR) & 0xfc;
		for (guard = 0; pos >= 0x40 && guard < 48; guard++) {
			uint32_t hdr = real_read32(p, pos);

			if ((hdr & 0xff) == PCI_CAP_ID_MSI) {
				p->msi = pos;
				p->msi64 = (hdr >> 16) & MSI_CTRL_64BIT;
				/* Capabilities (mask bits aside), disabled. */
				p->msi_ctrl = (hdr >> 16) & MSI_CTRL_64BIT;
				break;
			}
			pos = (hdr >> 8) & 0xfc;
		}
	}
	return 0;
}

/* Virtual BAR register @i (the upper half of a 64-bit BAR included). */
static uint32_t bar_read(struct pci_passthru *p, int i)
{
	const struct pci_bar *b;

	if (i > 0 && p->bar[i - 1].is64) {
		b = &p->bar[i - 1];
		return b->guest >> 32;
	}
	b = &p->bar[i];
	if (!b->size)
		return 0;
	return (uint32_t)b->guest | b->flags;
}

static void bar_sync(struct pci_passthru *p)
{
	bool mem = p->command & PCI_CMD_MEMORY;
	int i;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &p->bar[i];
		uint64_t all = ~(b->size - 1) & (b->is64 ? ~0ull : 0xffffffffull);
		bool want = mem && b->size && b->guest != all &&
			    b->guest + b->size <= (1ull << 48);

		if (!b->size)
			continue;
		if (b->mapped && (!want || b->mapped_gpa != b->guest)) {
			if (p->be.map_bar(p->be.ctx, i, 0, true))
				warn(p, "unmapping BAR %d failed (%d)", i, 0);
			b->mapped = false;
		}
		if (want && !b->mapped) {
			int ret = p->be.map_bar(p->be.ctx, i, b->guest, false);

			if (ret) {
				warn(p, "mapping BAR %d failed (error %d); guest accesses go nowhere",
				     i, ret);
				continue;
			}
			b->mapped = true;
			b->mapped_gpa = b->guest;
		}
	}
}

static void bar_write(struct pci_passthru *p, int i, uint32_t v)
{
	struct pci_bar *b;

	if (i > 0 && p->bar[i - 1].is64) {
		b = &p->bar[i - 1];
		b->guest = ((uint64_t)v << 32 | (uint32_t)b->guest) &
			   ~(b->size - 1);
	} else {
		b = &p->bar[i];
		if (!b->size)
			return;
		b->guest = ((b->guest & ~0xffffffffull) | (v & ~0xfu)) &
			   ~(b->size - 1);
		if (!b->is64)
			b->guest &= 0xffffffffull;
	}
	bar_sync(p);
}

static uint32_t msi_read(struct pci_passthru *p, unsigned int rel)
{
	unsigned int data = p->msi64 ? 12 : 8;

	if (rel == 0)
		return (real_read32(p, p->msi) & 0xffff) |
		       (uint32_t)p->msi_ctrl << 16;
	if (rel == 4)
		return p->msi_addr_lo;
	if (rel == 8 && p->msi64)
		return p->msi_addr_hi;
	if (rel == data)
		return p->msi_data;
	return 0;	/* mask and pending bits: not emulated */
}

static void msi_sync(struct pci_passthru *p)
{
	bool on = p->msi_ctrl & MSI_CTRL_ENABLE;
	unsigned int vcpu = (p->msi_addr_lo >> 12) & 0xff;
	unsigned int vector = p->msi_data & 0xff;
	int ret;

	if (vcpu >= p->nr_vcpus)
		vcpu = 0;
	if (on && vector >= 32 &&
	    (!p->irq_on || vcpu != p->irq_vcpu || vector != p->irq_vector)) {
		ret = p->be.set_irq(p->be.ctx, vcpu, vector, false);
		if (ret) {
			warn(p, "routing the device interrupt to vector %d failed (%d)",
			     vector, ret);
			return;
		}
		p->irq_on = true;
		p->irq_vcpu = vcpu;
		p->irq_vector = vector;
	} else if (!on && p->irq_on) {
		p->be.set_irq(p->be.ctx, 0, 0, true);
		p->irq_on = false;
	}
}

/* A dword-aligned register write, @mask selecting the bytes written. */
static void msi_write(struct pci_passthru *p, unsigned int rel, uint32_t v,
		      uint32_t mask)
{
	unsigned int data = p->msi64 ? 12 : 8;

	if (rel == 0 && (mask >> 16)) {
		uint16_t w = (v >> 16) & MSI_CTRL_ENABLE;

		p->msi_ctrl = (p->msi_ctrl & ~MSI_CTRL_ENABLE) | w;
	} else if (rel == 4) {
		p->msi_addr_lo = ((p->msi_addr_lo & ~mask) | (v & mask)) & ~3u;
	} else if (rel == 8 && p->msi64) {
		p->msi_addr_hi = (p->msi_addr_hi & ~mask) | (v & mask);
	} else if (rel == data) {
		p->msi_data = ((p->msi_data & ~mask) | (v & mask)) & 0xffff;
	}
	msi_sync(p);
}

static uint32_t dev_read32(struct pci_passthru *p, unsigned int reg)
{
	unsigned int msi_len = p->msi64 ? 16 : 12;

	if (reg == PCI_COMMAND)
		return (real_read32(p, reg) & 0xffff0000u) | p->command;
	if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 4 * PCI_NUM_BARS)
		return bar_read(p, (reg - PCI_BAR0) / 4);
	if (reg == PCI_ROM)
		return 0;
	if (p->msi && reg >= p->msi && reg < p->msi + msi_len)
		return msi_read(p, reg - p->msi);
	return real_read32(p, reg);
}

static void dev_write32(struct pci_passthru *p, unsigned int reg, uint32_t v,
			uint32_t mask)
{
	unsigned int msi_len = p->msi64 ? 16 : 12;

	if (reg == PCI_COMMAND && (mask & 0xffff)) {
		uint16_t cmd = (p->command & ~mask) | (v & mask);
		uint16_t real = real_read32(p, reg) & 0xffff;

		p->command = cmd & (PCI_CMD_PASSED | PCI_CMD_IO);
		real = (real & ~PCI_CMD_PASSED) | (cmd & PCI_CMD_PASSED);
		real_write(p, reg, real, 2);
		bar_sync(p);
	} else if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 4 * PCI_NUM_BARS) {
		/* Partial BAR writes are rare; merge them with our value. */
		int i = (reg - PCI_BAR0) / 4;

		bar_write(p, i, (bar_read(p, i) & ~mask) | (v & mask));
	} else if (p->msi && reg >= p->msi && reg < p->msi + msi_len) {
		msi_write(p, reg - p->msi, v, mask);
	}
	/* Anything else: read-only. */
}

uint32_t pci_cfg_read(struct pci_passthru *p, unsigned int devfn,
		      unsigned int off, unsigned int size)
{
	unsigned int shift = (off & 3) * 8;
	uint32_t v;

	if (off >= 256)
		v = 0xffffffff;
	else if (devfn == 0)
		v = off < 64 ? bridge_cfg[off / 4] : 0;
	else if (devfn == PCI_GUEST_DEVFN && p->be.cfg_read)
		v = dev_read32(p, off & 0xfc);
	else
		v = 0xffffffff;
	v >>= shift;
	return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

void pci_cfg_write(struct pci_passthru *p, unsigned int devfn,
		   unsigned int off, unsigned int size, uint32_t val)
{
	unsigned int shift = (off & 3) * 8;
	uint32_t mask = size == 4 ? 0xffffffffu : ((1u << (size * 8)) - 1);

	if (devfn != PCI_GUEST_DEVFN || off >= 256 || !p->be.cfg_read)
		return;
	dev_write32(p, off & 0xfc, val << shift, mask << shift);
}

bool pci_passthru_io(struct pci_passthru *p, uint16_t port, bool is_write,
		     unsigned int size, uint32_t *val)
{
	unsigned int bus, devfn, off;

	if (port == PCI_CONFIG_ADDR && size == 4) {
		if (is_write)
			p->cf8 = *val & 0x80fffffc;
		else
			*val = p->cf8;
		return true;
	}
	if (port < PCI_CONFIG_DATA || port > PCI_CONFIG_DATA + 3)
		return false;
	bus = (p->cf8 >> 16) & 0xff;
	devfn = (p->cf8 >> 8) & 0xff;
	off = (p->cf8 & 0xfc) + (port - PCI_CONFIG_DATA);
	if (!(p->cf8 & 0x80000000u) || bus != 0) {
		if (!is_write)
			*val = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
		return true;
	}
	if (is_write)
		pci_cfg_write(p, devfn, off, size, *val);
	else
		*val = pci_cfg_read(p, devfn, off, size);
	return true;
}
