/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zeekrow.c - what decides Zeek's conn.log row of a record: when Zeek would end it (its
 * removal timers and connection reuse, tcpst_zeek_check_split) and its conn_state (Zeek's
 * decision list over the two coarse side states).  Fed by zeekcompat.c's bookkeeping; no
 * state of its own.
 */
#include <string.h>

#include "tcpstate/zeekcompat.h"
#include "zeek.h"

/* ---- record boundaries ------------------------------------------------- */

/* Would one run of the periodic session check at `t` remove the record? */
static bool expire_removes(const tcpst_zeek *z, tcpst_time t)
{
    if (!(z->last_time + CONNECTION_LINGER < t)) {
        return false;
    }
    unsigned o = z->orig, r = o ^ 1u;
    const tcpst_zeek_ep *oe = &z->ep[o], *re = &z->ep[r];
    if (oe->did_close || re->did_close) {
        if ((oe->did_close && re->did_close) || z->state[o] == TCPST_Z_RESET ||
            z->state[r] == TCPST_Z_RESET || z->state[o] == TCPST_Z_INACTIVE ||
            z->state[r] == TCPST_Z_INACTIVE) {
            return true;
        }
    }
    return z->state[o] == TCPST_Z_INACTIVE && z->state[r] == TCPST_Z_INACTIVE;
}

/* Is this segment a new connection attempt on the same tuple (Zeek's reuse test)? */
static bool is_reuse(const tcpst_zeek *z, const tcpst_segment *seg)
{
    uint16_t f = seg->flags;
    if (!(f & TCPST_SYN)) {
        return false;
    }
    unsigned o = z->orig, r = o ^ 1u;
    unsigned opener = o;
    if (f & TCPST_ACK) {
        if (z->state[o] != TCPST_Z_INACTIVE) {
            return false; /* a SYN-ACK reuses only a half-seen connection */
        }
        opener = r;
    }
    if (z->ep[o].did_close || z->ep[r].did_close) {
        return true; /* any SYN after a close starts over, whatever its number */
    }
    if (seg->seq == (uint32_t)z->ep[opener].start_seq) {
        return false; /* retransmitted SYN */
    }
    if (!(f & TCPST_ACK) && z->state[opener] == TCPST_Z_SYN_ACK_SENT &&
        z->state[r] == TCPST_Z_INACTIVE && seg->seq == (uint32_t)z->ep[r].start_seq) {
        return false; /* the SYN of a SYN-ACK captured first */
    }
    return true;
}

tcpst_zeek_split tcpst_zeek_check_split(const tcpst_zeek *z, unsigned from,
                                        const tcpst_segment *seg, tcpst_time ts)
{
    (void)from;
    if (!z->seen) {
        return TCPST_ZSPLIT_NONE;
    }
    /* Timers due by this packet's time run first, in time order; all see the same state. */
    tcpst_time best = 0;
    tcpst_zeek_split why = TCPST_ZSPLIT_NONE;
#define CANDIDATE(at, reason)                                                                      \
    do {                                                                                           \
        if (!best || (at) < best) {                                                                \
            best = (at);                                                                           \
            why = (reason);                                                                        \
        }                                                                                          \
    } while (0)
    unsigned o = z->orig, r = o ^ 1u;
    if (z->delete_at && ts >= z->delete_at) {
        CANDIDATE(z->delete_at, TCPST_ZSPLIT_CLOSED);
    }
    if (z->is_active && z->attempt_at && ts >= z->attempt_at &&
        (z->state[o] == TCPST_Z_SYN_SENT || z->state[o] == TCPST_Z_SYN_ACK_SENT) &&
        z->state[r] == TCPST_Z_INACTIVE) {
        CANDIDATE(z->attempt_at, TCPST_ZSPLIT_ATTEMPT);
    }
    if (z->is_active && z->reset_at && ts >= z->reset_at) {
        CANDIDATE(z->reset_at, TCPST_ZSPLIT_RESET_TIMER);
    }
    for (int i = 0; i < 3 && z->is_active; i++) {
        /* Runs before the record has been idle for the linger time never remove it;
         * the first later run decides, since the state is fixed until this packet. */
        tcpst_time t = z->expire_at[i];
        tcpst_time idle_from = z->last_time + CONNECTION_LINGER;
        if (t && t <= idle_from) {
            t += ((idle_from - t) / SESSION_TIMER + 1) * SESSION_TIMER;
        }
        if (t && t <= ts && expire_removes(z, t)) {
            CANDIDATE(t, TCPST_ZSPLIT_EXPIRE);
        }
    }
    if (ts >= z->last_time + z->inactivity) {
        CANDIDATE(z->last_time + z->inactivity, TCPST_ZSPLIT_INACTIVITY);
    }
#undef CANDIDATE
    if (why != TCPST_ZSPLIT_NONE) {
        return why;
    }
    return is_reuse(z, seg) ? TCPST_ZSPLIT_REUSE : TCPST_ZSPLIT_NONE;
}

const char *tcpst_zeek_split_name(tcpst_zeek_split s)
{
    switch (s) {
        case TCPST_ZSPLIT_NONE:
            return "none";
        case TCPST_ZSPLIT_REUSE:
            return "reuse";
        case TCPST_ZSPLIT_ATTEMPT:
            return "attempt";
        case TCPST_ZSPLIT_CLOSED:
            return "closed";
        case TCPST_ZSPLIT_EXPIRE:
            return "expire";
        case TCPST_ZSPLIT_INACTIVITY:
            return "inactivity";
        case TCPST_ZSPLIT_RESET_TIMER:
            return "reset_timer";
    }
    return "?";
}

/* ---- summary ------------------------------------------------------------ */

/* Zeek's RSTOS0 pattern: optional '^', 'S', no uppercase H A F G I Q, then an 'R'. */
static bool rstos0_history(const char *h)
{
    size_t i = (h[0] == '^') ? 1 : 0;
    if (h[i] != 'S') {
        return false;
    }
    for (i++; h[i]; i++) {
        if (h[i] == 'R') {
            return true;
        }
        if (strchr("HAFGIQ", h[i])) {
            return false;
        }
    }
    return false;
}

tcpst_zeek_cs tcpst_zeek_conn_state_id(const tcpst_zeek *z)
{
    unsigned o = z->orig, r = o ^ 1u;
    uint8_t os = z->state[o], rs = z->state[r];
    bool o_inactive = os == TCPST_Z_INACTIVE || os == TCPST_Z_PARTIAL;
    bool r_inactive = rs == TCPST_Z_INACTIVE || rs == TCPST_Z_PARTIAL;

    if (rs == TCPST_Z_RESET) {
        if (os == TCPST_Z_SYN_SENT || os == TCPST_Z_SYN_ACK_SENT ||
            (os == TCPST_Z_RESET && tcpst__zeek_ep_size(z, o) == 0 &&
             tcpst__zeek_ep_size(z, r) == 0)) {
            return TCPST_ZCS_REJ;
        }
        return o_inactive ? TCPST_ZCS_RSTRH : TCPST_ZCS_RSTR;
    }
    if (os == TCPST_Z_RESET) {
        if (r_inactive) {
            return rstos0_history(z->hist) ? TCPST_ZCS_RSTOS0 : TCPST_ZCS_OTH;
        }
        return TCPST_ZCS_RSTO;
    }
    if (rs == TCPST_Z_CLOSED && os == TCPST_Z_CLOSED) {
        return TCPST_ZCS_SF;
    }
    if (os == TCPST_Z_CLOSED) {
        return r_inactive ? TCPST_ZCS_SH : TCPST_ZCS_S2;
    }
    if (rs == TCPST_Z_CLOSED) {
        return o_inactive ? TCPST_ZCS_SHR : TCPST_ZCS_S3;
    }
    if (os == TCPST_Z_SYN_SENT && rs == TCPST_Z_INACTIVE) {
        return TCPST_ZCS_S0;
    }
    if (os == TCPST_Z_ESTABLISHED && rs == TCPST_Z_ESTABLISHED) {
        return TCPST_ZCS_S1;
    }
    return TCPST_ZCS_OTH;
}

const char *tcpst_zeek_cs_name(tcpst_zeek_cs cs)
{
    static const char *const names[] = {
#define TCPST_X_ZCS(name) #name,
        TCPST_ZEEK_CONN_STATE_MAP(TCPST_X_ZCS)
#undef TCPST_X_ZCS
    };
    return (unsigned)cs < TCPST_ZCS__COUNT ? names[cs] : "OTH";
}

const char *tcpst_zeek_conn_state(const tcpst_zeek *z)
{
    return tcpst_zeek_cs_name(tcpst_zeek_conn_state_id(z));
}

uint32_t tcpst_zeek_orig_pkts(const tcpst_zeek *z)
{
    return z->ep[z->orig].pkts;
}

uint32_t tcpst_zeek_resp_pkts(const tcpst_zeek *z)
{
    return z->ep[z->orig ^ 1u].pkts;
}
