/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_seq.c - serial-number arithmetic (RFC 1982) around the 2^32 wrap.
 */
#include <check.h>

#include "ckrun.h"
#include "tcpstate/seq.h"

START_TEST(compare_across_wrap)
{
    ck_assert(tcpst_seq_lt(0xFFFFFFF0u, 0x10u));
    ck_assert(tcpst_seq_gt(0x10u, 0xFFFFFFF0u));
    ck_assert(tcpst_seq_le(5u, 5u));
    ck_assert(tcpst_seq_ge(5u, 5u));
    ck_assert(!tcpst_seq_lt(5u, 5u));
    ck_assert_int_eq(tcpst_seq_diff(0x10u, 0xFFFFFFF0u), 0x20);
    ck_assert_int_eq(tcpst_seq_diff(0xFFFFFFF0u, 0x10u), -0x20);
    /* Half the space away is the boundary: 2^31 - 1 ahead is still "greater". */
    ck_assert(tcpst_seq_gt(0x7FFFFFFFu, 0u));
    ck_assert(tcpst_seq_lt(0x80000001u, 0u));
}
END_TEST

START_TEST(in_range)
{
    ck_assert(tcpst_seq_in_range(0xFFFFFFFFu, 0xFFFFFFF0u, 0x20));
    ck_assert(tcpst_seq_in_range(0x0Fu, 0xFFFFFFF0u, 0x20));
    ck_assert(!tcpst_seq_in_range(0x10u, 0xFFFFFFF0u, 0x20));
    ck_assert(!tcpst_seq_in_range(0xFFFFFFEFu, 0xFFFFFFF0u, 0x20));
    ck_assert(!tcpst_seq_in_range(7u, 7u, 0));
}
END_TEST

START_TEST(unwrap)
{
    /* Reference 2^32 - 16 at 64-bit value 4294967280; 16 later wraps to 0. */
    int64_t ref64 = INT64_C(4294967280);
    ck_assert_int_eq(tcpst_seq_unwrap(ref64, 0xFFFFFFF0u, 0u), INT64_C(4294967296));
    ck_assert_int_eq(tcpst_seq_unwrap(ref64, 0xFFFFFFF0u, 0xFFFFFFE0u), INT64_C(4294967264));
    int64_t v = 0;
    uint32_t w = 0;
    for (int i = 0; i < 3000; i++) { /* walk 3 times around the space */
        uint32_t next = w + 4000000u;
        v = tcpst_seq_unwrap(v, w, next);
        w = next;
    }
    ck_assert_int_eq(v, INT64_C(3000) * 4000000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("seq");
    TCase *t = tcase_create("serial");
    tcase_add_test(t, compare_across_wrap);
    tcase_add_test(t, in_range);
    tcase_add_test(t, unwrap);
    suite_add_tcase(s, t);
    return ckrun(s);
}
