// SPDX-License-Identifier: GPL-2.0
/* The escaper against golden strings: every byte value, UTF-8 edge cases. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "harness.h"
#include "hostile.h"
#include "suites.h"

static char buf[4096];

static const char *text(const char *s, size_t n)
{
	escape__text(buf, sizeof(buf), s, n);
	return buf;
}

static const char *json(const char *s, size_t n)
{
	escape__json(buf, sizeof(buf), s, n);
	return buf;
}

static void test_hostile(void)
{
	ASSERT_STREQ(text(HOSTILE, 16), HOSTILE_TEXT, "text");
	ASSERT_STREQ(json(HOSTILE, 16), HOSTILE_JSON, "json");
	ASSERT_STREQ(text(OSC, 16), OSC_TEXT, "text, terminal title");
	ASSERT_STREQ(json(OSC, 16), OSC_JSON, "json, terminal title");
	ASSERT_STREQ(text(RLO, 16), RLO_TEXT, "text, bidi override");
	ASSERT_STREQ(json(RLO, 16), RLO_JSON, "json, bidi override");
}

static void all_bytes(char *s)
{
	for (int i = 1; i < 256; i++)
		s[i - 1] = i;
	s[255] = '\0';
}

/* Bytes 0x01..0xff in a row; 0x80 and up never form valid UTF-8 there. */
static void test_all_bytes_text(void)
{
	static const char want[] =
	"\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e"
	"\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a"
	"\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDE"
	"FGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	"\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a"
	"\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96"
	"\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2"
	"\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae"
	"\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba"
	"\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6"
	"\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2"
	"\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde"
	"\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea"
	"\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6"
	"\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff";
	char s[256];

	all_bytes(s);
	ASSERT_STREQ(text(s, sizeof(s)), want, "bytes 0x01..0xff");
	ASSERT_EQ(escape__text(buf, sizeof(buf), s, sizeof(s)), sizeof(want) - 1, "length");
	ASSERT_STREQ(text("ab\0cd", 5), "ab", "a NUL ends the name");
	ASSERT_STREQ(text("abcd", 2), "ab", "at most n bytes");
}

static void test_all_bytes_json(void)
{
	static const char want[] =
	"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\u0008\\t\\n"
	"\\u000b\\u000c\\u000d\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013"
	"\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
	"\\u001d\\u001e\\u001f !\\\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFG"
	"HIJKLMNOPQRSTUVWXYZ[\\\\\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	"\\u007f\\\\x80\\\\x81\\\\x82\\\\x83\\\\x84\\\\x85\\\\x86\\\\x87"
	"\\\\x88\\\\x89\\\\x8a\\\\x8b\\\\x8c\\\\x8d\\\\x8e\\\\x8f\\\\x90"
	"\\\\x91\\\\x92\\\\x93\\\\x94\\\\x95\\\\x96\\\\x97\\\\x98\\\\x99"
	"\\\\x9a\\\\x9b\\\\x9c\\\\x9d\\\\x9e\\\\x9f\\\\xa0\\\\xa1\\\\xa2"
	"\\\\xa3\\\\xa4\\\\xa5\\\\xa6\\\\xa7\\\\xa8\\\\xa9\\\\xaa\\\\xab"
	"\\\\xac\\\\xad\\\\xae\\\\xaf\\\\xb0\\\\xb1\\\\xb2\\\\xb3\\\\xb4"
	"\\\\xb5\\\\xb6\\\\xb7\\\\xb8\\\\xb9\\\\xba\\\\xbb\\\\xbc\\\\xbd"
	"\\\\xbe\\\\xbf\\\\xc0\\\\xc1\\\\xc2\\\\xc3\\\\xc4\\\\xc5\\\\xc6"
	"\\\\xc7\\\\xc8\\\\xc9\\\\xca\\\\xcb\\\\xcc\\\\xcd\\\\xce\\\\xcf"
	"\\\\xd0\\\\xd1\\\\xd2\\\\xd3\\\\xd4\\\\xd5\\\\xd6\\\\xd7\\\\xd8"
	"\\\\xd9\\\\xda\\\\xdb\\\\xdc\\\\xdd\\\\xde\\\\xdf\\\\xe0\\\\xe1"
	"\\\\xe2\\\\xe3\\\\xe4\\\\xe5\\\\xe6\\\\xe7\\\\xe8\\\\xe9\\\\xea"
	"\\\\xeb\\\\xec\\\\xed\\\\xee\\\\xef\\\\xf0\\\\xf1\\\\xf2\\\\xf3"
	"\\\\xf4\\\\xf5\\\\xf6\\\\xf7\\\\xf8\\\\xf9\\\\xfa\\\\xfb\\\\xfc"
	"\\\\xfd\\\\xfe\\\\xff";
	char s[256];

	all_bytes(s);
	ASSERT_STREQ(json(s, sizeof(s)), want, "bytes 0x01..0xff");
	ASSERT_EQ(escape__json(buf, sizeof(buf), s, sizeof(s)), sizeof(want) - 1, "length");
	ASSERT_STREQ(json("ab\0cd", 5), "ab", "a NUL ends the name");
}

/* Each byte alone: 0x80 and up are never valid UTF-8 by themselves. */
static void test_single_bytes(void)
{
	char want[8];
	int bad = 0;

	for (int c = 0x80; c < 0x100; c++) {
		char s[2] = { c, 0 };

		snprintf(want, sizeof(want), "\\x%02x", c);
		bad += strcmp(text(s, 2), want) != 0;
		snprintf(want, sizeof(want), "\\\\x%02x", c);
		bad += strcmp(json(s, 2), want) != 0;
	}
	ASSERT_EQ(bad, 0, "bytes 0x80..0xff alone, text and json");
}

static void test_utf8_valid(void)
{
	/* é € 😀 U+10FFFF U+00A0: readable in JSON, bytes in text. */
	ASSERT_STREQ(json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xc2\xa0", 16),
		     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xc2\xa0", "json passes");
	ASSERT_STREQ(text("\xc3\xa9\xe2\x82\xac", 16), "\\xc3\\xa9\\xe2\\x82\\xac", "text escapes");
	/* Edges of each length class. */
	ASSERT_STREQ(json("\xc2\xa0\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80", 16),
		     "\xc2\xa0\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80", "edges");
	ASSERT_STREQ(json("\xf0\x90\x80\x80\xf3\xbf\xbf\xbf", 16),
		     "\xf0\x90\x80\x80\xf3\xbf\xbf\xbf", "4-byte edges");
}

static void test_utf8_hidden(void)
{
	/* C1 controls: valid UTF-8, but terminals act on them. */
	ASSERT_STREQ(json("a\xc2\x80\xc2\x9b" "b\xc2\x9f", 16), "a\\u0080\\u009bb\\u009f", "C1");
	ASSERT_STREQ(json("\x7f", 16), "\\u007f", "DEL");
	/* RLO, LRI..PDI, ALM, LRM, RLM, LS, PS. */
	ASSERT_STREQ(json("\xe2\x80\xae\xe2\x81\xa6\xe2\x81\xa9", 16),
		     "\\u202e\\u2066\\u2069", "bidi overrides and isolates");
	ASSERT_STREQ(json("\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f", 16),
		     "\\u061c\\u200e\\u200f", "bidi marks");
	ASSERT_STREQ(json("\xe2\x80\xa8\xe2\x80\xa9", 16), "\\u2028\\u2029", "separators");
	ASSERT_STREQ(json("\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5", 16),
		     "\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5", "neighbours pass");
}

static void test_utf8_invalid(void)
{
	ASSERT_STREQ(json("\xc0\xaf", 16), "\\\\xc0\\\\xaf", "overlong 2-byte '/'");
	ASSERT_STREQ(json("\xc1\xbf", 16), "\\\\xc1\\\\xbf", "overlong 2-byte");
	ASSERT_STREQ(json("\xc0\x80", 16), "\\\\xc0\\\\x80", "overlong NUL");
	ASSERT_STREQ(json("\xe0\x80\xaf", 16), "\\\\xe0\\\\x80\\\\xaf", "overlong 3-byte");
	ASSERT_STREQ(json("\xe0\x9f\xbf", 16), "\\\\xe0\\\\x9f\\\\xbf", "overlong 3-byte, top");
	ASSERT_STREQ(json("\xf0\x80\x80\xaf", 16), "\\\\xf0\\\\x80\\\\x80\\\\xaf", "overlong 4-byte");
	ASSERT_STREQ(json("\xf0\x8f\xbf\xbf", 16), "\\\\xf0\\\\x8f\\\\xbf\\\\xbf", "overlong 4-byte, top");
	ASSERT_STREQ(json("\xed\xa0\x80", 16), "\\\\xed\\\\xa0\\\\x80", "high surrogate");
	ASSERT_STREQ(json("\xed\xbf\xbf", 16), "\\\\xed\\\\xbf\\\\xbf", "low surrogate");
	ASSERT_STREQ(json("\xf4\x90\x80\x80", 16), "\\\\xf4\\\\x90\\\\x80\\\\x80", "above U+10FFFF");
	ASSERT_STREQ(json("\xf5\x80\x80\x80", 16), "\\\\xf5\\\\x80\\\\x80\\\\x80", "F5 lead");
	ASSERT_STREQ(json("\x80" "a\xbf", 16), "\\\\x80a\\\\xbf", "lone continuations");
	ASSERT_STREQ(json("\xe2\x82" "a", 16), "\\\\xe2\\\\x82a", "cut by ASCII");
	ASSERT_STREQ(json("\xe2\xc3\xa9", 16), "\\\\xe2\xc3\xa9", "cut by a valid sequence");
	ASSERT_STREQ(json("\xf0\x9f\x98", 16), "\\\\xf0\\\\x9f\\\\x98", "cut by the end");
}

/* A comm is 16 bytes: the kernel cuts long names without regard to UTF-8. */
static void test_comm_cut(void)
{
	/* 14 ASCII + the first two bytes of "€", no NUL: n is the bound. */
	char comm[16] = "abcdefghijklmn\xe2\x82";

	ASSERT_STREQ(json(comm, sizeof(comm)), "abcdefghijklmn\\\\xe2\\\\x82", "json, no NUL");
	ASSERT_STREQ(text(comm, sizeof(comm)), "abcdefghijklmn\\xe2\\x82", "text, no NUL");
	/* What prctl(PR_SET_NAME) leaves: 15 bytes and a NUL. */
	memcpy(comm, "abcdefghijklm\xf0\x9f\0", 16);
	ASSERT_STREQ(json(comm, sizeof(comm)), "abcdefghijklm\\\\xf0\\\\x9f", "json, NUL");
	/* The bytes after the bound are never read as part of a sequence. */
	ASSERT_STREQ(json("\xc3\xa9", 1), "\\\\xc3", "bound inside a sequence");
}

static void test_small_buffer(void)
{
	char small[8];

	/* "a\x01b" needs 6 bytes: with 5, never half an escape. */
	ASSERT_EQ(escape__text(small, 5, "a\x01" "b", 16), 6, "needed length");
	ASSERT_STREQ(small, "a", "whole escapes only");
	ASSERT_EQ(escape__text(small, 6, "a\x01" "b", 16), 6, "needed length, just short");
	ASSERT_STREQ(small, "a\\x01", "no shorter unit after a gap");
	ASSERT_EQ(escape__text(small, 7, "a\x01" "b", 16), 6, "fits");
	ASSERT_STREQ(small, "a\\x01b", "fits exactly");
	ASSERT_EQ(escape__json(NULL, 0, "\\", 16), 4, "length only");
	ASSERT_EQ(escape__text(NULL, 0, "\\", SIZE_MAX), 2, "unbounded input");
	/* Worst cases fit the documented sizes. */
	ASSERT_EQ(escape__json(buf, sizeof(buf), "\x01\x01", 16) + 1, ESCAPE_JSON_SIZE(2), "json worst");
	ASSERT_EQ(escape__text(buf, sizeof(buf), "\x01\x01", 16) + 1, ESCAPE_TEXT_SIZE(2), "text worst");
}

/* A key=value value: the text rule, and the space too, so that a parser
 * splitting the line on spaces gets each value whole. */
static void test_token(void)
{
	escape__token(buf, sizeof(buf), "rg reader=0", 16);
	ASSERT_STREQ(buf, "rg\\x20reader=0", "space escaped");
	escape__token(buf, sizeof(buf), HOSTILE, 16);
	ASSERT_STREQ(buf, HOSTILE_TEXT, "otherwise the text rule");
	escape__token(buf, sizeof(buf), "a b\\", 16);
	ASSERT_EQ(strchr(buf, ' ') == NULL, 1, "no space left");
	ASSERT_EQ(escape__token(NULL, 0, " ", 16) + 1, ESCAPE_TEXT_SIZE(1), "worst case fits");
}

void suite_escape(void)
{
	harness_suite("escape");
	RUN(test_hostile);
	RUN(test_all_bytes_text);
	RUN(test_all_bytes_json);
	RUN(test_single_bytes);
	RUN(test_utf8_valid);
	RUN(test_utf8_hidden);
	RUN(test_utf8_invalid);
	RUN(test_comm_cut);
	RUN(test_small_buffer);
	RUN(test_token);
}
