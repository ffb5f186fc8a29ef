// SPDX-License-Identifier: GPL-2.0
/* MOV to/from control registers with bits that are safe to flip. */
#include "lib/guest.h"

static uint64_t pml4_copy[512] __attribute__((aligned(4096)));

static void cr0_flip(uint64_t bit, const char *name)
{
	uint64_t old = read_cr0();

	write_cr0(old ^ bit);
	tap_eq(old ^ bit, read_cr0(), name);
	write_cr0(old);
}

#define X86_CR0_NW		(1UL << 29)
#define X86_CR0_CD		(1UL << 30)
#define X86_CR4_PKE		(1UL << 22)
#define X86_CR4_KL		(1UL << 19)
#define X86_CR4_CET		(1UL << 23)
#define X86_CR4_PKS		(1UL << 24)

/*
 * CD and NW are the host's in hardware: the guest sees its own value,
 * and the write exits however it is made.
 */
static void cr0_cache_disable(void)
{
	uint64_t old = read_cr0();

	write_cr0(old | X86_CR0_CD | X86_CR0_NW);
	tap_eq(old | X86_CR0_CD | X86_CR0_NW, read_cr0(),
	       "CR0.CD|NW write reads back as written");
	write_cr0(old);
	tap_eq(old, read_cr0(), "CR0.CD|NW cleared again");
}

/* CR4 bits of state lightvisor does not switch must raise #GP. */
static void cr4_refused(void)
{
	uint32_t a, b, c, d;

	tap_eq(VEC_GP, (uint64_t)write_cr4_safe(read_cr4() | X86_CR4_CET),
	       "CR4.CET raises #GP");
	tap_eq(VEC_GP, (uint64_t)write_cr4_safe(read_cr4() | X86_CR4_KL),
	       "CR4.KL raises #GP");
	tap_eq(VEC_GP, (uint64_t)write_cr4_safe(read_cr4() | X86_CR4_PKS),
	       "CR4.PKS raises #GP");
	cpuid(7, 0, &a, &b, &c, &d);
	if (c & (1u << 3)) {
		uint64_t old = read_cr4();

		tap_ok(write_cr4_safe(old | X86_CR4_PKE) < 0 &&
		       (read_cr4() & X86_CR4_PKE),
		       "CR4.PKE can be set where CPUID has PKU");
		write_cr4(old);
	} else {
		tap_eq(VEC_GP, (uint64_t)write_cr4_safe(read_cr4() | X86_CR4_PKE),
		       "CR4.PKE raises #GP where CPUID has no PKU");
	}
}

static void cr4_flip(uint64_t bit, const char *name)
{
	uint64_t old = read_cr4();

	write_cr4(old ^ bit);
	tap_eq(old ^ bit, read_cr4(), name);
	write_cr4(old);
}

int main(void)
{
	uint64_t cr3 = read_cr3(), v;
	int i;

	idt_init();
	tap_plan(15);
	printf("# cr0 0x%lx cr3 0x%lx cr4 0x%lx\n", read_cr0(), cr3, read_cr4());

	cr0_flip(X86_CR0_WP, "CR0.WP flip reads back");
	cr0_flip(X86_CR0_AM, "CR0.AM flip reads back");
	tap_ok(read_cr0() & 1, "CR0.PE still set after the flips");
	cr0_cache_disable();
	cr4_refused();

	/* Switch to a copy of the top-level page table and back. */
	for (i = 0; i < 512; i++)
		pml4_copy[i] = ((uint64_t *)(cr3 & ~0xfffUL))[i];
	write_cr3((uint64_t)pml4_copy);
	v = read_cr3();
	tap_eq((uint64_t)pml4_copy, v, "CR3 switch to a copied PML4 reads back");
	tap_eq(0x2a, *(volatile uint8_t *)"*", "memory still reachable through the new CR3");
	write_cr3(cr3);
	tap_eq(cr3, read_cr3(), "CR3 restored");

	cr4_flip(X86_CR4_PGE, "CR4.PGE flip reads back");
	cr4_flip(X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT, "CR4.OSFXSR|OSXMMEXCPT flip reads back");

	write_cr8(5);
	v = read_cr8();
	write_cr8(0);
	tap_eq(5, v, "CR8 (TPR) round trip");
	return tap_done();
}
