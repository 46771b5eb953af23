/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device racewatch filters on is the superblock's s_dev, which BPF
 * reads from inode->i_sb. stat(2) does not always report it: btrfs gives
 * every subvolume its own anonymous device (stat says 0:40 or 0:41 where
 * the superblock is 0:39). /proc/self/mountinfo's major:minor is the
 * superblock's, so --path and --dev are mapped through it. Pure parsing and
 * matching here, over a FILE * and a stat callback, so unit tests can feed
 * fixture tables.
 */
#ifndef RACEWATCH_DEVMAP_H
#define RACEWATCH_DEVMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#define DEVMAP_POINT_MAX	4096
#define DEVMAP_FSTYPE_MAX	32

/* What racewatch needs of one mountinfo line. */
struct mount_entry {
	int mnt_id;
	__u32 dev;			/* kernel encoding: major << 20 | minor */
	char point[DEVMAP_POINT_MAX];	/* unescaped */
	char fstype[DEVMAP_FSTYPE_MAX];
};

/* The kernel's MKDEV() from a userspace major and minor. */
static inline __u32 devmap__kdev(unsigned int major, unsigned int minor)
{
	return major << 20 | minor;
}

/* One line of /proc/PID/mountinfo (proc(5)); 0 or -EINVAL. */
int devmap__parse_line(const char *line, struct mount_entry *m);

/* The superblock device of the mount with this id (statx's stx_mnt_id). */
int devmap__dev_of_mount(FILE *mountinfo, int mnt_id, struct mount_entry *out);

/*
 * The mount that holds ABSPATH (already resolved: no symlinks, no . or ..):
 * the longest mount point that is a prefix of it, the later line winning a
 * tie (a mount over a mount). For kernels without STATX_MNT_ID.
 */
int devmap__dev_of_path(FILE *mountinfo, const char *abspath, struct mount_entry *out);

/* stat(2)'s st_dev of PATH, in kernel encoding; 0 or -errno. */
typedef int (*devmap_stat_fn)(const char *path, __u32 *dev, void *ctx);

enum devmap_match {
	DEVMAP_SUPERBLOCK,	/* dev is a mounted superblock's: use it as is */
	DEVMAP_SUBVOLUME,	/* dev is what stat says of a btrfs mount: *out is its superblock */
	DEVMAP_NONE,		/* no mounted filesystem has it */
};

/*
 * Map a --dev as the user saw it to the superblock's device. Only btrfs
 * mount points are stat()ed: it is the filesystem whose stat device differs
 * from its superblock's, and statting every mount point could block on a
 * dead network filesystem.
 */
enum devmap_match devmap__superblock(FILE *mountinfo, __u32 dev, devmap_stat_fn st,
				     void *ctx, struct mount_entry *out);

#endif /* RACEWATCH_DEVMAP_H */
