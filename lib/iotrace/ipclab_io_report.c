/*
 * libipclab_io.so, the report channel: formatting one report line on the
 * stack, the pipe to `ipclab iotrace` (or the copy of stderr) that the
 * program can neither close nor take over, finding it again when it moved,
 * and the SIGPIPE-safe write that drops a line when the reader is gone.
 * Part of ipclab_io.c's one translation unit (see there).
 */

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
