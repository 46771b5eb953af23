// SPDX-License-Identifier: GPL-2.0
/* errno names, the kernel-internal ones that libc's strerror() lacks. */
#include <errno.h>
#include "errname.h"
#include "harness.h"
#include "suites.h"

static void test_names(void)
{
	ASSERT_STREQ(errname__name(ENOSPC), "ENOSPC", "libc errno");
	ASSERT_STREQ(errname__name(524), "ENOTSUPP", "kernel-internal errno");
	ASSERT_STREQ(errname__name(512), "ERESTARTSYS", "restart");
	ASSERT_TRUE(errname__name(4000) == NULL, "unknown");
}

static void test_describe(void)
{
	char buf[64];

	ASSERT_STREQ(errname__describe(524, buf, sizeof(buf)),
		     "ENOTSUPP (kernel-internal errno 524)", "attach failure on 6.1");
	ASSERT_STREQ(errname__describe(EPERM, buf, sizeof(buf)),
		     "Operation not permitted (EPERM)", "libc's text and the name");
	ASSERT_STREQ(errname__describe(520, buf, sizeof(buf)),
		     "unnamed (kernel-internal errno 520)", "a gap in the kernel's list");
}

void suite_errname(void)
{
	harness_suite("errname");
	RUN(test_names);
	RUN(test_describe);
}
