/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * select.h - which connections a report shows: --connection SEL, repeatable.
 *
 * A selector is a record id ("17"), an endpoint on either side ("198.18.0.2:8080",
 * "[2001:db8::1]:443"), a 4-tuple in either order ("198.18.0.1:46038-198.18.0.2:8080"), an
 * anomaly id ("close_wait_stuck": records with such a finding) or "anomalous" (a finding of
 * severity warning or error, as --connections anomalous).  A record is shown when any
 * selector matches; with none, every record is.  The summary, stats and verdict always
 * count every connection.
 */
#ifndef TCPSTATE_SELECT_H
#define TCPSTATE_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstate/conn.h"
#include "tcpstate/error.h"

typedef enum tcpst_selector_kind {
    TCPST_SEL_ID = 0,
    TCPST_SEL_ENDPOINT,
    TCPST_SEL_TUPLE,
    TCPST_SEL_ANOMALY,
    TCPST_SEL_ANOMALOUS
} tcpst_selector_kind;

typedef struct tcpst_selector {
    uint8_t kind; /* tcpst_selector_kind */
    int type;     /* TCPST_SEL_ANOMALY: tcpst_anomaly_type */
    uint64_t id;  /* TCPST_SEL_ID */
    tcpst_addr addr[2];
    uint16_t port[2]; /* ENDPOINT: [0]; TUPLE: both */
} tcpst_selector;

typedef struct tcpst_selection {
    tcpst_selector *items;
    size_t n, cap;
} tcpst_selection;

/* Parse `text` and add it.  0; TCPST_EUSAGE naming what was expected; TCPST_ENOMEM. */
__attribute__((warn_unused_result)) int tcpst_selection_add(tcpst_selection *s, const char *text,
                                                            tcpst_error *err);

/* Does record c match a selector (true when there are none)? */
bool tcpst_selection_matches(const tcpst_selection *s, const tcpst_conn *c);

/* Can the selection be decided from a record's id and 4-tuple alone (no anomaly selector),
 * that is before the record ends? */
bool tcpst_selection_by_tuple(const tcpst_selection *s);

void tcpst_selection_fini(tcpst_selection *s);

#endif
