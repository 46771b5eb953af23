// SPDX-License-Identifier: GPL-2.0
/* Unit tests: no root, no BPF. Fixtures are found relative to argv[1]. */
#include <stdio.h>
#include <stdlib.h>
#include "harness.h"
#include "suites.h"

int main(int argc, char **argv)
{
	suite_verdict();
	suite_engine();
	suite_plan();
	suite_report();
	suite_escape();
	suite_events();
	suite_ksyms();
	suite_cli();
	suite_devmap();
	suite_op_range();
	suite_hash();
	suite_rates();
	suite_losses();
	suite_errname();
	suite_modbtf();
	suite_command();
	suite_testtag();
	fprintf(stderr, "unit: %d passed, %d failed, %d skipped\n",
		harness.passed, harness.failed, harness.skipped);
	return harness.failed ? 1 : 0;
}
