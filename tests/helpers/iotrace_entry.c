/* iotrace_entry MODE [FILE]: entry points that move file bytes only through
 * glibc's insides or the kernel's generic door, one per mode.
 *   messages  error, error_at_line, warn, warnx, perror, psignal, psiginfo
 *             and getopt's complaint about an unknown option, on stderr
 *   err       err(3): the message, then exit 3
 *   quick     stdout flushed by an at_quick_exit handler, then quick_exit
 *   fcloseall buffered writes to FILE and stdout, flushed by fcloseall
 *   fexecve   FILE opened, then fexecve and execveat of cat on it
 *   mmsg      sendmmsg and recvmmsg over a socket pair
 *   syscall   open, read, write, pread, writev and close through syscall(2)
 *   many      300 FILEs written and left open for exit to flush, and a
 *             descriptor at the highest number allowed (up to 100000)
 *             written and left open */
#include <err.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

static void
messages(void)
{
	char *argv[] = { "prog", "-q", "-x", NULL };
	siginfo_t si;

	printf("to stdout first, flushed by error()");
	error(0, ENOENT, "error %d", 1);
	error_at_line(0, EACCES, "file.c", 42, "error_at_line %d", 2);
	warn("warn %d", 3);
	warnx("warnx %d", 4);
	errno = EPIPE;
	perror("perror");
	psignal(SIGTERM, "psignal");
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_USER;
	psiginfo(&si, "psiginfo");
	while (getopt(3, argv, "q") != -1)
		;
	optind = 0;
	while (getopt_long(3, argv, "q", NULL, NULL) != -1)
		;
	fflush(stdout);
}

static void
flush_on_quick_exit(void)
{
	fflush(stdout);
}

static void
quick(void)
{
	at_quick_exit(flush_on_quick_exit);
	printf("buffered, then quick_exit\n");
	quick_exit(4);
}

static void
closeall(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		err(1, "%s", path);
	fprintf(fp, "written by fcloseall's flush\n");
	printf("stdout too\n");
	if (fcloseall() != 0)
		err(1, "fcloseall");
	_exit(0);	/* no exit flush: fcloseall did it */
}

static void
exec_on(const char *path)
{
	char *argv[] = { "cat", (char *)path, NULL };
	extern char **environ;
	int fd = open("/usr/bin/cat", O_RDONLY | O_CLOEXEC);
	FILE *fp = fopen(path, "r");
	char line[100];
	pid_t pid;
	int st;

	if (fd == -1 || fp == NULL || fgets(line, sizeof(line), fp) == NULL)
		err(1, "open");
	fputs(line, stdout);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		execveat(fd, "", argv, environ, AT_EMPTY_PATH);
		err(126, "execveat");
	}
	if (pid == -1 || waitpid(pid, &st, 0) != pid || st != 0)
		errx(1, "execveat: child failed");
	fexecve(fd, argv, environ);
	err(126, "fexecve");
}

static void
mmsg(void)
{
	struct mmsghdr m[3];
	struct iovec v[3];
	char out[3][100], in[3][200];
	int sv[2], n;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == -1)
		err(1, "socketpair");
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 3; i++) {
		memset(out[i], 'a' + i, sizeof(out[i]));
		v[i].iov_base = out[i];
		v[i].iov_len = (size_t)(30 * (i + 1));
		m[i].msg_hdr.msg_iov = &v[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	if ((n = sendmmsg(sv[0], m, 3, 0)) != 3)
		err(1, "sendmmsg");
	for (int i = 0; i < 3; i++) {
		v[i].iov_base = in[i];
		v[i].iov_len = sizeof(in[i]);
	}
	if ((n = recvmmsg(sv[1], m, 3, 0, NULL)) != 3)
		err(1, "recvmmsg");
	printf("mmsg %u %u %u\n", m[0].msg_len, m[1].msg_len, m[2].msg_len);
}

static void
raw(const char *path)
{
	char buf[5000];
	struct iovec v[2] = { { buf, 10 }, { buf + 10, 20 } };
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY), n, m, w;

	if (fd < 0)
		err(1, "%s", path);
	n = syscall(SYS_read, fd, buf, sizeof(buf));
	m = syscall(SYS_pread64, fd, buf, 100, 7);
	w = syscall(SYS_write, 1, buf, n > 0 ? n : 0);
	w += syscall(SYS_writev, 1, v, 2);
	syscall(SYS_close, fd);
	fprintf(stderr, "syscall %ld %ld %ld\n", n, m, w);
}

static void
many(void)
{
	struct rlimit rl;
	char name[64];
	int fd;

	for (int i = 0; i < 300; i++) {
		FILE *fp;

		snprintf(name, sizeof(name), "f%03d", i);
		if ((fp = fopen(name, "w")) == NULL)
			err(1, "%s", name);
		fprintf(fp, "file %d\n", i);	/* left for exit to flush */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	rl.rlim_cur = rl.rlim_max < 100001 ? rl.rlim_max : 100001;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "setrlimit");
	if ((fd = open("high", O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    dup2(fd, (int)rl.rlim_cur - 1) == -1 || close(fd) == -1)
		err(1, "high");
	if (write((int)rl.rlim_cur - 1, "high fd\n", 8) != 8)
		err(1, "write");
	printf("many %d\n", rl.rlim_cur - 1 >= 8192);	/* past the old table */
}

int
main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	const char *f = argc > 2 ? argv[2] : "";

	if (strcmp(m, "messages") == 0)
		messages();
	else if (strcmp(m, "err") == 0)
		err(3, "err %s", f);
	else if (strcmp(m, "quick") == 0)
		quick();
	else if (strcmp(m, "fcloseall") == 0)
		closeall(f);
	else if (strcmp(m, "fexecve") == 0)
		exec_on(f);
	else if (strcmp(m, "mmsg") == 0)
		mmsg();
	else if (strcmp(m, "syscall") == 0)
		raw(f);
	else if (strcmp(m, "many") == 0)
		many();
	else
		errx(2, "usage: iotrace_entry messages|err|quick|fcloseall|fexecve|mmsg|syscall|many");
	return 0;
}
