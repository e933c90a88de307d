/* iotrace_threads [THREADS [CALLS]]: THREADS threads (8) each do CALLS
 * (100000) reads from one shared /dev/zero descriptor and as many writes to
 * one shared /dev/null descriptor, thread t moving t+1 bytes a call, so that
 * every counter is hit by all threads at once.  Prints what the kernel
 * returned, summed: "reads N read_bytes B writes N write_bytes B". */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int zero, null;
static long calls = 100000;

struct sum {
	long reads, rbytes, writes, wbytes;
};

static void *
run(void *arg)
{
	struct sum *s = arg;
	char buf[64] = { 0 };
	size_t len = (size_t)s->rbytes;	/* in: the size of a call */

	s->rbytes = 0;
	for (long i = 0; i < calls; i++) {
		ssize_t r = read(zero, buf, len), w = write(null, buf, len);

		if (r < 0 || w < 0)
			err(1, "read/write");
		s->reads++;
		s->rbytes += r;
		s->writes++;
		s->wbytes += w;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 8;
	pthread_t t[64];
	struct sum s[64] = { 0 }, tot = { 0 };

	if (argc > 2)
		calls = strtol(argv[2], NULL, 10);
	if (n < 1 || n > 64 || calls < 1)
		errx(2, "usage: iotrace_threads [THREADS [CALLS]]");
	if ((zero = open("/dev/zero", O_RDONLY)) == -1 ||
	    (null = open("/dev/null", O_WRONLY)) == -1)
		err(1, "open");
	for (int i = 0; i < n; i++) {
		s[i].rbytes = i + 1;
		if ((errno = pthread_create(&t[i], NULL, run, &s[i])) != 0)
			err(1, "pthread_create");
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		tot.reads += s[i].reads;
		tot.rbytes += s[i].rbytes;
		tot.writes += s[i].writes;
		tot.wbytes += s[i].wbytes;
	}
	printf("reads %ld read_bytes %ld writes %ld write_bytes %ld\n",
	       tot.reads, tot.rbytes, tot.writes, tot.wbytes);
	return 0;
}
