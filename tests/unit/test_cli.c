// SPDX-License-Identifier: GPL-2.0
/* Option parsing and validation (errors must be usage errors, exit 64). */
#include <stdio.h>
#include <unistd.h>
#include "harness.h"
#include "cli.h"
#include "hostile.h"
#include "suites.h"

static int parse(struct rw_config *cfg, int argc, const char **argv)
{
	return cli__parse(argc, (char **)argv, cfg);
}

static void test_defaults_and_values(void)
{
	const char *argv[] = { "racewatch", "-a", "kprobe", "-d", "30", "--dev", "254:3",
			       "-i", "12", "-p", "77", "--json", "--stacks", "-vv",
			       "--fail-on-race", "--ringbuf-size", "16" };
	const char *saved = cli_mountinfo;
	struct rw_config cfg;

	/* Where 254:3 is a mounted superblock: kept as given, no warning. */
	cli_mountinfo = harness_fixture("mountinfo");
	ASSERT_EQ(parse(&cfg, 1, argv), RW_EXIT_OK, "no options");
	ASSERT_EQ(cfg.attach, MECH_AUTO, "default attach");
	ASSERT_EQ(cfg.ringbuf_mib, 4, "default ring buffer");
	ASSERT_EQ(parse(&cfg, 17, argv), RW_EXIT_OK, "all options");
	ASSERT_EQ(cfg.attach, MECH_KPROBE, "attach");
	ASSERT_EQ(cfg.duration_s, 30, "duration");
	ASSERT_EQ(cfg.dev, 254 << 20 | 3, "dev in kernel encoding");
	ASSERT_EQ(cfg.ino, 12, "inode");
	ASSERT_EQ(cfg.pid, 77, "pid");
	ASSERT_TRUE(cfg.json && cfg.stacks && cfg.fail_on_race, "flags");
	ASSERT_EQ(cfg.verbose, 2, "verbosity");
	ASSERT_EQ(cfg.ringbuf_mib, 16, "ring buffer");
	ASSERT_TRUE(!cfg.raw_addresses, "no raw addresses by default");
	argv[1] = "--raw-addresses";
	ASSERT_EQ(parse(&cfg, 2, argv), RW_EXIT_OK, "--raw-addresses");
	ASSERT_TRUE(cfg.raw_addresses, "raw addresses asked for");
	ASSERT_TRUE(!cfg.count_hooks, "inserts and deletes not counted by default");
	argv[1] = "--count-hooks";
	ASSERT_EQ(parse(&cfg, 2, argv), RW_EXIT_OK, "--count-hooks");
	ASSERT_TRUE(cfg.count_hooks, "hook counting asked for");
	cli_mountinfo = saved;
}

static void test_path_sets_dev_and_inode(void)
{
	const char *argv[] = { "racewatch", "--path", "/" };
	struct rw_config cfg;

	ASSERT_EQ(parse(&cfg, 3, argv), RW_EXIT_OK, "path");
	ASSERT_TRUE(cfg.ino != 0, "inode from stat");
}

/* Everything after the first "--" is the command's, options included. */
static void test_command_after_separator(void)
{
	const char *wrap[] = { "racewatch", "-j", "-o", "out.json", "--", "./check", "-v",
			       "--", "generic/042", NULL };
	const char *bare[] = { "racewatch", "-j", "--" };
	const char *with_duration[] = { "racewatch", "-d", "5", "--", "true" };
	const char *with_dry_run[] = { "racewatch", "--dry-run", "--", "true" };
	const char *no_separator[] = { "racewatch", "true" };
	struct rw_config cfg;

	ASSERT_EQ(parse(&cfg, 9, wrap), RW_EXIT_OK, "options, then a command");
	ASSERT_TRUE(cfg.json && cfg.verbose == 0, "the command's -v is not ours");
	ASSERT_STREQ(cfg.output, "out.json", "-o");
	ASSERT_TRUE(cfg.command && cfg.command[0] == wrap[5], "the command");
	ASSERT_TRUE(cfg.command && cfg.command[1] == wrap[6] && cfg.command[2] == wrap[7] &&
		    cfg.command[3] == wrap[8] && !cfg.command[4], "its arguments, a second -- too");
	ASSERT_EQ(parse(&cfg, 3, bare), RW_EXIT_OK, "-- with nothing after it");
	ASSERT_TRUE(!cfg.command, "no command");
	ASSERT_EQ(parse(&cfg, 5, with_duration), RW_EXIT_USAGE, "--duration with a command");
	ASSERT_EQ(parse(&cfg, 4, with_dry_run), RW_EXIT_USAGE, "--dry-run with a command");
	ASSERT_EQ(parse(&cfg, 2, no_separator), RW_EXIT_USAGE, "a command without --");
}

static void test_bad_input(void)
{
	static const char *const bad[][3] = {
		{ "racewatch", "-d", "0" },
		{ "racewatch", "-d", "5s" },
		{ "racewatch", "-a", "ebpf" },
		{ "racewatch", "--dev", "8" },
		{ "racewatch", "--dev", "4096:0" },
		{ "racewatch", "-p", "-3" },
		{ "racewatch", "--ringbuf-size", "3" },
		{ "racewatch", "--path", "/nonexistent/racewatch" },
		{ "racewatch", "--no-such-option", NULL },
		{ "racewatch", "stray", NULL },
		{ "racewatch", "--max-op-age", "-1" },
		{ "racewatch", "--test-map-size", "ops" },
		{ "racewatch", "--test-map-size", "opsx=4" },
		{ "racewatch", "--test-map-size", "ops=0" },
		{ "racewatch", "--test-map-size", "ringbuf=6000" },
		{ "racewatch", "--test-map-size", "ringbuf=2048" },
		/* A tracefs instance is a name, never a path. */
		{ "racewatch", "--trace-instance", "../../../tmp/x" },
		{ "racewatch", "--trace-instance", ".." },
		{ "racewatch", "--trace-instance", "" },
		{ "racewatch", "--trace-instance", "a b" },
		{ "racewatch", "--keep-instance", NULL },
		{ "racewatch", "--metrics", "" },
		{ "racewatch", "--perfetto", "" },
		{ "racewatch", "--interval", "5" },
	};
	struct rw_config cfg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int argc = bad[i][2] ? 3 : 2;

		ASSERT_EQ(parse(&cfg, argc, (const char **)bad[i]), RW_EXIT_USAGE, bad[i][1]);
	}
}

static void test_loss_knobs(void)
{
	const char *argv[] = { "racewatch", "--max-op-age", "5", "--test-map-size", "ops=1",
			       "--test-map-size", "ringbuf=4096", "--test-map-size", "candidates=16" };
	struct rw_config cfg;

	ASSERT_EQ(parse(&cfg, 1, argv), RW_EXIT_OK, "no options");
	ASSERT_EQ(cfg.max_op_age_s, 60, "default operation age bound");
	for (int m = 0; m < TEST_MAP_MAX; m++)
		ASSERT_EQ(cfg.test_map_size[m], 0, cli__test_map_name(m));
	ASSERT_EQ(parse(&cfg, 9, argv), RW_EXIT_OK, "knobs");
	ASSERT_EQ(cfg.max_op_age_s, 5, "operation age bound");
	ASSERT_EQ(cfg.test_map_size[TEST_MAP_OPS], 1, "ops");
	ASSERT_EQ(cfg.test_map_size[TEST_MAP_RINGBUF], 4096, "ringbuf bytes");
	ASSERT_EQ(cfg.test_map_size[TEST_MAP_CANDIDATES], 16, "candidates");
	ASSERT_EQ(cfg.test_map_size[TEST_MAP_WINDOWS], 0, "others untouched");
}

static void test_trace_marker_options(void)
{
	const char *instance[] = { "racewatch", "--trace-instance", "rw_test-1.0", "--keep-instance" };
	const char *global[] = { "racewatch", "--trace-marker" };
	struct rw_config cfg;

	ASSERT_EQ(parse(&cfg, 1, global), RW_EXIT_OK, "none");
	ASSERT_EQ(cfg.trace_marker, false, "off by default");
	ASSERT_EQ(parse(&cfg, 2, global), RW_EXIT_OK, "--trace-marker");
	ASSERT_EQ(cfg.trace_marker, true, "on");
	ASSERT_EQ(cfg.trace_instance == NULL, 1, "the global buffer");
	ASSERT_EQ(parse(&cfg, 4, instance), RW_EXIT_OK, "--trace-instance");
	ASSERT_EQ(cfg.trace_marker, true, "an instance implies the marker");
	ASSERT_STREQ(cfg.trace_instance, "rw_test-1.0", "its name");
	ASSERT_EQ(cfg.keep_instance, true, "kept");
}

static void test_metrics_options(void)
{
	const char *argv[] = { "racewatch", "--metrics", "/var/lib/node/racewatch.prom", "--interval", "30" };
	const char *bad[] = { "racewatch", "--metrics", "x.prom", "--interval", "0" };
	struct rw_config cfg;

	ASSERT_EQ(parse(&cfg, 3, argv), RW_EXIT_OK, "--metrics");
	ASSERT_STREQ(cfg.metrics, "/var/lib/node/racewatch.prom", "its file");
	ASSERT_EQ(cfg.metrics_interval_s, 15, "default interval");
	ASSERT_EQ(parse(&cfg, 5, argv), RW_EXIT_OK, "--interval");
	ASSERT_EQ(cfg.metrics_interval_s, 30, "interval");
	ASSERT_EQ(parse(&cfg, 5, bad), RW_EXIT_USAGE, "--interval 0");
}

/* The one stderr line, with the argument escaped as text. */
static void test_error_escapes_argument(void)
{
	const char *argv[] = { "racewatch", "--path", ("/nonexistent/" HOSTILE) };
	char line[256] = "";
	FILE *err = tmpfile();
	int saved = dup(2);
	struct rw_config cfg;

	ASSERT_TRUE(err && saved >= 0, "capture stderr");
	if (!err || saved < 0)
		return;
	fflush(stderr);
	dup2(fileno(err), 2);
	ASSERT_EQ(parse(&cfg, 3, argv), RW_EXIT_USAGE, "missing path");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(err);
	ASSERT_EQ(fread(line, 1, sizeof(line) - 1, err),
		  strlen("racewatch: cannot stat --path '/nonexistent/" HOSTILE_TEXT
			 "' (see racewatch --help)\n"), "one line, nothing more");
	ASSERT_STREQ(line, "racewatch: cannot stat --path '/nonexistent/" HOSTILE_TEXT
		     "' (see racewatch --help)\n", "escaped");
	fclose(err);
}

void suite_cli(void)
{
	harness_suite("cli");
	RUN(test_defaults_and_values);
	RUN(test_path_sets_dev_and_inode);
	RUN(test_command_after_separator);
	RUN(test_bad_input);
	RUN(test_loss_knobs);
	RUN(test_trace_marker_options);
	RUN(test_metrics_options);
	RUN(test_error_escapes_argument);
}
