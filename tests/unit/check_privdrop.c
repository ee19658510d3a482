/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_privdrop.c - unit tests for privdrop.c: switching from root to an
 * unprivileged user, the unknown-user error, and doing nothing when not root.
 *
 * Changing user ids cannot be undone, so every switch happens in a child
 * process that reports back through a pipe ("" = passed, else the failure).
 * The tests use the account "nobody"; without root, the tests that need it
 * print a skip line and pass.
 */
#include <check.h>

#include "ckchild.h"
#include "ckrun.h"
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcpstate/privdrop.h"

static void skip(const char *test, const char *why)
{
    fprintf(stderr, "%s: skipped: %s\n", test, why);
}

static bool nobody_ids(uid_t *uid, gid_t *gid)
{
    struct passwd *pw = getpwnam("nobody");
    if (pw == NULL || pw->pw_uid == 0) {
        return false;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return true;
}

static void child_drop_to_nobody(int wfd)
{
    uid_t uid;
    gid_t gid;
    if (!nobody_ids(&uid, &gid)) {
        ckchild_say(wfd, "SKIP: no user 'nobody'");
        return;
    }
    /* Start with a supplementary group nobody is not in, to see it go. */
    gid_t extra = 0;
    if (setgroups(1, &extra) != 0) {
        ckchild_say(wfd, "setgroups: %s", strerror(errno));
        return;
    }
    tcpst_error err = {0, ""};
    int rc = tcpst_privdrop("nobody", &err);
    if (rc != 0) {
        ckchild_say(wfd, "privdrop: %d %s", rc, err.msg);
        return;
    }
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
        ckchild_say(wfd, "ids: uid %lu euid %lu gid %lu egid %lu", (unsigned long)getuid(),
                    (unsigned long)geteuid(), (unsigned long)getgid(), (unsigned long)getegid());
        return;
    }
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
        ckchild_say(wfd, "root regained");
        return;
    }
    gid_t groups[64];
    int n = getgroups(64, groups);
    for (int i = 0; i < n; i++) {
        if (groups[i] == 0) {
            ckchild_say(wfd, "supplementary group 0 kept");
            return;
        }
    }
    /* As an unprivileged user now, a second call is a no-op. */
    rc = tcpst_privdrop("nobody", &err);
    if (rc != 0 || getuid() != uid) {
        ckchild_say(wfd, "second call: %d %s", rc, err.msg);
    }
}

START_TEST(test_drop_to_nobody)
{
    if (geteuid() != 0) {
        skip("test_drop_to_nobody", "needs root");
        return;
    }
    char out[1024];
    ckchild_run(child_drop_to_nobody, out, sizeof(out));
    if (strncmp(out, "SKIP", 4) == 0) {
        skip("test_drop_to_nobody", out);
        return;
    }
    ck_assert_msg(out[0] == '\0', "%s", out);
}
END_TEST

START_TEST(test_unknown_user)
{
    tcpst_error err = {0, ""};
    ck_assert_int_eq(tcpst_privdrop("tcpst-no-such-user", &err), TCPST_EUSAGE);
    ck_assert_int_eq(err.code, TCPST_EUSAGE);
    ck_assert_str_eq(err.msg, "tcpst-no-such-user: no such user");
    ck_assert_int_eq(tcpst_privdrop("", &err), TCPST_EUSAGE);
    ck_assert_int_eq(tcpst_privdrop(NULL, &err), TCPST_EUSAGE);
    ck_assert_str_eq(err.msg, "no user name to switch to");
}
END_TEST

/* Without root, nothing happens (and nothing fails) for a known user. */
static void child_nonroot_noop(int wfd)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (geteuid() == 0) {
        uid_t nuid;
        gid_t ngid;
        if (!nobody_ids(&nuid, &ngid)) {
            ckchild_say(wfd, "SKIP: no user 'nobody'");
            return;
        }
        /* Become an ordinary user some other way first. */
        if (setgroups(0, NULL) != 0 || setgid(ngid) != 0 || setuid(nuid) != 0) {
            ckchild_say(wfd, "SKIP: cannot become nobody: %s", strerror(errno));
            return;
        }
        uid = nuid;
        gid = ngid;
    }
    tcpst_error err = {0, ""};
    int rc = tcpst_privdrop("root", &err);
    if (rc != 0) {
        ckchild_say(wfd, "privdrop(root) as non-root: %d %s", rc, err.msg);
        return;
    }
    rc = tcpst_privdrop("nobody", &err);
    if (rc != 0) {
        ckchild_say(wfd, "privdrop(nobody) as non-root: %d %s", rc, err.msg);
        return;
    }
    if (getuid() != uid || geteuid() != uid || getgid() != gid) {
        ckchild_say(wfd, "ids changed");
        return;
    }
    rc = tcpst_privdrop("tcpst-no-such-user", &err);
    if (rc != TCPST_EUSAGE) {
        ckchild_say(wfd, "unknown user as non-root: %d", rc);
    }
}

START_TEST(test_nonroot_is_noop)
{
    char out[1024];
    ckchild_run(child_nonroot_noop, out, sizeof(out));
    if (strncmp(out, "SKIP", 4) == 0) {
        skip("test_nonroot_is_noop", out);
        return;
    }
    ck_assert_msg(out[0] == '\0', "%s", out);
}
END_TEST

/* Root to root: groups reset, ids stay 0, and it is not an error. */
static void child_root_to_root(int wfd)
{
    gid_t extra = 12345;
    if (setgroups(1, &extra) != 0) {
        ckchild_say(wfd, "setgroups: %s", strerror(errno));
        return;
    }
    tcpst_error err = {0, ""};
    int rc = tcpst_privdrop("root", &err);
    if (rc != 0 || getuid() != 0 || geteuid() != 0) {
        ckchild_say(wfd, "privdrop(root): %d %s", rc, err.msg);
        return;
    }
    gid_t groups[64];
    int n = getgroups(64, groups);
    for (int i = 0; i < n; i++) {
        if (groups[i] == extra) {
            ckchild_say(wfd, "supplementary group %lu kept", (unsigned long)extra);
        }
    }
}

START_TEST(test_root_to_root)
{
    if (geteuid() != 0) {
        skip("test_root_to_root", "needs root");
        return;
    }
    char out[1024];
    ckchild_run(child_root_to_root, out, sizeof(out));
    ck_assert_msg(out[0] == '\0', "%s", out);
}
END_TEST

static Suite *privdrop_suite(void)
{
    Suite *s = suite_create("privdrop");
    TCase *tc = tcase_create("privdrop");
    tcase_add_test(tc, test_drop_to_nobody);
    tcase_add_test(tc, test_unknown_user);
    tcase_add_test(tc, test_nonroot_is_noop);
    tcase_add_test(tc, test_root_to_root);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(privdrop_suite());
}
