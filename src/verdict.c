// SPDX-License-Identifier: GPL-2.0
/*
 * Verdict rules. A candidate is already known to be an insert into a range
 * its operation had started dropping, before the operation returned; the
 * rules below decide what that insert means (README "Verdicts").
 */
#include <errno.h>
#include <string.h>
#include "verdict.h"

static const char *const verdict_names[VERDICT_MAX] = {
	[VERDICT_RACE]		= "race",
	[VERDICT_UNCHECKED]	= "unchecked",
	[VERDICT_UNMODELLED]	= "unmodelled",
	[VERDICT_STRADDLING]	= "straddling",
	[VERDICT_LOST]		= "lost",
	[VERDICT_UNTRACKED]	= "untracked",
	[VERDICT_UNFINISHED]	= "unfinished",
	[VERDICT_NO_RETURN]	= "no-return",
	[VERDICT_EXPIRED]	= "expired",
	[VERDICT_REJECTED]	= "rejected",
	[VERDICT_TRANSIENT]	= "transient",
	[VERDICT_EVICTED]	= "evicted",
	[VERDICT_SELF]		= "self",
	[VERDICT_LATE]		= "late",
	[VERDICT_UNLOCKED]	= "unlocked",
	[VERDICT_HOLE]		= "hole",
	[VERDICT_NO_BLOCKS]	= "no-blocks",
};

static const char *const evidence_names[PAGE_EVIDENCE_MAX] = {
	[PAGE_UNCHECKED]	= "unchecked",
	[PAGE_GONE]		= "gone",
	[PAGE_FROM_DISK]	= "disk",
	[PAGE_ZERO_FILLED]	= "zero-filled",
	[PAGE_UNKNOWN]		= "unknown",
	[PAGE_READ_PENDING]	= "read-pending",
	[PAGE_MAPPED_DISK]	= "mapped-disk",
	[PAGE_MAPPED_MOVED]	= "moved",
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

bool verdict__race_class(enum rw_verdict v)
{
	switch (v) {
	case VERDICT_RACE:
	case VERDICT_UNCHECKED:
	case VERDICT_UNMODELLED:
	case VERDICT_STRADDLING:
	case VERDICT_LOST:
	case VERDICT_UNTRACKED:
	case VERDICT_UNFINISHED:
	case VERDICT_NO_RETURN:
	case VERDICT_EXPIRED:
		return true;
	default:
		return false;
	}
}

static bool fs_in(const char *fstype, const char *const *fs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(fstype, fs[i], RW_FSTYPE_LEN))
			return true;
	return false;
}

/*
 * Filesystems whose read path (ext4_mpage_readpages, mpage_readahead) sets
 * PG_mappedtodisk on every page it reads from disk and zero-fills holes
 * without it. iomap-based ones (xfs, btrfs) never set it.
 */
static bool sets_mappedtodisk(const char *fstype)
{
	static const char *const fs[] = { "ext4", "ext3", "ext2" };

	return fs_in(fstype, fs, sizeof(fs) / sizeof(fs[0]));
}

/* With blocks smaller than a page the flag needs every block mapped. */
bool verdict__flag_speaks(const char *fstype, unsigned int blkbits, unsigned int page_shift)
{
	return sets_mappedtodisk(fstype) && blkbits == page_shift;
}

/*
 * Filesystems that drop the page cache and free or move the blocks under
 * it inside one exclusive section of mapping->invalidate_lock (5.15+):
 * ext4 since d4f5258eae7b ("ext4: Convert to use
 * mapping->invalidate_lock"; ext3 is the ext4 driver), ext2 since
 * "ext2: Convert to using invalidate_lock" and xfs, whose
 * XFS_MMAPLOCK_EXCL became invalidate_lock in "xfs: Convert to use
 * invalidate_lock" (all 5.15); before 5.15 their block frees are hooked
 * for the timing rules. btrfs, tmpfs/shmem, f2fs, nfs, gfs2 and the rest
 * lock in ways of their own.
 */
bool verdict__modelled(const char *fstype)
{
	static const char *const fs[] = { "ext4", "ext3", "ext2", "xfs" };

	return fs_in(fstype, fs, sizeof(fs) / sizeof(fs[0]));
}

/*
 * btrfs punches and zeroes under i_rwsem, its own i_mmap_lock (which reads
 * do not take) and the range's extent lock, never invalidate_lock
 * exclusively: btrfs_punch_hole_lock_range() truncates the page cache,
 * locks the extent range, and starts again while a page is left in it.
 * Reads insert their folios before they take the extent lock, then map the
 * range under it. A folio inserted after the last truncation whose read
 * mapped the extents before the punch dropped them holds their old data if
 * that check misses it: on 6.18 it misses the range's last page
 * (check_range_has_page() skips a folio that ends at its end), README
 * "Verdicts". So on btrfs what the inserter's read mapped decides, and
 * invalidate_lock, held shared by every reader, says nothing.
 *
 * tmpfs (shmem) keeps a file's data in the page cache and swap alone: its
 * punch and truncate drop the pages and swap entries (shmem_undo_range())
 * and free nothing else. A page added into the range after the drop is a
 * new zeroed one, or a swap-in, which shmem_add_to_page_cache() refuses
 * once the punch has removed the swap entry it expects. No block is there
 * to hold old data, so none of its inserts is judged by lock or timing:
 * the window ends with nothing to end it, and each insert is no-blocks.
 */
enum rw_fs_model verdict__model(const char *fstype, unsigned int read_maps)
{
	if (!strncmp(fstype, "tmpfs", RW_FSTYPE_LEN))
		return FS_MODEL_SHMEM;
	if (verdict__modelled(fstype))
		return FS_MODEL_INVALIDATE_LOCK;
	if ((read_maps & READ_MAPS_BTRFS) && !strncmp(fstype, "btrfs", RW_FSTYPE_LEN))
		return FS_MODEL_BTRFS;
	return FS_MODEL_NONE;
}

/*
 * Errors returned only while a request is validated, before anything
 * touches the page cache: every check of vfs_fallocate() (EINVAL,
 * EOPNOTSUPP, EBADF, EPERM, ETXTBSY, EACCES from the LSM, ESPIPE, EISDIR,
 * ENODEV, EFBIG), of do_sys_ftruncate()/vfs_truncate()/do_truncate() and
 * inode_newsize_ok() (EINVAL, EBADF, EPERM, EISDIR, EACCES, ETXTBSY, EFBIG),
 * the prechecks of ext4_fallocate() and xfs_file_fallocate() (unsupported
 * mode, and the alignment and i_size checks of collapse and insert range:
 * EOPNOTSUPP, EINVAL, EFBIG), and ENOSYS. Not EROFS: ext4_journal_start()
 * gives it after truncate_pagecache_range() once the journal has aborted.
 * Nor ENOSPC, EDQUOT, EIO, ENOMEM, EINTR, EUCLEAN, ERESTART*: they come
 * from the work itself, which may have dropped pages already.
 */
bool verdict__rejects(__s64 ret)
{
	switch (ret) {
	case -EINVAL:
	case -EOPNOTSUPP:
	case -EBADF:
	case -EPERM:
	case -EACCES:
	case -ETXTBSY:
	case -EFBIG:
	case -ENODEV:
	case -ESPIPE:
	case -EISDIR:
	case -ENOSYS:
		return true;
	default:
		return false;
	}
}

/*
 * ext4 collapse and insert range shift the extent tree under i_data_sem
 * held exclusively, from the moment they remove the cached extents
 * (RW_FREE_EXT4_SHIFT) until the shift is done. An extent-tree lookup
 * (ext4:ext4_ext_map_blocks_exit, which fires with i_data_sem held) seen
 * after that mark took i_data_sem after the shift: the read mapped the
 * extents where they moved to, which hold the data now at that offset.
 * Extent-cache hits take no i_data_sem and are not ordered by the mark
 * (bpf/ops.bpf.h, handle_ext4_shift()), but one that the engine saw any
 * read of the inode make after the mark (shift_over_ts) is: the shift was
 * over by then, and a page inserted later was mapped later still, since
 * ext4 reads map a page only once it is in the cache.
 */
static bool mapped_moved(const struct rw_page_state *page, __u64 shift_ts,
			 __u64 shift_over_ts, unsigned int read_maps)
{
	if (!shift_ts || !(read_maps & READ_MAPS_EXT4))
		return false;
	if (shift_over_ts && page->insert_ts > shift_over_ts)
		return page->mapped_to_disk || page->read_map == RW_READ_MAP_DISK;
	return page->read_map == RW_READ_MAP_DISK &&
	       page->read_map_from == RW_READ_MAP_FROM_EXT4_TREE &&
	       page->read_map_ts > shift_ts;
}

enum rw_page_evidence verdict__evidence(const char *fstype, const struct rw_page_state *page,
					__u64 shift_ts, __u64 shift_over_ts,
					unsigned int page_shift, unsigned int read_maps)
{
	bool speaks;

	if (!page)
		return PAGE_UNCHECKED;
	if (!page->present)
		return PAGE_GONE;
	/* btrfs never sets the flag: what its read found says instead, where
	 * the role marks it. Without the role read_map is only ever pending
	 * (not uptodate), which says nothing of what the read mapped. */
	if (verdict__model(fstype, read_maps) == FS_MODEL_BTRFS) {
		switch (page->read_map) {
		case RW_READ_MAP_DISK:
			return PAGE_FROM_DISK;
		case RW_READ_MAP_ZEROS:
			return PAGE_ZERO_FILLED;
		case RW_READ_MAP_PENDING:
			return PAGE_READ_PENDING;
		default:
			return PAGE_UNKNOWN;
		}
	}
	speaks = verdict__flag_speaks(fstype, page->blkbits, page_shift);
	if (speaks && mapped_moved(page, shift_ts, shift_over_ts, read_maps))
		return PAGE_MAPPED_MOVED;
	if (page->mapped_to_disk)
		return PAGE_FROM_DISK;
	if (!speaks)
		return PAGE_UNKNOWN;
	/*
	 * ext4_mpage_readpages() sets the flag only after it has mapped the
	 * page's blocks: a read stalled between the two has mapped the old
	 * blocks with the flag still clear. Seen once in 11 runs of the 5.10
	 * fentry punch case, three confirmed stale pages judged hole. What the
	 * reader's mapping returned, where the role marks it, says so. A read
	 * yet to map will find the hole (1,202 such windows over the 5.10
	 * cases of one run): calling those unchecked floods the output.
	 */
	if ((read_maps & READ_MAPS_EXT4) && page->read_map == RW_READ_MAP_DISK)
		return PAGE_MAPPED_DISK;
	return PAGE_ZERO_FILLED;
}

/* Tracepoint mode knows the operation only by its arguments and return. */
static bool rejected(const struct rw_window *w)
{
	return w->inval->fn == RW_INVAL_DERIVED && w->op_ended &&
	       !(w->op_flags & RW_OP_END_NO_RETURN) && verdict__rejects(w->op_ret);
}

enum section {
	SECTION_UNKNOWN,	/* no readable lock: timing decides */
	SECTION_INSIDE,		/* the invalidator held invalidate_lock exclusively */
	SECTION_OUTSIDE,	/* it did not */
};

/*
 * Where the insert fell relative to the invalidator's exclusive
 * invalidate_lock section, from the lock as the inserter saw it. Reads,
 * faults and readahead take it shared (730633f0b7f9, "mm: Protect
 * operations adding pages to page cache with invalidate_lock"), so their
 * inserts show READ.
 */
static enum section lock_section(const struct rw_window *w, const struct rw_lock *l)
{
	switch (l->state) {
	case RW_LOCK_FREE:
	case RW_LOCK_READ:
		return SECTION_OUTSIDE;
	case RW_LOCK_WRITE:
		/* BPF leaves the owner 0 while the rwsem does not name its
		 * writer yet (rwsem_set_owner() follows the count's cmpxchg). */
		if (!l->owner_tid)
			return SECTION_UNKNOWN;
		return l->owner_tid == w->op->task.tid ? SECTION_INSIDE : SECTION_OUTSIDE;
	default:
		/* ABSENT: before 5.15; UNREADABLE: a layout without BTF. */
		return SECTION_UNKNOWN;
	}
}

/*
 * Before 5.15 ext4 had no invalidate_lock, and its fallocate operations and
 * truncate held EXT4_I(inode)->i_mmap_sem for writing from before the drop
 * until the blocks were freed or shifted (ext4_punch_hole(),
 * ext4_zero_range(), ext4_collapse_range(), ext4_insert_range(),
 * ext4_setattr()); reads did not take it, which is the race. Where --btf-dir
 * made it readable, it places the insert as invalidate_lock does: in one
 * 5.10 read-path run 31 race windows of an insert range saw it free, a
 * readahead batch after the shift, none stale. Not for a direct write's
 * invalidation, which ext4 makes without it.
 */
static enum section exclusive_section(const struct rw_window *w)
{
	const struct rw_locks *locks = &w->insert->locks;

	if (locks->invalidate_lock.state == RW_LOCK_ABSENT &&
	    !strncmp(w->op->fstype, "ext4", RW_FSTYPE_LEN) &&
	    (w->op->kind == RW_OP_FALLOCATE || w->op->kind == RW_OP_TRUNCATE) &&
	    w->inval->fn != RW_INVAL_PAGES2)
		return lock_section(w, &locks->i_mmap_sem);
	return lock_section(w, &locks->invalidate_lock);
}

/*
 * A large folio that reaches outside the dropped range is not deleted by
 * truncate_inode_pages_range(): truncate_inode_partial_folio() zeroes the
 * part inside and splits it, whose pieces leave under their own indexes, or
 * keeps it whole when it is dirty and cannot be split. Inserted before the
 * drop ended, it may have been treated so, and no deletion of its head
 * index says whether it was. Inserted after, the drop never saw it.
 */
static bool straddles_drop(const struct rw_window *w)
{
	const struct rw_insert *ins = w->insert;
	const struct rw_inval_begin *iv = w->inval;
	__u64 extra = ins->nr_pages ? ins->nr_pages - 1 : 0;
	bool outside;

	if (!extra)
		return false;
	outside = ins->index < iv->first || ins->index > iv->last ||
		  extra > iv->last - ins->index;
	if (!outside)
		return false;
	/* A derived window does not know when the drop ran. */
	return iv->fn == RW_INVAL_DERIVED || !w->inval_end_ts ||
	       ins->hdr.ts <= w->inval_end_ts;
}

/*
 * A zero-filled page says its read found a hole, which holds no old data:
 * so for a punch. Collapse and insert range move data under the page
 * instead. A page of a collapse from its offset on, or of an insert range
 * past the gap it opens, whose read mapped a hole before the shift began
 * (the ext4 read mapping role saw it map zeros before the mark), is a hole
 * no longer: the shift moves other blocks' data to its offset, and the
 * page keeps the zeros. 5.10 insert range grows i_size before it shifts,
 * so a reader can fill the new tail with zeros that the shift then covers
 * with the file's last blocks: a splice reader on 5.10 left 5 such stale
 * pages (16384-16388 of a 64 MiB file), and racewatch judged them hole.
 * Only a mapping seen before the mark says so: a read still to map, or
 * one that mapped after the mark, waited for the shift or may have, and
 * the flag decides as before (treating those as races flooded the output,
 * "hole" in README "Verdicts").
 */
static bool zeros_shifted_over(const struct rw_window *w)
{
	const struct rw_page_state *ps = w->page_state;
	const struct rw_op_begin *op = w->op;
	__u64 from;

	if (!w->shift_ts || !ps || ps->read_map != RW_READ_MAP_ZEROS ||
	    !ps->read_map_ts || ps->read_map_ts > w->shift_ts)
		return false;
	if (op->kind != RW_OP_FALLOCATE || op->offset < 0 || op->len < 0)
		return false;
	if (op->mode & RW_FALLOC_COLLAPSE_RANGE)
		from = (__u64)op->offset >> w->page_shift;
	else if (op->mode & RW_FALLOC_INSERT_RANGE)
		from = ((__u64)op->offset + (__u64)op->len) >> w->page_shift;
	else
		return false;
	return w->insert->index >= from;
}

/* The rules, in order: facts first, then the models, then race. */
enum rw_verdict verdict__judge(const struct rw_window *w)
{
	const struct rw_insert *ins = w->insert;
	__u32 invalidator = w->op->task.tid;
	enum rw_fs_model model;

	if (ins->task.tid == invalidator)
		return VERDICT_SELF;
	/* Read once a direct-I/O write was on disk: what the write put there
	 * (engine.c, "Direct I/O"). */
	if (w->inval->flags & RW_INVAL_AFTER_WRITE)
		return VERDICT_LATE;
	/* A direct write that never invalidated again went through the page
	 * cache instead, or failed: the page holds what the file does. */
	if (w->dio_unpaired)
		return VERDICT_LATE;
	/* The old blocks are gone: the page reads what replaced them. */
	if (w->nfree && ins->hdr.ts > w->last_free_ts)
		return VERDICT_LATE;
	if (w->op_ended && ins->hdr.ts > w->op_end_ts)
		return VERDICT_LATE;
	if (rejected(w))
		return VERDICT_REJECTED;
	if (w->deleted && (!w->op_ended || w->delete_ts <= w->op_end_ts))
		return w->delete_tid == invalidator ? VERDICT_TRANSIENT : VERDICT_EVICTED;
	/* A direct-I/O write's second invalidation dropped what was read
	 * before the write landed (engine.c, dio_settle()). */
	if (w->deleted && w->second_inval_end_ts && w->delete_ts <= w->second_inval_end_ts)
		return w->delete_tid == w->second_inval_tid ? VERDICT_TRANSIENT : VERDICT_EVICTED;
	/* Whatever else was seen or lost, tmpfs has no blocks to go stale. */
	model = verdict__model(w->op->fstype, w->read_maps);
	if (model == FS_MODEL_SHMEM)
		return VERDICT_NO_BLOCKS;
	if (!w->op_ended)
		return w->op_expired ? VERDICT_EXPIRED : VERDICT_UNFINISHED;
	switch (w->page) {
	case PAGE_GONE:
		return VERDICT_EVICTED;	/* a deletion we did not see */
	case PAGE_ZERO_FILLED:
		/* its read found the mapping already gone, unless a shift
		 * moved data under it since */
		if (!zeros_shifted_over(w))
			return VERDICT_HOLE;
		break;
	case PAGE_MAPPED_MOVED:
		return VERDICT_LATE;	/* its read mapped the extents moved */
	case PAGE_READ_PENDING:
		/* btrfs only: its read maps the range after the operation
		 * returned, so after the extents went (a page inserted while
		 * the punch held the extent lock, its read waiting for it). */
		return VERDICT_LATE;
	default:
		break;
	}
	/* Evidence is missing: a deletion, free, page check or the insert
	 * record of another page may be what was lost. Never a confident race. */
	if (w->op_lost)
		return VERDICT_LOST;
	if (ins->flags & RW_INSERT_UNTRACKED)
		return VERDICT_UNTRACKED;
	/* Its end is only known to precede the task's next operation. */
	if (w->op_flags & RW_OP_END_NO_RETURN)
		return VERDICT_NO_RETURN;
	/* Neither a race nor a clearance without a model of its locks. */
	if (model == FS_MODEL_NONE)
		return VERDICT_UNMODELLED;
	/*
	 * Where the lock can be read it decides: a modelled filesystem drops
	 * the pages and frees the blocks inside one exclusive section, so
	 * an insert outside it came before the drop (which then removes it)
	 * or after the frees (it reads current data).
	 */
	if (model == FS_MODEL_INVALIDATE_LOCK) {
		switch (exclusive_section(w)) {
		case SECTION_OUTSIDE:
			return VERDICT_UNLOCKED;
		case SECTION_INSIDE:
		case SECTION_UNKNOWN:
			break;
		}
	}
	if (straddles_drop(w))
		return VERDICT_STRADDLING;
	/* No PAGE record: whether it was still cached, and read from what,
	 * is unknown (README "Verdicts": on 5.10 most such windows left no
	 * stale page). */
	if (w->page == PAGE_UNCHECKED)
		return VERDICT_UNCHECKED;
	/* On btrfs only a read seen mapping an extent with data is stale. */
	if (model == FS_MODEL_BTRFS && w->page != PAGE_FROM_DISK)
		return VERDICT_UNCHECKED;
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
