/* The command-line conventions every command shares. */
#include <err.h>
#include <poll.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config.h"
#include "ipclab/cli.h"
#include "ipclab/proc.h"

static char progname[64] = "ipclab";
static const char *cmdname = "ipclab";
static int saved_argc;
static char **saved_argv;

void
ipc_save_args(int argc, char **argv)
{
	saved_argc = argc;
	saved_argv = malloc(((size_t)argc + 1) * sizeof(*argv));
	if (saved_argv)
		memcpy(saved_argv, argv, ((size_t)argc + 1) * sizeof(*argv));
}

void
ipc_proctitle_init(void)
{
	extern char **environ;

	if (saved_argv)
		setproctitle_init(saved_argc, saved_argv, environ);
}

const char *
ipc_progname(void)
{
	return progname;
}

void
ipc_setcmd(const char *name)
{
	snprintf(progname, sizeof(progname), "ipclab %s", name);
	cmdname = name;
	setprogname(progname);
}

const char *
ipc_cmdname(void)
{
	return cmdname;
}

void
ipc_print_help(const struct ipc_help *h)
{
	const char *s = h->synopsis, *nl;

	fputs("Usage:\n", stdout);
	do {
		nl = strchr(s, '\n');
		int n = nl ? (int)(nl - s) : (int)strlen(s);
		printf(" ipclab %s %.*s\n", h->name, n, s);
		s = nl + 1;
	} while (nl && *s);
	printf("\n%s\n\nOptions:\n", h->summary);
	if (h->options)
		fputs(h->options, stdout);
	fputs(" -h, --help          display this help\n"
	      " -V, --version       display version\n", stdout);
	printf("\nSee ipclab-%s(1).\n", h->name);
}

void
ipc_print_version(void)
{
	printf("%s %s\n", progname, IPCLAB_VERSION);
}

void
ipc_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", progname);
	exit(2);
}

bool
ipc_common_option(int c, const struct ipc_help *h)
{
	switch (c) {
	case 'h':
		ipc_print_help(h);
		exit(0);
	case 'V':
		ipc_print_version();
		exit(0);
	case '?':
	case ':':
		fprintf(stderr, "Try '%s --help' for more information.\n", progname);
		exit(2);
	default:
		return false;
	}
}

/* True for a byte that continues a UTF-8 character. */
static bool
continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

const char *
ipc_shorten(const char *s, size_t max, char *buf, size_t len)
{
	size_t n = strlen(s), head, tail;

	if (n <= max || max < 8 || max >= len)
		return s;
	head = (max - 3) / 2;
	tail = max - 3 - head;
	while (head > 0 && continuation((unsigned char)s[head]))
		head--;
	while (tail > 0 && continuation((unsigned char)s[n - tail]))
		tail--;
	memcpy(buf, s, head);
	memcpy(buf + head, "...", 3);
	memcpy(buf + head + 3, s + n - tail, tail + 1);
	return buf;
}

/* "ipclab CMD: OBJECT: " on stderr, OBJECT shortened, nothing when NULL. */
static void
lead(const char *object)
{
	char buf[128];

	fprintf(stderr, "%s: ", progname);
	if (object)
		fprintf(stderr, "%s: ", ipc_shorten(object, 120, buf, sizeof(buf)));
}

void
ipc_fail(int status, const char *object, const char *call)
{
	const char *why = ipc_failed_why ? ipc_failed_why : strerror(errno);

	if (call == NULL)
		call = ipc_failed_call;
	lead(object);
	if (call)
		fprintf(stderr, "%s: ", call);
	fprintf(stderr, "%s\n", why);
	exit(status);
}

void
ipc_failx(int status, const char *object, const char *fmt, ...)
{
	va_list ap;

	lead(object);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* The reason of a write failure whose errno stdio did not keep: a pipe or
 * socket whose reader is gone reports POLLERR on its write end (EPIPE); any
 * other is unknown (0). */
static int
lost_errno(FILE *fp)
{
	struct pollfd p = { .fd = fileno(fp), .events = POLLOUT };
	struct stat st;

	if (p.fd < 0 || fstat(p.fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return 0;
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
		return EPIPE;
	return 0;
}

/* Flushes FP; 0 when every byte written to it arrived, else -1 with errno
 * (0 when an earlier write failed and its reason is not known). */
static int
flush_stream(FILE *fp)
{
	bool before = ferror(fp) != 0;

	errno = 0;
	if (fflush(fp) != 0)
		return -1;
	if (before || ferror(fp)) {
		errno = lost_errno(fp);
		return -1;
	}
	return 0;
}

/* "write error" and its reason, when it is known. */
static void
write_error(const char *what)
{
	if (errno)
		fprintf(stderr, "%s: %s: write error: %s\n", progname, what, strerror(errno));
	else
		fprintf(stderr, "%s: %s: write error\n", progname, what);
}

int
ipc_flush_check(FILE *fp, const char *what)
{
	if (flush_stream(fp) == 0)
		return 0;
	/* glibc has dropped what it could not write: clear the flag so that the
	 * check at exit does not say it again */
	clearerr(fp);
	if (errno == EPIPE)
		exit(0);	/* the reader has what it wanted */
	write_error(what);
	exit(1);
}

void
ipc_close_stdout(void)
{
	if (flush_stream(stdout) != 0 && errno != EPIPE) {
		write_error("stdout");
		_exit(1);
	}
	if (flush_stream(stderr) != 0 && errno != EPIPE)
		_exit(1);
}
