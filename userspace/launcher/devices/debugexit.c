// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: QEMU's isa-debug-exit device at port 0xf4.
 *
 * Writing V (of any size) ends lvrun with exit status (V << 1) | 1, as
 * QEMU does, so the same test guests can run under both. Status 0 can thus
 * never come from this device, which keeps it for a clean halt.
 */
#include <string.h>

#include "../layout.h"
#include "../log.h"
#include "devices.h"

static void debug_exit_access(void *dev, uint64_t off, bool is_write,
			      uint8_t *data, unsigned int len)
{
	uint32_t v = 0;

	(void)dev;
	(void)off;
	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	memcpy(&v, data, len);
	trace("debug-exit: guest wrote 0x%x, exit status %u", v, ((v << 1) | 1) & 0xff);
	lvrun_exit((int)((v << 1) | 1));
}

void debug_exit_init(struct debug_exit *d, struct bus *pio)
{
	if (bus_register(pio, PORT_DEBUG_EXIT, 1, "isa-debug-exit",
			 debug_exit_access, d))
		die("cannot register isa-debug-exit");
}
