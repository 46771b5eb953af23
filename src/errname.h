/* SPDX-License-Identifier: GPL-2.0 */
/* errno values by name, the kernel's internal ones too. */
#ifndef RACEWATCH_ERRNAME_H
#define RACEWATCH_ERRNAME_H

#include <stddef.h>

/* "ENOSPC" for ENOSPC, "ENOTSUPP" for 524; NULL for a value it lacks. */
const char *errname__name(int err);

/*
 * One phrase for a diagnostic: "No space left on device (ENOSPC)", or for
 * the kernel's internal values, which libc calls "Unknown error 524",
 * "ENOTSUPP (kernel-internal errno 524)". Written to buf, returned.
 */
const char *errname__describe(int err, char *buf, size_t len);

#endif /* RACEWATCH_ERRNAME_H */
