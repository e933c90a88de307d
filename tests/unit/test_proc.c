/* Unit tests for src/core/proc.c: ipc_fork, ipc_spawn and wait statuses in
 * words.  The truth: sigaction(2) and sigprocmask(2) queried in the child,
 * /proc/PID/status of a spawned program, waitpid(2) statuses made by the
 * kernel. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ipclab/cli.h"
#include "ipclab/proc.h"

static void
on_signal(int sig)
{
	(void)sig;
}

static void
on_siginfo(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
}

/* Waits for PID and returns its status. */
static int
reap(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* Asserts that this process has no child left, dead or alive. */
static void
assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
restore_default(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
}

/* Exit 0 when SIG's disposition in this process is WANT, 1 otherwise. */
static int
disposition_is(int sig, void (*want)(int))
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa) == -1)
		return 1;
	return sa.sa_handler == want && !(sa.sa_flags & SA_SIGINFO) ? 0 : 1;
}

static void
fork_resets_handlers_in_child(void **state)
{
	struct sigaction sa;
	pid_t pid;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	sa.sa_sigaction = on_siginfo;
	sa.sa_flags = SA_SIGINFO;
	assert_int_equal(sigaction(SIGUSR2, &sa, NULL), 0);
	pid = ipc_fork(NULL);
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(disposition_is(SIGUSR1, SIG_DFL) | disposition_is(SIGUSR2, SIG_DFL) << 1);
	assert_int_equal(reap(pid), 0);
	/* the parent keeps its handlers */
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, on_signal);
	restore_default(SIGUSR1);
	restore_default(SIGUSR2);
}

/* An ignored signal stays ignored, as across execve(2). */
static void
fork_keeps_ignored_signals_ignored(void **state)
{
	pid_t pid;

	(void)state;
	assert_true(signal(SIGUSR1, SIG_IGN) != SIG_ERR);
	pid = ipc_fork(NULL);
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(disposition_is(SIGUSR1, SIG_IGN));
	assert_int_equal(reap(pid), 0);
	restore_default(SIGUSR1);
}

/* Exit 0 when this process's signal mask is exactly WANT. */
static int
mask_is(const sigset_t *want)
{
	sigset_t cur;

	if (sigprocmask(SIG_SETMASK, NULL, &cur) == -1)
		return 1;
	for (int sig = 1; sig < SIGRTMIN; sig++)
		if (sigismember(&cur, sig) != sigismember(want, sig))
			return 1;
	return 0;
}

static void
fork_gives_child_the_given_mask(void **state)
{
	sigset_t want;
	pid_t pid;

	(void)state;
	sigemptyset(&want);
	sigaddset(&want, SIGUSR2);
	sigaddset(&want, SIGTERM);
	pid = ipc_fork(&want);
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(mask_is(&want));
	assert_int_equal(reap(pid), 0);
}

static void
fork_without_mask_gives_child_the_callers_mask(void **state)
{
	sigset_t mine, old;
	pid_t pid;

	(void)state;
	sigemptyset(&mine);
	sigaddset(&mine, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &mine, &old), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &mine), 0);
	pid = ipc_fork(NULL);
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(mask_is(&mine));
	assert_int_equal(reap(pid), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

static void
fork_restores_the_parents_mask(void **state)
{
	sigset_t block, before, old;
	pid_t pid;

	(void)state;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &before), 0);
	sigemptyset(&block);
	pid = ipc_fork(&block);
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(mask_is(&before), 0);
	reap(pid);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

/* The spawn tests run twice: with ipc_spawn (fork) and, their state set,
 * with ipc_spawn_shared (the child in the parent's memory). */
typedef pid_t (*spawner)(const char *, char *const[], char *const[], ipc_child_setup, void *);
static spawner shared_spawner = ipc_spawn_shared;
#define SPAWN (*state ? *(spawner *)*state : ipc_spawn)

static void
spawn_runs_true(void **state)
{
	char *argv[] = { "true", NULL };
	pid_t pid;
	int st;

	pid = SPAWN("true", argv, NULL, NULL, NULL);
	assert_true(pid > 0);
	st = reap(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_no_children();
}

static void
spawn_returns_the_programs_exit_status(void **state)
{
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	pid_t pid;
	int st;

	pid = SPAWN("sh", argv, NULL, NULL, NULL);
	assert_true(pid > 0);
	st = reap(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
}

static void
spawn_passes_the_given_environment(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "test \"$IPC_UNIT\" = yes && test -z \"$HOME\"", NULL };
	char *envp[] = { "IPC_UNIT=yes", NULL };
	pid_t pid;

	pid = SPAWN("/bin/sh", argv, envp, NULL, NULL);
	assert_true(pid > 0);
	assert_int_equal(reap(pid), 0);
}

static void
spawn_missing_program_is_enoent_and_leaves_no_zombie(void **state)
{
	char *argv[] = { "ipclab-unit-no-such-program", NULL };

	errno = 0;
	ipc_failed_call = NULL;
	assert_int_equal(SPAWN(argv[0], argv, NULL, NULL, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(ipc_failed_call, "exec");
	assert_no_children();
	assert_int_equal(ipc_exec_errno_code(ENOENT), 127);
}

static void
spawn_non_executable_file_is_eacces(void **state)
{
	char path[] = "/tmp/ipclab-unit-noexec-XXXXXX";
	char *argv[] = { path, NULL };
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	errno = 0;
	assert_int_equal(SPAWN(path, argv, NULL, NULL, NULL), -1);
	assert_int_equal(errno, EACCES);
	unlink(path);
	assert_no_children();
	assert_int_equal(ipc_exec_errno_code(EACCES), 126);
}

static int
setup_fails_eperm(void *arg)
{
	(void)arg;
	errno = EPERM;
	return -1;
}

static void
spawn_reports_a_failed_setup(void **state)
{
	char *argv[] = { "true", NULL };

	errno = 0;
	assert_int_equal(SPAWN("true", argv, NULL, setup_fails_eperm, NULL), -1);
	assert_int_equal(errno, EPERM);
	assert_no_children();
}

/* The setup runs in the child: its chdir shows in the program, not here. */
static int
setup_chdir(void *arg)
{
	return chdir(arg);
}

static void
spawn_runs_setup_in_the_child(void **state)
{
	char *argv[] = { "sh", "-c", "test \"$(pwd -P)\" = /proc", NULL };
	char before[4096], after[4096];
	pid_t pid;

	assert_non_null(getcwd(before, sizeof(before)));
	pid = SPAWN("sh", argv, NULL, setup_chdir, "/proc");
	assert_true(pid > 0);
	assert_int_equal(reap(pid), 0);
	assert_non_null(getcwd(after, sizeof(after)));
	assert_string_equal(before, after);
}

/* The kernel's view of the spawned program: /proc/PID/status SigBlk. */
static void
spawn_gives_program_an_empty_mask(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	char path[64], line[256], blk[64] = "";
	sigset_t block, old;
	FILE *fp;
	pid_t pid;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
	pid = SPAWN("sleep", argv, NULL, NULL, NULL);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	assert_true(pid > 0);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "SigBlk: %63s", blk) == 1)
			break;
	fclose(fp);
	kill(pid, SIGKILL);
	reap(pid);
	assert_string_equal(blk, "0000000000000000");
}

/* The shared child writes the parent's memory (CLONE_VM); a forked one
 * writes its own copy. */
static int
setup_marks(void *arg)
{
	*(int *)arg = 42;
	return 0;
}

static void
spawn_shared_child_is_in_the_parents_memory(void **state)
{
	char *argv[] = { "true", NULL };
	int mark = 0;
	pid_t pid;

	(void)state;
	pid = ipc_spawn("true", argv, NULL, setup_marks, &mark);
	assert_true(pid > 0);
	reap(pid);
	assert_int_equal(mark, 0);
	pid = ipc_spawn_shared("true", argv, NULL, setup_marks, &mark);
	assert_true(pid > 0);
	assert_int_equal(reap(pid), 0);
	assert_int_equal(mark, 42);
}

/* A failed setup may name its call: ipc_failed_call is the parent's too. */
static int
setup_fails_naming_its_call(void *arg)
{
	(void)arg;
	ipc_failed_call = "socket";
	errno = EADDRINUSE;
	return -1;
}

static void
spawn_shared_keeps_the_setups_call(void **state)
{
	char *argv[] = { "true", NULL };

	(void)state;
	errno = 0;
	assert_int_equal(ipc_spawn_shared("true", argv, NULL, setup_fails_naming_its_call, NULL), -1);
	assert_int_equal(errno, EADDRINUSE);
	assert_string_equal(ipc_failed_call, "socket");
	assert_no_children();
}

static const char *
words(int st)
{
	static char buf[64];

	return ipc_status_str(st, buf, sizeof(buf));
}

static void
status_str_says_exited(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(3);
	st = reap(pid);
	assert_string_equal(words(st), "exited 3");
	assert_int_equal(ipc_status_code(st), 3);
}

/* Core dumps depend on core_pattern: with a file pattern and RLIMIT_CORE 0
 * the kernel dumps nothing; a piped pattern ignores the limit. */
static int
core_pattern_is_pipe(void)
{
	char pat[8] = "";
	FILE *fp = fopen("/proc/sys/kernel/core_pattern", "r");

	if (fp == NULL)
		return 1;
	if (fgets(pat, sizeof(pat), fp) == NULL)
		pat[0] = '|';
	fclose(fp);
	return pat[0] == '|';
}

static void
status_str_says_killed_by_sigsegv(void **state)
{
	struct rlimit rl = { 0, 0 };
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &rl);
		restore_default(SIGSEGV);	/* ASan has its own handler */
		raise(SIGSEGV);
		_exit(99);
	}
	st = reap(pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	if (core_pattern_is_pipe())
		assert_string_equal(words(st), WCOREDUMP(st) ? "killed by SIGSEGV (core dumped)"
							   : "killed by SIGSEGV");
	else
		assert_string_equal(words(st), "killed by SIGSEGV");
	assert_int_equal(ipc_status_code(st), 128 + SIGSEGV);
}

/* The status word as the kernel makes it: signal in the low 7 bits, 0x80 for
 * a core dump. */
static void
status_str_says_core_dumped(void **state)
{
	(void)state;
	assert_string_equal(words(0x80 | SIGSEGV), "killed by SIGSEGV (core dumped)");
	assert_string_equal(words(SIGSEGV), "killed by SIGSEGV");
	assert_string_equal(words(3 << 8), "exited 3");
}

static void
status_str_says_stopped_and_continued(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		raise(SIGSTOP);
		pause();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
	assert_string_equal(words(st), "stopped by SIGSTOP");
	assert_int_equal(kill(pid, SIGCONT), 0);
	assert_int_equal(waitpid(pid, &st, WCONTINUED), pid);
	assert_string_equal(words(st), "continued");
	assert_int_equal(kill(pid, SIGKILL), 0);
	st = reap(pid);
	assert_string_equal(words(st), "killed by SIGKILL");
	assert_int_equal(ipc_status_code(st), 128 + 9);
}

static void
exec_errno_code_follows_timeout(void **state)
{
	(void)state;
	assert_int_equal(ipc_exec_errno_code(ENOENT), 127);
	assert_int_equal(ipc_exec_errno_code(ENOTDIR), 127);
	assert_int_equal(ipc_exec_errno_code(EACCES), 126);
	assert_int_equal(ipc_exec_errno_code(ENOEXEC), 126);
}

static void
wait_reports_echild(void **state)
{
	int st;

	(void)state;
	errno = 0;
	ipc_failed_call = NULL;
	assert_int_equal(ipc_wait(-1, &st, 0), -1);
	assert_int_equal(errno, ECHILD);
	assert_string_equal(ipc_failed_call, "waitpid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fork_resets_handlers_in_child),
		cmocka_unit_test(fork_keeps_ignored_signals_ignored),
		cmocka_unit_test(fork_gives_child_the_given_mask),
		cmocka_unit_test(fork_without_mask_gives_child_the_callers_mask),
		cmocka_unit_test(fork_restores_the_parents_mask),
		cmocka_unit_test(spawn_runs_true),
		cmocka_unit_test_prestate(spawn_runs_true, &shared_spawner),
		cmocka_unit_test(spawn_returns_the_programs_exit_status),
		cmocka_unit_test_prestate(spawn_returns_the_programs_exit_status, &shared_spawner),
		cmocka_unit_test(spawn_passes_the_given_environment),
		cmocka_unit_test_prestate(spawn_passes_the_given_environment, &shared_spawner),
		cmocka_unit_test(spawn_missing_program_is_enoent_and_leaves_no_zombie),
		cmocka_unit_test_prestate(spawn_missing_program_is_enoent_and_leaves_no_zombie, &shared_spawner),
		cmocka_unit_test(spawn_non_executable_file_is_eacces),
		cmocka_unit_test_prestate(spawn_non_executable_file_is_eacces, &shared_spawner),
		cmocka_unit_test(spawn_reports_a_failed_setup),
		cmocka_unit_test_prestate(spawn_reports_a_failed_setup, &shared_spawner),
		cmocka_unit_test(spawn_runs_setup_in_the_child),
		cmocka_unit_test_prestate(spawn_runs_setup_in_the_child, &shared_spawner),
		cmocka_unit_test(spawn_gives_program_an_empty_mask),
		cmocka_unit_test_prestate(spawn_gives_program_an_empty_mask, &shared_spawner),
		cmocka_unit_test(spawn_shared_child_is_in_the_parents_memory),
		cmocka_unit_test(spawn_shared_keeps_the_setups_call),
		cmocka_unit_test(status_str_says_exited),
		cmocka_unit_test(status_str_says_killed_by_sigsegv),
		cmocka_unit_test(status_str_says_core_dumped),
		cmocka_unit_test(status_str_says_stopped_and_continued),
		cmocka_unit_test(exec_errno_code_follows_timeout),
		cmocka_unit_test(wait_reports_echild),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
