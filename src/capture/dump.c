// SPDX-License-Identifier: BSD-3-Clause
/*
 * dump.c - -w: save every packet tcpst_capture_next() hands out to a pcap or pcapng file.
 *
 * pcap (any name but *.pcapng): the inputs' one link type, the largest snaplen among them
 * and nanosecond timestamps, so an offline run over it sees the same packets.  It is
 * written through libpcap's dumper on a FILE with our own stdio buffer, set up at open:
 * saving a packet does not allocate.
 *
 * pcapng (*.pcapng): written here, as libpcap 1.10 writes no pcapng.  One Interface
 * Description Block per link type met (a capture of several interfaces keeps them all),
 * nanosecond resolution, and at the end an Interface Statistics Block per interface with
 * the end of the capture and, live, libpcap's counters: the file then says when the
 * capture stopped and what it lost, so an offline run over it reaches the live verdict.
 *
 * Not a source: capture.c calls tcpst__dump_packet() for each packet it hands
 * out, whichever source read it.  Not done here: choosing which packets
 * (capture.c hands out only those the filter passed), atomic replacement of
 * the file (it is a stream: it may be standard output or a pipe).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "source.h"
#include "tcpstate/outfile.h"

/* stdio buffer of the -w file. */
#define DUMPBUF_SIZE ((size_t)256 << 10)

/* pcapng block types and options (draft-ietf-opsawg-pcapng). */
#define NG_SHB          0x0A0D0D0Au
#define NG_IDB          1u
#define NG_ISB          5u
#define NG_EPB          6u
#define NG_BYTE_ORDER   0x1A2B3C4Du
#define NG_OPT_END      0u
#define NG_SHB_USERAPPL 4u
#define NG_IF_NAME      2u
#define NG_IF_TSRESOL   9u
#define NG_ISB_START    2u
#define NG_ISB_END      3u
#define NG_ISB_IFRECV   4u
#define NG_ISB_IFDROP   5u
#define NG_ISB_OSDROP   7u
#define NG_MAX_IFACES   16 /* link types in one file; a merge of more is refused at open */

struct tcpst__dump {
    pcap_t *dead; /* pcap: dead handle giving the file's link type and precision */
    pcap_dumper_t *dumper;
    char *buf; /* stdio buffer of the dump FILE; freed after pcap_dump_close */
    /* pcapng */
    FILE *fp;
    int file_linktype; /* pcap: the one link type the file can hold */
    uint64_t skipped;  /* pcap: packets of another link type, not saved */
    unsigned nifs;
    int if_linktype[NG_MAX_IFACES];
    uint32_t snaplen;
    const char *ifname; /* live: the interface, for if_name */
    bool any;           /* a packet was written ... */
    tcpst_time first;   /* ... the first one's time, for isb_starttime */
    bool finished;      /* the statistics blocks are written */
};

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* host byte order: the SHB's byte-order magic says which */
}

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

/* One option (code, length, value padded to 4 bytes) at p; returns its size. */
static size_t put_opt(uint8_t *p, uint16_t code, const void *v, uint16_t n)
{
    put16(p, code);
    put16(p + 2, n);
    memcpy(p + 4, v, n);
    size_t padded = ((size_t)n + 3u) & ~(size_t)3u;
    memset(p + 4 + n, 0, padded - n);
    return 4 + padded;
}

static size_t put_time_opt(uint8_t *p, uint16_t code, tcpst_time t)
{
    uint64_t u = (uint64_t)t;
    uint32_t v[2] = {(uint32_t)(u >> 32), (uint32_t)u};
    return put_opt(p, code, v, 8);
}

static size_t put_u64_opt(uint8_t *p, uint16_t code, uint64_t n)
{
    return put_opt(p, code, &n, 8);
}

/* Finish a block built in b (body from byte 8, `len` bytes so far, options included):
 * end-of-options, the two length fields, and write it. */
static void put_block(FILE *fp, uint8_t *b, uint32_t type, size_t len, bool has_opts)
{
    if (has_opts) {
        put32(b + len, NG_OPT_END); /* code 0, length 0 */
        len += 4;
    }
    len += 4; /* trailing length */
    put32(b, type);
    put32(b + 4, (uint32_t)len);
    put32(b + len - 4, (uint32_t)len);
    fwrite(b, 1, len, fp);
}

static void write_shb(struct tcpst__dump *d)
{
    uint8_t b[128];
    put32(b + 8, NG_BYTE_ORDER);
    put16(b + 12, 1);
    put16(b + 14, 0);
    int64_t unknown = -1; /* section length: not known while writing */
    memcpy(b + 16, &unknown, 8);
    const char *app = "tcpstate " TCPSTATE_VERSION;
    size_t len = 24 + put_opt(b + 24, NG_SHB_USERAPPL, app, (uint16_t)strlen(app));
    put_block(d->fp, b, NG_SHB, len, true);
}

static void write_idb(struct tcpst__dump *d, int linktype)
{
    uint8_t b[160];
    put16(b + 8, (uint16_t)linktype);
    put16(b + 10, 0);
    put32(b + 12, d->snaplen);
    size_t len = 16;
    uint8_t ns = 9; /* if_tsresol: 10^-9 s */
    len += put_opt(b + len, NG_IF_TSRESOL, &ns, 1);
    if (d->ifname != NULL && strlen(d->ifname) < 64) {
        len += put_opt(b + len, NG_IF_NAME, d->ifname, (uint16_t)strlen(d->ifname));
    }
    put_block(d->fp, b, NG_IDB, len, true);
}

/* The interface of link type lt, its IDB written the first time; -1 when too many. */
static int ng_iface(struct tcpst__dump *d, int lt)
{
    for (unsigned i = 0; i < d->nifs; i++) {
        if (d->if_linktype[i] == lt) {
            return (int)i;
        }
    }
    if (d->nifs == NG_MAX_IFACES) {
        return -1;
    }
    d->if_linktype[d->nifs] = lt;
    write_idb(d, lt);
    return (int)d->nifs++;
}

static void ng_packet(struct tcpst__dump *d, const tcpst__rec *rec)
{
    int id = ng_iface(d, rec->linktype);
    if (id < 0) {
        d->skipped++;
        return;
    }
    if (!d->any) {
        d->first = rec->ts;
        d->any = true;
    }
    uint8_t h[28];
    uint64_t ts = (uint64_t)rec->ts;
    uint32_t caplen = rec->hdr->caplen;
    uint32_t padded = (caplen + 3u) & ~3u;
    uint32_t len = 28 + padded + 4;
    put32(h, NG_EPB);
    put32(h + 4, len);
    put32(h + 8, (uint32_t)id);
    put32(h + 12, (uint32_t)(ts >> 32));
    put32(h + 16, (uint32_t)ts);
    put32(h + 20, caplen);
    put32(h + 24, rec->hdr->len);
    fwrite(h, 1, sizeof h, d->fp);
    fwrite(rec->data, 1, caplen, d->fp);
    static const uint8_t zero[4];
    fwrite(zero, 1, padded - caplen, d->fp);
    fwrite(&len, 1, 4, d->fp);
}

/* Write the packet just handed out, fraction in ns. */
void tcpst__dump_packet(struct tcpst__dump *d, const tcpst__rec *rec)
{
    if (d->fp != NULL) {
        ng_packet(d, rec);
        return;
    }
    if (rec->linktype != d->file_linktype) {
        d->skipped++; /* a pcap file has one link type: said at close */
        return;
    }
    struct pcap_pkthdr h = *rec->hdr;
    h.ts.tv_usec = rec->hdr->ts.tv_usec * rec->frac_ns;
    pcap_dump((u_char *)d->dumper, &h, rec->data);
}

uint64_t tcpst__dump_skipped(const struct tcpst__dump *d)
{
    return d != NULL ? d->skipped : 0;
}

int tcpst_capture_dump_finish(tcpst_capture *cap, tcpst_time end)
{
    struct tcpst__dump *d = cap->dump;
    if (d == NULL || d->fp == NULL || d->finished) {
        return tcpst_capture_dump_flush(cap);
    }
    d->finished = true;
    tcpst_capture_counters cc;
    tcpst_capture_get_counters(cap, &cc);
    if (d->nifs == 0) {
        /* No packet: the end still needs an interface to be said of. */
        (void)ng_iface(d, cap->in[0].info.linktype);
    }
    for (unsigned i = 0; i < d->nifs; i++) {
        uint8_t b[128];
        put32(b + 8, i);
        put32(b + 12, (uint32_t)((uint64_t)end >> 32));
        put32(b + 16, (uint32_t)(uint64_t)end);
        size_t len = 20;
        len += put_time_opt(b + len, NG_ISB_START, d->any ? d->first : end);
        len += put_time_opt(b + len, NG_ISB_END, end);
        if (cc.valid && i == 0) {
            /* libpcap counts per handle: a live capture has one interface. */
            len += put_u64_opt(b + len, NG_ISB_IFRECV, cc.received);
            len += put_u64_opt(b + len, NG_ISB_IFDROP, cc.if_dropped);
            len += put_u64_opt(b + len, NG_ISB_OSDROP, cc.dropped);
        }
        put_block(d->fp, b, NG_ISB, len, true);
    }
    return tcpst_capture_dump_flush(cap);
}

void tcpst__dump_close(struct tcpst__dump *d)
{
    if (d == NULL) {
        return;
    }
    if (d->fp != NULL) {
        fclose(d->fp);
    }
    if (d->dumper != NULL) {
        pcap_dump_close(d->dumper); /* flushes and closes the FILE using buf */
    }
    if (d->dead != NULL) {
        pcap_close(d->dead);
    }
    free(d->buf);
    free(d);
}

/* A private descriptor for "-", as for standard input: closing the dump must not close
 * the process's stdout. */
static int open_dump_stream(const char *path, FILE **fp, tcpst_error *err)
{
    if (strcmp(path, "-") == 0) {
        *fp = tcpst__dup_stream(STDOUT_FILENO, "wb");
        return *fp ? 0
                   : tcpst_error_set(err, TCPST_EWRITE, "standard output: cannot write: %s",
                                     strerror(errno));
    }
    /* outfile.h: never through a symlink or into a file another user planted. */
    int fd = tcpst_outfile_stream(path, "packets", err);
    if (fd < 0) {
        *fp = NULL;
        return fd;
    }
    *fp = fdopen(fd, "wb");
    if (!*fp) {
        close(fd);
        return tcpst_error_set(err, TCPST_ENOMEM, "%s: out of memory", path);
    }
    return 0;
}

/* One pcap file has one link type; the snapshot length must cover every record, or a
 * reader would cut the longer ones.  Sets *snaplen. */
static int file_params(const tcpst_capture *cap, const char *shown, bool ng, int *snaplen,
                       tcpst_error *err)
{
    *snaplen = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const tcpst__input *in = &cap->in[i];
        if (!ng && in->dlt != cap->in[0].dlt) {
            return tcpst_error_set(err, TCPST_ELINKTYPE,
                                   "%s: cannot save inputs of link types %s and %s in one "
                                   "pcap file (a .pcapng file can hold both)",
                                   shown, cap->in[0].info.linktype_name, in->info.linktype_name);
        }
        *snaplen = in->info.snaplen > *snaplen ? in->info.snaplen : *snaplen;
    }
    if (*snaplen <= 0) {
        *snaplen = TCPST_LIVE_SNAPLEN;
    }
    return 0;
}

/* Open the stream and the dumper on it, into d. */
static int open_dumper(struct tcpst__dump *d, const char *path, const char *shown, tcpst_error *err)
{
    FILE *fp;
    int rc = open_dump_stream(path, &fp, err);
    if (rc != 0) {
        return rc;
    }
    /* Our own buffer: fewer write() calls, and the 24-byte file header is
     * only buffered by pcap_dump_fopen(), so the one way it can fail is an
     * unsupported link type, after which the FILE is still ours to close. */
    (void)setvbuf(fp, d->buf, _IOFBF, DUMPBUF_SIZE);
    d->dumper = pcap_dump_fopen(d->dead, fp);
    if (d->dumper == NULL) {
        fclose(fp);
        return tcpst_error_set(err, TCPST_EWRITE, "%s: cannot write: %s", shown,
                               pcap_geterr(d->dead));
    }
    return 0;
}

static int open_ng(tcpst_capture *cap, struct tcpst__dump *d, const char *path, const char *shown,
                   uint32_t snaplen, tcpst_error *err)
{
    d->buf = malloc(DUMPBUF_SIZE);
    if (d->buf == NULL) {
        tcpst__dump_close(d);
        return tcpst_error_set(err, TCPST_ENOMEM, "%s: out of memory", shown);
    }
    int rc = open_dump_stream(path, &d->fp, err);
    if (rc != 0) {
        tcpst__dump_close(d);
        return rc;
    }
    (void)setvbuf(d->fp, d->buf, _IOFBF, DUMPBUF_SIZE);
    d->snaplen = snaplen;
    d->ifname = tcpst_capture_is_live(cap) ? cap->in[0].info.name : NULL;
    write_shb(d);
    /* The inputs' link types now, in order, so interface numbers follow the inputs. */
    for (size_t i = 0; i < cap->n; i++) {
        (void)ng_iface(d, cap->in[i].info.linktype);
    }
    cap->dump = d;
    return 0;
}

int tcpst_capture_dump_open(tcpst_capture *cap, const char *path, tcpst_error *err)
{
    if (path == NULL || path[0] == '\0') {
        return tcpst_error_set(err, TCPST_EUSAGE, "no file name to write packets to");
    }
    const char *shown = strcmp(path, "-") == 0 ? "standard output" : path;
    if (cap->dump != NULL) {
        return tcpst_error_set(err, TCPST_EUSAGE, "%s: already writing packets to a file", shown);
    }
    size_t plen = strlen(path);
    bool ng = plen > 7 && strcmp(path + plen - 7, ".pcapng") == 0;
    int snaplen;
    int rc = file_params(cap, shown, ng, &snaplen, err);
    if (rc != 0) {
        return rc;
    }
    struct tcpst__dump *d = calloc(1, sizeof(*d));
    if (d != NULL && ng) {
        return open_ng(cap, d, path, shown, (uint32_t)snaplen, err);
    }
    if (d != NULL) {
        d->file_linktype = cap->in[0].info.linktype;
        d->dead = pcap_open_dead_with_tstamp_precision(cap->in[0].dlt, snaplen,
                                                       PCAP_TSTAMP_PRECISION_NANO);
        d->buf = malloc(DUMPBUF_SIZE);
    }
    if (d == NULL || d->dead == NULL || d->buf == NULL) {
        tcpst__dump_close(d);
        return tcpst_error_set(err, TCPST_ENOMEM, "%s: out of memory", shown);
    }
    rc = open_dumper(d, path, shown, err);
    if (rc != 0) {
        tcpst__dump_close(d);
        return rc;
    }
    cap->dump = d;
    return 0;
}

/* errno is set when this fails (pcap_dump() itself cannot report errors; it
 * stops writing once the stream has an error, which ferror() shows here). */
int tcpst_capture_dump_flush(tcpst_capture *cap)
{
    if (cap->dump == NULL) {
        return 0;
    }
    FILE *fp = cap->dump->fp;
    if (fp == NULL && pcap_dump_flush(cap->dump->dumper) != 0) {
        return -1;
    }
    if (fp != NULL && fflush(fp) != 0) {
        return -1;
    }
    if (ferror(fp != NULL ? fp : pcap_dump_file(cap->dump->dumper))) {
        errno = EIO;
        return -1;
    }
    return 0;
}
