/*
 * cli.c - option parsing with getopt_long; every value is range-checked here
 * so the engine never sees a nonsensical setting.
 */
#include "tcpstate/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_PRETTY = 256,
    OPT_MAX_CONNS,
    OPT_TIME_WAIT,
    OPT_TO_HANDSHAKE,
    OPT_TO_ACTIVE,
    OPT_TO_CLOSED,
    OPT_SPLIT,
    OPT_STUCK,
    OPT_VERIFY,
    OPT_FAIL_ON,
    OPT_FORMAT,
    OPT_JUNIT,
    OPT_POLICY,
    OPT_CONNECTIONS
};

static const struct option longopts[] = {
    {"filter", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"pretty", no_argument, NULL, OPT_PRETTY},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNS},
    {"time-wait", required_argument, NULL, OPT_TIME_WAIT},
    {"timeout-handshake", required_argument, NULL, OPT_TO_HANDSHAKE},
    {"timeout-active", required_argument, NULL, OPT_TO_ACTIVE},
    {"timeout-closed", required_argument, NULL, OPT_TO_CLOSED},
    {"split", required_argument, NULL, OPT_SPLIT},
    {"stuck-after", required_argument, NULL, OPT_STUCK},
    {"verify-checksums", no_argument, NULL, OPT_VERIFY},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

const char *tcpst_cli_usage(void)
{
    return "Usage: tcpstate [OPTIONS] FILE...\n"
           "Infer the RFC 9293 state of both endpoints of every TCP connection in\n"
           "pcap/pcapng captures and write a JSON report. FILE '-' reads standard input;\n"
           "several files are merged in timestamp order as one capture.\n"
           "\n"
           "Options:\n"
           "  -f, --filter EXPR          BPF filter, as tcpdump takes it\n"
           "  -o, --output FILE          write the report to FILE atomically (default: stdout)\n"
           "      --pretty               indent the JSON\n"
           "      --format json|text     JSON report (default) or a table for people\n"
           "      --connections WHICH    records listed: all (default), anomalous (a finding\n"
           "                             of severity warning or error) or none; summary,\n"
           "                             stats and verdict always count every connection\n"
           "      --max-connections N    connections tracked at once (default 262144);\n"
           "                             beyond it the least recently seen is written out\n"
           "      --time-wait SECONDS    TIME_WAIT duration, 2*MSL (default 60, as Linux)\n"
           "      --timeout-handshake S  idle time before an unfinished handshake is\n"
           "                             written out (default 300)\n"
           "      --timeout-active S     idle time before an open connection is written\n"
           "                             out (default 3600)\n"
           "      --timeout-closed S     how long a terminated connection is kept for late\n"
           "                             segments (default 60)\n"
           "      --stuck-after SPEC     how long a state may last before it is reported as\n"
           "                             stuck: SECONDS for all, or state=SECONDS,... e.g.\n"
           "                             close_wait=60,syn_sent=5 (defaults: 30; 3 for\n"
           "                             syn_sent/syn_received; zero_window=30 for stalls)\n"
           "      --verify-checksums     check IPv4 and TCP checksums; bad segments are\n"
           "                             reported (bad_checksum) and ignored, as the receiver\n"
           "                             would (off by default: offloading breaks them)\n"
           "      --split rfc|zeek       where one connection record ends and the next\n"
           "                             begins on the same 4-tuple: RFC 9293 (default),\n"
           "                             or exactly as Zeek's conn.log rows\n"
           "      --fail-on LIST         exit 1 when findings match: anomaly ids and/or\n"
           "                             severity>=info|warning|error, each with an optional\n"
           "                             minimum count, e.g. close_wait_stuck,\n"
           "                             retransmission>=3,severity>=error (repeatable)\n"
           "      --policy FILE          rules scoped by port/address from a JSON file\n"
           "                             (docs/ci.md); violations exit 1 like --fail-on\n"
           "      --junit FILE           also write JUnit XML: a testsuite per rule,\n"
           "                             a testcase per connection\n"
           "  -h, --help                 show this help\n"
           "  -V, --version              show the version\n"
           "\n"
           "Exit status: 0 success (and every --fail-on rule passed), 1 a --fail-on rule\n"
           "was violated, 2 usage error, unreadable input or unwritable report.\n"
           "Documentation: docs/ in the source tree.\n";
}

static int parse_seconds(const char *opt, const char *s, tcpst_time *out, tcpst_error *err);

/*
 * --stuck-after SPEC: "SECONDS" sets every state (and the zero-window stall);
 * "state=SECONDS[,state=SECONDS...]" sets one state, e.g. close_wait=60.
 */
static int parse_stuck(const char *spec, tcpst_engine_config *cfg, tcpst_error *err)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--stuck-after: value too long");
    }
    strcpy(buf, spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        tcpst_time v;
        if (!eq) {
            if (parse_seconds("--stuck-after", item, &v, err)) {
                return TCPST_EUSAGE;
            }
            for (int s = 0; s < TCPST_STATE__COUNT; s++) {
                cfg->conn.stuck_after[s] = v;
            }
            cfg->conn.xfer.zero_window_stall = v;
            continue;
        }
        *eq = '\0';
        if (parse_seconds("--stuck-after", eq + 1, &v, err)) {
            return TCPST_EUSAGE;
        }
        char upper[64];
        size_t n = strlen(item);
        for (size_t i = 0; i <= n && i < sizeof upper; i++) {
            upper[i] = (char)(item[i] >= 'a' && item[i] <= 'z' ? item[i] - 32 : item[i]);
        }
        upper[sizeof upper - 1] = '\0';
        int st = tcpst_state_parse(upper);
        if (strcmp(item, "zero_window") == 0) {
            cfg->conn.xfer.zero_window_stall = v;
        } else if (st < 0 || st == TCPST_CLOSED || st == TCPST_LISTEN || st == TCPST_TIME_WAIT) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "--stuck-after: unknown state '%s' (use e.g. close_wait, "
                                   "fin_wait_1, fin_wait_2, last_ack, syn_sent, syn_received, "
                                   "established, zero_window)",
                                   item);
        } else {
            cfg->conn.stuck_after[st] = v;
        }
    }
    return 0;
}

static int parse_seconds(const char *opt, const char *s, tcpst_time *out, tcpst_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e9) {
        return tcpst_error_set(err, TCPST_EUSAGE, "%s: invalid number of seconds '%s'", opt, s);
    }
    *out = (tcpst_time)(v * 1e9);
    return 0;
}

int tcpst_cli_parse(int argc, char **argv, tcpst_options *o, tcpst_error *err)
{
    memset(o, 0, sizeof *o);
    tcpst_engine_config_default(&o->engine);
    tcpst_policy_init(&o->policy);
    optind = 1;
    opterr = 0;
    int ch, rc = 0;
    while (rc == 0 && (ch = getopt_long(argc, argv, ":f:o:hV", longopts, NULL)) != -1) {
        switch (ch) {
            case 'f':
                o->filter = optarg;
                break;
            case 'o':
                o->output = optarg;
                break;
            case OPT_PRETTY:
                o->pretty = true;
                break;
            case OPT_MAX_CONNS: {
                char *end;
                errno = 0;
                unsigned long v = strtoul(optarg, &end, 10);
                if (errno || end == optarg || *end || v < 1 || v > TCPST_MAX_MAX_CONNECTIONS ||
                    optarg[0] == '-') {
                    rc = tcpst_error_set(err, TCPST_EUSAGE,
                                         "--max-connections: expected 1..%u, got '%s'",
                                         TCPST_MAX_MAX_CONNECTIONS, optarg);
                }
                o->engine.max_connections = (uint32_t)v;
                break;
            }
            case OPT_TIME_WAIT:
                rc = parse_seconds("--time-wait", optarg, &o->engine.conn.time_wait, err);
                break;
            case OPT_TO_HANDSHAKE:
                rc = parse_seconds("--timeout-handshake", optarg,
                                   &o->engine.timeout[TCPST_LRU_HANDSHAKE], err);
                break;
            case OPT_TO_ACTIVE:
                rc = parse_seconds("--timeout-active", optarg, &o->engine.timeout[TCPST_LRU_ACTIVE],
                                   err);
                break;
            case OPT_TO_CLOSED:
                rc = parse_seconds("--timeout-closed", optarg, &o->engine.timeout[TCPST_LRU_CLOSED],
                                   err);
                break;
            case OPT_CONNECTIONS:
                if (strcmp(optarg, "all") == 0) {
                    o->connections = 0;
                } else if (strcmp(optarg, "anomalous") == 0) {
                    o->connections = 1;
                } else if (strcmp(optarg, "none") == 0) {
                    o->connections = 2;
                } else {
                    rc = tcpst_error_set(err, TCPST_EUSAGE,
                                         "--connections: expected all, anomalous or none, got '%s'",
                                         optarg);
                }
                break;
            case OPT_POLICY:
                rc = tcpst_policy_load(&o->policy, optarg, err);
                break;
            case OPT_JUNIT:
                o->junit = optarg;
                break;
            case OPT_FORMAT:
                if (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0) {
                    o->text = optarg[0] == 't';
                } else {
                    rc = tcpst_error_set(err, TCPST_EUSAGE,
                                         "--format: expected 'json' or 'text', got '%s'", optarg);
                }
                break;
            case OPT_FAIL_ON:
                rc = tcpst_policy_add_fail_on(&o->policy, optarg, err);
                break;
            case OPT_VERIFY:
                o->engine.verify_checksums = true;
                break;
            case OPT_STUCK:
                rc = parse_stuck(optarg, &o->engine, err);
                break;
            case OPT_SPLIT:
                if (strcmp(optarg, "zeek") == 0 || strcmp(optarg, "rfc") == 0) {
                    o->engine.split_zeek = optarg[0] == 'z';
                } else {
                    rc = tcpst_error_set(err, TCPST_EUSAGE,
                                         "--split: expected 'rfc' or 'zeek', got '%s'", optarg);
                }
                break;
            case 'h':
                o->help = true;
                break;
            case 'V':
                o->version = true;
                break;
            case ':':
                rc = tcpst_error_set(err, TCPST_EUSAGE, "option '%s' needs a value",
                                     argv[optind - 1]);
                break;
            default:
                rc = tcpst_error_set(err, TCPST_EUSAGE, "unknown option '%s'", argv[optind - 1]);
                break;
        }
    }
    if (rc) {
        return rc;
    }
    if (o->help || o->version) {
        return 0;
    }
    if (optind >= argc) {
        return tcpst_error_set(err, TCPST_EUSAGE, "no capture file given (try --help)");
    }
    o->nfiles = (size_t)(argc - optind);
    o->files = calloc(o->nfiles, sizeof *o->files);
    if (!o->files) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < o->nfiles; i++) {
        o->files[i] = argv[optind + (int)i];
    }
    return 0;
}

void tcpst_cli_free(tcpst_options *o)
{
    free(o->files);
    o->files = NULL;
    tcpst_policy_fini(&o->policy);
}
