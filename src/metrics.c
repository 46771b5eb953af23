// SPDX-License-Identifier: GPL-2.0
/*
 * Counters here are the engine's judgements as they are made: a window is
 * counted once, when it is judged, whether or not -v prints it; an
 * operation when it is judged whole. Label values come from the kernel
 * (filesystem type names), a bounded set: past METRICS_MAX_FS types the
 * rest share fs="other".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "metrics.h"
#include "verdict.h"

#define METRICS_MAX_FS	16

enum op_class {
	OPC_PUNCH, OPC_ZERO, OPC_COLLAPSE, OPC_INSERT, OPC_FALLOCATE, OPC_TRUNCATE,
	OPC_INVALIDATE, OPC_MAX,
};

static const char *const op_class_names[OPC_MAX] = {
	[OPC_PUNCH] = "punch_hole", [OPC_ZERO] = "zero_range", [OPC_COLLAPSE] = "collapse_range",
	[OPC_INSERT] = "insert_range", [OPC_FALLOCATE] = "fallocate_other",
	[OPC_TRUNCATE] = "truncate", [OPC_INVALIDATE] = "invalidate",
};

struct fs_counts {
	char name[RW_FSTYPE_LEN];
	__u64 windows[VERDICT_MAX];
	__u64 pages[VERDICT_MAX];
	__u64 ops[OPC_MAX];
	__u64 candidates;
};

struct metrics {
	char *path;
	char *tmp;		/* DIR/.BASE.tmp.PID: same filesystem, so rename is atomic */
	struct fs_counts fs[METRICS_MAX_FS + 1];	/* the last: "other" */
	int nfs;
	__u64 writes, write_errors;
};

struct metrics *metrics__new(const char *path)
{
	struct metrics *m = calloc(1, sizeof(*m));
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
	FILE *f;

	if (!m)
		goto nomem;
	m->path = strdup(path);
	m->tmp = malloc(strlen(path) + 32);
	if (!m->path || !m->tmp)
		goto nomem;
	snprintf(m->tmp, strlen(path) + 32, "%.*s.%s.tmp.%d", (int)dirlen, path,
		 path + dirlen, (int)getpid());
	strcpy(m->fs[METRICS_MAX_FS].name, "other");
	/* Fail now, not at the first interval: a typo'd directory is bad input. */
	f = fopen(m->tmp, "we");
	if (!f) {
		fprintf(stderr, "racewatch: cannot write --metrics '%s' (through %s): %s\n", path,
			m->tmp, strerror(errno));
		metrics__free(m);
		return NULL;
	}
	fclose(f);
	unlink(m->tmp);
	return m;
nomem:
	fprintf(stderr, "racewatch: failed to allocate state: %s\n", strerror(ENOMEM));
	metrics__free(m);
	return NULL;
}

void metrics__free(struct metrics *m)
{
	if (!m)
		return;
	free(m->path);
	free(m->tmp);
	free(m);
}

static struct fs_counts *fs_of(struct metrics *m, const char *fstype)
{
	for (int i = 0; i < m->nfs; i++)
		if (!strncmp(m->fs[i].name, fstype, RW_FSTYPE_LEN))
			return &m->fs[i];
	if (m->nfs == METRICS_MAX_FS)
		return &m->fs[METRICS_MAX_FS];
	strncpy(m->fs[m->nfs].name, fstype, RW_FSTYPE_LEN - 1);
	return &m->fs[m->nfs++];
}

void metrics__window(struct metrics *m, const struct rw_window *w)
{
	struct fs_counts *c;

	if (!m || w->verdict >= VERDICT_MAX)
		return;
	c = fs_of(m, w->op->fstype);
	c->windows[w->verdict]++;
	c->pages[w->verdict] += w->insert->nr_pages ? w->insert->nr_pages : 1;
}

static enum op_class op_class(const struct rw_op_begin *op)
{
	if (op->kind == RW_OP_TRUNCATE)
		return OPC_TRUNCATE;
	if (op->kind != RW_OP_FALLOCATE)
		return OPC_INVALIDATE;
	if (op->mode & RW_FALLOC_PUNCH_HOLE)
		return OPC_PUNCH;
	if (op->mode & RW_FALLOC_ZERO_RANGE)
		return OPC_ZERO;
	if (op->mode & RW_FALLOC_COLLAPSE_RANGE)
		return OPC_COLLAPSE;
	if (op->mode & RW_FALLOC_INSERT_RANGE)
		return OPC_INSERT;
	return OPC_FALLOCATE;
}

void metrics__op(struct metrics *m, const struct rw_op_begin *op)
{
	if (m)
		fs_of(m, op->fstype)->ops[op_class(op)]++;
}

/* Candidate inserts are the engine's per-inode counts (the NDJSON inode
 * records' "inserts"), summed by filesystem at each write. */
static void count_candidates(struct metrics *m, const struct engine *e)
{
	const struct inode_stats *in, *other = engine__inodes_other(e);
	size_t n;

	for (int i = 0; i <= METRICS_MAX_FS; i++)
		m->fs[i].candidates = 0;
	in = engine__inodes(e, &n);
	for (size_t i = 0; i < n; i++)
		fs_of(m, in[i].fstype)->candidates += in[i].inserts;
	if (other && other->inserts)
		m->fs[METRICS_MAX_FS].candidates += other->inserts;
}

/* A label value: backslash, double quote and newline escaped, as the
 * exposition format wants; other bytes as they are. */
static void label(char *buf, size_t size, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] && o + 3 < size; i++) {
		if (s[i] == '\\' || s[i] == '"' || s[i] == '\n')
			buf[o++] = '\\';
		buf[o++] = s[i] == '\n' ? 'n' : s[i];
	}
	buf[o] = '\0';
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static bool other_used(const struct metrics *m)
{
	const struct fs_counts *o = &m->fs[METRICS_MAX_FS];

	for (int v = 0; v < VERDICT_MAX; v++)
		if (o->windows[v])
			return true;
	for (int k = 0; k < OPC_MAX; k++)
		if (o->ops[k])
			return true;
	return o->candidates != 0;
}

/* One row function per family, called for each filesystem seen, then for
 * "other" once it has counted something. */
static void per_fs(FILE *f, const struct metrics *m, const char *name,
		   void (*row)(FILE *, const struct fs_counts *, const char *, const char *))
{
	for (int i = 0; i <= m->nfs; i++) {
		const struct fs_counts *c = &m->fs[i < m->nfs ? i : METRICS_MAX_FS];
		char fs[2 * RW_FSTYPE_LEN + 1];

		if (i == m->nfs && !other_used(m))
			break;
		label(fs, sizeof(fs), c->name, sizeof(c->name));
		row(f, c, name, fs);
	}
}

static void windows_row(FILE *f, const struct fs_counts *c, const char *name, const char *fs)
{
	for (int v = 0; v < VERDICT_MAX; v++)
		fprintf(f, "%s{fs=\"%s\",verdict=\"%s\"} %llu\n", name, fs, engine__verdict_name(v),
			(unsigned long long)c->windows[v]);
}

static void pages_row(FILE *f, const struct fs_counts *c, const char *name, const char *fs)
{
	for (int v = 0; v < VERDICT_MAX; v++)
		fprintf(f, "%s{fs=\"%s\",verdict=\"%s\"} %llu\n", name, fs, engine__verdict_name(v),
			(unsigned long long)c->pages[v]);
}

static void ops_row(FILE *f, const struct fs_counts *c, const char *name, const char *fs)
{
	for (int k = 0; k < OPC_MAX; k++)
		fprintf(f, "%s{fs=\"%s\",kind=\"%s\"} %llu\n", name, fs, op_class_names[k],
			(unsigned long long)c->ops[k]);
}

static void candidates_row(FILE *f, const struct fs_counts *c, const char *name, const char *fs)
{
	fprintf(f, "%s{fs=\"%s\"} %llu\n", name, fs, (unsigned long long)c->candidates);
}

static void body(FILE *f, struct metrics *m, const struct engine *e,
		 const struct report_losses *losses, const struct plan *plan, bool up)
{
	const struct engine_stats *st = engine__stats(e);
	static const char *const mechs[] = { "fentry", "kprobe", "tracepoint" };
	static const enum rw_mech mech_ids[] = { MECH_FENTRY, MECH_KPROBE, MECH_TRACEPOINT };
	__u64 unsent = 0;
	int unserved = 0;

	count_candidates(m, e);
	family(f, "racewatch_up", "gauge", "1 while racewatch watches; 0 in the file it leaves at exit.");
	fprintf(f, "racewatch_up %d\n", up ? 1 : 0);
	family(f, "racewatch_windows_total", "counter",
	       "Stale-page windows judged, by filesystem and verdict (README \"Verdicts\").");
	per_fs(f, m, "racewatch_windows_total", windows_row);
	family(f, "racewatch_pages_total", "counter", "Pages in those windows.");
	per_fs(f, m, "racewatch_pages_total", pages_row);
	family(f, "racewatch_operations_total", "counter",
	       "Operations that opened a window, judged, by filesystem and kind.");
	per_fs(f, m, "racewatch_operations_total", ops_row);
	family(f, "racewatch_candidate_inserts_total", "counter",
	       "Page-cache inserts BPF saw land in an open window, by filesystem.");
	per_fs(f, m, "racewatch_candidate_inserts_total", candidates_row);

	family(f, "racewatch_lost_total", "counter",
	       "What racewatch could not see or keep, by reason (README \"Lost data\").");
	for (int r = 0; r < RW_REC_MAX; r++)
		unsent += losses->unsent[r];
	fprintf(f, "racewatch_lost_total{reason=\"records_ringbuf_full\"} %llu\n",
		(unsigned long long)unsent);
	for (int c = 0; c < RW_CNT_MAX; c++) {
		if (c == RW_CNT_RINGBUF_FULL)
			continue;	/* the records above */
		fprintf(f, "racewatch_lost_total{reason=\"%s\"} %llu\n", report__counter_name(c),
			(unsigned long long)losses->counters[c]);
	}
	fprintf(f, "racewatch_lost_total{reason=\"ops_expired\"} %llu\n",
		(unsigned long long)st->ops_expired);
	fprintf(f, "racewatch_lost_total{reason=\"ops_dropped\"} %llu\n",
		(unsigned long long)st->ops_dropped);
	fprintf(f, "racewatch_lost_total{reason=\"candidates_dropped\"} %llu\n",
		(unsigned long long)st->cands_dropped);
	fprintf(f, "racewatch_lost_total{reason=\"invalidations_dropped\"} %llu\n",
		(unsigned long long)st->invals_dropped);

	family(f, "racewatch_roles", "gauge",
	       "Roles of the attach plan served, by mechanism; \"none\": not served.");
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
		int n = 0;

		for (int r = 0; r < ROLE_MAX; r++)
			n += plan->roles[r].served && plan->roles[r].mech == mech_ids[i];
		fprintf(f, "racewatch_roles{mechanism=\"%s\"} %d\n", mechs[i], n);
	}
	for (int r = 0; r < ROLE_MAX; r++)
		unserved += !plan->roles[r].served;
	fprintf(f, "racewatch_roles{mechanism=\"none\"} %d\n", unserved);

	family(f, "racewatch_metrics_write_errors_total", "counter",
	       "Earlier rewrites of this file that failed.");
	fprintf(f, "racewatch_metrics_write_errors_total %llu\n", (unsigned long long)m->write_errors);
}

int metrics__write(struct metrics *m, const struct engine *e, const struct report_losses *losses,
		   const struct plan *plan, bool up)
{
	FILE *f;
	int err = 0;

	if (!m)
		return 0;
	f = fopen(m->tmp, "we");
	if (!f) {
		err = -errno;
	} else {
		body(f, m, e, losses, plan, up);
		/* node_exporter runs as another user: readable by all. */
		if (fchmod(fileno(f), 0644) || fflush(f) || ferror(f))
			err = -(errno ? errno : EIO);
		if (fclose(f) && !err)
			err = -errno;
		if (!err && rename(m->tmp, m->path))
			err = -errno;
		if (err)
			unlink(m->tmp);
	}
	if (err && !m->write_errors++)
		fprintf(stderr, "racewatch: WARNING! cannot rewrite --metrics '%s': %s; trying "
			"again each interval, counted in racewatch_metrics_write_errors_total\n",
			m->path, strerror(-err));
	if (!err)
		m->writes++;
	return err;
}
