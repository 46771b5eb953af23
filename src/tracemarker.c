// SPDX-License-Identifier: GPL-2.0
/*
 * The ftrace sink. Each line is one write(2) to trace_marker, which the
 * kernel stores as one print event, stamped with the buffer's clock when
 * written: after the window it describes, so each line also carries the
 * window's own CLOCK_MONOTONIC times (insert_ns, op_begin_ns), which line
 * up with a capture on trace clock "mono".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli.h"
#include "escape.h"
#include "tracemarker.h"
#include "verdict.h"

/* The kernel cuts a trace_marker write at TRACE_MARKER_MAX_SIZE (4096);
 * a line here stays far below. */
#define LINE_MAX_LEN	1024

struct trace_marker {
	int fd;
	char dir[256];		/* instances/NAME; "" for the global buffer */
	bool made;		/* we made the instance: remove it at close */
	bool keep;
	__u64 windows;		/* window lines written */
	__u64 failed;		/* lines the kernel did not take */
	int first_errno;
	char line[LINE_MAX_LEN];
	size_t len;
	bool cut;		/* the line outgrew LINE_MAX_LEN */
};

/* tracefs where it is mounted today, or under debugfs where older setups
 * mount it; NULL: neither. */
static const char *tracefs_root(void)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		char p[64];

		snprintf(p, sizeof(p), "%s/trace_marker", roots[i]);
		if (!access(p, F_OK))
			return roots[i];
	}
	return NULL;
}

static int open_failed(const char *what, const char *path, int err)
{
	fprintf(stderr, "racewatch: cannot use %s '%s': %s\n", what, path, strerror(err));
	return err == EACCES || err == EPERM ? RW_EXIT_NOPERM : RW_EXIT_UNAVAILABLE;
}

struct trace_marker *trace_marker__open(const char *instance, bool keep_instance,
					int *exit_code)
{
	const char *root = tracefs_root();
	struct trace_marker *t;
	char path[320];

	if (!root) {
		fprintf(stderr, "racewatch: cannot use --trace-marker: tracefs is not mounted "
			"(mount -t tracefs nodev /sys/kernel/tracing)\n");
		*exit_code = RW_EXIT_UNAVAILABLE;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		fprintf(stderr, "racewatch: failed to allocate state: %s\n", strerror(ENOMEM));
		*exit_code = RW_EXIT_FAILURE;
		return NULL;
	}
	t->keep = keep_instance;
	if (instance) {
		/* cli.c allows only [A-Za-z0-9_.-] names: no path tricks. */
		snprintf(t->dir, sizeof(t->dir), "%s/instances/%s", root, instance);
		if (!mkdir(t->dir, 0750)) {
			t->made = true;
		} else if (errno != EEXIST) {
			*exit_code = open_failed("--trace-instance", t->dir, errno);
			free(t);
			return NULL;
		}
		snprintf(path, sizeof(path), "%s/trace_marker", t->dir);
	} else {
		snprintf(path, sizeof(path), "%s/trace_marker", root);
	}
	/* Close-on-exec: a wrapped command must not write into it. */
	t->fd = open(path, O_WRONLY | O_CLOEXEC);
	if (t->fd < 0) {
		*exit_code = open_failed(instance ? "--trace-instance" : "--trace-marker", path,
					 errno);
		if (t->made)
			rmdir(t->dir);
		free(t);
		return NULL;
	}
	if (t->made)
		fprintf(stderr, "racewatch: made trace instance %s%s\n", t->dir,
			t->keep ? " (kept at exit)" : " (removed at exit)");
	return t;
}

static void put(struct trace_marker *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->line + t->len, sizeof(t->line) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->line) - t->len)
		t->cut = true;
	else
		t->len += n;
}

/* " key=value", value escaped as a token (escape.h): no space inside. */
static void put_str(struct trace_marker *t, const char *key, const char *s, size_t n)
{
	char esc[ESCAPE_TEXT_SIZE(TESTTAG_NAME_LEN)];

	escape__token(esc, sizeof(esc), s, n);
	put(t, " %s=%s", key, esc);
}

/* A cut line would lose its last keys without a sign: it is sent with
 * "truncated=1" at its end instead, and counted as written. */
static void send_line(struct trace_marker *t)
{
	if (t->cut) {
		static const char tail[] = " truncated=1";

		t->len = sizeof(t->line) - sizeof(tail) - 1;
		memcpy(t->line + t->len, tail, sizeof(tail) - 1);
		t->len += sizeof(tail) - 1;
	}
	t->line[t->len++] = '\n';
	if (write(t->fd, t->line, t->len) != (ssize_t)t->len && !t->failed++) {
		/* Said at once: a dashboard shows nothing while this lasts. */
		t->first_errno = errno ? errno : EIO;
		fprintf(stderr, "racewatch: WARNING! trace_marker write failed: %s%s; counting "
			"the lines lost until exit\n", strerror(t->first_errno),
			t->first_errno == EBADF ? " (its buffer's tracing_on is 0)" : "");
	}
	t->len = 0;
	t->cut = false;
}

static void put_task(struct trace_marker *t, const char *who, const struct rw_task *task)
{
	put_str(t, who, task->comm, sizeof(task->comm));
	put(t, " %s_pid=%u %s_tid=%u", who, task->pid, who, task->tid);
}

static void put_lock(struct trace_marker *t, const char *name, const struct rw_lock *l)
{
	char key[40];

	if (l->state == RW_LOCK_ABSENT)
		return;
	put(t, " %s=%s", name, report__lock_state_name(l->state));
	if (l->state == RW_LOCK_READ)
		put(t, " %s_readers=%u", name, l->readers);
	if (l->owner_pid && (l->state == RW_LOCK_WRITE || l->state == RW_LOCK_READ)) {
		snprintf(key, sizeof(key), "%s_owner", name);
		put_str(t, key, l->owner_comm, sizeof(l->owner_comm));
		put(t, " %s_owner_pid=%u", name, l->owner_pid);
	}
}

void trace_marker__window(struct trace_marker *t, const struct rw_window *w, const char *test)
{
	const struct rw_insert *ins = w->insert;
	const struct rw_op_begin *op = w->op;
	char mode[96];

	if (!t)
		return;
	put(t, "racewatch: %s v=%d verdict=%s", w->verdict == VERDICT_RACE ? "RACE" : "WINDOW",
	    RW_ABI_VERSION, engine__verdict_name(w->verdict));
	put_str(t, "fs", op->fstype, sizeof(op->fstype));
	put(t, " dev=%u:%u ino=%llu gen=%u pages=%llu-%llu phase=%s page=%s",
	    ins->key.dev >> 20, ins->key.dev & ((1U << 20) - 1),
	    (unsigned long long)ins->key.ino, ins->key.gen, (unsigned long long)ins->index,
	    (unsigned long long)(ins->index + (ins->nr_pages ? ins->nr_pages : 1) - 1),
	    engine__phase_name(w->phase), engine__evidence_name(w->page));
	report__falloc_mode(op->mode, mode, sizeof(mode));
	put(t, " op=%s mode=%s op_id=%llu offset=%lld len=%lld", report__op_kind_name(op->kind),
	    mode[0] ? mode : "-", (unsigned long long)op->op_id, (long long)op->offset,
	    (long long)op->len);
	put_task(t, "inserter", &ins->task);
	put_task(t, "invalidator", &op->task);
	put_lock(t, "invalidate_lock", &ins->locks.invalidate_lock);
	put_lock(t, "i_rwsem", &ins->locks.i_rwsem);
	put_lock(t, "i_mmap_sem", &ins->locks.i_mmap_sem);
	put(t, " insert_ns=%llu op_begin_ns=%llu", (unsigned long long)ins->hdr.ts,
	    (unsigned long long)op->hdr.ts);
	if (test)
		put_str(t, "test", test, TESTTAG_NAME_LEN);
	send_line(t);
	t->windows++;
}

void trace_marker__summary(struct trace_marker *t, const struct engine *e,
			   const struct report_losses *losses, double elapsed_s)
{
	const struct engine_stats *st = engine__stats(e);
	__u64 windows = 0, race_class = 0, unsent = 0;

	if (!t)
		return;
	for (int v = 0; v < VERDICT_MAX; v++) {
		windows += st->verdicts[v];
		if (verdict__race_class(v))
			race_class += st->verdicts[v];
	}
	for (int r = 0; r < RW_REC_MAX; r++)
		unsent += losses->unsent[r];
	put(t, "racewatch: SUMMARY v=%d elapsed_s=%.3f ops=%llu windows=%llu race=%llu "
	    "race_class=%llu records_lost=%llu window_lines=%llu", RW_ABI_VERSION, elapsed_s,
	    (unsigned long long)st->records[RW_REC_OP_BEGIN], (unsigned long long)windows,
	    (unsigned long long)st->verdicts[VERDICT_RACE], (unsigned long long)race_class,
	    (unsigned long long)unsent, (unsigned long long)t->windows);
	send_line(t);
}

void trace_marker__close(struct trace_marker *t)
{
	if (!t)
		return;
	if (t->failed)
		fprintf(stderr, "racewatch: WARNING! %llu trace_marker lines not written: %s\n",
			(unsigned long long)t->failed, strerror(t->first_errno));
	close(t->fd);
	/* EBUSY while a reader (trace-cmd record) still holds its files. */
	if (t->made && !t->keep && rmdir(t->dir))
		fprintf(stderr, "racewatch: could not remove trace instance %s: %s\n", t->dir,
			strerror(errno));
	free(t);
}
