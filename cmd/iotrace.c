// COMMAND(iotrace, "count the bytes each descriptor of a program moves, as strace would")
/*
 * ipclab iotrace [options] -- CMD [ARGS]
 *
 * The preload exercise made into a tool: runs CMD with libipclab_io.so (added
 * to LD_PRELOAD, after what is there), collects the shim's per-descriptor
 * lines over a pipe the program cannot see, prints them as they come, and
 * at the end a table per process and path: opens, reads, bytes read, writes,
 * bytes written, and the totals.  The same truth as `strace -f -y`, at a few
 * nanoseconds per call instead of microseconds.
 *
 * Options:
 *  -o, --output FILE   the report goes to FILE instead of stderr
 *  -s, --summary       the table only, not the per-close lines
 *  -J, --json          the report as one JSON document (with -o)
 *      --wait-all      wait for every descendant, as strace -f does
 *
 * iotrace ends when CMD ends, as time(1) and a shell do: it is the
 * subreaper of CMD's descendants, so when CMD has been reaped it can name
 * those still running (a daemon, a background child), whose later I/O is
 * not counted.  A report line of theirs written after iotrace has gone
 * meets a pipe without a reader: the shim blocks SIGPIPE around its write
 * and drops the line, so they carry on as if untraced.
 * The pipe: its write end is placed at a high descriptor in the child, not
 * close-on-exec, and named by IPCLAB_IOTRACE_FD; the shim hides it from
 * close, close_range, closefrom and dup2.  Every line is one write of less
 * than PIPE_BUF bytes, so processes and threads never interleave.
 *
 * Exit status: CMD's; 125 when iotrace itself fails or CMD cannot be
 * preloaded (statically linked, set-user-ID, file capabilities); 126 when
 * CMD cannot be executed; 127 when it is not found.
 */
#include <elf.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/signalfd.h>

#include "ipclab/cli.h"
#include "ipclab/elf.h"
#include "ipclab/map.h"
#include "ipclab/num.h"
#include "ipclab/out.h"
#include "ipclab/path.h"
#include "ipclab/proc.h"
#include "ipclab/procfs.h"
#include "ipclab/sig.h"

#define SHIM "libipclab_io.so"
#define FD_ENV "IPCLAB_IOTRACE_FD"

static const struct ipc_help help = {
	.name = "iotrace",
	.synopsis = "[options] -- CMD [ARGS]",
	.summary = "Run CMD and count, per process and path, the calls and bytes that "
		   "went through each descriptor.",
	.options =
	" -o, --output FILE   write the report to FILE instead of stderr\n"
	" -s, --summary       print only the summary table, not a line per close\n"
	" -J, --json          print the report as one JSON document (needs -o)\n"
	"     --wait-all      wait for every descendant, not only for CMD\n",
};

struct opts {
	const char *output;
	bool summary, json, wait_all;
};

/* One row: what one program (pid and executable) did through one path. */
struct row {
	pid_t pid;
	char *exe, *path;
	char *renamed;		/* the name at close, when it was renamed */
	unsigned long opens, reads, rbytes, writes, wbytes;
	size_t seq;
};

struct proc {
	pid_t pid;
	char *exe;
	bool alive;	/* started, and not yet said it ended */
	bool running;	/* and still running when iotrace ended */
	bool io;	/* its end said rchar and wchar: */
	unsigned long rchar, wchar;	/* the kernel's count for the pid so far */
	pid_t ppid;
};

/* What the kernel counted for a process and no row holds. */
struct unattr {
	pid_t pid;
	const char *exe;
	long long r, w;
};

struct pstat {
	pid_t pid, ppid;
	char state;
	char comm[64];		/* as struct ipc_stat's */
};

struct report {
	struct row *rows;
	size_t nrows, cap;
	size_t *slots;		/* a hash of rows by pid, program and path: */
	size_t nslots;		/* index + 1, 0 for free; twice the rows */
	struct proc *procs;
	size_t nprocs, pcap;
	struct pstat *running;	/* descendants still running at the end */
	size_t nrunning, rcap;
	char *findings[8];
	const char *fsection[8];	/* the JSON key each finding is about */
	size_t nfindings;
	struct unattr *un;	/* per pid, the non-zero ones */
	size_t nun;
	size_t nlines;
	int werr;		/* the first failed write of the report */
	long renamed_fd;	/* an at=renamed line waits for fd's close line */
	pid_t renamed_pid;
	char *renamed;
	char buf[8192];		/* a partial line between reads */
	size_t len;
	FILE *out;
	const struct opts *o;
};

/* ---- can CMD be preloaded? ---------------------------------------------- */

/* FILE as execvp would find it, in buf; false when it is nowhere. */
static bool
find_program(const char *file, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	const char *p, *end;

	if (strchr(file, '/'))
		return snprintf(buf, len, "%s", file) < (int)len;
	for (p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; *p; p = end) {
		end = strchrnul(p, ':');
		if (snprintf(buf, len, "%.*s%s%s", (int)(end - p), p,
			     end == p ? "" : "/", file) < (int)len &&
		    access(buf, X_OK) == 0)
			return true;
		if (*end == ':')
			end++;
	}
	return false;
}

/* True when the ELF file on FD has a program interpreter (PT_INTERP), or
 * cannot be read as one: then the loader and exec(2) are left to judge. */
static bool
elf_dynamic(int fd)
{
	struct ipc_elf *e = malloc(sizeof(*e));
	bool dynamic = e == NULL || ipc_elf_read_fd(fd, e) == -1 || e->interp[0] != '\0';

	free(e);
	return dynamic;
}

static void
refuse(const char *path, const char *why)
{
	errx(IPC_EXIT_OWN, "%s: %s: the dynamic linker would not load %s into it, "
	     "so there would be nothing to count (strace -f can trace it)", path, why, SHIM);
}

/* Exits 125 when PATH (or its #! interpreter) cannot take a preload. */
static void
check_preloadable(const char *path, int depth)
{
	unsigned char hdr[256];
	struct stat st;
	ssize_t n;
	int fd;

	/* Never open(2) what is not a regular file: a FIFO would block. */
	if (depth > 4 || (fd = ipc_open_regular(path, O_RDONLY, NULL)) == -1)
		return;		/* exec will say what is wrong */
	n = read(fd, hdr, sizeof(hdr) - 1);
	if (n < 0 || fstat(fd, &st) == -1)
		n = 0;
	if (n >= 4 && memcmp(hdr, ELFMAG, SELFMAG) == 0) {
		/* the loader would print "wrong ELF class" into the program's
		 * stderr and run it uncounted */
		if (n > EI_CLASS && hdr[EI_CLASS] == ELFCLASS32)
			refuse(path, "a 32-bit program (ELFCLASS32), and the shim is 64-bit");
		if (!elf_dynamic(fd))
			refuse(path, "statically linked (no PT_INTERP)");
		if ((st.st_mode & S_ISUID) && st.st_uid != geteuid())
			refuse(path, "set-user-ID");
		if ((st.st_mode & S_ISGID) && st.st_gid != getegid())
			refuse(path, "set-group-ID");
		if (fgetxattr(fd, "security.capability", NULL, 0) > 0)
			refuse(path, "has file capabilities");
	} else if (n > 2 && hdr[0] == '#' && hdr[1] == '!') {
		char *p = (char *)hdr + 2, *e;

		hdr[n] = '\0';
		p += strspn(p, " \t");
		e = p + strcspn(p, " \t\n");
		*e = '\0';
		close(fd);
		if (*p)
			check_preloadable(p, depth + 1);
		return;
	}
	close(fd);
}

/* ---- the child's environment -------------------------------------------- */

/* The shim's descriptor in the child: high, out of the way, below the
 * descriptor limit (iotrace's own failure, 125, when there is no room). */
static int
pipe_target(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(IPC_EXIT_OWN, "getrlimit RLIMIT_NOFILE");
	if (rl.rlim_cur > 1100)
		return 1001;
	if (rl.rlim_cur <= 10)
		errx(IPC_EXIT_OWN, "the descriptor limit (ulimit -n %llu) leaves no room for "
		     "the report pipe, which needs descriptor 10 in the program: raise it to "
		     "16 or more", (unsigned long long)rl.rlim_cur);
	return rl.rlim_cur > 16 ? (int)(rl.rlim_cur * 3 / 4) + 1 : 10;
}

/* environ with LD_PRELOAD += shim and IPCLAB_IOTRACE_FD=target. */
static char **
child_env(const char *shim, int target)
{
	extern char **environ;
	size_t n = 0, k = 0;
	const char *old = getenv("LD_PRELOAD");
	char **env;

	while (environ[n])
		n++;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
		    strncmp(environ[i], FD_ENV "=", sizeof(FD_ENV)) != 0)
			env[k++] = environ[i];
	if (asprintf(&env[k++], "LD_PRELOAD=%s%s%s", old && *old ? old : "",
		     old && *old ? ":" : "", shim) < 0 ||
	    asprintf(&env[k++], FD_ENV "=%d", target) < 0)
		return NULL;
	return env;
}

struct setup {
	int wfd, target;
};

static bool chld_ignored;	/* SIGCHLD was SIG_IGN when iotrace started */

/* In the child: the pipe's write end at target, inherited across exec. */
static int
child_setup(void *arg)
{
	const struct setup *s = arg;

	if (chld_ignored && signal(SIGCHLD, SIG_IGN) == SIG_ERR)
		return -1;
	if (s->wfd == s->target)
		return fcntl(s->wfd, F_SETFD, 0);
	return dup2(s->wfd, s->target) == -1 ? -1 : 0;
}

/* ---- the shim's lines -------------------------------------------------- */

/* One line of the shim's, parsed.  Any program could write to the pipe, so
 * nothing here trusts it: a line that is not exactly the shim's is skipped. */
struct shim_line {
	long pid, ppid, fd;		/* -1 when absent */
	char at[16];
	unsigned long opens, reads, rbytes, writes, wbytes, rchar, wchar;
	bool counts, io;		/* the five counters; rchar and wchar */
	char *path;
};

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		err(IPC_EXIT_OWN, "strdup");
	return d;
}

/* The shim escapes '\n' and '\\' in paths. */
static void
unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (*s == '\\' && (s[1] == 'n' || s[1] == '\\')) {
			*d++ = s[1] == 'n' ? '\n' : '\\';
			s++;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* The decimal number of N bytes at S: digits only, no overflow. */
static bool
decimal(const char *s, size_t n, unsigned long *v)
{
	*v = 0;
	if (n == 0 || n > 18)	/* below 10^18: no sum of a few overflows */
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned long)(s[i] - '0');
	}
	return true;
}

/* KEY=VALUE of N bytes at S into l; false when it is malformed. */
static bool
field(struct shim_line *l, const char *s, size_t n)
{
	static const char *const keys[] = { "opens", "reads", "read_bytes", "writes",
		"write_bytes", "rchar", "wchar", "ppid", "fd" };
	unsigned long *const vals[] = { &l->opens, &l->reads, &l->rbytes, &l->writes,
		&l->wbytes, &l->rchar, &l->wchar };
	const char *eq = memchr(s, '=', n);
	unsigned long v;
	size_t k;

	if (eq == NULL)
		return false;
	k = (size_t)(eq - s);
	if (k == 2 && memcmp(s, "at", 2) == 0) {
		if (n - 3 == 0 || n - 3 >= sizeof(l->at) || strspn(eq + 1, "abcdefghijklmnopqrstuvwxyz-") < n - 3)
			return false;
		memcpy(l->at, eq + 1, n - 3);
		l->at[n - 3] = '\0';
		return true;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i]) != k || memcmp(s, keys[i], k) != 0)
			continue;
		if (!decimal(eq + 1, n - k - 1, &v))
			return false;
		if (i < 7)
			*vals[i] = v;
		else if (v > INT_MAX)
			return false;
		else
			*(i == 7 ? &l->ppid : &l->fd) = (long)v;
		l->counts |= i < 5;
		l->io |= i == 5 || i == 6;
		return true;
	}
	return true;	/* a key of a newer shim: not ours to judge */
}

/* Parses LINE (without its '\n'; its path is unescaped in place).  Returns
 * false when it is not a line of the shim's. */
static bool
parse_line(char *line, struct shim_line *l)
{
	static const char head[] = "iotrace: pid=";
	unsigned long pid;
	char *s, *sp;

	memset(l, 0, sizeof(*l));
	l->ppid = l->fd = -1;
	if (strncmp(line, head, sizeof(head) - 1) != 0)
		return false;
	s = line + sizeof(head) - 1;
	sp = strchr(s, ' ');
	if (sp == NULL || !decimal(s, (size_t)(sp - s), &pid) || pid == 0 || pid > INT_MAX)
		return false;
	l->pid = (long)pid;
	for (s = sp + 1; strncmp(s, "path=", 5) != 0; s = sp + 1) {
		if ((sp = strchr(s, ' ')) == NULL || !field(l, s, (size_t)(sp - s)))
			return false;
	}
	l->path = s + 5;
	unescape(l->path);
	return l->at[0] != '\0';
}

/* ---- records ------------------------------------------------------------ */

static struct proc *
proc_of(struct report *r, pid_t pid)
{
	for (size_t i = r->nprocs; i-- > 0;)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	return NULL;
}

static void
add_proc(struct report *r, pid_t pid, pid_t ppid, const char *exe)
{
	struct proc *p;

	if (r->nprocs == r->pcap) {
		r->pcap = r->pcap ? r->pcap * 2 : 16;
		r->procs = reallocarray(r->procs, r->pcap, sizeof(*r->procs));
		if (r->procs == NULL)
			err(IPC_EXIT_OWN, "realloc");
	}
	p = &r->procs[r->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->alive = true;
	p->exe = xstrdup(exe);
}

/* Processes that started and never said they ended, and are not running:
 * killed by a signal. */
static size_t
unended(const struct report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nprocs; i++)
		n += r->procs[i].alive && !r->procs[i].running;
	return n;
}

static size_t
row_hash(pid_t pid, const char *exe, const char *path)
{
	size_t h = 1469598103934665603ULL ^ (size_t)pid;	/* FNV-1a */

	for (const char *s = exe; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	for (const char *s = path; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot of (pid, exe, path): its row's, or the free one it would take. */
static size_t *
row_slot(struct report *r, pid_t pid, const char *exe, const char *path)
{
	size_t i = row_hash(pid, exe, path) & (r->nslots - 1);

	for (;; i = (i + 1) & (r->nslots - 1)) {
		const struct row *w;

		if (r->slots[i] == 0)
			return &r->slots[i];
		w = &r->rows[r->slots[i] - 1];
		if (w->pid == pid && strcmp(w->path, path) == 0 && strcmp(w->exe, exe) == 0)
			return &r->slots[i];
	}
}

/* Doubles the hash when it is half full. */
static void
grow_slots(struct report *r)
{
	size_t n = r->nslots ? r->nslots * 2 : 256;

	free(r->slots);
	if ((r->slots = calloc(n, sizeof(*r->slots))) == NULL)
		err(IPC_EXIT_OWN, "calloc");
	r->nslots = n;
	for (size_t k = 0; k < r->nrows; k++)
		*row_slot(r, r->rows[k].pid, r->rows[k].exe, r->rows[k].path) = k + 1;
}

static struct row *
find_row(struct report *r, pid_t pid, const char *exe, const char *path)
{
	size_t *slot;
	struct row *w;

	if (2 * (r->nrows + 1) > r->nslots)
		grow_slots(r);
	slot = row_slot(r, pid, exe, path);
	if (*slot)
		return &r->rows[*slot - 1];
	if (r->nrows == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->rows = reallocarray(r->rows, r->cap, sizeof(*r->rows));
		if (r->rows == NULL)
			err(IPC_EXIT_OWN, "realloc");
	}
	w = &r->rows[r->nrows];
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->exe = xstrdup(exe);
	w->path = xstrdup(path);
	w->seq = r->nrows++;
	*slot = r->nrows;
	return w;
}

/* One line from the pipe, with the '\n' removed. */
static void
record(struct report *r, char *line)
{
	struct shim_line l;
	struct proc *p;
	struct row *w;
	bool mark;

	if (!parse_line(line, &l))
		return;
	r->nlines++;
	mark = strcmp(l.at, "start") == 0 || strcmp(l.at, "end") == 0;
	if (!r->o->summary && !r->o->json && !mark && (l.counts || l.fd >= 0))
		if (!r->werr && fprintf(r->out, "%s\n", line) < 0)	/* as it came */
			r->werr = errno;
	if (strcmp(l.at, "start") == 0 && l.ppid >= 0) {
		add_proc(r, (pid_t)l.pid, (pid_t)l.ppid, l.path);
	} else if (strcmp(l.at, "end") == 0 && l.ppid >= 0) {
		if ((p = proc_of(r, (pid_t)l.pid)) != NULL) {
			p->alive = false;
			p->io = l.io;
			p->rchar = l.rchar;
			p->wchar = l.wchar;
		}
	} else if (strcmp(l.at, "renamed") == 0 && l.fd >= 0) {
		free(r->renamed);
		r->renamed = xstrdup(l.path);
		r->renamed_pid = (pid_t)l.pid;
		r->renamed_fd = l.fd;
	} else if (l.counts && l.fd >= 0) {
		p = proc_of(r, (pid_t)l.pid);
		w = find_row(r, (pid_t)l.pid, p ? p->exe : "?", l.path);
		if (r->renamed && r->renamed_pid == l.pid && r->renamed_fd == l.fd) {
			free(w->renamed);
			w->renamed = r->renamed;
			r->renamed = NULL;
		}
		w->opens += l.opens;
		w->reads += l.reads;
		w->rbytes += l.rbytes;
		w->writes += l.writes;
		w->wbytes += l.wbytes;
	}
}

/* Takes the N bytes at BUF that arrived on the pipe: whole lines are
 * recorded, a partial one waits in r->buf for the rest. */
static void
feed(struct report *r, const char *buf, size_t n)
{
	char *start, *nl;
	size_t room;

	while (n > 0) {
		room = sizeof(r->buf) - 1 - r->len;
		if (room == 0) {	/* a line longer than any the shim writes */
			r->len = 0;
			continue;
		}
		if (room > n)
			room = n;
		memcpy(r->buf + r->len, buf, room);
		buf += room;
		n -= room;
		r->len += room;
		r->buf[r->len] = '\0';
		for (start = r->buf; (nl = memchr(start, '\n', r->len - (size_t)(start - r->buf)));
		     start = nl + 1) {
			*nl = '\0';
			record(r, start);
		}
		r->len -= (size_t)(start - r->buf);
		memmove(r->buf, start, r->len);
	}
}

/* Reads what the pipe holds: 1 when something came, 0 at end of file, -1
 * when nothing is there now. */
static int
drain(struct report *r, int fd, size_t *got)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return -1;
	if (n == -1)
		err(IPC_EXIT_OWN, "report pipe: read");
	if (n == 0)
		return 0;
	feed(r, buf, (size_t)n);
	if (got)
		*got += (size_t)n;
	return 1;
}

/* ---- CMD and its descendants -------------------------------------------- */

#define GRACE_NS 900000000ULL	/* after a signal, CMD's time to end */

struct run {
	pid_t cmd;
	int rfd, sfd;
	int status;		/* CMD's, once reaped */
	bool reaped;
	bool children;		/* some child is left (orphans come to us) */
	int stop;		/* the first signal that asked iotrace to end */
	bool interrupted;	/* SIGINT */
	uint64_t deadline;
};

/* Reaps what has ended: CMD, and the orphans that came to us as their
 * subreaper. */
static void
reap(struct run *u)
{
	pid_t p;
	int st;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == u->cmd) {
			u->status = st;
			u->reaped = true;
		}
	u->children = !(p == -1 && errno == ECHILD);
}

/* A signal for iotrace: passed on to CMD unless the terminal sent it to the
 * whole process group (CMD has it then); iotrace ends once CMD has, or
 * after GRACE_NS; a second signal ends it at once. */
static void
signals(struct run *u)
{
	struct signalfd_siginfo si;
	int sig;

	while ((sig = ipc_sigfd_read(u->sfd, &si)) > 0) {
		if (sig == SIGCHLD)
			continue;
		if (!u->reaped && si.ssi_code != SI_KERNEL)
			kill(u->cmd, sig);
		u->interrupted |= sig == SIGINT;
		u->deadline = u->stop ? 0 : ipc_now_ns() + GRACE_NS;
		if (!u->stop)
			u->stop = sig;
	}
}

static int
wait_ms(const struct run *u)
{
	uint64_t now = ipc_now_ns();

	if (!u->stop)
		return -1;
	return now >= u->deadline ? 0 : (int)((u->deadline - now) / 1000000) + 1;
}

/* Reads the pipe until CMD has ended (every descendant with wait_all), or a
 * signal ended the wait; then what was already in the pipe. */
static void
collect(struct report *r, struct run *u, bool wait_all)
{
	struct pollfd p[2] = { { .fd = u->rfd, .events = POLLIN },
			       { .fd = u->sfd, .events = POLLIN } };
	int queued = 0;
	size_t got = 0;

	for (;;) {
		reap(u);
		if (u->reaped && (!wait_all || u->stop || !u->children))
			break;
		if (u->stop && ipc_now_ns() >= u->deadline)
			break;
		int n = poll(p, 2, wait_ms(u));

		if (n == -1 && errno != EINTR)
			err(IPC_EXIT_OWN, "poll");
		if (n > 0 && p[1].revents)
			signals(u);
		if (n > 0 && p[0].revents && drain(r, u->rfd, NULL) == 0)
			p[0].fd = -1;	/* every writer is gone */
	}
	/* A Ctrl+C that killed CMD is pending here too: the report says so. */
	signals(u);
	/* What is in the pipe now, not what a daemon writes later. */
	if (p[0].fd != -1 && ioctl(u->rfd, FIONREAD, &queued) == -1)
		err(IPC_EXIT_OWN, "report pipe: FIONREAD");
	while (got < (size_t)queued && drain(r, u->rfd, &got) == 1)
		;
}

/* The descendants still running, into r->running (CMD too, after a signal). */
static void
find_running(struct report *r)
{
	struct ipc_procs ps;
	pid_t self = getpid();
	struct proc *p;

	/* as their subreaper, iotrace is an ancestor of every descendant
	 * still running, orphans included */
	if (ipc_procs_scan(&ps) == -1)
		err(IPC_EXIT_OWN, "/proc: %s", ipc_failed_call);
	for (size_t i = 0; i < ps.n; i++) {
		const struct ipc_stat *s = &ps.v[i];
		struct pstat *q;

		if (s->state == 'Z' || !ipc_procs_descends(&ps, s->pid, self))
			continue;
		if (r->nrunning == r->rcap) {
			r->rcap = r->rcap ? r->rcap * 2 : 16;
			r->running = reallocarray(r->running, r->rcap, sizeof(*r->running));
			if (r->running == NULL)
				err(IPC_EXIT_OWN, "realloc");
		}
		q = &r->running[r->nrunning++];
		*q = (struct pstat){ .pid = s->pid, .ppid = s->ppid, .state = s->state };
		snprintf(q->comm, sizeof(q->comm), "%s", s->comm);
		if ((p = proc_of(r, s->pid)) != NULL && p->alive) {
			const char *slash = strrchr(p->exe, '/');

			p->running = true;
			snprintf(q->comm, sizeof(q->comm), "%s", slash ? slash + 1 : p->exe);
		}
	}
	ipc_procs_free(&ps);
}

/* ---- the summary -------------------------------------------------------- */

/* The findings, one sentence each, for both renderings. */
static void
finding(struct report *r, const char *section, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
finding(struct report *r, const char *section, const char *fmt, ...)
{
	va_list ap;

	if (r->nfindings == sizeof(r->findings) / sizeof(r->findings[0]))
		return;
	r->fsection[r->nfindings] = section;
	va_start(ap, fmt);
	if (vasprintf(&r->findings[r->nfindings], fmt, ap) == -1)
		err(IPC_EXIT_OWN, "vasprintf");
	va_end(ap);
	r->nfindings++;
}

static const struct ipc_col cols[] = {
	{ "pid", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "program", 0, 0, SCOLS_JSON_STRING },
	{ "path", 0, SCOLS_FL_WRAP, SCOLS_JSON_STRING },	/* wrapped on a narrow terminal */
	{ "opens", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "reads", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "read_bytes", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "writes", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "write_bytes", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "renamed", 0, 0, SCOLS_JSON_STRING },	/* JSON only */
};
#define NCOLS_PERSON 8

static int
by_pid(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *
base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void
fill(struct libscols_line *ln, const char *pid, const char *prog, const char *path,
     const struct row *w)
{
	if (ipc_cell(ln, 0, "%s", pid) || ipc_cell(ln, 1, "%s", prog) ||
	    ipc_cell(ln, 2, "%s", path) || ipc_cell(ln, 3, "%lu", w->opens) ||
	    ipc_cell(ln, 4, "%lu", w->reads) || ipc_cell(ln, 5, "%lu", w->rbytes) ||
	    ipc_cell(ln, 6, "%lu", w->writes) || ipc_cell(ln, 7, "%lu", w->wbytes))
		err(IPC_EXIT_OWN, "table");
}

/* Rows by pid, in the order they came within one: the hash is dropped (it
 * holds indexes), find_row() makes it again. */
static void
sort_rows(struct report *r)
{
	if (r->nrows > 1)
		qsort(r->rows, r->nrows, sizeof(*r->rows), by_pid);
	free(r->slots);
	r->slots = NULL;
	r->nslots = 0;
}

/* The first row of PID in the sorted rows (r->nrows when it has none). */
static size_t
first_row(const struct report *r, pid_t pid)
{
	size_t lo = 0, hi = r->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->rows[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A - B, as a signed number that cannot overflow (the figures come from
 * outside: any program can write to the pipe). */
static long long
diff(unsigned long long a, unsigned long long b)
{
	unsigned long long d = a >= b ? a - b : b - a;

	if (d > LLONG_MAX)
		d = LLONG_MAX;
	return a >= b ? (long long)d : -(long long)d;
}

/* Per pid, the kernel's rchar and wchar at its last end, less every row of
 * the pid: into r->un, the non-zero ones, by pid. */
static void
unattributed(struct report *r)
{
	sort_rows(r);
	for (size_t i = r->nprocs; i-- > 0;) {
		const struct proc *p = &r->procs[i];
		struct unattr u = { .pid = p->pid, .exe = base(p->exe) };
		unsigned long long rsum = 0, wsum = 0;
		bool seen = false;

		for (size_t k = i + 1; k < r->nprocs && !seen; k++)
			seen = r->procs[k].pid == p->pid && r->procs[k].io;
		if (!p->io || seen)
			continue;	/* a later end of the pid has the figures */
		for (size_t k = first_row(r, p->pid); k < r->nrows && r->rows[k].pid == p->pid; k++) {
			rsum += r->rows[k].rbytes;
			wsum += r->rows[k].wbytes;
		}
		u.r = diff(p->rchar, rsum);
		u.w = diff(p->wchar, wsum);
		if (u.r == 0 && u.w == 0)
			continue;
		if ((r->un = reallocarray(r->un, r->nun + 1, sizeof(*r->un))) == NULL)
			err(IPC_EXIT_OWN, "realloc");
		r->un[r->nun++] = u;
	}
	for (size_t i = 1; i < r->nun; i++)	/* by pid: insertion, few of them */
		for (size_t k = i; k > 0 && r->un[k - 1].pid > r->un[k].pid; k--) {
			struct unattr t = r->un[k];

			r->un[k] = r->un[k - 1];
			r->un[k - 1] = t;
		}
}

static void
unattr_row(struct libscols_table *t, const struct unattr *u)
{
	struct libscols_line *ln = ipc_table_row(t);

	if (ln == NULL || ipc_cell(ln, 0, "%d", (int)u->pid) || ipc_cell(ln, 1, "%s", u->exe) ||
	    ipc_cell(ln, 2, "unattributed") || ipc_cell(ln, 3, "-") || ipc_cell(ln, 4, "-") ||
	    ipc_cell(ln, 5, "%lld", u->r) || ipc_cell(ln, 6, "-") ||
	    ipc_cell(ln, 7, "%lld", u->w))
		err(IPC_EXIT_OWN, "table");
}

/* One row of the table: for a person a renamed file shows both names; in
 * JSON path is the name at open and renamed the name at close. */
static void
file_row(struct libscols_table *t, const struct row *w, bool json)
{
	struct libscols_line *ln = ipc_table_row(t);
	char pid[16], *path = NULL;

	if (ln == NULL)
		err(IPC_EXIT_OWN, "table");
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	if (!json && w->renamed && asprintf(&path, "%s (renamed: %s)", w->path, w->renamed) < 0)
		err(IPC_EXIT_OWN, "asprintf");
	fill(ln, pid, base(w->exe), path ? path : w->path, w);
	if (json && w->renamed && ipc_cell(ln, 8, "%s", w->renamed))
		err(IPC_EXIT_OWN, "table");
	free(path);
}

/* The table of rows (for a person, each pid's unattributed row after its
 * files), and the sum of the rows in *total. */
static struct libscols_table *
make_table(struct report *r, struct row *total, bool json)
{
	struct libscols_table *t = ipc_table_new(cols, json ? NCOLS_PERSON + 1 : NCOLS_PERSON);
	size_t k = 0;

	if (t == NULL)
		err(IPC_EXIT_OWN, "table");
	memset(total, 0, sizeof(*total));
	sort_rows(r);
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];

		while (!json && k < r->nun && r->un[k].pid < w->pid)
			unattr_row(t, &r->un[k++]);
		file_row(t, w, json);
		if (!json && k < r->nun && r->un[k].pid == w->pid &&
		    (i + 1 == r->nrows || r->rows[i + 1].pid != w->pid))
			unattr_row(t, &r->un[k++]);
		total->opens += w->opens;
		total->reads += w->reads;
		total->rbytes += w->rbytes;
		total->writes += w->writes;
		total->wbytes += w->wbytes;
	}
	while (!json && k < r->nun)
		unattr_row(t, &r->un[k++]);
	return t;
}

/* The sums of what no row holds: positive and negative, reads and writes. */
struct unsum {
	unsigned long long rpos, wpos, neg, neg_r, neg_w;
	size_t nr, nw, nneg;
};

static struct unsum
unattr_sums(const struct report *r)
{
	struct unsum s = { 0 };

	for (size_t i = 0; i < r->nun; i++) {
		const struct unattr *u = &r->un[i];

		unsigned long long nr = u->r < 0 ? (unsigned long long)-u->r : 0;
		unsigned long long nw = u->w < 0 ? (unsigned long long)-u->w : 0;

		if (u->r > 0)
			s.rpos += (unsigned long long)u->r, s.nr++;
		if (u->w > 0)
			s.wpos += (unsigned long long)u->w, s.nw++;
		s.neg_r += nr;
		s.neg_w += nw;
		if (nr || nw)
			s.neg += nr + nw, s.nneg++;
	}
	return s;
}

static void
unattr_findings(struct report *r)
{
	struct unsum s = unattr_sums(r);

	if (s.nr)
		finding(r, "unattributed", "unattributed reads (%llu bytes in %zu process%s) are the kernel's "
			"count (rchar in /proc/PID/io) less the rows: the kernel reading the "
			"program at execve and the dynamic linker reading its shared objects, "
			"both before %s is loaded, and glibc's own reads of locale, nsswitch and "
			"time zone files, which no preload sees.", s.rpos, s.nr,
			s.nr == 1 ? "" : "es", SHIM);
	if (s.nw)
		finding(r, "unattributed", "unattributed writes (%llu bytes in %zu process%s): the kernel counted "
			"writes (wchar) that the shim did not see, made by a system call without "
			"glibc's wrappers or through an entry point it does not wrap.", s.wpos,
			s.nw, s.nw == 1 ? "" : "es");
	if (s.nneg)
		finding(r, "unattributed", "negative unattributed bytes (%llu in %zu process%s): the shim "
			"counted more than rchar and wchar hold; the kernel leaves socket sends "
			"and receives out of those counters.", s.neg, s.nneg,
			s.nneg == 1 ? "" : "es");
}

/* "1234 sleep, 1240 gpg-agent" for the first few running descendants. */
static void
running_list(const struct report *r, char *buf, size_t len)
{
	size_t off = 0, i;

	buf[0] = '\0';
	for (i = 0; i < r->nrunning && i < 8 && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d %s", i ? ", " : "",
					(int)r->running[i].pid, r->running[i].comm);
	if (i < r->nrunning && off < len)
		snprintf(buf + off, len - off, " and %zu more", r->nrunning - i);
}

static void
make_findings(struct report *r, const struct run *u, const char *cmd)
{
	char list[512];
	size_t n = unended(r);

	if (r->nprocs == 0)
		finding(r, "files", "no process loaded %s: %s cleared LD_PRELOAD or ran only "
			"statically linked programs, whose I/O a preload cannot see.", SHIM, cmd);
	if (n > 0)
		finding(r, "total", "%zu process%s ended without a last report (killed by a signal, "
			"such as SIGPIPE in a pipeline): bytes through descriptors %s had not "
			"closed are missing from this table.", n, n == 1 ? "" : "es",
			n == 1 ? "it" : "they");
	if (r->nrunning > 0) {
		running_list(r, list, sizeof(list));
		finding(r, "running", "%zu process%s still running when iotrace ended (%s): what %s "
			"read or wrote after that, or through descriptors still open, is not "
			"counted%s.", r->nrunning, r->nrunning == 1 ? " was" : "es were", list,
			r->nrunning == 1 ? "it" : "they",
			u->stop ? "" : " (--wait-all waits for every descendant)");
	}
	unattr_findings(r);
	if (u->interrupted)
		finding(r, "total", "interrupted by SIGINT: this is what the processes had reported "
			"by then.");
}

/* Keeps the reason of the report's first failed write, before a later call
 * changes errno. */
static void
note_err(struct report *r, bool failed)
{
	if (!r->werr && (failed || ferror(r->out)))
		r->werr = errno ? errno : EIO;
}

/* A failed write of the report is an error (exit 1, the message naming the
 * file); EPIPE ends it quietly (the reader has what it wanted) and iotrace
 * still exits with CMD's status. */
static void
out_check(struct report *r)
{
	errno = 0;
	note_err(r, fflush(r->out) == EOF);
	if (!r->werr)
		return;
	clearerr(r->out);
	if (r->werr == EPIPE)
		return;
	if (r->out == stderr)
		_exit(IPC_EXIT_FAIL);	/* no place left to say it */
	errno = r->werr;
	ipc_fail(IPC_EXIT_FAIL, r->o->output, "write");
}

static void
print_json(struct report *r, const struct run *u)
{
	struct row total;
	struct libscols_table *t = make_table(r, &total, true);
	struct unsum us = unattr_sums(r);
	struct ipc_json j;

	ipc_json_open(&j, r->out);
	ipc_json_table(&j, "files", t);
	ipc_json_object(&j, "total");
	ipc_json_uint(&j, "processes", r->nprocs);
	ipc_json_uint(&j, "unreported", unended(r));
	ipc_json_uint(&j, "running", r->nrunning);
	ipc_json_uint(&j, "opens", total.opens);
	ipc_json_uint(&j, "reads", total.reads);
	ipc_json_uint(&j, "read_bytes", total.rbytes);
	ipc_json_uint(&j, "writes", total.writes);
	ipc_json_uint(&j, "write_bytes", total.wbytes);
	ipc_json_int(&j, "unattributed_read_bytes", diff(us.rpos, us.neg_r));
	ipc_json_int(&j, "unattributed_write_bytes", diff(us.wpos, us.neg_w));
	ipc_json_end(&j);
	ipc_json_array(&j, "unattributed");
	for (size_t i = 0; i < r->nun; i++) {
		ipc_json_object(&j, NULL);
		ipc_json_int(&j, "pid", r->un[i].pid);
		ipc_json_str(&j, "program", r->un[i].exe);
		ipc_json_int(&j, "read_bytes", r->un[i].r);
		ipc_json_int(&j, "write_bytes", r->un[i].w);
		ipc_json_end(&j);
	}
	ipc_json_end(&j);
	ipc_json_array(&j, "running");
	for (size_t i = 0; i < r->nrunning; i++) {
		ipc_json_object(&j, NULL);
		ipc_json_int(&j, "pid", r->running[i].pid);
		ipc_json_str(&j, "program", r->running[i].comm);
		ipc_json_end(&j);
	}
	ipc_json_end(&j);
	if (u->reaped)
		ipc_json_int(&j, "exit_status", ipc_status_code(u->status));
	else
		ipc_json_str(&j, "exit_status", NULL);
	ipc_json_bool(&j, "interrupted", u->interrupted);
	ipc_json_array(&j, "findings");
	for (size_t i = 0; i < r->nfindings; i++) {
		ipc_json_object(&j, NULL);
		ipc_json_str(&j, "section", r->fsection[i]);
		ipc_json_str(&j, "text", r->findings[i]);
		ipc_json_end(&j);
	}
	ipc_json_end(&j);
	note_err(r, ipc_json_close(&j) == -1);
	out_check(r);
	scols_unref_table(t);
}

static void
print_table(struct report *r, const struct run *u, const char *cmd)
{
	struct row total;
	struct libscols_table *t = make_table(r, &total, false);
	struct libscols_line *ln = ipc_table_row(t);
	char st[64];

	if (ln == NULL)
		err(IPC_EXIT_OWN, "table");
	fill(ln, "", "", "total", &total);
	if (u->reaped)
		ipc_status_str(u->status, st, sizeof(st));
	else
		snprintf(st, sizeof(st), "still running after %s", ipc_signame(u->stop));
	errno = 0;
	ipc_heading(r->out, "iotrace: %s %s, %zu process%s", cmd, st, r->nprocs,
		    r->nprocs == 1 ? "" : "es");
	note_err(r, false);
	note_err(r, ipc_table_print(t, r->out) == -1);
	for (size_t i = 0; i < r->nfindings; i++) {
		ipc_finding(r->out, "%s", r->findings[i]);
		note_err(r, false);
	}
	out_check(r);
	scols_unref_table(t);
}

static void
free_report(struct report *r)
{
	for (size_t i = 0; i < r->nrows; i++) {
		free(r->rows[i].exe);
		free(r->rows[i].path);
		free(r->rows[i].renamed);
	}
	for (size_t i = 0; i < r->nprocs; i++)
		free(r->procs[i].exe);
	for (size_t i = 0; i < r->nfindings; i++)
		free(r->findings[i]);
	free(r->rows);
	free(r->slots);
	free(r->procs);
	free(r->running);
	free(r->un);
	free(r->renamed);
}

/* ---- the report's file ------------------------------------------------ */

struct output {
	int fd;
	bool created;	/* by iotrace: removed if CMD cannot run */
	bool reopen;	/* a regular file named by path: truncated once CMD runs */
};

/* The -o file iotrace created, until CMD runs: a failure before removes it. */
static const char *made_output;

static void
unmake_output(void)
{
	if (made_output)
		unlink(made_output);
}

/* N when PATH is /dev/fd/N, /proc/self/fd/N, /dev/stdout or /dev/stderr: a
 * descriptor the shell has opened (so >> appends); -1 otherwise. */
static int
named_fd(const char *path)
{
	unsigned long n;
	const char *p = NULL;

	if (strcmp(path, "/dev/stdout") == 0)
		return 1;
	if (strcmp(path, "/dev/stderr") == 0)
		return 2;
	if (strncmp(path, "/dev/fd/", 8) == 0)
		p = path + 8;
	else if (strncmp(path, "/proc/self/fd/", 14) == 0)
		p = path + 14;
	return p && decimal(p, strlen(p), &n) && n <= INT_MAX ? (int)n : -1;
}

/* -o PATH, as strace -o: the report's file, created or (once CMD runs)
 * emptied.  What is not a regular file is refused before anything is opened
 * (a FIFO would block, a device or a directory is no place for a report),
 * and so is another user's file.  A descriptor the shell opened is used as
 * it is.  Exits 125 on refusal: CMD has not run. */
static void
open_output(const char *path, struct output *out)
{
	struct stat st;
	int n = named_fd(path);

	memset(out, 0, sizeof(*out));
	if (n >= 0) {
		if ((out->fd = fcntl(n, F_DUPFD_CLOEXEC, 3)) == -1)
			ipc_fail(IPC_EXIT_OWN, path, "open");
		return;
	}
	if (ipc_path_check(path) == -1)
		ipc_fail(IPC_EXIT_OWN, path, NULL);
	out->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
	if (out->fd >= 0) {
		out->created = true;
		made_output = path;
		if (atexit(unmake_output) != 0)
			ipc_fail(IPC_EXIT_OWN, path, "atexit");
		return;
	}
	if (errno != EEXIST)
		ipc_fail(IPC_EXIT_OWN, path, "open");
	if ((out->fd = ipc_open_regular(path, O_WRONLY, &st)) == -1)
		ipc_fail(IPC_EXIT_OWN, path, NULL);
	if (ipc_may_replace(&st) == -1)
		ipc_fail(IPC_EXIT_OWN, path, NULL);
	out->reopen = true;
}

/* CMD runs: the old report goes.  CMD could not run: what iotrace made goes
 * (at exit, as after any failure before CMD runs). */
static void
output_started(const char *path, struct output *out, bool ran)
{
	if (ran)
		made_output = NULL;	/* it is the report's now */
	if (ran && out->reopen && ftruncate(out->fd, 0) == -1)
		ipc_fail(IPC_EXIT_OWN, path, "ftruncate");
}

/* ---- main --------------------------------------------------------------- */

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "summary", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'J' },
		{ "wait-all", no_argument, NULL, 'w' },
		IPC_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "+o:sJhV", longopts, NULL)) != -1) {
		if (ipc_common_option(c, &help))
			continue;
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 's':
			o->summary = true;
			break;
		case 'J':
			o->json = true;
			break;
		case 'w':
			o->wait_all = true;
			break;
		default:
			ipc_usage("unexpected option");
		}
	}
	if (optind >= argc)
		ipc_usage("a command to run is required");
	if (o->json && o->output == NULL)
		ipc_usage("--json needs -o FILE: on stderr the document would mix with the "
			  "program's own messages (-o /dev/fd/3 3>&1 >&2 puts it alone on stdout)");
}

/* The signals iotrace handles, as poll events: those not ignored when it
 * started (a background job of a script ignores SIGINT, and so do we). */
static int
signal_fd(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction old;
	sigset_t set, pipe;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaddset(&set, sigs[i]);
	if (sigaction(SIGCHLD, NULL, &old) == 0 && old.sa_handler == SIG_IGN) {
		chld_ignored = true;	/* CMD gets it back in child_setup */
		signal(SIGCHLD, SIG_DFL);
	}
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);	/* a report on a closed pipe is EPIPE */
	if (sigprocmask(SIG_BLOCK, &pipe, NULL) == -1 || (fd = ipc_sigfd_open(&set)) == -1)
		ipc_fail(IPC_EXIT_OWN, NULL, NULL);
	return fd;
}

/* Starts CMD with the shim; returns its pid and the pipe's read end. */
static pid_t
start(char **cmd, const char *shim, int *rfd, const struct opts *o, struct output *out)
{
	int p[2];
	struct setup s = { .target = pipe_target() };
	char **env = child_env(shim, s.target);
	pid_t pid;
	size_t n = 0;

	if (env == NULL)
		err(IPC_EXIT_OWN, "environment");
	while (env[n])
		n++;
	if (pipe2(p, O_CLOEXEC) == -1)
		err(IPC_EXIT_OWN, "pipe");
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
		err(IPC_EXIT_OWN, "pipe: fcntl");
	s.wfd = p[1];
	pid = ipc_spawn(cmd[0], cmd, env, child_setup, &s);
	if (pid == -1) {
		int e = errno, code = strcmp(ipc_failed_call, "exec") == 0 ?
				      ipc_exec_errno_code(errno) : IPC_EXIT_OWN;

		if (o->output)
			output_started(o->output, out, false);
		errno = e;
		err(code, "%s: %s", cmd[0], ipc_failed_call);
	}
	if (o->output)
		output_started(o->output, out, true);
	close(p[1]);
	free(env[n - 1]);	/* the two strings child_env made */
	free(env[n - 2]);
	free(env);
	*rfd = p[0];
	return pid;
}

int
iotrace_main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct report r = { .o = &o, .out = stderr };
	struct run u = { 0 };
	char shim[PATH_MAX], prog[PATH_MAX];
	struct output out = { .fd = -1 };

	parse(argc, argv, &o);
	if (ipc_pkglib_path(SHIM, shim, sizeof(shim)) == -1)
		errx(IPC_EXIT_OWN, "%s: not found beside ipclab nor in the install "
		     "directory (IPCLAB_LIBDIR overrides)", SHIM);
	if (find_program(argv[optind], prog, sizeof(prog)))
		check_preloadable(prog, 0);
	if (o.output) {
		open_output(o.output, &out);
		if ((r.out = fdopen(out.fd, "w")) == NULL)
			ipc_fail(IPC_EXIT_OWN, o.output, "fdopen");
		if (setvbuf(r.out, NULL, _IOLBF, 0) != 0)	/* for tail -f */
			ipc_fail(IPC_EXIT_OWN, o.output, "setvbuf");
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		err(IPC_EXIT_OWN, "prctl PR_SET_CHILD_SUBREAPER");
	u.sfd = signal_fd();
	u.cmd = start(argv + optind, shim, &u.rfd, &o, &out);
	collect(&r, &u, o.wait_all);
	find_running(&r);
	unattributed(&r);
	make_findings(&r, &u, argv[optind]);
	if (o.json)
		print_json(&r, &u);
	else
		print_table(&r, &u, argv[optind]);
	if (r.out != stderr && fclose(r.out) == EOF)
		ipc_fail(IPC_EXIT_FAIL, o.output, "close");
	free_report(&r);
	if (u.interrupted)
		return 130;
	return u.reaped ? ipc_status_code(u.status) : 128 + u.stop;
}
