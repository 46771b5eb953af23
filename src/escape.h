/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Escaping of every string racewatch did not write itself: task names,
 * fs types, symbols, paths and arguments. A task picks its own name
 * (prctl(PR_SET_NAME)), so printed raw it could split a line, forge one, or
 * send control sequences to a terminal. The rule (README.md, "Output"): a
 * backslash always starts an escape, so every name is lossless and
 * unambiguous.
 */
#ifndef RACEWATCH_ESCAPE_H
#define RACEWATCH_ESCAPE_H

#include <stddef.h>

/* Room for the escaping of n input bytes, with the NUL. */
#define ESCAPE_TEXT_SIZE(n)	(4 * (n) + 1)	/* "\xNN" per byte */
#define ESCAPE_JSON_SIZE(n)	(6 * (n) + 1)	/* "\u00NN" per byte */

/*
 * Text: 0x20..0x7e pass, except '\' which becomes "\\"; "\n", "\t", "\r";
 * every other byte, 0x80 and above included, as "\xNN". Reads at most n
 * bytes of s, fewer at a NUL. Writes whole escapes only and always
 * terminates buf (size > 0). Returns the length the whole escaping needs,
 * as snprintf does: a result >= size means buf was too small.
 */
size_t escape__text(char *buf, size_t size, const char *s, size_t n);

/*
 * The text rule with the space escaped too ("\x20"): a value in a
 * space-separated key=value line (trace_marker lines), which a parser
 * splits on spaces. Same arguments and result as escape__text().
 */
size_t escape__token(char *buf, size_t size, const char *s, size_t n);

/*
 * The body of a JSON string (no quotes), always valid UTF-8 and JSON, whose
 * decoded value follows the text rule while keeping valid UTF-8 readable:
 * a '\' decodes to "\\", a byte that is not part of valid UTF-8 decodes to
 * the four characters "\xNN". Controls are JSON escapes. C1 controls, bidi
 * controls and U+2028/U+2029 are written as "\uXXXX": the decoded value
 * keeps them, but a terminal showing the raw NDJSON never acts on them.
 * Same arguments and result as escape__text().
 */
size_t escape__json(char *buf, size_t size, const char *s, size_t n);

#endif /* RACEWATCH_ESCAPE_H */
