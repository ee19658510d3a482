/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostsock.h - the host's own view of its TCP sockets, for live captures.
 *
 * A snapshot is what `ss -tanp` shows: every TCP socket of this network namespace, from the
 * kernel's NETLINK_SOCK_DIAG (inet_diag) dump, with the process that owns each one, found
 * through the socket inodes in /proc/PID/fd.  Live modes take one at the end of the run and
 * when a stuck state is found, so that a report can say which process holds an endpoint
 * and which state the kernel itself has it in.
 *
 * Nothing here fails a run: without sock_diag, or without the right to read other users'
 * /proc/PID/fd (not root), the fields stay unknown and tcpst_hostsock_unavailable() says
 * why.  Process facts are kept for the whole run (a process that exits after a snapshot is
 * still named), bounded by TCPST_HOSTSOCK_PROCS.
 */
#ifndef TCPSTATE_HOSTSOCK_H
#define TCPSTATE_HOSTSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstate/error.h"
#include "tcpstate/types.h"

#define TCPST_HOSTSOCK_PROCS 4096 /* processes remembered per run */

typedef struct tcpst_hostsock tcpst_hostsock;

/* A process that owned a socket, as /proc showed it then. */
typedef struct tcpst_hostproc {
    uint32_t pid;
    uint32_t uid;        /* real uid (/proc/PID/status) */
    const char *command; /* /proc/PID/comm: "python3" */
    const char *cmdline; /* arguments joined by spaces: "python3 server.py" */
    const char *cgroup;  /* cgroup v2 path ("/system.slice/x.service"), or NULL */
} tcpst_hostproc;

/* What a snapshot knows of one local endpoint. */
typedef struct tcpst_hostsock_hit {
    const char *state; /* the kernel's state, by its RFC 9293 name ("CLOSE_WAIT"); a local
                          endpoint with no socket is "CLOSED" */
    uint32_t pid;      /* owner; 0 when unknown (no socket, no fd seen, or no right to look) */
    uint32_t uid;      /* the socket's uid (inet_diag), valid when `socket` */
    bool socket;       /* the kernel has a socket for it */
} tcpst_hostsock_hit;

/* 0, or TCPST_ENOMEM. */
__attribute__((warn_unused_result)) int tcpst_hostsock_new(tcpst_hostsock **out, tcpst_error *err);
void tcpst_hostsock_free(tcpst_hostsock *h);

/*
 * Take a snapshot now (local addresses, sockets, owners).  Returns 0, or -1 when the
 * kernel's socket table could not be read (the reason is kept: tcpst_hostsock_unavailable).
 */
int tcpst_hostsock_refresh(tcpst_hostsock *h);

/* Snapshots taken so far, and the realtime clock (ns) of the latest; 0 before the first. */
unsigned tcpst_hostsock_snapshots(const tcpst_hostsock *h);
tcpst_time tcpst_hostsock_taken_at(const tcpst_hostsock *h);

/* Why process or kernel fields may be unknown ("sock_diag: ...", "not root: ..."), or NULL
 * when the last snapshot saw everything. */
const char *tcpst_hostsock_unavailable(const tcpst_hostsock *h);

/* Is `a` an address of this host (an interface's, or loopback)? */
bool tcpst_hostsock_is_local(const tcpst_hostsock *h, const tcpst_addr *a);

/*
 * The latest snapshot's view of the local endpoint laddr:lport talking to raddr:rport.
 * False when laddr is not local or no snapshot could be taken.  IPv4 sockets reached over
 * IPv6 (v4-mapped) match their IPv4 endpoints.
 */
bool tcpst_hostsock_find(const tcpst_hostsock *h, const tcpst_addr *laddr, uint16_t lport,
                         const tcpst_addr *raddr, uint16_t rport, tcpst_hostsock_hit *out);

/* The process `pid` as first seen owning a socket, or NULL. */
const tcpst_hostproc *tcpst_hostsock_proc(const tcpst_hostsock *h, uint32_t pid);

#endif
