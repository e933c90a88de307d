/* Reference for --sync none: the exercise's loop. */
#include "race_harness.c"

static void setup(void) {}

static void
loop(volatile long *total, volatile long *win)
{
	long t;

	while ((t = *total) < target) {
		*total = t + 1;
		*win += 1;
	}
	(void)make_lockfile;
}
