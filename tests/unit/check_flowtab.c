/*
 * check_flowtab.c - pool, symmetric lookup and age lists of the connection table.
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

int main(void)
{
    Suite *s = suite_create("flowtab");
    TCase *t = tcase_create("table");
    tcase_add_test(t, symmetric_lookup);
    tcase_add_test(t, pool_exhaustion_and_reuse);
    tcase_add_test(t, age_lists);
    tcase_add_test(t, ipv6_and_ipv4_do_not_collide);
    tcase_add_test(t, hash_grows_past_expected);
    suite_add_tcase(s, t);
    return ckrun(s);
}
