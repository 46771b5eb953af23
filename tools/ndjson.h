/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny scanner for one NDJSON line: validate that the line is exactly one
 * JSON object and look fields up by dotted path ("op.begin_ns"). Nothing is
 * allocated and nothing is built: every lookup rescans the line, which is
 * cheap for the short records racegen and racewatch write, and keeps the
 * module free of any tree it would have to free.
 *
 * All functions return 0 or a negative errno, in the libbpf style:
 *   -EINVAL   the line is not a well-formed JSON object
 *   -ENOENT   no field at that path
 *   -EPROTO   the field exists but has another type
 *   -ERANGE   a number does not fit the requested type
 *   -ENOSPC   a string does not fit the caller's buffer
 */
#ifndef RACEWATCH_NDJSON_H
#define RACEWATCH_NDJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is rejected rather than risking the stack. */
#define NDJSON_MAX_DEPTH	64

enum ndjson_type {
	NDJSON_NULL = 1,
	NDJSON_BOOL,
	NDJSON_NUMBER,
	NDJSON_STRING,
	NDJSON_OBJECT,
	NDJSON_ARRAY,
};

/* A value as it appears in the line: raw text, quotes included for strings. */
struct ndjson_value {
	enum ndjson_type type;
	const char *start;
	size_t len;
};

/* 0 when line[0..len) is one JSON object, optionally surrounded by blanks. */
int ndjson__check(const char *line, size_t len);

int ndjson__find(const char *line, size_t len, const char *path,
		 struct ndjson_value *val);
bool ndjson__has(const char *line, size_t len, const char *path);
/* Integers only: a fraction or an exponent is -EPROTO. */
int ndjson__get_i64(const char *line, size_t len, const char *path,
		    int64_t *out);
int ndjson__get_u64(const char *line, size_t len, const char *path,
		    uint64_t *out);
/* Decodes escapes (\uXXXX to UTF-8); out is always NUL-terminated. */
int ndjson__get_str(const char *line, size_t len, const char *path,
		    char *out, size_t size);
/* Compare a string field with want; -ENOENT/-EPROTO as for get_str. */
int ndjson__str_eq(const char *line, size_t len, const char *path,
		   const char *want, bool *eq);

#endif /* RACEWATCH_NDJSON_H */
