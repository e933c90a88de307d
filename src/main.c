/* ipclab: one binary, many experiments.  Finds the command by the name it was
 * called by (ipclab-NAME) or by its first argument, in the one table that
 * cmd/NAME.c files register themselves in (see CMakeLists.txt). */
#include <err.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ipclab/cli.h"
#include "ipclab/path.h"

struct command {
	const char *name;
	const char *summary;
	int (*main)(int, char **);
};

#define COMMAND(name, summary) int name##_main(int, char **);
#include "commands.h"
#undef COMMAND

static const struct command commands[] = {
#define COMMAND(name, summary) { #name, summary, name##_main },
#include "commands.h"
#undef COMMAND
};
static const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

static const struct command *
lookup(const char *name)
{
	for (size_t i = 0; i < ncommands; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
usage(FILE *fp)
{
	fputs("Usage:\n"
	      " ipclab COMMAND [options] [arguments]\n"
	      " ipclab help COMMAND\n"
	      "\nSee with your own eyes how Unix processes, signals, memory mappings,\n"
	      "allocators and shared libraries behave.\n\nCommands:\n", fp);
	for (size_t i = 0; i < ncommands; i++)
		fprintf(fp, " %-13s %s\n", commands[i].name, commands[i].summary);
	fputs("\nOptions:\n"
	      " -h, --help     display this help\n"
	      " -V, --version  display version\n"
	      "\nRun 'ipclab COMMAND --help' for a command's options.\n"
	      "See ipclab(1), and ipclab-COMMAND(1) through 'ipclab help COMMAND'.\n", fp);
}

/* Shows a man page with man(1), from the build tree or the installation. */
static int
help(const char *cmd)
{
	char path[PATH_MAX];

	if (cmd && lookup(cmd) == NULL) {
		fprintf(stderr, "ipclab: '%s' is not an ipclab command; see 'ipclab --help'.\n", cmd);
		return 2;
	}
	if (ipc_manpage_path(cmd, path, sizeof(path)) == -1) {
		fprintf(stderr, "ipclab: ipclab%s%s.1: no manual page beside the binary or in %s\n",
			cmd ? "-" : "", cmd ? cmd : "", IPCLAB_FULL_MAN);
		return 1;
	}
	execlp("man", "man", "-l", path, (char *)NULL);
	fprintf(stderr, "ipclab: man: %s\n", strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int
run(const struct command *c, int argc, char **argv)
{
	ipc_setcmd(c->name);
	argv[0] = (char *)ipc_progname();	/* getopt's messages start with it */
	return c->main(argc, argv);
}

int
main(int argc, char **argv)
{
	const char *base = basename(argv[0]);
	const struct command *c;

	/* the character set only: numbers in reports and JSON keep the '.' */
	setlocale(LC_CTYPE, "");
	ipc_save_args(argc, argv);
	setprogname("ipclab");
	/* a report that went nowhere is a failure: stdout is checked at exit */
	if (atexit(ipc_close_stdout) != 0)
		return 1;
	if (strncmp(base, "ipclab-", 7) == 0) {
		if ((c = lookup(base + 7)) == NULL) {
			fprintf(stderr, "ipclab: '%s' is not an ipclab command; see 'ipclab --help'.\n",
				base + 7);
			return 2;
		}
		return run(c, argc, argv);
	}
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("ipclab %s\n", IPCLAB_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0)
		return help(argc > 2 ? argv[2] : NULL);
	if ((c = lookup(argv[1])) == NULL) {
		if (argv[1][0] == '-')
			fprintf(stderr, "ipclab: unrecognized option '%s'\n"
				"Try 'ipclab --help' for more information.\n", argv[1]);
		else
			fprintf(stderr, "ipclab: '%s' is not an ipclab command; see 'ipclab --help'.\n",
				argv[1]);
		return 2;
	}
	return run(c, argc - 1, argv + 1);
}
