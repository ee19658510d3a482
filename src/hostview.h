/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostview.h - the engine's host hook (engine.h) for live captures: each local endpoint of a
 * record gets its owning process and the kernel's own state from the host's socket table
 * (hostsock.h).
 */
#ifndef TCPSTATE_HOSTVIEW_H
#define TCPSTATE_HOSTVIEW_H

#include <stdbool.h>

#include "tcpstate/conn.h"
#include "tcpstate/hostsock.h"

/*
 * A tcpst_host_fn; ctx is the run's tcpst_hostsock.  In a scan (`scan`), or for a record
 * written out with a stuck state, the table is read again when it is older than
 * TCPST_HOST_REFRESH; for other records the latest reading serves.  A reading older than the
 * record's last packet tells nothing of it: the endpoint is then only marked local or not.
 */
void tcpst_hostview_hook(void *ctx, tcpst_conn *c, bool scan);

#endif
