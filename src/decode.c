/*
 * decode.c - one captured frame to a flat tcpst_segment.
 *
 * Layers, in order: link header (Ethernet with 802.1Q/802.1ad tags and Cisco
 * FabricPath, Linux cooked v1/v2, raw IP, BSD NULL, OpenBSD LOOP, FDDI with
 * LLC/SNAP), IPv4 (RFC 791) or IPv6
 * with its extension header chain (RFC 8200 4), then the fixed TCP header
 * (RFC 9293 3.1) whose options go to tcpopt.c.
 *
 * Every byte is read through the bounds-checked getters below against the
 * captured length; packet bytes are never cast to structs.  "Truncated"
 * (a header cut by the snaplen) and "bad" (a header that contradicts the
 * length fields) are separate outcomes, as in tcpdump.  Lengths always come
 * from the IP header, never from the captured size, so Ethernet padding never
 * becomes payload and snapped payload is still counted.
 *
 * What it does not do: reassemble fragments, verify checksums, follow
 * tunnels (GRE, IP-in-IP, MPLS, PPPoE), or keep any state between frames.
 */
#include "tcpstate/decode.h"

#include <stdbool.h>
#include <string.h>

#define ETH_HLEN             14
#define ETH_MIN_TYPE         0x0600u /* below: an 802.3 length field (IEEE 802.3 3.2.6) */
#define ETHERTYPE_IPV4       0x0800u
#define ETHERTYPE_IPV6       0x86DDu
#define ETHERTYPE_8021Q      0x8100u /* C-tag */
#define ETHERTYPE_8021AD     0x88A8u /* S-tag */
#define ETHERTYPE_QINQ_OLD   0x9100u
#define ETHERTYPE_FABRICPATH 0x8903u /* Cisco FabricPath: 16-byte outer header */
#define FABRICPATH_HLEN      16
#define VLAN_TAG_LEN         4
#define VLAN_MAX_SKIP        TCPST_MAX_VLAN_SKIP
#define SLL_HLEN             16
#define SLL2_HLEN            20
#define NULL_HLEN            4
#define FDDI_HLEN            13 /* frame control + two MACs */
#define SNAP_HLEN            8  /* 802.2 LLC AA AA 03 + OUI + ethertype (RFC 1042) */

/* Address family values seen in DLT_NULL / DLT_LOOP headers. */
#define BSD_AF_INET          2
#define BSD_AF_INET6_BSD     24 /* NetBSD, OpenBSD */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN  30

#define IPV4_MIN_HLEN 20
#define IPV4_MF       0x2000u
#define IPV4_DF       0x4000u
#define IPV4_OFFMASK  0x1FFFu
#define IPV6_HLEN     40
#define IPPROTO_TCP_  6
#define TCP_MIN_HLEN  20

/* IPv6 next-header values walked as extension headers (RFC 8200 4, RFC 7045). */
#define NH_HOPOPTS  0
#define NH_ROUTING  43
#define NH_FRAGMENT 44
#define NH_AH       51 /* RFC 4302 2.2: length in 4-byte units minus 2 */
#define NH_DSTOPTS  60
#define NH_MOBILITY 135 /* RFC 6275 */
#define NH_HIP      139 /* RFC 7401 */
#define NH_SHIM6    140 /* RFC 5533 */
#define V6FRAG_LEN  8

/* The frame as the getters see it: wirelen is never below caplen. */
typedef struct frame {
    const uint8_t *data;
    size_t caplen;
    size_t wirelen;
} frame;

/* Where the IP layer starts and which version the link layer announced. */
typedef struct l3info {
    size_t off;
    int version; /* 4, 6, or 0 = read it from the version nibble */
} l3info;

static bool have(const frame *f, size_t off, size_t n)
{
    return off <= f->caplen && n <= f->caplen - off;
}

/* Getters return 0 outside the captured bytes; callers check have() first. */
static uint8_t get8(const frame *f, size_t off)
{
    return have(f, off, 1) ? f->data[off] : 0;
}

static uint16_t get16(const frame *f, size_t off)
{
    if (!have(f, off, 2)) {
        return 0;
    }
    return (uint16_t)((unsigned)f->data[off] << 8 | f->data[off + 1]);
}

static uint32_t get32(const frame *f, size_t off)
{
    if (!have(f, off, 4)) {
        return 0;
    }
    return (uint32_t)f->data[off] << 24 | (uint32_t)f->data[off + 1] << 16 |
           (uint32_t)f->data[off + 2] << 8 | f->data[off + 3];
}

static uint32_t get32le(const frame *f, size_t off)
{
    if (!have(f, off, 4)) {
        return 0;
    }
    return (uint32_t)f->data[off + 3] << 24 | (uint32_t)f->data[off + 2] << 16 |
           (uint32_t)f->data[off + 1] << 8 | f->data[off];
}

static void get_bytes(const frame *f, size_t off, uint8_t *dst, size_t n)
{
    if (have(f, off, n)) {
        memcpy(dst, f->data + off, n);
    }
}

/* ---- link layer ---------------------------------------------------------- */

/*
 * Skip any stack of VLAN tags (802.1Q 0x8100, 802.1ad 0x88A8, and the
 * pre-standard 0x9100 QinQ) and map the final ethertype to an IP version.
 */
static tcpst_decode_status ethertype(const frame *f, size_t off, uint16_t type, tcpst_segment *seg,
                                     l3info *l3)
{
    while (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD || type == ETHERTYPE_QINQ_OLD) {
        if (seg->nvlan >= VLAN_MAX_SKIP) {
            return TCPST_DEC_VLAN_DEPTH;
        }
        if (!have(f, off, VLAN_TAG_LEN)) {
            return TCPST_DEC_TRUNC_LINK;
        }
        if (seg->nvlan < TCPST_MAX_VLAN) {
            seg->vlan[seg->nvlan] = get16(f, off) & 0x0FFFu; /* drop PCP and DEI */
        }
        seg->nvlan++;
        type = get16(f, off + 2);
        off += VLAN_TAG_LEN;
    }
    l3->off = off;
    if (type == ETHERTYPE_IPV4) {
        l3->version = 4;
    } else if (type == ETHERTYPE_IPV6) {
        l3->version = 6;
    } else {
        return TCPST_DEC_NOT_IP;
    }
    return TCPST_DEC_OK;
}

/* BSD address family to IP version; IPv6 has three values across the BSDs. */
static tcpst_decode_status bsd_af(uint32_t af, l3info *l3)
{
    l3->off = NULL_HLEN;
    switch (af) {
        case BSD_AF_INET:
            l3->version = 4;
            return TCPST_DEC_OK;
        case BSD_AF_INET6_BSD:
        case BSD_AF_INET6_FREEBSD:
        case BSD_AF_INET6_DARWIN:
            l3->version = 6;
            return TCPST_DEC_OK;
        default:
            return TCPST_DEC_NOT_IP;
    }
}

/*
 * FDDI carries IP only in LLC/SNAP (RFC 1188, RFC 1042): DSAP and SSAP 0xAA,
 * UI control 0x03, an OUI of 0 (or 0x0000F8, 802.1H), then the ethertype.
 */
static tcpst_decode_status fddi(const frame *f, tcpst_segment *seg, l3info *l3)
{
    uint32_t oui;

    if (!have(f, 0, FDDI_HLEN + SNAP_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    if (get8(f, FDDI_HLEN) != 0xAA || get8(f, FDDI_HLEN + 1) != 0xAA ||
        get8(f, FDDI_HLEN + 2) != 0x03) {
        return TCPST_DEC_NOT_IP;
    }
    oui = get32(f, FDDI_HLEN + 2) & 0x00FFFFFFu;
    if (oui != 0 && oui != 0xF8) {
        return TCPST_DEC_NOT_IP;
    }
    return ethertype(f, FDDI_HLEN + SNAP_HLEN, get16(f, FDDI_HLEN + 6), seg, l3);
}

static tcpst_decode_status link_layer(int linktype, const frame *f, tcpst_segment *seg, l3info *l3)
{
    uint32_t af;

    l3->off = 0;
    l3->version = 0;
    switch (linktype) {
        case TCPST_LT_ETHERNET: {
            uint16_t type;
            if (!have(f, 0, ETH_HLEN)) {
                return TCPST_DEC_TRUNC_LINK;
            }
            type = get16(f, 12);
            if (type == ETHERTYPE_FABRICPATH) {
                /* Outer MACs, ethertype and FTag/TTL (16 bytes), then a whole
                 * inner Ethernet header; Zeek decodes it, so the corpus needs it. */
                if (!have(f, 0, FABRICPATH_HLEN + ETH_HLEN)) {
                    return TCPST_DEC_TRUNC_LINK;
                }
                type = get16(f, FABRICPATH_HLEN + 12);
                if (type < ETH_MIN_TYPE) {
                    return TCPST_DEC_NOT_IP;
                }
                return ethertype(f, FABRICPATH_HLEN + ETH_HLEN, type, seg, l3);
            }
            if (type < ETH_MIN_TYPE) {
                return TCPST_DEC_NOT_IP; /* 802.3 + LLC: no IP over that here */
            }
            return ethertype(f, ETH_HLEN, type, seg, l3);
        }
        case TCPST_LT_LINUX_SLL:
            if (!have(f, 0, SLL_HLEN)) {
                return TCPST_DEC_TRUNC_LINK;
            }
            /* Protocol at offset 14; libpcap re-inserts stripped VLAN tags after it. */
            return ethertype(f, SLL_HLEN, get16(f, 14), seg, l3);
        case TCPST_LT_LINUX_SLL2:
            if (!have(f, 0, SLL2_HLEN)) {
                return TCPST_DEC_TRUNC_LINK;
            }
            return ethertype(f, SLL2_HLEN, get16(f, 0), seg, l3);
        case TCPST_LT_FDDI:
            return fddi(f, seg, l3);
        case TCPST_LT_NULL:
            if (!have(f, 0, NULL_HLEN)) {
                return TCPST_DEC_TRUNC_LINK;
            }
            /* Host byte order of the capturing machine, which we do not know:
             * every valid AF is small, so the reading that fits in 16 bits wins. */
            af = get32le(f, 0);
            if (af > 0xFFFFu) {
                af = get32(f, 0);
            }
            return bsd_af(af, l3);
        case TCPST_LT_LOOP:
            if (!have(f, 0, NULL_HLEN)) {
                return TCPST_DEC_TRUNC_LINK;
            }
            return bsd_af(get32(f, 0), l3); /* always network byte order */
        case TCPST_LT_RAW:
        case TCPST_LT_DLT_RAW_12:
        case TCPST_LT_DLT_RAW_14:
            return TCPST_DEC_OK; /* version nibble decides */
        case TCPST_LT_IPV4:
            l3->version = 4;
            return TCPST_DEC_OK;
        case TCPST_LT_IPV6:
            l3->version = 6;
            return TCPST_DEC_OK;
        default:
            return TCPST_DEC_BAD_LINK;
    }
}

/* ---- IP layer -------------------------------------------------------------- */

/* Where the TCP header starts and how many bytes the IP lengths give it. */
typedef struct l4info {
    size_t off;
    size_t len; /* TCP header + payload per the IP length fields */
} l4info;

static tcpst_decode_status ipv4(const frame *f, size_t off, tcpst_segment *seg, l4info *l4)
{
    size_t ihl = (size_t)(get8(f, off) & 0x0Fu) * 4;
    size_t wire = f->wirelen - off;
    size_t tot;
    uint16_t frag;
    uint8_t proto;

    if (ihl < IPV4_MIN_HLEN) {
        return TCPST_DEC_BAD_IP_HLEN;
    }
    if (!have(f, off, IPV4_MIN_HLEN)) {
        return TCPST_DEC_TRUNC_IP;
    }
    seg->ip_version = 4;
    seg->ttl = get8(f, off + 8);
    seg->src.family = 4;
    seg->dst.family = 4;
    get_bytes(f, off + 12, seg->src.bytes, 4);
    get_bytes(f, off + 16, seg->dst.bytes, 4);

    /* RFC 791 3.1: total length counts header and data.  0 is what captures
     * of TSO/GSO super-packets show (the NIC fills it in later); when the
     * whole frame was captured its length is the only truthful one, as
     * Wireshark and Zeek also assume. */
    tot = get16(f, off + 2);
    if (tot == 0 && f->caplen == f->wirelen && wire >= IPV4_MIN_HLEN && wire <= 0xFFFFu) {
        tot = wire;
        seg->ipflags |= TCPST_IP_LEN_FROM_FRAME;
    }
    if (tot < IPV4_MIN_HLEN) {
        return TCPST_DEC_BAD_IP_LEN;
    }
    if (ihl > tot) {
        return TCPST_DEC_BAD_IP_HLEN;
    }
    if (tot > wire) {
        return TCPST_DEC_BAD_IP_LEN;
    }
    if (!have(f, off, ihl)) {
        return TCPST_DEC_TRUNC_IP; /* options cut by the snaplen */
    }
    seg->ip_len = (uint32_t)tot;
    frag = get16(f, off + 6);
    proto = get8(f, off + 9);
    if (ihl > IPV4_MIN_HLEN) {
        seg->ipflags |= TCPST_IP_HAS_OPTIONS;
    }
    if (frag & IPV4_DF) {
        seg->ipflags |= TCPST_IP_DF;
    }
    if (frag & (IPV4_MF | IPV4_OFFMASK)) {
        return proto == IPPROTO_TCP_ ? TCPST_DEC_IP_FRAGMENT : TCPST_DEC_NOT_TCP;
    }
    if (proto != IPPROTO_TCP_) {
        return TCPST_DEC_NOT_TCP;
    }
    l4->off = off + ihl;
    l4->len = tot - ihl;
    return TCPST_DEC_OK;
}

/* Length of the extension header `nh` whose second byte is `b1`; 0 if not one. */
static size_t v6ext_len(uint8_t nh, uint8_t b1)
{
    switch (nh) {
        case NH_HOPOPTS:
        case NH_ROUTING:
        case NH_DSTOPTS:
        case NH_MOBILITY:
        case NH_HIP:
        case NH_SHIM6:
            return ((size_t)b1 + 1) * 8; /* RFC 8200 4.3: 8-octet units, first excluded */
        case NH_AH:
            return ((size_t)b1 + 2) * 4;
        case NH_FRAGMENT:
            return V6FRAG_LEN;
        default:
            return 0;
    }
}

static tcpst_decode_status ipv6(const frame *f, size_t off, tcpst_segment *seg, l4info *l4)
{
    size_t wire = f->wirelen - off;
    size_t plen, cur, end;
    unsigned nexts = 0;
    uint8_t nh;

    if (!have(f, off, IPV6_HLEN)) {
        return TCPST_DEC_TRUNC_IP;
    }
    seg->ip_version = 6;
    seg->ttl = get8(f, off + 7);
    seg->src.family = 6;
    seg->dst.family = 6;
    get_bytes(f, off + 8, seg->src.bytes, 16);
    get_bytes(f, off + 24, seg->dst.bytes, 16);

    plen = get16(f, off + 4);
    nh = get8(f, off + 6);
    /* Payload length 0 is a jumbogram (RFC 2675: hop-by-hop first) or a
     * TSO/GSO super-packet when it carries TCP; we decode neither.  With any
     * other next header it is simply an empty packet (RFC 8200 3). */
    if ((plen == 0 && (nh == IPPROTO_TCP_ || nh == NH_HOPOPTS)) || IPV6_HLEN + plen > wire) {
        return TCPST_DEC_BAD_IP_LEN;
    }
    seg->ip_len = (uint32_t)(IPV6_HLEN + plen);
    cur = off + IPV6_HLEN;
    end = cur + plen;

    while (nh != IPPROTO_TCP_) {
        size_t hlen;
        /* 59 (no next header), ESP (its payload is opaque) and every upper
         * layer other than TCP end up here. */
        if (v6ext_len(nh, 0) == 0) {
            return TCPST_DEC_NOT_TCP;
        }
        if (++nexts > TCPST_MAX_IPV6_EXT) {
            return TCPST_DEC_IPV6_EXT_LIMIT;
        }
        seg->ipflags |= TCPST_IP_HAS_EXTHDR;
        if (!have(f, cur, 2) || end - cur < 2) {
            return TCPST_DEC_IPV6_EXT_TRUNC;
        }
        hlen = v6ext_len(nh, get8(f, cur + 1));
        if (hlen > end - cur || !have(f, cur, hlen)) {
            return TCPST_DEC_IPV6_EXT_TRUNC;
        }
        if (nh == NH_FRAGMENT) {
            /* RFC 8200 4.5: offset in bits 15..3, M in bit 0.  Offset 0 with
             * M clear is an atomic fragment (RFC 6946) and is a whole packet. */
            uint16_t fo = get16(f, cur + 2);
            uint8_t inner = get8(f, cur);
            if (fo & 0xFFF9u) {
                bool maybe_tcp = inner == IPPROTO_TCP_ || v6ext_len(inner, 0) != 0;
                return maybe_tcp ? TCPST_DEC_IP_FRAGMENT : TCPST_DEC_NOT_TCP;
            }
        }
        nh = get8(f, cur);
        cur += hlen;
    }
    l4->off = cur;
    l4->len = end - cur;
    return TCPST_DEC_OK;
}

/* ---- TCP ----------------------------------------------------------------- */

static tcpst_decode_status tcp(const frame *f, const l4info *l4, tcpst_segment *seg)
{
    size_t off = l4->off;
    size_t hlen, captured, pay;

    if (!have(f, off, 13)) {
        /* Not even the data offset byte: bad if the IP length cannot hold a
         * minimal header, otherwise cut by the snaplen. */
        return l4->len < TCP_MIN_HLEN ? TCPST_DEC_BAD_TCP_HLEN : TCPST_DEC_TRUNC_TCP;
    }
    hlen = (size_t)(get8(f, off + 12) >> 4) * 4;
    if (hlen < TCP_MIN_HLEN || hlen > l4->len) {
        return TCPST_DEC_BAD_TCP_HLEN;
    }
    if (!have(f, off, hlen)) {
        /* Options carry window scale and SACK state: a cut header is unusable. */
        return TCPST_DEC_TRUNC_TCP;
    }
    seg->sport = get16(f, off);
    seg->dport = get16(f, off + 2);
    seg->seq = get32(f, off + 4);
    seg->ack = get32(f, off + 8);
    /* Byte 13 holds CWR..FIN; the low bit of byte 12 is AE (was NS, RFC 3540). */
    seg->flags = (uint16_t)(get8(f, off + 13) | (get8(f, off + 12) & 0x01u) << 8);
    seg->window = get16(f, off + 14);
    seg->checksum = get16(f, off + 16);
    seg->urgptr = get16(f, off + 18);
    seg->tcp_hlen = (uint8_t)hlen;
    tcpst_tcpopt_parse(f->data + off + TCP_MIN_HLEN, hlen - TCP_MIN_HLEN, &seg->opts);

    pay = l4->len - hlen;
    captured = f->caplen - off - hlen;
    seg->payload_len = (uint32_t)pay;
    if (captured < pay) {
        seg->payload_caplen = (uint32_t)captured;
        seg->ipflags |= TCPST_IP_PAYLOAD_TRUNC;
    } else {
        seg->payload_caplen = (uint32_t)pay; /* trailing bytes are link padding */
    }
    return TCPST_DEC_OK;
}

/* ---- entry points ---------------------------------------------------------- */

tcpst_decode_status tcpst_decode(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
                                 tcpst_segment *seg)
{
    frame f;
    l3info l3;
    l4info l4;
    tcpst_decode_status st;
    int version;

    memset(seg, 0, sizeof *seg);
    f.data = data;
    f.caplen = data != NULL ? caplen : 0;
    /* libpcap guarantees caplen <= len; a file that breaks it gets no trust. */
    f.wirelen = wirelen < f.caplen ? f.caplen : wirelen;

    st = link_layer(linktype, &f, seg, &l3);
    if (st != TCPST_DEC_OK) {
        return st;
    }
    if (!have(&f, l3.off, 1)) {
        return TCPST_DEC_TRUNC_IP;
    }
    version = get8(&f, l3.off) >> 4;
    if (l3.version != 0 && version != l3.version) {
        return TCPST_DEC_BAD_IP_VERSION;
    }
    if (version == 4) {
        st = ipv4(&f, l3.off, seg, &l4);
    } else if (version == 6) {
        st = ipv6(&f, l3.off, seg, &l4);
    } else {
        return TCPST_DEC_BAD_IP_VERSION;
    }
    if (st != TCPST_DEC_OK) {
        return st;
    }
    seg->l3_off = (uint16_t)l3.off;
    seg->l4_off = (uint16_t)l4.off;
    return tcp(&f, &l4, seg);
}

/* RFC 1071 one's-complement sum, continued from `sum`. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

tcpst_csum tcpst_decode_checksum(const uint8_t *data, size_t caplen, const tcpst_segment *seg)
{
    size_t l3 = seg->l3_off, l4 = seg->l4_off;
    size_t tcplen = (size_t)seg->tcp_hlen + seg->payload_len;
    if (l4 + tcplen > caplen || l4 < l3) {
        return TCPST_CSUM_UNVERIFIABLE;
    }
    uint8_t pseudo[40];
    size_t plen;
    if (seg->ip_version == 4) {
        if (csum_fold(csum_add(0, data + l3, l4 - l3)) != 0) {
            return TCPST_CSUM_BAD_IP;
        }
        memcpy(pseudo, seg->src.bytes, 4);
        memcpy(pseudo + 4, seg->dst.bytes, 4);
        pseudo[8] = 0;
        pseudo[9] = 6;
        pseudo[10] = (uint8_t)(tcplen >> 8);
        pseudo[11] = (uint8_t)tcplen;
        plen = 12;
    } else {
        memcpy(pseudo, seg->src.bytes, 16);
        memcpy(pseudo + 16, seg->dst.bytes, 16);
        pseudo[32] = (uint8_t)(tcplen >> 24);
        pseudo[33] = (uint8_t)(tcplen >> 16);
        pseudo[34] = (uint8_t)(tcplen >> 8);
        pseudo[35] = (uint8_t)tcplen;
        pseudo[36] = pseudo[37] = pseudo[38] = 0;
        pseudo[39] = 6;
        plen = 40;
    }
    uint32_t sum = csum_add(csum_add(0, pseudo, plen), data + l4, tcplen);
    return csum_fold(sum) == 0 ? TCPST_CSUM_OK : TCPST_CSUM_BAD_TCP;
}

static const char *const status_names[] = {
#define TCPST_X_NAME(name, str) str,
    TCPST_DECODE_STATUS_MAP(TCPST_X_NAME)
#undef TCPST_X_NAME
};

const char *tcpst_decode_status_name(tcpst_decode_status st)
{
    if ((unsigned)st >= (unsigned)TCPST_DEC__COUNT) {
        return "unknown";
    }
    return status_names[st];
}

int tcpst_decode_linktype_supported(int linktype)
{
    switch (linktype) {
        case TCPST_LT_NULL:
        case TCPST_LT_ETHERNET:
        case TCPST_LT_FDDI:
        case TCPST_LT_RAW:
        case TCPST_LT_DLT_RAW_12:
        case TCPST_LT_DLT_RAW_14:
        case TCPST_LT_LOOP:
        case TCPST_LT_LINUX_SLL:
        case TCPST_LT_IPV4:
        case TCPST_LT_IPV6:
        case TCPST_LT_LINUX_SLL2:
            return 1;
        default:
            return 0;
    }
}
