/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_anomaly.c - the catalogue (one row per anomaly type, anomaly.h) against what users
 * read: docs/anomalies.md, the report schema and the README; and the findings storage:
 * aggregation, evidence, pools.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckrun.h"
#include "tcpstate/anomaly.h"
#include "testrec.h"

#ifndef TCPSTATE_SOURCE_DIR
#define TCPSTATE_SOURCE_DIR "."
#endif

static char *slurp(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", TCPSTATE_SOURCE_DIR, rel);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* The docs' table row of type t ("| `id` | severity | ..."), as a malloc'd line; NULL if
 * there is none. */
static char *doc_row(const char *doc, tcpst_anomaly_type t)
{
    char head[96];
    snprintf(head, sizeof head, "\n| `%s` | ", tcpst_anomaly_id(t));
    const char *p = strstr(doc, head);
    if (!p) {
        return NULL;
    }
    p++;
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char *row = malloc(n + 1);
    memcpy(row, p, n);
    row[n] = '\0';
    return row;
}

static bool mentions(const char *text, const char *name)
{
    char quoted[96];
    snprintf(quoted, sizeof quoted, "`%s`", name);
    return strstr(text, quoted) != NULL;
}

START_TEST(docs_row_per_type)
{
    char *doc = slurp("docs/anomalies.md");
    for (int i = 0; i < TCPST_A__COUNT; i++) {
        tcpst_anomaly_type t = (tcpst_anomaly_type)i;
        char *row = doc_row(doc, t);
        ck_assert_msg(row != NULL, "docs/anomalies.md: no table row for %s", tcpst_anomaly_id(t));
        char sev[32];
        snprintf(sev, sizeof sev, "| %s |", tcpst_severity_name(tcpst_anomaly_severity(t)));
        ck_assert_msg(strstr(row, sev) != NULL, "docs/anomalies.md: %s is not %s there",
                      tcpst_anomaly_id(t), tcpst_severity_name(tcpst_anomaly_severity(t)));
        const tcpst_factdesc *d = tcpst_anomaly_facts(t);
        for (unsigned k = 0; k < TCPST_FACTS; k++) {
            if (d[k].name) {
                ck_assert_msg(mentions(row, d[k].name), "docs/anomalies.md: %s: no fact `%s`",
                              tcpst_anomaly_id(t), d[k].name);
            }
        }
        for (unsigned code = 1; code <= tcpst_anomaly_reason_count(t); code++) {
            const char *reason = tcpst_anomaly_reason(t, code);
            ck_assert_msg(mentions(row, reason), "docs/anomalies.md: %s: no reason `%s`",
                          tcpst_anomaly_id(t), reason);
        }
        free(row);
    }
    free(doc);
}
END_TEST

/* Every documented type row names a type of the catalogue (no stale rows). */
START_TEST(docs_no_unknown_types)
{
    char *doc = slurp("docs/anomalies.md");
    int rows = 0;
    for (const char *p = strstr(doc, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
        char id[64];
        char sev[16];
        if (sscanf(p, "\n| `%63[a-z0-9_]` | %15[a-z] |", id, sev) != 2) {
            continue;
        }
        if (strcmp(sev, "info") && strcmp(sev, "warning") && strcmp(sev, "error")) {
            continue; /* another table: fields, not types */
        }
        rows++;
        ck_assert_msg(tcpst_anomaly_parse(id) >= 0,
                      "docs/anomalies.md documents `%s`, which "
                      "is not in the catalogue",
                      id);
    }
    ck_assert_int_eq(rows, TCPST_A__COUNT);
    free(doc);
}
END_TEST

/* The schema's anomaly_type enum is the catalogue, in its order. */
START_TEST(schema_enum_is_catalogue)
{
    const char *schemas[] = {"docs/report.schema.json", "docs/ndjson.schema.json"};
    for (size_t s = 0; s < 2; s++) {
        char *text = slurp(schemas[s]);
        json_error_t je;
        json_t *doc = json_loads(text, 0, &je);
        ck_assert_msg(doc != NULL, "%s: %s", schemas[s], je.text);
        json_t *defs = json_object_get(doc, "$defs");
        json_t *en = json_object_get(json_object_get(defs, "anomaly_type"), "enum");
        if (!en) {
            /* The stream schema may take the type from the report schema. */
            json_decref(doc);
            free(text);
            ck_assert_msg(s == 1, "%s: no $defs.anomaly_type.enum", schemas[s]);
            continue;
        }
        ck_assert_uint_eq(json_array_size(en), TCPST_A__COUNT);
        for (int i = 0; i < TCPST_A__COUNT; i++) {
            ck_assert_str_eq(json_string_value(json_array_get(en, (size_t)i)),
                             tcpst_anomaly_id((tcpst_anomaly_type)i));
        }
        json_decref(doc);
        free(text);
    }
}
END_TEST

START_TEST(readme_count)
{
    char *readme = slurp("README.md");
    char want[64];
    snprintf(want, sizeof want, "catalogue of %d stable ids", TCPST_A__COUNT);
    ck_assert_msg(strstr(readme, want) != NULL, "README.md does not say \"%s\"", want);
    free(readme);
}
END_TEST

START_TEST(rows_are_consistent)
{
    for (int i = 0; i < TCPST_A__COUNT; i++) {
        tcpst_anomaly_type t = (tcpst_anomaly_type)i;
        ck_assert_int_eq(tcpst_anomaly_parse(tcpst_anomaly_id(t)), i);
        const tcpst_factdesc *d = tcpst_anomaly_facts(t);
        bool has_reason = false;
        for (unsigned k = 0; k < TCPST_FACTS; k++) {
            has_reason |= d[k].name && d[k].kind == TCPST_FACT_REASON;
        }
        /* A REASON fact exactly when the row names reasons. */
        ck_assert_int_eq(has_reason, tcpst_anomaly_reason_count(t) > 0);
        ck_assert_str_eq(tcpst_anomaly_reason(t, 0), "unknown");
        ck_assert_str_eq(tcpst_anomaly_reason(t, 99), "unknown");
    }
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_HANDSHAKE_INVALID, TCPST_HSR_FINAL_ACK_WRONG),
                     "final_ack_wrong");
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_HALF_OPEN, TCPST_HOR_INTO_SILENCE),
                     "into_silence");
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_BAD_CHECKSUM, TCPST_CKR_IP), "ip");
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_HALF_OPEN, TCPST_HOR_ACK_TO_SYN), "ack_to_syn");
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_RST_NOT_ACCEPTED, TCPST_RNA_FIN_ALREADY_TAKEN),
                     "fin_already_taken");
    ck_assert(tcpst_anomaly_has_duration(TCPST_A_CLOSE_WAIT_STUCK));
    ck_assert(!tcpst_anomaly_has_duration(TCPST_A_RETRANSMISSION));
    ck_assert_int_eq(tcpst_anomaly_parse("no_such_thing"), -1);
}
END_TEST

/* --list-anomalies and --explain: an entry per type, in catalogue order, none empty; a
 * mistyped id gets the nearest. */
START_TEST(explanations)
{
    for (int i = 0; i < TCPST_A__COUNT; i++) {
        tcpst_anomaly_type t = (tcpst_anomaly_type)i;
        const tcpst_anomaly_text *x = tcpst_anomaly_explain(t);
        ck_assert_str_eq(x->id, tcpst_anomaly_id(t));
        ck_assert(strlen(x->summary) > 10);
        ck_assert(strlen(x->evidence) > 3);
        ck_assert(strlen(x->causes) > 10);
    }
    ck_assert_ptr_null(tcpst_anomaly_explain(TCPST_A__COUNT));
    ck_assert_str_eq(tcpst_anomaly_suggest("close_wiat_stuck"), "close_wait_stuck");
    ck_assert_str_eq(tcpst_anomaly_suggest("retransmision"), "retransmission");
    ck_assert_str_eq(tcpst_anomaly_suggest("zero_window_stal"), "zero_window_stall");
    ck_assert_ptr_null(tcpst_anomaly_suggest("fin_wait")); /* two fit as well */
    ck_assert_ptr_null(tcpst_anomaly_suggest("latency"));
}
END_TEST

START_TEST(remove_keeps_the_others_in_order)
{
    tcpst_findings fs;
    memset(&fs, 0, sizeof fs);
    fs.pool = test_pool();
    tcpst_findings_add(&fs, TCPST_A_CONNECTION_RESET, TCPST_WHO_SERVER, 1, 10);
    tcpst_findings_add(&fs, TCPST_A_DATA_AFTER_RESET, TCPST_WHO_CLIENT, 2, 11);
    tcpst_findings_add(&fs, TCPST_A_RETRANSMISSION, TCPST_WHO_CLIENT, 3, 12);
    ck_assert(tcpst_findings_remove(&fs, TCPST_A_DATA_AFTER_RESET, TCPST_WHO_CLIENT));
    ck_assert(!tcpst_findings_remove(&fs, TCPST_A_DATA_AFTER_RESET, TCPST_WHO_CLIENT));
    ck_assert(!tcpst_findings_remove(&fs, TCPST_A_CONNECTION_RESET, TCPST_WHO_CLIENT));
    ck_assert_uint_eq(fs.n, 2);
    ck_assert_int_eq(fs.f[0].type, TCPST_A_CONNECTION_RESET);
    ck_assert_int_eq(fs.f[1].type, TCPST_A_RETRANSMISSION);
    ck_assert_uint_eq(fs.f[1].first_frame, 12);
    /* Room again for a new one. */
    ck_assert_ptr_nonnull(tcpst_findings_add(&fs, TCPST_A_KEEPALIVE, TCPST_WHO_CLIENT, 4, 13));
    ck_assert_uint_eq(fs.n, 3);
    tcpst_findings_release(&fs);
}
END_TEST

START_TEST(evidence_once_each)
{
    tcpst_findings fs;
    memset(&fs, 0, sizeof fs);
    fs.pool = test_pool();
    tcpst_finding *f = tcpst_findings_add(&fs, TCPST_A_ZERO_WINDOW, TCPST_WHO_SERVER, 1, 10);
    tcpst_finding_add_evidence(&fs, f, 10); /* already there */
    tcpst_finding_add_evidence(&fs, f, 0);  /* no packet */
    tcpst_finding_add_evidence(&fs, f, 11);
    ck_assert_uint_eq(f->nevidence, 2);
    for (uint64_t fr = 12; fr < 12 + TCPST_EVIDENCE_MAX; fr++) {
        tcpst_finding_add_evidence(&fs, f, fr);
    }
    ck_assert_uint_eq(f->nevidence, TCPST_EVIDENCE_MAX);
    ck_assert_uint_eq(fs.evidence_dropped, 2);
    tcpst_findings_release(&fs);
}
END_TEST

/* A record with no pool keeps no finding, and says so; a pool's blocks are reused. */
START_TEST(pools)
{
    tcpst_findings none;
    memset(&none, 0, sizeof none);
    ck_assert_ptr_null(tcpst_findings_add(&none, TCPST_A_KEEPALIVE, TCPST_WHO_CLIENT, 1, 1));
    ck_assert_uint_eq(none.dropped, 1);
    ck_assert_uint_eq(none.n, 0);

    tcpst_finding_pool p;
    ck_assert_int_eq(tcpst_finding_pool_init(&p, 1), 0);
    tcpst_findings a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.pool = b.pool = &p;
    ck_assert_ptr_nonnull(tcpst_findings_add(&a, TCPST_A_KEEPALIVE, TCPST_WHO_CLIENT, 1, 1));
    ck_assert_ptr_null(tcpst_findings_add(&b, TCPST_A_KEEPALIVE, TCPST_WHO_CLIENT, 1, 1));
    ck_assert_uint_eq(b.dropped, 1);
    tcpst_findings_release(&a);
    ck_assert_ptr_nonnull(tcpst_findings_add(&b, TCPST_A_KEEPALIVE, TCPST_WHO_CLIENT, 1, 1));
    tcpst_findings_release(&b);
    tcpst_finding_pool_fini(&p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("anomaly");
    TCase *tc = tcase_create("catalogue");
    tcase_add_test(tc, docs_row_per_type);
    tcase_add_test(tc, docs_no_unknown_types);
    tcase_add_test(tc, schema_enum_is_catalogue);
    tcase_add_test(tc, readme_count);
    tcase_add_test(tc, rows_are_consistent);
    suite_add_tcase(s, tc);
    tc = tcase_create("findings");
    tcase_add_test(tc, evidence_once_each);
    tcase_add_test(tc, remove_keeps_the_others_in_order);
    tcase_add_test(tc, pools);
    tcase_add_test(tc, explanations);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(suite());
}
