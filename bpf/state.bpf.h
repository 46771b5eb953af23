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
/* Set when the plan hooks shmem's own insert function; until then tmpfs
 * inodes are skipped (src/plan.c, "tmpfs/shmem insert"). */
const volatile bool watch_shmem = false;
/* -v prints the windows that cannot be races, so every insert is sent;
 * without it, BPF drops those the lock rule clears (lock_clears()). */
const volatile bool send_cleared = false;
/* --count-hooks: count every insert and delete on a watched inode
 * (hook_hits), which costs an inode lookup per page; off, the idle gate
 * comes first and they are not counted. */
const volatile bool count_hooks = false;
/* Bytes of records waiting in the ring buffer before BPF wakes the consumer
 * (src/attach.c: an eighth of it). */
const volatile __u64 wake_bytes = 0;

/*
 * Number of open windows plus operations still waiting to learn their inode.
 * Every page-cache insert and delete reads this first and stops when it is
 * zero: that single load is the whole cost of racewatch on an idle system.
 */
__u64 inflight = 0;
/* Until when ext4 read mappings are still sent after the last window
 * closed (RW_FOLLOW_NS past an operation's end; op_finish()). */
__u64 follow_until = 0;
/* Outstanding kprobe insert stashes, so kretprobes skip the map when none. */
__u64 stashed = 0;
/* Entries in page_slots, so an operation's end skips the walk when none. */
__u64 slots_live = 0;
/* Pending candidates whose slot a later one took (remember_page()): not a
 * loss counter and not reported, only seen in a dump of .bss. */
__u64 slots_displaced = 0;
__u64 counters[RW_CNT_MAX] = {};
/* Records reserved, and records the ring buffer had no room for, per
 * enum rw_rec_type: what fills the buffer under a given load, read at exit
 * for the summary ("sent", "unsent"). One add next to a reserve that
 * already takes the ring buffer's lock. */
__u64 sent[RW_REC_MAX] = {};
__u64 unsent[RW_REC_MAX] = {};
/* Watched requests that opened no window because they cannot drop a page
 * whose blocks go away (op_derived_drops()): not a loss, but a load that
 * counts its calls must find them somewhere ("ops_skipped"). */
__u64 ops_skipped = 0;
/* Inserts into a window that the lock rule cleared at the insert and that
 * BPF therefore did not send (pagecache.bpf.h): "inserts_cleared". */
__u64 inserts_cleared = 0;
/* Hook firings per role on watched inodes (enum rw_hook_hit). */
__u64 hook_hits[RW_HIT_MAX] = {};

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
	__u32 tid;		/* the inserter: its read fills read_map */
	__u8 read_map;		/* enum rw_read_map */
	__u8 read_map_from;	/* enum rw_read_map_from */
	__u16 nr_pages;		/* of the folio, 1 where unknown */
	__u64 read_map_ts;	/* when the read mapped it */
};

/* What emit_page_slot() needs beside the slot, which is all that a global
 * function may take on 5.10; one per CPU, written just before the walk. */
struct page_emit {
	__u64 op_id;
	struct rw_inode_key key;
	__u64 ts;
	__u64 since;		/* the operation's start: older slots are not its */
	__u64 first;		/* the window's union (page_slots_span()) */
	__u64 last;
	__u64 own_first;	/* its task's range: slots elsewhere are not its */
	__u64 own_last;
	__u32 last_closer;
	__u32 pad;
};

/* A zero range's conversion, until the step after it (handle_zero_settled()). */
struct zero_pending {
	__u64 op_id;
	__u64 blocks;
};

/* The candidates a task inserted into one inode and its read has not
 * mapped yet, as an index range: a read-mapping hook walks only these
 * slots (mark_read_map()), not a whole window's. */
struct unread_range {
	struct rw_inode_key key;
	__u64 first;
	__u64 last;
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

/*
 * LRU, and a closed window stays (refs 0) until evicted: closing used to
 * delete the entry once refs reached 0, and an operation that opened on the
 * inode between that check and the delete lost its window (no fetch
 * atomics on 5.10 to make them one step). An open window evicted by the
 * LRU is found missing at its close: counted, and its operation is lossy.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
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

/* A task's last direct-I/O first invalidation (ops.bpf.h, dio_after_write()):
 * the inode, its first page and the task's write system calls then. By
 * tid; LRU: a task that stops writing leaves its entry to age out. */
struct dio_first {
	struct rw_inode_key key;
	__u64 first;
	__u64 write_calls;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RW_MAX_OPS);
	__type(key, __u32);
	__type(value, struct dio_first);
} dio_firsts SEC(".maps");

/* By tid. LRU: a task that stops reading leaves its entry to age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RW_MAX_OPS);
	__type(key, __u32);
	__type(value, struct unread_range);
} unread SEC(".maps");

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

static __always_inline void hook_hit(enum rw_hook_hit h)
{
	__sync_fetch_and_add(&hook_hits[h], 1);
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

/* include/uapi/linux/magic.h */
#define TMPFS_MAGIC		0x01021994
#define XFS_SUPER_MAGIC		0x58465342
#define BTRFS_SUPER_MAGIC	0x9123683E

/*
 * shmem (tmpfs, memfd, SysV shm) adds pages with
 * shmem_add_to_page_cache(), which neither fires the insert tracepoint nor
 * calls the filemap insert functions: unless the plan hooks it (fentry or
 * kprobe), no insert into its windows would be seen, so its operations
 * would only fill the ring buffer.
 */
static __always_inline bool inode_unwatched(struct inode *inode)
{
	return !watch_shmem && BPF_CORE_READ(inode, i_sb, s_magic) == TMPFS_MAGIC;
}

/* Filesystems that free, convert and shift whole blocks of i_blkbits only
 * (op_range.h, rw_falloc_below_block()). */
static __always_inline bool fs_whole_blocks(unsigned long magic)
{
	return magic == EXT4_SUPER_MAGIC || magic == XFS_SUPER_MAGIC ||
	       magic == BTRFS_SUPER_MAGIC;
}

/* Filesystems whose invalidating operations drop pages and free blocks
 * inside one exclusive section of invalidate_lock (5.15+): ext4, xfs.
 * src/verdict.c models the same ones. */
static __always_inline bool fs_lock_modelled(unsigned long magic)
{
	return magic == EXT4_SUPER_MAGIC || magic == XFS_SUPER_MAGIC;
}

static __always_inline bool key_filtered_out(const struct rw_inode_key *key)
{
	return (filter_dev && key->dev != filter_dev) ||
	       (filter_ino && key->ino != filter_ino);
}

/* A role's hook fired on this inode: counted where the inode is watched. */
static __always_inline void hook_hit_key(enum rw_hook_hit h, const struct rw_inode_key *key,
					 struct inode *inode)
{
	if (!key_filtered_out(key) && !inode_unwatched(inode))
		hook_hit(h);
}

/* The same, for a hook that has not made the inode's key. */
static __always_inline void hook_hit_on(enum rw_hook_hit h, struct inode *inode)
{
	struct rw_inode_key key = {};

	if (inode_key(inode, &key))
		hook_hit_key(h, &key, inode);
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

/*
 * Submit without waking the consumer until wake_bytes are waiting: a wakeup
 * per record made it switch in once per record, and under same-file
 * contention on 2 CPUs it then fell behind and the buffer overflowed. The
 * consumer polls every 100 ms anyway (src/main.c), well inside the
 * engine's grace period, and a buffer filling up still wakes it at once.
 */
static __always_inline void submit_record(void *r)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(r, flags);
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
			__sync_fetch_and_add(&sent[(type_tag)], 1);		\
		} else {							\
			count(RW_CNT_RINGBUF_FULL);				\
			__sync_fetch_and_add(&unsent[(type_tag)], 1);		\
		}								\
		__r;								\
	})

/* Racy widening is fine: the table only pre-filters candidates. A closed
 * range starts again from this operation's. */
static __always_inline void range_widen(struct rw_window_range *r, __u64 first, __u64 last)
{
	if (r->refs <= 0) {
		r->first = first;
		r->last = last;
	}
	if (first < r->first)
		r->first = first;
	if (last > r->last)
		r->last = last;
}

/*
 * Publish (or widen) the current task's range of the window on an inode.
 * Callers emit their records before calling this, so any insert that sees
 * the window is queued in the ring buffer after the records that explain
 * it. Returns the window, or NULL when inode_windows is full (counted).
 */
static __always_inline struct rw_window_state *
window_open(const struct rw_inode_key *key, __u64 first, __u64 last, bool new_ref)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);
	struct rw_window_range *r;

	if (!w) {
		struct rw_window_state fresh = {};

		/* -EEXIST means another CPU created it first: use theirs. */
		bpf_map_update_elem(&inode_windows, key, &fresh, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&inode_windows, key);
		if (!w) {
			count(RW_CNT_WINDOWS_FULL);
			return NULL;
		}
	}
	r = &w->ranges[rw_window_range_of(current_tid())];
	range_widen(&w->all, first, last);
	range_widen(r, first, last);
	if (new_ref) {
		__sync_fetch_and_add(&r->refs, 1);
		__sync_fetch_and_add(&w->all.refs, 1);
		__sync_fetch_and_add(&inflight, 1);
	}
	return w;
}

/* Whether pages index..index+nr-1 meet a range that is open. */
static __always_inline bool window_covers(const struct rw_window_state *w, __u64 index,
					  __u32 nr)
{
	__u64 end = index + (nr ? nr : 1);	/* exclusive */

	for (int i = 0; i < RW_WINDOW_RANGES; i++) {
		const struct rw_window_range *r = &w->ranges[i];

		if (r->refs > 0 && end > r->first && index <= r->last)
			return true;
	}
	return false;
}

/* Free a page slot; slots_live counts each entry once. */
static __always_inline void slot_delete(const struct page_slot_key *sk)
{
	if (!bpf_map_delete_elem(&page_slots, sk))
		__sync_fetch_and_add(&slots_live, -1);
}

/* Records about the inode lost since the window's lost count was base. */
static __always_inline __u32 window_lost_since(const struct rw_inode_key *key, __u64 base)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);

	/* Gone: evicted while open, so inserts went unwatched. */
	return w ? (__u32)(w->lost - base) : 1;
}

/* A record about an inode with an open window could not be sent: every
 * operation open on it will say so in its OP_END (rw_op_end.lost). */
static __always_inline void window_note_loss(const struct rw_inode_key *key)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);

	if (w)
		__sync_fetch_and_add(&w->lost, 1);
}

/* Closed windows stay in the LRU with refs 0 (see inode_windows). */
static __always_inline bool window_is_open(const struct rw_inode_key *key)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);

	return w && w->all.refs > 0;
}

static __always_inline void window_close(const struct rw_inode_key *key)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);

	__sync_fetch_and_add(&inflight, -1);
	if (!w) {
		count(RW_CNT_WINDOW_LOST);
		return;
	}
	__sync_fetch_and_add(&w->ranges[rw_window_range_of(current_tid())].refs, -1);
	__sync_fetch_and_add(&w->all.refs, -1);
}

#endif /* RACEWATCH_STATE_BPF_H */
