/* Reference for --sync atomic: one locked fetch-and-add per increment. */
#include "race_harness.c"

static void setup(void) { (void)make_lockfile; }

static void
loop(volatile long *total, volatile long *win)
{
	while (__atomic_fetch_add((long *)total, 1, __ATOMIC_RELAXED) < target)
		*win += 1;
	__atomic_fetch_sub((long *)total, 1, __ATOMIC_RELAXED);
}
