// SPDX-License-Identifier: GPL-2.0
/*
 * racematch: score racewatch's race verdicts against racegen's oracle.
 *
 * Every oracle iteration with confirmed stale pages is ground truth: the
 * page cache really held wrong data after that call. It counts as found when
 * racewatch reported a race window on the same inode, over pages overlapping
 * the confirmed stale pages, for an operation that began while the call was
 * in flight. Only verdict "race" is a finding: the other race-class verdicts
 * (unchecked, unmodelled, straddling, lost, ...) say that racewatch could not
 * decide, and a stale page under one of them counts as missed. Race windows that explain no confirmed iteration are reported
 * too; on a racy kernel they are not necessarily false positives (a racing
 * page can be inserted and dropped again before the oracle reads), so they
 * are counted, not failed on.
 *
 * Precision is per operation: an operation racewatch judged to have at
 * least one race window is confirmed when racegen's iteration for that call
 * (the same inode, the operation beginning while the call was in flight)
 * found a confirmed stale page. --max-false-ops bounds, per kind of
 * operation, the share that were not; --false-ops-slack lets a run have
 * that many unconfirmed operations over all kinds whatever their share, for
 * runs that race a handful of times, where one operation is 20% or 50%.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson.h"

#define EX_USAGE	64
#define EX_LOW_RECALL	2

#define EX_OPS_DIFFER	3
#define EX_FALSE_OPS	4

static struct env {
	const char *oracle;
	const char *racewatch;
	double min_recall;
	double max_false_ops;		/* < 0: not checked */
	unsigned long false_ops_slack;	/* unconfirmed ops a run may have anyway */
	unsigned int check_kinds;	/* bit per enum op_kind */
	bool verbose;
	bool exact_ops;
	bool by_kind;
	bool file_only;			/* score racegen's file's windows alone */
	const char *verdict;		/* the windows that count as findings */
} env = {
	.min_recall = 95.0,
	.max_false_ops = -1,
	.check_kinds = ~0U,
	.verdict = "race",
};

struct dev {
	unsigned int major, minor;
};

/* The kinds of operation precision is reported for, as racegen names them. */
enum op_kind {
	KIND_PUNCH,
	KIND_ZERO,
	KIND_COLLAPSE,
	KIND_INSERT,
	KIND_TRUNCATE,
	/* racegen's direct-I/O writes; racewatch's invalidations with no
	 * operation around them, which on racegen's file only they make. */
	KIND_DIO_WRITE,
	KIND_OTHER,		/* other modes, unknown */
	KIND_MAX,
};

static const char *const kind_names[KIND_MAX] = {
	"punch", "zero", "collapse", "insert", "truncate", "dio_write", "other",
};

/* An oracle iteration with confirmed stale pages. */
struct truth {
	uint64_t i;
	char op[16];
	struct dev dev;
	uint64_t ino;
	uint64_t t0_ns, t1_ns;
	uint64_t stale_first, stale_last;
	enum op_kind kind;
	bool matched;
};

struct window {
	struct dev dev;
	uint64_t ino;
	uint64_t first, last;
	uint64_t begin_ns;
	uint64_t op_id;		/* op.id; op.begin_ns where absent (v1) */
	enum op_kind kind;
	bool matched;
};

/* Operations with at least one race window, by kind. */
struct precision {
	uint64_t raced[KIND_MAX];
	uint64_t confirmed[KIND_MAX];
};

/*
 * Operation counts: racegen's successful invalidating calls on its file
 * against racewatch's successful operations on the same inode.
 */
struct ops_check {
	bool have_file, have_calls, have_seen;
	struct dev dev;
	uint64_t ino;
	uint64_t calls_ok;
	uint64_t seen_ok;
};

struct input {
	const char *path;
	FILE *f;
	char *line;
	size_t cap;
	size_t len;
	unsigned long lineno;
};

/* Grown with realloc; the counts are small (one per call or window). */
struct vec {
	void *items;
	size_t n, cap, size;
};

/* What racegen's iterations say: the confirmed ones, and every
 * iteration, confirmed or not, by kind (--by-kind). */
struct oracle {
	struct vec truths;
	uint64_t iters[KIND_MAX];
};

/* ---- options ---- */

const char argp_program_doc[] =
"Match racegen's stale-data oracle against racewatch's race windows.\n"
"\n"
"ORACLE.ndjson is racegen's stdout, RACEWATCH.ndjson racewatch's --json\n"
"stdout. The last line of output is always\n"
"  recall M/N PCT% unmatched_windows K windows W\n"
"\v"
"EXAMPLES:\n"
"    racematch oracle.ndjson racewatch.ndjson\n"
"    racematch -v --min-recall 90 oracle.ndjson racewatch.ndjson\n"
"    racematch --exact-ops oracle.ndjson racewatch.ndjson\n"
"    racematch --max-false-ops 5 oracle.ndjson racewatch.ndjson\n"
"\n"
"Before it, a line \"ops racegen N racewatch M\" compares racegen's successful\n"
"calls with the operations racewatch counted on the same inode (\"?\" when a\n"
"summary is missing), then one line per kind of operation\n"
"  precision KIND C/R (PCT%)\n"
"for punch, zero, collapse, insert and truncate (and \"other\" when racewatch\n"
"raced any other operation on the file): of the R operations on the oracle's\n"
"file that racewatch judged to have a race window, the C whose racegen\n"
"iteration found a confirmed stale page (\"n/a\" when R is 0). With\n"
"--by-kind, one more line per kind\n"
"  cell KIND iterations N confirmed C matched M raced R unconfirmed U\n"
"gives racegen's N calls of the kind, the C that left confirmed stale\n"
"pages, the M of those a race window matched, and the R raced operations\n"
"of which U were not confirmed.\n"
"\n"
"Exit status: 0 when recall >= --min-recall or there was nothing to find,\n"
"2 when recall is below it, 4 with --max-false-ops when some kind's share\n"
"of unconfirmed raced operations is above it (beyond --false-ops-slack), 3\n"
"with --exact-ops when the operation counts differ (checked in that order),\n"
"1 on unreadable or malformed input, 64 on a usage error.\n";

enum {
	OPT_MIN_RECALL = 256,
	OPT_EXACT_OPS,
	OPT_MAX_FALSE_OPS,
	OPT_CHECK_KINDS,
	OPT_FALSE_OPS_SLACK,
	OPT_BY_KIND,
	OPT_VERDICT,
	OPT_FILE_ONLY,
};

static const struct argp_option opts[] = {
	{ "min-recall", OPT_MIN_RECALL, "PCT", 0, "Lowest passing recall, 0..100 (default 95)", 0 },
	{ "max-false-ops", OPT_MAX_FALSE_OPS, "PCT", 0,
	  "Exit 4 if, for some kind, more than PCT% (0..100) of the operations "
	  "with a race window were not confirmed by the oracle", 0 },
	{ "false-ops-slack", OPT_FALSE_OPS_SLACK, "N", 0,
	  "With --max-false-ops: up to N unconfirmed raced operations, over all the "
	  "kinds checked, pass whatever their share (default 0)", 0 },
	{ "check-kinds", OPT_CHECK_KINDS, "LIST", 0,
	  "Kinds --max-false-ops checks, comma-separated: punch, zero, collapse, "
	  "insert, truncate, other (default all)", 0 },
	{ "verbose", 'v', NULL, 0,
	  "Print every unmatched confirmed iteration and unconfirmed raced operation", 0 },
	{ "exact-ops", OPT_EXACT_OPS, NULL, 0,
	  "Exit 3 unless racewatch counted exactly racegen's successful calls", 0 },
	{ "by-kind", OPT_BY_KIND, NULL, 0,
	  "Print a \"cell\" line per kind of operation: racegen's iterations, "
	  "the confirmed ones, those racewatch matched, raced and unconfirmed operations", 0 },
	{ "file-only", OPT_FILE_ONLY, NULL, 0,
	  "Score only the windows on racegen's file (several racegen runs under one "
	  "racewatch); without it every window counts, and one elsewhere is unmatched", 0 },
	{ "verdict", OPT_VERDICT, "NAME", 0,
	  "Score the windows of verdict NAME instead of race: unmodelled scores what "
	  "racewatch shows, unjudged, on a filesystem it has no model for", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

/* A percentage may have a fraction: strtod, with range checks. */
static double parse_pct(const char *arg, const char *what, struct argp_state *state)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0) || v > 100)
		argp_error(state, "invalid %s '%s' (want 0..100)", what, arg);
	return v;
}

/* The kind named by the n bytes at p; KIND_MAX for none. */
static enum op_kind kind_named(const char *p, size_t n)
{
	int k;

	for (k = 0; k < KIND_MAX; k++)
		if (strlen(kind_names[k]) == n && !strncmp(p, kind_names[k], n))
			break;
	return k;
}

static unsigned int parse_kinds(const char *arg, struct argp_state *state)
{
	unsigned int mask = 0;
	const char *p = arg;

	for (;;) {
		size_t n = strcspn(p, ",");
		enum op_kind k = kind_named(p, n);

		if (k == KIND_MAX)
			argp_error(state, "invalid check-kinds '%s' (want a comma-separated "
				   "list of punch, zero, collapse, insert, truncate, other)", arg);
		mask |= 1U << k;
		if (!p[n])
			return mask;
		p += n + 1;
	}
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'v':
		env.verbose = true;
		break;
	case OPT_FILE_ONLY:
		env.file_only = true;
		break;
	case OPT_BY_KIND:
		env.by_kind = true;
		break;
	case OPT_VERDICT:
		if (!*arg || strlen(arg) > 15 || strspn(arg, "abcdefghijklmnopqrstuvwxyz-") != strlen(arg))
			argp_error(state, "invalid verdict '%s' (want a verdict's name, such as race)", arg);
		env.verdict = arg;
		break;
	case OPT_EXACT_OPS:
		env.exact_ops = true;
		break;
	case OPT_MIN_RECALL:
		env.min_recall = parse_pct(arg, "min-recall", state);
		break;
	case OPT_MAX_FALSE_OPS:
		env.max_false_ops = parse_pct(arg, "max-false-ops", state);
		break;
	case OPT_CHECK_KINDS:
		env.check_kinds = parse_kinds(arg, state);
		break;
	case OPT_FALSE_OPS_SLACK: {
		char *end;

		errno = 0;
		env.false_ops_slack = strtoul(arg, &end, 10);
		if (!isdigit((unsigned char)arg[0]) || *end || errno)
			argp_error(state, "invalid --false-ops-slack '%s' (want a count)", arg);
		break;
	}
	case ARGP_KEY_ARG:
		if (!env.oracle)
			env.oracle = arg;
		else if (!env.racewatch)
			env.racewatch = arg;
		else
			argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!env.racewatch)
			argp_error(state, "need ORACLE.ndjson and RACEWATCH.ndjson");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- input ---- */

static void *vec_push(struct vec *v)
{
	size_t cap;
	void *items;

	if (v->n == v->cap) {
		cap = v->cap ? v->cap * 2 : 64;
		items = realloc(v->items, cap * v->size);
		if (!items)
			return NULL;
		v->items = items;
		v->cap = cap;
	}
	return memset((char *)v->items + v->n++ * v->size, 0, v->size);
}

static int input_open(struct input *in, const char *path)
{
	in->path = path;
	in->f = fopen(path, "r");
	if (!in->f) {
		fprintf(stderr, "racematch: failed to open %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	return 0;
}

static void input_close(struct input *in)
{
	if (in->f)
		fclose(in->f);
	free(in->line);
}

static bool blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* Next non-blank line, already checked to be one JSON object. 1 at EOF. */
static int input_next(struct input *in)
{
	ssize_t n;

	for (;;) {
		errno = 0;
		n = getline(&in->line, &in->cap, in->f);
		if (n < 0) {
			if (!errno || feof(in->f))
				return 1;
			fprintf(stderr, "racematch: failed to read %s: %s\n",
				in->path, strerror(errno));
			return -errno;
		}
		in->lineno++;
		in->len = n;
		if (blank(in->line, in->len))
			continue;
		if (ndjson__check(in->line, in->len)) {
			fprintf(stderr, "racematch: %s:%lu: malformed JSON line\n",
				in->path, in->lineno);
			return -EINVAL;
		}
		return 0;
	}
}

static int bad_field(const struct input *in, const char *field, int err)
{
	fprintf(stderr, "racematch: %s:%lu: %s field \"%s\"\n", in->path,
		in->lineno, err == -ENOENT ? "missing" : "invalid", field);
	return -EINVAL;
}

static int get_u64(const struct input *in, const char *field, uint64_t *v)
{
	int err = ndjson__get_u64(in->line, in->len, field, v);

	return err ? bad_field(in, field, err) : 0;
}

/* "major:minor", as both racegen and racewatch print st_dev / s_dev. */
static int get_dev(const struct input *in, struct dev *dev)
{
	unsigned long maj, min;
	char buf[32], *end, *start;
	int err;

	err = ndjson__get_str(in->line, in->len, "dev", buf, sizeof(buf));
	if (err)
		return bad_field(in, "dev", err);
	/* strtoul alone would take blanks, signs and an empty string. */
	if (!isdigit((unsigned char)buf[0]))
		return bad_field(in, "dev", -EINVAL);
	errno = 0;
	maj = strtoul(buf, &end, 10);
	if (errno || *end != ':' || maj > UINT32_MAX)
		return bad_field(in, "dev", -EINVAL);
	start = end + 1;
	if (!isdigit((unsigned char)*start))
		return bad_field(in, "dev", -EINVAL);
	min = strtoul(start, &end, 10);
	if (errno || *end || min > UINT32_MAX)
		return bad_field(in, "dev", -EINVAL);
	dev->major = maj;
	dev->minor = min;
	return 0;
}

/* 0 when the line's "type" is want; -ENOENT when it is anything else. */
static int type_is(const struct input *in, const char *field, const char *want)
{
	bool eq = false;
	int err;

	err = ndjson__str_eq(in->line, in->len, field, want, &eq);
	if (err == -ENOENT || err == -EPROTO || (!err && !eq))
		return -ENOENT;
	return err;
}

/* Versions 1 to 5 are understood (2 added the operations' loss fields, 3
 * the page evidence "moved", the frees' shift_ns and the windows'
 * read_map, 4 the summary's page_followups, 5 the frees' shift_over_ns,
 * none of which racematch reads); an absent "v" is taken as 1. */
static int check_version(const struct input *in)
{
	int64_t v;
	int err;

	err = ndjson__get_i64(in->line, in->len, "v", &v);
	if (err == -ENOENT || (!err && v >= 1 && v <= 5))
		return 0;
	fprintf(stderr, "racematch: %s:%lu: unsupported record version\n",
		in->path, in->lineno);
	return -EINVAL;
}

static int parse_truth(const struct input *in, struct oracle *o)
{
	uint64_t confirmed;
	int64_t sf, sl;
	struct truth *t;
	enum op_kind kind;
	char op[16];
	int err;

	err = check_version(in);
	if (err)
		return err;
	err = get_u64(in, "confirmed", &confirmed);
	if (err)
		return err;
	/* An odd op name is not worth failing over: "?", of kind other. */
	if (ndjson__get_str(in->line, in->len, "op", op, sizeof(op)))
		strcpy(op, "?");
	kind = kind_named(op, strlen(op));
	if (kind == KIND_MAX)
		kind = KIND_OTHER;
	o->iters[kind]++;
	if (!confirmed)
		return 0;
	t = vec_push(&o->truths);
	if (!t)
		return -ENOMEM;
	strcpy(t->op, op);
	t->kind = kind;
	err = get_u64(in, "i", &t->i);
	if (!err)
		err = get_dev(in, &t->dev);
	if (!err)
		err = get_u64(in, "ino", &t->ino);
	if (!err)
		err = get_u64(in, "t0_ns", &t->t0_ns);
	if (!err)
		err = get_u64(in, "t1_ns", &t->t1_ns);
	if (err)
		return err;
	/* -1 means "none", which a confirmed iteration cannot have. */
	err = ndjson__get_i64(in->line, in->len, "stale_first", &sf);
	if (err || sf < 0)
		return bad_field(in, "stale_first", err ? err : -EINVAL);
	err = ndjson__get_i64(in->line, in->len, "stale_last", &sl);
	if (err || sl < sf)
		return bad_field(in, "stale_last", err ? err : -EINVAL);
	t->stale_first = sf;
	t->stale_last = sl;
	return 0;
}

/*
 * A window's last page may run to EOF. racewatch's ABI says so with
 * RW_PAGE_EOF (~0ULL), and its JSON prints "eof" for it in nested ranges;
 * accept that number, "eof", -1 and null wherever "last" holds it.
 */
static int get_last(const struct input *in, uint64_t *last)
{
	struct ndjson_value val;
	bool eof = false;
	int64_t v;
	int err;

	if (!ndjson__get_u64(in->line, in->len, "last", last))
		return 0;
	err = ndjson__find(in->line, in->len, "last", &val);
	if (err)
		return bad_field(in, "last", err);
	if (val.type == NDJSON_NULL)
		eof = true;
	else if (val.type == NDJSON_STRING)
		ndjson__str_eq(in->line, in->len, "last", "eof", &eof);
	else if (!ndjson__get_i64(in->line, in->len, "last", &v))
		eof = v == -1;
	if (!eof)
		return bad_field(in, "last", -EINVAL);
	*last = UINT64_MAX;
	return 0;
}

/*
 * Which operation a window belongs to, and its kind: racewatch's op.kind,
 * and for fallocate the mode, whose names are racewatch's
 * (report__falloc_mode). v1 records have neither op.id nor op.mode.
 */
static int get_op(const struct input *in, struct window *w)
{
	static const struct { const char *mode; enum op_kind kind; } modes[] = {
		{ "PUNCH_HOLE", KIND_PUNCH },
		{ "ZERO_RANGE", KIND_ZERO },
		{ "COLLAPSE_RANGE", KIND_COLLAPSE },
		{ "INSERT_RANGE", KIND_INSERT },
	};
	char kind[32], mode[128], *tok, *save;
	int err;

	err = ndjson__get_u64(in->line, in->len, "op.id", &w->op_id);
	if (err == -ENOENT)
		w->op_id = w->begin_ns;
	else if (err)
		return bad_field(in, "op.id", err);
	w->kind = KIND_OTHER;
	if (ndjson__get_str(in->line, in->len, "op.kind", kind, sizeof(kind)))
		return 0;
	if (!strcmp(kind, "truncate")) {
		w->kind = KIND_TRUNCATE;
		return 0;
	}
	if (!strcmp(kind, "invalidate")) {
		w->kind = KIND_DIO_WRITE;
		return 0;
	}
	if (strcmp(kind, "fallocate") ||
	    ndjson__get_str(in->line, in->len, "op.mode", mode, sizeof(mode)))
		return 0;
	/* The most significant operation comes first: PUNCH_HOLE|KEEP_SIZE. */
	tok = strtok_r(mode, "|", &save);
	for (size_t i = 0; tok && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(tok, modes[i].mode))
			w->kind = modes[i].kind;
	return 0;
}

static int parse_window(const struct input *in, struct vec *windows)
{
	struct window *w;
	int err;

	err = type_is(in, "verdict", env.verdict);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = check_version(in);
	if (err)
		return err;
	w = vec_push(windows);
	if (!w)
		return -ENOMEM;
	err = get_dev(in, &w->dev);
	if (!err)
		err = get_u64(in, "ino", &w->ino);
	if (!err)
		err = get_u64(in, "first", &w->first);
	if (!err)
		err = get_last(in, &w->last);
	if (!err)
		err = get_u64(in, "op.begin_ns", &w->begin_ns);
	if (!err && w->last < w->first)
		err = bad_field(in, "last", -EINVAL);
	if (!err)
		err = get_op(in, w);
	return err;
}

static int parse_start(const struct input *in, void *arg)
{
	struct ops_check *ops = arg;
	int err = get_dev(in, &ops->dev);

	if (!err)
		err = get_u64(in, "ino", &ops->ino);
	ops->have_file = !err;
	return err;
}

static int parse_oracle_summary(const struct input *in, void *arg)
{
	struct ops_check *ops = arg;
	uint64_t dio = 0;
	int err = get_u64(in, "calls_ok", &ops->calls_ok);

	ops->have_calls = !err;
	if (err)
		return err;
	/* racewatch counts fallocate and truncate operations: a direct-I/O
	 * write is an invalidation with no operation around it. */
	err = ndjson__get_u64(in->line, in->len, "ops.dio_write", &dio);
	if (err && err != -ENOENT)
		return bad_field(in, "ops.dio_write", err);
	ops->calls_ok -= dio < ops->calls_ok ? dio : ops->calls_ok;
	return 0;
}

/* racewatch prints one "inode" record per inode it saw, at exit. */
static int parse_inode(const struct input *in, void *arg)
{
	struct ops_check *ops = arg;
	uint64_t ino, ok;
	struct dev dev;
	int err;

	err = get_dev(in, &dev);
	if (!err)
		err = get_u64(in, "ino", &ino);
	if (!err)
		err = get_u64(in, "ops_ok", &ok);
	if (err || !ops->have_file || ino != ops->ino ||
	    dev.major != ops->dev.major || dev.minor != ops->dev.minor)
		return err;
	ops->seen_ok += ok;	/* a reused inode number shows up twice */
	ops->have_seen = true;
	return 0;
}

static int parse_truth_rec(const struct input *in, void *arg)
{
	return parse_truth(in, arg);
}

static int parse_window_rec(const struct input *in, void *arg)
{
	return parse_window(in, arg);
}

/* Read every record of path; parse(in, arg) gets those of type want. */
static int load(const char *path, const char *want,
		int (*parse)(const struct input *, void *), void *v)
{
	struct input in = {};
	int err;

	err = input_open(&in, path);
	if (err)
		goto cleanup;
	while (!(err = input_next(&in))) {
		err = type_is(&in, "type", want);
		if (err == -ENOENT)
			continue;
		if (!err)
			err = parse(&in, v);
		if (err)
			break;
	}
	if (err == 1)
		err = 0;
	if (err == -ENOMEM)
		fprintf(stderr, "racematch: failed to load %s: %s\n", path,
			strerror(ENOMEM));
cleanup:
	input_close(&in);
	return err;
}

/* ---- matching ---- */

static int cmp_begin(const void *a, const void *b)
{
	const struct window *x = a, *y = b;

	return x->begin_ns < y->begin_ns ? -1 : x->begin_ns > y->begin_ns;
}

static bool same_inode(const struct truth *t, const struct window *w)
{
	return t->dev.major == w->dev.major && t->dev.minor == w->dev.minor &&
	       t->ino == w->ino;
}

/* First window that began at or after ns; windows are sorted by begin. */
static size_t lower_bound(const struct window *w, size_t n, uint64_t ns)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (w[mid].begin_ns < ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void match(struct vec *truths, struct vec *windows)
{
	struct window *w = windows->items;
	struct truth *t = truths->items;
	size_t i, j;

	if (windows->n)	/* qsort(NULL, 0, ...) is undefined */
		qsort(w, windows->n, sizeof(*w), cmp_begin);
	for (i = 0; i < truths->n; i++) {
		for (j = lower_bound(w, windows->n, t[i].t0_ns);
		     j < windows->n && w[j].begin_ns <= t[i].t1_ns; j++) {
			if (!same_inode(&t[i], &w[j]) ||
			    w[j].first > t[i].stale_last ||
			    w[j].last < t[i].stale_first)
				continue;
			t[i].matched = true;
			w[j].matched = true;
		}
	}
}

static void report(const struct vec *truths, const struct vec *windows,
		   size_t *found)
{
	const struct window *w = windows->items;
	const struct truth *t = truths->items;
	size_t i, unmatched = 0;
	uint64_t tenths;

	*found = 0;
	for (i = 0; i < truths->n; i++) {
		if (t[i].matched) {
			(*found)++;
			continue;
		}
		if (env.verbose)
			printf("unmatched i=%" PRIu64 " op=%s dev=%u:%u ino=%" PRIu64
			       " stale=%" PRIu64 "-%" PRIu64 " t0_ns=%" PRIu64
			       " t1_ns=%" PRIu64 "\n", t[i].i, t[i].op,
			       t[i].dev.major, t[i].dev.minor, t[i].ino,
			       t[i].stale_first, t[i].stale_last, t[i].t0_ns,
			       t[i].t1_ns);
	}
	for (i = 0; i < windows->n; i++)
		unmatched += !w[i].matched;
	if (!truths->n) {
		printf("recall 0/0 n/a unmatched_windows %zu windows %zu\n",
		       unmatched, windows->n);
		return;
	}
	/* Rounded down, so a printed 95.0% never hides a failing 94.96%. */
	tenths = (uint64_t)*found * 1000 / truths->n;
	printf("recall %zu/%zu %" PRIu64 ".%" PRIu64 "%% unmatched_windows %zu windows %zu\n",
	       *found, truths->n, tenths / 10, tenths % 10, unmatched,
	       windows->n);
}

static int cmp_op(const void *a, const void *b)
{
	const struct window *x = a, *y = b;

	if (x->op_id != y->op_id)
		return x->op_id < y->op_id ? -1 : 1;
	return x->begin_ns < y->begin_ns ? -1 : x->begin_ns > y->begin_ns;
}

static bool on_file(const struct ops_check *ops, const struct window *w)
{
	return !ops->have_file || (ops->ino == w->ino && ops->dev.major == w->dev.major &&
				   ops->dev.minor == w->dev.minor);
}

/* --file-only: one racewatch watched the files of several racegen runs
 * (tests/host/paths.sh), where another file's window would count as this
 * one's unmatched. */
static void keep_on_file(struct vec *windows, const struct ops_check *ops)
{
	struct window *w = windows->items;
	size_t kept = 0;

	for (size_t i = 0; i < windows->n; i++)
		if (on_file(ops, &w[i]))
			w[kept++] = w[i];
	windows->n = kept;
}

/* Did a confirmed iteration on the window's inode bracket its operation? */
static bool op_confirmed(const struct vec *truths, const struct window *w)
{
	const struct truth *t = truths->items;

	for (size_t i = 0; i < truths->n; i++)
		if (same_inode(&t[i], w) && t[i].t0_ns <= w->begin_ns &&
		    w->begin_ns <= t[i].t1_ns)
			return true;
	return false;
}

/* Reorders the windows: call after match(). */
static void count_ops(const struct vec *truths, struct vec *windows,
		      const struct ops_check *ops, struct precision *p)
{
	struct window *w = windows->items;
	size_t i = 0, j;

	memset(p, 0, sizeof(*p));
	if (windows->n)
		qsort(w, windows->n, sizeof(*w), cmp_op);
	for (; i < windows->n; i = j) {
		bool confirmed;

		for (j = i + 1; j < windows->n && w[j].op_id == w[i].op_id; j++)
			;
		if (!on_file(ops, &w[i]))
			continue;
		confirmed = op_confirmed(truths, &w[i]);
		p->raced[w[i].kind]++;
		p->confirmed[w[i].kind] += confirmed;
		if (env.verbose && !confirmed)
			printf("unconfirmed op=%" PRIu64 " kind=%s dev=%u:%u ino=%" PRIu64
			       " begin_ns=%" PRIu64 " race_windows=%zu\n", w[i].op_id,
			       kind_names[w[i].kind], w[i].dev.major, w[i].dev.minor,
			       w[i].ino, w[i].begin_ns, j - i);
	}
}

/* Kinds shown only where a run has them: most runs make no direct-I/O
 * write, and other kinds are what racegen does not make. */
static bool kind_optional(int k)
{
	return k == KIND_DIO_WRITE || k == KIND_OTHER;
}

static void report_precision(const struct precision *p)
{
	for (int k = 0; k < KIND_MAX; k++) {
		uint64_t tenths;

		if (kind_optional(k) && !p->raced[k])
			continue;
		if (!p->raced[k]) {
			printf("precision %s 0/0 (n/a)\n", kind_names[k]);
			continue;
		}
		/* Rounded down, as recall is. */
		tenths = p->confirmed[k] * 1000 / p->raced[k];
		printf("precision %s %" PRIu64 "/%" PRIu64 " (%" PRIu64 ".%" PRIu64 "%%)\n",
		       kind_names[k], p->confirmed[k], p->raced[k], tenths / 10, tenths % 10);
	}
}

/*
 * One line per kind, for the read path x operation table:
 *   cell KIND iterations N confirmed C matched M raced R unconfirmed U
 * N of racegen's calls of that kind, C with confirmed stale pages, M of
 * those matched by a race window; R operations of that kind that racewatch
 * judged to race, U of them with no confirmed stale page.
 */
static void report_by_kind(const struct oracle *o, const struct precision *p)
{
	uint64_t confirmed[KIND_MAX] = {}, matched[KIND_MAX] = {};
	const struct truth *t = o->truths.items;

	for (size_t i = 0; i < o->truths.n; i++) {
		confirmed[t[i].kind]++;
		matched[t[i].kind] += t[i].matched;
	}
	for (int k = 0; k < KIND_MAX; k++) {
		if (kind_optional(k) && !o->iters[k] && !p->raced[k])
			continue;
		printf("cell %s iterations %" PRIu64 " confirmed %" PRIu64 " matched %" PRIu64
		       " raced %" PRIu64 " unconfirmed %" PRIu64 "\n", kind_names[k], o->iters[k],
		       confirmed[k], matched[k], p->raced[k], p->raced[k] - p->confirmed[k]);
	}
}

/*
 * Some kind's unconfirmed share of its raced operations is above the bound,
 * beyond the run's slack: the kinds over their share may have at most
 * false_ops_slack unconfirmed operations between them, and all the checked
 * kinds together must also keep to the share or the slack.
 */
static bool too_many_false_ops(const struct precision *p)
{
	uint64_t over = 0, raced = 0, unconfirmed = 0;

	if (env.max_false_ops < 0)
		return false;
	for (int k = 0; k < KIND_MAX; k++) {
		uint64_t u = p->raced[k] - p->confirmed[k];

		if (!(env.check_kinds & 1U << k))
			continue;
		raced += p->raced[k];
		unconfirmed += u;
		if (100.0 * u > env.max_false_ops * p->raced[k])
			over += u;
	}
	if (over <= env.false_ops_slack)
		return unconfirmed > env.false_ops_slack &&
		       100.0 * unconfirmed > env.max_false_ops * raced;
	return true;
}

static bool ops_equal(const struct ops_check *ops)
{
	return ops->have_calls && ops->have_file && ops->calls_ok == ops->seen_ok;
}

static void report_ops(const struct ops_check *ops)
{
	char calls[24] = "?", seen[24] = "?";

	if (ops->have_calls)
		snprintf(calls, sizeof(calls), "%" PRIu64, ops->calls_ok);
	/* racewatch saw no operation at all on the file: that is a count of 0 */
	if (ops->have_seen || ops->have_file)
		snprintf(seen, sizeof(seen), "%" PRIu64, ops->seen_ok);
	printf("ops racegen %s racewatch %s\n", calls, seen);
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "ORACLE.ndjson RACEWATCH.ndjson",
		.doc = argp_program_doc,
	};
	struct oracle oracle = { .truths = { .size = sizeof(struct truth) } };
	struct vec *truths = &oracle.truths;
	struct vec windows = { .size = sizeof(struct window) };
	struct ops_check ops = {};
	struct precision prec;
	size_t found;
	int err;

	argp_err_exit_status = EX_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EX_USAGE;

	err = load(env.oracle, "iter", parse_truth_rec, &oracle);
	if (!err)
		err = load(env.oracle, "start", parse_start, &ops);
	if (!err)
		err = load(env.oracle, "summary", parse_oracle_summary, &ops);
	if (!err)
		err = load(env.racewatch, "window", parse_window_rec, &windows);
	if (!err)
		err = load(env.racewatch, "inode", parse_inode, &ops);
	if (err) {
		err = 1;
		goto cleanup;
	}
	if (env.file_only)
		keep_on_file(&windows, &ops);
	match(truths, &windows);
	report_ops(&ops);
	/* After match(), which wants the windows by begin time; report()
	 * does not care about their order. */
	count_ops(truths, &windows, &ops, &prec);
	report_precision(&prec);
	if (env.by_kind)
		report_by_kind(&oracle, &prec);
	report(truths, &windows, &found);
	if (fflush(stdout)) {
		fprintf(stderr, "racematch: failed to write stdout: %s\n",
			strerror(errno));
		err = 1;
		goto cleanup;
	}
	err = 0;
	if (truths->n && 100.0 * found < env.min_recall * truths->n)
		err = EX_LOW_RECALL;
	else if (too_many_false_ops(&prec))
		err = EX_FALSE_OPS;
	else if (env.exact_ops && !ops_equal(&ops))
		err = EX_OPS_DIFFER;
cleanup:
	free(truths->items);
	free(windows.items);
	return err;
}
