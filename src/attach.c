// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "racewatch.skel.h"
#include "attach.h"
#include "errname.h"

static unsigned int page_shift(void)
{
	long size = sysconf(_SC_PAGESIZE);
	unsigned int shift = 0;

	while ((1L << shift) < size)
		shift++;
	return shift;
}

/* --test-map-size: force loss paths in tests (cli.h). */
static int shrink_maps(struct racewatch_bpf *skel, const struct rw_config *cfg)
{
	struct bpf_map *maps[TEST_MAP_MAX] = {
		[TEST_MAP_OPS]		= skel->maps.ops,
		[TEST_MAP_INVALS]	= skel->maps.invals,
		[TEST_MAP_WINDOWS]	= skel->maps.inode_windows,
		[TEST_MAP_CANDIDATES]	= skel->maps.candidates,
		[TEST_MAP_STASH]	= skel->maps.insert_stash,
		[TEST_MAP_SLOTS]	= skel->maps.page_slots,
		[TEST_MAP_STACKS]	= skel->maps.stacks,
		[TEST_MAP_RINGBUF]	= skel->maps.events,
	};
	int err;

	for (int m = 0; m < TEST_MAP_MAX; m++) {
		if (!cfg->test_map_size[m])
			continue;
		err = bpf_map__set_max_entries(maps[m], cfg->test_map_size[m]);
		if (err) {
			fprintf(stderr, "racewatch: failed to resize map %s: %s\n",
				cli__test_map_name(m), strerror(-err));
			return err;
		}
		fprintf(stderr, "racewatch: warning: testing only: %s map shrunk to %u\n",
			cli__test_map_name(m), cfg->test_map_size[m]);
	}
	return 0;
}

int attach__configure(struct racewatch_bpf *skel, const struct plan *plan,
		      const struct rw_config *cfg)
{
	struct bpf_program *prog;
	int err;

	/* Only the chosen programs load: others may name absent symbols. */
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);

	for (int r = 0; r < ROLE_MAX; r++) {
		const struct plan_role *role = &plan->roles[r];

		if (!role->served)
			continue;
		for (int h = 0; h < PLAN_MAX_HOOKS && role->hooks[h].kind; h++) {
			const struct hook *hook = &role->hooks[h];

			prog = bpf_object__find_program_by_name(skel->obj, hook->prog);
			if (!prog) {
				fprintf(stderr, "racewatch: failed to find BPF program %s: "
					"object and plan disagree\n", hook->prog);
				return -ENOENT;
			}
			bpf_program__set_autoload(prog, true);
			if (hook->kind != HOOK_FENTRY && hook->kind != HOOK_FEXIT)
				continue;
			err = bpf_program__set_attach_target(prog, 0, hook->target);
			if (err) {
				fprintf(stderr, "racewatch: failed to set attach target %s for %s: %s\n",
					hook->target, hook->prog, strerror(-err));
				return err;
			}
		}
	}

	skel->rodata->page_shift = page_shift();
	skel->rodata->filter_dev = cfg->dev;
	skel->rodata->filter_ino = cfg->ino;
	skel->rodata->collect_stacks = cfg->stacks;
	skel->rodata->derive_invalidation = plan->derive_invalidation;
	skel->rodata->watch_shmem = plan->roles[ROLE_SHMEM_INSERT].served;
	skel->rodata->send_cleared = cfg->verbose > 0;
	skel->rodata->count_hooks = cfg->count_hooks;

	/* A stack map costs memory up front; keep a token one when unused. */
	if (!cfg->stacks)
		bpf_map__set_max_entries(skel->maps.stacks, 1);
	err = bpf_map__set_max_entries(skel->maps.events, cfg->ringbuf_mib << 20);
	if (!err)
		err = shrink_maps(skel, cfg);
	if (err)
		return err;
	/* BPF wakes the consumer once an eighth of the ring buffer is used
	 * (submit_record()); the poll loop's timeout takes the rest. */
	skel->rodata->wake_bytes = bpf_map__max_entries(skel->maps.events) / 8;
	return 0;
}

static struct bpf_link *attach_hook(struct bpf_program *prog, const struct hook *hook)
{
	char category[64];
	const char *colon;

	switch (hook->kind) {
	case HOOK_FENTRY:
	case HOOK_FEXIT:
		return bpf_program__attach(prog);
	case HOOK_KPROBE:
	case HOOK_KRETPROBE:
		return bpf_program__attach_kprobe(prog, hook->kind == HOOK_KRETPROBE, hook->target);
	case HOOK_RAW_TP:
		return bpf_program__attach_raw_tracepoint(prog, hook->target);
	case HOOK_TP:
		colon = strchr(hook->target, ':');
		if (!colon)
			break;
		snprintf(category, sizeof(category), "%.*s", (int)(colon - hook->target), hook->target);
		return bpf_program__attach_tracepoint(prog, category, colon + 1);
	case HOOK_NONE:
		break;
	}
	errno = EINVAL;
	return NULL;
}

static const char *hook_kind_name(enum hook_kind kind)
{
	static const char *const names[] = { "none", "fentry", "fexit", "kprobe",
					     "kretprobe", "raw_tp", "tracepoint" };

	return names[kind];
}

static int push_link(struct attach_links *out, struct bpf_link *link)
{
	struct bpf_link **grown = realloc(out->links, (out->nr + 1) * sizeof(*grown));

	if (!grown) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	out->links = grown;
	out->links[out->nr++] = link;
	return 0;
}

int attach__links(struct racewatch_bpf *skel, struct plan *plan, struct attach_links *out)
{
	int err = 0;

	for (int r = 0; r < ROLE_MAX; r++) {
		struct plan_role *role = &plan->roles[r];

		for (int h = 0; role->served && h < PLAN_MAX_HOOKS && role->hooks[h].kind; h++) {
			const struct hook *hook = &role->hooks[h];
			struct bpf_program *prog;
			char why[64];
			struct bpf_link *link;

			prog = bpf_object__find_program_by_name(skel->obj, hook->prog);
			link = prog ? attach_hook(prog, hook) : NULL;
			if (link) {
				err = push_link(out, link);
				if (err)
					goto cleanup;
				continue;
			}
			err = -errno;
			errname__describe(-err, why, sizeof(why));
			fprintf(stderr, "racewatch: failed to attach %s to %s %s: %s\n",
				hook->prog, hook_kind_name(hook->kind), hook->target, why);
			if (role->required)
				goto cleanup;
			/* Optional: run without it and say so in the summary. */
			fprintf(stderr, "racewatch: warning: running without %s\n", plan__role_name(r));
			role->served = false;
			if (role->ntried < PLAN_MAX_TRIED) {
				struct plan_attempt *a = &role->tried[role->ntried++];

				a->mech = role->mech;
				a->symbol = role->symbol;
				snprintf(a->reason, sizeof(a->reason), "attach failed: %s", why);
			}
			err = 0;
		}
	}
	return 0;
cleanup:
	attach__destroy(out);
	return err;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Removing a hook waits for an RCU grace period (10 to 30 ms idle, over
 * 100 ms on a busy machine), and racewatch has about ten: one after the
 * other they made most of its exit time. Removed from threads at once,
 * the waits overlap and share grace periods. A link whose thread cannot
 * start is removed here, in turn.
 */
void attach__destroy(struct attach_links *links)
{
	pthread_t *threads = calloc(links->nr ? links->nr : 1, sizeof(*threads));
	bool *started = calloc(links->nr ? links->nr : 1, sizeof(*started));

	for (int i = 0; threads && started && i < links->nr; i++)
		started[i] = !pthread_create(&threads[i], NULL, destroy_link, links->links[i]);
	for (int i = 0; i < links->nr; i++) {
		if (started && started[i])
			pthread_join(threads[i], NULL);
		else
			bpf_link__destroy(links->links[i]);
	}
	free(threads);
	free(started);
	free(links->links);
	links->links = NULL;
	links->nr = 0;
}
