/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_select.c - --connection selectors: what parses, what it matches, and the errors.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "ckrun.h"
#include "tcpstate/select.h"

static tcpst_conn conn(uint64_t id, const char *ca, uint16_t cp, const char *sa, uint16_t sp,
                       int family)
{
    tcpst_conn c;
    memset(&c, 0, sizeof c);
    c.id = id;
    const char *a[2] = {ca, sa};
    uint16_t p[2] = {cp, sp};
    for (int i = 0; i < 2; i++) {
        c.ep[i].addr.family = (uint8_t)(family == AF_INET6 ? 6 : 4);
        ck_assert_int_eq(inet_pton(family, a[i], c.ep[i].addr.bytes), 1);
        c.ep[i].port = p[i];
    }
    return c;
}

static bool picks(const char *sel, const tcpst_conn *c)
{
    tcpst_selection s = {0};
    tcpst_error err;
    ck_assert_msg(tcpst_selection_add(&s, sel, &err) == 0, "%s: %s", sel, err.msg);
    bool m = tcpst_selection_matches(&s, c);
    tcpst_selection_fini(&s);
    return m;
}

START_TEST(matching)
{
    tcpst_conn c = conn(17, "198.18.0.1", 46038, "198.18.0.2", 8080, AF_INET);
    ck_assert(tcpst_selection_matches(NULL, &c)); /* no selector: every record */
    ck_assert(picks("17", &c));
    ck_assert(!picks("18", &c));
    ck_assert(picks("198.18.0.2:8080", &c));
    ck_assert(picks("198.18.0.1:46038", &c));
    ck_assert(!picks("198.18.0.1:8080", &c));
    ck_assert(picks("198.18.0.1:46038-198.18.0.2:8080", &c));
    ck_assert(picks("198.18.0.2:8080-198.18.0.1:46038", &c)); /* either order */
    ck_assert(!picks("198.18.0.2:8080-198.18.0.1:46039", &c));
    ck_assert(!picks("close_wait_stuck", &c));
    ck_assert(!picks("anomalous", &c));
    tcpst_conn v6 = conn(3, "2001:db8::1", 50000, "2001:db8::2", 443, AF_INET6);
    ck_assert(picks("[2001:db8::2]:443", &v6));
    ck_assert(picks("[2001:db8::1]:50000-[2001:db8:0::2]:443", &v6));
    ck_assert(!picks("198.18.0.2:8080", &v6));
}
END_TEST

START_TEST(findings)
{
    tcpst_conn c = conn(1, "198.18.0.1", 1, "198.18.0.2", 2, AF_INET);
    tcpst_finding f[TCPST_FINDINGS_MAX];
    memset(f, 0, sizeof f);
    f[0].type = TCPST_A_KEEPALIVE; /* info: not "anomalous" */
    c.findings.f = f;
    c.findings.n = 1;
    ck_assert(picks("keepalive", &c));
    ck_assert(!picks("anomalous", &c));
    f[1].type = TCPST_A_CLOSE_WAIT_STUCK;
    c.findings.n = 2;
    ck_assert(picks("close_wait_stuck", &c));
    ck_assert(picks("anomalous", &c));
    /* Several selectors: any one picks. */
    tcpst_selection s = {0};
    tcpst_error err;
    ck_assert_int_eq(tcpst_selection_add(&s, "99", &err), 0);
    ck_assert(tcpst_selection_by_tuple(&s));
    ck_assert(!tcpst_selection_matches(&s, &c));
    ck_assert_int_eq(tcpst_selection_add(&s, "close_wait_stuck", &err), 0);
    ck_assert(!tcpst_selection_by_tuple(&s));
    ck_assert(tcpst_selection_matches(&s, &c));
    tcpst_selection_fini(&s);
}
END_TEST

START_TEST(errors)
{
    static const char *const bad[] = {"",
                                      "0",
                                      "-3",
                                      "17x",
                                      "nosuch_anomaly",
                                      "198.18.0.1",
                                      "198.18.0.1:",
                                      "198.18.0.1:70000",
                                      "1.2.3:80",
                                      "[2001:db8::1:443",
                                      "2001:db8::1:443x",
                                      "198.18.0.1:1-",
                                      "198.18.0.1:1-2"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tcpst_selection s = {0};
        tcpst_error err;
        ck_assert_msg(tcpst_selection_add(&s, bad[i], &err) == TCPST_EUSAGE, "'%s'", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "--connection: expected"));
        ck_assert_uint_eq(s.n, 0);
        tcpst_selection_fini(&s);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("select");
    TCase *t = tcase_create("selectors");
    tcase_add_test(t, matching);
    tcase_add_test(t, findings);
    tcase_add_test(t, errors);
    suite_add_tcase(s, t);
    return ckrun(s);
}
