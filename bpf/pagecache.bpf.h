/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Handlers for the page-cache side: inserts (the hot path: every page read
 * into the cache anywhere runs this) and deletes of candidate pages.
 */
#ifndef RACEWATCH_PAGECACHE_BPF_H
#define RACEWATCH_PAGECACHE_BPF_H

#include <linux/errno.h>
#include "state.bpf.h"
#include "ops.bpf.h"

/* The hot-path gate: nothing is in flight, so no insert can matter. */
static __always_inline bool windows_idle(void)
{
	return !inflight;
}

/*
 * The ext4 read-mapping gate: no window open, and none closed within
 * RW_FOLLOW_NS, so no read can be one whose page a PAGE record found still
 * to map (follow-ups, emit_followup()). The clock is read only in that
 * second after a window closed.
 */
static __always_inline bool reads_idle(void)
{
	__u64 until;

	/*
	 * inflight before follow_until, which an operation sets before its
	 * window closes (op_finish()): seen closed, its deadline is seen too.
	 * Read the other way, a deadline set between the two reads was
	 * cleared below unseen, and that operation's pending pages lost
	 * their follow-ups. A whole operation between the two reads still
	 * can, and costs what an evicted unread range costs: those pages are
	 * judged by the flag, counted as followups_missing.
	 */
	if (inflight)
		return false;
	until = follow_until;
	if (!until)
		return true;
	if (bpf_ktime_get_ns() <= until)
		return false;
	follow_until = 0;
	return true;
}

/* Is the candidate in this slot still waiting for its operation's end?
 * Its candidates entry goes when it is deleted or judged. */
static __always_inline bool slot_pending(const struct rw_inode_key *key,
					 const struct page_slot *old)
{
	struct rw_cand_key ck = { .key = *key, .index = old->index };
	__u64 *ts = bpf_map_lookup_elem(&candidates, &ck);

	return ts && *ts == old->insert_ts;
}

/*
 * The task's read is still to map the candidate of nr pages at index
 * (mark_read_map()). Readahead inserts a batch in ascending order and then
 * reads it, all in the inserting task, so by the time an insert does not
 * continue the task's range, every page of the range that its read was
 * going to map has been mapped: the range starts again there. (Keeping the
 * leftovers, pages never mapped, such as those truncated before their
 * read, stretched the range until the walk from its start, at most
 * RW_PAGE_SLOTS slots, no longer reached the pages being read: in the 5.10
 * zero-range case 75 of 836 pages read from disk went unmarked.) Losing
 * the entry (LRU) costs only read_map evidence: pages without it are judged
 * by PG_mappedtodisk, as without the role.
 */
static __always_inline void note_unread(const struct rw_inode_key *key, __u64 index, __u32 nr)
{
	__u32 tid = current_tid();
	struct unread_range *u = bpf_map_lookup_elem(&unread, &tid);
	struct unread_range nu = { .key = *key, .first = index, .last = index + nr - 1 };

	if (u && key_equal(&u->key, key)) {
		if (index >= u->first && index <= u->last)
			return;
		if (index == u->last + 1) {
			u->last = index + nr - 1;
			return;
		}
	}
	bpf_map_update_elem(&unread, &tid, &nu, BPF_ANY);
}

/* Send a candidate's PAGE record now, with no operation (enum
 * rw_page_sent): userspace gives it to the operations that took its INSERT. */
static __always_inline bool send_page_now(const struct rw_inode_key *key,
					  const struct page_slot *slot, __u8 how)
{
	struct rw_page_state *r;

	r = reserve_record(RW_REC_PAGE, struct rw_page_state, bpf_ktime_get_ns());
	if (!r)
		return false;
	r->op_id = 0;
	r->key = *key;
	fill_page_state(r, slot);
	r->sent = how;
	submit_record(r);
	return true;
}

/*
 * A later insert takes the slot of old, a candidate still pending: old's
 * record goes now. What it says of the page holds at the end too: a delete
 * there sends a DELETE, and a read that maps the page afterwards a FOLLOWUP
 * (emit_followup()). (Before, it was left unsent and judged with evidence
 * unchecked, and counted nowhere: counting it as a loss had made those
 * operations lossy, and recall fell to 7/8 in the 5.10 full mix.) Read from
 * the slot in place: a concurrent insert that rewrites it sends a record no
 * group matches, which userspace drops.
 */
static __always_inline void send_displaced(const struct rw_inode_key *key,
					   const struct page_slot *old)
{
	__sync_fetch_and_add(&slots_displaced, 1);
	if (!send_page_now(key, old, RW_PAGE_SENT_DISPLACED))
		window_note_loss(key);
}

/*
 * Keep the candidate for its operation's end (emit_page_states()), in the
 * slot of its index modulo RW_PAGE_SLOTS: a window up to that many pages
 * wide has a slot for every page. With 32 slots a wider window silently
 * lost the page checks of most of its pages to later candidates, and those
 * were judged with evidence "unchecked".
 */
static __always_inline void remember_page(const struct rw_inode_key *key,
					  struct address_space *mapping, void *entry,
					  __u64 index, __u32 nr, __u64 ts)
{
	struct page_slot_key sk = { .key = *key, .slot = index & (RW_PAGE_SLOTS - 1) };
	struct page_slot slot = { .entry = entry, .mapping = mapping,
				  .index = index, .insert_ts = ts,
				  .tid = current_tid(), .nr_pages = nr ? nr : 1 };
	struct page_slot *old;
	/*
	 * int, and each return cast to it: Debian's 5.10 hands this helper's
	 * errors back zero-extended (-EEXIST read as 4294967279 in a 64-bit
	 * register, seen with bpf_printk in the 5.10 workloads case), so a
	 * long never equalled -ENOENT or -EEXIST, and every lost race with a
	 * concurrent delete or create was counted as slots_map_full.
	 */
	int err = -ENOENT;

	/*
	 * Only a window wider than RW_PAGE_SLOTS pages can displace a
	 * candidate still pending: collapse, insert and truncate run to EOF,
	 * and on 5.10 their candidates spread over up to 4134 pages. Its PAGE
	 * record goes now (send_displaced()), not with the walk, which will
	 * find this one in its slot. (Trying BPF_NOEXIST first, to shorten
	 * the path to the slot, made 5.10 fail updates by the thousand,
	 * counted as slots_map_full: the zero-extended errors below, most
	 * likely.)
	 */
	old = bpf_map_lookup_elem(&page_slots, &sk);
	if (old) {
		if (old->index != index && slot_pending(key, old))
			send_displaced(key, old);
		err = (int)bpf_map_update_elem(&page_slots, &sk, &slot, BPF_EXIST);
	}
	/* slots_live counts each entry once: only a creation adds to it. */
	if (err == -ENOENT) {
		err = (int)bpf_map_update_elem(&page_slots, &sk, &slot, BPF_NOEXIST);
		if (!err)
			__sync_fetch_and_add(&slots_live, 1);
		else if (err == -EEXIST)
			err = (int)bpf_map_update_elem(&page_slots, &sk, &slot, BPF_EXIST);
	}
	/* A full map costs the page's evidence: its operation says so. */
	if (err) {
		count(RW_CNT_SLOTS_FULL);
		window_note_loss(key);
		return;
	}
	/*
	 * The window closed since the insert saw it, and its operation's walk
	 * may have passed this slot before it was written: send the PAGE
	 * record here, with no operation (userspace gives it to the ended
	 * operations that took the INSERT and have no PAGE of it), and free
	 * the slot. Deleted first: a walk that took the slot meanwhile sent
	 * the record and freed it, and then nothing is sent here. (Left to the
	 * walk alone, 2 of 1,066 race windows of a 5.10 zero-range run were
	 * judged with evidence unchecked.)
	 */
	if (!window_is_open(key) && !bpf_map_delete_elem(&page_slots, &sk)) {
		__sync_fetch_and_add(&slots_live, -1);
		/* Unsent, it is counted as such: its operation has ended. */
		send_page_now(key, &slot, RW_PAGE_SENT_LATE);
	}
}

/*
 * No operation can judge this insert race: invalidate_lock was free, or held
 * shared, or held exclusively by the inserting task itself, which is then
 * in its own exclusive section (self for its own operation, unlocked for
 * any other's). ABSENT (before 5.15), UNREADABLE and a writer not yet named
 * (owner 0) clear nothing.
 */
static __always_inline bool lock_clears(const struct rw_lock *l)
{
	if (l->state == RW_LOCK_FREE || l->state == RW_LOCK_READ)
		return true;
	return l->state == RW_LOCK_WRITE && l->owner_tid &&
	       l->owner_tid == (__u32)bpf_get_current_pid_tgid();
}

/*
 * A candidate left the page cache: its DELETE decides its verdict, so its
 * slot has nothing left to check. Freed now, or every inode with a window
 * kept up to RW_PAGE_SLOTS of them until its last operation ended: in the
 * 5.10 workloads case (stress-ng's many files, contend's truncates to EOF)
 * page_slots filled while candidates, which deletions free, had room. Runs
 * under the mapping's i_pages lock (the delete tracepoint fires inside
 * it), so no insert at this index can have replaced the page yet.
 */
static __always_inline void forget_page(const struct rw_inode_key *key, __u64 index)
{
	struct page_slot_key sk = { .key = *key, .slot = index & (RW_PAGE_SLOTS - 1) };
	struct page_slot *ps = bpf_map_lookup_elem(&page_slots, &sk);

	if (ps && ps->index == index)
		slot_delete(&sk);
}

/* A successful insert of entry (a page or folio) at index into mapping. */
static __always_inline int handle_insert(void *ctx, struct address_space *mapping,
					 void *entry, __u64 index)
{
	struct rw_inode_key key = {};
	struct rw_cand_key ck = {};
	struct rw_insert *r;
	struct inode *inode;
	struct rw_window_state *w;
	struct rw_locks locks = {};
	__u64 ts;
	__u32 nr;

	if (windows_idle() && !count_hooks)
		return 0;
	inode = BPF_CORE_READ(mapping, host);
	if (!inode_key(inode, &key))
		return 0;
	if (count_hooks) {
		hook_hit_key(RW_HIT_INSERT, &key, inode);
		if (windows_idle())
			return 0;
	}
	w = bpf_map_lookup_elem(&inode_windows, &key);
	if (!w || w->all.refs <= 0)
		return 0;
	nr = cache_entry_nr_pages(entry);
	if (!window_covers(w, index, nr))
		return 0;

	/*
	 * The lock rule (README "Verdicts"): on a modelled filesystem of a
	 * kernel with invalidate_lock, a stale page needs an insert while the
	 * invalidator holds it exclusively. Free or shared at the insert (a
	 * reader's fault or readahead holds it shared itself), the insert is
	 * judged unlocked whatever else happens (lock_clears()): unless -v
	 * asked to see such windows, it is counted and not sent. Under
	 * same-file contention these were most of the ring buffer.
	 */
	read_locks(mapping, inode, &locks);
	if (!send_cleared && fs_lock_modelled(BPF_CORE_READ(inode, i_sb, s_magic)) &&
	    lock_clears(&locks.invalidate_lock)) {
		__sync_fetch_and_add(&inserts_cleared, 1);
		return 0;
	}

	ts = bpf_ktime_get_ns();
	ck.key = key;
	ck.index = index;
	r = reserve_record(RW_REC_INSERT, struct rw_insert, ts);
	if (!r) {
		__sync_fetch_and_add(&w->lost, 1);
		return 0;
	}
	/*
	 * The slot first: an operation ending meanwhile would miss a slot
	 * written after its walk, and leave this candidate unchecked. Its
	 * PAGE record still follows this INSERT in the ring, which is
	 * ordered by reservation.
	 */
	remember_page(&key, mapping, entry, index, nr, ts);
	note_unread(&key, index, nr ? nr : 1);
	fill_task(&r->task);
	r->key = key;
	r->index = index;
	r->nr_pages = nr;
	r->stack_id = stack_id(ctx);
	__builtin_memcpy(&r->locks, &locks, sizeof(locks));
	if (bpf_map_update_elem(&candidates, &ck, &ts, BPF_ANY)) {
		count(RW_CNT_CANDIDATES_FULL);
		r->flags |= RW_INSERT_UNTRACKED;
	}
	submit_record(r);
	return 0;
}

/*
 * Out of line: inlined into mark_read_map()'s loop, the compiler hoisted
 * the field offsets of cache_entry_flags() above the loop, out of the
 * bpf_core_field_exists() branches that keep the one this kernel lacks
 * from running, and 6.18 refused the program (invalid CO-RE relocation of
 * folio___flags_word.flags).
 */
static __noinline bool entry_uptodate(void *entry)
{
	return cache_entry_flag(entry, bpf_core_enum_value(enum pageflags, PG_uptodate));
}

/* The current task's unread candidates: none for nearly every lookup, so
 * the read-mapping handlers ask first and return at once. */
static __always_inline struct unread_range *current_unread(void)
{
	__u32 tid = current_tid();

	return bpf_map_lookup_elem(&unread, &tid);
}

/*
 * Tell userspace what the read mapped, whether or not a slot took it: the
 * slot's PAGE record may be gone already, its page pending (README "The
 * ext4 read mapping"). A follow-up the ring has no room for is counted as
 * unsent, and its pages are counted as missing their follow-up.
 */
static __always_inline void emit_followup(const struct rw_inode_key *key, __u64 first,
					  __u64 last, __u32 kind, __u32 from, __u64 now)
{
	struct rw_followup *r = reserve_record(RW_REC_FOLLOWUP, struct rw_followup, now);

	if (!r)
		return;
	r->key = *key;
	r->first = first;
	r->last = last;
	r->tid = current_tid();
	r->read_map = kind;
	r->read_map_from = from;
	submit_record(r);
}

/*
 * A read by the current task, whose unread candidates are u, mapped the
 * pages [first, last] of inode to kind (disk or zeros): mark each slot in
 * the range whose candidate this task inserted and has not read yet. A
 * page already uptodate was filled by a write, not by this read. A page
 * past EOF is zero-filled whatever the mapping says. The first mapping
 * wins: a reader maps a page once, and later lookups in its task are for
 * later pages. from names the lookup and the mark keeps its time: after an
 * ext4 extent shift, that tells which layout the read mapped.
 */
static __always_inline void mark_read_map(struct unread_range *u, struct inode *inode,
					  __u64 first, __u64 last, __u32 kind, __u32 from,
					  bool follow)
{
	struct rw_inode_key key = {};
	__u64 now, size;
	__u32 tid;

	if (!inode_key(inode, &key) || !key_equal(&u->key, &key))
		return;
	size = (__u64)BPF_CORE_READ(inode, i_size);
	if (!size || (__s64)size < 0)
		return;
	if (last > (size - 1) >> page_shift)
		last = (size - 1) >> page_shift;
	if (first < u->first)
		first = u->first;
	if (last > u->last)
		last = u->last;
	if (first > last)
		return;
	if (last - first >= RW_PAGE_SLOTS)
		last = first + RW_PAGE_SLOTS - 1;
	tid = current_tid();
	/* Mapped to the range's end: nothing is left to read. From its
	 * start: the rest is. */
	if (last >= u->last)
		bpf_map_delete_elem(&unread, &tid);
	else if (first == u->first)
		u->first = last + 1;
	now = bpf_ktime_get_ns();
	for (__u32 i = 0; i < RW_PAGE_SLOTS; i++) {
		struct page_slot_key sk = { .key = key };
		struct page_slot *ps;
		__u64 index = first + i;

		if (index > last)
			break;
		sk.slot = index & (RW_PAGE_SLOTS - 1);
		ps = bpf_map_lookup_elem(&page_slots, &sk);
		if (!ps || ps->index != index || ps->tid != tid || ps->read_map ||
		    ps->insert_ts > now || entry_uptodate(ps->entry))
			continue;
		ps->read_map = kind;
		ps->read_map_from = from;
		ps->read_map_ts = now;
	}
	if (follow)
		emit_followup(&key, first, last, kind, from, now);
}

/*
 * btrfs's read of a page it just inserted looks up the extent map under the
 * range's extent lock (btrfs_do_readpage() -> get_extent_map()), after every
 * folio of its readahead batch went in, and reuses the map for the batch's
 * later folios. What the read mapped decides a btrfs verdict (README
 * "Verdicts"): data from an extent the punch then drops is stale.
 */
static __always_inline int handle_btrfs_read_mapping(void *bi, void *em)
{
	struct unread_range *u;
	__u64 first, last;

	if (count_hooks && bi)
		hook_hit_on(RW_HIT_READMAP_BTRFS, btrfs_vfs_inode(bi));
	if (windows_idle() || !(u = current_unread()) || !bi || !em)
		return 0;
	btrfs_map_pages(em, page_shift, &first, &last);
	mark_read_map(u, btrfs_vfs_inode(bi), first, last,
		      btrfs_map_reads_zeros(em) ? RW_READ_MAP_ZEROS : RW_READ_MAP_DISK,
		      RW_READ_MAP_FROM_BTRFS, false);
	return 0;
}

/*
 * ext4's read path (ext4_mpage_readpages()) maps each page's blocks with
 * ext4_map_blocks() after the readahead batch went in, asking for the rest
 * of the batch and reusing the answer for its later pages, and sets
 * PG_mappedtodisk only after that, page by page. A reader stalled between
 * the two has mapped the old blocks with the flag still clear: seen in the
 * 5.10 punch case as confirmed stale pages judged hole. So mark what the
 * mapping returned. Only with blocks of a page: smaller ones need every
 * block of the page, which the flag rule already asks for.
 *
 * ext4_map_blocks() answers from the extent-status tree when it can
 * (ext4:ext4_es_lookup_extent_exit, which names the whole cached extent
 * around the block asked for), else from the extent tree
 * (ext4:ext4_ext_map_blocks_exit, which names what it mapped). A write
 * is rarely the task here: ext4 punches, zeroes, collapses, inserts and
 * truncates under i_rwsem, which writes take too; one that inserts after
 * the operation unlocked it and before it returned is judged late where
 * the operation freed blocks, whatever its mark.
 */
static __always_inline bool ext4_page_blocks(struct inode *inode)
{
	return inode && BPF_CORE_READ(inode, i_blkbits) == page_shift;
}

static __always_inline int handle_ext4_map_blocks(struct inode *inode, void *map, int ret)
{
	struct ext4_map_blocks___fixed m;
	struct unread_range *u;
	__u32 len;

	if (count_hooks)
		hook_hit_on(RW_HIT_READMAP_EXT4, inode);
	if (reads_idle() || !(u = current_unread()) || ret < 0 || !ext4_page_blocks(inode))
		return 0;
	if (bpf_probe_read_kernel(&m, sizeof(m), map))
		return 0;
	len = ret > 0 ? (__u32)ret : m.m_len;
	if (!len)
		return 0;
	mark_read_map(u, inode, m.m_lblk, (__u64)m.m_lblk + len - 1,
		      ret > 0 && (m.m_flags & (1U << bpf_core_enum_value(enum bh_state_bits,
									     BH_Mapped))) ?
		      RW_READ_MAP_DISK : RW_READ_MAP_ZEROS, RW_READ_MAP_FROM_EXT4_TREE, true);
	return 0;
}

static __always_inline int handle_ext4_es_lookup(struct inode *inode, void *es, int found)
{
	struct extent_status___fixed e;
	struct unread_range *u;
	__u32 kind;

	if (count_hooks)
		hook_hit_on(RW_HIT_READMAP_EXT4, inode);
	if (reads_idle() || !(u = current_unread()) || !found || !ext4_page_blocks(inode))
		return 0;
	if (bpf_probe_read_kernel(&e, sizeof(e), es) || !e.es_len)
		return 0;
	/* Delayed blocks have no disk place yet: their data is in the cache. */
	if (e.es_pblk & EXT4_ES_DELAYED)
		return 0;
	if (e.es_pblk & EXT4_ES_WRITTEN)
		kind = RW_READ_MAP_DISK;
	else if (e.es_pblk & (EXT4_ES_UNWRITTEN | EXT4_ES_HOLE))
		kind = RW_READ_MAP_ZEROS;
	else
		return 0;
	/* The whole cached extent: mark_read_map() cuts it at EOF, where
	 * ext4_mpage_readpages() stops mapping and zero-fills. */
	mark_read_map(u, inode, e.es_lblk, (__u64)e.es_lblk + e.es_len - 1, kind,
		      RW_READ_MAP_FROM_EXT4_ES, true);
	return 0;
}

/*
 * An insert does not nest in its own task, so a stash the task left is an
 * insert whose kretprobe never fired (all its instances in use, while
 * inserts wait in reclaim). Judged at the task's next return, the stash
 * would pass that old page, and the lock state of that moment, for a new
 * insert: on 6.12 one such read the lock while a punch of the old page's
 * inode held it, and was judged race. Whether the old page went in is
 * unknown: its inode's open windows lose it.
 */
static __always_inline void drop_missed_insert(__u32 tid)
{
	struct insert_stash *sp = bpf_map_lookup_elem(&insert_stash, &tid);
	struct rw_inode_key key = {};
	struct address_space *mapping;

	if (!sp)
		return;
	count(RW_CNT_INSERT_RETURN_MISSED);
	/* Out of the map value first: inside BPF_CORE_READ() the stash's own
	 * field would need a CO-RE relocation, which 5.10 refused. */
	mapping = sp->mapping;
	if (inode_key(BPF_CORE_READ(mapping, host), &key))
		window_note_loss(&key);
	if (!bpf_map_delete_elem(&insert_stash, &tid))
		__sync_fetch_and_add(&stashed, -1);
}

/* kprobe mode: the insert's arguments are gone by the kretprobe, and only
 * the return value says whether the page went in. */
static __always_inline int handle_insert_entry(struct address_space *mapping,
					       void *entry, __u64 index)
{
	struct insert_stash st = { .mapping = mapping, .entry = entry, .index = index };
	__u32 tid = current_tid();

	/* Before the idle test: an idle entry keeps no stash, and the
	 * return that follows would take the old one. */
	if (stashed)
		drop_missed_insert(tid);
	/* Counting every insert needs every return. */
	if (windows_idle() && !count_hooks)
		return 0;
	if (bpf_map_update_elem(&insert_stash, &tid, &st, BPF_ANY)) {
		struct rw_inode_key key = {};

		/* An insert we will never see: if it fell in a window, the
		 * window's operations must not claim a complete picture. */
		count(RW_CNT_STASH_FULL);
		if (inode_key(BPF_CORE_READ(mapping, host), &key))
			window_note_loss(&key);
		return 0;
	}
	__sync_fetch_and_add(&stashed, 1);
	return 0;
}

static __always_inline int handle_insert_return(void *ctx, long ret)
{
	__u32 tid = current_tid();
	struct insert_stash *sp;
	struct insert_stash st;

	if (!stashed)
		return 0;
	sp = bpf_map_lookup_elem(&insert_stash, &tid);
	if (!sp)
		return 0;
	st = *sp;
	if (!bpf_map_delete_elem(&insert_stash, &tid))
		__sync_fetch_and_add(&stashed, -1);
	if (ret)
		return 0;
	return handle_insert(ctx, st.mapping, st.entry, st.index);
}

static __always_inline int handle_delete(void *ctx, void *entry)
{
	struct rw_inode_key key = {};
	struct address_space *mapping;
	struct rw_cand_key ck = {};
	struct rw_delete *r;
	struct inode *inode;

	if (windows_idle() && !count_hooks)
		return 0;
	mapping = cache_entry_mapping(entry);
	if (!mapping)
		return 0;
	inode = BPF_CORE_READ(mapping, host);
	if (!inode_key(inode, &key))
		return 0;
	if (count_hooks)
		hook_hit_key(RW_HIT_DELETE, &key, inode);

	if (derive_invalidation) {
		__u32 tid = current_tid();
		struct rw_op_state *op = bpf_map_lookup_elem(&ops, &tid);

		/* truncate(2) by path: its first dropped page names it. */
		if (op && op->pending_bind)
			op_bind_inode(ctx, op, inode, &key);
	}

	ck.key = key;
	ck.index = cache_entry_index(entry);
	if (!bpf_map_lookup_elem(&candidates, &ck))
		return 0;
	bpf_map_delete_elem(&candidates, &ck);
	forget_page(&key, ck.index);
	r = reserve_record(RW_REC_DELETE, struct rw_delete, bpf_ktime_get_ns());
	if (!r) {
		window_note_loss(&key);
		return 0;
	}
	r->tid = current_tid();
	r->key = key;
	r->index = ck.index;
	submit_record(r);
	return 0;
}

#endif /* RACEWATCH_PAGECACHE_BPF_H */
