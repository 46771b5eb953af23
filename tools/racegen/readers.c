// SPDX-License-Identifier: GPL-2.0
/*
 * Reader threads. Each reads the range the main thread publishes, so that
 * pages come back into the cache while a call is dropping them: by pread,
 * fadvise(WILLNEED) then pread, through a shared mapping, or by one of the
 * other paths a kernel fills the page cache from (readahead(2), madvise
 * WILLNEED, splice, sendfile), which lock differently on some kernels.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include "readers.h"

/* Where a reader's SIGBUS handler jumps to; NULL outside mapped reads. */
static __thread sigjmp_buf *bus_jmp;

void on_sigbus(int sig, siginfo_t *info, void *uctx)
{
	/* A SIGBUS outside a mapped read is a real bug: die of it. */
	if (!bus_jmp) {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
		return;
	}
	siglongjmp(*bus_jmp, 1);
}

/* Kept out of line so that nothing read_mapped() keeps changes after sigsetjmp. */
static __attribute__((noinline)) void touch_pages(const char *map, uint64_t off,
						  uint64_t len,
						  volatile uint64_t *sum)
{
	uint64_t p;

	for (p = off; p < off + len; p += PG)
		*sum += *(const volatile uint64_t *)(map + p);
}

/*
 * Touch every page of [off, off + len) through the shared mapping. Truncate
 * and collapse shrink the file under us, and a fault past EOF is SIGBUS:
 * the handler jumps back here and the pass simply ends early.
 */
static uint64_t read_mapped(const char *map, uint64_t off, uint64_t len)
{
	volatile uint64_t sum = 0;
	sigjmp_buf jb;

	/*
	 * savemask 0 keeps this free of syscalls; that is safe because the
	 * handler runs with SA_NODEFER, so SIGBUS is never left blocked.
	 */
	if (sigsetjmp(jb, 0)) {
		bus_jmp = NULL;
		return sum;
	}
	bus_jmp = &jb;
	touch_pages(map, off, len, &sum);
	bus_jmp = NULL;
	return sum;
}

/* Narrow [*off, *off + *len) to a random run of whole pages inside it. */
static void pick_piece(uint64_t *rng, uint64_t *off, uint64_t *len)
{
	uint64_t pages = *len >> PG_SHIFT, first, n;

	first = rng_below(rng, pages);
	n = 1 + rng_below(rng, pages - first);
	*off += first << PG_SHIFT;
	*len = n << PG_SHIFT;
}

/* One pipe's worth: splice moves at most what the pipe holds. */
#define SPLICE_CHUNK	(64 * 1024)

/* splice [off, off + len) into the reader's pipe, a chunk at a time, and
 * drain it. Stops early at EOF or on any error: the file shrinks. */
static void read_spliced(struct reader *r, uint64_t off, uint64_t len)
{
	loff_t pos = off;

	while (len) {
		ssize_t n = splice(r->fd, &pos, r->pipe[1], NULL,
				   len < SPLICE_CHUNK ? len : SPLICE_CHUNK, 0);

		if (n <= 0)
			return;
		len -= n;
		while (n > 0) {
			ssize_t got = read(r->pipe[0], r->buf, n);

			if (got <= 0)
				return;
			n -= got;
		}
	}
}

/* Bring [off, off + len) into the page cache by mode (not mix or mmap). */
static void read_piece(struct reader *r, enum read_mode mode, uint64_t off,
		       uint64_t len, uint64_t *sink)
{
	loff_t pos = off;

	switch (mode) {
	case RM_READAHEAD:
		readahead(r->fd, off, len);
		return;
	case RM_MADVISE:
		/* off is page aligned, and the mapping spans the largest file. */
		madvise((void *)(r->g->map + off), len, MADV_WILLNEED);
		return;
	case RM_SPLICE:
		read_spliced(r, off, len);
		return;
	case RM_SENDFILE:
		sendfile(r->null_fd, r->fd, &pos, len);
		return;
	case RM_FADVISE:
		posix_fadvise(r->fd, off, len, POSIX_FADV_WILLNEED);
		break;
	default:
		break;
	}
	/* Short reads and EOF are expected: the file shrinks. */
	if (pread(r->fd, r->buf, len, off) > 0)
		*sink += (unsigned char)r->buf[0];
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct gen *g = r->g;
	uint64_t range, off, len, sink = 0;
	enum read_mode mode;
	char name[16];

	/*
	 * A comm of their own lets traces tell reader inserts from ours.
	 * prctl cuts a --comm-reader name to 15 bytes, as the kernel does for
	 * any task, instead of failing like pthread_setname_np.
	 */
	snprintf(name, sizeof(name), "rg-reader-%hu", r->id);
	prctl(PR_SET_NAME, env.comm_reader ? env.comm_reader : name);
	while (!atomic_load_explicit(&g->sh.stop, memory_order_relaxed)) {
		range = atomic_load_explicit(&g->sh.range, memory_order_relaxed);
		len = (range & 0xffffffffULL) << PG_SHIFT;
		off = (range >> 32) << PG_SHIFT;
		if (!len) {
			sched_yield();
			continue;
		}
		mode = env.read_mode;
		if (mode == RM_MIX)
			mode = rng_below(&r->rng, RM_MIX);
		if (mode == RM_MMAP) {
			sink += read_mapped(g->map, off, len);
			r->reads++;
			continue;
		}
		/*
		 * A random piece of the range per read: many short reads miss
		 * the cache at many more moments than one read of it all, and
		 * on 5.10 ext4 found 2 to 3 times more stale pages.
		 */
		pick_piece(&r->rng, &off, &len);
		read_piece(r, mode, off, len, &sink);
		r->reads++;
	}
	return (void *)(uintptr_t)(sink & 1);
}

void publish_range(struct gen *g, uint64_t off, uint64_t end)
{
	uint64_t lo = off > READ_MARGIN ? off - READ_MARGIN : 0;
	uint64_t hi = end + READ_MARGIN;

	if (hi > g->map_len)
		hi = g->map_len;
	atomic_store_explicit(&g->sh.range,
			      (lo >> PG_SHIFT) << 32 | (hi - lo) >> PG_SHIFT,
			      memory_order_relaxed);
}

int start_readers(struct gen *g)
{
	sigset_t block, old;
	struct reader *r;
	long i;
	int err = 0;

	g->readers = calloc(env.readers ? env.readers : 1, sizeof(*g->readers));
	if (!g->readers)
		return -ENOMEM;
	for (i = 0; i < env.readers; i++) {
		g->readers[i].fd = -1;
		g->readers[i].pipe[0] = g->readers[i].pipe[1] = -1;
		g->readers[i].null_fd = -1;
	}
	/* SIGINT/SIGTERM must land on the main thread, which owns the loop. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < env.readers; i++) {
		r = &g->readers[i];
		r->g = g;
		r->id = i;
		r->rng = (env.seed + 1) * 0x9e3779b97f4a7c15ULL + i + 1;
		/* An fd each: readahead state lives in struct file. */
		r->fd = open(g->path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			err = -errno;
			fprintf(stderr, "racegen: failed to open %s: %s\n",
				g->path, strerror(errno));
			goto cleanup;
		}
		if (env.read_mode == RM_SPLICE && pipe2(r->pipe, O_CLOEXEC)) {
			err = -errno;
			fprintf(stderr, "racegen: failed to create a pipe: %s\n",
				strerror(errno));
			goto cleanup;
		}
		if (env.read_mode == RM_SENDFILE) {
			r->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (r->null_fd < 0) {
				err = -errno;
				fprintf(stderr, "racegen: failed to open /dev/null: %s\n",
					strerror(errno));
				goto cleanup;
			}
		}
		r->buf = malloc(g->max_len + 2 * READ_MARGIN);
		if (!r->buf) {
			err = -ENOMEM;
			fprintf(stderr, "racegen: failed to allocate reader buffer: %s\n",
				strerror(ENOMEM));
			goto cleanup;
		}
		err = -pthread_create(&r->thread, NULL, reader_main, r);
		if (err) {
			fprintf(stderr, "racegen: failed to create reader thread: %s\n",
				strerror(-err));
			goto cleanup;
		}
		r->started = true;
	}
cleanup:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

uint64_t stop_readers(struct gen *g)
{
	uint64_t reads = 0;
	long i;

	if (!g->readers)
		return 0;
	atomic_store(&g->sh.stop, true);
	for (i = 0; i < env.readers; i++) {
		if (g->readers[i].started)
			pthread_join(g->readers[i].thread, NULL);
		g->readers[i].started = false;
		reads += g->readers[i].reads;
	}
	return reads;
}

void free_readers(struct gen *g)
{
	long i;

	if (!g->readers)
		return;
	for (i = 0; i < env.readers; i++) {
		if (g->readers[i].fd >= 0)
			close(g->readers[i].fd);
		for (int e = 0; e < 2; e++)
			if (g->readers[i].pipe[e] >= 0)
				close(g->readers[i].pipe[e]);
		if (g->readers[i].null_fd >= 0)
			close(g->readers[i].null_fd);
		free(g->readers[i].buf);
	}
	free(g->readers);
	g->readers = NULL;
}
