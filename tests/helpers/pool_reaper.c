/* pool_reaper COMMAND [ARG...]: runs COMMAND as a child subreaper, so that
 * the processes it leaves behind (workers orphaned by a killed pool master)
 * are reparented here and reaped, not left as zombies of an init that may
 * not reap.  Exits with COMMAND's status once no child is left. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int st, code = 125;
	pid_t pid, w;

	if (argc < 2) {
		fprintf(stderr, "usage: pool_reaper COMMAND [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		perror("pool_reaper: prctl");
		return 125;
	}
	if ((pid = fork()) == -1) {
		perror("pool_reaper: fork");
		return 125;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	while ((w = wait(&st)) != -1 || errno == EINTR)
		if (w == pid)
			code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return code;
}
