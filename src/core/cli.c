/* The command-line conventions every command shares. */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ipclab/cli.h"

static char progname[64] = "ipclab";
static const char *cmdname = "ipclab";
static int saved_argc;
static char **saved_argv;

void
ipc_save_args(int argc, char **argv)
{
	saved_argc = argc;
	saved_argv = malloc(((size_t)argc + 1) * sizeof(*argv));
	if (saved_argv)
		memcpy(saved_argv, argv, ((size_t)argc + 1) * sizeof(*argv));
}

void
ipc_proctitle_init(void)
{
	extern char **environ;

	if (saved_argv)
		setproctitle_init(saved_argc, saved_argv, environ);
}

const char *
ipc_progname(void)
{
	return progname;
}

void
ipc_setcmd(const char *name)
{
	snprintf(progname, sizeof(progname), "ipclab %s", name);
	cmdname = name;
	setprogname(progname);
}

const char *
ipc_cmdname(void)
{
	return cmdname;
}

void
ipc_print_help(const struct ipc_help *h)
{
	const char *s = h->synopsis, *nl;

	fputs("Usage:\n", stdout);
	do {
		nl = strchr(s, '\n');
		int n = nl ? (int)(nl - s) : (int)strlen(s);
		printf(" ipclab %s %.*s\n", h->name, n, s);
		s = nl + 1;
	} while (nl && *s);
	printf("\n%s\n\nOptions:\n", h->summary);
	if (h->options)
		fputs(h->options, stdout);
	fputs(" -h, --help          display this help\n"
	      " -V, --version       display version\n", stdout);
	printf("\nSee ipclab-%s(1).\n", h->name);
}

void
ipc_print_version(void)
{
	printf("%s %s\n", progname, IPCLAB_VERSION);
}

void
ipc_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", progname);
	exit(2);
}

bool
ipc_common_option(int c, const struct ipc_help *h)
{
	switch (c) {
	case 'h':
		ipc_print_help(h);
		exit(0);
	case 'V':
		ipc_print_version();
		exit(0);
	case '?':
	case ':':
		fprintf(stderr, "Try '%s --help' for more information.\n", progname);
		exit(2);
	default:
		return false;
	}
}
