// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's cost per record, fed synthetic record streams in-process
 * (no BPF, no kernel). bench/engine.sh runs it at several sizes side by
 * side: if the cost per record does not grow with the number of open
 * operations or candidates, records/s stays flat across sizes.
 *
 *   engine SCENARIO SIZE     one line: scenario size records seconds rec/s ...
 *   engine --fill            every bound full at once: memory, and the
 *                            time to flush it all through the JSON report
 *
 * Only the engine API that older revisions share is used outside --fill,
 * so that engine.sh can build this file against one for a comparison.
 * Not a test: it prints numbers and asserts nothing.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine.h"

static __u64 windows, ts = 1000;

static void count_window(const struct rw_window *w, void *ctx)
{
	windows++;
}

/* CPU time: on a shared machine, wall time is mostly waiting for a core. */
static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static struct rw_inode_key key_of(__u64 i)
{
	return (struct rw_inode_key){ .dev = 7 << 20 | 1, .gen = 1, .ino = 1000 + i };
}

static __u64 nrecords;

static void feed(struct engine *e, union rw_record *r, __u16 type, __u16 size)
{
	r->hdr.type = type;
	r->hdr.size = size;
	r->hdr.ts = ts++;
	engine__feed(e, r);
	nrecords++;
}

static void inval(struct engine *e, __u64 id, __u64 inode, __u64 first, __u64 last)
{
	union rw_record r;

	memset(&r, 0, sizeof(r));
	r.inval_begin.op_id = id;
	r.inval_begin.key = key_of(inode);
	r.inval_begin.first = first;
	r.inval_begin.last = last;
	r.inval_begin.fn = RW_INVAL_DERIVED;
	feed(e, &r, RW_REC_INVAL_BEGIN, sizeof(r.inval_begin));
}

/* An operation and its drop of the whole file, as in tracepoint mode. */
static void op_begin_only(struct engine *e, __u64 id, __u64 inode)
{
	union rw_record r;

	memset(&r, 0, sizeof(r));
	r.op_begin.op_id = id;
	r.op_begin.task.tid = 100;
	r.op_begin.key = key_of(inode);
	r.op_begin.kind = RW_OP_FALLOCATE;
	strcpy(r.op_begin.fstype, "ext4");
	feed(e, &r, RW_REC_OP_BEGIN, sizeof(r.op_begin));
}

static void op_begin(struct engine *e, __u64 id, __u64 inode)
{
	op_begin_only(e, id, inode);
	inval(e, id, inode, 0, RW_PAGE_EOF);
}

static void op_end(struct engine *e, __u64 id)
{
	union rw_record r;

	memset(&r, 0, sizeof(r));
	r.op_end.op_id = id;
	feed(e, &r, RW_REC_OP_END, sizeof(r.op_end));
}

static void insert(struct engine *e, __u64 inode, __u64 index)
{
	union rw_record r;

	memset(&r, 0, sizeof(r));
	r.insert.task.tid = 200;
	r.insert.key = key_of(inode);
	r.insert.index = index;
	r.insert.nr_pages = 1;
	r.insert.stack_id = -1;
	feed(e, &r, RW_REC_INSERT, sizeof(r.insert));
}

static void delete(struct engine *e, __u64 inode, __u64 index)
{
	union rw_record r;

	memset(&r, 0, sizeof(r));
	r.del.tid = 201;
	r.del.key = key_of(inode);
	r.del.index = index;
	feed(e, &r, RW_REC_DELETE, sizeof(r.del));
}

static void page(struct engine *e, __u64 id, __u64 inode, __u64 index, __u64 insert_ts)
{
	union rw_record r;

	memset(&r, 0, sizeof(r));
	r.page.op_id = id;
	r.page.key = key_of(inode);
	r.page.index = index;
	r.page.insert_ts = insert_ts;
	r.page.present = 1;
	r.page.blkbits = 12;
	feed(e, &r, RW_REC_PAGE, sizeof(r.page));
}

/* n inserts into one inode, each deleted at once, under operations open
 * on it that cover 10,000 pages each: the candidates pile up until they
 * end (the case that hung). Up to 32,000, within the engine's bounds. */
static void churn(struct engine *e, __u64 n)
{
	__u64 ops = (n + 9999) / 10000;

	for (__u64 k = 0; k < ops; k++) {
		op_begin_only(e, 1 + k, 0);
		inval(e, 1 + k, 0, k * 10000, k * 10000 + 9999);
	}
	for (__u64 i = 0; i < n; i++) {
		insert(e, 0, i);
		delete(e, 0, i);
	}
	for (__u64 k = 0; k < ops; k++)
		op_end(e, 1 + k);
}

/* n operations open on n inodes; 3 inserts and deletes per inode, round
 * robin, then they all end. */
static void many_inodes(struct engine *e, __u64 n)
{
	for (__u64 i = 0; i < n; i++)
		op_begin(e, 1 + i, i);
	for (__u64 round = 0; round < 3; round++) {
		for (__u64 i = 0; i < n; i++)
			insert(e, i, round);
		for (__u64 i = 0; i < n; i++)
			delete(e, i, round);
	}
	for (__u64 i = 0; i < n; i++)
		op_end(e, 1 + i);
}

/* n operations open on one inode, all covering every page: each insert is
 * a candidate of all n (the rule), so the cost per candidate is what must
 * stay flat; 16,000 / n inserts keep the candidates alike. */
static void one_inode(struct engine *e, __u64 n)
{
	__u64 inserts = 16000 / n;

	for (__u64 i = 0; i < n; i++)
		op_begin(e, 1 + i, 0);
	for (__u64 j = 0; j < inserts; j++) {
		insert(e, 0, j);
		delete(e, 0, j);
	}
	for (__u64 i = 0; i < n; i++)
		op_end(e, 1 + i);
}

/*
 * A steady stream as a busy host sends it: n operations in flight on n
 * inodes at any time, each living 20 records (begin, drop, 8 pages
 * inserted and deleted, a page check, end), and a tick every 1,000
 * records that judges those ended: 400,000 records whatever n.
 */
static void stream(struct engine *e, __u64 n)
{
	__u64 next_id = 1, total = 400000, *id = calloc(n, sizeof(*id));
	__u32 *age = calloc(n, sizeof(*age));

	for (__u64 i = 0; i < n; i++) {
		id[i] = next_id++;
		op_begin(e, id[i], i);
		age[i] = i % 18;	/* staggered lifetimes */
	}
	while (nrecords < total) {
		for (__u64 i = 0; i < n && nrecords < total; i++) {
			__u32 a = ++age[i];

			if (a <= 16 && (a & 1))
				insert(e, i, a / 2);
			else if (a <= 16)
				delete(e, i, a / 2 - 1);
			else if (a == 17)
				page(e, id[i], i, 7, ts - 2);
			else {
				op_end(e, id[i]);
				id[i] = next_id++;
				age[i] = 0;
				op_begin(e, id[i], i);
			}
			if (nrecords % 1000 < 3)
				engine__tick(e, ts);
		}
	}
	free(id);
	free(age);
}

#ifdef ENGINE_MAX_CANDS_TOTAL
#include "report.h"

/* Bytes malloc holds for the program, mmapped chunks included. */
static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static long status_kb(const char *field)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			kb = atol(line + strlen(field) + 1);
	if (f)
		fclose(f);
	return kb;
}

static void report_window(const struct rw_window *w, void *ctx)
{
	windows++;
	report__window(ctx, w);
}

/*
 * Every bound full at once, at its most expensive: each operation on an
 * inode of its own (so the inode table fills too); 31 of them with 513
 * drops each, in arrays of 1,024 (the worst slack), and every candidate
 * in those, at a page of its own, with a PAGE record. Then the flush at
 * exit, with each window printed as JSON (all unfinished: shown without
 * -v), to /dev/null.
 */
static int fill(void)
{
	FILE *out = fopen("/dev/null", "w");
	struct report_opts ropts = { .json = true };
	struct report *rep = report__new(out, &ropts);
	struct engine_opts opts = { .on_window = report_window, .ctx = rep, .page_shift = 12 };
	size_t before = heap_bytes(), held;
	long rss_before = status_kb("VmRSS:");
	struct engine *e = engine__new(&opts);
	const struct engine_stats *st = engine__stats(e);
	__u64 cands = 0, invals = 0;
	size_t rows;
	double t0;

	for (__u64 i = 0; i < ENGINE_MAX_OPS; i++) {
		op_begin_only(e, 1 + i, i);
		int n = i < 31 ? 513 : 1;

		for (int k = 0; k < n && invals < ENGINE_MAX_INVALS_TOTAL; k++) {
			inval(e, 1 + i, i, k ? 1000000ULL + k : 0, k ? 1000000ULL + k : RW_PAGE_EOF);
			invals++;
		}
	}
	for (__u64 j = 0; cands < ENGINE_MAX_CANDS_TOTAL; j++) {
		__u64 i = j % 31, index = j / 31;

		insert(e, i, index);
		page(e, 1 + i, i, index, ts - 1);
		cands++;
	}
	held = heap_bytes() - before;
	engine__inodes(e, &rows);
	printf("fill: %llu operations, %llu drops, %llu candidates, %zu inode rows;"
	       " dropped: ops %llu cands %llu invals %llu inodes %llu\n",
	       (unsigned long long)ENGINE_MAX_OPS, (unsigned long long)invals,
	       (unsigned long long)cands, rows,
	       (unsigned long long)st->ops_dropped, (unsigned long long)st->cands_dropped,
	       (unsigned long long)st->invals_dropped, (unsigned long long)st->inodes_dropped);
	printf("fill: engine heap %.1f MiB (malloc in use); process VmRSS %ld -> %ld KiB,"
	       " VmHWM %ld KiB\n", held / 1048576.0, rss_before, status_kb("VmRSS:"),
	       status_kb("VmHWM:"));
	t0 = now_s();
	engine__flush(e);
	printf("fill: flush judged %llu windows, printed as JSON to /dev/null, in %.3f s of CPU\n",
	       (unsigned long long)windows, now_s() - t0);
	engine__free(e);
	report__free(rep);
	fclose(out);
	return 0;
}
#else
static int fill(void)
{
	fprintf(stderr, "engine: --fill needs an engine with ENGINE_MAX_CANDS_TOTAL\n");
	return 1;
}
#endif

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(struct engine *e, __u64 n);
	} scenarios[] = {
		{ "churn", churn },
		{ "many-inodes", many_inodes },
		{ "one-inode", one_inode },
		{ "stream", stream },
	};
	struct engine_opts opts = { .on_window = count_window, .grace_ns = 100, .page_shift = 12 };
	struct engine *e;
	double t0, fed, flushed;
	__u64 n, reps = 0;

	if (argc == 2 && !strcmp(argv[1], "--fill"))
		return fill();
	if (argc != 3) {
		fprintf(stderr, "usage: engine churn|many-inodes|one-inode|stream SIZE | --fill\n");
		return 1;
	}
	n = strtoull(argv[2], NULL, 10);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(argv[1], scenarios[i].name))
			continue;
		e = engine__new(&opts);
		t0 = now_s();
		/* Small sizes again and again, until the time can be measured;
		 * each round ends its operations, and the tick judges them. The
		 * stream is long enough, and leaves operations open. */
		do {
			scenarios[i].run(e, n);
			engine__tick(e, ts + 1000000);
			reps++;
		} while (scenarios[i].run != stream && now_s() - t0 < 0.2);
		fed = now_s() - t0;
		t0 = now_s();
		engine__flush(e);
		flushed = now_s() - t0;
		printf("%-12s %8llu %9llu records %8.3f s-cpu %12.0f rec/s  %8llu windows"
		       "  flush %.3f s-cpu  cands_dropped %llu  rounds %llu\n", argv[1],
		       (unsigned long long)n, (unsigned long long)nrecords, fed, nrecords / fed,
		       (unsigned long long)windows, flushed,
		       (unsigned long long)engine__stats(e)->cands_dropped,
		       (unsigned long long)reps);
		engine__free(e);
		return 0;
	}
	fprintf(stderr, "engine: unknown scenario '%s'\n", argv[1]);
	return 1;
}
