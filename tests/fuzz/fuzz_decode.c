/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_decode.c - libFuzzer target for the frame decoder and checksum check.
 *
 * Input: byte 0 picks the link type (one of the supported LINKTYPE_* values
 * or an unsupported one), the rest is the frame.  The frame is decoded whole
 * and again snapped to a shorter caplen (derived from its last byte), each
 * time from a heap copy of exactly caplen bytes so that AddressSanitizer
 * catches any read past caplen.  Checksums are verified for OK results.
 * Does not track state: that is fuzz_engine's job.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_engine's twelve (make_corpus.py's seeds say which by index), then the rest of the
 * decoder's table. */
static const int linktypes[] = {
    0,   1,   10,  12,  14,  101, 108, 113, 228, 229, 276, 147 /* USER0 */, 9, 50, 51, 104, 239,
    105, 127, 192, 119, 163, 117, 109, 129, 178, 242, 197};
#define NLINKTYPES (sizeof linktypes / sizeof linktypes[0])

static void decode_copy(int lt, const uint8_t *frame, size_t caplen, size_t wirelen)
{
    /* Exactly caplen bytes (1 for an empty frame: malloc(0) may be NULL). */
    uint8_t *buf = malloc(caplen ? caplen : 1);
    if (!buf) {
        return;
    }
    if (caplen) {
        memcpy(buf, frame, caplen);
    }
    tcpst_segment seg;
    tcpst_decode_status st = tcpst_decode(lt, buf, caplen, wirelen, &seg);
    if (st == TCPST_DEC_OK) {
        (void)tcpst_decode_checksum(buf, caplen, &seg);
        /* The decoder's promises about an OK segment. */
        if (seg.payload_caplen > seg.payload_len || seg.tcp_hlen < 20 || seg.tcp_hlen > 60 ||
            (size_t)seg.l4_off + seg.tcp_hlen > caplen) {
            abort();
        }
    }
    (void)tcpst_decode_status_name(st);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int lt = linktypes[data[0] % NLINKTYPES];
    const uint8_t *frame = data + 1;
    size_t len = size - 1;
    decode_copy(lt, frame, len, len);
    if (len > 0) {
        /* Snapped: fewer bytes captured than were on the wire. */
        size_t snap = frame[len - 1] % len;
        decode_copy(lt, frame, snap, len);
    }
    return 0;
}
