// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the vendor-neutral architectural rules (module/x86.c):
 * the MTRR MSRs and their place in the vCPU state, the IA32_APIC_BASE
 * state machine, and the checks of VM entry on segments, CR3, CR4 and
 * RIP.
 */
#include <kunit/test.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/processor.h>

#include "../../module/lightvisor.h"

#define EN	BIT_ULL(11)
#define EXTD	BIT_ULL(10)
#define BSP	BIT_ULL(8)
#define BASE	0xfee00000ULL

static void apic_base_reserved_bits(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | BSP,
						 false, false), 0);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | 1,
						 false, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | BIT(9),
						 false, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN,
						 BASE | EN | BIT_ULL(63),
						 true, true), -EINVAL);
	/* EXTD is reserved without CPUID x2APIC, also for userspace. */
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | EXTD,
						 false, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN, BASE | EN | EXTD,
						 true, false), 0);
}

static void apic_base_transitions(struct kunit *test)
{
	/* EXTD without EN is invalid from anywhere. */
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE | EXTD,
						 true, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE | EXTD,
						 true, true), -EINVAL);
	/* x2APIC -> xAPIC and disabled -> x2APIC: guest no, userspace yes. */
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE | EN,
						 true, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE | EN,
						 true, true), 0);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE, BASE | EN | EXTD,
						 true, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE, BASE | EN | EXTD,
						 true, true), 0);
	/* x2APIC -> disabled -> xAPIC is the legal way back. */
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE | EN | EXTD, BASE,
						 true, false), 0);
	KUNIT_EXPECT_EQ(test, lv_apic_base_check(BASE, BASE | EN,
						 true, false), 0);
}

static void mtrr_read_back_and_reject(struct kunit *test)
{
	struct lv_vcpu *vcpu = kunit_kzalloc(test, sizeof(*vcpu), GFP_KERNEL);
	u64 v = 0;

	KUNIT_ASSERT_NOT_NULL(test, vcpu);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, MSR_MTRRcap, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0x508ULL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRcap, 0), -EINVAL);

	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x200, 0x80000006), 0);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, 0x200, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0x80000006ULL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x200, 0x80000003), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x200, 0x80000f06), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x201, 0xfff0000800ULL), 0);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x201, 0xfff0000400ULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x20f, 0x800), 0);
	/* MTRRCAP says 8: PHYSBASE8 is no MTRR of ours. */
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, 0x210, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, 0x210, &v), -ENOENT);

	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRfix16K_A0000,
					  0x0101010100000000ULL), 0);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRfix4K_C0000,
					  0x0000000200000000ULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, MSR_MTRRfix16K_A0000, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0x0101010100000000ULL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRdefType, 0xc06), 0);
	KUNIT_EXPECT_EQ(test, lv_mtrr_set(vcpu, MSR_MTRRdefType, 0x1006), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_mtrr_get(vcpu, MSR_MTRRdefType, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0xc06ULL);
}

static struct lv_segment seg(u8 type, u8 s, u8 dpl)
{
	return (struct lv_segment){ .limit = 0xffff, .type = type, .s = s,
				    .dpl = dpl, .present = 1 };
}

/* Real mode as after reset: what every launcher starts from. */
static struct lv_sregs real_mode(void)
{
	struct lv_sregs sr = {
		.cs = seg(11, 1, 0), .ds = seg(3, 1, 0), .es = seg(3, 1, 0),
		.fs = seg(3, 1, 0), .gs = seg(3, 1, 0), .ss = seg(3, 1, 0),
		.tr = seg(11, 0, 0), .ldt = seg(2, 0, 0),
		.idt = { .limit = 0x3ff },
	};

	sr.cs.selector = 0xf000;
	sr.cs.base = 0xffff0000;
	return sr;
}

static struct lv_sregs long_mode(void)
{
	struct lv_sregs sr = real_mode();

	sr.cr0 = X86_CR0_PE | X86_CR0_PG;
	sr.cr4 = X86_CR4_PAE;
	sr.efer = EFER_LME | EFER_LMA;
	sr.cs.l = 1;
	sr.cs.limit = 0xffffffff;
	sr.cs.g = 1;
	sr.ds.unusable = 1;
	sr.ds.type = 0;
	sr.ss.unusable = 1;
	sr.fs.present = 0;
	sr.gs.base = 0xffff888000000000ULL;
	return sr;
}

static void segments_checked(struct kunit *test)
{
	struct lv_sregs sr = real_mode();

	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, X86_EFLAGS_FIXED), 0);
	/* RFLAGS.VM in real mode. */
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, X86_EFLAGS_VM), -EINVAL);
	sr.cs.type = 3;			/* unrestricted guest: allowed */
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), 0);
	sr.cs.dpl = sr.ss.dpl = 3;	/* ... at DPL 0 only */
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr = real_mode();
	sr.cs.type = 10;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr = real_mode();
	sr.cs.base = BIT_ULL(32);
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr = real_mode();
	sr.ds.limit = 0x100fff;		/* G must be 1 with limit bits 31:20 */
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr.ds.g = 1;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), 0);
	sr.ds.limit = 0xffff0;		/* ... and 0 with limit bits 11:0 clear */
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr = real_mode();
	sr.es.type = 9;			/* execute-only code as data */
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr.es.unusable = 1;		/* not checked once unusable */
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), 0);
	sr = real_mode();
	sr.tr.type = 9;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr = real_mode();
	sr.ldt.type = 3;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr.ldt.present = 0;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), 0);
	sr = real_mode();
	sr.ss.avl = 2;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);

	sr = long_mode();
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), 0);
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, X86_EFLAGS_VM), -EINVAL);
	sr.cs.db = 1;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr = long_mode();
	sr.tr.type = 3;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr = long_mode();
	sr.gs.base = BIT_ULL(63);
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr = long_mode();
	sr.idt.base = BIT_ULL(63);
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr = long_mode();
	sr.ds.base = BIT_ULL(40);	/* unusable: its base is not checked */
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), 0);
	sr.ds.unusable = 0;
	sr.ds.type = 3;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
}

static void segments_vm86(struct kunit *test)
{
	struct lv_sregs sr = real_mode();
	struct lv_segment *segs[] = { &sr.cs, &sr.ds, &sr.es, &sr.fs, &sr.gs,
				      &sr.ss };
	int i;

	sr.cr0 = X86_CR0_PE;
	for (i = 0; i < ARRAY_SIZE(segs); i++) {
		*segs[i] = seg(3, 1, 3);
		segs[i]->selector = 0x1234;
		segs[i]->base = 0x12340;
	}
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, X86_EFLAGS_VM), 0);
	/* Not valid outside vm86: CS type 3 at DPL 3. */
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, 0), -EINVAL);
	sr.gs.base = 0;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, X86_EFLAGS_VM), -EINVAL);
	sr.gs.base = 0x12340;
	sr.fs.limit = 0xfffff;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, X86_EFLAGS_VM), -EINVAL);
	sr.fs.limit = 0xffff;
	sr.ss.dpl = 0;
	KUNIT_EXPECT_EQ(test, lv_check_segments(&sr, X86_EFLAGS_VM), -EINVAL);
}

/* CR3, CR4 and RIP against the rest of the state (SDM 27.3.1.1, 27.3.1.4). */
static void entry_regs_checked(struct kunit *test)
{
	unsigned int pa = boot_cpu_data.x86_phys_bits;
	struct lv_sregs s = real_mode();

	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 0xfff0), 0);
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 1ULL << 32), -EINVAL);
	s.cr3 = (1ULL << pa) - 0x1000;
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 0), 0);
	s.cr3 = 1ULL << pa;
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 0), -EINVAL);
	s.cr3 = 0;
	s.cr4 = X86_CR4_PCIDE;
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 0), -EINVAL);
	s.cr4 = 0;
	s.cr0 |= X86_CR0_NW;
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 0), -EINVAL);
	s.cr0 |= X86_CR0_CD;
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 0), 0);

	s = long_mode();
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 1ULL << 32), 0);
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 1ULL << 63), -EINVAL);
	s.cr4 |= X86_CR4_PCIDE;
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 0), 0);
	s.cs.l = 0;			/* compatibility mode */
	KUNIT_EXPECT_EQ(test, lv_check_entry_regs(&s, 1ULL << 32), -EINVAL);
}

/* The state's MTRR arrays are in MSR order, checked as WRMSR checks. */
static void mtrr_state_order(struct kunit *test)
{
	struct lv_vcpu *vcpu = kunit_kzalloc(test, sizeof(*vcpu), GFP_KERNEL);
	struct lv_vcpu_state *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	u64 v = 0;

	KUNIT_ASSERT_NOT_NULL(test, vcpu);
	KUNIT_ASSERT_NOT_NULL(test, st);
	st->mtrr_def_type = 0xc06;
	st->mtrr_fixed[0] = 0x0606060606060606ULL;
	st->mtrr_fixed[2] = 0x0101010100000000ULL;
	st->mtrr_fixed[3] = 0x0505050505050505ULL;
	st->mtrr_fixed[10] = 0x0404040404040404ULL;
	st->mtrr_var[15] = 0x800;
	KUNIT_EXPECT_EQ(test, lv_mtrr_check_state(st), 0);
	lv_mtrr_set_state(vcpu, st);
	lv_mtrr_get(vcpu, MSR_MTRRdefType, &v);
	KUNIT_EXPECT_EQ(test, v, 0xc06ULL);
	lv_mtrr_get(vcpu, MSR_MTRRfix64K_00000, &v);
	KUNIT_EXPECT_EQ(test, v, 0x0606060606060606ULL);
	lv_mtrr_get(vcpu, MSR_MTRRfix16K_A0000, &v);
	KUNIT_EXPECT_EQ(test, v, 0x0101010100000000ULL);
	lv_mtrr_get(vcpu, MSR_MTRRfix4K_C0000, &v);
	KUNIT_EXPECT_EQ(test, v, 0x0505050505050505ULL);
	lv_mtrr_get(vcpu, MSR_MTRRfix4K_F8000, &v);
	KUNIT_EXPECT_EQ(test, v, 0x0404040404040404ULL);
	lv_mtrr_get(vcpu, 0x20f, &v);
	KUNIT_EXPECT_EQ(test, v, 0x800ULL);

	st->mtrr_fixed[7] = 0x0200000000000000ULL;	/* type 2 */
	KUNIT_EXPECT_EQ(test, lv_mtrr_check_state(st), -EINVAL);
	st->mtrr_fixed[7] = 0;
	st->mtrr_var[14] = 0x100;			/* PHYSBASE7 bit 8 */
	KUNIT_EXPECT_EQ(test, lv_mtrr_check_state(st), -EINVAL);
}

static struct kunit_case lv_x86_test_cases[] = {
	KUNIT_CASE(apic_base_reserved_bits),
	KUNIT_CASE(apic_base_transitions),
	KUNIT_CASE(mtrr_read_back_and_reject),
	KUNIT_CASE(segments_checked),
	KUNIT_CASE(segments_vm86),
	KUNIT_CASE(entry_regs_checked),
	KUNIT_CASE(mtrr_state_order),
	{}
};

static struct kunit_suite lv_x86_test_suite = {
	.name = "lightvisor_x86",
	.test_cases = lv_x86_test_cases,
};

kunit_test_suite(lv_x86_test_suite);
