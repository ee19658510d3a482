/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen.c - tcpstate-gen: write a synthetic, deterministic TCP capture for benchmarks and soak tests.
 *
 * The capture is a nanosecond pcap (LINKTYPE_ETHERNET) seen from a capture point next to the
 * servers.  Connections run concurrently and interleave: every connection plans its next few
 * packets (one handshake, one flight of data and its ACKs, one close) into a small batch, and a
 * binary heap keyed by (time, push order) picks the connection whose next packet is earliest.
 * A "spawner" entry in the same heap starts new connections, at most --concurrency of them in
 * their active phase at once.  Long idle tails (SYN retries, a stuck CLOSE_WAIT waiting for its
 * keep-alive) are detached: they stay in the heap but no longer count against the cap.
 *
 * Everything comes from one xoshiro256** stream seeded with splitmix64, consumed in heap order,
 * and only IEEE +, *, / are used on doubles (no libm), so the same arguments give a
 * byte-identical file.
 *
 * Injected conditions, per connection unless said otherwise: unanswered SYN with retries after
 * 1, 2 and 4 s (2%), RST from either side after the data (3%), stuck CLOSE_WAIT: the client's
 * FIN is acknowledged but the server never sends its own, a keep-alive 45-75 s later (1%),
 * a zero-window episode with 1-3 probes in the first response (0.5%), and tail-loss
 * retransmissions after an RTO (about 1% of data segments).  The 4-tuples are unique by
 * construction (a bijection from the connection number), so nothing else is injected by
 * accident.  The counts go to stderr as key=value pairs.
 *
 * Not done: reordering, capture loss, SACK blocks, fast retransmit, IP options or fragments.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS_US ((int64_t)1000)
#define NS_MS ((int64_t)1000000)
#define NS_S  ((int64_t)1000000000)

#define EPOCH_START ((int64_t)1704067200) /* 2024-01-01T00:00:00Z */

#define CLIENT 0
#define SERVER 1

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

#define WSCALE          7
#define WIN_CLIENT      502u /* x 128 = 64256 bytes */
#define WIN_SERVER      509u /* x 128 = 65152 bytes */
#define SYN_WIN_C       64240u
#define SYN_WIN_S       65160u
#define CWND_INIT       10u /* RFC 6928 */
#define CWND_MAX        64u
#define BATCH           160 /* packets planned at once: one flight of <= 64 segments and its ACKs */
#define RTO_MIN         (200 * NS_MS) /* Linux's minimum RTO */
#define DELACK          (40 * NS_MS)  /* Linux's minimum delayed-ACK timeout */
#define NSERVERS        1024u
#define HEADERS_SNAPLEN 96u
#define FULL_SNAPLEN    262144u
#define PATTERN_LEN     65536u
#define OUTBUF          ((size_t)4 << 20)
#define SPAWNER         UINT32_MAX

static const uint16_t server_ports[] = {80, 443, 5432, 6379, 8080, 3306, 443, 80};

/* ---- deterministic random numbers ---------------------------------------------------------- */

typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng_t *r)
{
    uint64_t result = rotl(r->s[1] * 5, 7) * 9;
    uint64_t t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double u01(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [lo, hi]. */
static uint64_t urange(rng_t *r, uint64_t lo, uint64_t hi)
{
    return lo + (uint64_t)(u01(r) * (double)(hi - lo + 1));
}

static bool chance(rng_t *r, double p)
{
    return u01(r) < p;
}

/* Natural logarithm from +, *, / only (x > 0): x = m * 2^e with m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh((m-1)/(m+1)), a series that converges fast for |s| < 0.172. */
static double ln_det(double x)
{
    int e = 0;
    while (x >= 1.4142135623730951) {
        x *= 0.5;
        e++;
    }
    while (x < 0.7071067811865476) {
        x *= 2.0;
        e--;
    }
    double s = (x - 1.0) / (x + 1.0), s2 = s * s, term = s, sum = 0.0;
    for (int k = 1; k < 30; k += 2) {
        sum += term / k;
        term *= s2;
    }
    return 2.0 * sum + e * 0.6931471805599453;
}

/* e^x from +, *, /: reduce by ln 2, Taylor series on the remainder. */
static double exp_det(double x)
{
    int e = 0;
    while (x > 0.35) {
        x -= 0.6931471805599453;
        e++;
    }
    while (x < -0.35) {
        x += 0.6931471805599453;
        e--;
    }
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 20; k++) {
        term *= x / k;
        sum += term;
    }
    for (; e > 0; e--) {
        sum *= 2.0;
    }
    for (; e < 0; e++) {
        sum *= 0.5;
    }
    return sum;
}

/* Exponentially distributed with the given mean. */
static int64_t rexp(rng_t *r, int64_t mean)
{
    return (int64_t)(-(double)mean * ln_det(1.0 - u01(r)));
}

/* Log-uniform in [lo, hi]: as many values per decade. */
static int64_t rlogu(rng_t *r, int64_t lo, int64_t hi)
{
    double a = ln_det((double)lo), b = ln_det((double)hi);
    return (int64_t)exp_det(a + u01(r) * (b - a));
}

/* ---- connections ---------------------------------------------------------------------------- */

typedef struct {
    int64_t t;
    uint32_t seq, ack;
    uint16_t len;
    uint16_t win; /* window field as sent */
    uint8_t dir;  /* CLIENT: client to server */
    uint8_t flags;
    uint8_t synopt; /* SYN options (MSS, SACK-permitted, timestamps, window scale) */
} pkt;

enum fate {
    F_CLIENT_CLOSE,
    F_SERVER_CLOSE,
    F_RESET_CLIENT,
    F_RESET_SERVER,
    F_CLOSE_WAIT,
    F_UNANSWERED,
};

enum phase {
    PH_OPEN,
    PH_REQUEST,
    PH_RESPONSE,
    PH_XFER,
    PH_AFTER_EXCHANGE,
    PH_CLOSE,
    PH_KEEPALIVE,
    PH_DONE,
};

typedef struct {
    uint32_t left;   /* bytes still to send */
    uint32_t cwnd;   /* segments in the next flight */
    uint32_t edge;   /* zero-window transfers: the receiver's fixed right edge */
    int64_t t_next;  /* when the next flight starts */
    uint8_t from;    /* sending side */
    uint8_t after;   /* phase when done */
    bool zw;         /* the receiver stops reading: its window closes at `edge` */
    bool defer_last; /* the server may piggyback the ACK of the request's last segment */
} xfer_t;

typedef struct {
    uint8_t addr[2][16]; /* client, server (IPv4 in the first 4 bytes) */
    uint16_t port[2];
    uint32_t nxt[2];   /* next sequence number per side */
    uint32_t tsoff[2]; /* TSval offset per side (Linux randomises it per connection) */
    uint32_t tsval[2]; /* last TSval sent per side, echoed as TSecr by the peer */
    uint16_t ipid[2];
    uint32_t flow; /* IPv6 flow label */
    uint16_t mss;  /* payload bytes of a full segment (MSS minus the timestamps option) */
    uint16_t synmss;
    bool v6;
    bool detached;
    bool ack_deferred;
    bool zw_pending;
    bool retx[2]; /* this side retransmitted */
    uint8_t fate;
    uint8_t phase;
    uint8_t ttl[2];
    uint32_t exchanges;
    int64_t rtt;
    int64_t t;          /* time of the last planned packet */
    int64_t t_deferred; /* arrival of the request segment whose ACK is deferred */
    xfer_t x;
    uint16_t n, pos;
    pkt buf[BATCH];
} conn;

typedef struct {
    int64_t t;
    uint64_t ord;
    uint32_t idx;
} hent;

typedef struct {
    /* options */
    uint64_t seed;
    uint64_t nconns;
    uint32_t concurrency;
    bool headers;
    double ipv6_share;
    double duration_s;
    /* state */
    rng_t rng;
    uint64_t perm_key;
    conn *conns;
    uint32_t nalloc, cap;
    uint32_t *freelist;
    uint32_t nfree;
    hent *heap;
    uint32_t hn, hcap;
    uint64_t ord;
    uint64_t spawned;
    uint32_t active;
    bool spawner_blocked;
    int64_t next_arrival;
    int64_t mean_interarrival;
    /* output */
    int fd;
    const char *out_name;
    uint8_t *out;
    size_t outlen;
    uint8_t pattern[PATTERN_LEN];
    uint32_t *psum; /* psum[n]: ones'-complement partial sum of pattern[0..n) */
    /* counts */
    uint64_t packets, bytes, file_bytes;
    int64_t first_t, last_t;
    uint64_t n_v6, n_unanswered, n_reset[2], n_close_wait, n_zero_window;
    uint64_t n_retx_segments, n_retx_sides, n_client_close, n_server_close, n_data_segments;
} gen;

/* ---- output --------------------------------------------------------------------------------- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void flush_out(gen *g)
{
    size_t off = 0;
    while (off < g->outlen) {
        ssize_t w = write(g->fd, g->out + off, g->outlen - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            fprintf(stderr, "tcpstate-gen: %s: %s\n", g->out_name, strerror(errno));
            exit(1);
        }
        off += (size_t)w;
    }
    g->outlen = 0;
}

/* Sum of big-endian 16-bit words (RFC 1071), not folded. */
static uint32_t sum16(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        s += (uint32_t)p[n - 1] << 8;
    }
    return s;
}

static uint16_t fold(uint64_t s)
{
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

static void write_header(gen *g)
{
    uint8_t h[24];
    le32(h, 0xa1b23c4du); /* nanosecond pcap */
    le16(h + 4, 2);
    le16(h + 6, 4);
    le32(h + 8, 0);
    le32(h + 12, 0);
    le32(h + 16, g->headers ? HEADERS_SNAPLEN : FULL_SNAPLEN);
    le32(h + 20, 1); /* LINKTYPE_ETHERNET */
    memcpy(g->out, h, sizeof h);
    g->outlen = sizeof h;
    g->file_bytes = sizeof h;
}

static const uint8_t mac_router[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
static const uint8_t mac_server[6] = {0x02, 0x00, 0x5e, 0x20, 0x00, 0x01};

static void write_packet(gen *g, conn *c, const pkt *p)
{
    unsigned d = p->dir, peer = 1u - d;
    size_t tcp_hlen = p->synopt ? 40 : 32;
    size_t ip_hlen = c->v6 ? 40 : 20;
    size_t hdrs = 14 + ip_hlen + tcp_hlen;
    size_t frame = hdrs + p->len;
    size_t cap = g->headers && frame > HEADERS_SNAPLEN ? HEADERS_SNAPLEN : frame;
    if (g->outlen + 16 + cap > OUTBUF) {
        flush_out(g);
    }
    uint8_t *b = g->out + g->outlen;
    int64_t t = p->t;
    le32(b, (uint32_t)(EPOCH_START + t / NS_S));
    le32(b + 4, (uint32_t)(t % NS_S));
    le32(b + 8, (uint32_t)cap);
    le32(b + 12, (uint32_t)frame);
    uint8_t *f = b + 16;

    memcpy(f, d == CLIENT ? mac_server : mac_router, 6);
    memcpy(f + 6, d == CLIENT ? mac_router : mac_server, 6);
    put16(f + 12, c->v6 ? 0x86dd : 0x0800);
    uint8_t *ip = f + 14;
    uint32_t tcp_len = (uint32_t)(tcp_hlen + p->len);
    uint64_t pseudo;
    if (c->v6) {
        put32(ip, 0x60000000u | (c->flow & 0xfffffu));
        put16(ip + 4, tcp_len);
        ip[6] = 6;
        ip[7] = c->ttl[d];
        memcpy(ip + 8, c->addr[d], 16);
        memcpy(ip + 24, c->addr[peer], 16);
        pseudo = sum16(ip + 8, 32) + tcp_len + 6;
    } else {
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, (uint32_t)(20 + tcp_len));
        put16(ip + 4, c->ipid[d]++);
        put16(ip + 6, 0x4000); /* DF */
        ip[8] = c->ttl[d];
        ip[9] = 6;
        put16(ip + 10, 0);
        memcpy(ip + 12, c->addr[d], 4);
        memcpy(ip + 16, c->addr[peer], 4);
        put16(ip + 10, fold(sum16(ip, 20)));
        pseudo = sum16(ip + 12, 8) + tcp_len + 6;
    }
    uint8_t *th = ip + ip_hlen;
    put16(th, c->port[d]);
    put16(th + 2, c->port[peer]);
    put32(th + 4, p->seq);
    put32(th + 8, p->ack);
    th[12] = (uint8_t)((tcp_hlen / 4) << 4);
    th[13] = p->flags;
    put16(th + 14, p->win);
    put16(th + 16, 0);
    put16(th + 18, 0);
    /* RFC 7323 §3: TSval from a millisecond clock, TSecr echoes the peer's latest TSval. */
    uint32_t tsval = c->tsoff[d] + (uint32_t)(t / NS_MS);
    uint32_t tsecr = (p->flags & TH_SYN) && !(p->flags & TH_ACK) ? 0 : c->tsval[peer];
    c->tsval[d] = tsval;
    uint8_t *o = th + 20;
    if (p->synopt) {
        /* Linux's order: MSS, SACK-permitted, timestamps, NOP, window scale. */
        o[0] = 2;
        o[1] = 4;
        put16(o + 2, c->synmss);
        o[4] = 4;
        o[5] = 2;
        o[6] = 8;
        o[7] = 10;
        put32(o + 8, tsval);
        put32(o + 12, tsecr);
        o[16] = 1;
        o[17] = 3;
        o[18] = 3;
        o[19] = WSCALE;
    } else {
        o[0] = 1;
        o[1] = 1;
        o[2] = 8;
        o[3] = 10;
        put32(o + 4, tsval);
        put32(o + 8, tsecr);
    }
    uint64_t s = pseudo + sum16(th, tcp_hlen) + g->psum[p->len];
    put16(th + 16, fold(s));
    if (cap > hdrs) {
        memcpy(f + hdrs, g->pattern, cap - hdrs);
    }
    g->outlen += 16 + cap;
    g->packets++;
    g->bytes += frame;
    g->file_bytes += 16 + cap;
    if (g->packets == 1) {
        g->first_t = t;
    }
    g->last_t = t;
}

/* ---- planning ------------------------------------------------------------------------------- */

static void add(conn *c, int64_t t, unsigned dir, uint8_t flags, uint32_t seq, uint32_t ack,
                uint32_t len, uint32_t win)
{
    if (c->n >= BATCH) {
        fprintf(stderr, "tcpstate-gen: internal error: batch overflow\n");
        abort();
    }
    pkt *p = &c->buf[c->n++];
    p->t = t;
    p->seq = seq;
    p->ack = ack;
    p->len = (uint16_t)len;
    p->win = (uint16_t)win;
    p->dir = (uint8_t)dir;
    p->flags = flags;
    p->synopt = (flags & TH_SYN) != 0;
}

/* Segments from a side carry the ACK of everything the peer sent so far. */
static void seg(conn *c, int64_t t, unsigned dir, uint8_t flags, uint32_t len)
{
    uint32_t win = dir == CLIENT ? WIN_CLIENT : WIN_SERVER;
    if (flags & TH_SYN) {
        win = dir == CLIENT ? SYN_WIN_C : SYN_WIN_S; /* RFC 7323 §2.2: never scaled */
    }
    add(c, t, dir, flags, c->nxt[dir], c->nxt[1u - dir], len, win);
}

static void sort_batch(conn *c)
{
    /* Insertion sort, stable: packets planned in order keep it on equal times. */
    for (uint16_t i = 1; i < c->n; i++) {
        pkt p = c->buf[i];
        uint16_t j = i;
        while (j > 0 && c->buf[j - 1].t > p.t) {
            c->buf[j] = c->buf[j - 1];
            j--;
        }
        c->buf[j] = p;
    }
    if (c->n > 0) {
        c->t = c->buf[c->n - 1].t;
    }
}

static int64_t kernel_delay(gen *g)
{
    return (int64_t)urange(&g->rng, 15, 60) * NS_US;
}

static int64_t serialization(uint32_t len)
{
    return (2 + (int64_t)len / 128) * NS_US; /* about 1 Gbit/s plus a little pacing */
}

static uint32_t request_size(gen *g)
{
    double u = u01(&g->rng);
    if (u < 0.70) {
        return (uint32_t)urange(&g->rng, 80, 600);
    }
    if (u < 0.95) {
        return (uint32_t)urange(&g->rng, 600, 1400);
    }
    return (uint32_t)urange(&g->rng, 2000, 16000); /* an upload */
}

static uint32_t response_size(gen *g)
{
    double u = u01(&g->rng);
    if (u < 0.55) {
        return (uint32_t)urange(&g->rng, 100, 1400);
    }
    if (u < 0.90) {
        return (uint32_t)urange(&g->rng, 1500, 8000);
    }
    if (u < 0.98) {
        return (uint32_t)urange(&g->rng, 8000, 40000);
    }
    return (uint32_t)urange(&g->rng, 40000, 200000);
}

static void detach(gen *g, conn *c, int64_t now);

static void start_xfer(conn *c, unsigned from, uint32_t bytes, int64_t t, uint8_t after)
{
    c->x.from = (uint8_t)from;
    c->x.left = bytes;
    c->x.cwnd = CWND_INIT;
    c->x.t_next = t;
    c->x.after = after;
    c->x.zw = false;
    c->x.defer_last = from == CLIENT;
    c->phase = PH_XFER;
}

/* Window field the receiver r advertises after acknowledging up to `ack`. */
static uint32_t rwin(const conn *c, unsigned r, uint32_t ack)
{
    if (c->x.zw && r == CLIENT) {
        return (c->x.edge - ack) >> WSCALE; /* the application is not reading */
    }
    return r == CLIENT ? WIN_CLIENT : WIN_SERVER;
}

/* Zero window: the receiver acknowledged everything up to its edge with window 0.  The sender
 * probes after an RTO with Linux's probe (no data, SEG.SEQ = SND.UNA - 1), doubling the
 * interval; the receiver answers each probe, then reopens the window. */
static void zero_window_episode(gen *g, conn *c)
{
    xfer_t *x = &c->x;
    unsigned s = x->from, r = 1u - s;
    int64_t rto = RTO_MIN + c->rtt;
    int64_t t = x->t_next + rto;
    int64_t last = t;
    uint32_t probes = (uint32_t)urange(&g->rng, 1, 3);
    for (uint32_t k = 0; k < probes; k++) {
        add(c, t, s, TH_ACK, c->nxt[s] - 1, c->nxt[r], 0, WIN_SERVER);
        last = t + c->rtt;
        add(c, last, r, TH_ACK, c->nxt[r], c->nxt[s], 0, 0);
        rto *= 2;
        t += rto;
    }
    x->zw = false;
    int64_t open = last + (int64_t)urange(&g->rng, 5, 300) * NS_MS;
    add(c, open, r, TH_ACK, c->nxt[r], c->nxt[s], 0, rwin(c, r, c->nxt[s]));
    x->t_next = open + kernel_delay(g);
    g->n_zero_window++;
}

/* One flight from x->from and the receiver's ACKs (one per two segments, and one for a final
 * odd segment).  With a small probability the flight's last segment is lost after the capture
 * point: the receiver never acknowledges it and the sender repeats it after an RTO (RFC 6298). */
static void xfer_round(gen *g, conn *c)
{
    xfer_t *x = &c->x;
    unsigned s = x->from, r = 1u - s;
    /* The capture point is next to the server: server segments reach it at once and the
     * client's ACKs one RTT later; client segments reach it just before the server's ACKs. */
    int64_t dfwd = s == SERVER ? c->rtt : kernel_delay(g);
    int64_t dback = s == SERVER ? kernel_delay(g) : c->rtt;
    uint32_t wbytes = (r == CLIENT ? WIN_CLIENT : WIN_SERVER) << WSCALE;
    uint32_t avail = x->zw ? x->edge - c->nxt[s] : wbytes;
    if (avail == 0) {
        zero_window_episode(g, c);
        return;
    }
    int64_t st[CWND_MAX];
    uint32_t send[CWND_MAX];
    uint32_t n = 0, left = x->left;
    while (n < x->cwnd && left > 0 && avail > 0) {
        uint32_t len = c->mss;
        len = len < left ? len : left;
        len = len < avail ? len : avail;
        send[n++] = len;
        left -= len;
        avail -= len;
    }
    bool lost = !x->zw && chance(&g->rng, 0.01 * n < 0.5 ? 0.01 * n : 0.5);
    int64_t t = x->t_next;
    uint32_t seq0 = c->nxt[s];
    for (uint32_t i = 0; i < n; i++) {
        bool last_of_xfer = x->left == send[i];
        seg(c, t, s, (uint8_t)(TH_ACK | (last_of_xfer || i + 1 == n ? TH_PSH : 0)), send[i]);
        st[i] = t;
        c->nxt[s] += send[i];
        x->left -= send[i];
        t += serialization(send[i]);
    }
    g->n_data_segments += n;
    uint32_t got = lost ? n - 1 : n;
    uint32_t ack = seq0;
    int64_t t_end = st[n - 1];
    bool done = x->left == 0;
    for (uint32_t i = 0; i < got; i++) {
        ack += send[i];
        if ((i + 1) % 2 != 0 && i + 1 != got) {
            continue;
        }
        if (i + 1 == got && (i + 1) % 2 != 0 && !lost && done && x->defer_last) {
            c->ack_deferred = true; /* piggybacked on the response, or a delayed ACK */
            c->t_deferred = st[i];
            continue;
        }
        int64_t ta = st[i] + dfwd;
        add(c, ta, r, TH_ACK, c->nxt[r], ack, 0, rwin(c, r, ack));
        t_end = ta > t_end ? ta : t_end;
    }
    if (lost) {
        int64_t tr = st[n - 1] + RTO_MIN + c->rtt;
        add(c, tr, s, TH_ACK | TH_PSH, c->nxt[s] - send[n - 1], c->nxt[r], 0,
            s == CLIENT ? WIN_CLIENT : WIN_SERVER);
        c->buf[c->n - 1].len = (uint16_t)send[n - 1];
        g->n_retx_segments++;
        g->n_data_segments++;
        c->retx[s] = true;
        t_end = tr;
        if (done && x->defer_last) {
            c->ack_deferred = true;
            c->t_deferred = tr;
        } else {
            t_end = tr + dfwd;
            add(c, t_end, r, TH_ACK, c->nxt[r], c->nxt[s], 0, rwin(c, r, c->nxt[s]));
        }
        x->cwnd = 2;
    } else {
        x->cwnd = x->cwnd * 2 < CWND_MAX ? x->cwnd * 2 : CWND_MAX;
    }
    x->t_next = t_end + dback;
    if (done) {
        c->phase = x->after;
    }
}

static void plan_close(gen *g, conn *c)
{
    int64_t t = c->t + rexp(&g->rng, 5 * NS_MS);
    switch (c->fate) {
        case F_CLIENT_CLOSE:
            seg(c, t, CLIENT, TH_FIN | TH_ACK, 0);
            c->nxt[CLIENT]++;
            t += kernel_delay(g);
            if (chance(&g->rng, 0.6)) {
                seg(c, t, SERVER, TH_FIN | TH_ACK, 0);
            } else {
                seg(c, t, SERVER, TH_ACK, 0);
                t += (int64_t)urange(&g->rng, 100, 5000) * NS_US;
                seg(c, t, SERVER, TH_FIN | TH_ACK, 0);
            }
            c->nxt[SERVER]++;
            seg(c, t + c->rtt, CLIENT, TH_ACK, 0);
            g->n_client_close++;
            c->phase = PH_DONE;
            break;
        case F_SERVER_CLOSE:
            seg(c, t, SERVER, TH_FIN | TH_ACK, 0);
            c->nxt[SERVER]++;
            t += c->rtt;
            if (chance(&g->rng, 0.5)) {
                seg(c, t, CLIENT, TH_FIN | TH_ACK, 0);
            } else {
                seg(c, t, CLIENT, TH_ACK, 0);
                t += (int64_t)urange(&g->rng, 50, 2000) * NS_US;
                seg(c, t, CLIENT, TH_FIN | TH_ACK, 0);
            }
            c->nxt[CLIENT]++;
            seg(c, t + kernel_delay(g), SERVER, TH_ACK, 0);
            g->n_server_close++;
            c->phase = PH_DONE;
            break;
        case F_RESET_CLIENT:
        case F_RESET_SERVER: {
            /* An abort (RFC 9293 §3.10.5): RST at SND.NXT, acceptable to the peer. */
            unsigned who = c->fate == F_RESET_CLIENT ? CLIENT : SERVER;
            add(c, t, who, TH_RST | TH_ACK, c->nxt[who], c->nxt[1u - who], 0, 0);
            g->n_reset[who]++;
            c->phase = PH_DONE;
            break;
        }
        case F_CLOSE_WAIT:
            /* The server's application never calls close(): its FIN never comes. */
            seg(c, t, CLIENT, TH_FIN | TH_ACK, 0);
            c->nxt[CLIENT]++;
            seg(c, t + kernel_delay(g), SERVER, TH_ACK, 0);
            g->n_close_wait++;
            c->phase = PH_KEEPALIVE;
            break;
        default:
            abort();
    }
}

/* Fill the connection's batch with its next packets; leaves it empty when the connection is
 * over.  `now` is the time of the packet just written (or the spawn time). */
static void plan(gen *g, conn *c, int64_t now)
{
    c->n = c->pos = 0;
    while (c->n == 0 && c->phase != PH_DONE) {
        switch (c->phase) {
            case PH_OPEN: {
                int64_t t = c->t;
                seg(c, t, CLIENT, TH_SYN, 0);
                if (c->fate == F_UNANSWERED) {
                    /* Linux: retries after 1, 2 and 4 s (RFC 6298 §5.5 backoff). */
                    int64_t at = t;
                    for (int k = 0; k < 3; k++) {
                        at += ((int64_t)1 << k) * NS_S + (int64_t)urange(&g->rng, 0, 5000) * NS_US;
                        seg(c, at, CLIENT, TH_SYN, 0);
                    }
                    g->n_unanswered++;
                    c->phase = PH_DONE;
                    break;
                }
                c->nxt[CLIENT]++;
                t += kernel_delay(g);
                add(c, t, SERVER, TH_SYN | TH_ACK, c->nxt[SERVER], c->nxt[CLIENT], 0, SYN_WIN_S);
                c->nxt[SERVER]++;
                seg(c, t + c->rtt, CLIENT, TH_ACK, 0);
                c->phase = PH_REQUEST;
                break;
            }
            case PH_REQUEST: {
                int64_t think =
                    chance(&g->rng, 0.1) ? rexp(&g->rng, 300 * NS_MS) : rexp(&g->rng, 2 * NS_MS);
                start_xfer(c, CLIENT, request_size(g), c->t + NS_US + think, PH_RESPONSE);
                break;
            }
            case PH_RESPONSE: {
                int64_t base = c->ack_deferred ? c->t_deferred : c->t;
                int64_t proc =
                    chance(&g->rng, 0.15) ? rexp(&g->rng, 80 * NS_MS) : rexp(&g->rng, 1 * NS_MS);
                proc += 10 * NS_US;
                if (c->ack_deferred && proc > DELACK) {
                    seg(c, base + DELACK, SERVER, TH_ACK, 0);
                }
                c->ack_deferred = false;
                int64_t at = base + proc > c->t ? base + proc : c->t + NS_US;
                uint32_t size = response_size(g);
                if (c->zw_pending) {
                    size = (WIN_CLIENT << WSCALE) + (uint32_t)urange(&g->rng, 4000, 40000);
                }
                start_xfer(c, SERVER, size, at, PH_AFTER_EXCHANGE);
                if (c->zw_pending) {
                    c->x.zw = true;
                    c->x.edge = c->nxt[SERVER] + (WIN_CLIENT << WSCALE);
                    c->zw_pending = false;
                }
                break;
            }
            case PH_XFER:
                xfer_round(g, c);
                break;
            case PH_AFTER_EXCHANGE:
                c->phase = --c->exchanges > 0 ? PH_REQUEST : PH_CLOSE;
                break;
            case PH_CLOSE:
                plan_close(g, c);
                break;
            case PH_KEEPALIVE: {
                /* The CLOSE_WAIT side's keep-alive (SO_KEEPALIVE, RFC 9293 §3.8.4) much later;
                 * the client, in FIN_WAIT_2, answers.  It also keeps the capture running long
                 * enough for the state to count as stuck. */
                detach(g, c, now);
                int64_t t = c->t + (int64_t)urange(&g->rng, 45, 75) * NS_S;
                add(c, t, SERVER, TH_ACK, c->nxt[SERVER] - 1, c->nxt[CLIENT], 0, WIN_SERVER);
                seg(c, t + c->rtt, CLIENT, TH_ACK, 0);
                c->phase = PH_DONE;
                break;
            }
            default:
                abort();
        }
    }
    sort_batch(c);
}

/* ---- heap of next packet times -------------------------------------------------------------- */

static bool hless(const hent *a, const hent *b)
{
    return a->t < b->t || (a->t == b->t && a->ord < b->ord);
}

static void sift_down(gen *g, uint32_t i)
{
    hent e = g->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1;
        if (l >= g->hn) {
            break;
        }
        uint32_t m = l + 1 < g->hn && hless(&g->heap[l + 1], &g->heap[l]) ? l + 1 : l;
        if (!hless(&g->heap[m], &e)) {
            break;
        }
        g->heap[i] = g->heap[m];
        i = m;
    }
    g->heap[i] = e;
}

static void heap_push(gen *g, int64_t t, uint32_t idx)
{
    if (g->hn == g->hcap) {
        g->hcap = g->hcap ? g->hcap * 2 : 1024;
        g->heap = realloc(g->heap, (size_t)g->hcap * sizeof *g->heap);
        if (!g->heap) {
            perror("tcpstate-gen");
            exit(1);
        }
    }
    hent e = {t, g->ord++, idx};
    uint32_t i = g->hn++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!hless(&e, &g->heap[p])) {
            break;
        }
        g->heap[i] = g->heap[p];
        i = p;
    }
    g->heap[i] = e;
}

static void heap_pop(gen *g)
{
    g->heap[0] = g->heap[--g->hn];
    if (g->hn > 0) {
        sift_down(g, 0);
    }
}

static void heap_retime_top(gen *g, int64_t t)
{
    g->heap[0].t = t;
    g->heap[0].ord = g->ord++;
    sift_down(g, 0);
}

/* ---- connection lifecycle ------------------------------------------------------------------- */

static void unblock_spawner(gen *g, int64_t now)
{
    if (g->spawner_blocked && g->spawned < g->nconns) {
        g->spawner_blocked = false;
        heap_push(g, now > g->next_arrival ? now : g->next_arrival, SPAWNER);
    }
}

/* The connection no longer counts against --concurrency (its remaining packets are a tail). */
static void detach(gen *g, conn *c, int64_t now)
{
    if (!c->detached) {
        c->detached = true;
        g->active--;
        unblock_spawner(g, now);
    }
}

static uint32_t conn_alloc(gen *g)
{
    if (g->nfree > 0) {
        return g->freelist[--g->nfree];
    }
    if (g->nalloc == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 256;
        g->conns = realloc(g->conns, (size_t)g->cap * sizeof *g->conns);
        g->freelist = realloc(g->freelist, (size_t)g->cap * sizeof *g->freelist);
        if (!g->conns || !g->freelist) {
            perror("tcpstate-gen");
            exit(1);
        }
    }
    return g->nalloc++;
}

/* A bijection on [0, 2^31): connection numbers map to distinct client (address, port) pairs,
 * so no two connections share a 4-tuple. */
static uint32_t permute31(uint64_t i, uint64_t key)
{
    uint32_t m = 0x7fffffffu;
    uint32_t x = (uint32_t)((i + key) & m);
    for (int r = 0; r < 3; r++) {
        x = (x * 0x2c1b3c6du) & m;
        x ^= x >> 13;
        x = (x * 0x297a2d39u + (uint32_t)(key >> (16 * r))) & m;
        x ^= x >> 17;
    }
    return x;
}

static void conn_init(gen *g, conn *c, uint64_t number, int64_t t)
{
    rng_t *r = &g->rng;
    memset(c, 0, offsetof(conn, buf));
    c->v6 = chance(r, g->ipv6_share);
    uint32_t x = permute31(number, g->perm_key);
    uint32_t srv = (uint32_t)urange(r, 0, NSERVERS - 1);
    if (c->v6) {
        static const uint8_t cp[6] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01};
        static const uint8_t sp[6] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02};
        memcpy(c->addr[CLIENT], cp, 6);
        memcpy(c->addr[SERVER], sp, 6);
        put16(c->addr[CLIENT] + 14, (x & 0xffffu) + 1);
        put16(c->addr[SERVER] + 14, srv + 1);
        c->synmss = 1440;
        c->flow = (uint32_t)rng_next(r) & 0xfffffu;
        g->n_v6++;
    } else {
        static const uint8_t cp[2] = {198, 18}, sp[2] = {198, 19};
        memcpy(c->addr[CLIENT], cp, 2);
        memcpy(c->addr[SERVER], sp, 2);
        put16(c->addr[CLIENT] + 2, x & 0xffffu);
        put16(c->addr[SERVER] + 2, srv + 1);
        c->synmss = 1460;
    }
    c->mss = (uint16_t)(c->synmss - 12);
    c->port[CLIENT] = (uint16_t)(32768u + (x >> 16));
    c->port[SERVER] = server_ports[srv % (sizeof server_ports / sizeof server_ports[0])];
    for (int i = 0; i < 2; i++) {
        uint64_t v = rng_next(r);
        c->nxt[i] = (uint32_t)v; /* the ISS */
        c->tsoff[i] = (uint32_t)(v >> 32);
        c->ipid[i] = (uint16_t)rng_next(r);
    }
    c->ttl[CLIENT] = (uint8_t)urange(r, 50, 60);
    c->ttl[SERVER] = 64;
    c->rtt = chance(r, 0.5) ? rlogu(r, 1 * NS_MS, 5 * NS_MS) : rlogu(r, 10 * NS_MS, 150 * NS_MS);
    c->exchanges = 1;
    while (c->exchanges < 16 && chance(r, 0.6)) {
        c->exchanges++;
    }
    double u = u01(r);
    if (u < 0.02) {
        c->fate = F_UNANSWERED;
    } else if (u < 0.035) {
        c->fate = F_RESET_CLIENT;
    } else if (u < 0.05) {
        c->fate = F_RESET_SERVER;
    } else if (u < 0.06) {
        c->fate = F_CLOSE_WAIT;
    } else {
        c->fate = chance(r, 0.6) ? F_CLIENT_CLOSE : F_SERVER_CLOSE;
    }
    c->zw_pending = c->fate != F_UNANSWERED && chance(r, 0.005);
    c->phase = PH_OPEN;
    c->t = t;
}

static void spawn(gen *g, int64_t now)
{
    if (g->spawned >= g->nconns || g->active >= g->concurrency) {
        heap_pop(g);
        g->spawner_blocked = g->spawned < g->nconns;
        return;
    }
    uint32_t idx = conn_alloc(g);
    conn *c = &g->conns[idx];
    conn_init(g, c, g->spawned++, now);
    g->active++;
    g->next_arrival = now + rexp(&g->rng, g->mean_interarrival);
    heap_retime_top(g, g->next_arrival);
    plan(g, c, now);
    if (c->fate == F_UNANSWERED) {
        detach(g, c, now);
    }
    heap_push(g, c->buf[0].t, idx);
}

static void conn_end(gen *g, uint32_t idx, int64_t now)
{
    conn *c = &g->conns[idx];
    g->n_retx_sides += (uint64_t)c->retx[0] + c->retx[1];
    g->freelist[g->nfree++] = idx;
    if (!c->detached) {
        g->active--;
        unblock_spawner(g, now);
    }
}

static void run(gen *g)
{
    heap_push(g, 0, SPAWNER);
    while (g->hn > 0) {
        hent top = g->heap[0];
        if (top.idx == SPAWNER) {
            spawn(g, top.t);
            continue;
        }
        conn *c = &g->conns[top.idx];
        write_packet(g, c, &c->buf[c->pos++]);
        if (c->pos == c->n) {
            plan(g, c, top.t);
        }
        if (c->pos < c->n) {
            heap_retime_top(g, c->buf[c->pos].t);
        } else {
            heap_pop(g);
            conn_end(g, top.idx, top.t);
        }
    }
    flush_out(g);
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: tcpstate-gen [--seed N] [--connections N] [--concurrency N]\n"
               "                    [--shape full|headers] [--ipv6-share PCT] [--duration-s S]\n"
               "                    -o FILE|-\n");
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-') {
        return false;
    }
    *v = x;
    return true;
}

static bool parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return !errno && end != s && !*end;
}

int main(int argc, char **argv)
{
    static gen g; /* large: the pattern and counters */
    g.seed = 1;
    g.nconns = 50000;
    g.concurrency = 1000;
    g.ipv6_share = 0.20;
    const char *out = NULL;
    enum { O_SEED = 256, O_CONNS, O_CONC, O_SHAPE, O_V6, O_DUR };
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, O_SEED},
        {"connections", required_argument, NULL, O_CONNS},
        {"concurrency", required_argument, NULL, O_CONC},
        {"shape", required_argument, NULL, O_SHAPE},
        {"ipv6-share", required_argument, NULL, O_V6},
        {"duration-s", required_argument, NULL, O_DUR},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    uint64_t v;
    double dv;
    while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (opt) {
            case O_SEED:
                if (!parse_u64(optarg, &g.seed)) {
                    goto bad;
                }
                break;
            case O_CONNS:
                if (!parse_u64(optarg, &v) || v == 0 || v > 0x7fffffffu) {
                    goto bad;
                }
                g.nconns = v;
                break;
            case O_CONC:
                if (!parse_u64(optarg, &v) || v == 0 || v > 10000000u) {
                    goto bad;
                }
                g.concurrency = (uint32_t)v;
                break;
            case O_SHAPE:
                if (strcmp(optarg, "full") == 0) {
                    g.headers = false;
                } else if (strcmp(optarg, "headers") == 0) {
                    g.headers = true;
                } else {
                    goto bad;
                }
                break;
            case O_V6:
                if (!parse_double(optarg, &dv) || dv < 0 || dv > 100) {
                    goto bad;
                }
                g.ipv6_share = dv / 100.0;
                break;
            case O_DUR:
                if (!parse_double(optarg, &dv) || dv <= 0 || dv > 1e7) {
                    goto bad;
                }
                g.duration_s = dv;
                break;
            case 'o':
                out = optarg;
                break;
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 2;
        }
    }
    if (!out || optind != argc) {
        usage(stderr);
        return 2;
    }

    uint64_t sm = g.seed;
    for (int i = 0; i < 4; i++) {
        g.rng.s[i] = splitmix64(&sm);
    }
    g.perm_key = splitmix64(&sm);
    /* Without --duration-s, arrivals come fast enough that --concurrency is the limit. */
    g.mean_interarrival = g.duration_s > 0
                              ? (int64_t)(g.duration_s * (double)NS_S / (double)g.nconns)
                              : (int64_t)(100 * NS_MS / g.concurrency);
    if (g.mean_interarrival < 1) {
        g.mean_interarrival = 1;
    }

    /* Payload: printable text; psum makes each segment's checksum one table lookup. */
    static const char text[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                               "tcpstate benchmark payload 0123456789abcdef\r\n";
    for (size_t i = 0; i < PATTERN_LEN; i++) {
        g.pattern[i] = (uint8_t)text[i % (sizeof text - 1)];
    }
    g.psum = malloc((PATTERN_LEN + 1) * sizeof *g.psum);
    g.out = malloc(OUTBUF);
    if (!g.psum || !g.out) {
        perror("tcpstate-gen");
        return 1;
    }
    g.psum[0] = 0;
    for (size_t n = 1; n <= PATTERN_LEN; n++) {
        uint32_t byte = g.pattern[n - 1];
        g.psum[n] = g.psum[n - 1] + ((n & 1) ? byte << 8 : byte);
    }

    if (strcmp(out, "-") == 0) {
        g.fd = STDOUT_FILENO;
        g.out_name = "standard output";
    } else {
        g.fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        g.out_name = out;
        if (g.fd < 0) {
            fprintf(stderr, "tcpstate-gen: %s: %s\n", out, strerror(errno));
            return 1;
        }
    }
    write_header(&g);
    run(&g);
    if (g.fd != STDOUT_FILENO && close(g.fd) != 0) {
        fprintf(stderr, "tcpstate-gen: %s: %s\n", out, strerror(errno));
        return 1;
    }
    fprintf(stderr,
            "tcpstate-gen: packets=%" PRIu64 " connections=%" PRIu64 " bytes=%" PRIu64
            " file_bytes=%" PRIu64 " duration_s=%.3f ipv6=%" PRIu64 " client_close=%" PRIu64
            " server_close=%" PRIu64 " syn_unanswered=%" PRIu64 " resets=%" PRIu64
            " resets_client=%" PRIu64 " resets_server=%" PRIu64 " close_wait_stuck=%" PRIu64
            " zero_window=%" PRIu64 " data_segments=%" PRIu64 " retransmitted_segments=%" PRIu64
            " retransmission_sides=%" PRIu64 "\n",
            g.packets, g.spawned, g.bytes, g.file_bytes,
            (double)(g.last_t - g.first_t) / (double)NS_S, g.n_v6, g.n_client_close,
            g.n_server_close, g.n_unanswered, g.n_reset[0] + g.n_reset[1], g.n_reset[0],
            g.n_reset[1], g.n_close_wait, g.n_zero_window, g.n_data_segments, g.n_retx_segments,
            g.n_retx_sides);
    free(g.psum);
    free(g.out);
    free(g.conns);
    free(g.freelist);
    free(g.heap);
    return 0;
bad:
    fprintf(stderr, "tcpstate-gen: invalid value '%s'\n", optarg);
    usage(stderr);
    return 2;
}
