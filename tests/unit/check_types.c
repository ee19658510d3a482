/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_types.c - unit tests for types.c: address text, address order, flag text,
 * and the array-growing helper.
 *
 * Tables of inputs with the expected output; each failure message echoes the
 * input.  Does not test time helpers (types.h has none with behaviour).
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ckrun.h"
#include "tcpstate/types.h"

static tcpst_addr addr_from(const char *txt)
{
    tcpst_addr a;

    memset(&a, 0, sizeof a);
    if (inet_pton(AF_INET, txt, a.bytes) == 1) {
        a.family = 4;
    } else if (inet_pton(AF_INET6, txt, a.bytes) == 1) {
        a.family = 6;
    }
    return a;
}

static const struct {
    const char *in;
    const char *out;
} addr_cases[] = {
    {"192.0.2.1", "192.0.2.1"},
    {"0.0.0.0", "0.0.0.0"},
    {"255.255.255.255", "255.255.255.255"},
    {"2001:db8::1", "2001:db8::1"},
    {"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"}, /* RFC 5952 4.1, 4.2, 4.3 */
    {"2001:DB8::ABCD", "2001:db8::abcd"},                       /* lower case, 4.3 */
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},              /* first of equal runs, 4.2.3 */
    {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},                    /* longest run, 4.2.3 */
    {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},           /* single 0 kept, 4.2.2 */
    {"::", "::"},
    {"::1", "::1"},
    {"fe80::1:2", "fe80::1:2"},
    {"::ffff:1.2.3.4", "::ffff:1.2.3.4"}, /* v4-mapped stays mixed, as inet_ntop does */
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
};

START_TEST(test_addr_format_table)
{
    char out[TCPST_ADDR_STRLEN];
    tcpst_addr a = addr_from(addr_cases[_i].in);

    ck_assert_msg(a.family != 0, "test input %s did not parse", addr_cases[_i].in);
    tcpst_addr_format(&a, out);
    ck_assert_msg(strcmp(out, addr_cases[_i].out) == 0, "%s: got %s, want %s", addr_cases[_i].in,
                  out, addr_cases[_i].out);
}
END_TEST

START_TEST(test_addr_format_unset)
{
    char out[TCPST_ADDR_STRLEN];
    tcpst_addr a;

    memset(&a, 0, sizeof a);
    memset(out, 'x', sizeof out);
    tcpst_addr_format(&a, out);
    ck_assert_str_eq(out, "-");
    a.family = 9;
    tcpst_addr_format(&a, out);
    ck_assert_str_eq(out, "-");
}
END_TEST

START_TEST(test_addrport_format)
{
    tcpst_addr a = {.family = 4};
    char out[TCPST_ADDRPORT_STRLEN];
    inet_pton(AF_INET, "198.18.0.1", a.bytes);
    tcpst_addrport_format(&a, 443, out);
    ck_assert_str_eq(out, "198.18.0.1:443");
    tcpst_addr b = {.family = 6};
    /* The longest IPv6 text plus a 5-digit port must fit, brackets and all. */
    inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", b.bytes);
    tcpst_addrport_format(&b, 65535, out);
    ck_assert_str_eq(out, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    inet_pton(AF_INET6, "2001:db8::1", b.bytes);
    tcpst_addrport_format(&b, 80, out);
    ck_assert_str_eq(out, "[2001:db8::1]:80");
}
END_TEST

START_TEST(test_addr_format_longest_fits)
{
    char out[TCPST_ADDR_STRLEN];
    tcpst_addr a = addr_from("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");

    /* inet_ntop writes this one as eight hex groups; either way it must fit. */
    tcpst_addr_format(&a, out);
    ck_assert_uint_lt(strlen(out), TCPST_ADDR_STRLEN);
    ck_assert_str_eq(out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}
END_TEST

START_TEST(test_addr_cmp)
{
    tcpst_addr a = addr_from("10.0.0.1");
    tcpst_addr b = addr_from("10.0.0.2");
    tcpst_addr c = addr_from("::1");
    tcpst_addr d = addr_from("::2");
    tcpst_addr a2 = addr_from("10.0.0.1");
    tcpst_addr hi4 = addr_from("255.255.255.255");
    tcpst_addr lo6 = addr_from("::");

    ck_assert_int_eq(tcpst_addr_cmp(&a, &a2), 0);
    ck_assert_int_eq(tcpst_addr_cmp(&a, &b), -1);
    ck_assert_int_eq(tcpst_addr_cmp(&b, &a), 1);
    ck_assert_int_eq(tcpst_addr_cmp(&c, &d), -1);
    ck_assert_int_eq(tcpst_addr_cmp(&d, &c), 1);
    /* Family first: every IPv4 address sorts before every IPv6 address. */
    ck_assert_int_eq(tcpst_addr_cmp(&hi4, &lo6), -1);
    ck_assert_int_eq(tcpst_addr_cmp(&lo6, &hi4), 1);
    /* Byte order, not host integer order: 1.0.0.0 > 0.0.0.255. */
    a = addr_from("1.0.0.0");
    b = addr_from("0.0.0.255");
    ck_assert_int_eq(tcpst_addr_cmp(&a, &b), 1);
}
END_TEST

static const struct {
    uint16_t flags;
    const char *out;
} flag_cases[] = {
    {TCPST_SYN, "S"},
    {TCPST_SYN | TCPST_ACK, "S."},
    {TCPST_FIN | TCPST_ACK, "F."},
    {TCPST_PSH | TCPST_ACK, "P."},
    {TCPST_RST, "R"},
    {TCPST_RST | TCPST_ACK, "R."},
    {TCPST_ACK, "."},
    {0, "none"},
    {TCPST_FIN, "F"},
    {TCPST_FIN | TCPST_PSH | TCPST_ACK, "FP."},
    {TCPST_SYN | TCPST_FIN, "SF"},
    {TCPST_URG | TCPST_ACK, "U."},
    {TCPST_SYN | TCPST_ECE | TCPST_CWR, "SWE"},
    {TCPST_SYN | TCPST_ACK | TCPST_ECE, "SE."},
    {TCPST_AE | TCPST_ACK, "e."},
    {TCPST_AE, "e"},
    {0x1FF, "SFPRUWEe."},
    {0xFE00, "none"}, /* bits above AE are ignored */
};

START_TEST(test_flags_format_table)
{
    char out[16];

    memset(out, 'x', sizeof out);
    tcpst_flags_format(flag_cases[_i].flags, out);
    ck_assert_msg(strcmp(out, flag_cases[_i].out) == 0, "flags 0x%03x: got %s, want %s",
                  (unsigned)flag_cases[_i].flags, out, flag_cases[_i].out);
}
END_TEST

/* inet_ntop() is the oracle: every pattern of zero and non-zero groups (with values that
 * test each hex width, and 0xffff where the mapped form looks for it), plus random
 * addresses, must come out the same, IPv6 and IPv4. */
START_TEST(test_addr_format_matches_inet_ntop)
{
    static const unsigned vals[] = {1, 0xf, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0xabc};
    uint64_t rng = 0x9E3779B97F4A7C15u;
    char want[INET6_ADDRSTRLEN], got[TCPST_ADDR_STRLEN];
    unsigned checked = 0;
    for (unsigned pattern = 0; pattern < 256; pattern++) {
        for (unsigned k = 0; k < 3 * sizeof vals / sizeof *vals; k++) {
            tcpst_addr a = {.family = 6};
            for (int g = 0; g < 8; g++) {
                if (!(pattern >> g & 1)) {
                    continue;
                }
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                unsigned v = k < sizeof vals / sizeof *vals ? vals[k]
                             : k % 2                        ? 0xffff
                                                            : (unsigned)(rng % 0xffff) + 1;
                a.bytes[2 * g] = (uint8_t)(v >> 8);
                a.bytes[2 * g + 1] = (uint8_t)v;
            }
            ck_assert_ptr_nonnull(inet_ntop(AF_INET6, a.bytes, want, sizeof want));
            tcpst_addr_format(&a, got);
            ck_assert_msg(strcmp(got, want) == 0, "got %s, inet_ntop %s", got, want);
            checked++;
        }
    }
    for (unsigned i = 0; i < 20000; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        tcpst_addr a = {.family = 4};
        /* Octets of one, two and three digits in every position. */
        a.bytes[0] = (uint8_t)rng, a.bytes[1] = (uint8_t)(rng >> 8 & 0x0f);
        a.bytes[2] = (uint8_t)(rng >> 16 & 0x7f), a.bytes[3] = (uint8_t)(i & 0xff);
        ck_assert_ptr_nonnull(inet_ntop(AF_INET, a.bytes, want, sizeof want));
        tcpst_addr_format(&a, got);
        ck_assert_msg(strcmp(got, want) == 0, "got %s, inet_ntop %s", got, want);
        checked++;
    }
    ck_assert_uint_eq(checked, 256 * 27 + 20000);
}
END_TEST

START_TEST(test_suggest)
{
    const char *names[] = {"format", "filter", "pretty", "fail-on", NULL, "stuck-after"};
    size_t n = sizeof names / sizeof names[0];
    ck_assert_str_eq(tcpst_suggest("fromat", names, n), "format");     /* a swap */
    ck_assert_str_eq(tcpst_suggest("formt", names, n), "format");      /* a deletion */
    ck_assert_str_eq(tcpst_suggest("pretyy", names, n), "pretty");     /* a replacement */
    ck_assert_str_eq(tcpst_suggest("stuck", names, n), "stuck-after"); /* a prefix */
    ck_assert_ptr_null(tcpst_suggest("f", names, n));                  /* a prefix of three */
    ck_assert_ptr_null(tcpst_suggest("colour", names, n));             /* nothing near */
    ck_assert_ptr_null(tcpst_suggest("", names, n));
    ck_assert_ptr_null(tcpst_suggest("fxxxxx", names, n)); /* too many edits */
}
END_TEST

START_TEST(test_grow)
{
    uint32_t *a = NULL;
    size_t cap = 0;
    for (size_t n = 0; n < 1000; n++) {
        ck_assert(tcpst_grow(&a, &cap, n, sizeof *a, 4));
        ck_assert_uint_gt(cap, n);
        a[n] = (uint32_t)n * 7u;
    }
    ck_assert_uint_eq(cap, 1024); /* 4, 8, ... doubled */
    for (size_t n = 0; n < 1000; n++) {
        ck_assert_uint_eq(a[n], n * 7u);
    }
    /* Room already: nothing moves. */
    uint32_t *before = a;
    ck_assert(tcpst_grow(&a, &cap, 1000, sizeof *a, 4));
    ck_assert_ptr_eq(a, before);
    ck_assert_uint_eq(cap, 1024);
    /* A size that cannot be allocated: false, the array and its capacity unchanged. */
    size_t big = SIZE_MAX / 2 + 1;
    ck_assert(!tcpst_grow(&a, &big, big, 4, 4));
    ck_assert_ptr_eq(a, before);
    ck_assert_uint_eq(big, SIZE_MAX / 2 + 1);
    free(a);
}
END_TEST

static Suite *types_suite(void)
{
    Suite *s = suite_create("types");
    TCase *tc = tcase_create("addr");

    tcase_add_loop_test(tc, test_addr_format_table, 0,
                        (int)(sizeof addr_cases / sizeof addr_cases[0]));
    tcase_add_test(tc, test_addr_format_unset);
    tcase_add_test(tc, test_suggest);
    tcase_add_test(tc, test_addr_format_longest_fits);
    tcase_add_test(tc, test_addrport_format);
    tcase_add_test(tc, test_addr_cmp);
    tcase_add_test(tc, test_addr_format_matches_inet_ntop);
    tcase_add_test(tc, test_grow);
    suite_add_tcase(s, tc);

    tc = tcase_create("flags");
    tcase_add_loop_test(tc, test_flags_format_table, 0,
                        (int)(sizeof flag_cases / sizeof flag_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(types_suite());
}
