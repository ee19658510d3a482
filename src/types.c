/*
 * types.c - text forms and ordering for the shared value types.
 *
 * Formats addresses (IPv4 dotted quad, IPv6 per RFC 5952 via inet_ntop) and
 * TCP flag sets (tcpdump-like letters), and gives addresses a total order.
 * It does not parse text into addresses and keeps no state.  Also the one
 * helper that grows the modules' arrays.
 */
#include "tcpstate/types.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void tcpst_addr_format(const tcpst_addr *a, char out[TCPST_ADDR_STRLEN])
{
    const char *r = NULL;

    out[0] = '\0';
    if (a == NULL) {
        return;
    }
    /* inet_ntop already emits the RFC 5952 form: lower case, longest zero run
     * compressed, leading zeros dropped, and ::ffff:a.b.c.d for mapped v4. */
    if (a->family == 4) {
        r = inet_ntop(AF_INET, a->bytes, out, TCPST_ADDR_STRLEN);
    } else if (a->family == 6) {
        r = inet_ntop(AF_INET6, a->bytes, out, TCPST_ADDR_STRLEN);
    }
    if (r == NULL) {
        /* Unset or unknown family: a fixed marker rather than garbage. */
        memcpy(out, "-", 2);
    }
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
