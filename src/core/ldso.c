/* The dynamic loader's answer to "which file is library NAME?", read from its
 * trace mode in a child, so that NAME is never loaded into this process. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab/ldso.h"
#include "ipclab/map.h"
#include "ipclab/num.h"
#include "ipclab/proc.h"

struct interp {
	char *buf;
	size_t len;
	int found;
};

static int
find_interp(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct interp *in = arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {	/* the first object is the program */
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *s = (const char *)(info->dlpi_addr + ph->p_vaddr);

		if (ph->p_type == PT_INTERP && strnlen(s, ph->p_memsz) < in->len) {
			snprintf(in->buf, in->len, "%s", s);
			in->found = 1;
		}
	}
	return 1;
}

int
ipc_ldso_path(char *buf, size_t len)
{
	struct interp in = { buf, len, 0 };

	dl_iterate_phdr(find_interp, &in);
	if (!in.found) {
		ipc_failed_call = "PT_INTERP", ipc_failed_why = "this program has no dynamic loader";
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* The line of BUF[0..n) that begins at *pos, as [*l, *e); advances *pos. */
static int
next_line(const char *buf, size_t n, size_t *pos, const char **l, const char **e)
{
	const char *nl;

	if (*pos >= n)
		return 0;
	*l = buf + *pos;
	nl = memchr(*l, '\n', n - *pos);
	*e = nl ? nl : buf + n;
	*pos = (size_t)(*e - buf) + 1;
	return 1;
}

/* The path of "PATH (0xHEX)" in [l, e): its length, or 0 when it is not one. */
static size_t
path_before_address(const char *l, const char *e)
{
	const char *p = e;

	if (p - l < 5 || p[-1] != ')')
		return 0;
	for (p -= 2; p > l && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')); p--)
		;
	if (p - l < 3 || memcmp(p - 3, " (0x", 4) != 0 || p + 1 >= e - 1)
		return 0;
	return (size_t)(p - 3 - l);
}

static int
copy_out(const char *s, size_t n, char *out, size_t len)
{
	if (n == 0 || n >= len || memchr(s, '\0', n))
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return 1;
}

int
ipc_ldso_trace_find(const char *out, size_t n, const char *name, char *path, size_t len)
{
	size_t pos = 0, k = strlen(name), plen;
	const char *l, *e;

	while (next_line(out, n, &pos, &l, &e)) {
		if (l == e || *l++ != '\t' || (plen = path_before_address(l, e)) == 0)
			continue;
		if (plen > k + 4 && memcmp(l, name, k) == 0 && memcmp(l + k, " => ", 4) == 0)
			return copy_out(l + k + 4, plen - k - 4, path, len);
		if (memmem(l, plen, " => ", 4) == NULL && plen > k && memchr(l, '/', plen) &&
		    l[plen - k - 1] == '/' && memcmp(l + plen - k, name, k) == 0)
			return copy_out(l, plen, path, len);
	}
	return 0;
}

int
ipc_ldso_trace_error(const char *err, size_t n, const char *name, char *why, size_t len)
{
	static const char mid[] = "' from --preload cannot be preloaded (", tail[] = "): ignored.";
	size_t pos = 0, k = strlen(name);
	const char *l, *e, *p;

	while (next_line(err, n, &pos, &l, &e)) {
		if ((p = memmem(l, (size_t)(e - l), "object '", 8)) == NULL)
			continue;
		p += 8;
		if ((size_t)(e - p) < k + sizeof(mid) - 1 + sizeof(tail) - 1 ||
		    memcmp(p, name, k) != 0 || memcmp(p + k, mid, sizeof(mid) - 1) != 0 ||
		    memcmp(e - (sizeof(tail) - 1), tail, sizeof(tail) - 1) != 0)
			continue;
		p += k + sizeof(mid) - 1;
		snprintf(why, len, "%.*s", (int)(e - (sizeof(tail) - 1) - p), p);
		return 1;
	}
	return 0;
}

/* This environment without the LD_ variables that make the loader do more than
 * map (LD_WARN and LD_BIND_NOW relocate, which runs IFUNC resolvers; LD_AUDIT
 * and LD_PRELOAD add objects), LD_LIBRARY_PATH kept, and trace mode on. */
static char **
trace_env(void)
{
	extern char **environ;
	size_t n = 0, k = 0;
	char **v;

	while (environ[n])
		n++;
	if ((v = calloc(n + 2, sizeof(*v))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_", 3) != 0 ||
		    strncmp(environ[i], "LD_LIBRARY_PATH=", 16) == 0)
			v[k++] = environ[i];
	v[k] = "LD_TRACE_LOADED_OBJECTS=1";
	return v;
}

static int
to_pipes(void *arg)
{
	const int *w = arg;

	return dup2(w[0], STDOUT_FILENO) == -1 || dup2(w[1], STDERR_FILENO) == -1 ? -1 : 0;
}

struct answer {
	char out[65536], err[8192];
	size_t nout, nerr;
};

/* Reads the loader's stdout and stderr (R[0], R[1]) to their ends, keeping
 * what fits.  Returns 0, or -1 with errno ETIMEDOUT or EINTR. */
static int
read_answer(const int r[2], struct answer *a, uint64_t deadline, volatile sig_atomic_t *stop)
{
	struct pollfd p[2] = { { .fd = r[0], .events = POLLIN }, { .fd = r[1], .events = POLLIN } };
	char *buf[2] = { a->out, a->err };
	size_t cap[2] = { sizeof(a->out), sizeof(a->err) }, *got[2] = { &a->nout, &a->nerr };
	char sink[4096];
	int ms;

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (stop && *stop)
			return errno = EINTR, -1;
		if ((ms = ipc_slice_ms(deadline)) < 0)
			return errno = ETIMEDOUT, -1;
		if (poll(p, 2, ms) == -1 && errno != EINTR)
			return -1;
		for (int i = 0; i < 2; i++) {
			size_t room = cap[i] - *got[i];
			ssize_t m;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			m = room ? read(p[i].fd, buf[i] + *got[i], room) : read(p[i].fd, sink, sizeof(sink));
			if (m > 0 && room)
				*got[i] += (size_t)m;
			else if (m == 0 || (m == -1 && errno != EINTR && errno != EAGAIN))
				p[i].fd = -1;
		}
	}
	return 0;
}

/* Whether DIR/NAME is a FIFO, socket or device, which opening waits on: then
 * says so in WHY. */
static int
blocks(const char *dir, size_t dlen, const char *name, char *why, size_t len)
{
	char path[PATH_MAX];
	struct stat st;

	if (dlen == 0)	/* an empty element of LD_LIBRARY_PATH: the working directory */
		dir = ".", dlen = 1;
	if (snprintf(path, sizeof(path), "%.*s/%s", (int)dlen, dir, name) >= (int)sizeof(path) ||
	    stat(path, &st) == -1 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return 0;
	snprintf(why, len, "%s, on its search path, is %s, which open(2) waits on", path,
		 ipc_ftype(st.st_mode));
	return 1;
}

/* After a hung answer: such a file named NAME in a directory of the child's
 * LD_LIBRARY_PATH (this environment's, split at ':' and ';' as the loader
 * does) or of this program's own search path (dlinfo(3) RTLD_DI_SERINFO);
 * WHY "" when there is none.  Keeps errno. */
static void
blocking_candidate(const char *name, char *why, size_t len)
{
	const char *lp = getenv("LD_LIBRARY_PATH");
	void *h = dlopen(NULL, RTLD_LAZY);	/* the program: loads nothing */
	Dl_serinfo size, *si = NULL;
	int e = errno, found = 0;

	why[0] = '\0';
	for (const char *p = lp; p && !found;) {
		size_t n = strcspn(p, ":;");

		found = blocks(p, n, name, why, len);
		p = p[n] ? p + n + 1 : NULL;
	}
	if (!found && h && dlinfo(h, RTLD_DI_SERINFOSIZE, &size) == 0 &&
	    (si = malloc(size.dls_size)) != NULL) {
		*si = size;
		if (dlinfo(h, RTLD_DI_SERINFO, si) == 0)
			for (unsigned i = 0; i < si->dls_cnt && !found; i++)
				found = blocks(si->dls_serpath[i].dls_name,
					       strlen(si->dls_serpath[i].dls_name), name, why, len);
	}
	free(si);
	errno = e;
}

/* What the loader said, as ipc_ldso_resolve() returns it. */
static int
answer_result(const struct answer *a, int status, const char *name, char *path,
	      size_t len, char *why, size_t whylen)
{
	char st[64];
	const char *nl;

	ipc_failed_call = "ld.so", ipc_failed_why = NULL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		nl = memchr(a->err, '\n', a->nerr);
		snprintf(why, whylen, "%s: %.*s", ipc_status_str(status, st, sizeof(st)),
			 (int)(nl ? (size_t)(nl - a->err) : a->nerr), a->err);
		return errno = EPROTO, -1;
	}
	if (ipc_ldso_trace_find(a->out, a->nout, name, path, len))
		return 0;
	if (!ipc_ldso_trace_error(a->err, a->nerr, name, why, whylen))
		snprintf(why, whylen, "it mapped no file under that name");
	return errno = ENOENT, -1;
}

/* Waits for the loader PID after its output ended, until DEADLINE; kills and
 * reaps it when it is not done.  Returns 0, or -1 with errno set. */
static int
reap(pid_t pid, int *status, uint64_t deadline, volatile sig_atomic_t *stop, int failed)
{
	uint64_t now = ipc_now_ns();
	int left = now >= deadline ? 0 : (int)((deadline - now) / 1000000u), w = 0, e;

	if (!failed && (w = ipc_wait_for(pid, status, left, stop)) == pid)
		return 0;
	e = !failed && w == 0 ? (stop && *stop ? EINTR : ETIMEDOUT) : errno;
	kill(pid, SIGKILL);
	ipc_wait(pid, status, 0);
	ipc_failed_call = "ld.so", ipc_failed_why = NULL;
	return errno = e, -1;
}

/* Spawns the loader on ARGV with its output into pipes, and reads it.
 * Returns 0 with A and *status filled, or -1 with errno set. */
static int
ask(char *argv[], struct answer *a, int *status, int timeout_ms, volatile sig_atomic_t *stop)
{
	uint64_t deadline = ipc_now_ns() + (uint64_t)timeout_ms * 1000000u;
	int o[2] = { -1, -1 }, e[2] = { -1, -1 }, r = -1, err;
	char **env = trace_env();
	pid_t pid;

	ipc_failed_call = "pipe", ipc_failed_why = NULL;
	if (env != NULL && pipe2(o, O_CLOEXEC) == 0 && pipe2(e, O_CLOEXEC) == 0) {
		int w[2] = { o[1], e[1] }, rd[2] = { o[0], e[0] };

		pid = ipc_spawn(argv[0], argv, env, to_pipes, w);
		close(o[1]), close(e[1]);
		o[1] = e[1] = -1;
		if (pid != -1)
			r = reap(pid, status, deadline, stop, read_answer(rd, a, deadline, stop) == -1);
	} else if (env == NULL) {
		ipc_failed_call = "malloc";
	}
	err = errno;
	for (int i = 0; i < 2; i++)
		if (o[i] >= 0)
			close(o[i]);
	for (int i = 0; i < 2; i++)
		if (e[i] >= 0)
			close(e[i]);
	free(env);
	errno = err;
	return r;
}

int
ipc_ldso_resolve(const char *name, int timeout_ms, volatile sig_atomic_t *stop,
		 char *path, size_t len, char *why, size_t whylen)
{
	char ldso[PATH_MAX], exe[32];
	char *argv[] = { ldso, "--preload", (char *)name, exe, NULL };
	struct answer *a;
	int status, r;

	why[0] = '\0';
	if (name[0] == '\0' || strpbrk(name, "/: \t\n")) {
		ipc_failed_call = "ld.so", ipc_failed_why = NULL;
		snprintf(why, whylen, "a name with '/', ':' or white space is not a library name");
		return errno = EINVAL, -1;
	}
	if (ipc_ldso_path(ldso, sizeof(ldso)) == -1)
		return -1;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)getpid());
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ipc_failed_call = "malloc", -1;
	r = ask(argv, a, &status, timeout_ms, stop);
	if (r == 0)
		r = answer_result(a, status, name, path, len, why, whylen);
	else if (errno == ETIMEDOUT)
		blocking_candidate(name, why, whylen);	/* keeps errno */
	free(a);
	return r;
}
