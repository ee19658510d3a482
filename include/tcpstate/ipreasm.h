/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipreasm.h - bounded IPv4/IPv6 fragment reassembly (RFC 791 3.2, RFC 8200 4.5).
 *
 * Tunnels (GTP-U, GRE, VXLAN) often fragment the OUTER packet, so the inner
 * TCP segment is only visible after reassembly.  Memory is fixed at init:
 * a bounded number of datagrams in progress, each at most 65535 bytes of
 * payload; when full, the oldest is dropped.  Fragments are matched on
 * (key ctx, version, src, dst, id[, protocol]).  Overlaps that carry the same
 * bytes are accepted; overlaps that disagree drop the datagram (an IDS must
 * not pick one of two stories, RFC 5722 for IPv6).  No allocation per packet.
 *
 * Rules, in the order they are applied to one fragment:
 *  - Malformed (dropped, counted in `malformed`): not IPv4/IPv6; IPv4 IHL < 5,
 *    total length < IHL or > `len`; IPv6 payload length 0 (jumbogram) or
 *    40 + payload length > `len`; an IPv6 header chain before the fragment
 *    header that is not made of at most TCPST_REASM_MAX_EXT hop-by-hop (first
 *    only), routing and destination options headers, or that runs past the
 *    packet; a fragment whose offset + length exceeds 65535; a non-last
 *    fragment whose length is 0 or not a multiple of 8 (RFC 8200 4.5).
 *  - Not a fragment at all (IPv4 MF clear and offset 0; IPv6 "atomic
 *    fragment", offset 0 and M clear, RFC 6946): returned at once as a whole
 *    packet (IPv6 without its fragment header) and counted in `unfragmented`;
 *    it never touches a datagram in progress (RFC 6946 4).
 *  - A datagram whose rebuilt packet would exceed 65535 bytes (IPv4 total
 *    length; IPv6 payload length, RFC 8200 4.5) is dropped: `too_big`.
 *  - Conflicts (the datagram is dropped and forgotten: `conflicts`): two
 *    last fragments with different ends; data beyond the end a last
 *    fragment set; overlapping bytes that differ.  IPv4 accepts overlaps of
 *    identical bytes (`overlaps`).  IPv6 follows RFC 5722 / RFC 8200 4.5:
 *    any overlap drops the datagram, except an exact duplicate (same offset,
 *    same length, same bytes), which RFC 8200 4.5 allows us to ignore
 *    (counted in `overlaps`) since the network duplicates packets.
 *  - Complete when the offset-0 fragment and the last fragment are present
 *    and no hole is left.  The offset-0 fragment's header is the output
 *    header (IPv6: the unfragmentable part, RFC 8200 4.5 "Next Header values
 *    ... only the value from the Offset zero fragment packet is used").
 *
 * Input checksums are not verified (offloads often leave them unset); the
 * IPv4 output header checksum is recomputed.
 */
#ifndef TCPSTATE_IPREASM_H
#define TCPSTATE_IPREASM_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstate/error.h"
#include "tcpstate/types.h"

/* Most IPv6 extension headers accepted before the fragment header (RFC 8200
 * 4.1 orders at most three there: hop-by-hop, destination options, routing). */
#define TCPST_REASM_MAX_EXT 4
/* Upper bound on max_datagrams, so slot indices and sizes cannot overflow. */
#define TCPST_REASM_MAX_DATAGRAMS 65536u

typedef struct tcpst_reasm tcpst_reasm;

typedef struct tcpst_reasm_config {
    uint32_t max_datagrams; /* in progress at once; default 64, 1..TCPST_REASM_MAX_DATAGRAMS;
                               each costs about 75 KiB, all reserved at init */
    tcpst_time timeout;     /* give up on a datagram this long after its first fragment;
                               default 30 s (Linux ipfrag_time); must be > 0 */
} tcpst_reasm_config;

void tcpst_reasm_config_default(tcpst_reasm_config *cfg);

typedef struct tcpst_reasm_stats {
    uint64_t fragments;    /* fragments offered (every call to tcpst_reasm_add) */
    uint64_t reassembled;  /* datagrams completed */
    uint64_t timed_out;    /* datagrams dropped incomplete after the timeout */
    uint64_t evicted;      /* datagrams dropped incomplete because the table was full */
    uint64_t overlaps;     /* fragments overlapping earlier data with the same bytes */
    uint64_t conflicts;    /* datagrams dropped for overlaps with different bytes */
    uint64_t too_big;      /* datagrams dropped: would exceed 65535 bytes */
    uint64_t malformed;    /* fragments dropped: bad length/offset, or not fully captured */
    uint64_t unfragmented; /* offered packets that were whole (see above), returned as is */
} tcpst_reasm_stats;

/*
 * Reserves all memory: max_datagrams slots of 65535 payload bytes plus room
 * for the header, coverage bitmaps, a hash index.  `cfg` NULL means defaults.
 * Returns 0, TCPST_EUSAGE for a bad config, TCPST_ENOMEM.
 */
__attribute__((warn_unused_result)) int
tcpst_reasm_init(tcpst_reasm **out, const tcpst_reasm_config *cfg, tcpst_error *err);
/* Frees everything; NULL is fine.  Any *out from tcpst_reasm_add dies with it. */
void tcpst_reasm_free(tcpst_reasm *r);

/*
 * Offer one fragment.  `ip` points at its IP header (IPv4, or IPv6 with its
 * extension headers up to and including the fragment header); `len` bytes
 * are readable and must cover the whole fragment per its IP length field
 * (else it is dropped as malformed; bytes past the IP length, such as
 * Ethernet padding, are ignored).  `ctx` separates address spaces (the
 * segment's key_ctx).  Returns 1 with *out, *outlen set to the complete
 * datagram as an unfragmented packet starting at its IP header (IPv4: MF and
 * offset cleared, total length and header checksum rewritten; IPv6: fragment
 * header removed, payload length and the previous next-header rewritten),
 * borrowed from the reassembler and valid until the next call to
 * tcpst_reasm_add or tcpst_reasm_free; 0 when the fragment is held or dropped
 * (see stats), with *out NULL and *outlen 0.  The fragment bytes are copied,
 * never kept.  Datagrams older than the timeout at `now` are dropped first.
 */
int tcpst_reasm_add(tcpst_reasm *r, const uint8_t *ip, size_t len, uint32_t ctx, tcpst_time now,
                    const uint8_t **out, size_t *outlen);

/*
 * Drop datagrams older than the timeout at `now`.  Datagrams age in the
 * order they were started; with packet time running backwards a datagram
 * started later but stamped earlier waits for the ones before it.
 */
void tcpst_reasm_expire(tcpst_reasm *r, tcpst_time now);

const tcpst_reasm_stats *tcpst_reasm_get_stats(const tcpst_reasm *r);

#endif
