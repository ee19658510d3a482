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

#include "jsonw.h"
#include "pack.h"
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

#define HOSTS_MAX     65536               /* bound on the table; further addresses are counted */
#define SYN_FLOOD_MIN 20                  /* unanswered SYNs towards one server to report it */
#define RST_STORM_MIN 20                  /* connections reset by one host to report it */
#define SPILL_IO      ((size_t)1 << 20)   /* bytes per write to the spill file */
#define RUN_READ      ((size_t)256 << 10) /* read-ahead of one spill run */
#define RUN_READ_ALL  ((size_t)2 << 20)   /* read-ahead of all runs together */
#define OUT_BUF       ((size_t)1 << 20)   /* stdio buffer of a report file */

/* A record waiting for lower ids: packed (pack.h) in memory, or in a spill run. */
typedef struct pending {
    uint64_t id;
    char *data;   /* in memory; NULL when spilled, or when not written at all (len 0) */
    uint64_t off; /* spilled: where in the spill file */
    uint32_t len;
    uint32_t run; /* spilled: which run */
} pending;

/* Waiting records by id: a min-heap. */
typedef struct pheap {
    pending *a;
    size_t n, cap;
} pheap;

/* Past the memory limit, every record waiting in memory goes to the spill file at once,
 * sorted by id: a run.  Records leave in id order, so each run is read front to back
 * through a read-ahead buffer of its own instead of with one pread per record. */
typedef struct spill_run {
    uint64_t end;  /* one past its last byte in the file */
    uint64_t left; /* its records still waiting */
    char *buf;     /* the file's bytes [at, at + len) */
    uint64_t at;
    size_t len, cap;
} spill_run;

/* A waiting record is kept as its connection and findings, not as text: packed, that is
 * ~5x smaller than its JSON (mostly unused timeline slots and zero counters), so more of
 * them wait in memory and fewer bytes go through the spill file.  It is formatted when
 * its turn comes; the text depends on the record alone, so it is the same either way. */
typedef struct held_rec {
    tcpst_conn c;
    tcpst_finding f[TCPST_FINDINGS_MAX];
} held_rec;
_Static_assert(sizeof(held_rec) % 8 == 0, "pack.h packs whole 64-bit words");
_Static_assert(sizeof(held_rec) + sizeof(held_rec) / 64 + 8 <= SPILL_IO,
               "a packed record fits in the spill file's write buffer");

struct tcpst_report {
    FILE *out;
    char *outbuf;   /* its stdio buffer, when a file */
    char *path;     /* final name, NULL for stdout */
    char *tmp_path; /* temporary file being written */
    tcpst_report_opts opts;
    uint64_t next_id; /* lowest id not yet written */
    uint64_t written;
    pheap mem;  /* records waiting for lower ids in memory (pending_bytes of them) ... */
    pheap disk; /* ... and in the spill file */
    /* One long-lived connection holds back every later record (ids are in order): past
     * opts.pending_mem_max bytes in memory they go to an unlinked temporary file. */
    size_t pending_bytes;
    int spill_fd; /* -1 until needed */
    uint64_t spill_end;
    /* Runs go to the file in SPILL_IO blocks through spill_w (its bytes start at
     * spill_end - spill_wlen); it is empty between runs, so every spilled record is in the
     * file. */
    char *spill_w;
    size_t spill_wlen;
    spill_run *runs;
    size_t nruns, capruns, live_runs; /* live: with records still waiting */
    held_rec *held;                   /* a record being packed or unpacked ... */
    unsigned char *packed;            /* ... and its packed form: one block, from hold() */
    int err;                          /* first write error (errno), 0 if none */
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
    tcpst_jw jw;                        /* records and anomaly lines are formatted here */
};

/* Round to the microsecond: a double holds that exactly for any epoch time. */
static int64_t time_us(tcpst_time ns)
{
    return (ns >= 0 ? ns + 500 : ns - 500) / 1000;
}

static double time_value(tcpst_time ns)
{
    return (double)time_us(ns) / 1e6;
}

static json_t *jtime(tcpst_time ns)
{
    return json_real(time_value(ns));
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

/* Records are written with the streaming writer (jsonw.h): no tree, no malloc per value. */
static void w_time(tcpst_jw *w, const char *key, tcpst_time ns)
{
    tcpst_jw_kus(w, key, time_us(ns));
}

static void w_time_or_null(tcpst_jw *w, const char *key, tcpst_time ns, bool have)
{
    if (have) {
        w_time(w, key, ns);
    } else {
        tcpst_jw_knull(w, key);
    }
}

static void w_frame(tcpst_jw *w, const char *key, uint64_t frame)
{
    if (frame) {
        tcpst_jw_kuint(w, key, frame);
    } else {
        tcpst_jw_knull(w, key);
    }
}

static void w_addr(tcpst_jw *w, const char *key, const tcpst_addr *a)
{
    char buf[TCPST_ADDR_STRLEN];
    tcpst_addr_format(a, buf);
    tcpst_jw_kname(w, key, buf);
}

static void w_transition(tcpst_jw *w, const tcpst_transition *t)
{
    tcpst_jw_obj_begin(w);
    w_time(w, "ts", t->ts);
    w_frame(w, "frame", t->frame);
    tcpst_jw_kname(w, "from", tcpst_state_name(t->from));
    tcpst_jw_kname(w, "to", tcpst_state_name(t->to));
    tcpst_jw_kname(w, "how", t->inferred ? "inferred" : "observed");
    tcpst_jw_kname(w, "cause", tcpst_cause_name(t->cause));
    if (t->cause != TCPST_CAUSE_TIMER) {
        char flags[16];
        tcpst_flags_format(t->flags, flags);
        tcpst_jw_key(w, "segment");
        tcpst_jw_obj_begin(w);
        tcpst_jw_kname(w, "flags", flags);
        tcpst_jw_kuint(w, "seq", t->seq);
        tcpst_jw_kuint(w, "ack", t->ack);
        tcpst_jw_kuint(w, "len", t->len);
        tcpst_jw_obj_end(w);
    }
    tcpst_jw_obj_end(w);
}

static void w_maybe_uint(tcpst_jw *w, const char *key, bool have, uint64_t v)
{
    if (have) {
        tcpst_jw_kuint(w, key, v);
    } else {
        tcpst_jw_knull(w, key);
    }
}

static void w_endpoint(tcpst_jw *w, const tcpst_conn *c, const tcpst_endpoint *e, bool open_at_end)
{
    bool sent = e->packets > 0;
    tcpst_jw_obj_begin(w);
    w_addr(w, "addr", &e->addr);
    tcpst_jw_kuint(w, "port", e->port);
    tcpst_jw_kname(w, "state", tcpst_state_name(e->state));
    w_maybe_uint(w, "isn", e->has & TCPST_EP_ISN, e->isn);
    tcpst_jw_kbool(w, "isn_inferred", e->has & TCPST_EP_ISN_INFERRED);
    tcpst_jw_kuint(w, "packets", e->packets);
    tcpst_jw_kuint(w, "bytes", e->bytes);
    tcpst_jw_kuint(w, "payload_bytes", e->payload_bytes);
    tcpst_jw_key(w, "retransmissions");
    tcpst_jw_obj_begin(w);
    tcpst_jw_kuint(w, "segments", e->retrans_segments);
    tcpst_jw_kuint(w, "bytes", e->retrans_bytes);
    tcpst_jw_obj_end(w);
    tcpst_jw_kuint(w, "keepalives", e->keepalives);
    tcpst_jw_kuint(w, "syn", e->syns);
    tcpst_jw_kuint(w, "fin", e->fins);
    tcpst_jw_kuint(w, "rst", e->rsts);
    tcpst_jw_key(w, "options");
    tcpst_jw_obj_begin(w);
    w_maybe_uint(w, "mss", e->has & TCPST_EP_MSS, e->mss);
    w_maybe_uint(w, "wscale", e->has & TCPST_EP_WSCALE, e->wscale);
    tcpst_jw_kbool(w, "sack_permitted", e->has & TCPST_EP_SACKPERM);
    tcpst_jw_kbool(w, "timestamps", e->has & TCPST_EP_TS);
    tcpst_jw_kbool(w, "tfo", e->has & TCPST_EP_TFO);
    tcpst_jw_obj_end(w);
    w_time_or_null(w, "first_ts", e->first_ts, sent);
    w_time_or_null(w, "last_ts", e->last_ts, sent);
    if (open_at_end) {
        /* Idle: capture end minus the last segment this side sent. */
        tcpst_time since = sent ? e->last_ts : c->first_ts;
        w_time(w, "idle", c->end_ts - since);
    }
    tcpst_jw_key(w, "transitions");
    tcpst_jw_arr_begin(w);
    for (unsigned i = 0; i < e->tl_count; i++) {
        w_transition(w, &e->tl[i]);
    }
    tcpst_jw_arr_end(w);
    tcpst_jw_kuint(w, "transitions_dropped", e->tl_dropped);
    tcpst_jw_obj_end(w);
}

static void w_fact(tcpst_jw *w, tcpst_anomaly_type t, const tcpst_factdesc *d, int64_t v)
{
    static const char *const optbad[] = {
        "length_short", "overrun",           "mss_length", "wscale_length", "sackok_length",
        "sack_length",  "timestamps_length", "tfo_length", "wscale_range",  "duplicate"};
    tcpst_jw_key(w, d->name);
    switch (d->kind) {
        case TCPST_FACT_SECONDS:
            tcpst_jw_us(w, time_us(v));
            return;
        case TCPST_FACT_STATE:
            tcpst_jw_name(w, tcpst_state_name((tcpst_state)v));
            return;
        case TCPST_FACT_FLAGS: {
            char buf[16];
            tcpst_flags_format((uint16_t)v, buf);
            tcpst_jw_name(w, buf);
            return;
        }
        case TCPST_FACT_BOOL:
            tcpst_jw_bool(w, v != 0);
            return;
        case TCPST_FACT_REASON:
            tcpst_jw_name(w, tcpst_anomaly_reason(t, v));
            return;
        case TCPST_FACT_OPTBAD:
            tcpst_jw_arr_begin(w);
            for (unsigned i = 0; i < sizeof optbad / sizeof optbad[0]; i++) {
                if (v & (1 << i)) {
                    tcpst_jw_name(w, optbad[i]);
                }
            }
            tcpst_jw_arr_end(w);
            return;
        case TCPST_FACT_INT:
            break;
    }
    tcpst_jw_int(w, v);
}

static void w_finding(tcpst_jw *w, const tcpst_finding *f)
{
    static const char *const who[] = {"client", "server", "both"};
    tcpst_anomaly_type t = (tcpst_anomaly_type)f->type;
    tcpst_jw_obj_begin(w);
    tcpst_jw_kname(w, "type", tcpst_anomaly_id(t));
    tcpst_jw_kname(w, "severity", tcpst_severity_name(tcpst_anomaly_severity(t)));
    tcpst_jw_kname(w, "endpoint", who[f->who < 3 ? f->who : 2]);
    w_time(w, "first_ts", f->first_ts);
    w_frame(w, "first_frame", f->first_frame);
    w_time(w, "last_ts", f->last_ts);
    w_frame(w, "last_frame", f->last_frame);
    tcpst_jw_kuint(w, "count", f->count);
    tcpst_jw_key(w, "evidence");
    tcpst_jw_arr_begin(w);
    for (unsigned i = 0; i < f->nevidence; i++) {
        tcpst_jw_uint(w, f->evidence[i]);
    }
    tcpst_jw_arr_end(w);
    if (tcpst_anomaly_has_duration(t)) {
        tcpst_jw_kbool(w, "still_at_capture_end", f->still_at_end);
    }
    const tcpst_factdesc *d = tcpst_anomaly_facts(t);
    for (unsigned i = 0; i < TCPST_FACTS; i++) {
        if (d[i].name) {
            w_fact(w, t, &d[i], f->fact[i]);
        }
    }
    tcpst_jw_obj_end(w);
}

/* VLAN ids and encapsulation layers (outermost first, decode.h), only when there are any. */
static void w_layers(tcpst_jw *w, const tcpst_conn *c)
{
    if (c->nvlan) {
        tcpst_jw_key(w, "vlan");
        tcpst_jw_arr_begin(w);
        for (unsigned i = 0; i < c->nvlan && i < TCPST_MAX_VLAN; i++) {
            tcpst_jw_uint(w, c->vlan[i]);
        }
        tcpst_jw_arr_end(w);
    }
    if (!c->nencap) {
        return;
    }
    tcpst_jw_key(w, "encap");
    tcpst_jw_arr_begin(w);
    for (unsigned i = 0; i < c->nencap && i < TCPST_ENCAP_MAX; i++) {
        const tcpst_encap *e = &c->encap[i];
        tcpst_jw_obj_begin(w);
        tcpst_jw_kname(w, "type", tcpst_encap_type_name((tcpst_encap_type)e->type));
        /* Named as the protocol names it ("vni", "teid"), so jq filters read naturally. */
        const char *idkey = tcpst_encap_id_name((tcpst_encap_type)e->type);
        if (e->has_id && idkey) {
            tcpst_jw_kuint(w, idkey, e->id);
        }
        if (e->in_key) {
            tcpst_jw_kbool(w, "in_key", true);
        }
        tcpst_jw_obj_end(w);
    }
    tcpst_jw_arr_end(w);
}

/* The record's members, inside an object the caller opened (NDJSON puts "type" first). */
static void w_conn_members(tcpst_jw *w, const tcpst_conn *c)
{
    bool open_at_end = c->end_reason == TCPST_END_CAPTURE_END && !tcpst_conn_terminated(c);
    tcpst_jw_kuint(w, "id", c->id);
    tcpst_jw_kuint(w, "ip_version", c->ip_version);
    tcpst_jw_kname(w, "roles", c->roles_inferred ? "inferred" : "observed");
    tcpst_jw_key(w, "client");
    w_endpoint(w, c, &c->ep[0], open_at_end);
    tcpst_jw_key(w, "server");
    w_endpoint(w, c, &c->ep[1], open_at_end);
    w_time(w, "first_ts", c->first_ts);
    w_time(w, "last_ts", c->last_ts);
    w_time(w, "duration", c->last_ts - c->first_ts);
    tcpst_jw_kuint(w, "first_frame", c->first_frame);
    tcpst_jw_kuint(w, "last_frame", c->last_frame);
    tcpst_jw_kbool(w, "open_at_end", open_at_end);
    tcpst_jw_kname(w, "end_reason", tcpst_end_reason_name(c->end_reason));
    tcpst_jw_kname(w, "conn_state", tcpst_zeek_conn_state(&c->zeek));
    tcpst_jw_kstr(w, "history", c->zeek.hist);
    tcpst_jw_key(w, "zeek");
    tcpst_jw_obj_begin(w);
    tcpst_jw_kname(w, "orig", c->zeek.orig ? "server" : "client");
    tcpst_jw_kuint(w, "orig_pkts", tcpst_zeek_orig_pkts(&c->zeek));
    tcpst_jw_kuint(w, "resp_pkts", tcpst_zeek_resp_pkts(&c->zeek));
    tcpst_jw_obj_end(w);
    tcpst_jw_kuint(w, "rst_not_accepted", c->rst_not_accepted);
    tcpst_jw_kbool(w, "simultaneous_open", c->events & TCPST_EV_SIMUL_OPEN);
    tcpst_jw_kbool(w, "simultaneous_close", c->events & TCPST_EV_SIMUL_CLOSE);
    w_layers(w, c);
    tcpst_jw_key(w, "anomalies");
    tcpst_jw_arr_begin(w);
    for (unsigned i = 0; i < c->findings.n; i++) {
        w_finding(w, &c->findings.f[i]);
    }
    tcpst_jw_arr_end(w);
}

/* The record as compact JSON into `w` (emptied first). */
static void w_conn(tcpst_jw *w, const tcpst_conn *c, const char *ndjson_type)
{
    tcpst_jw_reset(w);
    tcpst_jw_obj_begin(w);
    if (ndjson_type) {
        tcpst_jw_kstr(w, "type", ndjson_type);
    }
    w_conn_members(w, c);
    tcpst_jw_obj_end(w);
}

char *tcpst_report_conn_text(const tcpst_conn *c)
{
    tcpst_jw w;
    tcpst_jw_init(&w);
    w_conn(&w, c, NULL);
    char *s = w.err ? NULL : strdup(tcpst_jw_text(&w));
    tcpst_jw_free(&w);
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

/* NDJSON: text of n bytes (or the error that kept it from being made) as its own line,
 * flushed so a follower sees it now. */
static void put_flushed_line(tcpst_report *r, const char *text, size_t n, int make_err)
{
    if (make_err) {
        r->err = r->err ? r->err : make_err;
        return;
    }
    put(r, text, n);
    put(r, "\n", 1);
    if (!r->err && fflush(r->out) != 0) {
        r->err = errno ? errno : EIO;
    }
}

/* A jansson object (stats, summary) as a line; takes the reference. */
static void put_line(tcpst_report *r, json_t *o)
{
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    put_flushed_line(r, s, s ? strlen(s) : 0, s ? 0 : ENOMEM);
    free(s);
}

/* The writer's text (records, anomalies) as a line. */
static void put_jw_line(tcpst_report *r)
{
    put_flushed_line(r, r->jw.buf, r->jw.len, r->jw.err);
}

/* --pretty: the compact record re-indented by jansson (people read it; speed is moot). */
static char *pretty_text(const char *compact)
{
    json_t *o = json_loads(compact, 0, NULL);
    if (!o) {
        return NULL;
    }
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
    json_decref(o);
    return s;
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
    r->spill_fd = -1;
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
    /* stdio's default is the file's 4 KiB block: a syscall per record or two.  (glibc
     * ignores the size without a buffer of ours; it is freed after the file is closed.) */
    if (r->out != stdout && (r->outbuf = malloc(OUT_BUF)) != NULL) {
        setvbuf(r->out, r->outbuf, _IOFBF, OUT_BUF);
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

/* Record next_id's text; NULL: a record left out by --connections, its id is still
 * consumed. */
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

static bool heap_push(pheap *h, pending p)
{
    if (!tcpst_grow(&h->a, &h->cap, h->n, sizeof *h->a, 64)) {
        return false;
    }
    size_t i = h->n++;
    while (i > 0 && h->a[(i - 1) / 2].id > p.id) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = p;
    return true;
}

static pending heap_pop(pheap *h)
{
    pending top = h->a[0];
    pending last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= h->n) {
            break;
        }
        if (k + 1 < h->n && h->a[k + 1].id < h->a[k].id) {
            k++;
        }
        if (h->a[k].id >= last.id) {
            break;
        }
        h->a[i] = h->a[k];
        i = k;
    }
    if (h->n) {
        h->a[i] = last;
    }
    return top;
}

/* The lowest id waiting in memory or on disk (UINT64_MAX: none). */
static uint64_t lowest_waiting(const tcpst_report *r)
{
    uint64_t m = r->mem.n ? r->mem.a[0].id : UINT64_MAX;
    uint64_t d = r->disk.n ? r->disk.a[0].id : UINT64_MAX;
    return m < d ? m : d;
}

static pending pop_lowest(tcpst_report *r)
{
    bool mem = r->mem.n && (!r->disk.n || r->mem.a[0].id < r->disk.a[0].id);
    return heap_pop(mem ? &r->mem : &r->disk);
}

static bool spill_open(tcpst_report *r)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) {
        dir = "/tmp";
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/tcpstate-pending-XXXXXX", dir) >= sizeof path) {
        return false;
    }
    int fd = mkstemp(path);
    if (fd < 0) {
        return false;
    }
    unlink(path); /* gone with the process, whatever happens */
    r->spill_fd = fd;
    return true;
}

/* All `len` bytes at spill file offset `off`, written from buf or read into it; false
 * (r->err set) on failure. */
static bool spill_io(tcpst_report *r, bool write, char *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        off_t at = (off_t)(off + done);
        ssize_t n = write ? pwrite(r->spill_fd, buf + done, len - done, at)
                          : pread(r->spill_fd, buf + done, len - done, at);
        if (n <= 0) {
            r->err = r->err ? r->err : (n < 0 ? errno : EIO);
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

/* Write out the records waiting in spill_w. */
static bool spill_flush(tcpst_report *r)
{
    bool ok = spill_io(r, true, r->spill_w, r->spill_wlen, r->spill_end - r->spill_wlen);
    r->spill_wlen = 0;
    return ok;
}

/* Append a packed record to the spill file (through spill_w, which always has room for
 * one: see the assertion below); false (r->err set) on failure. */
static bool spill_put(tcpst_report *r, const char *data, size_t len)
{
    if (r->spill_fd < 0 && !spill_open(r)) {
        r->err = r->err ? r->err : (errno ? errno : EIO);
        return false;
    }
    if (r->spill_w == NULL && (r->spill_w = malloc(SPILL_IO)) == NULL) {
        r->err = r->err ? r->err : ENOMEM;
        return false;
    }
    if (r->spill_wlen + len > SPILL_IO && !spill_flush(r)) {
        return false;
    }
    memcpy(r->spill_w + r->spill_wlen, data, len);
    r->spill_wlen += len;
    return true;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const pending *)a)->id, y = ((const pending *)b)->id;
    return (x > y) - (x < y);
}

/* Move every record waiting in memory to the spill file as one run, in id order; false
 * (r->err set) on failure. */
static bool spill_mem(tcpst_report *r)
{
    if (r->mem.n == 0) {
        return true;
    }
    if (!tcpst_grow(&r->runs, &r->capruns, r->nruns, sizeof *r->runs, 16)) {
        r->err = r->err ? r->err : ENOMEM;
        return false;
    }
    qsort(r->mem.a, r->mem.n, sizeof *r->mem.a, by_id);
    uint32_t k = (uint32_t)r->nruns;
    uint64_t count = 0;
    for (size_t i = 0; i < r->mem.n; i++) {
        pending *p = &r->mem.a[i];
        if (p->len) {
            if (!spill_put(r, p->data, p->len)) {
                return false; /* r->err is set: the report fails, free_report() cleans up */
            }
            free(p->data);
            p->data = NULL;
            p->off = r->spill_end;
            p->run = k;
            r->spill_end += p->len;
            count++;
        }
        if (!heap_push(&r->disk, *p)) {
            r->err = r->err ? r->err : ENOMEM;
            return false;
        }
    }
    r->mem.n = 0;
    r->pending_bytes = 0;
    if (r->spill_wlen && !spill_flush(r)) {
        return false;
    }
    if (count) { /* else only ids without a record moved */
        r->runs[k] = (spill_run){.end = r->spill_end, .left = count};
        r->nruns++;
        r->live_runs++;
    }
    return true;
}

/* Spilled record p: from its run's read-ahead, or read alone into r->packed. */
static const void *spill_get(tcpst_report *r, pending p)
{
    if (p.run >= r->nruns) {
        r->err = r->err ? r->err : EIO;
        return NULL;
    }
    spill_run *run = &r->runs[p.run];
    if (p.off >= run->at && p.off + p.len <= run->at + run->len) {
        return run->buf + (p.off - run->at);
    }
    /* Read ahead the rest of the run, up to its share of RUN_READ_ALL. */
    size_t want = RUN_READ_ALL / (r->live_runs ? r->live_runs : 1);
    want = want < RUN_READ ? want : RUN_READ;
    if (want > run->end - p.off) {
        want = (size_t)(run->end - p.off);
    }
    bool ahead = want >= 2 * (size_t)p.len; /* else no room to read ahead */
    if (ahead && (run->cap < want || run->cap > 2 * want)) {
        /* Resized to its share: buffers shrink as more runs share the budget. */
        char *b = realloc(run->buf, want);
        ahead = b != NULL;
        if (b) {
            run->buf = b;
            run->cap = want;
        }
    }
    if (!ahead) { /* the record alone */
        return spill_io(r, false, (char *)r->packed, p.len, p.off) ? r->packed : NULL;
    }
    run->at = p.off;
    run->len = 0;
    if (!spill_io(r, false, run->buf, want, p.off)) {
        return NULL;
    }
    run->len = want;
    return run->buf;
}

/* Hold record c (NULL: not written, but its id still takes its turn) until the lower ids
 * are out. */
static void hold(tcpst_report *r, uint64_t id, const tcpst_conn *c)
{
    pending p = {id, NULL, 0, 0, 0};
    if (c) {
        if (!r->held) {
            if ((r->held = malloc(sizeof *r->held + tcpst_pack_bound(sizeof *r->held))) == NULL) {
                r->err = r->err ? r->err : ENOMEM;
                return;
            }
            r->packed = (unsigned char *)(r->held + 1);
        }
        held_rec *h = r->held;
        h->c = *c;
        uint8_t n = c->findings.n;
        if (n) {
            memcpy(h->f, c->findings.f, n * sizeof *h->f);
        }
        memset(h->f + n, 0, (TCPST_FINDINGS_MAX - n) * sizeof *h->f);
        h->c.findings.f = NULL; /* pointers are set again on the way out */
        h->c.findings.pool = NULL;
        p.len = (uint32_t)tcpst_pack(h, sizeof *h, r->packed);
    }
    size_t max = r->opts.pending_mem_max ? r->opts.pending_mem_max : TCPST_PENDING_MEM_DEFAULT;
    if (p.len && r->pending_bytes + p.len > max && !spill_mem(r)) {
        return;
    }
    if (p.len) {
        if ((p.data = malloc(p.len)) == NULL) {
            r->err = r->err ? r->err : ENOMEM;
            return;
        }
        memcpy(p.data, r->packed, p.len);
        r->pending_bytes += p.len;
    }
    if (!heap_push(&r->mem, p)) {
        r->err = r->err ? r->err : ENOMEM;
        free(p.data);
        return;
    }
    if (r->pending_bytes > max) {
        spill_mem(r); /* past the limit on its own: a run of one */
    }
}

/* Record c's text: in r->jw, or malloc'd into *owned (text and pretty output). */
static const char *format_conn(tcpst_report *r, const tcpst_conn *c, char **owned)
{
    *owned = NULL;
    if (r->opts.format == TCPST_FORMAT_TEXT) {
        return *owned = tcpst_text_conn(c);
    }
    w_conn(&r->jw, c, NULL);
    const char *out = r->jw.err ? NULL : tcpst_jw_text(&r->jw);
    if (out && r->opts.pretty) {
        out = *owned = pretty_text(out);
    }
    return out;
}

/* Format and write record c, whose turn it is. */
static void write_conn(tcpst_report *r, const tcpst_conn *c)
{
    char *owned;
    const char *out = format_conn(r, c, &owned);
    if (!out) {
        r->err = r->err ? r->err : ENOMEM;
        return;
    }
    write_record(r, out);
    free(owned);
}

/* Write a held record (reading it back if spilled) and let it go. */
static void release(tcpst_report *r, pending p)
{
    if (p.len == 0) {
        write_record(r, NULL);
    } else {
        const void *packed = p.data ? p.data : spill_get(r, p);
        bool ok = packed && tcpst_unpack(packed, p.len, r->held, sizeof *r->held);
        if (p.data) {
            r->pending_bytes -= p.len;
            free(p.data);
        } else if (p.run < r->nruns && --r->runs[p.run].left == 0) {
            free(r->runs[p.run].buf); /* the run is done */
            r->runs[p.run].buf = NULL;
            r->runs[p.run].cap = r->runs[p.run].len = 0;
            r->live_runs--;
        }
        if (!ok) {
            r->err = r->err ? r->err : EIO;
            return;
        }
        r->held->c.findings.f = r->held->f;
        write_conn(r, &r->held->c);
    }
    if (r->mem.n == 0 && r->disk.n == 0 && r->spill_end > 0 && ftruncate(r->spill_fd, 0) == 0) {
        r->spill_end = 0;            /* nothing waits: the file starts over */
        r->nruns = r->live_runs = 0; /* every run is done, its buffer freed */
    }
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
            w_conn(&r->jw, c, "connection");
            put_jw_line(r);
            r->written++;
        }
        return;
    }
    if (c->id != r->next_id) {
        hold(r, c->id, keep ? c : NULL); /* until the lower ids are written */
        return;
    }
    if (keep) {
        write_conn(r, c);
    } else {
        write_record(r, NULL); /* nothing to write; the id still takes its turn */
    }
    while (lowest_waiting(r) == r->next_id) {
        release(r, pop_lowest(r));
    }
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
    tcpst_jw *w = &r->jw;
    tcpst_jw_reset(w);
    tcpst_jw_obj_begin(w);
    tcpst_jw_kstr(w, "type", "anomaly");
    w_time(w, "ts", now);
    tcpst_jw_kuint(w, "connection", c->id);
    static const char *const side[2] = {"client", "server"};
    for (unsigned i = 0; i < 2; i++) {
        /* The endpoint's address and port, named as in records. */
        tcpst_jw_key(w, side[i]);
        tcpst_jw_obj_begin(w);
        w_addr(w, "addr", &c->ep[i].addr);
        tcpst_jw_kuint(w, "port", c->ep[i].port);
        tcpst_jw_obj_end(w);
    }
    w_layers(w, c);
    tcpst_jw_key(w, "anomaly");
    w_finding(w, f);
    tcpst_jw_obj_end(w);
    put_jw_line(r);
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
    json_object_set_new(o, "closed_early", json_integer((json_int_t)st->closed_early));
    json_object_set_new(o, "idle_expired", json_integer((json_int_t)st->idle_expired));
    json_object_set_new(o, "evictions", json_integer((json_int_t)st->evicted));
    json_object_set_new(o, "port_reuse_splits", json_integer((json_int_t)st->reused));
    json_object_set_new(o, "peak_concurrent_connections", json_integer(st->peak_live));
    /* Chains stay short (load <= 0.5): chain_steps / lookups near or below 1. */
    json_object_set_new(o, "flow_table",
                        json_pack("{s:I, s:I}", "lookups", (json_int_t)st->lookups, "chain_steps",
                                  (json_int_t)st->chain_steps));
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
    while (r->mem.n) {
        free(r->mem.a[--r->mem.n].data);
    }
    free(r->mem.a);
    free(r->disk.a);
    for (size_t i = 0; i < r->nruns; i++) {
        free(r->runs[i].buf);
    }
    free(r->runs);
    if (r->spill_fd >= 0) {
        close(r->spill_fd);
    }
    free(r->spill_w);
    free(r->held);   /* and packed */
    free(r->outbuf); /* out is closed by now */
    free(r->hosts);
    tcpst_jw_free(&r->jw);
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
    while (!r->err && lowest_waiting(r) != UINT64_MAX) {
        release(r, pop_lowest(r));
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
