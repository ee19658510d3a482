/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.c - argv -> tcpst_options, driven by one table with a row per option.
 *
 * A row (cli_table.h) holds an option's names, how its value is read, the field it goes to
 * and its default from limits.h, in the manner of Redis's config.c.  getopt_long's long and
 * short option lists are built from the rows, the defaults are stored from them, and the
 * parse is a loop that finds the row of each option and applies it.  Every value is
 * range-checked here so the engine never sees a nonsensical setting.
 *
 * It does not print, exit or open anything but --policy's file: main.c shows the help,
 * the version and the errors; the help text is in cli_usage.c.
 */
#include "cli_table.h"

#include "tcpstate/limits.h"
#include "tcpstate/timefmt.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef tcpst__cli_row cli_row;

/* ---- name tables ---- */

static const tcpst__cli_name conns_names[] = {{"all", TCPST_CONNS_ALL},
                                              {"anomalous", TCPST_CONNS_ANOMALOUS},
                                              {"none", TCPST_CONNS_NONE},
                                              {NULL, 0}};
/* The value is engine.split_zeek. */
static const tcpst__cli_name split_names[] = {{"rfc", false}, {"zeek", true}, {NULL, 0}};

/* ---- the table ---- */

static int set_memory(const cli_row *r, tcpst_options *o, uint64_t mib, const char *arg,
                      tcpst_error *err);
static int set_format(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err);
static int set_duration(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err);
static int set_capture_end(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err);
static int set_stuck_after(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err);
static int add_fail_on(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err);
/* -r FILE, in order before the operands. */
static int add_read(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err)
{
    (void)r;
    const char **nf = realloc(o->files, (o->nfiles + 1) * sizeof *nf);
    if (!nf) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    o->files = nf;
    o->files[o->nfiles++] = arg;
    return 0;
}

static int load_policy(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err);
static int add_selection(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err);
static int add_read(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err);

#define FIELD_TYPE(field)                                                                          \
    _Generic(((tcpst_options *)0)->field,                                                          \
        bool: TCPST__CLI_T_BOOL,                                                                   \
        int: TCPST__CLI_T_INT,                                                                     \
        unsigned: TCPST__CLI_T_UINT,                                                               \
        uint64_t: TCPST__CLI_T_U64,                                                                \
        tcpst_time: TCPST__CLI_T_TIME,                                                             \
        const char *: TCPST__CLI_T_STRING,                                                         \
        uint16_t *: TCPST__CLI_T_PORTS,                                                            \
        default: TCPST__CLI_T_NONE)
#define AT(field) .at = offsetof(tcpst_options, field), .type = FIELD_TYPE(field)

/* One macro per kind, so that each row is one line: name, letter, field, then the rest. */
/* clang-format off */
#define FLAG(n, l, field, dflt) {n, l, TCPST__CLI_FLAG, AT(field), .def = (dflt)}
#define UINT(n, l, field, min, max, dflt) \
    {n, l, TCPST__CLI_UINT, AT(field), .lo = (min), .hi = (max), .scale = 1, .def = (dflt)}
#define KIB(n, l, field, min, max, dflt) \
    {n, l, TCPST__CLI_UINT, AT(field), .lo = (min), .hi = (max), .scale = 1024, .unit = 1024, \
     .def = (dflt)}
#define BYTES(n, l, field, min, max, dflt) \
    {n, l, TCPST__CLI_UINT, AT(field), .lo = (min), .hi = (max), .scale = 1, .unit = 1, \
     .def = (dflt)}
#define UINT_SET(n, l, field, min, max, dflt, fn) \
    {n, l, TCPST__CLI_UINT, AT(field), .lo = (min), .hi = (max), .scale = 1, .def = (dflt), \
     .set = (fn)}
#define MIB_SET(n, l, field, min, max, dflt, fn) \
    {n, l, TCPST__CLI_UINT, AT(field), .lo = (min), .hi = (max), .scale = 1, \
     .unit = (uint64_t)1 << 20, .def = (dflt), .set = (fn)}
#define SECONDS(n, l, field, dflt) {n, l, TCPST__CLI_SECONDS, AT(field), .def = (dflt)}
#define STRING(n, l, field) {n, l, TCPST__CLI_STRING, AT(field)}
#define NAME(n, l, field, table, quote, dflt) \
    {n, l, TCPST__CLI_NAME, AT(field), .names = (table), .quoted = (quote), .def = (dflt)}
#define PORTS(n, field) {n, 0, TCPST__CLI_PORTS, AT(field), .lo = 0, .hi = UINT16_MAX}
#define CUSTOM(n, l, fn) {n, l, TCPST__CLI_CUSTOM, .parse = (fn)}
/* clang-format on */
/* NAME: whether the error message quotes the names. */
#define QUOTED true
#define BARE   false

/*
 * In the order of the help text.  Rows without a default (STRING, PORTS, CUSTOM) keep what
 * tcpst_engine_config_default, tcpst_live_config_default and tcpst_policy_init give: NULL,
 * the decoder's tunnel ports, the stuck-state times of detect.c, no rules.
 */
static const cli_row rows[] = {
    STRING("filter", 'f', filter),
    STRING("output", 'o', output),
    FLAG("pretty", 0, pretty, false),
    CUSTOM("format", 0, set_format),
    SECONDS("stats-interval", 0, stats_interval, TCPST_DEFAULT_STATS_INTERVAL),
    /* Live capture. */
    STRING("interface", 'i', live_cfg.iface),
    CUSTOM("read", 'r', add_read),        /* tcpdump's -r FILE: a capture file, as an operand is */
    FLAG("numeric", 'n', numeric, false), /* tcpdump's -n: names are never resolved anyway */
    FLAG("list-interfaces", 'D', list_interfaces, false),
    BYTES("snaplen", 's', live_cfg.snaplen, TCPST_MIN_SNAPLEN, TCPST_MAX_SNAPLEN,
          TCPST_LIVE_SNAPLEN),
    KIB("buffer-size", 'B', live_cfg.buffer_size, 1, TCPST_MAX_BUFFER_KIB, 0),
    FLAG("no-promiscuous-mode", 'p', live_cfg.promisc, true),
    STRING("write", 'w', write_file),
    STRING("relinquish-privileges", 'Z', user),
    CUSTOM("duration", 0, set_duration),
    CUSTOM("capture-end", 0, set_capture_end),
    FLAG("allow-truncated", 0, allow_truncated, false),
    SECONDS("grace", 0, grace, TCPST_DEFAULT_GRACE),
    STRING("run-as", 0, run_as),
    UINT("count", 'c', count, 1, UINT64_MAX, 0),
    /* Encapsulations. */
    PORTS("vxlan-port", engine.decode.vxlan_ports),
    PORTS("geneve-port", engine.decode.geneve_ports),
    PORTS("gtpu-port", engine.decode.gtpu_ports),
    PORTS("teredo-port", engine.decode.teredo_ports),
    PORTS("ayiya-port", engine.decode.ayiya_ports),
    PORTS("gre-udp-port", engine.decode.gre_udp_ports),
    FLAG("no-tunnels", 0, engine.decode.tunnels, true),
    FLAG("ignore-encap-key", 0, engine.decode.key_encap, true),
    FLAG("no-reassembly", 0, engine.reassemble, true),
    /* Analysis. */
    NAME("connections", 0, connections, conns_names, BARE, TCPST_CONNS_ALL),
    CUSTOM("connection", 0, add_selection),
    UINT("max-connections", 0, engine.max_connections, 1, TCPST_MAX_MAX_CONNECTIONS,
         TCPST_DEFAULT_MAX_CONNECTIONS),
    MIB_SET("memory", 0, engine.soft_connections, 0, TCPST_MAX_MEMORY_MIB, TCPST_DEFAULT_MEMORY_MIB,
            set_memory),
    SECONDS("time-wait", 0, engine.conn.time_wait, TCPST_DEFAULT_TIME_WAIT),
    SECONDS("timeout-handshake", 0, engine.timeout[TCPST_LRU_HANDSHAKE],
            TCPST_DEFAULT_TIMEOUT_HANDSHAKE),
    SECONDS("timeout-active", 0, engine.timeout[TCPST_LRU_ACTIVE], TCPST_DEFAULT_TIMEOUT_ACTIVE),
    SECONDS("timeout-closed", 0, engine.timeout[TCPST_LRU_CLOSED], TCPST_DEFAULT_TIMEOUT_CLOSED),
    CUSTOM("stuck-after", 0, set_stuck_after),
    FLAG("verify-checksums", 0, engine.verify_checksums, false),
    UINT("threads", 0, threads, 1, TCPST_MAX_THREADS, 0),
    NAME("split", 0, engine.split_zeek, split_names, QUOTED, false),
    CUSTOM("fail-on", 0, add_fail_on),
    CUSTOM("policy", 0, load_policy),
    STRING("junit", 0, junit),
    FLAG("list-anomalies", 0, list_anomalies, false),
    FLAG("quiet", 'q', quiet, false),
    STRING("explain", 0, explain),
    FLAG("help", 'h', help, false),
    FLAG("version", 'V', version, false),
};

#undef FIELD_TYPE
#undef AT
#undef FLAG
#undef UINT
#undef KIB
#undef UINT_SET
#undef BYTES
#undef MIB_SET
#undef SECONDS
#undef STRING
#undef NAME
#undef PORTS
#undef CUSTOM
#undef QUOTED
#undef BARE

#define NROWS (sizeof rows / sizeof rows[0])

const tcpst__cli_row *tcpst__cli_rows(size_t *n)
{
    *n = NROWS;
    return rows;
}

/* ---- reading and storing values ---- */

/* Stores an integer in a field of the given type; the rows' bounds keep it in range. */
static void store(void *field, tcpst__cli_type type, uint64_t v)
{
    switch (type) {
        case TCPST__CLI_T_BOOL:
            *(bool *)field = v != 0;
            break;
        case TCPST__CLI_T_INT:
            *(int *)field = (int)v;
            break;
        case TCPST__CLI_T_UINT:
            *(unsigned *)field = (unsigned)v;
            break;
        case TCPST__CLI_T_U64:
            *(uint64_t *)field = v;
            break;
        case TCPST__CLI_T_TIME:
            *(tcpst_time *)field = (tcpst_time)v;
            break;
        case TCPST__CLI_T_NONE:
        case TCPST__CLI_T_STRING:
        case TCPST__CLI_T_PORTS:
            break; /* not integers: no row stores one there (check_cli tests the rows) */
    }
}

/* A size's suffix (K, M or G, binary, an optional "iB" or "B"): its bytes, or 0. */
static uint64_t size_suffix(const char *end)
{
    static const char letters[] = "KMG";
    const char *at = *end ? strchr(letters, end[0] & ~0x20) : NULL;
    if (!at) {
        return 0;
    }
    const char *rest = end + 1;
    if (*rest && strcasecmp(rest, "B") != 0 && strcasecmp(rest, "iB") != 0) {
        return 0;
    }
    return (uint64_t)1 << (10 * (unsigned)(at - letters + 1));
}

/* A decimal in r->lo..r->hi; a size (r->unit) also with a K, M or G suffix, which must come
 * to a whole number of the option's unit.  strtoull takes "-1" as a huge number, hence the
 * sign test. */
static int read_uint(const cli_row *r, const char *s, uint64_t *out, tcpst_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mult = r->unit && end != s ? size_suffix(end) : 0;
    if (mult && !errno && s[0] != '-') {
        if (v > UINT64_MAX / mult || (v * mult) % r->unit != 0) {
            return tcpst_error_set(err, TCPST_EUSAGE, "--%s: '%s' is not a whole number of %s",
                                   r->name, s,
                                   r->unit == 1      ? "bytes"
                                   : r->unit == 1024 ? "KiB"
                                                     : "MiB");
        }
        v = v * mult / r->unit;
        end += strlen(end);
    }
    if (errno || end == s || *end || s[0] == '-' || v < r->lo || v > r->hi) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--%s: expected %llu..%llu, got '%s'", r->name,
                               (unsigned long long)r->lo, (unsigned long long)r->hi, s);
    }
    *out = v;
    return 0;
}

/* Seconds with an optional fraction ("2.5"), as nanoseconds. */
/* A duration: seconds, or a number with a unit (250ms, 5s, 2m, 1h; timefmt.h). */
static int read_seconds(const cli_row *r, const char *s, tcpst_time *out, tcpst_error *err)
{
    if (!tcpst_parse_duration(s, (tcpst_time)TCPST_MAX_SECONDS * TCPST_NS_PER_SEC, out)) {
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "--%s: invalid duration '%s' (seconds, or with a unit: 250ms, "
                               "5s, 2m, 1h)",
                               r->name, s);
    }
    return 0;
}

/* --capture-end WHEN: a time (Unix seconds or RFC 3339), +DURATION after the last packet,
 * mtime or last-packet. */
static int set_capture_end(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err)
{
    o->end_text = arg;
    if (strcmp(arg, "mtime") == 0) {
        o->end_given = TCPST_ENDG_MTIME;
        return 0;
    }
    if (strcmp(arg, "last-packet") == 0) {
        o->end_given = TCPST_ENDG_LAST_PACKET;
        return 0;
    }
    if (arg[0] == '+') {
        o->end_given = TCPST_ENDG_AFTER_LAST;
        return read_seconds(r, arg + 1, &o->end_at, err);
    }
    if (!tcpst_parse_time(arg, &o->end_at)) {
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "--%s: expected a time (1796596044.25 or "
                               "2026-12-06T22:26:07.25Z), +DURATION, mtime or last-packet, got "
                               "'%s'",
                               r->name, arg);
    }
    o->end_given = TCPST_ENDG_AT;
    return 0;
}

void tcpst__cli_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
    }
}

static int set_uint(const cli_row *r, tcpst_options *o, void *field, const char *arg,
                    tcpst_error *err)
{
    uint64_t v = 0; /* set on success; -O3 cannot see that */
    if (read_uint(r, arg, &v, err)) {
        return TCPST_EUSAGE;
    }
    if (r->set) {
        return r->set(r, o, v, arg, err);
    }
    store(field, r->type, v * r->scale);
    return 0;
}

static int set_seconds(const cli_row *r, void *field, const char *arg, tcpst_error *err)
{
    tcpst_time v = 0;
    if (read_seconds(r, arg, &v, err)) {
        return TCPST_EUSAGE;
    }
    store(field, r->type, (uint64_t)v);
    return 0;
}

/* The error lists the names: "'rfc' or 'zeek'", "all, anomalous or none". */
static int set_name(const cli_row *r, void *field, const char *arg, tcpst_error *err)
{
    for (const tcpst__cli_name *n = r->names; n->name; n++) {
        if (strcmp(arg, n->name) == 0) {
            store(field, r->type, (uint64_t)n->value);
            return 0;
        }
    }
    char list[128];
    size_t len = 0;
    const char *q = r->quoted ? "'" : "";
    for (const tcpst__cli_name *n = r->names; n->name; n++) {
        const char *sep = n == r->names ? "" : n[1].name ? ", " : " or ";
        tcpst__cli_append(list, sizeof list, &len, "%s%s%s%s", sep, q, n->name, q);
    }
    return tcpst_error_set(err, TCPST_EUSAGE, "--%s: expected %s, got '%s'", r->name, list, arg);
}

/*
 * A tunnel port: the first use in a parse empties the default list, then each use adds its
 * port; 0 adds none, so "--vxlan-port 0" alone turns VXLAN off.
 */
static int add_port(const cli_row *r, uint16_t *ports, bool first, const char *arg,
                    tcpst_error *err)
{
    uint64_t v = 0; /* set on success; -O3 cannot see that */
    if (read_uint(r, arg, &v, err)) {
        return TCPST_EUSAGE;
    }
    if (first) {
        memset(ports, 0, sizeof *ports * TCPST_DECODE_PORTS_MAX);
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
    return tcpst_error_set(err, TCPST_EUSAGE, "--%s: at most %d ports", r->name,
                           TCPST_DECODE_PORTS_MAX);
}

/* ---- the options with rules of their own ---- */

/* --memory MIB: the table's soft limit follows from it (engine.c); 0 is no limit. */
static int set_memory(const cli_row *r, tcpst_options *o, uint64_t mib, const char *arg,
                      tcpst_error *err)
{
    o->engine.soft_connections = mib ? tcpst_engine_soft_limit(mib) : 0;
    if (mib && !o->engine.soft_connections) {
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "--%s: at least %llu MiB, or 0 for no limit; got '%s'", r->name,
                               (unsigned long long)tcpst_engine_min_memory_mib(), arg);
    }
    return 0;
}

/* --format NAME: one of the report's formats (report.c's table), so a new format is
 * accepted here without a line of this file. */
static int set_format(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err)
{
    if (!tcpst_report_format_known(arg)) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--%s: expected %s, got '%s'", r->name,
                               tcpst_report_format_list(), arg);
    }
    o->format = arg;
    return 0;
}

/* --duration SECONDS: 0 would mean "stop at once", which nobody wants; absent is no limit. */
static int set_duration(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err)
{
    if (read_seconds(r, arg, &o->duration, err)) {
        return TCPST_EUSAGE;
    }
    if (o->duration == 0) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--%s: must be above 0", r->name);
    }
    return 0;
}

/* A state that can be stuck, by its name in either case; -1 if none (zero_window is not). */
static int stuck_state(const char *name)
{
    char upper[64];
    size_t n = strlen(name);
    for (size_t i = 0; i <= n && i < sizeof upper; i++) {
        upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    }
    upper[sizeof upper - 1] = '\0';
    int st = tcpst_state_parse(upper);
    /* Never reported as stuck: CLOSED and LISTEN are not connections, TIME_WAIT ends itself. */
    if (st == TCPST_CLOSED || st == TCPST_LISTEN || st == TCPST_TIME_WAIT) {
        return -1;
    }
    return st;
}

/* One item of --stuck-after: "SECONDS" or "state=SECONDS". */
static int stuck_item(const cli_row *r, tcpst_conn_config *cfg, char *item, tcpst_error *err)
{
    char *eq = strchr(item, '=');
    tcpst_time v = 0;
    if (eq) {
        *eq = '\0';
    }
    if (read_seconds(r, eq ? eq + 1 : item, &v, err)) {
        return TCPST_EUSAGE;
    }
    if (!eq) {
        for (int s = 0; s < TCPST_STATE__COUNT; s++) {
            cfg->stuck_after[s] = v;
        }
        cfg->xfer.zero_window_stall = v;
        return 0;
    }
    if (strcmp(item, "zero_window") == 0) {
        cfg->xfer.zero_window_stall = v;
        return 0;
    }
    int st = stuck_state(item);
    if (st < 0) {
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "--%s: unknown state '%s' (use e.g. close_wait, fin_wait_1, "
                               "fin_wait_2, last_ack, syn_sent, syn_received, established, "
                               "zero_window)",
                               r->name, item);
    }
    cfg->stuck_after[st] = v;
    return 0;
}

/*
 * --stuck-after SPEC: "SECONDS" sets every state (and the zero-window stall);
 * "state=SECONDS[,state=SECONDS...]" sets one state, e.g. close_wait=60.
 */
static int set_stuck_after(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err)
{
    char buf[TCPST_MAX_STUCK_SPEC + 1];
    if (strlen(arg) >= sizeof buf) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--%s: value too long", r->name);
    }
    strcpy(buf, arg);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (stuck_item(r, &o->engine.conn, item, err)) {
            return TCPST_EUSAGE;
        }
    }
    return 0;
}

static int add_fail_on(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err)
{
    (void)r;
    return tcpst_policy_add_fail_on(&o->policy, arg, err);
}

static int add_selection(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err)
{
    (void)r;
    return tcpst_selection_add(&o->selection, arg, err);
}

static int load_policy(const cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err)
{
    (void)r;
    return tcpst_policy_load(&o->policy, arg, err);
}

/* ---- the parse ---- */

/* getopt_long's value for a long-only option: past every char, then the row's index. */
#define LONG_ONLY 256

/* What one parse builds and remembers: the getopt lists and which options it has seen. */
typedef struct cli_run {
    struct option longopts[NROWS + 1];
    char shortopts[1 + 2 * NROWS + 1];
    bool given[NROWS]; /* PORTS: the first use replaces the default list */
} cli_run;

static void build_getopt(cli_run *run)
{
    size_t n = 0;
    run->shortopts[n++] = ':'; /* a missing value returns ':', not '?' */
    for (size_t i = 0; i < NROWS; i++) {
        const cli_row *r = &rows[i];
        int has_arg = r->kind == TCPST__CLI_FLAG ? no_argument : required_argument;
        run->longopts[i] =
            (struct option){r->name, has_arg, NULL, r->letter ? r->letter : LONG_ONLY + (int)i};
        if (r->letter) {
            run->shortopts[n++] = r->letter;
            if (has_arg == required_argument) {
                run->shortopts[n++] = ':';
            }
        }
    }
    run->shortopts[n] = '\0';
    run->longopts[NROWS] = (struct option){NULL, 0, NULL, 0};
}

/* The row getopt_long's return value stands for, or NROWS for none (':' and '?'). */
static size_t row_index(int ch)
{
    if (ch >= LONG_ONLY) {
        return (size_t)(ch - LONG_ONLY);
    }
    size_t i = 0;
    while (i < NROWS && rows[i].letter != ch) {
        i++;
    }
    return i;
}

static int apply(cli_run *run, tcpst_options *o, size_t i, const char *arg, tcpst_error *err)
{
    const cli_row *r = &rows[i];
    void *field = (char *)o + r->at;
    bool first = !run->given[i];
    run->given[i] = true;
    switch (r->kind) {
        case TCPST__CLI_FLAG:
            store(field, r->type, r->def ? 0 : 1);
            return 0;
        case TCPST__CLI_UINT:
            return set_uint(r, o, field, arg, err);
        case TCPST__CLI_SECONDS:
            return set_seconds(r, field, arg, err);
        case TCPST__CLI_STRING:
            *(const char **)field = arg;
            return 0;
        case TCPST__CLI_NAME:
            return set_name(r, field, arg, err);
        case TCPST__CLI_PORTS:
            return add_port(r, field, first, arg, err);
        case TCPST__CLI_CUSTOM:
            return r->parse(r, o, arg, err);
    }
    return 0;
}

/* The layers' defaults, then each row's; the rows' defaults are within their bounds. */
static void set_defaults(tcpst_options *o)
{
    memset(o, 0, sizeof *o);
    tcpst_engine_config_default(&o->engine);
    tcpst_policy_init(&o->policy);
    tcpst_live_config_default(&o->live_cfg);
    for (size_t i = 0; i < NROWS; i++) {
        const cli_row *r = &rows[i];
        void *field = (char *)o + r->at;
        if (r->kind == TCPST__CLI_UINT && r->set) {
            (void)r->set(r, o, (uint64_t)r->def, NULL, NULL);
        } else if (r->kind == TCPST__CLI_UINT) {
            store(field, r->type, (uint64_t)r->def * r->scale);
        } else if (r->kind == TCPST__CLI_FLAG || r->kind == TCPST__CLI_SECONDS ||
                   r->kind == TCPST__CLI_NAME) {
            store(field, r->type, (uint64_t)r->def);
        }
    }
}

/* What getopt_long refused: a missing value or an unknown option. */
static int getopt_error(int ch, char **argv, tcpst_error *err)
{
    if (ch == ':') {
        return tcpst_error_set(err, TCPST_EUSAGE, "option '%s' needs a value", argv[optind - 1]);
    }
    return tcpst__cli_unknown(argv[optind - 1], err);
}

/* The row an option names: its letter, or its long name or an unambiguous prefix of it (as
 * getopt_long takes them); NULL for none. */
static const cli_row *row_named(const char *name, size_t len, char letter)
{
    const cli_row *found = NULL;
    unsigned prefixes = 0;
    for (size_t i = 0; i < NROWS; i++) {
        const cli_row *r = &rows[i];
        if (letter ? r->letter == letter : strncmp(r->name, name, len) == 0) {
            if (letter || strlen(r->name) == len) {
                return r;
            }
            found = r;
            prefixes++;
        }
    }
    return prefixes == 1 ? found : NULL; /* an ambiguous prefix is getopt's error */
}

static bool takes_value(const cli_row *r)
{
    return r && r->kind != TCPST__CLI_FLAG;
}

/* Where "--" ends tcpstate's own arguments (argc when it does not): the first "--" that is
 * not the value of an option before it. */
static int split_at(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            return i;
        }
        if (a[0] != '-' || a[1] == '\0') {
            continue;
        }
        if (a[1] == '-') {
            i += !strchr(a, '=') && takes_value(row_named(a + 2, strlen(a + 2), 0));
            continue;
        }
        for (const char *c = a + 1; *c; c++) {
            if (takes_value(row_named(NULL, 0, *c))) {
                i += c[1] == '\0'; /* "-w" FILE; "-wFILE" holds its value */
                break;
            }
        }
    }
    return argc;
}

/* After the options: the capture files, or the interface, and what cannot go together.
 * argv[split] is the "--" that ends them, or split is argc. */
static int take_operands(int argc, int split, char **argv, tcpst_options *o, tcpst_error *err)
{
    if (split < argc && o->live) {
        if (split + 1 >= argc) {
            return tcpst_error_set(err, TCPST_EUSAGE, "--: no command given after it");
        }
        o->command = argv + split + 1;
        argc = split;
    }
    if (o->write_file && strcmp(o->write_file, "-") == 0 &&
        (!o->output || strcmp(o->output, "-") == 0)) {
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "-w -: packets and report cannot both go to standard output "
                               "(give -o FILE)");
    }
    if (o->command && !o->live) {
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "-- COMMAND needs a live capture to wrap it: tcpstate -i "
                               "INTERFACE [OPTIONS] -- COMMAND");
    }
    if (!o->command && (o->grace_given || o->run_as)) {
        return tcpst_error_set(err, TCPST_EUSAGE, "--%s: only with -i INTERFACE -- COMMAND",
                               o->run_as ? "run-as" : "grace");
    }
    if (o->live && o->write_file && o->selection.n > 0 &&
        !tcpst_selection_by_tuple(&o->selection)) {
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "-w with --connection by anomaly needs capture files (a live "
                               "capture cannot be read twice); choose by id, ADDR:PORT or "
                               "A:P-B:P");
    }
    if (o->live) {
        if (o->nfiles > 0) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "give either -i INTERFACE or capture files, not both ('%s')",
                                   o->files[0]);
        }
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
    if (optind >= argc && o->nfiles == 0) {
        return tcpst_error_set(err, TCPST_EUSAGE, "no capture file given (try --help)");
    }
    if (o->write_file && o->selection.n > 0 && !tcpst_selection_by_tuple(&o->selection)) {
        /* Chosen by finding, a record's packets are known only when it ends: -w reads the
         * inputs a second time, which a pipe or an interface cannot give. */
        bool stdin_read = false;
        for (size_t i = 0; i < o->nfiles; i++) {
            stdin_read |= strcmp(o->files[i], "-") == 0;
        }
        for (int i = optind; i < argc; i++) {
            stdin_read |= i != split && strcmp(argv[i], "-") == 0;
        }
        if (stdin_read) {
            return tcpst_error_set(err, TCPST_EUSAGE,
                                   "-w with --connection by anomaly needs capture files "
                                   "(standard input cannot be read twice); choose by id, "
                                   "ADDR:PORT or A:P-B:P");
        }
    }
    /* Without -i, "--" only ends the options: what follows are files too, after any -r. */
    size_t n = o->nfiles, more = (size_t)(argc - optind - (split < argc));
    const char **nf = realloc(o->files, (n + more + 1) * sizeof *nf);
    if (!nf) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    o->files = nf;
    for (int i = optind; i < argc; i++) {
        if (i != split) {
            o->files[n++] = argv[i];
        }
    }
    o->nfiles = n;
    return 0;
}

int tcpst_cli_parse(int argc, char **argv, tcpst_options *o, tcpst_error *err)
{
    cli_run run = {.given = {false}};
    build_getopt(&run);
    set_defaults(o);
    optind = 1;
    opterr = 0;
    int ch, rc = 0;
    /* getopt_long sees what comes before "--" only: COMMAND's own options are its own. */
    int split = split_at(argc, argv);
    while (rc == 0 && (ch = getopt_long(split, argv, run.shortopts, run.longopts, NULL)) != -1) {
        size_t i = row_index(ch);
        rc = i < NROWS ? apply(&run, o, i, optarg, err) : getopt_error(ch, argv, err);
    }
    o->live = o->live_cfg.iface != NULL;
    if (rc) {
        return rc;
    }
    if (o->help || o->version || o->list_interfaces || o->list_anomalies || o->explain) {
        return 0;
    }
    const cli_row *grace = row_named("grace", 5, 0);
    o->grace_given = grace && run.given[grace - rows];
    rc = take_operands(argc, split, argv, o, err);
    if (rc == 0 && o->command) {
        /* The end of the run is judged as CI needs it (docs/ci.md): leaks whatever their
         * age, and without rules of its own a finding of severity error fails it. */
        o->engine.conn.end_any_age = true;
        if (o->policy.n == 0) {
            rc = tcpst_policy_add_fail_on(&o->policy, "severity>=error", err);
        }
    }
    return rc;
}

void tcpst_cli_free(tcpst_options *o)
{
    free(o->files);
    o->files = NULL;
    tcpst_policy_fini(&o->policy);
    tcpst_selection_fini(&o->selection);
}
