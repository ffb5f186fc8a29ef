// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun's CMOS/RTC from a 64-bit guest (lvrun --irqchip): the time in BCD
 * and in binary (printed as "rtc-epoch=N" for the caller to compare with
 * the host's clock), 12-hour mode, the memory-size bytes, setting the
 * clock under SET, the periodic interrupt on ISA line 8 through the
 * in-kernel I/O APIC counted against the TSC, polled flags, and what one
 * register read costs.
 */
#include "lib/guest.h"

#define APIC			0xfee00000UL
#define IOAPIC			0xfec00000UL
#define RTC_VECTOR		0x48
#define RTC_IRQ			8
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define REG_A			0x0a
#define REG_B			0x0b
#define REG_C			0x0c
#define REG_D			0x0d
#define A_UIP			0x80
#define B_SET			0x80
#define B_PIE			0x40
#define B_UIE			0x10
#define B_BINARY		0x04
#define B_24H			0x02

static volatile unsigned long rtc_irqs, rtc_pf, rtc_uf;
/* Gaps between interrupts, in TSC ticks: the longest and the late ones. */
static volatile uint64_t last_tsc, max_gap, late_gap, gap_limit;
static volatile unsigned long late;

static uint8_t cmos_read(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

static void apic_write(unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(APIC + off) = v;
}

static void ioapic_write(unsigned int reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

/* As Linux's handler does: read C (which acknowledges the RTC), then EOI. */
static void rtc_handler(struct irq_frame *f)
{
	uint64_t now = rdtsc();
	uint8_t c = cmos_read(REG_C);

	(void)f;
	if (last_tsc && now - last_tsc > max_gap)
		max_gap = now - last_tsc;
	if (last_tsc && now - last_tsc > gap_limit) {
		late++;
		late_gap += now - last_tsc;
	}
	last_tsc = now;
	rtc_irqs++;
	rtc_pf += !!(c & 0x40);
	rtc_uf += !!(c & 0x10);
	apic_write(0xb0, 0);
}

struct rtc_time {
	unsigned int sec, min, hour, mday, mon, year;
};

static bool bcd_ok(uint8_t v)
{
	return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

static unsigned int bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Waits for UIP to clear, reads, and again until two reads agree. */
static void read_raw(uint8_t *regs)
{
	static const uint8_t idx[] = { 0, 2, 4, 7, 8, 9, 0x32 };
	uint8_t again[7];
	unsigned int i;

	do {
		while (cmos_read(REG_A) & A_UIP)
			cpu_relax();
		for (i = 0; i < 7; i++)
			regs[i] = cmos_read(idx[i]);
		for (i = 0; i < 7; i++)
			again[i] = cmos_read(idx[i]);
		for (i = 0; i < 7 && regs[i] == again[i]; i++)
			;
	} while (i < 7);
}

static bool read_time(struct rtc_time *t, bool binary)
{
	uint8_t r[7];
	unsigned int i;
	bool ok = true;

	read_raw(r);
	if (!binary) {
		for (i = 0; i < 7; i++)
			ok &= bcd_ok(r[i]);
		for (i = 0; i < 7; i++)
			r[i] = bcd(r[i]);
	}
	*t = (struct rtc_time){ r[0], r[1], r[2], r[3], r[4],
				r[6] * 100 + r[5] };
	return ok && t->sec < 60 && t->min < 60 && t->hour < 24 &&
	       t->mday >= 1 && t->mday <= 31 && t->mon >= 1 && t->mon <= 12;
}

static unsigned long epoch(const struct rtc_time *t)
{
	static const unsigned int before[] = { 0, 31, 59, 90, 120, 151, 181,
					       212, 243, 273, 304, 334 };
	unsigned long days = 0;
	unsigned int y;

	for (y = 1970; y < t->year; y++)
		days += (y % 4 == 0 && (y % 100 || y % 400 == 0)) ? 366 : 365;
	days += before[t->mon - 1] + t->mday - 1;
	if (t->mon > 2 && t->year % 4 == 0 &&
	    (t->year % 100 || t->year % 400 == 0))
		days++;
	return ((days * 24 + t->hour) * 60 + t->min) * 60 + t->sec;
}

static void test_time(void)
{
	struct rtc_time bcd_t, bin_t;
	unsigned long e_bcd, e_bin;
	unsigned int h24, h;
	uint8_t h12;

	tap_eq(0x26, cmos_read(REG_A), "register A: 32 kHz divider, rate 6");
	tap_eq(B_24H, cmos_read(REG_B), "register B: BCD, 24-hour");
	tap_eq(0x80, cmos_read(REG_D), "register D: VRT");
	tap_ok(read_time(&bcd_t, false), "BCD time and date: valid digits");
	e_bcd = epoch(&bcd_t);
	printf("# rtc %u-%02u-%02u %02u:%02u:%02u UTC\n", bcd_t.year,
	       bcd_t.mon, bcd_t.mday, bcd_t.hour, bcd_t.min, bcd_t.sec);
	printf("rtc-epoch=%lu\n", e_bcd);
	cmos_write(REG_B, B_24H | B_BINARY);
	tap_ok(read_time(&bin_t, true), "binary time and date: in range");
	e_bin = epoch(&bin_t);
	tap_ok(e_bin >= e_bcd && e_bin <= e_bcd + 1,
	       "binary time equals the BCD time (within 1 s)");
	cmos_write(REG_B, 0);		/* BCD, 12-hour */
	h12 = cmos_read(4);
	cmos_write(REG_B, B_24H);
	h24 = bcd(cmos_read(4));
	h = h24 % 12 ? h24 % 12 : 12;
	tap_eq((h / 10) << 4 | h % 10 | (h24 >= 12 ? 0x80 : 0), h12,
	       "12-hour BCD hour, PM in bit 7");
}

static void test_memory(void)
{
	tap_eq(640, cmos_read(0x15) | cmos_read(0x16) << 8,
	       "CMOS 0x15: 640 KiB base memory");
	tap_eq(15 * 1024, cmos_read(0x17) | cmos_read(0x18) << 8,
	       "CMOS 0x17: 15 MiB above 1 MiB (16 MiB guest)");
	tap_eq(15 * 1024, cmos_read(0x30) | cmos_read(0x31) << 8,
	       "CMOS 0x30: the same");
	tap_eq(0, cmos_read(0x34) | cmos_read(0x35) << 8,
	       "CMOS 0x34: nothing above 16 MiB");
}

/* Sets 2040-01-01 00:00:00 under SET; a second later it is 00:00:01. */
static void test_set(void)
{
	static const uint8_t set[][2] = {
		{ 0, 0x59 }, { 2, 0x59 }, { 4, 0x23 }, { 7, 0x31 },
		{ 8, 0x12 }, { 9, 0x39 }, { 0x32, 0x20 },
	};
	struct rtc_time t;
	unsigned int i;

	cmos_write(REG_B, B_SET | B_24H);
	for (i = 0; i < ARRAY_SIZE(set); i++)
		cmos_write(set[i][0], set[i][1]);
	tap_eq(0x59, cmos_read(0), "SET: the seconds hold what was written");
	cmos_write(REG_B, B_24H);
	while (cmos_read(0) == 0x59)
		cpu_relax();
	read_time(&t, false);
	tap_ok(t.year == 2040 && t.mon == 1 && t.mday == 1 && t.hour == 0 &&
	       t.min == 0 && t.sec <= 1,
	       "2039-12-31 23:59:59 set: rolls over into 2040-01-01");
}

static uint32_t tsc_khz(void)
{
	uint32_t khz, b, c, d;

	cpuid(0x40000010, 0, &khz, &b, &c, &d);
	return khz;
}

/*
 * The periodic flag polled, interrupts off, for 200 ms of TSC: the RTC's
 * rate against the TSC, whatever the interrupt path's latency.
 */
static void test_periodic_polled(uint32_t khz)
{
	uint64_t t0, window = (uint64_t)khz * 200;
	unsigned long n = 0, want = 205;

	cmos_write(REG_A, 0x26);
	cmos_read(REG_C);
	t0 = rdtsc();
	while (rdtsc() - t0 < window)
		n += !!(cmos_read(REG_C) & 0x40);
	printf("# PF polled, rate 6: %lu in 200 ms, %lu expected\n", n, want);
	tap_ok(n >= want - want / 20 && n <= want + want / 20,
	       "1024 Hz periodic flag, polled: count within 5% over 200 ms");
}

/*
 * Periodic interrupts at register A's rate @rs for 500 ms of TSC, counted
 * against the rate; @low_pct is how many percent may be lost. An
 * interrupt the guest has not acknowledged (register C) when the next
 * period ends is lost, as on a PC: in Bochs, with the test kernel's debug
 * options, one interrupt's round trip through lvrun's thread and two
 * port exits takes most of a 1024 Hz period, so some are lost there.
 */
static void test_periodic(uint32_t khz, unsigned int rs, unsigned int low_pct)
{
	uint64_t t0, window = (uint64_t)khz * 500;
	unsigned int hz = 32768 >> (rs - 1);
	unsigned long n, pf, want = hz / 2;

	cmos_write(REG_A, 0x20 | rs);
	cmos_read(REG_C);
	rtc_irqs = rtc_pf = late = max_gap = late_gap = last_tsc = 0;
	gap_limit = (uint64_t)khz * 1500 / hz;	/* 1.5 periods */
	cmos_write(REG_B, B_24H | B_PIE);
	t0 = rdtsc();
	while (rdtsc() - t0 < window)
		sti_hlt();
	cli();
	n = rtc_irqs;
	pf = rtc_pf;
	cmos_write(REG_B, B_24H);
	printf("# periodic, rate %u (%u Hz): %lu interrupts in 500 ms, ",
	       rs, hz, n);
	printf("%lu expected\n# longest gap %lu TSC ticks (a period is %lu); ",
	       want, (unsigned long)max_gap, (unsigned long)khz * 1000 / hz);
	printf("%lu gaps over 1.5 periods\n", late);
	tap_ok(n >= want - want * low_pct / 100 && n <= want + want / 10,
	       hz == 256 ? "256 Hz periodic interrupt: count +-10% in 500 ms" :
	       "1024 Hz periodic interrupt: count -25%/+10% in 500 ms");
	tap_eq(n, pf, "every periodic interrupt had PF in register C");
}

/* PIE off: nothing arrives, but PF is still set for a poller. */
static void test_periodic_off(uint32_t khz)
{
	uint64_t t0;
	unsigned long n;

	cmos_write(REG_A, 0x26);
	cmos_read(REG_C);
	asm volatile("sti; nop; nop; cli" ::: "memory");
	n = rtc_irqs;
	t0 = rdtsc();
	asm volatile("sti" ::: "memory");
	while (rdtsc() - t0 < khz * 5UL)
		cpu_relax();
	cli();
	tap_eq(n, rtc_irqs, "PIE off: no more interrupts");
	tap_ok(cmos_read(REG_C) & 0x40, "PIE off: PF set after 5 ms (polled)");
}

/* The update-ended interrupt: one within a second and a bit. */
static void test_update(uint32_t khz)
{
	uint64_t t0;

	cmos_read(REG_C);
	rtc_irqs = rtc_uf = 0;
	cmos_write(REG_B, B_24H | B_UIE);
	t0 = rdtsc();
	while (!rtc_irqs && rdtsc() - t0 < khz * 1100UL)
		sti_hlt();
	cli();
	cmos_write(REG_B, B_24H);
	tap_ok(rtc_irqs == 1 && rtc_uf == 1,
	       "update-ended interrupt within 1.1 s, UF in register C");
}

/* What a guest pays for one register read (an OUT and an IN exit). */
static void measure_read(void)
{
	uint64_t t0, t1;
	unsigned int i;

	t0 = rdtsc();
	for (i = 0; i < 200; i++)
		cmos_read(0);
	t1 = rdtsc();
	printf("# one RTC register read (OUT 0x70, IN 0x71): %lu TSC ticks\n",
	       (unsigned long)(t1 - t0) / 200);
}

int main(void)
{
	uint32_t khz;

	idt_init();
	idt_set_handler(RTC_VECTOR, rtc_handler);
	/* Only the I/O APIC delivers line 8: the PICs stay masked. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	apic_write(0xf0, 0x1ff);
	apic_write(0x350, 1 << 16);		/* LINT0 (ExtINT) masked */
	ioapic_write(0x11 + 2 * RTC_IRQ, 0);	/* to APIC 0 */
	ioapic_write(0x10 + 2 * RTC_IRQ, RTC_VECTOR);	/* edge, unmasked */

	tap_plan(22);
	khz = tsc_khz();
	tap_ok(khz > 0, "CPUID 0x40000010: TSC frequency");
	test_time();
	test_memory();
	measure_read();
	test_periodic_polled(khz);
	test_periodic(khz, 8, 10);
	test_periodic(khz, 6, 25);
	test_periodic_off(khz);
	test_update(khz);
	test_set();
	return tap_done();
}
