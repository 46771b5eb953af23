// SPDX-License-Identifier: GPL-2.0
/* Records per second: samples of at least a second, peaks, the -v line. */
#include "harness.h"
#include "rates.h"
#include "suites.h"

#define S	1000000000ULL

static void test_rates_per_second(void)
{
	__u64 rec[RW_REC_MAX] = {}, per_s[RW_REC_MAX] = {};
	struct rates r;

	rec[RW_REC_INSERT] = 100;		/* before the start: not counted */
	rates__start(&r, rec, 10 * S);
	rec[RW_REC_INSERT] += 4000;
	ASSERT_TRUE(!rates__sample(&r, rec, 10 * S + S / 2, per_s), "under a second: no sample");
	ASSERT_TRUE(rates__sample(&r, rec, 12 * S, per_s), "two seconds");
	ASSERT_EQ(per_s[RW_REC_INSERT], 2000, "rate over the two seconds");
	ASSERT_EQ(per_s[RW_REC_DELETE], 0, "no deletes");
	rec[RW_REC_INSERT] += 5000;
	rec[RW_REC_DELETE] += 30;
	ASSERT_TRUE(rates__sample(&r, rec, 13 * S, per_s), "one more second");
	ASSERT_EQ(per_s[RW_REC_INSERT], 5000, "insert rate");
	ASSERT_EQ(per_s[RW_REC_DELETE], 30, "delete rate");
	rec[RW_REC_INSERT] += 10;
	ASSERT_TRUE(rates__sample(&r, rec, 14 * S, per_s), "a quiet second");
	ASSERT_EQ(r.peak[RW_REC_INSERT], 5000, "peak kept");
	ASSERT_EQ(r.peak[RW_REC_DELETE], 30, "peak of deletes");
	ASSERT_TRUE(!rates__sample(&r, rec, 13 * S, per_s), "time going back: no sample");
}

static void test_rates_format(void)
{
	__u64 counts[RW_REC_MAX] = {};
	char buf[256];

	ASSERT_EQ(rates__format(counts, buf, sizeof(buf)), 0, "all zero");
	ASSERT_STREQ(buf, "", "nothing to say");
	counts[RW_REC_OP_BEGIN] = 3;
	counts[RW_REC_DELETE] = 12;
	counts[RW_REC_INSERT] = 4000;
	rates__format(counts, buf, sizeof(buf));
	ASSERT_STREQ(buf, "op_begin 3 insert 4000 delete 12", "nonzero types in order");
	rates__format(counts, buf, 8);
	ASSERT_STREQ(buf, "op_begi", "cut to the buffer");
}

void suite_rates(void)
{
	harness_suite("rates");
	RUN(test_rates_per_second);
	RUN(test_rates_format);
}
