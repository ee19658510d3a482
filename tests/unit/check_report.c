/*
 * check_report.c - record serialisation, id ordering, atomic commit, errors.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckrun.h"
#include "tcpstate/report.h"

#define SEC TCPST_NS_PER_SEC

static tcpst_segment mk(int c2s, uint16_t cport, uint16_t flags, uint32_t seq, uint32_t ack)
{
    tcpst_segment s;
    memset(&s, 0, sizeof s);
    tcpst_addr a = {.family = 6}, b = {.family = 6};
    inet_pton(AF_INET6, "2001:db8::1", a.bytes);
    inet_pton(AF_INET6, "2001:db8:0:0:0:0:0:2", b.bytes);
    s.src = c2s ? a : b;
    s.dst = c2s ? b : a;
    s.sport = c2s ? cport : 22;
    s.dport = c2s ? 22 : cport;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.ip_version = 6;
    s.ip_len = 60;
    return s;
}

/* A refused connection (SYN, RST-ACK) with id `id` at time t. */
static void refused(tcpst_conn *c, uint64_t id, tcpst_time t)
{
    tcpst_conn_config cfg = {.time_wait = 60 * SEC};
    tcpst_segment syn = mk(1, (uint16_t)(50000 + id), TCPST_SYN, 1000, 0);
    tcpst_segment rst = mk(0, (uint16_t)(50000 + id), TCPST_RST | TCPST_ACK, 0, 1001);
    tcpst_conn_init(c, id, &syn);
    tcpst_conn_update(c, 0, &syn, t, 2 * id - 1, &cfg);
    tcpst_conn_update(c, 1, &rst, t + 1500, 2 * id, &cfg);
    c->end_reason = TCPST_END_CLOSED;
    c->end_ts = t + 1500;
}

START_TEST(record_fields)
{
    tcpst_conn c;
    refused(&c, 7, 1700000000 * SEC + 123456789);
    char *text = tcpst_report_conn_text(&c);
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "id")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "ip_version")), 6);
    json_t *cl = json_object_get(o, "client"), *sv = json_object_get(o, "server");
    ck_assert_str_eq(json_string_value(json_object_get(cl, "addr")), "2001:db8::1");
    ck_assert_str_eq(json_string_value(json_object_get(sv, "addr")), "2001:db8::2");
    ck_assert_str_eq(json_string_value(json_object_get(cl, "state")), "CLOSED");
    ck_assert_str_eq(json_string_value(json_object_get(o, "conn_state")), "REJ");
    ck_assert_str_eq(json_string_value(json_object_get(o, "roles")), "observed");
    /* Microsecond-rounded epoch seconds. */
    ck_assert(strstr(text, "\"first_ts\":1700000000.123457") != NULL);
    json_t *tl = json_object_get(cl, "transitions");
    ck_assert_uint_eq(json_array_size(tl), 2);
    json_t *t1 = json_array_get(tl, 1);
    ck_assert_str_eq(json_string_value(json_object_get(t1, "to")), "CLOSED");
    ck_assert_str_eq(json_string_value(json_object_get(t1, "how")), "inferred");
    ck_assert_int_eq(json_integer_value(json_object_get(t1, "frame")), 14);
    json_t *segj = json_object_get(t1, "segment");
    ck_assert_str_eq(json_string_value(json_object_get(segj, "flags")), "R.");
    ck_assert_int_eq(json_integer_value(json_object_get(segj, "ack")), 1001);
    ck_assert(json_is_array(json_object_get(o, "anomalies")));
    ck_assert(!json_is_true(json_object_get(o, "open_at_end")));
    ck_assert_ptr_null(json_object_get(cl, "idle")); /* only for open connections */
    json_decref(o);
    free(text);
}
END_TEST

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

START_TEST(ordered_atomic_file)
{
    char dir[] = "/tmp/tcpst-report-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.json", dir);
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, path, NULL, NULL), 0);
    /* Connections end in the order 3, 1, 2: the file must list 1, 2, 3. */
    tcpst_conn c;
    refused(&c, 3, 30 * SEC);
    tcpst_report_conn(r, &c);
    ck_assert_int_eq(access(path, F_OK), -1); /* nothing under the final name yet */
    refused(&c, 1, 10 * SEC);
    tcpst_report_conn(r, &c);
    refused(&c, 2, 20 * SEC);
    tcpst_report_conn(r, &c);
    tcpst_engine_stats st;
    memset(&st, 0, sizeof st);
    st.connections = 3;
    tcpst_input_info in;
    memset(&in, 0, sizeof in);
    in.name = "a \"quoted\"\tname.pcap";
    in.linktype_name = "EN10MB";
    in.format = "pcap";
    tcpst_report_meta meta = {.inputs = &in, .n_inputs = 1, .time_wait = 60 * SEC};
    ck_assert_int_eq(tcpst_report_finish(r, &st, &meta, NULL), 0);
    ck_assert_int_eq(count_entries(dir), 1); /* no temporary file left */
    json_error_t je;
    json_t *rep = json_load_file(path, 0, &je);
    ck_assert_msg(rep != NULL, "invalid JSON: %s", je.text);
    json_t *conns = json_object_get(rep, "connections");
    ck_assert_uint_eq(json_array_size(conns), 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(conns, i), "id")),
                         (json_int_t)i + 1);
    }
    ck_assert_int_eq(json_integer_value(json_object_get(rep, "schema_version")), 1);
    json_t *in0 = json_array_get(json_object_get(rep, "inputs"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(in0, "name")), in.name);
    json_t *sum = json_object_get(rep, "summary");
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(sum, "final_states"), "CLOSED/CLOSED")),
        3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sum, "conn_state"), "REJ")),
                     3);
    json_decref(rep);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(only_anomalous_records)
{
    char dir[] = "/tmp/tcpst-report-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.json", dir);
    tcpst_report_opts opts = {.which = TCPST_CONNS_ANOMALOUS};
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, path, &opts, NULL), 0);
    /* Ends in the order 4, 2, 1, 3; only 2 and 4 carry a warning. Ids 1 and 3 are
     * skipped, yet must not stall the ordered output of the others. */
    uint64_t order[] = {4, 2, 1, 3};
    for (int i = 0; i < 4; i++) {
        tcpst_conn c;
        refused(&c, order[i], (tcpst_time)order[i] * SEC);
        memset(&c.findings, 0, sizeof c.findings);
        if (order[i] % 2 == 0) {
            tcpst_findings_add(&c.findings, TCPST_A_CONNECTION_RESET, TCPST_WHO_SERVER, 1, 7);
        } else {
            tcpst_findings_add(&c.findings, TCPST_A_KEEPALIVE, TCPST_WHO_CLIENT, 1, 7); /* info */
        }
        tcpst_report_conn(r, &c);
    }
    tcpst_engine_stats st;
    memset(&st, 0, sizeof st);
    tcpst_report_meta meta = {.n_inputs = 0};
    ck_assert_int_eq(tcpst_report_finish(r, &st, &meta, NULL), 0);
    json_error_t je;
    json_t *rep = json_load_file(path, 0, &je);
    ck_assert_ptr_nonnull(rep);
    json_t *conns = json_object_get(rep, "connections");
    ck_assert_uint_eq(json_array_size(conns), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(conns, 0), "id")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(conns, 1), "id")), 4);
    /* The summary still counts all four. */
    json_t *fs = json_object_get(json_object_get(rep, "summary"), "final_states");
    ck_assert_int_eq(json_integer_value(json_object_get(fs, "CLOSED/CLOSED")), 4);
    json_decref(rep);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(discard_leaves_nothing)
{
    char dir[] = "/tmp/tcpst-report-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.json", dir);
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, path, NULL, NULL), 0);
    tcpst_conn c;
    refused(&c, 1, SEC);
    tcpst_report_conn(r, &c);
    ck_assert_int_eq(count_entries(dir), 1); /* the temporary file */
    tcpst_report_discard(r);
    ck_assert_int_eq(count_entries(dir), 0);
    rmdir(dir);
}
END_TEST

START_TEST(open_errors)
{
    tcpst_report *r = (tcpst_report *)1;
    tcpst_error err;
    ck_assert_int_eq(tcpst_report_open(&r, "/nonexistent-dir/x/out.json", NULL, &err),
                     TCPST_EWRITE);
    ck_assert_ptr_null(r);
    ck_assert(strstr(err.msg, "/nonexistent-dir/x/out.json") != NULL);
}
END_TEST

START_TEST(write_error_is_reported)
{
    if (access("/dev/full", W_OK) != 0) {
        return; /* not on this system */
    }
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, "/dev/full", NULL, NULL), 0);
    tcpst_conn c;
    refused(&c, 1, SEC);
    tcpst_report_conn(r, &c);
    tcpst_engine_stats st;
    memset(&st, 0, sizeof st);
    tcpst_report_meta meta = {.n_inputs = 0};
    tcpst_error err;
    ck_assert_int_eq(tcpst_report_finish(r, &st, &meta, &err), TCPST_EWRITE);
    ck_assert(strstr(err.msg, "/dev/full") != NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    TCase *t = tcase_create("report");
    tcase_add_test(t, record_fields);
    tcase_add_test(t, ordered_atomic_file);
    tcase_add_test(t, discard_leaves_nothing);
    tcase_add_test(t, only_anomalous_records);
    tcase_add_test(t, open_errors);
    tcase_add_test(t, write_error_is_reported);
    suite_add_tcase(s, t);
    return ckrun(s);
}
