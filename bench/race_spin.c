/* Reference for --sync spin: test and test-and-set. */
#include "race_harness.c"

static void setup(void) { (void)make_lockfile; }

static void
loop(volatile long *total, volatile long *win)
{
	int *spin = &sh->spin;	/* locals: the barriers would reload globals */
	const long end = target;

	for (;;) {
		while (__atomic_exchange_n(spin, 1, __ATOMIC_ACQUIRE))
			while (__atomic_load_n(spin, __ATOMIC_RELAXED))
				__builtin_ia32_pause();
		if (*total >= end)
			break;
		*total += 1;
		*win += 1;
		__atomic_store_n(spin, 0, __ATOMIC_RELEASE);
	}
	__atomic_store_n(spin, 0, __ATOMIC_RELEASE);
}
