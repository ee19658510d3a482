/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sink.c - the output file of a report or a JUnit file (sink.h): standard output, in
 * place, or atomic (temporary file in the target's directory, fsync, rename).
 *
 * Not here: what is written (the formats), or when (report.c).
 */
#include "sink.h"

#include "tcpstate/outfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUF ((size_t)1 << 20) /* stdio buffer of an output file */

/* Remove the temporary file (it was not renamed into place). */
static void drop_tmp(tcpst__sink *s)
{
    unlink(s->tmp_path);
    tcpst_outfile_forget(s->tmp_path);
    free(s->tmp_path);
    s->tmp_path = NULL;
}

void tcpst__sink_fail(tcpst__sink *s, int e)
{
    if (!s->err) {
        s->err = e ? e : EIO;
    }
}

static void set_buffer(tcpst__sink *s)
{
    /* glibc ignores the size without a buffer of ours; it is freed after the file closes. */
    if (s->out != stdout && (s->buf = malloc(OUT_BUF)) != NULL) {
        setvbuf(s->out, s->buf, _IOFBF, OUT_BUF);
    }
}

/* Both through outfile.h: modes, symlinks and other users' files as a shell would treat
 * them, and never written through what another user planted (docs/robustness.md). */
static int open_in_place(tcpst__sink *s, const char *path, const char *what, tcpst_error *err)
{
    int fd = tcpst_outfile_stream(path, what, err);
    if (fd < 0) {
        return fd;
    }
    if (!(s->out = fdopen(fd, "w"))) {
        close(fd);
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    return 0;
}

static int open_atomic(tcpst__sink *s, const char *path, const char *what, tcpst_error *err)
{
    int fd = tcpst_outfile_temp(path, what, &s->tmp_path, err);
    if (fd < 0) {
        return fd;
    }
    if (!(s->out = fdopen(fd, "w"))) {
        close(fd);
        drop_tmp(s);
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    return 0;
}

int tcpst__sink_open(tcpst__sink *s, const char *path, tcpst__sink_mode mode, const char *what,
                     tcpst_error *err)
{
    memset(s, 0, sizeof *s);
    if (!path || strcmp(path, "-") == 0) {
        s->out = stdout;
        return 0;
    }
    if ((s->path = strdup(path)) == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    struct stat sb;
    /* A device or pipe cannot be replaced by rename(): write to it directly. */
    bool in_place = mode == TCPST__SINK_STREAM || (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode));
    int rc = in_place ? open_in_place(s, path, what, err) : open_atomic(s, path, what, err);
    if (rc != 0) {
        free(s->path);
        s->path = NULL;
        return rc;
    }
    set_buffer(s);
    return 0;
}

void tcpst__sink_put(tcpst__sink *s, const char *p, size_t n)
{
    if (!s->err && fwrite(p, 1, n, s->out) != n) {
        tcpst__sink_fail(s, errno);
    }
}

void tcpst__sink_puts(tcpst__sink *s, const char *str)
{
    tcpst__sink_put(s, str, strlen(str));
}

void tcpst__sink_printf(tcpst__sink *s, const char *fmt, ...)
{
    if (s->err) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(s->out, fmt, ap) < 0) {
        tcpst__sink_fail(s, errno);
    }
    va_end(ap);
}

void tcpst__sink_line(tcpst__sink *s, const char *text, size_t n, int make_err)
{
    if (make_err) {
        tcpst__sink_fail(s, make_err);
        return;
    }
    tcpst__sink_put(s, text, n);
    tcpst__sink_put(s, "\n", 1);
    if (!s->err && fflush(s->out) != 0) {
        tcpst__sink_fail(s, errno);
    }
}

void tcpst__sink_flush(tcpst__sink *s)
{
    if (s->out && !s->err && fflush(s->out) != 0) {
        tcpst__sink_fail(s, errno);
    }
}

const char *tcpst__sink_name(const tcpst__sink *s)
{
    return s->path ? s->path : "standard output";
}

static void release(tcpst__sink *s)
{
    free(s->buf); /* the file is closed by now */
    free(s->path);
    free(s->tmp_path);
    memset(s, 0, sizeof *s);
}

int tcpst__sink_commit(tcpst__sink *s, const char *what, tcpst_error *err)
{
    if (!s->err && (fflush(s->out) != 0 || ferror(s->out))) {
        tcpst__sink_fail(s, errno);
    }
    if (s->tmp_path && !s->err && fsync(fileno(s->out)) != 0) {
        tcpst__sink_fail(s, errno);
    }
    if (s->out != stdout && fclose(s->out) != 0) {
        tcpst__sink_fail(s, errno);
    }
    s->out = NULL;
    if (s->tmp_path) {
        if (!s->err && rename(s->tmp_path, s->path) != 0) {
            tcpst__sink_fail(s, errno);
        }
        if (s->err) {
            unlink(s->tmp_path);
        }
        tcpst_outfile_forget(s->tmp_path);
    }
    int rc = 0;
    if (s->err) {
        rc = tcpst_error_set(err, TCPST_EWRITE, "%s: cannot write %s: %s", tcpst__sink_name(s),
                             what, strerror(s->err));
    }
    release(s);
    return rc;
}

void tcpst__sink_discard(tcpst__sink *s)
{
    if (s->out && s->out != stdout) {
        fclose(s->out);
    }
    if (s->tmp_path) {
        drop_tmp(s);
    }
    release(s);
}
