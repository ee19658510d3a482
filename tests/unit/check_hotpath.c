/*
 * check_hotpath.c - the per-packet path allocates nothing.
 *
 * This binary is linked with --wrap for malloc/calloc/realloc, so every call
 * made by tcpstate's own code (the static library) goes through the counters
 * below.  Thousands of frames of complete connections - handshakes, data,
 * retransmissions, closes, resets, port reuse, expiry and eviction - are fed
 * through tcpst_engine_packet() and the count must not move.
 */
#include <check.h>

#include "ckrun.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktbuild.h"
#include "tcpstate/engine.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static unsigned long allocs;

void *__wrap_malloc(size_t n)
{
    allocs++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    allocs++;
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocs++;
    return __real_realloc(p, n);
}

#define MAXF 16000
static uint8_t frames[MAXF][192];
static size_t lens[MAXF];
static int nframes;

static void add(int v6, int c2s, uint16_t cport, uint16_t flags, uint32_t seq, uint32_t ack,
                uint32_t len)
{
    pb_seg s;
    memset(&s, 0, sizeof s);
    const char *a = v6 ? "2001:db8::1" : "198.18.0.1";
    const char *b = v6 ? "2001:db8::2" : "198.18.0.2";
    s.src = c2s ? a : b;
    s.dst = c2s ? b : a;
    s.sport = c2s ? cport : 443;
    s.dport = c2s ? 443 : cport;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.win = 1000;
    s.payload_len = len;
    ck_assert_int_lt(nframes, MAXF);
    lens[nframes] = pb_build(frames[nframes], sizeof frames[0], TCPST_LT_ETHERNET, &s);
    ck_assert_uint_gt(lens[nframes], 0);
    nframes++;
}

static void build_traffic(void)
{
    nframes = 0;
    for (uint16_t i = 0; i < 1200; i++) {
        int v6 = i % 3 == 0;
        uint16_t p = (uint16_t)(20000 + i % 700); /* ports repeat: reuse splits */
        uint32_t c = 1000u * i, s = 7777u * i;
        add(v6, 1, p, TCPST_SYN, c, 0, 0);
        add(v6, 0, p, TCPST_SYN | TCPST_ACK, s, c + 1, 0);
        add(v6, 1, p, TCPST_ACK, c + 1, s + 1, 0);
        add(v6, 1, p, TCPST_ACK | TCPST_PSH, c + 1, s + 1, 40);
        add(v6, 1, p, TCPST_ACK | TCPST_PSH, c + 1, s + 1, 40); /* retransmission */
        add(v6, 0, p, TCPST_ACK | TCPST_PSH, s + 1, c + 41, 60);
        if (i % 5 == 0) {
            add(v6, 1, p, TCPST_RST | TCPST_ACK, c + 41, s + 61, 0);
            continue;
        }
        add(v6, 1, p, TCPST_FIN | TCPST_ACK, c + 41, s + 61, 0);
        if (i % 7 != 0) { /* some servers never close */
            add(v6, 0, p, TCPST_FIN | TCPST_ACK, s + 61, c + 42, 0);
            add(v6, 1, p, TCPST_ACK, c + 42, s + 62, 0);
        }
    }
}

static unsigned long emitted;

static void count_emit(void *ctx, const tcpst_conn *c)
{
    (void)ctx;
    (void)c;
    emitted++;
}

START_TEST(no_malloc_per_packet)
{
    build_traffic();
    tcpst_engine_config cfg;
    tcpst_engine_config_default(&cfg);
    cfg.max_connections = 500; /* small: eviction runs too */
    cfg.timeout[TCPST_LRU_CLOSED] = TCPST_NS_PER_SEC / 100;
    tcpst_engine e;
    ck_assert_int_eq(tcpst_engine_init(&e, &cfg, count_emit, NULL, NULL), 0);
    allocs = 0;
    for (int i = 0; i < nframes; i++) {
        tcpst_engine_packet(&e, TCPST_LT_ETHERNET, frames[i], (uint32_t)lens[i], (uint32_t)lens[i],
                            (tcpst_time)i * 1000000, (uint64_t)i + 1);
    }
    ck_assert_msg(allocs == 0, "%lu allocations while feeding %d frames", allocs, nframes);
    ck_assert_uint_eq(e.stats.tcp, (uint64_t)nframes);
    ck_assert_uint_gt(e.stats.evicted + e.stats.closed, 0);
    ck_assert_uint_gt(e.stats.reused, 0);
    ck_assert_uint_gt(emitted, 0);
    tcpst_engine_finish(&e);
    ck_assert_uint_eq(emitted, e.stats.connections);
    tcpst_engine_fini(&e);
}
END_TEST

START_TEST(wrapper_counts)
{
    /* The wrapper must see calls, or the test above would pass vacuously. */
    allocs = 0;
    tcpst_engine e;
    tcpst_engine_config cfg;
    tcpst_engine_config_default(&cfg);
    cfg.max_connections = 8;
    ck_assert_int_eq(tcpst_engine_init(&e, &cfg, NULL, NULL, NULL), 0);
    ck_assert_uint_ge(allocs, 2);
    tcpst_engine_fini(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hotpath");
    TCase *t = tcase_create("alloc");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, wrapper_counts);
    tcase_add_test(t, no_malloc_per_packet);
    suite_add_tcase(s, t);
    return ckrun(s);
}
