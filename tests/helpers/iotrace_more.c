/*
 * iotrace_more MODE FILE: stdio corners for tests/iotrace_shim.bats, each
 * compared with strace byte for byte.
 *  popen    a child's output read through popen, a command fed by popen "w"
 *  freopen  stdout reopened onto a file, then back onto the file it was
 *  tmpfile  bytes written to tmpfile, rewound and read back
 *  unbuf    FILE with setvbuf _IONBF and a fully buffered one of 100 bytes
 *  getline  getline and getdelim over FILE, mixed with fseek and ftell
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
do_popen(const char *file)
{
	char cmd[4096], buf[512];
	size_t n, total = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "cat %s", file);
	if ((p = popen(cmd, "r")) == NULL)
		err(1, "popen r");
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		total += n;
	if (pclose(p) != 0)
		errx(1, "pclose r");
	if ((p = popen("wc -c > popen.out", "w")) == NULL)
		err(1, "popen w");
	for (size_t i = 0; i < 1000; i++)
		fprintf(p, "line %zu\n", i);
	if (pclose(p) != 0)
		errx(1, "pclose w");
	printf("%zu\n", total);
	return 0;
}

static int
do_freopen(const char *file)
{
	FILE *f;
	char line[256];

	printf("before\n");
	fflush(stdout);
	if (freopen("fre.out", "w", stdout) == NULL)
		err(1, "freopen");
	if ((f = fopen(file, "r")) == NULL)
		err(1, "%s", file);
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
	if (freopen(file, "r", stdin) == NULL)
		err(1, "freopen stdin");
	return fgets(line, sizeof(line), stdin) == NULL;
}

static int
do_tmpfile(const char *file)
{
	FILE *t = tmpfile(), *f = fopen(file, "r");
	char buf[1000];
	size_t n, back = 0;

	if (t == NULL || f == NULL)
		err(1, "tmpfile or %s", file);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, t);
	rewind(t);
	while ((n = fread(buf, 1, 333, t)) > 0)
		back += n;
	printf("%zu\n", back);
	fclose(f);
	return fclose(t) != 0;
}

static int
do_unbuf(const char *file)
{
	FILE *u = fopen("unbuf.out", "w"), *s = fopen("small.out", "w"), *f = fopen(file, "r");
	int c;

	if (u == NULL || s == NULL || f == NULL)
		err(1, "fopen");
	setvbuf(u, NULL, _IONBF, 0);
	setvbuf(s, NULL, _IOFBF, 100);
	setvbuf(f, NULL, _IOFBF, 77);
	for (int i = 0; i < 5000 && (c = getc(f)) != EOF; i++) {
		putc(c, u);
		putc(c, s);
	}
	fprintf(u, "%s\n", "done");
	fclose(f);
	fclose(s);
	return fclose(u) != 0;
}

static int
do_getline(const char *file)
{
	FILE *f = fopen(file, "r");
	char *l = NULL;
	size_t cap = 0, lines = 0;
	long pos;

	if (f == NULL)
		err(1, "%s", file);
	while (getline(&l, &cap, f) > 0)
		if (++lines % 5000 == 0) {
			pos = ftell(f);
			fseek(f, pos / 2, SEEK_SET);
			fseek(f, pos, SEEK_SET);
		}
	rewind(f);
	while (getdelim(&l, &cap, '5', f) > 0)
		lines++;
	printf("%zu\n", lines);
	free(l);
	return fclose(f) != 0;
}

int
main(int argc, char **argv)
{
	static const struct { const char *name; int (*fn)(const char *); } modes[] = {
		{ "popen", do_popen }, { "freopen", do_freopen }, { "tmpfile", do_tmpfile },
		{ "unbuf", do_unbuf }, { "getline", do_getline },
	};

	if (argc != 3)
		errx(2, "usage: iotrace_more MODE FILE");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].fn(argv[2]);
	errx(2, "%s: unknown mode", argv[1]);
}
