/* SPDX-License-Identifier: GPL-2.0 */
/* One iteration: one invalidating call, raced by the readers, then checked. */
#ifndef RACEGEN_ITER_H
#define RACEGEN_ITER_H

#include "racegen.h"

/*
 * Choose, evict, call, check and restore, then print the iter record.
 * Returns 0, or -errno when the run cannot go on.
 */
int iterate(struct gen *g);

#endif /* RACEGEN_ITER_H */
