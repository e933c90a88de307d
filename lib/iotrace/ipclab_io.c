/*
 * libipclab_io.so: the preload shim of `ipclab iotrace`.
 *
 *	LD_PRELOAD=/path/to/libipclab_io.so CMD [ARGS]
 *
 * Counts, per descriptor, the calls and bytes that each entry point of glibc
 * moved through the kernel, and reports one line per descriptor when it is
 * closed (and at exec and exit for those still open), under the name it had
 * when it was opened; a line with its name now comes first when that
 * differs (a file renamed before its close):
 *
 *	iotrace: pid=P fd=N at=renamed path=/tmp/a.o
 *	iotrace: pid=P fd=N at=close opens=O reads=R read_bytes=B writes=W
 *	         write_bytes=B path=/tmp/a.o.tmp
 *
 * Under iotrace, each program image also says when it starts and ends; the
 * end carries the kernel's count of what the process read and wrote (rchar
 * and wchar, its own threads', less the shim's own lines and looks):
 *
 *	iotrace: pid=P ppid=Q at=end rchar=R wchar=W path=/usr/bin/cat
 *
 * Where the lines go: the report pipe of `ipclab iotrace`, named by
 * IPCLAB_IOTRACE_FD and known by its inode (IPCLAB_IOTRACE_PIPE), which the
 * program cannot close, mark close-on-exec or take over; when it is gone the
 * lines are dropped.  Alone, a close-on-exec copy of fd 2 taken at load.
 * Each line is one write(2) of less than PIPE_BUF bytes, so lines of
 * processes and threads never interleave.
 *
 * The cost: the read/write path takes no lock and makes no system call; it
 * adds one or two additions to a table mapped in chunks of descriptors,
 * plain add instructions while the process has one thread, relaxed atomic
 * ones after.  An open costs a readlink more (its name), a report line an
 * fstat (the pipe is still the pipe).  No wrapper on the read/write path
 * allocates; the reporting path formats by hand on the stack and so may be
 * reached from a signal handler.  errno is what the real call left.
 *
 * stdio: glibc's own fread/fwrite/... call read(2) and write(2) through
 * internal aliases that no preload can see.  So each stdio wrapper compares
 * the FILE's public buffer pointers (struct _IO_FILE) before and after the
 * call: bytes that reached the kernel = bytes the call handed over or took
 * + the change in what waits in the buffer; a write that failed (the error
 * flag, cleared for the call) moved nothing; a seek's refill is told by the
 * FILE's kernel offset.  Where glibc reads or writes as often as it likes
 * inside one call (scanf, error, warn, perror, psignal, getopt, assert, a
 * wide-character call that may refill or flush), the change in this
 * thread's rchar and wchar (/proc/thread-self/io) across the call is what
 * it moved: two opens, reads and closes more for such a call.
 */
#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
#undef getwc
#undef putwc
#undef getwc_unlocked
#undef putwc_unlocked

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
static unsigned long dead_r, dead_w;	/* of the threads that ended */
static int repfd = -1;		/* where the lines go */
static int piped;		/* repfd is iotrace's pipe, inherited by exec */
static pid_t owner;		/* the process these counters belong to */
static char envbuf[64] = "IPCLAB_IOTRACE_FD=";
static char pipebuf[96] = "IPCLAB_IOTRACE_PIPE=";
static unsigned long rep_dev, rep_ino;	/* what repfd must be */

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
int __posix_getopt(int, char *const[], const char *);
/* <assert.h> declares these only without NDEBUG. */
void __assert_fail(const char *, const char *, unsigned int, const char *)
	__attribute__((noreturn));
void __assert_perror_fail(int, const char *, unsigned int, const char *)
	__attribute__((noreturn));

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
	X(dup) X(dup2) X(dup3) X(fcntl) X(fcntl64) X(ioctl) \
	X(posix_spawn_file_actions_addclosefrom_np) X(posix_spawn_file_actions_addclose) \
	X(close) X(close_range) X(closefrom) \
	X(execve) X(execveat) X(execvpe) X(fexecve) X(_exit) X(_Exit) \
	X(fopen) X(fopen64) X(freopen) X(freopen64) X(fclose) X(pclose) \
	X(fflush) X(fflush_unlocked) X(fcloseall) X(fseek) X(fseeko) X(fseeko64) \
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
	X(error) X(vwarn) X(vwarnx) X(perror) X(error_at_line) \
	X(psignal) X(psiginfo) X(__assert_fail) X(__assert_perror_fail) X(getopt) X(__posix_getopt) X(getopt_long) X(getopt_long_only) \
	X(sendmmsg) X(recvmmsg) X(syscall) \
	X(ungetc) X(vfscanf) X(__isoc99_vfscanf) X(eventfd_read) X(eventfd_write) \
	X(fgetwc) X(getwc) X(getwchar) X(fgetwc_unlocked) X(getwc_unlocked) X(getwchar_unlocked) \
	X(fgetws) X(fgetws_unlocked) X(fputwc) X(putwc) X(putwchar) X(fputwc_unlocked) \
	X(putwc_unlocked) X(putwchar_unlocked) X(fputws) X(fputws_unlocked) X(vfwprintf) X(vwprintf) \
	X(pthread_create) X(pthread_exit)

/* The shim's own system calls: syscall(3) is wrapped for the program (see
 * the end of this file), so the shim makes its own with the instruction. */
static long
sys(long nr, ...)
{
	va_list ap;
	long a, b, c, d, e, f;

	va_start(ap, nr);
	a = va_arg(ap, long);
	b = va_arg(ap, long);
	c = va_arg(ap, long);
	d = va_arg(ap, long);
	e = va_arg(ap, long);
	f = va_arg(ap, long);
	va_end(ap);
#if defined(__x86_64__)
	{
		register long r10 __asm__("r10") = d;
		register long r8 __asm__("r8") = e;
		register long r9 __asm__("r9") = f;
		long r;

		__asm__ volatile("syscall" : "=a"(r)
				 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
				 : "rcx", "r11", "memory");
		if (r < 0 && r > -4096) {
			errno = (int)-r;
			return -1;
		}
		return r;
	}
#else
	{
		static long (*next)(long, ...);

		if (next == NULL)
			next = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
		return next(nr, a, b, c, d, e, f);
	}
#endif
}

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
	p_ ? p_(__VA_ARGS__) : sys(nr, __VA_ARGS__); })

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
	c = (struct chunk *)sys(SYS_mmap, NULL, sizeof(*c), PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c == MAP_FAILED)
		return NULL;
	if (!__atomic_compare_exchange_n(&chunks[i], &none, c, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		sys(SYS_munmap, c, sizeof(*c));
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
	return (pid_t)sys(SYS_getpid) == owner;
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

/* ---- the report channel ------------------------------------------------ */

/* repfd is the channel only while it is the same open file as at the start
 * (device and inode): a program that closed it behind the shim's back (a
 * raw close_range, a posix_spawn file action) may have a file of its own
 * at that number now.  Then the channel is looked for among the process's
 * descriptors; if it is gone, lines are dropped, never written elsewhere. */
static int
same_file(int fd, unsigned long dev, unsigned long ino)
{
	struct stat st;
	int e = errno, r = fd >= 0 && sys(SYS_fstat, fd, &st) == 0 &&
			   (unsigned long)st.st_dev == dev && (unsigned long)st.st_ino == ino;

	errno = e;
	return r;
}

/* The descriptor that is (dev, ino), from /proc/self/fd, or -1. */
static int
find_file(unsigned long dev, unsigned long ino)
{
	char b[4096];
	long dir = sys(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;
	int found = -1, e = errno;

	while (dir >= 0 && found < 0 && (n = sys(SYS_getdents64, dir, b, sizeof(b))) > 0) {
		for (long off = 0; off < n && found < 0;) {
			const char *name = b + off + 19;	/* struct linux_dirent64 */
			unsigned short len;
			int fd = 0;

			memcpy(&len, b + off + 16, sizeof(len));
			off += len;
			if (*name < '0' || *name > '9')
				continue;
			for (; *name >= '0' && *name <= '9'; name++)
				fd = fd * 10 + (*name - '0');
			if (fd != dir && same_file(fd, dev, ino))
				found = fd;
		}
	}
	if (dir >= 0)
		sys(SYS_close, dir);
	errno = e;
	return found;
}

static void set_envs(void);

static int
channel_ok(void)
{
	if (repfd < 0)
		return 0;
	if (same_file(repfd, rep_dev, rep_ino))
		return 1;
	repfd = find_file(rep_dev, rep_ino);
	if (repfd >= 0 && piped)
		set_envs();
	return repfd >= 0;
}

/* A line to a channel whose reader is gone (iotrace ended with CMD and a
 * daemon lives on) must not kill the writer: SIGPIPE is blocked in this
 * thread around the write, and the one that an EPIPE raised is taken back
 * with a zero-timeout sigtimedwait, unless the program had one pending
 * already (that one is the program's).  The line is dropped; the mask and
 * errno are as the program left them.  Raw system calls only: this runs in
 * signal handlers too. */
static void
write_line(const char *b, size_t n)
{
	unsigned long pipe = 1UL << (SIGPIPE - 1), old, pending = 0;
	struct timespec zero = { 0, 0 };
	size_t off = 0;
	long w = 0;

	if (sys(SYS_rt_sigprocmask, SIG_BLOCK, &pipe, &old, 8L, 0L, 0L) == -1)
		return;	/* never write unguarded */
	if (sys(SYS_rt_sigpending, &pending, 8L, 0L, 0L, 0L, 0L) == -1)
		pending = pipe;	/* unknown: take nothing */
	while (off < n) {
		w = sys(SYS_write, repfd, b + off, n - off, 0L, 0L, 0L);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
		__atomic_fetch_add(&own_w, (unsigned long)w, RELAXED);
	}
	if (w == -1 && errno == EPIPE && !(pending & pipe))
		sys(SYS_rt_sigtimedwait, &pipe, NULL, &zero, 8L, 0L, 0L);
	sys(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8L, 0L, 0L);
}

static void
send_line(struct line *l)
{
	int e = errno;

	l->b[l->n++] = '\n';
	if (channel_ok())
		write_line(l->b, l->n);
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

/* What a descriptor's line will say, taken before it goes away: its
 * counters, the name it had when opened, and its name now when that
 * differs (a file renamed before its close). */
struct closing {
	int fd, have, renamed;
	long w;			/* for fclose: bytes its flush will write */
	struct fdc c;
	char name[NAMEMAX], now[NAMEMAX];
};

static void
prepare(int fd, struct closing *k, int always)
{
	char *then;

	k->fd = fd;
	k->renamed = 0;
	k->have = fd >= 0 && mine() && take(fd, &k->c);
	if (!k->have && !always)
		return;
	if (!k->have)
		memset(&k->c, 0, sizeof(k->c));
	fdname(fd, k->now, sizeof(k->now));
	then = openname(fd, 0);
	if (then && then[0] && !same_file_name(then, k->now)) {
		k->renamed = strcmp(k->now, "?") != 0;	/* "?": closed unseen */
		memcpy(k->name, then, strlen(then) + 1);
	} else {
		memcpy(k->name, k->now, strlen(k->now) + 1);
	}
}

static void
emit_prepared(const struct closing *k, const char *at)
{
	if (!k->have)
		return;
	if (k->renamed)
		emit_renamed(k->fd, k->now);
	emit(k->fd, at, &k->c, k->name);
}

/* One line for fd, when it moved anything, before it goes away: under the
 * name it had when opened, after a line with its name now if that differs. */
static void
report(int fd, const char *at)
{
	struct closing k;

	prepare(fd, &k, 0);
	emit_prepared(&k, at);
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
	int fd = (int)sys(SYS_fcntl, repfd, piped ? F_DUPFD : F_DUPFD_CLOEXEC, repfd + 1);

	if (fd < 0)
		return;
	repfd = fd;
	if (piped)
		set_envs();
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

/* The batch forms: the bytes of each message the call got through. */
static int
mmsg_ret(int fd, struct mmsghdr *v, int r, int rd)
{
	unsigned long n = 0;

	for (int i = 0; i < r; i++)
		n += v[i].msg_len;
	if (r >= 0) {
		if (rd)
			count_r(fd, (long)n);
		else
			count_w(fd, (long)n);
	}
	return r;
}

EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int fl)
{
	int r;

	if (!REAL(sendmmsg))
		NOSYS(-1);
	inraw.out = fd + 1;
	r = real_sendmmsg(fd, v, n, fl);
	inraw.out = 0;
	return mmsg_ret(fd, v, r, 0);
}

EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int fl, struct timespec *t)
{
	if (!REAL(recvmmsg))
		NOSYS(-1);
	return mmsg_ret(fd, v, real_recvmmsg(fd, v, n, fl, t), 1);
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
	int r;

	if (cmd == F_SETFD && fd == repfd && fd >= 0 && piped)
		return 0;	/* close-on-exec would lose the channel at exec */
	r = f ? f(fd, cmd, arg) : (int)sys(SYS_fcntl, fd, cmd, arg);

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

/* ioctl's FIOCLEX is fcntl's F_SETFD: not on the channel. */
EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == FIOCLEX && fd == repfd && fd >= 0 && piped)
		return 0;
	if (!REAL(ioctl))
		return (int)sys(SYS_ioctl, fd, req, arg);
	return real_ioctl(fd, req, arg);
}

/* A posix_spawn child closes what its file actions say inside glibc: a
 * closefrom over the channel keeps it, at the lowest number that the
 * closefrom frees (the child finds it there by its inode); a close of
 * the channel itself is dropped. */
EXPORT int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *fa, int from)
{
	int r;

	if (!REAL(posix_spawn_file_actions_addclosefrom_np))
		NOSYS(ENOSYS);
	if (!piped || repfd < 0 || repfd < from || from < 0)
		return real_posix_spawn_file_actions_addclosefrom_np(fa, from);
	if (repfd != from && (r = posix_spawn_file_actions_adddup2(fa, repfd, from)) != 0)
		return r;
	return real_posix_spawn_file_actions_addclosefrom_np(fa, from + 1);
}

EXPORT int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd)
{
	if (!REAL(posix_spawn_file_actions_addclose))
		NOSYS(ENOSYS);
	if (fd == repfd && fd >= 0 && piped)
		return 0;
	return real_posix_spawn_file_actions_addclose(fa, fd);
}

/* ---- exec and _exit: the counters would be lost ----------------------- */

/* The shim's own bytes go on with the process into its next image, in the
 * environment that exec passes (with the counts of the threads that ended:
 * IPCLAB_IOTRACE_OWN=PID:READ:WRITTEN:ENDED_READ:ENDED_WRITTEN), taken
 * only by the same pid (a stale copy handed on by a shell names another);
 * and so does where the channel is, whatever environment the program
 * passes (bash passes its own copy, made before the channel moved). */
#define OWNVAR "IPCLAB_IOTRACE_OWN="
#define ENVMAX 4096
static char ownbuf[128];

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
	putnum(&l, ":", __atomic_load_n(&dead_r, RELAXED));
	putnum(&l, ":", __atomic_load_n(&dead_w, RELAXED));
	l.b[l.n] = '\0';
	memcpy(ownbuf, l.b, l.n + 1 < sizeof(ownbuf) ? l.n + 1 : sizeof(ownbuf));
	ownbuf[sizeof(ownbuf) - 1] = '\0';
	for (size_t i = 0; envp[i]; i++) {
		if (j == ENVMAX)
			return envp;
		if (strncmp(envp[i], OWNVAR, sizeof(OWNVAR) - 1) == 0 ||
		    (piped && (strncmp(envp[i], "IPCLAB_IOTRACE_FD=", 18) == 0 ||
			       strncmp(envp[i], "IPCLAB_IOTRACE_PIPE=", 20) == 0)))
			continue;
		out[j++] = envp[i];
	}
	out[j++] = ownbuf;
	if (piped) {	/* where the channel is now, inherited whatever the flags */
		if (channel_ok())
			sys(SYS_fcntl, repfd, F_SETFD, 0);
		set_envs();
		out[j++] = envbuf;
		out[j++] = pipebuf;
	}
	out[j] = NULL;
	return out;
}

static void
take_own(void)
{
	const char *s = getenv("IPCLAB_IOTRACE_OWN");
	char *end;
	unsigned long pid, r, w, dr, dw;

	if (s == NULL)
		return;
	pid = strtoul(s, &end, 10);
	if (*end != ':' || pid != (unsigned long)owner)
		return;
	r = strtoul(end + 1, &end, 10);
	if (*end != ':')
		return;
	w = strtoul(end + 1, &end, 10);
	if (*end != ':')
		return;
	dr = strtoul(end + 1, &end, 10);
	if (*end != ':')
		return;
	dw = strtoul(end + 1, &end, 10);
	if (*end != '\0')
		return;
	own_r = r;
	own_w = w;
	dead_r = dr;
	dead_w = dw;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	char *env[ENVMAX + 4];

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
	char *env[ENVMAX + 4];

	report_all("exec");
	if (!REAL(execvpe))
		NOSYS(-1);
	return real_execvpe(file, argv, with_own(envp, env));
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char *env[ENVMAX + 4];

	report_all("exec");
	if (!REAL(fexecve))
		NOSYS(-1);
	return real_fexecve(fd, argv, with_own(envp, env));
}

EXPORT int execveat(int dir, const char *path, char *const argv[], char *const envp[],
		    int flags)
{
	char *env[ENVMAX + 4];

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
	sys(SYS_exit_group, status);
	__builtin_unreachable();
}

EXPORT void _Exit(int status)
{
	report_all("exit");
	if (REAL(_Exit))
		real__Exit(status);
	sys(SYS_exit_group, status);
	__builtin_unreachable();
}

/* ---- the kernel's count for this thread ------------------------------- */

/* For the calls that read or write through glibc's internal functions as
 * often as they like (scanf, error, psignal, getopt): the change in this
 * thread's rchar and wchar across the call is what they moved.  Each look
 * is an open, a read and a close; the read's own bytes go into rchar after
 * it returns, so they are taken off, and kept as the shim's own. */
struct tio {
	int on;
	unsigned long r, w, n;
};

/* rchar and wchar of one of the kernel's io files; *got: the bytes read. */
static int
io_file(const char *path, unsigned long *r, unsigned long *w, unsigned long *got)
{
	char b[512];
	const char *p, *q;
	long n = -1, fd = sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	int e = errno;

	if (fd >= 0) {
		while ((n = sys(SYS_read, fd, b, sizeof(b) - 1)) == -1 && errno == EINTR)
			;
		sys(SYS_close, fd);
	}
	errno = e;
	if (n <= 0)
		return 0;
	*got = (unsigned long)n;
	b[n] = '\0';
	if ((p = strstr(b, "rchar: ")) == NULL || (q = strstr(b, "wchar: ")) == NULL)
		return 0;
	*r = strtoul(p + 7, NULL, 10);
	*w = strtoul(q + 7, NULL, 10);
	return 1;
}

static int
thread_io(unsigned long *r, unsigned long *w, unsigned long *got)
{
	int ok = io_file("/proc/thread-self/io", r, w, got);

	if (ok)
		__atomic_fetch_add(&own_r, *got, RELAXED);
	return ok;
}

static void
tio_begin(struct tio *t, int want)
{
	t->on = want && thread_io(&t->r, &t->w, &t->n);
}

/* True with t->r and t->w set to what moved since tio_begin. */
static int
tio_end(struct tio *t)
{
	unsigned long r, w, n;

	if (!t->on || !thread_io(&r, &w, &n) || r < t->r + t->n || w < t->w)
		return 0;
	t->r = r - t->r - t->n;
	t->w = w - t->w;
	return 1;
}

/* ---- stdio ------------------------------------------------------------- */

/* A FILE's buffer before a call.  With glibc's buffer pointers:
 *   read side:  [_IO_read_ptr, _IO_read_end) came from the kernel, unread;
 *   write side: [_IO_write_base, _IO_write_ptr) waits to go to the kernel.
 * Kernel bytes read by a call = bytes it handed to the program + growth of
 * the unread part; written = bytes it took from the program - growth of the
 * waiting part.  Memory streams (fmemopen, open_memstream) have no fd. */
struct snap {
	int fd, locked, err, oerr;
	long ravail, wpend, owpend;
	off64_t offset;
	FILE *out;		/* stdout, which a refill of fp may flush */
};

#define IN_BACKUP 0x100		/* glibc libio.h: _IO_IN_BACKUP */
#define ERR_SEEN 0x20		/* _IO_ERR_SEEN */
#define EOF_SEEN 0x10		/* _IO_EOF_SEEN */
#define LINE_BUF 0x200		/* _IO_LINE_BUF */
#define UNBUFFERED 0x2		/* _IO_UNBUFFERED */
#define LINKED 0x80		/* _IO_LINKED */
#define NO_WRITES 0x8		/* _IO_NO_WRITES */
#define NO_READS 0x4		/* _IO_NO_READS */

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

/* A write that fails empties the buffer all the same (glibc drops what it
 * could not write): whether one failed in this call is told by the error
 * flag, cleared for the call and put back after, as glibc's fgets does. */
static inline __attribute__((always_inline)) int
err_clear(FILE *fp)
{
	int e = fp->_flags & ERR_SEEN;

	fp->_flags &= ~ERR_SEEN;
	return e;
}

static inline __attribute__((always_inline)) int
err_restore(FILE *fp, int was)
{
	int now = fp->_flags & ERR_SEEN;

	fp->_flags |= was;
	return now;
}

/* A refill of a line-buffered or unbuffered stream first flushes stdout
 * when stdout is line-buffered (glibc's _IO_new_file_underflow): a prompt. */
static inline __attribute__((always_inline)) void
pre_out(FILE *fp, struct snap *s)
{
	FILE *o = stdout;

	s->out = NULL;
	if (!(fp->_flags & (LINE_BUF | UNBUFFERED)) || o == fp || o == NULL ||
	    (o->_flags & (LINKED | NO_WRITES | LINE_BUF)) != (LINKED | LINE_BUF) ||
	    fdof(o) < 0)
		return;
	s->out = o;
	s->owpend = wpend(o);
	s->oerr = err_clear(o);
}

static inline __attribute__((always_inline)) void
post_out(struct snap *s)
{
	FILE *o = s->out;
	long dw;

	if (o == NULL)
		return;
	dw = s->owpend - wpend(o);
	if (!err_restore(o, s->oerr) && dw > 0)
		count_w(o->_fileno, dw);
}

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
	s->offset = fp->_offset;
	s->err = err_clear(fp);
	pre_out(fp, s);
	inflight.wbase = fp->_IO_write_base;
	inflight.wend = fp->_IO_write_end;
	inflight.fp = fp;
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
		if (!err_restore(fp, s->err) && dw > 0)
			count_w(s->fd, dw);
		post_out(s);
	}
	if (s->locked) {
		int e = errno;

		funlockfile(fp);
		errno = e;
	}
}

/* A seek that succeeds moves the read pointer within the buffer (no read,
 * the FILE's kernel offset kept), or refills it with one read at the block
 * before the target: the buffer then holds [target's block, kernel offset)
 * and either the kernel offset moved or the target is the buffer's end (a
 * seek to the end of a file whose last block was in the buffer already).
 * Waiting bytes are flushed first, and the flush empties the buffer: any
 * bytes in it after such a seek were read by it (the flush moved the
 * offset too, so that it may come back to what it was). */
/* A seek past the end of a file, into the block the end is in, reads to the
 * end, finds less than it wanted, and seeks on from there with the buffer
 * left empty: the bytes it read are the file's size less the block's start
 * (its target is the FILE's kernel offset now). */
static long
seek_past_end(FILE *fp)
{
	long bs = fp->_IO_buf_end - fp->_IO_buf_base;
	off64_t target = fp->_offset, block;
	struct stat st;
	int e = errno;

	if (bs <= 0 || target <= 0 || (fp->_flags & NO_READS))
		return 0;
	block = target & ~(off64_t)(bs - 1);
	if (target == block || target - block > bs)
		return 0;	/* glibc would not have read */
	if (sys(SYS_fstat, fp->_fileno, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size <= block || st.st_size >= target) {
		errno = e;
		return 0;
	}
	errno = e;
	return (long)(st.st_size - block);
}

static inline void
post_seek(FILE *fp, struct snap *s, int ok, int cur)
{
	int e = errno;

	inflight.fp = NULL;
	if (s->fd >= 0) {
		long dw = s->wpend - wpend(fp);

		if (ok && fp->_IO_read_end > fp->_IO_read_base && !(fp->_flags & IN_BACKUP) &&
		    (s->wpend > 0 || fp->_offset != s->offset ||
		     fp->_IO_read_ptr == fp->_IO_read_end))
			count_r(s->fd, fp->_IO_read_end - fp->_IO_read_base);
		else if (ok && !(cur && s->offset == -1) &&
			 fp->_IO_read_end == fp->_IO_read_base) {
			long n = seek_past_end(fp);

			if (n > 0)
				count_r(s->fd, n);
		}
		if (!err_restore(fp, s->err) && dw > 0)
			count_w(s->fd, dw);
		post_out(s);
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

/* What fgets took: the string, unless a NUL byte came in the line.  fgets
 * stops after a newline, at n - 1 bytes, or at the end or an error: a string
 * that ends otherwise held a NUL, and the line goes on to the first newline
 * after it (what lies beyond the line in b is older, but a newline there
 * would have ended the line), or to n - 1. */
static long
line_took(const char *b, int n, FILE *fp)
{
	size_t k;
	const char *nl;

	if (b == NULL)
		return 0;
	k = strlen(b);
	if ((k > 0 && b[k - 1] == '\n') || (long)k >= (long)n - 1 ||
	    (fp->_flags & (EOF_SEEN | ERR_SEEN)))
		return (long)k;
	nl = memchr(b + k + 1, '\n', (size_t)n - 2 - k);
	return nl ? (long)(nl - b) + 1 : (long)n - 1;
}

#define LINE(r, n, fp) line_took(r, n, fp)
#define ONE(r) ((r) != EOF ? 1L : 0L)
#define POS(r) ((r) > 0 ? (long)(r) : 0L)

EXPORT char *fgets(char *b, int n, FILE *fp)
{
	TAKE_OR(fgets, 1, fp, char *, NULL, LINE(r_, n, fp), b, n, fp);
}

EXPORT char *fgets_unlocked(char *b, int n, FILE *fp)
{
	TAKE_OR(fgets_unlocked, 0, fp, char *, NULL, LINE(r_, n, fp), b, n, fp);
}

EXPORT char *__fgets_chk(char *b, size_t size, int n, FILE *fp)
{
	TAKE_OR(__fgets_chk, 1, fp, char *, NULL, LINE(r_, n, fp), b, size, n, fp);
}

EXPORT char *__fgets_unlocked_chk(char *b, size_t size, int n, FILE *fp)
{
	TAKE_OR(__fgets_unlocked_chk, 0, fp, char *, NULL, LINE(r_, n, fp), b, size, n, fp);
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

/* scanf does not say how much it consumed, and refills as often as it
 * needs: the bytes this thread's read calls moved meanwhile (rchar of
 * /proc/thread-self/io) are the bytes its refills read. */
static int
scan(__typeof__(vfscanf) *f, FILE *fp, const char *fmt, va_list ap)
{
	struct snap s;
	struct tio t;
	int r;

	if (f == NULL)
		NOSYS(EOF);
	pre(fp, &s, 1);
	tio_begin(&t, s.fd >= 0);
	r = f(fp, fmt, ap);
	if (tio_end(&t)) {
		count_r(s.fd, t.r);
		post(fp, &s, -1, 0);
	} else {
		post(fp, &s, 0, 0);	/* the last refill only */
	}
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
int gnu_vscanf(const char *, va_list) __asm__("vscanf");
int __isoc99_vscanf(const char *, va_list);

EXPORT int gnu_vscanf(const char *fmt, va_list ap)
{
	return scan(REAL(vfscanf), stdin, fmt, ap);
}

EXPORT int __isoc99_vscanf(const char *fmt, va_list ap)
{
	return scan(REAL(__isoc99_vfscanf), stdin, fmt, ap);
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

/* getw and putw are one fread or fwrite of an int, as glibc does them. */
EXPORT int getw(FILE *fp)
{
	int w;

	return fread(&w, sizeof(w), 1, fp) == 1 ? w : EOF;
}

EXPORT int putw(int w, FILE *fp)
{
	return fwrite(&w, sizeof(w), 1, fp) == 1 ? 0 : EOF;
}

/* ---- wide-character stdio --------------------------------------------- */

/* A wide stream converts between its wide buffer and the byte buffer as it
 * goes, so the byte pointers do not tell what reached the kernel.  A call
 * that may refill (its wide buffer is empty, or has no newline for fgetws)
 * or flush (its wide buffer may fill, or the stream is line-buffered or
 * unbuffered) is measured by this thread's rchar and wchar instead; the
 * others move nothing.  glibc libio.h: struct _IO_wide_data begins so. */
struct wide {
	wchar_t *read_ptr, *read_end, *read_base;
	wchar_t *write_base, *write_ptr, *write_end;
};

#define WD(fp) ((struct wide *)(fp)->_wide_data)

static inline int
wide_may_read(FILE *fp, int line)
{
	struct wide *w = WD(fp);

	if (w == NULL || w->read_ptr == NULL || w->read_ptr >= w->read_end)
		return 1;
	return line && wmemchr(w->read_ptr, L'\n', (size_t)(w->read_end - w->read_ptr)) == NULL;
}

static inline int
wide_may_write(FILE *fp, size_t n)
{
	struct wide *w = WD(fp);

	return w == NULL || w->write_ptr == NULL || (fp->_flags & (LINE_BUF | UNBUFFERED)) ||
	       (size_t)(w->write_end - w->write_ptr) <= n;
}

static inline long
wide_pending(FILE *fp)
{
	struct wide *w = WD(fp);

	return fp->_mode > 0 && w && w->write_ptr ? (long)(w->write_ptr - w->write_base) : 0;
}

/* The measured wide call this thread is in, for a death inside it. */
static __thread struct {
	struct tio *t;
	int fd;
} wide_now __attribute__((tls_model("initial-exec")));

static void
wide_end(void)
{
	struct tio *t = wide_now.t;

	wide_now.t = NULL;
	if (t && tio_end(t)) {
		if (t->r)
			count_r(wide_now.fd, (long)t->r);
		if (t->w)
			count_w(wide_now.fd, (long)t->w);
	}
}

/* Calls the real f, measured when may is true. */
#define WIDE(f, fp, may, fail, ...) do { \
	struct tio t_; \
	__typeof__(real_##f(__VA_ARGS__)) r_; \
	int fd_ = fdof(fp), e_; \
	if (!REAL(f)) \
		NOSYS(fail); \
	if (fd_ < 0 || !(may)) \
		return real_##f(__VA_ARGS__); \
	tio_begin(&t_, 1); \
	wide_now.t = &t_; \
	wide_now.fd = fd_; \
	r_ = real_##f(__VA_ARGS__); \
	wide_now.t = NULL; \
	e_ = errno; \
	if (tio_end(&t_)) { \
		if (t_.r) \
			count_r(fd_, (long)t_.r); \
		if (t_.w) \
			count_w(fd_, (long)t_.w); \
	} \
	errno = e_; \
	return r_; } while (0)

EXPORT wint_t fgetwc(FILE *fp) { WIDE(fgetwc, fp, wide_may_read(fp, 0), WEOF, fp); }
EXPORT wint_t getwc(FILE *fp) { WIDE(getwc, fp, wide_may_read(fp, 0), WEOF, fp); }
EXPORT wint_t getwchar(void) { WIDE(getwchar, stdin, wide_may_read(stdin, 0), WEOF); }
EXPORT wint_t fgetwc_unlocked(FILE *fp)
{
	WIDE(fgetwc_unlocked, fp, wide_may_read(fp, 0), WEOF, fp);
}

EXPORT wint_t getwc_unlocked(FILE *fp)
{
	WIDE(getwc_unlocked, fp, wide_may_read(fp, 0), WEOF, fp);
}

EXPORT wint_t getwchar_unlocked(void)
{
	WIDE(getwchar_unlocked, stdin, wide_may_read(stdin, 0), WEOF);
}

EXPORT wchar_t *fgetws(wchar_t *b, int n, FILE *fp)
{
	WIDE(fgetws, fp, wide_may_read(fp, 1), NULL, b, n, fp);
}

EXPORT wchar_t *fgetws_unlocked(wchar_t *b, int n, FILE *fp)
{
	WIDE(fgetws_unlocked, fp, wide_may_read(fp, 1), NULL, b, n, fp);
}

EXPORT wint_t fputwc(wchar_t c, FILE *fp) { WIDE(fputwc, fp, wide_may_write(fp, 1), WEOF, c, fp); }
EXPORT wint_t putwc(wchar_t c, FILE *fp) { WIDE(putwc, fp, wide_may_write(fp, 1), WEOF, c, fp); }
EXPORT wint_t putwchar(wchar_t c) { WIDE(putwchar, stdout, wide_may_write(stdout, 1), WEOF, c); }
EXPORT wint_t fputwc_unlocked(wchar_t c, FILE *fp)
{
	WIDE(fputwc_unlocked, fp, wide_may_write(fp, 1), WEOF, c, fp);
}

EXPORT wint_t putwc_unlocked(wchar_t c, FILE *fp)
{
	WIDE(putwc_unlocked, fp, wide_may_write(fp, 1), WEOF, c, fp);
}

EXPORT wint_t putwchar_unlocked(wchar_t c)
{
	WIDE(putwchar_unlocked, stdout, wide_may_write(stdout, 1), WEOF, c);
}

EXPORT int fputws(const wchar_t *str, FILE *fp)
{
	WIDE(fputws, fp, wide_may_write(fp, wcslen(str)), -1, str, fp);
}

EXPORT int fputws_unlocked(const wchar_t *str, FILE *fp)
{
	WIDE(fputws_unlocked, fp, wide_may_write(fp, wcslen(str)), -1, str, fp);
}

/* wprintf's length is known only after: always measured. */
EXPORT int vfwprintf(FILE *fp, const wchar_t *fmt, va_list ap)
{
	WIDE(vfwprintf, fp, 1, -1, fp, fmt, ap);
}

EXPORT int vwprintf(const wchar_t *fmt, va_list ap)
{
	WIDE(vwprintf, stdout, 1, -1, fmt, ap);
}

EXPORT int fwprintf(FILE *fp, const wchar_t *fmt, ...)
{
	int r;

	VA(r = vfwprintf(fp, fmt, ap), fmt);
	return r;
}

EXPORT int wprintf(const wchar_t *fmt, ...)
{
	int r;

	VA(r = vwprintf(fmt, ap), fmt);
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

/* A wide stream's flush, measured (see WIDE). */
static int
wide_flush(FILE *fp)
{
	WIDE(fflush, fp, 1, EOF, fp);
}

/* fflush(NULL), fcloseall and exit's flush: every FILE on glibc's chain,
 * however many (on the stack, or mapped when they are more).  Wide streams
 * with something waiting are flushed first, one by one, each measured. */
#define FLUSHSTACK 256
struct waiting {
	FILE *fp;
	long pend;
	int err;
};

static int
flush_all(int (*f)(FILE *), FILE *arg)
{
	struct waiting stack[FLUSHSTACK], *w = stack;
	size_t n = 0, cap = FLUSHSTACK, i;
	int r, e;

	for (FILE *fp = _IO_list_all; fp; fp = fp->_chain) {
		if (fdof(fp) >= 0 && wide_pending(fp) > 0)
			wide_flush(fp);	/* measured one by one, in glibc's order */
		n++;
	}
	if (n > cap) {
		w = (struct waiting *)sys(SYS_mmap, NULL, n * sizeof(*w), PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		cap = w == MAP_FAILED ? 0 : n;
		if (w == MAP_FAILED)
			w = stack;
	}
	n = 0;
	for (FILE *fp = _IO_list_all; fp && n < cap; fp = fp->_chain, n++) {
		w[n].fp = fp;
		w[n].pend = wpend(fp);
		w[n].err = err_clear(fp);
	}
	r = f(arg);
	e = errno;
	for (i = 0; i < n; i++) {
		FILE *fp = w[i].fp;
		long d = w[i].pend - wpend(fp);

		if (!err_restore(fp, w[i].err) && fdof(fp) >= 0 && d > 0)
			count_w(fp->_fileno, d);
	}
	if (w != stack)
		sys(SYS_munmap, w, cap * sizeof(*w));
	errno = e;
	return r;
}

static int
call_fcloseall(FILE *unused)
{
	(void)unused;
	return real_fcloseall();
}

/* fcloseall flushes every FILE and makes it unbuffered; it closes none. */
EXPORT int fcloseall(void)
{
	if (!REAL(fcloseall))
		NOSYS(EOF);
	return flush_all(call_fcloseall, NULL);
}

EXPORT int fflush(FILE *fp)
{
	if (!REAL(fflush))
		NOSYS(EOF);
	if (fp == NULL)
		return flush_all(real_fflush, NULL);
	if (wide_pending(fp) > 0)
		WIDE(fflush, fp, 1, EOF, fp);
	GIVE(fflush, 1, fp, 0L, fp);
}

EXPORT int fflush_unlocked(FILE *fp)
{
	if (!REAL(fflush_unlocked))
		NOSYS(EOF);
	if (fp == NULL)
		return flush_all(real_fflush_unlocked, NULL);
	if (wide_pending(fp) > 0)
		WIDE(fflush_unlocked, fp, 1, EOF, fp);
	GIVE(fflush_unlocked, 0, fp, 0L, fp);
}

/* A relative seek while the FILE does not know its kernel offset only
 * seeks (glibc's "dumb" path): it cannot read. */
#define SEEK(f, fp, cur, ...) do { \
	struct snap s_; \
	int r_; \
	if (!REAL(f)) \
		NOSYS(-1); \
	pre(fp, &s_, 1); \
	r_ = real_##f(__VA_ARGS__); \
	post_seek(fp, &s_, r_ == 0, cur); \
	return r_; } while (0)

EXPORT int fseek(FILE *fp, long off, int whence)
{
	SEEK(fseek, fp, whence == SEEK_CUR, fp, off, whence);
}

EXPORT int fseeko(FILE *fp, off_t off, int whence)
{
	SEEK(fseeko, fp, whence == SEEK_CUR, fp, off, whence);
}

EXPORT int fseeko64(FILE *fp, off64_t off, int whence)
{
	SEEK(fseeko64, fp, whence == SEEK_CUR, fp, off, whence);
}

EXPORT int fsetpos(FILE *fp, const fpos_t *pos) { SEEK(fsetpos, fp, 0, fp, pos); }
EXPORT int fsetpos64(FILE *fp, const fpos64_t *pos) { SEEK(fsetpos64, fp, 0, fp, pos); }

EXPORT void rewind(FILE *fp)
{
	struct snap s;

	if (!REAL(rewind))
		return;
	pre(fp, &s, 1);
	real_rewind(fp);
	post_seek(fp, &s, 1, 0);
}

/* fclose flushes what waits, then closes the descriptor: the line is made
 * ready before (the name goes with the descriptor), and the flush counted
 * after, when fclose says it worked (a failed write empties the buffer all
 * the same). */
static void
close_begin(FILE *fp, struct closing *k)
{
	int e = errno, fd = fdof(fp);

	k->have = 0;
	k->w = 0;
	if (fd < 0 || !mine())
		return;
	k->w = wpend(fp);
	prepare(fd, k, k->w > 0);
	forget(fd);
	errno = e;
}

static void
close_end(struct closing *k, int ok)
{
	int e = errno;

	if (ok && k->w > 0) {
		k->have = 1;
		k->c.writes++;
		k->c.wbytes += (unsigned long)k->w;
	}
	emit_prepared(k, "close");
	errno = e;
}

/* A wide stream's last flush converts: measured. */
static int
wide_fclose(FILE *fp)
{
	struct closing k;
	struct tio t;
	int r, e = errno;

	if (!mine())
		return real_fclose(fp);
	prepare(fdof(fp), &k, 1);
	forget(k.fd);
	errno = e;
	tio_begin(&t, 1);
	r = real_fclose(fp);
	k.w = tio_end(&t) ? (long)t.w : 0;
	close_end(&k, 1);
	return r;
}

EXPORT int fclose(FILE *fp)
{
	struct closing k;
	int r;

	if (!REAL(fclose))
		NOSYS(EOF);
	if (fdof(fp) >= 0 && wide_pending(fp) > 0)
		return wide_fclose(fp);
	close_begin(fp, &k);
	r = real_fclose(fp);
	close_end(&k, r == 0);
	return r;
}

EXPORT int pclose(FILE *fp)
{
	struct closing k;
	int r;

	if (!REAL(pclose))
		NOSYS(-1);
	close_begin(fp, &k);
	r = real_pclose(fp);
	close_end(&k, r != -1);
	return r;
}

/* freopen closes the old stream, whatever its flush did. */
static void
before_freopen(FILE *fp)
{
	struct closing k;

	close_begin(fp, &k);
	close_end(&k, 1);
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
	before_freopen(fp);
	return fopened(real_freopen(path, mode, fp));
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
	if (!REAL(freopen64))
		NOSYS(NULL);
	before_freopen(fp);
	return fopened(real_freopen64(path, mode, fp));
}

/* ---- messages on stderr: error(3), err(3), perror(3), getopt ---------- */

/* glibc prints these through its internal stdio, as many writes as it
 * likes, into stderr: what this thread wrote during the call goes to
 * stderr's descriptor.  error() flushes stdout first: the shim's fflush does
 * that, counted, and glibc's then finds nothing. */
static void
msg_begin(struct tio *t)
{
	int e = errno;

	tio_begin(t, fdof(stderr) >= 0);
	errno = e;
}

static void
msg_end(struct tio *t)
{
	int e = errno, fd = fdof(stderr);

	if (tio_end(t) && t->w > 0 && fd >= 0)
		count_w(fd, (long)t->w);
	errno = e;
}

static char *
format(const char *fmt, va_list ap)
{
	char *msg = NULL;
	int e = errno;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	errno = e;
	return msg;
}

/* error(status, ...) is error(0, ...) then exit(status), as glibc's is. */
EXPORT void error(int status, int errnum, const char *fmt, ...)
{
	struct tio t;
	va_list ap;
	char *msg;
	int e = errno;

	va_start(ap, fmt);
	msg = format(fmt, ap);
	va_end(ap);
	fflush(stdout);
	errno = e;
	msg_begin(&t);
	if (REAL(error))
		real_error(0, errnum, "%s", msg ? msg : fmt);
	msg_end(&t);
	free(msg);
	if (status)
		exit(status);
	errno = e;
}

EXPORT void error_at_line(int status, int errnum, const char *file, unsigned int line,
			  const char *fmt, ...)
{
	struct tio t;
	va_list ap;
	char *msg;
	int e = errno;

	va_start(ap, fmt);
	msg = format(fmt, ap);
	va_end(ap);
	fflush(stdout);
	errno = e;
	msg_begin(&t);
	if (REAL(error_at_line))
		real_error_at_line(0, errnum, file, line, "%s", msg ? msg : fmt);
	msg_end(&t);
	free(msg);
	if (status)
		exit(status);
	errno = e;
}

EXPORT void vwarn(const char *fmt, va_list ap)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(vwarn))
		real_vwarn(fmt, ap);
	msg_end(&t);
}

EXPORT void vwarnx(const char *fmt, va_list ap)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(vwarnx))
		real_vwarnx(fmt, ap);
	msg_end(&t);
}

/* err is warn then exit, as glibc's is. */
EXPORT void verr(int status, const char *fmt, va_list ap)
{
	vwarn(fmt, ap);
	exit(status);
}

EXPORT void verrx(int status, const char *fmt, va_list ap)
{
	vwarnx(fmt, ap);
	exit(status);
}

EXPORT void warn(const char *fmt, ...) { VA(vwarn(fmt, ap), fmt); }
EXPORT void warnx(const char *fmt, ...) { VA(vwarnx(fmt, ap), fmt); }
EXPORT void err(int status, const char *fmt, ...) { VA(verr(status, fmt, ap), fmt); }
EXPORT void errx(int status, const char *fmt, ...) { VA(verrx(status, fmt, ap), fmt); }

EXPORT void perror(const char *s)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(perror))
		real_perror(s);
	msg_end(&t);
}

EXPORT void psignal(int sig, const char *s)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(psignal))
		real_psignal(sig, s);
	msg_end(&t);
}

EXPORT void psiginfo(const siginfo_t *si, const char *s)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(psiginfo))
		real_psiginfo(si, s);
	msg_end(&t);
}

/* getopt prints its complaints only while opterr is set: look then only. */
#define GETOPT(f, ...) do { \
	struct tio t_; \
	int r_; \
	if (!REAL(f)) \
		NOSYS(-1); \
	if (!opterr) \
		return real_##f(__VA_ARGS__); \
	msg_begin(&t_); \
	r_ = real_##f(__VA_ARGS__); \
	msg_end(&t_); \
	return r_; } while (0)

EXPORT int getopt(int argc, char *const argv[], const char *opts)
{
	GETOPT(getopt, argc, argv, opts);
}

EXPORT int __posix_getopt(int argc, char *const argv[], const char *opts)
{
	GETOPT(__posix_getopt, argc, argv, opts);
}

EXPORT int getopt_long(int argc, char *const argv[], const char *opts,
		       const struct option *lo, int *li)
{
	GETOPT(getopt_long, argc, argv, opts, lo, li);
}

EXPORT int getopt_long_only(int argc, char *const argv[], const char *opts,
			    const struct option *lo, int *li)
{
	GETOPT(getopt_long_only, argc, argv, opts, lo, li);
}

/* A failed assert prints its message through glibc's internal stdio and
 * aborts: the look after the message is taken by the shim's SIGABRT
 * handler (when the program left SIGABRT at its default). */
static __thread struct tio dying __attribute__((tls_model("initial-exec")));

static void
assert_end(void)
{
	if (dying.on) {
		msg_end(&dying);
		dying.on = 0;
	}
}

EXPORT void __assert_fail(const char *what, const char *file, unsigned int line,
			  const char *fn)
{
	msg_begin(&dying);
	if (REAL(__assert_fail))
		real___assert_fail(what, file, line, fn);
	abort();
}

EXPORT void __assert_perror_fail(int errnum, const char *file, unsigned int line,
				 const char *fn)
{
	msg_begin(&dying);
	if (REAL(__assert_perror_fail))
		real___assert_perror_fail(errnum, file, line, fn);
	abort();
}

/* ---- death by a signal ------------------------------------------------- */

/* SIGPIPE ends `producer | head`, SIGINT and SIGTERM end what the user
 * stops, abort() (a failed assert) raises SIGABRT, alarm() and kill -USR1
 * end a program that set no handler: by default the process dies with its
 * counters unreported.  Where
 * the program leaves one of these at SIG_DFL, the shim catches it, reports,
 * restores SIG_DFL and raises it again, so the process dies exactly as it
 * would have; sigaction and signal still show SIG_DFL to the program. */
#define WATCHED(sig) ((sig) == SIGPIPE || (sig) == SIGINT || (sig) == SIGTERM || \
		      (sig) == SIGHUP || (sig) == SIGABRT || (sig) == SIGALRM || \
		      (sig) == SIGUSR1 || (sig) == SIGUSR2)
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
	if (sig == SIGABRT)
		assert_end();
	wide_end();
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

/* IPCLAB_IOTRACE_FD=N and IPCLAB_IOTRACE_PIPE=N:DEV:INO in environ, the
 * shim's own buffers, so that a later exec hands them on. */
static void
set_envs(void)
{
	struct line l = { .n = 0 };

	put(&l, "IPCLAB_IOTRACE_FD=");
	if (repfd >= 0)
		putnum(&l, "", (unsigned long)repfd);
	else
		put(&l, "-1");
	l.b[l.n] = '\0';
	memcpy(envbuf, l.b, l.n + 1);
	l.n = 0;
	put(&l, "IPCLAB_IOTRACE_PIPE=");
	putnum(&l, "", (unsigned long)(repfd >= 0 ? repfd : 0));
	putnum(&l, ":", rep_dev);
	putnum(&l, ":", rep_ino);
	l.b[l.n] = '\0';
	memcpy(pipebuf, l.b, l.n + 1);
	if (getenv("IPCLAB_IOTRACE_FD") != envbuf + sizeof("IPCLAB_IOTRACE_FD=") - 1)
		putenv(envbuf);
	if (getenv("IPCLAB_IOTRACE_PIPE") != pipebuf + sizeof("IPCLAB_IOTRACE_PIPE=") - 1)
		putenv(pipebuf);
}

/* IPCLAB_IOTRACE_PIPE as (fd, dev, ino); false when absent or malformed. */
static int
pipe_env(unsigned long *fd, unsigned long *dev, unsigned long *ino)
{
	const char *s = getenv("IPCLAB_IOTRACE_PIPE");
	char *end;

	if (s == NULL)
		return 0;
	*fd = strtoul(s, &end, 10);
	if (*end != ':')
		return 0;
	*dev = strtoul(end + 1, &end, 10);
	if (*end != ':')
		return 0;
	*ino = strtoul(end + 1, &end, 10);
	return *end == '\0';
}

/* Under iotrace (IPCLAB_IOTRACE_FD set, not empty): the pipe it names when that is a
 * pipe, else the one IPCLAB_IOTRACE_PIPE names, found wherever it is now
 * (a shell that moved it hands on a stale environment), else none: the
 * lines are dropped, never written to the program's stderr.  Alone: a
 * close-on-exec copy of stderr. */
static void
setup_report(void)
{
	const char *v = getenv("IPCLAB_IOTRACE_FD");
	int fd = parse_fd(v);
	unsigned long pfd, dev, ino;
	struct stat st;

	if (v != NULL && *v != '\0') {
		piped = 1;
		if (fd >= 0 && sys(SYS_fstat, fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
		    !(pipe_env(&pfd, &dev, &ino) && pfd == (unsigned long)fd &&
		      (dev != (unsigned long)st.st_dev || ino != (unsigned long)st.st_ino) &&
		      find_file(dev, ino) >= 0)) {
			repfd = fd;
			rep_dev = (unsigned long)st.st_dev;
			rep_ino = (unsigned long)st.st_ino;
		} else if (pipe_env(&pfd, &dev, &ino)) {
			rep_dev = dev;
			rep_ino = ino;
			repfd = find_file(dev, ino);
		}
		set_envs();
		return;
	}
	repfd = (int)sys(SYS_fcntl, 2, F_DUPFD_CLOEXEC, high_fd());
	if (repfd >= 0 && sys(SYS_fstat, repfd, &st) == 0) {
		rep_dev = (unsigned long)st.st_dev;
		rep_ino = (unsigned long)st.st_ino;
	} else {
		repfd = -1;
	}
}

/* The kernel's count of the bytes this process read and wrote: rchar and
 * wchar of each of its threads (/proc/self/task/TID/io; /proc/self/io would
 * add the children it reaped), those of its threads that ended (taken as
 * they ended, see thread_end), less the shim's own: its report lines and
 * its reads of these files.  A read's own bytes go into rchar after it
 * returns: this thread's file is read first, the others' do not see it. */
static int
kernel_io(unsigned long *r, unsigned long *w)
{
	unsigned long own0 = __atomic_load_n(&own_r, RELAXED), tr, tw, n;
	long self = sys(SYS_gettid);
	char b[2048];
	long dir, got;

	if (!thread_io(r, w, &n))
		return 0;
	dir = sys(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	while (dir >= 0 && (got = sys(SYS_getdents64, dir, b, sizeof(b))) > 0) {
		for (long off = 0; off < got;) {
			const char *name = b + off + 19;	/* struct linux_dirent64 */
			struct line l = { .n = 0 };
			unsigned short len;

			memcpy(&len, b + off + 16, sizeof(len));
			off += len;
			if (*name < '0' || *name > '9' || strtol(name, NULL, 10) == self)
				continue;
			put(&l, "/proc/self/task/");
			put(&l, name);
			put(&l, "/io");
			l.b[l.n] = '\0';
			if (io_file(l.b, &tr, &tw, &n)) {
				*r += tr;
				*w += tw;
				__atomic_fetch_add(&own_r, n, RELAXED);
			}
		}
	}
	if (dir >= 0)
		sys(SYS_close, dir);
	*r += __atomic_load_n(&dead_r, RELAXED);
	*w += __atomic_load_n(&dead_w, RELAXED);
	*r -= *r >= own0 ? own0 : *r;
	*w -= *w >= own_w ? own_w : *w;
	return 1;
}

/* A thread that ends takes its counts with it (into what the process's
 * parent sees): keep them.  Its own look is not the shim's for later. */
static void
thread_end(void)
{
	unsigned long r, w, n;

	if (io_file("/proc/thread-self/io", &r, &w, &n)) {
		__atomic_fetch_add(&dead_r, r, RELAXED);
		__atomic_fetch_add(&dead_w, w, RELAXED);
	}
}

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *
trampoline(void *p)
{
	struct start s = *(struct start *)p;
	void *r;

	free(p);
	r = s.fn(s.arg);
	thread_end();
	return r;
}

EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	struct start *s;
	int r, e = errno;

	if (!REAL(pthread_create))
		return ENOSYS;
	if ((s = malloc(sizeof(*s))) == NULL) {
		errno = e;
		return real_pthread_create(t, a, fn, arg);
	}
	s->fn = fn;
	s->arg = arg;
	r = real_pthread_create(t, a, trampoline, s);
	if (r != 0)
		free(s);
	errno = e;
	return r;
}

EXPORT void pthread_exit(void *v)
{
	thread_end();
	if (REAL(pthread_exit))
		real_pthread_exit(v);
	sys(SYS_exit, 0);
	__builtin_unreachable();
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

/* quick_exit runs its handlers, ours last (the first registered), and does
 * not flush stdio: nothing more moves after this. */
static void
on_quick_exit(void)
{
	int e = errno;

	report_all("exit");
	errno = e;
}

static void
child_reset(void)
{
	int high = __atomic_load_n(&fdhigh, RELAXED);

	owner = (pid_t)sys(SYS_getpid);
	for (int i = 0; i <= high / CHUNK && i < NCHUNK; i++)
		if (chunks[i])
			memset(chunks[i]->c, 0, sizeof(chunks[i]->c[0]) *
			       (size_t)(high / CHUNK > i ? CHUNK : high % CHUNK + 1));
	memset(&spill, 0, sizeof(spill));
	own_r = own_w = dead_r = dead_w = 0;
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
	owner = (pid_t)sys(SYS_getpid);
	take_own();
	setup_report();
	pthread_atfork(NULL, NULL, child_reset);
	at_quick_exit(on_quick_exit);
	catch_fatal(SIGPIPE);
	catch_fatal(SIGINT);
	catch_fatal(SIGTERM);
	catch_fatal(SIGHUP);
	catch_fatal(SIGABRT);
	catch_fatal(SIGALRM);
	catch_fatal(SIGUSR1);
	catch_fatal(SIGUSR2);
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
		flush_all(real_fflush, NULL);
	report_all("exit");
	errno = e;
}

/* ---- syscall(3) -------------------------------------------------------- */

/* libuv (node) and others call the kernel through syscall(3): the calls
 * that move bytes, open, close or exec go to the wrappers above. */
static long
sys_io(long nr, const long *a, int *done)
{
	*done = 1;
	switch (nr) {
	case SYS_read: return read((int)a[0], (void *)a[1], (size_t)a[2]);
	case SYS_write: return write((int)a[0], (const void *)a[1], (size_t)a[2]);
	case SYS_pread64: return pread((int)a[0], (void *)a[1], (size_t)a[2], a[3]);
	case SYS_pwrite64: return pwrite((int)a[0], (const void *)a[1], (size_t)a[2], a[3]);
	case SYS_readv: return readv((int)a[0], (const struct iovec *)a[1], (int)a[2]);
	case SYS_writev: return writev((int)a[0], (const struct iovec *)a[1], (int)a[2]);
	case SYS_recvfrom:
		return recvfrom((int)a[0], (void *)a[1], (size_t)a[2], (int)a[3],
				(struct sockaddr *)a[4], (socklen_t *)a[5]);
	case SYS_sendto:
		return sendto((int)a[0], (const void *)a[1], (size_t)a[2], (int)a[3],
			      (const struct sockaddr *)a[4], (socklen_t)a[5]);
	case SYS_recvmsg: return recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
	case SYS_sendmsg: return sendmsg((int)a[0], (const struct msghdr *)a[1], (int)a[2]);
	case SYS_sendmmsg:
		return sendmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3]);
	case SYS_recvmmsg:
		return recvmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3],
				(struct timespec *)a[4]);
	case SYS_sendfile: return sendfile((int)a[0], (int)a[1], (off_t *)a[2], (size_t)a[3]);
	case SYS_copy_file_range:
		return copy_file_range((int)a[0], (off64_t *)a[1], (int)a[2], (off64_t *)a[3],
				       (size_t)a[4], (unsigned int)a[5]);
	case SYS_splice:
		return splice((int)a[0], (off64_t *)a[1], (int)a[2], (off64_t *)a[3],
			      (size_t)a[4], (unsigned int)a[5]);
	}
	*done = 0;
	return 0;
}

/* preadv, pwritev and their v2 forms take the offset as two halves. */
static long
sys_vec(long nr, const long *a, int *done)
{
	*done = 1;
	switch (nr) {
	case SYS_preadv: return preadv((int)a[0], (const struct iovec *)a[1], (int)a[2], a[3]);
	case SYS_pwritev: return pwritev((int)a[0], (const struct iovec *)a[1], (int)a[2], a[3]);
	case SYS_preadv2:
		return preadv2((int)a[0], (const struct iovec *)a[1], (int)a[2], a[3], (int)a[5]);
	case SYS_pwritev2:
		return pwritev2((int)a[0], (const struct iovec *)a[1], (int)a[2], a[3], (int)a[5]);
	}
	*done = 0;
	return 0;
}

static long
sys_fd(long nr, const long *a, int *done)
{
	*done = 1;
	switch (nr) {
	case SYS_open: return open((const char *)a[0], (int)a[1], (mode_t)a[2]);
	case SYS_openat: return openat((int)a[0], (const char *)a[1], (int)a[2], (mode_t)a[3]);
	case SYS_creat: return creat((const char *)a[0], (mode_t)a[1]);
	case SYS_close: return close((int)a[0]);
	case SYS_close_range: return close_range((unsigned int)a[0], (unsigned int)a[1], (int)a[2]);
	case SYS_dup: return dup((int)a[0]);
	case SYS_dup2: return dup2((int)a[0], (int)a[1]);
	case SYS_dup3: return dup3((int)a[0], (int)a[1], (int)a[2]);
	case SYS_fcntl: return fcntl((int)a[0], (int)a[1], a[2]);
	case SYS_execve:
		return execve((const char *)a[0], (char *const *)a[1], (char *const *)a[2]);
	case SYS_execveat:
		return execveat((int)a[0], (const char *)a[1], (char *const *)a[2],
				(char *const *)a[3], (int)a[4]);
	case SYS_exit_group: _exit((int)a[0]);
	}
	*done = 0;
	return 0;
}

EXPORT long syscall(long nr, ...)
{
	va_list ap;
	long a[6], r;
	int done;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	r = sys_io(nr, a, &done);
	if (!done)
		r = sys_vec(nr, a, &done);
	if (!done)
		r = sys_fd(nr, a, &done);
	if (!done)
		r = sys(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	return r;
}
