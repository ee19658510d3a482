/*
 * anomaly.c - the catalogue (ids, severities, fact names) and aggregation of
 * findings per connection.  Detection lives in detect.c and transfer.c.
 */
#include "tcpstate/anomaly.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *id;
    tcpst_severity sev;
} catalogue[TCPST_A__COUNT] = {
#define TCPST_X_CAT(e, id, sev) {id, TCPST_SEV_##sev},
    TCPST_ANOMALY_MAP(TCPST_X_CAT)
#undef TCPST_X_CAT
};

#define F(n, k)                                                                                    \
    {                                                                                              \
        n, TCPST_FACT_##k                                                                          \
    }
#define NONE                                                                                       \
    {                                                                                              \
        NULL, TCPST_FACT_INT                                                                       \
    }

/* Fact slots per type; documented in docs/anomalies.md. */
static const tcpst_factdesc facts[TCPST_A__COUNT][TCPST_FACTS] = {
    [TCPST_A_SYN_UNANSWERED] = {F("attempts", INT), F("retries", INT), F("duration", SECONDS),
                                F("max_backoff", SECONDS)},
    [TCPST_A_CONNECTION_REJECTED] = {F("syn_retries_before", INT), NONE, NONE, NONE},
    [TCPST_A_HANDSHAKE_INCOMPLETE] = {F("duration", SECONDS), F("synack_retries", INT), NONE, NONE},
    [TCPST_A_HANDSHAKE_INVALID] = {F("reason", REASON), F("expected_ack", INT), F("ack", INT),
                                   NONE},
    [TCPST_A_CLOSE_WAIT_STUCK] = {F("duration", SECONDS), F("bytes_after_peer_fin", INT), NONE,
                                  NONE},
    [TCPST_A_FIN_WAIT_2_STUCK] = {F("duration", SECONDS), NONE, NONE, NONE},
    [TCPST_A_FIN_WAIT_1_STUCK] = {F("duration", SECONDS), F("fin_retransmissions", INT), NONE,
                                  NONE},
    [TCPST_A_LAST_ACK_STUCK] = {F("duration", SECONDS), F("fin_retransmissions", INT), NONE, NONE},
    [TCPST_A_HALF_OPEN] = {F("reason", REASON), F("segments_into_silence", INT),
                           F("duration", SECONDS), NONE},
    [TCPST_A_CONNECTION_RESET] = {F("state", STATE), F("peer_state", STATE),
                                  F("unacked_bytes", INT), NONE},
    [TCPST_A_DATA_AFTER_CLOSE] = {F("bytes", INT), NONE, NONE, NONE},
    [TCPST_A_DATA_AFTER_RESET] = {F("bytes", INT), NONE, NONE, NONE},
    [TCPST_A_RST_OUT_OF_WINDOW] = {F("seq", INT), F("in_window", BOOL), NONE, NONE},
    [TCPST_A_PORT_REUSE] = {F("previous_state", STATE), F("since_previous_end", SECONDS),
                            F("previous_id", INT), NONE},
    [TCPST_A_SYN_INSIDE_CONNECTION] = {F("state", STATE), F("seq", INT), NONE, NONE},
    [TCPST_A_RETRANSMISSION] = {F("timeout", INT), F("fast", INT), F("spurious", INT),
                                F("bytes", INT)},
    [TCPST_A_OUT_OF_ORDER] = {F("bytes", INT), NONE, NONE, NONE},
    [TCPST_A_SEGMENT_NOT_CAPTURED] = {F("bytes", INT), F("capture_lost", INT),
                                      F("filled_later", INT), NONE},
    [TCPST_A_ACK_OF_UNSEEN_DATA] = {F("bytes", INT), NONE, NONE, NONE},
    [TCPST_A_ZERO_WINDOW] = {F("duration", SECONDS), F("probes", INT), NONE, NONE},
    [TCPST_A_ZERO_WINDOW_STALL] = {F("duration", SECONDS), F("probes", INT), NONE, NONE},
    [TCPST_A_WINDOW_SHRINK] = {F("bytes", INT), NONE, NONE, NONE},
    [TCPST_A_OUT_OF_WINDOW_SEGMENT] = {F("bytes", INT), F("max_beyond", INT), NONE, NONE},
    [TCPST_A_TIMESTAMP_REGRESSION] = {F("max_decrease", INT), NONE, NONE, NONE},
    [TCPST_A_ILLEGAL_FLAGS] = {F("flags", FLAGS), NONE, NONE, NONE},
    [TCPST_A_MALFORMED_OPTIONS] = {F("reasons", OPTBAD), NONE, NONE, NONE},
    [TCPST_A_RST_WITH_DATA] = {F("bytes", INT), NONE, NONE, NONE},
    [TCPST_A_BAD_CHECKSUM] = {F("layer", REASON), NONE, NONE, NONE},
    [TCPST_A_DATA_BEFORE_ESTABLISHED] = {F("bytes", INT), NONE, NONE, NONE},
};

const char *tcpst_anomaly_reason(tcpst_anomaly_type t, int64_t code)
{
    if (t == TCPST_A_HANDSHAKE_INVALID) {
        switch (code) {
            case 1:
                return "synack_wrong_ack";
            case 2:
                return "synack_from_client";
            case 3:
                return "final_ack_wrong";
        }
    } else if (t == TCPST_A_BAD_CHECKSUM) {
        return code == 1 ? "ip" : "tcp";
    } else if (t == TCPST_A_HALF_OPEN) {
        switch (code) {
            case 1:
                return "rst_to_data";
            case 2:
                return "into_silence";
        }
    }
    return "unknown";
}

bool tcpst_anomaly_has_duration(tcpst_anomaly_type t)
{
    switch (t) {
        case TCPST_A_SYN_UNANSWERED:
        case TCPST_A_HANDSHAKE_INCOMPLETE:
        case TCPST_A_CLOSE_WAIT_STUCK:
        case TCPST_A_FIN_WAIT_2_STUCK:
        case TCPST_A_FIN_WAIT_1_STUCK:
        case TCPST_A_LAST_ACK_STUCK:
        case TCPST_A_ZERO_WINDOW_STALL:
            return true;
        default:
            return false;
    }
}

const char *tcpst_anomaly_id(tcpst_anomaly_type t)
{
    return (unsigned)t < TCPST_A__COUNT ? catalogue[t].id : "?";
}

tcpst_severity tcpst_anomaly_severity(tcpst_anomaly_type t)
{
    return (unsigned)t < TCPST_A__COUNT ? catalogue[t].sev : TCPST_SEV_ERROR;
}

const char *tcpst_severity_name(tcpst_severity s)
{
    static const char *const names[] = {"info", "warning", "error"};
    return (unsigned)s < 3 ? names[s] : "?";
}

int tcpst_anomaly_parse(const char *id)
{
    for (int i = 0; i < TCPST_A__COUNT; i++) {
        if (strcmp(id, catalogue[i].id) == 0) {
            return i;
        }
    }
    return -1;
}

const tcpst_factdesc *tcpst_anomaly_facts(tcpst_anomaly_type t)
{
    return facts[(unsigned)t < TCPST_A__COUNT ? t : 0];
}

tcpst_finding *tcpst_findings_get(tcpst_findings *fs, tcpst_anomaly_type t, tcpst_who who)
{
    for (unsigned i = 0; i < fs->n; i++) {
        if (fs->f[i].type == t && fs->f[i].who == who) {
            return &fs->f[i];
        }
    }
    return NULL;
}

int tcpst_finding_pool_init(tcpst_finding_pool *p, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->area = cap ? calloc(cap, sizeof *p->area) : NULL;
    if (cap && !p->area) {
        return -1;
    }
    p->cap = cap;
    return 0;
}

void tcpst_finding_pool_fini(tcpst_finding_pool *p)
{
    free(p->area);
    memset(p, 0, sizeof *p);
}

/* For records without an engine: slabs kept for the life of the process (reachable from
 * here, so leak checkers do not count them), blocks recycled through the free list. */
#define SLAB_BLOCKS 64
typedef struct slab {
    struct slab *next;
    tcpst_finding_block b[SLAB_BLOCKS];
} slab;
static slab *slabs;
static tcpst_finding_pool shared = {.grow = true};

static tcpst_finding_block *block_get(tcpst_finding_pool *p)
{
    if (p->free) {
        tcpst_finding_block *b = p->free;
        p->free = b->next_free;
        return b;
    }
    if (p->hwm == p->cap && p->grow) {
        slab *s = malloc(sizeof *s);
        if (!s) {
            return NULL;
        }
        s->next = slabs;
        slabs = s;
        p->area = s->b;
        p->cap = SLAB_BLOCKS;
        p->hwm = 0;
    }
    return p->hwm < p->cap ? &p->area[p->hwm++] : NULL;
}

void tcpst_findings_release(tcpst_findings *fs)
{
    if (fs->f) {
        tcpst_finding_pool *p = fs->pool ? fs->pool : &shared;
        tcpst_finding_block *b = (tcpst_finding_block *)(void *)fs->f;
        b->next_free = p->free;
        p->free = b;
    }
    fs->f = NULL;
    fs->n = 0;
}

void tcpst_findings_copy_to(tcpst_findings *dst, const tcpst_findings *src, tcpst_finding *room)
{
    *dst = *src;
    if (src->n) {
        memcpy(room, src->f, src->n * sizeof *room);
    }
    dst->f = room;
    dst->pool = NULL; /* room is the caller's: never given back to a pool */
}

tcpst_finding *tcpst_findings_add(tcpst_findings *fs, tcpst_anomaly_type t, tcpst_who who,
                                  tcpst_time ts, uint64_t frame)
{
    tcpst_finding *f = tcpst_findings_get(fs, t, who);
    if (!f) {
        if (fs->n == TCPST_FINDINGS_MAX) {
            fs->dropped++;
            return NULL;
        }
        if (!fs->f) {
            tcpst_finding_block *b = block_get(fs->pool ? fs->pool : &shared);
            if (!b) {
                fs->dropped++; /* no room at all: counted like the cap */
                return NULL;
            }
            fs->f = b->f;
        }
        f = &fs->f[fs->n++];
        memset(f, 0, sizeof *f);
        f->type = (uint8_t)t;
        f->who = (uint8_t)who;
        f->first_ts = ts;
        f->first_frame = frame;
    }
    f->count++;
    f->last_ts = ts;
    if (frame) {
        f->last_frame = frame;
        if (f->nevidence < TCPST_EVIDENCE_MAX) {
            f->evidence[f->nevidence++] = frame;
        } else {
            fs->evidence_dropped++;
        }
    }
    return f;
}

int tcpst_findings_max_severity(const tcpst_findings *fs)
{
    int m = -1;
    for (unsigned i = 0; i < fs->n; i++) {
        int s = (int)tcpst_anomaly_severity((tcpst_anomaly_type)fs->f[i].type);
        m = s > m ? s : m;
    }
    return m;
}
