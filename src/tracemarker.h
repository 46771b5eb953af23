/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ftrace sink (--trace-marker, --trace-instance): one key=value line per
 * reported window and one for the summary, written to an ftrace buffer's
 * trace_marker, so that a trace-cmd or perf capture shows them beside the
 * kernel's own filemap and filesystem events. README "ftrace and perf"
 * has the line format.
 */
#ifndef RACEWATCH_TRACEMARKER_H
#define RACEWATCH_TRACEMARKER_H

#include <stdbool.h>
#include "engine.h"
#include "report.h"

struct trace_marker;

/*
 * The global buffer's trace_marker, or with instance non-NULL the one of
 * tracefs's instances/INSTANCE, made if it is not there. On failure prints
 * one line on stderr and returns NULL with *exit_code set (RW_EXIT_*).
 */
struct trace_marker *trace_marker__open(const char *instance, bool keep_instance,
					int *exit_code);
/* One line for a window the report printed; test: its test, or NULL. */
void trace_marker__window(struct trace_marker *t, const struct rw_window *w,
			  const char *test);
/* The last line: the run's counts, and how many window lines came before. */
void trace_marker__summary(struct trace_marker *t, const struct engine *e,
			   const struct report_losses *losses, double elapsed_s);
/* Says on stderr how many lines failed, if any; removes an instance it
 * made, unless kept. NULL is a no-op. */
void trace_marker__close(struct trace_marker *t);

#endif /* RACEWATCH_TRACEMARKER_H */
