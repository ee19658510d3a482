/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * privdrop.h - give up root after the capture is open (tcpdump's -Z).
 *
 * Opening an interface needs privileges that reading packets does not, so
 * the analyzer can switch to an unprivileged user once the handle is open.
 */
#ifndef TCPSTATE_PRIVDROP_H
#define TCPSTATE_PRIVDROP_H

#include <sys/types.h>

#include "tcpstate/error.h"

/*
 * Switch the whole process to `user`: its supplementary groups (initgroups),
 * primary group, then user id, real, effective and saved alike, and check
 * that root cannot be regained.  Only root drops: when the effective uid is
 * not 0 this does nothing and returns 0 (a binary given capabilities with
 * setcap keeps them).  The user is looked up in either case, so a misspelt
 * name fails the same way with or without privileges.  Dropping to a user
 * whose uid is 0 changes groups only.
 *
 * Returns 0, TCPST_EUSAGE ("USER: no such user", empty name) or TCPST_EPERM
 * ("USER: cannot set group id 65534: why", "USER: root privileges could be
 * regained after switching user").  After an EPERM the process may be
 * half-switched and should exit.
 */
__attribute__((warn_unused_result)) int tcpst_privdrop(const char *user, tcpst_error *err);

/*
 * The switch itself, as root: supplementary groups (those of `user`, or only `gid` when
 * user is NULL), group id, user id, then the checks that they changed and that root cannot
 * be regained.  tcpst_privdrop() calls it after emptying the capability bounding set; the
 * command a live capture wraps (-- COMMAND) calls it alone, so that its tests may still
 * run set-uid programs.  0, or TCPST_EPERM as tcpst_privdrop().
 */
__attribute__((warn_unused_result)) int tcpst_switch_user(const char *user, uid_t uid, gid_t gid,
                                                          tcpst_error *err);

#endif
