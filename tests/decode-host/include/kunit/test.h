/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host stand-in for <kunit/test.h>: the subset the decoder tests use, with
 * a main() that runs the suite and prints KTAP-like results.
 */
#ifndef LV_HOST_KUNIT_TEST_H
#define LV_HOST_KUNIT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <linux/types.h>

#define KUNIT_PARAM_DESC_SIZE	128
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

struct kunit {
	const void *param_value;
	const char *desc;
	int failed;
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
	const void *(*generate_params)(const void *prev, char *desc);
};

struct kunit_suite {
	const char *name;
	struct kunit_case *test_cases;
};

#define KUNIT_CASE_PARAM(fn, gen)	{ .run_case = fn, .name = #fn, \
					  .generate_params = gen }

#define KUNIT_ARRAY_PARAM(name, array, get_desc)			\
	static const void *name##_gen_params(const void *prev, char *desc) \
	{								\
		typeof(&(array)[0]) next = prev ?			\
			(typeof(next))prev + 1 : (array);		\
		if ((size_t)(next - (array)) >= ARRAY_SIZE(array))	\
			return NULL;					\
		get_desc(next, desc);					\
		return next;						\
	}

/* On failure, print both sides; ASSERT also ends the test case. */
#define KUNIT_HOST_CHECK(test, l, r, fatal) do {			\
		uint64_t l_ = (uint64_t)(l), r_ = (uint64_t)(r);	\
		if (l_ != r_) {						\
			printf("    # %s: %s:%d: %s == %s: 0x%" PRIx64	\
			       " != 0x%" PRIx64 "\n", (test)->desc,	\
			       __FILE__, __LINE__, #l, #r, l_, r_);	\
			(test)->failed = 1;				\
			if (fatal)					\
				return;					\
		}							\
	} while (0)

#define KUNIT_EXPECT_EQ(test, l, r)	KUNIT_HOST_CHECK(test, l, r, 0)
#define KUNIT_ASSERT_EQ(test, l, r)	KUNIT_HOST_CHECK(test, l, r, 1)

/* Run every case of every parameter; print results, KTAP-like. */
static inline int kunit_host_run(const struct kunit_suite *suite)
{
	char desc[KUNIT_PARAM_DESC_SIZE];
	int total = 0, failed = 0;
	struct kunit_case *c;
	const void *p;

	printf("# suite %s\n", suite->name);
	for (c = suite->test_cases; c->run_case; c++) {
		for (p = c->generate_params(NULL, desc); p;
		     p = c->generate_params(p, desc)) {
			struct kunit t = { .param_value = p, .desc = desc };

			c->run_case(&t);
			total++;
			failed += t.failed;
			printf("%s %d %s: %s\n", t.failed ? "not ok" : "ok",
			       total, c->name, desc);
		}
	}
	printf("# %s: %d cases, %d failed\n", suite->name, total, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define kunit_test_suite(suite)						\
	int main(void)							\
	{								\
		return kunit_host_run(&(suite));			\
	}

#endif
