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
 * wrong. That is the ground truth racewatch's verdicts are scored against
 * (tools/racematch.c). It links statically against libc only, so it runs
 * unchanged in a busybox initramfs under qemu.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define EX_USAGE	64

/* Stamp unit, and the page unit of every index in the output records. */
#define PG		4096ULL
#define PG_SHIFT	12
#define STAMP_MAGIC	0x31504d5453474552ULL	/* "REGSTMP1" little-endian */
/* Readers also hammer this much either side of the range a call drops. */
#define READ_MARGIN	(4 * PG)
/* Oracle and restore I/O is done in chunks of this size. */
#define IO_CHUNK	(1 << 20)

enum op {
	OP_PUNCH,
	OP_COLLAPSE,
	OP_ZERO,
	OP_INSERT,
	OP_TRUNCATE,
	OP_MAX,
};

static const char *const op_names[OP_MAX] = {
	[OP_PUNCH] = "punch",
	[OP_COLLAPSE] = "collapse",
	[OP_ZERO] = "zero",
	[OP_INSERT] = "insert",
	[OP_TRUNCATE] = "truncate",
};

static const int op_modes[OP_MAX] = {
	[OP_PUNCH] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	[OP_COLLAPSE] = FALLOC_FL_COLLAPSE_RANGE,
	[OP_ZERO] = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	[OP_INSERT] = FALLOC_FL_INSERT_RANGE,
	[OP_TRUNCATE] = 0,
};

enum read_mode {
	RM_PREAD,
	RM_FADVISE,
	RM_MMAP,
	RM_MIX,
};

static const char *const read_mode_names[] = {
	[RM_PREAD] = "pread",
	[RM_FADVISE] = "fadvise",
	[RM_MMAP] = "mmap",
	[RM_MIX] = "mix",
};

enum drop_mode {
	DROP_NONE,
	DROP_FADVISE,
	DROP_CACHES,
};

static const char *const drop_names[] = {
	[DROP_NONE] = "none",
	[DROP_FADVISE] = "fadvise",
	[DROP_CACHES] = "caches",
};

static struct env {
	const char *path;
	long duration;
	long long iterations;
	long size_mib;
	unsigned int ops;		/* bit per enum op */
	long readers;
	enum read_mode read_mode;
	long max_range_kib;
	enum drop_mode drop;
	unsigned long long seed;
	bool seed_set;
} env = {
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

/* Where a reader's SIGBUS handler jumps to; NULL outside mapped reads. */
static __thread sigjmp_buf *bus_jmp;

/* What every page of the file must contain: a stamp id, 0 for zeros. */
struct model {
	uint64_t *stamp;
	uint64_t cap;			/* pages */
	uint64_t size;			/* bytes */
	uint64_t next_stamp;
};

/* Main thread -> readers. Nothing else is shared, and no lock at all. */
struct shared {
	/* first page << 32 | number of pages; 0 pages: nothing to read yet */
	_Atomic uint64_t range;
	atomic_bool stop;
};

struct reader {
	pthread_t thread;
	struct gen *g;
	unsigned short id;
	int fd;
	bool started;
	char *buf;
	uint64_t rng;
	uint64_t reads;
} __attribute__((aligned(64)));

struct iter_rec {
	uint64_t i;
	enum op op;
	long ret;
	uint64_t t0_ns, t1_ns;
	uint64_t offset, len;
	uint64_t first, last;
	uint64_t stale, confirmed;
	int64_t stale_first, stale_last;
};

struct gen {
	int fd;
	int dfd;			/* O_DIRECT, for confirmation reads */
	int drop_fd;			/* /proc/sys/vm/drop_caches */
	char *path;
	char dev[32];
	uint64_t ino;
	uint64_t block;			/* alignment of every range */
	uint64_t size;			/* configured size */
	uint64_t max_len;
	uint64_t map_len;		/* readers' mappings; covers any size */
	struct model m;
	char *iobuf;			/* IO_CHUNK, buffered oracle reads */
	char *dbuf;			/* PG, aligned for O_DIRECT */
	uint64_t *stale;		/* page indexes found stale this call */
	uint64_t nstale;
	char *map;			/* shared read-only mapping for readers */
	struct shared sh;
	struct reader *readers;
	uint64_t rng;
	unsigned int ops_left;
	/* size to restore with the next call; nonzero after an insert */
	uint64_t pending_truncate;
	uint64_t iterations, calls_ok, calls_failed, ops_ok[OP_MAX];
	uint64_t stale_iters, confirmed_iters, stale_pages, confirmed_pages;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* xorshift64*: readers must not share glibc's locked random(). */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

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
"\n"
"Exit status: 0 on success (stale pages are data, not an error), 1 on a\n"
"runtime failure, 64 on a usage error.\n";

static const struct argp_option opts[] = {
	{ "duration", 'd', "SEC", 0, "Run for SEC seconds, 0 = no limit (default 10)", 0 },
	{ "iterations", 'n', "N", 0, "Stop after N invalidating calls, 0 = no limit (default 0)", 0 },
	{ "size", 's', "MIB", 0, "File size (default 64)", 0 },
	{ "ops", 'o', "LIST", 0, "Comma list of punch,collapse,zero,insert,truncate (default punch)", 0 },
	{ "readers", 'r', "N", 0, "Reader threads (default 2)", 0 },
	{ "read-mode", 'm', "MODE", 0, "pread, fadvise, mmap or mix (default mix)", 0 },
	{ "max-range", 'R', "KIB", 0, "Longest range a call drops or truncate cuts (default 64)", 0 },
	{ "drop", 'D', "MODE", 0, "Evict before each call: none, fadvise or caches (default fadvise)", 0 },
	{ "seed", 'S', "N", 0, "Seed of the op and range choices (default: from the clock)", 0 },
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
	int v;

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
		v = parse_name(arg, read_mode_names, RM_MIX + 1);
		if (v < 0)
			argp_error(state, "unknown read mode '%s'", arg);
		env.read_mode = v;
		break;
	case 'R':
		env.max_range_kib = parse_num(arg, 4, 1 << 20, "max-range", state);
		break;
	case 'D':
		v = parse_name(arg, drop_names, DROP_CACHES + 1);
		if (v < 0)
			argp_error(state, "unknown drop mode '%s'", arg);
		env.drop = v;
		break;
	case 'S':
		env.seed = parse_num(arg, 0, LLONG_MAX, "seed", state);
		env.seed_set = true;
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
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- stamped pattern ---- */

static uint8_t stamp_fill(uint64_t stamp)
{
	return 1 + stamp % 255;
}

static void stamp_page(char *p, uint64_t stamp)
{
	uint64_t hdr[2] = { STAMP_MAGIC, stamp };

	memcpy(p, hdr, sizeof(hdr));
	memset(p + sizeof(hdr), stamp_fill(stamp), PG - sizeof(hdr));
}

/* n bytes of a page read back; n < PG means the read came up short. */
static bool page_matches(const char *p, size_t n, uint64_t stamp)
{
	uint64_t hdr[2] = { STAMP_MAGIC, stamp };
	uint64_t word, want;
	size_t i;

	if (n != PG)
		return false;
	if (stamp) {
		if (memcmp(p, hdr, sizeof(hdr)))
			return false;
		i = sizeof(hdr);
		want = 0x0101010101010101ULL * stamp_fill(stamp);
	} else {
		i = 0;
		want = 0;
	}
	for (; i < PG; i += sizeof(word)) {
		memcpy(&word, p + i, sizeof(word));
		if (word != want)
			return false;
	}
	return true;
}

/*
 * Write fresh stamps over [off, off + len), both page aligned, and record
 * them in the model. Restore writes are plain pwrite, never an invalidating
 * call, so they never appear as iterations.
 */
static int write_stamped(struct gen *g, uint64_t off, uint64_t len)
{
	uint64_t n, i;
	ssize_t ret;

	while (len) {
		n = len < IO_CHUNK ? len : IO_CHUNK;
		for (i = 0; i < n; i += PG) {
			g->m.stamp[(off + i) >> PG_SHIFT] = g->m.next_stamp;
			stamp_page(g->iobuf + i, g->m.next_stamp++);
		}
		ret = pwrite(g->fd, g->iobuf, n, off);
		if (ret != (ssize_t)n) {
			if (ret >= 0)
				errno = EIO;
			return -errno;
		}
		off += n;
		len -= n;
	}
	if (off > g->m.size)
		g->m.size = off;
	return 0;
}

/* ---- readers ---- */

static void on_sigbus(int sig, siginfo_t *info, void *uctx)
{
	/* A SIGBUS outside a mapped read is a real bug: die of it. */
	if (!bus_jmp) {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
		return;
	}
	siglongjmp(*bus_jmp, 1);
}

/* Kept out of line so that nothing read_mapped() keeps changes after sigsetjmp. */
static __attribute__((noinline)) void touch_pages(const char *map, uint64_t off,
						  uint64_t len,
						  volatile uint64_t *sum)
{
	uint64_t p;

	for (p = off; p < off + len; p += PG)
		*sum += *(const volatile uint64_t *)(map + p);
}

/*
 * Touch every page of [off, off + len) through the shared mapping. Truncate
 * and collapse shrink the file under us, and a fault past EOF is SIGBUS:
 * the handler jumps back here and the pass simply ends early.
 */
static uint64_t read_mapped(const char *map, uint64_t off, uint64_t len)
{
	volatile uint64_t sum = 0;
	sigjmp_buf jb;

	/*
	 * savemask 0 keeps this free of syscalls; that is safe because the
	 * handler runs with SA_NODEFER, so SIGBUS is never left blocked.
	 */
	if (sigsetjmp(jb, 0)) {
		bus_jmp = NULL;
		return sum;
	}
	bus_jmp = &jb;
	touch_pages(map, off, len, &sum);
	bus_jmp = NULL;
	return sum;
}

/* Narrow [*off, *off + *len) to a random run of whole pages inside it. */
static void pick_piece(uint64_t *rng, uint64_t *off, uint64_t *len)
{
	uint64_t pages = *len >> PG_SHIFT, first, n;

	first = rng_below(rng, pages);
	n = 1 + rng_below(rng, pages - first);
	*off += first << PG_SHIFT;
	*len = n << PG_SHIFT;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct gen *g = r->g;
	uint64_t range, off, len, sink = 0;
	enum read_mode mode;
	char name[16];

	/* A comm of their own lets traces tell reader inserts from ours. */
	snprintf(name, sizeof(name), "rg-reader-%hu", r->id);
	pthread_setname_np(pthread_self(), name);
	while (!atomic_load_explicit(&g->sh.stop, memory_order_relaxed)) {
		range = atomic_load_explicit(&g->sh.range, memory_order_relaxed);
		len = (range & 0xffffffffULL) << PG_SHIFT;
		off = (range >> 32) << PG_SHIFT;
		if (!len) {
			sched_yield();
			continue;
		}
		mode = env.read_mode;
		if (mode == RM_MIX)
			mode = rng_below(&r->rng, RM_MIX);
		if (mode == RM_MMAP) {
			sink += read_mapped(g->map, off, len);
			r->reads++;
			continue;
		}
		/*
		 * A random piece of the range per read: many short reads miss
		 * the cache at many more moments than one read of it all, and
		 * on 5.10 ext4 found 2 to 3 times more stale pages.
		 */
		pick_piece(&r->rng, &off, &len);
		if (mode == RM_FADVISE)
			posix_fadvise(r->fd, off, len, POSIX_FADV_WILLNEED);
		/* Short reads and EOF are expected: the file shrinks. */
		if (pread(r->fd, r->buf, len, off) > 0)
			sink += (unsigned char)r->buf[0];
		r->reads++;
	}
	return (void *)(uintptr_t)(sink & 1);
}

static void publish_range(struct gen *g, uint64_t off, uint64_t end)
{
	uint64_t lo = off > READ_MARGIN ? off - READ_MARGIN : 0;
	uint64_t hi = end + READ_MARGIN;

	if (hi > g->map_len)
		hi = g->map_len;
	atomic_store_explicit(&g->sh.range,
			      (lo >> PG_SHIFT) << 32 | (hi - lo) >> PG_SHIFT,
			      memory_order_relaxed);
}

static int start_readers(struct gen *g)
{
	sigset_t block, old;
	struct reader *r;
	long i;
	int err = 0;

	g->readers = calloc(env.readers ? env.readers : 1, sizeof(*g->readers));
	if (!g->readers)
		return -ENOMEM;
	for (i = 0; i < env.readers; i++)
		g->readers[i].fd = -1;
	/* SIGINT/SIGTERM must land on the main thread, which owns the loop. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < env.readers; i++) {
		r = &g->readers[i];
		r->g = g;
		r->id = i;
		r->rng = (env.seed + 1) * 0x9e3779b97f4a7c15ULL + i + 1;
		/* An fd each: readahead state lives in struct file. */
		r->fd = open(g->path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			err = -errno;
			fprintf(stderr, "racegen: failed to open %s: %s\n",
				g->path, strerror(errno));
			goto cleanup;
		}
		r->buf = malloc(g->max_len + 2 * READ_MARGIN);
		if (!r->buf) {
			err = -ENOMEM;
			fprintf(stderr, "racegen: failed to allocate reader buffer: %s\n",
				strerror(ENOMEM));
			goto cleanup;
		}
		err = -pthread_create(&r->thread, NULL, reader_main, r);
		if (err) {
			fprintf(stderr, "racegen: failed to create reader thread: %s\n",
				strerror(-err));
			goto cleanup;
		}
		r->started = true;
	}
cleanup:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

static uint64_t stop_readers(struct gen *g)
{
	uint64_t reads = 0;
	long i;

	if (!g->readers)
		return 0;
	atomic_store(&g->sh.stop, true);
	for (i = 0; i < env.readers; i++) {
		if (g->readers[i].started)
			pthread_join(g->readers[i].thread, NULL);
		g->readers[i].started = false;
		reads += g->readers[i].reads;
	}
	return reads;
}

static void free_readers(struct gen *g)
{
	long i;

	if (!g->readers)
		return;
	for (i = 0; i < env.readers; i++) {
		if (g->readers[i].fd >= 0)
			close(g->readers[i].fd);
		free(g->readers[i].buf);
	}
	free(g->readers);
	g->readers = NULL;
}

/* ---- output ---- */

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

static void print_start(struct gen *g)
{
	char ops[64];

	printf("{\"type\":\"start\",\"v\":1,\"file\":");
	print_json_str(g->path);
	printf(",\"dev\":\"%s\",\"ino\":%" PRIu64 ",\"size\":%" PRIu64
	       ",\"block\":%" PRIu64 ",\"readers\":%ld,\"read_mode\":\"%s\""
	       ",\"ops\":\"%s\",\"drop\":\"%s\",\"seed\":%llu}\n",
	       g->dev, g->ino, g->size, g->block, env.readers,
	       read_mode_names[env.read_mode], ops_list(env.ops, ops, sizeof(ops)),
	       drop_names[env.drop], env.seed);
	fflush(stdout);
}

static void print_iter(struct gen *g, const struct iter_rec *it)
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

static void print_summary(struct gen *g, uint64_t elapsed, uint64_t reads)
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

/* ---- setup ---- */

static int create_file(struct gen *g)
{
	struct stat st;
	int err;

	/* Fresh inode every run: no page of an earlier run can linger. */
	if (unlink(env.path) && errno != ENOENT) {
		err = -errno;
		fprintf(stderr, "racegen: failed to unlink %s: %s\n", env.path,
			strerror(errno));
		return err;
	}
	g->fd = open(env.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (g->fd < 0) {
		err = -errno;
		fprintf(stderr, "racegen: failed to create %s: %s\n", env.path,
			strerror(errno));
		return err;
	}
	g->path = realpath(env.path, NULL);
	if (!g->path)
		g->path = strdup(env.path);
	if (!g->path || fstat(g->fd, &st)) {
		err = g->path ? -errno : -ENOMEM;
		fprintf(stderr, "racegen: failed to stat %s: %s\n", env.path,
			strerror(-err));
		return err;
	}
	snprintf(g->dev, sizeof(g->dev), "%u:%u", major(st.st_dev),
		 minor(st.st_dev));
	g->ino = st.st_ino;
	/* Ranges must be whole fs blocks (collapse/insert demand it) and pages. */
	g->block = st.st_blksize > (blksize_t)PG ? (uint64_t)st.st_blksize : PG;
	if ((uint64_t)sysconf(_SC_PAGESIZE) > g->block)
		g->block = sysconf(_SC_PAGESIZE);
	if (g->block % PG || g->block % sysconf(_SC_PAGESIZE)) {
		fprintf(stderr, "racegen: failed to align ranges: st_blksize %ld is not page aligned\n",
			(long)st.st_blksize);
		return -EINVAL;
	}
	g->dfd = open(env.path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (g->dfd < 0) {
		err = -errno;
		fprintf(stderr, "racegen: failed to open %s with O_DIRECT: %s\n",
			env.path, strerror(errno));
		return err;
	}
	return 0;
}

static int fill_file(struct gen *g)
{
	int err;

	err = write_stamped(g, 0, g->size);
	if (!err && fdatasync(g->fd))
		err = -errno;
	if (err)
		fprintf(stderr, "racegen: failed to fill %s: %s\n", g->path,
			strerror(-err));
	return err;
}

static int setup(struct gen *g)
{
	uint64_t max_len;
	int err;

	err = create_file(g);
	if (err)
		return err;
	g->size = (uint64_t)env.size_mib << 20;
	max_len = (uint64_t)env.max_range_kib << 10;
	max_len -= max_len % g->block;
	if (!max_len) {
		fprintf(stderr, "racegen: note: --max-range is below the %" PRIu64
			"-byte block size; using one block\n", g->block);
		max_len = g->block;
	}
	if (g->size % g->block || max_len * 2 > g->size) {
		fprintf(stderr, "racegen: failed to fit ranges: --size must be a multiple of the %"
			PRIu64 "-byte block and at least twice --max-range\n", g->block);
		return -EINVAL;
	}
	g->max_len = max_len;
	/* Insert grows the file by up to max_len; readers read a margin past it. */
	g->map_len = g->size + max_len + READ_MARGIN;
	g->m.cap = g->map_len >> PG_SHIFT;
	g->m.stamp = calloc(g->m.cap, sizeof(*g->m.stamp));
	g->stale = calloc(g->m.cap, sizeof(*g->stale));
	g->iobuf = malloc(IO_CHUNK);
	if (!g->m.stamp || !g->stale || !g->iobuf ||
	    posix_memalign((void **)&g->dbuf, PG, PG)) {
		fprintf(stderr, "racegen: failed to allocate the model: %s\n",
			strerror(ENOMEM));
		return -ENOMEM;
	}
	g->m.next_stamp = 1;
	if (env.drop == DROP_CACHES) {
		g->drop_fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
		if (g->drop_fd < 0) {
			err = -errno;
			fprintf(stderr, "racegen: failed to open /proc/sys/vm/drop_caches: %s (run as root, or use -D fadvise)\n",
				strerror(errno));
			return err;
		}
	}
	g->map = mmap(NULL, g->map_len, PROT_READ, MAP_SHARED, g->fd, 0);
	if (g->map == MAP_FAILED) {
		g->map = NULL;
		err = -errno;
		fprintf(stderr, "racegen: failed to mmap %s: %s\n", g->path,
			strerror(errno));
		return err;
	}
	return fill_file(g);
}

static void teardown(struct gen *g)
{
	free_readers(g);
	if (g->map)
		munmap(g->map, g->map_len);
	if (g->drop_fd >= 0)
		close(g->drop_fd);
	if (g->dfd >= 0)
		close(g->dfd);
	if (g->fd >= 0)
		close(g->fd);
	free(g->m.stamp);
	free(g->stale);
	free(g->iobuf);
	free(g->dbuf);
	free(g->path);
}

/* ---- one iteration ---- */

/* Pick an enabled op and a block-aligned range valid for it. */
static void choose(struct gen *g, struct iter_rec *it)
{
	uint64_t size = g->m.size, nblk, nops = 0, pick;
	int op;

	for (op = 0; op < OP_MAX; op++)
		nops += !!(g->ops_left & 1U << op);
	pick = rng_below(&g->rng, nops);
	for (op = 0; op < OP_MAX; op++)
		if ((g->ops_left & 1U << op) && !pick--)
			break;
	it->op = op;
	it->len = g->block * (1 + rng_below(&g->rng, g->max_len / g->block));
	switch (op) {
	case OP_COLLAPSE:
		/* EINVAL if the range reaches EOF: keep data after it. */
		nblk = (size - it->len) / g->block;
		break;
	case OP_INSERT:
		/* EINVAL unless offset < i_size. */
		nblk = size / g->block;
		break;
	case OP_TRUNCATE:
		it->offset = size - it->len;
		return;
	default:
		nblk = (size - it->len) / g->block + 1;
		break;
	}
	it->offset = g->block * rng_below(&g->rng, nblk);
}

/* The page range the call invalidates, as racewatch derives it. */
static void set_pages(struct gen *g, struct iter_rec *it)
{
	uint64_t last_page = (g->m.size - 1) >> PG_SHIFT;

	it->first = it->offset >> PG_SHIFT;
	if (it->op == OP_PUNCH || it->op == OP_ZERO)
		it->last = (it->offset + it->len - 1) >> PG_SHIFT;
	else
		it->last = last_page;
}

static void evict(struct gen *g, const struct iter_rec *it)
{
	if (env.drop == DROP_FADVISE) {
		posix_fadvise(g->fd, it->offset, it->len, POSIX_FADV_DONTNEED);
	} else if (env.drop == DROP_CACHES) {
		sync();
		if (pwrite(g->drop_fd, "3", 1, 0) != 1)
			fprintf(stderr, "racegen: failed to drop caches: %s\n",
				strerror(errno));
	}
}

static long do_call(struct gen *g, const struct iter_rec *it)
{
	int ret;

	if (it->op == OP_TRUNCATE)
		ret = ftruncate(g->fd, it->offset);
	else
		ret = fallocate(g->fd, op_modes[it->op], it->offset, it->len);
	return ret ? -errno : 0;
}

/* Make the model say what the file holds after a successful call. */
static void model_apply(struct model *m, const struct iter_rec *it)
{
	uint64_t p0 = it->offset >> PG_SHIFT, k = it->len >> PG_SHIFT;
	uint64_t np = m->size >> PG_SHIFT;

	switch (it->op) {
	case OP_PUNCH:
	case OP_ZERO:
		memset(&m->stamp[p0], 0, k * sizeof(*m->stamp));
		break;
	case OP_COLLAPSE:
		memmove(&m->stamp[p0], &m->stamp[p0 + k],
			(np - p0 - k) * sizeof(*m->stamp));
		memset(&m->stamp[np - k], 0, k * sizeof(*m->stamp));
		m->size -= it->len;
		break;
	case OP_INSERT:
		memmove(&m->stamp[p0 + k], &m->stamp[p0],
			(np - p0) * sizeof(*m->stamp));
		memset(&m->stamp[p0], 0, k * sizeof(*m->stamp));
		m->size += it->len;
		break;
	default:
		/* Truncate: the cut pages are gone; re-extended, they are holes. */
		memset(&m->stamp[p0], 0, (np - p0) * sizeof(*m->stamp));
		m->size = it->offset;
		break;
	}
}

/* A stale page is confirmed when the disk, read with O_DIRECT, is right. */
static int confirm_page(struct gen *g, uint64_t page, bool *ok)
{
	ssize_t n;

	n = pread(g->dfd, g->dbuf, PG, page << PG_SHIFT);
	if (n < 0)
		return -errno;
	*ok = page_matches(g->dbuf, n, g->m.stamp[page]);
	return 0;
}

/* Read pages [first, end) through the page cache and compare with the model. */
static int oracle_check(struct gen *g, uint64_t first, uint64_t end,
			struct iter_rec *it)
{
	uint64_t page, n, i;
	bool ok = false;
	ssize_t got;
	int err;

	for (page = first; page < end; page += n) {
		n = end - page < IO_CHUNK / PG ? end - page : IO_CHUNK / PG;
		got = pread(g->fd, g->iobuf, n * PG, page << PG_SHIFT);
		if (got < 0)
			return -errno;
		for (i = 0; i < n; i++) {
			size_t have = got > (ssize_t)(i * PG) ?
				      (size_t)got - i * PG : 0;

			if (page_matches(g->iobuf + i * PG, have > PG ? PG : have,
					 g->m.stamp[page + i]))
				continue;
			g->stale[g->nstale++] = page + i;
			it->stale++;
			err = confirm_page(g, page + i, &ok);
			if (err)
				return err;
			if (!ok)
				continue;
			it->confirmed++;
			if (it->stale_first < 0)
				it->stale_first = page + i;
			it->stale_last = page + i;
		}
	}
	return 0;
}

/*
 * Check the call's effect. Pages past EOF cannot be read, so after a
 * truncate that cut into the configured size the final block is written
 * first (a plain extending pwrite, not an invalidating call): the cut range
 * is then a hole that must read as zeros, which exposes any page a racing
 * reader filled with the old data. The truncate that undoes an insert cuts
 * only past the configured size, where nothing ever reads again; its check
 * is the size alone. New sizes are whole blocks, so no partial page
 * straddles EOF and there is no tail past it to check for zeros.
 */
static int oracle(struct gen *g, struct iter_rec *it)
{
	uint64_t first = it->offset >> PG_SHIFT, end;
	struct stat st;
	int err;

	if (fstat(g->fd, &st))
		return -errno;
	if ((uint64_t)st.st_size != g->m.size) {
		fprintf(stderr, "racegen: failed to %s %s: size is %lld, expected %" PRIu64 "\n",
			op_names[it->op], g->path, (long long)st.st_size, g->m.size);
		return -EIO;
	}
	if (it->op == OP_TRUNCATE) {
		if (g->m.size >= g->size)
			return 0;
		err = write_stamped(g, g->size - PG, PG);
		if (err)
			return err;
		end = (g->size >> PG_SHIFT) - 1;
	} else if (it->op == OP_PUNCH || it->op == OP_ZERO) {
		end = (it->offset + it->len) >> PG_SHIFT;
	} else {
		end = g->m.size >> PG_SHIFT;
	}
	return oracle_check(g, first, end, it);
}

/*
 * Make the next call punch real data again: fresh stamps over every page the
 * call zeroed and every stale page (which also replaces the wrong cached
 * copy), then extend back to the configured size. After an insert the file
 * is longer; that is undone by a truncate of its own, in the next iteration.
 */
static bool needs_stamp(struct gen *g, uint64_t page, uint64_t *s)
{
	while (*s < g->nstale && g->stale[*s] < page)
		(*s)++;
	return !g->m.stamp[page] || (*s < g->nstale && g->stale[*s] == page);
}

static int restore(struct gen *g, const struct iter_rec *it)
{
	uint64_t end = g->m.size < g->size ? g->m.size : g->size;
	uint64_t p = it->offset >> PG_SHIFT, run, s = 0;
	int err;

	end >>= PG_SHIFT;
	while (p < end) {
		if (!needs_stamp(g, p, &s)) {
			p++;
			continue;
		}
		for (run = p + 1; run < end && needs_stamp(g, run, &s); run++)
			;
		err = write_stamped(g, p << PG_SHIFT, (run - p) << PG_SHIFT);
		if (err)
			return err;
		p = run;
	}
	if (g->m.size < g->size) {
		err = write_stamped(g, g->m.size, g->size - g->m.size);
		if (err)
			return err;
	}
	if (g->m.size > g->size)
		g->pending_truncate = g->size;
	return fdatasync(g->fd) ? -errno : 0;
}

static void count(struct gen *g, const struct iter_rec *it)
{
	g->iterations++;
	if (it->ret) {
		g->calls_failed++;
		return;
	}
	g->calls_ok++;
	g->ops_ok[it->op]++;
	g->stale_pages += it->stale;
	g->confirmed_pages += it->confirmed;
	g->stale_iters += !!it->stale;
	g->confirmed_iters += !!it->confirmed;
}

/*
 * A failed call is reported once and its op is not chosen again. The
 * failures expected here (EOPNOTSUPP, EINVAL) are refused before the file
 * is touched, but the range is stamped afresh anyway so that the model
 * stays true whatever the filesystem did.
 */
static int call_failed(struct gen *g, const struct iter_rec *it)
{
	int err;

	fprintf(stderr, "racegen: failed to %s %s at %" PRIu64 "+%" PRIu64 ": %s; no longer choosing %s\n",
		op_names[it->op], g->path, it->offset, it->len,
		strerror(-it->ret), op_names[it->op]);
	g->ops_left &= ~(1U << it->op);
	if (it->op == OP_TRUNCATE && g->pending_truncate)
		return -EIO;
	if (it->op != OP_TRUNCATE) {
		/* An insert range may reach past EOF; never grow the file here. */
		err = write_stamped(g, it->offset, it->offset + it->len > g->m.size ?
				    g->m.size - it->offset : it->len);
		if (err)
			return err;
		if (fdatasync(g->fd))
			return -errno;
	}
	if (!g->ops_left) {
		fprintf(stderr, "racegen: failed to continue: every op failed\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int iterate(struct gen *g)
{
	struct iter_rec it = { .stale_first = -1, .stale_last = -1 };
	int err;

	it.i = g->iterations + 1;
	if (g->pending_truncate) {
		it.op = OP_TRUNCATE;
		it.offset = g->pending_truncate;
		it.len = g->m.size - it.offset;
	} else {
		choose(g, &it);
	}
	set_pages(g, &it);
	g->nstale = 0;
	publish_range(g, it.offset, it.offset + it.len);
	evict(g, &it);

	it.t0_ns = now_ns();
	it.ret = do_call(g, &it);
	it.t1_ns = now_ns();

	if (it.ret) {
		print_iter(g, &it);
		count(g, &it);
		return call_failed(g, &it);
	}
	g->pending_truncate = 0;
	model_apply(&g->m, &it);
	err = oracle(g, &it);
	if (!err)
		err = restore(g, &it);
	print_iter(g, &it);
	count(g, &it);
	if (err)
		fprintf(stderr, "racegen: failed to check %s after %s: %s\n",
			g->path, op_names[it.op], strerror(-err));
	return err;
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

static int run(struct gen *g)
{
	uint64_t start, deadline, reads;
	int err;

	err = start_readers(g);
	start = now_ns();
	deadline = env.duration ? start + env.duration * 1000000000ULL : 0;
	while (!err && !exiting) {
		if (env.iterations && g->iterations >= (uint64_t)env.iterations)
			break;
		if (deadline && now_ns() >= deadline)
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
