/* Unit tests for src/core/sig.c: handlers, the signalfd event source, and
 * signal names.  The truth: sigaction(2) and sigprocmask(2) read back, poll(2)
 * on the descriptor, glibc's SIGRTMIN/SIGRTMAX and sigabbrev_np(3). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ipclab/proc.h"
#include "ipclab/sig.h"

static volatile sig_atomic_t got;

static void
on_signal(int sig)
{
	got = sig;
}

static void
restore_default(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
}

static void
sig_handle_installs_handler_with_sa_restart(void **state)
{
	struct sigaction sa;

	(void)state;
	assert_int_equal(ipc_sig_handle(SIGUSR1, on_signal, true), 0);
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, on_signal);
	assert_true(sa.sa_flags & SA_RESTART);
	assert_false(sa.sa_flags & SA_SIGINFO);
	assert_int_equal(sigismember(&sa.sa_mask, SIGTERM), 1);	/* all blocked */
	assert_int_equal(sigismember(&sa.sa_mask, SIGINT), 1);
	got = 0;
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(got, SIGUSR1);
	restore_default(SIGUSR1);
}

static void
sig_handle_without_restart_has_no_sa_restart(void **state)
{
	struct sigaction sa;

	(void)state;
	assert_int_equal(ipc_sig_handle(SIGUSR2, on_signal, false), 0);
	assert_int_equal(sigaction(SIGUSR2, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, on_signal);
	assert_false(sa.sa_flags & SA_RESTART);
	restore_default(SIGUSR2);
}

static void
sig_handle_refuses_sigkill(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(ipc_sig_handle(SIGKILL, on_signal, true), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(ipc_failed_call, "sigaction");
}

static bool
blocked(int sig)
{
	sigset_t cur;

	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &cur), 0);
	return sigismember(&cur, sig) == 1;
}

static void
unblock(int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &s, NULL), 0);
}

static bool
readable_within(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

static void
sigfd_blocks_the_set_and_reads_a_raised_signal(void **state)
{
	struct signalfd_siginfo si;
	sigset_t set;
	int fd;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	assert_false(blocked(SIGUSR1));
	fd = ipc_sigfd_open(&set);
	assert_true(fd >= 0);
	assert_true(blocked(SIGUSR1));
	assert_false(blocked(SIGUSR2));
	assert_false(readable_within(fd, 0));
	assert_int_equal(ipc_sigfd_read(fd, &si), 0);	/* none pending */
	assert_int_equal(raise(SIGUSR1), 0);
	assert_true(readable_within(fd, 2000));
	memset(&si, 0, sizeof(si));
	assert_int_equal(ipc_sigfd_read(fd, &si), SIGUSR1);
	assert_int_equal(si.ssi_signo, SIGUSR1);
	assert_int_equal(si.ssi_pid, getpid());
	assert_int_equal(ipc_sigfd_read(fd, NULL), 0);
	close(fd);
	unblock(SIGUSR1);
}

static void
sigfd_reads_a_signal_sent_by_another_process(void **state)
{
	struct signalfd_siginfo si;
	sigset_t set;
	pid_t pid;
	int fd, st;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	fd = ipc_sigfd_open(&set);
	assert_true(fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(kill(getppid(), SIGUSR2) == 0 ? 0 : 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	assert_true(readable_within(fd, 2000));
	assert_int_equal(ipc_sigfd_read(fd, &si), SIGUSR2);
	assert_int_equal(si.ssi_pid, pid);
	assert_int_equal(ipc_sigfd_read(fd, &si), 0);
	close(fd);
	unblock(SIGUSR2);
}

static void
sigfd_is_nonblocking_and_close_on_exec(void **state)
{
	sigset_t set;
	int fd;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	fd = ipc_sigfd_open(&set);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	unblock(SIGWINCH);
}

/* With no descriptor left (RLIMIT_NOFILE at the lowest free one), signalfd
 * fails with EMFILE and the mask is left as it was. */
static void
sigfd_failure_leaves_the_mask_alone(void **state)
{
	struct rlimit old, rl;
	sigset_t set;
	int lowest, fd;

	(void)state;
	lowest = dup(0);
	assert_true(lowest >= 0);
	close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)lowest;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGURG);
	errno = 0;
	fd = ipc_sigfd_open(&set);
	int e = errno;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(e, EMFILE);
	assert_string_equal(ipc_failed_call, "signalfd");
	assert_false(blocked(SIGURG));
}

static void
signame_names_classic_signals(void **state)
{
	(void)state;
	assert_string_equal(ipc_signame(11), "SIGSEGV");
	assert_string_equal(ipc_signame(SIGKILL), "SIGKILL");
	assert_string_equal(ipc_signame(SIGCHLD), "SIGCHLD");
	assert_string_equal(ipc_signame(SIGSYS), "SIGSYS");
}

static void
signame_names_realtime_signals(void **state)
{
	(void)state;
	assert_string_equal(ipc_signame(SIGRTMIN), "SIGRTMIN");
	assert_string_equal(ipc_signame(SIGRTMIN + 2), "SIGRTMIN+2");
	assert_string_equal(ipc_signame(SIGRTMAX), "SIGRTMIN+30");
}

static void
signame_numbers_unknown_signals(void **state)
{
	(void)state;
	assert_string_equal(ipc_signame(999), "signal 999");
	assert_string_equal(ipc_signame(0), "signal 0");
	assert_string_equal(ipc_signame(-1), "signal -1");
}

static void
signame_two_classic_names_in_one_printf(void **state)
{
	char buf[64];

	(void)state;
	snprintf(buf, sizeof(buf), "%s %s", ipc_signame(SIGSEGV), ipc_signame(SIGTERM));
	assert_string_equal(buf, "SIGSEGV SIGTERM");
}

/* Regression: real-time names were once formatted in one per-thread buffer,
 * so this printed "SIGRTMIN+1 SIGRTMIN+1". */
static void
signame_two_realtime_names_in_one_printf(void **state)
{
	char buf[64];

	(void)state;
	snprintf(buf, sizeof(buf), "%s %s", ipc_signame(SIGRTMIN + 1),
		 ipc_signame(SIGRTMIN + 2));
	assert_string_equal(buf, "SIGRTMIN+1 SIGRTMIN+2");
}

/* The same for numbers that name no signal (the header promises four). */
static void
signame_two_unknown_numbers_in_one_printf(void **state)
{
	char buf[128];

	(void)state;
	snprintf(buf, sizeof(buf), "%s, %s, %s, %s", ipc_signame(996), ipc_signame(997),
		 ipc_signame(998), ipc_signame(999));
	assert_string_equal(buf, "signal 996, signal 997, signal 998, signal 999");
}

static void
signum_parses_names_and_numbers(void **state)
{
	(void)state;
	assert_int_equal(ipc_signum("SEGV"), SIGSEGV);
	assert_int_equal(ipc_signum("SIGSEGV"), SIGSEGV);
	assert_int_equal(ipc_signum("sigsegv"), SIGSEGV);
	assert_int_equal(ipc_signum("segv"), SIGSEGV);
	assert_int_equal(ipc_signum("11"), 11);
	assert_int_equal(ipc_signum("KILL"), SIGKILL);
	assert_int_equal(ipc_signum("SIGUSR1"), SIGUSR1);
}

static void
signum_parses_realtime_names(void **state)
{
	char max[16];

	(void)state;
	assert_int_equal(ipc_signum("RTMIN"), SIGRTMIN);
	assert_int_equal(ipc_signum("RTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(ipc_signum("SIGRTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(ipc_signum("rtmax"), SIGRTMAX);
	assert_int_equal(ipc_signum("RTMAX"), SIGRTMAX);
	snprintf(max, sizeof(max), "%d", SIGRTMAX);
	assert_int_equal(ipc_signum(max), SIGRTMAX);
}

static void
signum_rejects_what_names_no_signal(void **state)
{
	char over[16];

	(void)state;
	snprintf(over, sizeof(over), "%d", SIGRTMAX + 1);
	assert_int_equal(SIGRTMAX, 64);		/* so "65" below is one past it */
	assert_int_equal(ipc_signum(""), -1);
	assert_int_equal(ipc_signum(NULL), -1);
	assert_int_equal(ipc_signum("FOO"), -1);
	assert_int_equal(ipc_signum("SIG"), -1);
	assert_int_equal(ipc_signum("0"), -1);
	assert_int_equal(ipc_signum("65"), -1);
	assert_int_equal(ipc_signum(over), -1);
	assert_int_equal(ipc_signum("-9"), -1);
	assert_int_equal(ipc_signum("11x"), -1);
	assert_int_equal(ipc_signum("RTMIN+31"), -1);
	assert_int_equal(ipc_signum("RTMINX"), -1);
}

static void
signum_and_signame_agree_for_every_signal(void **state)
{
	(void)state;
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig > SIGSYS && sig < SIGRTMIN)
			continue;	/* 32, 33: reserved by glibc, no name */
		if (ipc_signum(ipc_signame(sig)) != sig)
			fail_msg("signal %d: name %s parses as %d", sig, ipc_signame(sig),
				 ipc_signum(ipc_signame(sig)));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sig_handle_installs_handler_with_sa_restart),
		cmocka_unit_test(sig_handle_without_restart_has_no_sa_restart),
		cmocka_unit_test(sig_handle_refuses_sigkill),
		cmocka_unit_test(sigfd_blocks_the_set_and_reads_a_raised_signal),
		cmocka_unit_test(sigfd_reads_a_signal_sent_by_another_process),
		cmocka_unit_test(sigfd_is_nonblocking_and_close_on_exec),
		cmocka_unit_test(sigfd_failure_leaves_the_mask_alone),
		cmocka_unit_test(signame_names_classic_signals),
		cmocka_unit_test(signame_names_realtime_signals),
		cmocka_unit_test(signame_numbers_unknown_signals),
		cmocka_unit_test(signame_two_classic_names_in_one_printf),
		cmocka_unit_test(signame_two_realtime_names_in_one_printf),
		cmocka_unit_test(signame_two_unknown_numbers_in_one_printf),
		cmocka_unit_test(signum_parses_names_and_numbers),
		cmocka_unit_test(signum_parses_realtime_names),
		cmocka_unit_test(signum_rejects_what_names_no_signal),
		cmocka_unit_test(signum_and_signame_agree_for_every_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
