// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE		/* statx() */
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "cli.h"
#include "devmap.h"
#include "escape.h"
#include "testtag.h"

static const char doc[] =
"racewatch: catch page-cache inserts that race with hole punch, truncate and\n"
"friends (stale-page windows), live, with the locks and stacks behind them.\n"
"\v"
"EXAMPLES:\n"
"    racewatch                       # watch everything until Ctrl-C\n"
"    racewatch --dry-run -v          # show the attach plan and exit\n"
"    racewatch -d 600 --fail-on-race # one-shot tracer around a test run\n"
"    racewatch -o races.ndjson --json -- ./check -g quick\n"
"                                    # attach, run the command, stop at its end\n"
"    racewatch --path /mnt/f --stacks  # one file, with both tasks' stacks\n"
"    racewatch --json | your-dashboard-ingest\n"
"    racewatch --attach kprobe -v    # force kprobes, show every window\n"
"\n"
"With a command after --, racewatch runs it once every hook is attached,\n"
"forwards SIGINT and SIGTERM to its process group, stops when it exits and\n"
"exits with its status: racewatch's own failure first, then 3 with\n"
"--fail-on-race, then the command's.\n"
"\n"
"EXIT STATUS: 0 ok (also Ctrl-C and --duration), 1 failure (also a write\n"
"error on stdout), 3 races found with --fail-on-race, 64 bad arguments (also\n"
"a --btf-dir file that does not fit the kernel), 69 kernel unsupported (no\n"
"BTF, no hookable insert path, tracefs not mounted), 77 insufficient\n"
"privileges. Died by a signal after detaching or at once, as the shell\n"
"reports it: 130 a second Ctrl-C (no summary), 141 stdout's reader\n"
"went away (silent), 143 a second SIGTERM.";

enum {
	OPT_DEV = 0x100,
	OPT_PATH,
	OPT_DRY_RUN,
	OPT_FAIL_ON_RACE,
	OPT_RINGBUF,
	OPT_MAX_OP_AGE,
	OPT_TEST_MAP_SIZE,
	OPT_RAW_ADDRESSES,
	OPT_COUNT_HOOKS,
	OPT_USAGE,
	OPT_BTF_DIR,
	OPT_KMSG_TAG,
	OPT_TRACE_MARKER,
	OPT_TRACE_INSTANCE,
	OPT_KEEP_INSTANCE,
	OPT_METRICS,
	OPT_INTERVAL,
	OPT_PERFETTO,
};

static const char args_doc[] = "[-- COMMAND [ARG...]]";

static const char *const test_map_names[TEST_MAP_MAX] = {
	[TEST_MAP_OPS]		= "ops",
	[TEST_MAP_INVALS]	= "invals",
	[TEST_MAP_WINDOWS]	= "windows",
	[TEST_MAP_CANDIDATES]	= "candidates",
	[TEST_MAP_STASH]	= "stash",
	[TEST_MAP_SLOTS]	= "slots",
	[TEST_MAP_STACKS]	= "stacks",
	[TEST_MAP_RINGBUF]	= "ringbuf",
};

const char *cli__test_map_name(enum rw_test_map m)
{
	return m < TEST_MAP_MAX ? test_map_names[m] : "?";
}

static const struct argp_option options[] = {
	{ "attach", 'a', "MODE", 0, "auto (default), fentry, kprobe or tracepoint" },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS (default: until Ctrl-C)" },
	{ "pid", 'p', "PID", 0, "Only report windows where process PID inserted or invalidated" },
	{ "dev", OPT_DEV, "MAJ:MIN", 0, "Only watch inodes on this device (as mountinfo or stat "
	  "shows it: a btrfs mount's stat device means its whole filesystem)" },
	{ "inode", 'i', "INO", 0, "Only watch this inode number" },
	{ "path", OPT_PATH, "FILE", 0, "Only watch FILE (sets --dev and --inode)" },
	{ "json", 'j', NULL, 0, "Print NDJSON records instead of text" },
	{ "output", 'o', "FILE", 0, "Write windows and the summary to FILE, not stdout "
	  "(a wrapped command keeps stdout)" },
	{ "stacks", 's', NULL, 0, "Show the kernel stacks of both tasks" },
	{ "verbose", 'v', NULL, 0, "Also print windows that cannot be races; -vv: libbpf debug" },
	{ "dry-run", OPT_DRY_RUN, NULL, 0, "Print the attach plan and exit" },
	{ "fail-on-race", OPT_FAIL_ON_RACE, NULL, 0, "Exit with status 3 when a race was reported" },
	{ "ringbuf-size", OPT_RINGBUF, "MIB", 0, "Ring buffer size in MiB, a power of two (default 4)" },
	{ "max-op-age", OPT_MAX_OP_AGE, "SECONDS", 0, "Give up on an operation still open after "
	  "SECONDS, e.g. a missed kretprobe (default 60, 0: never)" },
	{ "test-map-size", OPT_TEST_MAP_SIZE, "MAP=N", 0, "Testing only: shrink a BPF map to force "
	  "its loss path (ops, invals, windows, candidates, stash, slots, stacks; ringbuf in bytes)" },
	{ "count-hooks", OPT_COUNT_HOOKS, NULL, 0, "Also count every page-cache insert and delete, "
	  "and read mapping, on watched inodes in the summary's hook firings (an inode "
	  "lookup per page)" },
	{ "btf-dir", OPT_BTF_DIR, "DIR", 0, "BTF for modules the kernel has none for: DIR/ext4.btf "
	  "places ext4's i_mmap_sem before 5.15 (pahole --btf_encode_detached; README \"Locks\")" },
	{ "kmsg-tag", OPT_KMSG_TAG, "REGEX", 0, "A /dev/kmsg line matching REGEX (POSIX extended) "
	  "starts a test, named by its first group (default: xfstests' \"" TESTTAG_DEFAULT "\")" },
	{ "trace-marker", OPT_TRACE_MARKER, NULL, 0, "Also write each window and the summary, "
	  "as key=value lines, to ftrace's trace_marker (trace-cmd, perf)" },
	{ "trace-instance", OPT_TRACE_INSTANCE, "NAME", 0, "Write the --trace-marker lines to the "
	  "ftrace instance NAME, not the global buffer; made if absent, then removed at exit" },
	{ "keep-instance", OPT_KEEP_INSTANCE, NULL, 0, "Keep a --trace-instance that racewatch "
	  "made at exit" },
	{ "metrics", OPT_METRICS, "FILE", 0, "Keep FILE a Prometheus text-format snapshot "
	  "(node_exporter's textfile collector), rewritten atomically every --interval" },
	{ "interval", OPT_INTERVAL, "SECONDS", 0, "Seconds between --metrics rewrites "
	  "(default 15)" },
	{ "perfetto", OPT_PERFETTO, "FILE", 0, "Also write a timeline of operations, "
	  "invalidations, inserts and windows to FILE, for ui.perfetto.dev" },
	{ "raw-addresses", OPT_RAW_ADDRESSES, NULL, 0,
	  "Print stack frames that resolve to no symbol as raw kernel addresses (a KASLR leak), not [unknown]" },
	/* Our own, because ARGP_NO_ERRS (one-line errors) also mutes argp's. */
	{ "help", 'h', NULL, 0, "Show this help and exit" },
	{ "usage", OPT_USAGE, NULL, 0, "Show a short usage message and exit" },
	{ "version", 'V', NULL, 0, "Show the version and exit" },
	{},
};

/* A directory under tracefs's instances/: a name, never a path. */
static bool trace_instance_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 64 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_-.", name[i]))
			return false;
	return true;
}

/* argp delivers ARGP_KEY_ERROR after any failed key: report only once. */
static bool error_reported;

/*
 * One line, the house format; the caller returns RW_EXIT_USAGE. The
 * argument is escaped: it may come from a script or a file name with a
 * newline or terminal controls in it.
 */
static int usage_error(const char *fmt, const char *arg)
{
	size_t len;
	char *esc;

	if (error_reported)
		return EINVAL;
	error_reported = true;
	len = escape__text(NULL, 0, arg, SIZE_MAX) + 1;
	esc = malloc(len);
	if (esc)
		escape__text(esc, len, arg, SIZE_MAX);
	fprintf(stderr, "racewatch: ");
	fprintf(stderr, fmt, esc ? esc : "(out of memory)");
	fprintf(stderr, " (see racewatch --help)\n");
	free(esc);
	return EINVAL;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_dev(const char *s, __u32 *dev)
{
	unsigned long major, minor;
	char *end;

	errno = 0;
	major = strtoul(s, &end, 10);
	if (errno || end == s || *end != ':')
		return -EINVAL;
	s = end + 1;
	minor = strtoul(s, &end, 10);
	if (errno || end == s || *end || major >= (1 << 12) || minor >= (1 << 20))
		return -EINVAL;
	*dev = major << 20 | minor;	/* the kernel's MKDEV() */
	return 0;
}

static int parse_test_map_size(const char *arg, struct rw_config *cfg)
{
	const char *eq = strchr(arg, '=');
	long v;

	if (!eq)
		return -EINVAL;
	for (int m = 0; m < TEST_MAP_MAX; m++) {
		if (strlen(test_map_names[m]) != (size_t)(eq - arg) ||
		    strncmp(arg, test_map_names[m], eq - arg))
			continue;
		if (parse_long(eq + 1, 1, 1L << 30, &v))
			return -EINVAL;
		/* BPF ring buffers are a power-of-two number of pages. */
		if (m == TEST_MAP_RINGBUF && (v < 4096 || (v & (v - 1))))
			return -EINVAL;
		cfg->test_map_size[m] = v;
		return 0;
	}
	return -EINVAL;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct rw_config *cfg = state->input;
	struct stat st;
	long v;

	switch (key) {
	case 'a':
		if (plan__parse_mech(arg, &cfg->attach))
			return usage_error("invalid --attach '%s': use auto, fentry, kprobe or tracepoint", arg);
		break;
	case 'd':
		if (parse_long(arg, 1, 86400 * 365, &v))
			return usage_error("invalid --duration '%s': whole seconds, 1 or more", arg);
		cfg->duration_s = v;
		break;
	case 'p':
		if (parse_long(arg, 1, 0x7fffffff, &v))
			return usage_error("invalid --pid '%s'", arg);
		cfg->pid = v;
		break;
	case OPT_DEV:
		if (parse_dev(arg, &cfg->dev))
			return usage_error("invalid --dev '%s': use MAJ:MIN as in ls -l /dev", arg);
		cfg->dev_source = DEV_FROM_DEV;
		cfg->dev_user = cfg->dev;
		cfg->dev_arg = arg;
		break;
	case 'i':
		if (parse_long(arg, 1, 0x7fffffffffffffffL, &v))
			return usage_error("invalid --inode '%s'", arg);
		cfg->ino = v;
		break;
	case OPT_PATH:
		if (stat(arg, &st))
			return usage_error("cannot stat --path '%s'", arg);
		cfg->path = arg;
		cfg->dev = devmap__kdev(major(st.st_dev), minor(st.st_dev));
		cfg->ino = st.st_ino;
		cfg->dev_source = DEV_FROM_PATH;
		cfg->dev_user = cfg->dev;
		cfg->dev_arg = arg;
		break;
	case 'j':
		cfg->json = true;
		break;
	case 'o':
		if (!arg[0])
			return usage_error("invalid --output '%s': empty", arg);
		cfg->output = arg;
		break;
	case 's':
		cfg->stacks = true;
		break;
	case 'v':
		cfg->verbose++;
		break;
	case OPT_DRY_RUN:
		cfg->dry_run = true;
		break;
	case OPT_FAIL_ON_RACE:
		cfg->fail_on_race = true;
		break;
	case OPT_RINGBUF:
		/* BPF ring buffers are a power-of-two number of pages. */
		if (parse_long(arg, 1, 1024, &v) || (v & (v - 1)))
			return usage_error("invalid --ringbuf-size '%s': a power of two, 1 to 1024 MiB", arg);
		cfg->ringbuf_mib = v;
		break;
	case OPT_MAX_OP_AGE:
		if (parse_long(arg, 0, 86400 * 365, &v))
			return usage_error("invalid --max-op-age '%s': whole seconds, 0 for never", arg);
		cfg->max_op_age_s = v;
		break;
	case OPT_TEST_MAP_SIZE:
		if (parse_test_map_size(arg, cfg))
			return usage_error("invalid --test-map-size '%s': MAP=N, MAP one of ops, "
					   "invals, windows, candidates, stash, slots, stacks, ringbuf "
					   "(bytes: a power of two, 4096 or more)", arg);
		break;
	case OPT_RAW_ADDRESSES:
		cfg->raw_addresses = true;
		break;
	case OPT_COUNT_HOOKS:
		cfg->count_hooks = true;
		break;
	case OPT_TRACE_MARKER:
		cfg->trace_marker = true;
		break;
	case OPT_TRACE_INSTANCE:
		if (!trace_instance_name_ok(arg))
			return usage_error("invalid --trace-instance '%s': 1 to 64 letters, digits, "
					   "'_', '-' or '.', not '.' or '..'", arg);
		cfg->trace_instance = arg;
		cfg->trace_marker = true;
		break;
	case OPT_METRICS:
		if (!arg[0])
			return usage_error("invalid --metrics '%s': empty", arg);
		cfg->metrics = arg;
		break;
	case OPT_PERFETTO:
		if (!arg[0])
			return usage_error("invalid --perfetto '%s': empty", arg);
		cfg->perfetto = arg;
		break;
	case OPT_INTERVAL:
		if (parse_long(arg, 1, 86400, &v))
			return usage_error("invalid --interval '%s': whole seconds, 1 to 86400", arg);
		cfg->metrics_interval_s = v;
		cfg->interval_given = true;
		break;
	case OPT_KEEP_INSTANCE:
		cfg->keep_instance = true;
		break;
	case OPT_KMSG_TAG: {
		regex_t re;

		if (regcomp(&re, arg, REG_EXTENDED))
			return usage_error("invalid --kmsg-tag '%s': not a POSIX extended regular "
					   "expression", arg);
		regfree(&re);
		cfg->kmsg_tag = arg;
		break;
	}
	case OPT_BTF_DIR:
		if (stat(arg, &st) || !S_ISDIR(st.st_mode))
			return usage_error("invalid --btf-dir '%s': not a directory", arg);
		cfg->btf_dir = arg;
		break;
	case 'h':
		argp_help(state->root_argp, stdout, ARGP_HELP_STD_HELP, state->name);
		exit(RW_EXIT_OK);
	case OPT_USAGE:
		argp_help(state->root_argp, stdout, ARGP_HELP_USAGE, state->name);
		exit(RW_EXIT_OK);
	case 'V':
		cfg->version = true;
		break;
	case ARGP_KEY_ARG:
		return usage_error("unexpected argument '%s' (a command to run goes after --)", arg);
	case ARGP_KEY_ERROR:
		/* getopt stays silent under ARGP_NO_ERRS: name the culprit. */
		if (state->next > 0 && state->next <= state->argc)
			return usage_error("unrecognized or incomplete option '%s'",
					   state->argv[state->next - 1]);
		return usage_error("%s", "bad option");
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const char *cli_mountinfo = "/proc/self/mountinfo";

static int stat_dev(const char *path, __u32 *dev, void *ctx)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*dev = devmap__kdev(major(st.st_dev), minor(st.st_dev));
	return 0;
}

static void dev_name(__u32 dev, char *buf, size_t size)
{
	snprintf(buf, size, "%u:%u", dev >> 20, dev & ((1U << 20) - 1));
}

/* The mount that holds the file: by mount id where statx() knows it (5.8+),
 * which bind mounts and mounts over mounts cannot fool; else by path. */
static int mount_of_path(FILE *mi, const char *path, struct mount_entry *m)
{
	struct statx stx;
	char *abs;
	int err;

	if (!statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) && (stx.stx_mask & STATX_MNT_ID) &&
	    !devmap__dev_of_mount(mi, stx.stx_mnt_id, m))
		return 0;
	abs = realpath(path, NULL);
	if (!abs)
		return -errno;
	err = devmap__dev_of_path(mi, abs, m);
	free(abs);
	return err;
}

/*
 * BPF compares the superblock's s_dev. Where stat(2) says something else
 * (btrfs subvolumes), map what the user gave to the superblock, and say so
 * for --dev, whose meaning then widens to every subvolume. Without a
 * readable mountinfo (a bare initramfs) the device stays as given.
 */
static void resolve_dev(struct rw_config *cfg)
{
	struct mount_entry *m;
	char given[24], sb[24], *esc;
	FILE *mi;

	if (cfg->dev_source == DEV_ANY)
		return;
	mi = fopen(cli_mountinfo, "re");
	m = malloc(sizeof(*m));
	if (!mi || !m)
		goto out;
	dev_name(cfg->dev_user, given, sizeof(given));
	if (cfg->dev_source == DEV_FROM_PATH) {
		if (!mount_of_path(mi, cfg->path, m))
			cfg->dev = m->dev;
		goto out;
	}
	switch (devmap__superblock(mi, cfg->dev_user, stat_dev, NULL, m)) {
	case DEVMAP_SUPERBLOCK:
		break;
	case DEVMAP_SUBVOLUME:
		cfg->dev = m->dev;
		dev_name(m->dev, sb, sizeof(sb));
		esc = malloc(ESCAPE_TEXT_SIZE(strlen(m->point)));
		if (esc)
			escape__text(esc, ESCAPE_TEXT_SIZE(strlen(m->point)), m->point, SIZE_MAX);
		fprintf(stderr, "racewatch: --dev %s is what stat says of the %s mount %s: watching "
			"its filesystem's device %s, all of its subvolumes\n", given, m->fstype,
			esc ? esc : "?", sb);
		free(esc);
		break;
	case DEVMAP_NONE:
		fprintf(stderr, "racewatch: warning: --dev %s is no mounted filesystem's device "
			"(a btrfs subvolume that is not mounted by itself? use --path FILE): "
			"watching it as given\n", given);
		break;
	}
out:
	if (mi)
		fclose(mi);
	free(m);
}

void cli__describe_filter(const struct rw_config *cfg, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	if (cfg->dev_source == DEV_FROM_PATH) {
		n = snprintf(buf, size, "--path ");
		if (n < size)
			n += escape__text(buf + n, size - n, cfg->path, SIZE_MAX);
	} else if (cfg->dev_source == DEV_FROM_DEV) {
		n = snprintf(buf, size, "--dev ");
		if (n < size)
			n += escape__text(buf + n, size - n, cfg->dev_arg, SIZE_MAX);
	}
	/* --path implies its inode: name --inode only when given by itself. */
	if (cfg->ino && cfg->dev_source != DEV_FROM_PATH && n < size)
		snprintf(buf + n, size - n, "%s--inode %llu", n ? " " : "",
			 (unsigned long long)cfg->ino);
}

int cli__parse(int argc, char **argv, struct rw_config *cfg)
{
	static const struct argp argp = { options, parse_opt, args_doc, doc };
	int nopts = argc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ringbuf_mib = 4;
	cfg->max_op_age_s = 60;
	cfg->metrics_interval_s = 15;
	cfg->kmsg_tag = TESTTAG_DEFAULT;
	error_reported = false;
	/* Everything after the first "--" is the command, never an option of
	 * ours: getopt would otherwise take a "-v" meant for it. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nopts = i;
			if (i + 1 < argc)
				cfg->command = &argv[i + 1];
			break;
		}
	}
	if (argp_parse(&argp, nopts, argv, ARGP_NO_ERRS | ARGP_NO_HELP, NULL, cfg))
		return RW_EXIT_USAGE;
	if (cfg->command && cfg->duration_s) {
		usage_error("%s", "--duration and a command: the command's end stops racewatch "
			    "(wrap it in timeout(1) for a limit)");
		return RW_EXIT_USAGE;
	}
	if (cfg->interval_given && !cfg->metrics) {
		usage_error("%s", "--interval without --metrics: there is nothing to rewrite");
		return RW_EXIT_USAGE;
	}
	if (cfg->keep_instance && !cfg->trace_instance) {
		usage_error("%s", "--keep-instance without --trace-instance: there is no instance "
			    "to keep");
		return RW_EXIT_USAGE;
	}
	if (cfg->command && cfg->dry_run) {
		usage_error("%s", "--dry-run and a command: a dry run attaches nothing to run it under");
		return RW_EXIT_USAGE;
	}
	resolve_dev(cfg);
	return RW_EXIT_OK;
}
