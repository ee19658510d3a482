/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * harness.c - start, watch and signal the command a capture wraps.
 *
 * The child learns its user before fork (getpwnam is not async-signal-safe) and, after
 * fork, switches with privdrop.c's tcpst_switch_user(): supplementary groups, group, then
 * user id, and the checks.  A failure travels back over a close-on-exec pipe: an empty read
 * means the exec happened, a message means it did not, so "no such command" is tcpstate's
 * one-line error, not a shell's.
 */
#include "harness.h"

#include "tcpstate/privdrop.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct who {
    bool switch_user;
    uid_t uid;
    gid_t gid;
    char name[64]; /* for initgroups and the environment; "" when the uid has no entry */
    char home[256];
} who;

/* Whom the child runs as: --run-as, else the sudo user when root, else ourselves. */
static int resolve_user(const char *run_as, who *w, tcpst_error *err)
{
    memset(w, 0, sizeof *w);
    struct passwd *pw = NULL;
    if (run_as) {
        pw = getpwnam(run_as);
        if (!pw) {
            return tcpst_error_set(err, TCPST_EUSAGE, "--run-as %s: no such user", run_as);
        }
        w->uid = pw->pw_uid;
        w->gid = pw->pw_gid;
    } else {
        const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
        if (getuid() != 0 || !su || !*su) {
            return 0;
        }
        char *end;
        unsigned long uid = strtoul(su, &end, 10);
        if (*end) {
            return tcpst_error_set(err, TCPST_EUSAGE, "SUDO_UID '%s' is not a user id", su);
        }
        w->uid = (uid_t)uid;
        pw = getpwuid(w->uid);
        unsigned long gid = sg && *sg ? strtoul(sg, &end, 10) : pw ? pw->pw_gid : uid;
        w->gid = (gid_t)gid;
    }
    w->switch_user = true;
    if (pw) {
        snprintf(w->name, sizeof w->name, "%s", pw->pw_name);
        snprintf(w->home, sizeof w->home, "%s", pw->pw_dir);
    }
    return 0;
}

/* In the child: become `w` (privdrop.c's switch), with the environment sudo would give. */
static int become(const who *w, tcpst_error *err)
{
    if (!w->switch_user || (getuid() == w->uid && geteuid() == w->uid && getgid() == w->gid)) {
        return 0;
    }
    int rc = tcpst_switch_user(w->name[0] ? w->name : NULL, w->uid, w->gid, err);
    if (rc == 0 && w->name[0]) {
        setenv("USER", w->name, 1);
        setenv("LOGNAME", w->name, 1);
        setenv("HOME", w->home, 1);
    }
    return rc;
}

static void child_exec(char **argv, const who *w, int report)
{
    /* tcpstate's handlers do not belong to the command. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) {
        (void)sigaction(sig, &dfl, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    tcpst_error err = {0};
    int e = 0;
    char tag = 'u';
    if (become(w, &err) == 0) {
        execvp(argv[0], argv);
        e = errno;
        tag = 'x';
        snprintf(err.msg, sizeof err.msg, "%s: %s", argv[0],
                 e == ENOENT ? "command not found" : strerror(e));
    }
    /* The parent reads the tag and the one-line message. */
    (void)!write(report, &tag, 1);
    (void)!write(report, err.msg, strlen(err.msg) + 1);
    _exit(tag == 'x' && (e == ENOENT || e == ENOTDIR) ? 127 : 126);
}

int tcpst_child_start(tcpst_child *ch, char **argv, const char *run_as, tcpst_error *err)
{
    memset(ch, 0, sizeof *ch);
    who w;
    int rc = resolve_user(run_as, &w, err);
    if (rc != 0) {
        return rc;
    }
    int p[2];
    if (pipe(p) != 0 || fcntl(p[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(p[1], F_SETFD, FD_CLOEXEC) != 0) {
        return tcpst_error_set(err, TCPST_EPERM, "%s: cannot start: %s", argv[0], strerror(errno));
    }
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return tcpst_error_set(err, TCPST_EPERM, "%s: cannot start: %s", argv[0], strerror(errno));
    }
    if (pid == 0) {
        close(p[0]);
        child_exec(argv, &w, p[1]);
    }
    close(p[1]);
    ch->pid = pid;
    char tag = 0;
    ssize_t n;
    do {
        n = read(p[0], &tag, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1) {
        size_t got = 0;
        ssize_t k;
        while (got + 1 < sizeof err->msg &&
               ((k = read(p[0], err->msg + got, sizeof err->msg - 1 - got)) > 0 ||
                (k < 0 && errno == EINTR))) {
            got += k > 0 ? (size_t)k : 0;
        }
        err->msg[got] = '\0';
    }
    close(p[0]);
    if (n != 1) {
        return 0; /* the exec closed the pipe: COMMAND runs */
    }
    while (waitpid(pid, &ch->wstatus, 0) < 0 && errno == EINTR) {
    }
    ch->exited = true;
    err->code = tag == 'u' ? TCPST_EPERM : TCPST_EUSAGE;
    return err->code;
}

bool tcpst_child_poll(tcpst_child *ch)
{
    if (ch->pid == 0 || ch->exited) {
        return ch->exited;
    }
    pid_t got;
    do {
        got = waitpid(ch->pid, &ch->wstatus, WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got == ch->pid || (got < 0 && errno == ECHILD)) {
        ch->exited = true;
    }
    return ch->exited;
}

int tcpst_child_status(const tcpst_child *ch)
{
    if (WIFEXITED(ch->wstatus)) {
        return WEXITSTATUS(ch->wstatus);
    }
    if (WIFSIGNALED(ch->wstatus)) {
        return 128 + WTERMSIG(ch->wstatus);
    }
    return 1;
}

void tcpst_child_signal(const tcpst_child *ch, int sig)
{
    if (ch->pid > 0 && !ch->exited) {
        kill(ch->pid, sig);
    }
}
