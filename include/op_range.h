/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page range an operation drops, derived from its arguments. BPF uses it
 * in tracepoint mode, where truncate_inode_pages_range cannot be observed;
 * userspace uses it to describe operations. It is deliberately a superset:
 * partial pages at both edges are included because truncate_inode_pages_range
 * zeroes them in place and filesystems round ranges to their block size.
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
	if (offset < 0 || len < 0)
		return -1;
	*first = (__u64)offset >> page_shift;
	/* truncate_pagecache(inode, newsize) drops from newsize to EOF. */
	if (kind == RW_OP_TRUNCATE) {
		*last = RW_PAGE_EOF;
		return 0;
	}
	if (kind != RW_OP_FALLOCATE || !(mode & RW_FALLOC_INVALIDATING))
		return -1;
	/* Collapse and insert shift everything after offset: both ext4 and
	 * xfs truncate the page cache from offset to EOF. */
	if (mode & (RW_FALLOC_COLLAPSE_RANGE | RW_FALLOC_INSERT_RANGE)) {
		*last = RW_PAGE_EOF;
		return 0;
	}
	if (len == 0)
		return -1;
	*last = (__u64)(offset + len - 1) >> page_shift;
	return 0;
}

#endif /* RACEWATCH_OP_RANGE_H */
