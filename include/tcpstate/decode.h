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
 * raw IPv4/IPv6 (LINKTYPE_RAW, IPV4, IPV6), BSD loopback/NULL and OpenBSD LOOP.
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
#define TCPST_DECODE_STATUS_MAP(X)                                                               \
    X(OK, "ok")                                                                                  \
    X(NOT_IP, "not_ip")                                                                          \
    X(NOT_TCP, "not_tcp")                                                                        \
    X(TRUNC_LINK, "truncated_link_header")                                                       \
    X(BAD_LINK, "bad_link_header")                                                               \
    X(TRUNC_IP, "truncated_ip_header")                                                           \
    X(BAD_IP_VERSION, "bad_ip_version")                                                          \
    X(BAD_IP_HLEN, "bad_ip_header_length")                                                       \
    X(BAD_IP_LEN, "bad_ip_total_length")                                                         \
    X(IP_FRAGMENT, "ip_fragment")                                                                \
    X(IPV6_EXT_TRUNC, "truncated_ipv6_extension")                                                \
    X(IPV6_EXT_LIMIT, "ipv6_extension_chain_too_long")                                           \
    X(TRUNC_TCP, "truncated_tcp_header")                                                         \
    X(BAD_TCP_HLEN, "bad_tcp_header_length")                                                     \
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

#define TCPST_MAX_VLAN 2 /* tags recorded; deeper stacks are still skipped up to 8 */

/* IP-level facts kept for anomaly detection. */
enum tcpst_ipflag {
    TCPST_IP_HAS_OPTIONS = 1u << 0, /* IPv4 options present */
    TCPST_IP_HAS_EXTHDR = 1u << 1,  /* IPv6 extension headers present */
    TCPST_IP_DF = 1u << 2,
    TCPST_IP_PAYLOAD_TRUNC = 1u << 3 /* payload not fully captured (snaplen) */
};

typedef struct tcpst_segment {
    tcpst_addr src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t flags;  /* TCPST_FIN.. TCPST_AE */
    uint16_t window; /* raw, unscaled */
    uint16_t urgptr;
    uint16_t checksum;
    uint8_t ip_version; /* 4 or 6 */
    uint8_t ttl;        /* TTL / hop limit */
    uint8_t ipflags;    /* TCPST_IP_* bits */
    uint8_t tcp_hlen;   /* bytes, 20..60 */
    uint8_t nvlan;      /* tags seen (may exceed TCPST_MAX_VLAN) */
    uint16_t vlan[TCPST_MAX_VLAN]; /* outermost first, 12-bit ids */
    uint32_t payload_len;  /* TCP payload bytes per the IP length fields */
    uint32_t payload_caplen; /* of those, bytes actually captured */
    uint32_t ip_len;       /* IP packet length per header (v4 total, v6 40+payload) */
    tcpst_tcpopts opts;
} tcpst_segment;

/*
 * Decode one frame.  `caplen` bytes are readable at `data`; `wirelen` is the
 * original length.  On TCPST_DEC_OK every field of *seg is set; on other
 * results *seg is partially filled (addresses may be set for IP problems) and
 * must not be tracked.
 */
tcpst_decode_status tcpst_decode(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
                                 tcpst_segment *seg);

#endif
