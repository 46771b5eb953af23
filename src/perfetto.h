/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The timeline sink (--perfetto FILE): a trace in the JSON Trace Event
 * Format, which ui.perfetto.dev and chrome://tracing open. One process per
 * filesystem (type and device), one thread-like track per inode with its
 * operations as slices and their invalidations nested in them, block frees
 * as instants; candidate inserts and judged windows as instants on the
 * inserting task's track, races in their own category with the lock
 * holders in args. Timestamps are CLOCK_MONOTONIC, as trace-cmd's "mono"
 * clock and perf's -k mono. README "Perfetto" says why JSON.
 */
#ifndef RACEWATCH_PERFETTO_H
#define RACEWATCH_PERFETTO_H

#include <stdio.h>
#include "engine.h"
#include "events.h"

struct perfetto;

/* Creates FILE; one stderr line and NULL when it cannot. */
struct perfetto *perfetto__open(const char *path);
/* Every record racewatch judges, before the engine sees it. */
void perfetto__record(struct perfetto *p, const union rw_record *rec);
/* A window the report printed; test: its test, or NULL. */
void perfetto__window(struct perfetto *p, const struct rw_window *w, const char *test);
/* Ends the trace (operations still open end at end_ns) and closes the
 * file; says on stderr what could not be written or tracked. Returns 0, or
 * -1 when the file is incomplete. NULL is a no-op. */
int perfetto__close(struct perfetto *p, __u64 end_ns);

#endif /* RACEWATCH_PERFETTO_H */
