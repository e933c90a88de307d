/* iotrace_mix: stdio calls mixed in one program as real ones mix them: an
 * append stream read back after seeks, a read-write stream written in the
 * middle and read on, ungetc, an unbuffered stdout, tmpfile, popen both
 * ways, fdopen of a copy of stdin, and freopen of stdout.  Reads data.txt
 * (it writes 4 bytes into it) and stdin; writes app.txt, wc.out, re.out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int
main(void)
{
	char buf[20000]; long sum = 0; int c;
	FILE *a = fopen("app.txt", "a+");
	for (int i = 0; i < 3000; i++) fprintf(a, "%d\n", i);
	fseek(a, 100, SEEK_SET); sum += fread(buf, 1, 5000, a); sum += ftell(a);
	fputs("tail\n", a); fseek(a, 0, SEEK_SET); sum += fread(buf, 1, 100, a);
	fclose(a);
	FILE *r = fopen("data.txt", "r+");
	sum += fread(buf, 1, 7000, r); fseek(r, 0, SEEK_CUR); fwrite("XXXX", 1, 4, r);
	fseek(r, 0, SEEK_CUR); sum += fread(buf, 1, 9000, r); ungetc('q', r); c = getc(r); sum += c;
	fseek(r, -5000, SEEK_END); fwrite(buf, 1, 3000, r); rewind(r); sum += fread(buf, 1, 10, r);
	fclose(r);
	setvbuf(stdout, NULL, _IONBF, 0); printf("unbuffered %d\n", 1); fputs("x\n", stdout);
	FILE *t = tmpfile(); fwrite(buf, 1, 20000, t); rewind(t); sum += fread(buf, 1, 20000, t); fclose(t);
	FILE *p = popen("cat data.txt", "r"); while (fgets(buf, 100, p)) sum++; pclose(p);
	p = popen("wc -c > wc.out", "w"); for (int i = 0; i < 10000; i++) fputc('a', p); pclose(p);
	FILE *d = fdopen(dup(0), "r"); while ((c = getc(d)) != EOF) sum += c; fclose(d);
	freopen("re.out", "w", stdout); printf("reopened %ld\n", sum);
	return 0;
}
