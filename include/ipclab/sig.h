/* Signals: handlers that only set a flag, an event source for poll loops, and
 * signal names. */
#ifndef IPCLAB_SIG_H
#define IPCLAB_SIG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/signalfd.h>

/* sigaction(2) with handler, SA_RESTART when restart is true, and every
 * signal blocked while the handler runs.  Returns 0 or -1 with errno set. */
int ipc_sig_handle(int sig, void (*handler)(int), bool restart);

/* A signal event source for poll(2): blocks the signals in set and returns a
 * signalfd(2) (non-blocking, close-on-exec) that becomes readable when one is
 * pending.  Returns -1 with errno set on failure (the mask is then left as it
 * was). */
int ipc_sigfd_open(const sigset_t *set);

/* Reads one pending signal from a signalfd.  Returns the signal number and
 * fills *info when info is not NULL; 0 when none is pending; -1 on error. */
int ipc_sigfd_read(int fd, struct signalfd_siginfo *info);

/* "SIGSEGV" for 11, "SIGRTMIN+2" for a real-time signal, "signal 99" for an
 * unknown number.  Known names are constant strings; an unknown number is
 * written in one of four per-thread buffers used in turn, so up to four
 * can stand in one expression. */
const char *ipc_signame(int sig);

/* Parses "SEGV", "SIGSEGV", "sigsegv", "11" or "RTMIN+2".  Returns the number,
 * or -1 when it names no signal. */
int ipc_signum(const char *name);

#endif
