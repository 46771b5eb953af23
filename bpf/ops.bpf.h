/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Handlers for the invalidating side: operations (fallocate, truncate), the
 * page-cache invalidations they perform, and the filesystem block frees that
 * end their windows. One handler per role; racewatch.bpf.c wraps them.
 */
#ifndef RACEWATCH_OPS_BPF_H
#define RACEWATCH_OPS_BPF_H

#include "state.bpf.h"
#include "op_range.h"

static __always_inline void emit_op_begin(struct rw_op_state *op, struct inode *inode)
{
	struct rw_op_begin *r;

	r = reserve_record(RW_REC_OP_BEGIN, struct rw_op_begin, op->start_ts);
	if (!r) {
		op->lost++;	/* its OP_END arrives as a lossy orphan */
		return;
	}
	r->op_id = op->op_id;
	fill_task(&r->task);
	r->key = op->key;
	r->kind = op->kind;
	r->mode = op->mode;
	r->offset = op->offset;
	r->len = op->len;
	bpf_probe_read_kernel_str(r->fstype, sizeof(r->fstype),
				  BPF_CORE_READ(inode, i_sb, s_type, name));
	submit_record(r);
}

static __always_inline void emit_inval_begin(void *ctx, struct rw_op_state *op,
					     struct inode *inode, __u64 first,
					     __u64 last, __u32 fn)
{
	struct rw_inval_begin *r;

	r = reserve_record(RW_REC_INVAL_BEGIN, struct rw_inval_begin, bpf_ktime_get_ns());
	if (!r) {
		op->lost++;
		return;
	}
	r->op_id = op->op_id;
	r->key = op->key;
	r->first = first;
	r->last = last;
	r->fn = fn;
	r->flags = op->inval_flags;
	r->stack_id = stack_id(ctx);
	read_locks(BPF_CORE_READ(inode, i_mapping), inode, &r->locks);
	submit_record(r);
}

static __always_inline void emit_op_end(__u64 op_id, __s64 ret, __u64 ts,
					__u32 flags, __u32 lost)
{
	struct rw_op_end *r;

	r = reserve_record(RW_REC_OP_END, struct rw_op_end, ts);
	if (!r)
		return;
	r->op_id = op_id;
	r->ret = ret;
	r->flags = flags;
	r->lost = lost;
	submit_record(r);
}

static __always_inline __u32 emit_block_free(const struct rw_op_state *op, __u32 fs,
					      __u64 ts, __u64 blocks)
{
	struct rw_block_free *r;

	r = reserve_record(RW_REC_BLOCK_FREE, struct rw_block_free, ts);
	if (!r)
		return 1;
	r->op_id = op->op_id;
	r->fs = fs;
	r->blocks = blocks;
	submit_record(r);
	return 0;
}

/*
 * The frees the operation made, folded by handle_block_free(): its first
 * and its last, each at its own time, carrying every block between them;
 * and the start of an ext4 extent shift (handle_ext4_shift()). Userspace
 * judges an operation only once it has ended, so nothing is late.
 * Returns how many records could not be sent.
 */
static __always_inline __u32 op_send_frees(const struct rw_op_state *op)
{
	__u32 lost = 0;

	if (op->shift_ts)
		lost += emit_block_free(op, RW_FREE_EXT4_SHIFT, op->shift_ts, 0);
	if (!op->nfree)
		return lost;
	lost += emit_block_free(op, op->free_fs, op->first_free_ts, op->first_free_blocks);
	if (op->nfree > 1)
		lost += emit_block_free(op, op->free_fs, op->last_free_ts,
					op->free_blocks - op->first_free_blocks);
	return lost;
}

static __always_inline void emit_inval_end(__u64 op_id, __u64 ts)
{
	struct rw_inval_end *r;

	r = reserve_record(RW_REC_INVAL_END, struct rw_inval_end, ts);
	if (!r)
		return;
	r->op_id = op_id;
	submit_record(r);
}

/*
 * An operation starts dropping [first, last] of its inode: announce the
 * operation on its first invalidation, then the invalidation, and only then
 * publish the window (see window_open()).
 */
static __always_inline void op_invalidates(void *ctx, struct rw_op_state *op,
					   struct inode *inode, __u64 first,
					   __u64 last, __u32 fn)
{
	struct rw_window_state *w;

	if (!op->op_id) {
		op->op_id = new_op_id();
		emit_op_begin(op, inode);
	}
	emit_inval_begin(ctx, op, inode, first, last, fn);
	w = window_open(&op->key, first, last, !op->window_open);
	if (!w) {
		op->window_failed = 1;
		return;
	}
	if (!op->window_open)
		op->lost_base = w->lost;
	op->window_open = 1;
}

/* Tracepoint mode: the operation's own arguments give the dropped range. */
static __always_inline void op_derive_window(void *ctx, struct rw_op_state *op,
					     struct inode *inode)
{
	__u64 first, last;

	if (rw_op_range(op->kind, op->mode, op->offset, op->len, page_shift,
			&first, &last))
		return;
	hook_hit(RW_HIT_INVAL_DERIVED);
	op_invalidates(ctx, op, inode, first, last, RW_INVAL_DERIVED);
}

/* truncate(2) by path in tracepoint mode learns its inode late. */
static __always_inline void op_bind_inode(void *ctx, struct rw_op_state *op,
					  struct inode *inode,
					  const struct rw_inode_key *key)
{
	op->key = *key;
	op->key_known = 1;
	op->pending_bind = 0;
	__sync_fetch_and_add(&inflight, -1);
	if (!key_filtered_out(key) && !inode_unwatched(inode))
		op_derive_window(ctx, op, inode);
}

/*
 * Where a window's slots can be, read before the window closes into this
 * CPU's page_emit (not the stack: 5.10 refused inval_fentry at 544 bytes
 * of combined stack with it there): the union of its inode's ranges, which
 * the last operation to close walks to free them all; and the range of the
 * operation's own task, which holds its own candidates. A window never
 * seen means anywhere.
 */
static __always_inline void page_slots_span(const struct rw_inode_key *key)
{
	struct rw_window_state *w = bpf_map_lookup_elem(&inode_windows, key);
	struct rw_window_range *r;
	struct page_emit *pe;
	__u32 zero = 0;

	pe = bpf_map_lookup_elem(&page_emits, &zero);
	if (!pe)
		return;
	pe->first = pe->own_first = 0;
	pe->last = pe->own_last = RW_PAGE_EOF;
	if (!w)
		return;
	r = &w->ranges[rw_window_range_of(current_tid())];
	pe->first = w->all.first;
	pe->last = w->all.last;
	pe->own_first = r->first;
	pe->own_last = r->last;
}

/* What a PAGE record says of the candidate in slot cp (a copy: CO-RE reads
 * must only see kernel types, never a path through our own struct). */
static __always_inline void fill_page_state(struct rw_page_state *r, const struct page_slot *cp)
{
	struct address_space *mapping = cp->mapping;
	struct inode *inode;

	r->index = cp->index;
	r->insert_ts = cp->insert_ts;
	r->present = cache_entry_mapping(cp->entry) == mapping &&
		     cache_entry_index(cp->entry) == cp->index;
	r->mapped_to_disk = cache_entry_flag(cp->entry,
					     bpf_core_enum_value(enum pageflags, PG_mappedtodisk));
	r->read_map = cp->read_map;
	r->read_map_from = cp->read_map_from;
	r->read_map_ts = cp->read_map_ts;
	r->uptodate = cache_entry_flag(cp->entry, bpf_core_enum_value(enum pageflags, PG_uptodate));
	if (!r->read_map && r->present && !r->uptodate)
		r->read_map = RW_READ_MAP_PENDING;
	inode = BPF_CORE_READ(mapping, host);
	r->blkbits = BPF_CORE_READ(inode, i_blkbits);
}

/*
 * Send the PAGE record of one slot: SLOT_FOUND if there was one, and
 * SLOT_LOST too if its record could not be sent. A global
 * function, so the verifier checks it once instead of once per iteration
 * of emit_page_states()'s walk, which a 512-slot walk inlined pushed past
 * the verifier's 1M-instruction limit. 5.10 lets global functions
 * take only scalars (pointer arguments came in 5.12), hence page_emits
 * (state.bpf.h).
 */
#define SLOT_FOUND	1
#define SLOT_LOST	2

__noinline int emit_page_slot(__u32 slot)
{
	struct page_slot_key sk = {};
	struct rw_page_state *r;
	struct page_emit *pe;
	struct page_slot *ps;
	struct page_slot cp;
	__u32 zero = 0;

	pe = bpf_map_lookup_elem(&page_emits, &zero);
	if (!pe)
		return 0;
	sk.key = pe->key;
	sk.slot = slot;
	ps = bpf_map_lookup_elem(&page_slots, &sk);
	if (!ps)
		return 0;
	/*
	 * An insert older than the operation, or outside its task's range,
	 * is none of its candidates (userspace takes an insert only after an
	 * invalidation of the operation began, and only in its range), so
	 * its PAGE record would be read and dropped. Under same-file
	 * contention on btrfs, where overlapping operations keep the slots
	 * alive for one another, such records were 70 % of those sent (3.8 M
	 * PAGEs beside 0.78 M INSERTs in 10 s of tools/contend.c) and
	 * overflowed the ring buffer. The last to close still frees them.
	 */
	if (ps->insert_ts < pe->since || ps->index > pe->own_last ||
	    ps->index + ps->nr_pages <= pe->own_first) {
		if (pe->last_closer)
			slot_delete(&sk);
		return 0;
	}
	/* Reserved before the slot is copied: a read that marks the slot
	 * after the copy sends its FOLLOWUP after this record in the ring,
	 * which is ordered by reservation, so userspace never sees the
	 * follow-up of a pending page before the page. */
	r = reserve_record(RW_REC_PAGE, struct rw_page_state, pe->ts);
	if (!r) {
		if (pe->last_closer)
			slot_delete(&sk);
		return SLOT_FOUND | SLOT_LOST;
	}
	/* Copies: BPF_CORE_READ() must only see kernel types, never an
	 * access path through our own struct. */
	cp = *ps;
	if (pe->last_closer)
		slot_delete(&sk);
	r->op_id = pe->op_id;
	r->key = pe->key;
	fill_page_state(r, &cp);
	submit_record(r);
	return SLOT_FOUND;
}

/*
 * Tracepoint mode opens the window at the syscall, before the kernel has
 * looked at the request: open none for a request that cannot drop a page
 * whose blocks go away, or OP_BEGIN, INVAL_BEGIN and OP_END would be all it
 * ever sends (most of stress-ng's fallocate calls are such requests).
 */
static __always_inline bool op_derived_drops(struct inode *inode, __u32 kind, __u32 mode,
					     __s64 offset, __s64 len)
{
	unsigned long magic;
	__u64 first, last;

	if (rw_op_range(kind, mode, offset, len, page_shift, &first, &last))
		return false;
	if (kind != RW_OP_FALLOCATE || !inode)
		return true;
	magic = BPF_CORE_READ(inode, i_sb, s_magic);
	/* btrfs_fallocate() refuses every mode but punch and zero range. */
	if (magic == BTRFS_SUPER_MAGIC &&
	    (mode & (RW_FALLOC_COLLAPSE_RANGE | RW_FALLOC_INSERT_RANGE)))
		return false;
	if (!fs_whole_blocks(magic))
		return true;
	return !rw_falloc_below_block(mode, offset, len, BPF_CORE_READ(inode, i_blkbits));
}

/*
 * At the end of an operation, look at the candidate pages it left: still in
 * the mapping, and read from disk (PG_mappedtodisk) or zero-filled? Emitted
 * before OP_END, so userspace has the evidence when it judges.
 *
 * Only the slots the span can use are visited: its pages modulo
 * RW_PAGE_SLOTS, every slot once the span is that wide. (Stopping once as
 * many slots were found as page_slots held at the start lost page checks
 * in the 5.10 kprobe punch case: 2 unchecked race windows in one run.) The
 * last operation
 * to close a window on the inode frees the slots; one that closes while
 * another is still open leaves them for it, so an operation ending first
 * no longer takes the other's evidence.
 */
static __always_inline __u32 emit_page_states(__u64 op_id, const struct rw_inode_key *key,
					      __u64 since, __u64 ts)
{
	struct page_emit *pe;
	__u64 first, width;
	__u32 zero = 0;
	__u32 lost = 0;

	if (!slots_live)
		return 0;
	pe = bpf_map_lookup_elem(&page_emits, &zero);
	if (!pe)
		return 0;
	pe->op_id = op_id;
	pe->key = *key;
	pe->ts = ts;
	pe->since = since;
	pe->last_closer = !window_is_open(key);
	/* The last to close walks the union, to free every slot. */
	first = pe->last_closer ? pe->first : pe->own_first;
	width = (pe->last_closer ? pe->last : pe->own_last) - first;
	for (__u32 i = 0; i < RW_PAGE_SLOTS; i++) {
		if (width < RW_PAGE_SLOTS - 1 && i > width)
			break;
		lost += !!(emit_page_slot((first + i) & (RW_PAGE_SLOTS - 1)) & SLOT_LOST);
	}
	return lost;
}

/*
 * An operation ends: close its window, check its candidate pages and say
 * what it could not report. Every operation that emitted OP_BEGIN gets an
 * OP_END, even one whose window could not be opened, so userspace never
 * waits for it.
 */
static __always_inline void op_finish(struct rw_op_state *op, __s64 ret, __u32 flags)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 lost = op->lost;

	if (op->window_open) {
		lost += op_send_frees(op);
		lost += window_lost_since(&op->key, op->lost_base);
		page_slots_span(&op->key);
		/* Its pending pages' reads are still to map them; set while
		 * the window is open (reads_idle()). */
		follow_until = now + RW_FOLLOW_NS;
		window_close(&op->key);
		lost += emit_page_states(op->op_id, &op->key, op->start_ts, now);
	} else if (op->pending_bind) {
		__sync_fetch_and_add(&inflight, -1);
	}
	if (op->window_failed)
		flags |= RW_OP_END_UNWATCHED;
	if (op->op_id)
		emit_op_end(op->op_id, ret, now, flags, lost);
	else if (op->key_known && !key_filtered_out(&op->key))
		/* Watched, but it never dropped a page (refused before the
		 * page cache, or less than a page): counted apart, as the
		 * requests tracepoint mode opens no window for. */
		__sync_fetch_and_add(&ops_skipped, 1);
}

static __always_inline int handle_op_end(void *ctx, __s64 ret)
{
	__u32 tid = current_tid();
	struct rw_op_state *op = bpf_map_lookup_elem(&ops, &tid);

	if (!op)
		return 0;
	op_finish(op, ret, 0);
	bpf_map_delete_elem(&ops, &tid);
	return 0;
}

static __always_inline int handle_op_start(void *ctx, struct inode *inode,
					   __u32 kind, __u32 mode,
					   __s64 offset, __s64 len)
{
	__u32 tid = current_tid();
	struct rw_op_state op = {};
	struct rw_op_state *live;

	/*
	 * The task's previous operation never returned: a kretprobe that
	 * missed (all its instances in use). A nested call (overlayfs passes
	 * fallocate down to the real file) finds an outer operation that has
	 * not invalidated yet, so it has no window and is simply replaced.
	 */
	live = bpf_map_lookup_elem(&ops, &tid);
	if (live && (live->op_id || live->pending_bind)) {
		count(RW_CNT_RETURN_MISSED);
		op_finish(live, 0, RW_OP_END_NO_RETURN);
		bpf_map_delete_elem(&ops, &tid);
	}

	op.start_ts = bpf_ktime_get_ns();
	op.kind = kind;
	op.mode = mode;
	op.offset = offset;
	op.len = len;
	if (inode) {
		inode_key(inode, &op.key);
		op.key_known = 1;
		if (key_filtered_out(&op.key) || inode_unwatched(inode))
			return 0;
	}
	if (derive_invalidation && !op_derived_drops(inode, kind, mode, offset, len)) {
		__sync_fetch_and_add(&ops_skipped, 1);
		return 0;
	}
	if (bpf_map_update_elem(&ops, &tid, &op, BPF_ANY)) {
		count(RW_CNT_OPS_FULL);
		return 0;
	}
	if (!derive_invalidation)
		return 0;
	live = bpf_map_lookup_elem(&ops, &tid);
	if (!live)
		return 0;
	if (live->key_known) {
		op_derive_window(ctx, live, inode);
	} else {
		live->pending_bind = 1;
		__sync_fetch_and_add(&inflight, 1);
	}
	return 0;
}

/* lstart/lend as truncate_inode_pages_range() takes them: whole pages only,
 * partial pages at the edges are zeroed in place, not dropped. */
static __always_inline bool truncate_page_range(__s64 lstart, __s64 lend,
						__u64 *first, __u64 *last)
{
	__u64 end;

	*first = ((__u64)lstart + (1ULL << page_shift) - 1) >> page_shift;
	if (lend == -1) {
		*last = RW_PAGE_EOF;
		return true;
	}
	end = ((__u64)lend + 1) >> page_shift;	/* exclusive */
	if (end <= *first)
		return false;
	*last = end - 1;
	return true;
}

/*
 * An invalidation returns. One with no operation around it is its own
 * operation: it closes its window, checks its pages and ends.
 */
/* ret: the invalidation's return, where it has one (iv->pages2). */
static __always_inline void inval_finish(struct rw_inval_state *iv, __u32 flags, __s64 ret)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 lost = iv->lost;

	if (iv->window_open) {
		lost += window_lost_since(&iv->key, iv->lost_base);
		page_slots_span(&iv->key);
		/* As op_finish() does: before the window closes. */
		if (iv->standalone)
			follow_until = now + RW_FOLLOW_NS;
		window_close(&iv->key);
	}
	emit_inval_end(iv->op_id, now);
	if (!iv->standalone)
		return;
	if (iv->window_open)
		lost += emit_page_states(iv->op_id, &iv->key, iv->start_ts, now);
	if (iv->window_failed)
		flags |= RW_OP_END_UNWATCHED;
	/* A direct-I/O write whose first invalidation failed (-EBUSY) falls
	 * back to buffered I/O (README "Direct I/O"): userspace counts it. */
	if (iv->op_id)
		emit_op_end(iv->op_id, iv->pages2 ? ret : 0, now, flags, lost);
}

/*
 * Is this invalidate_inode_pages2_range(), with no operation around it, a
 * direct-I/O write's second, made once the write is on disk? A write
 * invalidates its range before it writes and again after (README "Direct
 * I/O"): the task's second of the inode within one write system call is,
 * and so is a workqueue worker's, an asynchronous write's completion. The
 * task's last first invalidation is kept by tid (dio_firsts). Out of line,
 * a frame of its own: inlined, handle_inval_begin()'s stack and
 * emit_page_slot()'s came to 544 bytes, over the 512 that 5.10 allows.
 */
static __noinline bool dio_after_write(const struct rw_inode_key *key, __u64 first)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct dio_first cur = { .key = *key, .first = first };
	__u32 tid = current_tid();
	struct dio_first *last;

	if (task_is_wq_worker(task))
		return true;
	cur.write_calls = task_write_calls(task);
	last = bpf_map_lookup_elem(&dio_firsts, &tid);
	/* Both cover the write's pages from its first: an asynchronous
	 * writer's writes elsewhere in the file (no write system call
	 * counted) are not taken for this one's second. */
	if (last && key_equal(&last->key, key) && last->first == first &&
	    last->write_calls == cur.write_calls) {
		bpf_map_delete_elem(&dio_firsts, &tid);
		return true;
	}
	bpf_map_update_elem(&dio_firsts, &tid, &cur, BPF_ANY);
	return false;
}

static __always_inline int handle_inval_begin(void *ctx, struct address_space *mapping,
					      __u64 first, __u64 last, __u32 fn)
{
	struct inode *inode = BPF_CORE_READ(mapping, host);
	struct rw_inval_state iv = {};
	struct rw_inode_key key = {};
	__u32 tid = current_tid();
	struct rw_inval_state *stale;
	struct rw_op_state *op;

	if (!inode || mapping_exiting(mapping) || inode_unwatched(inode))
		return 0;
	inode_key(inode, &key);
	if (key_filtered_out(&key))
		return 0;

	/* Invalidations do not nest: a leftover is a return that never fired. */
	stale = bpf_map_lookup_elem(&invals, &tid);
	if (stale) {
		count(RW_CNT_RETURN_MISSED);
		inval_finish(stale, RW_OP_END_NO_RETURN, 0);
		bpf_map_delete_elem(&invals, &tid);
	}

	op = bpf_map_lookup_elem(&ops, &tid);
	if (op && op->key_known && !key_equal(&op->key, &key))
		op = NULL;	/* some other inode: not this operation's window */
	if (op) {
		if (op->pending_bind) {
			op->pending_bind = 0;
			__sync_fetch_and_add(&inflight, -1);
		}
		op->key = key;
		op->key_known = 1;
		op_invalidates(ctx, op, inode, first, last, fn);
		iv.op_id = op->op_id;
	} else {
		struct rw_op_state bare = {};

		/* Before the check below: a first invalidation with nothing
		 * cached still names its write's second. */
		if (fn == RW_INVAL_PAGES2 && dio_after_write(&key, first))
			bare.inval_flags = RW_INVAL_AFTER_WRITE;
		/* Direct I/O invalidates on every write; with nothing cached
		 * there is nothing to drop and no window worth a record. */
		if (!BPF_CORE_READ(mapping, nrpages))
			return 0;
		bare.start_ts = bpf_ktime_get_ns();
		bare.kind = RW_OP_INVALIDATE;
		bare.key = key;
		bare.key_known = 1;
		op_invalidates(ctx, &bare, inode, first, last, fn);
		iv.op_id = bare.op_id;
		iv.standalone = 1;
		iv.window_open = bare.window_open;
		iv.window_failed = bare.window_failed;
		iv.lost_base = bare.lost_base;
		iv.lost = bare.lost;
		iv.start_ts = bare.start_ts;
		iv.pages2 = fn == RW_INVAL_PAGES2;
	}
	iv.key = key;
	if (bpf_map_update_elem(&invals, &tid, &iv, BPF_ANY)) {
		/* Its return cannot be matched: end it now, marked unsure. */
		count(RW_CNT_OPS_FULL);
		if (op)
			op->lost++;
		iv.lost++;
		inval_finish(&iv, 0, 0);
	}
	return 0;
}

/* ret: the function's return (0 for truncate_inode_pages_range(), which
 * has none). */
static __always_inline int handle_inval_end(void *ctx, __s64 ret)
{
	__u32 tid = current_tid();
	struct rw_inval_state *iv = bpf_map_lookup_elem(&invals, &tid);

	if (!iv)
		return 0;
	inval_finish(iv, 0, ret);
	bpf_map_delete_elem(&invals, &tid);
	return 0;
}

/* The filesystem freed blocks; inode is NULL where the hook cannot name it
 * (xfs frees by AG block): then the freeing task's operation owns them. */
static __always_inline int handle_block_free(void *ctx, struct inode *inode,
					     __u32 fs, __u64 blocks)
{
	__u32 tid = current_tid();
	struct rw_op_state *op = bpf_map_lookup_elem(&ops, &tid);
	__u64 ts;

	if (!op)
		return 0;
	if (inode) {
		struct rw_inode_key key = {};

		inode_key(inode, &key);
		if (op->pending_bind)
			op_bind_inode(ctx, op, inode, &key);
		else if (!key_equal(&op->key, &key))
			return 0;	/* e.g. ext4 freeing another inode's blocks */
	}
	/* Not the zero-range conversion, which ends its window here too. */
	if (op->key_known && !key_filtered_out(&op->key)) {
		if (fs == RW_FREE_XFS)
			hook_hit(RW_HIT_FREE_XFS);
		else if (fs == RW_FREE_EXT4)
			hook_hit(RW_HIT_FREE_EXT4);
	}
	if (!op->window_open)
		return 0;
	/* ext4 frees extent by extent: one truncate of a file in 8,192
	 * extents was 8,218 records. Fold them; op_send_frees() sends the
	 * first and the last before OP_END. */
	ts = bpf_ktime_get_ns();
	if (!op->nfree++) {
		op->first_free_ts = ts;
		op->first_free_blocks = blocks;
	}
	op->free_fs = fs;
	op->last_free_ts = ts;
	op->free_blocks += blocks;
	return 0;
}

/*
 * ext4 zero range frees no blocks. After dropping the page cache it
 * converts the range's extents to unwritten (ext4_zero_range() ->
 * ext4_alloc_file_blocks() with EXT4_GET_BLOCKS_CONVERT_UNWRITTEN, through
 * ext4_map_blocks() -> ext4_ext_map_blocks()), and reads of the range
 * return zeros from then on: that is where its window ends, as punch's ends
 * at its last free.
 *
 * Not at ext4:ext4_ext_map_blocks_exit itself, though: ext4_map_blocks()
 * updates the extent-status tree only after ext4_ext_map_blocks() returns,
 * and until then a reader that finds the extent there still maps the old
 * blocks. Measured on 5.10 under TCG (tests/vm, zero range of 200 blocks):
 * 117 pages inserted 1 ms after the tracepoint were read from disk and
 * held old data. So the conversion is only noted here, and the window ends
 * at the next ext4:ext4_mark_inode_dirty in the same task, which
 * ext4_alloc_file_blocks() calls after each ext4_map_blocks().
 *
 * The tracepoint fires for every ext4 block mapping in the system, so the
 * flag is tested first; only the zero-range operation's own task counts.
 */
static __always_inline int handle_zero_convert(void *ctx, struct inode *inode,
					       __u32 flags, int ret)
{
	struct zero_pending zp = {};
	struct zero_pending *old;
	struct rw_op_state *op;
	__u32 tid;

	if (!(flags & EXT4_GET_BLOCKS_CONVERT_UNWRITTEN) || ret <= 0 || !inflight)
		return 0;
	tid = current_tid();
	op = bpf_map_lookup_elem(&ops, &tid);
	if (!op || !op->window_open || op->kind != RW_OP_FALLOCATE ||
	    !(op->mode & RW_FALLOC_ZERO_RANGE))
		return 0;
	if (op->key_known && !key_filtered_out(&op->key))
		hook_hit(RW_HIT_CONVERT_EXT4);
	old = bpf_map_lookup_elem(&zero_converted, &tid);
	if (old && old->op_id == op->op_id) {
		old->blocks += ret;
		return 0;
	}
	zp.op_id = op->op_id;
	zp.blocks = ret;
	bpf_map_update_elem(&zero_converted, &tid, &zp, BPF_ANY);
	return 0;
}

/* ext4:ext4_mark_inode_dirty after a conversion: the extent-status tree
 * says unwritten by now, so this is the zero range's BLOCK_FREE. */
static __always_inline int handle_zero_settled(void *ctx, struct inode *inode)
{
	struct zero_pending *zp;
	struct rw_op_state *op;
	__u64 blocks;
	__u32 tid;
	bool mine;

	if (!inflight)
		return 0;
	tid = current_tid();
	zp = bpf_map_lookup_elem(&zero_converted, &tid);
	if (!zp)
		return 0;
	op = bpf_map_lookup_elem(&ops, &tid);
	mine = op && op->op_id == zp->op_id;
	blocks = zp->blocks;
	bpf_map_delete_elem(&zero_converted, &tid);
	if (!mine)
		return 0;
	return handle_block_free(ctx, inode, RW_FREE_EXT4_CONVERT, blocks);
}

/*
 * ext4 collapse and insert range move the extents after the drop, under
 * i_data_sem held exclusively (ext4_collapse_range(), ext4_insert_range():
 * down_write(i_data_sem), ext4_es_remove_extent() from the range on, the
 * extent-tree work, up_write). A reader that looks the extent tree up
 * (ext4_map_blocks() -> ext4_ext_map_blocks(), i_data_sem shared) after the
 * removal began waits for the shift and maps the extents where they moved:
 * current data, whatever PG_mappedtodisk then says. Noted once per
 * operation in its own task; op_send_frees() reports it. Extent-cache hits
 * are not ordered by it (the tracepoint fires before i_es_lock is taken),
 * so those pages stay judged by the flag.
 */
static __always_inline int handle_ext4_shift(void *ctx, struct inode *inode)
{
	struct rw_inode_key key = {};
	struct rw_op_state *op;
	__u32 tid;

	if (!inflight)
		return 0;
	tid = current_tid();
	op = bpf_map_lookup_elem(&ops, &tid);
	if (!op || !op->window_open || op->shift_ts || op->kind != RW_OP_FALLOCATE ||
	    !(op->mode & (RW_FALLOC_COLLAPSE_RANGE | RW_FALLOC_INSERT_RANGE)))
		return 0;
	if (!inode_key(inode, &key) || !key_equal(&op->key, &key))
		return 0;
	op->shift_ts = bpf_ktime_get_ns();
	return 0;
}

#endif /* RACEWATCH_OPS_BPF_H */
