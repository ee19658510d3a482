/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * order.h - records back in id order.  Private to the report layer.
 *
 * Connections end in any order, but the JSON and text reports list them by id (the order
 * of their first packet).  A record that ends before a lower id waits, packed (pack.h):
 * about a fifth of its JSON.  Past `mem_max` bytes (heap entries counted, so ids without a
 * record count too), everything waiting in memory goes to an unlinked temporary file in
 * $TMPDIR (or /tmp) at once, sorted by id: a run, written in 1 MiB blocks, each record with
 * its id and length, so memory keeps one head per run and nothing per spilled record.  Records
 * leave in id order, so each run is read back front to back through a read-ahead buffer of its own.
 * A waiting record is formatted only when its turn comes; its text depends on the record alone, so
 * it is the same either way.
 */
#ifndef TCPSTATE_REPORT_ORDER_H
#define TCPSTATE_REPORT_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstate/conn.h"

/* A record whose turn has come; NULL: an id with nothing to write (it still takes its
 * turn).  The record is valid during the call only. */
typedef void (*tcpst__order_fn)(void *ctx, const tcpst_conn *c);

typedef struct tcpst__pending tcpst__pending;
typedef struct tcpst__spill_run tcpst__spill_run;
typedef struct tcpst__held tcpst__held;

typedef struct tcpst__pheap {
    tcpst__pending *a;
    size_t n, cap;
} tcpst__pheap;

typedef struct tcpst__order {
    tcpst__order_fn out;
    void *ctx;
    int *err;             /* the first error (errno) of the whole output: set here, checked here */
    size_t mem_max;       /* bytes of packed records kept in memory */
    uint64_t next_id;     /* lowest id not yet out */
    tcpst__pheap mem;     /* records waiting in memory (pending_bytes, entries included) ... */
    size_t pending_bytes; /* ... and in the spill file's runs, a heap by head id: */
    tcpst__spill_run **runs;
    size_t nruns, capruns;
    int spill_fd; /* -1 until needed */
    uint64_t spill_end;
    char *spill_w;         /* runs go to the file in blocks through this buffer ... */
    size_t spill_wlen;     /* ... empty between runs, so every spilled record is in the file */
    int spill_err;         /* the spill file's own failure (errno), also in *err */
    char spill_name[4096]; /* its name pattern: $TMPDIR/tcpstate-pending-XXXXXX */
    tcpst__held *held;     /* a record being packed or unpacked ... */
    unsigned char *packed; /* ... and its packed form: one block */
} tcpst__order;

/* Records go out through out(ctx, ...); errors go to *err (first one kept). */
void tcpst__order_init(tcpst__order *o, size_t mem_max, tcpst__order_fn out, void *ctx, int *err);
void tcpst__order_fini(tcpst__order *o);

/* Record `id` (c NULL: nothing to write for it); out() is called for every id whose turn
 * has come, this one or waiting ones. */
void tcpst__order_add(tcpst__order *o, uint64_t id, const tcpst_conn *c);

/* The end: everything still waiting goes out, in id order (stops at the first error). */
void tcpst__order_drain(tcpst__order *o);

#endif
