/* SPDX-License-Identifier: GPL-2.0 */
/* Loss warnings: every counter of lost data is said on stderr as it moves. */
#ifndef RACEWATCH_LOSSES_H
#define RACEWATCH_LOSSES_H

#include <stdio.h>
#include "engine.h"

/* What has been warned about so far. */
struct loss_watch {
	__u64 bpf[RW_CNT_MAX];
	__u64 expired;
	__u64 ops_dropped;
	__u64 cands_dropped;
	__u64 invals_dropped;
	__u64 inodes_dropped;
};

/*
 * One stderr line per counter that grew since the last call, naming the
 * cause and what it costs ("racewatch: WARNING! ..."). The caller calls it
 * about once a second and once at exit. Returns how many lines it wrote.
 */
int losses__warn(struct loss_watch *w, const __u64 counters[RW_CNT_MAX],
		 const struct engine_stats *st, FILE *err);

#endif /* RACEWATCH_LOSSES_H */
