/* iotrace_calls: the cost of one wrapped call, without any process start-up.
 * Times N pairs of 1-byte read(2) from /dev/zero and write(2) to /dev/null
 * and prints the nanoseconds per call.  bench/iotrace runs it bare and with
 * LD_PRELOAD=libipclab_io.so, alternately; the difference is the shim's. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 500000;
	int in = open("/dev/zero", O_RDONLY), out = open("/dev/null", O_WRONLY);
	struct timespec t0, t1;
	char b;

	if (in < 0 || out < 0 || n <= 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		if (read(in, &b, 1) != 1 || write(out, &b, 1) != 1)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.2f\n", ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
			  (double)(t1.tv_nsec - t0.tv_nsec)) / (2.0 * (double)n));
	return 0;
}
