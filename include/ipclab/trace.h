/* Watching the system calls of a child with ptrace(2), as strace does. */
#ifndef IPCLAB_TRACE_H
#define IPCLAB_TRACE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

struct ipc_syscall {
	long nr;		/* SYS_mmap, ... */
	uint64_t args[6];
	int64_t ret;		/* the raw return: -errno on failure */
};

/* Called at each system call's exit.  Returns 0 to go on tracing, 1 to detach
 * and let the child run on untraced, -1 to stop with an error (the child is
 * killed). */
typedef int (*ipc_trace_fn)(pid_t pid, const struct ipc_syscall *sc, void *arg);

/* Forks a child that asks to be traced, stops itself, and then runs
 * child(arg), exiting with its result (child may also exec).  Returns the
 * child's pid, stopped and ready for ipc_trace_syscalls(), or -1 with errno
 * set.  The child is killed if the tracer dies. */
pid_t ipc_trace_fork(int (*child)(void *), void *arg);

#define IPC_TRACE_GRACE_MS 1000

/* Runs the traced child to its end, calling fn at each system call exit;
 * signals other than the tracer's own stops are passed on to the child.
 * Returns 0 with the child's wait status in *status once it has ended, 1 when
 * fn asked to detach (the child still runs and must be waited for), -1 with
 * errno set on error.  Every wait is bounded: after TIMEOUT_MS in all (-1: no
 * limit) the child is killed and reaped and -1 returned with errno ETIMEDOUT;
 * once *STOP (when not NULL) is set by a signal handler, the child has
 * IPC_TRACE_GRACE_MS more to end (or reach its detach) on its own, and is then
 * killed, with errno EINTR.  SIGCHLD is blocked while it runs and read from a
 * signalfd(2). */
int ipc_trace_syscalls(pid_t pid, ipc_trace_fn fn, void *arg, int *status, int timeout_ms,
		       volatile sig_atomic_t *stop);

/* The name of a system call number ("mmap"), or NULL when unknown. */
const char *ipc_syscall_name(long nr);

#endif
