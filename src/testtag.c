// SPDX-License-Identifier: GPL-2.0
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "testtag.h"

struct start {
	__u64 ts;
	size_t row;
};

struct testtag {
	regex_t re;
	struct test_row *rows;	/* TESTTAG_MAX_TESTS + 1: the last one folds */
	size_t nrows;
	__u64 folded;
	struct hash *by_name;	/* row index + 1 */
	struct start starts[TESTTAG_MAX_STARTS];	/* a ring, oldest at first */
	size_t first, nstarts;
	struct test_row untagged;
};

/* FNV-1a, then mixed: names share long prefixes ("generic/0"). */
static __u64 name_hash(const char *s)
{
	__u64 h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return hash__mix(h);
}

static const struct testtag *eq_ctx;

static bool name_eq(uintptr_t val, const void *key)
{
	return !strcmp(eq_ctx->rows[val - 1].name, key);
}

struct testtag *testtag__new(const char *pattern, char *err, size_t errlen)
{
	struct testtag *t = calloc(1, sizeof(*t));
	int rc;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = regcomp(&t->re, pattern, REG_EXTENDED);
	if (rc) {
		regerror(rc, &t->re, err, errlen);
		free(t);
		return NULL;
	}
	t->rows = calloc(TESTTAG_MAX_TESTS + 1, sizeof(*t->rows));
	t->by_name = hash__new();
	if (!t->rows || !t->by_name) {
		snprintf(err, errlen, "out of memory");
		testtag__free(t);
		return NULL;
	}
	return t;
}

void testtag__free(struct testtag *t)
{
	if (!t)
		return;
	regfree(&t->re);
	hash__free(t->by_name);
	free(t->rows);
	free(t);
}

static size_t row_of(struct testtag *t, const char *name)
{
	__u64 hv = name_hash(name);
	uintptr_t v;

	eq_ctx = t;
	v = hash__find(t->by_name, hv, name_eq, name);
	if (v)
		return v - 1;
	if (t->nrows >= TESTTAG_MAX_TESTS) {
		/* Past the bound: one row for them all. */
		t->folded++;
		snprintf(t->rows[TESTTAG_MAX_TESTS].name, TESTTAG_NAME_LEN, "(%llu more tests)",
			 (unsigned long long)t->folded);
		return TESTTAG_MAX_TESTS;
	}
	snprintf(t->rows[t->nrows].name, TESTTAG_NAME_LEN, "%s", name);
	if (hash__add(t->by_name, hv, t->nrows + 1)) {
		t->folded++;
		return TESTTAG_MAX_TESTS;
	}
	return t->nrows++;
}

void testtag__line(struct testtag *t, __u64 ts, const char *text, size_t len)
{
	char line[1024], name[TESTTAG_NAME_LEN];
	regmatch_t m[2];
	struct start *s;
	size_t n;

	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memcpy(line, text, len);
	line[len] = '\0';
	if (regexec(&t->re, line, 2, m, 0))
		return;
	if (m[1].rm_so < 0)
		m[1] = m[0];
	n = m[1].rm_eo - m[1].rm_so;
	if (!n)
		return;
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, line + m[1].rm_so, n);
	name[n] = '\0';
	/* Starts stay in order: the clock estimate may step back a little. */
	if (t->nstarts) {
		const struct start *last = &t->starts[(t->first + t->nstarts - 1) % TESTTAG_MAX_STARTS];

		if (ts < last->ts)
			ts = last->ts;
	}
	if (t->nstarts == TESTTAG_MAX_STARTS) {
		t->first = (t->first + 1) % TESTTAG_MAX_STARTS;
		t->nstarts--;
	}
	s = &t->starts[(t->first + t->nstarts) % TESTTAG_MAX_STARTS];
	s->ts = ts;
	s->row = row_of(t, name);
	t->nstarts++;
}

/* The last start at or before ts; NULL if none. */
static const struct start *start_at(const struct testtag *t, __u64 ts)
{
	size_t lo = 0, hi = t->nstarts;

	if (!t->nstarts || t->starts[t->first].ts > ts)
		return NULL;
	/* The last index whose start is <= ts. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->starts[(t->first + mid) % TESTTAG_MAX_STARTS].ts <= ts)
			lo = mid;
		else
			hi = mid;
	}
	return &t->starts[(t->first + lo) % TESTTAG_MAX_STARTS];
}

const struct test_row *testtag__at(const struct testtag *t, __u64 ts)
{
	const struct start *s = start_at(t, ts);

	return s ? &t->rows[s->row] : NULL;
}

void testtag__count(struct testtag *t, __u64 ts, __u64 candidates, __u64 races)
{
	const struct start *s = start_at(t, ts);
	struct test_row *r = s ? &t->rows[s->row] : &t->untagged;

	r->ops++;
	r->candidates += candidates;
	r->races += races;
}

size_t testtag__rows(const struct testtag *t, const struct test_row **rows)
{
	*rows = t->rows;
	return t->nrows;
}

const struct test_row *testtag__untagged(const struct testtag *t)
{
	return &t->untagged;
}

const struct test_row *testtag__folded(const struct testtag *t)
{
	return t->folded ? &t->rows[TESTTAG_MAX_TESTS] : NULL;
}
