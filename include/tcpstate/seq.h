/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * seq.h - TCP sequence-number arithmetic (RFC 9293 section 3.4, RFC 1982).
 *
 * Sequence numbers live in a 32-bit circular space, so every comparison is done
 * on the signed 32-bit difference.  tcpst_seq_unwrap() maps a wire value into a
 * 64-bit monotonic space relative to a reference point so later code can use
 * ordinary integer comparisons; it is correct while consecutive values of one
 * direction stay within 2^31 of each other, which TCP itself guarantees.
 */
#ifndef TCPSTATE_SEQ_H
#define TCPSTATE_SEQ_H

#include <stdint.h>

static inline int32_t tcpst_seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static inline int tcpst_seq_lt(uint32_t a, uint32_t b)
{
    return tcpst_seq_diff(a, b) < 0;
}

static inline int tcpst_seq_le(uint32_t a, uint32_t b)
{
    return tcpst_seq_diff(a, b) <= 0;
}

static inline int tcpst_seq_gt(uint32_t a, uint32_t b)
{
    return tcpst_seq_diff(a, b) > 0;
}

static inline int tcpst_seq_ge(uint32_t a, uint32_t b)
{
    return tcpst_seq_diff(a, b) >= 0;
}

/* a within [lo, lo+len) in sequence space. */
static inline int tcpst_seq_in_range(uint32_t a, uint32_t lo, uint32_t len)
{
    return (uint32_t)(a - lo) < len;
}

/*
 * Unwrap `seq` against a reference whose unwrapped value is `ref64` and whose
 * wire value is `ref32`.  Returns the 64-bit value closest to the reference.
 */
static inline int64_t tcpst_seq_unwrap(int64_t ref64, uint32_t ref32, uint32_t seq)
{
    return ref64 + (int64_t)tcpst_seq_diff(seq, ref32);
}

#endif
