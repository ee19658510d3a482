/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ndjson.c - the NDJSON stream (--format ndjson): one JSON object per line, each with a
 * "type" first, written and flushed as things happen.  "connection" lines come in the
 * order connections end (nothing is held, so memory does not grow with the capture),
 * "anomaly" lines as findings appear, "stats" lines on a timer, and the totals as a last
 * "summary" line: a reader knows the stream is complete when it has read it.  Schema:
 * docs/ndjson.schema.json.
 *
 * Not here: the members (record.c, doc.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "record.h"

/* A jansson object (stats, summary) as a line; takes the reference. */
static void tree_line(tcpst__out *o, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(16));
    json_decref(v);
    tcpst__sink_line(o->sink, s, s ? strlen(s) : 0, s ? 0 : ENOMEM);
    free(s);
}

/* The writer's text (records, anomalies) as a line. */
static void jw_line(tcpst__out *o)
{
    tcpst__sink_line(o->sink, o->jw->buf, o->jw->len, o->jw->err);
}

static bool record(tcpst__out *o, const tcpst_conn *c)
{
    tcpst__w_conn(o->jw, c, "connection");
    jw_line(o);
    return true;
}

static void anomaly(tcpst__out *o, const tcpst_conn *c, const tcpst_finding *f, tcpst_time now)
{
    tcpst_jw *w = o->jw;
    tcpst__jw_reset(w);
    tcpst__jw_obj_begin(w);
    tcpst__jw_kstr(w, "type", "anomaly");
    tcpst__w_time(w, "ts", now);
    tcpst__jw_kuint(w, "connection", c->id);
    static const char *const side[2] = {"client", "server"};
    for (unsigned i = 0; i < 2; i++) {
        /* The endpoint's address and port, named as in records. */
        tcpst__jw_key(w, side[i]);
        tcpst__jw_obj_begin(w);
        tcpst__w_addr(w, "addr", &c->ep[i].addr);
        tcpst__jw_kuint(w, "port", c->ep[i].port);
        if (c->host[i].flags & TCPST_HV_ASKED) {
            tcpst__w_hostview(w, &c->host[i]); /* who holds it, as the finding is raised */
        }
        tcpst__jw_obj_end(w);
    }
    tcpst__w_layers(w, c);
    tcpst__jw_key(w, "anomaly");
    tcpst__w_finding(w, f);
    tcpst__jw_obj_end(w);
    jw_line(o);
}

static void stats(tcpst__out *o, tcpst_time now, const tcpst_engine_stats *st,
                  const tcpst_engine_open *open, const tcpst_capture_counters *cc)
{
    tree_line(o, tcpst__doc_stats_line(now, st, open, cc, o->tallies));
}

/* The document without its records, as the last line. */
static void tail(tcpst__out *o, const tcpst__run_end *e)
{
    json_t *v = tcpst__doc_typed("summary");
    json_object_set_new(v, "tcpstate_version", json_string(TCPSTATE_VERSION));
    json_object_set_new(v, "schema_version", json_integer(TCPST_SCHEMA_VERSION));
    json_object_set_new(v, "inputs", tcpst__doc_inputs(e->meta));
    json_object_set_new(v, "stats", tcpst__doc_stats(e));
    json_object_set_new(v, "summary", tcpst__doc_summary(e));
    json_object_set_new(v, "verdict", tcpst__doc_verdict(e->policy));
    tree_line(o, v);
}

const tcpst__format tcpst__format_ndjson = {.name = "ndjson",
                                            .streams = true,
                                            .record = record,
                                            .anomaly = anomaly,
                                            .stats = stats,
                                            .tail = tail};
