// SPDX-License-Identifier: GPL-2.0
/* The page range an operation drops, derived from its arguments. */
#include "harness.h"
#include "op_range.h"
#include "suites.h"

static void test_punch_and_zero(void)
{
	__u64 first, last;

	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE,
			      4096, 65536, 12, &first, &last), 0, "punch");
	ASSERT_EQ(first, 1, "punch first");
	ASSERT_EQ(last, 16, "punch last");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE,
			      0, 4096, 12, &first, &last), 0, "one page");
	ASSERT_EQ(first, 0, "one page first");
	ASSERT_EQ(last, 0, "one page last");
}

/* Partial pages at either edge are zeroed in place, never dropped. */
static void test_partial_edges_excluded(void)
{
	__u64 first = 99, last = 99;

	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_ZERO_RANGE, 100, 9000, 12,
			      &first, &last), 0, "zero");
	ASSERT_EQ(first, 1, "zero first: page 0 is partial");
	ASSERT_EQ(last, 1, "zero last: page 2 is partial");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE,
			      1024, 8192, 12, &first, &last), 0, "1 KiB blocks");
	ASSERT_EQ(first, 1, "1 KiB blocks first");
	ASSERT_EQ(last, 1, "1 KiB blocks last");
	first = last = 99;
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_ZERO_RANGE, 100, 5000, 12,
			      &first, &last), -1, "no whole page: nothing dropped");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE,
			      4096, 4095, 12, &first, &last), -1, "one byte short of a page");
	ASSERT_EQ(first + last, 198, "outputs untouched without a range");
}

static void test_shifting_ops_run_to_eof(void)
{
	__u64 first, last;

	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_COLLAPSE_RANGE, 8192, 4096, 12,
			      &first, &last), 0, "collapse");
	ASSERT_EQ(first, 2, "collapse first");
	ASSERT_TRUE(last == RW_PAGE_EOF, "collapse to eof");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_INSERT_RANGE, 8192, 4096, 12,
			      &first, &last), 0, "insert");
	ASSERT_TRUE(last == RW_PAGE_EOF, "insert to eof");
	/* Block-aligned on 1 KiB blocks: the page holding offset goes too. */
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_COLLAPSE_RANGE, 6144, 1024, 12,
			      &first, &last), 0, "collapse mid-page");
	ASSERT_EQ(first, 1, "collapse mid-page first");
	/* The page holding the new size keeps its head. */
	ASSERT_EQ(rw_op_range(RW_OP_TRUNCATE, 0, 10000, 0, 12, &first, &last), 0, "truncate");
	ASSERT_EQ(first, 3, "truncate first: page 2 is partial");
	ASSERT_TRUE(last == RW_PAGE_EOF, "truncate to eof");
	ASSERT_EQ(rw_op_range(RW_OP_TRUNCATE, 0, 8192, 0, 12, &first, &last), 0, "truncate");
	ASSERT_EQ(first, 2, "truncate on a page boundary");
	ASSERT_EQ(rw_op_range(RW_OP_TRUNCATE, 0, 0, 0, 12, &first, &last), 0, "truncate to 0");
	ASSERT_EQ(first, 0, "truncate to 0 first");
}

static void test_non_invalidating(void)
{
	__u64 first, last;

	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, 0, 0, 4096, 12, &first, &last), -1, "allocate");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_KEEP_SIZE, 0, 4096, 12, &first, &last),
		  -1, "keep size alone");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE, 0, 0, 12, &first, &last),
		  -1, "empty punch");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE, -1, 10, 12, &first, &last),
		  -1, "negative offset");
}

/* What vfs_fallocate() refuses drops nothing, whatever the range. */
static void test_refused_requests(void)
{
	const __u32 keep = RW_FALLOC_KEEP_SIZE, punch = RW_FALLOC_PUNCH_HOLE;
	__u64 first, last;

	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, punch, 0, 65536, 12, &first, &last), -1,
		  "punch without KEEP_SIZE");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, punch | RW_FALLOC_ZERO_RANGE | keep, 0, 65536,
			      12, &first, &last), -1, "punch and zero");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_COLLAPSE_RANGE | keep, 0, 65536, 12,
			      &first, &last), -1, "collapse with KEEP_SIZE");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_INSERT_RANGE | keep, 0, 65536, 12,
			      &first, &last), -1, "insert with KEEP_SIZE");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_ZERO_RANGE | RW_FALLOC_UNSHARE_RANGE,
			      0, 65536, 12, &first, &last), -1, "zero and unshare");
	ASSERT_EQ(rw_op_range(RW_OP_FALLOCATE, RW_FALLOC_COLLAPSE_RANGE, 4096, 0, 12,
			      &first, &last), -1, "empty collapse");
	ASSERT_EQ(rw_falloc_refused(RW_FALLOC_ZERO_RANGE | keep, 1), 0, "zero with KEEP_SIZE");
	ASSERT_EQ(rw_falloc_refused(punch | keep, 1), 0, "punch with KEEP_SIZE");
	ASSERT_EQ(rw_falloc_refused(RW_FALLOC_INSERT_RANGE, 4096), 0, "insert alone");
}

/* Block filesystems free whole blocks only (4096 bytes here, 1024 once). */
static void test_below_block(void)
{
	const __u32 punch = RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE;

	ASSERT_EQ(rw_falloc_below_block(punch, 769, 512, 12), 1, "inside one block");
	ASSERT_EQ(rw_falloc_below_block(punch, 4095, 4096, 12), 1, "two partial blocks");
	ASSERT_EQ(rw_falloc_below_block(punch, 4095, 4097, 12), 0, "one whole block, unaligned");
	ASSERT_EQ(rw_falloc_below_block(punch, 8192, 4096, 12), 0, "one whole block");
	ASSERT_EQ(rw_falloc_below_block(RW_FALLOC_ZERO_RANGE, 100, 4000, 12), 1, "zero inside");
	ASSERT_EQ(rw_falloc_below_block(punch, 1024, 1024, 10), 0, "1 KiB blocks");
	ASSERT_EQ(rw_falloc_below_block(RW_FALLOC_COLLAPSE_RANGE, 4096, 512, 12), 1,
		  "unaligned collapse length");
	ASSERT_EQ(rw_falloc_below_block(RW_FALLOC_INSERT_RANGE, 512, 4096, 12), 1,
		  "unaligned insert offset");
	ASSERT_EQ(rw_falloc_below_block(RW_FALLOC_COLLAPSE_RANGE, 8192, 4096, 12), 0,
		  "aligned collapse");
}

void suite_op_range(void)
{
	harness_suite("op_range");
	RUN(test_punch_and_zero);
	RUN(test_partial_edges_excluded);
	RUN(test_shifting_ops_run_to_eof);
	RUN(test_non_invalidating);
	RUN(test_refused_requests);
	RUN(test_below_block);
}
