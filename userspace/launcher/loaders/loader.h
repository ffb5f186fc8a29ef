/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: image loaders. Pure functions over a buffer of guest memory: no
 * hypervisor, no globals, so host-side tests (loader_test.c) drive them
 * directly. A loader never writes outside guest memory: every address it
 * writes to is checked first, and a bad image gets a message in ctx->err
 * and -1.
 */
#ifndef LVRUN_LOADER_H
#define LVRUN_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/lightvisor.h>

#define LOADER_MAX_FILES	16

struct guest_mem {
	uint8_t *host;
	uint64_t size;
};

/* A pointer to [gpa, gpa + len) in guest memory, or NULL if not all RAM. */
static inline void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->host + gpa;
}

struct blob {
	const char *name;
	const uint8_t *data;
	size_t size;
};

enum image_kind {
	IMAGE_REALMODE,		/* flat boot sector at 0x7c00 */
	IMAGE_ELF64,		/* lvrun's own 64-bit ELF guests */
	IMAGE_BZIMAGE,		/* Linux, 64-bit boot protocol */
	IMAGE_VMLINUX,		/* Linux ELF, PVH or 64-bit entry */
	IMAGE_MULTIBOOT,	/* multiboot v1 */
};

enum boot_mode {
	BOOT_REAL16,		/* CS:IP 0:entry */
	BOOT_FLAT32,		/* protected mode, paging off, flat segments */
	BOOT_LONG64,		/* long mode, low 4 GiB identity mapped */
};

/* The GDT selectors lvrun builds for a mode (0: not used). */
struct boot_selectors {
	uint16_t code, data, tss;
};

struct boot_entry {
	enum boot_mode mode;
	struct boot_selectors sel;
	struct lv_regs regs;	/* the boot vCPU's */
	/*
	 * lvrun ELF64 guests: every vCPU starts at the entry (RDI = index,
	 * its own stack). Otherwise only vCPU 0 does; the others wait for
	 * INIT-SIPI (or are parked if nothing can send it).
	 */
	bool all_vcpus_at_entry;
};

struct load_ctx {
	/* In. */
	struct guest_mem mem;
	struct blob image;
	const char *cmdline;		/* NULL: empty */
	struct blob initrd[LOADER_MAX_FILES];
	int nr_initrds;
	int nr_vcpus;
	int nr_virtio_mmio;		/* devices in the first virtio-mmio slots */
	/*
	 * Set by the loader: the end of what lvrun writes from 0x1000 on, and
	 * whether the image must also stay out of the PC's hole below 1 MiB
	 * (kernels; lvrun's own ELF64 guests only avoid 0x1000-0x7fff).
	 */
	uint64_t boot_data_end;
	bool pc_board;
	/* Out. */
	struct boot_entry entry;
	char err[256];
};

enum image_kind image_detect(const uint8_t *data, size_t size);
const char *image_kind_name(enum image_kind kind);
uint64_t image_default_mem(enum image_kind kind);

/* Each returns 0, or -1 with ctx->err set. */
int load_image(struct load_ctx *ctx, enum image_kind kind);
int load_realmode(struct load_ctx *ctx);
int load_elf64(struct load_ctx *ctx);
int load_bzimage(struct load_ctx *ctx);
int load_vmlinux(struct load_ctx *ctx);
int load_multiboot(struct load_ctx *ctx);

/* loader.c: helpers shared by the loaders. */
int load_fail(struct load_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Copies @len bytes (and zeroes @zero more) at @gpa, refusing boot data and non-RAM. */
int load_segment(struct load_ctx *ctx, const char *what, uint64_t gpa,
		 const void *src, uint64_t len, uint64_t zero);
void boot_long_mode_tables(struct guest_mem *mem, struct boot_selectors sel);
void boot_flat32_tables(struct guest_mem *mem, struct boot_selectors sel);
/* The system registers for ctx->entry's mode (apic_base kept from @sregs). */
void boot_sregs(const struct boot_entry *entry, struct lv_sregs *sregs);
/* The highest page-aligned address where @size bytes fit below @limit and the top of RAM. */
uint64_t load_place_top(const struct load_ctx *ctx, uint64_t size, uint64_t limit,
			uint64_t floor);

/* elf64.c: PT_LOAD segments at p_paddr; @end: the highest address loaded. */
int elf64_load_segments(struct load_ctx *ctx, uint64_t *end);

/* ELF notes: returns the descriptor of note (@name, @type), or NULL. */
const void *elf_find_note(const uint8_t *data, size_t size, const char *name,
			  uint32_t type, uint32_t *desc_size);

#endif /* LVRUN_LOADER_H */
