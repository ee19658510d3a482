/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * file.c - capture files: opening a list of pcap and pcapng files (or standard input) as
 * one source, and reading each classic pcap file with libpcap as a source of its own
 * (pcapng files are read by pcapng.c).
 *
 * Each input is opened with our own FILE and a large stdio buffer, because
 * pcap_open_offline() leaves the default (4 KiB) buffer and read() calls then
 * dominate the cost of reading a big capture.  libpcap parses both formats and
 * delivers timestamps at nanosecond precision whatever the file stores, but it
 * does not say which format or time resolution a file has, so the header is
 * peeked at first.
 *
 * The BPF filter is applied here, per record, with pcap_offline_filter() rather
 * than in libpcap's read loop: a record it rejects is still handed on (FILTERED),
 * so that it takes a frame number.  A damaged record (short read, captured length
 * above the original length) ends that input only; what was read before stays
 * valid.
 *
 * Not done here: the merge in timestamp order (merge.c), frame numbers and
 * counters (capture.c), decoding.  Memory is allocated only when opening.
 */
#define _GNU_SOURCE /* fopencookie: a pipe's first bytes, peeked, read again */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "source.h"

/* stdio buffer per input: 1 MiB, shrunk when many files are open at once so a
 * long list of rotated files does not reserve gigabytes. */
#define IOBUF_MAX    ((size_t)1 << 20)
#define IOBUF_MIN    ((size_t)64 << 10)
#define IOBUF_BUDGET ((size_t)64 << 20)

/* File magics (pcap: as read in either byte order; pcapng: palindromic). */
#define MAGIC_PCAP_US      0xa1b2c3d4u
#define MAGIC_PCAP_US_KUZ  0xa1b2cd34u /* Alexey Kuznetsov's modified format */
#define MAGIC_PCAP_NS      0xa1b23c4du
#define MAGIC_PCAPNG_SHB   0x0a0d0d0au
#define PCAPNG_BOM         0x1a2b3c4du
#define PCAPNG_IDB         1u
#define PCAPNG_OPT_END     0u
#define PCAPNG_IF_TSRESOL  9u
#define PCAPNG_BLOCK_MAX   (16u << 20) /* sanity bound for header peeking */
#define PCAPNG_PEEK_BLOCKS 16

/* One file.  With a read-ahead thread only that thread touches it after open. */
struct file {
    tcpst__source base;
    pcap_t *pcap;
    char *iobuf; /* stdio buffer of the FILE owned by pcap; freed after pcap_close */
    struct bpf_program prog;
    bool has_prog;
    bool regular;     /* a regular file (not a pipe): safe to read ahead in a thread */
    bool done;        /* END or ERROR handed out: END from now on */
    unsigned input;   /* its index among the inputs */
    int linktype;     /* info.linktype, for the read-ahead prep step */
    const char *name; /* as given ("-" for stdin) */
    uint64_t records; /* records read (numbers the damaged one) */
    uint64_t offset;  /* byte offset of the next record (classic pcap layout) */
    unsigned rec_hdr; /* bytes of a record header: 16, 24 in Kuznetsov's format */
    char error[TCPST_ERRMSG_MAX];
};

/* What peeking at the raw file header could tell (regular files only). */
struct peek {
    bool known;
    bool pcapng;
    bool nanosecond;
    bool kuznetsov; /* records have 8 more header bytes */
};

static uint16_t rd16(const uint8_t *p, bool be)
{
    return be ? (uint16_t)((unsigned)p[0] << 8 | p[1]) : (uint16_t)((unsigned)p[1] << 8 | p[0]);
}

static uint32_t rd32(const uint8_t *p, bool be)
{
    if (be) {
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    }
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static bool pread_full(int fd, uint8_t *buf, size_t len, off_t at)
{
    ssize_t got = pread(fd, buf, len, at);
    return got >= 0 && (size_t)got == len;
}

/*
 * pcapng if_tsresol (pcapng spec, "Interface Description Block" options):
 * high bit clear = 10^-v seconds, set = 2^-v.  We call anything finer than a
 * microsecond "nanosecond", since that precision would be lost in microseconds.
 */
static bool tsresol_finer_than_us(uint8_t v)
{
    if (v & 0x80u) {
        return (v & 0x7fu) >= 20; /* 2^-20 s < 1 us */
    }
    return v > 6;
}

/* Walk the options of the IDB at `at` (total length `len`) for if_tsresol. */
static bool idb_nanosecond(int fd, off_t at, uint32_t len, bool be)
{
    uint8_t body[4096];
    size_t want = len < sizeof(body) ? len : sizeof(body);
    if (!pread_full(fd, body, want, at)) {
        return false;
    }
    size_t end = want == len ? len - 4 : want; /* drop the trailing length copy */
    size_t off = 16;                           /* type, length, link type, reserved, snaplen */
    while (off + 4 <= end) {
        uint16_t code = rd16(body + off, be);
        uint16_t olen = rd16(body + off + 2, be);
        off += 4;
        if (code == PCAPNG_OPT_END || off + olen > end) {
            break;
        }
        if (code == PCAPNG_IF_TSRESOL && olen >= 1) {
            return tsresol_finer_than_us(body[off]);
        }
        off += ((size_t)olen + 3) & ~(size_t)3;
    }
    return false; /* default resolution is microseconds */
}

/* Resolution of the first interface of the first section; other blocks may
 * come between the section header and it, packets may not. */
static bool pcapng_nanosecond(int fd, off_t pos)
{
    uint8_t h[12];
    if (!pread_full(fd, h, sizeof(h), pos)) {
        return false;
    }
    bool be;
    if (rd32(h + 8, false) == PCAPNG_BOM) {
        be = false;
    } else if (rd32(h + 8, true) == PCAPNG_BOM) {
        be = true;
    } else {
        return false;
    }
    uint32_t len = rd32(h + 4, be);
    off_t at = pos;
    for (int k = 0; k < PCAPNG_PEEK_BLOCKS; k++) {
        if (len < 12 || len % 4 != 0 || len > PCAPNG_BLOCK_MAX) {
            return false;
        }
        at += (off_t)len;
        uint8_t bh[8];
        if (!pread_full(fd, bh, sizeof(bh), at)) {
            return false;
        }
        uint32_t type = rd32(bh, be);
        len = rd32(bh + 4, be);
        if (type == PCAPNG_IDB) {
            return len >= 20 && len <= PCAPNG_BLOCK_MAX && idb_nanosecond(fd, at, len, be);
        }
        if (type == MAGIC_PCAPNG_SHB) {
            return false;
        }
    }
    return false;
}

/*
 * libpcap does not say which format or time resolution a file has, so read
 * the magic ourselves with pread() before stdio touches the stream.  Only
 * regular files can be peeked without consuming bytes; a pipe on stdin gets
 * format from libpcap's version numbers and is assumed microsecond.
 */
static void peek_header(int fd, struct peek *pk)
{
    struct stat st;
    memset(pk, 0, sizeof(*pk));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return;
    }
    off_t pos = lseek(fd, 0, SEEK_CUR);
    uint8_t m[4];
    if (pos < 0 || !pread_full(fd, m, sizeof(m), pos)) {
        return;
    }
    uint32_t le = rd32(m, false);
    uint32_t be = rd32(m, true);
    if (le == MAGIC_PCAP_NS || be == MAGIC_PCAP_NS) {
        pk->known = true;
        pk->nanosecond = true;
    } else if (le == MAGIC_PCAP_US || be == MAGIC_PCAP_US || le == MAGIC_PCAP_US_KUZ ||
               be == MAGIC_PCAP_US_KUZ) {
        pk->known = true;
        pk->kuznetsov = le == MAGIC_PCAP_US_KUZ || be == MAGIC_PCAP_US_KUZ;
    } else if (le == MAGIC_PCAPNG_SHB) {
        pk->known = true;
        pk->pcapng = true;
        pk->nanosecond = pcapng_nanosecond(fd, pos);
    }
}

/* ---- reading one file --------------------------------------------------------- */

static void file_stop(struct file *f, tcpst__rec *rec, const char *why)
{
    snprintf(f->error, sizeof(f->error), "damaged record at byte %llu: %s",
             (unsigned long long)f->offset, why);
    *rec = (tcpst__rec){.kind = TCPST__REC_ERROR, .input = f->input, .error = f->error};
}

static void file_next(tcpst__source *s, tcpst__rec *rec)
{
    struct file *f = (struct file *)s;
    if (f->done) {
        *rec = (tcpst__rec){.kind = TCPST__REC_END, .input = f->input};
        return;
    }
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int r = pcap_next_ex(f->pcap, &hdr, &data);
    if (r == 1 && hdr->caplen <= hdr->len) {
        f->records++;
        f->offset += f->rec_hdr + hdr->caplen;
        bool pass = !f->has_prog || pcap_offline_filter(&f->prog, hdr, data) != 0;
        *rec = (tcpst__rec){.kind = pass ? TCPST__REC_PACKET : TCPST__REC_FILTERED,
                            .input = f->input,
                            .data = data,
                            .caplen = hdr->caplen,
                            .wirelen = hdr->len,
                            .ts = tcpst__pcap_time(hdr, 1), /* opened at ns precision */
                            .linktype = f->linktype,
                            .hdr = hdr,
                            .frac_ns = 1};
        return;
    }
    f->done = true;
    if (r == 1) {
        char msg[128];
        snprintf(msg, sizeof(msg), "record %llu: captured length %u exceeds original length %u",
                 (unsigned long long)f->records + 1, hdr->caplen, hdr->len);
        file_stop(f, rec, msg);
    } else if (r == PCAP_ERROR) {
        file_stop(f, rec, pcap_geterr(f->pcap));
    } else {
        *rec = (tcpst__rec){.kind = TCPST__REC_END, .input = f->input}; /* PCAP_ERROR_BREAK */
    }
}

/* A pipe may deliver slowly: its records must reach the analysis as they come. */
static int file_read_ahead_ok(const tcpst__source *s, tcpst_error *err)
{
    const struct file *f = (const struct file *)s;
    if (!f->regular) {
        return tcpst_error_set(err, TCPST_EUSAGE, "%s: not a regular file",
                               tcpst_capture_shown_name(f->name));
    }
    return 0;
}

int tcpst__file_may_read_ahead(FILE *fp, const char *name, tcpst_error *err)
{
    struct stat st;
    int fd = fileno(fp);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return tcpst_error_set(err, TCPST_EUSAGE, "%s: not a regular file",
                               tcpst_capture_shown_name(name));
    }
    return 0;
}

static void file_close(tcpst__source *s)
{
    struct file *f = (struct file *)s;
    if (f->has_prog) {
        pcap_freecode(&f->prog);
    }
    if (f->pcap != NULL) {
        pcap_close(f->pcap); /* also closes the FILE, which uses iobuf */
    }
    free(f->iobuf);
    free(f);
}

static const tcpst__source_ops file_ops = {
    .next = file_next,
    .close = file_close,
    .read_ahead_ok = file_read_ahead_ok,
};

/* ---- opening ------------------------------------------------------------------ */

static int open_stream(const char *name, FILE **fpp, tcpst_error *err)
{
    /* A private descriptor for "-": pcap_close() will fclose() it, and the
     * process's stdin must survive that. */
    FILE *fp = strcmp(name, "-") == 0 ? tcpst__dup_stream(STDIN_FILENO, "rb") : fopen(name, "rb");
    *fpp = fp;
    if (fp == NULL) {
        return tcpst_error_set(err, TCPST_EOPEN, "%s: %s", tcpst_capture_shown_name(name),
                               strerror(errno));
    }
    return 0;
}

/* A stream that gives back the bytes peeked from a pipe, then the rest of it. */
typedef struct replay {
    FILE *inner;
    uint8_t head[4];
    size_t n, pos;
} replay;

static ssize_t replay_read(void *cookie, char *buf, size_t size)
{
    replay *r = cookie;
    if (r->pos < r->n) {
        size_t k = r->n - r->pos < size ? r->n - r->pos : size;
        memcpy(buf, r->head + r->pos, k);
        r->pos += k;
        return (ssize_t)k;
    }
    /* One read(), not fread(): a pipe gives what it has, and the packets it carries must
     * reach the analysis as they come, not when a buffer is full.  A signal does not end
     * the stream: the read loop sees the flag at the next record. */
    ssize_t got;
    if (fileno(r->inner) < 0) { /* a decompressing stream: it has no descriptor */
        size_t k = fread(buf, 1, size, r->inner);
        return k == 0 && ferror(r->inner) ? -1 : (ssize_t)k;
    }
    do {
        got = read(fileno(r->inner), buf, size);
    } while (got < 0 && errno == EINTR);
    return got;
}

static int replay_close(void *cookie)
{
    replay *r = cookie;
    int rc = fclose(r->inner);
    free(r);
    return rc;
}

/* A pipe cannot be peeked without consuming it: read its magic, then hand on a stream that
 * reads those bytes again.  *pcapng says what the magic is; head (4 bytes) gets it. */
static FILE *peek_pipe(FILE *fp, bool *pcapng, uint8_t *head, size_t *nhead)
{
    replay *r = calloc(1, sizeof *r);
    if (!r) {
        return NULL;
    }
    r->inner = fp; /* only its descriptor is read, so no bytes wait in its buffer */
    while (r->n < sizeof r->head) {
        if (fileno(fp) < 0) {
            r->n = fread(r->head, 1, sizeof r->head, fp);
            break;
        }
        ssize_t got = read(fileno(fp), r->head + r->n, sizeof r->head - r->n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        r->n += (size_t)got;
    }
    *pcapng = r->n == 4 && rd32(r->head, false) == MAGIC_PCAPNG_SHB;
    memcpy(head, r->head, r->n);
    *nhead = r->n;
    cookie_io_functions_t io = {.read = replay_read, .close = replay_close};
    FILE *out = fopencookie(r, "rb", io);
    if (!out) {
        free(r);
    }
    return out;
}

/* Format and resolution: from the peek, else what libpcap says. */
static void set_format(tcpst_input_info *info, const struct peek *pk, pcap_t *p)
{
    if (pk->known) {
        info->format = pk->pcapng ? "pcapng" : "pcap";
        info->nanosecond = pk->nanosecond;
    } else {
        /* libpcap reports the pcapng section's version (1.x) and 2.x for pcap. */
        info->format = pcap_major_version(p) == 2 ? "pcap" : "pcapng";
        info->nanosecond = false;
    }
}

/* A classic pcap file through libpcap: fp (opened and peeked) and its buffer are owned. */
static int open_file(struct file *f, tcpst__input *in, FILE *fp, const struct peek *pk_in,
                     tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    const char *shown = tcpst_capture_shown_name(f->name);
    struct peek pk = *pk_in;
    in->info.name = f->name;
    struct stat st;
    f->regular = fileno(fp) >= 0 && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);

    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    f->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (f->pcap == NULL) {
        fclose(fp); /* libpcap leaves the FILE to us when opening fails */
        return tcpst_error_set(err, TCPST_EFORMAT, "%s: %s", shown,
                               errbuf[0] != '\0' ? errbuf : "unreadable capture file");
    }
    tcpst__input_set_linktype(in, pcap_datalink(f->pcap));
    f->linktype = in->info.linktype;
    set_format(&in->info, &pk, f->pcap);
    in->info.snaplen = pcap_snapshot(f->pcap);
    f->offset = 24; /* the file header */
    f->rec_hdr = pk.kuznetsov ? 24 : 16;
    return tcpst__input_check_linktype(in, shown, linktype_ok, err);
}

/* A compressed capture: gzip is read through an inflating stream (and its own magic
 * peeked); for the others the message says what to run. */
static int decompress(const char *shown, FILE **fpp, const uint8_t *head, size_t nhead,
                      struct peek *pk, tcpst_error *err)
{
    const char *z = tcpst__compressed(head, nhead);
    if (z == NULL) {
        return 0;
    }
    if (strcmp(z, "gzip") != 0) {
        fclose(*fpp);
        return tcpst_error_set(err, TCPST_EFORMAT,
                               "%s: compressed with %s: decompress it first (%s -d)", shown, z,
                               strcmp(z, "lz4") == 0 ? "lz4" : z);
    }
    FILE *g = tcpst__gunzip(*fpp);
    bool ng = false;
    uint8_t inner[4];
    size_t n;
    FILE *r = g ? peek_pipe(g, &ng, inner, &n) : NULL;
    if (!r) {
        if (g) {
            fclose(g);
        } else {
            fclose(*fpp);
        }
        return tcpst_error_set(err, TCPST_ENOMEM, "%s: out of memory", shown);
    }
    if (n < sizeof inner) {
        fclose(r);
        return tcpst_error_set(err, TCPST_EFORMAT,
                               "%s: gzip-compressed, but it does not inflate to a capture "
                               "(damaged or empty)",
                               shown);
    }
    *fpp = r;
    memset(pk, 0, sizeof *pk);
    pk->known = ng; /* classic pcap: libpcap reads the magic itself */
    pk->pcapng = ng;
    return 0;
}

/* Open `name`, see which format it is, and give it its buffer. */
static int open_raw(const char *name, size_t bufsz, FILE **fpp, char **bufp, struct peek *pk,
                    bool *stream, tcpst_error *err)
{
    const char *shown = tcpst_capture_shown_name(name);
    int rc = open_stream(name, fpp, err);
    if (rc != 0) {
        return rc;
    }
    peek_header(fileno(*fpp), pk);
    struct stat st;
    *stream = fstat(fileno(*fpp), &st) == 0 && !S_ISREG(st.st_mode);
    uint8_t head[4];
    size_t nhead = 0;
    if (*stream) {
        bool ng = false;
        FILE *r = peek_pipe(*fpp, &ng, head, &nhead);
        if (!r) {
            fclose(*fpp);
            return tcpst_error_set(err, TCPST_ENOMEM, "%s: out of memory", shown);
        }
        *fpp = r;
        pk->known = ng; /* a classic pcap pipe: libpcap reads the rest of its header */
        pk->pcapng = ng;
    } else {
        off_t pos = lseek(fileno(*fpp), 0, SEEK_CUR);
        nhead = pos >= 0 && pread_full(fileno(*fpp), head, sizeof head, pos) ? sizeof head : 0;
    }
    rc = decompress(shown, fpp, head, nhead, pk, err);
    if (rc != 0) {
        return rc;
    }
    *bufp = malloc(bufsz);
    if (*bufp == NULL) {
        fclose(*fpp);
        return tcpst_error_set(err, TCPST_ENOMEM, "%s: out of memory for read buffer", shown);
    }
    /* Failure only costs speed, so it is not an error. */
    (void)setvbuf(*fpp, *bufp, _IOFBF, bufsz);
    return 0;
}

/* Input i as a source, put in *out at once so that closing releases what it got. */
static int open_input(tcpst__source **out, tcpst__input *in, const char *name, unsigned i,
                      size_t bufsz, tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    FILE *fp;
    char *buf;
    struct peek pk;
    in->info.name = name;
    int rc = open_raw(name, bufsz, &fp, &buf, &pk, &in->info.stream, err);
    if (rc != 0) {
        return rc;
    }
    if (pk.pcapng) {
        return tcpst__pcapng_open(out, in, fp, buf, name, i, linktype_ok, err);
    }
    struct file *f = tcpst__alloc_lines(sizeof(*f));
    if (f == NULL) {
        fclose(fp);
        free(buf);
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }
    f->base.ops = &file_ops;
    f->input = i;
    f->name = name;
    f->iobuf = buf;
    *out = &f->base;
    return open_file(f, in, fp, &pk, linktype_ok, err);
}

static int compile_filters(tcpst__source **child, const tcpst__input *in, size_t n,
                           const char *filter, tcpst_error *err)
{
    bool mixed = false;
    for (size_t i = 1; i < n; i++) {
        mixed = mixed || in[i].info.linktype != in[0].info.linktype;
    }
    for (size_t i = 0; i < n; i++) {
        if (tcpst__is_pcapng(child[i])) {
            int rc = tcpst__pcapng_set_filter(child[i], filter, &in[i], err);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        struct file *f = (struct file *)child[i];
        if (pcap_compile(f->pcap, &f->prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            if (mixed) {
                return tcpst_error_set(err, TCPST_EFILTER,
                                       "invalid filter '%s' for %s (link type %s): %s", filter,
                                       tcpst_capture_shown_name(in[i].info.name),
                                       in[i].info.linktype_name, pcap_geterr(f->pcap));
            }
            return tcpst_error_set(err, TCPST_EFILTER, "invalid filter '%s': %s", filter,
                                   pcap_geterr(f->pcap));
        }
        f->has_prog = true;
    }
    return 0;
}

int tcpst__file_open(tcpst_capture *cap, const char *const *files, const char *filter,
                     tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    size_t n = cap->n;
    tcpst__source **child = calloc(n, sizeof(*child));
    cap->src = child != NULL ? tcpst__merge_new(child, n) : NULL;
    if (cap->src == NULL) {
        free(child);
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }
    size_t bufsz = IOBUF_BUDGET / n;
    bufsz = bufsz > IOBUF_MAX ? IOBUF_MAX : bufsz < IOBUF_MIN ? IOBUF_MIN : bufsz;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = open_input(&child[i], &cap->in[i], files[i], (unsigned)i, bufsz, linktype_ok, err);
    }
    if (rc == 0 && filter != NULL) {
        rc = compile_filters(child, cap->in, n, filter, err);
    }
    if (rc == 0) {
        tcpst__merge_start(cap->src, cap->in);
    }
    return rc;
}
