/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowtab.h - the connection table: a preallocated pool of records, a
 * chained hash on the 4-tuple and key (symmetric, so both directions meet), and
 * per-class least-recently-seen lists for idle expiry and eviction.  A second
 * chained hash, on the 4-tuple alone, holds the records whose key is not 0, so that a
 * segment missing under its own key can find its 4-tuple under another one (asymmetric
 * encapsulation, docs/encapsulations.md); plain traffic never touches it.
 *
 * Records live in one array sized at init and touched only as it fills, so
 * memory follows the number of live connections, never the packet count.
 * Links are 32-bit indexes (0 = none) to keep records small.  The table
 * knows keys, slots and ages; it knows nothing of TCP states.
 */
#ifndef TCPSTATE_FLOWTAB_H
#define TCPSTATE_FLOWTAB_H

#include <stdbool.h>
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

/* A keyed record's place in the 4-tuple index: doubly linked, so that removing it is O(1)
 * even when many records share a 4-tuple (one per VLAN, say). */
typedef struct tcpst_tuplelink {
    uint32_t next, prev;
} tcpst_tuplelink;

/* Chain steps a search of the 4-tuple index takes at most: a bound, not a rule (a capture
 * with more keys for one 4-tuple than this just joins fewer directions). */
#define TCPST_TUPLE_SCAN_MAX 32

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
    /* The 4-tuple index (after the fields the lookup reads, which keep their places). */
    uint32_t *tbuckets;      /* as many buckets as `buckets` */
    tcpst_tuplelink *tlinks; /* parallel to conns; used by indexed records only */
    uint32_t tuple_live;     /* records in the 4-tuple index */
} tcpst_flowtab;

/* A table of `cap` records whose hash starts with room for `expect` (0: cap) and doubles
 * as records outnumber it. */
__attribute__((warn_unused_result)) int tcpst_flowtab_init(tcpst_flowtab *ft, uint32_t cap,
                                                           uint32_t expect, tcpst_error *err);
void tcpst_flowtab_fini(tcpst_flowtab *ft);

/* Symmetric hash of the segment's 4-tuple. */
uint32_t tcpst_flowtab_hash(const tcpst_segment *seg);

/* The live record for the segment's 4-tuple and key, or NULL. */
tcpst_conn *tcpst_flowtab_lookup(tcpst_flowtab *ft, const tcpst_segment *seg, uint32_t hash);

/* Could a record with seg's 4-tuple under another key exist?  False, at the cost of one
 * comparison, for plain traffic while no record is keyed. */
static inline bool tcpst_flowtab_other_keys_possible(const tcpst_flowtab *ft,
                                                     const tcpst_segment *seg)
{
    return seg->key_ctx != 0 || ft->tuple_live != 0;
}

/*
 * Records with seg's 4-tuple whose own key is not seg's: the one with key 0 (main hash) and
 * the keyed ones (4-tuple index, newest first, at most TCPST_TUPLE_SCAN_MAX steps), up to
 * `max` into out[].  Returns how many.  Not counted in lookups/probes (a miss path).
 */
unsigned tcpst_flowtab_other_keys(tcpst_flowtab *ft, const tcpst_segment *seg, tcpst_conn **out,
                                  unsigned max);

/* From now on c also answers to `key` (conn.h key_alt): the record of a connection whose
 * two directions carry different keys.  Only once per record. */
void tcpst_flowtab_add_key(tcpst_flowtab *ft, tcpst_conn *c, uint32_t key);

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
