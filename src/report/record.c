/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * record.c - one connection record as JSON, with the streaming writer (jsonw.h): no tree,
 * no malloc per value.  The JSON and NDJSON formats write records with it, and NDJSON its
 * anomaly lines.  Member order is the report schema's (docs/report.schema.json).
 *
 * Not here: where the text goes (the formats, sink.c), or the run's totals (doc.c).
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "tcpstate/anomaly.h"
#include "tcpstate/decode.h"
#include "tcpstate/endpoint.h"
#include "tcpstate/report.h"

/* Records are written with the streaming writer (jsonw.h): no tree, no malloc per value. */
void tcpst__w_time(tcpst_jw *w, const char *key, tcpst_time ns)
{
    tcpst__jw_kus(w, key, tcpst__time_us(ns));
}

static void w_time_or_null(tcpst_jw *w, const char *key, tcpst_time ns, bool have)
{
    if (have) {
        tcpst__w_time(w, key, ns);
    } else {
        tcpst__jw_knull(w, key);
    }
}

static void w_frame(tcpst_jw *w, const char *key, uint64_t frame)
{
    if (frame) {
        tcpst__jw_kuint(w, key, frame);
    } else {
        tcpst__jw_knull(w, key);
    }
}

void tcpst__w_addr(tcpst_jw *w, const char *key, const tcpst_addr *a)
{
    char buf[TCPST_ADDR_STRLEN];
    tcpst_addr_format(a, buf);
    tcpst__jw_kname(w, key, buf);
}

static void w_transition(tcpst_jw *w, const tcpst_transition *t)
{
    tcpst__jw_obj_begin(w);
    tcpst__w_time(w, "ts", t->ts);
    w_frame(w, "frame", t->frame);
    tcpst__jw_kname(w, "from", tcpst_state_name(t->from));
    tcpst__jw_kname(w, "to", tcpst_state_name(t->to));
    tcpst__jw_kname(w, "how", t->inferred ? "inferred" : "observed");
    tcpst__jw_kname(w, "cause", tcpst_cause_name(t->cause));
    if (t->cause != TCPST_CAUSE_TIMER) {
        char flags[16];
        tcpst_flags_format(t->flags, flags);
        tcpst__jw_key(w, "segment");
        tcpst__jw_obj_begin(w);
        tcpst__jw_kname(w, "flags", flags);
        tcpst__jw_kuint(w, "seq", t->seq);
        tcpst__jw_kuint(w, "ack", t->ack);
        tcpst__jw_kuint(w, "len", t->len);
        tcpst__jw_obj_end(w);
    }
    tcpst__jw_obj_end(w);
}

static void w_maybe_uint(tcpst_jw *w, const char *key, bool have, uint64_t v)
{
    if (have) {
        tcpst__jw_kuint(w, key, v);
    } else {
        tcpst__jw_knull(w, key);
    }
}

/* The run's host sockets (live captures), whose process facts records name.  One per
 * process, as the report is: records are written by several formats and receivers. */
static const tcpst_hostsock *host_table;

void tcpst__w_use_host(const tcpst_hostsock *h)
{
    host_table = h;
}

const tcpst_hostproc *tcpst__host_proc(uint32_t pid)
{
    return tcpst_hostsock_proc(host_table, pid);
}

/* The host's view of a local endpoint (live captures only: docs/report-schema.md). */
void tcpst__w_hostview(tcpst_jw *w, const tcpst_hostview *v)
{
    if (v->flags & TCPST_HV_KSTATE) {
        tcpst__jw_kname(w, "kernel_state", tcpst_state_name((tcpst_state)v->kstate));
    } else {
        tcpst__jw_knull(w, "kernel_state");
    }
    const tcpst_hostproc *p = tcpst_hostsock_proc(host_table, v->pid);
    tcpst__jw_key(w, "process");
    if (!p) {
        tcpst__jw_null(w);
        return;
    }
    tcpst__jw_obj_begin(w);
    tcpst__jw_kuint(w, "pid", p->pid);
    tcpst__jw_kstr(w, "command", p->command);
    tcpst__jw_kstr(w, "cmdline", p->cmdline);
    tcpst__jw_kuint(w, "uid", p->uid);
    if (p->cgroup) {
        tcpst__jw_kstr(w, "cgroup", p->cgroup);
    } else {
        tcpst__jw_knull(w, "cgroup");
    }
    tcpst__jw_obj_end(w);
}

static void w_endpoint(tcpst_jw *w, const tcpst_conn *c, const tcpst_endpoint *e, bool open_at_end)
{
    bool sent = e->packets > 0;
    tcpst__jw_obj_begin(w);
    tcpst__w_addr(w, "addr", &e->addr);
    tcpst__jw_kuint(w, "port", e->port);
    tcpst__jw_kname(w, "state", tcpst_state_name(e->state));
    w_maybe_uint(w, "isn", e->has & TCPST_EP_ISN, e->isn);
    tcpst__jw_kbool(w, "isn_inferred", e->has & TCPST_EP_ISN_INFERRED);
    tcpst__jw_kuint(w, "packets", e->packets);
    tcpst__jw_kuint(w, "bytes", e->bytes);
    tcpst__jw_kuint(w, "payload_bytes", e->payload_bytes);
    tcpst__jw_key(w, "retransmissions");
    tcpst__jw_obj_begin(w);
    tcpst__jw_kuint(w, "segments", e->retrans_segments);
    tcpst__jw_kuint(w, "bytes", e->retrans_bytes);
    tcpst__jw_obj_end(w);
    tcpst__jw_kuint(w, "keepalives", e->keepalives);
    tcpst__jw_kuint(w, "duplicates", e->duplicates);
    tcpst__jw_kuint(w, "syn", e->syns);
    tcpst__jw_kuint(w, "fin", e->fins);
    tcpst__jw_kuint(w, "rst", e->rsts);
    tcpst__jw_key(w, "options");
    tcpst__jw_obj_begin(w);
    w_maybe_uint(w, "mss", e->has & TCPST_EP_MSS, e->mss);
    w_maybe_uint(w, "wscale", e->has & TCPST_EP_WSCALE, e->wscale);
    tcpst__jw_kbool(w, "sack_permitted", e->has & TCPST_EP_SACKPERM);
    tcpst__jw_kbool(w, "timestamps", e->has & TCPST_EP_TS);
    tcpst__jw_kbool(w, "tfo", e->has & TCPST_EP_TFO);
    tcpst__jw_obj_end(w);
    w_time_or_null(w, "first_ts", e->first_ts, sent);
    w_time_or_null(w, "last_ts", e->last_ts, sent);
    if (open_at_end) {
        /* Idle: capture end minus the last segment this side sent. */
        tcpst_time since = sent ? e->last_ts : c->first_ts;
        tcpst__w_time(w, "idle", c->end_ts - since);
    }
    tcpst__jw_key(w, "transitions");
    tcpst__jw_arr_begin(w);
    for (unsigned i = 0; i < e->tl_count; i++) {
        w_transition(w, &e->tl[i]);
    }
    tcpst__jw_arr_end(w);
    tcpst__jw_kuint(w, "transitions_dropped", e->tl_dropped);
    const tcpst_hostview *v = &c->host[e == &c->ep[0] ? 0 : 1];
    if (v->flags & TCPST_HV_ASKED) {
        tcpst__w_hostview(w, v);
    }
    tcpst__jw_obj_end(w);
}

static void w_fact(tcpst_jw *w, tcpst_anomaly_type t, const tcpst_factdesc *d, int64_t v)
{
    static const char *const optbad[] = {
        "length_short", "overrun",           "mss_length", "wscale_length", "sackok_length",
        "sack_length",  "timestamps_length", "tfo_length", "wscale_range",  "duplicate"};
    tcpst__jw_key(w, d->name);
    switch (d->kind) {
        case TCPST_FACT_SECONDS:
            tcpst__jw_us(w, tcpst__time_us(v));
            return;
        case TCPST_FACT_STATE:
            tcpst__jw_name(w, tcpst_state_name((tcpst_state)v));
            return;
        case TCPST_FACT_FLAGS: {
            char buf[16];
            tcpst_flags_format((uint16_t)v, buf);
            tcpst__jw_name(w, buf);
            return;
        }
        case TCPST_FACT_BOOL:
            tcpst__jw_bool(w, v != 0);
            return;
        case TCPST_FACT_REASON:
            tcpst__jw_name(w, tcpst_anomaly_reason(t, v));
            return;
        case TCPST_FACT_OPTBAD:
            tcpst__jw_arr_begin(w);
            for (unsigned i = 0; i < sizeof optbad / sizeof optbad[0]; i++) {
                if (v & (1 << i)) {
                    tcpst__jw_name(w, optbad[i]);
                }
            }
            tcpst__jw_arr_end(w);
            return;
        case TCPST_FACT_INT:
            break;
    }
    tcpst__jw_int(w, v);
}

void tcpst__w_finding(tcpst_jw *w, const tcpst_finding *f)
{
    static const char *const who[] = {"client", "server", "both"};
    tcpst_anomaly_type t = (tcpst_anomaly_type)f->type;
    tcpst__jw_obj_begin(w);
    tcpst__jw_kname(w, "type", tcpst_anomaly_id(t));
    tcpst__jw_kname(w, "severity", tcpst_severity_name(tcpst_anomaly_severity(t)));
    tcpst__jw_kname(w, "endpoint", who[f->who < 3 ? f->who : 2]);
    tcpst__w_time(w, "first_ts", f->first_ts);
    w_frame(w, "first_frame", f->first_frame);
    tcpst__w_time(w, "last_ts", f->last_ts);
    w_frame(w, "last_frame", f->last_frame);
    tcpst__jw_kuint(w, "count", f->count);
    tcpst__jw_key(w, "evidence");
    tcpst__jw_arr_begin(w);
    for (unsigned i = 0; i < f->nevidence; i++) {
        tcpst__jw_uint(w, f->evidence[i]);
    }
    tcpst__jw_arr_end(w);
    if (tcpst_anomaly_has_duration(t)) {
        tcpst__jw_kbool(w, "still_at_capture_end", f->still_at_end);
    }
    const tcpst_factdesc *d = tcpst_anomaly_facts(t);
    for (unsigned i = 0; i < TCPST_FACTS; i++) {
        if (d[i].name) {
            w_fact(w, t, &d[i], f->fact[i]);
        }
    }
    tcpst__jw_obj_end(w);
}

/* An array of encapsulation layers, outermost first. */
static void w_encap(tcpst_jw *w, const tcpst_encap *layers, unsigned n)
{
    tcpst__jw_arr_begin(w);
    for (unsigned i = 0; i < n && i < TCPST_ENCAP_MAX; i++) {
        const tcpst_encap *e = &layers[i];
        tcpst__jw_obj_begin(w);
        tcpst__jw_kname(w, "type", tcpst_encap_type_name((tcpst_encap_type)e->type));
        /* Named as the protocol names it ("vni", "teid"), so jq filters read naturally. */
        const char *idkey = tcpst_encap_id_name((tcpst_encap_type)e->type);
        if (e->has_id && idkey) {
            tcpst__jw_kuint(w, idkey, e->id);
        }
        if (e->in_key) {
            tcpst__jw_kbool(w, "in_key", true);
        }
        tcpst__jw_obj_end(w);
    }
    tcpst__jw_arr_end(w);
}

/*
 * VLAN ids and encapsulation layers (outermost first, decode.h), only when there are any;
 * for a record joined across two connection keys, also the layers each side's segments
 * carried (encap_by_sender), which "vlan" and "encap" (the first segment's) cannot show.
 */
void tcpst__w_layers(tcpst_jw *w, const tcpst_conn *c)
{
    if (c->nvlan) {
        tcpst__jw_key(w, "vlan");
        tcpst__jw_arr_begin(w);
        for (unsigned i = 0; i < c->nvlan && i < TCPST_MAX_VLAN; i++) {
            tcpst__jw_uint(w, c->vlan[i]);
        }
        tcpst__jw_arr_end(w);
    }
    if (c->nencap) {
        tcpst__jw_key(w, "encap");
        w_encap(w, c->encap, c->nencap);
    }
    if (!c->joined) {
        return;
    }
    static const char *const side[2] = {"client", "server"};
    tcpst__jw_key(w, "encap_by_sender");
    tcpst__jw_obj_begin(w);
    for (unsigned who = 0; who < 2; who++) {
        const tcpst_encap *layers;
        unsigned n = tcpst_conn_layers_of(c, who, &layers);
        tcpst__jw_key(w, side[who]);
        w_encap(w, layers, n);
    }
    tcpst__jw_obj_end(w);
}

void tcpst_report_wireshark_filter(const tcpst_conn *c, char *out, size_t n)
{
    const char *ip = c->ip_version == 6 ? "ipv6" : "ip";
    char a[TCPST_ADDR_STRLEN], b[TCPST_ADDR_STRLEN];
    tcpst_addr_format(&c->ep[0].addr, a);
    tcpst_addr_format(&c->ep[1].addr, b);
    unsigned pa = c->ep[0].port, pb = c->ep[1].port;
    /* Both directions exactly, then the record's frames: a 4-tuple used again later (a new
     * record) stays out. */
    snprintf(out, n,
             "((%s.src==%s && tcp.srcport==%u && %s.dst==%s && tcp.dstport==%u) || "
             "(%s.src==%s && tcp.srcport==%u && %s.dst==%s && tcp.dstport==%u)) && "
             "frame.number>=%llu && frame.number<=%llu",
             ip, a, pa, ip, b, pb, ip, b, pb, ip, a, pa, (unsigned long long)c->first_frame,
             (unsigned long long)c->last_frame);
    /* Ids that separate connections (a VNI, a VLAN) separate them in Wireshark too; a record
     * joined across two keys has one per direction, and its frame range must do. */
    static const char *const field[TCPST_ENCAP__COUNT] = {
        [TCPST_ENCAP_VLAN] = "vlan.id",         [TCPST_ENCAP_GRE] = "gre.key",
        [TCPST_ENCAP_ERSPAN] = "erspan.spanid", [TCPST_ENCAP_VXLAN] = "vxlan.vni",
        [TCPST_ENCAP_GENEVE] = "geneve.vni",    [TCPST_ENCAP_GTPU] = "gtp.teid"};
    for (unsigned i = 0; !c->joined && i < c->nencap && i < TCPST_ENCAP_MAX; i++) {
        const tcpst_encap *e = &c->encap[i];
        size_t used = strlen(out);
        if (e->in_key && e->has_id && e->type < TCPST_ENCAP__COUNT && field[e->type] && used < n) {
            snprintf(out + used, n - used, " && %s==%llu", field[e->type],
                     (unsigned long long)e->id);
        }
    }
    for (unsigned i = 0; !c->joined && c->nencap == 0 && i < c->nvlan && i < TCPST_MAX_VLAN; i++) {
        size_t used = strlen(out);
        if (used < n) {
            snprintf(out + used, n - used, " && vlan.id==%u", (unsigned)c->vlan[i]);
        }
    }
}

/* The record's members, inside an object the caller opened (NDJSON puts "type" first). */
static void w_conn_members(tcpst_jw *w, const tcpst_conn *c)
{
    bool open_at_end = tcpst_conn_open_at_end(c);
    tcpst__jw_kuint(w, "id", c->id);
    tcpst__jw_kuint(w, "ip_version", c->ip_version);
    tcpst__jw_kname(w, "roles", c->roles_inferred ? "inferred" : "observed");
    tcpst__jw_key(w, "client");
    w_endpoint(w, c, &c->ep[0], open_at_end);
    tcpst__jw_key(w, "server");
    w_endpoint(w, c, &c->ep[1], open_at_end);
    tcpst__w_time(w, "first_ts", c->first_ts);
    tcpst__w_time(w, "last_ts", c->last_ts);
    tcpst__w_time(w, "duration", c->last_ts - c->first_ts);
    tcpst__jw_kuint(w, "first_frame", c->first_frame);
    tcpst__jw_kuint(w, "last_frame", c->last_frame);
    char filter[TCPST_WSFILTER_LEN];
    tcpst_report_wireshark_filter(c, filter, sizeof filter);
    tcpst__jw_kstr(w, "wireshark_filter", filter);
    tcpst__jw_kbool(w, "open_at_end", open_at_end);
    tcpst__jw_kname(w, "end_reason", tcpst_end_reason_name(c->end_reason));
    const char *undec = tcpst_undecidable_name((tcpst_undecidable)c->end_undecidable);
    if (undec != NULL) {
        /* Only when it applies, so that a lossless capture's records keep their shape. */
        tcpst__jw_kname(w, "end_undecidable", undec);
    }
    tcpst__jw_kname(w, "conn_state", tcpst_zeek_conn_state(&c->zeek));
    tcpst__jw_kstr(w, "history", c->zeek.hist);
    tcpst__jw_key(w, "zeek");
    tcpst__jw_obj_begin(w);
    tcpst__jw_kname(w, "orig", c->zeek.orig ? "server" : "client");
    tcpst__jw_kuint(w, "orig_pkts", tcpst_zeek_orig_pkts(&c->zeek));
    tcpst__jw_kuint(w, "resp_pkts", tcpst_zeek_resp_pkts(&c->zeek));
    tcpst__jw_obj_end(w);
    tcpst__jw_kuint(w, "rst_not_accepted", c->rst_not_accepted);
    tcpst__jw_kbool(w, "simultaneous_open", c->events & TCPST_EV_SIMUL_OPEN);
    tcpst__jw_kbool(w, "simultaneous_close", c->events & TCPST_EV_SIMUL_CLOSE);
    tcpst__w_layers(w, c);
    tcpst__jw_key(w, "anomalies");
    tcpst__jw_arr_begin(w);
    for (unsigned i = 0; i < c->findings.n; i++) {
        tcpst__w_finding(w, &c->findings.f[i]);
    }
    tcpst__jw_arr_end(w);
}

/* The record as compact JSON into `w` (emptied first). */
void tcpst__w_conn(tcpst_jw *w, const tcpst_conn *c, const char *ndjson_type)
{
    tcpst__jw_reset(w);
    tcpst__jw_obj_begin(w);
    if (ndjson_type) {
        tcpst__jw_kstr(w, "type", ndjson_type);
    }
    w_conn_members(w, c);
    tcpst__jw_obj_end(w);
}

char *tcpst_report_conn_text(const tcpst_conn *c)
{
    tcpst_jw w;
    tcpst__jw_init(&w);
    tcpst__w_conn(&w, c, NULL);
    char *s = w.err ? NULL : strdup(tcpst__jw_text(&w));
    tcpst__jw_free(&w);
    return s;
}
