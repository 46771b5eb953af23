/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NDJSON records on stdout: one start, one iter per invalidating call,
 * one summary. tools/racematch.c reads them; keep the fields stable.
 */
#ifndef RACEGEN_OUTPUT_H
#define RACEGEN_OUTPUT_H

#include <stdint.h>
#include "racegen.h"

void print_start(struct gen *g);
void print_iter(struct gen *g, const struct iter_rec *it);
void print_summary(struct gen *g, uint64_t elapsed, uint64_t reads);

#endif /* RACEGEN_OUTPUT_H */
