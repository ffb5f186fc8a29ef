// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: its own 64-bit ELF guests (see --help): PT_LOAD segments at their
 * physical addresses, every vCPU entering at e_entry in long mode.
 */
#include <elf.h>
#include <stdio.h>

#include "../layout.h"
#include "loader.h"

/* Checks the header and program header table of an ELF64 image. */
static int elf64_check(struct load_ctx *ctx, const Elf64_Ehdr **ehp)
{
	const Elf64_Ehdr *eh = (const void *)ctx->image.data;
	size_t size = ctx->image.size;

	if (size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		return load_fail(ctx, "not a little-endian x86-64 ELF64 image");
	if (eh->e_type != ET_EXEC)
		return load_fail(ctx, "not an ELF executable (position-independent images are not supported)");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff)
		return load_fail(ctx, "bad program header table");
	*ehp = eh;
	return 0;
}

/* Loads every PT_LOAD segment at p_paddr; bss (p_memsz > p_filesz) zeroed. */
int elf64_load_segments(struct load_ctx *ctx, uint64_t *end)
{
	const Elf64_Ehdr *eh = NULL;
	char what[32];
	int i;

	if (elf64_check(ctx, &eh))
		return -1;
	*end = 0;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(ctx->image.data + eh->e_phoff +
						      i * sizeof(Elf64_Phdr));

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > ctx->image.size ||
		    ph->p_filesz > ctx->image.size - ph->p_offset)
			return load_fail(ctx, "segment %d lies outside the file", i);
		snprintf(what, sizeof(what), "segment %d", i);
		if (load_segment(ctx, what, ph->p_paddr, ctx->image.data + ph->p_offset,
				 ph->p_filesz, ph->p_memsz - ph->p_filesz))
			return -1;
		if (ph->p_paddr + ph->p_memsz > *end)
			*end = ph->p_paddr + ph->p_memsz;
	}
	return 0;
}

int load_elf64(struct load_ctx *ctx)
{
	const Elf64_Ehdr *eh = (const void *)ctx->image.data;
	struct boot_entry *e = &ctx->entry;
	uint64_t end = 0;

	if (ctx->mem.size < LM_RESERVED_END + ctx->nr_vcpus * LM_STACK_PER_VCPU)
		return load_fail(ctx, "--mem too small for %d vCPU stacks", ctx->nr_vcpus);
	if (elf64_load_segments(ctx, &end))
		return -1;
	if (eh->e_entry >= ctx->mem.size)
		return load_fail(ctx, "entry point 0x%llx is outside guest memory",
				 (unsigned long long)eh->e_entry);
	e->mode = BOOT_LONG64;
	e->sel = (struct boot_selectors){ .code = 0x08, .data = 0x10, .tss = 0x18 };
	e->regs.rip = eh->e_entry;
	e->regs.rsp = ctx->mem.size;	/* vCPU n: minus n * LM_STACK_PER_VCPU */
	e->all_vcpus_at_entry = true;
	boot_long_mode_tables(&ctx->mem, e->sel);
	return 0;
}
