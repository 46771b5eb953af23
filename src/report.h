/* SPDX-License-Identifier: GPL-2.0 */
/* Output: one line per judged window (text or NDJSON) and the exit summary. */
#ifndef RACEWATCH_REPORT_H
#define RACEWATCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "engine.h"
#include "plan.h"
#include "testtag.h"

struct ksyms;

/* Fills ips with the stack behind stack_id; returns how many, or <= 0. */
typedef int (*report_stack_fn)(__s32 stack_id, __u64 *ips, int max, void *ctx);

struct report_opts {
	bool json;
	bool verbose;		/* also windows that are not race-class */
	bool stacks;
	bool raw_addresses;	/* unresolved stack frames as 0x..., not [unknown] */
	__u32 pid;		/* 0: any; else inserter or invalidator pid */
	__s64 realtime_offset;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	const struct ksyms *ksyms;
	const struct testtag *tests;	/* per-test attribution; NULL: none */
	report_stack_fn stack_fn;
	void *stack_ctx;
};

/* What racewatch itself saw outside the engine, for the summary: what
 * went wrong, and how fast records came. */
struct report_losses {
	__u64 counters[RW_CNT_MAX];	/* BPF .bss counters */
	__u64 sent[RW_REC_MAX];		/* records BPF sent, per rw_rec_type */
	__u64 unsent[RW_REC_MAX];	/* ... and could not (ring buffer full) */
	__u64 malformed;		/* records that failed to decode */
	__u64 released;			/* expired operations released in BPF */
	__u64 unjudged;			/* left in the ring buffer at exit, counted
					 * but never fed to the engine */
	__u64 peak_per_s[RW_REC_MAX];	/* highest records per second, by type */
	__u64 skipped;			/* requests BPF opened no window for: they
					 * cannot drop a page (bpf/ops.bpf.h) */
	__u64 cleared;			/* inserts the lock rule cleared in BPF,
					 * not sent (without -v) */
	__u64 hook_hits[RW_HIT_MAX];	/* BPF .bss: hook firings per role */
	bool hooks_counted;		/* --count-hooks: inserts and deletes too */
};

struct report;

struct report *report__new(FILE *out, const struct report_opts *opts);
void report__free(struct report *r);
void report__window(struct report *r, const struct rw_window *w);
void report__summary(struct report *r, const struct engine *e,
		     const struct report_losses *losses, const struct plan *plan,
		     double elapsed_s);
/* The per-test table (testtag.h): one line, or NDJSON record, per test
 * that began, and one for operations before any; nothing when no test
 * began. Before the summary. */
void report__tests(struct report *r, const char *pattern);
/* "fallocate", "truncate", "invalidate" (rw_op_begin.kind). */
const char *report__op_kind_name(__u32 kind);
/* The summary's name of a BPF loss counter ("ringbuf_full"...). */
const char *report__counter_name(enum rw_counter c);
/* "truncate_inode_pages_range"... (rw_inval_begin.fn). */
const char *report__inval_fn_name(__u32 fn);
/* "absent", "unreadable", "free", "write", "read" (rw_lock.state). */
const char *report__lock_state_name(__u8 state);
/* Whether a window is one the report prints (-v, --pid): every sink
 * prints the same ones. */
bool report__wanted(const struct report *r, const struct rw_window *w);
/* "PUNCH_HOLE|KEEP_SIZE"; "" for 0. */
void report__falloc_mode(__u32 mode, char *buf, size_t len);
/* "ino 12 invalidate_lock held W by fallocate[812]"; "" when absent. The
 * owner's comm is escaped for text (escape.h). */
void report__lock_text(const char *name, __u64 ino, const struct rw_lock *lock,
		       char *buf, size_t len);

#endif /* RACEWATCH_REPORT_H */
