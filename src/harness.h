/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * harness.h - `tcpstate -i IFACE -- COMMAND`: the command the capture wraps (docs/ci.md).
 *
 * COMMAND runs in a child with tcpstate's stdin, stdout, stderr, environment and process
 * group (a terminal's Ctrl-C reaches it as it would without tcpstate).  Run by root, it
 * runs as the user who invoked sudo (SUDO_UID and SUDO_GID, with that user's
 * supplementary groups), or as --run-as USER: capturing needs root, the tests must not get
 * it by accident.
 */
#ifndef TCPSTATE_HARNESS_H
#define TCPSTATE_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "tcpstate/error.h"

typedef struct tcpst_child {
    pid_t pid; /* 0: not started */
    bool exited;
    int wstatus; /* waitpid()'s, once exited */
} tcpst_child;

/*
 * Start argv[0] (looked up in PATH) with argv.  `run_as` NULL: as the sudo user when root
 * and SUDO_UID is set, else as tcpstate runs.  Returns 0; TCPST_EUSAGE when the user is
 * unknown or the command cannot be executed ("COMMAND: No such file or directory": the
 * child has then exited, tcpst_child_status() says 127, or 126 when not executable);
 * TCPST_EPERM when the user cannot be switched to.
 */
__attribute__((warn_unused_result)) int tcpst_child_start(tcpst_child *ch, char **argv,
                                                          const char *run_as, tcpst_error *err);

/* Has the child exited?  Reaps it once (waitpid WNOHANG); true from then on. */
bool tcpst_child_poll(tcpst_child *ch);

/* Its exit status as a shell gives it: the exit code, or 128+N for a signal N. */
int tcpst_child_status(const tcpst_child *ch);

/* Send `sig` to the child while it runs; async-signal-safe. */
void tcpst_child_signal(const tcpst_child *ch, int sig);

#endif
