/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zeeklog.c - --format zeek: a conn.log in Zeek's TSV form, and --format csv: one row per
 * connection for spreadsheets and DuckDB.
 *
 * The conn.log has Zeek's header lines, its standard fields in its order and types, "-"
 * for unset and "(empty)" for empty.  As Zeek's conn script does, duration, orig_bytes and
 * resp_bytes are set only when the connection lasted; service, local_orig and local_resp
 * stay unset (no protocol detection, no Site::local_nets).  The originator is the side
 * Zeek would call it (zeekcompat.h), so with --split zeek the rows are Zeek's own.  #open
 * and #close carry the capture's first and last packet times, not the wall clock, so the
 * same capture gives the same file.  uids are Zeek-style ("C" and 17 base62 characters),
 * derived from the record's id, first packet time and 4-tuple: stable for a capture.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "record.h"
#include "tcpstate/anomaly.h"

#define ZEEK_UID_LEN 18 /* "C" + 17 */

/* Microseconds as Zeek writes times and intervals: seconds with six decimals. */
static void fmt_us(char out[32], int64_t us)
{
    const char *sign = us < 0 ? "-" : "";
    uint64_t a = us < 0 ? (uint64_t) - (us + 1) + 1 : (uint64_t)us;
    snprintf(out, 32, "%s%" PRIu64 ".%06" PRIu64, sign, a / 1000000u, a % 1000000u);
}

static uint64_t mix64(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return h;
}

/* "C" and 17 base62 characters from two 64-bit hashes of what makes the record unique. */
static void zeek_uid(const tcpst_conn *c, char out[ZEEK_UID_LEN + 1])
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t h1 = mix64(0x74637073u, c->id), h2 = mix64(0x7a65656bu, (uint64_t)c->first_ts);
    for (unsigned i = 0; i < 2; i++) {
        uint64_t w[3] = {0};
        memcpy(w, c->ep[i].addr.bytes, 16);
        h1 = mix64(h1, w[0] ^ ((uint64_t)c->ep[i].port << 48));
        h2 = mix64(h2, w[1] ^ c->ep[i].addr.family);
    }
    h1 = mix64(h1, h2);
    out[0] = 'C';
    for (unsigned i = 1; i <= 17; i++) {
        uint64_t *h = i <= 9 ? &h1 : &h2;
        out[i] = digits[*h % 62];
        *h /= 62;
    }
    out[ZEEK_UID_LEN] = '\0';
}

/* Bytes the capture never held, by the sender (the segment_not_captured findings). */
static uint64_t missed_bytes(const tcpst_conn *c)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < c->findings.n; i++) {
        const tcpst_finding *f = &c->findings.f[i];
        if (f->type == TCPST_A_SEGMENT_NOT_CAPTURED && f->fact[0] > 0) {
            n += (uint64_t)f->fact[0];
        }
    }
    return n;
}

/* What one row holds, in conn.log terms. */
typedef struct zrow {
    char uid[ZEEK_UID_LEN + 1];
    char ts[32], duration[32];
    char oh[TCPST_ADDR_STRLEN], rh[TCPST_ADDR_STRLEN];
    const tcpst_endpoint *o, *r;
    bool lasted; /* Zeek sets duration and the byte counts only then */
    uint64_t missed;
} zrow;

static void fill(const tcpst_conn *c, zrow *z)
{
    unsigned orig = c->zeek.orig ? 1 : 0;
    z->o = &c->ep[orig];
    z->r = &c->ep[orig ^ 1];
    zeek_uid(c, z->uid);
    fmt_us(z->ts, tcpst__time_us(c->first_ts));
    z->lasted = c->last_ts > c->first_ts;
    fmt_us(z->duration, tcpst__time_us(c->last_ts - c->first_ts));
    tcpst_addr_format(&z->o->addr, z->oh);
    tcpst_addr_format(&z->r->addr, z->rh);
    z->missed = missed_bytes(c);
}

/* ---- conn.log ---- */

static const char *const zeek_fields =
    "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\t"
    "orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents";
static const char *const zeek_types =
    "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\t"
    "bool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]";

/* Zeek's #open/#close stamp, of a capture time (UTC: the file must not depend on TZ). */
static void stamp(char out[32], tcpst_time ns)
{
    time_t t = (time_t)(ns / TCPST_NS_PER_SEC);
    struct tm tm;
    if (ns == 0 || !gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d-%H-%M-%S", &tm)) {
        snprintf(out, 32, "-");
    }
}

typedef struct zstate {
    bool head; /* the header lines are out */
} zstate;

static zstate zeek_state; /* one report per process, as the format table is */

static void zeek_head_at(tcpst__out *o, tcpst_time first)
{
    char open[32];
    stamp(open, first);
    tcpst__sink_printf(o->sink,
                       "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
                       "#unset_field\t-\n#path\tconn\n#open\t%s\n#fields\t%s\n#types\t%s\n",
                       open, zeek_fields, zeek_types);
    zeek_state.head = true;
}

static void zeek_head(tcpst__out *o)
{
    (void)o;
    zeek_state.head = false; /* written with the first record, which knows the first time */
}

static bool zeek_record(tcpst__out *o, const tcpst_conn *c)
{
    if (!zeek_state.head) {
        /* The capture's first packet, which may be before any TCP. */
        const tcpst_engine_stats *st = o->opts->running;
        zeek_head_at(o, st && st->packets ? st->first_ts : c->first_ts);
    }
    zrow z;
    fill(c, &z);
    const char *hist = c->zeek.hist[0] ? c->zeek.hist : "-";
    if (z.lasted) {
        tcpst__sink_printf(o->sink, "%s\t%s\t%s\t%u\t%s\t%u\ttcp\t-\t%s\t%" PRIu64 "\t%" PRIu64,
                           z.ts, z.uid, z.oh, (unsigned)z.o->port, z.rh, (unsigned)z.r->port,
                           z.duration, z.o->payload_bytes, z.r->payload_bytes);
    } else {
        tcpst__sink_printf(o->sink, "%s\t%s\t%s\t%u\t%s\t%u\ttcp\t-\t-\t-\t-", z.ts, z.uid, z.oh,
                           (unsigned)z.o->port, z.rh, (unsigned)z.r->port);
    }
    tcpst__sink_printf(
        o->sink,
        "\t%s\t-\t-\t%" PRIu64 "\t%s\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu64 "\t-\n",
        tcpst_zeek_conn_state(&c->zeek), z.missed, hist, tcpst_zeek_orig_pkts(&c->zeek), z.o->bytes,
        tcpst_zeek_resp_pkts(&c->zeek), z.r->bytes);
    return true;
}

static void zeek_tail(tcpst__out *o, const tcpst__run_end *e)
{
    const tcpst_engine_stats *st = e->stats;
    if (!zeek_state.head) {
        zeek_head_at(o, st->packets ? st->first_ts : 0);
    }
    char close[32];
    stamp(close, st->packets ? st->last_ts : 0);
    tcpst__sink_printf(o->sink, "#close\t%s\n", close);
}

const tcpst__format tcpst__format_zeek = {
    .name = "zeek", .streams = false, .head = zeek_head, .record = zeek_record, .tail = zeek_tail};

/* ---- CSV (RFC 4180: a header line, commas, CRLF-free; no field needs quoting) ---- */

static void csv_head(tcpst__out *o)
{
    tcpst__sink_puts(o->sink, "id,uid,ts,duration,client_addr,client_port,server_addr,server_port,"
                              "client_state,server_state,conn_state,history,client_packets,"
                              "server_packets,client_bytes,server_bytes,client_payload_bytes,"
                              "server_payload_bytes,client_retransmissions,server_retransmissions,"
                              "open_at_end,end_reason,first_frame,last_frame,anomalies,severity\n");
}

static bool csv_record(tcpst__out *o, const tcpst_conn *c)
{
    zrow z;
    fill(c, &z);
    char cl[TCPST_ADDR_STRLEN], sv[TCPST_ADDR_STRLEN];
    tcpst_addr_format(&c->ep[0].addr, cl);
    tcpst_addr_format(&c->ep[1].addr, sv);
    /* Anomaly ids joined by ';' (a field of its own, no quoting needed), and the worst
     * severity, so that a spreadsheet filter or a SQL WHERE needs no parsing. */
    char ids[TCPST_FINDINGS_MAX * 32] = "";
    size_t len = 0;
    int worst = -1;
    for (unsigned i = 0; i < c->findings.n; i++) {
        tcpst_anomaly_type t = (tcpst_anomaly_type)c->findings.f[i].type;
        const char *id = tcpst_anomaly_id(t);
        bool seen = false; /* a type on both endpoints is listed once */
        for (unsigned k = 0; k < i && !seen; k++) {
            seen = c->findings.f[k].type == (uint8_t)t;
        }
        if (!seen) {
            int n = snprintf(ids + len, sizeof ids - len, "%s%s", len ? ";" : "", id);
            len = n > 0 && len + (size_t)n < sizeof ids ? len + (size_t)n : len;
        }
        int sev = (int)tcpst_anomaly_severity(t);
        worst = sev > worst ? sev : worst;
    }
    bool open_at_end = tcpst_conn_open_at_end(c);
    tcpst__sink_printf(
        o->sink,
        "%" PRIu64 ",%s,%s,%s,%s,%u,%s,%u,%s,%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
        ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%s,%" PRIu64 ",%" PRIu64 ",%s,%s\n",
        c->id, z.uid, z.ts, z.duration, cl, (unsigned)c->ep[0].port, sv, (unsigned)c->ep[1].port,
        tcpst_state_name(c->ep[0].state), tcpst_state_name(c->ep[1].state),
        tcpst_zeek_conn_state(&c->zeek), c->zeek.hist, (uint64_t)c->ep[0].packets,
        (uint64_t)c->ep[1].packets, c->ep[0].bytes, c->ep[1].bytes, c->ep[0].payload_bytes,
        c->ep[1].payload_bytes, (uint64_t)c->ep[0].retrans_segments,
        (uint64_t)c->ep[1].retrans_segments, open_at_end ? "true" : "false",
        tcpst_end_reason_name(c->end_reason), c->first_frame, c->last_frame, ids,
        worst < 0 ? "" : tcpst_severity_name((tcpst_severity)worst));
    return true;
}

static void csv_tail(tcpst__out *o, const tcpst__run_end *e)
{
    (void)o;
    (void)e; /* rows only: the totals and the verdict are the exit status's and stderr's */
}

const tcpst__format tcpst__format_csv = {
    .name = "csv", .streams = false, .head = csv_head, .record = csv_record, .tail = csv_tail};
