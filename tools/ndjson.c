// SPDX-License-Identifier: GPL-2.0
/*
 * One-line JSON object scanner for racematch and the unit tests. See ndjson.h
 * for the contract. The grammar is RFC 8259's; the only leniency is that
 * strings are not checked for valid UTF-8, because nothing here interprets
 * bytes above 0x7f.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson.h"

/* Longest object key compared after unescaping; longer keys never match. */
#define KEY_MAX		256

struct scan {
	const char *p;
	const char *end;
};

static int scan_value(struct scan *s, int depth, enum ndjson_type *type);

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int scan_hex4(const char *p, const char *end, unsigned int *out)
{
	unsigned int v = 0;
	int i, h;

	if (end - p < 4)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		h = hexval(p[i]);
		if (h < 0)
			return -EINVAL;
		v = v << 4 | h;
	}
	*out = v;
	return 0;
}

/* s->p is on the opening quote; on success it is just past the closing one. */
static int scan_string(struct scan *s)
{
	const char *p = s->p + 1;
	unsigned int cp;

	while (p < s->end) {
		unsigned char c = *p;

		if (c == '"') {
			s->p = p + 1;
			return 0;
		}
		/* RFC 8259 7: control characters must be escaped. */
		if (c < 0x20)
			return -EINVAL;
		if (c != '\\') {
			p++;
			continue;
		}
		if (++p >= s->end)
			return -EINVAL;
		switch (*p) {
		case '"': case '\\': case '/': case 'b':
		case 'f': case 'n': case 'r': case 't':
			p++;
			break;
		case 'u':
			if (scan_hex4(p + 1, s->end, &cp))
				return -EINVAL;
			p += 5;
			break;
		default:
			return -EINVAL;
		}
	}
	return -EINVAL;
}

static int scan_digits(struct scan *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start ? 0 : -EINVAL;
}

static int scan_number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p >= s->end)
		return -EINVAL;
	/* No leading zeros: "0" alone, or a non-zero digit first. */
	if (*s->p == '0')
		s->p++;
	else if (scan_digits(s))
		return -EINVAL;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (scan_digits(s))
			return -EINVAL;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (scan_digits(s))
			return -EINVAL;
	}
	return 0;
}

static int scan_literal(struct scan *s, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n))
		return -EINVAL;
	s->p += n;
	return 0;
}

/*
 * Walk the members of the object whose '{' s->p is on. For each member,
 * cb(key_start, key_len, value, ctx) is called with the raw key (no quotes)
 * and a nonzero return stops the walk and is returned. A NULL cb only
 * validates.
 */
typedef int (*member_cb)(const char *key, size_t key_len,
			 const struct ndjson_value *val, void *ctx);

static int walk_object(struct scan *s, int depth, member_cb cb, void *ctx)
{
	struct ndjson_value val;
	const char *key;
	size_t key_len;
	int err;

	if (depth > NDJSON_MAX_DEPTH)
		return -EINVAL;
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		skip_ws(s);
		if (s->p >= s->end || *s->p != '"')
			return -EINVAL;
		key = s->p + 1;
		err = scan_string(s);
		if (err)
			return err;
		key_len = s->p - 1 - key;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -EINVAL;
		s->p++;
		skip_ws(s);
		val.start = s->p;
		err = scan_value(s, depth + 1, &val.type);
		if (err)
			return err;
		val.len = s->p - val.start;
		if (cb) {
			err = cb(key, key_len, &val, ctx);
			if (err)
				return err;
		}
		skip_ws(s);
		if (s->p >= s->end)
			return -EINVAL;
		if (*s->p == '}') {
			s->p++;
			return 0;
		}
		if (*s->p != ',')
			return -EINVAL;
		s->p++;
	}
}

static int scan_array(struct scan *s, int depth)
{
	enum ndjson_type type;
	int err;

	if (depth > NDJSON_MAX_DEPTH)
		return -EINVAL;
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		skip_ws(s);
		err = scan_value(s, depth + 1, &type);
		if (err)
			return err;
		skip_ws(s);
		if (s->p >= s->end)
			return -EINVAL;
		if (*s->p == ']') {
			s->p++;
			return 0;
		}
		if (*s->p != ',')
			return -EINVAL;
		s->p++;
	}
}

static int scan_value(struct scan *s, int depth, enum ndjson_type *type)
{
	if (s->p >= s->end)
		return -EINVAL;
	switch (*s->p) {
	case '{':
		*type = NDJSON_OBJECT;
		return walk_object(s, depth, NULL, NULL);
	case '[':
		*type = NDJSON_ARRAY;
		return scan_array(s, depth);
	case '"':
		*type = NDJSON_STRING;
		return scan_string(s);
	case 't':
		*type = NDJSON_BOOL;
		return scan_literal(s, "true");
	case 'f':
		*type = NDJSON_BOOL;
		return scan_literal(s, "false");
	case 'n':
		*type = NDJSON_NULL;
		return scan_literal(s, "null");
	default:
		*type = NDJSON_NUMBER;
		return scan_number(s);
	}
}

int ndjson__check(const char *line, size_t len)
{
	struct scan s = { .p = line, .end = line + len };
	int err;

	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return -EINVAL;
	err = walk_object(&s, 1, NULL, NULL);
	if (err)
		return err;
	skip_ws(&s);
	return s.p == s.end ? 0 : -EINVAL;
}

static void put_utf8(unsigned int cp, char *buf, size_t *n)
{
	if (cp < 0x80) {
		buf[(*n)++] = cp;
	} else if (cp < 0x800) {
		buf[(*n)++] = 0xc0 | cp >> 6;
		buf[(*n)++] = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		buf[(*n)++] = 0xe0 | cp >> 12;
		buf[(*n)++] = 0x80 | (cp >> 6 & 0x3f);
		buf[(*n)++] = 0x80 | (cp & 0x3f);
	} else {
		buf[(*n)++] = 0xf0 | cp >> 18;
		buf[(*n)++] = 0x80 | (cp >> 12 & 0x3f);
		buf[(*n)++] = 0x80 | (cp >> 6 & 0x3f);
		buf[(*n)++] = 0x80 | (cp & 0x3f);
	}
}

/*
 * Decode the already validated string body raw[0..len) (no quotes) into
 * out. A lone surrogate becomes U+FFFD rather than an error: the text was
 * well-formed JSON, only not well-formed Unicode.
 */
static int decode_string(const char *raw, size_t len, char *out, size_t size)
{
	const char *p = raw, *end = raw + len;
	unsigned int cp, lo;
	char tmp[4];
	size_t n, i, o = 0;

	if (!size)
		return -ENOSPC;
	while (p < end) {
		n = 0;
		if (*p != '\\') {
			tmp[n++] = *p++;
		} else {
			p++;
			switch (*p++) {
			case 'b': tmp[n++] = '\b'; break;
			case 'f': tmp[n++] = '\f'; break;
			case 'n': tmp[n++] = '\n'; break;
			case 'r': tmp[n++] = '\r'; break;
			case 't': tmp[n++] = '\t'; break;
			case 'u':
				scan_hex4(p, end, &cp);
				p += 4;
				if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 &&
				    p[0] == '\\' && p[1] == 'u' &&
				    !scan_hex4(p + 2, end, &lo) &&
				    lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
					p += 6;
				} else if (cp >= 0xd800 && cp < 0xe000) {
					cp = 0xfffd;
				}
				put_utf8(cp, tmp, &n);
				break;
			default: tmp[n++] = p[-1]; break;
			}
		}
		if (o + n >= size) {
			out[o] = '\0';
			return -ENOSPC;
		}
		for (i = 0; i < n; i++)
			out[o++] = tmp[i];
	}
	out[o] = '\0';
	return 0;
}

struct find_ctx {
	const char *seg;
	size_t seg_len;
	struct ndjson_value val;
	bool found;
};

static bool key_equals(const char *key, size_t key_len, const char *seg,
		       size_t seg_len)
{
	char buf[KEY_MAX];

	if (!memchr(key, '\\', key_len))
		return key_len == seg_len && !memcmp(key, seg, seg_len);
	if (decode_string(key, key_len, buf, sizeof(buf)))
		return false;
	return strlen(buf) == seg_len && !memcmp(buf, seg, seg_len);
}

static int find_cb(const char *key, size_t key_len,
		   const struct ndjson_value *val, void *ctx)
{
	struct find_ctx *f = ctx;

	if (!key_equals(key, key_len, f->seg, f->seg_len))
		return 0;
	/* The first of duplicate keys wins; stop walking. */
	f->val = *val;
	f->found = true;
	return 1;
}

int ndjson__find(const char *line, size_t len, const char *path,
		 struct ndjson_value *val)
{
	struct find_ctx f;
	struct scan s;
	const char *dot;
	int err;

	err = ndjson__check(line, len);
	if (err)
		return err;
	s.p = line;
	s.end = line + len;
	skip_ws(&s);
	for (;;) {
		dot = strchr(path, '.');
		f.seg = path;
		f.seg_len = dot ? (size_t)(dot - path) : strlen(path);
		f.found = false;
		if (!f.seg_len || f.seg_len >= KEY_MAX)
			return -EINVAL;
		/* The line was checked, so a walk error here is only our stop. */
		walk_object(&s, 1, find_cb, &f);
		if (!f.found)
			return -ENOENT;
		if (!dot) {
			*val = f.val;
			return 0;
		}
		if (f.val.type != NDJSON_OBJECT)
			return -EPROTO;
		s.p = f.val.start;
		s.end = f.val.start + f.val.len;
		path = dot + 1;
	}
}

bool ndjson__has(const char *line, size_t len, const char *path)
{
	struct ndjson_value val;

	return ndjson__find(line, len, path, &val) == 0;
}

/* Copy an integer token into buf; -EPROTO for fractions and exponents. */
static int int_token(const char *line, size_t len, const char *path,
		     char *buf, size_t size)
{
	struct ndjson_value val;
	int err;

	err = ndjson__find(line, len, path, &val);
	if (err)
		return err;
	if (val.type != NDJSON_NUMBER)
		return -EPROTO;
	if (memchr(val.start, '.', val.len) || memchr(val.start, 'e', val.len) ||
	    memchr(val.start, 'E', val.len))
		return -EPROTO;
	/* 20 digits and a sign hold any 64-bit integer. */
	if (val.len >= size)
		return -ERANGE;
	memcpy(buf, val.start, val.len);
	buf[val.len] = '\0';
	return 0;
}

int ndjson__get_i64(const char *line, size_t len, const char *path,
		    int64_t *out)
{
	char buf[24];
	long long v;
	int err;

	err = int_token(line, len, path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	v = strtoll(buf, NULL, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

int ndjson__get_u64(const char *line, size_t len, const char *path,
		    uint64_t *out)
{
	unsigned long long v;
	char buf[24];
	int err;

	err = int_token(line, len, path, buf, sizeof(buf));
	if (err)
		return err;
	/* strtoull would silently negate "-1". */
	if (buf[0] == '-')
		return -ERANGE;
	errno = 0;
	v = strtoull(buf, NULL, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

int ndjson__get_str(const char *line, size_t len, const char *path,
		    char *out, size_t size)
{
	struct ndjson_value val;
	int err;

	err = ndjson__find(line, len, path, &val);
	if (err)
		return err;
	if (val.type != NDJSON_STRING)
		return -EPROTO;
	return decode_string(val.start + 1, val.len - 2, out, size);
}

int ndjson__str_eq(const char *line, size_t len, const char *path,
		   const char *want, bool *eq)
{
	struct ndjson_value val;
	char *buf;
	size_t size;
	int err;

	err = ndjson__find(line, len, path, &val);
	if (err)
		return err;
	if (val.type != NDJSON_STRING)
		return -EPROTO;
	/* Decoding never makes a string longer than its escaped form. */
	size = val.len;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	err = decode_string(val.start + 1, val.len - 2, buf, size);
	if (!err)
		*eq = !strcmp(buf, want);
	free(buf);
	return err;
}
