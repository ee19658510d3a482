/*
 * main.c - process policy: options, signals, the read loop, exit codes.
 *
 * The only place that prints to stderr or exits.  Errors are one line:
 * "tcpstate: <file or object>: <problem>".  SIGINT/SIGTERM stop reading; the
 * report is still completed and committed (a second signal exits at once).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcpstate/capture.h"
#include "tcpstate/cli.h"
#include "tcpstate/engine.h"
#include "tcpstate/privdrop.h"
#include "tcpstate/report.h"
#include "tcpstate/textout.h"

enum { EXIT_OK = 0, EXIT_POLICY = 1, EXIT_USAGE = 2 };

static volatile sig_atomic_t stop_requested;
static tcpst_capture *volatile signal_cap; /* woken from the handler (live capture) */

static void on_signal(int sig)
{
    if (stop_requested) {
        /* Second signal: the user wants out now. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_requested = 1;
    if (signal_cap) {
        tcpst_capture_interrupt(signal_cap);
    }
}

/* The reader of a streamed report went away (`| head`): stop as for SIGINT so
 * the -w file is completed, but never die of it. */
static void on_sigpipe(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (signal_cap) {
        tcpst_capture_interrupt(signal_cap);
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);
}

static tcpst_time clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (tcpst_time)ts.tv_sec * TCPST_NS_PER_SEC + ts.tv_nsec;
}

/* CI logs show stderr even when the report goes to a file or a pipe. Colour
 * only for a terminal, and never when NO_COLOR is set (no-color.org). */
static void print_verdict(const tcpst_policy *p)
{
    tcpst_text_verdict(stderr, "tcpstate: ", p, isatty(STDERR_FILENO) && !getenv("NO_COLOR"));
    const char *gha = getenv("GITHUB_ACTIONS");
    if (gha && strcmp(gha, "true") == 0) {
        tcpst_text_annotations(stderr, p);
    }
}

static int fail(const tcpst_error *err)
{
    fprintf(stderr, "tcpstate: %s\n", err->msg);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    tcpst_options opt;
    tcpst_error err = {0};
    if (tcpst_cli_parse(argc, argv, &opt, &err) != 0) {
        tcpst_cli_free(&opt);
        return fail(&err);
    }
    if (opt.help) {
        fputs(tcpst_cli_usage(), stdout);
        return EXIT_OK;
    }
    if (opt.version) {
        printf("tcpstate %s\n", TCPSTATE_VERSION);
        return EXIT_OK;
    }

    if (opt.list_interfaces) {
        int rc = tcpst_capture_list_interfaces(stdout, &err);
        tcpst_cli_free(&opt);
        return rc ? fail(&err) : EXIT_OK;
    }

    tcpst_capture *cap = NULL;
    int rc = opt.live ? tcpst_capture_open_live(&cap, &opt.live_cfg, opt.filter,
                                                tcpst_decode_linktype_supported, &err)
                      : tcpst_capture_open(&cap, opt.files, opt.nfiles, opt.filter,
                                           tcpst_decode_linktype_supported, &err);
    if (rc == 0 && tcpst_capture_warning(cap)) {
        fprintf(stderr, "tcpstate: warning: %s\n", tcpst_capture_warning(cap));
    }
    /* Privileges go before any output file is created, as tcpdump -Z does. */
    if (rc == 0 && opt.user) {
        rc = tcpst_privdrop(opt.user, &err);
    }
    if (rc == 0 && opt.write_file) {
        rc = tcpst_capture_dump_open(cap, opt.write_file, &err);
    }
    if (rc != 0) {
        tcpst_capture_close(cap);
        tcpst_cli_free(&opt);
        return fail(&err);
    }
    tcpst_report *rep = NULL;
    tcpst_junit junit;
    tcpst_junit_init(&junit);
    tcpst_report_opts ropts = {.pretty = opt.pretty,
                               .policy = &opt.policy,
                               .junit = opt.junit ? &junit : NULL,
                               .which = (tcpst_conns)opt.connections,
                               .format = (tcpst_format)opt.format};
    if (tcpst_report_open(&rep, opt.output, &ropts, &err) != 0) {
        tcpst_capture_close(cap);
        tcpst_cli_free(&opt);
        return fail(&err);
    }
    tcpst_engine eng;
    if (tcpst_engine_init(&eng, &opt.engine, tcpst_report_conn, rep, &err) != 0) {
        tcpst_report_discard(rep);
        tcpst_capture_close(cap);
        tcpst_cli_free(&opt);
        return fail(&err);
    }
    /* A second core reads ahead while this one analyses; pipes and stdin are read inline,
     * as their packets must reach the analysis as they arrive. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = opt.threads ? opt.threads : ncpu > 0 ? (unsigned)ncpu : 1;
    if (threads >= 2 && !opt.live && !opt.write_file) {
        /* It decodes too: the analysis thread is the busier one. */
        tcpst_capture_prep prep = {
            .fn = tcpst_engine_prep_fn, .ctx = &eng.cfg, .size = sizeof(tcpst_prepared)};
        tcpst_error rerr;
        (void)tcpst_capture_start_reader(cap, &prep, &rerr);
    }
    bool stream = opt.format == TCPST_FORMAT_NDJSON;
    if (stream) {
        eng.on_anomaly = tcpst_report_anomaly;
        eng.anomaly_ctx = rep;
    }

    signal_cap = cap;
    install_signals();
    const char *stop = "end_of_input";
    tcpst_time started = clock_ns(CLOCK_MONOTONIC);
    tcpst_time first_ts = 0, next_stats = 0;
    bool have_first = false, stats_due = stream && opt.stats_interval > 0;
    uint64_t seen = 0;
    tcpst_pkt pkt;
    for (;;) {
        if (stop_requested) {
            stop = "signal";
            break;
        }
        if (opt.count && seen >= opt.count) {
            stop = "count";
            break;
        }
        if (opt.duration && opt.live && clock_ns(CLOCK_MONOTONIC) - started >= opt.duration) {
            stop = "duration";
            break;
        }
        int got = tcpst_capture_next(cap, &pkt);
        if (got == 0) {
            break;
        }
        if (got == 1) {
            if (!have_first) {
                first_ts = pkt.ts;
                have_first = true;
            }
            if (opt.duration && !opt.live && pkt.ts - first_ts >= opt.duration) {
                stop = "duration";
                break;
            }
            seen++;
            if (pkt.prep != NULL) {
                tcpst_engine_prepared(&eng, pkt.prep, pkt.data, pkt.caplen, pkt.ts, pkt.frame);
            } else {
                tcpst_engine_packet(&eng, pkt.linktype, pkt.data, pkt.caplen, pkt.wirelen, pkt.ts,
                                    pkt.frame);
            }
        } else {
            /* Idle live capture: the wall clock drives timers and stuck states. */
            tcpst_engine_advance(&eng, clock_ns(CLOCK_REALTIME));
        }
        if (stats_due && eng.clock_set && eng.now >= next_stats) {
            if (next_stats != 0) {
                tcpst_engine_open open;
                tcpst_capture_counters cc;
                tcpst_engine_open_counts(&eng, &open);
                tcpst_capture_get_counters(cap, &cc);
                tcpst_report_stats(rep, eng.now, &eng.stats, &open, &cc);
                tcpst_capture_dump_flush(cap);
            }
            next_stats = eng.now + opt.stats_interval;
        }
    }
    if (opt.live) {
        tcpst_engine_advance(&eng, clock_ns(CLOCK_REALTIME));
    }
    tcpst_engine_finish(&eng);
    signal_cap = NULL;
    if (opt.write_file && tcpst_capture_dump_flush(cap) != 0) {
        fprintf(stderr, "tcpstate: %s: cannot write the packets\n", opt.write_file);
    }

    int status = EXIT_OK;
    size_t n = tcpst_capture_ninputs(cap);
    tcpst_input_info *inputs = calloc(n, sizeof *inputs);
    for (size_t i = 0; i < n; i++) {
        const tcpst_input_info *in = tcpst_capture_input(cap, i);
        if (inputs) {
            inputs[i] = *in;
        }
        if (in->truncated && in->packets == 0) {
            /* Not one packet could be read: the input is unreadable, not damaged. */
            fprintf(stderr, "tcpstate: %s: %s\n", in->name, in->error);
            status = EXIT_USAGE;
        } else if (in->truncated) {
            /* Everything before the damage was analysed; say so, but it is a result. */
            fprintf(stderr, "tcpstate: warning: %s: %s\n", in->name, in->error);
        }
    }
    tcpst_report_meta meta = {
        .inputs = inputs,
        .n_inputs = inputs ? n : 0,
        .filter = opt.filter,
        .filtered = tcpst_capture_filtered(cap),
        .interrupted = stop_requested != 0,
        .stop = stop,
        .interface = opt.live ? opt.live_cfg.iface : NULL,
        .time_wait = opt.engine.conn.time_wait,
    };
    tcpst_capture_get_counters(cap, &meta.counters);
    if (status != EXIT_OK) {
        tcpst_report_discard(rep);
    } else if (tcpst_report_finish(rep, &eng.stats, &meta, &err) != 0) {
        status = fail(&err);
    }
    if (status == EXIT_OK && eng.stats.evicted_established > 0) {
        /* Counted in the report too, but a split connection changes results: say so. */
        fprintf(stderr,
                "tcpstate: warning: %" PRIu64 " established connections were evicted before "
                "they ended (table full at --max-connections %" PRIu32 "); their later "
                "segments started new records\n",
                eng.stats.evicted_established, opt.engine.max_connections);
    }
    if (status == EXIT_OK && opt.junit &&
        tcpst_junit_write(&junit, &opt.policy, opt.junit, &err) != 0) {
        status = fail(&err);
    }
    tcpst_junit_fini(&junit);
    if (status == EXIT_OK && opt.policy.n > 0) {
        print_verdict(&opt.policy);
        if (tcpst_policy_failed(&opt.policy)) {
            status = EXIT_POLICY;
        }
    }
    free(inputs);
    tcpst_engine_fini(&eng);
    tcpst_capture_close(cap);
    tcpst_cli_free(&opt);
    return status;
}
