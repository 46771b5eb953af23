/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types racewatch reads, declared by hand for CO-RE.
 *
 * Only the fields used are listed; preserve_access_index makes libbpf
 * relocate every access against the running kernel's BTF, so the order and
 * offsets here do not matter. Types that changed shape across releases get
 * ___flavour variants in compat.bpf.h, never here.
 *
 * Defining __VMLINUX_H__ tells bpf_tracing.h to use the kernel's pt_regs
 * register names (di, si, ...) as with a generated vmlinux.h.
 */
#ifndef RACEWATCH_KERNEL_TYPES_H
#define RACEWATCH_KERNEL_TYPES_H

#define __VMLINUX_H__

/* UAPI: __u32 and friends, map types, BPF_ANY, ... */
#include <linux/types.h>
#include <linux/bpf.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef _Bool bool;
#define true 1
#define false 0

typedef int pid_t;
typedef __u32 dev_t;
typedef unsigned short umode_t;
typedef long long loff_t;
typedef unsigned long pgoff_t;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
	long counter;
} atomic_long_t;

struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
};

/* Layout of every syscalls:sys_enter_* and sys_exit_* record. */
struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long id;
	unsigned long args[6];
};

struct trace_event_raw_sys_exit {
	struct trace_entry ent;
	long id;
	long ret;
};

struct rw_semaphore {
	atomic_long_t count;
	atomic_long_t owner;
};

struct file_system_type {
	const char *name;
};

struct super_block {
	dev_t s_dev;
	unsigned long s_magic;
	struct file_system_type *s_type;
};

struct address_space;

struct inode {
	umode_t i_mode;
	unsigned char i_blkbits;
	struct super_block *i_sb;
	struct address_space *i_mapping;
	unsigned long i_ino;
	__u32 i_generation;
	long long i_size;
	struct rw_semaphore i_rwsem;
};

struct address_space {
	struct inode *host;
	unsigned long nrpages;
	unsigned long flags;
};

struct file {
	struct inode *f_inode;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct task_io_accounting {
	__u64 syscw;
};

struct task_struct {
	unsigned int flags;
	pid_t pid;
	pid_t tgid;
	char comm[16];
	struct files_struct *files;
	struct task_io_accounting ioac;
};

struct page {
	unsigned long flags;
	struct address_space *mapping;
	unsigned long index;
};

struct folio {
	struct address_space *mapping;
	unsigned long index;
};

/* btrfs: only what the read-mapping role needs (compat.bpf.h). */
struct btrfs_inode {
	struct inode vfs_inode;
};

#pragma clang attribute pop

#endif /* RACEWATCH_KERNEL_TYPES_H */
