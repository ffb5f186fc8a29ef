/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lightvisor - EPT page-table library.
 *
 * Owns one VM's 4-level Extended Page Table (Intel SDM vol. 3C, chapter
 * "EPT").  Pure page-table manipulation: no VMX instruction is executed
 * here, invalidating cached translations (INVEPT) is the caller's job.
 *
 * Locking: every function except lv_ept_init(), lv_ept_destroy(),
 * lv_ept_cache_topup(), lv_ept_cache_free() and lv_ept_map_phys() (which
 * takes the lock it is given) may be called under the caller's per-VM
 * spinlock and must be serialised by it (lv_ept_walk() and
 * lv_ept_pointer() only read and may share the lock with readers if the
 * caller has such a lock).  Nothing here sleeps under that lock: table
 * pages come from a struct lv_ept_cache that the caller tops up before
 * taking the lock.
 *
 * Flushing: an operation that returns "flush needed" removed or changed a
 * translation the CPUs may have cached.  The caller must INVEPT (on all
 * CPUs that ran the VM) before it relies on the change, e.g. before it
 * releases a guest page that was unmapped, and then call
 * lv_ept_free_zapped() to free the table pages that were unlinked.
 */
#ifndef LIGHTVISOR_EPT_H
#define LIGHTVISOR_EPT_H

#include <linux/bits.h>
#include <linux/list.h>
#include <linux/spinlock_types.h>
#include <linux/types.h>

/* The API is exported only for the KUnit test module. */
#include <kunit/visibility.h>

/*
 * EPT entry bits (SDM vol. 3C, "EPT Translation Mechanism").  An entry is
 * present iff one of bits 2:0 is set (mode-based execute control, which
 * would add bit 10, is never enabled by lightvisor).
 */
#define EPT_READ		BIT_ULL(0)
#define EPT_WRITE		BIT_ULL(1)
#define EPT_EXEC		BIT_ULL(2)
#define EPT_PERM_MASK		(EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MT_SHIFT		3		/* leaf memory type, bits 5:3 */
#define EPT_MT_WB		6ULL
#define EPT_IPAT		BIT_ULL(6)	/* leaf: ignore guest PAT */
#define EPT_LARGE		BIT_ULL(7)	/* 2M/1G leaf in a PDE/PDPTE */
#define EPT_ACCESSED		BIT_ULL(8)	/* set by the CPU if A/D on */
#define EPT_DIRTY		BIT_ULL(9)	/* set by the CPU if A/D on */
#define EPT_ADDR_MASK		GENMASK_ULL(51, 12)

/* Permissions accepted by lv_ept_map(); same values as EPT bits 2:0. */
#define LV_EPT_R		BIT(0)
#define LV_EPT_W		BIT(1)
#define LV_EPT_X		BIT(2)
#define LV_EPT_RWX		(LV_EPT_R | LV_EPT_W | LV_EPT_X)
/* Not a permission: map with memory type UC instead of WB (device memory). */
#define LV_EPT_UC		BIT(3)

/* Page sizes a leaf can map; the value is the EPT level holding the leaf. */
enum lv_ept_level {
	LV_EPT_4K = 1,
	LV_EPT_2M = 2,
	LV_EPT_1G = 3,	/* only if the CPU supports it: the caller checks */
};

/*
 * Table pages one worst-case operation may need: a 4K map into an empty
 * PML4 slot needs 3 (PDPT, PD, PT); an unmap or protect whose two ends fall
 * in two different 1 GiB leaves needs 2 splits at each end.
 */
#define LV_EPT_CACHE_PAGES	4

struct lv_ept_cache {
	int nr;
	void *pages[LV_EPT_CACHE_PAGES];
};

/*
 * AMD nested page tables (APM vol. 2, 15.25) are ordinary x86-64 page
 * tables: the same four levels, table layout and large-page bit 7 as EPT,
 * but other leaf bits. Bits 2:0 of a table entry are P, R/W and U/S, so
 * the table entries this library writes (bits 2:0 all set) mean "present,
 * writable, user" there, and an entry it clears is 0 in both formats.
 * Leaves differ: see leaf_bits() in ept.c.
 */
#define NPT_PRESENT		BIT_ULL(0)
#define NPT_WRITE		BIT_ULL(1)
#define NPT_USER		BIT_ULL(2)	/* guest accesses are user ones */
#define NPT_PWT			BIT_ULL(3)
#define NPT_PCD			BIT_ULL(4)
#define NPT_ACCESSED		BIT_ULL(5)
#define NPT_DIRTY		BIT_ULL(6)
#define NPT_NX			BIT_ULL(63)

/* Which entry format a table uses. */
enum lv_pt_format {
	LV_PT_EPT,
	LV_PT_NPT,
};

struct lv_ept {
	enum lv_pt_format format;
	u64 *pml4;			/* root table, kernel virtual address */
	unsigned long nr_table_pages;	/* tables linked in, root included */
	unsigned long nr_zapped;	/* unlinked, waiting for free_zapped */
	struct list_head zapped;	/* via page->lru */
};

int lv_ept_cache_topup(struct lv_ept_cache *c, gfp_t gfp);
void lv_ept_cache_free(struct lv_ept_cache *c);

int lv_ept_init(struct lv_ept *ept);
int lv_ept_init_format(struct lv_ept *ept, enum lv_pt_format format);
void lv_ept_destroy(struct lv_ept *ept);
void lv_ept_free_zapped(struct lv_ept *ept);
u64 lv_ept_pointer(const struct lv_ept *ept, bool ad_bits);
u64 lv_npt_cr3(const struct lv_ept *ept);

/* Return <0 on error, 0 if no flush is needed, 1 if a flush is needed. */
int lv_ept_map(struct lv_ept *ept, struct lv_ept_cache *cache, u64 gpa,
	       u64 hpa, enum lv_ept_level level, unsigned int prot);
int lv_ept_map_phys(struct lv_ept *ept, spinlock_t *lock, u64 gpa, u64 hpa,
		    u64 size, unsigned int prot);
int lv_ept_protect_range(struct lv_ept *ept, struct lv_ept_cache *cache,
			 u64 gpa, u64 size, unsigned int clear);

bool lv_ept_unmap_range(struct lv_ept *ept, struct lv_ept_cache *cache,
			u64 gpa, u64 size,
			void (*unmapped)(void *ctx, u64 gpa, u64 hpa, u64 size),
			void *ctx);

int lv_ept_walk(const struct lv_ept *ept, u64 gpa, u64 *hpa,
		unsigned int *prot, enum lv_ept_level *level);
unsigned long lv_ept_collect_dirty(struct lv_ept *ept, u64 gpa, u64 npages,
				   unsigned long *bitmap);

/* Raw leaf entry, for tests and debugging; NULL if not mapped. */
u64 *lv_ept_lookup(const struct lv_ept *ept, u64 gpa,
		   enum lv_ept_level *level);

#endif /* LIGHTVISOR_EPT_H */
