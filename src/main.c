/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - process policy: options, signals, the read loop, exit codes.
 *
 * The only place that prints to stderr or exits.  Errors are one line:
 * "tcpstate: <file or object>: <problem>".  SIGINT/SIGTERM stop reading; the
 * report is still completed and committed (a second signal exits at once).
 *
 * A run is set up (capture, privileges, -w, report, engine and its receivers), run (the
 * read loop) and finished (the end of the capture judged, reports written, the verdict);
 * whatever was set up is released in one place.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcpstate/capture.h"
#include "tcpstate/cli.h"
#include "tcpstate/decode.h"
#include "tcpstate/engine.h"
#include "tcpstate/junit.h"
#include "tcpstate/outfile.h"
#include "tcpstate/privdrop.h"
#include "tcpstate/report.h"
#include "tcpstate/textout.h"

#include "harness.h"
#include "hostview.h"
#include "progress.h"

/* 3: the report is complete for what could be read, but an input was cut short
 * (docs/robustness.md); --allow-truncated makes that 0.  4: an offline run was stopped by
 * a signal before the end of its input: its report is partial, and a CI gate killed on
 * the way must not pass (live, a signal is the normal stop). */
enum { EXIT_OK = 0, EXIT_POLICY = 1, EXIT_USAGE = 2, EXIT_TRUNCATED = 3, EXIT_INTERRUPTED = 4 };

/* How long a stream's reader waits for a record before the clock moves without one. */
#define STREAM_POLL_MS 100

static volatile sig_atomic_t stop_requested;
static tcpst_capture *volatile signal_cap; /* woken from the handler (live capture) */
/* -- COMMAND: the child, and what the handlers tell the read loop about it. */
static tcpst_child child;
static volatile sig_atomic_t command_running;   /* the child was started and not reaped */
static volatile sig_atomic_t command_signalled; /* a first SIGINT/SIGTERM went to it */
static volatile sig_atomic_t child_event;       /* SIGCHLD: poll the child */

static void wake(void)
{
    if (signal_cap) {
        tcpst_capture_interrupt(signal_cap);
    }
}

static void on_signal(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    if (command_running && !command_signalled && !stop_requested) {
        /* The first one is COMMAND's: it stops, and the capture ends after it as usual.  A
         * terminal's Ctrl-C (SI_KERNEL) reached it already, as the same process group. */
        command_signalled = 1;
        if (si == NULL || si->si_code != SI_KERNEL) {
            tcpst_child_signal(&child, sig);
        }
        wake();
        return;
    }
    if (command_running && !stop_requested) {
        tcpst_child_signal(&child, sig); /* the second: stop now, with the report */
    }
    if (stop_requested) {
        /* Second signal: the user wants out now, but without a temporary report left. */
        tcpst_outfile_panic();
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_requested = 1;
    wake();
}

static void on_sigchld(int sig)
{
    (void)sig;
    child_event = 1;
    wake();
}

/* The reader of a streamed report went away (`| head`): stop as for SIGINT so
 * the -w file is completed, but never die of it. */
/* A reader of our output went away (`tcpstate ... | head`): stop, and at the end die of
 * SIGPIPE quietly, as Unix filters do (status 141 in a shell), instead of an error. */
static volatile sig_atomic_t pipe_broken;
static bool die_of_sigpipe;

static void on_sigpipe(int sig)
{
    (void)sig;
    pipe_broken = 1;
    stop_requested = 1;
    if (signal_cap) {
        tcpst_capture_interrupt(signal_cap);
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_flags = 0;
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
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
    if (pipe_broken && err->code == TCPST_EWRITE) {
        die_of_sigpipe = true; /* the write that failed is the one the reader left */
        return EXIT_USAGE;
    }
    fprintf(stderr, "tcpstate: %s\n", err->msg);
    return EXIT_USAGE;
}

/* Everything a run holds; zeroed, then set up piece by piece and released by cleanup(). */
typedef struct run {
    tcpst_options opt;
    tcpst_error err;
    tcpst_capture *cap;
    tcpst_report *rep;
    tcpst_junit junit;
    tcpst_engine eng;
    bool eng_ready;
    tcpst_input_info *inputs;
    const char *stop;     /* why reading stopped */
    bool live_stream;     /* a pipe or FIFO that carries a capture as it is made */
    tcpst_hostsock *host; /* live: the host's sockets and their owners */
    /* -w with --connection: the chosen records' packets only.  By id or 4-tuple they are
     * chosen as they come (pick_now); by finding only once the records end, so the inputs
     * are read a second time for the -w file (pick_later, with the ids chosen). */
    bool pick_now, pick_later;
    uint64_t *chosen;
    size_t nchosen, capchosen;
    tcpst_time dump_end;
    tcpst_progress progress; /* a long offline run's line on a terminal */
    tcpst_time grace_end;    /* -- COMMAND: when the capture stops (monotonic; 0: running) */
} run;

/* The capture (files or live), privileges, and the -w copy. */
static int open_capture(run *r)
{
    tcpst_options *o = &r->opt;
    /* The capture reads what the decoder can decode, and only that. */
    int rc = o->live ? tcpst_capture_open_live(&r->cap, &o->live_cfg, o->filter,
                                               tcpst_decode_linktype_supported, &r->err)
                     : tcpst_capture_open(&r->cap, o->files, o->nfiles, o->filter,
                                          tcpst_decode_linktype_supported, &r->err);
    if (rc == 0 && o->live && !o->quiet) {
        fprintf(stderr, "tcpstate: %s\n", tcpst_cli_banner(o, tcpst_capture_input(r->cap, 0)));
    }
    if (rc == 0 && tcpst_capture_warning(r->cap)) {
        fprintf(stderr, "tcpstate: warning: %s\n", tcpst_capture_warning(r->cap));
    }
    /* Privileges go before any output file is created, as tcpdump -Z does. */
    if (rc == 0 && o->user) {
        rc = tcpst_privdrop(o->user, &r->err);
    }
    /* Files written only at the end are tried now: an unwritable --junit fails at once,
     * not after the analysis. */
    if (rc == 0 && o->junit) {
        rc = tcpst_outfile_check(o->junit, "JUnit report", &r->err);
    }
    r->pick_later = o->write_file && o->selection.n > 0 && !tcpst_selection_by_tuple(&o->selection);
    if (rc == 0 && r->pick_later) {
        rc = tcpst_outfile_check(o->write_file, "the packets", &r->err);
    }
    r->pick_now = o->write_file && o->selection.n > 0 && !r->pick_later;
    if (rc == 0 && o->write_file && !r->pick_later) {
        rc = tcpst_capture_dump_open(r->cap, o->write_file, &r->err);
        if (rc == 0 && r->pick_now) {
            tcpst_capture_dump_choose(r->cap);
        }
    }
    return rc;
}

/* --connection with -w by finding: the ids of the records chosen, for the second read. */
static void choose_record(void *ctx, const tcpst_conn *c)
{
    run *r = ctx;
    if (tcpst_selection_matches(&r->opt.selection, c) &&
        tcpst_grow(&r->chosen, &r->capchosen, r->nchosen, sizeof *r->chosen, 64)) {
        r->chosen[r->nchosen++] = c->id;
    }
}

/* Is the report going to a terminal (standard output, a tty)? */
static bool to_terminal(const char *output)
{
    return (!output || strcmp(output, "-") == 0) && isatty(STDOUT_FILENO);
}

/* The width the text formats fit: COLUMNS, else the terminal's, else 0 (their default). */
static unsigned terminal_columns(const char *output)
{
    const char *env = getenv("COLUMNS");
    long n = env ? strtol(env, NULL, 10) : 0;
    struct winsize ws;
    if (n <= 0 && to_terminal(output) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
        n = ws.ws_col;
    }
    return n > 0 && n < 10000 ? (unsigned)n : 0;
}

/* The report, the engine and what receives its records: policy, JUnit, report. */
static int open_analysis(run *r)
{
    tcpst_options *o = &r->opt;
    tcpst_junit_init(&r->junit, &o->policy);
    if (o->live) {
        /* Which process holds each local endpoint, and in which state the kernel has it. */
        if (tcpst_hostsock_new(&r->host, &r->err) != 0) {
            return TCPST_ENOMEM;
        }
        o->engine.host = tcpst_hostview_hook;
        o->engine.host_ctx = r->host;
    }
    tcpst_report_opts ropts = {.pretty = o->pretty,
                               .policy = &o->policy,
                               .which = o->connections,
                               .format = o->format,
                               .host = r->host,
                               .select = &o->selection,
                               .columns = terminal_columns(o->output),
                               .colour = to_terminal(o->output) && !getenv("NO_COLOR"),
                               .as_they_end = o->live,
                               .running = &r->eng.stats};
    if (tcpst_report_open(&r->rep, o->output, &ropts, &r->err) != 0) {
        return TCPST_EWRITE;
    }
    if (tcpst_engine_init(&r->eng, &o->engine, &r->err) != 0) {
        return TCPST_ENOMEM;
    }
    r->eng_ready = true;
    tcpst_receiver policy = tcpst_policy_receiver(&o->policy);
    tcpst_receiver junit = tcpst_junit_receiver(&r->junit);
    tcpst_receiver report = tcpst_report_receiver(r->rep);
    tcpst_receiver choose = {.record = choose_record, .ctx = r};
    if (tcpst_engine_add_receiver(&r->eng, &policy) != 0 ||
        (o->junit && tcpst_engine_add_receiver(&r->eng, &junit) != 0) ||
        (r->pick_later && tcpst_engine_add_receiver(&r->eng, &choose) != 0) ||
        tcpst_engine_add_receiver(&r->eng, &report) != 0) {
        return tcpst_error_set(&r->err, TCPST_EUSAGE, "too many receivers");
    }
    /* A second core reads ahead while this one analyses (capture files only: a pipe's
     * records must reach the analysis as they arrive). */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = o->threads ? o->threads : ncpu > 0 ? (unsigned)ncpu : 1;
    if (threads >= 2 && !o->live && !o->write_file) {
        /* It decodes too: the analysis thread is the busier one. */
        tcpst_capture_prep prep = {
            .fn = tcpst_engine_prep_fn, .ctx = &r->eng.cfg, .size = sizeof(tcpst_prepared)};
        tcpst_error rerr;
        (void)tcpst_capture_start_reader(r->cap, &prep, &rerr);
    }
    return 0;
}

/* NDJSON: a stats line every stats_interval of clock. */
static void maybe_stats(run *r, tcpst_time *next_stats)
{
    tcpst_engine *e = &r->eng;
    if (!e->clock_set || e->now < *next_stats) {
        return;
    }
    if (*next_stats != 0) {
        tcpst_engine_open open;
        tcpst_capture_counters cc;
        tcpst_engine_open_counts(e, &open);
        tcpst_capture_get_counters(r->cap, &cc);
        tcpst_report_stats(r->rep, e->now, &e->stats, &open, &cc);
        tcpst_capture_dump_flush(r->cap);
    }
    *next_stats = e->now + r->opt.stats_interval;
}

/* A stream of packets stamped as they arrive (`tcpdump -U -w - | tcpstate -`) is a live
 * capture; `cat old.pcap | tcpstate -` is not.  The first packet's time against the clock
 * tells them apart (docs/capture-end.md); --capture-end overrides. */
#define LIVE_STREAM_SKEW (10 * TCPST_NS_PER_SEC)
static bool is_live_stream(const run *r, const tcpst_pkt *first)
{
    if (r->opt.live || !tcpst_capture_input(r->cap, first->input)->stream) {
        return false;
    }
    tcpst_time skew = clock_ns(CLOCK_REALTIME) - first->ts;
    return skew > -LIVE_STREAM_SKEW && skew < LIVE_STREAM_SKEW;
}

/* -- COMMAND: has the run ended?  Once COMMAND exited, the capture goes on for --grace so
 * that its last FINs and RSTs arrive; a signal after that ends the wait. */
static bool command_done(run *r)
{
    if (child_event) {
        child_event = 0;
        if (tcpst_child_poll(&child) && r->grace_end == 0) {
            command_running = 0;
            r->grace_end = clock_ns(CLOCK_MONOTONIC) + r->opt.grace;
        }
    }
    if (r->grace_end == 0) {
        return false;
    }
    return clock_ns(CLOCK_MONOTONIC) >= r->grace_end;
}

static void feed(run *r, const tcpst_pkt *pkt)
{
    if (r->pick_now) {
        /* -w of the records chosen by id or 4-tuple: known as each segment arrives. */
        uint64_t tcp = r->eng.stats.tcp;
        tcpst_engine_packet(&r->eng, pkt->linktype, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts,
                            pkt->frame);
        if (r->eng.stats.tcp != tcp && r->eng.last_conn &&
            tcpst_selection_matches(&r->opt.selection, r->eng.last_conn)) {
            tcpst_capture_dump_current(r->cap);
        }
        return;
    }
    if (pkt->prep != NULL) {
        tcpst_engine_prepared(&r->eng, pkt->prep, pkt->data, pkt->caplen, pkt->ts, pkt->frame);
    } else {
        tcpst_engine_packet(&r->eng, pkt->linktype, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts,
                            pkt->frame);
    }
}

/* A live capture stopped by time or a signal: the packets of its last block, which the
 * kernel hands over TCPST_LIVE_BLOCK_MS after they came, belong to the run too. */
static void drain_live(run *r)
{
    tcpst_time until = clock_ns(CLOCK_MONOTONIC) + 2 * TCPST_LIVE_BLOCK_MS * 1000 * 1000;
    tcpst_pkt pkt;
    while (clock_ns(CLOCK_MONOTONIC) < until) {
        int got = tcpst_capture_next(r->cap, &pkt);
        if (got == 0) {
            break;
        }
        if (got == 1) {
            feed(r, &pkt);
        }
    }
}

/* Read until the input ends or a stop condition (signal, --count, --duration, the end of
 * COMMAND) holds. */
static void read_loop(run *r)
{
    const tcpst_options *o = &r->opt;
    bool stats_due = tcpst_report_format_streams(o->format) && o->stats_interval > 0;
    tcpst_time started = clock_ns(CLOCK_MONOTONIC);
    tcpst_time first_ts = 0, next_stats = 0;
    bool have_first = false, start_stream = false;
    uint64_t seen = 0;
    tcpst_pkt pkt;
    r->stop = "end_of_input";
    tcpst_progress_start(&r->progress, o->files, o->nfiles,
                         !o->live && !o->quiet && isatty(STDERR_FILENO));
    for (;;) {
        if (stop_requested) {
            r->stop = "signal";
            break;
        }
        if (o->command && command_done(r)) {
            r->stop = "command_exited";
            break;
        }
        if (o->count && seen >= o->count) {
            r->stop = "count";
            break;
        }
        if (o->duration && o->live && clock_ns(CLOCK_MONOTONIC) - started >= o->duration) {
            r->stop = "duration";
            break;
        }
        int got = tcpst_capture_next(r->cap, &pkt);
        if (got == 0) {
            break;
        }
        if (got == 1) {
            if (!have_first) {
                first_ts = pkt.ts;
                have_first = true;
                r->live_stream = is_live_stream(r, &pkt);
                start_stream = r->live_stream;
            }
            if (o->duration && !o->live && pkt.ts - first_ts >= o->duration) {
                r->stop = "duration";
                break;
            }
            seen++;
            feed(r, &pkt);
            tcpst_progress_packet(&r->progress, &pkt, r->eng.stats.connections);
            /* A live stream's silence must still move the clock: from its second packet on
             * a thread reads it and the loop gets idle turns (docs/capture-end.md).  Only
             * now: the thread's reads reuse the buffer the first packet was in. */
            if (start_stream) {
                start_stream = false;
                if (tcpst_capture_start_stream(r->cap, STREAM_POLL_MS, &r->err) != 0) {
                    fprintf(stderr, "tcpstate: warning: %s; a silent stream stops the clock\n",
                            r->err.msg);
                }
            }
        } else if (o->live || r->live_stream) {
            /* Idle live capture or stream: the wall clock drives timers and stuck states. */
            tcpst_engine_advance(&r->eng, clock_ns(CLOCK_REALTIME) + r->eng.ts_offset);
        }
        if (stats_due) {
            maybe_stats(r, &next_stats);
        }
    }
    tcpst_progress_end(&r->progress);
    if (o->live && strcmp(r->stop, "count") != 0 && strcmp(r->stop, "end_of_input") != 0) {
        drain_live(r);
    }
}

/* Say which inputs could not be read (EXIT_USAGE) or were cut short (a warning, and
 * EXIT_TRUNCATED), and keep a copy of their facts for the report. */
static int check_inputs(run *r, size_t *n, bool *truncated)
{
    int status = EXIT_OK;
    *truncated = false;
    *n = tcpst_capture_ninputs(r->cap);
    r->inputs = calloc(*n, sizeof *r->inputs);
    for (size_t i = 0; i < *n; i++) {
        const tcpst_input_info *in = tcpst_capture_input(r->cap, i);
        if (r->inputs) {
            r->inputs[i] = *in;
        }
        const char *shown = tcpst_capture_shown_name(in->name);
        if (in->truncated && in->packets == 0) {
            /* Not one packet could be read: the input is unreadable, not damaged. */
            fprintf(stderr, "tcpstate: %s: %s\n", shown, in->error);
            status = EXIT_USAGE;
        } else if (in->truncated) {
            /* Everything before the damage was analysed; say so, but it is a result. */
            fprintf(stderr, "tcpstate: warning: %s: %s\n", shown, in->error);
            *truncated = true;
        }
    }
    if (!r->inputs) {
        *n = 0;
    }
    return status;
}

/* Packets the capture lost: libpcap's counters live, else the pcapng files' ISBs. */
static void capture_drops(run *r, tcpst_report_meta *m, size_t n)
{
    if (m->counters.valid) {
        m->drops_known = true;
        m->dropped = m->counters.dropped + m->counters.if_dropped;
        m->drops_source = "live";
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const tcpst_input_info *in = &r->inputs[i];
        if (in->has_ifdrop || in->has_osdrop) {
            m->drops_known = true;
            m->dropped += in->if_dropped + in->os_dropped;
            m->drops_source = "pcapng-isb";
        }
    }
}

/* The end of the capture: the last records, the reports and the verdict. */
static int finish_run(run *r)
{
    const tcpst_options *o = &r->opt;
    size_t n;
    bool truncated;
    int status = check_inputs(r, &n, &truncated);
    tcpst_report_meta meta = {
        .inputs = r->inputs,
        .n_inputs = n,
        .filter = o->filter,
        .filtered = tcpst_capture_filtered(r->cap),
        .interrupted = stop_requested != 0 || command_signalled,
        .stop = r->stop,
        .interface = o->live ? o->live_cfg.iface : NULL,
        .time_wait = o->engine.conn.time_wait,
        .truncated = truncated,
        .host = r->host,
        .command = o->command,
        .command_status = o->command && child.exited ? tcpst_child_status(&child) : -1,
    };
    tcpst_capture_get_counters(r->cap, &meta.counters);
    capture_drops(r, &meta, n);
    /* Stuck states, idle times and open-at-end states are measured to the end of the
     * capture, not to its last packet. */
    tcpst_capture_end end = {0};
    if (status == EXIT_OK &&
        tcpst_capture_end_of(r->cap, o->end_given, o->end_at, o->end_text, r->live_stream,
                             clock_ns(CLOCK_REALTIME), &end, &r->err) != 0) {
        fprintf(stderr, "tcpstate: %s\n", r->err.msg);
        status = EXIT_USAGE;
    }
    tcpst_report *rep = r->rep;
    r->rep = NULL; /* finished or discarded here, either way freed */
    signal_cap = NULL;
    if (status != EXIT_OK) {
        tcpst_report_discard(rep);
        return status;
    }
    if (end.known) {
        /* On the engine's clock, shifted past any step back its timestamps took: the last
         * packet is where that clock stands, a time after it counts from there. */
        tcpst_time at = end.end + r->eng.ts_offset;
        if (r->eng.ts_offset != 0 && strcmp(end.source, "last-packet") == 0) {
            at = r->eng.now;
        } else if (r->eng.ts_offset != 0 && o->end_given == TCPST_ENDG_AFTER_LAST) {
            at = r->eng.now + o->end_at;
        }
        tcpst_engine_advance(&r->eng, at);
    }
    if (r->host) {
        /* The kernel's own view at the end of the run, which the records are judged by. */
        (void)tcpst_hostsock_refresh(r->host);
    }
    r->eng.end_undecidable =
        (uint8_t)(meta.drops_known && meta.dropped > 0 ? TCPST_UNDEC_PACKETS_DROPPED
                  : truncated                          ? TCPST_UNDEC_INPUT_TRUNCATED
                                                       : TCPST_UNDEC_NONE);
    tcpst_engine_finish(&r->eng);
    /* The -w file records the end this run used, so that it gives the same verdict. */
    r->dump_end = end.known ? end.end : 0;
    if (o->write_file && !r->pick_later &&
        tcpst_capture_dump_finish(r->cap, end.known ? end.end : 0) != 0) {
        if (pipe_broken) {
            die_of_sigpipe = true;
        } else {
            fprintf(stderr, "tcpstate: %s: cannot write the packets\n", o->write_file);
        }
    }
    if (o->write_file && tcpst_capture_dump_skipped(r->cap) > 0) {
        fprintf(stderr,
                "tcpstate: warning: %s: %" PRIu64 " packets of other link types were not saved "
                "(a pcap file holds one; name it .pcapng to keep them all)\n",
                o->write_file, tcpst_capture_dump_skipped(r->cap));
    }
    tcpst_summary_result capture;
    tcpst_engine_summary(&r->eng, &capture);
    if (capture.clock_steps_back > 0) {
        char step[32];
        snprintf(step, sizeof step, "%.6f", (double)capture.largest_step_back / 1e9);
        fprintf(stderr,
                "tcpstate: warning: the capture's timestamps step back %" PRIu64 " time(s), "
                "by up to %s s; later times are shifted forward so that durations stay "
                "true\n",
                capture.clock_steps_back, step);
    }
    if (capture.snapped_headers > 0) {
        /* Counted in the report too, but these segments were not analysed at all. */
        fprintf(stderr,
                "tcpstate: warning: %" PRIu64 " of %" PRIu64 " frames were cut by the snap "
                "length inside their headers and not analysed (capture with -s 128 or more)\n",
                capture.snapped_headers, capture.frames);
    }
    meta.capture = &capture;
    meta.end = &end;
    if (tcpst_report_finish(rep, &r->eng.stats, &meta, &r->err) != 0) {
        return fail(&r->err);
    }
    if (r->eng.stats.evicted_established > 0) {
        /* Counted in the report too, but a split connection changes results: say so. */
        fprintf(stderr,
                "tcpstate: warning: %" PRIu64 " established connections were evicted before "
                "they ended (table full at --max-connections %" PRIu32 "); their later "
                "segments started new records\n",
                r->eng.stats.evicted_established, o->engine.max_connections);
    }
    if (o->junit && tcpst_junit_write(&r->junit, o->junit, &r->err) != 0) {
        return fail(&r->err);
    }
    if (o->policy.n > 0) {
        /* The text table ends with the verdict: on one terminal it is said once. */
        bool shown = o->format && strcmp(o->format, "text") == 0 && to_terminal(o->output) &&
                     isatty(STDERR_FILENO);
        if (!shown) {
            print_verdict(&o->policy);
        }
        if (tcpst_policy_failed(&o->policy)) {
            return EXIT_POLICY;
        }
    }
    if (stop_requested && !o->live && !r->live_stream) {
        return EXIT_INTERRUPTED;
    }
    return truncated && !o->allow_truncated ? EXIT_TRUNCATED : EXIT_OK;
}

/* -- COMMAND: start it now that the capture receives (its first SYN is captured). */
static int start_command(run *r, int *status)
{
    if (tcpst_child_start(&child, r->opt.command, r->opt.run_as, &r->err) != 0) {
        fprintf(stderr, "tcpstate: %s\n", r->err.msg);
        *status = child.exited ? tcpst_child_status(&child) : EXIT_USAGE;
        return -1;
    }
    command_running = 1;
    child_event = 1; /* it may have exited before the handler could tell */
    return 0;
}

/* The capture stopped with COMMAND still running (a second signal, --duration, --count): it
 * is stopped too, SIGTERM then SIGKILL, so that nothing outlives the run. */
static void end_command(run *r)
{
    if (!r->opt.command || tcpst_child_poll(&child)) {
        command_running = 0;
        return;
    }
    tcpst_child_signal(&child, SIGTERM);
    for (int i = 0; i < 200 && !tcpst_child_poll(&child); i++) {
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    if (!tcpst_child_poll(&child)) {
        tcpst_child_signal(&child, SIGKILL);
        while (waitpid(child.pid, &child.wstatus, 0) < 0 && errno == EINTR) {
        }
        child.exited = true;
    }
    command_running = 0;
}

static int by_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * -w with --connection by finding: the inputs again, through an engine of the same
 * configuration (so the same records, ids and frames), writing the packets of the chosen
 * records.  The end of the capture is the first read's.
 */
static int write_chosen(run *r)
{
    tcpst_options *o = &r->opt;
    tcpst_capture *cap = NULL;
    static tcpst_engine eng; /* static: large */
    tcpst_engine_config cfg = o->engine;
    cfg.host = NULL;
    int rc = tcpst_capture_open(&cap, o->files, o->nfiles, o->filter,
                                tcpst_decode_linktype_supported, &r->err);
    if (rc == 0) {
        rc = tcpst_capture_dump_open(cap, o->write_file, &r->err);
    }
    if (rc == 0 && tcpst_engine_init(&eng, &cfg, &r->err) != 0) {
        rc = TCPST_ENOMEM;
    } else if (rc == 0) {
        tcpst_capture_dump_choose(cap);
        qsort(r->chosen, r->nchosen, sizeof *r->chosen, by_u64);
        tcpst_pkt pkt;
        int got;
        while (!stop_requested && (got = tcpst_capture_next(cap, &pkt)) != 0) {
            uint64_t tcp = eng.stats.tcp;
            if (got != 1) {
                continue;
            }
            tcpst_engine_packet(&eng, pkt.linktype, pkt.data, pkt.caplen, pkt.wirelen, pkt.ts,
                                pkt.frame);
            if (eng.stats.tcp != tcp && eng.last_conn && r->nchosen &&
                bsearch(&eng.last_conn->id, r->chosen, r->nchosen, sizeof *r->chosen, by_u64)) {
                tcpst_capture_dump_current(cap);
            }
        }
        tcpst_engine_fini(&eng);
        if (tcpst_capture_dump_finish(cap, r->dump_end) != 0) {
            rc = tcpst_error_set(&r->err, TCPST_EWRITE, "%s: cannot write the packets",
                                 o->write_file);
        }
    }
    tcpst_capture_close(cap);
    return rc;
}

static void cleanup(run *r)
{
    tcpst_report_discard(r->rep);
    free(r->inputs);
    free(r->chosen);
    if (r->eng_ready) {
        tcpst_engine_fini(&r->eng);
    }
    tcpst_junit_fini(&r->junit);
    tcpst_capture_close(r->cap);
    tcpst_hostsock_free(r->host);
    tcpst_cli_free(&r->opt);
}

int main(int argc, char **argv)
{
    static run r; /* static: zeroed, and large */
    int status = EXIT_OK;
    if (tcpst_cli_parse(argc, argv, &r.opt, &r.err) != 0) {
        status = fail(&r.err);
        goto out;
    }
    if (r.opt.help) {
        fputs(tcpst_cli_usage(), stdout);
        goto out;
    }
    if (r.opt.version) {
        fputs(tcpst_cli_version(), stdout);
        goto out;
    }
    if (r.opt.list_anomalies || r.opt.explain) {
        bool json = r.opt.format && strcmp(r.opt.format, "json") == 0;
        if ((r.opt.explain ? tcpst_report_explain(stdout, r.opt.explain, &r.err)
                           : tcpst_report_catalogue(stdout, json, &r.err)) != 0) {
            status = fail(&r.err);
        }
        goto out;
    }
    if (r.opt.list_interfaces) {
        if (tcpst_capture_list_interfaces(stdout, tcpst_decode_linktype_supported, &r.err) != 0) {
            status = fail(&r.err);
        }
        goto out;
    }
    /* Before anything is created: a signal during setup must still find the temporary
     * report to remove (a second one) or stop the run (the first). */
    install_signals();
    if (open_capture(&r) != 0 || open_analysis(&r) != 0) {
        status = fail(&r.err);
        goto out;
    }
    signal_cap = r.cap;
    if (stop_requested) {
        tcpst_capture_interrupt(r.cap); /* it came while the capture was being opened */
    }
    if (r.opt.command && start_command(&r, &status) != 0) {
        goto out;
    }
    read_loop(&r);
    end_command(&r);
    status = finish_run(&r);
    if (r.pick_later && status != EXIT_USAGE && write_chosen(&r) != 0) {
        status = fail(&r.err);
    }
    if (r.opt.command && child.exited && tcpst_child_status(&child) != 0) {
        status = tcpst_child_status(&child); /* a failing test suite stays failed */
    }
out:
    cleanup(&r);
    if (die_of_sigpipe) { /* SIGPIPE is never blocked on this thread (threads block it) */
        fflush(stderr);
        signal(SIGPIPE, SIG_DFL);
        raise(SIGPIPE);
    }
    return status;
}
