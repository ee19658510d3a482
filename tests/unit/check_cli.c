/*
 * check_cli.c - option parsing: defaults, every option, and every error.
 */
#include <check.h>
#include <string.h>

#include "ckrun.h"
#include "tcpstate/cli.h"
#include "tcpstate/limits.h"
#include "tcpstate/report.h"

static tcpst_options o;
static tcpst_error err;

static int parse(int n, const char *const *args)
{
    char *argv[24];
    argv[0] = (char *)"tcpstate";
    for (int i = 0; i < n; i++) {
        argv[i + 1] = (char *)args[i];
    }
    tcpst_cli_free(&o);
    memset(&err, 0, sizeof err);
    return tcpst_cli_parse(n + 1, argv, &o, &err);
}

START_TEST(defaults)
{
    const char *a[] = {"x.pcap"};
    ck_assert_int_eq(parse(1, a), 0);
    ck_assert_uint_eq(o.nfiles, 1);
    ck_assert_str_eq(o.files[0], "x.pcap");
    ck_assert_ptr_null(o.filter);
    ck_assert_ptr_null(o.output);
    ck_assert(!o.pretty && !o.engine.split_zeek);
    ck_assert_uint_eq(o.engine.max_connections, TCPST_DEFAULT_MAX_CONNECTIONS);
    ck_assert_int_eq(o.engine.conn.time_wait, TCPST_DEFAULT_TIME_WAIT);
    ck_assert_int_eq(o.engine.timeout[TCPST_LRU_ACTIVE], TCPST_DEFAULT_TIMEOUT_ACTIVE);
    tcpst_cli_free(&o);
}
END_TEST

START_TEST(all_options)
{
    const char *a[] = {"-f", "tcp port 80", "--split", "zeek"};
    ck_assert_int_eq(parse(4, a), TCPST_EUSAGE); /* options but no file */
    const char *c[] = {"-f",   "tcp port 80", "-o",  "r.json",  "--pretty", "--max-connections",
                       "1000", "--time-wait", "2.5", "--split", "zeek",     "a.pcap",
                       "-"};
    ck_assert_int_eq(parse(13, c), 0);
    ck_assert_str_eq(o.filter, "tcp port 80");
    ck_assert_str_eq(o.output, "r.json");
    ck_assert(o.pretty);
    ck_assert(o.engine.split_zeek);
    ck_assert_uint_eq(o.engine.max_connections, 1000);
    ck_assert_int_eq(o.engine.conn.time_wait, 2500000000);
    ck_assert_uint_eq(o.nfiles, 2);
    ck_assert_str_eq(o.files[1], "-");
    const char *d[] = {
        "--timeout-handshake", "10", "--timeout-active", "20", "--timeout-closed", "0.5", "f"};
    ck_assert_int_eq(parse(7, d), 0);
    ck_assert_int_eq(o.engine.timeout[TCPST_LRU_HANDSHAKE], 10 * TCPST_NS_PER_SEC);
    ck_assert_int_eq(o.engine.timeout[TCPST_LRU_ACTIVE], 20 * TCPST_NS_PER_SEC);
    ck_assert_int_eq(o.engine.timeout[TCPST_LRU_CLOSED], TCPST_NS_PER_SEC / 2);
    ck_assert(!o.engine.verify_checksums);
    const char *v[] = {"--verify-checksums", "--stuck-after", "45,close_wait=60,zero_window=5",
                       "f"};
    ck_assert_int_eq(parse(4, v), 0);
    ck_assert(o.engine.verify_checksums);
    ck_assert_int_eq(o.engine.conn.stuck_after[TCPST_CLOSE_WAIT], 60 * TCPST_NS_PER_SEC);
    ck_assert_int_eq(o.engine.conn.stuck_after[TCPST_FIN_WAIT_2], 45 * TCPST_NS_PER_SEC);
    ck_assert_int_eq(o.engine.conn.xfer.zero_window_stall, 5 * TCPST_NS_PER_SEC);
    tcpst_cli_free(&o);
}
END_TEST

static const struct {
    const char *args[3];
    int n;
    const char *msg; /* must appear in the error */
} bad[] = {
    {{"--max-connections", "0", "f"}, 3, "--max-connections"},
    {{"--max-connections", "-5", "f"}, 3, "--max-connections"},
    {{"--max-connections", "99999999999", "f"}, 3, "--max-connections"},
    {{"--max-connections", "12x", "f"}, 3, "12x"},
    {{"--time-wait", "-1", "f"}, 3, "--time-wait"},
    {{"--time-wait", "nan", "f"}, 3, "nan"},
    {{"--timeout-active", "", "f"}, 3, "--timeout-active"},
    {{"--split", "bsd", "f"}, 3, "bsd"},
    {{"--stuck-after", "time_wait=5", "f"}, 3, "time_wait"},
    {{"--stuck-after", "close_wait=x", "f"}, 3, "x"},
    {{"--frobnicate", "f"}, 2, "--frobnicate"},
    {{"-f"}, 1, "needs a value"},
    {{"f", "--output"}, 2, "needs a value"},
    {{"-q", "f"}, 2, "-q"},
    {{"-i", "eth0", "f.pcap"}, 3, "not both"},
    {{"-Z", "nobody", "f.pcap"}, 3, "only for live"},
    {{"-w", "-", "f.pcap"}, 3, "standard output"},
    {{"--format", "xml", "f"}, 3, "ndjson"},
    {{"--duration", "0", "f"}, 3, "above 0"},
    {{"-c", "0", "f"}, 3, "--count"},
    {{"-s", "10", "f"}, 3, "--snaplen"},
    {{"-B", "0", "f"}, 3, "--buffer-size"},
    {{"--vxlan-port", "70000", "f"}, 3, "--vxlan-port"},
    {{"--stats-interval", "soon", "f"}, 3, "soon"},
};

START_TEST(errors)
{
    int i = _i;
    int rc = parse(bad[i].n, bad[i].args);
    ck_assert_msg(rc == TCPST_EUSAGE, "case %d (%s): rc %d", i, bad[i].args[0], rc);
    ck_assert_msg(strstr(err.msg, bad[i].msg) != NULL, "case %d: '%s' lacks '%s'", i, err.msg,
                  bad[i].msg);
    ck_assert(strchr(err.msg, '\n') == NULL);
    tcpst_cli_free(&o);
}
END_TEST

START_TEST(live_options)
{
    const char *a[] = {"-i",     "veth0",      "-s",     "128",      "-B",     "4096",
                       "-p",     "--duration", "2.5",    "-c",       "1000",   "-w",
                       "x.pcap", "-Z",         "nobody", "--format", "ndjson", "--stats-interval",
                       "0"};
    ck_assert_int_eq(parse((int)(sizeof a / sizeof a[0]), a), 0);
    ck_assert(o.live);
    ck_assert_uint_eq(o.nfiles, 0);
    ck_assert_str_eq(o.live_cfg.iface, "veth0");
    ck_assert_int_eq(o.live_cfg.snaplen, 128);
    ck_assert_int_eq(o.live_cfg.buffer_size, 4096 * 1024);
    ck_assert(!o.live_cfg.promisc);
    ck_assert_int_eq(o.duration, 2500000000);
    ck_assert_uint_eq(o.count, 1000);
    ck_assert_str_eq(o.write_file, "x.pcap");
    ck_assert_str_eq(o.user, "nobody");
    ck_assert_str_eq(o.format, "ndjson");
    ck_assert_int_eq(o.stats_interval, 0);
    const char *d[] = {"-D"};
    ck_assert_int_eq(parse(1, d), 0);
    ck_assert(o.list_interfaces);
    tcpst_cli_free(&o);
}
END_TEST

START_TEST(encap_options)
{
    const char *def[] = {"f"};
    ck_assert_int_eq(parse(1, def), 0);
    ck_assert_uint_eq(o.engine.decode.vxlan_ports[0], 4789);
    ck_assert(o.engine.decode.tunnels && o.engine.decode.key_encap && o.engine.reassemble);
    const char *a[] = {"--vxlan-port",    "8472", "--vxlan-port", "4789",
                       "--gtpu-port",     "0",    "--no-tunnels", "--ignore-encap-key",
                       "--no-reassembly", "f"};
    ck_assert_int_eq(parse((int)(sizeof a / sizeof a[0]), a), 0);
    ck_assert_uint_eq(o.engine.decode.vxlan_ports[0], 8472);
    ck_assert_uint_eq(o.engine.decode.vxlan_ports[1], 4789);
    ck_assert_uint_eq(o.engine.decode.vxlan_ports[2], 0);
    ck_assert_uint_eq(o.engine.decode.gtpu_ports[0], 0);
    ck_assert_uint_eq(o.engine.decode.geneve_ports[0], 6081);
    ck_assert(!o.engine.decode.tunnels && !o.engine.decode.key_encap && !o.engine.reassemble);
    const char *many[] = {"--geneve-port",
                          "1",
                          "--geneve-port",
                          "2",
                          "--geneve-port",
                          "3",
                          "--geneve-port",
                          "4",
                          "--geneve-port",
                          "5",
                          "f"};
    ck_assert_int_eq(parse((int)(sizeof many / sizeof many[0]), many), TCPST_EUSAGE);
    ck_assert(strstr(err.msg, "at most 4") != NULL);
    tcpst_cli_free(&o);
}
END_TEST

START_TEST(help_and_version)
{
    const char *h[] = {"--help"};
    ck_assert_int_eq(parse(1, h), 0);
    ck_assert(o.help);
    const char *v[] = {"-V"};
    ck_assert_int_eq(parse(1, v), 0);
    ck_assert(o.version);
    ck_assert_int_eq(parse(0, NULL), TCPST_EUSAGE);
    ck_assert(strstr(err.msg, "no capture file") != NULL);
    ck_assert(strstr(tcpst_cli_usage(), "--filter") != NULL);
    tcpst_cli_free(&o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *t = tcase_create("parse");
    tcase_add_test(t, defaults);
    tcase_add_test(t, all_options);
    tcase_add_loop_test(t, errors, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(t, help_and_version);
    tcase_add_test(t, live_options);
    tcase_add_test(t, encap_options);
    suite_add_tcase(s, t);
    return ckrun(s);
}
