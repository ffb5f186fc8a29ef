// SPDX-License-Identifier: GPL-2.0
/*
 * An assigned edu device (QEMU, 1234:11e8) driven by the guest itself:
 * lvrun --assign <edu> /guests/edu.elf. Scans PCI config space through
 * ports 0xcf8/0xcfc, places BAR 0, reads edu's ID and computes a
 * factorial through it (direct accesses: the BAR is mapped in EPT), then
 * enables MSI and has edu raise an interrupt, which must arrive at its
 * IDT handler with the programmed vector. Then edu's DMA engine copies
 * guest memory into its buffer and back (the IOMMU maps guest-physical
 * addresses as bus addresses), and a DMA aimed outside guest memory is
 * blocked by the IOMMU. Needs nested paging and an IOMMU at once: QEMU
 * TCG under SVM, QEMU+KVM nested, or a real host with edu-like hardware.
 */
#include "lib/guest.h"

#define EDU_ID			0x00
#define EDU_FACT		0x08
#define EDU_STATUS		0x20
#define EDU_STATUS_BUSY		0x01
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define BAR_GPA			0xe0000000UL
#define MSI_VECTOR		0x51
#define PCI_CAP_ID_MSI		0x05
/* edu's DMA engine: source, destination, count, command (QEMU's edu.c). */
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_DMA_START		0x01
#define EDU_DMA_TO_RAM		0x02
#define EDU_DMA_BUF		0x40000	/* edu's own 4 KiB buffer */
#define DMA_LEN			256
/* Below edu's 28-bit DMA mask, beyond lvrun's 16 MiB of guest memory. */
#define OUTSIDE_GPA		0x08000000UL

static volatile int got_vector = -1;
static volatile uint32_t irq_status;

static uint32_t cfg_read(unsigned int devfn, unsigned int off)
{
	outl(0xcf8, 0x80000000u | devfn << 8 | (off & 0xfc));
	return inl(0xcfc);
}

static void cfg_write(unsigned int devfn, unsigned int off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | devfn << 8 | (off & 0xfc));
	outl(0xcfc, v);
}

static void cfg_write16(unsigned int devfn, unsigned int off, uint16_t v)
{
	outl(0xcf8, 0x80000000u | devfn << 8 | (off & 0xfc));
	outw(0xcfc + (off & 2), v);
}

static uint32_t rd32(unsigned int off)
{
	return *(volatile uint32_t *)(BAR_GPA + off);
}

static void wr32(unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(BAR_GPA + off) = v;
}

static uint8_t dma_src[DMA_LEN] __attribute__((aligned(64)));
static uint8_t dma_dst[DMA_LEN] __attribute__((aligned(64)));

/* One DMA transfer; false if edu did not finish it. */
static bool edu_dma(uint64_t src, uint64_t dst, uint32_t cnt, uint32_t cmd)
{
	unsigned int i;

	wr32(EDU_DMA_SRC, src);
	wr32(EDU_DMA_DST, dst);
	wr32(EDU_DMA_CNT, cnt);
	wr32(EDU_DMA_CMD, cmd | EDU_DMA_START);
	for (i = 0; i < 100000000 && (rd32(EDU_DMA_CMD) & EDU_DMA_START); i++)
		;
	return !(rd32(EDU_DMA_CMD) & EDU_DMA_START);
}

static uint8_t pattern(unsigned int i)
{
	return i * 7 + 3;
}

/* Bytes of @buf that are neither the pattern nor what a blocked read gives. */
static unsigned int foreign_bytes(const uint8_t *buf)
{
	unsigned int i, n = 0;

	for (i = 0; i < DMA_LEN; i++)
		if (buf[i] != pattern(i) && buf[i] != 0 && buf[i] != 0xff)
			n++;
	return n;
}

static void test_dma(void)
{
	unsigned int i, bad = 0;

	for (i = 0; i < DMA_LEN; i++) {
		dma_src[i] = pattern(i);
		dma_dst[i] = 0;
	}
	tap_ok(edu_dma((uintptr_t)dma_src, EDU_DMA_BUF, DMA_LEN, 0),
	       "DMA from guest memory into edu's buffer completes");
	tap_ok(edu_dma(EDU_DMA_BUF, (uintptr_t)dma_dst, DMA_LEN, EDU_DMA_TO_RAM),
	       "DMA from edu's buffer into guest memory completes");
	for (i = 0; i < DMA_LEN; i++)
		bad += dma_dst[i] != pattern(i);
	tap_eq(0, bad, "the bytes came back through edu unchanged");

	/* Outside guest memory: the IOMMU has no mapping there. */
	tap_ok(edu_dma(OUTSIDE_GPA, EDU_DMA_BUF, DMA_LEN, 0),
	       "DMA read outside guest memory ends");
	for (i = 0; i < DMA_LEN; i++)
		dma_dst[i] = pattern(i);
	edu_dma(EDU_DMA_BUF, (uintptr_t)dma_dst, DMA_LEN, EDU_DMA_TO_RAM);
	tap_eq(0, foreign_bytes(dma_dst),
	       "... blocked: edu read no host memory (only its old bytes, 0 or ff)");
	for (i = 0; i < DMA_LEN; i++)
		dma_dst[i] = pattern(i);
	tap_ok(edu_dma(EDU_DMA_BUF, OUTSIDE_GPA, DMA_LEN, EDU_DMA_TO_RAM),
	       "DMA write outside guest memory ends, the guest runs on");
	bad = 0;
	for (i = 0; i < DMA_LEN; i++)
		bad += dma_dst[i] != pattern(i);
	tap_eq(0, bad, "... and guest memory is untouched by it");
}

static void handler(struct irq_frame *f)
{
	got_vector = f->vector;
	irq_status = rd32(EDU_IRQ_STATUS);
	wr32(EDU_IRQ_ACK, irq_status);
}

int main(void)
{
	unsigned int devfn, edu = 0, msi = 0, pos, i;
	uint32_t size, fact = 0;
	bool found = false;

	tap_plan(14);
	for (devfn = 0; devfn < 256 && !found; devfn += 8) {
		if (cfg_read(devfn, 0) == 0x11e81234) {
			edu = devfn;
			found = true;
		}
	}
	if (!tap_ok(found, "edu (1234:11e8) found by scanning bus 0"))
		return tap_done();
	printf("# edu at 00:%02x.%x\n", edu >> 3, edu & 7);

	cfg_write(edu, 0x10, 0xffffffff);
	size = ~(cfg_read(edu, 0x10) & ~0xfu) + 1;
	tap_eq(0x100000, size, "BAR 0 sizes as 1 MiB");
	cfg_write(edu, 0x10, BAR_GPA);
	cfg_write16(edu, 0x04, 0x0006);	/* memory, bus master */

	tap_eq(0x010000ed, rd32(EDU_ID), "edu ID register through the mapped BAR");

	wr32(EDU_FACT, 10);
	for (i = 0; i < 10000000 && (rd32(EDU_STATUS) & EDU_STATUS_BUSY); i++)
		;
	fact = rd32(EDU_FACT);
	tap_eq(3628800, fact, "edu computes 10! = 3628800");

	pos = cfg_read(edu, 0x34) & 0xfc;
	while (pos) {
		uint32_t hdr = cfg_read(edu, pos);

		if ((hdr & 0xff) == PCI_CAP_ID_MSI) {
			msi = pos;
			break;
		}
		pos = (hdr >> 8) & 0xfc;
	}
	test_dma();

	if (!tap_ok(msi, "MSI capability found")) {
		tap_skip("MSI interrupt", "no MSI capability");
		tap_skip("edu interrupt status", "no MSI capability");
		return tap_done();
	}
	idt_init();
	idt_set_handler(MSI_VECTOR, handler);
	cfg_write(edu, msi + 4, 0xfee00000);	/* APIC 0: vCPU 0 */
	if (cfg_read(edu, msi) & (0x80 << 16)) {
		cfg_write(edu, msi + 8, 0);
		cfg_write16(edu, msi + 12, MSI_VECTOR);
	} else {
		cfg_write16(edu, msi + 8, MSI_VECTOR);
	}
	cfg_write16(edu, msi + 2, (cfg_read(edu, msi) >> 16) | 1);

	wr32(EDU_IRQ_RAISE, 0x5a);
	for (i = 0; i < 1000 && got_vector < 0; i++) {
		sti_hlt();
		cli();
	}
	tap_eq(MSI_VECTOR, got_vector, "edu MSI arrives at the programmed vector");
	tap_eq(0x5a, irq_status, "handler saw edu's interrupt status");
	return tap_done();
}
