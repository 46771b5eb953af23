/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page range an operation drops, derived from its arguments. BPF uses it
 * in tracepoint mode, where truncate_inode_pages_range cannot be observed.
 * Only whole pages are in it, as truncate_inode_pages_range() drops them:
 * it rounds lstart up and lend down to pages, and zeroes a partial page at
 * either edge in place (truncate_inode_partial_folio()) without deleting
 * it, so an insert there is never matched by a deletion and must not be a
 * candidate.
 */
#ifndef RACEWATCH_OP_RANGE_H
#define RACEWATCH_OP_RANGE_H

#include "racewatch.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* fallocate's modes; none of them set is plain allocation. */
#define RW_FALLOC_MODES		(RW_FALLOC_PUNCH_HOLE | RW_FALLOC_COLLAPSE_RANGE | \
				 RW_FALLOC_ZERO_RANGE | RW_FALLOC_INSERT_RANGE | \
				 RW_FALLOC_UNSHARE_RANGE)

/*
 * Requests vfs_fallocate() refuses before the filesystem sees them, on
 * every kernel from 5.10 on: a length that is not positive, two modes at
 * once, a punch without KEEP_SIZE, a collapse or insert with it. Older
 * kernels check each case on its own (EINVAL or EOPNOTSUPP), newer ones
 * with one switch over the mode (EOPNOTSUPP). They drop nothing.
 */
static __always_inline int rw_falloc_refused(__u32 mode, __s64 len)
{
	__u32 m = mode & RW_FALLOC_MODES;

	if (len <= 0 || (m & (m - 1)))
		return 1;
	if (m == RW_FALLOC_PUNCH_HOLE)
		return !(mode & RW_FALLOC_KEEP_SIZE);
	if (m == RW_FALLOC_COLLAPSE_RANGE || m == RW_FALLOC_INSERT_RANGE)
		return !!(mode & RW_FALLOC_KEEP_SIZE);
	return 0;
}

static __always_inline int rw_op_range(__u32 kind, __u32 mode, __s64 offset,
				       __s64 len, __u32 page_shift,
				       __u64 *first, __u64 *last)
{
	__u64 page = 1ULL << page_shift, start, end;

	if (offset < 0 || len < 0)
		return -1;
	/* truncate_pagecache(inode, newsize) drops whole pages from
	 * round_up(newsize, PAGE_SIZE) to EOF; the page holding newsize
	 * keeps its head and has its tail zeroed. */
	if (kind == RW_OP_TRUNCATE) {
		*first = ((__u64)offset + page - 1) >> page_shift;
		*last = RW_PAGE_EOF;
		return 0;
	}
	if (kind != RW_OP_FALLOCATE || !(mode & RW_FALLOC_INVALIDATING) ||
	    rw_falloc_refused(mode, len))
		return -1;
	/* Collapse and insert shift everything after offset: ext4 truncates
	 * the page cache from round_down(offset, PAGE_SIZE) to EOF, xfs
	 * (xfs_flush_unmap_range()) from offset rounded down further to its
	 * allocation unit. */
	if (mode & (RW_FALLOC_COLLAPSE_RANGE | RW_FALLOC_INSERT_RANGE)) {
		*first = (__u64)offset >> page_shift;
		*last = RW_PAGE_EOF;
		return 0;
	}
	/* Punch and zero range: ext4 drops the whole pages inside
	 * [offset, offset + len) and zeroes the partial ones in place. xfs
	 * drops the edge pages too and zeroes them again itself (README
	 * "Verdicts", blind spots). */
	if (len == 0)
		return -1;
	start = ((__u64)offset + page - 1) >> page_shift;
	end = ((__u64)offset + (__u64)len) >> page_shift;	/* exclusive */
	if (end <= start)
		return -1;	/* no whole page: nothing is dropped */
	*first = start;
	*last = end - 1;
	return 0;
}

/*
 * A block filesystem (ext4, xfs, btrfs: the callers check) frees, converts
 * and shifts whole blocks only. A punch or zero range that covers no whole
 * block of 1 << blkbits bytes frees and converts nothing: it zeroes the
 * partial blocks at its edges through the page cache, so a page read back
 * in the meantime is zeroed with the rest and holds no old data. A collapse
 * or insert that is not block-aligned is refused (EINVAL; btrfs supports
 * neither). Either way, no window. Only for requests rw_op_range() accepts.
 */
static __always_inline int rw_falloc_below_block(__u32 mode, __s64 offset, __s64 len,
						 __u32 blkbits)
{
	__u64 bs = 1ULL << blkbits;
	__u64 start = (__u64)offset, end = (__u64)offset + (__u64)len;

	if (mode & (RW_FALLOC_COLLAPSE_RANGE | RW_FALLOC_INSERT_RANGE))
		return ((start | (__u64)len) & (bs - 1)) != 0;
	/* the first whole block begins at start rounded up */
	return ((start + bs - 1) & ~(bs - 1)) + bs > end;
}

#endif /* RACEWATCH_OP_RANGE_H */
