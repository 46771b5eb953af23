// SPDX-License-Identifier: GPL-2.0
/*
 * One escaper for every output, as strace and ps have one: see escape.h
 * for the rule and README.md ("Output") for what users are promised.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "escape.h"

struct esc_buf {
	char *buf;
	size_t size;
	size_t used;		/* bytes written to buf */
	size_t len;		/* bytes the whole escaping needs */
	bool full;
};

/*
 * Whole units only: a cut "\x4" would read back as another name. After the
 * first unit that misses, nothing more is written, so no later, shorter
 * unit lands after a gap.
 */
static void put(struct esc_buf *b, const char *s, size_t n)
{
	if (!b->full && b->used + n < b->size) {
		memcpy(b->buf + b->used, s, n);
		b->used += n;
	} else {
		b->full = true;
	}
	b->len += n;
}

static void put_fmt(struct esc_buf *b, const char *fmt, unsigned int v)
{
	char unit[8];
	int n = snprintf(unit, sizeof(unit), fmt, v);

	put(b, unit, n);
}

static size_t finish(struct esc_buf *b)
{
	if (b->size)
		b->buf[b->used] = '\0';
	return b->len;
}

static size_t escape_text(char *buf, size_t size, const char *s, size_t n, bool token)
{
	struct esc_buf b = { .buf = buf, .size = size };
	size_t end = strnlen(s, n);

	for (size_t i = 0; i < end; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '\\':
			put(&b, "\\\\", 2);
			break;
		case '\n':
			put(&b, "\\n", 2);
			break;
		case '\t':
			put(&b, "\\t", 2);
			break;
		case '\r':
			put(&b, "\\r", 2);
			break;
		default:
			/* C1 controls (0x80..0x9f) and UTF-8 bidi overrides are
			 * bytes >= 0x80 too: terminals act on both. */
			if (c > (token ? 0x20 : 0x1f) && c < 0x7f)
				put(&b, (const char *)&c, 1);
			else
				put_fmt(&b, "\\x%02x", c);
		}
	}
	return finish(&b);
}

size_t escape__text(char *buf, size_t size, const char *s, size_t n)
{
	return escape_text(buf, size, s, n, false);
}

size_t escape__token(char *buf, size_t size, const char *s, size_t n)
{
	return escape_text(buf, size, s, n, true);
}

/*
 * Length of the valid UTF-8 sequence at s[0..avail), or 0 (RFC 3629,
 * Unicode table 3-7): no overlong forms, no surrogates, nothing above
 * U+10FFFF. *cp gets the code point.
 */
static size_t utf8_seq(const unsigned char *s, size_t avail, unsigned int *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	unsigned int v;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* below: overlong */
		if (c == 0xed)
			hi = 0x9f;	/* above: surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;	/* below: overlong */
		if (c == 0xf4)
			hi = 0x8f;	/* above: past U+10FFFF */
	} else {
		return 0;		/* continuation, C0/C1 (overlong), F5.. */
	}
	if (len > avail)
		return 0;		/* cut short, e.g. by a 16-byte comm */
	for (size_t i = 1; i < len; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

/* Valid, but shown as \uXXXX: terminals act on C1 controls, bidi controls
 * reorder what is shown (Trojan Source), U+2028/9 break lines in some tools. */
static bool json_hide(unsigned int cp)
{
	return (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

size_t escape__json(char *buf, size_t size, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	struct esc_buf b = { .buf = buf, .size = size };
	size_t end = strnlen(s, n);

	for (size_t i = 0; i < end; ) {
		unsigned int cp;
		size_t len = utf8_seq(u + i, end - i, &cp);

		if (!len) {
			/* Decodes to the four characters \xNN, as in text. */
			put_fmt(&b, "\\\\x%02x", u[i]);
			i++;
			continue;
		}
		if (cp == '\\')
			put(&b, "\\\\\\\\", 4);	/* decodes to \\ */
		else if (cp == '"')
			put(&b, "\\\"", 2);
		else if (cp == '\n')
			put(&b, "\\n", 2);
		else if (cp == '\t')
			put(&b, "\\t", 2);
		else if (cp < 0x20 || json_hide(cp))
			put_fmt(&b, "\\u%04x", cp);
		else
			put(&b, s + i, len);
		i += len;
	}
	return finish(&b);
}
