/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_pack.c - zero-word elision: round trips, packed sizes, the room it needs, and
 * malformed input refused.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ckrun.h"
#include "report/pack.h"

#define MAXB 4096

static uint64_t rng = 88172645463325252u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A record of n bytes where about `pct` percent of the words are non-zero; some of those
 * have a single non-zero byte, anywhere in the word. */
static void fill(unsigned char *b, size_t n, unsigned pct)
{
    memset(b, 0, n);
    for (size_t i = 0; i < n / 8; i++) {
        if (next() % 100 < pct) {
            if (next() % 2) {
                b[i * 8 + next() % 8] = (unsigned char)(1 + next() % 255);
            } else {
                uint64_t w = next() | 1;
                memcpy(b + i * 8, &w, 8);
            }
        }
    }
}

static size_t nonzero_words(const unsigned char *b, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n / 8; i++) {
        uint64_t w;
        memcpy(&w, b + i * 8, 8);
        k += w != 0;
    }
    return k;
}

START_TEST(round_trip)
{
    static const size_t sizes[] = {8, 16, 504, 512, 520, 1024, 3032, MAXB};
    static const unsigned pcts[] = {0, 1, 10, 50, 90, 100};
    static unsigned char rec[MAXB], packed[MAXB + 64 + 8], back[MAXB];
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (size_t p = 0; p < sizeof pcts / sizeof *pcts; p++) {
            for (int rep = 0; rep < 20; rep++) {
                size_t n = sizes[s];
                fill(rec, n, pcts[p]);
                size_t bound = tcpst__pack_bound(n);
                ck_assert_uint_le(bound, sizeof packed - 8);
                /* A canary right after the bound: the packer must stay within it. */
                memset(packed, 0xA5, sizeof packed);
                size_t len = tcpst__pack(rec, n, packed + 1); /* unaligned on purpose */
                size_t past = 1 + bound;
                while (past < sizeof packed && packed[past] == 0xA5) {
                    past++;
                }
                ck_assert_uint_eq(past, sizeof packed);
                size_t nmap = (n / 8 + 63) / 64;
                ck_assert_uint_eq(len, nmap * 8 + nonzero_words(rec, n) * 8);
                memset(back, 0x5A, sizeof back);
                ck_assert(tcpst__unpack(packed + 1, len, back, n));
                ck_assert_mem_eq(back, rec, n);
            }
        }
    }
}
END_TEST

START_TEST(zero_record_is_its_bitmap)
{
    static unsigned char rec[3032], packed[4096], back[3032];
    memset(rec, 0, sizeof rec);
    size_t len = tcpst__pack(rec, sizeof rec, packed);
    ck_assert_uint_eq(len, 6 * 8); /* 379 words: 6 bitmap words, nothing else */
    memset(back, 0xFF, sizeof back);
    ck_assert(tcpst__unpack(packed, len, back, sizeof back));
    ck_assert_mem_eq(back, rec, sizeof rec);
}
END_TEST

START_TEST(malformed_refused)
{
    static unsigned char rec[520], packed[1024], back[520];
    fill(rec, sizeof rec, 50);
    size_t len = tcpst__pack(rec, sizeof rec, packed);
    ck_assert(tcpst__unpack(packed, len, back, sizeof back));
    /* One byte short or long, or a different record size. */
    ck_assert(!tcpst__unpack(packed, len - 1, back, sizeof back));
    ck_assert(!tcpst__unpack(packed, len + 1, back, sizeof back));
    ck_assert(!tcpst__unpack(packed, len, back, sizeof back - 8));
    ck_assert(!tcpst__unpack(packed, 4, back, sizeof back));       /* shorter than the bitmap */
    ck_assert(!tcpst__unpack(packed, len, back, sizeof back - 3)); /* not whole words */
    /* A bitmap bit past the record's 65 words, with a word to match it. */
    uint64_t map1;
    memcpy(&map1, packed + 8, 8);
    map1 |= (uint64_t)1 << 5;
    memcpy(packed + 8, &map1, 8);
    ck_assert(!tcpst__unpack(packed, len + 8, back, sizeof back));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pack");
    TCase *t = tcase_create("pack");
    tcase_add_test(t, round_trip);
    tcase_add_test(t, zero_record_is_its_bitmap);
    tcase_add_test(t, malformed_refused);
    suite_add_tcase(s, t);
    return ckrun(s);
}
