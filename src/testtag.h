/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-test attribution: which test of a harness was running when an
 * operation began. xfstests' check writes "run fstests SEQ at DATE" to
 * /dev/kmsg before each test (_start_test... in its check script); a line
 * that matches the pattern starts a test, named by the pattern's first
 * group (the whole match without one), and it runs until the next.
 * Bounded: TESTTAG_MAX_TESTS rows (the rest folded into one, counted), and
 * the last TESTTAG_MAX_STARTS starts kept for lookups (operations are
 * judged within --max-op-age of their start, long before that many
 * tests have begun).
 */
#ifndef RACEWATCH_TESTTAG_H
#define RACEWATCH_TESTTAG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define TESTTAG_DEFAULT		"^run fstests ([^ ]+) at "
#define TESTTAG_NAME_LEN	128
#define TESTTAG_MAX_TESTS	65536
#define TESTTAG_MAX_STARTS	4096

struct test_row {
	char name[TESTTAG_NAME_LEN];	/* as kmsg gave it: escape to print */
	__u64 ops;			/* operations that began in it */
	__u64 candidates;		/* inserts into their windows */
	__u64 races;			/* of them judged race */
};

struct testtag;

/* NULL when the pattern does not compile; err says why. */
struct testtag *testtag__new(const char *pattern, char *err, size_t errlen);
void testtag__free(struct testtag *t);
/* A kmsg line at ts (CLOCK_MONOTONIC): a test starts if it matches. */
void testtag__line(struct testtag *t, __u64 ts, const char *text, size_t len);
/* The test running at ts; NULL before the first (or older than the starts
 * kept). */
const struct test_row *testtag__at(const struct testtag *t, __u64 ts);
/* An operation that began at ts, judged: its candidates and races. */
void testtag__count(struct testtag *t, __u64 ts, __u64 candidates, __u64 races);
/* The rows, in the order the tests began. */
size_t testtag__rows(const struct testtag *t, const struct test_row **rows);
/* Operations before any test, or older than the starts kept. */
const struct test_row *testtag__untagged(const struct testtag *t);
/* The tests past TESTTAG_MAX_TESTS, in one row; NULL: none. */
const struct test_row *testtag__folded(const struct testtag *t);

#endif /* RACEWATCH_TESTTAG_H */
