// SPDX-License-Identifier: BSD-3-Clause
/*
 * gunzip.c - gzip-compressed captures (capture.pcap.gz), read as Wireshark and tcptrace
 * read them: a stdio stream that inflates another, so libpcap and the pcapng reader see
 * the capture itself.  Other compressors are recognised by their magic and named, so the
 * user is told what to run instead of "unknown file format".
 */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "source.h"

#define GZ_IN ((size_t)64 << 10)

typedef struct gz {
    FILE *inner;
    z_stream zs;
    unsigned char in[GZ_IN];
    bool end; /* the compressed input is used up */
    bool bad; /* damaged: every later read fails */
} gz;

/* Refill the input: one read() from a descriptor (a pipe gives what it has), fread() from
 * a stream without one (bytes peeked from a pipe, replayed). */
static ssize_t fill(gz *g)
{
    int fd = fileno(g->inner);
    ssize_t n;
    if (fd >= 0) {
        do {
            n = read(fd, g->in, GZ_IN);
        } while (n < 0 && errno == EINTR);
    } else {
        size_t k = fread(g->in, 1, GZ_IN, g->inner);
        n = k == 0 && ferror(g->inner) ? -1 : (ssize_t)k;
    }
    return n;
}

static ssize_t gz_read(void *cookie, char *buf, size_t size)
{
    gz *g = cookie;
    if (g->bad) {
        errno = EIO;
        return -1;
    }
    g->zs.next_out = (unsigned char *)buf;
    g->zs.avail_out = (uInt)(size > UINT32_MAX ? UINT32_MAX : size);
    while (g->zs.avail_out == size && !g->end) {
        if (g->zs.avail_in == 0) {
            ssize_t n = fill(g);
            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                g->end = true; /* a member cut short shows as a truncated capture */
                break;
            }
            g->zs.next_in = g->in;
            g->zs.avail_in = (uInt)n;
        }
        int rc = inflate(&g->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            inflateReset(&g->zs); /* concatenated members (gzip a b > c) go on */
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            g->bad = true;
            errno = EIO;
            return size - g->zs.avail_out > 0 ? (ssize_t)(size - g->zs.avail_out) : -1;
        }
    }
    return (ssize_t)(size - g->zs.avail_out);
}

static int gz_close(void *cookie)
{
    gz *g = cookie;
    inflateEnd(&g->zs);
    int rc = fclose(g->inner);
    free(g);
    return rc;
}

const char *tcpst__compressed(const uint8_t *m, size_t n)
{
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        return "gzip";
    }
    if (n >= 4 && memcmp(m,
                         "\xfd"
                         "7zX",
                         4) == 0) {
        return "xz";
    }
    if (n >= 3 && memcmp(m, "BZh", 3) == 0) {
        return "bzip2";
    }
    if (n >= 4 && memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0) {
        return "zstd";
    }
    if (n >= 4 && memcmp(m, "\x04\x22\x4d\x18", 4) == 0) {
        return "lz4";
    }
    return NULL;
}

FILE *tcpst__gunzip(FILE *inner)
{
    gz *g = calloc(1, sizeof *g);
    if (!g) {
        return NULL;
    }
    g->inner = inner;
    if (inflateInit2(&g->zs, 15 + 16) != Z_OK) { /* 15 + 16: gzip framing */
        free(g);
        return NULL;
    }
    cookie_io_functions_t io = {.read = gz_read, .close = gz_close};
    FILE *out = fopencookie(g, "rb", io);
    if (!out) {
        inflateEnd(&g->zs);
        free(g);
    }
    return out;
}
