// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun-pcitest: lvrun's config-space emulation (pci.c) against a fake
 * edu-like device (1 MiB 32-bit BAR 0, 64-bit MSI at 0x40) and a fake
 * lightvisor; needs no device, IOMMU or VMX. TAP output.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pci.h"

static int nr, failed;

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed += !cond;
}

/* The fake device. */
static uint8_t cfg[256];
static uint32_t bar0_size = 0x100000;
static int maps, unmaps, irqs, irq_offs;
static uint64_t last_gpa;
static unsigned int last_vcpu, last_vector;

static int cfg_read(void *ctx, unsigned int off, void *buf, int len)
{
	(void)ctx;
	memcpy(buf, cfg + off, len);
	return len;
}

static int cfg_write(void *ctx, unsigned int off, const void *buf, int len)
{
	(void)ctx;
	if (off == 0x10) {	/* BAR 0: size bits read as 0 */
		uint32_t v;

		memcpy(&v, buf, 4);
		v = (v & ~(bar0_size - 1)) & ~0xfu;
		memcpy(cfg + off, &v, 4);
		return len;
	}
	if (off >= 0x14 && off < 0x28)
		return len;	/* unimplemented BARs stay 0 */
	memcpy(cfg + off, buf, len);
	return len;
}

static int map_bar(void *ctx, int bar, uint64_t gpa, bool unmap)
{
	(void)ctx;
	(void)bar;
	if (unmap) {
		unmaps++;
	} else {
		maps++;
		last_gpa = gpa;
	}
	return 0;
}

static int set_irq(void *ctx, unsigned int vcpu, unsigned int vector,
		   bool disable)
{
	(void)ctx;
	if (disable) {
		irq_offs++;
	} else {
		irqs++;
		last_vcpu = vcpu;
		last_vector = vector;
	}
	return 0;
}

static struct pci_passthru p;

static uint32_t rd(unsigned int devfn, unsigned int off, unsigned int size)
{
	uint32_t v = 0x80000000u | devfn << 8 | (off & 0xfc);

	pci_passthru_io(&p, 0xcf8, true, 4, &v);
	pci_passthru_io(&p, 0xcfc + (off & 3), false, size, &v);
	return v;
}

static void wr(unsigned int devfn, unsigned int off, unsigned int size,
	       uint32_t val)
{
	uint32_t v = 0x80000000u | devfn << 8 | (off & 0xfc);

	pci_passthru_io(&p, 0xcf8, true, 4, &v);
	pci_passthru_io(&p, 0xcfc + (off & 3), true, size, &val);
}

int main(void)
{
	struct pci_backend be = {
		.cfg_read = cfg_read, .cfg_write = cfg_write,
		.map_bar = map_bar, .set_irq = set_irq,
	};
	const unsigned int d = PCI_GUEST_DEVFN;
	uint32_t v;

	/* 1234:11e8, class 00ff00, caps at 0x40: MSI, 64-bit. */
	memcpy(cfg, "\x34\x12\xe8\x11\x06\x00\x10\x00", 8);
	cfg[0x0b] = 0x00; cfg[0x0a] = 0xff;
	v = 0xfea00000;
	memcpy(cfg + 0x10, &v, 4);
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x05; cfg[0x41] = 0; cfg[0x42] = 0x80;
	cfg[0x2c] = 0xf4; cfg[0x2d] = 0x1a;

	ok(!pci_passthru_init(&p, &be, 2), "init");
	ok(p.bar[0].size == 0x100000 && !p.bar[0].is64, "BAR 0 sized: 1 MiB, 32-bit");
	ok(p.bar[1].size == 0, "BAR 1 not implemented");
	ok(p.msi == 0x40 && p.msi64, "MSI capability found at 0x40, 64-bit");
	v = 0;
	memcpy(&v, cfg + 0x10, 4);
	ok(v == 0xfea00000, "real BAR restored after sizing (%#x)", v);
	ok((cfg[4] & 7) == 0, "real command: decoding and bus master off");

	ok(rd(0, 0, 4) == 0x12378086, "00:00.0 is the host bridge");
	ok(rd(2 << 3, 0, 4) == 0xffffffff, "00:02.0 absent");
	ok(rd(d, 0, 4) == 0x11e81234, "00:01.0 is the device (ID passed through)");
	ok(rd(d, 2, 2) == 0x11e8, "16-bit read at offset 2");
	ok(rd(d, 0x2c, 2) == 0x1af4, "subsystem vendor passed through");
	ok(rd(d, 0x10, 4) == 0, "BAR 0 reads 0 before the guest sets it");

	wr(d, 0x10, 4, 0xffffffff);
	ok(rd(d, 0x10, 4) == 0xfff00000, "BAR 0 sizing: %#x", rd(d, 0x10, 4));
	ok(maps == 0, "sizing maps nothing");
	wr(d, 0x14, 4, 0xffffffff);
	ok(rd(d, 0x14, 4) == 0, "BAR 1 sizing reads 0 (not implemented)");
	wr(d, 0x10, 4, 0xe0000000);
	ok(rd(d, 0x10, 4) == 0xe0000000 && maps == 0,
	   "BAR 0 set, not mapped while memory decoding is off");
	wr(d, 0x04, 2, 0x0006);
	ok(maps == 1 && last_gpa == 0xe0000000,
	   "memory enable maps BAR 0 at 0xe0000000");
	ok((cfg[4] & 6) == 6, "memory enable and bus master reach the device");
	ok(rd(d, 0x04, 2) == 0x0006, "command reads back the guest's value");
	wr(d, 0x04, 2, 0x0107);
	ok((cfg[4] & 1) == 0 && (cfg[5] & 1) == 0,
	   "I/O enable and SERR are not passed to the device");
	wr(d, 0x10, 4, 0xd0000000);
	ok(unmaps == 1 && maps == 2 && last_gpa == 0xd0000000,
	   "moving BAR 0 unmaps, then maps at the new address");
	wr(d, 0x04, 2, 0x0004);
	ok(unmaps == 2, "memory disable unmaps BAR 0");
	wr(d, 0x04, 2, 0x0006);
	ok(maps == 3, "memory enable maps it again");

	wr(d, 0x00, 4, 0xdeadbeef);
	wr(d, 0x2c, 2, 0);
	ok(rd(d, 0, 4) == 0x11e81234 && rd(d, 0x2c, 2) == 0x1af4,
	   "ID and subsystem registers are read-only");

	ok(rd(d, 0x40, 1) == 0x05, "MSI capability ID visible");
	ok((rd(d, 0x42, 2) & 0x81) == 0x80, "MSI control: 64-bit, disabled");
	wr(d, 0x44, 4, 0xfee01000);
	wr(d, 0x48, 4, 0);
	wr(d, 0x4c, 2, 0x4041);
	ok(rd(d, 0x44, 4) == 0xfee01000 && rd(d, 0x4c, 2) == 0x4041,
	   "MSI address and data read back the guest's values");
	ok(irqs == 0, "nothing routed before MSI is enabled");
	wr(d, 0x42, 2, 0x81);
	ok(irqs == 1 && last_vcpu == 1 && last_vector == 0x41,
	   "MSI enable routes to vCPU 1 (destination) vector 0x41");
	ok(cfg[0x44] == 0 && cfg[0x4c] == 0,
	   "the device's real MSI registers are left to the host");
	wr(d, 0x4c, 2, 0x0050);
	ok(irqs == 2 && last_vector == 0x50, "new data retargets the vector");
	wr(d, 0x42, 2, 0x80);
	ok(irq_offs == 1, "MSI disable frees the interrupt");

	printf("1..%d\n", nr);
	return failed != 0;
}
