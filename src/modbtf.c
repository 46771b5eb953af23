// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "modbtf.h"

static __s64 struct_size(const struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);

	return id > 0 ? btf__resolve_size(btf, id) : -ENOENT;
}

/* Index of struct T's member NAME, or -1. */
static int member_index(const struct btf *btf, const struct btf_type *t, const char *name)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), name))
			return i;
	return -1;
}

/* Byte offset of member NAME, whose type must be struct TYPE, or -ENOENT. */
static long member_off(const struct btf *btf, const struct btf_type *t,
		       const char *name, const char *type)
{
	int i = member_index(btf, t, name);
	const struct btf_type *mt;

	if (i < 0)
		return -ENOENT;
	mt = btf__type_by_id(btf, btf__resolve_type(btf, btf_members(t)[i].type));
	if (!mt || !btf_is_struct(mt) || strcmp(btf__name_by_offset(btf, mt->name_off), type))
		return -ENOENT;
	return btf_member_bit_offset(t, i) / 8;
}

bool modbtf__has_member(const struct btf *btf, const char *sname, const char *member)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;

	return t && member_index(btf, t, member) >= 0;
}

/* The sizes that must agree for offsets from FILE to mean anything here. */
static int matches_kernel(const struct btf *mod, const struct btf *vmlinux,
			  const char *path, char *why, size_t len)
{
	static const char *const shared[] = { "inode", "rw_semaphore" };

	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		__s64 there = struct_size(mod, shared[i]), here = struct_size(vmlinux, shared[i]);

		if (there != here) {
			snprintf(why, len, "%s was not made for this kernel: struct %s is %lld "
				 "bytes there, %lld here", path, shared[i], (long long)there,
				 (long long)here);
			return -EINVAL;
		}
	}
	return 0;
}

int modbtf__ext4_mmap_sem(const char *dir, const struct btf *vmlinux,
			  struct ext4_mmap_layout *out, char *why, size_t len)
{
	char path[PATH_MAX];
	libbpf_print_fn_t saved;
	const struct btf_type *t;
	struct btf *btf;
	long sem, inode;
	int id, err;

	snprintf(path, sizeof(path), "%s/ext4.btf", dir);
	/* Our errors are one line each: mute libbpf's while we guess the form. */
	saved = libbpf_set_print(NULL);
	btf = btf__parse(path, NULL);
	if (!btf && errno != ENOENT)
		btf = btf__parse_split(path, (struct btf *)vmlinux);
	err = errno;
	libbpf_set_print(saved);
	if (!btf) {
		snprintf(why, len, "cannot read %s: %s", path,
			 err == ENOENT ? "no such file" : "not BTF, detached or split on this kernel's");
		return -err;
	}
	err = matches_kernel(btf, vmlinux, path, why, len);
	if (err)
		goto out;
	err = -ENOENT;
	id = btf__find_by_name_kind(btf, "ext4_inode_info", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	if (!t) {
		snprintf(why, len, "%s has no struct ext4_inode_info", path);
		goto out;
	}
	sem = member_off(btf, t, "i_mmap_sem", "rw_semaphore");
	inode = member_off(btf, t, "vfs_inode", "inode");
	if (sem < 0 || inode < 0) {
		snprintf(why, len, "%s: ext4_inode_info has no %s (ext4 5.15 and later use "
			 "invalidate_lock)", path, sem < 0 ? "rw_semaphore i_mmap_sem" :
			 "struct inode vfs_inode");
		goto out;
	}
	out->sem_off = sem;
	out->inode_off = inode;
	err = 0;
out:
	btf__free(btf);
	return err;
}
