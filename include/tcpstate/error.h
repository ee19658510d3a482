/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * error.h - error codes and the caller-provided error record.
 *
 * Fallible functions return 0 or a negative TCPST_E* code and, when given a
 * tcpst_error, fill it with a one-line message that names the file or object
 * concerned.  The record is a fixed buffer so the error path never allocates.
 */
#ifndef TCPSTATE_ERROR_H
#define TCPSTATE_ERROR_H

#include <stdarg.h>

#define TCPST_ERRNO_MAP(X)                                                                         \
    X(USAGE, -1, "usage error")                                                                    \
    X(OPEN, -2, "cannot open input")                                                               \
    X(FORMAT, -3, "unreadable capture format")                                                     \
    X(LINKTYPE, -4, "unsupported link type")                                                       \
    X(FILTER, -5, "invalid filter")                                                                \
    X(READ, -6, "read error")                                                                      \
    X(WRITE, -7, "cannot write output")                                                            \
    X(NOMEM, -8, "out of memory")                                                                  \
    X(PERM, -9, "permission denied")

enum tcpst_errcode {
    TCPST_OK = 0,
#define TCPST_X_ERR(name, val, msg) TCPST_E##name = (val),
    TCPST_ERRNO_MAP(TCPST_X_ERR)
#undef TCPST_X_ERR
};

#define TCPST_ERRMSG_MAX 512

typedef struct tcpst_error {
    int code;                   /* TCPST_E* or 0 */
    char msg[TCPST_ERRMSG_MAX]; /* one line, no trailing newline */
} tcpst_error;

/* Generic message for a code. */
const char *tcpst_strerror(int code);

/* Fill *err (may be NULL) and return `code`, printf-style. */
int tcpst_error_set(tcpst_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
