/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stamped pattern, and the in-memory model of what every page of the
 * file must hold.
 */
#ifndef RACEGEN_MODEL_H
#define RACEGEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "racegen.h"

/* n bytes of a page read back; n < PG means the read came up short. */
bool page_matches(const char *p, size_t n, uint64_t stamp);

/* Fill len bytes (whole pages) of buf with fresh stamps, not yet in the
 * model; returns the first. */
uint64_t stamp_buffer(struct gen *g, char *buf, uint64_t len);

/*
 * Write fresh stamps over [off, off + len), both page aligned, and record
 * them in the model. Returns 0 or -errno.
 */
int write_stamped(struct gen *g, uint64_t off, uint64_t len);

/* Make the model say what the file holds after a successful call. */
void model_apply(struct model *m, const struct iter_rec *it);

#endif /* RACEGEN_MODEL_H */
