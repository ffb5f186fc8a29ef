/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel local APIC (vendor neutral): one per vCPU of a VM that
 * asked for an irqchip (LV_CREATE_IRQCHIP).
 */
#ifndef LV_IRQ_LAPIC_H
#define LV_IRQ_LAPIC_H

#include <linux/hrtimer.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <asm/apicdef.h>

struct lv_vcpu;
struct lv_vm;

/* Registers live at offset >> 4 of the 4 KiB page: 64 of them. */
#define LV_APIC_NR_REGS		64
#define LV_APIC_VERSION		0x14	/* integrated xAPIC */
#define LV_APIC_MAX_LVT		6	/* CMCI, timer, thermal, PMC, LINT0/1, error */
/* The timer counts APIC-bus clocks: 1 GHz, so one tick is 1 ns. */
#define LV_APIC_BUS_KHZ		1000000
/* A periodic timer faster than this would flood the host: it is slowed. */
#define LV_APIC_MIN_PERIOD_NS	50000

/* x2APIC MSRs are the xAPIC registers at 0x800 + (offset >> 4). */
#define LV_X2APIC_MSR_BASE	0x800
#define LV_X2APIC_MSR_END	0x8ff

/* Where an interrupt message goes (I/O APIC entries, MSIs, IPIs). */
struct lv_apic_irq {
	u32 dest;		/* APIC id, logical destination or broadcast */
	u8 vector;
	u8 delivery_mode;	/* APIC_DELIVERY_MODE_* */
	bool logical;		/* destination mode */
	bool level;		/* trigger mode: level */
	bool assert;		/* level: assert (INIT level de-assert = 0) */
	u8 shorthand;		/* APIC_DEST_SELF... >> 18, 0 for none */
};

/**
 * struct lv_lapic - a local APIC
 * @lock: everything below; taken with interrupts off (the timer fires in
 *	hard-interrupt context)
 * @vcpu: the vCPU it belongs to (NULL in KUnit tests)
 * @regs: the register page, one 32-bit word per 16-byte register
 * @base: IA32_APIC_BASE
 * @timer: the APIC timer
 * @timer_period: periodic mode: ns between expiries; 0 otherwise
 * @timer_start: when the current count was last loaded (one-shot and
 *	periodic: the count falls from TMICT from here)
 * @tsc_deadline: IA32_TSC_DEADLINE in guest TSC ticks, 0 if disarmed
 * @hv_timer: the deadline is watched by the vCPU's entries (the backend's
 *	VMX-preemption timer) instead of @timer: set only while the vCPU
 *	runs in LV_RUN, by its own thread
 * @tsc_offset: guest TSC = host TSC + this (kept up to date by the core)
 * @pending_init: an INIT arrived; the vCPU resets at its next entry
 * @pending_sipi: vector + 1 of a SIPI that arrived, or 0
 * @wait_for_sipi: the vCPU sleeps until a SIPI starts it
 * @esr_pending: errors since the last ESR write (ESR latches them)
 * @timer_fired: expiries since the APIC was created (statistics)
 * @vapic_irr: the IRR handed to the virtual-APIC page at the last entry
 *	(virtual-interrupt delivery), or taken back from it at the last exit
 * @vapic_isr: likewise the ISR: what the page holds unless the guest moved it
 * @vapic_tpr: likewise the TPR
 * @vapic_dirty: IRR, ISR, TMR or TPR changed here since the page got
 *	them: the next entry hands them over again (and recomputes the TPR
 *	threshold where only the TPR shadow is used)
 * @vapic_tmr_dirty: the TMR changed since the last hand-over (the
 *	EOI-exit bitmap follows it); under the lock
 */
struct lv_lapic {
	spinlock_t lock;
	struct lv_vcpu *vcpu;
	u32 regs[LV_APIC_NR_REGS];
	u64 base;
	struct hrtimer timer;
	u64 timer_period;
	ktime_t timer_start;
	u64 tsc_deadline;
	bool hv_timer;
	s64 tsc_offset;
	bool pending_init;
	u32 pending_sipi;
	bool wait_for_sipi;
	u32 esr_pending;
	u64 timer_fired;
	u32 vapic_irr[8];
	u32 vapic_isr[8];
	u32 vapic_tpr;
	bool vapic_dirty;
	bool vapic_tmr_dirty;
};

static inline u32 lv_apic_reg(const struct lv_lapic *apic, unsigned int off)
{
	return apic->regs[off >> 4];
}

/*
 * The APIC's IRR, ISR, TMR or TPR changed since a virtual-APIC page (or
 * the TPR shadow's threshold) got them: the next entry hands them over.
 */
static inline bool lv_lapic_vapic_dirty(const struct lv_lapic *apic)
{
	return READ_ONCE(apic->vapic_dirty);
}

/**
 * lv_lapic_vapic_unchanged() - did the guest leave the page as it got it?
 * @apic: the APIC
 * @page: the virtual-APIC page
 * @before: the guest interrupt status the CPU started from
 * @after: the guest interrupt status at the exit
 *
 * The CPU keeps RVI the highest vector of the page's IRR and SVI the
 * highest of its ISR. With RVI 0 at both ends the IRR was and is empty
 * (nothing below 16 pends); with the same SVI, no bit above it was or is
 * in service, so the ISR words up to SVI's tell the rest. Cheap enough
 * for every exit, and exact: the APIC then still holds what the page
 * holds, and lv_lapic_vapic_exit() is not needed.
 */
static inline bool lv_lapic_vapic_unchanged(const struct lv_lapic *apic,
					    const void *page, u16 before,
					    u16 after)
{
	unsigned int i, svi = after >> 8;

	if (before != after || (after & 0xff) ||
	    (*(const u32 *)(page + APIC_TASKPRI) & 0xff) != apic->vapic_tpr)
		return false;
	for (i = 0; svi && i <= svi / 32; i++)
		if (*(const u32 *)(page + APIC_ISR + i * 16) != apic->vapic_isr[i])
			return false;
	return true;
}

static inline bool lv_apic_x2apic(const struct lv_lapic *apic)
{
	return apic->base & X2APIC_ENABLE;
}

static inline bool lv_apic_hw_enabled(const struct lv_lapic *apic)
{
	return apic->base & MSR_IA32_APICBASE_ENABLE;
}

static inline bool lv_apic_sw_enabled(const struct lv_lapic *apic)
{
	return lv_apic_reg(apic, APIC_SPIV) & APIC_SPIV_APIC_ENABLED;
}

/* The APIC id as its interface shows it: 8 bits in xAPIC mode. */
static inline u32 lv_apic_id(const struct lv_lapic *apic)
{
	u32 id = lv_apic_reg(apic, APIC_ID);

	return lv_apic_x2apic(apic) ? id : id >> 24;
}

/* Pure logic, callable with apic->lock held (and from KUnit). */
void lv_lapic_init(struct lv_lapic *apic, struct lv_vcpu *vcpu, u32 id);
void lv_lapic_reset(struct lv_lapic *apic, bool bsp);
int lv_apic_highest_bit(const u32 *regs, unsigned int first_reg);
u32 lv_lapic_ppr(const struct lv_lapic *apic);
int lv_lapic_pending_vector(const struct lv_lapic *apic);
u32 lv_lapic_tpr_threshold(const struct lv_lapic *apic);
void lv_lapic_accept_vector(struct lv_lapic *apic, int vector);
bool lv_lapic_set_irr(struct lv_lapic *apic, int vector, bool level);
int lv_lapic_eoi(struct lv_lapic *apic, bool *level);
bool lv_lapic_match_dest(const struct lv_lapic *apic, const struct lv_apic_irq *irq,
			 const struct lv_lapic *source);
u32 lv_lapic_timer_divisor(u32 tdcr);

/* With side effects: take apic->lock themselves. */
int lv_lapic_read(struct lv_lapic *apic, unsigned int off, u32 *val);
int lv_lapic_write(struct lv_lapic *apic, unsigned int off, u32 val);
int lv_lapic_msr_read(struct lv_lapic *apic, u32 msr, u64 *val);
int lv_lapic_msr_write(struct lv_lapic *apic, u32 msr, u64 val);
int lv_lapic_x2apic_eoi(struct lv_lapic *apic, u64 val);
u64 lv_lapic_hv_timer_left(struct lv_lapic *apic);
void lv_lapic_hv_timer_expired(struct lv_lapic *apic);
void lv_lapic_timer_to_hrtimer(struct lv_lapic *apic);
int lv_lapic_set_base(struct lv_lapic *apic, u64 base, bool from_user);
u64 lv_lapic_get_base(struct lv_lapic *apic);
void lv_lapic_set_tpr(struct lv_lapic *apic, u32 tpr);
u32 lv_lapic_get_tpr(struct lv_lapic *apic);
bool lv_lapic_deliver(struct lv_lapic *apic, const struct lv_apic_irq *irq);
int lv_lapic_get_interrupt(struct lv_lapic *apic);
bool lv_lapic_has_interrupt(struct lv_lapic *apic);
bool lv_lapic_accepts_extint(struct lv_lapic *apic);
void lv_lapic_timer_cancel(struct lv_lapic *apic);
u64 lv_lapic_timer_remaining(struct lv_lapic *apic);
void lv_lapic_restore(struct lv_lapic *apic, const u32 *regs, u64 tsc_deadline,
		      u64 remaining);
void lv_lapic_destroy(struct lv_lapic *apic);
u16 lv_lapic_vapic_enter(struct lv_lapic *apic, void *page, u64 tmr[4],
			 bool *tmr_changed);
void lv_lapic_vapic_exit(struct lv_lapic *apic, const void *page,
			 unsigned int words);
bool lv_lapic_vapic_new_in_service(const struct lv_lapic *apic, int vector);
bool lv_lapic_vapic_take_dirty(struct lv_lapic *apic);
void lv_lapic_vapic_invalidate(struct lv_lapic *apic);
void lv_lapic_level_eoi(struct lv_lapic *apic, int vector);

/* Deliver @irq from @source (NULL: a device) to every APIC it targets. */
int lv_irq_deliver(struct lv_vm *vm, const struct lv_apic_irq *irq,
		   struct lv_lapic *source);
/* Decode an MSI's address/data pair (SDM vol. 3A, 11.11). */
int lv_msi_decode(u64 address, u32 data, struct lv_apic_irq *irq);

#endif /* LV_IRQ_LAPIC_H */
