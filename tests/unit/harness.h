/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small test harness in the style of the BPF selftests: ASSERT_* macros,
 * one line per test (PASS/FAIL/SKIP suite/name), totals from tests/run.sh.
 */
#ifndef RACEWATCH_HARNESS_H
#define RACEWATCH_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct harness {
	const char *suite;
	const char *test;
	int failures;		/* assertions failed in the current test */
	char skip_reason[128];
	int passed, failed, skipped;
};

extern struct harness harness;

void harness_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void harness_run(const char *name, void (*fn)(void));
void harness_suite(const char *suite);

#define ASSERT_EQ(got, want, what) do {						\
	long long __g = (long long)(got), __w = (long long)(want);		\
	if (__g != __w)								\
		harness_fail(__FILE__, __LINE__, "%s: got %lld, want %lld",	\
			     (what), __g, __w);					\
} while (0)

#define ASSERT_TRUE(cond, what) do {						\
	if (!(cond))								\
		harness_fail(__FILE__, __LINE__, "%s: expected true: %s",	\
			     (what), #cond);					\
} while (0)

#define ASSERT_STREQ(got, want, what) do {					\
	const char *__g = (got), *__w = (want);					\
	if (!__g || !__w || strcmp(__g, __w))					\
		harness_fail(__FILE__, __LINE__, "%s:\n  got  '%s'\n  want '%s'", \
			     (what), __g ? __g : "(null)", __w ? __w : "(null)"); \
} while (0)

#define SKIP(...) snprintf(harness.skip_reason, sizeof(harness.skip_reason), __VA_ARGS__)

#define RUN(fn) harness_run(#fn, fn)

/* Path of a fixture file: $RW_FIXTURES/NAME, else tests/unit/fixtures/NAME.
 * Static storage: valid until the next call. */
const char *harness_fixture(const char *name);

#endif /* RACEWATCH_HARNESS_H */
