// COMMAND(race, "N processes race to increment one counter in a shared file")
/*
 * ipclab race [options] N
 * ipclab race [options] N1-N2 | N1,N2,...
 * ipclab race --join [options] N
 *
 * The exercise (an operating-systems course's shared-memory race): N
 * processes map one file holding
 *
 *	struct RaceCourse { int participants; long total; long winnings[10]; };
 *
 * wait until all have arrived, then each repeatedly increments total and then
 * its own winnings until total reaches the target.  Without synchronisation
 * the read-increment-write of total is not atomic, so increments made at the
 * same moment overwrite each other: the sum of the winnings exceeds the total
 * by the number of lost updates.  --sync picks a way of preventing that and
 * the report shows what it cost.
 *
 * Options:
 *  -s, --sync MODE     none (the exercise's race), atomic, mutex (robust,
 *                      process-shared), sem, spin, flock, fcntl, or all
 *  -l, --layout L      packed (the exercise's struct as written, N <= 10),
 *                      padded (every counter on its own 64-byte line,
 *                      N <= 64), or all; "seed", the old name of packed,
 *                      still works
 *  -t, --target T      race until total reaches T (default: what a 0.25 s
 *                      trial says this mode reaches in about 2 s, with an
 *                      8 s limit; --join: 1e9, or 1e6 with the file locks,
 *                      for at most 5 s)
 *  -T, --time S        stop after S seconds at the latest; with several
 *                      runs, each run's time (default 1 s)
 *      --join          the exercise's way: one participant per terminal
 *  -f, --file PATH     the race file
 *  -w, --timeout S     how long --join waits for the others (default 60 s)
 *      --force         replace a regular file of the caller's at PATH that
 *                      is not a race file
 *  -J, -j, --json      print the report as JSON
 *
 * Several N, --sync all or --layout all run one race after the other and
 * print one table (the report model's {"runs": [...], "findings": [...]}).
 *
 * The file: a header (magic "IPCLRACE", version, settings, arrival counters,
 * each participant's pid, start time and CPUs, the mutex, semaphore and
 * spinlock) in the first page, the race data (struct RaceCourse or the padded
 * course) from offset 4096.  It is made under a temporary name, initialised
 * and then published with link(2), so nobody ever sees it half made; an
 * existing file without the header is never touched (--force aside: a
 * regular file of the caller's is then unlinked, never truncated), symlinks
 * are never followed, and a race file whose participants are all dead is
 * taken over.
 *
 * Without --join the command forks the N participants itself and watches
 * them: a participant that dies stops the others at once, and one that has
 * not ended a grace period after the race (stopped, or waiting on a lock a
 * stopped one holds) is killed.  With --join every participant has a watcher
 * thread that checks its peers every 50 ms.  No lock waits for more than
 * LOCK_WAIT_NS before it looks at the stop flag and the clock.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "ipclab/cli.h"
#include "ipclab/map.h"
#include "ipclab/num.h"
#include "ipclab/out.h"
#include "ipclab/proc.h"
#include "ipclab/procfs.h"
#include "ipclab/report.h"
#include "ipclab/sig.h"

#define RACE_MAGIC	"IPCLRACE"
#define RACE_VERSION	2	/* 2: the spin lock on a line of its own */
#define MAXN		64	/* padded layout */
#define PACKED_MAXN	10	/* the exercise's winnings[10] */
#define DATA_OFF	4096	/* the race data starts on the second page */
#define CHUNK		4096	/* increments between two looks at the stop flag */
#define LINE		64
#define TRIAL_NS	250000000ULL	/* the default target's trial run */
#define TARGET_S	2.0		/* what a default run aims to take */
#define LIMIT_NS	8000000000ULL	/* and a limit, should the machine slow */
#define JOIN_LIMIT_NS	5000000000ULL	/* --join without --target or --time */
#define RUN_NS		1000000000ULL	/* each run of a comparison or sweep */

enum sync { S_NONE, S_ATOMIC, S_MUTEX, S_SEM, S_SPIN, S_FLOCK, S_FCNTL, S_COUNT };
static const char *const sync_names[S_COUNT] = {
	"none", "atomic", "mutex", "sem", "spin", "flock", "fcntl"
};
enum layout { L_PACKED, L_PADDED };
static const char *const layout_names[] = { "packed", "padded" };

enum { RACE_WAITING = 1, RACE_RUNNING, RACE_ABANDONED };
enum { STOP_NONE, STOP_INTERRUPT, STOP_DEAD, STOP_ERROR, STOP_STUCK };
enum { SLOT_EMPTY, SLOT_READY, SLOT_DONE, SLOT_LEFT };

/* The exercise's struct, exactly. */
struct RaceCourse {
	int participants;
	long total;
	long winnings[PACKED_MAXN];
};

struct padded_counter {
	_Alignas(LINE) long v;
};

struct padded_course {
	_Alignas(LINE) int participants;
	struct padded_counter total;
	struct padded_counter winnings[MAXN];
};

struct slot {
	int32_t pid;
	uint32_t state;			/* SLOT_* */
	uint64_t start;			/* /proc/PID/stat field 22: tells pid reuse */
	uint64_t cpus;			/* bit i: seen running on CPU i */
};

struct header {
	char magic[8];
	uint32_t version;
	uint32_t size;			/* of the file */
	uint32_t layout, sync, n, stop_sig;
	int64_t target;			/* LONG_MAX: none (--time alone) */
	uint64_t time_ns;		/* 0: none */
	int32_t creator, pad1;
	uint32_t arrived, ready, state, stop;
	int32_t stop_pid, recovered_pid;
	uint64_t start_ns, end_ns;	/* CLOCK_MONOTONIC, the same for all */
	int32_t spin_was_here;		/* keeps the mutex at byte 104 */
	pthread_mutex_t mutex;
	sem_t sem;
	struct slot slots[MAXN];
	uint64_t creator_start;		/* as a slot's start */
	_Alignas(LINE) int spin;	/* a line of its own: nothing else is written there */
};
_Static_assert(sizeof(struct header) <= DATA_OFF, "header fits the first page");
/* tests/race.bats reads the mutex's owner (the robust futex word) there */
_Static_assert(offsetof(struct header, mutex) == 104, "the mutex is at byte 104");

struct opts {
	int n;				/* this run's settings */
	enum sync sync;
	enum layout layout;
	long target;			/* 0: not given */
	uint64_t time_ns;
	uint64_t timeout_ns;
	bool json, join, force;
	bool target_given, time_given;
	const char *file;
	uint32_t syncs, layouts;	/* the modes and layouts to run, a bit each */
	int ns[MAXN];			/* the numbers of participants to run */
	int nn;
};

/* One race as this process sees it. */
struct race {
	struct opts o;
	char path[PATH_MAX];
	int fd;
	size_t len;
	struct header *h;
	int *participants;
	long *total;
	long *win[MAXN];
	bool created;
	double trial_rate;		/* the default target's trial, increments/s */
	char stuck[96];			/* --join: the peer given up on, in words */
	bool said;			/* how long a --target run takes */
	pid_t kids[MAXN];		/* without --join: the participants forked */
	int nkids;
	dev_t dev;
	ino_t ino;
	int slot;
	struct ipc_progress prog;
};

/* One participant's lap: what its hot loop needs, in one place. */
struct lap {
	struct header *h;
	volatile long *total;
	volatile long *win;
	long target;
	uint64_t deadline;		/* 0: none */
	uint64_t cpus;
	struct slot *slot;
	int fd;				/* flock, fcntl */
	const char *path;
	bool locked;			/* a mode with a lock: keep until fresh */
	struct timespec until;		/* CLOCK_REALTIME: when a lock wait looks up */
};

static volatile sig_atomic_t interrupted;
static volatile sig_atomic_t alarmed;

static void
on_signal(int sig)
{
	interrupted = sig;
}

static uint32_t
load32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
store32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void
nap(long ns)
{
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };

	nanosleep(&ts, NULL);
}

/* ---- processes ---- */

/* True while PID runs and is the process that registered with START. */
static bool
alive(pid_t pid, uint64_t start)
{
	struct ipc_stat s;

	if (pid <= 0 || ipc_stat_read(pid, &s) == -1)
		return false;
	return s.state != 'Z' && s.state != 'X' && (start == 0 || s.starttime == start);
}

static bool
slot_alive(struct slot *s)
{
	return alive(__atomic_load_n(&s->pid, __ATOMIC_ACQUIRE), s->start);
}

/* Any participant of the race in this header still running? */
static pid_t
any_alive(struct header *h)
{
	uint32_t n = h->n < MAXN ? h->n : MAXN;

	for (uint32_t i = 0; i < n; i++)
		if (slot_alive(&h->slots[i]))
			return h->slots[i].pid;
	return alive(h->creator, h->creator_start) ? h->creator : 0;
}

/* Stops the race for everyone, once: the first reason wins. */
static void
set_stop(struct header *h, uint32_t why, pid_t pid)
{
	uint32_t none = STOP_NONE;

	if (!__atomic_compare_exchange_n(&h->stop, &none, why, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&h->stop_pid, pid, __ATOMIC_RELEASE);
	if (why == STOP_INTERRUPT)
		__atomic_store_n(&h->stop_sig, (uint32_t)interrupted, __ATOMIC_RELEASE);
	/* a holder may have died: wake whoever waits on it (sem_lock sees the
	 * stop flag before it touches the counters) */
	if (why == STOP_DEAD && h->sync == S_SEM)
		for (uint32_t i = 0; i < h->n; i++)
			sem_post(&h->sem);
}

/* ---- the file ---- */

static size_t
file_size(enum layout layout)
{
	size_t data = layout == L_PACKED ? sizeof(struct RaceCourse) : sizeof(struct padded_course);

	return DATA_OFF + (data + 4095) / 4096 * 4096;
}

static void
course_bind(struct race *r)
{
	char *d = (char *)r->h + DATA_OFF;

	if (r->h->layout == L_PACKED) {
		struct RaceCourse *c = (struct RaceCourse *)d;

		r->participants = &c->participants;
		r->total = &c->total;
		for (int i = 0; i < PACKED_MAXN; i++)
			r->win[i] = &c->winnings[i];
	} else {
		struct padded_course *c = (struct padded_course *)d;

		r->participants = &c->participants;
		r->total = &c->total.v;
		for (int i = 0; i < MAXN; i++)
			r->win[i] = &c->winnings[i].v;
	}
}

static void
race_map(struct race *r)
{
	struct stat st;

	if (fstat(r->fd, &st) == -1)
		err(1, "%s: fstat", r->path);
	r->h = ipc_map(r->fd, r->len, PROT_READ | PROT_WRITE, MAP_SHARED);
	if (r->h == NULL)
		err(1, "%s: %s", r->path, ipc_failed_call);
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	course_bind(r);
}

static void
header_locks(struct race *r)
{
	pthread_mutexattr_t a;
	int e;

	if ((e = pthread_mutexattr_init(&a)) != 0 ||
	    (e = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) != 0 ||
	    (e = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (e = pthread_mutex_init(&r->h->mutex, &a)) != 0)
		errc(1, e, "%s: pthread_mutex_init", r->path);
	pthread_mutexattr_destroy(&a);
	if (sem_init(&r->h->sem, 1, 1) == -1)
		err(1, "%s: sem_init", r->path);
}

static void
header_init(struct race *r)
{
	struct header *h = r->h;
	struct ipc_stat st;

	h->version = RACE_VERSION;
	h->size = (uint32_t)r->len;
	h->layout = r->o.layout;
	course_bind(r);		/* again, now that the layout is set */
	h->sync = r->o.sync;
	h->n = (uint32_t)r->o.n;
	h->target = r->o.target;
	h->time_ns = r->o.time_ns;
	h->creator = getpid();
	h->creator_start = ipc_stat_read(h->creator, &st) == 0 ? st.starttime : 0;
	h->state = RACE_WAITING;
	header_locks(r);
	*r->participants = r->o.n;	/* the exercise's field: how many race */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(h->magic, RACE_MAGIC, sizeof(h->magic));
}

/* Makes the race file under a temporary name, initialises it and publishes it
 * with link(2), which never replaces anything.  Returns false when PATH
 * appeared meanwhile. */
static bool
file_publish(struct race *r)
{
	char tmp[PATH_MAX + 32];
	int e;

	snprintf(tmp, sizeof(tmp), "%s.%d.new", r->path, (int)getpid());
	r->len = file_size(r->o.layout);
	if ((r->fd = ipc_file_create(tmp, (off_t)r->len)) == -1)
		err(1, "%s: %s", tmp, ipc_failed_call);
	race_map(r);
	header_init(r);
	if (link(tmp, r->path) == -1) {
		e = errno;
		unlink(tmp);
		ipc_unmap(r->h, r->len);
		close(r->fd);
		if (e == EEXIST)
			return false;
		errc(1, e, "%s: link", r->path);
	}
	if (unlink(tmp) == -1)
		warn("%s: unlink", tmp);
	r->created = true;
	return true;
}

enum { F_NONE, F_FOREIGN, F_LINK, F_LIVE, F_STALE };

/* Decodes the LEN bytes at BUF, the start of a file of FSIZE bytes, into *H:
 * 0 when they are the header of a race file that this version can join, -1
 * when they are not (anything at all may be in the file). */
static int
header_decode(const void *buf, size_t len, off_t fsize, struct header *h)
{
	if (len < sizeof(*h) || fsize < DATA_OFF)
		return -1;
	memcpy(h, buf, sizeof(*h));
	if (memcmp(h->magic, RACE_MAGIC, sizeof(h->magic)) != 0 ||
	    h->version != RACE_VERSION || h->size != (uint64_t)fsize ||
	    h->layout > L_PADDED || h->size < file_size(h->layout) ||
	    h->sync >= S_COUNT || h->n < 1 || h->n > MAXN ||
	    (h->layout == L_PACKED && h->n > PACKED_MAXN) ||
	    h->state < RACE_WAITING || h->state > RACE_ABANDONED ||
	    h->arrived > h->n || h->ready > h->n || h->target < 1)
		return -1;
	return 0;
}

/* Reads the header of an existing PATH without changing a byte of it. */
static int
file_examine(const char *path, struct header *h, int *fdp)
{
	char buf[sizeof(struct header)];
	struct stat st;
	ssize_t n;
	int fd;

	*fdp = -1;
	if (lstat(path, &st) == -1) {
		if (errno != ENOENT)
			err(1, "%s: lstat", path);
		return F_NONE;
	}
	if (S_ISLNK(st.st_mode))
		return F_LINK;
	if (!S_ISREG(st.st_mode))
		return F_FOREIGN;	/* never opened: a FIFO or a device could block */
	if ((fd = ipc_file_open(path, true, true, &st)) == -1) {
		if (errno == ENOENT)
			return F_NONE;
		if (errno == ELOOP || errno == EINVAL || errno == EISDIR)
			return errno == ELOOP ? F_LINK : F_FOREIGN;
		err(1, "%s: %s", path, ipc_failed_call);
	}
	if (st.st_size < DATA_OFF || (n = pread(fd, buf, sizeof(buf), 0)) == -1 ||
	    header_decode(buf, (size_t)n, st.st_size, h) == -1) {
		close(fd);
		return F_FOREIGN;
	}
	*fdp = fd;
	return any_alive(h) ? F_LIVE : F_STALE;
}

/* Takes FD's flock, waiting at most a second: whoever holds it longer is
 * named, and the file is left alone. */
static void
flock_bounded(struct race *r, int fd)
{
	uint64_t t0 = ipc_now_ns();
	struct stat st;

	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			err(1, "%s: flock", r->path);
		if (interrupted || ipc_now_ns() - t0 > 1000000000ULL) {
			pid_t p = 0;

			if (fstat(fd, &st) == -1 ||
			    ipc_lock_holder(NULL, "FLOCK", st.st_dev, st.st_ino, &p) != 1)
				p = 0;

			if (p > 0)
				errx(1, "%s: a stale race file, but pid %d holds a flock on it; "
				     "leaving it alone (gave up after 1 s)", r->path, (int)p);
			errx(1, "%s: a stale race file, but another process holds a flock "
			     "on it; leaving it alone (gave up after 1 s)", r->path);
		}
		nap(10000000);
	}
}

/* Removes a stale race file, holding its lock so that two newcomers do not
 * both take it over, and only if PATH still is that file. */
static void
file_takeover(struct race *r, int fd)
{
	struct stat a, b;
	struct header h;

	flock_bounded(r, fd);
	if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && any_alive(&h) == 0 &&
	    fstat(fd, &a) == 0 && lstat(r->path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		if (unlink(r->path) == -1)
			err(1, "%s: unlink", r->path);
		warnx("%s: took over a stale race file (its creator, pid %d, and all its "
		      "participants are gone)", r->path, (int)h.creator);
	}
	close(fd);
}

static void __attribute__((noreturn))
refuse_foreign(struct race *r, int kind)
{
	if (kind == F_LINK)
		errx(1, "%s: is a symbolic link; not following it (choose another --file)",
		     r->path);
	errx(1, "%s: exists and is not an ipclab race file; leaving it untouched "
	     "(choose another --file, or --force to replace it if it is a regular file "
	     "of yours)", r->path);
}

/* --force: replaces only a regular file of the caller's (ipc_may_replace). */
static void
remove_foreign(struct race *r)
{
	struct stat st;

	if (lstat(r->path, &st) == -1) {
		if (errno == ENOENT)
			return;
		err(1, "%s: lstat", r->path);
	}
	if (ipc_may_replace(&st) == -1)
		errx(1, "%s: not replacing it even with --force: %s", r->path, ipc_failed_why);
	if (unlink(r->path) == -1 && errno != ENOENT)
		err(1, "%s: unlink", r->path);
	warnx("%s: replaced a file that was not a race file (--force)", r->path);
}

static char *
target_str(long target, uint64_t time_ns, char *buf, size_t len)
{
	if (target == LONG_MAX)
		snprintf(buf, len, "no --target (--time %.3g)", (double)time_ns / 1e9);
	else
		snprintf(buf, len, "--target %ld", target);
	return buf;
}

/* Checks that the race waiting at PATH is the one asked for, naming the
 * first setting that differs. */
static void
check_same(struct race *r, const struct header *h)
{
	char a[64], b[64];
	pid_t c = h->creator;

	if (h->n != (uint32_t)r->o.n)
		errx(1, "%s: the race waiting there is for %u participants, not %d; run "
		     "the same command as its creator (pid %d)", r->path, h->n, r->o.n, c);
	if (h->sync != r->o.sync || h->layout != r->o.layout)
		errx(1, "%s: the race waiting there is --sync %s --layout %s, not --sync %s "
		     "--layout %s; run the same command as its creator (pid %d)", r->path,
		     sync_names[h->sync], layout_names[h->layout], sync_names[r->o.sync],
		     layout_names[r->o.layout], c);
	if (h->target != r->o.target)
		errx(1, "%s: the race waiting there has %s, not %s; run the same command "
		     "as its creator (pid %d)", r->path,
		     target_str(h->target, h->time_ns, a, sizeof(a)),
		     target_str(r->o.target, r->o.time_ns, b, sizeof(b)), c);
	if (h->time_ns != r->o.time_ns)
		errx(1, "%s: the race waiting there has --time %.3g, not %.3g%s; run the "
		     "same command as its creator (pid %d)", r->path, (double)h->time_ns / 1e9,
		     (double)r->o.time_ns / 1e9, h->time_ns == JOIN_LIMIT_NS ||
		     r->o.time_ns == JOIN_LIMIT_NS ? " (without --target and --time, "
		     "--join races for at most 5 s)" : "", c);
	if (load32(&h->state) != RACE_WAITING)
		errx(1, "%s: a race is already running there (creator pid %d); wait for it "
		     "to end or choose another --file", r->path, (int)h->creator);
}

/* Before the start nobody holds the race's lock: one that is held (a
 * participant stopped or a hostile writer) would make us wait forever. */
static void
check_locks(struct race *r)
{
	struct header *h = r->h;
	int e, v;

	if (h->sync == S_MUTEX) {
		e = pthread_mutex_trylock(&h->mutex);
		if (e == EOWNERDEAD)
			e = pthread_mutex_consistent(&h->mutex);
		if (e == 0 && (e = pthread_mutex_unlock(&h->mutex)) == 0)
			return;
		if (e == EBUSY)
			errx(1, "%s: the race's mutex is held by pid %u before the start; not "
			     "joining a race that would wait on it", r->path,
			     __atomic_load_n((uint32_t *)&h->mutex, __ATOMIC_RELAXED) & 0x3fffffff);
		errc(1, e, "%s: pthread_mutex_trylock", r->path);
	}
	if (h->sync == S_SEM) {
		if (sem_getvalue(&h->sem, &v) == -1)
			err(1, "%s: sem_getvalue", r->path);
		if (v < 1)
			errx(1, "%s: the race's semaphore is %d before the start (a race "
			     "waiting to start has 1); not joining a race that would wait on "
			     "it", r->path, v);
	}
	if (h->sync == S_SPIN && __atomic_load_n(&h->spin, __ATOMIC_ACQUIRE))
		errx(1, "%s: the race's spinlock is taken before the start; not joining a "
		     "race that would wait on it", r->path);
}

static bool
file_join(struct race *r, int fd, const struct header *h)
{
	check_same(r, h);
	r->fd = fd;
	r->len = h->size;
	race_map(r);
	check_locks(r);
	return true;
}

/* Creates the race file or, with --join, joins the race waiting in it. */
static void
file_setup(struct race *r)
{
	struct header h;
	int fd, kind;

	for (int tries = 0; tries < 10; tries++) {
		kind = file_examine(r->path, &h, &fd);
		if (kind == F_NONE) {
			if (file_publish(r))
				return;
			continue;
		}
		if (kind == F_FOREIGN || kind == F_LINK) {
			if (!r->o.force)
				refuse_foreign(r, kind);
			remove_foreign(r);
		} else if (kind == F_STALE) {
			file_takeover(r, fd);
		} else if (r->o.join) {
			if (file_join(r, fd, &h))
				return;
		} else {
			errx(1, "%s: in use by a running race (pid %d); choose another --file",
			     r->path, (int)any_alive(&h));
		}
	}
	errx(1, "%s: kept changing under us; giving up", r->path);
}

/* ---- arriving and leaving ---- */

static int
take_slot(struct header *h)
{
	uint32_t a = load32(&h->arrived);

	do {
		if (a >= h->n)
			return -1;
	} while (!__atomic_compare_exchange_n(&h->arrived, &a, a + 1, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return (int)a;
}

static void
start_race(struct header *h)
{
	uint32_t w = RACE_WAITING;

	h->start_ns = ipc_now_ns();
	__atomic_compare_exchange_n(&h->state, &w, RACE_RUNNING, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Registers this process in a slot; the last one ready starts the race. */
static int
arrive(struct race *r)
{
	struct header *h = r->h;
	struct slot *s;
	struct ipc_stat st;
	int i = take_slot(h);

	if (i == -1)
		return -1;
	s = &h->slots[i];
	s->start = ipc_stat_read(getpid(), &st) == 0 ? st.starttime : 0;
	store32(&s->state, SLOT_READY);
	__atomic_store_n(&s->pid, (int32_t)getpid(), __ATOMIC_RELEASE);
	r->slot = i;
	if (__atomic_add_fetch(&h->ready, 1, __ATOMIC_ACQ_REL) == h->n)
		start_race(h);
	return i;
}

static bool
abandon(struct header *h)
{
	uint32_t w = RACE_WAITING;

	return __atomic_compare_exchange_n(&h->state, &w, RACE_ABANDONED, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
	       w == RACE_ABANDONED;
}

/* A peer that registered and died before the start, or 0. */
static pid_t
dead_peer(struct header *h)
{
	for (uint32_t i = 0; i < h->n; i++) {
		struct slot *s = &h->slots[i];
		pid_t pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);

		if (pid > 0 && load32(&s->state) != SLOT_LEFT && !alive(pid, s->start))
			return pid;
	}
	return 0;
}

static void
say_waiting(struct race *r, uint64_t t0)
{
	ipc_progress_show(&r->prog, "race: %u of %u participants at %s, waiting %.0f s",
			  load32(&r->h->ready), r->h->n, r->path,
			  (double)(ipc_now_ns() - t0) / 1e9);
}

/* Waits for the start.  Returns 0 once the race runs, -1 when it was called
 * off (a message has been printed). */
static int
await_start(struct race *r)
{
	uint64_t t0 = ipc_now_ns();
	pid_t dead;

	for (unsigned i = 0;; i++) {
		uint32_t st = load32(&r->h->state);

		if (st == RACE_RUNNING)
			return 0;
		if (st == RACE_ABANDONED) {
			warnx("%s: the race was called off before the start", r->path);
			return -1;
		}
		if (interrupted && abandon(r->h))
			return -1;
		if (ipc_now_ns() - t0 > r->o.timeout_ns && abandon(r->h)) {
			warnx("%s: gave up after %.0f s: only %u of %u participants arrived "
			      "(--timeout)", r->path, (double)r->o.timeout_ns / 1e9,
			      load32(&r->h->ready), r->h->n);
			return -1;
		}
		if (i % 100 == 99 && (dead = dead_peer(r->h)) != 0 && abandon(r->h)) {
			warnx("%s: participant %d died before the start", r->path, (int)dead);
			return -1;
		}
		if (r->o.join)
			say_waiting(r, t0);
		nap(ipc_now_ns() - t0 < 1000000000 ? 100000 : 5000000);
	}
}

/* The first participant, the one that made the file, removes it as it
 * leaves, as the exercise has it; should it have died, the last to leave does.
 * Either way only if PATH still is this file. */
static void
leave(struct race *r)
{
	struct header *h = r->h;
	struct stat st;

	pid_t stuck = load32(&h->stop) == STOP_STUCK ? h->stop_pid : 0;

	store32(&h->slots[r->slot].state, SLOT_LEFT);
	if (h->creator != getpid() && h->creator != stuck &&
	    alive(h->creator, h->creator_start))
		return;		/* the first is still here: it removes the file */
	for (uint32_t i = 0; i < h->n && h->creator != getpid(); i++) {
		struct slot *s = &h->slots[i];

		if ((int)i != r->slot && s->pid != stuck && load32(&s->state) != SLOT_LEFT &&
		    slot_alive(s))
			return;
	}
	if (lstat(r->path, &st) == 0 && st.st_dev == r->dev && st.st_ino == r->ino &&
	    unlink(r->path) == -1 && errno != ENOENT)
		warn("%s: unlink", r->path);
}

/* ---- the race itself ---- */

/* How long a lock waits before it looks at the stop flag and the clock. */
#define LOCK_WAIT_NS	200000000L

static void
lock_until(struct lap *l)
{
	if (clock_gettime(CLOCK_REALTIME, &l->until) == -1)
		err(1, "clock_gettime");
	l->until.tv_nsec += LOCK_WAIT_NS;
	if (l->until.tv_nsec >= 1000000000L) {
		l->until.tv_sec++;
		l->until.tv_nsec -= 1000000000L;
	}
}

static bool
lap_over(struct lap *l)
{
	int cpu = sched_getcpu();

	if (cpu >= 0 && cpu < 64 && !(l->cpus & (1ULL << cpu))) {
		l->cpus |= 1ULL << cpu;
		__atomic_store_n(&l->slot->cpus, l->cpus, __ATOMIC_RELAXED);
	}
	if (__atomic_load_n(&l->h->stop, __ATOMIC_RELAXED))
		return true;
	if (l->locked)
		lock_until(l);
	return l->deadline && ipc_now_ns() >= l->deadline;
}

/* A lock wait timed out or was interrupted by the timer: should it go on?
 * Not once the race is stopped or its time is up. */
static bool
wait_on(struct lap *l)
{
	if (__atomic_load_n(&l->h->stop, __ATOMIC_RELAXED) ||
	    (l->deadline && ipc_now_ns() >= l->deadline))
		return false;
	lock_until(l);
	return true;
}

/* The exercise's race: nothing makes the read-increment-write indivisible.
 * The function starts on 64 bytes so that its small loop sits in one fetch
 * block (measured: crossing one cost 12% against bench/race_none.c). */
static void __attribute__((aligned(64)))
race_none(struct lap *l)
{
	volatile long *total = l->total, *win = l->win;
	const long target = l->target;

	for (;;) {
#pragma GCC unroll 8
		for (int k = 0; k < CHUNK; k++) {
			long t = *total;

			if (t >= target)
				return;
			*total = t + 1;
			*win += 1;
		}
		if (lap_over(l))
			return;
	}
}

/* One locked fetch-and-add; an increment past the target is taken back, so
 * total ends exactly at the target. */
static void __attribute__((aligned(64)))
race_atomic(struct lap *l)
{
	long *total = (long *)l->total;
	volatile long *win = l->win;
	const long target = l->target;

	for (;;) {
		for (int k = 0; k < CHUNK; k++) {
			if (__atomic_fetch_add(total, 1, __ATOMIC_RELAXED) >= target) {
				__atomic_fetch_sub(total, 1, __ATOMIC_RELAXED);
				return;
			}
			*win += 1;
		}
		if (lap_over(l))
			return;
	}
}

static bool
mutex_lock(struct lap *l)
{
	int e;

	while ((e = pthread_mutex_timedlock(&l->h->mutex, &l->until)) == ETIMEDOUT)
		if (!wait_on(l))
			return false;
	if (e == EOWNERDEAD) {
		/* the holder died inside; the kernel handed the lock to us */
		__atomic_store_n(&l->h->recovered_pid, (int32_t)getpid(), __ATOMIC_RELEASE);
		e = pthread_mutex_consistent(&l->h->mutex);
	}
	if (e != 0)
		errc(1, e, "%s: pthread_mutex_timedlock", l->path);
	return true;
}

static void
mutex_unlock(struct lap *l)
{
	int e = pthread_mutex_unlock(&l->h->mutex);

	if (e != 0)
		errc(1, e, "%s: pthread_mutex_unlock", l->path);
}

static bool
sem_lock(struct lap *l)
{
	while (sem_timedwait(&l->h->sem, &l->until) == -1) {
		if (errno != EINTR && errno != ETIMEDOUT)
			err(1, "%s: sem_timedwait", l->path);
		if (!wait_on(l))
			return false;
	}
	if (__atomic_load_n(&l->h->stop, __ATOMIC_ACQUIRE)) {
		if (sem_post(&l->h->sem) == -1)	/* let the next one see it too */
			err(1, "%s: sem_post", l->path);
		return false;
	}
	return true;
}

static void
sem_unlock(struct lap *l)
{
	if (sem_post(&l->h->sem) == -1)
		err(1, "%s: sem_post", l->path);
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Test and test-and-set; a holder that died never lets go, so a spinner
 * also watches the stop flag. */
static bool
spin_lock(struct lap *l)
{
	int *lock = &l->h->spin;

	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
		for (unsigned i = 1; __atomic_load_n(lock, __ATOMIC_RELAXED); i++) {
			cpu_relax();
			if (i % 16384 == 0 && !wait_on(l))
				return false;
		}
	}
	return true;
}

static void
spin_unlock(struct lap *l)
{
	__atomic_store_n(&l->h->spin, 0, __ATOMIC_RELEASE);
}

static bool
flock_lock(struct lap *l)
{
	while (flock(l->fd, LOCK_EX) == -1)
		if (errno != EINTR)
			err(1, "%s: flock", l->path);
		else if (!wait_on(l))
			return false;
	return true;
}

static void
flock_unlock(struct lap *l)
{
	if (flock(l->fd, LOCK_UN) == -1)
		err(1, "%s: flock", l->path);
}

static bool
fcntl_lock(struct lap *l)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	while (fcntl(l->fd, F_SETLKW, &fl) == -1)
		if (errno != EINTR)
			err(1, "%s: fcntl F_SETLKW", l->path);
		else if (!wait_on(l))
			return false;
	return true;
}

static void
fcntl_unlock(struct lap *l)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	if (fcntl(l->fd, F_SETLK, &fl) == -1)
		err(1, "%s: fcntl F_UNLCK", l->path);
}

/* The locked race: read, increment and write total inside the lock.  Inlined
 * with constant lock functions, so each mode gets its own tight loop.  The
 * lock functions get a copy of the lap that never leaves this function, so
 * that its fields stay in registers across the library calls. */
static inline __attribute__((always_inline)) void
race_locked(struct lap *l, bool (*lock)(struct lap *), void (*unlock)(struct lap *))
{
	struct lap c = *l;
	volatile long *total = l->total, *win = l->win;
	const long target = l->target;

	for (;;) {
		for (int k = 0; k < CHUNK; k++) {
			if (!lock(&c))
				goto out;
			long t = *total;

			if (t >= target) {
				unlock(&c);
				goto out;
			}
			*total = t + 1;
			*win += 1;
			unlock(&c);
		}
		if (lap_over(&c))
			break;
	}
out:
	l->cpus = c.cpus;
}

#define HOT __attribute__((aligned(64)))	/* each hot loop starts a fetch block */
static void HOT race_mutex(struct lap *l) { race_locked(l, mutex_lock, mutex_unlock); }
static void HOT race_sem(struct lap *l) { race_locked(l, sem_lock, sem_unlock); }
static void HOT race_spin(struct lap *l) { race_locked(l, spin_lock, spin_unlock); }
static void HOT race_flock(struct lap *l) { race_locked(l, flock_lock, flock_unlock); }
static void HOT race_fcntl(struct lap *l) { race_locked(l, fcntl_lock, fcntl_unlock); }

static void (*const racers[S_COUNT])(struct lap *) = {
	race_none, race_atomic, race_mutex, race_sem, race_spin, race_flock, race_fcntl
};

/* flock(2) locks belong to an open file description, which a fork shares:
 * each participant opens the file anew. */
static int
lock_fd(struct race *r)
{
	char p[64];
	int fd;

	if (r->h->sync != S_FLOCK)
		return r->fd;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", r->fd);
	if ((fd = open(p, O_RDWR | O_CLOEXEC)) == -1)
		err(1, "%s: open", r->path);
	return fd;
}

static void
on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

/* flock(2) and F_SETLKW have no timeout: a timer interrupts them (EINTR) every
 * LOCK_WAIT_NS so that a participant waiting on a held lock looks up. */
static int
lock_timer(void)
{
	struct itimerval it = { { 0, LOCK_WAIT_NS / 1000 }, { 0, LOCK_WAIT_NS / 1000 } };

	if (ipc_sig_handle(SIGALRM, on_alarm, false) == -1)
		return -1;
	return setitimer(ITIMER_REAL, &it, NULL);
}

static void
run_lap(struct race *r)
{
	struct header *h = r->h;
	struct lap l = {
		.h = h, .total = r->total, .win = r->win[r->slot], .target = h->target,
		.slot = &h->slots[r->slot], .fd = lock_fd(r), .path = r->path,
	};
	uint64_t now, end;

	if (h->time_ns)
		l.deadline = h->start_ns + h->time_ns;
	l.locked = h->sync != S_NONE && h->sync != S_ATOMIC;
	lock_until(&l);
	if ((h->sync == S_FLOCK || h->sync == S_FCNTL) && lock_timer() == -1)
		err(1, "setitimer");
	lap_over(&l);
	racers[h->sync](&l);
	lap_over(&l);
	now = ipc_now_ns();
	end = __atomic_load_n(&h->end_ns, __ATOMIC_RELAXED);
	while (end < now && !__atomic_compare_exchange_n(&h->end_ns, &end, now, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		;
	store32(&l.slot->state, SLOT_DONE);
	if (h->sync == S_FLOCK || h->sync == S_FCNTL) {
		struct itimerval off = { { 0, 0 }, { 0, 0 } };

		if (setitimer(ITIMER_REAL, &off, NULL) == -1)
			err(1, "setitimer");
	}
	if (l.fd != r->fd)
		close(l.fd);
}

/* ---- the report ---- */

struct result {
	long total, sum, lost;
	long win[MAXN];
	pid_t pid[MAXN];
	uint64_t cpus[MAXN], allcpus;
	double elapsed, rate, fairness;
	int n;
	uint32_t stop, stop_sig;
	pid_t stop_pid, recovered;
	char why_dead[128];		/* fork mode: the wait status in words */
	enum sync sync;
	enum layout layout;
	long target;
	uint64_t time_ns;
};

static void
gather(struct race *r, struct result *res)
{
	struct header *h = r->h;
	uint64_t end = __atomic_load_n(&h->end_ns, __ATOMIC_ACQUIRE);
	long min = LONG_MAX;

	res->n = (int)h->n;
	res->total = __atomic_load_n(r->total, __ATOMIC_ACQUIRE);
	res->sum = 0;
	res->allcpus = 0;
	for (int i = 0; i < res->n; i++) {
		res->win[i] = __atomic_load_n(r->win[i], __ATOMIC_ACQUIRE);
		res->pid[i] = h->slots[i].pid;
		res->cpus[i] = h->slots[i].cpus;
		res->allcpus |= res->cpus[i];
		res->sum += res->win[i];
		if (res->win[i] < min)
			min = res->win[i];
	}
	res->lost = res->sum - res->total;
	if (h->start_ns == 0)
		end = 0;
	else if (end < h->start_ns)
		end = ipc_now_ns();
	res->elapsed = (double)(end - h->start_ns) / 1e9;
	res->rate = res->elapsed > 0 ? (double)res->sum / res->elapsed : 0;
	res->fairness = res->sum > 0 ? (double)min / (double)res->sum : 0;
	res->stop = h->stop;
	res->stop_pid = h->stop_pid;
	res->stop_sig = h->stop_sig;
	res->recovered = h->recovered_pid;
	res->sync = h->sync;
	res->layout = h->layout;
	res->target = h->target;
	res->time_ns = h->time_ns;
}

static char *
cpu_list(uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int c = 0; c < 64; c++)
		if (mask & (1ULL << c))
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
						 "%s%d", used ? "," : "", c);
	if (used == 0)
		snprintf(buf, len, "-");
	return buf;
}

static double
share(const struct result *res, int i)
{
	return res->sum > 0 ? (double)res->win[i] / (double)res->sum : 0;
}

enum { PC_PID, PC_WIN, PC_SHARE, PC_BAR, PC_CPUS, PC_COUNT };

static const struct ipc_rcol participant_cols[PC_COUNT] = {
	{ "PID", "pid", IPC_INT, NULL, 0, 0 },
	{ "WINNINGS", "winnings", IPC_INT, NULL, 0, 0 },
	{ "SHARE", "share", IPC_SHARE, NULL, 0, 0 },
	{ "", NULL, IPC_STR, NULL, 0, 0 },	/* the bar: for a person only */
	{ "CPUS", "cpus", IPC_STR, NULL, 0, 0 },
};

static int
participant_rows(struct ipc_section *s, const struct result *res)
{
	char bar[256], cpus[256];

	for (int i = 0; i < res->n; i++) {
		struct libscols_line *ln = ipc_row(s);

		if (ln == NULL || ipc_cell_int(s, ln, PC_PID, res->pid[i]) ||
		    ipc_cell_int(s, ln, PC_WIN, res->win[i]) ||
		    ipc_cell_num(s, ln, PC_SHARE, share(res, i)) ||
		    ipc_cell_str(s, ln, PC_BAR, "%s", ipc_bar(bar, sizeof(bar), share(res, i), 30)) ||
		    ipc_cell_str(s, ln, PC_CPUS, "%s", cpu_list(res->cpus[i], cpus, sizeof(cpus))))
			return -1;
	}
	return 0;
}

/* What stopped the race early, in words; NULL when it ran to the end. */
static char *
stop_reason(const struct result *res, char *buf, size_t len)
{
	switch (res->stop) {
	case STOP_INTERRUPT:
		snprintf(buf, len, "interrupted by %s (sent to pid %d)",
			 ipc_signame((int)res->stop_sig), (int)res->stop_pid);
		return buf;
	case STOP_DEAD:
		snprintf(buf, len, "participant %d died%s%s%s", (int)res->stop_pid,
			 res->why_dead[0] ? " (" : "", res->why_dead,
			 res->why_dead[0] ? ")" : "");
		return buf;
	case STOP_ERROR:
		snprintf(buf, len, "pid %d failed", (int)res->stop_pid);
		return buf;
	case STOP_STUCK:
		snprintf(buf, len, "participant %d did not end with the race (%s)",
			 (int)res->stop_pid, res->why_dead[0] ? res->why_dead : "it did not stop");
		return buf;
	default:
		return NULL;
	}
}

/* Where the counters sit: the exercise's struct shares cache lines, the padded
 * course gives each its own. */
static char *
layout_note(const struct race *r, int n, char *buf, size_t len)
{
	uintptr_t lo = (uintptr_t)r->total, hi = lo;

	for (int i = 0; i < n; i++) {
		if ((uintptr_t)r->win[i] < lo)
			lo = (uintptr_t)r->win[i];
		if ((uintptr_t)r->win[i] > hi)
			hi = (uintptr_t)r->win[i];
	}
	if (r->h->layout == L_PACKED)
		snprintf(buf, len, "packed (struct RaceCourse, %zu bytes: total and %d winnings "
			 "share %zu cache line%s)", sizeof(struct RaceCourse), n,
			 (size_t)(hi / LINE - lo / LINE + 1), hi / LINE != lo / LINE ? "s" : "");
	else
		snprintf(buf, len, "padded (total and each winnings on its own %d-byte line)",
			 LINE);
	return buf;
}

/* "40 s", "12 min", "3.1 h": how long SECS is, for a person. */
static char *
how_long(double secs, char *buf, size_t len)
{
	if (secs < 10)
		snprintf(buf, len, "%.1f s", secs);
	else if (secs < 100)
		snprintf(buf, len, "%.0f s", secs);
	else if (secs < 6000)
		snprintf(buf, len, "%.0f min", secs / 60);
	else
		snprintf(buf, len, "%.1f h", secs / 3600);
	return buf;
}

static char *
target_note(const struct race *r, const struct result *res, char *buf, size_t len)
{
	long t = r->h->target;
	double rate = res->elapsed > 0 ? (double)res->total / res->elapsed : 0;
	char more[96] = "", d[32];

	if (t != 1000000000L && rate > 0)
		snprintf(more, sizeof(more), "; the exercise's 1e9 would take %s",
			 how_long(1e9 / rate, d, sizeof(d)));
	if (t == LONG_MAX)
		snprintf(buf, len, "none (--time %.3g s)", (double)r->h->time_ns / 1e9);
	else if (r->trial_rate > 0)
		snprintf(buf, len, "%ld (picked for a run of about %s: a %.2g s trial ran "
			 "%.3g increments/s of total%s%s; --target sets it)", t,
			 how_long((double)t / r->trial_rate, d, sizeof(d)),
			 (double)TRIAL_NS / 1e9, r->trial_rate, res->total < t ?
			 "; stopped by its 8 s limit" : "", more);
	else if (r->o.join && !r->o.target_given && !r->o.time_given)
		snprintf(buf, len, "%ld (the exercise's, with a %.0f s limit%s%s)", t,
			 (double)r->h->time_ns / 1e9, res->total < t ? " that stopped it" : "",
			 more);
	else
		snprintf(buf, len, "%ld%s", t, r->h->time_ns ? " (or --time)" : "");
	return buf;
}

/* The race's numbers: fields under the table for a person, the document's
 * members in JSON (some for JSON only: no label). */
static int
summary_fields(struct ipc_section *s, const struct race *r, const struct result *res)
{
	double lost = res->sum ? 100.0 * (double)res->lost / (double)res->sum : 0.0;
	char a[256], b[256], c[256];
	const char *why = stop_reason(res, c, sizeof(c));

	return ipc_put_int(s, "total", "TOTAL", res->total) ||
	       ipc_put_int(s, "sum", "SUM", res->sum) ||
	       ipc_put_shown(s, "%ld (of the winnings)", res->sum) ||
	       ipc_put_int(s, "lost", "LOST", res->lost) ||
	       ipc_put_shown(s, "%ld (%.2f%% of the increments)", res->lost, lost) ||
	       ipc_put_real(s, "lost_pct", NULL, lost, NULL) ||
	       (r->h->target == LONG_MAX ? ipc_put_str(s, "target", "TARGET", NULL) :
		ipc_put_int(s, "target", "TARGET", r->h->target)) ||
	       ipc_put_shown(s, "%s", target_note(r, res, a, sizeof(a))) ||
	       (r->h->time_ns ? ipc_put_real(s, "time_s", NULL, (double)r->h->time_ns / 1e9, NULL) :
		ipc_put_str(s, "time_s", NULL, NULL)) ||
	       ipc_put_real(s, "elapsed_s", "ELAPSED", res->elapsed, "%.3f s") ||
	       ipc_put_real(s, "rate", "RATE", res->rate, "%.3g increments/s") ||
	       ipc_put_share(s, "fairness", "FAIRNESS", res->fairness) ||
	       ipc_put_shown(s, "smallest share %.1f%% (even: %.1f%%)", 100 * res->fairness,
			     100.0 / res->n) ||
	       ipc_put_str(s, "sync", "SYNC", sync_names[r->h->sync]) ||
	       ipc_put_str(s, "layout", "LAYOUT", layout_names[r->h->layout]) ||
	       ipc_put_shown(s, "%s", layout_note(r, res->n, b, sizeof(b))) ||
	       ipc_put_str(s, "cpus", "CPUS", cpu_list(res->allcpus, a, sizeof(a))) ||
	       ipc_put_bool(s, "completed", NULL, res->stop == STOP_NONE) ||
	       ipc_put_str(s, "stopped", why ? "STOPPED" : NULL, why) ||
	       (why && ipc_put_shown(s, "%s: a partial result", why)) ||
	       (res->recovered ?
		ipc_put_int(s, "recovered_by", "RECOVERED", res->recovered) ||
		ipc_put_shown(s, "pid %d got EOWNERDEAD: the mutex held by a dead participant "
			      "was made consistent", (int)res->recovered) :
		ipc_put_str(s, "recovered_by", NULL, NULL));
}

static int
ncpus(uint64_t mask)
{
	return __builtin_popcountll(mask);
}

static int
finding_none(struct ipc_section *s, const struct result *res)
{
	char cpus[256];

	if (res->lost > 0)
		return ipc_section_finding(s, "%ld increments were lost: the read-increment-"
			"write of total is not atomic, so when two participants read the same "
			"value they both store value+1 and one increment overwrites the other; "
			"every winning still counted, hence sum > total.", res->lost);
	if (res->n == 1)
		return ipc_section_finding(s, "With one participant nobody else writes total, "
			"so no update can be lost.");
	if (ncpus(res->allcpus) == 1)
		return ipc_section_finding(s, "No update was lost: all participants ran on CPU "
			"%s, one at a time, and none was preempted between its read and its "
			"write of total.", cpu_list(res->allcpus, cpus, sizeof(cpus)));
	return ipc_section_finding(s, "No update was lost this time, but nothing prevents "
		"it: the read-increment-write of total is not atomic.");
}

/* A participant that won nothing at all deserves a word. */
static int
finding_fairness(struct ipc_section *s, const struct race *r, const struct result *res)
{
	for (int i = 0; i < res->n && res->n > 1 && res->sum > 0; i++) {
		if (res->win[i] != 0)
			continue;
		if (r->h->sync == S_SPIN)
			return ipc_section_finding(s, "Participant %d won nothing: a spinlock "
				"queues nobody, so the holder can take it straight back, and a "
				"waiter that shares a CPU with the holder spins its time slice "
				"away.", (int)res->pid[i]);
		return ipc_section_finding(s, "Participant %d won nothing: the others got "
			"every increment in before it had a turn.", (int)res->pid[i]);
	}
	return 0;
}

static int
findings(struct ipc_section *s, const struct race *r, const struct result *res)
{
	static const char *const how[S_COUNT] = {
		NULL,
		"one locked fetch-and-add instruction reads, increments and writes total "
		"in one step",
		"a process-shared pthread mutex in the file lets one participant at a time "
		"read, increment and write total",
		"a process-shared POSIX semaphore in the file lets one participant at a "
		"time read, increment and write total",
		"a spinlock in the file lets one participant at a time read, increment and "
		"write total (the others burn CPU waiting)",
		"flock(2) on the file lets one participant at a time read, increment and "
		"write total, at the price of two system calls per increment",
		"a fcntl(2) record lock lets one participant at a time read, increment and "
		"write total, at the price of two system calls per increment",
	};

	if (finding_fairness(s, r, res) == -1)
		return -1;
	if (r->h->sync == S_NONE)
		return finding_none(s, res);
	if (res->lost == 0)
		return ipc_section_finding(s, "The sum equals the total: %s.", how[r->h->sync]);
	return ipc_section_finding(s, "The sum differs from the total by %ld: a participant "
		"died inside its critical section, after one write and before the other.",
		res->lost);
}

/* A report that did not reach stdout: a reader that went away ends the
 * command quietly (the file is removed at exit); anything else is an error.
 * The stream's error flag is cleared so that the check at exit does not say
 * it again. */
static void __attribute__((noreturn))
report_lost(void)
{
	int e = errno;

	clearerr(stdout);
	if (e == EPIPE)
		exit(0);
	errc(1, e, "stdout: write error");
}

/* Prints the report of one race (a participant's, with --join); returns
 * the exit status. */
static int
report(const struct race *r, struct result *res)
{
	struct ipc_report *rep = ipc_report_new(stdout, r->o.json);
	struct ipc_section *s;
	char title[128];

	snprintf(title, sizeof(title), "race: %d participant%s, --sync %s, --layout %s",
		 res->n, res->n == 1 ? "" : "s", sync_names[r->h->sync],
		 layout_names[r->h->layout]);
	if (rep == NULL || (s = ipc_report_section(rep, NULL, title)) == NULL ||
	    ipc_section_table(s, "participants", participant_cols, PC_COUNT) == -1 ||
	    participant_rows(s, res) == -1 || summary_fields(s, r, res) == -1 ||
	    findings(s, r, res) == -1)
		err(1, "report");
	ipc_section_fields(s);
	if (ipc_report_end(rep) == -1)
		report_lost();
	ipc_report_free(rep);
	if (res->stop == STOP_NONE)
		return 0;
	return interrupted ? 128 + interrupted : 1;
}

/* ---- progress ---- */

static void
show_progress(struct race *r)
{
	struct header *h = r->h;
	double el;
	long t;

	/* reading total takes its cache line from the racers: only for a reader */
	if (!r->prog.on || load32(&h->state) != RACE_RUNNING)
		return;
	el = (double)(ipc_now_ns() - h->start_ns) / 1e9;
	t = __atomic_load_n(r->total, __ATOMIC_RELAXED);
	if (h->target != LONG_MAX) {
		double rate = el > 0 ? (double)t / el : 0.0;
		char left[32] = "?";

		if (rate > 0)
			how_long((double)(h->target - t) / rate, left, sizeof(left));
		ipc_progress_show(&r->prog, "race: %.1f%% of %ld, %.3g increments/s of total, "
				  "about %s left", 100.0 * (double)t / (double)h->target,
				  h->target, rate, left);
	}
	else
		ipc_progress_show(&r->prog, "race: %.1f of %.3g s, %.3g increments/s of total",
				  el, (double)h->time_ns / 1e9, el > 0 ? (double)t / el : 0.0);
}

/* A --target run that will take long says so once, 0.5 s in, on a terminal
 * or not: how long, and the rate that says it. */
static void
say_how_long(struct race *r)
{
	struct header *h = r->h;
	double el, rate;
	char left[32];
	long t;

	if (r->said || !r->o.target_given || h->target == LONG_MAX ||
	    load32(&h->state) != RACE_RUNNING)
		return;
	el = (double)(ipc_now_ns() - h->start_ns) / 1e9;
	if (el < 0.5)
		return;
	r->said = true;
	t = __atomic_load_n(r->total, __ATOMIC_RELAXED);
	rate = (double)t / el;
	if (rate > 0 && (double)(h->target - t) / rate > 3) {
		ipc_progress_done(&r->prog);
		warnx("--target %ld will take about %s more: %.3g increments/s of total "
		      "in the first %.1f s", h->target,
		      how_long((double)(h->target - t) / rate, left, sizeof(left)), rate, el);
	}
}

/* ---- without --join: this process forks the participants and watches ---- */

static const char *created_path;
static pid_t created_by;

/* Removes the file this process made when it exits on an error. */
static void
remove_created(void)
{
	if (created_path && getpid() == created_by)
		unlink(created_path);
}

static void __attribute__((noreturn))
participant(struct race *r)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		err(1, "prctl");
	if (getppid() != r->h->creator)
		_exit(1);	/* the parent is already gone */
	if (arrive(r) == -1)
		errx(1, "%s: no free slot", r->path);
	if (await_start(r) == -1)
		_exit(1);
	run_lap(r);
	_exit(0);
}

/* Reaps what has ended; a participant that did not end well stops the race. */
static void
reap(struct race *r, int *live, char *why, size_t len)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		(*live)--;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			continue;
		if (load32(&r->h->stop) == STOP_NONE)
			ipc_status_str(st, why, len);
		abandon(r->h);
		set_stop(r->h, STOP_DEAD, pid);
	}
	if (pid == -1 && errno != ECHILD)
		err(1, "waitpid");
}

/* When every participant still running should be gone: a grace period after
 * the race ended for one of them (or was stopped), 0 while it runs. */
static uint64_t
end_point(struct race *r, int live, uint64_t forked)
{
	struct header *h = r->h;
	uint64_t now = ipc_now_ns();

	if (interrupted)
		return now + 500000000ULL;
	if (load32(&h->stop) != STOP_NONE || load32(&h->state) == RACE_ABANDONED)
		return now + 1000000000ULL;
	if (h->start_ns == 0 && now - forked > 10000000000ULL)
		return now;	/* ten seconds and not all arrived: one is stuck */
	if (h->start_ns && h->time_ns && now >= h->start_ns + h->time_ns)
		return now + 2000000000ULL;
	if (live < r->nkids)
		return now + 3000000000ULL;
	for (int i = 0; i < r->nkids; i++)
		if (load32(&h->slots[i].state) == SLOT_DONE)
			return now + 3000000000ULL;
	return 0;
}

/* Kills the participants that outlived the grace period (one stopped with
 * SIGSTOP, or waiting on a lock it holds), saying why in WHY: a stopped one
 * is named first, since the others may only be waiting for it. */
static void
kill_rest(struct race *r, char *why, size_t len)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < r->nkids; i++) {
			struct ipc_stat st;
			bool stopped;

			if (ipc_stat_read(r->kids[i], &st) == -1 || st.state == 'Z' ||
			    st.state == 'X')
				continue;
			stopped = st.state == 'T' || st.state == 't';
			if (pass == 0 && !stopped)
				continue;
			if (load32(&r->h->stop) == STOP_NONE)
				snprintf(why, len, "%s", stopped ? "it was stopped, state T; killed it" :
					 "it was still waiting; killed it");
			abandon(r->h);
			set_stop(r->h, STOP_STUCK, r->kids[i]);
			if (kill(r->kids[i], SIGKILL) == -1 && errno != ESRCH)
				err(1, "kill %d", (int)r->kids[i]);
		}
}

static void
monitor(struct race *r, int sfd, int live, char *why, size_t len)
{
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	uint64_t forked = ipc_now_ns(), end = 0, e;
	int sig;

	while (live > 0) {
		if (poll(&p, 1, 50) == -1 && errno != EINTR)
			err(1, "poll");
		while ((sig = ipc_sigfd_read(sfd, NULL)) > 0) {
			if (sig == SIGCHLD)
				continue;
			interrupted = sig;
			abandon(r->h);
			set_stop(r->h, STOP_INTERRUPT, getpid());
		}
		if (sig == -1)
			err(1, "signalfd");
		reap(r, &live, why, len);
		if ((e = end_point(r, live, forked)) != 0 && (end == 0 || e < end))
			end = e;
		if (end && ipc_now_ns() >= end)
			kill_rest(r, why, len);
		say_how_long(r);
		show_progress(r);
	}
	ipc_progress_done(&r->prog);
}

static int
fork_all(struct race *r)
{
	sigset_t cmask;
	int live = 0;

	/* Ctrl+C reaches the whole process group: the participants ignore it
	 * and stop through the flag this process sets */
	sigemptyset(&cmask);
	sigaddset(&cmask, SIGINT);
	for (int i = 0; i < r->o.n; i++) {
		pid_t pid = ipc_fork(&cmask);

		if (pid == 0)
			participant(r);
		if (pid > 0)
			r->kids[r->nkids++] = pid;
		if (pid == -1) {
			warn("%s", ipc_failed_call);
			abandon(r->h);
			set_stop(r->h, STOP_ERROR, getpid());
			break;
		}
		live++;
	}
	return live;
}

/* One race without --join: makes the file, forks the participants, watches
 * them and gathers the result.  Returns 0, or -1 when it never started (a
 * message is in RES->why_dead, or interrupted is set).  race_release() then
 * removes the file. */
static int
race_once(struct race *r, int sfd, struct result *res)
{
	char why[128] = "";
	int live;

	memset(res, 0, sizeof(*res));
	file_setup(r);
	created_path = r->path;
	created_by = getpid();
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	r->nkids = 0;
	r->said = false;
	live = fork_all(r);
	monitor(r, sfd, live, why, sizeof(why));
	gather(r, res);
	if (res->stop == STOP_DEAD || res->stop == STOP_STUCK)
		snprintf(res->why_dead, sizeof(res->why_dead), "%s", why);
	if (r->h->start_ns != 0)
		return 0;
	snprintf(res->why_dead, sizeof(res->why_dead), "%s", why);
	return -1;
}

/* Removes the race file this process made, and its mapping. */
static void
race_release(struct race *r)
{
	struct stat st;

	if (r->created && lstat(r->path, &st) == 0 && st.st_dev == r->dev &&
	    st.st_ino == r->ino && unlink(r->path) == -1 && errno != ENOENT)
		warn("%s: unlink", r->path);
	created_path = NULL;
	r->created = false;
	if (ipc_unmap(r->h, r->len) == -1)
		err(1, "%s: munmap", r->path);
	r->h = NULL;
	if (close(r->fd) == -1)
		err(1, "%s: close", r->path);
	r->fd = -1;
}

static void __attribute__((noreturn))
not_started(struct race *r, const struct result *res)
{
	if (interrupted) {
		warnx("%s: interrupted by %s before the start", r->path,
		      ipc_signame(interrupted));
		exit(128 + interrupted);
	}
	errx(1, "%s: the race did not start%s%s", r->path, res->why_dead[0] ? ": " : "",
	     res->why_dead);
}

/* 1, 2 or 5 times a power of ten, at most X. */
static long
round_down(double x)
{
	double p = 1;

	while (p * 10 <= x)
		p *= 10;
	return (long)(x >= 5 * p ? 5 * p : x >= 2 * p ? 2 * p : p);
}

/* No --target and no --time: a short trial run measures how fast this mode
 * goes here with N participants, and the target is what it reaches in about
 * TARGET_S (the exercise's 1e9 at most), with a limit of LIMIT_NS. */
static void
pick_target(struct race *r, int sfd)
{
	struct result res;
	double rate;

	r->o.target = LONG_MAX;
	r->o.time_ns = TRIAL_NS;
	if (race_once(r, sfd, &res) == -1)
		not_started(r, &res);
	race_release(r);
	if (res.stop != STOP_NONE) {
		if (interrupted)
			errx(128 + interrupted, "interrupted by %s during the trial run",
			     ipc_signame(interrupted));
		errx(1, "%s: the trial run failed: %s", r->path,
		     stop_reason(&res, res.why_dead, sizeof(res.why_dead)));
	}
	rate = res.elapsed > 0 ? (double)res.total / res.elapsed : 0;
	r->trial_rate = rate;
	r->o.target = rate * TARGET_S >= 1e9 ? 1000000000L :
		      rate * TARGET_S < 1000 ? 1000 : round_down(rate * TARGET_S);
	r->o.time_ns = LIMIT_NS;
}

static int
run_single(struct race *r, int sfd)
{
	struct result res;
	int rc;

	if (!r->o.target_given && !r->o.time_given)
		pick_target(r, sfd);
	if (race_once(r, sfd, &res) == -1)
		not_started(r, &res);
	rc = report(r, &res);
	race_release(r);
	return rc;
}

/* ---- several runs: every mode compared, a sweep over N ---- */

enum { C_SYNC, C_LAYOUT, C_N, C_RATE, C_RATIO, C_LOST, C_LOSTPCT, C_FAIR, C_TOTAL,
       C_SUM, C_ELAPSED, C_DONE, C_STOPPED, C_BAR, C_COUNT };

static const struct ipc_rcol many_cols[C_COUNT] = {
	{ "SYNC", "sync", IPC_STR, NULL, 0, 0 },
	{ "LAYOUT", "layout", IPC_STR, NULL, 0, 0 },
	{ "N", "n", IPC_INT, NULL, 0, 0 },
	{ "RATE/S", "rate", IPC_REAL, "%.3g", 0, 0 },
	{ "VS FASTEST", "ratio", IPC_REAL, "%.2g", 0, 0 },
	{ "LOST", "lost", IPC_INT, NULL, 0, 0 },
	{ "LOST%", "lost_pct", IPC_REAL, "%.2f", 0, 0 },
	{ "FAIRNESS", "fairness", IPC_SHARE, NULL, 0, 0 },
	{ "TOTAL", "total", IPC_INT, NULL, 0, 0 },
	{ "SUM", "sum", IPC_INT, NULL, 0, 0 },
	{ "ELAPSED", "elapsed_s", IPC_REAL, "%.3f", 0, 0 },
	{ "COMPLETED", "completed", IPC_BOOL, NULL, 0, 0 },
	{ "STOPPED", "stopped", IPC_STR, NULL, 0, 0 },
	{ "", NULL, IPC_STR, NULL, 0, 0 },	/* the bar: for a person only */
};

static double
lost_pct(const struct result *x)
{
	return x->sum > 0 ? 100.0 * (double)x->lost / (double)x->sum : 0;
}

/* The bar of row X: its rate on a log scale from the decade below the
 * slowest to the fastest, or (a sweep of one mode) its lost share against
 * the largest. */
static double
bar_frac(const struct result *res, int k, const struct result *x, bool by_rate)
{
	double lo = 0, hi = 0;

	for (int i = 0; i < k; i++) {
		double v = by_rate ? res[i].rate : lost_pct(&res[i]);

		if (v > 0 && (lo == 0 || v < lo))
			lo = v;
		if (v > hi)
			hi = v;
	}
	if (!by_rate)
		return hi > 0 ? lost_pct(x) / hi : 0;
	if (x->rate <= 0 || hi <= 0)
		return 0;
	lo = pow(10, floor(log10(lo)));
	return hi > lo ? (log10(x->rate) - log10(lo)) / (log10(hi) - log10(lo)) : 1;
}

static double
fastest(const struct result *res, int k)
{
	double hi = 0;

	for (int i = 0; i < k; i++)
		if (res[i].rate > hi)
			hi = res[i].rate;
	return hi;
}

static int
many_row(struct ipc_section *s, const struct result *res, int k, int i, bool by_rate)
{
	const struct result *x = &res[i];
	struct libscols_line *ln = ipc_row(s);
	double top = fastest(res, k);
	char bar[256], why[256];

	if (ln == NULL)
		return -1;
	return ipc_cell_str(s, ln, C_SYNC, "%s", sync_names[x->sync]) ||
	       ipc_cell_str(s, ln, C_LAYOUT, "%s", layout_names[x->layout]) ||
	       ipc_cell_int(s, ln, C_N, x->n) ||
	       ipc_cell_num(s, ln, C_RATE, x->rate) ||
	       ipc_cell_num(s, ln, C_RATIO, top > 0 ? x->rate / top : 0) ||
	       ipc_cell_int(s, ln, C_LOST, x->lost) ||
	       ipc_cell_num(s, ln, C_LOSTPCT, lost_pct(x)) ||
	       ipc_cell_num(s, ln, C_FAIR, x->fairness) ||
	       ipc_cell_int(s, ln, C_TOTAL, x->total) ||
	       ipc_cell_int(s, ln, C_SUM, x->sum) ||
	       ipc_cell_num(s, ln, C_ELAPSED, x->elapsed) ||
	       ipc_cell_num(s, ln, C_DONE, x->stop == STOP_NONE) ||
	       (stop_reason(x, why, sizeof(why)) ?
		ipc_cell_str(s, ln, C_STOPPED, "%s", why) : ipc_cell_null(s, ln, C_STOPPED)) ||
	       ipc_cell_str(s, ln, C_BAR, "%s",
			    ipc_bar(bar, sizeof(bar), bar_frac(res, k, x, by_rate), 24));
}

static uint32_t
set_of(const struct result *res, int k, bool syncs)
{
	uint32_t v = 0;

	for (int i = 0; i < k; i++)
		v |= 1u << (syncs ? res[i].sync : res[i].layout);
	return v;
}

/* The heading: what was run, how long each. */
static void
many_title(const struct race *r, char *buf, size_t len)
{
	const struct opts *o = &r->o;
	char ns[160] = "", each[64];
	size_t u = 0;

	for (int i = 0; i < o->nn && u < sizeof(ns); i++)
		u += (size_t)snprintf(ns + u, sizeof(ns) - u, "%s%d", i ? "," : "", o->ns[i]);
	if (o->time_given || !o->target_given)
		snprintf(each, sizeof(each), "%.3g s each", (double)o->time_ns / 1e9);
	else
		snprintf(each, sizeof(each), "each to %ld", o->target);
	snprintf(buf, len, "race: %s, N = %s, --layout %s, %s",
		 __builtin_popcount(o->syncs) > 1 ? "every --sync mode" : sync_names[o->sync],
		 ns, __builtin_popcount(o->layouts) > 1 ? "packed and padded" :
		 layout_names[o->layout], each);
}

/* The modes slow for the same reason, and that reason. */
static const struct {
	uint32_t modes;
	const char *why;
} slow_groups[] = {
	{ 1u << S_NONE, "participants that share a CPU take turns" },
	{ 1u << S_ATOMIC, "each increment is a locked instruction that must own the cache "
	  "line of total, which moves from CPU to CPU" },
	{ 1u << S_MUTEX | 1u << S_SEM | 1u << S_SPIN, "each increment takes and releases a "
	  "lock in the file: atomic instructions on the lock's cache line, a futex(2) "
	  "system call for mutex and sem whenever another participant holds it, and "
	  "for spin a wait that spins while the holder may be preempted" },
	{ 1u << S_FLOCK | 1u << S_FCNTL, "each increment makes two system calls, one to "
	  "take the lock and one to release it, and a waiter sleeps in the kernel" },
};

/* "mutex, sem and spin" */
static void
mode_list(uint32_t modes, char *buf, size_t len)
{
	int left = __builtin_popcount(modes);
	size_t u = 0;

	buf[0] = '\0';
	for (int m = 0; m < S_COUNT && u < len; m++)
		if (modes & (1u << m)) {
			left--;
			u += (size_t)snprintf(buf + u, len - u, "%s%s", sync_names[m],
					      left > 1 ? ", " : left == 1 ? " and " : "");
		}
}

/* One group's sentence: its slow modes' rates as a range. */
static void
finding_group(struct ipc_section *s, const struct result **slow, int ns,
	      const struct result *top, const char *why)
{
	double lo = slow[0]->rate, hi = lo;
	uint32_t modes = 0;
	char names[64], rates[160];

	for (int i = 0; i < ns; i++) {
		modes |= 1u << slow[i]->sync;
		lo = slow[i]->rate < lo ? slow[i]->rate : lo;
		hi = slow[i]->rate > hi ? slow[i]->rate : hi;
	}
	mode_list(modes, names, sizeof(names));
	if (ns == 1)
		snprintf(rates, sizeof(rates), "%.3g/s is %.0fx slower than %s (%.3g/s), "
			 "about %.0f ns an increment", lo, top->rate / lo,
			 sync_names[top->sync], top->rate, 1e9 / lo);
	else
		snprintf(rates, sizeof(rates), "%.2g to %.2g/s are %.0f to %.0fx slower than "
			 "%s (%.3g/s), %.0f to %.0f ns an increment", lo, hi, top->rate / hi,
			 top->rate / lo, sync_names[top->sync], top->rate, 1e9 / hi, 1e9 / lo);
	ipc_section_finding(s, "%s at %s, with %d participant%s: %s.", names, rates,
			    top->n, top->n == 1 ? "" : "s", why);
}

/* Why the slow modes are slow: one sentence per group of modes at under half
 * the fastest's rate, with the fastest row's N and layout. */
static void
finding_slow(struct ipc_section *s, const struct result *res, int k)
{
	const struct result *top = &res[0], *slow[S_COUNT];

	for (int i = 1; i < k; i++)
		if (res[i].rate > top->rate)
			top = &res[i];
	for (size_t g = 0; g < sizeof(slow_groups) / sizeof(slow_groups[0]); g++) {
		uint32_t seen = 0;
		int ns = 0;

		for (int i = 0; i < k; i++) {
			const struct result *x = &res[i];

			if (!(slow_groups[g].modes & (1u << x->sync)) || (seen & (1u << x->sync)) ||
			    x->sync == top->sync || x->n != top->n || x->layout != top->layout)
				continue;
			seen |= 1u << x->sync;
			if (x->rate > 0 && x->rate <= top->rate / 2)
				slow[ns++] = x;
		}
		if (ns > 0)
			finding_group(s, slow, ns, top, slow_groups[g].why);
	}
}

static void
finding_lost(struct ipc_section *s, const struct result *res, int k)
{
	long lost = 0, sum = 0, synced = 0;

	for (int i = 0; i < k; i++) {
		if (res[i].sync == S_NONE) {
			lost += res[i].lost;
			sum += res[i].sum;
		} else {
			synced += res[i].lost;
		}
	}
	if (lost > 0 && set_of(res, k, true) != 1u << S_NONE)
		ipc_section_finding(s, "none lost %ld of %ld increments (%.2f%%): its "
				    "read-increment-write of total is not atomic; the "
				    "synchronised modes lost %ld.", lost, sum,
				    100.0 * (double)lost / (double)sum, synced);
}

/* False sharing: the same mode and N in both layouts. */
static void
finding_layout(struct ipc_section *s, const struct result *res, int k)
{
	const struct result *pa = NULL, *pd = NULL;
	double best = 1;

	for (int i = 0; i < k; i++)
		for (int j = 0; j < k; j++) {
			const struct result *a = &res[i], *b = &res[j];

			if (a->layout != L_PACKED || b->layout != L_PADDED || a->sync != b->sync ||
			    a->n != b->n || a->n < 2 || a->rate <= 0 || b->rate / a->rate <= best)
				continue;
			best = b->rate / a->rate;
			pa = a;
			pd = b;
		}
	if (pa && best >= 1.2)
		ipc_section_finding(s, "False sharing: with --layout packed, total and the "
				    "winnings share cache lines, so each participant's write to "
				    "its own winning takes the line from the others; %s with %d "
				    "participants ran %.3g/s packed and %.3g/s padded (%.1fx).",
				    sync_names[pa->sync], pa->n, pa->rate, pd->rate, best);
}

/* The rows of mode M in the first layout, in N order: a sweep's curve. */
static int
curve_of(const struct result *res, int k, enum sync m, const struct result **c)
{
	int nc = 0;

	for (int i = 0; i < k; i++)
		if (res[i].sync == m && res[i].layout == res[0].layout)
			c[nc++] = &res[i];
	return nc;
}

static void
finding_sweep_none(struct ipc_section *s, const struct result **c, int nc, int cpus)
{
	char curve[512], more[256] = "";
	const struct result *peak = c[0];
	size_t u = 0;

	for (int i = 0; i < nc && u < sizeof(curve); i++) {
		u += (size_t)snprintf(curve + u, sizeof(curve) - u, "%s%d: %.2f%%",
				      i ? ", " : "", c[i]->n, lost_pct(c[i]));
		if (lost_pct(c[i]) > lost_pct(peak))
			peak = c[i];
	}
	if (c[nc - 1]->n > cpus)
		snprintf(more, sizeof(more), "; with more participants than the %d CPU%s they "
			 "ran on, they take turns on a CPU, and an update is lost only when the "
			 "scheduler preempts one between its read and its write of total", cpus,
			 cpus == 1 ? "" : "s");
	ipc_section_finding(s, "Lost updates of none by N (%s), the most at N = %d: with "
			    "one participant nothing is lost; with several, an update is "
			    "lost whenever two read total before either writes it back%s.",
			    curve, peak->n, more);
}

static void
finding_sweep(struct ipc_section *s, const struct result *res, int k)
{
	const struct result *c[MAXN];
	int cpus = 0, nc;

	for (int i = 0; i < k; i++)
		cpus = ncpus(res[i].allcpus) > cpus ? ncpus(res[i].allcpus) : cpus;
	if ((nc = curve_of(res, k, S_NONE, c)) > 1) {
		finding_sweep_none(s, c, nc, cpus);
		return;
	}
	nc = curve_of(res, k, res[0].sync, c);
	for (int i = 0; i < nc; i++)
		if (c[i]->lost != 0)
			return;
	if (nc > 1 && c[0]->rate > 0 && c[nc - 1]->rate < c[0]->rate)
		ipc_section_finding(s, "%s lost no update at any N; its rate fell from "
				    "%.3g/s at N = %d to %.3g/s at N = %d, as more participants "
				    "wait for the same lock and the cache line of total.",
				    sync_names[res[0].sync], c[0]->rate, c[0]->n, c[nc - 1]->rate,
				    c[nc - 1]->n);
}

static int
many_report(const struct race *r, const struct result *res, int k)
{
	struct ipc_report *rep = ipc_report_new(stdout, r->o.json);
	struct ipc_section *s;
	bool by_rate = __builtin_popcount(r->o.syncs) > 1 || r->o.nn == 1;
	char title[256];
	int rc = 0;

	many_title(r, title, sizeof(title));
	if (rep == NULL || (s = ipc_report_section(rep, NULL, title)) == NULL ||
	    ipc_section_table(s, "runs", many_cols, C_COUNT) == -1)
		err(1, "report");
	if (!r->o.json) {
		struct libscols_table *t = ipc_section_scols(s);
		static const int hide[] = { C_TOTAL, C_SUM, C_ELAPSED, C_DONE, C_STOPPED };

		for (size_t i = 0; i < sizeof(hide) / sizeof(hide[0]); i++)
			scols_column_set_flags(scols_table_get_column(t, (size_t)hide[i]),
					       SCOLS_FL_HIDDEN | SCOLS_FL_RIGHT);
		scols_column_set_name(scols_table_get_column(t, C_BAR),
				      by_rate ? "RATE (log scale)" : "LOST (to scale)");
	}
	for (int i = 0; i < k && rc == 0; i++)
		rc = many_row(s, res, k, i, by_rate);
	if (rc == 0 && interrupted && (k == 0 || res[k - 1].stop == STOP_NONE)) {
		struct ipc_section *tail = ipc_report_section(rep, NULL, NULL);

		rc = tail == NULL ? -1 : ipc_put_note(tail, "Interrupted by %s before the "
						      "next run.", ipc_signame(interrupted));
	}
	if (rc == 0 && k > 0 && res[k - 1].stop != STOP_NONE) {
		struct ipc_section *tail = ipc_report_section(rep, NULL, NULL);
		char why[256];

		rc = tail == NULL ? -1 : ipc_put_note(tail, "The last row is partial: %s.",
				  stop_reason(&res[k - 1], why, sizeof(why)));
	}
	if (rc != 0)
		err(1, "report");
	if (__builtin_popcount(set_of(res, k, true)) > 1)
		finding_slow(s, res, k);
	finding_lost(s, res, k);
	finding_layout(s, res, k);
	if (r->o.nn > 1)
		finding_sweep(s, res, k);
	if (ipc_report_end(rep) == -1)
		report_lost();
	ipc_report_free(rep);
	return 0;
}

/* A signal that came between two runs ends the series. */
static bool
drain_signals(int sfd)
{
	int sig;

	while ((sig = ipc_sigfd_read(sfd, NULL)) > 0)
		if (sig != SIGCHLD)
			interrupted = sig;
	return interrupted != 0;
}

static int
planned_runs(const struct opts *o)
{
	return o->nn * __builtin_popcount(o->syncs) * __builtin_popcount(o->layouts);
}

static int
run_many(struct race *r, int sfd)
{
	struct opts *o = &r->o;
	int total = planned_runs(o), k = 0, rc = 0;
	struct result *res = calloc((size_t)total, sizeof(*res));

	if (res == NULL)
		err(1, "calloc");
	if (!o->time_given && !o->target_given)
		o->time_ns = RUN_NS;
	if (o->time_ns && (double)total * ((double)o->time_ns / 1e9 + 0.1) > 3)
		warnx("%d runs of %.3g s each: about %.0f s in all (--time sets a run's time)",
		      total, (double)o->time_ns / 1e9,
		      (double)total * ((double)o->time_ns / 1e9 + 0.1));
	for (int l = 0; l < 2; l++)
		for (int m = 0; m < S_COUNT; m++)
			for (int i = 0; i < o->nn; i++) {
				if (!(o->layouts & (1u << l)) || !(o->syncs & (1u << m)) ||
				    rc != 0 || drain_signals(sfd))
					continue;
				o->layout = l;
				o->sync = m;
				o->n = o->ns[i];
				if (race_once(r, sfd, &res[k]) == -1)
					rc = -1;
				else if (res[k++].stop != STOP_NONE)
					rc = 1;
				race_release(r);
			}
	if (rc == -1 && !interrupted)
		not_started(r, &res[k]);
	many_report(r, res, k);
	free(res);
	if (interrupted)
		return 128 + interrupted;
	return rc != 0 ? 1 : 0;
}

/* ---- with --join: one participant per terminal ---- */

/* A peer still racing GRACE after this participant is done: say what it is
 * doing and stop waiting for it (it is not ours to kill). */
static void
give_up_on(struct race *r, struct slot *s)
{
	struct ipc_stat st;
	char state = ipc_stat_read(s->pid, &st) == 0 ? st.state : '?';

	snprintf(r->stuck, sizeof(r->stuck), "%s; not waiting for it",
		 state == 'T' || state == 't' ? "it is stopped, state T" : "it is still waiting");
	set_stop(r->h, STOP_STUCK, s->pid);
}

/* Watches the peers during the race: a dead one, or a Ctrl+C here, stops
 * everyone.  Ends when every participant is done or dead, or a grace period
 * after this one is done (a stopped peer never will be). */
static void *
watcher(void *arg)
{
	struct race *r = arg;
	struct header *h = r->h;
	uint64_t until = 0;
	sigset_t alrm;
	bool all;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);	/* the lock timer is for the racing thread */
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	do {
		all = true;
		if (interrupted)
			set_stop(h, STOP_INTERRUPT, getpid());
		if (until == 0 && load32(&h->slots[r->slot].state) == SLOT_DONE)
			until = ipc_now_ns() + (interrupted ? 500000000ULL : 3000000000ULL);
		for (uint32_t i = 0; i < h->n; i++) {
			struct slot *s = &h->slots[i];
			uint32_t st = load32(&s->state);

			if (st == SLOT_DONE || st == SLOT_LEFT)
				continue;
			if (!slot_alive(s))
				set_stop(h, STOP_DEAD, s->pid);
			else if (until && ipc_now_ns() >= until)
				give_up_on(r, s);
			else
				all = false;
		}
		if (!all) {
			show_progress(r);
			nap(50000000);
		}
	} while (!all);
	ipc_progress_done(&r->prog);
	return NULL;
}

static int
run_join(struct race *r)
{
	struct result res = { 0 };
	pthread_t th;
	int e, rc;

	if (arrive(r) == -1)
		errx(1, "%s: the race already has its %u participants", r->path, r->h->n);
	if (await_start(r) == -1) {
		ipc_progress_done(&r->prog);
		leave(r);
		return interrupted ? 128 + interrupted : 1;
	}
	ipc_progress_done(&r->prog);
	if ((e = pthread_create(&th, NULL, watcher, r)) != 0)
		errc(1, e, "pthread_create");
	run_lap(r);
	if ((e = pthread_join(th, NULL)) != 0)
		errc(1, e, "pthread_join");
	gather(r, &res);
	if (res.stop == STOP_STUCK)
		snprintf(res.why_dead, sizeof(res.why_dead), "%s", r->stuck);
	rc = report(r, &res);
	leave(r);
	return rc;
}

/* ---- the command line ---- */

static const struct ipc_help help = {
	.name = "race",
	.synopsis = "[options] N\n[options] N1-N2 | N1,N2,...\n--join [options] N",
	.summary = "N processes race to increment one counter in a shared file.",
	.options =
	" -s, --sync MODE     none (default), atomic, mutex, sem, spin, flock, fcntl,\n"
	"                     or all: every mode in turn, in one table\n"
	" -l, --layout L      packed (default: the exercise's struct, N <= 10),\n"
	"                     padded (N <= 64), or all\n"
	" -t, --target T      race until the total reaches T (default: what a 0.25 s\n"
	"                     trial says this mode reaches in about 2 s)\n"
	" -T, --time S        stop after S seconds at the latest (several runs:\n"
	"                     each run's time, default 1)\n"
	"     --join          one participant per terminal, as the exercise does it\n"
	" -f, --file PATH     the race file (--join: $TMPDIR/ipclab-race-UID)\n"
	" -w, --timeout S     how long --join waits for the others (default 60)\n"
	"     --force         replace a regular file of yours at PATH that is not a\n"
	"                     race file\n"
	" -J, -j, --json      print the report as JSON\n",
};

enum { OPT_JOIN = 0x100, OPT_FORCE };

static const struct option longopts[] = {
	{ "sync", required_argument, NULL, 's' },
	{ "layout", required_argument, NULL, 'l' },
	{ "target", required_argument, NULL, 't' },
	{ "time", required_argument, NULL, 'T' },
	{ "join", no_argument, NULL, OPT_JOIN },
	{ "file", required_argument, NULL, 'f' },
	{ "timeout", required_argument, NULL, 'w' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "json", no_argument, NULL, 'j' },
	IPC_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int
parse_name(const char *s, const char *const *names, int n, const char *what)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	ipc_usage("'%s' is not a %s", s, what);
}

static uint64_t
parse_secs(const char *s, const char *opt)
{
	const char *es;
	double d;

	if (ipc_parse_seconds(s, 1e6, &d, &es) == -1)
		ipc_usage("%s '%s': not a number of seconds from 0.001 to 1e6 (%s)", opt, s, es);
	if (d < 0.001)
		ipc_usage("%s '%s': not a number of seconds from 0.001 to 1e6 (too small)",
			  opt, s);
	return (uint64_t)(d * 1e9);
}

/* getopt's own messages, except that "-3" is a number of participants. */
static void __attribute__((noreturn))
bad_option(int c, char **argv)
{
	if (c == ':')
		ipc_usage("option '%s' requires an argument", argv[optind - 1]);
	if (optopt >= '0' && optopt <= '9')
		ipc_usage("'%s' is not a number of participants: N is 1 to %d (negative)",
			  argv[optind - 1], MAXN);
	if (optopt)
		ipc_usage("invalid option -- '%c'", optopt);
	ipc_usage("unrecognized option '%s'", argv[optind - 1]);
}

/* A --sync or --layout name, or "all": the bits of the ones to run. */
static uint32_t
parse_set(const char *s, const char *const *names, int n, const char *what)
{
	if (strcmp(s, "all") == 0)
		return (1u << n) - 1;
	if (n == 2 && strcmp(s, "seed") == 0)
		return 1u << L_PACKED;	/* the old name of the packed layout */
	return 1u << parse_name(s, names, n, what);
}

static void
parse_opt(struct opts *o, int c, char **argv)
{
	const char *es;
	long long v;

	switch (c) {
	case 's': o->syncs = parse_set(optarg, sync_names, S_COUNT, "--sync mode (none, "
				       "atomic, mutex, sem, spin, flock, fcntl, all)"); break;
	case 'l': o->layouts = parse_set(optarg, layout_names, 2,
					 "--layout (packed, padded, all)"); break;
	case 't':
		if (ipc_parse_count(optarg, 1, LONG_MAX - 1, &v, &es) == -1)
			ipc_usage("--target '%s': not a count from 1 up (%s)", optarg, es);
		o->target = (long)v;
		o->target_given = true;
		break;
	case 'T': o->time_ns = parse_secs(optarg, "--time"); o->time_given = true; break;
	case 'w': o->timeout_ns = parse_secs(optarg, "--timeout"); break;
	case OPT_JOIN: o->join = true; break;
	case OPT_FORCE: o->force = true; break;
	case 'f': o->file = optarg; break;
	case 'J':
	case 'j': o->json = true; break;
	case ':': case '?': bad_option(c, argv);
	default: ipc_common_option(c, &help);
	}
}

static int
one_n(const char *s, const char *all)
{
	const char *es;
	long long v;

	if (ipc_parse_count(s, 1, MAXN, &v, &es) == -1)
		ipc_usage("'%s' is not a number of participants: N is 1 to %d, a range "
			  "such as 1-8 or a list such as 1,2,4,8 (%s)", all, MAXN, es);
	return (int)v;
}

/* N, a range A-B or a list of both: "2", "1-8", "1,2,4,8". */
static void
parse_n(struct opts *o, const char *s)
{
	char buf[256], *item, *save, *dash;
	int a, b;

	if (strlen(s) >= sizeof(buf) || *s == '\0' || s[strlen(s) - 1] == ',')
		one_n("", s);
	snprintf(buf, sizeof(buf), "%s", s);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if ((dash = strchr(item, '-')) != NULL && dash != item)
			*dash++ = '\0';
		else
			dash = NULL;
		a = one_n(item, s);
		b = dash ? one_n(dash, s) : a;
		if (b < a)
			ipc_usage("'%s': the range %d-%d goes down", s, a, b);
		for (; a <= b; a++) {
			if (o->nn == MAXN)
				ipc_usage("'%s': more than %d numbers of participants", s, MAXN);
			o->ns[o->nn++] = a;
		}
	}
	for (int i = 0; i < o->nn; i++)
		if ((o->layouts & (1u << L_PACKED)) && o->ns[i] > PACKED_MAXN)
			ipc_usage("%d participants do not fit the exercise's struct RaceCourse, "
				  "which has %d winnings; --layout padded gives each counter "
				  "its own cache line and takes up to %d", o->ns[i], PACKED_MAXN,
				  MAXN);
	o->n = o->ns[0];
}

static int
lowest_bit(uint32_t v)
{
	return __builtin_ctz(v);
}

static bool
several(const struct opts *o)
{
	return o->nn > 1 || __builtin_popcount(o->syncs) > 1 ||
	       __builtin_popcount(o->layouts) > 1;
}

static void
parse_path(struct race *r)
{
	const char *tmp = getenv("TMPDIR");
	char sb[80];
	int n;

	if (r->o.file && ipc_path_check(r->o.file) == -1)
		ipc_usage("--file '%s': %s", ipc_shorten(r->o.file, 60, sb, sizeof(sb)), ipc_failed_why);
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (r->o.file)
		n = snprintf(r->path, sizeof(r->path), "%s", r->o.file);
	else if (r->o.join)
		n = snprintf(r->path, sizeof(r->path), "%s/ipclab-race-%u", tmp,
			     (unsigned)getuid());
	else
		n = snprintf(r->path, sizeof(r->path), "%s/ipclab-race.%d", tmp, (int)getpid());
	/* the file is made as PATH.PID.new first: that name must fit too */
	if (n < 0 || (size_t)n + 24 >= sizeof(r->path))
		ipc_usage("%s: the path is too long for the race file and its temporary "
			  "name (PATH_MAX is %d bytes)", ipc_shorten(r->path, 60, sb, sizeof(sb)), PATH_MAX);
}

static void
parse_args(struct race *r, int argc, char **argv)
{
	struct opts *o = &r->o;
	int c;

	o->timeout_ns = 60000000000ULL;
	o->syncs = 1u << S_NONE;
	o->layouts = 1u << L_PACKED;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:l:t:T:f:w:jJhV", longopts, NULL)) != -1)
		parse_opt(o, c, argv);
	if (optind != argc - 1)
		ipc_usage(optind == argc ? "N, the number of participants, is missing" :
			  "one N expected, got '%s' too", argv[optind + 1 < argc ? optind + 1 : optind]);
	parse_n(o, argv[optind]);
	o->sync = lowest_bit(o->syncs);
	o->layout = lowest_bit(o->layouts);
	if (o->join && several(o))
		ipc_usage("--join races one N, one --sync mode and one --layout");
	if (!o->target_given)
		o->target = LONG_MAX;
	if (o->join && !o->target_given && !o->time_given) {
		/* every participant must agree without a trial: the exercise's
		 * target, with a limit the report states */
		o->target = o->sync == S_FLOCK || o->sync == S_FCNTL ? 1000000L : 1000000000L;
		o->time_ns = JOIN_LIMIT_NS;
	}
	parse_path(r);
}

int
race_main(int argc, char **argv)
{
	struct race r = { .fd = -1, .slot = -1 };
	sigset_t set;
	int sfd = -1;

	parse_args(&r, argc, argv);
	/* a reader that goes away is EPIPE, seen by ipc_flush_check, so that the
	 * file is still removed as the command ends quietly */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	ipc_progress_init(&r.prog);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (r.o.join) {
		if (ipc_sig_handle(SIGINT, on_signal, true) == -1 ||
		    ipc_sig_handle(SIGTERM, on_signal, true) == -1 ||
		    ipc_sig_handle(SIGHUP, on_signal, true) == -1)
			err(1, "sigaction");
		file_setup(&r);
		return run_join(&r);
	}
	sigaddset(&set, SIGCHLD);
	if ((sfd = ipc_sigfd_open(&set)) == -1)
		err(1, "%s", ipc_failed_call);
	if (atexit(remove_created) != 0)
		errx(1, "atexit failed");
	if (several(&r.o))
		return run_many(&r, sfd);
	return run_single(&r, sfd);
}
