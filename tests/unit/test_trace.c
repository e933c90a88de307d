/* Unit tests for src/core/trace.c: a traced child's system calls.  The
 * truth: the child's own known calls (an mmap with chosen arguments, a
 * getpid), the kernel's wait status, and <sys/syscall.h>. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ipclab/num.h"
#include "ipclab/trace.h"

/* What the callback saw. */
struct seen {
	int mmaps;		/* mmap calls with length 12345 */
	struct ipc_syscall mmap;
	int getpids;
	int64_t getpid_ret;
	int calls;
	int detach_at_getpid;
};

static int
child_mmap_getpid(void *arg)
{
	void *p;

	(void)arg;
	p = mmap(NULL, 12345, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 10;
	if (syscall(SYS_getpid) <= 0)
		return 11;
	return 7;
}

static int
watch(pid_t pid, const struct ipc_syscall *sc, void *arg)
{
	struct seen *s = arg;

	(void)pid;
	s->calls++;
	if (sc->nr == SYS_mmap && sc->args[1] == 12345) {
		s->mmaps++;
		s->mmap = *sc;
	}
	if (sc->nr == SYS_getpid) {
		s->getpids++;
		s->getpid_ret = sc->ret;
		if (s->detach_at_getpid)
			return 1;
	}
	return 0;
}

static void
trace_sees_the_mmap_with_its_arguments(void **state)
{
	struct seen s = { 0 };
	pid_t pid;
	int st = -1;

	(void)state;
	pid = ipc_trace_fork(child_mmap_getpid, NULL);
	assert_true(pid > 0);
	assert_int_equal(ipc_trace_syscalls(pid, watch, &s, &st, -1, NULL), 0);
	assert_int_equal(s.mmaps, 1);
	assert_int_equal(s.mmap.args[0], 0);
	assert_int_equal(s.mmap.args[1], 12345);
	assert_int_equal(s.mmap.args[2], PROT_READ);
	assert_int_equal(s.mmap.args[3], MAP_PRIVATE | MAP_ANONYMOUS);
	assert_int_equal((int)s.mmap.args[4], -1);
	assert_int_equal(s.mmap.args[5], 0);
	assert_true(s.mmap.ret > 0);
	assert_int_equal(s.mmap.ret % sysconf(_SC_PAGESIZE), 0);
	assert_int_equal(s.getpids, 1);
	assert_int_equal(s.getpid_ret, pid);		/* the child's own pid */
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
	errno = 0;
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);	/* already reaped */
	assert_int_equal(errno, ECHILD);
}

static int
child_bad_munmap(void *arg)
{
	(void)arg;
	return munmap((void *)1, 4096) == -1 ? 0 : 1;
}

static int
watch_munmap(pid_t pid, const struct ipc_syscall *sc, void *arg)
{
	(void)pid;
	if (sc->nr == SYS_munmap && sc->args[0] == 1)
		*(int64_t *)arg = sc->ret;
	return 0;
}

static void
trace_reports_a_failed_call_as_minus_errno(void **state)
{
	int64_t ret = 0;
	pid_t pid;
	int st;

	(void)state;
	pid = ipc_trace_fork(child_bad_munmap, NULL);
	assert_true(pid > 0);
	assert_int_equal(ipc_trace_syscalls(pid, watch_munmap, &ret, &st, -1, NULL), 0);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(st, 0);
}

static void
trace_detaches_when_the_callback_returns_1(void **state)
{
	struct seen s = { .detach_at_getpid = 1 };
	pid_t pid;
	int st = -1;

	(void)state;
	pid = ipc_trace_fork(child_mmap_getpid, NULL);
	assert_true(pid > 0);
	assert_int_equal(ipc_trace_syscalls(pid, watch, &s, &st, -1, NULL), 1);
	assert_int_equal(s.getpids, 1);
	/* the child runs on untraced and is ours to wait for */
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
}

static int
stop_at_first(pid_t pid, const struct ipc_syscall *sc, void *arg)
{
	(void)pid, (void)sc, (void)arg;
	return -1;
}

static void
trace_stops_and_kills_when_the_callback_fails(void **state)
{
	pid_t pid;
	int st = -1;

	(void)state;
	pid = ipc_trace_fork(child_mmap_getpid, NULL);
	assert_true(pid > 0);
	assert_int_equal(ipc_trace_syscalls(pid, stop_at_first, NULL, &st, -1, NULL), -1);
	errno = 0;
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);	/* killed and reaped */
	assert_int_equal(errno, ECHILD);
}

static int
child_killed(void *arg)
{
	(void)arg;
	kill(getpid(), SIGKILL);
	return 0;
}

static void
trace_returns_a_signal_death(void **state)
{
	struct seen s = { 0 };
	pid_t pid;
	int st = -1;

	(void)state;
	pid = ipc_trace_fork(child_killed, NULL);
	assert_true(pid > 0);
	assert_int_equal(ipc_trace_syscalls(pid, watch, &s, &st, -1, NULL), 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
}

/* A real signal the child catches reaches it through the tracer. */
static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static int
child_catches_usr1(void *arg)
{
	struct sigaction sa;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	return got_usr1 ? 5 : 6;
}

static void
trace_passes_signals_on_to_the_child(void **state)
{
	struct seen s = { 0 };
	pid_t pid;
	int st = -1;

	(void)state;
	pid = ipc_trace_fork(child_catches_usr1, NULL);
	assert_true(pid > 0);
	assert_int_equal(ipc_trace_syscalls(pid, watch, &s, &st, -1, NULL), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 5);
}

static int
child_hangs(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* The mask this process had before the trace, SIGCHLD included. */
static bool
sigchld_blocked(void)
{
	sigset_t now;

	sigprocmask(SIG_BLOCK, NULL, &now);
	return sigismember(&now, SIGCHLD) == 1;
}

static void
trace_gives_up_on_a_hung_child_at_its_time_limit(void **state)
{
	struct seen s = { 0 };
	uint64_t t0;
	pid_t pid;
	int st = -1;

	(void)state;
	pid = ipc_trace_fork(child_hangs, NULL);
	assert_true(pid > 0);
	t0 = ipc_now_ns();
	assert_int_equal(ipc_trace_syscalls(pid, watch, &s, &st, 300, NULL), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(ipc_now_ns() - t0 >= 300000000u);
	assert_true(ipc_now_ns() - t0 < 5000000000u);
	errno = 0;
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);	/* killed and reaped */
	assert_int_equal(errno, ECHILD);
	assert_false(sigchld_blocked());	/* the caller's mask is back */
}

static volatile sig_atomic_t asked_to_stop;

static void
on_alarm(int sig)
{
	(void)sig;
	asked_to_stop = 1;
}

static void
trace_ends_when_a_signal_asks_it_to_stop(void **state)
{
	struct sigaction sa;
	struct seen s = { 0 };
	pid_t pid;
	int st = -1;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;	/* a restarted wait must still see the flag */
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	pid = ipc_trace_fork(child_hangs, NULL);
	assert_true(pid > 0);
	alarm(1);
	assert_int_equal(ipc_trace_syscalls(pid, watch, &s, &st, 20000, &asked_to_stop), -1);
	assert_int_equal(errno, EINTR);
	assert_true(asked_to_stop);
	errno = 0;
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static int
child_sleeps_1300ms(void *arg)
{
	struct timespec ts = { 1, 300000000 };

	(void)arg;
	while (nanosleep(&ts, &ts) == -1)
		;
	return 4;
}

/* A child that ends soon after the stop was asked still ends on its own. */
static void
trace_gives_a_stopped_trace_a_moment_to_end(void **state)
{
	struct sigaction sa;
	struct seen s = { 0 };
	pid_t pid;
	int st = -1;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	asked_to_stop = 0;
	pid = ipc_trace_fork(child_sleeps_1300ms, NULL);
	assert_true(pid > 0);
	alarm(1);
	assert_int_equal(ipc_trace_syscalls(pid, watch, &s, &st, 20000, &asked_to_stop), 0);
	assert_true(asked_to_stop);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 4);
}

static int
child_stops_itself(void *arg)
{
	(void)arg;
	raise(SIGSTOP);
	return 3;
}

/* A SIGSTOP sent to a traced child does not leave the tracer waiting. */
static void
trace_runs_a_child_that_stops_itself_to_its_end(void **state)
{
	struct seen s = { 0 };
	pid_t pid;
	int st = -1;

	(void)state;
	pid = ipc_trace_fork(child_stops_itself, NULL);
	assert_true(pid > 0);
	assert_int_equal(ipc_trace_syscalls(pid, watch, &s, &st, 10000, NULL), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
}

static void
syscall_name_knows_mmap_and_not_nonsense(void **state)
{
	(void)state;
	assert_string_equal(ipc_syscall_name(SYS_mmap), "mmap");
	assert_string_equal(ipc_syscall_name(SYS_munmap), "munmap");
	assert_string_equal(ipc_syscall_name(SYS_openat), "openat");
	assert_string_equal(ipc_syscall_name(SYS_exit_group), "exit_group");
	assert_null(ipc_syscall_name(-1));
	assert_null(ipc_syscall_name(100000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trace_sees_the_mmap_with_its_arguments),
		cmocka_unit_test(trace_reports_a_failed_call_as_minus_errno),
		cmocka_unit_test(trace_detaches_when_the_callback_returns_1),
		cmocka_unit_test(trace_stops_and_kills_when_the_callback_fails),
		cmocka_unit_test(trace_returns_a_signal_death),
		cmocka_unit_test(trace_passes_signals_on_to_the_child),
		cmocka_unit_test(trace_gives_up_on_a_hung_child_at_its_time_limit),
		cmocka_unit_test(trace_ends_when_a_signal_asks_it_to_stop),
		cmocka_unit_test(trace_gives_a_stopped_trace_a_moment_to_end),
		cmocka_unit_test(trace_runs_a_child_that_stops_itself_to_its_end),
		cmocka_unit_test(syscall_name_knows_mmap_and_not_nonsense),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
