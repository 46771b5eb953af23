// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the fuzz seed corpus (tests/fuzz/corpus) from the record layouts
 * of include/racewatch.h, in the input format of fuzz_input.h: record
 * sequences like those BPF sends for a punch, a truncate and their
 * verdicts, a few malformed ones, and structured step sequences.
 *   mkseeds DIR
 * `make fuzz-seeds` reruns it; tests/fuzz/run.sh checks that the committed
 * seeds still match what it writes, so a layout change cannot leave them
 * stale.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "events.h"
#include "fuzz_input.h"

#define MS	1000000ULL

struct seed {
	unsigned char buf[4096];
	size_t len;
};

static const struct rw_inode_key key12 = { .dev = 8 << 20 | 1, .gen = 7, .ino = 12 };

static void put(struct seed *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf)) {
		fprintf(stderr, "mkseeds: seed too long\n");
		exit(1);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void put8(struct seed *s, unsigned char c)
{
	put(s, &c, 1);
}

/* A record as the ring buffer hands it over: tag, then the record. */
static void rec(struct seed *s, const void *r)
{
	const struct rw_hdr *h = r;

	put8(s, FZ_RAW_RECORD);
	put(s, r, h->size);
}

static void tick(struct seed *s, __u64 now)
{
	put8(s, FZ_RAW_TICK);
	for (int i = 0; i < 8; i++)
		put8(s, now >> (8 * i));
}

/* Kernel strings: NUL-padded, not terminated when they fill the field. */
static void fill(char *dst, size_t n, const char *s)
{
	size_t len = strlen(s);

	memset(dst, 0, n);
	memcpy(dst, s, len < n ? len : n);
}

static void task(struct rw_task *t, __u32 tid, const char *comm)
{
	t->pid = tid;
	t->tid = tid;
	fill(t->comm, sizeof(t->comm), comm);
}

static void op_begin(struct seed *s, __u64 ts, __u64 id, __u32 kind, __u32 mode,
		     __u32 tid, const char *fs)
{
	struct rw_op_begin r = {
		.hdr = { RW_REC_OP_BEGIN, sizeof(r), 0, ts },
		.op_id = id, .key = key12, .kind = kind, .mode = mode,
		.offset = 4 << 12, .len = 8 << 12,
	};

	task(&r.task, tid, "racegen");
	fill(r.fstype, sizeof(r.fstype), fs);
	rec(s, &r);
}

static void inval(struct seed *s, __u64 ts, __u64 id, __u64 first, __u64 last, __u32 fn)
{
	struct rw_inval_begin r = {
		.hdr = { RW_REC_INVAL_BEGIN, sizeof(r), 0, ts },
		.op_id = id, .key = key12, .first = first, .last = last, .fn = fn,
		.stack_id = 3,
	};

	r.locks.i_rwsem.state = RW_LOCK_WRITE;
	r.locks.i_rwsem.owner_pid = r.locks.i_rwsem.owner_tid = 100;
	fill(r.locks.i_rwsem.owner_comm, RW_COMM_LEN, "racegen");
	r.locks.invalidate_lock.state = RW_LOCK_WRITE;
	rec(s, &r);
}

static void inval_end(struct seed *s, __u64 ts, __u64 id)
{
	struct rw_inval_end r = { .hdr = { RW_REC_INVAL_END, sizeof(r), 0, ts }, .op_id = id };

	rec(s, &r);
}

static void block_free(struct seed *s, __u64 ts, __u64 id)
{
	struct rw_block_free r = {
		.hdr = { RW_REC_BLOCK_FREE, sizeof(r), 1, ts },
		.op_id = id, .fs = RW_FREE_EXT4, .blocks = 8,
	};

	rec(s, &r);
}

/* ext4 collapse/insert range began to shift extents: not a free. */
static void shift(struct seed *s, __u64 ts, __u64 id)
{
	struct rw_block_free r = {
		.hdr = { RW_REC_BLOCK_FREE, sizeof(r), 1, ts },
		.op_id = id, .fs = RW_FREE_EXT4_SHIFT,
	};

	rec(s, &r);
}

static void op_end(struct seed *s, __u64 ts, __u64 id, __s64 ret)
{
	struct rw_op_end r = { .hdr = { RW_REC_OP_END, sizeof(r), 0, ts }, .op_id = id, .ret = ret };

	rec(s, &r);
}

static void insert(struct seed *s, __u64 ts, __u64 index, __u32 tid, __u8 ilock)
{
	struct rw_insert r = {
		.hdr = { RW_REC_INSERT, sizeof(r), 1, ts },
		.key = key12, .index = index, .nr_pages = 1, .stack_id = 5,
	};

	task(&r.task, tid, "reader");
	r.locks.invalidate_lock.state = ilock;
	r.locks.invalidate_lock.readers = ilock == RW_LOCK_READ;
	r.locks.i_mmap_sem.state = RW_LOCK_UNREADABLE;
	rec(s, &r);
}

static void delete(struct seed *s, __u64 ts, __u64 index, __u32 tid)
{
	struct rw_delete r = {
		.hdr = { RW_REC_DELETE, sizeof(r), 0, ts },
		.tid = tid, .key = key12, .index = index,
	};

	rec(s, &r);
}

static void page(struct seed *s, __u64 ts, __u64 id, __u64 index, __u64 insert_ts,
		 __u8 present, __u8 mapped)
{
	struct rw_page_state r = {
		.hdr = { RW_REC_PAGE, sizeof(r), 0, ts },
		.op_id = id, .key = key12, .index = index, .insert_ts = insert_ts,
		.present = present, .mapped_to_disk = mapped, .blkbits = 12,
	};

	rec(s, &r);
}

static int write_seed(const char *dir, const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f)) {
		fprintf(stderr, "mkseeds: failed to write %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

/* A punch whose window a reader hits after the drop: a race. */
static void seed_punch_race(struct seed *s)
{
	put8(s, FZ_OPT_JSON | FZ_OPT_VERBOSE | FZ_OPT_STACKS | FZ_OPT_FORGET);
	op_begin(s, 1000, 1, RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE,
		 100, "ext4");
	inval(s, 1010, 1, 4, 11, RW_INVAL_TRUNCATE);
	inval_end(s, 1100, 1);
	insert(s, 1200, 5, 200, RW_LOCK_FREE);
	block_free(s, 1300, 1);
	page(s, 1400, 1, 5, 1200, 1, 1);
	op_end(s, 1400, 1, 0);
	tick(s, 1400 + 100 * MS);
}

/* The ordering trap: inserted before the drop reached it, then dropped. */
static void seed_transient(struct seed *s)
{
	put8(s, FZ_OPT_VERBOSE | FZ_OPT_FORGET);
	op_begin(s, 1000, 2, RW_OP_FALLOCATE, RW_FALLOC_ZERO_RANGE, 100, "xfs");
	inval(s, 1010, 2, 0, RW_PAGE_EOF, RW_INVAL_TRUNCATE);
	insert(s, 1020, 3, 200, RW_LOCK_READ);
	delete(s, 1030, 3, 100);
	insert(s, 1040, 3, 100, RW_LOCK_WRITE);		/* self */
	inval_end(s, 1100, 2);
	insert(s, 1500, 3, 201, RW_LOCK_READ);		/* late */
	block_free(s, 1200, 2);
	op_end(s, 1300, 2, 0);
	tick(s, 1300 + 50 * MS);
}

/* Tracepoint mode: a derived window over a truncate, a hole, a re-insert. */
static void seed_derived(struct seed *s)
{
	put8(s, FZ_OPT_JSON | FZ_OPT_VERBOSE);
	op_begin(s, 1000, 3, RW_OP_TRUNCATE, 0, 100, "ext4");
	inval(s, 1000, 3, 8, RW_PAGE_EOF, RW_INVAL_DERIVED);
	insert(s, 1100, 9, 200, RW_LOCK_FREE);
	delete(s, 1150, 9, 300);			/* evicted */
	insert(s, 1160, 9, 200, RW_LOCK_FREE);
	insert(s, 1170, 10, 200, RW_LOCK_FREE);
	block_free(s, 1200, 3);
	page(s, 1300, 3, 9, 1160, 1, 1);
	page(s, 1300, 3, 10, 1170, 1, 0);		/* hole */
	op_end(s, 1300, 3, 0);
	tick(s, 1301);					/* within grace */
	tick(s, 1300 + 50 * MS);
}

/* Two operations at once, one never ends: unfinished at the flush. */
static void seed_unfinished(struct seed *s)
{
	put8(s, FZ_OPT_STACKS | FZ_OPT_FORGET);
	op_begin(s, 1000, 4, RW_OP_INVALIDATE, 0, 100, "ext4");
	op_begin(s, 1001, 5, RW_OP_FALLOCATE, RW_FALLOC_COLLAPSE_RANGE, 101, "ext4");
	inval(s, 1010, 4, 0, 31, RW_INVAL_PAGES2);
	inval(s, 1011, 5, 16, RW_PAGE_EOF, RW_INVAL_TRUNCATE);
	insert(s, 1100, 20, 200, RW_LOCK_FREE);
	op_end(s, 1200, 5, -4);
}

/* ext4 collapse range: a read mapped before the shift (race), one whose
 * extent-tree lookup came after it (moved, late). */
static void seed_collapse_shift(struct seed *s)
{
	struct rw_page_state p = {
		.hdr = { RW_REC_PAGE, sizeof(p), 0, 1400 },
		.op_id = 6, .key = key12, .blkbits = 12, .present = 1, .uptodate = 1,
		.mapped_to_disk = 1, .read_map = RW_READ_MAP_DISK,
		.read_map_from = RW_READ_MAP_FROM_EXT4_TREE,
	};

	put8(s, FZ_OPT_JSON | FZ_OPT_VERBOSE);
	op_begin(s, 1000, 6, RW_OP_FALLOCATE, RW_FALLOC_COLLAPSE_RANGE, 100, "ext4");
	inval(s, 1010, 6, 16, RW_PAGE_EOF, RW_INVAL_TRUNCATE);
	inval_end(s, 1100, 6);
	insert(s, 1200, 17, 200, RW_LOCK_ABSENT);	/* 5.10: no invalidate_lock */
	insert(s, 1210, 18, 200, RW_LOCK_ABSENT);
	shift(s, 1250, 6);
	block_free(s, 1260, 6);
	p.index = 17;
	p.insert_ts = 1200;
	p.read_map_ts = 1220;
	rec(s, &p);
	p.index = 18;
	p.insert_ts = 1210;
	p.read_map_ts = 1300;
	rec(s, &p);
	op_end(s, 1400, 6, 0);
	tick(s, 1400 + 100 * MS);
}

/* ext4 on 5.10: two pages still being read at the punch's end, their
 * reads' mappings sent after it (an extent-cache hit of the old blocks,
 * race; a hole); one more from another task, which settles nothing. */
static void seed_followup(struct seed *s)
{
	struct rw_page_state p = {
		.hdr = { RW_REC_PAGE, sizeof(p), 0, 1400 },
		.op_id = 7, .key = key12, .blkbits = 12, .present = 1,
		.read_map = RW_READ_MAP_PENDING,
	};
	struct rw_followup f = {
		.hdr = { RW_REC_FOLLOWUP, sizeof(f), 0, 1500 },
		.key = key12, .tid = 200, .read_map = RW_READ_MAP_DISK,
		.read_map_from = RW_READ_MAP_FROM_EXT4_ES,
	};

	put8(s, FZ_OPT_JSON | FZ_OPT_VERBOSE);
	op_begin(s, 1000, 7, RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE,
		 100, "ext4");
	inval(s, 1010, 7, 4, 11, RW_INVAL_TRUNCATE);
	inval_end(s, 1100, 7);
	insert(s, 1200, 5, 200, RW_LOCK_ABSENT);
	insert(s, 1210, 6, 200, RW_LOCK_ABSENT);
	block_free(s, 1300, 7);
	p.index = 5;
	p.insert_ts = 1200;
	rec(s, &p);
	p.index = 6;
	p.insert_ts = 1210;
	rec(s, &p);
	op_end(s, 1400, 7, 0);
	f.first = f.last = 5;
	rec(s, &f);
	f.first = f.last = 6;
	f.tid = 201;
	rec(s, &f);
	f.tid = 200;
	f.read_map = RW_READ_MAP_ZEROS;
	f.read_map_from = RW_READ_MAP_FROM_EXT4_TREE;
	f.hdr.ts = 1600;
	rec(s, &f);
	tick(s, 1400 + 100 * MS);
	tick(s, 1400 + 300 * MS);
}

/* What the decoder must reject, then one good record. */
static void seed_malformed(struct seed *s)
{
	struct {
		struct rw_op_end r;
		__u64 more;
	} longer = { .r = { .hdr = { RW_REC_OP_END, sizeof(longer), 0, 5 }, .op_id = 1 } };
	struct rw_op_end r = { .hdr = { RW_REC_OP_END, sizeof(r), 0, 5 }, .op_id = 1 };

	put8(s, 0);
	rec(s, &longer);				/* another ABI */
	r.hdr.size = sizeof(r);
	r.hdr.type = RW_REC_MAX;			/* unknown type */
	rec(s, &r);
	r.hdr.type = RW_REC_OP_END;
	put8(s, FZ_RAW_SIZED);				/* truncated */
	put8(s, 6);
	put8(s, 0);
	put(s, &r, 6);
	put8(s, FZ_RAW_FLUSH);
	op_begin(s, 1000, 1, RW_OP_FALLOCATE, RW_FALLOC_PUNCH_HOLE, 100, "ext4");
	put8(s, FZ_RAW_SIZED);				/* exact */
	put8(s, sizeof(r));
	put8(s, 0);
	put(s, &r, sizeof(r));
}

static void step(struct seed *s, unsigned char o, unsigned char p, unsigned char q)
{
	put8(s, o);
	put8(s, p);
	put8(s, q);
}

/* Structured: one punch on key 0 with a reader, then the same on a reused inode. */
static void seed_steps_punch(struct seed *s)
{
	put8(s, FZ_OPT_STRUCTURED | FZ_OPT_JSON | FZ_OPT_VERBOSE | FZ_OPT_FORGET);
	for (int key = 0; key < 3; key += 2) {
		step(s, FZ_ST_OP_BEGIN, FZ_P(0, key, 0, 0), FZ_Q(2, 0, 1));
		step(s, FZ_ST_INVAL_BEGIN, FZ_P(0, key, 0, 0), FZ_Q(0, 7, 1));
		step(s, FZ_ST_INSERT, FZ_P(0, key, 1, 0), FZ_Q(3, 0, 2));
		step(s, FZ_ST_INVAL_END, FZ_P(0, key, 0, 0), FZ_Q(0, 0, 2));
		step(s, FZ_ST_INSERT, FZ_P(0, key, 2, 2), FZ_Q(4, 0, 2));
		step(s, FZ_ST_BLOCK_FREE, FZ_P(0, key, 0, 0), FZ_Q(0, 1, 2));
		step(s, FZ_ST_PAGE, FZ_P(0, key, 1, 0), FZ_Q(4, 0, 1));
		step(s, FZ_ST_PAGE, FZ_P(0, key, 0, 0), FZ_Q(3, 1, 0));
		step(s, FZ_ST_OP_END, FZ_P(0, key, 0, 0), FZ_Q(0, 0, 1));
		step(s, FZ_ST_FOLLOWUP, FZ_P(0, key, 2, 0), FZ_Q(4, 4, 1));
		step(s, FZ_ST_TICK, 0, FZ_Q(0, 3, 3));
	}
}

/* Structured: overlapping operations on one inode, deletes and re-inserts. */
static void seed_steps_overlap(struct seed *s)
{
	put8(s, FZ_OPT_STRUCTURED | FZ_OPT_STACKS | FZ_OPT_WITH_GRACE(3));
	step(s, FZ_ST_OP_BEGIN, FZ_P(0, 0, 0, 0), FZ_Q(0, 0, 1));
	step(s, FZ_ST_OP_BEGIN, FZ_P(1, 0, 3, 0), FZ_Q(0, 2, 1));
	step(s, FZ_ST_INVAL_BEGIN, FZ_P(0, 0, 0, 0), FZ_Q(0, 5, 1));
	step(s, FZ_ST_INVAL_BEGIN, FZ_P(1, 0, 3, 0), FZ_Q(1, 6, 1));
	step(s, FZ_ST_INSERT, FZ_P(0, 0, 1, 0), FZ_Q(1, 0, 1));
	step(s, FZ_ST_DELETE, FZ_P(0, 0, 0, 0), FZ_Q(1, 0, 1));
	step(s, FZ_ST_INSERT, FZ_P(0, 0, 1, 0), FZ_Q(1, 5, 1));
	step(s, FZ_ST_INSERT, FZ_P(0, 0, 2, 2), FZ_Q(6, 2, 1));
	step(s, FZ_ST_DELETE, FZ_P(0, 0, 3, 0), FZ_Q(6, 0, 1));
	step(s, FZ_ST_OP_END, FZ_P(1, 0, 3, 0), FZ_Q(0, 1, 2));
	step(s, FZ_ST_TICK, 0, FZ_Q(0, 3, 0));
	step(s, FZ_ST_PAGE, FZ_P(0, 0, 0, 0), FZ_Q(1, 0, 1));
	step(s, FZ_ST_OP_END, FZ_P(0, 0, 0, 0), FZ_Q(0, 0, 1));
	step(s, FZ_ST_FLUSH, 0, 0);
}

/* Structured: operations still open when the engine is freed (error path). */
static void seed_steps_noflush(struct seed *s)
{
	put8(s, FZ_OPT_STRUCTURED | FZ_OPT_FORGET);
	step(s, FZ_ST_OP_BEGIN, FZ_P(2, 1, 0, 0), FZ_Q(0, 1, 1));
	step(s, FZ_ST_INVAL_BEGIN, FZ_P(2, 1, 0, 0), FZ_Q(0, 7, 1));
	step(s, FZ_ST_INSERT, FZ_P(0, 1, 1, 0), FZ_Q(2, 0, 1));
	step(s, FZ_ST_BLOCK_FREE, FZ_P(2, 1, 0, 0), FZ_Q(0, 0, 1));
	put8(s, FZ_END_NOFLUSH);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(struct seed *s);
	} seeds[] = {
		{ "raw-punch-race", seed_punch_race },
		{ "raw-transient", seed_transient },
		{ "raw-derived", seed_derived },
		{ "raw-unfinished", seed_unfinished },
		{ "raw-collapse-shift", seed_collapse_shift },
		{ "raw-followup", seed_followup },
		{ "raw-malformed", seed_malformed },
		{ "steps-punch", seed_steps_punch },
		{ "steps-overlap", seed_steps_overlap },
		{ "steps-noflush", seed_steps_noflush },
	};
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 64;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct seed s = {};

		seeds[i].fn(&s);
		err |= write_seed(argv[1], seeds[i].name, &s);
	}
	return err;
}
