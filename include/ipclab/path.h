/* Where ipclab's companion files are: the preload shim, the demo library,
 * the man pages, found from the running binary in the build tree and after
 * installation alike. */
#ifndef IPCLAB_PATH_H
#define IPCLAB_PATH_H

#include <stddef.h>

/* The directory of the running ipclab binary, from /proc/self/exe.  Returns
 * 0, or -1 with errno set. */
int ipc_exe_dir(char *buf, size_t len);

/* Finds the companion file NAME ("libipclab_io.so"): in $IPCLAB_LIBDIR when
 * that is set (and nowhere else), else beside the binary's build or install
 * tree, else in the configured install directory.  Returns 0 with the full
 * path in buf, or -1 with errno ENOENT when it is nowhere. */
int ipc_pkglib_path(const char *name, char *buf, size_t len);

/* Finds the man page ipclab-CMD.1 (or ipclab.1 when cmd is NULL) the same
 * way.  Returns 0 with its path in buf, or -1 with errno set. */
int ipc_manpage_path(const char *cmd, char *buf, size_t len);

#endif
