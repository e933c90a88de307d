/* Finding ipclab's companion files from the running binary. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ipclab/path.h"
#include "ipclab/proc.h"

int
ipc_exe_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n == -1) {
		ipc_failed_call = "readlink", ipc_failed_why = NULL;
		return -1;
	}
	if ((size_t)n >= len - 1) {
		errno = ENAMETOOLONG;
		ipc_failed_call = "readlink", ipc_failed_why = NULL;
		return -1;
	}
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) != NULL)
		*slash = '\0';
	return 0;
}

/* Tries DIR/NAME; on success leaves it in buf. */
static int
try(char *buf, size_t len, const char *dir, const char *sub, const char *name)
{
	int n = snprintf(buf, len, "%s%s%s/%s", dir, sub ? "/" : "", sub ? sub : "", name);

	return n > 0 && (size_t)n < len && access(buf, R_OK) == 0 ? 0 : -1;
}

static int
find(const char *rel, const char *full, const char *name, char *buf, size_t len)
{
	char dir[PATH_MAX];

	if (ipc_exe_dir(dir, sizeof(dir)) == 0 && try(buf, len, dir, rel, name) == 0)
		return 0;
	if (try(buf, len, full, NULL, name) == 0)
		return 0;
	errno = ENOENT;
	ipc_failed_call = "access", ipc_failed_why = NULL;
	return -1;
}

int
ipc_pkglib_path(const char *name, char *buf, size_t len)
{
	const char *env = getenv("IPCLAB_LIBDIR");

	if (env && *env) {
		if (try(buf, len, env, NULL, name) == 0)
			return 0;
		errno = ENOENT;
		ipc_failed_call = "access", ipc_failed_why = NULL;
		return -1;
	}
	return find(IPCLAB_REL_PKGLIB, IPCLAB_FULL_PKGLIB, name, buf, len);
}

int
ipc_manpage_path(const char *cmd, char *buf, size_t len)
{
	char page[64];

	if (cmd)
		snprintf(page, sizeof(page), "man1/ipclab-%s.1", cmd);
	else
		snprintf(page, sizeof(page), "man1/ipclab.1");
	return find(IPCLAB_REL_MAN, IPCLAB_FULL_MAN, page, buf, len);
}
