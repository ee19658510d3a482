/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hash.h - the hash functions every layer shares (header only).
 *
 * FNV-1a folds bytes into a running value, so a key can be hashed in pieces or extended
 * later (decode folds one tunnel layer at a time).  FNV's low bits are weak on short keys,
 * so tables that mask with a power of two run it through a finaliser first: murmur3's for
 * 32 bits, splitmix64's for 64, in both of which every input bit reaches every output bit.
 * None of these resists a chosen-key attack; no table here is keyed by input an attacker
 * could grow without bound (each has a cap).
 */
#ifndef TCPSTATE_HASH_H
#define TCPSTATE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TCPST_FNV32_BASIS UINT32_C(2166136261)
#define TCPST_FNV64_BASIS UINT64_C(1469598103934665603)

/* h (the basis, or a previous result) folded with n bytes. */
static inline uint32_t tcpst_fnv1a32(uint32_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * UINT32_C(16777619);
    }
    return h;
}

static inline uint64_t tcpst_fnv1a64(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    }
    return h;
}

/* murmur3's 32-bit finaliser. */
static inline uint32_t tcpst_fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= UINT32_C(0x85EBCA6B);
    h ^= h >> 13;
    h *= UINT32_C(0xC2B2AE35);
    h ^= h >> 16;
    return h;
}

/* splitmix64's finaliser. */
static inline uint64_t tcpst_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

#endif
