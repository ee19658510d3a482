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
static int parse_item(tcpst_rule *r, char *item, tcpst_error *err)
{
    memset(r, 0, sizeof *r);
    snprintf(r->text, sizeof r->text, "%s", item);
    r->min_count = 1;
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
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "--fail-on: unknown anomaly type '%s' (see docs/anomalies.md)",
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
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 8;
            tcpst_rule *r = realloc(p->rules, cap * sizeof *r);
            if (!r) {
                return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
            }
            p->rules = r;
            p->cap = cap;
        }
        int rc = parse_item(&p->rules[p->n], item, err);
        if (rc) {
            return rc;
        }
        p->n++;
        n++;
    }
    if (n == 0) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--fail-on: no rule given");
    }
    return 0;
}

bool tcpst_rule_matches(const tcpst_rule *r, int type)
{
    if (r->kind == TCPST_RULE_TYPE) {
        return type == r->type;
    }
    return (int)tcpst_anomaly_severity((tcpst_anomaly_type)type) >= r->severity;
}

void tcpst_policy_check(tcpst_policy *p, const tcpst_conn *c)
{
    for (size_t i = 0; i < p->n; i++) {
        tcpst_rule *r = &p->rules[i];
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
                r->conns++;
                if (r->noff < TCPST_VERDICT_CONNS) {
                    o = &r->off[r->noff++];
                    memset(o, 0, sizeof *o);
                    o->id = c->id;
                    o->caddr = c->ep[0].addr;
                    o->saddr = c->ep[1].addr;
                    o->cport = c->ep[0].port;
                    o->sport = c->ep[1].port;
                }
            }
            if (!o) {
                continue; /* beyond the listed connections: counted only */
            }
            o->matches++;
            for (unsigned e = 0; e < f->nevidence && o->nframes < TCPST_VERDICT_FRAMES; e++) {
                o->frames[o->nframes++] = f->evidence[e];
            }
        }
    }
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
