/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_error.c - unit tests for error.c: message formatting into the fixed
 * tcpst_error buffer and the generic text of every code.
 */
#include <check.h>

#include "ckrun.h"
#include <stdlib.h>
#include <string.h>

#include "tcpstate/error.h"

START_TEST(test_set_formats_and_returns_code)
{
    tcpst_error err;
    memset(&err, 'x', sizeof(err));
    int rc = tcpst_error_set(&err, TCPST_EOPEN, "%s: %s (%d)", "a.pcap", "gone", 42);
    ck_assert_int_eq(rc, TCPST_EOPEN);
    ck_assert_int_eq(err.code, TCPST_EOPEN);
    ck_assert_str_eq(err.msg, "a.pcap: gone (42)");
}
END_TEST

START_TEST(test_set_null_err)
{
    ck_assert_int_eq(tcpst_error_set(NULL, TCPST_EFILTER, "ignored %d", 1), TCPST_EFILTER);
    ck_assert_int_eq(tcpst_error_set(NULL, TCPST_OK, "ignored"), TCPST_OK);
}
END_TEST

START_TEST(test_set_truncates_long_message)
{
    char big[3 * TCPST_ERRMSG_MAX];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    tcpst_error err;
    ck_assert_int_eq(tcpst_error_set(&err, TCPST_EREAD, "f: %s", big), TCPST_EREAD);
    ck_assert_uint_eq(strlen(err.msg), TCPST_ERRMSG_MAX - 1);
    ck_assert(strncmp(err.msg, "f: aaa", 6) == 0);
}
END_TEST

START_TEST(test_set_keeps_one_line)
{
    tcpst_error err;
    tcpst_error_set(&err, TCPST_EFORMAT, "%s: %s", "x.pcap", "first\nsecond\r\n");
    ck_assert_str_eq(err.msg, "x.pcap: first second");
    tcpst_error_set(&err, TCPST_EFORMAT, "%s", "\n");
    ck_assert_str_eq(err.msg, "");
}
END_TEST

START_TEST(test_set_overwrites_previous)
{
    tcpst_error err;
    tcpst_error_set(&err, TCPST_EUSAGE, "a much longer first message");
    tcpst_error_set(&err, TCPST_ENOMEM, "short");
    ck_assert_int_eq(err.code, TCPST_ENOMEM);
    ck_assert_str_eq(err.msg, "short");
}
END_TEST

static const struct {
    int code;
    const char *text;
} code_table[] = {
    {TCPST_OK, "success"},
    {TCPST_EUSAGE, "usage error"},
    {TCPST_EOPEN, "cannot open input"},
    {TCPST_EFORMAT, "unreadable capture format"},
    {TCPST_ELINKTYPE, "unsupported link type"},
    {TCPST_EFILTER, "invalid filter"},
    {TCPST_EREAD, "read error"},
    {TCPST_EWRITE, "cannot write output"},
    {TCPST_ENOMEM, "out of memory"},
};

START_TEST(test_strerror_each_code)
{
    const char *got = tcpst_strerror(code_table[_i].code);
    ck_assert_msg(got != NULL && strcmp(got, code_table[_i].text) == 0,
                  "code %d: got '%s', want '%s'", code_table[_i].code, got ? got : "(null)",
                  code_table[_i].text);
}
END_TEST

START_TEST(test_strerror_codes_distinct_and_negative)
{
    size_t n = sizeof(code_table) / sizeof(code_table[0]);
    for (size_t i = 1; i < n; i++) {
        ck_assert_int_lt(code_table[i].code, 0);
        for (size_t j = i + 1; j < n; j++) {
            ck_assert_int_ne(code_table[i].code, code_table[j].code);
        }
    }
}
END_TEST

START_TEST(test_strerror_unknown)
{
    ck_assert_str_eq(tcpst_strerror(-999), "unknown error");
    ck_assert_str_eq(tcpst_strerror(7), "unknown error");
}
END_TEST

static Suite *error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("set");
    tcase_add_test(tc, test_set_formats_and_returns_code);
    tcase_add_test(tc, test_set_null_err);
    tcase_add_test(tc, test_set_truncates_long_message);
    tcase_add_test(tc, test_set_keeps_one_line);
    tcase_add_test(tc, test_set_overwrites_previous);
    suite_add_tcase(s, tc);
    tc = tcase_create("strerror");
    tcase_add_loop_test(tc, test_strerror_each_code, 0,
                        (int)(sizeof(code_table) / sizeof(code_table[0])));
    tcase_add_test(tc, test_strerror_codes_distinct_and_negative);
    tcase_add_test(tc, test_strerror_unknown);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(error_suite());
}
