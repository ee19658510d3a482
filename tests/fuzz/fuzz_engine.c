/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_engine.c - libFuzzer target for the engine (decode, flow table, state
 * machines, anomaly detection) with the real JSON report writer attached.
 *
 * Input format (all big-endian):
 *   byte 0      link type index (low nibble, see linktypes[]); bit 4 = split
 *               records the Zeek way; bit 5 = verify checksums; bit 6 = text
 *               format; bit 7 = pretty JSON
 *   then frames: u16 length, u8 time step, u8 snap, `length` frame bytes
 *               (clipped to what is left).
 * Time step t: 0..127 adds t ms, 128..191 adds (t-128)*10 s, 192..239 adds
 * (t-192) hours, 240..255 goes back (t-239) s, so idle expiry, time jumps
 * and out-of-order timestamps are all reachable.  snap != 0 makes the wire
 * length snap*4 bytes longer than the captured frame (a snaplen capture).
 * max_connections is 64 so eviction runs.  The report goes to /dev/null with
 * a --fail-on policy and a JUnit collector attached.  No pcap parsing here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate/engine.h"
#include "tcpstate/junit.h"
#include "tcpstate/limits.h"
#include "tcpstate/policy.h"
#include "tcpstate/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int linktypes[] = {0, 1, 10, 12, 14, 101, 108, 113, 228, 229, 276, 147 /* USER0 */};
#define NLINKTYPES (sizeof linktypes / sizeof linktypes[0])

#define MS   ((tcpst_time)1000000)
#define SEC  ((tcpst_time)1000000000)
#define HOUR (3600 * SEC)

static tcpst_time time_step(uint8_t t)
{
    if (t < 128) {
        return t * MS;
    }
    if (t < 192) {
        return (t - 128) * 10 * SEC;
    }
    if (t < 240) {
        return (t - 192) * HOUR;
    }
    return -(tcpst_time)(t - 239) * SEC;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t mode = data[0];
    int lt = linktypes[(mode & 0x0f) % NLINKTYPES];

    tcpst_error err = {0};
    tcpst_policy pol;
    tcpst_policy_init(&pol);
    if (tcpst_policy_add_fail_on(&pol, "close_wait_stuck,severity>=warning,retransmission>=3",
                                 &err) != 0) {
        abort();
    }
    tcpst_junit junit;
    tcpst_junit_init(&junit, &pol);
    tcpst_report_opts ropts = {
        .format = (mode & 0x40) ? "text" : "json", .pretty = (mode & 0x80) != 0, .policy = &pol};
    tcpst_report *rep = NULL;
    if (tcpst_report_open(&rep, "/dev/null", &ropts, &err) != 0) {
        abort();
    }
    tcpst_engine_config cfg;
    tcpst_engine_config_default(&cfg);
    cfg.max_connections = 64;
    cfg.split_zeek = (mode & 0x10) != 0;
    cfg.verify_checksums = (mode & 0x20) != 0;
    tcpst_engine eng;
    tcpst_receiver rpol = tcpst_policy_receiver(&pol), rjunit = tcpst_junit_receiver(&junit);
    tcpst_receiver rrep = tcpst_report_receiver(rep);
    if (tcpst_engine_init(&eng, &cfg, &err) != 0 || tcpst_engine_add_receiver(&eng, &rpol) != 0 ||
        tcpst_engine_add_receiver(&eng, &rjunit) != 0 ||
        tcpst_engine_add_receiver(&eng, &rrep) != 0) {
        abort();
    }

    tcpst_time ts = (tcpst_time)1700000000 * SEC;
    uint64_t frame = 0;
    size_t off = 1;
    while (size - off >= 4) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        ts += time_step(data[off + 2]);
        uint32_t extra = (uint32_t)data[off + 3] * 4;
        off += 4;
        if (len > size - off) {
            len = size - off;
        }
        /* A copy of exactly caplen bytes, so ASan sees any read past it. */
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) {
            break;
        }
        memcpy(buf, data + off, len);
        off += len;
        tcpst_engine_packet(&eng, lt, buf, (uint32_t)len, (uint32_t)len + extra, ts, ++frame);
        free(buf);
    }
    tcpst_engine_finish(&eng);

    tcpst_summary_result capture;
    tcpst_engine_summary(&eng, &capture);
    tcpst_report_meta meta = {.time_wait = cfg.conn.time_wait, .capture = &capture};
    if (tcpst_report_finish(rep, &eng.stats, &meta, &err) != 0) {
        abort();
    }
    tcpst_engine_fini(&eng);
    tcpst_junit_fini(&junit);
    tcpst_policy_fini(&pol);
    return 0;
}
