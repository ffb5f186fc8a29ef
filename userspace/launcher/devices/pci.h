/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: a PCI host bridge at ports 0xcf8/0xcfc with one assigned device.
 *
 * The emulation is pure: it talks to the real device and to lightvisor
 * only through struct pci_backend, so a host program (pci_test.c) can
 * drive it without a device, an IOMMU or VMX.
 */
#ifndef LVRUN_PCI_H
#define LVRUN_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_ADDR		0xcf8
#define PCI_CONFIG_DATA		0xcfc
/* Where the guest sees the assigned device: bus 0, device 1, function 0. */
#define PCI_GUEST_DEVFN		(1 << 3)
#define PCI_NUM_BARS		6

struct pci_backend {
	void *ctx;
	/* Real config space, 256 bytes, little endian. */
	int (*cfg_read)(void *ctx, unsigned int off, void *buf, int len);
	int (*cfg_write)(void *ctx, unsigned int off, const void *buf, int len);
	/* LV_MAP_PCI_BAR; unmap when @unmap. */
	int (*map_bar)(void *ctx, int bar, uint64_t gpa, bool unmap);
	/* LV_SET_DEVICE_IRQ; free when @disable. */
	int (*set_irq)(void *ctx, unsigned int vcpu, unsigned int vector,
		       bool disable);
	/* Warnings (failed ioctls); may be NULL. */
	void (*warn)(void *ctx, const char *msg);
};

struct pci_bar {
	uint64_t size;		/* 0: not implemented (or I/O, not supported) */
	uint32_t flags;		/* low 4 bits of the real BAR */
	bool is64;
	uint64_t guest;		/* what the guest wrote, masked to the size */
	bool mapped;
	uint64_t mapped_gpa;
};

struct pci_passthru {
	struct pci_backend be;
	uint32_t cf8;
	uint16_t command;	/* the guest's view */
	struct pci_bar bar[PCI_NUM_BARS];
	uint8_t msi;		/* MSI capability offset, 0 if none */
	bool msi64;
	uint16_t msi_ctrl;
	uint32_t msi_addr_lo, msi_addr_hi;
	uint16_t msi_data;
	bool irq_on;
	unsigned int irq_vcpu, irq_vector;
	unsigned int nr_vcpus;
};

/*
 * Reads the real BARs (sizing them on the device with memory decoding
 * off) and finds the MSI capability. Returns 0 or -1.
 */
int pci_passthru_init(struct pci_passthru *p, const struct pci_backend *be,
		      unsigned int nr_vcpus);
/* Port I/O at 0xcf8-0xcff; false if @port is not ours. */
bool pci_passthru_io(struct pci_passthru *p, uint16_t port, bool is_write,
		     unsigned int size, uint32_t *val);
/* Config access for (bus 0, @devfn) at @off, @size bytes. */
uint32_t pci_cfg_read(struct pci_passthru *p, unsigned int devfn,
		      unsigned int off, unsigned int size);
void pci_cfg_write(struct pci_passthru *p, unsigned int devfn,
		   unsigned int off, unsigned int size, uint32_t val);

#endif /* LVRUN_PCI_H */
