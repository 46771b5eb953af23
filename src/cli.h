/* SPDX-License-Identifier: GPL-2.0 */
/* Command line: options, validation and exit codes (README.md "Exit codes"). */
#ifndef RACEWATCH_CLI_H
#define RACEWATCH_CLI_H

#include <stdbool.h>
#include <linux/types.h>
#include "plan.h"

enum rw_exit {
	RW_EXIT_OK = 0,			/* also Ctrl-C and end of --duration */
	RW_EXIT_FAILURE = 1,		/* runtime or setup failure */
	RW_EXIT_RACES = 3,		/* --fail-on-race and a race was reported */
	RW_EXIT_USAGE = 64,		/* bad arguments (EX_USAGE) */
	RW_EXIT_UNAVAILABLE = 69,	/* kernel cannot support it: no BTF, no hooks, no tracefs */
	RW_EXIT_NOPERM = 77,		/* not root / missing CAP_BPF+CAP_PERFMON */
	/*
	 * Deaths by signal, as a shell reports them (128 + signal number):
	 * racewatch re-raises the signal with its default action after it
	 * detached (SIGPIPE), or at once (the second SIGINT/SIGTERM), so a
	 * parent sees WIFSIGNALED and nothing is printed on stderr.
	 */
	RW_EXIT_SECOND_SIGINT = 130,	/* second Ctrl-C: no summary */
	RW_EXIT_BROKEN_PIPE = 141,	/* stdout's reader went away (SIGPIPE) */
	RW_EXIT_SECOND_SIGTERM = 143,	/* second SIGTERM: no summary */
};

/*
 * Maps that --test-map-size can shrink, to force every loss path in tests
 * (README "Lost data"). Testing only: a shrunken map loses data by design.
 */
enum rw_test_map {
	TEST_MAP_OPS,
	TEST_MAP_INVALS,
	TEST_MAP_WINDOWS,
	TEST_MAP_CANDIDATES,
	TEST_MAP_STASH,
	TEST_MAP_SLOTS,
	TEST_MAP_STACKS,
	TEST_MAP_RINGBUF,		/* bytes: a power of two, at least a page */
	TEST_MAP_MAX,
};

struct rw_config {
	enum rw_mech attach;
	long duration_s;		/* 0: until Ctrl-C */
	__u32 pid;
	__u32 dev;			/* the superblock's s_dev, kernel encoding
					 * (major << 20 | minor), 0: any */
	__u64 ino;			/* 0: any */
	const char *path;
	const char *btf_dir;		/* --btf-dir: BTF for modules without it */
	/* What the user named the device by: --dev's argument, or stat(2)'s
	 * st_dev of --path (kernel encoding). On btrfs it is a subvolume's
	 * anonymous device, not dev (src/devmap.h). */
	enum { DEV_ANY, DEV_FROM_DEV, DEV_FROM_PATH } dev_source;
	__u32 dev_user;
	const char *dev_arg;
	bool json;
	bool stacks;
	bool raw_addresses;		/* unresolved frames as 0x..., not [unknown] */
	bool count_hooks;		/* hook_hits counts inserts and deletes too */
	bool dry_run;
	bool fail_on_race;
	int verbose;
	__u32 ringbuf_mib;
	long max_op_age_s;		/* 0: never expire */
	char **command;			/* after "--": the command to wrap; NULL: none */
	const char *output;		/* -o: data records go there, not to stdout */
	const char *kmsg_tag;		/* --kmsg-tag: a test starts at a matching line */
	bool trace_marker;		/* --trace-marker, or --trace-instance */
	const char *trace_instance;	/* a name checked for tracefs's instances/ */
	bool keep_instance;
	const char *metrics;		/* --metrics FILE */
	const char *perfetto;		/* --perfetto FILE */
	long metrics_interval_s;	/* --interval */
	bool interval_given;
	bool version;			/* --version: print it (version.h) and exit */
	__u32 test_map_size[TEST_MAP_MAX];	/* 0: default */
};

/* "ops", "windows"...: the --test-map-size name of a map. */
const char *cli__test_map_name(enum rw_test_map m);

/* Fills cfg; on bad input prints one line to stderr and returns RW_EXIT_USAGE.
 * Maps --dev and --path to the superblock's device through cli_mountinfo,
 * saying on stderr when that changed the device or found none. */
int cli__parse(int argc, char **argv, struct rw_config *cfg);

/* /proc/self/mountinfo; unit tests point it at a fixture. */
extern const char *cli_mountinfo;

/* "--path FILE", "--dev MAJ:MIN", "--inode N", as given, space-separated,
 * escaped as text; "" when nothing is filtered. For the exit-time notice
 * that a filter matched nothing. */
void cli__describe_filter(const struct rw_config *cfg, char *buf, size_t size);

#endif /* RACEWATCH_CLI_H */
