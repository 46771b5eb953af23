// SPDX-License-Identifier: GPL-2.0
/*
 * Verdict engine: window bookkeeping and the verdict rules, fed with record
 * sequences as the BPF side would emit them, including the ordering traps.
 * Times are in arbitrary ns; tid 100 invalidates, tids 200/201 read.
 */
#include "harness.h"
#include "engine.h"
#include "suites.h"

#define INVALIDATOR	100
#define READER		200
#define OTHER		201
#define OP		7

static const struct rw_inode_key KEY = { .dev = 7 << 20 | 2, .gen = 42, .ino = 12 };

struct capture {
	struct rw_window w[16];
	struct rw_insert ins[16];
	int n;
	int forgotten;
};

static struct capture cap;
static struct engine *eng;

static void capture_window(const struct rw_window *w, void *ctx)
{
	if (cap.n < 16) {
		cap.ins[cap.n] = *w->insert;
		cap.w[cap.n] = *w;
		cap.w[cap.n].insert = &cap.ins[cap.n];
		/* op and inval point into the engine, freed after the call */
		cap.w[cap.n].op = NULL;
		cap.w[cap.n].inval = NULL;
		cap.n++;
	}
}

static void capture_forget(const struct rw_inode_key *key, __u64 index, void *ctx)
{
	cap.forgotten++;
}

/* read_maps: the read-mapping roles served (enum rw_read_maps). */
static void setup_read_maps(unsigned int read_maps)
{
	struct engine_opts opts = {
		.on_window = capture_window,
		.on_forget = capture_forget,
		.grace_ns = 5,
		.page_shift = 12,
		.read_maps = read_maps,
	};

	memset(&cap, 0, sizeof(cap));
	engine__free(eng);
	eng = engine__new(&opts);
}

static void setup(void)
{
	setup_read_maps(0);
}

static void feed(union rw_record *r, __u16 type, __u16 size, __u64 ts)
{
	r->hdr.type = type;
	r->hdr.size = size;
	r->hdr.ts = ts;
	engine__feed(eng, r);
}

/* The invalidator's operation, over [offset, offset + len) bytes. */
static void op_begin_range(__u64 op_id, __u32 kind, __u32 mode, const char *fstype,
			   __s64 offset, __s64 len, __u64 ts)
{
	union rw_record r = {};

	r.op_begin.op_id = op_id;
	r.op_begin.task.pid = INVALIDATOR;
	r.op_begin.task.tid = INVALIDATOR;
	r.op_begin.key = KEY;
	r.op_begin.kind = kind;
	r.op_begin.mode = mode;
	r.op_begin.offset = offset;
	r.op_begin.len = len;
	strcpy(r.op_begin.fstype, fstype);
	feed(&r, RW_REC_OP_BEGIN, sizeof(r.op_begin), ts);
}

static void op_begin_fs(__u64 op_id, __u32 kind, __u32 mode, const char *fstype, __u64 ts)
{
	op_begin_range(op_id, kind, mode, fstype, 0, 0, ts);
}

static void op_begin(__u64 op_id, __u32 kind, __u64 ts)
{
	op_begin_fs(op_id, kind, RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE, "ext4", ts);
}

static void inval_begin_flags(__u64 op_id, __u64 first, __u64 last, __u32 fn, __u32 flags,
			      __u64 ts)
{
	union rw_record r = {};

	r.inval_begin.op_id = op_id;
	r.inval_begin.key = KEY;
	r.inval_begin.first = first;
	r.inval_begin.last = last;
	r.inval_begin.fn = fn;
	r.inval_begin.flags = flags;
	feed(&r, RW_REC_INVAL_BEGIN, sizeof(r.inval_begin), ts);
}

static void inval_begin(__u64 op_id, __u64 first, __u64 last, __u32 fn, __u64 ts)
{
	inval_begin_flags(op_id, first, last, fn, 0, ts);
}

static void inval_end(__u64 op_id, __u64 ts)
{
	union rw_record r = {};

	r.inval_end.op_id = op_id;
	feed(&r, RW_REC_INVAL_END, sizeof(r.inval_end), ts);
}

/* A BLOCK_FREE of fs (enum rw_free_fs), which need not be a free. */
static void block_free_fs(__u64 op_id, __u32 fs, __u64 blocks, __u64 ts)
{
	union rw_record r = {};

	r.block_free.op_id = op_id;
	r.block_free.fs = fs;
	r.block_free.blocks = blocks;
	feed(&r, RW_REC_BLOCK_FREE, sizeof(r.block_free), ts);
}

static void block_free(__u64 op_id, __u64 ts)
{
	block_free_fs(op_id, RW_FREE_EXT4, 16, ts);
}

static void op_end(__u64 op_id, __s64 ret, __u64 ts)
{
	union rw_record r = {};

	r.op_end.op_id = op_id;
	r.op_end.ret = ret;
	feed(&r, RW_REC_OP_END, sizeof(r.op_end), ts);
}

static void insert_full(__u32 tid, struct rw_inode_key key, __u64 index, __u32 nr,
			__u8 inval_lock, __u32 flags, __u64 ts)
{
	union rw_record r = {};

	r.insert.task.pid = tid;
	r.insert.task.tid = tid;
	r.insert.key = key;
	r.insert.index = index;
	r.insert.nr_pages = nr;
	r.insert.stack_id = -1;
	r.insert.flags = flags;
	r.insert.locks.invalidate_lock.state = inval_lock;
	feed(&r, RW_REC_INSERT, sizeof(r.insert), ts);
}

static void insert(__u32 tid, __u64 index, __u64 ts)
{
	insert_full(tid, KEY, index, 1, RW_LOCK_ABSENT, 0, ts);
}

/* An insert that saw invalidate_lock (mmap_sem: ext4's i_mmap_sem, before
 * 5.15) in state, held by owner (0: none). */
static void insert_seeing(__u32 tid, __u64 index, __u32 nr, bool mmap_sem, __u8 state,
			  __u32 owner, __u64 ts)
{
	union rw_record r = {};
	struct rw_lock *l = mmap_sem ? &r.insert.locks.i_mmap_sem :
				       &r.insert.locks.invalidate_lock;

	r.insert.task.pid = tid;
	r.insert.task.tid = tid;
	r.insert.key = KEY;
	r.insert.index = index;
	r.insert.nr_pages = nr;
	r.insert.stack_id = -1;
	l->state = state;
	l->readers = state == RW_LOCK_READ;
	l->owner_pid = owner;
	l->owner_tid = owner;
	feed(&r, RW_REC_INSERT, sizeof(r.insert), ts);
}

static void insert_locked(__u32 tid, __u64 index, __u32 nr, __u8 state, __u32 owner, __u64 ts)
{
	insert_seeing(tid, index, nr, false, state, owner, ts);
}

/* A 5.10 insert: no invalidate_lock, ext4's i_mmap_sem as the inserter saw it. */
static void insert_mmap_sem(__u32 tid, __u64 index, __u8 state, __u32 owner, __u64 ts)
{
	insert_seeing(tid, index, 1, true, state, owner, ts);
}

static void delete(__u32 tid, __u64 index, __u64 ts)
{
	union rw_record r = {};

	r.del.tid = tid;
	r.del.key = KEY;
	r.del.index = index;
	feed(&r, RW_REC_DELETE, sizeof(r.del), ts);
}

/* What BPF saw of page index, inserted at insert_ts, at op_id's end (0: the
 * insert's own record, its window closed before its slot was written). */
static void page_record(__u64 op_id, __u64 index, __u64 insert_ts, bool present, bool mapped,
			bool uptodate, __u8 blkbits, __u8 read_map, __u8 sent, __u64 ts)
{
	union rw_record r = {};

	r.page.op_id = op_id;
	r.page.key = KEY;
	r.page.index = index;
	r.page.insert_ts = insert_ts;
	r.page.present = present;
	r.page.mapped_to_disk = mapped;
	r.page.blkbits = blkbits;
	r.page.uptodate = uptodate;
	r.page.read_map = read_map;
	r.page.sent = sent;
	feed(&r, RW_REC_PAGE, sizeof(r.page), ts);
}

static void page_state_of(__u64 op_id, __u64 index, __u64 insert_ts, bool present, bool mapped,
			  bool uptodate, __u8 blkbits, __u8 read_map, __u64 ts)
{
	page_record(op_id, index, insert_ts, present, mapped, uptodate, blkbits, read_map,
		    op_id ? RW_PAGE_SENT_AT_END : RW_PAGE_SENT_LATE, ts);
}

static void page_state_map(__u64 index, __u64 insert_ts, bool present, bool mapped,
			   bool uptodate, __u8 blkbits, __u8 read_map, __u64 ts)
{
	page_state_of(OP, index, insert_ts, present, mapped, uptodate, blkbits, read_map, ts);
}

/* The PAGE record an insert sends itself once its window has closed: no
 * operation, 4 KiB blocks, pending while not uptodate (fill_page_state()). */
static void late_page_state(__u64 index, __u64 insert_ts, bool present, bool mapped,
			    bool uptodate, __u64 ts)
{
	page_state_of(0, index, insert_ts, present, mapped, uptodate, 12,
		      present && !uptodate ? RW_READ_MAP_PENDING : RW_READ_MAP_NONE, ts);
}

static void page_state(__u64 index, __u64 insert_ts, bool present, bool mapped,
		       __u8 blkbits, __u64 ts)
{
	page_state_map(index, insert_ts, present, mapped, false, blkbits, RW_READ_MAP_NONE, ts);
}

/* The page check found it cached and read from disk. */
static void checked(__u64 index, __u64 insert_ts)
{
	page_state(index, insert_ts, true, true, 12, 40);
}

/* A punch of pages 10-20 on 5.10: drop 10..20, free at 30, return at 40. */
static void punch_510(void)
{
	op_begin(OP, RW_OP_FALLOCATE, 5);
	inval_begin(OP, 10, 20, RW_INVAL_TRUNCATE, 10);
}

/* punch_510() with its drop over at 20 and pages 14, 15 and 16 inserted
 * by the reader at 24, 25 and 26. */
static void punch_three_inserts(void)
{
	punch_510();
	inval_end(OP, 20);
	insert(READER, 14, 24);
	insert(READER, 15, 25);
	insert(READER, 16, 26);
}

static void finish_punch(void)
{
	inval_end(OP, 20);
	block_free(OP, 30);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
}

static void test_race_after_drop(void)
{
	setup();
	punch_510();
	inval_end(OP, 20);
	insert(READER, 15, 25);		/* dropped, blocks not yet freed */
	block_free(OP, 30);
	checked(15, 25);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "verdict");
	ASSERT_EQ(cap.w[0].phase, PHASE_DROPPED, "phase");
	ASSERT_EQ(cap.forgotten, 1, "surviving page handed back to BPF");
	ASSERT_EQ(engine__stats(eng)->verdicts[VERDICT_RACE], 1, "race count");
}

/* Inserted while the truncation runs, then truncated by it: not a race. */
static void test_transient_during_drop(void)
{
	setup();
	punch_510();
	insert(READER, 18, 12);
	delete(INVALIDATOR, 18, 14);
	finish_punch();
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_TRANSIENT, "verdict");
	ASSERT_EQ(cap.w[0].phase, PHASE_DROPPING, "phase");
	ASSERT_EQ(cap.forgotten, 0, "deleted pages need no cleanup");
}

/*
 * Ordering trap: in tracepoint mode the window opens at the syscall, before
 * the invalidator takes its lock. A reader's insert there is legitimate and
 * the truncation that follows removes it.
 */
static void test_insert_before_lock_is_truncated(void)
{
	setup();
	op_begin(OP, RW_OP_FALLOCATE, 5);
	inval_begin(OP, 10, 20, RW_INVAL_DERIVED, 5);
	insert(READER, 12, 6);
	delete(INVALIDATOR, 12, 8);
	block_free(OP, 30);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_TRANSIENT, "verdict");
	ASSERT_EQ(cap.w[0].phase, PHASE_BEFORE_FREE, "phase");
}

/* fentry mode: an insert before truncate_inode_pages_range began is no
 * candidate at all (BPF never sends it; the engine must not attribute it). */
static void test_insert_before_window(void)
{
	setup();
	op_begin(OP, RW_OP_FALLOCATE, 5);
	insert(READER, 12, 8);
	inval_begin(OP, 10, 20, RW_INVAL_TRUNCATE, 10);
	finish_punch();
	ASSERT_EQ(cap.n, 0, "windows judged");
	ASSERT_EQ(engine__stats(eng)->unattributed, 1, "unattributed inserts");
}

static void test_late_after_free(void)
{
	setup();
	punch_510();
	inval_end(OP, 20);
	block_free(OP, 30);
	insert(READER, 15, 35);		/* blocks already gone: reads zeros */
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_LATE, "verdict");
	ASSERT_EQ(cap.w[0].phase, PHASE_AFTER_FREE, "phase");
}

/* Frees come extent by extent: the window lasts until the last one. */
static void test_window_lasts_until_last_free(void)
{
	setup();
	punch_510();
	inval_end(OP, 20);
	block_free(OP, 22);
	insert(READER, 15, 24);
	block_free(OP, 26);
	checked(15, 24);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "verdict");
	ASSERT_EQ(cap.w[0].phase, PHASE_FREEING, "phase");
}

/*
 * The page was inserted in the window but its read looked the range up after
 * the extents were gone: ext4 zero-filled it and left PG_mappedtodisk clear.
 * A page read from the old blocks has it set and stays a race.
 */
static void test_page_evidence(void)
{
	setup();
	punch_510();
	inval_end(OP, 20);
	insert(READER, 14, 24);
	insert(READER, 15, 25);
	block_free(OP, 30);
	page_state(14, 24, true, true, 12, 40);
	page_state(15, 25, true, false, 12, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 2, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "read from disk");
	ASSERT_EQ(cap.w[0].page, PAGE_FROM_DISK, "evidence: disk");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_HOLE, "zero-filled");
	/* The summary's page checks: no read mapping was marked here. */
	ASSERT_EQ(engine__stats(eng)->page_read_maps[RW_READ_MAP_NONE], 2, "cached, none seen");
	ASSERT_EQ(engine__stats(eng)->pages_flagged, 1, "one with the flag");
	ASSERT_EQ(engine__stats(eng)->pages_flagged_mapped, 0, "and no mapping seen");
}

/* punch_510() with one insert, of page 14 at 24, between the drop and the
 * free: what the page check then says decides. */
static void punch_one_insert(void)
{
	punch_510();
	inval_end(OP, 20);
	insert(READER, 14, 24);
	block_free(OP, 30);
}

/*
 * The 5.10 miss: the reader had mapped the old blocks and not yet set
 * PG_mappedtodisk. With the ext4 read-mapping role its mark decides; the
 * page checks count both signals, and a page gone is not counted.
 */
static void test_page_mapped_before_flag(void)
{
	const struct engine_stats *st;

	setup_read_maps(READ_MAPS_EXT4);
	punch_three_inserts();
	block_free(OP, 30);
	page_state_map(14, 24, true, false, false, 12, RW_READ_MAP_DISK, 40);
	page_state_map(15, 25, true, true, false, 12, RW_READ_MAP_DISK, 40);
	page_state_map(16, 26, false, false, false, 12, RW_READ_MAP_DISK, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 3, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "mapped the old blocks, no flag yet");
	ASSERT_EQ(cap.w[0].page, PAGE_MAPPED_DISK, "evidence: mapped-disk");
	ASSERT_EQ(cap.w[1].page, PAGE_FROM_DISK, "the flag first");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_EVICTED, "gone at the check");
	st = engine__stats(eng);
	ASSERT_EQ(st->page_read_maps[RW_READ_MAP_DISK], 2, "cached pages mapped to disk");
	ASSERT_EQ(st->pages_flagged, 1, "flagged");
	ASSERT_EQ(st->pages_flagged_mapped, 1, "flagged and mapped");
	ASSERT_EQ(st->pages_mapped_unflagged, 0, "no read ended against its mark");

	/* A read that ended (uptodate) without the flag zero-filled the page:
	 * a disk mark on it is wrong, and counted. Judged by the mark still:
	 * the count is what the tests hold to 0. */
	setup_read_maps(READ_MAPS_EXT4);
	punch_one_insert();
	page_state_map(14, 24, true, false, true, 12, RW_READ_MAP_DISK, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(engine__stats(eng)->pages_mapped_unflagged, 1, "a wrong mark counted");

	/* Without the role the same record is the flag alone: hole. */
	setup();
	punch_one_insert();
	page_state_map(14, 24, true, false, false, 12, RW_READ_MAP_DISK, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "window judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_HOLE, "no role: hole");
}

/* The flag only speaks where the read path sets it and a block fills a page. */
static void test_page_evidence_limits(void)
{
	setup();
	punch_510();
	insert(READER, 14, 24);
	insert(READER, 15, 25);
	insert(READER, 16, 26);
	page_state(14, 24, true, false, 10, 40);	/* 1 KiB blocks */
	page_state(15, 25, false, false, 12, 40);	/* gone, no delete seen */
	page_state(16, 99, true, false, 12, 40);	/* another insert's state */
	finish_punch();
	ASSERT_EQ(cap.n, 3, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "small blocks: no conclusion");
	ASSERT_EQ(cap.w[0].page, PAGE_UNKNOWN, "small blocks evidence");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_EVICTED, "gone at the end");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_UNCHECKED, "mismatched insert time: never a race");
	ASSERT_EQ(cap.w[2].page, PAGE_UNCHECKED, "unchecked");
}

/* One invalidation of a direct-I/O write over pages 10-20, as op_id, by
 * the invalidator: the first (flags 0) or the second
 * (RW_INVAL_AFTER_WRITE), from ts to ts + 10. */
static void dio_inval_begin(__u64 op_id, __u32 flags, __u64 ts)
{
	op_begin_fs(op_id, RW_OP_INVALIDATE, 0, "ext4", ts);
	inval_begin_flags(op_id, 10, 20, RW_INVAL_PAGES2, flags, ts);
}

static void dio_inval_end(__u64 op_id, __u64 ts)
{
	inval_end(op_id, ts);
	op_end(op_id, 0, ts);
}

/*
 * Direct I/O: a page read during the write's first invalidation holds the
 * data from before the write, and the second drops it once the write is on
 * disk. The first is judged once the second ended: dropped by it, the
 * page is transient; left cached by it, stale (race). One read during the
 * second read the write's data (late). With no second within its wait the
 * write went through the page cache, or failed: late, and counted.
 */
static void test_dio_write(void)
{
	const struct engine_stats *st;

	setup();
	dio_inval_begin(OP, 0, 10);
	insert(READER, 14, 12);
	insert(READER, 15, 13);
	checked(14, 12);
	checked(15, 13);
	dio_inval_end(OP, 20);
	engine__tick(eng, 20 + 5 + 100);
	ASSERT_EQ(cap.n, 0, "the first waits for its second");
	dio_inval_begin(OP + 1, RW_INVAL_AFTER_WRITE, 200);
	delete(INVALIDATOR, 14, 203);
	insert(READER, 16, 204);
	checked(16, 204);
	dio_inval_end(OP + 1, 210);
	engine__tick(eng, 210 + 4);
	ASSERT_EQ(cap.n, 0, "both once the grace after the second passed");
	engine__tick(eng, 210 + 5);
	ASSERT_EQ(cap.n, 3, "windows judged, the newest operation first");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_LATE, "read once the write was on disk");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_TRANSIENT, "dropped by the second");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_RACE, "left cached by the second: stale");
	st = engine__stats(eng);
	ASSERT_EQ(st->dio_second_seen, 1, "one first settled by its second");
	ASSERT_EQ(st->dio_second_missing, 0, "none waited out");

	/* Another task's invalidation is not this write's second. */
	setup();
	dio_inval_begin(OP, 0, 10);
	insert(READER, 14, 12);
	checked(14, 12);
	dio_inval_end(OP, 20);
	{
		union rw_record r = {};

		r.op_begin.op_id = OP + 2;
		r.op_begin.task.pid = r.op_begin.task.tid = OTHER;
		strcpy(r.op_begin.task.comm, "writer2");
		r.op_begin.key = KEY;
		r.op_begin.kind = RW_OP_INVALIDATE;
		strcpy(r.op_begin.fstype, "ext4");
		feed(&r, RW_REC_OP_BEGIN, sizeof(r.op_begin), 300);
	}
	inval_begin_flags(OP + 2, 10, 20, RW_INVAL_PAGES2, RW_INVAL_AFTER_WRITE, 300);
	dio_inval_end(OP + 2, 310);
	engine__tick(eng, 400);
	ASSERT_EQ(cap.n, 0, "still waiting for its own second");
	engine__tick(eng, 20 + 5 + 1000000000ULL);
	ASSERT_EQ(cap.n, 1, "waited out");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_LATE, "no second: a buffered or failed write");
	ASSERT_EQ(engine__stats(eng)->dio_second_missing, 1, "counted");
	ASSERT_EQ(engine__stats(eng)->dio_second_seen, 0, "no second of its own");
	ASSERT_EQ(engine__stats(eng)->dio_buffered, 0, "its first did not fail");

	/* The first failed (-EBUSY) and no second came: the write fell back
	 * to buffered I/O, through the cached page; counted apart. */
	setup();
	dio_inval_begin(OP, 0, 10);
	insert(READER, 14, 12);
	checked(14, 12);
	inval_end(OP, 20);
	op_end(OP, -16, 20);
	engine__tick(eng, 20 + 5 + 1000000000ULL);
	ASSERT_EQ(cap.n, 1, "waited out");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_LATE, "the buffered write's data");
	ASSERT_EQ(engine__stats(eng)->dio_buffered, 1, "counted");
}

static void test_page_evidence_needs_mpage_fs(void)
{
	union rw_record r = {};

	setup();
	r.op_begin.op_id = OP;
	r.op_begin.task.tid = INVALIDATOR;
	r.op_begin.key = KEY;
	r.op_begin.kind = RW_OP_FALLOCATE;
	strcpy(r.op_begin.fstype, "xfs");	/* iomap never sets the flag */
	feed(&r, RW_REC_OP_BEGIN, sizeof(r.op_begin), 5);
	inval_begin(OP, 10, 20, RW_INVAL_TRUNCATE, 10);
	insert(READER, 15, 25);
	page_state(15, 25, true, false, 12, 40);
	finish_punch();
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "xfs: timing verdict stands");
	ASSERT_EQ(cap.w[0].page, PAGE_UNKNOWN, "xfs evidence");
}

static void test_self_insert(void)
{
	setup();
	punch_510();
	insert(INVALIDATOR, 15, 25);	/* e.g. zeroing a partial block */
	finish_punch();
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_SELF, "verdict");
}

static void test_evicted_by_other_task(void)
{
	setup();
	punch_510();
	insert(READER, 15, 25);
	delete(OTHER, 15, 35);		/* reclaim, before the op returned */
	finish_punch();
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_EVICTED, "verdict");
}

/* Still in the cache when the operation returned: stale, even if evicted later. */
static void test_deleted_after_end_is_race(void)
{
	setup();
	punch_510();
	insert(READER, 15, 25);
	inval_end(OP, 20);
	block_free(OP, 30);
	checked(15, 25);
	op_end(OP, 0, 40);
	delete(OTHER, 15, 41);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "verdict");
	ASSERT_TRUE(cap.w[0].deleted, "deletion recorded");
}

static void test_unlocked_without_free(void)
{
	setup();
	op_begin(OP, RW_OP_FALLOCATE, 5);
	inval_begin(OP, 10, 20, RW_INVAL_TRUNCATE, 10);
	inval_end(OP, 20);
	/* readers hold invalidate_lock: the invalidator had released it */
	insert_full(READER, KEY, 15, 1, RW_LOCK_READ, 0, 25);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_UNLOCKED, "verdict");
	ASSERT_EQ(cap.w[0].phase, PHASE_UNFREED, "phase");
}

/* Same, on a kernel without invalidate_lock (5.10): a race until return. */
static void test_unfreed_race_without_lock(void)
{
	setup();
	op_begin(OP, RW_OP_FALLOCATE, 5);
	inval_begin(OP, 10, 20, RW_INVAL_TRUNCATE, 10);
	inval_end(OP, 20);
	insert(READER, 15, 25);
	checked(15, 25);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "verdict");
	ASSERT_EQ(cap.w[0].phase, PHASE_UNFREED, "phase");
}

/*
 * 5.15+ with fentry: blocks freed after a reader's insert. ext4 and xfs
 * drop and free inside one exclusive section, so readers holding the lock
 * put the insert outside it: the lock decides, not the timing.
 */
static void test_shared_insert_before_free_is_unlocked(void)
{
	setup();
	punch_510();
	inval_end(OP, 20);
	insert_full(READER, KEY, 15, 1, RW_LOCK_READ, 0, 25);
	checked(15, 25);
	finish_punch();
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_UNLOCKED, "verdict");
}

static void test_out_of_range_and_other_inode(void)
{
	struct rw_inode_key reused = KEY;

	setup();
	punch_510();
	insert(READER, 21, 25);			/* past the dropped range */
	reused.gen++;				/* same number, new inode */
	insert_full(READER, reused, 15, 1, RW_LOCK_ABSENT, 0, 26);
	finish_punch();
	ASSERT_EQ(cap.n, 0, "windows judged");
	ASSERT_EQ(engine__stats(eng)->unattributed, 2, "unattributed inserts");
}

/* A large folio starting before the range still overlaps it. */
static void test_large_folio_overlap(void)
{
	setup();
	punch_510();
	insert_full(READER, KEY, 8, 4, RW_LOCK_ABSENT, 0, 25);
	checked(8, 25);
	finish_punch();		/* the drop ended at 20, before the insert */
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "verdict");
}

/* The same folio while the drop ran: split or zeroed, never deleted by its
 * head index, so no deletion can say what happened to it. */
static void test_large_folio_during_drop(void)
{
	setup();
	punch_510();
	insert_full(READER, KEY, 8, 4, RW_LOCK_ABSENT, 0, 15);
	insert_full(READER, KEY, 12, 4, RW_LOCK_ABSENT, 0, 16);	/* wholly inside */
	checked(8, 15);
	checked(12, 16);
	finish_punch();
	ASSERT_EQ(cap.n, 2, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_STRADDLING, "straddling");
	ASSERT_EQ(cap.w[0].phase, PHASE_DROPPING, "phase");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_RACE, "inside: deleted whole if dropped");
}

/* Dropped by the op, read back in: the second copy is the stale one. */
static void test_reinsert_after_delete(void)
{
	setup();
	punch_510();
	insert(READER, 15, 12);
	delete(INVALIDATOR, 15, 14);
	insert(READER, 15, 25);
	checked(15, 25);
	finish_punch();
	ASSERT_EQ(cap.n, 2, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_TRANSIENT, "first insert");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_RACE, "second insert");
}

/*
 * Tracepoint mode on 6.18: an xfs collapse that xfs refuses (misaligned,
 * EINVAL) opens a window over pages 0..EOF at syscall entry; the inserter
 * is another task in its own fallocate, holding invalidate_lock itself.
 * Its INSERT may arrive before or after the OP_END (other CPU).
 */
static void test_rejected_operation(void)
{
	for (int late_record = 0; late_record < 2; late_record++) {
		setup();
		op_begin_fs(OP, RW_OP_FALLOCATE, RW_FALLOC_COLLAPSE_RANGE, "xfs", 5);
		inval_begin(OP, 0, RW_PAGE_EOF, RW_INVAL_DERIVED, 5);
		if (!late_record)
			insert_locked(READER, 3, 1, RW_LOCK_WRITE, READER, 8);
		insert_locked(OTHER, 4, 1, RW_LOCK_WRITE, INVALIDATOR, 9);
		op_end(OP, -22, 10);
		if (late_record)
			insert_locked(READER, 3, 1, RW_LOCK_WRITE, READER, 8);
		engine__tick(eng, 1000);
		ASSERT_EQ(cap.n, 2, "windows judged");
		ASSERT_EQ(cap.w[0].verdict, VERDICT_REJECTED, "first window");
		ASSERT_EQ(cap.w[1].verdict, VERDICT_REJECTED, "second window");
		ASSERT_EQ(cap.w[0].op_ret, -22, "the error is carried to the report");
		ASSERT_EQ(engine__stats(eng)->verdicts[VERDICT_REJECTED], 2, "counted");
		ASSERT_EQ(engine__stats(eng)->verdicts[VERDICT_RACE], 0, "no race");
	}
}

/* An error that comes from the work itself keeps the windows. */
static void test_failed_after_drop_keeps_windows(void)
{
	setup();
	op_begin(OP, RW_OP_FALLOCATE, 5);
	inval_begin(OP, 10, 20, RW_INVAL_DERIVED, 5);
	insert_locked(READER, 15, 1, RW_LOCK_WRITE, INVALIDATOR, 25);
	checked(15, 25);
	op_end(OP, -28, 40);	/* ENOSPC */
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "verdict");
	ASSERT_EQ(cap.w[0].op_ret, -28, "ret");
}

/*
 * Tracepoint mode on 6.18, one ext4 punch: a writer's insert before the
 * punch took invalidate_lock (free), one by a path that ignores the lock
 * inside the punch's exclusive section, and a reader's after the punch let
 * go of it but before the syscall returned (shared). Fed in timestamp
 * order and with every INSERT arriving after the OP_END.
 */
static void test_lock_decides_tracepoint_window(void)
{
	for (int late_records = 0; late_records < 2; late_records++) {
		setup();
		op_begin(OP, RW_OP_FALLOCATE, 5);
		inval_begin(OP, 10, 20, RW_INVAL_DERIVED, 5);
		if (late_records)
			op_end(OP, 0, 40);
		insert_locked(OTHER, 11, 1, RW_LOCK_FREE, 0, 6);
		insert_locked(OTHER, 12, 1, RW_LOCK_WRITE, INVALIDATOR, 20);
		insert_locked(READER, 13, 1, RW_LOCK_READ, READER, 38);
		checked(11, 6);
		checked(12, 20);
		checked(13, 38);
		if (!late_records)
			op_end(OP, 0, 40);
		engine__tick(eng, 1000);
		ASSERT_EQ(cap.n, 3, "windows judged");
		ASSERT_EQ(cap.w[0].verdict, VERDICT_UNLOCKED, "before the section");
		ASSERT_EQ(cap.w[1].verdict, VERDICT_RACE, "inside it");
		ASSERT_EQ(cap.w[2].verdict, VERDICT_UNLOCKED, "after it");
	}
}

/* btrfs has locks of its own: never a confident verdict from racewatch's. */
static void test_unmodelled_filesystem(void)
{
	setup();
	op_begin_fs(OP, RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE, "btrfs", 5);
	inval_begin(OP, 10, 20, RW_INVAL_DERIVED, 5);
	insert_locked(READER, 15, 1, RW_LOCK_FREE, 0, 25);
	insert_locked(READER, 16, 1, RW_LOCK_READ, READER, 26);
	insert_locked(READER, 17, 1, RW_LOCK_FREE, 0, 27);
	delete(INVALIDATOR, 17, 28);
	checked(15, 25);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 3, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_UNMODELLED, "no race");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_UNMODELLED, "no lock clearance");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_TRANSIENT, "a seen deletion stays a fact");
}

static void test_grace_period(void)
{
	setup();
	punch_510();
	insert(READER, 15, 25);
	inval_end(OP, 20);
	block_free(OP, 30);
	op_end(OP, 0, 40);
	engine__tick(eng, 44);		/* grace is 5: not yet */
	ASSERT_EQ(cap.n, 0, "judged before the grace period");
	engine__tick(eng, 45);
	ASSERT_EQ(cap.n, 1, "judged after the grace period");
}

static void test_flush_unfinished(void)
{
	setup();
	punch_510();
	insert(READER, 15, 25);
	engine__flush(eng);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_UNFINISHED, "verdict");
}

static void test_untracked(void)
{
	setup();
	punch_510();
	insert_full(READER, KEY, 15, 1, RW_LOCK_ABSENT, RW_INSERT_UNTRACKED, 25);
	finish_punch();
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_UNTRACKED, "verdict");
}

static void test_orphans_and_stats(void)
{
	const struct inode_stats *in;
	size_t n;

	setup();
	inval_begin(99, 1, 2, RW_INVAL_TRUNCATE, 1);	/* OP_BEGIN lost */
	op_end(99, 0, 2);
	punch_510();
	insert(READER, 15, 25);
	checked(15, 25);
	finish_punch();
	op_begin(OP + 1, RW_OP_TRUNCATE, 50);
	inval_begin(OP + 1, 0, RW_PAGE_EOF, RW_INVAL_TRUNCATE, 51);
	op_end(OP + 1, -5, 60);
	op_begin(OP + 2, RW_OP_INVALIDATE, 70);
	engine__flush(eng);
	ASSERT_EQ(engine__stats(eng)->orphans, 2, "orphan records");
	in = engine__inodes(eng, &n);
	ASSERT_EQ(n, 1, "inodes");
	ASSERT_EQ(in[0].ops, 2, "operations");
	ASSERT_EQ(in[0].ops_ok, 1, "successful operations");
	ASSERT_EQ(in[0].bare_invals, 1, "bare invalidations");
	ASSERT_EQ(in[0].invalidations, 2, "invalidations");
	ASSERT_EQ(in[0].inserts, 1, "candidate inserts");
	ASSERT_EQ(in[0].verdicts[VERDICT_RACE], 1, "races");
	ASSERT_STREQ(in[0].fstype, "ext4", "fs type");
}

/* OP_END as BPF sends it when something about the operation was lost. */
static void op_end_lossy(__u64 op_id, __u32 flags, __u32 lost, __u64 ts)
{
	union rw_record r = {};

	r.op_end.op_id = op_id;
	r.op_end.flags = flags;
	r.op_end.lost = lost;
	feed(&r, RW_REC_OP_END, sizeof(r.op_end), ts);
}

/* A lost record (a DELETE, a free, a PAGE) may be what made it a race. */
static void test_lost_records_never_race(void)
{
	setup();
	punch_510();
	inval_end(OP, 20);
	insert(READER, 15, 25);
	block_free(OP, 30);
	op_end_lossy(OP, 0, 3, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_LOST, "verdict");
	ASSERT_EQ(cap.w[0].op_lost, 3, "lost records carried to the report");
	ASSERT_EQ(engine__stats(eng)->ops_incomplete, 1, "incomplete operations");
	ASSERT_EQ(engine__stats(eng)->verdicts[VERDICT_RACE], 0, "no race");
}

/* Evidence that was seen still decides: a transient page stays transient. */
static void test_lost_records_keep_seen_evidence(void)
{
	setup();
	punch_510();
	insert(READER, 15, 12);
	delete(INVALIDATOR, 15, 14);
	inval_end(OP, 20);
	block_free(OP, 30);
	op_end_lossy(OP, 0, 1, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_TRANSIENT, "verdict");
}

/* BPF closed it when the task began another operation: end unknown. */
static void test_missed_return_is_no_return(void)
{
	setup();
	punch_510();
	inval_end(OP, 20);
	insert(READER, 15, 25);
	op_end_lossy(OP, RW_OP_END_NO_RETURN, 0, 900);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 1, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_NO_RETURN, "verdict");
	ASSERT_EQ(engine__stats(eng)->ops_no_return, 1, "operations without return");
}

static void test_unwatched_counted(void)
{
	setup();
	punch_510();
	op_end_lossy(OP, RW_OP_END_UNWATCHED, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 0, "no window: none was watched");
	ASSERT_EQ(engine__stats(eng)->ops_unwatched, 1, "unwatched operations");
}

static struct rw_op_begin expired_op;
static int nexpired;

static void capture_expire(const struct rw_op_begin *op, void *ctx)
{
	expired_op = *op;
	nexpired++;
}

/* An operation whose return never comes is given up after max_op_age. */
static void test_expiry(void)
{
	struct engine_opts opts = {
		.on_window = capture_window,
		.on_expire = capture_expire,
		.grace_ns = 5,
		.page_shift = 12,
		.max_op_age_ns = 100,
	};

	memset(&cap, 0, sizeof(cap));
	nexpired = 0;
	engine__free(eng);
	eng = engine__new(&opts);
	punch_510();			/* begins at 5 */
	insert(READER, 15, 25);
	engine__tick(eng, 104);
	ASSERT_EQ(nexpired, 0, "not yet: 99 ns old");
	engine__tick(eng, 105);
	ASSERT_EQ(nexpired, 1, "expired at 100 ns");
	ASSERT_EQ(expired_op.op_id, OP, "the expired operation, for BPF to release");
	ASSERT_EQ(expired_op.task.tid, INVALIDATOR, "its task");
	ASSERT_EQ(cap.n, 1, "its candidate judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_EXPIRED, "verdict");
	ASSERT_TRUE(cap.w[0].op_expired, "window says expired");
	ASSERT_EQ(engine__stats(eng)->ops_expired, 1, "expired count");
	/* Its late records are orphans, not a new operation. */
	op_end(OP, 0, 200);
	ASSERT_EQ(engine__stats(eng)->orphans, 1, "late OP_END");
	engine__tick(eng, 10000);
	ASSERT_EQ(cap.n, 1, "nothing judged twice");
}

/* Whatever BPF sends, the engine's memory stays bounded. */
static void test_bounds(void)
{
	setup();
	for (__u64 i = 0; i < ENGINE_MAX_OPS + 10; i++)
		op_begin(1000 + i, RW_OP_FALLOCATE, 5);
	ASSERT_EQ(engine__stats(eng)->ops_dropped, 10, "operations over the bound");
	engine__flush(eng);

	setup();
	punch_510();
	inval_end(OP, 20);
	for (__u64 i = 0; i < ENGINE_MAX_CANDS + 3; i++)
		insert(READER, 15, 25);
	block_free(OP, 30);
	op_end(OP, 0, 40);
	memset(&cap, 0, sizeof(cap));
	engine__tick(eng, 1000);
	ASSERT_EQ(engine__stats(eng)->cands_dropped, 3, "candidates over the bound");
	ASSERT_EQ(engine__stats(eng)->verdicts[VERDICT_LOST], ENGINE_MAX_CANDS,
		  "kept candidates are judged lost");
	ASSERT_EQ(engine__stats(eng)->verdicts[VERDICT_RACE], 0, "no race");
}

/* An engine with some bounds shrunk (0 keeps a default). */
static void setup_bounded(struct engine_bounds bounds)
{
	struct engine_opts opts = {
		.on_window = capture_window,
		.on_forget = capture_forget,
		.grace_ns = 5,
		.page_shift = 12,
		.bounds = bounds,
	};

	memset(&cap, 0, sizeof(cap));
	engine__free(eng);
	eng = engine__new(&opts);
}

static void op_begin_on(__u64 op_id, struct rw_inode_key key, __u64 ts)
{
	union rw_record r = {};

	r.op_begin.op_id = op_id;
	r.op_begin.task.tid = INVALIDATOR;
	r.op_begin.key = key;
	r.op_begin.kind = RW_OP_FALLOCATE;
	strcpy(r.op_begin.fstype, "ext4");
	feed(&r, RW_REC_OP_BEGIN, sizeof(r.op_begin), ts);
}

static void test_bound_ops(void)
{
	setup_bounded((struct engine_bounds){ .ops = 3 });
	for (__u64 i = 0; i < 5; i++)
		op_begin(1000 + i, RW_OP_FALLOCATE, 5);
	ASSERT_EQ(engine__stats(eng)->ops_dropped, 2, "operations over the bound");
	op_end(1000, 0, 6);
	engine__tick(eng, 100);
	op_begin(2000, RW_OP_FALLOCATE, 101);
	ASSERT_EQ(engine__stats(eng)->ops_dropped, 2, "a judged operation frees its place");
	engine__flush(eng);
	ASSERT_EQ(engine__stats(eng)->ops_open, 3, "open at flush");
}

/* Two operations cover the same pages: each insert is a candidate of both,
 * and the bound on all candidates counts both. */
static void test_bound_cands_total(void)
{
	setup_bounded((struct engine_bounds){ .cands_total = 4 });
	op_begin(OP, RW_OP_FALLOCATE, 5);
	inval_begin(OP, 10, 20, RW_INVAL_TRUNCATE, 10);
	op_begin(OP + 1, RW_OP_FALLOCATE, 6);
	inval_begin(OP + 1, 10, 20, RW_INVAL_TRUNCATE, 11);
	insert(READER, 12, 20);
	insert(READER, 13, 21);
	insert(READER, 14, 22);
	ASSERT_EQ(engine__stats(eng)->cands_dropped, 2, "candidates over the total");
	engine__flush(eng);
	ASSERT_EQ(cap.n, 4, "kept candidates judged");
	ASSERT_TRUE(cap.w[0].op_lost > 0 && cap.w[2].op_lost > 0, "both operations lossy");
	ASSERT_EQ(engine__stats(eng)->verdicts[VERDICT_UNFINISHED], 4, "unfinished");
	/* Judged operations give their candidates' room back. */
	op_begin(OP + 2, RW_OP_FALLOCATE, 30);
	inval_begin(OP + 2, 10, 20, RW_INVAL_TRUNCATE, 31);
	for (__u64 i = 0; i < 4; i++)
		insert(READER, 10 + i, 32 + i);
	ASSERT_EQ(engine__stats(eng)->cands_dropped, 2, "room again after judging");
}

static void test_bound_cands_per_op(void)
{
	setup_bounded((struct engine_bounds){ .cands = 2 });
	punch_510();
	op_begin(OP + 1, RW_OP_FALLOCATE, 6);
	inval_begin(OP + 1, 0, 100, RW_INVAL_TRUNCATE, 11);
	insert(READER, 12, 20);
	insert(READER, 13, 21);
	insert(READER, 14, 22);		/* third for both: dropped in both */
	insert(READER, 50, 23);		/* only OP + 1 covers it: full */
	ASSERT_EQ(engine__stats(eng)->cands_dropped, 3, "candidates over the bound");
	engine__flush(eng);
	ASSERT_EQ(cap.n, 4, "two kept per operation");
}

static void test_bound_invals(void)
{
	setup_bounded((struct engine_bounds){ .invals = 2, .invals_total = 3 });
	op_begin(OP, RW_OP_FALLOCATE, 5);
	op_begin(OP + 1, RW_OP_FALLOCATE, 5);
	inval_begin(OP, 0, 1, RW_INVAL_TRUNCATE, 6);
	inval_begin(OP, 2, 3, RW_INVAL_TRUNCATE, 7);
	inval_begin(OP, 4, 5, RW_INVAL_TRUNCATE, 8);		/* over 2 per op */
	inval_begin(OP + 1, 0, 1, RW_INVAL_TRUNCATE, 9);
	inval_begin(OP + 1, 2, 3, RW_INVAL_TRUNCATE, 10);	/* over 3 in all */
	ASSERT_EQ(engine__stats(eng)->invals_dropped, 2, "invalidations over the bounds");
	insert(READER, 4, 11);		/* in the dropped one: not attributed */
	ASSERT_EQ(engine__stats(eng)->unattributed, 1, "its insert");
	insert(READER, 1, 12);
	op_end(OP, 0, 20);
	op_end(OP + 1, 0, 20);
	engine__tick(eng, 100);
	ASSERT_EQ(cap.n, 2, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_LOST, "a lost drop makes it lost");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_LOST, "in both operations");
	op_begin(OP + 2, RW_OP_FALLOCATE, 101);
	inval_begin(OP + 2, 0, 1, RW_INVAL_TRUNCATE, 102);
	inval_begin(OP + 2, 2, 3, RW_INVAL_TRUNCATE, 103);
	ASSERT_EQ(engine__stats(eng)->invals_dropped, 2, "room again after judging");
}

/* Past the bound, an inode's counts are folded into one "other" row, so
 * that the totals still add up; each such inode is counted once. */
static void test_bound_inodes(void)
{
	struct rw_inode_key keys[3] = { KEY, KEY, KEY };
	const struct inode_stats *in, *other;
	__u64 sum = 0;
	size_t n;

	keys[1].ino++;
	keys[2].ino += 2;
	setup_bounded((struct engine_bounds){ .inodes = 2 });
	for (int i = 0; i < 3; i++) {
		op_begin_on(OP + i, keys[i], 5);
		inval_begin(OP + i, 10, 20, RW_INVAL_TRUNCATE, 10);
		insert_full(READER, keys[i], 15, 1, RW_LOCK_ABSENT, 0, 25);
		insert_full(READER, keys[i], 16, 1, RW_LOCK_ABSENT, 0, 26);
		op_end(OP + i, 0, 40);
	}
	engine__tick(eng, 1000);
	in = engine__inodes(eng, &n);
	other = engine__inodes_other(eng);
	ASSERT_EQ(n, 2, "inodes with a row");
	ASSERT_EQ(in[1].key.ino, KEY.ino + 1, "first come, first kept");
	ASSERT_EQ(engine__stats(eng)->inodes_dropped, 1, "inodes folded, once each");
	ASSERT_EQ(other->ops, 1, "its operation");
	ASSERT_EQ(other->ops_ok, 1, "its success");
	ASSERT_EQ(other->inserts, 2, "its inserts");
	ASSERT_EQ(other->verdicts[VERDICT_UNCHECKED], 2, "its windows (no page check: unchecked)");
	for (int v = 0; v < VERDICT_MAX; v++)
		sum += in[0].verdicts[v] + in[1].verdicts[v] + other->verdicts[v];
	ASSERT_EQ(sum, cap.n, "rows and other add up to every verdict");
}

/* One insert is a candidate of each operation that covers it; the page is
 * handed back to BPF only once no live operation watches it. */
static void test_overlapping_operations(void)
{
	setup();
	punch_510();
	op_begin(OP + 1, RW_OP_FALLOCATE, 6);
	inval_begin(OP + 1, 12, 30, RW_INVAL_TRUNCATE, 11);
	insert(READER, 15, 25);
	insert(READER, 16, 26);
	delete(OTHER, 16, 27);		/* deleted in both */
	op_end(OP + 1, 0, 40);
	engine__tick(eng, 100);
	ASSERT_EQ(cap.n, 2, "the ended operation's candidates");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_EVICTED, "its deleted one");
	ASSERT_EQ(cap.forgotten, 0, "page 15 still watched by the other");
	block_free(OP, 110);
	op_end(OP, 0, 120);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 4, "then the other's");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_UNCHECKED, "page 15 in the other (no page check)");
	ASSERT_EQ(cap.w[3].verdict, VERDICT_EVICTED, "page 16 deleted there too");
	ASSERT_EQ(cap.forgotten, 1, "page 15 handed back once");
}

/* Operations are judged when due, in any order of their ends. */
static void test_due_out_of_order(void)
{
	setup();
	op_begin(OP, RW_OP_FALLOCATE, 5);
	inval_begin(OP, 10, 20, RW_INVAL_TRUNCATE, 6);
	op_begin(OP + 1, RW_OP_FALLOCATE, 7);
	inval_begin(OP + 1, 30, 40, RW_INVAL_TRUNCATE, 8);
	insert(READER, 15, 9);
	insert(READER, 35, 9);
	op_end(OP, 0, 100);		/* arrives first, ends later */
	op_end(OP + 1, 0, 50);
	engine__tick(eng, 60);
	ASSERT_EQ(cap.n, 1, "only the earlier end is due");
	ASSERT_EQ(cap.ins[0].index, 35, "the one that ended first");
	op_end(OP, 0, 200);		/* a second OP_END moves it */
	engine__tick(eng, 150);
	ASSERT_EQ(cap.n, 1, "moved by the second end");
	engine__tick(eng, 205);
	ASSERT_EQ(cap.n, 2, "then due");
}

/*
 * ext4 zero range on 5.10, as BPF reports it: drop 10..20, convert the
 * extents to unwritten at 30 (a BLOCK_FREE of fs RW_FREE_EXT4_CONVERT),
 * return at 40. A page read before the conversion holds old data; one
 * inserted after it reads zeros and is late, whatever its page check.
 */
static void test_zero_range_conversion_ends_window(void)
{
	setup();
	op_begin(OP, RW_OP_FALLOCATE, 5);
	inval_begin(OP, 10, 20, RW_INVAL_TRUNCATE, 10);
	inval_end(OP, 20);
	insert(READER, 11, 25);		/* read before the conversion */
	insert(READER, 12, 26);		/* inserted before, read after it */
	block_free_fs(OP, RW_FREE_EXT4_CONVERT, 11, 30);
	insert(READER, 13, 35);		/* after the conversion */
	page_state(11, 25, true, true, 12, 40);
	page_state(12, 26, true, false, 12, 40);
	page_state(13, 35, true, true, 12, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 3, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "read old blocks before the conversion");
	ASSERT_EQ(cap.w[0].phase, PHASE_DROPPED, "phase before the conversion");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_HOLE, "zero-filled after the conversion");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_LATE, "inserted after the conversion");
	ASSERT_EQ(cap.w[2].phase, PHASE_AFTER_FREE, "phase after the conversion");
}

/* A PAGE record, uptodate, whose mark (read_map) came from lookup "from"
 * at map_ts. */
static void page_read_map(__u64 index, __u64 insert_ts, bool mapped, __u8 read_map,
			  __u8 from, __u64 map_ts, __u64 ts)
{
	union rw_record r = {};

	r.page.op_id = OP;
	r.page.key = KEY;
	r.page.index = index;
	r.page.insert_ts = insert_ts;
	r.page.present = 1;
	r.page.mapped_to_disk = mapped;
	r.page.blkbits = 12;
	r.page.uptodate = 1;
	r.page.read_map = read_map;
	r.page.read_map_from = from;
	r.page.read_map_ts = map_ts;
	feed(&r, RW_REC_PAGE, sizeof(r.page), ts);
}

/* A PAGE record whose disk mark came from lookup "from" at map_ts. */
static void page_mapped_by(__u64 index, __u64 insert_ts, bool mapped, __u8 from,
			   __u64 map_ts, __u64 ts)
{
	page_read_map(index, insert_ts, mapped, RW_READ_MAP_DISK, from, map_ts, ts);
}

/* An ext4 insert range began at 5 and dropped 10..EOF from 10 to 20. */
static void insert_range_dropped(void)
{
	setup_read_maps(READ_MAPS_EXT4);
	op_begin_fs(OP, RW_OP_FALLOCATE, RW_FALLOC_INSERT_RANGE, "ext4", 5);
	inval_begin(OP, 10, RW_PAGE_EOF, RW_INVAL_TRUNCATE, 10);
	inval_end(OP, 20);
}

/*
 * ext4 insert range on 5.10, as BPF reports it: drop 10..EOF, shift the
 * extents from 30 (a BLOCK_FREE of fs RW_FREE_EXT4_SHIFT, no free), return
 * at 40. Every page inserted before the shift is in the window, and its
 * read decides: an extent-tree lookup after 30 mapped the moved extents
 * (late), one before it or an extent-cache hit the old layout (race).
 */
static void test_insert_range_shift(void)
{
	insert_range_dropped();
	insert(READER, 11, 25);
	insert(READER, 12, 26);
	insert(READER, 13, 27);
	block_free_fs(OP, RW_FREE_EXT4_SHIFT, 0, 30);
	page_mapped_by(11, 25, true, RW_READ_MAP_FROM_EXT4_TREE, 28, 40);
	page_mapped_by(12, 26, true, RW_READ_MAP_FROM_EXT4_TREE, 35, 40);
	page_mapped_by(13, 27, true, RW_READ_MAP_FROM_EXT4_ES, 35, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 3, "windows judged");
	ASSERT_EQ(cap.w[0].nfree, 0, "the shift is not a free");
	ASSERT_EQ(cap.w[0].shift_ts, 30, "its time reaches the window");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "mapped the old layout");
	ASSERT_EQ(cap.w[0].phase, PHASE_UNFREED, "no free: unfreed");
	ASSERT_EQ(cap.w[1].page, PAGE_MAPPED_MOVED, "mapped after the shift began");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_LATE, "reads the moved extents");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_RACE, "a cache hit is judged by the flag");
}

/*
 * The same insert range, its shift seen over: page 11's read looked the
 * extent tree up at 32, after the shift began at 30, so it waited for the
 * shift to end. Page 13 went in at 34, after that, and its extent-cache hit
 * maps the moved extents (late); page 12 went in at 31, between the two,
 * and its hit may still have found the old layout (race).
 */
static void test_insert_range_shift_over(void)
{
	insert_range_dropped();
	insert(READER, 11, 25);
	insert(READER, 12, 31);
	insert(READER, 13, 34);
	block_free_fs(OP, RW_FREE_EXT4_SHIFT, 0, 30);
	page_mapped_by(11, 25, true, RW_READ_MAP_FROM_EXT4_TREE, 32, 40);
	page_mapped_by(12, 31, true, RW_READ_MAP_FROM_EXT4_ES, 36, 40);
	page_mapped_by(13, 34, true, RW_READ_MAP_FROM_EXT4_ES, 36, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 3, "windows judged");
	ASSERT_EQ(cap.w[0].shift_over_ts, 32, "the first tree lookup after the shift");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_LATE, "its own tree lookup waited for the shift");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_RACE, "inserted before the shift was seen over");
	ASSERT_EQ(cap.w[2].page, PAGE_MAPPED_MOVED, "inserted after it");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_LATE, "reads the moved extents");
}

/* A PAGE record: the read mapped zeros (a hole) from lookup "from" at
 * map_ts, and zero-filled the page (flag clear). */
static void page_zeros_by(__u64 index, __u64 insert_ts, __u8 from, __u64 map_ts, __u64 ts)
{
	page_read_map(index, insert_ts, false, RW_READ_MAP_ZEROS, from, map_ts, ts);
}

/*
 * A hole read before the shift is a hole no longer where the shift moves
 * data under it. Insert range at page 10, 2 pages long, began at 5: the
 * gap is 10..11, the data moves to 12 on. Page 11 (in the gap) mapped a
 * hole before the shift at 30: correct zeros, hole. Page 13 (past the gap)
 * too: the shift then moved page 11's old data there, race. Page 14 mapped
 * its hole from the extent tree at 35, after the shift: hole. Page 15's
 * read was still to map at the check: the flag decides, hole.
 */
static void test_shift_over_hole_reads(void)
{
	setup_read_maps(READ_MAPS_EXT4);
	op_begin_range(OP, RW_OP_FALLOCATE, RW_FALLOC_INSERT_RANGE, "ext4", 10 << 12, 2 << 12, 5);
	inval_begin(OP, 10, RW_PAGE_EOF, RW_INVAL_TRUNCATE, 10);
	inval_end(OP, 20);
	insert(READER, 11, 25);
	insert(READER, 13, 26);
	insert(READER, 14, 27);
	insert(READER, 15, 28);
	block_free_fs(OP, RW_FREE_EXT4_SHIFT, 0, 30);
	page_zeros_by(11, 25, RW_READ_MAP_FROM_EXT4_TREE, 28, 40);
	page_zeros_by(13, 26, RW_READ_MAP_FROM_EXT4_ES, 29, 40);
	page_zeros_by(14, 27, RW_READ_MAP_FROM_EXT4_TREE, 35, 40);
	page_state_map(15, 28, true, false, false, 12, RW_READ_MAP_PENDING, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000 + RW_FOLLOW_WAIT_NS);
	ASSERT_EQ(cap.n, 4, "windows judged");
	ASSERT_EQ(cap.w[0].page, PAGE_ZERO_FILLED, "page 11: zero-filled");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_HOLE, "page 11: the gap's zeros are right");
	ASSERT_EQ(cap.w[1].page, PAGE_ZERO_FILLED, "page 13: zero-filled");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_RACE, "page 13: data moved under its zeros");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_HOLE, "page 14: a hole after the shift");
	ASSERT_EQ(cap.w[3].verdict, VERDICT_HOLE, "page 15: still to map, left to the flag");

	/* A punch's hole read is a hole, whenever it mapped. */
	setup();
	punch_510();
	insert(READER, 11, 25);
	page_zeros_by(11, 25, RW_READ_MAP_FROM_EXT4_TREE, 28, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000 + RW_FOLLOW_WAIT_NS);
	ASSERT_EQ(cap.n, 1, "window judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_HOLE, "punch: hole");
}

/* What an ext4 read by tid mapped of pages [first, last], sent at ts. */
static void followup(__u32 tid, __u64 first, __u64 last, __u8 kind, __u8 from, __u64 ts)
{
	union rw_record r = {};

	r.followup.key = KEY;
	r.followup.first = first;
	r.followup.last = last;
	r.followup.tid = tid;
	r.followup.read_map = kind;
	r.followup.read_map_from = from;
	feed(&r, RW_REC_FOLLOWUP, sizeof(r.followup), ts);
}

/* The punch of punch_510(), its reader's pages 14 and 15 inserted at 24
 * and 25, cached and still being read at its end (40): mapped says
 * whether page 14 had PG_mappedtodisk set already. */
static void punch_pending(bool mapped)
{
	setup_read_maps(READ_MAPS_EXT4);
	punch_510();
	inval_end(OP, 20);
	insert(READER, 14, 24);
	insert(READER, 15, 25);
	block_free(OP, 30);
	page_state_map(14, 24, true, mapped, false, 12, RW_READ_MAP_PENDING, 40);
	page_state_map(15, 25, true, false, false, 12, RW_READ_MAP_PENDING, 40);
	op_end(OP, 0, 40);
}

/*
 * The insert saw the window open, and the operation's walk ran before the
 * insert's slot was written: the insert sends the PAGE record itself, with
 * no operation, after OP_END (remember_page()). It is the evidence of the
 * ended operation that took the INSERT, never of another insert, and never
 * in place of the walk's own record.
 */
static void test_late_page(void)
{
	const struct engine_stats *st;

	setup();
	punch_three_inserts();
	block_free(OP, 30);
	checked(16, 26);		/* the walk saw this one */
	op_end(OP, 0, 40);
	late_page_state(14, 24, true, true, true, 41);
	late_page_state(16, 26, true, false, true, 41);	/* the walk's stands */
	late_page_state(15, 99, true, true, true, 41);	/* another insert's */
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 3, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "late evidence: read from disk");
	ASSERT_EQ(cap.w[0].page, PAGE_FROM_DISK, "evidence from the late record");
	ASSERT_EQ(cap.w[1].page, PAGE_UNCHECKED, "another insert's record is not its own");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_UNCHECKED, "and never a race");
	ASSERT_EQ(cap.w[2].page, PAGE_FROM_DISK, "the walk's record kept");
	st = engine__stats(eng);
	ASSERT_EQ(st->pages_late, 3, "late records");
	ASSERT_EQ(st->pages_late_used, 1, "one gave evidence");
	ASSERT_EQ(st->orphans, 0, "none orphaned");

	/* Its read still to come on ext4 with the read mappings followed: it
	 * waits for the follow-up like a page pending at the walk. */
	setup_read_maps(READ_MAPS_EXT4);
	punch_one_insert();
	op_end(OP, 0, 40);
	late_page_state(14, 24, true, false, false, 41);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 0, "waits for its follow-up");
	followup(READER, 14, 14, RW_READ_MAP_ZEROS, RW_READ_MAP_FROM_EXT4_TREE, 2000);
	engine__tick(eng, 40 + 5 + RW_FOLLOW_WAIT_NS);
	ASSERT_EQ(cap.n, 1, "window judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_HOLE, "its read found the hole");
	ASSERT_EQ(cap.w[0].page, PAGE_ZERO_FILLED, "evidence: zero-filled");
}

/*
 * Before 5.15, ext4's punch holds i_mmap_sem for writing over its whole
 * window; where it is readable (--btf-dir), an insert that saw it free came
 * after the section (unlocked), one that saw the invalidator hold it is in
 * it (race), and an unreadable one leaves timing to decide.
 */
static void test_i_mmap_sem_section(void)
{
	setup();
	punch_510();
	inval_end(OP, 20);
	insert_mmap_sem(READER, 14, RW_LOCK_WRITE, INVALIDATOR, 24);
	insert_mmap_sem(READER, 15, RW_LOCK_FREE, 0, 25);
	insert_mmap_sem(READER, 16, RW_LOCK_UNREADABLE, 0, 26);
	block_free(OP, 30);
	checked(14, 24);
	checked(15, 25);
	checked(16, 26);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 3, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "held by the invalidator: inside");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_UNLOCKED, "free: after the section");
	ASSERT_EQ(cap.w[2].verdict, VERDICT_RACE, "unreadable: timing decides");
}

/*
 * A wide window's later insert took the slot of a candidate still pending
 * (remember_page()): BPF sent the candidate's PAGE record then, before
 * OP_END and with no operation, and the walk at the end does not find it.
 * The record is the candidate's evidence; a read still to map it is
 * settled by its follow-up, as at the walk, and a delete after the record
 * decides as a delete always does.
 */
static void displaced_page(__u64 index, __u64 insert_ts, bool mapped, bool uptodate, __u64 ts)
{
	page_record(0, index, insert_ts, true, mapped, uptodate, 12,
		    uptodate ? RW_READ_MAP_NONE : RW_READ_MAP_PENDING, RW_PAGE_SENT_DISPLACED, ts);
}

static void test_displaced_page(void)
{
	const struct engine_stats *st;

	setup_read_maps(READ_MAPS_EXT4);
	punch_three_inserts();
	displaced_page(14, 24, false, false, 27);	/* its read still to map it */
	displaced_page(15, 25, true, true, 28);		/* read from disk */
	displaced_page(16, 26, true, true, 29);
	followup(READER, 14, 14, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 29);
	delete(READER, 16, 29);
	block_free(OP, 30);
	op_end(OP, 0, 40);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 3, "windows judged, no follow-up awaited");
	ASSERT_EQ(cap.w[0].page, PAGE_MAPPED_DISK, "its follow-up: the old extents");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "and it stayed cached");
	ASSERT_EQ(cap.w[1].page, PAGE_FROM_DISK, "the displaced record's flag");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_RACE, "never unchecked");
	ASSERT_TRUE(cap.w[2].verdict != VERDICT_RACE, "deleted after its record");
	ASSERT_TRUE(cap.w[2].verdict != VERDICT_UNCHECKED, "its delete decided");
	st = engine__stats(eng);
	ASSERT_EQ(st->pages_displaced, 3, "displaced records");
	ASSERT_EQ(st->pages_displaced_used, 3, "each gave evidence");
	ASSERT_EQ(st->pages_late, 0, "none counted late");
	ASSERT_EQ(st->followups_missing, 0, "none missing");
}

/*
 * A page still to be read at its operation's end is judged by what its
 * read mapped afterwards: the engine waits RW_FOLLOW_WAIT_NS past the
 * grace for the follow-up. Zeros: hole. Disk from the extent-status tree:
 * the old extents, race. A flagged page followed up as disk counts in the
 * cross-check.
 */
static void test_followup_decides_pending(void)
{
	const struct engine_stats *st;

	punch_pending(true);
	engine__tick(eng, 1000);
	ASSERT_EQ(cap.n, 0, "waits for the follow-ups past the grace");
	followup(READER, 14, 14, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 2000);
	followup(READER, 15, 20, RW_READ_MAP_ZEROS, RW_READ_MAP_FROM_EXT4_TREE, 2100);
	engine__tick(eng, 40 + 5 + RW_FOLLOW_WAIT_NS - 1);
	ASSERT_EQ(cap.n, 0, "not before the wait is over");
	engine__tick(eng, 40 + 5 + RW_FOLLOW_WAIT_NS);
	ASSERT_EQ(cap.n, 2, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "the read mapped the old extents");
	ASSERT_EQ(cap.w[0].page, PAGE_FROM_DISK, "flagged: the flag is the evidence");
	ASSERT_EQ(cap.w[1].verdict, VERDICT_HOLE, "the read found the hole");
	ASSERT_EQ(cap.w[1].page, PAGE_ZERO_FILLED, "evidence: zero-filled");
	st = engine__stats(eng);
	ASSERT_EQ(st->page_followups[RW_READ_MAP_DISK], 1, "one disk follow-up");
	ASSERT_EQ(st->page_followups[RW_READ_MAP_ZEROS], 1, "one zeros follow-up");
	ASSERT_EQ(st->pages_flagged, 1, "flagged at the check");
	ASSERT_EQ(st->pages_flagged_mapped, 1, "and its follow-up saw the disk");
	ASSERT_EQ(st->followups_missing, 0, "none missing");

	/* Unflagged and followed up as disk from the extent-status tree: the
	 * mark decides, mapped-disk. */
	punch_pending(false);
	followup(READER, 14, 15, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 2000);
	engine__tick(eng, 1000 + RW_FOLLOW_WAIT_NS);
	ASSERT_EQ(cap.n, 2, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_RACE, "mapped the old extents, flag clear");
	ASSERT_EQ(cap.w[0].page, PAGE_MAPPED_DISK, "evidence: mapped-disk");
	ASSERT_EQ(engine__stats(eng)->page_followups[RW_READ_MAP_DISK], 2, "one record, two pages");
}

/*
 * Follow-ups find their pages by index, whatever order the PAGE records
 * came in, and also a page recorded after an earlier follow-up sorted the
 * rest: pages 17, 14 and 16 recorded in that order, 15 after the first
 * follow-up. One follow-up settles only the pages of its range.
 */
static void test_followup_by_index(void)
{
	const __u64 idx[] = { 17, 14, 16 };

	setup_read_maps(READ_MAPS_EXT4);
	punch_510();
	inval_end(OP, 20);
	for (int i = 0; i < 4; i++)
		insert(READER, 14 + i, 24 + i);
	block_free(OP, 30);
	for (int i = 0; i < 3; i++)
		page_state_map(idx[i], 24 + idx[i] - 14, true, false, false, 12,
			       RW_READ_MAP_PENDING, 40);
	followup(READER, 16, 17, RW_READ_MAP_ZEROS, RW_READ_MAP_FROM_EXT4_TREE, 50);
	page_state_map(15, 25, true, false, false, 12, RW_READ_MAP_PENDING, 40);
	op_end(OP, 0, 40);
	followup(READER, 14, 15, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 2000);
	engine__tick(eng, 1000 + RW_FOLLOW_WAIT_NS);
	ASSERT_EQ(cap.n, 4, "windows judged");
	for (int i = 0; i < 4; i++) {
		__u64 index = cap.ins[i].index;

		ASSERT_EQ(cap.w[i].verdict, index <= 15 ? VERDICT_RACE : VERDICT_HOLE,
			  "14 and 15 mapped the old extents, 16 and 17 found the hole");
	}
	ASSERT_EQ(engine__stats(eng)->page_followups[RW_READ_MAP_ZEROS], 2, "two zeros");
	ASSERT_EQ(engine__stats(eng)->page_followups[RW_READ_MAP_DISK], 2, "two disk");
	ASSERT_EQ(engine__stats(eng)->followups_missing, 0, "none missing");
}

/*
 * A disk mapping from the extent tree after the operation is of current
 * blocks, and after an extent shift may be a moved extent: both are left to
 * the flag. Follow-ups of another task, of other pages or from before the
 * insert settle nothing, and pages none settled are counted missing.
 */
static void test_followup_limits(void)
{
	const struct engine_stats *st;

	punch_pending(false);
	followup(READER, 14, 15, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_TREE, 2000);
	engine__tick(eng, 1000 + RW_FOLLOW_WAIT_NS);
	ASSERT_EQ(cap.n, 2, "windows judged");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_HOLE, "left to the flag, clear");
	st = engine__stats(eng);
	ASSERT_EQ(st->followups_left_to_flag, 2, "both left to the flag");
	ASSERT_EQ(st->page_followups[RW_READ_MAP_DISK], 2, "still counted as follow-ups");

	punch_pending(false);
	followup(OTHER, 14, 15, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 2000);
	followup(READER, 16, 20, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 2000);
	followup(READER, 14, 15, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 20);
	followup(READER, 15, 14, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 2000);
	followup(READER, 14, 15, RW_READ_MAP_PENDING, RW_READ_MAP_FROM_EXT4_ES, 2000);
	engine__tick(eng, 1000 + RW_FOLLOW_WAIT_NS);
	ASSERT_EQ(cap.n, 2, "judged once the wait is over");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_HOLE, "as it stood: flag clear");
	ASSERT_EQ(cap.w[0].page, PAGE_ZERO_FILLED, "evidence: zero-filled");
	st = engine__stats(eng);
	ASSERT_EQ(st->page_followups[RW_READ_MAP_DISK], 0, "none settled a page");
	ASSERT_EQ(st->followups_missing, 2, "both missing");

	/* Collapse shifted the extents at 30: a later disk mapping, even a
	 * cache hit, may be of a moved extent. */
	setup_read_maps(READ_MAPS_EXT4);
	op_begin_fs(OP, RW_OP_FALLOCATE, RW_FALLOC_COLLAPSE_RANGE, "ext4", 5);
	inval_begin(OP, 10, RW_PAGE_EOF, RW_INVAL_TRUNCATE, 10);
	inval_end(OP, 20);
	insert(READER, 14, 24);
	block_free_fs(OP, RW_FREE_EXT4_SHIFT, 0, 30);
	page_state_map(14, 24, true, false, false, 12, RW_READ_MAP_PENDING, 40);
	op_end(OP, 0, 40);
	followup(READER, 14, 14, RW_READ_MAP_DISK, RW_READ_MAP_FROM_EXT4_ES, 2000);
	engine__tick(eng, 1000 + RW_FOLLOW_WAIT_NS);
	ASSERT_EQ(cap.n, 1, "window judged");
	ASSERT_EQ(engine__stats(eng)->followups_left_to_flag, 1, "left to the flag");
	ASSERT_EQ(cap.w[0].verdict, VERDICT_HOLE, "flag clear: hole");

	/* Without the ext4 role nothing waits: judged at the grace. */
	setup();
	punch_one_insert();
	page_state_map(14, 24, true, false, false, 12, RW_READ_MAP_PENDING, 40);
	op_end(OP, 0, 40);
	engine__tick(eng, 45);
	ASSERT_EQ(cap.n, 1, "judged at the grace");
}

void suite_engine(void)
{
	harness_suite("engine");
	RUN(test_race_after_drop);
	RUN(test_transient_during_drop);
	RUN(test_insert_before_lock_is_truncated);
	RUN(test_insert_before_window);
	RUN(test_late_after_free);
	RUN(test_window_lasts_until_last_free);
	RUN(test_page_evidence);
	RUN(test_page_mapped_before_flag);
	RUN(test_page_evidence_limits);
	RUN(test_late_page);
	RUN(test_displaced_page);
	RUN(test_i_mmap_sem_section);
	RUN(test_dio_write);
	RUN(test_page_evidence_needs_mpage_fs);
	RUN(test_self_insert);
	RUN(test_evicted_by_other_task);
	RUN(test_deleted_after_end_is_race);
	RUN(test_unlocked_without_free);
	RUN(test_unfreed_race_without_lock);
	RUN(test_shared_insert_before_free_is_unlocked);
	RUN(test_out_of_range_and_other_inode);
	RUN(test_large_folio_overlap);
	RUN(test_large_folio_during_drop);
	RUN(test_reinsert_after_delete);
	RUN(test_rejected_operation);
	RUN(test_failed_after_drop_keeps_windows);
	RUN(test_lock_decides_tracepoint_window);
	RUN(test_unmodelled_filesystem);
	RUN(test_grace_period);
	RUN(test_flush_unfinished);
	RUN(test_untracked);
	RUN(test_orphans_and_stats);
	RUN(test_lost_records_never_race);
	RUN(test_lost_records_keep_seen_evidence);
	RUN(test_missed_return_is_no_return);
	RUN(test_unwatched_counted);
	RUN(test_expiry);
	RUN(test_bounds);
	RUN(test_bound_ops);
	RUN(test_bound_cands_total);
	RUN(test_bound_cands_per_op);
	RUN(test_bound_invals);
	RUN(test_bound_inodes);
	RUN(test_overlapping_operations);
	RUN(test_due_out_of_order);
	RUN(test_zero_range_conversion_ends_window);
	RUN(test_insert_range_shift);
	RUN(test_insert_range_shift_over);
	RUN(test_shift_over_hole_reads);
	RUN(test_followup_decides_pending);
	RUN(test_followup_by_index);
	RUN(test_followup_limits);
	engine__free(eng);
	eng = NULL;
}
