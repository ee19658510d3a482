/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_policy.c - --fail-on parsing and rule evaluation.
 */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "ckrun.h"
#include "pktbuild.h"
#include "tcpstate/junit.h"
#include "tcpstate/policy.h"
#include "testrec.h"

static tcpst_conn conn_with(uint64_t id, const tcpst_anomaly_type *types, int n)
{
    tcpst_conn c;
    tcpst_segment s = pb_segment(1, TCPST_SYN, 1, 0, 0);
    test_conn_init(&c, id, &s);
    for (int i = 0; i < n; i++) {
        tcpst_findings_add(&c.findings, types[i], TCPST_WHO_SERVER, 1, 100 + (uint64_t)i);
    }
    return c;
}

START_TEST(parse_rules)
{
    tcpst_policy p;
    tcpst_policy_init(&p);
    tcpst_error err;
    ck_assert_int_eq(tcpst_policy_add_fail_on(&p, "close_wait_stuck,retransmission>=3", &err), 0);
    ck_assert_int_eq(tcpst_policy_add_fail_on(&p, "severity>=warning,keepalive=2", &err), 0);
    ck_assert_uint_eq(p.n, 4);
    ck_assert_int_eq(p.rules[0].type, TCPST_A_CLOSE_WAIT_STUCK);
    ck_assert_uint_eq(p.rules[0].min_count, 1);
    ck_assert_uint_eq(p.rules[1].min_count, 3);
    ck_assert_int_eq(p.rules[2].kind, TCPST_RULE_SEVERITY);
    ck_assert_int_eq(p.rules[2].severity, TCPST_SEV_WARNING);
    ck_assert_uint_eq(p.rules[3].min_count, 2);
    ck_assert_str_eq(p.rules[1].text, "retransmission>=3");
    tcpst_policy_fini(&p);
}
END_TEST

static const char *const bad[] = {"nonsense",
                                  "close-wait",
                                  "severity>=fatal",
                                  "retransmission>3",
                                  "retransmission>=0",
                                  "retransmission>=x",
                                  ",",
                                  ""};

START_TEST(reject_bad_rules)
{
    tcpst_policy p;
    tcpst_policy_init(&p);
    tcpst_error err = {0};
    int rc = tcpst_policy_add_fail_on(&p, bad[_i], &err);
    ck_assert_msg(rc == TCPST_EUSAGE, "'%s' accepted", bad[_i]);
    ck_assert(strstr(err.msg, "--fail-on") != NULL);
    tcpst_policy_fini(&p);
}
END_TEST

START_TEST(evaluate)
{
    tcpst_policy p;
    tcpst_policy_init(&p);
    ck_assert_int_eq(
        tcpst_policy_add_fail_on(&p, "retransmission>=2,severity>=error,keepalive", NULL), 0);
    const tcpst_anomaly_type a[] = {TCPST_A_RETRANSMISSION};
    const tcpst_anomaly_type b[] = {TCPST_A_RETRANSMISSION, TCPST_A_CONNECTION_RESET};
    tcpst_conn c1 = conn_with(5, a, 1);
    tcpst_policy_check(&p, &c1);
    ck_assert(!tcpst_policy_failed(&p)); /* one retransmission finding, 2 needed */
    tcpst_conn c2 = conn_with(3, b, 2);
    tcpst_policy_check(&p, &c2);
    ck_assert(tcpst_rule_violated(&p.rules[0]));
    ck_assert(!tcpst_rule_violated(&p.rules[1])); /* warnings only */
    ck_assert(!tcpst_rule_violated(&p.rules[2]));
    ck_assert(tcpst_policy_failed(&p));
    ck_assert_uint_eq(p.rules[0].conns, 2);
    ck_assert_uint_eq(p.rules[0].noff, 2);
    ck_assert_uint_eq(p.rules[0].off[1].ref.id, 3);
    ck_assert_uint_eq(p.rules[0].off[1].frames[0], 100);
    const tcpst_anomaly_type e[] = {TCPST_A_CLOSE_WAIT_STUCK, TCPST_A_HALF_OPEN};
    tcpst_conn c3 = conn_with(9, e, 2);
    tcpst_policy_check(&p, &c3);
    ck_assert(tcpst_rule_violated(&p.rules[1]));
    ck_assert_uint_eq(p.rules[1].matches, 2);
    ck_assert_uint_eq(p.rules[1].conns, 1); /* two findings, one connection */
    tcpst_policy_fini(&p);
}
END_TEST

START_TEST(offender_list_is_capped)
{
    tcpst_policy p;
    tcpst_policy_init(&p);
    ck_assert_int_eq(tcpst_policy_add_fail_on(&p, "keepalive", NULL), 0);
    const tcpst_anomaly_type k[] = {TCPST_A_KEEPALIVE};
    for (uint64_t id = 1; id <= TCPST_VERDICT_CONNS + 5; id++) {
        tcpst_conn c = conn_with(id, k, 1);
        tcpst_policy_check(&p, &c);
    }
    ck_assert_uint_eq(p.rules[0].noff, TCPST_VERDICT_CONNS);
    ck_assert_uint_eq(p.rules[0].conns, TCPST_VERDICT_CONNS + 5);
    tcpst_policy_fini(&p);
}
END_TEST

static char *write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/tcpst-policy-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* A connection to 198.18.0.2:`port` ending in (cs, ss), with optional findings. */
static tcpst_conn conn_to(uint64_t id, uint16_t port, int cs, int ss)
{
    tcpst_segment s = pb_segment(1, TCPST_SYN, 1, 0, 0);
    s.dport = port;
    tcpst_conn c;
    test_conn_init(&c, id, &s);
    c.ep[0].state = (uint8_t)cs;
    c.ep[1].state = (uint8_t)ss;
    c.first_frame = 10 * id;
    c.last_frame = 10 * id + 5;
    return c;
}

START_TEST(policy_file)
{
    const char *text =
        "{\"rules\": ["
        " {\"name\": \"pg\", \"scope\": {\"server_port\": [5432, 5433]},"
        "  \"final_state\": {\"client\": [\"CLOSED\", \"TIME_WAIT\"]}},"
        " {\"scope\": {\"server\": \"198.18.0.0/15\", \"client\": \"198.18.0.1\"},"
        "  \"forbid\": [\"connection_rejected\"], \"max\": {\"retransmission\": 1}},"
        " {\"scope\": {\"server\": \"2001:db8::/32\"}, \"handshake_complete\": true},"
        " {\"scope\": {\"server_port\": 80}, \"allow\": [\"keepalive\"]}]}";
    tcpst_policy p;
    tcpst_policy_init(&p);
    tcpst_error err = {0};
    ck_assert_msg(tcpst_policy_load(&p, write_tmp(text), &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(p.n, 5);
    ck_assert_int_eq(p.rules[0].kind, TCPST_RULE_FINAL_STATE);
    ck_assert_str_eq(p.rules[0].text, "pg: client ends in CLOSED|TIME_WAIT");
    ck_assert(strstr(p.rules[0].source, "rule 1") != NULL);
    ck_assert_uint_eq(p.rules[2].min_count, 2); /* max 1 -> violated at 2 */

    /* Port 5432, client left in FIN_WAIT_2: rule 1 breaks; port 6000 is out of scope. */
    tcpst_conn a = conn_to(1, 5432, TCPST_FIN_WAIT_2, TCPST_CLOSE_WAIT);
    tcpst_conn b = conn_to(2, 6000, TCPST_FIN_WAIT_2, TCPST_CLOSE_WAIT);
    tcpst_conn c = conn_to(3, 5433, TCPST_TIME_WAIT, TCPST_CLOSED);
    ck_assert_uint_eq(tcpst_policy_check(&p, &a), 1);
    ck_assert_uint_eq(tcpst_policy_check(&p, &b), 0);
    ck_assert_uint_eq(tcpst_policy_check(&p, &c), 0);
    ck_assert(tcpst_rule_violated(&p.rules[0]));
    ck_assert_uint_eq(p.rules[0].off[0].frames[0], 15);
    /* In the IPv4 prefix: a rejection breaks rule 2 (forbid). */
    tcpst_conn d = conn_to(4, 7000, TCPST_CLOSED, TCPST_CLOSED);
    tcpst_findings_add(&d.findings, TCPST_A_CONNECTION_REJECTED, TCPST_WHO_SERVER, 1, 41);
    ck_assert_uint_eq(tcpst_policy_check(&p, &d), 2);
    /* Port 80 allows keep-alives only. */
    tcpst_conn e = conn_to(5, 80, TCPST_ESTABLISHED, TCPST_ESTABLISHED);
    tcpst_findings_add(&e.findings, TCPST_A_KEEPALIVE, TCPST_WHO_CLIENT, 1, 51);
    ck_assert_uint_eq(tcpst_policy_check(&p, &e), 0);
    tcpst_findings_add(&e.findings, TCPST_A_OUT_OF_ORDER, TCPST_WHO_CLIENT, 1, 52);
    ck_assert_uint_eq(tcpst_policy_check(&p, &e), 16);
    /* The IPv6 handshake rule does not see IPv4 connections. */
    ck_assert_uint_eq(p.rules[3].matches, 0);
    tcpst_policy_fini(&p);
}
END_TEST

static const char *const bad_files[][2] = {
    {"{\"rules\": [{\"forbid\": [\"nope\"]}]}", "rule 1: bad \"forbid\" item: nope"},
    {"{\"rules\": [{\"forbid\": [\"keepalive\"]}, {\"max\": {\"x\": 1}}]}",
     "rule 2: unknown anomaly type"},
    {"{\"rules\": [{\"final_state\": {\"client\": [\"TIMEWAIT\"]}}]}", "unknown state"},
    {"{\"rules\": [{\"final_state\": {\"peer\": [\"CLOSED\"]}}]}", "peer"},
    {"{\"rules\": [{\"scope\": {\"port\": 1}, \"allow\": []}]}", "unknown key in \"scope\""},
    {"{\"rules\": [{\"scope\": {\"server\": \"198.18.0.0/33\"}, \"allow\": []}]}", "prefix"},
    {"{\"rules\": [{\"scope\": {\"server_port\": 70000}, \"allow\": []}]}", "0..65535"},
    {"{\"rules\": [{\"name\": \"x\"}]}", "no check"},
    {"{\"rules\": [{\"forbid\": [\"keepalive\"], \"colour\": 1}]}", "unknown key: colour"},
    {"{\"rules\": [{\"handshake_complete\": false}]}", "only be true"},
    {"{\"rules\": []}", "expected {\"rules\""},
    {"{\"rulez\": []}", "unknown top-level key"},
    {"{\"rules\": [", "line 1"},
    {"{\"rules\": [{\"max\": {\"keepalive\": 1, \"keepalive\": 2}}]}", "duplicate"},
};

START_TEST(policy_file_errors)
{
    tcpst_policy p;
    tcpst_policy_init(&p);
    tcpst_error err = {0};
    const char *path = write_tmp(bad_files[_i][0]);
    ck_assert_int_eq(tcpst_policy_load(&p, path, &err), TCPST_EUSAGE);
    ck_assert_msg(strstr(err.msg, bad_files[_i][1]) != NULL, "'%s' lacks '%s'", err.msg,
                  bad_files[_i][1]);
    ck_assert(strncmp(err.msg, path, strlen(path)) == 0);
    unlink(path);
    tcpst_policy_fini(&p);
}
END_TEST

START_TEST(xml_escape)
{
    char out[64];
    tcpst_xml_escape("a<b>&\"c'\x01"
                     "d",
                     out, sizeof out);
    ck_assert_str_eq(out, "a&lt;b&gt;&amp;&quot;c&apos;?d");
    tcpst_xml_escape("&&&&&&&&&&&&&&&&&&&&", out, 16); /* truncates, never overflows */
    ck_assert_uint_lt(strlen(out), 16);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy");
    TCase *t = tcase_create("fail-on");
    tcase_add_test(t, parse_rules);
    tcase_add_loop_test(t, reject_bad_rules, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(t, evaluate);
    tcase_add_test(t, offender_list_is_capped);
    tcase_add_test(t, xml_escape);
    tcase_add_test(t, policy_file);
    tcase_add_loop_test(t, policy_file_errors, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
    suite_add_tcase(s, t);
    return ckrun(s);
}
