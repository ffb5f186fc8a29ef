// SPDX-License-Identifier: GPL-2.0
/*
 * The local APIC (SDM vol. 3A, chapter 11), vendor neutral: registers,
 * interrupt acceptance and priority, EOI, the timer and interprocessor
 * interrupts. The vCPU reaches it through xAPIC MMIO, x2APIC MSRs and
 * CR8; the core asks it for the next vector before each entry.
 *
 * Locking: apic->lock, with interrupts off. Nothing is delivered to
 * another APIC, the I/O APIC or a vCPU while it is held.
 */
#include <linux/kernel.h>
#include <linux/math64.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "lightvisor.h"
#include "irq/irqchip.h"
#include "irq/lapic.h"

#define REG(off)		((off) >> 4)
#define APIC_LVT_MODE_MASK	(3 << 17)
#define APIC_ICR_BUSY_BIT	BIT(12)
#define APIC_ICR_LEVEL_ASSERT	BIT(14)
#define APIC_ICR_LEVEL_TRIG	BIT(15)
#define APIC_ICR_LOGICAL	BIT(11)
#define APIC_DM_STARTUP_MODE	6

/* Writable bits of each LVT entry (delivery status and remote IRR are not). */
static const struct {
	unsigned int off;
	u32 mask;
} lv_lvt_regs[] = {
	{ APIC_LVTT,	0xff | APIC_LVT_MASKED | APIC_LVT_MODE_MASK },
	{ APIC_LVTTHMR,	0x7ff | APIC_LVT_MASKED },
	{ APIC_LVTPC,	0x7ff | APIC_LVT_MASKED },
	{ APIC_LVT0,	0x7ff | BIT(13) | BIT(15) | APIC_LVT_MASKED },
	{ APIC_LVT1,	0x7ff | BIT(13) | BIT(15) | APIC_LVT_MASKED },
	{ APIC_LVTERR,	0xff | APIC_LVT_MASKED },
	{ APIC_LVTCMCI,	0x7ff | APIC_LVT_MASKED },
};

static int lv_lvt_index(unsigned int off)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(lv_lvt_regs); i++)
		if (lv_lvt_regs[i].off == off)
			return i;
	return -1;
}

static u32 lv_timer_mode(const struct lv_lapic *apic)
{
	return lv_apic_reg(apic, APIC_LVTT) & APIC_LVT_MODE_MASK;
}

static bool lv_vec_test(const struct lv_lapic *apic, unsigned int base, int v)
{
	return apic->regs[REG(base) + v / 32] & BIT(v % 32);
}

/*
 * IRR, ISR, TMR or TPR changed outside the guest: a virtual-APIC page
 * holds an old copy (see lv_lapic_vapic_enter()).
 */
static void lv_vapic_mark_dirty(struct lv_lapic *apic)
{
	WRITE_ONCE(apic->vapic_dirty, true);
}

/* For IRR, ISR and TMR only. */
static void lv_vec_set(struct lv_lapic *apic, unsigned int base, int v, bool on)
{
	u32 *w = &apic->regs[REG(base) + v / 32];
	u32 old = *w;

	*w = on ? old | BIT(v % 32) : old & ~BIT(v % 32);
	/* The TMR is rewritten at every arrival: mostly unchanged. */
	if (base == APIC_TMR && *w != old)
		apic->vapic_tmr_dirty = true;
	lv_vapic_mark_dirty(apic);
}

/**
 * lv_apic_highest_bit() - the highest vector set in an IRR/ISR/TMR
 * @regs: the register array
 * @first_reg: index of its first 32-bit word (offset >> 4)
 *
 * Return: the vector, or -1 if none is set.
 */
int lv_apic_highest_bit(const u32 *regs, unsigned int first_reg)
{
	int i;

	/*
	 * The eight words are consecutive in @regs: four 64-bit loads,
	 * since every entry scans IRR (mostly empty) and every EOI ISR.
	 */
	for (i = 3; i >= 0; i--) {
		u64 w = (u64)regs[first_reg + 2 * i + 1] << 32 |
			regs[first_reg + 2 * i];

		if (w)
			return i * 64 + __fls(w);
	}
	return -1;
}
EXPORT_SYMBOL_IF_KUNIT(lv_apic_highest_bit);

/* Processor priority (SDM 11.8.3.1): the higher of TPR and the ISR class. */
u32 lv_lapic_ppr(const struct lv_lapic *apic)
{
	u32 tpr = lv_apic_reg(apic, APIC_TASKPRI) & 0xff;
	int isrv = lv_apic_highest_bit(apic->regs, REG(APIC_ISR));
	u32 isr_class = isrv < 0 ? 0 : isrv & 0xf0;

	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_ppr);

/**
 * lv_lapic_pending_vector() - the vector the APIC would present now
 * @apic: the APIC
 *
 * Return: the highest vector in IRR whose class is above the processor
 * priority's, or -1.
 */
int lv_lapic_pending_vector(const struct lv_lapic *apic)
{
	int irr = lv_apic_highest_bit(apic->regs, REG(APIC_IRR));

	if (irr < 0 || !lv_apic_hw_enabled(apic))
		return -1;
	if ((irr & 0xf0) <= (lv_lapic_ppr(apic) & 0xf0))
		return -1;
	return irr;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_pending_vector);

/**
 * lv_lapic_tpr_threshold() - the TPR threshold for a TPR shadow
 * @apic: the APIC
 *
 * With the TPR shadow the guest moves its TPR (CR8) without an exit; the
 * CPU exits only when TPR[7:4] falls below the threshold. That must
 * happen exactly when a lower TPR lets a waiting interrupt in: when the
 * highest IRR vector is held back by the TPR alone, the threshold is its
 * class. An interrupt that the ISR holds back needs none (its EOI exits
 * and the next entry looks again), nor does one already above the TPR (it
 * is injected, or waits for an interrupt window).
 *
 * Return: 0 to 15, never above TPR[7:4] (the SDM's VM-entry check when
 * virtual-interrupt delivery is off).
 */
u32 lv_lapic_tpr_threshold(const struct lv_lapic *apic)
{
	int irr = lv_apic_highest_bit(apic->regs, REG(APIC_IRR));
	u32 tpr_class = (lv_apic_reg(apic, APIC_TASKPRI) & 0xf0) >> 4;
	u32 irr_class;
	int isr;

	/* Every entry asks: the ISR is scanned only when the IRR is not empty. */
	if (irr < 0 || !lv_apic_hw_enabled(apic))
		return 0;
	irr_class = irr >> 4;
	if (irr_class > tpr_class)
		return 0;
	isr = lv_apic_highest_bit(apic->regs, REG(APIC_ISR));
	if (isr >= 0 && irr_class <= (u32)isr >> 4)
		return 0;
	return irr_class;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_tpr_threshold);

/* The processor took @vector: it moves from IRR to ISR. */
void lv_lapic_accept_vector(struct lv_lapic *apic, int vector)
{
	lv_vec_set(apic, APIC_IRR, vector, false);
	lv_vec_set(apic, APIC_ISR, vector, true);
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_accept_vector);

/**
 * lv_lapic_set_irr() - accept a fixed interrupt into IRR
 * @apic: the APIC
 * @vector: the vector
 * @level: level triggered (its EOI goes back to the I/O APIC)
 *
 * Return: true if accepted; false if discarded (APIC disabled, illegal
 * vector) or merged into one already pending.
 */
bool lv_lapic_set_irr(struct lv_lapic *apic, int vector, bool level)
{
	if (!lv_apic_hw_enabled(apic) || !lv_apic_sw_enabled(apic))
		return false;
	if (vector < 16) {
		apic->esr_pending |= APIC_ESR_RECVILL;
		return false;
	}
	lv_vec_set(apic, APIC_TMR, vector, level);
	if (lv_vec_test(apic, APIC_IRR, vector))
		return false;
	lv_vec_set(apic, APIC_IRR, vector, true);
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_set_irr);

/**
 * lv_lapic_eoi() - end the highest-priority interrupt in service
 * @apic: the APIC
 * @level: set if it was level triggered
 *
 * Return: its vector, or -1 when nothing is in service.
 */
int lv_lapic_eoi(struct lv_lapic *apic, bool *level)
{
	int v = lv_apic_highest_bit(apic->regs, REG(APIC_ISR));

	*level = false;
	if (v < 0)
		return -1;
	lv_vec_set(apic, APIC_ISR, v, false);
	*level = lv_vec_test(apic, APIC_TMR, v);
	return v;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_eoi);

/* Logical destination of an xAPIC (SDM 11.6.2.2): flat or cluster model. */
static bool lv_xapic_match_logical(const struct lv_lapic *apic, u8 mda)
{
	u8 ldr = lv_apic_reg(apic, APIC_LDR) >> 24;

	if (mda == 0xff)
		return true;
	if ((lv_apic_reg(apic, APIC_DFR) >> 28) == 0xf)
		return ldr & mda;
	return (ldr >> 4) == (mda >> 4) && (ldr & mda & 0xf);
}

/* x2APIC logical destination: cluster in bits 31:16, member mask below. */
static bool lv_x2apic_match_logical(const struct lv_lapic *apic, u32 mda)
{
	u32 ldr = lv_apic_reg(apic, APIC_LDR);

	if (mda == 0xffffffff)
		return true;
	return (ldr >> 16) == (mda >> 16) && (ldr & mda & 0xffff);
}

/**
 * lv_lapic_match_dest() - does an interrupt message target this APIC?
 * @apic: the candidate
 * @irq: the message
 * @source: the sending APIC for IPIs, NULL for devices
 *
 * Destination shorthands first, then physical or logical destinations
 * as the candidate's own mode (xAPIC or x2APIC) reads them. Device
 * messages carry 8-bit destinations, so 0xff is their broadcast in
 * both modes.
 */
bool lv_lapic_match_dest(const struct lv_lapic *apic, const struct lv_apic_irq *irq,
			 const struct lv_lapic *source)
{
	bool x2 = lv_apic_x2apic(apic);
	bool short_dest = !source || !lv_apic_x2apic(source);

	if (!lv_apic_hw_enabled(apic))
		return false;
	switch (irq->shorthand) {
	case APIC_DEST_SELF >> 18:
		return apic == source;
	case APIC_DEST_ALLINC >> 18:
		return true;
	case APIC_DEST_ALLBUT >> 18:
		return apic != source;
	}
	if (!irq->logical) {
		if (irq->dest == (short_dest ? 0xff : 0xffffffff))
			return true;
		return irq->dest == lv_apic_id(apic);
	}
	if (x2)
		return lv_x2apic_match_logical(apic, short_dest && irq->dest == 0xff ?
					       0xffffffff : irq->dest);
	return lv_xapic_match_logical(apic, irq->dest);
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_match_dest);

/* TDCR bits 3, 1:0 encode a divisor of 2..128, or 1 (SDM 11.5.4). */
u32 lv_lapic_timer_divisor(u32 tdcr)
{
	u32 v = (tdcr & 3) | ((tdcr & 8) >> 1);

	return 1U << ((v + 1) & 7);
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_timer_divisor);

static void lv_lapic_reset_regs(struct lv_lapic *apic)
{
	u32 id = lv_apic_reg(apic, APIC_ID);
	int i;

	memset(apic->regs, 0, sizeof(apic->regs));
	apic->regs[REG(APIC_ID)] = id;
	apic->regs[REG(APIC_LVR)] = LV_APIC_VERSION | (LV_APIC_MAX_LVT << 16);
	apic->regs[REG(APIC_DFR)] = 0xffffffff;
	apic->regs[REG(APIC_SPIV)] = 0xff;
	for (i = 0; i < ARRAY_SIZE(lv_lvt_regs); i++)
		apic->regs[REG(lv_lvt_regs[i].off)] = APIC_LVT_MASKED;
	apic->esr_pending = 0;
	apic->tsc_deadline = 0;
	apic->hv_timer = false;
	apic->timer_period = 0;
	apic->vapic_tmr_dirty = true;
	lv_vapic_mark_dirty(apic);
}

/**
 * lv_lapic_reset() - power-up / INIT state (SDM 11.4.7.1)
 * @apic: the APIC
 * @bsp: it belongs to the bootstrap processor
 *
 * With no firmware to program it, the BSP's LINT0 is set to ExtINT
 * (virtual-wire mode), as a PC BIOS leaves it, so the PICs reach it.
 */
void lv_lapic_reset(struct lv_lapic *apic, bool bsp)
{
	lv_lapic_reset_regs(apic);
	if (bsp)
		apic->regs[REG(APIC_LVT0)] = APIC_DM_EXTINT;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_reset);

static enum hrtimer_restart lv_lapic_timer_fn(struct hrtimer *t);

/* Set up an APIC for @vcpu with APIC id @id, in its reset state. */
void lv_lapic_init(struct lv_lapic *apic, struct lv_vcpu *vcpu, u32 id)
{
	memset(apic, 0, sizeof(*apic));
	spin_lock_init(&apic->lock);
	apic->vcpu = vcpu;
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	apic->timer.function = lv_lapic_timer_fn;
	apic->regs[REG(APIC_ID)] = id << 24;
	apic->base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
		     (id ? 0 : MSR_IA32_APICBASE_BSP);
	lv_lapic_reset(apic, !id);
	/* Only the BSP runs at power-up; the others wait for INIT-SIPI. */
	apic->wait_for_sipi = id != 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_init);

/* --- side effects: kicks, IPIs, EOIs to the I/O APIC --- */

static void lv_lapic_kick(struct lv_lapic *apic)
{
	if (apic->vcpu)
		lv_vcpu_kick_event(apic->vcpu);
}

/* The guest TSC now. */
static u64 lv_lapic_guest_tsc(const struct lv_lapic *apic)
{
	return rdtsc() + READ_ONCE(apic->tsc_offset);
}

/* The timer expired: the LVT entry's interrupt, unless masked. */
static bool lv_lapic_timer_expired(struct lv_lapic *apic)
{
	u32 lvtt = lv_apic_reg(apic, APIC_LVTT);

	apic->timer_fired++;
	if (lvtt & APIC_LVT_MASKED)
		return false;
	return lv_lapic_set_irr(apic, lvtt & 0xff, false);
}

static enum hrtimer_restart lv_lapic_timer_fn(struct hrtimer *t)
{
	struct lv_lapic *apic = container_of(t, struct lv_lapic, timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	unsigned long flags;
	bool kick = false;

	spin_lock_irqsave(&apic->lock, flags);
	if (lv_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE) {
		u64 now = lv_lapic_guest_tsc(apic);

		if (!apic->tsc_deadline)
			goto out;
		/* Clocks differ slightly: never deliver before the deadline. */
		if (now < apic->tsc_deadline) {
			u64 ns = DIV_ROUND_UP_ULL((apic->tsc_deadline - now) *
						  1000000ULL, tsc_khz) + 1;

			hrtimer_forward_now(t, ns_to_ktime(ns));
			ret = HRTIMER_RESTART;
			goto out;
		}
		apic->tsc_deadline = 0;
		kick = lv_lapic_timer_expired(apic);
		goto out;
	}
	kick = lv_lapic_timer_expired(apic);
	if (apic->timer_period) {
		/*
		 * Next expiry counts from this one's, not from now: no drift.
		 * Expiries the host missed are skipped, not delivered in a
		 * burst (the APIC would have merged them in IRR anyway).
		 */
		hrtimer_forward(t, hrtimer_cb_get_time(t),
				ns_to_ktime(apic->timer_period));
		apic->timer_start = ktime_sub_ns(hrtimer_get_expires(t),
						 apic->timer_period);
		ret = HRTIMER_RESTART;
	}
out:
	spin_unlock_irqrestore(&apic->lock, flags);
	if (kick)
		lv_lapic_kick(apic);
	return ret;
}

void lv_lapic_timer_cancel(struct lv_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
}

/* Start one-shot or periodic counting from TMICT; lock held. */
static void lv_lapic_start_count(struct lv_lapic *apic)
{
	u32 count = lv_apic_reg(apic, APIC_TMICT);
	u64 ns;

	hrtimer_try_to_cancel(&apic->timer);
	apic->timer_period = 0;
	if (!count)
		return;
	ns = (u64)count * lv_lapic_timer_divisor(lv_apic_reg(apic, APIC_TDCR)) *
	     (1000000 / LV_APIC_BUS_KHZ);
	if (lv_timer_mode(apic) == APIC_LVT_TIMER_PERIODIC)
		apic->timer_period = max_t(u64, ns, LV_APIC_MIN_PERIOD_NS);
	apic->timer_start = ktime_get();
	hrtimer_start(&apic->timer, ktime_add_ns(apic->timer_start, ns),
		      HRTIMER_MODE_ABS_HARD);
}

/*
 * Arm the TSC-deadline timer; lock held. Returns true if it fired now.
 * With @hv (the vCPU's own WRMSR, a backend with a preemption timer) the
 * entries watch the deadline: no host timer interrupt, which would cost
 * an external-interrupt exit and the hrtimer machinery at expiry.
 */
static bool lv_lapic_start_deadline(struct lv_lapic *apic, bool hv)
{
	u64 now = lv_lapic_guest_tsc(apic);
	u64 ns;

	hrtimer_try_to_cancel(&apic->timer);
	apic->hv_timer = false;
	if (!apic->tsc_deadline ||
	    lv_timer_mode(apic) != APIC_LVT_TIMER_TSCDEADLINE)
		return false;
	if (apic->tsc_deadline <= now) {
		apic->tsc_deadline = 0;
		return lv_lapic_timer_expired(apic);
	}
	if (hv) {
		apic->hv_timer = true;
		return false;
	}
	ns = DIV_ROUND_UP_ULL(min(apic->tsc_deadline - now, 1ULL << 40) *
			      1000000ULL, tsc_khz);
	hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns),
		      HRTIMER_MODE_ABS_HARD);
	return false;
}

/**
 * lv_lapic_hv_timer_left() - how long the next entry may run
 * @apic: the APIC of the vCPU about to enter (its own thread)
 *
 * Return: guest TSC ticks until the TSC deadline the entries watch (0 if
 * it has passed), or U64_MAX if they watch none.
 */
u64 lv_lapic_hv_timer_left(struct lv_lapic *apic)
{
	u64 deadline, now;

	if (!READ_ONCE(apic->hv_timer))
		return U64_MAX;
	deadline = READ_ONCE(apic->tsc_deadline);
	if (!deadline)
		return U64_MAX;
	now = lv_lapic_guest_tsc(apic);
	return deadline > now ? deadline - now : 0;
}

/**
 * lv_lapic_hv_timer_expired() - the backend's timer for the deadline ran out
 * @apic: the APIC, in its vCPU's exit handler
 *
 * The timer interrupt if the deadline has really passed (the backend's
 * timer counts coarser than the TSC); else the next entry waits again.
 * No kick: the vCPU's loop injects before its next entry.
 */
void lv_lapic_hv_timer_expired(struct lv_lapic *apic)
{
	unsigned long flags;

	if (!READ_ONCE(apic->hv_timer))
		return;
	spin_lock_irqsave(&apic->lock, flags);
	if (apic->hv_timer && apic->tsc_deadline &&
	    lv_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE &&
	    lv_lapic_guest_tsc(apic) >= apic->tsc_deadline) {
		apic->hv_timer = false;
		apic->tsc_deadline = 0;
		lv_lapic_timer_expired(apic);
	}
	spin_unlock_irqrestore(&apic->lock, flags);
}

/**
 * lv_lapic_timer_to_hrtimer() - the vCPU stops entering for a while
 * @apic: the APIC, from its vCPU's thread (before it sleeps in HLT or
 *	returns to userspace)
 *
 * A deadline the entries watched goes to the hrtimer, so that it wakes a
 * halted vCPU and shows in the APIC's state while userspace has it.
 */
void lv_lapic_timer_to_hrtimer(struct lv_lapic *apic)
{
	unsigned long flags;
	bool kick = false;

	if (!READ_ONCE(apic->hv_timer))
		return;
	spin_lock_irqsave(&apic->lock, flags);
	if (apic->hv_timer)
		kick = lv_lapic_start_deadline(apic, false);
	spin_unlock_irqrestore(&apic->lock, flags);
	if (kick)
		lv_lapic_kick(apic);
}

/* TMCCT: what is left of the count; lock held. */
static u32 lv_lapic_current_count(const struct lv_lapic *apic)
{
	u32 div = lv_lapic_timer_divisor(lv_apic_reg(apic, APIC_TDCR));
	u64 total = (u64)lv_apic_reg(apic, APIC_TMICT) * div;
	s64 elapsed;
	u64 left;

	if (!total || lv_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
		return 0;
	elapsed = ktime_to_ns(ktime_sub(ktime_get(), apic->timer_start));
	if (elapsed < 0)
		elapsed = 0;
	if (apic->timer_period) {
		u64 rem;

		div64_u64_rem(elapsed, apic->timer_period, &rem);
		left = min(apic->timer_period - rem, total);
	} else {
		if (!hrtimer_active(&apic->timer) || elapsed >= total)
			return 0;
		left = total - elapsed;
	}
	return div_u64(left, div);
}

static void lv_lapic_send_ipi(struct lv_lapic *apic, u32 low, u32 high)
{
	struct lv_apic_irq irq = {
		.vector = low & 0xff,
		.delivery_mode = (low >> 8) & 7,
		.logical = low & APIC_ICR_LOGICAL,
		.level = low & APIC_ICR_LEVEL_TRIG,
		.assert = low & APIC_ICR_LEVEL_ASSERT,
		.shorthand = (low >> 18) & 3,
		.dest = lv_apic_x2apic(apic) ? high : high >> 24,
	};

	/* INIT level de-assert only synchronised arbitration ids: a no-op. */
	if (irq.delivery_mode == APIC_DELIVERY_MODE_INIT && irq.level &&
	    !irq.assert)
		return;
	if (apic->vcpu)
		lv_irq_deliver(apic->vcpu->vm, &irq, apic);
}

static void lv_lapic_eoi_side_effects(struct lv_lapic *apic, int vector,
				      bool level)
{
	if (vector >= 0 && level && apic->vcpu)
		lv_irqchip_eoi(apic->vcpu->vm, vector);
}

/* --- register access --- */

/* Read a 32-bit register at xAPIC offset @off; lock held. */
static int __lv_lapic_read(struct lv_lapic *apic, unsigned int off, u32 *val)
{
	bool x2 = lv_apic_x2apic(apic);

	switch (off) {
	case APIC_ID:
	case APIC_LVR:
	case APIC_TASKPRI:
	case APIC_LDR:
	case APIC_SPIV:
	case APIC_ESR:
	case APIC_ICR:
	case APIC_TMICT:
	case APIC_TDCR:
	case APIC_ISR ... APIC_ISR + 0x70:
	case APIC_TMR ... APIC_TMR + 0x70:
	case APIC_IRR ... APIC_IRR + 0x70:
		*val = apic->regs[REG(off)];
		return 0;
	case APIC_DFR:
	case APIC_ICR2:
		if (x2)
			return -EINVAL;
		*val = apic->regs[REG(off)];
		return 0;
	case APIC_PROCPRI:
		*val = lv_lapic_ppr(apic);
		return 0;
	case APIC_TMCCT:
		*val = lv_lapic_current_count(apic);
		return 0;
	case APIC_ARBPRI:
	case APIC_RRR:
	case APIC_EOI:
		if (x2)
			return -EINVAL;
		*val = 0;
		return 0;
	}
	if (lv_lvt_index(off) >= 0) {
		*val = apic->regs[REG(off)];
		return 0;
	}
	return -EINVAL;
}

/**
 * lv_lapic_read() - read an APIC register
 * @apic: the APIC
 * @off: xAPIC offset, 16-byte aligned
 * @val: the value
 *
 * Return: 0, or -EINVAL for a register that does not exist in the
 * APIC's current mode (x2APIC: #GP; xAPIC callers read 0 instead).
 */
int lv_lapic_read(struct lv_lapic *apic, unsigned int off, u32 *val)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&apic->lock, flags);
	ret = __lv_lapic_read(apic, off, val);
	spin_unlock_irqrestore(&apic->lock, flags);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_read);

/* After SVR clears the software enable, every LVT entry is masked. */
static void lv_lapic_write_svr(struct lv_lapic *apic, u32 val)
{
	int i;

	apic->regs[REG(APIC_SPIV)] = val & 0x3ff;
	if (val & APIC_SPIV_APIC_ENABLED)
		return;
	for (i = 0; i < ARRAY_SIZE(lv_lvt_regs); i++)
		apic->regs[REG(lv_lvt_regs[i].off)] |= APIC_LVT_MASKED;
}

static void lv_lapic_write_lvt(struct lv_lapic *apic, int i, u32 val)
{
	unsigned int off = lv_lvt_regs[i].off;
	u32 old_mode = lv_timer_mode(apic);

	val &= lv_lvt_regs[i].mask;
	if (!lv_apic_sw_enabled(apic))
		val |= APIC_LVT_MASKED;
	if (off == APIC_LVTT) {
		/* Mode 3 is reserved: treat it as one-shot. */
		if ((val & APIC_LVT_MODE_MASK) == APIC_LVT_MODE_MASK)
			val &= ~APIC_LVT_MODE_MASK;
		/* A mode change disarms the timer (SDM 11.5.4.1). */
		if ((val & APIC_LVT_MODE_MASK) != old_mode) {
			hrtimer_try_to_cancel(&apic->timer);
			apic->regs[REG(APIC_TMICT)] = 0;
			apic->timer_period = 0;
			apic->tsc_deadline = 0;
			apic->hv_timer = false;
		}
	}
	apic->regs[REG(off)] = val;
}

/* What a register write leaves to do once the lock is dropped. */
struct lv_lapic_after {
	bool kick;
	bool ipi;
	u32 icr_low, icr_high;
	int eoi_vector;
	bool eoi_level;
};

static int __lv_lapic_write(struct lv_lapic *apic, unsigned int off, u32 val,
			    struct lv_lapic_after *after)
{
	bool x2 = lv_apic_x2apic(apic);
	int i;

	switch (off) {
	case APIC_ID:
		if (x2)
			return -EINVAL;
		apic->regs[REG(APIC_ID)] = val & 0xff000000;
		return 0;
	case APIC_TASKPRI:
		apic->regs[REG(APIC_TASKPRI)] = val & 0xff;
		lv_vapic_mark_dirty(apic);
		after->kick = true;
		return 0;
	case APIC_EOI:
		if (x2 && val)
			return -EINVAL;
		/*
		 * No kick: only the vCPU's own exits write its APIC, and its
		 * run loop looks for what the lower priority lets through
		 * before the next entry anyway.
		 */
		after->eoi_vector = lv_lapic_eoi(apic, &after->eoi_level);
		return 0;
	case APIC_LDR:
		if (x2)
			return -EINVAL;
		apic->regs[REG(APIC_LDR)] = val & 0xff000000;
		return 0;
	case APIC_DFR:
		if (x2)
			return -EINVAL;
		apic->regs[REG(APIC_DFR)] = val | 0x0fffffff;
		return 0;
	case APIC_SPIV:
		lv_lapic_write_svr(apic, val);
		return 0;
	case APIC_ESR:
		if (x2 && val)
			return -EINVAL;
		apic->regs[REG(APIC_ESR)] = apic->esr_pending;
		apic->esr_pending = 0;
		return 0;
	case APIC_ICR:
		apic->regs[REG(APIC_ICR)] = val & ~APIC_ICR_BUSY_BIT;
		after->ipi = true;
		after->icr_low = val;
		after->icr_high = apic->regs[REG(APIC_ICR2)];
		return 0;
	case APIC_ICR2:
		if (x2)
			return -EINVAL;
		apic->regs[REG(APIC_ICR2)] = val & 0xff000000;
		return 0;
	case APIC_TMICT:
		if (lv_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
			return 0;
		apic->regs[REG(APIC_TMICT)] = val;
		lv_lapic_start_count(apic);
		return 0;
	case APIC_TDCR:
		apic->regs[REG(APIC_TDCR)] = val & 0xb;
		return 0;
	case APIC_SELF_IPI:
		if (!x2)
			return -EINVAL;
		after->kick = lv_lapic_set_irr(apic, val & 0xff, false);
		return 0;
	}
	i = lv_lvt_index(off);
	if (i >= 0) {
		lv_lapic_write_lvt(apic, i, val);
		return 0;
	}
	/* Read-only registers: ignored in xAPIC mode, #GP in x2APIC mode. */
	return x2 ? -EINVAL : 0;
}

static void lv_lapic_after_write(struct lv_lapic *apic,
				 const struct lv_lapic_after *after)
{
	if (after->ipi)
		lv_lapic_send_ipi(apic, after->icr_low, after->icr_high);
	lv_lapic_eoi_side_effects(apic, after->eoi_vector, after->eoi_level);
	if (after->kick)
		lv_lapic_kick(apic);
}

/**
 * lv_lapic_write() - write an APIC register
 * @apic: the APIC
 * @off: xAPIC offset, 16-byte aligned
 * @val: the value
 *
 * Return: 0, or -EINVAL for a register the current mode does not let
 * software write (x2APIC: #GP).
 */
int lv_lapic_write(struct lv_lapic *apic, unsigned int off, u32 val)
{
	struct lv_lapic_after after = { .eoi_vector = -1 };
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&apic->lock, flags);
	ret = __lv_lapic_write(apic, off, val, &after);
	spin_unlock_irqrestore(&apic->lock, flags);
	if (!ret)
		lv_lapic_after_write(apic, &after);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_write);

/* x2APIC: MSR 0x800 + n is the register at xAPIC offset n << 4. */
int lv_lapic_msr_read(struct lv_lapic *apic, u32 msr, u64 *val)
{
	unsigned long flags;
	u32 lo = 0;
	int ret;

	if (msr == MSR_IA32_TSC_DEADLINE) {
		*val = READ_ONCE(apic->tsc_deadline);
		return 0;
	}
	if (!lv_apic_x2apic(apic) || msr < LV_X2APIC_MSR_BASE ||
	    msr > LV_X2APIC_MSR_END || msr == LV_X2APIC_MSR_BASE + REG(APIC_SELF_IPI))
		return -EINVAL;
	spin_lock_irqsave(&apic->lock, flags);
	ret = __lv_lapic_read(apic, (msr - LV_X2APIC_MSR_BASE) << 4, &lo);
	*val = lo;
	if (msr == LV_X2APIC_MSR_BASE + REG(APIC_ICR))
		*val |= (u64)apic->regs[REG(APIC_ICR2)] << 32;
	spin_unlock_irqrestore(&apic->lock, flags);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_msr_read);

static int lv_lapic_set_deadline(struct lv_lapic *apic, u64 val)
{
	unsigned long flags;
	bool kick;

	spin_lock_irqsave(&apic->lock, flags);
	/* Outside TSC-deadline mode the MSR ignores writes (SDM 11.5.4.1). */
	if (lv_timer_mode(apic) != APIC_LVT_TIMER_TSCDEADLINE) {
		spin_unlock_irqrestore(&apic->lock, flags);
		return 0;
	}
	apic->tsc_deadline = val;
	kick = lv_lapic_start_deadline(apic, apic->vcpu && lv_caps.hv_timer);
	spin_unlock_irqrestore(&apic->lock, flags);
	if (kick)
		lv_lapic_kick(apic);
	return 0;
}

int lv_lapic_msr_write(struct lv_lapic *apic, u32 msr, u64 val)
{
	struct lv_lapic_after after = { .eoi_vector = -1 };
	unsigned int off = (msr - LV_X2APIC_MSR_BASE) << 4;
	unsigned long flags;
	int ret;

	if (msr == MSR_IA32_TSC_DEADLINE)
		return lv_lapic_set_deadline(apic, val);
	if (!lv_apic_x2apic(apic) || msr < LV_X2APIC_MSR_BASE ||
	    msr > LV_X2APIC_MSR_END)
		return -EINVAL;
	/* Only the ICR is 64 bits wide; other upper halves are reserved. */
	if (off != APIC_ICR && val >> 32)
		return -EINVAL;
	spin_lock_irqsave(&apic->lock, flags);
	if (off == APIC_ICR)
		apic->regs[REG(APIC_ICR2)] = val >> 32;
	ret = off == APIC_ICR2 ? -EINVAL : __lv_lapic_write(apic, off, val, &after);
	spin_unlock_irqrestore(&apic->lock, flags);
	if (!ret)
		lv_lapic_after_write(apic, &after);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_msr_write);

/**
 * lv_lapic_x2apic_eoi() - the guest writes the x2APIC EOI register
 * @apic: the APIC
 * @val: the value written
 *
 * The same as lv_lapic_msr_write() of MSR 0x80b, without its dispatch:
 * the WRMSR an interrupt handler always makes, handled before the MSR
 * switch.
 *
 * Return: 0, or -EINVAL (#GP): not in x2APIC mode, or a non-zero value.
 */
int lv_lapic_x2apic_eoi(struct lv_lapic *apic, u64 val)
{
	unsigned long flags;
	bool level;
	int vector;

	if (!lv_apic_x2apic(apic) || val)
		return -EINVAL;
	spin_lock_irqsave(&apic->lock, flags);
	vector = lv_lapic_eoi(apic, &level);
	spin_unlock_irqrestore(&apic->lock, flags);
	lv_lapic_eoi_side_effects(apic, vector, level);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_x2apic_eoi);

/* --- virtual-interrupt delivery (a virtual-APIC page, xAPIC layout) --- */

static u32 *lv_vapic_reg(void *page, unsigned int off)
{
	return page + off;
}

/**
 * lv_lapic_vapic_enter() - hand IRR, ISR and TPR to a virtual-APIC page
 * @apic: the APIC
 * @page: the page the CPU's virtual-interrupt delivery works on
 * @tmr: out: the TMR, for the EOI-exit bitmap (level-triggered vectors
 *	must exit on EOI: the I/O APIC wants to know), if it changed
 * @tmr_changed: out: whether @tmr was filled
 *
 * Right before an entry, interrupts off, when lv_lapic_vapic_dirty()
 * says the page is behind: else the page, and the RVI and SVI the CPU
 * left in the VMCS, are still right (the sender of an interrupt marks
 * the APIC dirty under its lock before it kicks the vCPU). While the
 * guest runs the CPU delivers from the page's IRR, ends interrupts in
 * its ISR and moves its TPR without exits. The IRR is moved, not
 * copied: what arrives while the guest runs lands in the (empty) APIC
 * IRR and kicks the vCPU, and lv_lapic_vapic_exit() merges the two. A
 * vector delivered in the guest and sent again meanwhile is thus pending
 * again afterwards, as on a CPU.
 *
 * Return: the guest interrupt status: SVI (highest ISR vector) in bits
 * 15:8, RVI (highest IRR vector) in bits 7:0.
 */
u16 lv_lapic_vapic_enter(struct lv_lapic *apic, void *page, u64 tmr[4],
			 bool *tmr_changed)
{
	unsigned long flags;
	u16 rvi = 0, svi = 0;
	int i;

	spin_lock_irqsave(&apic->lock, flags);
	/* Cleared before the copy: a change marked after it is not lost. */
	WRITE_ONCE(apic->vapic_dirty, false);
	for (i = 0; i < 8; i++) {
		u32 irr = apic->regs[REG(APIC_IRR) + i];
		u32 isr = apic->regs[REG(APIC_ISR) + i];

		*lv_vapic_reg(page, APIC_IRR + i * 16) = irr;
		*lv_vapic_reg(page, APIC_ISR + i * 16) = isr;
		apic->vapic_irr[i] = irr;
		apic->vapic_isr[i] = isr;
		apic->regs[REG(APIC_IRR) + i] = 0;
		if (irr)
			rvi = i * 32 + __fls(irr);
		if (isr)
			svi = i * 32 + __fls(isr);
	}
	*tmr_changed = apic->vapic_tmr_dirty;
	apic->vapic_tmr_dirty = false;
	for (i = 0; *tmr_changed && i < 4; i++)
		tmr[i] = (u64)apic->regs[REG(APIC_TMR) + 2 * i + 1] << 32 |
			 apic->regs[REG(APIC_TMR) + 2 * i];
	apic->vapic_tpr = lv_apic_reg(apic, APIC_TASKPRI) & 0xff;
	*lv_vapic_reg(page, APIC_TASKPRI) = apic->vapic_tpr;
	spin_unlock_irqrestore(&apic->lock, flags);
	return svi << 8 | rvi;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_vapic_enter);

/**
 * lv_lapic_vapic_exit() - take IRR, ISR and TPR back from the page
 * @apic: the APIC
 * @page: the page given to lv_lapic_vapic_enter()
 * @words: how many of the eight IRR and ISR words can have moved: those
 *	up to the highest RVI and SVI at the entry and at the exit (above
 *	them the page and the APIC hold zeros; arrivals meanwhile stay in the
 *	APIC, which they marked dirty); 8 for all
 *
 * Right after the exit (or a failed entry), before anything reads the
 * APIC, unless lv_lapic_vapic_unchanged() says the APIC still agrees with
 * the page. The page's IRR joins what arrived meanwhile; its ISR and TPR
 * are the guest's. A vector the guest sent itself (virtualized self-IPI)
 * is edge triggered; vectors 0-15 cannot be pending. Vectors still
 * pending in the page, or a TMR changed here, go back at the next entry.
 */
void lv_lapic_vapic_exit(struct lv_lapic *apic, const void *page,
			 unsigned int words)
{
	unsigned long flags;
	u32 left = 0;
	unsigned int i;

	spin_lock_irqsave(&apic->lock, flags);
	for (i = 0; i < min(words, 8U); i++) {
		u32 irr = *lv_vapic_reg((void *)page, APIC_IRR + i * 16);
		u32 isr = *lv_vapic_reg((void *)page, APIC_ISR + i * 16);

		if (irr | apic->vapic_irr[i]) {
			u32 added = irr & ~apic->vapic_irr[i] &
				    ~apic->regs[REG(APIC_IRR) + i];

			/* A new TMR goes to the EOI-exit bitmap at entry. */
			if (added & apic->regs[REG(APIC_TMR) + i]) {
				apic->regs[REG(APIC_TMR) + i] &= ~added;
				apic->vapic_tmr_dirty = true;
				left = 1;
			}
			apic->regs[REG(APIC_IRR) + i] |= irr;
			apic->vapic_irr[i] = irr;
			left |= irr;
		}
		apic->regs[REG(APIC_ISR) + i] = isr;
		apic->vapic_isr[i] = isr;
	}
	apic->regs[REG(APIC_IRR)] &= ~0xffffU;
	apic->regs[REG(APIC_ISR)] &= ~0xffffU;
	apic->vapic_tpr = *lv_vapic_reg((void *)page, APIC_TASKPRI) & 0xff;
	apic->regs[REG(APIC_TASKPRI)] = apic->vapic_tpr;
	if (left)
		lv_vapic_mark_dirty(apic);
	spin_unlock_irqrestore(&apic->lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_vapic_exit);

/**
 * lv_lapic_vapic_new_in_service() - did the CPU deliver @vector in the guest?
 * @apic: the APIC
 * @vector: a vector in service in the page (SVI)
 *
 * Right after an exit, before lv_lapic_vapic_exit(): true if @vector was
 * not in service when the page was handed over, so that the CPU delivered
 * it during this stay.
 */
bool lv_lapic_vapic_new_in_service(const struct lv_lapic *apic, int vector)
{
	return !(apic->vapic_isr[vector / 32] & BIT(vector % 32));
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_vapic_new_in_service);

/**
 * lv_lapic_vapic_take_dirty() - test and clear the dirty mark
 * @apic: the APIC
 *
 * Return: true if IRR, ISR, TMR or TPR changed since the virtual-APIC
 * page (or the TPR shadow's threshold) was last brought up to date.
 */
bool lv_lapic_vapic_take_dirty(struct lv_lapic *apic)
{
	/* A full barrier: a change marked after it is seen at the next entry. */
	return xchg(&apic->vapic_dirty, false);
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_vapic_take_dirty);

/*
 * The page, and the EOI-exit bitmap, are to be filled again (virtual-
 * interrupt delivery turned on or off, the VMCS set up anew).
 */
void lv_lapic_vapic_invalidate(struct lv_lapic *apic)
{
	unsigned long flags;

	spin_lock_irqsave(&apic->lock, flags);
	apic->vapic_tmr_dirty = true;
	lv_vapic_mark_dirty(apic);
	spin_unlock_irqrestore(&apic->lock, flags);
}

/*
 * The CPU ended @vector in the guest (EOI virtualization) and exited
 * because the EOI-exit bitmap marks it level triggered: tell the I/O APIC.
 */
void lv_lapic_level_eoi(struct lv_lapic *apic, int vector)
{
	lv_lapic_eoi_side_effects(apic, vector, true);
}

/* --- IA32_APIC_BASE (SDM 11.12.5) --- */

u64 lv_lapic_get_base(struct lv_lapic *apic)
{
	return READ_ONCE(apic->base);
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_get_base);

/**
 * lv_lapic_set_base() - write IA32_APIC_BASE
 * @apic: the APIC
 * @base: the new value
 * @from_user: userspace restores state: any valid mode may be set
 *	directly, and the BSP flag with it
 *
 * The value is checked by lv_apic_base_check(), the same rules as
 * without an irqchip (this APIC has x2APIC mode): the guest moves only
 * along the SDM's transitions, EXTD without EN is invalid, reserved bits
 * and bits beyond MAXPHYADDR #GP. The guest cannot change the BSP flag.
 *
 * Return: 0, or -EINVAL (#GP).
 */
int lv_lapic_set_base(struct lv_lapic *apic, u64 base, bool from_user)
{
	enum lv_apic_mode old, new;
	unsigned long flags;
	u32 id;

	spin_lock_irqsave(&apic->lock, flags);
	if (lv_apic_base_check(apic->base, base, true, from_user)) {
		spin_unlock_irqrestore(&apic->lock, flags);
		return -EINVAL;
	}
	if (!from_user)
		base = (base & ~MSR_IA32_APICBASE_BSP) |
		       (apic->base & MSR_IA32_APICBASE_BSP);
	old = lv_apic_mode(apic->base);
	new = lv_apic_mode(base);
	id = apic->vcpu ? apic->vcpu->id : lv_apic_id(apic);
	apic->base = base;
	if (old != new) {
		if (new == LV_APIC_DISABLED) {
			/* Hardware disable loses the APIC's state. */
			hrtimer_try_to_cancel(&apic->timer);
			apic->regs[REG(APIC_ID)] = id << 24;
			lv_lapic_reset_regs(apic);
		} else if (new == LV_APIC_X2APIC) {
			apic->regs[REG(APIC_ID)] = id;
			apic->regs[REG(APIC_LDR)] = ((id >> 4) << 16) | BIT(id & 0xf);
		} else {
			apic->regs[REG(APIC_ID)] = id << 24;
		}
	}
	spin_unlock_irqrestore(&apic->lock, flags);
	if (apic->vcpu)
		lv_apic_access_base_changed(apic->vcpu, base);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_set_base);

/* CR8 is TPR[7:4] (SDM 11.8.6). */
void lv_lapic_set_tpr(struct lv_lapic *apic, u32 tpr)
{
	unsigned long flags;

	spin_lock_irqsave(&apic->lock, flags);
	apic->regs[REG(APIC_TASKPRI)] = tpr & 0xff;
	lv_vapic_mark_dirty(apic);
	spin_unlock_irqrestore(&apic->lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_set_tpr);

u32 lv_lapic_get_tpr(struct lv_lapic *apic)
{
	return READ_ONCE(apic->regs[REG(APIC_TASKPRI)]);
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_get_tpr);

/* --- delivery --- */

/**
 * lv_lapic_deliver() - an interrupt message reached this APIC
 * @apic: the target
 * @irq: the message (destination already matched)
 *
 * Return: true if it was accepted (a fixed vector already pending merges
 * and counts as accepted).
 */
bool lv_lapic_deliver(struct lv_lapic *apic, const struct lv_apic_irq *irq)
{
	unsigned long flags;
	bool ok = true;

	spin_lock_irqsave(&apic->lock, flags);
	switch (irq->delivery_mode) {
	case APIC_DELIVERY_MODE_FIXED:
	case APIC_DELIVERY_MODE_LOWESTPRIO:
		ok = lv_apic_sw_enabled(apic) && irq->vector >= 16;
		lv_lapic_set_irr(apic, irq->vector, irq->level);
		break;
	case APIC_DELIVERY_MODE_NMI:
		if (apic->vcpu)
			WRITE_ONCE(apic->vcpu->pending_nmi, true);
		break;
	case APIC_DELIVERY_MODE_INIT:
		apic->pending_init = true;
		apic->pending_sipi = 0;
		break;
	case APIC_DM_STARTUP_MODE:
		/* A SIPI counts only while the processor waits for one. */
		if (apic->wait_for_sipi || apic->pending_init)
			apic->pending_sipi = irq->vector + 1;
		else
			ok = false;
		break;
	default:
		ok = false;		/* SMI, ExtINT messages: not modelled */
	}
	spin_unlock_irqrestore(&apic->lock, flags);
	if (ok)
		lv_lapic_kick(apic);
	return ok;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_deliver);

/**
 * lv_lapic_get_interrupt() - acknowledge the next interrupt for injection
 * @apic: the APIC
 *
 * Return: the vector now in service, or -1.
 */
int lv_lapic_get_interrupt(struct lv_lapic *apic)
{
	unsigned long flags;
	int v;

	/*
	 * A lockless look first (every entry comes here): whoever sets an
	 * IRR bit afterwards kicks the vCPU, which then looks again.
	 */
	if (lv_lapic_pending_vector(apic) < 0)
		return -1;
	spin_lock_irqsave(&apic->lock, flags);
	v = lv_lapic_pending_vector(apic);
	if (v >= 0)
		lv_lapic_accept_vector(apic, v);
	spin_unlock_irqrestore(&apic->lock, flags);
	return v;
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_get_interrupt);

bool lv_lapic_has_interrupt(struct lv_lapic *apic)
{
	return lv_lapic_pending_vector(apic) >= 0;
}

/* INTR from the PICs reaches the core through LINT0 in ExtINT mode. */
bool lv_lapic_accepts_extint(struct lv_lapic *apic)
{
	u32 lvt0 = READ_ONCE(apic->regs[REG(APIC_LVT0)]);

	if (!lv_apic_hw_enabled(apic))
		return true;
	return !(lvt0 & APIC_LVT_MASKED) &&
	       ((lvt0 >> 8) & 7) == APIC_DELIVERY_MODE_EXTINT;
}

/* One-shot/periodic: ns to the next expiry, 0 if not counting; lock held. */
u64 lv_lapic_timer_remaining(struct lv_lapic *apic)
{
	if (lv_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE ||
	    !hrtimer_active(&apic->timer))
		return 0;
	return max_t(s64, 1, ktime_to_ns(hrtimer_get_remaining(&apic->timer)));
}

/**
 * lv_lapic_restore() - load saved registers and restart the timer
 * @apic: the APIC (its IA32_APIC_BASE already set)
 * @regs: the register page of struct lv_lapic_state
 * @tsc_deadline: IA32_TSC_DEADLINE
 * @remaining: one-shot/periodic: ns to the next expiry, 0 if stopped
 *
 * Every register goes through its write mask; PPR, the current count and
 * the version are not taken from @regs.
 */
void lv_lapic_restore(struct lv_lapic *apic, const u32 *regs, u64 tsc_deadline,
		      u64 remaining)
{
	unsigned long flags;
	bool kick = false;
	int i;

	hrtimer_cancel(&apic->timer);
	spin_lock_irqsave(&apic->lock, flags);
	if (!lv_apic_x2apic(apic)) {
		apic->regs[REG(APIC_ID)] = regs[REG(APIC_ID)] & 0xff000000;
		apic->regs[REG(APIC_LDR)] = regs[REG(APIC_LDR)] & 0xff000000;
		apic->regs[REG(APIC_DFR)] = regs[REG(APIC_DFR)] | 0x0fffffff;
		apic->regs[REG(APIC_ICR2)] = regs[REG(APIC_ICR2)] & 0xff000000;
	} else {
		apic->regs[REG(APIC_ICR2)] = regs[REG(APIC_ICR2)];
	}
	apic->regs[REG(APIC_TASKPRI)] = regs[REG(APIC_TASKPRI)] & 0xff;
	apic->regs[REG(APIC_SPIV)] = regs[REG(APIC_SPIV)] & 0x3ff;
	apic->regs[REG(APIC_ESR)] = regs[REG(APIC_ESR)] & 0xef;
	apic->regs[REG(APIC_ICR)] = regs[REG(APIC_ICR)] & ~APIC_ICR_BUSY_BIT & 0xcfff;
	apic->regs[REG(APIC_TMICT)] = regs[REG(APIC_TMICT)];
	apic->regs[REG(APIC_TDCR)] = regs[REG(APIC_TDCR)] & 0xb;
	for (i = 0; i < 8; i++) {
		apic->regs[REG(APIC_ISR) + i] = regs[REG(APIC_ISR) + i];
		apic->regs[REG(APIC_TMR) + i] = regs[REG(APIC_TMR) + i];
		apic->regs[REG(APIC_IRR) + i] = regs[REG(APIC_IRR) + i];
	}
	/* Vectors 0-15 cannot be pending or in service. */
	apic->regs[REG(APIC_ISR)] &= ~0xffffU;
	apic->regs[REG(APIC_IRR)] &= ~0xffffU;
	apic->vapic_tmr_dirty = true;
	lv_vapic_mark_dirty(apic);
	for (i = 0; i < ARRAY_SIZE(lv_lvt_regs); i++) {
		u32 v = regs[REG(lv_lvt_regs[i].off)] & lv_lvt_regs[i].mask;

		if (lv_lvt_regs[i].off == APIC_LVTT &&
		    (v & APIC_LVT_MODE_MASK) == APIC_LVT_MODE_MASK)
			v &= ~APIC_LVT_MODE_MASK;
		apic->regs[REG(lv_lvt_regs[i].off)] = v;
	}
	apic->timer_period = 0;
	apic->tsc_deadline = tsc_deadline;
	if (lv_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE) {
		kick = lv_lapic_start_deadline(apic, false);
	} else if (remaining && apic->regs[REG(APIC_TMICT)]) {
		u64 total = (u64)apic->regs[REG(APIC_TMICT)] *
			    lv_lapic_timer_divisor(apic->regs[REG(APIC_TDCR)]);
		ktime_t expiry = ktime_add_ns(ktime_get(), remaining);

		if (lv_timer_mode(apic) == APIC_LVT_TIMER_PERIODIC)
			apic->timer_period = max_t(u64, total, LV_APIC_MIN_PERIOD_NS);
		apic->timer_start = ktime_sub_ns(expiry, apic->timer_period ?: total);
		hrtimer_start(&apic->timer, expiry, HRTIMER_MODE_ABS_HARD);
	}
	spin_unlock_irqrestore(&apic->lock, flags);
	if (kick)
		lv_lapic_kick(apic);
}

void lv_lapic_destroy(struct lv_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
}
EXPORT_SYMBOL_IF_KUNIT(lv_lapic_destroy);

/* --- messages to several APICs --- */

/**
 * lv_irq_deliver() - deliver an interrupt message
 * @vm: the VM
 * @irq: the message
 * @source: the sending APIC (IPIs) or NULL (devices)
 *
 * Lowest-priority messages go to the first matching APIC whose
 * software enable is set, in APIC-id order (the SDM leaves arbitration
 * to the implementation).
 *
 * Return: the number of APICs that accepted it.
 */
int lv_irq_deliver(struct lv_vm *vm, const struct lv_apic_irq *irq,
		   struct lv_lapic *source)
{
	bool lowest = irq->delivery_mode == APIC_DELIVERY_MODE_LOWESTPRIO &&
		      !irq->shorthand;
	struct lv_vcpu *vcpu;
	unsigned long i;
	int n = 0;

	xa_for_each(&vm->vcpus, i, vcpu) {
		struct lv_lapic *apic = vcpu->lapic;

		if (!apic || !lv_lapic_match_dest(apic, irq, source))
			continue;
		if (lowest && !lv_apic_sw_enabled(apic))
			continue;
		n += lv_lapic_deliver(apic, irq);
		if (lowest)
			break;
	}
	return n;
}

/**
 * lv_msi_decode() - an MSI's address and data as an interrupt message
 * @address: the address the device writes: 0xFEExxxxx (SDM 11.11.1)
 * @data: the data it writes (SDM 11.11.2)
 * @irq: filled in
 *
 * Return: 0, or -EINVAL for an address outside the interrupt range or a
 * reserved delivery mode (3, 6) or ExtINT (7).
 */
int lv_msi_decode(u64 address, u32 data, struct lv_apic_irq *irq)
{
	u8 dm = (data >> 8) & 7;

	if ((address >> 20) != 0xfee || data >> 16)
		return -EINVAL;
	if (dm == 3 || dm == 6 || dm == APIC_DELIVERY_MODE_EXTINT)
		return -EINVAL;
	*irq = (struct lv_apic_irq) {
		.dest = (address >> 12) & 0xff,
		.logical = address & BIT(2),
		.vector = data & 0xff,
		.delivery_mode = dm,
		.level = data & BIT(15),
		.assert = data & BIT(14),
	};
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_msi_decode);
