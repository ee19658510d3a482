/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floor.c - tcpstate-floor: the cheapest way to read a capture, the "floor" tcpstate is
 * measured against.
 *
 * It opens the file exactly as src/capture/file.c does (our own FILE with a 1 MiB stdio buffer,
 * pcap_fopen_offline_with_tstamp_precision at nanoseconds) and calls pcap_next_ex over every
 * record.  With --parse it also walks Ethernet, 802.1Q/802.1ad tags, IPv4 or IPv6 (no
 * extension headers) and TCP, and hashes the 4-tuple, so the difference to tcpstate is the
 * cost of connection tracking, state machines, detectors and the report.
 *
 * Not done: other link types, tunnels, fragments, IPv6 extension headers, any flow table.
 * Packets it cannot parse are counted, not analysed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#define IOBUF ((size_t)1 << 20)

typedef struct {
    uint64_t packets, bytes, caplen, tcp, other, hash;
} tally;

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* FNV-1a over the address and port bytes, made direction-independent by ordering the two
 * endpoints, as a connection table keyed by the 4-tuple would. */
static uint64_t hash_tuple(const uint8_t *a, const uint8_t *b, size_t alen, uint16_t pa,
                           uint16_t pb)
{
    int cmp = memcmp(a, b, alen);
    if (cmp > 0 || (cmp == 0 && pa > pb)) {
        const uint8_t *t = a;
        a = b;
        b = t;
        uint16_t tp = pa;
        pa = pb;
        pb = tp;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < alen; i++) {
        h = (h ^ a[i]) * 0x100000001b3ull;
    }
    for (size_t i = 0; i < alen; i++) {
        h = (h ^ b[i]) * 0x100000001b3ull;
    }
    h = (h ^ pa) * 0x100000001b3ull;
    h = (h ^ pb) * 0x100000001b3ull;
    return h;
}

/* Ethernet, VLAN tags, IPv4/IPv6, TCP; every read checked against the captured length. */
static void parse(tally *t, const uint8_t *p, size_t len)
{
    size_t off = 12;
    if (len < 14) {
        t->other++;
        return;
    }
    uint16_t type = be16(p + off);
    off += 2;
    while ((type == 0x8100 || type == 0x88a8) && off + 4 <= len) {
        type = be16(p + off + 2);
        off += 4;
    }
    const uint8_t *src, *dst;
    size_t alen;
    if (type == 0x0800 && off + 20 <= len && (p[off] >> 4) == 4) {
        size_t ihl = (size_t)(p[off] & 0x0f) * 4;
        if (ihl < 20 || p[off + 9] != 6 || (be16(p + off + 6) & 0x3fff) != 0) {
            t->other++;
            return;
        }
        src = p + off + 12;
        dst = p + off + 16;
        alen = 4;
        off += ihl;
    } else if (type == 0x86dd && off + 40 <= len && (p[off] >> 4) == 6) {
        if (p[off + 6] != 6) {
            t->other++;
            return;
        }
        src = p + off + 8;
        dst = p + off + 24;
        alen = 16;
        off += 40;
    } else {
        t->other++;
        return;
    }
    if (off + 20 > len || (size_t)(p[off + 12] >> 4) * 4 < 20) {
        t->other++;
        return;
    }
    t->tcp++;
    t->hash += hash_tuple(src, dst, alen, be16(p + off), be16(p + off + 2));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    bool do_parse = false;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--parse") == 0) {
            do_parse = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: tcpstate-floor [--parse] FILE|-\n");
            return 0;
        } else if (!name) {
            name = argv[i];
        } else {
            name = NULL;
            break;
        }
    }
    if (!name) {
        fprintf(stderr, "usage: tcpstate-floor [--parse] FILE|-\n");
        return 2;
    }
    double t0 = now_s();
    FILE *fp = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
    if (!fp) {
        fprintf(stderr, "tcpstate-floor: %s: %s\n", name, strerror(errno));
        return 2;
    }
    char *iobuf = malloc(IOBUF);
    if (!iobuf) {
        perror("tcpstate-floor");
        return 2;
    }
    (void)setvbuf(fp, iobuf, _IOFBF, IOBUF);
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pc) {
        fprintf(stderr, "tcpstate-floor: %s: %s\n", name, errbuf);
        fclose(fp);
        free(iobuf);
        return 2;
    }
    bool ether = pcap_datalink(pc) == DLT_EN10MB;
    if (do_parse && !ether) {
        fprintf(stderr, "tcpstate-floor: %s: --parse needs Ethernet\n", name);
        pcap_close(pc);
        free(iobuf);
        return 2;
    }
    tally t = {0};
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        t.packets++;
        t.bytes += h->len;
        t.caplen += h->caplen;
        if (do_parse) {
            parse(&t, data, h->caplen);
        }
    }
    if (r == PCAP_ERROR) {
        fprintf(stderr, "tcpstate-floor: %s: %s\n", name, pcap_geterr(pc));
    }
    pcap_close(pc); /* closes fp */
    free(iobuf);
    double secs = now_s() - t0;
    printf("packets=%" PRIu64 " bytes=%" PRIu64 " captured_bytes=%" PRIu64 " seconds=%.6f"
           " packets_per_s=%.0f",
           t.packets, t.bytes, t.caplen, secs, secs > 0 ? (double)t.packets / secs : 0.0);
    if (do_parse) {
        printf(" tcp=%" PRIu64 " other=%" PRIu64 " hash=%016" PRIx64, t.tcp, t.other, t.hash);
    }
    printf("\n");
    return r == PCAP_ERROR ? 1 : 0;
}
