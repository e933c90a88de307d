// COMMAND(mallocprobe, "find glibc malloc's boundary tags and its heap-to-mmap switch by experiment")
/*
 * ipclab mallocprobe [options]
 *
 * Answers seed 002's lab step 1 by experiment on this machine: what the 8
 * bytes before a malloc'ed pointer (the chunk's size field, its "boundary
 * tag") hold, which low bit means "previous chunk in use" (0x1 PREV_INUSE),
 * "allocated with mmap" (0x2 IS_MMAPPED) and "not from the main arena" (0x4
 * NON_MAIN_ARENA), where malloc switches from the heap to mmap(2), and what
 * it asks the kernel for.
 *
 * Options:
 *   -s, --size N        probe request N alone (fresh and drained); repeatable
 *   -f, --from N        first rung of the ladder (16)
 *   -t, --to N          last rung of the ladder (1048576); rungs double
 *   -S, --section LIST  run only these sections: ladder, bits, switch,
 *                       kernel, dynamic, tunables (comma-separated)
 *   -j, --json          one JSON document on stdout
 *
 * The experiment: every measurement that depends on the heap's state runs
 * in a child that re-executes /proc/self/exe with a hidden argument.  A
 * constructor in this file catches that argument and runs the probe before
 * main(), before the dispatcher or anything else has touched the heap, so
 * the child's heap is as fresh as a new program's, and malloc has read the
 * child's environment (MALLOC_MMAP_THRESHOLD_, GLIBC_TUNABLES) at its start.
 * (A fork of ipclab would inherit ipclab's used heap and settings.)  The
 * parent traces the child with ptrace, as strace does, and sees every mmap,
 * munmap and brk that malloc makes.  The child marks the start of each step
 * with a getppid() call whose first argument carries the step number, so
 * each system call is attributed to the malloc or free that made it.  The
 * child writes its readings (address, tag, prev_size, malloc_usable_size)
 * with write(2) from a static buffer: stdio would allocate.  The hidden
 * form is "ipclab mallocprobe --probe-child KIND N ARG"; KIND is ladder,
 * one, tcache, fastbin, unsorted, mmapped, arena or dynamic.  A "drained"
 * probe first uses up the top chunk (its size is mallinfo2().keepcost), so
 * the request cannot be carved from it.
 *
 * The report: the ladder (one process allocating doubling sizes, as the seed
 * does), the bit experiments (tcache, fastbin, unsorted bin, mmap, second
 * arena), the switch found by bisection in fresh and in drained processes,
 * the mmap lengths seen in the trace, the dynamic threshold, and the tunables
 * in effect (from ld.so --list-tunables, which reads the same environment).
 * If malloc is not glibc's (a preloaded allocator, musl, a sanitizer), it
 * says so and stops.
 */
#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ipclab/cli.h"
#include "ipclab/map.h"
#include "ipclab/num.h"
#include "ipclab/out.h"
#include "ipclab/proc.h"
#include "ipclab/report.h"
#include "ipclab/sig.h"
#include "ipclab/trace.h"

#define PREV_INUSE	0x1
#define IS_MMAPPED	0x2
#define NON_MAIN_ARENA	0x4
#define TAG_BITS	0x7

#define PROBE_ARG	"--probe-child"
#define MARK_MAGIC	0x6d616c6c0000UL	/* "mall" in the high bits */
#define MARK_NONE	0xffffUL
#define MAX_RUNGS	40
#define MAX_SIZES	8
#define BIG_PROBE	(64UL << 20)	/* above any threshold glibc accepts */

/* ---------------------------------------------------------------------
 * The probe child.  Runs from a constructor in a fresh exec, and must not
 * allocate anything but what it measures: no stdio, no core helpers.
 * --------------------------------------------------------------------- */

static char pout[16384];
static size_t pout_len;
static void *volatile keep;	/* keeps fillers alive and unoptimised */

static void __attribute__((format(printf, 1, 2)))
pput(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(pout + pout_len, sizeof(pout) - pout_len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(pout) - pout_len)
		pout_len += (size_t)n;
}

static int
pflush(void)
{
	for (size_t off = 0; off < pout_len;) {
		ssize_t n = write(STDOUT_FILENO, pout + off, pout_len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		off += (size_t)n;
	}
	return 0;
}

/* Tells the tracer that the calls from here on belong to STEP. */
static void
mark(unsigned long step)
{
	syscall(SYS_getppid, MARK_MAGIC | step);
}

/* Hides where p came from, so the compiler lets us read the header before it. */
static uint64_t *
hdr(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return p;
}

/* One reading: the tag (size field) and prev_size of the chunk of p; the
 * usable size only for a chunk in use. */
static void
emit(int step, const char *what, size_t req, void *p, bool live)
{
	uint64_t *h = hdr(p);
	int e = errno;

	if (p == NULL) {	/* a failed malloc: its errno in the prev_size field */
		pput("R %d %zu 0 0 %#x 0 %s\n", step, req, (unsigned)e, what);
		return;
	}
	pput("R %d %zu %#lx %#lx %#lx %zu %s\n", step, req, (unsigned long)(uintptr_t)p,
	     (unsigned long)h[-1], (unsigned long)h[-2], live ? malloc_usable_size(p) : 0, what);
}

static void
stat_line(const char *name, size_t v)
{
	pput("S %s %zu\n", name, v);
}

static void
probe_ladder(size_t from, size_t to)
{
	size_t r = from;

	for (int i = 0; i < MAX_RUNGS && r <= to; i++) {
		void *p;

		mark((unsigned long)i);
		p = malloc(r);
		mark(MARK_NONE);
		emit(i, "malloc", r, p, true);
		if (r > SIZE_MAX / 2)
			break;
		r *= 2;
	}
}

/* Uses up the top chunk, so that the next request cannot be carved from it. */
static void
drain(void)
{
	size_t top;

	keep = malloc(16);
	top = mallinfo2().keepcost;
	if (top > 64)
		keep = malloc(top - 64);
	stat_line("top_before", mallinfo2().keepcost);
}

static void
probe_one(size_t req, bool drained)
{
	void *p;

	if (drained)
		drain();
	mark(1);
	p = malloc(req);
	mark(MARK_NONE);
	emit(1, "malloc", req, p, true);
	stat_line("top_after", mallinfo2().keepcost);
	stat_line("heap_after", mallinfo2().arena);
	mark(2);
	free(p);
	mark(MARK_NONE);
}

/* A and B are neighbours; G keeps B away from the top chunk.  Frees A after
 * NFILL chunks of A's size went before it (to fill the tcache bin). */
static void
probe_free(size_t asize, int nfill)
{
	void *fill[16], *a, *b, *ahdr;
	bool mm;

	for (int i = 0; i < nfill && i < 16; i++)
		fill[i] = malloc(asize);
	a = malloc(asize);
	b = malloc(24);
	keep = malloc(24);
	for (int i = 0; i < nfill && i < 16; i++)
		free(fill[i]);
	emit(1, "A_in_use", asize, a, true);
	emit(2, "B_before", 24, b, true);
	ahdr = hdr(a);
	/* a heap chunk's header stays readable after free(), the heap is still
	 * mapped; an mmapped one (a threshold of 0 or 1 in the environment) is
	 * munmapped by free(), and reading it would be a SIGSEGV */
	mm = a != NULL && (((uint64_t *)ahdr)[-1] & IS_MMAPPED);
	free(a);
	if (mm)
		pput("N A_munmapped\n");
	else if (a != NULL)
		emit(3, "A_freed", asize, ahdr, false);
	emit(4, "B_after", 24, b, true);
}

static void *
arena_thread(void *arg)
{
	void *p = malloc(100);

	(void)arg;
	emit(2, "thread", 100, p, true);
	return NULL;
}

static void
probe_arena(void)
{
	pthread_t t;
	int e;

	emit(1, "main", 100, malloc(100), true);
	mark(2);
	if ((e = pthread_create(&t, NULL, arena_thread, NULL)) != 0 ||
	    (e = pthread_join(t, NULL)) != 0)
		pput("X pthread_create %d\n", e);
	mark(MARK_NONE);
}

static void
probe_mmapped(size_t req)
{
	void *p;

	emit(1, "heap", 24, malloc(24), true);
	mark(2);
	p = malloc(req);
	mark(MARK_NONE);
	emit(2, "big", req, p, true);
}

static void
probe_dynamic(size_t req, bool set)
{
	void *p;

	if (set)
		stat_line("mallopt", (size_t)mallopt(M_MMAP_THRESHOLD, 128 * 1024));
	for (int i = 0; i < 2; i++) {
		mark((unsigned long)(2 * i + 1));
		p = malloc(req);
		mark(MARK_NONE);
		emit(2 * i + 1, "malloc", req, p, true);
		mark((unsigned long)(2 * i + 2));
		free(p);
		mark(MARK_NONE);
	}
}

static size_t
arg_size(const char *s)
{
	return s ? (size_t)strtoull(s, NULL, 0) : 0;
}

/* argv: KIND [ARG...].  Returns the exit status. */
static int
probe_run(int argc, char **argv)
{
	const char *k = argv[0], *a = argc > 1 ? argv[1] : NULL, *b = argc > 2 ? argv[2] : "";

	stat_line("arena0", mallinfo2().arena);
	if (strcmp(k, "ladder") == 0)
		probe_ladder(arg_size(a), arg_size(b));
	else if (strcmp(k, "one") == 0)
		probe_one(arg_size(a), strcmp(b, "drained") == 0);
	else if (strcmp(k, "tcache") == 0)
		probe_free(24, 0);
	else if (strcmp(k, "fastbin") == 0)
		probe_free(24, 7);
	else if (strcmp(k, "unsorted") == 0)
		probe_free(2000, 0);
	else if (strcmp(k, "mmapped") == 0)
		probe_mmapped(arg_size(a));
	else if (strcmp(k, "arena") == 0)
		probe_arena();
	else if (strcmp(k, "dynamic") == 0)
		probe_dynamic(arg_size(a), strcmp(b, "set") == 0);
	else
		return 2;
	return pflush();
}

/* Runs a probe before main() when ipclab was re-executed as a probe child:
 * glibc passes argc, argv and envp to constructors. */
__attribute__((constructor)) static void
probe_ctor(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc >= 4 && strcmp(argv[1], "mallocprobe") == 0 && strcmp(argv[2], PROBE_ARG) == 0)
		_exit(probe_run(argc - 3, argv + 3));
}

/* ---------------------------------------------------------------------
 * The parent: runs probe children under ptrace and collects their readings.
 * --------------------------------------------------------------------- */

struct rec {
	int step;
	size_t req;
	uint64_t addr, tag, prev;
	size_t usable;
	char what[24];
};

struct call {
	int step;
	long nr;
	uint64_t a[6];
	int64_t ret;
};

struct probe {
	struct rec rec[MAX_RUNGS + 8];
	size_t nrec;
	struct call call[256];
	size_t ncall;
	unsigned long step;
	uint64_t brk_lo, brk_hi, brk_cur;
	size_t arena0, top_before, top_after, heap_after;
	long mallopt_ret;
	bool a_munmapped;	/* free(A) gave an mmapped A back to the kernel */
	char failed[96];	/* why the probe child gave no readings, or "" */
	char *argv[8];
	int out;
};

/* How long one probe child may run (they take milliseconds): a hung one is
 * killed and its probe reported as failed, never waited for for ever. */
#define PROBE_MS 10000

static volatile sig_atomic_t interrupted;
static long pagesize;
static size_t max_arena0;	/* the most heap any probe found in use at its start */
static int probes_run;
static int probes_failed;	/* children that died: the run is then exit 1 */

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The traced child: stdout into the pipe, then ipclab again as a prober. */
static int
child_exec(void *arg)
{
	struct probe *pr = arg;

	if (dup2(pr->out, STDOUT_FILENO) == -1)
		return 126;
	execv("/proc/self/exe", pr->argv);
	return 127;
}

static bool
is_memory_call(long nr)
{
	return nr == SYS_mmap || nr == SYS_munmap || nr == SYS_brk || nr == SYS_mremap ||
	       nr == SYS_madvise || nr == SYS_mprotect;
}

static int
on_call(pid_t pid, const struct ipc_syscall *sc, void *arg)
{
	struct probe *pr = arg;

	(void)pid;
	if (sc->nr == SYS_getppid && (sc->args[0] & ~0xffffUL) == MARK_MAGIC) {
		pr->step = sc->args[0] & 0xffff;
		return 0;
	}
	if (pr->step != MARK_NONE && is_memory_call(sc->nr) &&
	    pr->ncall < sizeof(pr->call) / sizeof(pr->call[0])) {
		struct call *c = &pr->call[pr->ncall++];

		*c = (struct call){ .step = (int)pr->step, .nr = sc->nr, .ret = sc->ret };
		memcpy(c->a, sc->args, sizeof(sc->args));
		if (sc->nr == SYS_brk)
			c->a[5] = pr->brk_cur;	/* the break before: brk has one argument */
	}
	if (sc->nr == SYS_brk && sc->ret > 0) {
		if (pr->brk_lo == 0)
			pr->brk_lo = (uint64_t)sc->ret;
		if ((uint64_t)sc->ret > pr->brk_hi)
			pr->brk_hi = (uint64_t)sc->ret;
		pr->brk_cur = (uint64_t)sc->ret;
	}
	return 0;
}

static void
parse_line(struct probe *pr, char *ln)
{
	struct rec *r = &pr->rec[pr->nrec];
	char name[24];
	size_t v;

	if (ln[0] == 'R' && pr->nrec < sizeof(pr->rec) / sizeof(pr->rec[0]) &&
	    sscanf(ln, "R %d %zu %lx %lx %lx %zu %23s", &r->step, &r->req, &r->addr,
		   &r->tag, &r->prev, &r->usable, r->what) == 7) {
		pr->nrec++;
	} else if (ln[0] == 'S' && sscanf(ln, "S %23s %zu", name, &v) == 2) {
		if (strcmp(name, "arena0") == 0)
			pr->arena0 = v;
		else if (strcmp(name, "top_before") == 0)
			pr->top_before = v;
		else if (strcmp(name, "top_after") == 0)
			pr->top_after = v;
		else if (strcmp(name, "heap_after") == 0)
			pr->heap_after = v;
		else if (strcmp(name, "mallopt") == 0)
			pr->mallopt_ret = (long)v;
	} else if (strcmp(ln, "N A_munmapped") == 0) {
		pr->a_munmapped = true;
	} else if (ln[0] == 'X') {
		warnx("probe child: %s", ln + 2);
	}
}

static int
read_output(struct probe *pr, int fd)
{
	char buf[sizeof(pout) + 1], *ln, *save;
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		len += (size_t)n;
	}
	buf[len] = '\0';
	for (ln = strtok_r(buf, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save))
		parse_line(pr, ln);
	return 0;
}

/* Forks the traced probe child.  It keeps SIGINT and SIGTERM blocked through
 * its exec: a Ctrl+C is for this process, which ends the probe and stops. */
static pid_t
fork_prober(struct probe *pr)
{
	sigset_t block, old;
	pid_t pid;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = ipc_trace_fork(child_exec, pr);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

static void probe_failed(const char *kind, size_t a, const char *b, const char *how);

/* Runs one probe child (KIND A B) under ptrace.  Exits when it cannot start
 * one; a child that dies leaves pr->failed set and no readings. */
static void
run_probe(struct probe *pr, const char *kind, size_t a, const char *b)
{
	char num[32];
	int fd[2], st;
	pid_t pid;

	memset(pr, 0, sizeof(*pr));
	pr->step = MARK_NONE;
	snprintf(num, sizeof(num), "%zu", a);
	pr->argv[0] = "ipclab";
	pr->argv[1] = "mallocprobe";
	pr->argv[2] = PROBE_ARG;
	pr->argv[3] = (char *)kind;
	pr->argv[4] = num;
	pr->argv[5] = (char *)b;
	if (pipe2(fd, O_CLOEXEC) == -1)
		err(1, "probe child: pipe");
	pr->out = fd[1];
	if ((pid = fork_prober(pr)) == -1)
		err(1, "probe child: %s", ipc_failed_call);
	close(fd[1]);
	if (ipc_trace_syscalls(pid, on_call, pr, &st, PROBE_MS, &interrupted) == -1) {
		if (errno != EINTR && errno != ETIMEDOUT)
			err(1, "probe child %d: %s", (int)pid, ipc_failed_call);
		/* killed: a Ctrl+C ends the run, a hung probe gives no readings */
		bool hung = errno == ETIMEDOUT;

		close(fd[0]);
		snprintf(pr->failed, sizeof(pr->failed), hung ? "still running after %d s, killed" :
			 "interrupted", PROBE_MS / 1000);
		pr->nrec = 0;
		if (hung) {
			probes_failed++;
			probe_failed(kind, a, b, pr->failed);
		}
		return;
	}
	if (read_output(pr, fd[0]) == -1)
		err(1, "probe child: read");
	close(fd[0]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		errx(1, "/proc/self/exe: cannot execute ipclab again for a fresh probe");
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		/* no readings from it: the report says so and goes on */
		ipc_status_str(st, pr->failed, sizeof(pr->failed));
		pr->nrec = 0;
		probes_failed++;
		probe_failed(kind, a, b, pr->failed);
		return;
	}
	probes_run++;
	if (pr->arena0 > max_arena0)
		max_arena0 = pr->arena0;
	if (pr->arena0 != 0)
		warnx("probe child: the heap was already in use (%zu bytes) before the probe began",
		      pr->arena0);
}

static const struct rec *
find_rec(const struct probe *pr, const char *what)
{
	for (size_t i = 0; i < pr->nrec; i++)
		if (strcmp(pr->rec[i].what, what) == 0)
			return &pr->rec[i];
	return NULL;
}

/* The mmap call of STEP whose mapping holds addr, or NULL. */
static const struct call *
mmap_of(const struct probe *pr, int step, uint64_t addr)
{
	for (size_t i = 0; i < pr->ncall; i++) {
		const struct call *c = &pr->call[i];

		if (c->step == step && c->nr == SYS_mmap && c->ret > 0 &&
		    addr >= (uint64_t)c->ret && addr < (uint64_t)c->ret + c->a[1])
			return c;
	}
	return NULL;
}

/* Where the kernel says the chunk lives: "mmap" (a mapping made for it),
 * "heap" (between the program break's start and end), else "arena". */
static const char *
origin(const struct probe *pr, const struct rec *r)
{
	if (r->addr == 0)
		return "failed";
	if (mmap_of(pr, r->step, r->addr))
		return "mmap";
	if (r->addr >= pr->brk_lo && r->addr < pr->brk_hi)
		return "heap";
	return (r->tag & NON_MAIN_ARENA) ? "arena" : "other";
}

static const char *
flags_str(uint64_t tag, char *buf)
{
	snprintf(buf, 4, "%s%s%s", tag & PREV_INUSE ? "P" : "", tag & IS_MMAPPED ? "M" : "",
		 tag & NON_MAIN_ARENA ? "A" : "");
	if (buf[0] == '\0')
		strcpy(buf, "-");
	return buf;
}

static uint64_t
chunk_size(uint64_t tag)
{
	return tag & ~(uint64_t)TAG_BITS;
}

/* ---------------------------------------------------------------------
 * Sections of the report: a table, an optional picture, findings.
 * --------------------------------------------------------------------- */

enum {
	SEC_LADDER = 1, SEC_BITS = 2, SEC_SWITCH = 4, SEC_KERNEL = 8, SEC_DYNAMIC = 16,
	SEC_TUNABLES = 32, SEC_SIZE = 64, SEC_ALL = 63
};

static const char *const section_names[] = {
	"ladder", "bits", "switch", "kernel", "dynamic", "tunables", "size"
};

struct opts {
	unsigned sections;
	size_t from, to;
	size_t sizes[MAX_SIZES];
	int nsizes;
	bool json;
};

struct state {
	struct opts o;
	struct ipc_report *rep;
	size_t thr_fresh, thr_drained;	/* the switches, when found */
	bool found_fresh, found_drained;
	struct ipc_progress prog;
};

/* Every call of the report model succeeds or ends the run: it fails only
 * when memory runs out. */
static void
must(int rc)
{
	if (rc == -1)
		err(1, "report");
}

static struct libscols_line *
new_row(struct ipc_section *s)
{
	struct libscols_line *ln = ipc_row(s);

	if (ln == NULL)
		err(1, "report");
	return ln;
}

/* The section being measured, and the probe kinds whose failure it said. */
static struct ipc_section *cur_sec;
static const char *failed_kinds[8];
static int nfailed_kinds;

/* A probe that could not run is said in its section, once per kind. */
static void
probe_failed(const char *kind, size_t a, const char *b, const char *how)
{
	char arg[48] = "";

	if (cur_sec == NULL)
		return;
	for (int i = 0; i < nfailed_kinds; i++)
		if (strcmp(failed_kinds[i], kind) == 0)
			return;
	if (nfailed_kinds < 8)
		failed_kinds[nfailed_kinds++] = kind;
	if (strcmp(kind, "one") == 0 || strcmp(kind, "mmapped") == 0 || strcmp(kind, "dynamic") == 0)
		snprintf(arg, sizeof(arg), " of malloc(%zu%s%s)", a, b[0] ? ", " : "", b);
	must(ipc_section_finding(cur_sec, "The %s probe%s could not run (its child: %s), so this "
				 "section shows only what the other probes measured.", kind, arg, how));
}

/* A finding of section S: a "why:" line, in JSON one of the "findings". */
#define why(s, ...) must(ipc_section_finding((s), __VA_ARGS__))

/* A new section of the report, keyed KEY, with its table TABLE_KEY. */
static struct ipc_section *
section_new(struct state *S, const char *key, const char *title, const char *table_key,
	    const struct ipc_rcol *cols, size_t ncols)
{
	struct ipc_section *s = ipc_report_section(S->rep, key, title);

	if (s == NULL || ipc_section_table(s, table_key, cols, ncols) == -1)
		err(1, "report");
	cur_sec = s;
	nfailed_kinds = 0;
	return s;
}

/* Ends the report's output: a write that failed is exit 1 with its reason,
 * a reader gone away (EPIPE) a quiet 0. */
static void
out_failed(void)
{
	int e = errno;

	clearerr(stdout);	/* said once, here, not again at exit */
	if (e == EPIPE)
		exit(0);
	errno = e;
	ipc_fail(1, "stdout", "write error");
}

/* Prints a finished section, for a person or into the JSON document. */
static void
section_done(struct state *S)
{
	ipc_progress_done(&S->prog);
	if (ipc_report_flush(S->rep) == -1)
		out_failed();	/* a full disk ends the run here, exit 1 */
}

/* A picture above a section's table: NULL (none), or text from asprintf. */
static void
put_art(struct ipc_section *s, char *art)
{
	if (art)
		must(ipc_put_note(s, "%s", art));
	free(art);
}

/* A small pool of formatted strings: each call returns a new one. */
static const char *__attribute__((format(printf, 1, 2)))
fmt(const char *f, ...)
{
	static char pool[64][96];
	static int next;
	char *b = pool[next++ % 64];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(pool[0]), f, ap);
	va_end(ap);
	return b;
}

static void
progress(struct state *S, const char *what)
{
	ipc_progress_show(&S->prog, "mallocprobe: %s", what);
}

/* ---------------------------------------------------------------------
 * The ladder: one process allocating doubling sizes, as the seed does.
 * --------------------------------------------------------------------- */

static const struct ipc_rcol ladder_cols[] = {
	{ "request", "request", IPC_UINT, NULL, 0, 0 },
	{ "address", "address", IPC_ADDR, NULL, 0, IPC_LEFT },
	{ "tag", "tag", IPC_ADDR, NULL, 0, 0 },
	{ "chunk", "chunk", IPC_UINT, NULL, 0, 0 },
	{ "flags", "flags", IPC_STR, NULL, 0, 0 },
	{ "from", "from", IPC_STR, NULL, 0, 0 },
	{ "usable", "usable", IPC_UINT, NULL, 0, 0 },
	{ "mmap_length", "mmap_length", IPC_UINT, NULL, 0, 0 },
};

/* The layout of the first rung's chunk, with its measured values. */
static char *
chunk_art(const struct rec *r)
{
	char *s;

	if (asprintf(&s,
		     "  chunk -> +-----------------------+-----------------------+\n"
		     "           | prev_size (8 bytes)   | size|A|M|P = %-#8lx |  <- the tag\n"
		     "    ptr -> +-----------------------+-----------------------+\n"
		     "           | %8zu usable bytes (malloc_usable_size)        |\n"
		     "           |   %s\n"
		     "  next  -> +-----------------------+-----------------------+\n"
		     "  malloc(%zu) = %#lx: chunk of %lu bytes starting 16 bytes before it\n",
		     (unsigned long)r->tag, r->usable,
		     r->usable + 8 == chunk_size(r->tag) ? "... the last 8 lie in the next chunk's prev_size" : "",
		     r->req, (unsigned long)r->addr,
		     (unsigned long)chunk_size(r->tag)) < 0)
		return NULL;
	return s;
}

/* A chunk's reading: its request, STATE (none when NULL), address, tag,
 * size, flags, origin and usable size (the ladder's and --size's tables). */
static void
chunk_cells(struct ipc_section *s, struct libscols_line *ln, const struct probe *pr,
	    const struct rec *r, const char *state)
{
	char fl[4];
	size_t c = 0;

	must(ipc_cell_uint(s, ln, c++, r->req));
	if (state)
		must(ipc_cell_str(s, ln, c++, "%s", state));
	must(ipc_cell_addr(s, ln, c++, r->addr));
	must(ipc_cell_addr(s, ln, c++, r->tag));
	must(ipc_cell_uint(s, ln, c++, chunk_size(r->tag)));
	must(ipc_cell_str(s, ln, c++, "%s", flags_str(r->tag, fl)));
	must(ipc_cell_str(s, ln, c++, "%s", origin(pr, r)));
	must(ipc_cell_uint(s, ln, c++, r->usable));
}

static void
ladder_rows(struct ipc_section *s, const struct probe *pr)
{
	for (size_t i = 0; i < pr->nrec; i++) {
		const struct rec *r = &pr->rec[i];
		const struct call *c = mmap_of(pr, r->step, r->addr);
		struct libscols_line *ln = new_row(s);

		chunk_cells(s, ln, pr, r, NULL);
		if (c)
			must(ipc_cell_uint(s, ln, 7, c->a[1]));
	}
}

/* The difference between chunk size and usable size, if the same for every
 * chunk that has (or lacks) the M bit; -1 when it varies or none has. */
static long
overhead(const struct probe *pr, bool mmapped)
{
	long d = -1;

	for (size_t i = 0; i < pr->nrec; i++) {
		const struct rec *r = &pr->rec[i];
		long x = (long)chunk_size(r->tag) - (long)r->usable;

		if (r->addr == 0 || !!(r->tag & IS_MMAPPED) != mmapped)
			continue;
		if (d != -1 && d != x)
			return -2;
		d = x;
	}
	return d;
}

static void
ladder_findings(struct ipc_section *s, const struct probe *pr)
{
	const struct rec *first_m = NULL;
	long oh = overhead(pr, false), om = overhead(pr, true);
	bool p_all = true;
	int nheap = 0;

	if (pr->failed[0])
		return;
	for (size_t i = 0; i < pr->nrec; i++) {
		const struct rec *r = &pr->rec[i];

		if (!first_m && (r->tag & IS_MMAPPED))
			first_m = r;
		nheap += r->addr && !(r->tag & IS_MMAPPED);
		if (!(r->tag & IS_MMAPPED) && !(r->tag & PREV_INUSE))
			p_all = false;
	}
	p_all = p_all && nheap > 0;
	if (first_m && mmap_of(pr, first_m->step, first_m->addr))
		why(s, "Bit 0x2 (M) first appears at malloc(%zu), and that is exactly where the "
		    "block leaves the heap: the trace shows an mmap of its own for it.", first_m->req);
	else if (first_m)
		why(s, "Bit 0x2 (M) first appears at malloc(%zu), but no mmap for it was seen "
		    "in the trace: malloc reused a mapping.", first_m->req);
	else
		why(s, "No rung got bit 0x2 (M): every block came from the heap; raise --to "
		    "to reach the mmap threshold.");
	if (p_all)
		why(s, "Bit 0x1 (P) is set on every heap chunk because the chunk before each one "
		    "is in use; mmapped chunks have no neighbour and leave it clear.");
	if (oh >= 0)
		why(s, "The rest of the tag is the chunk size, a multiple of 16; malloc_usable_size "
		    "is %ld bytes less on the heap%s%s.", oh, om >= 0 ? fmt(" and %ld less for mmap", om) : "",
		    oh == 8 ? " (a heap block may use the next chunk's prev_size field)" : "");
}

static void
section_ladder(struct state *S)
{
	static struct probe pr;
	struct ipc_section *s = section_new(S, "ladder", "Allocation ladder (one process, doubling requests)",
					    "rungs", ladder_cols, sizeof(ladder_cols) / sizeof(ladder_cols[0]));

	progress(S, "ladder");
	run_probe(&pr, "ladder", S->o.from, fmt("%zu", S->o.to));
	ladder_rows(s, &pr);
	if (pr.nrec > 0 && pr.rec[0].addr && !(pr.rec[0].tag & IS_MMAPPED))
		put_art(s, chunk_art(&pr.rec[0]));
	ladder_findings(s, &pr);
	section_done(S);
}

/* ---------------------------------------------------------------------
 * The bit experiments: what free() does to the neighbour's P bit, and the
 * M and A bits.
 * --------------------------------------------------------------------- */

static const struct ipc_rcol bits_cols[] = {
	{ "experiment", "experiment", IPC_STR, NULL, 0, 0 },
	{ "chunk", "chunk", IPC_STR, NULL, 0, 0 },
	{ "tag", "tag", IPC_ADDR, NULL, 0, 0 },
	{ "size", "size", IPC_UINT, NULL, 0, 0 },
	{ "p", "p", IPC_UINT, NULL, 0, 0 },
	{ "m", "m", IPC_UINT, NULL, 0, 0 },
	{ "a", "a", IPC_UINT, NULL, 0, 0 },
	{ "prev_size", "prev_size", IPC_UINT, "0x%llx", 0, 0 },	/* a size: a number in JSON */
};

static void
bits_row(struct ipc_section *s, const char *exp, const char *label, const struct rec *r)
{
	bool prev_means = r && (!(r->tag & PREV_INUSE) || (r->tag & IS_MMAPPED));
	struct libscols_line *ln = new_row(s);

	must(ipc_cell_str(s, ln, 0, "%s", exp));
	if (r == NULL || r->addr == 0) {	/* no reading (a probe that died), or NULL */
		must(ipc_cell_str(s, ln, 1, "%s: %s", label, r ? "malloc failed" : "no reading"));
		return;
	}
	must(ipc_cell_str(s, ln, 1, "%s", label));
	must(ipc_cell_addr(s, ln, 2, r->tag));
	must(ipc_cell_uint(s, ln, 3, chunk_size(r->tag)));
	must(ipc_cell_uint(s, ln, 4, !!(r->tag & PREV_INUSE)));
	must(ipc_cell_uint(s, ln, 5, !!(r->tag & IS_MMAPPED)));
	must(ipc_cell_uint(s, ln, 6, !!(r->tag & NON_MAIN_ARENA)));
	if (prev_means)
		must(ipc_cell_uint(s, ln, 7, r->prev));
}

/* One free experiment; returns B's tag before and after in *b0, *b1. */
static bool
bits_free(struct ipc_section *s, const char *kind, const char *exp, struct probe *pr,
	  uint64_t *b0, uint64_t *b1)
{
	const struct rec *before, *after;

	run_probe(pr, kind, 0, "");
	before = find_rec(pr, "B_before");
	after = find_rec(pr, "B_after");
	bits_row(s, exp, "B before free(A)", before);
	bits_row(s, exp, "B after free(A)", after);
	if (!before || !after || !before->addr || !after->addr)
		return false;
	*b0 = before->tag;
	*b1 = after->tag;
	return true;
}

/* The unsorted-bin case drawn: A freed, B's header after it. */
static char *
unsorted_art(const struct probe *pr)
{
	const struct rec *a = find_rec(pr, "A_freed"), *b = find_rec(pr, "B_after");
	char *s;

	if (!a || !b || !a->addr || !b->addr)
		return NULL;
	if (asprintf(&s,
		     "  After free(A), A = malloc(%zu) in the unsorted bin, B = malloc(%zu) next to it:\n"
		     "  A: +-----------+-------------+-- fd, bk ... --+-----------+-------------+------\n"
		     "     | prev_size | %-#11lx |   (free space)  | %-#9lx | %-#11lx | B's\n"
		     "     +-----------+-------------+-----------------+-----------+-------------+ data\n"
		     "                  A's tag                    B: prev_size   B's tag (P=%d)\n",
		     a->req, b->req, (unsigned long)a->tag, (unsigned long)b->prev,
		     (unsigned long)b->tag, (int)(b->tag & PREV_INUSE)) < 0)
		return NULL;
	return s;
}

static void
bits_free_findings(struct ipc_section *s, const uint64_t t[3][2], const struct probe *uns)
{
	const struct rec *a = find_rec(uns, "A_freed"), *b = find_rec(uns, "B_after");
	bool kept = (t[0][1] & PREV_INUSE) && (t[1][1] & PREV_INUSE);

	if (uns->a_munmapped) {
		why(s, "A itself was mmapped here (its tag has bit 0x2), as a threshold of 0 or 1 "
		    "in the environment makes every chunk: free(A) gave it back with munmap, and an "
		    "mmapped chunk has no neighbour whose P bit free() could clear.");
		return;
	}
	if (kept)
		why(s, "free(A) into the tcache, and into a fastbin once the tcache bin held 7, "
		    "left B's tag at %#lx with P still set: those bins keep their chunks marked in "
		    "use, so they can be handed out again without merging; that is why the classic "
		    "free-then-look experiment shows nothing.", (unsigned long)t[0][1]);
	else
		why(s, "free(A) of a small block changed B's tag from %#lx to %#lx (tcache) and "
		    "%#lx to %#lx (fastbin).", (unsigned long)t[0][0], (unsigned long)t[0][1],
		    (unsigned long)t[1][0], (unsigned long)t[1][1]);
	if (a && b && (t[2][0] & PREV_INUSE) && !(t[2][1] & PREV_INUSE))
		why(s, "Only the %zu-byte A, too big for the tcache and the fastbins, reached the "
		    "unsorted bin and cleared bit 0x1 of B's tag (%#lx -> %#lx), while B's prev_size "
		    "became %#lx, A's chunk size: so 0x1 means \"the previous chunk is in use\", and "
		    "prev_size is how free() finds a free neighbour to merge with.", a->req,
		    (unsigned long)t[2][0], (unsigned long)t[2][1], (unsigned long)b->prev);
	else
		why(s, "The unsorted-bin free changed B's tag from %#lx to %#lx.",
		    (unsigned long)t[2][0], (unsigned long)t[2][1]);
}

static void
bits_mmapped(struct ipc_section *s, size_t req, struct probe *pr)
{
	const struct rec *h, *m;

	/* 1 MiB unless a threshold set above it keeps it on the heap */
	for (;;) {
		run_probe(pr, "mmapped", req, "");
		h = find_rec(pr, "heap");
		m = find_rec(pr, "big");
		if (req >= BIG_PROBE || interrupted || (m && (m->tag & IS_MMAPPED)))
			break;
		req = BIG_PROBE;
	}
	bits_row(s, "mmap", "malloc(24)", h);
	bits_row(s, "mmap", fmt("malloc(%zu)", req), m);
	if (!m || !m->addr)
		return;
	if (h && h->addr && (h->tag & IS_MMAPPED) && (m->tag & IS_MMAPPED))
		why(s, "Bit 0x2 is set on both chunks: even malloc(24) was mmapped here (tag %#lx), "
		    "so the threshold in effect is below 24 bytes.", (unsigned long)h->tag);
	else if ((m->tag & IS_MMAPPED) && mmap_of(pr, m->step, m->addr))
		why(s, "Bit 0x2 is set only on the malloc(%zu) chunk, which the trace shows "
		    "malloc mmapped for it; P is %s there because such a chunk has no neighbour, "
		    "and its prev_size (%#lx) is the offset from the mapping's start.", req,
		    (m->tag & PREV_INUSE) ? "set" : "clear", (unsigned long)m->prev);
	else
		why(s, "malloc(%zu) was not mmapped here (tag %#lx): the mmap threshold is set "
		    "above it, or mmap is disabled (MALLOC_MMAP_MAX_=0).", req, (unsigned long)m->tag);
}

static void
bits_arena(struct ipc_section *s, struct probe *pr)
{
	const struct rec *mn, *th;

	run_probe(pr, "arena", 0, "");
	mn = find_rec(pr, "main");
	th = find_rec(pr, "thread");
	bits_row(s, "arena", "malloc(100) in main", mn);
	bits_row(s, "arena", "malloc(100) in a thread", th);
	if (mn && th && mn->addr && th->addr && (th->tag & NON_MAIN_ARENA) &&
	    !(mn->tag & NON_MAIN_ARENA))
		why(s, "The second thread's chunk carries bit 0x4 (tag %#lx against %#lx in the "
		    "main thread): it comes from another arena, a heap that malloc made with mmap "
		    "so that threads do not contend for one lock.", (unsigned long)th->tag,
		    (unsigned long)mn->tag);
	else if (mn && th)
		why(s, "The second thread's chunk has tag %#lx, the main thread's %#lx: both came "
		    "from the main arena, as when MALLOC_ARENA_MAX or glibc.malloc.arena_max is 1.",
		    (unsigned long)th->tag, (unsigned long)mn->tag);
}

static void
section_bits(struct state *S)
{
	static struct probe pr, uns;
	struct ipc_section *s = section_new(S, "bits", "Bit experiments (each in a fresh process)",
					    "readings", bits_cols, sizeof(bits_cols) / sizeof(bits_cols[0]));
	uint64_t t[3][2] = { { 0 } };
	bool ok;

	progress(S, "bit experiments");
	ok = bits_free(s, "tcache", "tcache", &pr, &t[0][0], &t[0][1]);
	ok = !interrupted && bits_free(s, "fastbin", "fastbin", &pr, &t[1][0], &t[1][1]) && ok;
	ok = !interrupted && bits_free(s, "unsorted", "unsorted", &uns, &t[2][0], &t[2][1]) && ok;
	if (ok) {
		put_art(s, unsorted_art(&uns));
		bits_free_findings(s, (const uint64_t (*)[2])t, &uns);
	}
	if (!interrupted)
		bits_mmapped(s, 1048576, &pr);
	if (!interrupted)
		bits_arena(s, &pr);
	section_done(S);
}

/* ---------------------------------------------------------------------
 * The switch point, by bisection: each probe a fresh process.
 * --------------------------------------------------------------------- */

struct bisect {
	size_t thr;		/* smallest request served by mmap, when found */
	bool found;		/* a switch was seen (thr may be 0: all mmapped) */
	size_t start;		/* the largest request served, where the search began */
	size_t heap_max;	/* !found: that request came from the heap */
	size_t failed_req;	/* the largest request whose malloc failed, or 0 */
	unsigned failed_errno;
	int probes;
	struct probe lo, hi;	/* the probes of thr - 1 and thr */
	size_t top;		/* the top chunk a request met */
	bool tag_agrees;	/* M set at thr, clear at thr - 1 */
};

static bool
served_by_mmap(const struct probe *pr)
{
	const struct rec *r = find_rec(pr, "malloc");

	return r && r->addr && mmap_of(pr, r->step, r->addr);
}

/* The largest request from BIG_PROBE down (halving, to 1 MiB) that malloc
 * serves here: an address space limit (ulimit -v) makes the biggest fail,
 * which says nothing about mmap being off.  0 when none was served. */
static size_t
bisect_top(const char *st, struct bisect *b)
{
	for (size_t hi = BIG_PROBE; hi >= 1048576 && !interrupted; hi /= 2) {
		const struct rec *r;

		run_probe(&b->hi, "one", hi, st);
		b->probes++;
		if ((r = find_rec(&b->hi, "malloc")) == NULL)
			return 0;	/* the probe could not run: said already */
		if (r->addr)
			return hi;
		if (b->failed_req == 0) {
			b->failed_req = hi;
			b->failed_errno = (unsigned)r->prev;
		}
	}
	return 0;
}

/* Halves [lo, hi) until hi is the smallest request served by mmap. */
static void
bisect_between(struct state *S, const char *st, struct bisect *b, size_t lo, size_t hi)
{
	static struct probe pr;

	while (hi - lo > 1 && !interrupted) {
		size_t mid = lo + (hi - lo) / 2;

		ipc_progress_show(&S->prog, "mallocprobe: switch (%s): between %zu and %zu", st, lo, hi);
		run_probe(&pr, "one", mid, st);
		b->probes++;
		if (served_by_mmap(&pr)) {
			hi = mid;
			b->hi = pr;
		} else {
			lo = mid;
			b->lo = pr;
		}
	}
	b->thr = hi;
	if (lo == 0 && !interrupted) {
		run_probe(&b->lo, "one", 0, st);
		if (served_by_mmap(&b->lo)) {	/* even malloc(0): a threshold of 0 or 1 */
			b->thr = 0;
			b->hi = b->lo;
		}
	}
}

static void
bisect(struct state *S, bool drained, struct bisect *b)
{
	static struct probe pr;
	const char *st = drained ? "drained" : "fresh";
	const struct rec *h, *l;
	size_t hi;

	memset(b, 0, sizeof(*b));
	if ((hi = b->start = bisect_top(st, b)) == 0)
		return;
	if (!served_by_mmap(&b->hi)) {
		b->heap_max = hi;
		return;
	}
	bisect_between(S, st, b, 0, hi);
	if (interrupted)
		return;
	b->found = true;
	b->top = b->lo.top_before;
	if (!drained) {	/* what malloc's first brk left: malloc(1) and after */
		const struct rec *r;

		run_probe(&pr, "one", 1, st);
		r = find_rec(&pr, "malloc");
		b->top = r && r->addr ? pr.top_after + chunk_size(r->tag) : 0;
	}
	h = find_rec(&b->hi, "malloc");
	l = find_rec(&b->lo, "malloc");
	b->tag_agrees = h && (h->tag & IS_MMAPPED) && (b->thr == 0 || (l && !(l->tag & IS_MMAPPED)));
}

static const struct ipc_rcol switch_cols[] = {
	{ "state", "state", IPC_STR, NULL, 0, 0 },
	{ "smallest_mmap_request", "smallest_mmap_request", IPC_UINT, NULL, 0, 0 },
	{ "tag", "tag", IPC_ADDR, NULL, 0, 0 },
	{ "mmap_length", "mmap_length", IPC_UINT, NULL, 0, 0 },
	{ "largest_heap_request", "largest_heap_request", IPC_UINT, NULL, 0, 0 },
	{ "heap_tag", "heap_tag", IPC_ADDR, NULL, 0, 0 },
	{ "top_chunk", "top_chunk", IPC_UINT, NULL, 0, 0 },
	{ "probes", "probes", IPC_UINT, NULL, 0, 0 },
};

static void
switch_row(struct ipc_section *s, const char *st, const struct bisect *b)
{
	const struct rec *h = find_rec(&b->hi, "malloc"), *l = find_rec(&b->lo, "malloc");
	const struct call *c = h ? mmap_of(&b->hi, h->step, h->addr) : NULL;
	struct libscols_line *ln = new_row(s);

	must(ipc_cell_str(s, ln, 0, "%s", st));
	must(ipc_cell_uint(s, ln, 7, (unsigned)b->probes));
	if (!b->found || h == NULL) {
		if (b->heap_max)
			must(ipc_cell_uint(s, ln, 4, b->heap_max));
		return;
	}
	must(ipc_cell_uint(s, ln, 1, b->thr));
	must(ipc_cell_addr(s, ln, 2, h->tag));
	if (c)
		must(ipc_cell_uint(s, ln, 3, c->a[1]));
	if (b->thr)
		must(ipc_cell_uint(s, ln, 4, b->thr - 1));
	if (b->thr && l)
		must(ipc_cell_addr(s, ln, 5, l->tag));
	must(ipc_cell_uint(s, ln, 6, b->top));
}

/* " (128 KiB)" when n is a whole number of KiB, else "". */
static const char *
human(uint64_t n)
{
	if (n % 1048576 == 0)
		return fmt(" (%lu MiB)", (unsigned long)(n / 1048576));
	if (n % 1024 == 0)
		return fmt(" (%lu KiB)", (unsigned long)(n / 1024));
	return "";
}

/* Whether the environment turns mmap off: MALLOC_MMAP_MAX_=0 or the tunable. */
static bool
env_mmap_off(void)
{
	const char *m = getenv("MALLOC_MMAP_MAX_"), *t = getenv("GLIBC_TUNABLES");

	return (m && strcmp(m, "0") == 0) || (t && strstr(t, "glibc.malloc.mmap_max=0"));
}

/* What one state's search met when it found no switch, or found that every
 * request is mmapped. */
static void
switch_limits(struct ipc_section *s, const char *st, const struct bisect *b)
{
	struct rlimit rl;

	if (b->failed_req)
		why(s, "In the %s probes malloc(%zu) failed (%s)%s, so the search started from the "
		    "largest request malloc could serve%s.", st, b->failed_req, strerror((int)b->failed_errno),
		    getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ?
		    fmt(": the address space limit (ulimit -v) is %lu KiB", (unsigned long)(rl.rlim_cur / 1024)) : "",
		    b->start ? fmt(", malloc(%zu)", b->start) :
		    "; none from 1 MiB up could be allocated, so the switch was not measured");
	if (b->found && b->thr == 0)
		why(s, "In the %s probes every request, even malloc(0), was mmapped: the threshold in "
		    "effect is below the smallest chunk%s.", st, getenv("MALLOC_MMAP_THRESHOLD_") ||
		    getenv("GLIBC_TUNABLES") ? ", as the setting in the environment asks" : "");
	if (!b->found && b->heap_max)
		why(s, "In the %s probes even malloc(%zu) came from the heap: malloc used mmap for no "
		    "request%s.", st, b->heap_max, env_mmap_off() ?
		    ", because the environment turns mmap off (MALLOC_MMAP_MAX_=0)" : "");
}

static void
switch_findings(struct ipc_section *s, const struct bisect *f, const struct bisect *d)
{
	const struct rec *dh = find_rec(&d->hi, "malloc"), *dl = find_rec(&d->lo, "malloc");
	const struct rec *fl = find_rec(&f->lo, "malloc");
	bool fo = f->found && f->thr, dn = d->found && d->thr;

	switch_limits(s, "fresh", f);
	switch_limits(s, "drained", d);
	if (dn && dh && dl)
		why(s, "With the top chunk used up, every request from %zu bytes on is mmapped and "
		    "%zu still extends the heap with a chunk of %lu bytes: chunks grow in steps of 16, "
		    "so the mmap threshold in effect is a chunk of %lu bytes%s.", d->thr, d->thr - 1,
		    (unsigned long)chunk_size(dl->tag), (unsigned long)chunk_size(dl->tag) + 16,
		    human(chunk_size(dl->tag) + 16));
	if (fo && dn && f->thr > d->thr && fl)
		why(s, "A fresh process switches later, at %zu: its first brk left a top chunk of "
		    "%zu bytes, and malloc looks at the threshold only when neither its bins nor the "
		    "top chunk can serve a request, so the largest chunk carved from it was %lu bytes "
		    "(%zu less than the top).", f->thr, f->top,
		    (unsigned long)chunk_size(fl->tag), f->top - chunk_size(fl->tag));
	else if (fo && dn && f->thr == d->thr)
		why(s, "Fresh and drained agree: the threshold is larger than the top chunk of a "
		    "fresh heap (%zu bytes), so the top chunk never serves a request that could "
		    "have been mmapped.", f->top);
	if ((f->found && !f->tag_agrees) || (d->found && !d->tag_agrees))
		why(s, "Warning: the tag's 0x2 bit and the trace disagree at the switch.");
	else if (fo || dn)
		why(s, "At each switch the trace shows the first mmap and the tag gets bit 0x2 "
		    "at the same request, to the byte.");
}

/* A size in JSON only: null when it was not found. */
static void
put_size(struct ipc_section *s, const char *key, bool known, size_t v)
{
	must(known ? ipc_put_uint(s, key, NULL, v) : ipc_put_str(s, key, NULL, NULL));
}

static void
section_switch(struct state *S)
{
	static struct bisect f, d;
	struct ipc_section *s = section_new(S, "switch", "Switch from heap to mmap (bisection, a fresh process per probe)",
					    "states", switch_cols, sizeof(switch_cols) / sizeof(switch_cols[0]));

	bisect(S, false, &f);
	if (!interrupted)
		bisect(S, true, &d);
	put_size(s, "threshold_fresh", !interrupted && f.found, f.thr);
	put_size(s, "threshold_drained", !interrupted && d.found, d.thr);
	if (interrupted) {
		why(s, "Interrupted during the bisection: no switch point was reached.");
		section_done(S);
		return;
	}
	S->thr_fresh = f.thr;
	S->thr_drained = d.thr;
	S->found_fresh = f.found;
	S->found_drained = d.found;
	switch_row(s, "fresh", &f);
	switch_row(s, "drained", &d);
	switch_findings(s, &f, &d);
	section_done(S);
}

/* ---------------------------------------------------------------------
 * What malloc asked the kernel for: the trace of each request and free.
 * --------------------------------------------------------------------- */

static const struct ipc_rcol kernel_cols[] = {
	{ "request", "request", IPC_UINT, NULL, 0, 0 },
	{ "state", "state", IPC_STR, NULL, 0, 0 },
	{ "by", "by", IPC_STR, NULL, 0, 0 },
	{ "length", "length", IPC_INT, NULL, 0, 0 },
	{ "extra", "extra", IPC_INT, NULL, 0, 0 },
	{ "tag", "tag", IPC_ADDR, NULL, 0, 0 },
	{ "call", "call", IPC_STR, NULL, 0, SCOLS_FL_WRAP },	/* last: the widest, wrapped */
};

/* The call as strace would print it; *len gets its length (brk: the
 * change of the break). */
static const char *
call_str(const struct call *c, long long *len)
{
	char prot[64], flags[128];

	*len = (long long)c->a[1];
	switch (c->nr) {
	case SYS_mmap:
		return fmt("mmap(NULL, %lu, %s, %s, %d, %lu) = %#lx", (unsigned long)c->a[1],
			   ipc_prot_str((int)c->a[2], prot, sizeof(prot)),
			   ipc_mapflags_str((int)c->a[3], flags, sizeof(flags)), (int)c->a[4],
			   (unsigned long)c->a[5], (unsigned long)c->ret);
	case SYS_munmap:
		return fmt("munmap(%#lx, %lu) = %ld", (unsigned long)c->a[0], (unsigned long)c->a[1],
			   (long)c->ret);
	case SYS_brk:
		*len = c->a[0] ? (long long)c->ret - (long long)c->a[5] : 0;
		if (c->a[0] == 0)
			return fmt("brk(NULL) = %#lx", (unsigned long)c->ret);
		return fmt("brk(%#lx) = %#lx", (unsigned long)c->a[0], (unsigned long)c->ret);
	default:
		return fmt("%s(%#lx, %lu, ...) = %ld", ipc_syscall_name(c->nr),
			   (unsigned long)c->a[0], (unsigned long)c->a[1], (long)c->ret);
	}
}

/* A row of the kernel table: one call of STEP (C), or none (C NULL). */
static void
kernel_row(struct ipc_section *s, const struct rec *r, int step, const char *st,
	   const struct call *c)
{
	struct libscols_line *ln = new_row(s);
	long long len = 0;
	const char *cs = c ? call_str(c, &len) : "(no system call)";

	must(ipc_cell_uint(s, ln, 0, r->req));
	must(ipc_cell_str(s, ln, 1, "%s", st));
	must(ipc_cell_str(s, ln, 2, "%s", step == 1 ? "malloc" : "free"));
	if (c && !(c->nr == SYS_brk && c->a[0] == 0))
		must(ipc_cell_int(s, ln, 3, len));
	if (c && c->nr == SYS_mmap)
		must(ipc_cell_int(s, ln, 4, len - (long long)r->req));
	if (step == 1)
		must(ipc_cell_addr(s, ln, 5, r->tag));
	must(ipc_cell_str(s, ln, 6, "%s", cs));
}

/* Adds the calls of one step. */
static void
kernel_step(struct ipc_section *s, const struct probe *pr, int step, const char *st,
	    const struct rec *r)
{
	int n = 0;

	for (size_t i = 0; i < pr->ncall; i++)
		if (pr->call[i].step == step) {
			kernel_row(s, r, step, st, &pr->call[i]);
			n++;
		}
	if (n == 0)
		kernel_row(s, r, step, st, NULL);
}

/* For the finding: the first mmapped request, its length and its free. */
struct kseen {
	size_t req, len;
	uint64_t tag;
	bool munmap_same, pages_hold;
	long long first_brk;
};

static void
kernel_note(struct kseen *k, const struct probe *pr, const struct rec *r)
{
	const struct call *m = mmap_of(pr, 1, r->addr);

	for (size_t i = 0; i < pr->ncall && k->first_brk == 0; i++)
		if (pr->call[i].nr == SYS_brk && pr->call[i].a[0] && pr->call[i].step == 1)
			k->first_brk = (long long)pr->call[i].ret - (long long)pr->call[i].a[5];
	if (m == NULL)
		return;
	size_t len = m->a[1];

	if (k->req == 0 || r->req == 200000) {
		k->req = r->req;
		k->len = len;
		k->tag = r->tag;
		k->munmap_same = false;
		for (size_t i = 0; i < pr->ncall; i++)
			if (pr->call[i].step == 2 && pr->call[i].nr == SYS_munmap &&
			    pr->call[i].a[0] == (uint64_t)m->ret && pr->call[i].a[1] == len)
				k->munmap_same = true;
	}
	/* whole pages, more than the request, less than a page and a header more */
	if (len % (size_t)pagesize != 0 || len <= r->req || len - r->req > (size_t)pagesize + 32)
		k->pages_hold = false;
}

static void
kernel_findings(struct ipc_section *s, const struct kseen *k)
{
	if (k->first_brk > 0)
		why(s, "A heap request makes no system call while the top chunk has room; the "
		    "first malloc of a process moved the break by %lld bytes (%lld pages), far more "
		    "than asked, so that later small requests need no system call.", k->first_brk,
		    k->first_brk / pagesize);
	if (k->req == 0)
		return;
	why(s, "For malloc(%zu) malloc asked mmap for %zu bytes, %zu more than the request%s; "
	    "that length is the chunk size in the tag (%#lx)%s.", k->req, k->len, k->len - k->req,
	    k->pages_hold ? fmt(": the request and the chunk header, in whole %ld-byte pages",
				pagesize) : "",
	    (unsigned long)k->tag, k->munmap_same ? ", and free() gave exactly it back with munmap" : "");
}

static void
kernel_probe(struct state *S, struct ipc_section *s, struct kseen *k, size_t req, bool drained)
{
	static struct probe pr;
	const char *st = drained ? "drained" : "fresh";
	const struct rec *r;

	progress(S, fmt("kernel calls of malloc(%zu)", req));
	run_probe(&pr, "one", req, st);
	if (interrupted || (r = find_rec(&pr, "malloc")) == NULL)
		return;
	kernel_step(s, &pr, 1, st, r);
	kernel_step(s, &pr, 2, st, r);
	kernel_note(k, &pr, r);
}

static void
section_kernel(struct state *S)
{
	struct ipc_section *s = section_new(S, "kernel", "What malloc asked the kernel for (ptrace, as strace sees it)",
					    "calls", kernel_cols, sizeof(kernel_cols) / sizeof(kernel_cols[0]));
	struct kseen k = { .pages_hold = true };
	struct kreq { size_t req; bool drained; } list[8 + MAX_SIZES];
	int n = 0;

	list[n++] = (struct kreq){ 24, false };
	if (S->found_drained && S->thr_drained > 1) {
		list[n++] = (struct kreq){ S->thr_drained - 1, true };
		list[n++] = (struct kreq){ S->thr_drained, true };
	}
	if (S->found_fresh && S->thr_fresh)
		list[n++] = (struct kreq){ S->thr_fresh, false };
	list[n++] = (struct kreq){ 200000, false };
	list[n++] = (struct kreq){ 1048576, false };
	for (int i = 0; i < S->o.nsizes; i++)
		list[n++] = (struct kreq){ S->o.sizes[i], false };
	for (int i = 0; i < n && !interrupted; i++)
		kernel_probe(S, s, &k, list[i].req, list[i].drained);
	kernel_findings(s, &k);
	section_done(S);
}

/* ---------------------------------------------------------------------
 * The dynamic threshold: free() of an mmapped chunk raises it, unless the
 * threshold was set.
 * --------------------------------------------------------------------- */

static const struct ipc_rcol dynamic_cols[] = {
	{ "run", "run", IPC_STR, NULL, 0, 0 },
	{ "step", "step", IPC_STR, NULL, 0, 0 },
	{ "from", "from", IPC_STR, NULL, 0, 0 },
	{ "tag", "tag", IPC_ADDR, NULL, 0, 0 },
	{ "calls", "calls", IPC_STR, NULL, 0, 0 },
};

/* The calls of one step in short: "mmap 1052672, munmap 4096". */
static const char *
calls_brief(const struct probe *pr, int step)
{
	char *b = (char *)fmt("%s", "");
	size_t used = 0;

	for (size_t i = 0; i < pr->ncall; i++) {
		const struct call *c = &pr->call[i];
		long long len;

		if (c->step != step || (c->nr == SYS_brk && c->a[0] == 0))
			continue;
		call_str(c, &len);
		used += (size_t)snprintf(b + used, used < 96 ? 96 - used : 0, "%s%s %s%lld",
					 used ? ", " : "", ipc_syscall_name(c->nr),
					 c->nr == SYS_brk && len > 0 ? "+" : "", len);
		if (used >= 96)
			break;
	}
	return used ? b : "none";
}

/* Runs one dynamic experiment; returns whether the second malloc was mmapped,
 * -1 when the first was not. */
static int
dynamic_run(struct ipc_section *s, const char *run, size_t req, const char *mode)
{
	static struct probe pr;
	const struct rec *r[2] = { NULL, NULL };

	run_probe(&pr, "dynamic", req, mode);
	if (pr.failed[0])
		return -2;	/* said by run_probe */
	for (size_t i = 0; i < pr.nrec; i++)
		if (pr.rec[i].step == 1 || pr.rec[i].step == 3)
			r[pr.rec[i].step / 2] = &pr.rec[i];
	if (!r[0] || !r[1])
		return -1;
	for (int i = 0; i < 2; i++) {
		struct libscols_line *ln = new_row(s);

		must(ipc_cell_str(s, ln, 0, "%s", run));
		must(ipc_cell_str(s, ln, 1, "%smalloc(%zu)", i ? "again: " : "", req));
		must(ipc_cell_str(s, ln, 2, "%s", origin(&pr, r[i])));
		must(ipc_cell_addr(s, ln, 3, r[i]->tag));
		must(ipc_cell_str(s, ln, 4, "%s", calls_brief(&pr, 2 * i + 1)));
		ln = new_row(s);
		must(ipc_cell_str(s, ln, 0, "%s", run));
		must(ipc_cell_str(s, ln, 1, "free"));
		must(ipc_cell_str(s, ln, 4, "%s", calls_brief(&pr, 2 * i + 2)));
	}
	if (!mmap_of(&pr, 1, r[0]->addr))
		return -1;
	return mmap_of(&pr, 3, r[1]->addr) != NULL;
}

static void
section_dynamic(struct state *S)
{
	struct ipc_section *s = section_new(S, "dynamic", "Dynamic threshold (free of an mmapped chunk)",
					    "steps", dynamic_cols, sizeof(dynamic_cols) / sizeof(dynamic_cols[0]));
	const size_t req = 1048576;
	int def, set = -1;

	progress(S, "dynamic threshold");
	def = dynamic_run(s, "default", req, "default");
	if (!interrupted)
		set = dynamic_run(s, "mallopt(M_MMAP_THRESHOLD, 131072)", req, "set");
	if (def == 0)
		why(s, "After free() of the mmapped 1 MiB chunk glibc raised its threshold to that "
		    "chunk's size, so the same request came from the heap the second time.");
	else if (def == 1)
		why(s, "Even after free() of the mmapped chunk the same request was mmapped again: "
		    "the threshold is fixed here, because the environment sets it "
		    "(MALLOC_MMAP_THRESHOLD_, GLIBC_TUNABLES or another malloc setting).");
	else if (def == -1)
		why(s, "malloc(1 MiB) was not mmapped in the first place: the threshold is set "
		    "above it, or mmap is off.");
	if (set == 1)
		why(s, "With the threshold set explicitly by mallopt (even to its default), glibc "
		    "stops adjusting it: the request stayed on mmap.");
	else if (set == 0)
		why(s, "Surprise: even with mallopt(M_MMAP_THRESHOLD) the second request came from the heap.");
	section_done(S);
}

/* ---------------------------------------------------------------------
 * Tunables and environment in effect.
 * --------------------------------------------------------------------- */

static const struct ipc_rcol tun_cols[] = {
	{ "name", "name", IPC_STR, NULL, 0, 0 },
	{ "source", "source", IPC_STR, NULL, 0, 0 },
	{ "value", "value", IPC_STR, NULL, 0, SCOLS_FL_WRAP },	/* last: it takes the rest */
};

/* A row of the tunables table. */
static void
setting(struct ipc_section *s, const char *name, const char *value, const char *source)
{
	struct libscols_line *ln = new_row(s);

	must(ipc_cell_str(s, ln, 0, "%s", name));
	must(ipc_cell_str(s, ln, 1, "%s", source));
	must(ipc_cell_str(s, ln, 2, "%s", value));
}

static const char *const malloc_env[] = {
	"MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_", "MALLOC_TOP_PAD_",
	"MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX", "MALLOC_ARENA_TEST",
	"MALLOC_PERTURB_", "MALLOC_CHECK_", "GLIBC_TUNABLES", "LD_PRELOAD",
};

static int
find_ldso(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char **name = arg;

	(void)size;
	if (info->dlpi_addr == getauxval(AT_BASE) && info->dlpi_name && info->dlpi_name[0]) {
		*name = info->dlpi_name;
		return 1;
	}
	return 0;
}

static int
to_pipe(void *arg)
{
	return dup2(*(int *)arg, STDOUT_FILENO) == -1 ? -1 : 0;
}

/* Adds the glibc.malloc.* tunables that ld.so --list-tunables reports set. */
static int
ldso_tunables(struct ipc_section *s)
{
	const char *ldso = NULL;
	char *argv[3] = { NULL, "--list-tunables", NULL }, line[256];
	int fd[2], st, n = 0;
	FILE *fp;
	pid_t pid;

	if (dl_iterate_phdr(find_ldso, &ldso) != 1 || pipe2(fd, O_CLOEXEC) == -1)
		return -1;
	argv[0] = (char *)ldso;
	pid = ipc_spawn(ldso, argv, NULL, to_pipe, &fd[1]);
	close(fd[1]);
	if (pid == -1 || (fp = fdopen(fd[0], "r")) == NULL) {
		close(fd[0]);
		if (pid != -1)
			ipc_wait(pid, &st, 0);
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char name[96], val[64];

		if (sscanf(line, "glibc.malloc.%95[^:]: %63s", name, val) == 2 &&
		    strcmp(val, "0") != 0 && strcmp(val, "0x0") != 0) {
			setting(s, fmt("glibc.malloc.%s", name), val, fmt("%s --list-tunables", ldso));
			n++;
		}
	}
	fclose(fp);
	ipc_wait(pid, &st, 0);
	return n;
}

static void
section_tunables(struct state *S)
{
	struct ipc_section *s = section_new(S, "tunables", "Tunables and environment in effect",
					    "settings", tun_cols, sizeof(tun_cols) / sizeof(tun_cols[0]));
	int nset = 0, nt;

	setting(s, "glibc", gnu_get_libc_version(), "gnu_get_libc_version()");
	setting(s, "page size", fmt("%ld", pagesize), "sysconf(_SC_PAGESIZE)");
	for (size_t i = 0; i < sizeof(malloc_env) / sizeof(malloc_env[0]); i++) {
		const char *v = getenv(malloc_env[i]);

		setting(s, malloc_env[i], v ? v : "(unset)", "environment");
		nset += v != NULL && strcmp(malloc_env[i], "LD_PRELOAD") != 0;
	}
	if (probes_run)
		setting(s, "heap in use at probe start", fmt("%zu bytes in %d probes%s", max_arena0,
		    probes_run, max_arena0 ? "" : " (untouched)"), "mallinfo2() in each child");
	nt = ldso_tunables(s);
	if (nt == 0)
		setting(s, "glibc.malloc.*", "all 0 (not set)", "ld.so --list-tunables");
	setting(s, "mallopt", "not called, except by the dynamic experiment's second run",
	    "ipclab's probes");
	if (nt == -1)
		why(s, "ld.so --list-tunables could not be run, so only the environment is shown.");
	if (nset == 0 && nt <= 0)
		why(s, "Nothing in the environment changes malloc here: the numbers above are "
		    "glibc %s's own defaults, measured.", gnu_get_libc_version());
	else
		why(s, "malloc settings are in the environment: glibc read them at the start of "
		    "every probe (each is a fresh exec), so the measurements above include them.");
	section_done(S);
}

/* ---------------------------------------------------------------------
 * One size (--size): fresh and drained.
 * --------------------------------------------------------------------- */

static const struct ipc_rcol size_cols[] = {
	{ "request", "request", IPC_UINT, NULL, 0, 0 },
	{ "state", "state", IPC_STR, NULL, 0, 0 },
	{ "address", "address", IPC_ADDR, NULL, 0, IPC_LEFT },
	{ "tag", "tag", IPC_ADDR, NULL, 0, 0 },
	{ "chunk", "chunk", IPC_UINT, NULL, 0, 0 },
	{ "flags", "flags", IPC_STR, NULL, 0, 0 },
	{ "from", "from", IPC_STR, NULL, 0, 0 },
	{ "usable", "usable", IPC_UINT, NULL, 0, 0 },
	{ "malloc_calls", "malloc_calls", IPC_STR, NULL, 0, 0 },
	{ "free_calls", "free_calls", IPC_STR, NULL, 0, 0 },
	{ "mmap_length", "mmap_length", IPC_UINT, NULL, 0, SCOLS_FL_HIDDEN },	/* JSON only */
};

static void
size_probe(struct ipc_section *s, size_t req, bool drained, const char **from)
{
	static struct probe pr;
	struct libscols_line *ln;
	const struct call *c;
	const struct rec *r;

	run_probe(&pr, "one", req, drained ? "drained" : "fresh");
	if ((r = find_rec(&pr, "malloc")) == NULL)
		return;
	*from = origin(&pr, r);
	ln = new_row(s);
	chunk_cells(s, ln, &pr, r, drained ? "drained" : "fresh");
	must(ipc_cell_str(s, ln, 8, "%s", calls_brief(&pr, 1)));
	must(ipc_cell_str(s, ln, 9, "%s", calls_brief(&pr, 2)));
	if ((c = mmap_of(&pr, r->step, r->addr)) != NULL)
		must(ipc_cell_uint(s, ln, 10, c->a[1]));
}

static void
section_size(struct state *S)
{
	struct ipc_section *s = section_new(S, "sizes", "One size, fresh and with the top chunk drained",
					    "probes", size_cols, sizeof(size_cols) / sizeof(size_cols[0]));

	for (int i = 0; i < S->o.nsizes && !interrupted; i++) {
		const char *f = "?", *d = "?";

		progress(S, fmt("malloc(%zu)", S->o.sizes[i]));
		size_probe(s, S->o.sizes[i], false, &f);
		if (!interrupted)
			size_probe(s, S->o.sizes[i], true, &d);
		if (strcmp(f, "?") == 0 || strcmp(d, "?") == 0)
			continue;	/* a probe gave no reading: said by run_probe */
		if (strcmp(f, d) == 0)
			why(s, "malloc(%zu) comes from %s in a fresh process and with the top chunk "
			    "used up alike.", S->o.sizes[i], f);
		else
			why(s, "malloc(%zu) comes from %s in a fresh process but from %s once the top "
			    "chunk is used up: the top chunk serves whatever fits in it, and the "
			    "threshold decides only when it cannot.", S->o.sizes[i], f, d);
	}
	section_done(S);
}

/* ---------------------------------------------------------------------
 * The command.
 * --------------------------------------------------------------------- */

static const struct ipc_help help = {
	.name = "mallocprobe",
	.synopsis = "[options]",
	.summary = "Find glibc malloc's boundary tags, its bits and its heap-to-mmap switch by experiment.",
	.options =
	" -s, --size N        probe request N alone, fresh and drained (repeatable)\n"
	" -f, --from N        first request of the ladder (16)\n"
	" -t, --to N          last request of the ladder (1048576); requests double\n"
	" -S, --section LIST  only these sections: ladder, bits, switch, kernel,\n"
	"                     dynamic, tunables (comma-separated)\n"
	" -J, -j, --json      print one JSON document\n",
};

/* Is malloc glibc's?  Returns NULL, or why not. */
static const char *
not_glibc(void)
{
	/* the malloc this code calls (through its GOT), not a lookup by name,
	 * which misses a preload that defines only versioned symbols */
	void *(*volatile used)(size_t) = malloc;
	void *m = (void *)(uintptr_t)used;
	const char *base;
	Dl_info di;

	if (dlsym(RTLD_DEFAULT, "__asan_init") || dlsym(RTLD_DEFAULT, "__hwasan_init"))
		return "malloc is AddressSanitizer's, not glibc's: this ipclab is a sanitizer build "
		       "(IPCLAB_SANITIZE), whose chunks have another layout; run mallocprobe from "
		       "a build without sanitizers";
	if (dlsym(RTLD_DEFAULT, "gnu_get_libc_version") == NULL)
		return "the C library is not glibc (no gnu_get_libc_version): mallocprobe reads "
		       "glibc's chunk layout and would print garbage here";
	if (m == NULL || dladdr(m, &di) == 0 || di.dli_fname == NULL)
		return "cannot tell which library malloc comes from";
	base = strrchr(di.dli_fname, '/') ? strrchr(di.dli_fname, '/') + 1 : di.dli_fname;
	if (strncmp(base, "libc.so", 7) != 0) {
		static char msg[PATH_MAX + 64];

		snprintf(msg, sizeof(msg), "malloc comes from %s, not from glibc's libc.so.6%s: "
			 "mallocprobe reads glibc's chunk layout and would print garbage; run it "
			 "without the preload", di.dli_fname, getenv("LD_PRELOAD") ? " (LD_PRELOAD)" : "");
		return msg;
	}
	return NULL;
}

static unsigned
parse_sections(const char *arg)
{
	char buf[128], *w, *save;
	unsigned set = 0;

	if (strlen(arg) >= sizeof(buf))
		ipc_usage("--section: too long: '%s'", arg);
	strcpy(buf, arg);
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned i;

		for (i = 0; i < 6 && strcmp(w, section_names[i]) != 0; i++)
			;
		if (i == 6)
			ipc_usage("--section: unknown section '%s' (ladder, bits, switch, kernel, "
				  "dynamic, tunables)", w);
		set |= 1u << i;
	}
	if (set == 0)
		ipc_usage("--section: no section named");
	return set;
}

static size_t
parse_size(const char *opt, const char *arg)
{
	long long v;
	const char *e;

	if (ipc_parse_count(arg, 0, 1LL << 32, &v, &e) == -1)
		ipc_usage("%s: %s: '%s'", opt, e, arg);
	return (size_t)v;
}

/* The run itself, last: what it ran on and whether it was interrupted. */
static void
report_run(struct state *S)
{
	struct ipc_section *s = ipc_report_section(S->rep, "run", NULL);

	if (s == NULL)
		err(1, "report");
	must(ipc_put_str(s, "glibc_version", NULL, gnu_get_libc_version()));
	must(ipc_put_int(s, "page_size", NULL, pagesize));
	must(ipc_put_int(s, "probes", NULL, probes_run));
	must(ipc_put_int(s, "probes_failed", NULL, probes_failed));
	must(ipc_put_bool(s, "interrupted", NULL, interrupted != 0));
	if (ipc_report_end(S->rep) == -1)
		out_failed();
	ipc_report_free(S->rep);
}

static void
parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "section", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		IPC_COMMON_LONGOPTS, { NULL, 0, NULL, 0 }
	};
	int c;

	*o = (struct opts){ .from = 16, .to = 1048576 };
	while ((c = getopt_long(argc, argv, "s:f:t:S:jJhV", lo, NULL)) != -1) {
		if (ipc_common_option(c, &help))
			continue;
		if (c == 's' && o->nsizes >= MAX_SIZES)
			ipc_usage("--size: at most %d sizes", MAX_SIZES);
		if (c == 's')
			o->sizes[o->nsizes++] = parse_size("--size", optarg);
		else if (c == 'f')
			o->from = parse_size("--from", optarg);
		else if (c == 't')
			o->to = parse_size("--to", optarg);
		else if (c == 'S')
			o->sections |= parse_sections(optarg);
		else if (c == 'j' || c == 'J')
			o->json = true;
	}
	if (optind < argc)
		ipc_usage("unexpected argument '%s'", argv[optind]);
	if (o->from == 0 || o->from > o->to)
		ipc_usage("--from must be at least 1 and at most --to (%zu)", o->to);
	if (o->sections == 0)
		o->sections = o->nsizes ? SEC_SIZE : SEC_ALL;
	else if (o->nsizes)
		o->sections |= SEC_SIZE;
}

int
mallocprobe_main(int argc, char **argv)
{
	static struct state S;
	const char *why_not;

	parse_args(&S.o, argc, argv);
	if ((why_not = not_glibc()) != NULL)
		errx(1, "%s", why_not);
	pagesize = sysconf(_SC_PAGESIZE);
	ipc_progress_init(&S.prog);
	if ((S.rep = ipc_report_new(stdout, S.o.json)) == NULL)
		err(1, "report");
	if (ipc_sig_handle(SIGINT, on_signal, false) == -1 ||
	    ipc_sig_handle(SIGTERM, on_signal, false) == -1 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)	/* a reader gone: EPIPE, a quiet 0 */
		err(1, "sigaction");
	if ((S.o.sections & SEC_LADDER) && !interrupted)
		section_ladder(&S);
	if ((S.o.sections & SEC_BITS) && !interrupted)
		section_bits(&S);
	if ((S.o.sections & SEC_SWITCH) && !interrupted)
		section_switch(&S);
	if ((S.o.sections & SEC_KERNEL) && !interrupted)
		section_kernel(&S);
	if ((S.o.sections & SEC_DYNAMIC) && !interrupted)
		section_dynamic(&S);
	if ((S.o.sections & SEC_TUNABLES) && !interrupted)
		section_tunables(&S);
	if ((S.o.sections & SEC_SIZE) && !interrupted)
		section_size(&S);
	ipc_progress_done(&S.prog);
	report_run(&S);
	if (interrupted)
		fprintf(stderr, "%s: interrupted; the report shows what was reached\n", ipc_progname());
	else if (probes_failed)
		fprintf(stderr, "%s: %d probe%s could not run; the report says which and why\n",
			ipc_progname(), probes_failed, probes_failed > 1 ? "s" : "");
	return interrupted ? 130 : probes_failed ? 1 : 0;
}
