// SPDX-License-Identifier: GPL-2.0
/* Per-test attribution from /dev/kmsg (kmsg.h, testtag.h). */
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "kmsg.h"
#include "suites.h"
#include "testtag.h"

static void test_kmsg_parse(void)
{
	const char rec[] = "12,930,35094931300,-;run fstests generic/042 at 2026-12-07\n SUBSYSTEM=x\n";
	const char bad[] = "12,930;no timestamp\n";
	const char *text;
	size_t len;
	__u64 us;

	ASSERT_TRUE(kmsg__parse(rec, sizeof(rec) - 1, &us, &text, &len), "a record");
	ASSERT_EQ(us, 35094931300ULL, "its timestamp in microseconds");
	ASSERT_EQ(len, strlen("run fstests generic/042 at 2026-12-07"), "text up to the newline");
	ASSERT_TRUE(!strncmp(text, "run fstests generic/042", 23), "the text");
	ASSERT_TRUE(!kmsg__parse(bad, sizeof(bad) - 1, &us, &text, &len), "no timestamp field");
	ASSERT_TRUE(!kmsg__parse("6,1,2,-", 7, &us, &text, &len), "no ';'");
}

/* The smallest offset of the recent reads: a read that came late does not
 * move a test's start later. */
static void test_kmsg_clock(void)
{
	struct kmsg k = { .fd = -1 };

	/* local_clock 1,000 us; read 14.4 ms later on CLOCK_MONOTONIC. */
	ASSERT_EQ(kmsg__mono(&k, 1000, 1000000 + 14400000), 1000000 + 14400000, "first read");
	/* Read 80 ms late: the earlier, smaller offset holds. */
	ASSERT_EQ(kmsg__mono(&k, 2000, 2000000 + 14400000 + 80000000), 2000000 + 14400000,
		  "a late read");
	/* A smaller offset (less late than the first): it holds from now. */
	ASSERT_EQ(kmsg__mono(&k, 3000, 3000000 + 14300000), 3000000 + 14300000, "a quicker read");
	/* Only the last KMSG_SAMPLES reads count: the clocks drift. */
	for (int i = 0; i < KMSG_SAMPLES; i++)
		kmsg__mono(&k, 4000 + i, (4000 + i) * 1000ULL + 20000000);
	ASSERT_EQ(kmsg__mono(&k, 9000, 9000000 + 20000000), 9000000 + 20000000, "drifted");
}

static void line(struct testtag *t, __u64 ts, const char *s)
{
	testtag__line(t, ts, s, strlen(s));
}

static void test_starts_and_counts(void)
{
	char err[128];
	struct testtag *t = testtag__new(TESTTAG_DEFAULT, err, sizeof(err));
	const struct test_row *rows;

	ASSERT_TRUE(t != NULL, "the default pattern compiles");
	ASSERT_TRUE(testtag__at(t, 50) == NULL, "before any test");
	line(t, 100, "run fstests generic/001 at 2026-12-07 15:00:00");
	line(t, 150, "EXT4-fs (loop0): mounted filesystem");
	line(t, 200, "run fstests xfs/042 at 2026-12-07 15:00:05");
	/* A start whose estimated time steps back stays after the last one. */
	line(t, 190, "run fstests generic/001 at 2026-12-07 15:00:09");
	ASSERT_STREQ(testtag__at(t, 100)->name, "generic/001", "at its start");
	ASSERT_STREQ(testtag__at(t, 199)->name, "generic/001", "until the next");
	ASSERT_STREQ(testtag__at(t, 200)->name, "generic/001", "the step back clamped to 200");
	testtag__count(t, 50, 3, 1);
	testtag__count(t, 120, 2, 0);
	testtag__count(t, 120, 5, 2);
	testtag__count(t, 199, 0, 0);
	ASSERT_EQ(testtag__rows(t, &rows), 2, "two tests, one run twice");
	ASSERT_STREQ(rows[0].name, "generic/001", "in the order they began");
	ASSERT_EQ(rows[0].ops, 3, "its operations");
	ASSERT_EQ(rows[0].candidates, 7, "its candidates");
	ASSERT_EQ(rows[0].races, 2, "its races");
	ASSERT_EQ(rows[1].ops, 0, "xfs/042 ran none");
	ASSERT_EQ(testtag__untagged(t)->ops, 1, "one before any test");
	ASSERT_EQ(testtag__untagged(t)->races, 1, "with its race");
	ASSERT_TRUE(testtag__folded(t) == NULL, "nothing folded");
	testtag__free(t);
}

static void test_own_pattern(void)
{
	char err[128];
	struct testtag *t = testtag__new("^=== ([a-z0-9_]+) ===$", err, sizeof(err));
	struct testtag *whole = testtag__new("^step [0-9]+", err, sizeof(err));

	line(t, 10, "=== punch_vs_read ===");
	line(t, 20, "=== not a match");
	ASSERT_STREQ(testtag__at(t, 30)->name, "punch_vs_read", "the first group");
	line(whole, 10, "step 12 of 40");
	ASSERT_STREQ(testtag__at(whole, 10)->name, "step 12", "no group: the whole match");
	ASSERT_TRUE(testtag__new("([", err, sizeof(err)) == NULL, "a pattern that does not compile");
	testtag__free(t);
	testtag__free(whole);
}

/* Bounded: starts in a ring, rows folded past the bound. */
static void test_bounds(void)
{
	char err[128], name[64];
	struct testtag *t = testtag__new("^t (.*)$", err, sizeof(err));
	const struct test_row *rows;

	for (int i = 0; i < TESTTAG_MAX_TESTS + 10; i++) {
		snprintf(name, sizeof(name), "t %d", i);
		line(t, 1000 + i, name);
	}
	ASSERT_EQ(testtag__rows(t, &rows), TESTTAG_MAX_TESTS, "rows bounded");
	ASSERT_TRUE(testtag__folded(t) != NULL, "the rest folded");
	ASSERT_STREQ(testtag__folded(t)->name, "(10 more tests)", "and counted");
	ASSERT_TRUE(testtag__at(t, 1000) == NULL, "older than the starts kept");
	testtag__count(t, 1000, 1, 0);
	ASSERT_EQ(testtag__untagged(t)->ops, 1, "counted untagged, not lost");
	testtag__count(t, 1000 + TESTTAG_MAX_TESTS + 9, 1, 1);
	ASSERT_EQ(testtag__folded(t)->races, 1, "a late test's race in the folded row");
	testtag__free(t);
}

void suite_testtag(void)
{
	harness_suite("testtag");
	RUN(test_kmsg_parse);
	RUN(test_kmsg_clock);
	RUN(test_starts_and_counts);
	RUN(test_own_pattern);
	RUN(test_bounds);
}
