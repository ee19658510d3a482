/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pack.c - zero-word elision (see pack.h).
 */
#include "pack.h"

#include <stdint.h>
#include <string.h>

size_t tcpst__pack(const void *src, size_t nbytes, void *dst)
{
    const unsigned char *s = src;
    unsigned char *d = dst;
    size_t nw = nbytes / 8, nmap = (nw + 63) / 64;
    unsigned char *out = d + nmap * 8;
    size_t pos = 0;
    for (size_t m = 0; m < nmap; m++) {
        uint64_t bits = 0;
        size_t end = nw - m * 64 < 64 ? nw - m * 64 : 64;
        for (size_t i = 0; i < end; i++) {
            uint64_t w;
            memcpy(&w, s + (m * 64 + i) * 8, 8);
            /* Store every word and advance only past non-zero ones: no branch to mispredict
             * (the bound leaves room for the one store past the last kept word). */
            memcpy(out + pos, &w, 8);
            uint64_t nz = w != 0;
            bits |= nz << i;
            pos += (size_t)nz * 8;
        }
        memcpy(d + m * 8, &bits, 8);
    }
    return nmap * 8 + pos;
}

bool tcpst__unpack(const void *src, size_t len, void *dst, size_t nbytes)
{
    const unsigned char *s = src;
    unsigned char *d = dst;
    size_t nw = nbytes / 8, nmap = (nw + 63) / 64;
    if (nbytes % 8 != 0 || len < nmap * 8) {
        return false;
    }
    /* Validate the whole bitmap before writing: the words it promises must be exactly
     * what follows, and no bit may name a word past the record. */
    size_t words = 0;
    for (size_t m = 0; m < nmap; m++) {
        uint64_t bits;
        memcpy(&bits, s + m * 8, 8);
        size_t have = nw - m * 64;
        if (have < 64 && (bits >> have) != 0) {
            return false;
        }
        words += (size_t)__builtin_popcountll(bits);
    }
    if (len != nmap * 8 + words * 8) {
        return false;
    }
    memset(d, 0, nbytes);
    const unsigned char *in = s + nmap * 8;
    for (size_t m = 0; m < nmap; m++) {
        uint64_t bits;
        memcpy(&bits, s + m * 8, 8);
        while (bits) {
            size_t i = m * 64 + (size_t)__builtin_ctzll(bits);
            memcpy(d + i * 8, in, 8);
            in += 8;
            bits &= bits - 1;
        }
    }
    return true;
}
