// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the MC146818 real-time clock and CMOS RAM of a PC.
 *
 * Port 0x70 selects one of 128 bytes (bit 7 masks NMIs on a PC: kept,
 * without effect), port 0x71 reads or writes it. Nothing ticks: the time
 * registers are computed from the host's monotonic clock when read, and
 * the flags of register C (periodic, alarm, update-ended) from the time
 * that passed since they were last looked at, so a guest polling them
 * costs no timer. Only while an interrupt is enabled does a thread sleep
 * until the next event (a condition variable on CLOCK_MONOTONIC: the
 * kernels lvrun runs on may lack timerfd) and raise ISA line 8 then,
 * without stopping a vCPU. It keeps that rhythm while the guest has not
 * yet read register C, so the read, on the guest's interrupt path, finds
 * the thread's deadline unchanged and need not wake it.
 *
 * Register B's SQWE and DSE bits are kept but do nothing: there is no
 * square-wave pin, and daylight saving by the 1980s US rules is for no
 * guest lvrun runs (Linux keeps the RTC in UTC and never sets DSE).
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "../board/board.h"
#include "../log.h"
#include "../layout.h"
#include "devices.h"
#include "../threads.h"

#define REG_SEC			0x00
#define REG_SEC_ALARM		0x01
#define REG_MIN			0x02
#define REG_MIN_ALARM		0x03
#define REG_HOUR		0x04
#define REG_HOUR_ALARM		0x05
#define REG_WDAY		0x06
#define REG_MDAY		0x07
#define REG_MONTH		0x08
#define REG_YEAR		0x09
#define REG_A			0x0a
#define REG_B			0x0b
#define REG_C			0x0c
#define REG_D			0x0d
#define REG_CENTURY		0x32	/* where the FADT says it is */

#define A_UIP			0x80	/* an update is about to happen */
#define A_DV_MASK		0x70
#define A_DV_32K		0x20	/* 32.768 kHz time base: it runs */
#define A_RS_MASK		0x0f
#define B_SET			0x80	/* updates stopped, time writable */
#define B_PIE			0x40
#define B_AIE			0x20
#define B_UIE			0x10
#define B_BINARY		0x04	/* DM: binary, else BCD */
#define B_24H			0x02
#define C_IRQF			0x80
#define C_PF			0x40
#define C_AF			0x20
#define C_UF			0x10
#define D_VRT			0x80	/* valid RAM and time: battery fine */

#define ALARM_DONT_CARE		0xc0	/* both top bits: any value matches */

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define NS_PER_SEC		1000000000LL
#define UIP_NS			244000LL
#define SECS_PER_DAY		86400LL
/* The clock keeps ns in 64 bits: about 1720-2220, clamped beyond. */
#define RTC_MAX_SECS		(250LL * 366 * SECS_PER_DAY)

#define VGA_HOLE		0xa0000ULL
#define SZ_1M			(1ULL << 20)
#define SZ_16M			(16ULL << 20)
#define SZ_4G			(4ULL << 30)

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * NS_PER_SEC + t.tv_nsec;
}

/* --- Calendar: days since 1970-01-01 <-> proleptic Gregorian dates --- */

/* Years are counted from March, so the leap day ends a year. */
static int64_t days_from_date(int64_t year, unsigned int mon, unsigned int mday)
{
	int64_t y = mon <= 2 ? year - 1 : year;
	int64_t era = floor_div(y, 400), yoe = y - era * 400;
	int64_t doy = (153 * ((mon + 9) % 12) + 2) / 5 + mday - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;	/* 0000-03-01 to 1970-01-01 */
}

struct rtc_time {
	unsigned int sec, min, hour, wday, mday, mon;
	int64_t year;
};

static void time_from_secs(int64_t secs, struct rtc_time *tm)
{
	int64_t days = floor_div(secs, SECS_PER_DAY), sod, z, era, doe, yoe;
	unsigned int doy, mp;

	sod = secs - days * SECS_PER_DAY;
	tm->sec = sod % 60;
	tm->min = sod / 60 % 60;
	tm->hour = sod / 3600;
	tm->wday = floor_mod(days + 4, 7) + 1;	/* 1970-01-01 was a Thursday */
	z = days + 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	tm->mday = doy - (153 * mp + 2) / 5 + 1;
	tm->mon = mp < 10 ? mp + 3 : mp - 9;
	tm->year = yoe + era * 400 + (tm->mon <= 2);
}

/* --- Register formats: register B's DM and 24/12 bits ---------------- */

static bool rtc_binary(const struct rtc *r)
{
	return r->cmos[REG_B] & B_BINARY;
}

static uint8_t rtc_enc(const struct rtc *r, unsigned int v)
{
	v %= 100;
	return rtc_binary(r) ? v : (v / 10) << 4 | v % 10;
}

/* Accepts anything a guest writes: bad BCD digits just give odd values. */
static unsigned int rtc_dec(const struct rtc *r, uint8_t v)
{
	return rtc_binary(r) ? v : (v >> 4) * 10 + (v & 0x0f);
}

/* 12-hour mode: 12 AM is 12, 1 PM is 1 with bit 7 set. */
static uint8_t rtc_enc_hour(const struct rtc *r, unsigned int hour)
{
	unsigned int h12 = hour % 12 ? hour % 12 : 12;

	if (r->cmos[REG_B] & B_24H)
		return rtc_enc(r, hour);
	return rtc_enc(r, h12) | (hour >= 12 ? 0x80 : 0);
}

static unsigned int rtc_dec_hour(const struct rtc *r, uint8_t v)
{
	unsigned int h;

	if (r->cmos[REG_B] & B_24H)
		return rtc_dec(r, v);
	h = rtc_dec(r, v & 0x7f) % 12;
	return v & 0x80 ? h + 12 : h;
}

static bool rtc_is_time_reg(unsigned int reg)
{
	return (reg <= REG_YEAR && reg != REG_SEC_ALARM &&
		reg != REG_MIN_ALARM && reg != REG_HOUR_ALARM) ||
	       reg == REG_CENTURY;
}

/* Writes the time registers for @secs since the epoch into @regs. */
static void rtc_encode_time(const struct rtc *r, int64_t secs, uint8_t *regs)
{
	struct rtc_time tm;

	time_from_secs(secs, &tm);
	regs[REG_SEC] = rtc_enc(r, tm.sec);
	regs[REG_MIN] = rtc_enc(r, tm.min);
	regs[REG_HOUR] = rtc_enc_hour(r, tm.hour);
	regs[REG_WDAY] = rtc_enc(r, tm.wday);
	regs[REG_MDAY] = rtc_enc(r, tm.mday);
	regs[REG_MONTH] = rtc_enc(r, tm.mon);
	regs[REG_YEAR] = rtc_enc(r, tm.year % 100);
	regs[REG_CENTURY] = rtc_enc(r, tm.year / 100);
}

/* The time the guest left in the registers; the day of week is ignored. */
static int64_t rtc_decode_time(const struct rtc *r)
{
	const uint8_t *c = r->cmos;
	unsigned int mon = rtc_dec(r, c[REG_MONTH]);
	int64_t year = rtc_dec(r, c[REG_CENTURY]) * 100 +
		       rtc_dec(r, c[REG_YEAR]);
	int64_t secs;

	mon = mon < 1 ? 1 : mon > 12 ? 12 : mon;
	secs = (days_from_date(year, mon, 1) + rtc_dec(r, c[REG_MDAY]) - 1) *
		SECS_PER_DAY + rtc_dec_hour(r, c[REG_HOUR]) * 3600 +
		rtc_dec(r, c[REG_MIN]) * 60 + rtc_dec(r, c[REG_SEC]);
	if (secs > RTC_MAX_SECS)
		return RTC_MAX_SECS;
	return secs < -RTC_MAX_SECS ? -RTC_MAX_SECS : secs;
}

/* --- The clock -------------------------------------------------------- */

static int64_t rtc_ns(const struct rtc *r, int64_t now)
{
	return now + r->offset_ns;
}

static bool rtc_divider_runs(const struct rtc *r)
{
	return (r->cmos[REG_A] & A_DV_MASK) == A_DV_32K;
}

static bool rtc_should_stop(const struct rtc *r)
{
	return (r->cmos[REG_B] & B_SET) || !rtc_divider_runs(r);
}

unsigned int rtc_periodic_hz(uint8_t reg_a)
{
	unsigned int rs = reg_a & A_RS_MASK;

	/* With a 32.768 kHz time base, rates 1 and 2 repeat rates 8 and 9. */
	if (rs == 0)
		return 0;
	if (rs <= 2)
		return 256 >> (rs - 1);
	return 32768 >> (rs - 1);
}

static __int128 floor_div128(__int128 a, int64_t b)
{
	__int128 q = a / b;

	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Index of the periodic tick that started at or before @ns. */
static int64_t rtc_tick(int64_t ns, unsigned int hz)
{
	return floor_div128((__int128)ns * hz, NS_PER_SEC);
}

/* First ns of tick @k (ticks do not start on whole ns above 512 Hz). */
static int64_t rtc_tick_start(int64_t k, unsigned int hz)
{
	return -floor_div128(-(__int128)k * NS_PER_SEC, hz);
}

/* Updates stop: the registers hold the time of the last update. */
static void rtc_stop(struct rtc *r, int64_t now)
{
	rtc_encode_time(r, floor_div(rtc_ns(r, now), NS_PER_SEC), r->cmos);
	r->stopped = true;
}

/*
 * Updates resume from the registers. The divider kept running meanwhile,
 * so the fraction of a second it is into stays what it was.
 */
static void rtc_run(struct rtc *r, int64_t now)
{
	int64_t frac = floor_mod(rtc_ns(r, now), NS_PER_SEC);

	r->offset_ns = rtc_decode_time(r) * NS_PER_SEC + frac - now;
	r->stopped = false;
}

static void rtc_start_or_stop(struct rtc *r, int64_t now)
{
	bool stop = rtc_should_stop(r);

	if (stop && !r->stopped)
		rtc_stop(r, now);
	else if (!stop && r->stopped)
		rtc_run(r, now);
}

/* --- Flags and the interrupt ----------------------------------------- */

/* IRQF follows the enabled flags and stays set until register C is read. */
static void rtc_set_flags(struct rtc *r, uint8_t flags)
{
	uint8_t c = r->cmos[REG_C] | flags;

	if (c & r->cmos[REG_B] & (C_PF | C_AF | C_UF))
		c |= C_IRQF;
	r->cmos[REG_C] = c;
	irq_line_set(&r->irq, c & C_IRQF);
}

static bool rtc_alarm_matches(const struct rtc *r, int64_t secs)
{
	static const uint8_t pairs[][2] = {
		{ REG_SEC_ALARM, REG_SEC },
		{ REG_MIN_ALARM, REG_MIN },
		{ REG_HOUR_ALARM, REG_HOUR },
	};
	uint8_t regs[RTC_CMOS_BYTES];
	unsigned int i;

	rtc_encode_time(r, secs, regs);
	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		uint8_t alarm = r->cmos[pairs[i][0]];

		if ((alarm & ALARM_DONT_CARE) != ALARM_DONT_CARE &&
		    alarm != regs[pairs[i][1]])
			return false;
	}
	return true;
}

/*
 * Did an update in (@from, @to] match the alarm? A day holds every
 * hour:minute:second, so a longer gap needs only its last day checked.
 */
static bool rtc_alarm_between(const struct rtc *r, int64_t from, int64_t to)
{
	int64_t s;

	if (to - from > SECS_PER_DAY)
		from = to - SECS_PER_DAY;
	for (s = from + 1; s <= to; s++)
		if (rtc_alarm_matches(r, s))
			return true;
	return false;
}

/* Sets the flags of every event between the last look and @now. */
static void rtc_advance(struct rtc *r, int64_t now)
{
	int64_t from = rtc_ns(r, r->seen_ns), to = rtc_ns(r, now);
	unsigned int hz = rtc_periodic_hz(r->cmos[REG_A]);
	int64_t s_from = floor_div(from, NS_PER_SEC);
	int64_t s_to = floor_div(to, NS_PER_SEC);
	uint8_t flags = 0;

	if (now <= r->seen_ns)
		return;
	r->seen_ns = now;
	/* The periodic flag needs only the divider; SET does not stop it. */
	if (hz && rtc_divider_runs(r) && rtc_tick(to, hz) != rtc_tick(from, hz))
		flags |= C_PF;
	if (!r->stopped && s_to != s_from) {
		flags |= C_UF;
		if (!(r->cmos[REG_C] & C_AF) &&
		    rtc_alarm_between(r, s_from, s_to))
			flags |= C_AF;
	}
	rtc_set_flags(r, flags);
}

/* The next time an enabled interrupt may be due, or -1 if none can come. */
static int64_t rtc_next_event(const struct rtc *r, int64_t now)
{
	int64_t ns = rtc_ns(r, now), next = 0, upd;
	unsigned int hz = rtc_periodic_hz(r->cmos[REG_A]);
	uint8_t b = r->cmos[REG_B];
	bool any = false;

	if (b & B_PIE && hz && rtc_divider_runs(r)) {
		next = rtc_tick_start(rtc_tick(ns, hz) + 1, hz);
		any = true;
	}
	if (b & (B_UIE | B_AIE) && !r->stopped) {
		upd = (floor_div(ns, NS_PER_SEC) + 1) * NS_PER_SEC;
		if (!any || upd < next)
			next = upd;
		any = true;
	}
	return any ? next - r->offset_ns : -1;
}

/* Tells the interrupt thread when to look next. */
static void rtc_arm_timer(struct rtc *r, int64_t now)
{
	int64_t at;

	if (!r->thread_on || r->paused)
		return;
	at = rtc_next_event(r, now);
	if (at != r->wake_at) {
		r->wake_at = at;
		pthread_cond_signal(&r->wake);
	}
}

/* --- Registers -------------------------------------------------------- */

static uint8_t rtc_read_a(const struct rtc *r, int64_t now)
{
	uint8_t a = r->cmos[REG_A] & ~A_UIP;

	if (!r->stopped &&
	    NS_PER_SEC - floor_mod(rtc_ns(r, now), NS_PER_SEC) <= UIP_NS)
		a |= A_UIP;
	return a;
}

static uint8_t rtc_read(struct rtc *r, unsigned int reg, int64_t now)
{
	uint8_t regs[RTC_CMOS_BYTES], c;

	switch (reg) {
	case REG_A:
		return rtc_read_a(r, now);
	case REG_C:
		c = r->cmos[REG_C];
		r->cmos[REG_C] = 0;
		irq_line_set(&r->irq, 0);
		return c;
	case REG_D:
		return D_VRT;
	}
	if (rtc_is_time_reg(reg) && !r->stopped) {
		rtc_encode_time(r, floor_div(rtc_ns(r, now), NS_PER_SEC), regs);
		return regs[reg];
	}
	return r->cmos[reg];
}

static void rtc_write_a(struct rtc *r, uint8_t v, int64_t now)
{
	bool was_running = rtc_divider_runs(r);

	r->cmos[REG_A] = v & ~A_UIP;
	/* The first update comes half a second after a divider reset ends. */
	if (!was_running && rtc_divider_runs(r))
		r->offset_ns = NS_PER_SEC / 2 - now;
	rtc_start_or_stop(r, now);
}

static void rtc_write_b(struct rtc *r, uint8_t v, int64_t now)
{
	if (v & B_SET)
		v &= ~B_UIE;	/* as the datasheet has it */
	r->cmos[REG_B] = v;
	rtc_start_or_stop(r, now);
	rtc_set_flags(r, 0);	/* a newly enabled flag interrupts at once */
}

/* Returns true when the write may have moved the next interrupt. */
static bool rtc_write(struct rtc *r, unsigned int reg, uint8_t v, int64_t now)
{
	switch (reg) {
	case REG_A:
		rtc_write_a(r, v, now);
		return true;
	case REG_B:
		rtc_write_b(r, v, now);
		return true;
	case REG_C:
	case REG_D:
		return false;	/* read-only */
	}
	if (rtc_is_time_reg(reg) && !r->stopped) {
		/* Setting the running clock: the update goes on from it. */
		rtc_stop(r, now);
		r->cmos[reg] = v;
		rtc_run(r, now);
		return true;
	}
	r->cmos[reg] = v;
	return false;
}

/*
 * Wider accesses are split into bytes at consecutive ports, as on an
 * 8-bit ISA device; bytes past 0x71 reach no device and read all ones.
 * The index has 7 bits, so no guest value selects past the CMOS.
 */
void rtc_io(struct rtc *r, unsigned int off, bool is_write, uint8_t *data,
	    unsigned int len, int64_t now)
{
	bool rearm = false;
	unsigned int i;

	pthread_mutex_lock(&r->lock);
	/* Another vCPU may have got here first with a later clock reading. */
	if (now < r->seen_ns)
		now = r->seen_ns;
	rtc_advance(r, now);
	for (i = 0; i < len; i++) {
		unsigned int reg = r->index & 0x7f;

		if (off + i == 0 && is_write)
			r->index = data[i];
		else if (off + i == 0)
			data[i] = r->index;
		else if (off + i == 1 && is_write)
			rearm |= rtc_write(r, reg, data[i], now);
		else if (off + i == 1)
			data[i] = rtc_read(r, reg, now);
		else if (!is_write)
			data[i] = 0xff;
	}
	if (rearm)
		rtc_arm_timer(r, now);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_access(void *dev, uint64_t off, bool is_write, uint8_t *data,
		       unsigned int len)
{
	rtc_io(dev, off, is_write, data, len, mono_ns());
}

static void *rtc_thread(void *p)
{
	struct rtc *r = p;
	struct timespec ts;
	int64_t now;

	/* Wake on time: the default 50 us slack is 5% of a 1024 Hz period. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	pthread_mutex_lock(&r->lock);
	for (;;) {
		if (r->wake_at < 0) {
			pthread_cond_wait(&r->wake, &r->lock);
		} else {
			ts.tv_sec = r->wake_at / NS_PER_SEC;
			ts.tv_nsec = r->wake_at % NS_PER_SEC;
			pthread_cond_timedwait(&r->wake, &r->lock, &ts);
		}
		now = mono_ns();
		/* Woken early, or by a change: the deadline says what to do. */
		if (r->wake_at < 0 || now < r->wake_at)
			continue;
		rtc_advance(r, now);
		r->wake_at = rtc_next_event(r, now);
	}
	return NULL;
}

void rtc_pause(struct rtc *r, int64_t now)
{
	pthread_mutex_lock(&r->lock);
	rtc_advance(r, now);
	r->paused = true;
	r->wake_at = -1;
	if (r->thread_on)
		pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

void rtc_resume(struct rtc *r, int64_t now, int64_t hide_ns)
{
	pthread_mutex_lock(&r->lock);
	r->paused = false;
	r->offset_ns -= hide_ns;
	/* Flags and interrupts start again from here: none for the pause. */
	if (now > r->seen_ns)
		r->seen_ns = now;
	rtc_arm_timer(r, now);
	pthread_mutex_unlock(&r->lock);
}

void rtc_start(struct rtc *r)
{
	pthread_t thread;
	int err;

	pthread_mutex_lock(&r->lock);
	r->thread_on = true;
	r->wake_at = rtc_next_event(r, mono_ns());
	pthread_mutex_unlock(&r->lock);
	err = lvrun_thread_create(&thread, rtc_thread, r);
	if (err)
		die("pthread_create: %s", strerror(err));
	pthread_detach(thread);
}

/* --- Memory-size bytes, as a PC BIOS leaves them ---------------------- */

/* Bytes of e820 entries of @type (0: any) within [@lo, @hi). */
static uint64_t e820_bytes(const struct e820_entry *map, int n, uint32_t type,
			   uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < n; i++) {
		uint64_t start = map[i].addr, end = map[i].addr + map[i].size;

		if (type && map[i].type != type)
			continue;
		start = start < lo ? lo : start;
		end = end > hi ? hi : end;
		if (end > start)
			sum += end - start;
	}
	return sum;
}

static uint64_t cap(uint64_t v, uint64_t max)
{
	return v > max ? max : v;
}

static void rtc_put16(uint8_t *cmos, unsigned int reg, uint64_t v)
{
	cmos[reg] = v;
	cmos[reg + 1] = v >> 8;
}

static void rtc_memory_bytes(uint8_t *cmos, uint64_t mem_size)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	int n = e820_build(mem_size, map), i;
	uint64_t base, ext, above16m, above4g;
	unsigned int sum = 0;

	/* Base memory counts the EBDA, which a BIOS takes from its top. */
	base = e820_bytes(map, n, 0, 0, VGA_HOLE) >> 10;
	ext = cap(e820_bytes(map, n, E820_RAM, SZ_1M, SZ_4G) >> 10, 0xffff);
	above16m = cap(e820_bytes(map, n, E820_RAM, SZ_16M, SZ_4G) >> 16,
		       0xffff);
	above4g = cap(e820_bytes(map, n, E820_RAM, SZ_4G, ~0ULL) >> 16,
		      0xffffff);
	rtc_put16(cmos, 0x15, base);
	rtc_put16(cmos, 0x17, ext);
	rtc_put16(cmos, 0x30, ext);
	rtc_put16(cmos, 0x34, above16m);
	rtc_put16(cmos, 0x5b, above4g);
	cmos[0x5d] = above4g >> 16;
	/* The standard checksum of 0x10-0x2d, big endian at 0x2e. */
	for (i = 0x10; i <= 0x2d; i++)
		sum += cmos[i];
	cmos[0x2e] = sum >> 8;
	cmos[0x2f] = sum;
}

void rtc_init(struct rtc *r, struct bus *pio, struct irq_line irq,
	      uint64_t mem_size)
{
	pthread_condattr_t attr;
	struct timespec real;
	int64_t now;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	r->irq = irq;
	r->wake_at = -1;
	clock_gettime(CLOCK_REALTIME, &real);
	now = mono_ns();
	r->offset_ns = real.tv_sec * NS_PER_SEC + real.tv_nsec - now;
	r->seen_ns = now;
	/* As a PC BIOS leaves it: running, 1024 Hz selected, BCD, 24-hour. */
	r->cmos[REG_A] = A_DV_32K | 6;
	r->cmos[REG_B] = B_24H;
	rtc_memory_bytes(r->cmos, mem_size);
	if (bus_register(pio, PORT_RTC, 2, "CMOS/RTC", rtc_access, r))
		die("cannot register the RTC");
}

void rtc_save(struct rtc *r, struct rtc_state *s)
{
	int64_t now = mono_ns();

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&r->lock);
	/* Paused: the RTC's time stopped where the pause began. */
	if (now < r->seen_ns || r->paused)
		now = r->seen_ns;
	s->index = r->index;
	s->stopped = r->stopped;
	memcpy(s->cmos, r->cmos, sizeof(s->cmos));
	s->clock_ns = rtc_ns(r, now);
	s->unseen_ns = now - r->seen_ns;
	pthread_mutex_unlock(&r->lock);
}

int rtc_restore(struct rtc *r, const struct rtc_state *s)
{
	int64_t now = mono_ns();

	static const uint8_t zero[sizeof(s->padding)];

	/* Times a snapshot file can hold but no RTC had: no overflow below. */
	if (s->stopped > 1 || s->unseen_ns < 0 || s->unseen_ns > now ||
	    s->clock_ns < 0 || memcmp(s->padding, zero, sizeof(zero)))
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	r->index = s->index;
	r->stopped = s->stopped;
	memcpy(r->cmos, s->cmos, sizeof(r->cmos));
	r->offset_ns = s->clock_ns - now;
	r->seen_ns = now - s->unseen_ns;
	irq_line_restore(&r->irq, r->cmos[REG_C] & C_IRQF);
	rtc_arm_timer(r, now);
	pthread_mutex_unlock(&r->lock);
	return 0;
}
