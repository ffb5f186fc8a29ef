// SPDX-License-Identifier: GPL-2.0
/*
 * String I/O at CPL 3: lightvisor translates the memory operand of
 * REP INS/OUTS itself, and must honour U/S as the CPU does. The guest
 * maps its own first 2 MiB (code, data, stacks) user-accessible and the
 * next 2 MiB supervisor-only, drops to ring 3 with IOPL 3, and checks
 * that string I/O to its own pages works and to the supervisor page
 * raises #PF with the user bit in the error code.
 */
#include "lib/guest.h"

#define UART_SCR	(UART_BASE + 7)
#define UART_LSR	(UART_BASE + 5)
#define SUPERVISOR_PAGE	0x200000UL
#define PTE_P		1UL
#define PTE_W		2UL
#define PTE_U		4UL

#define SEL_KCODE	0x08
#define SEL_TSS		0x18
#define SEL_UDATA	0x2b		/* 0x28 | RPL 3 */
#define SEL_UCODE	0x33		/* 0x30 | RPL 3 */

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t gdt[7] __attribute__((aligned(16)));
static uint8_t user_stack[8192] __attribute__((aligned(16)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));
static uint8_t user_buf[16];

static volatile uint64_t pf_error;

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void pf_handler(struct irq_frame *f)
{
	pf_error = f->error;
	f->rip = fault_fixup;
	fault_fixup = 0;
	fault_vector = 14;
}

/* Own page tables: lvrun's 2 MiB identity map, with U set for 0-2 MiB. */
static void map_user(void)
{
	uint64_t *old_pml4 = (uint64_t *)(read_cr3() & ~0xfffUL);
	uint64_t *old_pdpt = (uint64_t *)(old_pml4[0] & ~0xfffUL);
	uint64_t *old_pd = (uint64_t *)(old_pdpt[0] & ~0xfffUL);
	int i;

	for (i = 0; i < 512; i++) {
		pd[i] = old_pd[i];
		pdpt[i] = old_pdpt[i];
	}
	pd[0] |= PTE_U;
	pdpt[0] = (uint64_t)pd | PTE_P | PTE_W | PTE_U;
	pml4[0] = (uint64_t)pdpt | PTE_P | PTE_W | PTE_U;
	write_cr3((uint64_t)pml4);
}

/* A GDT with user segments; TR keeps lvrun's TSS, with RSP0 set. */
static void setup_gdt(void)
{
	struct desc_ptr old, p;
	uint64_t *old_gdt, tss;

	asm volatile("sgdt %0" : "=m"(old));
	old_gdt = (uint64_t *)old.base;
	gdt[0] = 0;
	gdt[1] = old_gdt[1];			/* kernel code64 */
	gdt[2] = old_gdt[2];			/* kernel data */
	gdt[3] = old_gdt[3];			/* TSS, 16 bytes */
	gdt[4] = old_gdt[4];
	gdt[5] = 0x00cff3000000ffffUL;		/* user data, DPL 3 */
	gdt[6] = 0x00affb000000ffffUL;		/* user code64, DPL 3 */
	p.limit = sizeof(gdt) - 1;
	p.base = (uint64_t)gdt;
	asm volatile("lgdt %0" : : "m"(p) : "memory");

	tss = ((gdt[3] >> 16) & 0xffffff) | (((gdt[3] >> 56) & 0xff) << 24) |
	      (gdt[4] << 32);
	*(volatile uint64_t *)(tss + 4) = (uint64_t)kernel_stack +
					  sizeof(kernel_stack);
}

static void __attribute__((noreturn)) user_main(void)
{
	uint64_t si, di, cx;
	unsigned int i;
	bool ok;

	insb(UART_LSR, user_buf, sizeof(user_buf));
	for (ok = true, i = 0; i < sizeof(user_buf); i++)
		ok &= (user_buf[i] & 0x60) == 0x60;
	tap_ok(ok, "CPL 3 rep insb into a user page");

	si = SUPERVISOR_PAGE;
	cx = 4;
	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "cld; rep outsb" FAULT_ASM_END
		     : "+S"(si), "+c"(cx) : "d"(UART_SCR) : "r11", "memory");
	tap_eq(14, (uint64_t)fault_vector, "CPL 3 rep outsb from a supervisor page: #PF");
	tap_eq(PTE_P | PTE_U, pf_error, "... error code: present, user, read");
	tap_eq(4, cx, "... nothing sent");

	di = SUPERVISOR_PAGE;
	cx = 4;
	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "cld; rep insb" FAULT_ASM_END
		     : "+D"(di), "+c"(cx) : "d"(UART_LSR) : "r11", "memory");
	tap_eq(14, (uint64_t)fault_vector, "CPL 3 rep insb into a supervisor page: #PF");
	tap_eq(PTE_P | PTE_W | PTE_U, pf_error, "... error code: present, user, write");
	guest_exit(tap_done());
}

int main(void)
{
	idt_init();
	idt_set_handler(14, pf_handler);
	tap_plan(6);
	map_user();
	setup_gdt();
	/* To ring 3 with IOPL 3 (port I/O allowed there). */
	asm volatile("pushq %0; pushq %1; pushq %2; pushq %3; pushq %4; iretq"
		     : : "i"(SEL_UDATA), "r"((uint64_t)user_stack + sizeof(user_stack)),
			 "i"(0x3002), "i"(SEL_UCODE), "r"((uint64_t)user_main)
		     : "memory");
	return 1;
}
