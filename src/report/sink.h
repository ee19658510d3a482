/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sink.h - where an output goes: standard output, a file written in place (a stream that
 * is read while it grows, or a device or pipe that rename() cannot replace), or a file
 * written atomically (a temporary file beside the target, fsync, then rename, so that a
 * reader never sees a partial file under the final name).  Private to the report layer.
 *
 * Writes never fail one by one: the first error is kept and reported by
 * tcpst__sink_commit(), which names the file.  Files get a 1 MiB stdio buffer (the default
 * is the file's 4 KiB block: a syscall per record or two).
 */
#ifndef TCPSTATE_REPORT_SINK_H
#define TCPSTATE_REPORT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tcpstate/error.h"

typedef struct tcpst__sink {
    FILE *out;
    char *buf;      /* its stdio buffer, when a file */
    char *path;     /* final name; NULL for standard output */
    char *tmp_path; /* the temporary file, when atomic */
    int err;        /* first write error (errno), 0 if none */
} tcpst__sink;

typedef enum tcpst__sink_mode {
    TCPST__SINK_ATOMIC = 0, /* a regular file: temporary file + rename */
    TCPST__SINK_STREAM      /* written in place (NDJSON is read while it grows) */
} tcpst__sink_mode;

/*
 * Open `path` (NULL or "-": standard output).  A path that exists and is not a regular
 * file is written in place whatever the mode.  `what` names the output in errors
 * ("report", "JUnit report"): "PATH: cannot create WHAT: why" (atomic), "PATH: cannot open
 * for writing: why" (in place).  TCPST_EWRITE or TCPST_ENOMEM.
 */
__attribute__((warn_unused_result)) int tcpst__sink_open(tcpst__sink *s, const char *path,
                                                         tcpst__sink_mode mode, const char *what,
                                                         tcpst_error *err);

void tcpst__sink_put(tcpst__sink *s, const char *p, size_t n);
void tcpst__sink_puts(tcpst__sink *s, const char *str);
void tcpst__sink_printf(tcpst__sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line of n bytes (or `make_err`, the error that kept it from being made), flushed at
 * once so that a follower sees it now. */
void tcpst__sink_line(tcpst__sink *s, const char *text, size_t n, int make_err);

/* What was written so far, out now (a live table's rows). */
void tcpst__sink_flush(tcpst__sink *s);

/* Keep the first error. */
void tcpst__sink_fail(tcpst__sink *s, int e);

/* The name errors use: the path, or "standard output". */
const char *tcpst__sink_name(const tcpst__sink *s);

/*
 * Flush and close; an atomic file is synced and renamed into place (or removed on error).
 * 0, or TCPST_EWRITE with "NAME: cannot write WHAT: why".  The sink is closed either way.
 */
__attribute__((warn_unused_result)) int tcpst__sink_commit(tcpst__sink *s, const char *what,
                                                           tcpst_error *err);

/* Close without committing: a temporary file is removed; what was written in place stays. */
void tcpst__sink_discard(tcpst__sink *s);

#endif
