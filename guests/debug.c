// SPDX-License-Identifier: GPL-2.0
/*
 * Debug state as a real CPU has it: DR6/DR7 after reset, data
 * breakpoints, single steps, ICEBP and general detect reaching the
 * guest's own #DB handler with the right DR6, and IA32_DEBUGCTL.
 */
#include "lib/guest.h"

#define MSR_IA32_DEBUGCTL	0x1d9
#define VEC_DB			1
#define DR6_B0			(1UL << 0)
#define DR6_BD			(1UL << 13)
#define DR6_BS			(1UL << 14)
#define DR7_GD			(1UL << 13)
#define X86_RFLAGS_TF		(1UL << 8)

#define DEFINE_DR_ACCESSORS(n)						\
static inline uint64_t read_dr##n(void)					\
{									\
	uint64_t v;							\
	asm volatile("mov %%db" #n ", %0" : "=r"(v));			\
	return v;							\
}									\
static inline void write_dr##n(uint64_t v)				\
{									\
	asm volatile("mov %0, %%db" #n : : "r"(v) : "memory");		\
}

DEFINE_DR_ACCESSORS(0)
DEFINE_DR_ACCESSORS(6)
DEFINE_DR_ACCESSORS(7)

static volatile uint32_t watched;
static volatile int db_count;
static volatile uint64_t db_dr6;
static volatile uint64_t db_rip;

static void db_handler(struct irq_frame *f)
{
	db_count++;
	db_dr6 = read_dr6();
	db_rip = f->rip;
	/* Single-step once only. */
	f->rflags &= ~X86_RFLAGS_TF;
}

static void reset_db(void)
{
	write_dr6(0);
	db_count = 0;
	db_dr6 = 0;
}

static void test_data_breakpoint(void)
{
	reset_db();
	write_dr0((uint64_t)&watched);
	/* L0, R/W0 = 01 (data writes), LEN0 = 11 (4 bytes). */
	write_dr7(0x400 | 1 | (1UL << 16) | (3UL << 18));
	watched = 1;
	write_dr7(0x400);
	tap_eq(1, db_count, "a write to a watched address raises #DB in the guest");
	tap_ok(db_dr6 & DR6_B0, "DR6.B0 names the breakpoint");
	watched = 2;
	tap_eq(1, db_count, "no #DB once DR7 disables the breakpoint");
}

static void test_single_step(void)
{
	reset_db();
	asm volatile("pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "nop" : : : "memory", "cc");
	tap_eq(1, db_count, "RFLAGS.TF single-steps into the guest's #DB handler");
	tap_ok(db_dr6 & DR6_BS, "DR6.BS is set for a single step");
}

static void test_icebp(void)
{
	extern char icebp_next[];

	reset_db();
	asm volatile(".byte 0xf1\n\t"
		     ".globl icebp_next\n"
		     "icebp_next:" : : : "memory");
	tap_eq(1, db_count, "ICEBP (INT1) raises #DB in the guest");
	tap_eq((uint64_t)icebp_next, db_rip, "ICEBP's #DB returns after the instruction");
}

static void test_general_detect(void)
{
	uint64_t v;

	reset_db();
	write_dr7(0x400 | DR7_GD);
	v = read_dr0();
	tap_eq(1, db_count, "MOV DR with DR7.GD set raises #DB");
	tap_ok(db_dr6 & DR6_BD, "DR6.BD is set for general detect");
	tap_eq(0x400, read_dr7(), "the #DB cleared DR7.GD");
	(void)v;
}

int main(void)
{
	uint64_t v = 1;

	idt_init();
	tap_plan(16);

	tap_eq(0xffff0ff0, read_dr6(), "DR6 reads 0xffff0ff0 after reset");
	tap_eq(0x400, read_dr7(), "DR7 reads 0x400 after reset");
	write_dr6(0);
	tap_eq(0xffff0ff0, read_dr6(), "DR6 keeps its fixed bits");

	tap_ok(rdmsr_safe(MSR_IA32_DEBUGCTL, &v) < 0 && v == 0,
	       "IA32_DEBUGCTL reads 0");
	tap_ok(wrmsr_safe(MSR_IA32_DEBUGCTL, 0) < 0, "IA32_DEBUGCTL accepts 0");
	tap_eq(VEC_GP, (uint64_t)wrmsr_safe(MSR_IA32_DEBUGCTL, 1),
	       "IA32_DEBUGCTL.LBR raises #GP");

	idt_set_handler(VEC_DB, db_handler);
	test_data_breakpoint();
	test_single_step();
	test_icebp();
	test_general_detect();
	return tap_done();
}
