/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ckchild.h - run a test step in a forked child and collect what it reports.
 * Used where the step changes the whole process (privilege drop, capabilities) or must
 * survive a failure the parent then describes; the child writes lines with ckchild_say().
 */
#ifndef TCPSTATE_TESTS_CKCHILD_H
#define TCPSTATE_TESTS_CKCHILD_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void ckchild_say(int wfd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void ckchild_say(int wfd, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0 && write(wfd, buf, strlen(buf)) < 0) {
        _exit(3);
    }
}

/* Runs fn(write end) in a child; its output lands in out, NUL-terminated; it must exit 0. */
static inline void ckchild_run(void (*fn)(int wfd), char *out, size_t outlen)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fflush(stdout); /* or buffered output would be written twice */
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        fn(p[1]);
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < outlen && (got = read(p[0], out + n, outlen - 1 - n)) > 0) {
        n += (size_t)got;
    }
    out[n] = '\0';
    close(p[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child died: status %d (%s)", st, out);
}

#endif
