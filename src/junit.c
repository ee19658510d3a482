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

#include "tcpstate/anomaly.h"

void tcpst_junit_init(tcpst_junit *j)
{
    memset(j, 0, sizeof *j);
}

void tcpst_junit_fini(tcpst_junit *j)
{
    free(j->v);
    memset(j, 0, sizeof *j);
}

void tcpst_junit_add(tcpst_junit *j, const tcpst_conn *c)
{
    if (j->n == TCPST_JUNIT_MAX_CONNS) {
        j->not_listed++;
        return;
    }
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 64;
        tcpst_junit_conn *v = realloc(j->v, cap * sizeof *v);
        if (!v) {
            j->not_listed++;
            return;
        }
        j->v = v;
        j->cap = cap;
    }
    tcpst_junit_conn *o = &j->v[j->n++];
    memset(o, 0, sizeof *o);
    o->id = c->id;
    o->caddr = c->ep[0].addr;
    o->saddr = c->ep[1].addr;
    o->cport = c->ep[0].port;
    o->sport = c->ep[1].port;
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
    uint64_t x = ((const tcpst_junit_conn *)a)->id, y = ((const tcpst_junit_conn *)b)->id;
    return x < y ? -1 : x > y;
}

static void conn_name(const tcpst_junit_conn *c, char *out, size_t n)
{
    char a[TCPST_ADDR_STRLEN], b[TCPST_ADDR_STRLEN];
    tcpst_addr_format(&c->caddr, a);
    tcpst_addr_format(&c->saddr, b);
    snprintf(out, n, c->caddr.family == 6 ? "#%llu [%s]:%u -> [%s]:%u" : "#%llu %s:%u -> %s:%u",
             (unsigned long long)c->id, a, c->cport, b, c->sport);
}

static void write_suite(FILE *f, const tcpst_junit *j, const tcpst_rule *r)
{
    static const char *const who[] = {"client", "server", "both"};
    bool violated = tcpst_rule_violated(r);
    size_t fails = 0;
    for (size_t i = 0; violated && i < j->n; i++) {
        for (unsigned k = 0; k < j->v[i].nf; k++) {
            if (tcpst_rule_matches(r, j->v[i].f[k].type)) {
                fails++;
                break;
            }
        }
    }
    char rule[256];
    tcpst_xml_escape(r->text, rule, sizeof rule);
    fprintf(f, "  <testsuite name=\"--fail-on %s\" tests=\"%zu\" failures=\"%zu\">\n", rule,
            j->n + (j->not_listed ? 1 : 0), fails);
    for (size_t i = 0; i < j->n; i++) {
        const tcpst_junit_conn *c = &j->v[i];
        char name[160], esc[256];
        conn_name(c, name, sizeof name);
        tcpst_xml_escape(name, esc, sizeof esc);
        fprintf(f, "    <testcase classname=\"tcpstate.%s\" name=\"%s\"", rule, esc);
        bool failed = false;
        for (unsigned k = 0; violated && k < c->nf; k++) {
            const tcpst_junit_finding *x = &c->f[k];
            if (!tcpst_rule_matches(r, x->type)) {
                continue;
            }
            const char *id = tcpst_anomaly_id((tcpst_anomaly_type)x->type);
            if (!failed) {
                fprintf(f, ">\n      <failure type=\"%s\" message=\"%s on the %s\">", id, id,
                        who[x->who < 3 ? x->who : 2]);
                failed = true;
            } else {
                fputs("\n", f);
            }
            fprintf(f, "%s (%s):", id, who[x->who < 3 ? x->who : 2]);
            for (unsigned e = 0; e < x->nframes; e++) {
                fprintf(f, "%s frame %llu", e ? "," : "", (unsigned long long)x->frames[e]);
            }
        }
        fputs(failed ? "</failure>\n    </testcase>\n" : "/>\n", f);
    }
    if (j->not_listed) {
        fprintf(f,
                "    <testcase classname=\"tcpstate.%s\" name=\"%llu further connections "
                "(not listed)\"/>\n",
                rule, (unsigned long long)j->not_listed);
    }
    fputs("  </testsuite>\n", f);
}

int tcpst_junit_write(tcpst_junit *j, const tcpst_policy *p, const char *path, tcpst_error *err)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return tcpst_error_set(err, TCPST_EWRITE, "%s: cannot create JUnit report: %s", path,
                               strerror(e));
    }
    qsort(j->v, j->n, sizeof *j->v, by_id);
    size_t tests = 0, failures = 0;
    for (size_t i = 0; i < p->n; i++) {
        tests += j->n + (j->not_listed ? 1 : 0);
        for (size_t c = 0; tcpst_rule_violated(&p->rules[i]) && c < j->n; c++) {
            for (unsigned k = 0; k < j->v[c].nf; k++) {
                if (tcpst_rule_matches(&p->rules[i], j->v[c].f[k].type)) {
                    failures++;
                    break;
                }
            }
        }
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"tcpstate\" tests=\"%zu\" failures=\"%zu\">\n", tests, failures);
    for (size_t i = 0; i < p->n; i++) {
        write_suite(f, j, &p->rules[i]);
    }
    fputs("</testsuites>\n", f);
    int e = 0;
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        e = errno ? errno : EIO;
    }
    if (fclose(f) != 0 && !e) {
        e = errno ? errno : EIO;
    }
    if (!e && rename(tmp, path) != 0) {
        e = errno;
    }
    if (e) {
        unlink(tmp);
    }
    free(tmp);
    return e ? tcpst_error_set(err, TCPST_EWRITE, "%s: cannot write JUnit report: %s", path,
                               strerror(e))
             : 0;
}
