// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary record streams into the decoder
 * (events__decode), the verdict engine (engine__feed/tick/flush) and the
 * report sink, as main.c wires them. The input format is in fuzz_input.h.
 *
 * Besides ASan and UBSan, every judged window is walked and checked
 * against what the engine promises its consumers (fz_check_window), and
 * the totals are checked at the end: a broken promise aborts, which
 * libFuzzer reports as a crash with the input that caused it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "events.h"
#include "perfetto.h"
#include "plan.h"
#include "report.h"
#include "verdict.h"
#include "fuzz_input.h"

#define FZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_records: broken promise: %s (%s:%d)\n", \
			#cond, __FILE__, __LINE__);			\
		abort();						\
	}								\
} while (0)

static FILE *sink;
static struct plan plan;

static const __u64 fz_grace[4] = { 0, 1, 1000, 50 * 1000 * 1000ULL };

/* Alphabets for the structured mode: few values, so that they collide. */
static const __u64 fz_op_ids[4] = { 1, 2, 3, ~0ULL };
static const struct rw_inode_key fz_keys[4] = {
	{ .dev = 8 << 20 | 1, .gen = 1, .ino = 12 },
	{ .dev = 8 << 20 | 1, .gen = 1, .ino = 13 },
	{ .dev = 8 << 20 | 1, .gen = 2, .ino = 12 },	/* ino 12 reused */
	{ .dev = 254 << 20 | 3, .gen = 1, .ino = 12 },	/* same ino, other fs */
};
static const __u32 fz_tids[4] = { 100, 200, 201, 0 };
/* The last one fills the field without a NUL, with bytes that need escaping. */
static const char fz_comms[4][RW_COMM_LEN] = {
	"racegen", "reader", "kworker/u4:1", "\"\\\x01\x7f<%s%n\xff\xfe\n\t\b\r\x1f",
};
static const char fz_fstypes[4][RW_FSTYPE_LEN] = {
	"ext4", "xfs", "ext2", "ext4\"\\\x01\x80\xff%s%nabc",
};
static const __u64 fz_indexes[8] = { 0, 1, 15, 31, 32, 33, RW_PAGE_EOF - 1, RW_PAGE_EOF };
static const __s64 fz_jitter[4] = { 0, 1, -1, -1000 };
static const __u64 fz_advance[4] = { 0, 1, 1000, 50 * 1000 * 1000ULL + 1 };
static const __u32 fz_nr_pages[8] = { 1, 0, 2, 16, 512, 1, 0x80000000u, ~0u };
static const __u32 fz_modes[8] = {
	RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE, RW_FALLOC_COLLAPSE_RANGE,
	RW_FALLOC_ZERO_RANGE, RW_FALLOC_INSERT_RANGE, 0, RW_FALLOC_UNSHARE_RANGE,
	RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE | 0x100, ~0u,
};
static const __u8 fz_blkbits[4] = { 12, 10, 16, 255 };

struct fz {
	const __u8 *data;
	size_t size, pos;
	__u8 opts;
	struct engine *engine;
	struct report *report;
	struct perfetto *perfetto;
	__u64 clock;
	__u64 insert_ts[8];		/* recent inserts, for PAGE and DELETE */
	unsigned int ninserts;
	__u64 windows;			/* judged windows seen by on_window */
	__u64 forgets;
};

static __u8 take(struct fz *f)
{
	return f->pos < f->size ? f->data[f->pos++] : 0;
}

/* Fake stacks: as many frames as the id's low bits say, one of them 0. */
static int fz_stack(__s32 id, __u64 *ips, int max, void *ctx)
{
	int n = id % 7;

	if (n > max)
		n = max;
	for (int i = 0; i < n; i++)
		ips[i] = i == 3 ? 0 : 0xffffffff81000000ULL + (__u64)id * 64 + i;
	return id % 11 == 10 ? -ENOENT : n;
}

static bool key_eq(const struct rw_inode_key *a, const struct rw_inode_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->gen == b->gen;
}

/* Stated again here, not taken from verdict.c: README "Verdicts". */
static bool fz_modelled(const char *fstype)
{
	static const char *const fs[] = { "ext4", "ext3", "ext2", "xfs" };

	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if (!strncmp(fstype, fs[i], RW_FSTYPE_LEN))
			return true;
	return false;
}

/* A race needs the invalidator inside its exclusive section wherever the
 * insert's invalidate_lock snapshot says where it was. */
static bool fz_lock_allows_race(const struct rw_window *w)
{
	const struct rw_lock *l = &w->insert->locks.invalidate_lock;

	if (l->state == RW_LOCK_FREE || l->state == RW_LOCK_READ)
		return false;
	if (l->state == RW_LOCK_WRITE && l->owner_tid)
		return l->owner_tid == w->op->task.tid;
	return true;
}

static bool fz_straddles(const struct rw_window *w)
{
	__u64 nr = w->insert->nr_pages ? w->insert->nr_pages : 1;

	return nr > 1 && (w->insert->index < w->inval->first ||
			  nr - 1 > w->inval->last - w->insert->index);
}

/* What every consumer of a window may rely on. */
static void fz_check_window(const struct rw_window *w)
{
	FZ_ASSERT(w->insert && w->op && w->inval);
	FZ_ASSERT(w->verdict < VERDICT_MAX);
	FZ_ASSERT(w->phase < PHASE_MAX);
	FZ_ASSERT(w->page < PAGE_EVIDENCE_MAX);
	FZ_ASSERT(w->insert->hdr.type == RW_REC_INSERT);
	FZ_ASSERT(w->op->hdr.type == RW_REC_OP_BEGIN);
	FZ_ASSERT(w->inval->hdr.type == RW_REC_INVAL_BEGIN);
	/* The window is the insert's, in an invalidation of its operation. */
	FZ_ASSERT(key_eq(&w->insert->key, &w->op->key));
	FZ_ASSERT(w->inval->op_id == w->op->op_id);
	FZ_ASSERT(w->inval->hdr.ts <= w->insert->hdr.ts);
	FZ_ASSERT((w->verdict == VERDICT_SELF) == (w->insert->task.tid == w->op->task.tid));
	/* Unfinished: still running when judged; no-return and expired
	 * say why else its end is unknown. */
	FZ_ASSERT(w->verdict != VERDICT_UNFINISHED || (!w->op_ended && !w->op_expired));
	FZ_ASSERT(w->verdict != VERDICT_EXPIRED || (w->op_expired && !w->op_ended));
	FZ_ASSERT(w->verdict != VERDICT_NO_RETURN || (w->op_flags & RW_OP_END_NO_RETURN));
	FZ_ASSERT(w->op_ended || w->verdict == VERDICT_UNFINISHED ||
		  w->verdict == VERDICT_EXPIRED || w->verdict == VERDICT_SELF ||
		  w->verdict == VERDICT_LATE || w->verdict == VERDICT_TRANSIENT ||
		  w->verdict == VERDICT_EVICTED);
	/* Evidence was lost: never a confident race. */
	FZ_ASSERT(w->verdict != VERDICT_RACE || !w->op_lost);
	FZ_ASSERT(w->verdict != VERDICT_LOST || w->op_lost);
	FZ_ASSERT(w->verdict != VERDICT_RACE || !(w->insert->flags & RW_INSERT_UNTRACKED));
	FZ_ASSERT(w->verdict != VERDICT_UNTRACKED || (w->insert->flags & RW_INSERT_UNTRACKED));
	/* Refused before the page cache: known only from a derived window's
	 * return, and never a race. */
	FZ_ASSERT(w->verdict != VERDICT_REJECTED ||
		  (w->inval->fn == RW_INVAL_DERIVED && w->op_ended &&
		   !(w->op_flags & RW_OP_END_NO_RETURN) && verdict__rejects(w->op_ret)));
	FZ_ASSERT(w->verdict != VERDICT_RACE || w->inval->fn != RW_INVAL_DERIVED ||
		  !verdict__rejects(w->op_ret));
	/* A race needs a page check, a model, and the lock's consent. */
	FZ_ASSERT(w->verdict != VERDICT_RACE || w->page != PAGE_UNCHECKED);
	FZ_ASSERT(w->verdict != VERDICT_UNCHECKED || w->page == PAGE_UNCHECKED);
	FZ_ASSERT(w->verdict != VERDICT_RACE || fz_modelled(w->op->fstype));
	FZ_ASSERT(w->verdict != VERDICT_UNMODELLED || !fz_modelled(w->op->fstype));
	FZ_ASSERT(w->verdict != VERDICT_UNLOCKED || fz_modelled(w->op->fstype));
	FZ_ASSERT(w->verdict != VERDICT_RACE || fz_lock_allows_race(w));
	FZ_ASSERT(w->verdict != VERDICT_UNLOCKED || !fz_lock_allows_race(w));
	FZ_ASSERT(w->verdict != VERDICT_STRADDLING || fz_straddles(w));
	/* Printed by default exactly when it may be a race. */
	FZ_ASSERT(verdict__race_class(w->verdict) ==
		  (w->verdict == VERDICT_RACE || w->verdict == VERDICT_UNCHECKED ||
		   w->verdict == VERDICT_UNMODELLED || w->verdict == VERDICT_STRADDLING ||
		   w->verdict == VERDICT_LOST || w->verdict == VERDICT_UNTRACKED ||
		   w->verdict == VERDICT_UNFINISHED || w->verdict == VERDICT_NO_RETURN ||
		   w->verdict == VERDICT_EXPIRED));
	/* An insert stamped after the operation's end read the new blocks. */
	FZ_ASSERT(!w->op_ended || w->insert->hdr.ts <= w->op_end_ts ||
		  w->verdict == VERDICT_SELF || w->verdict == VERDICT_LATE);
	FZ_ASSERT(w->nfree || (!w->first_free_ts && !w->last_free_ts));
	FZ_ASSERT(w->deleted || (!w->delete_ts && !w->delete_tid));
	FZ_ASSERT(w->verdict != VERDICT_TRANSIENT || w->deleted);
	FZ_ASSERT(w->verdict != VERDICT_HOLE || w->page == PAGE_ZERO_FILLED);
}

static void fz_on_window(const struct rw_window *w, void *ctx)
{
	struct fz *f = ctx;

	fz_check_window(w);
	f->windows++;
	report__window(f->report, w);
	perfetto__window(f->perfetto, w, f->windows & 1 ? "generic/042" : NULL);
}

static void fz_on_forget(const struct rw_inode_key *key, __u64 index, void *ctx)
{
	struct fz *f = ctx;

	FZ_ASSERT(key);
	f->forgets++;
}

/* Hand bytes over as the ring buffer would: in a buffer of exactly that size. */
static void fz_record(struct fz *f, const void *bytes, size_t len)
{
	void *buf = malloc(len ? len : 1);
	union rw_record rec;

	if (!buf)
		return;
	memcpy(buf, bytes, len);
	if (!events__decode(buf, len, &rec)) {
		FZ_ASSERT(rec.hdr.type > 0 && rec.hdr.type < RW_REC_MAX);
		FZ_ASSERT(rec.hdr.size <= len && rec.hdr.size <= sizeof(rec));
		FZ_ASSERT(!memcmp(&rec, buf, rec.hdr.size));
		perfetto__record(f->perfetto, &rec);
		engine__feed(f->engine, &rec);
	}
	free(buf);
}

static void fz_raw(struct fz *f)
{
	while (f->pos < f->size) {
		__u8 tag = take(f);
		__u64 now = 0;
		size_t len;

		switch (tag) {
		case FZ_RAW_TICK:
			for (int i = 0; i < 8; i++)
				now |= (__u64)take(f) << (8 * i);
			engine__tick(f->engine, now);
			continue;
		case FZ_RAW_FLUSH:
			engine__flush(f->engine);
			continue;
		case FZ_RAW_SIZED:
			len = take(f);
			len |= (size_t)take(f) << 8;
			break;
		default: {
			struct rw_hdr hdr = {};

			memcpy(&hdr, f->data + f->pos, f->size - f->pos < sizeof(hdr) ?
			       f->size - f->pos : sizeof(hdr));
			len = hdr.size;
		}
		}
		if (len > f->size - f->pos)
			len = f->size - f->pos;
		fz_record(f, f->data + f->pos, len);
		f->pos += len;
	}
}

static void fz_hdr(struct fz *f, struct rw_hdr *h, enum rw_rec_type type, size_t size, __u8 p)
{
	h->type = type;
	h->size = size;
	h->cpu = FZ_P_TASK(p);
	h->ts = f->clock + fz_jitter[FZ_P_JITTER(p)];
}

static void fz_task(struct rw_task *t, unsigned int i)
{
	t->tid = fz_tids[i];
	t->pid = i == 2 ? fz_tids[1] : fz_tids[i];	/* 201 is a thread of 200 */
	memcpy(t->comm, fz_comms[i], RW_COMM_LEN);
}

static void fz_lock(struct rw_lock *l, unsigned int v, unsigned int task)
{
	l->state = v % 6;	/* 5 is no state racewatch knows */
	l->waiters = v & 1;
	l->readers = v == RW_LOCK_READ ? 1 + task : 0;
	l->owner_pid = fz_tids[task];
	l->owner_tid = fz_tids[task];
	memcpy(l->owner_comm, fz_comms[task], RW_COMM_LEN);
}

static void fz_locks(struct rw_locks *l, unsigned int v, unsigned int task)
{
	fz_lock(&l->invalidate_lock, v, task);
	fz_lock(&l->i_rwsem, (v + 2) % 6, task);
	fz_lock(&l->i_mmap_sem, v < 4 ? RW_LOCK_ABSENT : RW_LOCK_UNREADABLE, task);
}

static void fz_step(struct fz *f)
{
	__u8 o = take(f), p = take(f), q = take(f);
	unsigned int v = FZ_Q_VARIANT(q), task = FZ_P_TASK(p);
	union rw_record r;

	memset(&r, 0, sizeof(r));
	f->clock += fz_advance[FZ_Q_ADVANCE(q)];
	if (o == FZ_ST_FLUSH) {
		engine__flush(f->engine);
		return;
	}
	if (o == FZ_ST_FOLLOWUP) {
		/* What a read by task mapped, as BPF sends it after a PAGE
		 * record found the read pending; v 6, 7: a range upside down
		 * and a kind no follow-up carries. */
		fz_hdr(f, &r.hdr, RW_REC_FOLLOWUP, sizeof(r.followup), p);
		r.followup.key = fz_keys[FZ_P_KEY(p)];
		r.followup.first = fz_indexes[FZ_Q_INDEX(q)];
		r.followup.last = v == 6 ? r.followup.first - 1 : fz_indexes[v];
		r.followup.tid = fz_tids[task];
		r.followup.read_map = v == 7 ? RW_READ_MAP_PENDING :
				      v & 1 ? RW_READ_MAP_ZEROS : RW_READ_MAP_DISK;
		r.followup.read_map_from = (v >> 1) & 3;
		fz_record(f, &r, r.hdr.size);
		return;
	}
	switch (o % FZ_ST_MAX) {
	case FZ_ST_OP_BEGIN:
		fz_hdr(f, &r.hdr, RW_REC_OP_BEGIN, sizeof(r.op_begin), p);
		r.op_begin.op_id = fz_op_ids[FZ_P_OP(p)];
		fz_task(&r.op_begin.task, task);
		r.op_begin.key = fz_keys[FZ_P_KEY(p)];
		r.op_begin.kind = v == 7 ? 0 : v % 3 + 1;
		r.op_begin.mode = fz_modes[v];
		r.op_begin.offset = v == 6 ? -1 : (__s64)(fz_indexes[FZ_Q_INDEX(q)] << 12);
		r.op_begin.len = (__s64)v << 12;
		memcpy(r.op_begin.fstype, fz_fstypes[v & 3], RW_FSTYPE_LEN);
		break;
	case FZ_ST_INVAL_BEGIN:
		fz_hdr(f, &r.hdr, RW_REC_INVAL_BEGIN, sizeof(r.inval_begin), p);
		r.inval_begin.op_id = fz_op_ids[FZ_P_OP(p)];
		r.inval_begin.key = fz_keys[FZ_P_KEY(p)];
		r.inval_begin.first = fz_indexes[FZ_Q_INDEX(q)];
		r.inval_begin.last = fz_indexes[v];
		r.inval_begin.fn = task == 3 ? 0 : task + 1;
		r.inval_begin.stack_id = v == 0 ? -1 : (__s32)v * 3;
		fz_locks(&r.inval_begin.locks, v, task);
		break;
	case FZ_ST_INVAL_END:
		fz_hdr(f, &r.hdr, RW_REC_INVAL_END, sizeof(r.inval_end), p);
		r.inval_end.op_id = fz_op_ids[FZ_P_OP(p)];
		break;
	case FZ_ST_BLOCK_FREE:
		fz_hdr(f, &r.hdr, RW_REC_BLOCK_FREE, sizeof(r.block_free), p);
		r.block_free.op_id = fz_op_ids[FZ_P_OP(p)];
		r.block_free.fs = v % 5;	/* 4: an ext4 shift, not a free */
		r.block_free.blocks = v == 7 ? ~0ULL : v;
		break;
	case FZ_ST_OP_END:
		fz_hdr(f, &r.hdr, RW_REC_OP_END, sizeof(r.op_end), p);
		r.op_end.op_id = fz_op_ids[FZ_P_OP(p)];
		/* v 6, 7: EINVAL (refused at validation), ENOSPC (after it). */
		r.op_end.ret = v == 0 ? 0 : v == 6 ? -22 : v == 7 ? -28 : -(__s64)v;
		break;
	case FZ_ST_INSERT:
		fz_hdr(f, &r.hdr, RW_REC_INSERT, sizeof(r.insert), p);
		fz_task(&r.insert.task, task);
		r.insert.key = fz_keys[FZ_P_KEY(p)];
		r.insert.index = fz_indexes[FZ_Q_INDEX(q)];
		r.insert.nr_pages = fz_nr_pages[v];
		r.insert.stack_id = v == 1 ? -1 : (__s32)(q * 5);
		r.insert.flags = v == 5 ? RW_INSERT_UNTRACKED : v == 7 ? ~0u : 0;
		fz_locks(&r.insert.locks, v, task);
		f->insert_ts[f->ninserts++ % 8] = r.hdr.ts;
		break;
	case FZ_ST_DELETE:
		fz_hdr(f, &r.hdr, RW_REC_DELETE, sizeof(r.del), p);
		r.del.tid = fz_tids[task];
		r.del.key = fz_keys[FZ_P_KEY(p)];
		r.del.index = fz_indexes[FZ_Q_INDEX(q)];
		break;
	case FZ_ST_PAGE:
		fz_hdr(f, &r.hdr, RW_REC_PAGE, sizeof(r.page), p);
		r.page.op_id = fz_op_ids[FZ_P_OP(p)];
		r.page.key = fz_keys[FZ_P_KEY(p)];
		r.page.index = fz_indexes[FZ_Q_INDEX(q)];
		/* Name one of the recent inserts, as BPF does, or none. */
		r.page.insert_ts = f->insert_ts[(f->ninserts - 1 - (v & 3)) % 8];
		r.page.present = !(v & 4);
		r.page.mapped_to_disk = task & 1;
		r.page.blkbits = fz_blkbits[v & 3];
		r.page.uptodate = !(task & 2);
		r.page.read_map = (v + task) & 3;
		r.page.read_map_from = (v ^ task) & 3;
		r.page.read_map_ts = r.page.insert_ts + fz_advance[task];
		break;
	case FZ_ST_TICK:
		engine__tick(f->engine, v == 7 ? ~0ULL : f->clock + fz_advance[v & 3]);
		return;
	}
	fz_record(f, &r, r.hdr.size);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* RW_FUZZ_PRINT=1 shows what an input reports (replaying one). */
	sink = getenv("RW_FUZZ_PRINT") ? stdout : fopen("/dev/null", "w");
	if (!sink)
		abort();
	/* A tracepoint-mode plan, for the summary. */
	memset(&plan, 0, sizeof(plan));
	plan.requested = MECH_AUTO;
	plan.derive_invalidation = true;
	for (int i = 0; i < ROLE_MAX; i++) {
		plan.roles[i].required = i == ROLE_INSERT || i == ROLE_DELETE;
		plan.roles[i].served = i != ROLE_INVALIDATE2;
		plan.roles[i].mech = MECH_TRACEPOINT;
		plan.roles[i].symbol = "fuzz:tracepoint";
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { .data = data, .size = size, .clock = 1000000000ULL };
	struct report_opts ropts = {};
	struct engine_opts eopts = {};
	struct report_losses losses = {};
	const struct engine_stats *st;
	const struct inode_stats *inodes;
	__u64 verdicts = 0, inode_verdicts = 0, inode_inserts = 0;
	size_t ninodes;

	if (!size)
		return 0;
	f.opts = take(&f);
	ropts.json = f.opts & FZ_OPT_JSON;
	ropts.verbose = f.opts & FZ_OPT_VERBOSE;
	ropts.stacks = f.opts & FZ_OPT_STACKS;
	ropts.pid = (f.opts & 0x60) == 0x60 ? fz_tids[1] : 0;
	ropts.stack_fn = fz_stack;
	eopts.on_window = fz_on_window;
	eopts.on_forget = f.opts & FZ_OPT_FORGET ? fz_on_forget : NULL;
	eopts.ctx = &f;
	eopts.grace_ns = fz_grace[FZ_OPT_GRACE(f.opts)];
	eopts.page_shift = f.opts & FZ_OPT_BLKBITS_SMALL ? 16 : 12;
	eopts.read_maps = READ_MAPS_EXT4;

	f.report = report__new(sink, &ropts);
	f.engine = engine__new(&eopts);
	/* The timeline sink meets every record and window too. */
	f.perfetto = perfetto__open(getenv("RW_FUZZ_PRINT") ? "/dev/stdout" : "/dev/null");
	if (!f.report || !f.engine || !f.perfetto)
		abort();
	if (f.opts & FZ_OPT_STRUCTURED)
		while (f.pos < f.size)
			fz_step(&f);
	else
		fz_raw(&f);
	if (size > 1 && data[size - 1] == FZ_END_NOFLUSH) {
		engine__free(f.engine);
		report__free(f.report);
		perfetto__close(f.perfetto, f.clock);
		return 0;
	}
	engine__flush(f.engine);

	/* Everything fed was judged once, and counted where it was judged. */
	st = engine__stats(f.engine);
	for (int v = 0; v < VERDICT_MAX; v++)
		verdicts += st->verdicts[v];
	FZ_ASSERT(verdicts == f.windows);
	inodes = engine__inodes(f.engine, &ninodes);
	for (size_t i = 0; i <= ninodes; i++) {
		/* The rows, then the inodes past the bound, folded. */
		const struct inode_stats *in = i < ninodes ? &inodes[i] :
					       engine__inodes_other(f.engine);

		inode_inserts += in->inserts;
		for (int v = 0; v < VERDICT_MAX; v++)
			inode_verdicts += in->verdicts[v];
	}
	FZ_ASSERT(inode_verdicts == f.windows);
	FZ_ASSERT(inode_inserts == st->records[RW_REC_INSERT]);
	FZ_ASSERT(st->unattributed <= st->records[RW_REC_INSERT]);
	/* An attributed insert is a candidate of at least one operation. */
	FZ_ASSERT(f.windows + st->cands_dropped >= st->records[RW_REC_INSERT] - st->unattributed);
	FZ_ASSERT(f.forgets <= f.windows);

	losses.malformed = f.size & 0xff;
	losses.counters[RW_CNT_RINGBUF_FULL] = f.opts;
	report__summary(f.report, f.engine, &losses, &plan, 1.5);
	FZ_ASSERT(!perfetto__close(f.perfetto, f.clock));
	engine__free(f.engine);
	report__free(f.report);
	return 0;
}
