// SPDX-License-Identifier: GPL-2.0
/* The NDJSON records on stdout, each flushed as soon as it is written. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdio.h>
#include "output.h"

static void print_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *ops_list(unsigned int mask, char *buf, size_t size)
{
	size_t n = 0;
	int op;

	buf[0] = '\0';
	for (op = 0; op < OP_MAX; op++)
		if (mask & 1U << op)
			n += snprintf(buf + n, size - n, "%s%s", n ? "," : "",
				      op_names[op]);
	return buf;
}

/* fallocate flag names, most significant operation first, as strace does. */
static const char *mode_names(int mode, char *buf, size_t size)
{
	static const struct {
		int bit;
		const char *name;
	} flags[] = {
		{ FALLOC_FL_PUNCH_HOLE, "PUNCH_HOLE" },
		{ FALLOC_FL_COLLAPSE_RANGE, "COLLAPSE_RANGE" },
		{ FALLOC_FL_ZERO_RANGE, "ZERO_RANGE" },
		{ FALLOC_FL_INSERT_RANGE, "INSERT_RANGE" },
		{ FALLOC_FL_KEEP_SIZE, "KEEP_SIZE" },
	};
	size_t n = 0, i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (mode & flags[i].bit)
			n += snprintf(buf + n, size - n, "%s%s", n ? "|" : "",
				      flags[i].name);
	return buf;
}

void print_start(struct gen *g)
{
	char ops[64];

	printf("{\"type\":\"start\",\"v\":1,\"file\":");
	print_json_str(g->path);
	printf(",\"dev\":\"%s\",\"st_dev\":\"%s\",\"ino\":%" PRIu64 ",\"size\":%" PRIu64
	       ",\"block\":%" PRIu64 ",\"readers\":%ld,\"read_mode\":\"%s\""
	       ",\"ops\":\"%s\",\"drop\":\"%s\",\"seed\":%llu}\n",
	       g->dev, g->st_dev, g->ino, g->size, g->block, env.readers,
	       read_mode_names[env.read_mode], ops_list(env.ops, ops, sizeof(ops)),
	       drop_names[env.drop], env.seed);
	fflush(stdout);
}

void print_iter(struct gen *g, const struct iter_rec *it)
{
	char mode[64];

	printf("{\"type\":\"iter\",\"v\":1,\"i\":%" PRIu64 ",\"op\":\"%s\""
	       ",\"mode\":\"%s\",\"ret\":%ld,\"t0_ns\":%" PRIu64
	       ",\"t1_ns\":%" PRIu64 ",\"dev\":\"%s\",\"ino\":%" PRIu64
	       ",\"offset\":%" PRIu64 ",\"len\":%" PRIu64 ",\"first\":%" PRIu64
	       ",\"last\":%" PRIu64 ",\"stale\":%" PRIu64 ",\"confirmed\":%" PRIu64
	       ",\"stale_first\":%" PRId64 ",\"stale_last\":%" PRId64 "}\n",
	       it->i, op_names[it->op], mode_names(op_modes[it->op], mode, sizeof(mode)),
	       it->ret, it->t0_ns, it->t1_ns, g->dev, g->ino, it->offset, it->len,
	       it->first, it->last, it->stale, it->confirmed, it->stale_first,
	       it->stale_last);
	fflush(stdout);
}

void print_summary(struct gen *g, uint64_t elapsed, uint64_t reads)
{
	int op;

	printf("{\"type\":\"summary\",\"v\":1,\"iterations\":%" PRIu64
	       ",\"calls_ok\":%" PRIu64 ",\"calls_failed\":%" PRIu64 ",\"ops\":{",
	       g->iterations, g->calls_ok, g->calls_failed);
	for (op = 0; op < OP_MAX; op++)
		printf("%s\"%s\":%" PRIu64, op ? "," : "", op_names[op], g->ops_ok[op]);
	printf("},\"stale_iterations\":%" PRIu64 ",\"confirmed_iterations\":%" PRIu64
	       ",\"stale_pages\":%" PRIu64 ",\"confirmed_pages\":%" PRIu64
	       ",\"elapsed_ns\":%" PRIu64 ",\"reader_reads\":%" PRIu64 "}\n",
	       g->stale_iters, g->confirmed_iters, g->stale_pages,
	       g->confirmed_pages, elapsed, reads);
	fflush(stdout);
}
