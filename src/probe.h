/* SPDX-License-Identifier: GPL-2.0 */
/* Answers about the running kernel for the attach plan (plan.h). */
#ifndef RACEWATCH_PROBE_H
#define RACEWATCH_PROBE_H

#include "plan.h"

struct ksyms;

struct probe_ctx {
	struct btf *vmlinux;
	struct btf **modules;	/* split BTF of every loaded module */
	int nmodules;
	const char *tracefs;	/* mount point, NULL if not mounted */
	struct ksyms *ksyms;	/* loaded on first kprobe question */
	int fentry_err;		/* 0 unknown, 1 works, <0 -errno */
	char fentry_why[96];
	char tp_why[128];
};

/* Loads vmlinux BTF; fails with -ENOENT when the kernel has none. */
int probe__init(struct probe_ctx *ctx);
void probe__fini(struct probe_ctx *ctx);
void probe__fill(struct probe_ctx *ctx, struct plan_probes *probes);

#endif /* RACEWATCH_PROBE_H */
