/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xfer.h - what detect.c asks of transfer.c (private to the detect layer).
 */
#ifndef TCPSTATE_DETECT_XFER_H
#define TCPSTATE_DETECT_XFER_H

#include <stdbool.h>

#include "tcpstate/conn.h"

/*
 * The record is being written out at `end_ts`: close the episodes still open (a zero
 * window that never reopened), marking still_at_end when `at_capture_end`.  Calling it
 * twice adds nothing the second time.
 */
void tcpst__xfer_finish(tcpst_xfer *x, tcpst_findings *fs, tcpst_time end_ts, bool at_capture_end,
                        const tcpst_xfer_config *cfg);

/* Is a zero-window episode open (so a stall may become due)? */
bool tcpst__xfer_zero_window_open(const tcpst_xfer *x);

#endif
