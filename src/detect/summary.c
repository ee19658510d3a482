/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * summary.c - capture-wide detectors (summary.h): per-address tallies of unanswered SYNs
 * and of resets, and the capture's quality, from every record written out.
 *
 * A flood or scan is judged on attempts, however short: a SYN that was never answered at
 * all counts, even if its record was evicted at once.  A storm counts connections a host
 * reset or refused.  Quality asks whether the established connections show both
 * directions and all their data.  Not here: anything per connection (detect.c).
 */
#include "tcpstate/summary.h"

#include <stdlib.h>
#include <string.h>

#include "tcpstate/hash.h"

struct tcpst_summary_host {
    tcpst_addr addr;
    uint8_t used;
    uint64_t unanswered_syns; /* as the server of connections whose SYN nobody answered */
    uint64_t resets;          /* connections it reset or rejected */
    tcpst_time first_ts, last_ts;
};

static bool grow(tcpst_summary *s);

void tcpst_summary_init(tcpst_summary *s)
{
    memset(s, 0, sizeof *s);
    /* The first table at once, so that a capture with few hosts never allocates while
     * packets are read; without it, the first host makes one (grow() is tried again). */
    (void)grow(s);
}

void tcpst_summary_fini(tcpst_summary *s)
{
    free(s->hosts);
    memset(s, 0, sizeof *s);
}

static size_t slot_of(const tcpst_addr *a, size_t cap)
{
    return (size_t)((tcpst_fnv1a64(TCPST_FNV64_BASIS, a->bytes, 16) ^ a->family) & (cap - 1));
}

/* Keep the load at most one half: double the table, up to its cap. */
static bool grow(tcpst_summary *s)
{
    if (s->caphosts >= TCPST_SUMMARY_HOSTS_MAX) {
        return false;
    }
    size_t cap = s->caphosts ? s->caphosts * 2 : 256;
    tcpst_summary_host *t = calloc(cap, sizeof *t);
    if (!t) {
        return false;
    }
    for (size_t i = 0; i < s->caphosts; i++) {
        if (s->hosts[i].used) {
            size_t j = slot_of(&s->hosts[i].addr, cap);
            while (t[j].used) {
                j = (j + 1) & (cap - 1);
            }
            t[j] = s->hosts[i];
        }
    }
    free(s->hosts);
    s->hosts = t;
    s->caphosts = cap;
    return true;
}

/* The tally of address a, made on first sight; NULL (counted) when there is no room. */
static tcpst_summary_host *host(tcpst_summary *s, const tcpst_addr *a)
{
    if (s->nhosts * 2 >= s->caphosts && !grow(s)) {
        s->hosts_untracked++;
        return NULL;
    }
    size_t j = slot_of(a, s->caphosts);
    while (s->hosts[j].used && tcpst_addr_cmp(&s->hosts[j].addr, a) != 0) {
        j = (j + 1) & (s->caphosts - 1);
    }
    if (!s->hosts[j].used) {
        s->hosts[j].used = 1;
        s->hosts[j].addr = *a;
        s->nhosts++;
    }
    return &s->hosts[j];
}

static void host_time(tcpst_summary_host *h, tcpst_time ts)
{
    if (!h->first_ts || ts < h->first_ts) {
        h->first_ts = ts;
    }
    if (ts > h->last_ts) {
        h->last_ts = ts;
    }
}

static bool ever_established(const tcpst_conn *c)
{
    for (int i = 0; i < 2; i++) {
        for (unsigned k = 0; k < c->ep[i].tl_count; k++) {
            if (c->ep[i].tl[k].to == TCPST_ESTABLISHED) {
                return true;
            }
        }
    }
    return false;
}

void tcpst_summary_add(tcpst_summary *s, const tcpst_conn *c)
{
    bool lossy = false;
    for (unsigned i = 0; i < c->findings.n; i++) {
        const tcpst_finding *f = &c->findings.f[i];
        tcpst_summary_host *h;
        if ((f->type == TCPST_A_CONNECTION_RESET || f->type == TCPST_A_CONNECTION_REJECTED) &&
            f->who < 2 && (h = host(s, &c->ep[f->who].addr))) {
            h->resets++;
            host_time(h, f->first_ts);
        }
        lossy |= f->type == TCPST_A_SEGMENT_NOT_CAPTURED || f->type == TCPST_A_ACK_OF_UNSEEN_DATA;
    }
    tcpst_summary_host *h;
    if (c->ep[0].state == TCPST_SYN_SENT && c->ep[1].packets == 0 &&
        (h = host(s, &c->ep[1].addr))) {
        h->unanswered_syns++;
        host_time(h, c->first_ts);
    }
    /* An established connection should show both directions, and all its data. */
    if (ever_established(c)) {
        s->established_conns++;
        s->one_sided_conns += c->ep[0].packets == 0 || c->ep[1].packets == 0;
        s->lossy_conns += lossy;
    }
}

static int by_count(const void *a, const void *b)
{
    const tcpst_summary_listed *x = a, *y = b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    return tcpst_addr_cmp(&x->addr, &y->addr);
}

/* The hosts whose tally reaches `min`, most affected first, into out[]; how many. */
static size_t list_hosts(const tcpst_summary *s, bool syns, uint64_t min,
                         tcpst_summary_listed out[TCPST_SUMMARY_HOSTS_LISTED])
{
    tcpst_summary_listed *sel = calloc(s->nhosts + 1, sizeof *sel);
    size_t n = 0;
    for (size_t i = 0; sel && i < s->caphosts; i++) {
        const tcpst_summary_host *h = &s->hosts[i];
        uint64_t count = syns ? h->unanswered_syns : h->resets;
        if (h->used && count >= min) {
            sel[n++] = (tcpst_summary_listed){h->addr, count, h->first_ts, h->last_ts};
        }
    }
    if (n) {
        qsort(sel, n, sizeof *sel, by_count);
    }
    n = n < TCPST_SUMMARY_HOSTS_LISTED ? n : TCPST_SUMMARY_HOSTS_LISTED;
    if (n) {
        memcpy(out, sel, n * sizeof *sel);
    }
    free(sel);
    return n;
}

void tcpst_summary_judge_snaplen(tcpst_summary_result *out, uint64_t snapped, uint64_t frames)
{
    out->snapped_headers = snapped;
    out->frames = frames;
    if (snapped > 0 && snapped * 10 >= frames) {
        out->quality = "snap_length"; /* worse than the others: those segments are not seen */
    }
}

void tcpst_summary_judge_clock(tcpst_summary_result *out, uint64_t steps, tcpst_time largest)
{
    out->clock_steps_back = steps;
    out->largest_step_back = largest;
    if (steps > 0 && strcmp(out->quality, "ok") == 0) {
        out->quality = "clock_stepped";
    }
}

void tcpst_summary_judge(const tcpst_summary *s, tcpst_summary_result *out)
{
    memset(out, 0, sizeof *out);
    out->nfloods = list_hosts(s, true, TCPST_SYN_FLOOD_MIN, out->floods);
    out->nstorms = list_hosts(s, false, TCPST_RST_STORM_MIN, out->storms);
    uint64_t est = s->established_conns;
    out->quality = "ok";
    if (est >= TCPST_QUALITY_MIN_ESTABLISHED && s->one_sided_conns * 2 >= est) {
        out->quality = "one_sided";
    } else if (est >= TCPST_QUALITY_MIN_ESTABLISHED && s->lossy_conns * 10 >= est) {
        out->quality = "capture_loss";
    }
    out->established_conns = est;
    out->one_sided_conns = s->one_sided_conns;
    out->lossy_conns = s->lossy_conns;
    out->hosts_untracked = s->hosts_untracked;
}
