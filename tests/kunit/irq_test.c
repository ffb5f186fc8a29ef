// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the interrupt controllers' logic in module/irq/: local
 * APIC priorities, EOI order, destinations, the timer divider, MSI
 * decoding, the I/O APIC's edge/level/remote-IRR rules, the 8259 pair
 * and the 8254's counter arithmetic. No vCPU is involved: an APIC made
 * here has none, so deliveries and kicks stop at the register level.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <asm/msr-index.h>

#include "../../module/lightvisor.h"
#include "../../module/irq/lapic.h"
#include "../../module/irq/irqchip.h"

static struct lv_lapic *new_apic(struct kunit *test, u32 id)
{
	struct lv_lapic *apic = kunit_kzalloc(test, sizeof(*apic), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, apic);
	lv_lapic_init(apic, NULL, id);
	/* Software-enable it, as every guest does first. */
	KUNIT_ASSERT_EQ(test, lv_lapic_write(apic, APIC_SPIV,
					     APIC_SPIV_APIC_ENABLED | 0xff), 0);
	return apic;
}

static void highest_bit(struct kunit *test)
{
	u32 regs[LV_APIC_NR_REGS] = {};
	unsigned int irr = APIC_IRR >> 4;

	KUNIT_EXPECT_EQ(test, lv_apic_highest_bit(regs, irr), -1);
	regs[irr + 1] = BIT(3);				/* vector 35 */
	KUNIT_EXPECT_EQ(test, lv_apic_highest_bit(regs, irr), 35);
	regs[irr + 7] = BIT(31);			/* vector 255 */
	KUNIT_EXPECT_EQ(test, lv_apic_highest_bit(regs, irr), 255);
}

static void tpr_masks_by_class(struct kunit *test)
{
	struct lv_lapic *apic = new_apic(test, 0);

	KUNIT_EXPECT_TRUE(test, lv_lapic_set_irr(apic, 0x45, false));
	KUNIT_EXPECT_EQ(test, lv_lapic_pending_vector(apic), 0x45);
	/* TPR class 4 blocks class 4 (SDM 11.8.3.1: above, not equal). */
	lv_lapic_write(apic, APIC_TASKPRI, 0x40);
	KUNIT_EXPECT_EQ(test, lv_lapic_pending_vector(apic), -1);
	KUNIT_EXPECT_EQ(test, lv_lapic_ppr(apic), 0x40U);
	/* The sub-class bits do not matter. */
	lv_lapic_write(apic, APIC_TASKPRI, 0x3f);
	KUNIT_EXPECT_EQ(test, lv_lapic_pending_vector(apic), 0x45);
	lv_lapic_set_tpr(apic, 0x50);
	KUNIT_EXPECT_EQ(test, lv_lapic_pending_vector(apic), -1);
	KUNIT_EXPECT_TRUE(test, lv_lapic_set_irr(apic, 0x61, false));
	KUNIT_EXPECT_EQ(test, lv_lapic_pending_vector(apic), 0x61);
}

/*
 * The TPR threshold of the TPR shadow: the class of the highest pending
 * vector when the TPR alone holds it back, else 0; never above TPR[7:4].
 */
static void tpr_threshold(struct kunit *test)
{
	struct lv_lapic *apic = new_apic(test, 0);
	bool level;

	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 0U);
	lv_lapic_set_tpr(apic, 0x80);
	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 0U);
	/* Class 4 held by TPR class 8: exit once TPR[7:4] < 4. */
	lv_lapic_set_irr(apic, 0x45, false);
	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 4U);
	/* Equal class is held too (presented only above PPR's class). */
	lv_lapic_set_tpr(apic, 0x4f);
	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 4U);
	/* Above the TPR: deliverable now, no threshold. */
	lv_lapic_set_tpr(apic, 0x30);
	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 0U);
	/* The highest pending vector decides. */
	lv_lapic_set_tpr(apic, 0xf0);
	lv_lapic_set_irr(apic, 0x92, false);
	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 9U);
	/* Held by the ISR (same or higher class): its EOI exits instead. */
	lv_lapic_set_tpr(apic, 0);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x92);
	lv_lapic_set_irr(apic, 0x93, false);
	lv_lapic_set_tpr(apic, 0xa0);
	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 0U);
	/* After the EOI, the TPR alone holds 0x93. */
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x92);
	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 9U);
	/* Hardware-disabled APIC (its registers kept here): nothing to wait for. */
	lv_lapic_set_tpr(apic, 0xf0);
	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 9U);
	apic->base &= ~MSR_IA32_APICBASE_ENABLE;
	KUNIT_EXPECT_EQ(test, lv_lapic_tpr_threshold(apic), 0U);
}

/* Whatever the APIC holds, the threshold never exceeds TPR[7:4]. */
static void tpr_threshold_bounded(struct kunit *test)
{
	struct lv_lapic *apic = new_apic(test, 0);
	unsigned int tpr, v;

	for (tpr = 0; tpr < 256; tpr += 7) {
		for (v = 16; v < 256; v += 13) {
			memset(&apic->regs[APIC_IRR >> 4], 0, 32);
			memset(&apic->regs[APIC_ISR >> 4], 0, 32);
			lv_lapic_set_irr(apic, v, false);
			if (v % 3 == 0)
				lv_lapic_accept_vector(apic, v);
			lv_lapic_set_tpr(apic, tpr);
			KUNIT_EXPECT_LE(test, lv_lapic_tpr_threshold(apic), tpr >> 4);
			KUNIT_EXPECT_LE(test, lv_lapic_tpr_threshold(apic), 15U);
		}
	}
}

static u32 *vreg(void *page, unsigned int off)
{
	return page + off;
}

/*
 * Virtual-interrupt delivery: IRR, ISR and TPR go to the virtual-APIC
 * page at entry (the IRR moved, RVI/SVI returned, the TMR for the
 * EOI-exit bitmap) and come back at exit, merged with what arrived
 * meanwhile.
 */
static void vapic_enter_exit(struct kunit *test)
{
	struct lv_lapic *apic = new_apic(test, 0);
	void *page = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	bool level;
	bool tmr_new;
	u64 tmr[4];
	u16 status;

	KUNIT_ASSERT_NOT_NULL(test, page);
	lv_lapic_set_irr(apic, 0x31, false);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x31);
	lv_lapic_set_irr(apic, 0x45, false);
	lv_lapic_set_irr(apic, 0x92, true);
	lv_lapic_set_tpr(apic, 0x20);
	status = lv_lapic_vapic_enter(apic, page, tmr, &tmr_new);
	KUNIT_EXPECT_EQ(test, status, (u16)(0x31 << 8 | 0x92));
	KUNIT_EXPECT_EQ(test, *vreg(page, APIC_IRR + 0x40), BIT(0x92 - 0x80));
	KUNIT_EXPECT_EQ(test, *vreg(page, APIC_IRR + 0x20), BIT(0x45 - 0x40));
	KUNIT_EXPECT_EQ(test, *vreg(page, APIC_ISR + 0x10), BIT(0x31 - 0x20));
	KUNIT_EXPECT_EQ(test, *vreg(page, APIC_TASKPRI), 0x20U);
	KUNIT_EXPECT_TRUE(test, tmr_new);
	KUNIT_EXPECT_EQ(test, tmr[2], BIT_ULL(0x92 - 0x80));
	KUNIT_EXPECT_EQ(test, tmr[0] | tmr[1] | tmr[3], 0ULL);
	/* Moved: the APIC's IRR is empty while the guest runs. */
	KUNIT_EXPECT_EQ(test, lv_apic_highest_bit(apic->regs, APIC_IRR >> 4), -1);

	/*
	 * In the guest: 0x92 delivered and ended, 0x45 delivered (in
	 * service), a self-IPI 0x50, TPR 0x10. Meanwhile 0x92 arrives again
	 * (level) and 0x60 (edge).
	 */
	*vreg(page, APIC_IRR + 0x40) = 0;
	*vreg(page, APIC_IRR + 0x20) = BIT(0x50 - 0x40);
	*vreg(page, APIC_ISR + 0x20) = BIT(0x45 - 0x40);
	*vreg(page, APIC_TASKPRI) = 0x10;
	lv_lapic_set_irr(apic, 0x92, true);
	lv_lapic_set_irr(apic, 0x60, false);
	lv_lapic_vapic_exit(apic, page, 8);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_tpr(apic), 0x10U);
	/* 0x31 and 0x45 still in service; 0x92 pending again: it nests. */
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x92);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), -1);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x92);
	KUNIT_EXPECT_TRUE(test, level);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x60);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x60);
	KUNIT_EXPECT_FALSE(test, level);
	/* The guest's self-IPI: edge. */
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x50);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x50);
	KUNIT_EXPECT_FALSE(test, level);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), -1);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x45);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x31);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), -1);
}

/* A self-IPI in the guest clears a stale level TMR bit; vectors < 16 never pend. */
static void vapic_self_ipi_edge(struct kunit *test)
{
	struct lv_lapic *apic = new_apic(test, 0);
	void *page = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	bool level;
	bool tmr_new;
	u64 tmr[4];

	KUNIT_ASSERT_NOT_NULL(test, page);
	lv_lapic_set_irr(apic, 0x70, true);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x70);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x70);
	KUNIT_EXPECT_TRUE(test, level);
	KUNIT_EXPECT_EQ(test, lv_lapic_vapic_enter(apic, page, tmr, &tmr_new), (u16)0);
	KUNIT_EXPECT_EQ(test, tmr[1], BIT_ULL(0x70 - 0x40));
	*vreg(page, APIC_IRR + 0x30) = BIT(0x70 - 0x60);
	*vreg(page, APIC_IRR) = BIT(3);
	lv_lapic_vapic_exit(apic, page, 8);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x70);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), -1);
	/* The EOI-exit bitmap follows the TMR at the next entry. */
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_dirty(apic));
	lv_lapic_vapic_enter(apic, page, tmr, &tmr_new);
	KUNIT_EXPECT_TRUE(test, tmr_new);
	KUNIT_EXPECT_EQ(test, tmr[1], 0ULL);
	lv_lapic_vapic_exit(apic, page, 8);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x70);
	KUNIT_EXPECT_FALSE(test, level);
}

/*
 * The hand-over costs nothing while nothing changes: the APIC is marked
 * dirty by an arrival, an injection (IRR to ISR), an EOI or a TPR write,
 * and not by an entry; an exit finds the page unchanged exactly when the
 * guest moved nothing in it (RVI, SVI and the ISR words up to SVI, the
 * TPR). The vector the CPU delivered during a stay reads as newly in
 * service.
 */
static void vapic_only_what_changed(struct kunit *test)
{
	struct lv_lapic *apic = new_apic(test, 0);
	void *page = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	bool level;
	bool tmr_new;
	u64 tmr[4];
	u16 st;

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_dirty(apic));
	st = lv_lapic_vapic_enter(apic, page, tmr, &tmr_new);
	KUNIT_EXPECT_EQ(test, st, (u16)0);
	KUNIT_EXPECT_TRUE(test, tmr_new);
	KUNIT_EXPECT_FALSE(test, lv_lapic_vapic_dirty(apic));
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_unchanged(apic, page, 0, 0));

	/* Injected at the entry: IRR to ISR here, so the page gets it. */
	lv_lapic_set_irr(apic, 0x41, false);
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_dirty(apic));
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x41);
	st = lv_lapic_vapic_enter(apic, page, tmr, &tmr_new);
	KUNIT_EXPECT_EQ(test, st, (u16)(0x41 << 8));
	/* An edge arrival leaves the TMR, and so the EOI-exit bitmap, alone. */
	KUNIT_EXPECT_FALSE(test, tmr_new);
	KUNIT_EXPECT_EQ(test, *vreg(page, APIC_ISR + 0x20), BIT(0x41 - 0x40));
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_unchanged(apic, page, st, st));
	KUNIT_EXPECT_FALSE(test, lv_lapic_vapic_new_in_service(apic, 0x41));

	/* The guest ends 0x41, sends itself 0x52 and takes it. */
	*vreg(page, APIC_ISR + 0x20) = BIT(0x52 - 0x40);
	KUNIT_EXPECT_FALSE(test, lv_lapic_vapic_unchanged(apic, page, st, 0x52 << 8));
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_new_in_service(apic, 0x52));
	/* ... then also 0x41 and 0x52 again, nested: same SVI, more in service. */
	*vreg(page, APIC_ISR + 0x20) = BIT(0x52 - 0x40) | BIT(0x41 - 0x40);
	KUNIT_EXPECT_FALSE(test, lv_lapic_vapic_unchanged(apic, page, 0x52 << 8, 0x52 << 8));
	/* A TPR move alone counts too. */
	*vreg(page, APIC_ISR + 0x20) = BIT(0x41 - 0x40);
	*vreg(page, APIC_TASKPRI) = 0x30;
	KUNIT_EXPECT_FALSE(test, lv_lapic_vapic_unchanged(apic, page, st, st));
	*vreg(page, APIC_ISR + 0x20) = BIT(0x52 - 0x40);
	lv_lapic_vapic_exit(apic, page, 8);
	KUNIT_EXPECT_FALSE(test, lv_lapic_vapic_dirty(apic));
	KUNIT_EXPECT_EQ(test, lv_lapic_get_tpr(apic), 0x30U);
	KUNIT_EXPECT_FALSE(test, lv_lapic_vapic_new_in_service(apic, 0x52));
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_unchanged(apic, page, 0x52 << 8, 0x52 << 8));

	/* Another vCPU sends 0x61 while this one runs: the next entry hands it over. */
	lv_lapic_set_irr(apic, 0x61, false);
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_dirty(apic));
	st = lv_lapic_vapic_enter(apic, page, tmr, &tmr_new);
	KUNIT_EXPECT_EQ(test, st, (u16)(0x52 << 8 | 0x61));
	/* Still pending at the exit: never unchanged, back in the APIC, dirty. */
	KUNIT_EXPECT_FALSE(test, lv_lapic_vapic_unchanged(apic, page, st, st));
	lv_lapic_vapic_exit(apic, page, 8);
	KUNIT_EXPECT_EQ(test, lv_apic_highest_bit(apic->regs, APIC_IRR >> 4), 0x61);
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_dirty(apic));
	st = lv_lapic_vapic_enter(apic, page, tmr, &tmr_new);
	KUNIT_EXPECT_EQ(test, st, (u16)(0x52 << 8 | 0x61));
	lv_lapic_vapic_exit(apic, page, 8);

	/* A TPR written from outside, and an EOI there, reach the page. */
	lv_lapic_set_tpr(apic, 0x70);
	st = lv_lapic_vapic_enter(apic, page, tmr, &tmr_new);
	KUNIT_EXPECT_EQ(test, *vreg(page, APIC_TASKPRI), 0x70U);
	lv_lapic_vapic_exit(apic, page, 8);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x52);
	KUNIT_EXPECT_TRUE(test, lv_lapic_vapic_dirty(apic));
	KUNIT_EXPECT_EQ(test, lv_lapic_vapic_enter(apic, page, tmr, &tmr_new), (u16)0x61);
}

static void nested_eoi_order(struct kunit *test)
{
	struct lv_lapic *apic = new_apic(test, 0);
	bool level;

	lv_lapic_set_irr(apic, 0x30, false);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x30);
	/* Same class as the one in service: held back. */
	lv_lapic_set_irr(apic, 0x38, false);
	KUNIT_EXPECT_EQ(test, lv_lapic_pending_vector(apic), -1);
	KUNIT_EXPECT_EQ(test, lv_lapic_ppr(apic), 0x30U);
	/* A higher class nests. */
	lv_lapic_set_irr(apic, 0x80, true);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x80);
	KUNIT_EXPECT_EQ(test, lv_lapic_ppr(apic), 0x80U);
	/* EOI ends the highest in service first. */
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x80);
	KUNIT_EXPECT_TRUE(test, level);
	KUNIT_EXPECT_EQ(test, lv_lapic_pending_vector(apic), -1);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x30);
	KUNIT_EXPECT_FALSE(test, level);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_interrupt(apic), 0x38);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), 0x38);
	KUNIT_EXPECT_EQ(test, lv_lapic_eoi(apic, &level), -1);
}

static void acceptance_rules(struct kunit *test)
{
	struct lv_lapic *apic = new_apic(test, 0);
	u32 esr;

	/* A pending vector merges: the second one is not accepted again. */
	KUNIT_EXPECT_TRUE(test, lv_lapic_set_irr(apic, 0x50, false));
	KUNIT_EXPECT_FALSE(test, lv_lapic_set_irr(apic, 0x50, false));
	/* Vectors 0-15 are illegal: discarded, ESR says why after a write. */
	KUNIT_EXPECT_FALSE(test, lv_lapic_set_irr(apic, 5, false));
	lv_lapic_write(apic, APIC_ESR, 0);
	lv_lapic_read(apic, APIC_ESR, &esr);
	KUNIT_EXPECT_EQ(test, esr, (u32)APIC_ESR_RECVILL);
	/* Software-disabled: fixed interrupts are not accepted. */
	lv_lapic_write(apic, APIC_SPIV, 0xff);
	KUNIT_EXPECT_FALSE(test, lv_lapic_set_irr(apic, 0x60, false));
}

static void svr_disable_masks_lvts(struct kunit *test)
{
	struct lv_lapic *apic = new_apic(test, 0);
	u32 v;

	lv_lapic_write(apic, APIC_LVTT, 0x40);
	lv_lapic_read(apic, APIC_LVTT, &v);
	KUNIT_EXPECT_EQ(test, v, 0x40U);
	lv_lapic_write(apic, APIC_SPIV, 0xff);
	lv_lapic_read(apic, APIC_LVTT, &v);
	KUNIT_EXPECT_EQ(test, v, 0x40U | APIC_LVT_MASKED);
	/* While disabled, an LVT cannot be unmasked. */
	lv_lapic_write(apic, APIC_LVT1, 0x400);
	lv_lapic_read(apic, APIC_LVT1, &v);
	KUNIT_EXPECT_EQ(test, v, 0x400U | APIC_LVT_MASKED);
}

static void physical_and_broadcast(struct kunit *test)
{
	struct lv_lapic *a = new_apic(test, 1), *b = new_apic(test, 2);
	struct lv_apic_irq irq = { .dest = 2 };

	KUNIT_EXPECT_FALSE(test, lv_lapic_match_dest(a, &irq, NULL));
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(b, &irq, NULL));
	irq.dest = 0xff;
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(a, &irq, NULL));
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(b, &irq, a));
	/* Shorthands ignore the destination. */
	irq.dest = 2;
	irq.shorthand = APIC_DEST_SELF >> 18;
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(a, &irq, a));
	KUNIT_EXPECT_FALSE(test, lv_lapic_match_dest(b, &irq, a));
	irq.shorthand = APIC_DEST_ALLBUT >> 18;
	KUNIT_EXPECT_FALSE(test, lv_lapic_match_dest(a, &irq, a));
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(b, &irq, a));
	irq.shorthand = APIC_DEST_ALLINC >> 18;
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(a, &irq, a));
	/* A hardware-disabled APIC takes nothing. */
	KUNIT_ASSERT_EQ(test, lv_lapic_set_base(b, APIC_DEFAULT_PHYS_BASE, false), 0);
	KUNIT_EXPECT_FALSE(test, lv_lapic_match_dest(b, &irq, a));
}

static void logical_flat_and_cluster(struct kunit *test)
{
	struct lv_lapic *a = new_apic(test, 0), *b = new_apic(test, 1);
	struct lv_apic_irq irq = { .logical = true };

	/* Flat: one bit per CPU in LDR[31:24]. */
	lv_lapic_write(a, APIC_LDR, 0x01000000);
	lv_lapic_write(b, APIC_LDR, 0x02000000);
	irq.dest = 0x03;
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(a, &irq, NULL));
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(b, &irq, NULL));
	irq.dest = 0x02;
	KUNIT_EXPECT_FALSE(test, lv_lapic_match_dest(a, &irq, NULL));
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(b, &irq, NULL));

	/* Cluster: cluster in bits 7:4, members in 3:0. */
	lv_lapic_write(a, APIC_DFR, 0x0fffffff);
	lv_lapic_write(b, APIC_DFR, 0x0fffffff);
	lv_lapic_write(a, APIC_LDR, 0x11000000);	/* cluster 1, member bit 0 */
	lv_lapic_write(b, APIC_LDR, 0x21000000);	/* cluster 2, member bit 0 */
	irq.dest = 0x21;
	KUNIT_EXPECT_FALSE(test, lv_lapic_match_dest(a, &irq, NULL));
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(b, &irq, NULL));
	irq.dest = 0x22;
	KUNIT_EXPECT_FALSE(test, lv_lapic_match_dest(b, &irq, NULL));
	irq.dest = 0xff;
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(a, &irq, NULL));
}

static void x2apic_mode(struct kunit *test)
{
	struct lv_lapic *a = new_apic(test, 0x13), *b = new_apic(test, 2);
	u64 base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE;
	struct lv_apic_irq irq = { .logical = true };
	u64 v;
	u32 x;

	/* x2APIC MSRs #GP in xAPIC mode. */
	KUNIT_EXPECT_EQ(test, lv_lapic_msr_read(a, 0x802, &v), -EINVAL);
	KUNIT_ASSERT_EQ(test, lv_lapic_set_base(a, base | X2APIC_ENABLE, false), 0);
	KUNIT_ASSERT_EQ(test, lv_lapic_set_base(b, base | X2APIC_ENABLE, false), 0);
	KUNIT_EXPECT_EQ(test, lv_lapic_msr_read(a, 0x802, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0x13ULL);
	/* LDR: cluster id >> 4 in 31:16, bit (id & 15) below; read-only. */
	KUNIT_EXPECT_EQ(test, lv_lapic_msr_read(a, 0x80d, &v), 0);
	KUNIT_EXPECT_EQ(test, v, (1ULL << 16) | BIT(3));
	KUNIT_EXPECT_EQ(test, lv_lapic_msr_write(a, 0x80d, 0), -EINVAL);
	/* No DFR, no ICR2 in x2APIC mode; EOI takes only 0. */
	KUNIT_EXPECT_EQ(test, lv_lapic_msr_read(a, 0x80e, &v), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_lapic_msr_write(a, 0x80b, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_lapic_msr_write(a, 0x80b, 0), 0);
	/* Reserved upper halves #GP. */
	KUNIT_EXPECT_EQ(test, lv_lapic_msr_write(a, 0x808, 1ULL << 32), -EINVAL);
	/* The xAPIC page is gone: an xAPIC read of the ID reads it 32-bit. */
	KUNIT_EXPECT_EQ(test, lv_lapic_read(a, APIC_ID, &x), 0);
	KUNIT_EXPECT_EQ(test, x, 0x13U);

	irq.dest = (1 << 16) | BIT(3);
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(a, &irq, b));
	KUNIT_EXPECT_FALSE(test, lv_lapic_match_dest(b, &irq, b));
	irq.dest = BIT(2);			/* cluster 0, member 2 */
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(b, &irq, a));
	irq.logical = false;
	irq.dest = 0x13;
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(a, &irq, b));
	irq.dest = 0xffffffff;
	KUNIT_EXPECT_TRUE(test, lv_lapic_match_dest(b, &irq, a));

	/* x2APIC -> xAPIC directly is invalid; via disabled it is fine. */
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, base, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, APIC_DEFAULT_PHYS_BASE, false), 0);
	/* Disabled -> x2APIC directly is invalid too. */
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, base | X2APIC_ENABLE, false),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, base, false), 0);
	KUNIT_EXPECT_EQ(test, lv_lapic_read(a, APIC_ID, &x), 0);
	KUNIT_EXPECT_EQ(test, x, 0x13U << 24);
}

static void apic_base_checks(struct kunit *test)
{
	struct lv_lapic *a = new_apic(test, 1);
	u64 base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE;

	/* EXTD without EN, reserved bits, beyond MAXPHYADDR: #GP. */
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, APIC_DEFAULT_PHYS_BASE |
						X2APIC_ENABLE, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, base | BIT(9), false), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, base | BIT_ULL(63), false),
			-EINVAL);
	/* The guest cannot make itself the BSP; userspace can. */
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, base | MSR_IA32_APICBASE_BSP,
						false), 0);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_base(a), base);
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, base | MSR_IA32_APICBASE_BSP,
						true), 0);
	KUNIT_EXPECT_EQ(test, lv_lapic_get_base(a), base | MSR_IA32_APICBASE_BSP);
	/* Relocation within physical memory. */
	KUNIT_EXPECT_EQ(test, lv_lapic_set_base(a, 0xfed00000ULL |
						MSR_IA32_APICBASE_ENABLE, false), 0);
}

static void timer_divisor(struct kunit *test)
{
	static const u32 expect[16] = {
		2, 4, 8, 16, 2, 4, 8, 16, 32, 64, 128, 1, 32, 64, 128, 1,
	};
	u32 i;

	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_EQ(test, lv_lapic_timer_divisor(i), expect[i]);
}

static void msi_decoding(struct kunit *test)
{
	struct lv_apic_irq irq;

	KUNIT_ASSERT_EQ(test, lv_msi_decode(0xfee03004, 0xc041, &irq), 0);
	KUNIT_EXPECT_EQ(test, irq.dest, 3U);
	KUNIT_EXPECT_TRUE(test, irq.logical);
	KUNIT_EXPECT_EQ(test, irq.vector, 0x41);
	KUNIT_EXPECT_EQ(test, irq.delivery_mode, 0);
	KUNIT_EXPECT_TRUE(test, irq.level);
	KUNIT_EXPECT_TRUE(test, irq.assert);
	KUNIT_ASSERT_EQ(test, lv_msi_decode(0xfee00000, 0x400, &irq), 0);
	KUNIT_EXPECT_EQ(test, irq.delivery_mode, APIC_DELIVERY_MODE_NMI);
	/* Outside 0xFEExxxxx, reserved modes, ExtINT, high bits. */
	KUNIT_EXPECT_EQ(test, lv_msi_decode(0xfed00000, 0x41, &irq), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_msi_decode(0x1fee00000ULL, 0x41, &irq), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_msi_decode(0xfee00000, 0x341, &irq), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_msi_decode(0xfee00000, 0x641, &irq), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_msi_decode(0xfee00000, 0x741, &irq), -EINVAL);
	KUNIT_EXPECT_EQ(test, lv_msi_decode(0xfee00000, 0x10041, &irq), -EINVAL);
}

/* I/O APIC redirection entry for @pin: low then high dword. */
static void ioapic_set_entry(struct lv_ioapic *io, int pin, u64 entry)
{
	lv_ioapic_write(io, NULL, 0x00, 0x10 + 2 * pin);
	lv_ioapic_write(io, NULL, 0x10, (u32)entry);
	lv_ioapic_write(io, NULL, 0x00, 0x11 + 2 * pin);
	lv_ioapic_write(io, NULL, 0x10, entry >> 32);
}

static u64 ioapic_entry(struct lv_ioapic *io, int pin)
{
	u64 lo, hi;

	lv_ioapic_write(io, NULL, 0x00, 0x10 + 2 * pin);
	lo = lv_ioapic_read(io, 0x10);
	lv_ioapic_write(io, NULL, 0x00, 0x11 + 2 * pin);
	hi = lv_ioapic_read(io, 0x10);
	return hi << 32 | lo;
}

static void ioapic_registers(struct kunit *test)
{
	struct lv_ioapic io;

	lv_ioapic_reset(&io);
	lv_ioapic_write(&io, NULL, 0x00, 0x01);
	KUNIT_EXPECT_EQ(test, lv_ioapic_read(&io, 0x10), 0x170011U);
	KUNIT_EXPECT_EQ(test, ioapic_entry(&io, 5), BIT_ULL(16));
	/* Remote IRR and delivery status are read-only. */
	ioapic_set_entry(&io, 5, 0x0300000000005031ULL);
	KUNIT_EXPECT_EQ(test, ioapic_entry(&io, 5), 0x0300000000000031ULL);
}

static void ioapic_edge_and_level(struct kunit *test)
{
	struct lv_ioapic io;

	lv_ioapic_reset(&io);
	ioapic_set_entry(&io, 3, 0x31 | BIT(15));	/* level, vector 0x31 */
	lv_ioapic_set_irq(&io, NULL, 3, true);
	KUNIT_EXPECT_TRUE(test, ioapic_entry(&io, 3) & BIT(14));
	/* EOI with the line still high: remote IRR again (sent again). */
	lv_ioapic_eoi(&io, NULL, 0x31);
	KUNIT_EXPECT_TRUE(test, ioapic_entry(&io, 3) & BIT(14));
	lv_ioapic_set_irq(&io, NULL, 3, false);
	lv_ioapic_eoi(&io, NULL, 0x31);
	KUNIT_EXPECT_FALSE(test, ioapic_entry(&io, 3) & BIT(14));
	/* EOI of another vector leaves it alone. */
	lv_ioapic_set_irq(&io, NULL, 3, true);
	lv_ioapic_eoi(&io, NULL, 0x32);
	KUNIT_EXPECT_TRUE(test, ioapic_entry(&io, 3) & BIT(14));

	/* Masked level pin: nothing sent until unmasked while asserted. */
	ioapic_set_entry(&io, 4, 0x41 | BIT(15) | BIT(16));
	lv_ioapic_set_irq(&io, NULL, 4, true);
	KUNIT_EXPECT_FALSE(test, ioapic_entry(&io, 4) & BIT(14));
	ioapic_set_entry(&io, 4, 0x41 | BIT(15));
	KUNIT_EXPECT_TRUE(test, ioapic_entry(&io, 4) & BIT(14));

	/* Edge pins never hold remote IRR. */
	ioapic_set_entry(&io, 6, 0x51);
	lv_ioapic_set_irq(&io, NULL, 6, true);
	KUNIT_EXPECT_FALSE(test, ioapic_entry(&io, 6) & BIT(14));
	KUNIT_EXPECT_EQ(test, io.line_levels, (u32)(BIT(3) | BIT(4) | BIT(6)));
}

/* Program a PIC pair as Linux does: vectors 0x20 and 0x28, cascade on 2. */
static void pics_init(struct lv_pic pics[2])
{
	lv_pic_reset(&pics[0], true);
	lv_pic_reset(&pics[1], false);
	lv_pic_write(pics, 0, 0, 0x11);
	lv_pic_write(pics, 0, 1, 0x20);
	lv_pic_write(pics, 0, 1, 0x04);
	lv_pic_write(pics, 0, 1, 0x01);
	lv_pic_write(pics, 1, 0, 0x11);
	lv_pic_write(pics, 1, 1, 0x28);
	lv_pic_write(pics, 1, 1, 0x02);
	lv_pic_write(pics, 1, 1, 0x01);
}

static void pic_priority_and_eoi(struct kunit *test)
{
	struct lv_pic pics[2];

	pics_init(pics);
	KUNIT_EXPECT_FALSE(test, lv_pics_output(pics));
	lv_pics_set_irq(pics, 4, true);
	lv_pics_set_irq(pics, 1, true);
	KUNIT_EXPECT_TRUE(test, lv_pics_output(pics));
	KUNIT_EXPECT_EQ(test, lv_pics_ack(pics), 0x21);
	/* IRQ 1 in service blocks IRQ 4 (lower priority) until EOI. */
	KUNIT_EXPECT_FALSE(test, lv_pics_output(pics));
	KUNIT_EXPECT_EQ(test, lv_pic_read(pics, 0, 0), 0x10);	/* IRR */
	lv_pic_write(pics, 0, 0, 0x0b);				/* read ISR */
	KUNIT_EXPECT_EQ(test, lv_pic_read(pics, 0, 0), 0x02);
	lv_pic_write(pics, 0, 0, 0x20);				/* EOI */
	KUNIT_EXPECT_EQ(test, lv_pics_ack(pics), 0x24);
	/* Masked inputs wait. */
	lv_pic_write(pics, 0, 0, 0x20);
	lv_pic_write(pics, 0, 1, 0x08);
	lv_pics_set_irq(pics, 3, true);
	KUNIT_EXPECT_FALSE(test, lv_pics_output(pics));
	lv_pic_write(pics, 0, 1, 0x00);
	KUNIT_EXPECT_EQ(test, lv_pics_ack(pics), 0x23);
	/* Nothing left: the master's spurious vector. */
	KUNIT_EXPECT_EQ(test, lv_pics_ack(pics), 0x27);
}

static void pic_cascade_edge_level(struct kunit *test)
{
	struct lv_pic pics[2];

	pics_init(pics);
	/* An edge input latches once per rising edge. */
	lv_pics_set_irq(pics, 10, true);
	KUNIT_EXPECT_EQ(test, lv_pics_ack(pics), 0x2a);
	lv_pic_write(pics, 1, 0, 0x20);
	lv_pic_write(pics, 0, 0, 0x20);
	lv_pics_set_irq(pics, 10, true);			/* still high */
	KUNIT_EXPECT_FALSE(test, lv_pics_output(pics));
	/* ELCR: level inputs stay requested while high. */
	lv_pic_write(pics, 1, 2, 0xff);
	KUNIT_EXPECT_EQ(test, lv_pic_read(pics, 1, 2), 0xde);
	lv_pic_write(pics, 0, 2, 0xff);
	KUNIT_EXPECT_EQ(test, lv_pic_read(pics, 0, 2), 0xf8);
	lv_pics_set_irq(pics, 11, true);
	KUNIT_EXPECT_EQ(test, lv_pics_ack(pics), 0x2b);
	lv_pic_write(pics, 1, 0, 0x20);
	lv_pic_write(pics, 0, 0, 0x20);
	KUNIT_EXPECT_EQ(test, lv_pics_ack(pics), 0x2b);
	lv_pic_write(pics, 1, 0, 0x20);
	lv_pic_write(pics, 0, 0, 0x20);
	/*
	 * The slave raised its output again after its EOI (the line was
	 * still high) and the master latched that edge: with the line now
	 * low, the acknowledge finds nothing on the slave, which answers
	 * with its spurious vector (IRQ 15), as real 8259s do.
	 */
	lv_pics_set_irq(pics, 11, false);
	KUNIT_EXPECT_EQ(test, lv_pics_ack(pics), 0x2f);
}

static void pic_auto_eoi_and_poll(struct kunit *test)
{
	struct lv_pic pics[2];

	lv_pic_reset(&pics[0], true);
	lv_pic_reset(&pics[1], false);
	lv_pic_write(pics, 0, 0, 0x11);
	lv_pic_write(pics, 0, 1, 0x08);
	lv_pic_write(pics, 0, 1, 0x04);
	lv_pic_write(pics, 0, 1, 0x03);				/* AEOI */
	lv_pics_set_irq(pics, 0, true);
	KUNIT_EXPECT_EQ(test, lv_pics_ack(pics), 0x08);
	lv_pic_write(pics, 0, 0, 0x0b);
	KUNIT_EXPECT_EQ(test, lv_pic_read(pics, 0, 0), 0);	/* ISR empty */
	/* Poll: acknowledges and returns 0x80 | input. */
	lv_pics_set_irq(pics, 5, true);
	lv_pic_write(pics, 0, 0, 0x0c);
	KUNIT_EXPECT_EQ(test, lv_pic_read(pics, 0, 0), 0x85);
	lv_pic_write(pics, 0, 0, 0x0c);
	KUNIT_EXPECT_EQ(test, lv_pic_read(pics, 0, 0), 0);
}

static void pit_counting(struct kunit *test)
{
	struct lv_pit_channel c = {
		.count = 1000, .mode = 2, .load_time = 0,
	};
	/* The first nanosecond at which @n ticks (1e9 / 1193182 ns) passed. */
#define T(n)	((ktime_t)DIV_ROUND_UP_ULL((n) * NSEC_PER_SEC, LV_PIT_HZ))
	ktime_t t500 = T(500ULL), t999 = T(999ULL), t1000 = T(1000ULL);
	ktime_t t1500 = T(1500ULL);

	KUNIT_EXPECT_EQ(test, lv_pit_channel_count(&c, t500), 500U);
	KUNIT_EXPECT_TRUE(test, lv_pit_channel_out(&c, t500));
	KUNIT_EXPECT_FALSE(test, lv_pit_channel_out(&c, t999));	/* pulse */
	KUNIT_EXPECT_EQ(test, lv_pit_channel_count(&c, t1500), 500U);
	c.mode = 3;			/* square wave: high first half */
	KUNIT_EXPECT_TRUE(test, lv_pit_channel_out(&c, t500 - 2000));
	KUNIT_EXPECT_FALSE(test, lv_pit_channel_out(&c, t500 + 2000));
	KUNIT_EXPECT_EQ(test, lv_pit_channel_count(&c, T(250ULL)), 500U);
	c.mode = 0;			/* one-shot: out rises at terminal count */
	KUNIT_EXPECT_FALSE(test, lv_pit_channel_out(&c, t999));
	KUNIT_EXPECT_TRUE(test, lv_pit_channel_out(&c, t1000));
	KUNIT_EXPECT_EQ(test, lv_pit_channel_count(&c, t1500), 0xffffU - 499);
#undef T
}

static struct kunit_case lv_irq_cases[] = {
	KUNIT_CASE(highest_bit),
	KUNIT_CASE(tpr_masks_by_class),
	KUNIT_CASE(tpr_threshold),
	KUNIT_CASE(tpr_threshold_bounded),
	KUNIT_CASE(vapic_enter_exit),
	KUNIT_CASE(vapic_self_ipi_edge),
	KUNIT_CASE(vapic_only_what_changed),
	KUNIT_CASE(nested_eoi_order),
	KUNIT_CASE(acceptance_rules),
	KUNIT_CASE(svr_disable_masks_lvts),
	KUNIT_CASE(physical_and_broadcast),
	KUNIT_CASE(logical_flat_and_cluster),
	KUNIT_CASE(x2apic_mode),
	KUNIT_CASE(apic_base_checks),
	KUNIT_CASE(timer_divisor),
	KUNIT_CASE(msi_decoding),
	KUNIT_CASE(ioapic_registers),
	KUNIT_CASE(ioapic_edge_and_level),
	KUNIT_CASE(pic_priority_and_eoi),
	KUNIT_CASE(pic_cascade_edge_level),
	KUNIT_CASE(pic_auto_eoi_and_poll),
	KUNIT_CASE(pit_counting),
	{}
};

static struct kunit_suite lv_irq_suite = {
	.name = "lightvisor-irq",
	.test_cases = lv_irq_cases,
};

kunit_test_suite(lv_irq_suite);
