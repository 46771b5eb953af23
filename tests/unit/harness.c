// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "harness.h"

struct harness harness;

void harness_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	harness.failures++;
}

void harness_suite(const char *suite)
{
	harness.suite = suite;
}

void harness_run(const char *name, void (*fn)(void))
{
	harness.test = name;
	harness.failures = 0;
	harness.skip_reason[0] = '\0';
	fn();
	fflush(stderr);
	if (harness.failures) {
		printf("FAIL unit/%s/%s: %d assertion(s) failed\n", harness.suite, name,
		       harness.failures);
		harness.failed++;
	} else if (harness.skip_reason[0]) {
		printf("SKIP unit/%s/%s: %s\n", harness.suite, name, harness.skip_reason);
		harness.skipped++;
	} else {
		printf("PASS unit/%s/%s\n", harness.suite, name);
		harness.passed++;
	}
	fflush(stdout);
}

const char *harness_fixture(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s",
		 getenv("RW_FIXTURES") ? getenv("RW_FIXTURES") : "tests/unit/fixtures", name);
	return path;
}
