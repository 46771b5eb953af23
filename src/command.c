// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/wait.h>
#include "cli.h"
#include "command.h"
#include "escape.h"

/* The group that signals go to; cleared before the command is reaped, so
 * that a reused process group id never gets one. */
static volatile pid_t forward_pgid;

/* stdin's terminal, if racewatch is its foreground job: then the command
 * takes it, so that Ctrl-C and terminal reads go to the command first. */
static bool own_terminal(void)
{
	return isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
}

/* tcsetpgrp() from a background group raises SIGTTOU: block it meanwhile. */
static void give_terminal(pid_t pgrp)
{
	sigset_t ttou, old;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	tcsetpgrp(STDIN_FILENO, pgrp);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void __attribute__((noreturn)) exec_child(char *const argv[], bool terminal)
{
	int err;

	setpgid(0, 0);
	if (terminal)
		give_terminal(getpid());
	/* racewatch ignores SIGPIPE (write errors come back as errors), and
	 * an ignored signal stays ignored across exec: not for the command. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	execvp(argv[0], argv);
	err = errno;
	{
		char esc[ESCAPE_TEXT_SIZE(256)];

		escape__text(esc, sizeof(esc), argv[0], 256);
		fprintf(stderr, "racewatch: failed to run '%s': %s\n", esc, strerror(err));
	}
	_exit(err == ENOENT ? 127 : 126);
}

int command__start(struct command *c, char *const argv[])
{
	bool terminal = own_terminal();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_child(argv, terminal);
	/* Both sides set the group, so that it exists before either goes on
	 * (the child may not have run yet when a signal is forwarded). */
	setpgid(pid, pid);
	forward_pgid = pid;
	c->pid = pid;
	c->terminal = terminal;
	c->status = 0;
	return 0;
}

int command__shell_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return RW_EXIT_FAILURE;
}

bool command__forward(int sig)
{
	pid_t pgid = forward_pgid;

	return pgid > 0 && !kill(-pgid, sig);
}

bool command__reap(struct command *c, bool wait)
{
	siginfo_t info = {};
	int wstatus, r;

	if (!c->pid)
		return true;
	/* Has it exited? Look without reaping: it holds its pid meanwhile. */
	do
		r = waitid(P_PID, c->pid, &info, WEXITED | WNOWAIT | (wait ? 0 : WNOHANG));
	while (r < 0 && errno == EINTR);
	if (r == 0 && info.si_pid == 0)
		return false;
	forward_pgid = 0;
	do
		r = waitpid(c->pid, &wstatus, 0);
	while (r < 0 && errno == EINTR);
	c->status = r == c->pid ? command__shell_status(wstatus) : RW_EXIT_FAILURE;
	c->pid = 0;
	if (c->terminal)
		give_terminal(getpgrp());
	return true;
}

int command__exit_status(int err, bool races_fail, int cmd_status)
{
	if (err)
		return err;
	if (races_fail)
		return RW_EXIT_RACES;
	return cmd_status;
}
