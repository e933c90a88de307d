// COMMAND(shmstr, "hand a string to a child through a memory-mapped file")
/*
 * ipclab shmstr [options] FILE STRING
 * ipclab shmstr [options] --shm NAME STRING
 * ipclab shmstr --read FILE | --read --shm NAME
 *
 * The seed's sequence, step by step: the parent creates FILE just large
 * enough for | length | byte_0 | ... | byte_N | (no terminating zero), forks,
 * maps the file and writes the contents, then notifies the child through a
 * pipe (one byte) or a signal (SIGUSR1, blocked before the fork so that it
 * cannot be lost).  The child, once notified, maps the same file, reads it and
 * prints the string.  Each side's mapping is MAP_SHARED or MAP_PRIVATE.
 *
 * stdout carries only what the child printed (or the JSON document); the
 * steps, the report and the findings go to stderr.  The child also hands what
 * it read back over a pipe, so that the parent can report and explain it.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "ipclab/cli.h"
#include "ipclab/map.h"
#include "ipclab/num.h"
#include "ipclab/out.h"
#include "ipclab/proc.h"
#include "ipclab/report.h"
#include "ipclab/sig.h"

#define MAXLEN 255		/* the length must fit one byte */
#define NOTIFY_SIG SIGUSR1
#define MARK "user.ipclab.shmstr"	/* set on what shmstr made, checked before reuse */

static const struct ipc_help help = {
	.name = "shmstr",
	.synopsis = "[options] FILE STRING\n"
		    "[options] --shm NAME STRING\n"
		    "--read FILE\n"
		    "--read --shm NAME",
	.summary = "Hand a string from a parent to its child through a memory-mapped file.",
	.options =
	" -n, --notify MODE   tell the child by 'pipe' (default) or 'signal'\n"
	" -p, --parent MAP    the parent's mapping: 'shared' (default) or 'private'\n"
	" -c, --child MAP     the child's mapping: 'shared' (default) or 'private'\n"
	" -s, --shm NAME      use the POSIX shared memory object NAME (shm_open)\n"
	" -r, --repeat N      run the notify-and-read cycle N times, report latency\n"
	" -R, --read          print the string an existing FILE or object holds\n"
	" -f, --force         replace an existing file of yours that shmstr did not make\n"
	" -u, --unlink        remove the file or object at the end\n"
	" -v, --verbose       print every step as it happens (who, call, result)\n"
	" -q, --quiet         print no report on stderr, only the child's string\n"
	" -J, --json          print one JSON document on stdout\n",
};

struct opts {
	const char *path;	/* FILE, or the object's name with --shm */
	const char *str;
	size_t len;
	bool shm, read, force, unlink, verbose, quiet, json, sig;
	int pflags, cflags;	/* MAP_SHARED or MAP_PRIVATE */
	long long repeat;
};

/* What one run saw: filled by the parent from the child's answers. */
struct result {
	pid_t parent, child;
	bool created;		/* we made the file, so we may remove it */
	unsigned char got[MAXLEN + 1];	/* length byte, then the bytes */
	unsigned char file[MAXLEN + 1];	/* the file afterwards */
	size_t filelen;
	int status;
	long long cycles, good;
	double *lat;		/* per-cycle latency, ns */
};

static volatile sig_atomic_t interrupted;
static pid_t parent_pid;	/* the child's parent: getppid() == 1 proves nothing in PID 1 */

static void
on_interrupt(int sig)
{
	interrupted = sig;
}

/* One step for --verbose, as "parent 1234: mmap(...) = 0x7f..". */
static void
step(const struct opts *o, const char *who, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (!o->verbose)
		return;
	n = snprintf(line, sizeof(line), "%s %d: ", who, (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

static const char *
mapname(int flags)
{
	return flags == MAP_SHARED ? "MAP_SHARED" : "MAP_PRIVATE";
}

static int
parse_map(const char *s, const char *what)
{
	if (strcmp(s, "shared") == 0)
		return MAP_SHARED;
	if (strcmp(s, "private") == 0)
		return MAP_PRIVATE;
	ipc_usage("%s mapping '%s': use 'shared' or 'private'", what, s);
}

static void take_operands(int argc, char **argv, struct opts *o);

/* An object name that no call could take is the user's typing: exit 2 with
 * what is wrong with it, before anything is touched. */
static void
check_name(const struct opts *o)
{
	char buf[128];

	if ((o->shm ? ipc_shm_name_check(o->path) : ipc_path_check(o->path)) == -1)
		ipc_usage("%s '%s': %s", o->shm ? "object name" : "FILE",
			  ipc_shorten(o->path, 60, buf, sizeof(buf)), ipc_failed_why);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "notify", required_argument, NULL, 'n' },
		{ "parent", required_argument, NULL, 'p' },
		{ "child", required_argument, NULL, 'c' },
		{ "shm", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "read", no_argument, NULL, 'R' },
		{ "force", no_argument, NULL, 'f' },
		{ "unlink", no_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'J' },
		IPC_COMMON_LONGOPTS, { NULL, 0, NULL, 0 }
	};
	const char *e;
	int c;

	*o = (struct opts){ .pflags = MAP_SHARED, .cflags = MAP_SHARED, .repeat = 1 };
	while ((c = getopt_long(argc, argv, "n:p:c:s:r:RfuvqJhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (strcmp(optarg, "pipe") != 0 && strcmp(optarg, "signal") != 0)
				ipc_usage("notify mode '%s': use 'pipe' or 'signal'", optarg);
			o->sig = optarg[0] == 's';
			break;
		case 'p': o->pflags = parse_map(optarg, "parent"); break;
		case 'c': o->cflags = parse_map(optarg, "child"); break;
		case 's': o->shm = true; o->path = optarg; break;
		case 'r':
			if (ipc_parse_count(optarg, 1, 100000000, &o->repeat, &e) == -1)
				ipc_usage("repeat count '%s' is %s (1 to 1e8)", optarg, e);
			break;
		case 'R': o->read = true; break;
		case 'f': o->force = true; break;
		case 'u': o->unlink = true; break;
		case 'v': o->verbose = true; break;
		case 'q': o->quiet = true; break;
		case 'J': o->json = true; break;
		default: ipc_common_option(c, &help);
		}
	}
	take_operands(argc - optind, argv + optind, o);
}

/* FILE (unless --shm named the object) and STRING, checked before anything
 * is touched. */
static void
take_operands(int argc, char **argv, struct opts *o)
{
	if (!o->shm && argc > 0) {
		o->path = argv[0];
		argc--, argv++;
	}
	if (o->path == NULL)
		ipc_usage("missing %s", o->shm ? "object name" : "FILE");
	check_name(o);
	if (o->read) {
		if (argc > 0)
			ipc_usage("--read takes no STRING");
		return;
	}
	if (argc != 1)
		ipc_usage(argc == 0 ? "missing STRING" : "too many arguments");
	o->str = argv[0];
	o->len = strlen(o->str);
	if (o->len > MAXLEN)
		ipc_usage("the string is %zu bytes; at most %d fit, because its length "
			  "must fit the file's one length byte", o->len, MAXLEN);
	if (o->len == 0)
		ipc_usage("the string is empty: a child reading length 0 could not tell "
			  "it from a write that never reached the file");
}

/* The bytes in quotes for people: text as it is when it is valid UTF-8,
 * control characters and the bytes of invalid text as <NN>. */
static char *
quoted(const unsigned char *p, size_t n, char *buf, size_t len)
{
	bool text = ipc_utf8_valid(p, n);
	size_t used = 0;

	used += (size_t)snprintf(buf, len, "\"");
	for (size_t i = 0; i < n && used + 6 < len; i++)
		if (p[i] >= 0x20 && p[i] != 0x7f && (p[i] < 0x80 || text))
			buf[used++] = (char)p[i];
		else
			used += (size_t)snprintf(buf + used, len - used, "<%02x>", p[i]);
	snprintf(buf + used, len - used, "\"");
	return buf;
}

static char *
hex(const unsigned char *p, size_t n, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, len - 2 * i, "%02x", p[i]);
	return buf;
}

enum kind { NOT_SHMSTR, SHMSTR, ZEROS };

/* Decodes the N bytes a file holds: a shmstr file is | length | bytes |, so
 * its size is 1 + its first byte; a run with a private parent mapping leaves
 * it all zeros.  The size rule only says how to read a file, never that
 * shmstr made it (the MARK attribute says that). */
static enum kind
shmstr_decode(const unsigned char *b, size_t n)
{
	if (n < 1 || n > MAXLEN + 1)
		return NOT_SHMSTR;
	if (n == 1 + (size_t)b[0])
		return SHMSTR;
	while (n > 0 && b[n - 1] == 0)
		n--;
	return n == 0 ? ZEROS : NOT_SHMSTR;
}

/* What shmstr made and must remove if it fails before the run is over. */
static struct {
	const char *path;
	bool shm, keep;
	pid_t owner;
} made;

static void
remove_made(void)
{
	if (made.path == NULL || made.keep || getpid() != made.owner)
		return;
	if ((made.shm ? shm_unlink(made.path) : unlink(made.path)) == -1)
		warn("%s: %s", made.path, made.shm ? "shm_unlink" : "unlink");
}

/* Marks the open object as shmstr's own.  A file system without extended
 * attributes cannot hold the mark: the object is then never reused without
 * --force, which is the safe side. */
static void
set_mark(const struct opts *o, int fd)
{
	if (fsetxattr(fd, MARK, "1", 1, 0) == 0)
		step(o, "parent", "fsetxattr(%d, \"" MARK "\", \"1\") = 0", fd);
	else if (errno != ENOTSUP)
		ipc_fail(1, o->path, "fsetxattr");
}

/* NULL when the object is shmstr's own (it carries the mark), else why
 * shmstr cannot tell that it made it. */
static const char *
not_ours(int fd)
{
	char v[8];

	if (fgetxattr(fd, MARK, v, sizeof(v)) >= 0)
		return NULL;
	if (errno == ENOTSUP)
		return "its file system keeps no extended attributes, so shmstr cannot "
		       "tell whether it made it";
	if (errno == ENODATA)
		return "shmstr did not make it (it has no " MARK " attribute)";
	return strerror(errno);
}

/* Opens the existing object for reuse, never through a symlink: only a
 * regular file of the caller's, and only one shmstr made unless --force.
 * Empties it and marks it. */
static int
reuse_object(const struct opts *o, off_t size)
{
	const char *why;
	struct stat st;
	int fd;

	fd = o->shm ? ipc_shm_open(o->path, true, &st) : ipc_file_open(o->path, true, true, &st);
	if (fd == -1 && errno == ELOOP)
		ipc_failx(1, o->path, "is a symbolic link, which shmstr does not follow");
	if (fd == -1)
		ipc_fail(1, o->path, NULL);
	if (ipc_may_replace(&st) == -1)
		ipc_failx(1, o->path, "exists and %s; shmstr replaces only its own files, "
			  "even with --force", ipc_failed_why);
	if ((why = not_ours(fd)) != NULL && !o->force)
		ipc_failx(1, o->path, "exists and %s; not replaced without --force", why);
	if (ipc_file_reset(fd, size) == -1)
		ipc_fail(1, o->path, NULL);
	set_mark(o, fd);
	return fd;
}

static void
remove_object(const struct opts *o)
{
	made.keep = true;	/* removed here, once */
	if ((o->shm ? shm_unlink(o->path) : unlink(o->path)) == -1)
		warn("%s: %s", o->path, o->shm ? "shm_unlink" : "unlink");
}

/* Step 1: the parent creates the file, just large enough, and marks it. */
static int
make_object(const struct opts *o, struct result *r)
{
	off_t size = (off_t)(1 + o->len);
	int fd;

	fd = o->shm ? ipc_shm_create(o->path, size) : ipc_file_create(o->path, size);
	if (fd == -1 && errno == EEXIST) {
		fd = reuse_object(o, size);
		step(o, "parent", "reused %s, emptied to %lld zero bytes", o->path, (long long)size);
		return fd;
	}
	if (fd == -1)
		ipc_fail(1, o->path, NULL);
	r->created = true;
	made.path = o->path;
	made.shm = o->shm;
	made.owner = getpid();
	if (atexit(remove_made) != 0) {
		remove_object(o);
		errx(1, "atexit");
	}
	step(o, "parent", "%s(\"%s\", O_RDWR|O_CREAT|O_EXCL%s, 0600) = %d, %lld bytes",
	     o->shm ? "shm_open" : "open", o->path, o->shm ? "" : "|O_NOFOLLOW", fd,
	     (long long)size);
	set_mark(o, fd);
	return fd;
}

/* What cycle i writes: the string rotated by i, so that every read proves
 * it saw that cycle's write and not an earlier one. */
static void
expected(const struct opts *o, long long i, unsigned char *out)
{
	size_t k = (size_t)(i % (long long)o->len);

	out[0] = (unsigned char)o->len;
	memcpy(out + 1, o->str + k, o->len - k);
	memcpy(out + 1 + o->len - k, o->str, k);
}

/* The child's answer for one cycle, one write of at most PIPE_BUF bytes. */
struct answer {
	uint64_t woke_ns;
	unsigned char data[MAXLEN + 1];
};

static int
child_wait(const struct opts *o, int nrd)
{
	sigset_t set;
	siginfo_t si;
	char c;
	ssize_t n;

	if (!o->sig) {
		do
			n = read(nrd, &c, 1);
		while (n == -1 && errno == EINTR);
		return n == 1 ? 0 : -1;
	}
	sigemptyset(&set);
	sigaddset(&set, NOTIFY_SIG);
	for (;;) {
		if (sigwaitinfo(&set, &si) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (si.si_pid == parent_pid)	/* not a stray kill(1) */
			return 0;
	}
}

/* Step 7: the child prints what it read; a failed write is the run's
 * failure (exit 1), a reader gone away (EPIPE) is not. */
static bool
child_print(const unsigned char *data, size_t len)
{
	size_t n = data[0] < len ? data[0] : len;

	if (fwrite(data + 1, 1, n, stdout) == n && putchar('\n') != EOF && fflush(stdout) == 0)
		return true;
	if (errno == EPIPE)
		return true;
	warn("child: stdout");
	return false;
}

/* Steps 5 to 7 and the child's cleanup: wait for the word, map the same
 * file, read it, print the string (first cycle), answer the parent. */
static int
child_main(const struct opts *o, int fd, int nrd, int awr)
{
	size_t size = 1 + o->len;
	struct answer a;
	unsigned char *m = NULL;
	bool out_ok = true;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent_pid)
		return 1;
	for (long long i = 0; i < o->repeat; i++) {
		if (child_wait(o, nrd) == -1)
			return 1;
		a.woke_ns = ipc_now_ns();
		if (i == 0)
			step(o, "child", "%s: woke up", o->sig ? "sigwaitinfo(SIGUSR1)" :
			     "read(pipe, 1 byte) = 1");
		if (m == NULL && (m = ipc_map(fd, size, PROT_READ, o->cflags)) == NULL) {
			warn("child: %s: %s", o->path, ipc_failed_call);
			return 1;
		}
		if (i == 0)
			step(o, "child", "mmap(NULL, %zu, PROT_READ, %s, %d, 0) = %p", size,
			     mapname(o->cflags), fd, (void *)m);
		memset(a.data, 0, sizeof(a.data));
		memcpy(a.data, m, size);
		if (i == 0 && !o->json)
			out_ok = child_print(a.data, o->len);
		if (write(awr, &a, sizeof(a)) != (ssize_t)sizeof(a))
			return 1;
	}
	step(o, "child", "read length %u; munmap(%p, %zu) = %d; exiting", a.data[0],
	     (void *)m, size, ipc_unmap(m, size));
	close(fd);
	return out_ok ? 0 : 1;
}

static int
notify(const struct opts *o, pid_t child, int nwr)
{
	if (o->sig)
		return kill(child, NOTIFY_SIG);
	return write(nwr, "x", 1) == 1 ? 0 : -1;
}

/* Reads one answer; false on EOF, an error or an interruption. */
static bool
get_answer(int ard, struct answer *a)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(*a)) {
		n = read(ard, (char *)a + got, sizeof(*a) - got);
		if (n == -1 && errno == EINTR && !interrupted)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* Steps 3 and 4 for every cycle, the child's answers, the latencies. */
static void
parent_cycles(const struct opts *o, struct result *r, unsigned char *m, int nwr, int ard)
{
	unsigned char want[MAXLEN + 1];
	struct ipc_progress prog;
	struct answer a;
	uint64_t t0;

	ipc_progress_init(&prog);
	for (long long i = 0; i < o->repeat && !interrupted; i++) {
		expected(o, i, want);
		memcpy(m, want, 1 + o->len);
		if (i == 0)
			step(o, "parent", "stored length %zu and %zu bytes at %p", o->len, o->len,
			     (void *)m);
		/* said before it is done: the child may speak as soon as it is */
		if (i == 0)
			step(o, "parent", o->sig ? "kill(%d, SIGUSR1)" :
			     "write(pipe, \"x\", 1) to child %d", (int)r->child);
		t0 = ipc_now_ns();
		if (notify(o, r->child, nwr) == -1) {
			warn("%s", o->sig ? "kill" : "write");
			break;
		}
		if (!get_answer(ard, &a))
			break;
		r->lat[i] = (double)(a.woke_ns - t0);
		r->good += memcmp(a.data, want, 1 + o->len) == 0;
		if (i == 0)
			memcpy(r->got, a.data, sizeof(r->got));
		r->cycles = i + 1;
		if (o->repeat > 1)
			ipc_progress_show(&prog, "shmstr: %lld/%lld cycles", i + 1, o->repeat);
	}
	ipc_progress_done(&prog);
	expected(o, 0, want);	/* leave the string itself, not a rotation */
	memcpy(m, want, 1 + o->len);
}

/* Step 2: the fork, with the notification signal blocked first so that it
 * stays pending until the child waits for it, however early it comes. */
static pid_t
start_child(const struct opts *o, int fd, int np[2], int ap[2])
{
	sigset_t set, old;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, NOTIFY_SIG);
	if (sigprocmask(SIG_BLOCK, &set, &old) == -1)
		err(1, "sigprocmask");
	fflush(NULL);		/* the child must not write the parent's buffers */
	parent_pid = getpid();
	pid = ipc_fork(NULL);
	if (pid == -1)
		err(1, "%s", ipc_failed_call);
	if (pid == 0) {
		close(np[1]);
		close(ap[0]);
		_exit(child_main(o, fd, np[0], ap[1]));
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(np[0]);
	close(ap[1]);
	step(o, "parent", "fork() = %d%s", (int)pid, o->sig ? " (SIGUSR1 blocked before it)" : "");
	return pid;
}

/* The parent's side from the fork to the cleanup (steps 2 to 4 and 8). */
static void
run_parent(const struct opts *o, struct result *r, int fd)
{
	size_t size = 1 + o->len;
	int np[2], ap[2];
	unsigned char *m;

	if (pipe2(np, O_CLOEXEC) == -1 || pipe2(ap, O_CLOEXEC) == -1)
		err(1, "pipe");
	r->child = start_child(o, fd, np, ap);
	m = ipc_map(fd, size, PROT_READ | PROT_WRITE, o->pflags);
	if (m == NULL) {
		warn("%s: %s", o->path, ipc_failed_call);
		kill(r->child, SIGKILL);
	} else {
		step(o, "parent", "mmap(NULL, %zu, PROT_READ|PROT_WRITE, %s, %d, 0) = %p",
		     size, mapname(o->pflags), fd, (void *)m);
		parent_cycles(o, r, m, np[1], ap[0]);
	}
	if (interrupted || r->cycles < o->repeat)
		kill(r->child, SIGKILL);
	close(np[1]);
	close(ap[0]);
	if (ipc_wait(r->child, &r->status, 0) == -1)
		err(1, "waitpid");
	step(o, "parent", "waitpid(%d) = %s", (int)r->child,
	     ipc_status_str(r->status, (char[64]){ 0 }, 64));
	if (m && ipc_unmap(m, size) == -1)
		warn("%s: munmap", o->path);
	r->filelen = pread(fd, r->file, size, 0) == (ssize_t)size ? size : 0;
	step(o, "parent", "munmap(%p, %zu) = 0; close(%d)", (void *)m, size, fd);
	close(fd);
}

/* Why the child read what it read, chosen from what it did read. */
static const char *
finding(const struct opts *o, const struct result *r)
{
	unsigned char want[MAXLEN + 1];

	expected(o, 0, want);
	if (r->cycles == 0)
		return "The child never answered, so nothing was read.";
	if (memcmp(r->got, want, 1 + o->len) == 0)
		return o->cflags == MAP_PRIVATE ?
		       "A MAP_PRIVATE mapping copies a page only when its owner writes to it, "
		       "so the child's private mapping still showed the file's page, which "
		       "held what the parent stored." :
		       "The parent's MAP_SHARED stores went into the file's pages in the page "
		       "cache, and the child's mapping of the same file shows those very pages.";
	if (r->got[0] == 0 && o->pflags == MAP_PRIVATE)
		return "The parent's mapping is MAP_PRIVATE, so its stores went to its own "
		       "copy-on-write pages and never reached the file, which still holds "
		       "zeros: the child read a length of 0.";
	return "The child read something other than what the parent stored.";
}

/* Every call of the report model succeeds or ends the run: it fails only
 * when memory runs out. */
static void
must(int rc)
{
	if (rc == -1)
		err(1, "report");
}

static struct ipc_section *
new_section(struct ipc_report *rep, const char *key)
{
	struct ipc_section *s = ipc_report_section(rep, key, NULL);

	if (s == NULL)
		err(1, "report");
	return s;
}

/* KEY: the bytes as a string when they are valid UTF-8 without a NUL (else
 * null), and KEY_hex: the bytes in hex; JSON only. */
static void
put_bytes(struct ipc_section *s, const char *key, const unsigned char *p, size_t n)
{
	char buf[MAXLEN + 2], h[2 * MAXLEN + 4];	/* file_after: MAXLEN + 1 bytes */

	memcpy(buf, p, n);
	buf[n] = '\0';
	must(ipc_put_str(s, key, NULL, ipc_utf8_valid(p, n) && memchr(p, 0, n) == NULL ? buf : NULL));
	snprintf(buf, sizeof(buf), "%s_hex", key);
	must(ipc_put_str(s, buf, NULL, hex(p, n, h, sizeof(h))));
}

static const struct ipc_rcol role_cols[] = {
	{ "ROLE", "role", IPC_STR, NULL, 0, 0 },
	{ "PID", "pid", IPC_INT, NULL, 0, 0 },
	{ "MAPPING", "mapping", IPC_STR, NULL, 0, 0 },
	{ "SAW", "saw", IPC_STR, NULL, 0, 0 },
};

static void
role_row(struct ipc_section *s, const char *role, pid_t pid, int flags, const char *saw)
{
	struct libscols_line *ln = ipc_row(s);

	if (ln == NULL)
		err(1, "report");
	must(ipc_cell_str(s, ln, 0, "%s", role));
	must(ipc_cell_int(s, ln, 1, pid));
	must(ipc_cell_str(s, ln, 2, "%s", mapname(flags)));
	must(ipc_cell_str(s, ln, 3, "%s", saw));
}

/* Who stored and read what: a table of the two roles, the file afterwards
 * under it, and why the child read what it read. */
static void
report_roles(struct ipc_section *s, const struct opts *o, const struct result *r)
{
	char q[4 * MAXLEN + 8], h[2 * MAXLEN + 4], saw[4 * MAXLEN + 64];
	size_t n = r->got[0] < o->len ? r->got[0] : o->len;

	must(ipc_section_table(s, "roles", role_cols, 4));
	snprintf(saw, sizeof(saw), "stored %s (%zu bytes)",
		 quoted((const unsigned char *)o->str, o->len, q, sizeof(q)), o->len);
	role_row(s, "parent", r->parent, o->pflags, saw);
	if (r->cycles > 0)
		snprintf(saw, sizeof(saw), "read length %u: %s", r->got[0],
			 quoted(r->got + 1, n, q, sizeof(q)));
	else
		snprintf(saw, sizeof(saw), "nothing (%s)", ipc_status_str(r->status, h, sizeof(h)));
	role_row(s, "child", r->child, o->cflags, saw);
	must(ipc_put_footnote(s, "%s %s now holds: %s (%zu bytes); notified by %s",
			      o->shm ? "object" : "file", o->path, hex(r->file, r->filelen, h, sizeof(h)),
			      r->filelen, o->sig ? "signal (SIGUSR1)" : "pipe (one byte)"));
	must(ipc_section_finding(s, "%s", finding(o, r)));
	if (o->sig)
		must(ipc_section_finding(s, "SIGUSR1 was blocked before the fork, so a signal sent "
					 "before the child waited stayed pending instead of being lost."));
}

/* The handover: what was asked, what the child read, the file afterwards. */
static void
report_handover(struct ipc_report *rep, const struct opts *o, const struct result *r)
{
	struct ipc_section *s = new_section(rep, "handover");
	size_t n = r->got[0] < o->len ? r->got[0] : o->len;

	must(ipc_put_str(s, o->shm ? "shm" : "file", NULL, o->path));
	must(ipc_put_int(s, "size", NULL, (long long)(1 + o->len)));
	must(ipc_put_int(s, "length", NULL, (long long)o->len));
	put_bytes(s, "string", (const unsigned char *)o->str, o->len);
	must(ipc_put_str(s, "notify", NULL, o->sig ? "signal" : "pipe"));
	must(ipc_put_str(s, "child_status", NULL, ipc_status_str(r->status, (char[64]){ 0 }, 64)));
	if (r->cycles > 0) {
		must(ipc_put_int(s, "read_length", NULL, r->got[0]));
		put_bytes(s, "read", r->got + 1, n);
	} else {
		must(ipc_put_str(s, "read_length", NULL, NULL));
		must(ipc_put_str(s, "read", NULL, NULL));
		must(ipc_put_str(s, "read_hex", NULL, NULL));
	}
	put_bytes(s, "file_after", r->file, r->filelen);
	must(ipc_put_bool(s, "match", NULL, r->cycles > 0 && r->good == r->cycles));
	report_roles(s, o, r);
}

static const struct ipc_rcol latency_cols[] = {
	{ "NOTIFY", "notify", IPC_STR, NULL, 0, 0 },
	{ "CYCLES", "cycles", IPC_INT, NULL, 0, 0 },
	{ "CORRECT", "correct", IPC_INT, NULL, 0, 0 },
	{ "MEDIAN", "median_us", IPC_REAL, "%.1f us", 0, 0 },
	{ "P99", "p99_us", IPC_REAL, "%.1f us", 0, 0 },
	{ "MIN", "min_us", IPC_REAL, "%.1f us", 0, 0 },
	{ "MAX", "max_us", IPC_REAL, "%.1f us", 0, 0 },
};

/* The cycles: how many read right, and the latency from the parent's
 * notification to the child waking up (median, p99, min, max). */
static void
report_latency(struct ipc_report *rep, const struct opts *o, const struct result *r)
{
	struct ipc_section *s = new_section(rep, "latency");
	struct libscols_line *ln;
	double q[4] = { 0 };

	if (r->cycles > 0) {	/* ipc_quantile sorts: the extremes are first and last */
		q[0] = ipc_quantile(r->lat, (size_t)r->cycles, 0.5);
		q[1] = ipc_quantile(r->lat, (size_t)r->cycles, 0.99);
		q[2] = r->lat[0];
		q[3] = r->lat[r->cycles - 1];
	}
	must(ipc_put_note(s, "%s", ""));	/* a blank line above the table */
	must(ipc_section_table(s, "summary", latency_cols, 7));
	if ((ln = ipc_row(s)) == NULL)
		err(1, "report");
	must(ipc_cell_str(s, ln, 0, "%s", o->sig ? "signal" : "pipe"));
	must(ipc_cell_int(s, ln, 1, r->cycles));
	must(ipc_cell_int(s, ln, 2, r->good));
	for (size_t i = 0; i < 4; i++)
		must(ipc_cell_num(s, ln, 3 + i, q[i] / 1e3));
	must(ipc_put_footnote(s, "  (latency: from the parent's notification to the child waking up)"));
}

/* Ends a report: a failed write of the JSON document is exit 1 with its
 * reason, a reader gone away (EPIPE) a quiet 0.  A person's report goes to
 * stderr, whose failure the check at exit reports (exit 1). */
static void
report_end(struct ipc_report *rep, bool json)
{
	int rc = ipc_report_end(rep), e = errno;

	ipc_report_free(rep);
	if (rc == 0 || !json)
		return;
	clearerr(stdout);	/* said once, here, not again at exit */
	if (e == EPIPE)
		exit(0);
	errno = e;
	ipc_fail(1, "stdout", "write error");
}

static struct ipc_report *
new_report(const struct opts *o)
{
	struct ipc_report *rep = ipc_report_new(o->json ? stdout : stderr, o->json);

	if (rep == NULL)
		err(1, "report");
	return rep;
}

/* The report: for a person on stderr (none with --quiet; the latency only
 * with --repeat), or the JSON document on stdout. */
static void
report(const struct opts *o, const struct result *r)
{
	struct ipc_report *rep;
	struct ipc_section *s;

	if (o->quiet && !o->json)
		return;
	rep = new_report(o);
	report_handover(rep, o, r);
	if (o->repeat > 1 || o->json)
		report_latency(rep, o, r);
	s = new_section(rep, "run");
	must(ipc_put_int(s, "repeat", NULL, o->repeat));
	must(ipc_put_bool(s, "interrupted", NULL, interrupted != 0));
	if (interrupted)
		must(ipc_put_note(s, "interrupted after %lld of %lld cycles", r->cycles, o->repeat));
	report_end(rep, o->json);
}

static void
print_read(const struct opts *o, const unsigned char *b)
{
	if (o->json) {
		struct ipc_report *rep = new_report(o);
		struct ipc_section *s = new_section(rep, "read");

		must(ipc_put_str(s, o->shm ? "shm" : "file", NULL, o->path));
		must(ipc_put_int(s, "length", NULL, b[0]));
		put_bytes(s, "string", b + 1, b[0]);
		report_end(rep, o->json);
		return;
	}
	if (fwrite(b + 1, 1, b[0], stdout) != b[0] || putchar('\n') == EOF)
		ipc_fail(1, "stdout", "write");
	ipc_flush_check(stdout, "stdout");
}

/* --read: decode an existing file or object and print its string.  It is
 * read with pread, not mapped: a file that shrinks meanwhile cannot SIGBUS. */
static int
read_object(const struct opts *o)
{
	unsigned char b[MAXLEN + 2];
	struct stat st;
	ssize_t n;
	int fd;

	fd = o->shm ? ipc_shm_open(o->path, false, &st) : ipc_file_open(o->path, false, true, &st);
	if (fd == -1 && errno == ELOOP)
		ipc_failx(1, o->path, "is a symbolic link, which shmstr does not follow");
	if (fd == -1)
		ipc_fail(1, o->path, NULL);
	if ((n = pread(fd, b, sizeof(b), 0)) == -1)
		ipc_fail(1, o->path, "pread");
	close(fd);
	switch (shmstr_decode(b, (size_t)n)) {
	case NOT_SHMSTR:
		ipc_failx(1, o->path, "not a shmstr file: %lld bytes, not 1 + its first byte",
			  (long long)st.st_size);
	case ZEROS:
		ipc_failx(1, o->path, "holds only zeros, as a run with a private parent "
			  "mapping leaves it: no string reached the file");
	case SHMSTR:
		break;
	}
	print_read(o, b);
	return 0;
}

int
shmstr_main(int argc, char **argv)
{
	struct result r = { .parent = getpid() };
	struct opts o;
	int fd;

	parse_args(argc, argv, &o);
	if (o.read)
		return read_object(&o);
	if (!o.json && !ipc_utf8_valid((const unsigned char *)o.str, o.len))
		warnx("note: the string is not valid UTF-8; it is handed over byte for byte");
	if ((r.lat = calloc((size_t)o.repeat, sizeof(*r.lat))) == NULL)
		err(1, "calloc");
	if (ipc_sig_handle(SIGINT, on_interrupt, false) == -1 ||
	    ipc_sig_handle(SIGTERM, on_interrupt, false) == -1 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)	/* a reader gone: EPIPE, a quiet 0 */
		err(1, "sigaction");
	fd = make_object(&o, &r);
	run_parent(&o, &r, fd);
	made.keep = true;	/* from here the run decides, as below */
	report(&o, &r);
	if ((interrupted && r.created) || o.unlink)
		remove_object(&o);
	free(r.lat);
	if (interrupted)
		return 128 + interrupted;
	return WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && r.cycles == o.repeat ? 0 : 1;
}
