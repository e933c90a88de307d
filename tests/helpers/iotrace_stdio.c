/* iotrace_stdio FILE: the stdio corners, each moving bytes that strace sees:
 * ungetc into a fresh buffer (glibc's backup area), fscanf, fseek and
 * rewind that refill the buffer, a read-write stream, getline, dprintf,
 * popen, a memory stream (no descriptor), error(), error_at_line(), warn(),
 * perror(), and stdout left for exit() to flush. */
#include <err.h>
#include <errno.h>
#include <error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
readers(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, word[64];
	size_t cap = 0;
	int n, c;

	if (fp == NULL)
		err(1, "%s", path);
	c = getc(fp);
	ungetc('Z', fp);	/* not the byte read: into the backup area */
	ungetc('Y', fp);
	while ((c = getc(fp)) != EOF && c != '\n')
		;
	if (fscanf(fp, "%d %63s", &n, word) != 2)
		errx(1, "fscanf");
	fseek(fp, 100000, SEEK_SET);
	getline(&line, &cap, fp);
	rewind(fp);
	getline(&line, &cap, fp);
	fseek(fp, -10, SEEK_END);
	while (getc(fp) != EOF)
		;
	free(line);
	fclose(fp);
}

static void
writers(const char *path)
{
	char tmp[4096], *mem = NULL, buf[256];
	size_t memlen;
	FILE *fp, *ms, *pp;

	snprintf(tmp, sizeof(tmp), "%s.rw", path);
	if ((fp = fopen(tmp, "w+")) == NULL)
		err(1, "%s", tmp);
	for (int i = 0; i < 3000; i++)
		fprintf(fp, "line %d\n", i);
	fseek(fp, 0, SEEK_SET);
	fgets(buf, sizeof(buf), fp);
	fseek(fp, 0, SEEK_END);
	fputs("tail\n", fp);
	fclose(fp);
	unlink(tmp);
	ms = open_memstream(&mem, &memlen);
	fprintf(ms, "in memory %d\n", 42);
	fclose(ms);
	free(mem);
	dprintf(1, "dprintf %s\n", "to fd 1");
	if ((pp = popen("echo from popen; head -c 5000 /dev/zero", "r")) == NULL)
		err(1, "popen");
	while (fread(tmp, 1, 1000, pp) > 0)
		;
	pclose(pp);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		errx(2, "usage: iotrace_stdio FILE");
	readers(argv[1]);
	writers(argv[1]);
	printf("buffered on stdout, flushed by exit\n");
	error(0, ENOENT, "error() with %s", "errnum");
	error_at_line(0, 0, "file.c", 42, "error_at_line %d", 1);
	errno = EACCES;
	warn("warn %d", 2);
	warnx("warnx");
	errno = EPIPE;
	perror("perror");
	for (int i = 0; i < 2000; i++)
		printf("%d\n", i);
	return 0;
}
