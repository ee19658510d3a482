// SPDX-License-Identifier: BSD-3-Clause
/*
 * end.c - when the capture ended, and what says so (docs/capture-end.md).
 *
 * A pcap file does not record when the capture stopped; stuck states are measured to that
 * moment, so it is decided here once, from the first of: --capture-end, the latest
 * isb_endtime of pcapng files read to their end, the wall clock of a live capture or live
 * stream, and last of all the last packet.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"
#include "tcpstate/capture.h"
#include "tcpstate/timefmt.h"

/* How far a file's mtime may lag its last packet: the file-system clock is read once per
 * tick (1 to 10 ms), packet times are exact. */
#define MTIME_SLACK (TCPST_NS_PER_SEC / 10)

/* The latest modification time of the inputs; standard input only when it is a file. */
static int inputs_mtime(const tcpst_capture *cap, tcpst_time *out, tcpst_error *err)
{
    tcpst_time latest = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const char *name = cap->in[i].info.name;
        struct stat st;
        int rc = strcmp(name, "-") == 0 ? fstat(STDIN_FILENO, &st) : stat(name, &st);
        const char *shown = tcpst_capture_shown_name(name);
        if (rc != 0) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "--capture-end mtime: %s: cannot read its modification time",
                                   shown);
        }
        if (!S_ISREG(st.st_mode)) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "--capture-end mtime: %s is not a file, so it has no "
                                   "modification time; give the end as a time or +DURATION",
                                   shown);
        }
        tcpst_time t = (tcpst_time)st.st_mtim.tv_sec * TCPST_NS_PER_SEC + st.st_mtim.tv_nsec;
        latest = t > latest ? t : latest;
    }
    *out = latest;
    return 0;
}

/* The latest packet time over the inputs, and whether there was one. */
static bool last_packet(const tcpst_capture *cap, tcpst_time *out)
{
    bool any = false;
    *out = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const tcpst_input_info *in = &cap->in[i].info;
        if (in->packets > 0 && (!any || in->last_ts > *out)) {
            *out = in->last_ts;
            any = true;
        }
    }
    return any;
}

/* The latest isb_endtime, only when every input is pcapng and was read to its end: a
 * capture stopped early (--count, a signal) ends where reading stopped. */
static bool isb_end(const tcpst_capture *cap, tcpst_time *out)
{
    if (!cap->finished || cap->n == 0) {
        return false;
    }
    *out = 0;
    for (size_t i = 0; i < cap->n; i++) {
        const tcpst_input_info *in = &cap->in[i].info;
        if (!in->has_end) {
            return false;
        }
        *out = in->end_ts > *out ? in->end_ts : *out;
    }
    return true;
}

int tcpst_capture_end_of(const tcpst_capture *cap, tcpst_end_given given, tcpst_time at,
                         const char *text, bool live_stream, tcpst_time wall,
                         tcpst_capture_end *out, tcpst_error *err)
{
    tcpst_time last;
    bool any = last_packet(cap, &last);
    memset(out, 0, sizeof(*out));
    switch (given) {
        case TCPST_ENDG_AT:
            out->end = at;
            out->source = "option";
            break;
        case TCPST_ENDG_AFTER_LAST:
            if (!any) {
                return 0; /* no packet to count from: nothing to measure either */
            }
            out->end = last + at;
            out->source = "option";
            break;
        case TCPST_ENDG_MTIME: {
            int rc = inputs_mtime(cap, &out->end, err);
            if (rc != 0) {
                return rc;
            }
            /* File times come from the kernel's coarse clock, a tick behind the packets'
             * own: an mtime just before the last packet is that packet's write. */
            if (any && out->end < last && last - out->end <= MTIME_SLACK) {
                out->end = last;
            }
            out->source = "option";
            break;
        }
        case TCPST_ENDG_LAST_PACKET:
            if (!any) {
                return 0;
            }
            out->end = last;
            out->source = "last-packet";
            break;
        case TCPST_ENDG_NONE:
        default: {
            tcpst_time isb;
            if (tcpst_capture_is_live(cap) || live_stream) {
                out->end = wall;
                out->source = tcpst_capture_is_live(cap) ? "live" : "stream";
            } else if (isb_end(cap, &isb) && (!any || isb >= last)) {
                /* An ISB older than a packet (a clock stepped back, a tool's bug) says
                 * nothing about the end: the last packet does. */
                out->end = isb;
                out->source = "pcapng-isb";
            } else if (any) {
                out->end = last;
                out->source = "last-packet";
            } else {
                return 0;
            }
            break;
        }
    }
    if (any && out->end < last) {
        char e[TCPST_TIME_STRLEN], l[TCPST_TIME_STRLEN];
        tcpst_format_time(out->end, e);
        tcpst_format_time(last, l);
        if (given == TCPST_ENDG_MTIME) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "--capture-end mtime: the files were last modified at %s, "
                                   "before their last packet at %s",
                                   e, l);
        }
        if (given != TCPST_ENDG_NONE) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "--capture-end %s: the capture cannot end at %s, before its "
                                   "last packet at %s",
                                   text ? text : "", e, l);
        }
        out->end = last; /* a wall clock behind the packets: they are the better clock */
        out->source = "last-packet";
    }
    out->known = true;
    return 0;
}
