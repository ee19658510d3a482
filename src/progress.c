/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * progress.c - the progress line of a long offline run (progress.h).
 */
#include "progress.h"

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#define SHOW_AFTER ((tcpst_time)1000000000) /* a run shorter than a second shows nothing */
#define EVERY      ((tcpst_time)250000000)

static tcpst_time now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (tcpst_time)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void tcpst_progress_start(tcpst_progress *p, const char *const *files, size_t n, bool enabled)
{
    *p = (tcpst_progress){.on = enabled};
    for (size_t i = 0; enabled && i < n; i++) {
        struct stat st;
        if (stat(files[i], &st) == 0 && S_ISREG(st.st_mode)) {
            p->total += (uint64_t)st.st_size;
        }
    }
    p->start = now_ns();
    p->next = p->start + SHOW_AFTER;
}

static void human_bytes(char *out, size_t n, double b)
{
    const char *unit[] = {"B", "kB", "MB", "GB", "TB"};
    unsigned u = 0;
    while (b >= 1000 && u < 4) {
        b /= 1000;
        u++;
    }
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

/* 1234, 12.3k, 1.23M: a count at a glance. */
static void human_count(char *out, size_t n, double v)
{
    if (v >= 1e6) {
        snprintf(out, n, "%.2fM", v / 1e6);
    } else if (v >= 1e4) {
        snprintf(out, n, "%.1fk", v / 1e3);
    } else {
        snprintf(out, n, "%.0f", v);
    }
}

void tcpst__progress_tick(tcpst_progress *p, uint64_t connections)
{
    tcpst_time t = now_ns();
    if (t < p->next) {
        return;
    }
    p->next = t + EVERY;
    double secs = (double)(t - p->start) / 1e9;
    char done[32], total[32], left[48] = "";
    human_bytes(done, sizeof done, (double)p->done);
    human_bytes(total, sizeof total, (double)p->total);
    /* The bytes are the packets' with a pcap header each: a pcapng file's blocks are a
     * little larger, so the share is capped below 100 until the end. */
    double share = p->total ? (double)p->done / (double)p->total : 0;
    share = share > 0.99 ? 0.99 : share;
    if (p->total && share > 0.001) {
        double eta = secs * (1 - share) / share;
        snprintf(left, sizeof left, ", %.0f s left", eta);
    }
    char pk[16], rate[16], conns[16];
    human_count(pk, sizeof pk, (double)p->packets);
    human_count(rate, sizeof rate, (double)p->packets / secs);
    human_count(conns, sizeof conns, (double)connections);
    if (p->total) {
        fprintf(stderr, "\rtcpstate: %.0f%% of %s, %s packets (%s/s), %s connections%s\033[K",
                share * 100, total, pk, rate, conns, left);
    } else {
        fprintf(stderr, "\rtcpstate: %s read, %s packets (%s/s), %s connections\033[K", done, pk,
                rate, conns);
    }
    fflush(stderr);
    p->shown = true;
}

void tcpst_progress_end(tcpst_progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->on = p->shown = false;
}
