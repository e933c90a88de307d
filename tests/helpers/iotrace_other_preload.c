/* iotrace_other_preload.so: another preloaded library that wraps read and write,
 * as a user's own shim would.  At exit it writes what it saw to the file
 * named by IOTRACE_PRELOAD_OUT:
 *	reads=R read_bytes=B writes=W write_bytes=B
 * libipclab_io.so must pass every call on to it, whichever of the two comes
 * first in LD_PRELOAD. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

static unsigned long reads, rbytes, writes, wbytes;

ssize_t
read(int fd, void *buf, size_t n)
{
	static ssize_t (*next)(int, void *, size_t);
	ssize_t r;

	if (!next)
		next = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	r = next(fd, buf, n);
	if (r >= 0) {
		reads++;
		rbytes += (unsigned long)r;
	}
	return r;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	static ssize_t (*next)(int, const void *, size_t);
	ssize_t r;

	if (!next)
		next = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	r = next(fd, buf, n);
	if (r >= 0) {
		writes++;
		wbytes += (unsigned long)r;
	}
	return r;
}

/* The report bypasses both libraries: the system calls themselves. */
__attribute__((destructor)) static void
report(void)
{
	const char *path = getenv("IOTRACE_PRELOAD_OUT");
	char line[128];
	int fd, n;

	if (!path)
		return;
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0600);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "reads=%lu read_bytes=%lu writes=%lu write_bytes=%lu\n",
		     reads, rbytes, writes, wbytes);
	if (syscall(SYS_write, fd, line, (size_t)n) != n)
		_exit(99);
	syscall(SYS_close, fd);
}
