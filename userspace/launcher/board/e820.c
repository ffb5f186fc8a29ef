// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the e820 map of a PC. Guest memory is one slot from 0, but a PC
 * has holes below 1 MiB that software expects: the EBDA at 0x9fc00, VGA
 * memory at 0xa0000, option ROMs and the BIOS up to 1 MiB. lvrun's ACPI
 * tables live in that last part, so it is reserved.
 */
#include "../layout.h"
#include "board.h"

int e820_build(uint64_t mem_size, struct e820_entry *map)
{
	int n = 0;

	map[n++] = (struct e820_entry){ 0, LAYOUT_LOW_RAM_END, E820_RAM };
	map[n++] = (struct e820_entry){ LAYOUT_LOW_RAM_END,
					0xa0000 - LAYOUT_LOW_RAM_END, E820_RESERVED };
	map[n++] = (struct e820_entry){ ACPI_TABLES_ADDR,
					LAYOUT_HIGH_RAM_START - ACPI_TABLES_ADDR,
					E820_RESERVED };
	if (mem_size > LAYOUT_HIGH_RAM_START)
		map[n++] = (struct e820_entry){ LAYOUT_HIGH_RAM_START,
						mem_size - LAYOUT_HIGH_RAM_START,
						E820_RAM };
	return n;
}
