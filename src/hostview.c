/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostview.c - a record's endpoints against the host's socket table.
 *
 * The capture's clock and the table's are both the realtime clock of this host, so a
 * reading taken after a record's last packet describes what that packet left.  The states
 * are compared only when the reading is TCPST_HOST_SETTLE after it: a segment the kernel
 * has just sent may still be on its way into the capture.
 */
#include "hostview.h"

#include <time.h>

#include "tcpstate/anomaly.h"
#include "tcpstate/limits.h"

static tcpst_time realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tcpst_time)ts.tv_sec * TCPST_NS_PER_SEC + ts.tv_nsec;
}

/* Does c hold a duration finding (a stuck state, an unanswered SYN, a stall)? */
static bool has_stuck(const tcpst_conn *c)
{
    for (unsigned i = 0; i < c->findings.n; i++) {
        if (tcpst_anomaly_has_duration((tcpst_anomaly_type)c->findings.f[i].type)) {
            return true;
        }
    }
    return false;
}

void tcpst_hostview_hook(void *ctx, tcpst_conn *c, bool scan)
{
    tcpst_hostsock *h = ctx;
    /* A stuck state is when its owner is worth naming: in a scan, or a record written out
     * in the middle of a run (idle expiry) that holds one. */
    if ((scan || has_stuck(c)) && realtime() - tcpst_hostsock_taken_at(h) >= TCPST_HOST_REFRESH) {
        (void)tcpst_hostsock_refresh(h); /* a failure leaves the fields unknown */
    }
    tcpst_time taken = tcpst_hostsock_taken_at(h);
    for (unsigned who = 0; who < 2; who++) {
        const tcpst_endpoint *me = &c->ep[who], *peer = &c->ep[who ^ 1];
        tcpst_hostview *v = &c->host[who];
        v->flags = TCPST_HV_ASKED;
        if (!tcpst_hostsock_is_local(h, &me->addr)) {
            continue;
        }
        v->flags |= TCPST_HV_LOCAL;
        tcpst_hostsock_hit hit;
        if (taken < c->last_ts ||
            !tcpst_hostsock_find(h, &me->addr, me->port, &peer->addr, peer->port, &hit)) {
            continue;
        }
        int st = tcpst_state_parse(hit.state);
        if (st < 0) {
            continue;
        }
        v->flags |= TCPST_HV_KSTATE;
        v->kstate = (uint8_t)st;
        v->pid = hit.pid;
        v->uid = hit.uid;
        if (hit.socket) {
            v->flags |= TCPST_HV_SOCKET;
        }
        if (taken - c->last_ts >= TCPST_HOST_SETTLE) {
            v->flags |= TCPST_HV_SETTLED;
        }
    }
}
