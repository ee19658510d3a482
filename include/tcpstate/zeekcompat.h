/*
 * zeekcompat.h - Zeek-compatible connection summary: conn_state and history.
 *
 * Zeek's conn.log does not use RFC 9293 states; it keeps a coarse per-side
 * state (inactive, SYN sent, SYN-ACK sent, partial, established, closed,
 * reset), a direction (originator/responder, with heuristic flips shown as
 * '^'), and a compact history string.  Users compare tools on these two fields
 * every day, so tcpstate reproduces them by Zeek's published definitions (see
 * docs/zeek-compat.md).  This module is a small per-connection sub-tracker fed
 * with every segment of the connection; it reads nothing else and never
 * allocates.
 *
 * Endpoint numbering: callers pass `from` = 0 or 1, the index of the sending
 * endpoint in the caller's connection record.  The module decides which of the
 * two Zeek calls the originator (z->orig) and maps letters accordingly.
 */
#ifndef TCPSTATE_ZEEKCOMPAT_H
#define TCPSTATE_ZEEKCOMPAT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstate/decode.h"
#include "tcpstate/types.h"

#define TCPST_ZEEK_HIST_MAX 40 /* longer histories are cut (rare: needs many seq changes) */

/* Zeek's coarse endpoint states (values as in Zeek's init-bare). */
enum tcpst_zeek_state {
    TCPST_Z_INACTIVE = 0,
    TCPST_Z_SYN_SENT = 1,
    TCPST_Z_SYN_ACK_SENT = 2,
    TCPST_Z_PARTIAL = 3,
    TCPST_Z_ESTABLISHED = 4,
    TCPST_Z_CLOSED = 5,
    TCPST_Z_RESET = 6
};

typedef struct tcpst_zeek {
    uint8_t orig;     /* caller endpoint index (0/1) Zeek calls the originator */
    uint8_t state[2]; /* tcpst_zeek_state, indexed by caller endpoint index */
    uint8_t seen;     /* any packet processed */
    uint8_t hlen;
    char hist[TCPST_ZEEK_HIST_MAX + 1];
    /* Implementation-private bookkeeping follows (letter dedup, seq tracking). */
    uint8_t once[2];        /* bits: A D I Q already recorded, per caller index */
    uint8_t have_last[2];   /* bits: S H F R last-seq valid */
    uint32_t last_seq[2][4]; /* last seq per S H F R, per caller index */
    uint32_t logcnt[2][4];  /* C G T W occurrence counters */
    uint32_t logthr[2][4];  /* next threshold (1, 10, 100, ...) */
    uint8_t seq_valid[2];
    uint8_t had_payload[2];
    uint32_t isn[2];
    uint32_t max_seq[2];    /* highest seq end seen (wire value) */
    uint32_t pkts[2];       /* packets counted by Zeek rules, per caller index */
    uint8_t fin_then_rst[2];
} tcpst_zeek;

void tcpst_zeek_init(tcpst_zeek *z);

/*
 * Feed one segment sent by caller endpoint `from`.  `likely_server_port`
 * answers whether a port is one Zeek would treat as a service port for the
 * direction heuristics (may be NULL: use the built-in table).
 */
void tcpst_zeek_update(tcpst_zeek *z, unsigned from, const tcpst_segment *seg);

/* conn_state per Zeek's decision list ("S0", "SF", ... "OTH"). Static string. */
const char *tcpst_zeek_conn_state(const tcpst_zeek *z);

/* Originator / responder packet counts as Zeek counts them. */
uint32_t tcpst_zeek_orig_pkts(const tcpst_zeek *z);
uint32_t tcpst_zeek_resp_pkts(const tcpst_zeek *z);

/* Built-in "likely server port" table used for direction flips. */
bool tcpst_zeek_likely_server_port(uint16_t port);

#endif
