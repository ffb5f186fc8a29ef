// SPDX-License-Identifier: GPL-2.0
/* XSETBV/XGETBV of XCR0, and #GP for invalid XCR0 values. */
#include "lib/guest.h"

static uint64_t xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return ((uint64_t)hi << 32) | lo;
}

static int xsetbv_safe(uint32_t xcr, uint64_t v)
{
	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "xsetbv" FAULT_ASM_END
		     : : "c"(xcr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
		     : "r11", "memory");
	return fault_vector;
}

#define XCR0_AVX512	0xe0
#define XCR0_MPX	0x18

/* The state groups of the SDM's XCR0 rules: all or nothing. */
static void test_groups(void)
{
	uint32_t a, b, c, d;

	cpuid(0xd, 0, &a, &b, &c, &d);
	printf("# CPUID.0xD:EAX (XCR0 bits the guest may set) 0x%x\n", a);
	if ((a & XCR0_AVX512) == XCR0_AVX512) {
		tap_eq(VEC_GP, (uint64_t)xsetbv_safe(0, 7 | 0x20),
		       "XSETBV with opmask but not ZMM raises #GP");
		tap_eq(VEC_GP, (uint64_t)xsetbv_safe(0, 3 | XCR0_AVX512),
		       "XSETBV with AVX-512 but not AVX raises #GP");
		tap_ok(xsetbv_safe(0, 7 | XCR0_AVX512) < 0,
		       "XSETBV with all of AVX-512 works");
		xsetbv_safe(0, 3);
	} else {
		tap_skip("AVX-512 groups", "CPUID.0xD has no AVX-512 states");
		tap_skip("AVX-512 needs AVX", "CPUID.0xD has no AVX-512 states");
		tap_skip("AVX-512 complete", "CPUID.0xD has no AVX-512 states");
	}
	if ((a & XCR0_MPX) == XCR0_MPX)
		tap_eq(VEC_GP, (uint64_t)xsetbv_safe(0, 3 | 0x8),
		       "XSETBV with BNDREGS but not BNDCSR raises #GP");
	else
		tap_skip("MPX pair", "CPUID.0xD has no MPX states");
	tap_ok(!(a & (3u << 17)), "CPUID.0xD does not offer AMX tile states");
	cpuid(0xd, 1, &a, &b, &c, &d);
	tap_ok(!(a & (1u << 4)), "CPUID.0xD.1 does not offer XFD");
}

int main(void)
{
	uint32_t a, b, c, d;

	idt_init();
	tap_plan(14);

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26))) {
		for (int i = 0; i < 14; i++)
			tap_skip("xsave test", "CPUID.1:ECX.XSAVE is clear");
		return tap_done();
	}
	tap_ok(!(c & (1u << 27)), "CPUID.1:ECX.OSXSAVE clear while CR4.OSXSAVE is clear");

	write_cr4(read_cr4() | X86_CR4_OSXSAVE | X86_CR4_OSFXSR);
	cpuid(1, 0, &a, &b, &c, &d);
	tap_ok(c & (1u << 27), "CPUID.1:ECX.OSXSAVE follows CR4.OSXSAVE");
	tap_ok(xgetbv(0) & 1, "XCR0.x87 is set");

	tap_ok(xsetbv_safe(0, 3) < 0, "XSETBV XCR0=x87|SSE does not fault");
	tap_eq(3, xgetbv(0) & 3, "XGETBV reads back x87|SSE");
	tap_eq(VEC_GP, (uint64_t)xsetbv_safe(0, 0), "XSETBV XCR0=0 (no x87) raises #GP");
	tap_eq(VEC_GP, (uint64_t)xsetbv_safe(0, 5), "XSETBV XCR0=x87|AVX (no SSE) raises #GP");
	test_groups();
	tap_eq(3, xgetbv(0), "XCR0 still x87|SSE after the refused writes");
	return tap_done();
}
