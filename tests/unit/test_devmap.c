// SPDX-License-Identifier: GPL-2.0
/*
 * --dev and --path against the superblock device (src/devmap.h), from
 * tests/unit/fixtures/mountinfo: a btrfs filesystem (0:39) mounted at its
 * top level and by a subvolume, whose stat devices are 0:40 and 0:41, as a
 * real btrfs loop filesystem shows them on 6.18.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "cli.h"
#include "devmap.h"
#include "hostile.h"
#include "suites.h"

static FILE *fixture(void)
{
	FILE *f = fopen(harness_fixture("mountinfo"), "r");

	ASSERT_TRUE(f != NULL, "fixture mountinfo");
	return f;
}

static void test_parse_line(void)
{
	struct mount_entry m;

	ASSERT_EQ(devmap__parse_line("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 "
				     "/dev/root rw,errors=continue\n", &m), 0, "proc(5) example");
	ASSERT_EQ(m.mnt_id, 36, "mount id");
	ASSERT_EQ(m.dev, devmap__kdev(98, 0), "major:minor");
	ASSERT_STREQ(m.point, "/mnt2", "mount point, not root");
	ASSERT_STREQ(m.fstype, "ext3", "fstype after the separator");
	ASSERT_EQ(devmap__parse_line("7 1 0:5 / /a\\040b\\011c\\134d rw - tmpfs x rw", &m), 0,
		  "escaped");
	ASSERT_STREQ(m.point, "/a b\tc\\d", "octal escapes decoded");
	ASSERT_EQ(devmap__parse_line("7 1 0:5 / /a rw shared:1", &m), -EINVAL, "no separator");
	ASSERT_EQ(devmap__parse_line("7 1 0-5 / /a rw - tmpfs x rw", &m), -EINVAL, "bad dev");
	ASSERT_EQ(devmap__parse_line("7 1 4096:0 / /a rw - tmpfs x rw", &m), -EINVAL,
		  "major too big for the kernel encoding");
	ASSERT_EQ(devmap__parse_line("x 1 0:5 / /a rw - tmpfs x rw", &m), -EINVAL, "bad id");
	ASSERT_EQ(devmap__parse_line("", &m), -EINVAL, "empty");
}

static void test_dev_of_mount(void)
{
	struct mount_entry m;
	FILE *f = fixture();

	if (!f)
		return;
	ASSERT_EQ(devmap__dev_of_mount(f, 49, &m), 0, "subvolume mount");
	ASSERT_EQ(m.dev, devmap__kdev(0, 39), "the superblock's device, not the subvolume's");
	ASSERT_STREQ(m.point, "/mnt/sub", "its mount point");
	ASSERT_EQ(devmap__dev_of_mount(f, 30, &m), 0, "a line after the one before");
	ASSERT_EQ(m.dev, devmap__kdev(254, 3), "xfs");
	ASSERT_EQ(devmap__dev_of_mount(f, 99, &m), -ENOENT, "no such mount");
	fclose(f);
}

static void test_dev_of_path(void)
{
	struct mount_entry m;
	FILE *f = fixture();

	if (!f)
		return;
	ASSERT_EQ(devmap__dev_of_path(f, "/mnt/a b/d/f", &m), 0, "escaped mount point");
	ASSERT_EQ(m.dev, devmap__kdev(0, 39), "btrfs top level");
	ASSERT_EQ(devmap__dev_of_path(f, "/mnt/sub", &m), 0, "the mount point itself");
	ASSERT_EQ(m.mnt_id, 49, "subvolume mount");
	ASSERT_EQ(devmap__dev_of_path(f, "/mnt/subx/f", &m), 0, "a longer name is no prefix");
	ASSERT_EQ(m.dev, devmap__kdev(254, 1), "falls back to /");
	ASSERT_EQ(devmap__dev_of_path(f, "/mnt/over/f", &m), 0, "mount over a mount");
	ASSERT_EQ(m.dev, devmap__kdev(0, 46), "the later, upper one");
	ASSERT_EQ(devmap__dev_of_path(f, "/srv", &m), 0, "xfs");
	ASSERT_EQ(m.dev, devmap__kdev(254, 3), "xfs device");
	fclose(f);
}

/* stat(2) as btrfs answers it: each subvolume its own anonymous device. */
static int fake_stat(const char *path, __u32 *dev, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	if (!strcmp(path, "/mnt/a b"))
		*dev = devmap__kdev(0, 40);
	else if (!strcmp(path, "/mnt/sub"))
		*dev = devmap__kdev(0, 41);
	else if (!strcmp(path, "/mnt/tmp"))
		*dev = devmap__kdev(0, 77);	/* never asked: not btrfs */
	else
		return -ENOENT;
	return 0;
}

static void test_superblock(void)
{
	struct mount_entry m;
	FILE *f = fixture();
	int calls = 0;

	if (!f)
		return;
	ASSERT_EQ(devmap__superblock(f, devmap__kdev(0, 39), fake_stat, &calls, &m),
		  DEVMAP_SUPERBLOCK, "the superblock's own device");
	ASSERT_EQ(calls, 0, "found without a stat");
	ASSERT_EQ(devmap__superblock(f, devmap__kdev(0, 41), fake_stat, &calls, &m),
		  DEVMAP_SUBVOLUME, "a subvolume's stat device");
	ASSERT_EQ(m.dev, devmap__kdev(0, 39), "mapped to its superblock");
	ASSERT_STREQ(m.point, "/mnt/sub", "found at its mount");
	ASSERT_EQ(devmap__superblock(f, devmap__kdev(0, 40), fake_stat, &calls, &m),
		  DEVMAP_SUBVOLUME, "the top level's stat device");
	ASSERT_EQ(m.dev, devmap__kdev(0, 39), "the same superblock");
	calls = 0;
	ASSERT_EQ(devmap__superblock(f, devmap__kdev(0, 77), fake_stat, &calls, &m),
		  DEVMAP_NONE, "only btrfs mount points are asked");
	ASSERT_EQ(calls, 2, "one stat per btrfs mount");
	ASSERT_EQ(devmap__superblock(f, devmap__kdev(8, 99), NULL, NULL, &m), DEVMAP_NONE,
		  "unknown device");
	fclose(f);
}

static int parse(struct rw_config *cfg, int argc, const char **argv)
{
	return cli__parse(argc, (char **)argv, cfg);
}

static void test_cli_maps_dev(void)
{
	const char *argv[] = { "racewatch", "--dev", "0:39", "-i", "257" };
	const char *saved = cli_mountinfo;
	struct rw_config cfg;
	char what[128];

	cli_mountinfo = harness_fixture("mountinfo");
	ASSERT_EQ(parse(&cfg, 5, argv), RW_EXIT_OK, "superblock device");
	ASSERT_EQ(cfg.dev, devmap__kdev(0, 39), "kept");
	cli__describe_filter(&cfg, what, sizeof(what));
	ASSERT_STREQ(what, "--dev 0:39 --inode 257", "named as given");
	/* The fixture's mount points do not exist here, so no stat finds
	 * 8:99: it is watched as given (and warned about). */
	argv[2] = "8:99";
	ASSERT_EQ(parse(&cfg, 3, argv), RW_EXIT_OK, "unknown device");
	ASSERT_EQ(cfg.dev, devmap__kdev(8, 99), "as given");
	cli__describe_filter(&cfg, what, sizeof(what));
	ASSERT_STREQ(what, "--dev 8:99", "without an inode");
	ASSERT_EQ(parse(&cfg, 1, argv), RW_EXIT_OK, "no filter");
	cli__describe_filter(&cfg, what, sizeof(what));
	ASSERT_STREQ(what, "", "nothing to name");
	cli_mountinfo = saved;
}

/* --path through the real mountinfo: / is a mount point on any machine. */
static void test_cli_path_is_superblock(void)
{
	const char *argv[] = { "racewatch", "--path", "/" };
	struct rw_config cfg;
	struct mount_entry m;
	FILE *f = fopen(cli_mountinfo, "r");

	if (!f) {
		SKIP("no %s", cli_mountinfo);
		return;
	}
	ASSERT_EQ(parse(&cfg, 3, argv), RW_EXIT_OK, "path");
	ASSERT_EQ(devmap__dev_of_path(f, "/", &m), 0, "root mount");
	ASSERT_EQ(cfg.dev, m.dev, "the root mount's superblock device");
	fclose(f);
}

static void test_describe_escapes_path(void)
{
	struct rw_config cfg = { .dev_source = DEV_FROM_PATH, .path = "/x/" HOSTILE, .ino = 5 };
	char what[128];

	cli__describe_filter(&cfg, what, sizeof(what));
	ASSERT_STREQ(what, "--path /x/" HOSTILE_TEXT, "escaped as text, inode implied");
	cli__describe_filter(&cfg, what, 12);
	ASSERT_EQ(strlen(what), 11, "cut, still terminated");
}

void suite_devmap(void)
{
	harness_suite("devmap");
	RUN(test_parse_line);
	RUN(test_dev_of_mount);
	RUN(test_dev_of_path);
	RUN(test_superblock);
	RUN(test_cli_maps_dev);
	RUN(test_cli_path_is_superblock);
	RUN(test_describe_escapes_path);
}
