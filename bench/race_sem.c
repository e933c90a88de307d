/* Reference for --sync sem: a process-shared POSIX semaphore. */
#include "race_harness.c"

static void
setup(void)
{
	(void)make_lockfile;
	if (sem_init(&sh->sem, 1, 1) == -1)
		die("sem_init");
}

static void
loop(volatile long *total, volatile long *win)
{
	for (;;) {
		while (sem_wait(&sh->sem) == -1)
			;
		if (*total >= target)
			break;
		*total += 1;
		*win += 1;
		sem_post(&sh->sem);
	}
	sem_post(&sh->sem);
}
