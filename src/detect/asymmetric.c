/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * asymmetric.c - asymmetric_encapsulation: the finding on a record whose two directions
 * came under different connection keys and were joined (track/join.c, the engine decides).
 *
 * An INFO finding, not a fault of either host: the capture point sees one direction tagged
 * or tunnelled and the other not (a SPAN port, a router-on-a-stick).  Its facts name each
 * direction's key by the id users know (the VLAN id, the VNI); the record has the layers
 * themselves (encap_by_sender, report/record.c).
 */
#include "tcpstate/detect.h"

/* The id of the innermost layer in the connection key on endpoint who's segments, -1 when
 * they carried none. */
static int64_t keyed_id(const tcpst_conn *c, unsigned who)
{
    const tcpst_encap *l;
    unsigned n = tcpst_conn_layers_of(c, who, &l);
    while (n-- > 0) {
        if (l[n].in_key) {
            return l[n].id;
        }
    }
    return -1;
}

void tcpst_detect_joined(tcpst_conn *c, tcpst_time ts, uint64_t frame)
{
    tcpst_finding *f = tcpst_findings_add(&c->findings, TCPST_A_ASYMMETRIC_ENCAPSULATION,
                                          TCPST_WHO_BOTH, ts, frame);
    if (!f) {
        return;
    }
    f->fact[0] = keyed_id(c, 0);
    f->fact[1] = keyed_id(c, 1);
}
