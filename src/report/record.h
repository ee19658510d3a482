/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * record.h - connection records and findings as JSON text (record.c).  Private to the
 * report layer.
 */
#ifndef TCPSTATE_REPORT_RECORD_H
#define TCPSTATE_REPORT_RECORD_H

#include "jsonw.h"
#include "tcpstate/conn.h"
#include "tcpstate/hostsock.h"

/* Times are epoch seconds rounded to the microsecond: a double holds that exactly for any
 * epoch time, so the JSON (jsonw.h) and jansson (doc.c) paths write the same digits. */
static inline int64_t tcpst__time_us(tcpst_time ns)
{
    return (ns >= 0 ? ns + 500 : ns - 500) / 1000;
}

/* The record as compact JSON into `w` (emptied first); NDJSON puts "type" first. */
void tcpst__w_conn(tcpst_jw *w, const tcpst_conn *c, const char *ndjson_type);

/* Members and values for the other NDJSON lines. */
void tcpst__w_time(tcpst_jw *w, const char *key, tcpst_time ns);
void tcpst__w_addr(tcpst_jw *w, const char *key, const tcpst_addr *a);
void tcpst__w_finding(tcpst_jw *w, const tcpst_finding *f);
/* VLAN ids and encapsulation layers (outermost first, decode.h), only when there are any. */
void tcpst__w_layers(tcpst_jw *w, const tcpst_conn *c);

/* The host sockets whose process facts records name from now on (NULL: none). */
void tcpst__w_use_host(const tcpst_hostsock *h);

/* An endpoint's "kernel_state" and "process" members (live captures: v->flags has
 * TCPST_HV_ASKED). */
void tcpst__w_hostview(tcpst_jw *w, const tcpst_hostview *v);

/* That table's process `pid`, or NULL (none, or not known). */
const tcpst_hostproc *tcpst__host_proc(uint32_t pid);

#endif
