// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: QEMU's isa-debug-exit device at port 0xf4.
 *
 * Writing V (of any size) ends lvrun with exit status (V << 1) | 1, as
 * QEMU does, so the same test guests can run under both. Status 0 can thus
 * never come from this device, which keeps it for a clean halt.
 */
#include <stdio.h>

#include "lvrun.h"

bool debug_exit_io(uint16_t port, bool is_write, unsigned int size, uint32_t *val)
{
	if (port != DEBUG_EXIT_PORT)
		return false;
	if (!is_write) {
		*val = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
		return true;
	}
	trace("debug-exit: guest wrote 0x%x, exit status %u", *val,
	      ((*val << 1) | 1) & 0xff);
	lvrun_finish((int)((*val << 1) | 1));
}
