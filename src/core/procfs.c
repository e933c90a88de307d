/* The /proc readers (include/ipclab/procfs.h).  The parsers trust nothing:
 * every number is checked digit by digit, every line must end where the
 * kernel ends it, and a text that is not what the kernel writes is refused
 * with the line it went wrong in. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ipclab/proc.h"
#include "ipclab/procfs.h"

static __thread char why[96];

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ipc_failed_call = NULL;
	ipc_failed_why = why;
	errno = EINVAL;
	return -1;
}

static int
failed(const char *call)
{
	ipc_failed_call = call;
	ipc_failed_why = NULL;
	return -1;
}

/* Reads the digits at *P in BASE (10 or 16) into *V; advances *P.  -1 when
 * there is none or the number does not fit in 64 bits. */
static int
digits(const char **p, int base, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	for (;; s++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' :
			base == 16 && *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;

		if (d < 0)
			break;
		if (*v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		*v = *v * (uint64_t)base + (uint64_t)d;
	}
	if (s == *p)
		return -1;
	*p = s;
	return 0;
}

/* The character C at *P, which is then passed. */
static int
expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

/* ---- maps and smaps ---- */

/* "lo-hi perms off maj:min ino   path": NULL, or what is wrong. */
static const char *
map_line(const char *s, struct ipc_map *m)
{
	uint64_t maj, mnr;

	memset(m, 0, sizeof(*m));
	if (digits(&s, 16, &m->lo) || expect(&s, '-') || digits(&s, 16, &m->hi) ||
	    expect(&s, ' '))
		return "not an address range";
	if (m->hi <= m->lo)
		return "a range that does not end after it starts";
	if (strspn(s, "rwxsp-") < 4 || s[4] != ' ')
		return "not permissions";
	memcpy(m->perms, s, 4);
	s += 5;
	if (digits(&s, 16, &m->off) || expect(&s, ' ') || digits(&s, 16, &maj) ||
	    expect(&s, ':') || digits(&s, 16, &mnr) || expect(&s, ' ') ||
	    maj > UINT_MAX || mnr > UINT_MAX)
		return "not an offset and a device";
	m->maj = (unsigned)maj;
	m->mnr = (unsigned)mnr;
	if (digits(&s, 10, &m->ino) || (*s != ' ' && *s != '\n' && *s != '\0'))
		return "not an inode";
	s += strspn(s, " ");
	snprintf(m->path, sizeof(m->path), "%.*s", (int)strcspn(s, "\n"), s);
	return NULL;
}

int
ipc_map_parse(const char *line, struct ipc_map *m)
{
	const char *w = map_line(line, m);

	return w ? bad("corrupt: %s", w) : 0;
}

/* An smaps line "Name:   123 kB" into M; other fields are let be. */
static const char *
smaps_field(const char *s, size_t keylen, struct ipc_map *m)
{
	static const struct { const char *key; size_t off; } t[] = {
		{ "Size", offsetof(struct ipc_map, size) },
		{ "Rss", offsetof(struct ipc_map, rss) },
		{ "Pss", offsetof(struct ipc_map, pss) },
		{ "Shared_Clean", offsetof(struct ipc_map, shared_clean) },
		{ "Shared_Dirty", offsetof(struct ipc_map, shared_dirty) },
		{ "Private_Clean", offsetof(struct ipc_map, private_clean) },
		{ "Private_Dirty", offsetof(struct ipc_map, private_dirty) },
		{ "Anonymous", offsetof(struct ipc_map, anonymous) },
		{ "Swap", offsetof(struct ipc_map, swap) },
	};
	uint64_t v;

	if (m == NULL)
		return "a field before any mapping";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *p = s + keylen + 1;

		if (strlen(t[i].key) != keylen || strncmp(s, t[i].key, keylen) != 0)
			continue;
		p += strspn(p, " ");
		if (digits(&p, 10, &v) || strcmp(p, " kB\n") != 0 || v > LONG_MAX)
			return "a size that is not \"N kB\"";
		*(long *)(void *)((char *)m + t[i].off) = (long)v;
		return NULL;
	}
	return NULL;
}

/* The length of the field name that starts S and is followed by ':', 0
 * when S does not start with one. */
static size_t
field_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && s[n] == ':' && !(s[0] >= '0' && s[0] <= '9') ? n : 0;
}

static int
maps_add(struct ipc_maps *out, size_t *alloc, const struct ipc_map *m)
{
	if (out->n == *alloc) {
		struct ipc_map *v = reallocarray(out->v, *alloc * 2 + 16, sizeof(*v));

		if (v == NULL)
			return failed("malloc");
		out->v = v;
		*alloc = *alloc * 2 + 16;
	}
	out->v[out->n++] = *m;
	return 0;
}

/* One line, number LN; *cur the mapping smaps fields go to. */
static int
maps_line(const char *line, size_t ln, ipc_map_keep keep, void *arg, struct ipc_maps *out,
	  size_t *alloc, struct ipc_map **cur, bool *any)
{
	size_t k = field_name(line);
	const char *w;
	struct ipc_map m;

	if (k > 0) {
		if ((w = smaps_field(line, k, *any ? *cur : NULL)) != NULL &&
		    (*cur != NULL || !*any))
			return bad("corrupt: line %zu: %s", ln, w);
		return 0;	/* a field of a mapping not kept */
	}
	if ((w = map_line(line, &m)) != NULL)
		return bad("corrupt: line %zu: %s", ln, w);
	*any = true;
	*cur = NULL;
	if (keep && !keep(&m, arg))
		return 0;
	if (maps_add(out, alloc, &m) == -1)
		return -1;
	*cur = &out->v[out->n - 1];
	return 0;
}

int
ipc_maps_parse(FILE *fp, ipc_map_keep keep, void *arg, struct ipc_maps *out)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0, ln = 0;
	struct ipc_map *cur = NULL;
	bool any = false;
	ssize_t len;
	int r = 0;

	out->v = NULL;
	out->n = 0;
	while (r == 0 && (len = getline(&line, &cap, fp)) != -1) {
		ln++;
		if ((size_t)len != strlen(line) || line[len - 1] != '\n')
			r = (size_t)len != strlen(line) ? bad("corrupt: line %zu: a NUL byte", ln) :
				bad("truncated in line %zu", ln);
		else
			r = maps_line(line, ln, keep, arg, out, &alloc, &cur, &any);
	}
	free(line);
	if (r == 0 && ferror(fp))
		r = failed("read");
	if (r == -1)
		ipc_maps_free(out);
	return r;
}

int
ipc_maps_read(pid_t pid, bool smaps, ipc_map_keep keep, void *arg, struct ipc_maps *out)
{
	char path[64];
	FILE *fp;
	int r, e;

	out->v = NULL;
	out->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, smaps ? "smaps" : "maps");
	if ((fp = fopen(path, "re")) == NULL)
		return failed("open");
	r = ipc_maps_parse(fp, keep, arg, out);
	e = errno;
	fclose(fp);
	errno = e;
	return r;
}

void
ipc_maps_free(struct ipc_maps *ms)
{
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}

const struct ipc_map *
ipc_maps_find(const struct ipc_maps *ms, uint64_t addr)
{
	for (size_t i = 0; i < ms->n; i++)
		if (addr >= ms->v[i].lo && addr < ms->v[i].hi)
			return &ms->v[i];
	return NULL;
}

bool
ipc_map_is(const struct ipc_map *m, dev_t dev, ino_t ino, const char *path)
{
	return (m->ino != 0 && m->ino == ino && makedev(m->maj, m->mnr) == dev) ||
	       (path != NULL && *path != '\0' && strcmp(m->path, path) == 0);
}

/* ---- pagemap ---- */

void
ipc_page_decode(uint64_t raw, struct ipc_page *p)
{
	p->present = raw >> 63 & 1;
	p->swapped = raw >> 62 & 1;
	p->file_or_shared = raw >> 61 & 1;
	p->exclusive = raw >> 56 & 1;
	p->soft_dirty = raw >> 55 & 1;
	p->pfn = p->present ? raw & ((UINT64_C(1) << 55) - 1) : 0;
}

int
ipc_pagemap_get(int fd, uint64_t addr, struct ipc_page *p)
{
	uint64_t raw, page = (uint64_t)sysconf(_SC_PAGESIZE);
	ssize_t r;

	memset(p, 0, sizeof(*p));
	if (addr / page > (uint64_t)INT64_MAX / sizeof(raw))
		return errno = EINVAL, failed("pread");
	do
		r = pread(fd, &raw, sizeof(raw), (off_t)(addr / page * sizeof(raw)));
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return failed("pread");
	if (r != (ssize_t)sizeof(raw))
		return bad("truncated at the page of %#llx", (unsigned long long)addr);
	ipc_page_decode(raw, p);
	return 0;
}

/* ---- stat, comm, io ---- */

/* Reads at most CAP - 1 bytes of PATH into BUF, NUL-terminated: the length,
 * or -1.  *UID, when not NULL, gets the file's owner. */
static ssize_t
slurp(const char *path, char *buf, size_t cap, uid_t *uid)
{
	struct stat st;
	size_t got = 0;
	ssize_t r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd == -1)
		return failed("open");
	if (uid && fstat(fd, &st) == 0)
		*uid = st.st_uid;
	while (got < cap - 1 && (r = read(fd, buf + got, cap - 1 - got)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			break;
		got += (size_t)r;
	}
	e = errno;
	close(fd);
	if (r == -1)
		return errno = e, failed("read");
	buf[got] = '\0';
	return (ssize_t)got;
}

/* Field I (4..24) of stat at *P: " -12" into *V, the sign in *NEG. */
static int
stat_field(const char **p, unsigned i, uint64_t *v, bool *neg)
{
	bool ok;

	if (**p == '\0' || **p == '\n')
		return bad("truncated in field %u", i);
	if (expect(p, ' ') == -1)
		return bad("corrupt: field %u: not one space before it", i);
	*neg = **p == '-';
	*p += *neg;
	ok = digits(p, 10, v) == 0;
	if (**p == '\0')	/* the kernel writes 52 fields: never ends at 24 */
		return bad("truncated in field %u", i);
	if (!ok || (**p != ' ' && **p != '\n'))
		return bad("corrupt: field %u: not a number", i);
	return 0;
}

/* Fields 4 to 24, after the state at P. */
static int
stat_fields(const char *p, struct ipc_stat *s)
{
	uint64_t f[25];
	bool neg[25];

	for (unsigned i = 4; i <= 24; i++)
		if (stat_field(&p, i, &f[i], &neg[i]) == -1)
			return -1;
	for (unsigned i = 4; i <= 24; i++)
		if (neg[i] && i != 7 && i != 8 && (i < 16 || i > 19))
			return bad("corrupt: field %u: a negative count", i);
	if (f[4] > INT_MAX || f[5] > INT_MAX || f[6] > INT_MAX || f[7] > INT_MAX ||
	    f[8] > INT_MAX || f[18] > LONG_MAX || f[19] > LONG_MAX || f[20] > LONG_MAX)
		return bad("corrupt: a field out of range");
	s->ppid = (pid_t)f[4];
	s->pgid = (pid_t)f[5];
	s->sid = (pid_t)f[6];
	s->tty = neg[7] ? -(int)f[7] : (int)f[7];
	s->tpgid = neg[8] ? -(int)f[8] : (int)f[8];
	s->minflt = f[10];
	s->majflt = f[12];
	s->utime = f[14];
	s->stime = f[15];
	s->priority = neg[18] ? -(long)f[18] : (long)f[18];
	s->nice = neg[19] ? -(long)f[19] : (long)f[19];
	s->threads = (long)f[20];
	s->starttime = f[22];
	s->vsize = f[23];
	s->rss = f[24];
	return 0;
}

int
ipc_stat_parse(const char *d, size_t n, struct ipc_stat *s)
{
	char buf[1024];
	const char *p = buf, *l, *r;
	uint64_t pid;

	memset(s, 0, sizeof(*s));
	if (n >= sizeof(buf))
		return bad("corrupt: longer than %zu bytes", sizeof(buf) - 1);
	memcpy(buf, d, n);
	buf[n] = '\0';
	if (strlen(buf) != n)
		return bad("corrupt: a NUL byte");
	if (digits(&p, 10, &pid) == -1 || pid == 0 || pid > INT_MAX)
		return bad(n == 0 ? "truncated in field 1" : "corrupt: field 1: not a pid");
	if (*p == '\0' || p[1] == '\0')
		return bad("truncated in field 2");
	if (p[0] != ' ' || p[1] != '(')
		return bad("corrupt: field 2: no (comm)");
	l = p + 1;
	if ((r = strrchr(l, ')')) == NULL)
		return bad("truncated in field 2");
	snprintf(s->comm, sizeof(s->comm), "%.*s", (int)(r - l - 1), l + 1);
	s->pid = (pid_t)pid;
	if (r[1] == '\0' || r[2] == '\0')
		return bad("truncated in field 3");
	if (r[1] != ' ' || !(r[2] >= 'A' && r[2] <= 'z') || (r[3] != ' ' && r[3] != '\0'))
		return bad("corrupt: field 3: not a state");
	s->state = r[2];
	return stat_fields(r + 3, s);
}

int
ipc_stat_read(pid_t pid, struct ipc_stat *s)
{
	char path[64], buf[1024];
	ssize_t n;
	uid_t uid = (uid_t)-1;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((n = slurp(path, buf, sizeof(buf), &uid)) == -1)
		return -1;
	if (ipc_stat_parse(buf, (size_t)n, s) == -1)
		return -1;
	s->uid = uid;
	return 0;
}

int
ipc_comm_parse(const char *d, size_t n, char *buf, size_t len)
{
	if (len > 0)
		buf[0] = '\0';
	if (n == 0 || d[n - 1] != '\n')
		return bad("truncated in line 1");
	if (memchr(d, '\0', n - 1) || memchr(d, '\n', n - 1))
		return bad("corrupt: not one line");
	if (len > 0)
		snprintf(buf, len, "%.*s", (int)(n - 1), d);
	return 0;
}

int
ipc_comm_read(pid_t pid, char *buf, size_t len)
{
	char path[64], d[128];
	ssize_t n;

	if (len > 0)
		buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((n = slurp(path, d, sizeof(d), NULL)) == -1)
		return -1;
	return ipc_comm_parse(d, (size_t)n, buf, len);
}

static int
io_line(const char *line, size_t ln, struct ipc_io *io, unsigned *seen)
{
	static const char *const key[] = { "rchar", "wchar", "syscr", "syscw", "read_bytes",
		"write_bytes", "cancelled_write_bytes" };
	uint64_t *f[] = { &io->rchar, &io->wchar, &io->syscr, &io->syscw, &io->read_bytes,
		&io->write_bytes, &io->cancelled_write_bytes };
	size_t k = field_name(line);
	const char *p = line + k + 1;

	if (k == 0 || expect(&p, ' ') == -1)
		return bad("corrupt: line %zu: not \"name: N\"", ln);
	for (size_t i = 0; i < sizeof(key) / sizeof(key[0]); i++)
		if (strlen(key[i]) == k && strncmp(line, key[i], k) == 0) {
			if (digits(&p, 10, f[i]) == -1 || strcmp(p, "\n") != 0)
				return bad("corrupt: line %zu: not a count", ln);
			*seen |= 1u << i;
		}
	return 0;
}

int
ipc_io_parse(FILE *fp, struct ipc_io *io)
{
	char *line = NULL;
	size_t cap = 0, ln = 0;
	unsigned seen = 0;
	ssize_t len;
	int r = 0;

	memset(io, 0, sizeof(*io));
	while (r == 0 && (len = getline(&line, &cap, fp)) != -1) {
		ln++;
		if ((size_t)len != strlen(line) || line[len - 1] != '\n')
			r = bad("truncated in line %zu", ln);
		else
			r = io_line(line, ln, io, &seen);
	}
	free(line);
	if (r == 0 && ferror(fp))
		return failed("read");
	if (r == 0 && (seen & 3) != 3)
		return bad("truncated: no %s line", seen & 1 ? "wchar" : "rchar");
	return r;
}

int
ipc_io_read(pid_t pid, struct ipc_io *io)
{
	char path[64];
	FILE *fp;
	int r, e;

	memset(io, 0, sizeof(*io));
	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return failed("open");
	r = ipc_io_parse(fp, io);
	e = errno;
	fclose(fp);
	errno = e;
	return r;
}

/* ---- /proc/locks ---- */

/* The next word at *P after its blanks, into BUF; -1 when none or too long. */
static int
word(const char **p, char *buf, size_t len)
{
	size_t n;

	*p += strspn(*p, " ");
	n = strcspn(*p, " \n");
	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p += n;
	return 0;
}

/* "12: -> FLOCK  ADVISORY  WRITE 1234 08:02:1315 0 EOF": NULL or what is wrong. */
static const char *
lock_line(const char *p, struct ipc_lock *l)
{
	uint64_t v, maj, mnr;
	char pid[16];
	const char *q;

	memset(l, 0, sizeof(*l));
	if (digits(&p, 10, &v) == -1 || expect(&p, ':') == -1 || *p != ' ')
		return "not a lock number";
	p += strspn(p, " ");
	if (strncmp(p, "-> ", 3) == 0) {
		l->blocked = true;
		p += 3;
	}
	if (word(&p, l->cls, sizeof(l->cls)) || word(&p, l->mode, sizeof(l->mode)) ||
	    word(&p, l->type, sizeof(l->type)))
		return "not a class, a mode and a type";
	if (word(&p, pid, sizeof(pid)) == -1)
		return "no pid";
	q = pid + (pid[0] == '-');
	if (digits(&q, 10, &v) || *q != '\0' || (pid[0] == '-' && v != 1) || v > INT_MAX)
		return "not a pid";
	l->pid = pid[0] == '-' ? -1 : (pid_t)v;
	if (expect(&p, ' ') == -1 || digits(&p, 16, &maj) || expect(&p, ':') ||
	    digits(&p, 16, &mnr) || expect(&p, ':') || digits(&p, 10, &l->ino) ||
	    maj > UINT_MAX || mnr > UINT_MAX || (*p != ' ' && *p != '\n'))
		return "not a device and an inode";
	l->maj = (unsigned)maj;
	l->mnr = (unsigned)mnr;
	return NULL;
}

int
ipc_lock_parse(const char *line, struct ipc_lock *l)
{
	const char *w = lock_line(line, l);

	return w ? bad("corrupt: %s", w) : 0;
}

static int
lock_scan(FILE *fp, const char *cls, dev_t dev, ino_t ino, pid_t *pid)
{
	char *line = NULL;
	size_t cap = 0, ln = 0;
	struct ipc_lock l;
	const char *w;
	ssize_t len;
	int r = 0;

	while (r == 0 && (len = getline(&line, &cap, fp)) != -1) {
		ln++;
		if ((size_t)len != strlen(line) || line[len - 1] != '\n')
			r = bad("truncated in line %zu", ln);
		else if ((w = lock_line(line, &l)) != NULL)
			r = bad("corrupt: line %zu: %s", ln, w);
		else if (!l.blocked && strcmp(l.cls, cls) == 0 && l.ino == ino &&
			 (dev == 0 || makedev(l.maj, l.mnr) == dev)) {
			*pid = l.pid;
			r = 1;
		}
	}
	free(line);
	if (r == 0 && ferror(fp))
		r = failed("read");
	return r;
}

int
ipc_lock_holder(FILE *fp, const char *cls, dev_t dev, ino_t ino, pid_t *pid)
{
	FILE *own = NULL;
	int r, e;

	*pid = 0;
	if (fp == NULL && (fp = own = fopen("/proc/locks", "re")) == NULL)
		return failed("open");
	r = lock_scan(fp, cls, dev, ino, pid);
	e = errno;
	if (own)
		fclose(own);
	errno = e;
	return r;
}

/* ---- every process ---- */

int
ipc_pid_scan(int (*fn)(pid_t pid, void *arg), void *arg)
{
	DIR *dir = opendir("/proc");
	struct dirent *d;
	int r = 0;

	if (dir == NULL)
		return failed("opendir");
	while (r == 0 && (d = readdir(dir)) != NULL) {
		const char *p = d->d_name;
		uint64_t pid;

		if (digits(&p, 10, &pid) == 0 && *p == '\0' && pid > 0 && pid <= INT_MAX)
			r = fn((pid_t)pid, arg);
	}
	closedir(dir);
	return r;
}

struct scan {
	struct ipc_procs *out;
	size_t alloc;
};

static int
scan_one(pid_t pid, void *arg)
{
	struct scan *sc = arg;
	struct ipc_procs *out = sc->out;

	if (out->n == sc->alloc) {
		struct ipc_stat *v = reallocarray(out->v, sc->alloc * 2 + 256, sizeof(*v));

		if (v == NULL)
			return failed("malloc");
		out->v = v;
		sc->alloc = sc->alloc * 2 + 256;
	}
	if (ipc_stat_read(pid, &out->v[out->n]) == 0)
		out->n++;	/* one that is gone, or unreadable, is left out */
	return 0;
}

static int
by_pid(const void *a, const void *b)
{
	const struct ipc_stat *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

int
ipc_procs_scan(struct ipc_procs *out)
{
	struct scan sc = { out, 0 };

	out->v = NULL;
	out->n = 0;
	if (ipc_pid_scan(scan_one, &sc) != 0) {
		ipc_procs_free(out);
		return -1;
	}
	if (out->n > 0)
		qsort(out->v, out->n, sizeof(*out->v), by_pid);
	return 0;
}

void
ipc_procs_free(struct ipc_procs *ps)
{
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

const struct ipc_stat *
ipc_procs_find(const struct ipc_procs *ps, pid_t pid)
{
	struct ipc_stat key = { .pid = pid };

	if (ps->n == 0)
		return NULL;
	return bsearch(&key, ps->v, ps->n, sizeof(*ps->v), by_pid);
}

bool
ipc_procs_descends(const struct ipc_procs *ps, pid_t pid, pid_t ancestor)
{
	const struct ipc_stat *s = ipc_procs_find(ps, pid);

	for (int depth = 0; s != NULL && depth < 256 && s->ppid > 0; depth++) {
		if (s->ppid == ancestor)
			return true;
		s = ipc_procs_find(ps, s->ppid);
	}
	return false;
}

size_t
ipc_procs_select(const struct ipc_procs *ps, pid_t ppid, pid_t pgid, pid_t *pids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ps->n; i++) {
		const struct ipc_stat *s = &ps->v[i];

		if (s->state == 'Z' || s->state == 'X' || (ppid && s->ppid != ppid) ||
		    (pgid && s->pgid != pgid))
			continue;
		if (pids && n < max)
			pids[n] = s->pid;
		n++;
	}
	return n;
}
