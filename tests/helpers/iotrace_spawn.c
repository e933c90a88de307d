/* iotrace_spawn: starts children three ways, each writing N bytes into one
 * pipe the parent reads: posix_spawn of head -c, vfork + dup2 + close + execlp
 * of head -c, and fork + write (no exec).  The parent reads it all and writes
 * it to stdout.  A vfork child runs the shim's wrappers in the parent's
 * memory: it must neither report nor steal the parent's counts. */
#include <err.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

extern char **environ;

int
main(void)
{
	char *argv[] = { "head", "-c", "3000", "/dev/zero", NULL };
	posix_spawn_file_actions_t fa;
	char buf[4096];
	int p[2], st;
	pid_t a, b, c;
	ssize_t n;
	static long total;

	if (pipe(p) == -1)
		err(1, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	if ((errno = posix_spawnp(&a, "head", &fa, NULL, argv, environ)) != 0)
		err(1, "posix_spawnp");
	if ((b = vfork()) == -1)
		err(1, "vfork");
	if (b == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execlp("head", "head", "-c", "2000", "/dev/zero", (char *)NULL);
		_exit(127);
	}
	if ((c = fork()) == -1)
		err(1, "fork");
	if (c == 0) {
		memset(buf, 'x', 1000);
		close(p[0]);
		_exit(write(p[1], buf, 1000) == 1000 ? 0 : 1);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0) {
		total += n;
		if (write(1, buf, (size_t)n) != n)
			err(1, "write");
	}
	close(p[0]);
	waitpid(a, &st, 0);
	waitpid(b, &st, 0);
	waitpid(c, &st, 0);
	fprintf(stderr, "parent read %ld\n", total);
	return total == 6000 ? 0 : 1;
}
