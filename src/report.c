/*
 * report.c - serialise records and the run summary with jansson; atomic commit.
 *
 * JSON layout: {"tcpstate_version", "schema_version", "connections": [...],
 * "inputs", "stats", "summary", "verdict"} - connections come first so they
 * can stream out while the capture is still being read; the totals follow at
 * the end.  NDJSON writes the same objects one per line, tagged with a "type"
 * first, as they happen: records in the order connections end (no id-order
 * buffer, so memory does not grow with the capture), anomaly and stats lines
 * in between, and the totals as a last "summary" line.  Every NDJSON line is
 * flushed at once so `tail -f` and `jq` see it; an NDJSON file is therefore
 * written in place, not atomically renamed.  Times are epoch seconds rounded
 * to microseconds.  The text table lives in textout.c.
 */
#include "tcpstate/report.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcpstate/decode.h"
#include "tcpstate/endpoint.h"
#include "tcpstate/textout.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(16))

static const char *const zeek_states[] = {"S0",   "S1",     "SF",    "REJ", "S2",  "S3", "RSTO",
                                          "RSTR", "RSTOS0", "RSTRH", "SH",  "SHR", "OTH"};
#define N_ZEEK_STATES (sizeof zeek_states / sizeof zeek_states[0])

/* Capture-wide tallies per address (SYN floods and scans, RST storms). */
typedef struct hostcount {
    tcpst_addr addr;
    uint8_t used;
    uint64_t unanswered_syns; /* as the server of syn_unanswered connections */
    uint64_t resets;          /* connections it reset or rejected */
    uint64_t clients;         /* distinct client addresses is too costly: connections */
    tcpst_time first_ts, last_ts;
} hostcount;

#define HOSTS_MAX     65536 /* bound on the table; further addresses are counted */
#define SYN_FLOOD_MIN 20    /* unanswered SYNs towards one server to report it */
#define RST_STORM_MIN 20    /* connections reset by one host to report it */

typedef struct pending {
    uint64_t id;
    char *text;
} pending;

struct tcpst_report {
    FILE *out;
    char *path;     /* final name, NULL for stdout */
    char *tmp_path; /* temporary file being written */
    tcpst_report_opts opts;
    uint64_t next_id; /* lowest id not yet written */
    uint64_t written;
    pending *heap; /* min-heap by id of records waiting for lower ids */
    size_t nheap, capheap;
    int err; /* first write error (errno), 0 if none */
    bool head_written;
    bool stream; /* NDJSON: one flushed line per event, nothing held */
    uint64_t final_pairs[TCPST_STATE__COUNT][TCPST_STATE__COUNT];
    uint64_t zeek_counts[N_ZEEK_STATES];
    uint64_t roles_inferred;
    uint64_t anomaly_counts[TCPST_A__COUNT]; /* findings per type */
    uint64_t anomaly_conns[3];               /* connections by highest severity */
    hostcount *hosts;                        /* per-address tallies, open addressing */
    size_t nhosts, caphosts;
    uint64_t hosts_untracked; /* addresses beyond the table's cap */
    uint64_t established_conns, one_sided_conns, lossy_conns;
    uint64_t announced[TCPST_A__COUNT]; /* NDJSON: anomaly lines written, per type */
};

static json_t *jtime(tcpst_time ns)
{
    /* Round to the microsecond: a double holds that exactly for any epoch time. */
    int64_t us = (ns >= 0 ? ns + 500 : ns - 500) / 1000;
    return json_real((double)us / 1e6);
}

static json_t *jtime_or_null(tcpst_time ns, bool have)
{
    return have ? jtime(ns) : json_null();
}

static json_t *addr_json(const tcpst_addr *a)
{
    char buf[TCPST_ADDR_STRLEN];
    tcpst_addr_format(a, buf);
    return json_string(buf);
}

static json_t *transition_json(const tcpst_transition *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "ts", jtime(t->ts));
    json_object_set_new(o, "frame", t->frame ? json_integer((json_int_t)t->frame) : json_null());
    json_object_set_new(o, "from", json_string(tcpst_state_name(t->from)));
    json_object_set_new(o, "to", json_string(tcpst_state_name(t->to)));
    json_object_set_new(o, "how", json_string(t->inferred ? "inferred" : "observed"));
    json_object_set_new(o, "cause", json_string(tcpst_cause_name(t->cause)));
    if (t->cause != TCPST_CAUSE_TIMER) {
        char flags[16];
        tcpst_flags_format(t->flags, flags);
        json_object_set_new(o, "segment",
                            json_pack("{s:s, s:I, s:I, s:I}", "flags", flags, "seq",
                                      (json_int_t)t->seq, "ack", (json_int_t)t->ack, "len",
                                      (json_int_t)t->len));
    }
    return o;
}

static json_t *endpoint_json(const tcpst_conn *c, const tcpst_endpoint *e, bool open_at_end)
{
    json_t *o = json_object();
    bool sent = e->packets > 0;
    json_object_set_new(o, "addr", addr_json(&e->addr));
    json_object_set_new(o, "port", json_integer(e->port));
    json_object_set_new(o, "state", json_string(tcpst_state_name(e->state)));
    json_object_set_new(o, "isn", (e->has & TCPST_EP_ISN) ? json_integer(e->isn) : json_null());
    json_object_set_new(o, "isn_inferred", json_boolean(e->has & TCPST_EP_ISN_INFERRED));
    json_object_set_new(o, "packets", json_integer((json_int_t)e->packets));
    json_object_set_new(o, "bytes", json_integer((json_int_t)e->bytes));
    json_object_set_new(o, "payload_bytes", json_integer((json_int_t)e->payload_bytes));
    json_object_set_new(o, "retransmissions",
                        json_pack("{s:I, s:I}", "segments", (json_int_t)e->retrans_segments,
                                  "bytes", (json_int_t)e->retrans_bytes));
    json_object_set_new(o, "keepalives", json_integer(e->keepalives));
    json_object_set_new(o, "syn", json_integer(e->syns));
    json_object_set_new(o, "fin", json_integer(e->fins));
    json_object_set_new(o, "rst", json_integer(e->rsts));
    json_t *opt = json_object();
    json_object_set_new(opt, "mss", (e->has & TCPST_EP_MSS) ? json_integer(e->mss) : json_null());
    json_object_set_new(opt, "wscale",
                        (e->has & TCPST_EP_WSCALE) ? json_integer(e->wscale) : json_null());
    json_object_set_new(opt, "sack_permitted", json_boolean(e->has & TCPST_EP_SACKPERM));
    json_object_set_new(opt, "timestamps", json_boolean(e->has & TCPST_EP_TS));
    json_object_set_new(opt, "tfo", json_boolean(e->has & TCPST_EP_TFO));
    json_object_set_new(o, "options", opt);
    json_object_set_new(o, "first_ts", jtime_or_null(e->first_ts, sent));
    json_object_set_new(o, "last_ts", jtime_or_null(e->last_ts, sent));
    if (open_at_end) {
        /* Idle: capture end minus the last segment this side sent. */
        tcpst_time since = sent ? e->last_ts : c->first_ts;
        json_object_set_new(o, "idle", jtime(c->end_ts - since));
    }
    json_t *tl = json_array();
    for (unsigned i = 0; i < e->tl_count; i++) {
        json_array_append_new(tl, transition_json(&e->tl[i]));
    }
    json_object_set_new(o, "transitions", tl);
    json_object_set_new(o, "transitions_dropped", json_integer(e->tl_dropped));
    return o;
}

static json_t *fact_json(tcpst_anomaly_type t, const tcpst_factdesc *d, int64_t v)
{
    static const char *const optbad[] = {
        "length_short", "overrun",           "mss_length", "wscale_length", "sackok_length",
        "sack_length",  "timestamps_length", "tfo_length", "wscale_range",  "duplicate"};
    switch (d->kind) {
        case TCPST_FACT_SECONDS:
            return jtime(v);
        case TCPST_FACT_STATE:
            return json_string(tcpst_state_name((tcpst_state)v));
        case TCPST_FACT_FLAGS: {
            char buf[16];
            tcpst_flags_format((uint16_t)v, buf);
            return json_string(buf);
        }
        case TCPST_FACT_BOOL:
            return json_boolean(v != 0);
        case TCPST_FACT_REASON:
            return json_string(tcpst_anomaly_reason(t, v));
        case TCPST_FACT_OPTBAD: {
            json_t *a = json_array();
            for (unsigned i = 0; i < sizeof optbad / sizeof optbad[0]; i++) {
                if (v & (1 << i)) {
                    json_array_append_new(a, json_string(optbad[i]));
                }
            }
            return a;
        }
        case TCPST_FACT_INT:
            break;
    }
    return json_integer((json_int_t)v);
}

static json_t *finding_json(const tcpst_finding *f)
{
    static const char *const who[] = {"client", "server", "both"};
    tcpst_anomaly_type t = (tcpst_anomaly_type)f->type;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(tcpst_anomaly_id(t)));
    json_object_set_new(o, "severity", json_string(tcpst_severity_name(tcpst_anomaly_severity(t))));
    json_object_set_new(o, "endpoint", json_string(who[f->who < 3 ? f->who : 2]));
    json_object_set_new(o, "first_ts", jtime(f->first_ts));
    json_object_set_new(o, "first_frame",
                        f->first_frame ? json_integer((json_int_t)f->first_frame) : json_null());
    json_object_set_new(o, "last_ts", jtime(f->last_ts));
    json_object_set_new(o, "last_frame",
                        f->last_frame ? json_integer((json_int_t)f->last_frame) : json_null());
    json_object_set_new(o, "count", json_integer(f->count));
    json_t *ev = json_array();
    for (unsigned i = 0; i < f->nevidence; i++) {
        json_array_append_new(ev, json_integer((json_int_t)f->evidence[i]));
    }
    json_object_set_new(o, "evidence", ev);
    if (tcpst_anomaly_has_duration(t)) {
        json_object_set_new(o, "still_at_capture_end", json_boolean(f->still_at_end));
    }
    const tcpst_factdesc *d = tcpst_anomaly_facts(t);
    for (unsigned i = 0; i < TCPST_FACTS; i++) {
        if (d[i].name) {
            json_object_set_new(o, d[i].name, fact_json(t, &d[i], f->fact[i]));
        }
    }
    return o;
}

static json_t *vlan_json(const tcpst_conn *c)
{
    json_t *v = json_array();
    for (unsigned i = 0; i < c->nvlan && i < TCPST_MAX_VLAN; i++) {
        json_array_append_new(v, json_integer(c->vlan[i]));
    }
    return v;
}

/* Layers stripped on the way to the segment, outermost first (decode.h). */
static json_t *encap_json(const tcpst_conn *c)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < c->nencap && i < TCPST_ENCAP_MAX; i++) {
        const tcpst_encap *e = &c->encap[i];
        json_t *o = json_object();
        json_object_set_new(o, "type",
                            json_string(tcpst_encap_type_name((tcpst_encap_type)e->type)));
        /* Named as the protocol names it ("vni", "teid"), so jq filters read naturally. */
        const char *idkey = tcpst_encap_id_name((tcpst_encap_type)e->type);
        if (e->has_id && idkey) {
            json_object_set_new(o, idkey, json_integer((json_int_t)e->id));
        }
        if (e->in_key) {
            json_object_set_new(o, "in_key", json_true());
        }
        json_array_append_new(a, o);
    }
    return a;
}

/* VLAN ids and encapsulation layers, only when there are any. */
static void layers_fill(json_t *o, const tcpst_conn *c)
{
    if (c->nvlan) {
        json_object_set_new(o, "vlan", vlan_json(c));
    }
    if (c->nencap) {
        json_object_set_new(o, "encap", encap_json(c));
    }
}

/* The record's members, appended to `o` (NDJSON puts "type" before them). */
static json_t *conn_fill(json_t *o, const tcpst_conn *c)
{
    bool open_at_end = c->end_reason == TCPST_END_CAPTURE_END && !tcpst_conn_terminated(c);
    json_object_set_new(o, "id", json_integer((json_int_t)c->id));
    json_object_set_new(o, "ip_version", json_integer(c->ip_version));
    json_object_set_new(o, "roles", json_string(c->roles_inferred ? "inferred" : "observed"));
    json_object_set_new(o, "client", endpoint_json(c, &c->ep[0], open_at_end));
    json_object_set_new(o, "server", endpoint_json(c, &c->ep[1], open_at_end));
    json_object_set_new(o, "first_ts", jtime(c->first_ts));
    json_object_set_new(o, "last_ts", jtime(c->last_ts));
    json_object_set_new(o, "duration", jtime(c->last_ts - c->first_ts));
    json_object_set_new(o, "first_frame", json_integer((json_int_t)c->first_frame));
    json_object_set_new(o, "last_frame", json_integer((json_int_t)c->last_frame));
    json_object_set_new(o, "open_at_end", json_boolean(open_at_end));
    json_object_set_new(o, "end_reason", json_string(tcpst_end_reason_name(c->end_reason)));
    json_object_set_new(o, "conn_state", json_string(tcpst_zeek_conn_state(&c->zeek)));
    json_object_set_new(o, "history", json_string(c->zeek.hist));
    json_object_set_new(o, "zeek",
                        json_pack("{s:s, s:I, s:I}", "orig", c->zeek.orig ? "server" : "client",
                                  "orig_pkts", (json_int_t)tcpst_zeek_orig_pkts(&c->zeek),
                                  "resp_pkts", (json_int_t)tcpst_zeek_resp_pkts(&c->zeek)));
    json_object_set_new(o, "rst_not_accepted", json_integer(c->rst_not_accepted));
    json_object_set_new(o, "simultaneous_open", json_boolean(c->events & TCPST_EV_SIMUL_OPEN));
    json_object_set_new(o, "simultaneous_close", json_boolean(c->events & TCPST_EV_SIMUL_CLOSE));
    layers_fill(o, c);
    json_t *an = json_array();
    for (unsigned i = 0; i < c->findings.n; i++) {
        json_array_append_new(an, finding_json(&c->findings.f[i]));
    }
    json_object_set_new(o, "anomalies", an);
    return o;
}

static json_t *conn_json(const tcpst_conn *c)
{
    return conn_fill(json_object(), c);
}

char *tcpst_report_conn_text(const tcpst_conn *c)
{
    json_t *o = conn_json(c);
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    return s;
}

static void put(tcpst_report *r, const char *s, size_t n)
{
    if (!r->err && fwrite(s, 1, n, r->out) != n) {
        r->err = errno ? errno : EIO;
    }
}

static void puts_str(tcpst_report *r, const char *s)
{
    put(r, s, strlen(s));
}

/* NDJSON: one compact object, its own line, flushed so a follower sees it now. */
static void put_line(tcpst_report *r, json_t *o)
{
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    if (!s) {
        r->err = r->err ? r->err : ENOMEM;
        return;
    }
    puts_str(r, s);
    put(r, "\n", 1);
    free(s);
    if (!r->err && fflush(r->out) != 0) {
        r->err = errno ? errno : EIO;
    }
}

/* An object whose first member is "type": what an NDJSON line is. */
static json_t *typed(const char *type)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    return o;
}

int tcpst_report_open(tcpst_report **out, const char *path, const tcpst_report_opts *opts,
                      tcpst_error *err)
{
    *out = NULL;
    tcpst_report *r = calloc(1, sizeof *r);
    if (!r) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    if (opts) {
        r->opts = *opts;
    }
    r->next_id = 1;
    r->stream = r->opts.format == TCPST_FORMAT_NDJSON;
    struct stat sb;
    if (!path || strcmp(path, "-") == 0) {
        r->out = stdout;
    } else if (r->stream || (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))) {
        /* A device or pipe cannot be replaced by rename(), and a stream is read while it is
         * written (tail -f): write to it directly.  An NDJSON reader knows the file is
         * complete when its last line is the "summary". */
        r->out = fopen(path, "w");
        if (!r->out) {
            int e = errno;
            tcpst_report_discard(r);
            return tcpst_error_set(err, TCPST_EWRITE, "%s: cannot open for writing: %s", path,
                                   strerror(e));
        }
        r->path = strdup(path);
    } else {
        size_t n = strlen(path);
        r->path = strdup(path);
        r->tmp_path = malloc(n + 16);
        if (!r->path || !r->tmp_path) {
            tcpst_report_discard(r);
            return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
        }
        /* Same directory as the target, so rename() is atomic. */
        snprintf(r->tmp_path, n + 16, "%s.tmp.XXXXXX", path);
        int fd = mkstemp(r->tmp_path);
        if (fd < 0 || !(r->out = fdopen(fd, "w"))) {
            int e = errno;
            if (fd >= 0) {
                close(fd);
                unlink(r->tmp_path);
            }
            free(r->tmp_path);
            r->tmp_path = NULL;
            tcpst_report_discard(r);
            return tcpst_error_set(err, TCPST_EWRITE, "%s: cannot create report: %s", path,
                                   strerror(e));
        }
    }
    *out = r;
    return 0;
}

/* Written on first use, so a run that fails before any result prints nothing. */
static void put_head(tcpst_report *r)
{
    if (!r->head_written) {
        puts_str(r, r->opts.format == TCPST_FORMAT_TEXT
                        ? tcpst_text_header()
                        : "{\"tcpstate_version\":\"" TCPSTATE_VERSION "\",\"schema_version\":1,"
                          "\"connections\":[");
        r->head_written = true;
    }
}

/* `text` NULL: a record left out by --connections; its id is still consumed. */
static void write_record(tcpst_report *r, const char *text)
{
    if (!text) {
        r->next_id++;
        return;
    }
    put_head(r);
    if (r->opts.format == TCPST_FORMAT_JSON) {
        puts_str(r, r->written ? ",\n" : "\n");
    }
    puts_str(r, text);
    r->written++;
    r->next_id++;
}

static void heap_push(tcpst_report *r, uint64_t id, char *text)
{
    if (r->nheap == r->capheap) {
        size_t cap = r->capheap ? r->capheap * 2 : 64;
        pending *h = realloc(r->heap, cap * sizeof *h);
        if (!h) {
            r->err = ENOMEM;
            free(text);
            return;
        }
        r->heap = h;
        r->capheap = cap;
    }
    size_t i = r->nheap++;
    while (i > 0 && r->heap[(i - 1) / 2].id > id) {
        r->heap[i] = r->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    r->heap[i] = (pending){id, text};
}

static pending heap_pop(tcpst_report *r)
{
    pending top = r->heap[0];
    pending last = r->heap[--r->nheap];
    size_t i = 0;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= r->nheap) {
            break;
        }
        if (k + 1 < r->nheap && r->heap[k + 1].id < r->heap[k].id) {
            k++;
        }
        if (r->heap[k].id >= last.id) {
            break;
        }
        r->heap[i] = r->heap[k];
        i = k;
    }
    if (r->nheap) {
        r->heap[i] = last;
    }
    return top;
}

static uint64_t addr_hash(const tcpst_addr *a)
{
    uint64_t h = 1469598103934665603u;
    for (int i = 0; i < 16; i++) {
        h = (h ^ a->bytes[i]) * 1099511628211u;
    }
    return h ^ a->family;
}

static hostcount *host(tcpst_report *r, const tcpst_addr *a)
{
    if (r->nhosts * 2 >= r->caphosts) {
        if (r->caphosts >= HOSTS_MAX) {
            r->hosts_untracked++;
            return NULL;
        }
        size_t cap = r->caphosts ? r->caphosts * 2 : 256;
        hostcount *t = calloc(cap, sizeof *t);
        if (!t) {
            r->hosts_untracked++;
            return NULL;
        }
        for (size_t i = 0; i < r->caphosts; i++) {
            if (r->hosts[i].used) {
                size_t j = addr_hash(&r->hosts[i].addr) & (cap - 1);
                while (t[j].used) {
                    j = (j + 1) & (cap - 1);
                }
                t[j] = r->hosts[i];
            }
        }
        free(r->hosts);
        r->hosts = t;
        r->caphosts = cap;
    }
    size_t j = addr_hash(a) & (r->caphosts - 1);
    while (r->hosts[j].used && tcpst_addr_cmp(&r->hosts[j].addr, a) != 0) {
        j = (j + 1) & (r->caphosts - 1);
    }
    if (!r->hosts[j].used) {
        r->hosts[j].used = 1;
        r->hosts[j].addr = *a;
        r->nhosts++;
    }
    return &r->hosts[j];
}

static void host_time(hostcount *h, tcpst_time ts)
{
    if (!h->first_ts || ts < h->first_ts) {
        h->first_ts = ts;
    }
    if (ts > h->last_ts) {
        h->last_ts = ts;
    }
}

static void tally_anomalies(tcpst_report *r, const tcpst_conn *c)
{
    int sev = tcpst_findings_max_severity(&c->findings);
    if (sev >= 0) {
        r->anomaly_conns[sev]++;
    }
    bool lossy = false;
    for (unsigned i = 0; i < c->findings.n; i++) {
        const tcpst_finding *f = &c->findings.f[i];
        r->anomaly_counts[f->type]++;
        hostcount *h = NULL;
        if ((f->type == TCPST_A_CONNECTION_RESET || f->type == TCPST_A_CONNECTION_REJECTED) &&
            f->who < 2 && (h = host(r, &c->ep[f->who].addr))) {
            h->resets++;
        }
        if (h) {
            host_time(h, f->first_ts);
        }
        lossy |= f->type == TCPST_A_SEGMENT_NOT_CAPTURED || f->type == TCPST_A_ACK_OF_UNSEEN_DATA;
    }
    /* A flood or scan is judged on attempts, however short: a SYN that was
     * never answered at all, even if its record was evicted at once. */
    hostcount *h;
    if (c->ep[0].state == TCPST_SYN_SENT && c->ep[1].packets == 0 &&
        (h = host(r, &c->ep[1].addr))) {
        h->unanswered_syns++;
        host_time(h, c->first_ts);
    }
    /* Capture quality: an established connection should show both directions. */
    bool established = false;
    for (int i = 0; i < 2; i++) {
        for (unsigned k = 0; k < c->ep[i].tl_count; k++) {
            established |= c->ep[i].tl[k].to == TCPST_ESTABLISHED;
        }
    }
    if (established) {
        r->established_conns++;
        r->one_sided_conns += c->ep[0].packets == 0 || c->ep[1].packets == 0;
        r->lossy_conns += lossy;
    }
}

static void tally(tcpst_report *r, const tcpst_conn *c)
{
    tally_anomalies(r, c);
    r->final_pairs[c->ep[0].state][c->ep[1].state]++;
    const char *zs = tcpst_zeek_conn_state(&c->zeek);
    for (size_t i = 0; i < N_ZEEK_STATES; i++) {
        if (strcmp(zs, zeek_states[i]) == 0) {
            r->zeek_counts[i]++;
        }
    }
    r->roles_inferred += c->roles_inferred;
}

void tcpst_report_conn(void *report, const tcpst_conn *c)
{
    tcpst_report *r = report;
    tally(r, c);
    uint64_t matched = r->opts.policy ? tcpst_policy_check(r->opts.policy, c) : 0;
    if (r->opts.junit) {
        tcpst_junit_add(r->opts.junit, c, matched);
    }
    bool keep = r->opts.which == TCPST_CONNS_ALL ||
                (r->opts.which == TCPST_CONNS_ANOMALOUS &&
                 tcpst_findings_max_severity(&c->findings) >= TCPST_SEV_WARNING);
    if (r->stream) {
        /* Written as it ends: ids are not in order, and nothing is held. */
        if (keep) {
            put_line(r, conn_fill(typed("connection"), c));
            r->written++;
        }
        return;
    }
    char *text;
    if (!keep) {
        text = NULL;
    } else if (r->opts.format == TCPST_FORMAT_TEXT) {
        text = tcpst_text_conn(c);
    } else {
        json_t *o = conn_json(c);
        text =
            json_dumps(o, r->opts.pretty ? (JSON_INDENT(2) | JSON_REAL_PRECISION(16)) : DUMP_FLAGS);
        json_decref(o);
    }
    if (keep && !text) {
        r->err = ENOMEM;
        return;
    }
    if (c->id != r->next_id) {
        heap_push(r, c->id, text);
        return;
    }
    write_record(r, text);
    free(text);
    while (r->nheap && r->heap[0].id == r->next_id) {
        pending p = heap_pop(r);
        write_record(r, p.text);
        free(p.text);
    }
}

/* The endpoint's address and port, named as in records ("addr", "port"). */
static json_t *where_json(const tcpst_endpoint *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "addr", addr_json(&e->addr));
    json_object_set_new(o, "port", json_integer(e->port));
    return o;
}

void tcpst_report_anomaly(void *report, const tcpst_conn *c, const tcpst_finding *f, tcpst_time now)
{
    tcpst_report *r = report;
    if (!r->stream) {
        return;
    }
    if (f->type < TCPST_A__COUNT) {
        r->announced[f->type]++;
    }
    json_t *o = typed("anomaly");
    json_object_set_new(o, "ts", jtime(now));
    json_object_set_new(o, "connection", json_integer((json_int_t)c->id));
    json_object_set_new(o, "client", where_json(&c->ep[0]));
    json_object_set_new(o, "server", where_json(&c->ep[1]));
    layers_fill(o, c);
    json_object_set_new(o, "anomaly", finding_json(f));
    put_line(r, o);
}

/* Endpoints by state, the states nobody is in left out. */
static json_t *states_json(const uint32_t n[TCPST_STATE__COUNT])
{
    json_t *o = json_object();
    for (int i = 0; i < TCPST_STATE__COUNT; i++) {
        if (n[i]) {
            json_object_set_new(o, tcpst_state_name((tcpst_state)i), json_integer(n[i]));
        }
    }
    return o;
}

/* Per anomaly type, the types with a zero count left out. */
static json_t *type_counts_json(const uint64_t n[TCPST_A__COUNT])
{
    json_t *o = json_object();
    for (int t = 0; t < TCPST_A__COUNT; t++) {
        if (n[t]) {
            json_object_set_new(o, tcpst_anomaly_id((tcpst_anomaly_type)t),
                                json_integer((json_int_t)n[t]));
        }
    }
    return o;
}

static json_t *counters_json(const tcpst_capture_counters *cc)
{
    return json_pack("{s:I, s:I, s:I}", "received", (json_int_t)cc->received, "dropped",
                     (json_int_t)cc->dropped, "if_dropped", (json_int_t)cc->if_dropped);
}

static uint64_t decode_problems(const tcpst_engine_stats *st)
{
    uint64_t n = 0;
    for (int i = 0; i < TCPST_DEC__COUNT; i++) {
        if (tcpst_decode_is_problem((tcpst_decode_status)i)) {
            n += st->decode[i];
        }
    }
    return n;
}

/* IP fragment reassembly, only when a fragment was seen (ipreasm.h). */
static void reasm_fill(json_t *o, const tcpst_engine_stats *st)
{
    const tcpst_reasm_stats *f = &st->frag;
    if (f->fragments == 0) {
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "fragments", json_integer((json_int_t)f->fragments));
    json_object_set_new(j, "reassembled", json_integer((json_int_t)f->reassembled));
    json_object_set_new(j, "timed_out", json_integer((json_int_t)f->timed_out));
    json_object_set_new(j, "evicted", json_integer((json_int_t)f->evicted));
    json_object_set_new(j, "overlaps", json_integer((json_int_t)f->overlaps));
    json_object_set_new(j, "conflicts", json_integer((json_int_t)f->conflicts));
    json_object_set_new(j, "too_big", json_integer((json_int_t)f->too_big));
    json_object_set_new(j, "malformed", json_integer((json_int_t)f->malformed));
    json_object_set_new(j, "frames_absorbed", json_integer((json_int_t)st->frag_absorbed));
    json_object_set_new(o, "ip_reassembly", j);
}

void tcpst_report_stats(tcpst_report *r, tcpst_time now, const tcpst_engine_stats *st,
                        const tcpst_engine_open *open, const tcpst_capture_counters *cc)
{
    if (!r->stream) {
        return;
    }
    json_t *o = typed("stats");
    json_object_set_new(o, "ts", jtime(now));
    json_object_set_new(o, "analyzed", json_integer((json_int_t)st->packets));
    json_object_set_new(o, "tcp_segments", json_integer((json_int_t)st->tcp));
    json_object_set_new(o, "non_tcp", json_integer((json_int_t)st->non_tcp));
    json_object_set_new(o, "decode_problems", json_integer((json_int_t)decode_problems(st)));
    json_object_set_new(o, "connections", json_integer((json_int_t)st->connections));
    json_object_set_new(o, "connections_written", json_integer((json_int_t)r->written));
    if (open) {
        json_t *j = json_object();
        json_object_set_new(j, "total", json_integer(open->total));
        json_object_set_new(j, "client", states_json(open->client));
        json_object_set_new(j, "server", states_json(open->server));
        json_object_set_new(o, "open", j);
    }
    json_object_set_new(o, "anomalies", type_counts_json(r->announced));
    reasm_fill(o, st);
    if (cc && cc->valid) {
        json_object_set_new(o, "capture", counters_json(cc));
    }
    put_line(r, o);
}

static json_t *inputs_json(const tcpst_report_meta *m)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_inputs; i++) {
        const tcpst_input_info *in = &m->inputs[i];
        bool any = in->packets > 0;
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(in->name));
        json_object_set_new(o, "format", json_string(in->format ? in->format : "pcap"));
        json_object_set_new(o, "link_type", json_string(in->linktype_name));
        json_object_set_new(o, "link_type_id", json_integer(in->linktype));
        json_object_set_new(o, "snaplen", json_integer(in->snaplen));
        json_object_set_new(o, "nanosecond", json_boolean(in->nanosecond));
        json_object_set_new(o, "packets", json_integer((json_int_t)in->packets));
        json_object_set_new(o, "bytes", json_integer((json_int_t)in->bytes));
        json_object_set_new(o, "filtered", json_integer((json_int_t)in->filtered));
        json_object_set_new(o, "first_ts", jtime_or_null(in->first_ts, any));
        json_object_set_new(o, "last_ts", jtime_or_null(in->last_ts, any));
        json_object_set_new(o, "truncated", json_boolean(in->truncated));
        json_object_set_new(o, "error", in->error[0] ? json_string(in->error) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *stats_json(const tcpst_engine_stats *st, const tcpst_report_meta *m,
                          const tcpst_report *r)
{
    json_t *o = json_object();
    json_t *problems = json_object();
    uint64_t nprob = 0;
    for (int i = 0; i < TCPST_DEC__COUNT; i++) {
        if (tcpst_decode_is_problem((tcpst_decode_status)i) && st->decode[i]) {
            json_object_set_new(problems, tcpst_decode_status_name((tcpst_decode_status)i),
                                json_integer((json_int_t)st->decode[i]));
            nprob += st->decode[i];
        }
    }
    json_object_set_new(o, "packets", json_integer((json_int_t)(st->packets + m->filtered)));
    json_object_set_new(o, "filtered", json_integer((json_int_t)m->filtered));
    json_object_set_new(o, "analyzed", json_integer((json_int_t)st->packets));
    json_object_set_new(o, "tcp_segments", json_integer((json_int_t)st->tcp));
    json_object_set_new(o, "non_tcp", json_integer((json_int_t)st->non_tcp));
    json_object_set_new(o, "decode_problems", json_integer((json_int_t)nprob));
    json_object_set_new(o, "decode_problems_by_reason", problems);
    json_object_set_new(o, "connections", json_integer((json_int_t)st->connections));
    json_object_set_new(o, "connections_written", json_integer((json_int_t)r->written));
    json_object_set_new(o, "open_at_end", json_integer((json_int_t)st->open_at_end));
    json_object_set_new(o, "closed", json_integer((json_int_t)st->closed));
    json_object_set_new(o, "idle_expired", json_integer((json_int_t)st->idle_expired));
    json_object_set_new(o, "evictions", json_integer((json_int_t)st->evicted));
    json_object_set_new(o, "port_reuse_splits", json_integer((json_int_t)st->reused));
    json_object_set_new(o, "peak_concurrent_connections", json_integer(st->peak_live));
    json_object_set_new(o, "rst_not_accepted", json_integer((json_int_t)st->rst_not_accepted));
    json_object_set_new(o, "tcp_options",
                        json_pack("{s:I, s:I}", "malformed_segments", (json_int_t)st->opt_malformed,
                                  "unknown", (json_int_t)st->opt_unknown));
    json_object_set_new(o, "ipv4_with_options", json_integer((json_int_t)st->ip_options));
    json_object_set_new(o, "bad_checksum", json_integer((json_int_t)st->bad_checksum));
    json_object_set_new(o, "checksum_unverifiable",
                        json_integer((json_int_t)st->checksum_unverifiable));
    json_object_set_new(o, "anomalies_capped",
                        json_pack("{s:I, s:I}", "findings", (json_int_t)st->findings_dropped,
                                  "evidence", (json_int_t)st->evidence_dropped));
    json_object_set_new(o, "first_ts", jtime_or_null(st->first_ts, st->packets > 0));
    json_object_set_new(o, "last_ts", jtime_or_null(st->last_ts, st->packets > 0));
    json_object_set_new(o, "interrupted", json_boolean(m->interrupted));
    json_object_set_new(o, "stop",
                        json_string(m->stop          ? m->stop
                                    : m->interrupted ? "signal"
                                                     : "end_of_input"));
    json_object_set_new(o, "filter", m->filter ? json_string(m->filter) : json_null());
    json_object_set_new(o, "time_wait", jtime(m->time_wait));
    reasm_fill(o, st);
    if (r->stream) {
        json_object_set_new(o, "anomalies_announced", json_integer((json_int_t)st->announced));
    }
    if (m->interface) {
        json_object_set_new(o, "interface", json_string(m->interface));
    }
    if (m->counters.valid) {
        json_object_set_new(o, "capture", counters_json(&m->counters));
    }
    return o;
}

static int by_syns(const void *a, const void *b)
{
    const hostcount *x = a, *y = b;
    if (x->unanswered_syns != y->unanswered_syns) {
        return x->unanswered_syns > y->unanswered_syns ? -1 : 1;
    }
    return tcpst_addr_cmp(&x->addr, &y->addr);
}

static int by_resets(const void *a, const void *b)
{
    const hostcount *x = a, *y = b;
    if (x->resets != y->resets) {
        return x->resets > y->resets ? -1 : 1;
    }
    return tcpst_addr_cmp(&x->addr, &y->addr);
}

/* Hosts over a threshold, most affected first (deterministic order). */
static json_t *host_list(const tcpst_report *r, bool syns)
{
    json_t *a = json_array();
    hostcount *sel = calloc(r->nhosts + 1, sizeof *sel);
    size_t n = 0;
    for (size_t i = 0; sel && i < r->caphosts; i++) {
        const hostcount *h = &r->hosts[i];
        if (h->used && (syns ? h->unanswered_syns >= SYN_FLOOD_MIN : h->resets >= RST_STORM_MIN)) {
            sel[n++] = *h;
        }
    }
    qsort(sel, n, sizeof *sel, syns ? by_syns : by_resets);
    for (size_t i = 0; i < n && i < 20; i++) {
        json_t *o = json_object();
        json_object_set_new(o, syns ? "server" : "host", addr_json(&sel[i].addr));
        json_object_set_new(
            o, syns ? "unanswered_syns" : "connections_reset",
            json_integer((json_int_t)(syns ? sel[i].unanswered_syns : sel[i].resets)));
        json_object_set_new(o, "first_ts", jtime(sel[i].first_ts));
        json_object_set_new(o, "last_ts", jtime(sel[i].last_ts));
        json_array_append_new(a, o);
    }
    free(sel);
    return a;
}

static json_t *capture_json(const tcpst_report *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "syn_flood_or_scan", host_list(r, true));
    json_object_set_new(o, "rst_storm", host_list(r, false));
    const char *verdict = "ok";
    if (r->established_conns >= 3 && r->one_sided_conns * 2 >= r->established_conns) {
        verdict = "one_sided";
    } else if (r->established_conns >= 3 && r->lossy_conns * 10 >= r->established_conns) {
        verdict = "capture_loss";
    }
    json_object_set_new(o, "quality", json_string(verdict));
    json_object_set_new(o, "established_connections",
                        json_integer((json_int_t)r->established_conns));
    json_object_set_new(o, "one_sided_connections", json_integer((json_int_t)r->one_sided_conns));
    json_object_set_new(o, "connections_with_capture_loss",
                        json_integer((json_int_t)r->lossy_conns));
    json_object_set_new(o, "hosts_untracked", json_integer((json_int_t)r->hosts_untracked));
    return o;
}

static int by_offender_id(const void *a, const void *b)
{
    uint64_t x = ((const tcpst_offender *)a)->ref.id, y = ((const tcpst_offender *)b)->ref.id;
    return x < y ? -1 : x > y;
}

static json_t *endpoint_text(const tcpst_addr *a, uint16_t port)
{
    char out[TCPST_ADDRPORT_STRLEN];
    tcpst_addrport_format(a, port, out);
    return json_string(out);
}

static json_t *verdict_json(tcpst_policy *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "result", json_string(p && tcpst_policy_failed(p) ? "fail" : "pass"));
    json_t *rules = json_array();
    for (size_t i = 0; p && i < p->n; i++) {
        tcpst_rule *r = &p->rules[i];
        json_t *j = json_object();
        json_object_set_new(j, "rule", json_string(r->text));
        json_object_set_new(j, "source", json_string(r->source));
        json_object_set_new(j, "violated", json_boolean(tcpst_rule_violated(r)));
        json_object_set_new(j, "min_count", json_integer((json_int_t)r->min_count));
        json_object_set_new(j, "matches", json_integer((json_int_t)r->matches));
        json_object_set_new(j, "connections", json_integer((json_int_t)r->conns));
        /* Records end in any order; list the offenders by id for stable output. */
        qsort(r->off, r->noff, sizeof r->off[0], by_offender_id);
        json_t *offs = json_array();
        for (unsigned k = 0; k < r->noff; k++) {
            const tcpst_offender *f = &r->off[k];
            json_t *fr = json_array();
            for (unsigned e = 0; e < f->nframes; e++) {
                json_array_append_new(fr, json_integer((json_int_t)f->frames[e]));
            }
            json_array_append_new(
                offs, json_pack("{s:I, s:o, s:o, s:I, s:o}", "id", (json_int_t)f->ref.id, "client",
                                endpoint_text(&f->ref.caddr, f->ref.cport), "server",
                                endpoint_text(&f->ref.saddr, f->ref.sport), "matches",
                                (json_int_t)f->matches, "frames", fr));
        }
        json_object_set_new(j, "offenders", offs);
        json_object_set_new(j, "offenders_not_listed",
                            json_integer((json_int_t)(r->conns - r->noff)));
        json_array_append_new(rules, j);
    }
    json_object_set_new(o, "rules", rules);
    return o;
}

static json_t *summary_json(const tcpst_report *r)
{
    json_t *o = json_object();
    json_t *pairs = json_object();
    for (int a = 0; a < TCPST_STATE__COUNT; a++) {
        for (int b = 0; b < TCPST_STATE__COUNT; b++) {
            if (r->final_pairs[a][b]) {
                char key[64];
                snprintf(key, sizeof key, "%s/%s", tcpst_state_name((tcpst_state)a),
                         tcpst_state_name((tcpst_state)b));
                json_object_set_new(pairs, key, json_integer((json_int_t)r->final_pairs[a][b]));
            }
        }
    }
    json_object_set_new(o, "final_states", pairs);
    json_t *zs = json_object();
    for (size_t i = 0; i < N_ZEEK_STATES; i++) {
        if (r->zeek_counts[i]) {
            json_object_set_new(zs, zeek_states[i], json_integer((json_int_t)r->zeek_counts[i]));
        }
    }
    json_object_set_new(o, "conn_state", zs);
    json_object_set_new(o, "roles_inferred", json_integer((json_int_t)r->roles_inferred));
    json_object_set_new(o, "anomalies", type_counts_json(r->anomaly_counts));
    json_object_set_new(o, "connections_by_severity",
                        json_pack("{s:I, s:I, s:I}", "info", (json_int_t)r->anomaly_conns[0],
                                  "warning", (json_int_t)r->anomaly_conns[1], "error",
                                  (json_int_t)r->anomaly_conns[2]));
    json_object_set_new(o, "capture", capture_json(r));
    return o;
}

static void free_report(tcpst_report *r)
{
    while (r->nheap) {
        free(r->heap[--r->nheap].text);
    }
    free(r->heap);
    free(r->hosts);
    free(r->path);
    free(r->tmp_path);
    free(r);
}

void tcpst_report_discard(tcpst_report *r)
{
    if (!r) {
        return;
    }
    if (r->out && r->out != stdout) {
        fclose(r->out);
    }
    if (r->tmp_path) {
        unlink(r->tmp_path);
    }
    free_report(r);
}

static void put_member(tcpst_report *r, const char *key, json_t *v)
{
    char *s = json_dumps(v, (r->opts.pretty ? JSON_INDENT(2) : JSON_COMPACT) |
                                JSON_REAL_PRECISION(16) | JSON_ENCODE_ANY);
    json_decref(v);
    if (!s) {
        r->err = ENOMEM;
        return;
    }
    puts_str(r, ",\n\"");
    puts_str(r, key);
    puts_str(r, "\":");
    puts_str(r, s);
    free(s);
}

/* Text format: totals, the most frequent anomaly types, and the verdict. */
static void text_tail(tcpst_report *r, const tcpst_engine_stats *st)
{
    if (r->err) {
        return;
    }
    fprintf(r->out,
            "\n%llu connections (%llu open at end), %llu packets, %llu TCP segments, %llu decode "
            "problems\n",
            (unsigned long long)st->connections, (unsigned long long)st->open_at_end,
            (unsigned long long)st->packets, (unsigned long long)st->tcp,
            (unsigned long long)(st->packets - st->tcp - st->non_tcp));
    fprintf(r->out, "anomalies:");
    bool any = false;
    for (int t = 0; t < TCPST_A__COUNT; t++) {
        if (r->anomaly_counts[t]) {
            fprintf(r->out, " %s=%llu", tcpst_anomaly_id((tcpst_anomaly_type)t),
                    (unsigned long long)r->anomaly_counts[t]);
            any = true;
        }
    }
    fprintf(r->out, any ? "\n" : " none\n");
    if (r->opts.policy && r->opts.policy->n) {
        tcpst_text_verdict(r->out, "", r->opts.policy, false);
    }
}

/* NDJSON: the document without its records, as the last line. */
static void summary_line(tcpst_report *r, const tcpst_engine_stats *st,
                         const tcpst_report_meta *meta)
{
    json_t *o = typed("summary");
    json_object_set_new(o, "tcpstate_version", json_string(TCPSTATE_VERSION));
    json_object_set_new(o, "schema_version", json_integer(TCPST_SCHEMA_VERSION));
    json_object_set_new(o, "inputs", inputs_json(meta));
    json_object_set_new(o, "stats", stats_json(st, meta, r));
    json_object_set_new(o, "summary", summary_json(r));
    json_object_set_new(o, "verdict", verdict_json(r->opts.policy));
    put_line(r, o);
}

int tcpst_report_finish(tcpst_report *r, const tcpst_engine_stats *st,
                        const tcpst_report_meta *meta, tcpst_error *err)
{
    /* Every id was emitted exactly once, so nothing can remain queued. */
    while (r->nheap) {
        pending p = heap_pop(r);
        write_record(r, p.text);
        free(p.text);
    }
    if (r->stream) {
        summary_line(r, st, meta);
    } else if (r->opts.format == TCPST_FORMAT_TEXT) {
        put_head(r);
        text_tail(r, st);
    } else {
        put_head(r);
        puts_str(r, r->written ? "\n]" : "]");
        put_member(r, "inputs", inputs_json(meta));
        put_member(r, "stats", stats_json(st, meta, r));
        put_member(r, "summary", summary_json(r));
        put_member(r, "verdict", verdict_json(r->opts.policy));
        puts_str(r, "}\n");
    }
    if (!r->err && (fflush(r->out) != 0 || ferror(r->out))) {
        r->err = errno ? errno : EIO;
    }
    const char *name = r->path ? r->path : "standard output";
    if (!r->tmp_path && r->out != stdout) {
        if (fclose(r->out) != 0 && !r->err) {
            r->err = errno ? errno : EIO;
        }
        r->out = NULL;
    }
    if (r->tmp_path) {
        if (!r->err && fsync(fileno(r->out)) != 0) {
            r->err = errno;
        }
        if (fclose(r->out) != 0 && !r->err) {
            r->err = errno ? errno : EIO;
        }
        r->out = NULL;
        if (!r->err && rename(r->tmp_path, r->path) != 0) {
            r->err = errno;
        }
        if (r->err) {
            unlink(r->tmp_path);
        }
    }
    int rc = 0;
    if (r->err) {
        rc = tcpst_error_set(err, TCPST_EWRITE, "%s: cannot write report: %s", name,
                             strerror(r->err));
    }
    free_report(r); /* after the message: `name` points into r */
    return rc;
}
