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
 * Not done yet, because it needs a running guest (VMX) to be tested:
 *  - BARs: map each memory BAR's host-physical range into the guest
 *    through EPT (uncached), at the guest-physical address the guest
 *    programs into the virtual BAR; an ioctl to place a BAR will be
 *    added together with that code.
 *  - config space: the guest's config accesses exit to userspace (port
 *    0xcf8/0xcfc or MMCONFIG); the launcher mediates them and forwards the
 *    harmless ones through /sys/bus/pci/devices/.../config. BAR sizing and
 *    the MSI/MSI-X capability need emulation, not pass-through.
 *  - MSI/MSI-X: host vectors through interrupt remapping, delivered to
 *    the guest as LV_INTERRUPT (later: posted interrupts). Until then the
 *    device may only be driven by polling.
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
int lv_iommu_assign(struct lv_vm *vm, const struct lv_pci_device *d);
int lv_iommu_release(struct lv_vm *vm, const struct lv_pci_device *d);
void lv_iommu_vm_destroy(struct lv_vm *vm);

/* Slot changes, under slots_lock: prepare may fail, commit cannot. */
int lv_iommu_slot_prepare(struct lv_vm *vm, struct lv_memslot *old,
			  struct lv_memslot *new);
void lv_iommu_slot_commit(struct lv_vm *vm, struct lv_memslot *old,
			  struct lv_memslot *new);

/* Pure helpers, exported for KUnit. */
int lv_iommu_slot_prot(u32 slot_flags);
bool lv_iommu_pin_reusable(const struct lv_iommu_pin *pin, u32 new_flags);
unsigned long lv_iommu_contig_pages(struct page *const *pages,
				    unsigned long n);
int lv_iommu_map_pages(struct iommu_domain *domain, u64 iova,
		       struct page *const *pages, unsigned long n, int prot);
struct iommu_domain *lv_iommu_domain_alloc(struct device *dev);

#endif /* LIGHTVISOR_IOMMU_H */
