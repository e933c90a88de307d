/*
 * libipclab_io.so, the system-call entry points: the open, read/write, dup
 * and close families, exec and _exit, and this thread's kernel counters
 * (/proc/thread-self/io) for calls the buffer snapshot cannot follow.
 * Part of ipclab_io.c's one translation unit (see there).
 */

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
