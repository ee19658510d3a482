/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * timefmt.h - times and durations as people write them: on the command line
 * ("250ms", "5s", "2m", "1h", "1796596044.25", "2026-12-06T22:26:07.25Z") and in messages.
 * No I/O; the clock is never read.
 */
#ifndef TCPSTATE_TIMEFMT_H
#define TCPSTATE_TIMEFMT_H

#include <stdbool.h>

#include "tcpstate/types.h"

/*
 * A duration: a non-negative number (as strtod reads it) with an optional unit: ns, us,
 * ms, s, m or min, h, d; none is seconds.  False for anything else, for a negative value
 * and above `max` ns.
 */
bool tcpst_parse_duration(const char *s, tcpst_time max, tcpst_time *out);

/*
 * A point in time: Unix seconds with an optional fraction of up to 9 digits, read exactly
 * ("1796596044.250000"), or RFC 3339 with a time zone ("2026-12-06T22:26:07.25Z",
 * "...+01:00"; 't', 'z' and a space for 'T' too).  False for anything else.
 */
bool tcpst_parse_time(const char *s, tcpst_time *out);

/* RFC 3339 in UTC with the fraction that is not zero, up to ns:
 * "2026-12-06T22:26:07.25Z".  out >= TCPST_TIME_STRLEN bytes. */
#define TCPST_TIME_STRLEN 40
void tcpst_format_time(tcpst_time t, char out[TCPST_TIME_STRLEN]);

#endif
