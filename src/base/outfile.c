// SPDX-License-Identifier: BSD-3-Clause
/*
 * outfile.c - creating output files safely (outfile.h).
 *
 * Run as root in a world-writable directory, a plain fopen(path, "w") follows a symlink
 * another user planted there and overwrites its target, or writes captured packets into a
 * file that user owns and can read.  Every output goes through here instead.
 */
#define _GNU_SOURCE /* O_CLOEXEC, O_NOFOLLOW */
#include "tcpstate/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define REG_MAX   4 /* temporary files alive at once: the report and the JUnit file */
#define PATH_MAX_ 4096

static char reg_path[REG_MAX][PATH_MAX_];
static volatile sig_atomic_t reg_used[REG_MAX];

/* The directory part of path ("." for none) into dir. */
static void dir_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, n, ".");
    } else if (slash == path) {
        snprintf(dir, n, "/");
    } else {
        snprintf(dir, n, "%.*s", (int)(slash - path), path);
    }
}

/*
 * In a sticky world-writable directory, what another user left at `path` is not written
 * through: a symlink is followed only when it belongs to us or to the directory's owner,
 * a file is written only when it is ours or the owner's.  *is_link: path is a symlink we
 * may follow.
 */
static int check_place(const char *path, const char *what, bool *is_link, tcpst_error *err)
{
    *is_link = false;
    struct stat st, ds;
    if (lstat(path, &st) != 0) {
        return 0; /* nothing there yet: created exclusively below */
    }
    *is_link = S_ISLNK(st.st_mode);
    char dir[PATH_MAX_];
    dir_of(path, dir, sizeof dir);
    if (stat(dir, &ds) != 0 || !(ds.st_mode & S_ISVTX) || !(ds.st_mode & S_IWOTH)) {
        return 0;
    }
    if (st.st_uid == geteuid() || st.st_uid == ds.st_uid) {
        return 0;
    }
    if (*is_link) {
        return tcpst_error_set(err, TCPST_EWRITE,
                               "%s: cannot write %s: a symbolic link of another user (uid %lu) "
                               "in a world-writable sticky directory; not followed",
                               path, what, (unsigned long)st.st_uid);
    }
    return tcpst_error_set(err, TCPST_EWRITE,
                           "%s: cannot write %s: the file belongs to another user (uid %lu) in "
                           "a world-writable sticky directory; not written to",
                           path, what, (unsigned long)st.st_uid);
}

int tcpst_outfile_stream(const char *path, const char *what, tcpst_error *err)
{
    bool is_link;
    int rc = check_place(path, what, &is_link, err);
    if (rc != 0) {
        return rc;
    }
    /* O_NOFOLLOW unless the symlink was judged above (/dev/stdout is one): a link planted
     * between the check and the open is then refused by the kernel. */
    int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (is_link ? 0 : O_NOFOLLOW);
    int fd = open(path, flags, 0666);
    if (fd < 0) {
        return tcpst_error_set(err, TCPST_EWRITE, "%s: cannot open for writing: %s", path,
                               errno == ELOOP ? "a symbolic link appeared there" : strerror(errno));
    }
    return fd;
}

static void reg_add(const char *tmp)
{
    for (int i = 0; i < REG_MAX; i++) {
        if (!reg_used[i] && strlen(tmp) < PATH_MAX_) {
            memcpy(reg_path[i], tmp, strlen(tmp) + 1);
            reg_used[i] = 1;
            return;
        }
    }
}

void tcpst_outfile_forget(const char *tmp)
{
    for (int i = 0; tmp && i < REG_MAX; i++) {
        if (reg_used[i] && strcmp(reg_path[i], tmp) == 0) {
            reg_used[i] = 0;
        }
    }
}

void tcpst_outfile_panic(void)
{
    for (int i = 0; i < REG_MAX; i++) {
        if (reg_used[i]) {
            unlink(reg_path[i]);
            reg_used[i] = 0;
        }
    }
}

/* Temporary files TARGET.tmp.PID.XXXXXX of ours whose process is gone (killed with
 * SIGKILL, or a power cut): they are nobody's now. */
static void remove_stale(const char *path)
{
    char dir[PATH_MAX_];
    dir_of(path, dir, sizeof dir);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0) {
            continue;
        }
        char *end;
        long pid = strtol(n + blen + 5, &end, 10);
        if (end == n + blen + 5 || *end != '.' || pid <= 0 || pid == (long)getpid()) {
            continue;
        }
        struct stat st;
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH &&
            fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            st.st_uid == geteuid()) {
            (void)unlinkat(dirfd(d), n, 0);
        }
    }
    closedir(d);
}

int tcpst_outfile_temp(const char *path, const char *what, char **tmp, tcpst_error *err)
{
    bool is_link;
    int rc = check_place(path, what, &is_link, err);
    if (rc != 0) {
        return rc;
    }
    remove_stale(path);
    size_t n = strlen(path) + 40;
    if ((*tmp = malloc(n)) == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory");
    }
    /* Same directory as the target, so rename() is atomic; mkstemp() is O_EXCL. */
    snprintf(*tmp, n, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
    int fd = mkostemp(*tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(*tmp);
        *tmp = NULL;
        return tcpst_error_set(err, TCPST_EWRITE, "%s: cannot create %s: %s", path, what,
                               strerror(e));
    }
    reg_add(*tmp);
    /* The mode a redirect would give, or the mode of the file it replaces. */
    struct stat st;
    mode_t mode;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    (void)fchmod(fd, mode);
    return fd;
}

int tcpst_outfile_check(const char *path, const char *what, tcpst_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            return tcpst_error_set(err, TCPST_EWRITE, "%s: cannot write %s: %s", path, what,
                                   strerror(EISDIR));
        }
        return 0; /* a device or a pipe: written in place at the end */
    }
    char *tmp = NULL;
    int fd = tcpst_outfile_temp(path, what, &tmp, err);
    if (fd < 0) {
        return fd;
    }
    close(fd);
    unlink(tmp);
    tcpst_outfile_forget(tmp);
    free(tmp);
    return 0;
}
