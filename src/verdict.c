// SPDX-License-Identifier: GPL-2.0
/*
 * Verdict rules. A candidate is already known to be an insert into a range
 * its operation had started dropping, before the operation returned; the
 * rules below decide what that insert means.
 */
#include <string.h>
#include "verdict.h"

static const char *const verdict_names[VERDICT_MAX] = {
	[VERDICT_RACE]		= "race",
	[VERDICT_UNTRACKED]	= "untracked",
	[VERDICT_UNFINISHED]	= "unfinished",
	[VERDICT_TRANSIENT]	= "transient",
	[VERDICT_EVICTED]	= "evicted",
	[VERDICT_SELF]		= "self",
	[VERDICT_LATE]		= "late",
	[VERDICT_UNLOCKED]	= "unlocked",
	[VERDICT_HOLE]		= "hole",
};

static const char *const evidence_names[PAGE_EVIDENCE_MAX] = {
	[PAGE_UNCHECKED]	= "unchecked",
	[PAGE_GONE]		= "gone",
	[PAGE_FROM_DISK]	= "disk",
	[PAGE_ZERO_FILLED]	= "zero-filled",
	[PAGE_UNKNOWN]		= "unknown",
};

static const char *const phase_names[PHASE_MAX] = {
	[PHASE_DROPPING]	= "dropping",
	[PHASE_DROPPED]		= "dropped",
	[PHASE_BEFORE_FREE]	= "before-free",
	[PHASE_FREEING]		= "freeing",
	[PHASE_UNFREED]		= "unfreed",
	[PHASE_AFTER_FREE]	= "after-free",
};

const char *engine__verdict_name(enum rw_verdict v)
{
	return v < VERDICT_MAX ? verdict_names[v] : "?";
}

const char *engine__evidence_name(enum rw_page_evidence e)
{
	return e < PAGE_EVIDENCE_MAX ? evidence_names[e] : "?";
}

const char *engine__phase_name(enum rw_phase p)
{
	return p < PHASE_MAX ? phase_names[p] : "?";
}

/*
 * Filesystems whose read path (ext4_mpage_readpages, mpage_readahead) sets
 * PG_mappedtodisk on every page it reads from disk and zero-fills holes
 * without it. iomap-based ones (xfs, btrfs) never set it.
 */
static bool sets_mappedtodisk(const char *fstype)
{
	static const char *const fs[] = { "ext4", "ext3", "ext2" };

	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if (!strncmp(fstype, fs[i], RW_FSTYPE_LEN))
			return true;
	return false;
}

enum rw_page_evidence verdict__evidence(const char *fstype, const struct rw_page_state *page,
					unsigned int page_shift)
{
	if (!page)
		return PAGE_UNCHECKED;
	if (!page->present)
		return PAGE_GONE;
	if (page->mapped_to_disk)
		return PAGE_FROM_DISK;
	/* With blocks smaller than a page the flag needs every block mapped. */
	if (sets_mappedtodisk(fstype) && page->blkbits == page_shift)
		return PAGE_ZERO_FILLED;
	return PAGE_UNKNOWN;
}

/* The rules, in order. */
enum rw_verdict verdict__judge(const struct rw_window *w)
{
	const struct rw_insert *ins = w->insert;
	__u32 invalidator = w->op->task.tid;

	if (ins->task.tid == invalidator)
		return VERDICT_SELF;
	/* The old blocks are gone: the page reads what replaced them. */
	if (w->nfree && ins->hdr.ts > w->last_free_ts)
		return VERDICT_LATE;
	if (w->op_ended && ins->hdr.ts > w->op_end_ts)
		return VERDICT_LATE;
	if (w->deleted && (!w->op_ended || w->delete_ts <= w->op_end_ts))
		return w->delete_tid == invalidator ? VERDICT_TRANSIENT : VERDICT_EVICTED;
	if (!w->op_ended)
		return VERDICT_UNFINISHED;
	switch (w->page) {
	case PAGE_GONE:
		return VERDICT_EVICTED;	/* a deletion we did not see */
	case PAGE_ZERO_FILLED:
		return VERDICT_HOLE;	/* its read found the mapping already gone */
	default:
		break;
	}
	/* Evidence is missing: a deletion, free, page check or the insert
	 * record of another page may be what was lost. Never a confident race. */
	if ((ins->flags & RW_INSERT_UNTRACKED) || w->op_lost)
		return VERDICT_UNTRACKED;
	/* Its end is only known to precede the task's next operation. */
	if (w->op_flags & RW_OP_END_NO_RETURN)
		return VERDICT_UNFINISHED;
	/*
	 * Readers held invalidate_lock (5.15+), so the invalidator was outside
	 * its exclusive section; it freed nothing afterwards, so its mapping
	 * changes were complete and the page reads current data.
	 */
	if (!w->nfree && ins->locks.invalidate_lock.state == RW_LOCK_READ)
		return VERDICT_UNLOCKED;
	return VERDICT_RACE;
}

enum rw_phase verdict__phase(const struct rw_window *w)
{
	bool derived = w->inval->fn == RW_INVAL_DERIVED;
	__u64 ts = w->insert->hdr.ts;

	if (w->nfree && ts > w->last_free_ts)
		return PHASE_AFTER_FREE;
	if (!derived && (!w->inval_end_ts || ts <= w->inval_end_ts))
		return PHASE_DROPPING;
	if (!w->nfree)
		return PHASE_UNFREED;
	if (ts < w->first_free_ts)
		return derived ? PHASE_BEFORE_FREE : PHASE_DROPPED;
	return PHASE_FREEING;
}
