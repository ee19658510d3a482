/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * select.c - --connection SEL: parsing selectors and matching records against them.
 */
#include "tcpstate/select.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate/anomaly.h"

/* "ADDR:PORT" or "[V6]:PORT" (exactly `len` characters of `s`) into a, port. */
static bool parse_endpoint(const char *s, size_t len, tcpst_addr *a, uint16_t *port)
{
    char buf[TCPST_ADDR_STRLEN + 8];
    if (len == 0 || len >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *colon = strrchr(buf, ':');
    if (!colon || colon[1] == '\0') {
        return false;
    }
    *colon = '\0';
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end || errno || p > 65535 || colon[1] == '-' || colon[1] == '+') {
        return false;
    }
    *port = (uint16_t)p;
    memset(a, 0, sizeof *a);
    char *host = buf;
    size_t hl = strlen(host);
    if (host[0] == '[') {
        if (hl < 3 || host[hl - 1] != ']') {
            return false;
        }
        host[hl - 1] = '\0';
        a->family = 6;
        return inet_pton(AF_INET6, host + 1, a->bytes) == 1;
    }
    a->family = 4;
    return inet_pton(AF_INET, host, a->bytes) == 1;
}

int tcpst_selection_add(tcpst_selection *s, const char *text, tcpst_error *err)
{
    tcpst_selector x;
    memset(&x, 0, sizeof x);
    size_t len = strlen(text);
    const char *dash = strchr(text, '-');
    char *end;
    int type;
    if (strcmp(text, "anomalous") == 0) {
        x.kind = TCPST_SEL_ANOMALOUS;
    } else if ((type = tcpst_anomaly_parse(text)) >= 0) {
        x.kind = TCPST_SEL_ANOMALY;
        x.type = type;
    } else if (text[0] >= '1' && text[0] <= '9' && (x.id = strtoull(text, &end, 10)) > 0 &&
               *end == '\0') {
        x.kind = TCPST_SEL_ID;
    } else if (dash && parse_endpoint(text, (size_t)(dash - text), &x.addr[0], &x.port[0]) &&
               parse_endpoint(dash + 1, len - (size_t)(dash - text) - 1, &x.addr[1], &x.port[1])) {
        x.kind = TCPST_SEL_TUPLE;
    } else if (!dash && parse_endpoint(text, len, &x.addr[0], &x.port[0])) {
        x.kind = TCPST_SEL_ENDPOINT;
    } else {
        const char *near = tcpst_anomaly_suggest(text);
        if (near) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "--connection: unknown anomaly id '%s'; did you mean '%s'?",
                                   text, near);
        }
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "--connection: expected a record id, ADDR:PORT, A:P-B:P, an "
                               "anomaly id or 'anomalous', got '%s'",
                               text);
    }
    if (!tcpst_grow(&s->items, &s->cap, s->n, sizeof *s->items, 4)) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    s->items[s->n++] = x;
    return 0;
}

static bool is_ep(const tcpst_endpoint *e, const tcpst_addr *a, uint16_t port)
{
    return e->port == port && tcpst_addr_cmp(&e->addr, a) == 0;
}

static bool one(const tcpst_selector *x, const tcpst_conn *c)
{
    switch ((tcpst_selector_kind)x->kind) {
        case TCPST_SEL_ID:
            return c->id == x->id;
        case TCPST_SEL_ENDPOINT:
            return is_ep(&c->ep[0], &x->addr[0], x->port[0]) ||
                   is_ep(&c->ep[1], &x->addr[0], x->port[0]);
        case TCPST_SEL_TUPLE:
            return (is_ep(&c->ep[0], &x->addr[0], x->port[0]) &&
                    is_ep(&c->ep[1], &x->addr[1], x->port[1])) ||
                   (is_ep(&c->ep[1], &x->addr[0], x->port[0]) &&
                    is_ep(&c->ep[0], &x->addr[1], x->port[1]));
        case TCPST_SEL_ANOMALY:
            for (unsigned i = 0; i < c->findings.n; i++) {
                if (c->findings.f[i].type == x->type) {
                    return true;
                }
            }
            return false;
        case TCPST_SEL_ANOMALOUS:
            return tcpst_findings_max_severity(&c->findings) >= TCPST_SEV_WARNING;
    }
    return false;
}

bool tcpst_selection_matches(const tcpst_selection *s, const tcpst_conn *c)
{
    if (s == NULL || s->n == 0) {
        return true;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (one(&s->items[i], c)) {
            return true;
        }
    }
    return false;
}

bool tcpst_selection_by_tuple(const tcpst_selection *s)
{
    for (size_t i = 0; s && i < s->n; i++) {
        if (s->items[i].kind == TCPST_SEL_ANOMALY || s->items[i].kind == TCPST_SEL_ANOMALOUS) {
            return false;
        }
    }
    return true;
}

void tcpst_selection_fini(tcpst_selection *s)
{
    free(s->items);
    memset(s, 0, sizeof *s);
}
