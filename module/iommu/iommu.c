// SPDX-License-Identifier: GPL-2.0
/*
 * VT-d device assignment: DMA ownership of IOMMU groups, one paging domain
 * per VM, guest memory slots pinned and mapped at IOVA = GPA.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/interrupt.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/version.h>

#include "lightvisor.h"
#include "iommu/iommu.h"

/* Pages pinned per pin_user_pages_fast() call. */
#define LV_PIN_CHUNK	4096UL

/*
 * Without interrupt remapping, a device's MSI is a DMA write that the
 * device (so the guest driving it) can aim at any interrupt of the host.
 * As VFIO's parameter of the same name, this lets an administrator
 * accept that on a machine without remapping.
 */
static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Assign devices whose MSIs are not isolated by interrupt remapping (unsafe: the guest can raise any host interrupt)");

/*
 * Every assigned device, for hot removal (lv_iommu_bus_notify). Taken
 * before a VM's slots_lock: a device enters or leaves this list and its
 * VM's list together.
 */
static DEFINE_MUTEX(lv_iommu_devs_lock);
static LIST_HEAD(lv_iommu_all_devs);

/* A group whose DMA the VM owns, attached to the VM's domain. */
struct lv_iommu_group {
	struct list_head node;
	struct iommu_group *group;
	unsigned int nr_devs;
};

/* A memory BAR placed in the guest, but for its MSI-X pages. */
struct lv_iommu_bar {
	u64 gpa;
	u64 size;
	bool mapped;
	unsigned int nholes;
	struct lv_iommu_range holes[LV_BAR_MAX_HOLES];
};

/**
 * struct lv_iommu_dev - an assigned device
 * @node: in lv_iommu.devices
 * @pdev: the device (a reference)
 * @grp: its group
 * @vm: the owner
 * @bars: memory BARs mapped into the guest, by BAR index
 * @irq: host interrupt (Linux number) while LV_SET_DEVICE_IRQ holds one
 * @irq_target: vCPU id << 8 | guest vector; read by the interrupt thread
 * @irq_name: name shown in /proc/interrupts
 * @all_node: in lv_iommu_all_devs
 */
struct lv_iommu_dev {
	struct list_head node;
	struct list_head all_node;
	struct pci_dev *pdev;
	struct lv_iommu_group *grp;
	struct lv_vm *vm;
	struct lv_iommu_bar bars[PCI_STD_NUM_BARS];
	int irq;
	u32 irq_target;
	char irq_name[40];
};

/**
 * struct lv_iommu - a VM's DMA remapping state, while it has devices
 * @domain: the VM's paging domain, shared by all its groups
 * @devices: assigned devices (struct lv_iommu_dev)
 * @groups: owned groups (struct lv_iommu_group)
 * @prot: IOMMU_CACHE if the first device's IOMMU enforces snooping
 */
struct lv_iommu {
	struct iommu_domain *domain;
	struct list_head devices;
	struct list_head groups;
	int prot;
};

/* --- pure helpers ------------------------------------------------------ */

/**
 * lv_iommu_slot_prot() - IOMMU permissions for a memory slot
 * @slot_flags: LV_MEM_* flags of the slot
 *
 * Return: IOMMU_READ for read-only slots (the device may read guest memory
 * only), IOMMU_READ | IOMMU_WRITE otherwise.
 */
int lv_iommu_slot_prot(u32 slot_flags)
{
	if (slot_flags & LV_MEM_READONLY)
		return IOMMU_READ;
	return IOMMU_READ | IOMMU_WRITE;
}
EXPORT_SYMBOL_IF_KUNIT(lv_iommu_slot_prot);

/**
 * lv_iommu_pin_reusable() - can a slot's pinned pages serve its successor
 * @pin: the old slot's pin (may be NULL)
 * @new_flags: flags of the new slot (same user memory, maybe moved)
 *
 * Pages pinned for reading only may be shared copy-on-write pages, so
 * they cannot back a writable mapping: those are pinned again.
 */
bool lv_iommu_pin_reusable(const struct lv_iommu_pin *pin, u32 new_flags)
{
	if (!pin)
		return false;
	return pin->write || (new_flags & LV_MEM_READONLY);
}
EXPORT_SYMBOL_IF_KUNIT(lv_iommu_pin_reusable);

/**
 * lv_iommu_contig_pages() - length of the physically contiguous run
 * @pages: pages, in IOVA order
 * @n: number of pages, at least 1
 *
 * Return: how many pages from @pages[0] on have consecutive frame numbers.
 */
unsigned long lv_iommu_contig_pages(struct page *const *pages,
				    unsigned long n)
{
	unsigned long pfn = page_to_pfn(pages[0]);
	unsigned long i;

	for (i = 1; i < n; i++)
		if (page_to_pfn(pages[i]) != pfn + i)
			break;
	return i;
}
EXPORT_SYMBOL_IF_KUNIT(lv_iommu_contig_pages);

/**
 * lv_iommu_ranges_overlap() - do two non-empty ranges share a byte
 * @a: start of the first
 * @alen: its length
 * @b: start of the second
 * @blen: its length
 */
bool lv_iommu_ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}
EXPORT_SYMBOL_IF_KUNIT(lv_iommu_ranges_overlap);

/**
 * lv_iommu_bar_check() - can a host BAR be mapped into a guest
 * @start: host-physical start of the BAR (its resource)
 * @len: its length, 0 for an unimplemented BAR or a 64-bit BAR's upper
 *	half
 * @res_flags: its IORESOURCE_* flags
 * @gpa: where the guest wants it
 *
 * The BAR must be memory (not I/O ports), implemented and assigned by
 * the host, and cover whole pages of its own: a BAR smaller than a page
 * would give the guest its page neighbours too.
 *
 * Return: 0 or -EINVAL.
 */
int lv_iommu_bar_check(u64 start, u64 len, unsigned long res_flags, u64 gpa)
{
	if (!(res_flags & IORESOURCE_MEM) || (res_flags & IORESOURCE_UNSET))
		return -EINVAL;
	if (!len || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(len) || !start)
		return -EINVAL;
	if (!PAGE_ALIGNED(gpa) || gpa >= LV_MAX_GPA || len > LV_MAX_GPA - gpa)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_iommu_bar_check);

/* Round @h out to whole pages, clipped to a BAR of @len bytes. */
static struct lv_iommu_range lv_iommu_page_range(struct lv_iommu_range h,
						 u64 len)
{
	u64 start = min(h.start, len);
	u64 end = h.len > len - start ? len : start + h.len;

	if (start == end)
		return (struct lv_iommu_range){ 0, 0 };
	start = ALIGN_DOWN(start, PAGE_SIZE);
	end = min(ALIGN(end, PAGE_SIZE), len);
	return (struct lv_iommu_range){ start, end - start };
}

/**
 * lv_iommu_bar_pieces() - the parts of a BAR that may be mapped
 * @len: BAR length, a multiple of the page size
 * @holes: ranges (offset into the BAR, length) that must not be mapped:
 *	rounded out to whole pages here, clipped to the BAR, may overlap
 * @nholes: number of @holes, at most LV_BAR_MAX_HOLES
 * @pieces: out, page-aligned ranges of the BAR outside every hole, in
 *	address order; room for LV_BAR_MAX_HOLES + 1
 *
 * Return: the number of pieces, 0 when the holes cover the whole BAR.
 */
unsigned int lv_iommu_bar_pieces(u64 len, const struct lv_iommu_range *holes,
				 unsigned int nholes,
				 struct lv_iommu_range *pieces)
{
	struct lv_iommu_range h[LV_BAR_MAX_HOLES];
	unsigned int i, n = 0;
	u64 pos = 0;

	if (WARN_ON(nholes > LV_BAR_MAX_HOLES))
		return 0;
	for (i = 0; i < nholes; i++)
		h[i] = lv_iommu_page_range(holes[i], len);
	if (nholes == 2 && h[1].start < h[0].start)
		swap(h[0], h[1]);
	for (i = 0; i < nholes; i++) {
		if (!h[i].len)
			continue;
		if (h[i].start > pos)
			pieces[n++] = (struct lv_iommu_range){ pos, h[i].start - pos };
		pos = max(pos, h[i].start + h[i].len);
	}
	if (pos < len)
		pieces[n++] = (struct lv_iommu_range){ pos, len - pos };
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(lv_iommu_bar_pieces);

/* Is offset @off of a BAR in one of its holes (page-rounded)? */
static bool lv_iommu_in_hole(const struct lv_iommu_bar *bar, u64 off)
{
	struct lv_iommu_range h;
	unsigned int i;

	for (i = 0; i < bar->nholes; i++) {
		h = lv_iommu_page_range(bar->holes[i], bar->size);
		if (off >= h.start && off - h.start < h.len)
			return true;
	}
	return false;
}

static int lv_iommu_map_range(struct iommu_domain *domain, u64 iova,
			      phys_addr_t pa, size_t size, int prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_map(domain, iova, pa, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, pa, size, prot);
#endif
}

/**
 * lv_iommu_map_pages() - map pages at consecutive IOVAs
 * @domain: a paging domain
 * @iova: first IOVA, page aligned
 * @pages: the pages
 * @n: number of pages
 * @prot: IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE
 *
 * Physically contiguous runs go in one iommu_map() call, so the IOMMU
 * driver can use large pages. On failure nothing stays mapped.
 */
int lv_iommu_map_pages(struct iommu_domain *domain, u64 iova,
		       struct page *const *pages, unsigned long n, int prot)
{
	unsigned long done = 0, run;
	int ret;

	while (done < n) {
		run = lv_iommu_contig_pages(pages + done, n - done);
		ret = lv_iommu_map_range(domain, iova + done * PAGE_SIZE,
					 page_to_phys(pages[done]),
					 run * PAGE_SIZE, prot);
		if (ret) {
			if (done)
				iommu_unmap(domain, iova, done * PAGE_SIZE);
			return ret;
		}
		done += run;
		cond_resched();
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_iommu_map_pages);

/**
 * lv_iommu_domain_alloc() - a new unmanaged paging domain for @dev's IOMMU
 * @dev: a device behind the IOMMU
 *
 * Return: the domain or an ERR_PTR.
 */
struct iommu_domain *lv_iommu_domain_alloc(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return iommu_paging_domain_alloc(dev);
#else
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	return domain ? domain : ERR_PTR(-ENOMEM);
#endif
}
EXPORT_SYMBOL_IF_KUNIT(lv_iommu_domain_alloc);

/**
 * lv_iommu_present() - is any PCI device translated by an IOMMU
 *
 * Return: true if LV_ASSIGN_PCI_DEVICE can work on this machine at all.
 */
bool lv_iommu_present(void)
{
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev) {
		if (device_iommu_mapped(&pdev->dev)) {
			pci_dev_put(pdev);
			return true;
		}
	}
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(lv_iommu_present);

/* --- pinning and mapping of slots --------------------------------------- */

static void lv_iommu_unpin(struct lv_vm *vm, struct lv_memslot *slot)
{
	struct lv_iommu_pin *pin = slot->iommu_pin;

	if (!pin)
		return;
	WARN_ON(pin->mapped);
	unpin_user_pages_dirty_lock(pin->pages, pin->npages, pin->write);
	account_locked_vm(vm->mm, pin->npages, false);
	kvfree(pin->pages);
	kfree(pin);
	slot->iommu_pin = NULL;
}

/* Called from the VM's own ioctls: current->mm is vm->mm. */
static int lv_iommu_pin(struct lv_vm *vm, struct lv_memslot *slot)
{
	bool write = !(slot->flags & LV_MEM_READONLY);
	unsigned int gup = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	struct lv_iommu_pin *pin;
	unsigned long done = 0;
	long n;
	int ret;

	if (WARN_ON(current->mm != vm->mm))
		return -EIO;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return -ENOMEM;
	pin->write = write;
	pin->pages = kvcalloc(slot->npages, sizeof(*pin->pages),
			      GFP_KERNEL_ACCOUNT);
	if (!pin->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = account_locked_vm(vm->mm, slot->npages, true);
	if (ret)
		goto err_free;

	while (done < slot->npages) {
		n = min(slot->npages - done, LV_PIN_CHUNK);
		n = pin_user_pages_fast(slot->userspace_addr + done * PAGE_SIZE,
					n, gup, pin->pages + done);
		if (n <= 0) {
			ret = n ? n : -EFAULT;
			goto err_unpin;
		}
		done += n;
		cond_resched();
	}
	pin->npages = done;
	slot->iommu_pin = pin;
	return 0;

err_unpin:
	unpin_user_pages(pin->pages, done);
	account_locked_vm(vm->mm, slot->npages, false);
err_free:
	kvfree(pin->pages);
	kfree(pin);
	return ret;
}

static int lv_iommu_map_slot(struct lv_vm *vm, struct lv_memslot *slot)
{
	struct lv_iommu_pin *pin = slot->iommu_pin;
	u64 iova = slot->base_gfn << PAGE_SHIFT;
	int ret;

	ret = lv_iommu_map_pages(vm->iommu->domain, iova, pin->pages,
				 pin->npages, lv_iommu_slot_prot(slot->flags) |
				 vm->iommu->prot);
	if (ret)
		return ret;
	pin->iova = iova;
	pin->mapped = true;
	return 0;
}

static void lv_iommu_unmap_slot(struct lv_vm *vm, struct lv_memslot *slot)
{
	struct lv_iommu_pin *pin = slot->iommu_pin;

	if (!pin || !pin->mapped)
		return;
	iommu_unmap(vm->iommu->domain, pin->iova, pin->npages * PAGE_SIZE);
	pin->mapped = false;
}

static void lv_iommu_unmap_all(struct lv_vm *vm)
{
	struct lv_memslot *slot;
	unsigned int i;

	lv_for_each_memslot(vm, i, slot) {
		lv_iommu_unmap_slot(vm, slot);
		lv_iommu_unpin(vm, slot);
	}
}

static int lv_iommu_map_all(struct lv_vm *vm)
{
	struct lv_memslot *slot;
	unsigned int i;
	int ret;

	lv_for_each_memslot(vm, i, slot) {
		ret = lv_iommu_pin(vm, slot);
		if (!ret)
			ret = lv_iommu_map_slot(vm, slot);
		if (ret) {
			lv_iommu_unmap_all(vm);
			return ret;
		}
	}
	return 0;
}

/**
 * lv_iommu_slot_prepare() - pin the memory of a slot about to be installed
 * @vm: the VM, slots_lock held for writing
 * @old: the slot being replaced, or NULL
 * @new: the new slot, or NULL when @old is being deleted
 *
 * Return: 0, or the error that must fail the slot change (-EFAULT when
 * the memory is not mapped in the caller, -ENOMEM when over RLIMIT_MEMLOCK).
 */
int lv_iommu_slot_prepare(struct lv_vm *vm, struct lv_memslot *old,
			  struct lv_memslot *new)
{
	lockdep_assert_held_write(&vm->slots_lock);
	if (!vm->iommu || !new)
		return 0;
	if (old && lv_iommu_pin_reusable(old->iommu_pin, new->flags))
		return 0;	/* commit hands the old pin over */
	return lv_iommu_pin(vm, new);
}

/**
 * lv_iommu_slot_commit() - move the DMA mappings from @old to @new
 * @vm: the VM, slots_lock held for writing, @new already installed
 * @old: the slot replaced (still allocated), or NULL
 * @new: the new slot, or NULL
 *
 * The old range is unmapped before the new one is mapped, as they may
 * overlap; device DMA to the slot faults in between.
 */
void lv_iommu_slot_commit(struct lv_vm *vm, struct lv_memslot *old,
			  struct lv_memslot *new)
{
	int ret;

	lockdep_assert_held_write(&vm->slots_lock);
	if (!vm->iommu)
		return;
	if (old) {
		lv_iommu_unmap_slot(vm, old);
		if (new && !new->iommu_pin) {
			new->iommu_pin = old->iommu_pin;
			old->iommu_pin = NULL;
		}
		lv_iommu_unpin(vm, old);
	}
	if (!new || WARN_ON(!new->iommu_pin))
		return;
	ret = lv_iommu_map_slot(vm, new);
	if (ret) {
		pr_warn_ratelimited("slot %u: IOMMU mapping failed (%d), DMA to it will fault\n",
				    new->id, ret);
		lv_iommu_unpin(vm, new);
	}
}

/* --- devices ------------------------------------------------------------ */

/*
 * Reset the function, so the guest finds no state of the host's (or of
 * a VM before it) and the host none of the guest's. Devices without a
 * reset method (no FLR, PM or bus reset) are assigned all the same, as
 * VFIO does.
 */
static void lv_iommu_reset(struct pci_dev *pdev)
{
	int ret = pci_try_reset_function(pdev);

	if (ret)
		pci_dbg(pdev, "function not reset (%d)\n", ret);
}

/* Can the device's MSIs reach only the interrupts the host gave it? */
static bool lv_iommu_msi_isolated(struct pci_dev *pdev,
				  struct iommu_group *group)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return iommu_group_has_isolated_msi(group);
#else
	return irq_domain_check_msi_remap() ||
	       device_iommu_capable(&pdev->dev, IOMMU_CAP_INTR_REMAP);
#endif
}

static void lv_iommu_free(struct lv_vm *vm)
{
	lv_iommu_unmap_all(vm);
	iommu_domain_free(vm->iommu->domain);
	kfree(vm->iommu);
	vm->iommu = NULL;
}

static int lv_iommu_create(struct lv_vm *vm, struct pci_dev *pdev)
{
	struct lv_iommu *io;
	int ret;

	io = kzalloc(sizeof(*io), GFP_KERNEL_ACCOUNT);
	if (!io)
		return -ENOMEM;
	INIT_LIST_HEAD(&io->devices);
	INIT_LIST_HEAD(&io->groups);
	io->domain = lv_iommu_domain_alloc(&pdev->dev);
	if (IS_ERR(io->domain)) {
		ret = PTR_ERR(io->domain);
		pci_info(pdev, "cannot allocate an IOMMU domain (%d)\n", ret);
		kfree(io);
		return ret;
	}
	if (device_iommu_capable(&pdev->dev, IOMMU_CAP_CACHE_COHERENCY))
		io->prot = IOMMU_CACHE;
	vm->iommu = io;

	ret = lv_iommu_map_all(vm);
	if (ret)
		lv_iommu_free(vm);
	return ret;
}

static struct lv_iommu_dev *lv_iommu_find_dev(struct lv_vm *vm,
					      struct pci_dev *pdev)
{
	struct lv_iommu_dev *dev;

	if (!vm->iommu)
		return NULL;
	list_for_each_entry(dev, &vm->iommu->devices, node)
		if (dev->pdev == pdev)
			return dev;
	return NULL;
}

static int lv_iommu_report_driver(struct device *dev, void *data)
{
	struct device_driver *drv = READ_ONCE(dev->driver);
	struct pci_dev *pdev = data;

	if (!drv)
		return 0;
	pci_info(pdev, "cannot assign: %s in its IOMMU group is bound to host driver %s\n",
		 dev_name(dev), drv->name);
	return 1;
}

/* Take the DMA of @group for the VM and attach it to the VM's domain. */
static struct lv_iommu_group *lv_iommu_get_group(struct lv_vm *vm,
						 struct pci_dev *pdev,
						 struct iommu_group *group)
{
	struct lv_iommu_group *grp;
	int ret;

	list_for_each_entry(grp, &vm->iommu->groups, node) {
		if (grp->group == group) {
			grp->nr_devs++;
			iommu_group_put(group);
			return grp;
		}
	}

	grp = kzalloc(sizeof(*grp), GFP_KERNEL_ACCOUNT);
	if (!grp)
		return ERR_PTR(-ENOMEM);
	/*
	 * Fails (-EPERM, or -EBUSY) while a host driver is bound to a device
	 * of the group or another user (VM, VFIO) owns its DMA: both are
	 * "busy" to our caller.
	 */
	ret = iommu_group_claim_dma_owner(group, vm);
	if (ret) {
		if (ret == -EPERM)
			ret = -EBUSY;
		if (!iommu_group_for_each_dev(group, pdev,
					      lv_iommu_report_driver))
			pci_info(pdev, "cannot assign: DMA of its IOMMU group is owned by another user (%d)\n",
				 ret);
		goto err;
	}
	ret = iommu_attach_group(vm->iommu->domain, group);
	if (ret) {
		pci_info(pdev, "cannot attach its IOMMU group (%d)\n", ret);
		iommu_group_release_dma_owner(group);
		goto err;
	}
	grp->group = group;
	grp->nr_devs = 1;
	list_add(&grp->node, &vm->iommu->groups);
	return grp;
err:
	kfree(grp);
	return ERR_PTR(ret);
}

static void lv_iommu_put_group(struct lv_vm *vm, struct lv_iommu_group *grp)
{
	if (--grp->nr_devs)
		return;
	iommu_detach_group(vm->iommu->domain, grp->group);
	iommu_group_release_dma_owner(grp->group);
	iommu_group_put(grp->group);
	list_del(&grp->node);
	kfree(grp);
}

static void lv_iommu_unmap_bar(struct lv_vm *vm, struct lv_iommu_bar *bar)
{
	if (!bar->mapped)
		return;
	lv_mmu_zap_range(vm, bar->gpa, bar->size);
	bar->mapped = false;
}

static void lv_iommu_free_irq(struct lv_iommu_dev *dev)
{
	if (!dev->irq)
		return;
	free_irq(dev->irq, dev);
	pci_free_irq_vectors(dev->pdev);
	pci_disable_device(dev->pdev);
	dev->irq = 0;
}

/*
 * Give the device back to the host; under lv_iommu_devs_lock and
 * slots_lock. @reset is false for a device being removed: it may be gone.
 */
static void lv_iommu_detach_dev(struct lv_vm *vm, struct lv_iommu_dev *dev,
				bool reset)
{
	int i;

	lockdep_assert_held(&lv_iommu_devs_lock);
	lv_iommu_free_irq(dev);
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		lv_iommu_unmap_bar(vm, &dev->bars[i]);
	/* Stop DMA while it still lands in guest memory. */
	pci_clear_master(dev->pdev);
	/* Still in the VM's domain: nothing it does reaches the host. */
	if (reset)
		lv_iommu_reset(dev->pdev);
	list_del(&dev->all_node);
	list_del(&dev->node);
	lv_iommu_put_group(vm, dev->grp);
	pci_dev_put(dev->pdev);
	kfree(dev);
	if (list_empty(&vm->iommu->devices))
		lv_iommu_free(vm);
}

static struct pci_dev *lv_iommu_get_pdev(const struct lv_pci_device *d)
{
	if (d->flags)
		return ERR_PTR(-EINVAL);
	if (d->segment > 0xffff)
		return ERR_PTR(-ENODEV);
	return pci_get_domain_bus_and_slot(d->segment, d->bus, d->devfn) ?:
		ERR_PTR(-ENODEV);
}

/**
 * lv_iommu_assign() - LV_ASSIGN_PCI_DEVICE
 * @vm: the VM
 * @d: the device, as userspace named it
 *
 * A device can write anywhere its IOMMU domain and its interrupts let
 * it, so assigning one needs CAP_SYS_RAWIO (the privilege VFIO asks for
 * raw device access) and a device whose MSIs interrupt remapping keeps
 * to the vectors the host gave it.
 *
 * Return: 0; -EPERM (no CAP_SYS_RAWIO, or MSIs not isolated and the
 * allow_unsafe_interrupts parameter not set), -EINVAL (flags), -ENODEV
 * (no such device, or not behind an IOMMU), -EEXIST (already assigned to
 * this VM), -EBUSY (its group has host drivers bound or another owner),
 * -EFAULT/-ENOMEM (pinning memory).
 */
int lv_iommu_assign(struct lv_vm *vm, const struct lv_pci_device *d)
{
	struct iommu_group *group;
	struct lv_iommu_group *grp;
	struct lv_iommu_dev *dev;
	struct pci_dev *pdev;
	int ret;

	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	pdev = lv_iommu_get_pdev(d);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);

	mutex_lock(&lv_iommu_devs_lock);
	down_write(&vm->slots_lock);
	ret = -EEXIST;
	if (lv_iommu_find_dev(vm, pdev))
		goto out_put;

	ret = -ENODEV;
	group = iommu_group_get(&pdev->dev);
	if (!group) {
		pci_info(pdev, "cannot assign: not behind an IOMMU (none present, or disabled: intel_iommu=on)\n");
		goto out_put;
	}
	ret = -EPERM;
	if (!lv_iommu_msi_isolated(pdev, group)) {
		if (!allow_unsafe_interrupts) {
			pci_info(pdev, "cannot assign: its MSIs are not isolated (no interrupt remapping); lightvisor.allow_unsafe_interrupts=1 overrides\n");
			goto out_group;
		}
		pci_info(pdev, "assigned although its MSIs are not isolated (allow_unsafe_interrupts)\n");
	}

	ret = -ENOMEM;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		goto out_group;

	if (!vm->iommu) {
		ret = lv_iommu_create(vm, pdev);
		if (ret)
			goto out_free;
	}
	grp = lv_iommu_get_group(vm, pdev, group);
	if (IS_ERR(grp)) {
		ret = PTR_ERR(grp);
		if (list_empty(&vm->iommu->devices))
			lv_iommu_free(vm);
		goto out_free;
	}
	/* The group reference now belongs to grp. */
	dev->pdev = pdev;
	dev->grp = grp;
	dev->vm = vm;
	list_add(&dev->node, &vm->iommu->devices);
	list_add(&dev->all_node, &lv_iommu_all_devs);
	/* Its DMA can reach only the VM's domain now. */
	lv_iommu_reset(pdev);
	up_write(&vm->slots_lock);
	mutex_unlock(&lv_iommu_devs_lock);
	pci_dbg(pdev, "assigned to a VM\n");
	return 0;

out_free:
	kfree(dev);
out_group:
	iommu_group_put(group);
out_put:
	up_write(&vm->slots_lock);
	mutex_unlock(&lv_iommu_devs_lock);
	pci_dev_put(pdev);
	return ret;
}

/**
 * lv_iommu_release() - LV_RELEASE_PCI_DEVICE
 * @vm: the VM
 * @d: the device
 *
 * Return: 0, -EINVAL (flags), -ENODEV (no such device), -ENOENT (not
 * assigned to this VM).
 */
int lv_iommu_release(struct lv_vm *vm, const struct lv_pci_device *d)
{
	struct lv_iommu_dev *dev;
	struct pci_dev *pdev;
	int ret = -ENOENT;

	pdev = lv_iommu_get_pdev(d);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);

	mutex_lock(&lv_iommu_devs_lock);
	down_write(&vm->slots_lock);
	dev = lv_iommu_find_dev(vm, pdev);
	if (dev) {
		lv_iommu_detach_dev(vm, dev, true);
		ret = 0;
	}
	up_write(&vm->slots_lock);
	mutex_unlock(&lv_iommu_devs_lock);
	if (!ret)
		pci_dbg(pdev, "released by its VM\n");
	pci_dev_put(pdev);
	return ret;
}

/**
 * lv_iommu_vm_destroy() - give every device of a dying VM back to the host
 * @vm: the VM; no vCPU runs, no ioctl is in progress
 */
void lv_iommu_vm_destroy(struct lv_vm *vm)
{
	struct lv_iommu_dev *dev;

	mutex_lock(&lv_iommu_devs_lock);
	down_write(&vm->slots_lock);
	while (vm->iommu) {
		dev = list_first_entry(&vm->iommu->devices,
				       struct lv_iommu_dev, node);
		pci_dbg(dev->pdev, "released: its VM is gone\n");
		lv_iommu_detach_dev(vm, dev, true);
	}
	up_write(&vm->slots_lock);
	mutex_unlock(&lv_iommu_devs_lock);
}

/*
 * A device is leaving the host (hot unplug, or sysfs remove): if a VM
 * has it, the VM loses it first: interrupt, BAR mappings, DMA ownership.
 * Its VM lives at least as long as the device is on the list: VM
 * destruction takes it off under the same lock.
 */
static int lv_iommu_bus_notify(struct notifier_block *nb,
			       unsigned long action, void *data)
{
	struct device *d = data;
	struct lv_iommu_dev *dev;
	struct lv_vm *vm;

	if (action != BUS_NOTIFY_DEL_DEVICE)
		return NOTIFY_DONE;
	mutex_lock(&lv_iommu_devs_lock);
	list_for_each_entry(dev, &lv_iommu_all_devs, all_node) {
		if (&dev->pdev->dev != d)
			continue;
		vm = dev->vm;
		pci_info(dev->pdev, "removed from the host: taken from its VM\n");
		down_write(&vm->slots_lock);
		lv_iommu_detach_dev(vm, dev, false);
		up_write(&vm->slots_lock);
		break;
	}
	mutex_unlock(&lv_iommu_devs_lock);
	return NOTIFY_OK;
}

static struct notifier_block lv_iommu_bus_nb = {
	.notifier_call = lv_iommu_bus_notify,
};

int lv_iommu_init(void)
{
	return bus_register_notifier(&pci_bus_type, &lv_iommu_bus_nb);
}

void lv_iommu_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &lv_iommu_bus_nb);
}

/* --- BARs and interrupts (pass-through) --------------------------------- */

/**
 * lv_iommu_bar_overlaps() - does a guest range overlap a mapped BAR
 * @vm: the VM, slots_lock held
 * @gpa: start
 * @size: length
 * @except: a BAR not to count (the one being moved), or NULL
 */
bool lv_iommu_bar_overlaps(struct lv_vm *vm, u64 gpa, u64 size,
			   const void *except)
{
	struct lv_iommu_dev *dev;
	int i;

	lockdep_assert_held(&vm->slots_lock);
	if (!vm->iommu)
		return false;
	list_for_each_entry(dev, &vm->iommu->devices, node) {
		for (i = 0; i < PCI_STD_NUM_BARS; i++) {
			struct lv_iommu_bar *bar = &dev->bars[i];

			if (bar != except && bar->mapped &&
			    lv_iommu_ranges_overlap(gpa, size, bar->gpa,
						    bar->size))
				return true;
		}
	}
	return false;
}

static bool lv_iommu_slot_overlaps(struct lv_vm *vm, u64 gpa, u64 size)
{
	struct lv_memslot *s;
	unsigned int i;

	lv_for_each_memslot(vm, i, s) {
		if (lv_iommu_ranges_overlap(gpa, size,
						 s->base_gfn << PAGE_SHIFT,
						 s->npages << PAGE_SHIFT))
			return true;
	}
	return false;
}

/* Find an assigned device by address; slots_lock held. */
static struct lv_iommu_dev *lv_iommu_lookup(struct lv_vm *vm,
					    const struct lv_pci_device *d)
{
	struct pci_dev *pdev = lv_iommu_get_pdev(d);
	struct lv_iommu_dev *dev;

	if (IS_ERR(pdev))
		return ERR_CAST(pdev);
	dev = lv_iommu_find_dev(vm, pdev);
	pci_dev_put(pdev);	/* the VM holds its own reference */
	return dev ?: ERR_PTR(-ENOENT);
}

/* The MSI-X table and PBA of @pdev, where they are in BAR @bar. */
static unsigned int lv_iommu_msix_holes(struct pci_dev *pdev, unsigned int bar,
					struct lv_iommu_range *holes)
{
	int nvec = pci_msix_vec_count(pdev);
	unsigned int n = 0;
	u32 table, pba;

	if (!pdev->msix_cap || nvec <= 0)
		return 0;
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_PBA, &pba);
	if ((table & PCI_MSIX_TABLE_BIR) == bar)
		holes[n++] = (struct lv_iommu_range){
			table & PCI_MSIX_TABLE_OFFSET,
			(u64)nvec * PCI_MSIX_ENTRY_SIZE };
	if ((pba & PCI_MSIX_PBA_BIR) == bar)
		holes[n++] = (struct lv_iommu_range){
			pba & PCI_MSIX_PBA_OFFSET, DIV_ROUND_UP(nvec, 64) * 8 };
	return n;
}

/*
 * Map the BAR at host-physical @hpa into the guest but for its holes;
 * returns < 0, or > 0 when a flush is needed.
 */
static int lv_iommu_map_bar_pieces(struct lv_vm *vm,
				   const struct lv_iommu_bar *bar, u64 hpa)
{
	struct lv_iommu_range pieces[LV_BAR_MAX_HOLES + 1];
	unsigned int i, n;
	int ret, flush = 0;

	n = lv_iommu_bar_pieces(bar->size, bar->holes, bar->nholes, pieces);
	for (i = 0; i < n; i++) {
		ret = lv_vendor->vm_map_phys(vm, bar->gpa + pieces[i].start,
					     hpa + pieces[i].start,
					     pieces[i].len, LV_PROT_RWX, true);
		if (ret < 0)
			return ret;
		flush |= ret;
	}
	return flush;
}

/**
 * lv_iommu_map_bar() - LV_MAP_PCI_BAR
 * @vm: the VM
 * @b: what userspace asked for
 *
 * Return: see struct lv_pci_bar in the uapi header.
 */
int lv_iommu_map_bar(struct lv_vm *vm, const struct lv_pci_bar *b)
{
	struct lv_iommu_dev *dev;
	struct lv_iommu_bar *bar;
	u64 start, len;
	int ret;

	if (b->flags & ~LV_PCI_BAR_UNMAP || b->bar >= PCI_STD_NUM_BARS)
		return -EINVAL;

	down_write(&vm->slots_lock);
	dev = lv_iommu_lookup(vm, &b->dev);
	ret = PTR_ERR_OR_ZERO(dev);
	if (ret)
		goto out;
	bar = &dev->bars[b->bar];
	if (b->flags & LV_PCI_BAR_UNMAP) {
		ret = bar->mapped ? 0 : -ENOENT;
		lv_iommu_unmap_bar(vm, bar);
		goto out;
	}

	start = pci_resource_start(dev->pdev, b->bar);
	len = pci_resource_len(dev->pdev, b->bar);
	ret = lv_iommu_bar_check(start, len,
				 pci_resource_flags(dev->pdev, b->bar),
				 b->guest_phys_addr);
	if (ret)
		goto out;
	ret = -EEXIST;
	if (lv_iommu_slot_overlaps(vm, b->guest_phys_addr, len) ||
	    lv_iommu_bar_overlaps(vm, b->guest_phys_addr, len, bar))
		goto out;
	ret = -ENODEV;
	if (!lv_vendor || !lv_vendor->vm_map_phys)
		goto out;
	if (bar->mapped && bar->gpa == b->guest_phys_addr) {
		ret = 0;
		goto out;
	}

	lv_iommu_unmap_bar(vm, bar);
	bar->gpa = b->guest_phys_addr;
	bar->size = len;
	bar->nholes = lv_iommu_msix_holes(dev->pdev, b->bar, bar->holes);
	ret = lv_iommu_map_bar_pieces(vm, bar, start);
	if (ret < 0) {
		lv_mmu_zap_range(vm, b->guest_phys_addr, len);
		goto out;
	}
	if (ret > 0)
		lv_vm_flush_tlbs(vm);
	bar->mapped = true;
	ret = 0;
	pci_dbg(dev->pdev, "BAR %u (%#llx bytes) at guest-physical %#llx\n",
		b->bar, len, bar->gpa);
out:
	up_write(&vm->slots_lock);
	return ret;
}

/**
 * lv_iommu_bar_fault() - an EPT violation outside every memory slot
 * @vm: the VM, slots_lock held for reading
 * @gpa: the faulting guest-physical address
 *
 * BARs are mapped eagerly and nothing unmaps them behind our back, so a
 * fault inside one should not happen; should it, the page is mapped
 * again rather than turned into an MMIO exit.
 *
 * Return: -ENOENT if @gpa is in no mapped BAR (an MMIO exit), 0 when the
 * guest can retry, another errno if mapping failed.
 */
int lv_iommu_bar_fault(struct lv_vm *vm, u64 gpa)
{
	struct lv_iommu_dev *dev;
	int i, ret;

	if (!vm->iommu)
		return -ENOENT;
	list_for_each_entry(dev, &vm->iommu->devices, node) {
		for (i = 0; i < PCI_STD_NUM_BARS; i++) {
			struct lv_iommu_bar *bar = &dev->bars[i];
			u64 off = (gpa & PAGE_MASK) - bar->gpa;

			if (!bar->mapped ||
			    !lv_iommu_ranges_overlap(gpa, 1, bar->gpa, bar->size))
				continue;
			/* The MSI-X table stays the host's: MMIO exit. */
			if (lv_iommu_in_hole(bar, off))
				return -ENOENT;
			ret = lv_vendor->vm_map_phys(vm, bar->gpa + off,
						     pci_resource_start(dev->pdev, i) + off,
						     PAGE_SIZE, LV_PROT_RWX, true);
			if (ret > 0)
				lv_vm_flush_tlbs(vm);
			return ret < 0 ? ret : 0;
		}
	}
	return -ENOENT;
}

static irqreturn_t lv_iommu_irq_thread(int irq, void *data)
{
	struct lv_iommu_dev *dev = data;
	struct lv_vm *vm = dev->vm;
	u32 target = READ_ONCE(dev->irq_target);
	struct lv_vcpu *vcpu;

	/* vm->lock keeps the vCPU from going away under us. */
	mutex_lock(&vm->lock);
	vcpu = xa_load(&vm->vcpus, target >> 8);
	if (vcpu && !lv_vcpu_queue_irq(vcpu, target & 0xff, true))
		this_cpu_inc(lv_stats.dev_irqs);
	else
		this_cpu_inc(lv_stats.dev_irqs_dropped);
	mutex_unlock(&vm->lock);
	return IRQ_HANDLED;
}

static int lv_iommu_setup_irq(struct lv_iommu_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;
	int ret;

	if (!pdev->msi_cap && !pdev->msix_cap)
		return -ENODEV;
	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI | PCI_IRQ_MSIX);
	if (ret < 0)
		goto err_disable;
	ret = pci_irq_vector(pdev, 0);
	if (ret < 0)
		goto err_free;
	dev->irq = ret;
	snprintf(dev->irq_name, sizeof(dev->irq_name), "lightvisor[%s]",
		 pci_name(pdev));
	/* A thread, not hard-IRQ context: queueing may send an IPI. */
	ret = request_threaded_irq(dev->irq, NULL, lv_iommu_irq_thread,
				   IRQF_ONESHOT, dev->irq_name, dev);
	if (ret)
		goto err_free;
	return 0;

err_free:
	dev->irq = 0;
	pci_free_irq_vectors(pdev);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

/**
 * lv_iommu_set_irq() - LV_SET_DEVICE_IRQ
 * @vm: the VM
 * @r: what userspace asked for
 *
 * Return: see struct lv_device_irq in the uapi header.
 */
int lv_iommu_set_irq(struct lv_vm *vm, const struct lv_device_irq *r)
{
	bool disable = r->flags & LV_DEVICE_IRQ_DISABLE;
	struct lv_iommu_dev *dev;
	int ret;

	if ((r->flags & ~LV_DEVICE_IRQ_DISABLE) || r->padding)
		return -EINVAL;
	if (!disable && (r->vector < 32 || r->vector > 255 ||
			 r->vcpu >= LV_MAX_VCPUS))
		return -EINVAL;

	down_write(&vm->slots_lock);
	dev = lv_iommu_lookup(vm, &r->dev);
	ret = PTR_ERR_OR_ZERO(dev);
	if (ret)
		goto out;
	if (disable) {
		ret = dev->irq ? 0 : -ENOENT;
		lv_iommu_free_irq(dev);
		goto out;
	}
	WRITE_ONCE(dev->irq_target, r->vcpu << 8 | r->vector);
	if (!dev->irq)
		ret = lv_iommu_setup_irq(dev);
	if (!ret)
		pci_dbg(dev->pdev, "interrupt %d -> vCPU %u vector %u\n",
			dev->irq, r->vcpu, r->vector);
out:
	up_write(&vm->slots_lock);
	return ret;
}
