/* The dynamic loader's own answer to "which file is library NAME?", asked
 * without loading NAME into this process: its constructors, its destructors
 * and its interposers never run here.  Functions return -1 with errno set and
 * ipc_failed_call (proc.h) naming the call. */
#ifndef IPCLAB_LDSO_H
#define IPCLAB_LDSO_H

#include <signal.h>
#include <stddef.h>

/* The dynamic loader that runs this program (its PT_INTERP), into buf. */
int ipc_ldso_path(char *buf, size_t len);

/* In the N bytes of OUT, which the loader printed in trace mode
 * (LD_TRACE_LOADED_OBJECTS=1, as ldd(1) shows), the file that NAME resolved to:
 * a line "\tNAME => PATH (0xADDRESS)", else a line "\tPATH (0xADDRESS)" whose
 * PATH has a '/' and ends in "/NAME" (an object the loader already had under
 * that name, such as itself).  Returns 1 with PATH copied, 0 when there is no
 * such line or PATH does not fit in LEN. */
int ipc_ldso_trace_find(const char *out, size_t n, const char *name, char *path, size_t len);

/* In the N bytes of ERR, the loader's standard error in trace mode, its reason
 * for not preloading NAME: the REASON of "object 'NAME' from --preload cannot
 * be preloaded (REASON): ignored.".  Returns 1 with WHY copied (cut to LEN),
 * 0 when there is no such line. */
int ipc_ldso_trace_error(const char *err, size_t n, const char *name, char *why, size_t len);

/* Resolves NAME (no '/', ':' or space) as dlopen(3) in this program would:
 * runs this program's loader in trace mode, "ld.so --preload NAME
 * /proc/PID/exe" with LD_TRACE_LOADED_OBJECTS=1, which maps the objects but
 * runs none of them, in an environment without the other LD_ variables
 * (LD_LIBRARY_PATH stays), and reads its answer.  Waits at most TIMEOUT_MS, and
 * not after *stop (may be NULL) is set.  Returns 0 with PATH filled, or -1 with
 * errno: ENOENT when the loader found no such library (WHY: its reason),
 * EINVAL for a NAME it cannot be asked about, ETIMEDOUT when it gave no answer
 * in time (it is killed; WHY: a FIFO or device named NAME on its search path,
 * "" when there is none), EINTR on *stop, EPROTO when it failed (WHY: its
 * status and first line of error); others from the calls. */
int ipc_ldso_resolve(const char *name, int timeout_ms, volatile sig_atomic_t *stop,
		     char *path, size_t len, char *why, size_t whylen);

#endif
