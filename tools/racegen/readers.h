/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reader threads: they re-read the range the next call drops, so that page
 * cache inserts race the invalidation.
 */
#ifndef RACEGEN_READERS_H
#define RACEGEN_READERS_H

#include <signal.h>
#include <stdint.h>
#include "racegen.h"

/* SIGBUS handler (SA_SIGINFO | SA_NODEFER) for the readers' mapped reads. */
void on_sigbus(int sig, siginfo_t *info, void *uctx);

/* Tell the readers which bytes the next call drops: [off, end). */
void publish_range(struct gen *g, uint64_t off, uint64_t end);

int start_readers(struct gen *g);
/* Stop and join every reader; returns the reads they did in all. */
uint64_t stop_readers(struct gen *g);
void free_readers(struct gen *g);

#endif /* RACEGEN_READERS_H */
