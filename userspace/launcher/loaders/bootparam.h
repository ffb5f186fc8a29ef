/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: offsets in Linux's boot_params (the "zero page") and its setup
 * header, from Documentation/arch/x86/boot.rst and zero-page.rst. Offsets
 * are from the start of the zero page, which are also the offsets of the
 * setup header in a bzImage file.
 */
#ifndef LVRUN_BOOTPARAM_H
#define LVRUN_BOOTPARAM_H

#define BP_ACPI_RSDP_ADDR	0x070	/* u64 */
#define BP_E820_ENTRIES		0x1e8	/* u8 */
#define BP_SETUP_SECTS		0x1f1	/* u8; 0 means 4 */
#define BP_SYSSIZE		0x1f4	/* u32, 16-byte units */
#define BP_VID_MODE		0x1fa	/* u16 */
#define BP_BOOT_FLAG		0x1fe	/* u16, 0xaa55 */
#define BP_JUMP			0x200	/* u16; byte 0x201 + 0x202 ends the header */
#define BP_HEADER		0x202	/* "HdrS" */
#define BP_VERSION		0x206	/* u16 */
#define BP_TYPE_OF_LOADER	0x210	/* u8 */
#define BP_LOADFLAGS		0x211	/* u8 */
#define BP_CODE32_START		0x214	/* u32 */
#define BP_RAMDISK_IMAGE	0x218	/* u32 */
#define BP_RAMDISK_SIZE		0x21c	/* u32 */
#define BP_CMD_LINE_PTR		0x228	/* u32 */
#define BP_INITRD_ADDR_MAX	0x22c	/* u32 */
#define BP_KERNEL_ALIGNMENT	0x230	/* u32 */
#define BP_RELOCATABLE		0x234	/* u8 */
#define BP_XLOADFLAGS		0x236	/* u16 */
#define BP_CMDLINE_SIZE		0x238	/* u32 */
#define BP_PREF_ADDRESS		0x258	/* u64 */
#define BP_INIT_SIZE		0x260	/* u32 */
#define BP_E820_TABLE		0x2d0	/* 128 entries of 20 bytes */
#define BP_E820_MAX		128

#define LOADED_HIGH		(1 << 0)
#define XLF_KERNEL_64		(1 << 0)
#define BOOT_FLAG_MAGIC		0xaa55
#define LOADER_TYPE_UNDEFINED	0xff

/* hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h), version 1. */
#define HVM_START_MAGIC		0x336ec578
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
} __attribute__((packed));

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
} __attribute__((packed));

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
} __attribute__((packed));

#endif /* LVRUN_BOOTPARAM_H */
