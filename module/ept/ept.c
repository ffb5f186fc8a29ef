// SPDX-License-Identifier: GPL-2.0
/*
 * lightvisor - EPT page-table library.  See ept.h for the contract.
 *
 * Hardware rules relied on here (Intel SDM vol. 3C, chapter "EPT"):
 *
 * - Four levels: PML4 (4), PDPT (3), PD (2), PT (1), 512 8-byte entries
 *   each, translating a 48-bit guest-physical address.  Bits 51:12 of an
 *   entry hold a host-physical address; bits above MAXPHYADDR are reserved.
 * - Bits 2:0 are read/write/execute.  The permission of a translation is
 *   the AND of the permissions at every level, so non-leaf entries grant
 *   RWX and the leaf decides.  An entry with bits 2:0 all clear is not
 *   present and the CPU ignores its other bits (including bit 63, "suppress
 *   #VE", which must stay clear unless EPT-violation #VE is in use).
 * - Write without read (and write+execute without read) is an EPT
 *   *misconfiguration*, a distinct VM exit meaning "the hypervisor built a
 *   bad table", so such leaves are refused.  Execute-only is legal only if
 *   IA32_VMX_EPT_VPID_CAP bit 0 says so; the caller checks that.
 * - In a leaf, bits 5:3 are the memory type.  RAM is mapped write-back (6)
 *   with IPAT (bit 6) clear, so the effective type is WB combined with the
 *   guest's PAT, like MTRR=WB on bare metal: a guest that maps its own
 *   pages UC or WC (e.g. for a device it drives) gets what it asked for.
 * - Bit 7 in a PDPTE/PDE makes it a 1G/2M leaf; the address must then be
 *   aligned to the page size (lower address bits are reserved).  Bit 7 is
 *   reserved in a PML4E and ignored in a PTE.  Bits 8/9 are accessed/dirty,
 *   set by the CPU with locked operations when the EPTP enables A/D, which
 *   is why leaves are modified with xchg/cmpxchg, never read-modify-write.
 * - The same code builds AMD nested page tables (lv_ept_init_format()
 *   with LV_PT_NPT): the tables are alike, only leaves differ. A leaf
 *   there is P, R/W, U/S (always set: the CPU checks guest accesses as
 *   user ones), NX for "no execute", PCD/PWT for the memory type, and
 *   the CPU always sets its A (bit 5) and D (bit 6).
 * - The CPU caches translations and paging-structure entries (tagged by
 *   EPTP) until INVEPT.  Hence a table page that was unlinked may still be
 *   walked by another CPU until the caller's INVEPT: it is put on a "zapped"
 *   list, left unmodified, and freed by lv_ept_free_zapped() afterwards.
 */
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <asm/processor.h>

#include "ept.h"

#define EPT_LEVELS		4
#define EPT_ENTRIES		512
#define EPT_GPA_LIMIT		BIT_ULL(48)	/* 4 levels x 9 bits + 12 */

/* EPT pointer (VMCS field): bits 2:0 type of the tables, 5:3 levels - 1 */
#define EPTP_MT_WB		6ULL
#define EPTP_WALK_LENGTH	((EPT_LEVELS - 1ULL) << 3)
#define EPTP_AD_ENABLE		BIT_ULL(6)

/*
 * Non-leaf entry: table address, all permissions, nothing else. In an
 * NPT table entry the same bits are P, R/W and U/S.
 */
#define EPT_TABLE_BITS		EPT_PERM_MASK

static unsigned int level_shift(int level)
{
	return PAGE_SHIFT + 9 * (level - 1);
}

static u64 level_size(int level)
{
	return BIT_ULL(level_shift(level));
}

static unsigned int ept_index(u64 gpa, int level)
{
	return (gpa >> level_shift(level)) & (EPT_ENTRIES - 1);
}

static bool ept_present(u64 e)
{
	return e & EPT_PERM_MASK;
}

static bool ept_leaf(u64 e, int level)
{
	return level == LV_EPT_4K || (e & EPT_LARGE);
}

static u64 *ept_table(u64 e)
{
	return __va(e & EPT_ADDR_MASK);
}

/* Atomically clear @bits in an entry the CPU may be setting A/D in. */
static u64 ept_clear_bits(u64 *ptep, u64 bits)
{
	u64 old = READ_ONCE(*ptep);

	do {
		if (!(old & bits))
			break;
	} while (!try_cmpxchg64(ptep, &old, old & ~bits));
	return old;
}

/* The accessed and dirty bits of a leaf in the table's format. */
static u64 ad_bits(const struct lv_ept *ept)
{
	if (ept->format == LV_PT_NPT)
		return NPT_ACCESSED | NPT_DIRTY;
	return EPT_ACCESSED | EPT_DIRTY;
}

static u64 dirty_bit(const struct lv_ept *ept)
{
	return ept->format == LV_PT_NPT ? NPT_DIRTY : EPT_DIRTY;
}

/* The bits of a leaf that carry its permissions. */
static u64 perm_bits(const struct lv_ept *ept)
{
	if (ept->format == LV_PT_NPT)
		return NPT_PRESENT | NPT_WRITE | NPT_USER | NPT_NX;
	return EPT_PERM_MASK;
}

/* A leaf's permissions as LV_EPT_R/W/X. */
static unsigned int leaf_prot(const struct lv_ept *ept, u64 e)
{
	unsigned int prot = LV_EPT_R;

	if (ept->format != LV_PT_NPT)
		return e & EPT_PERM_MASK;
	if (e & NPT_WRITE)
		prot |= LV_EPT_W;
	if (!(e & NPT_NX))
		prot |= LV_EPT_X;
	return prot;
}

/* Permission and memory-type bits of a leaf for @prot (LV_EPT_*). */
static u64 leaf_bits(const struct lv_ept *ept, unsigned int prot)
{
	u64 bits;

	if (ept->format != LV_PT_NPT) {
		/* UC is memory type 0: the field stays clear. */
		bits = prot & LV_EPT_RWX;
		if (!(prot & LV_EPT_UC))
			bits |= EPT_MT_WB << EPT_MT_SHIFT;
		return bits;
	}
	bits = NPT_PRESENT | NPT_USER;
	if (prot & LV_EPT_W)
		bits |= NPT_WRITE;
	if (!(prot & LV_EPT_X))
		bits |= NPT_NX;
	/* PAT entry 3 is UC: with the guest's own PAT, never cached. */
	if (prot & LV_EPT_UC)
		bits |= NPT_PCD | NPT_PWT;
	return bits;
}

/* Atomically give a leaf the permissions @prot, keeping its other bits. */
static void set_leaf_prot(const struct lv_ept *ept, u64 *ptep,
			  unsigned int prot)
{
	u64 old = READ_ONCE(*ptep), new;

	do {
		new = (old & ~perm_bits(ept)) |
		      (leaf_bits(ept, prot) & perm_bits(ept));
	} while (!try_cmpxchg64(ptep, &old, new));
}

int lv_ept_cache_topup(struct lv_ept_cache *c, gfp_t gfp)
{
	while (c->nr < LV_EPT_CACHE_PAGES) {
		void *page = (void *)get_zeroed_page(gfp);

		if (!page)
			return -ENOMEM;
		c->pages[c->nr++] = page;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_cache_topup);

void lv_ept_cache_free(struct lv_ept_cache *c)
{
	while (c->nr > 0)
		free_page((unsigned long)c->pages[--c->nr]);
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_cache_free);

/* Callers check c->nr first: running dry here is a bug. */
static u64 *cache_pop(struct lv_ept_cache *c)
{
	return c->pages[--c->nr];
}

/*
 * Point *ptep at @table.  The table is fully written before it is linked;
 * x86 does not reorder stores, so the CPU's walker sees it complete.
 */
static void link_table(struct lv_ept *ept, u64 *ptep, u64 *table)
{
	WRITE_ONCE(*ptep, __pa(table) | EPT_TABLE_BITS);
	ept->nr_table_pages++;
}

/*
 * Queue @table (at @level) and every table below it for freeing after the
 * caller's INVEPT.  The entries are left intact: a CPU still walking the
 * unlinked tables from its paging-structure cache sees the translations
 * it may still have cached anyway, never garbage.
 */
static void zap_table(struct lv_ept *ept, u64 *table, int level)
{
	int i;

	for (i = 0; level > LV_EPT_4K && i < EPT_ENTRIES; i++) {
		u64 e = READ_ONCE(table[i]);

		if (ept_present(e) && !ept_leaf(e, level))
			zap_table(ept, ept_table(e), level - 1);
	}
	list_add(&virt_to_page(table)->lru, &ept->zapped);
	ept->nr_table_pages--;
	ept->nr_zapped++;
}

static bool table_empty(const u64 *table)
{
	int i;

	for (i = 0; i < EPT_ENTRIES; i++)
		if (ept_present(READ_ONCE(table[i])))
			return false;
	return true;
}

/*
 * Replace the large leaf *ptep at @level by a table of 512 leaves one
 * level down that map the same range: child i maps gpa + i * child_size to
 * hpa + i * child_size with the same permissions, memory type and A/D
 * bits.  The hpa stays contiguous so every guest-physical address still
 * translates exactly as before; the CPU may keep using the old large
 * translation until the next INVEPT and that is harmless, so splitting by
 * itself needs no flush.  cmpxchg makes sure an A/D update by the CPU
 * between building the children and linking them is not lost.
 */
static u64 *split_leaf(struct lv_ept *ept, struct lv_ept_cache *cache,
		       u64 *ptep, int level)
{
	u64 child_size = level_size(level - 1);
	u64 *table = cache_pop(cache);
	u64 old = READ_ONCE(*ptep);
	int i;

	do {
		u64 flags = old & ~EPT_ADDR_MASK;
		u64 hpa = old & EPT_ADDR_MASK;

		if (level - 1 == LV_EPT_4K)
			flags &= ~EPT_LARGE;
		for (i = 0; i < EPT_ENTRIES; i++)
			table[i] = (hpa + i * child_size) | flags;
	} while (!try_cmpxchg64(ptep, &old, __pa(table) | EPT_TABLE_BITS));
	ept->nr_table_pages++;
	return table;
}

int lv_ept_init_format(struct lv_ept *ept, enum lv_pt_format format)
{
	ept->format = format;
	ept->pml4 = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!ept->pml4)
		return -ENOMEM;
	ept->nr_table_pages = 1;
	ept->nr_zapped = 0;
	INIT_LIST_HEAD(&ept->zapped);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_init_format);

int lv_ept_init(struct lv_ept *ept)
{
	return lv_ept_init_format(ept, LV_PT_EPT);
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_init);

/*
 * Free the tables unlinked by earlier operations.  Call it, under the
 * caller's lock, once an INVEPT has followed those operations.
 */
void lv_ept_free_zapped(struct lv_ept *ept)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, &ept->zapped, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	ept->nr_zapped = 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_free_zapped);

/*
 * Free every table page; guest pages are not touched.  The EPTP must no
 * longer be loaded on any CPU and must have been invalidated with INVEPT,
 * otherwise cached paging-structure entries could outlive the pages.
 */
void lv_ept_destroy(struct lv_ept *ept)
{
	if (!ept->pml4)
		return;
	zap_table(ept, ept->pml4, EPT_LEVELS);
	ept->pml4 = NULL;
	lv_ept_free_zapped(ept);
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_destroy);

/* @ad_bits requires IA32_VMX_EPT_VPID_CAP bit 21; the caller checks. */
u64 lv_ept_pointer(const struct lv_ept *ept, bool ad_bits)
{
	return (__pa(ept->pml4) & EPT_ADDR_MASK) | EPTP_MT_WB |
	       EPTP_WALK_LENGTH | (ad_bits ? EPTP_AD_ENABLE : 0);
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_pointer);

/* The nested CR3 of an LV_PT_NPT table (VMCB's N_CR3). */
u64 lv_npt_cr3(const struct lv_ept *ept)
{
	return __pa(ept->pml4);
}
EXPORT_SYMBOL_IF_KUNIT(lv_npt_cr3);

/*
 * Install a leaf mapping [gpa, gpa + size of @level) to @hpa, memory type
 * WB, or UC if @prot has LV_EPT_UC (device memory; the guest's PAT may
 * still make it WC, never cached).  Missing
 * tables are taken from @cache; a larger leaf covering @gpa is split (so
 * its other pages stay mapped); a table where the leaf goes is unlinked
 * ("merge": the new large leaf replaces all the small ones).
 *
 * Returns -EINVAL for bad arguments, -ENOMEM if @cache lacks pages (then
 * nothing was changed), 1 if a translation the CPU may have cached was
 * changed or removed (INVEPT needed), else 0.  Mapping over an existing
 * translation does not report it: a caller that tracks references to
 * guest pages must lv_ept_unmap_range() the old translation first.
 */
int lv_ept_map(struct lv_ept *ept, struct lv_ept_cache *cache, u64 gpa,
	       u64 hpa, enum lv_ept_level level, unsigned int prot)
{
	u64 size, new, old, *table, *ptep;
	int l, need = 0;

	if (level < LV_EPT_4K || level > LV_EPT_1G)
		return -EINVAL;
	if (!(prot & LV_EPT_RWX) || (prot & ~(LV_EPT_RWX | LV_EPT_UC)))
		return -EINVAL;
	/* W without R: EPT misconfiguration, see the top of this file. */
	if ((prot & LV_EPT_W) && !(prot & LV_EPT_R))
		return -EINVAL;
	size = level_size(level);
	if ((gpa | hpa) & (size - 1))
		return -EINVAL;
	if (gpa >= EPT_GPA_LIMIT || hpa >> boot_cpu_data.x86_phys_bits)
		return -EINVAL;

	/* Count the tables to allocate or split before changing anything. */
	table = ept->pml4;
	for (l = EPT_LEVELS; l > level; l--) {
		u64 e = READ_ONCE(table[ept_index(gpa, l)]);

		if (!ept_present(e) || ept_leaf(e, l)) {
			need = l - level;
			break;
		}
		table = ept_table(e);
	}
	if (cache->nr < need)
		return -ENOMEM;

	table = ept->pml4;
	for (l = EPT_LEVELS; l > level; l--) {
		u64 e;

		ptep = &table[ept_index(gpa, l)];
		e = READ_ONCE(*ptep);
		if (!ept_present(e)) {
			table = cache_pop(cache);
			link_table(ept, ptep, table);
		} else if (ept_leaf(e, l)) {
			table = split_leaf(ept, cache, ptep, l);
		} else {
			table = ept_table(e);
		}
	}

	new = hpa | leaf_bits(ept, prot);
	if (level > LV_EPT_4K)
		new |= EPT_LARGE;
	ptep = &table[ept_index(gpa, level)];
	old = READ_ONCE(*ptep);
	if (ept_present(old) && ept_leaf(old, level)) {
		u64 same = old & ~ad_bits(ept);
		u64 perm = perm_bits(ept);

		/* Identical leaf: keep it, and its A/D bits. */
		if (same == new)
			return 0;
		/*
		 * Same page, permissions only added: no flush.  A stale
		 * translation can only cause an EPT violation, and the CPU
		 * drops cached translations of the faulting address when it
		 * takes one; the fault handler finds the leaf already fixed.
		 */
		if ((same & ~perm) == (new & ~perm) &&
		    !(leaf_prot(ept, same) & ~leaf_prot(ept, new)) &&
		    try_cmpxchg64(ptep, &old, new | (old & ~same)))
			return 0;
	}
	old = xchg(ptep, new);
	if (!ept_present(old))
		return 0;
	if (!ept_leaf(old, level))
		zap_table(ept, ept_table(old), level - 1);
	return 1;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_map);

/**
 * lv_ept_map_phys() - map a host-physical range all at once
 * @ept: the table
 * @lock: the caller's lock that serialises changes to @ept
 * @gpa: first guest-physical address, page aligned
 * @hpa: first host-physical address, page aligned
 * @size: bytes to map, page aligned
 * @prot: as for lv_ept_map(): LV_EPT_R/W/X, maybe LV_EPT_UC
 *
 * For device memory (assigned BARs, the APIC-access page), which is not
 * faulted in page by page as guest RAM is. 2 MiB leaves are used where
 * both addresses and the rest of the range allow it. Table pages come from
 * a local cache, topped up outside @lock whenever it runs dry, so that
 * nothing sleeps under the lock however large the range.
 *
 * Context: process context; may sleep. Takes @lock around each batch of
 * lv_ept_map() calls.
 * Return: < 0 on error (the part already mapped stays mapped, for the
 * caller to remove), 1 if an old translation was replaced and must be
 * flushed, else 0.
 */
int lv_ept_map_phys(struct lv_ept *ept, spinlock_t *lock, u64 gpa, u64 hpa,
		    u64 size, unsigned int prot)
{
	struct lv_ept_cache cache = { .nr = 0 };
	enum lv_ept_level level;
	int ret = 0, flush = 0;
	u64 done = 0, step;

	while (done < size && !ret) {
		ret = lv_ept_cache_topup(&cache, GFP_KERNEL_ACCOUNT);
		if (ret)
			break;
		spin_lock(lock);
		while (done < size) {
			level = LV_EPT_4K;
			step = SZ_4K;
			if (!((gpa + done) & (SZ_2M - 1)) &&
			    !((hpa + done) & (SZ_2M - 1)) &&
			    size - done >= SZ_2M) {
				level = LV_EPT_2M;
				step = SZ_2M;
			}
			ret = lv_ept_map(ept, &cache, gpa + done, hpa + done,
					 level, prot);
			if (ret < 0)
				break;
			flush |= ret;
			ret = 0;
			done += step;
		}
		spin_unlock(lock);
		if (ret == -ENOMEM)
			ret = 0;	/* cache ran dry: top up, go on */
		cond_resched();
	}
	lv_ept_cache_free(&cache);
	return ret ? ret : flush;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_map_phys);

enum range_op { RANGE_UNMAP, RANGE_PROTECT, RANGE_DIRTY };

struct range_walk {
	enum range_op op;
	struct lv_ept_cache *cache;
	u64 start, end;			/* [start, end), 4K aligned */
	u64 clear;			/* PROTECT: permissions to remove */
	void (*unmapped)(void *ctx, u64 gpa, u64 hpa, u64 size);
	void *ctx;
	unsigned long *bitmap;		/* DIRTY: bit i = page start + i*4K */
	unsigned long count;		/* leaves changed / dirty 4K pages */
};

static void leaf_op(struct lv_ept *ept, struct range_walk *w, u64 *ptep,
		    int level, u64 gpa, bool whole)
{
	u64 size = level_size(level), old, lo, hi;
	unsigned int prot;

	switch (w->op) {
	case RANGE_UNMAP:
		/* Only reached for a partial leaf if no page to split it:
		 * then the whole leaf goes, which is always safe.
		 */
		old = xchg(ptep, 0);
		w->count++;
		if (w->unmapped)
			w->unmapped(w->ctx, gpa, old & EPT_ADDR_MASK, size);
		break;
	case RANGE_PROTECT:
		/* An execute-only leaf keeps X: protect never unmaps. */
		prot = leaf_prot(ept, READ_ONCE(*ptep));
		if (!(prot & w->clear) || !(prot & ~w->clear))
			break;
		set_leaf_prot(ept, ptep, prot & ~w->clear);
		w->count++;
		break;
	case RANGE_DIRTY:
		/*
		 * A leaf sticking out of the range keeps D: its pages outside
		 * the range were not collected.  Its pages inside are simply
		 * reported again next time, which is safe.
		 */
		old = whole ? ept_clear_bits(ptep, dirty_bit(ept)) :
			      READ_ONCE(*ptep);
		if (!(old & dirty_bit(ept)))
			break;
		lo = max(gpa, w->start);
		hi = min(gpa + size, w->end);
		bitmap_set(w->bitmap, (lo - w->start) >> PAGE_SHIFT,
			   (hi - lo) >> PAGE_SHIFT);
		w->count += (hi - lo) >> PAGE_SHIFT;
		break;
	}
}

/* Apply @w to the entries of @table (at @level, mapping from @base). */
static void walk_range(struct lv_ept *ept, struct range_walk *w,
		       u64 *table, int level, u64 base)
{
	u64 size = level_size(level);
	u64 gpa = ALIGN_DOWN(max(w->start, base), size);
	u64 end = min(w->end, base + EPT_ENTRIES * size);

	for (; gpa < end; gpa += size) {
		u64 *ptep = &table[ept_index(gpa, level)];
		u64 e = READ_ONCE(*ptep);
		bool whole = gpa >= w->start && gpa + size <= w->end;

		if (!ept_present(e))
			continue;
		/*
		 * A large leaf partly inside the range is split so that the
		 * part outside keeps its translation.
		 */
		if (ept_leaf(e, level) && !whole && w->op != RANGE_DIRTY &&
		    w->cache->nr > 0) {
			split_leaf(ept, w->cache, ptep, level);
			e = READ_ONCE(*ptep);
		}
		if (ept_leaf(e, level)) {
			leaf_op(ept, w, ptep, level, gpa, whole);
			continue;
		}
		walk_range(ept, w, ept_table(e), level - 1, gpa);
		if (w->op == RANGE_UNMAP && table_empty(ept_table(e))) {
			WRITE_ONCE(*ptep, 0);
			zap_table(ept, ept_table(e), level - 1);
		}
	}
}

/*
 * Clear every leaf in [gpa, gpa + size) (rounded out to 4K).  Large leaves
 * partly inside are split first, using @cache; should @cache run dry, the
 * whole leaf is unmapped instead, which is always safe (the guest faults
 * and the backend maps it again), so this cannot fail.  Emptied tables are
 * unlinked.  @unmapped, if not NULL, is called for every leaf removed; it
 * runs under the caller's lock and before the INVEPT, so it must only
 * record the page, not release it.  Returns true if anything was unmapped:
 * the caller must INVEPT, then lv_ept_free_zapped().
 */
bool lv_ept_unmap_range(struct lv_ept *ept, struct lv_ept_cache *cache,
			u64 gpa, u64 size,
			void (*unmapped)(void *ctx, u64 gpa, u64 hpa, u64 size),
			void *ctx)
{
	struct range_walk w = {
		.op = RANGE_UNMAP,
		.cache = cache,
		.start = ALIGN_DOWN(gpa, PAGE_SIZE),
		.unmapped = unmapped,
		.ctx = ctx,
	};

	if (gpa >= EPT_GPA_LIMIT || !size)
		return false;
	/* Nothing is mapped above EPT_GPA_LIMIT; this also avoids overflow. */
	if (size > EPT_GPA_LIMIT - gpa)
		w.end = EPT_GPA_LIMIT;
	else
		w.end = ALIGN(gpa + size, PAGE_SIZE);
	walk_range(ept, &w, ept->pml4, EPT_LEVELS, 0);
	return w.count;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_unmap_range);

/* Splits needed so that no leaf straddles @gpa. */
static int splits_needed(const struct lv_ept *ept, u64 gpa)
{
	u64 *table = ept->pml4;
	int l, n = 0;

	if (gpa >= EPT_GPA_LIMIT)
		return 0;
	for (l = EPT_LEVELS; l > LV_EPT_4K; l--) {
		u64 e = READ_ONCE(table[ept_index(gpa, l)]);

		if (!ept_present(e))
			return 0;
		if (ept_leaf(e, l)) {
			for (; l > LV_EPT_4K && gpa & (level_size(l) - 1); l--)
				n++;
			return n;
		}
		table = ept_table(e);
	}
	return 0;
}

/*
 * Remove the permissions @clear (LV_EPT_W and/or LV_EPT_X) from every leaf
 * in [gpa, gpa + size), e.g. LV_EPT_W to write-protect for dirty logging.
 * Large leaves partly inside are split.  Returns -EINVAL for bad
 * arguments, -ENOMEM if @cache cannot cover the splits (then nothing was
 * changed), 1 if permissions were removed (INVEPT needed), else 0.
 */
int lv_ept_protect_range(struct lv_ept *ept, struct lv_ept_cache *cache,
			 u64 gpa, u64 size, unsigned int clear)
{
	struct range_walk w = {
		.op = RANGE_PROTECT,
		.cache = cache,
		.start = gpa,
		.end = gpa + size,
		.clear = clear,
	};

	/* Removing R is unmapping; R alone would leave W-only leaves. */
	if (!clear || (clear & ~(LV_EPT_W | LV_EPT_X)))
		return -EINVAL;
	if ((gpa | size) & ~PAGE_MASK || w.end < gpa || w.end > EPT_GPA_LIMIT)
		return -EINVAL;
	if (cache->nr < splits_needed(ept, w.start) + splits_needed(ept, w.end))
		return -ENOMEM;
	walk_range(ept, &w, ept->pml4, EPT_LEVELS, 0);
	return w.count ? 1 : 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_protect_range);

/*
 * For every leaf with D set in [gpa, gpa + npages * 4K), set the bits of
 * its 4K pages in @bitmap (bit i = gpa + i * 4K; a 2M leaf sets 512 bits)
 * and clear D.  Returns the number of dirty 4K pages reported.  If it is
 * not 0, the caller must INVEPT before reading the pages: a CPU that
 * cached the translation with D set would not set D again.
 */
unsigned long lv_ept_collect_dirty(struct lv_ept *ept, u64 gpa, u64 npages,
				   unsigned long *bitmap)
{
	struct range_walk w = {
		.op = RANGE_DIRTY,
		.start = gpa,
		.bitmap = bitmap,
	};

	if (WARN_ON_ONCE(gpa & ~PAGE_MASK) || gpa >= EPT_GPA_LIMIT)
		return 0;
	npages = min(npages, (EPT_GPA_LIMIT - gpa) >> PAGE_SHIFT);
	w.end = gpa + (npages << PAGE_SHIFT);
	walk_range(ept, &w, ept->pml4, EPT_LEVELS, 0);
	return w.count;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_collect_dirty);

/*
 * Return the leaf entry mapping @gpa and its level, or NULL.  Only the
 * caller's lock keeps the pointer valid.
 */
u64 *lv_ept_lookup(const struct lv_ept *ept, u64 gpa,
		   enum lv_ept_level *level)
{
	u64 *table = ept->pml4;
	int l;

	if (gpa >= EPT_GPA_LIMIT)
		return NULL;
	for (l = EPT_LEVELS; l >= LV_EPT_4K; l--) {
		u64 *ptep = &table[ept_index(gpa, l)];
		u64 e = READ_ONCE(*ptep);

		if (!ept_present(e))
			return NULL;
		if (ept_leaf(e, l)) {
			*level = l;
			return ptep;
		}
		table = ept_table(e);
	}
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_lookup);

/*
 * Translate @gpa: host-physical address (with the offset inside the leaf),
 * permissions and leaf size.  Any output pointer may be NULL.  Returns
 * -ENOENT if @gpa is not mapped.
 */
int lv_ept_walk(const struct lv_ept *ept, u64 gpa, u64 *hpa,
		unsigned int *prot, enum lv_ept_level *level)
{
	enum lv_ept_level l;
	u64 *ptep = lv_ept_lookup(ept, gpa, &l);
	u64 e;

	if (!ptep)
		return -ENOENT;
	e = READ_ONCE(*ptep);
	if (hpa)
		*hpa = (e & EPT_ADDR_MASK) + (gpa & (level_size(l) - 1));
	if (prot)
		*prot = leaf_prot(ept, e);
	if (level)
		*level = l;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ept_walk);
