/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_capture.c - unit tests for src/capture/ through the public API
 * (capture.h): reading pcap and pcapng files, merging several inputs by time,
 * frame numbering, BPF filtering, standard input, and the one-line errors for
 * bad inputs; saving packets (-w) and re-reading them; the read-ahead thread;
 * live capture on the loopback interface.  check_merge tests the merge alone.
 *
 * The files are written byte by byte here (not with libpcap's dumper) so each
 * test controls exactly what is on disk: magic, byte order, link type, record
 * lengths, truncation.  Frame contents are arbitrary except in the filter
 * test, since capture does not decode.
 *
 * Live tests need root (they print a skip line and pass otherwise) and send
 * traffic only over 127.0.0.1.  Tests needing a down or vanishing interface
 * make one in a private network namespace of a child process.
 */
#define _GNU_SOURCE /* unshare(CLONE_NEWNET), for the namespace tests only */
#include <check.h>

#include "ckchild.h"
#include "ckrun.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcpstate/capture.h"
#include "tcpstate/decode.h"
#include "tcpstate/privdrop.h"

/* ---- temporary directory and paths ------------------------------------- */

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_capture.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (d != NULL) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
                unlink(p);
            }
        }
        closedir(d);
    }
    rmdir(tmpdir);
}

/* A path inside the test directory; a few rotating buffers keep call sites short. */
static const char *tp(const char *name)
{
    static char bufs[8][512];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

/* ---- file writers -------------------------------------------------------- */

struct rec {
    uint32_t sec;
    uint32_t frac; /* us, or ns for nanosecond files */
    uint32_t caplen;
    uint32_t wirelen;
    const uint8_t *data; /* caplen bytes; NULL = bytes all equal to `tag` */
    uint8_t tag;
};

static void put16(FILE *f, uint16_t v, bool be)
{
    uint8_t b[2];
    if (be) {
        b[0] = (uint8_t)(v >> 8);
        b[1] = (uint8_t)v;
    } else {
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
    }
    ck_assert_uint_eq(fwrite(b, 1, 2, f), 2);
}

static void put32(FILE *f, uint32_t v, bool be)
{
    put16(f, (uint16_t)(be ? v >> 16 : v), be);
    put16(f, (uint16_t)(be ? v : v >> 16), be);
}

static void put_data(FILE *f, const struct rec *r)
{
    for (uint32_t i = 0; i < r->caplen; i++) {
        ck_assert_int_ne(fputc(r->data != NULL ? r->data[i] : r->tag, f), EOF);
    }
}

static void write_pcap_ex(const char *path, uint32_t linktype, bool ns, bool be,
                          const struct rec *r, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    put32(f, ns ? 0xa1b23c4du : 0xa1b2c3d4u, be);
    put16(f, 2, be);
    put16(f, 4, be);
    put32(f, 0, be); /* thiszone */
    put32(f, 0, be); /* sigfigs */
    put32(f, 65535, be);
    put32(f, linktype, be);
    for (size_t i = 0; i < n; i++) {
        put32(f, r[i].sec, be);
        put32(f, r[i].frac, be);
        put32(f, r[i].caplen, be);
        put32(f, r[i].wirelen, be);
        put_data(f, &r[i]);
    }
    ck_assert_int_eq(fclose(f), 0);
}

static void write_pcap(const char *path, const struct rec *r, size_t n)
{
    write_pcap_ex(path, 1, false, false, r, n);
}

/*
 * Minimal little-endian pcapng (pcapng spec): SHB, one Ethernet IDB with an
 * optional if_tsresol (-1 = none, i.e. microseconds), one EPB per record.
 * rec.frac is in the interface's units below the second (us or 10^-tsresol).
 */
static void write_pcapng(const char *path, int tsresol, const struct rec *r, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    /* Section Header Block: type, length, BOM, version 1.0, section length -1. */
    put32(f, 0x0a0d0d0au, false);
    put32(f, 28, false);
    put32(f, 0x1a2b3c4du, false);
    put16(f, 1, false);
    put16(f, 0, false);
    put32(f, 0xffffffffu, false);
    put32(f, 0xffffffffu, false);
    put32(f, 28, false);
    /* Interface Description Block; options: if_tsresol (4+1+3 pad) + opt_endofopt. */
    uint32_t idb_len = 20 + (tsresol >= 0 ? 12 : 0);
    put32(f, 1, false);
    put32(f, idb_len, false);
    put16(f, 1, false); /* LINKTYPE_ETHERNET */
    put16(f, 0, false);
    put32(f, 65535, false);
    if (tsresol >= 0) {
        put16(f, 9, false);
        put16(f, 1, false);
        put32(f, (uint32_t)tsresol, false); /* value byte first, then padding */
        put32(f, 0, false);
    }
    put32(f, idb_len, false);
    uint64_t units = 1000000;
    for (int i = 0; tsresol >= 0 && i < tsresol; i++) {
        units = i == 0 ? 10 : units * 10;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t pad = (4 - r[i].caplen % 4) % 4;
        uint32_t len = 32 + r[i].caplen + pad;
        uint64_t t = (uint64_t)r[i].sec * units + r[i].frac;
        put32(f, 6, false);
        put32(f, len, false);
        put32(f, 0, false); /* interface id */
        put32(f, (uint32_t)(t >> 32), false);
        put32(f, (uint32_t)t, false);
        put32(f, r[i].caplen, false);
        put32(f, r[i].wirelen, false);
        put_data(f, &r[i]);
        for (uint32_t k = 0; k < pad; k++) {
            fputc(0, f);
        }
        put32(f, len, false);
    }
    ck_assert_int_eq(fclose(f), 0);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static long file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (long)st.st_size;
}

/* Ethernet + IPv4 (IHL 5) + TCP (20 bytes) + one payload byte: 55 bytes. */
#define FRAME_LEN 55

static void eth_ipv4_tcp(uint8_t *b, uint16_t sport, uint16_t dport)
{
    memset(b, 0, FRAME_LEN);
    static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 2}, src[6] = {0x02, 0, 0, 0, 0, 1};
    memcpy(b, dst, 6);
    memcpy(b + 6, src, 6);
    b[12] = 0x08; /* IPv4 */
    uint8_t *ip = b + 14;
    ip[0] = 0x45;
    ip[3] = FRAME_LEN - 14; /* total length */
    ip[8] = 64;             /* TTL */
    ip[9] = 6;              /* TCP */
    ip[12] = 10, ip[15] = 1;
    ip[16] = 10, ip[19] = 2;
    uint8_t *tcp = ip + 20;
    tcp[0] = (uint8_t)(sport >> 8), tcp[1] = (uint8_t)sport;
    tcp[2] = (uint8_t)(dport >> 8), tcp[3] = (uint8_t)dport;
    tcp[12] = 5 << 4;
    tcp[13] = 0x10; /* ACK */
}

/* ---- helpers over the API ------------------------------------------------ */

static tcpst_capture *open_ok(const char *const *files, size_t n, const char *filter)
{
    tcpst_capture *cap = NULL;
    tcpst_error err = {0, ""};
    int rc = tcpst_capture_open(&cap, files, n, filter, tcpst_decode_linktype_supported, &err);
    ck_assert_msg(rc == 0, "open failed: %d %s", rc, err.msg);
    ck_assert_ptr_nonnull(cap);
    return cap;
}

static int open_fail(const char *const *files, size_t n, const char *filter, tcpst_error *err)
{
    tcpst_capture *cap = (tcpst_capture *)&cap; /* must be reset to NULL */
    memset(err, 0, sizeof(*err));
    int rc = tcpst_capture_open(&cap, files, n, filter, tcpst_decode_linktype_supported, err);
    ck_assert_int_lt(rc, 0);
    ck_assert_int_eq(err->code, rc);
    ck_assert_ptr_null(cap);
    return rc;
}

/* Read everything; returns the count and stores each packet's tag (data[0]),
 * frame, input and time. */
struct seen {
    uint8_t tag;
    uint64_t frame;
    unsigned input;
    tcpst_time ts;
};

static size_t read_all(tcpst_capture *cap, struct seen *out, size_t max)
{
    size_t n = 0;
    tcpst_pkt pkt;
    while (tcpst_capture_next(cap, &pkt) == 1) {
        ck_assert_uint_lt(n, max);
        out[n].tag = pkt.caplen > 0 ? pkt.data[0] : 0;
        out[n].frame = pkt.frame;
        out[n].input = pkt.input;
        out[n].ts = pkt.ts;
        n++;
    }
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 0); /* stays at the end */
    return n;
}

#define NS(s, frac_ns) ((tcpst_time)(s)*TCPST_NS_PER_SEC + (frac_ns))

/* ---- reading ------------------------------------------------------------- */

START_TEST(test_single_pcap_usec)
{
    uint8_t a[40];
    for (size_t i = 0; i < sizeof(a); i++) {
        a[i] = (uint8_t)(i * 7);
    }
    const struct rec r[] = {
        {1700000000, 1, 40, 40, a, 0},
        {1700000000, 500000, 20, 1514, NULL, 0xbb}, /* snapped: caplen < wirelen */
        {1700000001, 999999, 0, 60, NULL, 0},
    };
    write_pcap(tp("one.pcap"), r, 3);
    const char *files[] = {tp("one.pcap")};
    tcpst_capture *cap = open_ok(files, 1, NULL);

    ck_assert_uint_eq(tcpst_capture_ninputs(cap), 1);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert_ptr_eq(info->name, files[0]);
    ck_assert_int_eq(info->linktype, 1);
    ck_assert_str_eq(info->linktype_name, "EN10MB");
    ck_assert_str_eq(info->format, "pcap");
    ck_assert(!info->nanosecond);
    ck_assert_int_eq(info->snaplen, 65535);
    ck_assert_ptr_null(tcpst_capture_input(cap, 1));

    tcpst_pkt pkt;
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_uint_eq(pkt.frame, 1);
    ck_assert_int_eq(pkt.ts, NS(1700000000, 1000));
    ck_assert_uint_eq(pkt.caplen, 40);
    ck_assert_uint_eq(pkt.wirelen, 40);
    ck_assert_int_eq(pkt.linktype, 1);
    ck_assert_uint_eq(pkt.input, 0);
    ck_assert_mem_eq(pkt.data, a, 40);

    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_uint_eq(pkt.frame, 2);
    ck_assert_int_eq(pkt.ts, NS(1700000000, 500000000));
    ck_assert_uint_eq(pkt.caplen, 20);
    ck_assert_uint_eq(pkt.wirelen, 1514);
    ck_assert_uint_eq(pkt.data[0], 0xbb);
    ck_assert_uint_eq(pkt.data[19], 0xbb);

    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_uint_eq(pkt.frame, 3);
    ck_assert_int_eq(pkt.ts, NS(1700000001, 999999000));
    ck_assert_uint_eq(pkt.caplen, 0);
    ck_assert_uint_eq(pkt.wirelen, 60);

    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 0);
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 0);

    ck_assert_uint_eq(info->packets, 3);
    ck_assert_uint_eq(info->bytes, 40 + 1514 + 60);
    ck_assert_uint_eq(info->filtered, 0);
    ck_assert_int_eq(info->first_ts, NS(1700000000, 1000));
    ck_assert_int_eq(info->last_ts, NS(1700000001, 999999000));
    ck_assert(!info->truncated);
    ck_assert_str_eq(info->error, "");
    ck_assert_uint_eq(tcpst_capture_packets(cap), 3);
    ck_assert_uint_eq(tcpst_capture_filtered(cap), 0);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_nanosecond_pcap)
{
    /* Both byte orders: the magic is read as written by either kind of host. */
    for (int be = 0; be <= 1; be++) {
        const struct rec r[] = {{1, 123456789, 4, 4, NULL, 1}, {2, 999999999, 4, 4, NULL, 2}};
        write_pcap_ex(tp("ns.pcap"), 1, true, be != 0, r, 2);
        const char *files[] = {tp("ns.pcap")};
        tcpst_capture *cap = open_ok(files, 1, NULL);
        const tcpst_input_info *info = tcpst_capture_input(cap, 0);
        ck_assert(info->nanosecond);
        ck_assert_str_eq(info->format, "pcap");
        struct seen s[4];
        ck_assert_uint_eq(read_all(cap, s, 4), 2);
        ck_assert_int_eq(s[0].ts, NS(1, 123456789));
        ck_assert_int_eq(s[1].ts, NS(2, 999999999));
        ck_assert_uint_eq(s[1].tag, 2);
        tcpst_capture_close(cap);
    }
}
END_TEST

START_TEST(test_usec_pcap_big_endian)
{
    const struct rec r[] = {{7, 654321, 3, 9, NULL, 5}};
    write_pcap_ex(tp("be.pcap"), 1, false, true, r, 1);
    const char *files[] = {tp("be.pcap")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    ck_assert(!tcpst_capture_input(cap, 0)->nanosecond);
    tcpst_pkt pkt;
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_int_eq(pkt.ts, NS(7, 654321000));
    ck_assert_uint_eq(pkt.caplen, 3);
    ck_assert_uint_eq(pkt.wirelen, 9);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_pcapng_default_usec)
{
    const struct rec r[] = {
        {100, 1, 5, 5, NULL, 1},
        {100, 2, 6, 1500, NULL, 2},
        {101, 999999, 7, 7, NULL, 3},
    };
    write_pcapng(tp("a.pcapng"), -1, r, 3);
    const char *files[] = {tp("a.pcapng")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert_str_eq(info->format, "pcapng");
    ck_assert(!info->nanosecond);
    ck_assert_int_eq(info->linktype, 1);
    ck_assert_str_eq(info->linktype_name, "EN10MB");
    ck_assert_int_eq(info->snaplen, 65535);
    tcpst_pkt pkt;
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_uint_eq(pkt.frame, 1);
    ck_assert_int_eq(pkt.ts, NS(100, 1000));
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_uint_eq(pkt.frame, 2);
    ck_assert_int_eq(pkt.ts, NS(100, 2000));
    ck_assert_uint_eq(pkt.caplen, 6);
    ck_assert_uint_eq(pkt.wirelen, 1500);
    ck_assert_uint_eq(pkt.data[5], 2);
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_uint_eq(pkt.frame, 3);
    ck_assert_int_eq(pkt.ts, NS(101, 999999000));
    ck_assert_uint_eq(pkt.caplen, 7);
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 0);
    ck_assert_uint_eq(info->packets, 3);
    ck_assert_uint_eq(info->bytes, 5 + 1500 + 7);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_pcapng_nanosecond)
{
    const struct rec r[] = {{100, 123456789, 4, 4, NULL, 1}, {100, 123456790, 4, 4, NULL, 2}};
    write_pcapng(tp("ns.pcapng"), 9, r, 2);
    const char *files[] = {tp("ns.pcapng")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert_str_eq(info->format, "pcapng");
    ck_assert(info->nanosecond);
    struct seen s[4];
    ck_assert_uint_eq(read_all(cap, s, 4), 2);
    ck_assert_int_eq(s[0].ts, NS(100, 123456789));
    ck_assert_int_eq(s[1].ts, NS(100, 123456790));
    tcpst_capture_close(cap);

    /* if_tsresol 6 is explicit microseconds. */
    write_pcapng(tp("us.pcapng"), 6, r, 0);
    files[0] = tp("us.pcapng");
    cap = open_ok(files, 1, NULL);
    ck_assert(!tcpst_capture_input(cap, 0)->nanosecond);
    ck_assert_uint_eq(read_all(cap, s, 4), 0);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_raw_ip_linktype)
{
    const struct rec r[] = {{1, 0, 4, 4, NULL, 0x45}};
    write_pcap_ex(tp("raw.pcap"), 101, false, false, r, 1);
    const char *files[] = {tp("raw.pcap")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    ck_assert_int_eq(tcpst_capture_input(cap, 0)->linktype, 101);
    ck_assert_str_eq(tcpst_capture_input(cap, 0)->linktype_name, "RAW");
    tcpst_pkt pkt;
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_int_eq(pkt.linktype, 101);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_zero_packets)
{
    write_pcap(tp("empty.pcap"), NULL, 0);
    const char *files[] = {tp("empty.pcap")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    tcpst_pkt pkt;
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 0);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert_uint_eq(info->packets, 0);
    ck_assert_int_eq(info->first_ts, 0);
    ck_assert_int_eq(info->last_ts, 0);
    ck_assert(!info->truncated);
    ck_assert_uint_eq(tcpst_capture_packets(cap), 0);
    tcpst_capture_close(cap);
}
END_TEST

/* ---- merging -------------------------------------------------------------- */

/* Six packets, tags 1..6, at increasing times (two share a second). */
static const struct rec all6[] = {
    {10, 0, 8, 60, NULL, 1}, {10, 250000, 8, 60, NULL, 2}, {10, 250001, 8, 60, NULL, 3},
    {11, 0, 8, 60, NULL, 4}, {12, 5, 8, 60, NULL, 5},      {13, 0, 8, 60, NULL, 6},
};

static void check_same_as_combined(const struct seen *s, size_t n)
{
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(s[i].tag, all6[i].tag);
        ck_assert_uint_eq(s[i].frame, i + 1);
        ck_assert_int_eq(s[i].ts, NS(all6[i].sec, (tcpst_time)all6[i].frac * 1000));
    }
}

START_TEST(test_merge_interleaved)
{
    struct rec odd[3], even[3];
    for (int i = 0; i < 3; i++) {
        odd[i] = all6[2 * i];
        even[i] = all6[2 * i + 1];
    }
    write_pcap(tp("all.pcap"), all6, 6);
    write_pcap(tp("odd.pcap"), odd, 3);
    write_pcap(tp("even.pcap"), even, 3);

    struct seen s[8];
    const char *one[] = {tp("all.pcap")};
    tcpst_capture *cap = open_ok(one, 1, NULL);
    check_same_as_combined(s, read_all(cap, s, 8));
    tcpst_capture_close(cap);

    const char *two[] = {tp("even.pcap"), tp("odd.pcap")};
    cap = open_ok(two, 2, NULL);
    size_t n = read_all(cap, s, 8);
    check_same_as_combined(s, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(s[i].input, s[i].tag % 2 == 0 ? 0 : 1);
    }
    ck_assert_uint_eq(tcpst_capture_input(cap, 0)->packets, 3);
    ck_assert_uint_eq(tcpst_capture_input(cap, 1)->packets, 3);
    ck_assert_uint_eq(tcpst_capture_input(cap, 1)->bytes, 180);
    ck_assert_int_eq(tcpst_capture_input(cap, 0)->first_ts, NS(10, 250000000));
    ck_assert_int_eq(tcpst_capture_input(cap, 0)->last_ts, NS(13, 0));
    ck_assert_uint_eq(tcpst_capture_packets(cap), 6);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_merge_rotated_any_order)
{
    /* A capture rotated into three files, named on the command line out of order. */
    write_pcap(tp("r1.pcap"), all6, 2);
    write_pcap(tp("r2.pcap"), all6 + 2, 3);
    write_pcap(tp("r3.pcap"), all6 + 5, 1);
    const char *files[] = {tp("r3.pcap"), tp("r1.pcap"), tp("r2.pcap")};
    tcpst_capture *cap = open_ok(files, 3, NULL);
    struct seen s[8];
    size_t n = read_all(cap, s, 8);
    check_same_as_combined(s, n);
    ck_assert_uint_eq(s[0].input, 1);
    ck_assert_uint_eq(s[2].input, 2);
    ck_assert_uint_eq(s[5].input, 0);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_merge_ties_by_input_index)
{
    const struct rec a[] = {{10, 0, 1, 1, NULL, 0xa1}, {20, 0, 1, 1, NULL, 0xa2}};
    const struct rec b[] = {{10, 0, 1, 1, NULL, 0xb1}, {20, 0, 1, 1, NULL, 0xb2}};
    write_pcap(tp("a.pcap"), a, 2);
    write_pcap(tp("b.pcap"), b, 2);
    struct seen s[4];

    const char *ab[] = {tp("a.pcap"), tp("b.pcap")};
    tcpst_capture *cap = open_ok(ab, 2, NULL);
    ck_assert_uint_eq(read_all(cap, s, 4), 4);
    ck_assert_uint_eq(s[0].tag, 0xa1);
    ck_assert_uint_eq(s[1].tag, 0xb1);
    ck_assert_uint_eq(s[2].tag, 0xa2);
    ck_assert_uint_eq(s[3].tag, 0xb2);
    tcpst_capture_close(cap);

    const char *ba[] = {tp("b.pcap"), tp("a.pcap")};
    cap = open_ok(ba, 2, NULL);
    ck_assert_uint_eq(read_all(cap, s, 4), 4);
    ck_assert_uint_eq(s[0].tag, 0xb1);
    ck_assert_uint_eq(s[1].tag, 0xa1);
    ck_assert_uint_eq(s[2].tag, 0xb2);
    ck_assert_uint_eq(s[3].tag, 0xa2);
    ck_assert_uint_eq(s[3].frame, 4);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_single_file_keeps_file_order)
{
    /* Out-of-order timestamps inside one file: frames follow the file, as in Wireshark. */
    const struct rec r[] = {{5, 0, 1, 1, NULL, 1}, {4, 0, 1, 1, NULL, 2}, {6, 0, 1, 1, NULL, 3}};
    write_pcap(tp("ooo.pcap"), r, 3);
    const char *files[] = {tp("ooo.pcap")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    struct seen s[4];
    ck_assert_uint_eq(read_all(cap, s, 4), 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(s[i].tag, (unsigned)i + 1);
        ck_assert_uint_eq(s[i].frame, (uint64_t)i + 1);
    }
    ck_assert_int_eq(tcpst_capture_input(cap, 0)->first_ts, NS(4, 0));
    ck_assert_int_eq(tcpst_capture_input(cap, 0)->last_ts, NS(6, 0));
    tcpst_capture_close(cap);
}
END_TEST

/* ---- BPF filter ------------------------------------------------------------ */

START_TEST(test_filter_keeps_frame_numbers)
{
    uint8_t f[5][FRAME_LEN];
    eth_ipv4_tcp(f[0], 40000, 80);
    eth_ipv4_tcp(f[1], 40000, 443);
    eth_ipv4_tcp(f[2], 80, 40000);
    eth_ipv4_tcp(f[3], 40000, 80);
    f[3][12] = 0x08, f[3][13] = 0x06; /* ARP ethertype: not IP at all */
    eth_ipv4_tcp(f[4], 40000, 8080);
    struct rec r[5];
    for (int i = 0; i < 5; i++) {
        r[i] = (struct rec){100, (uint32_t)i, FRAME_LEN, FRAME_LEN + (uint32_t)i, f[i], 0};
    }
    write_pcap(tp("f.pcap"), r, 5);
    const char *files[] = {tp("f.pcap")};

    tcpst_capture *cap = open_ok(files, 1, "tcp port 80");
    tcpst_pkt pkt;
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_uint_eq(pkt.frame, 1);
    ck_assert_uint_eq(pkt.wirelen, FRAME_LEN);
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_uint_eq(pkt.frame, 3);
    ck_assert_uint_eq(pkt.wirelen, FRAME_LEN + 2);
    ck_assert_uint_eq(pkt.data[34], 0); /* source port 80 */
    ck_assert_uint_eq(pkt.data[35], 80);
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 0);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert_uint_eq(info->packets, 5);
    ck_assert_uint_eq(info->filtered, 3);
    ck_assert_uint_eq(info->bytes, 5 * FRAME_LEN + 10);
    ck_assert_int_eq(info->last_ts, NS(100, 4000));
    ck_assert_uint_eq(tcpst_capture_packets(cap), 5);
    ck_assert_uint_eq(tcpst_capture_filtered(cap), 3);
    tcpst_capture_close(cap);

    /* An empty filter means none. */
    cap = open_ok(files, 1, "");
    struct seen s[8];
    ck_assert_uint_eq(read_all(cap, s, 8), 5);
    ck_assert_uint_eq(tcpst_capture_filtered(cap), 0);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_filter_across_merged_inputs)
{
    uint8_t hit[FRAME_LEN], miss[FRAME_LEN];
    eth_ipv4_tcp(hit, 1234, 80);
    eth_ipv4_tcp(miss, 1234, 22);
    const struct rec a[] = {{1, 0, FRAME_LEN, FRAME_LEN, miss, 0},
                            {3, 0, FRAME_LEN, FRAME_LEN, hit, 0}};
    const struct rec b[] = {{2, 0, FRAME_LEN, FRAME_LEN, hit, 0},
                            {4, 0, FRAME_LEN, FRAME_LEN, miss, 0}};
    write_pcap(tp("a.pcap"), a, 2);
    write_pcap(tp("b.pcap"), b, 2);
    const char *files[] = {tp("a.pcap"), tp("b.pcap")};
    tcpst_capture *cap = open_ok(files, 2, "tcp port 80");
    struct seen s[4];
    ck_assert_uint_eq(read_all(cap, s, 4), 2);
    ck_assert_uint_eq(s[0].frame, 2);
    ck_assert_uint_eq(s[0].input, 1);
    ck_assert_uint_eq(s[1].frame, 3);
    ck_assert_uint_eq(s[1].input, 0);
    ck_assert_uint_eq(tcpst_capture_input(cap, 0)->filtered, 1);
    ck_assert_uint_eq(tcpst_capture_input(cap, 1)->filtered, 1);
    ck_assert_uint_eq(tcpst_capture_filtered(cap), 2);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_filter_invalid)
{
    write_pcap(tp("a.pcap"), all6, 1);
    const char *files[] = {tp("a.pcap")};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 1, "tcp port foo", &err), TCPST_EFILTER);
    const char *prefix = "invalid filter 'tcp port foo': ";
    ck_assert_msg(strncmp(err.msg, prefix, strlen(prefix)) == 0, "got '%s'", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "foo'")); /* libpcap: "unknown port 'foo'" */
    ck_assert_uint_gt(strlen(err.msg), strlen(prefix));
    ck_assert_ptr_null(strchr(err.msg, '\n'));

    ck_assert_int_eq(open_fail(files, 1, "tcp and and", &err), TCPST_EFILTER);
    ck_assert(strncmp(err.msg, "invalid filter 'tcp and and': ", 30) == 0);
}
END_TEST

START_TEST(test_filter_invalid_for_one_link_type)
{
    /* Valid for Ethernet, not for raw IP: the message says which file. */
    write_pcap(tp("eth.pcap"), all6, 1);
    write_pcap_ex(tp("raw.pcap"), 101, false, false, all6, 1);
    const char *files[] = {tp("eth.pcap"), tp("raw.pcap")};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 2, "ether host 02:00:00:00:00:01", &err), TCPST_EFILTER);
    char want[600];
    snprintf(want, sizeof(want),
             "invalid filter 'ether host 02:00:00:00:00:01' for %s (link type RAW): ", files[1]);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "got '%s'", err.msg);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

START_TEST(test_nonexistent_file)
{
    const char *files[] = {tp("missing.pcap")};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 1, NULL, &err), TCPST_EOPEN);
    char want[600];
    snprintf(want, sizeof(want), "%s: No such file or directory", files[0]);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(test_second_file_fails)
{
    /* The first input is opened and must be released again (ASan checks leaks). */
    write_pcap(tp("ok.pcap"), all6, 6);
    const char *files[] = {tp("ok.pcap"), tp("missing.pcap")};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 2, "tcp", &err), TCPST_EOPEN);
    ck_assert(strncmp(err.msg, files[1], strlen(files[1])) == 0);
}
END_TEST

START_TEST(test_garbage_file)
{
    static const char junk[] = "this is certainly not a capture file";
    write_bytes(tp("junk.pcap"), junk, sizeof(junk));
    const char *files[] = {tp("junk.pcap")};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 1, NULL, &err), TCPST_EFORMAT);
    char want[600];
    snprintf(want, sizeof(want), "%s: unknown file format", files[0]);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(test_empty_file)
{
    write_bytes(tp("zero.pcap"), "", 0);
    const char *files[] = {tp("zero.pcap")};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 1, NULL, &err), TCPST_EFORMAT);
    /* libpcap's text ("truncated dump file; ...") follows the name. */
    size_t len = strlen(files[0]);
    ck_assert(strncmp(err.msg, files[0], len) == 0);
    ck_assert(strncmp(err.msg + len, ": ", 2) == 0);
    ck_assert_uint_gt(strlen(err.msg), len + 2);
}
END_TEST

/* The rest of the unsupported-link-type error: what to do, on the same line. */
#define EDITCAP_HINT "; convert it with `editcap -T ether` if its frames are Ethernet"

START_TEST(test_unsupported_linktype)
{
    write_pcap_ex(tp("usb.pcap"), 189, false, false, all6, 2);
    write_pcap(tp("ok.pcap"), all6, 2);
    const char *files[] = {tp("ok.pcap"), tp("usb.pcap")};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 2, NULL, &err), TCPST_ELINKTYPE);
    char want[600];
    snprintf(want, sizeof(want), "%s: unsupported link type USB_LINUX (189)" EDITCAP_HINT,
             files[1]);
    ck_assert_str_eq(err.msg, want);

    /* A number libpcap has no name for. */
    write_pcap_ex(tp("odd.pcap"), 60000, false, false, all6, 1);
    files[1] = tp("odd.pcap");
    ck_assert_int_eq(open_fail(files, 2, NULL, &err), TCPST_ELINKTYPE);
    snprintf(want, sizeof(want), "%s: unsupported link type LINKTYPE_60000 (60000)" EDITCAP_HINT,
             files[1]);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* Capture does not know the decoder: the caller's predicate says which link types to
 * read, and without one every link type is read. */
static int only_raw(int linktype)
{
    return linktype == 101;
}

START_TEST(test_linktype_predicate)
{
    write_pcap_ex(tp("wifi.pcap"), 127, false, false, all6, 2);
    write_pcap(tp("ok.pcap"), all6, 2);
    const char *files[] = {tp("ok.pcap"), tp("wifi.pcap")};
    tcpst_capture *cap = NULL;
    tcpst_error err = {0, ""};
    ck_assert_int_eq(tcpst_capture_open(&cap, files, 2, NULL, NULL, &err), 0);
    ck_assert_int_eq(tcpst_capture_input(cap, 1)->linktype, 127);
    struct seen sn[8];
    ck_assert_uint_eq(read_all(cap, sn, 8), 4);
    tcpst_capture_close(cap);

    ck_assert_int_eq(tcpst_capture_open(&cap, files, 2, NULL, only_raw, &err), TCPST_ELINKTYPE);
    ck_assert_ptr_null(cap);
    char want[600];
    snprintf(want, sizeof(want), "%s: unsupported link type EN10MB (1)" EDITCAP_HINT, files[0]);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(test_truncated_in_record)
{
    write_pcap(tp("cut.pcap"), all6, 3);
    ck_assert_int_eq(truncate(tp("cut.pcap"), file_size(tp("cut.pcap")) - 5), 0);
    const char *files[] = {tp("cut.pcap")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    struct seen s[8];
    ck_assert_uint_eq(read_all(cap, s, 8), 2);
    ck_assert_uint_eq(s[1].tag, 2);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert(info->truncated);
    ck_assert_uint_eq(info->packets, 2);
    /* The offset is where the cut record starts: the file header and two whole records. */
    ck_assert_msg(strncmp(info->error, "damaged record at byte 72: truncated dump file", 46) == 0,
                  "got '%s'", info->error);
    tcpst_capture_close(cap);

    /* Cut inside a record header: same outcome. */
    write_pcap(tp("cut2.pcap"), all6, 3);
    ck_assert_int_eq(truncate(tp("cut2.pcap"), 24 + 2 * (16 + 8) + 7), 0);
    files[0] = tp("cut2.pcap");
    cap = open_ok(files, 1, NULL);
    ck_assert_uint_eq(read_all(cap, s, 8), 2);
    ck_assert(tcpst_capture_input(cap, 0)->truncated);
    ck_assert_str_ne(tcpst_capture_input(cap, 0)->error, "");
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_truncated_input_others_continue)
{
    /* all6 times: 10.0, 10.25, 10.250001, 11, 12.000005, 13 */
    const struct rec a[] = {all6[0], all6[2], all6[4]};
    const struct rec b[] = {all6[1], all6[3], all6[5]};
    write_pcap(tp("a.pcap"), a, 3);
    ck_assert_int_eq(truncate(tp("a.pcap"), file_size(tp("a.pcap")) - 1), 0);
    write_pcap(tp("b.pcap"), b, 3);
    const char *files[] = {tp("a.pcap"), tp("b.pcap")};
    tcpst_capture *cap = open_ok(files, 2, NULL);
    struct seen s[8];
    ck_assert_uint_eq(read_all(cap, s, 8), 5);
    static const uint8_t want[] = {1, 2, 3, 4, 6};
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(s[i].tag, want[i]);
        ck_assert_uint_eq(s[i].frame, (uint64_t)i + 1);
    }
    ck_assert(tcpst_capture_input(cap, 0)->truncated);
    ck_assert(!tcpst_capture_input(cap, 1)->truncated);
    ck_assert_str_eq(tcpst_capture_input(cap, 1)->error, "");
    ck_assert_uint_eq(tcpst_capture_input(cap, 0)->packets, 2);
    ck_assert_uint_eq(tcpst_capture_input(cap, 1)->packets, 3);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_truncated_global_header)
{
    write_pcap(tp("hdr.pcap"), all6, 3);
    ck_assert_int_eq(truncate(tp("hdr.pcap"), 10), 0);
    const char *files[] = {tp("hdr.pcap")};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 1, NULL, &err), TCPST_EFORMAT);
    char want[600];
    snprintf(want, sizeof(want), "%s: truncated dump file", files[0]);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "got '%s'", err.msg);
}
END_TEST

START_TEST(test_caplen_above_wirelen)
{
    const struct rec r[] = {
        {1, 0, 20, 20, NULL, 1},
        {1, 1, 30, 10, NULL, 2},
        {1, 2, 1, 1, NULL, 3},
    };
    write_pcap(tp("bad.pcap"), r, 3);
    const char *files[] = {tp("bad.pcap")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    struct seen s[4];
    ck_assert_uint_eq(read_all(cap, s, 4), 1);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert(info->truncated);
    ck_assert_str_eq(info->error,
                     "damaged record at byte 60: record 2: captured length 30 exceeds original "
                     "length 10");
    ck_assert_uint_eq(info->packets, 1);
    ck_assert_uint_eq(info->bytes, 20);
    tcpst_capture_close(cap);
}
END_TEST

/* ---- usage ------------------------------------------------------------------ */

START_TEST(test_usage_errors)
{
    tcpst_error err;
    const char *none[] = {NULL};
    ck_assert_int_eq(open_fail(none, 0, NULL, &err), TCPST_EUSAGE);
    ck_assert_str_eq(err.msg, "no input files");

    const char *dash2[] = {"-", tp("x.pcap"), "-"};
    ck_assert_int_eq(open_fail(dash2, 3, NULL, &err), TCPST_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "'-'"));

    const char *blank[] = {""};
    ck_assert_int_eq(open_fail(blank, 1, NULL, &err), TCPST_EUSAGE);

    ck_assert_int_eq(tcpst_capture_open(NULL, blank, 1, NULL, NULL, NULL), TCPST_EUSAGE);
    tcpst_capture_close(NULL);
}
END_TEST

/* ---- standard input ---------------------------------------------------------- */

/* Run `fn` with fd 0 replaced by `fd`; restores the original stdin afterwards. */
static void with_stdin(int fd, void (*fn)(void))
{
    int saved = dup(STDIN_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    fn();
    /* capture reads through its own descriptor: fd 0 is still open. */
    ck_assert_int_ne(fcntl(STDIN_FILENO, F_GETFD), -1);
    ck_assert_int_eq(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
}

/* A pipe already holding the file's bytes (small files fit in the pipe buffer). */
static int pipe_with(const char *path)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        ck_assert_int_eq(write(p[1], buf, n), (ssize_t)n);
    }
    fclose(f);
    close(p[1]);
    return p[0];
}

static void read_stdin_ns_pcap(void)
{
    const char *files[] = {"-"};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert_str_eq(info->name, "-");
    ck_assert_str_eq(info->format, "pcap");
    ck_assert(info->nanosecond); /* a regular file on stdin can be peeked */
    struct seen s[4];
    ck_assert_uint_eq(read_all(cap, s, 4), 2);
    ck_assert_int_eq(s[0].ts, NS(1, 123456789));
    ck_assert_uint_eq(s[1].tag, 2);
    tcpst_capture_close(cap);
}

START_TEST(test_stdin_regular_file)
{
    const struct rec r[] = {{1, 123456789, 4, 4, NULL, 1}, {2, 0, 4, 4, NULL, 2}};
    write_pcap_ex(tp("in.pcap"), 1, true, false, r, 2);
    int fd = open(tp("in.pcap"), O_RDONLY);
    ck_assert_int_ge(fd, 0);
    with_stdin(fd, read_stdin_ns_pcap);
}
END_TEST

static void read_stdin_pipe_pcapng(void)
{
    const char *files[] = {tp("b.pcap"), "-"};
    tcpst_capture *cap = open_ok(files, 2, NULL);
    const tcpst_input_info *info = tcpst_capture_input(cap, 1);
    ck_assert_str_eq(info->format, "pcapng"); /* from libpcap's version 1.0 */
    struct seen s[8];
    ck_assert_uint_eq(read_all(cap, s, 8), 4);
    static const uint8_t want[] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(s[i].tag, want[i]);
        ck_assert_uint_eq(s[i].input, want[i] % 2 == 1 ? 1 : 0);
    }
    ck_assert_uint_eq(info->packets, 2);
    tcpst_capture_close(cap);
}

START_TEST(test_stdin_pipe_merged)
{
    const struct rec a[] = {{1, 0, 4, 4, NULL, 1}, {3, 0, 4, 4, NULL, 3}};
    const struct rec b[] = {{2, 0, 4, 4, NULL, 2}, {4, 0, 4, 4, NULL, 4}};
    write_pcapng(tp("a.pcapng"), 9, a, 2);
    write_pcap(tp("b.pcap"), b, 2);
    with_stdin(pipe_with(tp("a.pcapng")), read_stdin_pipe_pcapng);
}
END_TEST

static void read_stdin_pipe_pcap(void)
{
    const char *files[] = {"-"};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    ck_assert_str_eq(tcpst_capture_input(cap, 0)->format, "pcap");
    struct seen s[8];
    check_same_as_combined(s, read_all(cap, s, 8));
    tcpst_capture_close(cap);
}

START_TEST(test_stdin_pipe_pcap)
{
    write_pcap(tp("all.pcap"), all6, 6);
    with_stdin(pipe_with(tp("all.pcap")), read_stdin_pipe_pcap);
}
END_TEST

static void open_stdin_garbage(void)
{
    const char *files[] = {"-"};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 1, NULL, &err), TCPST_EFORMAT);
    ck_assert_str_eq(err.msg, "standard input: unknown file format");
}

START_TEST(test_stdin_garbage)
{
    write_bytes(tp("junk"), "0123456789abcdefghijklmnopqrstuvwxyz", 36);
    with_stdin(pipe_with(tp("junk")), open_stdin_garbage);
}
END_TEST

/* ---- saving packets (-w) --------------------------------------------------- */

/* A full copy of one packet as handed out, to compare a run with its re-run. */
struct copy {
    uint8_t data[2048];
    uint32_t caplen, wirelen;
    tcpst_time ts;
    uint64_t frame;
    int linktype;
};

static size_t copy_all(tcpst_capture *cap, struct copy *out, size_t max)
{
    size_t n = 0;
    tcpst_pkt pkt;
    while (tcpst_capture_next(cap, &pkt) == 1) {
        ck_assert_uint_lt(n, max);
        ck_assert_uint_le(pkt.caplen, sizeof(out[n].data));
        memcpy(out[n].data, pkt.data, pkt.caplen);
        out[n].caplen = pkt.caplen;
        out[n].wirelen = pkt.wirelen;
        out[n].ts = pkt.ts;
        out[n].frame = pkt.frame;
        out[n].linktype = pkt.linktype;
        n++;
    }
    return n;
}

static void check_same_packets(const struct copy *a, const struct copy *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(a[i].caplen, b[i].caplen);
        ck_assert_uint_eq(a[i].wirelen, b[i].wirelen);
        ck_assert_int_eq(a[i].ts, b[i].ts);
        ck_assert_uint_eq(a[i].frame, b[i].frame);
        ck_assert_int_eq(a[i].linktype, b[i].linktype);
        ck_assert_mem_eq(a[i].data, b[i].data, a[i].caplen);
    }
}

/* The saved file's header, read back in host byte order (libpcap writes it
 * in the writer's order). */
struct filehdr {
    uint32_t magic, snaplen, linktype;
};

static struct filehdr read_filehdr(const char *path)
{
    uint8_t h[24];
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(h, 1, sizeof(h), f), sizeof(h));
    fclose(f);
    struct filehdr r;
    memcpy(&r.magic, h, 4);
    memcpy(&r.snaplen, h + 16, 4);
    memcpy(&r.linktype, h + 20, 4);
    return r;
}

static void dump_ok(tcpst_capture *cap, const char *path)
{
    tcpst_error err = {0, ""};
    int rc = tcpst_capture_dump_open(cap, path, &err);
    ck_assert_msg(rc == 0, "dump_open failed: %d %s", rc, err.msg);
}

/* Records with nanosecond fractions, varied lengths, one cut by the snaplen. */
static void ns_records(struct rec *r, uint8_t (*frames)[FRAME_LEN], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        eth_ipv4_tcp(frames[i], (uint16_t)(40000 + i), i % 2 ? 443 : 80);
        frames[i][FRAME_LEN - 1] = (uint8_t)(0xa0 + i); /* the payload byte */
        uint32_t caplen = i == 3 ? 40 : FRAME_LEN;
        r[i] = (struct rec){1700000000u + (uint32_t)(i / 2),
                            123456789u + (uint32_t)i * 7,
                            caplen,
                            FRAME_LEN + (uint32_t)i * 100,
                            frames[i],
                            0};
    }
}

START_TEST(test_dump_roundtrip_offline)
{
    enum { N = 6 };
    uint8_t frames[N][FRAME_LEN];
    struct rec r[N];
    ns_records(r, frames, N);
    write_pcap_ex(tp("in.pcap"), 1, true, true, r, N); /* big-endian ns file */
    const char *in[] = {tp("in.pcap")};
    const char *out[] = {tp("out.pcap")};

    struct copy *first = calloc(2 * N, sizeof(*first));
    struct copy *second = first + N;
    ck_assert_ptr_nonnull(first);
    tcpst_capture *cap = open_ok(in, 1, NULL);
    dump_ok(cap, out[0]);
    ck_assert_uint_eq(copy_all(cap, first, N), N);
    tcpst_capture_close(cap);

    struct filehdr h = read_filehdr(out[0]);
    ck_assert_uint_eq(h.magic, 0xa1b23c4du); /* nanosecond pcap */
    ck_assert_uint_eq(h.linktype, 1);
    ck_assert_uint_eq(h.snaplen, 65535);

    cap = open_ok(out, 1, NULL);
    ck_assert_uint_eq(copy_all(cap, second, N), N);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert(info->nanosecond);
    ck_assert_str_eq(info->format, "pcap");
    ck_assert(!info->truncated);
    tcpst_capture_close(cap);
    check_same_packets(first, second, N);
    /* And what was read is what the input holds. */
    ck_assert_int_eq(first[5].ts, NS(1700000002, 123456789 + 35));
    ck_assert_uint_eq(first[3].caplen, 40);
    ck_assert_uint_eq(first[3].wirelen, FRAME_LEN + 300);
    ck_assert_uint_eq(first[4].data[FRAME_LEN - 1], 0xa4);
    free(first);
}
END_TEST

/* Microsecond inputs merged into one file: times exact in ns, frames kept. */
START_TEST(test_dump_merged_usec_inputs)
{
    struct rec odd[3], even[3];
    for (int i = 0; i < 3; i++) {
        odd[i] = all6[2 * i];
        even[i] = all6[2 * i + 1];
    }
    write_pcap(tp("odd.pcap"), odd, 3);
    write_pcapng(tp("even.pcapng"), -1, even, 3);
    const char *in[] = {tp("even.pcapng"), tp("odd.pcap")};
    const char *out[] = {tp("out.pcap")};
    struct copy a[6], b[6];
    tcpst_capture *cap = open_ok(in, 2, NULL);
    dump_ok(cap, out[0]);
    ck_assert_uint_eq(copy_all(cap, a, 6), 6);
    tcpst_capture_close(cap);

    cap = open_ok(out, 1, NULL);
    ck_assert_uint_eq(copy_all(cap, b, 6), 6);
    tcpst_capture_close(cap);
    check_same_packets(a, b, 6);
    for (size_t i = 0; i < 6; i++) {
        ck_assert_uint_eq(b[i].data[0], all6[i].tag);
        ck_assert_int_eq(b[i].ts, NS(all6[i].sec, (tcpst_time)all6[i].frac * 1000));
    }
}
END_TEST

/* With an offline filter only the packets handed out are saved. */
START_TEST(test_dump_offline_filter)
{
    enum { N = 6 };
    uint8_t frames[N][FRAME_LEN];
    struct rec r[N];
    ns_records(r, frames, N);
    r[3].caplen = FRAME_LEN; /* the filter needs the ports */
    write_pcap_ex(tp("in.pcap"), 1, true, false, r, N);
    const char *in[] = {tp("in.pcap")};
    const char *out[] = {tp("out.pcap")};
    struct copy a[N], b[N];
    tcpst_capture *cap = open_ok(in, 1, "tcp port 443");
    dump_ok(cap, out[0]);
    ck_assert_uint_eq(copy_all(cap, a, N), 3);
    ck_assert_uint_eq(a[0].frame, 2);
    ck_assert_uint_eq(a[2].frame, 6);
    tcpst_capture_close(cap);

    cap = open_ok(out, 1, NULL);
    ck_assert_uint_eq(copy_all(cap, b, N), 3);
    tcpst_capture_close(cap);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(b[i].frame, i + 1); /* renumbered: documented */
        ck_assert_int_eq(b[i].ts, a[i].ts);
        ck_assert_mem_eq(b[i].data, a[i].data, a[i].caplen);
    }
}
END_TEST

START_TEST(test_dump_errors)
{
    write_pcap(tp("a.pcap"), all6, 6);
    const char *in[] = {tp("a.pcap")};
    tcpst_capture *cap = open_ok(in, 1, NULL);
    tcpst_error err;
    char path[600];

    snprintf(path, sizeof(path), "%s/no/such/dir.pcap", tmpdir);
    ck_assert_int_eq(tcpst_capture_dump_open(cap, path, &err), TCPST_EWRITE);
    char want[700];
    snprintf(want, sizeof(want), "%s: cannot open for writing: No such file or directory", path);
    ck_assert_str_eq(err.msg, want);

    ck_assert_int_eq(tcpst_capture_dump_open(cap, tmpdir, &err), TCPST_EWRITE);
    snprintf(want, sizeof(want), "%s: cannot open for writing: Is a directory", tmpdir);
    ck_assert_str_eq(err.msg, want);

    ck_assert_int_eq(tcpst_capture_dump_open(cap, "", &err), TCPST_EUSAGE);

    /* A failed open leaves none half-open: a later one works. */
    dump_ok(cap, tp("ok.pcap"));
    ck_assert_int_eq(tcpst_capture_dump_open(cap, tp("again.pcap"), &err), TCPST_EUSAGE);
    ck_assert_str_eq(err.msg,
                     strcat(strcpy(want, tp("again.pcap")), ": already writing packets to a file"));
    tcpst_capture_close(cap);
    ck_assert_int_eq(file_size(tp("ok.pcap")), 24); /* header only: nothing read */

    /* Two link types cannot share one pcap file. */
    write_pcap_ex(tp("raw.pcap"), 101, false, false, all6, 6);
    const char *mixed[] = {tp("a.pcap"), tp("raw.pcap")};
    cap = open_ok(mixed, 2, NULL);
    ck_assert_int_eq(tcpst_capture_dump_open(cap, tp("m.pcap"), &err), TCPST_ELINKTYPE);
    ck_assert_str_eq(err.msg, strcat(strcpy(want, tp("m.pcap")),
                                     ": cannot save inputs of link types EN10MB and RAW in one "
                                     "pcap file (a .pcapng file can hold both)"));
    tcpst_capture_close(cap);
}
END_TEST

/* -w FILE.pcapng keeps both link types (an interface each), nanosecond times, and ends in
 * statistics blocks that give the end of the capture back to a reader. */
START_TEST(test_dump_pcapng_roundtrip)
{
    write_pcap(tp("a.pcap"), all6, 6);
    write_pcap_ex(tp("raw.pcap"), 101, false, false, all6, 3);
    const char *mixed[] = {tp("a.pcap"), tp("raw.pcap")};
    tcpst_capture *cap = open_ok(mixed, 2, NULL);
    dump_ok(cap, tp("m.pcapng"));
    struct seen a[16];
    ck_assert_uint_eq(read_all(cap, a, 16), 9);
    tcpst_time end = NS(20, 500000000);
    ck_assert_int_eq(tcpst_capture_dump_finish(cap, end), 0);
    ck_assert_uint_eq(tcpst_capture_dump_skipped(cap), 0);
    tcpst_capture_close(cap);

    const char *back[] = {tp("m.pcapng")};
    cap = open_ok(back, 1, NULL);
    tcpst_pkt pkt;
    int lts[2] = {0, 0};
    for (size_t i = 0; i < 9; i++) {
        ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
        ck_assert_int_eq(pkt.ts, a[i].ts);
        ck_assert_uint_eq(pkt.data[0], a[i].tag);
        lts[pkt.linktype == 101]++;
    }
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 0);
    ck_assert_int_eq(lts[0], 6);
    ck_assert_int_eq(lts[1], 3);
    const tcpst_input_info *in = tcpst_capture_input(cap, 0);
    ck_assert_str_eq(in->format, "pcapng");
    ck_assert_uint_eq(in->interfaces, 2);
    ck_assert(in->nanosecond);
    ck_assert(in->has_end);
    ck_assert_int_eq(in->end_ts, end);
    ck_assert_int_eq(in->start_ts, a[0].ts);
    ck_assert(!in->has_ifrecv && !in->has_ifdrop); /* offline: no libpcap counters */
    tcpst_capture_end ce;
    tcpst_error err;
    ck_assert_int_eq(tcpst_capture_end_of(cap, TCPST_ENDG_NONE, 0, NULL, false, 0, &ce, &err), 0);
    ck_assert(ce.known);
    ck_assert_int_eq(ce.end, end);
    ck_assert_str_eq(ce.source, "pcapng-isb");
    tcpst_capture_close(cap);

    /* The same inputs into a .pcap: the second link type is left out and counted. */
    write_pcap_ex(tp("raw3.pcap"), 101, false, false, all6, 3);
    const char *one[] = {tp("raw3.pcap")};
    cap = open_ok(one, 1, NULL);
    dump_ok(cap, tp("r.pcap"));
    ck_assert_uint_eq(read_all(cap, a, 16), 3);
    ck_assert_int_eq(tcpst_capture_dump_finish(cap, end), 0);
    ck_assert_uint_eq(tcpst_capture_dump_skipped(cap), 0);
    tcpst_capture_close(cap);
}
END_TEST

/* A FIFO whose writer goes silent half-way: the stream reader hands out what came, then
 * reports idle (not a blocked call) until the writer goes on, and wakes on an interrupt. */
struct fifo_writer {
    const char *path;
    const uint8_t *bytes;
    size_t split, len;
    int go; /* read end of a pipe: one byte = write the rest */
};

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t len = fread(buf, 1, cap, f);
    fclose(f);
    return len;
}

static void *fifo_write(void *arg)
{
    struct fifo_writer *fw = arg;
    int fd = open(fw->path, O_WRONLY);
    if (fd < 0) {
        return NULL;
    }
    ssize_t w = write(fd, fw->bytes, fw->split);
    char c;
    if (w == (ssize_t)fw->split && read(fw->go, &c, 1) == 1) {
        w = write(fd, fw->bytes + fw->split, fw->len - fw->split);
    }
    (void)w;
    close(fd);
    return NULL;
}

START_TEST(test_stream_reader_idle)
{
    write_pcap(tp("src.pcap"), all6, 6);
    static uint8_t bytes[4096];
    size_t len = slurp(tp("src.pcap"), bytes, sizeof bytes);
    size_t split = 24; /* the file header and three records */
    for (int i = 0; i < 3; i++) {
        uint32_t caplen;
        memcpy(&caplen, bytes + split + 8, 4);
        split += 16 + caplen;
    }
    ck_assert_int_eq(mkfifo(tp("live.fifo"), 0600), 0);
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    struct fifo_writer fw = {tp("live.fifo"), bytes, split, len, go[0]};
    pthread_t tid;
    ck_assert_int_eq(pthread_create(&tid, NULL, fifo_write, &fw), 0);

    const char *files[] = {tp("live.fifo")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    ck_assert(tcpst_capture_input(cap, 0)->stream);
    tcpst_error err;
    ck_assert_int_eq(tcpst_capture_start_stream(cap, 20, &err), 0);
    ck_assert_int_eq(tcpst_capture_start_stream(cap, 20, &err), TCPST_EUSAGE);
    tcpst_pkt pkt;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
        ck_assert_uint_eq(pkt.data[0], all6[i].tag);
        ck_assert_uint_eq(pkt.frame, (uint64_t)i + 1);
    }
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 2); /* silent writer: idle, not blocked */
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 2);
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    int got = 0;
    for (int i = 0; i < 1000 && got < 3; i++) {
        int rc = tcpst_capture_next(cap, &pkt);
        ck_assert_int_ne(rc, 0);
        if (rc == 1) {
            ck_assert_uint_eq(pkt.data[0], all6[3 + got].tag);
            ck_assert_uint_eq(pkt.frame, (uint64_t)got + 4);
            got++;
        }
    }
    ck_assert_int_eq(got, 3);
    int rc;
    while ((rc = tcpst_capture_next(cap, &pkt)) == 2) {
    }
    ck_assert_int_eq(rc, 0); /* the writer closed: the end, and it stays */
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 0);
    ck_assert_uint_eq(tcpst_capture_input(cap, 0)->packets, 6);
    tcpst_capture_close(cap);
    pthread_join(tid, NULL);
    close(go[0]);
    close(go[1]);
}
END_TEST

/* A writer that never writes: an interrupt ends the wait at once, and close does not hang
 * on the read the writer never answers. */
START_TEST(test_stream_reader_interrupt_and_close)
{
    write_pcap(tp("src.pcap"), all6, 2);
    static uint8_t bytes[4096];
    size_t len = slurp(tp("src.pcap"), bytes, sizeof bytes);
    ck_assert_int_eq(mkfifo(tp("quiet.fifo"), 0600), 0);
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    struct fifo_writer fw = {tp("quiet.fifo"), bytes, len, len, go[0]};
    pthread_t tid;
    ck_assert_int_eq(pthread_create(&tid, NULL, fifo_write, &fw), 0);
    const char *files[] = {tp("quiet.fifo")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    tcpst_error err;
    ck_assert_int_eq(tcpst_capture_start_stream(cap, 60000, &err), 0);
    tcpst_pkt pkt;
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    tcpst_capture_interrupt(cap);
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 2); /* not 60 s later */
    tcpst_capture_close(cap);                           /* the reader is cancelled in its read */
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    pthread_join(tid, NULL);
    close(go[0]);
    close(go[1]);
}
END_TEST

/* Where the end of the capture comes from, and the refusals (docs/capture-end.md). */
START_TEST(test_capture_end_sources)
{
    write_pcap(tp("a.pcap"), all6, 6); /* last packet at 13 s */
    const char *in[] = {tp("a.pcap")};
    tcpst_capture *cap = open_ok(in, 1, NULL);
    struct seen sn[8];
    ck_assert_uint_eq(read_all(cap, sn, 8), 6);
    tcpst_time last = sn[5].ts;
    tcpst_capture_end ce;
    tcpst_error err;
    ck_assert_int_eq(tcpst_capture_end_of(cap, TCPST_ENDG_NONE, 0, NULL, false, 0, &ce, &err), 0);
    ck_assert(ce.known && ce.end == last);
    ck_assert_str_eq(ce.source, "last-packet");
    ck_assert_int_eq(
        tcpst_capture_end_of(cap, TCPST_ENDG_AFTER_LAST, NS(5, 0), "+5s", false, 0, &ce, &err), 0);
    ck_assert(ce.end == last + NS(5, 0));
    ck_assert_str_eq(ce.source, "option");
    ck_assert_int_eq(
        tcpst_capture_end_of(cap, TCPST_ENDG_AT, NS(100, 0), "100", false, 0, &ce, &err), 0);
    ck_assert(ce.end == NS(100, 0));
    /* An end before the last packet names both times. */
    ck_assert_int_eq(tcpst_capture_end_of(cap, TCPST_ENDG_AT, NS(12, 0), "12", false, 0, &ce, &err),
                     TCPST_EUSAGE);
    ck_assert_str_eq(err.msg, "--capture-end 12: the capture cannot end at "
                              "1970-01-01T00:00:12Z, before its last packet at "
                              "1970-01-01T00:00:13Z");
    /* mtime: the file's own, here set before its last packet, then after it. */
    struct timespec times[2] = {{.tv_sec = 12}, {.tv_sec = 12}};
    ck_assert_int_eq(utimensat(AT_FDCWD, tp("a.pcap"), times, 0), 0);
    ck_assert_int_eq(tcpst_capture_end_of(cap, TCPST_ENDG_MTIME, 0, "mtime", false, 0, &ce, &err),
                     TCPST_EUSAGE);
    ck_assert_msg(strstr(err.msg, "last modified at 1970-01-01T00:00:12Z") != NULL, "%s", err.msg);
    times[0].tv_sec = times[1].tv_sec = 30;
    times[1].tv_nsec = 250000000;
    ck_assert_int_eq(utimensat(AT_FDCWD, tp("a.pcap"), times, 0), 0);
    ck_assert_int_eq(tcpst_capture_end_of(cap, TCPST_ENDG_MTIME, 0, "mtime", false, 0, &ce, &err),
                     0);
    ck_assert(ce.end == NS(30, 250000000));
    /* A live stream ends at the wall clock; one behind the packets gives way to them. */
    ck_assert_int_eq(
        tcpst_capture_end_of(cap, TCPST_ENDG_NONE, 0, NULL, true, NS(40, 0), &ce, &err), 0);
    ck_assert(ce.end == NS(40, 0));
    ck_assert_str_eq(ce.source, "stream");
    ck_assert_int_eq(tcpst_capture_end_of(cap, TCPST_ENDG_NONE, 0, NULL, true, NS(1, 0), &ce, &err),
                     0);
    ck_assert(ce.end == last);
    ck_assert_str_eq(ce.source, "last-packet");
    tcpst_capture_close(cap);
}
END_TEST

/* A write error (here: a full device) shows at the flush, not silently. */
START_TEST(test_dump_flush_reports_errors)
{
    write_pcap(tp("a.pcap"), all6, 6);
    const char *in[] = {tp("a.pcap")};
    tcpst_capture *cap = open_ok(in, 1, NULL);
    dump_ok(cap, tp("out.pcap"));
    tcpst_pkt pkt;
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    ck_assert_int_eq(tcpst_capture_dump_flush(cap), 0);
    /* 24-byte header, then 16-byte record headers and 8 bytes each. */
    ck_assert_int_eq(file_size(tp("out.pcap")), 24 + 2 * (16 + 8));
    tcpst_capture_close(cap);

    if (access("/dev/full", W_OK) != 0) {
        fprintf(stderr, "test_dump_flush_reports_errors: no /dev/full, part skipped\n");
        return;
    }
    cap = open_ok(in, 1, NULL);
    dump_ok(cap, "/dev/full"); /* the header is only buffered yet */
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);
    errno = 0;
    ck_assert_int_eq(tcpst_capture_dump_flush(cap), -1);
    ck_assert_int_eq(errno, ENOSPC);
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 1);  /* reading goes on */
    ck_assert_int_eq(tcpst_capture_dump_flush(cap), -1); /* and the error stays */
    tcpst_capture_close(cap);
}
END_TEST

/* "-" writes to standard output through a private descriptor. */
START_TEST(test_dump_stdout)
{
    write_pcap(tp("a.pcap"), all6, 6);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(tp("out.pcap"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
    close(fd);
    const char *in[] = {tp("a.pcap")};
    tcpst_capture *cap = open_ok(in, 1, NULL);
    dump_ok(cap, "-");
    struct seen s[8];
    ck_assert_uint_eq(read_all(cap, s, 8), 6);
    tcpst_capture_close(cap);
    ck_assert_int_eq(write(STDOUT_FILENO, "", 0), 0); /* still open */
    ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
    close(saved);

    const char *out[] = {tp("out.pcap")};
    cap = open_ok(out, 1, NULL);
    struct seen t[8];
    check_same_as_combined(t, read_all(cap, t, 8));
    tcpst_capture_close(cap);
}
END_TEST

/* ---- live capture ------------------------------------------------------------ */

static bool is_root(void)
{
    return geteuid() == 0;
}

static void skip(const char *test, const char *why)
{
    fprintf(stderr, "%s: skipped: %s\n", test, why);
}

static const char perm_msg[] = ": permission denied: capturing needs root or the CAP_NET_RAW and "
                               "CAP_NET_ADMIN capabilities (e.g. sudo setcap "
                               "cap_net_raw,cap_net_admin=eip /path/to/tcpstate)";

static int open_live(tcpst_capture **cap, const char *iface, int poll_ms, const char *filter,
                     tcpst_error *err)
{
    tcpst_live_config cfg;
    tcpst_live_config_default(&cfg);
    cfg.iface = iface;
    cfg.poll_ms = poll_ms;
    memset(err, 0, sizeof(*err));
    *cap = (tcpst_capture *)cap; /* must be reset */
    int rc = tcpst_capture_open_live(cap, &cfg, filter, tcpst_decode_linktype_supported, err);
    if (rc != 0) {
        ck_assert_ptr_null(*cap);
        ck_assert_int_eq(err->code, rc);
    }
    return rc;
}

static tcpst_capture *open_lo(int poll_ms, const char *filter)
{
    tcpst_capture *cap;
    tcpst_error err;
    int rc = open_live(&cap, "lo", poll_ms, filter, &err);
    ck_assert_msg(rc == 0, "open_live lo: %d %s", rc, err.msg);
    return cap;
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

START_TEST(test_live_config_default)
{
    tcpst_live_config cfg;
    memset(&cfg, 0x5a, sizeof(cfg));
    tcpst_live_config_default(&cfg);
    ck_assert_ptr_null(cfg.iface);
    ck_assert_int_eq(cfg.snaplen, TCPST_LIVE_SNAPLEN);
    ck_assert_int_eq(cfg.buffer_size, 0);
    ck_assert(cfg.promisc);
    ck_assert_int_gt(cfg.poll_ms, 0);
}
END_TEST

START_TEST(test_live_usage_errors)
{
    tcpst_capture *cap;
    tcpst_error err;
    ck_assert_int_eq(open_live(&cap, NULL, 100, NULL, &err), TCPST_EUSAGE);
    ck_assert_int_eq(open_live(&cap, "", 100, NULL, &err), TCPST_EUSAGE);
    ck_assert_str_eq(err.msg, "no interface to capture on");
}
END_TEST

START_TEST(test_live_no_such_interface)
{
    tcpst_capture *cap;
    tcpst_error err;
    int rc = open_live(&cap, "tcpst-nosuch0", 100, NULL, &err);
    if (!is_root()) {
        /* Without privileges the socket fails before the name is looked up. */
        ck_assert_int_eq(rc, TCPST_EPERM);
        return;
    }
    ck_assert_int_eq(rc, TCPST_EOPEN);
    ck_assert_str_eq(err.msg, "tcpst-nosuch0: no such interface (tcpstate -D lists them)");
}
END_TEST

START_TEST(test_live_permission_denied_nonroot)
{
    if (is_root()) {
        skip("test_live_permission_denied_nonroot", "running as root (see the privdrop variant)");
        return;
    }
    tcpst_capture *cap;
    tcpst_error err;
    ck_assert_int_eq(open_live(&cap, "lo", 100, NULL, &err), TCPST_EPERM);
    char want[512];
    snprintf(want, sizeof(want), "lo%s", perm_msg);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/*
 * Run fn in a child process and return what it wrote ("" = passed, "SKIP..."
 * = cannot run here, anything else = the failure).  For tests that change
 * process-wide state: user ids, network namespace.
 */

static void child_perm_after_privdrop(int wfd)
{
    tcpst_error err = {0, ""};
    if (tcpst_privdrop("nobody", &err) != 0) {
        ckchild_say(wfd, "SKIP: cannot drop to nobody: %s", err.msg);
        return;
    }
    tcpst_live_config cfg;
    tcpst_live_config_default(&cfg);
    cfg.iface = "lo";
    tcpst_capture *cap = NULL;
    int rc = tcpst_capture_open_live(&cap, &cfg, NULL, tcpst_decode_linktype_supported, &err);
    char want[512];
    snprintf(want, sizeof(want), "lo%s", perm_msg);
    if (rc != TCPST_EPERM || cap != NULL || strcmp(err.msg, want) != 0) {
        ckchild_say(wfd, "rc %d, message '%s'", rc, err.msg);
    }
}

START_TEST(test_live_permission_denied_after_privdrop)
{
    if (!is_root()) {
        skip("test_live_permission_denied_after_privdrop", "needs root");
        return;
    }
    char out[1024];
    ckchild_run(child_perm_after_privdrop, out, sizeof(out));
    if (strncmp(out, "SKIP", 4) == 0) {
        skip("test_live_permission_denied_after_privdrop", out);
        return;
    }
    ck_assert_msg(out[0] == '\0', "%s", out);
}
END_TEST

/* A fresh network namespace has only "lo", and it is down. */
static void child_iface_down(int wfd)
{
    if (unshare(CLONE_NEWNET) != 0) {
        ckchild_say(wfd, "SKIP: unshare(CLONE_NEWNET): %s", strerror(errno));
        return;
    }
    tcpst_live_config cfg;
    tcpst_live_config_default(&cfg);
    cfg.iface = "lo";
    tcpst_capture *cap = NULL;
    tcpst_error err = {0, ""};
    int rc = tcpst_capture_open_live(&cap, &cfg, NULL, tcpst_decode_linktype_supported, &err);
    if (rc != TCPST_EOPEN || strcmp(err.msg, "lo: interface is down") != 0) {
        ckchild_say(wfd, "rc %d, message '%s'", rc, err.msg);
    }
}

START_TEST(test_live_interface_down)
{
    if (!is_root()) {
        skip("test_live_interface_down", "needs root");
        return;
    }
    char out[1024];
    ckchild_run(child_iface_down, out, sizeof(out));
    if (strncmp(out, "SKIP", 4) == 0) {
        skip("test_live_interface_down", out);
        return;
    }
    ck_assert_msg(out[0] == '\0', "%s", out);
}
END_TEST

/*
 * An interface that disappears mid-capture ends it: next() returns 0 and the
 * input is marked truncated with libpcap's reason.  A veth pair in a private
 * network namespace stands in (no packets are sent).
 */
static void child_iface_gone(int wfd)
{
    if (unshare(CLONE_NEWNET) != 0) {
        ckchild_say(wfd, "SKIP: unshare(CLONE_NEWNET): %s", strerror(errno));
        return;
    }
    if (system("ip link add tcpst0 type veth peer name tcpst1 >/dev/null 2>&1 && "
               "ip link set tcpst0 up && ip link set tcpst1 up") != 0) {
        ckchild_say(wfd, "SKIP: cannot create a veth pair with ip(8)");
        return;
    }
    tcpst_live_config cfg;
    tcpst_live_config_default(&cfg);
    cfg.iface = "tcpst0";
    cfg.poll_ms = 50;
    tcpst_capture *cap = NULL;
    tcpst_error err = {0, ""};
    if (tcpst_capture_open_live(&cap, &cfg, NULL, tcpst_decode_linktype_supported, &err) != 0) {
        ckchild_say(wfd, "open: %s", err.msg);
        return;
    }
    tcpst_pkt pkt;
    int rc;
    while ((rc = tcpst_capture_next(cap, &pkt)) == 1) {
        /* IPv6 router solicitations and the like may come; fine */
    }
    if (rc != 2) {
        ckchild_say(wfd, "idle next returned %d", rc);
        return;
    }
    if (system("ip link del tcpst1") != 0) {
        ckchild_say(wfd, "SKIP: cannot delete the veth pair");
        return;
    }
    int64_t t0 = mono_ms();
    while ((rc = tcpst_capture_next(cap, &pkt)) != 0 && mono_ms() - t0 < 3000) {
    }
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    if (rc != 0 || !info->truncated || info->error[0] == '\0') {
        ckchild_say(wfd, "after removal: rc %d truncated %d error '%s'", rc, info->truncated,
                    info->error);
    } else if (tcpst_capture_next(cap, &pkt) != 0) {
        ckchild_say(wfd, "next after the end is not 0");
    }
    tcpst_capture_close(cap);
}

START_TEST(test_live_interface_gone)
{
    if (!is_root()) {
        skip("test_live_interface_gone", "needs root");
        return;
    }
    char out[1024];
    ckchild_run(child_iface_gone, out, sizeof(out));
    if (strncmp(out, "SKIP", 4) == 0) {
        skip("test_live_interface_gone", out);
        return;
    }
    ck_assert_msg(out[0] == '\0', "%s", out);
}
END_TEST

static int decodable(int linktype)
{
    return linktype == 1 /* EN10MB */ || linktype == 113 /* LINUX_SLL */;
}

START_TEST(test_list_interfaces)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    tcpst_error err;
    int rc = tcpst_capture_list_interfaces(f, decodable, &err);
    if (rc != 0) {
        ck_assert_int_eq(rc, TCPST_EOPEN);
        ck_assert(strncmp(err.msg, "cannot list interfaces: ", 24) == 0);
        skip("test_list_interfaces", err.msg);
        fclose(f);
        return;
    }
    rewind(f);
    char line[512], names[64][64];
    int n = 0;
    bool lo = false, root = geteuid() == 0;
    while (fgets(line, sizeof(line), f) != NULL && n < 64) {
        if (line[0] == '(') {
            ck_assert(!root); /* "(link types unknown: ...)" only without privileges */
            continue;
        }
        char num[16];
        snprintf(num, sizeof(num), "%d.", n + 1);
        ck_assert_msg(strncmp(line, num, strlen(num)) == 0, "line %d: %s", n + 1, line);
        ck_assert_ptr_nonnull(strchr(line, '\n'));
        const char *name = line + strlen(num);
        snprintf(names[n], sizeof names[n], "%.*s", (int)strcspn(name, " \n"), name);
        lo = lo || strcmp(names[n], "lo") == 0;
        if (root) {
            /* Opened: its link type, and only the link types the callback takes. */
            ck_assert_msg(strstr(line, " link-type EN10MB (Ethernet)\n") ||
                              strstr(line, " link-type LINUX_SLL (Linux cooked v1)\n"),
                          "%s", line);
        }
        n++;
    }
    fclose(f);
    ck_assert_int_gt(n, 0);
    ck_assert_msg(lo, "no 'lo' listed");

    /* Every name is one tcpdump -D lists too, where tcpdump is there to ask. */
    FILE *p = popen("tcpdump -D 2>/dev/null", "r");
    char theirs[8192] = "";
    size_t got = p != NULL ? fread(theirs, 1, sizeof(theirs) - 1, p) : 0;
    theirs[got] = '\0';
    if (p == NULL || pclose(p) != 0 || got == 0) {
        skip("test_list_interfaces (tcpdump -D comparison)", "tcpdump -D unavailable");
        return;
    }
    for (int i = 0; i < n; i++) {
        char want[80];
        snprintf(want, sizeof want, ".%.63s ", names[i]);
        ck_assert_msg(strstr(theirs, want) != NULL, "%s not in tcpdump -D:\n%s", names[i], theirs);
    }
}
END_TEST

/* ---- live capture on lo (root only) ---------------------------------------- */

/* A TCP listener on 127.0.0.1, an ephemeral port. */
static int tcp_listener(uint16_t *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(s, 4), 0);
    socklen_t len = sizeof(a);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return s;
}

static const char hello[] = "hello-tcpstate";

/* Connect to the listener, send `hello` both ways, close both ends. */
static void tcp_exchange(int ls, uint16_t port)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(c, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    int s = accept(ls, NULL, NULL);
    ck_assert_int_ge(s, 0);
    char buf[64];
    ck_assert_int_eq(send(c, hello, sizeof(hello) - 1, 0), (ssize_t)sizeof(hello) - 1);
    ck_assert_int_eq(recv(s, buf, sizeof(hello) - 1, MSG_WAITALL), (ssize_t)sizeof(hello) - 1);
    ck_assert_int_eq(send(s, hello, sizeof(hello) - 1, 0), (ssize_t)sizeof(hello) - 1);
    ck_assert_int_eq(recv(c, buf, sizeof(hello) - 1, MSG_WAITALL), (ssize_t)sizeof(hello) - 1);
    close(c);
    close(s);
}

/* A UDP datagram to 127.0.0.1 on a port of its own (the filter must drop it). */
static void udp_send(void)
{
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(r, 0);
    ck_assert_int_ge(s, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(r, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    ck_assert_int_eq(getsockname(r, (struct sockaddr *)&a, &len), 0);
    ck_assert_int_eq(sendto(s, hello, sizeof(hello) - 1, 0, (struct sockaddr *)&a, sizeof(a)),
                     (ssize_t)sizeof(hello) - 1);
    close(s);
    close(r);
}

/* What the test needs to know of a frame on lo (Ethernet, IPv4, TCP). */
struct lo_frame {
    bool tcp;
    uint16_t sport, dport;
    uint8_t flags;
    bool has_hello;
};

static struct lo_frame parse_lo(const tcpst_pkt *p)
{
    struct lo_frame f = {false, 0, 0, 0, false};
    const uint8_t *d = p->data;
    if (p->caplen < 14 + 20 || d[12] != 0x08 || d[13] != 0x00 || (d[14] >> 4) != 4) {
        return f;
    }
    size_t ihl = (size_t)(d[14] & 0x0f) * 4;
    size_t t = 14 + ihl;
    if (d[23] != 6 || p->caplen < t + 20) {
        return f;
    }
    f.tcp = true;
    f.sport = (uint16_t)(d[t] << 8 | d[t + 1]);
    f.dport = (uint16_t)(d[t + 2] << 8 | d[t + 3]);
    f.flags = d[t + 13];
    size_t payload = t + (size_t)(d[t + 12] >> 4) * 4;
    f.has_hello = p->caplen >= payload + sizeof(hello) - 1 &&
                  memcmp(d + payload, hello, sizeof(hello) - 1) == 0;
    return f;
}

static tcpst_time realtime_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (tcpst_time)t.tv_sec * TCPST_NS_PER_SEC + t.tv_nsec;
}

START_TEST(test_live_lo_filter_and_info)
{
    if (!is_root()) {
        skip("test_live_lo_filter_and_info", "needs root");
        return;
    }
    uint16_t port;
    int ls = tcp_listener(&port);
    char filter[64];
    snprintf(filter, sizeof(filter), "tcp port %u", port);
    tcpst_capture *cap = open_lo(100, filter);
    ck_assert(tcpst_capture_is_live(cap));
    ck_assert_uint_eq(tcpst_capture_ninputs(cap), 1);
    const tcpst_input_info *info = tcpst_capture_input(cap, 0);
    ck_assert_str_eq(info->name, "lo");
    ck_assert_str_eq(info->format, "live");
    ck_assert_int_eq(info->linktype, 1); /* Linux loopback looks like Ethernet */
    ck_assert_str_eq(info->linktype_name, "EN10MB");
    ck_assert_int_eq(info->snaplen, TCPST_LIVE_SNAPLEN);
    ck_assert(info->nanosecond);
    ck_assert_uint_eq(info->packets, 0);

    tcpst_time before = realtime_ns();
    udp_send();
    tcp_exchange(ls, port);
    udp_send();
    close(ls);

    /* SYN, SYN-ACK, ACK, two data segments (and their ACKs), FINs. */
    int syn = 0, fin = 0, hellos = 0;
    uint64_t n = 0, bytes = 0;
    tcpst_time prev = 0;
    int64_t t0 = mono_ms();
    tcpst_pkt pkt;
    while ((fin < 2 || hellos < 2) && mono_ms() - t0 < 5000) {
        int rc = tcpst_capture_next(cap, &pkt);
        ck_assert_int_ne(rc, 0);
        if (rc == 2) {
            continue;
        }
        n++;
        bytes += pkt.wirelen;
        ck_assert_uint_eq(pkt.frame, n);
        ck_assert_int_eq(pkt.linktype, 1);
        ck_assert_uint_eq(pkt.input, 0);
        ck_assert_uint_eq(pkt.caplen, pkt.wirelen);
        ck_assert_int_ge(pkt.ts, before - TCPST_NS_PER_SEC);
        ck_assert_int_le(pkt.ts, realtime_ns() + TCPST_NS_PER_SEC);
        ck_assert_int_ge(pkt.ts, prev);
        prev = pkt.ts;
        struct lo_frame f = parse_lo(&pkt);
        ck_assert_msg(f.tcp, "frame %" PRIu64 " is not TCP: the filter let it through", n);
        ck_assert(f.sport == port || f.dport == port);
        syn += (f.flags & 0x02) != 0;
        fin += (f.flags & 0x01) != 0;
        hellos += f.has_hello;
    }
    ck_assert_int_eq(syn, 2);
    ck_assert_int_eq(fin, 2);
    ck_assert_int_eq(hellos, 2);
    ck_assert_uint_eq(info->packets, n);
    ck_assert_uint_eq(info->bytes, bytes);
    ck_assert_uint_eq(info->filtered, 0);
    ck_assert_uint_eq(tcpst_capture_packets(cap), n);
    ck_assert_uint_eq(tcpst_capture_filtered(cap), 0);
    ck_assert_int_eq(info->last_ts, prev);
    ck_assert_int_le(info->first_ts, info->last_ts);
    ck_assert(!info->truncated);

    tcpst_capture_counters c;
    memset(&c, 0xff, sizeof(c));
    tcpst_capture_get_counters(cap, &c);
    ck_assert(c.valid);
    ck_assert_uint_ge(c.received, n);
    ck_assert_uint_eq(c.dropped, 0);
    tcpst_capture_close(cap);
}
END_TEST

START_TEST(test_counters_offline_invalid)
{
    write_pcap(tp("a.pcap"), all6, 6);
    const char *in[] = {tp("a.pcap")};
    tcpst_capture *cap = open_ok(in, 1, NULL);
    ck_assert(!tcpst_capture_is_live(cap));
    ck_assert_ptr_null(tcpst_capture_warning(cap));
    tcpst_capture_counters c;
    memset(&c, 0xff, sizeof(c));
    tcpst_capture_get_counters(cap, &c);
    ck_assert(!c.valid);
    ck_assert_uint_eq(c.received, 0);
    /* interrupt does not disturb offline reading */
    tcpst_capture_interrupt(cap);
    struct seen s[8];
    check_same_as_combined(s, read_all(cap, s, 8));
    tcpst_capture_close(cap);
}
END_TEST

/* A filter nothing on the machine sends to. */
#define QUIET_FILTER "udp and dst host 127.0.0.254 and dst port 9"

START_TEST(test_live_idle_poll_returns)
{
    if (!is_root()) {
        skip("test_live_idle_poll_returns", "needs root");
        return;
    }
    tcpst_capture *cap = open_lo(100, QUIET_FILTER);
    tcpst_pkt pkt;
    int64_t t0 = mono_ms(), worst = 0, best = INT64_MAX;
    for (int i = 0; i < 5; i++) {
        int64_t s = mono_ms();
        ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 2);
        int64_t d = mono_ms() - s;
        worst = d > worst ? d : worst;
        best = d < best ? d : best;
    }
    int64_t total = mono_ms() - t0;
    fprintf(stderr,
            "test_live_idle_poll_returns: 5 idle polls of 100 ms: %" PRId64 " ms (each %" PRId64
            "..%" PRId64 " ms)\n",
            total, best, worst);
    ck_assert_int_ge(best, 90); /* it does wait for the interval */
    ck_assert_int_lt(total, 3000);
    ck_assert_int_lt(worst, 1000);
    tcpst_capture_counters c;
    tcpst_capture_get_counters(cap, &c);
    ck_assert(c.valid);
    ck_assert_uint_eq(c.received, 0);
    ck_assert_uint_eq(tcpst_capture_input(cap, 0)->packets, 0);
    tcpst_capture_close(cap);
}
END_TEST

struct interrupter {
    tcpst_capture *cap;
    int delay_ms;
};

static void *interrupt_later(void *arg)
{
    const struct interrupter *it = arg;
    struct timespec d = {it->delay_ms / 1000, (long)(it->delay_ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
    tcpst_capture_interrupt(it->cap);
    return NULL;
}

START_TEST(test_live_interrupt_from_thread)
{
    if (!is_root()) {
        skip("test_live_interrupt_from_thread", "needs root");
        return;
    }
    /* poll_ms <= 0: only a packet or an interrupt returns. */
    tcpst_capture *cap = open_lo(0, QUIET_FILTER);
    struct interrupter it = {cap, 200};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, interrupt_later, &it), 0);
    tcpst_pkt pkt;
    int64_t t0 = mono_ms();
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 2);
    int64_t d = mono_ms() - t0;
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_ge(d, 150);
    ck_assert_int_lt(d, 1000);
    tcpst_capture_close(cap);

    /* Before the call: it returns at once, and only once. */
    cap = open_lo(100, QUIET_FILTER);
    tcpst_capture_interrupt(cap);
    tcpst_capture_interrupt(cap);
    t0 = mono_ms();
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 2);
    ck_assert_int_lt(mono_ms() - t0, 50);
    t0 = mono_ms();
    ck_assert_int_eq(tcpst_capture_next(cap, &pkt), 2);
    ck_assert_int_ge(mono_ms() - t0, 90); /* a full poll interval again */
    tcpst_capture_close(cap);
}
END_TEST

static tcpst_capture *signal_cap;
static void on_alarm(int sig)
{
    (void)sig;
    tcpst_capture_interrupt(signal_cap);
}

START_TEST(test_live_interrupt_from_signal)
{
    if (!is_root()) {
        skip("test_live_interrupt_from_signal", "needs root");
        return;
    }
    signal_cap = open_lo(10000, QUIET_FILTER);
    /* SA_RESTART on purpose: the wake-up must not depend on EINTR (Linux
     * never restarts poll(), but a signal landing just before poll() is
     * entered is only caught by the self-pipe). */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval tv = {{0, 0}, {0, 200000}};
    ck_assert_int_eq(setitimer(ITIMER_REAL, &tv, NULL), 0);
    tcpst_pkt pkt;
    int64_t t0 = mono_ms();
    ck_assert_int_eq(tcpst_capture_next(signal_cap, &pkt), 2);
    int64_t d = mono_ms() - t0;
    ck_assert_int_ge(d, 150);
    ck_assert_int_lt(d, 1000);
    signal(SIGALRM, SIG_DFL);
    tcpst_capture_close(signal_cap);
}
END_TEST

/* -w on a live capture: re-reading the file gives the same packets and frames. */
START_TEST(test_live_dump_rereads_identically)
{
    if (!is_root()) {
        skip("test_live_dump_rereads_identically", "needs root");
        return;
    }
    enum { MAX = 64 };
    struct copy *a = calloc(2 * MAX, sizeof(*a));
    ck_assert_ptr_nonnull(a);
    struct copy *b = a + MAX;
    uint16_t port;
    int ls = tcp_listener(&port);
    char filter[64];
    snprintf(filter, sizeof(filter), "tcp port %u", port);
    tcpst_capture *cap = open_lo(100, filter);
    dump_ok(cap, tp("live.pcap"));
    tcp_exchange(ls, port);
    close(ls);
    size_t n = 0;
    int idle = 0;
    tcpst_pkt pkt;
    int64_t t0 = mono_ms();
    while (idle < 2 && mono_ms() - t0 < 5000) { /* until 200 ms of quiet */
        int rc = tcpst_capture_next(cap, &pkt);
        ck_assert_int_ne(rc, 0);
        if (rc == 2) {
            idle++;
            continue;
        }
        ck_assert_uint_lt(n, MAX);
        memcpy(a[n].data, pkt.data, pkt.caplen);
        a[n].caplen = pkt.caplen;
        a[n].wirelen = pkt.wirelen;
        a[n].ts = pkt.ts;
        a[n].frame = pkt.frame;
        a[n].linktype = pkt.linktype;
        n++;
    }
    ck_assert_int_eq(tcpst_capture_dump_flush(cap), 0);
    tcpst_capture_close(cap);
    ck_assert_uint_ge(n, 8);

    struct filehdr h = read_filehdr(tp("live.pcap"));
    ck_assert_uint_eq(h.magic, 0xa1b23c4du);
    ck_assert_uint_eq(h.linktype, 1);
    ck_assert_uint_eq(h.snaplen, TCPST_LIVE_SNAPLEN);
    const char *files[] = {tp("live.pcap")};
    cap = open_ok(files, 1, NULL);
    ck_assert_uint_eq(copy_all(cap, b, MAX), n);
    tcpst_capture_close(cap);
    check_same_packets(a, b, n);
    free(a);
}
END_TEST

START_TEST(test_live_invalid_filter)
{
    if (!is_root()) {
        skip("test_live_invalid_filter", "needs root");
        return;
    }
    tcpst_capture *cap;
    tcpst_error err;
    ck_assert_int_eq(open_live(&cap, "lo", 100, "tcp port", &err), TCPST_EFILTER);
    ck_assert(strncmp(err.msg, "invalid filter 'tcp port': ", 27) == 0);
}
END_TEST

/* ---- read-ahead thread ----------------------------------------------------- */

#define RA_FILES    3
#define RA_PER_FILE 5000
#define RA_LEN      700 /* 3 x 5000 x 700 B: 10 MB, more than the ring's 8 chunks of 1 MiB */

/* What a consumer can observe of one packet. */
struct obs {
    uint64_t frame, hash;
    tcpst_time ts;
    uint32_t caplen, wirelen;
    unsigned input;
    int linktype;
};

/* Three interleaved files of TCP frames to port 80 or 81, the last one cut mid-record. */
static void ra_write_files(const char **files)
{
    uint8_t *frames = malloc((size_t)RA_FILES * RA_PER_FILE * RA_LEN);
    struct rec *r = malloc(RA_PER_FILE * sizeof *r);
    ck_assert_ptr_nonnull(frames);
    ck_assert_ptr_nonnull(r);
    static const char *const names[RA_FILES] = {"ra0.pcap", "ra1.pcap", "ra2.pcap"};
    for (unsigned f = 0; f < RA_FILES; f++) {
        for (unsigned k = 0; k < RA_PER_FILE; k++) {
            uint8_t *b = frames + ((size_t)f * RA_PER_FILE + k) * RA_LEN;
            eth_ipv4_tcp(b, (uint16_t)(1000 + k), (uint16_t)(k % 3 == 0 ? 81 : 80));
            for (unsigned j = FRAME_LEN; j < RA_LEN; j++) {
                b[j] = (uint8_t)(j * 7 + k + f);
            }
            /* file f's packets at 3k+f ms, some ties across files */
            uint32_t ms = 3 * k + (k % 50 == 0 ? 0 : f);
            r[k] = (struct rec){1000 + ms / 1000,
                                (ms % 1000) * 1000,
                                (uint32_t)(k % 10 == 0 ? 100 : RA_LEN),
                                RA_LEN + 20,
                                b,
                                0};
        }
        files[f] = tp(names[f]);
        write_pcap(files[f], r, RA_PER_FILE);
    }
    ck_assert_int_eq(truncate(files[2], file_size(files[2]) - 300), 0);
    free(r);
    free(frames);
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211u;
    }
    return h;
}

/* Reads up to max packets (all when max is 0); returns how many. */
static size_t ra_read(tcpst_capture *cap, struct obs *out, size_t max)
{
    size_t n = 0;
    tcpst_pkt pkt;
    while ((max == 0 || n < max) && tcpst_capture_next(cap, &pkt) == 1) {
        out[n] = (struct obs){
            pkt.frame,   fnv(pkt.data, pkt.caplen), pkt.ts, pkt.caplen, pkt.wirelen, pkt.input,
            pkt.linktype};
        n++;
    }
    return n;
}

static void ra_same_infos(tcpst_capture *a, tcpst_capture *b)
{
    ck_assert_uint_eq(tcpst_capture_filtered(a), tcpst_capture_filtered(b));
    for (size_t i = 0; i < RA_FILES; i++) {
        const tcpst_input_info *x = tcpst_capture_input(a, i), *y = tcpst_capture_input(b, i);
        ck_assert_uint_eq(x->packets, y->packets);
        ck_assert_uint_eq(x->bytes, y->bytes);
        ck_assert_uint_eq(x->filtered, y->filtered);
        ck_assert_int_eq(x->first_ts, y->first_ts);
        ck_assert_int_eq(x->last_ts, y->last_ts);
        ck_assert_int_eq(x->truncated, y->truncated);
        ck_assert_str_eq(x->error, y->error);
    }
}

/* The thread changes nothing a caller can see: packets, frames, counters, the damage of
 * a cut file - also when the caller stops early, at any point. */
START_TEST(test_reader_same_as_inline)
{
    const char *files[RA_FILES];
    ra_write_files(files);
    size_t total = (size_t)RA_FILES * RA_PER_FILE;
    struct obs *a = calloc(total, sizeof *a), *b = calloc(total, sizeof *b);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    static const size_t stops[] = {0, 1, 2999, 9000, 11000, 13000};
    for (int filtered = 0; filtered < 2; filtered++) {
        const char *filter = filtered ? "tcp port 80" : NULL;
        for (size_t s = 0; s < sizeof stops / sizeof stops[0]; s++) {
            tcpst_capture *inl = open_ok(files, RA_FILES, filter);
            tcpst_capture *thr = open_ok(files, RA_FILES, filter);
            tcpst_error err = {0, ""};
            ck_assert_int_eq(tcpst_capture_start_reader(thr, NULL, &err), 0);
            size_t na = ra_read(inl, a, stops[s]), nb = ra_read(thr, b, stops[s]);
            ck_assert_uint_eq(na, nb);
            ck_assert_uint_gt(na, 0);
            ck_assert_mem_eq(a, b, na * sizeof *a);
            ra_same_infos(inl, thr);
            if (stops[s] == 0 || na < stops[s]) { /* read to the end */
                tcpst_pkt pkt;
                ck_assert_int_eq(tcpst_capture_next(thr, &pkt), 0); /* stays at the end */
                ck_assert(tcpst_capture_input(thr, 2)->truncated);
                /* the cut record (file 2's last, to port 80) is lost; 1667 per file go to 81 */
                ck_assert_uint_eq(na, filtered ? total - 3 * 1667 - 1 : total - 1);
            } else {
                ck_assert(!tcpst_capture_input(thr, 2)->truncated); /* not reached yet */
            }
            tcpst_capture_close(inl);
            tcpst_capture_close(thr); /* stops the thread, also mid-file */
        }
    }
    free(a);
    free(b);
}
END_TEST

/* What the test's prep step writes for each packet. */
struct prep_out {
    uint64_t hash; /* of the whole frame */
    uint32_t caplen, wirelen;
    int32_t linktype;
    uint32_t calls;
};

static uint32_t prep_calls;

/* Keeps half of each frame (all of a short one), records what it saw. */
static uint32_t test_prep(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
                          uint32_t wirelen, void *out)
{
    ck_assert_ptr_eq(ctx, &prep_calls);
    ck_assert_uint_eq((uintptr_t)out % 8, 0);
    struct prep_out *o = out;
    *o = (struct prep_out){fnv(data, caplen), caplen, wirelen, linktype, ++prep_calls};
    return caplen <= 100 ? caplen + 50 : caplen / 2; /* more than there is: only caplen */
}

/* The prep step runs on the reader thread for each packet the filter passes, in order; the
 * caller gets its output and only the bytes it kept. */
START_TEST(test_reader_prep)
{
    const char *files[RA_FILES];
    ra_write_files(files);
    size_t total = (size_t)RA_FILES * RA_PER_FILE;
    struct obs *a = calloc(total, sizeof *a);
    ck_assert_ptr_nonnull(a);
    tcpst_capture *inl = open_ok(files, RA_FILES, "tcp port 80");
    size_t na = ra_read(inl, a, 0);
    tcpst_capture_close(inl);

    tcpst_capture *thr = open_ok(files, RA_FILES, "tcp port 80");
    tcpst_capture_prep prep = {test_prep, &prep_calls, sizeof(struct prep_out)};
    tcpst_error err = {0, ""};
    prep_calls = 0;
    ck_assert_int_eq(tcpst_capture_start_reader(thr, &prep, &err), 0);
    tcpst_pkt pkt;
    size_t n = 0;
    while (tcpst_capture_next(thr, &pkt) == 1) {
        ck_assert_uint_lt(n, na);
        const struct prep_out *o = pkt.prep;
        ck_assert_ptr_nonnull(o);
        ck_assert_uint_eq(o->calls, n + 1); /* once per passed packet, in order */
        ck_assert_uint_eq(o->hash, a[n].hash);
        ck_assert_uint_eq(o->caplen, a[n].caplen);
        ck_assert_uint_eq(o->wirelen, a[n].wirelen);
        ck_assert_int_eq(o->linktype, a[n].linktype);
        ck_assert_uint_eq(pkt.frame, a[n].frame);
        ck_assert_uint_eq(pkt.caplen, a[n].caplen <= 100 ? a[n].caplen : a[n].caplen / 2);
        n++;
    }
    ck_assert_uint_eq(n, na);
    ck_assert_uint_eq(prep_calls, na); /* filtered packets are not prepared */
    tcpst_capture_close(thr);

    /* Too much to write per packet. */
    thr = open_ok(files, RA_FILES, NULL);
    prep.size = 4097;
    ck_assert_int_eq(tcpst_capture_start_reader(thr, &prep, &err), TCPST_EUSAGE);
    ck_assert_int_eq(tcpst_capture_next(thr, &pkt), 1);
    ck_assert_ptr_null(pkt.prep); /* inline, without a prep step */
    tcpst_capture_close(thr);
    free(a);
}
END_TEST

static void reader_refuses_stdin(void)
{
    const char *files[] = {"-"};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    tcpst_error err = {0, ""};
    ck_assert_int_eq(tcpst_capture_start_reader(cap, NULL, &err), TCPST_EUSAGE);
    ck_assert_str_eq(err.msg, "standard input: not a regular file");
    struct seen s[8];
    ck_assert_uint_eq(read_all(cap, s, 8), 6); /* still read, inline */
    tcpst_capture_close(cap);
}

START_TEST(test_reader_refusals)
{
    write_pcap(tp("six.pcap"), all6, 6);
    int fd = pipe_with(tp("six.pcap"));
    with_stdin(fd, reader_refuses_stdin);

    /* With a dump open the packets must be saved as handed out: no read-ahead. */
    const char *files[] = {tp("six.pcap")};
    tcpst_capture *cap = open_ok(files, 1, NULL);
    dump_ok(cap, tp("saved.pcap"));
    tcpst_error err = {0, ""};
    ck_assert_int_eq(tcpst_capture_start_reader(cap, NULL, &err), TCPST_EUSAGE);
    tcpst_capture_close(cap);

    /* Twice: refused, the first keeps going. */
    cap = open_ok(files, 1, NULL);
    ck_assert_int_eq(tcpst_capture_start_reader(cap, NULL, &err), 0);
    ck_assert_int_eq(tcpst_capture_start_reader(cap, NULL, &err), TCPST_EUSAGE);
    struct seen s[8];
    ck_assert_uint_eq(read_all(cap, s, 8), 6);
    tcpst_capture_close(cap);
}
END_TEST

static Suite *capture_suite(void)
{
    Suite *s = suite_create("capture");
    TCase *tc = tcase_create("read");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_single_pcap_usec);
    tcase_add_test(tc, test_nanosecond_pcap);
    tcase_add_test(tc, test_usec_pcap_big_endian);
    tcase_add_test(tc, test_pcapng_default_usec);
    tcase_add_test(tc, test_pcapng_nanosecond);
    tcase_add_test(tc, test_raw_ip_linktype);
    tcase_add_test(tc, test_zero_packets);
    suite_add_tcase(s, tc);

    tc = tcase_create("merge");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_merge_interleaved);
    tcase_add_test(tc, test_merge_rotated_any_order);
    tcase_add_test(tc, test_merge_ties_by_input_index);
    tcase_add_test(tc, test_single_file_keeps_file_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("filter");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_filter_keeps_frame_numbers);
    tcase_add_test(tc, test_filter_across_merged_inputs);
    tcase_add_test(tc, test_filter_invalid);
    tcase_add_test(tc, test_filter_invalid_for_one_link_type);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nonexistent_file);
    tcase_add_test(tc, test_second_file_fails);
    tcase_add_test(tc, test_garbage_file);
    tcase_add_test(tc, test_empty_file);
    tcase_add_test(tc, test_unsupported_linktype);
    tcase_add_test(tc, test_linktype_predicate);
    tcase_add_test(tc, test_truncated_in_record);
    tcase_add_test(tc, test_truncated_input_others_continue);
    tcase_add_test(tc, test_truncated_global_header);
    tcase_add_test(tc, test_caplen_above_wirelen);
    tcase_add_test(tc, test_usage_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("stdin");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_stdin_regular_file);
    tcase_add_test(tc, test_stdin_pipe_merged);
    tcase_add_test(tc, test_stdin_pipe_pcap);
    tcase_add_test(tc, test_stdin_garbage);
    suite_add_tcase(s, tc);

    tc = tcase_create("dump");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dump_roundtrip_offline);
    tcase_add_test(tc, test_dump_merged_usec_inputs);
    tcase_add_test(tc, test_dump_offline_filter);
    tcase_add_test(tc, test_dump_errors);
    tcase_add_test(tc, test_dump_pcapng_roundtrip);
    tcase_add_test(tc, test_capture_end_sources);
    tcase_add_test(tc, test_stream_reader_idle);
    tcase_add_test(tc, test_stream_reader_interrupt_and_close);
    tcase_add_test(tc, test_dump_flush_reports_errors);
    tcase_add_test(tc, test_dump_stdout);
    suite_add_tcase(s, tc);

    tc = tcase_create("read_ahead");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_reader_same_as_inline);
    tcase_add_test(tc, test_reader_prep);
    tcase_add_test(tc, test_reader_refusals);
    suite_add_tcase(s, tc);

    tc = tcase_create("live");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_live_config_default);
    tcase_add_test(tc, test_live_usage_errors);
    tcase_add_test(tc, test_live_no_such_interface);
    tcase_add_test(tc, test_live_permission_denied_nonroot);
    tcase_add_test(tc, test_live_permission_denied_after_privdrop);
    tcase_add_test(tc, test_live_interface_down);
    tcase_add_test(tc, test_live_interface_gone);
    tcase_add_test(tc, test_list_interfaces);
    tcase_add_test(tc, test_counters_offline_invalid);
    tcase_add_test(tc, test_live_lo_filter_and_info);
    tcase_add_test(tc, test_live_idle_poll_returns);
    tcase_add_test(tc, test_live_interrupt_from_thread);
    tcase_add_test(tc, test_live_interrupt_from_signal);
    tcase_add_test(tc, test_live_dump_rereads_identically);
    tcase_add_test(tc, test_live_invalid_filter);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(capture_suite());
}
