/* SPDX-License-Identifier: BSD-3-Clause */
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
 * raw IPv4/IPv6 (LINKTYPE_RAW, IPV4, IPV6), BSD loopback/NULL, OpenBSD LOOP,
 * FDDI (LLC/SNAP), PPP, PPP_SERIAL, PPP_ETHER, Cisco HDLC, Linux NFLOG, 802.11
 * data frames (plain, radiotap, PPI, Prism and AVS headers), OpenBSD PFLOG and
 * ENC, Linux ARCnet, Juniper Ethernet, IP over InfiniBand and Endace ERF.
 *
 * Encapsulations (docs/encapsulations.md), followed to the innermost TCP
 * segment and recorded in seg->encap[]: VLAN tags, 802.3 LLC/SNAP, MPLS (with
 * or without pseudowire control word), PPPoE sessions, 802.1ah PBB, Cisco
 * FabricPath, VN-Tag, IP-in-IP (4in4, 6in4, 4in6, 6in6), GRE (RFC 2784/2890,
 * PPTP's version 1, ERSPAN I/II/III, GRE-in-UDP), VXLAN, Geneve, GTP-U,
 * Teredo and AYIYA.
 */
#ifndef TCPSTATE_DECODE_H
#define TCPSTATE_DECODE_H

#include <stdbool.h>
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
    X(VLAN_DEPTH, "vlan_depth_exceeded")                                                           \
    X(ENCAP_DEPTH, "encapsulation_depth_exceeded")                                                 \
    X(TRUNC_ENCAP, "truncated_encapsulation_header")                                               \
    X(BAD_ENCAP, "bad_encapsulation_header")                                                       \
    X(ENCRYPTED, "encrypted_frame")

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

/* Did the frame end inside a header?  With a frame captured short of its wire length, that
 * is the snap length's doing. */
static inline int tcpst_decode_is_truncation(tcpst_decode_status st)
{
    return st == TCPST_DEC_TRUNC_LINK || st == TCPST_DEC_TRUNC_IP ||
           st == TCPST_DEC_IPV6_EXT_TRUNC || st == TCPST_DEC_TRUNC_TCP ||
           st == TCPST_DEC_TRUNC_ENCAP;
}

/* Link types (LINKTYPE_* numbers as stored in pcap files).  Named here for the callers that
 * need one; what the decoder reads is its table in src/decode/linktype.c. */
enum tcpst_linktype {
    TCPST_LT_NULL = 0,
    TCPST_LT_ETHERNET = 1,
    TCPST_LT_PPP = 9,        /* PPP, with or without HDLC address and control */
    TCPST_LT_FDDI = 10,      /* IP in LLC/SNAP only (the Zeek corpus has llc.pcap) */
    TCPST_LT_PPP_HDLC = 50,  /* PPP in HDLC-like framing (RFC 1662), or Cisco HDLC */
    TCPST_LT_PPP_ETHER = 51, /* PPPoE session frames without their Ethernet header */
    TCPST_LT_C_HDLC = 104,   /* Cisco HDLC: address, control, ethertype */
    TCPST_LT_NFLOG = 239,    /* Linux NFLOG: a header, then TLVs, the packet in one */
    TCPST_LT_RAW = 101,
    TCPST_LT_IEEE802_11 = 105, /* 802.11 MAC header, data frames in LLC/SNAP */
    TCPST_LT_LOOP = 108,
    TCPST_LT_ENC = 109, /* OpenBSD enc(4): AF, SPI, flags, then IP */
    TCPST_LT_LINUX_SLL = 113,
    TCPST_LT_PFLOG = 117,         /* OpenBSD pflog(4): its own header length, AF, then IP */
    TCPST_LT_PRISM = 119,         /* Prism monitor header (or AVS), then 802.11 */
    TCPST_LT_RADIOTAP = 127,      /* radiotap header, then 802.11 */
    TCPST_LT_ARCNET_LINUX = 129,  /* Linux ARCnet: RFC 1201 and RFC 1051 framing */
    TCPST_LT_AVS = 163,           /* AVS WLAN capture header, then 802.11 */
    TCPST_LT_JUNIPER_ETHER = 178, /* Juniper "MGC" header, extension TLVs, then Ethernet */
    TCPST_LT_PPI = 192,           /* Per-Packet Information header, then 802.11 or Ethernet */
    TCPST_LT_ERF = 197,           /* Endace ERF record: Ethernet, HDLC or IP by record type */
    TCPST_LT_IPV4 = 228,
    TCPST_LT_IPV6 = 229,
    TCPST_LT_IPOIB = 242, /* IP over InfiniBand: 40-byte address pseudo-header, then RFC 4391 */
    TCPST_LT_LINUX_SLL2 = 276,
    /* Some platforms write the DLT value 12 (or 14) for raw IP. */
    TCPST_LT_DLT_RAW_12 = 12,
    TCPST_LT_DLT_RAW_14 = 14
};

/* Does the decoder understand this link type? */
int tcpst_decode_linktype_supported(int linktype);

/* libpcap's name of a link type the decoder understands ("EN10MB", "LINUX_SLL", ...), NULL for
 * any other.  Both answers come from one table (src/decode/linktype.c). */
const char *tcpst_decode_linktype_name(int linktype);

#define TCPST_MAX_VLAN      2  /* tags recorded; deeper stacks are still skipped up to 8 */
#define TCPST_MAX_VLAN_SKIP 8  /* a 9th stacked tag gives TCPST_DEC_VLAN_DEPTH */
#define TCPST_MAX_IPV6_EXT  16 /* a 17th IPv6 extension header gives IPV6_EXT_LIMIT */

/*
 * Encapsulation layers stripped on the way to the TCP segment, outermost
 * first (one entry per VLAN tag and per MPLS label).  `id` is the layer's
 * identifier when it has one (has_id): VLAN id, MPLS label, PPPoE session id,
 * PBB I-SID, FabricPath destination switch id, VN-Tag destination VIF, GRE
 * key (version 0 with K set; PPTP: the call id), ERSPAN session id (not for
 * type I), VXLAN VNI (when its I flag is set), Geneve VNI, GTP-U TEID.
 * in_key is set (with key_encap) for VLAN ids, GRE version-0 keys, ERSPAN
 * sessions and VXLAN/Geneve VNIs; never for MPLS labels (they change hop by
 * hop), GTP-U TEIDs and PPTP call ids (each direction of one connection has
 * its own), nor for PPPoE, PBB, FabricPath and VN-Tag ids.
 */
/* X(enum suffix, report name, report key of the layer's id or NULL when it has none) */
#define TCPST_ENCAP_TYPE_MAP(X)                                                                    \
    X(VLAN, "vlan", "id")                                                                          \
    X(MPLS, "mpls", "label")                                                                       \
    X(PPPOE, "pppoe", "session")                                                                   \
    X(PBB, "pbb", "isid")                                                                          \
    X(FABRICPATH, "fabricpath", "switch_id")                                                       \
    X(VNTAG, "vntag", "vif")                                                                       \
    X(LLC, "llc_snap", NULL)                                                                       \
    X(GRE, "gre", "key")                                                                           \
    X(ERSPAN, "erspan", "session_id")                                                              \
    X(IP, "ip", NULL)                                                                              \
    X(VXLAN, "vxlan", "vni")                                                                       \
    X(GENEVE, "geneve", "vni")                                                                     \
    X(GTPU, "gtpu", "teid")                                                                        \
    X(TEREDO, "teredo", NULL)                                                                      \
    X(AYIYA, "ayiya", NULL)

typedef enum tcpst_encap_type {
#define TCPST_X_ENUM(name, str, idkey) TCPST_ENCAP_##name,
    TCPST_ENCAP_TYPE_MAP(TCPST_X_ENUM)
#undef TCPST_X_ENUM
        TCPST_ENCAP__COUNT
} tcpst_encap_type;

/* Stable snake_case name of an encapsulation type (report key). */
const char *tcpst_encap_type_name(tcpst_encap_type t);

/* Report key of the layer's id ("vni", "teid", "label", ...), NULL for types without one. */
const char *tcpst_encap_id_name(tcpst_encap_type t);

#define TCPST_ENCAP_MAX 8 /* layers recorded and followed; a 9th gives ENCAP_DEPTH */

typedef struct tcpst_encap {
    uint8_t type;   /* tcpst_encap_type */
    uint8_t has_id; /* id is meaningful */
    uint8_t in_key; /* id is part of the connection key (see key_ctx) */
    uint8_t pad_;
    uint32_t id;
} tcpst_encap;

/* Decoder settings: tunnel UDP ports and how the connection key is formed.  Each `*_ports`
 * array is one row of the UDP tunnel table (src/decode/tunnel.c), tried in this order. */
#define TCPST_DECODE_PORTS_MAX 4
typedef struct tcpst_decode_config {
    uint16_t vxlan_ports[TCPST_DECODE_PORTS_MAX];   /* 0 = unused slot; default {4789} */
    uint16_t geneve_ports[TCPST_DECODE_PORTS_MAX];  /* default {6081} */
    uint16_t gtpu_ports[TCPST_DECODE_PORTS_MAX];    /* default {2152} */
    uint16_t teredo_ports[TCPST_DECODE_PORTS_MAX];  /* default {3544} */
    uint16_t ayiya_ports[TCPST_DECODE_PORTS_MAX];   /* default {5072} */
    uint16_t gre_udp_ports[TCPST_DECODE_PORTS_MAX]; /* GRE-in-UDP, RFC 8086; default {4754} */
    bool tunnels;   /* follow tunnels at all (default true; false = pre-tunnel behaviour) */
    bool key_encap; /* VLAN ids and tunnel ids separate connections (default true) */
    /* Also find Teredo on other UDP ports (client <-> relay traffic) by its payload: an IPv6
     * header with a 2001:0::/32 address that fits the UDP payload (default true). */
    bool teredo_detect;
} tcpst_decode_config;

/* Fill *cfg with the defaults above (the settings tcpst_decode() uses). */
void tcpst_decode_config_default(tcpst_decode_config *cfg);

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
    uint16_t ip_id;                /* IPv4 identification (innermost header); 0 for IPv6 */
    uint8_t ip_version;            /* 4 or 6 */
    uint8_t ttl;                   /* TTL / hop limit */
    uint8_t ipflags;               /* TCPST_IP_* bits */
    uint8_t tcp_hlen;              /* bytes, 20..60 */
    uint8_t nvlan;                 /* tags seen, inside tunnels too (may exceed TCPST_MAX_VLAN) */
    uint16_t vlan[TCPST_MAX_VLAN]; /* outermost first, 12-bit ids */
    uint32_t payload_len;          /* TCP payload bytes per the IP length fields */
    uint32_t payload_caplen;       /* of those, bytes actually captured */
    uint32_t ip_len;               /* IP packet length per header (v4 total, v6 40+payload) */
    uint16_t l3_off, l4_off;       /* where the innermost IP and TCP headers start in the frame */
    uint8_t nencap;                /* layers in encap[] */
    tcpst_encap encap[TCPST_ENCAP_MAX];
    /* Hash of the encap ids marked in_key (0 when none, or key_encap is off): connections
     * with equal 4-tuples but different key_ctx are different connections. */
    uint32_t key_ctx;
    tcpst_tcpopts opts;
} tcpst_segment;

/*
 * Decode one frame.  `caplen` bytes are readable at `data`; `wirelen` is the
 * original length (a value below caplen is raised to caplen).  On TCPST_DEC_OK
 * every field of *seg is set; on other results *seg is partially filled
 * (addresses may be set for IP problems) and must not be tracked.
 *
 * Which status when (first match wins, layer by layer; the layers repeat for
 * every encapsulation, outermost first).  "The enclosing length" is the end
 * of the innermost IP packet, UDP datagram, GTP-U or PPTP payload around a
 * header (the frame's wire length when there is none yet).  A header that
 * runs past the enclosing length is BAD_*; one within it but not captured is
 * TRUNC_* (with no enclosing length, both are TRUNC_*).
 *  - link: header shorter than its fixed size -> TRUNC_LINK; unknown link type
 *    -> BAD_LINK; ethertype/AF other than IPv4/IPv6 and the encapsulations
 *    below -> NOT_IP; more than TCPST_MAX_VLAN_SKIP tags in the frame ->
 *    VLAN_DEPTH.  NULL accepts the AF in either byte order (AF_INET 2;
 *    AF_INET6 24, 28, 30); LOOP is network byte order.  SLL/SLL2 may carry
 *    VLAN tags after the header.  FDDI needs LLC/SNAP (AA AA 03, OUI 0 or
 *    0xF8), else NOT_IP.
 *  - 802.11 (alone, or after a radiotap, PPI, Prism or AVS header): only data
 *    frames of protocol version 0 that carry data are read (QoS control, HT
 *    control in QoS frames with Order set, the fourth address when ToDS and
 *    FromDS are both set), then LLC/SNAP as for FDDI; management, control,
 *    null-data and extension frames -> NOT_IP; protocol version other than 0,
 *    an A-MSDU (several packets in one frame) -> BAD_LINK; the Protected bit
 *    -> ENCRYPTED (the body is not guessed at).  A radiotap or PPI header
 *    that says the frame failed its FCS check -> BAD_LINK (the receiver
 *    dropped it); one that says the frame ends in an FCS takes its 4 bytes
 *    off the frame.  Radiotap version other than 0 or a length below 8, PPI
 *    version other than 0 or fields past its length, an inner PPI link type
 *    other than 802.11 and Ethernet, an AVS header with an unknown magic or a
 *    length below 8 -> BAD_LINK.
 *  - PFLOG: header length below 45 -> BAD_LINK (it is rounded up to 4);
 *    ENC: the AF in either byte order.  Both take the AF values of NULL.
 *  - ARCnet: protocol 0xD4/0xF0 IPv4, 0xC4 IPv6, anything else NOT_IP.
 *    Juniper: magic other than "MGC" -> BAD_LINK; without a link header, the
 *    JUNOS protocol (IPv4, IPv6, MPLS) in either byte order, others NOT_IP.
 *    IPOIB: the ethertype after the pseudo-header.  ERF: a record flagged as
 *    received with a link or data stream error -> BAD_LINK; Ethernet, HDLC
 *    (PPP or Cisco) and IPv4/IPv6 record types are read, other types NOT_IP.
 *  - Ethernet headers and VLAN tags (and FabricPath's header) are link
 *    headers (TRUNC_LINK/BAD_LINK) until another encapsulation has been
 *    crossed, encapsulation headers (TRUNC_ENCAP/BAD_ENCAP) after one.
 *  - recording a layer beyond TCPST_ENCAP_MAX -> ENCAP_DEPTH.
 *  - 802.3 length field (< 0x600): LLC not AA AA 03, SNAP OUI other than 0 or
 *    0xF8, a length above 1500 or below 8 -> NOT_IP.
 *  - MPLS (0x8847/0x8848): label entries up to bottom of stack; after it a
 *    first nibble of 4/6 is IP, 1 (pseudowire associated channel) NOT_IP, 0
 *    a control word before Ethernet (unless its first 16 bits are not 0 and
 *    the reading without control word finds a followed ethertype), anything
 *    else Ethernet without control word.
 *  - PPPoE session (0x8864): version/type not 0x11 or code not 0 ->
 *    BAD_ENCAP; PPP protocol other than 0x0021/0x0057 -> NOT_IP.
 *  - PBB (0x88E7): I-TAG then an Ethernet header.  VN-Tag (0x8926): 4-byte
 *    tag then an ethertype.  FabricPath (0x8903, right after an Ethernet
 *    header): FTag/TTL then an Ethernet header; elsewhere NOT_IP.
 *  - GRE (protocol 47): version > 1, routing, strict source route, reserved
 *    flags, A in version 0; version 1 without K, with C or with a type other
 *    than PPP (0x880B) -> BAD_ENCAP; version 1 without S or with payload
 *    length 0 (acknowledgment) -> NOT_TCP; payload length past the packet ->
 *    BAD_ENCAP; PPP address/control FF not followed by 03 -> BAD_ENCAP.
 *    Protocol type 0x6558 is Ethernet, 0x88BE ERSPAN II (type I when S is
 *    clear: Ethernet at once), 0x22EB ERSPAN III, anything else an ethertype
 *    (unknown ones NOT_IP).  ERSPAN version not 1 (II) / 2 (III) ->
 *    BAD_ENCAP; type III frame type other than 0 (Ethernet) / 2 (IP) ->
 *    NOT_IP.
 *  - IP protocol 4/41 -> the inner IP header (a TCPST_ENCAP_IP layer).
 *  - UDP (17): followed only if the destination, else the source, port is a
 *    configured tunnel port (or teredo_detect recognises Teredo); otherwise,
 *    or when the ports are not captured -> NOT_TCP.  UDP length below 8 or
 *    past the IP payload -> BAD_ENCAP (0 means "to the end").
 *  - VXLAN: 8 bytes, then Ethernet (the I flag only decides has_id).
 *    Geneve: version != 0 -> BAD_ENCAP; options past the datagram ->
 *    BAD_ENCAP; protocol 0x6558 Ethernet, else an ethertype.
 *    GTP-U: version != 1 or PT 0 -> BAD_ENCAP; length past the datagram ->
 *    BAD_ENCAP; message type other than 255 (G-PDU) -> NOT_TCP; an
 *    extension header of length 0 -> BAD_ENCAP; no T-PDU -> NOT_TCP; a T-PDU
 *    that is not IPv4/IPv6 -> NOT_IP.
 *    Teredo: authentication/origin indication then IPv6; anything that does
 *    not parse as that (including an IPv6 header that does not fit) ->
 *    NOT_TCP, only missing captured bytes -> TRUNC_ENCAP.
 *    AYIYA: opcode other than 1/3 (forward) -> NOT_TCP; next header other than
 *    4/41 -> NOT_IP.
 *  - no byte of IP captured -> TRUNC_IP (BAD_IP_LEN when the enclosing
 *    length leaves none); version nibble not 4/6 or not the one the
 *    encapsulation announced -> BAD_IP_VERSION.
 *  - IPv4: IHL < 5 -> BAD_IP_HLEN; fixed header cut -> TRUNC_IP; total length
 *    < 20 (incl. 0 from TSO captures; only the outermost IP may take 0 as the
 *    frame length) -> BAD_IP_LEN; IHL*4 > total length -> BAD_IP_HLEN; total
 *    length > the enclosing length -> BAD_IP_LEN; options cut by the snaplen
 *    -> TRUNC_IP; MF or offset != 0 -> IP_FRAGMENT for protocol 6, and with
 *    tunnels on also 4, 41, 47 and 17 (they may carry a tunnel), NOT_TCP
 *    otherwise; protocol != 6 and no tunnel -> NOT_TCP.
 *  - IPv6: fixed header cut -> TRUNC_IP; payload length beyond the enclosing
 *    length, or 0 with next header TCP or hop-by-hop (TSO, jumbograms: not
 *    decoded) -> BAD_IP_LEN; 0 with another next header is an empty packet
 *    (usually NOT_TCP).  Extension headers 0, 43, 44, 51, 60, 135, 139, 140
 *    are walked; more than TCPST_MAX_IPV6_EXT -> IPV6_EXT_LIMIT; one not
 *    captured or running past the payload length -> IPV6_EXT_TRUNC; a
 *    fragment header with offset != 0 or M set -> IP_FRAGMENT (NOT_TCP if its
 *    next header is none of the protocols above nor an extension header); an
 *    atomic fragment is walked through.  59, ESP and any other upper layer ->
 *    NOT_TCP.
 *  - TCP: data offset < 5, or header longer than the IP payload ->
 *    BAD_TCP_HLEN; header (with options) not fully captured -> TRUNC_TCP.
 *  - an IP or TCP header starting beyond byte 65535 (l3_off/l4_off cannot hold
 *    it) -> BAD_LINK.
 * payload_len = IP payload - TCP header; payload_caplen = min(captured bytes
 * after the header, payload_len), with TCPST_IP_PAYLOAD_TRUNC when smaller.
 * With cfg->tunnels false, IP protocols 4, 41, 47 and UDP are not followed
 * (NOT_TCP, as before tunnels were decoded); link-level encapsulations are.
 */
tcpst_decode_status tcpst_decode(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
                                 tcpst_segment *seg);

/*
 * As tcpst_decode(), with tunnel settings (tcpst_decode() uses the defaults;
 * NULL `cfg` means the defaults too).  On TCPST_DEC_IP_FRAGMENT, seg->l3_off
 * is where the fragment's IP header starts in `data`, seg->src/dst are its
 * addresses, seg->encap/nencap/key_ctx/vlan hold the layers outside it, and
 * the fragment can be given to the reassembler (ipreasm.h).
 */
tcpst_decode_status tcpst_decode_ex(const tcpst_decode_config *cfg, int linktype,
                                    const uint8_t *data, size_t caplen, size_t wirelen,
                                    tcpst_segment *seg);

/*
 * Continue decoding at an IP header (a reassembled datagram): the layers
 * already in seg (encap, nencap, vlan, nvlan, key_ctx) are kept and extended
 * (key_ctx is a fold over the keyed layers, so it ends equal to what decoding
 * the whole unfragmented frame gives); every other field is set as by
 * tcpst_decode_ex(); l3_off/l4_off are offsets into `ip`.  `len` bytes are
 * read; they are both the captured and the wire length.
 */
tcpst_decode_status tcpst_decode_ip(const tcpst_decode_config *cfg, const uint8_t *ip, size_t len,
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
