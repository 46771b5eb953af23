/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The input format of tests/fuzz/fuzz_records.c, shared with mkseeds.c,
 * which writes seeds in it.
 *
 * Byte 0 holds the options (FZ_OPT_*). The rest is one of two streams:
 *
 * raw (FZ_OPT_STRUCTURED clear): items, each starting with a tag byte
 *   FZ_RAW_TICK    8 bytes follow: engine__tick(now), little endian
 *   FZ_RAW_FLUSH   engine__flush() in mid-stream
 *   FZ_RAW_SIZED   2 bytes of length (LE), then that many record bytes
 *   anything else  one record whose length is the size its own header
 *                  claims (hdr.size), as the ring buffer hands them over
 *   Records go through events__decode() first, so most mutations die
 *   there: that is the decoder's test.
 *
 * structured (FZ_OPT_STRUCTURED set): steps of three bytes, opcode and two
 *   parameter bytes, that build valid records from small alphabets, so that
 *   operation ids, inode keys, page indexes and timestamps collide. That is
 *   where the engine's bookkeeping gets exercised.
 *
 * The stream ends with engine__flush(), as racewatch's exit does, unless the
 * input's last byte is FZ_END_NOFLUSH: then the engine is freed with its
 * operations still open, as on an error path.
 */
#ifndef RACEWATCH_FUZZ_INPUT_H
#define RACEWATCH_FUZZ_INPUT_H

#define FZ_OPT_STRUCTURED	0x01
#define FZ_OPT_JSON		0x02	/* the report sink prints NDJSON */
#define FZ_OPT_VERBOSE		0x04	/* ... every window, not only races */
#define FZ_OPT_STACKS		0x08
#define FZ_OPT_FORGET		0x10	/* set engine_opts.on_forget */
#define FZ_OPT_GRACE(o)		(((o) >> 5) & 3)	/* index into fz_grace */
#define FZ_OPT_WITH_GRACE(g)	((g) << 5)
#define FZ_OPT_BLKBITS_SMALL	0x80	/* page_shift 16: blocks smaller than pages */

#define FZ_END_NOFLUSH		0xfe

#define FZ_RAW_TICK		0
#define FZ_RAW_FLUSH		1
#define FZ_RAW_SIZED		2
#define FZ_RAW_RECORD		3	/* any tag from here up */

/* Structured opcodes: byte % FZ_ST_MAX; FZ_ST_FLUSH only for 0xff and
 * FZ_ST_FOLLOWUP only for 0xfd, so that the committed inputs keep their
 * meaning (a new opcode below FZ_ST_MAX would renumber every step). */
enum fz_step {
	FZ_ST_OP_BEGIN,
	FZ_ST_INVAL_BEGIN,
	FZ_ST_INVAL_END,
	FZ_ST_BLOCK_FREE,
	FZ_ST_OP_END,
	FZ_ST_INSERT,
	FZ_ST_DELETE,
	FZ_ST_PAGE,
	FZ_ST_TICK,
	FZ_ST_MAX,
	FZ_ST_FOLLOWUP = 0xfd,
	FZ_ST_FLUSH = 0xff,
};

/*
 * Parameter byte p: op id (bits 0-1), inode key (2-3), task (4-5), the
 * record's timestamp jitter against the stream's clock (6-7).
 * Parameter byte q: page index (bits 0-2), second index or variant (3-5),
 * clock advance before the step (6-7).
 */
#define FZ_P_OP(p)		((p) & 3)
#define FZ_P_KEY(p)		(((p) >> 2) & 3)
#define FZ_P_TASK(p)		(((p) >> 4) & 3)
#define FZ_P_JITTER(p)		(((p) >> 6) & 3)
#define FZ_Q_INDEX(q)		((q) & 7)
#define FZ_Q_VARIANT(q)		(((q) >> 3) & 7)
#define FZ_Q_ADVANCE(q)		(((q) >> 6) & 3)

#define FZ_P(op, key, task, jitter) \
	((op) | (key) << 2 | (task) << 4 | (jitter) << 6)
#define FZ_Q(index, variant, advance) \
	((index) | (variant) << 3 | (advance) << 6)

#endif /* RACEWATCH_FUZZ_INPUT_H */
