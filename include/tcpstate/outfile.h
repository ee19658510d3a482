// SPDX-License-Identifier: BSD-3-Clause
/*
 * outfile.h - the one way tcpstate creates the files it writes (reports, JUnit, -w), so
 * that none of them can be turned against the user who runs it (docs/robustness.md):
 *
 *   - created with mode 0666 minus the umask, as a shell redirect creates them;
 *   - atomic files are written to a temporary file in the target's directory (created with
 *     O_EXCL), then renamed over the target, which keeps its mode when it existed;
 *   - stream files (NDJSON, -w) are opened with O_NOFOLLOW, a symlink followed only where
 *     the kernel's protected_symlinks would follow it;
 *   - in a sticky world-writable directory (/tmp), a symlink or a file owned by another user
 *     (not the directory's owner) is refused, as protected_symlinks and protected_regular do.
 *
 * Temporary files are named TARGET.tmp.PID.XXXXXX; a run removes those of processes that no
 * longer exist (a run killed by SIGKILL), and the signal path removes its own.
 */
#ifndef TCPSTATE_OUTFILE_H
#define TCPSTATE_OUTFILE_H

#include "tcpstate/error.h"

/* Open `path` for writing in place (truncated).  A file descriptor, or a negative TCPST_E*
 * code with "PATH: why" in err.  `what` names the file in messages ("report"). */
int tcpst_outfile_stream(const char *path, const char *what, tcpst_error *err);

/* Create the temporary file for an atomic write of `path`: its name into *tmp (malloc'd)
 * and a descriptor returned, or a negative code.  Registered for tcpst_outfile_panic(). */
int tcpst_outfile_temp(const char *path, const char *what, char **tmp, tcpst_error *err);

/* Before a long run: can `path` be written when the run ends?  For a regular file or a new
 * one, its temporary file is created and removed again (so the directory, its permissions
 * and the rules above are tried now, not after an hour of analysis); devices and pipes are
 * left for the write.  0, or a negative code with "PATH: why" in err. */
int tcpst_outfile_check(const char *path, const char *what, tcpst_error *err);

/* The temporary file is renamed or removed: no longer registered. */
void tcpst_outfile_forget(const char *tmp);

/* From a signal handler about to end the process: remove every registered temporary file.
 * Async-signal-safe. */
void tcpst_outfile_panic(void);

#endif
