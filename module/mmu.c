// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: fault-in on demand and invalidation by mmu_notifier.
 *
 * Guest pages are not pinned. A fault takes a reference on the backing
 * page only long enough to install the guest mapping; from then on the
 * mmu_notifier tells us before the host unmaps, migrates, reclaims or
 * frees that page, and the guest mapping goes first. A fault that races
 * with an invalidation sees the sequence count move and simply retries.
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <asm/io.h>

#include "lightvisor.h"
#include "iommu/iommu.h"

/**
 * struct lv_mm_notifier - one mmu_notifier for all VMs of an address space
 * @mn: registered once per mm (mmu_notifier_get), freed after the last put
 * @lock: protects @slots and the counters; taken before any VM's mmu_lock
 * @slots: the memory slots of every VM of this mm, by host address range
 * @invalidate_seq: bumped at the end of every invalidation
 * @invalidate_in_progress: invalidations between start and end
 *
 * Registering a notifier takes every lock of every mapping of the process
 * (mm_take_all_locks), so a notifier per VM makes each new VM slower than
 * the one before. Shared, only a process's first VM pays, and a VM's end
 * does not wait for an SRCU grace period. An invalidation looks up the
 * slots it hits in an interval tree rather than visiting every VM: a
 * process with thousands of VMs unmaps one VM's memory as fast as a
 * process with one. The counters are per mm, not per VM, so a VM created
 * in the middle of an invalidation still sees it.
 */
struct lv_mm_notifier {
	struct mmu_notifier mn;
	spinlock_t lock;
	struct rb_root_cached slots;
	unsigned long invalidate_seq;
	long invalidate_in_progress;
};

static struct lv_mm_notifier *to_lmn(struct mmu_notifier *mn)
{
	return container_of(mn, struct lv_mm_notifier, mn);
}

/**
 * lv_vm_flush_tlbs() - make every vCPU drop translations of the VM
 * @vm: the VM
 *
 * vCPUs compare the VM's generation with their own before each entry and
 * flush when it moved; the IPI (waited for) forces running vCPUs out of
 * the guest so none keeps using a stale translation after we return.
 */
void lv_vm_flush_tlbs(struct lv_vm *vm)
{
	atomic64_inc(&vm->tlb_gen);
	lv_vcpu_kick_all(vm);
	spin_lock(&vm->mmu_lock);
	lv_vendor->vm_flushed(vm);
	spin_unlock(&vm->mmu_lock);
}

static u64 lv_slot_gpa(const struct lv_memslot *s)
{
	return s->base_gfn << PAGE_SHIFT;
}

static u64 lv_slot_bytes(const struct lv_memslot *s)
{
	return s->npages << PAGE_SHIFT;
}

/* Under lmn->lock: unmap the part of @s backed by host [start, last]. */
static void lv_unmap_slot_hva(struct lv_memslot *s, unsigned long start,
			      unsigned long last)
{
	struct lv_vm *vm = s->vm;
	unsigned long lo = max(start, s->hva_node.start);
	unsigned long hi = min(last, s->hva_node.last);

	spin_lock(&vm->mmu_lock);
	if (lv_vendor->vm_unmap_range(vm, lv_slot_gpa(s) + (lo - s->userspace_addr),
				      hi - lo + 1))
		vm->mn_flush_pending = true;
	spin_unlock(&vm->mmu_lock);
}

#define lv_for_each_slot_in(lmn, node, start, last)			\
	for ((node) = interval_tree_iter_first(&(lmn)->slots, start, last); \
	     node; (node) = interval_tree_iter_next(node, start, last))

/*
 * Under lmn->lock: unmap host [start, end) from every VM's EPT, then
 * flush each VM that lost a mapping once, however many of its slots the
 * range hit.
 */
static void lv_mn_unmap_all(struct lv_mm_notifier *lmn, unsigned long start,
			    unsigned long end)
{
	struct interval_tree_node *node;
	unsigned long last = end - 1;
	struct lv_vm *vm;

	lv_for_each_slot_in(lmn, node, start, last)
		lv_unmap_slot_hva(container_of(node, struct lv_memslot,
					       hva_node), start, last);
	lv_for_each_slot_in(lmn, node, start, last) {
		vm = container_of(node, struct lv_memslot, hva_node)->vm;
		if (vm->mn_flush_pending) {
			vm->mn_flush_pending = false;
			lv_vm_flush_tlbs(vm);
		}
	}
}

static int lv_mn_invalidate_range_start(struct mmu_notifier *mn,
					const struct mmu_notifier_range *range)
{
	struct lv_mm_notifier *lmn = to_lmn(mn);

	spin_lock(&lmn->lock);
	lmn->invalidate_in_progress++;
	lv_mn_unmap_all(lmn, range->start, range->end);
	spin_unlock(&lmn->lock);
	return 0;
}

static void lv_mn_invalidate_range_end(struct mmu_notifier *mn,
				       const struct mmu_notifier_range *range)
{
	struct lv_mm_notifier *lmn = to_lmn(mn);

	spin_lock(&lmn->lock);
	WRITE_ONCE(lmn->invalidate_seq, lmn->invalidate_seq + 1);
	smp_wmb();	/* seq before in_progress; see lv_mmu_retry() */
	WRITE_ONCE(lmn->invalidate_in_progress,
		   lmn->invalidate_in_progress - 1);
	spin_unlock(&lmn->lock);
}

/* The address space is going away: no guest access may follow. */
static void lv_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct lv_mm_notifier *lmn = to_lmn(mn);

	spin_lock(&lmn->lock);
	lv_mn_unmap_all(lmn, 0, ULONG_MAX);
	spin_unlock(&lmn->lock);
}

static struct mmu_notifier *lv_mn_alloc(struct mm_struct *mm)
{
	struct lv_mm_notifier *lmn = kzalloc(sizeof(*lmn), GFP_KERNEL_ACCOUNT);

	if (!lmn)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&lmn->lock);
	lmn->slots = RB_ROOT_CACHED;
	return &lmn->mn;
}

static void lv_mn_free(struct mmu_notifier *mn)
{
	kfree(to_lmn(mn));
}

static const struct mmu_notifier_ops lv_mmu_notifier_ops = {
	.invalidate_range_start	= lv_mn_invalidate_range_start,
	.invalidate_range_end	= lv_mn_invalidate_range_end,
	.release		= lv_mn_release,
	.alloc_notifier		= lv_mn_alloc,
	.free_notifier		= lv_mn_free,
};

/*
 * Called before @mm is published in vm->mm (creation, LV_BIND_VM): a
 * VM with an address space always has its notifier.
 */
int lv_mmu_notifier_register(struct lv_vm *vm, struct mm_struct *mm)
{
	struct mmu_notifier *mn;

	if (!lv_vendor)
		return 0;
	mn = mmu_notifier_get(&lv_mmu_notifier_ops, mm);
	if (IS_ERR(mn))
		return PTR_ERR(mn);
	vm->mm_notifier = to_lmn(mn);
	return 0;
}

void lv_mmu_notifier_unregister(struct lv_vm *vm)
{
	struct lv_mm_notifier *lmn = vm->mm_notifier;
	struct lv_memslot *s;
	unsigned int i;

	/* No backend, or an unbound VM: never registered, never had slots. */
	if (!lmn)
		return;
	/* Callbacks search under the lock: none finds this VM after. */
	spin_lock(&lmn->lock);
	lv_for_each_memslot(vm, i, s)
		interval_tree_remove(&s->hva_node, &lmn->slots);
	spin_unlock(&lmn->lock);
	mmu_notifier_put(&lmn->mn);
	vm->mm_notifier = NULL;
}

static void lv_set_slot(struct lv_vm *vm, u32 id, struct lv_memslot *s)
{
	vm->slots[id] = s;
	if (s)
		__set_bit(id, vm->used_slots);
	else
		__clear_bit(id, vm->used_slots);
}

/**
 * lv_mmu_slot_replace() - put @new in slot @id and unmap the old slot
 * @vm: the VM, with slots_lock held for writing
 * @id: slot index
 * @new: the new slot, or NULL to delete
 *
 * The swap, the unmap of the old slot and the TLB flush happen under the
 * notifier's lock, so an invalidation of the old slot's host range either
 * ran before (and unmapped it itself) or runs after nothing of it is left
 * mapped: the host never frees a page a guest can still reach.
 */
void lv_mmu_slot_replace(struct lv_vm *vm, u32 id, struct lv_memslot *new)
{
	struct lv_mm_notifier *lmn = vm->mm_notifier;
	struct lv_memslot *old = vm->slots[id];
	bool flush = false;

	if (new) {
		new->vm = vm;
		new->hva_node.start = new->userspace_addr;
		new->hva_node.last = new->userspace_addr + lv_slot_bytes(new) - 1;
	}
	if (!lmn) {	/* no backend: nothing is ever mapped */
		spin_lock(&vm->mmu_lock);
		lv_set_slot(vm, id, new);
		spin_unlock(&vm->mmu_lock);
		return;
	}

	spin_lock(&lmn->lock);
	spin_lock(&vm->mmu_lock);
	lv_set_slot(vm, id, new);
	if (old) {
		interval_tree_remove(&old->hva_node, &lmn->slots);
		flush = lv_vendor->vm_unmap_range(vm, lv_slot_gpa(old),
						  lv_slot_bytes(old));
	}
	if (new) {
		interval_tree_insert(&new->hva_node, &lmn->slots);
		/* RAM over the APIC base: the APIC-access page goes. */
		if (lv_slot_gpa(new) <= APIC_DEFAULT_PHYS_BASE &&
		    APIC_DEFAULT_PHYS_BASE - lv_slot_gpa(new) < lv_slot_bytes(new))
			flush |= lv_vendor->vm_unmap_range(vm, APIC_DEFAULT_PHYS_BASE,
							   PAGE_SIZE);
	}
	spin_unlock(&vm->mmu_lock);
	if (flush)
		lv_vm_flush_tlbs(vm);
	spin_unlock(&lmn->lock);
}

/* Wait for notifiers freed after their last put: their code is ours. */
void lv_mmu_module_exit(void)
{
	mmu_notifier_synchronize();
}

/* Drop guest mappings of a guest-physical range (slot removed, dirty log). */
void lv_mmu_zap_range(struct lv_vm *vm, u64 gpa, u64 size)
{
	bool flush;

	if (!lv_vendor)
		return;
	spin_lock(&vm->mmu_lock);
	flush = lv_vendor->vm_unmap_range(vm, gpa, size);
	spin_unlock(&vm->mmu_lock);
	if (flush)
		lv_vm_flush_tlbs(vm);
}

/*
 * Called under the VM's mmu_lock, which every invalidation takes to unmap
 * this VM after raising in_progress: either the invalidation has not
 * reached this VM yet (and will unmap what we map), or we see it running,
 * or it ended and moved the sequence count.
 */
static bool lv_mmu_retry(struct lv_vm *vm, unsigned long seq)
{
	struct lv_mm_notifier *lmn = vm->mm_notifier;

	lockdep_assert_held(&vm->mmu_lock);
	if (READ_ONCE(lmn->invalidate_in_progress))
		return true;
	smp_rmb();	/* in_progress before seq; see range_end */
	return READ_ONCE(lmn->invalidate_seq) != seq;
}

/**
 * lv_memslot_can_map_2m() - may the 2 MiB guest page holding @gfn be one leaf
 * @slot: the slot holding @gfn
 * @gfn: guest frame number
 *
 * True when the whole 2 MiB-aligned guest range around @gfn lies in @slot,
 * its guest and host addresses are congruent modulo 2 MiB (so one host
 * huge page can back it), and the slot does not log dirty pages (which is
 * tracked per 4 KiB page). Whether the host really maps the range with a
 * huge page is checked separately, under mmu_lock.
 */
bool lv_memslot_can_map_2m(const struct lv_memslot *slot, u64 gfn)
{
	u64 base = ALIGN_DOWN(gfn, LV_PAGES_PER_2M);

	if (slot->dirty_bitmap)
		return false;
	if (base < slot->base_gfn ||
	    base + LV_PAGES_PER_2M > slot->base_gfn + slot->npages)
		return false;
	return !(((slot->userspace_addr >> PAGE_SHIFT) ^ slot->base_gfn) &
		 (LV_PAGES_PER_2M - 1));
}
EXPORT_SYMBOL_IF_KUNIT(lv_memslot_can_map_2m);

/*
 * The size of the host mapping of @hva in @mm: LV_MAP_2M if a PMD (or PUD)
 * leaf maps it, and maps it writable when @write. Only meaningful under
 * mmu_lock with no invalidation since the page was looked up (the caller
 * checked lv_mmu_retry()): then the host mapping cannot have changed
 * without our notifier running, so the huge page seen here is the one
 * holding the page we got. Interrupts stay off during the walk so the
 * host page tables it reads cannot be freed under it (their freeing waits
 * for an IPI or an RCU grace period); every entry is read once, as it may
 * change (say, a table collapsed into a huge page) while we look.
 */
static enum lv_map_level lv_host_mapping_level(struct mm_struct *mm,
					       unsigned long hva, bool write)
{
	enum lv_map_level level = LV_MAP_4K;
	unsigned long flags;
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;

	local_irq_save(flags);
	pgd = READ_ONCE(*pgd_offset(mm, hva));
	if (pgd_none(pgd) || !pgd_present(pgd))
		goto out;
	p4d = READ_ONCE(*p4d_offset(&pgd, hva));
	if (p4d_none(p4d) || !p4d_present(p4d))
		goto out;
	pud = READ_ONCE(*pud_offset(&p4d, hva));
	if (pud_none(pud) || !pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		if (!write || pud_write(pud))
			level = LV_MAP_2M;
		goto out;
	}
	pmd = READ_ONCE(*pmd_offset(&pud, hva));
	if (pmd_none(pmd) || !pmd_present(pmd))
		goto out;
	if (pmd_leaf(pmd) && (!write || pmd_write(pmd)))
		level = LV_MAP_2M;
out:
	local_irq_restore(flags);
	return level;
}

/*
 * The host page behind @hva, with a reference, and whether the guest may
 * write it (LV_PROT_WRITE cleared in @prot if not). A write fault takes
 * the page for writing, breaking copy-on-write. A read fault maps the page
 * writable only if the host already maps it writable; otherwise it takes
 * the page as the host has it (a MAP_PRIVATE file's page-cache page, the
 * shared zero page), read-only, and the guest's first write faults again
 * and copies then. Taking every fault with FOLL_WRITE would copy each page
 * a guest only reads: a child forked from a snapshot, whose memory is the
 * file mapped MAP_PRIVATE, would own a copy of everything its guest read.
 */
static int lv_get_guest_page(unsigned long hva, bool write, unsigned int *prot,
			     struct page **page)
{
	unsigned int gup = 0;
	int got;

	if ((*prot & LV_PROT_WRITE) && write) {
		gup = FOLL_WRITE;
	} else if (*prot & LV_PROT_WRITE) {
		if (get_user_page_fast_only(hva, FOLL_WRITE, page))
			return 0;
		*prot &= ~LV_PROT_WRITE;
	}
	got = get_user_pages_fast(hva, 1, gup, page);
	if (got == 1)
		return 0;
	return got < 0 ? got : -EFAULT;
}

/**
 * lv_mmu_page_fault() - map the page behind a faulting guest-physical address
 * @vcpu: the faulting vCPU, running in its VM's address space
 * @gpa: guest-physical address
 * @write: the access was a write
 *
 * Maps a 2 MiB leaf when the slot allows it (lv_memslot_can_map_2m()) and
 * the host maps the page with a huge page (transparent or hugetlbfs),
 * else a 4 KiB leaf. A read fault maps the page read-only unless the host
 * maps it writable already (lv_get_guest_page()).
 *
 * Return: 0 when the guest can retry the access (mapped, or raced with an
 * invalidation), -ENOENT when the address is not guest RAM or is a write to
 * read-only RAM (an MMIO exit), another negative errno when the host memory
 * behind the slot is gone.
 */
int lv_mmu_page_fault(struct lv_vcpu *vcpu, u64 gpa, bool write)
{
	struct lv_vm *vm = vcpu->vm;
	enum lv_map_level level = LV_MAP_4K;
	struct lv_memslot *slot;
	unsigned int prot = LV_PROT_RWX;
	unsigned long hva, seq;
	struct page *page;
	u64 gfn = gpa >> PAGE_SHIFT;
	u64 map_gpa, hpa;
	bool try_2m;
	int ret;

	down_read(&vm->slots_lock);
	slot = lv_memslot_find(vm, gpa);
	ret = -ENOENT;
	if (!slot) {
		/* The APIC-access page, or an assigned device's BAR: mapped. */
		ret = lv_apic_access_fault(vm, gpa);
		if (ret == -ENOENT)
			ret = lv_iommu_bar_fault(vm, gpa);
		goto out;
	}
	if (write && (slot->flags & LV_MEM_READONLY))
		goto out;

	ret = lv_vendor->mmu_topup(vcpu);
	if (ret)
		goto out;

	hva = slot->userspace_addr + ((gfn - slot->base_gfn) << PAGE_SHIFT);
	seq = READ_ONCE(vm->mm_notifier->invalidate_seq);
	smp_rmb();	/* read seq before the host page tables */

	if (slot->flags & LV_MEM_READONLY)
		prot &= ~LV_PROT_WRITE;
	ret = lv_get_guest_page(hva, write, &prot, &page);
	if (ret)
		goto out;

	/* Dirty logging: map clean pages read-only so the first write traps. */
	if (slot->dirty_bitmap) {
		if (write)
			set_bit(gfn - slot->base_gfn, slot->dirty_bitmap);
		else
			prot &= ~LV_PROT_WRITE;
	}
	try_2m = lv_memslot_can_map_2m(slot, gfn);

	spin_lock(&vm->mmu_lock);
	ret = 0;
	if (lv_mmu_retry(vm, seq))
		goto unlock;
	map_gpa = gpa & PAGE_MASK;
	hpa = page_to_phys(page);
	if (try_2m && lv_host_mapping_level(vm->mm, hva,
					    prot & LV_PROT_WRITE) == LV_MAP_2M) {
		/* A huge host mapping is physically contiguous and aligned. */
		u64 off = hva & (SZ_2M - 1);

		if (!WARN_ON_ONCE(!IS_ALIGNED(hpa - off, SZ_2M))) {
			level = LV_MAP_2M;
			map_gpa = ALIGN_DOWN(gpa, SZ_2M);
			hpa -= off;
		}
	}
	ret = lv_vendor->mmu_map(vcpu, map_gpa, hpa, level, prot);
unlock:
	spin_unlock(&vm->mmu_lock);
	put_page(page);
	if (ret > 0) {
		lv_vm_flush_tlbs(vm);
		ret = 0;
	}
	this_cpu_inc(lv_stats.tdp_faults);
	if (level == LV_MAP_2M)
		this_cpu_inc(lv_stats.tdp_2m_maps);
out:
	up_read(&vm->slots_lock);
	return ret;
}
