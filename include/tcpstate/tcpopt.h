/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpopt.h - TCP option parsing (RFC 9293 3.1/3.2, RFC 7323, RFC 2018, RFC 7413).
 *
 * Walks the option bytes of one TCP header with explicit length checks and
 * fills a flat, fixed-size record.  Never allocates and never reads past the
 * bytes it is given.  Problems are counted, not fatal: a malformed option stops
 * the walk (the rest cannot be delimited) and sets a bit saying why.
 */
#ifndef TCPSTATE_TCPOPT_H
#define TCPSTATE_TCPOPT_H

#include <stddef.h>
#include <stdint.h>

/* Option kinds we decode (IANA "TCP Option Kind Numbers"). */
enum tcpst_optkind {
    TCPST_OPT_EOL = 0,
    TCPST_OPT_NOP = 1,
    TCPST_OPT_MSS = 2,       /* RFC 9293 */
    TCPST_OPT_WSCALE = 3,    /* RFC 7323 */
    TCPST_OPT_SACK_PERM = 4, /* RFC 2018 */
    TCPST_OPT_SACK = 5,      /* RFC 2018 */
    TCPST_OPT_TS = 8,        /* RFC 7323 */
    TCPST_OPT_MD5 = 19,      /* RFC 2385 */
    TCPST_OPT_AO = 29,       /* RFC 5925 */
    TCPST_OPT_MPTCP = 30,    /* RFC 8684 */
    TCPST_OPT_TFO = 34,      /* RFC 7413 */
    TCPST_OPT_EXP1 = 253,    /* RFC 4727 experimental; ExID per RFC 6994 */
    TCPST_OPT_EXP2 = 254     /* idem; Linux sent pre-RFC TFO as 254 + ExID 0xF989 */
};

/* Presence bits in tcpst_tcpopts.present. */
enum tcpst_optbit {
    TCPST_HAS_MSS = 1u << 0,
    TCPST_HAS_WSCALE = 1u << 1,
    TCPST_HAS_SACK_PERM = 1u << 2,
    TCPST_HAS_SACK = 1u << 3,
    TCPST_HAS_TS = 1u << 4,
    TCPST_HAS_TFO = 1u << 5, /* kind 34, or kind 254 (or 253) with magic 0xF989 */
    TCPST_HAS_MD5 = 1u << 6,
    TCPST_HAS_AO = 1u << 7,
    TCPST_HAS_MPTCP = 1u << 8
};

/* Why the option area is malformed (tcpst_tcpopts.malformed bits). */
enum tcpst_optbad {
    TCPST_OPTBAD_LEN_SHORT = 1u << 0, /* length byte < 2 on a kind that needs one */
    TCPST_OPTBAD_OVERRUN = 1u << 1,   /* length runs past the header / no length byte */
    TCPST_OPTBAD_MSS_LEN = 1u << 2,   /* MSS length != 4 */
    TCPST_OPTBAD_WS_LEN = 1u << 3,    /* window scale length != 3 */
    TCPST_OPTBAD_SACKP_LEN = 1u << 4, /* SACK-permitted length != 2 */
    TCPST_OPTBAD_SACK_LEN = 1u << 5,  /* SACK length not 2+8n, n in 1..4 */
    TCPST_OPTBAD_TS_LEN = 1u << 6,    /* timestamps length != 10 */
    TCPST_OPTBAD_TFO_LEN = 1u << 7,   /* TFO cookie length not 0 or 4..16 */
    TCPST_OPTBAD_WS_RANGE = 1u << 8,  /* window shift > 14 (RFC 7323 2.3) */
    TCPST_OPTBAD_DUPLICATE = 1u << 9  /* same single-use option twice */
};

#define TCPST_MAX_SACK_BLOCKS 4

typedef struct tcpst_tcpopts {
    uint16_t present;   /* TCPST_HAS_* bits */
    uint16_t malformed; /* TCPST_OPTBAD_* bits; 0 = clean */
    uint16_t mss;
    uint8_t wscale;         /* raw shift as sent (may exceed 14; see WS_RANGE) */
    uint8_t sack_count;     /* blocks stored in sack[] */
    uint8_t tfo_cookie_len; /* 0 = cookie request */
    uint8_t unknown;        /* options of kinds not listed above */
    uint32_t tsval;
    uint32_t tsecr;
    uint32_t sack[TCPST_MAX_SACK_BLOCKS][2]; /* left, right edge (wire values) */
} tcpst_tcpopts;

/*
 * Parse `len` option bytes at `p` into `out` (zeroed first).  Returns the
 * number of delimited options seen (NOP/EOL excluded, malformed-length known
 * kinds included).  Always succeeds; check out->malformed.
 *
 * Rules: EOL ends the walk.  A length byte < 2 (LEN_SHORT) or one running past
 * `len` (OVERRUN) stops the walk.  A known kind with a wrong length sets its
 * *_LEN bit, is not marked present, and the walk goes on (the length still
 * delimits it).  A second MSS, WS, SACK-permitted or TS sets DUPLICATE and the
 * first copy's value is kept.  SACK blocks from several SACK options are
 * appended up to TCPST_MAX_SACK_BLOCKS.  `unknown` saturates at 255.
 */
int tcpst_tcpopt_parse(const uint8_t *p, size_t len, tcpst_tcpopts *out);

#endif
