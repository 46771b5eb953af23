/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict rules (README.md, "Verdicts"): what one candidate insert
 * means, decided from the facts the engine gathered about it and its
 * operation (struct rw_window). No bookkeeping here, only judgement, so
 * that the rules read in one place and unit tests can state them.
 */
#ifndef RACEWATCH_VERDICT_H
#define RACEWATCH_VERDICT_H

#include "engine.h"

/* What the PAGE record says of the page; page is NULL when none came.
 * shift_ts: when the operation began to shift ext4 extents, 0 if it did
 * not; shift_over_ts: when a read was first seen to look the extent tree
 * up after that, which it can only once the shift is over, 0 if none was
 * (engine.h, struct rw_window). read_maps: enum rw_read_maps, the
 * read-mapping roles served. */
enum rw_page_evidence verdict__evidence(const char *fstype, const struct rw_page_state *page,
					__u64 shift_ts, __u64 shift_over_ts,
					unsigned int page_shift, unsigned int read_maps);
/* w->page must already be set. */
enum rw_verdict verdict__judge(const struct rw_window *w);
enum rw_phase verdict__phase(const struct rw_window *w);

/* Printed by default: the window may be a race (README "Verdicts"). */
bool verdict__race_class(enum rw_verdict v);
/* ret (a syscall's return) is an error the kernel gives only before an
 * operation touches the page cache. */
bool verdict__rejects(__s64 ret);
/* How racewatch judges a filesystem's inserts against its invalidations. */
enum rw_fs_model {
	FS_MODEL_NONE,			/* unmodelled */
	FS_MODEL_INVALIDATE_LOCK,	/* ext4, xfs: the exclusive section */
	FS_MODEL_BTRFS,			/* extent locks: what the read mapped */
	FS_MODEL_SHMEM,			/* tmpfs: no blocks, nothing goes stale */
};

/* read_maps: enum rw_read_maps. Without READ_MAPS_BTRFS btrfs has no
 * evidence to be judged by, and is unmodelled. */
enum rw_fs_model verdict__model(const char *fstype, unsigned int read_maps);
/* PG_mappedtodisk tells a page read from disk from one zero-filled: the
 * filesystem's read path sets it (ext4, ext3, ext2) and one block of
 * 1 << blkbits bytes fills the page. */
bool verdict__flag_speaks(const char *fstype, unsigned int blkbits, unsigned int page_shift);
/* racewatch knows how this filesystem locks against its invalidations
 * (the invalidate_lock model; verdict__model() for the others). */
bool verdict__modelled(const char *fstype);

#endif /* RACEWATCH_VERDICT_H */
