/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stale-data oracle, run after every successful call once the model has
 * been updated, and the restore that readies the file for the next call.
 */
#ifndef RACEGEN_ORACLE_H
#define RACEGEN_ORACLE_H

#include "racegen.h"

/*
 * Read the pages the call affected back through the page cache and count
 * in *it those that disagree with the model (stale) and those the disk,
 * read with O_DIRECT, agrees with (confirmed). Returns 0 or -errno.
 */
int oracle(struct gen *g, struct iter_rec *it);

/* Stamp zeroed and stale pages afresh and restore the configured size. */
int restore(struct gen *g, const struct iter_rec *it);

#endif /* RACEGEN_ORACLE_H */
