/*
 * textout.h - the verdict for people: the lines that end the text report and go to stderr
 * in CI runs, and GitHub Actions annotations.
 */
#ifndef TCPSTATE_TEXTOUT_H
#define TCPSTATE_TEXTOUT_H

#include <stdbool.h>
#include <stdio.h>

#include "tcpstate/conn.h"
#include "tcpstate/policy.h"

/*
 * "PREFIXverdict: PASS|FAIL (n of m rules violated)" and one line per
 * violated rule naming its first offenders.  `colour` adds ANSI colour.
 */
void tcpst_text_verdict(FILE *out, const char *prefix, const tcpst_policy *p, bool colour);

/*
 * GitHub Actions workflow commands: one "::error title=...::..." line per
 * offending connection of each violated rule, so the run page shows them.
 */
void tcpst_text_annotations(FILE *out, const tcpst_policy *p);

#endif
