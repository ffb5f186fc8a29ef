// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: multiboot v1 kernels, loaded as QEMU's -kernel loads them: by the
 * header's address fields if it has them (the "a.out kludge"), otherwise
 * as an ELF32 image (PT_LOAD segments at p_paddr, bss zeroed). The kernel
 * enters in 32-bit protected mode with paging off, EAX = 0x2badb002 and
 * EBX = the information structure at BOOT_INFO_ADDR. Each --initrd is one
 * module, page aligned after the kernel, with its file name as its string.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "../board/board.h"
#include "../layout.h"
#include "loader.h"
#include "multiboot.h"

static const struct boot_selectors mb_sel = { .code = 0x08, .data = 0x10, .tss = 0x18 };

static int mb_load_kludge(struct load_ctx *ctx, const struct mb_header *mh,
			  long hdr_off, uint64_t *end, uint64_t *entry)
{
	uint64_t delta = (uint64_t)mh->header_addr - mh->load_addr;
	uint64_t file_off, load_end, len, bss;

	if (mh->load_addr > mh->header_addr || delta > (uint64_t)hdr_off)
		return load_fail(ctx, "multiboot header: load_addr 0x%x is not at or before header_addr 0x%x within the file",
				 mh->load_addr, mh->header_addr);
	file_off = hdr_off - delta;
	load_end = mh->load_end_addr ? mh->load_end_addr :
		   mh->load_addr + (ctx->image.size - file_off);
	if (load_end < mh->load_addr || load_end - mh->load_addr > ctx->image.size - file_off)
		return load_fail(ctx, "multiboot header: load_end_addr 0x%x lies past the end of the file",
				 mh->load_end_addr);
	len = load_end - mh->load_addr;
	bss = 0;
	if (mh->bss_end_addr) {
		if (mh->bss_end_addr < load_end)
			return load_fail(ctx, "multiboot header: bss_end_addr 0x%x is below load_end_addr 0x%llx",
					 mh->bss_end_addr, (unsigned long long)load_end);
		bss = mh->bss_end_addr - load_end;
	}
	if (load_segment(ctx, "the multiboot kernel", mh->load_addr,
			 ctx->image.data + file_off, len, bss))
		return -1;
	*end = load_end + bss;
	*entry = mh->entry_addr;
	return 0;
}

static int mb_load_elf32(struct load_ctx *ctx, uint64_t *end, uint64_t *entry)
{
	const Elf32_Ehdr *eh = (const void *)ctx->image.data;
	size_t size = ctx->image.size;
	char what[32];
	int i;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS32)
		return load_fail(ctx, "multiboot kernel without address fields (flag 16) must be ELF32");
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_386)
		return load_fail(ctx, "not a little-endian i386 ELF32 image");
	if (eh->e_phentsize != sizeof(Elf32_Phdr) || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > size - eh->e_phoff)
		return load_fail(ctx, "bad program header table");
	*end = 0;
	*entry = eh->e_entry;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf32_Phdr *ph = (const void *)(ctx->image.data + eh->e_phoff +
						      i * sizeof(*ph));

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > size ||
		    ph->p_filesz > size - ph->p_offset)
			return load_fail(ctx, "segment %d lies outside the file", i);
		snprintf(what, sizeof(what), "segment %d", i);
		if (load_segment(ctx, what, ph->p_paddr, ctx->image.data + ph->p_offset,
				 ph->p_filesz, ph->p_memsz - ph->p_filesz))
			return -1;
		if ((uint64_t)ph->p_paddr + ph->p_memsz > *end)
			*end = (uint64_t)ph->p_paddr + ph->p_memsz;
		/* A virtual entry point: translate it as QEMU does. */
		if (eh->e_entry >= ph->p_vaddr && eh->e_entry - ph->p_vaddr < ph->p_memsz)
			*entry = eh->e_entry - ph->p_vaddr + ph->p_paddr;
	}
	if (!*end)
		return load_fail(ctx, "no PT_LOAD segment");
	return 0;
}

/* Strings go into BOOT_STRINGS_ADDR; returns the guest address or 0. */
static uint32_t mb_string(struct load_ctx *ctx, uint64_t *next, const char *s)
{
	size_t len = strlen(s) + 1;
	uint64_t gpa = *next;

	if (gpa + len > BOOT_STRINGS_ADDR + BOOT_STRINGS_SIZE)
		return 0;
	memcpy(ctx->mem.host + gpa, s, len);
	*next += len;
	return gpa;
}

static int mb_modules(struct load_ctx *ctx, struct mb_info *mi, uint64_t kernel_end)
{
	struct mb_module *mods = (void *)(ctx->mem.host + BOOT_TABLES_ADDR);
	uint64_t at = (kernel_end + 0xfff) & ~0xfffULL;
	uint64_t strings = BOOT_STRINGS_ADDR;
	int i;

	for (i = 0; i < ctx->nr_initrds; i++) {
		const struct blob *m = &ctx->initrd[i];
		uint8_t *dst = gmem_ptr(&ctx->mem, at, m->size);

		if (!dst || at + m->size > LAYOUT_MAX_RAM)
			return load_fail(ctx, "module %s (%zu bytes) does not fit in guest memory (%llu bytes) after the kernel",
					 m->name, m->size, (unsigned long long)ctx->mem.size);
		memcpy(dst, m->data, m->size);
		mods[i].mod_start = at;
		mods[i].mod_end = at + m->size;
		mods[i].string = mb_string(ctx, &strings, m->name);
		mods[i].reserved = 0;
		if (!mods[i].string)
			return load_fail(ctx, "module names too long");
		at = (at + m->size + 0xfff) & ~0xfffULL;
	}
	mi->mods_count = ctx->nr_initrds;
	mi->mods_addr = BOOT_TABLES_ADDR;
	mi->cmdline = mb_string(ctx, &strings, ctx->cmdline ? ctx->cmdline : "");
	mi->boot_loader_name = mb_string(ctx, &strings, "lvrun");
	if (!mi->cmdline || !mi->boot_loader_name)
		return load_fail(ctx, "--cmdline too long for multiboot (at most %llu bytes with the module names)",
				 BOOT_STRINGS_SIZE - 8);
	return 0;
}

static void mb_mmap(struct load_ctx *ctx, struct mb_info *mi)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	uint64_t mmap_gpa = BOOT_TABLES_ADDR + LOADER_MAX_FILES * sizeof(struct mb_module);
	struct mb_mmap_entry *e = (void *)(ctx->mem.host + mmap_gpa);
	uint64_t top = ctx->mem.size < (4ULL << 30) ? ctx->mem.size : (4ULL << 30);
	int i, n = e820_build(ctx->mem.size, map);

	for (i = 0; i < n; i++)
		e[i] = (struct mb_mmap_entry){ sizeof(e[i]) - 4, map[i].addr,
					       map[i].size, map[i].type };
	mi->mmap_addr = mmap_gpa;
	mi->mmap_length = n * sizeof(e[0]);
	mi->mem_lower = LAYOUT_LOW_RAM_END >> 10;
	mi->mem_upper = top > LAYOUT_HIGH_RAM_START ? (top - LAYOUT_HIGH_RAM_START) >> 10 : 0;
}

static int mb_header_check(struct load_ctx *ctx, const struct mb_header **mhp,
			   long *offp)
{
	long off = multiboot_find_header(ctx->image.data, ctx->image.size);
	const struct mb_header *mh;
	uint32_t unknown;

	if (off < 0)
		return load_fail(ctx, "no multiboot header in the first %d bytes (lvrun runs ELF32 images only as multiboot kernels)",
				 MB_SEARCH_LEN);
	mh = (const void *)(ctx->image.data + off);
	if ((uint32_t)(mh->magic + mh->flags + mh->checksum) != 0)
		return load_fail(ctx, "multiboot header at offset 0x%lx: bad checksum 0x%x (magic + flags + checksum must be 0)",
				 off, mh->checksum);
	unknown = mh->flags & 0xffff & ~(MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO |
					  MB_FLAG_VIDEO_MODE);
	if (unknown)
		return load_fail(ctx, "multiboot header asks for features lvrun does not have (flags 0x%x)",
				 unknown);
	if (mh->flags & MB_FLAG_AOUT_KLUDGE &&
	    ctx->image.size - off < sizeof(*mh))
		return load_fail(ctx, "multiboot header truncated");
	*mhp = mh;
	*offp = off;
	return 0;
}

int load_multiboot(struct load_ctx *ctx)
{
	const struct mb_header *mh = NULL;
	struct boot_entry *e = &ctx->entry;
	struct mb_info *mi = (void *)(ctx->mem.host + BOOT_INFO_ADDR);
	uint64_t end = 0, entry = 0;
	long off = 0;
	int ret;

	if (mb_header_check(ctx, &mh, &off))
		return -1;
	if (mh->flags & MB_FLAG_AOUT_KLUDGE)
		ret = mb_load_kludge(ctx, mh, off, &end, &entry);
	else
		ret = mb_load_elf32(ctx, &end, &entry);
	if (ret)
		return -1;
	if (entry >= ctx->mem.size)
		return load_fail(ctx, "entry point 0x%llx is outside guest memory",
				 (unsigned long long)entry);
	memset(mi, 0, sizeof(*mi));
	if (mb_modules(ctx, mi, end))
		return -1;
	mb_mmap(ctx, mi);
	mi->flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP |
		    MB_INFO_LOADER_NAME;
	if (!acpi_build(&ctx->mem, ctx->nr_vcpus, ctx->nr_virtio_mmio))
		return load_fail(ctx, "cannot place ACPI tables for %d vCPUs", ctx->nr_vcpus);

	e->mode = BOOT_FLAT32;
	e->sel = mb_sel;
	e->regs.rip = entry;
	e->regs.rax = MB_BOOTLOADER_MAGIC;
	e->regs.rbx = BOOT_INFO_ADDR;
	boot_flat32_tables(&ctx->mem, mb_sel);
	return 0;
}
