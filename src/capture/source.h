/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * source.h - what the files of src/capture share (private to the folder): the
 * capture handle, and the small interface behind which every source of
 * records sits, as Redis's ae.c drives ae_epoll.c or ae_select.c through its
 * aeApi* functions, but with each source its own translation unit:
 *
 *   file.c       one capture file read by libpcap; opening a list of them
 *   merge.c      several sources as one, in timestamp order
 *   live.c       an interface (poll + self-pipe)
 *   readahead.c  another source read on a thread, handed over through a ring
 *
 * A source hands out raw records (what kind, which input, the bytes, the
 * time) and counts nothing: capture.c numbers each record and counts it for
 * its input as it hands it out.  So frame numbers are given in one place
 * whichever source, merge or thread read the record, and a source may run on
 * a thread other than the caller's, whose counters it then never touches.
 *
 * Sources compose.  The merge reads child sources, the read-ahead thread reads
 * the merge, and a source that is a live capture plus something more (one that
 * wraps a command, say) opens a live source and forwards to it.  A new source,
 * such as a pcapng reader of our own, is one more file: a struct that starts
 * with tcpst__source, a const tcpst__source_ops, and an opener that fills the
 * inputs it reads (tcpst__input) and returns the source.
 *
 * -w (dump.c) is not a source: it writes what capture.c hands out, from any
 * source.  Internal functions defined in one file and called from another
 * take the prefix tcpst__.
 */
#ifndef TCPSTATE_CAPTURE_SOURCE_H
#define TCPSTATE_CAPTURE_SOURCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#include "tcpstate/capture.h"
#include "tcpstate/error.h"
#include "tcpstate/types.h"

/* With a read-ahead thread, the reader's fields and the consumer's must not share a cache
 * line, or every packet moves the line between the cores (false sharing): such groups
 * start on a line of their own, in memory from tcpst__alloc_lines(). */
#define TCPST__LINE 64

/* Why tcpst_capture_start_reader() refuses a source that cannot be read ahead. */
#define TCPST__READ_AHEAD_FILES_ONLY "read-ahead is for capture files only"

/* ---- records ------------------------------------------------------------ */

typedef enum tcpst__rec_kind {
    TCPST__REC_PACKET = 1, /* passed the filter: handed out */
    TCPST__REC_FILTERED,   /* rejected by the filter: numbered and counted, not handed out */
    TCPST__REC_ERROR,      /* the input ends early, damaged: `error` says why */
    TCPST__REC_END,        /* nothing more, now or later: next() keeps returning END */
    TCPST__REC_IDLE        /* live: no packet within the poll interval, or an interrupt */
} tcpst__rec_kind;

/* One record as a source hands it out.  Pointers are borrowed until the source's next
 * next() call.  Which fields are set depends on the kind, as noted. */
typedef struct tcpst__rec {
    tcpst__rec_kind kind;          /* always */
    unsigned input;                /* always: index into the capture's inputs */
    const uint8_t *data;           /* PACKET: caplen bytes (FILTERED: may be set, unused) */
    uint32_t caplen;               /* PACKET */
    uint32_t wirelen;              /* PACKET, FILTERED */
    tcpst_time ts;                 /* PACKET, FILTERED */
    int linktype;                  /* PACKET, FILTERED: LINKTYPE_*, for the read-ahead prep
                                      step (the source's copy, off the consumer's lines) */
    const void *prep;              /* PACKET: the read-ahead prep output, or NULL */
    const struct pcap_pkthdr *hdr; /* PACKET: libpcap's header, for -w; NULL when the
                                      record has none (from the read-ahead ring) */
    int32_t frac_ns;               /* with hdr: its fraction times this is ns (1 or 1000) */
    const char *error;             /* ERROR: why, without the input's name */
} tcpst__rec;

/* ---- the source interface ------------------------------------------------ */

typedef struct tcpst__source tcpst__source;
typedef struct tcpst__input tcpst__input;

typedef struct tcpst__source_ops {
    /* The next record into *rec.  Only records, never counters: see above. */
    void (*next)(tcpst__source *s, tcpst__rec *rec);
    /* Free all the source holds (and the sources it owns).  Safe on a source whose
     * opener failed half-way, with the fields it did not reach still zero. */
    void (*close)(tcpst__source *s);
    /* libpcap's counters into *out, which is zeroed; NULL: the source has none. */
    void (*counters)(tcpst__source *s, tcpst_capture_counters *out);
    /* Make a waiting next() return IDLE soon, or at once if none is waiting.  Called
     * from signal handlers and other threads: async-signal-safe.  NULL: next() never
     * waits. */
    void (*interrupt)(tcpst__source *s);
    /* May next() run on the read-ahead thread?  0, or a negative code with why not in
     * err (an input that is a pipe).  NULL: never (a live capture). */
    int (*read_ahead_ok)(const tcpst__source *s, tcpst_error *err);
    /* The stream ended (next() returned END): put what only its end tells (a pcapng
     * file's Interface Statistics Blocks) into the inputs' info.  NULL: nothing. */
    void (*finish)(tcpst__source *s, tcpst__input *in);
    /* next() waits for packets and may return IDLE (tcpst_capture_is_live()). */
    bool live;
} tcpst__source_ops;

/* The head of every source's own struct, so a pointer to one is a pointer to both. */
struct tcpst__source {
    const tcpst__source_ops *ops;
};

/* ---- the capture handle --------------------------------------------------- */

/* One input as every file here sees it: what its source found at open. */
struct tcpst__input {
    tcpst_input_info info; /* counted by capture.c as records are handed out */
    int dlt;               /* pcap_datalink(): the link type of a -w file */
    char ltname[32];       /* info.linktype_name when libpcap has no name for it */
};

struct tcpst__dump; /* -w (dump.c) */

struct tcpst_capture {
    tcpst__input *in; /* set at open, then only the counters in info change */
    size_t n;
    tcpst__source *src; /* what was opened; closed last */
    tcpst__source *top; /* what next() reads: src, or the read-ahead over it */
    struct tcpst__dump *dump;
    bool dump_chosen;   /* -w of chosen packets: only tcpst_capture_dump_current() writes */
    bool have_current;  /* `current` is the packet next() handed out last */
    tcpst__rec current; /* (dump_chosen) */
    uint64_t frame;     /* the last frame number given */
    bool finished;      /* END was handed out and the source's finish() ran */
    _Atomic(tcpst__source *) wake; /* a stream reader in front, for interrupts; NULL: none */
    uint64_t packets;
    uint64_t filtered;
    char warning[TCPST_ERRMSG_MAX]; /* from opening an interface; "" if none */
};

/* ---- the sources' openers -------------------------------------------------- */

/*
 * Capture files (file.c): open cap->n files (names already checked by capture.c),
 * check their link types, compile `filter` (NULL: none) for each, and read each one's
 * first record.  Sets cap->src to the merge of them, also on failure, when closing the
 * capture releases what was opened.  Errors as for tcpst_capture_open().
 */
int tcpst__file_open(tcpst_capture *cap, const char *const *files, const char *filter,
                     tcpst_linktype_fn linktype_ok, tcpst_error *err);

/*
 * Live capture (live.c) on cfg->iface into cap->in[0], as tcpst_capture_open_live()
 * says.  Sets cap->src (also on failure, as above) and cap->warning.  A source that
 * wraps a live capture calls this, keeps cap->src as its inner source and puts
 * itself in its place.
 */
int tcpst__live_open(tcpst_capture *cap, const tcpst_live_config *cfg, const char *filter,
                     tcpst_linktype_fn linktype_ok, tcpst_error *err);

/*
 * A pcapng file (pcapng.c) on `fp` (its stdio buffer `iobuf`, both owned from now on, also
 * on failure), as input number `input`: read up to its first interface, whose link type
 * and snap length become the input's.  *out is set at once, so that closing it releases
 * what was opened.  TCPST_EFORMAT ("NAME: why"), TCPST_ELINKTYPE, TCPST_ENOMEM.
 */
int tcpst__pcapng_open(tcpst__source **out, tcpst__input *in, FILE *fp, char *iobuf,
                       const char *name, unsigned input, tcpst_linktype_fn linktype_ok,
                       tcpst_error *err);
/* The BPF filter of a pcapng source, compiled at once for its first interface's link type
 * and later for each other link type it meets.  TCPST_EFILTER. */
int tcpst__pcapng_set_filter(tcpst__source *s, const char *text, const tcpst__input *in,
                             tcpst_error *err);
/* Compile `text` for a link type without a handle; why (PCAP_ERRBUF_SIZE, may be NULL) is
 * libpcap's message.  0 or -1. */
int tcpst__pcapng_compile(int linktype, uint32_t snaplen, const char *text,
                          struct bpf_program *prog, char *why);
bool tcpst__is_pcapng(const tcpst__source *s);

/*
 * The merge (merge.c) of n sources, each of offline records (never IDLE), in timestamp
 * order, ties to the lower index.  `child` is an array of n NULLs that the caller fills
 * after this and before tcpst__merge_start(); the merge owns it and every source put in
 * it from then on, and closes those at close.  NULL when out of memory (the array is then
 * still the caller's).
 */
tcpst__source *tcpst__merge_new(tcpst__source **child, size_t n);
/* Read each child's first record, before any is handed out; damage found doing so goes
 * to the input's info at once, so an unreadable first record shows right after open. */
void tcpst__merge_start(tcpst__source *merge, tcpst__input *in);

/* ---- -w (dump.c) ----------------------------------------------------------- */

/* Write a record handed out (rec->hdr set) to the -w file. */
void tcpst__dump_packet(struct tcpst__dump *d, const tcpst__rec *rec);
/* Packets not saved: of a link type the file cannot hold. */
uint64_t tcpst__dump_skipped(const struct tcpst__dump *d);
/* Close the -w file, flushing it; NULL: nothing to do. */
void tcpst__dump_close(struct tcpst__dump *d);

/* ---- compressed captures (gunzip.c) ----------------------------------------- */
/* The compressor whose magic starts m ("gzip", "xz", "bzip2", "zstd", "lz4"), or NULL. */
const char *tcpst__compressed(const uint8_t *m, size_t n);
/* A stream that inflates the gzip stream `inner` (owned from now on, closed with it);
 * NULL when out of memory (inner is then still the caller's). */
FILE *tcpst__gunzip(FILE *inner);

/* ---- helpers (capture.c) --------------------------------------------------- */

/* pthread_create() with every signal blocked in the new thread: signals are for the
 * caller's thread, whose handlers stop the analysis loop.  0 or an errno value. */
int tcpst__thread_start(pthread_t *tid, void *(*fn)(void *), void *arg);

/* Zeroed memory starting on a cache line (see TCPST__LINE), freed with free(). */
void *tcpst__alloc_lines(size_t size);

/* A FILE on a private copy of `fd` (standard input or output), so that closing the
 * FILE, as pcap_close() and pcap_dump_close() do, leaves the process's descriptor open.
 * NULL with errno set on failure. */
FILE *tcpst__dup_stream(int fd, const char *mode);

/* A file may be read ahead on a thread when it is a regular file (a pipe's packets must
 * reach the analysis as they come).  0, or TCPST_EUSAGE "NAME: not a regular file". */
int tcpst__file_may_read_ahead(FILE *fp, const char *name, tcpst_error *err);

/* libpcap's DLT value of a LINKTYPE_* number (they differ for a few). */
int tcpst__linktype_to_dlt(int linktype);

/* Set in->dlt and the input's link type number and name from libpcap's DLT value. */
void tcpst__input_set_linktype(tcpst__input *in, int dlt);
/* The error "SHOWN: unsupported link type NAME (N); convert it with `editcap -T ether` ..." if
 * linktype_ok rejects the input's. */
int tcpst__input_check_linktype(const tcpst__input *in, const char *shown,
                                tcpst_linktype_fn linktype_ok, tcpst_error *err);
/* The input ends early: truncated, and why. */
void tcpst__input_stop(tcpst_input_info *info, const char *why);

/*
 * Packet time in ns from a libpcap header, saturated: pcapng can encode seconds beyond
 * int64 ns.  The bound is +-2^62 ns (about 146 years either side of 1970, so every
 * classic pcap time fits), not INT64_MAX: the engine adds timeouts to packet times and
 * the report subtracts and rounds them, which overflowed (UB) for times at the int64
 * limits (found by fuzz_pcap).  Inline: it runs for every record.
 */
#define TCPST__TIME_LIMIT ((int64_t)1 << 62)
static inline tcpst_time tcpst__pcap_time(const struct pcap_pkthdr *h, int32_t frac_ns)
{
    int64_t sec = (int64_t)h->ts.tv_sec;
    int64_t frac = (int64_t)h->ts.tv_usec * frac_ns;
    if (sec >= TCPST__TIME_LIMIT / TCPST_NS_PER_SEC) {
        return TCPST__TIME_LIMIT;
    }
    if (sec <= -TCPST__TIME_LIMIT / TCPST_NS_PER_SEC) {
        return -TCPST__TIME_LIMIT;
    }
    return sec * TCPST_NS_PER_SEC + frac;
}

#endif
