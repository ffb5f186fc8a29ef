/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VT-d (IOMMU) device assignment: a VM owns the DMA of whole IOMMU groups
 * and one paging domain in which guest memory is mapped at IOVA = GPA.
 *
 * Locking: everything here runs under vm->slots_lock held for writing
 * (assign/release ioctls, memory slot changes), or on VM destroy.
 *
 * While a VM has at least one device, the user pages behind every memory
 * slot are pinned (FOLL_LONGTERM, charged to the mm's locked_vm): DMA
 * cannot fault, so the pages must stay put. Consequences:
 *  - DMA writes are not seen by LV_GET_DIRTY_LOG;
 *  - if userspace unmaps or remaps slot memory while devices are
 *    assigned, DMA keeps reaching the old (pinned) pages, as with VFIO;
 *  - the IOMMU's reserved regions (the MSI window at 0xfee00000 on x86)
 *    are not checked against slot addresses yet.
 *
 * Pass-through (lightvisor's side; the launcher, lvrun --assign, emulates
 * the guest's PCI config space and calls these):
 *  - LV_MAP_PCI_BAR maps a memory BAR's host-physical range into the
 *    guest through the vendor's vm_map_phys hook (EPT, memory type UC,
 *    2 MiB leaves where aligned), eagerly, at the address the guest
 *    programmed; the guest reaches the device without exits. Moving it
 *    unmaps the old range first; release and VM destroy unmap it. BARs
 *    may not overlap slots or each other (EEXIST either way round). A
 *    fault inside a mapped BAR maps the page again, never exits as MMIO.
 *    Without a backend (no VMX) the request is validated, then refused
 *    with ENODEV.
 *  - LV_SET_DEVICE_IRQ takes one host MSI-X/MSI vector for the device
 *    (pci_alloc_irq_vectors; the host programs the real capability, with
 *    interrupt remapping where the IOMMU has it) and queues the guest's
 *    vector on the target vCPU from a threaded handler, through
 *    lv_vcpu_queue_irq() (the LV_INTERRUPT path, plus a per-vCPU
 *    backlog so a busy pending slot delays rather than drops it).
 *    Later: posted interrupts, multiple vectors, INTx.
 *  - The pages of a BAR that hold the device's MSI-X table or PBA are
 *    never mapped: the host owns the table (it programs it for
 *    LV_SET_DEVICE_IRQ), and the guest's accesses there exit to
 *    userspace as MMIO.
 *  - Not yet: the IOMMU's MSI window is not reserved against BAR or slot
 *    addresses.
 *
 * Isolation (see docs/security.md): assigning needs CAP_SYS_RAWIO, as
 * VFIO's device access does; the device's MSIs must be isolated by
 * interrupt remapping (else EPERM, unless the allow_unsafe_interrupts
 * module parameter is set); the function is reset on assign and release;
 * a device removed from the host (hot unplug, sysfs remove) is taken from
 * its VM first.
 */
#ifndef LIGHTVISOR_IOMMU_H
#define LIGHTVISOR_IOMMU_H

#include <linux/types.h>

struct lv_vm;
struct lv_memslot;
struct page;
struct device;
struct iommu_domain;
struct lv_pci_device;

/**
 * struct lv_iommu_pin - user pages of a slot pinned for DMA
 * @pages: one pinned page per 4 KiB of the slot
 * @npages: number of entries in @pages
 * @write: pinned for writing (FOLL_WRITE)
 * @mapped: the slot is mapped in the VM's IOMMU domain
 * @iova: where it is mapped
 */
struct lv_iommu_pin {
	struct page **pages;
	unsigned long npages;
	bool write;
	bool mapped;
	u64 iova;
};

bool lv_iommu_present(void);
int lv_iommu_init(void);
void lv_iommu_exit(void);
int lv_iommu_assign(struct lv_vm *vm, const struct lv_pci_device *d);
int lv_iommu_release(struct lv_vm *vm, const struct lv_pci_device *d);
void lv_iommu_vm_destroy(struct lv_vm *vm);

/* Slot changes, under slots_lock: prepare may fail, commit cannot. */
int lv_iommu_slot_prepare(struct lv_vm *vm, struct lv_memslot *old,
			  struct lv_memslot *new);
void lv_iommu_slot_commit(struct lv_vm *vm, struct lv_memslot *old,
			  struct lv_memslot *new);

/* Pass-through: BARs in EPT, device interrupts to vCPUs. */
struct lv_pci_bar;
struct lv_device_irq;
int lv_iommu_map_bar(struct lv_vm *vm, const struct lv_pci_bar *b);
int lv_iommu_set_irq(struct lv_vm *vm, const struct lv_device_irq *r);
bool lv_iommu_bar_overlaps(struct lv_vm *vm, u64 gpa, u64 size,
			   const void *except);
int lv_iommu_bar_fault(struct lv_vm *vm, u64 gpa);

/* A range inside a BAR: offset and length in bytes. */
struct lv_iommu_range {
	u64 start;
	u64 len;
};

/* The MSI-X table and the PBA: never mapped into a guest. */
#define LV_BAR_MAX_HOLES	2

/* Pure helpers, exported for KUnit. */
unsigned int lv_iommu_bar_pieces(u64 len, const struct lv_iommu_range *holes,
				 unsigned int nholes,
				 struct lv_iommu_range *pieces);
bool lv_iommu_ranges_overlap(u64 a, u64 alen, u64 b, u64 blen);
int lv_iommu_bar_check(u64 start, u64 len, unsigned long res_flags, u64 gpa);
int lv_iommu_slot_prot(u32 slot_flags);
bool lv_iommu_pin_reusable(const struct lv_iommu_pin *pin, u32 new_flags);
unsigned long lv_iommu_contig_pages(struct page *const *pages,
				    unsigned long n);
int lv_iommu_map_pages(struct iommu_domain *domain, u64 iova,
		       struct page *const *pages, unsigned long n, int prot);
struct iommu_domain *lv_iommu_domain_alloc(struct device *dev);

#endif /* LIGHTVISOR_IOMMU_H */
