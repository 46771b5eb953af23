// SPDX-License-Identifier: GPL-2.0
/* Creating and filling the file, and every resource a run holds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "devmap.h"
#include "model.h"
#include "readers.h"
#include "setup.h"

static bool on_tmpfs(int fd)
{
	struct statfs sf;

	return !fstatfs(fd, &sf) && sf.f_type == TMPFS_MAGIC;
}

/*
 * racewatch keys inodes on the superblock's device, which stat(2) does not
 * give on btrfs (each subvolume has an anonymous device of its own): find
 * it through the mount that holds the file, as racewatch's --path does.
 * Without a readable mountinfo or STATX_MNT_ID (before 5.8) it stays what
 * stat said.
 */
static void superblock_dev(struct gen *g, dev_t st_dev)
{
	struct mount_entry *m = malloc(sizeof(*m));
	struct statx stx;
	FILE *mi;

	snprintf(g->dev, sizeof(g->dev), "%u:%u", major(st_dev), minor(st_dev));
	snprintf(g->st_dev, sizeof(g->st_dev), "%s", g->dev);
	mi = fopen("/proc/self/mountinfo", "re");
	if (m && mi && !statx(g->fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) &&
	    (stx.stx_mask & STATX_MNT_ID) && !devmap__dev_of_mount(mi, stx.stx_mnt_id, m))
		snprintf(g->dev, sizeof(g->dev), "%u:%u", m->dev >> 20,
			 m->dev & ((1U << 20) - 1));
	if (mi)
		fclose(mi);
	free(m);
}

static int create_file(struct gen *g)
{
	struct stat st;
	int err;

	/* Fresh inode every run: no page of an earlier run can linger. */
	if (unlink(env.path) && errno != ENOENT) {
		err = -errno;
		fprintf(stderr, "racegen: failed to unlink %s: %s\n", env.path,
			strerror(errno));
		return err;
	}
	g->fd = open(env.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (g->fd < 0) {
		err = -errno;
		fprintf(stderr, "racegen: failed to create %s: %s\n", env.path,
			strerror(errno));
		return err;
	}
	g->path = realpath(env.path, NULL);
	if (!g->path)
		g->path = strdup(env.path);
	if (!g->path || fstat(g->fd, &st)) {
		err = g->path ? -errno : -ENOMEM;
		fprintf(stderr, "racegen: failed to stat %s: %s\n", env.path,
			strerror(-err));
		return err;
	}
	superblock_dev(g, st.st_dev);
	g->ino = st.st_ino;
	/* Ranges must be whole fs blocks (collapse/insert demand it) and pages. */
	g->block = st.st_blksize > (blksize_t)PG ? (uint64_t)st.st_blksize : PG;
	if ((uint64_t)sysconf(_SC_PAGESIZE) > g->block)
		g->block = sysconf(_SC_PAGESIZE);
	if (g->block % PG || g->block % sysconf(_SC_PAGESIZE)) {
		fprintf(stderr, "racegen: failed to align ranges: st_blksize %ld is not page aligned\n",
			(long)st.st_blksize);
		return -EINVAL;
	}
	/* Read and write: the direct-I/O write op writes through it too. */
	g->dfd = open(env.path, O_RDWR | O_DIRECT | O_CLOEXEC);
	/*
	 * tmpfs takes O_DIRECT only since 6.6 (e88e0d366f9c, "tmpfs: trivial
	 * support for direct IO"). Its page cache is the file, so there is no
	 * disk to confirm against: the oracle then counts every page that
	 * disagrees with the model as confirmed (oracle.c), and the direct
	 * write cannot run.
	 */
	if (g->dfd < 0 && errno == EINVAL && on_tmpfs(g->fd)) {
		if (env.ops & 1U << OP_DIO_WRITE) {
			fprintf(stderr, "racegen: failed to open %s with O_DIRECT for dio_write: "
				"this kernel's tmpfs has none\n", env.path);
			return -EINVAL;
		}
		fprintf(stderr, "racegen: %s: tmpfs without O_DIRECT: every page that disagrees "
			"with the model counts as confirmed\n", env.path);
		return 0;
	}
	if (g->dfd < 0) {
		err = -errno;
		fprintf(stderr, "racegen: failed to open %s with O_DIRECT: %s\n",
			env.path, strerror(errno));
		return err;
	}
	return 0;
}

static int fill_file(struct gen *g)
{
	int err;

	err = write_stamped(g, 0, g->size);
	if (!err && fdatasync(g->fd))
		err = -errno;
	if (err)
		fprintf(stderr, "racegen: failed to fill %s: %s\n", g->path,
			strerror(-err));
	return err;
}

int setup(struct gen *g)
{
	uint64_t max_len;
	int err;

	err = create_file(g);
	if (err)
		return err;
	g->size = (uint64_t)env.size_mib << 20;
	max_len = (uint64_t)env.max_range_kib << 10;
	max_len -= max_len % g->block;
	if (!max_len) {
		fprintf(stderr, "racegen: note: --max-range is below the %" PRIu64
			"-byte block size; using one block\n", g->block);
		max_len = g->block;
	}
	if (g->size % g->block || max_len * 2 > g->size) {
		fprintf(stderr, "racegen: failed to fit ranges: --size must be a multiple of the %"
			PRIu64 "-byte block and at least twice --max-range\n", g->block);
		return -EINVAL;
	}
	g->max_len = max_len;
	/* Insert grows the file by up to max_len; readers read a margin past it. */
	g->map_len = g->size + max_len + READ_MARGIN;
	g->m.cap = g->map_len >> PG_SHIFT;
	g->m.stamp = calloc(g->m.cap, sizeof(*g->m.stamp));
	g->stale = calloc(g->m.cap, sizeof(*g->stale));
	g->iobuf = malloc(IO_CHUNK);
	if (!g->m.stamp || !g->stale || !g->iobuf ||
	    posix_memalign((void **)&g->dbuf, PG, PG) ||
	    posix_memalign((void **)&g->dio_buf, PG, max_len)) {
		fprintf(stderr, "racegen: failed to allocate the model: %s\n",
			strerror(ENOMEM));
		return -ENOMEM;
	}
	g->m.next_stamp = 1;
	if (env.drop == DROP_CACHES) {
		g->drop_fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
		if (g->drop_fd < 0) {
			err = -errno;
			fprintf(stderr, "racegen: failed to open /proc/sys/vm/drop_caches: %s (run as root, or use -D fadvise)\n",
				strerror(errno));
			return err;
		}
	}
	g->map = mmap(NULL, g->map_len, PROT_READ, MAP_SHARED, g->fd, 0);
	if (g->map == MAP_FAILED) {
		g->map = NULL;
		err = -errno;
		fprintf(stderr, "racegen: failed to mmap %s: %s\n", g->path,
			strerror(errno));
		return err;
	}
	return fill_file(g);
}

void teardown(struct gen *g)
{
	free_readers(g);
	if (g->map)
		munmap(g->map, g->map_len);
	if (g->drop_fd >= 0)
		close(g->drop_fd);
	if (g->dfd >= 0)
		close(g->dfd);
	if (g->fd >= 0)
		close(g->fd);
	free(g->m.stamp);
	free(g->stale);
	free(g->iobuf);
	free(g->dbuf);
	free(g->dio_buf);
	free(g->path);
}
