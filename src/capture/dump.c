/*
 * dump.c - -w: save every packet tcpst_capture_next() hands out to a pcap file.
 *
 * The file has the inputs' one link type, the largest snaplen among them and
 * nanosecond timestamps, so an offline run over it sees the same packets.  It
 * is written through libpcap's dumper on a FILE with our own stdio buffer, set
 * up at open: saving a packet does not allocate.
 *
 * Not a source: capture.c calls tcpst__dump_packet() for each packet it hands
 * out, whichever source read it.  Not done here: choosing which packets
 * (capture.c hands out only those the filter passed), atomic replacement of
 * the file (it is a stream: it may be standard output or a pipe).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "source.h"

/* stdio buffer of the -w file. */
#define DUMPBUF_SIZE ((size_t)256 << 10)

struct tcpst__dump {
    pcap_t *dead; /* dead handle giving the file's link type and precision */
    pcap_dumper_t *dumper;
    char *buf; /* stdio buffer of the dump FILE; freed after pcap_dump_close */
};

/* Write the packet just handed out, fraction in ns. */
void tcpst__dump_packet(struct tcpst__dump *d, const tcpst__rec *rec)
{
    struct pcap_pkthdr h = *rec->hdr;
    h.ts.tv_usec = rec->hdr->ts.tv_usec * rec->frac_ns;
    pcap_dump((u_char *)d->dumper, &h, rec->data);
}

void tcpst__dump_close(struct tcpst__dump *d)
{
    if (d == NULL) {
        return;
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
static FILE *open_dump_stream(const char *path)
{
    return strcmp(path, "-") == 0 ? tcpst__dup_stream(STDOUT_FILENO, "wb") : fopen(path, "wb");
}

/* One pcap file has one link type; the snapshot length must cover every record, or a
 * reader would cut the longer ones.  Sets *snaplen. */
static int file_params(const tcpst_capture *cap, const char *shown, int *snaplen, tcpst_error *err)
{
    *snaplen = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const tcpst__input *in = &cap->in[i];
        if (in->dlt != cap->in[0].dlt) {
            return tcpst_error_set(err, TCPST_ELINKTYPE,
                                   "%s: cannot save inputs of link types %s and %s in one "
                                   "pcap file",
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
    FILE *fp = open_dump_stream(path);
    if (fp == NULL) {
        return tcpst_error_set(err, TCPST_EWRITE, "%s: cannot write: %s", shown, strerror(errno));
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

int tcpst_capture_dump_open(tcpst_capture *cap, const char *path, tcpst_error *err)
{
    if (path == NULL || path[0] == '\0') {
        return tcpst_error_set(err, TCPST_EUSAGE, "no file name to write packets to");
    }
    const char *shown = strcmp(path, "-") == 0 ? "standard output" : path;
    if (cap->dump != NULL) {
        return tcpst_error_set(err, TCPST_EUSAGE, "%s: already writing packets to a file", shown);
    }
    int snaplen;
    int rc = file_params(cap, shown, &snaplen, err);
    if (rc != 0) {
        return rc;
    }
    struct tcpst__dump *d = calloc(1, sizeof(*d));
    if (d != NULL) {
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
    if (pcap_dump_flush(cap->dump->dumper) != 0) {
        return -1;
    }
    if (ferror(pcap_dump_file(cap->dump->dumper))) {
        errno = EIO;
        return -1;
    }
    return 0;
}
