/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_reasm.c - libFuzzer target for IP fragment reassembly (ipreasm.h).
 *
 * Input: byte 0 configures the reassembler (bits 0-2: max_datagrams - 1, so
 * 1..8 and eviction is reachable; bits 3-7: timeout - 1 in seconds).  Then
 * records of [length: 2 bytes big-endian][time step][ctx] + length bytes
 * (cut short at the end of the input), each one IP fragment.  The clock
 * advances by time step * 250 ms (so the timeout is reachable within a few
 * records); a step of 255 also calls tcpst_reasm_expire.  Each fragment is
 * offered from a heap copy of exactly its length, so AddressSanitizer
 * catches any read past it.
 *
 * Checked: a returned datagram is a well-formed unfragmented packet whose
 * length field matches its length (IPv4: MF and offset clear, checksum
 * right unless the packet came in whole); all of it is readable; the
 * counters stay consistent.  Does not
 * check that the bytes are the right ones: check_ipreasm.c does that.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate/ipreasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STEP_NS (TCPST_NS_PER_SEC / 4)

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

/* `whole`: the packet came in unfragmented and is returned as it came,
 * checksum included (verified by nobody). */
static void check_datagram(const uint8_t *out, size_t outlen, bool whole)
{
    /* All of it must be readable: an exact copy makes ASan look at every byte. */
    uint8_t *copy = malloc(outlen ? outlen : 1);
    if (!copy) {
        return;
    }
    memcpy(copy, out, outlen);
    if (outlen < 20) {
        abort();
    }
    if ((copy[0] >> 4) == 4) {
        size_t ihl = (size_t)(copy[0] & 0x0F) * 4;
        if (ihl < 20 || ihl > outlen || be16(copy + 2) != outlen || (be16(copy + 6) & 0x3FFF)) {
            abort();
        }
        uint32_t sum = 0;
        for (size_t i = 0; i < ihl; i += 2) {
            sum += be16(copy + i);
        }
        while (sum >> 16) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        if (sum != 0xFFFF && !whole) {
            abort();
        }
    } else if ((copy[0] >> 4) == 6) {
        if (outlen < 40 || 40 + be16(copy + 4) != outlen) {
            abort();
        }
    } else {
        abort();
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    tcpst_reasm_config cfg;
    tcpst_reasm_config_default(&cfg);
    cfg.max_datagrams = 1u + (data[0] & 7u);
    cfg.timeout = (tcpst_time)(1 + (data[0] >> 3)) * TCPST_NS_PER_SEC;
    tcpst_reasm *r;
    if (tcpst_reasm_init(&r, &cfg, NULL) != 0) {
        abort();
    }
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    tcpst_time now = 0;
    uint64_t calls = 0, returned = 0;
    size_t pos = 1;
    while (size - pos >= 4) {
        size_t len = be16(data + pos);
        uint8_t step = data[pos + 2], ctx = data[pos + 3];
        pos += 4;
        if (len > size - pos) {
            len = size - pos;
        }
        now += (tcpst_time)step * STEP_NS;
        if (step == 255) {
            tcpst_reasm_expire(r, now);
        }
        uint8_t *frag = malloc(len ? len : 1);
        if (!frag) {
            break;
        }
        memcpy(frag, data + pos, len);
        pos += len;
        const uint8_t *out = (const uint8_t *)frag; /* must be reset by the call */
        size_t outlen = 12345;
        uint64_t unfragmented = st->unfragmented;
        int rc = tcpst_reasm_add(r, frag, len, ctx, now, &out, &outlen);
        bool whole = st->unfragmented != unfragmented;
        if (rc == 1 && whole && (frag[0] >> 4) == 4 && memcmp(out, frag, outlen) != 0) {
            abort(); /* an unfragmented IPv4 packet comes back unchanged */
        }
        free(frag); /* the reassembler must not keep a pointer to it */
        calls++;
        if (rc == 1) {
            returned++;
            check_datagram(out, outlen, whole);
        } else if (rc != 0 || out != NULL || outlen != 0 || whole) {
            abort();
        }
        /* Every call is counted; a reassembled datagram used at least two
         * fragments (offset 0 with more to come, and a last one). */
        if (st->fragments != calls || st->reassembled + st->unfragmented != returned ||
            st->malformed + st->unfragmented > calls ||
            2 * st->reassembled > calls - st->malformed - st->unfragmented) {
            abort();
        }
    }
    tcpst_reasm_free(r);
    return 0;
}
