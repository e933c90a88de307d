/* pool_lat IPCLAB WORKER CONFIG DEATHS: replacement latency of ipclab pool.
 * Runs `IPCLAB pool --no-fifo --no-throttle CONFIG -- WORKER` (CONFIG says 1)
 * with its stdout on a pipe; DEATHS times: kills the worker with SIGKILL and
 * measures from just before kill(2) to the moment the replacement worker ran
 * its first instruction of main (the time it printed).  Each death is
 * followed by one sample of each floor, a minimal fork + exec of WORKER and
 * a posix_spawn(3) of it, timed the same way, so all see the same load.
 * Prints "pool MEDIAN_US P99_US", "floor MEDIAN_US P99_US" (fork + exec) and
 * "spawn MEDIAN_US P99_US" (posix_spawn). */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void
show(const char *what, long long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%s %.1f %.1f\n", what, v[n / 2] / 1e3, v[(n * 99 + 99) / 100 - 1] / 1e3);
}

static pid_t
start(char **argv, FILE **out)
{
	int p[2];
	pid_t pid;

	if (pipe(p) == -1 || (pid = fork()) == -1) {
		perror("pool_lat");
		exit(1);
	}
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*out = fdopen(p[0], "r");
	return pid;
}

/* The time worker W printed on IN when it ran main; W is then killed. */
static long long
ran_main(pid_t w, FILE *in)
{
	long long t;
	int pid, st;

	if (in == NULL || fscanf(in, "%d %lld", &pid, &t) != 2) {
		fprintf(stderr, "pool_lat: worker did not start\n");
		exit(1);
	}
	kill(w, SIGKILL);
	waitpid(w, &st, 0);
	fclose(in);
	return t;
}

/* One floor sample: fork + exec WORKER, until it runs main. */
static long long
floor_once(char **worker)
{
	long long t0 = now();
	FILE *in;
	pid_t w = start(worker, &in);

	return ran_main(w, in) - t0;
}

/* One floor sample: posix_spawnp WORKER, until it runs main. */
static long long
spawn_once(char **worker)
{
	extern char **environ;
	posix_spawn_file_actions_t fa;
	long long t0 = now();
	int p[2];
	pid_t w;

	if (pipe(p) == -1 || posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, p[1], 1) != 0 ||
	    posix_spawn_file_actions_addclose(&fa, p[0]) != 0 ||
	    posix_spawn_file_actions_addclose(&fa, p[1]) != 0 ||
	    posix_spawnp(&w, worker[0], &fa, NULL, worker, environ) != 0) {
		fprintf(stderr, "pool_lat: posix_spawn failed\n");
		exit(1);
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	return ran_main(w, fdopen(p[0], "r")) - t0;
}

int
main(int argc, char **argv)
{
	char *pool[] = { argv[1], "pool", "--no-fifo", "--no-throttle", argv[3], "--",
			 argv[2], NULL };
	char *worker[] = { argv[2], NULL };
	long long t0, t, *lat, *flo, *spw;
	int n, pid, st;
	pid_t master;
	FILE *in;

	if (argc != 5 || (n = atoi(argv[4])) <= 0 || !(lat = calloc((size_t)n, sizeof(*lat))) ||
	    !(flo = calloc((size_t)n, sizeof(*flo))) || !(spw = calloc((size_t)n, sizeof(*spw))))
		return fprintf(stderr, "usage: pool_lat IPCLAB WORKER CONFIG DEATHS\n"), 2;
	master = start(pool, &in);
	if (fscanf(in, "%d %lld", &pid, &t) != 2)
		return fprintf(stderr, "pool_lat: no first worker\n"), 1;
	/* interleaved, so that both see the same load on a shared machine */
	for (int i = 0; i < n; i++) {
		t0 = now();
		kill(pid, SIGKILL);
		if (fscanf(in, "%d %lld", &pid, &t) != 2)
			return fprintf(stderr, "pool_lat: no replacement\n"), 1;
		lat[i] = t - t0;
		flo[i] = floor_once(worker);
		spw[i] = spawn_once(worker);
	}
	kill(master, SIGTERM);
	waitpid(master, &st, 0);
	fclose(in);
	show("pool", lat, n);
	show("floor", flo, n);
	show("spawn", spw, n);
	free(lat);
	free(flo);
	free(spw);
	return 0;
}
