/*
 * libipclab_io.so, a process's life: the signals that would end it
 * unreported, load, fork and exit, threads, and syscall(3).
 * Part of ipclab_io.c's one translation unit (see there).
 */

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
