/* Unit tests for src/core/ldso.c: which file a library name is, as the
 * dynamic loader says.  The truth: the loader's trace format as ldd(1) prints
 * it, the libc this test itself runs on (dl_iterate_phdr), and files made
 * here (an empty directory, a FIFO) put on LD_LIBRARY_PATH. */
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "ipclab/ldso.h"
#include "ipclab/num.h"

static const char trace[] =
	"\tlinux-vdso.so.1 (0x00007ffd1c5f2000)\n"
	"\tlibc.so.6.bak => /opt/x/libc.so.6.bak (0x00007f0000001000)\n"
	"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f6c4a2c6000)\n"
	"\tlibbroken.so => /lib/libbroken.so\n"
	"\tlibgone.so => not found\n"
	"\t/lib64/ld-linux-x86-64.so.2 (0x00007f6c4a836000)\n";

static int
find(const char *name, char *path, size_t len)
{
	return ipc_ldso_trace_find(trace, sizeof(trace) - 1, name, path, len);
}

static void
trace_names_the_file_of_each_name(void **state)
{
	char path[PATH_MAX];

	(void)state;
	assert_int_equal(find("libc.so.6", path, sizeof(path)), 1);
	assert_string_equal(path, "/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(find("libc.so.6.bak", path, sizeof(path)), 1);
	assert_string_equal(path, "/opt/x/libc.so.6.bak");
	/* the loader itself is printed by path, without "NAME =>" */
	assert_int_equal(find("ld-linux-x86-64.so.2", path, sizeof(path)), 1);
	assert_string_equal(path, "/lib64/ld-linux-x86-64.so.2");
}

static void
trace_refuses_prefixes_virtual_objects_and_broken_lines(void **state)
{
	char path[PATH_MAX], small[16];

	(void)state;
	assert_int_equal(find("libc.so", path, sizeof(path)), 0);	/* a prefix */
	assert_int_equal(find("libc", path, sizeof(path)), 0);
	assert_int_equal(find("linux-vdso.so.1", path, sizeof(path)), 0);	/* no file */
	assert_int_equal(find("libbroken.so", path, sizeof(path)), 0);	/* no address */
	assert_int_equal(find("libgone.so", path, sizeof(path)), 0);
	assert_int_equal(find("x86_64-linux.so.2", path, sizeof(path)), 0);	/* not after '/' */
	assert_int_equal(find("libc.so.6", small, sizeof(small)), 0);	/* never cut */
	assert_int_equal(ipc_ldso_trace_find("\tlibz.so => /a\0b (0x1)\n", 22, "libz.so",
					     path, sizeof(path)), 0);	/* a NUL in it */
	assert_int_equal(ipc_ldso_trace_find("", 0, "libc.so.6", path, sizeof(path)), 0);
}

static void
trace_error_gives_the_loaders_reason(void **state)
{
	static const char err[] =
		"ERROR: ld.so: object 'libm.so.x' from --preload cannot be preloaded "
		"(cannot open shared object file): ignored.\n"
		"ERROR: ld.so: object 'libm.so' from --preload cannot be preloaded "
		"(invalid ELF header): ignored.\n";
	char why[64], tiny[8];

	(void)state;
	assert_int_equal(ipc_ldso_trace_error(err, sizeof(err) - 1, "libm.so", why, sizeof(why)), 1);
	assert_string_equal(why, "invalid ELF header");
	assert_int_equal(ipc_ldso_trace_error(err, sizeof(err) - 1, "libm.so.x", why, sizeof(why)), 1);
	assert_string_equal(why, "cannot open shared object file");
	assert_int_equal(ipc_ldso_trace_error(err, sizeof(err) - 1, "libm", why, sizeof(why)), 0);
	assert_int_equal(ipc_ldso_trace_error(err, 40, "libm.so", why, sizeof(why)), 0);
	assert_int_equal(ipc_ldso_trace_error(err, sizeof(err) - 1, "libm.so", tiny, sizeof(tiny)), 1);
	assert_string_equal(tiny, "invalid");	/* cut to fit, still a string */
}

static int
libc_of_this_test(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *b = strrchr(info->dlpi_name, '/');

	(void)size;
	if (b && strcmp(b, "/libc.so.6") == 0)
		return realpath(info->dlpi_name, arg) != NULL;
	return 0;
}

static void
resolve_finds_the_libc_this_test_runs_on(void **state)
{
	char path[PATH_MAX], real[PATH_MAX], mine[PATH_MAX] = "", why[256], ldso[PATH_MAX];

	(void)state;
	assert_int_equal(ipc_ldso_path(ldso, sizeof(ldso)), 0);
	assert_int_equal(access(ldso, X_OK), 0);
	dl_iterate_phdr(libc_of_this_test, mine);
	assert_string_not_equal(mine, "");
	assert_int_equal(ipc_ldso_resolve("libc.so.6", 10000, NULL, path, sizeof(path),
					  why, sizeof(why)), 0);
	assert_non_null(realpath(path, real));
	assert_string_equal(real, mine);
}

static void
resolve_says_why_a_name_is_not_found(void **state)
{
	char path[PATH_MAX], why[256];

	(void)state;
	errno = 0;
	assert_int_equal(ipc_ldso_resolve("libipclab-none.so.9", 10000, NULL, path, sizeof(path),
					  why, sizeof(why)), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(why, "cannot open shared object file");
	assert_int_equal(ipc_ldso_resolve("a:b", 10000, NULL, path, sizeof(path), why,
					  sizeof(why)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ipc_ldso_resolve("", 10000, NULL, path, sizeof(path), why,
					  sizeof(why)), -1);
	assert_int_equal(errno, EINVAL);
}

/* A FIFO named like the library, first on LD_LIBRARY_PATH: the loader blocks
 * opening it; the answer comes at the time limit, naming the FIFO. */
static void
resolve_gives_up_on_a_fifo_in_time(void **state)
{
	char dir[] = "/tmp/ipclab-ldso.XXXXXX", fifo[PATH_MAX], path[PATH_MAX], why[PATH_MAX + 128];
	const char *old = getenv("LD_LIBRARY_PATH");
	char *saved = old ? strdup(old) : NULL;
	uint64_t t0;
	struct stat st;
	int r, e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/libipclab-fifo.so", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(setenv("LD_LIBRARY_PATH", dir, 1), 0);
	t0 = ipc_now_ns();
	r = ipc_ldso_resolve("libipclab-fifo.so", 300, NULL, path, sizeof(path), why, sizeof(why));
	e = errno;
	assert_int_equal(r, -1);
	assert_int_equal(e, ETIMEDOUT);
	assert_true(ipc_now_ns() - t0 < 5000000000u);
	assert_non_null(strstr(why, fifo));
	assert_non_null(strstr(why, "a FIFO"));
	assert_int_equal(stat(fifo, &st), 0);	/* still there, still a FIFO */
	assert_true(S_ISFIFO(st.st_mode));
	unlink(fifo);
	rmdir(dir);
	if (saved)
		setenv("LD_LIBRARY_PATH", saved, 1);
	else
		unsetenv("LD_LIBRARY_PATH");
	free(saved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trace_names_the_file_of_each_name),
		cmocka_unit_test(trace_refuses_prefixes_virtual_objects_and_broken_lines),
		cmocka_unit_test(trace_error_gives_the_loaders_reason),
		cmocka_unit_test(resolve_finds_the_libc_this_test_runs_on),
		cmocka_unit_test(resolve_says_why_a_name_is_not_found),
		cmocka_unit_test(resolve_gives_up_on_a_fifo_in_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
