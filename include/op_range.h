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
	if (kind != RW_OP_FALLOCATE || !(mode & RW_FALLOC_INVALIDATING))
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

#endif /* RACEWATCH_OP_RANGE_H */
