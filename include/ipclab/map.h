/* Mappings: files made or opened safely for mapping, and map/unmap with every
 * error reported.  Functions return -1 (or NULL) with errno set and
 * ipc_failed_call naming the call that failed. */
#ifndef IPCLAB_MAP_H
#define IPCLAB_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

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
