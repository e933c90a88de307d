/* Unit tests for the core's handling of what a user names (src/core/file.c)
 * and the helpers that bound a wait or check a report (ipc_wait_for,
 * ipc_shorten, ipc_flush_check).  The truth: mkfifo(3) and mknod(2) nodes
 * that must never be opened, chown(2) to another user, the lengths Linux
 * allows, and children that stop or ignore what they are sent. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ipclab/cli.h"
#include "ipclab/map.h"
#include "ipclab/num.h"
#include "ipclab/proc.h"

static char dir[] = "/tmp/ipclab-unit-file-XXXXXX";

static const char *
in_dir(const char *name)
{
	static char buf[4][PATH_MAX];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, name);
	return buf[n];
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A FIFO with no writer would block a plain open(O_RDONLY) for ever: the call
 * must come back at once (the test's alarm fails it otherwise). */
static void
fifo_is_refused_without_blocking(void **state)
{
	const char *p = in_dir("fifo");

	(void)state;
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(5);
	assert_int_equal(ipc_open_regular(p, O_RDONLY, NULL), -1);
	assert_int_equal(ipc_open_regular(p, O_WRONLY, NULL), -1);
	alarm(0);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(ipc_failed_call, "open");
	assert_string_equal(ipc_failed_why, "not a regular file (it is a FIFO)");
}

static void
other_types_are_named(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(ipc_open_regular(dir, O_RDONLY, NULL), -1);
	assert_int_equal(errno, EISDIR);
	assert_string_equal(ipc_failed_why, "not a regular file (it is a directory)");
	assert_int_equal(ipc_open_regular("/dev/null", O_RDONLY, NULL), -1);
	assert_string_equal(ipc_failed_why, "not a regular file (it is a character device)");
	assert_true(strlen(in_dir("sock")) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, in_dir("sock"), strlen(in_dir("sock")) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(ipc_open_regular(in_dir("sock"), O_RDONLY, NULL), -1);
	assert_string_equal(ipc_failed_why, "not a regular file (it is a socket)");
	close(s);
}

static void
regular_file_opens_blocking_and_cloexec(void **state)
{
	const char *p = in_dir("reg");
	struct stat st;
	int fd;

	(void)state;
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	fd = ipc_open_regular(p, O_RDONLY, &st);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, 3);
	assert_null(ipc_failed_why);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_not_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
	assert_int_equal(symlink(p, in_dir("link")), 0);
	assert_int_equal(ipc_open_regular(in_dir("link"), O_RDONLY | O_NOFOLLOW, NULL), -1);
	assert_int_equal(errno, ELOOP);
	assert_string_equal(ipc_failed_why, "not a regular file (it is a symbolic link)");
	fd = ipc_open_regular(in_dir("link"), O_RDONLY, NULL);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ipc_open_regular(in_dir("none"), O_RDONLY, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(ipc_failed_why);
}

static void
paths_that_do_not_fit_are_refused(void **state)
{
	char *p = malloc(PATH_MAX + 10);
	char comp[NAME_MAX + 3];

	(void)state;
	assert_int_equal(ipc_path_check(""), -1);
	assert_int_equal(errno, EINVAL);
	memset(p, 'a', PATH_MAX + 9);
	p[PATH_MAX + 9] = '\0';
	for (int i = 100; i < PATH_MAX; i += 100)
		p[i] = '/';
	assert_int_equal(ipc_path_check(p), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_non_null(strstr(ipc_failed_why, "PATH_MAX"));
	p[PATH_MAX] = '\0';	/* PATH_MAX bytes and its '\0' do not fit */
	assert_int_equal(ipc_path_check(p), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	p[PATH_MAX - 1] = '\0';	/* the longest the kernel takes */
	assert_int_equal(ipc_path_check(p), 0);
	memset(comp, 'b', NAME_MAX + 1);
	comp[NAME_MAX + 1] = '\0';
	assert_int_equal(ipc_path_check(comp), -1);
	assert_non_null(strstr(ipc_failed_why, "NAME_MAX"));
	/* the kernel agrees with both limits */
	assert_int_equal(open(comp, O_RDONLY), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	comp[NAME_MAX] = '\0';
	assert_int_equal(ipc_path_check(comp), 0);
	free(p);
}

static void
force_replaces_only_own_regular_files(void **state)
{
	struct stat st;
	const char *p = in_dir("mine");
	int fd = open(p, O_CREAT | O_WRONLY, 0600);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(ipc_may_replace(&st), 0);
	assert_int_equal(stat("/dev/zero", &st), 0);
	assert_int_equal(ipc_may_replace(&st), -1);
	assert_non_null(strstr(ipc_failed_why, "a character device"));
	assert_int_equal(mkfifo(in_dir("f2"), 0600), 0);
	assert_int_equal(lstat(in_dir("f2"), &st), 0);
	assert_int_equal(ipc_may_replace(&st), -1);
	assert_non_null(strstr(ipc_failed_why, "a FIFO"));
	if (geteuid() != 0)
		skip();
	assert_int_equal(chown(p, 65534, 65534), 0);	/* nobody */
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(ipc_may_replace(&st), -1);
	assert_non_null(strstr(ipc_failed_why, "it belongs to user"));
}

static void
shm_names_are_checked(void **state)
{
	char longname[NAME_MAX + 3];

	(void)state;
	assert_int_equal(ipc_shm_name_check("race"), 0);
	assert_int_equal(ipc_shm_name_check("/race"), 0);
	assert_int_equal(ipc_shm_name_check(""), -1);
	assert_int_equal(ipc_shm_name_check("/"), -1);
	assert_string_equal(ipc_failed_why, "the name is empty");
	assert_int_equal(ipc_shm_name_check("a/b"), -1);
	assert_int_equal(ipc_shm_name_check(".."), -1);
	memset(longname, 'c', NAME_MAX + 1);
	longname[NAME_MAX + 1] = '\0';
	assert_int_equal(ipc_shm_name_check(longname), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void
long_names_are_shortened_in_the_middle(void **state)
{
	char buf[64];
	const char *r;

	(void)state;
	assert_string_equal(ipc_shorten("short", 20, buf, sizeof(buf)), "short");
	r = ipc_shorten("/aaaaaaaaaa/bbbbbbbbbb/cccccccccc/name.dat", 20, buf, sizeof(buf));
	assert_int_equal(strlen(r), 20);
	assert_string_equal(r, "/aaaaaaa.../name.dat");
	/* é is two bytes: never cut in half */
	r = ipc_shorten("ééééééééééééééééé", 12, buf, sizeof(buf));
	assert_string_equal(r, "éé...éé");
}

static void
wait_for_gives_up_on_a_stopped_child(void **state)
{
	uint64_t t0;
	int st;
	pid_t pid = fork();

	(void)state;
	if (pid == 0) {
		raise(SIGSTOP);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
	t0 = ipc_now_ns();
	assert_int_equal(ipc_wait_for(pid, &st, 300, NULL), 0);
	assert_true(ipc_now_ns() - t0 >= 290000000u);
	assert_true(ipc_now_ns() - t0 < 2000000000u);
	kill(pid, SIGCONT);
	assert_int_equal(ipc_wait_for(pid, &st, 5000, NULL), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}

static volatile sig_atomic_t stop;

static void
on_alarm(int sig)
{
	(void)sig;
	stop = 1;
}

static void
wait_for_ends_when_told_to_stop(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { 0, 200000 } };
	uint64_t t0;
	int st;
	pid_t pid = fork();

	(void)state;
	if (pid == 0) {
		pause();
		_exit(0);
	}
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = ipc_now_ns();
	assert_int_equal(ipc_wait_for(pid, &st, -1, &stop), 0);
	assert_true(ipc_now_ns() - t0 < 1500000000u);
	kill(pid, SIGKILL);
	assert_int_equal(ipc_wait_for(pid, &st, -1, NULL), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(ipc_wait_for(pid, &st, 10, NULL), -1);	/* gone */
}

/* A report written to /dev/full must not pass for written: the child's
 * status and its one line are the truth. */
static void
flush_check_fails_on_a_full_device(void **state)
{
	int p[2], st;
	char msg[256] = "";
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		int full = open("/dev/full", O_WRONLY);

		dup2(full, STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		ipc_setcmd("unit");
		printf("a report\n");
		ipc_flush_check(stdout, "stdout");
		_exit(0);
	}
	close(p[1]);
	assert_true(read(p[0], msg, sizeof(msg) - 1) > 0);
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_string_equal(msg, "ipclab unit: stdout: write error: No space left on device\n");
}

static void
flush_check_is_quiet_for_a_reader_that_left(void **state)
{
	int p[2], e[2], st;
	char msg[64] = "";
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(e), 0);
	close(p[0]);
	pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		dup2(p[1], STDOUT_FILENO);
		dup2(e[1], STDERR_FILENO);
		printf("nobody reads this\n");
		ipc_flush_check(stdout, "stdout");
		_exit(7);
	}
	close(p[1]);
	close(e[1]);
	assert_int_equal(read(e[0], msg, sizeof(msg)), 0);
	close(e[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fifo_is_refused_without_blocking),
		cmocka_unit_test(other_types_are_named),
		cmocka_unit_test(regular_file_opens_blocking_and_cloexec),
		cmocka_unit_test(paths_that_do_not_fit_are_refused),
		cmocka_unit_test(force_replaces_only_own_regular_files),
		cmocka_unit_test(shm_names_are_checked),
		cmocka_unit_test(long_names_are_shortened_in_the_middle),
		cmocka_unit_test(wait_for_gives_up_on_a_stopped_child),
		cmocka_unit_test(wait_for_ends_when_told_to_stop),
		cmocka_unit_test(flush_check_fails_on_a_full_device),
		cmocka_unit_test(flush_check_is_quiet_for_a_reader_that_left),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
