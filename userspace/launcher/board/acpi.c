// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: ACPI tables for the guest.
 *
 * Why ACPI and not an MP table: an MP table can describe the CPUs, the
 * I/O APIC and the routing, but not how to power off, and every current
 * kernel prefers ACPI anyway. The FADT is hardware-reduced (ACPI 5+), as
 * Firecracker's: no PM1 blocks, PM timer or SCI to emulate; power-off goes
 * through the sleep control register (S5), reset through the reset
 * register (0xcf9). The DSDT holds _S5 (the sleep type for S5) and the
 * devices Linux must find through ACPI: pvpanic, and the ISA devices that
 * interrupt (COM1, the RTC), whose lines a hardware-reduced platform only
 * maps when ACPI names them. Hand-assembled AML.
 */
#include <stddef.h>
#include <string.h>

#include "../layout.h"
#include "board.h"

#define ACPI_OEM_ID		"LVRUN "
#define ACPI_OEM_TABLE_ID	"LVRUNBRD"
#define ACPI_SLP_TYP_S5		5	/* what _S5 says; see devices/acpi_pm.c */

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id;	/* 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;	/* 1: byte */
	uint64_t address;
} __attribute__((packed));

/* ACPI 6.0 FADT, 276 bytes; unused fields stay 0. */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0[108 - 44];
	uint8_t century;		/* CMOS index of the RTC's century */
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	uint8_t x_blocks[244 - 148];
	struct acpi_gas sleep_control;
	struct acpi_gas sleep_status;
	uint64_t hypervisor_id;
} __attribute__((packed));

_Static_assert(offsetof(struct acpi_fadt, century) == 108, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, sleep_control) == 244, "FADT layout");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");

#define FADT_BOOT_VGA_NOT_PRESENT	(1 << 2)
#define FADT_CMOS_CENTURY		0x32	/* devices/rtc.c */
#define FADT_FLAG_WBINVD		(1 << 0)
#define FADT_FLAG_PWR_BUTTON		(1 << 4)	/* no fixed power button */
#define FADT_FLAG_SLP_BUTTON		(1 << 5)
#define FADT_FLAG_RESET_REG_SUP		(1 << 10)
#define FADT_FLAG_HW_REDUCED_ACPI	(1 << 20)

struct madt_lapic {
	uint8_t type, length, processor_id, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t address, gsi_base;
} __attribute__((packed));

struct madt_override {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length, processor_id;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

/* AML opcodes of the DSDT below (ACPI 6.5, 20.2). */
#define AML_NAME		0x08
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_PACKAGE		0x12
#define AML_BYTE		0x0a
#define AML_DWORD		0x0c
#define AML_STRING		0x0d
#define AML_ONE			0x01
#define AML_EXT			0x5b
#define AML_DEVICE		0x82
/* Small resource items (6.4.2): I/O port, IRQ, end tag. */
#define RES_IO16(port, len)	0x47, 0x01, (port) & 0xff, (port) >> 8, \
				(port) & 0xff, (port) >> 8, 0x01, (len)
#define RES_IRQ(irq)		0x22, (1 << (irq)) & 0xff, (1 << (irq)) >> 8
#define RES_END			0x79, 0x00
/* EisaId ("PNPxxxx"): the compressed "PNP" and the product, big-endian. */
#define EISA_PNP(hi, lo)	AML_DWORD, 0x41, 0xd0, (hi), (lo)

/* Name (_S5, Package () { 5, 5, 0, 0 }): the sleep type for power-off. */
static const uint8_t aml_s5[] = {
	AML_NAME, '_', 'S', '5', '_', AML_PACKAGE, 0x08, 0x04,
	AML_BYTE, ACPI_SLP_TYP_S5, AML_BYTE, ACPI_SLP_TYP_S5, 0x00, 0x00,
};

/*
 * The devices of \_SB. The FADT is hardware-reduced, so Linux has no
 * legacy PIC and maps no ISA interrupt by itself: a device that
 * interrupts must be described here with its line, as on any
 * hardware-reduced platform. Each is Device (NAME) { _HID, [_UID,] _CRS }.
 */
static const uint8_t aml_pvpanic[] = {	/* QEMU's pvpanic, "QEMU0001" */
	AML_EXT, AML_DEVICE, 0x27, 'P', 'E', 'V', 'T',
	AML_NAME, '_', 'H', 'I', 'D', AML_STRING,
	'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00,
	AML_NAME, '_', 'C', 'R', 'S', AML_BUFFER, 0x0d, AML_BYTE, 0x0a,
	RES_IO16(PORT_PVPANIC, 1), RES_END,
};

static const uint8_t aml_com1[] = {	/* 16550, PNP0501 */
	AML_EXT, AML_DEVICE, 0x2b, 'C', 'O', 'M', '1',
	AML_NAME, '_', 'H', 'I', 'D', EISA_PNP(0x05, 0x01),
	AML_NAME, '_', 'U', 'I', 'D', AML_ONE,
	AML_NAME, '_', 'C', 'R', 'S', AML_BUFFER, 0x10, AML_BYTE, 0x0d,
	RES_IO16(PORT_COM1, 8), RES_IRQ(IRQ_COM1), RES_END,
};

static const uint8_t aml_rtc[] = {	/* CMOS RTC, PNP0B00 */
	AML_EXT, AML_DEVICE, 0x25, 'R', 'T', 'C', '_',
	AML_NAME, '_', 'H', 'I', 'D', EISA_PNP(0x0b, 0x00),
	AML_NAME, '_', 'C', 'R', 'S', AML_BUFFER, 0x10, AML_BYTE, 0x0d,
	RES_IO16(PORT_RTC, 2), RES_IRQ(IRQ_RTC), RES_END,
};

static const struct {
	const uint8_t *aml;
	size_t len;
} sb_devices[] = {
	{ aml_pvpanic, sizeof(aml_pvpanic) },
	{ aml_com1, sizeof(aml_com1) },
	{ aml_rtc, sizeof(aml_rtc) },
};

/*
 * A virtio-mmio slot: Device (VR0n) { _HID "LNRO0005", _UID n, _CRS {
 * its page, its ISA line } }, as Linux's virtio_mmio driver matches it
 * through ACPI. On this hardware-reduced board it is the only way the
 * guest gets the line mapped (a virtio_mmio.device= command-line device
 * would name an IRQ that Linux never set up).
 */
#define AML_VIRTIO_LEN		55
#define AML_VIRTIO_MEM32	42	/* offset of Memory32Fixed's base */

static size_t aml_virtio_mmio(uint8_t *p, unsigned int slot)
{
	static const unsigned int irqs[VIRTIO_MMIO_SLOTS] = VIRTIO_MMIO_IRQS;
	uint32_t mem32[2] = { VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SLOT_SIZE,
			      VIRTIO_MMIO_SLOT_SIZE };
	const uint8_t aml[] = {
		AML_EXT, AML_DEVICE, AML_VIRTIO_LEN - 2, 'V', 'R', '0', '0' + slot,
		AML_NAME, '_', 'H', 'I', 'D', AML_STRING,
		'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
		AML_NAME, '_', 'U', 'I', 'D', AML_BYTE, slot,
		AML_NAME, '_', 'C', 'R', 'S', AML_BUFFER, 0x14, AML_BYTE, 0x11,
		/* Memory32Fixed (6.4.3.4), read-write: base, length below */
		0x86, 0x09, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
		RES_IRQ(irqs[slot]), RES_END,
	};

	_Static_assert(sizeof(aml) == AML_VIRTIO_LEN, "AML_VIRTIO_LEN");
	memcpy(p, aml, sizeof(aml));
	memcpy(p + AML_VIRTIO_MEM32, mem32, sizeof(mem32));	/* little endian */
	return sizeof(aml);
}

/* PkgLength (20.2.4) of a package whose body is @body bytes; returns its size. */
static size_t aml_pkglen(uint8_t *p, size_t body)
{
	if (body + 1 < 0x40) {
		p[0] = body + 1;
		return 1;
	}
	body += 2;
	p[0] = 0x40 | (body & 0xf);
	p[1] = body >> 4;
	return 2;
}

/* The DSDT's AML at @p: _S5, then Scope (\_SB) with the devices. */
static size_t build_dsdt_aml(uint8_t *p, int nr_virtio)
{
	size_t off = 0, body = 5, i;

	memcpy(p, aml_s5, sizeof(aml_s5));
	off += sizeof(aml_s5);
	for (i = 0; i < sizeof(sb_devices) / sizeof(sb_devices[0]); i++)
		body += sb_devices[i].len;
	body += nr_virtio * AML_VIRTIO_LEN;
	p[off++] = AML_SCOPE;
	off += aml_pkglen(p + off, body);
	memcpy(p + off, "\\_SB_", 5);
	off += 5;
	for (i = 0; i < sizeof(sb_devices) / sizeof(sb_devices[0]); i++) {
		memcpy(p + off, sb_devices[i].aml, sb_devices[i].len);
		off += sb_devices[i].len;
	}
	for (i = 0; i < (size_t)nr_virtio; i++)
		off += aml_virtio_mmio(p + off, i);
	return off;
}

static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

static void acpi_header(struct acpi_header *h, const char *sig, uint32_t len,
			uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "LVRN", 4);
	h->creator_revision = 1;
}

static void acpi_finish(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

static struct acpi_gas gas_io8(uint16_t port)
{
	return (struct acpi_gas){ .space_id = 1, .bit_width = 8, .access_size = 1,
				  .address = port };
}

static uint32_t build_madt(uint8_t *p, int nr_cpus)
{
	struct acpi_header *h = (void *)p;
	uint32_t off = sizeof(*h);
	int i;

	*(uint32_t *)(p + off) = LAPIC_BASE;
	*(uint32_t *)(p + off + 4) = 1;		/* PCAT_COMPAT: there are 8259s */
	off += 8;
	for (i = 0; i < nr_cpus; i++) {
		struct madt_lapic *l = (void *)(p + off);

		*l = (struct madt_lapic){ 0, sizeof(*l), i, i, 1 };
		off += sizeof(*l);
	}
	{
		struct madt_ioapic *io = (void *)(p + off);

		*io = (struct madt_ioapic){ 1, sizeof(*io), 0, 0, IOAPIC_BASE, 0 };
		off += sizeof(*io);
	}
	{
		/* The PIT's IRQ 0 is wired to I/O APIC pin 2, as on every PC. */
		struct madt_override *o = (void *)(p + off);

		*o = (struct madt_override){ 2, sizeof(*o), 0, 0, 2, 0 };
		off += sizeof(*o);
	}
	{
		/* LINT1 of every CPU is the NMI input. */
		struct madt_lapic_nmi *n = (void *)(p + off);

		*n = (struct madt_lapic_nmi){ 4, sizeof(*n), 0xff, 0, 1 };
		off += sizeof(*n);
	}
	acpi_header(h, "APIC", off, 4);
	acpi_finish(h);
	return off;
}

static void build_fadt(struct acpi_fadt *f, uint64_t dsdt)
{
	memset(f, 0, sizeof(*f));
	acpi_header(&f->h, "FACP", sizeof(*f), 6);
	f->dsdt = dsdt;
	f->x_dsdt = dsdt;
	f->century = FADT_CMOS_CENTURY;
	/* A CMOS RTC is present (rtc.c): the "not present" flag stays clear. */
	f->iapc_boot_arch = FADT_BOOT_VGA_NOT_PRESENT;
	f->flags = FADT_FLAG_WBINVD | FADT_FLAG_PWR_BUTTON | FADT_FLAG_SLP_BUTTON |
		   FADT_FLAG_RESET_REG_SUP | FADT_FLAG_HW_REDUCED_ACPI;
	f->reset_reg = gas_io8(PORT_RESET_CTL);
	f->reset_value = 0x06;		/* full reset, as PIIX does on 0xcf9 */
	f->sleep_control = gas_io8(PORT_ACPI_SLEEP_CTL);
	f->sleep_status = gas_io8(PORT_ACPI_SLEEP_STS);
	memcpy(&f->hypervisor_id, "LVRUN   ", 8);
	acpi_finish(&f->h);
}

uint64_t acpi_build(struct guest_mem *mem, int nr_cpus, int nr_virtio)
{
	uint64_t rsdp_gpa = ACPI_TABLES_ADDR;
	uint64_t xsdt_gpa = rsdp_gpa + 0x40;
	uint64_t fadt_gpa = xsdt_gpa + 0x40;
	uint64_t dsdt_gpa = fadt_gpa + 0x200;
	uint64_t madt_gpa = dsdt_gpa + 0x400;
	uint8_t *base = gmem_ptr(mem, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE);
	struct acpi_rsdp *rsdp;
	struct acpi_header *h;
	uint64_t *entries;

	if (!base || nr_cpus > 255 || nr_virtio < 0 || nr_virtio > VIRTIO_MMIO_SLOTS ||
	    madt_gpa + sizeof(struct acpi_header) + 8 + nr_cpus * 8 + 64 >
	    ACPI_TABLES_ADDR + ACPI_TABLES_SIZE)
		return 0;
	memset(base, 0, ACPI_TABLES_SIZE);

	h = (void *)(base + (dsdt_gpa - ACPI_TABLES_ADDR));
	acpi_header(h, "DSDT", sizeof(*h) + build_dsdt_aml((uint8_t *)(h + 1), nr_virtio), 2);
	acpi_finish(h);

	build_fadt((void *)(base + (fadt_gpa - ACPI_TABLES_ADDR)), dsdt_gpa);
	build_madt(base + (madt_gpa - ACPI_TABLES_ADDR), nr_cpus);

	h = (void *)(base + (xsdt_gpa - ACPI_TABLES_ADDR));
	acpi_header(h, "XSDT", sizeof(*h) + 2 * 8, 1);
	entries = (uint64_t *)(h + 1);
	entries[0] = fadt_gpa;
	entries[1] = madt_gpa;
	acpi_finish(h);

	rsdp = (void *)base;
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = xsdt_gpa;
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->extended_checksum = acpi_checksum(rsdp, sizeof(*rsdp));
	return rsdp_gpa;
}
