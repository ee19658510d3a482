/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * anomaly.c - the catalogue (ids, severities, facts, reasons: one row per type, from
 * anomaly.h) and the findings of a connection: aggregation per (type, endpoint) in blocks
 * from a pool, and their evidence frames.  Detection lives in detect.c and transfer.c.
 */
#include "tcpstate/anomaly.h"

#include "tcpstate/error.h"

#include <stdlib.h>
#include <string.h>

/* What the catalogue row gives (anomaly.h), as the report and the docs need it. */
typedef struct desc {
    const char *id;
    tcpst_severity sev;
    bool duration;
    tcpst_factdesc facts[TCPST_FACTS];
    const char *const *reasons; /* [code] for codes 1..nreasons; [0] unused */
    unsigned nreasons;
} desc;

#define DURATION true
#define INSTANT  false
#define F(name, kind)                                                                              \
    {                                                                                              \
        name, TCPST_FACT_##kind                                                                    \
    }
#define NONE                                                                                       \
    {                                                                                              \
        NULL, TCPST_FACT_INT                                                                       \
    }
#define FACTS(...) __VA_ARGS__
/* A row's REASONS fill two members: the names and how many there are. */
#define REASON_COUNT(...) (sizeof((const char *[]){NULL, __VA_ARGS__}) / sizeof(char *) - 1)
#define REASONS(...)      (const char *const[]){NULL, __VA_ARGS__}, REASON_COUNT(__VA_ARGS__)
#define X_ROW(e, id, sev, dur, facts, reasons)                                                     \
    [TCPST_A_##e] = {id, TCPST_SEV_##sev, dur, {facts}, reasons},
static const desc catalogue[TCPST_A__COUNT] = {TCPST_ANOMALY_MAP(X_ROW)};
#undef X_ROW
#undef REASONS

/* The reason enums of anomaly.h end where the rows' REASONS do. */
#define REASONS(...)                                REASON_COUNT(__VA_ARGS__)
#define X_NREASONS(e, id, sev, dur, facts, reasons) NREASONS_##e = reasons,
enum { TCPST_ANOMALY_MAP(X_NREASONS) };
#undef X_NREASONS
#undef REASONS
_Static_assert((int)NREASONS_HANDSHAKE_INVALID == (int)TCPST_HSR_FINAL_ACK_WRONG,
               "handshake_invalid");
_Static_assert((int)NREASONS_HALF_OPEN == (int)TCPST_HOR_ACK_TO_SYN, "half_open reasons");
_Static_assert((int)NREASONS_BAD_CHECKSUM == (int)TCPST_CKR_TCP, "bad_checksum reasons");
_Static_assert((int)NREASONS_RST_NOT_ACCEPTED == (int)TCPST_RNA_PEER_WENT_ON,
               "rst_not_accepted reasons");

static const desc *row(tcpst_anomaly_type t)
{
    return &catalogue[(unsigned)t < TCPST_A__COUNT ? t : 0];
}

const char *tcpst_anomaly_reason(tcpst_anomaly_type t, int64_t code)
{
    const desc *d = row(t);
    return code >= 1 && code <= d->nreasons ? d->reasons[code] : "unknown";
}

unsigned tcpst_anomaly_reason_count(tcpst_anomaly_type t)
{
    return row(t)->nreasons;
}

bool tcpst_anomaly_has_duration(tcpst_anomaly_type t)
{
    return row(t)->duration;
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

const char *tcpst_anomaly_suggest(const char *id)
{
    const char *ids[TCPST_A__COUNT];
    for (int i = 0; i < TCPST_A__COUNT; i++) {
        ids[i] = catalogue[i].id;
    }
    return tcpst_suggest(id, ids, TCPST_A__COUNT);
}

const tcpst_factdesc *tcpst_anomaly_facts(tcpst_anomaly_type t)
{
    return row(t)->facts;
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

bool tcpst_findings_remove(tcpst_findings *fs, tcpst_anomaly_type t, tcpst_who who)
{
    tcpst_finding *f = tcpst_findings_get(fs, t, who);
    if (!f) {
        return false;
    }
    size_t i = (size_t)(f - fs->f);
    memmove(f, f + 1, (fs->n - i - 1) * sizeof *f);
    fs->n--;
    return true;
}

int tcpst_finding_pool_init(tcpst_finding_pool *p, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->area = cap ? calloc(cap, sizeof *p->area) : NULL;
    if (cap && !p->area) {
        return TCPST_ENOMEM;
    }
    p->cap = cap;
    return 0;
}

void tcpst_finding_pool_fini(tcpst_finding_pool *p)
{
    free(p->area);
    memset(p, 0, sizeof *p);
}

static tcpst_finding_block *block_get(tcpst_finding_pool *p)
{
    if (!p) {
        return NULL;
    }
    if (p->free) {
        tcpst_finding_block *b = p->free;
        p->free = b->next_free;
        return b;
    }
    return p->hwm < p->cap ? &p->area[p->hwm++] : NULL;
}

void tcpst_findings_release(tcpst_findings *fs)
{
    if (fs->f && fs->pool) {
        tcpst_finding_block *b = (tcpst_finding_block *)(void *)fs->f;
        b->next_free = fs->pool->free;
        fs->pool->free = b;
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
            tcpst_finding_block *b = block_get(fs->pool);
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
    }
    tcpst_finding_add_evidence(fs, f, frame);
    return f;
}

void tcpst_finding_add_evidence(tcpst_findings *fs, tcpst_finding *f, uint64_t frame)
{
    if (!frame) {
        return;
    }
    for (unsigned i = 0; i < f->nevidence; i++) {
        if (f->evidence[i] == frame) {
            return;
        }
    }
    if (f->nevidence < TCPST_EVIDENCE_MAX) {
        f->evidence[f->nevidence++] = frame;
    } else {
        fs->evidence_dropped++;
    }
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
