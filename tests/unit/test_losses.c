// SPDX-License-Identifier: GPL-2.0
/* Loss warnings: one line per counter that moved, saying how much. */
#include <stdlib.h>
#include "harness.h"
#include "losses.h"
#include "suites.h"

static char *warn(struct loss_watch *w, const __u64 *counters, const struct engine_stats *st,
		  int *lines)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*lines = losses__warn(w, counters, st, f);
	fclose(f);
	return buf;
}

static void test_engine_bounds_warn(void)
{
	__u64 counters[RW_CNT_MAX] = {};
	struct engine_stats st = { .cands_dropped = 4, .invals_dropped = 2, .inodes_dropped = 1 };
	struct loss_watch w = {};
	char *got;
	int n;

	got = warn(&w, counters, &st, &n);
	ASSERT_EQ(n, 3, "lines");
	ASSERT_TRUE(strstr(got, "racewatch: WARNING! 4 candidate inserts not kept") != NULL,
		    "candidates");
	ASSERT_TRUE(strstr(got, "racewatch: WARNING! 2 invalidations not kept") != NULL,
		    "invalidations");
	ASSERT_TRUE(strstr(got, "racewatch: WARNING! 1 inodes without a summary row") != NULL,
		    "inodes");
	free(got);
	got = warn(&w, counters, &st, &n);
	ASSERT_EQ(n, 0, "nothing moved: nothing said");
	free(got);
	st.invals_dropped = 5;
	got = warn(&w, counters, &st, &n);
	ASSERT_EQ(n, 1, "one moved");
	ASSERT_TRUE(strstr(got, "WARNING! 3 invalidations") != NULL, "by how much");
	free(got);
}

void suite_losses(void)
{
	harness_suite("losses");
	RUN(test_engine_bounds_warn);
}
