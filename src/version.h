/* SPDX-License-Identifier: GPL-2.0 */
/* racewatch --version: what a bug report needs to say which racewatch,
 * which libbpf, which record format, and what this kernel lets it attach. */
#ifndef RACEWATCH_VERSION_H
#define RACEWATCH_VERSION_H

#include <stdbool.h>
#include <stdio.h>

#define RACEWATCH_VERSION	"0.1"

/* Prints the lines (README "Usage"); the mechanisms only when privileged,
 * since probing fentry loads a program. Returns RW_EXIT_OK, or
 * RW_EXIT_FAILURE when out could not be written. */
int version__print(FILE *out, bool privileged);

#endif /* RACEWATCH_VERSION_H */
