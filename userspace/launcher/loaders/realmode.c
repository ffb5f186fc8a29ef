// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: a flat real-mode image (a boot sector) at 0x7c00.
 */
#include <string.h>

#include "../layout.h"
#include "loader.h"

int load_realmode(struct load_ctx *ctx)
{
	struct boot_entry *e = &ctx->entry;
	uint8_t *dst = gmem_ptr(&ctx->mem, REALMODE_LOAD_ADDR, ctx->image.size);

	if (!dst || ctx->image.size > LAYOUT_LOW_RAM_END - REALMODE_LOAD_ADDR)
		return load_fail(ctx, "real-mode image too big (%zu bytes)",
				 ctx->image.size);
	memcpy(dst, ctx->image.data, ctx->image.size);
	e->mode = BOOT_REAL16;
	e->regs.rip = REALMODE_LOAD_ADDR;
	e->regs.rsp = REALMODE_LOAD_ADDR;
	e->regs.rdx = 0x80;	/* boot drive, as a BIOS would pass */
	return 0;
}
