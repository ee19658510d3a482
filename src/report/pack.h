/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pack.h - zero-word elision for fixed-size records held in memory or on disk.
 *
 * A finished connection record is mostly zeros: unused timeline slots, counters
 * never raised, empty findings.  The report holds records that wait for lower
 * ids in this form: a bitmap of the record's non-zero 64-bit words followed by
 * those words.  It is a private, same-process format (host byte order); it
 * never leaves the process that wrote it.
 */
#ifndef TCPSTATE_REPORT_PACK_H
#define TCPSTATE_REPORT_PACK_H

#include <stdbool.h>
#include <stddef.h>

/* Room tcpst__pack() may need for a record of `nbytes` (it writes up to this much). */
static inline size_t tcpst__pack_bound(size_t nbytes)
{
    return (nbytes + 511) / 512 * 8 + nbytes;
}

/* Pack `nbytes` (a multiple of 8) at `src` into `dst` (tcpst__pack_bound() bytes of room;
 * no alignment needed).  Returns the packed length. */
size_t tcpst__pack(const void *src, size_t nbytes, void *dst);

/* Unpack `len` bytes at `src` into the `nbytes` at `dst`.  False, with dst unspecified, if
 * `src` is not a packed record of that size. */
bool tcpst__unpack(const void *src, size_t len, void *dst, size_t nbytes);

#endif
