/* Command-line conventions shared by every command: the help template,
 * --version, usage errors, and the "ipclab CMD" program name in messages. */
#ifndef IPCLAB_CLI_H
#define IPCLAB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The help text of one command, printed in the one template:
 *   Usage:
 *    ipclab NAME SYNOPSIS          (one line per '\n'-separated synopsis)
 *
 *   SUMMARY.
 *
 *   Options:
 *   OPTIONS                        (already formatted, one option a line)
 *    -h, --help      display this help
 *    -V, --version   display version
 *
 *   See ipclab-NAME(1). */
struct ipc_help {
	const char *name;	/* "race" */
	const char *synopsis;	/* "[options] N" */
	const char *summary;	/* one sentence */
	const char *options;	/* " -j, --json      print JSON\n..." or NULL */
};

/* Sets the name that err(3), warn(3) and ipc_usage() print: "ipclab NAME". */
void ipc_setcmd(const char *name);
/* The current command's name ("race"), or "ipclab" before ipc_setcmd(). */
const char *ipc_cmdname(void);
/* "ipclab race": what messages start with. */
const char *ipc_progname(void);

/* Remembers the process's original arguments (main calls it first). */
void ipc_save_args(int argc, char **argv);
/* Prepares setproctitle(3) (libbsd) over the original arguments, which the
 * dispatcher has rearranged.  Call once before the first setproctitle().
 * It takes over the memory of the argument strings: copy what you still need
 * from argv (optarg included) before calling it. */
void ipc_proctitle_init(void);

/* S itself when it fits in MAX bytes, else S with its middle replaced by
 * "..." (cut at character boundaries) in BUF: a long object name in a message
 * keeps its start and its end.  MAX is at least 8 and below LEN. */
const char *ipc_shorten(const char *s, size_t max, char *buf, size_t len);

/* "ipclab CMD: OBJECT: CALL: REASON" on stderr, then exit(status).  OBJECT
 * (may be NULL) is shortened to 120 bytes; CALL NULL means ipc_failed_call
 * (omitted when that is NULL too); REASON is ipc_failed_why when set, else
 * strerror(errno). */
void ipc_fail(int status, const char *object, const char *call)
	__attribute__((noreturn));
/* "ipclab CMD: OBJECT: TEXT" on stderr, then exit(status). */
void ipc_failx(int status, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/* Flushes FP now and checks that everything written to it arrived (the
 * stream's error flag included).  Returns 0 when it did.  A reader that went
 * away (EPIPE) ends the command quietly with status 0, as `seq | head -1`
 * does; any other error prints "ipclab CMD: WHAT: write error: REASON" and
 * exits 1. */
int ipc_flush_check(FILE *fp, const char *what);
/* The same for stdout and then stderr at the end of the process, as
 * util-linux's close_stdout(): the dispatcher registers it with atexit(3). */
void ipc_close_stdout(void);

void ipc_print_help(const struct ipc_help *h);
void ipc_print_version(void);
/* "ipclab NAME: MESSAGE" and "Try 'ipclab NAME --help' for more
 * information." on stderr, then exit(2). */
void ipc_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Handles what every command's getopt_long loop shares: 'h' prints the help
 * and exits 0, 'V' prints the version and exits 0, '?' and ':' (getopt has
 * already said what was wrong) print the "Try" line and exit 2.  Returns false
 * for any other option, which the command handles itself. */
bool ipc_common_option(int c, const struct ipc_help *h);
/* getopt_long's long options for -h and -V, to end a command's table with. */
#define IPC_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }

/* Exit statuses in timeout(1)'s convention, for commands that run others. */
enum {
	IPC_EXIT_FAIL = 1,	/* runtime failure */
	IPC_EXIT_USAGE = 2,	/* bad command line or input */
	IPC_EXIT_OWN = 125,	/* the command itself failed around a program */
	IPC_EXIT_NOEXEC = 126,	/* the program could not be executed */
	IPC_EXIT_NOTFOUND = 127	/* the program was not found */
};

#endif
