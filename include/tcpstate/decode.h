/*
 * decode.h - link layer, IPv4/IPv6 and TCP header decoding.
 *
 * Input: one captured frame (borrowed bytes, caplen, wire length, link type).
 * Output: a flat tcpst_segment filled by value, plus a status saying what the
 * frame was.  The decoder never allocates, never keeps a pointer into the
 * frame, and never touches flow state; every byte read is bounds-checked
 * against caplen.  Payload length comes from the IP length fields, not from
 * the captured bytes, so snapped captures (e.g. snaplen 96) still track state.
 *
 * Link types: Ethernet (802.1Q/802.1ad/QinQ tags), Linux cooked v1 and v2,
 * raw IPv4/IPv6 (LINKTYPE_RAW, IPV4, IPV6), BSD loopback/NULL, OpenBSD LOOP, and
 * FDDI (LLC/SNAP).
 */
#ifndef TCPSTATE_DECODE_H
#define TCPSTATE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstate/tcpopt.h"
#include "tcpstate/types.h"

/*
 * Outcomes.  OK is a TCP segment; NOT_IP / NOT_TCP are valid frames that carry
 * something else (counted as non-TCP, not a problem); the rest are decode
 * problems, counted per reason in the report under the given name.
 */
#define TCPST_DECODE_STATUS_MAP(X)                                                                 \
    X(OK, "ok")                                                                                    \
    X(NOT_IP, "not_ip")                                                                            \
    X(NOT_TCP, "not_tcp")                                                                          \
    X(TRUNC_LINK, "truncated_link_header")                                                         \
    X(BAD_LINK, "bad_link_header")                                                                 \
    X(TRUNC_IP, "truncated_ip_header")                                                             \
    X(BAD_IP_VERSION, "bad_ip_version")                                                            \
    X(BAD_IP_HLEN, "bad_ip_header_length")                                                         \
    X(BAD_IP_LEN, "bad_ip_total_length")                                                           \
    X(IP_FRAGMENT, "ip_fragment")                                                                  \
    X(IPV6_EXT_TRUNC, "truncated_ipv6_extension")                                                  \
    X(IPV6_EXT_LIMIT, "ipv6_extension_chain_too_long")                                             \
    X(TRUNC_TCP, "truncated_tcp_header")                                                           \
    X(BAD_TCP_HLEN, "bad_tcp_header_length")                                                       \
    X(VLAN_DEPTH, "vlan_depth_exceeded")

typedef enum tcpst_decode_status {
#define TCPST_X_ENUM(name, str) TCPST_DEC_##name,
    TCPST_DECODE_STATUS_MAP(TCPST_X_ENUM)
#undef TCPST_X_ENUM
        TCPST_DEC__COUNT
} tcpst_decode_status;

/* Stable snake_case name of a status (used as report key). */
const char *tcpst_decode_status_name(tcpst_decode_status st);

/* Is this status a decode problem (as opposed to OK or a non-TCP frame)? */
static inline int tcpst_decode_is_problem(tcpst_decode_status st)
{
    return st != TCPST_DEC_OK && st != TCPST_DEC_NOT_IP && st != TCPST_DEC_NOT_TCP;
}

/* Link types (LINKTYPE_* numbers as stored in pcap files). */
enum tcpst_linktype {
    TCPST_LT_NULL = 0,
    TCPST_LT_ETHERNET = 1,
    TCPST_LT_FDDI = 10, /* IP in LLC/SNAP only (the Zeek corpus has llc.pcap) */
    TCPST_LT_RAW = 101,
    TCPST_LT_LOOP = 108,
    TCPST_LT_LINUX_SLL = 113,
    TCPST_LT_IPV4 = 228,
    TCPST_LT_IPV6 = 229,
    TCPST_LT_LINUX_SLL2 = 276,
    /* Some platforms write the DLT value 12 (or 14) for raw IP. */
    TCPST_LT_DLT_RAW_12 = 12,
    TCPST_LT_DLT_RAW_14 = 14
};

/* Does the decoder understand this link type? */
int tcpst_decode_linktype_supported(int linktype);

#define TCPST_MAX_VLAN      2  /* tags recorded; deeper stacks are still skipped up to 8 */
#define TCPST_MAX_VLAN_SKIP 8  /* a 9th stacked tag gives TCPST_DEC_VLAN_DEPTH */
#define TCPST_MAX_IPV6_EXT  16 /* a 17th IPv6 extension header gives IPV6_EXT_LIMIT */

/* IP-level facts kept for anomaly detection. */
enum tcpst_ipflag {
    TCPST_IP_HAS_OPTIONS = 1u << 0, /* IPv4 options present */
    TCPST_IP_HAS_EXTHDR = 1u << 1,  /* IPv6 extension headers present */
    TCPST_IP_DF = 1u << 2,
    TCPST_IP_PAYLOAD_TRUNC = 1u << 3, /* payload not fully captured (snaplen) */
    TCPST_IP_LEN_FROM_FRAME = 1u << 4 /* IPv4 total length 0 (TSO capture): frame length used */
};

typedef struct tcpst_segment {
    tcpst_addr src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t flags;  /* TCPST_FIN.. TCPST_AE */
    uint16_t window; /* raw, unscaled */
    uint16_t urgptr;
    uint16_t checksum;
    uint8_t ip_version;            /* 4 or 6 */
    uint8_t ttl;                   /* TTL / hop limit */
    uint8_t ipflags;               /* TCPST_IP_* bits */
    uint8_t tcp_hlen;              /* bytes, 20..60 */
    uint8_t nvlan;                 /* tags seen (may exceed TCPST_MAX_VLAN) */
    uint16_t vlan[TCPST_MAX_VLAN]; /* outermost first, 12-bit ids */
    uint32_t payload_len;          /* TCP payload bytes per the IP length fields */
    uint32_t payload_caplen;       /* of those, bytes actually captured */
    uint32_t ip_len;               /* IP packet length per header (v4 total, v6 40+payload) */
    uint16_t l3_off, l4_off;       /* where the IP and TCP headers start in the frame */
    tcpst_tcpopts opts;
} tcpst_segment;

/*
 * Decode one frame.  `caplen` bytes are readable at `data`; `wirelen` is the
 * original length (a value below caplen is raised to caplen).  On TCPST_DEC_OK
 * every field of *seg is set; on other results *seg is partially filled
 * (addresses may be set for IP problems) and must not be tracked.
 *
 * Which status when (first match wins, layer by layer):
 *  - link: header shorter than its fixed size -> TRUNC_LINK; unknown link type
 *    -> BAD_LINK; ethertype/AF other than IPv4/IPv6, or an 802.3 length field
 *    -> NOT_IP; more than TCPST_MAX_VLAN_SKIP tags -> VLAN_DEPTH.  Ethernet
 *    also unwraps Cisco FabricPath (ethertype 0x8903, as Zeek does).  NULL
 *    accepts the AF in either byte order (AF_INET 2; AF_INET6 24, 28, 30);
 *    LOOP is network byte order.  SLL/SLL2 may carry VLAN tags after the
 *    header.  FDDI needs LLC/SNAP (AA AA 03, OUI 0 or 0xF8), else NOT_IP.
 *  - no byte of IP captured -> TRUNC_IP; version nibble not 4/6 or not the one
 *    the link announced -> BAD_IP_VERSION.
 *  - IPv4: IHL < 5 -> BAD_IP_HLEN; fixed header cut -> TRUNC_IP; total length
 *    < 20 (incl. 0 from TSO captures) -> BAD_IP_LEN; IHL*4 > total length ->
 *    BAD_IP_HLEN; total length > wire length -> BAD_IP_LEN; options cut by the
 *    snaplen -> TRUNC_IP; MF or offset != 0 -> IP_FRAGMENT for protocol 6,
 *    NOT_TCP otherwise; protocol != 6 -> NOT_TCP.
 *  - IPv6: fixed header cut -> TRUNC_IP; payload length beyond the wire
 *    length, or 0 with next header TCP or hop-by-hop (TSO, jumbograms: not
 *    decoded) -> BAD_IP_LEN; 0 with another next header is an empty packet
 *    (usually NOT_TCP).  Extension headers 0, 43, 44, 51, 60, 135, 139, 140
 *    are walked; more than TCPST_MAX_IPV6_EXT -> IPV6_EXT_LIMIT; one not
 *    captured or running past the payload length -> IPV6_EXT_TRUNC; a
 *    fragment header with offset != 0 or M set -> IP_FRAGMENT (NOT_TCP if its
 *    next header is clearly not TCP); an atomic fragment is walked through.
 *    59, ESP and any non-TCP upper layer -> NOT_TCP.
 *  - TCP: data offset < 5, or header longer than the IP payload ->
 *    BAD_TCP_HLEN; header (with options) not fully captured -> TRUNC_TCP.
 * payload_len = IP payload - TCP header; payload_caplen = min(captured bytes
 * after the header, payload_len), with TCPST_IP_PAYLOAD_TRUNC when smaller.
 */
tcpst_decode_status tcpst_decode(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
                                 tcpst_segment *seg);

/* Checksum verification outcome (RFC 791 3.1, RFC 9293 3.1, RFC 8200 8.1). */
typedef enum tcpst_csum {
    TCPST_CSUM_OK = 0,
    TCPST_CSUM_BAD_IP,      /* IPv4 header checksum wrong */
    TCPST_CSUM_BAD_TCP,     /* TCP checksum wrong */
    TCPST_CSUM_UNVERIFIABLE /* segment not fully captured (snaplen) */
} tcpst_csum;

/*
 * Verify the IPv4 header and TCP checksums of a frame that tcpst_decode()
 * returned TCPST_DEC_OK for (same bytes, same `seg`).
 */
tcpst_csum tcpst_decode_checksum(const uint8_t *data, size_t caplen, const tcpst_segment *seg);

#endif
