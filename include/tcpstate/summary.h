/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * summary.h - capture-wide detectors: judgements over all the records of a capture, which
 * no single record can make.  SYN floods and scans (servers with many unanswered SYNs),
 * RST storms (hosts that reset or refuse many connections), and the capture's quality
 * (one direction missing, or data never captured, on many established connections).
 *
 * The engine adds every record as it is written out (tcpst_summary_add) and judges at the
 * end (tcpst_summary_judge); the report writes the result as it is.  Per-address tallies
 * live in a table that grows to TCPST_SUMMARY_HOSTS_MAX addresses; beyond it addresses
 * are counted, not tallied.  Thresholds are in limits.h.
 */
#ifndef TCPSTATE_SUMMARY_H
#define TCPSTATE_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstate/conn.h"
#include "tcpstate/limits.h"
#include "tcpstate/types.h"

typedef struct tcpst_summary_host tcpst_summary_host; /* private to summary.c */

typedef struct tcpst_summary {
    tcpst_summary_host *hosts; /* open addressing, caphosts slots (a power of two) */
    size_t nhosts, caphosts;
    uint64_t hosts_untracked; /* addresses beyond the table's cap */
    uint64_t established_conns, one_sided_conns, lossy_conns;
} tcpst_summary;

/* A host over a threshold: how often, and between which times. */
typedef struct tcpst_summary_listed {
    tcpst_addr addr;
    uint64_t count;
    tcpst_time first_ts, last_ts;
} tcpst_summary_listed;

typedef struct tcpst_summary_result {
    size_t nfloods, nstorms; /* listed entries, most affected first, then by address */
    tcpst_summary_listed floods[TCPST_SUMMARY_HOSTS_LISTED]; /* servers: unanswered SYNs */
    tcpst_summary_listed storms[TCPST_SUMMARY_HOSTS_LISTED]; /* hosts: connections reset */
    const char *quality; /* "ok", "one_sided", "capture_loss" or "snap_length" (static) */
    uint64_t established_conns, one_sided_conns, lossy_conns, hosts_untracked;
    uint64_t snapped_headers, frames; /* frames cut inside their headers by the snap length */
    uint64_t clock_steps_back;        /* timestamps that stepped back (engine.h) ... */
    tcpst_time largest_step_back;     /* ... and by how much at most */
} tcpst_summary_result;

void tcpst_summary_init(tcpst_summary *s);
void tcpst_summary_fini(tcpst_summary *s);

/* A record written out, with its final findings. */
void tcpst_summary_add(tcpst_summary *s, const tcpst_conn *c);

/* The capture-wide findings so far. */
void tcpst_summary_judge(const tcpst_summary *s, tcpst_summary_result *out);

/* Frames the snap length cut inside their headers, of `frames`: counted in *out, and when
 * they are a tenth or more the capture's quality is "snap_length" (their segments were not
 * analysed at all). */
void tcpst_summary_judge_snaplen(tcpst_summary_result *out, uint64_t snapped, uint64_t frames);

/* Timestamps that stepped back: counted in *out, and the quality is "clock_stepped" (times
 * after a step are shifted; durations stay true) unless it is already worse. */
void tcpst_summary_judge_clock(tcpst_summary_result *out, uint64_t steps, tcpst_time largest);

#endif
