/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records per second, by type: the -v progress line on stderr, and the
 * peak rates in the summary. Fed the engine's running counts (no clock of
 * its own: the caller passes the time), so tests can drive it.
 */
#ifndef RACEWATCH_RATES_H
#define RACEWATCH_RATES_H

#include <stdbool.h>
#include <stddef.h>
#include "racewatch.h"

struct rates {
	__u64 last[RW_REC_MAX];		/* counts at the last sample */
	__u64 last_ns;
	__u64 peak[RW_REC_MAX];		/* highest rate over one sample */
};

/* Count from now on. */
void rates__start(struct rates *r, const __u64 records[RW_REC_MAX], __u64 now_ns);
/*
 * Once a second or more has passed since the last sample: per_s gets each
 * type's rate over that time, the peaks move, and it returns true. Rates
 * are over whole samples of at least a second, so a short burst does not
 * read as a huge rate.
 */
bool rates__sample(struct rates *r, const __u64 records[RW_REC_MAX], __u64 now_ns,
		   __u64 per_s[RW_REC_MAX]);
/* "op_begin 3 insert 4000": the types with a nonzero count, in type
 * order; "" when all are zero. Returns the length it wanted. */
int rates__format(const __u64 counts[RW_REC_MAX], char *buf, size_t len);

#endif /* RACEWATCH_RATES_H */
