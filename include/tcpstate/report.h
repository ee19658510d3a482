/*
 * report.h - the JSON report: connection records, inputs, stats, summary.
 *
 * Records arrive in the order connections end; the report lists them in id
 * order (= order of first packet), so each record is serialised at once and
 * held as text only until every lower id has been written.  A file report is
 * written to a temporary file beside the target and renamed into place only
 * when complete, so a reader never sees a partial report under the final
 * name.  Only this module and the policy-file loader include jansson.h.
 */
#ifndef TCPSTATE_REPORT_H
#define TCPSTATE_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "tcpstate/capture.h"
#include "tcpstate/conn.h"
#include "tcpstate/engine.h"
#include "tcpstate/error.h"
#include "tcpstate/junit.h"
#include "tcpstate/policy.h"

#define TCPST_SCHEMA_VERSION 1

typedef struct tcpst_report tcpst_report;

typedef enum tcpst_format { TCPST_FORMAT_JSON = 0, TCPST_FORMAT_TEXT } tcpst_format;

/* Which connection records the report lists (summary and stats always count all). */
typedef enum tcpst_conns {
    TCPST_CONNS_ALL = 0,
    TCPST_CONNS_ANOMALOUS, /* with a finding of severity warning or error */
    TCPST_CONNS_NONE
} tcpst_conns;

typedef struct tcpst_report_opts {
    tcpst_format format;
    tcpst_conns which;
    bool pretty;          /* indent records (default: one record per line) */
    tcpst_policy *policy; /* borrowed; every record is checked against it; may be NULL */
    tcpst_junit *junit;   /* borrowed; every record is remembered for it; may be NULL */
} tcpst_report_opts;

/* Facts about the run that are not per connection. */
typedef struct tcpst_report_meta {
    const tcpst_input_info *inputs; /* array of n_inputs */
    size_t n_inputs;
    const char *filter; /* NULL if none */
    uint64_t filtered;  /* packets rejected by the filter */
    bool interrupted;   /* stopped by a signal before the end of input */
    tcpst_time time_wait;
} tcpst_report_meta;

/* path NULL or "-" = standard output. */
__attribute__((warn_unused_result)) int tcpst_report_open(tcpst_report **out, const char *path,
                                                          const tcpst_report_opts *opts,
                                                          tcpst_error *err);

/* Add one finished record (matches tcpst_emit_fn; ctx is the report). */
void tcpst_report_conn(void *report, const tcpst_conn *c);

/* Write inputs, stats and summary, then commit the file. Frees the report. */
__attribute__((warn_unused_result)) int tcpst_report_finish(tcpst_report *r,
                                                            const tcpst_engine_stats *st,
                                                            const tcpst_report_meta *meta,
                                                            tcpst_error *err);

/* Drop everything (temporary file removed). Frees the report. */
void tcpst_report_discard(tcpst_report *r);

/* One record as compact JSON text (malloc'd; caller frees). For tests and tools. */
char *tcpst_report_conn_text(const tcpst_conn *c);

#endif
