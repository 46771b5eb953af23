// SPDX-License-Identifier: GPL-2.0
/*
 * Verdict engine. Operations in flight are few (fallocate and truncate are
 * serialised per inode by i_rwsem), so they live in a plain list; each keeps
 * its invalidations, block-free times and the candidate inserts that fell
 * into its ranges, until it ends and each candidate is judged
 * (src/verdict.c).
 */
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "verdict.h"

struct inval_rec {
	struct rw_inval_begin begin;
	__u64 end_ts;			/* 0 while running */
};

struct cand {
	struct rw_insert ins;
	int inval;			/* index into op->invals */
	bool deleted;
	__u64 delete_ts;
	__u32 delete_tid;
	bool checked;			/* a PAGE record described it */
	struct rw_page_state page;
};

struct op {
	struct op *next;
	struct rw_op_begin begin;
	struct inval_rec *invals;
	int ninvals;
	struct cand *cands;
	int ncands;
	__u64 nfree;
	__u64 first_free_ts;
	__u64 last_free_ts;
	__u64 freed_blocks;
	bool ended;
	__u64 end_ts;
	__s64 ret;
	__u32 flags;			/* RW_OP_END_* */
	__u32 lost;			/* records BPF, or the engine, could not keep */
	bool expired;
};

struct engine {
	struct engine_opts opts;
	struct op *ops;
	size_t nops;
	struct inode_stats *inodes;
	size_t ninodes;
	struct engine_stats stats;
};

static bool key_eq(const struct rw_inode_key *a, const struct rw_inode_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->gen == b->gen;
}

/* Grow *arr to hold one more element of size sz; NULL on failure. */
static void *push(void *arr_ptr, int *n, size_t sz)
{
	void **arr = arr_ptr;
	char *p;

	/* Capacity is 4, then doubles at each power of two: implied by *n. */
	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		p = realloc(*arr, (*n ? *n * 2 : 4) * sz);
		if (!p)
			return NULL;
		*arr = p;
	}
	p = (char *)*arr + (size_t)(*n)++ * sz;
	memset(p, 0, sz);
	return p;
}

static struct inode_stats *inode_stats(struct engine *e, const struct rw_inode_key *key)
{
	struct inode_stats *s;
	int n = e->ninodes;

	for (size_t i = 0; i < e->ninodes; i++)
		if (key_eq(&e->inodes[i].key, key))
			return &e->inodes[i];
	s = push(&e->inodes, &n, sizeof(*s));
	if (!s)
		return NULL;
	e->ninodes = n;
	s->key = *key;
	return s;
}

static struct op *find_op(struct engine *e, __u64 op_id)
{
	for (struct op *op = e->ops; op; op = op->next)
		if (op->begin.op_id == op_id)
			return op;
	return NULL;
}

struct engine *engine__new(const struct engine_opts *opts)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (e)
		e->opts = *opts;
	return e;
}

static void op_free(struct op *op)
{
	free(op->invals);
	free(op->cands);
	free(op);
}

void engine__free(struct engine *e)
{
	if (!e)
		return;
	while (e->ops) {
		struct op *next = e->ops->next;

		op_free(e->ops);
		e->ops = next;
	}
	free(e->inodes);
	free(e);
}

static void on_op_begin(struct engine *e, const struct rw_op_begin *r)
{
	struct inode_stats *s;
	struct op *op;

	if (find_op(e, r->op_id))
		return;
	if (e->nops >= ENGINE_MAX_OPS) {
		e->stats.ops_dropped++;
		return;
	}
	op = calloc(1, sizeof(*op));
	if (!op) {
		e->stats.ops_dropped++;
		return;
	}
	op->begin = *r;
	op->next = e->ops;
	e->ops = op;
	e->nops++;

	s = inode_stats(e, &r->key);
	if (!s)
		return;
	memcpy(s->fstype, r->fstype, sizeof(s->fstype));
	if (r->kind == RW_OP_INVALIDATE)
		s->bare_invals++;
	else
		s->ops++;
}

static void on_inval_begin(struct engine *e, const struct rw_inval_begin *r)
{
	struct op *op = find_op(e, r->op_id);
	struct inode_stats *s;
	struct inval_rec *iv;

	if (!op) {
		e->stats.orphans++;
		return;
	}
	iv = op->ninvals < ENGINE_MAX_INVALS ? push(&op->invals, &op->ninvals, sizeof(*iv)) : NULL;
	if (iv)
		iv->begin = *r;
	else
		op->lost++;	/* inserts it covered cannot be attributed */
	s = inode_stats(e, &r->key);
	if (s)
		s->invalidations++;
}

static void on_inval_end(struct engine *e, const struct rw_inval_end *r)
{
	struct op *op = find_op(e, r->op_id);

	if (!op) {
		e->stats.orphans++;
		return;
	}
	/* Invalidations of one operation never nest: close the open one. */
	for (int i = op->ninvals - 1; i >= 0; i--) {
		if (!op->invals[i].end_ts) {
			op->invals[i].end_ts = r->hdr.ts;
			break;
		}
	}
}

static void on_block_free(struct engine *e, const struct rw_block_free *r)
{
	struct op *op = find_op(e, r->op_id);

	if (!op) {
		e->stats.orphans++;
		return;
	}
	if (!op->nfree++)
		op->first_free_ts = r->hdr.ts;
	if (r->hdr.ts > op->last_free_ts)
		op->last_free_ts = r->hdr.ts;
	op->freed_blocks += r->blocks;
}

static void on_op_end(struct engine *e, const struct rw_op_end *r)
{
	struct op *op = find_op(e, r->op_id);
	struct inode_stats *s;

	if (!op) {
		e->stats.orphans++;
		/* Its OP_BEGIN was lost: whatever it saw went unreported. */
		if (r->lost)
			e->stats.ops_incomplete++;
		return;
	}
	op->ended = true;
	op->end_ts = r->hdr.ts;
	op->ret = r->ret;
	op->flags = r->flags;
	op->lost += r->lost;
	if (r->lost)
		e->stats.ops_incomplete++;
	if (r->flags & RW_OP_END_UNWATCHED)
		e->stats.ops_unwatched++;
	if (r->flags & RW_OP_END_NO_RETURN)
		e->stats.ops_no_return++;
	s = inode_stats(e, &op->begin.key);
	if (s && op->begin.kind != RW_OP_INVALIDATE && r->ret == 0)
		s->ops_ok++;
}

/* The first invalidation of op that had begun by ts and covers the pages. */
static int covering_inval(const struct op *op, const struct rw_insert *ins)
{
	__u64 last_page = ins->index + (ins->nr_pages ? ins->nr_pages : 1) - 1;

	for (int i = 0; i < op->ninvals; i++) {
		const struct rw_inval_begin *b = &op->invals[i].begin;

		if (b->hdr.ts <= ins->hdr.ts && ins->index <= b->last &&
		    last_page >= b->first)
			return i;
	}
	return -1;
}

static void on_insert(struct engine *e, const struct rw_insert *r)
{
	struct inode_stats *s = inode_stats(e, &r->key);
	bool attributed = false;

	if (s)
		s->inserts++;
	for (struct op *op = e->ops; op; op = op->next) {
		struct cand *c;
		int iv;

		if (!key_eq(&op->begin.key, &r->key) || (op->ended && r->hdr.ts > op->end_ts))
			continue;
		iv = covering_inval(op, r);
		if (iv < 0)
			continue;
		attributed = true;
		c = op->ncands < ENGINE_MAX_CANDS ? push(&op->cands, &op->ncands, sizeof(*c)) : NULL;
		if (!c) {
			/* Its verdicts would rest on a partial view. */
			e->stats.cands_dropped++;
			op->lost++;
			continue;
		}
		c->ins = *r;
		c->inval = iv;
	}
	if (!attributed)
		e->stats.unattributed++;
}

static void on_delete(struct engine *e, const struct rw_delete *r)
{
	for (struct op *op = e->ops; op; op = op->next) {
		struct cand *latest = NULL;

		if (!key_eq(&op->begin.key, &r->key))
			continue;
		/* A page can be inserted, dropped and inserted again: the
		 * deletion belongs to the newest insert before it. */
		for (int i = 0; i < op->ncands; i++) {
			struct cand *c = &op->cands[i];

			if (c->ins.index == r->index && !c->deleted &&
			    c->ins.hdr.ts <= r->hdr.ts &&
			    (!latest || c->ins.hdr.ts > latest->ins.hdr.ts))
				latest = c;
		}
		if (latest) {
			latest->deleted = true;
			latest->delete_ts = r->hdr.ts;
			latest->delete_tid = r->tid;
		}
	}
}

/* The PAGE record names its insert by timestamp: re-inserts are apart. */
static void on_page(struct engine *e, const struct rw_page_state *r)
{
	struct op *op = find_op(e, r->op_id);

	if (!op) {
		e->stats.orphans++;
		return;
	}
	for (int i = 0; i < op->ncands; i++) {
		struct cand *c = &op->cands[i];

		if (c->ins.index == r->index && c->ins.hdr.ts == r->insert_ts) {
			c->checked = true;
			c->page = *r;
		}
	}
}

void engine__feed(struct engine *e, const union rw_record *rec)
{
	if (rec->hdr.type < RW_REC_MAX)
		e->stats.records[rec->hdr.type]++;
	switch (rec->hdr.type) {
	case RW_REC_OP_BEGIN:	on_op_begin(e, &rec->op_begin); break;
	case RW_REC_INVAL_BEGIN: on_inval_begin(e, &rec->inval_begin); break;
	case RW_REC_INVAL_END:	on_inval_end(e, &rec->inval_end); break;
	case RW_REC_BLOCK_FREE:	on_block_free(e, &rec->block_free); break;
	case RW_REC_OP_END:	on_op_end(e, &rec->op_end); break;
	case RW_REC_INSERT:	on_insert(e, &rec->insert); break;
	case RW_REC_DELETE:	on_delete(e, &rec->del); break;
	case RW_REC_PAGE:	on_page(e, &rec->page); break;
	}
}

/* Is the page still a candidate of some other live operation? */
static bool watched_elsewhere(const struct engine *e, const struct op *self,
			      const struct cand *c)
{
	for (const struct op *op = e->ops; op; op = op->next) {
		if (op == self || !key_eq(&op->begin.key, &c->ins.key))
			continue;
		for (int i = 0; i < op->ncands; i++)
			if (op->cands[i].ins.index == c->ins.index && !op->cands[i].deleted)
				return true;
	}
	return false;
}

static void judge_op(struct engine *e, struct op *op)
{
	struct inode_stats *s = inode_stats(e, &op->begin.key);

	for (int i = 0; i < op->ncands; i++) {
		struct cand *c = &op->cands[i];
		const struct inval_rec *iv = &op->invals[c->inval];
		struct rw_window w = {
			.insert = &c->ins,
			.op = &op->begin,
			.inval = &iv->begin,
			.inval_end_ts = iv->end_ts,
			.op_ended = op->ended,
			.op_end_ts = op->end_ts,
			.op_ret = op->ret,
			.op_flags = op->flags,
			.op_lost = op->lost,
			.op_expired = op->expired,
			.nfree = op->nfree,
			.first_free_ts = op->first_free_ts,
			.last_free_ts = op->last_free_ts,
			.freed_blocks = op->freed_blocks,
			.deleted = c->deleted,
			.delete_ts = c->delete_ts,
			.delete_tid = c->delete_tid,
			.page = verdict__evidence(op->begin.fstype, c->checked ? &c->page : NULL,
						  e->opts.page_shift),
		};

		w.verdict = verdict__judge(&w);
		w.phase = verdict__phase(&w);
		e->stats.verdicts[w.verdict]++;
		if (s)
			s->verdicts[w.verdict]++;
		if (e->opts.on_window)
			e->opts.on_window(&w, e->opts.ctx);
		if (!c->deleted && e->opts.on_forget && !watched_elsewhere(e, op, c))
			e->opts.on_forget(&c->ins.key, c->ins.index, e->opts.ctx);
	}
}

/* An operation that never returns (a missed kretprobe, a task stuck in
 * the kernel) must not hold memory, or BPF's window, forever. */
static bool expired(const struct engine *e, const struct op *op, __u64 now)
{
	return !op->ended && e->opts.max_op_age_ns &&
	       op->begin.hdr.ts + e->opts.max_op_age_ns <= now;
}

static void judge_matching(struct engine *e, bool all, __u64 now)
{
	struct op **link = &e->ops;

	while (*link) {
		struct op *op = *link;
		bool done = all || (op->ended && op->end_ts + e->opts.grace_ns <= now);

		if (!done && expired(e, op, now)) {
			op->expired = true;
			e->stats.ops_expired++;
			if (e->opts.on_expire)
				e->opts.on_expire(&op->begin, e->opts.ctx);
			done = true;
		}
		if (done) {
			if (!op->ended && !op->expired)
				e->stats.ops_open++;
			judge_op(e, op);
			*link = op->next;
			op_free(op);
			e->nops--;
		} else {
			link = &op->next;
		}
	}
}

void engine__tick(struct engine *e, __u64 now)
{
	judge_matching(e, false, now);
}

void engine__flush(struct engine *e)
{
	judge_matching(e, true, 0);
}

const struct engine_stats *engine__stats(const struct engine *e)
{
	return &e->stats;
}

const struct inode_stats *engine__inodes(const struct engine *e, size_t *n)
{
	*n = e->ninodes;
	return e->inodes;
}
