// SPDX-License-Identifier: GPL-2.0
/*
 * The verdict rules one by one (README "Verdicts"), on windows built by
 * hand: every fact the engine would gather is set explicitly, so each test
 * states one rule, and both sides of it where the order of events matters.
 * Times in ns; tid 100 invalidates, 200 reads, 300 is a third task.
 */
#include <errno.h>
#include "harness.h"
#include "verdict.h"
#include "suites.h"

#define INVALIDATOR	100
#define READER		200
#define THIRD		300

static struct rw_insert ins;
static struct rw_op_begin op;
static struct rw_inval_begin inval;

/*
 * A punch of pages 10-20 on ext4 whose blocks were freed at 30, returning 0
 * at 40; a reader's single page 15 inserted at 25, after the drop ended at
 * 20, still cached and read from disk. On a kernel without
 * invalidate_lock, with fentry: the one race all other tests vary.
 */
static struct rw_window race_window(void)
{
	struct rw_window w = {
		.insert = &ins,
		.op = &op,
		.inval = &inval,
		.inval_end_ts = 20,
		.op_ended = true,
		.op_end_ts = 40,
		.nfree = 1,
		.first_free_ts = 30,
		.last_free_ts = 30,
		.page = PAGE_FROM_DISK,
	};

	memset(&ins, 0, sizeof(ins));
	memset(&op, 0, sizeof(op));
	memset(&inval, 0, sizeof(inval));
	op.hdr.ts = 5;
	op.task.tid = op.task.pid = INVALIDATOR;
	op.kind = RW_OP_FALLOCATE;
	op.mode = RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE;
	strcpy(op.fstype, "ext4");
	inval.hdr.ts = 10;
	inval.first = 10;
	inval.last = 20;
	inval.fn = RW_INVAL_TRUNCATE;
	ins.hdr.ts = 25;
	ins.task.tid = ins.task.pid = READER;
	ins.index = 15;
	ins.nr_pages = 1;
	return w;
}

/* Tracepoint mode on 6.18: the window is the syscall, derived from its
 * arguments; the reader's insert saw invalidate_lock as lock says. */
static struct rw_window derived_window(__u8 lock, __u32 owner)
{
	struct rw_window w = race_window();

	inval.hdr.ts = 5;
	inval.fn = RW_INVAL_DERIVED;
	w.inval_end_ts = 0;
	ins.locks.invalidate_lock.state = lock;
	ins.locks.invalidate_lock.owner_tid = owner;
	ins.locks.invalidate_lock.owner_pid = owner;
	if (lock == RW_LOCK_READ)
		ins.locks.invalidate_lock.readers = 1;
	return w;
}

static void test_baseline_is_race(void)
{
	struct rw_window w = race_window();

	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "the baseline");
	w = derived_window(RW_LOCK_WRITE, INVALIDATOR);
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "derived, inside the exclusive section");
}

/* ---- rule 1: rejected ---- */

static void test_rejected_errors(void)
{
	static const int refused[] = { EINVAL, EOPNOTSUPP, EBADF, EPERM, EACCES, ETXTBSY,
				       EFBIG, ENODEV, ESPIPE, EISDIR, ENOSYS };
	/* These can come after pages were dropped. */
	static const int after[] = { ENOSPC, EIO, EINTR, ENOMEM, EROFS, EDQUOT, EUCLEAN, 512 };
	struct rw_window w;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		w = derived_window(RW_LOCK_WRITE, INVALIDATOR);
		w.op_ret = -refused[i];
		ASSERT_EQ(verdict__judge(&w), VERDICT_REJECTED, "refused before the page cache");
		ASSERT_TRUE(verdict__rejects(-refused[i]), "in the list");
	}
	for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		w = derived_window(RW_LOCK_WRITE, INVALIDATOR);
		w.op_ret = -after[i];
		ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "an error after the drop keeps its window");
		ASSERT_TRUE(!verdict__rejects(-after[i]), "not in the list");
	}
	ASSERT_TRUE(!verdict__rejects(0), "success");
	ASSERT_TRUE(!verdict__rejects(EINVAL), "a positive value is no error");
}

/* The misaligned xfs collapse of the stress-ng report: EINVAL after xfs
 * took invalidate_lock, the inserter holding it in its own fallocate. */
static void test_rejected_misaligned_collapse(void)
{
	struct rw_window w = derived_window(RW_LOCK_WRITE, READER);

	strcpy(op.fstype, "xfs");
	op.mode = RW_FALLOC_COLLAPSE_RANGE;
	inval.first = 0;
	inval.last = RW_PAGE_EOF;
	w.nfree = 0;
	w.first_free_ts = w.last_free_ts = 0;
	w.page = PAGE_UNCHECKED;
	w.op_ret = -EINVAL;
	ASSERT_EQ(verdict__judge(&w), VERDICT_REJECTED, "verdict");
	/* Lost records cannot undo a refusal: its return was seen. */
	w.op_lost = 3;
	ASSERT_EQ(verdict__judge(&w), VERDICT_REJECTED, "with lost records");
	/* On an unmodelled filesystem the return says the same. */
	strcpy(op.fstype, "btrfs");
	ASSERT_EQ(verdict__judge(&w), VERDICT_REJECTED, "btrfs");
}

/* Inserted before the refused call returned: rejected; after: late, as
 * after any return (the engine promises late or self past the end). */
static void test_rejected_both_orders(void)
{
	struct rw_window w = derived_window(RW_LOCK_FREE, 0);

	w.op_ret = -EOPNOTSUPP;
	w.nfree = 0;
	w.first_free_ts = w.last_free_ts = 0;
	ins.hdr.ts = 25;
	ASSERT_EQ(verdict__judge(&w), VERDICT_REJECTED, "insert before the return");
	ins.hdr.ts = 45;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LATE, "insert after the return");
	/* The invalidator's own insert stays self. */
	ins.task.tid = INVALIDATOR;
	ASSERT_EQ(verdict__judge(&w), VERDICT_SELF, "self");
}

/* Only a derived window rests on the return value: with fentry or kprobes a
 * window exists because truncate_inode_pages_range() really ran. */
static void test_rejected_needs_derived_window(void)
{
	struct rw_window w = race_window();

	w.op_ret = -EINVAL;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "fentry: the drop happened");
	w = derived_window(RW_LOCK_WRITE, INVALIDATOR);
	w.op_ret = -EINVAL;
	w.op_flags = RW_OP_END_NO_RETURN;
	ASSERT_EQ(verdict__judge(&w), VERDICT_NO_RETURN, "no return seen: ret is not its");
	w = derived_window(RW_LOCK_WRITE, INVALIDATOR);
	w.op_ended = false;
	w.op_ret = -EINVAL;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNFINISHED, "still running");
}

/* ---- rule 2: locks decide where the kernel has them ---- */

static void test_lock_inside_exclusive_section(void)
{
	struct rw_window w = derived_window(RW_LOCK_WRITE, INVALIDATOR);

	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "the invalidator held it W");
	w = race_window();
	ins.locks.invalidate_lock = (struct rw_lock){ .state = RW_LOCK_WRITE,
						      .owner_tid = INVALIDATOR,
						      .owner_pid = INVALIDATOR };
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "fentry on 5.15+: same rule");
}

static void test_lock_outside_exclusive_section(void)
{
	struct rw_window w;

	w = derived_window(RW_LOCK_READ, READER);
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNLOCKED, "readers held it");
	w = derived_window(RW_LOCK_FREE, 0);
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNLOCKED, "free");
	w = derived_window(RW_LOCK_WRITE, READER);
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNLOCKED, "the inserter held it W itself");
	w = derived_window(RW_LOCK_WRITE, THIRD);
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNLOCKED, "a third task held it W");
	/* A reader inserted, then blocks were freed: the free was in a later
	 * exclusive section, which the model says also dropped the range. */
	w = race_window();
	ins.locks.invalidate_lock = (struct rw_lock){ .state = RW_LOCK_READ, .readers = 1 };
	ASSERT_TRUE(w.nfree && ins.hdr.ts < w.first_free_ts, "frees after the insert");
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNLOCKED, "fentry on 5.15+: unlocked");
}

/* One operation, inserts on both sides of its exclusive section. */
static void test_lock_both_orders(void)
{
	struct rw_window w;

	/* Before the invalidator took the lock (syscall entry, i_rwsem). */
	w = derived_window(RW_LOCK_FREE, 0);
	ins.hdr.ts = 6;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNLOCKED, "before the section");
	/* Inside it, by a path that does not take the lock. */
	w = derived_window(RW_LOCK_WRITE, INVALIDATOR);
	ins.hdr.ts = 25;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "inside the section");
	/* After it released the lock, before the syscall returned. */
	w = derived_window(RW_LOCK_READ, READER);
	w.nfree = 0;
	w.first_free_ts = w.last_free_ts = 0;
	ins.hdr.ts = 38;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNLOCKED, "after the section");
}

static void test_lock_unreadable_keeps_timing(void)
{
	struct rw_window w;

	w = derived_window(RW_LOCK_ABSENT, 0);
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "absent (5.10): timing");
	w = derived_window(RW_LOCK_UNREADABLE, 0);
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "unreadable: timing");
	/* W whose owner BPF could not name (set after the count's cmpxchg). */
	w = derived_window(RW_LOCK_WRITE, 0);
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "writer unknown: timing");
	/* Timing still clears what it cleared. */
	w = derived_window(RW_LOCK_ABSENT, 0);
	ins.hdr.ts = 35;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LATE, "after the last free");
}

/* ---- rule 3: partial edges and large folios ---- */

static void test_straddling_folio(void)
{
	struct rw_window w;

	/* Head before the range, inserted while the drop ran (5.10-style
	 * timing, no lock): zeroed and split, or kept, but not deleted. */
	w = race_window();
	ins.index = 8;
	ins.nr_pages = 4;
	ins.hdr.ts = 15;
	ASSERT_EQ(verdict__judge(&w), VERDICT_STRADDLING, "head outside, during the drop");
	/* Tail past the range. */
	ins.index = 19;
	ASSERT_EQ(verdict__judge(&w), VERDICT_STRADDLING, "tail outside, during the drop");
	/* The drop had not returned yet when the operation was judged. */
	w.inval_end_ts = 0;
	ins.hdr.ts = 25;
	ASSERT_EQ(verdict__judge(&w), VERDICT_STRADDLING, "drop still running");
	/* Wholly inside: the drop deletes it whole, so timing decides. */
	w = race_window();
	ins.index = 12;
	ins.nr_pages = 4;
	ins.hdr.ts = 15;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "wholly inside");
	ins.index = 17;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "ends on the last page");
}

/* Inserted after the drop returned, the drop never saw it: timing. */
static void test_straddling_both_orders(void)
{
	struct rw_window w = race_window();

	ins.index = 8;
	ins.nr_pages = 4;
	ins.hdr.ts = 20;
	ASSERT_EQ(verdict__judge(&w), VERDICT_STRADDLING, "at the drop's end");
	ins.hdr.ts = 21;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "after the drop's end");
}

static void test_straddling_derived(void)
{
	struct rw_window w;

	/* Derived windows do not know when the drop ran. */
	w = derived_window(RW_LOCK_ABSENT, 0);
	ins.index = 8;
	ins.nr_pages = 4;
	ASSERT_EQ(verdict__judge(&w), VERDICT_STRADDLING, "no lock");
	w = derived_window(RW_LOCK_WRITE, INVALIDATOR);
	ins.index = 8;
	ins.nr_pages = 4;
	ASSERT_EQ(verdict__judge(&w), VERDICT_STRADDLING, "inside the section");
	/* Where the lock is readable it decides first. */
	w = derived_window(RW_LOCK_READ, READER);
	ins.index = 8;
	ins.nr_pages = 4;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNLOCKED, "outside the section");
	/* No page count is one page. */
	w = derived_window(RW_LOCK_ABSENT, 0);
	ins.nr_pages = 0;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "nr_pages 0");
	/* A range to EOF holds any tail. */
	w = derived_window(RW_LOCK_ABSENT, 0);
	inval.last = RW_PAGE_EOF;
	ins.index = RW_PAGE_EOF - 1;
	ins.nr_pages = 16;
	ASSERT_EQ(verdict__judge(&w), VERDICT_STRADDLING, "past EOF's index");
	ins.index = 12;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "inside a range to EOF");
}

/* ---- rule 4: unchecked ---- */

static void test_unchecked(void)
{
	struct rw_window w = race_window();

	w.page = PAGE_UNCHECKED;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNCHECKED, "no PAGE record");
	w.page = PAGE_UNKNOWN;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "present, flag meaningless: timing");
	/* A clearance needs no page check. */
	w = derived_window(RW_LOCK_READ, READER);
	w.page = PAGE_UNCHECKED;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNLOCKED, "unlocked");
	w = race_window();
	w.page = PAGE_UNCHECKED;
	ins.hdr.ts = 35;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LATE, "late");
}

/* ---- rule 5: unmodelled ---- */

static void test_unmodelled(void)
{
	static const char *const others[] = { "btrfs", "f2fs", "nfs4", "gfs2", "" };
	static const char *const modelled[] = { "ext4", "ext3", "ext2", "xfs" };
	struct rw_window w;

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		w = race_window();
		strcpy(op.fstype, others[i]);
		ASSERT_EQ(verdict__judge(&w), VERDICT_UNMODELLED, "no race without a model");
		ASSERT_TRUE(!verdict__modelled(others[i]), "not modelled");
		/* Nor a lock-based clearance. */
		w = derived_window(RW_LOCK_READ, READER);
		strcpy(op.fstype, others[i]);
		ASSERT_EQ(verdict__judge(&w), VERDICT_UNMODELLED, "no clearance without a model");
		w.page = PAGE_UNCHECKED;
		ASSERT_EQ(verdict__judge(&w), VERDICT_UNMODELLED, "unchecked page too");
	}
	for (size_t i = 0; i < sizeof(modelled) / sizeof(modelled[0]); i++)
		ASSERT_TRUE(verdict__modelled(modelled[i]), "modelled");
	ASSERT_TRUE(!verdict__modelled("ext4x"), "a longer name is another filesystem");
}

/* ---- the shmem model: tmpfs has no blocks to go stale ---- */

static void test_shmem_model(void)
{
	struct rw_window w;

	w = race_window();
	strcpy(op.fstype, "tmpfs");
	inval.fn = RW_INVAL_SHMEM;
	w.nfree = 0;
	ASSERT_EQ(verdict__judge(&w), VERDICT_NO_BLOCKS, "read from disk says nothing on tmpfs");
	w.page = PAGE_UNCHECKED;
	w.op_lost = true;
	ASSERT_EQ(verdict__judge(&w), VERDICT_NO_BLOCKS, "nor lost evidence");
	w.op_ended = false;
	ASSERT_EQ(verdict__judge(&w), VERDICT_NO_BLOCKS, "nor an unfinished operation");
	ASSERT_TRUE(!verdict__race_class(VERDICT_NO_BLOCKS), "not race-class");
	/* The facts before the model still stand. */
	w = race_window();
	strcpy(op.fstype, "tmpfs");
	w.nfree = 0;
	w.deleted = true;
	w.delete_ts = 30;
	w.delete_tid = INVALIDATOR;
	ASSERT_EQ(verdict__judge(&w), VERDICT_TRANSIENT, "dropped again by the punch");
	w = race_window();
	strcpy(op.fstype, "tmpfs");
	ins.task.tid = INVALIDATOR;
	ASSERT_EQ(verdict__judge(&w), VERDICT_SELF, "its own insert");
	ASSERT_TRUE(!verdict__modelled("tmpfs"), "no invalidate_lock model");
}

/* ---- the btrfs model: what the inserter's read mapped decides ---- */

/* A btrfs punch in tracepoint mode: the reader holds invalidate_lock
 * shared, as every btrfs reader does, and btrfs frees nothing we see. */
static struct rw_window btrfs_window(enum rw_page_evidence page)
{
	struct rw_window w = derived_window(RW_LOCK_READ, READER);

	strcpy(op.fstype, "btrfs");
	w.nfree = 0;
	w.read_maps = READ_MAPS_BTRFS;
	w.page = page;
	return w;
}

static void test_btrfs_model(void)
{
	struct rw_window w;

	ASSERT_EQ(verdict__model("btrfs", READ_MAPS_BTRFS), FS_MODEL_BTRFS, "served");
	ASSERT_EQ(verdict__model("btrfs", READ_MAPS_EXT4), FS_MODEL_NONE, "no read-mapping role");
	ASSERT_EQ(verdict__model("ext4", READ_MAPS_EXT4 | READ_MAPS_BTRFS), FS_MODEL_INVALIDATE_LOCK, "ext4");
	ASSERT_EQ(verdict__model("tmpfs", READ_MAPS_EXT4 | READ_MAPS_BTRFS), FS_MODEL_SHMEM, "tmpfs");

	/* invalidate_lock held shared clears nothing on btrfs: the 6.18 race. */
	w = btrfs_window(PAGE_FROM_DISK);
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "read the old extent and survived");
	w = btrfs_window(PAGE_ZERO_FILLED);
	ASSERT_EQ(verdict__judge(&w), VERDICT_HOLE, "read the hole");
	w = btrfs_window(PAGE_READ_PENDING);
	ASSERT_EQ(verdict__judge(&w), VERDICT_LATE, "its read maps after the return");
	w = btrfs_window(PAGE_UNKNOWN);
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNCHECKED, "no mapping seen: never a race");
	w = btrfs_window(PAGE_UNCHECKED);
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNCHECKED, "no page record");
	/* Without the role the same window is unmodelled. */
	w = btrfs_window(PAGE_FROM_DISK);
	w.read_maps = 0;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNMODELLED, "no evidence to judge by");
	/* Facts first: a deletion before the return removed the old data. */
	w = btrfs_window(PAGE_FROM_DISK);
	w.deleted = true;
	w.delete_ts = 30;
	w.delete_tid = INVALIDATOR;
	ASSERT_EQ(verdict__judge(&w), VERDICT_TRANSIENT, "truncated again by the retry");
}

/*
 * What the PAGE record says, per filesystem: on btrfs read_map alone, where
 * its role serves; on ext4 PG_mappedtodisk, and where the flag is not set
 * yet, what the reader's block mapping returned (the 5.10 miss: old blocks
 * mapped, the flag still clear, judged hole).
 */
static void test_page_evidence_by_fs(void)
{
	const unsigned int all = READ_MAPS_EXT4 | READ_MAPS_BTRFS;
	static const struct {
		const char *fs;
		__u8 present, flag, blkbits, read_map;
		unsigned int roles;
		enum rw_page_evidence want;
		const char *what;
	} cases[] = {
		{ "btrfs", 1, 0, 12, RW_READ_MAP_DISK, all, PAGE_FROM_DISK, "btrfs: disk" },
		{ "btrfs", 1, 0, 12, RW_READ_MAP_ZEROS, all, PAGE_ZERO_FILLED,
		  "btrfs: hole or prealloc" },
		{ "btrfs", 1, 0, 12, RW_READ_MAP_PENDING, all, PAGE_READ_PENDING, "btrfs: pending" },
		{ "btrfs", 1, 0, 12, RW_READ_MAP_NONE, all, PAGE_UNKNOWN, "btrfs: none seen" },
		/* Without the role nothing marks btrfs reads: pending means only
		 * "not uptodate" there, never a late read. */
		{ "btrfs", 1, 0, 12, RW_READ_MAP_PENDING, READ_MAPS_EXT4, PAGE_UNKNOWN,
		  "btrfs, no role: pending" },
		{ "btrfs", 1, 0, 12, RW_READ_MAP_DISK, READ_MAPS_EXT4, PAGE_UNKNOWN,
		  "btrfs, no role: disk" },
		{ "btrfs", 0, 0, 12, RW_READ_MAP_DISK, all, PAGE_GONE, "btrfs: gone first" },
		{ "ext4", 1, 0, 12, RW_READ_MAP_NONE, all, PAGE_ZERO_FILLED, "ext4: read done, no flag" },
		{ "ext4", 1, 0, 12, RW_READ_MAP_PENDING, all, PAGE_ZERO_FILLED,
		  "ext4: not mapped yet, it will find the hole" },
		{ "ext4", 1, 0, 12, RW_READ_MAP_ZEROS, all, PAGE_ZERO_FILLED, "ext4: mapped a hole" },
		{ "ext4", 1, 0, 12, RW_READ_MAP_DISK, all, PAGE_MAPPED_DISK,
		  "ext4: mapped the old blocks, the flag not set yet" },
		{ "ext4", 1, 0, 12, RW_READ_MAP_DISK, READ_MAPS_BTRFS, PAGE_ZERO_FILLED,
		  "ext4, no role: the flag alone" },
		{ "ext3", 1, 0, 12, RW_READ_MAP_DISK, all, PAGE_MAPPED_DISK, "ext3 is ext4" },
		{ "ext4", 1, 0, 10, RW_READ_MAP_DISK, all, PAGE_UNKNOWN,
		  "ext4, 1k blocks: neither the flag nor one mapping speaks for the page" },
		{ "ext4", 1, 1, 12, RW_READ_MAP_ZEROS, all, PAGE_FROM_DISK, "ext4: the flag set" },
		/* The flag is ext4's alone: xfs never sets it, whatever read_map says. */
		{ "xfs", 1, 0, 12, RW_READ_MAP_DISK, all, PAGE_UNKNOWN, "xfs" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rw_page_state p = { .present = cases[i].present,
					   .mapped_to_disk = cases[i].flag,
					   .blkbits = cases[i].blkbits,
					   .read_map = cases[i].read_map };

		ASSERT_EQ(verdict__evidence(cases[i].fs, &p, 0, 0, 12, cases[i].roles), cases[i].want,
			  cases[i].what);
	}
}

/*
 * ext4 collapse or insert range began its shift at 100: an extent-tree
 * lookup after it waited for the shift and mapped the moved extents, one
 * before it (or an extent-cache hit, which the mark does not order) mapped
 * the old layout and is judged by the flag as before.
 */
static void test_page_evidence_after_shift(void)
{
	static const struct {
		__u8 flag, read_map, from;
		__u64 map_ts, shift_ts;
		unsigned int roles;
		enum rw_page_evidence want;
		const char *what;
	} cases[] = {
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_TREE, 150, 100, READ_MAPS_EXT4,
		  PAGE_MAPPED_MOVED, "tree lookup after the shift began, flag set" },
		{ 0, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_TREE, 150, 100, READ_MAPS_EXT4,
		  PAGE_MAPPED_MOVED, "the same, flag not set yet" },
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_TREE, 90, 100, READ_MAPS_EXT4,
		  PAGE_FROM_DISK, "tree lookup before it: the old layout" },
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_TREE, 100, 100, READ_MAPS_EXT4,
		  PAGE_FROM_DISK, "at the same ns: not after" },
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 150, 100, READ_MAPS_EXT4,
		  PAGE_FROM_DISK, "extent-cache hit: not ordered by the mark" },
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_TREE, 150, 0, READ_MAPS_EXT4,
		  PAGE_FROM_DISK, "no shift (a punch)" },
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_TREE, 150, 100, READ_MAPS_BTRFS,
		  PAGE_FROM_DISK, "without the ext4 role" },
		{ 0, RW_READ_MAP_ZEROS, RW_READ_MAP_FROM_EXT4_TREE, 150, 100, READ_MAPS_EXT4,
		  PAGE_ZERO_FILLED, "a hole after the shift is a hole" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rw_page_state p = { .present = 1, .mapped_to_disk = cases[i].flag,
					   .blkbits = 12, .read_map = cases[i].read_map,
					   .read_map_from = cases[i].from,
					   .read_map_ts = cases[i].map_ts, .uptodate = 1 };

		ASSERT_EQ(verdict__evidence("ext4", &p, cases[i].shift_ts, 0, 12, cases[i].roles),
			  cases[i].want, cases[i].what);
	}
	/* 1k blocks: one mapping does not speak for the page. */
	{
		struct rw_page_state p = { .present = 1, .blkbits = 10,
					   .read_map = RW_READ_MAP_DISK,
					   .read_map_from = RW_READ_MAP_FROM_EXT4_TREE,
					   .read_map_ts = 150 };

		ASSERT_EQ(verdict__evidence("ext4", &p, 100, 0, 12, READ_MAPS_EXT4), PAGE_UNKNOWN,
			  "1k blocks");
	}
}

/*
 * The shift began at 100 and a read of the inode looked the extent tree up
 * at 200, so the shift was over by then: a page that went in after 200 was
 * mapped after it, even from the extent cache, and reads the moved
 * extents. One that went in before is judged as without it.
 */
static void test_page_evidence_after_shift_over(void)
{
	static const struct {
		__u8 flag, read_map, from;
		__u64 insert_ts, map_ts, over_ts;
		enum rw_page_evidence want;
		const char *what;
	} cases[] = {
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 210, 220, 200,
		  PAGE_MAPPED_MOVED, "cache hit of a page inserted after the shift was over" },
		{ 1, RW_READ_MAP_NONE, 0, 210, 0, 200,
		  PAGE_MAPPED_MOVED, "flag set, no mapping seen" },
		{ 0, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 210, 220, 200,
		  PAGE_MAPPED_MOVED, "mapped, flag not set yet" },
		{ 0, RW_READ_MAP_ZEROS, RW_READ_MAP_FROM_EXT4_ES, 210, 220, 200,
		  PAGE_ZERO_FILLED, "a hole is still a hole" },
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 190, 220, 200,
		  PAGE_FROM_DISK, "inserted before the shift was seen over" },
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 200, 220, 200,
		  PAGE_FROM_DISK, "at the same ns: not after" },
		{ 1, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 210, 220, 0,
		  PAGE_FROM_DISK, "no lookup seen after the shift began" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rw_page_state p = { .present = 1, .mapped_to_disk = cases[i].flag,
					   .blkbits = 12, .read_map = cases[i].read_map,
					   .read_map_from = cases[i].from,
					   .insert_ts = cases[i].insert_ts,
					   .read_map_ts = cases[i].map_ts, .uptodate = 1 };

		ASSERT_EQ(verdict__evidence("ext4", &p, 100, cases[i].over_ts, 12, READ_MAPS_EXT4),
			  cases[i].want, cases[i].what);
	}
	{
		struct rw_page_state p = { .present = 1, .mapped_to_disk = 1, .blkbits = 12,
					   .insert_ts = 210 };

		ASSERT_EQ(verdict__evidence("ext4", &p, 0, 200, 12, READ_MAPS_EXT4),
			  PAGE_FROM_DISK, "no shift: the mark means nothing");
		ASSERT_EQ(verdict__evidence("ext4", &p, 100, 200, 12, READ_MAPS_BTRFS),
			  PAGE_FROM_DISK, "without the ext4 role");
	}
}

/* A page whose read mapped the moved extents reads current data: late,
 * while the facts before the evidence still come first. */
static void test_moved_is_late(void)
{
	struct rw_window w = race_window();

	op.mode = RW_FALLOC_COLLAPSE_RANGE;
	w.page = PAGE_MAPPED_MOVED;
	ins.hdr.ts = 25;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LATE, "mapped after the shift");
	w.page = PAGE_FROM_DISK;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "the same insert, mapped before it");
	w.page = PAGE_MAPPED_MOVED;
	ins.task.tid = INVALIDATOR;
	ASSERT_EQ(verdict__judge(&w), VERDICT_SELF, "its own insert stays self");
	ASSERT_STREQ(engine__evidence_name(PAGE_MAPPED_MOVED), "moved", "its name");
}

/* The 5.10 miss: judged as a page read from disk, and facts still first. */
static void test_ext4_mapped_disk_is_race(void)
{
	struct rw_window w = race_window();

	w.page = PAGE_MAPPED_DISK;
	ASSERT_EQ(verdict__judge(&w), VERDICT_RACE, "mapped the old blocks and survived");
	w.page = PAGE_ZERO_FILLED;
	ASSERT_EQ(verdict__judge(&w), VERDICT_HOLE, "the same window, the flag alone");
	w = race_window();
	w.page = PAGE_MAPPED_DISK;
	ins.hdr.ts = 35;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LATE, "inserted after the last free");
	ASSERT_STREQ(engine__evidence_name(PAGE_MAPPED_DISK), "mapped-disk", "its name");
}

/* Facts stay facts on any filesystem. */
static void test_unmodelled_keeps_facts(void)
{
	struct rw_window w;

	w = race_window();
	strcpy(op.fstype, "btrfs");
	ins.task.tid = INVALIDATOR;
	ASSERT_EQ(verdict__judge(&w), VERDICT_SELF, "self");
	w = race_window();
	strcpy(op.fstype, "btrfs");
	w.nfree = 0;
	ins.hdr.ts = 41;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LATE, "after the return");
	w = race_window();
	strcpy(op.fstype, "btrfs");
	w.deleted = true;
	w.delete_ts = 30;
	w.delete_tid = INVALIDATOR;
	ASSERT_EQ(verdict__judge(&w), VERDICT_TRANSIENT, "transient");
	w.delete_tid = THIRD;
	ASSERT_EQ(verdict__judge(&w), VERDICT_EVICTED, "evicted");
	w = race_window();
	strcpy(op.fstype, "btrfs");
	w.op_lost = 1;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LOST, "lost");
	w = race_window();
	strcpy(op.fstype, "btrfs");
	w.op_ended = false;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNFINISHED, "unfinished");
}

/* ---- rule 6: lost, untracked, unfinished, no-return, expired ---- */

static void test_incomplete_pictures(void)
{
	struct rw_window w;

	w = race_window();
	w.op_lost = 2;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LOST, "records lost");
	ins.flags = RW_INSERT_UNTRACKED;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LOST, "lost before untracked");
	w.op_lost = 0;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNTRACKED, "candidates map full");
	w = race_window();
	w.op_flags = RW_OP_END_NO_RETURN;
	ASSERT_EQ(verdict__judge(&w), VERDICT_NO_RETURN, "no return");
	w.op_lost = 1;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LOST, "lost before no-return");
	w = race_window();
	w.op_ended = false;
	ASSERT_EQ(verdict__judge(&w), VERDICT_UNFINISHED, "running at exit");
	w.op_expired = true;
	ASSERT_EQ(verdict__judge(&w), VERDICT_EXPIRED, "given up");
	/* A deletion seen before the end decides first. */
	w = race_window();
	w.op_lost = 1;
	w.deleted = true;
	w.delete_ts = 30;
	w.delete_tid = INVALIDATOR;
	ASSERT_EQ(verdict__judge(&w), VERDICT_TRANSIENT, "seen evidence stands");
	/* ... but not one after the end. */
	w.delete_ts = 41;
	ASSERT_EQ(verdict__judge(&w), VERDICT_LOST, "deleted after the end");
}

static void test_race_class(void)
{
	static const enum rw_verdict shown[] = {
		VERDICT_RACE, VERDICT_UNCHECKED, VERDICT_UNMODELLED, VERDICT_STRADDLING,
		VERDICT_LOST, VERDICT_UNTRACKED, VERDICT_UNFINISHED, VERDICT_NO_RETURN,
		VERDICT_EXPIRED,
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		ASSERT_TRUE(verdict__race_class(shown[i]), engine__verdict_name(shown[i]));
	for (int v = 0; v < VERDICT_MAX; v++) {
		n += verdict__race_class(v);
		ASSERT_TRUE(strcmp(engine__verdict_name(v), "?"), "every verdict is named");
	}
	ASSERT_EQ(n, sizeof(shown) / sizeof(shown[0]), "race-class verdicts");
	ASSERT_TRUE(!verdict__race_class(VERDICT_REJECTED), "rejected is not");
	ASSERT_TRUE(!verdict__race_class(VERDICT_UNLOCKED), "unlocked is not");
	ASSERT_STREQ(engine__verdict_name(VERDICT_NO_RETURN), "no-return", "name");
}

void suite_verdict(void)
{
	harness_suite("verdict");
	RUN(test_baseline_is_race);
	RUN(test_rejected_errors);
	RUN(test_rejected_misaligned_collapse);
	RUN(test_rejected_both_orders);
	RUN(test_rejected_needs_derived_window);
	RUN(test_lock_inside_exclusive_section);
	RUN(test_lock_outside_exclusive_section);
	RUN(test_lock_both_orders);
	RUN(test_lock_unreadable_keeps_timing);
	RUN(test_straddling_folio);
	RUN(test_straddling_both_orders);
	RUN(test_straddling_derived);
	RUN(test_unchecked);
	RUN(test_unmodelled);
	RUN(test_btrfs_model);
	RUN(test_shmem_model);
	RUN(test_page_evidence_by_fs);
	RUN(test_ext4_mapped_disk_is_race);
	RUN(test_page_evidence_after_shift);
	RUN(test_page_evidence_after_shift_over);
	RUN(test_moved_is_late);
	RUN(test_unmodelled_keeps_facts);
	RUN(test_incomplete_pictures);
	RUN(test_race_class);
}
