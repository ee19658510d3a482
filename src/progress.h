/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * progress.h - a long offline run's progress on a terminal: bytes read of the total,
 * packets per second, connections, time left.  One line on stderr, rewritten in place,
 * shown only once a run has taken a second, and cleared at the end.
 */
#ifndef TCPSTATE_PROGRESS_H
#define TCPSTATE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstate/capture.h"

typedef struct tcpst_progress {
    bool on, shown;
    uint64_t total;         /* bytes of the regular input files; 0: unknown (a pipe) */
    uint64_t done;          /* bytes of the packets read, with their record headers */
    uint64_t packets;       /* packets read */
    tcpst_time start, next; /* monotonic: the start, and when the line is due again */
} tcpst_progress;

/* Off unless `enabled` (stderr a terminal, offline, not --quiet). */
void tcpst_progress_start(tcpst_progress *p, const char *const *files, size_t n, bool enabled);

void tcpst__progress_tick(tcpst_progress *p, uint64_t connections);

/* A packet read; the line is looked at every 4,096 packets. */
static inline void tcpst_progress_packet(tcpst_progress *p, const tcpst_pkt *pkt,
                                         uint64_t connections)
{
    if (p->on) {
        p->done += (uint64_t)pkt->caplen + 16u; /* a pcap record's header */
        if ((++p->packets & 4095u) == 0) {
            tcpst__progress_tick(p, connections);
        }
    }
}

/* The run is over: the line goes. */
void tcpst_progress_end(tcpst_progress *p);

#endif
