/* Mappings: files made or opened safely for mapping, and map/unmap with every
 * error reported.  Functions return -1 (or NULL) with errno set and
 * ipc_failed_call naming the call that failed. */
#ifndef IPCLAB_MAP_H
#define IPCLAB_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ipclab/proc.h"	/* ipc_failed_call, ipc_failed_why */

/* What kind of file mode M is, for a message: "a FIFO", "a directory",
 * "a character device", "a block device", "a socket", "a symbolic link",
 * "a regular file". */
const char *ipc_ftype(mode_t m);

/* open(2) of a path the user gave, which must be a regular file: refuses
 * anything else before opening it (lstat with O_NOFOLLOW, else stat) and
 * again after (fstat), so a FIFO or a device is never opened and never waited
 * on.  FLAGS are open(2)'s (O_RDONLY, O_RDWR, O_NOFOLLOW...); O_CLOEXEC and
 * O_NOCTTY are added, and O_NONBLOCK for the open itself only.  Returns the
 * descriptor (filling *st when not NULL), or -1 with errno set: EINVAL (EISDIR
 * for a directory, ELOOP for a symbolic link under O_NOFOLLOW) and
 * ipc_failed_why "not a regular file (it is a FIFO)" for the wrong type. */
int ipc_open_regular(const char *path, int flags, struct stat *st);

/* Checks a path the user typed before any call uses it: -1 with errno EINVAL
 * for "", ENAMETOOLONG when it or one of its components is longer than
 * PATH_MAX or NAME_MAX allow, ipc_failed_why saying which.  A path is refused,
 * never cut. */
int ipc_path_check(const char *path);

/* Whether --force may replace the existing object ST describes: 0 when it is
 * a regular file owned by the effective user (root included), else -1 with
 * ipc_failed_why saying why not ("it is a FIFO", "it belongs to user bob"). */
int ipc_may_replace(const struct stat *st);

/* Checks a POSIX shared memory object name ("name" or "/name"): 0, or -1 with
 * errno EINVAL and ipc_failed_why saying what is wrong with it. */
int ipc_shm_name_check(const char *name);

/* Creates PATH, which must not exist (O_CREAT|O_EXCL, so a symlink there is
 * never followed), mode 0600, read-write, close-on-exec, and gives it SIZE
 * bytes of real storage (posix_fallocate, so a full disk fails here with
 * ENOSPC instead of a SIGBUS later).  On failure removes what it created.
 * Returns the descriptor. */
int ipc_file_create(const char *path, off_t size);

/* Opens an existing PATH for mapping: read-write or read-only, with
 * O_NOFOLLOW when nofollow is true; refuses anything but a regular file
 * (EINVAL, call "open").  Fills *st when st is not NULL. */
int ipc_file_open(const char *path, bool writable, bool nofollow, struct stat *st);

/* Empties the open file FD and gives it SIZE bytes of zeros with real
 * storage, as ipc_file_create does. */
int ipc_file_reset(int fd, off_t size);

/* The same pair for POSIX shared memory objects (shm_open(3)); NAME is
 * "/name" or "name".  ipc_shm_create gives the object SIZE bytes. */
int ipc_shm_create(const char *name, off_t size);
int ipc_shm_open(const char *name, bool writable, struct stat *st);

/* mmap(2) of LEN bytes of FD from offset 0 (fd -1: anonymous).  Returns NULL
 * (never MAP_FAILED) on failure. */
void *ipc_map(int fd, size_t len, int prot, int flags);
int ipc_unmap(void *addr, size_t len);

/* mmap flags and protections in the words strace uses:
 * "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE", "PROT_READ|PROT_EXEC".  Return buf. */
char *ipc_mapflags_str(int flags, char *buf, size_t len);
char *ipc_prot_str(int prot, char *buf, size_t len);

#endif
