/* SPDX-License-Identifier: BSD-3-Clause */
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

/* An offender's first finding in words, naming the endpoint and, in live captures, its
 * process: "server 127.0.0.1:8080 (pid 1234 python3) stuck in CLOSE_WAIT for 3.2 s
 * (close_wait_stuck)". */
void tcpst_text_offender(const tcpst_offender *o, char *buf, size_t n);

/*
 * GitHub Actions workflow commands: one "::error title=...::..." line per
 * offending connection of each violated rule, so the run page shows them.
 */
void tcpst_text_annotations(FILE *out, const tcpst_policy *p);

#endif
