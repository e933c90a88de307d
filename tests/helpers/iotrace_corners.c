/* iotrace_corners MODE [FILE]: one stdio corner per mode, each moving bytes
 * that strace sees and that a snapshot of the FILE's buffer pointers alone
 * gets wrong.  Prints a line that an untraced run prints the same.
 *   full     fwrite, fputs and fprintf to /dev/full, then fclose: nothing
 *            reaches the kernel
 *   stdout   printf 100 KB to stdout (the caller closes it or points it at
 *            /dev/full or a pipe whose reader left, SIGPIPE ignored)
 *   bfd      ftell + fseek + fread at block-aligned and random offsets of
 *            FILE, as binutils' bfd does, and a seek to the very end
 *   unget    ungetc then fseek, several times
 *   scanf    scanf, fscanf, vfscanf of numbers from stdin (a pipe)
 *   prompt   stdin and stdout line-buffered: a prompt without newline, then
 *            a read that flushes it
 *   words    getw and putw through a file
 *   abort    reads FILE through stdio, writes part of it to stdout unflushed
 *            and through write(2), then abort(): dies of SIGABRT */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
full(void)
{
	FILE *fp = fopen("/dev/full", "w");
	char buf[10000];

	if (fp == NULL)
		err(1, "/dev/full");
	memset(buf, 'f', sizeof(buf));
	for (int i = 0; i < 30; i++)
		fwrite(buf, 1, sizeof(buf), fp);
	fputs("more\n", fp);
	fprintf(fp, "%d\n", 42);
	printf("fclose %d\n", fclose(fp));
}

static void
to_stdout(void)
{
	char buf[1000];

	signal(SIGPIPE, SIG_IGN);
	memset(buf, 's', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	for (int i = 0; i < 100; i++)
		printf("%s\n", buf);
	fflush(stdout);	/* it may fail or not: when the reader left is a race */
}

static void
bfd(const char *path)
{
	FILE *fp = fopen(path, "r");
	char buf[10000];
	long size, sum = 0, offs[] = { 0, 4096, 4096, 8192, 100, 4096 * 3, 7, 50000,
				       4096 * 10, 4096 * 10 + 5, 0, 33333 };

	if (fp == NULL)
		err(1, "%s", path);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		long want = (long)(i % 3 == 0 ? 4096 : i % 3 == 1 ? 100 : 9000);

		if (offs[i] >= size)
			continue;
		fseek(fp, offs[i], SEEK_SET);
		sum += (long)fread(buf, 1, (size_t)want, fp);
		sum += ftell(fp);
		fseek(fp, ftell(fp), SEEK_SET);	/* bfd's seek to where it is */
		sum += (long)fread(buf, 1, 10, fp);
	}
	srandom(7);
	for (int i = 0; i < 200; i++) {
		fseek(fp, random() % size, SEEK_SET);
		sum += (long)fread(buf, 1, (size_t)(random() % 5000), fp);
	}
	fseek(fp, -(size % 4096 ? size % 4096 : 100), SEEK_END);
	sum += (long)fread(buf, 1, 10, fp);
	fseek(fp, 0, SEEK_END);	/* the last block is in the buffer */
	sum += (long)fread(buf, 1, 10, fp);
	fclose(fp);
	printf("bfd %ld\n", sum);
}

static void
unget(const char *path)
{
	FILE *fp = fopen(path, "r");
	long sum = 0;

	if (fp == NULL)
		err(1, "%s", path);
	for (int i = 0; i < 20; i++) {
		sum += getc(fp);
		ungetc('A' + i, fp);	/* not the byte read: the backup area */
		ungetc('a' + i, fp);
		fseek(fp, i * 10, SEEK_SET);
		sum += getc(fp);
		ungetc('x', fp);
		fseek(fp, 1, SEEK_CUR);
		sum += getc(fp);
	}
	fclose(fp);
	printf("unget %ld\n", sum);
}

static int
vscan(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfscanf(fp, fmt, ap);
	va_end(ap);
	return r;
}

static int
vscan_stdin(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vscanf(fmt, ap);
	va_end(ap);
	return r;
}

static void
scan(void)
{
	long sum = 0, v;
	int n = 0;
	char word[100];

	while (scanf("%ld", &v) == 1 && ++n < 1000)
		sum += v;
	while (fscanf(stdin, "%ld", &v) == 1 && ++n < 2000)
		sum += v;
	while (vscan(stdin, "%ld", &v) == 1 && ++n < 3000)
		sum += v;
	while (vscan_stdin("%99s", word) == 1)
		sum += (long)strlen(word);
	printf("scanf %d %ld\n", n, sum);
}

static void
prompt(void)
{
	char line[200];
	int n = 0;

	setvbuf(stdin, NULL, _IOLBF, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		printf("line %d? ", n);	/* no newline: waits in the buffer */
		if (fgets(line, sizeof(line), stdin) == NULL)
			break;
		n++;
	}
	printf("\nprompt %d\n", n);
}

static void
words(const char *path)
{
	FILE *fp = fopen(path, "w+");
	long sum = 0;
	int w;

	if (fp == NULL)
		err(1, "%s", path);
	for (int i = 0; i < 5000; i++)
		putw(i * 7, fp);
	rewind(fp);
	while ((w = getw(fp)) != EOF || !feof(fp))
		sum += w;
	fclose(fp);
	printf("words %ld\n", sum);
}

static void
die(const char *path)
{
	FILE *fp = fopen(path, "r");
	char buf[5000];
	size_t n;

	if (fp == NULL)
		err(1, "%s", path);
	n = fread(buf, 1, sizeof(buf), fp);
	fwrite(buf, 1, n, stdout);	/* lost: abort does not flush */
	if (write(1, buf, 100) != 100)
		err(1, "write");
	abort();
}

int
main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	const char *f = argc > 2 ? argv[2] : "";

	if (strcmp(m, "full") == 0)
		full();
	else if (strcmp(m, "stdout") == 0)
		to_stdout();
	else if (strcmp(m, "bfd") == 0)
		bfd(f);
	else if (strcmp(m, "unget") == 0)
		unget(f);
	else if (strcmp(m, "scanf") == 0)
		scan();
	else if (strcmp(m, "prompt") == 0)
		prompt();
	else if (strcmp(m, "words") == 0)
		words(f);
	else if (strcmp(m, "abort") == 0)
		die(f);
	else
		errx(2, "usage: iotrace_corners full|stdout|bfd|unget|scanf|prompt|words|abort [FILE]");
	return 0;
}
