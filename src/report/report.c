/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.c - the report receiver: picks the records to list, puts them in id order for
 * formats that do not stream, keeps the tallies, and drives a format (format.h) over a
 * sink (sink.h) from head to tail.
 *
 * The formats: one row each in the table below.  Not here: how a record or the totals
 * look (the format files, record.c, doc.c), where waiting records wait (order.c), or any
 * judgement (the engine hands over judged records and capture-wide findings; the policy
 * receiver keeps the verdict).
 */
#include "tcpstate/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include <jansson.h>

#include "format.h"
#include "order.h"
#include "record.h"
#include "sink.h"

/* The output formats: adding one is a file and a row here. */
static const tcpst__format *const formats[] = {
    &tcpst__format_json, &tcpst__format_text,   &tcpst__format_ndjson, &tcpst__format_zeek,
    &tcpst__format_csv,  &tcpst__format_ladder, &tcpst__format_html,
};
#define NFORMATS (sizeof formats / sizeof formats[0])

struct tcpst_report {
    const tcpst__format *fmt;
    tcpst_report_opts opts;
    tcpst__sink sink;
    tcpst__order order; /* records waiting for lower ids (formats that do not stream) */
    tcpst__tallies tallies;
    tcpst_jw jw; /* records and anomaly lines are formatted here */
    tcpst__out out;
    bool head_written;
    /* Records written as they end, each flushed: the streaming formats, and the text table
     * of a live capture (opts.as_they_end), which would otherwise wait for lower ids. */
    bool as_they_end;
};

static const tcpst__format *find_format(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++) {
        if (strcmp(formats[i]->name, name ? name : "json") == 0) {
            return formats[i];
        }
    }
    return NULL;
}

const char *tcpst_report_jansson_version(void)
{
    return jansson_version_str();
}

bool tcpst_report_format_known(const char *name)
{
    return find_format(name) != NULL;
}

bool tcpst_report_format_streams(const char *name)
{
    const tcpst__format *f = find_format(name);
    return f && f->streams;
}

const char *tcpst_report_format_list(void)
{
    static char text[256];
    if (!text[0]) {
        for (size_t i = 0; i < NFORMATS; i++) {
            const char *sep = i == 0 ? "" : i + 1 == NFORMATS ? " or " : ", ";
            size_t n = strlen(text);
            snprintf(text + n, sizeof text - n, "%s'%s'", sep, formats[i]->name);
        }
    }
    return text;
}

/* Written on first use, so a run that fails before any result prints nothing. */
static void put_head(tcpst_report *r)
{
    if (!r->head_written) {
        if (r->fmt->head) {
            r->fmt->head(&r->out);
        }
        r->head_written = true;
    }
}

/* A record whose turn has come (NULL: one that --connections leaves out). */
static void write_record(void *ctx, const tcpst_conn *c)
{
    tcpst_report *r = ctx;
    if (!c) {
        return;
    }
    put_head(r);
    if (r->fmt->record(&r->out, c)) {
        r->tallies.written++;
    }
}

int tcpst_report_open(tcpst_report **out, const char *path, const tcpst_report_opts *opts,
                      tcpst_error *err)
{
    *out = NULL;
    const tcpst__format *fmt = find_format(opts ? opts->format : NULL);
    if (!fmt) {
        return tcpst_error_set(err, TCPST_EUSAGE, "unknown output format '%s'", opts->format);
    }
    tcpst_report *r = calloc(1, sizeof *r);
    if (!r) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    r->fmt = fmt;
    if (opts) {
        r->opts = *opts;
    }
    tcpst__w_use_host(r->opts.host);
    r->as_they_end = fmt->streams || (r->opts.as_they_end && strcmp(fmt->name, "text") == 0);
    int rc = tcpst__sink_open(
        &r->sink, path, r->as_they_end ? TCPST__SINK_STREAM : TCPST__SINK_ATOMIC, "report", err);
    if (rc != 0) {
        free(r);
        return rc;
    }
    /* One first error for the whole output: the spill file's, or the sink's own. */
    size_t mem = r->opts.pending_mem_max ? r->opts.pending_mem_max : TCPST_PENDING_MEM_DEFAULT;
    tcpst__order_init(&r->order, mem, write_record, r, &r->sink.err);
    r->out = (tcpst__out){.sink = &r->sink, .jw = &r->jw, .opts = &r->opts, .tallies = &r->tallies};
    if (r->as_they_end && !fmt->streams) {
        put_head(r); /* a live table's header at once, not with its first row */
        tcpst__sink_flush(&r->sink);
    }
    *out = r;
    return 0;
}

static void tally(tcpst_report *r, const tcpst_conn *c)
{
    tcpst__tallies *t = &r->tallies;
    int sev = tcpst_findings_max_severity(&c->findings);
    if (sev >= 0) {
        t->anomaly_conns[sev]++;
    }
    for (unsigned i = 0; i < c->findings.n; i++) {
        t->anomaly_counts[c->findings.f[i].type]++;
    }
    t->final_pairs[c->ep[0].state][c->ep[1].state]++;
    t->zeek_counts[tcpst_zeek_conn_state_id(&c->zeek)]++;
    t->roles_inferred += c->roles_inferred;
}

void tcpst_report_conn(void *report, const tcpst_conn *c)
{
    tcpst_report *r = report;
    tally(r, c);
    bool keep = (r->opts.which == TCPST_CONNS_ALL ||
                 (r->opts.which == TCPST_CONNS_ANOMALOUS &&
                  tcpst_findings_max_severity(&c->findings) >= TCPST_SEV_WARNING)) &&
                tcpst_selection_matches(r->opts.select, c);
    if (!keep && r->fmt->forget) {
        r->fmt->forget(&r->out, c);
    }
    if (r->as_they_end) {
        /* Written as it ends: ids are not in order, and nothing is held. */
        write_record(r, keep ? c : NULL);
        if (!r->fmt->streams) {
            tcpst__sink_flush(&r->sink);
        }
        return;
    }
    tcpst__order_add(&r->order, c->id, keep ? c : NULL);
}

void tcpst_report_anomaly(void *report, const tcpst_conn *c, const tcpst_finding *f, tcpst_time now)
{
    tcpst_report *r = report;
    if (!r->fmt->anomaly || !tcpst_selection_matches(r->opts.select, c)) {
        return; /* --connection picks the connections the lines are about too */
    }
    if (f->type < TCPST_A__COUNT) {
        r->tallies.announced[f->type]++;
    }
    r->fmt->anomaly(&r->out, c, f, now);
}

/* Segments for the formats that show them, of the records that may be listed: by id or
 * 4-tuple that is known at once; a choice by finding is made when the record ends. */
static void report_segment(void *report, const tcpst_conn *c, unsigned from,
                           const tcpst_segment *seg, tcpst_time ts, uint64_t frame)
{
    tcpst_report *r = report;
    if (r->opts.which == TCPST_CONNS_NONE ||
        (tcpst_selection_by_tuple(r->opts.select) && !tcpst_selection_matches(r->opts.select, c))) {
        return;
    }
    r->fmt->segment(&r->out, c, from, seg, ts, frame);
}

tcpst_receiver tcpst_report_receiver(tcpst_report *r)
{
    tcpst_receiver rc = {.record = tcpst_report_conn,
                         .anomaly = r->fmt->anomaly ? tcpst_report_anomaly : NULL,
                         .ctx = r,
                         .segment = r->fmt->segment ? report_segment : NULL};
    return rc;
}

void tcpst_report_stats(tcpst_report *r, tcpst_time now, const tcpst_engine_stats *st,
                        const tcpst_engine_open *open, const tcpst_capture_counters *cc)
{
    if (r->fmt->stats) {
        r->fmt->stats(&r->out, now, st, open, cc);
    }
}

static void free_report(tcpst_report *r)
{
    tcpst__order_fini(&r->order);
    tcpst__jw_free(&r->jw);
    free(r);
}

void tcpst_report_discard(tcpst_report *r)
{
    if (!r) {
        return;
    }
    tcpst__sink_discard(&r->sink);
    free_report(r);
}

int tcpst_report_finish(tcpst_report *r, const tcpst_engine_stats *st,
                        const tcpst_report_meta *meta, tcpst_error *err)
{
    tcpst__order_drain(&r->order);
    if (r->order.spill_err) {
        /* Records held back behind a long-lived connection could not go to their file: the
         * report would miss them, so there is none, and the message names that file. */
        int e = r->order.spill_err;
        int rc = tcpst_error_set(err, TCPST_EWRITE,
                                 "%s: cannot hold back the records waiting for the report: %s "
                                 "(set TMPDIR to a directory with room)",
                                 r->order.spill_name, strerror(e));
        tcpst__sink_discard(&r->sink);
        free_report(r);
        return rc;
    }
    tcpst_summary_result none = {.quality = "ok"};
    tcpst__run_end end = {.stats = st,
                          .meta = meta,
                          .tallies = &r->tallies,
                          .capture = meta->capture ? meta->capture : &none,
                          .policy = r->opts.policy,
                          .stream = r->fmt->streams};
    if (!r->fmt->streams) {
        put_head(r);
    }
    r->fmt->tail(&r->out, &end);
    int rc = tcpst__sink_commit(&r->sink, "report", err);
    free_report(r);
    return rc;
}
