/* pool_churn PROGRAM SECONDS: the reference for churn, a minimal loop of
 * fork, exec PROGRAM, wait, for SECONDS.  Prints the runs per second. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec a, b;
	double secs, el;
	long runs = 0;
	int st;

	if (argc != 3 || (secs = atof(argv[2])) <= 0)
		return fprintf(stderr, "usage: pool_churn PROGRAM SECONDS\n"), 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		pid_t pid = fork();

		if (pid == -1)
			return perror("fork"), 1;
		if (pid == 0) {
			execlp(argv[1], argv[1], (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		runs++;
		clock_gettime(CLOCK_MONOTONIC, &b);
		el = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	} while (el < secs);
	printf("%.0f\n", runs / el);
	return 0;
}
