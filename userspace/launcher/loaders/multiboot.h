/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the multiboot v1 header and information structures (the
 * Multiboot Specification 0.6.96).
 */
#ifndef LVRUN_MULTIBOOT_H
#define LVRUN_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#define MB_HEADER_MAGIC		0x1badb002
#define MB_BOOTLOADER_MAGIC	0x2badb002
#define MB_SEARCH_LEN		8192

#define MB_FLAG_PAGE_ALIGN	(1 << 0)
#define MB_FLAG_MEMORY_INFO	(1 << 1)
#define MB_FLAG_VIDEO_MODE	(1 << 2)
#define MB_FLAG_AOUT_KLUDGE	(1 << 16)

#define MB_INFO_MEMORY		(1 << 0)
#define MB_INFO_CMDLINE		(1 << 2)
#define MB_INFO_MODS		(1 << 3)
#define MB_INFO_MMAP		(1 << 6)
#define MB_INFO_LOADER_NAME	(1 << 9)

struct mb_header {
	uint32_t magic, flags, checksum;
	/* MB_FLAG_AOUT_KLUDGE: */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} __attribute__((packed));

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;	/* KiB below 640K / from 1M */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe[6];
} __attribute__((packed));

struct mb_module {
	uint32_t mod_start, mod_end;
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

/* @size does not count itself. */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

/* The header's offset in the image, or -1 if it has none (magic only checked). */
static inline long multiboot_find_header(const uint8_t *d, size_t size)
{
	size_t off, end = size < MB_SEARCH_LEN ? size : MB_SEARCH_LEN;

	for (off = 0; off + 12 <= end; off += 4) {
		uint32_t magic;

		__builtin_memcpy(&magic, d + off, 4);
		if (magic == MB_HEADER_MAGIC)
			return off;
	}
	return -1;
}

#endif /* LVRUN_MULTIBOOT_H */
