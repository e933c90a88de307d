// COMMAND(libwatch, "how a shared library is mapped, and what two processes share")
/*
 * ipclab libwatch [options]
 * ipclab libwatch [-J] LIBRARY
 *
 * The shared-library exercise: programs foo and bar both use a shared library with a
 * global baz and functions setbaz() and getbaz().  foo sets baz to 17 and
 * keeps reading it; bar sets it to 1 and keeps incrementing it.  Where do
 * the three live, which mmap calls brought the library in, and what do the
 * two processes really share?
 *
 * Options:
 *  -b, --build MODE      how the roles were linked: mixed (default: foo an
 *                        ordinary PIE, bar built with -fPIC), pie or pic
 *      --dlopen          the roles load the library with dlopen/dlsym
 *  -d, --duration SECS   how long to watch the values (default 3s)
 *  -i, --interval SECS   between two readings (default 0.5s)
 *  -J, --json            one JSON document on stdout (-j as well)
 *
 * The experiment: the roles are small programs beside the demo library
 * libipclab_foobar.so (lib/libwatch/, where baz sits alone on its own page).
 * Each is started under ptrace(2), and the tracer notes the openat(2) of the
 * library, then every mmap(2) of that descriptor and every mmap/mprotect
 * inside the span the first one reserved, until the role reports its
 * addresses on a pipe.  Each role then waits for a byte before it writes baz,
 * so that /proc/PID/pagemap can be read before and after the first write.
 *
 * The report: the addresses and the /proc/PID/maps line each falls in; the
 * library's PT_LOAD segments read from its program headers; the load-time
 * calls, each matched to its segment and to its maps line; the values over
 * time; smaps per library mapping; the physical frame of each library page in
 * both processes (root only).  With LIBRARY (a path, or a soname such as
 * libc.so.6 resolved as dlopen(3) would): its segments, and every process
 * that maps it with what is resident, shared and private (smem -m for one
 * library).
 */
#include <dlfcn.h>
#include <elf.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "ipclab/cli.h"
#include "ipclab/elf.h"
#include "ipclab/ldso.h"
#include "ipclab/map.h"
#include "ipclab/num.h"
#include "ipclab/out.h"
#include "ipclab/path.h"
#include "ipclab/procfs.h"
#include "ipclab/proc.h"
#include "ipclab/report.h"
#include "ipclab/sig.h"
#include "ipclab/trace.h"

#define DEMO_LIB "libipclab_foobar.so"
#define MAXSEG 32
#define MAXSECT 64
#define MAXCALL 32
#define MAXPAGE 64
#define MAXTICK 4096

static const struct ipc_help help = {
	.name = "libwatch",
	.synopsis = "[options]\n[--json] LIBRARY",
	.summary = "Show how a shared library is mapped into two processes and what they\n"
		   "really share; with LIBRARY, which processes map it and how much.",
	.options = " -b, --build MODE    mixed (default), pie or pic: how the roles are linked\n"
		   "     --dlopen        the roles load the library with dlopen/dlsym\n"
		   " -d, --duration SECS how long to watch the values (default 3s)\n"
		   " -i, --interval SECS time between two readings (default 0.5s)\n"
		   " -J, --json          print one JSON document (-j is the same)\n",
};

/* ---- the library file: identity and ELF headers ---- */

struct lw_file {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
};

/* What libwatch shows of the core's ipc_elf: the loadable and RELRO
 * segments, the allocated sections, baz. */
struct lw_elf {
	struct ipc_elf_seg seg[MAXSEG];
	size_t nseg;
	struct ipc_elf_sect sect[MAXSECT];
	size_t nsect;
	uint64_t baz;		/* st_value of baz in .dynsym, 0 when none */
};

static long pagesz;

static uint64_t trunc_pg(uint64_t a) { return a & ~(uint64_t)(pagesz - 1); }
static uint64_t round_pg(uint64_t a) { return trunc_pg(a + (uint64_t)pagesz - 1); }

/* Notes the failed call and its reason, as the core's helpers do. */
static void
lw_failed(const char *call, int e, const char *why)
{
	ipc_failed_call = call;
	ipc_failed_why = why;
	errno = e;
}

static int
file_ident(const char *path, struct lw_file *f)
{
	struct stat st;

	if (realpath(path, f->path) == NULL) {
		lw_failed("realpath", errno, NULL);
		return -1;
	}
	if (stat(f->path, &st) == -1) {
		lw_failed("stat", errno, NULL);
		return -1;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return 0;
}

static const char *
seg_type(uint32_t t)
{
	switch (t) {
	case PT_LOAD: return "LOAD";
	case PT_GNU_RELRO: return "GNU_RELRO";
	default: return "?";
	}
}

static char *
seg_flags(uint32_t f, char *buf)
{
	buf[0] = f & PF_R ? 'R' : ' ';
	buf[1] = f & PF_W ? 'W' : ' ';
	buf[2] = f & PF_X ? 'E' : ' ';
	buf[3] = '\0';
	return buf;
}

/* What libwatch shows of X: its loadable and RELRO segments and its
 * allocated sections, as many as fit (baz is the caller's). */
static void
elf_keep(const struct ipc_elf *x, struct lw_elf *e)
{
	for (size_t i = 0; i < x->nseg && e->nseg < MAXSEG; i++)
		if (x->seg[i].type == PT_LOAD || x->seg[i].type == PT_GNU_RELRO)
			e->seg[e->nseg++] = x->seg[i];
	for (size_t i = 0; i < x->nsect && e->nsect < MAXSECT; i++)
		if (x->sect[i].flags & SHF_ALLOC && x->sect[i].size)
			e->sect[e->nsect++] = x->sect[i];
}

/* Reads the ELF headers of PATH, a regular file (a FIFO never blocks).  -1
 * with ipc_failed_call and ipc_failed_why set (the call NULL when the bytes
 * are wrong, not a call). */
static int
elf_load(const char *path, struct lw_elf *e)
{
	static struct ipc_elf x;	/* about 25 KB: not on the stack */
	int fd = ipc_open_regular(path, O_RDONLY, NULL), r, saved;

	memset(e, 0, sizeof(*e));
	if (fd == -1)
		return -1;
	r = ipc_elf_read_fd(fd, &x) == -1 || ipc_elf_symbol_fd(fd, "baz", &e->baz) == -1;
	saved = errno;
	close(fd);
	errno = saved;
	if (r)
		return -1;
	elf_keep(&x, e);
	return 0;
}

/* ---- /proc/PID/maps, smaps and pagemap ---- */

static bool
map_is(const struct ipc_map *m, const struct lw_file *f)
{
	return ipc_map_is(m, f->dev, f->ino, f->path);
}

/* Keeps the mappings of the file ARG (a struct lw_file). */
static bool
keep_file(const struct ipc_map *m, void *arg)
{
	return map_is(m, arg);
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static char *
map_str(const struct ipc_map *m, char *buf, size_t len)
{
	if (m == NULL)
		snprintf(buf, len, "(no mapping)");
	else
		snprintf(buf, len, "%" PRIx64 "-%" PRIx64 " %s %08" PRIx64 " %s", m->lo, m->hi,
			 m->perms, m->off, *m->path ? base_name(m->path) : "[anon]");
	return buf;
}

/* The physical frame of the page at ADDR: its number, 0 when the kernel hides
 * it (not root), or -1 when the page is not present. */
static int64_t
page_frame(int fd, uint64_t addr)
{
	struct ipc_page p;

	if (ipc_pagemap_get(fd, addr, &p) == -1 || !p.present)
		return -1;
	return (int64_t)p.pfn;
}

/* ---- the roles ---- */

struct lw_call {
	long nr;
	uint64_t addr, len, off;
	int prot, flags, fd;
	int seg;		/* index in the ELF segments, -1 when none */
	char what[48];		/* what the call does for that segment */
};

struct lw_trace {
	const struct lw_file *lib;
	int fd;			/* the tracee's descriptor of the library */
	uint64_t lo, hi;	/* the span the first mmap reserved */
	struct lw_call call[MAXCALL];
	size_t n;
};

struct lw_role {
	const char *name;	/* "foo", "bar" */
	const char *build;	/* "pie", "pic", "dl" */
	char prog[PATH_MAX];
	pid_t pid, pid_shown;	/* pid is 0 once reaped */
	int rep;		/* its reports */
	char rbuf[256];		/* what it reported and was not read yet */
	size_t rlen;
	int cmd;		/* its orders */
	bool lost;		/* it did not answer in time: killed at its end */
	uint64_t setbaz, getbaz, baz, base;
	int first;		/* baz before the first write */
	struct lw_trace tr;
	struct ipc_maps maps, smaps;
	int64_t before[MAXPAGE], after[MAXPAGE];
	int val[MAXTICK];
};

struct lw_run {
	struct lw_role role[2];
	struct lw_file lib;
	struct lw_elf elf;
	double duration, interval;
	bool dlopen, json;
	const char *build;
	size_t nval;		/* readings so far (the first write included) */
	double tick_s[MAXTICK];
	size_t npage;
	bool hidden;		/* frames hidden: not root */
	int denywrite;		/* open(O_WRONLY) of the mapped library: 0 or errno */
	bool failed;		/* a role stopped answering while watched */
};

/* How long a role may take to answer an order: a stopped or hung role is
 * given up after that, never waited for for ever. */
#define ROLE_ANSWER_MS 5000
#define ROLE_START_MS 20000
/* How long the dynamic loader may take to say which file a library name is
 * (a FIFO on its search path would keep it waiting). */
#define RESOLVE_MS 5000

static volatile sig_atomic_t stop;	/* the signal that asks to stop, or 0 */

static void
on_signal(int sig)
{
	stop = sig;
}

static bool
is_error(uint64_t ret)
{
	return ret >= (uint64_t)-4095;
}

/* The library's descriptor in the tracee: the file behind /proc/PID/fd/N. */
static bool
fd_is_lib(pid_t pid, int64_t fd, const struct lw_file *f)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%" PRId64, (int)pid, fd);
	return stat(path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino;
}

static void
trace_note(struct lw_trace *t, const struct ipc_syscall *sc)
{
	struct lw_call *c = &t->call[t->n];

	if (t->n == MAXCALL)
		return;
	memset(c, 0, sizeof(*c));
	c->nr = sc->nr;
	c->addr = sc->nr == SYS_mmap ? (uint64_t)sc->ret : sc->args[0];
	c->len = sc->args[1];
	c->prot = (int)sc->args[2];
	c->flags = sc->nr == SYS_mmap ? (int)sc->args[3] : 0;
	c->fd = sc->nr == SYS_mmap ? (int)sc->args[4] : -1;
	c->off = sc->nr == SYS_mmap ? sc->args[5] : 0;
	c->seg = -1;
	t->n++;
}

/* At each system call's exit while the role starts: the library's openat,
 * the mmaps of its descriptor and the calls inside its span.  Detaches at
 * the role's first report (a write to descriptor 3). */
static int
trace_cb(pid_t pid, const struct ipc_syscall *sc, void *arg)
{
	struct lw_trace *t = arg;
	bool inside = sc->args[0] >= t->lo && sc->args[0] < t->hi;

	if (sc->nr == SYS_write && sc->args[0] == 3)
		return 1;
	if (is_error((uint64_t)sc->ret))
		return 0;
	if (sc->nr == SYS_openat && t->fd == -1 && t->n == 0 && fd_is_lib(pid, sc->ret, t->lib)) {
		t->fd = (int)sc->ret;
	} else if (sc->nr == SYS_close && t->fd >= 0 && sc->args[0] == (uint64_t)t->fd) {
		t->fd = -2;	/* closed: later descriptors with its number are others */
	} else if (sc->nr == SYS_mmap && t->fd >= 0 && (int)sc->args[4] == t->fd) {
		if (t->n == 0) {
			t->lo = (uint64_t)sc->ret;
			t->hi = t->lo + sc->args[1];
		}
		trace_note(t, sc);
	} else if ((sc->nr == SYS_mmap || sc->nr == SYS_mprotect) && t->n > 0 && inside) {
		trace_note(t, sc);
	}
	return 0;
}

struct lw_child {
	const char *prog, *lib;
	int rep, cmd;
};

/* In the traced child: the report pipe on 3, the order pipe on 4, then exec. */
static int
role_exec(void *arg)
{
	const struct lw_child *c = arg;
	char *argv[] = { (char *)c->prog, "3", "4", (char *)c->lib, NULL };
	int a = fcntl(c->rep, F_DUPFD, 10), b = fcntl(c->cmd, F_DUPFD, 10);

	if (a == -1 || b == -1 || dup2(a, 3) == -1 || dup2(b, 4) == -1)
		return IPC_EXIT_OWN;
	closefrom(5);
	execv(c->prog, argv);
	return ipc_exec_errno_code(errno);
}

static void
role_kill(struct lw_role *r)
{
	int st;

	if (r->pid <= 0)
		return;
	kill(r->pid, SIGKILL);	/* ends a stopped process too */
	ipc_wait(r->pid, &st, 0);
	r->pid = 0;
}

/* Why a role did not answer: "it is stopped" when the kernel says so. */
static const char *
role_state(const struct lw_role *r)
{
	struct ipc_stat st;

	if (ipc_stat_read(r->pid, &st) == -1)
		return errno == ENOENT || errno == ESRCH ? "it is gone" : "it is still running";
	return st.state == 'T' || st.state == 't' ? "it is stopped (SIGSTOP?)" :
	       "it is still running";
}

/* Waits at most MS for the role's report descriptor to be readable, in slices
 * of 100 ms so that a signal's stop is seen within one.  1 readable, 0 timed
 * out (errno ETIMEDOUT) or stopped (errno EINTR), -1 on error. */
static int
role_poll(struct lw_role *r, uint64_t end_ns)
{
	struct pollfd p = { .fd = r->rep, .events = POLLIN };

	for (;;) {
		uint64_t now = ipc_now_ns();
		int n;

		if (stop) {
			lw_failed("read", EINTR, NULL);
			return 0;
		}
		if (now >= end_ns) {
			lw_failed("read", ETIMEDOUT, NULL);
			return 0;
		}
		n = poll(&p, 1, end_ns - now > 100000000u ? 100 : (int)((end_ns - now) / 1000000u) + 1);
		if (n > 0)
			return 1;
		if (n == -1 && errno != EINTR) {
			lw_failed("poll", errno, NULL);
			return -1;
		}
	}
}

/* Reads one report line of the role into buf, waiting at most MS for it. */
static int
role_line(struct lw_role *r, char *buf, size_t len, int ms)
{
	uint64_t end = ipc_now_ns() + (uint64_t)ms * 1000000u;
	char *nl;
	size_t n;

	while ((nl = memchr(r->rbuf, '\n', r->rlen)) == NULL) {
		ssize_t got;

		if (r->rlen == sizeof(r->rbuf)) {
			lw_failed("read", EPROTO, "a report line too long");
			return -1;
		}
		if (role_poll(r, end) != 1)
			return -1;
		got = read(r->rep, r->rbuf + r->rlen, sizeof(r->rbuf) - r->rlen);
		if (got == 0) {
			lw_failed("read", EPIPE, "it ended without answering");
			return -1;
		}
		if (got == -1 && errno != EINTR && errno != EAGAIN) {
			lw_failed("read", errno, NULL);
			return -1;
		}
		r->rlen += got > 0 ? (size_t)got : 0;
	}
	n = (size_t)(nl - r->rbuf) + 1;
	snprintf(buf, len, "%.*s", (int)(n - 1), r->rbuf);
	memmove(r->rbuf, r->rbuf + n, r->rlen - n);
	r->rlen -= n;
	return 0;
}

/* A role that cannot start ends the command; a signal's stop ends it with
 * 128 + the signal, as the shell would say. */
static void role_failx(const struct lw_role *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void
role_failx(const struct lw_role *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (stop)
		ipc_failx(128 + stop, NULL, "interrupted while the roles started");
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	ipc_failx(1, r->prog, "%s", s ? s : "cannot start");
}

static void
role_pipes(struct lw_role *r, struct lw_child *c)
{
	int rep[2], cmd[2];

	if (pipe2(rep, O_CLOEXEC) == -1 || pipe2(cmd, O_CLOEXEC) == -1)
		ipc_fail(1, r->prog, "pipe");
	c->rep = rep[1];
	c->cmd = cmd[0];
	r->rep = rep[0];
	r->rlen = 0;
	r->cmd = cmd[1];
}

/* Starts role R under ptrace and follows it until it reports its addresses. */
static void
role_start(struct lw_run *run, struct lw_role *r)
{
	int st;
	struct lw_child c = { r->prog, run->dlopen ? run->lib.path : NULL, 0, 0 };
	char line[256], why[64];

	role_pipes(r, &c);
	r->tr = (struct lw_trace){ .lib = &run->lib, .fd = -1 };
	if ((r->pid = ipc_trace_fork(role_exec, &c)) == -1)
		role_failx(r, "%s: %s", ipc_failed_call, strerror(errno));
	r->pid_shown = r->pid;
	close(c.rep);
	close(c.cmd);
	switch (ipc_trace_syscalls(r->pid, trace_cb, &r->tr, &st, ROLE_START_MS, &stop)) {
	case -1:
		r->pid = 0;	/* killed and reaped by the tracer */
		if (errno == ETIMEDOUT)
			role_failx(r, "gave no report in %d s, and was killed", ROLE_START_MS / 1000);
		role_failx(r, "%s: %s", ipc_failed_call, strerror(errno));
	case 0:
		r->pid = 0;
		role_failx(r, "%s before reporting its addresses", ipc_status_str(st, why, sizeof(why)));
	}
	if (role_line(r, line, sizeof(line), ROLE_START_MS) == -1 ||
	    sscanf(line, "addr %" SCNx64 " %" SCNx64 " %" SCNx64 " %d", &r->setbaz, &r->getbaz,
		   &r->baz, &r->first) != 4)
		role_failx(r, "no addresses in its report");
	if (ipc_maps_read(r->pid, false, NULL, NULL, &r->maps) == -1)
		err(1, "/proc/%d/maps: %s", (int)r->pid, ipc_failed_call);
	r->base = UINT64_MAX;
	for (size_t i = 0; i < r->maps.n; i++)
		if (map_is(&r->maps.v[i], &run->lib) && r->maps.v[i].lo < r->base)
			r->base = r->maps.v[i].lo - r->maps.v[i].off;
	if (r->base == UINT64_MAX)
		role_failx(r, "%s is not in its /proc/%d/maps", run->lib.path, (int)r->pid);
}

/* Sends order C to the role and reads the value it answers, waiting at most
 * ROLE_ANSWER_MS (or until a signal asks to stop). */
static int
role_order(struct lw_role *r, char c, int *val)
{
	char line[64];

	if (write(r->cmd, &c, 1) != 1) {
		lw_failed("write", errno, NULL);
		return -1;
	}
	if (role_line(r, line, sizeof(line), ROLE_ANSWER_MS) == -1)
		return -1;
	if (sscanf(line, "val %d", val) != 1) {
		lw_failed("read", EPROTO, "not a value");
		return -1;
	}
	return 0;
}

/* Says why role R did not answer an order. */
static void
role_warn(struct lw_role *r)
{
	r->lost = errno == ETIMEDOUT;
	if (errno == ETIMEDOUT)
		warnx("%s (pid %d): no answer in %d s: %s", r->name, (int)r->pid,
		      ROLE_ANSWER_MS / 1000, role_state(r));
	else
		warnx("%s (pid %d): %s: %s", r->name, (int)r->pid, ipc_failed_call,
		      ipc_failed_why ? ipc_failed_why : strerror(errno));
}

/* Ends the role: end of file on its orders, then reaped within a second, or
 * killed.  Returns 0 when it ended by itself with status 0; otherwise says
 * how it ended and returns -1. */
static int
role_end(struct lw_role *r)
{
	char why[64];
	int st, got;

	if (r->cmd > 0)
		close(r->cmd);
	if (r->rep > 0)
		close(r->rep);
	r->cmd = r->rep = -1;
	if (r->pid <= 0)
		return 0;
	if (r->lost) {	/* already said */
		role_kill(r);
		return -1;
	}
	got = ipc_wait_for(r->pid, &st, stop ? 300 : 1000, NULL);
	if (got == r->pid) {
		r->pid = 0;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return 0;
		warnx("%s (pid %d): %s", r->name, (int)r->pid_shown,
		      ipc_status_str(st, why, sizeof(why)));
		return -1;
	}
	if (got == -1)
		warn("%s (pid %d): waitpid", r->name, (int)r->pid);
	else
		warnx("%s (pid %d): still there a second after its end: killed", r->name,
		      (int)r->pid);
	role_kill(r);
	return -1;
}

static struct lw_run *cleanup_run;

static void
cleanup(void)
{
	for (int i = 0; cleanup_run && i < 2; i++)
		role_kill(&cleanup_run->role[i]);
}

/* ---- matching what was traced to the ELF file and the maps ---- */

/* The index of the LOAD segment among the PT_LOAD headers, for "LOAD 1". */
static int
load_index(const struct lw_elf *e, int seg)
{
	int n = 0;

	for (int i = 0; i < seg; i++)
		n += e->seg[i].type == PT_LOAD;
	return n;
}

static const char *
seg_kind(const struct ipc_elf_seg *s)
{
	if (s->type == PT_GNU_RELRO)
		return "relro";
	return s->flags & PF_X ? "code" : s->flags & PF_W ? "data" : "read-only";
}

static void
match_mmap(const struct lw_elf *e, struct lw_call *c, uint64_t rel, bool first)
{
	for (size_t i = 0; i < e->nseg; i++) {
		const struct ipc_elf_seg *s = &e->seg[i];

		if (s->type != PT_LOAD)
			continue;
		if (c->fd >= 0 && trunc_pg(s->off) == c->off && (first || trunc_pg(s->vaddr) == rel)) {
			c->seg = (int)i;
			snprintf(c->what, sizeof(c->what), first ? "whole span, LOAD %d" : "LOAD %d",
				 load_index(e, (int)i));
			return;
		}
		if (c->fd < 0 && rel >= round_pg(s->vaddr + s->filesz) &&
		    rel < round_pg(s->vaddr + s->memsz)) {
			c->seg = (int)i;
			snprintf(c->what, sizeof(c->what), "LOAD %d .bss", load_index(e, (int)i));
			return;
		}
	}
}

static void
match_mprotect(const struct lw_elf *e, struct lw_call *c, uint64_t rel)
{
	for (size_t i = 0; i < e->nseg; i++) {
		const struct ipc_elf_seg *s = &e->seg[i];

		if (s->type == PT_GNU_RELRO && trunc_pg(s->vaddr) == rel) {
			c->seg = (int)i;
			snprintf(c->what, sizeof(c->what), "GNU_RELRO");
			return;
		}
	}
	if (c->prot == PROT_NONE)
		snprintf(c->what, sizeof(c->what), "hole between segments");
}

static void
match_calls(struct lw_run *run)
{
	for (int k = 0; k < 2; k++) {
		struct lw_role *r = &run->role[k];

		for (size_t i = 0; i < r->tr.n; i++) {
			struct lw_call *c = &r->tr.call[i];

			if (c->nr == SYS_mmap)
				match_mmap(&run->elf, c, c->addr - r->base, i == 0);
			else
				match_mprotect(&run->elf, c, c->addr - r->base);
		}
	}
}

/* ---- the experiment ---- */

static void
frames(struct lw_run *run, bool after)
{
	for (int k = 0; k < 2; k++) {
		struct lw_role *r = &run->role[k];
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)r->pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			err(1, "%s: open", path);
		for (size_t i = 0; i < run->npage; i++) {
			int64_t f = page_frame(fd, r->base + i * (uint64_t)pagesz);

			(after ? r->after : r->before)[i] = f;
			if (f == 0)
				run->hidden = true;
		}
		close(fd);
	}
}

/* The library's span in role 0, in pages. */
static void
span_pages(struct lw_run *run)
{
	struct lw_role *r = &run->role[0];
	uint64_t hi = r->base;

	for (size_t i = 0; i < r->maps.n; i++)
		if (map_is(&r->maps.v[i], &run->lib) && r->maps.v[i].hi > hi)
			hi = r->maps.v[i].hi;
	/* the anonymous .bss beyond the file belongs to the span as well */
	if (r->tr.hi > hi)
		hi = r->tr.hi;
	run->npage = (size_t)((hi - r->base) / (uint64_t)pagesz);
	if (run->npage > MAXPAGE)
		run->npage = MAXPAGE;
}

/* Does the kernel honour MAP_DENYWRITE?  Open the mapped library for writing
 * (no O_TRUNC: nothing changes): ETXTBSY would say yes. */
static int
denywrite_test(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

	if (fd == -1)
		return errno;
	close(fd);
	return 0;
}

static int
first_write(struct lw_run *run)
{
	for (int k = 0; k < 2; k++)
		if (role_order(&run->role[k], 'w', &run->role[k].val[0]) == -1) {
			if (!stop)
				role_warn(&run->role[k]);
			return -1;
		}
	run->tick_s[0] = 0;
	run->nval = 1;
	return 0;
}

static void
sleep_until(uint64_t t_ns)
{
	uint64_t now = ipc_now_ns();
	struct timespec ts;

	if (now >= t_ns)
		return;
	ts.tv_sec = (time_t)((t_ns - now) / 1000000000u);
	ts.tv_nsec = (long)((t_ns - now) % 1000000000u);
	nanosleep(&ts, NULL);	/* a signal ends it early: stop is then set */
}

/* foo reads, bar increments, every interval for the duration. */
static void
watch(struct lw_run *run)
{
	uint64_t t0 = ipc_now_ns(), step = (uint64_t)(run->interval * 1e9);
	size_t nticks = (size_t)(run->duration / run->interval + 1e-9);
	struct ipc_progress p;

	ipc_progress_init(&p);
	for (size_t k = 1; k <= nticks && run->nval < MAXTICK && !stop; k++) {
		sleep_until(t0 + k * step);
		if (stop)
			break;
		for (int i = 0; i < 2 && !stop && !run->failed; i++)
			if (role_order(&run->role[i], 't', &run->role[i].val[run->nval]) == -1 &&
			    !stop) {
				role_warn(&run->role[i]);
				run->failed = true;
			}
		if (stop || run->failed)
			break;
		run->tick_s[run->nval++] = (double)(ipc_now_ns() - t0) / 1e9;
		ipc_progress_show(&p, "watching baz: %.1fs of %.1fs", (double)(ipc_now_ns() - t0) / 1e9,
				  run->duration);
	}
	ipc_progress_done(&p);
}

static void
role_prog(struct lw_run *run, struct lw_role *r, const char *name)
{
	char file[64], path[PATH_MAX];

	r->name = name;
	if (run->dlopen)
		r->build = "dl";
	else if (strcmp(run->build, "mixed") == 0)
		r->build = strcmp(name, "foo") == 0 ? "pie" : "pic";
	else
		r->build = run->build;
	snprintf(file, sizeof(file), "libwatch-%s%s%s", name,
		 strcmp(r->build, "pie") == 0 ? "" : "-", strcmp(r->build, "pie") == 0 ? "" : r->build);
	if (ipc_pkglib_path(file, path, sizeof(path)) == -1 || realpath(path, r->prog) == NULL)
		err(1, "%s: not found beside ipclab", file);
}

static void
experiment(struct lw_run *run)
{
	char lib[PATH_MAX];

	if (ipc_pkglib_path(DEMO_LIB, lib, sizeof(lib)) == -1 || file_ident(lib, &run->lib) == -1)
		err(1, "%s: not found beside ipclab", DEMO_LIB);
	if (elf_load(run->lib.path, &run->elf) == -1)
		ipc_fail(1, run->lib.path, NULL);
	role_prog(run, &run->role[0], "foo");
	role_prog(run, &run->role[1], "bar");
	cleanup_run = run;
	for (int k = 0; k < 2 && !stop; k++)
		role_start(run, &run->role[k]);
	if (stop)
		ipc_failx(128 + stop, NULL, "interrupted while the roles started");
	run->denywrite = denywrite_test(run->lib.path);
	match_calls(run);
	span_pages(run);
	frames(run, false);
	if (first_write(run) == -1) {
		if (stop)
			ipc_failx(128 + stop, NULL, "interrupted before the first write of baz");
		ipc_failx(1, NULL, "the first write of baz failed");
	}
	frames(run, true);
	for (int k = 0; k < 2; k++)
		if (ipc_maps_read(run->role[k].pid, true, keep_file, &run->lib, &run->role[k].smaps) == -1)
			err(1, "/proc/%d/smaps: %s", (int)run->role[k].pid, ipc_failed_call);
	watch(run);
	for (int k = 0; k < 2; k++)
		if (role_end(&run->role[k]) == -1)
			run->failed = true;
}

/* ---- the report: each section written once, for a person or as JSON ---- */

/* A failed call of the report model: it only fails for want of memory. */
static void
must(int rc)
{
	if (rc == -1)
		err(1, "report");
}

#define finding(s, ...) must(ipc_section_finding((s), __VA_ARGS__))

/* The report being made.  The first table's heading follows the title lines
 * with no blank line between them, the later ones after a blank line. */
struct lw_out {
	struct ipc_report *r;
	bool json, headed;
};

static struct ipc_section *
section(struct lw_out *o, const char *key, const char *title, const char *table,
	const struct ipc_rcol *cols, size_t ncols)
{
	struct ipc_section *s = ipc_report_section(o->r, key, o->headed ? title : NULL);

	if (s == NULL || (!o->headed && title && ipc_put_note(s, "%s", title) == -1) ||
	    (cols && ipc_section_table(s, table, cols, ncols) == -1))
		err(1, "report");
	o->headed |= title != NULL;
	return s;
}

static struct libscols_line *
row(struct ipc_section *s)
{
	struct libscols_line *ln = ipc_row(s);

	if (ln == NULL)
		err(1, "report");
	return ln;
}

static void
str_cell(struct ipc_section *s, struct libscols_line *ln, size_t col, const char *v)
{
	must(ipc_cell_str(s, ln, col, "%s", v));
}

/* Prints the report and frees it.  A write that failed is said with the
 * reason the report model kept; a reader gone away ends the command quietly. */
static void
report_end(struct lw_out *o)
{
	if (ipc_report_end(o->r) == -1) {
		int e = errno;

		if (!ferror(stdout))
			err(1, "report");
		clearerr(stdout);
		if (e == EPIPE)
			exit(0);
		ipc_failx(1, "stdout", "write error: %s", strerror(e));
	}
	ipc_report_free(o->r);
}

static void
report_begin(struct lw_out *o, bool json)
{
	o->headed = false;
	o->json = json;
	if ((o->r = ipc_report_new(stdout, json)) == NULL)
		err(1, "report");
}

/* Does ADDR lie in one of the executable's PT_LOAD segments (its .bss
 * included, which is mapped anonymously beyond the file's last page)? */
static bool
in_executable(const struct lw_role *r, uint64_t addr)
{
	uint64_t base = UINT64_MAX;
	struct lw_file exe;
	struct lw_elf e;

	if (file_ident(r->prog, &exe) == -1 || elf_load(exe.path, &e) == -1)
		return false;
	for (size_t i = 0; i < r->maps.n; i++)
		if (map_is(&r->maps.v[i], &exe) && r->maps.v[i].off == 0 && r->maps.v[i].lo < base)
			base = r->maps.v[i].lo;
	for (size_t i = 0; base != UINT64_MAX && i < e.nseg; i++)
		if (e.seg[i].type == PT_LOAD && addr >= base + e.seg[i].vaddr &&
		    addr < base + e.seg[i].vaddr + e.seg[i].memsz)
			return true;
	return false;
}

/* Where ADDR lies in role R: "library", "executable", "other" or "none". */
static const char *
lies_in(const struct lw_run *run, const struct lw_role *r, uint64_t addr)
{
	const struct ipc_map *m = ipc_maps_find(&r->maps, addr);

	if (m == NULL)
		return "none";
	if (map_is(m, &run->lib))
		return "library";
	if (in_executable(r, addr))
		return "executable";
	return "other";
}

static void
find_addresses(const struct lw_run *run, struct ipc_section *s)
{
	const struct lw_role *a = &run->role[0], *b = &run->role[1];

	for (int k = 0; k < 2; k++) {
		const struct lw_role *r = &run->role[k];
		const char *where = lies_in(run, r, r->baz);

		if (k == 1 && strcmp(r->build, "dl") == 0 && strcmp(a->build, "dl") == 0)
			break;	/* said once for both */

		if (strcmp(where, "executable") == 0)
			finding(s, "%s is an ordinary PIE: the linker gave baz a copy "
				"relocation (R_X86_64_COPY), so &baz is in %s's own .bss (an anonymous "
				"mapping right after its file) and the library's code uses that copy "
				"through its GOT.", r->name, r->name);
		else if (strcmp(where, "library") == 0 && strcmp(r->build, "dl") == 0)
			finding(s, "%s found baz with dlsym(3): nothing is copied for a "
				"library loaded at run time, so &baz is the library's own.",
				strcmp(b->build, "dl") == 0 ? "foo and bar each" : r->name);
		else if (strcmp(where, "library") == 0)
			finding(s, "%s was built with -fPIC (or -mno-direct-extern-access "
				"would do): it reaches baz through its GOT, so &baz is the library's "
				"own, in the library's data mapping.", r->name);
	}
	if (a->setbaz - a->base == b->setbaz - b->base && a->setbaz != b->setbaz)
		finding(s, "setbaz and getbaz lie at the same offset from the "
			"library's start in both processes but at different addresses: each "
			"process's kernel placed the library at a random base (ASLR).");
}

/* The maps line that holds the call's address, and how many more lines its
 * range now spans (a later mprotect splits a mapping in two). */
static char *
call_maps(const struct lw_role *r, const struct lw_call *c, char *buf, size_t len)
{
	size_t more = 0, n;

	map_str(ipc_maps_find(&r->maps, c->addr), buf, len);
	for (size_t i = 0; i < r->maps.n; i++)
		more += r->maps.v[i].lo > c->addr && r->maps.v[i].lo < c->addr + c->len;
	n = strlen(buf);
	if (more && n < len)
		snprintf(buf + n, len - n, " (+%zu more)", more);
	return buf;
}

static void
find_calls(const struct lw_run *run, struct ipc_section *s)
{
	const struct lw_trace *t = &run->role[0].tr;
	size_t nmmap = 0, nfixed = 0, nprot = 0, ndeny = 0;

	for (size_t i = 0; i < t->n; i++) {
		nmmap += t->call[i].nr == SYS_mmap;
		nprot += t->call[i].nr == SYS_mprotect;
		nfixed += (t->call[i].flags & MAP_FIXED) != 0;
		ndeny += (t->call[i].flags & MAP_DENYWRITE) != 0;
	}
	if (t->n == 0) {
		finding(s, "No call was seen: the library was not opened while %s started.",
			run->role[0].name);
		return;
	}
	finding(s, "Loading the library took %zu mmap and %zu mprotect calls in %s: the "
		"first, without MAP_FIXED, reserves the whole span with the first segment's "
		"protection; the %zu with MAP_FIXED then replace parts of it, one per further "
		"segment, each with the protection of its segment's flags.",
		nmmap, nprot, run->role[0].name, nfixed);
	if (nprot > 0)
		finding(s, "The mprotect makes the GNU_RELRO part (.dynamic, .got) read-only "
			"once the loader has finished writing its relocations there.");
	if (ndeny > 0 && run->denywrite == 0)
		finding(s, "The loader asks for MAP_DENYWRITE, but the kernel ignores it: "
			"ipclab opened the mapped library for writing while both roles ran, and "
			"open(2) did not fail with ETXTBSY.");
	else if (ndeny > 0)
		finding(s, "The loader asks for MAP_DENYWRITE; opening the mapped library "
			"for writing failed with %s, so this run could not tell whether the kernel "
			"honours it.", strerror(run->denywrite));
}

static void
find_values(const struct lw_run *run, struct ipc_section *s)
{
	bool same = true, rising = true;

	for (size_t i = 0; i < run->nval; i++) {
		same &= run->role[0].val[i] == run->role[0].val[0];
		rising &= i == 0 || run->role[1].val[i] > run->role[1].val[i - 1];
	}
	if (run->nval > 1 && same && rising)
		finding(s, "foo read %d at every reading while bar counted from %d to %d: "
			"each process writes baz into its own private copy (MAP_PRIVATE, "
			"copy-on-write), so nothing passes between them.", run->role[0].val[0],
			run->role[1].val[0], run->role[1].val[run->nval - 1]);
	if (stop || run->failed)
		finding(s, "Stopped early: these are the readings taken before %s.",
			stop ? "the signal" : "a role stopped answering");
}

static void
find_smaps(const struct lw_run *run, struct ipc_section *s)
{
	long ro_dirty = 0, rw_private = 0;

	for (int k = 0; k < 2; k++) {
		const struct ipc_maps *ms = &run->role[k].smaps;

		for (size_t i = 0; i < ms->n; i++) {
			if (ms->v[i].perms[1] != 'w')
				ro_dirty += ms->v[i].shared_dirty;
			else
				rw_private += ms->v[i].private_dirty;
		}
	}
	if (rw_private > 0)
		finding(s, "The rw-p mappings are Private_Dirty: each process's data pages "
			"are its own copies, counted whole in its Pss.");
	if (ro_dirty > 0)
		finding(s, "Pages that nobody can write show as Shared_Dirty: the library "
			"file was written recently and the page cache has not yet written those "
			"pages back to disk; after writeback (sync(1)) they count as Shared_Clean.");
}

/* The allocated sections that overlap page I of the library, and "baz". */
static char *
page_holds(const struct lw_elf *e, size_t i, char *buf, size_t len)
{
	uint64_t lo = i * (uint64_t)pagesz, hi = lo + (uint64_t)pagesz;
	size_t n = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < e->nsect && n < len; k++)
		if (e->sect[k].addr < hi && e->sect[k].addr + e->sect[k].size > lo)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", e->sect[k].name);
	if (e->baz >= lo && e->baz < hi && n < len)
		snprintf(buf + n, len - n, "%sbaz", n ? " (" : "");
	if (e->baz >= lo && e->baz < hi && n && strlen(buf) + 1 < len)
		strcat(buf, ")");
	return buf;
}

static const char *
page_perms(const struct lw_role *r, size_t i)
{
	const struct ipc_map *m = ipc_maps_find(&r->maps, r->base + i * (uint64_t)pagesz);

	return m ? m->perms : "";
}

/* One word for what page I holds, for the picture. */
static const char *
page_kind(const struct lw_run *run, size_t i)
{
	const struct lw_role *a = &run->role[0];
	const char *perms = page_perms(a, i);
	uint64_t lo = i * (uint64_t)pagesz;

	if (run->elf.baz >= lo && run->elf.baz < lo + (uint64_t)pagesz)
		return "baz";
	if (strchr(perms, 'x'))
		return "code";
	if (perms[1] == 'w')
		return "data";
	if (i == 0)
		return "header";
	return lo >= trunc_pg(run->elf.seg[run->elf.nseg - 1].vaddr) ? "relro" : "rodata";
}

/* One cell: one frame for both, two frames, or not resident in one. */
static const char *
share_mark(int64_t a, int64_t b)
{
	bool u = ipc_utf8();

	if (a <= 0 || b <= 0)
		return u ? "\u00b7\u00b7" : "..";
	return a == b ? (u ? "\u2550\u2550" : "==") : (u ? "\u2260\u2260" : "<>");
}

/* One row of the picture, cells 8 columns apart, no trailing blank, as a
 * footnote of the frames' section. */
static void
draw_row(struct ipc_section *s, const struct lw_run *run, const char *label,
	 const char *(*cell)(const struct lw_run *, size_t, char *))
{
	char line[MAXPAGE * 24 + 32], buf[32];
	size_t n = (size_t)snprintf(line, sizeof(line), "  %-8s", label);

	for (size_t i = 0; i < run->npage && n < sizeof(line); i++) {
		size_t w = mbstowcs(NULL, cell(run, i, buf), 0);

		if (w == (size_t)-1)
			w = strlen(buf);
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s%*s", buf,
				      w < 7 ? 7 - (int)w : 0, "");
	}
	while (n > 0 && n < sizeof(line) && line[n - 1] == ' ')
		line[--n] = '\0';
	must(ipc_put_footnote(s, "%s", line));
}

static const char *
cell_page(const struct lw_run *run, size_t i, char *buf)
{
	(void)run;
	snprintf(buf, 32, "%#zx", i * (size_t)pagesz);
	return buf;
}

static const char *
cell_kind(const struct lw_run *run, size_t i, char *buf)
{
	snprintf(buf, 32, "%s", page_kind(run, i));
	return buf;
}

static const char *
cell_before(const struct lw_run *run, size_t i, char *buf)
{
	snprintf(buf, 32, "%s", share_mark(run->role[0].before[i], run->role[1].before[i]));
	return buf;
}

static const char *
cell_after(const struct lw_run *run, size_t i, char *buf)
{
	snprintf(buf, 32, "%s", share_mark(run->role[0].after[i], run->role[1].after[i]));
	return buf;
}

static bool
frames_differ(const int64_t *a, const int64_t *b, size_t i)
{
	return a[i] > 0 && b[i] > 0 && a[i] != b[i];
}

static void
find_frames(const struct lw_run *run, struct ipc_section *s)
{
	const struct lw_role *a = &run->role[0], *b = &run->role[1];
	size_t bazpg = (size_t)(run->elf.baz / (uint64_t)pagesz);
	bool code = false, code_same = true, data_priv = false;

	if (run->hidden) {
		finding(s, "Frame numbers need root: /proc/PID/pagemap shows them as 0 "
			"to other users, so this run cannot compare them.");
		return;
	}
	for (size_t i = 0; i < run->npage; i++) {
		if (strchr(page_perms(a, i), 'x') && a->after[i] > 0) {
			code = true;
			code_same &= a->after[i] == b->after[i];
		} else if (i != bazpg && page_perms(a, i)[0] && trunc_pg(i * (uint64_t)pagesz) >=
			   trunc_pg(run->elf.seg[run->elf.nseg - 1].vaddr)) {
			data_priv |= frames_differ(a->before, b->before, i);
		}
	}
	if (code && code_same)
		finding(s, "The code is one frame in both processes: each maps the page "
			"cache's copy of the file, and nothing was copied.");
	if (data_priv)
		finding(s, "The data segment's pages (.got, .data) were already two frames "
			"before anyone wrote baz: the dynamic loader wrote its relocations there, and "
			"that first write made each process's copy private.");
	if (bazpg < run->npage && a->before[bazpg] > 0 && a->before[bazpg] == b->before[bazpg] &&
	    frames_differ(a->after, b->after, bazpg))
		finding(s, "baz's own page was one frame in both processes until the first "
			"write, and two after it: writing a MAP_PRIVATE page gives the writer a copy "
			"of its own (copy-on-write).");
	else if (bazpg < run->npage && a->after[bazpg] > 0 && a->after[bazpg] == b->after[bazpg])
		finding(s, "baz's page in the library is still one frame in both: with copy "
			"relocations, each process wrote its executable's copy of baz, never the "
			"library's.");
}

/* The title lines; the path and the run's kind as JSON members. */
static void
put_library(struct lw_out *o, const struct lw_run *run)
{
	struct ipc_section *s = section(o, "library", NULL, NULL, NULL, 0);
	char buf[PATH_MAX];

	must(ipc_put_note(s, "libwatch: %s", ipc_shorten(run->lib.path, 90, buf, sizeof(buf))));
	if (run->dlopen)
		must(ipc_put_note(s, "loaded with dlopen(3) by foo (%s, pid %d) and bar (%s, pid %d)",
				  base_name(run->role[0].prog), (int)run->role[0].pid_shown,
				  base_name(run->role[1].prog), (int)run->role[1].pid_shown));
	else
		must(ipc_put_note(s, "loaded by foo (%s: %s, pid %d) and bar (%s: %s, pid %d)",
				  base_name(run->role[0].prog), run->role[0].build,
				  (int)run->role[0].pid_shown, base_name(run->role[1].prog),
				  run->role[1].build, (int)run->role[1].pid_shown));
	must(ipc_put_str(s, "path", NULL, run->lib.path));
	must(ipc_put_bool(s, "dlopen", NULL, run->dlopen));
	must(ipc_put_bool(s, "interrupted", NULL, stop != 0));
}

/* The roles in full, for a program (a person read them in the title lines). */
static void
put_roles(struct lw_out *o, const struct lw_run *run)
{
	static const struct ipc_rcol cols[] = {
		{ "ROLE", "role", IPC_STR, NULL, 0, 0 }, { "PID", "pid", IPC_INT, NULL, 0, 0 },
		{ "PROGRAM", "program", IPC_STR, NULL, 0, 0 },
		{ "BUILD", "build", IPC_STR, NULL, 0, 0 }, { "BASE", "base", IPC_ADDR, NULL, 0, 0 },
	};
	struct ipc_section *s;

	if (!o->json)
		return;
	s = section(o, "roles", NULL, "roles", cols, 5);
	for (int k = 0; k < 2; k++) {
		const struct lw_role *r = &run->role[k];
		struct libscols_line *ln = row(s);

		str_cell(s, ln, 0, r->name);
		must(ipc_cell_int(s, ln, 1, r->pid_shown));
		str_cell(s, ln, 2, r->prog);
		str_cell(s, ln, 3, r->build);
		must(ipc_cell_addr(s, ln, 4, r->base));
	}
}

static void
put_addresses(struct lw_out *o, const struct lw_run *run)
{
	static const struct ipc_rcol cols[] = {
		{ "ROLE", "role", IPC_STR, NULL, 0, 0 }, { "SYMBOL", "symbol", IPC_STR, NULL, 0, 0 },
		{ "ADDRESS", "address", IPC_ADDR, NULL, 0, 0 }, { "IN", "in", IPC_STR, NULL, 0, 0 },
		{ "MAPPING (/proc/PID/maps)", "mapping", IPC_STR, NULL, 0, 0 },
	};
	static const char *const sym[] = { "setbaz", "getbaz", "baz" };
	struct ipc_section *s = section(o, "addresses", "Addresses of setbaz, getbaz and baz "
					"in each process", "symbols", cols, 5);

	for (int k = 0; k < 2; k++) {
		const struct lw_role *r = &run->role[k];
		const uint64_t addr[] = { r->setbaz, r->getbaz, r->baz };

		for (int i = 0; i < 3; i++) {
			struct libscols_line *ln = row(s);
			char m[400];

			str_cell(s, ln, 0, r->name);
			str_cell(s, ln, 1, sym[i]);
			must(ipc_cell_addr(s, ln, 2, addr[i]));
			str_cell(s, ln, 3, lies_in(run, r, addr[i]));
			str_cell(s, ln, 4, map_str(ipc_maps_find(&r->maps, addr[i]), m, sizeof(m)));
		}
	}
	find_addresses(run, s);
}

static void
put_segments(struct lw_out *o, const char *path, const struct lw_elf *e)
{
	static const struct ipc_rcol cols[] = {
		{ "SEGMENT", "segment", IPC_STR, NULL, 0, 0 },
		{ "OFFSET", "offset", IPC_UINT, "0x%llx", 0, 0 },
		{ "VADDR", "vaddr", IPC_ADDR, NULL, 0, 0 },
		{ "FILESZ", "filesz", IPC_UINT, "0x%llx", 0, 0 },
		{ "MEMSZ", "memsz", IPC_UINT, "0x%llx", 0, 0 },
		{ "FLAGS", "flags", IPC_STR, NULL, 0, 0 }, { "HOLDS", "holds", IPC_STR, NULL, 0, 0 },
		{ "TYPE", "type", IPC_STR, NULL, 0, SCOLS_FL_HIDDEN },
		{ "ALIGN", "align", IPC_UINT, NULL, 0, SCOLS_FL_HIDDEN },
	};
	char title[PATH_MAX + 64];
	struct ipc_section *s;

	snprintf(title, sizeof(title), "Segments of %s (ELF program headers)", path);
	s = section(o, "segments", title, "headers", cols, 9);
	for (size_t i = 0; i < e->nseg; i++) {
		const struct ipc_elf_seg *g = &e->seg[i];
		struct libscols_line *ln = row(s);
		char fl[4];

		if (g->type == PT_LOAD)
			must(ipc_cell_str(s, ln, 0, "LOAD %d", load_index(e, (int)i)));
		else
			str_cell(s, ln, 0, seg_type(g->type));
		must(ipc_cell_uint(s, ln, 1, g->off));
		must(ipc_cell_addr(s, ln, 2, g->vaddr));
		must(ipc_cell_uint(s, ln, 3, g->filesz));
		must(ipc_cell_uint(s, ln, 4, g->memsz));
		str_cell(s, ln, 5, seg_flags(g->flags, fl));
		str_cell(s, ln, 6, seg_kind(g));
		str_cell(s, ln, 7, seg_type(g->type));
		must(ipc_cell_uint(s, ln, 8, g->align));
	}
}

/* FLAGS without their "MAP_", so that the table fits 100 columns. */
static char *
short_flags(int flags, char *buf, size_t len)
{
	char fl[64], *w = buf;
	const char *f = fl;

	ipc_mapflags_str(flags, fl, sizeof(fl));
	while (*f && w < buf + len - 1) {
		if (strncmp(f, "MAP_", 4) == 0)
			f += 4;
		*w++ = *f ? *f++ : '\0';
	}
	*w = '\0';
	return buf;
}

/* The call's cells; those an mprotect does not have are left empty (null). */
static void
call_cells(struct ipc_section *s, struct libscols_line *ln, const struct lw_role *r,
	   const struct lw_call *c)
{
	char fl[64];

	str_cell(s, ln, 0, r->name);
	str_cell(s, ln, 1, ipc_syscall_name(c->nr));
	must(ipc_cell_addr(s, ln, 2, c->addr));
	must(ipc_cell_uint(s, ln, 3, c->len));
	must(ipc_cell_str(s, ln, 4, "%c%c%c", c->prot & PROT_READ ? 'r' : '-',
			  c->prot & PROT_WRITE ? 'w' : '-', c->prot & PROT_EXEC ? 'x' : '-'));
	if (c->nr == SYS_mmap) {
		str_cell(s, ln, 5, short_flags(c->flags, fl, sizeof(fl)));
		must(ipc_cell_int(s, ln, 6, c->fd));
		must(ipc_cell_uint(s, ln, 7, c->off));
	}
	if (c->what[0])
		str_cell(s, ln, 8, c->what);
}

static void
put_calls(struct lw_out *o, const struct lw_run *run)
{
	static const struct ipc_rcol cols[] = {
		{ "ROLE", "role", IPC_STR, NULL, 0, 0 }, { "CALL", "call", IPC_STR, NULL, 0, 0 },
		{ "ADDR", "addr", IPC_ADDR, NULL, 0, 0 },
		{ "LENGTH", "length", IPC_UINT, NULL, 0, 0 },
		{ "PROT", "prot", IPC_STR, NULL, 0, 0 }, { "FLAGS", "flags", IPC_STR, NULL, 0, 0 },
		{ "FD", "fd", IPC_INT, NULL, 0, 0 },
		{ "OFFSET", "offset", IPC_UINT, "0x%llx", 0, 0 },
		{ "SEGMENT", "segment", IPC_STR, NULL, 0, 0 },
	};
	static const struct ipc_rcol mcols[] = {
		{ "ROLE", "role", IPC_STR, NULL, 0, 0 }, { "ADDR", "addr", IPC_ADDR, NULL, 0, 0 },
		{ "MAPS LINE", "maps_line", IPC_STR, NULL, 0, 0 },
	};
	struct ipc_section *s = section(o, "load_calls", "The library's mmap and mprotect calls while "
					"it loaded (ptrace)", "calls", cols, 9), *ms;

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < run->role[k].tr.n; i++)
			call_cells(s, row(s), &run->role[k], &run->role[k].tr.call[i]);
	ms = section(o, "mmaps", "Where each call's range lies now (/proc/PID/maps)",
		     "ranges", mcols, 3);
	for (int k = 0; k < 2; k++) {
		const struct lw_role *r = &run->role[k];

		for (size_t i = 0; i < r->tr.n; i++) {
			struct libscols_line *ln = row(ms);
			char m[400];

			str_cell(ms, ln, 0, r->name);
			must(ipc_cell_addr(ms, ln, 1, r->tr.call[i].addr));
			str_cell(ms, ln, 2, call_maps(r, &r->tr.call[i], m, sizeof(m)));
		}
	}
	find_calls(run, ms);
}

static void
put_values(struct lw_out *o, const struct lw_run *run)
{
	static const struct ipc_rcol cols[] = {
		{ "TIME", "time", IPC_REAL, "%.2fs", 0, 0 }, { "FOO", "foo", IPC_INT, NULL, 0, 0 },
		{ "BAR", "bar", IPC_INT, NULL, 0, 0 },
	};
	struct ipc_section *s = section(o, "values", "baz as each process sees it (foo reads, "
					"bar increments)", "readings", cols, 3);

	for (size_t i = 0; i < run->nval; i++) {
		struct libscols_line *ln = row(s);

		must(ipc_cell_num(s, ln, 0, run->tick_s[i]));
		must(ipc_cell_int(s, ln, 1, run->role[0].val[i]));
		must(ipc_cell_int(s, ln, 2, run->role[1].val[i]));
	}
	find_values(run, s);
}

/* The smaps table: no file offset for a person (JSON has it, and the
 * mapping's bounds as addresses), so that it fits 100 columns. */
static void
put_smaps(struct lw_out *o, const struct lw_run *run)
{
	static const struct ipc_rcol cols[] = {
		{ "ROLE", "role", IPC_STR, NULL, 0, 0 }, { "MAPPING", "mapping", IPC_STR, NULL, 0, 0 },
		{ "PERMS", "perms", IPC_STR, NULL, 0, 0 }, { "RSS", "rss", IPC_INT, NULL, 0, 0 },
		{ "PSS", "pss", IPC_INT, NULL, 0, 0 },
		{ "SHARED_CLEAN", "shared_clean", IPC_INT, NULL, 0, 0 },
		{ "SHARED_DIRTY", "shared_dirty", IPC_INT, NULL, 0, 0 },
		{ "PRIVATE_CLEAN", "private_clean", IPC_INT, NULL, 0, 0 },
		{ "PRIVATE_DIRTY", "private_dirty", IPC_INT, NULL, 0, 0 },
		{ "START", "start", IPC_ADDR, NULL, 0, SCOLS_FL_HIDDEN },
		{ "END", "end", IPC_ADDR, NULL, 0, SCOLS_FL_HIDDEN },
		{ "OFFSET", "offset", IPC_UINT, NULL, 0, SCOLS_FL_HIDDEN },
	};
	struct ipc_section *s = section(o, "smaps", "What is shared: the library's mappings in "
					"/proc/PID/smaps (kB), after the first write", "mappings",
					cols, 12);

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < run->role[k].smaps.n; i++) {
			const struct ipc_map *m = &run->role[k].smaps.v[i];
			const long kb[] = { m->rss, m->pss, m->shared_clean, m->shared_dirty,
					    m->private_clean, m->private_dirty };
			struct libscols_line *ln = row(s);

			str_cell(s, ln, 0, run->role[k].name);
			must(ipc_cell_str(s, ln, 1, "%" PRIx64 "-%" PRIx64, m->lo, m->hi));
			str_cell(s, ln, 2, m->perms);
			for (size_t c = 0; c < 6; c++)
				must(ipc_cell_int(s, ln, 3 + c, kb[c]));
			must(ipc_cell_addr(s, ln, 9, m->lo));
			must(ipc_cell_addr(s, ln, 10, m->hi));
			must(ipc_cell_uint(s, ln, 11, m->off));
		}
	find_smaps(run, s);
}

/* The library's pages side by side: what each holds, and whether foo and
 * bar share its frame before and after the first write. */
static void
draw_frames(struct ipc_section *s, const struct lw_run *run)
{
	must(ipc_put_footnote(s, "%s", ""));
	draw_row(s, run, "page", cell_page);
	draw_row(s, run, "holds", cell_kind);
	draw_row(s, run, "before", cell_before);
	draw_row(s, run, "after", cell_after);
	must(ipc_put_footnote(s, "  (%s one frame in both processes, %s two frames, %s not "
			      "resident in one)", share_mark(1, 1), share_mark(1, 2),
			      share_mark(-1, -1)));
}

/* What each page of the library holds: its sections, from the ELF section
 * headers (a table of its own, so that the frames fit a terminal). */
static void
put_pages(struct lw_out *o, const struct lw_run *run)
{
	static const struct ipc_rcol cols[] = {
		{ "PAGE", "page", IPC_UINT, "%#llx", 0, 0 },
		{ "PERMS", "perms", IPC_STR, NULL, 0, 0 }, { "HOLDS", "holds", IPC_STR, NULL, 0, 0 },
	};
	struct ipc_section *s = section(o, "pages", "The library's pages in foo and what they "
					"hold (ELF section headers)", "pages", cols, 3);

	for (size_t i = 0; i < run->npage; i++) {
		struct libscols_line *ln = row(s);
		char holds[200];

		must(ipc_cell_uint(s, ln, 0, i * (uint64_t)pagesz));
		str_cell(s, ln, 1, page_perms(&run->role[0], i));
		str_cell(s, ln, 2, page_holds(&run->elf, i, holds, sizeof(holds)));
	}
}

/* A frame: its number, "hidden" when the kernel hides it, "-" when the
 * page is not resident; JSON has the number as an address, or null. */
static void
frame_cell(struct ipc_section *s, struct libscols_line *ln, size_t col, int64_t f)
{
	if (f > 0)
		must(ipc_cell_addr(s, ln, col, (uint64_t)f));
	else
		must(ipc_cell_null_as(s, ln, col, f == 0 ? "hidden" : "-"));
}

static void
put_frames(struct lw_out *o, const struct lw_run *run)
{
	static const struct ipc_rcol cols[] = {
		{ "PAGE", "page", IPC_UINT, "%#llx", 0, 0 },
		{ "FOO BEFORE", "foo_before", IPC_ADDR, NULL, 0, 0 },
		{ "BAR BEFORE", "bar_before", IPC_ADDR, NULL, 0, 0 },
		{ "FOO AFTER", "foo_after", IPC_ADDR, NULL, 0, 0 },
		{ "BAR AFTER", "bar_after", IPC_ADDR, NULL, 0, 0 },
		{ "SHARED", "shared", IPC_BOOL, NULL, 0, 0 },
	};
	const struct lw_role *a = &run->role[0], *b = &run->role[1];
	struct ipc_section *s = section(o, "frames", "Physical frames of those pages "
					"(/proc/PID/pagemap), before and after the first write "
					"of baz", "frames", cols, 6);

	for (size_t i = 0; i < run->npage; i++) {
		struct libscols_line *ln = row(s);

		must(ipc_cell_uint(s, ln, 0, i * (uint64_t)pagesz));
		frame_cell(s, ln, 1, a->before[i]);
		frame_cell(s, ln, 2, b->before[i]);
		frame_cell(s, ln, 3, a->after[i]);
		frame_cell(s, ln, 4, b->after[i]);
		if (a->after[i] > 0 && b->after[i] > 0)
			must(ipc_cell_num(s, ln, 5, a->after[i] == b->after[i]));
		else
			must(ipc_cell_null_as(s, ln, 5, "?"));
	}
	if (!run->hidden)
		draw_frames(s, run);
	find_frames(run, s);
}

static void
report_experiment(const struct lw_run *run)
{
	struct lw_out o;

	report_begin(&o, run->json);
	put_library(&o, run);
	put_roles(&o, run);
	put_addresses(&o, run);
	put_segments(&o, base_name(run->lib.path), &run->elf);
	put_calls(&o, run);
	put_values(&o, run);
	put_smaps(&o, run);
	put_pages(&o, run);
	put_frames(&o, run);
	report_end(&o);
}

/* ---- ipclab libwatch LIBRARY: who maps it, and how much of it is shared ---- */

struct lw_proc {
	pid_t pid;
	char comm[32];
	size_t nmaps;
	long rss, pss, shared, private, swap;
};

/* A path, or a name that the dynamic loader resolves as dlopen(3) in ipclab
 * would: the loader itself is asked, in a child, so the library's
 * constructors never run in ipclab (core/ldso.c). */
static void
resolve(const char *arg, struct lw_file *f)
{
	char path[PATH_MAX], why[PATH_MAX + 128];

	if (strchr(arg, '/')) {
		if (file_ident(arg, f) == -1)
			err(1, "%s: %s", arg, ipc_failed_call);
		return;
	}
	if (ipc_ldso_resolve(arg, RESOLVE_MS, &stop, path, sizeof(path), why, sizeof(why)) == -1) {
		if (errno == EINTR && stop)
			ipc_failx(128 + stop, NULL, "interrupted while the dynamic loader looked for %s",
				  arg);
		if (errno == ETIMEDOUT)
			errx(1, "%s: the dynamic loader gave no answer in %d s, and was killed%s%s",
			     arg, RESOLVE_MS / 1000, why[0] ? ": " : "", why);
		if (why[0])
			errx(1, "%s: %s: %s", arg, ipc_failed_call, why);
		err(1, "%s: %s", arg, ipc_failed_call);
	}
	if (file_ident(path, f) == -1)
		err(1, "%s: %s: %s", arg, path, ipc_failed_call);
}

/* Sums the mappings of F in process PID.  Returns 1 when it maps F, 0 when
 * not (or it is gone), -1 when its smaps cannot be read. */
static int
proc_usage(pid_t pid, const struct lw_file *f, struct lw_proc *p)
{
	struct ipc_maps ms;

	if (ipc_maps_read(pid, true, keep_file, (void *)f, &ms) == -1)
		return errno == EACCES || errno == EPERM ? -1 : 0;
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->nmaps = ms.n;
	for (size_t i = 0; i < ms.n; i++) {
		p->rss += ms.v[i].rss;
		p->pss += ms.v[i].pss;
		p->shared += ms.v[i].shared_clean + ms.v[i].shared_dirty;
		p->private += ms.v[i].private_clean + ms.v[i].private_dirty;
		p->swap += ms.v[i].swap;
	}
	ipc_maps_free(&ms);
	if (p->nmaps == 0)
		return 0;
	(void)ipc_comm_read(pid, p->comm, sizeof(p->comm));	/* "" when gone */
	return 1;
}

static int
by_pid(const void *a, const void *b)
{
	const struct lw_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

struct lw_scan {
	const struct lw_file *f;
	struct lw_proc *v;
	size_t n, alloc, unreadable;
};

static int
scan_one(pid_t pid, void *arg)
{
	struct lw_scan *sc = arg;
	struct lw_proc p;
	int r;

	if ((r = proc_usage(pid, sc->f, &p)) == -1)
		sc->unreadable++;
	if (r != 1)
		return 0;
	if (sc->n == sc->alloc &&
	    (sc->v = reallocarray(sc->v, sc->alloc = sc->alloc * 2 + 64, sizeof(p))) == NULL)
		err(1, "malloc");
	sc->v[sc->n++] = p;
	return 0;
}

/* Every process that maps F, sorted by pid; *unreadable counts the others. */
static struct lw_proc *
procs_scan(const struct lw_file *f, size_t *n, size_t *unreadable)
{
	struct lw_scan sc = { .f = f };

	if (ipc_pid_scan(scan_one, &sc) == -1)
		err(1, "/proc: %s", ipc_failed_call);
	if (sc.n > 0)	/* no process maps it: v is NULL, which qsort may not take */
		qsort(sc.v, sc.n, sizeof(*sc.v), by_pid);
	*n = sc.n;
	*unreadable = sc.unreadable;
	return sc.v;
}

/* One row of the processes' table; P NULL for the total of SUM. */
static void
proc_row(struct ipc_section *s, const struct lw_proc *p, const struct lw_proc *sum)
{
	struct libscols_line *ln = row(s);
	const struct lw_proc *q = p ? p : sum;
	const long kb[] = { q->rss, q->pss, q->shared, q->private };

	if (p) {
		must(ipc_cell_int(s, ln, 0, p->pid));
		str_cell(s, ln, 1, p->comm);
	} else {
		must(ipc_cell_null_as(s, ln, 0, "total"));
	}
	must(ipc_cell_uint(s, ln, 2, q->nmaps));
	for (size_t c = 0; c < 4; c++)
		must(ipc_cell_int(s, ln, 3 + c, kb[c]));
}

static void
put_procs(struct lw_out *o, const struct lw_proc *v, size_t n, const struct lw_proc *sum,
	  size_t unreadable)
{
	static const struct ipc_rcol cols[] = {
		{ "PID", "pid", IPC_INT, NULL, 0, 0 }, { "COMMAND", "command", IPC_STR, NULL, 0, 0 },
		{ "MAPS", "maps", IPC_UINT, NULL, 0, 0 }, { "RSS", "rss", IPC_INT, NULL, 0, 0 },
		{ "PSS", "pss", IPC_INT, NULL, 0, 0 }, { "SHARED", "shared", IPC_INT, NULL, 0, 0 },
		{ "PRIVATE", "private", IPC_INT, NULL, 0, 0 },
	};
	struct ipc_section *s = section(o, "processes", "Processes that map it "
					"(/proc/PID/smaps, kB)", "processes", cols, 7);

	must(ipc_put_uint(s, "unreadable", NULL, unreadable));
	for (size_t i = 0; i < n; i++)
		proc_row(s, &v[i], sum);
	proc_row(s, NULL, sum);
	if (unreadable)
		must(ipc_put_footnote(s, "(not counted: %zu process%s whose smaps could not be "
				      "read)", unreadable, unreadable == 1 ? "" : "es"));
	if (n > 1)
		finding(s, "PSS divides each shared page among the processes that map it, so the "
			"total PSS (%ld kB) is what the library really costs, while the RSS total "
			"(%ld kB) counts shared pages once per process.", sum->pss, sum->rss);
}

static int
library_main(const char *arg, bool json)
{
	struct lw_file f;
	struct lw_elf e;
	struct lw_proc *v, sum = { .pid = 0 };
	size_t n, unreadable;
	struct lw_out o;
	struct ipc_section *s;
	char buf[PATH_MAX];

	resolve(arg, &f);
	if (elf_load(f.path, &e) == -1)
		ipc_fail(1, f.path, NULL);
	v = procs_scan(&f, &n, &unreadable);
	for (size_t i = 0; i < n; i++) {
		sum.nmaps += v[i].nmaps;
		sum.rss += v[i].rss;
		sum.pss += v[i].pss;
		sum.shared += v[i].shared;
		sum.private += v[i].private;
	}
	report_begin(&o, json);
	s = section(&o, "library", NULL, NULL, NULL, 0);
	must(ipc_put_note(s, "libwatch: %s", ipc_shorten(f.path, 90, buf, sizeof(buf))));
	must(ipc_put_str(s, "path", NULL, f.path));
	put_segments(&o, base_name(f.path), &e);
	put_procs(&o, v, n, &sum, unreadable);
	report_end(&o);
	free(v);
	return stop ? 128 + stop : 0;
}

/* ---- options ---- */

static double
seconds_arg(const char *opt, const char *s, double min)
{
	const char *errstr;
	double d;

	if (ipc_parse_seconds(s, 3600, &d, &errstr) == -1)
		ipc_usage("%s '%s': %s", opt, s, errstr);
	if (d < min)
		ipc_usage("%s '%s': too small", opt, s);
	return d;
}

/* Parses the command line into RUN; returns LIBRARY, or NULL for the
 * experiment. */
static const char *
parse_args(int argc, char **argv, struct lw_run *run)
{
	static const struct option longopts[] = {
		{ "build", required_argument, NULL, 'b' },
		{ "dlopen", no_argument, NULL, 'D' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'J' },
		IPC_COMMON_LONGOPTS, { NULL, 0, NULL, 0 }
	};
	bool experiment_opts = false;
	int c;

	while ((c = getopt_long(argc, argv, "b:d:i:jJhV", longopts, NULL)) != -1) {
		if (ipc_common_option(c, &help))
			continue;
		experiment_opts |= c != 'j' && c != 'J';
		switch (c) {
		case 'b':
			if (strcmp(optarg, "mixed") && strcmp(optarg, "pie") && strcmp(optarg, "pic"))
				ipc_usage("--build '%s': not mixed, pie or pic", optarg);
			run->build = optarg;
			break;
		case 'D': run->dlopen = true; break;
		case 'd': run->duration = seconds_arg("--duration", optarg, 0); break;
		case 'i': run->interval = seconds_arg("--interval", optarg, 0.01); break;
		case 'j': case 'J': run->json = true; break;
		}
	}
	if (argc - optind > 1)
		ipc_usage("one LIBRARY at most");
	if (argc - optind == 1 && argv[optind][0] == '\0')
		ipc_usage("LIBRARY '': an empty name (dlopen(3) would take it for ipclab itself)");
	if (argc - optind == 1 && experiment_opts)
		ipc_usage("--build, --dlopen, --duration and --interval are for the experiment, "
			  "not for LIBRARY");
	if (run->dlopen && strcmp(run->build, "mixed") != 0)
		ipc_usage("--build is for linked roles, not for --dlopen");
	if (run->duration / run->interval >= MAXTICK - 1)
		ipc_usage("--duration / --interval: more than %d readings", MAXTICK - 2);
	return argc - optind == 1 ? argv[optind] : NULL;
}

int
libwatch_main(int argc, char **argv)
{
	static struct lw_run run = { .duration = 3, .interval = 0.5, .build = "mixed" };
	const char *library = parse_args(argc, argv, &run);

	if ((pagesz = sysconf(_SC_PAGESIZE)) <= 0)
		err(1, "sysconf");
	/* A reader gone away is EPIPE at a write: the command ends quietly. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	if (ipc_sig_handle(SIGINT, on_signal, false) == -1 ||
	    ipc_sig_handle(SIGTERM, on_signal, false) == -1)
		err(1, "sigaction");
	if (library)
		return library_main(library, run.json);
	atexit(cleanup);
	experiment(&run);
	report_experiment(&run);
	if (stop)
		return 128 + stop;
	return run.failed ? 1 : 0;
}
