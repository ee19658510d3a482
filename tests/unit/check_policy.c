/*
 * check_policy.c - --fail-on parsing and rule evaluation.
 */
#include <check.h>
#include <string.h>

#include "ckrun.h"
#include "pktbuild.h"
#include "tcpstate/junit.h"
#include "tcpstate/policy.h"

static tcpst_conn conn_with(uint64_t id, const tcpst_anomaly_type *types, int n)
{
    tcpst_conn c;
    tcpst_segment s = pb_segment(1, TCPST_SYN, 1, 0, 0);
    tcpst_conn_init(&c, id, &s);
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
    ck_assert_uint_eq(p.rules[0].off[1].id, 3);
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
    suite_add_tcase(s, t);
    return ckrun(s);
}
