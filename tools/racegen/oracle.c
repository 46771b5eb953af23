// SPDX-License-Identifier: GPL-2.0
/*
 * The stale-data oracle. A page read through the page cache that disagrees
 * with the model is stale; it is confirmed when an O_DIRECT read of the
 * same page agrees with the model, i.e. the disk is right and only the page
 * cache is wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "model.h"
#include "oracle.h"

/* A stale page is confirmed when the disk, read with O_DIRECT, is right.
 * Without O_DIRECT (tmpfs before 6.6, setup.c) the page cache is the file,
 * and a page that disagrees with the model is wrong data in it. */
static int confirm_page(struct gen *g, uint64_t page, bool *ok)
{
	ssize_t n;

	if (g->dfd < 0) {
		*ok = true;
		return 0;
	}
	n = pread(g->dfd, g->dbuf, PG, page << PG_SHIFT);
	if (n < 0)
		return -errno;
	*ok = page_matches(g->dbuf, n, g->m.stamp[page]);
	return 0;
}

/* Read pages [first, end) through the page cache and compare with the model. */
static int oracle_check(struct gen *g, uint64_t first, uint64_t end,
			struct iter_rec *it)
{
	uint64_t page, n, i;
	bool ok = false;
	ssize_t got;
	int err;

	for (page = first; page < end; page += n) {
		n = end - page < IO_CHUNK / PG ? end - page : IO_CHUNK / PG;
		got = pread(g->fd, g->iobuf, n * PG, page << PG_SHIFT);
		if (got < 0)
			return -errno;
		for (i = 0; i < n; i++) {
			size_t have = got > (ssize_t)(i * PG) ?
				      (size_t)got - i * PG : 0;

			if (page_matches(g->iobuf + i * PG, have > PG ? PG : have,
					 g->m.stamp[page + i]))
				continue;
			g->stale[g->nstale++] = page + i;
			it->stale++;
			err = confirm_page(g, page + i, &ok);
			if (err)
				return err;
			if (!ok)
				continue;
			it->confirmed++;
			if (it->stale_first < 0)
				it->stale_first = page + i;
			it->stale_last = page + i;
		}
	}
	return 0;
}

/*
 * Check the call's effect. Pages past EOF cannot be read, so after a
 * truncate that cut into the configured size the final block is written
 * first (a plain extending pwrite, not an invalidating call): the cut range
 * is then a hole that must read as zeros, which exposes any page a racing
 * reader filled with the old data. The truncate that undoes an insert cuts
 * only past the configured size, where nothing ever reads again; its check
 * is the size alone. New sizes are whole blocks, so no partial page
 * straddles EOF and there is no tail past it to check for zeros.
 *
 * A collapse shrinks the file the same way, without dropping the pages
 * that end up past its new EOF: a reader that inserted one there after the
 * drop and mapped the old layout leaves old data cached where the file,
 * once extended, must read zeros (seen on 5.10: pages 16382-16383 of a
 * collapse at 15530, mapped before the shift, judged race, and invisible
 * to the check until then). So it is extended the same way and checked to
 * the configured size.
 */
int oracle(struct gen *g, struct iter_rec *it)
{
	uint64_t first = it->offset >> PG_SHIFT, end;
	struct stat st;
	int err;

	if (fstat(g->fd, &st))
		return -errno;
	if ((uint64_t)st.st_size != g->m.size) {
		fprintf(stderr, "racegen: failed to %s %s: size is %lld, expected %" PRIu64 "\n",
			op_names[it->op], g->path, (long long)st.st_size, g->m.size);
		return -EIO;
	}
	if ((it->op == OP_TRUNCATE || it->op == OP_COLLAPSE) && g->m.size < g->size) {
		err = write_stamped(g, g->size - PG, PG);
		if (err)
			return err;
		end = (g->size >> PG_SHIFT) - 1;
	} else if (it->op == OP_TRUNCATE) {
		return 0;
	} else if (it->op == OP_PUNCH || it->op == OP_ZERO || it->op == OP_DIO_WRITE) {
		end = (it->offset + it->len) >> PG_SHIFT;
	} else {
		end = g->m.size >> PG_SHIFT;
	}
	return oracle_check(g, first, end, it);
}

/*
 * Make the next call punch real data again: fresh stamps over every page the
 * call zeroed and every stale page (which also replaces the wrong cached
 * copy), then extend back to the configured size. After an insert the file
 * is longer; that is undone by a truncate of its own, in the next iteration.
 */
static bool needs_stamp(struct gen *g, uint64_t page, uint64_t *s)
{
	while (*s < g->nstale && g->stale[*s] < page)
		(*s)++;
	return !g->m.stamp[page] || (*s < g->nstale && g->stale[*s] == page);
}

int restore(struct gen *g, const struct iter_rec *it)
{
	uint64_t end = g->m.size < g->size ? g->m.size : g->size;
	uint64_t p = it->offset >> PG_SHIFT, run, s = 0;
	int err;

	end >>= PG_SHIFT;
	while (p < end) {
		if (!needs_stamp(g, p, &s)) {
			p++;
			continue;
		}
		for (run = p + 1; run < end && needs_stamp(g, run, &s); run++)
			;
		err = write_stamped(g, p << PG_SHIFT, (run - p) << PG_SHIFT);
		if (err)
			return err;
		p = run;
	}
	if (g->m.size < g->size) {
		err = write_stamped(g, g->m.size, g->size - g->m.size);
		if (err)
			return err;
	}
	if (g->m.size > g->size)
		g->pending_truncate = g->size;
	return fdatasync(g->fd) ? -errno : 0;
}
