/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the board's map, in one place. Every guest-physical address lvrun
 * writes to, every port and MMIO range a device claims and every interrupt
 * line it raises is defined here and nowhere else.
 */
#ifndef LVRUN_LAYOUT_H
#define LVRUN_LAYOUT_H

/* --- Guest-physical memory ------------------------------------------- */

/* Boot data lvrun writes (never overlapped by an image: loaders check). */
#define LAYOUT_BOOT_DATA_START	0x1000ULL
#define LM_GDT_ADDR		0x1000ULL
#define LM_TSS_ADDR		0x1800ULL
#define LM_PML4_ADDR		0x2000ULL
#define LM_PDPT_ADDR		0x3000ULL
#define LM_PD_ADDR		0x4000ULL	/* four pages: the low 4 GiB */
#define LM_RESERVED_END		0x8000ULL	/* end of what ELF64 guests avoid */
#define BOOT_INFO_ADDR		0x8000ULL	/* zero page / hvm_start_info / multiboot info */
#define BOOT_INFO_SIZE		0x1000ULL
#define BOOT_TABLES_ADDR	0x9000ULL	/* memory maps, module lists */
#define BOOT_TABLES_SIZE	0x3000ULL
#define BOOT_STRINGS_ADDR	0xc000ULL	/* multiboot module strings */
#define BOOT_STRINGS_SIZE	0x4000ULL
#define BOOT_CMDLINE_ADDR	0x20000ULL	/* as QEMU and the boot protocol suggest */
#define BOOT_CMDLINE_MAX	0x10000ULL
#define LAYOUT_BOOT_DATA_END	0x30000ULL

#define REALMODE_LOAD_ADDR	0x7c00ULL
#define LM_STACK_PER_VCPU	0x10000ULL

/* The PC's holes below 1 MiB: EBDA, VGA, option ROMs and the BIOS. */
#define LAYOUT_LOW_RAM_END	0x9fc00ULL
#define LAYOUT_HIGH_RAM_START	0x100000ULL
#define ACPI_TABLES_ADDR	0xe0000ULL	/* RSDP first: found by a scan too */
#define ACPI_TABLES_SIZE	0x10000ULL

/* Where a relocatable Linux goes when pref_address does not fit. */
#define LINUX_MIN_LOAD_ADDR	0x1000000ULL

/* Above RAM (at most 3 GiB): */
#define MMIO_TESTDEV_BASE	0xfe000000ULL
#define MMIO_TESTDEV_SIZE	0x1000ULL
/*
 * virtio-mmio: VIRTIO_MMIO_SLOTS slots of one page each, taken by the
 * devices in creation order (--disk in order, then --console virtio).
 * Every slot in the window decodes: an empty one reads as a device with
 * DeviceID 0, which drivers skip.
 */
#define VIRTIO_MMIO_BASE	0xfe800000ULL
#define VIRTIO_MMIO_SLOT_SIZE	0x1000ULL
#define VIRTIO_MMIO_SLOTS	6
#define IOAPIC_BASE		0xfec00000ULL
#define LAPIC_BASE		0xfee00000ULL
/* KVM's real-mode TSS (three pages) and identity-map page: not RAM. */
#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL

#define LAYOUT_MAX_RAM		(3ULL << 30)

/* --- Ports ------------------------------------------------------------ */

#define PORT_PIC1		0x20	/* 2 ports */
#define PORT_PIT		0x40	/* 4 ports */
#define PORT_KBD_DATA		0x60
#define PORT_SYSCTL_B		0x61	/* speaker, PIT channel 2 gate */
#define PORT_KBD_CMD		0x64
#define PORT_RTC		0x70	/* 2 ports */
#define PORT_POST		0x80
#define PORT_SYSCTL_A		0x92	/* fast A20 and fast reset */
#define PORT_PIC2		0xa0	/* 2 ports */
#define PORT_DMA_PAGE_LOW	0x81	/* 0x81-0x8f, DMA page registers */
#define PORT_FPU		0xf0	/* 16 ports, 0xf0-0xff, minus debug-exit */
#define PORT_DEBUG_EXIT		0xf4
#define PORT_ELCR		0x4d0	/* 2 ports */
#define PORT_PVPANIC		0x505
#define PORT_GUEST_MARK		0x5f0	/* lvrun's boot-progress marker */
#define PORT_ACPI_SLEEP_CTL	0x600
#define PORT_ACPI_SLEEP_STS	0x601
#define PORT_IO_DELAY		0xed
#define PORT_COM1		0x3f8	/* 8 ports */
#define PORT_COM2		0x2f8
#define PORT_COM3		0x3e8
#define PORT_COM4		0x2e8
#define PORT_PCI_CONFIG		0xcf8	/* 8 ports */
#define PORT_RESET_CTL		0xcf9	/* inside the PCI window: see pci_host.c */

/* --- Interrupt lines (GSIs; ISA IRQs map 1:1 except 0 -> 2) ------------ */

#define IRQ_COM1		4
#define IRQ_RTC			8
/* The virtio-mmio slots' lines, slot by slot: ISA lines, edge-triggered. */
#define VIRTIO_MMIO_IRQS	{ 5, 6, 7, 10, 11, 15 }
#define IOAPIC_PINS		24

#endif /* LVRUN_LAYOUT_H */
