/* SPDX-License-Identifier: GPL-2.0 */
/* Applying an attach plan to the BPF skeleton: configure, then attach. */
#ifndef RACEWATCH_ATTACH_H
#define RACEWATCH_ATTACH_H

#include "cli.h"
#include "plan.h"

struct racewatch_bpf;
struct bpf_link;

struct attach_links {
	struct bpf_link **links;
	int nr;
};

/* Between open and load: choose programs and targets, set knobs and sizes. */
int attach__configure(struct racewatch_bpf *skel, const struct plan *plan,
		      const struct rw_config *cfg);

/*
 * After load: attach every hook of every served role. A required role that
 * fails to attach is fatal (-errno, message on stderr); an optional one is
 * warned about and marked unserved in the plan, so the summary shows the
 * reduced coverage.
 */
int attach__links(struct racewatch_bpf *skel, struct plan *plan,
		  struct attach_links *out);
void attach__destroy(struct attach_links *links);

#endif /* RACEWATCH_ATTACH_H */
