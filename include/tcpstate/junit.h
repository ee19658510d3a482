/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * junit.h - JUnit XML for CI test reporters (GitLab, Jenkins, GitHub).
 *
 * One testsuite per --fail-on rule, one testcase per checked connection; a
 * connection fails a rule's testcase when the rule is violated and the
 * connection has a matching finding, and the failure carries the evidence
 * frames.  Connections are remembered compactly as they finish (bounded: past
 * TCPST_JUNIT_MAX_CONNS they are counted and summarised in one testcase).
 * The file is written atomically like the report.
 */
#ifndef TCPSTATE_JUNIT_H
#define TCPSTATE_JUNIT_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstate/conn.h"
#include "tcpstate/error.h"
#include "tcpstate/policy.h"

#define TCPST_JUNIT_MAX_CONNS 20000

typedef struct tcpst_junit_finding {
    uint8_t type, who, nframes;
    uint64_t frames[4];
} tcpst_junit_finding;

typedef struct tcpst_junit_conn {
    tcpst_conn_ref ref;
    uint8_t state[2];
    uint64_t first_frame, last_frame;
    uint64_t rules; /* bit i: the connection matched policy rule i */
    uint8_t nf;
    tcpst_junit_finding f[TCPST_FINDINGS_MAX];
} tcpst_junit_conn;

typedef struct tcpst_junit {
    const tcpst_policy *policy; /* borrowed: the rules, one testsuite each */
    tcpst_junit_conn *v;
    size_t n, cap;
    uint64_t not_listed; /* connections beyond TCPST_JUNIT_MAX_CONNS */
} tcpst_junit;

void tcpst_junit_init(tcpst_junit *j, const tcpst_policy *policy);
void tcpst_junit_fini(tcpst_junit *j);

/* Remember a finished connection and the rules it matched (tcpst_policy_match). */
void tcpst_junit_add(tcpst_junit *j, const tcpst_conn *c, uint64_t rules);

/* JUnit as an engine receiver: every record is remembered with the rules it matched. */
tcpst_receiver tcpst_junit_receiver(tcpst_junit *j);

/* Write the XML to `path` atomically (src/report/sink.h), once the verdict is known. */
__attribute__((warn_unused_result)) int tcpst_junit_write(tcpst_junit *j, const char *path,
                                                          tcpst_error *err);

/* XML-escape `s` into out (always NUL-terminated). For tests. */
void tcpst_xml_escape(const char *s, char *out, size_t n);

#endif
