/*
 * textout.h - the human-readable output: one table row per connection and
 * the verdict lines.  The same verdict text goes to stderr in CI runs.
 */
#ifndef TCPSTATE_TEXTOUT_H
#define TCPSTATE_TEXTOUT_H

#include <stdbool.h>
#include <stdio.h>

#include "tcpstate/conn.h"
#include "tcpstate/policy.h"

/* Column titles, newline-terminated (static string). */
const char *tcpst_text_header(void);

/* One row for a connection, newline-terminated; malloc'd, caller frees; NULL on ENOMEM. */
char *tcpst_text_conn(const tcpst_conn *c);

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
