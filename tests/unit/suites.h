/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RACEWATCH_SUITES_H
#define RACEWATCH_SUITES_H

void suite_engine(void);
void suite_plan(void);
void suite_report(void);
void suite_escape(void);
void suite_events(void);
void suite_ksyms(void);
void suite_cli(void);
void suite_devmap(void);
void suite_op_range(void);
void suite_hash(void);
void suite_rates(void);
void suite_losses(void);
void suite_verdict(void);
void suite_errname(void);
void suite_modbtf(void);
void suite_command(void);
void suite_testtag(void);

#endif
