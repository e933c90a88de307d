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
	sem_t *sem = &sh->sem;	/* locals: calls would reload globals */
	const long end = target;

	for (;;) {
		while (sem_wait(sem) == -1)
			;
		if (*total >= end)
			break;
		*total += 1;
		*win += 1;
		sem_post(sem);
	}
	sem_post(sem);
}
