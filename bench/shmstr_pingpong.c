/* The reference for bench/shmstr-notify: the least a parent can do to wake
 * its child, timed the way ipclab shmstr --repeat times it (the parent's
 * clock before the notification, the child's clock when it wakes, over
 * CLOCK_MONOTONIC), with no mapping, no checks and no report.
 * Usage: shmstr_pingpong pipe|signal CYCLES; prints the median and p99 in ns. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static uint64_t
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int sig = argc > 1 && strcmp(argv[1], "signal") == 0;
	long n = argc > 2 ? atol(argv[2]) : 10000;
	uint64_t *lat = calloc((size_t)n, sizeof(*lat)), t;
	int np[2], ap[2];
	sigset_t set;
	pid_t pid;
	char c;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (lat == NULL || pipe(np) || pipe(ap) || (pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		for (long i = 0; i < n; i++) {
			if (sig) {
				int s;
				sigwait(&set, &s);
			} else if (read(np[0], &c, 1) != 1) {
				_exit(1);
			}
			t = now();
			if (write(ap[1], &t, sizeof(t)) != sizeof(t))
				_exit(1);
		}
		_exit(0);
	}
	for (long i = 0; i < n; i++) {
		uint64_t t0 = now();

		if (sig ? kill(pid, SIGUSR1) : write(np[1], "x", 1) != 1)
			return 1;
		if (read(ap[0], &t, sizeof(t)) != sizeof(t))
			return 1;
		lat[i] = t - t0;
	}
	waitpid(pid, NULL, 0);
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("%llu %llu\n", (unsigned long long)lat[(n + 1) / 2 - 1],
	       (unsigned long long)lat[(size_t)((double)n * 0.99 + 0.999) - 1]);
	return 0;
}
