/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * catalogue.c - the anomaly catalogue for people and programs: tcpstate --list-anomalies
 * (a line per type, or --format json) and --explain ID (one type in full).  The texts are
 * explain.c's; the severities and facts the catalogue's (anomaly.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "tcpstate/anomaly.h"
#include "tcpstate/report.h"

static void facts_of(tcpst_anomaly_type t, char *out, size_t n)
{
    const tcpst_factdesc *d = tcpst_anomaly_facts(t);
    size_t len = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < TCPST_FACTS && len < n; i++) {
        if (d[i].name) {
            int k = snprintf(out + len, n - len, "%s%s", len ? ", " : "", d[i].name);
            len += k > 0 ? (size_t)k : 0;
        }
    }
}

/* `text` after `label`, word-wrapped at 78 columns with continuation lines indented. */
static void wrapped(FILE *out, const char *label, const char *text)
{
    const unsigned width = 78, indent = 11;
    fprintf(out, "%-*s", (int)indent, label);
    unsigned col = indent;
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (col > indent && col + 1 + w > width) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, w, out);
        col += (unsigned)w;
        p += w;
        while (*p == ' ') {
            p++;
        }
    }
    fputc('\n', out);
}

int tcpst_report_catalogue(FILE *out, bool json, tcpst_error *err)
{
    if (json) {
        json_t *a = json_array();
        for (unsigned i = 0; i < TCPST_A__COUNT; i++) {
            tcpst_anomaly_type t = (tcpst_anomaly_type)i;
            json_t *facts = json_array();
            const tcpst_factdesc *d = tcpst_anomaly_facts(t);
            for (unsigned f = 0; f < TCPST_FACTS; f++) {
                if (d[f].name) {
                    json_array_append_new(facts, json_string(d[f].name));
                }
            }
            const tcpst_anomaly_text *x = tcpst_anomaly_explain(t);
            json_array_append_new(
                a, json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:o}", "id", tcpst_anomaly_id(t), "severity",
                             tcpst_severity_name(tcpst_anomaly_severity(t)), "duration",
                             tcpst_anomaly_has_duration(t), "summary", x->summary, "evidence",
                             x->evidence, "causes", x->causes, "facts", facts));
        }
        int rc = json_dumpf(a, out, JSON_INDENT(2)) == 0 && fputc('\n', out) != EOF ? 0 : -1;
        json_decref(a);
        if (rc != 0 || fflush(out) != 0) {
            return tcpst_error_set(err, TCPST_EWRITE, "cannot write the anomaly catalogue");
        }
        return 0;
    }
    fprintf(out, "%-25s %-8s %s\n", "ID", "SEVERITY", "MEANING");
    for (unsigned i = 0; i < TCPST_A__COUNT; i++) {
        tcpst_anomaly_type t = (tcpst_anomaly_type)i;
        fprintf(out, "%-25s %-8s %s\n", tcpst_anomaly_id(t),
                tcpst_severity_name(tcpst_anomaly_severity(t)), tcpst_anomaly_explain(t)->summary);
    }
    if (fflush(out) != 0) {
        return tcpst_error_set(err, TCPST_EWRITE, "cannot write the anomaly catalogue");
    }
    return 0;
}

int tcpst_report_explain(FILE *out, const char *id, tcpst_error *err)
{
    int type = tcpst_anomaly_parse(id);
    if (type < 0) {
        const char *near = tcpst_anomaly_suggest(id);
        return near ? tcpst_error_set(err, TCPST_EUSAGE,
                                      "--explain: unknown anomaly id '%s'; did you mean '%s'?", id,
                                      near)
                    : tcpst_error_set(err, TCPST_EUSAGE,
                                      "--explain: unknown anomaly id '%s' "
                                      "(tcpstate --list-anomalies)",
                                      id);
    }
    tcpst_anomaly_type t = (tcpst_anomaly_type)type;
    char facts[512];
    facts_of(t, facts, sizeof facts);
    fprintf(out, "%s (%s, %s)\n\n", tcpst_anomaly_id(t),
            tcpst_severity_name(tcpst_anomaly_severity(t)),
            tcpst_anomaly_has_duration(t) ? "a state that lasted" : "an event");
    const tcpst_anomaly_text *x = tcpst_anomaly_explain(t);
    wrapped(out, "meaning", x->summary);
    wrapped(out, "evidence", x->evidence);
    wrapped(out, "causes", x->causes);
    wrapped(out, "facts", facts[0] ? facts : "none besides the common fields");
    fprintf(out, "\nThe full definition: docs/anomalies.md (/usr/share/doc/tcpstate/anomalies.md)"
                 ".\n");
    if (fflush(out) != 0) {
        return tcpst_error_set(err, TCPST_EWRITE, "cannot write the explanation");
    }
    return 0;
}
