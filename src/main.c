// SPDX-License-Identifier: GPL-2.0
/*
 * racewatch: lifecycle. Parse, check privileges and BTF, plan, open,
 * configure, load, attach, poll, summarise.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "racewatch.skel.h"
#include "attach.h"
#include "cli.h"
#include "command.h"
#include "engine.h"
#include "errname.h"
#include "escape.h"
#include "events.h"
#include "expire.h"
#include "kmsg.h"
#include "ksyms.h"
#include "losses.h"
#include "modbtf.h"
#include "probe.h"
#include "rates.h"
#include "report.h"
#include "testtag.h"
#include "metrics.h"
#include "perfetto.h"
#include "tracemarker.h"
#include "version.h"

/* Records from other CPUs can trail an operation's end by microseconds;
 * judge an operation only this long after it ended. */
#define GRACE_NS	(50 * 1000 * 1000ULL)
#define POLL_MS		100
#define MS		(1000 * 1000ULL)
#define NS_PER_S	(1000 * MS)
/*
 * libbpf 1.1's ring_buffer__poll() and __consume() return only once the
 * ring is empty, and under load BPF refills it as fast as it is read: a
 * callback hands control back after this long, so that the loop ticks,
 * warns and sees a signal whatever the load. Short: operations wait this
 * plus the grace to be judged, and at fio's 98,000 punches a second on
 * btrfs a 100 ms slice kept more than ENGINE_MAX_OPS of them waiting.
 */
#define SLICE_NS	(25 * MS)
/* The clock is read once per this many records. */
#define CHECK_EVERY	64
/*
 * After the first signal: records already in the ring buffer are judged
 * for this long from when the drain starts, then the rest is only counted,
 * for this long. From the drain, not the signal: the loop reaches it a
 * slice and a tick after the signal, and under TCG that tick (judging and
 * printing with -v) took the whole of a 250 ms budget counted from the
 * signal: 68 records of a 6.1 guest left unjudged, its test failed on the
 * warning. The ring buffer holds a bounded backlog from before the stop,
 * and a record from after it ends the drain, so the budget is only reached
 * by a consumer slower than that backlog.
 */
#define DRAIN_NS	(750 * MS)
#define COUNT_NS	(50 * MS)
/* A callback's way to stop libbpf's loop; never an error of libbpf's. */
#define STOP		(-ECANCELED)

static volatile sig_atomic_t exiting;
static volatile __u64 signal_ns;	/* when the first signal came */
static volatile sig_atomic_t forwarded;	/* a signal went to the command */
static volatile sig_atomic_t child_exited;	/* SIGCHLD came */
static bool libbpf_debug;

struct session {
	struct rw_config cfg;
	struct racewatch_bpf *skel;
	struct engine *engine;
	struct report *report;
	FILE *out;		/* stdout, or -o FILE */
	struct trace_marker *marker;	/* --trace-marker; NULL: none */
	struct metrics *metrics;	/* --metrics; NULL: none */
	struct perfetto *perfetto;	/* --perfetto; NULL: none */
	const struct plan *plan;	/* as attached, for --metrics */
	__u64 metrics_due;		/* next rewrite, CLOCK_MONOTONIC ns */
	struct command cmd;	/* -- CMD: while it runs, pid != 0 */
	bool raced;		/* a window was judged race */
	struct kmsg kmsg;	/* fd -1: not following it */
	struct testtag *tests;	/* per-test attribution from kmsg */
	struct ksyms *ksyms;
	__u64 malformed;
	__u64 released;		/* expired operations whose BPF state we dropped */
	struct loss_watch losses;
	struct ext4_mmap_layout ext4_layout;	/* --btf-dir; 0s: not given */
	__u64 last_warn;
	struct rates rates;
	int write_errno;		/* first failed write to stdout */
	/* The ring buffer callback's state. */
	__u64 slice_end;	/* hand control back to the loop after this */
	unsigned int nrec;	/* records since the clock was last read */
	__u64 newest_ts;	/* newest record fed to the engine */
	bool sliced;		/* the last poll stopped before the ring was empty */
	/* Stopping. */
	bool stopped;
	__u64 stop_ns;		/* records stamped later came after the stop */
	__u64 bpf_at_stop[RW_CNT_MAX];	/* BPF's counters then: what it lost
					 * after that was not part of the run */
	bool counting;		/* the drain is over: count, do not judge */
	bool caught_up;		/* met a record from after the stop */
	__u64 unjudged;
};

/* libbpf's warnings always reach stderr; its debug output only with -vv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !libbpf_debug)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/*
 * The first SIGINT/SIGTERM stops the poll loop and lets the summary print.
 * A second one means "now": die by that signal, so the shell sees 128+sig
 * and a script running us stops too. Closing our fds on death is what
 * detaches every link and frees every program and map. While a wrapped
 * command runs, the first goes to its process group instead, and its exit
 * stops the loop: it cleans up under watch. A second one goes there too,
 * then kills us as before.
 */
static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void on_signal(int sig)
{
	bool sent = command__forward(sig);

	if (exiting || (sent && forwarded)) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	if (sent) {
		forwarded = 1;
		return;
	}
	/* clock_gettime() is async-signal-safe: the drain's budget runs from
	 * the signal, not from when the loop noticed it. */
	signal_ns = mono_ns();
	exiting = 1;
}

static void on_sigchld(int sig)
{
	(void)sig;
	child_exited = 1;
}

static __s64 realtime_offset(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return (real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

/* CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON (5.8+), in the effective set. */
static bool privileged(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	const int cap_perfmon = 38, cap_bpf = 39;

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	if (data[0].effective & (1U << CAP_SYS_ADMIN))
		return true;
	return (data[1].effective & (1U << (cap_perfmon - 32))) &&
	       (data[1].effective & (1U << (cap_bpf - 32)));
}

/* Time to hand control back to the loop? Cheap: the clock is read once
 * per CHECK_EVERY records. */
static bool slice_over(struct session *s)
{
	if (exiting && !s->stopped)
		return true;
	if (++s->nrec % CHECK_EVERY)
		return false;
	return mono_ns() >= s->slice_end;
}

/* Stopping, past the drain: only count what is left from before the stop. */
static int count_record(struct session *s, const void *data, size_t size)
{
	struct rw_hdr hdr;

	if (size >= sizeof(hdr)) {
		memcpy(&hdr, data, sizeof(hdr));
		if (hdr.ts > s->stop_ns) {
			s->caught_up = true;
			return STOP;
		}
	}
	s->unjudged++;
	return slice_over(s) ? STOP : 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	union rw_record rec;

	if (s->counting)
		return count_record(s, data, size);
	if (events__decode(data, size, &rec)) {
		s->malformed++;
	} else if (s->stopped && rec.hdr.ts > s->stop_ns) {
		/* Everything from before the stop is in: the rest is not
		 * part of the run. */
		s->caught_up = true;
		return STOP;
	} else {
		perfetto__record(s->perfetto, &rec);
		engine__feed(s->engine, &rec);
		if (rec.hdr.ts > s->newest_ts)
			s->newest_ts = rec.hdr.ts;
	}
	if (slice_over(s)) {
		s->sliced = true;
		return STOP;
	}
	return 0;
}

static void on_window(const struct rw_window *w, void *ctx)
{
	struct session *s = ctx;

	report__window(s->report, w);
	metrics__window(s->metrics, w);
	/* The other sinks show the windows stdout shows, with their test. */
	if ((s->marker || s->perfetto) && report__wanted(s->report, w)) {
		const struct test_row *t = s->tests ? testtag__at(s->tests, w->op->hdr.ts) : NULL;

		trace_marker__window(s->marker, w, t ? t->name : NULL);
		perfetto__window(s->perfetto, w, t ? t->name : NULL);
	}
	/* report__window() ends with fflush(): errno is its write's. Stop the
	 * poll loop; nobody reads what we would print. */
	if (ferror(s->out) && !s->write_errno) {
		s->write_errno = errno ? errno : EIO;
		exiting = 1;
	}
}

/*
 * stdout's fate, once the last record is out. A reader that went away
 * (racewatch | head) is not an error to report: say nothing, and the
 * caller dies by SIGPIPE after detaching. Anything else (ENOSPC, EIO) is.
 */
static int output_status(struct session *s, int err)
{
	if ((fflush(s->out) || ferror(s->out)) && !s->write_errno)
		s->write_errno = errno ? errno : EIO;
	if (!s->write_errno)
		return err;
	if (s->write_errno == EPIPE)
		return RW_EXIT_BROKEN_PIPE;
	fprintf(stderr, "racewatch: failed to write output: %s\n", strerror(s->write_errno));
	return RW_EXIT_FAILURE;
}

/* -o FILE, or stdout. Close-on-exec: a wrapped command must not hold it. */
static FILE *open_output(const char *path)
{
	FILE *f;
	char *esc;

	if (!path)
		return stdout;
	f = fopen(path, "we");
	if (f)
		return f;
	esc = malloc(ESCAPE_TEXT_SIZE(strlen(path)));
	if (esc)
		escape__text(esc, ESCAPE_TEXT_SIZE(strlen(path)), path, SIZE_MAX);
	fprintf(stderr, "racewatch: cannot create --output '%s': %s\n", esc ? esc : "?",
		strerror(errno));
	free(esc);
	return NULL;
}

/* An -o FILE is closed last; a failure to write it is the run's failure. */
static int close_output(struct session *s, int err)
{
	if (!s->out || s->out == stdout)
		return err;
	if (fclose(s->out) && !err) {
		fprintf(stderr, "racewatch: failed to write output: %s\n", strerror(errno));
		err = RW_EXIT_FAILURE;
	}
	s->out = NULL;
	return err;
}

static void on_kmsg_line(__u64 ts, const char *text, size_t len, void *ctx)
{
	testtag__line(ctx, ts, text, len);
}

/* Before anything is judged: every test begun by now is known. */
static void read_kmsg(struct session *s)
{
	if (s->tests)
		kmsg__drain(&s->kmsg, on_kmsg_line, s->tests);
}

static void on_op(const struct rw_op_begin *op, __u64 candidates, __u64 races, void *ctx)
{
	struct session *s = ctx;

	if (s->tests)
		testtag__count(s->tests, op->hdr.ts, candidates, races);
	metrics__op(s->metrics, op);
}

/*
 * /dev/kmsg from its end, for the tests a harness announces there. Opened
 * before a wrapped command starts, so that its first test is seen. Said on
 * stderr when it cannot be followed: windows then carry no test.
 */
static void follow_kmsg(struct session *s)
{
	char why[256];
	int err;

	s->kmsg.fd = -1;
	s->tests = testtag__new(s->cfg.kmsg_tag, why, sizeof(why));
	if (!s->tests) {
		fprintf(stderr, "racewatch: not following /dev/kmsg: %s\n", why);
		return;
	}
	err = kmsg__open(&s->kmsg, "/dev/kmsg");
	if (err) {
		fprintf(stderr, "racewatch: not following /dev/kmsg (%s): windows carry no "
			"test name\n", strerror(-err));
		testtag__free(s->tests);
		s->tests = NULL;
	}
}

static void on_forget(const struct rw_inode_key *key, __u64 index, void *ctx)
{
	struct session *s = ctx;
	struct rw_cand_key ck = { .key = *key, .index = index };

	bpf_map__delete_elem(s->skel->maps.candidates, &ck, sizeof(ck), 0);
}

static int fetch_stack(__s32 id, __u64 *ips, int max, void *ctx)
{
	struct session *s = ctx;
	__u64 stack[127] = {};

	if (bpf_map__lookup_elem(s->skel->maps.stacks, &id, sizeof(id), stack,
				 sizeof(stack), 0))
		return 0;
	if (max > 127)
		max = 127;
	memcpy(ips, stack, max * sizeof(*ips));
	return max;
}

static void on_expire(const struct rw_op_begin *op, void *ctx)
{
	struct session *s = ctx;

	if (expire__release(s->skel, op))
		s->released++;
}

/*
 * A filter that matched nothing is said at exit: a --dev or --path that
 * names the wrong device (a btrfs subvolume's, before it was mapped to its
 * superblock) watches nothing, silently, and an empty summary looks just
 * like a quiet system. BPF sends records, and counts what it skips or
 * clears, only about filtered-in inodes.
 */
static void warn_filter_unmatched(const struct session *s)
{
	const struct engine_stats *st = engine__stats(s->engine);
	char what[512];
	__u64 n = 0;

	cli__describe_filter(&s->cfg, what, sizeof(what));
	if (!what[0])
		return;
	for (int r = 0; r < RW_REC_MAX; r++)
		n += st->records[r];
	/* What BPF matched and counted without sending still matched. */
	n += s->skel->bss->ops_skipped + s->skel->bss->inserts_cleared;
	if (!n)
		fprintf(stderr, "racewatch: %s matched no operation or insert\n", what);
}

/* BPF's loss counters: live while watching, frozen at the stop. */
static void bpf_counters(struct session *s, __u64 counters[RW_CNT_MAX])
{
	if (s->stopped)
		memcpy(counters, s->bpf_at_stop, sizeof(s->bpf_at_stop));
	else
		memcpy(counters, s->skel->bss->counters, sizeof(s->bpf_at_stop));
}

/* What BPF and this process lost or skipped, for the summary and --metrics. */
static void collect_losses(struct session *s, struct report_losses *losses)
{
	bpf_counters(s, losses->counters);
	memcpy(losses->sent, s->skel->bss->sent, sizeof(losses->sent));
	memcpy(losses->unsent, s->skel->bss->unsent, sizeof(losses->unsent));
	losses->skipped = s->skel->bss->ops_skipped;
	losses->cleared = s->skel->bss->inserts_cleared;
	memcpy(losses->hook_hits, s->skel->bss->hook_hits, sizeof(losses->hook_hits));
	losses->hooks_counted = s->cfg.count_hooks;
	losses->malformed = s->malformed;
	losses->released = s->released;
	losses->unjudged = s->unjudged;
	memcpy(losses->peak_per_s, s->rates.peak, sizeof(losses->peak_per_s));
}

/* --metrics: rewritten every --interval while racewatch watches. */
static void write_metrics_due(struct session *s, __u64 now)
{
	struct report_losses losses = {};

	if (!s->metrics || now < s->metrics_due)
		return;
	collect_losses(s, &losses);
	metrics__write(s->metrics, s->engine, &losses, s->plan, true);
	s->metrics_due = now + s->cfg.metrics_interval_s * NS_PER_S;
}

/* Every loss is reported as it happens, at most once a second. */
static void warn_losses(struct session *s)
{
	__u64 counters[RW_CNT_MAX];

	bpf_counters(s, counters);
	losses__warn(&s->losses, counters, engine__stats(s->engine), stderr);
}

static void warn_losses_due(struct session *s, __u64 now)
{
	if (now - s->last_warn > NS_PER_S) {
		warn_losses(s);
		s->last_warn = now;
	}
}

/* -v: what arrives, once a second; the peaks go to the summary either way. */
static void sample_rates(struct session *s, __u64 now)
{
	__u64 per_s[RW_REC_MAX];
	char line[256];

	if (!rates__sample(&s->rates, engine__stats(s->engine)->records, now, per_s))
		return;
	if (s->cfg.verbose > 0 && rates__format(per_s, line, sizeof(line)))
		fprintf(stderr, "racewatch: records/s: %s\n", line);
}

/*
 * --btf-dir: where ext4's i_mmap_sem sits, for a pre-5.15 kernel whose own
 * BTF cannot say (no module BTF). Said on stderr either way; a file that
 * does not fit this kernel is bad input.
 */
static int ext4_layout_for_kernel(const struct probe_ctx *probe,
				  const struct plan_probes *probes, const char *dir,
				  struct ext4_mmap_layout *out)
{
	char why[PATH_MAX + 160];

	if (!dir)
		return RW_EXIT_OK;
	if (modbtf__has_member(probe->vmlinux, "address_space", "invalidate_lock")) {
		fprintf(stderr, "racewatch: --btf-dir not used: ext4 here takes invalidate_lock "
			"(5.15 and later), which vmlinux BTF places\n");
		return RW_EXIT_OK;
	}
	/* What CO-RE relocates i_mmap_sem by (compat.bpf.h, read_locks()). */
	if (probes->btf_struct_exists(probes->ctx, "ext4_inode_info")) {
		fprintf(stderr, "racewatch: --btf-dir not used: the kernel has ext4 BTF of its own\n");
		return RW_EXIT_OK;
	}
	if (modbtf__ext4_mmap_sem(dir, probe->vmlinux, out, why, sizeof(why))) {
		fprintf(stderr, "racewatch: --btf-dir: %s\n", why);
		return RW_EXIT_USAGE;
	}
	fprintf(stderr, "racewatch: ext4 i_mmap_sem: read at offset %u of ext4_inode_info "
		"(vfs_inode at %u), from %s/ext4.btf\n", out->sem_off, out->inode_off, dir);
	return RW_EXIT_OK;
}

static int plan_for_kernel(const struct rw_config *cfg, struct plan *plan,
			   struct ext4_mmap_layout *layout)
{
	struct plan_probes probes;
	struct probe_ctx probe;
	char tried[1024];
	int err, missing;

	err = probe__init(&probe);
	if (err) {
		fprintf(stderr, "racewatch: failed to load kernel BTF (%s): kernel has no BTF; "
			"needs CONFIG_DEBUG_INFO_BTF=y and /sys/kernel/btf/vmlinux\n",
			err == -ESRCH ? "none found" : strerror(-err));
		return RW_EXIT_UNAVAILABLE;
	}
	probe__fill(&probe, &probes);
	plan__select(plan, cfg->attach, &probes);
	err = ext4_layout_for_kernel(&probe, &probes, cfg->btf_dir, layout);
	probe__fini(&probe);
	if (err)
		return err;

	missing = plan__missing_required(plan);
	if (missing < 0)
		return RW_EXIT_OK;
	plan__format_tried(&plan->roles[missing], tried, sizeof(tried));
	fprintf(stderr, "racewatch: failed to find a hook for %s (--attach %s): tried %s\n",
		plan__role_name(missing), plan__mech_name(cfg->attach), tried);
	return RW_EXIT_UNAVAILABLE;
}

/* Reduced coverage is said once at start, and again in the summary's plan. */
static void warn_uncovered(const struct plan *plan)
{
	for (int i = 0; i < ROLE_MAX; i++) {
		const struct plan_role *r = &plan->roles[i];

		if (r->served || r->required || !r->ntried)
			continue;
		fprintf(stderr, "racewatch: warning: running without %s: %s %s: %s\n",
			plan__role_name(i), plan__mech_name(r->tried[r->ntried - 1].mech),
			r->tried[r->ntried - 1].symbol, r->tried[r->ntried - 1].reason);
	}
}

static int open_and_load(struct session *s, const struct plan *plan)
{
	int err;

	s->skel = racewatch_bpf__open();
	if (!s->skel) {
		fprintf(stderr, "racewatch: failed to open BPF object: %s\n", strerror(errno));
		return RW_EXIT_FAILURE;
	}
	err = attach__configure(s->skel, plan, &s->cfg);
	if (err)
		return RW_EXIT_FAILURE;
	s->skel->rodata->ext4_mmap_sem_off = s->ext4_layout.sem_off;
	s->skel->rodata->ext4_vfs_inode_off = s->ext4_layout.inode_off;
	err = racewatch_bpf__load(s->skel);
	if (err == -EPERM || err == -EACCES) {
		fprintf(stderr, "racewatch: failed to load BPF programs: %s; run as root or "
			"with CAP_BPF+CAP_PERFMON (lockdown may also forbid it)\n", strerror(-err));
		return RW_EXIT_NOPERM;
	}
	if (err) {
		char why[64];

		fprintf(stderr, "racewatch: failed to load BPF programs: %s (run with -vv for "
			"the verifier log)\n", errname__describe(-err, why, sizeof(why)));
		return RW_EXIT_FAILURE;
	}
	return RW_EXIT_OK;
}

static int poll_loop(struct session *s, struct ring_buffer *rb)
{
	__u64 deadline = s->cfg.duration_s ? mono_ns() + s->cfg.duration_s * NS_PER_S : 0;

	rates__start(&s->rates, engine__stats(s->engine)->records, mono_ns());
	while (!exiting) {
		__u64 before = mono_ns(), horizon;
		int err;

		struct pollfd fds[2] = {
			{ .fd = ring_buffer__epoll_fd(rb), .events = POLLIN },
			{ .fd = s->tests ? s->kmsg.fd : -1, .events = POLLIN },
		};

		s->slice_end = before + SLICE_NS;
		s->sliced = false;
		/* The ring buffer's epoll fd, and kmsg, read as soon as it has a
		 * line (its clock is estimated from how late that is: kmsg.h).
		 * BPF wakes us only once an eighth of the buffer is used
		 * (submit_record()), and a poll that timed out read nothing:
		 * read what is there either way. */
		err = poll(fds, 2, POLL_MS) < 0 ? -errno : 0;
		read_kmsg(s);
		if (err >= 0 && !exiting)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR && err != STOP) {
			fprintf(stderr, "racewatch: failed to poll ring buffer: %s\n", strerror(-err));
			return RW_EXIT_FAILURE;
		}
		/*
		 * An empty ring means that everything reserved before `before`
		 * is in. A poll cut short by its slice left newer records
		 * behind, and maybe some older ones: judge only up to the
		 * newest fed, less the grace that covers the other CPUs.
		 */
		horizon = s->sliced && s->newest_ts < before ? s->newest_ts : before;
		read_kmsg(s);
		if (horizon > GRACE_NS)
			engine__tick(s->engine, horizon - GRACE_NS);
		warn_losses_due(s, before);
		sample_rates(s, before);
		write_metrics_due(s, before);
		if (deadline && before >= deadline)
			break;
		/* The wrapped command's end is the run's. */
		if (child_exited && command__reap(&s->cmd, false)) {
			signal_ns = mono_ns();
			break;
		}
	}
	return RW_EXIT_OK;
}

/*
 * The first signal (or the end of --duration, or a write error): feed the
 * engine what the ring buffer already holds, up to DRAIN_NS after the
 * signal, then only count what is left from before the stop, so that the
 * summary says how much went unjudged. Records stamped after the stop are
 * not part of the run. Loss warnings go on meanwhile.
 */
static void drain(struct session *s, struct ring_buffer *rb)
{
	__u64 now = mono_ns(), deadline;
	int err = 0;

	s->stop_ns = signal_ns && signal_ns <= now ? signal_ns : now;
	memcpy(s->bpf_at_stop, s->skel->bss->counters, sizeof(s->bpf_at_stop));
	s->stopped = true;
	deadline = now + DRAIN_NS;
	while (!s->caught_up && (now = mono_ns()) < deadline) {
		s->slice_end = now + SLICE_NS < deadline ? now + SLICE_NS : deadline;
		err = ring_buffer__consume(rb);
		if (err >= 0)
			return;		/* empty */
		if (err != STOP)
			break;
		warn_losses_due(s, now);
	}
	if (s->caught_up || (err < 0 && err != STOP))
		return;
	s->counting = true;
	s->slice_end = mono_ns() + COUNT_NS;
	err = ring_buffer__consume(rb);
	if (err == STOP && !s->caught_up)
		fprintf(stderr, "racewatch: WARNING! more than %llu records left unjudged in the "
			"ring buffer at exit (counted for %llu ms): the summary misses what "
			"they said\n", (unsigned long long)s->unjudged, COUNT_NS / MS);
	else if (s->unjudged)
		fprintf(stderr, "racewatch: WARNING! %llu records left unjudged in the ring buffer "
			"at exit: the summary misses what they said\n",
			(unsigned long long)s->unjudged);
}

static int run(struct session *s, struct plan *plan)
{
	struct report_opts ropts = {
		.json = s->cfg.json,
		.verbose = s->cfg.verbose > 0,
		.stacks = s->cfg.stacks,
		.raw_addresses = s->cfg.raw_addresses,
		.pid = s->cfg.pid,
		.realtime_offset = realtime_offset(),
		.stack_fn = fetch_stack,
		.stack_ctx = s,
	};
	struct engine_opts eopts = {
		.on_window = on_window,
		.on_op = on_op,
		.on_forget = on_forget,
		.on_expire = on_expire,
		.ctx = s,
		.max_op_age_ns = s->cfg.max_op_age_s * 1000000000ULL,
		.grace_ns = GRACE_NS,
		.page_shift = s->skel->rodata->page_shift,	/* set by attach__configure() */
		.read_maps = (plan->roles[ROLE_READMAP_EXT4].served ? READ_MAPS_EXT4 : 0) |
			     (plan->roles[ROLE_READMAP_BTRFS].served ? READ_MAPS_BTRFS : 0),
	};
	struct attach_links links = {};
	struct report_losses losses = {};
	struct ring_buffer *rb = NULL;
	__u64 start;
	int err;

	if (s->cfg.stacks) {
		s->ksyms = ksyms__load("/proc/kallsyms");
		if (!s->ksyms)
			fprintf(stderr, "racewatch: failed to read /proc/kallsyms: %s; "
				"stack frames will not be symbolized\n", strerror(errno));
	}
	ropts.ksyms = s->ksyms;
	s->engine = engine__new(&eopts);
	if (!s->engine) {
		fprintf(stderr, "racewatch: failed to allocate state: %s\n", strerror(ENOMEM));
		err = RW_EXIT_FAILURE;
		goto cleanup;
	}
	err = attach__links(s->skel, plan, &links);
	if (err) {
		err = err == -EPERM ? RW_EXIT_NOPERM : RW_EXIT_UNAVAILABLE;
		goto cleanup;
	}
	rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_record, s, NULL);
	if (!rb) {
		fprintf(stderr, "racewatch: failed to create ring buffer: %s\n", strerror(errno));
		err = RW_EXIT_FAILURE;
		goto cleanup;
	}
	start = mono_ns();
	follow_kmsg(s);
	ropts.tests = s->tests;
	s->report = report__new(s->out, &ropts);
	if (!s->report) {
		fprintf(stderr, "racewatch: failed to allocate state: %s\n", strerror(ENOMEM));
		err = RW_EXIT_FAILURE;
		goto cleanup;
	}
	if (s->cfg.command) {
		/* Every hook is attached: nothing the command does goes unseen. */
		err = command__start(&s->cmd, s->cfg.command);
		if (err) {
			fprintf(stderr, "racewatch: failed to start the command: %s\n", strerror(-err));
			err = RW_EXIT_FAILURE;
			goto cleanup;
		}
		fprintf(stderr, "racewatch: watching with %d hooks (attach %s); running the "
			"command as pid %d, stopping when it exits\n",
			links.nr, plan__mech_name(plan->roles[ROLE_INSERT].mech), (int)s->cmd.pid);
	} else {
		fprintf(stderr, "racewatch: watching with %d hooks (attach %s); Ctrl-C to stop\n",
			links.nr, plan__mech_name(plan->roles[ROLE_INSERT].mech));
	}
	s->plan = plan;
	err = poll_loop(s, rb);
	drain(s, rb);

	read_kmsg(s);
	engine__flush(s->engine);
	collect_losses(s, &losses);
	report__tests(s->report, s->cfg.kmsg_tag);
	report__summary(s->report, s->engine, &losses, plan, (mono_ns() - start) / 1e9);
	trace_marker__summary(s->marker, s->engine, &losses, (mono_ns() - start) / 1e9);
	metrics__write(s->metrics, s->engine, &losses, plan, false);
	if (perfetto__close(s->perfetto, mono_ns()) && !err)
		err = RW_EXIT_FAILURE;
	s->perfetto = NULL;
	warn_losses(s);
	s->raced = engine__stats(s->engine)->verdicts[VERDICT_RACE] != 0;
	err = output_status(s, err);
	/* Not after a closed pipe: that ending is silent (README "Exit codes"). */
	if (err != RW_EXIT_BROKEN_PIPE)
		warn_filter_unmatched(s);
cleanup:
	kmsg__close(&s->kmsg);
	ring_buffer__free(rb);
	attach__destroy(&links);
	return err;
}

int main(int argc, char **argv)
{
	/* SA_RESTART: a signal must not fail a write blocked on a slow reader
	 * (EINTR would read as an output error); ring_buffer__poll()'s
	 * epoll_wait() returns EINTR regardless (signal(7)). */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct session s = { .kmsg.fd = -1 };
	struct plan plan;
	int err;

	err = cli__parse(argc, argv, &s.cfg);
	if (err)
		return err;
	if (s.cfg.version)
		return version__print(stdout, privileged());
	/*
	 * First Ctrl-C: stop and summarise; the second kills (on_signal()).
	 * Before anything slow: probing and loading take seconds on a busy or
	 * emulated machine, and a job started with & by a non-interactive
	 * shell inherits SIGINT ignored, so a signal sent in that time was
	 * lost and racewatch ran on. Now it stops once attached, at once.
	 */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	libbpf_debug = s.cfg.verbose > 1;
	libbpf_set_print(libbpf_print);
	/* Write errors, EPIPE included, come back as ferror(stdout), so that a
	 * closed pipe detaches cleanly instead of killing us mid-write. */
	signal(SIGPIPE, SIG_IGN);

	if (!privileged()) {
		fprintf(stderr, "racewatch: failed to get privileges: permission denied; "
			"run as root or with CAP_BPF+CAP_PERFMON\n");
		return RW_EXIT_NOPERM;
	}
	err = plan_for_kernel(&s.cfg, &plan, &s.ext4_layout);
	if (err)
		return err;
	s.out = open_output(s.cfg.output);
	if (!s.out)
		return RW_EXIT_USAGE;
	if (s.cfg.dry_run) {
		plan__print(&plan, s.out, s.cfg.verbose > 0);
		err = output_status(&s, RW_EXIT_OK);
		goto out;
	}

	if (s.cfg.metrics) {
		s.metrics = metrics__new(s.cfg.metrics);
		if (!s.metrics) {
			err = RW_EXIT_USAGE;
			goto out;
		}
	}
	if (s.cfg.perfetto) {
		s.perfetto = perfetto__open(s.cfg.perfetto);
		if (!s.perfetto) {
			err = RW_EXIT_USAGE;
			goto out;
		}
	}
	if (s.cfg.trace_marker) {
		s.marker = trace_marker__open(s.cfg.trace_instance, s.cfg.keep_instance, &err);
		if (!s.marker)
			goto out;
	}
	warn_uncovered(&plan);
	if (s.cfg.command)
		sigaction(SIGCHLD, &(struct sigaction){ .sa_handler = on_sigchld,
							.sa_flags = SA_RESTART | SA_NOCLDSTOP }, NULL);

	err = open_and_load(&s, &plan);
	if (!err)
		err = run(&s, &plan);
	/* Stopped by a failure of ours (a write error) while it runs: it is
	 * not ours to kill; its status is still the run's. */
	if (s.cmd.pid && !command__reap(&s.cmd, false)) {
		fprintf(stderr, "racewatch: stopped watching; waiting for the command (pid %d) "
			"to exit\n", (int)s.cmd.pid);
		command__reap(&s.cmd, true);
	}
	err = command__exit_status(err, s.cfg.fail_on_race && s.raced, s.cmd.status);

	report__free(s.report);
	testtag__free(s.tests);
	engine__free(s.engine);
	ksyms__free(s.ksyms);
	racewatch_bpf__destroy(s.skel);
out:
	perfetto__close(s.perfetto, mono_ns());
	trace_marker__close(s.marker);
	metrics__free(s.metrics);
	err = close_output(&s, err);
	/* Detached by now: die the way a filter on a closed pipe dies. */
	if (err == RW_EXIT_BROKEN_PIPE) {
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	return err;
}
