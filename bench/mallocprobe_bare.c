/* The reference for bench/mallocprobe: the same bisection as
 * `ipclab mallocprobe -S switch`, a fork and exec of itself per probe, but
 * with no tracing ("bare") or with each probe under strace ("strace").
 * A probe's exit status says whether malloc(N) was mmapped (the tag's 0x2). */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static void *volatile keep;

static int
probe(size_t n, int drained)
{
	uint64_t *p;

	if (drained) {
		keep = malloc(16);
		size_t top = mallinfo2().keepcost;
		if (top > 64)
			keep = malloc(top - 64);
	}
	p = malloc(n);
	keep = p;
	return p && (p[-1] & 2) ? 1 : 0;
}

static int
mmapped(const char *self, const char *mode, size_t n, int drained)
{
	char num[32];
	int st;
	pid_t pid;

	snprintf(num, sizeof(num), "%zu", n);
	if ((pid = fork()) == -1)
		exit(2);
	if (pid == 0) {
		if (strcmp(mode, "strace") == 0)
			execlp("strace", "strace", "-qq", "-o", "/dev/null", "-e", "trace=mmap,brk",
			       self, "--probe", num, drained ? "d" : "f", (char *)NULL);
		else
			execl(self, self, "--probe", num, drained ? "d" : "f", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) > 1)
		exit(2);
	return WEXITSTATUS(st);
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--probe") == 0)
		return probe(strtoul(argv[2], NULL, 10), argv[3][0] == 'd');
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (argc != 2 || n <= 0)
		return 2;
	self[n] = '\0';	/* the real path: under strace, /proc/self/exe is strace */
	for (int drained = 0; drained < 2; drained++) {
		size_t lo = 0, hi = 64UL << 20;

		if (!mmapped(self, argv[1], hi, drained))
			return 1;
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (mmapped(self, argv[1], mid, drained))
				hi = mid;
			else
				lo = mid;
		}
		printf("%s %zu\n", drained ? "drained" : "fresh", hi);
	}
	return 0;
}
