// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO instruction emulation beyond plain MOV: the stack pointer as the
 * register operand, LOCK-prefixed read-modify-write, XCHG, CMPXCHG, XADD,
 * the bit tests, INC, DEC, NOT and NEG (each size, with and without LOCK), MOVNTI, MOVS between RAM and MMIO, and accesses that
 * straddle the end of RAM. lvrun's test device at 0xfe000000 stores
 * writes and returns them on reads; physical memory above RAM (16 MiB
 * by default) reads all ones and ignores writes.
 */
#include "lib/guest.h"

#define DEV		MMIO_TESTDEV
#define RAM_END		(16UL << 20)
#define FLAGS_MASK	0x8d5UL		/* OF SF ZF AF PF CF */

static volatile uint64_t *const dev64 = (volatile uint64_t *)DEV;
static volatile uint32_t *const dev32 = (volatile uint32_t *)DEV;

static uint64_t flags_of(uint64_t rflags)
{
	return rflags & FLAGS_MASK;
}

static void test_rsp(void)
{
	uint64_t sp, got;

	asm volatile("mov %%rsp, (%2); mov %%rsp, %0; mov (%2), %1"
		     : "=&r"(sp), "=&r"(got) : "r"(DEV) : "memory");
	tap_eq(sp, got, "mov [mmio], rsp stores the current RSP");
	asm volatile("mov %%esp, 8(%2); mov %%rsp, %0; mov 8(%2), %k1"
		     : "=&r"(sp), "=&r"(got) : "r"(DEV) : "memory");
	tap_eq((uint32_t)sp, got, "mov [mmio], esp stores the current ESP");
}

static void test_alu(void)
{
	uint64_t f_dev, f_ram, ram;

	/* ADD with carry out: value and flags as on RAM. */
	*dev64 = 0xffffffffffffffffUL;
	ram = 0xffffffffffffffffUL;
	asm volatile("lock addq %1, (%2); pushfq; pop %0"
		     : "=&r"(f_dev) : "r"(2UL), "r"(DEV) : "memory", "cc");
	asm volatile("lock addq %2, %1; pushfq; pop %0"
		     : "=r"(f_ram), "+m"(ram) : "r"(2UL) : "cc");
	tap_eq(ram, *dev64, "lock add [mmio]: result");
	tap_eq(flags_of(f_ram), flags_of(f_dev), "lock add [mmio]: flags");

	*dev32 = 0x0f0f0000;
	asm volatile("lock orl %1, (%2); pushfq; pop %0"
		     : "=&r"(f_dev) : "r"(0x80000001u), "r"(DEV) : "memory", "cc");
	tap_eq(0x8f0f0001, *dev32, "lock or [mmio]: result");
	tap_ok((f_dev & 0x80) && !(f_dev & 0x801), "lock or [mmio]: SF set, CF OF clear");

	*dev32 = 0x12345678;
	asm volatile("lock andl $0xff00, (%0)" : : "r"(DEV) : "memory", "cc");
	tap_eq(0x5600, *dev32, "lock and [mmio], imm32");

	*dev32 = 0x5a5a5a5a;
	asm volatile("lock xorl %1, (%2); pushfq; pop %0"
		     : "=&r"(f_dev) : "r"(0x5a5a5a5au), "r"(DEV) : "memory", "cc");
	tap_eq(0, *dev32, "lock xor [mmio]: result");
	tap_ok(f_dev & 0x40, "lock xor [mmio]: ZF set");

	*dev32 = 1;
	asm volatile("lock subl $2, (%1); pushfq; pop %0"
		     : "=&r"(f_dev) : "r"(DEV) : "memory", "cc");
	tap_eq(0xffffffff, *dev32, "lock sub [mmio], imm8: result");
	tap_ok((f_dev & 0x81) == 0x81, "lock sub [mmio]: CF and SF set");
}

/*
 * One operand forms: the same instruction on MMIO and on RAM, from the
 * same value and flags, must give the same value and flags. CF goes in
 * set, so that INC and DEC show they keep it.
 */
#define UNARY(insn, init, name) do {					\
		uint64_t f_dev, f_ram, ram = (init);				\
		*dev64 = (init);						\
		asm volatile("stc; " insn " (%1); pushfq; pop %0"		\
			     : "=&r"(f_dev) : "r"(DEV) : "memory", "cc");	\
		asm volatile("stc; " insn " %1; pushfq; pop %0"		\
			     : "=&r"(f_ram), "+m"(ram) : : "cc");		\
		tap_eq(ram, *dev64, name ": result");				\
		tap_eq(flags_of(f_ram), flags_of(f_dev), name ": flags");	\
	} while (0)

static void test_unary(void)
{
	UNARY("incb", 0x11223344556677ffUL, "inc byte [mmio]");
	UNARY("lock incw", 0x7fffUL, "lock inc word [mmio]");
	UNARY("incl", 0xffffffffUL, "inc dword [mmio]");
	UNARY("lock incq", 0x7fffffffffffffffUL, "lock inc qword [mmio]");
	UNARY("lock decb", 0x80UL, "lock dec byte [mmio]");
	UNARY("decw", 0x10000UL, "dec word [mmio]");
	UNARY("lock decl", 1UL, "lock dec dword [mmio]");
	UNARY("decq", 0UL, "dec qword [mmio]");
	UNARY("notb", 0x5aUL, "not byte [mmio]");
	UNARY("lock notw", 0x1234UL, "lock not word [mmio]");
	UNARY("notl", 0xdeadbeefUL, "not dword [mmio]");
	UNARY("lock notq", 0x0123456789abcdefUL, "lock not qword [mmio]");
	UNARY("negb", 0x80UL, "neg byte [mmio]");
	UNARY("lock negw", 0UL, "lock neg word [mmio]");
	UNARY("negl", 0x10UL, "neg dword [mmio]");
	UNARY("lock negq", 0x8000000000000000UL, "lock neg qword [mmio]");
}

static void test_xchg(void)
{
	uint64_t v = 0x1111, f;
	uint32_t old;

	*dev64 = 0x2222;
	asm volatile("xchgq %0, (%1)" : "+r"(v) : "r"(DEV) : "memory");
	tap_eq(0x2222, v, "xchg reg, [mmio]: register gets the old value");
	tap_eq(0x1111, *dev64, "xchg reg, [mmio]: memory gets the register");

	*dev32 = 5;
	old = 5;
	asm volatile("lock cmpxchgl %2, (%3); pushfq; pop %1"
		     : "+a"(old), "=&r"(f) : "r"(9u), "r"(DEV) : "memory", "cc");
	tap_ok(*dev32 == 9 && (f & 0x40), "lock cmpxchg [mmio] match: stored, ZF set");
	old = 5;
	asm volatile("lock cmpxchgl %2, (%3); pushfq; pop %1"
		     : "+a"(old), "=&r"(f) : "r"(7u), "r"(DEV) : "memory", "cc");
	tap_ok(*dev32 == 9 && old == 9 && !(f & 0x40),
	       "lock cmpxchg [mmio] mismatch: EAX gets memory, ZF clear");

	*dev32 = 40;
	old = 2;
	asm volatile("lock xaddl %0, (%1)" : "+r"(old) : "r"(DEV) : "memory", "cc");
	tap_ok(*dev32 == 42 && old == 40, "lock xadd [mmio]");
}

static void test_bits(void)
{
	uint64_t f;

	*dev64 = 0;
	asm volatile("lock btsl $3, (%1); pushfq; pop %0"
		     : "=&r"(f) : "r"(DEV) : "memory", "cc");
	tap_ok(*dev64 == 8 && !(f & 1), "lock bts [mmio], 3: set, CF was 0");
	asm volatile("lock btrl $3, (%1); pushfq; pop %0"
		     : "=&r"(f) : "r"(DEV) : "memory", "cc");
	tap_ok(*dev64 == 0 && (f & 1), "lock btr [mmio], 3: cleared, CF was 1");
	/* A register offset of 35 addresses bit 3 of the next dword. */
	asm volatile("lock btsl %1, (%2); pushfq; pop %0"
		     : "=&r"(f) : "r"(35), "r"(DEV) : "memory", "cc");
	tap_eq(8UL << 32, *dev64, "lock bts [mmio], reg 35: bit 3 of the next dword");
	asm volatile("lock btcq %0, (%1)" : : "r"(35UL), "r"(DEV) : "memory", "cc");
	tap_eq(0, *dev64, "lock btc [mmio], reg: toggled back");
}

static void test_movnti_movs(void)
{
	static uint8_t src[16], dst[16];
	uint64_t v = 0x0102030405060708UL, si, di, cx;
	unsigned int i;
	bool ok;

	asm volatile("movnti %0, (%1)" : : "r"(v), "r"(DEV + 0x10) : "memory");
	tap_eq(v, dev64[2], "movnti [mmio]");

	for (i = 0; i < sizeof(src); i++)
		src[i] = 0xa0 + i;
	si = (uint64_t)src;
	di = DEV + 0x100;
	cx = sizeof(src);
	asm volatile("cld; rep movsb" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	for (ok = true, i = 0; i < sizeof(src); i++)
		ok &= ((volatile uint8_t *)DEV)[0x100 + i] == src[i];
	tap_ok(ok, "rep movsb RAM -> MMIO");

	si = DEV + 0x100;
	di = (uint64_t)dst;
	cx = 2;
	asm volatile("cld; rep movsq" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	for (ok = true, i = 0; i < sizeof(dst); i++)
		ok &= dst[i] == src[i];
	tap_ok(ok, "rep movsq MMIO -> RAM");

	si = DEV + 0x100;
	di = DEV + 0x200;
	cx = 4;
	asm volatile("cld; rep movsl" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	tap_eq(dev64[0x100 / 8 + 1], dev64[0x200 / 8 + 1], "rep movsl MMIO -> MMIO");
}

static void test_straddle(void)
{
	volatile uint32_t *ram_tail = (volatile uint32_t *)(RAM_END - 4);
	/* The initial stack ends there: keep what it holds (main's return). */
	uint32_t saved = *ram_tail;
	uint64_t v;

	*ram_tail = 0;
	*(volatile uint64_t *)(RAM_END - 4) = 0x1122334455667788UL;
	tap_eq(0x55667788, *ram_tail, "8-byte store across the end of RAM keeps its RAM half");

	*ram_tail = 0xcafef00d;
	v = *(volatile uint64_t *)(RAM_END - 4);
	*ram_tail = saved;
	tap_eq(0xffffffffcafef00dUL, v, "8-byte load across the end of RAM: RAM half and MMIO half");
}

int main(void)
{
	idt_init();
	tap_plan(58);
	test_rsp();
	test_alu();
	test_unary();
	test_xchg();
	test_bits();
	test_movnti_movs();
	test_straddle();
	return tap_done();
}
