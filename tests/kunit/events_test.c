// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the event rules in module/events.c: which exceptions
 * carry an error code, and which event states (and held traps)
 * LV_SET_VCPU_STATE accepts.
 */
#include <kunit/test.h>
#include <asm/processor-flags.h>

#include "../../module/lightvisor.h"

static void error_code_vectors(struct kunit *test)
{
	static const unsigned int with[] = { 8, 10, 11, 12, 13, 14, 17 };
	unsigned int v, i, n = 0;

	for (v = 0; v < 32; v++) {
		bool expected = false;

		for (i = 0; i < ARRAY_SIZE(with); i++)
			expected |= with[i] == v;
		KUNIT_EXPECT_EQ_MSG(test, lv_exception_has_error_code(v),
				    expected, "vector %u", v);
		n += expected;
	}
	KUNIT_EXPECT_EQ(test, n, 7U);
}

/* Protected mode, IF = 1, no shadow, nothing in delivery. */
static void base_state(struct lv_vcpu_state *st)
{
	memset(st, 0, sizeof(*st));
	st->sregs.cr0 = X86_CR0_PE;
	st->regs.rflags = X86_EFLAGS_FIXED | X86_EFLAGS_IF;
}

static struct lv_event valid_event(u8 type, u8 vector, u8 has_error_code,
				   u32 insn_len)
{
	return (struct lv_event) {
		.valid = 1, .type = type, .vector = vector,
		.has_error_code = has_error_code, .insn_len = insn_len,
	};
}

static int check_event(struct lv_vcpu_state *st, u8 type, u8 vector,
		       u8 has_error_code, u32 insn_len)
{
	st->event = valid_event(type, vector, has_error_code, insn_len);
	return lv_check_event_state(st);
}

static void event_checks(struct kunit *test)
{
	/* Off the stack: with KASAN it overflows the frame limit. */
	struct lv_vcpu_state *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	base_state(st);
	KUNIT_EXPECT_EQ(test, lv_check_event_state(st), 0);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXCEPTION, 13, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXCEPTION, 13, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXCEPTION, 6, 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXCEPTION, 32, 0, 0), -EINVAL);
	/* #CP: no CET in guests, no error code (a CPU without CET refuses one). */
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXCEPTION, 21, 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXCEPTION, 21, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXT_INTR, 0x40, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXT_INTR, 0x10, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXT_INTR, 0x40, 0, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_NMI, 2, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_NMI, 3, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_SOFT_INTR, 0x80, 0, 2), 0);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_SOFT_INTR, 0x80, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_SOFT_INTR, 0x80, 0, 16), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_SOFT_EXC, 3, 0, 1), 0);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_SOFT_EXC, 5, 0, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, 1, 0x40, 0, 0), -EINVAL);

	/* Real mode: no error codes at all. */
	st->sregs.cr0 = 0;
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXCEPTION, 13, 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXCEPTION, 13, 0, 0), 0);

	/* Interrupts need IF = 1 and no shadow; NMIs no shadow, no blocking. */
	base_state(st);
	st->regs.rflags = X86_EFLAGS_FIXED;
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_EXT_INTR, 0x40, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_NMI, 2, 0, 0), 0);
	st->interruptibility = 2;	/* MOV SS */
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_NMI, 2, 0, 0), -EINVAL);
	st->interruptibility = 8;	/* NMI */
	KUNIT_EXPECT_EQ(test, check_event(st, LV_EVENT_NMI, 2, 0, 0), -EINVAL);
}

static void interruptibility_checks(struct kunit *test)
{
	/* Off the stack: with KASAN it overflows the frame limit. */
	struct lv_vcpu_state *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	base_state(st);
	st->interruptibility = 1;
	KUNIT_EXPECT_EQ(test, lv_check_event_state(st), 0);
	st->regs.rflags = X86_EFLAGS_FIXED;	/* STI shadow, IF = 0 */
	KUNIT_EXPECT_EQ(test, lv_check_event_state(st), -EINVAL);
	st->interruptibility = 2;
	KUNIT_EXPECT_EQ(test, lv_check_event_state(st), 0);
	st->interruptibility = 3;
	st->regs.rflags |= X86_EFLAGS_IF;
	KUNIT_EXPECT_EQ(test, lv_check_event_state(st), -EINVAL);
	st->interruptibility = 4;
	KUNIT_EXPECT_EQ(test, lv_check_event_state(st), -EINVAL);
}

static int check_held(struct lv_vcpu_state *st, u8 type, u8 vector,
		      u8 has_error_code, u32 insn_len)
{
	st->held_trap = valid_event(type, vector, has_error_code, insn_len);
	return lv_check_held_trap(st);
}

/* Only a #DB trap is ever held: a single step or breakpoint, or ICEBP. */
static void held_trap_checks(struct kunit *test)
{
	/* Off the stack: with KASAN's redzones it overflows the frame limit. */
	struct lv_vcpu_state *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	base_state(st);
	KUNIT_EXPECT_EQ(test, lv_check_held_trap(st), 0);
	KUNIT_EXPECT_EQ(test, check_held(st, LV_EVENT_EXCEPTION, 1, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, check_held(st, LV_EVENT_PRIV_SW_EXC, 1, 0, 1), 0);
	KUNIT_EXPECT_EQ(test, check_held(st, LV_EVENT_PRIV_SW_EXC, 1, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_held(st, LV_EVENT_EXCEPTION, 1, 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_held(st, LV_EVENT_EXCEPTION, 3, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_held(st, LV_EVENT_EXCEPTION, 17, 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_held(st, LV_EVENT_SOFT_EXC, 1, 0, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_held(st, LV_EVENT_EXT_INTR, 1, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check_held(st, LV_EVENT_NMI, 2, 0, 0), -EINVAL);
	memset(&st->held_trap, 0, sizeof(st->held_trap));
	st->held_trap.error_code = 1;
	KUNIT_EXPECT_EQ(test, lv_check_held_trap(st), -EINVAL);
}

static struct kunit_case lv_events_cases[] = {
	KUNIT_CASE(error_code_vectors),
	KUNIT_CASE(event_checks),
	KUNIT_CASE(interruptibility_checks),
	KUNIT_CASE(held_trap_checks),
	{}
};

static struct kunit_suite lv_events_suite = {
	.name = "lightvisor_events",
	.test_cases = lv_events_cases,
};
kunit_test_suite(lv_events_suite);
