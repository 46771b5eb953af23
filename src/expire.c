// SPDX-License-Identifier: GPL-2.0
#include <bpf/libbpf.h>
#include "racewatch.skel.h"
#include "expire.h"

/*
 * Drop one reference on the inode's window and on the range of the
 * operation's task, as window_close() does in BPF.
 * Not atomic with BPF's own updates of refs; the operation is long dead by
 * now, so only another operation on the same inode opening or closing at
 * this instant can interleave, and then the window ends early or late by
 * one operation.
 */
static void window_release(struct racewatch_bpf *skel, const struct rw_inode_key *key,
			   __u32 tid)
{
	struct bpf_map *map = skel->maps.inode_windows;
	struct rw_window_state w;

	__atomic_fetch_sub(&skel->bss->inflight, 1, __ATOMIC_SEQ_CST);
	if (bpf_map__lookup_elem(map, key, sizeof(*key), &w, sizeof(w), 0))
		return;
	/* A closed window stays until the LRU evicts it (bpf/state.bpf.h). */
	w.all.refs--;
	w.ranges[rw_window_range_of(tid)].refs--;
	bpf_map__update_elem(map, key, sizeof(*key), &w, sizeof(w), BPF_EXIST);
}

static bool release_op(struct racewatch_bpf *skel, __u32 tid, __u64 op_id)
{
	struct rw_op_state st;

	if (bpf_map__lookup_elem(skel->maps.ops, &tid, sizeof(tid), &st, sizeof(st), 0) ||
	    st.op_id != op_id)
		return false;
	/* Whoever deletes it first (us, or a late return) releases it. */
	if (bpf_map__delete_elem(skel->maps.ops, &tid, sizeof(tid), 0))
		return false;
	if (st.window_open)
		window_release(skel, &st.key, tid);
	return true;
}

static bool release_inval(struct racewatch_bpf *skel, __u32 tid, __u64 op_id)
{
	struct rw_inval_state iv;

	if (bpf_map__lookup_elem(skel->maps.invals, &tid, sizeof(tid), &iv, sizeof(iv), 0) ||
	    iv.op_id != op_id)
		return false;
	if (bpf_map__delete_elem(skel->maps.invals, &tid, sizeof(tid), 0))
		return false;
	if (iv.window_open)
		window_release(skel, &iv.key, tid);
	return true;
}

bool expire__release(struct racewatch_bpf *skel, const struct rw_op_begin *op)
{
	return release_op(skel, op->task.tid, op->op_id) ||
	       release_inval(skel, op->task.tid, op->op_id);
}
