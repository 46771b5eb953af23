/* SPDX-License-Identifier: GPL-2.0 */
/* Decoding ring buffer records (include/racewatch.h) defensively. */
#ifndef RACEWATCH_EVENTS_H
#define RACEWATCH_EVENTS_H

#include <stddef.h>
#include "racewatch.h"

union rw_record {
	struct rw_hdr hdr;
	struct rw_op_begin op_begin;
	struct rw_inval_begin inval_begin;
	struct rw_inval_end inval_end;
	struct rw_block_free block_free;
	struct rw_op_end op_end;
	struct rw_insert insert;
	struct rw_delete del;
	struct rw_page_state page;
	struct rw_followup followup;
};

/*
 * Copy one record out of the ring buffer into *out. Returns 0, or -EINVAL
 * when the buffer is shorter than a header, the type is unknown, or the
 * size the record claims differs from what this build expects for its type
 * (a BPF object from another ABI version).
 */
int events__decode(const void *data, size_t size, union rw_record *out);

/* "op_begin", "insert"...: the names the summary and -v use; "?" if unknown. */
const char *events__type_name(unsigned int type);

#endif /* RACEWATCH_EVENTS_H */
