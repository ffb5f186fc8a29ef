// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: image detection and what the loaders share: checked copies into
 * guest memory, the GDT, page tables and initial system registers of each
 * boot mode.
 */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../layout.h"
#include "loader.h"
#include "multiboot.h"

#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

#define GDT_CODE64	0x00af9b000000ffffULL
#define GDT_CODE32	0x00cf9b000000ffffULL
#define GDT_DATA	0x00cf93000000ffffULL

int load_fail(struct load_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ctx->err, sizeof(ctx->err), "%s: ", ctx->image.name);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(ctx->err))
		vsnprintf(ctx->err + n, sizeof(ctx->err) - n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int load_segment(struct load_ctx *ctx, const char *what, uint64_t gpa,
		 const void *src, uint64_t len, uint64_t zero)
{
	uint64_t total = len + zero;
	uint8_t *dst;

	if (total < len || !(dst = gmem_ptr(&ctx->mem, gpa, total)))
		return load_fail(ctx, "%s at 0x%llx+0x%llx lies outside guest RAM (0-0x%llx)",
				 what, (unsigned long long)gpa,
				 (unsigned long long)total,
				 (unsigned long long)ctx->mem.size);
	if (overlaps(gpa, total, LAYOUT_BOOT_DATA_START,
		     ctx->boot_data_end - LAYOUT_BOOT_DATA_START))
		return load_fail(ctx, "%s at 0x%llx+0x%llx overlaps 0x%llx-0x%llx, where lvrun puts boot data",
				 what, (unsigned long long)gpa,
				 (unsigned long long)total,
				 LAYOUT_BOOT_DATA_START,
				 (unsigned long long)ctx->boot_data_end - 1);
	if (ctx->pc_board && overlaps(gpa, total, LAYOUT_LOW_RAM_END,
		     LAYOUT_HIGH_RAM_START - LAYOUT_LOW_RAM_END))
		return load_fail(ctx, "%s at 0x%llx+0x%llx overlaps the PC's hole 0x%llx-0x%llx",
				 what, (unsigned long long)gpa,
				 (unsigned long long)total,
				 LAYOUT_LOW_RAM_END, LAYOUT_HIGH_RAM_START - 1);
	memcpy(dst, src, len);
	memset(dst + len, 0, zero);
	return 0;
}

uint64_t load_place_top(const struct load_ctx *ctx, uint64_t size, uint64_t limit,
			uint64_t floor)
{
	uint64_t top = ctx->mem.size;

	if (limit && limit + 1 < top)
		top = limit + 1;
	if (size > top || ((top - size) & ~0xfffULL) < floor)
		return 0;
	return (top - size) & ~0xfffULL;
}

static void put_u64(struct guest_mem *mem, uint64_t gpa, uint64_t val)
{
	memcpy(mem->host + gpa, &val, sizeof(val));
}

static void put_tss(struct guest_mem *mem, uint16_t sel, bool is64)
{
	uint64_t tss = LM_TSS_ADDR, limit = 0x67;
	uint64_t lo = (limit & 0xffff) | ((tss & 0xffffff) << 16) |
		      (0x8bULL << 40) | (((tss >> 24) & 0xff) << 56);

	put_u64(mem, LM_GDT_ADDR + sel, lo);
	if (is64)
		put_u64(mem, LM_GDT_ADDR + sel + 8, tss >> 32);
	/* An empty I/O bitmap: the I/O map base lies past the limit. */
	memset(mem->host + LM_TSS_ADDR, 0, 0x68);
	mem->host[LM_TSS_ADDR + 0x66] = 0x68;
}

/*
 * Identity map the low 4 GiB with 2 MiB pages: all RAM lvrun accepts (at
 * most 3G) and the MMIO above it.
 */
void boot_long_mode_tables(struct guest_mem *mem, struct boot_selectors sel)
{
	int gb, i;

	memset(mem->host + LM_GDT_ADDR, 0, 0x100);
	put_u64(mem, LM_GDT_ADDR + sel.code, GDT_CODE64);
	put_u64(mem, LM_GDT_ADDR + sel.data, GDT_DATA);
	put_tss(mem, sel.tss, true);

	memset(mem->host + LM_PML4_ADDR, 0, 0x1000);
	put_u64(mem, LM_PML4_ADDR, LM_PDPT_ADDR | PTE_P | PTE_RW);
	for (gb = 0; gb < 4; gb++) {
		uint64_t pd = LM_PD_ADDR + gb * 0x1000ULL;

		put_u64(mem, LM_PDPT_ADDR + gb * 8, pd | PTE_P | PTE_RW);
		for (i = 0; i < 512; i++)
			put_u64(mem, pd + i * 8,
				(((uint64_t)gb << 30) + ((uint64_t)i << 21)) |
				PTE_P | PTE_RW | PTE_PS);
	}
}

void boot_flat32_tables(struct guest_mem *mem, struct boot_selectors sel)
{
	memset(mem->host + LM_GDT_ADDR, 0, 0x100);
	put_u64(mem, LM_GDT_ADDR + sel.code, GDT_CODE32);
	put_u64(mem, LM_GDT_ADDR + sel.data, GDT_DATA);
	put_tss(mem, sel.tss, false);
}

static void set_seg(struct lv_segment *seg, uint16_t sel, uint64_t base,
		    uint32_t limit, uint8_t type, uint8_t s)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = sel;
	seg->base = base;
	seg->limit = limit;
	seg->type = type;
	seg->s = s;
	seg->present = 1;
}

static void sregs_real(struct lv_sregs *s)
{
	set_seg(&s->cs, 0, 0, 0xffff, 0xb, 1);
	set_seg(&s->ds, 0, 0, 0xffff, 0x3, 1);
	set_seg(&s->tr, 0, 0, 0xffff, 0xb, 0);
	set_seg(&s->ldt, 0, 0, 0xffff, 0x2, 0);
	s->gdt = (struct lv_dtable){ .base = 0, .limit = 0xffff };
	s->idt = (struct lv_dtable){ .base = 0, .limit = 0x3ff };
	s->cr0 = CR0_ET;
	s->cr3 = 0;
	s->cr4 = 0;
	s->efer = 0;
}

static void sregs_flat(struct lv_sregs *s, struct boot_selectors sel, bool is64)
{
	set_seg(&s->cs, sel.code, 0, 0xffffffff, 0xb, 1);
	s->cs.g = 1;
	s->cs.l = is64;
	s->cs.db = !is64;
	set_seg(&s->ds, sel.data, 0, 0xffffffff, 0x3, 1);
	s->ds.db = 1;
	s->ds.g = 1;
	set_seg(&s->tr, sel.tss, LM_TSS_ADDR, 0x67, 0xb, 0);
	memset(&s->ldt, 0, sizeof(s->ldt));
	s->ldt.unusable = 1;
	s->gdt = (struct lv_dtable){ .base = LM_GDT_ADDR,
				     .limit = (uint16_t)(sel.tss + (is64 ? 15 : 7)) };
	s->idt = (struct lv_dtable){ .base = 0, .limit = 0 };
	if (is64) {
		s->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
		s->cr3 = LM_PML4_ADDR;
		s->cr4 = CR4_PAE;
		s->efer = EFER_LME | EFER_LMA;
	} else {
		s->cr0 = CR0_PE | CR0_ET;
		s->cr3 = 0;
		s->cr4 = 0;
		s->efer = 0;
	}
}

void boot_sregs(const struct boot_entry *entry, struct lv_sregs *s)
{
	if (entry->mode == BOOT_REAL16)
		sregs_real(s);
	else
		sregs_flat(s, entry->sel, entry->mode == BOOT_LONG64);
	s->es = s->ds;
	s->fs = s->ds;
	s->gs = s->ds;
	s->ss = s->ds;
	s->cr2 = 0;
	s->cr8 = 0;
}

static bool is_bzimage(const uint8_t *d, size_t size)
{
	return size >= 0x206 && !memcmp(d + 0x202, "HdrS", 4);
}

/* A Linux vmlinux: linked in the high half (vaddr != paddr), or a PVH note. */
static bool is_vmlinux(const uint8_t *d, size_t size)
{
	const Elf64_Ehdr *eh = (const void *)d;
	uint32_t n;
	int i;

	if (size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff)
		return false;
	if (elf_find_note(d, size, "Xen", 18, &n))
		return true;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(d + eh->e_phoff + i * sizeof(*ph));

		if (ph->p_type == PT_LOAD && ph->p_vaddr != ph->p_paddr)
			return true;
	}
	return false;
}

enum image_kind image_detect(const uint8_t *d, size_t size)
{
	if (is_bzimage(d, size))
		return IMAGE_BZIMAGE;
	if (size >= SELFMAG && !memcmp(d, ELFMAG, SELFMAG) && size > EI_CLASS) {
		if (d[EI_CLASS] == ELFCLASS32)
			return IMAGE_MULTIBOOT;
		return is_vmlinux(d, size) ? IMAGE_VMLINUX : IMAGE_ELF64;
	}
	if (multiboot_find_header(d, size) >= 0)
		return IMAGE_MULTIBOOT;
	return IMAGE_REALMODE;
}

const char *image_kind_name(enum image_kind kind)
{
	static const char *const names[] = {
		[IMAGE_REALMODE] = "real-mode", [IMAGE_ELF64] = "ELF64",
		[IMAGE_BZIMAGE] = "bzImage", [IMAGE_VMLINUX] = "vmlinux",
		[IMAGE_MULTIBOOT] = "multiboot",
	};

	return names[kind];
}

uint64_t image_default_mem(enum image_kind kind)
{
	switch (kind) {
	case IMAGE_REALMODE:
		return 2ULL << 20;
	case IMAGE_ELF64:
		return 16ULL << 20;
	case IMAGE_MULTIBOOT:
		return 128ULL << 20;
	default:
		return 256ULL << 20;
	}
}

int load_image(struct load_ctx *ctx, enum image_kind kind)
{
	memset(&ctx->entry, 0, sizeof(ctx->entry));
	ctx->entry.regs.rflags = 2;
	ctx->pc_board = kind != IMAGE_ELF64 && kind != IMAGE_REALMODE;
	ctx->boot_data_end = ctx->pc_board ? LAYOUT_BOOT_DATA_END : LM_RESERVED_END;
	switch (kind) {
	case IMAGE_REALMODE:
		return load_realmode(ctx);
	case IMAGE_ELF64:
		return load_elf64(ctx);
	case IMAGE_BZIMAGE:
		return load_bzimage(ctx);
	case IMAGE_VMLINUX:
		return load_vmlinux(ctx);
	case IMAGE_MULTIBOOT:
		return load_multiboot(ctx);
	}
	return load_fail(ctx, "unknown image kind");
}

const void *elf_find_note(const uint8_t *d, size_t size, const char *name,
			  uint32_t type, uint32_t *desc_size)
{
	const Elf64_Ehdr *eh = (const void *)d;
	size_t namelen = strlen(name) + 1;
	int i;

	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(d + eh->e_phoff + i * sizeof(*ph));
		uint64_t off, end;

		if (ph->p_type != PT_NOTE || ph->p_offset > size ||
		    ph->p_filesz > size - ph->p_offset)
			continue;
		off = ph->p_offset;
		end = off + ph->p_filesz;
		while (end - off >= sizeof(Elf64_Nhdr)) {
			const Elf64_Nhdr *nh = (const void *)(d + off);
			uint64_t name_off = off + sizeof(*nh);
			uint64_t desc_off = name_off + ((nh->n_namesz + 3ULL) & ~3ULL);
			uint64_t next = desc_off + ((nh->n_descsz + 3ULL) & ~3ULL);

			if (next > end)
				break;
			if (nh->n_type == type && nh->n_namesz == namelen &&
			    !memcmp(d + name_off, name, namelen)) {
				*desc_size = nh->n_descsz;
				return d + desc_off;
			}
			off = next;
		}
	}
	return NULL;
}
