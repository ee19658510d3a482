/*
 * main.c - process policy: options, signals, the read loop, exit codes.
 *
 * The only place that prints to stderr or exits.  Errors are one line:
 * "tcpstate: <file or object>: <problem>".  SIGINT/SIGTERM stop reading; the
 * report is still completed and committed (a second signal exits at once).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpstate/capture.h"
#include "tcpstate/cli.h"
#include "tcpstate/engine.h"
#include "tcpstate/report.h"
#include "tcpstate/textout.h"

enum { EXIT_OK = 0, EXIT_POLICY = 1, EXIT_USAGE = 2 };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    if (stop_requested) {
        /* Second signal: the user wants out now. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
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

    tcpst_capture *cap = NULL;
    if (tcpst_capture_open(&cap, opt.files, opt.nfiles, opt.filter, &err) != 0) {
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
                               .format = opt.text ? TCPST_FORMAT_TEXT : TCPST_FORMAT_JSON};
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

    install_signals();
    tcpst_pkt pkt;
    while (!stop_requested && tcpst_capture_next(cap, &pkt) == 1) {
        tcpst_engine_packet(&eng, pkt.linktype, pkt.data, pkt.caplen, pkt.wirelen, pkt.ts,
                            pkt.frame);
    }
    tcpst_engine_finish(&eng);

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
        .time_wait = opt.engine.conn.time_wait,
    };
    if (status != EXIT_OK) {
        tcpst_report_discard(rep);
    } else if (tcpst_report_finish(rep, &eng.stats, &meta, &err) != 0) {
        status = fail(&err);
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
