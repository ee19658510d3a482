/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.c - the tcpst_capture handle: opening a source, handing out its records as
 * packets, the accessors, and the helpers the sources share.
 *
 * Which source reads is settled at open: capture files (file.c, merged by merge.c) or an
 * interface (live.c); tcpst_capture_start_reader() (readahead.c) may then put a thread in
 * front of it.  Every record passes through tcpst_capture_next() here, which gives it the
 * next frame number and counts it for its input, so numbering is the same whichever
 * source or thread read the record.  Records the BPF filter rejects are numbered too, so
 * that numbers match Wireshark's for a single file, and an input's damage is noted when
 * the stream reaches it, not when a thread reading ahead finds it.
 *
 * Not done here: reading (the sources), -w (dump.c), -D (iflist.c), decoding (decode/),
 * dropping privileges (privdrop.c), printing (main.c).  Memory is allocated only when
 * opening; handing out packets does not allocate.
 */
#include "tcpstate/capture.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "source.h"

/* LINKTYPE numbers whose DLT value differs on common platforms. */
#define LINKTYPE_RAW  101
#define LINKTYPE_LOOP 108
#define LINKTYPE_ENC  109

/* ---- helpers for the sources ---------------------------------------------- */

void *tcpst__alloc_lines(size_t size)
{
    size_t n = size ? (size + TCPST__LINE - 1) / TCPST__LINE * TCPST__LINE : TCPST__LINE;
    void *p = aligned_alloc(TCPST__LINE, n);
    if (p != NULL) {
        memset(p, 0, n);
    }
    return p;
}

FILE *tcpst__dup_stream(int fd, const char *mode)
{
    int copy = dup(fd);
    FILE *fp = copy >= 0 ? fdopen(copy, mode) : NULL;
    if (fp == NULL && copy >= 0) {
        int e = errno;
        close(copy);
        errno = e;
    }
    return fp;
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
#if defined(DLT_ENC) && DLT_ENC != LINKTYPE_ENC
    if (dlt == DLT_ENC) { /* 13 on OpenBSD, whose files say 109 */
        return LINKTYPE_ENC;
    }
#endif
    return dlt;
}

int tcpst__linktype_to_dlt(int linktype)
{
    if (linktype == LINKTYPE_RAW) {
        return DLT_RAW;
    }
#ifdef DLT_LOOP
    if (linktype == LINKTYPE_LOOP) {
        return DLT_LOOP;
    }
#endif
#if defined(DLT_ENC) && DLT_ENC != LINKTYPE_ENC
    if (linktype == LINKTYPE_ENC) {
        return DLT_ENC;
    }
#endif
    return linktype;
}

void tcpst__input_set_linktype(tcpst__input *in, int dlt)
{
    in->dlt = dlt;
    in->info.linktype = dlt_to_linktype(dlt);
    const char *ltname = pcap_datalink_val_to_name(dlt);
    if (ltname == NULL) {
        snprintf(in->ltname, sizeof(in->ltname), "LINKTYPE_%d", in->info.linktype);
        ltname = in->ltname;
    }
    in->info.linktype_name = ltname;
}

int tcpst__input_check_linktype(const tcpst__input *in, const char *shown,
                                tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    if (linktype_ok != NULL && !linktype_ok(in->info.linktype)) {
        /* What to do next, on the same line: a tool that labelled Ethernet frames with
         * another link type is the common case that a relabelling mends. */
        return tcpst_error_set(err, TCPST_ELINKTYPE,
                               "%s: unsupported link type %s (%d); convert it with `editcap -T "
                               "ether` if its frames are Ethernet",
                               shown, in->info.linktype_name, in->info.linktype);
    }
    return 0;
}

void tcpst__input_stop(tcpst_input_info *info, const char *why)
{
    info->truncated = true;
    snprintf(info->error, sizeof(info->error), "%s", why);
}

/* ---- opening ----------------------------------------------------------------- */

/* A capture with room for n inputs, no source yet. */
static tcpst_capture *capture_new(size_t n)
{
    tcpst_capture *cap = tcpst__alloc_lines(sizeof(*cap));
    if (cap == NULL) {
        return NULL;
    }
    cap->in = n <= SIZE_MAX / sizeof(*cap->in) ? tcpst__alloc_lines(n * sizeof(*cap->in)) : NULL;
    if (cap->in == NULL) {
        free(cap);
        return NULL;
    }
    cap->n = n;
    return cap;
}

/* Hand out what an opener made of `cap` (rc 0), or close what it left. */
static int opened(tcpst_capture **out, tcpst_capture *cap, int rc)
{
    if (rc != 0) {
        tcpst_capture_close(cap);
        return rc;
    }
    cap->top = cap->src;
    *out = cap;
    return 0;
}

static int check_names(const char *const *files, size_t nfiles, tcpst_error *err)
{
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
    /* The same file twice would merge every packet with its own copy. */
    for (size_t i = 0; i < nfiles; i++) {
        struct stat a, b;
        if (strcmp(files[i], "-") == 0 || stat(files[i], &a) != 0 || !S_ISREG(a.st_mode)) {
            continue; /* opening it says what is wrong */
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(files[j], "-") != 0 && stat(files[j], &b) == 0 && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino) {
                return tcpst_error_set(err, TCPST_EUSAGE,
                                       "%s: the same file as %s, given twice (each packet would "
                                       "be counted twice)",
                                       files[i], files[j]);
            }
        }
    }
    return 0;
}

int tcpst_capture_open(tcpst_capture **out, const char *const *files, size_t nfiles,
                       const char *filter, tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    if (out == NULL) {
        return tcpst_error_set(err, TCPST_EUSAGE, "no capture handle to fill");
    }
    *out = NULL;
    int rc = check_names(files, nfiles, err);
    if (rc != 0) {
        return rc;
    }
    tcpst_capture *cap = capture_new(nfiles);
    if (cap == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }
    if (filter != NULL && filter[0] == '\0') {
        filter = NULL;
    }
    return opened(out, cap, tcpst__file_open(cap, files, filter, linktype_ok, err));
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
    tcpst_capture *cap = capture_new(1);
    if (cap == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }
    if (filter != NULL && filter[0] == '\0') {
        filter = NULL;
    }
    return opened(out, cap, tcpst__live_open(cap, cfg, filter, linktype_ok, err));
}

/* ---- reading ----------------------------------------------------------------- */

/* Count a record of its input: it gets the next frame number. */
static void count_record(tcpst_capture *cap, const tcpst__rec *r)
{
    tcpst_input_info *info = &cap->in[r->input].info;
    cap->frame++;
    cap->packets++;
    if (info->packets == 0 || r->ts < info->first_ts) {
        info->first_ts = r->ts;
    }
    if (info->packets == 0 || r->ts > info->last_ts) {
        info->last_ts = r->ts;
    }
    info->packets++;
    info->bytes += r->wirelen;
}

/* The packet handed out: a record just counted, so it has cap->frame. */
static void fill_pkt(const tcpst_capture *cap, const tcpst__rec *r, tcpst_pkt *pkt)
{
    pkt->data = r->data;
    pkt->caplen = r->caplen;
    pkt->wirelen = r->wirelen;
    pkt->ts = r->ts;
    pkt->linktype = r->linktype; /* the input's, or in pcapng its interface's */
    pkt->frame = cap->frame;
    pkt->input = r->input;
    pkt->prep = r->prep;
}

int tcpst_capture_next(tcpst_capture *cap, tcpst_pkt *pkt)
{
    for (;;) {
        tcpst__rec r;
        cap->top->ops->next(cap->top, &r);
        switch (r.kind) {
            case TCPST__REC_PACKET:
                count_record(cap, &r);
                fill_pkt(cap, &r, pkt);
                /* Records from the read-ahead ring have no libpcap header: the thread is
                 * not started once -w is open. */
                if (cap->dump != NULL && r.hdr != NULL && cap->dump_chosen) {
                    cap->current = r; /* written if the caller chooses it */
                    cap->have_current = true;
                } else if (cap->dump != NULL && r.hdr != NULL) {
                    tcpst__dump_packet(cap->dump, &r);
                }
                return 1;
            case TCPST__REC_FILTERED:
                count_record(cap, &r);
                cap->in[r.input].info.filtered++;
                cap->filtered++;
                break;
            case TCPST__REC_ERROR:
                tcpst__input_stop(&cap->in[r.input].info, r.error);
                break;
            case TCPST__REC_IDLE:
                return 2;
            case TCPST__REC_END:
            default:
                if (!cap->finished && cap->src->ops->finish != NULL) {
                    /* Every record has been read, on whichever thread: the inputs' end
                     * facts (pcapng statistics) are final now. */
                    cap->src->ops->finish(cap->src, cap->in);
                }
                cap->finished = true;
                return 0;
        }
    }
}

/* ---- accessors --------------------------------------------------------------- */

const char *tcpst_capture_warning(const tcpst_capture *cap)
{
    return cap->warning[0] != '\0' ? cap->warning : NULL;
}

bool tcpst_capture_is_live(const tcpst_capture *cap)
{
    return cap->src->ops->live;
}

void tcpst_capture_get_counters(tcpst_capture *cap, tcpst_capture_counters *out)
{
    memset(out, 0, sizeof(*out));
    if (cap->src->ops->counters != NULL) {
        cap->src->ops->counters(cap->src, out);
    }
}

/* Goes to the source opened, never to the read-ahead in front of it: cap->src does not
 * change after open, so a handler may read it while the caller starts the thread.  A
 * stream reader in front (stream.c) is woken too, through its own atomic pointer: it may
 * start while handlers are installed. */
void tcpst_capture_interrupt(tcpst_capture *cap)
{
    if (cap != NULL && cap->src != NULL && cap->src->ops->interrupt != NULL) {
        cap->src->ops->interrupt(cap->src);
    }
    tcpst__source *w = cap != NULL ? atomic_load(&cap->wake) : NULL;
    if (w != NULL && w->ops->interrupt != NULL) {
        w->ops->interrupt(w);
    }
}

const char *tcpst_capture_shown_name(const char *name)
{
    return strcmp(name, "-") == 0 ? "standard input" : name;
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

int tcpst__thread_start(pthread_t *tid, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(tid, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void tcpst_capture_dump_choose(tcpst_capture *cap)
{
    cap->dump_chosen = true;
}

void tcpst_capture_dump_current(tcpst_capture *cap)
{
    if (cap->dump != NULL && cap->have_current) {
        tcpst__dump_packet(cap->dump, &cap->current);
        cap->have_current = false;
    }
}

uint64_t tcpst_capture_dump_skipped(const tcpst_capture *cap)
{
    return tcpst__dump_skipped(cap->dump);
}

void tcpst_capture_close(tcpst_capture *cap)
{
    if (cap == NULL) {
        return;
    }
    atomic_store(&cap->wake, NULL);
    if (cap->top != NULL && cap->top != cap->src) {
        cap->top->ops->close(cap->top); /* the thread stops before the handles it reads go */
    }
    tcpst__dump_close(cap->dump);
    if (cap->src != NULL) {
        cap->src->ops->close(cap->src);
    }
    free(cap->in);
    free(cap);
}
