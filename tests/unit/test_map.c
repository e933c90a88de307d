/* Unit tests for src/core/map.c: files and shared memory objects made or
 * opened safely for mapping, mmap with errors reported, and flags in
 * strace's words.  The truth: stat(2)/lstat(2) of what was made, pread(2) of
 * what a mapping wrote, /dev/shm, and strace's spelling of the flags. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ipclab/map.h"
#include "ipclab/proc.h"

static char dir[] = "/tmp/ipclab-unit-map-XXXXXX";

/* DIR/NAME in a static buffer (one at a time is enough here). */
static const char *
in_dir(const char *name)
{
	static char buf[2][PATH_MAX];
	static int n;

	n ^= 1;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, name);
	return buf[n];
}

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
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
assert_file_holds(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	buf[fread(buf, 1, sizeof(buf) - 1, fp)] = '\0';
	fclose(fp);
	assert_string_equal(buf, text);
}

static void
file_create_makes_0600_file_with_real_blocks(void **state)
{
	const char *p = in_dir("new");
	struct stat st;
	int fd;

	(void)state;
	fd = ipc_file_create(p, 100000);
	assert_true(fd >= 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 100000);
	assert_true(st.st_blocks > 0);
	assert_true((long long)st.st_blocks * 512 >= 100000);	/* not sparse */
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	unlink(p);
}

static void
file_create_refuses_an_existing_file(void **state)
{
	const char *p = in_dir("old");

	(void)state;
	write_file(p, "keep me");
	errno = 0;
	ipc_failed_call = NULL;
	assert_int_equal(ipc_file_create(p, 4096), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(ipc_failed_call, "open");
	assert_file_holds(p, "keep me");
	unlink(p);
}

static void
file_create_refuses_a_symlink_without_touching_its_target(void **state)
{
	const char *target = in_dir("target"), *link = in_dir("link");
	struct stat st;

	(void)state;
	write_file(target, "precious");
	assert_int_equal(symlink(target, link), 0);
	errno = 0;
	assert_int_equal(ipc_file_create(link, 4096), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(ipc_failed_call, "open");
	assert_file_holds(target, "precious");
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unlink(link);
	unlink(target);
}

static void
file_create_refuses_a_dangling_symlink(void **state)
{
	const char *target = in_dir("nowhere"), *link = in_dir("dangling");
	struct stat st;

	(void)state;
	assert_int_equal(symlink(target, link), 0);
	errno = 0;
	assert_int_equal(ipc_file_create(link, 4096), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(ipc_failed_call, "open");
	assert_int_equal(lstat(target, &st), -1);	/* not created through the link */
	assert_int_equal(errno, ENOENT);
	unlink(link);
}

/* In a child with its own mount namespace (nothing shows outside it): a
 * 4 KiB tmpfs, and a 1 MiB file in it.  Exit 77 when tmpfs cannot be mounted,
 * 0 when the create failed as documented, else the number of the check. */
static int
create_in_full_tmpfs(void)
{
	char p[PATH_MAX], full[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s", in_dir("full/big"));
	snprintf(full, sizeof(full), "%s", in_dir("full"));
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mkdir(full, 0700) == -1 ||
	    mount("ipclab-unit", full, "tmpfs", 0, "size=4k") == -1)
		return 77;
	errno = 0;
	fd = ipc_file_create(p, 1 << 20);
	if (fd != -1)
		return 1;
	if (errno != ENOSPC)
		return 2;
	if (ipc_failed_call == NULL || strcmp(ipc_failed_call, "posix_fallocate") != 0)
		return 3;
	if (access(p, F_OK) == 0 || errno != ENOENT)
		return 4;	/* left a file behind */
	return 0;
}

static void
file_create_in_a_full_fs_fails_enospc_and_leaves_nothing(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(create_in_full_tmpfs());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	rmdir(in_dir("full"));
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();		/* not root, or no mount namespaces here */
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
file_open_with_nofollow_refuses_a_symlink(void **state)
{
	const char *target = in_dir("t2"), *link = in_dir("l2");
	int fd;

	(void)state;
	write_file(target, "x");
	assert_int_equal(symlink(target, link), 0);
	errno = 0;
	assert_int_equal(ipc_file_open(link, false, true, NULL), -1);
	assert_int_equal(errno, ELOOP);
	assert_string_equal(ipc_failed_call, "open");
	fd = ipc_file_open(link, false, false, NULL);	/* followed when allowed */
	assert_true(fd >= 0);
	close(fd);
	unlink(link);
	unlink(target);
}

static void
file_open_refuses_a_directory(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(ipc_file_open(dir, false, true, NULL), -1);
	assert_int_equal(errno, EISDIR);
	assert_string_equal(ipc_failed_call, "open");
	errno = 0;
	assert_int_equal(ipc_file_open(dir, true, true, NULL), -1);
	assert_int_equal(errno, EISDIR);
}

static void
file_open_refuses_a_fifo_opened_for_writing(void **state)
{
	const char *p = in_dir("fifo-w");

	(void)state;
	assert_int_equal(mkfifo(p, 0600), 0);
	errno = 0;
	assert_int_equal(ipc_file_open(p, true, true, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(ipc_failed_call, "open");
	unlink(p);
}

/* Regression: open(2) of a FIFO read-only blocks until a writer appears; the
 * core once hung here.  The child runs it under alarm(3) so that the test
 * fails instead of hanging. */
static void
file_open_refuses_a_fifo_opened_read_only(void **state)
{
	const char *p = in_dir("fifo-r");
	pid_t pid;
	int st;

	(void)state;
	assert_int_equal(mkfifo(p, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(2);
		errno = 0;
		_exit(ipc_file_open(p, false, true, NULL) == -1 && errno == EINVAL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(p);
	if (WIFSIGNALED(st))
		fail_msg("ipc_file_open on a FIFO read-only blocked (killed by signal %d)",
			 WTERMSIG(st));
	assert_int_equal(st, 0);
}

static void
file_open_gives_access_mode_and_stat(void **state)
{
	const char *p = in_dir("plain");
	struct stat st, truth;
	int fd;

	(void)state;
	write_file(p, "12345");
	assert_int_equal(stat(p, &truth), 0);
	fd = ipc_file_open(p, false, true, &st);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(st.st_ino, truth.st_ino);
	assert_int_equal(st.st_size, 5);
	close(fd);
	fd = ipc_file_open(p, true, true, NULL);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	close(fd);
	unlink(p);
}

static void
file_open_missing_file_is_enoent(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(ipc_file_open(in_dir("absent"), false, true, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(ipc_failed_call, "open");
}

static void
file_reset_empties_and_resizes(void **state)
{
	const char *p = in_dir("reset");
	char buf[16], zero[16] = { 0 };
	struct stat st;
	int fd;

	(void)state;
	write_file(p, "old contents here");
	fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ipc_file_reset(fd, 8192), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 8192);
	assert_true((long long)st.st_blocks * 512 >= 8192);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
	assert_int_equal(ipc_file_reset(fd, 0), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	close(fd);
	unlink(p);
}

static void
shm_create_and_open_show_in_dev_shm(void **state)
{
	char name[64], path[80];
	struct stat st, truth;
	int fd, fd2;

	(void)state;
	snprintf(name, sizeof(name), "/ipclab-unit-%d", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	fd = ipc_shm_create(name, 12288);
	assert_true(fd >= 0);
	assert_int_equal(stat(path, &truth), 0);
	assert_int_equal(truth.st_size, 12288);
	assert_int_equal(truth.st_mode & 07777, 0600);
	errno = 0;
	assert_int_equal(ipc_shm_create(name, 4096), -1);	/* exclusive */
	assert_int_equal(errno, EEXIST);
	assert_string_equal(ipc_failed_call, "shm_open");
	fd2 = ipc_shm_open(name + 1, false, &st);		/* "name" works too */
	assert_true(fd2 >= 0);
	assert_int_equal(st.st_ino, truth.st_ino);
	assert_int_equal(st.st_size, 12288);
	assert_int_equal(fcntl(fd2, F_GETFL) & O_ACCMODE, O_RDONLY);
	close(fd2);
	close(fd);
	assert_int_equal(shm_unlink(name), 0);
	errno = 0;
	assert_int_equal(ipc_shm_open(name, true, NULL), -1);
	assert_int_equal(errno, ENOENT);
}

static void
map_shared_writes_reach_the_file(void **state)
{
	const char *p = in_dir("mapped");
	char buf[8] = "";
	char *m;
	int fd;

	(void)state;
	fd = ipc_file_create(p, 4096);
	assert_true(fd >= 0);
	m = ipc_map(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
	assert_non_null(m);
	memcpy(m + 100, "ipclab!", 8);
	assert_int_equal(pread(fd, buf, 8, 100), 8);
	assert_string_equal(buf, "ipclab!");
	assert_int_equal(ipc_unmap(m, 4096), 0);
	close(fd);
	unlink(p);
}

static void
map_anonymous_when_fd_is_minus_one(void **state)
{
	char *m;

	(void)state;
	m = ipc_map(-1, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	assert_non_null(m);
	assert_int_equal(m[0] | m[8191], 0);
	m[8191] = 1;
	assert_int_equal(ipc_unmap(m, 8192), 0);
}

static void
map_bad_fd_is_null_with_mmap_named(void **state)
{
	(void)state;
	errno = 0;
	ipc_failed_call = NULL;
	assert_null(ipc_map(1000, 4096, PROT_READ, MAP_SHARED));
	assert_int_equal(errno, EBADF);
	assert_string_equal(ipc_failed_call, "mmap");
}

static void
unmap_failure_names_munmap(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(ipc_unmap((void *)1, 4096), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(ipc_failed_call, "munmap");
}

static void
mapflags_str_uses_straces_words(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(ipc_mapflags_str(MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, buf,
					     sizeof(buf)), "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
	assert_string_equal(ipc_mapflags_str(MAP_PRIVATE | MAP_ANONYMOUS, buf, sizeof(buf)),
			    "MAP_PRIVATE|MAP_ANONYMOUS");
	assert_string_equal(ipc_mapflags_str(MAP_SHARED, buf, sizeof(buf)), "MAP_SHARED");
	assert_string_equal(ipc_mapflags_str(MAP_SHARED_VALIDATE, buf, sizeof(buf)),
			    "MAP_SHARED_VALIDATE");
	assert_string_equal(ipc_mapflags_str(MAP_PRIVATE | MAP_STACK | MAP_NORESERVE, buf,
					     sizeof(buf)), "MAP_PRIVATE|MAP_NORESERVE|MAP_STACK");
}

static void
mapflags_str_shows_unknown_bits_in_hex(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(ipc_mapflags_str(MAP_PRIVATE | 0x40000000, buf, sizeof(buf)),
			    "MAP_PRIVATE|0x40000000");
}

static void
prot_str_uses_straces_words(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(ipc_prot_str(PROT_READ | PROT_EXEC, buf, sizeof(buf)),
			    "PROT_READ|PROT_EXEC");
	assert_string_equal(ipc_prot_str(PROT_READ | PROT_WRITE, buf, sizeof(buf)),
			    "PROT_READ|PROT_WRITE");
	assert_string_equal(ipc_prot_str(PROT_NONE, buf, sizeof(buf)), "PROT_NONE");
	assert_string_equal(ipc_prot_str(PROT_READ | 0x10, buf, sizeof(buf)), "PROT_READ|0x10");
}

/* A short buffer gets a cut, terminated string and nothing past its end. */
static void
flag_strings_stay_inside_a_short_buffer(void **state)
{
	char buf[16];

	(void)state;
	memset(buf, '@', sizeof(buf));
	ipc_prot_str(PROT_READ | PROT_WRITE | PROT_EXEC, buf, 8);
	assert_string_equal(buf, "PROT_RE");
	for (size_t i = 8; i < sizeof(buf); i++)
		assert_int_equal(buf[i], '@');
	memset(buf, '@', sizeof(buf));
	ipc_mapflags_str(MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | 0x40000000, buf, 8);
	assert_string_equal(buf, "MAP_PRI");
	for (size_t i = 8; i < sizeof(buf); i++)
		assert_int_equal(buf[i], '@');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_create_makes_0600_file_with_real_blocks),
		cmocka_unit_test(file_create_refuses_an_existing_file),
		cmocka_unit_test(file_create_refuses_a_symlink_without_touching_its_target),
		cmocka_unit_test(file_create_refuses_a_dangling_symlink),
		cmocka_unit_test(file_create_in_a_full_fs_fails_enospc_and_leaves_nothing),
		cmocka_unit_test(file_open_with_nofollow_refuses_a_symlink),
		cmocka_unit_test(file_open_refuses_a_directory),
		cmocka_unit_test(file_open_refuses_a_fifo_opened_for_writing),
		cmocka_unit_test(file_open_refuses_a_fifo_opened_read_only),
		cmocka_unit_test(file_open_gives_access_mode_and_stat),
		cmocka_unit_test(file_open_missing_file_is_enoent),
		cmocka_unit_test(file_reset_empties_and_resizes),
		cmocka_unit_test(shm_create_and_open_show_in_dev_shm),
		cmocka_unit_test(map_shared_writes_reach_the_file),
		cmocka_unit_test(map_anonymous_when_fd_is_minus_one),
		cmocka_unit_test(map_bad_fd_is_null_with_mmap_named),
		cmocka_unit_test(unmap_failure_names_munmap),
		cmocka_unit_test(mapflags_str_uses_straces_words),
		cmocka_unit_test(mapflags_str_shows_unknown_bits_in_hex),
		cmocka_unit_test(prot_str_uses_straces_words),
		cmocka_unit_test(flag_strings_stay_inside_a_short_buffer),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
