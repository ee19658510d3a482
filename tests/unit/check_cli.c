/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_cli.c - option parsing: defaults, every option, and every error.
 *
 * Two kinds of case.  Tables written out here pin the behaviour: accepted values with what
 * they store, refused values with their exact message.  Sweeps over cli.c's own rows
 * (cli_table.h) check what every option must do, so that a row added there is tested for
 * its bounds, its missing value, its default and its line in --help without a line here.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckrun.h"
#include "cli_table.h"
#include "tcpstate/cli.h"
#include "tcpstate/limits.h"
#include "tcpstate/report.h"

static tcpst_options o;
static tcpst_error err;

static int parse(int n, const char *const *args)
{
    static char *argv[40]; /* static: o.command points into it, as into main's argv */
    ck_assert_int_lt(n, 39);
    argv[0] = (char *)"tcpstate";
    for (int i = 0; i < n; i++) {
        argv[i + 1] = (char *)args[i];
    }
    argv[n + 1] = NULL;
    tcpst_cli_free(&o);
    memset(&err, 0, sizeof err);
    return tcpst_cli_parse(n + 1, argv, &o, &err);
}

/* Cases as NULL-terminated argument lists. */
#define MAX_ARGS 12
static int nargs(const char *const *args)
{
    int n = 0;
    while (n < MAX_ARGS && args[n]) {
        n++;
    }
    return n;
}

/* An integer field of o, whatever its width (bool, int, enum, uint16_t, uint32_t, 64 bits). */
static uint64_t field_at(size_t at, size_t size)
{
    union {
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
    } v;
    memcpy(&v, (const char *)&o + at, size);
    return size == 1 ? v.u8 : size == 2 ? v.u16 : size == 4 ? v.u32 : v.u64;
}

/* The integer in a row's field. */
static uint64_t row_field(const tcpst__cli_row *r)
{
    size_t size = r->type == TCPST__CLI_T_BOOL   ? sizeof(bool)
                  : r->type == TCPST__CLI_T_INT  ? sizeof(int)
                  : r->type == TCPST__CLI_T_UINT ? sizeof(unsigned)
                                                 : sizeof(uint64_t);
    return field_at(r->at, size);
}

/* ---- defaults ---- */

START_TEST(defaults)
{
    const char *a[] = {"x.pcap"};
    ck_assert_int_eq(parse(1, a), 0);
    ck_assert_uint_eq(o.nfiles, 1);
    ck_assert_str_eq(o.files[0], "x.pcap");
    ck_assert_ptr_null(o.filter);
    ck_assert_ptr_null(o.output);
    ck_assert_ptr_null(o.junit);
    ck_assert_ptr_null(o.write_file);
    ck_assert_ptr_null(o.user);
    ck_assert(!o.pretty && !o.help && !o.version && !o.live && !o.list_interfaces);
    ck_assert_ptr_null(o.format); /* the report takes NULL as json */
    ck_assert_int_eq(o.connections, TCPST_CONNS_ALL);
    ck_assert_int_eq(o.stats_interval, TCPST_DEFAULT_STATS_INTERVAL);
    ck_assert_int_eq(o.duration, 0);
    ck_assert_uint_eq(o.count, 0);
    ck_assert_uint_eq(o.threads, 0);
    ck_assert_uint_eq(o.policy.n, 0);
    ck_assert_uint_eq(o.engine.decode.vxlan_ports[0], 4789); /* as --help says */
    ck_assert_uint_eq(o.engine.decode.gre_udp_ports[0], 4754);
    /* The rows' defaults agree with the layers' own, field for field: max_connections,
     * time_wait, the timeouts, snaplen, promisc, tunnels, reassembly... */
    tcpst_engine_config e;
    tcpst_engine_config_default(&e);
    e.soft_connections = tcpst_engine_soft_limit(TCPST_DEFAULT_MEMORY_MIB);
    ck_assert_uint_ne(e.soft_connections, 0);
    ck_assert(memcmp(&o.engine, &e, sizeof e) == 0);
    tcpst_live_config l;
    memset(&l, 0, sizeof l);
    tcpst_live_config_default(&l);
    ck_assert(memcmp(&o.live_cfg, &l, sizeof l) == 0);
    tcpst_cli_free(&o);
}
END_TEST

/* Every row with a default has it in its field after a parse without options. */
START_TEST(row_defaults)
{
    const char *a[] = {"x.pcap"};
    ck_assert_int_eq(parse(1, a), 0);
    size_t n;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n);
    for (size_t i = 0; i < n; i++) {
        const tcpst__cli_row *r = &rows[i];
        uint64_t want = (uint64_t)r->def;
        if (r->kind == TCPST__CLI_UINT && r->set) {
            continue; /* --memory: checked in defaults, as the soft limit */
        }
        if (r->kind == TCPST__CLI_UINT) {
            want *= r->scale;
        } else if (r->kind != TCPST__CLI_FLAG && r->kind != TCPST__CLI_SECONDS &&
                   r->kind != TCPST__CLI_NAME) {
            continue;
        }
        ck_assert_msg(row_field(r) == want, "--%s: default %llu, want %llu", r->name,
                      (unsigned long long)row_field(r), (unsigned long long)want);
    }
    tcpst_cli_free(&o);
}
END_TEST

/* ---- the table itself ---- */

static bool kind_fits_type(const tcpst__cli_row *r)
{
    switch (r->kind) {
        case TCPST__CLI_FLAG:
            return r->type == TCPST__CLI_T_BOOL;
        case TCPST__CLI_UINT:
            return r->type == TCPST__CLI_T_INT || r->type == TCPST__CLI_T_UINT ||
                   r->type == TCPST__CLI_T_U64;
        case TCPST__CLI_SECONDS:
            return r->type == TCPST__CLI_T_TIME;
        case TCPST__CLI_STRING:
            return r->type == TCPST__CLI_T_STRING;
        case TCPST__CLI_NAME:
            return r->names && (r->type == TCPST__CLI_T_BOOL || r->type == TCPST__CLI_T_INT ||
                                r->type == TCPST__CLI_T_UINT);
        case TCPST__CLI_PORTS:
            return r->type == TCPST__CLI_T_PORTS;
        case TCPST__CLI_CUSTOM:
            return r->type == TCPST__CLI_T_NONE && r->parse;
    }
    return false;
}

static uint64_t type_max(tcpst__cli_type t)
{
    return t == TCPST__CLI_T_INT ? INT_MAX : t == TCPST__CLI_T_UINT ? UINT_MAX : UINT64_MAX;
}

START_TEST(rows_well_formed)
{
    size_t n;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n);
    ck_assert_uint_ge(n, 39);
    for (size_t i = 0; i < n; i++) {
        const tcpst__cli_row *r = &rows[i];
        ck_assert_msg(r->name[0] && strspn(r->name, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
                                        strlen(r->name),
                      "row %zu: name '%s'", i, r->name);
        ck_assert_msg(r->letter == 0 || (r->letter >= 'a' && r->letter <= 'z') ||
                          (r->letter >= 'A' && r->letter <= 'Z'),
                      "--%s: letter", r->name);
        ck_assert_msg(kind_fits_type(r), "--%s: kind %d, field type %d", r->name, r->kind, r->type);
        for (size_t j = 0; j < i; j++) {
            ck_assert_msg(strcmp(rows[j].name, r->name) != 0, "--%s twice", r->name);
            ck_assert_msg(!r->letter || rows[j].letter != r->letter, "-%c twice", r->letter);
        }
        if (r->kind == TCPST__CLI_UINT) {
            ck_assert_msg(r->lo <= r->hi && r->scale >= 1, "--%s: bounds", r->name);
            ck_assert_msg(r->hi <= type_max(r->type) / r->scale,
                          "--%s: %llu does not fit the field", r->name, (unsigned long long)r->hi);
            /* 0 as a default means "none" (threads: the CPUs; count: no limit). */
            ck_assert_msg(r->def == 0 || ((uint64_t)r->def >= r->lo && (uint64_t)r->def <= r->hi),
                          "--%s: default out of bounds", r->name);
        }
        if (r->kind == TCPST__CLI_SECONDS) {
            ck_assert(r->def >= 0 && (double)r->def <= TCPST_MAX_SECONDS * 1e9);
        }
        if (r->kind == TCPST__CLI_NAME) {
            bool found = false;
            for (const tcpst__cli_name *nm = r->names; nm->name; nm++) {
                found = found || nm->value == r->def;
            }
            ck_assert_msg(found, "--%s: default is not one of the names", r->name);
        }
    }
}
END_TEST

/* --help names every option of the table, with its letter. */
START_TEST(usage_mentions_every_option)
{
    const char *text = tcpst_cli_usage();
    size_t n;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n);
    for (size_t i = 0; i < n; i++) {
        char want[64];
        snprintf(want, sizeof want, "--%s", rows[i].name);
        const char *p = text;
        bool found = false;
        while (!found && (p = strstr(p, want)) != NULL) {
            char next = p[strlen(want)];
            found = !(next == '-' || (next >= 'a' && next <= 'z') || (next >= '0' && next <= '9'));
            p++;
        }
        ck_assert_msg(found, "--help does not mention %s", want);
        if (rows[i].letter) {
            snprintf(want, sizeof want, "-%c, --%s", rows[i].letter, rows[i].name);
            ck_assert_msg(strstr(text, want) != NULL, "--help lacks '%s'", want);
        }
    }
    /* Printed from the constants, not written in. */
    char def[64];
    snprintf(def, sizeof def, "(default %u);", TCPST_DEFAULT_MAX_CONNECTIONS);
    ck_assert(strstr(text, def) != NULL);
    snprintf(def, sizeof def, "(default %d)\n", TCPST_LIVE_SNAPLEN);
    ck_assert(strstr(text, def) != NULL);
    ck_assert_ptr_eq(tcpst_cli_usage(), text); /* built once */
}
END_TEST

/* ---- every option: accepted values and what they store ---- */

#define AT(f) offsetof(tcpst_options, f), sizeof(((tcpst_options *)0)->f)
#define NS    TCPST_NS_PER_SEC

static const struct {
    const char *args[MAX_ARGS];
    size_t at, size;
    uint64_t want;
} good[] = {
    {{"-s", "64", "f"}, AT(live_cfg.snaplen), 64},
    {{"--snaplen", "262144", "f"}, AT(live_cfg.snaplen), 262144},
    {{"-s128", "f"}, AT(live_cfg.snaplen), 128},
    {{"-s", "+100", "f"}, AT(live_cfg.snaplen), 100},
    {{"-s", " 100", "f"}, AT(live_cfg.snaplen), 100},
    {{"-s", "0100", "f"}, AT(live_cfg.snaplen), 100},
    {{"-B", "1", "f"}, AT(live_cfg.buffer_size), 1024},
    {{"--buffer-size", "1048576", "f"}, AT(live_cfg.buffer_size), 1073741824},
    {{"-c", "1", "f"}, AT(count), 1},
    {{"--count", "18446744073709551615", "f"}, AT(count), UINT64_MAX},
    {{"--threads", "1", "f"}, AT(threads), 1},
    {{"--threads", "1024", "f"}, AT(threads), 1024},
    {{"--max-connections", "1", "f"}, AT(engine.max_connections), 1},
    {{"--max-connections", "67108864", "f"}, AT(engine.max_connections), 67108864},
    {{"--max-conn", "1000", "f"}, AT(engine.max_connections), 1000},
    {{"--memory", "0", "f"}, AT(engine.soft_connections), 0},
    {{"--time-wait", "0", "f"}, AT(engine.conn.time_wait), 0},
    {{"--time-wait", "2.5", "f"}, AT(engine.conn.time_wait), 2500000000},
    {{"--timeout-handshake", "1e9", "f"}, AT(engine.timeout[TCPST_LRU_HANDSHAKE]), 1000000000 * NS},
    {{"--timeout-active", "0.000000001", "f"}, AT(engine.timeout[TCPST_LRU_ACTIVE]), 1},
    {{"--timeout-closed", "0x10", "f"}, AT(engine.timeout[TCPST_LRU_CLOSED]), 16 * NS},
    {{"--stats-interval", "0", "f"}, AT(stats_interval), 0},
    {{"--stats-interval=0.5", "f"}, AT(stats_interval), NS / 2},
    {{"--duration", "0.5", "f"}, AT(duration), NS / 2},
    {{"--duration", "1e-9", "f"}, AT(duration), 1},
    {{"--duration", "250ms", "f"}, AT(duration), NS / 4},
    {{"--time-wait", "2m", "f"}, AT(engine.conn.time_wait), 120 * NS},
    {{"--timeout-active", "1h", "f"}, AT(engine.timeout[TCPST_LRU_ACTIVE]), 3600 * NS},
    {{"--stats-interval", "1500us", "f"}, AT(stats_interval), 1500000},
    {{"--capture-end", "1796596044.250000001", "f"}, AT(end_at), 1796596044250000001},
    {{"--capture-end", "2026-12-06T22:26:07.25Z", "f"}, AT(end_at), 1796595967250000000},
    {{"--capture-end", "2026-12-06T23:26:07.25+01:00", "f"}, AT(end_at), 1796595967250000000},
    {{"--capture-end", "+5s", "f"}, AT(end_at), 5 * NS},
    {{"--capture-end", "+5s", "f"}, AT(end_given), TCPST_ENDG_AFTER_LAST},
    {{"--capture-end", "mtime", "f"}, AT(end_given), TCPST_ENDG_MTIME},
    {{"--capture-end", "last-packet", "f"}, AT(end_given), TCPST_ENDG_LAST_PACKET},
    {{"--capture-end", "1", "f"}, AT(end_given), TCPST_ENDG_AT},
    {{"--allow-truncated", "f"}, AT(allow_truncated), 1},
    {{"--connections", "anomalous", "f"}, AT(connections), TCPST_CONNS_ANOMALOUS},
    {{"--connections", "none", "f"}, AT(connections), TCPST_CONNS_NONE},
    {{"--connections", "none", "--connections", "all", "f"}, AT(connections), TCPST_CONNS_ALL},
    {{"--split", "zeek", "f"}, AT(engine.split_zeek), 1},
    {{"--split", "zeek", "--split", "rfc", "f"}, AT(engine.split_zeek), 0},
    {{"--vxlan-port", "65535", "f"}, AT(engine.decode.vxlan_ports[0]), 65535},
    {{"--stuck-after", "45", "f"}, AT(engine.conn.stuck_after[TCPST_CLOSE_WAIT]), 45 * NS},
    {{"--stuck-after", "45", "f"}, AT(engine.conn.xfer.zero_window_stall), 45 * NS},
    {{"--stuck-after", "Close_Wait=7", "f"}, AT(engine.conn.stuck_after[TCPST_CLOSE_WAIT]), 7 * NS},
    {{"--stuck-after", "syn_sent=1,,syn_received=2", "f"},
     AT(engine.conn.stuck_after[TCPST_SYN_RECEIVED]),
     2 * NS},
    {{"--stuck-after", "zero_window=4", "f"}, AT(engine.conn.xfer.zero_window_stall), 4 * NS},
    {{"--stuck-after", "9,last_ack=1", "f"},
     AT(engine.conn.stuck_after[TCPST_ESTABLISHED]),
     9 * NS},
    {{"--stuck-after", "9,last_ack=1", "f"}, AT(engine.conn.stuck_after[TCPST_LAST_ACK]), NS},
    {{"--stuck-after", "", "f"},
     AT(engine.conn.stuck_after[TCPST_SYN_SENT]),
     TCPST_DEFAULT_STUCK_HANDSHAKE},
    {{"--verify-checksums", "f"}, AT(engine.verify_checksums), 1},
    {{"--no-tunnels", "f"}, AT(engine.decode.tunnels), 0},
    {{"--ignore-encap-key", "f"}, AT(engine.decode.key_encap), 0},
    {{"--no-reassembly", "f"}, AT(engine.reassemble), 0},
    {{"-p", "f"}, AT(live_cfg.promisc), 0},
    {{"--pre", "f"}, AT(pretty), 1},
    {{"-pD"}, AT(list_interfaces), 1},
    {{"-i", "eth0"}, AT(live), 1},
};

/* --format takes the report's format names, and keeps the last one given. */
START_TEST(formats)
{
    static const struct {
        const char *argv[6];
        const char *want;
    } cases[] = {
        {{"--format", "text", "f"}, "text"},
        {{"--format=ndjson", "f"}, "ndjson"},
        {{"--format", "ndjson", "--format", "json", "f"}, "json"},
        {{"--form", "text", "f"}, "text"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *argv[8] = {"tcpstate"};
        int argc = 1;
        for (; cases[k].argv[argc - 1]; argc++) {
            argv[argc] = (char *)cases[k].argv[argc - 1];
        }
        tcpst_options opts;
        tcpst_error e = {0};
        ck_assert_int_eq(tcpst_cli_parse(argc, argv, &opts, &e), 0);
        ck_assert_str_eq(opts.format, cases[k].want);
        ck_assert(tcpst_report_format_known(opts.format));
        tcpst_cli_free(&opts);
    }
}
END_TEST

START_TEST(accepted)
{
    int i = _i;
    int rc = parse(nargs(good[i].args), good[i].args);
    ck_assert_msg(rc == 0, "case %d (%s %s): %s", i, good[i].args[0], good[i].args[1], err.msg);
    uint64_t got = field_at(good[i].at, good[i].size);
    ck_assert_msg(got == good[i].want, "case %d (%s %s): %llu, want %llu", i, good[i].args[0],
                  good[i].args[1], (unsigned long long)got, (unsigned long long)good[i].want);
    tcpst_cli_free(&o);
}
END_TEST

START_TEST(operands)
{
    const char *a[] = {"-f", "tcp port 80", "-w", "s.pcap", "a.pcap", "-"};
    ck_assert_int_eq(parse(6, a), 0);
    ck_assert_uint_eq(o.nfiles, 2);
    ck_assert_str_eq(o.files[0], "a.pcap");
    ck_assert_str_eq(o.files[1], "-");
    /* Options after the files are still options (getopt_long permutes). */
    const char *b[] = {"a.pcap", "--pretty", "b.pcap"};
    ck_assert_int_eq(parse(3, b), 0);
    ck_assert(o.pretty);
    ck_assert_uint_eq(o.nfiles, 2);
    const char *c[] = {"--", "--pretty"};
    ck_assert_int_eq(parse(2, c), 0);
    ck_assert(!o.pretty);
    ck_assert_str_eq(o.files[0], "--pretty");
    const char *live[] = {"-i", "veth0", "-Z", "nobody", "-w", "-", "-o", "r.json"};
    ck_assert_int_eq(parse(8, live), 0);
    ck_assert(o.live);
    ck_assert_uint_eq(o.nfiles, 0);
    ck_assert_str_eq(o.live_cfg.iface, "veth0");
    ck_assert_str_eq(o.user, "nobody");
    /* --help, --version and -D need no file and skip the operand checks. */
    const char *z[] = {"-Z", "nobody", "-w", "-", "-h"};
    ck_assert_int_eq(parse(5, z), 0);
    const char *d[] = {"-D", "-i", "eth0", "f.pcap"};
    ck_assert_int_eq(parse(4, d), 0);
    /* Sizes take K, M and G (binary), in the option's own unit. */
    const char *sz[] = {"-i", "lo", "-s", "1K", "-B", "8M"};
    ck_assert_int_eq(parse(6, sz), 0);
    ck_assert_int_eq(o.live_cfg.snaplen, 1024);
    ck_assert_int_eq(o.live_cfg.buffer_size, 8 << 20);
    const char *sz2[] = {"-i", "lo", "-B", "512KiB", "--memory", "1g"};
    ck_assert_int_eq(parse(6, sz2), 0);
    ck_assert_int_eq(o.live_cfg.buffer_size, 512 << 10);
    const char *sz3[] = {"--memory", "1K", "f"};
    ck_assert_int_ne(parse(3, sz3), 0);
    ck_assert_str_eq(err.msg, "--memory: '1K' is not a whole number of MiB");
    const char *sz4[] = {"-s", "1G", "f"};
    ck_assert_int_ne(parse(3, sz4), 0);
    ck_assert_str_eq(err.msg, "--snaplen: expected 64..262144, got '1G'");
    /* tcpdump's -r FILE (repeatable, before the operands) and -n. */
    const char *r[] = {"-n", "b.pcap", "-r", "a.pcap", "--read", "-", "c.pcap"};
    ck_assert_int_eq(parse(7, r), 0);
    ck_assert(o.numeric);
    ck_assert_uint_eq(o.nfiles, 4);
    ck_assert_str_eq(o.files[0], "a.pcap");
    ck_assert_str_eq(o.files[1], "-");
    ck_assert_str_eq(o.files[2], "b.pcap");
    ck_assert_str_eq(o.files[3], "c.pcap");
    const char *ronly[] = {"-r", "a.pcap"};
    ck_assert_int_eq(parse(2, ronly), 0);
    ck_assert_uint_eq(o.nfiles, 1);
    const char *rlive[] = {"-i", "lo", "-r", "a.pcap"};
    ck_assert_int_ne(parse(4, rlive), 0);
    ck_assert_str_eq(err.msg, "give either -i INTERFACE or capture files, not both ('a.pcap')");
    tcpst_cli_free(&o);
}
END_TEST

/* -i IFACE -- COMMAND: what follows the first "--" that is no option's value is COMMAND's,
 * options and all; without -i "--" only ends the options. */
START_TEST(command_split)
{
    const char *a[] = {"-i", "lo", "--grace", "2.5", "--", "sh", "-c", "exit 7", "-o", "x"};
    ck_assert_int_eq(parse(10, a), 0);
    ck_assert_ptr_nonnull(o.command);
    ck_assert_str_eq(o.command[0], "sh");
    ck_assert_str_eq(o.command[1], "-c");
    ck_assert_str_eq(o.command[2], "exit 7");
    ck_assert_str_eq(o.command[4], "x");
    ck_assert_ptr_null(o.command[5]);
    ck_assert_ptr_null(o.output); /* "-o x" is the command's */
    ck_assert_int_eq(o.grace, 2500 * 1000 * 1000LL);
    ck_assert(o.engine.conn.end_any_age);
    /* Without rules of its own, a finding of severity error fails the run. */
    ck_assert_uint_eq(o.policy.n, 1);
    ck_assert_str_eq(o.policy.rules[0].text, "severity>=error");
    /* An option's value "--" is a value, not the split; rules given replace the default. */
    const char *b[] = {"-i", "lo", "-f", "--", "--fail-on", "close_wait_stuck", "--", "true"};
    ck_assert_int_eq(parse(8, b), 0);
    ck_assert_str_eq(o.filter, "--");
    ck_assert_str_eq(o.command[0], "true");
    ck_assert_uint_eq(o.policy.n, 1);
    ck_assert_str_eq(o.policy.rules[0].text, "close_wait_stuck");
    const char *c[] = {"-ilo", "--run-as", "nobody", "--", "id"};
    ck_assert_int_eq(parse(5, c), 0);
    ck_assert_str_eq(o.run_as, "nobody");
    ck_assert_str_eq(o.command[0], "id");
    ck_assert_int_eq(o.grace, TCPST_DEFAULT_GRACE);
    /* Plain -i: no command, no end judgement of its own, no default rule. */
    const char *d[] = {"-i", "lo"};
    ck_assert_int_eq(parse(2, d), 0);
    ck_assert_ptr_null(o.command);
    ck_assert(!o.engine.conn.end_any_age);
    ck_assert_uint_eq(o.policy.n, 0);
    const char *bad[][4] = {{"-i", "lo", "--", NULL},
                            {"a.pcap", "--grace", "1", NULL},
                            {"--run-as", "nobody", "a.pcap", NULL},
                            {"-i", "lo", "--grace", "soon"}};
    const char *why[] = {"no command given", "only with -i", "only with -i", "invalid duration"};
    for (unsigned i = 0; i < 4; i++) {
        int n = bad[i][3] ? 4 : 3;
        ck_assert_int_eq(parse(n, bad[i]), TCPST_EUSAGE);
        ck_assert_msg(strstr(err.msg, why[i]), "case %u: %s", i, err.msg);
    }
    const char *e[] = {"--", "a.pcap"};
    ck_assert_int_eq(parse(2, e), 0);
    ck_assert_ptr_null(o.command);
    ck_assert_uint_eq(o.nfiles, 1);
    tcpst_cli_free(&o);
}
END_TEST

/* Every STRING row keeps the argument itself (borrowed from argv). */
START_TEST(string_rows)
{
    size_t n;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind != TCPST__CLI_STRING) {
            continue;
        }
        char opt[64];
        snprintf(opt, sizeof opt, "--%s", rows[i].name);
        /* Rows for a wrapped command only are given one. */
        const char *a[] = {"-i", "eth0", opt, "value", "--", "true"};
        ck_assert_msg(parse(6, a) == 0, "%s: %s", opt, err.msg);
        const char *got;
        memcpy(&got, (const char *)&o + rows[i].at, sizeof got);
        ck_assert_msg(got == a[3], "%s: not stored", opt);
    }
    tcpst_cli_free(&o);
}
END_TEST

/* Every FLAG row stores the opposite of its default. */
START_TEST(flag_rows)
{
    size_t n;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind != TCPST__CLI_FLAG) {
            continue;
        }
        char opt[64];
        snprintf(opt, sizeof opt, "--%s", rows[i].name);
        const char *a[] = {opt, "f"};
        ck_assert_msg(parse(2, a) == 0, "%s: %s", opt, err.msg);
        ck_assert_msg(row_field(&rows[i]) == (rows[i].def ? 0u : 1u), "%s: not set", opt);
    }
    tcpst_cli_free(&o);
}
END_TEST

/* Every NAME row takes each of its names, and refuses others (the good and bad tables pin
 * the names, their report.h values and the messages). */
START_TEST(name_rows)
{
    size_t n;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind != TCPST__CLI_NAME) {
            continue;
        }
        char opt[64];
        snprintf(opt, sizeof opt, "--%s", rows[i].name);
        for (const tcpst__cli_name *nm = rows[i].names; nm->name; nm++) {
            const char *a[] = {opt, nm->name, "f"};
            ck_assert_msg(parse(3, a) == 0, "%s %s: %s", opt, nm->name, err.msg);
            ck_assert_uint_eq(row_field(&rows[i]), (uint64_t)nm->value);
        }
        const char *bad_name[] = {opt, "bogus", "f"};
        ck_assert_int_eq(parse(3, bad_name), TCPST_EUSAGE);
        ck_assert(strstr(err.msg, "got 'bogus'") != NULL);
    }
    tcpst_cli_free(&o);
}
END_TEST

/* ---- every option: refused values and their exact messages ---- */

#define STUCK_STATES                                                                               \
    " (use e.g. close_wait, fin_wait_1, fin_wait_2, last_ack, syn_sent, syn_received, "            \
    "established, zero_window)"

static const struct {
    const char *args[MAX_ARGS];
    const char *msg; /* the whole message */
} bad[] = {
    {{"-s", "63", "f"}, "--snaplen: expected 64..262144, got '63'"},
    {{"--snaplen", "262145", "f"}, "--snaplen: expected 64..262144, got '262145'"},
    {{"-s", "-64", "f"}, "--snaplen: expected 64..262144, got '-64'"},
    {{"-s", "", "f"}, "--snaplen: expected 64..262144, got ''"},
    {{"-s", "12x", "f"}, "--snaplen: expected 64..262144, got '12x'"},
    {{"-s", "1e3", "f"}, "--snaplen: expected 64..262144, got '1e3'"},
    {{"-s", "99999999999999999999", "f"},
     "--snaplen: expected 64..262144, got '99999999999999999999'"},
    {{"-B", "0", "f"}, "--buffer-size: expected 1..1048576, got '0'"},
    {{"--buffer-size", "1048577", "f"}, "--buffer-size: expected 1..1048576, got '1048577'"},
    {{"-c", "0", "f"}, "--count: expected 1..18446744073709551615, got '0'"},
    {{"-c", "-1", "f"}, "--count: expected 1..18446744073709551615, got '-1'"},
    {{"--count", "18446744073709551616", "f"},
     "--count: expected 1..18446744073709551615, got '18446744073709551616'"},
    {{"--threads", "0", "f"}, "--threads: expected 1..1024, got '0'"},
    {{"--threads", "1025", "f"}, "--threads: expected 1..1024, got '1025'"},
    {{"--max-connections", "0", "f"}, "--max-connections: expected 1..67108864, got '0'"},
    {{"--max-connections", "-5", "f"}, "--max-connections: expected 1..67108864, got '-5'"},
    {{"--max-connections", "67108865", "f"},
     "--max-connections: expected 1..67108864, got '67108865'"},
    {{"--max-connections", "12x", "f"}, "--max-connections: expected 1..67108864, got '12x'"},
    {{"--memory", "1073741825", "f"}, "--memory: expected 0..1073741824, got '1073741825'"},
    {{"--memory", "-1", "f"}, "--memory: expected 0..1073741824, got '-1'"},
    {{"--vxlan-port", "65536", "f"}, "--vxlan-port: expected 0..65535, got '65536'"},
    {{"--gre-udp-port", "-1", "f"}, "--gre-udp-port: expected 0..65535, got '-1'"},
    {{"--time-wait", "-1", "f"},
     "--time-wait: invalid duration '-1' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--time-wait", "nan", "f"},
     "--time-wait: invalid duration 'nan' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--time-wait", "inf", "f"},
     "--time-wait: invalid duration 'inf' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--time-wait", "1000000001", "f"},
     "--time-wait: invalid duration '1000000001' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--time-wait", "5x", "f"},
     "--time-wait: invalid duration '5x' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--timeout-handshake", "x", "f"},
     "--timeout-handshake: invalid duration 'x' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--timeout-active", "", "f"},
     "--timeout-active: invalid duration '' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--timeout-closed", "-0.5", "f"},
     "--timeout-closed: invalid duration '-0.5' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--stats-interval", "soon", "f"},
     "--stats-interval: invalid duration 'soon' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--duration", "0", "f"}, "--duration: must be above 0"},
    {{"--duration", "1e-10", "f"}, "--duration: must be above 0"},
    {{"--duration", "-1", "f"},
     "--duration: invalid duration '-1' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--format", "xml", "f"},
     "--format: expected 'json', 'text', 'ndjson', 'zeek', 'csv', 'ladder' or 'html', got 'xml'"},
    {{"--capture-end", "soon", "f"},
     "--capture-end: expected a time (1796596044.25 or 2026-12-06T22:26:07.25Z), +DURATION, "
     "mtime or last-packet, got 'soon'"},
    {{"--capture-end", "2026-02-30T00:00:00Z", "f"},
     "--capture-end: expected a time (1796596044.25 or 2026-12-06T22:26:07.25Z), +DURATION, "
     "mtime or last-packet, got '2026-02-30T00:00:00Z'"},
    {{"--capture-end", "2026-12-06T22:26:07", "f"},
     "--capture-end: expected a time (1796596044.25 or 2026-12-06T22:26:07.25Z), +DURATION, "
     "mtime or last-packet, got '2026-12-06T22:26:07'"},
    {{"--capture-end", "+-1s", "f"},
     "--capture-end: invalid duration '-1s' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--format", "JSON", "f"},
     "--format: expected 'json', 'text', 'ndjson', 'zeek', 'csv', 'ladder' or 'html', got 'JSON'"},
    {{"--connections", "some", "f"}, "--connections: expected all, anomalous or none, got 'some'"},
    {{"--split", "bsd", "f"}, "--split: expected 'rfc' or 'zeek', got 'bsd'"},
    {{"--split", "", "f"}, "--split: expected 'rfc' or 'zeek', got ''"},
    {{"--stuck-after", "time_wait=5", "f"},
     "--stuck-after: unknown state 'time_wait'" STUCK_STATES},
    {{"--stuck-after", "listen=1", "f"}, "--stuck-after: unknown state 'listen'" STUCK_STATES},
    {{"--stuck-after", "closed=1", "f"}, "--stuck-after: unknown state 'closed'" STUCK_STATES},
    {{"--stuck-after", "ZERO_WINDOW=1", "f"},
     "--stuck-after: unknown state 'ZERO_WINDOW'" STUCK_STATES},
    {{"--stuck-after", "close_wait=x", "f"},
     "--stuck-after: invalid duration 'x' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--stuck-after", "x=y", "f"},
     "--stuck-after: invalid duration 'y' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--stuck-after", "5,zero_window", "f"},
     "--stuck-after: invalid duration 'zero_window' (seconds, or with a unit: 250ms, 5s, 2m, 1h)"},
    {{"--fail-on", "bogus", "f"},
     "--fail-on: unknown anomaly type 'bogus' (tcpstate --list-anomalies)"},
    {{"--fail-on", "close_wiat_stuck", "f"},
     "--fail-on: unknown anomaly type 'close_wiat_stuck'; did you mean 'close_wait_stuck'?"},
    {{"--frobnicate", "f"}, "unknown option '--frobnicate'"},
    {{"--time", "1", "f"}, "unknown option '--time'"}, /* ambiguous */
    {{"--pretty=1", "f"}, "option '--pretty' takes no value (got '--pretty=1')"},
    {{"--fromat", "json", "f"}, "unknown option '--fromat'; did you mean '--format'?"},
    {{"-Q", "f"}, "unknown option '-Q'"},
    {{"--help", "--bogus"}, "unknown option '--bogus'"},
    {{"-f"}, "option '-f' needs a value"},
    {{"f", "--output"}, "option '--output' needs a value"},
    {{"-i", "eth0", "f.pcap"}, "give either -i INTERFACE or capture files, not both ('f.pcap')"},
    {{"-Z", "nobody", "f.pcap"}, "-Z: only for live capture (-i)"},
    {{"-w", "-", "f.pcap"},
     "-w -: packets and report cannot both go to standard output (give -o FILE)"},
    {{"-w", "-", "-o", "-", "f.pcap"},
     "-w -: packets and report cannot both go to standard output (give -o FILE)"},
    {{NULL}, "no capture file given (try --help)"},
    /* The first error wins. */
    {{"--memory", "1073741825", "--format", "xml", "f"},
     "--memory: expected 0..1073741824, got '1073741825'"},
    {{"--format", "xml", "--memory", "1073741825", "f"},
     "--format: expected 'json', 'text', 'ndjson', 'zeek', 'csv', 'ladder' or 'html', got 'xml'"},
};

START_TEST(errors)
{
    int i = _i;
    int rc = parse(nargs(bad[i].args), bad[i].args);
    ck_assert_msg(rc == TCPST_EUSAGE, "case %d (%s): rc %d", i, bad[i].args[0], rc);
    ck_assert_msg(strcmp(err.msg, bad[i].msg) == 0, "case %d: '%s', want '%s'", i, err.msg,
                  bad[i].msg);
    tcpst_cli_free(&o);
}
END_TEST

/* Every option that takes a value says so when it is missing; a flag refuses one. */
START_TEST(missing_values)
{
    size_t n;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n);
    for (size_t i = 0; i < n; i++) {
        char opt[64], want[160];
        bool flag = rows[i].kind == TCPST__CLI_FLAG;
        snprintf(opt, sizeof opt, flag ? "--%s=1" : "--%s", rows[i].name);
        if (flag) {
            snprintf(want, sizeof want, "option '--%s' takes no value (got '%s')", rows[i].name,
                     opt);
        } else {
            snprintf(want, sizeof want, "option '%s' needs a value", opt);
        }
        const char *a[] = {"f", opt};
        ck_assert_int_eq(parse(2, a), TCPST_EUSAGE);
        ck_assert_msg(strcmp(err.msg, want) == 0, "'%s', want '%s'", err.msg, want);
        if (rows[i].letter && !flag) {
            snprintf(opt, sizeof opt, "-%c", rows[i].letter);
            snprintf(want, sizeof want, "option '%s' needs a value", opt);
            ck_assert_int_eq(parse(2, a), TCPST_EUSAGE);
            ck_assert_msg(strcmp(err.msg, want) == 0, "'%s', want '%s'", err.msg, want);
        }
    }
    tcpst_cli_free(&o);
}
END_TEST

static void expect_uint(const tcpst__cli_row *r, const char *value, bool ok)
{
    char opt[64], want[160];
    snprintf(opt, sizeof opt, "--%s", r->name);
    const char *a[] = {opt, value, "f"};
    int rc = parse(3, a);
    if (ok) {
        ck_assert_msg(rc == 0, "%s %s: %s", opt, value, err.msg);
        return;
    }
    snprintf(want, sizeof want, "%s: expected %llu..%llu, got '%s'", opt, (unsigned long long)r->lo,
             (unsigned long long)r->hi, value);
    ck_assert_msg(rc == TCPST_EUSAGE && strcmp(err.msg, want) == 0, "%s %s: '%s', want '%s'", opt,
                  value, err.msg, want);
}

/* Every unsigned and port option at and past both of its bounds. */
START_TEST(uint_bounds)
{
    size_t n;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n);
    for (size_t i = 0; i < n; i++) {
        const tcpst__cli_row *r = &rows[i];
        if (r->kind != TCPST__CLI_UINT && r->kind != TCPST__CLI_PORTS) {
            continue;
        }
        char v[32];
        snprintf(v, sizeof v, "%llu", (unsigned long long)r->hi);
        expect_uint(r, v, true);
        if (r->kind == TCPST__CLI_UINT && !r->set) {
            ck_assert_uint_eq(row_field(r), r->hi * r->scale);
        }
        snprintf(v, sizeof v, "%llu", (unsigned long long)r->lo);
        expect_uint(r, v, true);
        if (r->hi < UINT64_MAX) {
            snprintf(v, sizeof v, "%llu", (unsigned long long)r->hi + 1);
        } else {
            snprintf(v, sizeof v, "18446744073709551616");
        }
        expect_uint(r, v, false);
        if (r->lo > 0) {
            snprintf(v, sizeof v, "%llu", (unsigned long long)r->lo - 1);
            expect_uint(r, v, false);
        }
        expect_uint(r, "-1", false);
        expect_uint(r, "", false);
        expect_uint(r, "7x", false);
        expect_uint(r, "0.5", false);
    }
    tcpst_cli_free(&o);
}
END_TEST

static void expect_seconds(const char *opt, const char *value, tcpst_time want, size_t at)
{
    const char *a[] = {"-i", "eth0", opt, value, "--", "true"};
    int rc = parse(6, a);
    if (want >= 0) {
        ck_assert_msg(rc == 0, "%s %s: %s", opt, value, err.msg);
        ck_assert_uint_eq(field_at(at, sizeof(tcpst_time)), (uint64_t)want);
        return;
    }
    char msg[128];
    snprintf(msg, sizeof msg,
             "%s: invalid duration '%s' (seconds, or with a unit: 250ms, 5s, 2m, 1h)", opt, value);
    ck_assert_msg(rc == TCPST_EUSAGE && strcmp(err.msg, msg) == 0, "%s %s: '%s'", opt, value,
                  err.msg);
}

/* Every seconds option: fractions, the bounds, and what is not a number of seconds. */
START_TEST(seconds_rows)
{
    size_t n;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n);
    for (size_t i = 0; i < n; i++) {
        const tcpst__cli_row *r = &rows[i];
        if (r->kind != TCPST__CLI_SECONDS) {
            continue;
        }
        char opt[64];
        snprintf(opt, sizeof opt, "--%s", r->name);
        expect_seconds(opt, "0", 0, r->at);
        expect_seconds(opt, "2.5", 2500000000, r->at);
        expect_seconds(opt, "1e9", 1000000000 * NS, r->at);
        expect_seconds(opt, "1000000001", -1, r->at);
        expect_seconds(opt, "-1", -1, r->at);
        expect_seconds(opt, "nan", -1, r->at);
        expect_seconds(opt, "inf", -1, r->at);
        expect_seconds(opt, "", -1, r->at);
        expect_seconds(opt, "1s", NS, r->at);
        expect_seconds(opt, "90m", 5400 * NS, r->at);
        expect_seconds(opt, "3 s", -1, r->at);
        expect_seconds(opt, "1y", -1, r->at);
    }
    tcpst_cli_free(&o);
}
END_TEST

START_TEST(memory)
{
    unsigned long long min = (unsigned long long)tcpst_engine_min_memory_mib();
    char v[32], want[128];
    snprintf(v, sizeof v, "%llu", min);
    const char *a[] = {"--memory", v, "f"};
    ck_assert_int_eq(parse(3, a), 0);
    ck_assert_uint_eq(o.engine.soft_connections, tcpst_engine_soft_limit(min));
    ck_assert_uint_ne(o.engine.soft_connections, 0);
    snprintf(v, sizeof v, "%llu", min - 1);
    ck_assert_int_eq(parse(3, a), TCPST_EUSAGE);
    snprintf(want, sizeof want, "--memory: at least %llu MiB, or 0 for no limit; got '%s'", min, v);
    ck_assert_str_eq(err.msg, want);
    const char *one[] = {"--memory", "1", "f"};
    ck_assert_int_eq(parse(3, one), TCPST_EUSAGE);
    ck_assert(strstr(err.msg, "got '1'") != NULL);
    const char *top[] = {"--memory", "1073741824", "f"};
    ck_assert_int_eq(parse(3, top), 0);
    ck_assert_uint_eq(o.engine.soft_connections, TCPST_MAX_MAX_CONNECTIONS);
    tcpst_cli_free(&o);
}
END_TEST

START_TEST(stuck_after)
{
    const char *v[] = {"--stuck-after", "45,close_wait=60,zero_window=5", "f"};
    ck_assert_int_eq(parse(3, v), 0);
    ck_assert_int_eq(o.engine.conn.stuck_after[TCPST_CLOSE_WAIT], 60 * NS);
    ck_assert_int_eq(o.engine.conn.stuck_after[TCPST_FIN_WAIT_2], 45 * NS);
    ck_assert_int_eq(o.engine.conn.xfer.zero_window_stall, 5 * NS);
    /* Repeated: each use changes only what it names. */
    const char *r[] = {"--stuck-after", "close_wait=1", "--stuck-after", "fin_wait_1=2", "f"};
    ck_assert_int_eq(parse(5, r), 0);
    ck_assert_int_eq(o.engine.conn.stuck_after[TCPST_CLOSE_WAIT], NS);
    ck_assert_int_eq(o.engine.conn.stuck_after[TCPST_FIN_WAIT_1], 2 * NS);
    ck_assert_int_eq(o.engine.conn.stuck_after[TCPST_FIN_WAIT_2], TCPST_DEFAULT_STUCK_AFTER);
    /* TCPST_MAX_STUCK_SPEC characters are taken, one more is too long. */
    char spec[TCPST_MAX_STUCK_SPEC + 2];
    memset(spec, ',', sizeof spec);
    spec[0] = '5';
    spec[TCPST_MAX_STUCK_SPEC] = '\0';
    const char *a[] = {"--stuck-after", spec, "f"};
    ck_assert_int_eq(parse(3, a), 0);
    ck_assert_int_eq(o.engine.conn.stuck_after[TCPST_LAST_ACK], 5 * NS);
    spec[TCPST_MAX_STUCK_SPEC] = ',';
    spec[TCPST_MAX_STUCK_SPEC + 1] = '\0';
    ck_assert_int_eq(parse(3, a), TCPST_EUSAGE);
    ck_assert_str_eq(err.msg, "--stuck-after: value too long");
    tcpst_cli_free(&o);
}
END_TEST

START_TEST(policy_options)
{
    const char *f[] = {"--fail-on", "close_wait_stuck,retransmission>=3", "--fail-on",
                       "severity>=error", "f"};
    ck_assert_int_eq(parse(5, f), 0);
    ck_assert_uint_eq(o.policy.n, 3);
    char path[] = "/tmp/check_cli_policy_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *json = "{\"rules\": [{\"name\": \"r\", \"forbid\": [\"connection_rejected\"]}]}";
    ck_assert_int_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    const char *p[] = {"--policy", path, "--fail-on", "close_wait_stuck", "f"};
    ck_assert_int_eq(parse(5, p), 0);
    ck_assert_uint_eq(o.policy.n, 2);
    unlink(path);
    ck_assert_int_ne(parse(5, p), 0); /* the file is gone */
    ck_assert(strstr(err.msg, path) != NULL);
    tcpst_cli_free(&o);
}
END_TEST

/* ---- the tunnel ports: the first use replaces the default, later uses add, 0 adds none ---- */

static const uint16_t *ports_of(const tcpst__cli_row *r)
{
    return (const uint16_t *)((const char *)&o + r->at);
}

static void expect_ports(const tcpst__cli_row *r, const uint16_t want[4])
{
    const uint16_t *p = ports_of(r);
    ck_assert_msg(memcmp(p, want, 4 * sizeof *p) == 0, "--%s: %u %u %u %u", r->name, p[0], p[1],
                  p[2], p[3]);
}

/* The values given to one tunnel's option, in order, and the list that results. */
static const struct {
    const char *values[6];
    uint16_t want[4];
} port_rule[] = {
    {{"0"}, {0}},              /* alone, 0 empties the list: the tunnel is off */
    {{"1", "2"}, {1, 2}},      /* the first use replaces the default, others add */
    {{"9", "9"}, {9}},         /* listed once */
    {{"1", "0", "2"}, {1, 2}}, /* a later 0 adds nothing */
    {{"0", "7"}, {7}},         /* nor takes anything away */
    {{"5", "0"}, {5}},
    {{"1", "2", "3", "4"}, {1, 2, 3, 4}}, /* TCPST_DECODE_PORTS_MAX */
    {{"65535", "1"}, {65535, 1}},
};

START_TEST(tunnel_ports)
{
    size_t n, k = 0;
    const tcpst__cli_row *rows = tcpst__cli_rows(&n), *r = NULL, *other = NULL;
    for (size_t j = 0; j < n; j++) {
        if (rows[j].kind == TCPST__CLI_PORTS) {
            r = k == (size_t)_i ? &rows[j] : r;
            other = k != (size_t)_i && !other ? &rows[j] : other;
            k++;
        }
    }
    ck_assert_uint_eq(k, 6);
    char opt[64], other_opt[64], want[128];
    snprintf(opt, sizeof opt, "--%s", r->name);
    snprintf(other_opt, sizeof other_opt, "--%s", other->name);
    const char *none[] = {"f"};
    ck_assert_int_eq(parse(1, none), 0);
    const uint16_t def[4] = {ports_of(r)[0]}, other_def[4] = {ports_of(other)[0]};
    ck_assert_uint_ne(def[0], 0);
    expect_ports(r, def);
    for (size_t c = 0; c < sizeof port_rule / sizeof port_rule[0]; c++) {
        const char *a[2 * 6 + 1];
        int m = 0;
        for (int v = 0; v < 6 && port_rule[c].values[v]; v++) {
            a[m++] = opt;
            a[m++] = port_rule[c].values[v];
        }
        a[m++] = "f";
        ck_assert_msg(parse(m, a) == 0, "%s: %s", opt, err.msg);
        expect_ports(r, port_rule[c].want);
        expect_ports(other, other_def);
    }
    /* "Replaced" belongs to one parse: the next starts from the default again. */
    ck_assert_int_eq(parse(1, none), 0);
    expect_ports(r, def);
    const char *five[] = {opt, "1", opt, "2", opt, "3", opt, "4", opt, "5", "f"};
    ck_assert_int_eq(parse(11, five), TCPST_EUSAGE);
    snprintf(want, sizeof want, "%s: at most %d ports", opt, TCPST_DECODE_PORTS_MAX);
    ck_assert_str_eq(err.msg, want);
    /* Another tunnel's option in between does not make this one's next use a first. */
    const char *mixed[] = {opt, "1", other_opt, "5", opt, "2", "f"};
    ck_assert_int_eq(parse(7, mixed), 0);
    const uint16_t one_two[4] = {1, 2}, five_only[4] = {5};
    expect_ports(r, one_two);
    expect_ports(other, five_only);
    tcpst_cli_free(&o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *t = tcase_create("parse");
    tcase_add_test(t, defaults);
    tcase_add_test(t, row_defaults);
    tcase_add_test(t, rows_well_formed);
    tcase_add_test(t, usage_mentions_every_option);
    tcase_add_test(t, formats);
    tcase_add_loop_test(t, accepted, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_test(t, operands);
    tcase_add_test(t, command_split);
    tcase_add_test(t, string_rows);
    tcase_add_test(t, flag_rows);
    tcase_add_test(t, name_rows);
    tcase_add_loop_test(t, errors, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(t, missing_values);
    tcase_add_test(t, uint_bounds);
    tcase_add_test(t, seconds_rows);
    tcase_add_test(t, memory);
    tcase_add_test(t, stuck_after);
    tcase_add_test(t, policy_options);
    tcase_add_loop_test(t, tunnel_ports, 0, 6); /* the six PORTS rows */
    suite_add_tcase(s, t);
    return ckrun(s);
}
