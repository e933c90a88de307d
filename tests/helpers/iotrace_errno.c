/* iotrace_errno: calls each wrapped entry point once where it fails and
 * once where it succeeds with errno set beforehand to a marker, and prints
 * errno after each: the output must be the same with and without the shim
 * (a wrapper must leave errno as the real call left it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#define MARK 4242

static void
show(const char *what, long ret)
{
	printf("%-22s ret=%ld errno=%d\n", what, ret, errno);
	errno = MARK;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char path[4096], buf[256];
	struct iovec v = { buf, sizeof(buf) };
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "%s/errno.dat", dir);
	errno = MARK;
	show("open missing", open("/nonexistent/x", O_RDONLY));
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	show("open creat", fd >= 0);
	show("write", write(fd, "hello\n", 6));
	show("pwrite", pwrite(fd, "HELLO\n", 6, 6));
	show("pread", pread(fd, buf, 12, 0));
	show("readv", readv(fd, &v, 1));
	show("read bad fd", read(-1, buf, 1));
	show("write bad fd", write(-1, buf, 1));
	show("sendfile bad", sendfile(-1, fd, NULL, 1));
	show("dup2 bad", dup2(-1, 10));
	show("fcntl dupfd", fcntl(fd, F_DUPFD_CLOEXEC, 20) >= 20);
	show("close 20", close(20));
	show("close bad", close(-1));
	show("close fd", close(fd));
	show("fopen missing", fopen("/nonexistent/x", "r") != NULL);
	fp = fopen(path, "r");
	show("fopen", fp != NULL);
	show("fgets", fgets(buf, sizeof(buf), fp) != NULL);
	show("fread", (long)fread(buf, 1, sizeof(buf), fp));
	show("fgetc eof", fgetc(fp));
	show("fclose", fclose(fp));
	fp = fopen(path, "w");
	show("fputs", fputs("abc\n", fp));
	show("fprintf", fprintf(fp, "%d\n", 42));
	show("fflush", fflush(fp));
	show("fclose w", fclose(fp));
	show("unlink", unlink(path));
	return 0;
}
