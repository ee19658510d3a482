/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * types.h - small value types shared by every tcpstate module.
 *
 * Time is packet time: signed 64-bit nanoseconds since the Unix epoch, so that
 * nanosecond pcaps keep full precision and arithmetic never overflows for any
 * plausible capture.  Addresses hold either family in one 16-byte buffer so the
 * rest of the code never forks into IPv4/IPv6 copies.
 */
#ifndef TCPSTATE_TYPES_H
#define TCPSTATE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t tcpst_time; /* ns since 1970-01-01T00:00:00Z */

#define TCPST_NS_PER_SEC INT64_C(1000000000)

typedef struct tcpst_addr {
    uint8_t family;    /* 4 or 6; 0 = unset */
    uint8_t bytes[16]; /* IPv4 uses bytes[0..3], rest zero */
} tcpst_addr;

/* Longest text form of an address incl. NUL (INET6_ADDRSTRLEN). */
#define TCPST_ADDR_STRLEN 46

/*
 * Writes the canonical text form: IPv4 dotted quad; IPv6 compressed lower case
 * per RFC 5952 (as inet_ntop writes it), so v4-mapped addresses read "::ffff:1.2.3.4".  An
 * unset or unknown family gives "-".
 */
void tcpst_addr_format(const tcpst_addr *a, char out[TCPST_ADDR_STRLEN]);

/* "addr:port", IPv6 in brackets ("[2001:db8::1]:80"). */
#define TCPST_ADDRPORT_STRLEN (TCPST_ADDR_STRLEN + 8)
void tcpst_addrport_format(const tcpst_addr *a, uint16_t port, char out[TCPST_ADDRPORT_STRLEN]);

/* Total order on addresses: family first, then bytes; returns -1, 0 or 1. */
int tcpst_addr_cmp(const tcpst_addr *a, const tcpst_addr *b);

/* TCP header flags, bit positions as on the wire (byte 13) plus NS/AE (RFC 3540). */
enum tcpst_flag {
    TCPST_FIN = 0x01,
    TCPST_SYN = 0x02,
    TCPST_RST = 0x04,
    TCPST_PSH = 0x08,
    TCPST_ACK = 0x10,
    TCPST_URG = 0x20,
    TCPST_ECE = 0x40,
    TCPST_CWR = 0x80,
    TCPST_AE = 0x100
};

/*
 * tcpdump-style flag text; out >= 16 bytes.  Letters in this fixed order:
 * S(SYN) F(FIN) P(PSH) R(RST) U(URG) W(CWR) E(ECE) e(AE, as tcpdump prints it),
 * then "." for ACK.  Examples: "S", "S.", "F.", "P.", "R", "R.", ".", "SWE";
 * no flag at all gives "none".  Bits above TCPST_AE are ignored.
 */
void tcpst_flags_format(uint16_t flags, char out[16]);

/*
 * Room for one more element in a malloc'd array (`*arrp`, a pointer to its pointer) of
 * `*cap` elements of `size` bytes that holds `n`: doubled when full, starting at `first`.
 * False, with the array unchanged, when out of memory.
 */
bool tcpst_grow(void *arrp, size_t *cap, size_t n, size_t size, size_t first);

/* Of the n names, the one closest to `typed` ("did you mean ...?"): at most a third of its
 * length in edits (insert, delete, replace, swap two neighbours) and closer than the
 * others, or one it is a prefix of; NULL if none. */
const char *tcpst_suggest(const char *typed, const char *const *names, size_t n);

#endif
