/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The attach plan: for every role, which kernel symbol or tracepoint and
 * which mechanism serves it. Chosen between skeleton open and load from
 * probe answers that are injected, so unit tests can play any kernel.
 */
#ifndef RACEWATCH_PLAN_H
#define RACEWATCH_PLAN_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

enum rw_mech {
	MECH_AUTO = 0,		/* only as a request: walk the chain */
	MECH_FENTRY,
	MECH_KPROBE,
	MECH_TRACEPOINT,
};

enum rw_role {
	ROLE_INSERT,		/* page-cache inserts */
	ROLE_DELETE,		/* page-cache deletes */
	ROLE_INVALIDATE,	/* truncate_inode_pages_range */
	ROLE_INVALIDATE2,	/* invalidate_inode_pages2_range */
	ROLE_FALLOCATE,
	ROLE_TRUNCATE,
	ROLE_FREE_EXT4,
	ROLE_FREE_XFS,
	ROLE_CONVERT_EXT4,	/* ext4 zero range: extents made unwritten */
	ROLE_READMAP_EXT4,	/* ext4 reads: which blocks a new page read */
	ROLE_READMAP_BTRFS,	/* btrfs reads: which extent a new page read */
	ROLE_SHMEM_INVALIDATE,	/* shmem_undo_range */
	/* shmem_add_to_page_cache: fentry or kprobe only; without it tmpfs
	 * goes unwatched and the row says why (plan__select()). */
	ROLE_SHMEM_INSERT,
	ROLE_MAX,
};

enum hook_kind {
	HOOK_NONE = 0,
	HOOK_FENTRY,
	HOOK_FEXIT,
	HOOK_KPROBE,
	HOOK_KRETPROBE,
	HOOK_RAW_TP,		/* target: tracepoint name */
	HOOK_TP,		/* target: "category:name" */
};

struct hook {
	enum hook_kind kind;
	const char *prog;	/* BPF program name in racewatch.bpf.c */
	const char *target;
};

#define PLAN_MAX_HOOKS		4
#define PLAN_MAX_TRIED		12
#define PLAN_REASON_LEN		112

/* What the plan needs to know about the running kernel. */
struct plan_probes {
	/* Parameter count of a function in vmlinux or module BTF, <0 if absent. */
	int (*btf_func_nargs)(void *ctx, const char *func);
	/* Is a struct of this name in vmlinux or module BTF? */
	bool (*btf_struct_exists)(void *ctx, const char *name);
	/* Does the kernel store folios in the page cache (5.16+)? */
	bool (*has_folios)(void *ctx);
	/* NULL when the mechanism works here, else why not. */
	const char *(*fentry_unusable)(void *ctx);
	const char *(*kprobe_unusable)(void *ctx);
	/* NULL when a fentry (fexit) program attaches to func itself, else
	 * why not; NULL as a function: not tested (unit tests). */
	const char *(*fentry_attach_unusable)(void *ctx, const char *func, bool fexit);
	/* Is the function a kprobe target (in kallsyms, not inlined)? */
	bool (*kprobe_target)(void *ctx, const char *func);
	/* NULL when the tracepoint exists, else why it cannot be used. */
	const char *(*tracepoint_missing)(void *ctx, const char *category,
					  const char *name);
	void *ctx;
};

struct plan_attempt {
	enum rw_mech mech;
	const char *symbol;
	char reason[PLAN_REASON_LEN];
};

struct plan_role {
	bool required;
	bool served;
	enum rw_mech mech;
	const char *symbol;	/* what the user sees in the plan */
	struct hook hooks[PLAN_MAX_HOOKS];
	int ntried;
	struct plan_attempt tried[PLAN_MAX_TRIED];
};

struct plan {
	enum rw_mech requested;
	struct plan_role roles[ROLE_MAX];
	/* Tracepoint mode: windows open at the operation (rodata knob). */
	bool derive_invalidation;
};

/* 0 on success; -ENOENT when a required role cannot be served. */
int plan__select(struct plan *plan, enum rw_mech requested,
		 const struct plan_probes *probes);

/* The first required role left unserved, or -1. */
int plan__missing_required(const struct plan *plan);

const char *plan__role_name(enum rw_role role);
const char *plan__mech_name(enum rw_mech mech);
int plan__parse_mech(const char *s, enum rw_mech *mech);

/* "fentry __filemap_add_folio (not permitted: ...); kprobe ..." */
void plan__format_tried(const struct plan_role *role, char *buf, size_t len);

/* One line per role: role -> symbol -> mechanism, with fallbacks if verbose. */
void plan__print(const struct plan *plan, FILE *out, bool verbose);

#endif /* RACEWATCH_PLAN_H */
