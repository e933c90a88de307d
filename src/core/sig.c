/* Signals: handlers, a signalfd event source, and names. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "ipclab/proc.h"
#include "ipclab/sig.h"

int
ipc_sig_handle(int sig, void (*handler)(int), bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	if (sigaction(sig, &sa, NULL) == -1) {
		ipc_failed_call = "sigaction", ipc_failed_why = NULL;
		return -1;
	}
	return 0;
}

int
ipc_sigfd_open(const sigset_t *set)
{
	sigset_t old;
	int fd, e;

	if (sigprocmask(SIG_BLOCK, set, &old) == -1) {
		ipc_failed_call = "sigprocmask", ipc_failed_why = NULL;
		return -1;
	}
	fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1) {
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		ipc_failed_call = "signalfd", ipc_failed_why = NULL;
		errno = e;
	}
	return fd;
}

int
ipc_sigfd_read(int fd, struct signalfd_siginfo *info)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(fd, &si, sizeof(si));
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n != (ssize_t)sizeof(si)) {
		ipc_failed_call = "read", ipc_failed_why = NULL;
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	if (info)
		*info = si;
	return (int)si.ssi_signo;
}

static char signames[NSIG][24];
static pthread_once_t signames_once = PTHREAD_ONCE_INIT;

static void
fill_signames(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		const char *a = sigabbrev_np(sig);

		if (sig == SIGRTMIN)
			snprintf(signames[sig], sizeof(signames[sig]), "SIGRTMIN");
		else if (sig > SIGRTMIN && sig <= SIGRTMAX)
			snprintf(signames[sig], sizeof(signames[sig]), "SIGRTMIN+%d",
				 sig - SIGRTMIN);
		else if (a)
			snprintf(signames[sig], sizeof(signames[sig]), "SIG%s", a);
	}
}

const char *
ipc_signame(int sig)
{
	/* a few buffers in turn, so that several unknown numbers can stand in
	 * one printf */
	static __thread char other[4][24];
	static __thread unsigned turn;
	char *buf;

	pthread_once(&signames_once, fill_signames);
	if (sig > 0 && sig < NSIG && signames[sig][0])
		return signames[sig];
	buf = other[turn++ % 4];
	snprintf(buf, sizeof(other[0]), "signal %d", sig);
	return buf;
}

int
ipc_signum(const char *name)
{
	const char *e = NULL;
	long long n;

	if (name == NULL || *name == '\0')
		return -1;
	if (*name >= '0' && *name <= '9') {
		n = strtonum(name, 1, SIGRTMAX, &e);
		return e ? -1 : (int)n;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	if (strncasecmp(name, "RTMIN", 5) == 0) {
		if (name[5] == '\0')
			return SIGRTMIN;
		if (name[5] != '+')
			return -1;
		n = strtonum(name + 6, 0, SIGRTMAX - SIGRTMIN, &e);
		return e ? -1 : SIGRTMIN + (int)n;
	}
	if (strcasecmp(name, "RTMAX") == 0)
		return SIGRTMAX;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *a = sigabbrev_np(sig);

		if (a && strcasecmp(a, name) == 0)
			return sig;
	}
	return -1;
}
