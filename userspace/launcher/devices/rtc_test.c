// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the CMOS/RTC (rtc.c) on a clock the test sets:
 * every access passes its own "now". Linked into lvrun-loadertest, which
 * prints the TAP plan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../layout.h"
#include "../tap.h"
#include "devices.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NS		1000000000LL
#define T0		(1000 * NS)	/* an arbitrary monotonic time */

static int line_level, line_edges;

static void fake_set_line(struct irq_chip *chip, unsigned int gsi, int level)
{
	(void)chip;
	if (gsi != IRQ_RTC)
		abort();
	line_edges += level && !line_level;
	line_level = level;
}

static struct irq_chip fake_chip = { "fake", fake_set_line };

static uint8_t rd(struct rtc *r, uint8_t reg, int64_t now)
{
	uint8_t d = reg;

	rtc_io(r, 0, true, &d, 1, now);
	rtc_io(r, 1, false, &d, 1, now);
	return d;
}

static void wr(struct rtc *r, uint8_t reg, uint8_t v, int64_t now)
{
	rtc_io(r, 0, true, &reg, 1, now);
	rtc_io(r, 1, true, &v, 1, now);
}

/* Any access makes the device catch up with @now. */
static void touch(struct rtc *r, int64_t now)
{
	uint8_t d = 0;

	rtc_io(r, 0, false, &d, 1, now);
}

/* A fresh RTC whose clock reads @epoch + @frac_ns at T0. */
static void setup(struct rtc *r, uint64_t mem, int64_t epoch, int64_t frac_ns)
{
	struct bus bus = { .name = "test" };

	rtc_init(r, &bus, irq_line_get(&fake_chip, IRQ_RTC), mem);
	free(bus.ranges);
	r->offset_ns = epoch * NS + frac_ns - T0;
	r->seen_ns = T0;
	line_level = line_edges = 0;
}

static int64_t epoch_of(int y, int mon, int d, int h, int m, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = m, .tm_sec = s };

	return timegm(&tm);
}

static void test_formats(struct rtc *r)
{
	int64_t t = epoch_of(2026, 12, 5, 13, 45, 7);	/* a Saturday */

	setup(r, 16 << 20, t, NS / 4);
	tap_ok(rd(r, 0x0a, T0) == 0x26 && rd(r, 0x0b, T0) == 0x02 &&
	       rd(r, 0x0d, T0) == 0x80,
	       "rtc: A 0x26 (32 kHz, 1024 Hz), B 0x02 (BCD, 24 h), D VRT");
	tap_ok(rd(r, 0, T0) == 0x07 && rd(r, 2, T0) == 0x45 &&
	       rd(r, 4, T0) == 0x13 && rd(r, 6, T0) == 7 &&
	       rd(r, 7, T0) == 0x05 && rd(r, 8, T0) == 0x12 &&
	       rd(r, 9, T0) == 0x26 && rd(r, 0x32, T0) == 0x20,
	       "rtc: BCD 2026-12-05 13:45:07, Saturday = 7, century 0x20");
	wr(r, 0x0b, 0x06, T0);
	tap_ok(rd(r, 0, T0) == 7 && rd(r, 2, T0) == 45 && rd(r, 4, T0) == 13 &&
	       rd(r, 8, T0) == 12 && rd(r, 9, T0) == 26 &&
	       rd(r, 0x32, T0) == 20,
	       "rtc: binary mode (DM): 13:45:07, 26, 20");
	wr(r, 0x0b, 0x00, T0);
	tap_ok(rd(r, 4, T0) == 0x81, "rtc: 12 h BCD: 13:45 is 0x81 (PM, 1)");
	wr(r, 0x0b, 0x04, T0);
	tap_ok(rd(r, 4, T0) == 0x81, "rtc: 12 h binary: 13:45 is 0x81");
	wr(r, 0x0b, 0x02, T0);
	tap_ok(rd(r, 0, T0 + 3 * NS / 4) == 0x08 &&
	       rd(r, 0, T0 + 3 * NS) == 0x10 && rd(r, 0, T0) == 0x10,
	       "rtc: the seconds follow the host clock, never backwards");
	setup(r, 16 << 20, epoch_of(2026, 1, 1, 0, 30, 0), 0);
	wr(r, 0x0b, 0x00, T0);
	tap_ok(rd(r, 4, T0) == 0x12 && rd(r, 4, T0 + 12 * 3600 * NS) == 0x92,
	       "rtc: 12 h: 00:30 is 0x12, 12:30 is 0x92");
	setup(r, 16 << 20, epoch_of(2000, 2, 29, 23, 59, 59), NS / 2);
	tap_ok(rd(r, 7, T0 + NS) == 0x01 && rd(r, 8, T0 + NS) == 0x03 &&
	       rd(r, 4, T0 + NS) == 0x00 && rd(r, 6, T0 + NS) == 4,
	       "rtc: 2000-02-29 23:59:59 + 1 s is Wednesday 03-01 00:00");
}

static void test_uip(struct rtc *r)
{
	setup(r, 16 << 20, epoch_of(2026, 1, 1, 0, 0, 0), 0);
	tap_ok(!(rd(r, 0x0a, T0 + NS - 300000) & 0x80) &&
	       (rd(r, 0x0a, T0 + NS - 200000) & 0x80) &&
	       !(rd(r, 0x0a, T0 + 3 * NS / 2) & 0x80),
	       "rtc: UIP only in the 244 us before an update");
}

static void test_flags(struct rtc *r)
{
	int64_t now = T0;
	int pf = 0, i;

	setup(r, 16 << 20, epoch_of(2026, 1, 1, 0, 0, 0), NS / 2);
	tap_ok(rd(r, 0x0c, now) == 0, "rtc: register C is 0 at start");
	tap_ok(rd(r, 0x0c, now + NS) == 0x50 && rd(r, 0x0c, now + NS) == 0,
	       "rtc: interrupts off: UF and PF set, no IRQF; a read clears");
	tap_ok(line_edges == 0, "rtc: no interrupt with PIE/UIE/AIE off");
	now += NS;
	wr(r, 0x0b, 0x12, now);		/* UIE */
	touch(r, now + NS);
	tap_ok(line_level == 1 && line_edges == 1,
	       "rtc: UIE: line 8 raised at the update");
	touch(r, now + 2 * NS);
	tap_ok(line_edges == 1, "rtc: no second edge before C is read");
	tap_ok(rd(r, 0x0c, now + 2 * NS) == 0xd0 && line_level == 0,
	       "rtc: C reads IRQF|PF|UF and lowers line 8");
	now += 2 * NS;

	/* A periodic interrupt counted over one second of the clock. */
	wr(r, 0x0b, 0x02, now);
	rd(r, 0x0c, now);
	for (i = 1; i <= 10000; i++)
		pf += !!(rd(r, 0x0c, now + i * NS / 10000) & 0x40);
	tap_ok(pf == 1024, "rtc: rate 6: PF 1024 times in 1 s (%d)", pf);
	now += NS;
	wr(r, 0x0a, 0x2f, now);
	pf = 0;
	for (i = 1; i <= 1000; i++)
		pf += !!(rd(r, 0x0c, now + i * NS / 1000) & 0x40);
	tap_ok(pf == 2, "rtc: rate 15: PF twice in 1 s (%d)", pf);
	now += NS;
	wr(r, 0x0a, 0x20, now);
	now += NS;
	tap_ok(!(rd(r, 0x0c, now) & 0x40), "rtc: rate 0: no PF");
	tap_ok(rtc_periodic_hz(0x23) == 8192 && rtc_periodic_hz(0x26) == 1024 &&
	       rtc_periodic_hz(0x2f) == 2 && rtc_periodic_hz(0x21) == 256 &&
	       rtc_periodic_hz(0x22) == 128 && rtc_periodic_hz(0x20) == 0,
	       "rtc: rates 3, 6, 15 = 8192, 1024, 2 Hz; 1, 2 = 256, 128 Hz");
	wr(r, 0x0a, 0x26, now);
	now += NS / 100;
	touch(r, now);			/* PF set with PIE off */
	line_edges = 0;
	wr(r, 0x0b, 0x42, now);
	tap_ok(line_level == 1 && line_edges == 1,
	       "rtc: enabling PIE with PF already set interrupts at once");
}

static void test_alarm(struct rtc *r)
{
	setup(r, 16 << 20, epoch_of(2026, 1, 1, 10, 20, 30), NS / 2);
	wr(r, 0x01, 0x33, T0);	/* second 33, any minute, any hour */
	wr(r, 0x03, 0xff, T0);
	wr(r, 0x05, 0xc0, T0);
	tap_ok(!(rd(r, 0x0c, T0 + 2 * NS) & 0x20) &&
	       (rd(r, 0x0c, T0 + 3 * NS) & 0x20),
	       "rtc: AF at 10:20:33, not before; minute and hour don't care");
	tap_ok(rd(r, 0x0c, T0 + 3 * NS + 500) == 0 &&
	       (rd(r, 0x0c, T0 + 63 * NS) & 0x20),
	       "rtc: and again a minute later (polled, AIE off)");
	wr(r, 0x03, 0x22, T0 + 63 * NS);
	wr(r, 0x0b, 0x22, T0 + 63 * NS);	/* AIE */
	line_edges = 0;
	touch(r, T0 + 120 * NS);
	tap_ok(line_edges == 0, "rtc: 10:22:33 not reached: no alarm");
	touch(r, T0 + 124 * NS);
	tap_ok(line_edges == 1 && (rd(r, 0x0c, T0 + 124 * NS) & 0xa0) == 0xa0,
	       "rtc: AIE: alarm at 10:22:33 raises line 8, C has IRQF|AF");
}

static void test_set(struct rtc *r)
{
	int64_t now = T0;

	setup(r, 16 << 20, epoch_of(2026, 1, 1, 0, 0, 0), NS / 4);
	wr(r, 0x0b, 0x92, now);		/* SET and UIE: SET clears UIE */
	tap_ok(rd(r, 0x0b, now) == 0x82, "rtc: SET clears UIE");
	wr(r, 0x00, 0x58, now);
	wr(r, 0x02, 0x59, now);
	wr(r, 0x04, 0x23, now);
	wr(r, 0x07, 0x31, now);
	wr(r, 0x08, 0x12, now);
	wr(r, 0x09, 0x39, now);
	tap_ok(rd(r, 0x00, now + 5 * NS) == 0x58 && rd(r, 0x09, now) == 0x39,
	       "rtc: while SET the registers hold what was written");
	now += 5 * NS;
	wr(r, 0x0b, 0x02, now);		/* runs from 2039-12-31 23:59:58 */
	tap_ok(rd(r, 0x00, now + NS / 2) == 0x58 &&
	       rd(r, 0x00, now + 3 * NS / 4) == 0x59,
	       "rtc: SET cleared: runs on, the divider's phase kept (+3/4 s)");
	now += 7 * NS / 4;
	tap_ok(rd(r, 0x00, now) == 0x00 && rd(r, 0x09, now) == 0x40 &&
	       rd(r, 0x08, now) == 0x01 && rd(r, 0x07, now) == 0x01 &&
	       rd(r, 0x32, now) == 0x20,
	       "rtc: and rolls over into 2040-01-01 00:00:00");
	tap_ok(r->offset_ns + now ==
	       epoch_of(2040, 1, 1, 0, 0, 0) * NS,
	       "rtc: kept as an offset from the host clock");
	wr(r, 0x02, 0x10, now);		/* a running clock set directly */
	tap_ok(rd(r, 0x02, now + NS) == 0x10 && rd(r, 0x00, now + NS) == 0x01,
	       "rtc: minute of a running clock set: 00:10:01 1 s later");

	/* Divider reset: stopped; the first update half a second after. */
	now += NS;
	wr(r, 0x0a, 0x66, now);
	tap_ok(rd(r, 0x00, now + 10 * NS) == 0x01,
	       "rtc: divider in reset: the clock stands still");
	now += 10 * NS;
	wr(r, 0x0a, 0x26, now);
	tap_ok(rd(r, 0x00, now + NS / 2 - 1) == 0x01 &&
	       rd(r, 0x00, now + NS / 2) == 0x02,
	       "rtc: divider restarted: first update 500 ms later");
}

static void test_memory(struct rtc *r)
{
	static const struct {
		uint64_t mem;
		int ext, above16m;
	} cases[] = {
		{ 16ULL << 20, 15 * 1024, 0 },
		{ 64ULL << 20, 63 * 1024, 48 * 16 },
		{ 256ULL << 20, 0xffff, 240 * 16 },
		{ 3ULL << 30, 0xffff, (3072 - 16) * 16 },
	};
	unsigned int i, j;
	int sum;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const uint8_t *c = r->cmos;

		setup(r, cases[i].mem, 0, 0);
		for (sum = 0, j = 0x10; j <= 0x2d; j++)
			sum += c[j];
		tap_ok((c[0x15] | c[0x16] << 8) == 640 &&
		       (c[0x17] | c[0x18] << 8) == cases[i].ext &&
		       (c[0x30] | c[0x31] << 8) == cases[i].ext &&
		       (c[0x34] | c[0x35] << 8) == cases[i].above16m &&
		       !c[0x5b] && !c[0x5c] && !c[0x5d] &&
		       (c[0x2e] << 8 | c[0x2f]) == sum,
		       "rtc: %llu MiB: base 640 KiB, ext %d KiB, >16M %d x 64K",
		       (unsigned long long)(cases[i].mem >> 20), cases[i].ext,
		       cases[i].above16m);
		tap_ok(rd(r, 0x17, 0) == c[0x17],
		       "rtc: read through the ports");
	}
}

/* Whatever a guest writes, the device answers and stays within its state. */
static void test_bad_input(struct rtc *r)
{
	uint8_t d[4] = { 0xff, 0xff, 0xff, 0xff };
	unsigned int reg, v;

	setup(r, 16 << 20, epoch_of(2026, 1, 1, 0, 0, 0), 0);
	rtc_io(r, 0, true, d, 1, T0);
	tap_ok(rd(r, 0x7f, T0) == 0 && (rd(r, 0xff, T0), r->index == 0xff),
	       "rtc: index 0xff selects byte 0x7f (bit 7 is the NMI mask)");
	srand(1);
	for (reg = 0; reg < 256; reg++)
		for (v = 0; v < 256; v += 17) {
			wr(r, reg, rand(), T0 + reg * NS);
			rd(r, reg ^ v, T0 + reg * NS + v);
		}
	wr(r, 0x0b, 0x80, T0);
	for (reg = 0; reg <= 9; reg++)
		wr(r, reg, 0xff, T0);
	wr(r, 0x32, 0xff, T0);
	wr(r, 0x0b, 0x02, T0);
	rd(r, 0, 1000 * NS);
	tap_ok(1, "rtc: random writes, 0xff in every time register: no crash");
	d[0] = 0x0d;
	rtc_io(r, 0, true, d, 2, T0);	/* OUTW 0x70: index then data */
	rtc_io(r, 0, false, d, 4, T0);
	tap_ok(d[0] == 0x0d && d[1] == 0x80 && d[2] == 0xff && d[3] == 0xff,
	       "rtc: a 4-byte read at 0x70: index, register D, then all ones");
}

/* A pause of the VM: hidden from the time, or shown; no events owed. */
static void test_pause(struct rtc *r)
{
	int64_t t = T0 + 100 * NS;

	setup(r, 16 << 20, epoch_of(2026, 1, 1, 0, 0, 0), NS / 2);
	wr(r, 0x0b, 0x12, T0);		/* UIE, 24 h, BCD */
	rtc_pause(r, T0);
	rtc_resume(r, t, 100 * NS);
	tap_ok(rd(r, 0x00, t + NS / 4) == 0x00 && rd(r, 0x02, t + NS / 4) == 0,
	       "rtc: a hidden pause of 100 s: the time goes on from the pause");
	tap_ok(!(rd(r, 0x0c, t + NS / 4) & 0x10) && line_edges == 0,
	       "rtc: a hidden pause: no update flag, no interrupt for it");
	tap_ok(rd(r, 0x0c, t + NS / 2) & 0x10,
	       "rtc: a hidden pause: the next update comes after the rest of the second");

	setup(r, 16 << 20, epoch_of(2026, 1, 1, 0, 0, 0), NS / 2);
	wr(r, 0x0b, 0x12, T0);
	rtc_pause(r, T0);
	rtc_resume(r, t, 0);
	tap_ok(rd(r, 0x0c, t) == 0 && line_edges == 0,
	       "rtc: a wall-clock pause: no flags, no interrupt owed for it");
	tap_ok(rd(r, 0x00, t) == 0x40 && rd(r, 0x02, t) == 0x01,
	       "rtc: a wall-clock pause of 100 s: the time jumps by it");
}

/* A saved state round-trips; times no RTC had are refused. */
static void test_save_restore(struct rtc *r)
{
	struct rtc_state st, bad;

	setup(r, 64 << 20, 1700000000, 0);
	rtc_save(r, &st);
	tap_ok(rtc_restore(r, &st) == 0, "rtc: a saved state restores");
	bad = st;
	bad.clock_ns = INT64_MIN;
	tap_ok(rtc_restore(r, &bad) == -EINVAL, "rtc: restore refuses a negative time");
	bad = st;
	bad.unseen_ns = INT64_MAX;
	tap_ok(rtc_restore(r, &bad) == -EINVAL,
	       "rtc: restore refuses flags last set before the host's clock began");
}

void rtc_tests(void)
{
	static struct rtc r;

	test_formats(&r);
	test_uip(&r);
	test_flags(&r);
	test_alarm(&r);
	test_set(&r);
	test_memory(&r);
	test_bad_input(&r);
	test_pause(&r);
	test_save_restore(&r);
}
