/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * types.c - text forms and ordering for the shared value types.
 *
 * Formats addresses (IPv4 dotted quad, IPv6 per RFC 5952 as inet_ntop does) and
 * TCP flag sets (tcpdump-like letters), and gives addresses a total order.
 * It does not parse text into addresses and keeps no state.  Also the one
 * helper that grows the modules' arrays.
 */
#include "tcpstate/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dotted quad of p[0..3] at o; returns the end. */
static char *put_ipv4(char *o, const uint8_t *p)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = p[i];
        if (i) {
            *o++ = '.';
        }
        if (v >= 100) {
            *o++ = (char)('0' + v / 100);
            v %= 100;
            *o++ = (char)('0' + v / 10);
        } else if (v >= 10) {
            *o++ = (char)('0' + v / 10);
        }
        *o++ = (char)('0' + v % 10);
    }
    return o;
}

/* The form inet_ntop() gives (checked against it in check_types.c): RFC 5952's lower case
 * without leading zeros, the first of the longest runs of two or more zero groups as "::",
 * and a dotted quad after "::" or "::ffff:" (compatible and mapped IPv4).  Written here
 * because glibc's inet_ntop() formats every group with sprintf(): ~2,000 instructions an
 * address, and every record has two. */
static char *put_ipv6(char *o, const uint8_t *b)
{
    static const char hex[] = "0123456789abcdef";
    unsigned w[8];
    int best = -1, best_len = 0, cur = -1;
    for (int i = 0; i < 8; i++) {
        w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
        if (w[i] != 0) {
            cur = -1;
            continue;
        }
        if (cur < 0) {
            cur = i;
        }
        if (i - cur + 1 > best_len) { /* strictly longer: the first of equals stays */
            best = cur;
            best_len = i - cur + 1;
        }
    }
    if (best_len < 2) {
        best = -1;
    }
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best) {
                *o++ = ':';
            }
            continue;
        }
        if (i) {
            *o++ = ':';
        }
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
            return put_ipv4(o, b + 12);
        }
        unsigned v = w[i];
        for (int sh = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0; sh >= 0; sh -= 4) {
            *o++ = hex[(v >> sh) & 15];
        }
    }
    if (best >= 0 && best + best_len == 8) {
        *o++ = ':';
    }
    return o;
}

void tcpst_addr_format(const tcpst_addr *a, char out[TCPST_ADDR_STRLEN])
{
    if (a != NULL && (a->family == 4 || a->family == 6)) {
        char *end = a->family == 4 ? put_ipv4(out, a->bytes) : put_ipv6(out, a->bytes);
        *end = '\0';
        return;
    }
    /* Unset or unknown family: a fixed marker rather than garbage. */
    memcpy(out, a == NULL ? "" : "-", a == NULL ? 1 : 2);
}

int tcpst_addr_cmp(const tcpst_addr *a, const tcpst_addr *b)
{
    int c;

    if (a->family != b->family) {
        return a->family < b->family ? -1 : 1;
    }
    /* IPv4 keeps bytes[4..15] zero, so comparing all 16 is safe for both. */
    c = memcmp(a->bytes, b->bytes, sizeof a->bytes);
    return (c > 0) - (c < 0);
}

/* Letter per flag in output order; ACK is printed last as '.' (tcpdump). */
static const struct {
    uint16_t bit;
    char letter;
} flag_letters[] = {
    {TCPST_SYN, 'S'}, {TCPST_FIN, 'F'}, {TCPST_PSH, 'P'}, {TCPST_RST, 'R'}, {TCPST_URG, 'U'},
    {TCPST_CWR, 'W'}, {TCPST_ECE, 'E'}, {TCPST_AE, 'e'},  {TCPST_ACK, '.'}, {0, '\0'},
};

void tcpst_flags_format(uint16_t flags, char out[16])
{
    size_t n = 0;

    for (size_t i = 0; flag_letters[i].bit != 0; i++) {
        if (flags & flag_letters[i].bit) {
            out[n++] = flag_letters[i].letter;
        }
    }
    if (n == 0) {
        memcpy(out, "none", 5);
        return;
    }
    out[n] = '\0';
}

void tcpst_addrport_format(const tcpst_addr *a, uint16_t port, char out[TCPST_ADDRPORT_STRLEN])
{
    char buf[TCPST_ADDR_STRLEN];
    tcpst_addr_format(a, buf);
    snprintf(out, TCPST_ADDRPORT_STRLEN, a->family == 6 ? "[%s]:%u" : "%s:%u", buf, port);
}

bool tcpst_grow(void *arrp, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap) {
        return true;
    }
    size_t c = *cap ? *cap * 2 : first;
    if (c < *cap || c > SIZE_MAX / size) {
        return false;
    }
    void *old;
    memcpy(&old, arrp, sizeof old); /* any object pointer, without a cast to void ** */
    void *a = realloc(old, c * size);
    if (!a) {
        return false;
    }
    memcpy(arrp, &a, sizeof a);
    *cap = c;
    return true;
}

/* Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one
 * substring), over the first 63 bytes. */
static size_t edits(const char *a, const char *b)
{
    enum { MAX = 64 };
    size_t la = strnlen(a, MAX - 1), lb = strnlen(b, MAX - 1);
    size_t d[MAX][MAX];
    for (size_t i = 0; i <= la; i++) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j] + 1;
            v = d[i][j - 1] + 1 < v ? d[i][j - 1] + 1 : v;
            v = d[i - 1][j - 1] + cost < v ? d[i - 1][j - 1] + cost : v;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v) {
                v = d[i - 2][j - 2] + 1;
            }
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *tcpst_suggest(const char *typed, const char *const *names, size_t n)
{
    size_t len = strlen(typed);
    if (len == 0) {
        return NULL;
    }
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    bool tie = false;
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) {
            continue;
        }
        size_t dist = strncmp(names[i], typed, len) == 0 ? 0 : edits(typed, names[i]);
        if (dist < best_d) {
            best = names[i];
            best_d = dist;
            tie = false;
        } else if (dist == best_d) {
            tie = true;
        }
    }
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    return best && best_d <= limit && !tie ? best : NULL;
}
