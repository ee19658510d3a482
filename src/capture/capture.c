/*
 * capture.c - read one or more pcap/pcapng files as one packet stream, or
 * capture live on an interface; optionally save what is read to a pcap file.
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
 * Live capture uses one handle in immediate mode with the filter in the
 * kernel, so every packet delivered gets a frame number.  The handle is put in
 * non-blocking mode and waited for with poll() on its selectable descriptor
 * plus a self-pipe, because a blocking pcap_next_ex() need not honour the
 * packet buffer timeout (pcap_set_timeout(3PCAP)): with libpcap 1.10 on Linux
 * in immediate mode it does not return at all while the interface is idle
 * (check_capture's idle test hangs without the poll), and a signal handler
 * cannot wake it portably.  The pipe lets tcpst_capture_interrupt() wake the
 * poll from a handler or another thread.
 *
 * Not done here: decoding (decode.c), dropping privileges (privdrop.c), and
 * printing (main.c).  Memory is allocated only when opening; reading (and
 * saving, which goes through a stdio buffer set up at open) does not allocate.
 */
#include "tcpstate/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

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

/* Default live poll interval: short enough for timely stats and timeouts,
 * long enough that an idle capture costs nothing measurable. */
#define LIVE_POLL_MS 100
/* Without a selectable descriptor (or after a readiness report that yielded
 * no packet) wait at most this long before trying to read again. */
#define LIVE_RETRY_MS 10
/* stdio buffer of the -w file. */
#define DUMPBUF_SIZE ((size_t)256 << 10)

/* With a read-ahead thread, the reader's fields and the consumer's must not share a cache
 * line, or every packet moves the line between the cores (false sharing): such groups
 * start on a line of their own, in memory from alloc_lines(). */
#define LINE 64

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "interrupted is set from signal handlers");

struct input {
    tcpst_input_info info; /* the consumer's (counted as records are handed out) */
    _Alignas(LINE) pcap_t *pcap;
    char *iobuf; /* stdio buffer of the FILE owned by pcap; freed after pcap_close */
    struct bpf_program prog;
    bool has_prog;
    char ltname[32];     /* fallback link type name */
    int dlt;             /* pcap_datalink(), for the -w file */
    int32_t frac_ns;     /* multiplier from the handle's fraction to ns (1 or 1000) */
    bool regular;        /* a regular file (not a pipe): safe to read ahead in a thread */
    uint64_t rd_records; /* records advance() has read (numbers the damaged one) */
    /* Reader thread: why advance() stopped, handed to the consumer in stream order. */
    bool rd_failed;
    int rd_linktype; /* info.linktype, for the reader's prep step */
    char rd_error[TCPST_ERRMSG_MAX];
    /* The record read but not yet consumed (valid while the input is in the heap). */
    struct pcap_pkthdr *hdr;
    const u_char *data;
    tcpst_time ts;
};

struct tcpst_capture {
    struct input *in; /* these three are set at open, then only read */
    size_t n;
    size_t *heap;                   /* input indices, min-heap on (ts, index) */
    _Alignas(LINE) size_t heap_len; /* the reader's, with a read-ahead thread */
    bool advance_top;               /* heap[0]'s record was consumed; read its next one first */
    _Alignas(LINE) uint64_t frame;  /* the consumer's */
    uint64_t packets;
    uint64_t filtered;

    /* Live capture (in[0] is the interface). */
    _Alignas(LINE) bool live;
    int poll_ms;                    /* <= 0: wait for a packet or an interrupt only */
    int sel_fd;                     /* pcap_get_selectable_fd(), -1 if the platform has none */
    int wake[2];                    /* self-pipe written by tcpst_capture_interrupt(); -1 offline */
    atomic_int interrupted;         /* lock-free: safe from a signal handler and from a thread */
    char warning[TCPST_ERRMSG_MAX]; /* pcap_activate() warning; "" if none */

    /* Read-ahead thread (tcpst_capture_start_reader); NULL when reading inline. */
    struct reader *rd;

    /* -w: every packet handed out is also written here. */
    pcap_t *dump_pcap; /* dead handle giving the file's link type and precision */
    pcap_dumper_t *dumper;
    char *dumpbuf; /* stdio buffer of the dump FILE; freed after pcap_dump_close */
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

/* Link type number and name of an opened handle. */
static void set_linktype(struct input *in)
{
    in->dlt = pcap_datalink(in->pcap);
    in->info.linktype = dlt_to_linktype(in->dlt);
    const char *ltname = pcap_datalink_val_to_name(in->dlt);
    if (ltname == NULL) {
        snprintf(in->ltname, sizeof(in->ltname), "LINKTYPE_%d", in->info.linktype);
        ltname = in->ltname;
    }
    in->info.linktype_name = ltname;
}

static int check_linktype(const struct input *in, const char *shown, tcpst_linktype_fn linktype_ok,
                          tcpst_error *err)
{
    if (linktype_ok != NULL && !linktype_ok(in->info.linktype)) {
        return tcpst_error_set(err, TCPST_ELINKTYPE, "%s: unsupported link type %s (%d)", shown,
                               in->info.linktype_name, in->info.linktype);
    }
    return 0;
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

static int open_input(struct input *in, const char *name, size_t bufsz,
                      tcpst_linktype_fn linktype_ok, tcpst_error *err)
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
    struct stat st;
    in->regular = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
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

    set_linktype(in);
    if (pk.known) {
        in->info.format = pk.pcapng ? "pcapng" : "pcap";
        in->info.nanosecond = pk.nanosecond;
    } else {
        /* libpcap reports the pcapng section's version (1.x) and 2.x for pcap. */
        in->info.format = pcap_major_version(in->pcap) == 2 ? "pcap" : "pcapng";
        in->info.nanosecond = false;
    }
    in->info.snaplen = pcap_snapshot(in->pcap);

    in->frac_ns = 1; /* opened at nanosecond precision */
    return check_linktype(in, shown, linktype_ok, err);
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
static tcpst_time hdr_time(const struct pcap_pkthdr *h, int32_t frac_ns)
{
    int64_t sec = (int64_t)h->ts.tv_sec;
    int64_t frac = (int64_t)h->ts.tv_usec * frac_ns;
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

/* Where advance() reports damage: the input's info, or (reader thread) a private note
 * the consumer applies when it reaches that point of the stream. */
static void advance_failed(struct input *in, bool threaded, const char *msg)
{
    if (threaded) {
        in->rd_failed = true;
        snprintf(in->rd_error, sizeof(in->rd_error), "%s", msg);
    } else {
        stop_input(in, msg);
    }
}

/* Read the input's next record into its pending slot; false at its end. */
static bool advance_ex(struct input *in, bool threaded)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int r = pcap_next_ex(in->pcap, &hdr, &data);
    if (r == 1) {
        if (hdr->caplen > hdr->len) {
            char msg[128];
            snprintf(msg, sizeof(msg), "record %llu: captured length %u exceeds original length %u",
                     (unsigned long long)in->rd_records + 1, hdr->caplen, hdr->len);
            advance_failed(in, threaded, msg);
            return false;
        }
        in->hdr = hdr;
        in->data = data;
        in->ts = hdr_time(hdr, in->frac_ns);
        in->rd_records++;
        return true;
    }
    if (r == PCAP_ERROR) {
        advance_failed(in, threaded, pcap_geterr(in->pcap));
    }
    return false; /* PCAP_ERROR_BREAK: end of file */
}

static bool advance(struct input *in)
{
    return advance_ex(in, false);
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

/* Zeroed memory starting on a cache line (see LINE). */
static void *alloc_lines(size_t size)
{
    size_t n = size ? (size + LINE - 1) / LINE * LINE : LINE;
    void *p = aligned_alloc(LINE, n);
    if (p != NULL) {
        memset(p, 0, n);
    }
    return p;
}

/* A capture with room for n inputs; descriptors marked unused. */
static tcpst_capture *cap_alloc(size_t n)
{
    tcpst_capture *cap = alloc_lines(sizeof(*cap));
    if (cap == NULL) {
        return NULL;
    }
    cap->sel_fd = -1;
    cap->wake[0] = cap->wake[1] = -1;
    cap->in = n <= SIZE_MAX / sizeof(*cap->in) ? alloc_lines(n * sizeof(*cap->in)) : NULL;
    cap->heap = calloc(n, sizeof(*cap->heap));
    if (cap->in == NULL || cap->heap == NULL) {
        tcpst_capture_close(cap);
        return NULL;
    }
    return cap;
}

int tcpst_capture_open(tcpst_capture **out, const char *const *files, size_t nfiles,
                       const char *filter, tcpst_linktype_fn linktype_ok, tcpst_error *err)
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

    tcpst_capture *cap = cap_alloc(nfiles);
    if (cap == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }

    size_t bufsz = IOBUF_BUDGET / nfiles;
    bufsz = bufsz > IOBUF_MAX ? IOBUF_MAX : bufsz < IOBUF_MIN ? IOBUF_MIN : bufsz;
    int rc = 0;
    for (size_t i = 0; i < nfiles && rc == 0; i++) {
        cap->n = i + 1; /* so that close releases what this input got */
        rc = open_input(&cap->in[i], files[i], bufsz, linktype_ok, err);
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

/* ---- live capture -------------------------------------------------------- */

void tcpst_live_config_default(tcpst_live_config *cfg)
{
    cfg->iface = NULL;
    cfg->snaplen = TCPST_LIVE_SNAPLEN;
    cfg->buffer_size = 0;
    cfg->promisc = true;
    cfg->poll_ms = LIVE_POLL_MS;
}

static bool set_cloexec_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fdfl = fcntl(fd, F_GETFD);
    return fl >= 0 && fdfl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
           fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) == 0;
}

/* The self-pipe: non-blocking at both ends, so the handler's write() never
 * blocks on a full pipe and draining stops when it is empty. */
static bool open_wake_pipe(tcpst_capture *cap)
{
    if (pipe(cap->wake) != 0) {
        cap->wake[0] = cap->wake[1] = -1;
        return false;
    }
    return set_cloexec_nonblock(cap->wake[0]) && set_cloexec_nonblock(cap->wake[1]);
}

static void drain_wake_pipe(tcpst_capture *cap)
{
    char buf[64];
    while (read(cap->wake[0], buf, sizeof(buf)) > 0) {
    }
}

static const char perm_hint[] = "permission denied: capturing needs root or the CAP_NET_RAW and "
                                "CAP_NET_ADMIN capabilities (e.g. sudo setcap "
                                "cap_net_raw,cap_net_admin=eip /path/to/tcpstate)";

/* Was this libpcap error text caused by missing privileges? libpcap maps
 * EPERM/EACCES to PCAP_ERROR_PERM_DENIED on Linux, but not on every path or
 * platform, so the text is checked too. */
static bool text_says_perm(const char *text)
{
    return strstr(text, strerror(EPERM)) != NULL || strstr(text, strerror(EACCES)) != NULL;
}

/* One line for a failed pcap_activate(), naming the interface and the fix. */
static int activate_error(pcap_t *p, const char *iface, int status, tcpst_error *err)
{
    const char *why = pcap_geterr(p);
    switch (status) {
        case PCAP_ERROR_PERM_DENIED:
            return tcpst_error_set(err, TCPST_EPERM, "%s: %s", iface, perm_hint);
        case PCAP_ERROR_PROMISC_PERM_DENIED:
            return tcpst_error_set(err, TCPST_EPERM,
                                   "%s: no permission to capture in promiscuous mode "
                                   "(-p captures without it)",
                                   iface);
        case PCAP_ERROR_NO_SUCH_DEVICE:
            return tcpst_error_set(err, TCPST_EOPEN,
                                   "%s: no such interface (tcpstate -D lists them)", iface);
        case PCAP_ERROR_IFACE_NOT_UP:
            return tcpst_error_set(err, TCPST_EOPEN, "%s: interface is down", iface);
        default:
            break;
    }
    if (why != NULL && why[0] != '\0' && text_says_perm(why)) {
        return tcpst_error_set(err, TCPST_EPERM, "%s: %s", iface, perm_hint);
    }
    if (why == NULL || why[0] == '\0') {
        why = pcap_statustostr(status);
    }
    return tcpst_error_set(err, TCPST_EOPEN, "%s: %s", iface, why);
}

/* A pcap_activate() warning, kept for the caller to show (capture works). */
static void keep_warning(tcpst_capture *cap, pcap_t *p, const char *iface, int status)
{
    const char *why = pcap_geterr(p);
    if (status == PCAP_WARNING_PROMISC_NOTSUP) {
        why = "promiscuous mode not supported";
    } else if (why == NULL || why[0] == '\0') {
        why = pcap_statustostr(status);
    }
    snprintf(cap->warning, sizeof(cap->warning), "%s: %s", iface, why);
}

static int create_live(tcpst_capture *cap, const tcpst_live_config *cfg,
                       tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    const char *iface = cfg->iface;
    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    errno = 0;
    pcap_t *p = pcap_create(iface, errbuf);
    if (p == NULL) {
        /* Some platforms and versions open a socket here (notably for "any"). */
        if (errno == EPERM || errno == EACCES || text_says_perm(errbuf)) {
            return tcpst_error_set(err, TCPST_EPERM, "%s: %s", iface, perm_hint);
        }
        return tcpst_error_set(err, TCPST_EOPEN, "%s: %s", iface,
                               errbuf[0] != '\0' ? errbuf : "cannot open interface");
    }
    struct input *in = &cap->in[0];
    in->pcap = p;
    cap->n = 1;
    int snaplen = cfg->snaplen > 0 ? cfg->snaplen : TCPST_LIVE_SNAPLEN;
    /* The setters fail only on an activated handle, which this is not. */
    (void)pcap_set_snaplen(p, snaplen);
    (void)pcap_set_promisc(p, cfg->promisc ? 1 : 0);
    (void)pcap_set_immediate_mode(p, 1);
    (void)pcap_set_timeout(p, cfg->poll_ms > 0 ? cfg->poll_ms : LIVE_POLL_MS);
    if (cfg->buffer_size > 0) {
        (void)pcap_set_buffer_size(p, cfg->buffer_size);
    }
    /* Not every platform has nanosecond time stamps; micro is the fallback. */
    bool nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;

    int status = pcap_activate(p);
    if (status < 0) {
        return activate_error(p, iface, status, err);
    }
    if (status > 0) {
        keep_warning(cap, p, iface, status);
    }
    nano = nano && pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    in->frac_ns = nano ? 1 : 1000;
    in->info.nanosecond = nano;
    in->info.name = iface;
    in->info.format = "live";
    in->info.snaplen = pcap_snapshot(p);
    set_linktype(in);
    return check_linktype(in, iface, linktype_ok, err);
}

static int set_live_filter(struct input *in, const char *iface, const char *filter,
                           tcpst_error *err)
{
    /* The netmask only matters for "ip broadcast"; interfaces without IPv4
     * (and "any") have none, which libpcap accepts as unknown. */
    bpf_u_int32 net = 0;
    bpf_u_int32 mask = PCAP_NETMASK_UNKNOWN;
    char errbuf[PCAP_ERRBUF_SIZE];
    if (pcap_lookupnet(iface, &net, &mask, errbuf) != 0) {
        mask = PCAP_NETMASK_UNKNOWN;
    }
    struct bpf_program prog;
    if (pcap_compile(in->pcap, &prog, filter, 1, mask) != 0) {
        return tcpst_error_set(err, TCPST_EFILTER, "invalid filter '%s': %s", filter,
                               pcap_geterr(in->pcap));
    }
    /* libpcap keeps its own copy (in the kernel, or for its userland fallback). */
    int rc = pcap_setfilter(in->pcap, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        return tcpst_error_set(err, TCPST_EFILTER, "%s: cannot set filter '%s': %s", iface, filter,
                               pcap_geterr(in->pcap));
    }
    return 0;
}

int tcpst_capture_open_live(tcpst_capture **out, const tcpst_live_config *cfg, const char *filter,
                            tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    if (out == NULL) {
        return tcpst_error_set(err, TCPST_EUSAGE, "no capture handle to fill");
    }
    *out = NULL;
    if (cfg == NULL || cfg->iface == NULL || cfg->iface[0] == '\0') {
        return tcpst_error_set(err, TCPST_EUSAGE, "no interface to capture on");
    }
    tcpst_capture *cap = cap_alloc(1);
    if (cap == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }
    cap->live = true;
    cap->poll_ms = cfg->poll_ms;
    int rc = create_live(cap, cfg, linktype_ok, err);
    if (rc == 0 && filter != NULL && filter[0] != '\0') {
        rc = set_live_filter(&cap->in[0], cfg->iface, filter, err);
    }
    if (rc == 0) {
        char errbuf[PCAP_ERRBUF_SIZE];
        errbuf[0] = '\0';
        if (pcap_setnonblock(cap->in[0].pcap, 1, errbuf) != 0) {
            rc = tcpst_error_set(err, TCPST_EOPEN, "%s: cannot set non-blocking mode: %s",
                                 cfg->iface, errbuf);
        } else if (!open_wake_pipe(cap)) {
            rc = tcpst_error_set(err, TCPST_EOPEN, "%s: cannot create wake-up pipe: %s", cfg->iface,
                                 strerror(errno));
        }
    }
    if (rc != 0) {
        tcpst_capture_close(cap);
        return rc;
    }
    cap->sel_fd = pcap_get_selectable_fd(cap->in[0].pcap);
    *out = cap;
    return 0;
}

const char *tcpst_capture_warning(const tcpst_capture *cap)
{
    return cap->warning[0] != '\0' ? cap->warning : NULL;
}

bool tcpst_capture_is_live(const tcpst_capture *cap)
{
    return cap->live;
}

void tcpst_capture_get_counters(tcpst_capture *cap, tcpst_capture_counters *out)
{
    memset(out, 0, sizeof(*out));
    struct pcap_stat ps;
    if (!cap->live || cap->in[0].pcap == NULL || pcap_stats(cap->in[0].pcap, &ps) != 0) {
        return;
    }
    out->valid = true;
    out->received = ps.ps_recv;
    out->dropped = ps.ps_drop;
    out->if_dropped = ps.ps_ifdrop;
}

/*
 * Only async-signal-safe operations: a store to a lock-free atomic int and
 * write(2) (POSIX.1-2017 2.4.3), with errno preserved for the interrupted
 * code.  A full pipe (EAGAIN) is fine: a wake-up is already pending.
 */
void tcpst_capture_interrupt(tcpst_capture *cap)
{
    if (cap == NULL) {
        return;
    }
    int saved = errno;
    atomic_store(&cap->interrupted, 1);
    if (cap->wake[1] >= 0) {
        if (write(cap->wake[1], "", 1) < 0) {
            /* nothing to do: see above */
        }
    }
    errno = saved;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Count a record of input i (it gets the next frame number). */
static void count_record_at(tcpst_capture *cap, size_t i, tcpst_time ts, uint32_t wirelen)
{
    tcpst_input_info *info = &cap->in[i].info;
    cap->frame++;
    cap->packets++;
    if (info->packets == 0 || ts < info->first_ts) {
        info->first_ts = ts;
    }
    if (info->packets == 0 || ts > info->last_ts) {
        info->last_ts = ts;
    }
    info->packets++;
    info->bytes += wirelen;
}

static void count_record(tcpst_capture *cap, size_t i)
{
    count_record_at(cap, i, cap->in[i].ts, cap->in[i].hdr->len);
}

/* The packet handed out: input i's record (just counted, so it has cap->frame). */
static void fill_pkt_at(const tcpst_capture *cap, size_t i, const uint8_t *data, uint32_t caplen,
                        uint32_t wirelen, tcpst_time ts, tcpst_pkt *pkt)
{
    pkt->data = data;
    pkt->caplen = caplen;
    pkt->wirelen = wirelen;
    pkt->ts = ts;
    pkt->linktype = cap->in[i].info.linktype;
    pkt->frame = cap->frame;
    pkt->input = (unsigned)i;
    pkt->prep = NULL;
}

static void fill_pkt(const tcpst_capture *cap, size_t i, tcpst_pkt *pkt)
{
    const struct input *in = &cap->in[i];
    fill_pkt_at(cap, i, in->data, in->hdr->caplen, in->hdr->len, in->ts, pkt);
}

/* What the wait before the next read should watch. */
enum wait_kind {
    WAIT_ALL,      /* the capture descriptor and the wake-up pipe */
    WAIT_WAKE_ONLY /* the pipe only, for a short retry delay */
};

/*
 * Live: read a buffered packet if there is one, else poll until one may be
 * there, the poll interval ends (2), or an interrupt (2).  An error from
 * libpcap (the interface went away) ends the capture (0).
 */
static int next_live(tcpst_capture *cap, tcpst_pkt *pkt)
{
    struct input *in = &cap->in[0];
    if (in->info.truncated) {
        return 0;
    }
    int64_t deadline = cap->poll_ms > 0 ? now_ms() + cap->poll_ms : 0;
    enum wait_kind kind = WAIT_ALL;
    for (;;) {
        if (atomic_exchange(&cap->interrupted, 0)) {
            drain_wake_pipe(cap);
            return 2;
        }
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int r = pcap_next_ex(in->pcap, &hdr, &data);
        if (r == 1) {
            in->hdr = hdr;
            in->data = data;
            in->ts = hdr_time(hdr, in->frac_ns);
            count_record(cap, 0);
            fill_pkt(cap, 0, pkt);
            return 1;
        }
        if (r == PCAP_ERROR_BREAK) {
            return 2;
        }
        if (r != 0) {
            stop_input(in, pcap_geterr(in->pcap));
            return 0;
        }
        /* Nothing buffered: wait. */
        int timeout = -1;
        if (cap->poll_ms > 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) {
                return 2;
            }
            timeout = (int)left;
        }
        bool with_cap = kind == WAIT_ALL && cap->sel_fd >= 0;
        if (!with_cap && (timeout < 0 || timeout > LIVE_RETRY_MS)) {
            timeout = LIVE_RETRY_MS;
        }
        struct pollfd pfd[2] = {{.fd = cap->wake[0], .events = POLLIN},
                                {.fd = cap->sel_fd, .events = POLLIN}};
        int n = poll(pfd, with_cap ? 2 : 1, timeout);
        if (n < 0) {
            /* A signal: the caller looks at its flags (EINTR); anything
             * else is not worth spinning on. */
            return 2;
        }
        /* A readiness report that then yields no packet (an error condition
         * libpcap does not treat as fatal, e.g. the interface went down)
         * must not make this loop spin: wait a little before reading again. */
        kind = with_cap && n > 0 && pfd[1].revents != 0 ? WAIT_WAKE_ONLY : WAIT_ALL;
    }
}

static int next_offline(tcpst_capture *cap, tcpst_pkt *pkt)
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
        cap->advance_top = true;
        count_record(cap, i);
        if (in->has_prog && pcap_offline_filter(&in->prog, in->hdr, in->data) == 0) {
            in->info.filtered++;
            cap->filtered++;
            continue;
        }
        fill_pkt(cap, i, pkt);
        return 1;
    }
}

/* ---- read-ahead thread ---------------------------------------------------- */

/*
 * With tcpst_capture_start_reader() a thread does the reading: libpcap, the merge of
 * several files and the BPF filter, into a ring of 1 MiB chunks of records, while the
 * caller's thread analyses. Everything the caller can observe - frame numbers, per-input
 * counters, the damage of a truncated file - is still applied by the consumer as it takes
 * records, in stream order, so a run that stops early (a signal, --count) reports exactly
 * what the same run without the thread would. Locks are taken once per chunk, not per
 * packet, and the chunks are allocated once.
 */
#define RD_CHUNK_SIZE ((size_t)1 << 20) /* > libpcap's largest record (256 KiB) */
#define RD_CHUNKS     8

enum rec_kind { REC_PACKET = 1, REC_FILTERED, REC_ERROR, REC_END };

struct rec {
    uint32_t kind;    /* enum rec_kind */
    uint32_t input;   /* index into cap->in */
    uint32_t caplen;  /* REC_PACKET: frame bytes that follow (after the prep output);
                         REC_ERROR: message length + 1 */
    uint32_t wirelen; /* original length */
    tcpst_time ts;
};

struct chunk {
    _Alignas(LINE) uint8_t *buf; /* the reader fills one while the consumer reads another */
    size_t len;
    bool full; /* written by the reader, not yet given back by the consumer */
};

struct reader {
    tcpst_capture_prep prep; /* fn NULL: none; both sides read these, nobody writes */
    size_t prep_size;        /* prep.size rounded up to keep the frame 8-byte aligned */
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop; /* the consumer is closing: the reader quits at its next chunk */
    struct chunk chunk[RD_CHUNKS];
    uint64_t wseq;                /* chunk the reader fills next (mod RD_CHUNKS) */
    _Alignas(LINE) uint64_t rseq; /* chunk the consumer reads */
    bool holding;                 /* the consumer is reading chunk rseq */
    size_t pos;                   /* consumer's offset in it */
};

static size_t rec_size(size_t payload)
{
    return (sizeof(struct rec) + payload + 7) & ~(size_t)7;
}

/* Hand the chunk being filled to the consumer and wait for the next one to be free.
 * Returns false when the consumer asked to stop. */
static bool rd_publish(struct reader *rd, struct chunk **cur)
{
    pthread_mutex_lock(&rd->mu);
    (*cur)->full = true;
    rd->wseq++;
    pthread_cond_broadcast(&rd->cv);
    struct chunk *next = &rd->chunk[rd->wseq % RD_CHUNKS];
    while (next->full && !rd->stop) {
        pthread_cond_wait(&rd->cv, &rd->mu);
    }
    bool go = !rd->stop;
    pthread_mutex_unlock(&rd->mu);
    next->len = 0;
    *cur = next;
    return go;
}

/* Make room for `need` bytes in the chunk being filled; false when the consumer asked to
 * stop. */
static bool rd_room(struct reader *rd, struct chunk **cur, size_t need)
{
    return (*cur)->len + need <= RD_CHUNK_SIZE || rd_publish(rd, cur);
}

/* Bytes of prep output after a record's header: passed packets, when there is a step. */
static size_t prep_bytes(const struct reader *rd, uint32_t kind)
{
    return kind == REC_PACKET && rd->prep.fn != NULL ? rd->prep_size : 0;
}

/* Append a record: its header, the prep output of a passed packet, then `data` (of such a
 * packet only the bytes the prep step says the consumer needs); false when the consumer
 * asked to stop. */
static bool rd_put(struct reader *rd, struct chunk **cur, const struct rec *h_in, int linktype,
                   const void *data)
{
    struct rec h = *h_in;
    size_t ps = prep_bytes(rd, h.kind);
    size_t most = RD_CHUNK_SIZE - sizeof h - ps;
    if (h.caplen > most) {
        /* libpcap never hands out more than 256 KiB for the link types read here; should
         * it, the record is cut rather than written past the chunk. */
        h.caplen = (uint32_t)most;
    }
    /* Room for the whole frame: how much the prep step keeps is known only after it. */
    if (!rd_room(rd, cur, rec_size(ps + h.caplen))) {
        return false;
    }
    uint8_t *p = (*cur)->buf + (*cur)->len;
    if (ps) {
        uint32_t keep =
            rd->prep.fn(rd->prep.ctx, linktype, data, h.caplen, h.wirelen, p + sizeof h);
        h.caplen = keep < h.caplen ? keep : h.caplen;
    }
    memcpy(p, &h, sizeof h);
    if (h.caplen) {
        memcpy(p + sizeof h + ps, data, h.caplen);
    }
    (*cur)->len += rec_size(ps + h.caplen);
    return true;
}

static void *reader_main(void *arg)
{
    tcpst_capture *cap = arg;
    struct reader *rd = cap->rd;
    struct chunk *cur = &rd->chunk[rd->wseq % RD_CHUNKS];
    cur->len = 0;
    for (;;) {
        if (cap->advance_top) {
            cap->advance_top = false;
            size_t top = cap->heap[0];
            struct input *in = &cap->in[top];
            if (advance_ex(in, true)) {
                sift_down(cap, 0);
            } else {
                heap_pop(cap);
                if (in->rd_failed) {
                    struct rec h = {.kind = REC_ERROR,
                                    .input = (uint32_t)top,
                                    .caplen = (uint32_t)strlen(in->rd_error) + 1};
                    if (!rd_put(rd, &cur, &h, 0, in->rd_error)) {
                        return NULL;
                    }
                }
            }
        }
        if (cap->heap_len == 0) {
            struct rec h = {.kind = REC_END};
            if (rd_put(rd, &cur, &h, 0, NULL)) {
                (void)rd_publish(rd, &cur);
            }
            return NULL;
        }
        size_t i = cap->heap[0];
        struct input *in = &cap->in[i];
        cap->advance_top = true;
        bool pass = !in->has_prog || pcap_offline_filter(&in->prog, in->hdr, in->data) != 0;
        struct rec h = {.kind = pass ? REC_PACKET : REC_FILTERED,
                        .input = (uint32_t)i,
                        .caplen = pass ? in->hdr->caplen : 0,
                        .wirelen = in->hdr->len,
                        .ts = in->ts};
        if (!rd_put(rd, &cur, &h, in->rd_linktype, in->data)) {
            return NULL;
        }
    }
}

static void reader_free(struct reader *rd)
{
    for (int k = 0; k < RD_CHUNKS; k++) {
        free(rd->chunk[k].buf);
    }
    free(rd);
}

int tcpst_capture_start_reader(tcpst_capture *cap, const tcpst_capture_prep *prep, tcpst_error *err)
{
    if (cap->live || cap->dumper != NULL || cap->rd != NULL) {
        return tcpst_error_set(err, TCPST_EUSAGE, "read-ahead is for capture files only");
    }
    if (prep != NULL && prep->fn != NULL && prep->size > 4096) {
        return tcpst_error_set(err, TCPST_EUSAGE, "read-ahead prep output above 4 KiB");
    }
    for (size_t i = 0; i < cap->n; i++) {
        if (!cap->in[i].regular) {
            /* A pipe may deliver slowly: records must reach the analysis as they come. */
            return tcpst_error_set(err, TCPST_EUSAGE, "%s: not a regular file",
                                   display_name(cap->in[i].info.name));
        }
        cap->in[i].rd_linktype = cap->in[i].info.linktype; /* off the consumer's line */
    }
    struct reader *rd = alloc_lines(sizeof *rd);
    if (rd == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory for the read-ahead buffers");
    }
    for (int k = 0; k < RD_CHUNKS; k++) {
        rd->chunk[k].buf = malloc(RD_CHUNK_SIZE);
        if (rd->chunk[k].buf == NULL) {
            reader_free(rd);
            return tcpst_error_set(err, TCPST_ENOMEM, "out of memory for the read-ahead buffers");
        }
    }
    if (prep != NULL && prep->fn != NULL) {
        rd->prep = *prep;
        rd->prep_size = (prep->size + 7) & ~(size_t)7;
    }
    pthread_mutex_init(&rd->mu, NULL);
    pthread_cond_init(&rd->cv, NULL);
    cap->rd = rd;
    /* Signals are for the caller's thread (its handlers stop the analysis loop). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&rd->tid, NULL, reader_main, cap);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        cap->rd = NULL;
        pthread_cond_destroy(&rd->cv);
        pthread_mutex_destroy(&rd->mu);
        reader_free(rd);
        return tcpst_error_set(err, TCPST_ENOMEM, "cannot start the reader thread: %s",
                               strerror(rc));
    }
    return 0;
}

static void reader_stop(tcpst_capture *cap)
{
    struct reader *rd = cap->rd;
    pthread_mutex_lock(&rd->mu);
    rd->stop = true;
    pthread_cond_broadcast(&rd->cv);
    pthread_mutex_unlock(&rd->mu);
    pthread_join(rd->tid, NULL);
    pthread_cond_destroy(&rd->cv);
    pthread_mutex_destroy(&rd->mu);
    reader_free(rd);
    cap->rd = NULL;
}

/* The consumer's side: the next record, applying counters and damage in stream order. */
static int next_threaded(tcpst_capture *cap, tcpst_pkt *pkt)
{
    struct reader *rd = cap->rd;
    for (;;) {
        struct chunk *ch = &rd->chunk[rd->rseq % RD_CHUNKS];
        if (!rd->holding) {
            pthread_mutex_lock(&rd->mu);
            while (!ch->full) {
                pthread_cond_wait(&rd->cv, &rd->mu);
            }
            pthread_mutex_unlock(&rd->mu);
            rd->holding = true;
            rd->pos = 0;
        }
        if (rd->pos >= ch->len) {
            /* Done with it (the last packet handed out pointed into it: that is allowed
             * to end now). */
            pthread_mutex_lock(&rd->mu);
            ch->full = false;
            rd->rseq++;
            rd->holding = false;
            pthread_cond_broadcast(&rd->cv);
            pthread_mutex_unlock(&rd->mu);
            continue;
        }
        struct rec h;
        memcpy(&h, ch->buf + rd->pos, sizeof h);
        const uint8_t *data = ch->buf + rd->pos + sizeof h;
        switch (h.kind) {
            case REC_END:
                return 0; /* stays on the END record: later calls return 0 too */
            case REC_ERROR:
                stop_input(&cap->in[h.input], (const char *)data);
                break;
            case REC_FILTERED:
                count_record_at(cap, h.input, h.ts, h.wirelen);
                cap->in[h.input].info.filtered++;
                cap->filtered++;
                break;
            default: {
                size_t ps = prep_bytes(rd, h.kind);
                count_record_at(cap, h.input, h.ts, h.wirelen);
                fill_pkt_at(cap, h.input, data + ps, h.caplen, h.wirelen, h.ts, pkt);
                pkt->prep = ps ? data : NULL;
                rd->pos += rec_size(ps + h.caplen);
                return 1;
            }
        }
        rd->pos += rec_size(h.caplen);
    }
}

/* Write the packet just handed out to the -w file, fraction in ns. */
static void dump_packet(tcpst_capture *cap, const tcpst_pkt *pkt)
{
    const struct input *in = &cap->in[pkt->input];
    struct pcap_pkthdr h = *in->hdr;
    h.ts.tv_usec = in->hdr->ts.tv_usec * in->frac_ns;
    pcap_dump((u_char *)cap->dumper, &h, pkt->data);
}

int tcpst_capture_next(tcpst_capture *cap, tcpst_pkt *pkt)
{
    if (cap->rd != NULL) {
        return next_threaded(cap, pkt); /* never with -w or live */
    }
    int r = cap->live ? next_live(cap, pkt) : next_offline(cap, pkt);
    if (r == 1 && cap->dumper != NULL) {
        dump_packet(cap, pkt);
    }
    return r;
}

/* ---- saving packets (-w) ------------------------------------------------- */

/* Close the -w file (flushing it) and free what it used; safe to repeat. */
static void dump_release(tcpst_capture *cap)
{
    if (cap->dumper != NULL) {
        pcap_dump_close(cap->dumper); /* flushes and closes the FILE using dumpbuf */
        cap->dumper = NULL;
    }
    if (cap->dump_pcap != NULL) {
        pcap_close(cap->dump_pcap);
        cap->dump_pcap = NULL;
    }
    free(cap->dumpbuf);
    cap->dumpbuf = NULL;
}

static FILE *open_dump_stream(const char *path)
{
    if (strcmp(path, "-") == 0) {
        /* A private descriptor, as for standard input: closing the dump must
         * not close the process's stdout. */
        int fd = dup(STDOUT_FILENO);
        FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (fp == NULL && fd >= 0) {
            int e = errno;
            close(fd);
            errno = e;
        }
        return fp;
    }
    return fopen(path, "wb");
}

int tcpst_capture_dump_open(tcpst_capture *cap, const char *path, tcpst_error *err)
{
    if (path == NULL || path[0] == '\0') {
        return tcpst_error_set(err, TCPST_EUSAGE, "no file name to write packets to");
    }
    const char *shown = strcmp(path, "-") == 0 ? "standard output" : path;
    if (cap->dumper != NULL) {
        return tcpst_error_set(err, TCPST_EUSAGE, "%s: already writing packets to a file", shown);
    }
    int rc;
    /* One pcap file has one link type; the snapshot length must cover every
     * record, or a reader would cut the longer ones. */
    int snaplen = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const struct input *in = &cap->in[i];
        if (in->dlt != cap->in[0].dlt) {
            return tcpst_error_set(err, TCPST_ELINKTYPE,
                                   "%s: cannot save inputs of link types %s and %s in one "
                                   "pcap file",
                                   shown, cap->in[0].info.linktype_name, in->info.linktype_name);
        }
        snaplen = in->info.snaplen > snaplen ? in->info.snaplen : snaplen;
    }
    if (snaplen <= 0) {
        snaplen = TCPST_LIVE_SNAPLEN;
    }
    cap->dump_pcap =
        pcap_open_dead_with_tstamp_precision(cap->in[0].dlt, snaplen, PCAP_TSTAMP_PRECISION_NANO);
    cap->dumpbuf = malloc(DUMPBUF_SIZE);
    if (cap->dump_pcap == NULL || cap->dumpbuf == NULL) {
        dump_release(cap);
        return tcpst_error_set(err, TCPST_ENOMEM, "%s: out of memory", shown);
    }
    FILE *fp = open_dump_stream(path);
    if (fp == NULL) {
        int e = errno;
        dump_release(cap);
        return tcpst_error_set(err, TCPST_EWRITE, "%s: cannot write: %s", shown, strerror(e));
    }
    /* Our own buffer: fewer write() calls, and the 24-byte file header is
     * only buffered by pcap_dump_fopen(), so the one way it can fail is an
     * unsupported link type, after which the FILE is still ours to close. */
    (void)setvbuf(fp, cap->dumpbuf, _IOFBF, DUMPBUF_SIZE);
    cap->dumper = pcap_dump_fopen(cap->dump_pcap, fp);
    if (cap->dumper == NULL) {
        fclose(fp);
        rc = tcpst_error_set(err, TCPST_EWRITE, "%s: cannot write: %s", shown,
                             pcap_geterr(cap->dump_pcap));
        dump_release(cap);
        return rc;
    }
    return 0;
}

/* errno is set when this fails (pcap_dump() itself cannot report errors; it
 * stops writing once the stream has an error, which ferror() shows here). */
int tcpst_capture_dump_flush(tcpst_capture *cap)
{
    if (cap->dumper == NULL) {
        return 0;
    }
    if (pcap_dump_flush(cap->dumper) != 0) {
        return -1;
    }
    if (ferror(pcap_dump_file(cap->dumper))) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* ---- common ---------------------------------------------------------------- */

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
    if (cap->rd != NULL) {
        reader_stop(cap); /* before the handles it reads go */
    }
    dump_release(cap);
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
    for (int k = 0; k < 2; k++) {
        if (cap->wake[k] >= 0) {
            close(cap->wake[k]);
        }
    }
    free(cap->in);
    free(cap->heap);
    free(cap);
}
