/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Following /dev/kmsg from its current end (never replaying old lines),
 * for the names of the tests a harness announces there (testtag.h).
 *
 * A record's timestamp is the kernel's local_clock(), which is not
 * CLOCK_MONOTONIC, the clock of racewatch's records: the two drift apart
 * with NTP's corrections (14 ms after 10 hours on this host, seconds
 * after days elsewhere). Each record read gives the offset up to how late
 * it was read; racewatch reads as soon as kmsg is readable, so the
 * smallest offset of the last KMSG_SAMPLES records is taken.
 */
#ifndef RACEWATCH_KMSG_H
#define RACEWATCH_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define KMSG_SAMPLES	16

struct kmsg {
	int fd;			/* -1: not following */
	__s64 offsets[KMSG_SAMPLES];	/* CLOCK_MONOTONIC - local_clock, ns */
	unsigned int nsamples, next;
	__u64 lost;		/* records overwritten before they were read */
};

/* Called with the record's time on CLOCK_MONOTONIC and its text (not
 * NUL-terminated, the kernel's escapes kept). */
typedef void (*kmsg_line_fn)(__u64 ts, const char *text, size_t len, void *ctx);

/* Open path (/dev/kmsg) at its end: 0 or -errno (then k->fd is -1). */
int kmsg__open(struct kmsg *k, const char *path);
void kmsg__close(struct kmsg *k);
/* Read every record there is, without blocking. */
void kmsg__drain(struct kmsg *k, kmsg_line_fn fn, void *ctx);

/* "PRI,SEQ,TS_US,FLAGS;TEXT\n KEY=VALUE..." (Documentation/ABI/testing/
 * dev-kmsg): the timestamp in microseconds and the text up to its newline.
 * false for a record that does not parse. */
bool kmsg__parse(const char *rec, size_t len, __u64 *ts_us, const char **text,
		 size_t *text_len);
/* The record's CLOCK_MONOTONIC time, from its timestamp and a read at now. */
__u64 kmsg__mono(struct kmsg *k, __u64 ts_us, __u64 now);

#endif /* RACEWATCH_KMSG_H */
