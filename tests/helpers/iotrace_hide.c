/* iotrace_hide FILE: tries every way a program can close or take over the
 * descriptors it did not open (close of 3..4095, close_range, closefrom,
 * dup2 onto each of them), then reads FILE and writes it to stdout.  Under
 * iotrace the report pipe must survive all of it. */
#include <err.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char buf[4096];
	ssize_t n;
	int fd;

	if (argc != 2)
		errx(2, "usage: iotrace_hide FILE");
	for (int i = 3; i < 4096; i++)
		close(i);
	close_range(3, ~0U, 0);
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	closefrom(3);
	for (int i = 3; i < 2048; i++)
		dup2(0, i);
	closefrom(3);
	if ((fd = open(argv[1], O_RDONLY)) == -1)
		err(1, "%s", argv[1]);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			err(1, "write");
	close(fd);
	return 0;
}
