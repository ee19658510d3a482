/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * doc.h - the parts of a report that are not connection records, as jansson trees: the
 * inputs, the stats, the summary and the verdict, and NDJSON's stats lines.  Private to the
 * report layer; the JSON and NDJSON formats write the same trees (doc.c).
 */
#ifndef TCPSTATE_REPORT_DOC_H
#define TCPSTATE_REPORT_DOC_H

#include <jansson.h>
#include <stdbool.h>

#include "tcpstate/report.h"
#include "tcpstate/summary.h"
#include "tcpstate/zeekcompat.h"

/* Counts over every record written out, whatever --connections lists. */
typedef struct tcpst__tallies {
    uint64_t written; /* records the report listed */
    uint64_t final_pairs[TCPST_STATE__COUNT][TCPST_STATE__COUNT];
    uint64_t zeek_counts[TCPST_ZCS__COUNT];
    uint64_t roles_inferred;
    uint64_t anomaly_counts[TCPST_A__COUNT]; /* findings per type */
    uint64_t anomaly_conns[3];               /* connections by highest severity */
    uint64_t announced[TCPST_A__COUNT];      /* NDJSON: anomaly lines written, per type */
} tcpst__tallies;

/* What the end of a report writes about the run. */
typedef struct tcpst__run_end {
    const tcpst_engine_stats *stats;
    const tcpst_report_meta *meta;
    const tcpst__tallies *tallies;
    const tcpst_summary_result *capture; /* capture-wide findings */
    tcpst_policy *policy;                /* may be NULL; its offenders get sorted by id */
    bool stream;                         /* NDJSON: the stats also count the anomaly lines */
} tcpst__run_end;

/* New references; NULL only on out-of-memory. */
json_t *tcpst__doc_inputs(const tcpst_report_meta *m);
json_t *tcpst__doc_stats(const tcpst__run_end *e);
json_t *tcpst__doc_summary(const tcpst__run_end *e);
json_t *tcpst__doc_verdict(tcpst_policy *p);

/* An object whose first member is "type": what an NDJSON line is. */
json_t *tcpst__doc_typed(const char *type);

/* NDJSON's "stats" line at clock time `now` (open and cc may be NULL). */
json_t *tcpst__doc_stats_line(tcpst_time now, const tcpst_engine_stats *st,
                              const tcpst_engine_open *open, const tcpst_capture_counters *cc,
                              const tcpst__tallies *t);

#endif
