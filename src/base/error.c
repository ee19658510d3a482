/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * error.c - messages for TCPST_E* codes and filling the caller's tcpst_error.
 *
 * The code list lives in error.h (TCPST_ERRNO_MAP) so that the enum and the
 * texts cannot drift apart.  Formatting goes into the fixed buffer of the
 * record, truncating if needed: the error path never allocates.  This file
 * does not print anything; main.c decides what reaches the user.
 */
#include "tcpstate/error.h"

#include <stdio.h>
#include <string.h>

const char *tcpst_strerror(int code)
{
    switch (code) {
        case TCPST_OK:
            return "success";
#define TCPST_X_MSG(name, val, msg)                                                                \
    case TCPST_E##name:                                                                            \
        return msg;
            TCPST_ERRNO_MAP(TCPST_X_MSG)
#undef TCPST_X_MSG
        default:
            return "unknown error";
    }
}

int tcpst_error_set(tcpst_error *err, int code, const char *fmt, ...)
{
    if (err == NULL) {
        return code;
    }
    err->code = code;
    err->msg[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        if (n < 0) {
            err->msg[0] = '\0';
        }
    }
    /* The record promises one line: a newline from a library message (libpcap
     * texts sometimes end in one) would break "tcpstate: FILE: problem". */
    size_t len = strlen(err->msg);
    while (len > 0 && (err->msg[len - 1] == '\n' || err->msg[len - 1] == '\r')) {
        err->msg[--len] = '\0';
    }
    for (size_t i = 0; i < len; i++) {
        if (err->msg[i] == '\n' || err->msg[i] == '\r') {
            err->msg[i] = ' ';
        }
    }
    return code;
}
