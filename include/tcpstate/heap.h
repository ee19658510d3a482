/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * heap.h - one binary min-heap for every layer (header only, after libuv's heap-inl.h).
 *
 * TCPST_HEAP_DEFINE(name, type, less) defines static inline functions over a caller's
 * array `a` of `*n` elements of `type`, ordered by `less(ctx, &x, &y)` (true when x goes
 * before y; ctx is passed through, so the order may look elsewhere, as the capture merge
 * looks up each input's next timestamp):
 *
 *   name_push(a, &n, v, ctx)     add v; the caller has made room for one more
 *   name_pop(a, &n, ctx)         remove and return the first (n > 0)
 *   name_sift_down(a, n, i, ctx) restore the order below i after a[i] grew
 *   name_heapify(a, n, ctx)      order an unordered array
 *
 * The caller owns the array and its growth, so the heap itself never allocates.  When
 * `less` is a total order (no two elements equal), the elements leave in one order
 * whatever the insertion order: what keeps outputs deterministic.
 */
#ifndef TCPSTATE_HEAP_H
#define TCPSTATE_HEAP_H

#include <stdbool.h>
#include <stddef.h>

#define TCPST_HEAP_DEFINE(name, type, less)                                                        \
    __attribute__((unused)) static inline void name##_sift_down(type *a, size_t n, size_t i,       \
                                                                const void *ctx)                   \
    {                                                                                              \
        type v = a[i];                                                                             \
        for (;;) {                                                                                 \
            size_t k = 2 * i + 1;                                                                  \
            if (k >= n) {                                                                          \
                break;                                                                             \
            }                                                                                      \
            if (k + 1 < n && less(ctx, &a[k + 1], &a[k])) {                                        \
                k++;                                                                               \
            }                                                                                      \
            if (!less(ctx, &a[k], &v)) {                                                           \
                break;                                                                             \
            }                                                                                      \
            a[i] = a[k];                                                                           \
            i = k;                                                                                 \
        }                                                                                          \
        a[i] = v;                                                                                  \
    }                                                                                              \
    __attribute__((unused)) static inline void name##_push(type *a, size_t *n, type v,             \
                                                           const void *ctx)                        \
    {                                                                                              \
        size_t i = (*n)++;                                                                         \
        while (i > 0 && less(ctx, &v, &a[(i - 1) / 2])) {                                          \
            a[i] = a[(i - 1) / 2];                                                                 \
            i = (i - 1) / 2;                                                                       \
        }                                                                                          \
        a[i] = v;                                                                                  \
    }                                                                                              \
    __attribute__((unused)) static inline type name##_pop(type *a, size_t *n, const void *ctx)     \
    {                                                                                              \
        type top = a[0];                                                                           \
        if (--*n > 0) {                                                                            \
            a[0] = a[*n];                                                                          \
            name##_sift_down(a, *n, 0, ctx);                                                       \
        }                                                                                          \
        return top;                                                                                \
    }                                                                                              \
    __attribute__((unused)) static inline void name##_heapify(type *a, size_t n, const void *ctx)  \
    {                                                                                              \
        for (size_t i = n / 2; i-- > 0;) {                                                         \
            name##_sift_down(a, n, i, ctx);                                                        \
        }                                                                                          \
    }

#endif
