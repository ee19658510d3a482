/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linktype.c - the capture's own link header, chosen by the link type of the
 * capture: one parser per type, and one table row that names it.
 *
 * The parser reads the fixed header at the start of the frame and leaves the
 * cursor at what follows: an Ethernet header (link.c), an ethertype (link.c)
 * or an IP header (ip.c), with the IP version when the header announces it.
 * Adding a link type is one parser and one row of `tcpst__linktypes`;
 * tcpst_decode_linktype_supported() and tcpst_decode_linktype_name() read
 * the same table, so the capture can never accept a type the walk cannot
 * start on.  The 802.11 family's parsers (plain, radiotap, PPI, Prism, AVS)
 * are in wlan.c; their rows are here.
 *
 * What it does not do: anything past the link header, recording it as an
 * encapsulation (it is the capture's framing, not a layer the packet
 * crossed), or map DLT values to LINKTYPE numbers (the capture does that).
 */
#include "cursor.h"

#define SLL_HLEN         16
#define SLL2_HLEN        20
#define NULL_HLEN        4
#define FDDI_HLEN        13 /* frame control + two MACs */
#define CHDLC_HLEN       4  /* address, control, protocol */
#define PPPOE_HLEN       6  /* version/type, code, session id, length */
#define NFLOG_HLEN       4  /* family, version, resource id */
#define PPP_IPV4         0x0021u
#define PPP_IPV6         0x0057u
#define NFULA_PAYLOAD    9
#define NFLOG_AF_INET    2
#define NFLOG_AF_INET6   10
#define ENC_HLEN         12    /* AF, SPI, flags (OpenBSD net/if_enc.h) */
#define PFLOG_MIN_HLEN   45    /* the shortest pfloghdr any BSD wrote (tcpdump's bound) */
#define ARC_HLEN         5     /* source, destination, offset, protocol (Linux if_arcnet.h) */
#define ARC_RFC1201_HLEN 8     /* ... then split flag and sequence number */
#define ARC_P_IP         0xD4u /* RFC 1201 */
#define ARC_P_IPV6       0xC4u /* RFC 2497 */
#define ARC_P_IP_RFC1051 0xF0u
#define JUNIPER_MAGIC    0x4D4743u /* "MGC" */
#define JUNIPER_NO_L2    0x02u
#define JUNIPER_EXT      0x80u
#define IPOIB_HLEN       44 /* 40-byte address pseudo-header, ethertype, reserved */
#define ERF_HLEN         16 /* timestamp, type, flags, rlen, lctr, wlen */
#define ERF_EXT_HLEN     8
#define ERF_ERRORS       0x30u /* flags: RX error (link layer), DS error (data stream) */
#define ETHERTYPE_MPLS   0x8847u

/* Address family values seen in DLT_NULL / DLT_LOOP headers. */
#define BSD_AF_INET          2
#define BSD_AF_INET6_BSD     24 /* NetBSD, OpenBSD */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN  30

/* ---- parsers -------------------------------------------------------------- */

/* The walk reads the Ethernet header itself (link.c), as it does inside tunnels. */
static tcpst_decode_status ethernet(dctx *c, cursor *cur)
{
    (void)c;
    cur->at = AT_ETHER;
    return TCPST_DEC_OK;
}

/* A fixed header with the ethertype at proto_off: Linux cooked capture, IP over InfiniBand. */
static tcpst_decode_status cooked(dctx *c, cursor *cur, size_t hlen, size_t proto_off)
{
    if (!have(&c->f, 0, hlen)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    cur->at = AT_ETYPE;
    cur->etype = get16(&c->f, proto_off);
    cur->off = hlen;
    return TCPST_DEC_OK;
}

/* v1: protocol at offset 14; libpcap re-inserts stripped VLAN tags after the header. */
static tcpst_decode_status linux_sll(dctx *c, cursor *cur)
{
    return cooked(c, cur, SLL_HLEN, 14);
}

/* v2: the protocol comes first. */
static tcpst_decode_status linux_sll2(dctx *c, cursor *cur)
{
    return cooked(c, cur, SLL2_HLEN, 0);
}

/*
 * IP in LLC/SNAP (RFC 1042): DSAP and SSAP 0xAA, UI control 0x03, an OUI of 0
 * (or 0x0000F8, 802.1H), then the ethertype.  Here the LLC is the link's own
 * framing (FDDI, 802.11), so it is not recorded as an encapsulation.
 */
tcpst_decode_status tcpst__link_snap(dctx *c, cursor *cur, size_t off)
{
    const frame *f = &c->f;

    if (!have(f, off, SNAP_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    if (get8(f, off) != 0xAA || get8(f, off + 1) != 0xAA || get8(f, off + 2) != 0x03) {
        return TCPST_DEC_NOT_IP;
    }
    uint32_t oui = get32(f, off + 2) & 0x00FFFFFFu;
    if (oui != 0 && oui != 0xF8) {
        return TCPST_DEC_NOT_IP;
    }
    cur->at = AT_ETYPE;
    cur->etype = get16(f, off + 6);
    cur->off = off + SNAP_HLEN;
    return TCPST_DEC_OK;
}

/* FDDI carries IP only in LLC/SNAP (RFC 1188). */
static tcpst_decode_status fddi(dctx *c, cursor *cur)
{
    if (!have(&c->f, 0, FDDI_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    return tcpst__link_snap(c, cur, FDDI_HLEN);
}

/* BSD address family to IP version, IP at off; IPv6 has three values across the BSDs. */
static tcpst_decode_status bsd_af(uint32_t af, cursor *cur, size_t off)
{
    cur->at = AT_IP;
    cur->off = off;
    switch (af) {
        case BSD_AF_INET:
            cur->version = 4;
            return TCPST_DEC_OK;
        case BSD_AF_INET6_BSD:
        case BSD_AF_INET6_FREEBSD:
        case BSD_AF_INET6_DARWIN:
            cur->version = 6;
            return TCPST_DEC_OK;
        default:
            return TCPST_DEC_NOT_IP;
    }
}

/* A small 32-bit number in the host byte order of the capturing machine: we do not know
 * that order, and every valid value is small, so the reading that fits in 16 bits wins. */
static uint32_t host32(const frame *f, size_t off)
{
    uint32_t v = get32le(f, off);
    return v > 0xFFFFu ? get32(f, off) : v;
}

/* BSD loopback: the address family in the host byte order of the capturing machine. */
static tcpst_decode_status bsd_null(dctx *c, cursor *cur)
{
    if (!have(&c->f, 0, NULL_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    return bsd_af(host32(&c->f, 0), cur, NULL_HLEN);
}

/* OpenBSD loopback: as NULL, but always network byte order. */
static tcpst_decode_status bsd_loop(dctx *c, cursor *cur)
{
    if (!have(&c->f, 0, NULL_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    return bsd_af(get32(&c->f, 0), cur, NULL_HLEN);
}

/* OpenBSD enc(4), IPsec traffic in the clear: the AF in host byte order, SPI, flags. */
static tcpst_decode_status enc(dctx *c, cursor *cur)
{
    if (!have(&c->f, 0, ENC_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    return bsd_af(host32(&c->f, 0), cur, ENC_HLEN);
}

/*
 * pf's log (pflog(4)): the header gives its own length, which differs between the BSDs and
 * their releases (45 to 100), padded to 4 bytes as BPF_WORDALIGN does; the AF follows it.
 */
static tcpst_decode_status pflog(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    if (!have(f, 0, 2)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    size_t len = get8(f, 0);
    if (len < PFLOG_MIN_HLEN) {
        return TCPST_DEC_BAD_LINK;
    }
    len = (len + 3u) & ~(size_t)3;
    if (!have(f, 0, len)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    return bsd_af(get8(f, 1), cur, len);
}

/* Raw IP with no header: the version nibble decides. */
static tcpst_decode_status raw_ip(dctx *c, cursor *cur)
{
    (void)c;
    (void)cur;
    return TCPST_DEC_OK;
}

static tcpst_decode_status raw_ipv4(dctx *c, cursor *cur)
{
    (void)c;
    cur->version = 4;
    return TCPST_DEC_OK;
}

static tcpst_decode_status raw_ipv6(dctx *c, cursor *cur)
{
    (void)c;
    cur->version = 6;
    return TCPST_DEC_OK;
}

/* PPP's protocol field at off (RFC 1661: one byte when its low bit is set, compressed).
 * IP only: anything else (LCP, IPCP, VJ-compressed TCP) is not IP to us. */
static tcpst_decode_status ppp_proto(dctx *c, cursor *cur, size_t off)
{
    const frame *f = &c->f;
    if (!have(f, off, 1)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    uint32_t proto = get8(f, off);
    size_t n = 1;
    if (!(proto & 1u)) {
        if (!have(f, off, 2)) {
            return TCPST_DEC_TRUNC_LINK;
        }
        proto = get16(f, off);
        n = 2;
    }
    cur->at = AT_IP;
    cur->off = off + n;
    if (proto == PPP_IPV4) {
        cur->version = 4;
        return TCPST_DEC_OK;
    }
    if (proto == PPP_IPV6) {
        cur->version = 6;
        return TCPST_DEC_OK;
    }
    return TCPST_DEC_NOT_IP;
}

/* PPP (libpcap's DLT_PPP): the HDLC address 0xFF and control 0x03 may lead. */
static tcpst_decode_status ppp(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    bool hdlc = have(f, 0, 2) && get8(f, 0) == 0xFF && get8(f, 1) == 0x03;
    return ppp_proto(c, cur, hdlc ? 2 : 0);
}

/* Cisco HDLC at off: address (0x0F unicast, 0x8F broadcast), control 0, then an ethertype. */
static tcpst_decode_status c_hdlc_at(dctx *c, cursor *cur, size_t off)
{
    if (!have(&c->f, off, CHDLC_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    cur->at = AT_ETYPE;
    cur->etype = get16(&c->f, off + 2);
    cur->off = off + CHDLC_HLEN;
    return TCPST_DEC_OK;
}

static tcpst_decode_status c_hdlc(dctx *c, cursor *cur)
{
    return c_hdlc_at(c, cur, 0);
}

/* PPP in HDLC-like framing at off: 0xFF 0x03 then PPP; routers also write Cisco HDLC here. */
static tcpst_decode_status ppp_hdlc_at(dctx *c, cursor *cur, size_t off)
{
    const frame *f = &c->f;
    if (!have(f, off, 2)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    uint32_t addr = get8(f, off);
    if (addr == 0x0F || addr == 0x8F) {
        return c_hdlc_at(c, cur, off);
    }
    if (addr != 0xFF || get8(f, off + 1) != 0x03) {
        return TCPST_DEC_BAD_LINK;
    }
    return ppp_proto(c, cur, off + 2);
}

static tcpst_decode_status ppp_hdlc(dctx *c, cursor *cur)
{
    return ppp_hdlc_at(c, cur, 0);
}

/* PPPoE session frames (RFC 2516): version/type 0x11, code 0, session, length, then PPP. */
static tcpst_decode_status ppp_ether(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    if (!have(f, 0, PPPOE_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    if (get8(f, 0) != 0x11) {
        return TCPST_DEC_BAD_LINK;
    }
    if (get8(f, 1) != 0) {
        return TCPST_DEC_NOT_IP; /* discovery, not a session frame */
    }
    return ppp_proto(c, cur, PPPOE_HLEN);
}

/*
 * Linux NFLOG (what `tcpdump -i nflog:N` captures): family, version, resource id, then
 * TLVs of length (itself included) and type, padded to 4 bytes, in the capturing host's
 * byte order (libpcap makes it the reader's).  The packet is the NFULA_PAYLOAD TLV.
 */
static tcpst_decode_status nflog(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    if (!have(f, 0, NFLOG_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    uint32_t family = get8(f, 0);
    if (family != NFLOG_AF_INET && family != NFLOG_AF_INET6) {
        return TCPST_DEC_NOT_IP;
    }
    size_t off = NFLOG_HLEN;
    /* The first TLV tells the byte order: its length must fit (a big-endian writer's file
     * read through our pcapng reader, which does not swap them as libpcap does). */
    uint32_t first = get16le(f, off);
    bool be = first < 4 || !have(f, off, first);
    while (have(f, off, 4)) {
        uint32_t len = be ? get16(f, off) : get16le(f, off);
        uint32_t type = be ? get16(f, off + 2) : get16le(f, off + 2);
        if (len < 4) {
            return TCPST_DEC_BAD_LINK;
        }
        if (type == NFULA_PAYLOAD) {
            cur->at = AT_IP;
            cur->off = off + 4;
            cur->version = family == NFLOG_AF_INET ? 4 : 6;
            return TCPST_DEC_OK;
        }
        off += (len + 3u) & ~3u;
    }
    return TCPST_DEC_TRUNC_LINK;
}

/*
 * Linux ARCnet: source, destination, two offset bytes, the protocol, and for RFC 1201
 * protocols a split flag and sequence number.  Linux hands over reassembled packets and
 * never an exception frame (tcpdump and Wireshark read it so), so the split flag is not read.
 */
static tcpst_decode_status arcnet_linux(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    if (!have(f, 0, ARC_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    uint32_t proto = get8(f, ARC_HLEN - 1);
    if (proto == ARC_P_IP_RFC1051) {
        return at_ip(cur, ARC_HLEN, 4); /* RFC 1051: no fragmentation header */
    }
    if (proto != ARC_P_IP && proto != ARC_P_IPV6) {
        return TCPST_DEC_NOT_IP; /* ARP, RARP, IPX, diagnostics, ... */
    }
    if (!have(f, 0, ARC_RFC1201_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    return at_ip(cur, ARC_RFC1201_HLEN, proto == ARC_P_IP ? 4 : 6);
}

/*
 * Juniper's capture header (as Wireshark's packet-juniper.c reads it): "MGC", flags (0x01
 * inbound, 0x02 no link header, 0x80 extensions), the extensions' length and TLVs, then
 * the Ethernet frame; without one, a JUNOS protocol number in host byte order and the
 * packet.
 */
static tcpst_decode_status juniper_ether(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    if (!have(f, 0, 4)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    if (get32(f, 0) >> 8 != JUNIPER_MAGIC) {
        return TCPST_DEC_BAD_LINK;
    }
    uint32_t flags = get8(f, 3);
    size_t off = 4;
    if (flags & JUNIPER_EXT) {
        if (!have(f, off, 2)) {
            return TCPST_DEC_TRUNC_LINK;
        }
        off += 2 + (size_t)get16(f, off);
    }
    if (!(flags & JUNIPER_NO_L2)) {
        cur->at = AT_ETHER;
        cur->off = off;
        return TCPST_DEC_OK;
    }
    if (!have(f, off, 4)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    switch (host32(f, off)) {
        case 2: /* IPv4; 3: IPv4 that came in MPLS */
        case 3:
            return at_ip(cur, off + 4, 4);
        case 6: /* IPv6; 7: in MPLS */
        case 7:
            return at_ip(cur, off + 4, 6);
        case 4: /* MPLS labels before IPv4, MPLS, or before IPv6 */
        case 5:
        case 8:
            cur->at = AT_ETYPE;
            cur->etype = ETHERTYPE_MPLS;
            cur->off = off + 4;
            return TCPST_DEC_OK;
        default:
            return TCPST_DEC_NOT_IP;
    }
}

/* IP over InfiniBand as libpcap writes it (the Solaris/illumos BPF, tcpdump, Wireshark): a
 * 40-byte pseudo-header with the addresses, then RFC 4391's ethertype and reserved bytes. */
static tcpst_decode_status ipoib(dctx *c, cursor *cur)
{
    return cooked(c, cur, IPOIB_HLEN, IPOIB_HLEN - 4);
}

/*
 * An Endace ERF record: its 16-byte header, 8-byte extension headers while the type's (then
 * each extension's) top bit says another follows, and the payload by record type.  Ethernet
 * types have two bytes (offset, pad) before the frame, multichannel HDLC four.
 */
static tcpst_decode_status erf_record(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    if (!have(f, 0, ERF_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    uint32_t type = get8(f, 8);
    if (get8(f, 9) & ERF_ERRORS) {
        return TCPST_DEC_BAD_LINK; /* the card saw a link or framing error: no receiver took it */
    }
    size_t off = ERF_HLEN;
    for (uint32_t more = type & 0x80u; more; off += ERF_EXT_HLEN) {
        if (!have(f, off, ERF_EXT_HLEN)) {
            return TCPST_DEC_TRUNC_LINK;
        }
        more = get8(f, off) & 0x80u;
    }
    switch (type & 0x7Fu) {
        case 2:  /* ETH */
        case 11: /* COLOR_ETH */
        case 16: /* DSM_COLOR_ETH */
        case 20: /* COLOR_HASH_ETH */
            cur->at = AT_ETHER;
            cur->off = off + 2;
            return TCPST_DEC_OK;
        case 1:  /* HDLC_POS */
        case 10: /* COLOR_HDLC_POS */
        case 15: /* DSM_COLOR_HDLC_POS */
        case 19: /* COLOR_HASH_POS */
            return ppp_hdlc_at(c, cur, off);
        case 5:  /* MC_HDLC */
        case 17: /* COLOR_MC_HDLC_POS */
            return ppp_hdlc_at(c, cur, off + 4);
        case 22: /* IPV4 */
            return at_ip(cur, off, 4);
        case 23: /* IPV6 */
            return at_ip(cur, off, 6);
        default: /* ATM cells, AAL5, InfiniBand, metadata, padding, ... */
            return TCPST_DEC_NOT_IP;
    }
}

/* ---- the table ------------------------------------------------------------ */

/*
 * By LINKTYPE number (www.tcpdump.org/linktypes.html).  Names are libpcap's
 * (pcap_datalink_val_to_name), the ones the capture reports; the raw-IP DLT
 * values some platforms write (12, and 14 on OpenBSD) are libpcap's DLT_RAW.
 */
const tcpst__linktype tcpst__linktypes[] = {
    {TCPST_LT_NULL, "NULL", bsd_null},
    {TCPST_LT_ETHERNET, "EN10MB", ethernet},
    {TCPST_LT_PPP, "PPP", ppp},
    {TCPST_LT_FDDI, "FDDI", fddi},
    {TCPST_LT_DLT_RAW_12, "RAW", raw_ip},
    {TCPST_LT_DLT_RAW_14, "RAW", raw_ip},
    {TCPST_LT_PPP_HDLC, "PPP_SERIAL", ppp_hdlc},
    {TCPST_LT_PPP_ETHER, "PPP_ETHER", ppp_ether},
    {TCPST_LT_RAW, "RAW", raw_ip},
    {TCPST_LT_C_HDLC, "C_HDLC", c_hdlc},
    {TCPST_LT_IEEE802_11, "IEEE802_11", tcpst__ieee802_11},
    {TCPST_LT_LOOP, "LOOP", bsd_loop},
    {TCPST_LT_ENC, "ENC", enc},
    {TCPST_LT_LINUX_SLL, "LINUX_SLL", linux_sll},
    {TCPST_LT_PFLOG, "PFLOG", pflog},
    {TCPST_LT_PRISM, "PRISM_HEADER", tcpst__prism},
    {TCPST_LT_RADIOTAP, "IEEE802_11_RADIO", tcpst__radiotap},
    {TCPST_LT_ARCNET_LINUX, "ARCNET_LINUX", arcnet_linux},
    {TCPST_LT_AVS, "IEEE802_11_RADIO_AVS", tcpst__avs},
    {TCPST_LT_JUNIPER_ETHER, "JUNIPER_ETHER", juniper_ether},
    {TCPST_LT_PPI, "PPI", tcpst__ppi},
    {TCPST_LT_ERF, "ERF", erf_record},
    {TCPST_LT_IPV4, "IPV4", raw_ipv4},
    {TCPST_LT_IPV6, "IPV6", raw_ipv6},
    {TCPST_LT_NFLOG, "NFLOG", nflog},
    {TCPST_LT_IPOIB, "IPOIB", ipoib},
    {TCPST_LT_LINUX_SLL2, "LINUX_SLL2", linux_sll2},
};
const size_t tcpst__nlinktypes = sizeof tcpst__linktypes / sizeof tcpst__linktypes[0];

/* A linear search: a few dozen rows at most, and Ethernet is the second. */
static const tcpst__linktype *find(int linktype)
{
    for (size_t i = 0; i < tcpst__nlinktypes; i++) {
        if (tcpst__linktypes[i].linktype == linktype) {
            return &tcpst__linktypes[i];
        }
    }
    return NULL;
}

tcpst_decode_status tcpst__link(int linktype, dctx *c, cursor *cur)
{
    const tcpst__linktype *lt = find(linktype);

    cur->at = AT_IP;
    cur->off = 0;
    cur->version = 0;
    cur->etype = 0;
    if (lt == NULL) {
        return TCPST_DEC_BAD_LINK;
    }
    return lt->parse(c, cur);
}

int tcpst_decode_linktype_supported(int linktype)
{
    return find(linktype) != NULL;
}

const char *tcpst_decode_linktype_name(int linktype)
{
    const tcpst__linktype *lt = find(linktype);
    return lt != NULL ? lt->name : NULL;
}
