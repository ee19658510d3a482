/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cursor.h - what the files of the decoder share (private to src/decode/): the
 * state of one decode call, the cursor the walk moves along the frame, the
 * bounded getters, and the parsers one file hands over to another.
 *
 * The walk (walk.c) moves a cursor (where we are, at which offset) from
 * parser to parser; each parser consumes one header and says where the
 * cursor stands next.  Every byte is read through the bounds-checked getters below against the
 * captured length; packet bytes are never cast to structs.  "Truncated" (a
 * header cut by the snaplen) and "bad" (a header that contradicts the
 * length fields or its own protocol) are separate outcomes, as in tcpdump:
 * span() decides between them.
 *
 * Not a contract with other layers (that is decode.h), and no state between
 * frames.  The getters are static inline: the per-packet path reads a few
 * dozen fields, and a call per field would cost more than the field.
 */
#ifndef TCPSTATE_DECODE_CURSOR_H
#define TCPSTATE_DECODE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcpstate/decode.h"

/* Numbers more than one file reads: LLC/SNAP, the IP header every tunnel ends in,
 * and the IP protocols the IP layer hands to TCP or the tunnels. */
#define SNAP_HLEN     8 /* 802.2 LLC AA AA 03 + OUI + ethertype (RFC 1042): 802.3, FDDI */
#define IPV6_HLEN     40
#define IPPROTO_IPIP_ 4
#define IPPROTO_TCP_  6
#define IPPROTO_UDP_  17
#define IPPROTO_IPV6_ 41
#define IPPROTO_GRE_  47

/* The frame as the getters see it: wirelen is never below caplen. */
typedef struct frame {
    const uint8_t *data;
    size_t caplen;
    size_t wirelen;
} frame;

/* Decoding state of one call. */
typedef struct dctx {
    const tcpst_decode_config *cfg;
    frame f;
    tcpst_segment *seg;
    size_t lim;    /* end of the innermost enclosing payload (wire bytes) */
    bool bounded;  /* lim comes from a length field (IP, UDP, GTP-U, PPTP), not the frame */
    bool tunneled; /* crossed a layer other than VLAN/FabricPath: link problems are encap ones */
    size_t mac;    /* start of the latest Ethernet header (FabricPath reads its switch id) */
} dctx;

/* Where the walk is. */
typedef enum where { AT_ETHER, AT_ETYPE, AT_IP, AT_DONE } where;

typedef struct cursor {
    where at;
    size_t off;     /* start of the next header */
    uint16_t etype; /* AT_ETYPE: the protocol announced before off */
    int version;    /* AT_IP: 4, 6, or 0 = read it from the version nibble */
} cursor;

/* The cursor at an IP header at off: version 4 or 6 when the layer before announced it,
 * 0 to read the version nibble. */
static inline tcpst_decode_status at_ip(cursor *cur, size_t off, int version)
{
    cur->at = AT_IP;
    cur->off = off;
    cur->version = version;
    return TCPST_DEC_OK;
}

static inline bool have(const frame *f, size_t off, size_t n)
{
    return off <= f->caplen && n <= f->caplen - off;
}

/* Getters return 0 outside the captured bytes; callers check have() first. */
static inline uint8_t get8(const frame *f, size_t off)
{
    return have(f, off, 1) ? f->data[off] : 0;
}

static inline uint16_t get16(const frame *f, size_t off)
{
    if (!have(f, off, 2)) {
        return 0;
    }
    return (uint16_t)((unsigned)f->data[off] << 8 | f->data[off + 1]);
}

static inline uint32_t get32(const frame *f, size_t off)
{
    if (!have(f, off, 4)) {
        return 0;
    }
    return (uint32_t)f->data[off] << 24 | (uint32_t)f->data[off + 1] << 16 |
           (uint32_t)f->data[off + 2] << 8 | f->data[off + 3];
}

static inline uint16_t get16le(const frame *f, size_t off)
{
    if (!have(f, off, 2)) {
        return 0;
    }
    return (uint16_t)((unsigned)f->data[off + 1] << 8 | f->data[off]);
}

static inline uint32_t get32le(const frame *f, size_t off)
{
    if (!have(f, off, 4)) {
        return 0;
    }
    return (uint32_t)f->data[off + 3] << 24 | (uint32_t)f->data[off + 2] << 16 |
           (uint32_t)f->data[off + 1] << 8 | f->data[off];
}

/* Unchecked big-endian reads, for fields of a header whose bytes have() has already
 * vouched for: the common IPv4/TCP path reads a dozen fields per packet. */
static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void get_bytes(const frame *f, size_t off, uint8_t *dst, size_t n)
{
    if (have(f, off, n)) {
        memcpy(dst, f->data + off, n);
    }
}

/*
 * n header bytes at off: inside the enclosing payload (else `bad`, or
 * `trunc` when only the frame's end bounds it) and captured (else `trunc`).
 */
static inline tcpst_decode_status span(const dctx *c, size_t off, size_t n, tcpst_decode_status bad,
                                       tcpst_decode_status trunc)
{
    if (off > c->lim || n > c->lim - off) {
        return c->bounded ? bad : trunc;
    }
    return have(&c->f, off, n) ? TCPST_DEC_OK : trunc;
}

/* Encapsulation headers: both problems have their own statuses. */
static inline tcpst_decode_status span_encap(const dctx *c, size_t off, size_t n)
{
    return span(c, off, n, TCPST_DEC_BAD_ENCAP, TCPST_DEC_TRUNC_ENCAP);
}

/* Ethernet headers and VLAN tags: link problems in the capture's own link
 * layer (as before tunnels were decoded), encapsulation problems inside one. */
static inline tcpst_decode_status span_link(const dctx *c, size_t off, size_t n)
{
    if (c->tunneled) {
        return span_encap(c, off, n);
    }
    return span(c, off, n, TCPST_DEC_BAD_LINK, TCPST_DEC_TRUNC_LINK);
}

/* ---- the parsers, by file ---------------------------------------------------------- */

/* walk.c: record a stripped layer (and fold its id into the key when keyed). */
tcpst_decode_status tcpst__push(dctx *c, tcpst_encap_type type, bool has_id, uint32_t id,
                                bool keyed);

/*
 * linktype.c: one capture link type.  `parse` reads the link header at the start of the
 * frame and leaves the cursor at what follows (the cursor starts at AT_IP, offset 0,
 * version 0).  The table is in LINKTYPE order; tests walk it.
 */
typedef struct tcpst__linktype {
    int linktype;     /* LINKTYPE_* number (or the DLT value some platforms write) */
    const char *name; /* libpcap's name for it */
    tcpst_decode_status (*parse)(dctx *c, cursor *cur);
} tcpst__linktype;
extern const tcpst__linktype tcpst__linktypes[];
extern const size_t tcpst__nlinktypes;

/* linktype.c: the capture's link header, by link type (BAD_LINK for an unknown one). */
tcpst_decode_status tcpst__link(int linktype, dctx *c, cursor *cur);
/* linktype.c: 802.2 LLC/SNAP at off as a link's own framing (FDDI, 802.11): AA AA 03, OUI 0
 * or 0xF8, then the ethertype; any other LLC is NOT_IP. */
tcpst_decode_status tcpst__link_snap(dctx *c, cursor *cur, size_t off);

/* wlan.c: the 802.11 link types, each a parser of the link-type table. */
tcpst_decode_status tcpst__ieee802_11(dctx *c, cursor *cur);
tcpst_decode_status tcpst__radiotap(dctx *c, cursor *cur);
tcpst_decode_status tcpst__ppi(dctx *c, cursor *cur);
tcpst_decode_status tcpst__prism(dctx *c, cursor *cur);
tcpst_decode_status tcpst__avs(dctx *c, cursor *cur);

/* link.c: an Ethernet header at cur->off (AT_ETHER). */
tcpst_decode_status tcpst__ether(dctx *c, cursor *cur);
/* link.c: what the ethertype cur->etype leads to (AT_ETYPE). */
tcpst_decode_status tcpst__etype(dctx *c, cursor *cur);
/* link.c: a PPP frame at off (PPPoE, PPTP's GRE). */
tcpst_decode_status tcpst__ppp(dctx *c, cursor *cur, size_t off);

/* ip.c: an IP header at cur->off (AT_IP) and the TCP header, or a tunnel, after it. */
tcpst_decode_status tcpst__ip(dctx *c, cursor *cur);

/*
 * tunnel.c: one UDP tunnel, found by its ports.  `ports` is the offset of its
 * `*_ports` array in tcpst_decode_config; `parse` reads the UDP payload at off
 * (c->lim is the datagram's end); `type` is the layer the parser records.
 */
typedef tcpst_decode_status (*tcpst__udp_fn)(dctx *c, cursor *cur, size_t off);
typedef struct tcpst__udp_tunnel {
    size_t ports;
    tcpst__udp_fn parse;
    tcpst_encap_type type;
} tcpst__udp_tunnel;
extern const tcpst__udp_tunnel tcpst__udp_tunnels[];
extern const size_t tcpst__nudp_tunnels;

/* A row's ports in cfg: TCPST_DECODE_PORTS_MAX slots, 0 = unused. */
static inline const uint16_t *tcpst__udp_ports(const tcpst_decode_config *cfg,
                                               const tcpst__udp_tunnel *t)
{
    return (const uint16_t *)(const void *)((const char *)cfg + t->ports);
}

/* tunnel.c: IP protocol `proto` at off, when it is a tunnel (else NOT_TCP). */
tcpst_decode_status tcpst__ip_tunnel(dctx *c, cursor *cur, uint8_t proto, size_t off);

#endif
