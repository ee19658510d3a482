/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * doc.c - the inputs, stats, summary and verdict of a report, and NDJSON's stats lines,
 * built with jansson (doc.h).  Key order is the schema's (docs/report.schema.json);
 * jansson keeps insertion order.
 *
 * Not here: the records (record.c), or any judgement: the capture-wide findings come
 * judged (summary.h), the verdict from the policy receiver (policy.c).
 */
#include "doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "tcpstate/decode.h"
#include "tcpstate/endpoint.h"

static double time_value(tcpst_time ns)
{
    return (double)tcpst__time_us(ns) / 1e6;
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

/* An object whose first member is "type": what an NDJSON line is. */
json_t *tcpst__doc_typed(const char *type)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    return o;
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

json_t *tcpst__doc_stats_line(tcpst_time now, const tcpst_engine_stats *st,
                              const tcpst_engine_open *open, const tcpst_capture_counters *cc,
                              const tcpst__tallies *t)
{
    json_t *o = tcpst__doc_typed("stats");
    json_object_set_new(o, "ts", jtime(now));
    json_object_set_new(o, "analyzed", json_integer((json_int_t)st->packets));
    json_object_set_new(o, "tcp_segments", json_integer((json_int_t)st->tcp));
    json_object_set_new(o, "non_tcp", json_integer((json_int_t)st->non_tcp));
    json_object_set_new(o, "decode_problems", json_integer((json_int_t)decode_problems(st)));
    json_object_set_new(o, "connections", json_integer((json_int_t)st->connections));
    json_object_set_new(o, "connections_written", json_integer((json_int_t)t->written));
    if (open) {
        json_t *j = json_object();
        json_object_set_new(j, "total", json_integer(open->total));
        json_object_set_new(j, "client", states_json(open->client));
        json_object_set_new(j, "server", states_json(open->server));
        json_object_set_new(o, "open", j);
    }
    json_object_set_new(o, "anomalies", type_counts_json(t->announced));
    reasm_fill(o, st);
    if (cc && cc->valid) {
        json_object_set_new(o, "capture", counters_json(cc));
    }
    return o;
}

static json_t *opt_count(bool has, uint64_t n)
{
    return has ? json_integer((json_int_t)n) : json_null();
}

/* What a pcapng file's Interface Statistics Blocks said, summed over its interfaces; null
 * when it had none (the capture was not stopped cleanly, or the writer never writes them). */
static json_t *isb_json(const tcpst_input_info *in)
{
    if (!in->has_end) {
        return json_null();
    }
    json_t *o = json_object();
    json_object_set_new(o, "start", jtime_or_null(in->start_ts, in->start_ts != 0));
    json_object_set_new(o, "end", jtime(in->end_ts));
    json_object_set_new(o, "if_received", opt_count(in->has_ifrecv, in->if_received));
    json_object_set_new(o, "if_dropped", opt_count(in->has_ifdrop, in->if_dropped));
    json_object_set_new(o, "os_dropped", opt_count(in->has_osdrop, in->os_dropped));
    return o;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the byte there starts none
 * (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) {
        return 1;
    }
    size_t n = c >= 0xC2 && c <= 0xDF   ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F)) {
        return 0;
    }
    return n;
}

/*
 * Text the user gave (a file name, a filter, a rule) as a JSON string, never dropped: bytes
 * that are not UTF-8 (a file name is any bytes but '/' and NUL) become "\\xHH", and a
 * backslash then becomes "\\\\", so the raw bytes can be recovered.  *escaped says whether
 * that happened (NULL: not wanted).
 */
static json_t *text_json(const char *text, bool *escaped)
{
    const unsigned char *s = (const unsigned char *)text;
    bool valid = true;
    for (size_t i = 0; s[i];) {
        size_t n = utf8_len(s + i);
        if (n == 0) {
            valid = false;
            break;
        }
        i += n;
    }
    if (escaped) {
        *escaped = !valid;
    }
    if (valid) {
        return json_string(text);
    }
    size_t len = strlen(text);
    char *out = malloc(len * 4 + 1);
    if (!out) {
        return json_string("");
    }
    size_t o = 0;
    for (size_t i = 0; s[i];) {
        size_t n = utf8_len(s + i);
        if (n == 0) {
            o += (size_t)snprintf(out + o, 5, "\\x%02X", s[i]);
            i++;
        } else if (s[i] == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
            i++;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    json_t *j = json_string(out);
    free(out);
    return j ? j : json_string("");
}

json_t *tcpst__doc_inputs(const tcpst_report_meta *m)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_inputs; i++) {
        const tcpst_input_info *in = &m->inputs[i];
        bool any = in->packets > 0;
        json_t *o = json_object();
        bool escaped;
        json_object_set_new(o, "name", text_json(in->name, &escaped));
        if (escaped) {
            json_object_set_new(o, "name_escaped", json_true());
        }
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
        json_object_set_new(o, "error", in->error[0] ? text_json(in->error, NULL) : json_null());
        json_object_set_new(o, "stream", json_boolean(in->stream));
        if (in->interfaces > 0) {
            json_object_set_new(o, "interfaces", json_integer(in->interfaces));
            json_object_set_new(o, "isb", isb_json(in));
        }
        json_array_append_new(a, o);
    }
    return a;
}

json_t *tcpst__doc_stats(const tcpst__run_end *e)
{
    const tcpst_engine_stats *st = e->stats;
    const tcpst_report_meta *m = e->meta;
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
    json_object_set_new(o, "connections_written", json_integer((json_int_t)e->tallies->written));
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
    json_object_set_new(o, "filter", m->filter ? text_json(m->filter, NULL) : json_null());
    json_object_set_new(o, "time_wait", jtime(m->time_wait));
    reasm_fill(o, st);
    if (e->stream) {
        json_object_set_new(o, "anomalies_announced", json_integer((json_int_t)st->announced));
    }
    if (m->interface) {
        json_object_set_new(o, "interface", text_json(m->interface, NULL));
    }
    if (m->host) {
        /* Why records' process and kernel_state may be null: said once, here. */
        const char *why = tcpst_hostsock_unavailable(m->host);
        json_object_set_new(o, "host_sockets",
                            json_pack("{s:I, s:o}", "snapshots",
                                      (json_int_t)tcpst_hostsock_snapshots(m->host), "unavailable",
                                      why ? text_json(why, NULL) : json_null()));
    }
    if (m->command) {
        json_t *argv = json_array();
        for (char *const *a = m->command; *a; a++) {
            json_array_append_new(argv, text_json(*a, NULL));
        }
        json_t *code = m->command_status >= 0 ? json_integer(m->command_status) : json_null();
        json_object_set_new(o, "command",
                            json_pack("{s:o, s:o}", "argv", argv, "exit_status", code));
    }
    if (m->counters.valid) {
        json_object_set_new(o, "capture", counters_json(&m->counters));
    }
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

json_t *tcpst__doc_verdict(tcpst_policy *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "result", json_string(p && tcpst_policy_failed(p) ? "fail" : "pass"));
    json_t *rules = json_array();
    for (size_t i = 0; p && i < p->n; i++) {
        tcpst_rule *r = &p->rules[i];
        json_t *j = json_object();
        json_object_set_new(j, "rule", text_json(r->text, NULL));
        json_object_set_new(j, "source", text_json(r->source, NULL));
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

/* A host over a threshold, as the summary lists it. */
static json_t *listed_json(const tcpst_summary_listed *h, bool syns)
{
    json_t *o = json_object();
    json_object_set_new(o, syns ? "server" : "host", addr_json(&h->addr));
    json_object_set_new(o, syns ? "unanswered_syns" : "connections_reset",
                        json_integer((json_int_t)h->count));
    json_object_set_new(o, "first_ts", jtime(h->first_ts));
    json_object_set_new(o, "last_ts", jtime(h->last_ts));
    return o;
}

/* The capture-wide findings (summary.h), as detect/summary.c judged them. */
static json_t *capture_json(const tcpst_summary_result *c, const tcpst_report_meta *m)
{
    json_t *o = json_object();
    const tcpst_capture_end *end = m->end;
    bool known = end != NULL && end->known;
    json_object_set_new(o, "end", jtime_or_null(known ? end->end : 0, known));
    json_object_set_new(o, "end_source", known ? json_string(end->source) : json_null());
    json_object_set_new(o, "packets_dropped", opt_count(m->drops_known, m->dropped));
    json_object_set_new(o, "drops_source",
                        m->drops_known ? json_string(m->drops_source) : json_null());
    json_t *why = json_array();
    if (m->drops_known && m->dropped > 0) {
        json_array_append_new(why, json_string("packets_dropped"));
    }
    if (m->truncated) {
        json_array_append_new(why, json_string("input_truncated"));
    }
    json_object_set_new(o, "complete", json_boolean(json_array_size(why) == 0));
    json_object_set_new(o, "incomplete", why);
    json_t *floods = json_array(), *storms = json_array();
    for (size_t i = 0; i < c->nfloods; i++) {
        json_array_append_new(floods, listed_json(&c->floods[i], true));
    }
    for (size_t i = 0; i < c->nstorms; i++) {
        json_array_append_new(storms, listed_json(&c->storms[i], false));
    }
    json_object_set_new(o, "syn_flood_or_scan", floods);
    json_object_set_new(o, "rst_storm", storms);
    json_object_set_new(o, "quality", json_string(c->quality ? c->quality : "ok"));
    json_object_set_new(o, "established_connections",
                        json_integer((json_int_t)c->established_conns));
    json_object_set_new(o, "one_sided_connections", json_integer((json_int_t)c->one_sided_conns));
    json_object_set_new(o, "connections_with_capture_loss",
                        json_integer((json_int_t)c->lossy_conns));
    json_object_set_new(o, "hosts_untracked", json_integer((json_int_t)c->hosts_untracked));
    json_object_set_new(o, "snapped_headers", json_integer((json_int_t)c->snapped_headers));
    json_object_set_new(o, "clock_steps_back", json_integer((json_int_t)c->clock_steps_back));
    json_object_set_new(o, "largest_step_back", jtime(c->largest_step_back));
    return o;
}

json_t *tcpst__doc_summary(const tcpst__run_end *e)
{
    const tcpst__tallies *r = e->tallies;
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
    for (int i = 0; i < TCPST_ZCS__COUNT; i++) {
        if (r->zeek_counts[i]) {
            json_object_set_new(zs, tcpst_zeek_cs_name((tcpst_zeek_cs)i),
                                json_integer((json_int_t)r->zeek_counts[i]));
        }
    }
    json_object_set_new(o, "conn_state", zs);
    json_object_set_new(o, "roles_inferred", json_integer((json_int_t)r->roles_inferred));
    json_object_set_new(o, "anomalies", type_counts_json(r->anomaly_counts));
    json_object_set_new(o, "connections_by_severity",
                        json_pack("{s:I, s:I, s:I}", "info", (json_int_t)r->anomaly_conns[0],
                                  "warning", (json_int_t)r->anomaly_conns[1], "error",
                                  (json_int_t)r->anomaly_conns[2]));
    json_object_set_new(o, "capture", capture_json(e->capture, e->meta));
    return o;
}
