/*
 * flowtab.h - the connection table: a preallocated pool of records, a
 * chained hash on the 4-tuple (symmetric, so both directions meet), and
 * per-class least-recently-seen lists for idle expiry and eviction.
 *
 * Records live in one array sized at init and touched only as it fills, so
 * memory follows the number of live connections, never the packet count.
 * Links are 32-bit indexes (0 = none) to keep records small.  The table
 * knows keys, slots and ages; it knows nothing of TCP states.
 */
#ifndef TCPSTATE_FLOWTAB_H
#define TCPSTATE_FLOWTAB_H

#include <stdint.h>

#include "tcpstate/conn.h"
#include "tcpstate/error.h"

/* Age classes, each with its own idle timeout (see limits.h). */
enum tcpst_lru_class {
    TCPST_LRU_HANDSHAKE = 0,
    TCPST_LRU_ACTIVE,
    TCPST_LRU_CLOSED,
    TCPST_LRU__COUNT
};

/* A slot's place in the hash chain and its age list.  Kept apart from the records, in one
 * dense array: walking a chain or relinking a list touches these 16 bytes per slot, not a
 * cache line of each neighbouring record. */
typedef struct tcpst_flowlink {
    uint32_t hash;
    uint32_t hnext;
    uint32_t lru_prev, lru_next;
} tcpst_flowlink;

typedef struct tcpst_flowtab {
    tcpst_conn *conns;     /* [0] unused; 1..cap */
    tcpst_flowlink *links; /* parallel to conns */
    uint8_t *cls;          /* age class of each slot, parallel to conns */
    uint32_t cap;
    uint32_t hwm;       /* highest index ever handed out */
    uint32_t free_head; /* freed slots, linked through links[].hnext */
    uint32_t live;
    uint32_t *buckets;
    uint32_t mask;
    uint32_t max_buckets; /* enough for cap records */
    uint32_t lru_head[TCPST_LRU__COUNT], lru_tail[TCPST_LRU__COUNT];
    uint32_t count[TCPST_LRU__COUNT]; /* records in each class */
    uint64_t lookups, probes;         /* chain steps per lookup, for the stats */
} tcpst_flowtab;

/* A table of `cap` records whose hash starts with room for `expect` (0: cap) and doubles
 * as records outnumber it. */
__attribute__((warn_unused_result)) int tcpst_flowtab_init(tcpst_flowtab *ft, uint32_t cap,
                                                           uint32_t expect, tcpst_error *err);
void tcpst_flowtab_fini(tcpst_flowtab *ft);

/* Symmetric hash of the segment's 4-tuple. */
uint32_t tcpst_flowtab_hash(const tcpst_segment *seg);

/* The live record for the segment's 4-tuple, or NULL. */
tcpst_conn *tcpst_flowtab_lookup(tcpst_flowtab *ft, const tcpst_segment *seg, uint32_t hash);

/* A zeroed record from the pool, not yet in the table; NULL when full. */
tcpst_conn *tcpst_flowtab_alloc(tcpst_flowtab *ft);

/* Link an initialised record (tcpst_conn_init done) into the hash and a class list. */
void tcpst_flowtab_insert(tcpst_flowtab *ft, tcpst_conn *c, uint32_t hash, unsigned cls);

/* Move to the most-recent end of class `cls`. */
void tcpst_flowtab_touch(tcpst_flowtab *ft, tcpst_conn *c, unsigned cls);

/* Unlink and return the record to the pool. */
void tcpst_flowtab_remove(tcpst_flowtab *ft, tcpst_conn *c);

/* Least recently seen record of a class, or NULL. */
tcpst_conn *tcpst_flowtab_oldest(tcpst_flowtab *ft, unsigned cls);

#endif
