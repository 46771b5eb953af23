// SPDX-License-Identifier: GPL-2.0
/*
 * Events are written as records arrive, so memory holds only what is still
 * open: operations until their OP_END (to write each as one complete "X"
 * slice: ops on one inode do not overlap, i_rwsem serializes them), and
 * the track ids given out. Both are bounded; past the bounds an operation
 * becomes an instant and inodes share one "other inodes" track, counted
 * and said at exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "hash.h"
#include "perfetto.h"
#include "report.h"
#include "verdict.h"

#define MAX_OPEN_OPS	32768
#define MAX_FS		64	/* filesystems (type and device) with a process each */
#define MAX_INODES	65536	/* inodes with a track of their own */
#define MAX_TASKS	65536	/* inserting tasks named on their tracks */
/* Inode tracks' tids sit above any task's (PID_MAX_LIMIT is 4M). */
#define INODE_TID_BASE	0x40000000

struct open_op {
	struct open_op *prev, *next;	/* every open one, to end them at close */
	struct rw_op_begin begin;
	int pid, tid;
	__u64 inval_ts;		/* the open invalidation's start; 0: none */
	struct rw_inval_begin inval;
};

/* Track ids given out, in arrays that grow to their bound; the hashes
 * hold index + 1, and a lookup key carries the array. */
struct ino_track {
	__u32 dev;
	__u64 ino;
};

struct task_track {
	int pid;
	__u32 tid;
};

struct ino_key {
	const struct ino_track *all;
	struct ino_track want;
};

struct task_key {
	const struct task_track *all;
	struct task_track want;
};

struct perfetto {
	FILE *out;
	char *path;
	bool first;		/* no event written yet: no comma before it */
	struct { __u32 dev; char fstype[RW_FSTYPE_LEN]; bool named; } fs[MAX_FS];
	int nfs;
	struct hash *ops, *inodes, *tasks;
	struct open_op *open;		/* list head */
	struct ino_track *inos;
	struct task_track *task_list;
	size_t ninodes, ntasks, inodes_cap, tasks_cap;
	bool other_named[MAX_FS + 1];
	__u64 ops_untracked, inodes_folded, unpaired;
};

static void json_str(FILE *out, const char *s, size_t n)
{
	char buf[ESCAPE_JSON_SIZE(128)];

	escape__json(buf, sizeof(buf), s, n < 128 ? n : 128);
	fprintf(out, "\"%s\"", buf);
}

/* Microseconds, the format's unit, from nanoseconds, kept exact. */
static void put_ts(FILE *out, const char *key, __u64 ns)
{
	fprintf(out, ",\"%s\":%llu.%03llu", key, (unsigned long long)(ns / 1000),
		(unsigned long long)(ns % 1000));
}

static void begin_event(struct perfetto *p)
{
	fputs(p->first ? "\n" : ",\n", p->out);
	p->first = false;
}

/* What open allocated, however far it got; the file is the caller's. */
static void perfetto_free(struct perfetto *p)
{
	if (!p)
		return;
	hash__free(p->ops);
	hash__free(p->inodes);
	hash__free(p->tasks);
	free(p->inos);
	free(p->task_list);
	free(p->path);
	free(p);
}

struct perfetto *perfetto__open(const char *path)
{
	struct perfetto *p = calloc(1, sizeof(*p));

	if (!p || !(p->path = strdup(path)) || !(p->ops = hash__new()) ||
	    !(p->inodes = hash__new()) || !(p->tasks = hash__new())) {
		fprintf(stderr, "racewatch: failed to allocate state: %s\n", strerror(ENOMEM));
		goto fail;
	}
	p->out = fopen(path, "we");
	if (!p->out) {
		fprintf(stderr, "racewatch: cannot create --perfetto '%s': %s\n", path,
			strerror(errno));
		goto fail;
	}
	p->first = true;
	fprintf(p->out, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"tool\":\"racewatch\","
		"\"record_version\":%d,\"clock\":\"CLOCK_MONOTONIC\"},\"traceEvents\":[",
		RW_ABI_VERSION);
	return p;
fail:
	perfetto_free(p);
	return NULL;
}

/* The filesystem's process, named once its type is known. */
static int fs_pid(struct perfetto *p, __u32 dev, const char *fstype)
{
	int i;

	for (i = 0; i < p->nfs; i++)
		if (p->fs[i].dev == dev)
			break;
	if (i == p->nfs) {
		if (p->nfs == MAX_FS)
			return MAX_FS + 1;	/* "other filesystems" */
		p->fs[p->nfs++].dev = dev;
	}
	if (fstype && fstype[0] && !p->fs[i].named) {
		strncpy(p->fs[i].fstype, fstype, RW_FSTYPE_LEN - 1);
		p->fs[i].named = true;
		begin_event(p);
		fputs("{\"ph\":\"M\",\"name\":\"process_name\"", p->out);
		fprintf(p->out, ",\"pid\":%d,\"args\":{\"name\":", i + 1);
		{
			char name[RW_FSTYPE_LEN + 32];

			snprintf(name, sizeof(name), "%.*s %u:%u", RW_FSTYPE_LEN, fstype, dev >> 20,
				 dev & ((1U << 20) - 1));
			json_str(p->out, name, sizeof(name));
		}
		fputs("}}", p->out);
	}
	return i + 1;
}

static bool ino_eq(uintptr_t val, const void *key)
{
	const struct ino_key *k = key;
	const struct ino_track *a = &k->all[val - 1];

	return a->dev == k->want.dev && a->ino == k->want.ino;
}

static __u64 ino_hash(__u32 dev, __u64 ino)
{
	return hash__mix(ino * HASH_K1 ^ dev * HASH_K2);
}

static void thread_name(struct perfetto *p, int pid, int tid, const char *name, size_t n)
{
	begin_event(p);
	fprintf(p->out, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
		"\"args\":{\"name\":", pid, tid);
	json_str(p->out, name, n);
	fputs("}}", p->out);
}

/* Room for one more in an array that grows by doubling up to max. */
static bool grow(void **arr, size_t *cap, size_t n, size_t size, size_t max)
{
	size_t want = *cap ? *cap * 2 : 256;
	void *a;

	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	if (want > max)
		want = max;
	a = realloc(*arr, want * size);
	if (!a)
		return false;
	*arr = a;
	*cap = want;
	return true;
}

/* The inode's track in its filesystem's process; past the bound, the
 * process's "other inodes" track. */
static int ino_tid(struct perfetto *p, int pid, __u32 dev, __u64 ino)
{
	struct ino_key key = { .all = p->inos, .want = { .dev = dev, .ino = ino } };
	uintptr_t v = hash__find(p->inodes, ino_hash(dev, ino), ino_eq, &key);
	char name[40];

	if (v)
		return INODE_TID_BASE + (int)(v - 1);
	if (!grow((void **)&p->inos, &p->inodes_cap, p->ninodes, sizeof(*p->inos), MAX_INODES) ||
	    hash__add(p->inodes, ino_hash(dev, ino), p->ninodes + 1)) {
		p->inodes_folded++;
		if (pid <= MAX_FS && !p->other_named[pid - 1]) {
			p->other_named[pid - 1] = true;
			thread_name(p, pid, INODE_TID_BASE + MAX_INODES, "other inodes", 16);
		}
		return INODE_TID_BASE + MAX_INODES;
	}
	p->inos[p->ninodes] = key.want;
	snprintf(name, sizeof(name), "ino %llu", (unsigned long long)ino);
	thread_name(p, pid, INODE_TID_BASE + (int)p->ninodes, name, sizeof(name));
	return INODE_TID_BASE + (int)p->ninodes++;
}

static bool task_eq(uintptr_t val, const void *key)
{
	const struct task_key *k = key;
	const struct task_track *a = &k->all[val - 1];

	return a->pid == k->want.pid && a->tid == k->want.tid;
}

/* An inserting task's track, named by its comm the first time (past the
 * bound, unnamed). */
static int task_tid(struct perfetto *p, int pid, const struct rw_task *task)
{
	struct task_key key = { .all = p->task_list, .want = { .pid = pid, .tid = task->tid } };
	__u64 hv = hash__mix((__u64)pid << 32 | task->tid);
	char name[RW_COMM_LEN + 16];

	if (hash__find(p->tasks, hv, task_eq, &key) ||
	    !grow((void **)&p->task_list, &p->tasks_cap, p->ntasks, sizeof(*p->task_list),
		  MAX_TASKS) ||
	    hash__add(p->tasks, hv, p->ntasks + 1))
		return task->tid;
	p->task_list[p->ntasks++] = key.want;
	snprintf(name, sizeof(name), "%.*s %u", RW_COMM_LEN, task->comm, task->tid);
	thread_name(p, pid, task->tid, name, sizeof(name));
	return task->tid;
}

static bool op_eq(uintptr_t val, const void *key)
{
	return ((const struct open_op *)val)->begin.op_id == *(const __u64 *)key;
}

static struct open_op *find_op(struct perfetto *p, __u64 op_id)
{
	return (void *)hash__find(p->ops, hash__mix(op_id), op_eq, &op_id);
}

/* "PUNCH_HOLE|KEEP_SIZE 0x6e00000+24576", "truncate 0x1000", "invalidate". */
static void op_name(const struct rw_op_begin *op, char *buf, size_t len)
{
	char mode[96];

	if (op->kind == RW_OP_FALLOCATE) {
		report__falloc_mode(op->mode, mode, sizeof(mode));
		snprintf(buf, len, "%s 0x%llx+%lld", mode[0] ? mode : "allocate",
			 (unsigned long long)op->offset, (long long)op->len);
	} else if (op->kind == RW_OP_TRUNCATE) {
		snprintf(buf, len, "truncate 0x%llx", (unsigned long long)op->offset);
	} else {
		snprintf(buf, len, "%s", report__op_kind_name(op->kind));
	}
}

static void task_arg(FILE *out, const char *key, const struct rw_task *t)
{
	fprintf(out, ",\"%s\":", key);
	json_str(out, t->comm, sizeof(t->comm));
	fprintf(out, ",\"%s_pid\":%u,\"%s_tid\":%u", key, t->pid, key, t->tid);
}

/* The operation's slice; ended: whether its OP_END came (ret known). */
static void op_slice(struct perfetto *p, const struct open_op *o, __u64 end_ts,
		     const struct rw_op_end *end)
{
	const struct rw_op_begin *op = &o->begin;
	char name[160];

	op_name(op, name, sizeof(name));
	begin_event(p);
	fputs("{\"ph\":\"X\",\"cat\":\"op\",\"name\":", p->out);
	json_str(p->out, name, sizeof(name));
	fprintf(p->out, ",\"pid\":%d,\"tid\":%d", o->pid, o->tid);
	put_ts(p->out, "ts", op->hdr.ts);
	put_ts(p->out, "dur", end_ts > op->hdr.ts ? end_ts - op->hdr.ts : 0);
	fprintf(p->out, ",\"args\":{\"op_id\":%llu,\"ino\":%llu,\"kind\":\"%s\",\"offset\":%lld,"
		"\"len\":%lld", (unsigned long long)op->op_id, (unsigned long long)op->key.ino,
		report__op_kind_name(op->kind), (long long)op->offset, (long long)op->len);
	task_arg(p->out, "task", &op->task);
	if (end)
		fprintf(p->out, ",\"ret\":%lld}}", (long long)end->ret);
	else
		fputs(",\"ret\":null}}", p->out);
}

static void inval_slice(struct perfetto *p, struct open_op *o, __u64 end_ts)
{
	begin_event(p);
	fprintf(p->out, "{\"ph\":\"X\",\"cat\":\"invalidation\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d",
		report__inval_fn_name(o->inval.fn), o->pid, o->tid);
	put_ts(p->out, "ts", o->inval_ts);
	put_ts(p->out, "dur", end_ts > o->inval_ts ? end_ts - o->inval_ts : 0);
	fprintf(p->out, ",\"args\":{\"op_id\":%llu,\"first\":%llu,\"last\":%llu}}",
		(unsigned long long)o->inval.op_id, (unsigned long long)o->inval.first,
		(unsigned long long)o->inval.last);
	o->inval_ts = 0;
}

static void on_op_begin(struct perfetto *p, const struct rw_op_begin *r)
{
	struct open_op *o;
	int pid = fs_pid(p, r->key.dev, r->fstype);
	int tid = ino_tid(p, pid, r->key.dev, r->key.ino);

	if (hash__len(p->ops) >= MAX_OPEN_OPS || !(o = calloc(1, sizeof(*o)))) {
		p->ops_untracked++;
		return;
	}
	o->begin = *r;
	o->pid = pid;
	o->tid = tid;
	if (hash__add(p->ops, hash__mix(r->op_id), (uintptr_t)o)) {
		free(o);
		p->ops_untracked++;
		return;
	}
	o->next = p->open;
	if (p->open)
		p->open->prev = o;
	p->open = o;
}

static void op_forget(struct perfetto *p, struct open_op *o)
{
	hash__del(p->ops, hash__mix(o->begin.op_id), (uintptr_t)o);
	if (o->prev)
		o->prev->next = o->next;
	else
		p->open = o->next;
	if (o->next)
		o->next->prev = o->prev;
	free(o);
}

static void on_op_end(struct perfetto *p, const struct rw_op_end *r)
{
	struct open_op *o = find_op(p, r->op_id);

	if (!o) {
		p->unpaired++;
		return;
	}
	if (o->inval_ts)
		inval_slice(p, o, r->hdr.ts);
	op_slice(p, o, r->hdr.ts, r);
	op_forget(p, o);
}

static void instant(struct perfetto *p, const char *cat, const char *name, int pid, int tid,
		    __u64 ts)
{
	begin_event(p);
	fprintf(p->out, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"%s\",\"name\":", cat);
	json_str(p->out, name, 64);
	fprintf(p->out, ",\"pid\":%d,\"tid\":%d", pid, tid);
	put_ts(p->out, "ts", ts);
}

void perfetto__record(struct perfetto *p, const union rw_record *rec)
{
	struct open_op *o;

	if (!p)
		return;
	switch (rec->hdr.type) {
	case RW_REC_OP_BEGIN:
		on_op_begin(p, &rec->op_begin);
		break;
	case RW_REC_OP_END:
		on_op_end(p, &rec->op_end);
		break;
	case RW_REC_INVAL_BEGIN:
		o = find_op(p, rec->inval_begin.op_id);
		if (!o) {
			/* No operation around it (the summary's
			 * bare_invalidations): an instant on its inode. */
			const struct rw_inval_begin *ib = &rec->inval_begin;
			int pid = fs_pid(p, ib->key.dev, NULL);

			instant(p, "invalidation", report__inval_fn_name(ib->fn), pid,
				ino_tid(p, pid, ib->key.dev, ib->key.ino), ib->hdr.ts);
			fprintf(p->out, ",\"args\":{\"op_id\":%llu,\"first\":%llu,\"last\":%llu}}",
				(unsigned long long)ib->op_id, (unsigned long long)ib->first,
				(unsigned long long)ib->last);
			break;
		}
		if (o->inval_ts)	/* one at a time in a task: close the last */
			inval_slice(p, o, rec->hdr.ts);
		o->inval = rec->inval_begin;
		o->inval_ts = rec->hdr.ts;
		break;
	case RW_REC_INVAL_END:
		o = find_op(p, rec->inval_end.op_id);
		if (o && o->inval_ts)
			inval_slice(p, o, rec->hdr.ts);
		else
			p->unpaired++;
		break;
	case RW_REC_BLOCK_FREE:
		o = find_op(p, rec->block_free.op_id);
		if (!o) {
			p->unpaired++;
			break;
		}
		instant(p, "free", rec->block_free.fs == RW_FREE_EXT4_CONVERT ? "ext4 convert" :
			rec->block_free.fs == RW_FREE_EXT4_SHIFT ? "ext4 shift" : "block free",
			o->pid, o->tid, rec->hdr.ts);
		fprintf(p->out, ",\"args\":{\"op_id\":%llu,\"blocks\":%llu}}",
			(unsigned long long)rec->block_free.op_id,
			(unsigned long long)rec->block_free.blocks);
		break;
	case RW_REC_INSERT: {
		const struct rw_insert *ins = &rec->insert;
		int pid = fs_pid(p, ins->key.dev, NULL);

		instant(p, "insert", "insert", pid, task_tid(p, pid, &ins->task), ins->hdr.ts);
		fprintf(p->out, ",\"args\":{\"ino\":%llu,\"index\":%llu,\"nr_pages\":%u}}",
			(unsigned long long)ins->key.ino, (unsigned long long)ins->index,
			ins->nr_pages ? ins->nr_pages : 1);
		break;
	}
	default:
		break;
	}
}

void perfetto__window(struct perfetto *p, const struct rw_window *w, const char *test)
{
	const struct rw_insert *ins = w->insert;
	__u64 last = ins->index + (ins->nr_pages ? ins->nr_pages : 1) - 1;
	bool race = w->verdict == VERDICT_RACE;
	int pid;
	char name[96], lock[256];
	static const char *const locks[] = { "invalidate_lock", "i_rwsem", "i_mmap_sem" };
	const struct rw_lock *held[] = { &ins->locks.invalidate_lock, &ins->locks.i_rwsem,
					 &ins->locks.i_mmap_sem };

	if (!p)
		return;
	pid = fs_pid(p, ins->key.dev, w->op->fstype);
	snprintf(name, sizeof(name), "%s pages %llu-%llu", race ? "RACE" :
		 engine__verdict_name(w->verdict), (unsigned long long)ins->index,
		 (unsigned long long)last);
	instant(p, race ? "race" : "window", name, pid, task_tid(p, pid, &ins->task), ins->hdr.ts);
	fprintf(p->out, ",\"args\":{\"verdict\":\"%s\",\"op_id\":%llu,\"ino\":%llu,\"first\":%llu,"
		"\"last\":%llu,\"phase\":\"%s\",\"page\":\"%s\"", engine__verdict_name(w->verdict),
		(unsigned long long)w->op->op_id, (unsigned long long)ins->key.ino,
		(unsigned long long)ins->index, (unsigned long long)last,
		engine__phase_name(w->phase), engine__evidence_name(w->page));
	task_arg(p->out, "inserter", &ins->task);
	task_arg(p->out, "invalidator", &w->op->task);
	for (int i = 0; i < 3; i++) {
		report__lock_text(locks[i], ins->key.ino, held[i], lock, sizeof(lock));
		if (!lock[0])
			continue;
		fprintf(p->out, ",\"%s\":", locks[i]);
		json_str(p->out, lock, sizeof(lock));
	}
	if (test) {
		fputs(",\"test\":", p->out);
		json_str(p->out, test, 128);
	}
	fputs("}}", p->out);
}

int perfetto__close(struct perfetto *p, __u64 end_ns)
{
	int err = 0;

	if (!p)
		return 0;
	/* Operations still open: their slices end with the trace. */
	while (p->open) {
		struct open_op *o = p->open;

		if (o->inval_ts)
			inval_slice(p, o, end_ns);
		op_slice(p, o, end_ns, NULL);
		op_forget(p, o);
	}
	fputs("\n]}\n", p->out);
	if (fflush(p->out) || ferror(p->out))
		err = -1;
	if (fclose(p->out))
		err = -1;
	if (err)
		fprintf(stderr, "racewatch: WARNING! failed to write --perfetto '%s': %s; the "
			"trace is incomplete\n", p->path, strerror(errno));
	if (p->ops_untracked)
		fprintf(stderr, "racewatch: WARNING! --perfetto: %llu operations past %d open "
			"at once not drawn\n", (unsigned long long)p->ops_untracked, MAX_OPEN_OPS);
	/* Mostly operations that began before racewatch attached. */
	if (p->unpaired)
		fprintf(stderr, "racewatch: --perfetto: %llu records of operations not seen to "
			"begin not drawn\n", (unsigned long long)p->unpaired);
	if (p->inodes_folded)
		fprintf(stderr, "racewatch: --perfetto: %llu operations on inodes past %d drawn "
			"on each filesystem's \"other inodes\" track\n",
			(unsigned long long)p->inodes_folded, MAX_INODES);
	perfetto_free(p);
	return err;
}
