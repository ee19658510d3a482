/*
 * textout.c - the verdict for people: its lines (at the end of the text report, and on
 * stderr whenever rules were given) and GitHub Actions annotations.
 */
#include "tcpstate/textout.h"

#include <stdlib.h>
#include <string.h>

#include "tcpstate/anomaly.h"

void tcpst_text_verdict(FILE *out, const char *prefix, const tcpst_policy *p, bool colour)
{
    bool failed = tcpst_policy_failed(p);
    size_t nviol = 0;
    for (size_t i = 0; i < p->n; i++) {
        nviol += tcpst_rule_violated(&p->rules[i]);
    }
    fprintf(out, "%sverdict: %s%s%s (%zu of %zu rules violated)\n", prefix,
            colour ? (failed ? "\033[1;31m" : "\033[1;32m") : "", failed ? "FAIL" : "PASS",
            colour ? "\033[0m" : "", nviol, p->n);
    for (size_t i = 0; i < p->n; i++) {
        const tcpst_rule *r = &p->rules[i];
        if (!tcpst_rule_violated(r)) {
            continue;
        }
        fprintf(out, "%s  %s: %llu match(es) in %llu connection(s), first:", prefix, r->text,
                (unsigned long long)r->matches, (unsigned long long)r->conns);
        for (unsigned k = 0; k < r->noff && k < 3; k++) {
            const tcpst_conn_ref *o = &r->off[k].ref;
            char c[TCPST_ADDRPORT_STRLEN], s[TCPST_ADDRPORT_STRLEN];
            tcpst_addrport_format(&o->caddr, o->cport, c);
            tcpst_addrport_format(&o->saddr, o->sport, s);
            fprintf(out, " #%llu %s->%s", (unsigned long long)o->id, c, s);
            if (r->off[k].nframes) {
                fprintf(out, " (frame %llu)", (unsigned long long)r->off[k].frames[0]);
            }
        }
        fputc('\n', out);
    }
}

/* Workflow-command data must not carry %, CR or LF unescaped. */
static void gha_escape(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 4 < n; s++) {
        if (*s == '%' || *s == '\r' || *s == '\n') {
            k += (size_t)snprintf(out + k, n - k, "%%%02X", (unsigned char)*s);
        } else {
            out[k++] = *s;
        }
    }
    out[k] = '\0';
}

void tcpst_text_annotations(FILE *out, const tcpst_policy *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const tcpst_rule *r = &p->rules[i];
        if (!tcpst_rule_violated(r)) {
            continue;
        }
        char rule[160];
        gha_escape(r->text, rule, sizeof rule);
        for (unsigned k = 0; k < r->noff; k++) {
            const tcpst_offender *o = &r->off[k];
            char c[TCPST_ADDRPORT_STRLEN], s[TCPST_ADDRPORT_STRLEN];
            tcpst_addrport_format(&o->ref.caddr, o->ref.cport, c);
            tcpst_addrport_format(&o->ref.saddr, o->ref.sport, s);
            fprintf(out, "::error title=tcpstate %s::connection #%llu %s -> %s violates %s", rule,
                    (unsigned long long)o->ref.id, c, s, rule);
            for (unsigned e = 0; e < o->nframes; e++) {
                fprintf(out, "%s%llu", e ? "," : " (frames ", (unsigned long long)o->frames[e]);
            }
            fputs(o->nframes ? ")\n" : "\n", out);
        }
    }
}
