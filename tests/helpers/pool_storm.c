/* pool_storm PID COUNT: sends COUNT signals to PID as fast as kill(2) goes,
 * drawn at random from SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU and
 * SIGCHLD.  Prints how many of each it sent. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU, SIGCHLD };
	enum { NSIGS = sizeof(sigs) / sizeof(sigs[0]) };
	unsigned long sent[NSIGS] = { 0 };
	unsigned seed = (unsigned)time(NULL);
	long pid, count;

	if (argc != 3 || (pid = strtol(argv[1], NULL, 10)) <= 0 ||
	    (count = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: pool_storm PID COUNT\n");
		return 2;
	}
	for (long i = 0; i < count; i++) {
		int k = rand_r(&seed) % NSIGS;

		if (kill((pid_t)pid, sigs[k]) == -1) {
			perror("pool_storm: kill");
			return 1;
		}
		sent[k]++;
	}
	for (int k = 0; k < NSIGS; k++)
		printf("%s %lu\n", sigabbrev_np(sigs[k]), sent[k]);
	return 0;
}
