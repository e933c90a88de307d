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
 *
 * This file owns the real functions (found with dlsym RTLD_NEXT) and the
 * descriptor table and its counters; the report channel, the system-call
 * entry points, the stdio accounting and the process's life are in the
 * ipclab_io_*.c files it includes at its end.
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

/*
 * The rest of the library, by concern.  They are one translation unit with
 * this file, included in this order: the read/write path's counters and the
 * real functions are static and inlined into every wrapper, which separate
 * objects would turn into calls on the path that must cost nanoseconds.
 */
#include "ipclab_io_report.c"
#include "ipclab_io_calls.c"
#include "ipclab_io_stdio.c"
#include "ipclab_io_life.c"
