/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict engine: window bookkeeping per operation and inode, fed with
 * decoded records, judging every candidate insert once its operation ends.
 * Pure userspace logic (no BPF, no clock): unit tests drive it with record
 * sequences. The rules are documented in README.md, "Verdicts".
 */
#ifndef RACEWATCH_ENGINE_H
#define RACEWATCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include "events.h"

enum rw_verdict {
	/* Race-class: printed by default, because each may be a race
	 * (verdict__race_class(), README "Verdicts"). */
	VERDICT_RACE,		/* stale-page window */
	VERDICT_UNCHECKED,	/* the page's fate at the operation's end is unknown */
	VERDICT_UNMODELLED,	/* a filesystem whose locking racewatch does not model */
	VERDICT_STRADDLING,	/* a large folio reaching outside the dropped range,
				 * inserted before the drop ended */
	VERDICT_LOST,		/* records about its operation or inode were lost */
	VERDICT_UNTRACKED,	/* its deletion could not be watched (candidates map full) */
	VERDICT_UNFINISHED,	/* the operation was still running when racewatch stopped */
	VERDICT_NO_RETURN,	/* the operation's return was never seen */
	VERDICT_EXPIRED,	/* the operation was given up after --max-op-age */
	/* Not races. */
	VERDICT_REJECTED,	/* the kernel refused the operation before the page cache */
	VERDICT_TRANSIENT,	/* removed again by the same operation */
	VERDICT_EVICTED,	/* removed by another task before the operation ended */
	VERDICT_SELF,		/* inserted by the invalidating task itself */
	VERDICT_LATE,		/* after the operation's last block free or return */
	VERDICT_UNLOCKED,	/* outside the invalidator's exclusive invalidate_lock */
	VERDICT_HOLE,		/* its read found no block: ext4 zero-filled it */
	VERDICT_MAX,
};

enum rw_phase {
	PHASE_DROPPING,		/* the invalidation was still running */
	PHASE_DROPPED,		/* pages dropped, no block freed yet */
	PHASE_BEFORE_FREE,	/* derived window (tracepoint mode), before any free */
	PHASE_FREEING,		/* between the first and the last block free */
	PHASE_UNFREED,		/* the operation freed no blocks */
	PHASE_AFTER_FREE,	/* after the last block free */
	PHASE_MAX,
};

/* What racewatch saw of a candidate page when its operation returned. */
enum rw_page_evidence {
	PAGE_UNCHECKED = 0,	/* no PAGE record: slot reused, map full, lost */
	PAGE_GONE,		/* no longer in the mapping at that index */
	PAGE_FROM_DISK,		/* PG_mappedtodisk: its read used disk blocks */
	PAGE_ZERO_FILLED,	/* flag clear on a filesystem that sets it */
	PAGE_UNKNOWN,		/* flag clear, but this filesystem never sets it */
	PAGE_EVIDENCE_MAX,
};

/* Everything a report needs about one judged insert. */
struct rw_window {
	enum rw_verdict verdict;
	enum rw_phase phase;
	const struct rw_insert *insert;
	const struct rw_op_begin *op;
	const struct rw_inval_begin *inval;	/* the drop that covered the page */
	__u64 inval_end_ts;	/* 0: it had not returned */
	bool op_ended;
	__u64 op_end_ts;
	__s64 op_ret;
	__u32 op_flags;		/* RW_OP_END_* */
	__u32 op_lost;		/* records BPF could not send (rw_op_end.lost) */
	bool op_expired;
	__u64 nfree;
	__u64 first_free_ts;
	__u64 last_free_ts;
	__u64 freed_blocks;
	bool deleted;
	__u64 delete_ts;
	__u32 delete_tid;
	enum rw_page_evidence page;
};

struct inode_stats {
	struct rw_inode_key key;
	char fstype[RW_FSTYPE_LEN];
	__u64 ops;		/* fallocate/truncate operations that opened a window */
	__u64 ops_ok;		/* ... and returned 0 */
	__u64 bare_invals;	/* invalidations with no operation around them */
	__u64 invalidations;	/* INVAL_BEGIN records */
	__u64 inserts;		/* candidate inserts */
	__u64 verdicts[VERDICT_MAX];
};

struct engine_stats {
	__u64 records[RW_REC_MAX];
	__u64 orphans;		/* records of an operation never seen to begin */
	__u64 unattributed;	/* candidate inserts in no known window */
	__u64 verdicts[VERDICT_MAX];
	/* Operations whose picture is incomplete (README "Lost data"). */
	__u64 ops_incomplete;	/* BPF could not send some of their records */
	__u64 ops_unwatched;	/* no window could be opened for them */
	__u64 ops_no_return;	/* their return never fired */
	__u64 ops_expired;	/* open longer than max_op_age_ns: given up */
	__u64 ops_open;		/* still open at engine__flush() (exit), or
				 * their OP_END was lost */
	__u64 ops_dropped;	/* engine full (ENGINE_MAX_OPS): not tracked */
	__u64 cands_dropped;	/* over ENGINE_MAX_CANDS in one operation */
};

/* Bounds on the engine's memory whatever the kernel sends. */
#define ENGINE_MAX_OPS		16384
#define ENGINE_MAX_CANDS	65536	/* per operation */
#define ENGINE_MAX_INVALS	1024	/* per operation */

typedef void (*engine_window_fn)(const struct rw_window *w, void *ctx);
/* A surviving candidate is judged: BPF may stop tracking its page. */
typedef void (*engine_forget_fn)(const struct rw_inode_key *key, __u64 index, void *ctx);
/* An operation expired: BPF may still hold its state (a missed return). */
typedef void (*engine_expire_fn)(const struct rw_op_begin *op, void *ctx);

struct engine_opts {
	engine_window_fn on_window;
	engine_forget_fn on_forget;	/* may be NULL */
	engine_expire_fn on_expire;	/* may be NULL */
	void *ctx;
	/* An operation still open this long after it began is judged as it
	 * stands (expired) and forgotten; 0: never. */
	__u64 max_op_age_ns;
	/* How long after an operation's end to wait for records from other
	 * CPUs with earlier timestamps before judging it. */
	__u64 grace_ns;
	/* log2(PAGE_SIZE): PG_mappedtodisk speaks for a whole page only when
	 * one block fills it. */
	unsigned int page_shift;
};

struct engine;

struct engine *engine__new(const struct engine_opts *opts);
void engine__free(struct engine *e);
void engine__feed(struct engine *e, const union rw_record *rec);
/* Judge every operation that ended before now - grace, and expire those
 * open longer than max_op_age_ns. */
void engine__tick(struct engine *e, __u64 now);
/* Judge everything, finished or not (at exit). */
void engine__flush(struct engine *e);

const struct engine_stats *engine__stats(const struct engine *e);
const struct inode_stats *engine__inodes(const struct engine *e, size_t *n);

const char *engine__verdict_name(enum rw_verdict v);
const char *engine__evidence_name(enum rw_page_evidence e);
const char *engine__phase_name(enum rw_phase p);

#endif /* RACEWATCH_ENGINE_H */
