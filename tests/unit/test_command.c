// SPDX-License-Identifier: GPL-2.0
/* racewatch -- CMD: the exit status (README "Wrapping a command"). */
#include "cli.h"
#include "command.h"
#include "harness.h"
#include "suites.h"

/* waitpid() statuses, as the kernel encodes them (wait(2)). */
#define EXITED(code)	((code) << 8)
#define KILLED(sig)	(sig)

static void test_shell_status(void)
{
	ASSERT_EQ(command__shell_status(EXITED(0)), 0, "exit 0");
	ASSERT_EQ(command__shell_status(EXITED(7)), 7, "exit 7");
	ASSERT_EQ(command__shell_status(EXITED(3)), 3, "exit 3, as a race would be");
	ASSERT_EQ(command__shell_status(KILLED(15)), 143, "killed by SIGTERM");
	ASSERT_EQ(command__shell_status(KILLED(9)), 137, "killed by SIGKILL");
}

/* racewatch's own failure, then --fail-on-race, then the command. */
static void test_command_exit_status(void)
{
	ASSERT_EQ(command__exit_status(0, false, 0), 0, "all well");
	ASSERT_EQ(command__exit_status(0, false, 7), 7, "the command's status");
	ASSERT_EQ(command__exit_status(0, true, 7), RW_EXIT_RACES, "a race over the command's failure");
	ASSERT_EQ(command__exit_status(0, true, 0), RW_EXIT_RACES, "a race over its success");
	ASSERT_EQ(command__exit_status(RW_EXIT_FAILURE, true, 7), RW_EXIT_FAILURE,
		  "racewatch's failure over both");
	ASSERT_EQ(command__exit_status(RW_EXIT_BROKEN_PIPE, false, 0), RW_EXIT_BROKEN_PIPE,
		  "a closed pipe over the command's success");
	ASSERT_EQ(command__exit_status(0, false, 143), 143, "the command killed by SIGTERM");
}

void suite_command(void)
{
	harness_suite("command");
	RUN(test_shell_status);
	RUN(test_command_exit_status);
}
