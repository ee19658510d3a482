/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostsock.c - the host's TCP sockets and their owners, as `ss -tanp` reads them.
 *
 * Sockets come from one NETLINK_SOCK_DIAG dump per address family (inet_diag_req_v2, every
 * state), owners from the "socket:[INODE]" links in /proc/PID/fd, process facts from
 * /proc/PID/{comm,cmdline,status,cgroup}.  A snapshot's sockets are sorted by their
 * endpoints, so a lookup is a binary search; the inode-to-pid map is sorted by inode.  A
 * socket shared by several processes (inherited over fork) is given to the lowest pid, the
 * parent as a rule.  Request sockets (SYN_RECV) and TIME_WAIT sockets have no inode, hence
 * no owner: the kernel holds them alone.
 */
#include "tcpstate/hostsock.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct hs_sock {
    tcpst_addr l, r;
    uint16_t lport, rport;
    uint8_t state; /* Linux TCP_* */
    uint32_t inode, uid, pid;
} hs_sock;

typedef struct hs_owner {
    uint32_t inode, pid;
} hs_owner;

struct tcpst_hostsock {
    hs_sock *socks;
    size_t nsocks, capsocks;
    tcpst_addr *locals;
    size_t nlocals, caplocals;
    tcpst_hostproc *procs; /* sorted by pid; strings owned */
    size_t nprocs, capprocs;
    unsigned snapshots;
    tcpst_time taken_at;
    char why[160]; /* tcpst_hostsock_unavailable; "" when none */
};

int tcpst_hostsock_new(tcpst_hostsock **out, tcpst_error *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
}

void tcpst_hostsock_free(tcpst_hostsock *h)
{
    if (!h) {
        return;
    }
    for (size_t i = 0; i < h->nprocs; i++) {
        free((char *)h->procs[i].command);
        free((char *)h->procs[i].cmdline);
        free((char *)h->procs[i].cgroup);
    }
    free(h->procs);
    free(h->socks);
    free(h->locals);
    free(h);
}

/* The RFC 9293 name of a Linux TCP_* state (include/net/tcp_states.h). */
static const char *rfc_name(uint8_t s)
{
    static const char *const names[] = {"CLOSED",      "ESTABLISHED", "SYN_SENT",  "SYN_RECEIVED",
                                        "FIN_WAIT_1",  "FIN_WAIT_2",  "TIME_WAIT", "CLOSED",
                                        "CLOSE_WAIT",  "LAST_ACK",    "LISTEN",    "CLOSING",
                                        "SYN_RECEIVED" /* TCP_NEW_SYN_RECV: a request */};
    return s < sizeof names / sizeof names[0] ? names[s] : "CLOSED";
}

/* IPv4 addresses in either form (AF_INET, or v4-mapped in AF_INET6) as family 4. */
static void set_addr(tcpst_addr *a, int family, const uint32_t raw[4])
{
    memset(a, 0, sizeof *a);
    const uint8_t *b = (const uint8_t *)raw;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET) {
        a->family = 4;
        memcpy(a->bytes, b, 4);
    } else if (memcmp(b, mapped, 12) == 0) {
        a->family = 4;
        memcpy(a->bytes, b + 12, 4);
    } else {
        a->family = 6;
        memcpy(a->bytes, b, 16);
    }
}

static int sock_cmp(const void *pa, const void *pb)
{
    const hs_sock *a = pa, *b = pb;
    if (a->lport != b->lport) {
        return a->lport < b->lport ? -1 : 1;
    }
    if (a->rport != b->rport) {
        return a->rport < b->rport ? -1 : 1;
    }
    int c = tcpst_addr_cmp(&a->l, &b->l);
    return c ? c : tcpst_addr_cmp(&a->r, &b->r);
}

/* One inet_diag dump of `family`'s TCP sockets into h->socks. */
static int dump_family(tcpst_hostsock *h, int fd, int family)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = sizeof req;
    req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.r.sdiag_family = (uint8_t)family;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = ~0u;
    struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
    if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) < 0) {
        snprintf(h->why, sizeof h->why, "sock_diag: %s", strerror(errno));
        return -1;
    }
    static char buf[32768] __attribute__((aligned(8)));
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            snprintf(h->why, sizeof h->why, "sock_diag: %s", n < 0 ? strerror(errno) : "closed");
            return -1;
        }
        size_t left = (size_t)n;
        for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, left);
             m = NLMSG_NEXT(m, left)) {
            if (m->nlmsg_type == NLMSG_DONE) {
                return 0;
            }
            if (m->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(m);
                snprintf(h->why, sizeof h->why, "sock_diag: %s", strerror(-e->error));
                return -1;
            }
            if (m->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
                continue;
            }
            const struct inet_diag_msg *d = NLMSG_DATA(m);
            if (!tcpst_grow(&h->socks, &h->capsocks, h->nsocks, sizeof *h->socks, 64)) {
                snprintf(h->why, sizeof h->why, "sock_diag: out of memory");
                return -1;
            }
            hs_sock *s = &h->socks[h->nsocks++];
            set_addr(&s->l, d->idiag_family, d->id.idiag_src);
            set_addr(&s->r, d->idiag_family, d->id.idiag_dst);
            s->lport = ntohs(d->id.idiag_sport);
            s->rport = ntohs(d->id.idiag_dport);
            s->state = d->idiag_state;
            s->inode = d->idiag_inode;
            s->uid = d->idiag_uid;
            s->pid = 0;
        }
    }
}

static int read_sockets(tcpst_hostsock *h)
{
    h->nsocks = 0;
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) {
        snprintf(h->why, sizeof h->why, "sock_diag: %s", strerror(errno));
        return -1;
    }
    int rc = dump_family(h, fd, AF_INET);
    if (rc == 0 && dump_family(h, fd, AF_INET6) != 0) {
        rc = 0; /* no IPv6 here: the IPv4 sockets still stand */
        h->why[0] = '\0';
    }
    close(fd);
    if (rc == 0 && h->nsocks > 0) {
        qsort(h->socks, h->nsocks, sizeof *h->socks, sock_cmp);
    }
    return rc;
}

static void read_locals(tcpst_hostsock *h)
{
    h->nlocals = 0;
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0) {
        return;
    }
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr ||
            (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) {
            continue;
        }
        if (!tcpst_grow(&h->locals, &h->caplocals, h->nlocals, sizeof *h->locals, 8)) {
            break;
        }
        tcpst_addr *a = &h->locals[h->nlocals++];
        memset(a, 0, sizeof *a);
        if (i->ifa_addr->sa_family == AF_INET) {
            a->family = 4;
            memcpy(a->bytes, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
        } else {
            a->family = 6;
            memcpy(a->bytes, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
        }
    }
    freeifaddrs(ifa);
}

/* A small file's first line or whole text (cmdline: NULs become spaces), malloc'd. */
static char *read_small(const char *path, bool nul_to_space)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        return NULL;
    }
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0')) {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\0' && nul_to_space) {
            buf[i] = ' ';
        } else if (buf[i] == '\n' || (unsigned char)buf[i] < 0x20) {
            buf[i] = nul_to_space ? ' ' : '\0';
        }
    }
    buf[n] = '\0';
    return strdup(buf);
}

static int proc_cmp(const void *key, const void *elem)
{
    uint32_t pid = *(const uint32_t *)key, other = ((const tcpst_hostproc *)elem)->pid;
    return pid < other ? -1 : pid > other;
}

const tcpst_hostproc *tcpst_hostsock_proc(const tcpst_hostsock *h, uint32_t pid)
{
    if (!h || pid == 0 || h->nprocs == 0) {
        return NULL; /* bsearch must not see a NULL array, even of none */
    }
    return bsearch(&pid, h->procs, h->nprocs, sizeof *h->procs, proc_cmp);
}

/* The cgroup v2 path of /proc/PID/cgroup ("0::/path"), malloc'd, or NULL. */
static char *read_cgroup(uint32_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/cgroup", pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        return NULL;
    }
    char line[512], *found = NULL;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            found = strdup(line + 3);
        }
    }
    fclose(f);
    return found;
}

/* Remember process `pid` (once: the first sight names it for the run). */
static void learn_proc(tcpst_hostsock *h, uint32_t pid)
{
    if (tcpst_hostsock_proc(h, pid) || h->nprocs >= TCPST_HOSTSOCK_PROCS ||
        !tcpst_grow(&h->procs, &h->capprocs, h->nprocs, sizeof *h->procs, 16)) {
        return;
    }
    char path[64];
    tcpst_hostproc p = {.pid = pid};
    snprintf(path, sizeof path, "/proc/%u/comm", pid);
    p.command = read_small(path, false);
    snprintf(path, sizeof path, "/proc/%u/cmdline", pid);
    p.cmdline = read_small(path, true);
    p.cgroup = read_cgroup(pid);
    snprintf(path, sizeof path, "/proc/%u/status", pid);
    FILE *f = fopen(path, "re");
    char line[128];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long uid;
        if (sscanf(line, "Uid: %lu", &uid) == 1) {
            p.uid = (uint32_t)uid;
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    if (!p.command || !p.cmdline) {
        free((char *)p.command);
        free((char *)p.cmdline);
        free((char *)p.cgroup);
        return; /* gone already */
    }
    size_t at = 0;
    while (at < h->nprocs && h->procs[at].pid < pid) {
        at++;
    }
    memmove(&h->procs[at + 1], &h->procs[at], (h->nprocs - at) * sizeof *h->procs);
    h->procs[at] = p;
    h->nprocs++;
}

static int owner_cmp(const void *pa, const void *pb)
{
    const hs_owner *a = pa, *b = pb;
    if (a->inode != b->inode) {
        return a->inode < b->inode ? -1 : 1;
    }
    return a->pid < b->pid ? -1 : a->pid > b->pid;
}

/* Every "socket:[INODE]" of every process; *denied counts the fd folders we may not read. */
static hs_owner *read_owners(size_t *n, unsigned *denied)
{
    size_t cap = 0;
    hs_owner *own = NULL;
    *n = 0;
    *denied = 0;
    DIR *proc = opendir("/proc");
    if (!proc) {
        return NULL;
    }
    struct dirent *pe;
    while ((pe = readdir(proc)) != NULL) {
        char *end;
        unsigned long pid = strtoul(pe->d_name, &end, 10);
        if (*end || pid == 0) {
            continue;
        }
        char path[64];
        snprintf(path, sizeof path, "/proc/%lu/fd", pid);
        DIR *fds = opendir(path);
        if (!fds) {
            *denied += errno == EACCES || errno == EPERM;
            continue;
        }
        struct dirent *fe;
        while ((fe = readdir(fds)) != NULL) {
            char link[320], target[64];
            if (fe->d_name[0] == '.') {
                continue;
            }
            snprintf(link, sizeof link, "/proc/%lu/fd/%s", pid, fe->d_name);
            ssize_t k = readlink(link, target, sizeof target - 1);
            unsigned long inode;
            if (k <= 0) {
                continue;
            }
            target[k] = '\0';
            if (sscanf(target, "socket:[%lu]", &inode) != 1 ||
                !tcpst_grow(&own, &cap, *n, sizeof *own, 256)) {
                continue;
            }
            own[(*n)++] = (hs_owner){(uint32_t)inode, (uint32_t)pid};
        }
        closedir(fds);
    }
    closedir(proc);
    if (*n > 0) {
        qsort(own, *n, sizeof *own, owner_cmp);
    }
    return own;
}

static void find_owners(tcpst_hostsock *h)
{
    bool any = false;
    for (size_t i = 0; i < h->nsocks && !any; i++) {
        any = h->socks[i].inode != 0;
    }
    if (!any) {
        return;
    }
    size_t n;
    unsigned denied;
    hs_owner *own = read_owners(&n, &denied);
    for (size_t i = 0; i < h->nsocks; i++) {
        hs_sock *s = &h->socks[i];
        if (s->inode == 0) {
            continue;
        }
        /* The first entry of the inode: the lowest pid holding it. */
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (own[mid].inode < s->inode) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo < n && own[lo].inode == s->inode) {
            s->pid = own[lo].pid;
            learn_proc(h, s->pid);
        }
    }
    free(own);
    if (denied > 0 && h->why[0] == '\0') {
        snprintf(h->why, sizeof h->why,
                 "not root: the owners of %u processes' sockets could not be read", denied);
    }
}

int tcpst_hostsock_refresh(tcpst_hostsock *h)
{
    h->why[0] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    read_locals(h);
    if (read_sockets(h) != 0) {
        h->nsocks = 0;
        return -1;
    }
    find_owners(h);
    h->snapshots++;
    h->taken_at = (tcpst_time)ts.tv_sec * TCPST_NS_PER_SEC + ts.tv_nsec;
    return 0;
}

unsigned tcpst_hostsock_snapshots(const tcpst_hostsock *h)
{
    return h ? h->snapshots : 0;
}

tcpst_time tcpst_hostsock_taken_at(const tcpst_hostsock *h)
{
    return h ? h->taken_at : 0;
}

const char *tcpst_hostsock_unavailable(const tcpst_hostsock *h)
{
    return h && h->why[0] ? h->why : NULL;
}

bool tcpst_hostsock_is_local(const tcpst_hostsock *h, const tcpst_addr *a)
{
    if (a->family == 4 && a->bytes[0] == 127) {
        return true;
    }
    static const uint8_t v6_loopback[16] = {[15] = 1};
    if (a->family == 6 && memcmp(a->bytes, v6_loopback, 16) == 0) {
        return true;
    }
    for (size_t i = 0; h && i < h->nlocals; i++) {
        if (tcpst_addr_cmp(&h->locals[i], a) == 0) {
            return true;
        }
    }
    return false;
}

bool tcpst_hostsock_find(const tcpst_hostsock *h, const tcpst_addr *laddr, uint16_t lport,
                         const tcpst_addr *raddr, uint16_t rport, tcpst_hostsock_hit *out)
{
    memset(out, 0, sizeof *out);
    if (!h || h->snapshots == 0 || !tcpst_hostsock_is_local(h, laddr)) {
        return false;
    }
    hs_sock key = {.l = *laddr, .r = *raddr, .lport = lport, .rport = rport};
    const hs_sock *s =
        h->nsocks ? bsearch(&key, h->socks, h->nsocks, sizeof *h->socks, sock_cmp) : NULL;
    if (!s) {
        out->state = "CLOSED";
        return true;
    }
    out->state = rfc_name(s->state);
    out->socket = true;
    out->pid = s->pid;
    out->uid = s->uid;
    return true;
}
