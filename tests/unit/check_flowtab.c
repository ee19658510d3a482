/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_flowtab.c - pool, symmetric lookup and age lists of the connection table, and the
 * 4-tuple index that finds a 4-tuple under other keys.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "ckrun.h"
#include "tcpstate/flowtab.h"

static tcpst_segment seg4(const char *a, uint16_t ap, const char *b, uint16_t bp)
{
    tcpst_segment s;
    memset(&s, 0, sizeof s);
    s.src.family = s.dst.family = 4;
    inet_pton(AF_INET, a, s.src.bytes);
    inet_pton(AF_INET, b, s.dst.bytes);
    s.sport = ap;
    s.dport = bp;
    s.flags = TCPST_SYN;
    s.ip_version = 4;
    return s;
}

static tcpst_segment reverse(const tcpst_segment *s)
{
    tcpst_segment r = *s;
    r.src = s->dst;
    r.dst = s->src;
    r.sport = s->dport;
    r.dport = s->sport;
    return r;
}

START_TEST(symmetric_lookup)
{
    tcpst_flowtab ft;
    ck_assert_int_eq(tcpst_flowtab_init(&ft, 16, 0, NULL), 0);
    tcpst_segment s = seg4("198.18.0.1", 40000, "198.18.0.2", 80);
    tcpst_segment r = reverse(&s);
    ck_assert_uint_eq(tcpst_flowtab_hash(&s), tcpst_flowtab_hash(&r));
    ck_assert_ptr_null(tcpst_flowtab_lookup(&ft, &s, tcpst_flowtab_hash(&s)));
    tcpst_conn *c = tcpst_flowtab_alloc(&ft);
    tcpst_conn_init(c, 1, &s);
    tcpst_flowtab_insert(&ft, c, tcpst_flowtab_hash(&s), TCPST_LRU_HANDSHAKE);
    ck_assert_ptr_eq(tcpst_flowtab_lookup(&ft, &s, tcpst_flowtab_hash(&s)), c);
    ck_assert_ptr_eq(tcpst_flowtab_lookup(&ft, &r, tcpst_flowtab_hash(&r)), c);
    ck_assert_uint_eq(tcpst_conn_dir(c, &s), 0);
    ck_assert_uint_eq(tcpst_conn_dir(c, &r), 1);
    /* Same addresses, other port; and ports swapped between the sides: different flows. */
    tcpst_segment o = seg4("198.18.0.1", 40001, "198.18.0.2", 80);
    ck_assert_ptr_null(tcpst_flowtab_lookup(&ft, &o, tcpst_flowtab_hash(&o)));
    tcpst_segment x = seg4("198.18.0.1", 80, "198.18.0.2", 40000);
    ck_assert_ptr_null(tcpst_flowtab_lookup(&ft, &x, tcpst_flowtab_hash(&x)));
    tcpst_flowtab_remove(&ft, c);
    ck_assert_ptr_null(tcpst_flowtab_lookup(&ft, &s, tcpst_flowtab_hash(&s)));
    ck_assert_uint_eq(ft.live, 0);
    tcpst_flowtab_fini(&ft);
}
END_TEST

START_TEST(pool_exhaustion_and_reuse)
{
    tcpst_flowtab ft;
    ck_assert_int_eq(tcpst_flowtab_init(&ft, 3, 0, NULL), 0);
    tcpst_conn *c[3];
    for (int i = 0; i < 3; i++) {
        tcpst_segment s = seg4("198.18.0.1", (uint16_t)(1000 + i), "198.18.0.2", 80);
        c[i] = tcpst_flowtab_alloc(&ft);
        ck_assert_ptr_nonnull(c[i]);
        tcpst_conn_init(c[i], (uint64_t)i + 1, &s);
        tcpst_flowtab_insert(&ft, c[i], tcpst_flowtab_hash(&s), TCPST_LRU_ACTIVE);
    }
    ck_assert_ptr_null(tcpst_flowtab_alloc(&ft));
    tcpst_flowtab_remove(&ft, c[1]);
    tcpst_conn *again = tcpst_flowtab_alloc(&ft);
    ck_assert_ptr_eq(again, c[1]); /* freed slots are reused before growing */
    ck_assert_uint_eq(again->id, 0);
    ck_assert_uint_eq(ft.hwm, 3);
    tcpst_flowtab_fini(&ft);
}
END_TEST

START_TEST(age_lists)
{
    tcpst_flowtab ft;
    ck_assert_int_eq(tcpst_flowtab_init(&ft, 8, 0, NULL), 0);
    tcpst_conn *c[3];
    for (int i = 0; i < 3; i++) {
        tcpst_segment s = seg4("198.18.0.1", (uint16_t)(2000 + i), "198.18.0.9", 443);
        c[i] = tcpst_flowtab_alloc(&ft);
        tcpst_conn_init(c[i], (uint64_t)i + 1, &s);
        tcpst_flowtab_insert(&ft, c[i], tcpst_flowtab_hash(&s), TCPST_LRU_HANDSHAKE);
    }
    ck_assert_ptr_eq(tcpst_flowtab_oldest(&ft, TCPST_LRU_HANDSHAKE), c[0]);
    tcpst_flowtab_touch(&ft, c[0], TCPST_LRU_HANDSHAKE); /* most recent now */
    ck_assert_ptr_eq(tcpst_flowtab_oldest(&ft, TCPST_LRU_HANDSHAKE), c[1]);
    tcpst_flowtab_touch(&ft, c[1], TCPST_LRU_CLOSED); /* moves class */
    ck_assert_ptr_eq(tcpst_flowtab_oldest(&ft, TCPST_LRU_HANDSHAKE), c[2]);
    ck_assert_ptr_eq(tcpst_flowtab_oldest(&ft, TCPST_LRU_CLOSED), c[1]);
    ck_assert_ptr_null(tcpst_flowtab_oldest(&ft, TCPST_LRU_ACTIVE));
    tcpst_flowtab_remove(&ft, c[2]);
    ck_assert_ptr_eq(tcpst_flowtab_oldest(&ft, TCPST_LRU_HANDSHAKE), c[0]);
    tcpst_flowtab_remove(&ft, c[0]);
    ck_assert_ptr_null(tcpst_flowtab_oldest(&ft, TCPST_LRU_HANDSHAKE));
    tcpst_flowtab_fini(&ft);
}
END_TEST

START_TEST(ipv6_and_ipv4_do_not_collide)
{
    tcpst_flowtab ft;
    ck_assert_int_eq(tcpst_flowtab_init(&ft, 8, 0, NULL), 0);
    tcpst_segment s4 = seg4("0.0.0.1", 1, "0.0.0.2", 2);
    tcpst_segment s6 = s4;
    s6.src.family = s6.dst.family = 6;
    tcpst_conn *c = tcpst_flowtab_alloc(&ft);
    tcpst_conn_init(c, 1, &s4);
    tcpst_flowtab_insert(&ft, c, tcpst_flowtab_hash(&s4), TCPST_LRU_ACTIVE);
    ck_assert_ptr_null(tcpst_flowtab_lookup(&ft, &s6, tcpst_flowtab_hash(&s6)));
    tcpst_flowtab_fini(&ft);
}
END_TEST

START_TEST(hash_grows_past_expected)
{
    /* Room for 4 expected records (8 buckets); 200 live ones force doublings, after removals
     * too, and every record is still found with short chains. */
    tcpst_flowtab ft;
    ck_assert_int_eq(tcpst_flowtab_init(&ft, 256, 4, NULL), 0);
    ck_assert_uint_eq(ft.mask + 1, 8);
    tcpst_conn *c[200];
    tcpst_segment s[200];
    for (int i = 0; i < 200; i++) {
        s[i] = seg4("198.18.0.1", (uint16_t)(3000 + i), "198.18.0.7", 80);
        c[i] = tcpst_flowtab_alloc(&ft);
        tcpst_conn_init(c[i], (uint64_t)i + 1, &s[i]);
        tcpst_flowtab_insert(&ft, c[i], tcpst_flowtab_hash(&s[i]), TCPST_LRU_ACTIVE);
        if (i == 99) {
            for (int k = 0; k < 100; k += 2) {
                tcpst_flowtab_remove(&ft, c[k]);
                c[k] = NULL;
            }
        }
    }
    ck_assert_uint_eq(ft.live, 150);
    ck_assert_uint_ge(ft.mask + 1, 2u * ft.live);
    ck_assert_uint_le(ft.mask + 1, ft.max_buckets);
    uint64_t before = ft.probes;
    for (int i = 0; i < 200; i++) {
        tcpst_conn *got = tcpst_flowtab_lookup(&ft, &s[i], tcpst_flowtab_hash(&s[i]));
        ck_assert_ptr_eq(got, c[i]);
    }
    ck_assert_uint_le(ft.probes - before, 2 * 200);
    /* The age list survived the rehash: oldest first. */
    ck_assert_ptr_eq(tcpst_flowtab_oldest(&ft, TCPST_LRU_ACTIVE), c[1]);
    tcpst_flowtab_fini(&ft);
}
END_TEST

/* A record of segment s under its own key, inserted. */
static tcpst_conn *put(tcpst_flowtab *ft, const tcpst_segment *s, uint64_t id)
{
    tcpst_conn *c = tcpst_flowtab_alloc(ft);
    ck_assert_ptr_nonnull(c);
    tcpst_conn_init(c, id, s);
    tcpst_flowtab_insert(ft, c, tcpst_flowtab_hash(s), TCPST_LRU_HANDSHAKE);
    return c;
}

START_TEST(other_keys_of_a_tuple)
{
    /* The same 4-tuple under key 0, 7 and 9, and another 4-tuple under 7.  A segment misses
     * under its own key but finds the others: the key-0 record through the main hash, the
     * keyed ones through the 4-tuple index. */
    tcpst_flowtab ft;
    ck_assert_int_eq(tcpst_flowtab_init(&ft, 16, 0, NULL), 0);
    tcpst_segment s = seg4("198.18.0.1", 40000, "198.18.0.2", 80);
    tcpst_conn *plain = put(&ft, &s, 1);
    ck_assert_uint_eq(ft.tuple_live, 0); /* plain records stay out of the index */
    tcpst_segment k7 = s, k9 = s;
    k7.key_ctx = 7;
    k9.key_ctx = 9;
    tcpst_conn *c7 = put(&ft, &k7, 2);
    tcpst_conn *c9 = put(&ft, &k9, 3);
    tcpst_segment o7 = seg4("198.18.0.1", 40001, "198.18.0.2", 80);
    o7.key_ctx = 7;
    (void)put(&ft, &o7, 4);
    ck_assert_uint_eq(ft.tuple_live, 3);

    tcpst_conn *got[4];
    tcpst_segment r = reverse(&s);
    ck_assert(tcpst_flowtab_other_keys_possible(&ft, &r));
    unsigned n = tcpst_flowtab_other_keys(&ft, &r, got, 4); /* key 0: the keyed ones */
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_eq(got[0], c9); /* newest first */
    ck_assert_ptr_eq(got[1], c7);
    tcpst_segment r7 = reverse(&k7);
    n = tcpst_flowtab_other_keys(&ft, &r7, got, 4);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_eq(got[0], plain);
    ck_assert_ptr_eq(got[1], c9);
    ck_assert_uint_eq(tcpst_flowtab_other_keys(&ft, &r7, got, 1), 1); /* at most max */

    /* Removal unlinks from the index (O(1), doubly linked); plain traffic then costs one
     * comparison again. */
    tcpst_flowtab_remove(&ft, c9);
    ck_assert_uint_eq(tcpst_flowtab_other_keys(&ft, &r, got, 4), 1);
    ck_assert_ptr_eq(got[0], c7);
    tcpst_flowtab_remove(&ft, c7);
    tcpst_flowtab_remove(&ft, &ft.conns[4]);
    ck_assert_uint_eq(ft.tuple_live, 0);
    ck_assert(!tcpst_flowtab_other_keys_possible(&ft, &r));
    ck_assert_uint_eq(tcpst_flowtab_other_keys(&ft, &r, got, 4), 0);
    tcpst_flowtab_fini(&ft);
}
END_TEST

START_TEST(second_key)
{
    /* A plain record that takes key 5 enters the index, is found from a key-5 segment, and
     * leaves the index when removed; a keyed one is there already.  The main hash is not
     * touched: a lookup under the second key still misses. */
    tcpst_flowtab ft;
    ck_assert_int_eq(tcpst_flowtab_init(&ft, 16, 0, NULL), 0);
    tcpst_segment s = seg4("198.18.0.1", 40000, "198.18.0.2", 80);
    tcpst_conn *c = put(&ft, &s, 1);
    tcpst_flowtab_add_key(&ft, c, 5);
    ck_assert_uint_eq(c->key_alt, 5);
    ck_assert_uint_ne(c->joined, 0);
    ck_assert_uint_eq(ft.tuple_live, 1);
    tcpst_segment r = reverse(&s);
    r.key_ctx = 5;
    ck_assert_ptr_null(tcpst_flowtab_lookup(&ft, &r, tcpst_flowtab_hash(&r)));
    tcpst_conn *got[2];
    ck_assert_uint_eq(tcpst_flowtab_other_keys(&ft, &r, got, 2), 1); /* not listed twice */
    ck_assert_ptr_eq(got[0], c);
    tcpst_flowtab_remove(&ft, c);
    ck_assert_uint_eq(ft.tuple_live, 0);

    tcpst_segment k = s;
    k.key_ctx = 3;
    c = put(&ft, &k, 2);
    tcpst_flowtab_add_key(&ft, c, 0);
    ck_assert_uint_eq(ft.tuple_live, 1);
    tcpst_flowtab_remove(&ft, c);
    ck_assert_uint_eq(ft.tuple_live, 0);
    tcpst_flowtab_fini(&ft);
}
END_TEST

START_TEST(tuple_index_grows)
{
    /* The index is rehashed with the main buckets: keyed records inserted before and after
     * the doublings are all found. */
    tcpst_flowtab ft;
    ck_assert_int_eq(tcpst_flowtab_init(&ft, 128, 4, NULL), 0);
    tcpst_segment s[100];
    tcpst_conn *c[100];
    for (int i = 0; i < 100; i++) {
        s[i] = seg4("198.18.0.1", (uint16_t)(5000 + i), "198.18.0.3", 80);
        s[i].key_ctx = (uint32_t)(i % 3); /* a third plain */
        c[i] = put(&ft, &s[i], (uint64_t)i + 1);
    }
    ck_assert_uint_gt(ft.mask + 1, 8);
    for (int i = 0; i < 100; i++) {
        tcpst_segment r = reverse(&s[i]);
        r.key_ctx = 99;
        tcpst_conn *got[2];
        ck_assert_uint_eq(tcpst_flowtab_other_keys(&ft, &r, got, 2), 1);
        ck_assert_ptr_eq(got[0], c[i]);
    }
    tcpst_flowtab_fini(&ft);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flowtab");
    TCase *t = tcase_create("table");
    tcase_add_test(t, symmetric_lookup);
    tcase_add_test(t, pool_exhaustion_and_reuse);
    tcase_add_test(t, age_lists);
    tcase_add_test(t, ipv6_and_ipv4_do_not_collide);
    tcase_add_test(t, hash_grows_past_expected);
    tcase_add_test(t, other_keys_of_a_tuple);
    tcase_add_test(t, second_key);
    tcase_add_test(t, tuple_index_grows);
    suite_add_tcase(s, t);
    return ckrun(s);
}
