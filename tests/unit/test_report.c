// SPDX-License-Identifier: GPL-2.0
/* Formatting against golden output: text lines, NDJSON records, lock text. */
#include <stdlib.h>
#include <time.h>
#include "harness.h"
#include "hostile.h"
#include "ksyms.h"
#include "report.h"
#include "suites.h"

/* 2023-11-14T22:13:20Z at monotonic 0. */
#define OFFSET	1700000000000000000LL

static struct rw_insert ins;
static struct rw_op_begin op;
static struct rw_inval_begin inval;

static struct rw_window sample_window(void)
{
	struct rw_window w = {
		.verdict = VERDICT_RACE,
		.phase = PHASE_DROPPED,
		.insert = &ins,
		.op = &op,
		.inval = &inval,
		.op_ended = true,
		.op_end_ts = 3000000,
		.nfree = 2,
		.first_free_ts = 2000000,
		.last_free_ts = 2500000,
		.freed_blocks = 16,
		.page = PAGE_FROM_DISK,
	};
	struct rw_inode_key key = { .dev = 254 << 20 | 1, .gen = 9, .ino = 12 };

	memset(&ins, 0, sizeof(ins));
	memset(&op, 0, sizeof(op));
	memset(&inval, 0, sizeof(inval));
	ins.hdr.ts = 1500000;
	ins.task = (struct rw_task){ 200, 201, "reader" };
	ins.key = key;
	ins.index = 15;
	ins.nr_pages = 1;
	ins.stack_id = -1;
	ins.locks.i_rwsem = (struct rw_lock){ .state = RW_LOCK_WRITE, .owner_pid = 100,
					      .owner_tid = 100, .owner_comm = "racegen" };
	ins.locks.i_mmap_sem.state = RW_LOCK_UNREADABLE;
	op.hdr.ts = 1000000;
	op.op_id = 7;
	op.task = (struct rw_task){ 100, 100, "racegen" };
	op.key = key;
	op.kind = RW_OP_FALLOCATE;
	op.mode = RW_FALLOC_PUNCH_HOLE | RW_FALLOC_KEEP_SIZE;
	op.offset = 40960;
	op.len = 65536;
	strcpy(op.fstype, "ext4");
	inval.hdr.ts = 1200000;
	inval.op_id = 7;
	inval.key = key;
	inval.first = 10;
	inval.last = 25;
	inval.fn = RW_INVAL_TRUNCATE;
	inval.stack_id = -1;
	return w;
}

static char *render(const struct report_opts *opts, const struct rw_window *w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct report *r = report__new(out, opts);

	report__window(r, w);
	report__free(r);
	fclose(out);
	return buf;
}

static void test_text_line(void)
{
	struct report_opts opts = { .realtime_offset = OFFSET };
	struct rw_window w = sample_window();
	char *got = render(&opts, &w);

	ASSERT_STREQ(got, "22:13:20.001500 RACE ext4 254:1 ino 12 pages 15-15 "
		     "inserter reader[200/201] invalidator racegen[100/100] "
		     "fallocate(PUNCH_HOLE|KEEP_SIZE) phase dropped page disk locks: "
		     "ino 12 i_rwsem held W by racegen[100]; "
		     "ino 12 i_mmap_sem unreadable (no BTF for it)\n", "text");
	free(got);
}

static void test_json_line(void)
{
	struct report_opts opts = { .json = true, .realtime_offset = OFFSET };
	struct rw_window w = sample_window();
	char *got = render(&opts, &w);

	ASSERT_STREQ(got,
		"{\"type\":\"window\",\"v\":5,\"verdict\":\"race\","
		"\"time\":\"2023-11-14T22:13:20.001500Z\",\"ts_ns\":1500000,"
		"\"fs\":\"ext4\",\"dev\":\"254:1\",\"ino\":12,\"gen\":9,\"first\":15,\"last\":15,"
		"\"phase\":\"dropped\","
		"\"inserter\":{\"pid\":200,\"tid\":201,\"comm\":\"reader\"},"
		"\"invalidator\":{\"pid\":100,\"tid\":100,\"comm\":\"racegen\"},"
		"\"op\":{\"id\":7,\"kind\":\"fallocate\",\"mode\":\"PUNCH_HOLE|KEEP_SIZE\","
		"\"offset\":40960,\"len\":65536,\"begin_ns\":1000000,\"end_ns\":3000000,\"ret\":0,"
		"\"lost\":0,\"no_return\":false,\"unwatched\":false,\"expired\":false,"
		"\"drop\":{\"fn\":\"truncate_inode_pages_range\",\"first\":10,\"last\":25,"
		"\"begin_ns\":1200000},"
		"\"frees\":{\"count\":2,\"blocks\":16,\"first_ns\":2000000,\"last_ns\":2500000}},"
		"\"deleted\":null,\"page\":\"disk\",\"read_map\":null,"
		"\"locks\":{\"invalidate_lock\":{\"state\":\"absent\"},"
		"\"i_rwsem\":{\"state\":\"write\",\"readers\":0,\"waiters\":false,"
		"\"owner\":{\"pid\":100,\"tid\":100,\"comm\":\"racegen\"},"
		"\"text\":\"ino 12 i_rwsem held W by racegen[100]\"},"
		"\"i_mmap_sem\":{\"state\":\"unreadable\","
		"\"text\":\"ino 12 i_mmap_sem unreadable (no BTF for it)\"}},"
		"\"invalidator_locks\":{\"invalidate_lock\":{\"state\":\"absent\"},"
		"\"i_rwsem\":{\"state\":\"absent\"},\"i_mmap_sem\":{\"state\":\"absent\"}}}\n",
		"json");
	free(got);
}

/* An ext4 collapse: its shift's time joins the frees, its moved page says so. */
static void test_json_shift(void)
{
	struct report_opts opts = { .json = true, .realtime_offset = OFFSET };
	struct rw_window w = sample_window();
	char *got;

	op.mode = RW_FALLOC_COLLAPSE_RANGE;
	w.shift_ts = 2200000;
	w.page = PAGE_MAPPED_MOVED;
	w.verdict = VERDICT_LATE;
	w.page_state = &(struct rw_page_state){ .read_map = RW_READ_MAP_DISK,
					       .read_map_from = RW_READ_MAP_FROM_EXT4_TREE,
					       .read_map_ts = 2300000 };
	opts.verbose = true;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, "\"frees\":{\"count\":2,\"blocks\":16,\"first_ns\":2000000,"
			  "\"last_ns\":2500000,\"shift_ns\":2200000}}") != NULL, "shift_ns");
	ASSERT_TRUE(strstr(got, "\"page\":\"moved\",\"read_map\":{\"kind\":\"disk\","
			       "\"from\":\"ext4-extent-tree\",\"ns\":2300000},") != NULL,
		    "page moved, and the mapping that says so");
	free(got);
}

/* Names chosen by the tasks themselves: no line split, no control byte. */
static struct rw_window hostile_window(void)
{
	struct rw_window w = sample_window();

	memcpy(ins.task.comm, HOSTILE, sizeof(HOSTILE));
	memcpy(op.task.comm, OSC, sizeof(OSC));
	memcpy(ins.locks.i_rwsem.owner_comm, RLO, sizeof(RLO));
	ins.locks.invalidate_lock = (struct rw_lock){ .state = RW_LOCK_READ, .readers = 1,
						      .owner_pid = 201, .owner_tid = 201 };
	memcpy(ins.locks.invalidate_lock.owner_comm, HOSTILE, sizeof(HOSTILE));
	memcpy(op.fstype, "fuse\x9b", 6);
	return w;
}

static void test_hostile_text(void)
{
	struct report_opts opts = { .realtime_offset = OFFSET };
	struct rw_window w = hostile_window();
	char *got = render(&opts, &w);

	ASSERT_STREQ(got, "22:13:20.001500 RACE fuse\\x9b 254:1 ino 12 pages 15-15 "
		     "inserter " HOSTILE_TEXT "[200/201] invalidator " OSC_TEXT "[100/100] "
		     "fallocate(PUNCH_HOLE|KEEP_SIZE) phase dropped page disk locks: "
		     "ino 12 invalidate_lock held R by 1 reader (last " HOSTILE_TEXT "[201]); "
		     "ino 12 i_rwsem held W by " RLO_TEXT "[100]; "
		     "ino 12 i_mmap_sem unreadable (no BTF for it)\n", "text");
	free(got);
}

static void test_hostile_json(void)
{
	struct report_opts opts = { .json = true, .realtime_offset = OFFSET };
	struct rw_window w = hostile_window();
	char *got = render(&opts, &w);

	ASSERT_STREQ(got,
		"{\"type\":\"window\",\"v\":5,\"verdict\":\"race\","
		"\"time\":\"2023-11-14T22:13:20.001500Z\",\"ts_ns\":1500000,"
		"\"fs\":\"fuse\\\\x9b\",\"dev\":\"254:1\",\"ino\":12,\"gen\":9,\"first\":15,\"last\":15,"
		"\"phase\":\"dropped\","
		"\"inserter\":{\"pid\":200,\"tid\":201,\"comm\":\"" HOSTILE_JSON "\"},"
		"\"invalidator\":{\"pid\":100,\"tid\":100,\"comm\":\"" OSC_JSON "\"},"
		"\"op\":{\"id\":7,\"kind\":\"fallocate\",\"mode\":\"PUNCH_HOLE|KEEP_SIZE\","
		"\"offset\":40960,\"len\":65536,\"begin_ns\":1000000,\"end_ns\":3000000,\"ret\":0,"
		"\"lost\":0,\"no_return\":false,\"unwatched\":false,\"expired\":false,"
		"\"drop\":{\"fn\":\"truncate_inode_pages_range\",\"first\":10,\"last\":25,"
		"\"begin_ns\":1200000},"
		"\"frees\":{\"count\":2,\"blocks\":16,\"first_ns\":2000000,\"last_ns\":2500000}},"
		"\"deleted\":null,\"page\":\"disk\",\"read_map\":null,"
		"\"locks\":{\"invalidate_lock\":{\"state\":\"read\",\"readers\":1,\"waiters\":false,"
		"\"owner\":{\"pid\":201,\"tid\":201,\"comm\":\"" HOSTILE_JSON "\"},"
		"\"text\":\"ino 12 invalidate_lock held R by 1 reader (last " HOSTILE_JSON "[201])\"},"
		"\"i_rwsem\":{\"state\":\"write\",\"readers\":0,\"waiters\":false,"
		"\"owner\":{\"pid\":100,\"tid\":100,\"comm\":\"" RLO_JSON "\"},"
		"\"text\":\"ino 12 i_rwsem held W by " RLO_JSON "[100]\"},"
		"\"i_mmap_sem\":{\"state\":\"unreadable\","
		"\"text\":\"ino 12 i_mmap_sem unreadable (no BTF for it)\"}},"
		"\"invalidator_locks\":{\"invalidate_lock\":{\"state\":\"absent\"},"
		"\"i_rwsem\":{\"state\":\"absent\"},\"i_mmap_sem\":{\"state\":\"absent\"}}}\n",
		"json");
	free(got);
}

/* Race-class windows print by default, the others only with -v. */
static void test_default_verdicts(void)
{
	static const enum rw_verdict shown[] = {
		VERDICT_RACE, VERDICT_UNCHECKED, VERDICT_UNMODELLED, VERDICT_STRADDLING,
		VERDICT_LOST, VERDICT_UNTRACKED, VERDICT_UNFINISHED, VERDICT_NO_RETURN,
		VERDICT_EXPIRED,
	};
	static const enum rw_verdict hidden[] = {
		VERDICT_REJECTED, VERDICT_TRANSIENT, VERDICT_EVICTED, VERDICT_SELF,
		VERDICT_LATE, VERDICT_UNLOCKED, VERDICT_HOLE, VERDICT_NO_BLOCKS,
	};
	struct report_opts opts = { .realtime_offset = OFFSET };
	struct rw_window w = sample_window();
	char *got;

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		w.verdict = shown[i];
		got = render(&opts, &w);
		ASSERT_TRUE(got[0] != '\0', engine__verdict_name(shown[i]));
		free(got);
	}
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		w.verdict = hidden[i];
		got = render(&opts, &w);
		ASSERT_STREQ(got, "", engine__verdict_name(hidden[i]));
		free(got);
	}
	w.verdict = VERDICT_NO_RETURN;
	opts.json = true;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, "\"verdict\":\"no-return\"") != NULL, "json name");
	free(got);
}

/* The operation's error shows when its return was seen. */
static void test_op_error(void)
{
	struct report_opts opts = { .realtime_offset = OFFSET, .verbose = true };
	struct rw_window w = sample_window();
	char *got;

	w.op_ret = -28;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, " fallocate(PUNCH_HOLE|KEEP_SIZE) ret -28 ENOSPC phase dropped ")
		    != NULL, "text: after the drop");
	free(got);
	w.verdict = VERDICT_REJECTED;
	w.op_ret = -22;
	op.kind = RW_OP_TRUNCATE;
	got = render(&opts, &w);
	ASSERT_TRUE(!strncmp(got + 16, "rejected ext4", 13), "verdict");
	ASSERT_TRUE(strstr(got, " truncate ret -22 EINVAL phase ") != NULL, "text: rejected");
	free(got);
	w.op_ret = -4095;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, " truncate ret -4095 phase ") != NULL, "an error without a name");
	free(got);
	/* No return seen: ret is not the operation's. */
	w.op_flags = RW_OP_END_NO_RETURN;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, " truncate phase ") != NULL, "no return");
	free(got);
	opts.json = true;
	w.op_flags = 0;
	w.op_ret = -22;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, "\"verdict\":\"rejected\"") != NULL, "json verdict");
	ASSERT_TRUE(strstr(got, "\"end_ns\":3000000,\"ret\":-22,") != NULL, "json ret");
	free(got);
}

static void test_filters(void)
{
	struct report_opts opts = { .realtime_offset = OFFSET };
	struct rw_window w = sample_window();
	char *got;

	w.verdict = VERDICT_TRANSIENT;
	got = render(&opts, &w);
	ASSERT_STREQ(got, "", "transient windows only with -v");
	free(got);
	opts.verbose = true;
	got = render(&opts, &w);
	ASSERT_TRUE(!strncmp(got + 16, "transient ext4", 14), "shown with -v");
	free(got);
	w.verdict = VERDICT_RACE;
	opts.pid = 300;
	got = render(&opts, &w);
	ASSERT_STREQ(got, "", "other pid filtered");
	free(got);
	opts.pid = 100;
	got = render(&opts, &w);
	ASSERT_TRUE(got[0] != '\0', "invalidator pid matches");
	free(got);
}

/* Stacks come from the BPF stack map (faked here), symbolized by kallsyms. */
static int fake_stack(__s32 id, __u64 *ips, int max, void *ctx)
{
	static const __u64 inserter[] = { 0xffffffff81200190, 0xffffffffc0100810, 0 };
	static const __u64 invalidator[] = { 0xffffffff81300004, 0 };
	const __u64 *src = id == 1 ? inserter : invalidator;
	int n = 0;

	while (n < max && src[n]) {
		ips[n] = src[n];
		n++;
	}
	return n;
}

static void test_stacks(void)
{
	struct ksyms *ks;
	struct report_opts opts = { .stacks = true, .realtime_offset = OFFSET,
				    .stack_fn = fake_stack };
	struct rw_window w = sample_window();
	char *got;

	ks = ksyms__load(harness_fixture("kallsyms"));
	ASSERT_TRUE(ks != NULL, "load kallsyms fixture");
	opts.ksyms = ks;
	ins.stack_id = 1;
	inval.stack_id = 2;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, "\n    inserter stack:\n      __filemap_add_folio+0x10\n"
			       "      ext4_punch_hole+0x10 [ext4]\n"
			       "    invalidator stack:\n      truncate_inode_pages_range+0x4\n") != NULL,
		    "text stacks");
	free(got);
	opts.json = true;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, ",\"stacks\":{\"inserter\":[\"__filemap_add_folio+0x10\","
			       "\"ext4_punch_hole+0x10 [ext4]\"],\"invalidator\":"
			       "[\"truncate_inode_pages_range+0x4\"]}}\n") != NULL, "json stacks");
	free(got);
	ins.stack_id = -1;
	opts.json = false;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, "inserter stack: (not collected)") != NULL, "missing stack");
	free(got);
	ksyms__free(ks);
}

/* Symbols with control bytes, and frames that resolve to nothing. */
static int hostile_stack(__s32 id, __u64 *ips, int max, void *ctx)
{
	static const __u64 frames[] = {
		0xffffffff81100008,	/* evil+0x8 */
		0xffffffffc0200010,	/* modfn+0x10 [m\xff] */
		0xffffffff90000000,	/* far past vmlinux's last symbol */
		0x0000000000001000,	/* below every symbol */
	};

	memcpy(ips, frames, sizeof(frames));
	return 4;
}

static void test_stacks_hostile(void)
{
	struct ksyms *ks;
	struct report_opts opts = { .stacks = true, .realtime_offset = OFFSET,
				    .stack_fn = hostile_stack };
	struct rw_window w = sample_window();
	char *got;

	ks = ksyms__load(harness_fixture("kallsyms-hostile"));
	ASSERT_TRUE(ks != NULL, "load kallsyms fixture");
	opts.ksyms = ks;
	ins.stack_id = 1;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, "\n    inserter stack:\n      evil\\x1b[2J+0x8\n"
			       "      modfn+0x10 [m\\xff]\n      [unknown]\n      [unknown]\n"
			       "    invalidator stack: (not collected)\n") != NULL, "text stacks");
	free(got);
	opts.json = true;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, ",\"stacks\":{\"inserter\":[\"evil\\u001b[2J+0x8\","
			       "\"modfn+0x10 [m\\\\xff]\",\"[unknown]\",\"[unknown]\"],"
			       "\"invalidator\":[]}}\n") != NULL, "json stacks");
	free(got);
	/* Without kallsyms every frame is unknown; raw only when asked for. */
	opts.ksyms = NULL;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, "\"inserter\":[\"[unknown]\",\"[unknown]\",\"[unknown]\","
			       "\"[unknown]\"]") != NULL, "no kallsyms");
	ASSERT_TRUE(strstr(got, "0xffff") == NULL, "no kernel address");
	free(got);
	opts.raw_addresses = true;
	opts.ksyms = ks;
	got = render(&opts, &w);
	ASSERT_TRUE(strstr(got, "[\"evil\\u001b[2J+0x8\",\"modfn+0x10 [m\\\\xff]\","
			       "\"0xffffffff90000000\",\"0x1000\"]") != NULL, "--raw-addresses");
	free(got);
	ins.stack_id = -1;
	ksyms__free(ks);
}

static void test_lock_text(void)
{
	struct rw_lock l = { .state = RW_LOCK_READ, .readers = 2, .owner_pid = 813,
			     .owner_comm = "cat" };
	char buf[160];

	report__lock_text("invalidate_lock", 12, &l, buf, sizeof(buf));
	ASSERT_STREQ(buf, "ino 12 invalidate_lock held R by 2 readers (last cat[813])", "readers");
	l = (struct rw_lock){ .state = RW_LOCK_WRITE, .waiters = 1, .owner_pid = 812,
			      .owner_comm = "fallocate" };
	report__lock_text("invalidate_lock", 12, &l, buf, sizeof(buf));
	ASSERT_STREQ(buf, "ino 12 invalidate_lock held W by fallocate[812], waiters queued",
		     "writer");
	l = (struct rw_lock){ .state = RW_LOCK_WRITE };
	report__lock_text("invalidate_lock", 12, &l, buf, sizeof(buf));
	ASSERT_STREQ(buf, "ino 12 invalidate_lock held W (writer unknown)", "writer not named yet");
	l = (struct rw_lock){ .state = RW_LOCK_FREE };
	report__lock_text("i_rwsem", 3, &l, buf, sizeof(buf));
	ASSERT_STREQ(buf, "ino 3 i_rwsem free", "free");
	l.state = RW_LOCK_ABSENT;
	report__lock_text("i_mmap_sem", 3, &l, buf, sizeof(buf));
	ASSERT_STREQ(buf, "", "absent locks are not mentioned");
}

static void test_falloc_mode(void)
{
	char buf[96];

	report__falloc_mode(RW_FALLOC_COLLAPSE_RANGE, buf, sizeof(buf));
	ASSERT_STREQ(buf, "COLLAPSE_RANGE", "collapse");
	report__falloc_mode(RW_FALLOC_ZERO_RANGE | RW_FALLOC_KEEP_SIZE | 0x100, buf, sizeof(buf));
	ASSERT_STREQ(buf, "ZERO_RANGE|KEEP_SIZE|0x100", "unknown bits kept");
	report__falloc_mode(0, buf, sizeof(buf));
	ASSERT_STREQ(buf, "", "no bits");
}

/* A small run for the summaries: two inodes, the second past a bound of
 * one, so that it is folded into the other inodes. */
static struct engine *summary_engine(void)
{
	struct engine_opts opts = { .page_shift = 12, .bounds = { .inodes = 1 } };
	struct engine *e = engine__new(&opts);
	union rw_record r;

	for (__u64 i = 0; i < 2; i++) {
		struct rw_inode_key key = { .dev = 254 << 20 | 1, .gen = 9, .ino = 12 + i };

		memset(&r, 0, sizeof(r));
		r.hdr = (struct rw_hdr){ RW_REC_OP_BEGIN, sizeof(r.op_begin), 0, 100 };
		r.op_begin.op_id = 7 + i;
		r.op_begin.task.tid = 100;
		r.op_begin.key = key;
		r.op_begin.kind = RW_OP_FALLOCATE;
		strcpy(r.op_begin.fstype, "ext4");
		engine__feed(e, &r);
		memset(&r, 0, sizeof(r));
		r.hdr = (struct rw_hdr){ RW_REC_INVAL_BEGIN, sizeof(r.inval_begin), 0, 110 };
		r.inval_begin.op_id = 7 + i;
		r.inval_begin.key = key;
		r.inval_begin.first = 0;
		r.inval_begin.last = 31;
		r.inval_begin.fn = RW_INVAL_DERIVED;
		engine__feed(e, &r);
		memset(&r, 0, sizeof(r));
		r.hdr = (struct rw_hdr){ RW_REC_INSERT, sizeof(r.insert), 0, 120 };
		r.insert.task.tid = 200;
		r.insert.key = key;
		r.insert.index = 3;
		r.insert.nr_pages = 1;
		engine__feed(e, &r);
		memset(&r, 0, sizeof(r));
		r.hdr = (struct rw_hdr){ RW_REC_OP_END, sizeof(r.op_end), 0, 130 };
		r.op_end.op_id = 7 + i;
		engine__feed(e, &r);
	}
	engine__flush(e);
	return e;
}

static struct report_losses summary_losses(void)
{
	struct report_losses l = { .malformed = 2, .released = 1, .unjudged = 5 };

	l.counters[RW_CNT_RINGBUF_FULL] = 3;
	l.peak_per_s[RW_REC_INSERT] = 4000;
	l.peak_per_s[RW_REC_DELETE] = 3900;
	l.hook_hits[RW_HIT_INVAL_TRUNCATE] = 3;
	l.hook_hits[RW_HIT_FREE_XFS] = 2;
	/* Counted by BPF without --count-hooks, but not shown as if counted. */
	l.hook_hits[RW_HIT_INSERT] = 9;
	return l;
}

static char *render_summary(const struct report_opts *opts)
{
	struct report_losses losses = summary_losses();
	struct engine *e = summary_engine();
	struct plan plan = { .requested = MECH_TRACEPOINT };
	char *buf = NULL, *cut;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct report *r = report__new(out, opts);

	report__summary(r, e, &losses, &plan, 1.5);
	report__free(r);
	engine__free(e);
	fclose(out);
	/* The attach plan is plan__print()'s: tested with the plans. */
	cut = strstr(buf, "attach plan");
	if (cut && !opts->json)
		*cut = '\0';
	cut = strstr(buf, ",\"plan\":");
	if (cut && opts->json)
		strcpy(cut, "}\n");
	return buf;
}

static void test_summary_text(void)
{
	struct report_opts opts = {};
	char *got = render_summary(&opts);

	ASSERT_STREQ(got,
		"racewatch summary after 1.5 s\n"
		"  inode                  fs          ops     ok   bare   drops "
		"inserts       race  unchecked unmodelled straddling       lost  "
		"untracked unfinished  no-return    expired   rejected  transient    "
		"evicted       self       late   unlocked       hole  no-blocks\n"
		"  254:1/12               ext4          1      1      0       1       "
		"1          0          1          0          0          0          0   "
		"       0          0          0          0          0          0       "
		"   0          0          0          0          0\n"
		"  other (1 inodes)       -             1      1      0       1       "
		"1          0          1          0          0          0          0   "
		"       0          0          0          0          0          0       "
		"   0          0          0          0          0\n"
		"  stale-page windows (races): 0\n"
		"  race-class windows (may be races): 2\n"
		"  records: 2 malformed, 0 orphaned, 0 unattributed inserts\n"
		"  received: op_begin 2 inval_begin 2 inval_end 0 block_free 0 op_end "
		"2 insert 2 delete 0 page 0 followup 0\n"
		"  peak/s: op_begin 0 inval_begin 0 inval_end 0 block_free 0 op_end 0 "
		"insert 4000 delete 3900 page 0 followup 0\n"
		"  5 records were left unjudged in the ring buffer at exit\n"
		"  lost: ringbuf_full 3 ops_map_full 0 windows_map_full 0 "
		"candidates_map_full 0 stash_map_full 0 stack_failures 0 windows_lost "
		"0 slots_map_full 0 returns_missed 0 insert_returns_missed 0\n"
		"  sent by BPF: op_begin 0 inval_begin 0 inval_end 0 block_free 0 "
		"op_end 0 insert 0 delete 0 page 0 followup 0; not sent: op_begin 0 "
		"inval_begin 0 inval_end 0 block_free 0 op_end 0 insert 0 delete 0 page 0 "
		"followup 0\n"
		"  hook firings on watched inodes: insert - delete - truncate_range 3 "
		"pages2_range 0 derived_range 0 ext4_free 0 xfs_free 2 ext4_convert 0 "
		"ext4_read_map - btrfs_read_map - shmem_range 0\n"
		"  page checks of cached pages: read mapping none 0 disk 0 zeros 0 "
		"pending 0; PG_mappedtodisk 0, of them mapped to disk 0; read without it but "
		"mapped to disk 0; sent by the insert after its window closed 0, used 0; sent when a later insert took the slot 0, used 0\n"
		"  follow-ups of ext4 reads pending at the end of their operation: disk 0 "
		"zeros 0; left to the flag 0; none by the judgement 0\n"
		"  direct-I/O writes whose first invalidation left pages cached: second "
		"invalidation seen 0, none within 1 s 0 (buffered or failed writes), of them after "
		"a failed first 0\n"
		"  incomplete: ops_lossy 0 ops_unwatched 0 ops_no_return 0 ops_expired "
		"0 ops_released 1 ops_open 0 ops_dropped 0 cands_dropped 0 "
		"invals_dropped 0 inodes_dropped 1 records_unjudged 5\n", "text summary");
	free(got);
}

static void test_summary_json(void)
{
	struct report_opts opts = { .json = true };
	char *got = render_summary(&opts);

	ASSERT_STREQ(got,
		"{\"type\":\"inode\",\"v\":5,\"dev\":\"254:1\",\"ino\":12,\"gen\":9,\"fs\":\"ext4\","
		"\"ops\":1,\"ops_ok\":1,\"bare_invalidations\":0,\"invalidations\":1,"
		"\"inserts\":1,\"verdicts\":{\"race\":0,\"unchecked\":1,\"unmodelled\":0,"
		"\"straddling\":0,\"lost\":0,\"untracked\":0,\"unfinished\":0,\"no-return\":0,"
		"\"expired\":0,\"rejected\":0,\"transient\":0,\"evicted\":0,\"self\":0,\"late\":0,"
		"\"unlocked\":0,\"hole\":0,\"no-blocks\":0}}\n"
		"{\"type\":\"summary\",\"v\":5,\"elapsed_s\":1.500,\"inodes\":1,"
		"\"verdicts\":{\"race\":0,\"unchecked\":2,\"unmodelled\":0,\"straddling\":0,"
		"\"lost\":0,\"untracked\":0,\"unfinished\":0,\"no-return\":0,\"expired\":0,"
		"\"rejected\":0,\"transient\":0,\"evicted\":0,\"self\":0,\"late\":0,\"unlocked\":0,"
		"\"hole\":0,\"no-blocks\":0},\"race_class\":2,\"ops_skipped\":0,\"inserts_cleared\":0,\"records\":{\"malformed\":2,\"orphans\":0,"
		"\"unattributed\":0,\"received\":{\"op_begin\":2,\"inval_begin\":2,"
		"\"inval_end\":0,\"block_free\":0,\"op_end\":2,\"insert\":2,\"delete\":0,"
		"\"page\":0,\"followup\":0},\"peak_per_s\":{\"op_begin\":0,\"inval_begin\":0,"
		"\"inval_end\":0,\"block_free\":0,\"op_end\":0,\"insert\":4000,\"delete\":3900,"
		"\"page\":0,\"followup\":0}},"
		"\"page_checks\":{\"read_map\":{\"none\":0,\"disk\":0,\"zeros\":0,\"pending\":0},"
		"\"flagged\":0,\"flagged_mapped\":0,\"mapped_unflagged\":0,\"late\":0,\"late_used\":0,\"displaced\":0,\"displaced_used\":0},"
		"\"page_followups\":{\"disk\":0,\"zeros\":0,\"left_to_flag\":0,\"missing\":0},"
		"\"dio_seconds\":{\"seen\":0,\"missing\":0,\"buffered\":0},"
		"\"incomplete\":{\"ops_lossy\":0,\"ops_unwatched\":0,\"ops_no_return\":0,"
		"\"ops_expired\":0,\"ops_released\":1,\"ops_open\":0,\"ops_dropped\":0,"
		"\"cands_dropped\":0,\"invals_dropped\":0,\"inodes_dropped\":1,"
		"\"records_unjudged\":5},\"other_inodes\":{\"ops\":1,\"ops_ok\":1,"
		"\"bare_invalidations\":0,\"invalidations\":1,\"inserts\":1,"
		"\"verdicts\":{\"race\":0,\"unchecked\":1,\"unmodelled\":0,\"straddling\":0,"
		"\"lost\":0,\"untracked\":0,\"unfinished\":0,\"no-return\":0,\"expired\":0,"
		"\"rejected\":0,\"transient\":0,\"evicted\":0,\"self\":0,\"late\":0,\"unlocked\":0,"
		"\"hole\":0,\"no-blocks\":0}},\"lost\":{\"ringbuf_full\":3,\"ops_map_full\":0,"
		"\"windows_map_full\":0,\"candidates_map_full\":0,\"stash_map_full\":0,"
		"\"stack_failures\":0,\"windows_lost\":0,\"slots_map_full\":0,"
		"\"returns_missed\":0,\"insert_returns_missed\":0},\"sent\":{\"op_begin\":0,\"inval_begin\":0,"
		"\"inval_end\":0,\"block_free\":0,\"op_end\":0,\"insert\":0,\"delete\":0,"
		"\"page\":0,\"followup\":0},\"unsent\":{\"op_begin\":0,\"inval_begin\":0,"
		"\"inval_end\":0,\"block_free\":0,\"op_end\":0,\"insert\":0,\"delete\":0,"
		"\"page\":0,\"followup\":0},\"hook_hits\":{\"insert\":null,\"delete\":null,"
		"\"truncate_range\":3,\"pages2_range\":0,\"derived_range\":0,\"ext4_free\":0,"
		"\"xfs_free\":2,\"ext4_convert\":0,\"ext4_read_map\":null,\"btrfs_read_map\":null,"
		"\"shmem_range\":0}}\n",
		"json summary");
	free(got);
}

static void feed_summary_window(struct engine *e, const char *fstype, __u32 op_id)
{
	union rw_record r = {};

	r.hdr = (struct rw_hdr){ .type = RW_REC_OP_BEGIN, .size = sizeof(r.op_begin), .ts = 5 };
	r.op_begin.op_id = op_id;
	r.op_begin.task.tid = 100;
	r.op_begin.key.ino = op_id;
	r.op_begin.kind = RW_OP_FALLOCATE;
	strcpy(r.op_begin.fstype, fstype);
	engine__feed(e, &r);
	memset(&r, 0, sizeof(r));
	r.hdr = (struct rw_hdr){ .type = RW_REC_INVAL_BEGIN, .size = sizeof(r.inval_begin), .ts = 5 };
	r.inval_begin.op_id = op_id;
	r.inval_begin.key.ino = op_id;
	r.inval_begin.last = 9;
	r.inval_begin.fn = RW_INVAL_DERIVED;
	engine__feed(e, &r);
	memset(&r, 0, sizeof(r));
	r.hdr = (struct rw_hdr){ .type = RW_REC_INSERT, .size = sizeof(r.insert), .ts = 6 };
	r.insert.task.tid = 200;
	r.insert.key.ino = op_id;
	r.insert.index = 1;
	r.insert.nr_pages = 1;
	engine__feed(e, &r);
	memset(&r, 0, sizeof(r));
	r.hdr = (struct rw_hdr){ .type = RW_REC_OP_END, .size = sizeof(r.op_end), .ts = 7 };
	r.op_end.op_id = op_id;
	r.op_end.ret = -22;
	engine__feed(e, &r);
}

static char *render_summary_of(bool json, const struct engine *e)
{
	struct report_opts opts = { .json = json };
	struct report_losses losses = {};
	struct plan plan = {};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct report *r = report__new(out, &opts);

	for (int i = 0; i < ROLE_MAX; i++)
		plan.roles[i].symbol = "";
	report__summary(r, e, &losses, &plan, 1.0);
	report__free(r);
	fclose(out);
	return buf;
}

static char *render_summary_sent(bool json, const struct report_losses *losses,
				 const struct plan *plan)
{
	struct engine_opts eopts = {};
	struct report_opts opts = { .json = json };
	struct engine *e = engine__new(&eopts);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct report *r = report__new(out, &opts);

	report__summary(r, e, losses, plan, 1.0);
	report__free(r);
	engine__free(e);
	fclose(out);
	return buf;
}

/* The summaries count every verdict by name, and the race-class ones. */
static void test_summary_verdicts(void)
{
	struct engine_opts eopts = { .page_shift = 12 };
	struct engine *e = engine__new(&eopts);
	char *got;

	ASSERT_TRUE(e != NULL, "engine");
	feed_summary_window(e, "xfs", 1);	/* refused: rejected */
	feed_summary_window(e, "btrfs", 2);	/* refused there too */
	engine__flush(e);
	got = render_summary_of(true, e);
	ASSERT_TRUE(strstr(got, "\"verdicts\":{\"race\":0,\"unchecked\":0,\"unmodelled\":0,"
			       "\"straddling\":0,\"lost\":0,\"untracked\":0,\"unfinished\":0,"
			       "\"no-return\":0,\"expired\":0,\"rejected\":2,\"transient\":0,"
			       "\"evicted\":0,\"self\":0,\"late\":0,\"unlocked\":0,\"hole\":0,"
			       "\"no-blocks\":0},"
			       "\"race_class\":0,\"ops_skipped\":0,\"inserts_cleared\":0,\"records\":") != NULL, "json summary");
	free(got);
	got = render_summary_of(false, e);
	ASSERT_TRUE(strstr(got, "  stale-page windows (races): 0\n"
			       "  race-class windows (may be races): 0\n") != NULL, "text summary");
	ASSERT_TRUE(strstr(got, "  rejected ") != NULL, "text column");
	free(got);
	engine__free(e);
}

/* What BPF sent and could not send, per record type, in both summaries. */
static void test_summary_sent(void)
{
	struct report_losses losses = {};
	struct plan plan = {};
	char *buf;

	losses.sent[RW_REC_OP_BEGIN] = 3;
	losses.sent[RW_REC_PAGE] = 5;
	losses.unsent[RW_REC_BLOCK_FREE] = 2;
	buf = render_summary_sent(true, &losses, &plan);
	ASSERT_TRUE(strstr(buf, ",\"sent\":{\"op_begin\":3,\"inval_begin\":0,\"inval_end\":0,"
			   "\"block_free\":0,\"op_end\":0,\"insert\":0,\"delete\":0,\"page\":5,"
			   "\"followup\":0},"
			   "\"unsent\":{\"op_begin\":0,\"inval_begin\":0,\"inval_end\":0,"
			   "\"block_free\":2,"), "json sent and unsent");
	free(buf);
	buf = render_summary_sent(false, &losses, &plan);
	ASSERT_TRUE(strstr(buf, "\n  sent by BPF: op_begin 3 inval_begin 0 inval_end 0 "
			   "block_free 0 op_end 0 insert 0 delete 0 page 5 followup 0; not sent: "
			   "op_begin 0 inval_begin 0 inval_end 0 block_free 2 op_end 0 insert 0 "
			   "delete 0 page 0 followup 0\n"), "text sent and not sent");
	free(buf);
}

/* --count-hooks: inserts and deletes are counted, and shown as numbers. */
static void test_summary_hook_hits(void)
{
	struct report_losses losses = { .hooks_counted = true };
	struct plan plan = {};
	char *buf;

	losses.hook_hits[RW_HIT_INSERT] = 98;
	losses.hook_hits[RW_HIT_DELETE] = 74;
	losses.hook_hits[RW_HIT_INVAL_DERIVED] = 10;
	losses.hook_hits[RW_HIT_FREE_EXT4] = 7;
	buf = render_summary_sent(true, &losses, &plan);
	ASSERT_TRUE(strstr(buf, ",\"hook_hits\":{\"insert\":98,\"delete\":74,\"truncate_range\":0,"
			   "\"pages2_range\":0,\"derived_range\":10,\"ext4_free\":7,"
			   "\"xfs_free\":0,\"ext4_convert\":0,\"ext4_read_map\":0,\"btrfs_read_map\":0,"
			   "\"shmem_range\":0}"), "json hook hits");
	free(buf);
	buf = render_summary_sent(false, &losses, &plan);
	ASSERT_TRUE(strstr(buf, "\n  hook firings on watched inodes: insert 98 delete 74 "
			   "truncate_range 0 pages2_range 0 derived_range 10 ext4_free 7 "
			   "xfs_free 0 ext4_convert 0 ext4_read_map 0 btrfs_read_map 0 shmem_range 0\n"),
		    "text hook hits");
	free(buf);
}

void suite_report(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	harness_suite("report");
	RUN(test_text_line);
	RUN(test_json_line);
	RUN(test_json_shift);
	RUN(test_hostile_text);
	RUN(test_hostile_json);
	RUN(test_default_verdicts);
	RUN(test_op_error);
	RUN(test_filters);
	RUN(test_stacks);
	RUN(test_stacks_hostile);
	RUN(test_lock_text);
	RUN(test_falloc_mode);
	RUN(test_summary_text);
	RUN(test_summary_json);
	RUN(test_summary_verdicts);
	RUN(test_summary_sent);
	RUN(test_summary_hook_hits);
}
