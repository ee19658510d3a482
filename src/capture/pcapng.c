/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapng.c - pcapng files, read block by block by our own parser (a source of source.h).
 *
 * libpcap 1.10 cannot read a file whose interfaces differ in link type, and does not hand
 * out the Interface Statistics Blocks that dumpcap, tshark and Wireshark write when they
 * stop: when the capture ended and what it dropped.  So pcapng is read here, following
 * draft-ietf-opsawg-pcapng (the pcapng specification):
 *   - Section Header Blocks set the byte order and start a new list of interfaces;
 *   - Interface Description Blocks give each interface its link type, snap length and
 *     timestamp resolution (if_tsresol) and offset (if_tsoffset);
 *   - Enhanced, Simple and (obsolete) Packet Blocks are the packets, one frame each, as
 *     Wireshark numbers them, each with its own interface's link type;
 *   - Interface Statistics Blocks give isb_starttime, isb_endtime, isb_ifrecv, isb_ifdrop
 *     and isb_osdrop; the last block of each interface counts;
 *   - every other block (name resolution, decryption secrets, custom, ...) is skipped.
 * The BPF filter is compiled once per link type met (libpcap compiles, we apply), so a
 * filtered packet still takes its frame number.
 *
 * This parser reads untrusted input: every length is checked against the block before it
 * is used, a block's two length fields must agree, and blocks are bounded in size.  A
 * damaged block ends this input with a message that gives its byte offset; what came
 * before stays valid.  Fuzzed by tests/fuzz/fuzz_pcapng.c.
 *
 * Not here: classic pcap files (file.c, through libpcap), the merge of several files
 * (merge.c), frame numbers and counters (capture.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "source.h"

#define SHB_TYPE      0x0A0D0D0Au
#define BOM           0x1A2B3C4Du
#define IDB_TYPE      1u
#define PB_TYPE       2u /* obsolete Packet Block */
#define SPB_TYPE      3u
#define ISB_TYPE      5u
#define EPB_TYPE      6u
#define BLOCK_MIN     12u
#define BLOCK_MAX     (16u << 20) /* as libpcap: larger blocks are damage, not data */
#define IFACES_MAX    65536u
#define OPT_END       0u
#define IF_TSRESOL    9u
#define IF_TSOFFSET   14u
#define ISB_STARTTIME 2u
#define ISB_ENDTIME   3u
#define ISB_IFRECV    4u
#define ISB_IFDROP    5u
#define ISB_OSDROP    7u
#define FILTERS_MAX   8 /* link types with a compiled filter in one file */

typedef struct iface {
    int linktype; /* LINKTYPE_* as stored */
    uint32_t snaplen;
    bool pow2; /* if_tsresol: units of 2^-exp s, else 10^-exp s */
    uint8_t exp;
    int64_t offset_s; /* if_tsoffset */
    /* Its last statistics block. */
    bool has_start, has_end, has_recv, has_drop, has_osdrop;
    tcpst_time start, end;
    uint64_t start_units, end_units; /* as stored, for the microsecond check at the end */
    uint64_t recv, drop, osdrop;
} iface;

typedef struct filter {
    int linktype;
    struct bpf_program prog;
} filter;

struct pcapng {
    tcpst__source base;
    FILE *fp;
    char *iobuf;
    uint8_t *blk; /* the block being read */
    size_t blkcap;
    bool be;   /* this section's byte order */
    bool done; /* END or ERROR handed out */
    unsigned input;
    const char *name;
    uint64_t off;     /* byte offset of the next block */
    uint64_t blk_off; /* of the block in blk */
    iface *ifs;       /* this section's interfaces (statistics summed over all sections) */
    size_t nifs, capifs;
    iface *done_ifs; /* the interfaces of earlier sections, for their statistics */
    size_t ndone, capdone;
    const char *filter_text; /* NULL: no filter */
    filter filters[FILTERS_MAX];
    size_t nfilters;
    tcpst_time last_ts;        /* a Simple Packet Block has no time: it gets the last one */
    bool any;                  /* a packet was read ... */
    tcpst_time min_ts, max_ts; /* ... the earliest and latest packet time */
    struct pcap_pkthdr hdr;    /* for -w: times in ns (frac_ns 1) */
    char error[TCPST_ERRMSG_MAX];
};

static uint16_t get16(const struct pcapng *g, const uint8_t *p)
{
    return g->be ? (uint16_t)((unsigned)p[0] << 8 | p[1]) : (uint16_t)((unsigned)p[1] << 8 | p[0]);
}

static uint32_t get32(const struct pcapng *g, const uint8_t *p)
{
    if (g->be) {
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    }
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* A 64-bit value stored as two 32-bit halves, high first (timestamps, ISB times). */
static uint64_t get_hilo(const struct pcapng *g, const uint8_t *p)
{
    return (uint64_t)get32(g, p) << 32 | get32(g, p + 4);
}

/* A 64-bit option value (the counters): one 64-bit word in the section's byte order. */
static uint64_t get64(const struct pcapng *g, const uint8_t *p)
{
    uint64_t lo = get32(g, g->be ? p + 4 : p), hi = get32(g, g->be ? p : p + 4);
    return hi << 32 | lo;
}

/* ---- time ------------------------------------------------------------------------- */

__extension__ typedef __int128 i128; /* gcc and clang: exact scaling of 64-bit units */

static tcpst_time saturate(i128 ns)
{
    if (ns > TCPST__TIME_LIMIT) {
        return TCPST__TIME_LIMIT;
    }
    if (ns < -TCPST__TIME_LIMIT) {
        return -TCPST__TIME_LIMIT;
    }
    return (tcpst_time)ns;
}

/* A timestamp of interface `f` in ns since the epoch. */
static tcpst_time to_ns(const iface *f, uint64_t units)
{
    i128 ns;
    if (f->pow2) {
        ns = ((i128)units * TCPST_NS_PER_SEC) >> (f->exp > 100 ? 100 : f->exp);
    } else if (f->exp <= 9) {
        i128 mul = 1;
        for (unsigned i = f->exp; i < 9; i++) {
            mul *= 10;
        }
        ns = (i128)units * mul;
    } else {
        i128 div = 1;
        for (unsigned i = 9; i < f->exp && i < 40; i++) {
            div *= 10;
        }
        ns = (i128)units / div;
    }
    return saturate(ns + (i128)f->offset_s * TCPST_NS_PER_SEC);
}

/* ---- reading blocks ----------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void stop(struct pcapng *g, tcpst__rec *rec,
                                                       const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(g->error, sizeof g->error, "damaged pcapng block at byte %llu: %s",
             (unsigned long long)g->blk_off, what);
    g->done = true;
    *rec = (tcpst__rec){.kind = TCPST__REC_ERROR, .input = g->input, .error = g->error};
}

static bool room(struct pcapng *g, size_t n)
{
    if (n <= g->blkcap) {
        return true;
    }
    size_t cap = g->blkcap ? g->blkcap : 4096;
    while (cap < n) {
        cap *= 2;
    }
    uint8_t *b = realloc(g->blk, cap);
    if (!b) {
        return false;
    }
    g->blk = b;
    g->blkcap = cap;
    return true;
}

typedef enum { BLK_OK, BLK_EOF, BLK_BAD } blk_status;

/*
 * The next whole block into g->blk; its type and length out.  A Section Header Block sets
 * the byte order first.  On BLK_BAD, *rec holds the error.
 */
static blk_status read_block(struct pcapng *g, uint32_t *type, uint32_t *len, tcpst__rec *rec)
{
    g->blk_off = g->off;
    if (!room(g, BLOCK_MIN)) {
        stop(g, rec, "out of memory");
        return BLK_BAD;
    }
    size_t got = fread(g->blk, 1, 8, g->fp);
    if (got == 0 && feof(g->fp)) {
        return BLK_EOF;
    }
    if (got < 8) {
        stop(g, rec, "the file ends %zu bytes into the block header", got);
        return BLK_BAD;
    }
    uint32_t t = get32(g, g->blk);
    if (t == SHB_TYPE) {
        /* The byte order of a section is in its header, after the length. */
        if (fread(g->blk + 8, 1, 4, g->fp) != 4) {
            stop(g, rec, "the file ends in a section header");
            return BLK_BAD;
        }
        uint32_t bom_le = (uint32_t)g->blk[11] << 24 | (uint32_t)g->blk[10] << 16 |
                          (uint32_t)g->blk[9] << 8 | g->blk[8];
        if (bom_le == BOM) {
            g->be = false;
        } else if (bom_le == 0x4D3C2B1Au) {
            g->be = true;
        } else {
            stop(g, rec, "section header with an unknown byte-order magic 0x%08x", bom_le);
            return BLK_BAD;
        }
        got = 12;
    }
    uint32_t l = get32(g, g->blk + 4);
    if (l < BLOCK_MIN || l % 4 != 0 || l > BLOCK_MAX) {
        stop(g, rec, "block length %u (a multiple of 4, 12 to %u)", l, BLOCK_MAX);
        return BLK_BAD;
    }
    if (!room(g, l)) {
        stop(g, rec, "out of memory for a block of %u bytes", l);
        return BLK_BAD;
    }
    size_t more = fread(g->blk + got, 1, l - got, g->fp);
    if (more < l - got) {
        stop(g, rec, "the file ends %zu bytes into a block of %u", got + more, l);
        return BLK_BAD;
    }
    if (get32(g, g->blk + l - 4) != l) {
        stop(g, rec, "the block's lengths differ (%u at its start, %u at its end)", l,
             get32(g, g->blk + l - 4));
        return BLK_BAD;
    }
    g->off += l;
    *type = t;
    *len = l;
    return BLK_OK;
}

/* ---- options ------------------------------------------------------------------------ */

/* Walk the options at body[from, end): calls fn for each until opt_endofopt.  False when
 * an option runs past the end. */
typedef void (*opt_fn)(struct pcapng *g, void *ctx, uint16_t code, const uint8_t *v, uint16_t n);

static bool walk_options(struct pcapng *g, size_t from, size_t end, opt_fn fn, void *ctx)
{
    size_t off = from;
    while (off + 4 <= end) {
        uint16_t code = get16(g, g->blk + off), n = get16(g, g->blk + off + 2);
        off += 4;
        if (code == OPT_END) {
            return true;
        }
        if (n > end - off) {
            return false;
        }
        fn(g, ctx, code, g->blk + off, n);
        off += ((size_t)n + 3) & ~(size_t)3;
    }
    return true;
}

static void idb_option(struct pcapng *g, void *ctx, uint16_t code, const uint8_t *v, uint16_t n)
{
    iface *f = ctx;
    if (code == IF_TSRESOL && n >= 1) {
        f->pow2 = (v[0] & 0x80u) != 0;
        f->exp = (uint8_t)(v[0] & 0x7fu);
    } else if (code == IF_TSOFFSET && n >= 8) {
        f->offset_s = (int64_t)get64(g, v);
    }
}

static void isb_option(struct pcapng *g, void *ctx, uint16_t code, const uint8_t *v, uint16_t n)
{
    iface *f = ctx;
    if (n < 8) {
        return;
    }
    switch (code) {
        case ISB_STARTTIME:
            f->has_start = true;
            f->start_units = get_hilo(g, v);
            f->start = to_ns(f, f->start_units);
            break;
        case ISB_ENDTIME:
            f->has_end = true;
            f->end_units = get_hilo(g, v);
            f->end = to_ns(f, f->end_units);
            break;
        case ISB_IFRECV:
            f->has_recv = true;
            f->recv = get64(g, v);
            break;
        case ISB_IFDROP:
            f->has_drop = true;
            f->drop = get64(g, v);
            break;
        case ISB_OSDROP:
            f->has_osdrop = true;
            f->osdrop = get64(g, v);
            break;
        default:
            break;
    }
}

/* ---- blocks ------------------------------------------------------------------------- */

/* A new section: its interfaces are numbered from 0 again. */
static bool section(struct pcapng *g, uint32_t len, tcpst__rec *rec)
{
    if (len < 28) {
        stop(g, rec, "section header of %u bytes (at least 28)", len);
        return false;
    }
    uint16_t major = get16(g, g->blk + 12);
    if (major != 1) {
        stop(g, rec, "section header of pcapng version %u (1 is known)", major);
        return false;
    }
    /* The old section's interfaces keep their statistics for the file's totals. */
    for (size_t i = 0; i < g->nifs; i++) {
        if (!tcpst_grow(&g->done_ifs, &g->capdone, g->ndone, sizeof *g->ifs, 8)) {
            stop(g, rec, "out of memory");
            return false;
        }
        g->done_ifs[g->ndone++] = g->ifs[i];
    }
    g->nifs = 0;
    return true;
}

static bool interface(struct pcapng *g, uint32_t len, tcpst__rec *rec)
{
    if (len < 20) {
        stop(g, rec, "interface description of %u bytes (at least 20)", len);
        return false;
    }
    if (g->nifs >= IFACES_MAX || !tcpst_grow(&g->ifs, &g->capifs, g->nifs, sizeof *g->ifs, 4)) {
        stop(g, rec, "more than %u interfaces", IFACES_MAX);
        return false;
    }
    iface *f = &g->ifs[g->nifs];
    memset(f, 0, sizeof *f);
    f->linktype = get16(g, g->blk + 8);
    f->snaplen = get32(g, g->blk + 12);
    f->exp = 6; /* microseconds unless if_tsresol says otherwise */
    if (!walk_options(g, 16, len - 4, idb_option, f)) {
        stop(g, rec, "an interface option runs past its block");
        return false;
    }
    g->nifs++;
    return true;
}

static bool statistics(struct pcapng *g, uint32_t len, tcpst__rec *rec)
{
    if (len < 24) {
        stop(g, rec, "interface statistics of %u bytes (at least 24)", len);
        return false;
    }
    uint32_t id = get32(g, g->blk + 8);
    if (id >= g->nifs) {
        stop(g, rec, "statistics of interface %u, of %zu described", id, g->nifs);
        return false;
    }
    /* Each block has the counts since the start: the latest one is the total. */
    if (!walk_options(g, 20, len - 4, isb_option, &g->ifs[id])) {
        stop(g, rec, "a statistics option runs past its block");
        return false;
    }
    return true;
}

/* Compile (once per link type) and apply the filter; true when the packet passes. */
static bool passes(struct pcapng *g, const iface *f, const struct pcap_pkthdr *h,
                   const uint8_t *data)
{
    if (!g->filter_text) {
        return true;
    }
    for (size_t i = 0; i < g->nfilters; i++) {
        if (g->filters[i].linktype == f->linktype) {
            return pcap_offline_filter(&g->filters[i].prog, h, data) != 0;
        }
    }
    if (g->nfilters == FILTERS_MAX) {
        return true; /* never in practice; the packet is kept rather than dropped */
    }
    filter *fl = &g->filters[g->nfilters];
    if (tcpst__pcapng_compile(f->linktype, f->snaplen, g->filter_text, &fl->prog, NULL) != 0) {
        return false; /* a link type the filter cannot apply to: like a non-matching one */
    }
    fl->linktype = f->linktype;
    g->nfilters++;
    return pcap_offline_filter(&fl->prog, h, data) != 0;
}

/* A packet block's fields into a record. */
static void packet(struct pcapng *g, tcpst__rec *rec, const iface *f, tcpst_time ts,
                   const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    g->last_ts = ts;
    g->min_ts = !g->any || ts < g->min_ts ? ts : g->min_ts;
    g->max_ts = !g->any || ts > g->max_ts ? ts : g->max_ts;
    g->any = true;
    g->hdr.ts.tv_sec = (time_t)(ts / TCPST_NS_PER_SEC);
    g->hdr.ts.tv_usec = (suseconds_t)(ts % TCPST_NS_PER_SEC);
    if (g->hdr.ts.tv_usec < 0) {
        g->hdr.ts.tv_sec -= 1;
        g->hdr.ts.tv_usec += TCPST_NS_PER_SEC;
    }
    g->hdr.caplen = caplen;
    g->hdr.len = wirelen;
    bool pass = passes(g, f, &g->hdr, data);
    *rec = (tcpst__rec){.kind = pass ? TCPST__REC_PACKET : TCPST__REC_FILTERED,
                        .input = g->input,
                        .data = data,
                        .caplen = caplen,
                        .wirelen = wirelen,
                        .ts = ts,
                        .linktype = f->linktype,
                        .hdr = &g->hdr,
                        .frac_ns = 1};
}

/* An Enhanced (EPB) or obsolete (PB) Packet Block: false, with *rec set, on damage. */
static bool timed_packet(struct pcapng *g, uint32_t type, uint32_t len, tcpst__rec *rec)
{
    if (len < 32) {
        stop(g, rec, "packet block of %u bytes (at least 32)", len);
        return false;
    }
    uint32_t id = type == EPB_TYPE ? get32(g, g->blk + 8) : get16(g, g->blk + 8);
    if (id >= g->nifs) {
        stop(g, rec, "a packet of interface %u, of %zu described", id, g->nifs);
        return false;
    }
    uint32_t caplen = get32(g, g->blk + 20), wirelen = get32(g, g->blk + 24);
    if (caplen > len - 32) {
        stop(g, rec, "captured length %u runs past its block of %u bytes", caplen, len);
        return false;
    }
    if (caplen > wirelen) {
        stop(g, rec, "captured length %u exceeds original length %u", caplen, wirelen);
        return false;
    }
    const iface *f = &g->ifs[id];
    packet(g, rec, f, to_ns(f, get_hilo(g, g->blk + 12)), g->blk + 28, caplen, wirelen);
    return true;
}

static bool simple_packet(struct pcapng *g, uint32_t len, tcpst__rec *rec)
{
    if (len < 16 || g->nifs == 0) {
        stop(g, rec, "simple packet block of %u bytes with %zu interfaces", len, g->nifs);
        return false;
    }
    const iface *f = &g->ifs[0];
    uint32_t wirelen = get32(g, g->blk + 8);
    uint32_t caplen = wirelen;
    if (f->snaplen && caplen > f->snaplen) {
        caplen = f->snaplen;
    }
    if (caplen > len - 16) {
        caplen = len - 16;
    }
    packet(g, rec, f, g->last_ts, g->blk + 12, caplen, wirelen);
    return true;
}

static void pcapng_next(tcpst__source *s, tcpst__rec *rec)
{
    struct pcapng *g = (struct pcapng *)s;
    while (!g->done) {
        uint32_t type = 0, len = 0;
        blk_status st = read_block(g, &type, &len, rec);
        if (st == BLK_BAD) {
            return;
        }
        if (st == BLK_EOF) {
            break;
        }
        bool ok = true;
        switch (type) {
            case SHB_TYPE:
                ok = section(g, len, rec);
                break;
            case IDB_TYPE:
                ok = interface(g, len, rec);
                break;
            case ISB_TYPE:
                ok = statistics(g, len, rec);
                break;
            case EPB_TYPE:
            case PB_TYPE:
                (void)timed_packet(g, type, len, rec); /* a packet, or its damage */
                return;
            case SPB_TYPE:
                (void)simple_packet(g, len, rec);
                return;
            default:
                break; /* name resolution, secrets, custom and unknown blocks */
        }
        if (!ok) {
            return;
        }
    }
    g->done = true;
    *rec = (tcpst__rec){.kind = TCPST__REC_END, .input = g->input};
}

/* The statistics of every interface of the file, summed, into the input's info. */
/*
 * dumpcap (Wireshark 4.0) writes its statistics blocks' times in microseconds whatever
 * if_tsresol says: with nanosecond interfaces their end then reads as a day in January
 * 1970, before every packet.  Times that make sense only in microseconds are read so.
 */
static void microsecond_isb(const struct pcapng *g, iface *f)
{
    if (!f->has_end || !g->any || f->end >= g->min_ts || f->pow2 || f->exp == 6) {
        return;
    }
    iface us = *f;
    us.exp = 6;
    tcpst_time end = to_ns(&us, f->end_units);
    if (end + TCPST_NS_PER_SEC < g->max_ts) {
        return; /* not that either: left as written, and the end comes from the packets */
    }
    f->end = end;
    if (f->has_start) {
        f->start = to_ns(&us, f->start_units);
    }
}

static void sum_stats(iface *f, const struct pcapng *g, tcpst_input_info *info)
{
    microsecond_isb(g, f);
    if (f->has_end && (!info->has_end || f->end > info->end_ts)) {
        info->has_end = true;
        info->end_ts = f->end;
    }
    if (f->has_start && (info->start_ts == 0 || f->start < info->start_ts)) {
        info->start_ts = f->start;
    }
    info->has_ifrecv |= f->has_recv;
    info->has_ifdrop |= f->has_drop;
    info->has_osdrop |= f->has_osdrop;
    info->if_received += f->recv;
    info->if_dropped += f->drop;
    info->os_dropped += f->osdrop;
}

static void pcapng_finish(tcpst__source *s, tcpst__input *in)
{
    struct pcapng *g = (struct pcapng *)s;
    tcpst_input_info *info = &in[g->input].info;
    info->interfaces = (uint32_t)(g->ndone + g->nifs);
    for (size_t i = 0; i < g->ndone; i++) {
        sum_stats(&g->done_ifs[i], g, info);
    }
    for (size_t i = 0; i < g->nifs; i++) {
        sum_stats(&g->ifs[i], g, info);
    }
}

static int pcapng_read_ahead_ok(const tcpst__source *s, tcpst_error *err)
{
    const struct pcapng *g = (const struct pcapng *)s;
    return tcpst__file_may_read_ahead(g->fp, g->name, err);
}

static void pcapng_close(tcpst__source *s)
{
    struct pcapng *g = (struct pcapng *)s;
    for (size_t i = 0; i < g->nfilters; i++) {
        pcap_freecode(&g->filters[i].prog);
    }
    if (g->fp) {
        fclose(g->fp);
    }
    free(g->iobuf);
    free(g->blk);
    free(g->ifs);
    free(g->done_ifs);
    free(g);
}

static const tcpst__source_ops pcapng_ops = {
    .next = pcapng_next,
    .close = pcapng_close,
    .read_ahead_ok = pcapng_read_ahead_ok,
    .finish = pcapng_finish,
};

/* ---- opening ------------------------------------------------------------------------ */

int tcpst__pcapng_compile(int linktype, uint32_t snaplen, const char *text,
                          struct bpf_program *prog, char *why)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(
        tcpst__linktype_to_dlt(linktype),
        snaplen ? (int)(snaplen > 262144 ? 262144 : snaplen) : 262144, PCAP_TSTAMP_PRECISION_NANO);
    if (!dead) {
        if (why) {
            snprintf(why, PCAP_ERRBUF_SIZE, "out of memory");
        }
        return -1;
    }
    int rc = pcap_compile(dead, prog, text, 1, PCAP_NETMASK_UNKNOWN);
    if (rc != 0 && why) {
        snprintf(why, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(dead));
    }
    pcap_close(dead);
    return rc;
}

int tcpst__pcapng_open(tcpst__source **out, tcpst__input *in, FILE *fp, char *iobuf,
                       const char *name, unsigned input, tcpst_linktype_fn linktype_ok,
                       tcpst_error *err)
{
    const char *shown = tcpst_capture_shown_name(name);
    struct pcapng *g = calloc(1, sizeof *g);
    if (!g) {
        fclose(fp);
        free(iobuf);
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }
    g->base.ops = &pcapng_ops;
    g->fp = fp;
    g->iobuf = iobuf;
    g->name = name;
    g->input = input;
    *out = &g->base;
    in->info.name = name;
    in->info.format = "pcapng";
    /* Read up to the first interface: its link type is the file's, for the checks at open
     * (others may follow: each packet carries its own). */
    while (g->nifs == 0) {
        uint32_t type = 0, len = 0;
        tcpst__rec rec;
        blk_status st = read_block(g, &type, &len, &rec);
        if (st == BLK_OK && g->blk_off == 0 && type != SHB_TYPE) {
            return tcpst_error_set(err, TCPST_EFORMAT, "%s: not a pcapng file", shown);
        }
        bool ok = st == BLK_OK;
        if (ok && type == SHB_TYPE) {
            ok = section(g, len, &rec);
        } else if (ok && type == IDB_TYPE) {
            ok = interface(g, len, &rec);
        } else if (ok && (type == EPB_TYPE || type == PB_TYPE || type == SPB_TYPE)) {
            return tcpst_error_set(err, TCPST_EFORMAT, "%s: a packet before any interface", shown);
        }
        if (st == BLK_EOF) {
            return tcpst_error_set(err, TCPST_EFORMAT, "%s: pcapng file describes no interface",
                                   shown);
        }
        if (!ok) {
            return tcpst_error_set(err, TCPST_EFORMAT, "%s: %s", shown, g->error);
        }
    }
    const iface *f = &g->ifs[0];
    tcpst__input_set_linktype(in, tcpst__linktype_to_dlt(f->linktype));
    in->info.linktype = f->linktype;
    in->info.snaplen = (int)(f->snaplen > INT32_MAX ? INT32_MAX : f->snaplen);
    in->info.nanosecond = f->pow2 ? f->exp >= 20 : f->exp > 6;
    return tcpst__input_check_linktype(in, shown, linktype_ok, err);
}

int tcpst__pcapng_set_filter(tcpst__source *s, const char *text, const tcpst__input *in,
                             tcpst_error *err)
{
    struct pcapng *g = (struct pcapng *)s;
    char why[PCAP_ERRBUF_SIZE];
    /* Checked now for the first interface's link type, so a bad expression fails at once. */
    filter *fl = &g->filters[0];
    if (tcpst__pcapng_compile(g->ifs[0].linktype, g->ifs[0].snaplen, text, &fl->prog, why) != 0) {
        return tcpst_error_set(err, TCPST_EFILTER, "invalid filter '%s': %s", text, why);
    }
    (void)in;
    fl->linktype = g->ifs[0].linktype;
    g->nfilters = 1;
    g->filter_text = text;
    return 0;
}

bool tcpst__is_pcapng(const tcpst__source *s)
{
    return s != NULL && s->ops == &pcapng_ops;
}
