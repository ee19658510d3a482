/*
 * capture.c - read one or more pcap/pcapng files as one packet stream.
 *
 * Each input is opened with our own FILE and a large stdio buffer, because
 * pcap_open_offline() leaves the default (4 KiB) buffer and read() calls then
 * dominate the cost of reading a big capture.  libpcap parses both formats and
 * delivers timestamps at nanosecond precision whatever the file stores.
 *
 * Several inputs are merged by timestamp with a binary heap holding, per input,
 * the one record read but not yet handed out (libpcap keeps that record's bytes
 * valid until the next read on the same handle, so nothing is copied).  Ties go
 * to the lower input index, which makes a capture rotated into several files
 * read exactly like the unsplit file.  Every record consumed gets a frame
 * number, including the ones the BPF filter rejects, so numbers match
 * Wireshark's for a single file.
 *
 * A damaged record (short read, captured length above the original length)
 * ends that input only; what was read before stays valid.
 *
 * Not done here: decoding (decode.c), live capture, and printing (main.c).
 * Memory is allocated only when opening; reading does not allocate.
 */
#include "tcpstate/capture.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "tcpstate/decode.h"

/* stdio buffer per input: 1 MiB, shrunk when many files are open at once so a
 * long list of rotated files does not reserve gigabytes. */
#define IOBUF_MAX    ((size_t)1 << 20)
#define IOBUF_MIN    ((size_t)64 << 10)
#define IOBUF_BUDGET ((size_t)64 << 20)

/* LINKTYPE numbers whose DLT value differs on common platforms. */
#define LINKTYPE_RAW  101
#define LINKTYPE_LOOP 108

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

struct input {
    tcpst_input_info info;
    pcap_t *pcap;
    char *iobuf; /* stdio buffer of the FILE owned by pcap; freed after pcap_close */
    struct bpf_program prog;
    bool has_prog;
    char ltname[32]; /* fallback link type name */
    /* The record read but not yet consumed (valid while the input is in the heap). */
    struct pcap_pkthdr *hdr;
    const u_char *data;
    tcpst_time ts;
};

struct tcpst_capture {
    struct input *in;
    size_t n;
    size_t *heap; /* input indices, min-heap on (ts, index) */
    size_t heap_len;
    bool advance_top; /* heap[0]'s record was consumed; read its next one first */
    uint64_t frame;
    uint64_t packets;
    uint64_t filtered;
};

/* What peeking at the raw file header could tell (regular files only). */
struct peek {
    bool known;
    bool pcapng;
    bool nanosecond;
};

static const char *display_name(const char *name)
{
    return strcmp(name, "-") == 0 ? "standard input" : name;
}

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
    } else if (le == MAGIC_PCAPNG_SHB) {
        pk->known = true;
        pk->pcapng = true;
        pk->nanosecond = pcapng_nanosecond(fd, pos);
    }
}

/*
 * pcap_datalink() returns DLT_* values; report LINKTYPE_* numbers (what the
 * file stores and what decode.h speaks).  They differ only for a few values.
 */
static int dlt_to_linktype(int dlt)
{
    if (dlt == DLT_RAW) {
        return LINKTYPE_RAW;
    }
#ifdef DLT_LOOP
    if (dlt == DLT_LOOP) {
        return LINKTYPE_LOOP;
    }
#endif
    return dlt;
}

static int open_stream(const char *name, FILE **fpp, tcpst_error *err)
{
    FILE *fp;
    if (strcmp(name, "-") == 0) {
        /* A private descriptor: pcap_close() will fclose() it, and the
         * process's stdin must survive that. */
        int fd = dup(STDIN_FILENO);
        fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
        if (fp == NULL && fd >= 0) {
            int e = errno;
            close(fd);
            errno = e;
        }
    } else {
        fp = fopen(name, "rb");
    }
    *fpp = fp;
    if (fp == NULL) {
        return tcpst_error_set(err, TCPST_EOPEN, "%s: %s", display_name(name), strerror(errno));
    }
    return 0;
}

static int open_input(struct input *in, const char *name, size_t bufsz, tcpst_error *err)
{
    const char *shown = display_name(name);
    in->info.name = name;
    FILE *fp;
    int rc = open_stream(name, &fp, err);
    if (rc != 0) {
        return rc;
    }
    struct peek pk;
    peek_header(fileno(fp), &pk);
    in->iobuf = malloc(bufsz);
    if (in->iobuf == NULL) {
        fclose(fp);
        return tcpst_error_set(err, TCPST_ENOMEM, "%s: out of memory for read buffer", shown);
    }
    /* Failure only costs speed, so it is not an error. */
    (void)setvbuf(fp, in->iobuf, _IOFBF, bufsz);

    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    in->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (in->pcap == NULL) {
        fclose(fp); /* libpcap leaves the FILE to us when opening fails */
        return tcpst_error_set(err, TCPST_EFORMAT, "%s: %s", shown,
                               errbuf[0] != '\0' ? errbuf : "unreadable capture file");
    }

    int dlt = pcap_datalink(in->pcap);
    in->info.linktype = dlt_to_linktype(dlt);
    const char *ltname = pcap_datalink_val_to_name(dlt);
    if (ltname == NULL) {
        snprintf(in->ltname, sizeof(in->ltname), "LINKTYPE_%d", in->info.linktype);
        ltname = in->ltname;
    }
    in->info.linktype_name = ltname;
    if (pk.known) {
        in->info.format = pk.pcapng ? "pcapng" : "pcap";
        in->info.nanosecond = pk.nanosecond;
    } else {
        /* libpcap reports the pcapng section's version (1.x) and 2.x for pcap. */
        in->info.format = pcap_major_version(in->pcap) == 2 ? "pcap" : "pcapng";
        in->info.nanosecond = false;
    }
    in->info.snaplen = pcap_snapshot(in->pcap);

    if (!tcpst_decode_linktype_supported(in->info.linktype)) {
        return tcpst_error_set(err, TCPST_ELINKTYPE, "%s: unsupported link type %s (%d)", shown,
                               ltname, in->info.linktype);
    }
    return 0;
}

static int compile_filters(tcpst_capture *cap, const char *filter, tcpst_error *err)
{
    bool mixed = false;
    for (size_t i = 1; i < cap->n; i++) {
        mixed = mixed || cap->in[i].info.linktype != cap->in[0].info.linktype;
    }
    for (size_t i = 0; i < cap->n; i++) {
        struct input *in = &cap->in[i];
        if (pcap_compile(in->pcap, &in->prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            if (mixed) {
                return tcpst_error_set(
                    err, TCPST_EFILTER, "invalid filter '%s' for %s (link type %s): %s", filter,
                    display_name(in->info.name), in->info.linktype_name, pcap_geterr(in->pcap));
            }
            return tcpst_error_set(err, TCPST_EFILTER, "invalid filter '%s': %s", filter,
                                   pcap_geterr(in->pcap));
        }
        in->has_prog = true;
    }
    return 0;
}

/*
 * Packet time in ns, saturated: pcapng can encode seconds beyond int64 ns.
 * The bound is +-2^62 ns (about 146 years either side of 1970, so every
 * classic pcap time fits), not INT64_MAX: the engine adds timeouts to packet
 * times and the report subtracts and rounds them, which overflowed (UB) for
 * times at the int64 limits (found by fuzz_pcap).
 */
#define TIME_LIMIT ((int64_t)1 << 62)
static tcpst_time hdr_time(const struct pcap_pkthdr *h)
{
    int64_t sec = (int64_t)h->ts.tv_sec;
    int64_t frac = (int64_t)h->ts.tv_usec;
    if (sec >= TIME_LIMIT / TCPST_NS_PER_SEC) {
        return TIME_LIMIT;
    }
    if (sec <= -TIME_LIMIT / TCPST_NS_PER_SEC) {
        return -TIME_LIMIT;
    }
    return sec * TCPST_NS_PER_SEC + frac;
}

static void stop_input(struct input *in, const char *msg)
{
    in->info.truncated = true;
    snprintf(in->info.error, sizeof(in->info.error), "%s", msg);
}

/* Read the input's next record into its pending slot; false at its end. */
static bool advance(struct input *in)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int r = pcap_next_ex(in->pcap, &hdr, &data);
    if (r == 1) {
        if (hdr->caplen > hdr->len) {
            char msg[128];
            snprintf(msg, sizeof(msg), "record %llu: captured length %u exceeds original length %u",
                     (unsigned long long)in->info.packets + 1, hdr->caplen, hdr->len);
            stop_input(in, msg);
            return false;
        }
        in->hdr = hdr;
        in->data = data;
        in->ts = hdr_time(hdr);
        return true;
    }
    if (r == PCAP_ERROR) {
        stop_input(in, pcap_geterr(in->pcap));
    }
    return false; /* PCAP_ERROR_BREAK: end of file */
}

static bool heap_less(const tcpst_capture *cap, size_t a, size_t b)
{
    tcpst_time ta = cap->in[a].ts;
    tcpst_time tb = cap->in[b].ts;
    return ta < tb || (ta == tb && a < b);
}

static void sift_down(tcpst_capture *cap, size_t i)
{
    size_t *h = cap->heap;
    for (;;) {
        size_t l = 2 * i + 1;
        size_t r = l + 1;
        size_t m = i;
        if (l < cap->heap_len && heap_less(cap, h[l], h[m])) {
            m = l;
        }
        if (r < cap->heap_len && heap_less(cap, h[r], h[m])) {
            m = r;
        }
        if (m == i) {
            return;
        }
        size_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_pop(tcpst_capture *cap)
{
    cap->heap[0] = cap->heap[--cap->heap_len];
    sift_down(cap, 0);
}

static void prime(tcpst_capture *cap)
{
    cap->heap_len = 0;
    for (size_t i = 0; i < cap->n; i++) {
        if (advance(&cap->in[i])) {
            cap->heap[cap->heap_len++] = i;
        }
    }
    for (size_t i = cap->heap_len / 2; i-- > 0;) {
        sift_down(cap, i);
    }
}

int tcpst_capture_open(tcpst_capture **out, const char *const *files, size_t nfiles,
                       const char *filter, tcpst_error *err)
{
    if (out == NULL) {
        return tcpst_error_set(err, TCPST_EUSAGE, "no capture handle to fill");
    }
    *out = NULL;
    if (nfiles == 0 || files == NULL) {
        return tcpst_error_set(err, TCPST_EUSAGE, "no input files");
    }
    if (nfiles > UINT_MAX) {
        return tcpst_error_set(err, TCPST_EUSAGE, "too many input files (%zu)", nfiles);
    }
    bool seen_stdin = false;
    for (size_t i = 0; i < nfiles; i++) {
        if (files[i] == NULL || files[i][0] == '\0') {
            return tcpst_error_set(err, TCPST_EUSAGE, "input file %zu: empty file name", i + 1);
        }
        if (strcmp(files[i], "-") == 0) {
            if (seen_stdin) {
                return tcpst_error_set(err, TCPST_EUSAGE,
                                       "standard input ('-') can be read only once");
            }
            seen_stdin = true;
        }
    }

    tcpst_capture *cap = calloc(1, sizeof(*cap));
    if (cap == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }
    cap->in = calloc(nfiles, sizeof(*cap->in));
    cap->heap = calloc(nfiles, sizeof(*cap->heap));
    if (cap->in == NULL || cap->heap == NULL) {
        tcpst_capture_close(cap);
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }

    size_t bufsz = IOBUF_BUDGET / nfiles;
    bufsz = bufsz > IOBUF_MAX ? IOBUF_MAX : bufsz < IOBUF_MIN ? IOBUF_MIN : bufsz;
    int rc = 0;
    for (size_t i = 0; i < nfiles && rc == 0; i++) {
        cap->n = i + 1; /* so that close releases what this input got */
        rc = open_input(&cap->in[i], files[i], bufsz, err);
    }
    if (rc == 0 && filter != NULL && filter[0] != '\0') {
        rc = compile_filters(cap, filter, err);
    }
    if (rc != 0) {
        tcpst_capture_close(cap);
        return rc;
    }
    prime(cap);
    *out = cap;
    return 0;
}

int tcpst_capture_next(tcpst_capture *cap, tcpst_pkt *pkt)
{
    for (;;) {
        if (cap->advance_top) {
            cap->advance_top = false;
            if (advance(&cap->in[cap->heap[0]])) {
                sift_down(cap, 0);
            } else {
                heap_pop(cap);
            }
        }
        if (cap->heap_len == 0) {
            return 0;
        }
        size_t i = cap->heap[0];
        struct input *in = &cap->in[i];
        tcpst_input_info *info = &in->info;
        cap->advance_top = true;
        cap->frame++;
        cap->packets++;
        if (info->packets == 0 || in->ts < info->first_ts) {
            info->first_ts = in->ts;
        }
        if (info->packets == 0 || in->ts > info->last_ts) {
            info->last_ts = in->ts;
        }
        info->packets++;
        info->bytes += in->hdr->len;
        if (in->has_prog && pcap_offline_filter(&in->prog, in->hdr, in->data) == 0) {
            info->filtered++;
            cap->filtered++;
            continue;
        }
        pkt->data = in->data;
        pkt->caplen = in->hdr->caplen;
        pkt->wirelen = in->hdr->len;
        pkt->ts = in->ts;
        pkt->linktype = info->linktype;
        pkt->frame = cap->frame;
        pkt->input = (unsigned)i;
        return 1;
    }
}

size_t tcpst_capture_ninputs(const tcpst_capture *cap)
{
    return cap->n;
}

const tcpst_input_info *tcpst_capture_input(const tcpst_capture *cap, size_t i)
{
    return i < cap->n ? &cap->in[i].info : NULL;
}

uint64_t tcpst_capture_packets(const tcpst_capture *cap)
{
    return cap->packets;
}

uint64_t tcpst_capture_filtered(const tcpst_capture *cap)
{
    return cap->filtered;
}

void tcpst_capture_close(tcpst_capture *cap)
{
    if (cap == NULL) {
        return;
    }
    for (size_t i = 0; cap->in != NULL && i < cap->n; i++) {
        struct input *in = &cap->in[i];
        if (in->has_prog) {
            pcap_freecode(&in->prog);
        }
        if (in->pcap != NULL) {
            pcap_close(in->pcap); /* also closes the FILE, which uses iobuf */
        }
        free(in->iobuf);
    }
    free(cap->in);
    free(cap->heap);
    free(cap);
}
