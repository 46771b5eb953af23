/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every CO-RE shim racewatch needs, and only here. Each one names the kernel
 * change that made it necessary. Versions in parentheses are where the
 * layout was checked against Debian kernels' BTF (5.10, 6.1, 6.12) and the
 * development host (6.18).
 */
#ifndef RACEWATCH_COMPAT_BPF_H
#define RACEWATCH_COMPAT_BPF_H

#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "racewatch.h"

/* ---- page cache entries: struct page before 5.16, struct folio after ---- */

/*
 * 5.16 ("mm: Add folio_...", the folio series) made the page cache store
 * folios. The insert/delete hooks hand us a struct page on 5.10 and a
 * struct folio on 6.x; both start with flags, mapping and index, but 6.15+
 * renamed page->index to __folio_index, so read through struct folio
 * whenever the kernel has one.
 */
static __always_inline struct address_space *cache_entry_mapping(void *entry)
{
	if (bpf_core_type_exists(struct folio))
		return BPF_CORE_READ((struct folio *)entry, mapping);
	return BPF_CORE_READ((struct page *)entry, mapping);
}

static __always_inline __u64 cache_entry_index(void *entry)
{
	if (bpf_core_type_exists(struct folio))
		return BPF_CORE_READ((struct folio *)entry, index);
	return BPF_CORE_READ((struct page *)entry, index);
}

/* Flags became memdesc_flags_t { unsigned long f; } in 6.18. */
struct folio___flags_word {
	unsigned long flags;
} __attribute__((preserve_access_index));

struct folio___flags_memdesc {
	struct {
		unsigned long f;
	} flags;
} __attribute__((preserve_access_index));

/* The page count of a large folio lives in its second page: named
 * _folio_nr_pages from 5.16, renamed _nr_pages after 6.12 (6.18 has it). */
struct folio___nr_old {
	unsigned int _folio_nr_pages;
} __attribute__((preserve_access_index));

struct folio___nr_new {
	unsigned int _nr_pages;
} __attribute__((preserve_access_index));

/* Values are relocated: 6.12 renumbered them (PG_head 16 -> 6,
 * PG_mappedtodisk 17 -> 11, where it aliases PG_owner_2). */
enum pageflags {
	PG_head = 16,
	PG_mappedtodisk = 17,
	PG_uptodate = 2,	/* btrfs reads: a written folio is uptodate at insert */
};

/* page->flags and folio->flags share their place; see folio___flags_*. */
static __always_inline unsigned long cache_entry_flags(void *entry)
{
	if (!bpf_core_type_exists(struct folio))
		return BPF_CORE_READ((struct page *)entry, flags);
	if (bpf_core_field_exists(struct folio___flags_memdesc, flags.f))
		return BPF_CORE_READ((struct folio___flags_memdesc *)entry, flags.f);
	return BPF_CORE_READ((struct folio___flags_word *)entry, flags);
}

static __always_inline bool cache_entry_flag(void *entry, unsigned int bit)
{
	return cache_entry_flags(entry) & (1UL << bit);
}

static __always_inline __u32 cache_entry_nr_pages(void *entry)
{
	__u32 nr = 1;

	/* Before folios only shmem inserted compound pages; count one. */
	if (!bpf_core_type_exists(struct folio))
		return 1;
	if (!cache_entry_flag(entry, bpf_core_enum_value(enum pageflags, PG_head)))
		return 1;
	if (bpf_core_field_exists(struct folio___nr_new, _nr_pages))
		nr = BPF_CORE_READ((struct folio___nr_new *)entry, _nr_pages);
	else if (bpf_core_field_exists(struct folio___nr_old, _folio_nr_pages))
		nr = BPF_CORE_READ((struct folio___nr_old *)entry, _folio_nr_pages);
	return nr ? nr : 1;
}

/* ---- tasks: which write system call a direct-I/O invalidation is in ---- */

/*
 * task->ioac.syscw counts the task's write system calls, bumped as each
 * one ends (inc_syscw() in vfs_write() and the vector writes, 5.10 to
 * 6.18), so the two invalidations of one synchronous direct-I/O write see
 * the same count and the next write's see another. It exists with
 * CONFIG_TASK_XACCT (Debian's kernels have it); without it the count reads
 * 0 and the invalidations are paired as they come, two by two.
 */
static __always_inline __u64 task_write_calls(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->ioac))
		return 0;
	return BPF_CORE_READ(task, ioac.syscw);
}

/* PF_WQ_WORKER (include/linux/sched.h, the same bit 5.10 to 6.18): an
 * asynchronous direct write completes on the filesystem's workqueue. */
#define RW_PF_WQ_WORKER		0x00000020

static __always_inline bool task_is_wq_worker(struct task_struct *task)
{
	return BPF_CORE_READ(task, flags) & RW_PF_WQ_WORKER;
}

/* ---- address_space ---- */

enum mapping_flags {
	AS_EXITING = 4,
};

/* truncate_inode_pages_final() sets AS_EXITING on an inode being evicted:
 * nobody can insert into it any more, so its truncation is no window. */
static __always_inline bool mapping_exiting(struct address_space *mapping)
{
	unsigned long flags = BPF_CORE_READ(mapping, flags);

	return flags & (1UL << bpf_core_enum_value(enum mapping_flags, AS_EXITING));
}

/* ---- rw_semaphores ---- */

/*
 * 5.15 added address_space.invalidate_lock (commit 730633f0b7f9, "mm:
 * Protect operations adding pages to page cache with invalidate_lock").
 */
struct address_space___inval {
	struct rw_semaphore invalidate_lock;
} __attribute__((preserve_access_index));

/*
 * Before 5.15 ext4 had its own EXT4_I(inode)->i_mmap_sem; 5.15 replaced it
 * with invalidate_lock (commit d4f5258eae7b, "ext4: Convert to use
 * mapping->invalidate_lock"). ext4_inode_info lives in the ext4 module, so
 * it is only visible with module BTF; Debian's 5.10 has none.
 */
struct ext4_inode_info___mmap {
	struct rw_semaphore i_mmap_sem;
	struct inode vfs_inode;
} __attribute__((preserve_access_index));

/*
 * Without ext4 BTF, where i_mmap_sem and vfs_inode sit in ext4_inode_info,
 * read by the loader from BTF the user gave (--btf-dir, src/modbtf.c);
 * 0: not given. Set between open and load (src/main.c, open_and_load()).
 */
const volatile __u32 ext4_mmap_sem_off = 0;
const volatile __u32 ext4_vfs_inode_off = 0;

#define EXT4_SUPER_MAGIC	0xEF53

/*
 * ext4_map_blocks() flag that ext4_zero_range() passes to convert written
 * extents to unwritten (fs/ext4/ext4.h). ext4 private, so no BTF carries
 * it (Debian's 5.10 has no module BTF at all) and CO-RE cannot relocate
 * it: the value is fixed. 0x0100 in 5.10, 6.1 and 6.12, as the print
 * format of ext4:ext4_ext_map_blocks_exit in each one's ext4.ko shows.
 */
#define EXT4_GET_BLOCKS_CONVERT_UNWRITTEN	0x0100

/*
 * rwsem encoding since 5.3 (commit 94a9717b3c40, "locking/rwsem: Make
 * rwsem->owner an atomic_long_t"): count bit 0 = writer locked, bit 1 =
 * waiters, readers counted from bit 8; owner = task pointer with flag bits
 * in the low 3 bits, bit 0 = reader-owned (the task is then only a hint).
 * PREEMPT_RT (5.15+) builds rw_semaphore on rwbase_rt without these fields.
 */
#define RWSEM_WRITER_LOCKED	(1UL << 0)
#define RWSEM_FLAG_WAITERS	(1UL << 1)
#define RWSEM_READER_SHIFT	8
#define RWSEM_READER_OWNED	(1UL << 0)
#define RWSEM_OWNER_FLAGS_MASK	7UL

static __always_inline void read_rwsem(struct rw_semaphore *sem, struct rw_lock *out)
{
	struct task_struct *owner;
	unsigned long count, owner_word;

	if (!bpf_core_field_exists(sem->count)) {
		out->state = RW_LOCK_UNREADABLE;
		return;
	}
	count = BPF_CORE_READ(sem, count.counter);
	owner_word = BPF_CORE_READ(sem, owner.counter);
	out->readers = count >> RWSEM_READER_SHIFT;
	out->waiters = !!(count & RWSEM_FLAG_WAITERS);
	if (count & RWSEM_WRITER_LOCKED)
		out->state = RW_LOCK_WRITE;
	else if (out->readers)
		out->state = RW_LOCK_READ;
	else
		out->state = RW_LOCK_FREE;
	if (out->state == RW_LOCK_FREE)
		return;
	/*
	 * A writer sets owner only after its cmpxchg on count (rwsem_set_owner()
	 * in rwsem_write_trylock()), and readers never clear it: until then the
	 * word still names the last reader, flagged reader-owned. Leave the
	 * writer unknown (0) rather than name that reader.
	 */
	if (out->state == RW_LOCK_WRITE && (owner_word & RWSEM_READER_OWNED))
		return;
	owner = (struct task_struct *)(owner_word & ~RWSEM_OWNER_FLAGS_MASK);
	if (!owner)
		return;
	out->owner_tid = BPF_CORE_READ(owner, pid);
	out->owner_pid = BPF_CORE_READ(owner, tgid);
	bpf_probe_read_kernel_str(out->owner_comm, sizeof(out->owner_comm), owner->comm);
}

static __always_inline void read_locks(struct address_space *mapping,
				       struct inode *inode, struct rw_locks *out)
{
	if (bpf_core_field_exists(struct address_space___inval, invalidate_lock))
		read_rwsem(&((struct address_space___inval *)mapping)->invalidate_lock,
			   &out->invalidate_lock);

	read_rwsem(&inode->i_rwsem, &out->i_rwsem);

	if (BPF_CORE_READ(inode, i_sb, s_magic) != EXT4_SUPER_MAGIC)
		return;
	if (bpf_core_field_exists(struct ext4_inode_info___mmap, i_mmap_sem)) {
		struct ext4_inode_info___mmap *ei;

		ei = (void *)inode - bpf_core_field_offset(struct ext4_inode_info___mmap, vfs_inode);
		read_rwsem(&ei->i_mmap_sem, &out->i_mmap_sem);
	} else if (bpf_core_field_exists(struct address_space___inval, invalidate_lock)) {
		return;		/* 5.15+: ext4 has no i_mmap_sem */
	} else if (ext4_mmap_sem_off) {
		/* The layout from the user's BTF; the rw_semaphore itself is
		 * vmlinux's, so read_rwsem() still relocates. */
		read_rwsem((void *)inode - ext4_vfs_inode_off + ext4_mmap_sem_off,
			   &out->i_mmap_sem);
	} else {
		/* A pre-5.15 ext4 has i_mmap_sem, but without ext4 BTF we
		 * cannot find it: say so instead of reporting it absent. */
		out->i_mmap_sem.state = RW_LOCK_UNREADABLE;
	}
}

/* ---- ext4 block mappings (tracepoints ext4:ext4_ext_map_blocks_exit and
 *      ext4:ext4_es_lookup_extent_exit) ---- */

/*
 * Both structs are ext4 private, and Debian's 5.10 has no module BTF, so
 * CO-RE cannot relocate them: the layouts are fixed. Unchanged from 5.10
 * to 6.18 (fs/ext4/ext4.h and fs/ext4/extent_status.h; checked against
 * this host's 6.18 BTF: ext4_map_blocks 24 bytes, es_lblk at 24 bytes into
 * extent_status, after its rb_node).
 */
struct ext4_map_blocks___fixed {
	__u64 m_pblk;
	__u32 m_lblk;
	__u32 m_len;
	__u32 m_flags;
};

struct extent_status___fixed {
	__u64 rb_node[3];
	__u32 es_lblk;
	__u32 es_len;
	__u64 es_pblk;
};

/* EXT4_MAP_MAPPED is BIT(BH_Mapped); bh_state_bits is core, so in BTF. */
enum bh_state_bits {
	BH_Mapped = 4,
};

/*
 * The extent status lives in es_pblk's top ES_FLAGS (5) bits: written,
 * unwritten, delayed, hole, referenced from bit 59 up, since "ext4: track
 * all extent status in extent status tree" (3.10) and still on 6.18 (an
 * anonymous enum, so CO-RE cannot name it).
 */
#define EXT4_ES_SHIFT		59
#define EXT4_ES_WRITTEN		(1ULL << (EXT4_ES_SHIFT + 0))
#define EXT4_ES_UNWRITTEN	(1ULL << (EXT4_ES_SHIFT + 1))
#define EXT4_ES_DELAYED		(1ULL << (EXT4_ES_SHIFT + 2))
#define EXT4_ES_HOLE		(1ULL << (EXT4_ES_SHIFT + 3))

/* ---- btrfs extent maps (tracepoint btrfs:btrfs_get_extent) ---- */

/*
 * Where an extent map points. Before 6.11 it was block_start, with the
 * hole as EXTENT_MAP_HOLE ((u64)-3); Qu Wenruo's extent_map rework (6.11,
 * "btrfs: introduce new members for extent_map", then "btrfs: remove
 * extent_map::block_start member") replaced it with disk_bytenr, keeping
 * the same special values. The 6.18 layout is checked against this host's
 * BTF; 6.1's against Debian's linux-source-6.1.
 */
struct extent_map___disk {
	__u64 start;
	__u64 len;
	__u64 disk_bytenr;
} __attribute__((preserve_access_index));

struct extent_map___block {
	__u64 start;
	__u64 len;
	__u64 block_start;
} __attribute__((preserve_access_index));

/* flags: an unsigned long of bit numbers (6.1: PINNED 0, COMPRESSED 1,
 * PREALLOC 2), then a u32 of masks built with ENUM_BIT() (6.18:
 * EXTENT_FLAG_PREALLOC = 1 << 4, after the three compression flags). The
 * enum is anonymous, so CO-RE cannot name its values: the field's width
 * tells the two apart. Kernels between (6.8 to 6.10) are not verified. */
struct extent_map___flags {
	unsigned long flags;
} __attribute__((preserve_access_index));

#define BTRFS_EXTENT_MAP_HOLE		((__u64)-3)
#define BTRFS_PREALLOC_BIT_OLD		2
#define BTRFS_PREALLOC_MASK_U32		(1U << 4)

/* Does a read through this extent map return zeros? A hole, or a
 * preallocated (unwritten) extent. Inline and regular extents hold data. */
static __always_inline bool btrfs_map_reads_zeros(void *em)
{
	struct extent_map___flags *f = em;
	__u64 where, flags;

	if (bpf_core_field_exists(struct extent_map___disk, disk_bytenr))
		where = BPF_CORE_READ((struct extent_map___disk *)em, disk_bytenr);
	else
		where = BPF_CORE_READ((struct extent_map___block *)em, block_start);
	if (where == BTRFS_EXTENT_MAP_HOLE)
		return true;
	flags = BPF_CORE_READ_BITFIELD_PROBED(f, flags);
	if (bpf_core_field_size(f->flags) == 4)
		return flags & BTRFS_PREALLOC_MASK_U32;
	return flags & (1UL << BTRFS_PREALLOC_BIT_OLD);
}

/* The file range [*first, *last] of pages the extent map covers. */
static __always_inline void btrfs_map_pages(void *em, __u32 shift, __u64 *first, __u64 *last)
{
	struct extent_map___disk *m = em;
	__u64 start = BPF_CORE_READ(m, start), len = BPF_CORE_READ(m, len);

	*first = start >> shift;
	*last = len ? (start + len - 1) >> shift : *first;
}

static __always_inline struct inode *btrfs_vfs_inode(void *bi)
{
	return (void *)bi + bpf_core_field_offset(struct btrfs_inode, vfs_inode);
}

#endif /* RACEWATCH_COMPAT_BPF_H */
