/* iotrace_channel MODE FILE: takes every descriptor it did not open in one
 * way, then has cat read FILE to stdout, so that the reader's report must
 * come through iotrace's channel all the same.
 *   closefrom  posix_spawn of cat with posix_spawn_file_actions_addclosefrom_np(3)
 *   range      close_range(3, ~0U) through syscall(2), then exec of cat
 *   cloexec    FD_CLOEXEC on every descriptor (fcntl and FIOCLEX), then
 *              posix_spawn of cat (glibc's exec), then exec of cat
 *   raw        the kernel's dup2 (the instruction itself, no wrapper can see
 *              it) of FILE's copy over 3..2047, then writes "raw\n" to each
 *              descriptor that is FILE's copy: nothing else may land in FILE */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;

static long
kernel(long nr, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

static void
spawn(char **argv, int closefrom)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	if ((errno = posix_spawn_file_actions_init(&fa)) != 0 ||
	    (closefrom && (errno = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0) ||
	    (errno = posix_spawnp(&pid, "cat", &fa, NULL, argv, environ)) != 0)
		err(1, "posix_spawn");
	if (waitpid(pid, &st, 0) != pid || st != 0)
		errx(1, "cat failed");
}

static void
raw(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	if (fd == -1)
		err(1, "%s", path);
	for (int i = 3; i < 2048; i++)
		if (i != fd)
			kernel(SYS_dup2, fd, i, 0);
	if (write(1, "raw\n", 4) != 4)
		err(1, "write");
}

int
main(int argc, char **argv)
{
	char *cat[] = { "cat", argc > 2 ? argv[2] : "", NULL };

	if (argc != 3)
		errx(2, "usage: iotrace_channel closefrom|range|cloexec|raw FILE");
	if (strcmp(argv[1], "closefrom") == 0) {
		spawn(cat, 1);
		return 0;
	}
	if (strcmp(argv[1], "raw") == 0) {
		raw(argv[2]);
		return 0;
	}
	if (strcmp(argv[1], "range") == 0) {
		if (syscall(SYS_close_range, 3, ~0U, 0) == -1)
			err(1, "close_range");
	} else if (strcmp(argv[1], "cloexec") == 0) {
		for (int fd = 3; fd < 4096; fd++)
			if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 && errno != EBADF)
				err(1, "fcntl");
		for (int fd = 3; fd < 4096; fd++)
			ioctl(fd, FIOCLEX);
		spawn(cat, 0);	/* glibc's own exec: only the flag tells */
	} else {
		errx(2, "%s: unknown mode", argv[1]);
	}
	execvp("cat", cat);
	err(127, "cat");
}
