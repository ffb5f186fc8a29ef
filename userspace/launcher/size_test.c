// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the size parser lvrun and lvd share (size.c).
 * Linked into lvrun-loadertest, which prints the TAP plan.
 */
#include <inttypes.h>

#include "size.h"
#include "tap.h"

void size_tests(void);

static void expect_size(const char *s, uint64_t want)
{
	uint64_t v = 0;
	int ret = parse_size(s, &v);

	tap_ok(!ret && v == want, "size: \"%s\" is %" PRIu64 " (got %d, %" PRIu64 ")",
	       s, want, ret, v);
}

static void expect_refused(const char *s)
{
	uint64_t v = 0;

	tap_ok(parse_size(s, &v) == -1, "size: \"%s\" is refused", s);
}

void size_tests(void)
{
	expect_size("4096", 4096);
	expect_size("0x1000", 4096);
	expect_size("16M", 16ULL << 20);
	expect_size("16m", 16ULL << 20);
	expect_size("64k", 64ULL << 10);
	expect_size("3G", 3ULL << 30);
	expect_size("17179869183G", 17179869183ULL << 30);
	expect_refused("");
	expect_refused("M");
	expect_refused("16MB");
	expect_refused("16 M");
	expect_refused("-1");
	expect_refused("+16M");
	expect_refused(" 16M");
	/* Regression: these wrapped to 1G and were taken as --mem 1G. */
	expect_refused("17179869185G");
	expect_refused("18446744073709551616");
	tap_ok(guest_mem_size_ok(1ULL << 20) && guest_mem_size_ok(3ULL << 30) &&
	       guest_mem_size_ok((16ULL << 20) + 4096),
	       "size: 1M, 3G and 16M+4K are guest memory sizes");
	tap_ok(!guest_mem_size_ok((1ULL << 20) - 4096) &&
	       !guest_mem_size_ok((3ULL << 30) + 4096) &&
	       !guest_mem_size_ok((16ULL << 20) + 1),
	       "size: 1M-4K, 3G+4K and 16M+1 are not");
}
