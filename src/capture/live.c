/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * live.c - live capture on an interface, as a source of records.
 *
 * One handle, not in immediate mode (see configure()), with the filter in the kernel, so every
 * packet delivered is handed out (and numbered).  The handle is put in non-blocking mode and waited
 * for with poll() on its selectable descriptor plus a self-pipe, because a blocking pcap_next_ex()
 * need not honour the packet buffer timeout (pcap_set_timeout(3PCAP)): with libpcap 1.10 on Linux
 * in immediate mode it does not return at all while the interface is idle (check_capture's idle
 * test hangs without the poll), and a signal handler cannot wake it portably.  The pipe lets
 * tcpst_capture_interrupt() wake the poll from a handler or another thread.
 *
 * Errors from opening are one line naming the interface and the fix (no
 * permission, no such interface, interface down).  An interface that goes
 * away mid-capture ends the input with libpcap's reason.
 *
 * Not done here: counting and numbering (capture.c), -D (iflist.c), dropping
 * privileges (privdrop.c).  Memory is allocated only when opening.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "source.h"

/* The kernel's ring for packets not read yet (-B overrides); a block of it is handed over
 * when full or TCPST_LIVE_BLOCK_MS after its first packet (TPACKET_V3's retire timeout). */
#define LIVE_BUFFER_BYTES (8 << 20)

/* Default live poll interval: short enough for timely stats and timeouts,
 * long enough that an idle capture costs nothing measurable. */
#define LIVE_POLL_MS 100
/* Without a selectable descriptor (or after a readiness report that yielded
 * no packet) wait at most this long before trying to read again. */
#define LIVE_RETRY_MS 10

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "interrupted is set from signal handlers");

struct live {
    tcpst__source base;
    pcap_t *pcap;
    int32_t frac_ns;        /* multiplier from the handle's fraction to ns (1 or 1000) */
    int linktype;           /* LINKTYPE_* of the interface */
    int poll_ms;            /* <= 0: wait for a packet or an interrupt only */
    int sel_fd;             /* pcap_get_selectable_fd(), -1 if the platform has none */
    int wake[2];            /* self-pipe written by the interrupt; -1 when not open */
    atomic_int interrupted; /* lock-free: safe from a signal handler and from a thread */
    bool ended;             /* the interface went away: END from now on */
};

void tcpst_live_config_default(tcpst_live_config *cfg)
{
    cfg->iface = NULL;
    cfg->snaplen = TCPST_LIVE_SNAPLEN;
    cfg->buffer_size = 0;
    cfg->promisc = true;
    cfg->poll_ms = LIVE_POLL_MS;
}

/* ---- the wake-up pipe ------------------------------------------------------- */

static bool set_cloexec_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fdfl = fcntl(fd, F_GETFD);
    return fl >= 0 && fdfl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
           fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) == 0;
}

/* The self-pipe: non-blocking at both ends, so the handler's write() never
 * blocks on a full pipe and draining stops when it is empty. */
static bool open_wake_pipe(struct live *lv)
{
    if (pipe(lv->wake) != 0) {
        lv->wake[0] = lv->wake[1] = -1;
        return false;
    }
    return set_cloexec_nonblock(lv->wake[0]) && set_cloexec_nonblock(lv->wake[1]);
}

static void drain_wake_pipe(struct live *lv)
{
    char buf[64];
    while (read(lv->wake[0], buf, sizeof(buf)) > 0) {
    }
}

/*
 * Only async-signal-safe operations: a store to a lock-free atomic int and
 * write(2) (POSIX.1-2017 2.4.3), with errno preserved for the interrupted
 * code.  A full pipe (EAGAIN) is fine: a wake-up is already pending.
 */
static void live_interrupt(tcpst__source *s)
{
    struct live *lv = (struct live *)s;
    int saved = errno;
    atomic_store(&lv->interrupted, 1);
    if (lv->wake[1] >= 0) {
        if (write(lv->wake[1], "", 1) < 0) {
            /* nothing to do: see above */
        }
    }
    errno = saved;
}

/* ---- reading ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* What the wait before the next read should watch. */
enum wait_kind {
    WAIT_ALL,      /* the capture descriptor and the wake-up pipe */
    WAIT_WAKE_ONLY /* the pipe only, for a short retry delay */
};

/* Wait until a packet may be there (true), or until the poll interval ends or a
 * signal comes (false). */
static bool wait_for_packet(struct live *lv, int64_t deadline, enum wait_kind *kind)
{
    int timeout = -1;
    if (lv->poll_ms > 0) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            return false;
        }
        timeout = (int)left;
    }
    bool with_cap = *kind == WAIT_ALL && lv->sel_fd >= 0;
    if (!with_cap && (timeout < 0 || timeout > LIVE_RETRY_MS)) {
        timeout = LIVE_RETRY_MS;
    }
    struct pollfd pfd[2] = {{.fd = lv->wake[0], .events = POLLIN},
                            {.fd = lv->sel_fd, .events = POLLIN}};
    int n = poll(pfd, with_cap ? 2 : 1, timeout);
    if (n < 0) {
        /* A signal: the caller looks at its flags (EINTR); anything
         * else is not worth spinning on. */
        return false;
    }
    /* A readiness report that then yields no packet (an error condition
     * libpcap does not treat as fatal, e.g. the interface went down)
     * must not make this loop spin: wait a little before reading again. */
    *kind = with_cap && n > 0 && pfd[1].revents != 0 ? WAIT_WAKE_ONLY : WAIT_ALL;
    return true;
}

/*
 * Read a buffered packet if there is one, else poll until one may be there,
 * the poll interval ends (IDLE), or an interrupt (IDLE).  An error from
 * libpcap (the interface went away) ends the capture.
 */
static void live_next(tcpst__source *s, tcpst__rec *rec)
{
    struct live *lv = (struct live *)s;
    *rec = (tcpst__rec){.kind = TCPST__REC_END};
    if (lv->ended) {
        return;
    }
    int64_t deadline = lv->poll_ms > 0 ? now_ms() + lv->poll_ms : 0;
    enum wait_kind kind = WAIT_ALL;
    for (;;) {
        if (atomic_exchange(&lv->interrupted, 0)) {
            drain_wake_pipe(lv);
            rec->kind = TCPST__REC_IDLE;
            return;
        }
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int r = pcap_next_ex(lv->pcap, &hdr, &data);
        if (r == 1) {
            *rec = (tcpst__rec){.kind = TCPST__REC_PACKET,
                                .data = data,
                                .caplen = hdr->caplen,
                                .wirelen = hdr->len,
                                .ts = tcpst__pcap_time(hdr, lv->frac_ns),
                                .linktype = lv->linktype,
                                .hdr = hdr,
                                .frac_ns = lv->frac_ns};
            return;
        }
        if (r != 0 && r != PCAP_ERROR_BREAK) {
            lv->ended = true;
            rec->kind = TCPST__REC_ERROR;
            rec->error = pcap_geterr(lv->pcap);
            return;
        }
        /* Broken out of (PCAP_ERROR_BREAK), or nothing buffered: wait. */
        if (r == PCAP_ERROR_BREAK || !wait_for_packet(lv, deadline, &kind)) {
            rec->kind = TCPST__REC_IDLE;
            return;
        }
    }
}

static void live_counters(tcpst__source *s, tcpst_capture_counters *out)
{
    struct live *lv = (struct live *)s;
    struct pcap_stat ps;
    if (lv->pcap == NULL || pcap_stats(lv->pcap, &ps) != 0) {
        return;
    }
    out->valid = true;
    out->received = ps.ps_recv;
    out->dropped = ps.ps_drop;
    out->if_dropped = ps.ps_ifdrop;
}

static void live_close(tcpst__source *s)
{
    struct live *lv = (struct live *)s;
    if (lv->pcap != NULL) {
        pcap_close(lv->pcap);
    }
    for (int k = 0; k < 2; k++) {
        if (lv->wake[k] >= 0) {
            close(lv->wake[k]);
        }
    }
    free(lv);
}

static const tcpst__source_ops live_ops = {
    .next = live_next,
    .close = live_close,
    .counters = live_counters,
    .interrupt = live_interrupt,
    .live = true,
};

/* ---- opening ------------------------------------------------------------------ */

static const char perm_hint[] = "permission denied: capturing needs root or the CAP_NET_RAW and "
                                "CAP_NET_ADMIN capabilities (e.g. sudo setcap "
                                "cap_net_raw,cap_net_admin=eip /path/to/tcpstate)";

/* Was this libpcap error text caused by missing privileges? libpcap maps
 * EPERM/EACCES to PCAP_ERROR_PERM_DENIED on Linux, but not on every path or
 * platform, so the text is checked too. */
static bool text_says_perm(const char *text)
{
    return strstr(text, strerror(EPERM)) != NULL || strstr(text, strerror(EACCES)) != NULL;
}

/* One line for a failed pcap_activate(), naming the interface and the fix. */
static int activate_error(pcap_t *p, const char *iface, int status, tcpst_error *err)
{
    const char *why = pcap_geterr(p);
    switch (status) {
        case PCAP_ERROR_PERM_DENIED:
            return tcpst_error_set(err, TCPST_EPERM, "%s: %s", iface, perm_hint);
        case PCAP_ERROR_PROMISC_PERM_DENIED:
            return tcpst_error_set(err, TCPST_EPERM,
                                   "%s: no permission to capture in promiscuous mode "
                                   "(-p captures without it)",
                                   iface);
        case PCAP_ERROR_NO_SUCH_DEVICE:
            return tcpst_error_set(err, TCPST_EOPEN,
                                   "%s: no such interface (tcpstate -D lists them)", iface);
        case PCAP_ERROR_IFACE_NOT_UP:
            return tcpst_error_set(err, TCPST_EOPEN, "%s: interface is down", iface);
        default:
            break;
    }
    if (why != NULL && why[0] != '\0' && text_says_perm(why)) {
        return tcpst_error_set(err, TCPST_EPERM, "%s: %s", iface, perm_hint);
    }
    if (why == NULL || why[0] == '\0') {
        why = pcap_statustostr(status);
    }
    return tcpst_error_set(err, TCPST_EOPEN, "%s: %s", iface, why);
}

/* A pcap_activate() warning, kept for the caller to show (capture works). */
static void keep_warning(tcpst_capture *cap, pcap_t *p, const char *iface, int status)
{
    const char *why = pcap_geterr(p);
    if (status == PCAP_WARNING_PROMISC_NOTSUP) {
        why = "promiscuous mode not supported";
    } else if (why == NULL || why[0] == '\0') {
        why = pcap_statustostr(status);
    }
    snprintf(cap->warning, sizeof(cap->warning), "%s: %s", iface, why);
}

/* Settings of a handle not yet activated; true if it asked for nanosecond stamps. */
static bool configure(pcap_t *p, const tcpst_live_config *cfg)
{
    int snaplen = cfg->snaplen > 0 ? cfg->snaplen : TCPST_LIVE_SNAPLEN;
    /* The setters fail only on an activated handle, which this is not. */
    (void)pcap_set_snaplen(p, snaplen);
    (void)pcap_set_promisc(p, cfg->promisc ? 1 : 0);
    /* Not immediate mode: on Linux that is a TPACKET_V2 ring of one snaplen-sized frame per
     * packet, about 30 frames in the default 2 MiB at loopback's 64 KiB MTU, so a burst of
     * a dozen segments (each seen twice on lo) overflowed it while this process waited for
     * the CPU, and the kernel did not count the loss.  TPACKET_V3 packs packets into blocks
     * by their captured length, as tcpdump's capture does; a block is handed over when full
     * or after the timeout, which bounds the latency. */
    (void)pcap_set_timeout(p, TCPST_LIVE_BLOCK_MS);
    (void)pcap_set_buffer_size(p, cfg->buffer_size > 0 ? cfg->buffer_size : LIVE_BUFFER_BYTES);
    /* Not every platform has nanosecond time stamps; micro is the fallback. */
    return pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
}

static int create_live(struct live *lv, tcpst_capture *cap, const tcpst_live_config *cfg,
                       tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    const char *iface = cfg->iface;
    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    errno = 0;
    pcap_t *p = pcap_create(iface, errbuf);
    if (p == NULL) {
        /* Some platforms and versions open a socket here (notably for "any"). */
        if (errno == EPERM || errno == EACCES || text_says_perm(errbuf)) {
            return tcpst_error_set(err, TCPST_EPERM, "%s: %s", iface, perm_hint);
        }
        return tcpst_error_set(err, TCPST_EOPEN, "%s: %s", iface,
                               errbuf[0] != '\0' ? errbuf : "cannot open interface");
    }
    lv->pcap = p;
    bool nano = configure(p, cfg);
    int status = pcap_activate(p);
    if (status < 0) {
        return activate_error(p, iface, status, err);
    }
    if (status > 0) {
        keep_warning(cap, p, iface, status);
    }
    nano = nano && pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    lv->frac_ns = nano ? 1 : 1000;
    tcpst__input *in = &cap->in[0];
    in->info.nanosecond = nano;
    in->info.name = iface;
    in->info.format = "live";
    in->info.snaplen = pcap_snapshot(p);
    tcpst__input_set_linktype(in, pcap_datalink(p));
    lv->linktype = in->info.linktype;
    return tcpst__input_check_linktype(in, iface, linktype_ok, err);
}

static int set_live_filter(pcap_t *p, const char *iface, const char *filter, tcpst_error *err)
{
    /* The netmask only matters for "ip broadcast"; interfaces without IPv4
     * (and "any") have none, which libpcap accepts as unknown. */
    bpf_u_int32 net = 0;
    bpf_u_int32 mask = PCAP_NETMASK_UNKNOWN;
    char errbuf[PCAP_ERRBUF_SIZE];
    if (pcap_lookupnet(iface, &net, &mask, errbuf) != 0) {
        mask = PCAP_NETMASK_UNKNOWN;
    }
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, mask) != 0) {
        return tcpst_error_set(err, TCPST_EFILTER, "invalid filter '%s': %s", filter,
                               pcap_geterr(p));
    }
    /* libpcap keeps its own copy (in the kernel, or for its userland fallback). */
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        return tcpst_error_set(err, TCPST_EFILTER, "%s: cannot set filter '%s': %s", iface, filter,
                               pcap_geterr(p));
    }
    return 0;
}

/* Non-blocking reads, and the pipe that wakes the poll. */
static int prepare_wait(struct live *lv, const char *iface, tcpst_error *err)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    if (pcap_setnonblock(lv->pcap, 1, errbuf) != 0) {
        return tcpst_error_set(err, TCPST_EOPEN, "%s: cannot set non-blocking mode: %s", iface,
                               errbuf);
    }
    if (!open_wake_pipe(lv)) {
        return tcpst_error_set(err, TCPST_EOPEN, "%s: cannot create wake-up pipe: %s", iface,
                               strerror(errno));
    }
    lv->sel_fd = pcap_get_selectable_fd(lv->pcap);
    return 0;
}

int tcpst__live_open(tcpst_capture *cap, const tcpst_live_config *cfg, const char *filter,
                     tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    struct live *lv = tcpst__alloc_lines(sizeof(*lv));
    if (lv == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory opening capture");
    }
    lv->base.ops = &live_ops;
    lv->poll_ms = cfg->poll_ms;
    lv->sel_fd = -1;
    lv->wake[0] = lv->wake[1] = -1;
    cap->src = &lv->base;
    int rc = create_live(lv, cap, cfg, linktype_ok, err);
    if (rc == 0 && filter != NULL) {
        rc = set_live_filter(lv->pcap, cfg->iface, filter, err);
    }
    if (rc == 0) {
        rc = prepare_wait(lv, cfg->iface, err);
    }
    return rc;
}
