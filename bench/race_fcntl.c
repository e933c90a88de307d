/* Reference for --sync fcntl: a one-byte fcntl(2) record lock. */
#include "race_harness.c"

static void setup(void) { make_lockfile(); }

static void
loop(volatile long *total, volatile long *win)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1 };
	struct flock un = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_len = 1 };

	for (;;) {
		fcntl(lockfd, F_SETLKW, &lk);
		if (*total >= target)
			break;
		*total += 1;
		*win += 1;
		fcntl(lockfd, F_SETLK, &un);
	}
	fcntl(lockfd, F_SETLK, &un);
}
