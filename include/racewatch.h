/* SPDX-License-Identifier: GPL-2.0 */
/*
 * racewatch BPF <-> userspace ABI: ring buffer records, enums and limits.
 *
 * Every record starts with struct rw_hdr. Userspace checks hdr.size against
 * the size it expects for hdr.type before copying, so a BPF object and a
 * loader built from different versions of this file fail loudly instead of
 * misreading fields. Bump RW_ABI_VERSION on any layout change.
 *
 * The event model (README "Event model" explains it for users):
 *   OP_BEGIN     an invalidating operation (fallocate, truncate, or a bare
 *                invalidation with no enclosing operation) opened a window
 *   INVAL_BEGIN  it started dropping a page range from the page cache
 *   INVAL_END    that drop returned
 *   BLOCK_FREE   the filesystem freed blocks on behalf of the operation (its
 *                first free, and its last with the rest of the blocks), or
 *                (ext4 zero range, which frees none) converted the range's
 *                extents to unwritten: either way the old data is out of reach;
 *                or (ext4 collapse and insert range) began to shift extents
 *   PAGE         at the operation's end: is a candidate page still cached,
 *                and did its read map it to disk blocks (PG_mappedtodisk)?
 *   OP_END       the operation returned; its windows are closed
 *   INSERT       a page was inserted into a range with an open window
 *                (only such candidates are sent, never every insert)
 *   DELETE       a candidate page left the page cache
 *   FOLLOWUP     after its operation's end, too: what an ext4 read by the
 *                inserter of candidates mapped (a PAGE record may have
 *                found that read still to map its page, "pending")
 * Verdicts are computed in userspace from these records (src/engine.c).
 */
#ifndef RACEWATCH_H
#define RACEWATCH_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define RW_ABI_VERSION		5

#define RW_COMM_LEN		16
#define RW_FSTYPE_LEN		16
/* Last page index of a range that runs to the end of the file. */
#define RW_PAGE_EOF		(~0ULL)

enum rw_rec_type {
	RW_REC_OP_BEGIN = 1,
	RW_REC_INVAL_BEGIN,
	RW_REC_INVAL_END,
	RW_REC_BLOCK_FREE,
	RW_REC_OP_END,
	RW_REC_INSERT,
	RW_REC_DELETE,
	RW_REC_PAGE,
	RW_REC_FOLLOWUP,
	RW_REC_MAX,
};

enum rw_op_kind {
	RW_OP_FALLOCATE = 1,
	RW_OP_TRUNCATE,
	/* An invalidation with no fallocate/truncate around it (direct I/O,
	 * O_TRUNC in tracepoint mode, filesystem-internal callers). */
	RW_OP_INVALIDATE,
};

enum rw_inval_fn {
	RW_INVAL_TRUNCATE = 1,		/* truncate_inode_pages_range */
	RW_INVAL_PAGES2,		/* invalidate_inode_pages2_range */
	/* Tracepoint mode: no tracepoint exists in truncate_inode_pages_range,
	 * so the dropped range is derived from the operation's arguments and
	 * the window opens when the operation starts. */
	RW_INVAL_DERIVED,
	/* shmem_undo_range: tmpfs drops its pages (and swap entries)
	 * itself, never through truncate_inode_pages_range. */
	RW_INVAL_SHMEM,
};

enum rw_free_fs {
	RW_FREE_EXT4 = 1,
	RW_FREE_XFS,
	/* Not a free: ext4_zero_range() has converted the extents to
	 * unwritten (ext4:ext4_ext_map_blocks_exit with CONVERT_UNWRITTEN,
	 * sent at the task's next ext4:ext4_mark_inode_dirty); reads of the
	 * range return zeros from then on. blocks: how many it converted. */
	RW_FREE_EXT4_CONVERT,
	/* Not a free either: ext4_collapse_range() or ext4_insert_range()
	 * took i_data_sem exclusively and removed the cached extents from
	 * the range on (ext4:ext4_es_remove_extent), to shift the extent
	 * tree under it. A read that looks the extent tree up after this
	 * time waits for the shift and maps the moved extents (README "The
	 * ext4 read mapping"). Its window does not end here: a read that
	 * mapped earlier still holds old data. blocks: 0. */
	RW_FREE_EXT4_SHIFT,
};

/* fallocate(2) mode bits, as in include/uapi/linux/falloc.h. */
#define RW_FALLOC_KEEP_SIZE		0x01
#define RW_FALLOC_PUNCH_HOLE		0x02
#define RW_FALLOC_NO_HIDE_STALE		0x04
#define RW_FALLOC_COLLAPSE_RANGE	0x08
#define RW_FALLOC_ZERO_RANGE		0x10
#define RW_FALLOC_INSERT_RANGE		0x20
#define RW_FALLOC_UNSHARE_RANGE		0x40
/* Modes that drop page-cache ranges; plain allocation does not. */
#define RW_FALLOC_INVALIDATING	(RW_FALLOC_PUNCH_HOLE | RW_FALLOC_COLLAPSE_RANGE | \
				 RW_FALLOC_ZERO_RANGE | RW_FALLOC_INSERT_RANGE)

/*
 * An inode is named by (dev, ino, generation): i_generation changes when an
 * inode number is reused, so a freed and recycled inode never matches the
 * state of its predecessor. dev is the kernel's s_dev (MKDEV: major << 20).
 */
struct rw_inode_key {
	__u32 dev;
	__u32 gen;
	__u64 ino;
};

/* Key of the BPF candidates map, deleted by userspace once judged. */
struct rw_cand_key {
	struct rw_inode_key key;
	__u64 index;
};

struct rw_task {
	__u32 pid;			/* tgid */
	__u32 tid;
	char comm[RW_COMM_LEN];
};

/* One rw_semaphore as seen at a moment. */
enum rw_lock_state {
	RW_LOCK_ABSENT = 0,		/* not on this kernel or filesystem */
	RW_LOCK_UNREADABLE,		/* exists, but its layout is unknown (no BTF) */
	RW_LOCK_FREE,
	RW_LOCK_WRITE,			/* owner is the writer */
	RW_LOCK_READ,			/* owner is a hint: the last reader */
};

struct rw_lock {
	__u8 state;			/* enum rw_lock_state */
	__u8 waiters;
	__u16 pad;
	__u32 readers;
	__u32 owner_pid;
	__u32 owner_tid;
	char owner_comm[RW_COMM_LEN];
};

struct rw_locks {
	struct rw_lock invalidate_lock;	/* mapping->invalidate_lock, 5.15+ */
	struct rw_lock i_rwsem;		/* inode->i_rwsem */
	struct rw_lock i_mmap_sem;	/* EXT4_I(inode)->i_mmap_sem, before 5.15 */
};

struct rw_hdr {
	__u16 type;			/* enum rw_rec_type */
	__u16 size;			/* sizeof the whole record */
	__u32 cpu;
	__u64 ts;			/* CLOCK_MONOTONIC ns */
};

/* hdr.ts is when the operation started, which may precede the emission. */
struct rw_op_begin {
	struct rw_hdr hdr;
	__u64 op_id;
	struct rw_task task;
	struct rw_inode_key key;
	__u32 kind;			/* enum rw_op_kind */
	__u32 mode;			/* fallocate mode bits */
	__s64 offset;			/* fallocate offset, or truncate length */
	__s64 len;			/* fallocate length */
	char fstype[RW_FSTYPE_LEN];
};

struct rw_inval_begin {
	struct rw_hdr hdr;
	__u64 op_id;
	struct rw_inode_key key;
	__u64 first;			/* page indexes, inclusive */
	__u64 last;			/* RW_PAGE_EOF: to end of file */
	__u32 fn;			/* enum rw_inval_fn */
	__s32 stack_id;			/* -1: not collected */
	__u32 flags;			/* RW_INVAL_* */
	__u32 pad;
	struct rw_locks locks;		/* what the invalidator holds now */
};

/*
 * A direct-I/O write's second invalidation, once the write is on disk: the
 * task's second invalidate_inode_pages2_range() of the inode in one write
 * system call, or a workqueue worker's (an asynchronous write completing).
 * What it finds cached was read after the write (README "Direct I/O").
 */
#define RW_INVAL_AFTER_WRITE	(1U << 0)

struct rw_inval_end {
	struct rw_hdr hdr;
	__u64 op_id;
};

/*
 * BPF sends an operation's first and last block free, with its own time
 * each, just before its OP_END: the window's end is all that the frees in
 * between would tell. The last one's blocks are those of every free after
 * the first, so that the two add up to the operation's total.
 *
 * The window ends at the operation's last block free, not earlier: on 5.10
 * ext4 re-caches the old extents in its extent-status tree while
 * ext4_ext_remove_space runs, and readers that look the range up until then
 * still map the old blocks (measured: tests/vm, README "Verdicts").
 */
struct rw_block_free {
	struct rw_hdr hdr;
	__u64 op_id;
	__u32 fs;			/* enum rw_free_fs */
	__u32 pad;
	__u64 blocks;			/* 0 when the hook cannot tell */
};

/* OP_END flags: why the operation's windows may be incomplete. */
#define RW_OP_END_NO_RETURN	0x1	/* its return was never seen (a missed
					 * kretprobe): closed when its task began
					 * another operation; ret is unknown (0) */
#define RW_OP_END_UNWATCHED	0x2	/* inode_windows map full: no insert
					 * into its range was watched */

struct rw_op_end {
	struct rw_hdr hdr;
	__u64 op_id;
	__s64 ret;
	__u32 flags;			/* RW_OP_END_* */
	/* Records about this operation or its inode that could not be sent
	 * (ring buffer full, kprobe stash full) while it was open: a lost
	 * INSERT, DELETE, BLOCK_FREE or PAGE makes its verdicts unsure. */
	__u32 lost;
};

#define RW_INSERT_UNTRACKED	0x1	/* candidate map full: deletes unseen */

struct rw_insert {
	struct rw_hdr hdr;
	struct rw_task task;
	struct rw_inode_key key;
	__u64 index;
	__u32 nr_pages;
	__s32 stack_id;
	__u32 flags;
	__u32 pad;
	struct rw_locks locks;
};

struct rw_delete {
	struct rw_hdr hdr;
	__u32 tid;
	__u32 pad;
	struct rw_inode_key key;
	__u64 index;
};

/*
 * A candidate page inspected when its operation returned (BPF keeps the
 * latest candidate per inode and index modulo RW_PAGE_SLOTS, so a window of
 * up to RW_PAGE_SLOTS pages has a slot for every page; in a wider one a
 * candidate still pending when a later one takes its slot is sent then,
 * RW_PAGE_SENT_DISPLACED, and what its read mapped afterwards comes as a
 * FOLLOWUP, as for a page still being read at the end).
 * mapped_to_disk is PG_mappedtodisk: ext4's (and mpage's) read path sets it
 * on a page whose blocks it read from disk and leaves it clear on a page it
 * zero-filled from a hole; iomap (xfs) never sets it, so userspace only
 * trusts it where the filesystem's read path is known to set it. btrfs
 * never sets it either: there read_map says what the read found. ext4
 * sets it only after mapping, so there read_map speaks first for a read
 * still in flight.
 */
struct rw_page_state {
	struct rw_hdr hdr;
	__u64 op_id;
	struct rw_inode_key key;
	__u64 index;
	__u64 insert_ts;		/* hdr.ts of the INSERT it describes */
	__u8 present;			/* still in the mapping at that index */
	__u8 mapped_to_disk;
	__u8 blkbits;			/* inode->i_blkbits */
	__u8 read_map;			/* enum rw_read_map */
	__u8 uptodate;			/* PG_uptodate: its read is done */
	__u8 read_map_from;		/* enum rw_read_map_from */
	__u8 sent;			/* enum rw_page_sent */
	__u8 pad;
	__u64 read_map_ts;		/* when read_map was seen; 0: never */
};

/* When BPF sent a PAGE record. One with op_id 0 (late or displaced) goes
 * to every operation that took its INSERT and has no PAGE of it. */
enum rw_page_sent {
	RW_PAGE_SENT_AT_END = 0,	/* by the walk at the operation's end */
	RW_PAGE_SENT_LATE,		/* by the insert: its window had closed */
	RW_PAGE_SENT_DISPLACED,		/* by a later insert that took its slot */
};

/*
 * What the inserting task's read mapped the page to, where the filesystem
 * says: the first mapping the inserter looked up after the insert that
 * covers the page (btrfs: the extent map of btrfs:btrfs_get_extent; ext4:
 * the extent of ext4:ext4_es_lookup_extent_exit or what
 * ext4:ext4_ext_map_blocks_exit mapped, with one block per page).
 */
enum rw_read_map {
	RW_READ_MAP_NONE = 0,		/* not seen */
	RW_READ_MAP_DISK,		/* an extent with data */
	RW_READ_MAP_ZEROS,		/* a hole or a preallocated extent */
	RW_READ_MAP_PENDING,		/* none yet at the check, the page not
					 * uptodate: its read is still to map it */
	RW_READ_MAP_MAX,
};

/* Which lookup gave read_map. */
enum rw_read_map_from {
	RW_READ_MAP_FROM_NONE = 0,
	RW_READ_MAP_FROM_EXT4_ES,	/* ext4:ext4_es_lookup_extent_exit */
	RW_READ_MAP_FROM_EXT4_TREE,	/* ext4:ext4_ext_map_blocks_exit */
	RW_READ_MAP_FROM_BTRFS,		/* btrfs:btrfs_get_extent */
	RW_READ_MAP_FROM_MAX,
};

/*
 * What an ext4 read by a task with candidates mapped, sent on every such
 * mapping (bpf/pagecache.bpf.h, mark_read_map()) while a window is open
 * and for RW_FOLLOW_NS after one closed: a page inserted just before its
 * operation returned is often still to be read when the PAGE record is
 * taken (read_map pending: 37 to 93 pages a run in the 5.10 full-mix
 * case), and without a follow-up nothing says what such a read mapped.
 * Userspace waits RW_FOLLOW_WAIT_NS past an operation's end for the
 * follow-ups of its pending pages (src/engine.c).
 */
struct rw_followup {
	struct rw_hdr hdr;		/* ts: when the read mapped */
	struct rw_inode_key key;
	__u64 first;			/* page indexes, inclusive */
	__u64 last;
	__u32 tid;			/* the reader, which inserted them */
	__u8 read_map;			/* enum rw_read_map: disk or zeros */
	__u8 read_map_from;		/* enum rw_read_map_from */
	__u8 pad[2];
};

#define RW_FOLLOW_NS		1000000000ULL	/* BPF follows reads this long */
#define RW_FOLLOW_WAIT_NS	100000000ULL	/* userspace waits this long */

#define RW_PAGE_SLOTS		512	/* a power of two. 2048 took the
					 * 5.10 guest's verifier past
					 * detect.sh's 60 s under TCG;
					 * 8192 fails to load (6.18) */

/* BPF-side loss and overflow counters, read from .bss at exit. */
enum rw_counter {
	RW_CNT_RINGBUF_FULL,		/* a record could not be reserved */
	RW_CNT_OPS_FULL,		/* ops map full: an operation is untracked */
	RW_CNT_WINDOWS_FULL,		/* inode_windows map full */
	RW_CNT_CANDIDATES_FULL,		/* candidates map full */
	RW_CNT_STASH_FULL,		/* kprobe insert stash full */
	RW_CNT_STACK_FAIL,		/* bpf_get_stackid failed */
	RW_CNT_WINDOW_LOST,		/* a window closed that was never seen open */
	RW_CNT_SLOTS_FULL,		/* page_slots map full: a PAGE check skipped */
	RW_CNT_RETURN_MISSED,		/* an operation's return never fired */
	RW_CNT_INSERT_RETURN_MISSED,	/* a kprobed insert's return never fired */
	RW_CNT_MAX,
};

/*
 * Hook firings on watched inodes, per role, read from .bss at exit: what a
 * hook saw, before racewatch decides whether it matters (a sub-page range,
 * nothing cached, no window). The roles tests (tests/vm, tests/host) hold
 * them against the kernel's own count of the same function or tracepoint
 * (ftrace). Inserts, deletes and read mappings fire for every page or
 * block lookup, so they are counted only with --count-hooks; the others
 * always. Block frees count those
 * inside an operation on the same inode, the only ones racewatch can use.
 */
enum rw_hook_hit {
	RW_HIT_INSERT,			/* successful page-cache inserts */
	RW_HIT_DELETE,			/* page-cache deletes */
	RW_HIT_INVAL_TRUNCATE,		/* truncate_inode_pages_range calls */
	RW_HIT_INVAL_PAGES2,		/* invalidate_inode_pages2_range calls */
	RW_HIT_INVAL_DERIVED,		/* tracepoint mode: derived from arguments */
	RW_HIT_FREE_EXT4,		/* ext4 block frees */
	RW_HIT_FREE_XFS,		/* xfs extent frees */
	RW_HIT_CONVERT_EXT4,		/* ext4 zero range's conversions to unwritten */
	RW_HIT_READMAP_EXT4,		/* ext4 block mappings and extent-cache lookups */
	RW_HIT_READMAP_BTRFS,		/* btrfs extent-map lookups */
	RW_HIT_INVAL_SHMEM,		/* shmem_undo_range calls */
	RW_HIT_MAX,
};

/* Map sizes; userspace may scale them before load. */
#define RW_MAX_OPS		4096
#define RW_MAX_WINDOWS		4096
#define RW_MAX_CANDIDATES	16384
#define RW_MAX_STACKS		8192
#define RW_RINGBUF_BYTES	(4 << 20)

/*
 * Per-task state that userspace also reads and releases: an operation (or
 * a bare invalidation) whose return never fired stays in the ops or
 * invals map, and holds its window open, until userspace expires it
 * (src/expire.c). Value types of the ops, invals and inode_windows maps.
 */
struct rw_op_state {
	__u64 op_id;		/* 0 until the operation opens a window */
	__u64 start_ts;
	struct rw_inode_key key;
	__u32 kind;
	__u32 mode;
	__s64 offset;
	__s64 len;
	__u64 lost_base;	/* the window's lost count when it opened */
	__u32 lost;		/* its own records that could not be sent */
	__u8 key_known;
	__u8 window_open;
	__u8 window_failed;	/* inode_windows was full */
	__u8 pending_bind;	/* holds an inflight reference until bound */
	/* Its block frees, sent as at most two BLOCK_FREE records just
	 * before OP_END (bpf/ops.bpf.h, op_send_frees()). */
	__u32 nfree;
	__u32 free_fs;		/* enum rw_free_fs */
	__u64 first_free_ts;
	__u64 first_free_blocks;
	__u64 last_free_ts;
	__u64 free_blocks;	/* all of them */
	__u64 shift_ts;		/* ext4 collapse/insert range: when it
				 * began to shift extents (RW_FREE_EXT4_SHIFT) */
	__u32 inval_flags;	/* RW_INVAL_* of its invalidations */
	__u32 pad;
};

/* The invalidation a task is inside, so its exit knows what to close. */
struct rw_inval_state {
	__u64 op_id;
	__u64 lost_base;
	struct rw_inode_key key;
	__u8 standalone;	/* the invalidation is its own operation */
	__u8 window_open;
	__u8 window_failed;
	__u8 pages2;		/* invalidate_inode_pages2_range(): a
				 * standalone one's return is its OP_END's */
	__u32 lost;		/* a standalone one's own records not sent */
	__u64 start_ts;		/* a standalone one's: no candidate is older */
};

/*
 * The page ranges open on one inode, as the insert hook's pre-filter;
 * userspace attributes exactly. Operations share RW_WINDOW_RANGES ranges by
 * their task id, each the union of its operations' (a power of two). The
 * union of all (first, last) alone passed every insert under same-file
 * contention: a truncate to EOF and a punch at the start kept it at the
 * whole file for as long as any two overlapped, and 80 % of the INSERTs
 * sent in 10 s of tools/contend.c on btrfs fell in no operation's range
 * (541,442 of 671,355), the ring buffer's largest records. It is kept for
 * the last operation to close, which frees every slot the window's inserts
 * took. BPF on 5.10 has no compare-and-exchange to give each operation a
 * range of its own.
 */
#define RW_WINDOW_RANGES	4

struct rw_window_range {
	__u64 first;
	__u64 last;
	__s64 refs;		/* the operations open in it */
};

struct rw_window_state {
	struct rw_window_range all;	/* the union since it was last closed;
					 * refs > 0: the window is open */
	__u64 lost;		/* records about this inode that were lost */
	struct rw_window_range ranges[RW_WINDOW_RANGES];
};

/* The range an operation's task shares. */
static inline unsigned int rw_window_range_of(__u32 tid)
{
	return tid & (RW_WINDOW_RANGES - 1);
}

#endif /* RACEWATCH_H */
