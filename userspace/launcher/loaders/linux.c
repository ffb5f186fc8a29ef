// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: Linux, as a bzImage (the 64-bit boot protocol) or as an
 * uncompressed vmlinux (the PVH entry if it has one, else the 64-bit
 * entry), following Documentation/arch/x86/boot.rst.
 */
#include <elf.h>
#include <string.h>

#include "../board/board.h"
#include "../layout.h"
#include "bootparam.h"
#include "loader.h"

static const struct boot_selectors linux_sel = { .code = 0x10, .data = 0x18, .tss = 0x20 };
static const struct boot_selectors pvh_sel = { .code = 0x08, .data = 0x10, .tss = 0x18 };

#define rd8(p, off)	((p)[off])

static uint16_t rd16(const uint8_t *p, unsigned int off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p, unsigned int off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p, unsigned int off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static void wr16(uint8_t *p, unsigned int off, uint16_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void wr32(uint8_t *p, unsigned int off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void wr64(uint8_t *p, unsigned int off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

/* Places the command line; @max is the kernel's limit including the NUL. */
static int linux_cmdline(struct load_ctx *ctx, uint64_t max)
{
	const char *cmdline = ctx->cmdline ? ctx->cmdline : "";
	size_t len = strlen(cmdline) + 1;

	if (max > BOOT_CMDLINE_MAX)
		max = BOOT_CMDLINE_MAX;
	if (len > max)
		return load_fail(ctx, "--cmdline is %zu bytes, the kernel takes at most %llu",
				 len - 1, (unsigned long long)max - 1);
	memcpy(ctx->mem.host + BOOT_CMDLINE_ADDR, cmdline, len);
	return 0;
}

/* Puts the initrd at the top of RAM, below @addr_max and above @floor. */
static int linux_initrd(struct load_ctx *ctx, uint64_t addr_max, uint64_t floor,
			uint64_t *gpa)
{
	const struct blob *rd = &ctx->initrd[0];

	*gpa = 0;
	if (ctx->nr_initrds == 0)
		return 0;
	if (ctx->nr_initrds > 1)
		return load_fail(ctx, "Linux takes one --initrd, got %d", ctx->nr_initrds);
	*gpa = load_place_top(ctx, rd->size, addr_max, floor);
	if (!*gpa)
		return load_fail(ctx, "initrd %s (%zu bytes) does not fit in guest memory (%llu bytes) between the kernel's end 0x%llx and 0x%llx",
				 rd->name, rd->size, (unsigned long long)ctx->mem.size,
				 (unsigned long long)floor,
				 (unsigned long long)(addr_max && addr_max < ctx->mem.size ?
						      addr_max : ctx->mem.size - 1));
	memcpy(ctx->mem.host + *gpa, rd->data, rd->size);
	return 0;
}

static void zero_page_e820(struct load_ctx *ctx, uint8_t *zp)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	int n = e820_build(ctx->mem.size, map);

	memcpy(zp + BP_E820_TABLE, map, n * sizeof(map[0]));
	zp[BP_E820_ENTRIES] = n;
}

/* The zero page, given a setup header already copied in at 0x1f1. */
static int zero_page_finish(struct load_ctx *ctx, uint8_t *zp, uint64_t initrd_gpa)
{
	uint64_t rsdp = acpi_build(&ctx->mem, ctx->nr_vcpus, ctx->nr_virtio_mmio);

	if (!rsdp)
		return load_fail(ctx, "cannot place ACPI tables for %d vCPUs", ctx->nr_vcpus);
	zp[BP_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	wr16(zp, BP_VID_MODE, 0xffff);		/* "normal" */
	wr32(zp, BP_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
	wr32(zp, BP_RAMDISK_IMAGE, initrd_gpa);
	wr32(zp, BP_RAMDISK_SIZE, ctx->nr_initrds ? ctx->initrd[0].size : 0);
	wr64(zp, BP_ACPI_RSDP_ADDR, rsdp);
	zero_page_e820(ctx, zp);
	return 0;
}

static void linux_entry64(struct load_ctx *ctx, uint64_t rip)
{
	struct boot_entry *e = &ctx->entry;

	e->mode = BOOT_LONG64;
	e->sel = linux_sel;
	e->regs.rip = rip;
	e->regs.rsi = BOOT_INFO_ADDR;
	boot_long_mode_tables(&ctx->mem, e->sel);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Where the protected-mode kernel goes: pref_address, or lower if relocatable. */
static int bzimage_place(struct load_ctx *ctx, const uint8_t *h, uint64_t need,
			 uint64_t *load)
{
	uint16_t version = rd16(h, BP_VERSION);
	uint64_t pref = version >= 0x20a ? rd64(h, BP_PREF_ADDRESS) : LAYOUT_HIGH_RAM_START;
	uint32_t align = rd32(h, BP_KERNEL_ALIGNMENT);
	bool relocatable = rd8(h, BP_RELOCATABLE);

	if (pref + need <= ctx->mem.size && pref >= LAYOUT_HIGH_RAM_START) {
		*load = pref;
		return 0;
	}
	if (!relocatable)
		return load_fail(ctx, "the kernel is not relocatable and needs 0x%llx-0x%llx, but guest memory ends at 0x%llx",
				 (unsigned long long)pref, (unsigned long long)(pref + need),
				 (unsigned long long)ctx->mem.size);
	if (!align || align & (align - 1))
		return load_fail(ctx, "kernel_alignment 0x%x is not a power of two", align);
	*load = align_up(LAYOUT_HIGH_RAM_START, align);
	if (*load + need > ctx->mem.size)
		return load_fail(ctx, "the kernel needs 0x%llx bytes from 0x%llx, more than guest memory (0x%llx)",
				 (unsigned long long)need, (unsigned long long)*load,
				 (unsigned long long)ctx->mem.size);
	return 0;
}

static int bzimage_check(struct load_ctx *ctx, const uint8_t *h, size_t size,
			 size_t *setup_size)
{
	unsigned int sects = rd8(h, BP_SETUP_SECTS) ? rd8(h, BP_SETUP_SECTS) : 4;
	uint16_t version = rd16(h, BP_VERSION);
	uint64_t sys;

	if (size < 0x270)
		return load_fail(ctx, "truncated bzImage: %zu bytes, not even a whole setup header", size);
	if (rd16(h, BP_BOOT_FLAG) != BOOT_FLAG_MAGIC)
		return load_fail(ctx, "bad boot_flag 0x%x in the setup header (want 0xaa55)",
				 rd16(h, BP_BOOT_FLAG));
	if (version < 0x20c)
		return load_fail(ctx, "boot protocol %u.%02u is too old: the 64-bit entry needs 2.12 or later",
				 version >> 8, version & 0xff);
	if (!(rd8(h, BP_LOADFLAGS) & LOADED_HIGH))
		return load_fail(ctx, "not a bzImage (loadflags: LOADED_HIGH clear)");
	if (!(rd16(h, BP_XLOADFLAGS) & XLF_KERNEL_64))
		return load_fail(ctx, "the kernel has no 64-bit entry (xloadflags 0x%x)",
				 rd16(h, BP_XLOADFLAGS));
	*setup_size = (sects + 1) * 512;
	sys = (uint64_t)rd32(h, BP_SYSSIZE) * 16;
	if (*setup_size > size || sys > size - *setup_size)
		return load_fail(ctx, "truncated bzImage: %zu bytes, the setup header says %llu",
				 size, (unsigned long long)(*setup_size + sys));
	if (0x202 + (size_t)rd8(h, BP_JUMP + 1) > *setup_size)
		return load_fail(ctx, "setup header runs past the setup code");
	return 0;
}

int load_bzimage(struct load_ctx *ctx)
{
	const uint8_t *h = ctx->image.data;
	size_t setup_size = 0, kernel_size;
	uint64_t load = 0, need, initrd = 0;
	uint8_t *zp;

	if (bzimage_check(ctx, h, ctx->image.size, &setup_size))
		return -1;
	kernel_size = ctx->image.size - setup_size;
	need = rd32(h, BP_INIT_SIZE) > kernel_size ? rd32(h, BP_INIT_SIZE) : kernel_size;
	if (bzimage_place(ctx, h, need, &load) ||
	    load_segment(ctx, "the protected-mode kernel", load, h + setup_size,
			 kernel_size, 0) ||
	    linux_cmdline(ctx, rd32(h, BP_CMDLINE_SIZE) + 1ULL) ||
	    linux_initrd(ctx, rd32(h, BP_INITRD_ADDR_MAX), load + need, &initrd))
		return -1;

	zp = ctx->mem.host + BOOT_INFO_ADDR;
	memset(zp, 0, BOOT_INFO_SIZE);
	memcpy(zp + BP_SETUP_SECTS, h + BP_SETUP_SECTS,
	       0x202 + rd8(h, BP_JUMP + 1) - BP_SETUP_SECTS);
	wr32(zp, BP_CODE32_START, load);
	if (zero_page_finish(ctx, zp, initrd))
		return -1;
	/* The 64-bit entry is 0x200 past the 32-bit one, at the load address. */
	linux_entry64(ctx, load + 0x200);
	return 0;
}

/* A zero page for a vmlinux, which has no setup header of its own. */
static int vmlinux_zero_page(struct load_ctx *ctx, uint64_t initrd)
{
	uint8_t *zp = ctx->mem.host + BOOT_INFO_ADDR;

	memset(zp, 0, BOOT_INFO_SIZE);
	wr16(zp, BP_BOOT_FLAG, BOOT_FLAG_MAGIC);
	memcpy(zp + BP_HEADER, "HdrS", 4);
	wr16(zp, BP_VERSION, 0x20f);
	zp[BP_LOADFLAGS] = LOADED_HIGH;
	return zero_page_finish(ctx, zp, initrd);
}

static int pvh_start_info(struct load_ctx *ctx, uint64_t initrd)
{
	struct hvm_start_info *si = (void *)(ctx->mem.host + BOOT_INFO_ADDR);
	struct hvm_memmap_table_entry *mm = (void *)(ctx->mem.host + BOOT_TABLES_ADDR);
	struct hvm_modlist_entry *mod = (void *)(mm + E820_MAX_ENTRIES);
	struct e820_entry map[E820_MAX_ENTRIES];
	int i, n = e820_build(ctx->mem.size, map);
	uint64_t rsdp = acpi_build(&ctx->mem, ctx->nr_vcpus, ctx->nr_virtio_mmio);

	if (!rsdp)
		return load_fail(ctx, "cannot place ACPI tables for %d vCPUs", ctx->nr_vcpus);
	memset(si, 0, sizeof(*si));
	for (i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ map[i].addr, map[i].size,
							  map[i].type, 0 };
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = BOOT_CMDLINE_ADDR;
	si->rsdp_paddr = rsdp;
	si->memmap_paddr = BOOT_TABLES_ADDR;
	si->memmap_entries = n;
	if (ctx->nr_initrds) {
		*mod = (struct hvm_modlist_entry){ initrd, ctx->initrd[0].size, 0, 0 };
		si->nr_modules = 1;
		si->modlist_paddr = BOOT_TABLES_ADDR + (uint8_t *)mod - (uint8_t *)mm;
	}
	return 0;
}

/* vmlinux's ELF entry is physical (ENTRY(phys_startup_64)). */
int load_vmlinux(struct load_ctx *ctx)
{
	const Elf64_Ehdr *eh = (const void *)ctx->image.data;
	const uint8_t *note;
	uint32_t note_size;
	uint64_t end = 0, initrd = 0;

	if (elf64_load_segments(ctx, &end) || linux_cmdline(ctx, 2048) ||
	    linux_initrd(ctx, 0, align_up(end, 0x1000), &initrd))
		return -1;
	note = elf_find_note(ctx->image.data, ctx->image.size, "Xen",
			     XEN_ELFNOTE_PHYS32_ENTRY, &note_size);
	if (!note) {
		if (eh->e_entry >= ctx->mem.size)
			return load_fail(ctx, "entry point 0x%llx is outside guest memory",
					 (unsigned long long)eh->e_entry);
		if (vmlinux_zero_page(ctx, initrd))
			return -1;
		linux_entry64(ctx, eh->e_entry);
		return 0;
	}
	if (note_size != 4 && note_size != 8)
		return load_fail(ctx, "PVH entry note has %u bytes, want 4 or 8", note_size);
	if (pvh_start_info(ctx, initrd))
		return -1;
	ctx->entry.mode = BOOT_FLAT32;
	ctx->entry.sel = pvh_sel;
	ctx->entry.regs.rip = rd32(note, 0);
	ctx->entry.regs.rbx = BOOT_INFO_ADDR;
	boot_flat32_tables(&ctx->mem, pvh_sel);
	return 0;
}
