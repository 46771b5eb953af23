/* SPDX-License-Identifier: GPL-2.0 */
/*
 * racewatch -- CMD ARGS...: the command that a run wraps (README "Wrapping
 * a command"). It starts once every hook is attached, in a process group
 * of its own, which gets the terminal when racewatch had it; racewatch
 * stops when it exits and takes its status.
 */
#ifndef RACEWATCH_COMMAND_H
#define RACEWATCH_COMMAND_H

#include <stdbool.h>
#include <sys/types.h>

struct command {
	pid_t pid;		/* also its process group; 0: none running */
	bool terminal;		/* it was given stdin's terminal */
	int status;		/* as a shell reports it, once reaped */
};

/* Fork and exec argv[0] (PATH searched) in a new process group. A command
 * that cannot be run exits 127 (not found) or 126, after one line on
 * stderr, as a shell's does. Returns 0 or -errno (fork failed). */
int command__start(struct command *c, char *const argv[]);

/* Send sig to the command's process group while it runs (async-signal
 * safe); false when none runs. */
bool command__forward(int sig);

/* true once the command has exited; then c->status holds its status.
 * Reaps it (no-hang unless wait). */
bool command__reap(struct command *c, bool wait);

/* The shell's status for a waitpid() status: the exit code, or 128 plus
 * the signal that killed it. */
int command__shell_status(int wstatus);

/*
 * racewatch's exit status for a run that wrapped a command: its own
 * failure first (err, anything but 0), then RW_EXIT_RACES when
 * --fail-on-race saw a race, then the command's status.
 */
int command__exit_status(int err, bool races_fail, int cmd_status);

#endif /* RACEWATCH_COMMAND_H */
