// SPDX-License-Identifier: GPL-2.0
/*
 * Reports. Text is one line per window for people and grep; --json is
 * NDJSON with the same facts for dashboards and the test matcher. Field
 * names are part of racewatch's interface (README.md, "Output").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "errname.h"
#include "escape.h"
#include "events.h"
#include "ksyms.h"
#include "report.h"
#include "verdict.h"

#define MAX_STACK 127
/* Lock text: the template's longest case plus an escaped comm. */
#define LOCK_TEXT_LEN	(128 + ESCAPE_JSON_SIZE(RW_COMM_LEN))
#define SYM_LEN		192

struct report {
	FILE *out;
	struct report_opts opts;
};

static const char *const lock_names[] = { "invalidate_lock", "i_rwsem", "i_mmap_sem" };

struct report *report__new(FILE *out, const struct report_opts *opts)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->out = out;
	r->opts = *opts;
	return r;
}

void report__free(struct report *r)
{
	free(r);
}

static unsigned int dev_major(__u32 dev)
{
	return dev >> 20;	/* kernel MKDEV(): 12-bit major above 20-bit minor */
}

static unsigned int dev_minor(__u32 dev)
{
	return dev & 0xfffff;
}

void report__falloc_mode(__u32 mode, char *buf, size_t len)
{
	static const struct { __u32 bit; const char *name; } bits[] = {
		{ RW_FALLOC_PUNCH_HOLE, "PUNCH_HOLE" },
		{ RW_FALLOC_COLLAPSE_RANGE, "COLLAPSE_RANGE" },
		{ RW_FALLOC_ZERO_RANGE, "ZERO_RANGE" },
		{ RW_FALLOC_INSERT_RANGE, "INSERT_RANGE" },
		{ RW_FALLOC_UNSHARE_RANGE, "UNSHARE_RANGE" },
		{ RW_FALLOC_NO_HIDE_STALE, "NO_HIDE_STALE" },
		{ RW_FALLOC_KEEP_SIZE, "KEEP_SIZE" },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(mode & bits[i].bit))
			continue;
		off += snprintf(buf + off, off < len ? len - off : 0, "%s%s",
				off ? "|" : "", bits[i].name);
		mode &= ~bits[i].bit;
	}
	if (mode)
		snprintf(buf + off, off < len ? len - off : 0, "%s0x%x", off ? "|" : "", mode);
}

/* owner: the lock owner's comm, already escaped for the output at hand. */
static void lock_text(const char *name, __u64 ino, const struct rw_lock *l,
		      const char *owner, char *buf, size_t len)
{
	const char *waiters = l->waiters ? ", waiters queued" : "";

	switch (l->state) {
	case RW_LOCK_ABSENT:
		buf[0] = '\0';
		break;
	case RW_LOCK_UNREADABLE:
		snprintf(buf, len, "ino %llu %s unreadable (no BTF for it)", (unsigned long long)ino, name);
		break;
	case RW_LOCK_FREE:
		snprintf(buf, len, "ino %llu %s free", (unsigned long long)ino, name);
		break;
	case RW_LOCK_WRITE:
		if (l->owner_pid)
			snprintf(buf, len, "ino %llu %s held W by %s[%u]%s", (unsigned long long)ino,
				 name, owner, l->owner_pid, waiters);
		else
			snprintf(buf, len, "ino %llu %s held W (writer unknown)%s",
				 (unsigned long long)ino, name, waiters);
		break;
	case RW_LOCK_READ:
		if (l->owner_pid)
			snprintf(buf, len, "ino %llu %s held R by %u reader%s (last %s[%u])%s",
				 (unsigned long long)ino, name, l->readers,
				 l->readers == 1 ? "" : "s", owner, l->owner_pid, waiters);
		else
			snprintf(buf, len, "ino %llu %s held R by %u reader%s%s",
				 (unsigned long long)ino, name, l->readers,
				 l->readers == 1 ? "" : "s", waiters);
		break;
	default:
		snprintf(buf, len, "ino %llu %s state %u", (unsigned long long)ino, name, l->state);
	}
}

void report__lock_text(const char *name, __u64 ino, const struct rw_lock *l,
		       char *buf, size_t len)
{
	char owner[ESCAPE_TEXT_SIZE(RW_COMM_LEN)];

	escape__text(owner, sizeof(owner), l->owner_comm, sizeof(l->owner_comm));
	lock_text(name, ino, l, owner, buf, len);
}

static const struct rw_lock *lock_at(const struct rw_locks *locks, int i)
{
	const struct rw_lock *all[] = { &locks->invalidate_lock, &locks->i_rwsem, &locks->i_mmap_sem };

	return all[i];
}

const char *report__op_kind_name(__u32 kind)
{
	switch (kind) {
	case RW_OP_FALLOCATE:	return "fallocate";
	case RW_OP_TRUNCATE:	return "truncate";
	case RW_OP_INVALIDATE:	return "invalidate";
	}
	return "?";
}

const char *report__inval_fn_name(__u32 fn)
{
	switch (fn) {
	case RW_INVAL_TRUNCATE:	return "truncate_inode_pages_range";
	case RW_INVAL_PAGES2:	return "invalidate_inode_pages2_range";
	case RW_INVAL_DERIVED:	return "derived";
	case RW_INVAL_SHMEM:	return "shmem_undo_range";
	}
	return "?";
}

const char *report__lock_state_name(__u8 state)
{
	static const char *const names[] = { "absent", "unreadable", "free", "write", "read" };

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

/* The errors fallocate and truncate return, by name where we know it:
 * the kernel's internal restarts too, seen at the syscall's exit tracepoint
 * before signal handling rewrites them. */
static const char *errno_name(__s64 ret)
{
	return ret < 0 && ret > -4096 ? errname__name((int)-ret) : NULL;
}

/* "fallocate(PUNCH_HOLE|KEEP_SIZE)", and " ret -28 ENOSPC" when its return
 * was seen and was an error. */
static void op_text(const struct rw_window *w, char *buf, size_t len)
{
	const struct rw_op_begin *op = w->op;
	const char *err = errno_name(w->op_ret);
	char mode[96], ret[48] = "";

	if (w->op_ended && !(w->op_flags & RW_OP_END_NO_RETURN) && w->op_ret)
		snprintf(ret, sizeof(ret), " ret %lld%s%s", (long long)w->op_ret,
			 err ? " " : "", err ? err : "");
	if (op->kind == RW_OP_FALLOCATE) {
		report__falloc_mode(op->mode, mode, sizeof(mode));
		snprintf(buf, len, "fallocate(%s)%s", mode, ret);
	} else {
		snprintf(buf, len, "%s%s", report__op_kind_name(op->kind), ret);
	}
}

/* Local time with microseconds; UTC when utc is set (JSON). */
static void fmt_time(const struct report *r, __u64 mono_ns, bool utc, char *buf, size_t len)
{
	__s64 real = (__s64)mono_ns + r->opts.realtime_offset;
	time_t secs = real / 1000000000;
	struct tm tm;
	char hms[32];

	if (utc) {
		gmtime_r(&secs, &tm);
		strftime(hms, sizeof(hms), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf, len, "%s.%06lldZ", hms, (long long)(real % 1000000000) / 1000);
	} else {
		localtime_r(&secs, &tm);
		strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
		snprintf(buf, len, "%s.%06lld", hms, (long long)(real % 1000000000) / 1000);
	}
}

/* Strings we did not write ourselves, escaped as README "Output" says;
 * every caller's string fits SYM_LEN (comms, fs types, symbols). */
static void json_str(FILE *out, const char *s, size_t max)
{
	char buf[ESCAPE_JSON_SIZE(SYM_LEN)];

	escape__json(buf, sizeof(buf), s, max < SYM_LEN ? max : SYM_LEN);
	fprintf(out, "\"%s\"", buf);
}

/* Our own longer texts (the plan's rejections), escaped the same way. */
#define PLAN_TEXT_LEN 1024

static void json_plan_text(FILE *out, const char *s)
{
	char buf[ESCAPE_JSON_SIZE(PLAN_TEXT_LEN)];

	escape__json(buf, sizeof(buf), s, strnlen(s, PLAN_TEXT_LEN));
	fprintf(out, "\"%s\"", buf);
}

static void json_task(FILE *out, const char *name, const struct rw_task *t)
{
	fprintf(out, "\"%s\":{\"pid\":%u,\"tid\":%u,\"comm\":", name, t->pid, t->tid);
	json_str(out, t->comm, sizeof(t->comm));
	fputc('}', out);
}

static void json_locks(FILE *out, const char *key, __u64 ino, const struct rw_locks *locks)
{
	char text[LOCK_TEXT_LEN], owner[ESCAPE_JSON_SIZE(RW_COMM_LEN)];

	fprintf(out, "\"%s\":{", key);
	for (int i = 0; i < 3; i++) {
		const struct rw_lock *l = lock_at(locks, i);

		fprintf(out, "%s\"%s\":{\"state\":\"%s\"", i ? "," : "", lock_names[i],
			report__lock_state_name(l->state));
		if (l->state == RW_LOCK_WRITE || l->state == RW_LOCK_READ) {
			fprintf(out, ",\"readers\":%u,\"waiters\":%s", l->readers,
				l->waiters ? "true" : "false");
			if (l->owner_pid) {
				fprintf(out, ",\"owner\":{\"pid\":%u,\"tid\":%u,\"comm\":",
					l->owner_pid, l->owner_tid);
				json_str(out, l->owner_comm, sizeof(l->owner_comm));
				fputc('}', out);
			}
		}
		/* The template is plain ASCII: only the owner needs escaping. */
		escape__json(owner, sizeof(owner), l->owner_comm, sizeof(l->owner_comm));
		lock_text(lock_names[i], ino, l, owner, text, sizeof(text));
		if (text[0])
			fprintf(out, ",\"text\":\"%s\"", text);
		fputc('}', out);
	}
	fputc('}', out);
}

static int fetch_stack(const struct report *r, __s32 id, __u64 *ips)
{
	if (id < 0 || !r->opts.stack_fn)
		return 0;
	return r->opts.stack_fn(id, ips, MAX_STACK, r->opts.stack_ctx);
}

/*
 * Unescaped: callers escape the whole string, whose template is plain
 * ASCII. An address that resolves to no symbol is a raw kernel pointer, a
 * KASLR leak in a log anyone may read: "[unknown]", as perf prints it,
 * unless --raw-addresses asked for it.
 */
static void sym_text(const struct report *r, __u64 ip, char *buf, size_t len)
{
	const struct ksym *s = r->opts.ksyms ? ksyms__resolve(r->opts.ksyms, ip) : NULL;

	if (!s && r->opts.raw_addresses)
		snprintf(buf, len, "0x%llx", (unsigned long long)ip);
	else if (!s)
		snprintf(buf, len, "[unknown]");
	else if (s->module)
		snprintf(buf, len, "%s+0x%llx [%s]", s->name,
			 (unsigned long long)(ip - s->addr), s->module);
	else
		snprintf(buf, len, "%s+0x%llx", s->name, (unsigned long long)(ip - s->addr));
}

static void json_stack(const struct report *r, const char *name, __s32 id)
{
	__u64 ips[MAX_STACK];
	char sym[SYM_LEN];
	int n = fetch_stack(r, id, ips);

	fprintf(r->out, "\"%s\":[", name);
	for (int i = 0; i < n && ips[i]; i++) {
		sym_text(r, ips[i], sym, sizeof(sym));
		if (i)
			fputc(',', r->out);
		json_str(r->out, sym, sizeof(sym));
	}
	fputc(']', r->out);
}

static void text_stack(const struct report *r, const char *name, __s32 id)
{
	__u64 ips[MAX_STACK];
	char sym[SYM_LEN], esc[ESCAPE_TEXT_SIZE(SYM_LEN)];
	int n = fetch_stack(r, id, ips);

	fprintf(r->out, "    %s stack:%s\n", name, n > 0 ? "" : " (not collected)");
	for (int i = 0; i < n && ips[i]; i++) {
		sym_text(r, ips[i], sym, sizeof(sym));
		escape__text(esc, sizeof(esc), sym, sizeof(sym));
		fprintf(r->out, "      %s\n", esc);
	}
}

static const char *const read_map_names[RW_READ_MAP_MAX] = {
	[RW_READ_MAP_NONE]	= "none",
	[RW_READ_MAP_DISK]	= "disk",
	[RW_READ_MAP_ZEROS]	= "zeros",
	[RW_READ_MAP_PENDING]	= "pending",
};

static const char *const read_map_from_names[RW_READ_MAP_FROM_MAX] = {
	[RW_READ_MAP_FROM_NONE]		= "none",
	[RW_READ_MAP_FROM_EXT4_ES]	= "ext4-extent-cache",
	[RW_READ_MAP_FROM_EXT4_TREE]	= "ext4-extent-tree",
	[RW_READ_MAP_FROM_BTRFS]	= "btrfs",
};

/* What the inserter's read was seen to map, the evidence behind "page". */
static void json_read_map(FILE *out, const struct rw_page_state *p)
{
	if (!p || !p->read_map_ts || p->read_map >= RW_READ_MAP_MAX ||
	    p->read_map_from >= RW_READ_MAP_FROM_MAX) {
		fputs("\"read_map\":null,", out);
		return;
	}
	fprintf(out, "\"read_map\":{\"kind\":\"%s\",\"from\":\"%s\",\"ns\":%llu},",
		read_map_names[p->read_map], read_map_from_names[p->read_map_from],
		(unsigned long long)p->read_map_ts);
}

static void json_page_index(FILE *out, const char *name, __u64 v)
{
	if (v == RW_PAGE_EOF)
		fprintf(out, "\"%s\":\"eof\"", name);
	else
		fprintf(out, "\"%s\":%llu", name, (unsigned long long)v);
}

/* The test that was running when the operation began; NULL: none known. */
static const char *test_of(const struct report *r, const struct rw_op_begin *op)
{
	const struct test_row *t = r->opts.tests ? testtag__at(r->opts.tests, op->hdr.ts) : NULL;

	return t ? t->name : NULL;
}

static void window_json(struct report *r, const struct rw_window *w)
{
	const struct rw_insert *ins = w->insert;
	const struct rw_op_begin *op = w->op;
	FILE *out = r->out;
	char buf[96];

	fmt_time(r, ins->hdr.ts, true, buf, sizeof(buf));
	fprintf(out, "{\"type\":\"window\",\"v\":%d,\"verdict\":\"%s\",\"time\":\"%s\",\"ts_ns\":%llu,",
		RW_ABI_VERSION, engine__verdict_name(w->verdict), buf,
		(unsigned long long)ins->hdr.ts);
	if (test_of(r, op)) {
		fputs("\"test\":", out);
		json_str(out, test_of(r, op), TESTTAG_NAME_LEN);
		fputc(',', out);
	}
	fputs("\"fs\":", out);
	json_str(out, op->fstype, sizeof(op->fstype));
	fprintf(out, ",\"dev\":\"%u:%u\",\"ino\":%llu,\"gen\":%u,\"first\":%llu,\"last\":%llu,",
		dev_major(ins->key.dev), dev_minor(ins->key.dev),
		(unsigned long long)ins->key.ino, ins->key.gen,
		(unsigned long long)ins->index,
		(unsigned long long)(ins->index + (ins->nr_pages ? ins->nr_pages : 1) - 1));
	fprintf(out, "\"phase\":\"%s\",", engine__phase_name(w->phase));
	json_task(out, "inserter", &ins->task);
	fputc(',', out);
	json_task(out, "invalidator", &op->task);
	report__falloc_mode(op->mode, buf, sizeof(buf));
	fprintf(out, ",\"op\":{\"id\":%llu,\"kind\":\"%s\",\"mode\":\"%s\",\"offset\":%lld,\"len\":%lld,"
		"\"begin_ns\":%llu,",
		(unsigned long long)op->op_id, report__op_kind_name(op->kind), buf,
		(long long)op->offset, (long long)op->len, (unsigned long long)op->hdr.ts);
	if (w->op_ended && !(w->op_flags & RW_OP_END_NO_RETURN))
		fprintf(out, "\"end_ns\":%llu,\"ret\":%lld,", (unsigned long long)w->op_end_ts,
			(long long)w->op_ret);
	else
		fputs("\"end_ns\":null,\"ret\":null,", out);
	/* Why its verdicts may rest on a partial view (README "Lost data"). */
	fprintf(out, "\"lost\":%u,\"no_return\":%s,\"unwatched\":%s,\"expired\":%s,",
		w->op_lost, w->op_flags & RW_OP_END_NO_RETURN ? "true" : "false",
		w->op_flags & RW_OP_END_UNWATCHED ? "true" : "false",
		w->op_expired ? "true" : "false");
	fprintf(out, "\"drop\":{\"fn\":\"%s\",", report__inval_fn_name(w->inval->fn));
	json_page_index(out, "first", w->inval->first);
	fputc(',', out);
	json_page_index(out, "last", w->inval->last);
	fprintf(out, ",\"begin_ns\":%llu},\"frees\":{\"count\":%llu,\"blocks\":%llu",
		(unsigned long long)w->inval->hdr.ts, (unsigned long long)w->nfree,
		(unsigned long long)w->freed_blocks);
	if (w->nfree)
		fprintf(out, ",\"first_ns\":%llu,\"last_ns\":%llu",
			(unsigned long long)w->first_free_ts, (unsigned long long)w->last_free_ts);
	if (w->shift_ts)
		fprintf(out, ",\"shift_ns\":%llu", (unsigned long long)w->shift_ts);
	if (w->shift_over_ts)
		fprintf(out, ",\"shift_over_ns\":%llu", (unsigned long long)w->shift_over_ts);
	fputs("}},", out);
	if (w->deleted)
		fprintf(out, "\"deleted\":{\"ns\":%llu,\"tid\":%u},",
			(unsigned long long)w->delete_ts, w->delete_tid);
	else
		fputs("\"deleted\":null,", out);
	fprintf(out, "\"page\":\"%s\",", engine__evidence_name(w->page));
	json_read_map(out, w->page_state);
	json_locks(out, "locks", ins->key.ino, &ins->locks);
	fputc(',', out);
	json_locks(out, "invalidator_locks", ins->key.ino, &w->inval->locks);
	if (r->opts.stacks) {
		fputs(",\"stacks\":{", out);
		json_stack(r, "inserter", ins->stack_id);
		fputc(',', out);
		json_stack(r, "invalidator", w->inval->stack_id);
		fputc('}', out);
	}
	fputs("}\n", out);
}

static void window_text(struct report *r, const struct rw_window *w)
{
	const struct rw_insert *ins = w->insert;
	const struct rw_op_begin *op = w->op;
	__u64 last = ins->index + (ins->nr_pages ? ins->nr_pages : 1) - 1;
	char when[32], optext[160], lock[LOCK_TEXT_LEN];
	char fs[ESCAPE_TEXT_SIZE(RW_FSTYPE_LEN)];
	char inserter[ESCAPE_TEXT_SIZE(RW_COMM_LEN)], invalidator[ESCAPE_TEXT_SIZE(RW_COMM_LEN)];
	bool any = false;

	fmt_time(r, ins->hdr.ts, false, when, sizeof(when));
	op_text(w, optext, sizeof(optext));
	escape__text(fs, sizeof(fs), op->fstype, sizeof(op->fstype));
	escape__text(inserter, sizeof(inserter), ins->task.comm, sizeof(ins->task.comm));
	escape__text(invalidator, sizeof(invalidator), op->task.comm, sizeof(op->task.comm));
	fprintf(r->out, "%s %s %s %u:%u ino %llu pages %llu-%llu inserter %s[%u/%u]"
		" invalidator %s[%u/%u] %s phase %s page %s locks:",
		when, w->verdict == VERDICT_RACE ? "RACE" : engine__verdict_name(w->verdict),
		fs, dev_major(ins->key.dev), dev_minor(ins->key.dev),
		(unsigned long long)ins->key.ino, (unsigned long long)ins->index,
		(unsigned long long)last, inserter, ins->task.pid, ins->task.tid,
		invalidator, op->task.pid, op->task.tid, optext,
		engine__phase_name(w->phase), engine__evidence_name(w->page));
	for (int i = 0; i < 3; i++) {
		report__lock_text(lock_names[i], ins->key.ino, lock_at(&ins->locks, i),
				  lock, sizeof(lock));
		if (!lock[0])
			continue;
		fprintf(r->out, "%s %s", any ? ";" : "", lock);
		any = true;
	}
	fputs(any ? "" : " none readable", r->out);
	if (test_of(r, op)) {
		char test[ESCAPE_TEXT_SIZE(TESTTAG_NAME_LEN)];

		escape__text(test, sizeof(test), test_of(r, op), TESTTAG_NAME_LEN);
		fprintf(r->out, " test %s", test);
	}
	fputc('\n', r->out);
	if (r->opts.stacks) {
		text_stack(r, "inserter", ins->stack_id);
		text_stack(r, "invalidator", w->inval->stack_id);
	}
}

bool report__wanted(const struct report *r, const struct rw_window *w)
{
	if (!verdict__race_class(w->verdict) && !r->opts.verbose)
		return false;
	return !r->opts.pid || w->insert->task.pid == r->opts.pid ||
	       w->op->task.pid == r->opts.pid;
}

void report__window(struct report *r, const struct rw_window *w)
{
	if (!report__wanted(r, w))
		return;
	if (r->opts.json)
		window_json(r, w);
	else
		window_text(r, w);
	fflush(r->out);
}

static void test_row_json(struct report *r, const struct test_row *t, bool named)
{
	fprintf(r->out, "{\"type\":\"test\",\"v\":%d,\"test\":", RW_ABI_VERSION);
	if (named)
		json_str(r->out, t->name, TESTTAG_NAME_LEN);
	else
		fputs("null", r->out);
	fprintf(r->out, ",\"ops\":%llu,\"candidates\":%llu,\"races\":%llu}\n",
		(unsigned long long)t->ops, (unsigned long long)t->candidates,
		(unsigned long long)t->races);
}

static void test_row_text(struct report *r, const struct test_row *t, const char *name)
{
	char esc[ESCAPE_TEXT_SIZE(TESTTAG_NAME_LEN)];

	escape__text(esc, sizeof(esc), name, TESTTAG_NAME_LEN);
	fprintf(r->out, "  %-24s %10llu %10llu %10llu\n", esc, (unsigned long long)t->ops,
		(unsigned long long)t->candidates, (unsigned long long)t->races);
}

void report__tests(struct report *r, const char *pattern)
{
	const struct test_row *rows, *folded, *untagged;
	size_t n;

	if (!r->opts.tests)
		return;
	n = testtag__rows(r->opts.tests, &rows);
	folded = testtag__folded(r->opts.tests);
	untagged = testtag__untagged(r->opts.tests);
	if (!n)
		return;
	if (!r->opts.json) {
		char esc[ESCAPE_TEXT_SIZE(256)];

		escape__text(esc, sizeof(esc), pattern, 256);
		fprintf(r->out, "racewatch per test (/dev/kmsg lines matching %s)\n", esc);
		fprintf(r->out, "  %-24s %10s %10s %10s\n", "test", "ops", "candidates", "races");
	}
	if (untagged->ops) {
		if (r->opts.json)
			test_row_json(r, untagged, false);
		else
			test_row_text(r, untagged, "(before any test)");
	}
	for (size_t i = 0; i < n; i++) {
		if (r->opts.json)
			test_row_json(r, &rows[i], true);
		else
			test_row_text(r, &rows[i], rows[i].name);
	}
	if (folded) {
		if (r->opts.json)
			test_row_json(r, folded, true);
		else
			test_row_text(r, folded, folded->name);
	}
	fflush(r->out);
}

static const char *const hook_hit_names[RW_HIT_MAX] = {
	[RW_HIT_INSERT]			= "insert",
	[RW_HIT_DELETE]			= "delete",
	[RW_HIT_INVAL_TRUNCATE]		= "truncate_range",
	[RW_HIT_INVAL_PAGES2]		= "pages2_range",
	[RW_HIT_INVAL_DERIVED]		= "derived_range",
	[RW_HIT_FREE_EXT4]		= "ext4_free",
	[RW_HIT_FREE_XFS]		= "xfs_free",
	[RW_HIT_CONVERT_EXT4]		= "ext4_convert",
	[RW_HIT_READMAP_EXT4]		= "ext4_read_map",
	[RW_HIT_READMAP_BTRFS]		= "btrfs_read_map",
	[RW_HIT_INVAL_SHMEM]		= "shmem_range",
};

/* Inserts, deletes and read mappings are counted only with --count-hooks. */
static bool hook_counted(const struct report_losses *losses, int h)
{
	return losses->hooks_counted || (h != RW_HIT_INSERT && h != RW_HIT_DELETE &&
					 h != RW_HIT_READMAP_EXT4 && h != RW_HIT_READMAP_BTRFS);
}

/* "insert":N,...: null for what was not counted. */
static void json_hook_counts(FILE *out, const struct report_losses *losses)
{
	for (int h = 0; h < RW_HIT_MAX; h++) {
		fprintf(out, "%s\"%s\":", h ? "," : "", hook_hit_names[h]);
		if (hook_counted(losses, h))
			fprintf(out, "%llu", (unsigned long long)losses->hook_hits[h]);
		else
			fputs("null", out);
	}
}

/* " insert N ...\n": - for what was not counted. */
static void text_hook_counts(FILE *out, const struct report_losses *losses)
{
	for (int h = 0; h < RW_HIT_MAX; h++) {
		if (hook_counted(losses, h))
			fprintf(out, " %s %llu", hook_hit_names[h], (unsigned long long)losses->hook_hits[h]);
		else
			fprintf(out, " %s -", hook_hit_names[h]);
	}
	fputc('\n', out);
}

static const char *const counter_names[RW_CNT_MAX] = {
	[RW_CNT_RINGBUF_FULL]		= "ringbuf_full",
	[RW_CNT_OPS_FULL]		= "ops_map_full",
	[RW_CNT_WINDOWS_FULL]		= "windows_map_full",
	[RW_CNT_CANDIDATES_FULL]	= "candidates_map_full",
	[RW_CNT_STASH_FULL]		= "stash_map_full",
	[RW_CNT_STACK_FAIL]		= "stack_failures",
	[RW_CNT_WINDOW_LOST]		= "windows_lost",
	[RW_CNT_SLOTS_FULL]		= "slots_map_full",
	[RW_CNT_RETURN_MISSED]		= "returns_missed",
	[RW_CNT_INSERT_RETURN_MISSED]	= "insert_returns_missed",
};

const char *report__counter_name(enum rw_counter c)
{
	return c < RW_CNT_MAX && counter_names[c] ? counter_names[c] : "?";
}

/* Operations whose picture is incomplete (README "Lost data"): the same
 * names in the JSON and text summaries. */
struct count_field {
	const char *name;
	__u64 value;
};

#define INCOMPLETE_FIELDS	11

static int incomplete_counts(const struct engine_stats *st, const struct report_losses *losses,
			     struct count_field out[INCOMPLETE_FIELDS])
{
	const struct count_field all[INCOMPLETE_FIELDS] = {
		{ "ops_lossy", st->ops_incomplete },
		{ "ops_unwatched", st->ops_unwatched },
		{ "ops_no_return", st->ops_no_return },
		{ "ops_expired", st->ops_expired },
		{ "ops_released", losses->released },
		{ "ops_open", st->ops_open },
		{ "ops_dropped", st->ops_dropped },
		{ "cands_dropped", st->cands_dropped },
		{ "invals_dropped", st->invals_dropped },
		{ "inodes_dropped", st->inodes_dropped },
		{ "records_unjudged", losses->unjudged },
	};

	memcpy(out, all, sizeof(all));
	return INCOMPLETE_FIELDS;
}

/* "ops":1,...,"verdicts":{...}: an inode's counts, or the other inodes'. */
static void json_inode_counts(FILE *out, const struct inode_stats *in)
{
	fprintf(out, "\"ops\":%llu,\"ops_ok\":%llu,\"bare_invalidations\":%llu,"
		"\"invalidations\":%llu,\"inserts\":%llu,\"verdicts\":{",
		(unsigned long long)in->ops, (unsigned long long)in->ops_ok,
		(unsigned long long)in->bare_invals, (unsigned long long)in->invalidations,
		(unsigned long long)in->inserts);
	for (int v = 0; v < VERDICT_MAX; v++)
		fprintf(out, "%s\"%s\":%llu", v ? "," : "", engine__verdict_name(v),
			(unsigned long long)in->verdicts[v]);
	fputc('}', out);
}

/* ,"name":{"op_begin":N,...}: one count per record type. */
static void json_by_type(FILE *out, const char *name, const __u64 counts[RW_REC_MAX])
{
	fprintf(out, ",\"%s\":{", name);
	for (int t = 1; t < RW_REC_MAX; t++)
		fprintf(out, "%s\"%s\":%llu", t > 1 ? "," : "", events__type_name(t),
			(unsigned long long)counts[t]);
	fputc('}', out);
}

/* "  name: op_begin N ...": every record type, zeros too, so that the
 * line keeps one grammar. */
static void text_by_type(FILE *out, const char *name, const __u64 counts[RW_REC_MAX])
{
	fprintf(out, "  %s:", name);
	for (int t = 1; t < RW_REC_MAX; t++)
		fprintf(out, " %s %llu", events__type_name(t), (unsigned long long)counts[t]);
	fputc('\n', out);
}

static void text_inode_row(FILE *out, const char *name, const char *fs,
			   const struct inode_stats *in)
{
	fprintf(out, "  %-22s %-8s %6llu %6llu %6llu %7llu %7llu", name, fs,
		(unsigned long long)in->ops, (unsigned long long)in->ops_ok,
		(unsigned long long)in->bare_invals, (unsigned long long)in->invalidations,
		(unsigned long long)in->inserts);
	for (int v = 0; v < VERDICT_MAX; v++)
		fprintf(out, " %10llu", (unsigned long long)in->verdicts[v]);
	fputc('\n', out);
}

/* Windows printed by default: those that may be races. */
static __u64 race_class_windows(const struct engine_stats *st)
{
	__u64 n = 0;

	for (int v = 0; v < VERDICT_MAX; v++)
		if (verdict__race_class(v))
			n += st->verdicts[v];
	return n;
}

/* One flat "inode" record per inode, then the "summary": easy to grep and
 * to load into a dashboard without walking nested arrays. */
static void summary_json(struct report *r, const struct engine *e,
			 const struct report_losses *losses, const struct plan *plan,
			 double elapsed_s)
{
	const struct engine_stats *st = engine__stats(e);
	const struct inode_stats *in;
	FILE *out = r->out;
	struct count_field inc[INCOMPLETE_FIELDS];
	int n_inc;
	size_t n;

	in = engine__inodes(e, &n);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "{\"type\":\"inode\",\"v\":%d,\"dev\":\"%u:%u\",\"ino\":%llu,"
			"\"gen\":%u,\"fs\":", RW_ABI_VERSION, dev_major(in[i].key.dev),
			dev_minor(in[i].key.dev), (unsigned long long)in[i].key.ino, in[i].key.gen);
		json_str(out, in[i].fstype, sizeof(in[i].fstype));
		fputc(',', out);
		json_inode_counts(out, &in[i]);
		fputs("}\n", out);
	}

	fprintf(out, "{\"type\":\"summary\",\"v\":%d,\"elapsed_s\":%.3f,\"inodes\":%zu,"
		"\"verdicts\":{", RW_ABI_VERSION, elapsed_s, n);
	for (int v = 0; v < VERDICT_MAX; v++)
		fprintf(out, "%s\"%s\":%llu", v ? "," : "", engine__verdict_name(v),
			(unsigned long long)st->verdicts[v]);
	fprintf(out, "},\"race_class\":%llu,\"ops_skipped\":%llu,\"inserts_cleared\":%llu",
		(unsigned long long)race_class_windows(st), (unsigned long long)losses->skipped,
		(unsigned long long)losses->cleared);
	fprintf(out, ",\"records\":{\"malformed\":%llu,\"orphans\":%llu,\"unattributed\":%llu",
		(unsigned long long)losses->malformed, (unsigned long long)st->orphans,
		(unsigned long long)st->unattributed);
	json_by_type(out, "received", st->records);
	json_by_type(out, "peak_per_s", losses->peak_per_s);
	fputs("},\"page_checks\":{\"read_map\":{", out);
	for (int m = 0; m < RW_READ_MAP_MAX; m++)
		fprintf(out, "%s\"%s\":%llu", m ? "," : "", read_map_names[m],
			(unsigned long long)st->page_read_maps[m]);
	fprintf(out, "},\"flagged\":%llu,\"flagged_mapped\":%llu,\"mapped_unflagged\":%llu",
		(unsigned long long)st->pages_flagged, (unsigned long long)st->pages_flagged_mapped,
		(unsigned long long)st->pages_mapped_unflagged);
	fprintf(out, ",\"late\":%llu,\"late_used\":%llu,\"displaced\":%llu,\"displaced_used\":%llu",
		(unsigned long long)st->pages_late, (unsigned long long)st->pages_late_used,
		(unsigned long long)st->pages_displaced,
		(unsigned long long)st->pages_displaced_used);
	fprintf(out, "},\"page_followups\":{\"disk\":%llu,\"zeros\":%llu,\"left_to_flag\":%llu,"
		"\"missing\":%llu",
		(unsigned long long)st->page_followups[RW_READ_MAP_DISK],
		(unsigned long long)st->page_followups[RW_READ_MAP_ZEROS],
		(unsigned long long)st->followups_left_to_flag,
		(unsigned long long)st->followups_missing);
	fprintf(out, "},\"dio_seconds\":{\"seen\":%llu,\"missing\":%llu,\"buffered\":%llu",
		(unsigned long long)st->dio_second_seen, (unsigned long long)st->dio_second_missing,
		(unsigned long long)st->dio_buffered);
	fputs("},\"incomplete\":{", out);
	n_inc = incomplete_counts(st, losses, inc);
	for (int i = 0; i < n_inc; i++)
		fprintf(out, "%s\"%s\":%llu", i ? "," : "", inc[i].name,
			(unsigned long long)inc[i].value);
	/* The inodes past the engine's bound, together: with the rows, they
	 * add up to the totals. */
	fputs("},\"other_inodes\":{", out);
	json_inode_counts(out, engine__inodes_other(e));
	fputs("},\"lost\":{", out);
	for (int c = 0; c < RW_CNT_MAX; c++)
		fprintf(out, "%s\"%s\":%llu", c ? "," : "", counter_names[c],
			(unsigned long long)losses->counters[c]);
	fputc('}', out);
	json_by_type(out, "sent", losses->sent);
	json_by_type(out, "unsent", losses->unsent);
	fputs(",\"hook_hits\":{", out);
	json_hook_counts(out, losses);
	fputc('}', out);
	fputs(",\"plan\":{", out);
	for (int i = 0; i < ROLE_MAX; i++) {
		const struct plan_role *pr = &plan->roles[i];

		fprintf(out, "%s\"%s\":{\"mech\":\"%s\",\"symbol\":", i ? "," : "",
			plan__role_name(i), pr->served ? plan__mech_name(pr->mech) : "none");
		json_str(out, pr->served ? pr->symbol : "", 128);
		/* An uncovered role says why: its last attempt. */
		if (!pr->served && pr->ntried) {
			const struct plan_attempt *a = &pr->tried[pr->ntried - 1];
			char why[SYM_LEN];

			snprintf(why, sizeof(why), "%s %s (%s)", plan__mech_name(a->mech),
				 a->symbol, a->reason);
			fputs(",\"why\":", out);
			json_str(out, why, sizeof(why));
		} else if (pr->ntried) {
			/* A served role that was not its first choice: why not. */
			char tried[PLAN_TEXT_LEN];

			plan__format_tried(pr, tried, sizeof(tried));
			fputs(",\"rejected\":", out);
			json_plan_text(out, tried);
		}
		fputc('}', out);
	}
	fputs("}}\n", out);
}

static void summary_text(struct report *r, const struct engine *e,
			 const struct report_losses *losses, const struct plan *plan,
			 double elapsed_s)
{
	const struct engine_stats *st = engine__stats(e);
	const struct inode_stats *in;
	FILE *out = r->out;
	struct count_field inc[INCOMPLETE_FIELDS];
	int n_inc;
	size_t n;

	fprintf(out, "racewatch summary after %.1f s\n", elapsed_s);
	fprintf(out, "  %-22s %-8s %6s %6s %6s %7s %7s", "inode", "fs", "ops", "ok",
		"bare", "drops", "inserts");
	for (int v = 0; v < VERDICT_MAX; v++)
		fprintf(out, " %10s", engine__verdict_name(v));
	fputc('\n', out);
	in = engine__inodes(e, &n);
	for (size_t i = 0; i < n; i++) {
		char name[48], fs[ESCAPE_TEXT_SIZE(RW_FSTYPE_LEN)];

		snprintf(name, sizeof(name), "%u:%u/%llu", dev_major(in[i].key.dev),
			 dev_minor(in[i].key.dev), (unsigned long long)in[i].key.ino);
		escape__text(fs, sizeof(fs), in[i].fstype, sizeof(in[i].fstype));
		text_inode_row(out, name, fs, &in[i]);
	}
	if (st->inodes_dropped) {
		char name[48];

		snprintf(name, sizeof(name), "other (%llu inodes)",
			 (unsigned long long)st->inodes_dropped);
		text_inode_row(out, name, "-", engine__inodes_other(e));
	}
	fprintf(out, "  stale-page windows (races): %llu\n",
		(unsigned long long)st->verdicts[VERDICT_RACE]);
	fprintf(out, "  race-class windows (may be races): %llu\n",
		(unsigned long long)race_class_windows(st));
	fprintf(out, "  records: %llu malformed, %llu orphaned, %llu unattributed inserts\n",
		(unsigned long long)losses->malformed, (unsigned long long)st->orphans,
		(unsigned long long)st->unattributed);
	text_by_type(out, "received", st->records);
	text_by_type(out, "peak/s", losses->peak_per_s);
	if (losses->skipped)
		fprintf(out, "  %llu requests opened no window (refused, or below one block)\n",
			(unsigned long long)losses->skipped);
	if (losses->cleared)
		fprintf(out, "  %llu inserts cleared by invalidate_lock at the insert, not sent "
			"(-v sends them)\n", (unsigned long long)losses->cleared);
	if (losses->unjudged)
		fprintf(out, "  %llu records were left unjudged in the ring buffer at exit\n",
			(unsigned long long)losses->unjudged);
	fputs("  lost:", out);
	for (int c = 0; c < RW_CNT_MAX; c++)
		fprintf(out, " %s %llu", counter_names[c], (unsigned long long)losses->counters[c]);
	fputc('\n', out);
	fputs("  sent by BPF:", out);
	for (int t = RW_REC_OP_BEGIN; t < RW_REC_MAX; t++)
		fprintf(out, " %s %llu", events__type_name(t), (unsigned long long)losses->sent[t]);
	fputs("; not sent:", out);
	for (int t = RW_REC_OP_BEGIN; t < RW_REC_MAX; t++)
		fprintf(out, " %s %llu", events__type_name(t), (unsigned long long)losses->unsent[t]);
	fputc('\n', out);
	fputs("  hook firings on watched inodes:", out);
	text_hook_counts(out, losses);
	fputs("  page checks of cached pages: read mapping", out);
	for (int m = 0; m < RW_READ_MAP_MAX; m++)
		fprintf(out, " %s %llu", read_map_names[m], (unsigned long long)st->page_read_maps[m]);
	fprintf(out, "; PG_mappedtodisk %llu, of them mapped to disk %llu; read without it but "
		"mapped to disk %llu; sent by the insert after its window closed %llu, used %llu; "
		"sent when a later insert took the slot %llu, used %llu\n",
		(unsigned long long)st->pages_flagged, (unsigned long long)st->pages_flagged_mapped,
		(unsigned long long)st->pages_mapped_unflagged,
		(unsigned long long)st->pages_late, (unsigned long long)st->pages_late_used,
		(unsigned long long)st->pages_displaced,
		(unsigned long long)st->pages_displaced_used);
	fprintf(out, "  follow-ups of ext4 reads pending at the end of their operation: disk %llu "
		"zeros %llu; left to the flag %llu; none by the judgement %llu\n",
		(unsigned long long)st->page_followups[RW_READ_MAP_DISK],
		(unsigned long long)st->page_followups[RW_READ_MAP_ZEROS],
		(unsigned long long)st->followups_left_to_flag,
		(unsigned long long)st->followups_missing);
	fprintf(out, "  direct-I/O writes whose first invalidation left pages cached: second "
		"invalidation seen %llu, none within 1 s %llu (buffered or failed writes), of "
		"them after a failed first %llu\n",
		(unsigned long long)st->dio_second_seen, (unsigned long long)st->dio_second_missing,
		(unsigned long long)st->dio_buffered);
	fputs("  incomplete:", out);
	n_inc = incomplete_counts(st, losses, inc);
	for (int i = 0; i < n_inc; i++)
		fprintf(out, " %s %llu", inc[i].name, (unsigned long long)inc[i].value);
	fputc('\n', out);
	plan__print(plan, out, false);
}

void report__summary(struct report *r, const struct engine *e,
		     const struct report_losses *losses, const struct plan *plan,
		     double elapsed_s)
{
	if (r->opts.json)
		summary_json(r, e, losses, plan, elapsed_s);
	else
		summary_text(r, e, losses, plan, elapsed_s);
	fflush(r->out);
}
