/* Paths and files a user names: their type, their length, whether they may be
 * replaced, opened without ever blocking on a FIFO or a device. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ipclab/map.h"

static int
refuse(const char *call, int e, const char *why)
{
	ipc_failed_call = call;
	ipc_failed_why = why;
	errno = e;
	return -1;
}

const char *
ipc_ftype(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	default: return "a file of unknown type";
	}
}

/* The reason for refusing a file of mode M, in a per-thread buffer. */
static const char *
not_regular(mode_t m)
{
	static __thread char why[64];

	snprintf(why, sizeof(why), "not a regular file (it is %s)", ipc_ftype(m));
	return why;
}

static int
type_error(mode_t m)
{
	int e = S_ISDIR(m) ? EISDIR : S_ISLNK(m) ? ELOOP : EINVAL;

	return refuse("open", e, not_regular(m));
}

int
ipc_open_regular(const char *path, int flags, struct stat *st)
{
	struct stat sb;
	int fd, e;

	if ((flags & O_NOFOLLOW ? lstat(path, &sb) : stat(path, &sb)) == 0 &&
	    !S_ISREG(sb.st_mode))
		return type_error(sb.st_mode);
	fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return refuse("open", errno, NULL);
	if (fstat(fd, &sb) == -1) {
		e = errno;
		close(fd);
		return refuse("fstat", e, NULL);
	}
	if (!S_ISREG(sb.st_mode)) {	/* replaced between the two looks */
		close(fd);
		return type_error(sb.st_mode);
	}
	if (!(flags & O_NONBLOCK) &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1) {
		e = errno;
		close(fd);
		return refuse("fcntl", e, NULL);
	}
	if (st)
		*st = sb;
	ipc_failed_why = NULL;
	return fd;
}

int
ipc_path_check(const char *path)
{
	const char *p = path;

	if (*path == '\0')
		return refuse("open", EINVAL, "the path is empty");
	if (strlen(path) >= PATH_MAX)
		return refuse("open", ENAMETOOLONG,
			      "the path is longer than PATH_MAX (4096 bytes) allows");
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n > NAME_MAX)
			return refuse("open", ENAMETOOLONG, "a component of the path is "
				      "longer than NAME_MAX (255 bytes) allows");
		p += n;
		p += strspn(p, "/");
	}
	ipc_failed_why = NULL;
	return 0;
}

int
ipc_may_replace(const struct stat *st)
{
	static __thread char why[96];
	struct passwd *pw;

	if (!S_ISREG(st->st_mode)) {
		snprintf(why, sizeof(why), "it is %s, and only regular files are replaced",
			 ipc_ftype(st->st_mode));
		return refuse("open", EPERM, why);
	}
	if (st->st_uid != geteuid()) {
		pw = getpwuid(st->st_uid);
		if (pw)
			snprintf(why, sizeof(why), "it belongs to user %s", pw->pw_name);
		else
			snprintf(why, sizeof(why), "it belongs to user ID %u",
				 (unsigned)st->st_uid);
		return refuse("open", EPERM, why);
	}
	ipc_failed_why = NULL;
	return 0;
}

int
ipc_shm_name_check(const char *name)
{
	const char *n = name[0] == '/' ? name + 1 : name;

	if (*n == '\0')
		return refuse("shm_open", EINVAL, "the name is empty");
	if (strchr(n, '/'))
		return refuse("shm_open", EINVAL, "the name has a '/' after its first character");
	if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
		return refuse("shm_open", EINVAL, "the name is '.' or '..'");
	if (strlen(n) > NAME_MAX)
		return refuse("shm_open", ENAMETOOLONG,
			      "the name is longer than NAME_MAX (255 bytes) allows");
	ipc_failed_why = NULL;
	return 0;
}
