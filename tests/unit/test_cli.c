/* Unit tests for src/core/cli.c: the program name, the help template, usage
 * errors and the options every command shares.  Each call that prints or
 * exits runs in a child whose stdout and stderr go to files; the truth is the
 * exit status the kernel reports and the text a user would read. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "config.h"
#include "ipclab/cli.h"

/* What a child printed and how it ended. */
struct run {
	int status;
	char out[2048];
	char err[2048];
};

static void
slurp(int fd, char *buf, size_t len)
{
	ssize_t n;
	size_t used = 0;

	lseek(fd, 0, SEEK_SET);
	while (used + 1 < len && (n = read(fd, buf + used, len - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
	close(fd);
}

static int
scratch(void)
{
	char path[] = "/tmp/ipclab-unit-cli-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

/* Runs fn(arg) in a child after ipc_setcmd(cmd); fn returning means exit 99. */
static void
run_child(struct run *r, const char *cmd, void (*fn)(const void *), const void *arg)
{
	int out = scratch(), err = scratch();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(out, 1) == -1 || dup2(err, 2) == -1)
			_exit(98);
		if (cmd)
			ipc_setcmd(cmd);
		fn(arg);
		fflush(NULL);
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
}

static void
assert_exited(const struct run *r, int code)
{
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != code)
		fail_msg("status 0x%x, want exit %d; stderr: %s", r->status, code, r->err);
}

static const struct ipc_help race_help = {
	.name = "race",
	.synopsis = "[options] N\n[options] -- CMD [ARG...]",
	.summary = "Run N processes that race for one counter.",
	.options = " -j, --json          print JSON\n"
		   " -n, --runs N        repeat N times\n",
};

static const char race_help_text[] =
	"Usage:\n"
	" ipclab race [options] N\n"
	" ipclab race [options] -- CMD [ARG...]\n"
	"\n"
	"Run N processes that race for one counter.\n"
	"\n"
	"Options:\n"
	" -j, --json          print JSON\n"
	" -n, --runs N        repeat N times\n"
	" -h, --help          display this help\n"
	" -V, --version       display version\n"
	"\n"
	"See ipclab-race(1).\n";

/* Runs first: nothing has called ipc_setcmd yet. */
static void
cmdname_is_ipclab_before_setcmd(void **state)
{
	(void)state;
	assert_string_equal(ipc_cmdname(), "ipclab");
	assert_string_equal(ipc_progname(), "ipclab");
}

static void
setcmd_names_the_command_everywhere(void **state)
{
	(void)state;
	ipc_setcmd("race");
	assert_string_equal(ipc_cmdname(), "race");
	assert_string_equal(ipc_progname(), "ipclab race");
	assert_string_equal(getprogname(), "ipclab race");
}

static void
do_warnx(const void *arg)
{
	warnx("%s", (const char *)arg);
}

static void
setcmd_makes_warn_say_ipclab_cmd(void **state)
{
	struct run r;

	(void)state;
	run_child(&r, "race", do_warnx, "cannot map");
	assert_exited(&r, 99);
	assert_string_equal(r.err, "ipclab race: cannot map\n");
}

static void
do_help(const void *arg)
{
	ipc_print_help(arg);
}

static void
help_follows_the_template(void **state)
{
	struct run r;

	(void)state;
	run_child(&r, "race", do_help, &race_help);
	assert_exited(&r, 99);
	assert_string_equal(r.out, race_help_text);
	assert_string_equal(r.err, "");
}

static void
help_without_own_options_lists_h_and_v(void **state)
{
	static const struct ipc_help h = { "pool", "[options]", "Start a pool.", NULL };
	struct run r;

	(void)state;
	run_child(&r, "pool", do_help, &h);
	assert_string_equal(r.out,
			    "Usage:\n"
			    " ipclab pool [options]\n"
			    "\n"
			    "Start a pool.\n"
			    "\n"
			    "Options:\n"
			    " -h, --help          display this help\n"
			    " -V, --version       display version\n"
			    "\n"
			    "See ipclab-pool(1).\n");
}

static void
do_usage(const void *arg)
{
	ipc_usage("bad count: %s", (const char *)arg);
}

static void
usage_exits_2_with_the_try_line(void **state)
{
	struct run r;

	(void)state;
	run_child(&r, "race", do_usage, "abc");
	assert_exited(&r, 2);
	assert_string_equal(r.err, "ipclab race: bad count: abc\n"
				   "Try 'ipclab race --help' for more information.\n");
	assert_string_equal(r.out, "");
}

static void
do_option(const void *arg)
{
	int c = *(const int *)arg;

	if (!ipc_common_option(c, &race_help))
		_exit(50);	/* "not mine": the command handles it */
}

static void
unknown_option_exits_2_with_the_try_line(void **state)
{
	static const int q = '?', colon = ':';
	struct run r;

	(void)state;
	run_child(&r, "race", do_option, &q);
	assert_exited(&r, 2);
	assert_string_equal(r.err, "Try 'ipclab race --help' for more information.\n");
	assert_string_equal(r.out, "");
	run_child(&r, "race", do_option, &colon);
	assert_exited(&r, 2);
	assert_string_equal(r.err, "Try 'ipclab race --help' for more information.\n");
}

static void
option_h_prints_help_and_exits_0(void **state)
{
	static const int h = 'h';
	struct run r;

	(void)state;
	run_child(&r, "race", do_option, &h);
	assert_exited(&r, 0);
	assert_string_equal(r.out, race_help_text);
	assert_string_equal(r.err, "");
}

static void
option_v_prints_version_and_exits_0(void **state)
{
	static const int v = 'V';
	struct run r;

	(void)state;
	run_child(&r, "race", do_option, &v);
	assert_exited(&r, 0);
	assert_string_equal(r.out, "ipclab race " IPCLAB_VERSION "\n");
}

static void
other_options_are_left_to_the_command(void **state)
{
	static const int j = 'j';
	struct run r;

	(void)state;
	run_child(&r, "race", do_option, &j);
	assert_exited(&r, 50);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
}

/* Writes N bytes to stdout, then checks it as a command does at the end;
 * with N odd, a flush in between takes the failure (and its errno) first. */
static void
write_then_check(size_t n)
{
	static char chunk[4096];

	memset(chunk, 'x', sizeof(chunk));
	for (size_t done = 0; done < n; done += sizeof(chunk))
		fwrite(chunk, 1, sizeof(chunk), stdout);
	if (n % 2)
		(void)fflush(stdout);
	ipc_flush_check(stdout, "stdout");
	_exit(0);
}

/* stdout replaced by TARGET (a path, or NULL for a pipe whose reader has
 * left), then N bytes written: how the child ended and what it said. */
static void
run_writer(struct run *r, const char *target, size_t n)
{
	int err = scratch(), fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = target ? open(target, O_WRONLY) : fds[1];

		signal(SIGPIPE, SIG_IGN);
		if (fd < 0 || dup2(fd, 1) == -1 || dup2(err, 2) == -1)
			_exit(98);
		close(fds[0]);
		ipc_setcmd("race");
		write_then_check(n);
	}
	close(fds[0]);		/* the reader leaves before anything is read */
	close(fds[1]);
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
	r->out[0] = '\0';
	slurp(err, r->err, sizeof(r->err));
}

static void
flush_check_names_the_reason_it_knows(void **state)
{
	struct run r;

	(void)state;
	/* the failure happens in the final flush: its errno is the reason */
	run_writer(&r, "/dev/full", 100);
	assert_exited(&r, 1);
	assert_string_equal(r.err, "ipclab race: stdout: write error: No space left on device\n");
	/* an earlier write failed and stdio dropped its errno: no made-up reason */
	run_writer(&r, "/dev/full", 100001);
	assert_exited(&r, 1);
	assert_string_equal(r.err, "ipclab race: stdout: write error\n");
}

static void
flush_check_is_quiet_when_the_reader_left(void **state)
{
	struct run r;

	(void)state;
	run_writer(&r, NULL, 100);
	assert_exited(&r, 0);
	assert_string_equal(r.err, "");
	/* EPIPE in the middle of the output, long before the final flush */
	run_writer(&r, NULL, 100001);
	assert_exited(&r, 0);
	assert_string_equal(r.err, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cmdname_is_ipclab_before_setcmd),
		cmocka_unit_test(setcmd_names_the_command_everywhere),
		cmocka_unit_test(setcmd_makes_warn_say_ipclab_cmd),
		cmocka_unit_test(help_follows_the_template),
		cmocka_unit_test(help_without_own_options_lists_h_and_v),
		cmocka_unit_test(usage_exits_2_with_the_try_line),
		cmocka_unit_test(unknown_option_exits_2_with_the_try_line),
		cmocka_unit_test(option_h_prints_help_and_exits_0),
		cmocka_unit_test(option_v_prints_version_and_exits_0),
		cmocka_unit_test(other_options_are_left_to_the_command),
		cmocka_unit_test(flush_check_names_the_reason_it_knows),
		cmocka_unit_test(flush_check_is_quiet_when_the_reader_left),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
