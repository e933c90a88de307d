/* The shared part of bench/race's minimal reference loops: N forked
 * processes, one shared mapping of a file holding the exercise's struct (or the
 * padded one), a start barrier, and the rate of increments over the time
 * from the start to the last finish, the same way `ipclab race` counts it.
 * Each race_MODE.c includes this file and defines loop(), plus setup() for
 * what its lock needs.
 *
 * usage: race_MODE N TARGET packed|padded   prints: RATE SUM TOTAL */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>

struct RaceCourse {
	int participants;
	long total;
	long winnings[10];
};

struct padded_counter {
	_Alignas(64) long v;
};

struct padded_course {
	_Alignas(64) int participants;
	struct padded_counter total;
	struct padded_counter winnings[64];
};

struct shared {
	pthread_mutex_t mutex;
	sem_t sem;
	int spin;
	int ready, go;
	long start_ns, end_ns;
	_Alignas(64) union {
		struct RaceCourse packed;
		struct padded_course padded;
	} c;
};

static struct shared *sh;
static long target;
static int lockfd = -1;
static char lockpath[] = "/tmp/race_ref.XXXXXX";

static void setup(void);
static struct shared *map_file(void);
static void loop(volatile long *total, volatile long *win);

static long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
child(int i, int n, int padded)
{
	volatile long *total = padded ? &sh->c.padded.total.v : &sh->c.packed.total;
	volatile long *win = padded ? &sh->c.padded.winnings[i].v : &sh->c.packed.winnings[i];
	long end, e;

	if (lockfd != -1 && (lockfd = open(lockpath, O_RDWR)) == -1)
		die("open");
	if (__atomic_add_fetch(&sh->ready, 1, __ATOMIC_ACQ_REL) == n) {
		sh->start_ns = now_ns();
		__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	}
	while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
		usleep(100);
	loop(total, win);
	end = now_ns();
	e = __atomic_load_n(&sh->end_ns, __ATOMIC_RELAXED);
	while (e < end && !__atomic_compare_exchange_n(&sh->end_ns, &e, end, 0,
						       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		;
	_exit(0);
}

int
main(int argc, char **argv)
{
	int n, padded, st;
	long sum = 0, total;

	if (argc != 4)
		return fprintf(stderr, "usage: %s N TARGET packed|padded\n", argv[0]), 2;
	n = atoi(argv[1]);
	target = (long)strtod(argv[2], NULL);
	padded = strcmp(argv[3], "padded") == 0;
	sh = map_file();
	setup();
	for (int i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == -1)
			die("fork");
		if (p == 0)
			child(i, n, padded);
	}
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return fprintf(stderr, "a participant failed\n"), 1;
	if (lockfd != -1)
		unlink(lockpath);
	for (int i = 0; i < n; i++)
		sum += padded ? sh->c.padded.winnings[i].v : sh->c.packed.winnings[i];
	total = padded ? sh->c.padded.total.v : sh->c.packed.total;
	printf("%.6g %ld %ld\n", (double)sum * 1e9 / (double)(sh->end_ns - sh->start_ns),
	       sum, total);
	return 0;
}

/* For the file locks: a file each participant opens anew. */
static void
make_lockfile(void)
{
	if ((lockfd = mkstemp(lockpath)) == -1)
		die("mkstemp");
}

/* The exercise maps a file, and so does ipclab race: the course lives in a file
 * in $TMPDIR (or /tmp), removed as soon as it is mapped, so that both sides
 * race on the same kind of memory (a disk file's pages are not tmpfs's). */
static struct shared *
map_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	struct shared *p;
	int fd;

	snprintf(path, sizeof(path), "%s/race_course.XXXXXX", dir && *dir ? dir : "/tmp");
	if ((fd = mkstemp(path)) == -1)
		die("mkstemp");
	if (ftruncate(fd, sizeof(*p)) == -1)
		die("ftruncate");
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	unlink(path);
	close(fd);
	return p;
}
