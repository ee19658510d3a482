/*
 * transfer.c - placeholder until the transfer detectors land: no findings.
 */
#include "tcpstate/transfer.h"

#include <string.h>

void tcpst_xfer_init(tcpst_xfer *x)
{
    memset(x, 0, sizeof *x);
}

void tcpst_xfer_segment(tcpst_xfer *x, tcpst_findings *fs, unsigned from,
                        const struct tcpst_endpoint *e, const struct tcpst_endpoint *p,
                        const tcpst_segment *seg, tcpst_time ts, uint64_t frame,
                        const tcpst_xfer_config *cfg)
{
    (void)x, (void)fs, (void)from, (void)e, (void)p, (void)seg, (void)ts, (void)frame, (void)cfg;
}

void tcpst_xfer_finish(tcpst_xfer *x, tcpst_findings *fs, tcpst_time end_ts, bool at_capture_end,
                       const tcpst_xfer_config *cfg)
{
    (void)x, (void)fs, (void)end_ts, (void)at_capture_end, (void)cfg;
}
