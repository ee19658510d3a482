/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.c - the JSON report (--format json, the default): one document,
 * {"tcpstate_version", "schema_version", "connections": [...], "inputs", "stats",
 * "summary", "verdict"}.  Connections come first so that they can stream out while the
 * capture is still being read; the totals follow at the end.  One record per line, or
 * indented with --pretty.  Schema: docs/report.schema.json.
 *
 * Not here: the record's members (record.c) or the totals' (doc.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "record.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

static void head(tcpst__out *o)
{
    if (o->opts->pretty) {
        tcpst__sink_puts(o->sink, "{\n  \"tcpstate_version\": \"" TCPSTATE_VERSION
                                  "\",\n  \"schema_version\": " STR(
                                      TCPST_SCHEMA_VERSION) ",\n"
                                                            "  \"connections\": [");
        return;
    }
    tcpst__sink_puts(o->sink,
                     "{\"tcpstate_version\":\"" TCPSTATE_VERSION
                     "\",\"schema_version\":" STR(TCPST_SCHEMA_VERSION) ","
                                                                        "\"connections\":[");
}

/* --pretty: text indented by `indent` more spaces after each newline (JSON text has no raw
 * newline inside a string). */
static void put_indented(tcpst__sink *s, const char *text, unsigned indent)
{
    static const char spaces[] = "        ";
    const char *p = text, *nl;
    while ((nl = strchr(p, '\n')) != NULL) {
        tcpst__sink_put(s, p, (size_t)(nl - p) + 1);
        tcpst__sink_put(s, spaces, indent);
        p = nl + 1;
    }
    tcpst__sink_puts(s, p);
}

/* --pretty: the compact record re-indented by jansson (people read it; speed is moot). */
static char *pretty_text(const char *compact)
{
    json_t *v = json_loads(compact, 0, NULL);
    if (!v) {
        return NULL;
    }
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
    json_decref(v);
    return s;
}

static bool record(tcpst__out *o, const tcpst_conn *c)
{
    tcpst__w_conn(o->jw, c, NULL);
    const char *text = o->jw->err ? NULL : tcpst__jw_text(o->jw);
    char *owned = NULL;
    if (text && o->opts->pretty) {
        text = owned = pretty_text(text);
    }
    if (!text) {
        tcpst__sink_fail(o->sink, ENOMEM);
        return false;
    }
    if (o->opts->pretty) {
        tcpst__sink_puts(o->sink, o->tallies->written ? ",\n    " : "\n    ");
        put_indented(o->sink, text, 4);
    } else {
        tcpst__sink_puts(o->sink, o->tallies->written ? ",\n" : "\n");
        tcpst__sink_puts(o->sink, text);
    }
    free(owned);
    return true;
}

/* ,"key":value (takes the reference). */
static void member(tcpst__out *o, const char *key, json_t *v)
{
    char *s = json_dumps(v, (o->opts->pretty ? JSON_INDENT(2) : JSON_COMPACT) |
                                JSON_REAL_PRECISION(16) | JSON_ENCODE_ANY);
    json_decref(v);
    if (!s) {
        tcpst__sink_fail(o->sink, ENOMEM);
        return;
    }
    if (o->opts->pretty) {
        tcpst__sink_puts(o->sink, ",\n  \"");
        tcpst__sink_puts(o->sink, key);
        tcpst__sink_puts(o->sink, "\": ");
        put_indented(o->sink, s, 2);
    } else {
        tcpst__sink_puts(o->sink, ",\n\"");
        tcpst__sink_puts(o->sink, key);
        tcpst__sink_puts(o->sink, "\":");
        tcpst__sink_puts(o->sink, s);
    }
    free(s);
}

static void tail(tcpst__out *o, const tcpst__run_end *e)
{
    if (o->opts->pretty) {
        tcpst__sink_puts(o->sink, o->tallies->written ? "\n  ]" : "]");
    } else {
        tcpst__sink_puts(o->sink, o->tallies->written ? "\n]" : "]");
    }
    member(o, "inputs", tcpst__doc_inputs(e->meta));
    member(o, "stats", tcpst__doc_stats(e));
    member(o, "summary", tcpst__doc_summary(e));
    member(o, "verdict", tcpst__doc_verdict(e->policy));
    tcpst__sink_puts(o->sink, o->opts->pretty ? "\n}\n" : "}\n");
}

const tcpst__format tcpst__format_json = {
    .name = "json", .streams = false, .head = head, .record = record, .tail = tail};
