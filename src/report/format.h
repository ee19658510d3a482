/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * format.h - the output format interface.  Private to the report layer.
 *
 * A format writes a report over a sink (sink.h) in three steps: head, one record at a time,
 * tail; a streaming format (NDJSON) may also write findings and stats as they happen.  The
 * report (report.c) does the rest for every format: it picks the records (--connections),
 * puts them in id order unless the format streams, keeps the tallies, and opens and
 * commits the sink.  Adding a format is one file defining a tcpst__format and one row in
 * report.c's table.
 */
#ifndef TCPSTATE_REPORT_FORMAT_H
#define TCPSTATE_REPORT_FORMAT_H

#include <stdbool.h>

#include "doc.h"
#include "jsonw.h"
#include "sink.h"
#include "tcpstate/report.h"

/* What a format writes with. */
typedef struct tcpst__out {
    tcpst__sink *sink;
    tcpst_jw *jw; /* a JSON writer, reused from record to record */
    const tcpst_report_opts *opts;
    const tcpst__tallies *tallies; /* tallies->written: records written before this one */
} tcpst__out;

typedef struct tcpst__format {
    const char *name; /* the --format value */
    bool streams;     /* records as they end, each line flushed at once; nothing held */
    /* Before the first record, written when the first record or the tail comes, so that a
     * run that fails before any result writes nothing.  May be NULL. */
    void (*head)(tcpst__out *o);
    /* One record, in id order (or as it ends, when streaming).  False if it could not be
     * written (the error is in the sink). */
    bool (*record)(tcpst__out *o, const tcpst_conn *c);
    /* Streaming only, may be NULL: a finding as it happens, stats at clock time `now`. */
    void (*anomaly)(tcpst__out *o, const tcpst_conn *c, const tcpst_finding *f, tcpst_time now);
    void (*stats)(tcpst__out *o, tcpst_time now, const tcpst_engine_stats *st,
                  const tcpst_engine_open *open, const tcpst_capture_counters *cc);
    /* Optional, for views of single connections: every segment as it is applied (the
     * record's states are those it left), and a record the report does not list, so that
     * what was kept for it can go. */
    void (*segment)(tcpst__out *o, const tcpst_conn *c, unsigned from, const tcpst_segment *seg,
                    tcpst_time ts, uint64_t frame);
    void (*forget)(tcpst__out *o, const tcpst_conn *c);
    /* After the last record: what the run found. */
    void (*tail)(tcpst__out *o, const tcpst__run_end *e);
} tcpst__format;

extern const tcpst__format tcpst__format_json;
extern const tcpst__format tcpst__format_text;
extern const tcpst__format tcpst__format_ndjson;
extern const tcpst__format tcpst__format_zeek;
extern const tcpst__format tcpst__format_csv;
extern const tcpst__format tcpst__format_ladder;
extern const tcpst__format tcpst__format_html;

#endif
