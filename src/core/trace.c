/* Watching a child's system calls with ptrace(2). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

int
ipc_trace_syscalls(pid_t pid, ipc_trace_fn fn, void *arg, int *status)
{
	struct ipc_syscall sc = { .nr = -1 };
	int st, sig = 0, r;

	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) == -1 && errno != ESRCH)
			goto fail;
		sig = 0;
		if (ipc_wait(pid, &st, 0) == -1)
			return -1;
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
	r = errno;
	kill(pid, SIGKILL);
	ipc_wait(pid, &st, 0);
	errno = r;
	return -1;
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
