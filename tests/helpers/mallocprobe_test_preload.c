/* Preloaded into ipclab mallocprobe by its tests, to make what timing or luck
 * would otherwise decide happen every time.
 *
 * With IPCLAB_TEST_CRASH=KIND, every probe child of that kind ("tcache",
 * "one"...) dies of SIGSEGV before it measures anything.
 *
 * With IPCLAB_TEST_HOLD=PATH, so that Ctrl+C lands in the middle of a run, the first process whose command line has
 * "--probe-child" creates PATH.held and then waits, at most 10 s, until PATH
 * is removed; with IPCLAB_TEST_HOLD_KIND=KIND too, the first probe child of
 * that kind.  It uses system calls only: the probe child's heap must stay
 * untouched.  Anything else runs as if the library were not there. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The probe's kind when this is a probe child ("ipclab mallocprobe
 * --probe-child KIND ..."), else NULL. */
static const char *
probe_kind(void)
{
	static char buf[4096];
	ssize_t n;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (strcmp(buf + i, "--probe-child") == 0)
			return i + (ssize_t)strlen(buf + i) + 1 < n ? buf + i + strlen(buf + i) + 1 : "";
	return NULL;
}

__attribute__((constructor)) static void
hold(void)
{
	static char held[4096];
	const char *path = getenv("IPCLAB_TEST_HOLD"), *crash = getenv("IPCLAB_TEST_CRASH");
	const char *kind = probe_kind(), *only = getenv("IPCLAB_TEST_HOLD_KIND");
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int fd;

	if (kind == NULL)
		return;
	if (crash && strcmp(crash, kind) == 0)
		raise(SIGSEGV);
	if (path == NULL || strlen(path) + 6 > sizeof(held) || (only && strcmp(only, kind) != 0))
		return;
	strcpy(held, path);
	strcat(held, ".held");
	if ((fd = open(held, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1)
		return;		/* not the first probe child */
	close(fd);
	for (int i = 0; i < 1000 && access(path, F_OK) == 0; i++)
		nanosleep(&ts, NULL);
}
