/*
 * libipclab_io.so: the preload shim of `ipclab iotrace` (seed 000).
 *
 *	LD_PRELOAD=/path/to/libipclab_io.so CMD [ARGS]
 *
 * Counts, per descriptor, the calls and bytes that each entry point of glibc
 * moved through the kernel, and reports one line per descriptor when it is
 * closed (and at exec and exit for those still open):
 *
 *	iotrace: pid=P fd=N at=close opens=O reads=R read_bytes=B writes=W
 *	         write_bytes=B path=/etc/passwd
 *
 * Where the lines go: the report pipe of `ipclab iotrace` when
 * IPCLAB_IOTRACE_FD names an open descriptor (inherited across exec, hidden
 * from close, close_range, closefrom and dup2), else a close-on-exec copy of
 * fd 2 taken at load, so that a program that closes its stderr still gets its
 * report.  Each line is one write(2) of less than PIPE_BUF bytes, so lines of
 * processes and threads never interleave.
 *
 * The cost: the read/write path takes no lock and makes no system call; it
 * adds one or two additions to a fixed static array, plain add instructions
 * while the process has one thread, relaxed atomic ones after.  No
 * wrapper allocates; the reporting path formats by hand on the stack and so
 * may be reached from a signal handler.  errno is what the real call left.
 *
 * stdio: glibc's own fread/fwrite/... call read(2) and write(2) through
 * internal aliases that no preload can see.  So each stdio wrapper compares
 * the FILE's public buffer pointers (struct _IO_FILE) before and after the
 * call: bytes that reached the kernel = bytes the call handed over or took
 * + the change in what waits in the buffer.  Exact for every refill and every
 * flush made inside a wrapped call, whatever the size of the request.
 */
#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/single_threaded.h>
#include <sys/ucontext.h>
#include <sys/sendfile.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

/* Inline and macro forms from glibc's headers would shadow the wrappers. */
#undef getc
#undef putc
#undef getc_unlocked
#undef putc_unlocked
#undef getchar
#undef putchar
#undef getchar_unlocked
#undef putchar_unlocked
#undef fgetc_unlocked
#undef fputc_unlocked
#undef fread_unlocked
#undef fwrite_unlocked
#undef fputs_unlocked

#define CHUNK 4096		/* descriptors per table chunk */
#define NCHUNK 2048		/* chunks: fds up to 8M, above nr_open's default */
#define RELAXED __ATOMIC_RELAXED
#define EXPORT __attribute__((visibility("default")))
#define NAMEMAX 1024
#define LINEMAX 1536		/* < PIPE_BUF: one atomic pipe write */
#define FLAGS2_NEED_LOCK 128	/* glibc libio.h: _IO_FLAGS2_NEED_LOCK */
#define USER_LOCK 0x8000	/* glibc libio.h: _IO_USER_LOCK */

struct fdc {
	unsigned long opens, reads, rbytes, writes, wbytes;
};

/* The descriptor table: chunks of CHUNK descriptors, each mapped on first
 * use (mmap is safe in a signal handler, malloc is not); a chunk holds the
 * counters and the name each descriptor had when it was opened ("" when the
 * shim did not see it open).  Names take a page only once written. */
struct chunk {
	struct fdc c[CHUNK];
	char name[CHUNK][NAMEMAX];
};

static struct chunk *chunks[NCHUNK];
static struct fdc spill;	/* fds beyond the table, or no memory for a chunk */
static int fdhigh;		/* the highest fd ever counted */
static unsigned long own_r, own_w;	/* the shim's own bytes, in rchar/wchar */
static int repfd = -1;		/* where the lines go */
static int piped;		/* repfd is iotrace's pipe, inherited by exec */
static pid_t owner;		/* the process these counters belong to */
static char envbuf[64] = "IPCLAB_IOTRACE_FD=";

extern FILE *_IO_list_all;	/* glibc: the chain of every open FILE */

/* Entry points that glibc's headers declare only under _FORTIFY_SOURCE. */
int __underflow(FILE *);
int __isoc99_vfscanf(FILE *, const char *, va_list);
int __isoc99_fscanf(FILE *, const char *, ...);
int __isoc99_scanf(const char *, ...);
int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);
ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __pread_chk(int, void *, size_t, off_t, size_t);
ssize_t __pread64_chk(int, void *, size_t, off64_t, size_t);
ssize_t __recv_chk(int, void *, size_t, size_t, int);
ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *,
		       socklen_t *);
size_t __fread_chk(void *, size_t, size_t, size_t, FILE *);
size_t __fread_unlocked_chk(void *, size_t, size_t, size_t, FILE *);
char *__fgets_chk(char *, size_t, int, FILE *);
char *__fgets_unlocked_chk(char *, size_t, int, FILE *);
int __printf_chk(int, const char *, ...);
int __fprintf_chk(FILE *, int, const char *, ...);
int __vprintf_chk(int, const char *, va_list);
int __vfprintf_chk(FILE *, int, const char *, va_list);
int __dprintf_chk(int, int, const char *, ...);
int __vdprintf_chk(int, int, const char *, va_list);

/* ---- the real functions ------------------------------------------------ */

#define REALS(X) \
	X(open) X(open64) X(openat) X(openat64) X(__open_2) X(__open64_2) \
	X(__openat_2) X(__openat64_2) X(creat) X(creat64) \
	X(read) X(write) X(pread) X(pread64) X(pwrite) X(pwrite64) \
	X(readv) X(writev) X(preadv) X(preadv64) X(pwritev) X(pwritev64) \
	X(preadv2) X(preadv64v2) X(pwritev2) X(pwritev64v2) \
	X(__read_chk) X(__pread_chk) X(__pread64_chk) \
	X(recv) X(recvfrom) X(recvmsg) X(send) X(sendto) X(sendmsg) \
	X(__recv_chk) X(__recvfrom_chk) \
	X(copy_file_range) X(sendfile) X(sendfile64) X(splice) X(vmsplice) \
	X(dup) X(dup2) X(dup3) X(fcntl) X(fcntl64) \
	X(close) X(close_range) X(closefrom) \
	X(execve) X(execveat) X(execvpe) X(fexecve) X(_exit) X(_Exit) \
	X(fopen) X(fopen64) X(freopen) X(freopen64) X(fclose) X(pclose) \
	X(fflush) X(fflush_unlocked) X(fseek) X(fseeko) X(fseeko64) \
	X(rewind) X(fsetpos) X(fsetpos64) \
	X(fread) X(fread_unlocked) X(__fread_chk) X(__fread_unlocked_chk) \
	X(fgets) X(fgets_unlocked) X(__fgets_chk) X(__fgets_unlocked_chk) \
	X(fgetc) X(getc) X(fgetc_unlocked) X(getc_unlocked) X(getchar) \
	X(getchar_unlocked) X(__uflow) X(__underflow) \
	X(getline) X(getdelim) X(__getdelim) \
	X(fwrite) X(fwrite_unlocked) X(fputs) X(fputs_unlocked) X(puts) \
	X(fputc) X(putc) X(fputc_unlocked) X(putc_unlocked) X(putchar) \
	X(putchar_unlocked) X(__overflow) \
	X(vprintf) X(vfprintf) X(__vprintf_chk) X(__vfprintf_chk) \
	X(vdprintf) X(__vdprintf_chk) X(sigaction) X(signal) \
	X(error) X(vwarn) X(vwarnx) X(verr) X(verrx) X(perror) X(error_at_line) \
	X(ungetc) X(vfscanf) X(__isoc99_vfscanf) X(eventfd_read) X(eventfd_write)

#define DECLARE(f) static __typeof__(f) *real_##f;
REALS(DECLARE)

/* dlsym may allocate, and an allocator may read a file: a wrapper reached
 * while this thread resolves gets NULL and falls back (see REAL). */
static void *
resolve(const char *name, void **slot)
{
	static __thread int busy __attribute__((tls_model("initial-exec")));
	void *p;
	int e;

	if (busy)
		return NULL;
	busy = 1;
	e = errno;
	p = dlsym(RTLD_NEXT, name);
	errno = e;
	busy = 0;
	if (p)
		__atomic_store_n(slot, p, RELAXED);
	return p;
}

#define REAL(f) ({ __typeof__(real_##f) q_ = __atomic_load_n(&real_##f, RELAXED); \
	q_ ? q_ : (__typeof__(real_##f))resolve(#f, (void **)&real_##f); })

/* For the calls that must work before dlsym can: the system call itself. */
#define SYS(f, nr, ...) ({ __typeof__(real_##f) p_ = REAL(f); \
	p_ ? p_(__VA_ARGS__) : syscall(nr, __VA_ARGS__); })

/* For the others: fail as a missing function would. */
#define NOSYS(ret) do { errno = ENOSYS; return ret; } while (0)

/* A variadic wrapper calling its va_list twin. */
#define VA(call, last) do { \
	va_list ap; \
	va_start(ap, last); \
	call; \
	va_end(ap); } while (0)

/* ---- counters ---------------------------------------------------------- */

/* fd's chunk, mapped when make says so and it is missing; NULL if none. */
static struct chunk *
chunk_of(int fd, int make)
{
	struct chunk *c, *none = NULL;
	unsigned int i = (unsigned int)fd / CHUNK;

	if (fd < 0 || i >= NCHUNK)
		return NULL;
	c = __atomic_load_n(&chunks[i], __ATOMIC_ACQUIRE);
	if (c || !make)
		return c;
	c = (struct chunk *)syscall(SYS_mmap, NULL, sizeof(*c), PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c == MAP_FAILED)
		return NULL;
	if (!__atomic_compare_exchange_n(&chunks[i], &none, c, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		syscall(SYS_munmap, c, sizeof(*c));
		c = none;
	}
	return c;
}

static __attribute__((noinline)) struct fdc *
slot_slow(int fd)
{
	struct chunk *c = chunk_of(fd, 1);

	return c ? &c->c[fd % CHUNK] : &spill;
}

static inline struct fdc *
slot(int fd)
{
	struct chunk *c = (unsigned int)fd < CHUNK * NCHUNK ?
			  __atomic_load_n(&chunks[fd / CHUNK], __ATOMIC_ACQUIRE) : NULL;
	int h = __atomic_load_n(&fdhigh, RELAXED);

	while (fd > h && !__atomic_compare_exchange_n(&fdhigh, &h, fd, 1, RELAXED, RELAXED))
		;
	return c ? &c->c[fd % CHUNK] : slot_slow(fd);
}

/* The name fd had at its open, or NULL. */
static char *
openname(int fd, int make)
{
	struct chunk *c = chunk_of(fd, make);

	return c ? c->name[fd % CHUNK] : NULL;
}

/* One call and its bytes.  While the process has a single thread (glibc's
 * __libc_single_threaded), plain add instructions: nothing else can touch
 * the counters, and a signal handler runs between instructions, so it
 * cannot tear one; a locked add costs about twenty times as much.  Once a
 * second thread exists, relaxed atomic additions. */
static inline void
tally(unsigned long *calls, unsigned long *bytes, unsigned long n)
{
#if defined(__x86_64__)
	if (__libc_single_threaded) {
		__asm__ volatile("addq $1, %0\n\taddq %2, %1"
				 : "+m"(*calls), "+m"(*bytes) : "er"(n));
		return;
	}
#endif
	__atomic_fetch_add(calls, 1, RELAXED);
	if (n > 0)
		__atomic_fetch_add(bytes, n, RELAXED);
}

static inline void
count_r(int fd, long n)
{
	struct fdc *c;

	if (fd < 0 || n < 0)
		return;
	c = slot(fd);
	tally(&c->reads, &c->rbytes, (unsigned long)n);
}

static inline void
count_w(int fd, long n)
{
	struct fdc *c;

	if (fd < 0 || n < 0)
		return;
	c = slot(fd);
	tally(&c->writes, &c->wbytes, (unsigned long)n);
}

/* The counters are this process's own: not a vfork child (which shares our
 * memory) and not a child made without fork's handlers. */
static void iotrace_init(void);

static int
mine(void)
{
	if (__atomic_load_n(&owner, RELAXED) == 0)
		iotrace_init();	/* a library's constructor ran before ours */
	return (pid_t)syscall(SYS_getpid) == owner;
}

/* ---- report lines ------------------------------------------------------ */

struct line {
	char b[LINEMAX];
	size_t n;
};

static void
put(struct line *l, const char *s)
{
	while (*s && l->n < sizeof(l->b) - 2)
		l->b[l->n++] = *s++;
}

static void
putnum(struct line *l, const char *key, unsigned long v)
{
	char t[24];
	int i = 0;

	put(l, key);
	do
		t[i++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (i > 0 && l->n < sizeof(l->b) - 2)
		l->b[l->n++] = t[--i];
}

/* The path, with newline and backslash escaped so that a line stays one. */
static void
putpath(struct line *l, const char *s)
{
	for (; *s && l->n < sizeof(l->b) - 3; s++) {
		if (*s == '\n' || *s == '\\') {
			l->b[l->n++] = '\\';
			l->b[l->n++] = *s == '\n' ? 'n' : '\\';
		} else {
			l->b[l->n++] = *s;
		}
	}
}

static void
send_line(struct line *l)
{
	size_t off = 0;
	ssize_t w;
	int e = errno;

	l->b[l->n++] = '\n';
	while (repfd >= 0 && off < l->n) {
		w = syscall(SYS_write, repfd, l->b + off, l->n - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
		__atomic_fetch_add(&own_w, (unsigned long)w, RELAXED);
	}
	errno = e;
}

/* What the kernel calls fd: a path, pipe:[ino], socket:[ino], anon_inode:... */
static void
fdname(int fd, char *buf, size_t len)
{
	struct line p = { .n = 0 };
	ssize_t n;
	int e = errno;

	putnum(&p, "/proc/self/fd/", (unsigned long)fd);
	p.b[p.n] = '\0';
	n = readlink(p.b, buf, len - 1);
	if (n < 0) {
		buf[0] = '?';
		n = 1;
	}
	buf[n] = '\0';
	errno = e;
}

static void
emit(int fd, const char *at, const struct fdc *c, const char *name)
{
	struct line l = { .n = 0 };

	putnum(&l, "iotrace: pid=", (unsigned long)owner);
	putnum(&l, " fd=", (unsigned long)fd);
	put(&l, " at=");
	put(&l, at);
	putnum(&l, " opens=", c->opens);
	putnum(&l, " reads=", c->reads);
	putnum(&l, " read_bytes=", c->rbytes);
	putnum(&l, " writes=", c->writes);
	putnum(&l, " write_bytes=", c->wbytes);
	put(&l, " path=");
	putpath(&l, name);
	send_line(&l);
}

static int
take_slot(struct fdc *s, struct fdc *c)
{
	if (!(__atomic_load_n(&s->opens, RELAXED) | __atomic_load_n(&s->reads, RELAXED) |
	      __atomic_load_n(&s->writes, RELAXED)))
		return 0;
	c->opens = __atomic_exchange_n(&s->opens, 0, RELAXED);
	c->reads = __atomic_exchange_n(&s->reads, 0, RELAXED);
	c->rbytes = __atomic_exchange_n(&s->rbytes, 0, RELAXED);
	c->writes = __atomic_exchange_n(&s->writes, 0, RELAXED);
	c->wbytes = __atomic_exchange_n(&s->wbytes, 0, RELAXED);
	return 1;
}

/* Takes fd's counters (leaving zeros) into *c; false when there were none. */
static int
take(int fd, struct fdc *c)
{
	struct chunk *k = chunk_of(fd, 0);

	return k ? take_slot(&k->c[fd % CHUNK], c) : 0;
}

/* A file removed before its close is named "NAME (deleted)": not a rename. */
static int
same_file_name(const char *then, const char *now)
{
	size_t n = strlen(then);

	return strncmp(then, now, n) == 0 && (now[n] == '\0' || strcmp(now + n, " (deleted)") == 0);
}

static void
emit_renamed(int fd, const char *now)
{
	struct line l = { .n = 0 };

	putnum(&l, "iotrace: pid=", (unsigned long)owner);
	putnum(&l, " fd=", (unsigned long)fd);
	put(&l, " at=renamed path=");
	putpath(&l, now);
	send_line(&l);
}

/* One line for fd, when it moved anything, before it goes away: under the
 * name it had when opened, after a line with its name now if that differs. */
static void
report(int fd, const char *at)
{
	char name[NAMEMAX], *then;
	struct fdc c;

	if (fd < 0 || !mine() || !take(fd, &c))
		return;
	fdname(fd, name, sizeof(name));
	then = openname(fd, 0);
	if (then && then[0] && !same_file_name(then, name)) {
		emit_renamed(fd, name);
		emit(fd, at, &c, then);
	} else {
		emit(fd, at, &c, name);
	}
}

/* fd is closed: its name at open goes with it. */
static void
forget(int fd)
{
	char *then = openname(fd, 0);

	if (then && mine())
		then[0] = '\0';
}

static void mark(const char *at);

/* Every descriptor's line, then (to iotrace) that this image is done. */
static void
report_all(const char *at)
{
	int high = __atomic_load_n(&fdhigh, RELAXED);
	struct fdc c;

	if (!mine())
		return;
	for (int fd = 0; fd <= high; fd++) {
		if (chunk_of(fd, 0) == NULL) {
			fd |= CHUNK - 1;	/* a chunk never used */
			continue;
		}
		if (fd != repfd)
			report(fd, at);
	}
	if (take_slot(&spill, &c))
		emit(CHUNK * NCHUNK, at, &c, "?");
	if (piped)
		mark("end");
}

/* A new descriptor: counters left by a close the shim could not see (glibc
 * closing for itself) are reported under the old name they can no longer
 * have; then one open is counted, and the name it has now is kept. */
static void
opened(int fd, int opens)
{
	struct fdc c;
	char *then;

	if (fd < 0)
		return;
	if (mine()) {	/* not a vfork child, which shares our table */
		then = openname(fd, 1);
		if (take(fd, &c))
			emit(fd, "unseen-close", &c, then && then[0] ? then : "?");
		if (then)
			fdname(fd, then, NAMEMAX);
	}
	if (opens)
		__atomic_fetch_add(&slot(fd)->opens, 1, RELAXED);
}

/* The program wants fd repfd for itself (dup2 onto it): move ours away. */
static void
relocate(void)
{
	int fd = (int)syscall(SYS_fcntl, repfd, piped ? F_DUPFD : F_DUPFD_CLOEXEC, repfd + 1);
	char *p;
	struct line l = { .n = 0 };

	if (fd < 0)
		return;
	repfd = fd;
	if (!piped)
		return;
	putnum(&l, "", (unsigned long)fd);
	l.b[l.n] = '\0';
	p = envbuf + sizeof("IPCLAB_IOTRACE_FD=") - 1;
	memcpy(p, l.b, l.n + 1);
}

/* ---- the open family --------------------------------------------------- */

#define MODE(flags, mode) do { \
	if (__OPEN_NEEDS_MODE(flags)) { \
		va_list ap; \
		va_start(ap, flags); \
		mode = va_arg(ap, mode_t); \
		va_end(ap); \
	} } while (0)

static int
opened_ret(int fd)
{
	int e = errno;

	opened(fd, 1);
	errno = e;
	return fd;
}

/* A new descriptor that is not an open: dup, dup2, dup3, F_DUPFD. */
static int
duped_ret(int fd)
{
	int e = errno;

	opened(fd, 0);
	errno = e;
	return fd;
}

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE(flags, mode);
	return opened_ret((int)SYS(open, SYS_open, path, flags, mode));
}

EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE(flags, mode);
	return opened_ret((int)SYS(open64, SYS_open, path, flags, mode));
}

EXPORT int openat(int dir, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE(flags, mode);
	return opened_ret((int)SYS(openat, SYS_openat, dir, path, flags, mode));
}

EXPORT int openat64(int dir, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE(flags, mode);
	return opened_ret((int)SYS(openat64, SYS_openat, dir, path, flags, mode));
}

EXPORT int __open_2(const char *path, int flags)
{
	if (!REAL(__open_2))
		NOSYS(-1);
	return opened_ret(real___open_2(path, flags));
}

EXPORT int __open64_2(const char *path, int flags)
{
	if (!REAL(__open64_2))
		NOSYS(-1);
	return opened_ret(real___open64_2(path, flags));
}

EXPORT int __openat_2(int dir, const char *path, int flags)
{
	if (!REAL(__openat_2))
		NOSYS(-1);
	return opened_ret(real___openat_2(dir, path, flags));
}

EXPORT int __openat64_2(int dir, const char *path, int flags)
{
	if (!REAL(__openat64_2))
		NOSYS(-1);
	return opened_ret(real___openat64_2(dir, path, flags));
}

EXPORT int creat(const char *path, mode_t mode)
{
	return opened_ret((int)SYS(creat, SYS_creat, path, mode));
}

EXPORT int creat64(const char *path, mode_t mode)
{
	return opened_ret((int)SYS(creat64, SYS_creat, path, mode));
}

/* ---- the direct path --------------------------------------------------- */

/* In a process with one thread, glibc's read, write and their p and v forms
 * are the bare system call: no cancellation point is armed.  So, when the
 * next definition of each is glibc's own (no other preloaded library wraps
 * them), the wrappers make the system call themselves.  The saving is the
 * return through libc after the system call: on CPUs whose kernel refills
 * the return predictor on the way out, that return mispredicts, and a
 * wrapper calling through costs about 20 ns instead of 2 (bench/iotrace). */
#if defined(__x86_64__)
#define RAW_NAMES "read", "write", "pread", "pread64", "pwrite", "pwrite64", \
	"readv", "writev", "__read_chk", "__pread_chk", "__pread64_chk"

static int rawok;		/* every RAW_NAMES is glibc's own */

static inline long
raw(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long r;

	__asm__ volatile("syscall" : "=a"(r)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

#define DIRECT() (__atomic_load_n(&rawok, RELAXED) && __libc_single_threaded)
#define RAW(nr, a, b, c, d) raw(nr, (long)(a), (long)(b), (long)(c), (long)(d))

static void
raw_check(void)
{
	static const char *const names[] = { RAW_NAMES };
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	int ok = libc != NULL;

	for (size_t i = 0; ok && i < sizeof(names) / sizeof(names[0]); i++) {
		void *next = dlsym(RTLD_NEXT, names[i]);

		ok = next && next == dlsym(libc, names[i]);
	}
	if (libc)
		dlclose(libc);
	__atomic_store_n(&rawok, ok, RELAXED);
}
#else
#define DIRECT() 0
#define RAW(nr, a, b, c, d) (-1L)
static void raw_check(void) {}
#endif

/* ---- the read/write family --------------------------------------------- */

/* Counting leaves errno alone: it makes no call. */
#define RD(fd, expr) do { \
	ssize_t r_ = (expr); \
	if (r_ >= 0) \
		count_r(fd, r_); \
	return r_; } while (0)

/* The write this thread is in (fd + 1, 0: none), and the descriptor a copy
 * reads from: a write cut short by a reader that left returns its partial
 * count and raises SIGPIPE at once, before the wrapper can count it. */
static __thread struct {
	int out, in;
} inraw __attribute__((tls_model("initial-exec")));

#define WR(fd, expr) do { \
	ssize_t r_; \
	inraw.out = (fd) + 1; \
	r_ = (expr); \
	inraw.out = 0; \
	if (r_ >= 0) \
		count_w(fd, r_); \
	return r_; } while (0)

/* The same for calls resolved by dlsym only. */
#define RDF(f, fd, ...) do { if (!REAL(f)) NOSYS(-1); RD(fd, real_##f(__VA_ARGS__)); } while (0)
#define WRF(f, fd, ...) do { if (!REAL(f)) NOSYS(-1); WR(fd, real_##f(__VA_ARGS__)); } while (0)

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	if (DIRECT())
		RD(fd, RAW(SYS_read, fd, buf, n, 0));
	RD(fd, SYS(read, SYS_read, fd, buf, n));
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	if (DIRECT())
		WR(fd, RAW(SYS_write, fd, buf, n, 0));
	WR(fd, SYS(write, SYS_write, fd, buf, n));
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	if (DIRECT())
		RD(fd, RAW(SYS_pread64, fd, buf, n, off));
	RD(fd, SYS(pread, SYS_pread64, fd, buf, n, off));
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	if (DIRECT())
		RD(fd, RAW(SYS_pread64, fd, buf, n, off));
	RD(fd, SYS(pread64, SYS_pread64, fd, buf, n, off));
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (DIRECT())
		WR(fd, RAW(SYS_pwrite64, fd, buf, n, off));
	WR(fd, SYS(pwrite, SYS_pwrite64, fd, buf, n, off));
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	if (DIRECT())
		WR(fd, RAW(SYS_pwrite64, fd, buf, n, off));
	WR(fd, SYS(pwrite64, SYS_pwrite64, fd, buf, n, off));
}

EXPORT ssize_t readv(int fd, const struct iovec *v, int n)
{
	if (DIRECT())
		RD(fd, RAW(SYS_readv, fd, v, n, 0));
	RD(fd, SYS(readv, SYS_readv, fd, v, n));
}

EXPORT ssize_t writev(int fd, const struct iovec *v, int n)
{
	if (DIRECT())
		WR(fd, RAW(SYS_writev, fd, v, n, 0));
	WR(fd, SYS(writev, SYS_writev, fd, v, n));
}

EXPORT ssize_t preadv(int fd, const struct iovec *v, int n, off_t off)
{
	RDF(preadv, fd, fd, v, n, off);
}

EXPORT ssize_t preadv64(int fd, const struct iovec *v, int n, off64_t off)
{
	RDF(preadv64, fd, fd, v, n, off);
}

EXPORT ssize_t pwritev(int fd, const struct iovec *v, int n, off_t off)
{
	WRF(pwritev, fd, fd, v, n, off);
}

EXPORT ssize_t pwritev64(int fd, const struct iovec *v, int n, off64_t off)
{
	WRF(pwritev64, fd, fd, v, n, off);
}

EXPORT ssize_t preadv2(int fd, const struct iovec *v, int n, off_t off, int fl)
{
	RDF(preadv2, fd, fd, v, n, off, fl);
}

EXPORT ssize_t preadv64v2(int fd, const struct iovec *v, int n, off64_t off, int fl)
{
	RDF(preadv64v2, fd, fd, v, n, off, fl);
}

EXPORT ssize_t pwritev2(int fd, const struct iovec *v, int n, off_t off, int fl)
{
	WRF(pwritev2, fd, fd, v, n, off, fl);
}

EXPORT ssize_t pwritev64v2(int fd, const struct iovec *v, int n, off64_t off, int fl)
{
	WRF(pwritev64v2, fd, fd, v, n, off, fl);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (DIRECT() && n <= buflen)	/* else glibc's aborts */
		RD(fd, RAW(SYS_read, fd, buf, n, 0));
	RDF(__read_chk, fd, fd, buf, n, buflen);
}

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (DIRECT() && n <= buflen)
		RD(fd, RAW(SYS_pread64, fd, buf, n, off));
	RDF(__pread_chk, fd, fd, buf, n, off, buflen);
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
	if (DIRECT() && n <= buflen)
		RD(fd, RAW(SYS_pread64, fd, buf, n, off));
	RDF(__pread64_chk, fd, fd, buf, n, off, buflen);
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int fl)
{
	RDF(recv, fd, fd, buf, n, fl);
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int fl)
{
	RDF(__recv_chk, fd, fd, buf, n, buflen, fl);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int fl, struct sockaddr *a,
			socklen_t *al)
{
	RDF(recvfrom, fd, fd, buf, n, fl, a, al);
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int fl,
			      struct sockaddr *a, socklen_t *al)
{
	RDF(__recvfrom_chk, fd, fd, buf, n, buflen, fl, a, al);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int fl)
{
	RDF(recvmsg, fd, fd, m, fl);
}

EXPORT ssize_t send(int fd, const void *buf, size_t n, int fl)
{
	WRF(send, fd, fd, buf, n, fl);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int fl,
		      const struct sockaddr *a, socklen_t al)
{
	WRF(sendto, fd, fd, buf, n, fl, a, al);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int fl)
{
	WRF(sendmsg, fd, fd, m, fl);
}

EXPORT ssize_t vmsplice(int fd, const struct iovec *v, size_t n, unsigned int fl)
{
	WRF(vmsplice, fd, fd, v, n, fl);
}

/* Copies inside the kernel: bytes read from one descriptor, written to another. */
static ssize_t
moved(int in, int out, ssize_t r)
{
	int e = errno;

	if (r >= 0) {
		count_r(in, r);
		count_w(out, r);
	}
	errno = e;
	return r;
}

#define COPY(in, out, expr) do { \
	ssize_t r_; \
	inraw.in = (in) + 1; \
	inraw.out = (out) + 1; \
	r_ = (expr); \
	inraw.out = inraw.in = 0; \
	return moved(in, out, r_); } while (0)

EXPORT ssize_t copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff,
			       size_t n, unsigned int fl)
{
	if (!REAL(copy_file_range))
		NOSYS(-1);
	COPY(in, out, real_copy_file_range(in, inoff, out, outoff, n, fl));
}

EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	if (!REAL(sendfile))
		NOSYS(-1);
	COPY(in, out, real_sendfile(out, in, off, n));
}

EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
	if (!REAL(sendfile64))
		NOSYS(-1);
	COPY(in, out, real_sendfile64(out, in, off, n));
}

EXPORT ssize_t splice(int in, off64_t *inoff, int out, off64_t *outoff, size_t n,
		      unsigned int fl)
{
	if (!REAL(splice))
		NOSYS(-1);
	COPY(in, out, real_splice(in, inoff, out, outoff, n, fl));
}

/* ---- the dup family, close --------------------------------------------- */

EXPORT int dup(int fd)
{
	return duped_ret((int)SYS(dup, SYS_dup, fd));
}

/* dup2 and dup3 close newfd first: report it; never let them take ours. */
static void
before_dup2(int oldfd, int newfd)
{
	int e = errno;

	if (oldfd == newfd)
		return;
	if (newfd == repfd && repfd >= 0)
		relocate();
	report(newfd, "close");
	errno = e;
}

EXPORT int dup2(int oldfd, int newfd)
{
	before_dup2(oldfd, newfd);
	return duped_ret((int)SYS(dup2, SYS_dup2, oldfd, newfd));
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	before_dup2(oldfd, newfd);
	return duped_ret((int)SYS(dup3, SYS_dup3, oldfd, newfd, flags));
}

static int
fcntl_common(__typeof__(fcntl) *f, int fd, int cmd, void *arg)
{
	int r = f ? f(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);

	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return duped_ret(r);
	return r;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(REAL(fcntl), fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(REAL(fcntl64), fd, cmd, arg);
}

EXPORT int close(int fd)
{
	if (fd == repfd && fd >= 0)
		return 0;	/* not the program's: it never opened it */
	report(fd, "close");
	forget(fd);
	return (int)SYS(close, SYS_close, fd);
}

static void
report_range(unsigned int lo, unsigned int hi)
{
	int high = __atomic_load_n(&fdhigh, RELAXED), e = errno;

	for (unsigned int fd = lo; fd <= hi && fd <= (unsigned int)high; fd++) {
		if (chunk_of((int)fd, 0) == NULL) {
			fd |= CHUNK - 1;
			continue;
		}
		if ((int)fd != repfd) {
			report((int)fd, "close");
			forget((int)fd);
		}
	}
	errno = e;
}

/* close_range over everything but ours. */
static int
close_range_but(unsigned int lo, unsigned int hi, int flags)
{
	unsigned int r = (unsigned int)repfd;
	int ret = 0;

	if (!REAL(close_range))
		NOSYS(-1);
	if (repfd < 0 || r < lo || r > hi)
		return real_close_range(lo, hi, flags);
	if (r > lo)
		ret = real_close_range(lo, r - 1, flags);
	if (ret == 0 && r < hi)
		ret = real_close_range(r + 1, hi, flags);
	return ret;
}

EXPORT int close_range(unsigned int lo, unsigned int hi, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		report_range(lo, hi);
	return close_range_but(lo, hi, flags);
}

EXPORT void closefrom(int lo)
{
	int e = errno;

	if (lo < 0)
		lo = 0;
	report_range((unsigned int)lo, ~0U);
	if (close_range_but((unsigned int)lo, ~0U, 0) == -1 && REAL(closefrom) &&
	    (repfd < lo))
		real_closefrom(lo);
	errno = e;
}

/* ---- exec and _exit: the counters would be lost ----------------------- */

/* The shim's own bytes go on with the process into its next image, in the
 * environment that exec passes: IPCLAB_IOTRACE_OWN=PID:READ:WRITTEN, taken
 * only by the same pid (a stale copy handed on by a shell names another). */
#define OWNVAR "IPCLAB_IOTRACE_OWN="
#define ENVMAX 4096
static char ownbuf[80];

static char *const *
with_own(char *const *envp, char **out)
{
	struct line l = { .n = 0 };
	size_t j = 0;

	if (!mine() || envp == NULL)
		return envp;
	put(&l, OWNVAR);
	putnum(&l, "", (unsigned long)owner);
	putnum(&l, ":", __atomic_load_n(&own_r, RELAXED));
	putnum(&l, ":", __atomic_load_n(&own_w, RELAXED));
	l.b[l.n] = '\0';
	memcpy(ownbuf, l.b, l.n + 1 < sizeof(ownbuf) ? l.n + 1 : sizeof(ownbuf));
	ownbuf[sizeof(ownbuf) - 1] = '\0';
	for (size_t i = 0; envp[i]; i++) {
		if (j == ENVMAX)
			return envp;
		if (strncmp(envp[i], OWNVAR, sizeof(OWNVAR) - 1) != 0)
			out[j++] = envp[i];
	}
	out[j++] = ownbuf;
	out[j] = NULL;
	return out;
}

static void
take_own(void)
{
	const char *s = getenv("IPCLAB_IOTRACE_OWN");
	char *end;
	unsigned long pid, r, w;

	if (s == NULL)
		return;
	pid = strtoul(s, &end, 10);
	if (*end != ':' || pid != (unsigned long)owner)
		return;
	r = strtoul(end + 1, &end, 10);
	if (*end != ':')
		return;
	w = strtoul(end + 1, &end, 10);
	if (*end != '\0')
		return;
	own_r = r;
	own_w = w;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	char *env[ENVMAX + 2];

	report_all("exec");
	envp = with_own(envp, env);
	return (int)SYS(execve, SYS_execve, path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	char *env[ENVMAX + 2];

	report_all("exec");
	if (!REAL(execvpe))
		NOSYS(-1);
	return real_execvpe(file, argv, with_own(envp, env));
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char *env[ENVMAX + 2];

	report_all("exec");
	if (!REAL(fexecve))
		NOSYS(-1);
	return real_fexecve(fd, argv, with_own(envp, env));
}

EXPORT int execveat(int dir, const char *path, char *const argv[], char *const envp[],
		    int flags)
{
	char *env[ENVMAX + 2];

	report_all("exec");
	envp = with_own(envp, env);
	return (int)SYS(execveat, SYS_execveat, dir, path, argv, envp, flags);
}

/* execl, execlp, execle: collect the list (bounded, on the stack). */
#define ARGMAX 4096
#define COLLECT(arg0, argv, ap) do { \
	int i_ = 0; \
	argv[i_++] = (char *)(arg0); \
	while (argv[i_ - 1] != NULL && i_ < ARGMAX) \
		argv[i_++] = va_arg(ap, char *); \
	if (argv[i_ - 1] != NULL) { \
		va_end(ap); \
		errno = E2BIG; \
		return -1; \
	} } while (0)

EXPORT int execl(const char *path, const char *arg, ...)
{
	char *argv[ARGMAX];
	va_list ap;

	va_start(ap, arg);
	COLLECT(arg, argv, ap);
	va_end(ap);
	return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	char *argv[ARGMAX];
	va_list ap;

	va_start(ap, arg);
	COLLECT(arg, argv, ap);
	va_end(ap);
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	char *argv[ARGMAX];
	char **envp;
	va_list ap;

	va_start(ap, arg);
	COLLECT(arg, argv, ap);
	envp = va_arg(ap, char **);
	va_end(ap);
	return execve(path, argv, envp);
}

EXPORT void _exit(int status)
{
	report_all("exit");
	if (REAL(_exit))
		real__exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

EXPORT void _Exit(int status)
{
	report_all("exit");
	if (REAL(_Exit))
		real__Exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

/* ---- stdio ------------------------------------------------------------- */

/* A FILE's buffer before a call.  With glibc's buffer pointers:
 *   read side:  [_IO_read_ptr, _IO_read_end) came from the kernel, unread;
 *   write side: [_IO_write_base, _IO_write_ptr) waits to go to the kernel.
 * Kernel bytes read by a call = bytes it handed to the program + growth of
 * the unread part; written = bytes it took from the program - growth of the
 * waiting part.  Memory streams (fmemopen, open_memstream) have no fd. */
struct snap {
	int fd, locked;
	long ravail, wpend;
	char *rbase, *rend;
};

#define IN_BACKUP 0x100		/* glibc libio.h: _IO_IN_BACKUP */

/* Unread bytes; after an ungetc that did not fit, glibc reads from a backup
 * area, and the rest of the main buffer waits in [_IO_save_base,
 * _IO_save_end). */
static inline long
ravail(FILE *fp)
{
	long n = fp->_IO_read_end - fp->_IO_read_ptr;

	if (fp->_flags & IN_BACKUP)
		n += fp->_IO_save_end - fp->_IO_save_base;
	return n;
}

static inline long
wpend(FILE *fp)
{
	return fp->_IO_write_ptr - fp->_IO_write_base;
}

/* open_memstream's FILEs say fileno 0: tell them by their jump table, which
 * glibc keeps right after the FILE (struct _IO_FILE_plus). */
static const void *memvt[2];
#define VTABLE(fp) (*(const void *const *)((const char *)(fp) + sizeof(FILE)))

static inline int
fdof(FILE *fp)
{
	if (fp == NULL || fp->_fileno < 0)
		return -1;
	if (memvt[0] && (VTABLE(fp) == memvt[0] || VTABLE(fp) == memvt[1]))
		return -1;
	return fp->_fileno;
}

/* The stdio call this thread is in, for a death inside it (on_fatal). */
static __thread struct {
	FILE *fp;
	char *wbase, *wend;
} inflight __attribute__((tls_model("initial-exec")));

/* Locked variants: take the FILE's lock around the whole comparison, as
 * glibc would for the call alone (recursive), when threads exist. */
static inline __attribute__((always_inline)) void
pre(FILE *fp, struct snap *s, int lock)
{
	s->fd = fdof(fp);
	s->locked = lock && s->fd >= 0 && (fp->_flags2 & FLAGS2_NEED_LOCK) &&
		    !(fp->_flags & USER_LOCK);
	if (s->locked)
		flockfile(fp);
	if (s->fd < 0)
		return;
	s->ravail = ravail(fp);
	s->wpend = wpend(fp);
	inflight.wbase = fp->_IO_write_base;
	inflight.wend = fp->_IO_write_end;
	inflight.fp = fp;
	s->rbase = fp->_IO_read_base;
	s->rend = fp->_IO_read_end;
}

/* A write call cannot read (a stream switching from reading seeks back
 * over its buffer): it passes took < 0, and the read side is not looked at.
 * Counting makes no call, so errno is the real call's, unless the lock is
 * to be released. */
static inline __attribute__((always_inline)) void
post(FILE *fp, struct snap *s, long took, long gave)
{
	inflight.fp = NULL;
	if (s->fd >= 0) {
		long dr = took < 0 ? 0 : took + ravail(fp) - s->ravail;
		long dw = gave - (wpend(fp) - s->wpend);

		if (dr > 0)
			count_r(s->fd, dr);
		if (dw > 0)
			count_w(s->fd, dw);
	}
	if (s->locked) {
		int e = errno;

		funlockfile(fp);
		errno = e;
	}
}

/* A seek moves the read pointer within the buffer (nothing read), or drops
 * the buffer and refills it with at most one read; waiting bytes are
 * flushed. */
static inline void
post_seek(FILE *fp, struct snap *s)
{
	int e = errno;

	inflight.fp = NULL;
	if (s->fd >= 0) {
		long dw = s->wpend - wpend(fp);

		if ((fp->_IO_read_base != s->rbase || fp->_IO_read_end != s->rend) &&
		    fp->_IO_read_end > fp->_IO_read_base)
			count_r(s->fd, fp->_IO_read_end - fp->_IO_read_base);
		if (dw > 0)
			count_w(s->fd, dw);
	}
	if (s->locked)
		funlockfile(fp);
	errno = e;
}

/* fread(p, size, n) is fread(p, 1, size * n) with the count divided back:
 * glibc computes it so, and the byte count is then exact at a partial end. */
#define FREAD(f, lock, p, size, n, fp) do { \
	struct snap s_; \
	size_t r_; \
	if (!REAL(f)) \
		NOSYS(0); \
	if (size == 0 || n == 0 || n > SIZE_MAX / size) \
		return real_##f(p, size, n, fp); \
	pre(fp, &s_, lock); \
	r_ = real_##f(p, 1, size * n, fp); \
	post(fp, &s_, (long)r_, 0); \
	return r_ == size * n ? n : r_ / size; } while (0)

#define FWRITE(f, lock, p, size, n, fp) do { \
	struct snap s_; \
	size_t r_; \
	if (!REAL(f)) \
		NOSYS(0); \
	if (size == 0 || n == 0 || n > SIZE_MAX / size) \
		return real_##f(p, size, n, fp); \
	pre(fp, &s_, lock); \
	r_ = real_##f(p, 1, size * n, fp); \
	post(fp, &s_, -1, (long)r_); \
	return r_ == size * n ? n : r_ / size; } while (0)

EXPORT size_t fread(void *p, size_t size, size_t n, FILE *fp)
{
	FREAD(fread, 1, p, size, n, fp);
}

EXPORT size_t fread_unlocked(void *p, size_t size, size_t n, FILE *fp)
{
	FREAD(fread_unlocked, 0, p, size, n, fp);
}

/* The fortified freads, read as one block of size * n bytes, like FREAD. */
#define FREAD_CHK(f, lock, p, plen, size, n, fp) do { \
	struct snap s_; \
	size_t r_; \
	if (!REAL(f)) \
		NOSYS(0); \
	if ((size) == 0 || (n) == 0 || (n) > SIZE_MAX / (size)) \
		return real_##f(p, plen, size, n, fp); \
	pre(fp, &s_, lock); \
	r_ = real_##f(p, plen, 1, (size) * (n), fp); \
	post(fp, &s_, (long)r_, 0); \
	return r_ == (size) * (n) ? (n) : r_ / (size); } while (0)

EXPORT size_t __fread_chk(void *p, size_t plen, size_t size, size_t n, FILE *fp)
{
	FREAD_CHK(__fread_chk, 1, p, plen, size, n, fp);
}

EXPORT size_t __fread_unlocked_chk(void *p, size_t plen, size_t size, size_t n, FILE *fp)
{
	FREAD_CHK(__fread_unlocked_chk, 0, p, plen, size, n, fp);
}

EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *fp)
{
	FWRITE(fwrite, 1, p, size, n, fp);
}

EXPORT size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *fp)
{
	FWRITE(fwrite_unlocked, 0, p, size, n, fp);
}

/* Calls that take a string (fgets) or a character (getc) from a FILE. */
#define TAKE_OR(f, lock, fp, ret_t, fail, took_expr, ...) do { \
	struct snap s_; \
	ret_t r_; \
	if (!REAL(f)) \
		NOSYS(fail); \
	pre(fp, &s_, lock); \
	r_ = real_##f(__VA_ARGS__); \
	post(fp, &s_, (took_expr), 0); \
	return r_; } while (0)
#define TAKE(f, lock, fp, ret_t, took_expr, ...) \
	TAKE_OR(f, lock, fp, ret_t, (ret_t)EOF, took_expr, __VA_ARGS__)

#define STRLEN(r) ((r) ? (long)strlen(r) : 0)
#define ONE(r) ((r) != EOF ? 1L : 0L)
#define POS(r) ((r) > 0 ? (long)(r) : 0L)

EXPORT char *fgets(char *b, int n, FILE *fp)
{
	TAKE_OR(fgets, 1, fp, char *, NULL, STRLEN(r_), b, n, fp);
}

EXPORT char *fgets_unlocked(char *b, int n, FILE *fp)
{
	TAKE_OR(fgets_unlocked, 0, fp, char *, NULL, STRLEN(r_), b, n, fp);
}

EXPORT char *__fgets_chk(char *b, size_t size, int n, FILE *fp)
{
	TAKE_OR(__fgets_chk, 1, fp, char *, NULL, STRLEN(r_), b, size, n, fp);
}

EXPORT char *__fgets_unlocked_chk(char *b, size_t size, int n, FILE *fp)
{
	TAKE_OR(__fgets_unlocked_chk, 0, fp, char *, NULL, STRLEN(r_), b, size, n, fp);
}

EXPORT int fgetc(FILE *fp) { TAKE(fgetc, 1, fp, int, ONE(r_), fp); }
EXPORT int getc(FILE *fp) { TAKE(getc, 1, fp, int, ONE(r_), fp); }
EXPORT int fgetc_unlocked(FILE *fp) { TAKE(fgetc_unlocked, 0, fp, int, ONE(r_), fp); }
EXPORT int getc_unlocked(FILE *fp) { TAKE(getc_unlocked, 0, fp, int, ONE(r_), fp); }
EXPORT int getchar(void) { TAKE(getchar, 1, stdin, int, ONE(r_)); }
EXPORT int getchar_unlocked(void) { TAKE(getchar_unlocked, 0, stdin, int, ONE(r_)); }
EXPORT int __uflow(FILE *fp) { TAKE(__uflow, 0, fp, int, ONE(r_), fp); }
EXPORT int __underflow(FILE *fp) { TAKE(__underflow, 0, fp, int, 0L, fp); }

EXPORT ssize_t getline(char **lp, size_t *n, FILE *fp)
{
	TAKE(getline, 1, fp, ssize_t, POS(r_), lp, n, fp);
}

EXPORT ssize_t getdelim(char **lp, size_t *n, int delim, FILE *fp)
{
	TAKE(getdelim, 1, fp, ssize_t, POS(r_), lp, n, delim, fp);
}

EXPORT ssize_t __getdelim(char **lp, size_t *n, int delim, FILE *fp)
{
	TAKE(__getdelim, 1, fp, ssize_t, POS(r_), lp, n, delim, fp);
}

/* Calls that give a string or a character to a FILE. */
#define GIVE(f, lock, fp, gave_expr, ...) do { \
	struct snap s_; \
	int r_; \
	if (!REAL(f)) \
		NOSYS(EOF); \
	pre(fp, &s_, lock); \
	r_ = real_##f(__VA_ARGS__); \
	post(fp, &s_, -1, (gave_expr)); \
	return r_; } while (0)

EXPORT int fputs(const char *str, FILE *fp)
{
	GIVE(fputs, 1, fp, r_ >= 0 ? (long)strlen(str) : 0, str, fp);
}

EXPORT int fputs_unlocked(const char *str, FILE *fp)
{
	GIVE(fputs_unlocked, 0, fp, r_ >= 0 ? (long)strlen(str) : 0, str, fp);
}

EXPORT int puts(const char *str)
{
	GIVE(puts, 1, stdout, r_ >= 0 ? (long)strlen(str) + 1 : 0, str);
}

EXPORT int fputc(int c, FILE *fp) { GIVE(fputc, 1, fp, ONE(r_), c, fp); }
EXPORT int putc(int c, FILE *fp) { GIVE(putc, 1, fp, ONE(r_), c, fp); }
EXPORT int fputc_unlocked(int c, FILE *fp) { GIVE(fputc_unlocked, 0, fp, ONE(r_), c, fp); }
EXPORT int putc_unlocked(int c, FILE *fp) { GIVE(putc_unlocked, 0, fp, ONE(r_), c, fp); }
EXPORT int putchar(int c) { GIVE(putchar, 1, stdout, ONE(r_), c); }
EXPORT int putchar_unlocked(int c) { GIVE(putchar_unlocked, 0, stdout, ONE(r_), c); }

EXPORT int __overflow(FILE *fp, int c)
{
	GIVE(__overflow, 0, fp, c != EOF && r_ != EOF ? 1L : 0L, fp, c);
}

/* printf to a FILE: the return value is what it took. */
EXPORT int vfprintf(FILE *fp, const char *fmt, va_list ap)
{
	GIVE(vfprintf, 1, fp, POS(r_), fp, fmt, ap);
}

EXPORT int vprintf(const char *fmt, va_list ap)
{
	GIVE(vprintf, 1, stdout, POS(r_), fmt, ap);
}

EXPORT int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
	GIVE(__vfprintf_chk, 1, fp, POS(r_), fp, flag, fmt, ap);
}

EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	GIVE(__vprintf_chk, 1, stdout, POS(r_), flag, fmt, ap);
}

EXPORT int fprintf(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfprintf(fp, fmt, ap);
	va_end(ap);
	return r;
}

EXPORT int printf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vprintf(fmt, ap);
	va_end(ap);
	return r;
}

EXPORT int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vfprintf_chk(fp, flag, fmt, ap);
	va_end(ap);
	return r;
}

EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vprintf_chk(flag, fmt, ap);
	va_end(ap);
	return r;
}

/* dprintf formats into a FILE of its own and writes it all to fd. */
EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	if (!REAL(vdprintf))
		NOSYS(-1);
	WR(fd, real_vdprintf(fd, fmt, ap));
}

EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	if (!REAL(__vdprintf_chk))
		NOSYS(-1);
	WR(fd, real___vdprintf_chk(fd, flag, fmt, ap));
}

EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vdprintf_chk(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* ungetc hands one byte back: it took -1. */
EXPORT int ungetc(int c, FILE *fp)
{
	TAKE(ungetc, 1, fp, int, r_ != EOF ? -1L : 0L, c, fp);
}

/* scanf does not say how much it consumed: for a file, the kernel's offset
 * does; for a pipe, the buffer pointers show the last refill. */
static int
scan(__typeof__(vfscanf) *f, FILE *fp, const char *fmt, va_list ap)
{
	struct snap s;
	off_t a = -1, b = -1;
	int r, e;

	if (f == NULL)
		NOSYS(EOF);
	pre(fp, &s, 1);
	if (s.fd >= 0)
		a = lseek(s.fd, 0, SEEK_CUR);
	r = f(fp, fmt, ap);
	e = errno;
	if (s.fd >= 0 && a >= 0 && (b = lseek(s.fd, 0, SEEK_CUR)) >= a) {
		if (b > a)
			count_r(s.fd, (long)(b - a));
		s.fd = -1;	/* counted */
	}
	errno = e;
	post_seek(fp, &s);
	return r;
}

/* <stdio.h> renames fscanf to __isoc99_fscanf in C99 mode: the old GNU
 * symbols, which programs built as gnu89 import, need labels of their own. */
int gnu_vfscanf(FILE *, const char *, va_list) __asm__("vfscanf");
int gnu_fscanf(FILE *, const char *, ...) __asm__("fscanf");
int gnu_scanf(const char *, ...) __asm__("scanf");

EXPORT int gnu_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
	return scan(REAL(vfscanf), fp, fmt, ap);
}

EXPORT int __isoc99_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
	return scan(REAL(__isoc99_vfscanf), fp, fmt, ap);
}

EXPORT int gnu_fscanf(FILE *fp, const char *fmt, ...)
{
	int r;

	VA(r = gnu_vfscanf(fp, fmt, ap), fmt);
	return r;
}

EXPORT int gnu_scanf(const char *fmt, ...)
{
	int r;

	VA(r = gnu_vfscanf(stdin, fmt, ap), fmt);
	return r;
}
EXPORT int __isoc99_fscanf(FILE *fp, const char *fmt, ...)
{
	int r;

	VA(r = __isoc99_vfscanf(fp, fmt, ap), fmt);
	return r;
}

EXPORT int __isoc99_scanf(const char *fmt, ...)
{
	int r;

	VA(r = __isoc99_vfscanf(stdin, fmt, ap), fmt);
	return r;
}

EXPORT int eventfd_read(int fd, eventfd_t *v)
{
	int r;

	if (!REAL(eventfd_read))
		NOSYS(-1);
	r = real_eventfd_read(fd, v);
	if (r == 0)
		count_r(fd, sizeof(*v));
	return r;
}

EXPORT int eventfd_write(int fd, eventfd_t v)
{
	int r;

	if (!REAL(eventfd_write))
		NOSYS(-1);
	r = real_eventfd_write(fd, v);
	if (r == 0)
		count_w(fd, sizeof(v));
	return r;
}

/* fflush(NULL), and exit's flush: every FILE on glibc's chain. */
#define MAXFLUSH 256
static int
flush_all(__typeof__(fflush) *f)
{
	FILE *fps[MAXFLUSH];
	long pend[MAXFLUSH];
	int n = 0, r, e;

	for (FILE *fp = _IO_list_all; fp && n < MAXFLUSH; fp = fp->_chain) {
		fps[n] = fp;
		pend[n++] = wpend(fp);
	}
	r = f(NULL);
	e = errno;
	for (int i = 0; i < n; i++)
		if (fdof(fps[i]) >= 0 && pend[i] - wpend(fps[i]) > 0)
			count_w(fps[i]->_fileno, pend[i] - wpend(fps[i]));
	errno = e;
	return r;
}

EXPORT int fflush(FILE *fp)
{
	if (!REAL(fflush))
		NOSYS(EOF);
	if (fp == NULL)
		return flush_all(real_fflush);
	GIVE(fflush, 1, fp, 0L, fp);
}

EXPORT int fflush_unlocked(FILE *fp)
{
	if (!REAL(fflush_unlocked))
		NOSYS(EOF);
	if (fp == NULL)
		return flush_all(real_fflush_unlocked);
	GIVE(fflush_unlocked, 0, fp, 0L, fp);
}

#define SEEK(f, fp, ...) do { \
	struct snap s_; \
	int r_; \
	if (!REAL(f)) \
		NOSYS(-1); \
	pre(fp, &s_, 1); \
	r_ = real_##f(__VA_ARGS__); \
	post_seek(fp, &s_); \
	return r_; } while (0)

EXPORT int fseek(FILE *fp, long off, int whence) { SEEK(fseek, fp, fp, off, whence); }
EXPORT int fseeko(FILE *fp, off_t off, int whence) { SEEK(fseeko, fp, fp, off, whence); }
EXPORT int fseeko64(FILE *fp, off64_t off, int whence) { SEEK(fseeko64, fp, fp, off, whence); }
EXPORT int fsetpos(FILE *fp, const fpos_t *pos) { SEEK(fsetpos, fp, fp, pos); }
EXPORT int fsetpos64(FILE *fp, const fpos64_t *pos) { SEEK(fsetpos64, fp, fp, pos); }

EXPORT void rewind(FILE *fp)
{
	struct snap s;

	if (!REAL(rewind))
		return;
	pre(fp, &s, 1);
	real_rewind(fp);
	post_seek(fp, &s);
}

/* fclose flushes what waits, then closes the descriptor: count the flush as
 * made, report, close. */
static void
before_fclose(FILE *fp)
{
	int e = errno;
	long w;

	if (fdof(fp) < 0)
		return;
	w = wpend(fp);
	if (w > 0)
		count_w(fp->_fileno, w);
	report(fp->_fileno, "close");
	forget(fp->_fileno);
	errno = e;
}

EXPORT int fclose(FILE *fp)
{
	if (!REAL(fclose))
		NOSYS(EOF);
	before_fclose(fp);
	return real_fclose(fp);
}

EXPORT int pclose(FILE *fp)
{
	if (!REAL(pclose))
		NOSYS(-1);
	before_fclose(fp);
	return real_pclose(fp);
}

static FILE *
fopened(FILE *fp)
{
	int e = errno;

	if (fdof(fp) >= 0)
		opened(fp->_fileno, 1);
	errno = e;
	return fp;
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	if (!REAL(fopen))
		NOSYS(NULL);
	return fopened(real_fopen(path, mode));
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	if (!REAL(fopen64))
		NOSYS(NULL);
	return fopened(real_fopen64(path, mode));
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
	if (!REAL(freopen))
		NOSYS(NULL);
	before_fclose(fp);
	return fopened(real_freopen(path, mode, fp));
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
	if (!REAL(freopen64))
		NOSYS(NULL);
	before_fclose(fp);
	return fopened(real_freopen64(path, mode, fp));
}

/* ---- messages on stderr: error(3), err(3), perror(3) ------------------ */

/* glibc prints these through internal calls.  Their bytes are known in
 * advance: "PROG: " MESSAGE [": " strerror] "\n", and error() flushes stdout
 * first; count them before the call, which may not return. */
static void
count_msg(const char *prog, const char *msg, int errnum, int flush_stdout, long extra)
{
	long n = (prog ? (long)strlen(prog) + 2 : 0) + (msg ? (long)strlen(msg) : 0) + 1 + extra;
	int e = errno;

	if (errnum)
		n += (long)strlen(strerror(errnum)) + (msg ? 2 : 0);
	if (flush_stdout && stdout && stdout->_fileno >= 0 && wpend(stdout) > 0)
		count_w(stdout->_fileno, wpend(stdout));
	if (stderr && stderr->_fileno >= 0)
		count_w(stderr->_fileno, n + (wpend(stderr) > 0 ? wpend(stderr) : 0));
	errno = e;
}

EXPORT void error(int status, int errnum, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	errno = e;
	if (msg && !error_print_progname)
		count_msg(program_invocation_name, msg, errnum, 1, 0);
	errno = e;
	if (REAL(error))
		real_error(status, errnum, "%s", msg ? msg : fmt);
	free(msg);
	errno = e;
}

/* "PROG:FILE:LINE: MSG[: strerror]\n" (or "PROG: MSG..." without FILE),
 * once per line with error_one_per_line, as glibc decides it. */
EXPORT void error_at_line(int status, int errnum, const char *file, unsigned int line,
			  const char *fmt, ...)
{
	static const char *old_file;
	static unsigned int old_line;
	char *msg = NULL, num[16];
	va_list ap;
	int e = errno, skip = 0;

	if (error_one_per_line) {
		skip = old_line == line && (file == old_file ||
			(old_file && file && strcmp(old_file, file) == 0));
		old_file = file;
		old_line = line;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg && !skip && !error_print_progname) {
		/* "PROG:" FILE ":" LINE ": " is "PROG: " and FILE LINE ": " more */
		snprintf(num, sizeof(num), "%u", line);
		count_msg(program_invocation_name, msg, errnum, 1,
			  file ? (long)(strlen(file) + strlen(num) + 2) : 0);
	}
	errno = e;
	if (REAL(error_at_line))
		real_error_at_line(status, errnum, file, line, "%s", msg ? msg : fmt);
	free(msg);
	errno = e;
}

/* warn: "PROG: MSG: strerror(errno)\n", or "PROG: strerror\n" without MSG. */
static void
count_warn(const char *fmt, va_list ap, int errnum)
{
	char *msg = NULL;
	va_list aq;
	int e = errno;

	if (fmt) {
		va_copy(aq, ap);
		if (vasprintf(&msg, fmt, aq) < 0)
			msg = NULL;
		va_end(aq);
		if (msg == NULL)
			return;
	}
	count_msg(program_invocation_short_name, msg, errnum, 0, 0);
	free(msg);
	errno = e;
}

EXPORT void vwarn(const char *fmt, va_list ap)
{
	count_warn(fmt, ap, errno);
	if (REAL(vwarn))
		real_vwarn(fmt, ap);
}

EXPORT void vwarnx(const char *fmt, va_list ap)
{
	count_warn(fmt, ap, 0);
	if (REAL(vwarnx))
		real_vwarnx(fmt, ap);
}

EXPORT void verr(int status, const char *fmt, va_list ap)
{
	count_warn(fmt, ap, errno);
	if (REAL(verr))
		real_verr(status, fmt, ap);
	exit(status);
}

EXPORT void verrx(int status, const char *fmt, va_list ap)
{
	count_warn(fmt, ap, 0);
	if (REAL(verrx))
		real_verrx(status, fmt, ap);
	exit(status);
}


EXPORT void warn(const char *fmt, ...) { VA(vwarn(fmt, ap), fmt); }
EXPORT void warnx(const char *fmt, ...) { VA(vwarnx(fmt, ap), fmt); }
EXPORT void err(int status, const char *fmt, ...) { VA(verr(status, fmt, ap), fmt); }
EXPORT void errx(int status, const char *fmt, ...) { VA(verrx(status, fmt, ap), fmt); }

EXPORT void perror(const char *s)
{
	int e = errno;

	/* "S: strerror\n" or "strerror\n", strerror(0) included */
	if (stderr && stderr->_fileno >= 0)
		count_w(stderr->_fileno, (s && *s ? (long)strlen(s) + 2 : 0) +
			(long)strlen(strerror(e)) + 1);
	errno = e;
	if (REAL(perror))
		real_perror(s);
}

/* ---- death by a signal ------------------------------------------------- */

/* SIGPIPE ends `producer | head`, SIGINT and SIGTERM end what the user
 * stops: by default the process dies with its counters unreported.  Where
 * the program leaves one of these at SIG_DFL, the shim catches it, reports,
 * restores SIG_DFL and raises it again, so the process dies exactly as it
 * would have; sigaction and signal still show SIG_DFL to the program. */
#define WATCHED(sig) ((sig) == SIGPIPE || (sig) == SIGINT || (sig) == SIGTERM || \
		      (sig) == SIGHUP)
static volatile int caught;	/* bit sig: our handler is installed */

static int
raw_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (REAL(sigaction))
		return real_sigaction(sig, act, old);
	errno = ENOSYS;
	return -1;
}

/* Death inside a stdio write (SIGPIPE in the write after a flush): glibc
 * fills the buffer, flushes it whole, resets it to empty, then writes the
 * rest directly.  Found empty though it held bytes before the call: the
 * buffer as it was filled went to the kernel. */
static void
inflight_flush(long partial)
{
	FILE *fp = inflight.fp;
	int fd = fdof(fp);

	inflight.fp = NULL;
	if (fd < 0)
		return;
	if (partial > 0)
		count_w(fd, partial);
	if (inflight.wbase && inflight.wend > inflight.wbase &&
	    fp->_IO_write_ptr == fp->_IO_buf_base && fp->_IO_write_base == fp->_IO_buf_base)
		count_w(fd, inflight.wend - inflight.wbase);
}

/* What the system call that the signal interrupted returned: the signal
 * came on its way back (the instruction before the saved one is `syscall`),
 * and the result is in rax.  -1 when that cannot be told. */
static long
syscall_ret(void *uc)
{
#if defined(__x86_64__)
	const ucontext_t *u = uc;
	const unsigned char *ip = (const unsigned char *)u->uc_mcontext.gregs[REG_RIP];

	if (ip && ip[-2] == 0x0f && ip[-1] == 0x05)
		return (long)u->uc_mcontext.gregs[REG_RAX];
#else
	(void)uc;
#endif
	return -1;
}

/* The bytes of the write that raised SIGPIPE, which its caller never saw. */
static void
count_cut_write(void *uc)
{
	long r = syscall_ret(uc);

	if (inraw.out) {
		if (r > 0) {
			if (inraw.in)
				count_r(inraw.in - 1, r);
			count_w(inraw.out - 1, r);
		}
		inraw.out = inraw.in = 0;
	} else if (inflight.fp) {
		inflight_flush(r);
	}
}

static void
on_fatal(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	(void)si;
	if (sig == SIGPIPE)
		count_cut_write(uc);
	report_all("signal");
	raw_sigaction(sig, &dfl, NULL);
	caught &= ~(1 << sig);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

static void
catch_fatal(int sig)
{
	struct sigaction sa = { .sa_sigaction = on_fatal, .sa_flags = SA_RESTART | SA_SIGINFO };
	struct sigaction old;

	if (raw_sigaction(sig, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
	    old.sa_handler == SIG_DFL && raw_sigaction(sig, &sa, NULL) == 0)
		caught |= 1 << sig;
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int ours = sig > 0 && sig < 32 && WATCHED(sig) && (caught & (1 << sig));
	int r;

	if (!ours) {
		r = raw_sigaction(sig, act, old);
		if (r == 0 && act && WATCHED(sig) && !(act->sa_flags & SA_SIGINFO) &&
		    act->sa_handler == SIG_DFL)
			catch_fatal(sig);	/* back to default: watch it again */
		return r;
	}
	if (old) {
		if (raw_sigaction(sig, NULL, old) == -1)
			return -1;
		old->sa_handler = SIG_DFL;
		old->sa_flags &= ~(SA_RESTART | SA_SIGINFO);
	}
	if (act == NULL || (!(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_DFL))
		return 0;
	caught &= ~(1 << sig);
	return raw_sigaction(sig, act, NULL);
}

EXPORT __sighandler_t signal(int sig, __sighandler_t h)
{
	struct sigaction sa = { .sa_handler = h, .sa_flags = SA_RESTART }, old;

	if (!(sig > 0 && sig < 32 && WATCHED(sig))) {
		if (!REAL(signal))
			NOSYS(SIG_ERR);
		return real_signal(sig, h);
	}
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	if (sigaction(sig, &sa, &old) == -1)
		return SIG_ERR;
	return old.sa_handler;
}

/* ---- load, fork, exit -------------------------------------------------- */

/* The jump tables of memory streams, learnt from one of each. */
static void
learn_memstreams(void)
{
	char *buf = NULL;
	wchar_t *wbuf = NULL;
	size_t len;
	FILE *m;

	if (!REAL(fclose))
		return;
	if ((m = open_memstream(&buf, &len)) != NULL) {
		memvt[1] = memvt[0] = VTABLE(m);
		real_fclose(m);
	}
	if ((m = open_wmemstream(&wbuf, &len)) != NULL) {
		memvt[1] = VTABLE(m);
		real_fclose(m);
	}
	free(buf);
	free(wbuf);
}

static void
resolve_all(void)
{
#define RESOLVE(f) if (!real_##f) resolve(#f, (void **)&real_##f);
	REALS(RESOLVE)
#undef RESOLVE
}

/* A high descriptor number, out of the way of programs that count on the
 * lowest free ones. */
static int
high_fd(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > 1100)
		return 1000;
	return rl.rlim_cur > 16 ? (int)(rl.rlim_cur * 3 / 4) : 3;
}

static int
parse_fd(const char *s)
{
	long v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 1000000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return (int)v;
}

static void
setup_report(void)
{
	int fd = parse_fd(getenv("IPCLAB_IOTRACE_FD"));
	struct line l = { .n = 0 };

	if (fd >= 0 && syscall(SYS_fcntl, fd, F_GETFD) != -1) {
		repfd = fd;
		piped = 1;
		put(&l, envbuf);
		putnum(&l, "", (unsigned long)fd);
		l.b[l.n] = '\0';
		if (l.n < sizeof(envbuf)) {
			memcpy(envbuf, l.b, l.n + 1);
			putenv(envbuf);
		}
		return;
	}
	repfd = (int)syscall(SYS_fcntl, 2, F_DUPFD_CLOEXEC, high_fd());
}

/* The kernel's count of the bytes this process read and wrote (rchar and
 * wchar of /proc/self/io), less the shim's own: its report lines and its
 * earlier reads of that file.  The read itself is added to rchar after it
 * returns, so it is counted as the shim's for a later look. */
static int
kernel_io(unsigned long *r, unsigned long *w)
{
	char b[512];
	const char *p;
	long n = -1, fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/io", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		while ((n = syscall(SYS_read, fd, b, sizeof(b) - 1)) == -1 && errno == EINTR)
			;
		syscall(SYS_close, fd);
	}
	if (n <= 0)
		return 0;
	__atomic_fetch_add(&own_r, (unsigned long)n, RELAXED);
	b[n] = '\0';
	if ((p = strstr(b, "rchar: ")) == NULL)
		return 0;
	*r = strtoul(p + 7, NULL, 10);
	if ((p = strstr(b, "wchar: ")) == NULL)
		return 0;
	*w = strtoul(p + 7, NULL, 10);
	*r -= *r >= own_r - (unsigned long)n ? own_r - (unsigned long)n : *r;
	*w -= *w >= own_w ? own_w : *w;
	return 1;
}

/* In iotrace's pipe: this program image starts or ends, so that iotrace
 * knows who is who and who died before reporting; at the end, with the
 * kernel's counts of the whole process (see kernel_io). */
static void
mark(const char *at)
{
	char exe[NAMEMAX];
	struct line l = { .n = 0 };
	int e = errno;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	unsigned long r, w;

	exe[n > 0 ? n : 0] = '\0';
	putnum(&l, "iotrace: pid=", (unsigned long)owner);
	putnum(&l, " ppid=", (unsigned long)getppid());
	put(&l, " at=");
	put(&l, at);
	if (strcmp(at, "end") == 0 && kernel_io(&r, &w)) {
		putnum(&l, " rchar=", r);
		putnum(&l, " wchar=", w);
	}
	put(&l, " path=");
	putpath(&l, exe);
	send_line(&l);
	errno = e;
}

static void
child_reset(void)
{
	int high = __atomic_load_n(&fdhigh, RELAXED);

	owner = (pid_t)syscall(SYS_getpid);
	for (int i = 0; i <= high / CHUNK && i < NCHUNK; i++)
		if (chunks[i])
			memset(chunks[i]->c, 0, sizeof(chunks[i]->c[0]) *
			       (size_t)(high / CHUNK > i ? CHUNK : high % CHUNK + 1));
	memset(&spill, 0, sizeof(spill));
	own_r = own_w = 0;
	if (piped)
		mark("start");
}

__attribute__((constructor)) static void
iotrace_init(void)
{
	static int once;
	int e = errno;

	if (__atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL))
		return;
	resolve_all();
	raw_check();
	learn_memstreams();
	owner = (pid_t)syscall(SYS_getpid);
	take_own();
	setup_report();
	pthread_atfork(NULL, NULL, child_reset);
	catch_fatal(SIGPIPE);
	catch_fatal(SIGINT);
	catch_fatal(SIGTERM);
	catch_fatal(SIGHUP);
	if (piped)
		mark("start");
	errno = e;
}

/* exit(3) flushes stdio after the destructors: flush first, so that the
 * bytes are counted, then report what is still open. */
__attribute__((destructor)) static void
iotrace_fini(void)
{
	int e = errno;

	if (mine() && REAL(fflush))
		flush_all(real_fflush);
	report_all("exit");
	errno = e;
}
