// SPDX-License-Identifier: GPL-2.0
/*
 * The stamped pattern: every 4096-byte block carries a magic, a stamp id
 * unique to the write that put it there, and a fill byte derived from the
 * id, so a page read back can be told apart from any other page and from
 * zeros. The model maps every page to the stamp it must hold.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "model.h"

#define STAMP_MAGIC	0x31504d5453474552ULL	/* "REGSTMP1" little-endian */

static uint8_t stamp_fill(uint64_t stamp)
{
	return 1 + stamp % 255;
}

static void stamp_page(char *p, uint64_t stamp)
{
	uint64_t hdr[2] = { STAMP_MAGIC, stamp };

	memcpy(p, hdr, sizeof(hdr));
	memset(p + sizeof(hdr), stamp_fill(stamp), PG - sizeof(hdr));
}

/* n bytes of a page read back; n < PG means the read came up short. */
bool page_matches(const char *p, size_t n, uint64_t stamp)
{
	uint64_t hdr[2] = { STAMP_MAGIC, stamp };
	uint64_t word, want;
	size_t i;

	if (n != PG)
		return false;
	if (stamp) {
		if (memcmp(p, hdr, sizeof(hdr)))
			return false;
		i = sizeof(hdr);
		want = 0x0101010101010101ULL * stamp_fill(stamp);
	} else {
		i = 0;
		want = 0;
	}
	for (; i < PG; i += sizeof(word)) {
		memcpy(&word, p + i, sizeof(word));
		if (word != want)
			return false;
	}
	return true;
}

/* Fill len bytes (whole pages) of buf with fresh stamps, not yet in the
 * model; returns the first. */
uint64_t stamp_buffer(struct gen *g, char *buf, uint64_t len)
{
	uint64_t first = g->m.next_stamp;

	for (uint64_t i = 0; i < len; i += PG)
		stamp_page(buf + i, g->m.next_stamp++);
	return first;
}

/*
 * Write fresh stamps over [off, off + len), both page aligned, and record
 * them in the model. Restore writes are plain pwrite, never an invalidating
 * call, so they never appear as iterations.
 */
int write_stamped(struct gen *g, uint64_t off, uint64_t len)
{
	uint64_t n, i;
	ssize_t ret;

	while (len) {
		n = len < IO_CHUNK ? len : IO_CHUNK;
		for (i = 0; i < n; i += PG) {
			g->m.stamp[(off + i) >> PG_SHIFT] = g->m.next_stamp;
			stamp_page(g->iobuf + i, g->m.next_stamp++);
		}
		ret = pwrite(g->fd, g->iobuf, n, off);
		if (ret != (ssize_t)n) {
			if (ret >= 0)
				errno = EIO;
			return -errno;
		}
		off += n;
		len -= n;
	}
	if (off > g->m.size)
		g->m.size = off;
	return 0;
}

/* Make the model say what the file holds after a successful call. */
void model_apply(struct model *m, const struct iter_rec *it)
{
	uint64_t p0 = it->offset >> PG_SHIFT, k = it->len >> PG_SHIFT;
	uint64_t np = m->size >> PG_SHIFT;

	switch (it->op) {
	case OP_PUNCH:
	case OP_ZERO:
		memset(&m->stamp[p0], 0, k * sizeof(*m->stamp));
		break;
	case OP_COLLAPSE:
		memmove(&m->stamp[p0], &m->stamp[p0 + k],
			(np - p0 - k) * sizeof(*m->stamp));
		memset(&m->stamp[np - k], 0, k * sizeof(*m->stamp));
		m->size -= it->len;
		break;
	case OP_INSERT:
		memmove(&m->stamp[p0 + k], &m->stamp[p0],
			(np - p0) * sizeof(*m->stamp));
		memset(&m->stamp[p0], 0, k * sizeof(*m->stamp));
		m->size += it->len;
		break;
	case OP_DIO_WRITE:
		for (uint64_t i = 0; i < k; i++)
			m->stamp[p0 + i] = it->stamp0 + i;
		break;
	default:
		/* Truncate: the cut pages are gone; re-extended, they are holes. */
		memset(&m->stamp[p0], 0, (np - p0) * sizeof(*m->stamp));
		m->size = it->offset;
		break;
	}
}
