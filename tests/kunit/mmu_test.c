// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the slot side of the 2 MiB mapping decision in
 * module/mmu.c (lv_memslot_can_map_2m()). The host side (is the page
 * really mapped huge) needs a live address space and is covered by the
 * memtouch guest runs instead.
 */
#include <kunit/test.h>
#include <linux/sizes.h>

#include "../../module/lightvisor.h"

#define HVA	0x7f0000000000UL	/* 2 MiB (even 1 GiB) aligned */
#define GFN(addr)	((u64)(addr) >> PAGE_SHIFT)

static struct lv_memslot slot(u64 gpa, u64 size, unsigned long hva)
{
	return (struct lv_memslot){
		.base_gfn = GFN(gpa),
		.npages = size >> PAGE_SHIFT,
		.userspace_addr = hva,
	};
}

static void aligned_slot(struct kunit *test)
{
	struct lv_memslot s = slot(0, SZ_4M, HVA);

	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, 0));
	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, GFN(SZ_2M) - 1));
	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, GFN(SZ_4M) - 1));

	s = slot(SZ_2M, SZ_2M, HVA);	/* exactly one 2 MiB page */
	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, GFN(SZ_2M)));
	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, GFN(SZ_4M) - 1));
}

static void partial_chunks(struct kunit *test)
{
	/* 3 MiB at 0: the second 2 MiB page sticks out of the slot. */
	struct lv_memslot s = slot(0, 3 * SZ_1M, HVA);

	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, 5));
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, GFN(SZ_2M)));
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, GFN(3 * SZ_1M) - 1));

	/* 4 MiB at 1 MiB (hva congruent): only [2M, 4M) is whole. */
	s = slot(SZ_1M, SZ_4M, HVA + SZ_1M);
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, GFN(SZ_1M)));
	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, GFN(SZ_2M)));
	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, GFN(SZ_4M) - 1));
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, GFN(SZ_4M)));

	/* Smaller than 2 MiB: never. */
	s = slot(SZ_2M, SZ_1M, HVA);
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, GFN(SZ_2M)));
}

static void incongruent_hva(struct kunit *test)
{
	struct lv_memslot s = slot(0, SZ_4M, HVA + PAGE_SIZE);

	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, 0));
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, GFN(SZ_2M)));

	/* Both offset by the same 1 MiB: congruent, fine. */
	s = slot(SZ_1M, SZ_8M, HVA + SZ_1M);
	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, GFN(SZ_4M)));
	/* Offsets differ by 1 MiB: no 2 MiB page lines up. */
	s = slot(SZ_1M, SZ_8M, HVA);
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, GFN(SZ_4M)));
}

static void high_gpa(struct kunit *test)
{
	/* Above 4 GiB, hva aligned differently but congruent mod 2 MiB. */
	struct lv_memslot s = slot(SZ_4G + SZ_2M, SZ_4M, HVA + 3 * SZ_2M);

	KUNIT_EXPECT_TRUE(test, lv_memslot_can_map_2m(&s, GFN(SZ_4G + SZ_4M)));
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, GFN(SZ_4G)));
}

static void dirty_logging(struct kunit *test)
{
	unsigned long bitmap[BITS_TO_LONGS(1024)] = { 0 };
	struct lv_memslot s = slot(0, SZ_4M, HVA);

	s.dirty_bitmap = bitmap;
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, 0));
	KUNIT_EXPECT_FALSE(test, lv_memslot_can_map_2m(&s, GFN(SZ_2M)));
}

static struct kunit_case lv_mmu_test_cases[] = {
	KUNIT_CASE(aligned_slot),
	KUNIT_CASE(partial_chunks),
	KUNIT_CASE(incongruent_hva),
	KUNIT_CASE(high_gpa),
	KUNIT_CASE(dirty_logging),
	{}
};

static struct kunit_suite lv_mmu_test_suite = {
	.name = "lightvisor_mmu",
	.test_cases = lv_mmu_test_cases,
};

kunit_test_suite(lv_mmu_test_suite);
