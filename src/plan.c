// SPDX-License-Identifier: GPL-2.0
/*
 * Attach plan selection. Each role lists its candidates in preference
 * order; a candidate names its mechanism, kernel symbol and the programs
 * that serve it. Selection walks fentry -> kprobe -> tracepoint, or keeps
 * to the requested mechanism for required roles (see plan__select()).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "escape.h"
#include "plan.h"
#include "racewatch.h"

struct candidate {
	enum rw_mech mech;
	const char *symbol;
	/* fentry: the BTF prototype must have this many parameters (0: any) */
	int nargs;
	/* Page-based insert functions survive on folio kernels as unused
	 * compat wrappers: the 6.x read path never calls them. */
	bool pre_folio_only;
	/* Tracepoint-mode invalidation: derived, no hook of its own. */
	bool derived;
	struct hook hooks[PLAN_MAX_HOOKS];
	/* Structs its programs read through CO-RE: without them in kernel or
	 * module BTF libbpf cannot relocate those reads and the whole object
	 * fails to load, so the candidate is rejected here instead. */
	const char *btf_structs[2];
};

struct role_def {
	const char *name;
	bool required;
	const struct candidate *cands;
	int ncands;
};

#define FENTRY_PAIR(entry, exit, sym) \
	{ { HOOK_FENTRY, entry, sym }, { HOOK_FEXIT, exit, sym } }
#define KPROBE_PAIR(entry, exit, sym) \
	{ { HOOK_KPROBE, entry, sym }, { HOOK_KRETPROBE, exit, sym } }

/* The program encodes the argument layout: f = (mapping, folio, index),
 * p = (page, mapping, index); the digit is the count, which places fexit's
 * return value. */
#define INSERT_FEXIT(sym, n, prog, old) \
	{ MECH_FENTRY, sym, n, old, false, { { HOOK_FEXIT, prog, sym } } }
#define INSERT_KPROBE(sym, prog, old) \
	{ MECH_KPROBE, sym, 0, old, false, KPROBE_PAIR(prog, "insert_kret", sym) }

static const struct candidate insert_cands[] = {
	/* 5.16+ (folios): the inner function also covers hugetlb's callers */
	INSERT_FEXIT("__filemap_add_folio", 5, "insert_f5_fexit", false),
	INSERT_FEXIT("filemap_add_folio", 4, "insert_f4_fexit", false),
	/* up to 5.15 */
	INSERT_FEXIT("__add_to_page_cache_locked", 5, "insert_p5_fexit", true),
	INSERT_FEXIT("add_to_page_cache_lru", 4, "insert_p4_fexit", true),
	INSERT_KPROBE("__filemap_add_folio", "insert_f_kprobe", false),
	INSERT_KPROBE("filemap_add_folio", "insert_f_kprobe", false),
	INSERT_KPROBE("__add_to_page_cache_locked", "insert_p_kprobe", true),
	INSERT_KPROBE("add_to_page_cache_lru", "insert_p_kprobe", true),
	{ MECH_TRACEPOINT, "filemap:mm_filemap_add_to_page_cache", .hooks = {
		{ HOOK_RAW_TP, "insert_rawtp", "mm_filemap_add_to_page_cache" } } },
};

/*
 * Deletes have one natural hook: the tracepoint fires once per removed
 * folio on both the single (__filemap_remove_folio) and the batched
 * (delete_from_page_cache_batch) paths, whose page-level functions are
 * static and split differently on every release.
 */
static const struct candidate delete_cands[] = {
	{ MECH_TRACEPOINT, "filemap:mm_filemap_delete_from_page_cache", .hooks = {
		{ HOOK_RAW_TP, "delete_rawtp", "mm_filemap_delete_from_page_cache" } } },
};

static const struct candidate invalidate_cands[] = {
	{ MECH_FENTRY, "truncate_inode_pages_range", 3, .hooks =
		FENTRY_PAIR("inval_fentry", "inval_fexit", "truncate_inode_pages_range") },
	{ MECH_KPROBE, "truncate_inode_pages_range", .hooks =
		KPROBE_PAIR("inval_kprobe", "inval_kret", "truncate_inode_pages_range") },
	/* No tracepoint exists inside truncate_inode_pages_range(). */
	{ MECH_TRACEPOINT, "derived from fallocate/truncate arguments", .derived = true },
};

static const struct candidate invalidate2_cands[] = {
	{ MECH_FENTRY, "invalidate_inode_pages2_range", 3, .hooks =
		FENTRY_PAIR("inval2_fentry", "inval2_fexit", "invalidate_inode_pages2_range") },
	{ MECH_KPROBE, "invalidate_inode_pages2_range", .hooks =
		KPROBE_PAIR("inval2_kprobe", "inval_kret", "invalidate_inode_pages2_range") },
};

static const struct candidate fallocate_cands[] = {
	{ MECH_FENTRY, "vfs_fallocate", 4, .hooks =
		FENTRY_PAIR("falloc_fentry", "falloc_fexit", "vfs_fallocate") },
	{ MECH_KPROBE, "vfs_fallocate", .hooks =
		KPROBE_PAIR("falloc_kprobe", "op_kret", "vfs_fallocate") },
	{ MECH_TRACEPOINT, "syscalls:sys_enter_fallocate", .hooks = {
		{ HOOK_TP, "falloc_tp", "syscalls:sys_enter_fallocate" },
		{ HOOK_TP, "op_exit_tp", "syscalls:sys_exit_fallocate" } } },
};

static const struct candidate truncate_cands[] = {
	/* do_truncate gained a leading idmap argument in 5.12. */
	{ MECH_FENTRY, "do_truncate", 5, .hooks =
		FENTRY_PAIR("trunc_fentry", "trunc5_fexit", "do_truncate") },
	{ MECH_FENTRY, "do_truncate", 4, .hooks =
		FENTRY_PAIR("trunc_fentry", "trunc4_fexit", "do_truncate") },
	{ MECH_KPROBE, "do_truncate", .hooks =
		KPROBE_PAIR("trunc_kprobe", "op_kret", "do_truncate") },
	{ MECH_TRACEPOINT, "syscalls:sys_enter_ftruncate", .hooks = {
		{ HOOK_TP, "ftrunc_tp", "syscalls:sys_enter_ftruncate" },
		{ HOOK_TP, "op_exit_tp", "syscalls:sys_exit_ftruncate" },
		{ HOOK_TP, "trunc_tp", "syscalls:sys_enter_truncate" },
		{ HOOK_TP, "op_exit_tp", "syscalls:sys_exit_truncate" } } },
};

static const struct candidate free_ext4_cands[] = {
	{ MECH_FENTRY, "ext4_free_blocks", 6, .hooks = {
		{ HOOK_FENTRY, "ext4free_fentry", "ext4_free_blocks" } } },
	{ MECH_KPROBE, "ext4_free_blocks", .hooks = {
		{ HOOK_KPROBE, "ext4free_kprobe", "ext4_free_blocks" } } },
	{ MECH_TRACEPOINT, "ext4:ext4_free_blocks", .hooks = {
		{ HOOK_RAW_TP, "ext4free_rawtp", "ext4_free_blocks" } } },
};

static const struct candidate free_xfs_cands[] = {
	{ MECH_FENTRY, "__xfs_free_extent", 0, .hooks = {
		{ HOOK_FENTRY, "xfsfree_fentry", "__xfs_free_extent" } } },
	{ MECH_KPROBE, "__xfs_free_extent", .hooks = {
		{ HOOK_KPROBE, "xfsfree_kprobe", "__xfs_free_extent" } } },
	{ MECH_TRACEPOINT, "xfs:xfs_free_extent", .hooks = {
		{ HOOK_RAW_TP, "xfsfree_rawtp", "xfs_free_extent" } } },
};

/*
 * ext4 zero range frees no blocks: its window ends when it has converted
 * the extents to unwritten (ops.bpf.h, handle_zero_convert()). The
 * tracepoint at the end of ext4_ext_map_blocks() names the caller's flags
 * and fires in the caller's task; the next ext4_mark_inode_dirty there
 * comes after the extent-status tree says unwritten. No function hook is
 * needed, so none is offered, and every mechanism gets the same ones.
 */
static const struct candidate convert_ext4_cands[] = {
	{ MECH_TRACEPOINT, "ext4:ext4_ext_map_blocks_exit", .hooks = {
		{ HOOK_RAW_TP, "ext4conv_rawtp", "ext4_ext_map_blocks_exit" },
		{ HOOK_RAW_TP, "ext4dirty_rawtp", "ext4_mark_inode_dirty" } } },
};

/*
 * ext4 sets PG_mappedtodisk only after a read has mapped its blocks: what
 * the mapping returned closes that gap (pagecache.bpf.h,
 * handle_ext4_map_blocks()). Without this role ext4 judges by the flag
 * alone (README "Verdicts", hole).
 */
static const struct candidate readmap_ext4_cands[] = {
	{ MECH_TRACEPOINT, "ext4:ext4_es_lookup_extent_exit", .hooks = {
		{ HOOK_RAW_TP, "ext4es_rawtp", "ext4_es_lookup_extent_exit" },
		{ HOOK_RAW_TP, "ext4map_rawtp", "ext4_ext_map_blocks_exit" },
		{ HOOK_RAW_TP, "ext4shift_rawtp", "ext4_es_remove_extent" } } },
};

/*
 * btrfs's punch and zero range do not take invalidate_lock exclusively, so
 * the lock rule cannot judge them: what the inserter's read mapped does
 * (README "Verdicts", the btrfs model). Without this role btrfs stays
 * unmodelled.
 */
/*
 * Its program reads struct extent_map and struct btrfs_inode through CO-RE
 * (compat.bpf.h), which needs btrfs's BTF: Debian's 5.10 has a btrfs
 * module with the tracepoint but no module BTF (CONFIG_DEBUG_INFO_BTF_MODULES
 * came in 5.11), and there a loaded btrfs made the load fail (EINVAL).
 */
static const struct candidate readmap_btrfs_cands[] = {
	{ MECH_TRACEPOINT, "btrfs:btrfs_get_extent", .hooks = {
		{ HOOK_RAW_TP, "btrfsmap_rawtp", "btrfs_get_extent" } },
	  .btf_structs = { "extent_map", "btrfs_inode" } },
};

/*
 * shmem (tmpfs, memfd, SysV shm) adds pages with shmem_add_to_page_cache(),
 * which neither fires the insert tracepoint nor calls the filemap insert
 * functions, and drops them with shmem_undo_range(), which does not call
 * truncate_inode_pages_range(). Both are hooked by function only: no
 * tracepoint is in either. Both are static, so BTF or kallsyms must show
 * they were not inlined (neither was in Debian's 5.10, 6.1 or 6.12, where
 * 6.12 inlined their caller shmem_truncate_range()). Their layouts:
 * bpf/racewatch.bpf.c.
 */
static const struct candidate shmem_invalidate_cands[] = {
	{ MECH_FENTRY, "shmem_undo_range", 4, .hooks =
		FENTRY_PAIR("shmem_undo_fentry", "shmem_undo_fexit", "shmem_undo_range") },
	{ MECH_KPROBE, "shmem_undo_range", .hooks =
		KPROBE_PAIR("shmem_undo_kprobe", "inval_kret", "shmem_undo_range") },
};

static const struct candidate shmem_insert_cands[] = {
	INSERT_FEXIT("shmem_add_to_page_cache", 6, "shmem6_fexit", false),
	INSERT_FEXIT("shmem_add_to_page_cache", 5, "shmem5_fexit", false),
	INSERT_KPROBE("shmem_add_to_page_cache", "insert_p_kprobe", false),
};

#define ROLE(n, req, c) { n, req, c, sizeof(c) / sizeof(c[0]) }

static const struct role_def roles[ROLE_MAX] = {
	[ROLE_INSERT]		= ROLE("page-cache insert", true, insert_cands),
	[ROLE_DELETE]		= ROLE("page-cache delete", true, delete_cands),
	[ROLE_INVALIDATE]	= ROLE("invalidation", true, invalidate_cands),
	[ROLE_INVALIDATE2]	= ROLE("direct-I/O invalidation", false, invalidate2_cands),
	[ROLE_FALLOCATE]	= ROLE("fallocate", true, fallocate_cands),
	[ROLE_TRUNCATE]		= ROLE("truncate", false, truncate_cands),
	[ROLE_FREE_EXT4]	= ROLE("ext4 block free", false, free_ext4_cands),
	[ROLE_FREE_XFS]		= ROLE("xfs block free", false, free_xfs_cands),
	[ROLE_CONVERT_EXT4]	= ROLE("ext4 zero-range conversion", false, convert_ext4_cands),
	[ROLE_READMAP_EXT4]	= ROLE("ext4 read mapping", false, readmap_ext4_cands),
	[ROLE_READMAP_BTRFS]	= ROLE("btrfs read mapping", false, readmap_btrfs_cands),
	[ROLE_SHMEM_INVALIDATE]	= ROLE("tmpfs invalidation", false, shmem_invalidate_cands),
	[ROLE_SHMEM_INSERT]	= ROLE("tmpfs/shmem insert", false, shmem_insert_cands),
};

const char *plan__role_name(enum rw_role role)
{
	return role < ROLE_MAX ? roles[role].name : "?";
}

const char *plan__mech_name(enum rw_mech mech)
{
	switch (mech) {
	case MECH_AUTO:		return "auto";
	case MECH_FENTRY:	return "fentry";
	case MECH_KPROBE:	return "kprobe";
	case MECH_TRACEPOINT:	return "tracepoint";
	}
	return "?";
}

int plan__parse_mech(const char *s, enum rw_mech *mech)
{
	for (enum rw_mech m = MECH_AUTO; m <= MECH_TRACEPOINT; m++) {
		if (!strcmp(s, plan__mech_name(m))) {
			*mech = m;
			return 0;
		}
	}
	return -EINVAL;
}

/* Why the candidate's mechanism cannot reach its symbol here, or NULL. */
static const char *hook_unusable(const struct candidate *c,
				      const struct plan_probes *p,
				      const struct plan *plan,
				      char *buf, size_t len)
{
	const char *why;
	int nargs;

	if (c->pre_folio_only && p->has_folios(p->ctx))
		return "compat wrapper on a folio kernel: the read path never calls it";

	switch (c->mech) {
	case MECH_FENTRY:
		why = p->fentry_unusable(p->ctx);
		if (why)
			return why;
		nargs = p->btf_func_nargs(p->ctx, c->symbol);
		if (nargs < 0)
			return "not in kernel or module BTF";
		if (c->nargs && nargs != c->nargs) {
			snprintf(buf, len, "BTF prototype has %d parameters, expected %d",
				 nargs, c->nargs);
			return buf;
		}
		for (int i = 0; p->fentry_attach_unusable && i < PLAN_MAX_HOOKS; i++) {
			const struct hook *h = &c->hooks[i];

			if (h->kind != HOOK_FENTRY && h->kind != HOOK_FEXIT)
				continue;
			why = p->fentry_attach_unusable(p->ctx, h->target, h->kind == HOOK_FEXIT);
			if (why)
				return why;
		}
		return NULL;
	case MECH_KPROBE:
		why = p->kprobe_unusable(p->ctx);
		if (why)
			return why;
		if (!p->kprobe_target(p->ctx, c->symbol))
			return "not in /proc/kallsyms (inlined or absent)";
		return NULL;
	case MECH_TRACEPOINT:
		if (c->derived)
			return plan->roles[ROLE_FALLOCATE].served ? NULL :
				"needs the fallocate role to be served";
		for (int i = 0; i < PLAN_MAX_HOOKS && c->hooks[i].kind; i++) {
			const char *t = c->hooks[i].target;
			const char *colon = strchr(t, ':');
			char cat[32] = "";

			if (colon) {
				snprintf(cat, sizeof(cat), "%.*s", (int)(colon - t), t);
				why = p->tracepoint_missing(p->ctx, cat, colon + 1);
			} else {
				/* raw tracepoint: the category is the symbol's prefix */
				snprintf(cat, sizeof(cat), "%.*s",
					 (int)strcspn(c->symbol, ":"), c->symbol);
				why = p->tracepoint_missing(p->ctx, cat, t);
			}
			if (why)
				return why;
		}
		return NULL;
	case MECH_AUTO:
		break;
	}
	return "unknown mechanism";
}

/* Why the candidate cannot serve on this kernel, or NULL if it can. A
 * missing hook is the likelier and plainer reason, so it is given first. */
static const char *candidate_unusable(const struct candidate *c,
				      const struct plan_probes *p,
				      const struct plan *plan,
				      char *buf, size_t len)
{
	const char *why = hook_unusable(c, p, plan, buf, len);

	for (int i = 0; !why && i < 2 && c->btf_structs[i]; i++) {
		if (p->btf_struct_exists(p->ctx, c->btf_structs[i]))
			continue;
		snprintf(buf, len, "struct %s not in kernel or module BTF (read through CO-RE)",
			 c->btf_structs[i]);
		why = buf;
	}
	return why;
}

/* Appends to a role's tried list, as far as it goes; once only where two
 * layouts of one symbol fail for one reason. */
static void plan_tried(struct plan_role *r, enum rw_mech mech, const char *symbol,
		       const char *reason)
{
	struct plan_attempt *a = r->ntried ? &r->tried[r->ntried - 1] : NULL;

	if (a && a->mech == mech && !strcmp(a->symbol, symbol) && !strcmp(a->reason, reason))
		return;
	if (r->ntried >= PLAN_MAX_TRIED)
		return;
	a = &r->tried[r->ntried++];
	a->mech = mech;
	a->symbol = symbol;
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
}

static bool try_mech(struct plan *plan, enum rw_role role, enum rw_mech mech,
		     const struct plan_probes *p)
{
	const struct role_def *def = &roles[role];
	struct plan_role *r = &plan->roles[role];
	char buf[PLAN_REASON_LEN];

	for (int i = 0; i < def->ncands; i++) {
		const struct candidate *c = &def->cands[i];
		const char *why;

		if (c->mech != mech)
			continue;
		why = candidate_unusable(c, p, plan, buf, sizeof(buf));
		if (why) {
			plan_tried(r, mech, c->symbol, why);
			continue;
		}
		r->served = true;
		r->mech = mech;
		r->symbol = c->symbol;
		memcpy(r->hooks, c->hooks, sizeof(r->hooks));
		if (role == ROLE_INVALIDATE)
			plan->derive_invalidation = c->derived;
		return true;
	}
	return false;
}

static bool role_has_mech(enum rw_role role, enum rw_mech mech)
{
	for (int i = 0; i < roles[role].ncands; i++)
		if (roles[role].cands[i].mech == mech)
			return true;
	return false;
}

/*
 * Requested mechanism M: a required role that has an M form must use it (no
 * silent fallback); one with no M form (deletes: tracepoint only) keeps its
 * only form. Optional roles prefer M and then fall back along the chain, so
 * that e.g. "--attach fentry" on a kernel without module BTF still sees
 * ext4's block frees through a kprobe, and the plan shows it.
 */
static void select_role(struct plan *plan, enum rw_role role,
			const struct plan_probes *p)
{
	static const enum rw_mech chain[] = { MECH_FENTRY, MECH_KPROBE, MECH_TRACEPOINT };
	enum rw_mech req = plan->requested;

	plan->roles[role].required = roles[role].required;
	if (req != MECH_AUTO && role_has_mech(role, req)) {
		if (try_mech(plan, role, req, p) || roles[role].required)
			return;
	}
	for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
		if (chain[i] == req && role_has_mech(role, req))
			continue;	/* already tried above */
		if (try_mech(plan, role, chain[i], p))
			return;
	}
}

/* Fallocate before invalidation: a derived invalidation depends on it,
 * and an error should name the root cause. */
static const enum rw_role order[ROLE_MAX] = {
	ROLE_INSERT, ROLE_DELETE, ROLE_FALLOCATE, ROLE_TRUNCATE,
	ROLE_INVALIDATE, ROLE_INVALIDATE2, ROLE_FREE_EXT4, ROLE_FREE_XFS,
	ROLE_CONVERT_EXT4, ROLE_READMAP_EXT4, ROLE_READMAP_BTRFS,
	ROLE_SHMEM_INVALIDATE, ROLE_SHMEM_INSERT,
};

/*
 * tmpfs is watched only when its inserts are seen and its windows open:
 * by shmem_undo_range(), or derived from the operation in tracepoint
 * mode. Otherwise BPF skips its inodes (bpf/state.bpf.h,
 * inode_unwatched()), and the insert row says why.
 */
static void plan_shmem(struct plan *plan, const struct plan_probes *p)
{
	struct plan_role *r = &plan->roles[ROLE_SHMEM_INSERT];

	select_role(plan, ROLE_SHMEM_INSERT, p);
	if (r->served && !plan->roles[ROLE_SHMEM_INVALIDATE].served &&
	    !plan->derive_invalidation) {
		r->served = false;
		plan_tried(r, r->mech, r->symbol,
			   "tmpfs invalidation not served, so no tmpfs window opens");
	}
	if (!r->served)
		plan_tried(r, MECH_TRACEPOINT, "shmem_add_to_page_cache",
			   "fires no filemap:mm_filemap_add_to_page_cache; tmpfs is not watched");
}

int plan__select(struct plan *plan, enum rw_mech requested,
		 const struct plan_probes *probes)
{
	memset(plan, 0, sizeof(*plan));
	plan->requested = requested;
	for (int i = 0; i < ROLE_MAX; i++) {
		enum rw_role role = order[i];

		/* Derived windows already cover what a second hook would. */
		if ((role == ROLE_INVALIDATE2 || role == ROLE_SHMEM_INVALIDATE) &&
		    plan->derive_invalidation) {
			plan_tried(&plan->roles[role], MECH_TRACEPOINT,
				   role == ROLE_INVALIDATE2 ? "invalidate_inode_pages2_range" :
				   "shmem_undo_range",
				   "no tracepoint; tracepoint mode derives windows from operations");
			continue;
		}
		if (role == ROLE_SHMEM_INSERT) {
			plan_shmem(plan, probes);
			continue;
		}
		select_role(plan, role, probes);
	}
	return plan__missing_required(plan) < 0 ? 0 : -ENOENT;
}

int plan__missing_required(const struct plan *plan)
{
	for (int i = 0; i < ROLE_MAX; i++)
		if (plan->roles[order[i]].required && !plan->roles[order[i]].served)
			return order[i];
	return -1;
}

void plan__format_tried(const struct plan_role *role, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < role->ntried && off < len; i++) {
		const struct plan_attempt *a = &role->tried[i];
		int n = snprintf(buf + off, len - off, "%s%s %s (%s)", i ? "; " : "",
				 plan__mech_name(a->mech), a->symbol, a->reason);

		if (n < 0)
			break;
		off += n;
	}
}

/* Symbols and reasons may come from the kernel: escaped (escape.h). */
void plan__print(const struct plan *plan, FILE *out, bool verbose)
{
	char tried[1024], esc[ESCAPE_TEXT_SIZE(1024)];

	fprintf(out, "attach plan (requested: %s)\n", plan__mech_name(plan->requested));
	for (int i = 0; i < ROLE_MAX; i++) {
		const struct plan_role *r = &plan->roles[i];

		if (r->served) {
			escape__text(esc, sizeof(esc), r->symbol, SIZE_MAX);
			fprintf(out, "  %-26s -> %-44s -> %s\n", plan__role_name(i),
				esc, plan__mech_name(r->mech));
		} else {
			fprintf(out, "  %-26s -> %-44s -> %s\n", plan__role_name(i),
				"(none)", r->required ? "MISSING" : "not covered");
		}
		if ((verbose || !r->served) && r->ntried) {
			plan__format_tried(r, tried, sizeof(tried));
			escape__text(esc, sizeof(esc), tried, sizeof(tried));
			fprintf(out, "  %-26s    tried: %s\n", "", esc);
		}
	}
}
