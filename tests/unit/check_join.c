/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_join.c - asymmetric encapsulation: the two directions of one connection under two
 * connection keys (a VLAN tag or a Geneve VNI on one direction only) joined into one
 * record, and the cases that must stay apart: the same inner 4-tuple in two VNIs with both
 * directions in each, sequence numbers that do not fit, a second key in the same direction,
 * a record that already has both directions.  --ignore-encap-key keeps its meaning: one key
 * for all, so nothing to join.
 *
 * Frames are built with pb_build_encap and go through tcpst_engine_packet(), as in a run.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ckrun.h"
#include "pktbuild.h"
#include "testrec.h"

#include "tcpstate/engine.h"
#include "tcpstate/report.h"

#define SEC  TCPST_NS_PER_SEC
#define CLI  "198.18.0.1"
#define SRV  "198.18.0.2"
#define CISN 1000u
#define SISN 5000u
#define S(x) TCPST_##x

/* ---- the engine and what it wrote out ---- */

#define MAXREC 8
static tcpst_conn rec[MAXREC];
static tcpst_finding rec_findings[MAXREC][TCPST_FINDINGS_MAX];
static char *rec_json[MAXREC];
static int nrec;
static tcpst_engine eng;
static uint64_t frame;

static void collect(void *ctx, const tcpst_conn *c)
{
    (void)ctx;
    ck_assert_int_lt(nrec, MAXREC);
    rec[nrec] = *c; /* c is valid during the call only: its findings too */
    tcpst_findings_copy_to(&rec[nrec].findings, &c->findings, rec_findings[nrec]);
    rec_json[nrec] = tcpst_report_conn_text(c);
    nrec++;
}

static void start(bool key_encap)
{
    tcpst_engine_config cfg;
    tcpst_engine_config_default(&cfg);
    cfg.max_connections = 64;
    cfg.decode.key_encap = key_encap;
    for (int i = 0; i < nrec; i++) {
        free(rec_json[i]);
    }
    nrec = 0;
    frame = 0;
    ck_assert_int_eq(test_engine_init(&eng, &cfg, collect, NULL), 0);
}

static void finish(void)
{
    tcpst_engine_finish(&eng);
    tcpst_engine_fini(&eng);
}

/* How a direction is carried: no layers, a VLAN tag, or Geneve (outer IPv4/UDP 6081). */
typedef enum { PLAIN, VLAN, GENEVE } carry;

static void send_via(carry how, uint32_t id, int c2s, uint16_t flags, uint32_t seq, uint32_t ack,
                     uint32_t len)
{
    static uint8_t buf[4096]; /* the builder wants 2048 bytes of headroom */
    const pb_seg to_server = {.src = CLI, .dst = SRV, .sport = 40000, .dport = 80, .win = 1000};
    pb_seg s = c2s ? to_server : pb_reverse(&to_server);
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.payload_len = len;
    pb_layer l[4];
    size_t n = 0;
    memset(l, 0, sizeof l);
    if (how == VLAN) {
        l[n++] = (pb_layer){.kind = PB_VLAN, .id = id};
    } else if (how == GENEVE) {
        /* Outer addresses of the tunnel endpoints, by direction. */
        l[n++] = (pb_layer){.kind = PB_IP,
                            .src = c2s ? "198.19.0.1" : "198.19.0.2",
                            .dst = c2s ? "198.19.0.2" : "198.19.0.1"};
        l[n++] = (pb_layer){.kind = PB_UDP, .sport = 50000, .dport = 6081};
        l[n++] = (pb_layer){.kind = PB_GENEVE, .id = id};
        l[n++] = (pb_layer){.kind = PB_ETH};
    }
    size_t flen = pb_build_encap(buf, sizeof buf, TCPST_LT_ETHERNET, l, n, &s, NULL, NULL);
    ck_assert_uint_gt(flen, 0);
    frame++;
    tcpst_engine_packet(&eng, TCPST_LT_ETHERNET, buf, (uint32_t)flen, (uint32_t)flen,
                        (tcpst_time)frame * SEC / 100, frame);
}

/*
 * A connection whose client segments come `c`-carried (id `cid`), the server's `s`-carried:
 * handshake, server data of which the first segment is lost after the capture point, three
 * duplicate ACKs from the client, the server's repair, then a close.  The repair is `fast`
 * only if the duplicate ACKs are in the same record.
 */
static void lossy_conn(carry c, uint32_t cid, carry s, uint32_t sid)
{
    send_via(c, cid, 1, S(SYN), CISN, 0, 0);
    send_via(s, sid, 0, S(SYN) | S(ACK), SISN, CISN + 1, 0);
    send_via(c, cid, 1, S(ACK), CISN + 1, SISN + 1, 0);
    send_via(c, cid, 1, S(ACK) | S(PSH), CISN + 1, SISN + 1, 50);
    for (uint32_t k = 0; k < 4; k++) {
        send_via(s, sid, 0, S(ACK), SISN + 1 + 100 * k, CISN + 51, 100);
        if (k > 0) {
            send_via(c, cid, 1, S(ACK), CISN + 51, SISN + 1, 0); /* duplicate ACK */
        }
    }
    send_via(s, sid, 0, S(ACK), SISN + 1, CISN + 51, 100); /* the repair */
    send_via(c, cid, 1, S(ACK), CISN + 51, SISN + 401, 0);
    send_via(c, cid, 1, S(FIN) | S(ACK), CISN + 51, SISN + 401, 0);
    send_via(s, sid, 0, S(FIN) | S(ACK), SISN + 401, CISN + 52, 0);
    send_via(c, cid, 1, S(ACK), CISN + 52, SISN + 402, 0);
}

static const tcpst_finding *finding(const tcpst_conn *c, tcpst_anomaly_type t)
{
    for (unsigned i = 0; i < c->findings.n; i++) {
        if (c->findings.f[i].type == t) {
            return &c->findings.f[i];
        }
    }
    return NULL;
}

/* The one record of a joined lossy_conn: both sides, the join flagged, the repair fast. */
static void check_joined(int64_t cid, int64_t sid)
{
    ck_assert_int_eq(nrec, 1);
    const tcpst_conn *c = &rec[0];
    ck_assert_uint_eq(c->ep[0].packets, 9);
    ck_assert_uint_eq(c->ep[1].packets, 7);
    ck_assert_int_eq(c->ep[0].state, TCPST_TIME_WAIT);
    ck_assert_int_eq(c->ep[1].state, TCPST_CLOSED);
    ck_assert_uint_eq(c->joined, 2); /* the server's segments carry the second key */
    const tcpst_finding *a = finding(c, TCPST_A_ASYMMETRIC_ENCAPSULATION);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->who, TCPST_WHO_BOTH);
    ck_assert_uint_eq(a->first_frame, 2); /* the SYN-ACK */
    ck_assert_int_eq(a->fact[0], cid);
    ck_assert_int_eq(a->fact[1], sid);
    ck_assert_int_eq(tcpst_anomaly_severity(TCPST_A_ASYMMETRIC_ENCAPSULATION), TCPST_SEV_INFO);
    const tcpst_finding *r = finding(c, TCPST_A_RETRANSMISSION);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->fact[1], 1); /* fast */
    ck_assert_int_eq(r->fact[0], 0); /* not timeout */
    ck_assert_ptr_nonnull(strstr(rec_json[0], "\"encap_by_sender\":{\"client\":["));
}

START_TEST(vlan_one_direction_joined)
{
    /* Client to server tagged VLAN 3136, replies untagged (a SPAN port). */
    start(true);
    lossy_conn(VLAN, 3136, PLAIN, 0);
    finish();
    check_joined(3136, -1);
    ck_assert_ptr_nonnull(strstr(rec_json[0], "\"encap_by_sender\":{\"client\":[{\"type\":\"vlan\","
                                              "\"id\":3136,\"in_key\":true}],\"server\":[]}"));
    ck_assert_uint_eq(rec[0].nvlan, 1); /* vlan/encap stay the first segment's */
}
END_TEST

START_TEST(vlans_both_directions_joined)
{
    /* A router-on-a-stick: VLAN 81 one way, VLAN 80 back (the Zeek corpus' ldap trace). */
    start(true);
    lossy_conn(VLAN, 81, VLAN, 80);
    finish();
    check_joined(81, 80);
}
END_TEST

START_TEST(geneve_one_direction_joined)
{
    start(true);
    lossy_conn(GENEVE, 5001, PLAIN, 0);
    finish();
    check_joined(5001, -1);
    ck_assert_ptr_nonnull(
        strstr(rec_json[0], "{\"type\":\"geneve\",\"vni\":5001,\"in_key\":true}"));
}
END_TEST

START_TEST(server_first_joined)
{
    /* The tagged direction is the server's: the record starts at the untagged SYN, the
     * SYN-ACK joins it. */
    start(true);
    lossy_conn(PLAIN, 0, VLAN, 7);
    finish();
    check_joined(-1, 7);
}
END_TEST

START_TEST(ignore_encap_key_is_one_record)
{
    /* One key for all: one record from the start, nothing joined, the repair fast too. */
    start(false);
    lossy_conn(VLAN, 3136, PLAIN, 0);
    finish();
    ck_assert_int_eq(nrec, 1);
    ck_assert_uint_eq(rec[0].joined, 0);
    ck_assert_ptr_null(finding(&rec[0], TCPST_A_ASYMMETRIC_ENCAPSULATION));
    ck_assert_int_eq(finding(&rec[0], TCPST_A_RETRANSMISSION)->fact[1], 1);
    ck_assert_ptr_null(strstr(rec_json[0], "encap_by_sender"));
}
END_TEST

START_TEST(distinct_vnis_stay_apart)
{
    /* The same inner 4-tuple in VNI 100 and VNI 200, both directions in each, even with the
     * same ISNs (cloned hosts): the second VNI's SYN finds a record that has both sides. */
    start(true);
    send_via(GENEVE, 100, 1, S(SYN), CISN, 0, 0);
    send_via(GENEVE, 100, 0, S(SYN) | S(ACK), SISN, CISN + 1, 0);
    send_via(GENEVE, 200, 1, S(SYN), CISN, 0, 0);
    send_via(GENEVE, 100, 1, S(ACK), CISN + 1, SISN + 1, 0);
    send_via(GENEVE, 200, 0, S(SYN) | S(ACK), SISN, CISN + 1, 0);
    send_via(GENEVE, 200, 1, S(ACK), CISN + 1, SISN + 1, 0);
    finish();
    ck_assert_int_eq(nrec, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(rec[i].joined, 0);
        ck_assert_uint_eq(rec[i].ep[0].packets, 2);
        ck_assert_uint_eq(rec[i].ep[1].packets, 1);
        ck_assert_int_eq(rec[i].ep[0].state, TCPST_ESTABLISHED);
        ck_assert_ptr_null(finding(&rec[i], TCPST_A_ASYMMETRIC_ENCAPSULATION));
    }
    ck_assert_uint_ne(rec[0].key_ctx, rec[1].key_ctx);
}
END_TEST

START_TEST(two_sided_record_not_joined)
{
    /* Both directions under VLAN 10; an untagged segment of the 4-tuple that would fit is
     * another connection's, not a third direction. */
    start(true);
    send_via(VLAN, 10, 1, S(SYN), CISN, 0, 0);
    send_via(VLAN, 10, 0, S(SYN) | S(ACK), SISN, CISN + 1, 0);
    send_via(PLAIN, 0, 0, S(ACK), SISN + 1, CISN + 1, 0);
    finish();
    ck_assert_int_eq(nrec, 2);
    ck_assert_uint_eq(rec[0].joined, 0);
    ck_assert_uint_eq(rec[1].joined, 0);
}
END_TEST

START_TEST(contradicting_sequence_not_joined)
{
    /* The untagged SYN-ACK acks something else than the tagged SYN's ISN + 1. */
    start(true);
    send_via(VLAN, 10, 1, S(SYN), CISN, 0, 0);
    send_via(PLAIN, 0, 0, S(SYN) | S(ACK), SISN, CISN + 77, 0);
    finish();
    ck_assert_int_eq(nrec, 2);
    ck_assert_uint_eq(rec[0].joined + rec[1].joined, 0);
    /* Mid-stream: the untagged ACK fits what the tagged side sent, but its sequence number is
     * far from what the tagged side acknowledged. */
    start(true);
    send_via(VLAN, 10, 1, S(ACK) | S(PSH), 70000, 900000, 100);
    send_via(PLAIN, 0, 0, S(ACK), 900000 + (1u << 25), 70100, 0);
    finish();
    ck_assert_int_eq(nrec, 2);
    ck_assert_uint_eq(rec[0].joined + rec[1].joined, 0);
}
END_TEST

START_TEST(same_direction_not_joined)
{
    /* A second key on the same direction is no reply: two one-sided records. */
    start(true);
    send_via(VLAN, 10, 1, S(SYN), CISN, 0, 0);
    send_via(VLAN, 20, 1, S(ACK), CISN + 1, SISN + 1, 0);
    finish();
    ck_assert_int_eq(nrec, 2);
    ck_assert_uint_eq(rec[0].joined + rec[1].joined, 0);
}
END_TEST

START_TEST(midstream_joined)
{
    /* Picked up mid-stream: tagged client data, then an untagged server ACK of it whose
     * sequence number is what the client acknowledged.  Later segments of both keys, a
     * third key excepted, reach the one record. */
    start(true);
    send_via(VLAN, 10, 1, S(ACK) | S(PSH), 70000, 900000, 100);
    send_via(PLAIN, 0, 0, S(ACK), 900000, 70100, 0);
    send_via(VLAN, 10, 1, S(ACK) | S(PSH), 70100, 900000, 100);
    send_via(PLAIN, 0, 0, S(ACK) | S(PSH), 900000, 70200, 10);
    send_via(VLAN, 30, 0, S(ACK), 900010, 70200, 0);
    finish();
    ck_assert_int_eq(nrec, 2);
    ck_assert_uint_eq(rec[0].joined, 2);
    ck_assert_uint_eq(rec[0].ep[0].packets, 2);
    ck_assert_uint_eq(rec[0].ep[1].packets, 2);
    ck_assert_uint_eq(rec[0].roles_inferred, 1);
    ck_assert_uint_eq(rec[1].joined, 0); /* VLAN 30: the joined record is two-sided */
    ck_assert_uint_eq(rec[1].ep[0].packets + rec[1].ep[1].packets, 1);
}
END_TEST

START_TEST(new_connection_after_join)
{
    /* A joined connection closes; a new SYN on the 4-tuple starts a new record, which the
     * untagged SYN-ACK joins again. */
    start(true);
    lossy_conn(VLAN, 3136, PLAIN, 0);
    send_via(VLAN, 3136, 1, S(SYN), CISN + 100000, 0, 0);
    send_via(PLAIN, 0, 0, S(SYN) | S(ACK), SISN + 100000, CISN + 100001, 0);
    send_via(VLAN, 3136, 1, S(ACK), CISN + 100001, SISN + 100001, 0);
    finish();
    ck_assert_int_eq(nrec, 2);
    ck_assert_uint_eq(rec[0].joined, 2);
    ck_assert_uint_eq(rec[1].joined, 2);
    ck_assert_uint_eq(rec[1].ep[1].packets, 1);
    ck_assert_int_eq(rec[1].ep[0].state, TCPST_ESTABLISHED);
    ck_assert_ptr_nonnull(finding(&rec[1], TCPST_A_ASYMMETRIC_ENCAPSULATION));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("join");
    TCase *t = tcase_create("asymmetric");
    tcase_add_test(t, vlan_one_direction_joined);
    tcase_add_test(t, vlans_both_directions_joined);
    tcase_add_test(t, geneve_one_direction_joined);
    tcase_add_test(t, server_first_joined);
    tcase_add_test(t, ignore_encap_key_is_one_record);
    tcase_add_test(t, distinct_vnis_stay_apart);
    tcase_add_test(t, two_sided_record_not_joined);
    tcase_add_test(t, contradicting_sequence_not_joined);
    tcase_add_test(t, same_direction_not_joined);
    tcase_add_test(t, midstream_joined);
    tcase_add_test(t, new_connection_after_join);
    suite_add_tcase(s, t);
    return ckrun(s);
}
