/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * timefmt.c - parsing and writing times and durations (timefmt.h).
 *
 * Unix times are read digit by digit, not through a double, so that
 * 1796596044.250000001 keeps its last nanosecond.  RFC 3339 (section 5.6) is read
 * strictly: four-digit year, two-digit fields, 'T', a fraction of any length (digits past
 * the ninth are dropped), and 'Z' or an offset.
 */
#include "tcpstate/timefmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool tcpst_parse_duration(const char *s, tcpst_time max, tcpst_time *out)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"", 1e9},   {"s", 1e9},    {"ms", 1e6},   {"us", 1e3},   {"ns", 1.0},
                 {"m", 6e10}, {"min", 6e10}, {"h", 3.6e12}, {"d", 8.64e13}};
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0) {
        return false;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double ns = v * units[i].ns;
            if (ns > (double)max) {
                return false;
            }
            *out = (tcpst_time)ns;
            return true;
        }
    }
    return false;
}

/* n digits at s as a number; false unless all are digits. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* A fraction of a second after '.', in ns; *s moves past it. */
/* An optional ".digits" at *s into *ns (digits past the ninth are dropped); false for a
 * point without digits. */
static bool opt_fraction(const char **s, int64_t *ns)
{
    *ns = 0;
    if (**s != '.') {
        return true;
    }
    int64_t scale = 100000000;
    const char *p = *s + 1, *first = p;
    for (; *p >= '0' && *p <= '9'; p++) {
        *ns += (*p - '0') * scale;
        scale /= 10;
    }
    *s = p;
    return p != first;
}

static bool parse_unix(const char *s, tcpst_time *out)
{
    const char *p = s;
    int64_t sec = 0;
    if (*p < '0' || *p > '9') {
        return false;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (sec > (INT64_MAX / TCPST_NS_PER_SEC) / 10) {
            return false;
        }
        sec = sec * 10 + (*p - '0');
    }
    int64_t ns;
    if (!opt_fraction(&p, &ns)) {
        return false;
    }
    if (*p || sec > INT64_MAX / TCPST_NS_PER_SEC - 1) {
        return false;
    }
    *out = sec * TCPST_NS_PER_SEC + ns;
    return true;
}

static bool parse_rfc3339(const char *s, tcpst_time *out)
{
    int y, mo, d, h, mi, se;
    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || !strchr("Tt ", s[10]) || s[10] == '\0' ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &se)) {
        return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
        return false;
    }
    const char *p = s + 19;
    int64_t ns;
    if (!opt_fraction(&p, &ns)) {
        return false;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59) {
            return false;
        }
        offset = (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
        p += 6;
    } else {
        return false;
    }
    if (*p) {
        return false;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    if (tm.tm_mday != d && se != 60) {
        return false; /* normalised away: no such day (February 30th) */
    }
    *out = ((int64_t)t - offset) * TCPST_NS_PER_SEC + ns;
    return true;
}

bool tcpst_parse_time(const char *s, tcpst_time *out)
{
    return parse_unix(s, out) || parse_rfc3339(s, out);
}

void tcpst_format_time(tcpst_time t, char out[TCPST_TIME_STRLEN])
{
    int64_t sec = t / TCPST_NS_PER_SEC, ns = t % TCPST_NS_PER_SEC;
    if (ns < 0) {
        sec -= 1;
        ns += TCPST_NS_PER_SEC;
    }
    time_t tt = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, TCPST_TIME_STRLEN, "%lld.%09lld", (long long)sec, (long long)ns);
        return;
    }
    size_t n = strftime(out, TCPST_TIME_STRLEN, "%Y-%m-%dT%H:%M:%S", &tm);
    if (ns) {
        /* The nine digits without their trailing zeros (ns is not 0: one digit stays). */
        int digits = 9;
        int64_t v = ns;
        while (v % 10 == 0) {
            v /= 10;
            digits--;
        }
        snprintf(out + n, TCPST_TIME_STRLEN - n, ".%0*lldZ", digits, (long long)v);
    } else {
        snprintf(out + n, TCPST_TIME_STRLEN - n, "Z");
    }
}
