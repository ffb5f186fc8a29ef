// SPDX-License-Identifier: GPL-2.0
/*
 * MSR round trips for the state the hypervisor must save and restore
 * per vCPU, and #GP for MSRs that do not exist or values that are invalid.
 */
#include "lib/guest.h"

#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_PAT		0x277
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_FMASK		0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_BOGUS		0x12345678
#define MSR_IA32_SPEC_CTRL	0x48
#define MSR_IA32_PRED_CMD	0x49
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_TSC		0x10
#define MSR_IA32_TSC_ADJUST	0x3b

struct msr_test {
	uint32_t msr;
	uint64_t val;
	const char *name;
};

static const struct msr_test tests[] = {
	{ MSR_IA32_SYSENTER_CS, 0x10, "IA32_SYSENTER_CS round trip" },
	{ MSR_IA32_SYSENTER_ESP, 0xffffffff81234560UL, "IA32_SYSENTER_ESP round trip" },
	{ MSR_IA32_SYSENTER_EIP, 0xffffffff81abcde0UL, "IA32_SYSENTER_EIP round trip" },
	{ MSR_STAR, 0x0023001000000000UL, "STAR round trip" },
	{ MSR_LSTAR, 0xffffffff81000040UL, "LSTAR round trip" },
	{ MSR_FMASK, 0x47700, "FMASK round trip" },
	{ MSR_KERNEL_GS_BASE, 0xffff888012345000UL, "KERNEL_GS_BASE round trip" },
	/* WB, WT, UC-, UC, WB, WP, UC-, UC: all valid memory types. */
	{ MSR_IA32_PAT, 0x0007050600070106UL, "IA32_PAT round trip" },
};

#define NR_TESTS (sizeof(tests) / sizeof(tests[0]))

/*
 * IA32_SPEC_CTRL exists for the guest exactly where CPUID says so, keeps
 * what the guest writes, and refuses bits CPUID does not offer;
 * ARCH_CAPABILITIES and the L1D flush MSR are not offered at all.
 */
static void test_spec_ctrl(void)
{
	uint32_t a, b, c, d;
	uint64_t v;

	cpuid(7, 0, &a, &b, &c, &d);
	printf("# CPUID.7.0:EDX 0x%x\n", d);
	tap_ok(!(d & (1u << 29)), "CPUID does not offer ARCH_CAPABILITIES");
	tap_eq(VEC_GP, (uint64_t)rdmsr_safe(MSR_IA32_ARCH_CAPABILITIES, &v),
	       "RDMSR of IA32_ARCH_CAPABILITIES raises #GP");
	tap_ok(!(d & (1u << 28)), "CPUID does not offer L1D_FLUSH");
	if (!(d & (1u << 26))) {
		tap_eq(VEC_GP, (uint64_t)rdmsr_safe(MSR_IA32_SPEC_CTRL, &v),
		       "RDMSR of IA32_SPEC_CTRL raises #GP without CPUID IBRS");
		tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_IA32_SPEC_CTRL, 0),
		       "WRMSR of IA32_SPEC_CTRL raises #GP without CPUID IBRS");
		tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_IA32_PRED_CMD, 1),
		       "WRMSR of IA32_PRED_CMD raises #GP without CPUID IBRS");
		tap_skip("SPEC_CTRL reserved bit", "no IBRS in CPUID");
		return;
	}
	tap_ok(rdmsr_safe(MSR_IA32_SPEC_CTRL, &v) < 0 && v == 0,
	       "IA32_SPEC_CTRL reads 0 after reset");
	tap_ok(wrmsr_safe(MSR_IA32_SPEC_CTRL, 1) < 0 &&
	       rdmsr(MSR_IA32_SPEC_CTRL) == 1, "IA32_SPEC_CTRL.IBRS round trip");
	wrmsr(MSR_IA32_SPEC_CTRL, 0);
	tap_ok(wrmsr_safe(MSR_IA32_PRED_CMD, 1) < 0, "IBPB through IA32_PRED_CMD");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_IA32_SPEC_CTRL, 1UL << 40),
	       "IA32_SPEC_CTRL reserved bit raises #GP");
}

/*
 * IA32_TSC_ADJUST (SDM 17.17.3), offered by CPUID 7 EBX bit 1: 0 at
 * first; a write of it moves the TSC by its change, and a write of
 * IA32_TSC changes it by as much as the TSC moved.
 */
static void test_tsc_adjust(void)
{
	const uint64_t step = 1ULL << 40, slack = 1ULL << 32;
	uint32_t a, b, c, d;
	uint64_t t0, t1;
	int64_t adj;

	cpuid(7, 0, &a, &b, &c, &d);
	tap_ok(b & (1 << 1), "CPUID 7: IA32_TSC_ADJUST offered");
	tap_eq(0, rdmsr(MSR_IA32_TSC_ADJUST), "IA32_TSC_ADJUST reads 0 at first");
	t0 = rdtsc();
	wrmsr(MSR_IA32_TSC_ADJUST, step);
	t1 = rdtsc();
	tap_ok(t1 - t0 >= step && t1 - t0 < step + slack,
	       "a write of IA32_TSC_ADJUST moves the TSC by as much");
	tap_eq(step, rdmsr(MSR_IA32_TSC_ADJUST), "IA32_TSC_ADJUST reads back");
	t0 = rdtsc();
	wrmsr(MSR_IA32_TSC, t0 - step);
	t1 = rdtsc();
	adj = (int64_t)rdmsr(MSR_IA32_TSC_ADJUST);
	/* The ticks between the read and the write went back too. */
	tap_ok(t1 < t0 && adj <= 0 && adj > -(int64_t)slack,
	       "a write of IA32_TSC moves IA32_TSC_ADJUST by as much");
	wrmsr(MSR_IA32_TSC_ADJUST, 0);
}

int main(void)
{
	uint64_t old, v;
	unsigned int i;

	idt_init();
	tap_plan(NR_TESTS + 15);

	for (i = 0; i < NR_TESTS; i++) {
		old = rdmsr(tests[i].msr);
		wrmsr(tests[i].msr, tests[i].val);
		v = rdmsr(tests[i].msr);
		wrmsr(tests[i].msr, old);
		tap_eq(tests[i].val, v, tests[i].name);
	}

	tap_eq(VEC_GP, (uint64_t)rdmsr_safe(MSR_BOGUS, &v),
	       "RDMSR of unsupported MSR 0x12345678 raises #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_BOGUS, 1),
	       "WRMSR of unsupported MSR 0x12345678 raises #GP");

	test_spec_ctrl();
	test_tsc_adjust();

	old = rdmsr(MSR_LSTAR);
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_LSTAR, 0x8000000000000000UL),
	       "WRMSR of non-canonical LSTAR raises #GP");
	tap_eq(old, rdmsr(MSR_LSTAR), "LSTAR unchanged after the faulting write");
	return tap_done();
}
