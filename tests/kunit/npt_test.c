// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the nested page tables of the SVM backend (module/ept/
 * with LV_PT_NPT) and for the decoder of the instructions SVM exits on
 * without reporting their length (lv_decode_sys()).
 *
 * Host-physical addresses here are made up: the library never touches
 * guest pages, only its own table pages.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <asm/page.h>

#include "../../module/decode.h"
#include "../../module/ept/ept.h"

#define HPA_A		0x40000000ULL

struct npt_fixture {
	struct lv_ept npt;
	struct lv_ept_cache cache;
};

static int npt_test_init(struct kunit *test)
{
	struct npt_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_EQ(test, lv_ept_init_format(&f->npt, LV_PT_NPT), 0);
	test->priv = f;
	KUNIT_ASSERT_EQ(test, lv_ept_cache_topup(&f->cache, GFP_KERNEL_ACCOUNT),
			0);
	return 0;
}

static void npt_test_exit(struct kunit *test)
{
	struct npt_fixture *f = test->priv;

	lv_ept_destroy(&f->npt);
	lv_ept_cache_free(&f->cache);
}

static u64 *npt_leaf(struct kunit *test, struct lv_ept *npt, u64 gpa)
{
	enum lv_ept_level l;
	u64 *leaf = lv_ept_lookup(npt, gpa, &l);

	KUNIT_ASSERT_NOT_NULL(test, leaf);
	return leaf;
}

/* Table entries: present, writable, user; leaves as x86-64 PTEs. */
static void npt_entry_format(struct kunit *test)
{
	struct npt_fixture *f = test->priv;
	u64 root;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->npt, &f->cache, 0x1000, 0xabc000,
					 LV_EPT_4K, LV_EPT_RWX), 0);
	root = f->npt.pml4[0];
	KUNIT_EXPECT_EQ(test, root & 0xfff, NPT_PRESENT | NPT_WRITE | NPT_USER);
	KUNIT_EXPECT_EQ(test, *npt_leaf(test, &f->npt, 0x1000),
			0xabc000 | NPT_PRESENT | NPT_WRITE | NPT_USER);
	KUNIT_EXPECT_EQ(test, lv_npt_cr3(&f->npt), __pa(f->npt.pml4));
}

static void npt_leaf_permissions(struct kunit *test)
{
	struct npt_fixture *f = test->priv;
	unsigned int prot;
	u64 hpa;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->npt, &f->cache, 0x2000, 0x5000,
					 LV_EPT_4K, LV_EPT_R), 0);
	KUNIT_EXPECT_EQ(test, *npt_leaf(test, &f->npt, 0x2000),
			0x5000 | NPT_PRESENT | NPT_USER | NPT_NX);
	KUNIT_ASSERT_EQ(test, lv_ept_walk(&f->npt, 0x2123, &hpa, &prot, NULL), 0);
	KUNIT_EXPECT_EQ(test, hpa, 0x5123);
	KUNIT_EXPECT_EQ(test, prot, LV_EPT_R);

	/* Adding W and X to the same page needs no flush. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->npt, &f->cache, 0x2000, 0x5000,
					 LV_EPT_4K, LV_EPT_RWX), 0);
	KUNIT_ASSERT_EQ(test, lv_ept_walk(&f->npt, 0x2000, NULL, &prot, NULL), 0);
	KUNIT_EXPECT_EQ(test, prot, LV_EPT_RWX);
	/* Taking X away again does. */
	KUNIT_EXPECT_EQ(test, lv_ept_map(&f->npt, &f->cache, 0x2000, 0x5000,
					 LV_EPT_4K, LV_EPT_R | LV_EPT_W), 1);
	KUNIT_EXPECT_TRUE(test, *npt_leaf(test, &f->npt, 0x2000) & NPT_NX);
}

static void npt_large_uncached(struct kunit *test)
{
	struct npt_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->npt, &f->cache, SZ_2M, HPA_A,
					 LV_EPT_2M, LV_EPT_R | LV_EPT_W | LV_EPT_UC),
			0);
	KUNIT_EXPECT_EQ(test, *npt_leaf(test, &f->npt, SZ_2M),
			HPA_A | NPT_PRESENT | NPT_WRITE | NPT_USER | NPT_NX |
			NPT_PWT | NPT_PCD | EPT_LARGE);
}

/* Write-protect clears R/W; removing execute sets NX. */
static void npt_protect(struct kunit *test)
{
	struct npt_fixture *f = test->priv;
	u64 *leaf;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->npt, &f->cache, 0x3000, 0x7000,
					 LV_EPT_4K, LV_EPT_RWX), 0);
	KUNIT_EXPECT_EQ(test, lv_ept_protect_range(&f->npt, &f->cache, 0x3000,
						   SZ_4K, LV_EPT_W), 1);
	leaf = npt_leaf(test, &f->npt, 0x3000);
	KUNIT_EXPECT_FALSE(test, *leaf & NPT_WRITE);
	KUNIT_EXPECT_FALSE(test, *leaf & NPT_NX);
	KUNIT_EXPECT_EQ(test, lv_ept_protect_range(&f->npt, &f->cache, 0x3000,
						   SZ_4K, LV_EPT_X), 1);
	KUNIT_EXPECT_TRUE(test, *leaf & NPT_NX);
	KUNIT_EXPECT_TRUE(test, *leaf & NPT_PRESENT);
}

/* The CPU sets D (bit 6) in NPT leaves: dirty logging reads that one. */
static void npt_collect_dirty(struct kunit *test)
{
	struct npt_fixture *f = test->priv;
	DECLARE_BITMAP(bm, 8);
	u64 *leaf;

	KUNIT_ASSERT_EQ(test, lv_ept_map(&f->npt, &f->cache, SZ_4K, 0x9000,
					 LV_EPT_4K, LV_EPT_RWX), 0);
	leaf = npt_leaf(test, &f->npt, SZ_4K);
	*leaf |= NPT_ACCESSED | NPT_DIRTY;
	bitmap_zero(bm, 8);
	KUNIT_EXPECT_EQ(test, lv_ept_collect_dirty(&f->npt, 0, 8, bm), 1);
	KUNIT_EXPECT_TRUE(test, test_bit(1, bm));
	KUNIT_EXPECT_FALSE(test, *leaf & NPT_DIRTY);
	KUNIT_EXPECT_TRUE(test, *leaf & NPT_ACCESSED);
}

static struct kunit_case npt_cases[] = {
	KUNIT_CASE(npt_entry_format),
	KUNIT_CASE(npt_leaf_permissions),
	KUNIT_CASE(npt_large_uncached),
	KUNIT_CASE(npt_protect),
	KUNIT_CASE(npt_collect_dirty),
	{}
};

static struct kunit_suite lightvisor_npt_suite = {
	.name = "lightvisor_npt",
	.init = npt_test_init,
	.exit = npt_test_exit,
	.test_cases = npt_cases,
};

/* --- lv_decode_sys() --- */

struct sys_case {
	const char *name;
	u8 code[8];
	unsigned int avail;
	enum lv_cpu_mode mode;
	int ret;
	u8 len;
	u16 opcode;
	u8 reg, rm, seg, addr_size;
};

static const struct sys_case sys_cases[] = {
	{ "cpuid", { 0x0f, 0xa2 }, 2, LV_MODE_LONG64, 0, 2, 0xa2, 0, 0, 0, 8 },
	{ "hlt", { 0xf4 }, 1, LV_MODE_REAL, 0, 1, LV_SYS_ONE_BYTE | 0xf4,
	  0, 0, 0, 2 },
	{ "mov cr0,rax", { 0x0f, 0x22, 0xc0 }, 3, LV_MODE_LONG64, 0, 3, 0x22,
	  0, 0, 0, 8 },
	{ "mov cr8,rcx (REX.R)", { 0x44, 0x0f, 0x22, 0xc1 }, 4,
	  LV_MODE_LONG64, 0, 4, 0x22, 8, 1, 0, 8 },
	{ "mov r9,cr4 (REX.B)", { 0x41, 0x0f, 0x20, 0xe1 }, 4,
	  LV_MODE_LONG64, 0, 4, 0x20, 4, 9, 0, 8 },
	{ "lock mov cr0,eax is cr8", { 0xf0, 0x0f, 0x22, 0xc0 }, 4,
	  LV_MODE_PROT32, 0, 4, 0x22, 8, 0, 0, 4 },
	{ "mov dr7,rdx", { 0x0f, 0x23, 0xfa }, 3, LV_MODE_LONG64, 0, 3, 0x23,
	  7, 2, 0, 8 },
	{ "vmcall", { 0x0f, 0x01, 0xc1 }, 3, LV_MODE_LONG64, 0, 3, 0x01,
	  0, 1, 0, 8 },
	{ "rep outsb, fs", { 0x64, 0xf3, 0x6e }, 3, LV_MODE_PROT32, 0, 3,
	  LV_SYS_ONE_BYTE | 0x6e, 0, 0, LV_SEG_FS, 4 },
	{ "addr32 rep insb", { 0x67, 0xf3, 0x6c }, 3, LV_MODE_LONG64, 0, 3,
	  LV_SYS_ONE_BYTE | 0x6c, 0, 0, 0, 4 },
	{ "addr32 insb in real mode", { 0x67, 0x6c }, 2, LV_MODE_REAL, 0, 2,
	  LV_SYS_ONE_BYTE | 0x6c, 0, 0, 0, 4 },
	{ "out imm8,al", { 0xe6, 0x80 }, 2, LV_MODE_REAL, 0, 2,
	  LV_SYS_ONE_BYTE | 0xe6, 0, 0, 0, 2 },
	{ "lmsw m16 (memory operand)", { 0x0f, 0x01, 0x30 }, 3,
	  LV_MODE_LONG64, -EINVAL },
	{ "mov cr4,eax, ModRM.mod ignored", { 0x0f, 0x22, 0x20 }, 3,
	  LV_MODE_PROT32, 0, 3, 0x22, 4, 0, 0, 4 },
	{ "lock mov cr4,eax", { 0xf0, 0x0f, 0x22, 0xe0 }, 4,
	  LV_MODE_PROT32, -EINVAL },
	{ "lock cpuid", { 0xf0, 0x0f, 0xa2 }, 3, LV_MODE_LONG64, -EINVAL },
	{ "nop", { 0x90 }, 1, LV_MODE_LONG64, -EINVAL },
	{ "mov cr0 cut short", { 0x0f, 0x22 }, 2, LV_MODE_LONG64, -ENODATA },
};

static void sys_case_desc(const struct sys_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(sys, sys_cases, sys_case_desc);

static void lv_decode_sys_test(struct kunit *test)
{
	const struct sys_case *c = test->param_value;
	struct lv_sys_insn insn;
	int ret = lv_decode_sys(c->code, c->avail, c->mode, &insn);

	KUNIT_ASSERT_EQ(test, ret, c->ret);
	if (ret)
		return;
	KUNIT_EXPECT_EQ(test, insn.len, c->len);
	KUNIT_EXPECT_EQ(test, insn.opcode, c->opcode);
	KUNIT_EXPECT_EQ(test, insn.reg, c->reg);
	KUNIT_EXPECT_EQ(test, insn.rm, c->rm);
	KUNIT_EXPECT_EQ(test, insn.seg, c->seg);
	KUNIT_EXPECT_EQ(test, insn.addr_size, c->addr_size);
}

static struct kunit_case decode_sys_cases[] = {
	KUNIT_CASE_PARAM(lv_decode_sys_test, sys_gen_params),
	{}
};

static struct kunit_suite lightvisor_decode_sys_suite = {
	.name = "lightvisor_decode_sys",
	.test_cases = decode_sys_cases,
};

kunit_test_suites(&lightvisor_npt_suite, &lightvisor_decode_sys_suite);
