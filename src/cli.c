/*
 * cli.c - option parsing with getopt_long; every value is range-checked here
 * so the engine never sees a nonsensical setting.
 */
#include "tcpstate/cli.h"

#include "tcpstate/limits.h"
#include "tcpstate/report.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_PRETTY = 256,
    OPT_MAX_CONNS,
    OPT_MEMORY,
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
    OPT_CONNECTIONS,
    OPT_DURATION,
    OPT_STATS_INTERVAL,
    OPT_VXLAN_PORT,
    OPT_GENEVE_PORT,
    OPT_GTPU_PORT,
    OPT_TEREDO_PORT,
    OPT_AYIYA_PORT,
    OPT_GRE_UDP_PORT,
    OPT_NO_TUNNELS,
    OPT_IGNORE_ENCAP_KEY,
    OPT_NO_REASSEMBLY,
    OPT_THREADS
};

static const struct option longopts[] = {
    {"filter", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"pretty", no_argument, NULL, OPT_PRETTY},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNS},
    {"memory", required_argument, NULL, OPT_MEMORY},
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
    {"interface", required_argument, NULL, 'i'},
    {"list-interfaces", no_argument, NULL, 'D'},
    {"snaplen", required_argument, NULL, 's'},
    {"buffer-size", required_argument, NULL, 'B'},
    {"no-promiscuous-mode", no_argument, NULL, 'p'},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"count", required_argument, NULL, 'c'},
    {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
    {"write", required_argument, NULL, 'w'},
    {"relinquish-privileges", required_argument, NULL, 'Z'},
    {"vxlan-port", required_argument, NULL, OPT_VXLAN_PORT},
    {"geneve-port", required_argument, NULL, OPT_GENEVE_PORT},
    {"gtpu-port", required_argument, NULL, OPT_GTPU_PORT},
    {"teredo-port", required_argument, NULL, OPT_TEREDO_PORT},
    {"ayiya-port", required_argument, NULL, OPT_AYIYA_PORT},
    {"gre-udp-port", required_argument, NULL, OPT_GRE_UDP_PORT},
    {"no-tunnels", no_argument, NULL, OPT_NO_TUNNELS},
    {"ignore-encap-key", no_argument, NULL, OPT_IGNORE_ENCAP_KEY},
    {"no-reassembly", no_argument, NULL, OPT_NO_REASSEMBLY},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

/* Split in parts: ISO C caps one string literal at 4095 characters. */
static const char *const usage_parts[] = {
    "Usage: tcpstate [OPTIONS] FILE...\n"
    "       tcpstate [OPTIONS] -i INTERFACE\n"
    "Infer the RFC 9293 state of both endpoints of every TCP connection in\n"
    "pcap/pcapng captures, or live on an interface, and write a JSON report.\n"
    "FILE '-' reads standard input; several files are merged in timestamp order\n"
    "as one capture.\n"
    "\n"
    "Options:\n"
    "  -f, --filter EXPR          BPF filter, as tcpdump takes it\n"
    "  -o, --output FILE          write the report to FILE atomically (default: stdout)\n"
    "      --pretty               indent the JSON\n"
    "      --format FORMAT        json (default), text (a table for people) or ndjson\n"
    "                             (a line per event, written as it happens)\n"
    "      --stats-interval S     ndjson: a stats line every S seconds (default 10;\n"
    "                             0 = none)\n"
    "\n",
    "Live capture:\n"
    "  -i, --interface IFACE      capture on IFACE ('any' for all) instead of files\n"
    "  -D, --list-interfaces      list the interfaces that can be captured on\n"
    "  -s, --snaplen BYTES        bytes kept per packet (default 262144)\n"
    "  -B, --buffer-size KIB      kernel capture buffer in KiB (default: libpcap's)\n"
    "  -p, --no-promiscuous-mode  do not put the interface in promiscuous mode\n"
    "  -w, --write FILE           also save the packets to FILE (pcap), to re-analyse\n"
    "  -Z, --relinquish-privileges USER\n"
    "                             after opening the interface, run as USER (root only)\n"
    "      --duration SECONDS     stop after SECONDS (live: of running; files: of\n"
    "                             capture time from the first packet)\n"
    "  -c, --count N              stop after N packets\n"
    "\n",
    "Encapsulations (docs/encapsulations.md):\n"
    "      --vxlan-port P         UDP port(s) carrying VXLAN (default 4789); also\n"
    "      --geneve-port P        (6081), --gtpu-port (2152), --teredo-port (3544),\n"
    "      --ayiya-port P         (5072), --gre-udp-port (4754): repeatable, each\n"
    "                             replaces the default; 0 turns it off\n"
    "      --no-tunnels           do not look inside GRE, IP-in-IP or UDP tunnels\n"
    "      --ignore-encap-key     VLAN and tunnel ids do not separate connections\n"
    "      --no-reassembly        do not reassemble IP fragments\n"
    "\n",
    "Analysis:\n"
    "      --connections WHICH    records listed: all (default), anomalous (a finding\n"
    "                             of severity warning or error) or none; summary,\n"
    "                             stats and verdict always count every connection\n"
    "      --max-connections N    connections tracked at once (default 262144);\n"
    "                             beyond it the least recently seen is written out\n"
    "      --memory MIB           memory the table may take, all told (default 64):\n"
    "                             beyond it finished connections are written out\n"
    "                             before their linger ends and half-open ones are\n"
    "                             evicted; established ones are kept up to\n"
    "                             --max-connections; 0: no limit but that one\n"
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
    "      --threads N            threads (default: the number of CPUs); with 2 or\n"
    "                             more, capture files are read and decoded ahead in\n"
    "                             a thread of their own (results are identical)\n"
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
    "Documentation: docs/ in the source tree.\n"};

const char *tcpst_cli_usage(void)
{
    static char text[8192];
    if (!text[0]) {
        for (size_t i = 0; i < sizeof usage_parts / sizeof usage_parts[0]; i++) {
            strncat(text, usage_parts[i], sizeof text - strlen(text) - 1);
        }
    }
    return text;
}

static int parse_seconds(const char *opt, const char *s, tcpst_time *out, tcpst_error *err);

static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out,
                     tcpst_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        return tcpst_error_set(err, TCPST_EUSAGE, "%s: expected %llu..%llu, got '%s'", opt,
                               (unsigned long long)lo, (unsigned long long)hi, s);
    }
    *out = v;
    return 0;
}

/*
 * A tunnel port option: the first use replaces the default list, later uses
 * add to it; 0 empties it (the tunnel is not looked for on UDP).
 */
static int add_port(const char *opt, const char *s, uint16_t ports[TCPST_DECODE_PORTS_MAX],
                    bool *replaced, tcpst_error *err)
{
    uint64_t v = 0; /* set on success; -O3 cannot see that */
    if (parse_u64(opt, s, 0, UINT16_MAX, &v, err)) {
        return TCPST_EUSAGE;
    }
    if (!*replaced) {
        memset(ports, 0, sizeof(uint16_t) * TCPST_DECODE_PORTS_MAX);
        *replaced = true;
    }
    if (v == 0) {
        return 0;
    }
    for (unsigned i = 0; i < TCPST_DECODE_PORTS_MAX; i++) {
        if (ports[i] == 0 || ports[i] == v) {
            ports[i] = (uint16_t)v;
            return 0;
        }
    }
    return tcpst_error_set(err, TCPST_EUSAGE, "%s: at most %d ports", opt, TCPST_DECODE_PORTS_MAX);
}

/*
 * --stuck-after SPEC: "SECONDS" sets every state (and the zero-window stall);
 * "state=SECONDS[,state=SECONDS...]" sets one state, e.g. close_wait=60.
 */
static int parse_stuck(const char *spec, tcpst_engine_config *cfg, tcpst_error *err)
{
    char buf[TCPST_MAX_STUCK_SPEC + 1];
    if (strlen(spec) >= sizeof buf) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--stuck-after: value too long");
    }
    strcpy(buf, spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        tcpst_time v = 0;
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
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > TCPST_MAX_SECONDS) {
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
    tcpst_live_config_default(&o->live_cfg);
    o->stats_interval = TCPST_DEFAULT_STATS_INTERVAL;
    o->engine.soft_connections = tcpst_engine_soft_limit(TCPST_DEFAULT_MEMORY_MIB);
    bool replaced[6] = {false, false, false, false, false, false};
    tcpst_decode_config *dc = &o->engine.decode;
    uint64_t n64 = 0;
    optind = 1;
    opterr = 0;
    int ch, rc = 0;
    while (rc == 0 &&
           (ch = getopt_long(argc, argv, ":f:o:i:Ds:B:pw:Z:c:hV", longopts, NULL)) != -1) {
        switch (ch) {
            case 'i':
                o->live = true;
                o->live_cfg.iface = optarg;
                break;
            case 'D':
                o->list_interfaces = true;
                break;
            case 's':
                rc =
                    parse_u64("--snaplen", optarg, TCPST_MIN_SNAPLEN, TCPST_MAX_SNAPLEN, &n64, err);
                o->live_cfg.snaplen = (int)n64;
                break;
            case 'B':
                rc = parse_u64("--buffer-size", optarg, 1, TCPST_MAX_BUFFER_KIB, &n64, err);
                o->live_cfg.buffer_size = (int)(n64 * 1024);
                break;
            case 'p':
                o->live_cfg.promisc = false;
                break;
            case 'w':
                o->write_file = optarg;
                break;
            case 'Z':
                o->user = optarg;
                break;
            case 'c':
                rc = parse_u64("--count", optarg, 1, UINT64_MAX, &o->count, err);
                break;
            case OPT_DURATION:
                rc = parse_seconds("--duration", optarg, &o->duration, err);
                if (rc == 0 && o->duration == 0) {
                    rc = tcpst_error_set(err, TCPST_EUSAGE, "--duration: must be above 0");
                }
                break;
            case OPT_STATS_INTERVAL:
                rc = parse_seconds("--stats-interval", optarg, &o->stats_interval, err);
                break;
            case OPT_VXLAN_PORT:
                rc = add_port("--vxlan-port", optarg, dc->vxlan_ports, &replaced[0], err);
                break;
            case OPT_GENEVE_PORT:
                rc = add_port("--geneve-port", optarg, dc->geneve_ports, &replaced[1], err);
                break;
            case OPT_GTPU_PORT:
                rc = add_port("--gtpu-port", optarg, dc->gtpu_ports, &replaced[2], err);
                break;
            case OPT_TEREDO_PORT:
                rc = add_port("--teredo-port", optarg, dc->teredo_ports, &replaced[3], err);
                break;
            case OPT_AYIYA_PORT:
                rc = add_port("--ayiya-port", optarg, dc->ayiya_ports, &replaced[4], err);
                break;
            case OPT_GRE_UDP_PORT:
                rc = add_port("--gre-udp-port", optarg, dc->gre_udp_ports, &replaced[5], err);
                break;
            case OPT_NO_TUNNELS:
                dc->tunnels = false;
                break;
            case OPT_IGNORE_ENCAP_KEY:
                dc->key_encap = false;
                break;
            case OPT_NO_REASSEMBLY:
                o->engine.reassemble = false;
                break;
            case OPT_THREADS:
                rc = parse_u64("--threads", optarg, 1, TCPST_MAX_THREADS, &n64, err);
                o->threads = (unsigned)n64;
                break;
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
            case OPT_MEMORY:
                rc = parse_u64("--memory", optarg, 0, TCPST_MAX_MEMORY_MIB, &n64, err);
                if (rc == 0) {
                    o->engine.soft_connections = n64 ? tcpst_engine_soft_limit(n64) : 0;
                    if (n64 && !o->engine.soft_connections) {
                        rc = tcpst_error_set(err, TCPST_EUSAGE,
                                             "--memory: at least %llu MiB, or 0 for no limit; "
                                             "got '%s'",
                                             (unsigned long long)tcpst_engine_min_memory_mib(),
                                             optarg);
                    }
                }
                break;
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
                if (strcmp(optarg, "json") == 0) {
                    o->format = TCPST_FORMAT_JSON;
                } else if (strcmp(optarg, "text") == 0) {
                    o->format = TCPST_FORMAT_TEXT;
                } else if (strcmp(optarg, "ndjson") == 0) {
                    o->format = TCPST_FORMAT_NDJSON;
                } else {
                    rc = tcpst_error_set(err, TCPST_EUSAGE,
                                         "--format: expected 'json', 'text' or 'ndjson', got '%s'",
                                         optarg);
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
    if (o->help || o->version || o->list_interfaces) {
        return 0;
    }
    if (o->write_file && strcmp(o->write_file, "-") == 0 &&
        (!o->output || strcmp(o->output, "-") == 0)) {
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "-w -: packets and report cannot both go to standard output "
                               "(give -o FILE)");
    }
    if (o->live) {
        if (optind < argc) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "give either -i INTERFACE or capture files, not both ('%s')",
                                   argv[optind]);
        }
        return 0;
    }
    if (o->user) {
        return tcpst_error_set(err, TCPST_EUSAGE, "-Z: only for live capture (-i)");
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
