/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_jsonw.c - the streaming JSON writer must print exactly what jansson
 * prints (JSON_COMPACT | JSON_REAL_PRECISION(16)) for the same values, since
 * records written by it sit next to jansson-made summaries in one report.
 */
#include <check.h>
#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ckrun.h"
#include "report/jsonw.h"

#define JANSSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(16))

/* jansson's text for one value (stolen reference). */
static char *jansson_text(json_t *v)
{
    char *s = json_dumps(v, JANSSON_FLAGS | JSON_ENCODE_ANY);
    json_decref(v);
    ck_assert_ptr_nonnull(s);
    return s;
}

static void assert_same(tcpst_jw *w, json_t *v)
{
    char *want = jansson_text(v);
    ck_assert_int_eq(w->err, 0);
    ck_assert_str_eq(tcpst__jw_text(w), want);
    free(want);
}

START_TEST(reals_match_jansson)
{
    static const double vals[] = {0.0,
                                  -0.0,
                                  1.0,
                                  -1.0,
                                  0.5,
                                  1e-6,
                                  0.000001,
                                  1234567.891011,
                                  1700000000.123456,
                                  1e20,
                                  1e21,
                                  1e22,
                                  123456789012345678.0,
                                  1.5e-300,
                                  DBL_MAX,
                                  DBL_MIN,
                                  -2.5e-7,
                                  3.0e15,
                                  0.1,
                                  2.0 / 3.0};
    tcpst_jw w;
    tcpst__jw_init(&w);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        tcpst__jw_reset(&w);
        tcpst__jw_real(&w, vals[i]);
        assert_same(&w, json_real(vals[i]));
    }
    /* Microsecond timestamps as the report makes them, over a wide range. */
    for (int64_t us = 0; us < INT64_C(4000000000000000); us = us * 7 + 13) {
        double v = (double)us / 1e6;
        tcpst__jw_reset(&w);
        tcpst__jw_real(&w, v);
        assert_same(&w, json_real(v));
    }
    tcpst__jw_free(&w);
}
END_TEST

/* Microsecond values: the same double as jansson's text once parsed, shortest form. */
static void assert_us(tcpst_jw *w, int64_t us)
{
    tcpst__jw_reset(w);
    tcpst__jw_us(w, us);
    double want = (double)us / 1e6;
    if (us <= -(INT64_C(1) << 53) || us >= (INT64_C(1) << 53)) {
        assert_same(w, json_real(want)); /* not exact in a double: jansson's text */
        return;
    }
    const char *got = tcpst__jw_text(w);
    char *end;
    double parsed = strtod(got, &end);
    ck_assert_msg(*end == '\0' && memcmp(&parsed, &want, sizeof want) == 0,
                  "us %lld: %s parses to %.17g, want %.17g", (long long)us, got, parsed, want);
    /* and jansson reads it as a real, the same one */
    json_t *v = json_loads(got, JSON_DECODE_ANY, NULL);
    ck_assert_msg(v && json_is_real(v) && json_real_value(v) == want, "us %lld: %s", (long long)us,
                  got);
    json_decref(v);
    /* fixed notation, at most 6 decimals, no trailing zero but one */
    const char *dot = strchr(got, '.');
    ck_assert_ptr_nonnull(dot);
    ck_assert_ptr_null(strchr(got, 'e'));
    size_t decimals = strlen(dot + 1);
    ck_assert_uint_ge(decimals, 1);
    ck_assert_uint_le(decimals, 6);
    ck_assert(decimals == 1 || got[strlen(got) - 1] != '0');
}

START_TEST(microseconds_exact)
{
    static const int64_t edges[] = {0,
                                    1,
                                    99,
                                    100,
                                    101,
                                    999999,
                                    1000000,
                                    1000001,
                                    1500000,
                                    9994552,
                                    INT64_C(1700000000123456),
                                    INT64_C(1700000000000000),
                                    INT64_C(1700000000100000),
                                    INT64_C(8589934592000000),
                                    INT64_C(9007199254740991),
                                    INT64_C(9007199254740992),
                                    INT64_C(12345678901234567),
                                    INT64_MAX / 1000};
    tcpst_jw w;
    tcpst__jw_init(&w);
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        assert_us(&w, edges[i]);
        assert_us(&w, -edges[i]);
    }
    tcpst__jw_reset(&w);
    tcpst__jw_us(&w, 9994552);
    ck_assert_str_eq(tcpst__jw_text(&w), "9.994552");
    tcpst__jw_reset(&w);
    tcpst__jw_us(&w, -1);
    ck_assert_str_eq(tcpst__jw_text(&w), "-0.000001");
    tcpst__jw_reset(&w);
    tcpst__jw_us(&w, 0);
    ck_assert_str_eq(tcpst__jw_text(&w), "0.0");
    /* Pseudo-random values of every magnitude (a fixed LCG: reproducible). */
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        assert_us(&w, (int64_t)(x >> (x % 48 + 1))); /* 15 to 63 bits */
    }
    tcpst__jw_free(&w);
}
END_TEST

START_TEST(integers_match_jansson)
{
    static const int64_t vals[] = {0, 1, -1, 9, 10, 4294967295, -4294967296, INT64_MAX, INT64_MIN};
    tcpst_jw w;
    tcpst__jw_init(&w);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        tcpst__jw_reset(&w);
        tcpst__jw_int(&w, vals[i]);
        assert_same(&w, json_integer(vals[i]));
    }
    tcpst__jw_reset(&w);
    tcpst__jw_uint(&w, UINT64_C(18446744073709551615));
    ck_assert_str_eq(tcpst__jw_text(&w), "18446744073709551615");
    /* Digits come in pairs: every length and both parities, against jansson. */
    uint64_t x = 1;
    for (int i = 0; i < 100000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        int64_t v = (int64_t)(x >> (x % 63 + 1));
        tcpst__jw_reset(&w);
        tcpst__jw_int(&w, i % 2 ? -v : v);
        assert_same(&w, json_integer(i % 2 ? -v : v));
    }
    tcpst__jw_free(&w);
}
END_TEST

START_TEST(microseconds_share_seconds)
{
    /* The whole seconds are kept from one time to the next: same, other, fewer digits. */
    tcpst_jw w;
    tcpst__jw_init(&w);
    tcpst__jw_arr_begin(&w);
    tcpst__jw_us(&w, INT64_C(1704067213991676));
    tcpst__jw_us(&w, INT64_C(1704067213000100));
    tcpst__jw_us(&w, INT64_C(-1704067213000001));
    tcpst__jw_us(&w, INT64_C(1704067214500000));
    tcpst__jw_us(&w, INT64_C(2000000));
    tcpst__jw_us(&w, INT64_C(2000001));
    tcpst__jw_us(&w, INT64_C(1704067214000000));
    tcpst__jw_arr_end(&w);
    ck_assert_str_eq(tcpst__jw_text(&w), "[1704067213.991676,1704067213.0001,-1704067213.000001,"
                                         "1704067214.5,2.0,2.000001,1704067214.0]");
    tcpst__jw_reset(&w); /* the kept digits outlive a reset: still right */
    tcpst__jw_us(&w, INT64_C(1704067214000007));
    ck_assert_str_eq(tcpst__jw_text(&w), "1704067214.000007");
    tcpst__jw_free(&w);
}
END_TEST

START_TEST(strings_escaped_like_jansson)
{
    static const char *const vals[] = {"",
                                       "plain",
                                       "quote \" backslash \\ slash /",
                                       "\b\f\n\r\t",
                                       "\x01\x1f\x7f",
                                       "2001:db8::1",
                                       "caf\xc3\xa9 \xe2\x82\xac"};
    tcpst_jw w;
    tcpst__jw_init(&w);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        tcpst__jw_reset(&w);
        tcpst__jw_str(&w, vals[i]);
        assert_same(&w, json_string(vals[i]));
    }
    tcpst__jw_free(&w);
}
END_TEST

START_TEST(nesting_and_commas)
{
    tcpst_jw w;
    tcpst__jw_init(&w);
    tcpst__jw_obj_begin(&w);
    tcpst__jw_kint(&w, "a", 1);
    tcpst__jw_key(&w, "b");
    tcpst__jw_arr_begin(&w);
    tcpst__jw_arr_end(&w);
    tcpst__jw_key(&w, "c");
    tcpst__jw_arr_begin(&w);
    tcpst__jw_null(&w);
    tcpst__jw_bool(&w, true);
    tcpst__jw_obj_begin(&w);
    tcpst__jw_obj_end(&w);
    tcpst__jw_obj_begin(&w);
    tcpst__jw_kbool(&w, "x", false);
    tcpst__jw_kreal(&w, "y", 2.0);
    tcpst__jw_obj_end(&w);
    tcpst__jw_arr_end(&w);
    tcpst__jw_kstr(&w, "d", "e");
    tcpst__jw_knull(&w, "f");
    tcpst__jw_obj_end(&w);
    assert_same(&w, json_pack("{s:i, s:[], s:[n, b, {}, {s:b, s:f}], s:s, s:n}", "a", 1, "b", "c",
                              1, "x", 0, "y", 2.0, "d", "e", "f"));
    ck_assert_uint_eq(w.depth, 0);

    /* reset keeps the buffer and starts a fresh document */
    char *buf = w.buf;
    tcpst__jw_reset(&w);
    ck_assert_str_eq(tcpst__jw_text(&w), "");
    tcpst__jw_arr_begin(&w);
    tcpst__jw_uint(&w, 1);
    tcpst__jw_raw(&w, "{\"k\":2}", 7);
    tcpst__jw_arr_end(&w);
    ck_assert_str_eq(tcpst__jw_text(&w), "[1,{\"k\":2}]");
    ck_assert_ptr_eq(w.buf, buf);

    /* JSON lines: each value on its own line, no comma between them */
    tcpst__jw_reset(&w);
    tcpst__jw_next_line(&w);
    tcpst__jw_obj_begin(&w);
    tcpst__jw_kint(&w, "a", 1);
    tcpst__jw_obj_end(&w);
    tcpst__jw_next_line(&w);
    tcpst__jw_obj_begin(&w);
    tcpst__jw_kint(&w, "a", 2);
    tcpst__jw_obj_end(&w);
    ck_assert_str_eq(tcpst__jw_text(&w), "{\"a\":1}\n{\"a\":2}");
    tcpst__jw_free(&w);
}
END_TEST

START_TEST(grows_and_bounds_depth)
{
    tcpst_jw w;
    tcpst__jw_init(&w);
    ck_assert_str_eq(tcpst__jw_text(&w), "");
    tcpst__jw_arr_begin(&w);
    for (int i = 0; i < 20000; i++) {
        tcpst__jw_str(&w, "0123456789");
    }
    tcpst__jw_arr_end(&w);
    ck_assert_int_eq(w.err, 0);
    ck_assert_uint_eq(w.len, strlen(tcpst__jw_text(&w)));
    ck_assert_uint_eq(w.len, 2 + 20000 * 12 + 19999);

    /* Deeper than the limit: an error, not an overflow of has_member[]. */
    tcpst__jw_reset(&w);
    for (int i = 0; i < TCPST_JW_MAX_DEPTH + 5; i++) {
        tcpst__jw_arr_begin(&w);
    }
    ck_assert_int_eq(w.err, EOVERFLOW);
    ck_assert_str_eq(tcpst__jw_text(&w), "");
    tcpst__jw_reset(&w);
    ck_assert_int_eq(w.err, 0);
    tcpst__jw_free(&w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jsonw");
    TCase *t = tcase_create("writer");
    tcase_add_test(t, reals_match_jansson);
    tcase_add_test(t, microseconds_exact);
    tcase_add_test(t, integers_match_jansson);
    tcase_add_test(t, microseconds_share_seconds);
    tcase_add_test(t, strings_escaped_like_jansson);
    tcase_add_test(t, nesting_and_commas);
    tcase_add_test(t, grows_and_bounds_depth);
    suite_add_tcase(s, t);
    return ckrun(s);
}
