/* Reference for --sync flock: flock(2) on a file each participant opened. */
#include "race_harness.c"

static void setup(void) { make_lockfile(); }

static void
loop(volatile long *total, volatile long *win)
{
	for (;;) {
		flock(lockfd, LOCK_EX);
		if (*total >= target)
			break;
		*total += 1;
		*win += 1;
		flock(lockfd, LOCK_UN);
	}
	flock(lockfd, LOCK_UN);
}
