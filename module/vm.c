// SPDX-License-Identifier: GPL-2.0
/*
 * VM objects: an anon-inode fd, memory slots and vCPU creation.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "lightvisor.h"
#include "iommu/iommu.h"
#include "irq/irqchip.h"

/* Largest slot accepted: far beyond any guest, far below a wrap. */
#define LV_MAX_SLOT_BYTES	(1ULL << 40)

/*
 * Nothing may reach an object once it is freed, so the VM is taken apart
 * from the outside in: first what other threads can find it by (its slots
 * in the address space's shared notifier, its devices' interrupt threads),
 * then the vCPUs those paths kick, last the page tables and slots.
 */
static void lv_vm_destroy(struct kref *kref)
{
	struct lv_vm *vm = container_of(kref, struct lv_vm, kref);
	struct lv_memslot *s;
	struct lv_vcpu *vcpu;
	unsigned long index;
	unsigned int i;

	/*
	 * An invalidation (munmap, reclaim, migration) from any thread of
	 * the mm finds the VM through its slots and kicks its vCPUs: once
	 * the slots are out of the tree, under the notifier's lock, no
	 * invalidation is in this VM or can enter it.
	 */
	lv_mmu_notifier_unregister(vm);
	/*
	 * Device interrupts (unmapping BARs kicks them), irqfds and the
	 * APIC and PIT timers target vCPUs: stop them first.
	 */
	lv_iommu_vm_destroy(vm);
	lv_irqchip_destroy(vm);
	xa_for_each(&vm->vcpus, index, vcpu) {
		xa_erase(&vm->vcpus, index);
		lv_vcpu_destroy(vcpu);
	}
	xa_destroy(&vm->vcpus);
	lv_ioeventfd_destroy(vm);
	lv_irq_status_destroy(vm);
	lv_irqchip_free(vm);
	lv_cpuid_free(vm);

	if (lv_vendor)
		lv_vendor->vm_destroy(vm);
	lv_for_each_memslot(vm, i, s) {
		kvfree(s->dirty_bitmap);
		kfree(s);
	}
	/* Never bound: no address space was grabbed. */
	if (vm->mm)
		mmdrop(vm->mm);
	kfree(vm);
	atomic_dec(&lv_nr_vms);
	lv_hardware_put();
}

void lv_vm_put(struct lv_vm *vm)
{
	kref_put(&vm->kref, lv_vm_destroy);
}

/**
 * lv_memslot_find() - the slot holding a guest-physical address
 * @vm: the VM
 * @gpa: guest-physical address
 *
 * Caller holds vm->slots_lock or vm->mmu_lock.
 */
struct lv_memslot *lv_memslot_find(struct lv_vm *vm, u64 gpa)
{
	unsigned int hint = READ_ONCE(vm->slot_hint);
	u64 gfn = gpa >> PAGE_SHIFT;
	struct lv_memslot *s;
	unsigned int i;

	/* Guests touch one slot far more than the others: try it first. */
	s = vm->slots[hint];
	if (s && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
		return s;
	/* Only the slots in use: a miss (every MMIO exit) stays cheap. */
	lv_for_each_memslot(vm, i, s) {
		if (gfn >= s->base_gfn && gfn - s->base_gfn < s->npages) {
			WRITE_ONCE(vm->slot_hint, i);
			return s;
		}
	}
	return NULL;
}

/**
 * lv_check_memory_region() - validate a region as userspace gave it
 * @mr: the region
 *
 * Return: 0, or -EINVAL naming nothing more: every field is checked for
 * alignment, range and wrap-around before any state changes.
 */
int lv_check_memory_region(const struct lv_memory_region *mr)
{
	if (mr->slot >= LV_NR_MEMSLOTS)
		return -EINVAL;
	if (mr->flags & ~(LV_MEM_READONLY | LV_MEM_LOG_DIRTY_PAGES))
		return -EINVAL;
	if (!mr->memory_size)
		return 0;
	if (!PAGE_ALIGNED(mr->guest_phys_addr) ||
	    !PAGE_ALIGNED(mr->memory_size) ||
	    !PAGE_ALIGNED(mr->userspace_addr))
		return -EINVAL;
	if (mr->memory_size > LV_MAX_SLOT_BYTES ||
	    mr->guest_phys_addr >= LV_MAX_GPA ||
	    mr->memory_size > LV_MAX_GPA - mr->guest_phys_addr)
		return -EINVAL;
	if (mr->userspace_addr + mr->memory_size < mr->userspace_addr ||
	    !access_ok(u64_to_user_ptr(mr->userspace_addr), mr->memory_size))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_check_memory_region);

static bool lv_slot_overlaps(struct lv_vm *vm, const struct lv_memory_region *mr)
{
	u64 start = mr->guest_phys_addr >> PAGE_SHIFT;
	u64 end = start + (mr->memory_size >> PAGE_SHIFT);
	struct lv_memslot *s;
	unsigned int i;

	lv_for_each_memslot(vm, i, s) {
		if (i == mr->slot)
			continue;
		if (start < s->base_gfn + s->npages && s->base_gfn < end)
			return true;
	}
	return lv_iommu_bar_overlaps(vm, mr->guest_phys_addr, mr->memory_size,
				     NULL);
}

/* Swap the slot in; the old one's guest and DMA mappings go first. */
static void lv_slot_replace(struct lv_vm *vm, u32 id, struct lv_memslot *new)
{
	struct lv_memslot *old = vm->slots[id];

	lv_mmu_slot_replace(vm, id, new);
	lv_iommu_slot_commit(vm, old, new);
	if (old) {
		kvfree(old->dirty_bitmap);
		kfree(old);
	}
}

static int lv_set_memory_region(struct lv_vm *vm,
				const struct lv_memory_region *mr)
{
	struct lv_memslot *old, *new = NULL;
	int ret;

	ret = lv_check_memory_region(mr);
	if (ret)
		return ret;

	down_write(&vm->slots_lock);
	old = vm->slots[mr->slot];
	ret = -EINVAL;
	if (!mr->memory_size) {
		if (old) {
			lv_slot_replace(vm, mr->slot, NULL);
			ret = 0;
		}
		goto out;
	}
	/* An existing slot may move or change flags, not change its memory. */
	if (old && (old->userspace_addr != mr->userspace_addr ||
		    old->npages != mr->memory_size >> PAGE_SHIFT))
		goto out;
	ret = -EEXIST;
	if (lv_slot_overlaps(vm, mr))
		goto out;

	ret = -ENOMEM;
	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		goto out;
	new->id = mr->slot;
	new->flags = mr->flags;
	new->base_gfn = mr->guest_phys_addr >> PAGE_SHIFT;
	new->npages = mr->memory_size >> PAGE_SHIFT;
	new->userspace_addr = mr->userspace_addr;
	if (new->flags & LV_MEM_LOG_DIRTY_PAGES) {
		new->dirty_bitmap = kvcalloc(BITS_TO_LONGS(new->npages),
					     sizeof(long), GFP_KERNEL_ACCOUNT);
		if (!new->dirty_bitmap) {
			kfree(new);
			goto out;
		}
	}
	ret = lv_iommu_slot_prepare(vm, old, new);
	if (ret) {
		kvfree(new->dirty_bitmap);
		kfree(new);
		goto out;
	}
	lv_slot_replace(vm, mr->slot, new);
	ret = 0;
out:
	up_write(&vm->slots_lock);
	return ret;
}

static int lv_get_dirty_log(struct lv_vm *vm, struct lv_dirty_log __user *ulog)
{
	struct lv_dirty_log log;
	struct lv_memslot *s;
	unsigned long bytes;
	int ret = -ENOENT;

	if (copy_from_user(&log, ulog, sizeof(log)))
		return -EFAULT;
	if (log.slot >= LV_NR_MEMSLOTS || log.padding)
		return -EINVAL;

	down_write(&vm->slots_lock);
	s = vm->slots[log.slot];
	if (!s || !s->dirty_bitmap)
		goto out;
	bytes = BITS_TO_LONGS(s->npages) * sizeof(long);
	/*
	 * Pages reported clean must fault again on their next write. Zap
	 * (and flush) first: until then a vCPU may still write through a
	 * writable mapping without faulting, and such a write must land
	 * in this report, not be lost between copy and clear. Faults that
	 * would map pages again wait for slots_lock.
	 */
	lv_mmu_zap_range(vm, s->base_gfn << PAGE_SHIFT,
			 s->npages << PAGE_SHIFT);
	ret = 0;
	if (copy_to_user(u64_to_user_ptr(log.bitmap), s->dirty_bitmap, bytes))
		ret = -EFAULT;
	else
		memset(s->dirty_bitmap, 0, bytes);
out:
	up_write(&vm->slots_lock);
	return ret;
}

static int lv_vm_create_irqchip(struct lv_vm *vm)
{
	int ret;

	mutex_lock(&vm->lock);
	ret = lv_irqchip_create(vm);
	mutex_unlock(&vm->lock);
	return ret;
}

/* Every vCPU picks the new offset up before its next entry. */
static int lv_vm_set_tsc_offset(struct lv_vm *vm, void __user *argp)
{
	struct lv_tsc_control tc;

	if (copy_from_user(&tc, argp, sizeof(tc)))
		return -EFAULT;
	if (tc.flags || tc.padding)
		return -EINVAL;
	WRITE_ONCE(vm->tsc_offset, tc.offset);
	smp_wmb();	/* the offset before the generation that announces it */
	atomic_inc(&vm->tsc_gen);
	lv_vcpu_kick_all(vm);
	return 0;
}

/**
 * lv_vm_bind() - give an unbound VM the caller's address space, once
 * @vm: a VM created with LV_VM_UNBOUND
 *
 * The notifier is registered before vm->mm is published, so every path
 * that sees the VM bound (lv_vm_owner()) finds it; the mm never changes
 * again, so a caller that saw another mm or none cannot later reach this
 * one's memory through a check it already passed.
 *
 * Return: 0; -EINVAL if the VM was created bound or the caller has no
 * address space; -EALREADY if it is bound already; what registering the
 * notifier returns.
 */
static int lv_vm_bind(struct lv_vm *vm)
{
	struct mm_struct *mm = current->mm;
	int ret;

	if (!vm->bindable || !mm)
		return -EINVAL;
	mutex_lock(&vm->lock);
	ret = -EALREADY;
	if (vm->mm)
		goto out;
	mmgrab(mm);
	ret = lv_mmu_notifier_register(vm, mm);
	if (ret) {
		mmdrop(mm);
		goto out;
	}
	/* The notifier before the mm; pairs with lv_vm_mm(). */
	smp_store_release(&vm->mm, mm);
out:
	mutex_unlock(&vm->lock);
	return ret;
}

/*
 * What the holder of an unbound VM may do: prepare it. Nothing here maps
 * memory, delivers an event or keeps a file of the caller.
 */
static bool lv_vm_ioctl_unbound_ok(unsigned int cmd)
{
	switch (cmd) {
	case LV_BIND_VM:
	case LV_CREATE_VCPU:
	case LV_CREATE_IRQCHIP:
	case LV_GET_IRQCHIP:
	case LV_SET_IRQCHIP:
	case LV_SET_CPUID:
	case LV_SET_TSC_OFFSET:
		return true;
	default:
		return false;
	}
}

static long lv_vm_ioctl(struct file *filp, unsigned int cmd,
			unsigned long arg)
{
	struct lv_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;
	int ret;

	ret = lv_vm_ioctl_allowed(vm, cmd, lv_vm_ioctl_unbound_ok(cmd));
	if (ret)
		return ret;

	switch (cmd) {
	case LV_BIND_VM:
		return arg ? -EINVAL : lv_vm_bind(vm);
	case LV_SET_MEMORY_REGION: {
		struct lv_memory_region mr;

		if (copy_from_user(&mr, argp, sizeof(mr)))
			return -EFAULT;
		return lv_set_memory_region(vm, &mr);
	}
	case LV_CREATE_VCPU:
		return lv_vcpu_create(vm, arg);
	case LV_GET_DIRTY_LOG:
		return lv_get_dirty_log(vm, argp);
	case LV_ASSIGN_PCI_DEVICE:
	case LV_RELEASE_PCI_DEVICE: {
		struct lv_pci_device d;

		if (copy_from_user(&d, argp, sizeof(d)))
			return -EFAULT;
		if (cmd == LV_ASSIGN_PCI_DEVICE)
			return lv_iommu_assign(vm, &d);
		return lv_iommu_release(vm, &d);
	}
	case LV_MAP_PCI_BAR: {
		struct lv_pci_bar b;

		if (copy_from_user(&b, argp, sizeof(b)))
			return -EFAULT;
		return lv_iommu_map_bar(vm, &b);
	}
	case LV_SET_DEVICE_IRQ: {
		struct lv_device_irq r;

		if (copy_from_user(&r, argp, sizeof(r)))
			return -EFAULT;
		return lv_iommu_set_irq(vm, &r);
	}
	case LV_CREATE_IRQCHIP:
		return arg ? -EINVAL : lv_vm_create_irqchip(vm);
	case LV_IRQ_LINE:
	case LV_IRQFD:
	case LV_SIGNAL_MSI:
	case LV_GET_IRQCHIP:
	case LV_SET_IRQCHIP:
		return lv_irqchip_vm_ioctl(vm, cmd, argp);
	case LV_SET_CPUID:
		return lv_cpuid_set(vm, argp);
	case LV_SET_TSC_OFFSET:
		return lv_vm_set_tsc_offset(vm, argp);
	case LV_IOEVENTFD:
		return lv_ioeventfd_ioctl(vm, argp);
	case LV_IRQ_STATUS:
		return lv_irq_status_ioctl(vm, argp);
	default:
		return -ENOTTY;
	}
}

static int lv_vm_release(struct inode *inode, struct file *filp)
{
	lv_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations lv_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= lv_vm_release,
	.unlocked_ioctl	= lv_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/*
 * Returns the new VM's fd. With LV_VM_UNBOUND the VM has no address space
 * (and so no notifier) until LV_BIND_VM; see "unbound VMs" in the uapi.
 */
int lv_vm_create(unsigned long flags)
{
	struct lv_vm *vm;
	int ret;

	if (flags & ~LV_VM_UNBOUND)
		return -EINVAL;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;

	ret = lv_hardware_get();
	if (ret) {
		kfree(vm);
		return ret;
	}

	kref_init(&vm->kref);
	mutex_init(&vm->lock);
	init_rwsem(&vm->slots_lock);
	spin_lock_init(&vm->mmu_lock);
	xa_init(&vm->vcpus);
	lv_ioeventfd_init(vm);
	lv_irq_status_init(vm);
	vm->bindable = flags & LV_VM_UNBOUND;
	if (!vm->bindable) {
		vm->mm = current->mm;
		mmgrab(vm->mm);
	}

	if (lv_vendor) {
		ret = lv_vendor->vm_init(vm);
		if (ret)
			goto err_mm;
	}
	if (vm->mm) {
		ret = lv_mmu_notifier_register(vm, vm->mm);
		if (ret)
			goto err_vendor;
	}

	atomic_inc(&lv_nr_vms);
	ret = anon_inode_getfd("lightvisor-vm", &lv_vm_fops, vm,
			       O_RDWR | O_CLOEXEC);
	if (ret < 0)
		lv_vm_put(vm);
	return ret;

err_vendor:
	if (lv_vendor)
		lv_vendor->vm_destroy(vm);
err_mm:
	if (vm->mm)
		mmdrop(vm->mm);
	kfree(vm);
	lv_hardware_put();
	return ret;
}
