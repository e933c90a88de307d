/* Unit tests for src/core/path.c: the binary's directory and the companion
 * files found from it.  The truth: readlink(2) of /proc/self/exe, and
 * access(2) of the places a file could be. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config.h"
#include "ipclab/path.h"
#include "ipclab/proc.h"

static char dir[] = "/tmp/ipclab-unit-path-XXXXXX";

static int
make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
remove_dir(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	unsetenv("IPCLAB_LIBDIR");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
exe_dir_is_dirname_of_proc_self_exe(void **state)
{
	char exe[PATH_MAX], got[PATH_MAX];
	ssize_t n;

	(void)state;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(ipc_exe_dir(got, sizeof(got)), 0);
	assert_string_equal(got, dirname(exe));
	assert_true(strstr(got, "/tests/unit") != NULL);	/* where CMake puts us */
}

static void
exe_dir_too_small_buffer_is_enametoolong(void **state)
{
	char small[4];

	(void)state;
	errno = 0;
	assert_int_equal(ipc_exe_dir(small, sizeof(small)), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void
pkglib_path_finds_a_file_in_ipclab_libdir(void **state)
{
	char file[PATH_MAX], got[PATH_MAX];
	FILE *fp;

	(void)state;
	snprintf(file, sizeof(file), "%s/libipclab_unit.so", dir);
	fp = fopen(file, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(setenv("IPCLAB_LIBDIR", dir, 1), 0);
	assert_int_equal(ipc_pkglib_path("libipclab_unit.so", got, sizeof(got)), 0);
	assert_string_equal(got, file);
	unlink(file);
	unsetenv("IPCLAB_LIBDIR");
}

/* Makes every missing directory of PATH, remembering them in made[] (deepest
 * last).  Returns how many it made. */
static int
make_parents(const char *path, char made[][PATH_MAX], int max)
{
	char buf[PATH_MAX];
	int n = 0;

	if (strlen(path) >= sizeof(buf))
		return 0;
	memcpy(buf, path, strlen(path) + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == 0 && n < max)
			memcpy(made[n++], buf, strlen(buf) + 1);
		*p = '/';
	}
	if (mkdir(buf, 0755) == 0 && n < max)
		snprintf(made[n++], PATH_MAX, "%s", buf);
	return n;
}

/* IPCLAB_LIBDIR is the only place looked at when set: a file planted where
 * the search looks without it (beside the binary, in the build tree's
 * relative place, made here and removed after) is then not found. */
static void
pkglib_path_with_ipclab_libdir_does_not_fall_back(void **state)
{
	char exe[PATH_MAX], reldir[PATH_MAX + 64], planted[2 * PATH_MAX], got[PATH_MAX];
	char made[8][PATH_MAX];
	int nmade, r1, r2, e;
	FILE *fp;

	(void)state;
	assert_int_equal(ipc_exe_dir(exe, sizeof(exe)), 0);
	snprintf(reldir, sizeof(reldir), "%s/%s", exe, IPCLAB_REL_PKGLIB);
	nmade = make_parents(reldir, made, 8);
	snprintf(planted, sizeof(planted), "%s/libipclab_unit_elsewhere.so", reldir);
	fp = fopen(planted, "w");
	assert_non_null(fp);
	fclose(fp);
	unsetenv("IPCLAB_LIBDIR");
	r1 = ipc_pkglib_path("libipclab_unit_elsewhere.so", got, sizeof(got));
	assert_int_equal(setenv("IPCLAB_LIBDIR", dir, 1), 0);
	errno = 0;
	r2 = ipc_pkglib_path("libipclab_unit_elsewhere.so", got, sizeof(got));
	e = errno;
	unsetenv("IPCLAB_LIBDIR");
	unlink(planted);
	while (nmade > 0)
		rmdir(made[--nmade]);
	assert_int_equal(r1, 0);	/* found there without the variable */
	assert_int_equal(r2, -1);	/* not with it */
	assert_int_equal(e, ENOENT);
}

static void
pkglib_path_missing_file_is_enoent(void **state)
{
	char got[PATH_MAX];

	(void)state;
	assert_int_equal(setenv("IPCLAB_LIBDIR", dir, 1), 0);
	errno = 0;
	assert_int_equal(ipc_pkglib_path("libipclab_absent.so", got, sizeof(got)), -1);
	assert_int_equal(errno, ENOENT);
	unsetenv("IPCLAB_LIBDIR");
	errno = 0;
	assert_int_equal(ipc_pkglib_path("libipclab_absent_too.so", got, sizeof(got)), -1);
	assert_int_equal(errno, ENOENT);
}

/* The unit test binary is not beside a share/man tree; an installed ipclab
 * may have put one in the configured place.  Whatever the function says must
 * match what is on disk. */
static void
manpage_path_finds_only_what_exists(void **state)
{
	char exe[PATH_MAX], rel[PATH_MAX + 64], full[PATH_MAX], got[PATH_MAX];
	int r;

	(void)state;
	assert_int_equal(ipc_exe_dir(exe, sizeof(exe)), 0);
	snprintf(rel, sizeof(rel), "%s/%s/man1/ipclab.1", exe, IPCLAB_REL_MAN);
	snprintf(full, sizeof(full), "%s/man1/ipclab.1", IPCLAB_FULL_MAN);
	errno = 0;
	r = ipc_manpage_path(NULL, got, sizeof(got));
	if (access(rel, R_OK) == 0) {
		assert_int_equal(r, 0);
		assert_string_equal(got, rel);
	} else if (access(full, R_OK) == 0) {
		assert_int_equal(r, 0);
		assert_string_equal(got, full);
	} else {
		assert_int_equal(r, -1);
		assert_int_equal(errno, ENOENT);
	}
}

static void
manpage_path_of_unknown_command_is_enoent(void **state)
{
	char got[PATH_MAX];

	(void)state;
	errno = 0;
	assert_int_equal(ipc_manpage_path("nosuchcommandzz", got, sizeof(got)), -1);
	assert_int_equal(errno, ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exe_dir_is_dirname_of_proc_self_exe),
		cmocka_unit_test(exe_dir_too_small_buffer_is_enametoolong),
		cmocka_unit_test(pkglib_path_finds_a_file_in_ipclab_libdir),
		cmocka_unit_test(pkglib_path_with_ipclab_libdir_does_not_fall_back),
		cmocka_unit_test(pkglib_path_missing_file_is_enoent),
		cmocka_unit_test(manpage_path_finds_only_what_exists),
		cmocka_unit_test(manpage_path_of_unknown_command_is_enoent),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
