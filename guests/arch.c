// SPDX-License-Identifier: GPL-2.0
/*
 * Architectural rules lightvisor emulates: the MTRRs that MTRRCAP
 * advertises (validated, kept, read back), IA32_APIC_BASE's reserved bits
 * and states, the XSAVE size CPUID leaf 0xD reports for the guest's own
 * XCR0, and MOV CR0 clearing PG in 64-bit mode (#GP).
 */
#include "lib/guest.h"

#define MSR_APIC_BASE		0x1b
#define MSR_MTRRCAP		0xfe
#define MSR_PHYSBASE(n)		(0x200 + 2 * (n))
#define MSR_PHYSMASK(n)		(0x201 + 2 * (n))
#define MSR_FIX64K_00000	0x250
#define MSR_FIX4K_F8000		0x26f
#define MSR_MTRR_DEF_TYPE	0x2ff

#define APIC_EN			(1UL << 11)
#define APIC_EXTD		(1UL << 10)
#define APIC_BSP		(1UL << 8)

static void test_mtrr(void)
{
	uint32_t a, b, c, d;
	uint64_t v;

	cpuid(1, 0, &a, &b, &c, &d);
	tap_ok(d & (1u << 12), "CPUID.1:EDX.MTRR is set");
	tap_eq(0x508, rdmsr(MSR_MTRRCAP), "MTRRCAP: 8 variable ranges, fixed, WC");

	wrmsr(MSR_PHYSBASE(0), 0x80000006);
	wrmsr(MSR_PHYSMASK(0), 0xff80000800UL);
	tap_eq(0x80000006, rdmsr(MSR_PHYSBASE(0)), "PHYSBASE0 reads back");
	tap_eq(0xff80000800UL, rdmsr(MSR_PHYSMASK(0)), "PHYSMASK0 reads back");
	wrmsr(MSR_PHYSBASE(7), 0x1000001);
	tap_eq(0x1000001, rdmsr(MSR_PHYSBASE(7)), "PHYSBASE7 reads back");
	wrmsr(MSR_FIX4K_F8000, 0x0605040100010406UL);
	tap_eq(0x0605040100010406UL, rdmsr(MSR_FIX4K_F8000), "fixed MTRR reads back");
	wrmsr(MSR_MTRR_DEF_TYPE, 0xc06);
	tap_eq(0xc06, rdmsr(MSR_MTRR_DEF_TYPE), "MTRR_DEF_TYPE reads back");

	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_PHYSBASE(0), 0x80000002),
	       "PHYSBASE with reserved type 2: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_PHYSBASE(0), 0x80000106),
	       "PHYSBASE with reserved bit 8: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_PHYSMASK(0), 0xff80000801UL),
	       "PHYSMASK with reserved bit 0: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_PHYSMASK(0), 1UL << 63),
	       "PHYSMASK above MAXPHYADDR: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_FIX64K_00000, 0x0700000000000000UL),
	       "fixed MTRR with reserved type 7: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_MTRR_DEF_TYPE, 0x206),
	       "MTRR_DEF_TYPE with reserved bit 9: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_MTRRCAP, 0),
	       "MTRRCAP is read-only: #GP");
	tap_eq(VEC_GP, (uint64_t)rdmsr_safe(MSR_PHYSBASE(8), &v),
	       "PHYSBASE8, beyond MTRRCAP.VCNT: #GP");
	tap_eq(0x80000006, rdmsr(MSR_PHYSBASE(0)), "PHYSBASE0 unchanged after the faults");
}

static void test_apic_base(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE), v;

	tap_eq(0xfee00000UL | APIC_EN | APIC_BSP, base, "APIC_BASE at reset");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_APIC_BASE, base | 1),
	       "APIC_BASE reserved bit 0: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_APIC_BASE, base | (1UL << 9)),
	       "APIC_BASE reserved bit 9: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_APIC_BASE, base | (1UL << 62)),
	       "APIC_BASE above MAXPHYADDR: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_APIC_BASE, base | APIC_EXTD),
	       "x2APIC enable without CPUID x2APIC: #GP");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_APIC_BASE,
					    (base & ~APIC_EN) | APIC_EXTD),
	       "EXTD=1 EN=0 (invalid state): #GP");
	wrmsr(MSR_APIC_BASE, 0xfec00000UL | APIC_EN | APIC_BSP);
	v = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base);
	tap_eq(0xfec00000UL | APIC_EN | APIC_BSP, v, "APIC_BASE move reads back");
	tap_eq(base, rdmsr(MSR_APIC_BASE), "APIC_BASE after the faults");
}

static int xsetbv_safe(uint32_t xcr, uint64_t v)
{
	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "xsetbv" FAULT_ASM_END
		     : : "c"(xcr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
		     : "r11", "memory");
	return fault_vector;
}

static void test_xsave_size(void)
{
	uint32_t a, b, c, d, avx_size, avx_off;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26)) || !(c & (1u << 28))) {
		tap_skip("CPUID 0xD size for XCR0", "no XSAVE or AVX");
		tap_skip("CPUID 0xD size for XCR0", "no XSAVE or AVX");
		return;
	}
	write_cr4(read_cr4() | X86_CR4_OSXSAVE | X86_CR4_OSFXSR);
	xsetbv_safe(0, 3);
	cpuid(0xd, 0, &a, &b, &c, &d);
	tap_eq(576, b, "CPUID.0xD.0:EBX with XCR0 = x87|SSE is 576");
	cpuid(0xd, 2, &avx_size, &avx_off, &c, &d);
	xsetbv_safe(0, 7);
	cpuid(0xd, 0, &a, &b, &c, &d);
	tap_eq(avx_off + avx_size, b, "CPUID.0xD.0:EBX with XCR0 = x87|SSE|AVX");
	xsetbv_safe(0, 1);
}

static void test_cr0_pg(void)
{
	uint64_t cr0 = read_cr0();

	/* CR0.NE changes too, so that the write exits to lightvisor. */
	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "mov %0, %%cr0" FAULT_ASM_END
		     : : "r"(cr0 & ~((1UL << 31) | (1UL << 5))) : "r11", "memory");
	tap_eq(VEC_GP, (uint64_t)fault_vector, "MOV CR0 clearing PG in 64-bit mode: #GP");
	tap_eq(cr0, read_cr0(), "CR0 unchanged");
}

int main(void)
{
	idt_init();
	tap_plan(28);
	test_mtrr();
	test_apic_base();
	test_xsave_size();
	test_cr0_pg();
	return tap_done();
}
