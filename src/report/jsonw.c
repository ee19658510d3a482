/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jsonw.c - streaming JSON writer (see jsonw.h for why it exists).
 */
#include "jsonw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tcpst__jw_init(tcpst_jw *w)
{
    memset(w, 0, sizeof *w);
}

void tcpst__jw_free(tcpst_jw *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void tcpst__jw_reset(tcpst_jw *w)
{
    w->len = 0;
    w->err = 0;
    w->depth = 0;
    w->after_key = false;
    w->has_member[0] = false;
    if (w->buf) {
        w->buf[0] = '\0';
    }
}

const char *tcpst__jw_text(tcpst_jw *w)
{
    if (!w->buf || w->err) {
        return "";
    }
    w->buf[w->len] = '\0'; /* reserve() always leaves room for it */
    return w->buf;
}

/* Room for n more bytes plus the terminating NUL. */
static inline bool reserve(tcpst_jw *w, size_t n)
{
    if (w->len + n + 1 <= w->cap && !w->err) {
        return true;
    }
    if (w->err) {
        return false;
    }
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + n + 1) {
        cap *= 2;
    }
    char *b = realloc(w->buf, cap);
    if (!b) {
        w->err = ENOMEM;
        return false;
    }
    w->buf = b;
    w->cap = cap;
    return true;
}

static inline void put(tcpst_jw *w, const char *s, size_t n)
{
    if (reserve(w, n)) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
    }
}

static inline void putc1(tcpst_jw *w, char c)
{
    if (reserve(w, 1)) {
        w->buf[w->len++] = c;
    }
}

/* Before a value or a key: the comma, unless it completes a member or comes first. */
static inline void sep(tcpst_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->has_member[w->depth]) {
        putc1(w, ',');
    }
    w->has_member[w->depth] = true;
}

static void container_open(tcpst_jw *w, char c)
{
    sep(w);
    putc1(w, c);
    if (w->depth >= TCPST_JW_MAX_DEPTH) {
        w->err = w->err ? w->err : EOVERFLOW;
        return;
    }
    w->has_member[++w->depth] = false;
}

static void container_close(tcpst_jw *w, char c)
{
    putc1(w, c);
    if (w->depth > 0) {
        w->depth--;
    }
}

void tcpst__jw_obj_begin(tcpst_jw *w)
{
    container_open(w, '{');
}

void tcpst__jw_obj_end(tcpst_jw *w)
{
    container_close(w, '}');
}

void tcpst__jw_arr_begin(tcpst_jw *w)
{
    container_open(w, '[');
}

void tcpst__jw_arr_end(tcpst_jw *w)
{
    container_close(w, ']');
}

/* The string with jansson's escapes: quote, backslash and control characters. */
static void put_quoted(tcpst_jw *w, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    if (!reserve(w, 6 * n + 2)) { /* the worst case, once: then write in place */
        return;
    }
    char *o = w->buf + w->len;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            *o++ = (char)ch;
            continue;
        }
        *o++ = '\\';
        switch (ch) {
            case '"':
                *o++ = '"';
                break;
            case '\\':
                *o++ = '\\';
                break;
            case '\b':
                *o++ = 'b';
                break;
            case '\f':
                *o++ = 'f';
                break;
            case '\n':
                *o++ = 'n';
                break;
            case '\r':
                *o++ = 'r';
                break;
            case '\t':
                *o++ = 't';
                break;
            default:
                memcpy(o, "u00", 3);
                o[3] = hex[ch >> 4];
                o[4] = hex[ch & 15];
                o += 5;
        }
    }
    *o++ = '"';
    w->len = (size_t)(o - w->buf);
}

void tcpst__jw_keyn_slow(tcpst_jw *w, const char *key, size_t n)
{
    /* What tcpst__jw_keyn() leaves: the first member, or a buffer that must grow. */
    sep(w);
    /* Keys are the program's own identifiers (jsonw.h): copied, not escaped. */
    if (reserve(w, n + 3)) {
        w->len += tcpst__jw_put_key(w->buf + w->len, key, n);
    }
    w->after_key = true;
}

void tcpst__jw_str(tcpst_jw *w, const char *s)
{
    sep(w);
    put_quoted(w, s);
}

void tcpst__jw_name(tcpst_jw *w, const char *s)
{
    sep(w);
    size_t n = strlen(s);
    if (reserve(w, n + 2)) {
        char *o = w->buf + w->len;
        o[0] = '"';
        memcpy(o + 1, s, n);
        o[n + 1] = '"';
        w->len += n + 2;
    }
}

/* "00" .. "99": two digits per division. */
static const char pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* v's decimal digits, written backwards ending at p; returns the first. */
static char *u64_digits(char *p, uint64_t v)
{
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, pairs + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}

static void put_u64(tcpst_jw *w, uint64_t v, bool neg)
{
    /* Digits right-aligned at b + 24, then 24 bytes copied from the first: a fixed-size
     * copy is a few moves, where one of the exact length was a call. */
    char b[48];
    char *p = u64_digits(b + 24, v);
    if (neg) {
        *--p = '-';
    }
    if (reserve(w, 24)) {
        memcpy(w->buf + w->len, p, 24);
        w->len += (size_t)(b + 24 - p);
    }
}

void tcpst__jw_int(tcpst_jw *w, int64_t v)
{
    sep(w);
    /* Negate in unsigned arithmetic: INT64_MIN has no positive int64_t. */
    put_u64(w, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void tcpst__jw_uint(tcpst_jw *w, uint64_t v)
{
    sep(w);
    put_u64(w, v, false);
}

void tcpst__jw_real(tcpst_jw *w, double v)
{
    sep(w);
    char b[40];
    int n = snprintf(b, sizeof b, "%.16g", v);
    if (n <= 0 || (size_t)n >= sizeof b) {
        w->err = w->err ? w->err : EINVAL;
        return;
    }
    /* A locale may print ',' as the decimal point; JSON wants '.'. */
    char *comma = strchr(b, ',');
    if (comma) {
        *comma = '.';
    }
    size_t len = (size_t)n;
    if (!strchr(b, '.') && !strchr(b, 'e')) {
        memcpy(b + len, ".0", 3);
        len += 2;
    }
    /* jansson's exponent: no '+', no leading zeros ("1e-06" -> "1e-6"). */
    char *e = strchr(b, 'e');
    if (e) {
        char *start = e + 1;
        if (*start == '+') {
            memmove(start, start + 1, strlen(start + 1) + 1);
            len--;
        } else if (*start == '-') {
            start++;
        }
        char *digits = start;
        while (*digits == '0' && digits[1] != '\0') {
            digits++;
        }
        if (digits != start) {
            memmove(start, digits, strlen(digits) + 1);
            len -= (size_t)(digits - start);
        }
    }
    put(w, b, len);
}

void tcpst__jw_us(tcpst_jw *w, int64_t us)
{
    /* Beyond 2^53 us is not exact in a double: print what the double is. */
    uint64_t mag = us < 0 ? 0 - (uint64_t)us : (uint64_t)us;
    if (mag >= (UINT64_C(1) << 53)) {
        tcpst__jw_real(w, (double)us / 1e6);
        return;
    }
    sep(w);
    /* The exact decimal, trailing zeros dropped: it parses to the double us / 1e6 is. */
    char b[32];
    char *p = b + sizeof b;
    uint64_t frac = mag % 1000000, ip = mag / 1000000;
    int digits = 6;
    while (digits > 1 && frac % 10 == 0) { /* trailing zeros go, one digit stays */
        frac /= 10;
        digits--;
    }
    for (int i = 0; i < digits; i++) {
        *--p = (char)('0' + frac % 10);
        frac /= 10;
    }
    *--p = '.';
    /* A record's times mostly share their seconds: those digits are kept from last time. */
    if (ip != w->sec || w->sec_len == 0) {
        char *q = u64_digits(w->sec_txt + sizeof w->sec_txt, ip);
        w->sec_len = (uint8_t)(w->sec_txt + sizeof w->sec_txt - q);
        w->sec = ip;
    }
    p -= w->sec_len;
    memcpy(p, w->sec_txt + sizeof w->sec_txt - w->sec_len, w->sec_len);
    if (us < 0) {
        *--p = '-';
    }
    put(w, p, (size_t)(b + sizeof b - p));
}

void tcpst__jw_bool(tcpst_jw *w, bool v)
{
    sep(w);
    if (v) {
        put(w, "true", 4);
    } else {
        put(w, "false", 5);
    }
}

void tcpst__jw_null(tcpst_jw *w)
{
    sep(w);
    put(w, "null", 4);
}

void tcpst__jw_next_line(tcpst_jw *w)
{
    if (w->len) {
        put(w, "\n", 1);
    }
    w->depth = 0;
    w->after_key = false;
    w->has_member[0] = false;
}

void tcpst__jw_raw(tcpst_jw *w, const char *json, size_t n)
{
    sep(w);
    put(w, json, n);
}
