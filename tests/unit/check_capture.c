/*
 * check_capture.c - unit tests for capture.c: reading pcap and pcapng files,
 * merging several inputs by time, frame numbering, BPF filtering, standard
 * input, and the one-line errors for bad inputs.
 *
 * The files are written byte by byte here (not with libpcap's dumper) so each
 * test controls exactly what is on disk: magic, byte order, link type, record
 * lengths, truncation.  Frame contents are arbitrary except in the filter
 * test, since capture does not decode.
 */
#include <check.h>

#include "ckrun.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcpstate/capture.h"

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
    int rc = tcpst_capture_open(&cap, files, n, filter, &err);
    ck_assert_msg(rc == 0, "open failed: %d %s", rc, err.msg);
    ck_assert_ptr_nonnull(cap);
    return cap;
}

static int open_fail(const char *const *files, size_t n, const char *filter, tcpst_error *err)
{
    tcpst_capture *cap = (tcpst_capture *)&cap; /* must be reset to NULL */
    memset(err, 0, sizeof(*err));
    int rc = tcpst_capture_open(&cap, files, n, filter, err);
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

START_TEST(test_unsupported_linktype)
{
    write_pcap_ex(tp("wifi.pcap"), 127, false, false, all6, 2);
    write_pcap(tp("ok.pcap"), all6, 2);
    const char *files[] = {tp("ok.pcap"), tp("wifi.pcap")};
    tcpst_error err;
    ck_assert_int_eq(open_fail(files, 2, NULL, &err), TCPST_ELINKTYPE);
    char want[600];
    snprintf(want, sizeof(want), "%s: unsupported link type IEEE802_11_RADIO (127)", files[1]);
    ck_assert_str_eq(err.msg, want);

    /* A number libpcap has no name for. */
    write_pcap_ex(tp("odd.pcap"), 60000, false, false, all6, 1);
    files[1] = tp("odd.pcap");
    ck_assert_int_eq(open_fail(files, 2, NULL, &err), TCPST_ELINKTYPE);
    snprintf(want, sizeof(want), "%s: unsupported link type LINKTYPE_60000 (60000)", files[1]);
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
    ck_assert_msg(strncmp(info->error, "truncated dump file", 19) == 0, "got '%s'", info->error);
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
    ck_assert_str_eq(info->error, "record 2: captured length 30 exceeds original length 10");
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

    ck_assert_int_eq(tcpst_capture_open(NULL, blank, 1, NULL, NULL), TCPST_EUSAGE);
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
    return s;
}

int main(void)
{
    return ckrun(capture_suite());
}
