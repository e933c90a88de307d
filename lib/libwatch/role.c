/* foo and bar, the two roles of `ipclab libwatch` (the shared-library
 * exercise): both use libipclab_foobar.so; foo sets baz to 17 and keeps
 * reading it, bar sets it to 1 and keeps incrementing it.
 *
 * One source, several programs (see CMakeLists.txt): ROLE_BAR picks bar's
 * part, ROLE_DLOPEN loads the library with dlopen(3)/dlsym(3) instead of
 * linking it; the build decides whether the program is an ordinary PIE (a
 * copy relocation for baz) or built with -fPIC (baz used in the library).
 *
 *   ROLE REPORT_FD COMMAND_FD [LIBRARY]
 *
 * The role reports on REPORT_FD, one line each:
 *   "addr SETBAZ GETBAZ BAZ VALUE"   at start, after reading baz once (so its
 *                                    page is mapped) and before writing it
 * and then obeys one byte at a time on COMMAND_FD:
 *   'w'  the first write: setbaz(17) (foo) or setbaz(1) (bar); "val N"
 *   't'  a tick: foo reads baz, bar increments it; "val N"
 * End of file on COMMAND_FD (ipclab is done, or gone) ends the role.  It
 * ignores SIGINT: ipclab, which a Ctrl+C also reaches, ends it. */
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ROLE_DLOPEN
#include "foobar.h"
#endif

#ifdef ROLE_BAR
#define FIRST_VALUE 1
#else
#define FIRST_VALUE 17
#endif

static void (*set_fn)(int);
static int (*get_fn)(void);
static int *baz_ptr;

static int
load(const char *lib)
{
#ifdef ROLE_DLOPEN
	void *h;

	if (lib == NULL || (h = dlopen(lib, RTLD_NOW)) == NULL)
		return -1;
	*(void **)&set_fn = dlsym(h, "setbaz");
	*(void **)&get_fn = dlsym(h, "getbaz");
	baz_ptr = dlsym(h, "baz");
	return set_fn && get_fn && baz_ptr ? 0 : -1;
#else
	(void)lib;
	set_fn = setbaz;
	get_fn = getbaz;
	baz_ptr = &baz;
	return 0;
#endif
}

static int
reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A descriptor number from the command line, or -1. */
static int
fdarg(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	return *s && *end == '\0' && n >= 0 && n < 1024 ? (int)n : -1;
}

static int
reply(int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return n > 0 && write(fd, line, (size_t)n) == n ? 0 : -1;
}

int
main(int argc, char **argv)
{
	int rep, cmd, v;
	char c;

	if (argc < 3 || (rep = fdarg(argv[1])) < 0 || (cmd = fdarg(argv[2])) < 0) {
		fprintf(stderr, "usage: %s REPORT_FD COMMAND_FD [LIBRARY]\n", argv[0]);
		return 2;
	}
	signal(SIGINT, SIG_IGN);
	if (load(argc > 3 ? argv[3] : NULL) == -1) {
		const char *why = dlerror();

		fprintf(stderr, "%s: %s: %s\n", argv[0], argc > 3 ? argv[3] : "no library",
			why ? why : "cannot load");
		return 1;
	}
	v = get_fn();
	if (reply(rep, "addr %p %p %p %d\n", *(void **)&set_fn, *(void **)&get_fn,
		  (void *)baz_ptr, v) == -1)
		return 0;
	while (read(cmd, &c, 1) == 1) {
		if (c == 'w')
			set_fn(FIRST_VALUE);
#ifdef ROLE_BAR
		else if (c == 't')
			set_fn(get_fn() + 1);
#endif
		if (reply(rep, "val %d\n", get_fn()) == -1)
			break;
	}
	return 0;
}
