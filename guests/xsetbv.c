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

int main(void)
{
	uint32_t a, b, c, d;

	idt_init();
	tap_plan(6);

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26))) {
		for (int i = 0; i < 6; i++)
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
	return tap_done();
}
