/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pktbuild.h - synthetic frames and capture files for the tests.
 *
 * Builds one link-layer frame around an IPv4 or IPv6 + TCP segment into a
 * caller buffer, with correct IPv4 header and TCP checksums, for every link
 * type the decoder knows.  Optional fields add IPv4 options, fragments, IPv6
 * extension headers, VLAN tags, Ethernet padding and overrides used to make
 * deliberately broken frames.  pb_write_pcap / pb_write_pcapng store frames as
 * capture files for capture and integration tests.
 *
 * What it does not do: allocate (except FILE handles), validate that a
 * combination makes sense (a v6 segment on LINKTYPE_IPV4 is built as asked),
 * or model TCP behaviour; sequence numbers are whatever the caller passes.
 *
 * All pb_seg fields beyond `ttl` are optional: a designated initializer that
 * leaves them out gets a plain, valid segment.
 */
#ifndef TCPSTATE_TESTS_PKTBUILD_H
#define TCPSTATE_TESTS_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstate/decode.h"
#include "tcpstate/types.h"

/* Large enough for any frame the builder can make (64 KiB IP + headers). */
#define PB_MAX_FRAME 65700
#define PB_MAX_VLAN  16 /* more than the decoder accepts, to test VLAN_DEPTH */
#define PB_MAX_V6EXT 32 /* more than the decoder accepts, to test EXT_LIMIT */

typedef struct pb_seg {
    const char *src, *dst; /* textual IPv4 or IPv6 address; family from the text */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t flags; /* TCPST_SYN | TCPST_ACK ... (TCPST_AE goes to the NS bit) */
    uint16_t win;
    uint32_t payload_len; /* payload bytes to append (pattern pb_payload_byte) */
    const uint8_t *opts;  /* raw TCP option bytes, may be NULL */
    size_t optlen;        /* padded by the builder to a multiple of 4 with EOL; max 40 */
    uint8_t ttl;          /* 0 -> 64 */

    /* ---- optional extras: zero/NULL means "a normal packet" ---- */
    const uint8_t *payload; /* payload_len bytes to copy instead of the pattern */
    uint16_t urgptr;
    uint8_t ip_proto;      /* 0 -> 6; IPv4 protocol, or the last IPv6 next header */
    bool df;               /* IPv4 don't-fragment bit */
    bool mf;               /* more fragments (IPv4 header, or the IPv6 fragment header) */
    uint16_t frag_off;     /* fragment offset in 8-byte units (idem) */
    uint32_t ip_id;        /* IPv4 id (low 16 bits) / IPv6 fragment identification */
    const uint8_t *ipopts; /* IPv4 options; padded with EOL to a multiple of 4; max 40 */
    size_t ipoptlen;
    /* IPv6 extension headers by type, in order; the builder chains next-header
     * values and ends the chain with ip_proto.  Sizes: 0/43/60/135/139/140 and
     * unknown types 8 bytes, 44 8 bytes (uses frag_off/mf/ip_id), 51 (AH) 24. */
    const uint8_t *v6ext;
    size_t nv6ext;
    uint16_t ethertype; /* Ethernet/SLL/SLL2 protocol; 0 -> 0x0800/0x86DD by family */
    uint32_t link_af;   /* NULL/LOOP address family; 0 -> 2 (v4) or 30 (v6) */
    bool null_be;       /* NULL: AF written big-endian (default little-endian) */
    size_t min_frame;   /* zero-pad the frame to this length (60 = Ethernet minimum) */
    bool bad_tcp_csum;  /* store a TCP checksum that is off by one */
} pb_seg;

/* Where the layers of a built frame start, for tests that patch bytes. */
typedef struct pb_layout {
    size_t l3;      /* IP header */
    size_t l4;      /* TCP header */
    size_t payload; /* TCP payload */
    size_t len;     /* whole frame (incl. padding) */
} pb_layout;

/* Build a frame for `linktype` (TCPST_LT_*) into buf; returns frame length or 0 if cap is too
 * small or the segment cannot be built (bad address text, mixed families, options > 40). */
size_t pb_build(uint8_t *buf, size_t cap, int linktype, const pb_seg *s);

/* Same with VLAN tags for Ethernet (tags[] outermost first, ntags up to PB_MAX_VLAN, tpid
 * 0x8100 on the innermost tag, 0x88a8 on every outer one). */
size_t pb_build_vlan(uint8_t *buf, size_t cap, const uint16_t *tags, int ntags, const pb_seg *s);

/* General form: any link type, tags (Ethernet; SLL/SLL2 put them after their header, as
 * libpcap does), and the layout of the result (lay may be NULL). */
size_t pb_build_ex(uint8_t *buf, size_t cap, int linktype, const uint16_t *tags, int ntags,
                   const pb_seg *s, pb_layout *lay);

/* Set the checksum of the IPv4 header at `ip` (its length from IHL). */
void pb_ipv4_checksum(uint8_t *ip);

/* Recompute the IPv4 header checksum and the TCP checksum after patching a built frame. */
void pb_fix_checksums(uint8_t *buf, const pb_layout *lay);

/* TCP checksum of a built frame is correct (1) or not (0); uses the IP lengths. */
int pb_tcp_checksum_ok(const uint8_t *buf, const pb_layout *lay);

/* Byte i of the default payload pattern ('a'..'z' repeating). */
uint8_t pb_payload_byte(size_t i);

/* The same segment seen from the other side: addresses and ports swapped. */
pb_seg pb_reverse(const pb_seg *s);

/* ---- TCP option bytes; each returns the number of bytes written to out ---- */
size_t pb_opt_nop(uint8_t *out);
size_t pb_opt_eol(uint8_t *out);
size_t pb_opt_mss(uint8_t *out, uint16_t mss);                  /* 4 */
size_t pb_opt_wscale(uint8_t *out, uint8_t shift);              /* 3 */
size_t pb_opt_sackperm(uint8_t *out);                           /* 2 */
size_t pb_opt_ts(uint8_t *out, uint32_t tsval, uint32_t tsecr); /* 10 */
/* edges: n pairs (left, right), n = 1..4 -> 2 + 8n. */
size_t pb_opt_sack(uint8_t *out, const uint32_t *edges, size_t n);
size_t pb_opt_tfo(uint8_t *out, const uint8_t *cookie, size_t len);     /* kind 34 */
size_t pb_opt_tfo_exp(uint8_t *out, const uint8_t *cookie, size_t len); /* 254 + 0xF989 */
/* Any kind with an arbitrary length byte and body (for malformed options). */
size_t pb_opt_raw(uint8_t *out, uint8_t kind, uint8_t lenbyte, const uint8_t *body, size_t n);
/* Linux SYN layout: MSS, SACK-permitted, TS, NOP, WS -> 20 bytes. */
size_t pb_opt_syn(uint8_t *out, uint16_t mss, uint8_t wscale, uint32_t tsval, uint32_t tsecr);

/* ---- encapsulations ------------------------------------------------------------------------
 * pb_build_encap wraps a segment in layers, innermost last; each layer's type field (ethertype,
 * IP protocol, PPP protocol, next header...) is set from what it wraps.  Fields not used by a
 * layer are ignored; zero values give a plain, valid header.
 */
typedef enum pb_layer_kind {
    PB_ETH,        /* Ethernet header; an 802.3 length when it wraps PB_LLC */
    PB_VLAN,       /* 802.1Q tag (TPID `tpid`, 0 -> 0x8100), id = VLAN id */
    PB_MPLS,       /* label stack entry, id = label; S set unless it wraps another PB_MPLS */
    PB_PWCW,       /* pseudowire control word (4 zero bytes, RFC 4385); wraps PB_ETH */
    PB_PPPOE,      /* PPPoE session header + 2-byte PPP protocol, id = session id */
    PB_PBB,        /* 802.1ah I-TAG, id = I-SID; wraps PB_ETH */
    PB_VNTAG,      /* VN-Tag, id = destination VIF */
    PB_FABRICPATH, /* Cisco FabricPath outer header (ethertype 0x8903), id = switch id; wraps PB_ETH
                      and yields an Ethernet frame itself */
    PB_LLC,        /* 802.2 LLC/SNAP: AA AA 03, OUI 0, ethertype */
    PB_GRE,        /* GRE: key (= id) when `key`, sequence when `seq` (forced for ERSPAN II),
                      checksum when `csum`; `pptp`: version 1 with PPP (id = call id) */
    PB_ERSPAN1,    /* ERSPAN type I: no header (GRE 0x88BE without sequence); wraps PB_ETH */
    PB_ERSPAN2,    /* ERSPAN type II header, id = session; wraps PB_ETH */
    PB_ERSPAN3, /* ERSPAN type III header, id = session, `opt`: platform subheader; wraps PB_ETH */
    PB_IP,      /* IPv4 or IPv6 header from src/dst text; `mf`/`frag_off` make it a fragment
                   (IPv6: with a fragment header) */
    PB_UDP,     /* UDP header, sport/dport; checksum 0 */
    PB_VXLAN,   /* VXLAN, id = VNI; wraps PB_ETH */
    PB_GENEVE,  /* Geneve, id = VNI, `opt_words` 4-byte option words; wraps PB_ETH or IP */
    PB_GTPU,    /* GTP-U G-PDU, id = TEID; `seq`: S flag; `n_ext` extension headers */
    PB_TEREDO,  /* Teredo: `auth` authentication header, `opt` origin indication; wraps IPv6 */
    PB_AYIYA    /* AYIYA forward with a 16-byte identity and 20-byte signature */
} pb_layer_kind;

typedef struct pb_layer {
    pb_layer_kind kind;
    uint32_t id;
    const char *src, *dst; /* PB_IP */
    uint16_t sport, dport; /* PB_UDP */
    uint16_t tpid;         /* PB_VLAN */
    bool key, seq, csum;   /* PB_GRE (seq also PB_GTPU) */
    bool pptp;             /* PB_GRE */
    bool opt;              /* PB_ERSPAN3 platform subheader, PB_TEREDO origin indication */
    bool auth;             /* PB_TEREDO */
    uint8_t opt_words;     /* PB_GENEVE, up to 63 */
    uint8_t n_ext;         /* PB_GTPU */
    bool mf;               /* PB_IP */
    uint16_t frag_off;     /* PB_IP, 8-byte units */
} pb_layer;

/*
 * Build `s` (IP + TCP) inside layers[0..n-1] (outermost first) for `linktype`: Ethernet adds an
 * Ethernet header unless the outermost layer already is one (PB_ETH, PB_FABRICPATH); the raw IP
 * link types need an IP outermost.  lay (may be NULL) gets the INNER IP/TCP offsets.  Returns the
 * frame length, or 0 when a layer does not fit what it wraps or cap is too small.  offs (may be
 * NULL) gets where each layer's header starts in the frame (n entries).
 */
size_t pb_build_encap(uint8_t *buf, size_t cap, int linktype, const pb_layer *layers, size_t n,
                      const pb_seg *s, pb_layout *lay, size_t *offs);

/* ---- capture files ---- */
typedef struct pb_frame {
    int64_t ts_ns;
    const uint8_t *data;
    size_t len;     /* captured bytes */
    size_t wirelen; /* original length; 0 -> len */
} pb_frame;

/* Write frames as a pcap file (usec or nsec precision); 0 on success, -1 on error. */
int pb_write_pcap(const char *path, int linktype, int nanosecond, const pb_frame *frames, size_t n);
/* Same with an explicit snaplen in the file header. */
int pb_write_pcap_snap(const char *path, int linktype, int nanosecond, uint32_t snaplen,
                       const pb_frame *frames, size_t n);
/* One-section, one-interface pcapng file (if_tsresol 9 when nanosecond, else default us). */
int pb_write_pcapng(const char *path, int linktype, int nanosecond, const pb_frame *frames,
                    size_t n);

/* Create an empty unique file "$TMPDIR/tcpstate-XXXXXX<suffix>"; path written to out.
 * Returns 0 or -1.  The caller unlinks it. */
int pb_tmpfile(char *out, size_t cap, const char *suffix);

/*
 * A decoded segment built directly (no frame) for state-machine tests:
 * client 198.18.0.1:40000, server 198.18.0.2:80, IPv4, 20-byte header,
 * window 65535.  `c2s` chooses the direction.
 */
tcpst_segment pb_segment(int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len);

#endif
