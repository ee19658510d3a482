/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * junit.c - JUnit XML writer.  Escaping follows XML 1.0 section 2.4: the
 * five markup characters become entities and other control characters,
 * which XML 1.0 cannot carry at all, become '?'.
 */
#include "tcpstate/junit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"
#include "tcpstate/anomaly.h"

void tcpst_junit_init(tcpst_junit *j, const tcpst_policy *policy)
{
    memset(j, 0, sizeof *j);
    j->policy = policy;
}

void tcpst_junit_fini(tcpst_junit *j)
{
    free(j->v);
    memset(j, 0, sizeof *j);
}

static void remember(void *ctx, const tcpst_conn *c)
{
    tcpst_junit *j = ctx;
    tcpst_junit_add(j, c, tcpst_policy_match(j->policy, c));
}

tcpst_receiver tcpst_junit_receiver(tcpst_junit *j)
{
    tcpst_receiver r = {.record = remember, .anomaly = NULL, .ctx = j};
    return r;
}

void tcpst_junit_add(tcpst_junit *j, const tcpst_conn *c, uint64_t rules)
{
    if (j->n == TCPST_JUNIT_MAX_CONNS) {
        j->not_listed++;
        return;
    }
    if (!tcpst_grow(&j->v, &j->cap, j->n, sizeof *j->v, 64)) {
        j->not_listed++;
        return;
    }
    tcpst_junit_conn *o = &j->v[j->n++];
    memset(o, 0, sizeof *o);
    o->ref = tcpst_conn_ref_of(c);
    o->state[0] = c->ep[0].state;
    o->state[1] = c->ep[1].state;
    o->first_frame = c->first_frame;
    o->last_frame = c->last_frame;
    o->rules = rules;
    o->nf = c->findings.n;
    for (unsigned i = 0; i < c->findings.n; i++) {
        const tcpst_finding *f = &c->findings.f[i];
        o->f[i].type = f->type;
        o->f[i].who = f->who;
        for (unsigned e = 0; e < f->nevidence && e < 4; e++) {
            o->f[i].frames[o->f[i].nframes++] = f->evidence[e];
        }
    }
}

void tcpst_xml_escape(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 7 < n; s++) {
        const char *rep = NULL;
        switch (*s) {
            case '&':
                rep = "&amp;";
                break;
            case '<':
                rep = "&lt;";
                break;
            case '>':
                rep = "&gt;";
                break;
            case '"':
                rep = "&quot;";
                break;
            case '\'':
                rep = "&apos;";
                break;
            default:
                break;
        }
        if (rep) {
            size_t l = strlen(rep);
            memcpy(out + k, rep, l);
            k += l;
        } else {
            unsigned char ch = (unsigned char)*s;
            out[k++] = (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') ? '?' : (char)ch;
        }
    }
    out[k] = '\0';
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const tcpst_junit_conn *)a)->ref.id, y = ((const tcpst_junit_conn *)b)->ref.id;
    return x < y ? -1 : x > y;
}

static void conn_name(const tcpst_junit_conn *c, char *out, size_t n)
{
    char a[TCPST_ADDRPORT_STRLEN], b[TCPST_ADDRPORT_STRLEN];
    tcpst_addrport_format(&c->ref.caddr, c->ref.cport, a);
    tcpst_addrport_format(&c->ref.saddr, c->ref.sport, b);
    snprintf(out, n, "#%llu %s -> %s", (unsigned long long)c->ref.id, a, b);
}

/* Did connection c fail rule number `i`? */
static bool fails(const tcpst_junit_conn *c, const tcpst_rule *r, size_t i)
{
    if (!tcpst_rule_violated(r)) {
        return false;
    }
    if (i < 64) {
        return (c->rules >> i) & 1;
    }
    for (unsigned k = 0; k < c->nf; k++) {
        if (tcpst_rule_matches(r, c->f[k].type)) {
            return true; /* past the mask: finding rules can still be judged */
        }
    }
    return false;
}

static void write_failure(tcpst__sink *f, const tcpst_junit_conn *c, const tcpst_rule *r)
{
    static const char *const who[] = {"client", "server", "both"};
    if (r->kind == TCPST_RULE_FINAL_STATE || r->kind == TCPST_RULE_HANDSHAKE) {
        const char *side = who[r->side];
        if (r->kind == TCPST_RULE_FINAL_STATE) {
            tcpst__sink_printf(f,
                               ">\n      <failure type=\"final_state\" message=\"%s ended in %s\">",
                               side, tcpst_state_name((tcpst_state)c->state[r->side]));
        } else {
            tcpst__sink_puts(
                f, ">\n      <failure type=\"handshake\" message=\"handshake never completed\">");
        }
        tcpst__sink_printf(f, "frames %llu..%llu", (unsigned long long)c->first_frame,
                           (unsigned long long)c->last_frame);
        tcpst__sink_puts(f, "</failure>\n    </testcase>\n");
        return;
    }
    bool first = true;
    for (unsigned k = 0; k < c->nf; k++) {
        const tcpst_junit_finding *x = &c->f[k];
        if (!tcpst_rule_matches(r, x->type)) {
            continue;
        }
        const char *id = tcpst_anomaly_id((tcpst_anomaly_type)x->type);
        if (first) {
            tcpst__sink_printf(f, ">\n      <failure type=\"%s\" message=\"%s on the %s\">", id, id,
                               who[x->who < 3 ? x->who : 2]);
        } else {
            tcpst__sink_puts(f, "\n");
        }
        first = false;
        tcpst__sink_printf(f, "%s (%s):", id, who[x->who < 3 ? x->who : 2]);
        for (unsigned e = 0; e < x->nframes; e++) {
            tcpst__sink_printf(f, "%s frame %llu", e ? "," : "", (unsigned long long)x->frames[e]);
        }
    }
    tcpst__sink_puts(f, "</failure>\n    </testcase>\n");
}

static size_t suite_failures(const tcpst_junit *j, const tcpst_rule *r, size_t i)
{
    size_t n = 0;
    for (size_t c = 0; c < j->n; c++) {
        n += fails(&j->v[c], r, i);
    }
    return n;
}

static void write_suite(tcpst__sink *f, const tcpst_junit *j, const tcpst_rule *r, size_t i)
{
    char rule[256], src[160];
    tcpst_xml_escape(r->text, rule, sizeof rule);
    tcpst_xml_escape(r->source, src, sizeof src);
    tcpst__sink_printf(f, "  <testsuite name=\"%s (%s)\" tests=\"%zu\" failures=\"%zu\">\n", rule,
                       src, j->n + (j->not_listed ? 1 : 0), suite_failures(j, r, i));
    for (size_t k = 0; k < j->n; k++) {
        const tcpst_junit_conn *c = &j->v[k];
        char name[160], esc[256];
        conn_name(c, name, sizeof name);
        tcpst_xml_escape(name, esc, sizeof esc);
        tcpst__sink_printf(f, "    <testcase classname=\"tcpstate.%s\" name=\"%s\"", rule, esc);
        if (fails(c, r, i)) {
            write_failure(f, c, r);
        } else {
            tcpst__sink_puts(f, "/>\n");
        }
    }
    if (j->not_listed) {
        tcpst__sink_printf(f,
                           "    <testcase classname=\"tcpstate.%s\" name=\"%llu further "
                           "connections (not listed)\"/>\n",
                           rule, (unsigned long long)j->not_listed);
    }
    tcpst__sink_puts(f, "  </testsuite>\n");
}

int tcpst_junit_write(tcpst_junit *j, const char *path, tcpst_error *err)
{
    tcpst__sink f;
    int rc = tcpst__sink_open(&f, path, TCPST__SINK_ATOMIC, "JUnit report", err);
    if (rc != 0) {
        return rc;
    }
    const tcpst_policy *p = j->policy;
    /* qsort() with a NULL base is undefined even for 0 elements, and j->v is
     * NULL when no connection was seen (found by fuzz_pcap). */
    if (j->n > 1) {
        qsort(j->v, j->n, sizeof *j->v, by_id);
    }
    size_t tests = 0, failures = 0;
    for (size_t i = 0; i < p->n; i++) {
        tests += j->n + (j->not_listed ? 1 : 0);
        failures += suite_failures(j, &p->rules[i], i);
    }
    tcpst__sink_puts(&f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    tcpst__sink_printf(&f, "<testsuites name=\"tcpstate\" tests=\"%zu\" failures=\"%zu\">\n", tests,
                       failures);
    for (size_t i = 0; i < p->n; i++) {
        write_suite(&f, j, &p->rules[i], i);
    }
    tcpst__sink_puts(&f, "</testsuites>\n");
    return tcpst__sink_commit(&f, "JUnit report", err);
}
