/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ladder.c - --format ladder: a terminal sequence diagram of each listed connection, one
 * row per segment, both endpoints' states in columns of their own.
 *
 * Rows are kept per record (segrows.h) until the record is written: its findings, known
 * only then, are printed under the rows of their evidence frames.  Ordinary data collapses
 * as it comes into one "..." line per run, so a 1 GB transfer stays a screen and its memory
 * a few rows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "segrows.h"
#include "tcpstate/anomaly.h"
#include "tcpstate/timefmt.h"

typedef tcpst__segrow lrow;
typedef tcpst__segconn lconn;

static tcpst__segrows L; /* one report per process, as the format table is */

static void ladder_segment(tcpst__out *o, const tcpst_conn *c, unsigned from,
                           const tcpst_segment *seg, tcpst_time ts, uint64_t frame)
{
    (void)o;
    tcpst__segrows_add(&L, c, from, seg, ts, frame);
}

/* ---- printing ---- */

static unsigned columns(const tcpst__out *o)
{
    unsigned c = o->opts->columns ? o->opts->columns : 100;
    return c < 72 ? 72 : c > 400 ? 400 : c;
}

static const char *colour(const tcpst__out *o, const char *code)
{
    return o->opts->colour ? code : "";
}

/* The state an endpoint took at this row, or blanks; the last column is not padded. */
/* `text` word-wrapped to COLUMNS, continuation lines indented by `indent`, each line in
 * colour `code` when colour is on (the codes take no columns). */
static void put_wrapped(tcpst__out *o, const char *code, const char *text, unsigned indent)
{
    size_t width = columns(o), len = strlen(text);
    const char *p = text;
    bool first = true;
    while (len > 0) {
        size_t room = first ? width : width - indent, take = len;
        if (take > room) {
            take = room;
            while (take > room / 2 && p[take] != ' ') {
                take--;
            }
        }
        tcpst__sink_printf(o->sink, "%*s%s%.*s%s\n", first ? 0 : (int)indent, "", colour(o, code),
                           (int)take, p, colour(o, "\033[0m"));
        p += take;
        len -= take;
        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
        first = false;
    }
}

static void state_cell(const tcpst__out *o, char *out, size_t n, const lrow *r, unsigned who)
{
    int pad = who == 0 ? 14 : 0;
    if (!(r->changed & (1u << who))) {
        snprintf(out, n, "%-*s", pad, "");
        return;
    }
    char text[20];
    snprintf(text, sizeof text, "%s%s", (r->inferred >> who) & 1 ? "~" : "",
             tcpst_state_name((tcpst_state)r->state[who]));
    snprintf(out, n, "%s%-*s%s", colour(o, "\033[1m"), pad, text, colour(o, "\033[0m"));
}

static void segment_line(tcpst__out *o, const lconn *l, const lrow *r, tcpst_time t0)
{
    unsigned width = columns(o) - 50; /* frame, time and the two state columns */
    char flags[16], label[128], arrow[420], cl[40], sv[40];
    tcpst_flags_format(r->flags, flags);
    char ack[24] = "", len[24] = "", win[24] = "";
    if (r->flags & TCPST_ACK) {
        snprintf(ack, sizeof ack, " ack=%" PRIu32, r->ack - l->base[r->from ^ 1]);
    }
    snprintf(len, sizeof len, " len=%" PRIu32, r->len);
    snprintf(win, sizeof win, " win=%" PRIu32, r->win);
    /* As much as fits COLUMNS: the window goes first, then a zero length, then the ack. */
    const char *parts[4][3] = {
        {ack, len, win}, {ack, len, ""}, {ack, r->len ? len : "", ""}, {r->len ? len : "", "", ""}};
    size_t ll = 0;
    for (unsigned v = 0; v < 4; v++) {
        snprintf(label, sizeof label, " %s seq=%" PRIu32 "%s%s%s ", flags,
                 r->seq - l->base[r->from], parts[v][0], parts[v][1], parts[v][2]);
        ll = strlen(label);
        if (ll + 4 <= width) {
            break;
        }
    }
    if (ll + 4 > width) {
        ll = width - 4;
        label[ll] = '\0';
    }
    size_t dashes = width - ll - 3;
    size_t left = r->from == 0 ? 2 : 3, right = dashes + 3 - left;
    size_t k = 0;
    if (r->from == 1) {
        arrow[k++] = '<';
    }
    for (size_t i = 0; i < left - (r->from == 1); i++) {
        arrow[k++] = '-';
    }
    memcpy(arrow + k, label, ll);
    k += ll;
    for (size_t i = 0; i < right - (r->from == 0); i++) {
        arrow[k++] = '-';
    }
    if (r->from == 0) {
        arrow[k++] = '>';
    }
    arrow[k] = '\0';
    state_cell(o, cl, sizeof cl, r, 0);
    state_cell(o, sv, sizeof sv, r, 1);
    tcpst__sink_printf(o->sink, "%7" PRIu64 " %10.6f  %s %s%s%s\n", r->frame,
                       (double)(r->ts - t0) / 1e9, cl, arrow, sv[0] ? " " : "", sv);
}

static void run_line(tcpst__out *o, const lrow *r, tcpst_time t0)
{
    char bytes[32];
    if (r->bytes >= 1000000) {
        snprintf(bytes, sizeof bytes, "%.1f MB", (double)r->bytes / 1e6);
    } else if (r->bytes >= 1000) {
        snprintf(bytes, sizeof bytes, "%.1f kB", (double)r->bytes / 1e3);
    } else {
        snprintf(bytes, sizeof bytes, "%" PRIu64 " B", r->bytes);
    }
    char line[256], frames[64];
    snprintf(frames, sizeof frames, " (frames %" PRIu64 "-%" PRIu64 ")", r->frame, r->last_frame);
    int n = snprintf(line, sizeof line, "%7s %10.6f  ... %" PRIu64 " segments, %s, %.3f s%s ...",
                     "", (double)(r->ts - t0) / 1e9, r->count, bytes,
                     (double)(r->last_ts - r->ts) / 1e9, frames);
    if (n > 0 && (unsigned)n > columns(o)) { /* the frame range is the first to go */
        snprintf(line, sizeof line, "%7s %10.6f  ... %" PRIu64 " segments, %s, %.3f s ...", "",
                 (double)(r->ts - t0) / 1e9, r->count, bytes, (double)(r->last_ts - r->ts) / 1e9);
    }
    put_wrapped(o, "\033[2m", line, 20);
}

static void finding_line(tcpst__out *o, const tcpst_finding *f)
{
    static const char *const who[] = {"client", "server", "both"};
    tcpst_anomaly_type t = (tcpst_anomaly_type)f->type;
    tcpst_severity sev = tcpst_anomaly_severity(t);
    const char *code = sev == TCPST_SEV_ERROR     ? "\033[1;31m"
                       : sev == TCPST_SEV_WARNING ? "\033[33m"
                                                  : "\033[36m";
    char extra[64] = "";
    if (tcpst_anomaly_has_duration(t)) {
        /* Every duration type keeps its duration in a fact named "duration". */
        const tcpst_factdesc *d = tcpst_anomaly_facts(t);
        for (unsigned i = 0; i < TCPST_FACTS; i++) {
            if (d[i].name && strcmp(d[i].name, "duration") == 0) {
                snprintf(extra, sizeof extra, ", %.3f s%s", (double)f->fact[i] / 1e9,
                         f->still_at_end ? ", still at the end" : "");
            }
        }
    }
    char line[256];
    snprintf(line, sizeof line, "%7s %10s  ! %s (%s, %s)%s%s", "", "", tcpst_anomaly_id(t),
             who[f->who < 3 ? f->who : 2], tcpst_severity_name(sev), extra,
             f->count > 1 ? ", and more" : "");
    put_wrapped(o, code, line, 22);
}

/* The findings whose first evidence frame (or first frame) lies in [lo, hi]. */
static void findings_at(tcpst__out *o, const tcpst_conn *c, uint64_t lo, uint64_t hi, bool *done)
{
    for (unsigned i = 0; i < c->findings.n; i++) {
        const tcpst_finding *f = &c->findings.f[i];
        uint64_t at = f->nevidence ? f->evidence[0] : f->first_frame;
        if (!done[i] && at >= lo && at <= hi) {
            done[i] = true;
            finding_line(o, f);
        }
    }
}

static bool ladder_record(tcpst__out *o, const tcpst_conn *c)
{
    char a[TCPST_ADDRPORT_STRLEN], b[TCPST_ADDRPORT_STRLEN];
    tcpst_addrport_format(&c->ep[0].addr, c->ep[0].port, a);
    tcpst_addrport_format(&c->ep[1].addr, c->ep[1].port, b);
    char head[256];
    snprintf(head, sizeof head, "connection #%" PRIu64 "  %s -> %s  (IPv%u, roles %s)", c->id, a, b,
             (unsigned)c->ip_version, c->roles_inferred ? "inferred" : "observed");
    put_wrapped(o, "\033[1m", head, 4);
    tcpst__sink_printf(o->sink, "%7s %10s  %-14s %*s %s\n", "FRAME", "TIME", "CLIENT",
                       (int)(columns(o) - 50), "", "SERVER");
    const lconn *l = tcpst__segrows_get(&L, c->id);
    bool done[TCPST_FINDINGS_MAX] = {false};
    for (size_t i = 0; l && i < l->n; i++) {
        const lrow *r = &l->rows[i];
        if (r->kind != TCPST__ROW_SEGMENT) {
            run_line(o, r, c->first_ts);
            findings_at(o, c, r->frame, r->last_frame, done);
        } else {
            segment_line(o, l, r, c->first_ts);
            findings_at(o, c, r->frame, r->frame, done);
        }
    }
    findings_at(o, c, 0, UINT64_MAX, done); /* at frames not shown (capture end, timers) */
    bool open_at_end = tcpst_conn_open_at_end(c);
    if (open_at_end) {
        /* What was still wrong then, by name: the answer to "why is it stuck?". */
        char still[256] = "";
        size_t len = 0;
        static const char *const who[] = {"client", "server", "both"};
        for (unsigned i = 0; i < c->findings.n; i++) {
            const tcpst_finding *f = &c->findings.f[i];
            if (f->still_at_end && len < sizeof still) {
                int k =
                    snprintf(still + len, sizeof still - len, "%s %s(%s)",
                             len ? "," : "; still:", tcpst_anomaly_id((tcpst_anomaly_type)f->type),
                             who[f->who < 3 ? f->who : 2]);
                len += k > 0 ? (size_t)k : 0;
            }
        }
        char line[512];
        snprintf(line, sizeof line,
                 "capture ends %.3f s after the last packet: client %s, server %s%s%s",
                 (double)(c->end_ts - c->last_ts) / 1e9,
                 tcpst_state_name((tcpst_state)c->ep[0].state),
                 tcpst_state_name((tcpst_state)c->ep[1].state), still,
                 c->end_undecidable ? " (packets were lost: not proven)" : "");
        put_wrapped(o, "", line, 4);
    } else {
        char line[256];
        snprintf(line, sizeof line, "ends: client %s, server %s (%s)",
                 tcpst_state_name((tcpst_state)c->ep[0].state),
                 tcpst_state_name((tcpst_state)c->ep[1].state),
                 tcpst_end_reason_name(c->end_reason));
        put_wrapped(o, "", line, 4);
    }
    tcpst__sink_puts(o->sink, "\n");
    tcpst__segrows_drop(&L, c->id);
    return true;
}

static void ladder_forget(tcpst__out *o, const tcpst_conn *c)
{
    (void)o;
    tcpst__segrows_drop(&L, c->id);
}

static void ladder_head(tcpst__out *o)
{
    put_wrapped(o, "",
                "(~STATE: inferred from the peer's segments; seq and ack are relative to each "
                "side's ISN; win is scaled)",
                1);
    tcpst__sink_puts(o->sink, "\n");
}

static void ladder_tail(tcpst__out *o, const tcpst__run_end *e)
{
    (void)o;
    (void)e;
    tcpst__segrows_free(&L);
}

const tcpst__format tcpst__format_ladder = {.name = "ladder",
                                            .streams = false,
                                            .head = ladder_head,
                                            .record = ladder_record,
                                            .tail = ladder_tail,
                                            .segment = ladder_segment,
                                            .forget = ladder_forget};
