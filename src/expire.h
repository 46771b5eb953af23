/* SPDX-License-Identifier: GPL-2.0 */
/* Releasing BPF's state of an operation that userspace gave up on. */
#ifndef RACEWATCH_EXPIRE_H
#define RACEWATCH_EXPIRE_H

#include <stdbool.h>
#include "racewatch.h"

struct racewatch_bpf;

/*
 * The operation never returned (its kretprobe missed, or its task is stuck
 * in the kernel): drop its entry from the ops or invals map and its
 * reference on the inode's window, so that the hot path goes idle again
 * and the maps do not fill over days. Returns true when BPF still held it.
 */
bool expire__release(struct racewatch_bpf *skel, const struct rw_op_begin *op);

#endif /* RACEWATCH_EXPIRE_H */
