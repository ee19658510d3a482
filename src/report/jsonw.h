/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jsonw.h - a streaming JSON writer into a reusable buffer.
 *
 * Connection records are the bulk of a report; building them as jansson
 * trees cost a malloc per value and dominated the run time.  This writer
 * appends text directly: what jansson's json_dumps() gives with JSON_COMPACT |
 * JSON_REAL_PRECISION(16) for the same members in the same order, byte for
 * byte, except that times (tcpst__jw_us) are written as their exact decimals:
 * the same numbers once parsed, so the report format does not change.  The buffer grows by doubling
 * and is kept between records: after warm-up nothing is allocated.
 *
 * Commas are placed automatically: a key or a value in a container that
 * already has a member gets one.  Errors (out of memory) are sticky in `err`;
 * a writer in error ignores further calls.
 */
#ifndef TCPSTATE_REPORT_JSONW_H
#define TCPSTATE_REPORT_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TCPST_JW_MAX_DEPTH 32

typedef struct tcpst_jw {
    char *buf;
    size_t len, cap;
    int err; /* 0, or ENOMEM */
    unsigned depth;
    bool after_key; /* the next value completes a member: no comma */
    bool has_member[TCPST_JW_MAX_DEPTH + 1];
    /* tcpst__jw_us(): the last whole seconds printed, and their digits (right-aligned). */
    uint64_t sec;
    uint8_t sec_len; /* 0: none yet */
    char sec_txt[20];
} tcpst_jw;

void tcpst__jw_init(tcpst_jw *w);
void tcpst__jw_free(tcpst_jw *w);
/* Empties the text, keeps the buffer. */
void tcpst__jw_reset(tcpst_jw *w);
/* Start another top-level value after the text so far, on its own line (JSON lines). */
void tcpst__jw_next_line(tcpst_jw *w);
/* The text so far, NUL-terminated ("" when empty or in error). */
const char *tcpst__jw_text(tcpst_jw *w);

void tcpst__jw_obj_begin(tcpst_jw *w);
void tcpst__jw_obj_end(tcpst_jw *w);
void tcpst__jw_arr_begin(tcpst_jw *w);
void tcpst__jw_arr_end(tcpst_jw *w);
/* `key` must need no escaping (the program's own identifiers: letters, digits, '_').  The
 * macros below pass its length, so a literal key costs no strlen() per record. */
void tcpst__jw_keyn_slow(tcpst_jw *w, const char *key, size_t n);

/* "key": at o (n + 3 bytes, room checked by the caller); for tcpst__jw_keyn*() only. */
static inline size_t tcpst__jw_put_key(char *o, const char *key, size_t n)
{
    o[0] = '"';
    memcpy(o + 1, key, n);
    o[n + 1] = '"';
    o[n + 2] = ':';
    return n + 3;
}

static inline void tcpst__jw_keyn(tcpst_jw *w, const char *key, size_t n)
{
    /* The common case inline, where a literal's memcpy becomes a few moves: room in the
     * buffer, and a member after the first. */
    if (w->len + n + 5 <= w->cap && !w->err && !w->after_key && w->has_member[w->depth]) {
        w->buf[w->len] = ',';
        w->len += 1 + tcpst__jw_put_key(w->buf + w->len + 1, key, n);
        w->after_key = true;
        return;
    }
    tcpst__jw_keyn_slow(w, key, n);
}
#define tcpst__jw_key(w, key) tcpst__jw_keyn((w), (key), strlen(key))

void tcpst__jw_str(tcpst_jw *w, const char *s);
/* A string that needs no escaping, as keys (the program's own names: states, causes,
 * flags, anomaly ids, addresses): copied between quotes without looking at each byte. */
void tcpst__jw_name(tcpst_jw *w, const char *s);
void tcpst__jw_int(tcpst_jw *w, int64_t v);
void tcpst__jw_uint(tcpst_jw *w, uint64_t v);
/* A finite double as jansson prints it: %.16g, ".0" added to integral values, exponent
 * without '+' or leading zeros. */
void tcpst__jw_real(tcpst_jw *w, double v);
/*
 * us microseconds as seconds, in fixed notation with at most 6 decimals ("9.994552", where
 * %.16g says "9.994552000000001"): the shortest text, and it parses to the same double as
 * us / 1e6, since both are that quotient correctly rounded.  No printf: timestamps and
 * durations are most of a record's numbers.
 */
void tcpst__jw_us(tcpst_jw *w, int64_t us);
void tcpst__jw_bool(tcpst_jw *w, bool v);
void tcpst__jw_null(tcpst_jw *w);
/* Already formatted JSON text (a value), inserted as is. */
void tcpst__jw_raw(tcpst_jw *w, const char *json, size_t n);

/* key + value in one call, for records with many members. */
#define tcpst__jw_kstr(w, key, s)  (tcpst__jw_key((w), (key)), tcpst__jw_str((w), (s)))
#define tcpst__jw_kname(w, key, s) (tcpst__jw_key((w), (key)), tcpst__jw_name((w), (s)))
#define tcpst__jw_kint(w, key, v)  (tcpst__jw_key((w), (key)), tcpst__jw_int((w), (v)))
#define tcpst__jw_kuint(w, key, v) (tcpst__jw_key((w), (key)), tcpst__jw_uint((w), (v)))
#define tcpst__jw_kreal(w, key, v) (tcpst__jw_key((w), (key)), tcpst__jw_real((w), (v)))
#define tcpst__jw_kus(w, key, us)  (tcpst__jw_key((w), (key)), tcpst__jw_us((w), (us)))
#define tcpst__jw_kbool(w, key, v) (tcpst__jw_key((w), (key)), tcpst__jw_bool((w), (v)))
#define tcpst__jw_knull(w, key)    (tcpst__jw_key((w), (key)), tcpst__jw_null(w))

#endif
