// SPDX-License-Identifier: BSD-3-Clause
/*
 * wlan.c - the 802.11 link types: the MAC header of data frames (IEEE 802.11-2020 9.2, 9.3.2)
 * with the radio headers monitor-mode captures put before it: radiotap, PPI, Prism and AVS.
 *
 * Only data frames that carry data lead anywhere: their body is LLC/SNAP (read as for FDDI)
 * and then an ethertype.  Management, control and null-data frames are valid frames that
 * carry no IP.  A protected frame's body is ciphertext: it is ENCRYPTED, never guessed at,
 * even where a driver decrypted it and left the bit set.  A radio header that says the frame
 * failed its FCS check makes it BAD_LINK: the receiver dropped it, so it must move no state.
 * One that says the frame ends in its FCS takes those 4 bytes off the frame before the walk,
 * so no length (IPv4's 0 of TSO captures included) can take them for packet bytes.
 *
 * What it does not do: split an A-MSDU into its packets (the decoder gives one segment a
 * frame, so the frame is not decoded rather than half read), read mesh control fields, or
 * use anything of the radio headers but their length and FCS flags.  The table rows are in
 * linktype.c.
 */
#include "cursor.h"

/* Frame control: version, type and subtype in the first byte, flags in the second. */
#define WLAN_HLEN       24 /* FC, duration, three addresses, sequence control */
#define WLAN_ADDR4_LEN  6
#define WLAN_QOS_LEN    2
#define WLAN_HTC_LEN    4
#define WLAN_TYPE_DATA  2u
#define WLAN_SUB_NODATA 0x4u /* null function, QoS null, CF-Ack/Poll without data */
#define WLAN_SUB_QOS    0x8u
#define WLAN_TO_FROM_DS 0x03u
#define WLAN_PROTECTED  0x40u
#define WLAN_ORDER      0x80u
#define WLAN_QOS_AMSDU  0x80u /* QoS control, first byte: an A-MSDU */
#define FCS_LEN         4

/* radiotap (www.radiotap.org): version, pad, length, present words (little-endian). */
#define RT_HLEN      8
#define RT_TSFT      (1u << 0)
#define RT_FLAGS     (1u << 1)
#define RT_EXT       (1u << 31)
#define RT_F_FCS     0x10u /* the frame ends in its FCS */
#define RT_F_DATAPAD 0x20u /* padding between the 802.11 header and the body, to 4 bytes */
#define RT_F_BADFCS  0x40u

/* PPI (CACE Technologies): version, flags, length, inner DLT; then typed fields. */
#define PPI_HLEN         8
#define PPI_ALIGNED      0x01u /* fields padded to 4 bytes */
#define PPI_80211_COMMON 2u
#define PPI_COMMON_LEN   20
#define PPI_HAVE_FCS     0x0001u
#define PPI_FCS_INVALID  0x0004u
#define PPI_PHY_ERROR    0x0008u
#define DLT_ETHERNET_    1u
#define DLT_IEEE802_11_  105u

/* Prism's fixed header; AVS by its magic (as libpcap's filters and tcpdump read them). */
#define PRISM_HLEN 144
#define AVS_V1     0x80211001u
#define AVS_V2     0x80211002u
#define AVS_MIN    8

/* The 802.11 MAC header at off; `datapad`: a radiotap header said the body is 4-aligned. */
static tcpst_decode_status wlan_at(dctx *c, cursor *cur, size_t off, bool datapad)
{
    const frame *f = &c->f;
    if (!have(f, off, 2)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    uint32_t fc = get8(f, off), flags = get8(f, off + 1);
    if (fc & 0x03u) {
        return TCPST_DEC_BAD_LINK; /* protocol version 1 (S1G short frames) has another layout */
    }
    uint32_t type = fc >> 2 & 0x03u, subtype = fc >> 4;
    if (type != WLAN_TYPE_DATA || (subtype & WLAN_SUB_NODATA)) {
        return TCPST_DEC_NOT_IP; /* management, control, extension, or no body */
    }
    size_t hlen = WLAN_HLEN;
    if ((flags & WLAN_TO_FROM_DS) == WLAN_TO_FROM_DS) {
        hlen += WLAN_ADDR4_LEN; /* a wireless distribution system frame: four addresses */
    }
    size_t qos = hlen;
    if (subtype & WLAN_SUB_QOS) {
        /* HT control follows QoS control when Order is set; without QoS, Order is the old
         * strictly-ordered service class and adds nothing. */
        hlen += WLAN_QOS_LEN;
        if (flags & WLAN_ORDER) {
            hlen += WLAN_HTC_LEN;
        }
    }
    if (!have(f, off, hlen)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    if (flags & WLAN_PROTECTED) {
        return TCPST_DEC_ENCRYPTED;
    }
    if ((subtype & WLAN_SUB_QOS) && (get8(f, off + qos) & WLAN_QOS_AMSDU)) {
        return TCPST_DEC_BAD_LINK;
    }
    if (datapad) {
        hlen = (hlen + 3u) & ~(size_t)3;
    }
    return tcpst__link_snap(c, cur, off + hlen);
}

/* The frame's last 4 bytes are its FCS: neither on the wire nor captured as packet bytes. */
static void drop_fcs(dctx *c)
{
    size_t wire = c->f.wirelen >= FCS_LEN ? c->f.wirelen - FCS_LEN : 0;
    c->f.wirelen = wire;
    c->lim = wire;
    if (c->f.caplen > wire) {
        c->f.caplen = wire;
    }
}

tcpst_decode_status tcpst__ieee802_11(dctx *c, cursor *cur)
{
    return wlan_at(c, cur, 0, false);
}

/* Radiotap's and PPI's start: version 0, a pad or flags byte, their own length (at least
 * min bytes, little-endian), which must be captured. */
static tcpst_decode_status radio_len(const frame *f, size_t min, size_t *len)
{
    if (!have(f, 0, min)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    *len = get16le(f, 2);
    if (get8(f, 0) != 0 || *len < min) {
        return TCPST_DEC_BAD_LINK;
    }
    return have(f, 0, *len) ? TCPST_DEC_OK : TCPST_DEC_TRUNC_LINK;
}

/*
 * radiotap: skip its length.  Of its fields only Flags matters (FCS, data pad, bad FCS):
 * present bit 1, after TSFT (bit 0, 8 bytes aligned to 8 from the header's start) when that
 * is present, and after every present word (bit 31 chains another).
 */
tcpst_decode_status tcpst__radiotap(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    size_t len;
    tcpst_decode_status st = radio_len(f, RT_HLEN, &len);
    if (st != TCPST_DEC_OK) {
        return st;
    }
    uint32_t present = get32le(f, 4), word = present;
    size_t at = RT_HLEN;
    while (word & RT_EXT) {
        if (at + 4 > len) {
            return TCPST_DEC_BAD_LINK;
        }
        word = get32le(f, at);
        at += 4;
    }
    uint32_t flags = 0;
    if (present & RT_FLAGS) {
        if (present & RT_TSFT) {
            at = ((at + 7u) & ~(size_t)7) + 8;
        }
        if (at >= len) {
            return TCPST_DEC_BAD_LINK;
        }
        flags = get8(f, at);
    }
    if (flags & RT_F_BADFCS) {
        return TCPST_DEC_BAD_LINK;
    }
    if (flags & RT_F_FCS) {
        drop_fcs(c);
    }
    return wlan_at(c, cur, len, (flags & RT_F_DATAPAD) != 0);
}

/*
 * PPI: skip its length, reading the 802.11-Common field's flags on the way (FCS present, FCS
 * invalid, PHY error); the inner link type is 802.11 or Ethernet.
 */
tcpst_decode_status tcpst__ppi(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    size_t len;
    tcpst_decode_status st = radio_len(f, PPI_HLEN, &len);
    if (st != TCPST_DEC_OK) {
        return st;
    }
    bool aligned = (get8(f, 1) & PPI_ALIGNED) != 0;
    uint32_t flags = 0;
    for (size_t at = PPI_HLEN; at + 4 <= len;) {
        size_t dlen = get16le(f, at + 2);
        if (dlen > len - at - 4) {
            return TCPST_DEC_BAD_LINK;
        }
        if (get16le(f, at) == PPI_80211_COMMON && dlen >= PPI_COMMON_LEN) {
            flags = get16le(f, at + 4 + 8); /* after the TSF timer */
        }
        at += 4 + dlen;
        if (aligned) {
            at = (at + 3u) & ~(size_t)3;
        }
    }
    if (flags & (PPI_FCS_INVALID | PPI_PHY_ERROR)) {
        return TCPST_DEC_BAD_LINK;
    }
    if (flags & PPI_HAVE_FCS) {
        drop_fcs(c);
    }
    switch (get32le(f, 4)) {
        case DLT_IEEE802_11_:
            return wlan_at(c, cur, len, false);
        case DLT_ETHERNET_:
            cur->at = AT_ETHER;
            cur->off = len;
            return TCPST_DEC_OK;
        default:
            return TCPST_DEC_BAD_LINK; /* a link type inside we do not read */
    }
}

/* AVS WLAN capture header: its magic (version 1 or 2) and its length, big-endian. */
tcpst_decode_status tcpst__avs(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    if (!have(f, 0, AVS_MIN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    uint32_t magic = get32(f, 0);
    size_t len = get32(f, 4);
    if ((magic != AVS_V1 && magic != AVS_V2) || len < AVS_MIN) {
        return TCPST_DEC_BAD_LINK;
    }
    if (!have(f, 0, len)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    return wlan_at(c, cur, len, false);
}

/* Prism monitor header: a fixed 144 bytes; Linux drivers also write AVS headers here. */
tcpst_decode_status tcpst__prism(dctx *c, cursor *cur)
{
    const frame *f = &c->f;
    uint32_t magic = get32(f, 0);
    if (have(f, 0, 4) && (magic == AVS_V1 || magic == AVS_V2)) {
        return tcpst__avs(c, cur);
    }
    if (!have(f, 0, PRISM_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    return wlan_at(c, cur, PRISM_HLEN, false);
}
