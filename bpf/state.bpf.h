/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared BPF state: knobs, counters, maps, record emission and the per-inode
 * window table that the page-cache hooks consult.
 */
#ifndef RACEWATCH_STATE_BPF_H
#define RACEWATCH_STATE_BPF_H

#include "compat.bpf.h"

/* Set by the loader between open and load (see src/attach.c). */
const volatile __u32 page_shift = 12;
const volatile __u32 filter_dev = 0;		/* kernel s_dev, 0 = any */
const volatile __u64 filter_ino = 0;		/* 0 = any */
const volatile bool collect_stacks = false;
/* Tracepoint mode: windows open when the operation starts (op_range.h). */
const volatile bool derive_invalidation = false;

/*
 * Number of open windows plus operations still waiting to learn their inode.
 * Every page-cache insert and delete reads this first and stops when it is
 * zero: that single load is the whole cost of racewatch on an idle system.
 */
__u64 inflight = 0;
/* Outstanding kprobe insert stashes, so kretprobes skip the map when none. */
__u64 stashed = 0;
/* Entries in page_slots, so an operation's end skips the walk when none. */
__u64 slots_live = 0;
/* Pending candidates whose slot a later one took (remember_page()): not a
 * loss counter and not reported, only seen in a dump of .bss. */
__u64 slots_displaced = 0;
__u64 counters[RW_CNT_MAX] = {};

/* struct rw_op_state, rw_inval_state and rw_window_state (the values of
 * the ops, invals and inode_windows maps) are in racewatch.h: userspace
 * releases the state of operations whose return never fired. */

/* The latest candidate page per (inode, index % RW_PAGE_SLOTS); see
 * remember_page() and emit_page_states(). */
struct page_slot_key {
	struct rw_inode_key key;
	__u32 slot;
	__u32 pad;
};

struct page_slot {
	void *entry;
	struct address_space *mapping;
	__u64 index;
	__u64 insert_ts;
};

/* What emit_page_slot() needs beside the slot, which is all that a global
 * function may take on 5.10; one per CPU, written just before the walk. */
struct page_emit {
	__u64 op_id;
	struct rw_inode_key key;
	__u64 ts;
	__u32 last_closer;
	__u32 pad;
};

/* A zero range's conversion, until the step after it (handle_zero_settled()). */
struct zero_pending {
	__u64 op_id;
	__u64 blocks;
};

struct insert_stash {
	struct address_space *mapping;
	void *entry;
	__u64 index;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RW_MAX_OPS);
	__type(key, __u32);
	__type(value, struct rw_op_state);
} ops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RW_MAX_OPS);
	__type(key, __u32);
	__type(value, struct rw_inval_state);
} invals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RW_MAX_WINDOWS);
	__type(key, struct rw_inode_key);
	__type(value, struct rw_window_state);
} inode_windows SEC(".maps");

/* Pages inserted into a window, so their deletion can be reported. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RW_MAX_CANDIDATES);
	__type(key, struct rw_cand_key);
	__type(value, __u64);
} candidates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RW_MAX_OPS);
	__type(key, __u32);
	__type(value, struct insert_stash);
} insert_stash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RW_MAX_CANDIDATES);
	__type(key, struct page_slot_key);
	__type(value, struct page_slot);
} page_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} op_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct page_emit);
} page_emits SEC(".maps");

/* By tid. LRU: an entry whose operation ended first is never looked at
 * again (its op_id no longer matches) and just ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RW_MAX_OPS);
	__type(key, __u32);
	__type(value, struct zero_pending);
} zero_converted SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, RW_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RW_RINGBUF_BYTES);
} events SEC(".maps");

static __always_inline void count(enum rw_counter c)
{
	/* No fetch: BPF atomics with a result need 5.12, racewatch runs on 5.10. */
	__sync_fetch_and_add(&counters[c], 1);
}

static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

static __always_inline void fill_task(struct rw_task *t)
{
	__u64 id = bpf_get_current_pid_tgid();

	t->pid = id >> 32;
	t->tid = (__u32)id;
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

static __always_inline bool inode_key(struct inode *inode, struct rw_inode_key *key)
{
	if (!inode)
		return false;
	key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key->ino = BPF_CORE_READ(inode, i_ino);
	key->gen = BPF_CORE_READ(inode, i_generation);
	return true;
}

static __always_inline bool key_equal(const struct rw_inode_key *a,
				      const struct rw_inode_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->gen == b->gen;
}

static __always_inline bool key_filtered_out(const struct rw_inode_key *key)
{
	return (filter_dev && key->dev != filter_dev) ||
	       (filter_ino && key->ino != filter_ino);
}

/* Unique without fetch atomics: CPU number above a per-CPU sequence. */
static __always_inline __u64 new_op_id(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&op_seq, &zero);

	if (!seq)
		return 0;
	*seq += 1;
	return ((__u64)bpf_get_smp_processor_id() << 48) | (*seq & ((1ULL << 48) - 1));
}

static __always_inline __s32 stack_id(void *ctx)
{
	long id;

	if (!collect_stacks)
		return -1;
	id = bpf_get_stackid(ctx, &stacks, 0);
	if (id < 0) {
		count(RW_CNT_STACK_FAIL);
		return -1;
	}
	return id;
}

/* Reserve a zeroed record with its header filled in; counts failures. */
#define reserve_record(type_tag, rec_type, ts_val)				\
	({									\
		rec_type *__r = bpf_ringbuf_reserve(&events, sizeof(rec_type), 0); \
		if (__r) {							\
			__builtin_memset(__r, 0, sizeof(rec_type));		\
			__r->hdr.type = (type_tag);				\
			__r->hdr.size = sizeof(rec_type);			\
			__r->hdr.cpu = bpf_get_smp_processor_id();		\
			__r->hdr.ts = (ts_val);					\
		} else {							\
			count(RW_CNT_RINGBUF_FULL);				\
		}								\
		__r;								\
	})

/*
 * Publish (or widen) the window on an inode. Callers emit their records
 * before calling this, so any insert that sees the window is queued in the
 * ring buffer after the records that explain it. Returns the window, or
 * NULL when inode_windows is full (counted).
 */
static __always_inline struct rw_window_state *
window_open(const struct rw_inode_key *key, __u64 first, __u64 last, bool new_ref)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);

	if (!w) {
		struct rw_window_state fresh = { .first = first, .last = last };

		/* -EEXIST means another CPU created it first: use theirs. */
		bpf_map_update_elem(&inode_windows, key, &fresh, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&inode_windows, key);
		if (!w) {
			count(RW_CNT_WINDOWS_FULL);
			return NULL;
		}
	}
	/* Racy widening is fine: the table only pre-filters candidates. */
	if (first < w->first)
		w->first = first;
	if (last > w->last)
		w->last = last;
	if (new_ref) {
		__sync_fetch_and_add(&w->refs, 1);
		__sync_fetch_and_add(&inflight, 1);
	}
	return w;
}

/* Records about the inode lost since the window's lost count was base. */
static __always_inline __u32 window_lost_since(const struct rw_inode_key *key, __u64 base)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);

	return w ? (__u32)(w->lost - base) : 0;
}

/* A record about an inode with an open window could not be sent: every
 * operation open on it will say so in its OP_END (rw_op_end.lost). */
static __always_inline void window_note_loss(const struct rw_inode_key *key)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);

	if (w)
		__sync_fetch_and_add(&w->lost, 1);
}

static __always_inline void window_close(const struct rw_inode_key *key)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);

	__sync_fetch_and_add(&inflight, -1);
	if (!w) {
		count(RW_CNT_WINDOW_LOST);
		return;
	}
	__sync_fetch_and_add(&w->refs, -1);
	if (w->refs <= 0)
		bpf_map_delete_elem(&inode_windows, key);
}

#endif /* RACEWATCH_STATE_BPF_H */
