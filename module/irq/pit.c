// SPDX-License-Identifier: GPL-2.0
/*
 * The 8254 PIT (Intel 8254 data sheet) at 1.193182 MHz: counters are
 * computed from the host clock when read, never ticked. Channel 0 drives
 * line 0 (modes 0, 2 and 3 on an hrtimer); channel 2's gate and output
 * are bits 0 and 5 of port 0x61, for calibration loops.
 *
 * Not modelled: BCD counting, a low gate pausing modes 0/2/3/4 of
 * channel 2 mid-count (a rising gate restarts the count), channel 1.
 */
#include <linux/math64.h>
#include <linux/string.h>

#include "lightvisor.h"
#include "irq/lapic.h"
#include "irq/irqchip.h"

#define PIT_RW_LATCH	0
#define PIT_RW_LSB	1
#define PIT_RW_MSB	2
#define PIT_RW_WORD0	3
#define PIT_RW_WORD1	4
/* Periodic channel 0 interrupts no faster than this (host protection). */
#define PIT_MIN_PERIOD_NS	50000ULL

static u64 lv_pit_ticks(const struct lv_pit_channel *c, ktime_t now)
{
	s64 ns = ktime_to_ns(ktime_sub(now, c->load_time));

	return ns <= 0 ? 0 : mul_u64_u32_div(ns, LV_PIT_HZ, NSEC_PER_SEC);
}

/* The counter's value at @now. */
u32 lv_pit_channel_count(const struct lv_pit_channel *c, ktime_t now)
{
	u64 d = lv_pit_ticks(c, now);
	u32 rem;

	switch (c->mode) {
	case 0:
	case 1:
	case 4:
	case 5:
		return (c->count - d) & 0xffff;
	case 3:
		/* Counts down by two, twice per period. */
		div_u64_rem(2 * d, c->count, &rem);
		return c->count - rem;
	default:
		div_u64_rem(d, c->count, &rem);
		return c->count - rem;
	}
}
EXPORT_SYMBOL_IF_KUNIT(lv_pit_channel_count);

/* The OUT pin at @now. */
bool lv_pit_channel_out(const struct lv_pit_channel *c, ktime_t now)
{
	u64 d = lv_pit_ticks(c, now);
	u32 rem;

	switch (c->mode) {
	case 0:			/* interrupt on terminal count */
	case 1:			/* one-shot */
		return d >= c->count;
	case 2:			/* rate generator: low for the last tick */
		div_u64_rem(d, c->count, &rem);
		return rem != c->count - 1;
	case 3:			/* square wave: high for the first half */
		div_u64_rem(d, c->count, &rem);
		return rem < (c->count + 1) / 2;
	default:		/* strobes: low for one tick at the count */
		return d != c->count;
	}
}
EXPORT_SYMBOL_IF_KUNIT(lv_pit_channel_out);

static u8 lv_pit_status(const struct lv_pit_channel *c, ktime_t now)
{
	return (lv_pit_channel_out(c, now) << 7) | (c->rw_mode << 4) |
	       (c->mode << 1) | c->bcd;
}

/* Expiry number @n of channel 0 since its load, in absolute time. */
static ktime_t lv_pit_expiry(const struct lv_pit *pit, u64 n)
{
	const struct lv_pit_channel *c = &pit->ch[0];
	u64 ns = mul_u64_u64_div_u64(n * c->count, NSEC_PER_SEC, LV_PIT_HZ);

	if (c->mode != 0 && n > 1) {
		u64 floor = (n - 1) * PIT_MIN_PERIOD_NS;

		ns = max(ns, floor);
	}
	return ktime_add_ns(c->load_time, ns);
}

/* The first expiry of channel 0 after @now, at least number @from. */
static ktime_t lv_pit_next_expiry(struct lv_pit *pit, ktime_t now, u64 from)
{
	const struct lv_pit_channel *c = &pit->ch[0];
	s64 elapsed = ktime_to_ns(ktime_sub(now, c->load_time));
	u64 n_count = div_u64(lv_pit_ticks(c, now), c->count) + 1;
	u64 n_floor = elapsed > 0 ? div64_u64(elapsed, PIT_MIN_PERIOD_NS) + 2 : 1;
	ktime_t next;

	/* Jump close to now, then step: an expiry the host missed is skipped. */
	pit->irqs = max(from, min(n_count, n_floor));
	while (!ktime_after(next = lv_pit_expiry(pit, pit->irqs), now))
		pit->irqs++;
	return next;
}

/* Channel 0 was loaded or reprogrammed: (re)arm its interrupt; lock held. */
static void lv_pit_arm(struct lv_pit *pit)
{
	struct lv_pit_channel *c = &pit->ch[0];

	hrtimer_try_to_cancel(&pit->timer);
	if (c->mode != 0 && c->mode != 2 && c->mode != 3)
		return;
	pit->irqs = 1;
	hrtimer_start(&pit->timer, lv_pit_expiry(pit, 1), HRTIMER_MODE_ABS_HARD);
}

static enum hrtimer_restart lv_pit_timer_fn(struct hrtimer *t)
{
	struct lv_pit *pit = container_of(t, struct lv_pit, timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	ktime_t now = hrtimer_cb_get_time(t), next;
	unsigned long flags;

	spin_lock_irqsave(&pit->lock, flags);
	if (pit->ch[0].mode == 2 || pit->ch[0].mode == 3) {
		/* Each expiry counts from the load time: no drift. */
		next = lv_pit_next_expiry(pit, now, pit->irqs + 1);
		hrtimer_set_expires(t, next);
		ret = HRTIMER_RESTART;
	}
	spin_unlock_irqrestore(&pit->lock, flags);
	lv_irqchip_pit_pulse(pit->vm);
	return ret;
}

static void lv_pit_load(struct lv_pit *pit, int n, u32 val)
{
	struct lv_pit_channel *c = &pit->ch[n];

	c->count = val ? val : 0x10000;
	c->load_time = ktime_get();
	if (n == 0)
		lv_pit_arm(pit);
}

static void lv_pit_latch_count(struct lv_pit_channel *c, ktime_t now)
{
	if (c->count_latched)
		return;
	c->latched_count = lv_pit_channel_count(c, now);
	c->count_latched = c->rw_mode;
}

static void lv_pit_write_control(struct lv_pit *pit, u8 val, ktime_t now)
{
	int n = val >> 6, access = (val >> 4) & 3, i;
	struct lv_pit_channel *c;

	if (n == 3) {			/* read-back command */
		for (i = 0; i < 3; i++) {
			c = &pit->ch[i];
			if (!(val & (2 << i)))
				continue;
			if (!(val & 0x20))
				lv_pit_latch_count(c, now);
			if (!(val & 0x10) && !c->status_latched) {
				c->status = lv_pit_status(c, now);
				c->status_latched = true;
			}
		}
		return;
	}
	c = &pit->ch[n];
	if (access == PIT_RW_LATCH) {
		lv_pit_latch_count(c, now);
		return;
	}
	c->rw_mode = access;
	c->read_state = access;
	c->write_state = access;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;		/* 6 and 7 alias 2 and 3 */
	c->bcd = val & 1;
	c->count_latched = 0;
	c->status_latched = false;
	if (n == 0)
		hrtimer_try_to_cancel(&pit->timer);
}

static void lv_pit_write_counter(struct lv_pit *pit, int n, u8 val)
{
	struct lv_pit_channel *c = &pit->ch[n];

	switch (c->write_state) {
	case PIT_RW_LSB:
		lv_pit_load(pit, n, val);
		break;
	case PIT_RW_MSB:
		lv_pit_load(pit, n, val << 8);
		break;
	case PIT_RW_WORD0:
		c->write_latch = val;
		c->write_state = PIT_RW_WORD1;
		break;
	case PIT_RW_WORD1:
		lv_pit_load(pit, n, c->write_latch | (val << 8));
		c->write_state = PIT_RW_WORD0;
		break;
	}
}

static u8 lv_pit_read_counter(struct lv_pit_channel *c, ktime_t now)
{
	u32 count;
	u8 ret;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched) {
		switch (c->count_latched) {
		case PIT_RW_LSB:
			c->count_latched = 0;
			return c->latched_count & 0xff;
		case PIT_RW_MSB:
			c->count_latched = 0;
			return c->latched_count >> 8;
		case PIT_RW_WORD0:
			c->count_latched = PIT_RW_MSB;
			return c->latched_count & 0xff;
		}
	}
	count = lv_pit_channel_count(c, now);
	switch (c->read_state) {
	case PIT_RW_LSB:
		return count & 0xff;
	case PIT_RW_MSB:
		return (count >> 8) & 0xff;
	case PIT_RW_WORD0:
		c->read_state = PIT_RW_WORD1;
		return count & 0xff;
	case PIT_RW_WORD1:
		ret = (count >> 8) & 0xff;
		c->read_state = PIT_RW_WORD0;
		return ret;
	}
	return 0;
}

/* Port 0x61: gate 2 (bit 0), speaker (1), refresh toggle (4), OUT2 (5). */
static u8 lv_pit_read_speaker(struct lv_pit *pit, ktime_t now)
{
	bool refresh = (ktime_to_ns(now) / 15085) & 1;

	return pit->speaker | (refresh << 4) |
	       (lv_pit_channel_out(&pit->ch[2], now) << 5);
}

static void lv_pit_write_speaker(struct lv_pit *pit, u8 val, ktime_t now)
{
	struct lv_pit_channel *c = &pit->ch[2];
	bool gate = val & 1;

	/* A rising gate (re)starts modes 1, 2, 3 and 5. */
	if (gate && !c->gate && c->mode != 0 && c->mode != 4)
		c->load_time = now;
	c->gate = gate;
	pit->speaker = val & 3;
}

u8 lv_pit_read(struct lv_pit *pit, u16 port)
{
	ktime_t now = ktime_get();
	unsigned long flags;
	u8 ret = 0xff;

	spin_lock_irqsave(&pit->lock, flags);
	if (port == 0x61)
		ret = lv_pit_read_speaker(pit, now);
	else if (port >= 0x40 && port <= 0x42)
		ret = lv_pit_read_counter(&pit->ch[port - 0x40], now);
	spin_unlock_irqrestore(&pit->lock, flags);
	return ret;
}

void lv_pit_write(struct lv_pit *pit, u16 port, u8 val)
{
	ktime_t now = ktime_get();
	unsigned long flags;

	spin_lock_irqsave(&pit->lock, flags);
	if (port == 0x61)
		lv_pit_write_speaker(pit, val, now);
	else if (port == 0x43)
		lv_pit_write_control(pit, val, now);
	else if (port >= 0x40 && port <= 0x42)
		lv_pit_write_counter(pit, port - 0x40, val);
	spin_unlock_irqrestore(&pit->lock, flags);
}

void lv_pit_init(struct lv_pit *pit, struct lv_vm *vm)
{
	ktime_t now = ktime_get();
	int i;

	memset(pit, 0, sizeof(*pit));
	spin_lock_init(&pit->lock);
	pit->vm = vm;
	hrtimer_init(&pit->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	pit->timer.function = lv_pit_timer_fn;
	for (i = 0; i < 3; i++) {
		pit->ch[i].count = 0x10000;
		pit->ch[i].gate = i != 2;
		pit->ch[i].load_time = now;
		pit->ch[i].rw_mode = PIT_RW_WORD0;
		pit->ch[i].read_state = PIT_RW_WORD0;
		pit->ch[i].write_state = PIT_RW_WORD0;
	}
}

void lv_pit_destroy(struct lv_pit *pit)
{
	hrtimer_cancel(&pit->timer);
}

void lv_pit_get_state(struct lv_pit *pit, struct lv_irqchip_state *st)
{
	ktime_t now = ktime_get();
	unsigned long flags;
	int i;

	spin_lock_irqsave(&pit->lock, flags);
	for (i = 0; i < 3; i++) {
		const struct lv_pit_channel *c = &pit->ch[i];
		struct lv_pit_channel_state *s = &st->pit[i];
		s64 elapsed = ktime_to_ns(ktime_sub(now, c->load_time));

		*s = (struct lv_pit_channel_state) {
			.count = c->count, .latched_count = c->latched_count,
			.count_latched = c->count_latched,
			.status_latched = c->status_latched, .status = c->status,
			.read_state = c->read_state, .write_state = c->write_state,
			.write_latch = c->write_latch, .rw_mode = c->rw_mode,
			.mode = c->mode, .bcd = c->bcd, .gate = c->gate,
			.elapsed_ns = max_t(s64, elapsed, 0),
		};
	}
	st->speaker = pit->speaker;
	spin_unlock_irqrestore(&pit->lock, flags);
}

static bool lv_pit_channel_state_ok(const struct lv_pit_channel_state *s)
{
	return s->count >= 1 && s->count <= 0x10000 && s->count_latched <= 4 &&
	       s->status_latched <= 1 && s->read_state >= 1 &&
	       s->read_state <= 4 && s->write_state >= 1 && s->write_state <= 4 &&
	       s->rw_mode >= 1 && s->rw_mode <= 3 && s->mode <= 5 &&
	       s->bcd <= 1 && s->gate <= 1 &&
	       !memchr_inv(s->padding, 0, sizeof(s->padding)) &&
	       s->elapsed_ns < (1ULL << 62);
}

int lv_pit_set_state(struct lv_pit *pit, const struct lv_irqchip_state *st)
{
	ktime_t now = ktime_get();
	unsigned long flags;
	int i;

	for (i = 0; i < 3; i++)
		if (!lv_pit_channel_state_ok(&st->pit[i]))
			return -EINVAL;
	if (st->speaker > 3)
		return -EINVAL;
	spin_lock_irqsave(&pit->lock, flags);
	for (i = 0; i < 3; i++) {
		const struct lv_pit_channel_state *s = &st->pit[i];
		struct lv_pit_channel *c = &pit->ch[i];

		*c = (struct lv_pit_channel) {
			.count = s->count, .latched_count = s->latched_count,
			.count_latched = s->count_latched,
			.status_latched = s->status_latched, .status = s->status,
			.read_state = s->read_state, .write_state = s->write_state,
			.write_latch = s->write_latch, .rw_mode = s->rw_mode,
			.mode = s->mode, .bcd = s->bcd, .gate = s->gate || i != 2,
			.load_time = ktime_sub_ns(now, s->elapsed_ns),
		};
	}
	pit->speaker = st->speaker;
	hrtimer_try_to_cancel(&pit->timer);
	if (pit->ch[0].mode == 2 || pit->ch[0].mode == 3)
		hrtimer_start(&pit->timer, lv_pit_next_expiry(pit, now, 1),
			      HRTIMER_MODE_ABS_HARD);
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}
