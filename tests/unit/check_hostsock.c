/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_hostsock.c - the host's socket table against sockets this test makes on loopback:
 * their kernel states as they change, their owner (this process) and its facts.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ckrun.h"
#include "tcpstate/hostsock.h"

static tcpst_addr v4(const char *s)
{
    tcpst_addr a = {.family = 4};
    ck_assert_int_eq(inet_pton(AF_INET, s, a.bytes), 1);
    return a;
}

static uint16_t port_of(int fd, bool peer)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    ck_assert_int_eq(peer ? getpeername(fd, (struct sockaddr *)&sa, &len)
                          : getsockname(fd, (struct sockaddr *)&sa, &len),
                     0);
    return ntohs(sa.sin_port);
}

START_TEST(own_connection)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(l, 4), 0);
    socklen_t len = sizeof sa;
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sa, &len), 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof sa), 0);
    int s = accept(l, NULL, NULL);
    ck_assert_int_ge(s, 0);
    uint16_t sport = port_of(s, false), cport = port_of(c, false);
    tcpst_addr lo = v4("127.0.0.1");

    tcpst_hostsock *h;
    tcpst_error err;
    ck_assert_int_eq(tcpst_hostsock_new(&h, &err), 0);
    tcpst_hostsock_hit hit;
    ck_assert(!tcpst_hostsock_find(h, &lo, sport, &lo, cport, &hit)); /* no snapshot yet */
    ck_assert_int_eq(tcpst_hostsock_refresh(h), 0);
    ck_assert_uint_eq(tcpst_hostsock_snapshots(h), 1);
    ck_assert(tcpst_hostsock_taken_at(h) > 0);

    ck_assert(tcpst_hostsock_find(h, &lo, sport, &lo, cport, &hit));
    ck_assert_str_eq(hit.state, "ESTABLISHED");
    ck_assert(hit.socket);
    ck_assert_uint_eq(hit.uid, (uint32_t)getuid());
    ck_assert_uint_eq(hit.pid, (uint32_t)getpid());
    ck_assert(tcpst_hostsock_find(h, &lo, cport, &lo, sport, &hit));
    ck_assert_str_eq(hit.state, "ESTABLISHED");

    const tcpst_hostproc *p = tcpst_hostsock_proc(h, (uint32_t)getpid());
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->command, "check_hostsock");
    ck_assert_ptr_nonnull(strstr(p->cmdline, "check_hostsock"));
    ck_assert_uint_eq(p->uid, (uint32_t)getuid());
    ck_assert_ptr_null(tcpst_hostsock_proc(h, 0));

    /* The client closes: the server's socket is in CLOSE_WAIT, the client's FIN_WAIT_2. */
    close(c);
    usleep(50 * 1000);
    ck_assert_int_eq(tcpst_hostsock_refresh(h), 0);
    ck_assert(tcpst_hostsock_find(h, &lo, sport, &lo, cport, &hit));
    ck_assert_str_eq(hit.state, "CLOSE_WAIT");
    ck_assert_uint_eq(hit.pid, (uint32_t)getpid());
    ck_assert(tcpst_hostsock_find(h, &lo, cport, &lo, sport, &hit));
    ck_assert_str_eq(hit.state, "FIN_WAIT_2");
    ck_assert_uint_eq(hit.pid, 0); /* orphaned: the kernel holds it alone */

    /* A local endpoint without a socket is CLOSED; a foreign one is not looked up. */
    ck_assert(tcpst_hostsock_find(h, &lo, 9, &lo, 9, &hit));
    ck_assert_str_eq(hit.state, "CLOSED");
    ck_assert(!hit.socket);
    tcpst_addr far = v4("198.51.100.7");
    ck_assert(!tcpst_hostsock_is_local(h, &far));
    ck_assert(!tcpst_hostsock_find(h, &far, 80, &lo, cport, &hit));
    tcpst_addr lo2 = v4("127.3.4.5");
    ck_assert(tcpst_hostsock_is_local(h, &lo2));
    close(s);
    close(l);
    tcpst_hostsock_free(h);
}
END_TEST

START_TEST(free_null)
{
    tcpst_hostsock_free(NULL);
    ck_assert_uint_eq(tcpst_hostsock_snapshots(NULL), 0);
    ck_assert_ptr_null(tcpst_hostsock_unavailable(NULL));
    ck_assert_ptr_null(tcpst_hostsock_proc(NULL, 1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostsock");
    TCase *t = tcase_create("snapshot");
    tcase_add_test(t, own_connection);
    tcase_add_test(t, free_null);
    suite_add_tcase(s, t);
    return ckrun(s);
}
