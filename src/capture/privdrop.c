/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * privdrop.c - switch from root to an unprivileged user (tcpdump's -Z).
 *
 * The order matters: supplementary groups and the group id can be changed
 * only while still root, so they go first, and the user id last.  setuid()
 * called with an effective uid of 0 sets the real, effective and saved ids
 * (POSIX setuid()), and Linux then clears the permitted and effective
 * capability sets (capabilities(7), "Effect of user ID changes on
 * capabilities") unless SECBIT_KEEP_CAPS was set, which we never do.  The
 * final check that setuid(0) fails guards against platforms or security
 * settings where that is not so.
 *
 * Before that, while still privileged, the capability bounding set is emptied and
 * no_new_privs is set, as hardened daemons do: nothing the process executes later (a
 * set-uid binary, a file with capabilities) can hand privileges back.
 *
 * Not done here: chroot (tcpdump does it only when built for it), and
 * dropping the capabilities of a non-root process given them with setcap.
 */
#include "tcpstate/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

int tcpst_privdrop(const char *user, tcpst_error *err)
{
    if (user == NULL || user[0] == '\0') {
        return tcpst_error_set(err, TCPST_EUSAGE, "no user name to switch to");
    }
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        return tcpst_error_set(err, TCPST_EUSAGE, "%s: no such user", user);
    }
    /* getpwnam()'s record is static and initgroups() may reuse it. */
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (geteuid() != 0) {
        return 0;
    }
    /* Every capability out of the bounding set (CAP_SETPCAP is needed, so before setuid);
     * capabilities this kernel does not know end the loop with EINVAL. */
    for (unsigned long cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno == EINVAL) {
                break;
            }
            return tcpst_error_set(err, TCPST_EPERM, "cannot drop capability %lu: %s", cap,
                                   strerror(errno));
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return tcpst_error_set(err, TCPST_EPERM, "cannot set no_new_privs: %s", strerror(errno));
    }
    return tcpst_switch_user(user, uid, gid, err);
}

int tcpst_switch_user(const char *user, uid_t uid, gid_t gid, tcpst_error *err)
{
    const char *who = user ? user : "uid";
    /* A uid without a passwd entry (SUDO_UID of a deleted user) keeps only its group. */
    if ((user ? initgroups(user, gid) : setgroups(1, &gid)) != 0) {
        return tcpst_error_set(err, TCPST_EPERM, "%s: cannot set supplementary groups: %s", who,
                               strerror(errno));
    }
    if (setgid(gid) != 0) {
        return tcpst_error_set(err, TCPST_EPERM, "%s: cannot set group id %lu: %s", who,
                               (unsigned long)gid, strerror(errno));
    }
    if (setuid(uid) != 0) {
        return tcpst_error_set(err, TCPST_EPERM, "%s: cannot set user id %lu: %s", who,
                               (unsigned long)uid, strerror(errno));
    }
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
        return tcpst_error_set(err, TCPST_EPERM, "%s: user or group id did not change", who);
    }
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        return tcpst_error_set(err, TCPST_EPERM,
                               "%s: root privileges could be regained after switching user", who);
    }
    return 0;
}
