/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_tcpopt.c - unit tests for tcpopt.c (TCP option walk).
 *
 * One table of option areas with the expected record: every option kind we
 * decode, its malformed variants (length 0 and 1, overrun, wrong lengths, WS
 * above 14, duplicates), both Fast Open encodings, unknown kinds and EOL.
 * Each input is copied into a heap block of exactly its length so that an
 * over-read shows up under AddressSanitizer.
 */
#include <check.h>

#include "ckrun.h"
#include <stdlib.h>
#include <string.h>

#include "pktbuild.h"
#include "tcpstate/tcpopt.h"

typedef struct opt_case {
    const char *name;
    uint8_t bytes[40];
    size_t len;
    int ret;
    uint16_t present;
    uint16_t malformed;
    uint16_t mss;
    uint8_t wscale;
    uint8_t sack_count;
    uint8_t tfo_len;
    uint8_t unknown;
    uint32_t tsval, tsecr;
} opt_case;

#define MSS1460 2, 4, 0x05, 0xB4
#define TS12    8, 10, 0, 0, 0, 1, 0, 0, 0, 2
#define MAGIC   0xF9, 0x89
#define C8      1, 2, 3, 4, 5, 6, 7, 8

static const opt_case cases[] = {
    {.name = "empty", .len = 0},
    {.name = "nops and eol", .bytes = {1, 1, 1, 0}, .len = 4},
    {.name = "mss", .bytes = {MSS1460}, .len = 4, .ret = 1, .present = TCPST_HAS_MSS, .mss = 1460},
    {.name = "wscale 7",
     .bytes = {3, 3, 7},
     .len = 3,
     .ret = 1,
     .present = TCPST_HAS_WSCALE,
     .wscale = 7},
    {.name = "wscale 14",
     .bytes = {3, 3, 14},
     .len = 3,
     .ret = 1,
     .present = TCPST_HAS_WSCALE,
     .wscale = 14},
    {.name = "wscale 15",
     .bytes = {3, 3, 15},
     .len = 3,
     .ret = 1,
     .present = TCPST_HAS_WSCALE,
     .malformed = TCPST_OPTBAD_WS_RANGE,
     .wscale = 15},
    {.name = "wscale 255",
     .bytes = {3, 3, 255},
     .len = 3,
     .ret = 1,
     .present = TCPST_HAS_WSCALE,
     .malformed = TCPST_OPTBAD_WS_RANGE,
     .wscale = 255},
    {.name = "sack-perm", .bytes = {4, 2}, .len = 2, .ret = 1, .present = TCPST_HAS_SACK_PERM},
    {.name = "timestamps",
     .bytes = {TS12},
     .len = 10,
     .ret = 1,
     .present = TCPST_HAS_TS,
     .tsval = 1,
     .tsecr = 2},
    {.name = "linux syn",
     .bytes = {MSS1460, 4, 2, 8, 10, 0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 0, 1, 3, 3, 7},
     .len = 20,
     .ret = 4,
     .present = TCPST_HAS_MSS | TCPST_HAS_SACK_PERM | TCPST_HAS_TS | TCPST_HAS_WSCALE,
     .mss = 1460,
     .wscale = 7,
     .tsval = 0xDEADBEEF},
    {.name = "sack 1 block",
     .bytes = {5, 10, 0, 0, 0, 10, 0, 0, 0, 20},
     .len = 10,
     .ret = 1,
     .present = TCPST_HAS_SACK,
     .sack_count = 1},
    {.name = "sack 4 blocks",
     .bytes = {5, 34},
     .len = 34,
     .ret = 1,
     .present = TCPST_HAS_SACK,
     .sack_count = 4},
    {.name = "sack 0 blocks",
     .bytes = {5, 2},
     .len = 2,
     .ret = 1,
     .malformed = TCPST_OPTBAD_SACK_LEN},
    {.name = "sack len 11",
     .bytes = {5, 11},
     .len = 11,
     .ret = 1,
     .malformed = TCPST_OPTBAD_SACK_LEN},
    {.name = "sack 5 blocks overrun",
     .bytes = {5, 42},
     .len = 40,
     .malformed = TCPST_OPTBAD_OVERRUN},
    {.name = "tfo cookie request", .bytes = {34, 2}, .len = 2, .ret = 1, .present = TCPST_HAS_TFO},
    {.name = "tfo cookie 8",
     .bytes = {34, 10, C8},
     .len = 10,
     .ret = 1,
     .present = TCPST_HAS_TFO,
     .tfo_len = 8},
    {.name = "tfo cookie 4",
     .bytes = {34, 6, 1, 2, 3, 4},
     .len = 6,
     .ret = 1,
     .present = TCPST_HAS_TFO,
     .tfo_len = 4},
    {.name = "tfo cookie 16",
     .bytes = {34, 18},
     .len = 18,
     .ret = 1,
     .present = TCPST_HAS_TFO,
     .tfo_len = 16},
    {.name = "tfo cookie 1",
     .bytes = {34, 3, 1},
     .len = 3,
     .ret = 1,
     .malformed = TCPST_OPTBAD_TFO_LEN},
    {.name = "tfo cookie 17",
     .bytes = {34, 19},
     .len = 19,
     .ret = 1,
     .malformed = TCPST_OPTBAD_TFO_LEN},
    {.name = "tfo exp 254 cookie 8",
     .bytes = {254, 12, MAGIC, C8},
     .len = 12,
     .ret = 1,
     .present = TCPST_HAS_TFO,
     .tfo_len = 8},
    {.name = "tfo exp 254 request",
     .bytes = {254, 4, MAGIC},
     .len = 4,
     .ret = 1,
     .present = TCPST_HAS_TFO},
    {.name = "tfo exp 253 cookie 4",
     .bytes = {253, 8, MAGIC, 1, 2, 3, 4},
     .len = 8,
     .ret = 1,
     .present = TCPST_HAS_TFO,
     .tfo_len = 4},
    {.name = "tfo exp bad cookie",
     .bytes = {254, 6, MAGIC, 1, 2},
     .len = 6,
     .ret = 1,
     .malformed = TCPST_OPTBAD_TFO_LEN},
    {.name = "exp 254 other exid", .bytes = {254, 4, 0x12, 0x34}, .len = 4, .ret = 1, .unknown = 1},
    {.name = "exp 254 no exid", .bytes = {254, 2}, .len = 2, .ret = 1, .unknown = 1},
    {.name = "md5", .bytes = {19, 18}, .len = 18, .ret = 1, .present = TCPST_HAS_MD5},
    {.name = "ao", .bytes = {29, 16, 1, 1}, .len = 16, .ret = 1, .present = TCPST_HAS_AO},
    {.name = "mptcp", .bytes = {30, 4, 0x01, 0x81}, .len = 4, .ret = 1, .present = TCPST_HAS_MPTCP},
    {.name = "unknown kinds",
     .bytes = {76, 2, 1, 200, 4, 0, 0, 6, 3, 0},
     .len = 10,
     .ret = 3,
     .unknown = 3},
    {.name = "unknown then mss",
     .bytes = {99, 3, 0, MSS1460},
     .len = 7,
     .ret = 2,
     .present = TCPST_HAS_MSS,
     .mss = 1460,
     .unknown = 1},
    /* Undelimited: the walk stops. */
    {.name = "len 0", .bytes = {2, 0, MSS1460}, .len = 6, .malformed = TCPST_OPTBAD_LEN_SHORT},
    {.name = "len 1", .bytes = {3, 1, 3, 3, 7}, .len = 5, .malformed = TCPST_OPTBAD_LEN_SHORT},
    {.name = "unknown len 0", .bytes = {200, 0}, .len = 2, .malformed = TCPST_OPTBAD_LEN_SHORT},
    {.name = "overrun", .bytes = {2, 4, 0x05}, .len = 3, .malformed = TCPST_OPTBAD_OVERRUN},
    {.name = "ts overrun", .bytes = {1, TS12}, .len = 8, .malformed = TCPST_OPTBAD_OVERRUN},
    {.name = "no length byte",
     .bytes = {MSS1460, 1, 1, 1, 8},
     .len = 8,
     .ret = 1,
     .present = TCPST_HAS_MSS,
     .malformed = TCPST_OPTBAD_OVERRUN,
     .mss = 1460},
    {.name = "stop after len 0",
     .bytes = {3, 3, 7, 8, 0, TS12},
     .len = 15,
     .ret = 1,
     .present = TCPST_HAS_WSCALE,
     .malformed = TCPST_OPTBAD_LEN_SHORT,
     .wscale = 7},
    /* Wrong lengths of known kinds: flagged, not present, the walk goes on. */
    {.name = "mss len 3",
     .bytes = {2, 3, 5, 4, 2},
     .len = 5,
     .ret = 2,
     .present = TCPST_HAS_SACK_PERM,
     .malformed = TCPST_OPTBAD_MSS_LEN},
    {.name = "mss len 6",
     .bytes = {2, 6, 5, 0xB4, 0, 0},
     .len = 6,
     .ret = 1,
     .malformed = TCPST_OPTBAD_MSS_LEN},
    {.name = "ws len 4",
     .bytes = {3, 4, 7, 0, MSS1460},
     .len = 8,
     .ret = 2,
     .present = TCPST_HAS_MSS,
     .malformed = TCPST_OPTBAD_WS_LEN,
     .mss = 1460},
    {.name = "ws len 2", .bytes = {3, 2}, .len = 2, .ret = 1, .malformed = TCPST_OPTBAD_WS_LEN},
    {.name = "sackp len 3",
     .bytes = {4, 3, 0},
     .len = 3,
     .ret = 1,
     .malformed = TCPST_OPTBAD_SACKP_LEN},
    {.name = "ts len 8",
     .bytes = {8, 8, 0, 0, 0, 1, 0, 0},
     .len = 8,
     .ret = 1,
     .malformed = TCPST_OPTBAD_TS_LEN},
    {.name = "ts len 12", .bytes = {8, 12}, .len = 12, .ret = 1, .malformed = TCPST_OPTBAD_TS_LEN},
    /* Duplicates of single-use options: flagged, first value kept. */
    {.name = "dup mss",
     .bytes = {MSS1460, 2, 4, 0, 100},
     .len = 8,
     .ret = 2,
     .present = TCPST_HAS_MSS,
     .malformed = TCPST_OPTBAD_DUPLICATE,
     .mss = 1460},
    {.name = "dup ws",
     .bytes = {3, 3, 2, 3, 3, 9},
     .len = 6,
     .ret = 2,
     .present = TCPST_HAS_WSCALE,
     .malformed = TCPST_OPTBAD_DUPLICATE,
     .wscale = 2},
    {.name = "dup sackp",
     .bytes = {4, 2, 4, 2},
     .len = 4,
     .ret = 2,
     .present = TCPST_HAS_SACK_PERM,
     .malformed = TCPST_OPTBAD_DUPLICATE},
    {.name = "dup ts",
     .bytes = {TS12, 8, 10, 0, 0, 0, 9, 0, 0, 0, 9},
     .len = 20,
     .ret = 2,
     .present = TCPST_HAS_TS,
     .malformed = TCPST_OPTBAD_DUPLICATE,
     .tsval = 1,
     .tsecr = 2},
    {.name = "dup ws out of range",
     .bytes = {3, 3, 20, 3, 3, 1},
     .len = 6,
     .ret = 2,
     .present = TCPST_HAS_WSCALE,
     .malformed = TCPST_OPTBAD_WS_RANGE | TCPST_OPTBAD_DUPLICATE,
     .wscale = 20},
    /* EOL ends the walk; whatever follows is padding. */
    {.name = "eol first", .bytes = {0, MSS1460}, .len = 5},
    {.name = "eol after mss",
     .bytes = {MSS1460, 0, 3, 3, 7},
     .len = 8,
     .ret = 1,
     .present = TCPST_HAS_MSS,
     .mss = 1460},
    {.name = "eol hides garbage",
     .bytes = {4, 2, 0, 2, 0, 9},
     .len = 6,
     .ret = 1,
     .present = TCPST_HAS_SACK_PERM},
};

START_TEST(test_table)
{
    const opt_case *c = &cases[_i];
    uint8_t *buf = malloc(c->len ? c->len : 1);
    tcpst_tcpopts o;
    int ret;

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, c->bytes, c->len);
    memset(&o, 0xA5, sizeof o); /* the parser must clear it */
    ret = tcpst_tcpopt_parse(buf, c->len, &o);
    free(buf);

    ck_assert_msg(ret == c->ret, "%s: returned %d, want %d", c->name, ret, c->ret);
    ck_assert_msg(o.present == c->present, "%s: present 0x%x, want 0x%x", c->name, o.present,
                  c->present);
    ck_assert_msg(o.malformed == c->malformed, "%s: malformed 0x%x, want 0x%x", c->name,
                  o.malformed, c->malformed);
    ck_assert_msg(o.mss == c->mss, "%s: mss %u", c->name, o.mss);
    ck_assert_msg(o.wscale == c->wscale, "%s: wscale %u", c->name, o.wscale);
    ck_assert_msg(o.sack_count == c->sack_count, "%s: sack_count %u", c->name, o.sack_count);
    ck_assert_msg(o.tfo_cookie_len == c->tfo_len, "%s: tfo len %u", c->name, o.tfo_cookie_len);
    ck_assert_msg(o.unknown == c->unknown, "%s: unknown %u", c->name, o.unknown);
    ck_assert_msg(o.tsval == c->tsval && o.tsecr == c->tsecr, "%s: ts %u/%u", c->name, o.tsval,
                  o.tsecr);
}
END_TEST

START_TEST(test_sack_edges)
{
    static const uint32_t e1[] = {1000, 2000, 0xFFFFFF00u, 0x10};
    static const uint32_t e2[] = {5, 6, 7, 8};
    uint8_t b[40];
    size_t n = 0;
    tcpst_tcpopts o;

    n += pb_opt_sack(b + n, e1, 2);
    n += pb_opt_sack(b + n, e2, 2); /* a second SACK option appends */
    ck_assert_uint_eq(n, 36);
    ck_assert_int_eq(tcpst_tcpopt_parse(b, n, &o), 2);
    ck_assert_uint_eq(o.malformed, 0);
    ck_assert_uint_eq(o.present, TCPST_HAS_SACK);
    ck_assert_uint_eq(o.sack_count, 4);
    ck_assert_uint_eq(o.sack[0][0], 1000);
    ck_assert_uint_eq(o.sack[0][1], 2000);
    ck_assert_uint_eq(o.sack[1][0], 0xFFFFFF00u);
    ck_assert_uint_eq(o.sack[1][1], 0x10);
    ck_assert_uint_eq(o.sack[2][0], 5);
    ck_assert_uint_eq(o.sack[3][1], 8);
}
END_TEST

START_TEST(test_sack_overflow_kept_at_four)
{
    static const uint32_t e[] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t b[64];
    size_t n = 0;
    tcpst_tcpopts o;

    /* Longer than a TCP header allows, but the parser takes any length. */
    n += pb_opt_sack(b + n, e, 4);
    n += pb_opt_sack(b + n, e, 1);
    ck_assert_int_eq(tcpst_tcpopt_parse(b, n, &o), 2);
    ck_assert_uint_eq(o.sack_count, 4);
    ck_assert_uint_eq(o.sack[3][0], 7);
    ck_assert_uint_eq(o.malformed, 0);
}
END_TEST

START_TEST(test_builders_roundtrip)
{
    static const uint8_t cookie[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    uint8_t b[40];
    size_t n;
    tcpst_tcpopts o;

    n = pb_opt_syn(b, 1400, 9, 77, 88);
    ck_assert_uint_eq(n, 20);
    ck_assert_int_eq(tcpst_tcpopt_parse(b, n, &o), 4);
    ck_assert_uint_eq(o.mss, 1400);
    ck_assert_uint_eq(o.wscale, 9);
    ck_assert_uint_eq(o.tsval, 77);
    ck_assert_uint_eq(o.tsecr, 88);
    ck_assert_uint_eq(o.malformed, 0);

    n = pb_opt_tfo(b, cookie, 8);
    n += pb_opt_nop(b + n);
    n += pb_opt_eol(b + n);
    ck_assert_int_eq(tcpst_tcpopt_parse(b, n, &o), 1);
    ck_assert_uint_eq(o.present, TCPST_HAS_TFO);
    ck_assert_uint_eq(o.tfo_cookie_len, 8);

    n = pb_opt_tfo_exp(b, cookie, 6);
    ck_assert_int_eq(tcpst_tcpopt_parse(b, n, &o), 1);
    ck_assert_uint_eq(o.present, TCPST_HAS_TFO);
    ck_assert_uint_eq(o.tfo_cookie_len, 6);

    n = pb_opt_raw(b, TCPST_OPT_MSS, 0, NULL, 0);
    ck_assert_int_eq(tcpst_tcpopt_parse(b, n, &o), 0);
    ck_assert_uint_eq(o.malformed, TCPST_OPTBAD_LEN_SHORT);
}
END_TEST

START_TEST(test_unknown_saturates)
{
    uint8_t b[600];
    tcpst_tcpopts o;

    for (size_t i = 0; i < sizeof b; i += 2) {
        b[i] = 200;
        b[i + 1] = 2;
    }
    ck_assert_int_eq(tcpst_tcpopt_parse(b, sizeof b, &o), 300);
    ck_assert_uint_eq(o.unknown, 255);
    ck_assert_uint_eq(o.malformed, 0);
}
END_TEST

START_TEST(test_null_and_bounds)
{
    uint8_t b[8] = {MSS1460, 3, 3, 7, 0};
    tcpst_tcpopts o;

    ck_assert_int_eq(tcpst_tcpopt_parse(NULL, 0, &o), 0);
    ck_assert_uint_eq(o.present, 0);
    /* Only the first 4 bytes belong to the header: WS after them is not seen. */
    ck_assert_int_eq(tcpst_tcpopt_parse(b, 4, &o), 1);
    ck_assert_uint_eq(o.present, TCPST_HAS_MSS);
    /* Every prefix of a valid area: never more than what fits, never a crash. */
    for (size_t len = 0; len <= sizeof b; len++) {
        uint8_t *p = malloc(len ? len : 1);
        ck_assert_ptr_nonnull(p);
        memcpy(p, b, len);
        tcpst_tcpopt_parse(p, len, &o);
        free(p);
        ck_assert_msg(len >= 4 || !(o.present & TCPST_HAS_MSS), "len %zu", len);
        ck_assert_msg(len >= 7 || !(o.present & TCPST_HAS_WSCALE), "len %zu", len);
        ck_assert_msg(len == 0 || len >= 4 || o.malformed == TCPST_OPTBAD_OVERRUN, "len %zu", len);
    }
}
END_TEST

static Suite *tcpopt_suite(void)
{
    Suite *s = suite_create("tcpopt");
    TCase *tc = tcase_create("table");

    tcase_add_loop_test(tc, test_table, 0, (int)(sizeof cases / sizeof cases[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("misc");
    tcase_add_test(tc, test_sack_edges);
    tcase_add_test(tc, test_sack_overflow_kept_at_four);
    tcase_add_test(tc, test_builders_roundtrip);
    tcase_add_test(tc, test_unknown_saturates);
    tcase_add_test(tc, test_null_and_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(tcpopt_suite());
}
