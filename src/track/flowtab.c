/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowtab.c - pool, symmetric hash and age lists for connection records, and the 4-tuple
 * index of the keyed ones.
 *
 * Buckets are at least twice the live records (load factor <= 0.5), so chains stay
 * short even when the table is full; the stats report steps per lookup to prove it.
 * The 4-tuple index has as many buckets and grows with them; it is reserved at start
 * (calloc: its pages stay untouched without keyed traffic) so inserting never allocates.
 */
#include "tcpstate/flowtab.h"

#include <stdlib.h>
#include <string.h>

#include "tcpstate/hash.h"

static uint32_t idx(const tcpst_flowtab *ft, const tcpst_conn *c)
{
    return (uint32_t)(c - ft->conns);
}

static uint32_t buckets_for(uint32_t n)
{
    uint32_t nb = 1;
    while (nb < n * 2u && nb < (1u << 31)) {
        nb <<= 1;
    }
    return nb;
}

int tcpst_flowtab_init(tcpst_flowtab *ft, uint32_t cap, uint32_t expect, tcpst_error *err)
{
    memset(ft, 0, sizeof *ft);
    if (expect == 0 || expect > cap) {
        expect = cap;
    }
    uint32_t nb = buckets_for(expect);
    /* calloc of large blocks maps zero pages: untouched records cost no RSS. */
    ft->conns = calloc((size_t)cap + 1, sizeof *ft->conns);
    ft->links = calloc((size_t)cap + 1, sizeof *ft->links);
    ft->cls = calloc((size_t)cap + 1, sizeof *ft->cls);
    ft->buckets = calloc(nb, sizeof *ft->buckets);
    ft->tbuckets = calloc(nb, sizeof *ft->tbuckets);
    ft->tlinks = calloc((size_t)cap + 1, sizeof *ft->tlinks);
    if (!ft->conns || !ft->links || !ft->cls || !ft->buckets || !ft->tbuckets || !ft->tlinks) {
        tcpst_flowtab_fini(ft);
        return tcpst_error_set(err, TCPST_ENOMEM, "cannot allocate a table of %u connections", cap);
    }
    ft->cap = cap;
    ft->mask = nb - 1;
    ft->max_buckets = buckets_for(cap);
    return 0;
}

static uint64_t side_hash(const tcpst_addr *a, uint16_t port)
{
    uint64_t w0, w1;
    memcpy(&w0, a->bytes, 8);
    memcpy(&w1, a->bytes + 8, 8);
    return tcpst_mix64(w0 ^ tcpst_mix64(w1 ^ ((uint64_t)port << 8 | a->family)));
}

static uint32_t tuple_key_hash(const tcpst_addr *a, uint16_t ap, const tcpst_addr *b, uint16_t bp,
                               uint32_t key)
{
    /* Addition commutes, so both directions hash alike without ordering the sides. */
    uint64_t h = side_hash(a, ap) + side_hash(b, bp);
    return (uint32_t)(tcpst_mix64(h ^ key) >> 32);
}

uint32_t tcpst_flowtab_hash(const tcpst_segment *seg)
{
    return tuple_key_hash(&seg->src, seg->sport, &seg->dst, seg->dport, seg->key_ctx);
}

/* The 4-tuple index hashes with key 0: the same value the main hash gives key 0. */
static uint32_t conn_tuple_hash(const tcpst_conn *c)
{
    return tuple_key_hash(&c->ep[0].addr, c->ep[0].port, &c->ep[1].addr, c->ep[1].port, 0);
}

/* In the 4-tuple index: keyed records, and those that took a second key. */
static bool tuple_indexed(const tcpst_conn *c)
{
    return c->key_ctx != 0 || c->joined != 0;
}

static void tuple_link(tcpst_flowtab *ft, uint32_t *bucket, uint32_t i);

/*
 * Double the buckets once the load passes 0.5.  The table starts with buckets for the
 * expected number of records, which stay in cache; it only grows when established
 * connections outnumber that.  Without memory the load just rises: lookups stay correct.
 */
static void grow(tcpst_flowtab *ft)
{
    uint32_t nb = (ft->mask + 1) * 2;
    uint32_t *b = calloc(nb, sizeof *b);
    uint32_t *tb = calloc(nb, sizeof *tb);
    if (!b || !tb) {
        free(b);
        free(tb);
        return;
    }
    for (uint32_t i = 1; i <= ft->hwm; i++) {
        const tcpst_conn *c = &ft->conns[i];
        if (c->id != 0) { /* the live records, all linked */
            uint32_t k = ft->links[i].hash & (nb - 1);
            ft->links[i].hnext = b[k];
            b[k] = i;
            if (tuple_indexed(c)) {
                tuple_link(ft, &tb[conn_tuple_hash(c) & (nb - 1)], i);
            }
        }
    }
    free(ft->buckets);
    free(ft->tbuckets);
    ft->buckets = b;
    ft->tbuckets = tb;
    ft->mask = nb - 1;
}

void tcpst_flowtab_fini(tcpst_flowtab *ft)
{
    free(ft->conns);
    free(ft->links);
    free(ft->cls);
    free(ft->buckets);
    free(ft->tbuckets);
    free(ft->tlinks);
    memset(ft, 0, sizeof *ft);
}

static int same_side(const tcpst_endpoint *e, const tcpst_addr *a, uint16_t port)
{
    return e->port == port && e->addr.family == a->family &&
           memcmp(e->addr.bytes, a->bytes, 16) == 0;
}

/* The lookup spells this out itself: its loop is the hot path, compiled as it was. */
static bool same_tuple(const tcpst_conn *c, const tcpst_segment *seg)
{
    return (same_side(&c->ep[0], &seg->src, seg->sport) &&
            same_side(&c->ep[1], &seg->dst, seg->dport)) ||
           (same_side(&c->ep[1], &seg->src, seg->sport) &&
            same_side(&c->ep[0], &seg->dst, seg->dport));
}

tcpst_conn *tcpst_flowtab_lookup(tcpst_flowtab *ft, const tcpst_segment *seg, uint32_t hash)
{
    ft->lookups++;
    for (uint32_t i = ft->buckets[hash & ft->mask]; i; i = ft->links[i].hnext) {
        ft->probes++;
        if (ft->links[i].hash != hash) {
            continue; /* the record itself is not touched */
        }
        tcpst_conn *c = &ft->conns[i];
        if (c->key_ctx != seg->key_ctx) {
            continue;
        }
        if ((same_side(&c->ep[0], &seg->src, seg->sport) &&
             same_side(&c->ep[1], &seg->dst, seg->dport)) ||
            (same_side(&c->ep[1], &seg->src, seg->sport) &&
             same_side(&c->ep[0], &seg->dst, seg->dport))) {
            return c;
        }
    }
    return NULL;
}

static bool listed(tcpst_conn *const *out, unsigned n, const tcpst_conn *c)
{
    for (unsigned k = 0; k < n; k++) {
        if (out[k] == c) {
            return true;
        }
    }
    return false;
}

unsigned tcpst_flowtab_other_keys(tcpst_flowtab *ft, const tcpst_segment *seg, tcpst_conn **out,
                                  unsigned max)
{
    uint32_t th = tuple_key_hash(&seg->src, seg->sport, &seg->dst, seg->dport, 0);
    unsigned n = 0;
    if (seg->key_ctx != 0) {
        /* A record with key 0 is in the main hash only, under the 4-tuple's own hash. */
        for (uint32_t i = ft->buckets[th & ft->mask]; i && n < max; i = ft->links[i].hnext) {
            tcpst_conn *c = &ft->conns[i];
            if (ft->links[i].hash == th && c->key_ctx == 0 && same_tuple(c, seg)) {
                out[n++] = c;
                break;
            }
        }
    }
    unsigned steps = 0;
    for (uint32_t i = ft->tbuckets[th & ft->mask]; i && n < max && steps < TCPST_TUPLE_SCAN_MAX;
         i = ft->tlinks[i].next, steps++) {
        tcpst_conn *c = &ft->conns[i];
        if (c->key_ctx != seg->key_ctx && same_tuple(c, seg) && !listed(out, n, c)) {
            out[n++] = c;
        }
    }
    return n;
}

/* Link slot i at the head of a 4-tuple chain. */
static void tuple_link(tcpst_flowtab *ft, uint32_t *bucket, uint32_t i)
{
    ft->tlinks[i].prev = 0;
    ft->tlinks[i].next = *bucket;
    if (*bucket) {
        ft->tlinks[*bucket].prev = i;
    }
    *bucket = i;
}

static void tuple_unlink(tcpst_flowtab *ft, uint32_t i)
{
    tcpst_tuplelink *l = &ft->tlinks[i];
    if (l->prev) {
        ft->tlinks[l->prev].next = l->next;
    } else {
        ft->tbuckets[conn_tuple_hash(&ft->conns[i]) & ft->mask] = l->next;
    }
    if (l->next) {
        ft->tlinks[l->next].prev = l->prev;
    }
    l->next = l->prev = 0;
    ft->tuple_live--;
}

static void tuple_insert(tcpst_flowtab *ft, uint32_t i)
{
    tuple_link(ft, &ft->tbuckets[conn_tuple_hash(&ft->conns[i]) & ft->mask], i);
    ft->tuple_live++;
}

void tcpst_flowtab_add_key(tcpst_flowtab *ft, tcpst_conn *c, uint32_t key)
{
    c->key_alt = key;
    if (!c->joined) {
        c->joined = 1; /* indexed from now on; tcpst_conn_join() says which endpoint */
    }
    if (c->key_ctx == 0) {
        tuple_insert(ft, idx(ft, c)); /* keyed records are there since their insert */
    }
}

tcpst_conn *tcpst_flowtab_alloc(tcpst_flowtab *ft)
{
    uint32_t i;
    if (ft->free_head) {
        i = ft->free_head;
        ft->free_head = ft->links[i].hnext;
    } else if (ft->hwm < ft->cap) {
        i = ++ft->hwm;
    } else {
        return NULL;
    }
    memset(&ft->conns[i], 0, sizeof ft->conns[i]);
    return &ft->conns[i];
}

static void lru_unlink(tcpst_flowtab *ft, uint32_t i)
{
    tcpst_flowlink *l = &ft->links[i];
    unsigned cls = ft->cls[i];
    if (l->lru_prev) {
        ft->links[l->lru_prev].lru_next = l->lru_next;
    } else {
        ft->lru_head[cls] = l->lru_next;
    }
    if (l->lru_next) {
        ft->links[l->lru_next].lru_prev = l->lru_prev;
    } else {
        ft->lru_tail[cls] = l->lru_prev;
    }
    l->lru_prev = l->lru_next = 0;
    ft->count[cls]--;
}

static void lru_append(tcpst_flowtab *ft, uint32_t i, unsigned cls)
{
    tcpst_flowlink *l = &ft->links[i];
    ft->cls[i] = (uint8_t)cls;
    l->lru_next = 0;
    l->lru_prev = ft->lru_tail[cls];
    if (l->lru_prev) {
        ft->links[l->lru_prev].lru_next = i;
    } else {
        ft->lru_head[cls] = i;
    }
    ft->lru_tail[cls] = i;
    ft->count[cls]++;
}

void tcpst_flowtab_insert(tcpst_flowtab *ft, tcpst_conn *c, uint32_t hash, unsigned cls)
{
    uint32_t i = idx(ft, c);
    uint32_t b = hash & ft->mask;
    ft->links[i].hash = hash;
    ft->links[i].hnext = ft->buckets[b];
    ft->buckets[b] = i;
    ft->live++;
    if (tuple_indexed(c)) {
        tuple_insert(ft, i);
    }
    lru_append(ft, i, cls);
    if (ft->live > (ft->mask + 1) / 2 && ft->mask + 1 < ft->max_buckets) {
        grow(ft);
    }
}

void tcpst_flowtab_touch(tcpst_flowtab *ft, tcpst_conn *c, unsigned cls)
{
    uint32_t i = idx(ft, c);
    if (ft->lru_tail[cls] == i && ft->cls[i] == cls) {
        return;
    }
    lru_unlink(ft, i);
    lru_append(ft, i, cls);
}

void tcpst_flowtab_remove(tcpst_flowtab *ft, tcpst_conn *c)
{
    uint32_t i = idx(ft, c);
    uint32_t *link = &ft->buckets[ft->links[i].hash & ft->mask];
    while (*link && *link != i) {
        link = &ft->links[*link].hnext;
    }
    if (*link == i) {
        *link = ft->links[i].hnext;
    }
    if (tuple_indexed(c)) {
        tuple_unlink(ft, i);
    }
    lru_unlink(ft, i);
    ft->live--;
    c->id = 0;
    ft->links[i].hnext = ft->free_head;
    ft->free_head = i;
}

tcpst_conn *tcpst_flowtab_oldest(tcpst_flowtab *ft, unsigned cls)
{
    uint32_t i = ft->lru_head[cls];
    return i ? &ft->conns[i] : NULL;
}
