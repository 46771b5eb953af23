/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus sink (--metrics FILE): the text exposition format for
 * node_exporter's textfile collector, rewritten whole every --interval
 * seconds through a temporary file in the same directory and rename(2),
 * so that a scrape never reads half a file. README "Metrics" lists the
 * families.
 */
#ifndef RACEWATCH_METRICS_H
#define RACEWATCH_METRICS_H

#include <stdbool.h>
#include "engine.h"
#include "plan.h"
#include "report.h"

struct metrics;

/* Checks that FILE's directory takes a file now (one stderr line and NULL
 * when not). */
struct metrics *metrics__new(const char *path);
void metrics__free(struct metrics *m);

/* What the engine judged: every window (reported or not) and operation. */
void metrics__window(struct metrics *m, const struct rw_window *w);
void metrics__op(struct metrics *m, const struct rw_op_begin *op);

/* Rewrites the file. up: racewatch still watching (racewatch_up); the
 * last write, at exit, says 0. A failure is said on stderr the first
 * time, counted, and tried again next interval; returns 0 or -errno. */
int metrics__write(struct metrics *m, const struct engine *e, const struct report_losses *losses,
		   const struct plan *plan, bool up);

#endif /* RACEWATCH_METRICS_H */
