/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * html.c - --format html: one self-contained page (docs/views.md).
 *
 * Layout, in the order written: CSS; the records' details in chunks of up to
 * TCPST_HTML_CHUNK records, each a <script type="application/x-tcpstate-deflate"
 * data-ids="ID,ID,...">: one line per record, {"r": the JSON report's record, "s": its
 * segment rows}, raw-deflated (RFC 1951) together and in base64.  The page inflates a chunk
 * with the browser's DecompressionStream only when one of its connections is opened.
 * Compressed together, records share their keys: a quarter of the JSON's size, so 100,000
 * connections load quickly.  Then the table
 * (one compact array per record, kept in memory until the end: about 150 bytes each), the
 * run's facts (the JSON report's inputs, stats, summary and verdict, the state names and
 * the anomaly catalogue) and the page's JavaScript.  Nothing is fetched: it works from a
 * CI artifact, offline.  '<' inside the JSON is written as \u003c, so no text from a
 * capture or a process name can end a script element.
 *
 * Segment rows (segrows.h) stay one row per segment for a connection's first
 * TCPST_HTML_RAW segments, then ordinary data collapses into runs; TCPST_HTML_MAX_ROWS
 * bounds what one connection can add to the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "format.h"
#include "record.h"
#include "segrows.h"
#include "tcpstate/anomaly.h"

#define TCPST_HTML_RAW       400
#define TCPST_HTML_MAX_ROWS  2000
#define TCPST_HTML_CHUNK     64         /* records compressed together */
#define TCPST_HTML_CHUNK_MAX (1u << 20) /* or fewer, past this many bytes of JSON */

extern const unsigned char tcpst__html_css[], tcpst__html_js[];
extern const size_t tcpst__html_css_len, tcpst__html_js_len;

static struct {
    tcpst__segrows rows;
    tcpst_jw doc; /* the chunk's detail lines */
    uint64_t ids[TCPST_HTML_CHUNK];
    unsigned nids;
    tcpst_jw table; /* every record's table row, written at the end */
    z_stream zs;    /* reset per record: no allocation after the first */
    unsigned char *z;
    size_t zcap;
    bool ready, zready;
} H = {.rows = {.raw_first = TCPST_HTML_RAW,
                .max_rows = TCPST_HTML_MAX_ROWS,
                .keep_marks = TCPST__MARK_RETRANS | TCPST__MARK_KEEPALIVE | TCPST__MARK_DUPLICATE |
                              TCPST__MARK_ZEROWIN}};

static void setup(void)
{
    if (!H.ready) {
        tcpst__jw_init(&H.doc);
        tcpst__jw_init(&H.table);
        tcpst__jw_arr_begin(&H.table);
        H.ready = true;
    }
}

/* JSON text into a script element: '<' becomes \u003c (it can only be inside a string). */
static void put_json(tcpst__sink *s, const char *text, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '<') {
            tcpst__sink_put(s, text + from, i - from);
            tcpst__sink_puts(s, "\\u003c");
            from = i + 1;
        }
    }
    tcpst__sink_put(s, text + from, n - from);
}

static void html_segment(tcpst__out *o, const tcpst_conn *c, unsigned from,
                         const tcpst_segment *seg, tcpst_time ts, uint64_t frame)
{
    (void)o;
    tcpst__segrows_add(&H.rows, c, from, seg, ts, frame);
}

static void html_forget(tcpst__out *o, const tcpst_conn *c)
{
    (void)o;
    tcpst__segrows_drop(&H.rows, c->id);
}

static int64_t rel_us(tcpst_time t, tcpst_time t0)
{
    return tcpst__time_us(t) - tcpst__time_us(t0);
}

/*
 * A segment: [frame, us, from, flags, seq, ack, len, win, marks, states, changed]; a run
 * (from 2) or the rest past the row limit (from 3): [frame, us, from, count, bytes,
 * last_frame, last_us, marks, dirs, seq0, end0, ack0, win0, seq1, end1, ack1, win1,
 * states].  us is relative to the record's first packet, seq/ack to each side's ISN,
 * states is client * 16 + server (tcpst_state), changed has bit 0/1 for a state the
 * segment changed and bit 2/3 when that change was inferred.
 */
static void w_segments(tcpst_jw *w, const tcpst_conn *c, const tcpst__segconn *l)
{
    tcpst__jw_obj_begin(w);
    tcpst__jw_kuint(w, "segments", l ? l->segments : 0);
    tcpst__jw_key(w, "rows");
    tcpst__jw_arr_begin(w);
    for (size_t i = 0; l && i < l->n; i++) {
        const tcpst__segrow *r = &l->rows[i];
        tcpst__jw_arr_begin(w);
        tcpst__jw_uint(w, r->frame);
        tcpst__jw_int(w, rel_us(r->ts, c->first_ts));
        if (r->kind == TCPST__ROW_SEGMENT) {
            tcpst__jw_uint(w, r->from);
            tcpst__jw_uint(w, r->flags);
            tcpst__jw_uint(w, (uint32_t)(r->seq - l->base[r->from]));
            tcpst__jw_uint(w,
                           (r->flags & TCPST_ACK) ? (uint32_t)(r->ack - l->base[r->from ^ 1]) : 0);
            tcpst__jw_uint(w, r->len);
            tcpst__jw_uint(w, r->win);
            tcpst__jw_uint(w, r->marks);
            tcpst__jw_uint(w, (unsigned)r->state[0] * 16u + r->state[1]);
            tcpst__jw_uint(w, (unsigned)r->changed | ((unsigned)r->inferred << 2));
        } else {
            tcpst__jw_uint(w, r->kind == TCPST__ROW_RUN ? 2 : 3);
            tcpst__jw_uint(w, r->count);
            tcpst__jw_uint(w, r->bytes);
            tcpst__jw_uint(w, r->last_frame);
            tcpst__jw_int(w, rel_us(r->last_ts, c->first_ts));
            tcpst__jw_uint(w, r->marks);
            tcpst__jw_uint(w, r->dirs);
            for (unsigned d = 0; d < 2; d++) {
                bool sent = r->dirs & (1u << d);
                tcpst__jw_uint(w, sent ? (uint32_t)(r->run_seq[d] - l->base[d]) : 0);
                tcpst__jw_uint(w, sent ? (uint32_t)(r->run_end[d] - l->base[d]) : 0);
                tcpst__jw_uint(w, sent ? (uint32_t)(r->run_ack[d] - l->base[d ^ 1]) : 0);
                tcpst__jw_uint(w, sent ? r->run_win[d] : 0);
            }
            tcpst__jw_uint(w, (unsigned)r->state[0] * 16u + r->state[1]);
        }
        tcpst__jw_arr_end(w);
    }
    tcpst__jw_arr_end(w);
    tcpst__jw_obj_end(w);
}

/* [id, client addr, port, server addr, port, client state, server state, first us, duration
 * us, packets, bytes, highest severity (0 none, 1 info, 2 warning, 3 error), [anomaly
 * indices], conn_state, flags (1 roles inferred, 2 open at the end)] */
static void w_table_row(tcpst_jw *w, const tcpst_conn *c)
{
    char a[TCPST_ADDR_STRLEN];
    tcpst__jw_arr_begin(w);
    tcpst__jw_uint(w, c->id);
    for (unsigned i = 0; i < 2; i++) {
        tcpst_addr_format(&c->ep[i].addr, a);
        tcpst__jw_name(w, a);
        tcpst__jw_uint(w, c->ep[i].port);
    }
    tcpst__jw_uint(w, c->ep[0].state);
    tcpst__jw_uint(w, c->ep[1].state);
    tcpst__jw_int(w, tcpst__time_us(c->first_ts));
    tcpst__jw_int(w, rel_us(c->last_ts, c->first_ts));
    tcpst__jw_uint(w, c->ep[0].packets + c->ep[1].packets);
    tcpst__jw_uint(w, c->ep[0].bytes + c->ep[1].bytes);
    tcpst__jw_int(w, tcpst_findings_max_severity(&c->findings) + 1); /* -1 + 1: none */
    tcpst__jw_arr_begin(w);
    for (unsigned i = 0; i < c->findings.n; i++) {
        tcpst__jw_uint(w, c->findings.f[i].type);
    }
    tcpst__jw_arr_end(w);
    tcpst__jw_name(w, tcpst_zeek_conn_state(&c->zeek));
    tcpst__jw_uint(w, (c->roles_inferred ? 1u : 0u) | (tcpst_conn_open_at_end(c) ? 2u : 0u));
    tcpst__jw_arr_end(w);
}

static void html_head(tcpst__out *o)
{
    setup();
    tcpst__sink_puts(o->sink, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                              "<meta name=\"viewport\" content=\"width=device-width\">"
                              "<meta name=\"generator\" content=\"tcpstate " TCPSTATE_VERSION
                              "\"><title>tcpstate report</title>\n<style>\n");
    tcpst__sink_put(o->sink, (const char *)tcpst__html_css, tcpst__html_css_len);
    tcpst__sink_puts(o->sink, "</style></head>\n<body>\n<div id=\"app\"><noscript>This report "
                              "draws itself with JavaScript.</noscript></div>\n");
}

/* text (n bytes) raw-deflated into H.z; its length, or 0 on failure. */
static size_t deflate_text(const char *text, size_t n)
{
    if (!H.zready) {
        memset(&H.zs, 0, sizeof H.zs);
        /* Level 1: four times zlib's default speed, for 25% more bytes. */
        if (deflateInit2(&H.zs, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            return 0;
        }
        H.zready = true;
    } else if (deflateReset(&H.zs) != Z_OK) {
        return 0;
    }
    size_t need = deflateBound(&H.zs, (uLong)n);
    if (need > H.zcap) {
        unsigned char *nz = realloc(H.z, need);
        if (!nz) {
            return 0;
        }
        H.z = nz;
        H.zcap = need;
    }
    H.zs.next_in = (Bytef *)(uintptr_t)text;
    H.zs.avail_in = (uInt)n;
    H.zs.next_out = H.z;
    H.zs.avail_out = (uInt)H.zcap;
    if (deflate(&H.zs, Z_FINISH) != Z_STREAM_END) {
        return 0;
    }
    return H.zcap - H.zs.avail_out;
}

static void put_base64(tcpst__sink *s, const unsigned char *p, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[1024];
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t)p[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= p[i + 2];
        }
        out[k++] = b64[(v >> 18) & 63];
        out[k++] = b64[(v >> 12) & 63];
        out[k++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[k++] = i + 2 < n ? b64[v & 63] : '=';
        if (k + 4 > sizeof out) {
            tcpst__sink_put(s, out, k);
            k = 0;
        }
    }
    tcpst__sink_put(s, out, k);
}

/* The chunk so far as one script element. */
static bool flush_chunk(tcpst__sink *sink)
{
    if (H.nids == 0) {
        return true;
    }
    size_t zn = H.doc.err ? 0 : deflate_text(H.doc.buf, H.doc.len);
    if (zn == 0) {
        tcpst__sink_fail(sink, ENOMEM);
        return false;
    }
    tcpst__sink_puts(sink, "<script type=\"application/x-tcpstate-deflate\" data-ids=\"");
    for (unsigned i = 0; i < H.nids; i++) {
        tcpst__sink_printf(sink, "%s%" PRIu64, i ? "," : "", H.ids[i]);
    }
    tcpst__sink_puts(sink, "\">");
    put_base64(sink, H.z, zn);
    tcpst__sink_puts(sink, "</script>\n");
    tcpst__jw_reset(&H.doc);
    H.nids = 0;
    return true;
}

static bool html_record(tcpst__out *o, const tcpst_conn *c)
{
    setup();
    tcpst__w_conn(o->jw, c, NULL);
    if (o->jw->err) {
        tcpst__sink_fail(o->sink, ENOMEM);
        return false;
    }
    /* One line per record: the writer's text has no raw newline (JSON escapes them). */
    tcpst_jw *d = &H.doc;
    tcpst__jw_next_line(d);
    tcpst__jw_obj_begin(d);
    tcpst__jw_key(d, "r");
    const char *rec = tcpst__jw_text(o->jw);
    tcpst__jw_raw(d, rec, strlen(rec));
    tcpst__jw_key(d, "s");
    w_segments(d, c, tcpst__segrows_get(&H.rows, c->id));
    tcpst__jw_obj_end(d);
    tcpst__segrows_drop(&H.rows, c->id);
    w_table_row(&H.table, c);
    if (d->err || H.table.err) {
        tcpst__sink_fail(o->sink, ENOMEM);
        return false;
    }
    H.ids[H.nids++] = c->id;
    if (H.nids == TCPST_HTML_CHUNK || d->len >= TCPST_HTML_CHUNK_MAX) {
        return flush_chunk(o->sink);
    }
    return true;
}

static json_t *catalogue(void)
{
    json_t *states = json_array(), *types = json_array(), *m = json_object();
    for (unsigned s = 0; s < TCPST_STATE__COUNT; s++) {
        json_array_append_new(states, json_string(tcpst_state_name((tcpst_state)s)));
    }
    for (unsigned t = 0; t < TCPST_A__COUNT; t++) {
        tcpst_anomaly_type a = (tcpst_anomaly_type)t;
        json_t *row = json_pack("{s:s,s:s}", "id", tcpst_anomaly_id(a), "severity",
                                tcpst_severity_name(tcpst_anomaly_severity(a)));
        json_array_append_new(types, row);
    }
    json_object_set_new(m, "states", states);
    json_object_set_new(m, "anomalies", types);
    return m;
}

static void html_tail(tcpst__out *o, const tcpst__run_end *e)
{
    setup();
    flush_chunk(o->sink);
    tcpst__jw_arr_end(&H.table);
    json_t *m = catalogue();
    json_object_set_new(m, "tcpstate_version", json_string(TCPSTATE_VERSION));
    json_object_set_new(m, "inputs", tcpst__doc_inputs(e->meta));
    json_object_set_new(m, "stats", tcpst__doc_stats(e));
    json_object_set_new(m, "summary", tcpst__doc_summary(e));
    json_object_set_new(m, "verdict", tcpst__doc_verdict(e->policy));
    json_object_set_new(m, "listed", json_integer((json_int_t)o->tallies->written));
    char *meta = json_dumps(m, JSON_COMPACT | JSON_REAL_PRECISION(16));
    json_decref(m);
    if (!meta || H.table.err) {
        free(meta);
        tcpst__sink_fail(o->sink, ENOMEM);
    } else {
        tcpst__sink_puts(o->sink, "<script type=\"application/json\" id=\"tcpst-table\">");
        put_json(o->sink, H.table.buf, H.table.len);
        tcpst__sink_puts(o->sink,
                         "</script>\n<script type=\"application/json\" id=\"tcpst-meta\">");
        put_json(o->sink, meta, strlen(meta));
        free(meta);
        tcpst__sink_puts(o->sink, "</script>\n<script>\n");
        tcpst__sink_put(o->sink, (const char *)tcpst__html_js, tcpst__html_js_len);
        tcpst__sink_puts(o->sink, "</script>\n</body></html>\n");
    }
    tcpst__segrows_free(&H.rows);
    tcpst__jw_free(&H.doc);
    H.nids = 0;
    if (H.zready) {
        deflateEnd(&H.zs);
    }
    free(H.z);
    H.z = NULL;
    H.zcap = 0;
    H.zready = false;
    tcpst__jw_free(&H.table);
    H.ready = false;
}

const tcpst__format tcpst__format_html = {.name = "html",
                                          .streams = false,
                                          .head = html_head,
                                          .record = html_record,
                                          .tail = html_tail,
                                          .segment = html_segment,
                                          .forget = html_forget};
