// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun-loadertest: lvrun's loaders and board tables on the host, without
 * a hypervisor. Guest memory sits between two inaccessible guard pages,
 * so a loader writing outside it crashes the test. Synthetic images cover
 * each format and each refusal; with a path argument, a real bzImage (and
 * with two, a real vmlinux) is loaded too. TAP output.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../board/board.h"
#include "../layout.h"
#include "../tap.h"
#include "bootparam.h"
#include "loader.h"
#include "multiboot.h"

int tap_nr, tap_failed;

void bus_tests(void);
void rtc_tests(void);
void snapshot_format_tests(void);
void snapshot_feature_tests(void);
void control_tests(void);
void migrate_wire_tests(void);
void pool_tests(void);
void size_tests(void);
void migrate_handover_tests(void);
void migrate_pagemap_tests(void);
void virtio_tests(void);

static uint8_t *guarded;
static size_t guarded_len;

/*
 * Fresh guest memory of @size bytes between guard pages; its first 4 MiB
 * (where the bss checks look) filled with 0xaa. Filling all of it would
 * cost minutes under an emulator.
 */
static struct guest_mem mem_new(uint64_t size)
{
	if (guarded)
		munmap(guarded, guarded_len);
	guarded_len = size + 2 * 4096;
	guarded = mmap(NULL, guarded_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);
	if (guarded == MAP_FAILED ||
	    mprotect(guarded + 4096, size, PROT_READ | PROT_WRITE)) {
		perror("mmap");
		exit(1);
	}
	memset(guarded + 4096, 0xaa, size < (4 << 20) ? size : (4 << 20));
	return (struct guest_mem){ guarded + 4096, size };
}

static void ctx_init(struct load_ctx *ctx, uint64_t mem, const void *img, size_t size)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->mem = mem_new(mem);
	ctx->image = (struct blob){ "test-image", img, size };
	ctx->nr_vcpus = 2;
}

static uint32_t g32(const struct guest_mem *m, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, m->host + gpa, 4);
	return v;
}

static uint64_t g64(const struct guest_mem *m, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, m->host + gpa, 8);
	return v;
}

static void put16(uint8_t *p, unsigned int off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, unsigned int off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, unsigned int off, uint64_t v) { memcpy(p + off, &v, 8); }

static int expect_fail(struct load_ctx *ctx, enum image_kind kind, const char *what)
{
	int ret = load_image(ctx, kind);

	printf("# %s\n", ctx->err);
	return ret == -1 && strstr(ctx->err, what);
}

/* --- bzImage --------------------------------------------------------- */

#define BZ_SETUP_SECTS	3
#define BZ_SETUP_SIZE	((BZ_SETUP_SECTS + 1) * 512)
#define BZ_KERNEL_SIZE	0x4000

static uint8_t bz[BZ_SETUP_SIZE + BZ_KERNEL_SIZE];

static void bz_make(uint16_t version)
{
	unsigned int i;

	memset(bz, 0, sizeof(bz));
	bz[BP_SETUP_SECTS] = BZ_SETUP_SECTS;
	put32(bz, BP_SYSSIZE, BZ_KERNEL_SIZE / 16);
	put16(bz, BP_BOOT_FLAG, BOOT_FLAG_MAGIC);
	bz[BP_JUMP] = 0xeb;
	bz[BP_JUMP + 1] = 0x6a;		/* header ends at 0x26c */
	memcpy(bz + BP_HEADER, "HdrS", 4);
	put16(bz, BP_VERSION, version);
	bz[BP_LOADFLAGS] = LOADED_HIGH;
	put32(bz, BP_INITRD_ADDR_MAX, 0x7fffffff);
	put32(bz, BP_KERNEL_ALIGNMENT, 0x200000);
	bz[BP_RELOCATABLE] = 1;
	put16(bz, BP_XLOADFLAGS, XLF_KERNEL_64);
	put32(bz, BP_CMDLINE_SIZE, 2047);
	put64(bz, BP_PREF_ADDRESS, 0x1000000);
	put32(bz, BP_INIT_SIZE, 0x800000);
	for (i = 0; i < BZ_KERNEL_SIZE; i++)
		bz[BZ_SETUP_SIZE + i] = (uint8_t)(i * 7 + 1);
}

static bool e820_has_pc_holes(const struct e820_entry *e, int n, uint64_t mem)
{
	return n == 4 && e[0].addr == 0 && e[0].size == 0x9fc00 && e[0].type == E820_RAM &&
	       e[1].addr == 0x9fc00 && e[1].type == E820_RESERVED &&
	       e[2].addr == 0xe0000 && e[2].addr + e[2].size == 0x100000 &&
	       e[2].type == E820_RESERVED &&
	       e[3].addr == 0x100000 && e[3].addr + e[3].size == mem && e[3].type == E820_RAM;
}

static uint8_t acpi_sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* An AML device NAME (4 chars) whose package holds @res (@len bytes). */
static bool aml_device_has(const uint8_t *d, uint32_t size, const char *name,
			   const char *res, size_t len)
{
	const uint8_t *dev = memmem(d, size, name, 4);
	const uint8_t *end;

	/* Device op, one-byte PkgLength (counting itself), then the name. */
	if (!dev || dev - d < 3 || dev[-3] != 0x5b || dev[-2] != 0x82)
		return false;
	end = dev - 1 + dev[-1];
	if (end > d + size)
		return false;
	return memmem(dev, end - dev, res, len) != NULL;
}

/*
 * Scope (\_SB) spans the rest of the table (its PkgLength checked), and
 * names COM1 (PNP0501, ports 0x3f8-0x3ff, IRQ 4) and the RTC (PNP0B00,
 * ports 0x70-0x71, IRQ 8): a hardware-reduced guest maps no ISA line
 * that ACPI does not name.
 */
static void check_dsdt_devices(const uint8_t *d, uint32_t size)
{
	const uint8_t *sb = memmem(d, size, "\\_SB_", 5);
	uint32_t len = 0;

	if (sb && sb - d >= 3 && sb[-3] == 0x10 && (sb[-2] & 0xc0) == 0x40)
		len = (sb[-2] & 0xf) | (sb[-1] << 4);
	tap_ok(len && sb - 2 + len == d + size,
	       "acpi: Scope (\\_SB) with a two-byte PkgLength to the table's end");
	tap_ok(aml_device_has(d, size, "COM1", "\x0c\x41\xd0\x05\x01", 5) &&
	       aml_device_has(d, size, "COM1", "\x47\x01\xf8\x03\xf8\x03\x01\x08", 8) &&
	       aml_device_has(d, size, "COM1", "\x22\x10\x00\x79", 4),
	       "acpi: DSDT names COM1 (PNP0501) at 0x3f8 with IRQ 4");
	tap_ok(aml_device_has(d, size, "RTC_", "\x0c\x41\xd0\x0b\x00", 5) &&
	       aml_device_has(d, size, "RTC_", "\x47\x01\x70\x00\x70\x00\x01\x02", 8) &&
	       aml_device_has(d, size, "RTC_", "\x22\x00\x01\x79", 4),
	       "acpi: DSDT names the RTC (PNP0B00) at 0x70 with IRQ 8");
}

/* The DSDT of a board with @nr virtio-mmio devices: its address and size. */
static const uint8_t *dsdt_with_virtio(struct guest_mem *m, int nr, uint32_t *size)
{
	uint64_t rsdp = acpi_build(m, 1, nr), dsdt;

	if (!rsdp)
		return NULL;
	dsdt = g64(m, g64(m, g64(m, rsdp + 24) + 36) + 140);
	*size = g32(m, dsdt + 4);
	return m->host + dsdt;
}

/*
 * Each virtio-mmio device is Device (VR0n) with _HID LNRO0005, its page
 * (Memory32Fixed) and its ISA line (IRQNoFlags), in slot order; without
 * devices there is none, and more than the slots are refused.
 */
static void test_acpi_virtio(void)
{
	static const unsigned int irqs[VIRTIO_MMIO_SLOTS] = VIRTIO_MMIO_IRQS;
	struct guest_mem m = mem_new(16 << 20);
	const uint8_t *d;
	uint32_t size = 0;
	bool all = true;
	int i;

	d = dsdt_with_virtio(&m, 0, &size);
	tap_ok(d && !memmem(d, size, "LNRO0005", 8),
	       "acpi: no virtio-mmio device in the DSDT without devices");
	d = dsdt_with_virtio(&m, VIRTIO_MMIO_SLOTS, &size);
	for (i = 0; d && i < VIRTIO_MMIO_SLOTS; i++) {
		uint32_t base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SLOT_SIZE;
		uint8_t mem32[12] = { 0x86, 0x09, 0x00, 0x01 };
		uint8_t irq[4] = { 0x22, (1 << irqs[i]) & 0xff, (1 << irqs[i]) >> 8, 0x79 };
		char name[5] = { 'V', 'R', '0', '0' + i, 0 };
		uint32_t len = VIRTIO_MMIO_SLOT_SIZE;

		memcpy(mem32 + 4, &base, 4);
		memcpy(mem32 + 8, &len, 4);
		all &= aml_device_has(d, size, name, "LNRO0005", 8) &&
		       aml_device_has(d, size, name, (const char *)mem32, 12) &&
		       aml_device_has(d, size, name, (const char *)irq, 4);
	}
	tap_ok(d && all && acpi_sum(d, size) == 0,
	       "acpi: DSDT names the %d virtio-mmio slots (LNRO0005, page, IRQ 5-15)",
	       VIRTIO_MMIO_SLOTS);
	if (d)
		check_dsdt_devices(d, size);
	tap_ok(!acpi_build(&m, 1, VIRTIO_MMIO_SLOTS + 1),
	       "acpi: more virtio-mmio devices than slots are refused");
}

static void check_acpi(const struct guest_mem *m, uint64_t rsdp, int nr_cpus)
{
	const uint8_t *r = m->host + rsdp;
	uint64_t xsdt = g64(m, rsdp + 24), fadt, madt, dsdt;
	const uint8_t *x, *f, *a, *d;
	int i, lapics = 0;

	tap_ok(!memcmp(r, "RSD PTR ", 8) && acpi_sum(r, 20) == 0 && acpi_sum(r, 36) == 0 &&
	       r[15] == 2, "acpi: RSDP revision 2 with good checksums");
	x = m->host + xsdt;
	fadt = g64(m, xsdt + 36);
	madt = g64(m, xsdt + 44);
	tap_ok(!memcmp(x, "XSDT", 4) && acpi_sum(x, g32(m, xsdt + 4)) == 0 &&
	       g32(m, xsdt + 4) == 36 + 16, "acpi: XSDT with two entries, good checksum");
	f = m->host + fadt;
	dsdt = g64(m, fadt + 140);
	tap_ok(!memcmp(f, "FACP", 4) && g32(m, fadt + 4) == 276 && f[8] == 6 &&
	       acpi_sum(f, 276) == 0, "acpi: FADT revision 6, 276 bytes, good checksum");
	tap_ok(g32(m, fadt + 112) & (1 << 20) && f[244] == 1 &&
	       g64(m, fadt + 248) == PORT_ACPI_SLEEP_CTL && g64(m, fadt + 260) == PORT_ACPI_SLEEP_STS &&
	       g64(m, fadt + 120) == PORT_RESET_CTL && f[128] == 6,
	       "acpi: hardware-reduced FADT, sleep control 0x600, reset 0xcf9 <- 6");
	tap_ok(f[108] == 0x32 && !(f[109] & (1 << 5)) && f[109] & (1 << 2),
	       "acpi: FADT: a CMOS RTC, century at 0x32; no VGA");
	d = m->host + dsdt;
	tap_ok(!memcmp(d, "DSDT", 4) && acpi_sum(d, g32(m, dsdt + 4)) == 0 &&
	       memmem(d, g32(m, dsdt + 4), "_S5_\x12\x08\x04\x0a\x05", 9) &&
	       memmem(d, g32(m, dsdt + 4), "QEMU0001", 8),
	       "acpi: DSDT with _S5 = 5 and the pvpanic device");
	check_dsdt_devices(d, g32(m, dsdt + 4));
	a = m->host + madt;
	for (i = 44; i < (int)g32(m, madt + 4); i += a[i + 1]) {
		if (a[i + 1] == 0)
			break;
		if (a[i] == 0 && a[i + 3] == lapics && a[i + 4] & 1)
			lapics++;
	}
	tap_ok(!memcmp(a, "APIC", 4) && acpi_sum(a, g32(m, madt + 4)) == 0 &&
	       g32(m, madt + 36) == LAPIC_BASE && lapics == nr_cpus &&
	       memmem(a, g32(m, madt + 4), "\x01\x0c\x00\x00\x00\x00\xc0\xfe", 8) &&
	       memmem(a, g32(m, madt + 4), "\x02\x0a\x00\x00\x02\x00\x00\x00", 8),
	       "acpi: MADT with %d local APICs, the I/O APIC at 0xfec00000, IRQ 0 -> GSI 2",
	       nr_cpus);
}

static void test_bzimage(void)
{
	static const uint8_t initrd[5000] = { 1, 2, 3 };
	struct load_ctx ctx;
	struct guest_mem *m = &ctx.mem;
	uint64_t rd;
	const uint8_t *zp;

	bz_make(0x20f);
	ctx_init(&ctx, 64 << 20, bz, sizeof(bz));
	ctx.cmdline = "console=ttyS0 quiet";
	ctx.initrd[0] = (struct blob){ "initrd.img", initrd, sizeof(initrd) };
	ctx.nr_initrds = 1;
	tap_ok(image_detect(bz, sizeof(bz)) == IMAGE_BZIMAGE, "bzImage: detected");
	tap_ok(load_image(&ctx, IMAGE_BZIMAGE) == 0, "bzImage: loads (%s)", ctx.err);
	zp = m->host + BOOT_INFO_ADDR;
	tap_ok(ctx.entry.mode == BOOT_LONG64 && ctx.entry.regs.rip == 0x1000200 &&
	       ctx.entry.regs.rsi == BOOT_INFO_ADDR && ctx.entry.sel.code == 0x10 &&
	       ctx.entry.sel.data == 0x18 && !ctx.entry.all_vcpus_at_entry,
	       "bzImage: 64-bit entry at pref_address + 0x200, RSI = zero page, CS 0x10, DS 0x18");
	tap_ok(!memcmp(m->host + 0x1000000, bz + BZ_SETUP_SIZE, BZ_KERNEL_SIZE),
	       "bzImage: protected-mode kernel at pref_address 0x1000000");
	tap_ok(!memcmp(zp + 0x1f1, bz + 0x1f1, BP_VID_MODE - 0x1f1) &&
	       !memcmp(zp + 0x1fc, bz + 0x1fc, BP_TYPE_OF_LOADER - 0x1fc) &&
	       zp[BP_TYPE_OF_LOADER] == 0xff &&
	       g32(m, BOOT_INFO_ADDR + BP_CMD_LINE_PTR) == BOOT_CMDLINE_ADDR &&
	       !strcmp((char *)m->host + BOOT_CMDLINE_ADDR, "console=ttyS0 quiet"),
	       "bzImage: zero page has the setup header, loader type 0xff and the command line");
	rd = g32(m, BOOT_INFO_ADDR + BP_RAMDISK_IMAGE);
	tap_ok(rd && !(rd & 0xfff) && rd >= 0x1000000 + 0x800000 &&
	       rd + sizeof(initrd) <= (64 << 20) &&
	       g32(m, BOOT_INFO_ADDR + BP_RAMDISK_SIZE) == sizeof(initrd) &&
	       !memcmp(m->host + rd, initrd, sizeof(initrd)),
	       "bzImage: initrd page aligned at the top of RAM, above init_size (0x%llx)",
	       (unsigned long long)rd);
	tap_ok(e820_has_pc_holes((const void *)(zp + BP_E820_TABLE), zp[BP_E820_ENTRIES],
				 64 << 20), "bzImage: e820 map with a PC's holes");
	tap_ok(g64(m, LM_PML4_ADDR) == (LM_PDPT_ADDR | 3) &&
	       g64(m, LM_PD_ADDR + 8 * 8) == (0x1000000 | 0x83) &&
	       g64(m, LM_GDT_ADDR + 0x10) == 0x00af9b000000ffffULL,
	       "bzImage: identity-mapped page tables and a 64-bit code segment at 0x10");
	check_acpi(m, g64(m, BOOT_INFO_ADDR + BP_ACPI_RSDP_ADDR), 2);

	bz_make(0x20f);
	ctx_init(&ctx, 64 << 20, bz, sizeof(bz) - 100);
	tap_ok(expect_fail(&ctx, IMAGE_BZIMAGE, "truncated bzImage"),
	       "bzImage: a truncated image is refused");
	ctx_init(&ctx, 64 << 20, bz, 0x220);
	tap_ok(expect_fail(&ctx, IMAGE_BZIMAGE, "truncated bzImage"),
	       "bzImage: an image cut inside the setup header is refused");

	bz_make(0x20b);
	ctx_init(&ctx, 64 << 20, bz, sizeof(bz));
	tap_ok(expect_fail(&ctx, IMAGE_BZIMAGE, "2.11 is too old"),
	       "bzImage: protocol 2.11 is refused as too old");

	bz_make(0x20f);
	bz[BP_LOADFLAGS] = 0;
	ctx_init(&ctx, 64 << 20, bz, sizeof(bz));
	tap_ok(expect_fail(&ctx, IMAGE_BZIMAGE, "LOADED_HIGH"),
	       "bzImage: a zImage (loadflags without LOADED_HIGH) is refused");

	bz_make(0x20f);
	put16(bz, BP_XLOADFLAGS, 0);
	ctx_init(&ctx, 64 << 20, bz, sizeof(bz));
	tap_ok(expect_fail(&ctx, IMAGE_BZIMAGE, "no 64-bit entry"),
	       "bzImage: a kernel without XLF_KERNEL_64 is refused");

	bz_make(0x20f);
	ctx_init(&ctx, 16 << 20, bz, sizeof(bz));
	tap_ok(load_image(&ctx, IMAGE_BZIMAGE) == 0 && ctx.entry.regs.rip == 0x200200,
	       "bzImage: relocatable, pref_address does not fit: loaded at kernel_alignment (rip 0x%llx)",
	       (unsigned long long)ctx.entry.regs.rip);
	bz[BP_RELOCATABLE] = 0;
	ctx_init(&ctx, 16 << 20, bz, sizeof(bz));
	tap_ok(expect_fail(&ctx, IMAGE_BZIMAGE, "not relocatable"),
	       "bzImage: not relocatable and pref_address past RAM: refused");

	bz_make(0x20f);
	ctx_init(&ctx, 32 << 20, bz, sizeof(bz));
	{
		static uint8_t big[32 << 20];

		ctx.initrd[0] = (struct blob){ "big.img", big, sizeof(big) };
		ctx.nr_initrds = 1;
		tap_ok(expect_fail(&ctx, IMAGE_BZIMAGE, "does not fit in guest memory"),
		       "bzImage: an initrd larger than guest memory is refused");
	}

	bz_make(0x20f);
	put32(bz, BP_CMDLINE_SIZE, 10);
	ctx_init(&ctx, 64 << 20, bz, sizeof(bz));
	ctx.cmdline = "console=ttyS0 quiet";
	tap_ok(expect_fail(&ctx, IMAGE_BZIMAGE, "at most 10"),
	       "bzImage: a command line longer than cmdline_size is refused");
}

/* --- multiboot ------------------------------------------------------- */

static uint8_t mbimg[0x3000];

static void mb_make_kludge(uint32_t checksum_delta)
{
	struct mb_header h = {
		.magic = MB_HEADER_MAGIC,
		.flags = MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_AOUT_KLUDGE,
		.header_addr = 0x100010, .load_addr = 0x100000,
		.load_end_addr = 0, .bss_end_addr = 0x105000, .entry_addr = 0x100040,
	};
	unsigned int i;

	h.checksum = -(h.magic + h.flags) + checksum_delta;
	for (i = 0; i < sizeof(mbimg); i++)
		mbimg[i] = (uint8_t)(i * 3 + 5);
	memcpy(mbimg + 0x10, &h, sizeof(h));
}

static void test_multiboot_kludge(void)
{
	static const uint8_t mod1[3000] = { 0x11, 0x22 }, mod2[10] = "module2";
	struct load_ctx ctx;
	struct guest_mem *m = &ctx.mem;
	const struct mb_info *mi;
	const struct mb_module *mods;
	const struct mb_mmap_entry *mm;
	size_t zero;
	bool bss_zero = true;

	mb_make_kludge(0);
	ctx_init(&ctx, 128 << 20, mbimg, sizeof(mbimg));
	ctx.cmdline = "mbtest one=1";
	ctx.initrd[0] = (struct blob){ "/work/mod1.bin", mod1, sizeof(mod1) };
	ctx.initrd[1] = (struct blob){ "mod2 arg", mod2, sizeof(mod2) };
	ctx.nr_initrds = 2;
	tap_ok(image_detect(mbimg, sizeof(mbimg)) == IMAGE_MULTIBOOT,
	       "multiboot: a flat image with the header is detected");
	tap_ok(load_image(&ctx, IMAGE_MULTIBOOT) == 0, "multiboot: a.out kludge image loads (%s)",
	       ctx.err);
	tap_ok(ctx.entry.mode == BOOT_FLAT32 && ctx.entry.regs.rip == 0x100040 &&
	       ctx.entry.regs.rax == MB_BOOTLOADER_MAGIC && ctx.entry.regs.rbx == BOOT_INFO_ADDR,
	       "multiboot: 32-bit entry at entry_addr, EAX = 0x2badb002, EBX = info");
	tap_ok(!memcmp(m->host + 0x100000, mbimg, sizeof(mbimg)),
	       "multiboot: the file is loaded from load_addr");
	for (zero = 0x100000 + sizeof(mbimg); zero < 0x105000; zero++)
		bss_zero &= m->host[zero] == 0;
	tap_ok(bss_zero, "multiboot: bss zeroed up to bss_end_addr");
	mi = (const void *)(m->host + BOOT_INFO_ADDR);
	tap_ok(mi->flags & MB_INFO_MEMORY && mi->mem_lower == 639 &&
	       mi->mem_upper == (128 << 10) - 1024,
	       "multiboot: mem_lower 639 KiB, mem_upper %u KiB", mi->mem_upper);
	tap_ok(mi->flags & MB_INFO_CMDLINE && !strcmp((char *)m->host + mi->cmdline, "mbtest one=1"),
	       "multiboot: command line");
	mods = (const void *)(m->host + mi->mods_addr);
	tap_ok(mi->flags & MB_INFO_MODS && mi->mods_count == 2 &&
	       mods[0].mod_start >= 0x105000 && !(mods[0].mod_start & 0xfff) &&
	       mods[0].mod_end - mods[0].mod_start == sizeof(mod1) &&
	       !memcmp(m->host + mods[0].mod_start, mod1, sizeof(mod1)) &&
	       !strcmp((char *)m->host + mods[0].string, "/work/mod1.bin") &&
	       mods[1].mod_start >= mods[0].mod_end && !(mods[1].mod_start & 0xfff) &&
	       !memcmp(m->host + mods[1].mod_start, mod2, sizeof(mod2)) &&
	       !strcmp((char *)m->host + mods[1].string, "mod2 arg"),
	       "multiboot: two page-aligned modules after the kernel, with their names");
	mm = (const void *)(m->host + mi->mmap_addr);
	tap_ok(mi->flags & MB_INFO_MMAP && mi->mmap_length == 4 * 24 && mm[0].size == 20 &&
	       mm[0].addr == 0 && mm[0].len == 0x9fc00 && mm[0].type == 1 &&
	       mm[3].addr == 0x100000 && mm[3].len == (128 << 20) - 0x100000,
	       "multiboot: memory map with a PC's holes");

	mb_make_kludge(1);
	ctx_init(&ctx, 128 << 20, mbimg, sizeof(mbimg));
	tap_ok(expect_fail(&ctx, IMAGE_MULTIBOOT, "bad checksum"),
	       "multiboot: a header with a bad checksum is refused");

	mb_make_kludge(0);
	ctx_init(&ctx, 1 << 20, mbimg, sizeof(mbimg));
	tap_ok(expect_fail(&ctx, IMAGE_MULTIBOOT, "outside guest RAM"),
	       "multiboot: a kernel past the end of RAM is refused");

	mb_make_kludge(0);
	ctx_init(&ctx, 8 << 20, mbimg, sizeof(mbimg));
	{
		static uint8_t big[8 << 20];

		ctx.initrd[0] = (struct blob){ "big", big, sizeof(big) };
		ctx.nr_initrds = 1;
		tap_ok(expect_fail(&ctx, IMAGE_MULTIBOOT, "does not fit"),
		       "multiboot: a module larger than guest memory is refused");
	}
}

/* A minimal ELF32 multiboot kernel: one PT_LOAD at @paddr with bss. */
static uint8_t elf32[0x1000];

static void mb_make_elf32(uint32_t paddr)
{
	Elf32_Ehdr *eh = (void *)elf32;
	Elf32_Phdr *ph = (void *)(elf32 + sizeof(*eh));
	struct mb_header h = { .magic = MB_HEADER_MAGIC, .flags = MB_FLAG_MEMORY_INFO };

	memset(elf32, 0x5c, sizeof(elf32));
	h.checksum = -(h.magic + h.flags);
	memset(eh, 0, sizeof(*eh) + sizeof(*ph));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_386;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0xc0000000 + 0x100;	/* virtual, as higher-half kernels link */
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_LOAD;
	ph->p_offset = 0x100;
	ph->p_vaddr = 0xc0000000;
	ph->p_paddr = paddr;
	ph->p_filesz = 0x800;
	ph->p_memsz = 0x3000;
	memcpy(elf32 + 0x100, &h, 12);
}

static void test_multiboot_elf32(void)
{
	struct load_ctx ctx;
	bool bss = true;
	int i;

	mb_make_elf32(0x200000);
	ctx_init(&ctx, 16 << 20, elf32, sizeof(elf32));
	tap_ok(image_detect(elf32, sizeof(elf32)) == IMAGE_MULTIBOOT,
	       "multiboot ELF32: detected");
	tap_ok(load_image(&ctx, IMAGE_MULTIBOOT) == 0 &&
	       ctx.entry.regs.rip == 0x200100 && ctx.entry.mode == BOOT_FLAT32,
	       "multiboot ELF32: loads; the virtual entry becomes physical 0x200100 (%s)",
	       ctx.err);
	for (i = 0x800; i < 0x3000; i++)
		bss &= ctx.mem.host[0x200000 + i] == 0;
	tap_ok(!memcmp(ctx.mem.host + 0x200000, elf32 + 0x100, 0x800) && bss &&
	       ctx.mem.host[0x203000] == 0xaa,
	       "multiboot ELF32: PT_LOAD at p_paddr, bss zeroed");

	mb_make_elf32(0x0ffe000);
	ctx_init(&ctx, 16 << 20, elf32, sizeof(elf32));
	tap_ok(expect_fail(&ctx, IMAGE_MULTIBOOT, "outside guest RAM"),
	       "multiboot ELF32: a segment running past the end of RAM is refused");
	mb_make_elf32(0x9000);
	ctx_init(&ctx, 16 << 20, elf32, sizeof(elf32));
	tap_ok(expect_fail(&ctx, IMAGE_MULTIBOOT, "boot data"),
	       "multiboot ELF32: a segment over lvrun's boot data is refused");
	mb_make_elf32(0x200000);
	((Elf32_Ehdr *)elf32)->e_phoff = 0xfff0;
	ctx_init(&ctx, 16 << 20, elf32, sizeof(elf32));
	tap_ok(expect_fail(&ctx, IMAGE_MULTIBOOT, "program header"),
	       "multiboot ELF32: a program header table past the file is refused");
}

/* --- vmlinux and lvrun's ELF64 ---------------------------------------- */

static uint8_t elf64[0x2000];

static void make_elf64(uint64_t vaddr, uint64_t paddr, bool pvh_note)
{
	Elf64_Ehdr *eh = (void *)elf64;
	Elf64_Phdr *ph = (void *)(elf64 + sizeof(*eh));
	Elf64_Nhdr *nh = (void *)(elf64 + 0x200);

	memset(elf64, 0x77, sizeof(elf64));
	memset(eh, 0, sizeof(*eh) + 2 * sizeof(*ph));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_entry = paddr + 0x40;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = pvh_note ? 2 : 1;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x1000, .p_vaddr = vaddr,
			      .p_paddr = paddr, .p_filesz = 0x1000, .p_memsz = 0x2000 };
	if (pvh_note) {
		ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x200,
				      .p_filesz = sizeof(*nh) + 4 + 4 };
		*nh = (Elf64_Nhdr){ .n_namesz = 4, .n_descsz = 4,
				    .n_type = XEN_ELFNOTE_PHYS32_ENTRY };
		memcpy(nh + 1, "Xen", 4);
		put32(elf64, 0x200 + sizeof(*nh) + 4, (uint32_t)paddr + 0x80);
	}
}

static void test_vmlinux(void)
{
	static const uint8_t initrd[100] = { 9 };
	struct load_ctx ctx;
	struct guest_mem *m = &ctx.mem;
	const struct hvm_start_info *si;
	const struct hvm_memmap_table_entry *mm;
	const struct hvm_modlist_entry *mod;

	make_elf64(0xffffffff81000000ULL, 0x1000000, true);
	ctx_init(&ctx, 64 << 20, elf64, sizeof(elf64));
	ctx.cmdline = "console=ttyS0";
	ctx.initrd[0] = (struct blob){ "rd", initrd, sizeof(initrd) };
	ctx.nr_initrds = 1;
	tap_ok(image_detect(elf64, sizeof(elf64)) == IMAGE_VMLINUX, "vmlinux: detected");
	tap_ok(load_image(&ctx, IMAGE_VMLINUX) == 0, "vmlinux (PVH): loads (%s)", ctx.err);
	si = (const void *)(m->host + BOOT_INFO_ADDR);
	tap_ok(ctx.entry.mode == BOOT_FLAT32 && ctx.entry.regs.rip == 0x1000080 &&
	       ctx.entry.regs.rbx == BOOT_INFO_ADDR,
	       "vmlinux (PVH): 32-bit entry from the note, EBX = hvm_start_info");
	mm = (const void *)(m->host + si->memmap_paddr);
	mod = (const void *)(m->host + si->modlist_paddr);
	tap_ok(si->magic == HVM_START_MAGIC && si->version == 1 &&
	       !strcmp((char *)m->host + si->cmdline_paddr, "console=ttyS0") &&
	       si->memmap_entries == 4 && mm[0].size == 0x9fc00 && mm[3].addr == 0x100000 &&
	       si->nr_modules == 1 && mod->size == sizeof(initrd) &&
	       !memcmp(m->host + mod->paddr, initrd, sizeof(initrd)) &&
	       !memcmp(m->host + si->rsdp_paddr, "RSD PTR ", 8),
	       "vmlinux (PVH): start info with command line, memory map, initrd, RSDP");

	make_elf64(0xffffffff81000000ULL, 0x1000000, false);
	ctx_init(&ctx, 64 << 20, elf64, sizeof(elf64));
	tap_ok(load_image(&ctx, IMAGE_VMLINUX) == 0 && ctx.entry.mode == BOOT_LONG64 &&
	       ctx.entry.regs.rip == 0x1000040 && ctx.entry.regs.rsi == BOOT_INFO_ADDR &&
	       !memcmp(m->host + BOOT_INFO_ADDR + BP_HEADER, "HdrS", 4),
	       "vmlinux without a PVH note: 64-bit entry at e_entry with a zero page");

	make_elf64(0x100000, 0x100000, false);
	tap_ok(image_detect(elf64, sizeof(elf64)) == IMAGE_ELF64,
	       "ELF64 linked at its physical address: lvrun's own guest format");
	make_elf64(0x4000000, 0x4000000, false);
	ctx_init(&ctx, 16 << 20, elf64, sizeof(elf64));
	tap_ok(expect_fail(&ctx, IMAGE_ELF64, "outside guest RAM"),
	       "ELF64: a segment outside guest RAM is refused");
}

static void test_detect(void)
{
	static const uint8_t boot_sector[512] = { 0xfa, 0xf4 };

	tap_ok(image_detect(boot_sector, sizeof(boot_sector)) == IMAGE_REALMODE,
	       "detect: anything else is a real-mode image");
}

static uint8_t *read_file(const char *path, size_t *size)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	p = malloc(st.st_size);
	if (p && read(fd, p, st.st_size) != st.st_size) {
		free(p);
		p = NULL;
	}
	close(fd);
	*size = st.st_size;
	return p;
}

/* A real kernel: the guest kernel's bzImage (and vmlinux), if given. */
static void test_real(const char *path, enum image_kind want)
{
	struct load_ctx ctx;
	size_t size;
	uint8_t *img = read_file(path, &size);

	if (!img) {
		tap_ok(0, "real %s: cannot read %s: %s", image_kind_name(want), path,
		       strerror(errno));
		return;
	}
	ctx_init(&ctx, 256 << 20, img, size);
	ctx.cmdline = "console=ttyS0";
	tap_ok(image_detect(img, size) == want && load_image(&ctx, want) == 0,
	       "real %s %s loads (%s)", image_kind_name(want), path, ctx.err);
	if (want == IMAGE_VMLINUX)
		tap_ok(ctx.entry.mode == BOOT_FLAT32,
		       "real vmlinux has the PVH entry note (entry 0x%llx)",
		       (unsigned long long)ctx.entry.regs.rip);
	free(img);
}

int main(int argc, char **argv)
{
	bus_tests();
	rtc_tests();
	snapshot_format_tests();
	snapshot_feature_tests();
	control_tests();
	migrate_wire_tests();
	pool_tests();
	size_tests();
	migrate_handover_tests();
	migrate_pagemap_tests();
	virtio_tests();
	test_acpi_virtio();
	test_detect();
	test_bzimage();
	test_multiboot_kludge();
	test_multiboot_elf32();
	test_vmlinux();
	if (argc > 1)
		test_real(argv[1], IMAGE_BZIMAGE);
	if (argc > 2)
		test_real(argv[2], IMAGE_VMLINUX);
	printf("1..%d\n", tap_nr);
	return tap_failed ? 1 : 0;
}
