// SPDX-License-Identifier: GPL-2.0
/* One iteration: one invalidating call, raced by the readers, then checked. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "iter.h"
#include "model.h"
#include "oracle.h"
#include "output.h"
#include "readers.h"

/* Pick an enabled op and a block-aligned range valid for it. */
static void choose(struct gen *g, struct iter_rec *it)
{
	uint64_t size = g->m.size, nblk, nops = 0, pick;
	int op;

	for (op = 0; op < OP_MAX; op++)
		nops += !!(g->ops_left & 1U << op);
	pick = rng_below(&g->rng, nops);
	for (op = 0; op < OP_MAX; op++)
		if ((g->ops_left & 1U << op) && !pick--)
			break;
	it->op = op;
	it->len = g->block * (1 + rng_below(&g->rng, g->max_len / g->block));
	switch (op) {
	case OP_COLLAPSE:
		/* EINVAL if the range reaches EOF: keep data after it. */
		nblk = (size - it->len) / g->block;
		break;
	case OP_INSERT:
		/* EINVAL unless offset < i_size. */
		nblk = size / g->block;
		break;
	case OP_TRUNCATE:
		it->offset = size - it->len;
		return;
	default:
		nblk = (size - it->len) / g->block + 1;
		break;
	}
	it->offset = g->block * rng_below(&g->rng, nblk);
}

/* The page range the call invalidates, as racewatch derives it. */
static void set_pages(struct gen *g, struct iter_rec *it)
{
	uint64_t last_page = (g->m.size - 1) >> PG_SHIFT;

	it->first = it->offset >> PG_SHIFT;
	if (it->op == OP_PUNCH || it->op == OP_ZERO || it->op == OP_DIO_WRITE)
		it->last = (it->offset + it->len - 1) >> PG_SHIFT;
	else
		it->last = last_page;
}

static void evict(struct gen *g, const struct iter_rec *it)
{
	if (env.drop == DROP_FADVISE) {
		posix_fadvise(g->fd, it->offset, it->len, POSIX_FADV_DONTNEED);
	} else if (env.drop == DROP_CACHES) {
		sync();
		if (pwrite(g->drop_fd, "3", 1, 0) != 1)
			fprintf(stderr, "racegen: failed to drop caches: %s\n",
				strerror(errno));
	}
}

/* A short direct write is a failure: the model cannot say which pages it
 * wrote (call_failed() restamps the range). */
static long dio_write(struct gen *g, struct iter_rec *it)
{
	ssize_t n;

	it->stamp0 = stamp_buffer(g, g->dio_buf, it->len);
	n = pwrite(g->dfd, g->dio_buf, it->len, it->offset);
	if (n < 0)
		return -errno;
	return n == (ssize_t)it->len ? 0 : -EIO;
}

static long do_call(struct gen *g, struct iter_rec *it)
{
	int ret;

	if (it->op == OP_DIO_WRITE)
		return dio_write(g, it);
	if (it->op == OP_TRUNCATE)
		ret = ftruncate(g->fd, it->offset);
	else
		ret = fallocate(g->fd, op_modes[it->op], it->offset, it->len);
	return ret ? -errno : 0;
}

static void count(struct gen *g, const struct iter_rec *it)
{
	g->iterations++;
	if (it->ret) {
		g->calls_failed++;
		return;
	}
	g->calls_ok++;
	g->ops_ok[it->op]++;
	g->stale_pages += it->stale;
	g->confirmed_pages += it->confirmed;
	g->stale_iters += !!it->stale;
	g->confirmed_iters += !!it->confirmed;
}

/*
 * A failed call is reported once and its op is not chosen again. The
 * failures expected here (EOPNOTSUPP, EINVAL) are refused before the file
 * is touched, but the range is stamped afresh anyway so that the model
 * stays true whatever the filesystem did.
 */
static int call_failed(struct gen *g, const struct iter_rec *it)
{
	int err;

	fprintf(stderr, "racegen: failed to %s %s at %" PRIu64 "+%" PRIu64 ": %s; no longer choosing %s\n",
		op_names[it->op], g->path, it->offset, it->len,
		strerror(-it->ret), op_names[it->op]);
	g->ops_left &= ~(1U << it->op);
	if (it->op == OP_TRUNCATE && g->pending_truncate)
		return -EIO;
	if (it->op != OP_TRUNCATE) {
		/* An insert range may reach past EOF; never grow the file here. */
		err = write_stamped(g, it->offset, it->offset + it->len > g->m.size ?
				    g->m.size - it->offset : it->len);
		if (err)
			return err;
		if (fdatasync(g->fd))
			return -errno;
	}
	if (!g->ops_left) {
		fprintf(stderr, "racegen: failed to continue: every op failed\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

int iterate(struct gen *g)
{
	struct iter_rec it = { .stale_first = -1, .stale_last = -1 };
	int err;

	it.i = g->iterations + 1;
	if (g->pending_truncate) {
		it.op = OP_TRUNCATE;
		it.offset = g->pending_truncate;
		it.len = g->m.size - it.offset;
	} else {
		choose(g, &it);
	}
	set_pages(g, &it);
	g->nstale = 0;
	publish_range(g, it.offset, it.offset + it.len);
	evict(g, &it);

	it.t0_ns = now_ns();
	it.ret = do_call(g, &it);
	it.t1_ns = now_ns();

	if (it.ret) {
		print_iter(g, &it);
		count(g, &it);
		return call_failed(g, &it);
	}
	g->pending_truncate = 0;
	model_apply(&g->m, &it);
	err = oracle(g, &it);
	if (!err)
		err = restore(g, &it);
	print_iter(g, &it);
	count(g, &it);
	if (err)
		fprintf(stderr, "racegen: failed to check %s after %s: %s\n",
			g->path, op_names[it.op], strerror(-err));
	return err;
}
