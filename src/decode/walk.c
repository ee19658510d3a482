/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * walk.c - one captured frame to a flat tcpst_segment, through any
 * encapsulations between the link layer and the TCP segment: the entry
 * points, the walk, the encapsulation chain and its key, and the names.
 *
 * Layers: the capture's link header (linktype.c); then, as often as they nest,
 * the link-level encapsulations (link.c) and the tunnels (tunnel.c); IPv4 or
 * IPv6 and finally the TCP header (ip.c).  The walk is a loop over a cursor
 * (cursor.h): each step hands the cursor to the parser for where it stands,
 * which consumes a header and moves it on.  Steps and recorded layers are
 * both bounded, so a hostile frame cannot make it spin.
 *
 * What it does not do: reassemble fragments (ipreasm.c, driven by the
 * engine, which then calls tcpst_decode_ip), verify checksums other than on
 * request (tcpst_decode_checksum, ip.c), or keep any state between frames.
 */
#include "cursor.h"
#include "tcpstate/hash.h"

/* More steps than any frame within the layer limits can take; a guard, not a rule. */
#define WALK_MAX_STEPS 64

static const tcpst_decode_config default_cfg = {
    .vxlan_ports = {4789},   /* RFC 7348 5 (IANA) */
    .geneve_ports = {6081},  /* RFC 8926 3.3 */
    .gtpu_ports = {2152},    /* 3GPP TS 29.281 4.4.2.3 */
    .teredo_ports = {3544},  /* RFC 4380 4 */
    .ayiya_ports = {5072},   /* IANA "ayiya" */
    .gre_udp_ports = {4754}, /* RFC 8086 3 */
    .tunnels = true,
    .key_encap = true,
    .teredo_detect = true,
};

/* ---- encapsulation chain and key --------------------------------------------- */

/*
 * One keyed layer folded into the key: FNV-1a over (type, id big-endian)
 * from the previous key (or the FNV basis), then the finalizer.  A fold, so
 * tcpst_decode_ip can extend a key it was handed; never 0, which means "no
 * keyed layer".
 */
static uint32_t key_step(uint32_t h, uint8_t type, uint32_t id)
{
    const uint8_t b[5] = {type, (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8),
                          (uint8_t)id};

    h = tcpst_fmix32(tcpst_fnv1a32(h != 0 ? h : TCPST_FNV32_BASIS, b, sizeof b));
    return h ? h : 1;
}

/*
 * Record a stripped layer.  `keyed`: its id separates connections (when the
 * configuration asks for it); ids that differ between the two directions of
 * one connection (GTP-U TEIDs, PPTP call ids) must not be keyed.
 */
tcpst_decode_status tcpst__push(dctx *c, tcpst_encap_type type, bool has_id, uint32_t id,
                                bool keyed)
{
    tcpst_segment *s = c->seg;
    tcpst_encap *e;

    if (s->nencap >= TCPST_ENCAP_MAX) {
        return TCPST_DEC_ENCAP_DEPTH;
    }
    e = &s->encap[s->nencap++];
    e->type = (uint8_t)type;
    e->has_id = has_id ? 1 : 0;
    e->in_key = has_id && keyed && c->cfg->key_encap ? 1 : 0;
    e->pad_ = 0;
    e->id = has_id ? id : 0;
    if (e->in_key) {
        s->key_ctx = key_step(s->key_ctx, e->type, id);
    }
    if (type != TCPST_ENCAP_VLAN && type != TCPST_ENCAP_FABRICPATH) {
        c->tunneled = true;
    }
    return TCPST_DEC_OK;
}

/* ---- the walk ---------------------------------------------------------------- */

/* Follow the cursor to the TCP header. */
static tcpst_decode_status walk(dctx *c, cursor *cur)
{
    for (int steps = 0; steps < WALK_MAX_STEPS; steps++) {
        tcpst_decode_status st;
        switch (cur->at) {
            case AT_ETHER:
                st = tcpst__ether(c, cur);
                break;
            case AT_ETYPE:
                st = tcpst__etype(c, cur);
                break;
            case AT_IP:
                st = tcpst__ip(c, cur);
                break;
            default:
                return TCPST_DEC_OK;
        }
        if (st != TCPST_DEC_OK || cur->at == AT_DONE) {
            return st;
        }
    }
    return TCPST_DEC_ENCAP_DEPTH;
}

/* ---- entry points ---------------------------------------------------------- */

void tcpst_decode_config_default(tcpst_decode_config *cfg)
{
    *cfg = default_cfg;
}

static void ctx_init(dctx *c, const tcpst_decode_config *cfg, const uint8_t *data, size_t caplen,
                     size_t wirelen, tcpst_segment *seg)
{
    c->cfg = cfg != NULL ? cfg : &default_cfg;
    c->f.data = data;
    c->f.caplen = data != NULL ? caplen : 0;
    /* libpcap guarantees caplen <= len; a file that breaks it gets no trust. */
    c->f.wirelen = wirelen < c->f.caplen ? c->f.caplen : wirelen;
    c->seg = seg;
    c->lim = c->f.wirelen;
    c->bounded = false;
    c->tunneled = false;
    c->mac = (size_t)-1;
}

tcpst_decode_status tcpst_decode_ex(const tcpst_decode_config *cfg, int linktype,
                                    const uint8_t *data, size_t caplen, size_t wirelen,
                                    tcpst_segment *seg)
{
    dctx c;
    cursor cur;
    tcpst_decode_status st;

    memset(seg, 0, sizeof *seg);
    ctx_init(&c, cfg, data, caplen, wirelen, seg);
    st = tcpst__link(linktype, &c, &cur);
    if (st != TCPST_DEC_OK) {
        return st;
    }
    return walk(&c, &cur);
}

tcpst_decode_status tcpst_decode(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
                                 tcpst_segment *seg)
{
    return tcpst_decode_ex(&default_cfg, linktype, data, caplen, wirelen, seg);
}

tcpst_decode_status tcpst_decode_ip(const tcpst_decode_config *cfg, const uint8_t *ip, size_t len,
                                    tcpst_segment *seg)
{
    tcpst_encap encap[TCPST_ENCAP_MAX];
    uint16_t vlan[TCPST_MAX_VLAN];
    uint8_t nencap = seg->nencap < TCPST_ENCAP_MAX ? seg->nencap : TCPST_ENCAP_MAX;
    uint8_t nvlan = seg->nvlan;
    uint32_t key = seg->key_ctx;
    dctx c;
    cursor cur = {.at = AT_IP, .off = 0, .etype = 0, .version = 0};

    memcpy(encap, seg->encap, sizeof encap);
    memcpy(vlan, seg->vlan, sizeof vlan);
    memset(seg, 0, sizeof *seg);
    memcpy(seg->encap, encap, sizeof encap);
    memcpy(seg->vlan, vlan, sizeof vlan);
    seg->nencap = nencap;
    seg->nvlan = nvlan;
    seg->key_ctx = key;
    ctx_init(&c, cfg, ip, len, len, seg);
    for (size_t i = 0; i < nencap; i++) {
        if (encap[i].type != TCPST_ENCAP_VLAN && encap[i].type != TCPST_ENCAP_FABRICPATH) {
            c.tunneled = true;
        }
    }
    return walk(&c, &cur);
}

/* ---- names ------------------------------------------------------------------ */

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

static const char *const encap_names[] = {
#define TCPST_X_NAME(name, str, idkey) str,
    TCPST_ENCAP_TYPE_MAP(TCPST_X_NAME)
#undef TCPST_X_NAME
};

static const char *const encap_id_names[] = {
#define TCPST_X_IDKEY(name, str, idkey) idkey,
    TCPST_ENCAP_TYPE_MAP(TCPST_X_IDKEY)
#undef TCPST_X_IDKEY
};

const char *tcpst_encap_type_name(tcpst_encap_type t)
{
    if ((unsigned)t >= (unsigned)TCPST_ENCAP__COUNT) {
        return "unknown";
    }
    return encap_names[t];
}

const char *tcpst_encap_id_name(tcpst_encap_type t)
{
    return (unsigned)t < (unsigned)TCPST_ENCAP__COUNT ? encap_id_names[t] : NULL;
}
