/* pool_worker: a worker for bench/pool.  Prints "PID NS" (its pid and the
 * CLOCK_MONOTONIC time at which it first ran) in one write to standard
 * output, then sleeps until killed. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(void)
{
	struct timespec ts;
	char line[64];
	int n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%d %lld\n", (int)getpid(),
		     (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		return 1;
	for (;;)
		pause();
}
