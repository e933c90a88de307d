/* pool_churn PROGRAM SECONDS [spawn]: the reference for churn, a minimal
 * loop of fork, exec PROGRAM, wait (with "spawn": posix_spawnp, wait), for
 * SECONDS.  Prints the runs per second. */
#include <spawn.h>
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

	extern char **environ;
	char *args[] = { argv[1], NULL };
	int spawn = argc == 4 && argv[3][0] == 's';

	if (argc < 3 || argc > 4 || (secs = atof(argv[2])) <= 0)
		return fprintf(stderr, "usage: pool_churn PROGRAM SECONDS [spawn]\n"), 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		pid_t pid;

		if (spawn) {
			if (posix_spawnp(&pid, argv[1], NULL, NULL, args, environ) != 0)
				return perror("posix_spawnp"), 1;
		} else if ((pid = fork()) == -1) {
			return perror("fork"), 1;
		} else if (pid == 0) {
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
