// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kmsg.h"

static __u64 mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int kmsg__open(struct kmsg *k, const char *path)
{
	memset(k, 0, sizeof(*k));
	k->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0)
		return -errno;
	/* From the end: what the harness says from now on, not the boot log. */
	if (lseek(k->fd, 0, SEEK_END) < 0) {
		int err = -errno;

		close(k->fd);
		k->fd = -1;
		return err;
	}
	return 0;
}

void kmsg__close(struct kmsg *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

bool kmsg__parse(const char *rec, size_t len, __u64 *ts_us, const char **text,
		 size_t *text_len)
{
	const char *end = rec + len, *semi = memchr(rec, ';', len), *p, *nl;
	int commas = 0;
	__u64 ts = 0;

	if (!semi)
		return false;
	/* PRI,SEQ,TS_US,FLAGS...: the third field. */
	for (p = rec; p < semi && commas < 2; p++)
		commas += *p == ',';
	if (commas < 2 || p >= semi || *p < '0' || *p > '9')
		return false;
	for (; p < semi && *p >= '0' && *p <= '9'; p++)
		ts = ts * 10 + (*p - '0');
	if (p < semi && *p != ',')
		return false;
	*ts_us = ts;
	*text = semi + 1;
	nl = memchr(semi + 1, '\n', end - semi - 1);
	*text_len = (nl ? nl : end) - (semi + 1);
	return true;
}

__u64 kmsg__mono(struct kmsg *k, __u64 ts_us, __u64 now)
{
	__s64 off = (__s64)now - (__s64)(ts_us * 1000), best;

	k->offsets[k->next] = off;
	k->next = (k->next + 1) % KMSG_SAMPLES;
	if (k->nsamples < KMSG_SAMPLES)
		k->nsamples++;
	best = k->offsets[0];
	for (unsigned int i = 1; i < k->nsamples; i++)
		if (k->offsets[i] < best)
			best = k->offsets[i];
	return (__u64)((__s64)(ts_us * 1000) + best);
}

void kmsg__drain(struct kmsg *k, kmsg_line_fn fn, void *ctx)
{
	/* A record is at most 8 KiB with its dictionary (printk's limit). */
	char buf[8192];
	const char *text;
	size_t text_len;
	__u64 ts_us;
	ssize_t n;

	if (k->fd < 0)
		return;
	for (;;) {
		n = read(k->fd, buf, sizeof(buf));
		if (n < 0 && errno == EPIPE) {
			/* Overwritten before we read it; the next read goes on. */
			k->lost++;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (kmsg__parse(buf, n, &ts_us, &text, &text_len))
			fn(kmsg__mono(k, ts_us, mono_now()), text, text_len, ctx);
	}
}
