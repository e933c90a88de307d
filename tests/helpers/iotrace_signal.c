/* iotrace_signal [SECONDS]: the main loop reads /dev/zero and writes
 * /dev/null through stdio and read/write, while a 100 us interval timer's
 * SIGALRM handler opens, reads, writes and closes descriptors of its own
 * (async-signal-safe calls only).  Wrappers reached from the handler must not
 * deadlock or lose a byte.  Prints the bytes moved: "main R W handler R W". */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

static volatile long hread, hwrite, hcalls;

static void
on_alarm(int sig)
{
	int e = errno, fd = open("/dev/zero", O_RDONLY);
	char b[7];

	(void)sig;
	if (fd >= 0) {
		ssize_t r = read(fd, b, sizeof(b));

		hread += r > 0 ? r : 0;
		close(fd);
	}
	fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		ssize_t w = write(fd, b, 5);

		hwrite += w > 0 ? w : 0;
		close(fd);
	}
	hcalls++;
	errno = e;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	struct itimerval it = { { 0, 100 }, { 0, 100 } };
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	long mread = 0, mwrite = 0;
	struct timespec t0, t;
	FILE *in, *out;
	char buf[100];

	if ((in = fopen("/dev/zero", "r")) == NULL || (out = fopen("/dev/null", "w")) == NULL)
		err(1, "fopen");
	setvbuf(in, NULL, _IONBF, 0);
	setvbuf(out, NULL, _IONBF, 0);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		mread += (long)fread(buf, 1, sizeof(buf), in);
		mwrite += (long)fwrite(buf, 1, sizeof(buf), out);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	fclose(in);
	fclose(out);
	printf("main %ld %ld handler %ld %ld calls %ld\n", mread, mwrite, hread, hwrite, hcalls);
	return hcalls > 0 ? 0 : 3;
}
