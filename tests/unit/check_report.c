/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_report.c - record serialisation, id ordering, atomic commit, errors,
 * and the NDJSON stream (line types, order of ending, flushing, filtering).
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ckrun.h"
#include "report/pack.h"
#include "tcpstate/report.h"
#include "testrec.h"

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
/* A fresh directory for one report file; removed (with the file, if any) afterwards. */
typedef struct scratch {
    char dir[32];
    char path[256];
} scratch;

static void scratch_open(scratch *sc, const char *name)
{
    snprintf(sc->dir, sizeof sc->dir, "/tmp/tcpst-report-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(sc->dir));
    snprintf(sc->path, sizeof sc->path, "%s/%s", sc->dir, name);
}

static void scratch_close(scratch *sc)
{
    unlink(sc->path);
    ck_assert_int_eq(rmdir(sc->dir), 0); /* nothing else was left behind */
}

static void refused(tcpst_conn *c, uint64_t id, tcpst_time t)
{
    tcpst_conn_config cfg = {.time_wait = 60 * SEC};
    tcpst_segment syn = mk(1, (uint16_t)(50000 + id), TCPST_SYN, 1000, 0);
    tcpst_segment rst = mk(0, (uint16_t)(50000 + id), TCPST_RST | TCPST_ACK, 0, 1001);
    test_conn_init(c, id, &syn);
    tcpst_engine_conn_segment(c, &syn, t, 2 * id - 1, &cfg);
    tcpst_engine_conn_segment(c, &rst, t + 1500, 2 * id, &cfg);
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
    scratch sc;
    scratch_open(&sc, "out.json");
    const char *path = sc.path;
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
    ck_assert_int_eq(count_entries(sc.dir), 1); /* no temporary file left */
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
    scratch_close(&sc);
}
END_TEST

START_TEST(only_anomalous_records)
{
    scratch sc;
    scratch_open(&sc, "out.json");
    const char *path = sc.path;
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
        c.findings.pool = test_pool();
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
    scratch_close(&sc);
}
END_TEST

#define SCRAMBLED_N   5000
#define SCRAMBLED_MAX ((size_t)16 << 20)
#define SPILL_BLOCK   ((size_t)1 << 20) /* report.c's write buffer for the spill file */

/* Writes ids 1..SCRAMBLED_N ending in a scrambled order with the given in-memory limit for records
 * waiting on lower ids; returns the report text (malloc'd). */
static char *scrambled_report(size_t pending_mem_max, const char *tmpdir)
{
    scratch sc;
    scratch_open(&sc, "out.json");
    const char *path = sc.path;
    setenv("TMPDIR", tmpdir, 1);
    tcpst_report_opts opts = {.format = "json", .pending_mem_max = pending_mem_max};
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, path, &opts, NULL), 0);
    enum { N = SCRAMBLED_N };
    tcpst_conn c;
    /* Ids 2..100 end in a scrambled order before 1 (a long-lived connection): all are held;
     * 1 releases them and the spill file starts over; then 102..N in reverse before 101.
     * Those are megabytes: spilled, they go through the file, not only its write buffer. */
    for (unsigned k = 0; k < 99; k++) {
        refused(&c, 2 + (k * 37) % 99, (tcpst_time)(k + 2) * SEC);
        tcpst_report_conn(r, &c);
        tcpst_findings_release(&c.findings);
    }
    refused(&c, 1, 1 * SEC);
    tcpst_report_conn(r, &c);
    tcpst_findings_release(&c.findings);
    for (unsigned id = N; id >= 102; id--) {
        refused(&c, id, (tcpst_time)id * SEC);
        tcpst_report_conn(r, &c);
        tcpst_findings_release(&c.findings);
    }
    refused(&c, 101, 101 * SEC);
    tcpst_report_conn(r, &c);
    tcpst_findings_release(&c.findings);
    tcpst_engine_stats st;
    memset(&st, 0, sizeof st);
    st.connections = N;
    tcpst_report_meta meta = {.time_wait = 60 * SEC};
    ck_assert_int_eq(tcpst_report_finish(r, &st, &meta, NULL), 0);
    unsetenv("TMPDIR");
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *text = calloc(1, SCRAMBLED_MAX);
    size_t n = fread(text, 1, SCRAMBLED_MAX - 1, f);
    ck_assert_uint_gt(n, (size_t)2 << 20);
    ck_assert_uint_lt(n, SCRAMBLED_MAX - 1);
    fclose(f);
    scratch_close(&sc);
    return text;
}

/* Records held behind a long-lived connection move to a temporary file past the limit:
 * the report is the same, memory stays bounded, and the file is never visible. */
START_TEST(pending_records_spill)
{
    char tmpdir[] = "/tmp/tcpst-spill-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char *in_memory = scrambled_report(0, tmpdir);
    /* The premise: held records (packed, pack.h) are megabytes, more than the spill
     * file's write buffer twice over, so most come back by reading the file. */
    tcpst_conn c0;
    refused(&c0, 1000, 1000 * SEC);
    c0.findings.f = NULL;
    static unsigned char packed[4096];
    size_t one = tcpst__pack(&c0, sizeof c0, packed);
    ck_assert_uint_gt((SCRAMBLED_N - 101) * one, 2 * SPILL_BLOCK);
    char *spilled = scrambled_report(1, tmpdir); /* every held record spills */
    char *some = scrambled_report(20000, tmpdir);
    ck_assert_str_eq(spilled, in_memory);
    ck_assert_str_eq(some, in_memory);
    ck_assert_int_eq(count_entries(tmpdir), 0); /* unlinked as soon as created */
    json_t *rep = json_loads(spilled, 0, NULL);
    ck_assert_ptr_nonnull(rep);
    json_t *conns = json_object_get(rep, "connections");
    ck_assert_uint_eq(json_array_size(conns), SCRAMBLED_N);
    for (size_t i = 0; i < SCRAMBLED_N; i++) {
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(conns, i), "id")),
                         (json_int_t)i + 1);
    }
    json_decref(rep);
    free(in_memory);
    free(spilled);
    free(some);

    /* A temporary directory that cannot be used: the report fails, it does not lie. */
    char path[256];
    snprintf(path, sizeof path, "%s/out.json", tmpdir);
    setenv("TMPDIR", "/nonexistent-tcpstate-dir", 1);
    tcpst_report_opts opts = {.format = "json", .pending_mem_max = 1};
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, path, &opts, NULL), 0);
    tcpst_conn c;
    refused(&c, 2, 2 * SEC);
    tcpst_report_conn(r, &c);
    refused(&c, 1, 1 * SEC);
    tcpst_report_conn(r, &c);
    unsetenv("TMPDIR");
    tcpst_engine_stats st;
    memset(&st, 0, sizeof st);
    st.connections = 2;
    tcpst_report_meta meta = {.time_wait = 60 * SEC};
    tcpst_error err = {0, ""};
    ck_assert_int_ne(tcpst_report_finish(r, &st, &meta, &err), 0);
    ck_assert_int_eq(access(path, F_OK), -1);
    rmdir(tmpdir);
}
END_TEST

/* The spill file fills up half-way through a run (here a file size limit; in life a full
 * $TMPDIR): the report fails with an error naming the spill file, and the records that
 * arrive after the failure are not spilled again from memory already let go (that read
 * through a NULL pointer: SIGSEGV, the report lost). */
START_TEST(spill_fails_half_way)
{
    char tmpdir[] = "/tmp/tcpst-full-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.json", tmpdir);
    setenv("TMPDIR", tmpdir, 1);
    tcpst_report_opts opts = {.format = "json", .pending_mem_max = (size_t)1 << 20};
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, path, &opts, NULL), 0);
    struct rlimit old, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = (rlim_t)3 << 19; /* 1.5 MiB: the second run fails inside */
    void (*old_xfsz)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    tcpst_conn c;
    for (unsigned id = 2; id <= 4 * SCRAMBLED_N; id++) { /* all wait for id 1: it never comes */
        refused(&c, id, (tcpst_time)id * SEC);
        tcpst_report_conn(r, &c);
        tcpst_findings_release(&c.findings);
    }
    tcpst_engine_stats st;
    memset(&st, 0, sizeof st);
    st.connections = 4 * SCRAMBLED_N;
    tcpst_report_meta meta = {.time_wait = 60 * SEC};
    tcpst_error err = {0, ""};
    int rc = tcpst_report_finish(r, &st, &meta, &err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_xfsz);
    unsetenv("TMPDIR");
    ck_assert_int_eq(rc, TCPST_EWRITE);
    char want[512];
    snprintf(want, sizeof want,
             "%s/tcpstate-pending-XXXXXX: cannot hold back the records "
             "waiting for the report: %s (set TMPDIR to a directory with room)",
             tmpdir, strerror(EFBIG));
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(count_entries(tmpdir), 0); /* no temporary report left either */
    rmdir(tmpdir);
}
END_TEST

START_TEST(discard_leaves_nothing)
{
    scratch sc;
    scratch_open(&sc, "out.json");
    const char *path = sc.path;
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, path, NULL, NULL), 0);
    tcpst_conn c;
    refused(&c, 1, SEC);
    tcpst_report_conn(r, &c);
    ck_assert_int_eq(count_entries(sc.dir), 1); /* the temporary file */
    tcpst_report_discard(r);
    ck_assert_int_eq(count_entries(sc.dir), 0);
    scratch_close(&sc);
}
END_TEST

/* Lines of a file as it is now, each checked to be one JSON object. */
typedef struct lines {
    size_t n;
    char *text[64];
    json_t *obj[64];
} lines;

static void lines_read(lines *ls, const char *path)
{
    memset(ls, 0, sizeof *ls);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&buf, &cap, f)) > 0 && ls->n < 64) {
        ck_assert_msg(buf[len - 1] == '\n', "line %zu not newline-terminated", ls->n + 1);
        buf[len - 1] = '\0';
        ck_assert_ptr_null(strchr(buf, '\n'));
        json_error_t je;
        json_t *o = json_loads(buf, 0, &je);
        ck_assert_msg(o && json_is_object(o), "line %zu is not a JSON object: %s", ls->n + 1,
                      je.text);
        /* "type" is the first key, so a reader can dispatch on a prefix. */
        ck_assert_msg(strncmp(buf, "{\"type\":\"", 9) == 0, "line %zu: %s", ls->n + 1, buf);
        ls->text[ls->n] = strdup(buf);
        ls->obj[ls->n++] = o;
    }
    free(buf);
    fclose(f);
}

static void lines_free(lines *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        free(ls->text[i]);
        json_decref(ls->obj[i]);
    }
    ls->n = 0;
}

static const char *line_type(const lines *ls, size_t i)
{
    return json_string_value(json_object_get(ls->obj[i], "type"));
}

static json_int_t geti(json_t *o, const char *key)
{
    ck_assert_msg(json_is_integer(json_object_get(o, key)), "%s: not an integer", key);
    return json_integer_value(json_object_get(o, key));
}

START_TEST(ndjson_stream)
{
    scratch sc;
    scratch_open(&sc, "out.ndjson");
    const char *path = sc.path;
    tcpst_report_opts opts = {.format = "ndjson", .pretty = true};
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, path, &opts, NULL), 0);
    lines ls;

    /* Connection 3 ends first: written at once, not held back for 1 and 2. */
    tcpst_conn c3;
    refused(&c3, 3, 30 * SEC);
    tcpst_report_conn(r, &c3);
    lines_read(&ls, path); /* before finish: the line is already in the file */
    ck_assert_uint_eq(ls.n, 1);
    char *rec = tcpst_report_conn_text(&c3);
    char want[8192];
    /* Exactly the document's record (compact even with pretty), "type" put first. */
    snprintf(want, sizeof want, "{\"type\":\"connection\",%s", rec + 1);
    ck_assert_str_eq(ls.text[0], want);
    free(rec);
    lines_free(&ls);
    ck_assert_int_eq(count_entries(sc.dir), 1); /* written in place: no temporary file */

    /* An anomaly of a connection still open, at clock time 41 s. */
    tcpst_conn c1;
    refused(&c1, 1, 10 * SEC);
    memset(&c1.findings, 0, sizeof c1.findings);
    c1.findings.pool = test_pool();
    tcpst_finding *f =
        tcpst_findings_add(&c1.findings, TCPST_A_CONNECTION_RESET, TCPST_WHO_SERVER, 11 * SEC, 2);
    tcpst_report_anomaly(r, &c1, f, 41 * SEC + 250000);
    tcpst_report_anomaly(r, &c1, f, 42 * SEC);

    tcpst_engine_stats st;
    memset(&st, 0, sizeof st);
    st.packets = 9;
    st.tcp = 7;
    st.non_tcp = 1;
    st.decode[TCPST_DEC_TRUNC_TCP] = 1;
    st.connections = 3;
    tcpst_engine_open open;
    memset(&open, 0, sizeof open);
    open.total = 2;
    open.client[TCPST_ESTABLISHED] = 1;
    open.client[TCPST_SYN_SENT] = 1;
    open.server[TCPST_ESTABLISHED] = 2;
    tcpst_capture_counters cc = {.valid = true, .received = 12, .dropped = 3, .if_dropped = 1};
    tcpst_report_stats(r, 43 * SEC, &st, &open, &cc);
    cc.valid = false;
    tcpst_report_stats(r, 44 * SEC, &st, NULL, &cc);

    lines_read(&ls, path);
    ck_assert_uint_eq(ls.n, 5);
    ck_assert_str_eq(line_type(&ls, 1), "anomaly");
    json_t *an = ls.obj[1];
    ck_assert(strstr(ls.text[1], "\"ts\":41.00025,") != NULL);
    ck_assert_int_eq(geti(an, "connection"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(an, "client"), "addr")),
                     "2001:db8::1");
    ck_assert_int_eq(geti(json_object_get(an, "client"), "port"), 50001);
    ck_assert_int_eq(geti(json_object_get(an, "server"), "port"), 22);
    json_t *fj = json_object_get(an, "anomaly");
    ck_assert_str_eq(json_string_value(json_object_get(fj, "type")), "connection_reset");
    ck_assert_str_eq(json_string_value(json_object_get(fj, "endpoint")), "server");
    ck_assert_str_eq(json_string_value(json_object_get(fj, "severity")), "warning");
    ck_assert_int_eq(geti(fj, "first_frame"), 2);
    ck_assert_ptr_null(json_object_get(an, "encap"));

    ck_assert_str_eq(line_type(&ls, 3), "stats");
    json_t *sj = ls.obj[3];
    ck_assert(strstr(ls.text[3], "\"ts\":43.0,") != NULL);
    ck_assert_int_eq(geti(sj, "analyzed"), 9);
    ck_assert_int_eq(geti(sj, "tcp_segments"), 7);
    ck_assert_int_eq(geti(sj, "decode_problems"), 1);
    ck_assert_int_eq(geti(sj, "connections"), 3);
    ck_assert_int_eq(geti(sj, "connections_written"), 1);
    json_t *oj = json_object_get(sj, "open");
    ck_assert_int_eq(geti(oj, "total"), 2);
    ck_assert_uint_eq(json_object_size(json_object_get(oj, "client")), 2); /* non-zero only */
    ck_assert_int_eq(geti(json_object_get(oj, "client"), "SYN_SENT"), 1);
    ck_assert_uint_eq(json_object_size(json_object_get(oj, "server")), 1);
    ck_assert_int_eq(geti(json_object_get(oj, "server"), "ESTABLISHED"), 2);
    ck_assert_int_eq(geti(json_object_get(sj, "anomalies"), "connection_reset"), 2);
    ck_assert_int_eq(geti(json_object_get(sj, "capture"), "dropped"), 3);
    ck_assert_int_eq(geti(json_object_get(sj, "capture"), "if_dropped"), 1);
    /* Offline counters (valid = false) and no open counts: both left out. */
    ck_assert_ptr_null(json_object_get(ls.obj[4], "capture"));
    ck_assert_ptr_null(json_object_get(ls.obj[4], "open"));
    lines_free(&ls);

    tcpst_report_conn(r, &c1);
    tcpst_conn c2;
    refused(&c2, 2, 20 * SEC);
    tcpst_report_conn(r, &c2);
    tcpst_input_info in;
    memset(&in, 0, sizeof in);
    in.name = "x.pcap";
    in.linktype_name = "EN10MB";
    in.format = "pcap";
    st.announced = 2;
    tcpst_report_meta meta = {.inputs = &in, .n_inputs = 1, .time_wait = 60 * SEC, .stop = "count"};
    ck_assert_int_eq(tcpst_report_finish(r, &st, &meta, NULL), 0);
    ck_assert_int_eq(count_entries(sc.dir), 1);

    lines_read(&ls, path);
    ck_assert_uint_eq(ls.n, 8);
    /* Records in the order they ended. */
    ck_assert_int_eq(geti(ls.obj[0], "id"), 3);
    ck_assert_int_eq(geti(ls.obj[5], "id"), 1);
    ck_assert_int_eq(geti(ls.obj[6], "id"), 2);
    /* The summary line is the document without its records, and comes last. */
    ck_assert_str_eq(line_type(&ls, 7), "summary");
    json_t *sum = ls.obj[7];
    ck_assert_ptr_null(json_object_get(sum, "connections"));
    ck_assert_int_eq(geti(sum, "schema_version"), TCPST_SCHEMA_VERSION);
    ck_assert(json_is_string(json_object_get(sum, "tcpstate_version")));
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(sum, "inputs"), 0), "name")),
                     "x.pcap");
    json_t *sst = json_object_get(sum, "stats");
    ck_assert_int_eq(geti(sst, "connections_written"), 3);
    ck_assert_int_eq(geti(sst, "anomalies_announced"), 2);
    ck_assert_str_eq(json_string_value(json_object_get(sst, "stop")), "count");
    ck_assert_int_eq(
        geti(json_object_get(json_object_get(sum, "summary"), "final_states"), "CLOSED/CLOSED"), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(sum, "verdict"), "result")),
                     "pass");
    lines_free(&ls);
    scratch_close(&sc);
}
END_TEST

/* --connections: unselected records are not written, yet still counted and checked. */
START_TEST(ndjson_which)
{
    scratch sc;
    scratch_open(&sc, "out.ndjson");
    const char *path = sc.path;
    for (int which = TCPST_CONNS_ANOMALOUS; which <= TCPST_CONNS_NONE; which++) {
        tcpst_policy pol;
        tcpst_policy_init(&pol);
        ck_assert_int_eq(tcpst_policy_add_fail_on(&pol, "keepalive", NULL), 0);
        tcpst_report_opts opts = {.format = "ndjson", .which = (tcpst_conns)which, .policy = &pol};
        tcpst_report *r;
        ck_assert_int_eq(tcpst_report_open(&r, path, &opts, NULL), 0);
        for (uint64_t id = 1; id <= 4; id++) {
            tcpst_conn c;
            refused(&c, id, (tcpst_time)id * SEC);
            memset(&c.findings, 0, sizeof c.findings);
            c.findings.pool = test_pool();
            tcpst_findings_add(&c.findings,
                               id % 2 ? TCPST_A_KEEPALIVE /* info */ : TCPST_A_CONNECTION_RESET,
                               TCPST_WHO_SERVER, 1, 7);
            (void)tcpst_policy_check(&pol, &c); /* the policy receiver, beside the report */
            tcpst_report_conn(r, &c);
        }
        tcpst_engine_stats st;
        memset(&st, 0, sizeof st);
        tcpst_report_meta meta = {.n_inputs = 0};
        ck_assert_int_eq(tcpst_report_finish(r, &st, &meta, NULL), 0);
        lines ls;
        lines_read(&ls, path);
        size_t nconn = which == TCPST_CONNS_ANOMALOUS ? 2 : 0;
        ck_assert_uint_eq(ls.n, nconn + 1);
        for (size_t i = 0; i < nconn; i++) {
            ck_assert_str_eq(line_type(&ls, i), "connection");
            ck_assert_int_eq(geti(ls.obj[i], "id"), (json_int_t)(2 * i + 2));
        }
        json_t *sum = ls.obj[nconn];
        ck_assert_str_eq(line_type(&ls, nconn), "summary");
        ck_assert_int_eq(
            geti(json_object_get(json_object_get(sum, "summary"), "final_states"), "CLOSED/CLOSED"),
            4);
        /* The policy saw the two keepalive connections that were not written. */
        json_t *rule = json_array_get(json_object_get(json_object_get(sum, "verdict"), "rules"), 0);
        ck_assert_int_eq(geti(rule, "connections"), 2);
        ck_assert_str_eq(
            json_string_value(json_object_get(json_object_get(sum, "verdict"), "result")), "fail");
        lines_free(&ls);
        tcpst_policy_fini(&pol);
    }
    scratch_close(&sc);
}
END_TEST

/* The document and text formats ignore anomaly and stats events. */
START_TEST(stream_events_ignored_elsewhere)
{
    scratch sc;
    scratch_open(&sc, "out");
    const char *path = sc.path;
    static const char *const formats[] = {"json", "text"};
    for (int fmt = 0; fmt < 2; fmt++) {
        tcpst_report_opts opts = {.format = formats[fmt]};
        tcpst_report *r;
        ck_assert_int_eq(tcpst_report_open(&r, path, &opts, NULL), 0);
        tcpst_conn c;
        refused(&c, 1, SEC);
        memset(&c.findings, 0, sizeof c.findings);
        c.findings.pool = test_pool();
        tcpst_finding *f =
            tcpst_findings_add(&c.findings, TCPST_A_CONNECTION_RESET, TCPST_WHO_SERVER, 1, 2);
        tcpst_report_anomaly(r, &c, f, 2 * SEC);
        tcpst_engine_stats st;
        memset(&st, 0, sizeof st);
        tcpst_engine_open open;
        memset(&open, 0, sizeof open);
        tcpst_report_stats(r, 2 * SEC, &st, &open, NULL);
        tcpst_report_conn(r, &c);
        tcpst_report_meta meta = {.n_inputs = 0};
        ck_assert_int_eq(tcpst_report_finish(r, &st, &meta, NULL), 0);
        FILE *in = fopen(path, "r");
        char buf[65536];
        size_t n = fread(buf, 1, sizeof buf - 1, in);
        fclose(in);
        buf[n] = '\0';
        ck_assert_ptr_null(strstr(buf, "\"type\":\"anomaly\""));
        ck_assert_ptr_null(strstr(buf, "\"type\":\"stats\""));
        if (fmt == 0) {
            json_error_t je;
            json_t *doc = json_loads(buf, 0, &je);
            ck_assert_msg(doc != NULL, "invalid JSON: %s", je.text);
            ck_assert_uint_eq(json_array_size(json_object_get(doc, "connections")), 1);
            json_t *sst = json_object_get(doc, "stats");
            ck_assert_ptr_null(json_object_get(sst, "anomalies_announced"));
            /* No stop reason given: derived from `interrupted`. */
            ck_assert_str_eq(json_string_value(json_object_get(sst, "stop")), "end_of_input");
            json_decref(doc);
        } else {
            ck_assert(strncmp(buf, "    ID  CLIENT", 14) == 0);
        }
    }
    scratch_close(&sc);
}
END_TEST

/* Live-capture facts in the document: interface and libpcap's counters. */
START_TEST(document_live_meta)
{
    scratch sc;
    scratch_open(&sc, "out.json");
    const char *path = sc.path;
    for (int live = 0; live < 2; live++) {
        tcpst_report *r;
        ck_assert_int_eq(tcpst_report_open(&r, path, NULL, NULL), 0);
        tcpst_engine_stats st;
        memset(&st, 0, sizeof st);
        tcpst_report_meta meta = {.n_inputs = 0, .interrupted = true};
        if (live) {
            meta.stop = "duration";
            meta.interface = "eth0";
            meta.counters = (tcpst_capture_counters){
                .valid = true, .received = 100, .dropped = 2, .if_dropped = 0};
        }
        ck_assert_int_eq(tcpst_report_finish(r, &st, &meta, NULL), 0);
        json_error_t je;
        json_t *doc = json_load_file(path, 0, &je);
        ck_assert_ptr_nonnull(doc);
        json_t *sst = json_object_get(doc, "stats");
        ck_assert_str_eq(json_string_value(json_object_get(sst, "stop")),
                         live ? "duration" : "signal");
        if (live) {
            ck_assert_str_eq(json_string_value(json_object_get(sst, "interface")), "eth0");
            ck_assert_int_eq(geti(json_object_get(sst, "capture"), "received"), 100);
            ck_assert_int_eq(geti(json_object_get(sst, "capture"), "dropped"), 2);
        } else {
            ck_assert_ptr_null(json_object_get(sst, "interface"));
            ck_assert_ptr_null(json_object_get(sst, "capture"));
        }
        ck_assert_ptr_null(json_object_get(sst, "ip_reassembly")); /* no fragment seen */
        json_decref(doc);
    }
    scratch_close(&sc);
}
END_TEST

START_TEST(encap_layers)
{
    tcpst_conn c;
    refused(&c, 5, SEC);
    char *text = tcpst_report_conn_text(&c);
    ck_assert_ptr_null(strstr(text, "\"encap\"")); /* none: no field */
    ck_assert_ptr_null(strstr(text, "\"vlan\""));
    free(text);
    c.nvlan = 1;
    c.vlan[0] = 100;
    c.nencap = 3;
    c.encap[0] = (tcpst_encap){.type = TCPST_ENCAP_VLAN, .has_id = 1, .in_key = 1, .id = 100};
    c.encap[1] = (tcpst_encap){.type = TCPST_ENCAP_IP}; /* outer IP of the tunnel: no id */
    c.encap[2] = (tcpst_encap){.type = TCPST_ENCAP_VXLAN, .has_id = 1, .id = 42};
    text = tcpst_report_conn_text(&c);
    ck_assert(strstr(text, "\"vlan\":[100],\"encap\":[{\"type\":\"vlan\",\"id\":100,"
                           "\"in_key\":true},{\"type\":\"ip\"},{\"type\":\"vxlan\",\"vni\":42}]") !=
              NULL);
    free(text);

    /* Anomaly lines carry the layers too: the record may come much later. */
    scratch sc;
    scratch_open(&sc, "out.ndjson");
    const char *path = sc.path;
    tcpst_report_opts opts = {.format = "ndjson"};
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, path, &opts, NULL), 0);
    memset(&c.findings, 0, sizeof c.findings);
    c.findings.pool = test_pool();
    tcpst_finding *f =
        tcpst_findings_add(&c.findings, TCPST_A_CONNECTION_RESET, TCPST_WHO_SERVER, 1, 2);
    tcpst_report_anomaly(r, &c, f, 2 * SEC);
    lines ls;
    lines_read(&ls, path);
    ck_assert_uint_eq(ls.n, 1);
    json_t *enc = json_object_get(ls.obj[0], "encap");
    ck_assert_uint_eq(json_array_size(enc), 3);
    ck_assert_int_eq(geti(json_array_get(enc, 2), "vni"), 42);
    lines_free(&ls);
    tcpst_report_discard(r);
    /* A stream is not a temporary file: what was written stays for its readers. */
    ck_assert_int_eq(access(path, F_OK), 0);
    scratch_close(&sc);
}
END_TEST

START_TEST(ndjson_write_error)
{
    if (access("/dev/full", W_OK) != 0) {
        return; /* not on this system */
    }
    tcpst_report_opts opts = {.format = "ndjson"};
    tcpst_report *r;
    ck_assert_int_eq(tcpst_report_open(&r, "/dev/full", &opts, NULL), 0);
    tcpst_conn c;
    refused(&c, 1, SEC);
    tcpst_report_conn(r, &c); /* flushed at once: the error is seen here */
    tcpst_engine_stats st;
    memset(&st, 0, sizeof st);
    tcpst_report_meta meta = {.n_inputs = 0};
    tcpst_error err;
    ck_assert_int_eq(tcpst_report_finish(r, &st, &meta, &err), TCPST_EWRITE);
    ck_assert(strstr(err.msg, "/dev/full") != NULL);
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
    tcase_add_test(t, ndjson_stream);
    tcase_add_test(t, ndjson_which);
    tcase_add_test(t, stream_events_ignored_elsewhere);
    tcase_add_test(t, document_live_meta);
    tcase_add_test(t, encap_layers);
    tcase_add_test(t, pending_records_spill);
    tcase_add_test(t, spill_fails_half_way);
    tcase_add_test(t, ndjson_write_error);
    suite_add_tcase(s, t);
    return ckrun(s);
}
