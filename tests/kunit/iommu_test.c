// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the slot-to-IOVA mapping helpers of module/iommu/.
 * The last case maps real pages in a real IOMMU domain and skips itself
 * where no PCI device sits behind an IOMMU.
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/lightvisor.h>

#include "../../module/lightvisor.h"
#include "../../module/iommu/iommu.h"

static void iommu_test_prot(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, lv_iommu_slot_prot(0), IOMMU_READ | IOMMU_WRITE);
	KUNIT_EXPECT_EQ(test, lv_iommu_slot_prot(LV_MEM_READONLY), IOMMU_READ);
	KUNIT_EXPECT_EQ(test, lv_iommu_slot_prot(LV_MEM_LOG_DIRTY_PAGES),
			IOMMU_READ | IOMMU_WRITE);
	KUNIT_EXPECT_EQ(test, lv_iommu_slot_prot(LV_MEM_READONLY |
						 LV_MEM_LOG_DIRTY_PAGES),
			IOMMU_READ);
}

static void iommu_test_pin_reuse(struct kunit *test)
{
	struct lv_iommu_pin wr = { .write = true }, rd = { .write = false };

	KUNIT_EXPECT_FALSE(test, lv_iommu_pin_reusable(NULL, 0));
	KUNIT_EXPECT_TRUE(test, lv_iommu_pin_reusable(&wr, 0));
	KUNIT_EXPECT_TRUE(test, lv_iommu_pin_reusable(&wr, LV_MEM_READONLY));
	/* Read-only pins may be COW-shared: never behind a writable map. */
	KUNIT_EXPECT_FALSE(test, lv_iommu_pin_reusable(&rd, 0));
	KUNIT_EXPECT_FALSE(test, lv_iommu_pin_reusable(&rd,
							LV_MEM_LOG_DIRTY_PAGES));
	KUNIT_EXPECT_TRUE(test, lv_iommu_pin_reusable(&rd, LV_MEM_READONLY));
}

static struct page *alloc4(struct kunit *test)
{
	struct page *p = alloc_pages(GFP_KERNEL, 2);

	KUNIT_ASSERT_NOT_NULL(test, p);
	return p;
}

static void iommu_test_contig(struct kunit *test)
{
	struct page *p = alloc4(test);
	struct page *all[] = { p, p + 1, p + 2, p + 3 };
	struct page *gap[] = { p, p + 1, p + 3, p + 2 };
	struct page *back[] = { p + 1, p };

	KUNIT_EXPECT_EQ(test, lv_iommu_contig_pages(all, 4), 4UL);
	KUNIT_EXPECT_EQ(test, lv_iommu_contig_pages(all, 3), 3UL);
	KUNIT_EXPECT_EQ(test, lv_iommu_contig_pages(all, 1), 1UL);
	KUNIT_EXPECT_EQ(test, lv_iommu_contig_pages(gap, 4), 2UL);
	KUNIT_EXPECT_EQ(test, lv_iommu_contig_pages(gap + 2, 2), 1UL);
	KUNIT_EXPECT_EQ(test, lv_iommu_contig_pages(back, 2), 1UL);
	__free_pages(p, 2);
}

static struct pci_dev *iommu_test_find_dev(void)
{
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev)
		if (device_iommu_mapped(&pdev->dev))
			return pdev;
	return NULL;
}

/* Pages out of order map page by page at IOVA + i * PAGE_SIZE. */
static void iommu_test_map_pages(struct kunit *test)
{
	const u64 iova = 0x100000;
	struct iommu_domain *domain;
	struct pci_dev *pdev;
	struct page *p, *pages[4];
	int i;

	pdev = iommu_test_find_dev();
	if (!pdev)
		kunit_skip(test, "no PCI device behind an IOMMU");
	domain = lv_iommu_domain_alloc(&pdev->dev);
	pci_dev_put(pdev);
	KUNIT_ASSERT_FALSE(test, IS_ERR(domain));

	p = alloc4(test);
	pages[0] = p + 2;
	pages[1] = p + 3;
	pages[2] = p;
	pages[3] = p + 1;
	KUNIT_ASSERT_EQ(test, lv_iommu_map_pages(domain, iova, pages, 4,
						 IOMMU_READ | IOMMU_WRITE), 0);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test,
				iommu_iova_to_phys(domain, iova + i * PAGE_SIZE + 8),
				page_to_phys(pages[i]) + 8);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, iova + 4 * PAGE_SIZE),
			(phys_addr_t)0);
	KUNIT_EXPECT_EQ(test, iommu_unmap(domain, iova, 4 * PAGE_SIZE),
			4 * PAGE_SIZE);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test,
				iommu_iova_to_phys(domain, iova + i * PAGE_SIZE),
				(phys_addr_t)0);
	iommu_domain_free(domain);
	__free_pages(p, 2);
}

static void iommu_test_ranges_overlap(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, lv_iommu_ranges_overlap(0x1000, 0x1000,
							0x1000, 0x1000));
	KUNIT_EXPECT_TRUE(test, lv_iommu_ranges_overlap(0x1000, 0x2000,
							0x2fff, 1));
	KUNIT_EXPECT_TRUE(test, lv_iommu_ranges_overlap(0x2000, 1,
							0x1000, 0x10000));
	/* Touching ends do not overlap. */
	KUNIT_EXPECT_FALSE(test, lv_iommu_ranges_overlap(0x1000, 0x1000,
							 0x2000, 0x1000));
	KUNIT_EXPECT_FALSE(test, lv_iommu_ranges_overlap(0x2000, 0x1000,
							 0x1000, 0x1000));
}

static void iommu_test_bar_check(struct kunit *test)
{
	const unsigned long mem = IORESOURCE_MEM;

	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xfe000000, SZ_1M, mem,
						 0xe0000000), 0);
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xfe000000, SZ_4K,
						 mem | IORESOURCE_MEM_64, 0x1000),
			0);
	/* I/O-port BAR, unassigned BAR, empty (upper half of 64-bit). */
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xc000, 0x1000, IORESOURCE_IO,
						 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xfe000000, SZ_4K,
						 mem | IORESOURCE_UNSET, 0x1000),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0, 0, mem, 0x1000), -EINVAL);
	/* Smaller than a page: the guest would get the neighbours too. */
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xfe000000, 0x100, mem,
						 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xfe000800, SZ_4K, mem,
						 0x1000), -EINVAL);
	/* Guest address: page aligned, below the limit, no wrap. */
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xfe000000, SZ_4K, mem,
						 0x1800), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xfe000000, SZ_4K, mem,
						 LV_MAX_GPA), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xfe000000, SZ_1M, mem,
						 LV_MAX_GPA - SZ_4K), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_iommu_bar_check(0xfe000000, SZ_4K, mem,
						 LV_MAX_GPA - SZ_4K), 0);
}

/* Pieces of a BAR mapped into a guest around the MSI-X table and PBA. */
static void iommu_test_bar_pieces(struct kunit *test)
{
	struct lv_iommu_range p[LV_BAR_MAX_HOLES + 1];
	struct lv_iommu_range h[LV_BAR_MAX_HOLES];

	/* No holes: the whole BAR. */
	KUNIT_EXPECT_EQ(test, 1, lv_iommu_bar_pieces(SZ_64K, h, 0, p));
	KUNIT_EXPECT_EQ(test, 0, p[0].start);
	KUNIT_EXPECT_EQ(test, SZ_64K, p[0].len);

	/* A 3-vector table at 0x2000 and its PBA at 0x3000: two pages out. */
	h[0] = (struct lv_iommu_range){ 0x2000, 3 * 16 };
	h[1] = (struct lv_iommu_range){ 0x3000, 8 };
	KUNIT_ASSERT_EQ(test, 2, lv_iommu_bar_pieces(SZ_64K, h, 2, p));
	KUNIT_EXPECT_EQ(test, 0, p[0].start);
	KUNIT_EXPECT_EQ(test, 0x2000, p[0].len);
	KUNIT_EXPECT_EQ(test, 0x4000, p[1].start);
	KUNIT_EXPECT_EQ(test, SZ_64K - 0x4000, p[1].len);

	/* Unaligned, in either order, sharing a page: rounded out, merged. */
	h[0] = (struct lv_iommu_range){ 0x5800, 0x10 };
	h[1] = (struct lv_iommu_range){ 0x5010, 0x900 };
	KUNIT_ASSERT_EQ(test, 2, lv_iommu_bar_pieces(SZ_64K, h, 2, p));
	KUNIT_EXPECT_EQ(test, 0x5000, p[0].len);
	KUNIT_EXPECT_EQ(test, 0x6000, p[1].start);

	/* A table straddling a page boundary takes both pages. */
	h[0] = (struct lv_iommu_range){ 0x1ff0, 0x20 };
	KUNIT_ASSERT_EQ(test, 2, lv_iommu_bar_pieces(SZ_16K, h, 1, p));
	KUNIT_EXPECT_EQ(test, 0x1000, p[0].len);
	KUNIT_EXPECT_EQ(test, 0x3000, p[1].start);
	KUNIT_EXPECT_EQ(test, 0x1000, p[1].len);

	/* At the start and the end: only the middle is left. */
	h[0] = (struct lv_iommu_range){ 0, 0x800 };
	h[1] = (struct lv_iommu_range){ SZ_16K - 8, 8 };
	KUNIT_ASSERT_EQ(test, 1, lv_iommu_bar_pieces(SZ_16K, h, 2, p));
	KUNIT_EXPECT_EQ(test, 0x1000, p[0].start);
	KUNIT_EXPECT_EQ(test, 0x2000, p[0].len);

	/* A one-page BAR holding the table: nothing may be mapped. */
	h[0] = (struct lv_iommu_range){ 0, 0x100 };
	KUNIT_EXPECT_EQ(test, 0, lv_iommu_bar_pieces(SZ_4K, h, 1, p));

	/* Beyond the BAR or huge (a bad offset): clipped, never wraps. */
	h[0] = (struct lv_iommu_range){ SZ_1M, 16 };
	h[1] = (struct lv_iommu_range){ 0x1000, ~0ULL };
	KUNIT_ASSERT_EQ(test, 1, lv_iommu_bar_pieces(SZ_16K, h, 2, p));
	KUNIT_EXPECT_EQ(test, 0, p[0].start);
	KUNIT_EXPECT_EQ(test, 0x1000, p[0].len);
}

static struct kunit_case lv_iommu_cases[] = {
	KUNIT_CASE(iommu_test_prot),
	KUNIT_CASE(iommu_test_pin_reuse),
	KUNIT_CASE(iommu_test_contig),
	KUNIT_CASE(iommu_test_map_pages),
	KUNIT_CASE(iommu_test_ranges_overlap),
	KUNIT_CASE(iommu_test_bar_check),
	KUNIT_CASE(iommu_test_bar_pieces),
	{}
};

static struct kunit_suite lv_iommu_suite = {
	.name = "lightvisor_iommu",
	.test_cases = lv_iommu_cases,
};
kunit_test_suite(lv_iommu_suite);
