/* Processes: fork and spawn with signals handled safely, and wait statuses in
 * words. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ipclab/cli.h"
#include "ipclab/num.h"
#include "ipclab/proc.h"
#include "ipclab/sig.h"

__thread const char *ipc_failed_call;
__thread const char *ipc_failed_why;

/* In a new child: a handler inherited from the parent would run the parent's
 * code on the child's events, so every caught signal goes back to default. */
static void
reset_handlers(void)
{
	struct sigaction sa;

	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &sa) == -1)
			continue;
		if (!(sa.sa_flags & SA_SIGINFO) && (sa.sa_handler == SIG_DFL ||
						   sa.sa_handler == SIG_IGN))
			continue;
		signal(sig, SIG_DFL);
	}
}

pid_t
ipc_fork(const sigset_t *child_mask)
{
	sigset_t all, old;
	pid_t pid;
	int e;

	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) == -1) {
		ipc_failed_call = "sigprocmask", ipc_failed_why = NULL;
		return -1;
	}
	pid = fork();
	e = errno;
	if (pid == 0) {
		reset_handlers();
		sigprocmask(SIG_SETMASK, child_mask ? child_mask : &old, NULL);
		return 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1)
		ipc_failed_call = "fork", ipc_failed_why = NULL;
	errno = e;
	return pid;
}

/* Reports errno to the parent over the close-on-exec pipe and dies. */
static void __attribute__((noreturn))
child_fail(int fd)
{
	int e = errno;

	while (write(fd, &e, sizeof(e)) == -1 && errno == EINTR)
		;
	_exit(ipc_exec_errno_code(e));
}

pid_t
ipc_spawn(const char *file, char *const argv[], char *const envp[],
	  ipc_child_setup setup, void *arg)
{
	extern char **environ;
	sigset_t none;
	int p[2], e = 0, st;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		ipc_failed_call = "pipe", ipc_failed_why = NULL;
		return -1;
	}
	sigemptyset(&none);
	pid = ipc_fork(&none);
	if (pid == -1) {
		e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		if (setup && setup(arg) == -1)
			child_fail(p[1]);
		execvpe(file, argv, envp ? envp : environ);
		child_fail(p[1]);
	}
	close(p[1]);
	do
		n = read(p[0], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(p[0]);
	if (n == (ssize_t)sizeof(e)) {
		ipc_wait(pid, &st, 0);
		ipc_failed_call = "exec", ipc_failed_why = NULL;
		errno = e;
		return -1;
	}
	return pid;
}

/* ---- ipc_spawn_shared: the child in the parent's memory -------------- */

#define SHARED_STACK (64 * 1024)	/* execvpe's PATH buffer is on it */

struct shared_child {
	const char *file;
	char *const *argv, *const *envp;
	ipc_child_setup setup;
	void *arg;
	int err;		/* set by the child: its exec or setup failed */
	bool exec_failed;
};

/* The child: it runs on its own stack, in the parent's memory and with the
 * parent's thread-local variables, until its exec; every signal is blocked. */
static int
shared_child_main(void *p)
{
	struct shared_child *c = p;
	sigset_t none;

	reset_handlers();
	if (c->setup && c->setup(c->arg) == -1) {
		c->err = errno ? errno : EINVAL;
		_exit(125);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(c->file, c->argv, c->envp);
	c->err = errno;
	c->exec_failed = true;
	_exit(ipc_exec_errno_code(c->err));
}

pid_t
ipc_spawn_shared(const char *file, char *const argv[], char *const envp[],
		 ipc_child_setup setup, void *arg)
{
	extern char **environ;
	struct shared_child c = { file, argv, envp ? envp : environ, setup, arg, 0, false };
	sigset_t all, old;
	char *stack;
	pid_t pid;
	int e, st;

	stack = mmap(NULL, SHARED_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		ipc_failed_call = "mmap", ipc_failed_why = NULL;
		return -1;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	ipc_failed_call = "exec", ipc_failed_why = NULL;	/* a SETUP may say better */
	pid = clone(shared_child_main, stack + SHARED_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	munmap(stack, SHARED_STACK);
	if (pid == -1) {
		ipc_failed_call = "clone", ipc_failed_why = NULL;
		errno = e;
		return -1;
	}
	if (c.err == 0)
		return pid;
	ipc_wait(pid, &st, 0);	/* it has exited: CLONE_VFORK waited for that */
	if (c.exec_failed)
		ipc_failed_call = "exec", ipc_failed_why = NULL;
	errno = c.err;
	return -1;
}

pid_t
ipc_wait(pid_t pid, int *status, int options)
{
	pid_t r;

	do
		r = waitpid(pid, status, options);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		ipc_failed_call = "waitpid", ipc_failed_why = NULL;
	return r;
}

int
ipc_wait_for(pid_t pid, int *status, int timeout_ms, volatile sig_atomic_t *stop)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX :
			    ipc_now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct pollfd p = { .events = POLLIN };
	const char *call = "waitpid";
	int ms, e;
	pid_t r;

	ipc_failed_why = NULL;
	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p.fd == -1) {
		ipc_failed_call = "pidfd_open", ipc_failed_why = NULL;
		return -1;
	}
	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r != 0 || (stop && *stop) || (ms = ipc_slice_ms(deadline)) < 0)
			break;
		if (poll(&p, 1, ms) == -1 && errno != EINTR) {
			r = -1;
			call = "poll";
			break;
		}
	}
	e = errno;
	close(p.fd);
	if (r == -1) {
		ipc_failed_call = call;
		errno = e;
	}
	return r;
}

char *
ipc_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s%s", ipc_signame(WTERMSIG(status)),
			 WCOREDUMP(status) ? " (core dumped)" : "");
	else if (WIFSTOPPED(status))
		snprintf(buf, len, "stopped by %s", ipc_signame(WSTOPSIG(status)));
	else if (WIFCONTINUED(status))
		snprintf(buf, len, "continued");
	else
		snprintf(buf, len, "status 0x%x", (unsigned)status);
	return buf;
}

int
ipc_status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return IPC_EXIT_OWN;
}

int
ipc_exec_errno_code(int err)
{
	return err == ENOENT || err == ENOTDIR ? IPC_EXIT_NOTFOUND : IPC_EXIT_NOEXEC;
}
