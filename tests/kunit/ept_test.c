// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the lightvisor EPT library (module/ept/).
 *
 * Host-physical addresses here are made up: the library never touches
 * guest pages, only its own table pages.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/sizes.h>

#include "../../module/ept/ept.h"

#define HPA_A		0x40000000ULL	/* 1G aligned */
#define HPA_B		0x80000000ULL	/* 1G aligned */

struct ept_fixture {
	struct lv_ept ept;
	struct lv_ept_cache cache;
};

struct unmap_log {
	int n;
	u64 gpa[4], hpa[4], size[4];
};

static void record_unmap(void *ctx, u64 gpa, u64 hpa, u64 size)
{
	struct unmap_log *log = ctx;

	if (log->n < ARRAY_SIZE(log->gpa)) {
		log->gpa[log->n] = gpa;
		log->hpa[log->n] = hpa;
		log->size[log->n] = size;
	}
	log->n++;
}

static int ept_test_init(struct kunit *test)
{
	struct ept_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_EQ(test, lv_ept_init(&f->ept), 0);
	test->priv = f;
	KUNIT_ASSERT_EQ(test, lv_ept_cache_topup(&f->cache, GFP_KERNEL_ACCOUNT),
			0);
	return 0;
}

static void ept_test_exit(struct kunit *test)
{
	struct ept_fixture *f = test->priv;

	if (!f)
		return;
	lv_ept_destroy(&f->ept);
	lv_ept_cache_free(&f->cache);
}

static struct ept_fixture *fixture(struct kunit *test)
{
	struct ept_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, lv_ept_cache_topup(&f->cache, GFP_KERNEL_ACCOUNT),
			0);
	return f;
}

/* Assert that @gpa translates to @hpa with @prot at @level. */
static void expect_walk(struct kunit *test, struct lv_ept *ept, u64 gpa,
			u64 hpa, unsigned int prot, enum lv_ept_level level)
{
	enum lv_ept_level l;
	unsigned int p;
	u64 h;

	KUNIT_ASSERT_EQ_MSG(test, lv_ept_walk(ept, gpa, &h, &p, &l), 0,
			    "gpa %#llx not mapped", gpa);
	KUNIT_EXPECT_EQ_MSG(test, h, hpa, "gpa %#llx", gpa);
	KUNIT_EXPECT_EQ_MSG(test, p, prot, "gpa %#llx", gpa);
	KUNIT_EXPECT_EQ_MSG(test, l, level, "gpa %#llx", gpa);
}

static void expect_unmapped(struct kunit *test, struct lv_ept *ept, u64 gpa)
{
	KUNIT_EXPECT_EQ_MSG(test, lv_ept_walk(ept, gpa, NULL, NULL, NULL),
			    -ENOENT, "gpa %#llx", gpa);
}

static void ept_map_walk_4k(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0x1000, 0xabc000,
					 LV_EPT_4K, LV_EPT_RWX), 0);
	expect_walk(test, &f->ept, 0x1000, 0xabc000, LV_EPT_RWX, LV_EPT_4K);
	expect_walk(test, &f->ept, 0x1fff, 0xabcfff, LV_EPT_RWX, LV_EPT_4K);
	expect_unmapped(test, &f->ept, 0x0);
	expect_unmapped(test, &f->ept, 0x2000);
	/* PML4 + PDPT + PD + PT */
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 4);
	KUNIT_EXPECT_EQ(test, f->cache.nr, LV_EPT_CACHE_PAGES - 3);
}

static void ept_map_walk_2m(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_A,
					 LV_EPT_2M, LV_EPT_R | LV_EPT_W), 0);
	expect_walk(test, &f->ept, SZ_2M, HPA_A, LV_EPT_R | LV_EPT_W,
		    LV_EPT_2M);
	expect_walk(test, &f->ept, SZ_2M + 0x12345, HPA_A + 0x12345,
		    LV_EPT_R | LV_EPT_W, LV_EPT_2M);
	expect_unmapped(test, &f->ept, 2 * SZ_2M);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 3);
}

static void ept_map_walk_1g(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_1G, HPA_B,
					 LV_EPT_1G, LV_EPT_RWX), 0);
	expect_walk(test, &f->ept, SZ_1G + 0x3456789, HPA_B + 0x3456789,
		    LV_EPT_RWX, LV_EPT_1G);
	expect_unmapped(test, &f->ept, 0);
	expect_unmapped(test, &f->ept, 2ULL * SZ_1G);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 2);
}

/* The raw leaf: address, permissions, WB, IPAT clear, large bit. */
static void ept_leaf_format(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	enum lv_ept_level l;
	u64 *ptep;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_A,
					 LV_EPT_2M, LV_EPT_R | LV_EPT_X), 0);
	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, 0x5000,
					 LV_EPT_4K, LV_EPT_R), 0);
	ptep = lv_ept_lookup(&f->ept, SZ_2M, &l);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_EXPECT_EQ(test, *ptep, HPA_A | EPT_READ | EPT_EXEC |
			EPT_MT_WB << EPT_MT_SHIFT | EPT_LARGE);
	KUNIT_EXPECT_FALSE(test, *ptep & EPT_IPAT);
	ptep = lv_ept_lookup(&f->ept, 0, &l);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_EXPECT_EQ(test, *ptep, 0x5000 | EPT_READ |
			EPT_MT_WB << EPT_MT_SHIFT);
}

/* Device memory: memory type UC (0) in bits 5:3, IPAT clear, kept on split. */
static void ept_leaf_uncached(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	enum lv_ept_level l;
	u64 *ptep;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0x7000, 0xfe000000,
					 LV_EPT_4K,
					 LV_EPT_R | LV_EPT_W | LV_EPT_UC), 0);
	ptep = lv_ept_lookup(&f->ept, 0x7000, &l);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_EXPECT_EQ(test, *ptep, 0xfe000000ULL | EPT_READ | EPT_WRITE);
	KUNIT_EXPECT_EQ(test, (*ptep >> EPT_MT_SHIFT) & 7, 0);
	expect_walk(test, &f->ept, 0x7000, 0xfe000000, LV_EPT_R | LV_EPT_W,
		    LV_EPT_4K);

	/* A 2 MiB UC leaf split by a 4 KiB map keeps UC in its other pages. */
	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_A,
					 LV_EPT_2M,
					 LV_EPT_R | LV_EPT_W | LV_EPT_UC), 0);
	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, 0x5000,
					 LV_EPT_4K, LV_EPT_R), 1);
	ptep = lv_ept_lookup(&f->ept, SZ_2M + SZ_4K, &l);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_EXPECT_EQ(test, l, LV_EPT_4K);
	KUNIT_EXPECT_EQ(test, *ptep, (HPA_A + SZ_4K) | EPT_READ | EPT_WRITE);

	/* Remapping the same page WB changes the leaf: flush needed. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0x7000,
					 0xfe000000, LV_EPT_4K,
					 LV_EPT_R | LV_EPT_W), 1);
	ptep = lv_ept_lookup(&f->ept, 0x7000, &l);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_EXPECT_EQ(test, (*ptep >> EPT_MT_SHIFT) & 7, EPT_MT_WB);
}

static void ept_prot_kept(struct kunit *test)
{
	static const unsigned int prots[] = {
		LV_EPT_R, LV_EPT_R | LV_EPT_W, LV_EPT_R | LV_EPT_X,
		LV_EPT_RWX, LV_EPT_X,
	};
	struct ept_fixture *f = fixture(test);
	int i;

	for (i = 0; i < ARRAY_SIZE(prots); i++)
		KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache,
						 i * SZ_4K, HPA_A + i * SZ_4K,
						 LV_EPT_4K, prots[i]), 0);
	for (i = 0; i < ARRAY_SIZE(prots); i++)
		expect_walk(test, &f->ept, i * SZ_4K, HPA_A + i * SZ_4K,
			    prots[i], LV_EPT_4K);
}

static void ept_write_only_rejected(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);

	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_4K, LV_EPT_W), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_4K, LV_EPT_W | LV_EPT_X),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_4K, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_4K, LV_EPT_RWX | BIT(4)),
			-EINVAL);
	/* A memory type alone grants nothing: no permission, rejected. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_4K, LV_EPT_UC), -EINVAL);
	expect_unmapped(test, &f->ept, 0);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 1);
	KUNIT_EXPECT_EQ(test, f->cache.nr, LV_EPT_CACHE_PAGES);
}

static void ept_misaligned_rejected(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	struct lv_ept *ept = &f->ept;
	struct lv_ept_cache *c = &f->cache;

	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0x800, HPA_A, LV_EPT_4K,
					 LV_EPT_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0, HPA_A + 1, LV_EPT_4K,
					 LV_EPT_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, SZ_4K, HPA_A, LV_EPT_2M,
					 LV_EPT_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, SZ_2M, HPA_A + SZ_4K,
					 LV_EPT_2M, LV_EPT_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, SZ_2M, HPA_A, LV_EPT_1G,
					 LV_EPT_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, SZ_1G, HPA_A + SZ_2M,
					 LV_EPT_1G, LV_EPT_R), -EINVAL);
	/* Beyond the 48-bit guest-physical space, and bad levels. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, BIT_ULL(48), HPA_A,
					 LV_EPT_4K, LV_EPT_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0, HPA_A, 0, LV_EPT_R),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0, HPA_A, 4, LV_EPT_R),
			-EINVAL);
	/* Host address bits above bit 51 are never accepted. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0, BIT_ULL(52), LV_EPT_4K,
					 LV_EPT_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0, BIT_ULL(63) | HPA_A,
					 LV_EPT_4K, LV_EPT_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 1);
}

static void ept_map_same_and_replace(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	struct lv_ept *ept = &f->ept;
	struct lv_ept_cache *c = &f->cache;

	KUNIT_ASSERT_EQ(test, lv_ept_map(ept, c, 0, HPA_A, LV_EPT_4K,
					 LV_EPT_R), 0);
	/* Identical: nothing to do. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0, HPA_A, LV_EPT_4K,
					 LV_EPT_R), 0);
	/* Adding permissions needs no flush. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0, HPA_A, LV_EPT_4K,
					 LV_EPT_R | LV_EPT_W), 0);
	expect_walk(test, ept, 0, HPA_A, LV_EPT_R | LV_EPT_W, LV_EPT_4K);
	/* Removing permissions does. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0, HPA_A, LV_EPT_4K,
					 LV_EPT_R), 1);
	/* So does another host page. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(ept, c, 0, HPA_B, LV_EPT_4K,
					 LV_EPT_R), 1);
	expect_walk(test, ept, 0, HPA_B, LV_EPT_R, LV_EPT_4K);
	KUNIT_EXPECT_EQ(test, ept->nr_table_pages, 4);
}

static void ept_unmap_4k(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	struct unmap_log log = {};
	int i;

	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, i * SZ_4K,
						 HPA_A + i * SZ_4K, LV_EPT_4K,
						 LV_EPT_RWX), 0);
	KUNIT_EXPECT_TRUE(test, lv_ept_unmap_range(&f->ept, &f->cache, SZ_4K,
						   SZ_4K, record_unmap, &log));
	KUNIT_ASSERT_EQ(test, log.n, 1);
	KUNIT_EXPECT_EQ(test, log.gpa[0], SZ_4K);
	KUNIT_EXPECT_EQ(test, log.hpa[0], HPA_A + SZ_4K);
	KUNIT_EXPECT_EQ(test, log.size[0], SZ_4K);
	expect_unmapped(test, &f->ept, SZ_4K);
	expect_walk(test, &f->ept, 0, HPA_A, LV_EPT_RWX, LV_EPT_4K);
	expect_walk(test, &f->ept, 2 * SZ_4K, HPA_A + 2 * SZ_4K, LV_EPT_RWX,
		    LV_EPT_4K);
	/* Nothing left there: no flush; NULL callback allowed. */
	KUNIT_EXPECT_FALSE(test, lv_ept_unmap_range(&f->ept, &f->cache, SZ_4K,
						    SZ_4K, NULL, NULL));
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 4);
}

static void ept_unmap_splits_2m(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	unsigned int rx = LV_EPT_R | LV_EPT_X;
	struct unmap_log log = {};

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_A,
					 LV_EPT_2M, rx), 0);
	KUNIT_EXPECT_TRUE(test, lv_ept_unmap_range(&f->ept, &f->cache,
						   SZ_2M + SZ_4K, 2 * SZ_4K,
						   record_unmap, &log));
	KUNIT_ASSERT_EQ(test, log.n, 2);
	KUNIT_EXPECT_EQ(test, log.gpa[0], SZ_2M + SZ_4K);
	KUNIT_EXPECT_EQ(test, log.hpa[0], HPA_A + SZ_4K);
	KUNIT_EXPECT_EQ(test, log.size[0], SZ_4K);
	KUNIT_EXPECT_EQ(test, log.hpa[1], HPA_A + 2 * SZ_4K);
	expect_unmapped(test, &f->ept, SZ_2M + SZ_4K);
	expect_unmapped(test, &f->ept, SZ_2M + 2 * SZ_4K);
	/* Neighbours keep their host page and permissions, now as 4K. */
	expect_walk(test, &f->ept, SZ_2M, HPA_A, rx, LV_EPT_4K);
	expect_walk(test, &f->ept, SZ_2M + 3 * SZ_4K, HPA_A + 3 * SZ_4K, rx,
		    LV_EPT_4K);
	expect_walk(test, &f->ept, 2 * SZ_2M - SZ_4K,
		    HPA_A + SZ_2M - SZ_4K, rx, LV_EPT_4K);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 4);
}

static void ept_unmap_frees_tables(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_A,
					 LV_EPT_2M, LV_EPT_RWX), 0);
	KUNIT_ASSERT_TRUE(test, lv_ept_unmap_range(&f->ept, &f->cache,
						   SZ_2M, SZ_4K, NULL, NULL));
	KUNIT_ASSERT_EQ(test, f->ept.nr_table_pages, 4);
	KUNIT_EXPECT_TRUE(test, lv_ept_unmap_range(&f->ept, &f->cache,
						   SZ_2M, SZ_2M, NULL, NULL));
	expect_unmapped(test, &f->ept, SZ_2M + SZ_4K);
	/* PT, PD and PDPT became empty: only the PML4 is left. */
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 1);
	KUNIT_EXPECT_EQ(test, f->ept.nr_zapped, 3);
	lv_ept_free_zapped(&f->ept);
	KUNIT_EXPECT_EQ(test, f->ept.nr_zapped, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&f->ept.zapped));
}

static void ept_map_2m_merges_4k_table(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_B,
					 LV_EPT_4K, LV_EPT_R), 0);
	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M + SZ_4K,
					 HPA_B + SZ_4K, LV_EPT_4K, LV_EPT_R),
			0);
	KUNIT_ASSERT_EQ(test, f->ept.nr_table_pages, 4);
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_A,
					 LV_EPT_2M, LV_EPT_RWX), 1);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 3);
	KUNIT_EXPECT_EQ(test, f->ept.nr_zapped, 1);
	expect_walk(test, &f->ept, SZ_2M + SZ_4K, HPA_A + SZ_4K, LV_EPT_RWX,
		    LV_EPT_2M);
}

static void ept_map_4k_in_2m_splits(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_2M, LV_EPT_RWX), 0);
	/* Same translation as the split would create: no flush. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 5 * SZ_4K,
					 HPA_A + 5 * SZ_4K, LV_EPT_4K,
					 LV_EPT_RWX), 0);
	/* Another page: flush. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 6 * SZ_4K, HPA_B,
					 LV_EPT_4K, LV_EPT_R), 1);
	expect_walk(test, &f->ept, 6 * SZ_4K, HPA_B, LV_EPT_R, LV_EPT_4K);
	expect_walk(test, &f->ept, 7 * SZ_4K, HPA_A + 7 * SZ_4K, LV_EPT_RWX,
		    LV_EPT_4K);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 4);
}

static void ept_protect_splits(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	unsigned int rx = LV_EPT_R | LV_EPT_X;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_A,
					 LV_EPT_2M, LV_EPT_RWX), 0);
	KUNIT_EXPECT_EQ(test, lv_ept_protect_range(&f->ept, &f->cache,
						   SZ_2M + SZ_4K, SZ_4K,
						   LV_EPT_W), 1);
	expect_walk(test, &f->ept, SZ_2M + SZ_4K, HPA_A + SZ_4K, rx,
		    LV_EPT_4K);
	expect_walk(test, &f->ept, SZ_2M, HPA_A, LV_EPT_RWX, LV_EPT_4K);
	expect_walk(test, &f->ept, SZ_2M + 2 * SZ_4K, HPA_A + 2 * SZ_4K,
		    LV_EPT_RWX, LV_EPT_4K);
	/* Already read-only: nothing to flush. */
	KUNIT_EXPECT_EQ(test, lv_ept_protect_range(&f->ept, &f->cache,
						   SZ_2M + SZ_4K, SZ_4K,
						   LV_EPT_W), 0);
	/* Whole range, no split needed. */
	KUNIT_EXPECT_EQ(test, lv_ept_protect_range(&f->ept, &f->cache,
						   0, SZ_1G, LV_EPT_W), 1);
	expect_walk(test, &f->ept, 2 * SZ_2M - SZ_4K, HPA_A + SZ_2M - SZ_4K,
		    rx, LV_EPT_4K);
	KUNIT_EXPECT_EQ(test, lv_ept_protect_range(&f->ept, &f->cache, 0,
						   SZ_4K, LV_EPT_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_ept_protect_range(&f->ept, &f->cache, 0x800,
						   SZ_4K, LV_EPT_W), -EINVAL);
}

static void ept_protect_dry_cache(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_1G, LV_EPT_RWX), 0);
	lv_ept_cache_free(&f->cache);
	KUNIT_EXPECT_EQ(test, lv_ept_protect_range(&f->ept, &f->cache,
						   SZ_4K, SZ_4K, LV_EPT_W),
			-ENOMEM);
	expect_walk(test, &f->ept, SZ_4K, HPA_A + SZ_4K, LV_EPT_RWX,
		    LV_EPT_1G);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 2);
	/* A range of whole leaves needs no page. */
	KUNIT_EXPECT_EQ(test, lv_ept_protect_range(&f->ept, &f->cache,
						   0, SZ_1G, LV_EPT_W), 1);
	expect_walk(test, &f->ept, SZ_4K, HPA_A + SZ_4K, LV_EPT_R | LV_EPT_X,
		    LV_EPT_1G);
}

static void ept_unmap_1g_partial(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	u64 gpa = SZ_1G + 3 * SZ_2M + 7 * SZ_4K;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_1G, HPA_B,
					 LV_EPT_1G, LV_EPT_RWX), 0);
	KUNIT_EXPECT_TRUE(test, lv_ept_unmap_range(&f->ept, &f->cache, gpa,
						   SZ_4K, NULL, NULL));
	expect_unmapped(test, &f->ept, gpa);
	expect_walk(test, &f->ept, gpa - SZ_4K, HPA_B + gpa - SZ_1G - SZ_4K,
		    LV_EPT_RWX, LV_EPT_4K);
	expect_walk(test, &f->ept, gpa + SZ_4K, HPA_B + gpa - SZ_1G + SZ_4K,
		    LV_EPT_RWX, LV_EPT_4K);
	expect_walk(test, &f->ept, SZ_1G, HPA_B, LV_EPT_RWX, LV_EPT_2M);
	expect_walk(test, &f->ept, 2ULL * SZ_1G - 1, HPA_B + SZ_1G - 1,
		    LV_EPT_RWX, LV_EPT_2M);
	/* PML4 + PDPT + PD (split 1G) + PT (split 2M) */
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 4);
}

static void ept_unmap_dry_cache_drops_leaf(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	struct unmap_log log = {};

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_A,
					 LV_EPT_2M, LV_EPT_RWX), 0);
	lv_ept_cache_free(&f->cache);
	KUNIT_EXPECT_TRUE(test, lv_ept_unmap_range(&f->ept, &f->cache,
						   SZ_2M + SZ_4K, SZ_4K,
						   record_unmap, &log));
	/* No page to split: the whole 2M leaf went, and was reported. */
	KUNIT_ASSERT_EQ(test, log.n, 1);
	KUNIT_EXPECT_EQ(test, log.gpa[0], SZ_2M);
	KUNIT_EXPECT_EQ(test, log.hpa[0], HPA_A);
	KUNIT_EXPECT_EQ(test, log.size[0], SZ_2M);
	expect_unmapped(test, &f->ept, SZ_2M);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 1);
}

static void ept_collect_dirty(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	DECLARE_BITMAP(bm, 1024);
	enum lv_ept_level l;
	u64 *leaf4k, *leaf2m;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_4K, LV_EPT_RWX), 0);
	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_4K,
					 HPA_A + SZ_4K, LV_EPT_4K,
					 LV_EPT_RWX), 0);
	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_2M, HPA_B,
					 LV_EPT_2M, LV_EPT_RWX), 0);
	leaf4k = lv_ept_lookup(&f->ept, SZ_4K, &l);
	leaf2m = lv_ept_lookup(&f->ept, SZ_2M, &l);
	KUNIT_ASSERT_NOT_NULL(test, leaf4k);
	KUNIT_ASSERT_NOT_NULL(test, leaf2m);
	/* What the CPU would do with A/D enabled. */
	*leaf4k |= EPT_ACCESSED | EPT_DIRTY;
	*leaf2m |= EPT_ACCESSED | EPT_DIRTY;

	bitmap_zero(bm, 1024);
	KUNIT_EXPECT_EQ(test, lv_ept_collect_dirty(&f->ept, 0, 1024, bm),
			1 + 512);
	KUNIT_EXPECT_FALSE(test, test_bit(0, bm));
	KUNIT_EXPECT_TRUE(test, test_bit(1, bm));
	KUNIT_EXPECT_EQ(test, bitmap_weight(bm, 512), 1);
	KUNIT_EXPECT_EQ(test, find_next_zero_bit(bm, 1024, 512), 1024);
	KUNIT_EXPECT_FALSE(test, *leaf4k & EPT_DIRTY);
	KUNIT_EXPECT_FALSE(test, *leaf2m & EPT_DIRTY);
	KUNIT_EXPECT_TRUE(test, *leaf2m & EPT_ACCESSED);
	KUNIT_EXPECT_EQ(test, lv_ept_collect_dirty(&f->ept, 0, 1024, bm), 0);

	/* Part of a 2M leaf: its pages in range count, D stays set. */
	*leaf2m |= EPT_DIRTY;
	bitmap_zero(bm, 1024);
	KUNIT_EXPECT_EQ(test, lv_ept_collect_dirty(&f->ept, SZ_2M + SZ_1M, 16,
						   bm), 16);
	KUNIT_EXPECT_EQ(test, bitmap_weight(bm, 1024), 16);
	KUNIT_EXPECT_TRUE(test, *leaf2m & EPT_DIRTY);
}

static void ept_pointer_format(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	u64 eptp = lv_ept_pointer(&f->ept, false);

	/* WB (6) in 2:0, walk length 4 - 1 in 5:3, A/D in bit 6. */
	KUNIT_EXPECT_EQ(test, eptp & 0xfff, 0x1e);
	KUNIT_EXPECT_EQ(test, eptp & ~0xfffULL, (u64)__pa(f->ept.pml4));
	eptp = lv_ept_pointer(&f->ept, true);
	KUNIT_EXPECT_EQ(test, eptp & 0xfff, 0x5e);
	KUNIT_EXPECT_EQ(test, eptp & ~0xfffULL, (u64)__pa(f->ept.pml4));
}

static void ept_destroy_frees_all(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);
	struct lv_ept *ept = &f->ept;
	int i;

	for (i = 0; i < 8; i++) {
		u64 gpa = (u64)i * (SZ_1G + SZ_2M + SZ_4K) +
			  BIT_ULL(40) * (i & 1);

		fixture(test);
		KUNIT_ASSERT_GE(test, lv_ept_map(ept, &f->cache, gpa, HPA_A,
						 LV_EPT_4K, LV_EPT_R), 0);
	}
	fixture(test);
	KUNIT_ASSERT_EQ(test, lv_ept_map(ept, &f->cache, 64ULL * SZ_1G, HPA_B,
					 LV_EPT_1G, LV_EPT_R), 0);
	fixture(test);
	KUNIT_ASSERT_EQ(test, lv_ept_map(ept, &f->cache, 65ULL * SZ_1G, HPA_B,
					 LV_EPT_2M, LV_EPT_R), 0);
	/* Leave a split and some zapped tables not yet freed. */
	KUNIT_ASSERT_TRUE(test, lv_ept_unmap_range(ept, &f->cache,
						   64ULL * SZ_1G + SZ_4K,
						   SZ_4K, NULL, NULL));
	KUNIT_ASSERT_TRUE(test, lv_ept_unmap_range(ept, &f->cache, 0, SZ_4K,
						   NULL, NULL));
	KUNIT_EXPECT_GT(test, ept->nr_zapped, 0);
	KUNIT_EXPECT_GT(test, ept->nr_table_pages, 10);
	lv_ept_destroy(ept);
	KUNIT_EXPECT_EQ(test, ept->nr_table_pages, 0);
	KUNIT_EXPECT_EQ(test, ept->nr_zapped, 0);
	KUNIT_EXPECT_NULL(test, ept->pml4);
}

static void ept_cache_dry_enomem(struct kunit *test)
{
	struct ept_fixture *f = fixture(test);

	lv_ept_cache_free(&f->cache);
	KUNIT_EXPECT_EQ(test, f->cache.nr, 0);
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_4K, LV_EPT_R), -ENOMEM);
	/* A 4K map needs PDPT, PD and PT; two pages are not enough. */
	fixture(test);
	free_page((unsigned long)f->cache.pages[--f->cache.nr]);
	free_page((unsigned long)f->cache.pages[--f->cache.nr]);
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_4K, LV_EPT_R), -ENOMEM);
	KUNIT_EXPECT_EQ(test, f->cache.nr, 2);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 1);
	expect_unmapped(test, &f->ept, 0);
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, 0, HPA_A,
					 LV_EPT_2M, LV_EPT_R), 0);
	KUNIT_EXPECT_EQ(test, f->cache.nr, 0);
	/* Splitting the 2M leaf for a 4K map needs one more page. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_4K, HPA_B,
					 LV_EPT_4K, LV_EPT_R), -ENOMEM);
	expect_walk(test, &f->ept, SZ_4K, HPA_A + SZ_4K, LV_EPT_R, LV_EPT_2M);
	fixture(test);
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->ept, &f->cache, SZ_4K, HPA_B,
					 LV_EPT_4K, LV_EPT_R), 1);
	expect_walk(test, &f->ept, SZ_4K, HPA_B, LV_EPT_R, LV_EPT_4K);
	KUNIT_EXPECT_EQ(test, f->ept.nr_table_pages, 4);
}

static struct kunit_case lightvisor_ept_cases[] = {
	KUNIT_CASE(ept_map_walk_4k),
	KUNIT_CASE(ept_map_walk_2m),
	KUNIT_CASE(ept_map_walk_1g),
	KUNIT_CASE(ept_leaf_format),
	KUNIT_CASE(ept_leaf_uncached),
	KUNIT_CASE(ept_prot_kept),
	KUNIT_CASE(ept_write_only_rejected),
	KUNIT_CASE(ept_misaligned_rejected),
	KUNIT_CASE(ept_map_same_and_replace),
	KUNIT_CASE(ept_unmap_4k),
	KUNIT_CASE(ept_unmap_splits_2m),
	KUNIT_CASE(ept_unmap_frees_tables),
	KUNIT_CASE(ept_map_2m_merges_4k_table),
	KUNIT_CASE(ept_map_4k_in_2m_splits),
	KUNIT_CASE(ept_protect_splits),
	KUNIT_CASE(ept_protect_dry_cache),
	KUNIT_CASE(ept_unmap_1g_partial),
	KUNIT_CASE(ept_unmap_dry_cache_drops_leaf),
	KUNIT_CASE(ept_collect_dirty),
	KUNIT_CASE(ept_pointer_format),
	KUNIT_CASE(ept_destroy_frees_all),
	KUNIT_CASE(ept_cache_dry_enomem),
	{}
};

static struct kunit_suite lightvisor_ept_suite = {
	.name = "lightvisor_ept",
	.init = ept_test_init,
	.exit = ept_test_exit,
	.test_cases = lightvisor_ept_cases,
};

kunit_test_suite(lightvisor_ept_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the lightvisor EPT library");
MODULE_LICENSE("GPL");
