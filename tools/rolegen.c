// SPDX-License-Identifier: GPL-2.0
/*
 * rolegen: one task, one file, a fixed sequence of every operation that
 * racewatch's roles watch, for the role matrix (tests/vm, tests/host
 * roles): punches, zero ranges, a collapse and an insert range, truncates
 * down and direct-I/O writes over cached pages, with the whole file read
 * back through the page cache before each one, so that every operation
 * drops cached pages. Single-threaded, so nothing races and every count is
 * the kernel's own: the tests count the same functions and tracepoints with
 * ftrace beside racewatch and compare per role.
 *
 * Each fallocate/ftruncate call is bracketed in the ftrace buffer by
 * "rolegen: op KIND begin" and "rolegen: op KIND end ret=R" (--marker),
 * which tells which block frees happened inside an operation.
 *
 *   rolegen [--marker TRACE_MARKER] FILE
 *
 * FILE must exist (the test learns its inode first) and is not truncated on
 * open: O_TRUNC would be one more truncate. Prints one JSON line: calls and
 * successful calls per kind. Exit 0, or 1 when the file could not be set up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILE_PAGES	64

enum kind { K_PUNCH, K_ZERO, K_COLLAPSE, K_INSERT, K_TRUNCATE, K_DIO_WRITE, K_MAX };

static const char *const kind_names[K_MAX] = {
	"punch", "zero", "collapse", "insert", "truncate", "dio_write",
};

static struct {
	int fd, dio_fd, marker_fd;
	long page;
	off_t size;
	char *buf;
	unsigned calls[K_MAX], ok[K_MAX];
	int first_errno[K_MAX];
} g = { .marker_fd = -1 };

static void mark(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	if (g.marker_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* A marker that could not be written leaves the op unbracketed,
	 * which the judge reports; nothing to do about it here. */
	if (write(g.marker_fd, line, n) < 0)
		return;
}

/* The whole file through the page cache: every page cached again. */
static void recache(void)
{
	for (off_t off = 0; off < g.size; off += g.page)
		if (pread(g.fd, g.buf, g.page, off) < 0)
			break;
}

static void done(enum kind k, int ret)
{
	g.calls[k]++;
	if (ret == 0)
		g.ok[k]++;
	else if (!g.first_errno[k])
		g.first_errno[k] = errno;
	mark("rolegen: op %s end ret=%d\n", kind_names[k], ret ? -errno : 0);
}

static void falloc(enum kind k, int mode, long first_page, long pages)
{
	int ret;

	recache();
	mark("rolegen: op %s begin\n", kind_names[k]);
	ret = fallocate(g.fd, mode, first_page * g.page, pages * g.page);
	done(k, ret);
	if (ret == 0 && k == K_COLLAPSE)
		g.size -= pages * g.page;
	if (ret == 0 && k == K_INSERT)
		g.size += pages * g.page;
}

static void truncate_down(long pages)
{
	int ret;

	recache();
	mark("rolegen: op %s begin\n", kind_names[K_TRUNCATE]);
	ret = ftruncate(g.fd, g.size - pages * g.page);
	done(K_TRUNCATE, ret);
	if (ret == 0)
		g.size -= pages * g.page;
}

/* Over cached pages, so that the kernel invalidates them around the write;
 * not an operation of racewatch's, so no markers. */
static void dio_write(long first_page, long pages)
{
	ssize_t n;

	recache();
	n = pwrite(g.dio_fd, g.buf, pages * g.page, first_page * g.page);
	g.calls[K_DIO_WRITE]++;
	if (n == pages * g.page)
		g.ok[K_DIO_WRITE]++;
	else if (!g.first_errno[K_DIO_WRITE])
		g.first_errno[K_DIO_WRITE] = n < 0 ? errno : EIO;
}

static int setup(const char *path)
{
	g.page = sysconf(_SC_PAGESIZE);
	if (posix_memalign((void **)&g.buf, g.page, 4 * g.page))
		return -1;
	memset(g.buf, 0x5a, 4 * g.page);
	g.fd = open(path, O_RDWR);
	g.dio_fd = open(path, O_RDWR | O_DIRECT);
	if (g.fd < 0 || g.dio_fd < 0)
		return -1;
	for (long i = 0; i < FILE_PAGES; i++)
		if (pwrite(g.fd, g.buf, g.page, i * g.page) != g.page)
			return -1;
	if (fsync(g.fd))
		return -1;
	g.size = FILE_PAGES * g.page;
	return 0;
}

int main(int argc, char **argv)
{
	const char *path;

	if (argc == 4 && !strcmp(argv[1], "--marker")) {
		g.marker_fd = open(argv[2], O_WRONLY);
		if (g.marker_fd < 0) {
			fprintf(stderr, "rolegen: %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		path = argv[3];
	} else if (argc == 2 && argv[1][0] != '-') {
		path = argv[1];
	} else {
		fprintf(stderr, "usage: rolegen [--marker TRACE_MARKER] FILE\n");
		return 64;
	}
	if (setup(path)) {
		fprintf(stderr, "rolegen: cannot set up %s: %s\n", path, strerror(errno));
		return 1;
	}

	for (long i = 0; i < 4; i++)
		falloc(K_PUNCH, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4 + 8 * i, 2);
	for (long i = 0; i < 2; i++)
		falloc(K_ZERO, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 40 + 4 * i, 2);
	/* btrfs has neither: EOPNOTSUPP, counted as calls that failed. */
	falloc(K_COLLAPSE, FALLOC_FL_COLLAPSE_RANGE, 48, 2);
	falloc(K_INSERT, FALLOC_FL_INSERT_RANGE, 16, 2);
	for (int i = 0; i < 2; i++)
		truncate_down(2);
	for (long i = 0; i < 2; i++)
		dio_write(2 * i, 2);
	recache();

	printf("{\"type\":\"rolegen\",\"page\":%ld,\"size\":%lld", g.page, (long long)g.size);
	for (int k = 0; k < K_MAX; k++)
		printf(",\"%s\":{\"calls\":%u,\"ok\":%u,\"errno\":%d}", kind_names[k], g.calls[k],
		       g.ok[k], g.first_errno[k]);
	printf("}\n");
	return 0;
}
