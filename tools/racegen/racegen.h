/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every part of racegen shares: the options, the generator's state and
 * the record of one invalidating call. main.c owns env and the name tables.
 */
#ifndef RACEGEN_H
#define RACEGEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Stamp unit, and the page unit of every index in the output records. */
#define PG		4096ULL
#define PG_SHIFT	12
/* Readers also hammer this much either side of the range a call drops. */
#define READ_MARGIN	(4 * PG)
/* Oracle and restore I/O is done in chunks of this size. */
#define IO_CHUNK	(1 << 20)

enum op {
	OP_PUNCH,
	OP_COLLAPSE,
	OP_ZERO,
	OP_INSERT,
	OP_TRUNCATE,
	/* A direct-I/O write of fresh stamps over cached pages: the caller
	 * invalidates the range before its write and again after it. */
	OP_DIO_WRITE,
	OP_MAX,
};

extern const char *const op_names[OP_MAX];
extern const int op_modes[OP_MAX];

/*
 * How readers bring pages back. mix picks one of the three before it per
 * read; the modes after it are each their own kernel path into the page
 * cache, for the read path x operation table (README "Tests", vm).
 */
enum read_mode {
	RM_PREAD,
	RM_FADVISE,
	RM_MMAP,
	RM_MIX,
	RM_READAHEAD,		/* readahead(2) alone */
	RM_MADVISE,		/* madvise(MADV_WILLNEED) on the shared mapping */
	RM_SPLICE,		/* splice(2) into a pipe, drained with read(2) */
	RM_SENDFILE,		/* sendfile(2) to /dev/null */
	RM_MAX,
};

extern const char *const read_mode_names[];

enum drop_mode {
	DROP_NONE,
	DROP_FADVISE,
	DROP_CACHES,
};

extern const char *const drop_names[];

struct env {
	const char *path;
	long duration;
	long long iterations;
	long long until_confirmed;	/* 0: stop at the duration */
	long size_mib;
	unsigned int ops;		/* bit per enum op */
	long readers;
	enum read_mode read_mode;
	long max_range_kib;
	enum drop_mode drop;
	unsigned long long seed;
	bool seed_set;
	const char *comm_reader;	/* NULL: rg-reader-N */
	const char *comm_writer;	/* NULL: keep the process name */
};

extern struct env env;

/* What every page of the file must contain: a stamp id, 0 for zeros. */
struct model {
	uint64_t *stamp;
	uint64_t cap;			/* pages */
	uint64_t size;			/* bytes */
	uint64_t next_stamp;
};

/* Main thread -> readers. Nothing else is shared, and no lock at all. */
struct shared {
	/* first page << 32 | number of pages; 0 pages: nothing to read yet */
	_Atomic uint64_t range;
	atomic_bool stop;
};

struct reader {
	pthread_t thread;
	struct gen *g;
	unsigned short id;
	int fd;
	int pipe[2];		/* RM_SPLICE; -1 otherwise */
	int null_fd;		/* RM_SENDFILE; -1 otherwise */
	bool started;
	char *buf;
	uint64_t rng;
	uint64_t reads;
} __attribute__((aligned(64)));

struct iter_rec {
	uint64_t i;
	enum op op;
	long ret;
	uint64_t t0_ns, t1_ns;
	uint64_t offset, len;
	uint64_t stamp0;		/* OP_DIO_WRITE: the first stamp written */
	uint64_t first, last;
	uint64_t stale, confirmed;
	int64_t stale_first, stale_last;
};

struct gen {
	int fd;
	int dfd;			/* O_DIRECT, for confirmation reads */
	int drop_fd;			/* /proc/sys/vm/drop_caches */
	char *path;
	char dev[32];			/* the superblock's, as racewatch keys it */
	char st_dev[32];		/* stat(2)'s: a btrfs subvolume's own */
	uint64_t ino;
	uint64_t block;			/* alignment of every range */
	uint64_t size;			/* configured size */
	uint64_t max_len;
	uint64_t map_len;		/* readers' mappings; covers any size */
	struct model m;
	char *iobuf;			/* IO_CHUNK, buffered oracle reads */
	char *dbuf;			/* PG, aligned for O_DIRECT */
	char *dio_buf;			/* max_len, aligned: OP_DIO_WRITE's data */
	uint64_t *stale;		/* page indexes found stale this call */
	uint64_t nstale;
	char *map;			/* shared read-only mapping for readers */
	struct shared sh;
	struct reader *readers;
	uint64_t rng;
	unsigned int ops_left;
	/* size to restore with the next call; nonzero after an insert */
	uint64_t pending_truncate;
	uint64_t iterations, calls_ok, calls_failed, ops_ok[OP_MAX];
	uint64_t stale_iters, confirmed_iters, stale_pages, confirmed_pages;
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* xorshift64*: readers must not share glibc's locked random(). */
static inline uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

#endif /* RACEGEN_H */
