/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.h - the report: connection records, inputs, stats, summary and verdict, in one of
 * the output formats (json, text, ndjson; src/report/format.h).
 *
 * The report is a receiver of the engine (tcpst_report_receiver).  Records arrive in the
 * order connections end; the JSON and text reports list them in id order (= order of
 * first packet), so a record that ends before a lower id waits (src/report/order.h) and is
 * formatted only when every lower id has been written.  A file report is written to a
 * temporary file beside the target and renamed into place only when complete, so a
 * reader never sees a partial report under the final name.  NDJSON holds nothing: each
 * line is written and flushed as it happens, to the target itself (a reader knows the
 * stream is complete by its last, "summary", line).  Only the report layer includes
 * jansson.h.  The report judges nothing: findings, capture-wide findings and the verdict
 * come judged.
 */
#ifndef TCPSTATE_REPORT_H
#define TCPSTATE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tcpstate/capture.h"
#include "tcpstate/conn.h"
#include "tcpstate/engine.h"
#include "tcpstate/error.h"
#include "tcpstate/hostsock.h"
#include "tcpstate/policy.h"
#include "tcpstate/select.h"
#include "tcpstate/summary.h"

#define TCPST_SCHEMA_VERSION 1

typedef struct tcpst_report tcpst_report;

/* Is `name` an output format (--format)?  The formats are those of src/report/format.h. */
bool tcpst_report_format_known(const char *name);
/* --list-anomalies: a line per anomaly type (id, severity, meaning), or a JSON array with
 * each type's facts, evidence and causes; --explain ID: one type in full.  0, or an error
 * (an unknown id gets "did you mean ...?"). */
int tcpst_report_catalogue(FILE *out, bool json, tcpst_error *err);
int tcpst_report_explain(FILE *out, const char *id, tcpst_error *err);
/* The jansson this binary runs with (--version). */
const char *tcpst_report_jansson_version(void);
/* Does format `name` stream (write records as connections end, lines flushed at once)? */
bool tcpst_report_format_streams(const char *name);
/* The format names for a message: "'json', 'text' or 'ndjson'" (static). */
const char *tcpst_report_format_list(void);

/* Which connection records the report lists (summary and stats always count all). */
typedef enum tcpst_conns {
    TCPST_CONNS_ALL = 0,
    TCPST_CONNS_ANOMALOUS, /* with a finding of severity warning or error */
    TCPST_CONNS_NONE
} tcpst_conns;

typedef struct tcpst_report_opts {
    const char *format; /* a format name (tcpst_report_format_known); NULL: "json" */
    tcpst_conns which;
    bool pretty;          /* indent records (default: one record per line) */
    tcpst_policy *policy; /* borrowed: its verdict is written at the end; may be NULL */
    /* Records wait for lower ids (still open connections) in memory up to this many bytes,
     * then in an unlinked temporary file in $TMPDIR (or /tmp); 0: TCPST_PENDING_MEM_DEFAULT. */
    size_t pending_mem_max;
    /* Live: the host's sockets, whose process facts the records name (kept by the caller
     * until the report is finished); NULL offline. */
    const tcpst_hostsock *host;
    const tcpst_selection *select; /* --connection: the records listed; NULL or empty: all */
    unsigned columns;              /* text formats' width (COLUMNS, the terminal); 0: 100 */
    bool colour;                   /* ANSI colour (a terminal without NO_COLOR) */
    bool as_they_end; /* live: the text table's rows as connections end, not in id order */
    /* The engine's stats as they stand (borrowed; may be NULL): a header written with the
     * first record takes the capture's first packet time from it (conn.log's #open). */
    const tcpst_engine_stats *running;
} tcpst_report_opts;

#define TCPST_PENDING_MEM_DEFAULT ((size_t)8 << 20)

/* Facts about the run that are not per connection. */
typedef struct tcpst_report_meta {
    const tcpst_input_info *inputs; /* array of n_inputs */
    size_t n_inputs;
    const char *filter;    /* NULL if none */
    uint64_t filtered;     /* packets rejected by the filter */
    bool interrupted;      /* stopped by a signal before the end of input */
    const char *stop;      /* why reading stopped: "end_of_input", "signal", "duration", "count" */
    const char *interface; /* live capture: the interface; NULL offline */
    tcpst_capture_counters counters; /* live capture: libpcap's counters at the end */
    tcpst_time time_wait;
    const tcpst_summary_result *capture; /* capture-wide findings; NULL: none */
    const tcpst_capture_end *end;        /* when the capture ended; NULL: not decided */
    /* Packets the capture itself lost: pcapng ISB counters, or pcap_stats live. */
    bool drops_known;
    uint64_t dropped;
    const char *drops_source;   /* "pcapng-isb" or "live" (static) */
    bool truncated;             /* an input was cut short (damage, or a cut file) */
    const tcpst_hostsock *host; /* live: the host's sockets (stats.host_sockets); or NULL */
    char *const *command;       /* -- COMMAND: its argv (stats.command); or NULL */
    int command_status;         /* its exit status as a shell's; -1 while unknown */
} tcpst_report_meta;

/* A Wireshark display filter that selects exactly record c's frames (its two directions
 * and frame range): the record's "wireshark_filter". */
#define TCPST_WSFILTER_LEN (4 * TCPST_ADDR_STRLEN + 256)
void tcpst_report_wireshark_filter(const tcpst_conn *c, char *out, size_t n);

/* path NULL or "-" = standard output.  NDJSON to a file: written in place, not renamed.
 * An unknown format is TCPST_EUSAGE. */
__attribute__((warn_unused_result)) int tcpst_report_open(tcpst_report **out, const char *path,
                                                          const tcpst_report_opts *opts,
                                                          tcpst_error *err);

/* The report as an engine receiver: every record, and findings as they happen when the
 * format streams. */
tcpst_receiver tcpst_report_receiver(tcpst_report *r);

/* Add one finished record (matches tcpst_emit_fn; ctx is the report). */
void tcpst_report_conn(void *report, const tcpst_conn *c);

/* NDJSON only (no-op otherwise): an "anomaly" line (matches tcpst_anomaly_fn). */
void tcpst_report_anomaly(void *report, const tcpst_conn *c, const tcpst_finding *f,
                          tcpst_time now);

/* NDJSON only (no-op otherwise): a "stats" line at clock time `now`. */
void tcpst_report_stats(tcpst_report *r, tcpst_time now, const tcpst_engine_stats *st,
                        const tcpst_engine_open *open, const tcpst_capture_counters *cc);

/*
 * Write inputs, stats and summary (NDJSON: the "summary" line), then commit
 * the file.  meta->stop NULL reads as "signal" if interrupted, else
 * "end_of_input".  Frees the report.
 */
__attribute__((warn_unused_result)) int tcpst_report_finish(tcpst_report *r,
                                                            const tcpst_engine_stats *st,
                                                            const tcpst_report_meta *meta,
                                                            tcpst_error *err);

/* Drop everything (temporary file removed; NDJSON lines already written stay). Frees the report. */
void tcpst_report_discard(tcpst_report *r);

/* One record as compact JSON text (malloc'd; caller frees). For tests and tools. */
char *tcpst_report_conn_text(const tcpst_conn *c);

#endif
