/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layouts from BTF that a user gives for a module the kernel has no BTF
 * for (--btf-dir, README "Locks"). Today one: where ext4's i_mmap_sem sits
 * in ext4_inode_info before 5.15, on kernels built without module BTF
 * (Debian's 5.10), so that the lock's holder can be read.
 */
#ifndef RACEWATCH_MODBTF_H
#define RACEWATCH_MODBTF_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct btf;

/* Byte offsets in struct ext4_inode_info. */
struct ext4_mmap_layout {
	__u32 sem_off;		/* i_mmap_sem */
	__u32 inode_off;	/* vfs_inode */
};

/*
 * Reads DIR/ext4.btf: detached BTF (pahole --btf_encode_detached) or split
 * BTF on top of vmlinux's (as /sys/kernel/btf/ext4 would be). Checks that it
 * was made for this kernel: struct inode and struct rw_semaphore must have
 * vmlinux's sizes. Returns 0 with out filled, or -errno with why filled in
 * one line.
 */
int modbtf__ext4_mmap_sem(const char *dir, const struct btf *vmlinux,
			  struct ext4_mmap_layout *out, char *why, size_t len);

/* Whether struct SNAME in BTF has a member MEMBER. */
bool modbtf__has_member(const struct btf *btf, const char *sname, const char *member);

#endif
