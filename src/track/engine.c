/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine.c - packet -> segment -> record -> state machines and detectors; expiry and
 * eviction; records out to the receivers.
 *
 * The one caller of the detectors (detect.h, summary.h): per segment, snapshot ->
 * transfer detectors -> tcpst_conn_update -> lifecycle detectors (segment_hashed); per
 * record written out, the duration detectors and the capture-wide tallies (retire).
 * Expiry work per packet is bounded by what is due: each age class is a list ordered by
 * last activity with one timeout, so only list heads are checked.
 */
#include "tcpstate/engine.h"

#include <stdlib.h>
#include <string.h>

#include "tcpstate/detect.h"
#include "tcpstate/limits.h"

void tcpst_engine_config_default(tcpst_engine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->conn.time_wait = TCPST_DEFAULT_TIME_WAIT;
    tcpst_detect_config_default(&cfg->conn);
    cfg->timeout[TCPST_LRU_HANDSHAKE] = TCPST_DEFAULT_TIMEOUT_HANDSHAKE;
    cfg->timeout[TCPST_LRU_ACTIVE] = TCPST_DEFAULT_TIMEOUT_ACTIVE;
    cfg->timeout[TCPST_LRU_CLOSED] = TCPST_DEFAULT_TIMEOUT_CLOSED;
    cfg->max_connections = TCPST_DEFAULT_MAX_CONNECTIONS;
    tcpst_decode_config_default(&cfg->decode);
    cfg->reassemble = true;
    tcpst_reasm_config_default(&cfg->reasm);
}

size_t tcpst_engine_record_bytes(void)
{
    /* Buckets are twice the slots (flowtab.c), in the main hash and in the 4-tuple index; a
     * findings block is counted for every record, as a flood of retried SYNs can give each
     * one. */
    return sizeof(tcpst_conn) + 4 * sizeof(uint32_t) + sizeof(tcpst_tuplelink) +
           sizeof(tcpst_finding_block);
}

uint64_t tcpst_engine_min_memory_mib(void)
{
    uint64_t table = (uint64_t)TCPST_MIN_SOFT_CONNECTIONS * tcpst_engine_record_bytes();
    return TCPST_MEMORY_OVERHEAD_MIB + (table + (1u << 20) - 1) / (1u << 20);
}

uint32_t tcpst_engine_soft_limit(uint64_t mib)
{
    if (mib < tcpst_engine_min_memory_mib()) {
        return 0;
    }
    uint64_t n = ((mib - TCPST_MEMORY_OVERHEAD_MIB) << 20) / tcpst_engine_record_bytes();
    return n > TCPST_MAX_MAX_CONNECTIONS ? TCPST_MAX_MAX_CONNECTIONS : (uint32_t)n;
}

int tcpst_engine_init(tcpst_engine *e, const tcpst_engine_config *cfg, tcpst_error *err)
{
    memset(e, 0, sizeof *e);
    e->cfg = *cfg;
    e->next_id = 1;
    tcpst_summary_init(&e->summary);
    e->expire_at = INT64_MIN; /* nothing known yet: look */
    e->scratch = malloc(sizeof *e->scratch);
    if (!e->scratch || tcpst_finding_pool_init(&e->fpool, (size_t)cfg->max_connections + 1) != 0) {
        tcpst_engine_fini(e);
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    if (cfg->reassemble && tcpst_reasm_init(&e->reasm, &cfg->reasm, err) != 0) {
        tcpst_engine_fini(e);
        return TCPST_ENOMEM;
    }
    if (tcpst_flowtab_init(&e->ft, cfg->max_connections, cfg->soft_connections, err) != 0) {
        tcpst_engine_fini(e);
        return TCPST_ENOMEM;
    }
    return 0;
}

void tcpst_engine_fini(tcpst_engine *e)
{
    tcpst_flowtab_fini(&e->ft);
    tcpst_reasm_free(e->reasm);
    e->reasm = NULL;
    free(e->scratch);
    e->scratch = NULL;
    tcpst_finding_pool_fini(&e->fpool);
    tcpst_summary_fini(&e->summary);
}

int tcpst_engine_add_receiver(tcpst_engine *e, const tcpst_receiver *r)
{
    if (e->nrecv == TCPST_RECEIVERS_MAX) {
        return TCPST_EUSAGE;
    }
    e->recv[e->nrecv++] = *r;
    e->announce |= r->anomaly != NULL;
    e->per_segment |= r->segment != NULL;
    return 0;
}

/* ---- streaming: findings announced as they happen ---- */

static bool announced(const tcpst_conn *c, const tcpst_finding *f)
{
    unsigned bit = f->type * 3u + f->who;
    return (c->announced[bit / 64] >> (bit % 64)) & 1u;
}

static void mark_announced(tcpst_conn *c, const tcpst_finding *f)
{
    unsigned bit = f->type * 3u + f->who;
    c->announced[bit / 64] |= UINT64_C(1) << (bit % 64);
}

/* Announce the findings of `view` (c itself, or a provisional copy of it) that c has not. */
static void announce(tcpst_engine *e, tcpst_conn *c, const tcpst_conn *view)
{
    for (unsigned i = 0; i < view->findings.n; i++) {
        const tcpst_finding *f = &view->findings.f[i];
        if (!announced(c, f)) {
            mark_announced(c, f);
            e->stats.announced++;
            for (unsigned k = 0; k < e->nrecv; k++) {
                if (e->recv[k].anomaly) {
                    e->recv[k].anomaly(e->recv[k].ctx, view, f, e->now);
                }
            }
        }
    }
}

/*
 * Once per second of clock: run the end-of-record detectors on a copy of
 * every connection that may have crossed a threshold, as if it ended now, and
 * announce what they find.  The real record is untouched; when it is written
 * out, the same finding (with its final duration) is not announced twice.
 */
/* Does `view` hold a finding c has not announced? */
static bool news(const tcpst_conn *c, const tcpst_conn *view)
{
    for (unsigned i = 0; i < view->findings.n; i++) {
        if (!announced(c, &view->findings.f[i])) {
            return true;
        }
    }
    return false;
}

static void scan_durations(tcpst_engine *e)
{
    e->next_scan = e->now + TCPST_SCAN_INTERVAL;
    /* A scan asks what holds now, not what the end of the run would judge. */
    tcpst_conn_config cfg = e->cfg.conn;
    cfg.end_any_age = false;
    for (uint32_t i = 1; i <= e->ft.hwm; i++) {
        tcpst_conn *c = &e->ft.conns[i];
        if (c->id == 0 || !tcpst_detect_duration_due(c, e->now, &e->cfg.conn)) {
            continue;
        }
        memcpy(e->scratch, c, sizeof *c);
        /* Its findings are its own: what the detectors add must not reach c's. */
        tcpst_findings_copy_to(&e->scratch->findings, &c->findings, e->scratch_findings.f);
        tcpst_conn_advance(e->scratch, e->now, &e->cfg.conn);
        e->scratch->end_reason = TCPST_END_CAPTURE_END; /* "still holds now" */
        e->scratch->end_ts = e->now > c->last_ts ? e->now : c->last_ts;
        tcpst_detect_finish(e->scratch, &cfg);
        if (e->cfg.host && news(c, e->scratch)) {
            /* The moment a stuck state is found is when its owner is worth naming. */
            e->cfg.host(e->cfg.host_ctx, e->scratch, true);
            tcpst_detect_host(e->scratch);
        }
        announce(e, c, e->scratch);
    }
}

static unsigned age_class(const tcpst_conn *c)
{
    if (tcpst_conn_terminated(c)) {
        return TCPST_LRU_CLOSED;
    }
    for (int i = 0; i < 2; i++) {
        if (c->ep[i].state >= TCPST_ESTABLISHED) {
            return TCPST_LRU_ACTIVE;
        }
    }
    return TCPST_LRU_HANDSHAKE;
}

static void retire(tcpst_engine *e, tcpst_conn *c, tcpst_end_reason why, tcpst_time now)
{
    tcpst_conn_advance(c, now, &e->cfg.conn);
    if (why == TCPST_END_IDLE && tcpst_conn_terminated(c)) {
        why = TCPST_END_CLOSED;
    }
    c->end_reason = (uint8_t)why;
    c->end_ts = now > c->last_ts ? now : c->last_ts;
    switch (why) {
        case TCPST_END_CLOSED:
            e->stats.closed++;
            break;
        case TCPST_END_IDLE:
            e->stats.idle_expired++;
            break;
        case TCPST_END_EVICTED:
            e->stats.evicted++;
            break;
        case TCPST_END_REUSED:
        case TCPST_END_ZEEK:
            e->stats.reused++;
            break;
        case TCPST_END_CAPTURE_END:
            if (tcpst_conn_open_at_end(c)) {
                e->stats.open_at_end++;
                c->end_undecidable = e->end_undecidable;
            }
            break;
        case TCPST_END_NONE:
            break;
    }
    e->stats.rst_not_accepted += c->rst_not_accepted;
    tcpst_detect_finish(c, &e->cfg.conn);
    if (e->cfg.host) {
        e->cfg.host(e->cfg.host_ctx, c, false);
        tcpst_detect_host(c);
    }
    if (e->announce) {
        announce(e, c, c);
    }
    tcpst_summary_add(&e->summary, c);
    e->stats.findings_dropped += c->findings.dropped;
    e->stats.evidence_dropped += c->findings.evidence_dropped;
    for (unsigned k = 0; k < e->nrecv; k++) {
        if (e->recv[k].record) {
            e->recv[k].record(e->recv[k].ctx, c);
        }
    }
    tcpst_findings_release(&c->findings);
    tcpst_flowtab_remove(&e->ft, c);
}

/* A record entered class cls or moved in it: it may be due before expire_at. */
static void note_due(tcpst_engine *e, const tcpst_conn *c, unsigned cls)
{
    tcpst_time due = c->last_ts + e->cfg.timeout[cls];
    if (due < e->expire_at) {
        e->expire_at = due;
    }
}

static void expire(tcpst_engine *e)
{
    if (e->now < e->expire_at) {
        return; /* the common case: checked once per packet, so kept to one comparison */
    }
    /* Retire due records in order of due time, across classes. */
    for (;;) {
        tcpst_conn *due = NULL;
        tcpst_time due_at = 0, next = INT64_MAX;
        for (unsigned cls = 0; cls < TCPST_LRU__COUNT; cls++) {
            tcpst_conn *c = tcpst_flowtab_oldest(&e->ft, cls);
            if (c && c->last_ts + e->cfg.timeout[cls] < next) {
                next = c->last_ts + e->cfg.timeout[cls];
            }
            if (c && e->now - c->last_ts >= e->cfg.timeout[cls] &&
                (!due || c->last_ts + e->cfg.timeout[cls] < due_at)) {
                due = c;
                due_at = c->last_ts + e->cfg.timeout[cls];
            }
        }
        if (!due) {
            /* Nothing is due before the oldest head's time; records touched or added later
             * lower it (note_due) if they could be due sooner. */
            e->expire_at = next;
            return;
        }
        retire(e, due, TCPST_END_IDLE, due_at);
    }
}

/*
 * Make room for a new record.  A finished connection goes first: its record is complete and
 * only lingers for late segments.  Then the longest-idle half-open one: above the soft limit
 * only if it is stale (unanswered for as long as syn_unanswered waits) or if half-open
 * records are a quarter of the table (a flood or a scan: in-progress handshakes cannot be
 * told apart from it); otherwise the table grows.  An established connection goes only when
 * the table is full (`hard`), as cutting it splits its record.
 */
static void make_room(tcpst_engine *e, bool hard)
{
    tcpst_conn *victim = tcpst_flowtab_oldest(&e->ft, TCPST_LRU_CLOSED);
    if (victim) {
        if (e->now - victim->last_ts < e->cfg.timeout[TCPST_LRU_CLOSED]) {
            e->stats.closed_early++;
        }
        retire(e, victim, TCPST_END_CLOSED, e->now);
        return;
    }
    victim = tcpst_flowtab_oldest(&e->ft, TCPST_LRU_HANDSHAKE);
    if (!hard && victim && e->now - victim->last_ts < e->cfg.conn.stuck_after[TCPST_SYN_SENT] &&
        e->ft.count[TCPST_LRU_HANDSHAKE] < e->cfg.soft_connections / 4) {
        return;
    }
    if (hard) {
        tcpst_conn *active = tcpst_flowtab_oldest(&e->ft, TCPST_LRU_ACTIVE);
        if (active && (!victim || active->last_ts < victim->last_ts)) {
            victim = active;
            e->stats.evicted_established++;
        }
    }
    if (victim) {
        retire(e, victim, TCPST_END_EVICTED, e->now);
    }
}

static tcpst_conn *new_conn(tcpst_engine *e, const tcpst_segment *seg, uint32_t hash)
{
    if (e->cfg.soft_connections && e->ft.live >= e->cfg.soft_connections) {
        make_room(e, false);
    }
    tcpst_conn *c = tcpst_flowtab_alloc(&e->ft);
    if (!c) {
        make_room(e, true);
        c = tcpst_flowtab_alloc(&e->ft);
    }
    tcpst_conn_init(c, e->next_id++, seg);
    c->findings.pool = &e->fpool;
    tcpst_flowtab_insert(&e->ft, c, hash, TCPST_LRU_HANDSHAKE);
    e->stats.connections++;
    if (e->ft.live > e->stats.peak_live) {
        e->stats.peak_live = e->ft.live;
    }
    return c;
}

/*
 * One segment through its record: the transfer detectors judge it against what came
 * before, the record applies it, and the lifecycle detectors look at what it changed.
 */
void tcpst_engine_conn_segment(tcpst_conn *c, const tcpst_segment *seg, tcpst_time ts,
                               uint64_t frame, const tcpst_conn_config *cfg)
{
    unsigned dir = tcpst_conn_dir(c, seg);
    tcpst_conn_advance(c, ts, cfg);
    tcpst_detect_pre pre;
    tcpst_detect_snapshot(c, &pre);
    tcpst_repeat rp = tcpst_xfer_segment(c, dir, seg, ts, frame, &cfg->xfer);
    unsigned ev = tcpst_conn_update(c, dir, seg, ts, frame, rp, cfg);
    tcpst_detect_segment(c, dir, seg, ts, frame, &pre, ev);
}

#define JOIN_CANDIDATES 4 /* records of one 4-tuple under other keys looked at */

/* The miss path of find_conn(), out of line so that a hit costs what it did before. */
static __attribute__((noinline)) tcpst_conn *
find_other_key(tcpst_engine *e, const tcpst_segment *seg, tcpst_conn **join)
{
    tcpst_conn *cand[JOIN_CANDIDATES];
    unsigned n = tcpst_flowtab_other_keys(&e->ft, seg, cand, JOIN_CANDIDATES);
    for (unsigned i = 0; i < n; i++) {
        if (cand[i]->joined && cand[i]->key_alt == seg->key_ctx) {
            return cand[i];
        }
    }
    for (unsigned i = 0; join && i < n; i++) {
        if (tcpst_conn_join_fits(cand[i], seg)) {
            *join = cand[i];
            return NULL;
        }
    }
    return NULL;
}

/*
 * The record of seg's 4-tuple and key, else one under another key that answers to seg's key
 * too (an asymmetric encapsulation joined before), else NULL.  With `join` set, a one-sided
 * record whose other direction seg is (tcpst_conn_join_fits) is returned in *join, to be
 * joined by the caller.  For plain traffic this is one lookup and one comparison.
 */
static inline tcpst_conn *find_conn(tcpst_engine *e, const tcpst_segment *seg, uint32_t hash,
                                    tcpst_conn **join)
{
    tcpst_conn *c = tcpst_flowtab_lookup(&e->ft, seg, hash);
    if (c || !tcpst_flowtab_other_keys_possible(&e->ft, seg)) {
        return c;
    }
    return find_other_key(e, seg, join);
}

/* Take seg's direction, under its own key, into record c (docs/encapsulations.md). */
static void join_conn(tcpst_engine *e, tcpst_conn *c, const tcpst_segment *seg, tcpst_time ts,
                      uint64_t frame)
{
    tcpst_conn_join(c, seg);
    tcpst_flowtab_add_key(&e->ft, c, seg->key_ctx);
    tcpst_detect_joined(c, ts, frame);
}

/* A decoded segment whose flow hash is known. */
static void segment_hashed(tcpst_engine *e, const tcpst_segment *seg, uint32_t hash, tcpst_time ts,
                           uint64_t frame)
{
    e->stats.tcp++;
    tcpst_conn *join = NULL;
    tcpst_conn *c = find_conn(e, seg, hash, &join);
    if (join) {
        c = join; /* the other direction of a one-sided record: joined below if it goes on */
    }
    tcpst_reuse_info reuse;
    bool reused = false;
    if (c && e->cfg.split_zeek) {
        unsigned dir = tcpst_conn_dir(c, seg);
        tcpst_zeek_split zs = tcpst_zeek_check_split(&c->zeek, dir, seg, ts);
        if (zs == TCPST_ZSPLIT_REUSE) {
            tcpst_detect_before_reuse(c, dir, seg, ts, frame, &reuse);
            reused = true;
            if ((seg->flags & (TCPST_SYN | TCPST_ACK | TCPST_RST)) == TCPST_SYN) {
                tcpst_conn_taken_over(c, dir, seg, ts, frame);
            }
        }
        if (zs != TCPST_ZSPLIT_NONE) {
            retire(e, c, zs == TCPST_ZSPLIT_REUSE ? TCPST_END_REUSED : TCPST_END_ZEEK, ts);
            c = NULL;
        }
    } else if (c && (seg->flags & (TCPST_SYN | TCPST_ACK | TCPST_RST)) == TCPST_SYN) {
        unsigned dir = tcpst_conn_dir(c, seg);
        tcpst_conn_advance(c, ts, &e->cfg.conn);
        if (tcpst_conn_syn_starts_new(c, dir, seg)) {
            tcpst_detect_before_reuse(c, dir, seg, ts, frame, &reuse);
            reused = true;
            tcpst_conn_taken_over(c, dir, seg, ts, frame);
            retire(e, c, TCPST_END_REUSED, ts);
            c = NULL;
        }
    }
    if (c && join) {
        join_conn(e, c, seg, ts, frame);
    }
    if (!c) {
        c = new_conn(e, seg, hash);
        if (reused) {
            tcpst_detect_after_reuse(c, &reuse, ts, frame, &e->cfg.conn);
        }
    }
    tcpst_engine_conn_segment(c, seg, ts, frame, &e->cfg.conn);
    e->last_conn = c;
    if (e->per_segment) {
        unsigned from = tcpst_conn_dir(c, seg);
        for (unsigned k = 0; k < e->nrecv; k++) {
            if (e->recv[k].segment) {
                e->recv[k].segment(e->recv[k].ctx, c, from, seg, ts, frame);
            }
        }
    }
    unsigned cls = age_class(c);
    tcpst_flowtab_touch(&e->ft, c, cls);
    note_due(e, c, cls);
    if (e->announce) {
        announce(e, c, c);
    }
}

/* The clock moved forward to e->now: timers, expiry, duration scans. */
static void clock_moved(tcpst_engine *e)
{
    expire(e);
    if (e->announce && e->now >= e->next_scan) {
        scan_durations(e);
    }
}

void tcpst_engine_advance(tcpst_engine *e, tcpst_time now)
{
    if (e->clock_set && now <= e->now) {
        return;
    }
    e->now = now;
    e->clock_set = true;
    clock_moved(e);
    if (e->reasm) {
        tcpst_reasm_expire(e->reasm, now);
    }
}

void tcpst_engine_open_counts(const tcpst_engine *e, tcpst_engine_open *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 1; i <= e->ft.hwm; i++) {
        const tcpst_conn *c = &e->ft.conns[i];
        if (c->id == 0) {
            continue;
        }
        out->total++;
        out->client[c->ep[0].state]++;
        out->server[c->ep[1].state]++;
    }
}

void tcpst_engine_segment(tcpst_engine *e, const tcpst_segment *seg, tcpst_time ts, uint64_t frame)
{
    segment_hashed(e, seg, tcpst_flowtab_hash(seg), ts, frame);
}

/* The flow hash of a segment that decoded (what the table is keyed on); 0 otherwise. */
static uint32_t hash_if_ok(tcpst_decode_status st, const tcpst_segment *seg)
{
    return st == TCPST_DEC_OK ? tcpst_flowtab_hash(seg) : 0;
}

uint32_t tcpst_engine_prepare(const tcpst_engine_config *cfg, int linktype, const uint8_t *data,
                              uint32_t caplen, uint32_t wirelen, tcpst_prepared *out)
{
    tcpst_decode_status st =
        tcpst_decode_ex(&cfg->decode, linktype, data, caplen, wirelen, &out->seg);
    out->status = st;
    out->snapped = caplen < wirelen;
    out->hash = hash_if_ok(st, &out->seg);
    /* Nothing past the headers is read again, except to reassemble or verify. */
    bool again = (st == TCPST_DEC_IP_FRAGMENT && cfg->reassemble) ||
                 (st == TCPST_DEC_OK && cfg->verify_checksums);
    return again ? caplen : 0;
}

uint32_t tcpst_engine_prep_fn(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
                              uint32_t wirelen, void *out)
{
    return tcpst_engine_prepare(ctx, linktype, data, caplen, wirelen, out);
}

void tcpst_engine_packet(tcpst_engine *e, int linktype, const uint8_t *data, uint32_t caplen,
                         uint32_t wirelen, tcpst_time ts, uint64_t frame)
{
    tcpst_prepared p;
    (void)tcpst_engine_prepare(&e->cfg, linktype, data, caplen, wirelen, &p);
    tcpst_engine_prepared(e, &p, data, caplen, ts, frame);
}

void tcpst_engine_prepared(tcpst_engine *e, const tcpst_prepared *p, const uint8_t *data,
                           uint32_t caplen, tcpst_time ts, uint64_t frame)
{
    if (e->stats.packets > 0 && ts <= e->last_raw - TCPST_CLOCK_STEP) {
        /* A clock step back: the gap is taken out, so a connection across it keeps its true
         * duration instead of a negative or hour-long one. */
        tcpst_time step = e->last_raw - ts;
        e->stats.clock_steps_back++;
        e->stats.largest_step_back =
            step > e->stats.largest_step_back ? step : e->stats.largest_step_back;
        e->ts_offset += step;
    }
    e->last_raw = ts;
    ts += e->ts_offset;
    e->stats.packets++;
    if (e->stats.packets == 1 || ts < e->stats.first_ts) {
        e->stats.first_ts = ts;
    }
    if (e->stats.packets == 1 || ts > e->stats.last_ts) {
        e->stats.last_ts = ts;
    }
    /* The clock never runs backwards, even when capture timestamps do; it
     * starts at the first packet, not at 0, since times before 1970 exist. */
    if (!e->clock_set || ts > e->now) {
        e->now = ts;
        e->clock_set = true;
        clock_moved(e);
    }
    const tcpst_segment *seg = &p->seg;
    tcpst_decode_status st = (tcpst_decode_status)p->status;
    uint32_t hash = p->hash;
    tcpst_segment whole;
    if (st == TCPST_DEC_IP_FRAGMENT && e->reasm) {
        /* A fragment is not a problem but a piece: the datagram is decoded when whole. */
        const uint8_t *dgram;
        size_t dlen;
        int done = tcpst_reasm_add(e->reasm, data + seg->l3_off, caplen - seg->l3_off, seg->key_ctx,
                                   e->now, &dgram, &dlen);
        e->stats.frag = *tcpst_reasm_get_stats(e->reasm);
        if (done != 1) {
            e->stats.frag_absorbed++;
            return;
        }
        whole = p->seg; /* decoding goes on from the layers around the fragment */
        st = tcpst_decode_ip(&e->cfg.decode, dgram, dlen, &whole);
        seg = &whole;
        hash = hash_if_ok(st, seg);
        data = dgram;
        caplen = (uint32_t)dlen;
    }
    e->stats.decode[st]++;
    if (p->snapped && tcpst_decode_is_truncation(st)) {
        e->stats.snapped_headers++; /* the snap length cut it inside its headers */
    }
    if (st == TCPST_DEC_OK && e->cfg.verify_checksums) {
        tcpst_csum cs = tcpst_decode_checksum(data, caplen, seg);
        if (cs == TCPST_CSUM_UNVERIFIABLE) {
            e->stats.checksum_unverifiable++;
        } else if (cs != TCPST_CSUM_OK) {
            /* The receiver drops such a segment, so it must not move any state. */
            e->stats.bad_checksum++;
            e->stats.tcp++;
            tcpst_conn *c = find_conn(e, seg, hash, NULL); /* a dropped segment joins nothing */
            if (c) {
                tcpst_detect_bad_checksum(c, tcpst_conn_dir(c, seg), cs, ts, frame);
            }
            return;
        }
    }
    if (st == TCPST_DEC_OK) {
        e->stats.opt_malformed += seg->opts.malformed != 0;
        e->stats.opt_unknown += seg->opts.unknown;
        e->stats.ip_options += (seg->ipflags & TCPST_IP_HAS_OPTIONS) != 0;
        segment_hashed(e, seg, hash, ts, frame);
    } else if (st == TCPST_DEC_NOT_IP || st == TCPST_DEC_NOT_TCP) {
        e->stats.non_tcp++;
    }
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = (*(tcpst_conn *const *)a)->id, y = (*(tcpst_conn *const *)b)->id;
    return x < y ? -1 : x > y;
}

void tcpst_engine_finish(tcpst_engine *e)
{
    e->stats.lookups = e->ft.lookups;
    e->stats.chain_steps = e->ft.probes;
    size_t n = 0;
    tcpst_conn **live = malloc(sizeof *live * (e->ft.live + 1u));
    for (uint32_t i = 1; i <= e->ft.hwm; i++) {
        tcpst_conn *c = &e->ft.conns[i];
        if (c->id == 0) {
            continue;
        }
        if (live) {
            live[n++] = c;
        } else {
            retire(e, c, TCPST_END_CAPTURE_END, e->now); /* no memory: order unsorted */
        }
    }
    if (live) {
        qsort(live, n, sizeof *live, by_id);
        for (size_t i = 0; i < n; i++) {
            retire(e, live[i], TCPST_END_CAPTURE_END, e->now);
        }
        free(live);
    }
}

void tcpst_engine_summary(const tcpst_engine *e, tcpst_summary_result *out)
{
    tcpst_summary_judge(&e->summary, out);
    tcpst_summary_judge_snaplen(out, e->stats.snapped_headers, e->stats.packets);
    tcpst_summary_judge_clock(out, e->stats.clock_steps_back, e->stats.largest_step_back);
}
