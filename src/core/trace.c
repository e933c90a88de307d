/* Watching a child's system calls with ptrace(2). */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ipclab/num.h"
#include "ipclab/proc.h"
#include "ipclab/trace.h"

pid_t
ipc_trace_fork(int (*child)(void *), void *arg)
{
	pid_t pid = ipc_fork(NULL);
	int st;

	if (pid == -1)
		return -1;
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1)
			_exit(126);
		raise(SIGSTOP);
		_exit(child(arg));
	}
	if (ipc_wait(pid, &st, 0) == -1)
		return -1;
	if (!WIFSTOPPED(st)) {
		errno = ECHILD;
		ipc_failed_call = "ptrace", ipc_failed_why = NULL;
		return -1;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD |
		   PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC)) == -1) {
		int e = errno;

		kill(pid, SIGKILL);
		ipc_wait(pid, &st, 0);
		ipc_failed_call = "ptrace", ipc_failed_why = NULL;
		errno = e;
		return -1;
	}
	return pid;
}

/* At a system-call stop: records the call at its entry, reports it at its
 * exit.  Returns what fn returned, or 0 at an entry. */
static int
syscall_stop(pid_t pid, struct ipc_syscall *sc, ipc_trace_fn fn, void *arg)
{
	struct __ptrace_syscall_info info;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0)
		return -1;
	if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
		sc->nr = (long)info.entry.nr;
		for (int i = 0; i < 6; i++)
			sc->args[i] = info.entry.args[i];
		return 0;
	}
	if (info.op != PTRACE_SYSCALL_INFO_EXIT)
		return 0;
	sc->ret = info.exit.rval;
	return fn(pid, sc, arg);
}

/* What bounds the waits of one trace. */
struct limit {
	int sigfd;			/* SIGCHLD, blocked, as a signalfd */
	uint64_t deadline;		/* ns; UINT64_MAX for none */
	volatile sig_atomic_t *stop;	/* set by the caller's signal handler */
	bool stopped;			/* *stop was seen: the grace time runs */
};

/* Waits for the tracee's next stop or its end, within L: poll(2) sleeps until
 * the kernel reports the tracee, a signal handler runs, or the time is up.
 * Returns the pid, or -1 with errno set (ETIMEDOUT, EINTR after a stop). */
static pid_t
trace_wait(pid_t pid, int *st, struct limit *l)
{
	struct pollfd p = { .fd = l->sigfd, .events = POLLIN };
	struct signalfd_siginfo si;
	uint64_t grace = IPC_TRACE_GRACE_MS * 1000000ull;
	pid_t r;
	int ms;

	for (;;) {
		if ((r = waitpid(pid, st, WNOHANG)) != 0) {
			if (r == -1)
				ipc_failed_call = "waitpid", ipc_failed_why = NULL;
			return r;
		}
		if (l->stop && *l->stop && !l->stopped) {
			l->stopped = true;	/* a last moment to end on its own */
			if (l->deadline > ipc_now_ns() + grace)
				l->deadline = ipc_now_ns() + grace;
		}
		if ((ms = ipc_slice_ms(l->deadline)) < 0) {
			ipc_failed_call = "waitpid", ipc_failed_why = NULL;
			errno = l->stopped ? EINTR : ETIMEDOUT;
			return -1;
		}
		if (poll(&p, 1, ms) == -1 && errno != EINTR) {
			ipc_failed_call = "poll", ipc_failed_why = NULL;
			return -1;
		}
		while (read(l->sigfd, &si, sizeof(si)) > 0)
			;
	}
}

/* The loop of ipc_trace_syscalls(), within L. */
static int
trace_loop(pid_t pid, ipc_trace_fn fn, void *arg, int *status, struct limit *l)
{
	struct ipc_syscall sc = { .nr = -1 };
	int st, sig = 0, r;

	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) == -1 && errno != ESRCH)
			goto fail;
		sig = 0;
		if (trace_wait(pid, &st, l) == -1)
			goto kill;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			*status = st;
			return 0;
		}
		if (!WIFSTOPPED(st))
			continue;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			r = syscall_stop(pid, &sc, fn, arg);
			if (r == 1)
				return ptrace(PTRACE_DETACH, pid, NULL, NULL) == -1 ? -1 : 1;
			if (r == -1)
				goto fail;
		} else if (st >> 16 == 0 && WSTOPSIG(st) != SIGTRAP) {
			sig = WSTOPSIG(st);	/* a real signal: pass it on */
		}
	}
fail:
	ipc_failed_call = "ptrace", ipc_failed_why = NULL;
kill:
	r = errno;
	kill(pid, SIGKILL);
	ipc_wait(pid, &st, 0);
	errno = r;
	return -1;
}

int
ipc_trace_syscalls(pid_t pid, ipc_trace_fn fn, void *arg, int *status, int timeout_ms,
		   volatile sig_atomic_t *stop)
{
	struct limit l = { .deadline = timeout_ms < 0 ? UINT64_MAX :
			   ipc_now_ns() + (uint64_t)timeout_ms * 1000000u, .stop = stop };
	sigset_t chld, old;
	int r, e, st;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &old) == -1 ||
	    (l.sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		kill(pid, SIGKILL);
		ipc_wait(pid, &st, 0);
		ipc_failed_call = "signalfd", ipc_failed_why = NULL;
		errno = e;
		return -1;
	}
	r = trace_loop(pid, fn, arg, status, &l);
	e = errno;
	close(l.sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}

const char *
ipc_syscall_name(long nr)
{
	switch (nr) {
	case SYS_mmap: return "mmap";
	case SYS_munmap: return "munmap";
	case SYS_mprotect: return "mprotect";
	case SYS_mremap: return "mremap";
	case SYS_brk: return "brk";
	case SYS_madvise: return "madvise";
	case SYS_openat: return "openat";
#ifdef SYS_open
	case SYS_open: return "open";
#endif
	case SYS_close: return "close";
	case SYS_read: return "read";
	case SYS_write: return "write";
	case SYS_pread64: return "pread64";
	case SYS_fstat: return "fstat";
	case SYS_newfstatat: return "newfstatat";
	case SYS_execve: return "execve";
	case SYS_exit_group: return "exit_group";
	default: return NULL;
	}
}
