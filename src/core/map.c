/* Files and shared memory objects made or opened safely for mapping. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ipclab/map.h"
#include "ipclab/proc.h"

static int
failed(const char *call)
{
	ipc_failed_call = call;
	ipc_failed_why = NULL;
	return -1;
}

int
ipc_file_reset(int fd, off_t size)
{
	int e;

	if (ftruncate(fd, 0) == -1)
		return failed("ftruncate");
	if (size == 0)
		return 0;
	/* posix_fallocate returns the error instead of setting errno; a file
	 * system without it falls back to ftruncate's sparse file */
	e = posix_fallocate(fd, 0, size);
	if (e == 0)
		return 0;
	if (e != EOPNOTSUPP && e != EINVAL) {
		errno = e;
		return failed("posix_fallocate");
	}
	if (ftruncate(fd, size) == -1)
		return failed("ftruncate");
	return 0;
}

/* Gives a new object its size, or removes it: the caller made it, so a
 * failure leaves nothing behind. */
static int
give_size(int fd, off_t size, const char *path, int (*remove)(const char *))
{
	int e;

	if (ipc_file_reset(fd, size) == 0)
		return fd;
	e = errno;
	close(fd);
	remove(path);
	errno = e;
	return -1;
}

int
ipc_file_create(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd == -1)
		return failed("open");
	return give_size(fd, size, path, unlink);
}

int
ipc_file_open(const char *path, bool writable, bool nofollow, struct stat *st)
{
	return ipc_open_regular(path, (writable ? O_RDWR : O_RDONLY) |
				(nofollow ? O_NOFOLLOW : 0), st);
}

int
ipc_shm_create(const char *name, off_t size)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);

	if (fd == -1)
		return failed("shm_open");
	return give_size(fd, size, name, shm_unlink);
}

int
ipc_shm_open(const char *name, bool writable, struct stat *st)
{
	int fd = shm_open(name, writable ? O_RDWR : O_RDONLY, 0), e;
	struct stat sb;

	if (fd == -1)
		return failed("shm_open");
	if (fstat(fd, &sb) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return failed("fstat");
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		failed("shm_open");
		ipc_failed_why = "not a regular file";
		errno = EINVAL;
		return -1;
	}
	if (st)
		*st = sb;
	return fd;
}

void *
ipc_map(int fd, size_t len, int prot, int flags)
{
	void *p;

	if (fd == -1)
		flags |= MAP_ANONYMOUS;
	p = mmap(NULL, len, prot, flags, fd, 0);
	if (p == MAP_FAILED) {
		failed("mmap");
		return NULL;
	}
	return p;
}

int
ipc_unmap(void *addr, size_t len)
{
	if (munmap(addr, len) == -1)
		return failed("munmap");
	return 0;
}

struct flagname {
	int bit;
	const char *name;
};

static char *
join_flags(int v, const struct flagname *t, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (t[i].bit == 0 || (v & t[i].bit) != t[i].bit)
			continue;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
					 "%s%s", used ? "|" : "", t[i].name);
		v &= ~t[i].bit;
	}
	if (v)
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
					 "%s%#x", used ? "|" : "", (unsigned)v);
	return buf;
}

char *
ipc_mapflags_str(int flags, char *buf, size_t len)
{
	static const struct flagname t[] = {
		{ MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE" },
		{ MAP_SHARED, "MAP_SHARED" }, { MAP_PRIVATE, "MAP_PRIVATE" },
		{ MAP_FIXED, "MAP_FIXED" }, { MAP_ANONYMOUS, "MAP_ANONYMOUS" },
		{ MAP_DENYWRITE, "MAP_DENYWRITE" }, { MAP_EXECUTABLE, "MAP_EXECUTABLE" },
		{ MAP_NORESERVE, "MAP_NORESERVE" }, { MAP_POPULATE, "MAP_POPULATE" },
		{ MAP_GROWSDOWN, "MAP_GROWSDOWN" }, { MAP_STACK, "MAP_STACK" },
		{ MAP_HUGETLB, "MAP_HUGETLB" }, { MAP_LOCKED, "MAP_LOCKED" },
		{ MAP_NONBLOCK, "MAP_NONBLOCK" }, { MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" },
#ifdef MAP_32BIT
		{ MAP_32BIT, "MAP_32BIT" },
#endif
	};

	if (flags == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	return join_flags(flags, t, sizeof(t) / sizeof(t[0]), buf, len);
}

char *
ipc_prot_str(int prot, char *buf, size_t len)
{
	static const struct flagname t[] = {
		{ PROT_READ, "PROT_READ" }, { PROT_WRITE, "PROT_WRITE" },
		{ PROT_EXEC, "PROT_EXEC" }, { PROT_GROWSDOWN, "PROT_GROWSDOWN" },
		{ PROT_GROWSUP, "PROT_GROWSUP" },
	};

	if (prot == PROT_NONE) {
		snprintf(buf, len, "PROT_NONE");
		return buf;
	}
	return join_flags(prot, t, sizeof(t) / sizeof(t[0]), buf, len);
}
