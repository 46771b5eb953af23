// SPDX-License-Identifier: GPL-2.0
/*
 * racegen: race page-cache invalidation (hole punch, zero/collapse/insert
 * range, truncate) against reader threads, and check every call against a
 * stale-data oracle.
 *
 * The file is filled with stamped 4096-byte blocks and an in-memory model
 * says what every page must hold. After each invalidating call the affected
 * pages are read back through the page cache; a page that disagrees with the
 * model is stale, and it is confirmed when an O_DIRECT read of the same page
 * agrees with the model, i.e. the disk is right and only the page cache is
 * wrong (on a tmpfs without O_DIRECT, before 6.6, the page cache is the file
 * and every such page counts as confirmed). That is the ground truth
 * racewatch's verdicts are scored against (tools/racematch.c). It links statically against libc only, so it runs
 * unchanged in a busybox initramfs under qemu.
 *
 * This file: options, signals and the run loop. The pattern and model are
 * in model.c, the readers in readers.c, the oracle in oracle.c, one call in
 * iter.c, the records in output.c, the file and its resources in setup.c.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "racegen.h"
#include "iter.h"
#include "output.h"
#include "readers.h"
#include "setup.h"

#define EX_USAGE	64

enum {
	OPT_COMM_READER = 0x100,
	OPT_COMM_WRITER,
	OPT_UNTIL_CONFIRMED,
};

/*
 * --until-confirmed goes on past --duration for at most this many durations
 * in all: a kernel that does not race must still end the run.
 */
#define RG_UNTIL_FACTOR	4

const char *const op_names[OP_MAX] = {
	[OP_PUNCH] = "punch",
	[OP_COLLAPSE] = "collapse",
	[OP_ZERO] = "zero",
	[OP_INSERT] = "insert",
	[OP_TRUNCATE] = "truncate",
	[OP_DIO_WRITE] = "dio_write",
};

const int op_modes[OP_MAX] = {
	[OP_PUNCH] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	[OP_COLLAPSE] = FALLOC_FL_COLLAPSE_RANGE,
	[OP_ZERO] = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	[OP_INSERT] = FALLOC_FL_INSERT_RANGE,
	[OP_TRUNCATE] = 0,
	[OP_DIO_WRITE] = 0,
};

const char *const read_mode_names[] = {
	[RM_PREAD] = "pread",
	[RM_FADVISE] = "fadvise",
	[RM_MMAP] = "mmap",
	[RM_MIX] = "mix",
	[RM_READAHEAD] = "readahead",
	[RM_MADVISE] = "madvise",
	[RM_SPLICE] = "splice",
	[RM_SENDFILE] = "sendfile",
};

const char *const drop_names[] = {
	[DROP_NONE] = "none",
	[DROP_FADVISE] = "fadvise",
	[DROP_CACHES] = "caches",
};

struct env env = {
	.duration = 10,
	.size_mib = 64,
	.ops = 1U << OP_PUNCH,
	.readers = 2,
	.read_mode = RM_MIX,
	.max_range_kib = 64,
	.drop = DROP_FADVISE,
};

/* Set by SIGINT/SIGTERM; the main loop finishes its iteration and stops. */
static volatile sig_atomic_t exiting;

/* ---- options ---- */

const char argp_program_doc[] =
"Race page-cache invalidation against concurrent readers, with a stale-data\n"
"oracle checking every call.\n"
"\n"
"FILE is unlinked and created afresh. One NDJSON record per line goes to\n"
"stdout: start, one iter per invalidating call, and a summary.\n"
"\v"
"EXAMPLES:\n"
"    racegen /mnt/ext4/f              # punch holes for 10 s, 2 mixed readers\n"
"    racegen -d 20 -o punch,collapse,zero,insert,truncate /mnt/xfs/f\n"
"    racegen -n 500 -m pread -D caches -S 1 /mnt/ext4/f   # reproducible ops\n"
"    racegen -R 8192 -D none -r 4 /mnt/ext4/f > oracle.ndjson\n"
"    racegen -d 20 -m pread /mnt/ext4/f   # most stale pages on 5.10 ext4:\n"
"                                         # mmap faults there wait out the\n"
"                                         # whole punch on i_mmap_sem\n"
"    racegen --comm-reader $'r\\n\\x01' /mnt/ext4/f  # hostile names for\n"
"                                         # racewatch's escaping tests\n"
"\n"
"Exit status: 0 on success (stale pages are data, not an error), 1 on a\n"
"runtime failure, 64 on a usage error.\n";

static const struct argp_option opts[] = {
	{ "duration", 'd', "SEC", 0, "Run for SEC seconds, 0 = no limit (default 10)", 0 },
	{ "iterations", 'n', "N", 0, "Stop after N invalidating calls, 0 = no limit (default 0)", 0 },
	{ "size", 's', "MIB", 0, "File size (default 64)", 0 },
	{ "ops", 'o', "LIST", 0, "Comma list of punch,collapse,zero,insert,truncate,dio_write (default punch)", 0 },
	{ "readers", 'r', "N", 0, "Reader threads (default 2)", 0 },
	{ "read-mode", 'm', "MODE", 0, "pread, fadvise (then pread), mmap, mix (of those three), readahead, madvise, splice or sendfile (default mix)", 0 },
	{ "max-range", 'R', "KIB", 0, "Longest range a call drops or truncate cuts (default 64)", 0 },
	{ "drop", 'D', "MODE", 0, "Evict before each call: none, fadvise or caches (default fadvise)", 0 },
	{ "seed", 'S', "N", 0, "Seed of the op and range choices (default: from the clock)", 0 },
	{ "until-confirmed", OPT_UNTIL_CONFIRMED, "N", 0,
	  "Past --duration, go on until N calls left confirmed stale pages, "
	  "for at most 4 durations in all (default 0: stop at --duration)", 0 },
	{ "comm-reader", OPT_COMM_READER, "NAME", 0,
	  "Name every reader thread NAME, any bytes, cut to 15 (default rg-reader-N)", 0 },
	{ "comm-writer", OPT_COMM_WRITER, "NAME", 0,
	  "Name the invalidating thread NAME (default: the process name)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

static long long parse_num(const char *arg, long long min, long long max,
			   const char *what, struct argp_state *state)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		argp_error(state, "invalid %s '%s' (want %lld..%lld)", what,
			   arg, min, max);
	return v;
}

static int parse_name(const char *arg, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -1;
}

/* A name from names[0..n), or a usage error naming the option. */
static int parse_choice(const char *arg, const char *const *names, int n,
			const char *what, struct argp_state *state)
{
	int v = parse_name(arg, names, n);

	if (v < 0)
		argp_error(state, "unknown %s '%s'", what, arg);
	return v;
}

static unsigned int parse_ops(const char *arg, struct argp_state *state)
{
	unsigned int mask = 0;
	char *list, *tok, *save;
	int op;

	list = strdup(arg);
	if (!list)
		argp_failure(state, 1, ENOMEM, "failed to parse --ops");
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		op = parse_name(tok, op_names, OP_MAX);
		if (op < 0)
			argp_error(state, "unknown op '%s'", tok);
		mask |= 1U << op;
	}
	free(list);
	if (!mask)
		argp_error(state, "--ops needs at least one op");
	return mask;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'd':
		env.duration = parse_num(arg, 0, 365L * 86400, "duration", state);
		break;
	case 'n':
		env.iterations = parse_num(arg, 0, LLONG_MAX, "iterations", state);
		break;
	case 's':
		/* Page indexes travel as 32 bits to the readers: < 16 TiB. */
		env.size_mib = parse_num(arg, 1, 1 << 20, "size", state);
		break;
	case 'o':
		env.ops = parse_ops(arg, state);
		break;
	case 'r':
		env.readers = parse_num(arg, 0, 256, "readers", state);
		break;
	case 'm':
		env.read_mode = parse_choice(arg, read_mode_names, RM_MAX, "read mode", state);
		break;
	case 'R':
		env.max_range_kib = parse_num(arg, 4, 1 << 20, "max-range", state);
		break;
	case 'D':
		env.drop = parse_choice(arg, drop_names, DROP_CACHES + 1, "drop mode", state);
		break;
	case 'S':
		env.seed = parse_num(arg, 0, LLONG_MAX, "seed", state);
		env.seed_set = true;
		break;
	case OPT_UNTIL_CONFIRMED:
		env.until_confirmed = parse_num(arg, 0, LLONG_MAX, "until-confirmed", state);
		break;
	case OPT_COMM_READER:
		env.comm_reader = arg;
		break;
	case OPT_COMM_WRITER:
		env.comm_writer = arg;
		break;
	case ARGP_KEY_ARG:
		if (env.path)
			argp_error(state, "unexpected argument '%s'", arg);
		env.path = arg;
		break;
	case ARGP_KEY_END:
		if (!env.path)
			argp_error(state, "missing FILE");
		/* Collapse needs data left after the range it removes. */
		if ((long long)env.max_range_kib * 2 > (long long)env.size_mib * 1024)
			argp_error(state, "--max-range must be at most half of --size");
		if (env.until_confirmed && !env.duration)
			argp_error(state, "--until-confirmed needs a --duration to extend");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void on_signal(int sig)
{
	exiting = 1;
}

static int install_signals(void)
{
	struct sigaction sa = {};

	/* SA_RESETHAND: a second Ctrl-C kills. */
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND | SA_RESTART;
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	if (sigaction(SIGBUS, &sa, NULL))
		return -errno;
	return 0;
}

/*
 * Past the deadline, --until-confirmed keeps going while too few calls have
 * raced, up to the cap. A racy fixture that races a few calls a minute (5.10
 * under single-threaded TCG) otherwise now and then ends a run without one.
 */
static bool time_is_up(const struct gen *g, uint64_t now, uint64_t deadline,
		       uint64_t cap)
{
	if (!deadline || now < deadline)
		return false;
	if (g->confirmed_iters >= (uint64_t)env.until_confirmed)
		return true;
	return now >= cap;
}

static int run(struct gen *g)
{
	uint64_t start, deadline, cap, reads;
	int err;

	err = start_readers(g);
	start = now_ns();
	deadline = env.duration ? start + env.duration * 1000000000ULL : 0;
	cap = start + RG_UNTIL_FACTOR * env.duration * 1000000000ULL;
	while (!err && !exiting) {
		if (env.iterations && g->iterations >= (uint64_t)env.iterations)
			break;
		if (time_is_up(g, now_ns(), deadline, cap))
			break;
		err = iterate(g);
	}
	reads = stop_readers(g);
	print_summary(g, now_ns() - start, reads);
	return err;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "FILE",
		.doc = argp_program_doc,
	};
	struct gen g = { .fd = -1, .dfd = -1, .drop_fd = -1 };
	int err;

	argp_err_exit_status = EX_USAGE;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return EX_USAGE;
	if (!env.seed_set)
		env.seed = now_ns() ^ (uint64_t)getpid() << 32;
	g.rng = env.seed * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
	if (!g.rng)
		g.rng = 1;
	g.ops_left = env.ops;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* prctl, not pthread_setname_np: it cuts long names instead of failing. */
	if (env.comm_writer && prctl(PR_SET_NAME, env.comm_writer)) {
		err = -errno;
		fprintf(stderr, "racegen: failed to set the thread name: %s\n", strerror(errno));
		goto cleanup;
	}

	err = install_signals();
	if (err) {
		fprintf(stderr, "racegen: failed to install signal handlers: %s\n",
			strerror(-err));
		goto cleanup;
	}
	err = setup(&g);
	if (err)
		goto cleanup;
	print_start(&g);
	err = run(&g);
	if (!err && (ferror(stdout) || fflush(stdout))) {
		err = -EIO;
		fprintf(stderr, "racegen: failed to write stdout: %s\n",
			strerror(errno));
	}
cleanup:
	teardown(&g);
	return err ? 1 : 0;
}
