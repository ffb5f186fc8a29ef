/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the firmware side of the PC board: the e820 memory map and the
 * ACPI tables. Pure functions over guest memory, like the loaders.
 */
#ifndef LVRUN_BOARD_H
#define LVRUN_BOARD_H

#include <stdint.h>

#include "../loaders/loader.h"

#define E820_RAM		1
#define E820_RESERVED		2
#define E820_MAX_ENTRIES	8

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* The map of a PC with @mem_size bytes of RAM from 0; returns the entry count. */
int e820_build(uint64_t mem_size, struct e820_entry *map);

/*
 * Writes RSDP, XSDT, MADT (@nr_cpus local APICs, the I/O APIC, ISA
 * overrides), a hardware-reduced FADT and a DSDT (_S5, pvpanic, COM1, the
 * RTC, and the @nr_virtio virtio-mmio devices of the first slots) at
 * ACPI_TABLES_ADDR; returns the RSDP's address, or 0 if they do not fit.
 */
uint64_t acpi_build(struct guest_mem *mem, int nr_cpus, int nr_virtio);

#endif /* LVRUN_BOARD_H */
