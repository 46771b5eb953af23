/* SPDX-License-Identifier: GPL-2.0 */
/* Answers about the running kernel for the attach plan (plan.h). */
#ifndef RACEWATCH_PROBE_H
#define RACEWATCH_PROBE_H

#include "plan.h"

struct ksyms;

struct probe_module {
	struct btf *btf;	/* split BTF, on top of vmlinux's */
	char name[64];		/* as in /sys/kernel/btf and bpf_btf_info */
};

/* Exact fentry/fexit attach tests already made (probe.c, fentry_attach_unusable()). */
#define PROBE_MAX_ATTACH_TESTS	32

struct probe_attach_test {
	char func[64];
	int fexit;
	char why[PLAN_REASON_LEN];	/* "" when it attached */
};

struct probe_ctx {
	struct btf *vmlinux;
	struct probe_module *modules;	/* every loaded module with BTF */
	int nmodules;
	const char *tracefs;	/* mount point, NULL if not mounted */
	struct ksyms *ksyms;	/* loaded on first kprobe question */
	int fentry_err;		/* 0 unknown, 1 works, <0 -errno */
	char fentry_why[96];
	char tp_why[128];
	struct probe_attach_test attach_tests[PROBE_MAX_ATTACH_TESTS];
	int nattach_tests;
};

/* Loads vmlinux BTF; fails with -ENOENT when the kernel has none. */
int probe__init(struct probe_ctx *ctx);
void probe__fini(struct probe_ctx *ctx);
void probe__fill(struct probe_ctx *ctx, struct plan_probes *probes);

#endif /* RACEWATCH_PROBE_H */
