// SPDX-License-Identifier: GPL-2.0
/*
 * --btf-dir: ext4's i_mmap_sem from a user's BTF file, against BTF built
 * here with libbpf's writer: a 5.10-like ext4 (detached and split), one
 * made for another kernel, and a 5.15+ one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "harness.h"
#include "modbtf.h"
#include "suites.h"

/* 5.10's sizes: struct inode 600 bytes, struct rw_semaphore 40. */
#define INODE_SIZE	600
#define RWSEM_SIZE	40

/* Adds int, struct inode and struct rw_semaphore; returns inode's id. */
static int add_shared(struct btf *btf, int inode_size, int *rwsem)
{
	int i = btf__add_int(btf, "long", 8, BTF_INT_SIGNED), inode;

	*rwsem = btf__add_struct(btf, "rw_semaphore", RWSEM_SIZE);
	btf__add_field(btf, "count", i, 0, 0);
	inode = btf__add_struct(btf, "inode", inode_size);
	btf__add_field(btf, "i_mode", i, 0, 0);
	return inode;
}

/* struct ext4_inode_info { long i_data; [rw_semaphore i_mmap_sem at 280]; inode vfs_inode at 320 } */
static void add_ext4(struct btf *btf, int inode, int rwsem, bool with_sem)
{
	int l = btf__find_by_name_kind(btf, "long", BTF_KIND_INT);

	btf__add_struct(btf, "ext4_inode_info", 320 + INODE_SIZE);
	btf__add_field(btf, "i_data", l, 0, 0);
	if (with_sem)
		btf__add_field(btf, "i_mmap_sem", rwsem, 280 * 8, 0);
	btf__add_field(btf, "vfs_inode", inode, 320 * 8, 0);
}

static char dir[64];

static void write_btf(const struct btf *btf)
{
	char path[128];
	__u32 size;
	const void *data = btf__raw_data(btf, &size);
	FILE *f;

	snprintf(path, sizeof(path), "%s/ext4.btf", dir);
	f = fopen(path, "w");
	ASSERT_TRUE(f && fwrite(data, 1, size, f) == size, "write ext4.btf");
	if (f)
		fclose(f);
}

static struct btf *vmlinux_like(int inode_size)
{
	struct btf *v = btf__new_empty();
	int rwsem;

	add_shared(v, inode_size, &rwsem);
	return v;
}

/* DIR/ext4.btf as pahole --btf_encode_detached writes it: 5.10's sizes. */
static void write_detached(bool with_sem)
{
	struct btf *m = btf__new_empty();
	int rwsem, inode = add_shared(m, INODE_SIZE, &rwsem);

	add_ext4(m, inode, rwsem, with_sem);
	write_btf(m);
	btf__free(m);
}

static void test_detached(void)
{
	struct btf *v = vmlinux_like(INODE_SIZE);
	struct ext4_mmap_layout out = {};
	char why[256] = "";

	write_detached(true);
	ASSERT_EQ(modbtf__ext4_mmap_sem(dir, v, &out, why, sizeof(why)), 0, why);
	ASSERT_EQ(out.sem_off, 280, "i_mmap_sem offset");
	ASSERT_EQ(out.inode_off, 320, "vfs_inode offset");
	btf__free(v);
}

/* As /sys/kernel/btf/ext4 would be: ext4's types on top of vmlinux's. */
static void test_split(void)
{
	struct btf *v = vmlinux_like(INODE_SIZE), *m;
	struct ext4_mmap_layout out = {};
	char why[256] = "";

	m = btf__new_empty_split(v);
	add_ext4(m, btf__find_by_name_kind(v, "inode", BTF_KIND_STRUCT),
		 btf__find_by_name_kind(v, "rw_semaphore", BTF_KIND_STRUCT), true);
	write_btf(m);
	ASSERT_EQ(modbtf__ext4_mmap_sem(dir, v, &out, why, sizeof(why)), 0, why);
	ASSERT_EQ(out.sem_off, 280, "i_mmap_sem offset");
	btf__free(m);
	btf__free(v);
}

static void test_other_kernel(void)
{
	struct btf *v = vmlinux_like(608);
	struct ext4_mmap_layout out = {};
	char why[256] = "";

	write_detached(true);
	ASSERT_EQ(modbtf__ext4_mmap_sem(dir, v, &out, why, sizeof(why)), -EINVAL, "refused");
	ASSERT_TRUE(strstr(why, "not made for this kernel: struct inode is 600 bytes there, "
			    "608 here") != NULL, why);
	btf__free(v);
}

static void test_no_sem(void)
{
	struct btf *v = vmlinux_like(INODE_SIZE);
	struct ext4_mmap_layout out = {};
	char why[256] = "";

	write_detached(false);
	ASSERT_EQ(modbtf__ext4_mmap_sem(dir, v, &out, why, sizeof(why)), -ENOENT, "refused");
	ASSERT_TRUE(strstr(why, "has no rw_semaphore i_mmap_sem") != NULL, why);
	btf__free(v);
}

static void test_missing_and_garbage(void)
{
	struct btf *v = vmlinux_like(INODE_SIZE);
	struct ext4_mmap_layout out = {};
	char why[256] = "", path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ext4.btf", dir);
	unlink(path);
	ASSERT_EQ(modbtf__ext4_mmap_sem(dir, v, &out, why, sizeof(why)), -ENOENT, "no file");
	ASSERT_TRUE(strstr(why, "no such file") != NULL, why);
	f = fopen(path, "w");
	if (f) {
		fputs("not BTF at all\n", f);
		fclose(f);
	}
	ASSERT_TRUE(modbtf__ext4_mmap_sem(dir, v, &out, why, sizeof(why)) < 0, "garbage");
	ASSERT_TRUE(strstr(why, "not BTF") != NULL, why);
	unlink(path);
	btf__free(v);
}

static void test_has_member(void)
{
	struct btf *v = vmlinux_like(INODE_SIZE);

	ASSERT_TRUE(modbtf__has_member(v, "inode", "i_mode"), "present");
	ASSERT_TRUE(!modbtf__has_member(v, "inode", "i_mmap_sem"), "absent member");
	ASSERT_TRUE(!modbtf__has_member(v, "address_space", "invalidate_lock"), "absent struct");
	btf__free(v);
}

void suite_modbtf(void)
{
	harness_suite("modbtf");
	snprintf(dir, sizeof(dir), "/tmp/rw-modbtf.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return;
	}
	RUN(test_detached);
	RUN(test_split);
	RUN(test_other_kernel);
	RUN(test_no_sem);
	RUN(test_missing_and_garbage);
	RUN(test_has_member);
	rmdir(dir);
}
