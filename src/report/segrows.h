/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * segrows.h - the segments of each listed connection, kept until its record is written, for
 * the views of single connections (--format ladder and html).  Private to the report layer.
 *
 * Rows come from the engine's segment receiver as segments are applied, so the states in a
 * row are those its segment left.  Ordinary data (ACK/PSH only, no state change, nothing
 * marked, no finding raised or counted) collapses into runs, so a 1 GB transfer costs a few
 * rows: from the first segment for the ladder, after `raw_first` segments for html (which
 * draws one arrow per frame of a short connection).  Past `max_rows` everything goes into
 * one last run, so a pathological connection stays bounded.
 */
#ifndef TCPSTATE_REPORT_SEGROWS_H
#define TCPSTATE_REPORT_SEGROWS_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstate/conn.h"

/* REST: every segment past max_rows, ordinary or not (its marks say what it held). */
enum { TCPST__ROW_SEGMENT = 0, TCPST__ROW_RUN, TCPST__ROW_REST };

/* What a row's segment was, besides its flags (marks). */
enum {
    TCPST__MARK_RETRANS = 1u << 0,   /* counted as a retransmission */
    TCPST__MARK_KEEPALIVE = 1u << 1, /* counted as a keep-alive */
    TCPST__MARK_DUPLICATE = 1u << 2, /* a copy the capture holds twice */
    TCPST__MARK_ZEROWIN = 1u << 3,   /* advertised a zero window */
    TCPST__MARK_FINDING = 1u << 4    /* a finding was raised or counted on it */
};

typedef struct tcpst__segrow {
    uint8_t kind, from, changed, inferred; /* changed/inferred: bit per endpoint */
    uint8_t state[2];
    uint8_t marks; /* RUN, REST: of every segment in it */
    uint16_t flags;
    uint32_t seq, ack, len, win; /* absolute; win scaled when both sides scale */
    uint64_t frame, last_frame;  /* RUN: first and last frame */
    tcpst_time ts, last_ts;      /* RUN: first and last time */
    uint64_t count, bytes;       /* RUN */
    /* RUN, per sender: its first seq and last seq + len, last ack and window; dirs: bit set
     * when that side sent in the run. */
    uint32_t run_seq[2], run_end[2], run_ack[2], run_win[2];
    uint8_t dirs;
} tcpst__segrow;

typedef struct tcpst__segconn {
    uint64_t id; /* 0: free slot */
    tcpst__segrow *rows;
    size_t n, cap;
    uint64_t segments; /* every segment seen */
    uint32_t base[2];  /* each side's ISN (or seq - 1): relative numbers start here */
    uint8_t have_base;
    uint64_t finding_count; /* the record's findings' counts at the previous segment */
    uint32_t retrans[2], keepalives[2], duplicates[2]; /* each side's counters so far */
    unsigned ordinary; /* ordinary rows at the end of rows[] (not yet a run) */
} tcpst__segconn;

typedef struct tcpst__segrows {
    tcpst__segconn *slots; /* open addressing by id */
    size_t cap, used;
    uint64_t raw_first; /* segments kept one row each before ordinary ones collapse */
    size_t max_rows;    /* 0: no limit */
    uint8_t keep_marks; /* marks that keep a segment out of runs (TCPST__MARK_FINDING always) */
} tcpst__segrows;

/* One segment of c, sent by `from`, just applied.  Out of memory loses rows, never the
 * report. */
void tcpst__segrows_add(tcpst__segrows *t, const tcpst_conn *c, unsigned from,
                        const tcpst_segment *seg, tcpst_time ts, uint64_t frame);
/* The rows of record id, or NULL. */
const tcpst__segconn *tcpst__segrows_get(const tcpst__segrows *t, uint64_t id);
/* Forget record id's rows. */
void tcpst__segrows_drop(tcpst__segrows *t, uint64_t id);
/* Forget everything; the table can be used again. */
void tcpst__segrows_free(tcpst__segrows *t);

#endif
