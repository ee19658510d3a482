/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpopt.c - walk the TCP option area into a flat tcpst_tcpopts record.
 *
 * Option layout is RFC 9293 section 3.1: kinds 0 (EOL) and 1 (NOP) are one
 * byte; every other kind carries a length byte that counts kind and length.
 * Values decoded: MSS (RFC 9293 3.7.1), window scale (RFC 7323 2), SACK-
 * permitted and SACK blocks (RFC 2018), timestamps (RFC 7323 3), TCP Fast Open
 * (RFC 7413 4.1.1, kind 34, and the pre-assignment experimental form with
 * magic 0xF989 per RFC 6994); MD5 (RFC 2385), TCP-AO (RFC 5925) and MPTCP
 * (RFC 8684) are only noted as present.
 *
 * What it does not do: judge whether an option is allowed on this segment
 * (e.g. window scale outside a SYN) - that needs connection state and belongs
 * to the anomaly detectors.  It never reads outside the `len` bytes given.
 */
#include "tcpstate/tcpopt.h"

#include <string.h>

/* Fixed option lengths (kind + length byte included). */
#define MSS_LEN        4  /* RFC 9293 3.2 */
#define WS_LEN         3  /* RFC 7323 2.2 */
#define SACKP_LEN      2  /* RFC 2018 2 */
#define TS_LEN         10 /* RFC 7323 3.2 */
#define WS_MAX_SHIFT   14 /* RFC 7323 2.3 */
#define TFO_MAGIC      0xF989u
#define TFO_COOKIE_MIN 4 /* RFC 7413 4.1.1 */
#define TFO_COOKIE_MAX 16

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Single-use options: a second copy sets DUPLICATE and is otherwise ignored, so
 * the first value wins.  Returns true when this copy should be decoded.
 */
static int first_copy(tcpst_tcpopts *o, uint16_t bit)
{
    if (o->present & bit) {
        o->malformed |= TCPST_OPTBAD_DUPLICATE;
        return 0;
    }
    return 1;
}

static void set_tfo(tcpst_tcpopts *o, size_t cookie_len)
{
    if (cookie_len != 0 && (cookie_len < TFO_COOKIE_MIN || cookie_len > TFO_COOKIE_MAX)) {
        o->malformed |= TCPST_OPTBAD_TFO_LEN;
        return;
    }
    o->present |= TCPST_HAS_TFO;
    o->tfo_cookie_len = (uint8_t)cookie_len;
}

/* SACK: 2 + 8n bytes, n = 1..4 (RFC 2018 3); blocks beyond four are dropped. */
static void parse_sack(tcpst_tcpopts *o, const uint8_t *p, size_t olen)
{
    size_t n = (olen - 2) / 8;

    if ((olen - 2) % 8 != 0 || n < 1 || n > TCPST_MAX_SACK_BLOCKS) {
        o->malformed |= TCPST_OPTBAD_SACK_LEN;
        return;
    }
    o->present |= TCPST_HAS_SACK;
    for (size_t i = 0; i < n && o->sack_count < TCPST_MAX_SACK_BLOCKS; i++) {
        o->sack[o->sack_count][0] = be32(p + 2 + 8 * i);
        o->sack[o->sack_count][1] = be32(p + 6 + 8 * i);
        o->sack_count++;
    }
}

/* One delimited option of kind >= 2; `p` points at its kind byte. */
static void parse_one(tcpst_tcpopts *o, const uint8_t *p, size_t olen)
{
    switch (p[0]) {
        case TCPST_OPT_MSS:
            if (olen != MSS_LEN) {
                o->malformed |= TCPST_OPTBAD_MSS_LEN;
            } else if (first_copy(o, TCPST_HAS_MSS)) {
                o->present |= TCPST_HAS_MSS;
                o->mss = be16(p + 2);
            }
            break;
        case TCPST_OPT_WSCALE:
            if (olen != WS_LEN) {
                o->malformed |= TCPST_OPTBAD_WS_LEN;
            } else if (first_copy(o, TCPST_HAS_WSCALE)) {
                /* Keep the raw shift; receivers clamp it to 14 (RFC 7323 2.3). */
                o->present |= TCPST_HAS_WSCALE;
                o->wscale = p[2];
                if (p[2] > WS_MAX_SHIFT) {
                    o->malformed |= TCPST_OPTBAD_WS_RANGE;
                }
            }
            break;
        case TCPST_OPT_SACK_PERM:
            if (olen != SACKP_LEN) {
                o->malformed |= TCPST_OPTBAD_SACKP_LEN;
            } else if (first_copy(o, TCPST_HAS_SACK_PERM)) {
                o->present |= TCPST_HAS_SACK_PERM;
            }
            break;
        case TCPST_OPT_SACK:
            parse_sack(o, p, olen);
            break;
        case TCPST_OPT_TS:
            if (olen != TS_LEN) {
                o->malformed |= TCPST_OPTBAD_TS_LEN;
            } else if (first_copy(o, TCPST_HAS_TS)) {
                o->present |= TCPST_HAS_TS;
                o->tsval = be32(p + 2);
                o->tsecr = be32(p + 6);
            }
            break;
        case TCPST_OPT_MD5:
            o->present |= TCPST_HAS_MD5;
            break;
        case TCPST_OPT_AO:
            o->present |= TCPST_HAS_AO;
            break;
        case TCPST_OPT_MPTCP:
            o->present |= TCPST_HAS_MPTCP;
            break;
        case TCPST_OPT_TFO:
            set_tfo(o, olen - 2);
            break;
        case TCPST_OPT_EXP1:
        case TCPST_OPT_EXP2:
            /* Experimental kinds are shared through a 16-bit ExID (RFC 6994);
             * 0xF989 is Fast Open before kind 34 existed (Linux sends 254). */
            if (olen >= 4 && be16(p + 2) == TFO_MAGIC) {
                set_tfo(o, olen - 4);
            } else if (o->unknown < UINT8_MAX) {
                o->unknown++;
            }
            break;
        default:
            if (o->unknown < UINT8_MAX) {
                o->unknown++;
            }
            break;
    }
}

int tcpst_tcpopt_parse(const uint8_t *p, size_t len, tcpst_tcpopts *out)
{
    size_t i = 0;
    int seen = 0;

    memset(out, 0, sizeof *out);
    if (p == NULL) {
        return 0;
    }
    while (i < len) {
        uint8_t kind = p[i];
        size_t olen;

        if (kind == TCPST_OPT_EOL) {
            break; /* the rest is padding (RFC 9293 3.1) */
        }
        if (kind == TCPST_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len) {
            out->malformed |= TCPST_OPTBAD_OVERRUN; /* no room for the length byte */
            break;
        }
        olen = p[i + 1];
        if (olen < 2) {
            /* A length below 2 cannot advance the walk; the rest is undelimited. */
            out->malformed |= TCPST_OPTBAD_LEN_SHORT;
            break;
        }
        if (olen > len - i) {
            out->malformed |= TCPST_OPTBAD_OVERRUN;
            break;
        }
        parse_one(out, p + i, olen);
        seen++;
        i += olen;
    }
    return seen;
}
