// SPDX-License-Identifier: GPL-2.0
#include "losses.h"

/* What each BPF counter means to the user, and the way out. */
static const char *const bpf_what[RW_CNT_MAX] = {
	[RW_CNT_RINGBUF_FULL]	 = "records lost (ring buffer full): the affected operations' "
				   "windows are judged lost; grow it with --ringbuf-size",
	[RW_CNT_OPS_FULL]	 = "operations untracked (ops/invals map full)",
	[RW_CNT_WINDOWS_FULL]	 = "windows not opened (inode_windows map full): their operations "
				   "are reported unwatched",
	[RW_CNT_CANDIDATES_FULL] = "candidate pages untracked (candidates map full): judged untracked",
	[RW_CNT_STASH_FULL]	 = "inserts unseen (kprobe insert stash full): the affected "
				   "windows are judged lost",
	[RW_CNT_STACK_FAIL]	 = "stacks not captured (stack map full or unwindable)",
	[RW_CNT_WINDOW_LOST]	 = "windows closed that were never seen open",
	[RW_CNT_SLOTS_FULL]	 = "page checks skipped (page_slots map full): judged lost",
	[RW_CNT_RETURN_MISSED]	 = "operations whose return never fired (missed kretprobe): "
				   "judged no-return",
	[RW_CNT_INSERT_RETURN_MISSED] = "inserts whose return never fired (missed kretprobe): the "
					"affected windows are judged lost",
};

static int warn_one(__u64 *seen, __u64 now, const char *what, FILE *err)
{
	if (now <= *seen)
		return 0;
	fprintf(err, "racewatch: WARNING! %llu %s\n", (unsigned long long)(now - *seen), what);
	*seen = now;
	return 1;
}

int losses__warn(struct loss_watch *w, const __u64 counters[RW_CNT_MAX],
		 const struct engine_stats *st, FILE *err)
{
	int n = 0;

	for (int c = 0; c < RW_CNT_MAX; c++)
		n += warn_one(&w->bpf[c], counters[c], bpf_what[c], err);
	n += warn_one(&w->expired, st->ops_expired,
		      "operations expired, still open after --max-op-age: judged expired", err);
	n += warn_one(&w->ops_dropped, st->ops_dropped,
		      "operations not tracked (engine full)", err);
	n += warn_one(&w->cands_dropped, st->cands_dropped,
		      "candidate inserts not kept (engine full, for one operation or in all): "
		      "judged lost", err);
	n += warn_one(&w->invals_dropped, st->invals_dropped,
		      "invalidations not kept (engine full, for one operation or in all): "
		      "judged lost", err);
	n += warn_one(&w->inodes_dropped, st->inodes_dropped,
		      "inodes without a summary row of their own (engine's inode table full): "
		      "counted in the summary's other inodes", err);
	if (n)
		fflush(err);
	return n;
}
