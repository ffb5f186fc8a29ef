// SPDX-License-Identifier: GPL-2.0
/* Minimal TAP producer for self-checking guests. */
#include "guest.h"

static int tap_next = 1;
static int tap_failed;

void tap_plan(int n)
{
	printf("1..%d\n", n);
}

bool tap_ok(bool cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_next++, name);
	if (!cond)
		tap_failed++;
	return cond;
}

bool tap_eq(uint64_t expected, uint64_t got, const char *name)
{
	if (expected == got)
		return tap_ok(true, name);
	printf("not ok %d - %s # expected 0x%lx got 0x%lx\n", tap_next++, name,
	       expected, got);
	tap_failed++;
	return false;
}

void tap_skip(const char *name, const char *reason)
{
	printf("ok %d - %s # SKIP %s\n", tap_next++, name, reason);
}

/* The value for guest_exit(): pass only if every check passed. */
int tap_done(void)
{
	if (tap_failed)
		printf("# %d check(s) failed\n", tap_failed);
	return tap_failed ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
