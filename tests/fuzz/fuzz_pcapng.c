// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_pcapng.c - libFuzzer target for the pcapng reader (src/capture/pcapng.c): every
 * block type, options, several interfaces of different link types and resolutions,
 * Interface Statistics Blocks and the end of the capture decided from them.
 *
 * Input: the bytes of a pcapng file, opened from a memfd as /proc/self/fd/N, read to the
 * end twice (without and with a BPF filter compiled per link type), then asked for its
 * end.  Every packet handed out must lie inside the bytes its caplen promises and its
 * link type must be one the file declared; the end, when known, never precedes the last
 * packet.  Anything else aborts.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tcpstate/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int any_linktype(int lt)
{
    (void)lt;
    return 1;
}

static void read_all(const char *path, const char *filter)
{
    const char *files[] = {path};
    tcpst_capture *cap = NULL;
    tcpst_error err = {0};
    if (tcpst_capture_open(&cap, files, 1, filter, any_linktype, &err) != 0) {
        if (err.msg[0] == '\0') {
            abort(); /* every refusal says why */
        }
        return;
    }
    tcpst_pkt pkt;
    tcpst_time last = 0;
    uint64_t n = 0;
    volatile uint8_t sink = 0;
    while (tcpst_capture_next(cap, &pkt) == 1) {
        if (pkt.caplen > 0) {
            sink ^= pkt.data[0] ^ pkt.data[pkt.caplen - 1]; /* ASan checks the bounds */
        }
        last = n++ == 0 || pkt.ts > last ? pkt.ts : last;
    }
    (void)sink;
    const tcpst_input_info *in = tcpst_capture_input(cap, 0);
    if (in->truncated && in->error[0] == '\0') {
        abort();
    }
    tcpst_capture_end end;
    if (tcpst_capture_end_of(cap, TCPST_ENDG_NONE, 0, NULL, false, 0, &end, &err) == 0 &&
        end.known && n > 0 && end.end < last) {
        abort();
    }
    tcpst_capture_close(cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_pcapng", MFD_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    read_all(path, NULL);
    read_all(path, "tcp");
    close(fd);
    return 0;
}
