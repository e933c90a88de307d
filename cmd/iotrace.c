// COMMAND(iotrace, "count the bytes each descriptor of a program moves, as strace would")
/*
 * ipclab iotrace [options] -- CMD [ARGS]
 *
 * Seed 000 made into a tool: runs CMD with libipclab_io.so preloaded (added
 * to LD_PRELOAD, after what is there), collects the shim's per-descriptor
 * lines over a pipe the program cannot see, prints them as they come, and
 * at the end a table per process and path: opens, reads, bytes read, writes,
 * bytes written, and the totals.  The same truth as `strace -f -y`, at a few
 * nanoseconds per call instead of microseconds.
 *
 * Options:
 *  -o, --output FILE   the report goes to FILE instead of stderr
 *  -s, --summary       the table only, not the per-close lines
 *  -J, --json          the report as one JSON document
 *
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "ipclab/cli.h"
#include "ipclab/out.h"
#include "ipclab/path.h"
#include "ipclab/proc.h"
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
	" -J, --json          print the report as one JSON document\n",
};

struct opts {
	const char *output;
	bool summary, json;
};

/* One row: what one program (pid and executable) did through one path. */
struct row {
	pid_t pid;
	char *exe, *path;
	unsigned long opens, reads, rbytes, writes, wbytes;
	size_t seq;
};

struct proc {
	pid_t pid;
	char *exe;
	bool alive;	/* started, and not yet said it ended */
};

struct report {
	struct row *rows;
	size_t nrows, cap;
	struct proc *procs;
	size_t nprocs, pcap;
	char buf[8192];		/* a partial line between reads */
	size_t len;
	FILE *out;
	const struct opts *o;
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

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

/* True when the ELF file on fd has a program interpreter (PT_INTERP). */
static bool
elf_dynamic(int fd, const unsigned char *hdr, size_t n)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (n < sizeof(eh) || hdr[EI_CLASS] != ELFCLASS64)
		return true;	/* not ours to judge: let the loader say */
	memcpy(&eh, hdr, sizeof(eh));
	for (int i = 0; i < eh.e_phnum; i++) {
		off_t off = (off_t)eh.e_phoff + (off_t)i * eh.e_phentsize;

		if (pread(fd, &ph, sizeof(ph), off) != (ssize_t)sizeof(ph))
			return true;
		if (ph.p_type == PT_INTERP)
			return true;
	}
	return false;
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

	if (depth > 4 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;		/* exec will say what is wrong */
	n = read(fd, hdr, sizeof(hdr) - 1);
	if (n < 0 || fstat(fd, &st) == -1)
		n = 0;
	if (n >= 4 && memcmp(hdr, ELFMAG, SELFMAG) == 0) {
		if (!elf_dynamic(fd, hdr, (size_t)n))
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

/* The shim's descriptor in the child: high, out of the way. */
static int
pipe_target(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > 1100)
		return 1001;
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

/* In the child: the pipe's write end at target, inherited across exec. */
static int
child_setup(void *arg)
{
	const struct setup *s = arg;

	if (s->wfd == s->target)
		return fcntl(s->wfd, F_SETFD, 0);
	return dup2(s->wfd, s->target) == -1 ? -1 : 0;
}

/* ---- records ------------------------------------------------------------ */

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

static const char *
exe_of(struct report *r, pid_t pid)
{
	for (size_t i = r->nprocs; i-- > 0;)
		if (r->procs[i].pid == pid)
			return r->procs[i].exe;
	return "?";
}

static void
add_proc(struct report *r, pid_t pid, const char *exe)
{
	if (r->nprocs == r->pcap) {
		r->pcap = r->pcap ? r->pcap * 2 : 16;
		r->procs = reallocarray(r->procs, r->pcap, sizeof(*r->procs));
		if (r->procs == NULL)
			err(IPC_EXIT_OWN, "realloc");
	}
	r->procs[r->nprocs].pid = pid;
	r->procs[r->nprocs].alive = true;
	r->procs[r->nprocs++].exe = xstrdup(exe);
}

static void
end_proc(struct report *r, pid_t pid)
{
	for (size_t i = r->nprocs; i-- > 0;)
		if (r->procs[i].pid == pid) {
			r->procs[i].alive = false;
			return;
		}
}

/* Processes that started and never said they ended: killed by a signal. */
static size_t
unended(const struct report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nprocs; i++)
		n += r->procs[i].alive;
	return n;
}

static struct row *
find_row(struct report *r, pid_t pid, const char *exe, const char *path)
{
	struct row *w;

	for (size_t i = r->nrows; i-- > 0;) {
		w = &r->rows[i];
		if (w->pid == pid && strcmp(w->path, path) == 0 && strcmp(w->exe, exe) == 0)
			return w;
	}
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
	return w;
}

/* One line of the shim's, with the '\n' removed. */
static void
record(struct report *r, char *line)
{
	unsigned long op, rd, rb, wr, wb;
	char *path = strstr(line, " path=");
	int pid, fd, ppid;
	struct row *w;

	if (path == NULL)
		return;
	if (!r->o->summary && !r->o->json && !strstr(line, " at=start ") &&
	    !strstr(line, " at=end "))
		fprintf(r->out, "%s\n", line);	/* the seed's line, as it came */
	*path = '\0';
	path += 6;
	unescape(path);
	if (sscanf(line, "iotrace: pid=%d ppid=%d at=start", &pid, &ppid) == 2 &&
	    strstr(line, " at=start")) {
		add_proc(r, pid, path);
		return;
	}
	if (sscanf(line, "iotrace: pid=%d ppid=%d at=end", &pid, &ppid) == 2) {
		end_proc(r, pid);
		return;
	}
	if (sscanf(line, "iotrace: pid=%d fd=%d at=%*s opens=%lu reads=%lu read_bytes=%lu "
		   "writes=%lu write_bytes=%lu", &pid, &fd, &op, &rd, &rb, &wr, &wb) != 7)
		return;
	w = find_row(r, pid, exe_of(r, pid), path);
	w->opens += op;
	w->reads += rd;
	w->rbytes += rb;
	w->writes += wr;
	w->wbytes += wb;
}

/* Takes what arrived on the pipe; returns false at end of file. */
static bool
drain(struct report *r, int fd)
{
	ssize_t n = read(fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	char *start, *nl;

	if (n == -1)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	r->len += (size_t)n;
	r->buf[r->len] = '\0';
	for (start = r->buf; (nl = memchr(start, '\n', r->len - (size_t)(start - r->buf)));
	     start = nl + 1) {
		*nl = '\0';
		record(r, start);
	}
	r->len -= (size_t)(start - r->buf);
	memmove(r->buf, start, r->len);
	if (r->len == sizeof(r->buf) - 1)
		r->len = 0;	/* a line longer than any the shim writes */
	return true;
}

/* Reads until every holder of the pipe's write end is gone.  After a signal,
 * gives the processes two seconds to finish their lines. */
static void
collect(struct report *r, int fd, pid_t child)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int forwarded = 0, quiet = 0;

	for (;;) {
		if (got_signal && got_signal != forwarded) {
			if (got_signal != SIGINT)	/* the terminal sent that one */
				kill(child, got_signal);
			forwarded = got_signal;
		}
		int n = poll(&p, 1, forwarded ? 100 : -1);

		if (n == -1 && errno != EINTR)
			err(IPC_EXIT_OWN, "report pipe: poll");
		if (n == 0 && ++quiet >= 20)
			return;
		if (n > 0 && !drain(r, fd))
			return;
	}
}

/* ---- the summary -------------------------------------------------------- */

static const struct ipc_col cols[] = {
	{ "pid", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "program", 0, 0, SCOLS_JSON_STRING },
	{ "path", 0, 0, SCOLS_JSON_STRING },
	{ "opens", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "reads", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "read_bytes", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "writes", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	{ "write_bytes", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
};

static int
by_pid(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
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

/* The table of rows, and their sum in *total. */
static struct libscols_table *
make_table(struct report *r, struct row *total)
{
	struct libscols_table *t = ipc_table_new(cols, sizeof(cols) / sizeof(cols[0]));
	char pid[16];

	if (t == NULL)
		err(IPC_EXIT_OWN, "table");
	memset(total, 0, sizeof(*total));
	if (r->nrows > 1)
		qsort(r->rows, r->nrows, sizeof(*r->rows), by_pid);
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		const char *slash = strrchr(w->exe, '/');
		struct libscols_line *ln = ipc_table_row(t);

		if (ln == NULL)
			err(IPC_EXIT_OWN, "table");
		snprintf(pid, sizeof(pid), "%d", (int)w->pid);
		fill(ln, pid, slash ? slash + 1 : w->exe, w->path, w);
		total->opens += w->opens;
		total->reads += w->reads;
		total->rbytes += w->rbytes;
		total->writes += w->writes;
		total->wbytes += w->wbytes;
	}
	return t;
}

static void
print_json(struct report *r, int status)
{
	struct row total;
	struct libscols_table *t = make_table(r, &total);
	struct ipc_json j;

	ipc_json_open(&j, r->out);
	ipc_json_table(&j, "files", t);
	ipc_json_object(&j, "total");
	ipc_json_uint(&j, "processes", r->nprocs);
	ipc_json_uint(&j, "unreported", unended(r));
	ipc_json_uint(&j, "opens", total.opens);
	ipc_json_uint(&j, "reads", total.reads);
	ipc_json_uint(&j, "read_bytes", total.rbytes);
	ipc_json_uint(&j, "writes", total.writes);
	ipc_json_uint(&j, "write_bytes", total.wbytes);
	ipc_json_end(&j);
	ipc_json_int(&j, "exit_status", ipc_status_code(status));
	if (ipc_json_close(&j) == -1)
		err(IPC_EXIT_OWN, "%s: write", r->o->output ? r->o->output : "stderr");
	scols_unref_table(t);
}

static void
print_table(struct report *r, int status, const char *cmd)
{
	struct row total;
	struct libscols_table *t = make_table(r, &total);
	struct libscols_line *ln = ipc_table_row(t);
	char st[64];

	if (ln == NULL)
		err(IPC_EXIT_OWN, "table");
	fill(ln, "", "", "total", &total);
	ipc_heading(r->out, "iotrace: %s %s, %zu process%s", cmd,
		    ipc_status_str(status, st, sizeof(st)), r->nprocs,
		    r->nprocs == 1 ? "" : "es");
	if (ipc_table_print(t, r->out) == -1)
		err(IPC_EXIT_OWN, "%s: write", r->o->output ? r->o->output : "stderr");
	if (r->nprocs == 0)
		ipc_finding(r->out, "no process loaded %s: %s cleared LD_PRELOAD or ran only "
			    "statically linked programs, whose I/O a preload cannot see.",
			    SHIM, cmd);
	if (unended(r) > 0)
		ipc_finding(r->out, "%zu process%s ended without a last report (killed by a "
			    "signal, such as SIGPIPE in a pipeline): bytes through descriptors "
			    "%s had not closed are missing from this table.", unended(r),
			    unended(r) == 1 ? "" : "es", unended(r) == 1 ? "it" : "they");
	scols_unref_table(t);
}

static void
free_report(struct report *r)
{
	for (size_t i = 0; i < r->nrows; i++) {
		free(r->rows[i].exe);
		free(r->rows[i].path);
	}
	for (size_t i = 0; i < r->nprocs; i++)
		free(r->procs[i].exe);
	free(r->rows);
	free(r->procs);
}

/* ---- main --------------------------------------------------------------- */

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "summary", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'J' },
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
		default:
			ipc_usage("unexpected option");
		}
	}
	if (optind >= argc)
		ipc_usage("a command to run is required");
}

/* Starts CMD with the shim; returns its pid and the pipe's read end. */
static pid_t
start(char **cmd, const char *shim, int *rfd)
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
	s.wfd = p[1];
	pid = ipc_spawn(cmd[0], cmd, env, child_setup, &s);
	if (pid == -1) {
		int code = strcmp(ipc_failed_call, "exec") == 0 ?
			   ipc_exec_errno_code(errno) : IPC_EXIT_OWN;

		err(code, "%s: %s", cmd[0], ipc_failed_call);
	}
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
	char shim[PATH_MAX], prog[PATH_MAX];
	int rfd, status;
	pid_t pid;

	parse(argc, argv, &o);
	if (ipc_pkglib_path(SHIM, shim, sizeof(shim)) == -1)
		errx(IPC_EXIT_OWN, "%s: not found beside ipclab nor in the install "
		     "directory (IPCLAB_LIBDIR overrides)", SHIM);
	if (find_program(argv[optind], prog, sizeof(prog)))
		check_preloadable(prog, 0);
	if (o.output && (r.out = fopen(o.output, "we")) == NULL)
		err(IPC_EXIT_OWN, "%s: open", o.output);
	if (o.output && setvbuf(r.out, NULL, _IOLBF, 0) != 0)	/* for tail -f */
		err(IPC_EXIT_OWN, "%s: setvbuf", o.output);
	if (ipc_sig_handle(SIGINT, on_signal, false) == -1 ||
	    ipc_sig_handle(SIGTERM, on_signal, false) == -1 ||
	    ipc_sig_handle(SIGHUP, on_signal, false) == -1)
		err(IPC_EXIT_OWN, "sigaction");
	pid = start(argv + optind, shim, &rfd);
	collect(&r, rfd, pid);
	close(rfd);
	if (ipc_wait(pid, &status, 0) == -1)
		err(IPC_EXIT_OWN, "%d: waitpid", (int)pid);
	if (o.json)
		print_json(&r, status);
	else
		print_table(&r, status, argv[optind]);
	if (r.out != stderr && fclose(r.out) == EOF)
		err(IPC_EXIT_OWN, "%s: close", o.output);
	free_report(&r);
	return ipc_status_code(status);
}
