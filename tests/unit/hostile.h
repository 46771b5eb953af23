/* SPDX-License-Identifier: GPL-2.0 */
/* Names a local user can give a task (prctl(PR_SET_NAME)), and how racewatch
 * must print them (README.md, "Output"). */
#ifndef RACEWATCH_HOSTILE_H
#define RACEWATCH_HOSTILE_H

/* r"d\ newline \x01 \xff \xfe: splits a line, quotes, bytes that are not UTF-8. */
#define HOSTILE		"r\"d\\\n\x01\xff\xfe"
#define HOSTILE_TEXT	"r\"d\\\\\\n\\x01\\xff\\xfe"
#define HOSTILE_JSON	"r\\\"d\\\\\\\\\\n\\u0001\\\\xff\\\\xfe"

/* An xterm title change (OSC ... BEL). */
#define OSC		"w\x1b]0;pwn\x07"
#define OSC_TEXT	"w\\x1b]0;pwn\\x07"
#define OSC_JSON	"w\\u001b]0;pwn\\u0007"

/* RIGHT-TO-LEFT OVERRIDE: valid UTF-8 that reorders what follows. */
#define RLO		"\xe2\x80\xae" "evil"
#define RLO_TEXT	"\\xe2\\x80\\xae" "evil"
#define RLO_JSON	"\\u202e" "evil"

#endif
