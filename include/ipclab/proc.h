/* Processes: fork and spawn with signals handled safely, and wait statuses in
 * words.  Functions return -1 with errno set; the caller decides what to say. */
#ifndef IPCLAB_PROC_H
#define IPCLAB_PROC_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* The name of the call that last failed in a core function of this thread
 * ("open", "mmap", "fork", ...), for messages in the form
 * "ipclab CMD: OBJECT: CALL: REASON". */
extern __thread const char *ipc_failed_call;
/* Set beside ipc_failed_call when the reason is not one that errno can say
 * ("not a regular file (it is a FIFO)"); NULL otherwise.  Every core call that
 * sets ipc_failed_call sets this too. */
extern __thread const char *ipc_failed_why;

/* fork(2) with every signal blocked across the fork, so no handler of the
 * parent runs in the child before it is ready.  In the child every signal
 * with a handler is reset to SIG_DFL and the mask is set to *child_mask (the
 * mask the caller had, when child_mask is NULL).  The parent's mask is
 * restored.  Returns as fork(2) does. */
pid_t ipc_fork(const sigset_t *child_mask);

/* What to do in the child between fork and exec.  Returns 0, or -1 with errno
 * set, which ipc_spawn() then reports as the spawn's failure. */
typedef int (*ipc_child_setup)(void *arg);

/* Runs FILE (searched in PATH when it has no '/') with argv and envp (environ
 * when NULL) in a child made by ipc_fork() with an empty signal mask.
 * Returns the child's pid once the exec has succeeded; when setup or exec
 * failed, reaps the child and returns -1 with errno set to the child's errno
 * (ENOENT: not found, EACCES/ENOEXEC...: cannot execute), reported over a
 * close-on-exec pipe as musl's posix_spawn does. */
pid_t ipc_spawn(const char *file, char *const argv[], char *const envp[],
		ipc_child_setup setup, void *arg);

/* ipc_spawn() as posix_spawn(3) does it: the child shares the parent's
 * memory, on a stack of its own, and the parent waits until the child's exec
 * (clone(2) with CLONE_VM | CLONE_VFORK), so nothing is copied and a parent
 * with a large heap spawns as fast as a small one.  SETUP runs in the child
 * with every signal blocked; it may only make system calls and write memory
 * the caller set aside for it (no malloc, no stdio, no setenv: the parent's
 * memory is the child's), and ipc_failed_call is shared too, so a SETUP that
 * fails may set it (else it is "exec").  Then the signals with a handler go
 * back to SIG_DFL, the mask is emptied and FILE is executed.  Returns the
 * pid, or -1 with errno the child's reason (the child reaped). */
pid_t ipc_spawn_shared(const char *file, char *const argv[], char *const envp[],
		       ipc_child_setup setup, void *arg);

/* waitpid(2) retried on EINTR. */
pid_t ipc_wait(pid_t pid, int *status, int options);

/* Waits for the child PID to end, at most TIMEOUT_MS milliseconds (-1: no
 * limit), and returns early once *stop (may be NULL) is non-zero, as a signal
 * handler sets it: a stopped or hung child never blocks the caller for ever.
 * Sleeps in poll(2) on a pidfd, in slices of at most 100 ms.  Returns PID
 * when it was reaped (*status filled), 0 on timeout or stop (the child is still
 * there, not reaped), -1 with errno set on error. */
int ipc_wait_for(pid_t pid, int *status, int timeout_ms, volatile sig_atomic_t *stop);

/* A wait status in words: "exited 3", "killed by SIGSEGV (core dumped)",
 * "stopped by SIGTSTP", "continued".  Returns buf. */
char *ipc_status_str(int status, char *buf, size_t len);

/* The status a shell would give: the exit code, or 128 + the signal. */
int ipc_status_code(int status);

/* The exit status of a command that ran FILE and failed to: 127 when it was
 * not found, 126 when it could not be executed (timeout(1)'s convention). */
int ipc_exec_errno_code(int err);

#endif
