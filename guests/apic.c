// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC from a 64-bit guest (lvrun --irqchip): the
 * xAPIC page, CR8 as TPR, the switch to x2APIC and back through the
 * disabled state, self-IPIs and EOIs in a loop in both modes, a
 * level-triggered I/O APIC pin in both modes, and the PIT's channel 2
 * timed against the TSC whose frequency CPUID 0x40000010 reports.
 */
#include "lib/guest.h"

#define APIC_BASE_MSR	0x1b
#define APIC		0xfee00000UL
#define APIC_EN		(1UL << 11)
#define APIC_EXTD	(1UL << 10)
#define APIC_BSP	(1UL << 8)

/* irq.sh expects at least this many CR-access exits without the TPR shadow. */
#define CR8_LOOPS	2000
/*
 * And at least 2 x this many MSR-write exits without virtual-interrupt
 * delivery, and as many exits on the xAPIC page without the APIC-access
 * page.
 */
#define SELF_IPI_LOOPS	1000
/* And at least this many EOI-induced exits with it. */
#define LEVEL_IRQS	20

static volatile bool x2apic;
static volatile int hits[256];

static uint32_t apic_read(unsigned int off)
{
	return *(volatile uint32_t *)(APIC + off);
}

static void apic_write(unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(APIC + off) = v;
}

static void eoi(void)
{
	if (x2apic)
		wrmsr(0x80b, 0);
	else
		apic_write(0xb0, 0);
}

static void handler(struct irq_frame *f)
{
	hits[f->vector]++;
	eoi();
}

/* Whether the handler of an IPI found its vector in service in the ISR. */
static volatile bool isr_seen;

static bool in_service(unsigned int vector)
{
	return apic_read(0x100 + vector / 32 * 0x10) & (1u << (vector % 32));
}

static void isr_handler(struct irq_frame *f)
{
	isr_seen = in_service(f->vector);
	handler(f);
}

/* Let pending interrupts in: a few instructions with IF set. */
static void window(void)
{
	asm volatile("sti; nop; nop; nop; cli" ::: "memory");
}

static void test_xapic(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	tap_ok(d & (1 << 9), "CPUID: local APIC present");
	tap_ok(c & (1 << 21), "CPUID: x2APIC offered");
	cpuid(6, 0, &a, &b, &c, &d);
	tap_ok(a & (1 << 2), "CPUID 6: ARAT, the APIC timer runs in every C-state");
	tap_eq(APIC | APIC_EN | APIC_BSP, rdmsr(APIC_BASE_MSR),
	       "IA32_APIC_BASE: 0xfee00000, enabled, BSP");
	tap_eq(0, apic_read(0x20), "xAPIC ID 0");
	tap_eq(0x14, apic_read(0x30) & 0xff, "xAPIC version 0x14");
	apic_write(0xf0, 0x1ff);
	tap_eq(0x1ff, apic_read(0xf0), "SVR enabled through the page");

	apic_write(0x300, 0x40000 | 0x41);	/* self shorthand, fixed */
	window();
	tap_eq(1, hits[0x41], "xAPIC self-IPI through the ICR");

	write_cr8(5);
	tap_eq(0x50, apic_read(0x80), "MOV to CR8 sets TPR[7:4]");
	apic_write(0x300, 0x40000 | 0x42);
	window();
	tap_eq(0, hits[0x42], "class 4 held while CR8 is 5");
	write_cr8(0);
	window();
	tap_eq(1, hits[0x42], "delivered once CR8 is 0");
	apic_write(0x80, 0x30);
	tap_eq(3, read_cr8(), "CR8 reads TPR[7:4]");
	apic_write(0x80, 0);
}

/*
 * The xAPIC page in a loop: with the APIC-access page and virtual-interrupt
 * delivery neither the self-IPI through the ICR (shorthand self, fixed,
 * edge) nor the EOI write exits (irq.sh counts the exits on the page);
 * each is taken exactly once all the same. An IPI to its own APIC ID
 * without the shorthand is no self-IPI to the CPU: it exits as an APIC
 * write, and the ISR read in its handler as an APIC access.
 */
static void test_xapic_loop(void)
{
	unsigned int i;

	for (i = 0; i < SELF_IPI_LOOPS; i++) {
		apic_write(0x300, 0x40000 | 0x49);
		window();
	}
	tap_eq(SELF_IPI_LOOPS, hits[0x49], "xAPIC: a self-IPI through the ICR and its EOI in a loop, each taken once");
	apic_write(0x310, 0);			/* APIC ID 0 */
	apic_write(0x300, 0x4a);		/* fixed, physical, no shorthand */
	window();
	tap_eq(1, hits[0x4a], "xAPIC: an IPI to its own APIC ID through the ICR");
	tap_ok(isr_seen, "xAPIC: its handler reads the vector in service in the ISR");
	tap_ok(!in_service(0x4a), "xAPIC: the EOI cleared it");
}

/*
 * CR8 with the TPR shadow: no exit for the MOVs themselves (irq.sh counts
 * the CR-access exits around this run), but the moment a lower CR8 lets a
 * held interrupt in must still exit, at that very instruction.
 */
static void test_cr8_shadow(void)
{
	unsigned int i, bad = 0;
	int before, after;

	for (i = 0; i < CR8_LOOPS; i++) {
		write_cr8(i & 15);
		if (read_cr8() != (i & 15))
			bad++;
		/* The APIC sees it too (an MMIO exit: now and then only). */
		if (i % 64 == 0 && apic_read(0x80) != (i & 15) << 4)
			bad++;
	}
	write_cr8(0);
	tap_eq(0, bad, "MOV to CR8 in a loop: CR8 and the xAPIC TPR read it back");

	write_cr8(6);
	apic_write(0x300, 0x40000 | 0x45);	/* class 4, held by CR8 6 */
	asm volatile("sti" ::: "memory");
	write_cr8(5);
	before = hits[0x45];
	write_cr8(3);
	after = hits[0x45];
	asm volatile("cli" ::: "memory");
	write_cr8(0);
	tap_eq(0, before, "CR8 6 -> 5 with IF set: class 4 still held");
	tap_eq(1, after, "CR8 5 -> 3: taken right after the MOV");
}

/*
 * A self-IPI whose delivery is cut short by an exit: its frame goes to a
 * stack in a 2 MiB region the guest never touched, so pushing it is an
 * EPT violation during the delivery, and the vector must be delivered
 * again, not another one (with virtual-interrupt delivery Bochs reports
 * a stale vector for it). The region lies between the image (from
 * 1 MiB) and the stack (top of the 16 MiB).
 */
#define FRESH_STACK_TOP	0x900000UL

static void test_self_ipi_fresh_stack(void)
{
	int before = 0, after = 0, v;

	for (v = 0x40; v < 0x48; v++)
		before += hits[v];
	wrmsr(0x83f, 0x47);			/* waits: IF is clear */
	asm volatile("mov %%rsp, %%rbx\n\t"
		     "mov %0, %%rsp\n\t"
		     "sti\n\t"
		     "nop\n\t"
		     "cli\n\t"
		     "mov %%rbx, %%rsp"
		     : : "r"(FRESH_STACK_TOP) : "rbx", "memory");
	for (v = 0x40; v < 0x48; v++)
		after += hits[v];
	tap_eq(1, hits[0x47], "x2APIC self-IPI delivered onto an untouched stack page: its own vector");
	tap_eq(1, after - before, "... and no other vector in its place");
}

/*
 * Interrupts must wait while IF is clear, for as long as it stays clear,
 * with host interrupts coming in meanwhile (20 ms of TSC: several ticks
 * of the host). Two cases the CPU handles without lightvisor:
 * - a self-IPI sent with IF clear (in x2APIC mode it does not exit);
 * - the EOI of a higher vector made with IF clear, as every handler
 *   makes it, which lets a lower one in that waited behind it.
 * Bochs 2.7 delivers a virtual interrupt left pending with IF clear as
 * soon as a host interrupt arrives; lightvisor works around that.
 */
#define HELD_LOW	0x51
#define HELD_HIGH	0x61
#define RFLAGS_IF	(1UL << 9)

static volatile unsigned int taken_if_clear;
static uint64_t spin_ticks;

/* No exit in the loop: an entry would let lightvisor see the guest's IF. */
static void spin_if_clear(void)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < spin_ticks)
		asm volatile("pause" ::: "memory");
}

static void held_handler(struct irq_frame *f)
{
	if (!(f->rflags & RFLAGS_IF))
		taken_if_clear++;
	hits[f->vector]++;
	eoi();
	if (f->vector == HELD_HIGH)
		spin_if_clear();
}

static void send_self_ipi(unsigned int vector)
{
	if (x2apic)
		wrmsr(0x83f, vector);
	else
		apic_write(0x300, 0x40000 | vector);
}

static void test_held_while_if_clear(void)
{
	uint32_t khz, b, c, d;
	unsigned int before;

	cpuid(0x40000010, 0, &khz, &b, &c, &d);
	spin_ticks = (uint64_t)khz * 20;

	taken_if_clear = 0;
	hits[HELD_LOW] = 0;
	hits[HELD_HIGH] = 0;
	send_self_ipi(HELD_LOW);
	send_self_ipi(HELD_HIGH);
	spin_if_clear();
	before = hits[HELD_LOW] + hits[HELD_HIGH];
	window();
	if (x2apic) {
		tap_eq(0, before, "x2APIC: two self-IPIs wait while IF is clear");
		tap_ok(hits[HELD_LOW] == 1 && hits[HELD_HIGH] == 1,
		       "x2APIC: both taken once IF is set");
		tap_eq(0, taken_if_clear, "x2APIC: none taken with IF clear, also after the higher one's EOI");
	} else {
		tap_eq(0, before, "xAPIC: two self-IPIs wait while IF is clear");
		tap_ok(hits[HELD_LOW] == 1 && hits[HELD_HIGH] == 1,
		       "xAPIC: both taken once IF is set");
		tap_eq(0, taken_if_clear, "xAPIC: none taken with IF clear, also after the higher one's EOI");
	}
}

static void test_x2apic(void)
{
	uint64_t base = rdmsr(APIC_BASE_MSR), v;
	unsigned int i;

	tap_ok(rdmsr_safe(0x802, &v) == 13, "x2APIC MSR in xAPIC mode: #GP");
	wrmsr(APIC_BASE_MSR, base | APIC_EXTD);
	x2apic = true;
	tap_eq(0, rdmsr(0x802), "x2APIC ID 0");
	tap_eq(0x1ff, rdmsr(0x80f), "SVR kept across the switch");
	wrmsr(0x83f, 0x43);
	window();
	tap_eq(1, hits[0x43], "x2APIC self-IPI");
	/*
	 * With virtual-interrupt delivery neither the SELF IPI nor the EOI
	 * WRMSR exits (irq.sh counts the MSR-write exits); each one is taken
	 * exactly once all the same.
	 */
	for (i = 0; i < SELF_IPI_LOOPS; i++) {
		wrmsr(0x83f, 0x46);
		window();
	}
	tap_eq(SELF_IPI_LOOPS, hits[0x46], "x2APIC: a self-IPI and its EOI in a loop, each taken once");
	test_held_while_if_clear();
	test_self_ipi_fresh_stack();
	tap_ok(wrmsr_safe(APIC_BASE_MSR, base) == 13,
	       "x2APIC -> xAPIC directly: #GP");
	wrmsr(APIC_BASE_MSR, base & ~(APIC_EN | APIC_EXTD));
	x2apic = false;
	wrmsr(APIC_BASE_MSR, base);
	tap_eq(0xff, apic_read(0xf0), "through disabled back to xAPIC: reset SVR");
	apic_write(0xf0, 0x1ff);
	apic_write(0x300, 0x40000 | 0x44);
	window();
	tap_eq(1, hits[0x44], "xAPIC works again");
}

/* PIT channel 2, mode 0, 11932 counts (10 ms), gated by port 0x61. */
static void test_pit(void)
{
	uint32_t khz, b, c, d;
	uint64_t t0, t1, want;
	unsigned long polls = 0;

	cpuid(0x40000010, 0, &khz, &b, &c, &d);
	tap_ok(khz > 0, "CPUID 0x40000010: TSC frequency");
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, 11932 & 0xff);
	t0 = rdtsc();
	outb(0x42, 11932 >> 8);
	while (!(inb(0x61) & 0x20) && polls < 100000000)
		polls++;
	t1 = rdtsc();
	want = (uint64_t)khz * 10;
	printf("# PIT 10 ms: %lu TSC ticks, %lu expected\n",
	       (unsigned long)(t1 - t0), (unsigned long)want);
	tap_ok(t1 - t0 >= want - want / 20 && t1 - t0 <= want + want / 10,
	       "PIT channel 2 terminal count after 10 ms of TSC (-5%/+10%)");
	outb(0x43, 0xe8);			/* read back ch 2 status */
	tap_eq(0xb0, inb(0x42), "read-back status: OUT high, LSB/MSB, mode 0");
}

/*
 * A level-triggered I/O APIC pin, in xAPIC and in x2APIC mode: the RTC's
 * periodic interrupt on line 8 (asserted until register C is read). Its
 * EOI must reach the I/O APIC (remote IRR), also when the CPU virtualizes
 * the EOI write or WRMSR: without that, only the first one would arrive.
 * irq.sh counts the EOI-induced exits.
 */
static volatile unsigned int level_hits;

static void rtc_level_handler(struct irq_frame *f)
{
	(void)f;
	outb(0x70, 0x0c);
	inb(0x71);				/* register C: line low */
	level_hits++;
	eoi();
}

static void ioapic_write(unsigned int reg, uint32_t v)
{
	*(volatile uint32_t *)0xfec00000UL = reg;
	*(volatile uint32_t *)0xfec00010UL = v;
}

static void test_level(bool x2)
{
	uint32_t khz, b, c, d;
	uint64_t t0;

	cpuid(0x40000010, 0, &khz, &b, &c, &d);
	level_hits = 0;
	if (x2) {
		wrmsr(APIC_BASE_MSR, rdmsr(APIC_BASE_MSR) | APIC_EXTD);
		x2apic = true;
		wrmsr(0x835, 1 << 16);		/* LINT0 (ExtINT) masked */
	} else {
		apic_write(0x350, 1 << 16);
	}
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	ioapic_write(0x11 + 2 * 8, 0);		/* to APIC 0 */
	ioapic_write(0x10 + 2 * 8, 0x48 | (1 << 15));	/* level, unmasked */
	outb(0x70, 0x0a);
	outb(0x71, 0x26);			/* 1024 Hz */
	outb(0x70, 0x0c);
	inb(0x71);
	outb(0x70, 0x0b);
	outb(0x71, 0x42);			/* 24 h, periodic interrupt */
	t0 = rdtsc();
	while (level_hits < LEVEL_IRQS && rdtsc() - t0 < (uint64_t)khz * 1000)
		sti_hlt();
	cli();
	outb(0x70, 0x0b);
	outb(0x71, 0x02);
	ioapic_write(0x10 + 2 * 8, 1 << 16);	/* masked */
	outb(0x70, 0x0c);
	inb(0x71);				/* an expiry since: line low */
	if (x2)
		tap_ok(level_hits >= LEVEL_IRQS,
		       "x2APIC: 20 RTC interrupts on a level-triggered I/O APIC pin (each EOI reached it)");
	else
		tap_ok(level_hits >= LEVEL_IRQS,
		       "xAPIC: 20 RTC interrupts on a level-triggered I/O APIC pin (each EOI reached it)");
}

/*
 * The APIC moved to another base (last: the VM's APIC-access page, if it
 * had one, is off for good after this): it answers at the new base, and
 * the old one is no longer the APIC, nor memory that keeps a write, but
 * MMIO nobody claims (lvrun reads all ones).
 */
#define NEW_APIC	0xfed00000UL

static void test_relocated(void)
{
	uint64_t base = rdmsr(APIC_BASE_MSR);
	volatile uint32_t *old = (volatile uint32_t *)(APIC + 0x380);

	wrmsr(APIC_BASE_MSR, base & ~(APIC_EN | APIC_EXTD));
	x2apic = false;
	wrmsr(APIC_BASE_MSR, NEW_APIC | APIC_EN | (base & APIC_BSP));
	tap_eq(0x14, *(volatile uint32_t *)(NEW_APIC + 0x30) & 0xff,
	       "APIC base moved to 0xfed00000: its version read there");
	*old = 0x12345678;
	tap_eq(0xffffffff, *old, "the old base reads as unclaimed MMIO, not a page that kept a write");
}

int main(void)
{
	unsigned int v;

	idt_init();
	for (v = 0x40; v < 0x48; v++)
		idt_set_handler(v, handler);
	idt_set_handler(0x48, rtc_level_handler);
	idt_set_handler(0x49, handler);
	idt_set_handler(0x4a, isr_handler);
	idt_set_handler(HELD_LOW, held_handler);
	idt_set_handler(HELD_HIGH, held_handler);
	tap_plan(42);
	test_xapic();
	test_cr8_shadow();
	test_xapic_loop();
	test_held_while_if_clear();
	test_level(false);
	test_x2apic();
	test_pit();
	test_level(true);
	test_relocated();
	return tap_done();
}
