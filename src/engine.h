/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict engine: window bookkeeping per operation and inode, fed with
 * decoded records, judging every candidate insert once its operation ends.
 * Pure userspace logic (no BPF, no clock): unit tests drive it with record
 * sequences. The rules are documented in README.md, "Verdicts".
 *
 * Every record costs O(1) expected, whatever the number of operations and
 * candidates in flight, except that an INSERT visits the operations open
 * on its own inode (and makes a candidate in each one that covers it), and
 * a DELETE visits them too. Judging an operation is linear in its own
 * candidates. Memory is bounded (ENGINE_MAX_*, below), each bound counted.
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
	VERDICT_NO_BLOCKS,	/* tmpfs: no blocks under the page cache to go stale */
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
	PAGE_UNCHECKED = 0,	/* no PAGE record: map full, ring full, lost */
	PAGE_GONE,		/* no longer in the mapping at that index */
	PAGE_FROM_DISK,		/* PG_mappedtodisk: its read used disk blocks */
	PAGE_ZERO_FILLED,	/* flag clear on a filesystem that sets it */
	PAGE_UNKNOWN,		/* flag clear, but this filesystem never sets it */
	PAGE_READ_PENDING,	/* btrfs: its read had not mapped it yet */
	PAGE_MAPPED_DISK,	/* ext4: its read mapped disk blocks, the flag
				 * not set yet */
	PAGE_MAPPED_MOVED,	/* ext4: its read looked the extent tree up
				 * after collapse/insert range began to shift
				 * it, or it went in after the shift was seen
				 * over, and so mapped the moved extents */
	PAGE_EVIDENCE_MAX,
};

/* Filesystems whose reads the plan marks with what each one mapped (the
 * read-mapping roles; verdict__evidence()). */
enum rw_read_maps {
	READ_MAPS_EXT4	= 1 << 0,
	READ_MAPS_BTRFS	= 1 << 1,
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
	__u64 shift_ts;		/* ext4 collapse/insert: its shift began; 0: none */
	__u64 shift_over_ts;	/* the first extent-tree lookup of one of the
				 * operation's pages after shift_ts: it waited
				 * for the shift, so it was over; 0: none seen */
	bool deleted;
	__u64 delete_ts;
	__u32 delete_tid;
	/* A direct-I/O write's first invalidation: when the second one, once
	 * the write was on disk, ended, and its task; 0: none seen. */
	__u64 second_inval_end_ts;
	__u32 second_inval_tid;
	/* ... none came within the wait: the write fell back to buffered
	 * I/O, through these very pages, or failed (engine.c, "Direct I/O"). */
	bool dio_unpaired;
	enum rw_page_evidence page;
	const struct rw_page_state *page_state;	/* the PAGE record; NULL: none */
	unsigned int read_maps;	/* engine_opts.read_maps */
	unsigned int page_shift;	/* engine_opts.page_shift */
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
	__u64 cands_dropped;	/* over ENGINE_MAX_CANDS in one operation, or
				 * ENGINE_MAX_CANDS_TOTAL in all */
	__u64 invals_dropped;	/* over ENGINE_MAX_INVALS in one operation, or
				 * ENGINE_MAX_INVALS_TOTAL in all */
	__u64 inodes_dropped;	/* inodes past ENGINE_MAX_INODES, whose counts
				 * went to engine__inodes_other() */
	/* PAGE records of pages still cached, by what their inserting task's
	 * read mapping was seen to return. Where the read path sets
	 * PG_mappedtodisk, with one block per page: those with the flag set,
	 * of which how many had a disk mapping seen, and those whose read
	 * ended without the flag (zero-filled) though a disk mapping was
	 * seen. Two independent signals of one read, checked against each
	 * other (tests/vm): the last count is a wrong mark. */
	__u64 page_read_maps[RW_READ_MAP_MAX];
	__u64 pages_flagged;
	__u64 pages_flagged_mapped;
	__u64 pages_mapped_unflagged;
	/* PAGE records an insert sent itself, its window closed before its
	 * slot was written (remember_page() in bpf/pagecache.bpf.h), and how
	 * many candidates they gave evidence that no walk had sent. */
	__u64 pages_late;
	__u64 pages_late_used;
	__u64 pages_displaced;		/* sent when a later insert took the slot */
	__u64 pages_displaced_used;
	/* Direct-I/O invalidations left with cached candidates, by whether
	 * the write's second invalidation was seen (engine.c, dio_settle());
	 * of those without, the ones that had failed themselves (-EBUSY). */
	__u64 dio_second_seen;
	__u64 dio_second_missing;
	__u64 dio_buffered;
	/* Pending pages of followed reads (ext4, one block per page): their
	 * FOLLOWUP records by what the read mapped (disk, zeros); of those,
	 * how many the rule left to PG_mappedtodisk (a disk mapping from the
	 * extent tree, or after an extent shift); and pending pages whose
	 * operation was judged before any came. */
	__u64 page_followups[RW_READ_MAP_MAX];
	__u64 followups_left_to_flag;
	__u64 followups_missing;
};

/*
 * Bounds on the engine's memory whatever the kernel sends. Worst case, all
 * full at once (x86-64, glibc malloc, hash tables at their sparsest):
 *   candidates    32,768 x ~560 B: the candidate with its insert record
 *                 (304), its PAGE record (80), the page's watch (48) and
 *                 three hash slots (<= 128)                      ~17.5 MiB
 *   operations    32,768 x ~430 B: itself (288), its inode's list (32),
 *                 two hash slots (<= 86), heap and tick slots (24) ~13.4 MiB
 *   drops         32,768 x 168 B, up to twice that in array slack ~10.5 MiB
 *   inodes        16,384 x ~190 B of statistics and hash slot     ~3.0 MiB
 * `bench/engine --fill` fills them all and measures 40.9 MiB of heap in
 * use. racewatch without the engine peaks at 13-16 MiB RSS (libbpf, BTF,
 * the static binary, a 4 MiB ring buffer mapped), so the whole process
 * stays under 58 MiB. README "Lost data" has the same numbers.
 */
#define ENGINE_MAX_OPS		32768
#define ENGINE_MAX_CANDS	16384	/* per operation */
#define ENGINE_MAX_CANDS_TOTAL	32768
#define ENGINE_MAX_INVALS	1024	/* per operation */
#define ENGINE_MAX_INVALS_TOTAL	32768
#define ENGINE_MAX_INODES	16384	/* with statistics of their own */

/* The bounds in force; 0 in engine_opts means the ENGINE_MAX_* default.
 * Only tests shrink them. */
struct engine_bounds {
	size_t ops;
	size_t cands;
	size_t cands_total;
	size_t invals;
	size_t invals_total;
	size_t inodes;
};

typedef void (*engine_window_fn)(const struct rw_window *w, void *ctx);
/* A surviving candidate is judged: BPF may stop tracking its page. */
typedef void (*engine_forget_fn)(const struct rw_inode_key *key, __u64 index, void *ctx);
/* An operation expired: BPF may still hold its state (a missed return). */
typedef void (*engine_expire_fn)(const struct rw_op_begin *op, void *ctx);

/* An operation was judged: how many candidates it had, and of them races. */
typedef void (*engine_op_fn)(const struct rw_op_begin *op, __u64 candidates, __u64 races,
			     void *ctx);

struct engine_opts {
	engine_window_fn on_window;
	engine_op_fn on_op;		/* may be NULL */
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
	/* enum rw_read_maps: the read-mapping roles the plan serves. */
	unsigned int read_maps;
	struct engine_bounds bounds;
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
/* The inodes past the bound, folded into one: key and fstype are zero. */
const struct inode_stats *engine__inodes_other(const struct engine *e);

const char *engine__verdict_name(enum rw_verdict v);
const char *engine__evidence_name(enum rw_page_evidence e);
const char *engine__phase_name(enum rw_phase p);

#endif /* RACEWATCH_ENGINE_H */
