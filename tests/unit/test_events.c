// SPDX-License-Identifier: GPL-2.0
/* Record decoding: sizes and type tags are checked before any copy. */
#include <errno.h>
#include "harness.h"
#include "events.h"
#include "suites.h"

static void test_decode_valid(void)
{
	struct rw_op_end in = { .hdr = { RW_REC_OP_END, sizeof(in), 1, 99 }, .op_id = 7, .ret = -5 };
	union rw_record out;

	ASSERT_EQ(events__decode(&in, sizeof(in), &out), 0, "decode");
	ASSERT_EQ(out.op_end.op_id, 7, "op id");
	ASSERT_EQ(out.op_end.ret, -5, "ret");
	ASSERT_EQ(out.hdr.ts, 99, "ts");
}

static void test_decode_rejects_bad_records(void)
{
	struct rw_op_end rec = { .hdr = { RW_REC_OP_END, sizeof(rec), 0, 1 } };
	union rw_record out;

	ASSERT_EQ(events__decode(&rec, 4, &out), -EINVAL, "shorter than a header");
	ASSERT_EQ(events__decode(&rec, sizeof(rec) - 1, &out), -EINVAL, "truncated record");
	rec.hdr.size = sizeof(rec) + 8;
	ASSERT_EQ(events__decode(&rec, sizeof(rec), &out), -EINVAL, "size from another ABI");
	rec.hdr.size = sizeof(rec);
	rec.hdr.type = RW_REC_MAX;
	ASSERT_EQ(events__decode(&rec, sizeof(rec), &out), -EINVAL, "unknown type");
	rec.hdr.type = 0;
	ASSERT_EQ(events__decode(&rec, sizeof(rec), &out), -EINVAL, "type zero");
}

void suite_events(void)
{
	harness_suite("events");
	RUN(test_decode_valid);
	RUN(test_decode_rejects_bad_records);
}
