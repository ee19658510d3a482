/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * textout.c - the verdict for people: its lines (at the end of the text report, and on
 * stderr whenever rules were given) and GitHub Actions annotations.
 */
#include "tcpstate/textout.h"

#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "tcpstate/anomaly.h"

/* What a finding says of its endpoint, in words: "stuck in CLOSE_WAIT for 3.2 s". */
static void finding_phrase(const tcpst_offender *o, char *buf, size_t n)
{
    tcpst_anomaly_type t = (tcpst_anomaly_type)o->type;
    double secs = (double)o->fact[0] / 1e9;
    switch (t) {
        case TCPST_A_CLOSE_WAIT_STUCK:
        case TCPST_A_FIN_WAIT_1_STUCK:
        case TCPST_A_FIN_WAIT_2_STUCK:
        case TCPST_A_LAST_ACK_STUCK:
        case TCPST_A_HANDSHAKE_INCOMPLETE: {
            static const tcpst_state held[] = {[TCPST_A_CLOSE_WAIT_STUCK] = TCPST_CLOSE_WAIT,
                                               [TCPST_A_FIN_WAIT_1_STUCK] = TCPST_FIN_WAIT_1,
                                               [TCPST_A_FIN_WAIT_2_STUCK] = TCPST_FIN_WAIT_2,
                                               [TCPST_A_LAST_ACK_STUCK] = TCPST_LAST_ACK,
                                               [TCPST_A_HANDSHAKE_INCOMPLETE] = TCPST_SYN_RECEIVED};
            snprintf(buf, n, "stuck in %s for %.1f s (%s)", tcpst_state_name(held[t]), secs,
                     tcpst_anomaly_id(t));
            return;
        }
        case TCPST_A_SYN_UNANSWERED:
            snprintf(buf, n, "SYN unanswered for %.1f s (%s)", (double)o->fact[2] / 1e9,
                     tcpst_anomaly_id(t));
            return;
        case TCPST_A_KERNEL_STATE_MISMATCH:
            snprintf(buf, n, "inferred %s, the kernel has %s (%s)",
                     tcpst_state_name((tcpst_state)o->fact[0]),
                     tcpst_state_name((tcpst_state)o->fact[1]), tcpst_anomaly_id(t));
            return;
        default:
            snprintf(buf, n, "%s in %s", tcpst_anomaly_id(t),
                     tcpst_state_name((tcpst_state)o->state));
            return;
    }
}

void tcpst_text_offender(const tcpst_offender *o, char *buf, size_t n)
{
    char ep[TCPST_ADDRPORT_STRLEN], proc[64] = "", what[96];
    unsigned side = o->who == TCPST_WHO_CLIENT ? 0 : 1;
    if (side == 0) {
        tcpst_addrport_format(&o->ref.caddr, o->ref.cport, ep);
    } else {
        tcpst_addrport_format(&o->ref.saddr, o->ref.sport, ep);
    }
    const tcpst_hostproc *hp = tcpst__host_proc(o->pid);
    if (hp) {
        snprintf(proc, sizeof proc, " (pid %u %s)", (unsigned)hp->pid, hp->command);
    } else if (o->pid) {
        snprintf(proc, sizeof proc, " (pid %u)", (unsigned)o->pid);
    }
    finding_phrase(o, what, sizeof what);
    snprintf(buf, n, "%s %s%s %s",
             o->who == TCPST_WHO_BOTH ? "connection"
             : side                   ? "server"
                                      : "client",
             ep, proc, what);
}

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
        for (unsigned k = 0; k < r->noff && k < 3; k++) {
            if (r->off[k].has_finding) {
                char line[256];
                tcpst_text_offender(&r->off[k], line, sizeof line);
                fprintf(out, "%s    #%llu %s\n", prefix, (unsigned long long)r->off[k].ref.id,
                        line);
            }
        }
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
