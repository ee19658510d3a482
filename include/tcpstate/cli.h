/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.h - command line -> validated options.  Pure: no I/O, no exit; the
 * caller prints help, version and errors.
 */
#ifndef TCPSTATE_CLI_H
#define TCPSTATE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "tcpstate/capture.h"
#include "tcpstate/engine.h"
#include "tcpstate/error.h"
#include "tcpstate/policy.h"
#include "tcpstate/report.h"
#include "tcpstate/select.h"

typedef struct tcpst_options {
    const char **files; /* borrowed from argv */
    size_t nfiles;
    const char *filter;
    const char *output; /* NULL = stdout */
    const char *junit;  /* --junit FILE, or NULL */
    bool pretty;
    const char *format;      /* --format: a report format name; NULL: json */
    tcpst_conns connections; /* --connections: the records listed */
    bool help, version;
    bool numeric;        /* -n: accepted for tcpdump's habit; nothing is resolved anyway */
    bool list_anomalies; /* --list-anomalies (with --format json: as JSON) */
    bool quiet;          /* -q: no banner on stderr */
    const char *explain; /* --explain ID */
    /* Live capture (-i) and stop conditions. */
    bool live;            /* -i given: live.iface set, no files */
    bool list_interfaces; /* -D */
    tcpst_live_config live_cfg;
    tcpst_time duration;       /* --duration; 0 = none */
    uint64_t count;            /* --count packets; 0 = none */
    tcpst_time stats_interval; /* --stats-interval (ndjson); 0 = off */
    const char *write_file;    /* -w FILE */
    const char *user;          /* -Z USER */
    unsigned threads;          /* --threads; 0 = the number of online CPUs */
    tcpst_end_given end_given; /* --capture-end (capture.h) */
    tcpst_time end_at;         /* with TCPST_ENDG_AT (a time) or _AFTER_LAST (a duration) */
    const char *end_text;      /* --capture-end as given, for messages */
    bool allow_truncated;      /* --allow-truncated: a damaged input is not a failure */
    /* -i IFACE -- COMMAND [ARGS...] (docs/ci.md): argv after "--", NULL-terminated and
     * borrowed; NULL when there is no command. */
    char **command;
    tcpst_time grace; /* --grace: capture on this long after COMMAND exited */
    bool grace_given;
    const char *run_as; /* --run-as USER: whom COMMAND runs as (default: the sudo user) */
    tcpst_engine_config engine;
    tcpst_policy policy;       /* --fail-on rules (owned) */
    tcpst_selection selection; /* --connection selectors (owned) */
} tcpst_options;

/* Parse argv.  Returns 0, or TCPST_EUSAGE with err->msg set.  `files` is malloc'd. */
__attribute__((warn_unused_result)) int tcpst_cli_parse(int argc, char **argv, tcpst_options *o,
                                                        tcpst_error *err);
void tcpst_cli_free(tcpst_options *o);

/* The --help text. */
const char *tcpst_cli_usage(void);
/* --version's text: tcpstate's version, then libpcap's, jansson's and zlib's. */
const char *tcpst_cli_version(void);
/* tcpdump's banner for a live capture on its first input (no newline; static). */
const char *tcpst_cli_banner(const tcpst_options *o, const tcpst_input_info *in);

#endif
