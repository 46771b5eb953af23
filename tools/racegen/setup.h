/* SPDX-License-Identifier: GPL-2.0 */
/* Creating and filling the file, and every resource a run holds. */
#ifndef RACEGEN_SETUP_H
#define RACEGEN_SETUP_H

#include "racegen.h"

/*
 * Create the file afresh, size the ranges, allocate the model and buffers,
 * map the file for the readers and fill it with stamps. Returns 0 or -errno
 * with a message on stderr; teardown() frees whatever was set up.
 */
int setup(struct gen *g);
void teardown(struct gen *g);

#endif /* RACEGEN_SETUP_H */
