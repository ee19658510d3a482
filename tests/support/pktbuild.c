/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pktbuild.c - synthetic frames and capture files for the tests.
 *
 * Writes headers byte by byte in network order (no struct overlays), so the
 * output is the same on any host.  Checksums follow RFC 1071 with the TCP
 * pseudo-headers of RFC 9293 3.1 (IPv4) and RFC 8200 8.1 (IPv6).  pcap and
 * pcapng files are written in host byte order, as libpcap does.
 *
 * Not library code: it may be slow, and it trusts the test that calls it.
 */
#include "pktbuild.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ETH_HLEN     14
#define SLL_HLEN     16
#define SLL2_HLEN    20
#define NULL_HLEN    4
#define FDDI_HLEN    21 /* FC + 2 MACs + LLC/SNAP */
#define WLAN_HLEN    32 /* 802.11 data header + LLC/SNAP */
#define QOS_HLEN     34 /* 802.11 QoS data header + LLC/SNAP */
#define RT_HLEN      10 /* radiotap with Flags and Rate */
#define PPI_HLEN     32 /* PPI header + an 802.11-Common field */
#define PRISM_HLEN   144
#define AVS_HLEN     64
#define PFLOG_HLEN   64 /* a 61-byte header (NetBSD, older OpenBSD) padded to 4 */
#define JUNIPER_HLEN 12 /* magic, flags, extension length, one 6-byte TLV */
#define IPOIB_HLEN   44
#define ERF_HLEN     18 /* record header + the Ethernet record's 2 pad bytes */
#define IPV4_HLEN    20
#define IPV6_HLEN    40
#define TCP_HLEN     20
#define MAX_OPTLEN   40

static const uint8_t mac_src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mac_dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t csum_add(uint32_t acc, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2) {
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (i < n) {
        acc += (uint32_t)p[i] << 8;
    }
    return acc;
}

static uint16_t csum_fold(uint32_t acc)
{
    while (acc >> 16) {
        acc = (acc & 0xFFFFu) + (acc >> 16);
    }
    return (uint16_t)~acc;
}

/* Parse address text; returns family 4 or 6, or 0. */
static int parse_addr(const char *txt, uint8_t out[16])
{
    memset(out, 0, 16);
    if (txt == NULL) {
        return 0;
    }
    if (inet_pton(AF_INET, txt, out) == 1) {
        return 4;
    }
    if (inet_pton(AF_INET6, txt, out) == 1) {
        return 6;
    }
    return 0;
}

uint8_t pb_payload_byte(size_t i)
{
    return (uint8_t)('a' + i % 26);
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static size_t v6ext_size(uint8_t type)
{
    return type == 51 ? 24 : 8;
}

static size_t link_hlen(int linktype, int ntags)
{
    size_t tags = (size_t)ntags * 4;

    switch (linktype) {
        case TCPST_LT_ETHERNET:
            return ETH_HLEN + tags;
        case TCPST_LT_LINUX_SLL:
            return SLL_HLEN + tags;
        case TCPST_LT_LINUX_SLL2:
            return SLL2_HLEN + tags;
        case TCPST_LT_NULL:
        case TCPST_LT_LOOP:
            return NULL_HLEN;
        case TCPST_LT_FDDI:
            return FDDI_HLEN;
        case TCPST_LT_PPP:
        case TCPST_LT_PPP_HDLC:
        case TCPST_LT_C_HDLC:
            return 4;
        case TCPST_LT_PPP_ETHER:
            return 8;
        case TCPST_LT_NFLOG:
            return 4 + 12 + 4; /* header, an NFULA_PREFIX TLV, the payload TLV's header */
        case TCPST_LT_IEEE802_11:
            return WLAN_HLEN;
        case TCPST_LT_RADIOTAP:
            return RT_HLEN + QOS_HLEN;
        case TCPST_LT_PPI:
            return PPI_HLEN + WLAN_HLEN;
        case TCPST_LT_PRISM:
            return PRISM_HLEN + WLAN_HLEN;
        case TCPST_LT_AVS:
            return AVS_HLEN + WLAN_HLEN;
        case TCPST_LT_PFLOG:
            return PFLOG_HLEN;
        case TCPST_LT_ENC:
            return 12;
        case TCPST_LT_ARCNET_LINUX:
            return 8;
        case TCPST_LT_JUNIPER_ETHER:
            return JUNIPER_HLEN + ETH_HLEN;
        case TCPST_LT_IPOIB:
            return IPOIB_HLEN;
        case TCPST_LT_ERF:
            return ERF_HLEN + ETH_HLEN;
        case TCPST_LT_RAW:
        case TCPST_LT_DLT_RAW_12:
        case TCPST_LT_DLT_RAW_14:
        case TCPST_LT_IPV4:
        case TCPST_LT_IPV6:
            return 0;
        default:
            return SIZE_MAX;
    }
}

/* VLAN tags starting at p; the last one carries `inner` as its ethertype. */
static void put_tags(uint8_t *p, const uint16_t *tags, int ntags, uint16_t inner)
{
    for (int i = 0; i < ntags; i++) {
        /* TCI of tag i, then the TPID of tag i+1 (innermost 0x8100) or `inner`. */
        put16(p + 4 * (size_t)i, tags[i] & 0x0FFFu);
        put16(p + 4 * (size_t)i + 2, i + 1 < ntags ? (i + 2 < ntags ? 0x88A8u : 0x8100u) : inner);
    }
}

/* First TPID (outermost tag) or the plain ethertype when untagged. */
static uint16_t outer_type(int ntags, uint16_t inner)
{
    if (ntags == 0) {
        return inner;
    }
    return ntags == 1 ? 0x8100u : 0x88A8u;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* An 802.11 data frame to the AP (ToDS), QoS or not, then LLC/SNAP with ethertype et. */
static void put_wlan(uint8_t *p, bool qos, uint16_t et)
{
    p[0] = qos ? 0x88 : 0x08;  /* data, subtype QoS data or data */
    p[1] = 0x01;               /* ToDS */
    memcpy(p + 4, mac_dst, 6); /* BSSID, source, destination */
    memcpy(p + 10, mac_src, 6);
    memcpy(p + 16, mac_dst, 6);
    p += qos ? 26 : 24; /* QoS control 0: TID 0, normal ack, no A-MSDU */
    p[0] = 0xAA;
    p[1] = 0xAA;
    p[2] = 0x03;
    put16(p + 6, et);
}

static void put_ether(uint8_t *p, uint16_t et)
{
    memcpy(p, mac_dst, 6);
    memcpy(p + 6, mac_src, 6);
    put16(p + 12, et);
}

/* The link header for an IP packet of `total` bytes. */
static void put_link(uint8_t *buf, int linktype, const uint16_t *tags, int ntags, const pb_seg *s,
                     int fam, size_t total)
{
    uint16_t et = s->ethertype ? s->ethertype : (fam == 4 ? 0x0800u : 0x86DDu);
    uint32_t af = s->link_af ? s->link_af : (fam == 4 ? 2u : 30u);
    uint32_t bsd_af = s->link_af ? s->link_af : (fam == 4 ? 2u : 24u); /* OpenBSD's AF_INET6 */

    switch (linktype) {
        case TCPST_LT_ETHERNET:
            memcpy(buf, mac_dst, 6);
            memcpy(buf + 6, mac_src, 6);
            put16(buf + 12, outer_type(ntags, et));
            put_tags(buf + ETH_HLEN, tags, ntags, et);
            break;
        case TCPST_LT_LINUX_SLL:
            put16(buf, 0);     /* packet type: to us */
            put16(buf + 2, 1); /* ARPHRD_ETHER */
            put16(buf + 4, 6); /* address length */
            memset(buf + 6, 0, 8);
            memcpy(buf + 6, mac_src, 6);
            put16(buf + 14, outer_type(ntags, et));
            put_tags(buf + SLL_HLEN, tags, ntags, et);
            break;
        case TCPST_LT_LINUX_SLL2:
            put16(buf, outer_type(ntags, et));
            put16(buf + 2, 0); /* reserved */
            put32(buf + 4, 1); /* interface index */
            put16(buf + 8, 1); /* ARPHRD_ETHER */
            buf[10] = 0;       /* packet type */
            buf[11] = 6;       /* address length */
            memset(buf + 12, 0, 8);
            memcpy(buf + 12, mac_src, 6);
            put_tags(buf + SLL2_HLEN, tags, ntags, et);
            break;
        case TCPST_LT_NULL:
            if (s->null_be) {
                put32(buf, af);
            } else {
                buf[0] = (uint8_t)af;
                buf[1] = (uint8_t)(af >> 8);
                buf[2] = (uint8_t)(af >> 16);
                buf[3] = (uint8_t)(af >> 24);
            }
            break;
        case TCPST_LT_LOOP:
            put32(buf, af);
            break;
        case TCPST_LT_PPP:
        case TCPST_LT_PPP_HDLC:
            buf[0] = 0xFF; /* HDLC address and control (RFC 1662) */
            buf[1] = 0x03;
            put16(buf + 2, fam == 4 ? 0x0021u : 0x0057u);
            break;
        case TCPST_LT_PPP_ETHER:
            buf[0] = 0x11; /* PPPoE version 1, type 1, session data (RFC 2516) */
            buf[1] = 0x00;
            put16(buf + 2, 0x1234u);
            put16(buf + 6, fam == 4 ? 0x0021u : 0x0057u);
            break;
        case TCPST_LT_C_HDLC:
            buf[0] = 0x0F;
            buf[1] = 0x00;
            put16(buf + 2, et);
            break;
        case TCPST_LT_NFLOG:
            buf[0] = fam == 4 ? 2 : 10; /* AF_INET, AF_INET6 */
            buf[1] = 0;                 /* version */
            put16(buf + 2, 5);          /* nflog group */
            buf[4] = 10;                /* NFULA_PREFIX, little-endian as on x86 */
            buf[6] = 10;
            memcpy(buf + 8, "tcpst\0", 6);
            buf[16] = (uint8_t)((total + 4) & 0xFF); /* NFULA_PAYLOAD */
            buf[17] = (uint8_t)((total + 4) >> 8);
            buf[18] = 9;
            break;
        case TCPST_LT_IEEE802_11:
            put_wlan(buf, false, et);
            break;
        case TCPST_LT_RADIOTAP:
            buf[2] = RT_HLEN;              /* version 0, length */
            put32le(buf + 4, 0x00000006u); /* present: Flags, Rate */
            buf[9] = 2;                    /* 1 Mb/s; Flags 0: no FCS */
            put_wlan(buf + RT_HLEN, true, et);
            break;
        case TCPST_LT_PPI:
            buf[2] = PPI_HLEN;     /* version 0, flags 0, length */
            put32le(buf + 4, 105); /* 802.11 inside */
            buf[8] = 2;            /* 802.11-Common, 20 bytes, flags 0 */
            buf[10] = 20;
            put16(buf + 24, 0x8509); /* 2437 MHz, little-endian */
            put_wlan(buf + PPI_HLEN, false, et);
            break;
        case TCPST_LT_PRISM:
            put32le(buf, 0x44); /* msgcode, msglen: host order */
            put32le(buf + 4, PRISM_HLEN);
            memcpy(buf + 8, "wlan0", 5);
            put_wlan(buf + PRISM_HLEN, false, et);
            break;
        case TCPST_LT_AVS:
            put32(buf, 0x80211001u); /* version 1, length: big-endian */
            put32(buf + 4, AVS_HLEN);
            put_wlan(buf + AVS_HLEN, false, et);
            break;
        case TCPST_LT_PFLOG:
            buf[0] = 61; /* header length, padded to 64 */
            buf[1] = (uint8_t)bsd_af;
            memcpy(buf + 4, "em0", 3);
            buf[60] = 1; /* direction: in */
            break;
        case TCPST_LT_ENC:
            if (s->null_be) {
                put32(buf, bsd_af);
            } else {
                put32le(buf, bsd_af); /* host order of an x86 OpenBSD */
            }
            put32(buf + 4, 0x1000u);   /* SPI */
            put32le(buf + 8, 0x0C00u); /* M_CONF | M_AUTH */
            break;
        case TCPST_LT_ARCNET_LINUX:
            buf[0] = 0x01; /* source, destination, offset 0 */
            buf[1] = 0x02;
            buf[4] = fam == 4 ? 0xD4 : 0xC4; /* RFC 1201 IP, RFC 2497 IPv6; split flag 0 */
            put16(buf + 6, 1);               /* sequence */
            break;
        case TCPST_LT_JUNIPER_ETHER:
            memcpy(buf, "MGC", 3);
            buf[3] = 0x81;     /* extensions, inbound */
            put16(buf + 4, 6); /* extensions: one TLV, the interface index */
            buf[6] = 1;
            buf[7] = 4;
            put32le(buf + 8, 7);
            put_ether(buf + JUNIPER_HLEN, et);
            break;
        case TCPST_LT_IPOIB:
            put32(buf + 20, 0x00000048u); /* no GRH; destination QPN, then its GID */
            buf[24] = 0xFE;
            buf[25] = 0x80;
            put16(buf + 40, et);
            break;
        case TCPST_LT_ERF:
            put32le(buf + 4, 1795548772u); /* timestamp seconds (little-endian, 32.32) */
            buf[8] = 2;                    /* ETH record, interface 0, variable length */
            buf[9] = 0x04;
            put16(buf + 10, (uint32_t)(ERF_HLEN + ETH_HLEN + total));
            put16(buf + 14, (uint32_t)(ETH_HLEN + total));
            put_ether(buf + ERF_HLEN, et);
            break;
        case TCPST_LT_FDDI:
            buf[0] = 0x50; /* frame control: async LLC */
            memcpy(buf + 1, mac_dst, 6);
            memcpy(buf + 7, mac_src, 6);
            buf[13] = 0xAA; /* DSAP, SSAP: SNAP; control: UI; OUI 0 (RFC 1042) */
            buf[14] = 0xAA;
            buf[15] = 0x03;
            put16(buf + 19, et);
            break;
        default:
            break;
    }
}

/* IPv6 extension headers; returns the first next-header value of the chain. */
static uint8_t put_v6ext(uint8_t *p, const pb_seg *s, uint8_t last)
{
    for (size_t i = 0; i < s->nv6ext; i++) {
        uint8_t type = s->v6ext[i];
        uint8_t nh = i + 1 < s->nv6ext ? s->v6ext[i + 1] : last;
        size_t sz = v6ext_size(type);

        memset(p, 0, sz);
        p[0] = nh;
        switch (type) {
            case 44: /* RFC 8200 4.5 */
                put16(p + 2, (uint32_t)(s->frag_off & 0x1FFFu) << 3 | (s->mf ? 1u : 0u));
                put32(p + 4, s->ip_id);
                break;
            case 51: /* RFC 4302 2.2: 12 fixed + 12 ICV bytes, length in words - 2 */
                p[1] = (uint8_t)(sz / 4 - 2);
                put32(p + 4, 0x100);
                put32(p + 8, 1);
                break;
            case 0:
            case 60:
                p[2] = 1; /* PadN covering the 6 option bytes (RFC 8200 4.2) */
                p[3] = 4;
                break;
            default:
                break; /* routing type 0 with segments left 0, mobility, ...: zeros */
        }
        p += sz;
    }
    return s->nv6ext ? s->v6ext[0] : last;
}

static uint32_t pseudo_sum(const uint8_t *ip, int fam, size_t tcplen)
{
    uint32_t acc = 0;
    uint8_t tmp[4];

    if (fam == 4) {
        acc = csum_add(acc, ip + 12, 8);
    } else {
        acc = csum_add(acc, ip + 8, 32);
    }
    put32(tmp, (uint32_t)tcplen);
    acc = csum_add(acc, tmp, 4);
    return acc + 6;
}

static uint16_t tcp_csum(const uint8_t *buf, const pb_layout *lay, size_t *tcplen)
{
    const uint8_t *ip = buf + lay->l3;
    int fam = ip[0] >> 4;
    size_t end;

    if (fam == 4) {
        end = lay->l3 + rd16(ip + 2);
    } else {
        end = lay->l3 + IPV6_HLEN + rd16(ip + 4);
    }
    *tcplen = end > lay->l4 ? end - lay->l4 : 0;
    return csum_fold(csum_add(pseudo_sum(ip, fam, *tcplen), buf + lay->l4, *tcplen));
}

void pb_ipv4_checksum(uint8_t *ip)
{
    size_t ihl = (size_t)(ip[0] & 0x0Fu) * 4;
    put16(ip + 10, 0);
    put16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
}

void pb_fix_checksums(uint8_t *buf, const pb_layout *lay)
{
    uint8_t *ip = buf + lay->l3;
    size_t tcplen;

    if (ip[0] >> 4 == 4) {
        pb_ipv4_checksum(ip);
    }
    put16(buf + lay->l4 + 16, 0);
    put16(buf + lay->l4 + 16, tcp_csum(buf, lay, &tcplen));
}

int pb_tcp_checksum_ok(const uint8_t *buf, const pb_layout *lay)
{
    size_t tcplen;

    /* Summing over a correct checksum field gives 0xFFFF, i.e. 0 after ~. */
    return tcp_csum(buf, lay, &tcplen) == 0;
}

size_t pb_build_ex(uint8_t *buf, size_t cap, int linktype, const uint16_t *tags, int ntags,
                   const pb_seg *s, pb_layout *lay)
{
    uint8_t src[16], dst[16];
    int fam, fam2;
    size_t lh, iph, ipopt, optpad, ext = 0, tcph, total, frame;
    uint8_t proto = s->ip_proto ? s->ip_proto : 6;
    pb_layout l;

    fam = parse_addr(s->src, src);
    fam2 = parse_addr(s->dst, dst);
    if (fam == 0 || fam != fam2 || ntags < 0 || ntags > PB_MAX_VLAN || s->optlen > MAX_OPTLEN ||
        s->ipoptlen > MAX_OPTLEN || s->nv6ext > PB_MAX_V6EXT || (s->optlen && !s->opts) ||
        (s->ipoptlen && !s->ipopts) || (s->nv6ext && !s->v6ext) || (ntags && !tags)) {
        return 0;
    }
    if (ntags > 0 && linktype != TCPST_LT_ETHERNET && linktype != TCPST_LT_LINUX_SLL &&
        linktype != TCPST_LT_LINUX_SLL2) {
        return 0;
    }
    lh = link_hlen(linktype, ntags);
    if (lh == SIZE_MAX) {
        return 0;
    }
    ipopt = fam == 4 ? pad4(s->ipoptlen) : 0;
    for (size_t i = 0; fam == 6 && i < s->nv6ext; i++) {
        ext += v6ext_size(s->v6ext[i]);
    }
    iph = (fam == 4 ? IPV4_HLEN + ipopt : IPV6_HLEN + ext);
    optpad = pad4(s->optlen);
    tcph = TCP_HLEN + optpad;
    total = iph + tcph + s->payload_len; /* IP packet */
    if ((fam == 4 && total > 0xFFFF) || (fam == 6 && total - IPV6_HLEN > 0xFFFF)) {
        return 0;
    }
    frame = lh + total;
    if (frame < s->min_frame) {
        frame = s->min_frame;
    }
    if (frame > cap) {
        return 0;
    }
    memset(buf, 0, frame);
    l.l3 = lh;
    l.l4 = lh + iph;
    l.payload = l.l4 + tcph;
    l.len = frame;
    put_link(buf, linktype, tags, ntags, s, fam, total);

    if (fam == 4) {
        uint8_t *ip = buf + l.l3;
        ip[0] = (uint8_t)(0x40 | iph / 4);
        put16(ip + 2, (uint32_t)total);
        put16(ip + 4, s->ip_id & 0xFFFFu);
        put16(ip + 6, (s->df ? 0x4000u : 0u) | (s->mf ? 0x2000u : 0u) | (s->frag_off & 0x1FFFu));
        ip[8] = s->ttl ? s->ttl : 64;
        ip[9] = proto;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        if (s->ipoptlen) {
            memcpy(ip + IPV4_HLEN, s->ipopts, s->ipoptlen); /* rest stays EOL (0) */
        }
    } else {
        uint8_t *ip = buf + l.l3;
        ip[0] = 0x60;
        put16(ip + 4, (uint32_t)(total - IPV6_HLEN));
        ip[6] = put_v6ext(ip + IPV6_HLEN, s, proto);
        ip[7] = s->ttl ? s->ttl : 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
    }

    {
        uint8_t *t = buf + l.l4;
        put16(t, s->sport);
        put16(t + 2, s->dport);
        put32(t + 4, s->seq);
        put32(t + 8, s->ack);
        t[12] = (uint8_t)((tcph / 4) << 4 | ((s->flags & TCPST_AE) ? 1u : 0u));
        t[13] = (uint8_t)(s->flags & 0xFFu);
        put16(t + 14, s->win);
        put16(t + 18, s->urgptr);
        if (s->optlen) {
            memcpy(t + TCP_HLEN, s->opts, s->optlen); /* padding stays EOL (0) */
        }
    }
    for (size_t i = 0; i < s->payload_len; i++) {
        buf[l.payload + i] = s->payload ? s->payload[i] : pb_payload_byte(i);
    }
    pb_fix_checksums(buf, &l);
    if (s->bad_tcp_csum) {
        uint8_t *c = buf + l.l4 + 16;
        put16(c, (uint32_t)(rd16(c) + 1u) & 0xFFFFu);
    }
    if (lay != NULL) {
        *lay = l;
    }
    return frame;
}

size_t pb_build(uint8_t *buf, size_t cap, int linktype, const pb_seg *s)
{
    return pb_build_ex(buf, cap, linktype, NULL, 0, s, NULL);
}

size_t pb_build_vlan(uint8_t *buf, size_t cap, const uint16_t *tags, int ntags, const pb_seg *s)
{
    return pb_build_ex(buf, cap, TCPST_LT_ETHERNET, tags, ntags, s, NULL);
}

pb_seg pb_reverse(const pb_seg *s)
{
    pb_seg r = *s;

    r.src = s->dst;
    r.dst = s->src;
    r.sport = s->dport;
    r.dport = s->sport;
    return r;
}

/* ---- encapsulations ------------------------------------------------------ */

#define ENC_HEADROOM 2048 /* room for the layers in front of the inner packet */

/* What the bytes built so far are, for the type field of the layer around them. */
enum pb_content {
    PC_IP4,
    PC_IP6,
    PC_ETH,     /* a whole Ethernet frame */
    PC_ETYPE,   /* something an ethertype announces: et */
    PC_LLC,     /* LLC/SNAP: an 802.3 length is needed */
    PC_CW,      /* control word + Ethernet: only MPLS may wrap it */
    PC_GRE,     /* IP protocol 47 */
    PC_UDP,     /* IP protocol 17 */
    PC_TUNNEL,  /* a UDP tunnel header: only UDP may wrap it */
    PC_ERSPAN1, /* Ethernet for GRE 0x88BE without sequence number */
    PC_ERSPAN2,
    PC_ERSPAN3
};

typedef struct pb_cur {
    uint8_t *buf;
    size_t start, end; /* built bytes are buf[start..end) */
    enum pb_content what;
    uint16_t et; /* PC_ETYPE */
} pb_cur;

/* Make room for n bytes in front; NULL when the headroom is used up. */
static uint8_t *pb_prepend(pb_cur *c, size_t n)
{
    if (n > c->start) {
        return NULL;
    }
    c->start -= n;
    memset(c->buf + c->start, 0, n);
    return c->buf + c->start;
}

static size_t pb_len(const pb_cur *c)
{
    return c->end - c->start;
}

/* Ethertype announcing the content, 0 if none does. */
static uint16_t pb_ethertype(const pb_cur *c)
{
    switch (c->what) {
        case PC_IP4:
            return 0x0800;
        case PC_IP6:
            return 0x86DD;
        case PC_ETH:
            return 0x6558;
        case PC_ETYPE:
            return c->et;
        case PC_ERSPAN1:
        case PC_ERSPAN2:
            return 0x88BE;
        case PC_ERSPAN3:
            return 0x22EB;
        default:
            return 0;
    }
}

static uint8_t pb_ipproto(const pb_cur *c)
{
    switch (c->what) {
        case PC_IP4:
            return 4;
        case PC_IP6:
            return 41;
        case PC_GRE:
            return 47;
        case PC_UDP:
            return 17;
        default:
            return 0;
    }
}

static int pb_wrap_ip(pb_cur *c, const pb_layer *l)
{
    uint8_t a[16], b[16];
    int fam = parse_addr(l->src, a);
    uint8_t proto = pb_ipproto(c);
    size_t len = pb_len(c);
    uint8_t *p;

    if (fam == 0 || fam != parse_addr(l->dst, b) || proto == 0) {
        return -1;
    }
    if (fam == 4) {
        if (len + IPV4_HLEN > 0xFFFF || (p = pb_prepend(c, IPV4_HLEN)) == NULL) {
            return -1;
        }
        p[0] = 0x45;
        put16(p + 2, (uint32_t)(len + IPV4_HLEN));
        put16(p + 4, 0x1234);
        put16(p + 6, (l->mf ? 0x2000u : 0u) | (l->frag_off & 0x1FFFu));
        p[8] = 64;
        p[9] = proto;
        memcpy(p + 12, a, 4);
        memcpy(p + 16, b, 4);
        put16(p + 10, csum_fold(csum_add(0, p, IPV4_HLEN)));
        c->what = PC_IP4;
        return 0;
    }
    if (l->mf || l->frag_off) {
        if ((p = pb_prepend(c, 8)) == NULL) {
            return -1;
        }
        p[0] = proto; /* RFC 8200 4.5 */
        put16(p + 2, (uint32_t)(l->frag_off & 0x1FFFu) << 3 | (l->mf ? 1u : 0u));
        put32(p + 4, 0xCAFE);
        proto = 44;
        len += 8;
    }
    if (len > 0xFFFF || (p = pb_prepend(c, IPV6_HLEN)) == NULL) {
        return -1;
    }
    p[0] = 0x60;
    put16(p + 4, (uint32_t)len);
    p[6] = proto;
    p[7] = 64;
    memcpy(p + 8, a, 16);
    memcpy(p + 24, b, 16);
    c->what = PC_IP6;
    return 0;
}

static int pb_wrap_gre(pb_cur *c, const pb_layer *l)
{
    uint16_t et = pb_ethertype(c);
    bool seq = l->seq || c->what == PC_ERSPAN2;
    size_t hlen;
    uint8_t *p;

    if (c->what == PC_ERSPAN1) {
        seq = false;
    }
    if (l->pptp) {
        /* RFC 2637 4.1: key (payload length, call id) and sequence; PPP with FF 03 inside. */
        uint16_t pppp = c->what == PC_IP4 ? 0x0021 : 0x0057;
        size_t plen;
        if (c->what != PC_IP4 && c->what != PC_IP6) {
            return -1;
        }
        if ((p = pb_prepend(c, 4)) == NULL) {
            return -1;
        }
        p[0] = 0xFF;
        p[1] = 0x03;
        put16(p + 2, pppp);
        plen = pb_len(c);
        if ((p = pb_prepend(c, 12)) == NULL) {
            return -1;
        }
        put16(p, 0x2000u | 0x1000u | 1u);
        put16(p + 2, 0x880B);
        put32(p + 4, (uint32_t)plen << 16 | (l->id & 0xFFFFu));
        put32(p + 8, 1);
        c->what = PC_GRE;
        return 0;
    }
    if (et == 0) {
        return -1;
    }
    hlen = 4u + (l->csum ? 4u : 0u) + (l->key ? 4u : 0u) + (seq ? 4u : 0u);
    if ((p = pb_prepend(c, hlen)) == NULL) {
        return -1;
    }
    put16(p, (l->csum ? 0x8000u : 0u) | (l->key ? 0x2000u : 0u) | (seq ? 0x1000u : 0u));
    put16(p + 2, et);
    {
        size_t o = 4u + (l->csum ? 4u : 0u);
        if (l->key) {
            put32(p + o, l->id);
            o += 4;
        }
        if (seq) {
            put32(p + o, 77);
        }
    }
    if (l->csum) {
        put16(p + 4, csum_fold(csum_add(0, p, pb_len(c))));
    }
    c->what = PC_GRE;
    return 0;
}

static int pb_wrap_gtpu(pb_cur *c, const pb_layer *l)
{
    size_t opt = (l->seq || l->n_ext) ? 4 : 0;
    size_t ext = (size_t)l->n_ext * 4;
    uint8_t *p;

    if (c->what != PC_IP4 && c->what != PC_IP6) {
        return -1;
    }
    if ((p = pb_prepend(c, 8 + opt + ext)) == NULL) {
        return -1;
    }
    /* TS 29.281 5.1: version 1, PT 1, E, S; G-PDU; length after the first 8 bytes. */
    p[0] = (uint8_t)(0x30u | (l->n_ext ? 0x04u : 0u) | (l->seq ? 0x02u : 0u));
    p[1] = 255;
    put16(p + 2, (uint32_t)(pb_len(c) - 8));
    put32(p + 4, l->id);
    if (opt) {
        put16(p + 8, 0x1234);
        p[11] = l->n_ext ? 0x85 : 0; /* PDU session container */
    }
    for (size_t i = 0; i < l->n_ext; i++) {
        uint8_t *e = p + 8 + opt + 4 * i;
        e[0] = 1; /* 4 bytes */
        e[1] = 0x10;
        e[2] = (uint8_t)i;
        e[3] = i + 1 < l->n_ext ? 0x85 : 0;
    }
    c->what = PC_TUNNEL;
    return 0;
}

static int pb_wrap_teredo(pb_cur *c, const pb_layer *l)
{
    uint8_t *p;

    if (c->what != PC_IP6) {
        return -1;
    }
    if (l->opt) {
        /* RFC 4380 5.1.1: origin indication, port and address obfuscated. */
        if ((p = pb_prepend(c, 8)) == NULL) {
            return -1;
        }
        put16(p + 2, 3544u ^ 0xFFFFu);
        put32(p + 4, 0xC0000201u ^ 0xFFFFFFFFu);
    }
    if (l->auth) {
        /* Client id 2 bytes, authentication value 3, nonce 8, confirmation 1. */
        if ((p = pb_prepend(c, 13 + 2 + 3)) == NULL) {
            return -1;
        }
        put16(p, 1);
        p[2] = 2;
        p[3] = 3;
        memset(p + 4, 0x5A, 5);
        put32(p + 9, 0xDEADBEEF);
    }
    c->what = PC_TUNNEL;
    return 0;
}

static int pb_wrap_link(pb_cur *c, const pb_layer *l)
{
    uint16_t et = pb_ethertype(c);
    uint8_t *p;

    switch (l->kind) {
        case PB_ETH:
            if (c->what != PC_LLC && (et == 0 || c->what == PC_ETH)) {
                return -1;
            }
            if ((p = pb_prepend(c, ETH_HLEN)) == NULL) {
                return -1;
            }
            memcpy(p, mac_dst, 6);
            memcpy(p + 6, mac_src, 6);
            put16(p + 12, c->what == PC_LLC ? (uint32_t)(pb_len(c) - ETH_HLEN) : et);
            c->what = PC_ETH;
            return 0;
        case PB_VLAN:
            if ((et == 0 && c->what != PC_LLC) || c->what == PC_ETH ||
                (p = pb_prepend(c, 4)) == NULL) {
                return -1;
            }
            put16(p, l->id & 0x0FFFu);
            /* A tagged 802.3 frame has its length where the type would be. */
            put16(p + 2, c->what == PC_LLC ? (uint32_t)(pb_len(c) - 4) : et);
            c->what = PC_ETYPE;
            c->et = l->tpid ? l->tpid : 0x8100;
            return 0;
        case PB_MPLS: {
            bool bottom = !(c->what == PC_ETYPE && c->et == 0x8847);
            if ((bottom && c->what != PC_IP4 && c->what != PC_IP6 && c->what != PC_CW &&
                 c->what != PC_ETH) ||
                (p = pb_prepend(c, 4)) == NULL) {
                return -1;
            }
            put32(p, (l->id & 0xFFFFFu) << 12 | (bottom ? 0x100u : 0u) | 64u);
            c->what = PC_ETYPE;
            c->et = 0x8847;
            return 0;
        }
        case PB_PWCW:
            if (c->what != PC_ETH || pb_prepend(c, 4) == NULL) {
                return -1;
            }
            c->what = PC_CW;
            return 0;
        case PB_PPPOE:
            if ((c->what != PC_IP4 && c->what != PC_IP6) || (p = pb_prepend(c, 8)) == NULL) {
                return -1;
            }
            p[0] = 0x11; /* RFC 2516 4: version 1, type 1, code 0 */
            put16(p + 2, l->id);
            put16(p + 4, (uint32_t)(pb_len(c) - 6));
            put16(p + 6, c->what == PC_IP4 ? 0x0021 : 0x0057);
            c->what = PC_ETYPE;
            c->et = 0x8864;
            return 0;
        case PB_PBB:
            if (c->what != PC_ETH || (p = pb_prepend(c, 4)) == NULL) {
                return -1;
            }
            put32(p, l->id & 0xFFFFFFu);
            c->what = PC_ETYPE;
            c->et = 0x88E7;
            return 0;
        case PB_VNTAG:
            if (et == 0 || c->what == PC_ETH || (p = pb_prepend(c, 6)) == NULL) {
                return -1;
            }
            put16(p, 0x8000u | (l->id & 0x3FFFu)); /* D set: toward the bridge port */
            put16(p + 2, 0x0033);
            put16(p + 4, et);
            c->what = PC_ETYPE;
            c->et = 0x8926;
            return 0;
        case PB_FABRICPATH:
            if (c->what != PC_ETH || (p = pb_prepend(c, 16)) == NULL) {
                return -1;
            }
            /* Outer DA: switch id in the low nibble of byte 1 and byte 2, then sub-switch, LID. */
            p[0] = 0x02;
            p[1] = (uint8_t)(l->id >> 8 & 0x0Fu);
            p[2] = (uint8_t)l->id;
            p[5] = 0x0A;
            p[6] = 0x02;
            p[11] = 0x0B;
            put16(p + 12, 0x8903);
            put16(p + 14, 0x0040); /* FTag 0, TTL 64 */
            c->what = PC_ETH;
            return 0;
        case PB_LLC:
            if (et == 0 || c->what == PC_ETH || (p = pb_prepend(c, 8)) == NULL) {
                return -1;
            }
            p[0] = 0xAA;
            p[1] = 0xAA;
            p[2] = 0x03;
            put16(p + 6, et);
            c->what = PC_LLC;
            return 0;
        default:
            return -1;
    }
}

static int pb_wrap(pb_cur *c, const pb_layer *l)
{
    uint8_t *p;

    switch (l->kind) {
        case PB_IP:
            return pb_wrap_ip(c, l);
        case PB_GRE:
            return pb_wrap_gre(c, l);
        case PB_GTPU:
            return pb_wrap_gtpu(c, l);
        case PB_TEREDO:
            return pb_wrap_teredo(c, l);
        case PB_UDP:
            if (pb_len(c) + 8 > 0xFFFF || (p = pb_prepend(c, 8)) == NULL) {
                return -1;
            }
            put16(p, l->sport);
            put16(p + 2, l->dport);
            put16(p + 4, (uint32_t)pb_len(c));
            c->what = PC_UDP;
            return 0;
        case PB_VXLAN:
            if (c->what != PC_ETH || (p = pb_prepend(c, 8)) == NULL) {
                return -1;
            }
            p[0] = 0x08; /* RFC 7348 5: I flag */
            put32(p + 4, (l->id & 0xFFFFFFu) << 8);
            c->what = PC_TUNNEL;
            return 0;
        case PB_GENEVE: {
            uint16_t et = pb_ethertype(c);
            size_t ol = (size_t)(l->opt_words & 0x3Fu) * 4;
            if (et == 0 || (p = pb_prepend(c, 8 + ol)) == NULL) {
                return -1;
            }
            p[0] = (uint8_t)(l->opt_words & 0x3Fu); /* RFC 8926 3.4: version 0 */
            put16(p + 2, et);
            put32(p + 4, (l->id & 0xFFFFFFu) << 8);
            if (ol) {
                put16(p + 8, 0x0100); /* one option: class, type, length in words */
                p[10] = 0x01;
                p[11] = (uint8_t)(l->opt_words - 1);
                memset(p + 12, 0xEE, ol - 4);
            }
            c->what = PC_TUNNEL;
            return 0;
        }
        case PB_AYIYA:
            if ((c->what != PC_IP4 && c->what != PC_IP6) || (p = pb_prepend(c, 44)) == NULL) {
                return -1;
            }
            p[0] = 0x41; /* identity 2^4 = 16 bytes, IPv6 address */
            p[1] = 0x52; /* signature 5 words, SHA-1 */
            p[2] = 0x11; /* shared-secret auth, opcode forward */
            p[3] = c->what == PC_IP4 ? 4 : 41;
            put32(p + 4, 1700000000u);
            memset(p + 8, 0x20, 16);
            memset(p + 24, 0x77, 20);
            c->what = PC_TUNNEL;
            return 0;
        case PB_ERSPAN1:
            if (c->what != PC_ETH) {
                return -1;
            }
            c->what = PC_ERSPAN1;
            return 0;
        case PB_ERSPAN2:
            if (c->what != PC_ETH || (p = pb_prepend(c, 8)) == NULL) {
                return -1;
            }
            put16(p, 0x1000); /* version 1, VLAN 0 */
            put16(p + 2, l->id & 0x3FFu);
            put32(p + 4, 3);
            c->what = PC_ERSPAN2;
            return 0;
        case PB_ERSPAN3:
            if (c->what != PC_ETH || (p = pb_prepend(c, l->opt ? 20 : 12)) == NULL) {
                return -1;
            }
            put16(p, 0x2000); /* version 2 */
            put16(p + 2, l->id & 0x3FFu);
            put32(p + 4, 123456);
            p[10] = 0x00; /* P 0, FT 0 (Ethernet) */
            p[11] = l->opt ? 0x01 : 0x00;
            c->what = PC_ERSPAN3;
            return 0;
        default:
            return pb_wrap_link(c, l);
    }
}

size_t pb_build_encap(uint8_t *buf, size_t cap, int linktype, const pb_layer *layers, size_t n,
                      const pb_seg *s, pb_layout *lay, size_t *offs)
{
    pb_layout in;
    pb_cur c;
    size_t len, shift;

    if (cap <= ENC_HEADROOM || (n && layers == NULL)) {
        return 0;
    }
    len = pb_build_ex(buf + ENC_HEADROOM, cap - ENC_HEADROOM, TCPST_LT_RAW, NULL, 0, s, &in);
    if (len == 0) {
        return 0;
    }
    c.buf = buf;
    c.start = ENC_HEADROOM;
    c.end = ENC_HEADROOM + len;
    c.what = (buf[ENC_HEADROOM] >> 4) == 4 ? PC_IP4 : PC_IP6;
    c.et = 0;
    for (size_t i = n; i-- > 0;) {
        if (pb_wrap(&c, &layers[i]) != 0) {
            return 0;
        }
        if (offs != NULL) {
            offs[i] = c.start; /* made relative to the frame below */
        }
    }
    if (linktype == TCPST_LT_ETHERNET && c.what != PC_ETH) {
        pb_layer eth = {.kind = PB_ETH};
        if (pb_wrap(&c, &eth) != 0) {
            return 0;
        }
    } else if (linktype == TCPST_LT_LINUX_SLL) {
        uint16_t et = pb_ethertype(&c);
        uint8_t *p;
        if (et == 0 || c.what == PC_ETH || (p = pb_prepend(&c, SLL_HLEN)) == NULL) {
            return 0;
        }
        put16(p + 2, 1); /* ARPHRD_ETHER */
        put16(p + 4, 6);
        memcpy(p + 6, mac_src, 6);
        put16(p + 14, et);
    } else if (linktype != TCPST_LT_ETHERNET && c.what != PC_IP4 && c.what != PC_IP6) {
        return 0;
    }
    shift = c.start;
    len = c.end - c.start;
    memmove(buf, buf + shift, len);
    for (size_t i = 0; offs != NULL && i < n; i++) {
        offs[i] -= shift;
    }
    if (lay != NULL) {
        lay->l3 = in.l3 + ENC_HEADROOM - shift;
        lay->l4 = in.l4 + ENC_HEADROOM - shift;
        lay->payload = in.payload + ENC_HEADROOM - shift;
        lay->len = len;
    }
    return len;
}

/* ---- options ------------------------------------------------------------- */

size_t pb_opt_nop(uint8_t *out)
{
    out[0] = 1;
    return 1;
}

size_t pb_opt_eol(uint8_t *out)
{
    out[0] = 0;
    return 1;
}

size_t pb_opt_mss(uint8_t *out, uint16_t mss)
{
    out[0] = 2;
    out[1] = 4;
    put16(out + 2, mss);
    return 4;
}

size_t pb_opt_wscale(uint8_t *out, uint8_t shift)
{
    out[0] = 3;
    out[1] = 3;
    out[2] = shift;
    return 3;
}

size_t pb_opt_sackperm(uint8_t *out)
{
    out[0] = 4;
    out[1] = 2;
    return 2;
}

size_t pb_opt_ts(uint8_t *out, uint32_t tsval, uint32_t tsecr)
{
    out[0] = 8;
    out[1] = 10;
    put32(out + 2, tsval);
    put32(out + 6, tsecr);
    return 10;
}

size_t pb_opt_sack(uint8_t *out, const uint32_t *edges, size_t n)
{
    out[0] = 5;
    out[1] = (uint8_t)(2 + 8 * n);
    for (size_t i = 0; i < 2 * n; i++) {
        put32(out + 2 + 4 * i, edges[i]);
    }
    return 2 + 8 * n;
}

size_t pb_opt_tfo(uint8_t *out, const uint8_t *cookie, size_t len)
{
    out[0] = 34;
    out[1] = (uint8_t)(2 + len);
    if (len) {
        memcpy(out + 2, cookie, len);
    }
    return 2 + len;
}

size_t pb_opt_tfo_exp(uint8_t *out, const uint8_t *cookie, size_t len)
{
    out[0] = 254;
    out[1] = (uint8_t)(4 + len);
    put16(out + 2, 0xF989u);
    if (len) {
        memcpy(out + 4, cookie, len);
    }
    return 4 + len;
}

size_t pb_opt_raw(uint8_t *out, uint8_t kind, uint8_t lenbyte, const uint8_t *body, size_t n)
{
    out[0] = kind;
    out[1] = lenbyte;
    if (n) {
        memcpy(out + 2, body, n);
    }
    return 2 + n;
}

size_t pb_opt_syn(uint8_t *out, uint16_t mss, uint8_t wscale, uint32_t tsval, uint32_t tsecr)
{
    size_t n = 0;

    n += pb_opt_mss(out + n, mss);
    n += pb_opt_sackperm(out + n);
    n += pb_opt_ts(out + n, tsval, tsecr);
    n += pb_opt_nop(out + n);
    n += pb_opt_wscale(out + n, wscale);
    return n;
}

/* ---- capture files ------------------------------------------------------- */

static int put_u32(FILE *fp, uint32_t v)
{
    return fwrite(&v, sizeof v, 1, fp) == 1 ? 0 : -1;
}

static int put_u16(FILE *fp, uint16_t v)
{
    return fwrite(&v, sizeof v, 1, fp) == 1 ? 0 : -1;
}

/* Split ns into whole seconds and a fraction, flooring negative times. */
static void split_ts(int64_t ts_ns, int nanosecond, uint32_t *sec, uint32_t *frac)
{
    int64_t s = ts_ns / 1000000000;
    int64_t r = ts_ns % 1000000000;

    if (r < 0) {
        r += 1000000000;
        s--;
    }
    *sec = (uint32_t)s;
    *frac = (uint32_t)(nanosecond ? r : r / 1000);
}

static size_t wire_of(const pb_frame *f)
{
    return f->wirelen ? f->wirelen : f->len;
}

int pb_write_pcap_snap(const char *path, int linktype, int nanosecond, uint32_t snaplen,
                       const pb_frame *frames, size_t n)
{
    FILE *fp = fopen(path, "wb");
    int rc = 0;

    if (fp == NULL) {
        return -1;
    }
    rc |= put_u32(fp, nanosecond ? 0xA1B23C4Du : 0xA1B2C3D4u);
    rc |= put_u16(fp, 2);
    rc |= put_u16(fp, 4);
    rc |= put_u32(fp, 0); /* thiszone */
    rc |= put_u32(fp, 0); /* sigfigs */
    rc |= put_u32(fp, snaplen);
    rc |= put_u32(fp, (uint32_t)linktype);
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint32_t sec, frac;
        split_ts(frames[i].ts_ns, nanosecond, &sec, &frac);
        rc |= put_u32(fp, sec);
        rc |= put_u32(fp, frac);
        rc |= put_u32(fp, (uint32_t)frames[i].len);
        rc |= put_u32(fp, (uint32_t)wire_of(&frames[i]));
        if (frames[i].len && fwrite(frames[i].data, frames[i].len, 1, fp) != 1) {
            rc = -1;
        }
    }
    if (fclose(fp) != 0) {
        rc = -1;
    }
    return rc ? -1 : 0;
}

int pb_write_pcap(const char *path, int linktype, int nanosecond, const pb_frame *frames, size_t n)
{
    return pb_write_pcap_snap(path, linktype, nanosecond, 262144, frames, n);
}

int pb_write_pcapng(const char *path, int linktype, int nanosecond, const pb_frame *frames,
                    size_t n)
{
    static const uint8_t zeros[4] = {0, 0, 0, 0};
    static const uint8_t tsresol[4] = {9, 0, 0, 0}; /* 10^-9 s, then 3 pad bytes */
    FILE *fp = fopen(path, "wb");
    int rc = 0;
    uint32_t idb_len = nanosecond ? 32 : 20;

    if (fp == NULL) {
        return -1;
    }
    /* Section Header Block: BOM, version 1.0, unknown section length. */
    rc |= put_u32(fp, 0x0A0D0D0Au);
    rc |= put_u32(fp, 28);
    rc |= put_u32(fp, 0x1A2B3C4Du);
    rc |= put_u16(fp, 1);
    rc |= put_u16(fp, 0);
    rc |= put_u32(fp, 0xFFFFFFFFu);
    rc |= put_u32(fp, 0xFFFFFFFFu);
    rc |= put_u32(fp, 28);
    /* Interface Description Block, with if_tsresol = 9 for nanoseconds. */
    rc |= put_u32(fp, 1);
    rc |= put_u32(fp, idb_len);
    rc |= put_u16(fp, (uint16_t)linktype);
    rc |= put_u16(fp, 0);
    rc |= put_u32(fp, 262144);
    if (nanosecond) {
        rc |= put_u16(fp, 9); /* if_tsresol */
        rc |= put_u16(fp, 1);
        if (fwrite(tsresol, sizeof tsresol, 1, fp) != 1) {
            rc = -1;
        }
        rc |= put_u32(fp, 0); /* opt_endofopt */
    }
    rc |= put_u32(fp, idb_len);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t padded = pad4(frames[i].len);
        uint32_t blen = (uint32_t)(32 + padded);
        uint64_t units;
        int64_t ts = frames[i].ts_ns < 0 ? 0 : frames[i].ts_ns;

        units = (uint64_t)(nanosecond ? ts : ts / 1000);
        rc |= put_u32(fp, 6);
        rc |= put_u32(fp, blen);
        rc |= put_u32(fp, 0); /* interface id */
        rc |= put_u32(fp, (uint32_t)(units >> 32));
        rc |= put_u32(fp, (uint32_t)units);
        rc |= put_u32(fp, (uint32_t)frames[i].len);
        rc |= put_u32(fp, (uint32_t)wire_of(&frames[i]));
        if (frames[i].len && fwrite(frames[i].data, frames[i].len, 1, fp) != 1) {
            rc = -1;
        }
        if (padded > frames[i].len && fwrite(zeros, padded - frames[i].len, 1, fp) != 1) {
            rc = -1;
        }
        rc |= put_u32(fp, blen);
    }
    if (fclose(fp) != 0) {
        rc = -1;
    }
    return rc ? -1 : 0;
}

int pb_tmpfile(char *out, size_t cap, const char *suffix)
{
    const char *dir = getenv("TMPDIR");
    int fd, n;

    if (dir == NULL || dir[0] == '\0') {
        dir = "/tmp";
    }
    if (suffix == NULL) {
        suffix = "";
    }
    n = snprintf(out, cap, "%s/tcpstate-XXXXXX%s", dir, suffix);
    if (n < 0 || (size_t)n >= cap) {
        return -1;
    }
    fd = mkstemps(out, (int)strlen(suffix));
    if (fd < 0) {
        return -1;
    }
    close(fd);
    return 0;
}

tcpst_segment pb_segment(int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    tcpst_segment s;
    memset(&s, 0, sizeof s);
    tcpst_addr a = {.family = 4}, b = {.family = 4};
    inet_pton(AF_INET, "198.18.0.1", a.bytes);
    inet_pton(AF_INET, "198.18.0.2", b.bytes);
    s.src = c2s ? a : b;
    s.dst = c2s ? b : a;
    s.sport = c2s ? 40000 : 80;
    s.dport = c2s ? 80 : 40000;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = 65535;
    s.payload_len = len;
    s.ip_version = 4;
    s.ip_len = 40 + len;
    s.tcp_hlen = 20;
    return s;
}
