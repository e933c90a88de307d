/* Reference for --sync mutex: a robust, process-shared pthread mutex. */
#include "race_harness.c"

static void
setup(void)
{
	pthread_mutexattr_t a;

	(void)make_lockfile;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (pthread_mutex_init(&sh->mutex, &a) != 0)
		die("pthread_mutex_init");
}

static void
loop(volatile long *total, volatile long *win)
{
	pthread_mutex_t *m = &sh->mutex;	/* locals: calls would reload globals */
	const long end = target;

	for (;;) {
		pthread_mutex_lock(m);
		if (*total >= end)
			break;
		*total += 1;
		*win += 1;
		pthread_mutex_unlock(m);
	}
	pthread_mutex_unlock(m);
}
