// SPDX-License-Identifier: GPL-2.0
/*
 * Attach-plan selection against fake kernels whose answers mirror what was
 * measured on Debian's 5.10, 6.1 and the 6.18 development host.
 */
#include <errno.h>
#include <stdlib.h>
#include "harness.h"
#include "plan.h"
#include "racewatch.h"
#include "suites.h"

struct fake_kernel {
	const char *fentry_why;		/* NULL: fentry works */
	const char *kprobe_why;		/* NULL: kprobes work */
	bool folios;
	bool tracefs;
	bool no_ext4;			/* ext4 not loaded: no ext4 tracepoints */
	bool no_module_btf;		/* 5.10: modules' structs (btrfs's) absent */
	const char *const *btf;		/* "name/nargs" entries */
	const char *const *kallsyms;
	const char *no_fentry_attach;	/* loads, but fentry/fexit on it fails */
};

static int fake_nargs(void *ctx, const char *func)
{
	const struct fake_kernel *k = ctx;
	size_t len = strlen(func);

	for (int i = 0; k->btf && k->btf[i]; i++)
		if (!strncmp(k->btf[i], func, len) && k->btf[i][len] == '/')
			return atoi(k->btf[i] + len + 1);
	return -1;
}

/* The only structs the plan asks for are btrfs's, a module's. */
static bool fake_struct(void *ctx, const char *name)
{
	return !((const struct fake_kernel *)ctx)->no_module_btf;
}

static bool fake_folios(void *ctx)
{
	return ((const struct fake_kernel *)ctx)->folios;
}

static const char *fake_fentry(void *ctx)
{
	return ((const struct fake_kernel *)ctx)->fentry_why;
}

static const char *fake_kprobe(void *ctx)
{
	return ((const struct fake_kernel *)ctx)->kprobe_why;
}

static const char *fake_fentry_attach(void *ctx, const char *func, bool fexit)
{
	const struct fake_kernel *k = ctx;

	if (k->no_fentry_attach && !strcmp(k->no_fentry_attach, func))
		return "fentry does not attach here: ENOTSUPP (kernel-internal errno 524); "
		       "BTF: 7 parameters";
	return NULL;
}

static bool fake_ksym(void *ctx, const char *func)
{
	const struct fake_kernel *k = ctx;

	for (int i = 0; k->kallsyms && k->kallsyms[i]; i++)
		if (!strcmp(k->kallsyms[i], func))
			return true;
	return false;
}

static const char *fake_tp(void *ctx, const char *category, const char *name)
{
	const struct fake_kernel *k = ctx;

	if (!strcmp(category, "syscalls") && !k->tracefs)
		return "tracefs not mounted; mount it yourself: mount -t tracefs nodev /sys/kernel/tracing";
	if (!strcmp(category, "ext4") && k->no_ext4)
		return "no tracepoint";
	return NULL;
}

static int select_on(const struct fake_kernel *k, enum rw_mech req, struct plan *plan)
{
	struct plan_probes p = {
		.btf_func_nargs = fake_nargs,
		.btf_struct_exists = fake_struct,
		.has_folios = fake_folios,
		.fentry_unusable = fake_fentry,
		.fentry_attach_unusable = fake_fentry_attach,
		.kprobe_unusable = fake_kprobe,
		.kprobe_target = fake_ksym,
		.tracepoint_missing = fake_tp,
		.ctx = (void *)k,
	};

	return plan__select(plan, req, &p);
}

static const char *const btf_61[] = {
	"__filemap_add_folio/5", "filemap_add_folio/4", "add_to_page_cache_lru/4",
	"truncate_inode_pages_range/3", "invalidate_inode_pages2_range/3",
	"vfs_fallocate/4", "do_truncate/5", "ext4_free_blocks/6",
	"__xfs_free_extent/7", "shmem_add_to_page_cache/6", "shmem_undo_range/4", NULL,
};
static const char *const syms_61[] = {
	"__filemap_add_folio", "filemap_add_folio", "add_to_page_cache_lru",
	"truncate_inode_pages_range", "invalidate_inode_pages2_range", "vfs_fallocate",
	"do_truncate", "ext4_free_blocks", 
	"__xfs_free_extent", "shmem_add_to_page_cache", "shmem_undo_range", NULL,
};
/* 5.10: no module BTF, so ext4/xfs functions are only in kallsyms. */
static const char *const btf_510[] = {
	"__add_to_page_cache_locked/5", "add_to_page_cache_lru/4",
	"truncate_inode_pages_range/3", "invalidate_inode_pages2_range/3",
	"vfs_fallocate/4", "do_truncate/4", "shmem_add_to_page_cache/6",
	"shmem_undo_range/4", NULL,
};
static const char *const syms_510[] = {
	"__add_to_page_cache_locked", "add_to_page_cache_lru",
	"truncate_inode_pages_range", "invalidate_inode_pages2_range", "vfs_fallocate",
	"do_truncate", "ext4_free_blocks", 
	"__xfs_free_extent", "shmem_add_to_page_cache", "shmem_undo_range", NULL,
};

static const struct fake_kernel k61 = { .folios = true, .tracefs = true,
					.btf = btf_61, .kallsyms = syms_61 };
static const struct fake_kernel k510 = { .folios = false, .tracefs = true,
					 .no_module_btf = true,
					 .btf = btf_510, .kallsyms = syms_510 };
static const struct fake_kernel host618 = {
	.fentry_why = "fentry programs do not load here: Operation not permitted",
	.kprobe_why = "kernel has no kprobes",
	.folios = true, .tracefs = true, .btf = btf_61,
};

static void test_61_auto_is_all_fentry(void)
{
	struct plan plan;

	ASSERT_EQ(select_on(&k61, MECH_AUTO, &plan), 0, "plan");
	for (int r = 0; r < ROLE_MAX; r++)
		if (r != ROLE_DELETE && r != ROLE_CONVERT_EXT4 &&
		    r != ROLE_READMAP_EXT4 && r != ROLE_READMAP_BTRFS)
			ASSERT_EQ(plan.roles[r].mech, MECH_FENTRY, plan__role_name(r));
	ASSERT_EQ(plan.roles[ROLE_DELETE].mech, MECH_TRACEPOINT, "delete");
	/* tracepoint-only, and not a failed fallback: nothing else was tried */
	ASSERT_EQ(plan.roles[ROLE_CONVERT_EXT4].mech, MECH_TRACEPOINT, "zero-range conversion");
	ASSERT_EQ(plan.roles[ROLE_CONVERT_EXT4].ntried, 0, "conversion attempts");
	ASSERT_EQ(plan.roles[ROLE_READMAP_EXT4].mech, MECH_TRACEPOINT, "ext4 read mapping");
	ASSERT_EQ(plan.roles[ROLE_READMAP_EXT4].ntried, 0, "ext4 read-mapping attempts");
	ASSERT_EQ(plan.roles[ROLE_READMAP_BTRFS].mech, MECH_TRACEPOINT, "btrfs read mapping");
	ASSERT_STREQ(plan.roles[ROLE_INSERT].symbol, "__filemap_add_folio", "insert symbol");
	ASSERT_STREQ(plan.roles[ROLE_INSERT].hooks[0].prog, "insert_f5_fexit", "insert program");
	ASSERT_STREQ(plan.roles[ROLE_TRUNCATE].hooks[1].prog, "trunc5_fexit", "do_truncate exit");
	ASSERT_TRUE(!plan.derive_invalidation, "real invalidation hooks");
}

static void test_510_fentry_falls_back_for_modules(void)
{
	struct plan plan;

	ASSERT_EQ(select_on(&k510, MECH_FENTRY, &plan), 0, "plan");
	ASSERT_STREQ(plan.roles[ROLE_INSERT].symbol, "__add_to_page_cache_locked", "insert");
	ASSERT_STREQ(plan.roles[ROLE_INSERT].hooks[0].prog, "insert_p5_fexit", "insert program");
	ASSERT_STREQ(plan.roles[ROLE_TRUNCATE].hooks[1].prog, "trunc4_fexit",
		     "5.10 do_truncate has no idmap");
	ASSERT_EQ(plan.roles[ROLE_INVALIDATE].mech, MECH_FENTRY, "invalidation");
	/* optional module roles: no module BTF, so kprobe, and the plan says why */
	ASSERT_EQ(plan.roles[ROLE_FREE_EXT4].mech, MECH_KPROBE, "ext4 free");
	ASSERT_EQ(plan.roles[ROLE_FREE_EXT4].ntried, 1, "ext4 free attempts");
	ASSERT_STREQ(plan.roles[ROLE_FREE_EXT4].tried[0].reason, "not in kernel or module BTF",
		     "why not fentry");
	/* no ext4 BTF needed: the raw tracepoint serves a forced fentry too */
	ASSERT_TRUE(plan.roles[ROLE_CONVERT_EXT4].served, "zero-range conversion served");
	ASSERT_STREQ(plan.roles[ROLE_CONVERT_EXT4].symbol, "ext4:ext4_ext_map_blocks_exit",
		     "conversion tracepoint");
	ASSERT_EQ(plan.roles[ROLE_CONVERT_EXT4].hooks[0].kind, HOOK_RAW_TP, "raw tracepoint");
	ASSERT_STREQ(plan.roles[ROLE_CONVERT_EXT4].hooks[0].prog, "ext4conv_rawtp",
		     "conversion program");
	ASSERT_STREQ(plan.roles[ROLE_CONVERT_EXT4].hooks[1].target, "ext4_mark_inode_dirty",
		     "settling tracepoint");
}

static void test_510_kprobe(void)
{
	struct plan plan;

	ASSERT_EQ(select_on(&k510, MECH_KPROBE, &plan), 0, "plan");
	ASSERT_EQ(plan.roles[ROLE_INSERT].mech, MECH_KPROBE, "insert");
	ASSERT_STREQ(plan.roles[ROLE_INSERT].hooks[0].prog, "insert_p_kprobe", "kprobe program");
	ASSERT_STREQ(plan.roles[ROLE_INSERT].hooks[1].prog, "insert_kret", "kretprobe program");
	ASSERT_EQ(plan.roles[ROLE_INVALIDATE].mech, MECH_KPROBE, "invalidation");
	ASSERT_EQ(plan.roles[ROLE_FALLOCATE].mech, MECH_KPROBE, "fallocate");
}

/* The recipe's trap: add_to_page_cache_lru exists on 6.x but is never
 * called by the read path; existing is not enough. */
static void test_folio_kernel_rejects_compat_wrapper(void)
{
	static const char *const btf[] = { "add_to_page_cache_lru/4", "vfs_fallocate/4",
					   "truncate_inode_pages_range/3", NULL };
	struct fake_kernel k = k61;
	struct plan plan;

	k.btf = btf;
	ASSERT_EQ(select_on(&k, MECH_AUTO, &plan), 0, "plan");
	ASSERT_EQ(plan.roles[ROLE_INSERT].mech, MECH_KPROBE, "insert falls to kprobe");
	ASSERT_STREQ(plan.roles[ROLE_INSERT].symbol, "__filemap_add_folio", "insert symbol");
}

static void test_host_tracepoint_mode(void)
{
	struct plan plan;

	ASSERT_EQ(select_on(&host618, MECH_AUTO, &plan), 0, "plan");
	ASSERT_EQ(plan.roles[ROLE_INSERT].mech, MECH_TRACEPOINT, "insert");
	ASSERT_EQ(plan.roles[ROLE_INVALIDATE].mech, MECH_TRACEPOINT, "invalidation");
	ASSERT_TRUE(plan.derive_invalidation, "derived windows");
	ASSERT_TRUE(!plan.roles[ROLE_INVALIDATE2].served, "no direct-I/O hook");
	ASSERT_EQ(plan.roles[ROLE_FALLOCATE].hooks[0].kind, HOOK_TP, "syscall tracepoint");
	ASSERT_EQ(plan.roles[ROLE_CONVERT_EXT4].mech, MECH_TRACEPOINT, "zero-range conversion");
}

/* tmpfs is watched by function hooks only (fentry, kprobe): the plan
 * says which layout serves, and why not where none does. */
static void test_shmem_plan(void)
{
	static const char *const btf_612[] = {
		"__filemap_add_folio/5", "truncate_inode_pages_range/3", "vfs_fallocate/4",
		"shmem_add_to_page_cache/5", "shmem_undo_range/4", NULL,
	};
	struct fake_kernel k612 = k61, no_inval = k61;
	const struct plan_role *r;
	struct plan plan;
	char tried[1024];

	ASSERT_EQ(select_on(&host618, MECH_AUTO, &plan), 0, "plan");
	r = &plan.roles[ROLE_SHMEM_INSERT];
	ASSERT_TRUE(!r->served && !r->required, "optional, not served");
	ASSERT_TRUE(!plan.roles[ROLE_SHMEM_INVALIDATE].served, "no tmpfs invalidation");
	plan__format_tried(r, tried, sizeof(tried));
	ASSERT_TRUE(strstr(tried, "kprobe shmem_add_to_page_cache (kernel has no kprobes)") != NULL,
		    "kprobe tried");
	ASSERT_TRUE(strstr(tried, "; tracepoint shmem_add_to_page_cache (fires no "
			   "filemap:mm_filemap_add_to_page_cache; tmpfs is not watched)") != NULL,
		    "tracepoint mode's reason");

	/* 5.10 and 6.1: charge_mm last, so the return is ctx[6]. */
	ASSERT_EQ(select_on(&k61, MECH_AUTO, &plan), 0, "plan on 6.1");
	r = &plan.roles[ROLE_SHMEM_INSERT];
	ASSERT_TRUE(r->served && r->mech == MECH_FENTRY, "fentry on 6.1");
	ASSERT_STREQ(r->hooks[0].prog, "shmem6_fexit", "six parameters");
	ASSERT_STREQ(plan.roles[ROLE_SHMEM_INVALIDATE].hooks[0].prog, "shmem_undo_fentry",
		     "tmpfs invalidation");
	ASSERT_EQ(select_on(&k510, MECH_KPROBE, &plan), 0, "plan on 5.10, kprobe");
	r = &plan.roles[ROLE_SHMEM_INSERT];
	ASSERT_STREQ(r->hooks[0].prog, "insert_p_kprobe", "(page, mapping, index)");
	ASSERT_STREQ(r->hooks[1].prog, "insert_kret", "the insert's return");
	ASSERT_STREQ(plan.roles[ROLE_SHMEM_INVALIDATE].hooks[1].prog, "inval_kret",
		     "the invalidation's return");

	/* 6.7 moved the memcg charge out: five parameters. */
	k612.btf = btf_612;
	ASSERT_EQ(select_on(&k612, MECH_FENTRY, &plan), 0, "plan on 6.12");
	ASSERT_STREQ(plan.roles[ROLE_SHMEM_INSERT].hooks[0].prog, "shmem5_fexit",
		     "five parameters");

	/* Inserts without windows would watch nothing. */
	no_inval.no_fentry_attach = "shmem_undo_range";
	no_inval.kallsyms = syms_510;
	ASSERT_EQ(select_on(&no_inval, MECH_FENTRY, &plan), 0, "plan");
	ASSERT_TRUE(plan.roles[ROLE_SHMEM_INVALIDATE].served, "kprobe fallback");
	no_inval.kprobe_why = "kernel has no kprobes";
	ASSERT_EQ(select_on(&no_inval, MECH_FENTRY, &plan), 0, "plan");
	r = &plan.roles[ROLE_SHMEM_INSERT];
	ASSERT_TRUE(!r->served, "no tmpfs window: not served");
	plan__format_tried(r, tried, sizeof(tried));
	ASSERT_TRUE(strstr(tried, "fentry shmem_add_to_page_cache (tmpfs invalidation not served") != NULL,
		    "says why");

	/* Tracepoint mode derives tmpfs windows too; its inserts still need
	 * a function hook, which the chain falls back to. */
	ASSERT_EQ(select_on(&k61, MECH_TRACEPOINT, &plan), 0, "plan in tracepoint mode");
	ASSERT_TRUE(!plan.roles[ROLE_SHMEM_INVALIDATE].served, "derived instead");
	ASSERT_TRUE(plan.roles[ROLE_SHMEM_INSERT].served, "inserts by fentry");
	ASSERT_EQ(plan.roles[ROLE_SHMEM_INSERT].mech, MECH_FENTRY, "fallback");
}

static void test_forced_mechanism_missing(void)
{
	struct plan plan;
	char tried[512];

	ASSERT_EQ(select_on(&host618, MECH_FENTRY, &plan), -ENOENT, "plan fails");
	ASSERT_EQ(plan__missing_required(&plan), ROLE_INSERT, "missing role");
	plan__format_tried(&plan.roles[ROLE_INSERT], tried, sizeof(tried));
	ASSERT_TRUE(strstr(tried, "fentry __filemap_add_folio (fentry programs do not load"),
		    "attempts listed");
	/* no silent fallback to another mechanism for required roles */
	ASSERT_TRUE(!strstr(tried, "tracepoint"), "tracepoint not tried");
}

static void test_bad_prototype_rejected(void)
{
	static const char *const btf[] = { "__filemap_add_folio/4", "filemap_add_folio/4",
					   "truncate_inode_pages_range/3", "vfs_fallocate/4", NULL };
	struct fake_kernel k = k61;
	struct plan plan;

	k.btf = btf;
	ASSERT_EQ(select_on(&k, MECH_FENTRY, &plan), 0, "plan");
	ASSERT_STREQ(plan.roles[ROLE_INSERT].symbol, "filemap_add_folio", "insert symbol");
	ASSERT_STREQ(plan.roles[ROLE_INSERT].tried[0].reason,
		     "BTF prototype has 4 parameters, expected 5", "reason");
}

static void test_tracefs_missing_fails_with_hint(void)
{
	struct fake_kernel k = host618;
	struct plan plan;
	char tried[512];

	k.tracefs = false;
	ASSERT_EQ(select_on(&k, MECH_AUTO, &plan), -ENOENT, "plan fails");
	ASSERT_EQ(plan__missing_required(&plan), ROLE_FALLOCATE, "missing role");
	plan__format_tried(&plan.roles[ROLE_FALLOCATE], tried, sizeof(tried));
	ASSERT_TRUE(strstr(tried, "mount -t tracefs nodev /sys/kernel/tracing"), "hint");
}

/*
 * Debian's 6.1: fentry on __xfs_free_extent loads, then fails to attach
 * (ENOTSUPP). The plan must test the attach and fall back to the kprobe,
 * saying why, instead of planning fentry and dropping the role later.
 */
static void test_fentry_attach_failure_falls_back(void)
{
	struct fake_kernel k = k61;
	struct plan plan;
	char tried[512];

	k.no_fentry_attach = "__xfs_free_extent";
	ASSERT_EQ(select_on(&k, MECH_AUTO, &plan), 0, "plan");
	ASSERT_TRUE(plan.roles[ROLE_FREE_XFS].served, "xfs block free still served");
	ASSERT_EQ(plan.roles[ROLE_FREE_XFS].mech, MECH_KPROBE, "by the kprobe");
	plan__format_tried(&plan.roles[ROLE_FREE_XFS], tried, sizeof(tried));
	ASSERT_STREQ(tried, "fentry __xfs_free_extent (fentry does not attach here: ENOTSUPP "
		     "(kernel-internal errno 524); BTF: 7 parameters)", "why not fentry");
	ASSERT_EQ(plan.roles[ROLE_FREE_EXT4].mech, MECH_FENTRY, "other roles keep fentry");

	/* Forced fentry: an optional role falls back along the chain too. */
	ASSERT_EQ(select_on(&k, MECH_FENTRY, &plan), 0, "forced fentry");
	ASSERT_EQ(plan.roles[ROLE_FREE_XFS].mech, MECH_KPROBE, "kprobe with fentry forced");
}

/* Without ext4 the conversion role is uncovered, optional, and says why. */
static void test_conversion_without_ext4(void)
{
	struct fake_kernel k = k510;
	struct plan plan;

	k.no_ext4 = true;
	ASSERT_EQ(select_on(&k, MECH_FENTRY, &plan), 0, "plan still succeeds");
	ASSERT_TRUE(!plan.roles[ROLE_CONVERT_EXT4].served, "not served");
	ASSERT_TRUE(!plan.roles[ROLE_CONVERT_EXT4].required, "optional");
	ASSERT_EQ(plan.roles[ROLE_CONVERT_EXT4].ntried, 1, "one attempt");
	ASSERT_STREQ(plan.roles[ROLE_CONVERT_EXT4].tried[0].reason, "no tracepoint", "why");
}

/* 5.10 with btrfs loaded: the tracepoint is there, btrfs's BTF is not.
 * Choosing the role there made the whole object fail to load. */
static void test_btrfs_read_mapping_needs_btf(void)
{
	struct plan plan;

	ASSERT_EQ(select_on(&k510, MECH_FENTRY, &plan), 0, "plan still succeeds");
	ASSERT_TRUE(!plan.roles[ROLE_READMAP_BTRFS].served, "not served");
	ASSERT_EQ(plan.roles[ROLE_READMAP_BTRFS].ntried, 1, "one attempt");
	ASSERT_STREQ(plan.roles[ROLE_READMAP_BTRFS].tried[0].reason,
		     "struct extent_map not in kernel or module BTF (read through CO-RE)", "why");
	ASSERT_EQ(select_on(&k61, MECH_FENTRY, &plan), 0, "6.1 plan");
	ASSERT_TRUE(plan.roles[ROLE_READMAP_BTRFS].served, "served with module BTF");
}

static void test_parse_mech(void)
{
	enum rw_mech m;

	ASSERT_EQ(plan__parse_mech("kprobe", &m), 0, "kprobe parses");
	ASSERT_EQ(m, MECH_KPROBE, "kprobe value");
	ASSERT_EQ(plan__parse_mech("kprobes", &m), -EINVAL, "typo rejected");
}

void suite_plan(void)
{
	harness_suite("plan");
	RUN(test_61_auto_is_all_fentry);
	RUN(test_510_fentry_falls_back_for_modules);
	RUN(test_510_kprobe);
	RUN(test_folio_kernel_rejects_compat_wrapper);
	RUN(test_host_tracepoint_mode);
	RUN(test_shmem_plan);
	RUN(test_forced_mechanism_missing);
	RUN(test_bad_prototype_rejected);
	RUN(test_tracefs_missing_fails_with_hint);
	RUN(test_conversion_without_ext4);
	RUN(test_btrfs_read_mapping_needs_btf);
	RUN(test_fentry_attach_failure_falls_back);
	RUN(test_parse_mech);
}
