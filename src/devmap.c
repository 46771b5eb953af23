// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "devmap.h"

/* mountinfo writes space, tab, newline and backslash as \ooo (show_path()). */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* The next space-separated field of *s, NUL-terminated in place. */
static char *field(char **s)
{
	char *f = *s, *end;

	if (!f || !*f)
		return NULL;
	end = strchr(f, ' ');
	if (end) {
		*end = '\0';
		*s = end + 1;
	} else {
		end = strchr(f, '\n');
		if (end)
			*end = '\0';
		*s = NULL;
	}
	return f;
}

int devmap__parse_line(const char *line, struct mount_entry *m)
{
	char *copy = strdup(line), *s = copy, *f, *end;
	unsigned long id, major, minor;
	int err = -EINVAL;

	if (!copy)
		return -ENOMEM;
	/* mount ID, parent ID, major:minor, root, mount point */
	if (!(f = field(&s)) || (id = strtoul(f, &end, 10), *end) || id > 0x7fffffff)
		goto out;
	m->mnt_id = id;
	if (!field(&s) || !(f = field(&s)))
		goto out;
	major = strtoul(f, &end, 10);
	if (end == f || *end != ':')
		goto out;
	f = end + 1;
	minor = strtoul(f, &end, 10);
	if (end == f || *end || major >= (1 << 12) || minor >= (1 << 20))
		goto out;
	m->dev = devmap__kdev(major, minor);
	if (!field(&s) || !(f = field(&s)) || strlen(f) >= sizeof(m->point))
		goto out;
	strcpy(m->point, f);
	unescape(m->point);
	/* mount options, then optional fields up to the "-" separator */
	while ((f = field(&s)) && strcmp(f, "-"))
		;
	if (!f || !(f = field(&s)))
		goto out;
	snprintf(m->fstype, sizeof(m->fstype), "%s", f);
	err = 0;
out:
	free(copy);
	return err;
}

/* Calls fn for each well-formed line until it returns nonzero. */
static int each_mount(FILE *mi, int (*fn)(const struct mount_entry *m, void *ctx), void *ctx)
{
	struct mount_entry *m = malloc(sizeof(*m));
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	if (!m)
		return -ENOMEM;
	rewind(mi);
	while (!ret && getline(&line, &cap, mi) > 0)
		if (!devmap__parse_line(line, m))
			ret = fn(m, ctx);
	free(line);
	free(m);
	return ret;
}

struct by_id {
	int mnt_id;
	struct mount_entry *out;
};

static int match_id(const struct mount_entry *m, void *ctx)
{
	struct by_id *b = ctx;

	if (m->mnt_id != b->mnt_id)
		return 0;
	*b->out = *m;
	return 1;
}

int devmap__dev_of_mount(FILE *mi, int mnt_id, struct mount_entry *out)
{
	struct by_id b = { mnt_id, out };

	return each_mount(mi, match_id, &b) == 1 ? 0 : -ENOENT;
}

struct by_path {
	const char *path;
	size_t best;		/* length of the best mount point so far + 1; 0: none */
	struct mount_entry *out;
};

/* "/" holds everything; "/mnt" holds "/mnt" and "/mnt/x", not "/mntx". */
static bool holds(const char *point, const char *path, size_t *len)
{
	size_t n = strlen(point);

	while (n > 1 && point[n - 1] == '/')
		n--;
	*len = n;
	if (n == 1 && point[0] == '/')
		return path[0] == '/';
	return !strncmp(point, path, n) && (path[n] == '/' || path[n] == '\0');
}

static int match_path(const struct mount_entry *m, void *ctx)
{
	struct by_path *b = ctx;
	size_t n;

	if (holds(m->point, b->path, &n) && n + 1 >= b->best) {
		b->best = n + 1;
		*b->out = *m;
	}
	return 0;
}

int devmap__dev_of_path(FILE *mi, const char *abspath, struct mount_entry *out)
{
	struct by_path b = { abspath, 0, out };
	int err = each_mount(mi, match_path, &b);

	if (err)
		return err;
	return b.best ? 0 : -ENOENT;
}

struct by_dev {
	__u32 dev;
	devmap_stat_fn st;
	void *ctx;
	bool stat_pass;
	struct mount_entry *out;
};

static int match_dev(const struct mount_entry *m, void *ctx)
{
	struct by_dev *b = ctx;
	__u32 dev;

	if (!b->stat_pass) {
		if (m->dev != b->dev)
			return 0;
	} else if (strcmp(m->fstype, "btrfs") || b->st(m->point, &dev, b->ctx) || dev != b->dev) {
		return 0;
	}
	*b->out = *m;
	return 1;
}

enum devmap_match devmap__superblock(FILE *mi, __u32 dev, devmap_stat_fn st, void *ctx,
				     struct mount_entry *out)
{
	struct by_dev b = { dev, st, ctx, false, out };

	/* A superblock's own device first: no stat at all in the common case. */
	if (each_mount(mi, match_dev, &b) == 1)
		return DEVMAP_SUPERBLOCK;
	b.stat_pass = true;
	if (st && each_mount(mi, match_dev, &b) == 1)
		return DEVMAP_SUBVOLUME;
	return DEVMAP_NONE;
}
