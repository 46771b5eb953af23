// SPDX-License-Identifier: GPL-2.0
/*
 * Real answers for the attach plan: BTF (vmlinux and modules), whether
 * fentry and kprobes work at all, kallsyms and tracefs.
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "errname.h"
#include "ksyms.h"
#include "probe.h"

#define TRACEFS_HINT "mount it yourself: mount -t tracefs nodev /sys/kernel/tracing"

/* Mount point of tracefs, or NULL. */
static const char *tracefs_mount(void)
{
	static const char *const paths[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char events[64];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(events, sizeof(events), "%s/events", paths[i]);
		if (!access(events, F_OK))
			return paths[i];
	}
	return NULL;
}

static int load_module_btfs(struct probe_ctx *ctx)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *dir;

	dir = opendir("/sys/kernel/btf");
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		struct probe_module *grown;
		struct btf *btf;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", de->d_name);
		btf = btf__parse_split(path, ctx->vmlinux);
		if (!btf)
			continue;	/* a module we do not need must not stop us */
		grown = realloc(ctx->modules, (ctx->nmodules + 1) * sizeof(*grown));
		if (!grown) {
			btf__free(btf);
			break;
		}
		ctx->modules = grown;
		ctx->modules[ctx->nmodules].btf = btf;
		snprintf(ctx->modules[ctx->nmodules].name,
			 sizeof(ctx->modules[ctx->nmodules].name), "%.63s", de->d_name);
		ctx->nmodules++;
	}
	closedir(dir);
	return 0;
}

int probe__init(struct probe_ctx *ctx)
{
	libbpf_print_fn_t saved;
	int err;

	memset(ctx, 0, sizeof(*ctx));
	/* A missing BTF is our error to report, in one line: mute libbpf's. */
	saved = libbpf_set_print(NULL);
	ctx->vmlinux = btf__load_vmlinux_btf();
	err = errno;
	libbpf_set_print(saved);
	if (!ctx->vmlinux)
		return -err;
	ctx->tracefs = tracefs_mount();
	return load_module_btfs(ctx);
}

void probe__fini(struct probe_ctx *ctx)
{
	for (int i = 0; i < ctx->nmodules; i++)
		btf__free(ctx->modules[i].btf);
	free(ctx->modules);
	btf__free(ctx->vmlinux);
	ksyms__free(ctx->ksyms);
	memset(ctx, 0, sizeof(*ctx));
}

static int func_nargs_in(const struct btf *btf, const char *func)
{
	const struct btf_type *t;
	int id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);

	if (id <= 0)
		return -1;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL;
	return t ? btf_vlen(t) : -1;
}

static int btf_func_nargs(void *p, const char *func)
{
	struct probe_ctx *ctx = p;
	int n = func_nargs_in(ctx->vmlinux, func);

	for (int i = 0; n < 0 && i < ctx->nmodules; i++)
		n = func_nargs_in(ctx->modules[i].btf, func);
	return n;
}

/* Is a type of this name and kind in vmlinux or module BTF? */
static bool btf_has(const struct probe_ctx *ctx, const char *name, int kind)
{
	if (btf__find_by_name_kind(ctx->vmlinux, name, kind) > 0)
		return true;
	for (int i = 0; i < ctx->nmodules; i++)
		if (btf__find_by_name_kind(ctx->modules[i].btf, name, kind) > 0)
			return true;
	return false;
}

static bool btf_struct_exists(void *p, const char *name)
{
	return btf_has(p, name, BTF_KIND_STRUCT);
}

static bool has_folios(void *p)
{
	struct probe_ctx *ctx = p;

	return btf__find_by_name_kind(ctx->vmlinux, "folio", BTF_KIND_STRUCT) > 0;
}

/*
 * Load and attach a do-nothing fentry program: kernels under lockdown (or
 * without trampolines) refuse here, long before our real programs would.
 */
/* Where noop_attach() failed, with errno set. */
enum noop_stage { NOOP_ATTACHED, NOOP_LOAD_FAILED, NOOP_ATTACH_FAILED };

/*
 * Load a do-nothing fentry or fexit program against BTF id (of the module
 * BTF obj_fd, 0 for vmlinux), attach it, and take it away again.
 */
static enum noop_stage noop_attach(enum bpf_attach_type type, int id, int obj_fd)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type,
		    .attach_btf_id = id, .attach_btf_obj_fd = obj_fd);
	enum noop_stage stage = NOOP_ATTACHED;
	int prog_fd, link_fd, err;

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "rw_attach_test", "GPL", insns, 2, &opts);
	if (prog_fd < 0)
		return NOOP_LOAD_FAILED;
	link_fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	err = errno;
	if (link_fd < 0)
		stage = NOOP_ATTACH_FAILED;
	else
		close(link_fd);
	close(prog_fd);
	errno = err;
	return stage;
}

static const char *fentry_unusable(void *p)
{
	struct probe_ctx *ctx = p;
	enum noop_stage stage;
	int id;

	if (ctx->fentry_err == 1)
		return NULL;
	if (ctx->fentry_err < 0)
		return ctx->fentry_why;
	id = btf__find_by_name_kind(ctx->vmlinux, "vfs_fallocate", BTF_KIND_FUNC);
	if (id <= 0) {
		ctx->fentry_err = -ENOENT;
		snprintf(ctx->fentry_why, sizeof(ctx->fentry_why),
			 "cannot test fentry: vfs_fallocate not in BTF");
		return ctx->fentry_why;
	}
	stage = noop_attach(BPF_TRACE_FENTRY, id, 0);
	if (stage == NOOP_ATTACHED) {
		ctx->fentry_err = 1;
		return NULL;
	}
	ctx->fentry_err = -errno;
	snprintf(ctx->fentry_why, sizeof(ctx->fentry_why), "fentry programs do not %s here: %s",
		 stage == NOOP_LOAD_FAILED ? "load" : "attach", strerror(errno));
	return ctx->fentry_why;
}

/* The kernel's fd for the BTF object of a module, or -errno. */
static int module_btf_fd(const char *name)
{
	__u32 id = 0;

	while (!bpf_btf_get_next_id(id, &id)) {
		struct bpf_btf_info info = {};
		__u32 len = sizeof(info);
		char got[64] = "";
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;
		info.name = (__u64)(unsigned long)got;
		info.name_len = sizeof(got);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(got, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* BTF id of func and the fd of the module BTF that holds it (0: vmlinux). */
static int func_btf_id(struct probe_ctx *ctx, const char *func, int *obj_fd)
{
	int id = btf__find_by_name_kind(ctx->vmlinux, func, BTF_KIND_FUNC);

	*obj_fd = 0;
	if (id > 0)
		return id;
	for (int i = 0; i < ctx->nmodules; i++) {
		id = btf__find_by_name_kind(ctx->modules[i].btf, func, BTF_KIND_FUNC);
		if (id > 0) {
			*obj_fd = module_btf_fd(ctx->modules[i].name);
			return *obj_fd < 0 ? *obj_fd : id;
		}
	}
	return -ENOENT;
}

/*
 * Attach a do-nothing fentry (or fexit) program to func itself, exactly as
 * the real one will be, and detach it. Loading proves little: on Debian's
 * 6.1, fentry on __xfs_free_extent loads and then fails to attach with
 * ENOTSUPP, when the kernel builds its trampoline, and the role used to be
 * dropped at attach time instead of falling back to a kprobe.
 */
static const char *fentry_attach_unusable(void *p, const char *func, bool fexit)
{
	struct probe_ctx *ctx = p;
	const char *kind = fexit ? "fexit" : "fentry";
	struct probe_attach_test *t;
	enum noop_stage stage;
	int id, obj_fd;
	char err[64];

	for (int i = 0; i < ctx->nattach_tests; i++) {
		t = &ctx->attach_tests[i];
		if (t->fexit == fexit && !strcmp(t->func, func))
			return t->why[0] ? t->why : NULL;
	}
	if (ctx->nattach_tests == PROBE_MAX_ATTACH_TESTS)
		return "too many fentry targets to test (PROBE_MAX_ATTACH_TESTS)";
	t = &ctx->attach_tests[ctx->nattach_tests++];
	snprintf(t->func, sizeof(t->func), "%s", func);
	t->fexit = fexit;
	t->why[0] = 0;

	id = func_btf_id(ctx, func, &obj_fd);
	if (id < 0) {
		snprintf(t->why, sizeof(t->why), "cannot test the attach: %s",
			 errname__describe(-id, err, sizeof(err)));
		return t->why;
	}
	stage = noop_attach(fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY, id, obj_fd);
	/* Before anything else can set errno: the BTF lookup below does. */
	errname__describe(errno, err, sizeof(err));
	if (stage == NOOP_LOAD_FAILED)
		snprintf(t->why, sizeof(t->why), "%s program does not load on it: %s", kind, err);
	else if (stage == NOOP_ATTACH_FAILED)
		snprintf(t->why, sizeof(t->why), "%s does not attach here: %s; BTF: %d parameters",
			 kind, err, btf_func_nargs(ctx, func));
	if (obj_fd > 0)
		close(obj_fd);
	return t->why[0] ? t->why : NULL;
}

static const char *kprobe_unusable(void *p)
{
	struct probe_ctx *ctx = p;
	char path[PATH_MAX];

	if (!access("/sys/bus/event_source/devices/kprobe/type", F_OK))
		return NULL;
	if (ctx->tracefs) {
		snprintf(path, sizeof(path), "%s/kprobe_events", ctx->tracefs);
		if (!access(path, F_OK))
			return NULL;
	}
	return "kernel has no kprobes (no kprobe PMU, no kprobe_events)";
}

static bool kprobe_target(void *p, const char *func)
{
	struct probe_ctx *ctx = p;

	if (!ctx->ksyms)
		ctx->ksyms = ksyms__load("/proc/kallsyms");
	return ctx->ksyms && ksyms__find(ctx->ksyms, func);
}

static bool btf_has_tracepoint(struct probe_ctx *ctx, const char *name)
{
	char type[128];

	snprintf(type, sizeof(type), "btf_trace_%s", name);
	return btf_has(ctx, type, BTF_KIND_TYPEDEF);
}

static const char *tracepoint_missing(void *p, const char *category, const char *name)
{
	struct probe_ctx *ctx = p;
	char path[PATH_MAX];

	if (ctx->tracefs) {
		snprintf(path, sizeof(path), "%s/events/%s/%s", ctx->tracefs, category, name);
		if (!access(path, F_OK))
			return NULL;
		snprintf(ctx->tp_why, sizeof(ctx->tp_why), "no tracepoint %s:%s", category, name);
		return ctx->tp_why;
	}
	/* Raw tracepoints attach by name without tracefs; syscall events
	 * are perf events defined by tracefs and need it mounted. */
	if (strcmp(category, "syscalls") && btf_has_tracepoint(ctx, name))
		return NULL;
	snprintf(ctx->tp_why, sizeof(ctx->tp_why), "tracefs not mounted; %s", TRACEFS_HINT);
	return ctx->tp_why;
}

void probe__fill(struct probe_ctx *ctx, struct plan_probes *probes)
{
	probes->btf_func_nargs = btf_func_nargs;
	probes->btf_struct_exists = btf_struct_exists;
	probes->has_folios = has_folios;
	probes->fentry_unusable = fentry_unusable;
	probes->fentry_attach_unusable = fentry_attach_unusable;
	probes->kprobe_unusable = kprobe_unusable;
	probes->kprobe_target = kprobe_target;
	probes->tracepoint_missing = tracepoint_missing;
	probes->ctx = ctx;
}
