/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pcap.c - libFuzzer target for the whole pipeline on a capture file:
 * command line -> capture reader (libpcap, pcap and pcapng) -> engine ->
 * JSON/text report, JUnit file and verdict, in the order main.c runs them.
 *
 * Input: the bytes of a capture file.  They are put in a memfd and opened as
 * /proc/self/fd/N, so no disk I/O per input except the JUnit file (written
 * atomically into a private temporary directory).  The input length picks one
 * of four option sets so JSON, text, Zeek splitting, checksum verification
 * and a BPF filter are all exercised.  Signals and exit codes are not.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tcpstate/capture.h"
#include "tcpstate/cli.h"
#include "tcpstate/engine.h"
#include "tcpstate/junit.h"
#include "tcpstate/report.h"
#include "tcpstate/textout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[64];
static char junit_path[96];
static FILE *devnull;

static void cleanup(void)
{
    if (junit_path[0]) {
        unlink(junit_path);
    }
    if (tmpdir[0]) {
        rmdir(tmpdir);
    }
    if (devnull) {
        fclose(devnull);
    }
}

static int setup(void)
{
    if (tmpdir[0]) {
        return 0;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s", "/tmp/fuzz_pcap.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        tmpdir[0] = '\0';
        return -1;
    }
    snprintf(junit_path, sizeof junit_path, "%s/junit.xml", tmpdir);
    devnull = fopen("/dev/null", "w");
    atexit(cleanup);
    return devnull ? 0 : -1;
}

/* The pipeline of main.c, minus signals and stderr messages. */
static void run(char **argv, int argc)
{
    tcpst_options opt;
    tcpst_error err = {0};
    if (tcpst_cli_parse(argc, argv, &opt, &err) != 0) {
        abort(); /* the option sets below are valid */
    }
    tcpst_capture *cap = NULL;
    if (tcpst_capture_open(&cap, opt.files, opt.nfiles, opt.filter, tcpst_decode_linktype_supported,
                           &err) != 0) {
        tcpst_cli_free(&opt);
        return; /* not a capture, or an unsupported link type: a clean error */
    }
    tcpst_report *rep = NULL;
    tcpst_junit junit;
    tcpst_junit_init(&junit, &opt.policy);
    tcpst_report_opts ropts = {.pretty = opt.pretty, .policy = &opt.policy, .format = opt.format};
    if (tcpst_report_open(&rep, opt.output, &ropts, &err) != 0) {
        abort();
    }
    tcpst_engine eng;
    tcpst_receiver rpol = tcpst_policy_receiver(&opt.policy);
    tcpst_receiver rjunit = tcpst_junit_receiver(&junit), rrep = tcpst_report_receiver(rep);
    if (tcpst_engine_init(&eng, &opt.engine, &err) != 0 ||
        tcpst_engine_add_receiver(&eng, &rpol) != 0 ||
        (opt.junit && tcpst_engine_add_receiver(&eng, &rjunit) != 0) ||
        tcpst_engine_add_receiver(&eng, &rrep) != 0) {
        abort();
    }
    tcpst_pkt pkt;
    while (tcpst_capture_next(cap, &pkt) == 1) {
        tcpst_engine_packet(&eng, pkt.linktype, pkt.data, pkt.caplen, pkt.wirelen, pkt.ts,
                            pkt.frame);
    }
    tcpst_engine_finish(&eng);

    size_t n = tcpst_capture_ninputs(cap);
    tcpst_input_info *inputs = calloc(n, sizeof *inputs);
    int unreadable = 0;
    for (size_t i = 0; i < n; i++) {
        const tcpst_input_info *in = tcpst_capture_input(cap, i);
        if (inputs) {
            inputs[i] = *in;
        }
        unreadable |= in->truncated && in->packets == 0;
    }
    tcpst_summary_result capture;
    tcpst_engine_summary(&eng, &capture);
    tcpst_report_meta meta = {
        .capture = &capture,
        .inputs = inputs,
        .n_inputs = inputs ? n : 0,
        .filter = opt.filter,
        .filtered = tcpst_capture_filtered(cap),
        .time_wait = opt.engine.conn.time_wait,
    };
    int ok = 1;
    if (unreadable) {
        tcpst_report_discard(rep);
        ok = 0;
    } else if (tcpst_report_finish(rep, &eng.stats, &meta, &err) != 0) {
        abort(); /* writing to /dev/null cannot fail */
    }
    if (ok && opt.junit && tcpst_junit_write(&junit, opt.junit, &err) != 0) {
        abort();
    }
    tcpst_junit_fini(&junit);
    if (ok && opt.policy.n > 0) {
        tcpst_text_verdict(devnull, "tcpstate: ", &opt.policy, true);
        tcpst_text_annotations(devnull, &opt.policy);
        (void)tcpst_policy_failed(&opt.policy);
    }
    free(inputs);
    tcpst_engine_fini(&eng);
    tcpst_capture_close(cap);
    tcpst_cli_free(&opt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (setup() != 0) {
        abort();
    }
    int fd = memfd_create("fuzz_pcap", 0);
    if (fd < 0) {
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            abort();
        }
        done += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)"tcpstate";
    argv[argc++] = (char *)"--max-connections=64";
    argv[argc++] = (char *)"--fail-on=close_wait_stuck,severity>=warning,retransmission>=3";
    argv[argc++] = (char *)"--junit";
    argv[argc++] = junit_path;
    argv[argc++] = (char *)"-o";
    argv[argc++] = (char *)"/dev/null";
    switch (size % 4) {
        case 1:
            argv[argc++] = (char *)"--format=text";
            break;
        case 2:
            argv[argc++] = (char *)"--split=zeek";
            argv[argc++] = (char *)"--pretty";
            break;
        case 3:
            argv[argc++] = (char *)"--verify-checksums";
            argv[argc++] = (char *)"--filter=tcp or ip6";
            break;
        default:
            break;
    }
    argv[argc++] = path;
    argv[argc] = NULL;
    run(argv, argc);
    close(fd);
    return 0;
}
