/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine.h - the pipeline: decoder, connection table, state machines and detectors.
 *
 * Owns the table and the packet clock (the newest packet timestamp seen: the wall clock is
 * never read).  Each packet is decoded, counted, matched to its record (a new one on first
 * sight or when a SYN starts a new connection on a used 4-tuple) and fed to
 * tcpst_conn_update(), with the detectors (detect.h) around it: the engine is the one place
 * that calls them.  Records leave through the receivers when they end, idle out, are
 * evicted or the input ends; a receiver must copy what it needs, the record is reused
 * afterwards.  No allocation happens per packet.
 */
#ifndef TCPSTATE_ENGINE_H
#define TCPSTATE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstate/conn.h"
#include "tcpstate/decode.h"
#include "tcpstate/error.h"
#include "tcpstate/flowtab.h"
#include "tcpstate/ipreasm.h"
#include "tcpstate/summary.h"

/*
 * Fills c->host from the host the capture runs on (live captures; main.c sets it): called
 * when a record is written out, and in the duration scans on a provisional copy that is
 * about to announce a new finding (`scan` true).  kernel_state_mismatch follows from it.
 */
typedef void (*tcpst_host_fn)(void *ctx, tcpst_conn *c, bool scan);

typedef struct tcpst_engine_config {
    tcpst_conn_config conn;
    tcpst_host_fn host; /* NULL: records carry no host view (offline) */
    void *host_ctx;
    tcpst_time timeout[TCPST_LRU__COUNT]; /* idle timeouts per age class */
    uint32_t max_connections;
    /* Records beyond this many make room first (0 = none): finished connections are written
     * out before their linger ends, then half-open ones are evicted; established ones are kept
     * up to max_connections.  Set from --memory (tcpst_engine_soft_limit). */
    uint32_t soft_connections;
    bool split_zeek;            /* record boundaries as Zeek's conn.log rows instead of RFC 9293 */
    bool verify_checksums;      /* drop segments with a bad IPv4/TCP checksum (offload: off) */
    tcpst_decode_config decode; /* tunnel ports, connection key */
    bool reassemble;            /* reassemble IP fragments (default true) */
    tcpst_reasm_config reasm;
} tcpst_engine_config;

/* Defaults from limits.h. */
void tcpst_engine_config_default(tcpst_engine_config *cfg);

/* Bytes a tracked record may take: the record, its share of the hash and a findings block. */
size_t tcpst_engine_record_bytes(void);

/* The soft limit that keeps the table within `mib` MiB of memory, all told; 0 when `mib` is
 * below tcpst_engine_min_memory_mib(). */
uint32_t tcpst_engine_soft_limit(uint64_t mib);

/* The least --memory that holds TCPST_MIN_SOFT_CONNECTIONS records. */
uint64_t tcpst_engine_min_memory_mib(void);

typedef struct tcpst_engine_stats {
    uint64_t packets;                  /* frames given to the engine */
    uint64_t tcp;                      /* decoded TCP segments */
    uint64_t non_tcp;                  /* valid frames carrying something else */
    uint64_t decode[TCPST_DEC__COUNT]; /* per decoder outcome */
    uint64_t connections;              /* records created */
    uint64_t closed, idle_expired, evicted, reused, open_at_end;
    uint64_t closed_early;        /* of `closed`: written before their linger ended, to make room */
    uint64_t evicted_established; /* of `evicted`: cut while established (the table was full) */
    uint64_t rst_not_accepted;
    uint64_t findings_dropped, evidence_dropped; /* anomaly caps reached */
    uint64_t bad_checksum, checksum_unverifiable;
    uint64_t snapped_headers;     /* frames the snap length cut inside their headers */
    uint64_t clock_steps_back;    /* timestamps that went back by TCPST_CLOCK_STEP or more ... */
    tcpst_time largest_step_back; /* ... and the largest such step */
    uint64_t opt_malformed;       /* segments whose option area is malformed */
    uint64_t opt_unknown;         /* options of unknown kinds */
    uint64_t ip_options;          /* IPv4 packets with options */
    uint32_t peak_live;
    uint64_t lookups, chain_steps; /* flow-table lookups and records compared (finish) */
    uint64_t announced;            /* findings announced as they happened (streaming) */
    tcpst_reasm_stats frag;        /* IP fragment reassembly (all zero when none seen) */
    uint64_t frag_absorbed; /* fragment frames that completed no datagram (in no other count) */
    tcpst_time first_ts, last_ts;
} tcpst_engine_stats;

/* A record written out.  c and its findings are valid during the call only (the slot and
 * the findings block are reused): keep copies with tcpst_findings_copy_to(). */
typedef void (*tcpst_emit_fn)(void *ctx, const tcpst_conn *c);

/*
 * A finding seen for the first time (per type and endpoint), at once: after
 * the segment that raised it, on a clock tick for duration findings (stuck
 * states, unanswered SYNs: a provisional copy whose facts hold at `now`), or
 * when the record is written out.  Only called when set (streaming output).
 */
typedef void (*tcpst_anomaly_fn)(void *ctx, const tcpst_conn *c, const tcpst_finding *f,
                                 tcpst_time now);

/*
 * Who receives what the engine finds (the report, the policy verdict, JUnit, ...): records
 * as they are written out, and findings as they happen.  Either function may be NULL; the
 * engine looks for findings as they happen only when some receiver takes them.
 */
/*
 * One TCP segment, after it was applied to its record c (whose states are those it left):
 * `from` is its sender's endpoint.  For views of single connections (--format ladder); only
 * called when set, and nothing is allocated for it.
 */
typedef void (*tcpst_segment_fn)(void *ctx, const tcpst_conn *c, unsigned from,
                                 const tcpst_segment *seg, tcpst_time ts, uint64_t frame);

typedef struct tcpst_receiver {
    tcpst_emit_fn record;
    tcpst_anomaly_fn anomaly;
    void *ctx;
    tcpst_segment_fn segment;
} tcpst_receiver;

#define TCPST_RECEIVERS_MAX 4

/* Connections tracked right now, by endpoint state. */
typedef struct tcpst_engine_open {
    uint32_t total;
    uint32_t client[TCPST_STATE__COUNT]; /* endpoint 0 */
    uint32_t server[TCPST_STATE__COUNT]; /* endpoint 1 */
} tcpst_engine_open;

/* A timestamp this far or more before the previous packet's is a clock step, not reordering
 * between capture queues (microseconds): from there on, times are shifted to run on. */
#define TCPST_CLOCK_STEP (TCPST_NS_PER_SEC / 100)

typedef struct tcpst_engine {
    tcpst_engine_config cfg;
    tcpst_flowtab ft;
    tcpst_engine_stats stats;
    tcpst_receiver recv[TCPST_RECEIVERS_MAX]; /* called in the order added */
    unsigned nrecv;
    bool announce;                        /* a receiver takes findings as they happen */
    bool per_segment;                     /* a receiver takes every segment */
    tcpst_summary summary;                /* capture-wide detectors (summary.h) */
    tcpst_time next_scan;                 /* next duration-finding scan (announce only) */
    tcpst_time expire_at;                 /* no record is due before this (never later) */
    tcpst_conn *scratch;                  /* provisional copy for those scans */
    tcpst_finding_block scratch_findings; /* the scratch copy's own findings */
    tcpst_finding_pool fpool;             /* findings blocks, one per table slot */
    tcpst_reasm *reasm;                   /* NULL when reassembly is off */
    uint64_t next_id;
    tcpst_time now;
    bool clock_set;          /* `now` holds a packet time (times may be negative) */
    uint8_t end_undecidable; /* tcpst_undecidable for records open at finish (main sets it) */
    /* Capture timestamps that step back (a clock step, a badly merged file) are moved
     * forward by `ts_offset` from there on, so durations never see time run backwards. */
    tcpst_time ts_offset;
    tcpst_time last_raw; /* the previous packet's own timestamp */
    /* The record the latest TCP segment went to, until the next packet (-w of selected
     * connections, main.c); NULL before the first.  Its slot may have been written out
     * since: compare last_conn->id with what was expected. */
    const tcpst_conn *last_conn;
} tcpst_engine;

__attribute__((warn_unused_result)) int
tcpst_engine_init(tcpst_engine *e, const tcpst_engine_config *cfg, tcpst_error *err);
void tcpst_engine_fini(tcpst_engine *e);

/* Add a receiver (copied), before the first packet.  0, or TCPST_EUSAGE when there are
 * TCPST_RECEIVERS_MAX already. */
__attribute__((warn_unused_result)) int tcpst_engine_add_receiver(tcpst_engine *e,
                                                                  const tcpst_receiver *r);

/* One captured frame. */
void tcpst_engine_packet(tcpst_engine *e, int linktype, const uint8_t *data, uint32_t caplen,
                         uint32_t wirelen, tcpst_time ts, uint64_t frame);

/*
 * tcpst_engine_packet() in two steps, so that a read-ahead thread can decode while the
 * engine analyses the packets before: tcpst_engine_prepare() only reads `cfg` and the
 * frame; it returns how many leading bytes of the frame tcpst_engine_prepared() still
 * needs (all of it for a fragment or a checksum check, else none).
 */
typedef struct tcpst_prepared {
    tcpst_segment seg;
    uint32_t hash;    /* tcpst_flowtab_hash(&seg) when status is TCPST_DEC_OK */
    uint32_t status;  /* tcpst_decode_status */
    uint32_t snapped; /* the frame was captured short of its wire length */
} tcpst_prepared;

uint32_t tcpst_engine_prepare(const tcpst_engine_config *cfg, int linktype, const uint8_t *data,
                              uint32_t caplen, uint32_t wirelen, tcpst_prepared *out);

/* tcpst_engine_prepare() as a tcpst_capture_prep function; ctx is the engine's config. */
uint32_t tcpst_engine_prep_fn(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
                              uint32_t wirelen, void *out);

/* The rest of tcpst_engine_packet(): `data` holds at least what prepare asked to keep. */
void tcpst_engine_prepared(tcpst_engine *e, const tcpst_prepared *p, const uint8_t *data,
                           uint32_t caplen, tcpst_time ts, uint64_t frame);

/* One decoded segment (used by the above, and by tests). */
void tcpst_engine_segment(tcpst_engine *e, const tcpst_segment *seg, tcpst_time ts, uint64_t frame);

/*
 * One segment of record c, the way the engine feeds every segment (used by it, and by tests
 * that build records themselves): the transfer detectors judge it against what came before,
 * tcpst_conn_update() applies it, and the lifecycle detectors look at what it changed.
 */
void tcpst_engine_conn_segment(tcpst_conn *c, const tcpst_segment *seg, tcpst_time ts,
                               uint64_t frame, const tcpst_conn_config *cfg);

/*
 * Move the clock to `now` without a packet (live capture while idle: the
 * wall clock): expiry, TIME_WAIT timers and duration findings fire as if a
 * packet had arrived then.  A time at or before the clock does nothing.
 */
void tcpst_engine_advance(tcpst_engine *e, tcpst_time now);

/* Count the connections tracked now, by state. O(live connections). */
void tcpst_engine_open_counts(const tcpst_engine *e, tcpst_engine_open *out);

/* End of input: emit every record still tracked, in id order. */
void tcpst_engine_finish(tcpst_engine *e);

/* The capture-wide findings over every record written out so far. */
void tcpst_engine_summary(const tcpst_engine *e, tcpst_summary_result *out);

#endif
