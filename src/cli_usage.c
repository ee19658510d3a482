/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_usage.c - the --help text, written by hand for people.  Its defaults are printed from
 * limits.h and the decoder's defaults, so it cannot fall behind them; check_cli tests that
 * it names every option of the table.
 */
#include <stdio.h>

#include <string.h>

#include "cli_table.h"
#include "tcpstate/capture.h"
#include "tcpstate/cli.h"
#include "tcpstate/decode.h"
#include "tcpstate/limits.h"
#include "tcpstate/report.h"
#include "tcpstate/types.h"

#define SECS(t) ((long long)((t) / TCPST_NS_PER_SEC))

/* In parts: ISO C caps one string literal at 4095 characters. */
static void usage_options(char *text, size_t size, size_t *len)
{
    tcpst__cli_append(
        text, size, len,
        "Usage: tcpstate [OPTIONS] FILE...\n"
        "       tcpstate [OPTIONS] -i INTERFACE\n"
        "       tcpstate [OPTIONS] -i INTERFACE -- COMMAND [ARGS...]\n"
        "Infer the RFC 9293 state of both endpoints of every TCP connection in\n"
        "pcap/pcapng captures, or live on an interface, and write a JSON report.\n"
        "FILE '-' reads standard input; several files are merged in timestamp order\n"
        "as one capture.\n"
        "\n"
        "Options:\n"
        "  -r, --read FILE            a capture file, as FILE operands are (repeatable)\n"
        "  -n, --numeric              accepted for tcpdump's habit: nothing is resolved\n"
        "  -f, --filter EXPR          BPF filter, as tcpdump takes it\n"
        "  -o, --output FILE          write the report to FILE atomically (default: stdout)\n"
        "      --pretty               indent the JSON\n"
        "      --format FORMAT        json (default), text (a table for people), ndjson\n"
        "                             (a line per event, written as it happens), zeek\n"
        "                             (a Zeek conn.log), csv (a row per connection),\n"
        "                             ladder (a sequence diagram per connection, with\n"
        "                             both endpoints' states; fits COLUMNS) or html (one\n"
        "                             self-contained page: summary, table, ladders and\n"
        "                             time-sequence plots; open report.html#conn=ID)\n"
        "      --stats-interval S     ndjson: a stats line every S seconds (default %lld;\n"
        "                             0 = none)\n"
        "\n",
        SECS(TCPST_DEFAULT_STATS_INTERVAL));
}

static void usage_live(char *text, size_t size, size_t *len)
{
    tcpst__cli_append(
        text, size, len,
        "Live capture:\n"
        "  -i, --interface IFACE      capture on IFACE ('any' for all) instead of files\n"
        "  -D, --list-interfaces      list the interfaces tcpstate can capture on and\n"
        "                             decode, with their link types\n"
        "  -s, --snaplen BYTES        bytes kept per packet (default %d)\n"
        "  -B, --buffer-size KIB      kernel capture buffer in KiB (default 8192; or 8M)\n"
        "  -p, --no-promiscuous-mode  do not put the interface in promiscuous mode\n"
        "  -w, --write FILE           also save the packets to FILE (pcap), to re-analyse\n"
        "  -Z, --relinquish-privileges USER\n"
        "                             after opening the interface, run as USER (root only)\n"
        "      --duration SECONDS     stop after SECONDS (live: of running; files: of\n"
        "                             capture time from the first packet)\n"
        "  -c, --count N              stop after N packets\n"
        "      --capture-end WHEN     when the capture stopped, to measure stuck states\n"
        "                             and idle times to: a Unix time or RFC 3339 time,\n"
        "                             +DURATION after the last packet, mtime (the\n"
        "                             files' modification time) or last-packet\n"
        "                             (default: the pcapng file's statistics, the end\n"
        "                             of a live capture or stream, else the last packet)\n"
        "      --allow-truncated      a damaged or cut input exits 0, not 3\n"
        "\n"
        "Wrapping a command (docs/ci.md): -i INTERFACE -- COMMAND [ARGS...] starts\n"
        "COMMAND once the capture receives, stops when it has exited and --grace has\n"
        "passed, and judges every side left in CLOSE_WAIT, FIN_WAIT_1/2, LAST_ACK,\n"
        "SYN_SENT or SYN_RECEIVED a leak whatever its age (default rule without\n"
        "--fail-on/--policy: severity>=error).  Local endpoints name their process.\n"
        "      --grace DURATION       capture on this long after COMMAND exits, for its\n"
        "                             last FINs and RSTs (default %lld s)\n"
        "      --run-as USER          run COMMAND as USER (default: as root, the user\n"
        "                             sudo was invoked by, from SUDO_UID/SUDO_GID)\n"
        "\n",
        TCPST_LIVE_SNAPLEN, SECS(TCPST_DEFAULT_GRACE));
}

/* The tunnel ports' defaults are the decoder's (decode.c, with their RFCs). */
static void usage_encap(char *text, size_t size, size_t *len)
{
    tcpst_decode_config d;
    tcpst_decode_config_default(&d);
    tcpst__cli_append(
        text, size, len,
        "Encapsulations (docs/encapsulations.md):\n"
        "      --vxlan-port P         UDP port(s) carrying VXLAN (default %u); also\n"
        "      --geneve-port P        (%u), --gtpu-port (%u), --teredo-port (%u),\n"
        "      --ayiya-port P         (%u), --gre-udp-port (%u): repeatable, each\n"
        "                             replaces the default; 0 turns it off\n"
        "      --no-tunnels           do not look inside GRE, IP-in-IP or UDP tunnels\n"
        "      --ignore-encap-key     VLAN and tunnel ids do not separate connections\n"
        "      --no-reassembly        do not reassemble IP fragments\n"
        "\n",
        (unsigned)d.vxlan_ports[0], (unsigned)d.geneve_ports[0], (unsigned)d.gtpu_ports[0],
        (unsigned)d.teredo_ports[0], (unsigned)d.ayiya_ports[0], (unsigned)d.gre_udp_ports[0]);
}

static void usage_analysis(char *text, size_t size, size_t *len)
{
    tcpst__cli_append(
        text, size, len,
        "Analysis:\n"
        "      --connection SEL       list only the records SEL picks (repeatable): an id,\n"
        "                             ADDR:PORT (either side; [V6]:PORT), A:P-B:P, an\n"
        "                             anomaly id, or anomalous\n"
        "      --connections WHICH    records listed: all (default), anomalous (a finding\n"
        "                             of severity warning or error) or none; summary,\n"
        "                             stats and verdict always count every connection\n"
        "      --max-connections N    connections tracked at once (default %u);\n"
        "                             beyond it the least recently seen is written out\n"
        "      --memory MIB           memory the table may take, all told (default %d):\n"
        "                             beyond it finished connections are written out\n"
        "                             before their linger ends and half-open ones are\n"
        "                             evicted; established ones are kept up to\n"
        "                             --max-connections; 0: no limit but that one\n"
        "      --time-wait SECONDS    TIME_WAIT duration, 2*MSL (default %lld, as Linux)\n"
        "      --timeout-handshake S  idle time before an unfinished handshake is\n"
        "                             written out (default %lld)\n"
        "      --timeout-active S     idle time before an open connection is written\n"
        "                             out (default %lld)\n"
        "      --timeout-closed S     how long a terminated connection is kept for late\n"
        "                             segments (default %lld)\n"
        "      --stuck-after SPEC     how long a state may last before it is reported as\n"
        "                             stuck: SECONDS for all, or state=SECONDS,... e.g.\n"
        "                             close_wait=60,syn_sent=5 (defaults: %lld; %lld for\n"
        "                             syn_sent/syn_received; zero_window=%lld for stalls)\n"
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
        "  -q, --quiet                no banner when a live capture starts, no progress\n"
        "                             line during a long offline run on a terminal\n"
        "      --list-anomalies       list the anomaly types: id, severity, meaning\n"
        "                             (--format json: with evidence, causes and facts)\n"
        "      --explain ID           what anomaly ID means, its evidence, usual causes\n"
        "  -h, --help                 show this help\n"
        "  -V, --version              show the version\n"
        "\n"
        "Exit status: 0 success (and every --fail-on rule passed), 1 a --fail-on rule\n"
        "was violated, 2 usage error, unreadable input or unwritable report, 3 an\n"
        "input was damaged or cut short (the report covers what came before), 4 a\n"
        "signal stopped an offline run before the end of its input.  With -- COMMAND:\n"
        "COMMAND's own status when it failed (128+N when signal N killed it), else\n"
        "the above.\n"
        "Documentation: docs/ in the source tree.\n",
        TCPST_DEFAULT_MAX_CONNECTIONS, TCPST_DEFAULT_MEMORY_MIB, SECS(TCPST_DEFAULT_TIME_WAIT),
        SECS(TCPST_DEFAULT_TIMEOUT_HANDSHAKE), SECS(TCPST_DEFAULT_TIMEOUT_ACTIVE),
        SECS(TCPST_DEFAULT_TIMEOUT_CLOSED), SECS(TCPST_DEFAULT_STUCK_AFTER),
        SECS(TCPST_DEFAULT_STUCK_HANDSHAKE), SECS(TCPST_DEFAULT_STUCK_AFTER));
}

const char *tcpst_cli_usage(void)
{
    static char text[8192];
    static size_t len;
    if (len == 0) {
        usage_options(text, sizeof text, &len);
        usage_live(text, sizeof text, &len);
        usage_encap(text, sizeof text, &len);
        usage_analysis(text, sizeof text, &len);
    }
    return text;
}

int tcpst__cli_unknown(const char *typed, tcpst_error *err)
{
    if (typed[0] == '-' && typed[1] == '-' && typed[2]) {
        /* --fromat for --format: the closest long name. */
        char name[64];
        snprintf(name, sizeof name, "%s", typed + 2);
        name[strcspn(name, "=")] = '\0';
        size_t n;
        const tcpst__cli_row *rows = tcpst__cli_rows(&n);
        const char *names[128];
        n = n < 128 ? n : 128;
        for (size_t i = 0; i < n; i++) {
            names[i] = rows[i].name;
        }
        const char *near = tcpst_suggest(name, names, n);
        if (near && strcmp(near, name) == 0) {
            return tcpst_error_set(err, TCPST_EUSAGE, "option '--%s' takes no value (got '%s')",
                                   name, typed);
        }
        if (near) {
            return tcpst_error_set(err, TCPST_EUSAGE, "unknown option '%s'; did you mean '--%s'?",
                                   typed, near);
        }
    }
    return tcpst_error_set(err, TCPST_EUSAGE, "unknown option '%s'", typed);
}

const char *tcpst_cli_version(void)
{
    static char text[512];
    snprintf(text, sizeof text, "tcpstate %s\n%s\njansson %s\nzlib %s\n", TCPSTATE_VERSION,
             tcpst_capture_pcap_version(), tcpst_report_jansson_version(),
             tcpst_capture_zlib_version());
    return text;
}

const char *tcpst_cli_banner(const tcpst_options *o, const tcpst_input_info *in)
{
    static char text[256];
    snprintf(text, sizeof text, "listening on %s, link-type %s (%s), snapshot length %d bytes",
             o->live_cfg.iface, in->linktype_name,
             tcpst_capture_linktype_description(in->linktype, in->linktype_name), in->snaplen);
    return text;
}
