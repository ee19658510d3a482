/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy.c - parsing --fail-on rules and checking connections against them.
 */
#include "tcpstate/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate/anomaly.h"

void tcpst_policy_init(tcpst_policy *p)
{
    memset(p, 0, sizeof *p);
}

void tcpst_policy_fini(tcpst_policy *p)
{
    free(p->rules);
    memset(p, 0, sizeof *p);
}

static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v == 0) {
        return -1;
    }
    *out = v;
    return 0;
}

static int severity_parse(const char *s)
{
    for (int i = TCPST_SEV_INFO; i <= TCPST_SEV_ERROR; i++) {
        if (strcmp(s, tcpst_severity_name((tcpst_severity)i)) == 0) {
            return i;
        }
    }
    return -1;
}

/* One item: "type", "type>=N", "type=N", "severity>=S", "severity>=S>=N"... */
tcpst_rule *tcpst_policy_new_rule(tcpst_policy *p, const char *source)
{
    if (!tcpst_grow(&p->rules, &p->cap, p->n, sizeof *p->rules, 8)) {
        return NULL;
    }
    tcpst_rule *r = &p->rules[p->n++];
    memset(r, 0, sizeof *r);
    r->scope.splen = r->scope.cplen = 255; /* no prefix: every address */
    snprintf(r->source, sizeof r->source, "%s", source);
    r->min_count = 1;
    return r;
}

static int parse_item(tcpst_rule *r, char *item, tcpst_error *err)
{
    snprintf(r->text, sizeof r->text, "%s", item);
    char *name = item;
    if (strncmp(item, "severity>=", 10) == 0) {
        r->kind = TCPST_RULE_SEVERITY;
        name = item + 10;
    }
    /* An optional count follows the first '>=' or '=' after the name. */
    char *cnt = NULL;
    char *op = strpbrk(name, ">=");
    if (op) {
        cnt = op + (op[0] == '>' ? 2 : 1);
        if (op[0] == '>' && op[1] != '=') {
            return tcpst_error_set(err, TCPST_EUSAGE, "--fail-on: '%s': expected '>=N'", r->text);
        }
        *op = '\0';
        if (parse_count(cnt, &r->min_count) != 0) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "--fail-on: '%s': the count must be a whole number >= 1",
                                   r->text);
        }
    }
    if (r->kind == TCPST_RULE_SEVERITY) {
        r->severity = severity_parse(name);
        if (r->severity < 0) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "--fail-on: '%s': unknown severity '%s' (info, warning, "
                                   "error)",
                                   r->text, name);
        }
        return 0;
    }
    r->type = tcpst_anomaly_parse(name);
    if (r->type < 0) {
        const char *near = tcpst_anomaly_suggest(name);
        if (near) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "--fail-on: unknown anomaly type '%s'; did you mean '%s'?", name,
                                   near);
        }
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "--fail-on: unknown anomaly type '%s' (tcpstate --list-anomalies)",
                               name);
    }
    return 0;
}

int tcpst_policy_add_fail_on(tcpst_policy *p, const char *list, tcpst_error *err)
{
    char buf[1024];
    if (strlen(list) >= sizeof buf) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--fail-on: value too long");
    }
    strcpy(buf, list);
    char *save = NULL;
    int n = 0;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        tcpst_rule *r = tcpst_policy_new_rule(p, "--fail-on");
        if (!r) {
            return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
        }
        int rc = parse_item(r, item, err);
        if (rc) {
            p->n--; /* a rejected rule is not kept */
            return rc;
        }
        n++;
    }
    if (n == 0) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--fail-on: no rule given");
    }
    return 0;
}

bool tcpst_rule_on_findings(const tcpst_rule *r)
{
    return r->kind == TCPST_RULE_TYPE || r->kind == TCPST_RULE_SEVERITY ||
           r->kind == TCPST_RULE_ALLOW;
}

bool tcpst_rule_matches(const tcpst_rule *r, int type)
{
    switch (r->kind) {
        case TCPST_RULE_TYPE:
            return type == r->type;
        case TCPST_RULE_SEVERITY:
            return (int)tcpst_anomaly_severity((tcpst_anomaly_type)type) >= r->severity;
        case TCPST_RULE_ALLOW:
            return !(r->allow_mask & (UINT64_C(1) << type));
        default:
            return false;
    }
}

static bool prefix_match(const tcpst_addr *a, const tcpst_addr *prefix, uint8_t len)
{
    if (len == 255) {
        return true;
    }
    if (a->family != prefix->family) {
        return false;
    }
    for (unsigned bit = 0; bit < len; bit += 8) {
        unsigned n = len - bit >= 8 ? 8 : len - bit;
        uint8_t mask = (uint8_t)(0xFF << (8 - n));
        if ((a->bytes[bit / 8] & mask) != (prefix->bytes[bit / 8] & mask)) {
            return false;
        }
    }
    return true;
}

static bool in_scope(const tcpst_scope *s, const tcpst_conn *c)
{
    if (s->nports) {
        bool hit = false;
        for (unsigned i = 0; i < s->nports; i++) {
            hit |= s->ports[i] == c->ep[1].port;
        }
        if (!hit) {
            return false;
        }
    }
    return prefix_match(&c->ep[1].addr, &s->sprefix, s->splen) &&
           prefix_match(&c->ep[0].addr, &s->cprefix, s->cplen);
}

/* Connection-level rules: does this connection break it? */
static bool conn_breaks(const tcpst_rule *r, const tcpst_conn *c)
{
    if (r->kind == TCPST_RULE_FINAL_STATE) {
        return !(r->states_mask & (1u << c->ep[r->side].state));
    }
    /* TCPST_RULE_HANDSHAKE: the client sent a SYN, yet no side ever got to ESTABLISHED. */
    if (c->ep[0].syns == 0) {
        return false;
    }
    for (int i = 0; i < 2; i++) {
        for (unsigned k = 0; k < c->ep[i].tl_count; k++) {
            if (c->ep[i].tl[k].to == TCPST_ESTABLISHED) {
                return false;
            }
        }
    }
    return true;
}

static tcpst_offender *offender(tcpst_rule *r, const tcpst_conn *c)
{
    r->conns++;
    if (r->noff == TCPST_VERDICT_CONNS) {
        return NULL; /* beyond the listed connections: counted only */
    }
    tcpst_offender *o = &r->off[r->noff++];
    memset(o, 0, sizeof *o);
    o->ref = tcpst_conn_ref_of(c);
    return o;
}

/* Does connection c match rule r (in scope, and breaking it or with a matching finding)? */
static bool rule_hit(const tcpst_rule *r, const tcpst_conn *c)
{
    if (!in_scope(&r->scope, c)) {
        return false;
    }
    if (!tcpst_rule_on_findings(r)) {
        return conn_breaks(r, c);
    }
    for (unsigned k = 0; k < c->findings.n; k++) {
        if (tcpst_rule_matches(r, c->findings.f[k].type)) {
            return true;
        }
    }
    return false;
}

uint64_t tcpst_policy_match(const tcpst_policy *p, const tcpst_conn *c)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < p->n && i < 64; i++) {
        mask |= rule_hit(&p->rules[i], c) ? UINT64_C(1) << i : 0;
    }
    return mask;
}

static void check_record(void *ctx, const tcpst_conn *c)
{
    (void)tcpst_policy_check(ctx, c);
}

tcpst_receiver tcpst_policy_receiver(tcpst_policy *p)
{
    tcpst_receiver r = {.record = check_record, .anomaly = NULL, .ctx = p};
    return r;
}

uint64_t tcpst_policy_check(tcpst_policy *p, const tcpst_conn *c)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < p->n; i++) {
        tcpst_rule *r = &p->rules[i];
        if (!in_scope(&r->scope, c)) {
            continue;
        }
        if (!tcpst_rule_on_findings(r)) {
            if (conn_breaks(r, c)) {
                r->matches++;
                mask |= i < 64 ? UINT64_C(1) << i : 0;
                tcpst_offender *o = offender(r, c);
                if (o) {
                    o->matches = 1;
                    o->frames[o->nframes++] =
                        r->kind == TCPST_RULE_HANDSHAKE ? c->first_frame : c->last_frame;
                }
            }
            continue;
        }
        tcpst_offender *o = NULL;
        bool seen = false;
        for (unsigned k = 0; k < c->findings.n; k++) {
            const tcpst_finding *f = &c->findings.f[k];
            if (!tcpst_rule_matches(r, f->type)) {
                continue;
            }
            r->matches++;
            if (!seen) {
                seen = true;
                mask |= i < 64 ? UINT64_C(1) << i : 0;
                o = offender(r, c);
            }
            if (!o) {
                continue;
            }
            if (!o->has_finding) {
                o->has_finding = true;
                o->type = f->type;
                o->who = f->who;
                o->fact[0] = f->fact[0];
                o->fact[1] = f->fact[1];
                o->fact[2] = f->fact[2];
                unsigned side = f->who == TCPST_WHO_CLIENT ? 0 : 1;
                o->state = c->ep[side].state;
                o->pid = c->host[side].pid;
            }
            o->matches++;
            for (unsigned e = 0; e < f->nevidence && o->nframes < TCPST_VERDICT_FRAMES; e++) {
                o->frames[o->nframes++] = f->evidence[e];
            }
        }
    }
    return mask;
}

bool tcpst_rule_violated(const tcpst_rule *r)
{
    return r->matches >= r->min_count;
}

bool tcpst_policy_failed(const tcpst_policy *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (tcpst_rule_violated(&p->rules[i])) {
            return true;
        }
    }
    return false;
}
