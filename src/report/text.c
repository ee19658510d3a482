/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * text.c - the table for people (--format text): a header, one row per connection (id,
 * endpoints, both final states, duration, findings), then totals, the most frequent
 * anomaly types and the verdict.
 *
 * Not here: the verdict's lines themselves (textout.c, shared with stderr).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "record.h"
#include "tcpstate/anomaly.h"
#include "tcpstate/textout.h"
#include "tcpstate/timefmt.h"

static const char *header_text(void)
{
    /* FIRST-LAST: the time from the connection's first packet to its last. */
    return "    ID  CLIENT -> SERVER                                  CLIENT       SERVER      "
           "FIRST-LAST  ANOMALIES\n";
}

/* One row, newline-terminated; malloc'd (NULL on ENOMEM). */
static char *row_text(const tcpst_conn *c)
{
    char cl[TCPST_ADDRPORT_STRLEN], sv[TCPST_ADDRPORT_STRLEN], pair[2 * sizeof cl + 8];
    tcpst_addrport_format(&c->ep[0].addr, c->ep[0].port, cl);
    tcpst_addrport_format(&c->ep[1].addr, c->ep[1].port, sv);
    snprintf(pair, sizeof pair, "%s -> %s", cl, sv);
    size_t cap = 256 + sizeof pair + TCPST_FINDINGS_MAX * 96;
    char *line = malloc(cap);
    if (!line) {
        return NULL;
    }
    double dur = (double)(c->last_ts - c->first_ts) / 1e9;
    /* Long IPv6 pairs get a line of their own, so the columns stay where the header says. */
    bool own_line = strlen(pair) > 48;
    int len =
        own_line ? snprintf(line, cap, "%6llu  %s\n%6s  %-48s  %-11s  %-11s %9.3fs ",
                            (unsigned long long)c->id, pair, "", "",
                            tcpst_state_name(c->ep[0].state), tcpst_state_name(c->ep[1].state), dur)
                 : snprintf(line, cap, "%6llu  %-48s  %-11s  %-11s %9.3fs ",
                            (unsigned long long)c->id, pair, tcpst_state_name(c->ep[0].state),
                            tcpst_state_name(c->ep[1].state), dur);
    size_t used = len > 0 ? (size_t)len : 0;
    static const char *const who[] = {"client", "server", "both"};
    if (c->findings.n == 0) {
        used += (size_t)snprintf(line + used, cap - used, " -");
    }
    for (unsigned i = 0; i < c->findings.n && used < cap; i++) {
        const tcpst_finding *f = &c->findings.f[i];
        /* Live captures name the endpoint's process: who to go and fix. */
        const tcpst_hostproc *hp = f->who < 2 ? tcpst__host_proc(c->host[f->who].pid) : NULL;
        char proc[48] = "";
        if (hp) {
            snprintf(proc, sizeof proc, " pid %u %s", (unsigned)hp->pid, hp->command);
        }
        used += (size_t)snprintf(line + used, cap - used, " %s(%s%s)",
                                 tcpst_anomaly_id((tcpst_anomaly_type)f->type),
                                 who[f->who < 3 ? f->who : 2], proc);
    }
    if (used + 2 > cap) {
        used = cap - 2;
    }
    line[used] = '\n';
    line[used + 1] = '\0';
    return line;
}

static void head(tcpst__out *o)
{
    tcpst__sink_puts(o->sink, header_text());
}

static bool record(tcpst__out *o, const tcpst_conn *c)
{
    char *line = row_text(c);
    if (!line) {
        tcpst__sink_fail(o->sink, ENOMEM);
        return false;
    }
    tcpst__sink_puts(o->sink, line);
    free(line);
    return true;
}

/* When the capture ended and from what, and whether it is whole: stuck durations are
 * measured to that end (docs/capture-end.md). */
static void capture_line(tcpst__sink *s, const tcpst_report_meta *m)
{
    const tcpst_capture_end *end = m->end;
    if (end == NULL || !end->known) {
        return;
    }
    char t[TCPST_TIME_STRLEN];
    tcpst_format_time(end->end, t);
    tcpst__sink_printf(s, "capture ended %s (%s)", t, end->source);
    if (m->drops_known) {
        tcpst__sink_printf(s, ", %llu packets dropped by the capture",
                           (unsigned long long)m->dropped);
    }
    if (m->truncated) {
        tcpst__sink_puts(s, ", an input was cut short");
    }
    if ((m->drops_known && m->dropped > 0) || m->truncated) {
        tcpst__sink_puts(s, ": states open at the end are undecidable");
    }
    tcpst__sink_puts(s, "\n");
}

static void tail(tcpst__out *o, const tcpst__run_end *e)
{
    const tcpst_engine_stats *st = e->stats;
    tcpst__sink *s = o->sink;
    if (s->err) {
        return;
    }
    uint64_t problems = st->packets - st->tcp - st->non_tcp;
    tcpst__sink_printf(s,
                       "\n%llu connection%s (%llu open at end), %llu packet%s, %llu TCP segment%s, "
                       "%llu decode problem%s\n",
                       (unsigned long long)st->connections, st->connections == 1 ? "" : "s",
                       (unsigned long long)st->open_at_end, (unsigned long long)st->packets,
                       st->packets == 1 ? "" : "s", (unsigned long long)st->tcp,
                       st->tcp == 1 ? "" : "s", (unsigned long long)problems,
                       problems == 1 ? "" : "s");
    capture_line(s, e->meta);
    tcpst__sink_puts(s, "anomalies:");
    bool any = false;
    for (int t = 0; t < TCPST_A__COUNT; t++) {
        if (e->tallies->anomaly_counts[t]) {
            tcpst__sink_printf(s, " %s=%llu", tcpst_anomaly_id((tcpst_anomaly_type)t),
                               (unsigned long long)e->tallies->anomaly_counts[t]);
            any = true;
        }
    }
    tcpst__sink_puts(s, any ? "\n" : " none\n");
    if (e->policy && e->policy->n) {
        tcpst_text_verdict(s->out, "", e->policy, false);
    }
}

const tcpst__format tcpst__format_text = {
    .name = "text", .streams = false, .head = head, .record = record, .tail = tail};
