// SPDX-License-Identifier: GPL-2.0
/*
 * racewatch BPF programs: thin wrappers, one per (role, mechanism), around
 * the handlers in ops.bpf.h and pagecache.bpf.h. The loader picks which
 * ones load and sets their targets (src/attach.c); section names carry no
 * target so that one program serves every kernel's symbol for its role.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "pagecache.bpf.h"
#include "ops.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- insert: one wrapper per argument layout, because a fexit program may
 * only read its context at constant offsets and the return value sits after
 * the last argument.
 *   5.16+:  __filemap_add_folio(mapping, folio, index, gfp, shadowp)
 *           filemap_add_folio(mapping, folio, index, gfp)
 *   <=5.15: __add_to_page_cache_locked(page, mapping, offset, gfp, shadowp)
 *           add_to_page_cache_lru(page, mapping, offset, gfp) ---- */

SEC("fexit")
int insert_f5_fexit(__u64 *ctx)
{
	return (long)ctx[5] ? 0 : handle_insert(ctx, (void *)ctx[0], (void *)ctx[1], ctx[2]);
}

SEC("fexit")
int insert_f4_fexit(__u64 *ctx)
{
	return (long)ctx[4] ? 0 : handle_insert(ctx, (void *)ctx[0], (void *)ctx[1], ctx[2]);
}

SEC("fexit")
int insert_p5_fexit(__u64 *ctx)
{
	return (long)ctx[5] ? 0 : handle_insert(ctx, (void *)ctx[1], (void *)ctx[0], ctx[2]);
}

SEC("fexit")
int insert_p4_fexit(__u64 *ctx)
{
	return (long)ctx[4] ? 0 : handle_insert(ctx, (void *)ctx[1], (void *)ctx[0], ctx[2]);
}

SEC("kprobe")
int insert_f_kprobe(struct pt_regs *ctx)
{
	return handle_insert_entry((void *)PT_REGS_PARM1(ctx), (void *)PT_REGS_PARM2(ctx),
				   PT_REGS_PARM3(ctx));
}

SEC("kprobe")
int insert_p_kprobe(struct pt_regs *ctx)
{
	return handle_insert_entry((void *)PT_REGS_PARM2(ctx), (void *)PT_REGS_PARM1(ctx),
				   PT_REGS_PARM3(ctx));
}

SEC("kretprobe")
int insert_kret(struct pt_regs *ctx)
{
	return handle_insert_return(ctx, PT_REGS_RC(ctx));
}

/* ---- tmpfs/shmem insert: shmem_add_to_page_cache(folio, mapping, index,
 *      expected, gfp[, charge_mm]), a struct page before 5.19's "mm/shmem:
 *      convert shmem_add_to_page_cache to take a folio"; charge_mm went in
 *      6.7's 054a9f7ccd0a ("shmem: move memcg charge out of
 *      shmem_add_to_page_cache()"). Programs of their own: a fexit program
 *      has one target, and the page-cache insert role may use
 *      insert_p5_fexit. The kprobe pair is the page-cache insert's. ---- */

SEC("fexit")
int shmem6_fexit(__u64 *ctx)
{
	return (long)ctx[6] ? 0 : handle_insert(ctx, (void *)ctx[1], (void *)ctx[0], ctx[2]);
}

SEC("fexit")
int shmem5_fexit(__u64 *ctx)
{
	return (long)ctx[5] ? 0 : handle_insert(ctx, (void *)ctx[1], (void *)ctx[0], ctx[2]);
}

/* filemap:mm_filemap_add_to_page_cache fires only after a successful
 * insert, with a struct page on 5.10 and a struct folio on 6.x. */
SEC("raw_tp")
int insert_rawtp(__u64 *ctx)
{
	void *entry = (void *)ctx[0];

	if (windows_idle() && !count_hooks)
		return 0;
	return handle_insert(ctx, cache_entry_mapping(entry), entry,
			     cache_entry_index(entry));
}

/* ---- delete: filemap:mm_filemap_delete_from_page_cache ---- */

SEC("raw_tp")
int delete_rawtp(__u64 *ctx)
{
	return handle_delete(ctx, (void *)ctx[0]);
}

/* ---- invalidate: truncate_inode_pages_range(mapping, lstart, lend) ---- */

/* A drop of the byte range [lstart, lend] (lend -1: to EOF) from mapping:
 * truncate_inode_pages_range()'s, and shmem_undo_range()'s below. */
static __always_inline int range_begin(void *ctx, struct address_space *mapping,
				       __s64 lstart, __s64 lend, __u32 hit, __u32 fn)
{
	__u64 first, last;

	hook_hit_on(hit, BPF_CORE_READ(mapping, host));
	if (!truncate_page_range(lstart, lend, &first, &last))
		return 0;
	return handle_inval_begin(ctx, mapping, first, last, fn);
}

static __always_inline int truncate_begin(void *ctx, struct address_space *mapping,
					  __s64 lstart, __s64 lend)
{
	return range_begin(ctx, mapping, lstart, lend, RW_HIT_INVAL_TRUNCATE, RW_INVAL_TRUNCATE);
}

SEC("fentry")
int inval_fentry(__u64 *ctx)
{
	return truncate_begin(ctx, (void *)ctx[0], ctx[1], ctx[2]);
}

SEC("fexit")
int inval_fexit(__u64 *ctx)
{
	return handle_inval_end(ctx, 0);
}

SEC("kprobe")
int inval_kprobe(struct pt_regs *ctx)
{
	return truncate_begin(ctx, (void *)PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx),
			      PT_REGS_PARM3(ctx));
}

/* Shared by both invalidation functions' returns: the register holds one
 * only for invalidate_inode_pages2_range(), and only its is used. */
SEC("kretprobe")
int inval_kret(struct pt_regs *ctx)
{
	return handle_inval_end(ctx, (int)PT_REGS_RC(ctx));
}

/* ---- invalidate: invalidate_inode_pages2_range(mapping, start, end),
 *      page indexes, end inclusive ---- */

static __always_inline int pages2_begin(void *ctx, struct address_space *mapping,
					__u64 start, __u64 end)
{
	hook_hit_on(RW_HIT_INVAL_PAGES2, BPF_CORE_READ(mapping, host));
	return handle_inval_begin(ctx, mapping, start, end, RW_INVAL_PAGES2);
}

SEC("fentry")
int inval2_fentry(__u64 *ctx)
{
	return pages2_begin(ctx, (void *)ctx[0], ctx[1], ctx[2]);
}

/* ctx[3]: its int return, after the three arguments. */
SEC("fexit")
int inval2_fexit(__u64 *ctx)
{
	return handle_inval_end(ctx, (int)ctx[3]);
}

SEC("kprobe")
int inval2_kprobe(struct pt_regs *ctx)
{
	return pages2_begin(ctx, (void *)PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx),
			    PT_REGS_PARM3(ctx));
}

/* ---- tmpfs invalidation: shmem_undo_range(inode, lstart, lend, unfalloc),
 *      bytes, lend inclusive or -1, the same in 5.10, 6.1 and 6.12. shmem
 *      punches and truncates through it, never through
 *      truncate_inode_pages_range. Not its caller shmem_truncate_range:
 *      Debian's 6.12 inlines that into shmem_fallocate() and
 *      shmem_setattr(), so a hook on it saw none of their 1,948 calls in a
 *      3 s punch and truncate run (ftrace's function tracer). ---- */

static __always_inline int shmem_undo_begin(void *ctx, struct inode *inode,
						__s64 lstart, __s64 lend)
{
	return range_begin(ctx, BPF_CORE_READ(inode, i_mapping), lstart, lend,
			   RW_HIT_INVAL_SHMEM, RW_INVAL_SHMEM);
}

SEC("fentry")
int shmem_undo_fentry(__u64 *ctx)
{
	return shmem_undo_begin(ctx, (void *)ctx[0], ctx[1], ctx[2]);
}

SEC("fexit")
int shmem_undo_fexit(__u64 *ctx)
{
	return handle_inval_end(ctx, 0);
}

SEC("kprobe")
int shmem_undo_kprobe(struct pt_regs *ctx)
{
	return shmem_undo_begin(ctx, (void *)PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx),
				    PT_REGS_PARM3(ctx));
}

/* ---- operation: vfs_fallocate(file, mode, offset, len) ---- */

static __always_inline int fallocate_start(void *ctx, struct file *file, int mode,
					   __s64 offset, __s64 len)
{
	return handle_op_start(ctx, file ? BPF_CORE_READ(file, f_inode) : NULL,
			       RW_OP_FALLOCATE, mode, offset, len);
}

SEC("fentry")
int falloc_fentry(__u64 *ctx)
{
	return fallocate_start(ctx, (void *)ctx[0], ctx[1], ctx[2], ctx[3]);
}

SEC("fexit")
int falloc_fexit(__u64 *ctx)
{
	return handle_op_end(ctx, (long)ctx[4]);
}

SEC("kprobe")
int falloc_kprobe(struct pt_regs *ctx)
{
	return fallocate_start(ctx, (void *)PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx),
			       PT_REGS_PARM3(ctx), PT_REGS_PARM4(ctx));
}

/* Shared by vfs_fallocate's and do_truncate's returns. */
SEC("kretprobe")
int op_kret(struct pt_regs *ctx)
{
	return handle_op_end(ctx, PT_REGS_RC(ctx));
}

/* ---- operation: do_truncate(); its inode is learnt from the first
 *      invalidation, so no argument layout matters at entry ---- */

SEC("fentry")
int trunc_fentry(__u64 *ctx)
{
	return handle_op_start(ctx, NULL, RW_OP_TRUNCATE, 0, -1, 0);
}

/* do_truncate(dentry, length, time_attrs, filp) up to 5.11; 5.12 added a
 * leading user_namespace (later mnt_idmap) argument. */
SEC("fexit")
int trunc4_fexit(__u64 *ctx)
{
	return handle_op_end(ctx, (long)ctx[4]);
}

SEC("fexit")
int trunc5_fexit(__u64 *ctx)
{
	return handle_op_end(ctx, (long)ctx[5]);
}

SEC("kprobe")
int trunc_kprobe(struct pt_regs *ctx)
{
	return handle_op_start(ctx, NULL, RW_OP_TRUNCATE, 0, -1, 0);
}

/* ---- operation, tracepoint mode: syscalls:sys_{enter,exit}_* ---- */

static __always_inline struct inode *fd_inode(long fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file ? BPF_CORE_READ(file, f_inode) : NULL;
}

SEC("tracepoint")
int falloc_tp(struct trace_event_raw_sys_enter *ctx)
{
	return handle_op_start(ctx, fd_inode(ctx->args[0]), RW_OP_FALLOCATE,
			       ctx->args[1], ctx->args[2], ctx->args[3]);
}

SEC("tracepoint")
int ftrunc_tp(struct trace_event_raw_sys_enter *ctx)
{
	return handle_op_start(ctx, fd_inode(ctx->args[0]), RW_OP_TRUNCATE,
			       0, ctx->args[1], 0);
}

SEC("tracepoint")
int trunc_tp(struct trace_event_raw_sys_enter *ctx)
{
	return handle_op_start(ctx, NULL, RW_OP_TRUNCATE, 0, ctx->args[1], 0);
}

/* Shared by sys_exit_fallocate, sys_exit_ftruncate and sys_exit_truncate. */
SEC("tracepoint")
int op_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	return handle_op_end(ctx, ctx->ret);
}

/* ---- block free: ext4_free_blocks(handle, inode, bh, block, count, flags) ---- */

SEC("fentry")
int ext4free_fentry(__u64 *ctx)
{
	return handle_block_free(ctx, (void *)ctx[1], RW_FREE_EXT4, ctx[4]);
}

SEC("kprobe")
int ext4free_kprobe(struct pt_regs *ctx)
{
	return handle_block_free(ctx, (void *)PT_REGS_PARM2(ctx), RW_FREE_EXT4,
				 PT_REGS_PARM5(ctx));
}

/* ext4:ext4_free_blocks(inode, block, count, flags) */
SEC("raw_tp")
int ext4free_rawtp(__u64 *ctx)
{
	return handle_block_free(ctx, (void *)ctx[0], RW_FREE_EXT4, ctx[2]);
}

/* ---- zero-range conversion: ext4:ext4_ext_map_blocks_exit(inode, flags,
 *      map, ret), ret being how many blocks it mapped or an error, then
 *      ext4:ext4_mark_inode_dirty(inode, ip); both prototypes the same in
 *      5.10, 6.1 and 6.12. Tracepoints, so the programs serve every
 *      mechanism, and no ext4 BTF is needed. ---- */

SEC("raw_tp")
int ext4conv_rawtp(__u64 *ctx)
{
	return handle_zero_convert(ctx, (void *)ctx[0], ctx[1], ctx[3]);
}

SEC("raw_tp")
int ext4dirty_rawtp(__u64 *ctx)
{
	return handle_zero_settled(ctx, (void *)ctx[0]);
}

/* ---- btrfs read mapping: btrfs:btrfs_get_extent(root, inode, map), the
 *      inode a struct btrfs_inode; the same prototype in 6.1, 6.12 and 6.18.
 *      A tracepoint, so it serves every mechanism. ---- */

SEC("raw_tp")
int btrfsmap_rawtp(__u64 *ctx)
{
	return handle_btrfs_read_mapping((void *)ctx[1], (void *)ctx[2]);
}

/* ---- ext4 read mapping: ext4:ext4_ext_map_blocks_exit(inode, flags, map,
 *      ret) and ext4:ext4_es_lookup_extent_exit(inode, es, found), the same
 *      prototypes in 5.10, 6.1, 6.12 and 6.18. Tracepoints, so they serve
 *      every mechanism. ---- */

SEC("raw_tp")
int ext4map_rawtp(__u64 *ctx)
{
	return handle_ext4_map_blocks((void *)ctx[0], (void *)ctx[2], (int)ctx[3]);
}

SEC("raw_tp")
int ext4es_rawtp(__u64 *ctx)
{
	return handle_ext4_es_lookup((void *)ctx[0], (void *)ctx[1], (int)ctx[2]);
}

/* ext4:ext4_es_remove_extent(inode, lblk, len), the same prototype in 5.10,
 * 6.1, 6.12 and 6.18: where collapse and insert range start their shift. */
SEC("raw_tp")
int ext4shift_rawtp(__u64 *ctx)
{
	return handle_ext4_shift(ctx, (void *)ctx[0]);
}

/* ---- block free: xfs. Extents unmapped by __xfs_bunmapi are freed by
 *      __xfs_free_extent (tracepoint xfs:xfs_free_extent) when the
 *      transaction commits, in the operation's task. Their arguments changed
 *      shape (6.x passes a perag) and none is a VFS inode, so the freeing
 *      task's operation owns the free and the count stays unknown (0). ---- */

SEC("fentry")
int xfsfree_fentry(__u64 *ctx)
{
	return handle_block_free(ctx, NULL, RW_FREE_XFS, 0);
}

SEC("kprobe")
int xfsfree_kprobe(struct pt_regs *ctx)
{
	return handle_block_free(ctx, NULL, RW_FREE_XFS, 0);
}

SEC("raw_tp")
int xfsfree_rawtp(__u64 *ctx)
{
	return handle_block_free(ctx, NULL, RW_FREE_XFS, 0);
}
