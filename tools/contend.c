// SPDX-License-Identifier: GPL-2.0
/*
 * contend: several tasks invalidate one file at once (hole punch, zero,
 * collapse and insert range, ftruncate) while readers read it, and count
 * exactly the calls they made, per kind, and how many failed.
 *
 * racegen runs one invalidator with aligned ranges and an oracle; this is
 * the opposite end: no oracle, but concurrent invalidators on the same
 * inode, byte-misaligned offsets and lengths, and calls that the kernel
 * must refuse (a misaligned collapse or insert is EINVAL on ext4 and xfs;
 * tmpfs and btrfs refuse collapse and insert with EOPNOTSUPP). Every call
 * is an invalidating syscall with offset >= 0 and len > 0, so racewatch
 * sees each one, refused or not, and its counts can be compared with ours
 * (tests/workloads). ftruncate only, never truncate(2) by path: racewatch's
 * tracepoint mode cannot always name the inode of a path truncate. The file
 * is filled by writes, never truncated, before the tasks start, so that
 * every invalidating call on it is one the tasks counted.
 *
 * One JSON object on stdout at the end. It links statically against libc.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define EX_USAGE	64
#define MAX_TASKS	64
#define MAX_RANGE	(256 * 1024)	/* longest punch or zero */

enum kind { K_PUNCH, K_ZERO, K_COLLAPSE, K_INSERT, K_TRUNCATE, K_MAX };

static const char *const kind_names[K_MAX] = {
	[K_PUNCH] = "punch",
	[K_ZERO] = "zero",
	[K_COLLAPSE] = "collapse",
	[K_INSERT] = "insert",
	[K_TRUNCATE] = "truncate",
};

static const int kind_modes[K_MAX] = {
	[K_PUNCH] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	[K_ZERO] = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	[K_COLLAPSE] = FALLOC_FL_COLLAPSE_RANGE,
	[K_INSERT] = FALLOC_FL_INSERT_RANGE,
};

/* The errnos we name; anything else is counted under "other". */
static const struct {
	int err;
	const char *name;
} errnos[] = {
	{ EINVAL, "EINVAL" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },
	{ ENOSPC, "ENOSPC" },
	{ EFBIG, "EFBIG" },
	{ EINTR, "EINTR" },
};
#define NERRNOS (sizeof(errnos) / sizeof(errnos[0]))

struct tally {
	uint64_t calls[K_MAX];
	uint64_t failed[K_MAX];
	uint64_t err[NERRNOS + 1];	/* last: other */
	uint64_t reads;
	uint64_t read_errors;
};

static struct {
	const char *path;
	long seconds;
	long size_mib;
	long invalidators;
	long readers;
	long max_calls;			/* per invalidator, 0: until the end */
	unsigned long long seed;
	enum kind kinds[K_MAX];		/* the ones -o asked for */
	int nkinds;
} env = { .seconds = 10, .size_mib = 16, .invalidators = 3, .readers = 2 };

static off_t min_size, max_size;
static blksize_t block;
static atomic_bool stop;
static atomic_long done;		/* invalidators that made their -n calls */
static struct tally tallies[MAX_TASKS];

static void on_signal(int sig)
{
	stop = true;
}

/* xorshift64*: per task, so the choices are reproducible per seed. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void count_errno(struct tally *t, int err)
{
	size_t i;

	for (i = 0; i < NERRNOS && errnos[i].err != err; i++)
		;
	t->err[i]++;
}

/*
 * One call. Sizes race between tasks, so a call may find the file shorter
 * than it looked: that is a refusal to count, not a bug. Half of the
 * collapses and inserts are byte-misaligned on purpose.
 */
static int one_call(int fd, enum kind k, uint64_t *s)
{
	struct stat st;
	off_t size, off, len;

	if (fstat(fd, &st))
		return -1;
	size = st.st_size > (off_t)block ? st.st_size : (off_t)block;
	switch (k) {
	case K_PUNCH:
	case K_ZERO:
		off = rnd(s) % size;
		len = 1 + rnd(s) % MAX_RANGE;
		break;
	case K_COLLAPSE:
	case K_INSERT:
		off = (rnd(s) % (size / block)) * block;
		len = (1 + rnd(s) % 16) * block;
		if (rnd(s) & 1)
			off += 1 + rnd(s) % (block - 1);
		break;
	case K_TRUNCATE:
		return ftruncate(fd, min_size + rnd(s) % (max_size - min_size));
	default:
		return -1;
	}
	return fallocate(fd, kind_modes[k], off, len);
}

static bool enabled(enum kind k)
{
	for (int i = 0; i < env.nkinds; i++)
		if (env.kinds[i] == k)
			return true;
	return false;
}

/* Keep the size between min_size and max_size: collapse only a long file,
 * insert only into a short one, when both are asked for. */
static enum kind pick(int fd, uint64_t *s)
{
	enum kind k = env.kinds[rnd(s) % env.nkinds];
	struct stat st;

	if (fstat(fd, &st))
		return k;
	if (k == K_COLLAPSE && st.st_size < min_size && enabled(K_INSERT))
		return K_INSERT;
	if (k == K_INSERT && st.st_size > max_size && enabled(K_COLLAPSE))
		return K_COLLAPSE;
	return k;
}

struct task {
	int id;
	pthread_t thread;
};

static void *invalidator(void *arg)
{
	struct task *tk = arg;
	struct tally *t = &tallies[tk->id];
	uint64_t s = env.seed + 0x9e3779b97f4a7c15ULL * (tk->id + 1);
	char name[16];
	int fd;

	snprintf(name, sizeof(name), "ct-inval-%d", tk->id);
	prctl(PR_SET_NAME, name);
	fd = open(env.path, O_RDWR);
	if (fd < 0) {
		perror("contend: open");
		exit(1);
	}
	for (long n = 0; !stop && (!env.max_calls || n < env.max_calls); n++) {
		enum kind k = pick(fd, &s);

		t->calls[k]++;
		if (one_call(fd, k, &s)) {
			t->failed[k]++;
			count_errno(t, errno);
		}
	}
	close(fd);
	atomic_fetch_add(&done, 1);
	return NULL;
}

static void *reader(void *arg)
{
	struct task *tk = arg;
	struct tally *t = &tallies[tk->id];
	uint64_t s = env.seed + 0x9e3779b97f4a7c15ULL * (tk->id + 1);
	static __thread char buf[64 * 1024];
	char name[16];
	int fd;

	snprintf(name, sizeof(name), "ct-reader-%d", tk->id);
	prctl(PR_SET_NAME, name);
	fd = open(env.path, O_RDONLY);
	if (fd < 0) {
		perror("contend: open");
		exit(1);
	}
	while (!stop) {
		off_t off = rnd(&s) % max_size;

		/* Every other read goes through readahead(2) first, the other
		 * insert path. */
		if (rnd(&s) & 1)
			readahead(fd, off, sizeof(buf));
		if (pread(fd, buf, sizeof(buf), off) < 0)
			t->read_errors++;
		t->reads++;
	}
	close(fd);
	return NULL;
}

static int fill(int fd, off_t size)
{
	static char buf[1 << 20];

	memset(buf, 0xa5, sizeof(buf));
	for (off_t done = 0; done < size; done += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			return -1;
	return fsync(fd);
}

static void print_counts(const char *name, const uint64_t *v)
{
	printf(",\"%s\":{", name);
	for (int k = 0; k < K_MAX; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", kind_names[k], v[k]);
	printf("}");
}

static void report(const struct stat *st, double elapsed)
{
	struct tally sum = {};
	uint64_t calls = 0, failed = 0;
	long n = env.invalidators + env.readers;

	for (long i = 0; i < n; i++) {
		for (int k = 0; k < K_MAX; k++) {
			sum.calls[k] += tallies[i].calls[k];
			sum.failed[k] += tallies[i].failed[k];
		}
		for (size_t e = 0; e <= NERRNOS; e++)
			sum.err[e] += tallies[i].err[e];
		sum.reads += tallies[i].reads;
		sum.read_errors += tallies[i].read_errors;
	}
	for (int k = 0; k < K_MAX; k++) {
		calls += sum.calls[k];
		failed += sum.failed[k];
	}
	/* The path is ours (mktemp): printed as is, only " and \ escaped. */
	printf("{\"type\":\"contend\",\"v\":1,\"file\":\"");
	for (const char *p = env.path; *p; p++)
		printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	printf("\",\"dev\":\"%u:%u\",\"ino\":%" PRIu64 ",\"block\":%ld,\"seed\":%llu"
	       ",\"elapsed_s\":%.3f,\"invalidators\":%ld,\"readers\":%ld",
	       major(st->st_dev), minor(st->st_dev), (uint64_t)st->st_ino, (long)block,
	       env.seed, elapsed, env.invalidators, env.readers);
	print_counts("calls", sum.calls);
	print_counts("failed", sum.failed);
	printf(",\"errno\":{");
	for (size_t e = 0; e < NERRNOS; e++)
		printf("\"%s\":%" PRIu64 ",", errnos[e].name, sum.err[e]);
	printf("\"other\":%" PRIu64 "}", sum.err[NERRNOS]);
	printf(",\"total_calls\":%" PRIu64 ",\"total_ok\":%" PRIu64 ",\"total_failed\":%" PRIu64
	       ",\"reads\":%" PRIu64 ",\"read_errors\":%" PRIu64 "}\n",
	       calls, calls - failed, failed, sum.reads, sum.read_errors);
}

/* ---- options ---- */

const char argp_program_doc[] =
"Several tasks punch, zero, collapse, insert and ftruncate one FILE at once,\n"
"with byte-misaligned ranges, while readers read it; count every call.\n"
"\n"
"FILE is created if missing and filled with SIZE MiB by plain writes, never\n"
"truncated, so that a racewatch --path FILE started before sees no call that\n"
"the tasks did not make. At the end one JSON object goes to stdout: the calls\n"
"per kind, the failed ones per kind, the failures per errno, and the totals.\n"
"\v"
"EXAMPLES:\n"
"    contend /mnt/ext4/f                  # 3 invalidators, 2 readers, 10 s\n"
"    contend -d 15 -w 4 -r 2 -S 1 /mnt/xfs/f\n"
"    contend -o punch -n 500 /mnt/btrfs/sv/f  # 3 x 500 hole punches\n"
"\n"
"Exit status: 0 on success (refused calls are data, not an error), 1 on a\n"
"runtime failure, 64 on a usage error.\n";

static const struct argp_option opts[] = {
	{ "duration", 'd', "SEC", 0, "Run for SEC seconds (default 10)", 0 },
	{ "size", 's', "MIB", 0, "File size at the start, 2 or more (default 16)", 0 },
	{ "invalidators", 'w', "N", 0, "Invalidating tasks (default 3)", 0 },
	{ "readers", 'r', "N", 0, "Reader tasks (default 2)", 0 },
	{ "calls", 'n', "N", 0, "Stop each invalidator after N calls (default: at the end)", 0 },
	{ "seed", 'S', "N", 0, "Seed of the choices (default: from the clock)", 0 },
	{ "ops", 'o', "LIST", 0, "Comma list of punch,zero,collapse,insert,truncate (default all)", 0 },
	{},
};

static long num(const char *arg, long min, long max, struct argp_state *state)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		argp_error(state, "invalid number '%s' (%ld to %ld)", arg, min, max);
	return v;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'd': env.seconds = num(arg, 1, 86400, state); break;
	case 's': env.size_mib = num(arg, 2, 4096, state); break;
	case 'w': env.invalidators = num(arg, 1, MAX_TASKS / 2, state); break;
	case 'r': env.readers = num(arg, 0, MAX_TASKS / 2, state); break;
	case 'n': env.max_calls = num(arg, 1, 0x7fffffffffffffffL, state); break;
	case 'S': env.seed = num(arg, 1, 0x7fffffffffffffffL, state); break;
	case 'o':
		env.nkinds = 0;
		for (char *save, *t = strtok_r(arg, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			int k;

			for (k = 0; k < K_MAX && strcmp(t, kind_names[k]); k++)
				;
			if (k == K_MAX)
				argp_error(state, "unknown op '%s'", t);
			if (!enabled(k))
				env.kinds[env.nkinds++] = k;
		}
		if (!env.nkinds)
			argp_error(state, "-o needs at least one op");
		break;
	case ARGP_KEY_ARG:
		if (env.path)
			argp_error(state, "one FILE only");
		env.path = arg;
		break;
	case ARGP_KEY_END:
		if (!env.path)
			argp_error(state, "FILE is missing");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_opt, "FILE", argp_program_doc };
	struct task tasks[MAX_TASKS];
	struct timespec t0, t1;
	struct stat st;
	long n;
	int fd;

	argp_err_exit_status = EX_USAGE;
	argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (!env.nkinds)
		for (int k = 0; k < K_MAX; k++)
			env.kinds[env.nkinds++] = k;
	if (!env.seed)
		env.seed = (unsigned long long)time(NULL) | 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	fd = open(env.path, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "contend: %s: %s\n", env.path, strerror(errno));
		return 1;
	}
	block = st.st_blksize > 0 ? st.st_blksize : 4096;
	max_size = env.size_mib << 20;
	min_size = max_size / 2;
	if (fill(fd, max_size)) {
		fprintf(stderr, "contend: filling %s: %s\n", env.path, strerror(errno));
		return 1;
	}
	close(fd);

	n = env.invalidators + env.readers;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		tasks[i].id = i;
		if (pthread_create(&tasks[i].thread, NULL,
				   i < env.invalidators ? invalidator : reader, &tasks[i])) {
			fprintf(stderr, "contend: cannot start a task\n");
			return 1;
		}
	}
	/* With -n the invalidators end by themselves: the readers with them. */
	for (long ms = 0; !stop && ms < env.seconds * 1000; ms += 50) {
		usleep(50 * 1000);
		if (env.max_calls && atomic_load(&done) == env.invalidators)
			break;
	}
	stop = true;
	for (long i = 0; i < n; i++)
		pthread_join(tasks[i].thread, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(&st, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
