// COMMAND(pool, "keep N workers alive, replace the dead at once, survive any signal storm")
/*
 * ipclab pool [options] CONFIG [-- COMMAND [ARG...]]
 *
 * A pre-fork pool (the process-pool-with-signals exercise): reads N from
 * CONFIG, forks N workers and forks a new one whenever one dies.  The master
 * sleeps in one poll(2) on a signalfd(2): SIGCHLD, SIGHUP, SIGUSR1, SIGUSR2,
 * SIGTERM, SIGINT, SIGTTIN and SIGTTOU all arrive there as events.  The poll
 * has a timeout only while something is pending (a throttled restart, a
 * retiring worker's grace period, a stop); an idle master makes no wakeup.
 *
 *  -f, --fifo PATH      serve the master's PID to every reader of FIFO PATH
 *      --no-fifo        no FIFO, even if /tmp/pool_fifo exists
 *  -p, --pidfile PATH   lock PATH (libbsd pidfile_open) and write the PID
 *  -c, --crash RATE     built-in workers fault with probability RATE per loop
 *  -s, --sleep SECONDS  built-in workers sleep SECONDS/2..SECONDS a loop
 *  -n, --loops N        built-in workers loop 1..N times, then exit 0
 *  -g, --grace SECONDS  SIGTERM to SIGKILL delay when retiring or stopping
 *  -l, --limit N        refuse more than N workers (default 1024)
 *      --listen [HOST:]PORT  one TCP socket shared by every worker
 *      --reuseport      each worker its own SO_REUSEPORT socket instead
 *  -k, --kill-mode M    group (default): a worker is its process group;
 *                       process: the worker alone, as before
 *      --no-throttle    restart crash-looping workers at once, forever
 *  -J, --json           reports in JSON; the final one alone on stdout (-j too)
 *
 * Signals: HUP reloads N (a bad CONFIG keeps the current N and says why),
 * USR1 reports the counts, USR2 a table of the live workers, TTIN/TTOU add
 * or retire one worker until the next reload, TERM/INT stop everything
 * gracefully and exit 0.  Workers ask for SIGKILL when the master dies
 * (PR_SET_PDEATHSIG) and re-check getppid() to close the race with fork.
 * A worker is its process group: what it leaves behind when it dies is
 * stopped (SIGTERM, SIGKILL after the grace).  The master is a child
 * subreaper, so a worker's daemonized child (setsid, double fork) comes
 * back to it as a stray, counted in the reports and stopped with the pool;
 * after kill -9 of the master, the keeper (a child woken by its own
 * PR_SET_PDEATHSIG) kills every group recorded in a shared mapping.  None
 * of this adds a timer or a /proc scan to the idle path.  A worker that fails within 1 s of starting died young: three
 * in a row delay restarts by 100 ms, doubling each failed round up to 5 s,
 * until a worker lives 1 s.
 *
 * The FIFO is served by a small helper child blocked in open(O_WRONLY): it
 * wakes only when a reader opens the FIFO, hands it one "PID\n" line at a
 * time (waiting, on a one-page pipe, until the line is consumed), and so the
 * master never touches the FIFO at all.
 *
 * With --listen the master opens the socket before anything starts; built-in
 * workers answer each connection with one line and count it in a shared
 * mapping, a COMMAND gets it as systemd's socket activation passes it.
 *
 * The report (SIGUSR1, and at the end): workers created, alive of wanted,
 * deaths, signals received, deaths by cause in a table.  Every death is
 * logged as "worker 4243 killed by SIGSEGV (core dumped) after 0.2 s".
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libutil.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ipclab/cli.h"
#include "ipclab/map.h"
#include "ipclab/num.h"
#include "ipclab/out.h"
#include "ipclab/proc.h"
#include "ipclab/procfs.h"
#include "ipclab/report.h"
#include "ipclab/sig.h"

#define DEFAULT_FIFO	"/tmp/pool_fifo"
#define DEFAULT_LIMIT	1024
#define NS		1000000000ULL
#define MS		1000000ULL
#define YOUNG_NS	(1 * NS)	/* a worker dead before 1 s died young */
#define BURST		3		/* young deaths in a row that start throttling */
#define DELAY_MIN_NS	(100 * MS)
#define DELAY_MAX_NS	(5 * NS)
#define FIFO_SESSION	64		/* lines per FIFO open, at most */

static const struct ipc_help help = {
	.name = "pool",
	.synopsis = "[options] CONFIG [-- COMMAND [ARG...]]",
	.summary = "Keep N workers (N read from CONFIG) alive: replace each dead one at once,\n"
		   "reload N on SIGHUP, report on SIGUSR1/SIGUSR2, survive any signal storm.",
	.options =
	" -f, --fifo PATH     give the master's PID to every reader of FIFO PATH\n"
	"                       (default /tmp/pool_fifo, only when it exists)\n"
	"     --no-fifo       no FIFO, even when /tmp/pool_fifo exists\n"
	" -p, --pidfile PATH  lock PATH and write the PID; refuse a second master\n"
	" -c, --crash RATE    built-in workers fault with probability RATE a loop\n"
	"                       (0.1 or 10%: a bad pointer, a division by zero, abort)\n"
	" -s, --sleep SECS    built-in workers sleep SECS/2 to SECS a loop (1)\n"
	" -n, --loops N       built-in workers loop 1 to N times, then exit 0 (10)\n"
	" -g, --grace SECS    SIGTERM to SIGKILL delay when retiring workers (2)\n"
	" -l, --limit N       refuse more than N workers (1024)\n"
 "     --listen [HOST:]PORT  open a TCP socket the workers share: built-in\n"
	"                       workers answer each connection with one line, a\n"
	"                       COMMAND gets it as fd 3 (LISTEN_FDS=1, LISTEN_PID)\n"
	"     --reuseport     each worker its own SO_REUSEPORT socket instead\n"
	" -k, --kill-mode M   group: when a worker dies, stop what is left of its\n"
	"                       process group (default); process: the worker only\n"
	"     --no-throttle   restart workers that die young at once, forever\n"
	" -J, --json          reports in JSON; the last one alone on stdout\n",
};

enum { OPT_NOFIFO = 256, OPT_NOTHROTTLE, OPT_LISTEN, OPT_REUSEPORT };

#define LISTEN_FD	3		/* where socket activation puts it */

struct leftover {		/* what a dead worker left of its process group */
	pid_t pgid;
	uint64_t kill_at;	/* SIGKILL then; again every 100 ms until empty */
};

struct stray {			/* a process re-parented to the master */
	pid_t pid, pgid, worker;	/* worker: the one that made it, or 0 */
};

struct slot {			/* one place in the pool, kept across replacements */
	pid_t pid;		/* 0: empty */
	uint64_t start;
	unsigned long exits;	/* workers of this slot that died so far */
	size_t cell;		/* its connection counter, with --listen */
};

struct retiree {		/* a surplus worker told to go */
	pid_t pid;
	uint64_t start;
	uint64_t kill_at;	/* SIGKILL after the grace period; 0 once sent */
	size_t cell;
};

struct served {			/* connections a dead worker accepted */
	pid_t pid;
	unsigned long n;
};

struct cause {
	char what[64];
	unsigned long n;
};

static struct pool {
	/* options */
	const char *config, *fifo, *pidfile;
	char **cmd;
	double crash, sleep_s, grace_s;
	long long loops, limit;
	bool throttle, fifo_make, fifo_made, fifo_gone, json, group;
	/* state */
	pid_t master, fifo_pid, keeper_pid;
	pid_t *keep;		/* shared with the keeper: every group to stop */
	size_t nkeep;		/* limit for the slots, then retirees and leftovers */
	const char *listen;	/* --listen [HOST:]PORT */
	int lfd;		/* the listening socket, or -1 */
	char laddr[INET6_ADDRSTRLEN + 16];
	bool reuseport;		/* lfd only holds the port: each worker listens */
	struct sockaddr_storage lss;	/* the address lfd is bound to */
	socklen_t lsl;
	unsigned long *cells;	/* shared: each worker counts its connections */
	bool *cell_used;
	size_t ncells, my_cell;
	struct served *served;	/* the dead workers' counts */
	size_t nserved, capserved;
	unsigned long served_total;
	struct leftover *left;
	size_t nleft, capleft, nstrays, stopped_strays;
	long long n, adj;	/* N from CONFIG; TTIN/TTOU since the last reload */
	struct slot *slots;	/* limit of them */
	struct retiree *ret;
	size_t nret, capret;
	unsigned long created, deaths, serial;
	struct cause *causes;	/* each cause its own row, however many */
	size_t ncauses, capcauses;
	int streak;		/* young deaths in a row */
	uint64_t delay, next_spawn, round_start, t0;
	uint64_t delay_since;	/* only workers started since then end the delay */
	uint64_t said_delay;	/* the last delay a failed fork announced */
	unsigned long spawn_failures;
	bool doubled, started_ok, stopping, fork_failed;
	uint64_t stop_at;
	int sfd, status, report_errno;
	unsigned long seen[NSIG];	/* signals read from the signalfd */
	struct pidfh *pfh;
} P;

/* ---- configuration ---------------------------------------------------- */

/* The most workers this user may start: --limit, and for a user that
 * RLIMIT_NPROC binds (root's is not enforced), what it leaves. */
static long long
headroom(const char **why)
{
	struct rlimit rl;
	struct ipc_procs ps;
	long long procs = 0, room;

	*why = "--limit";
	if (geteuid() == 0 || getrlimit(RLIMIT_NPROC, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || ipc_procs_scan(&ps) == -1)
		return P.limit;
	for (size_t i = 0; i < ps.n; i++)	/* zombies count: they hold their slot */
		procs += ps.v[i].uid == getuid();
	ipc_procs_free(&ps);
	room = (long long)rl.rlim_cur - procs - 1;
	if (room < P.limit) {
		*why = "the RLIMIT_NPROC headroom";
		return room < 0 ? 0 : room;
	}
	return P.limit;
}

/* PATH as messages show it: shortened in the middle when long. */
static const char *
shown(const char *path)
{
	static char buf[128];

	return ipc_shorten(path, 120, buf, sizeof(buf));
}

/* Reads up to len - 1 bytes of PATH, a regular file (a FIFO or a device is
 * refused, naming its type, and never blocks the master), into buf; *got
 * says how many.  Returns 0 or -1 with the reason in why. */
static int
slurp(const char *path, char *buf, size_t len, size_t *got, char *why, size_t wlen)
{
	ssize_t r;
	int fd;

	*got = 0;
	if (ipc_path_check(path) == -1 ||
	    (fd = ipc_open_regular(path, O_RDONLY, NULL)) == -1) {
		snprintf(why, wlen, "%s: %s: %s", shown(path), ipc_failed_call,
			 ipc_failed_why ? ipc_failed_why : strerror(errno));
		return -1;
	}
	while (*got < len - 1 && (r = read(fd, buf + *got, len - 1 - *got)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(why, wlen, "%s: read: %s", shown(path), strerror(errno));
			close(fd);
			return -1;
		}
		*got += (size_t)r;
	}
	close(fd);
	buf[*got] = '\0';
	return 0;
}

/* The text of a CONFIG: one whole number, with blanks and "# comments"
 * around it, in the N bytes at D (any bytes: this is what the fuzz target
 * calls).  NAME is for messages.  Returns 0 with *v set, or -1 with a
 * one-line reason in why; never exits. */
static int
parse_conf_text(const char *name, const char *d, size_t n, long long *v,
		char *why, size_t wlen)
{
	char buf[4096], *tok = NULL, *save, *w, *line, *lsave;
	const char *e;
	int ntok = 0;

	if (n >= sizeof(buf) || memchr(d, '\0', n)) {
		snprintf(why, wlen, "%s: not a short text file", name);
		return -1;
	}
	memcpy(buf, d, n);
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &lsave); line; line = strtok_r(NULL, "\n", &lsave)) {
		line[strcspn(line, "#")] = '\0';
		for (w = strtok_r(line, " \t\r\v\f", &save); w; w = strtok_r(NULL, " \t\r\v\f", &save))
			if (ntok++ == 0)
				tok = w;
	}
	if (ntok == 0) {
		snprintf(why, wlen, "%s: no number in it", name);
		return -1;
	}
	if (ntok > 1) {
		snprintf(why, wlen, "%s: %d words where one number belongs", name, ntok);
		return -1;
	}
	if (ipc_parse_count(tok, 0, LLONG_MAX, v, &e) == -1) {
		snprintf(why, wlen, "%s: '%.20s' is %s (want a whole number of workers)",
			 name, tok, e);
		return -1;
	}
	return 0;
}

/* CONFIG holds one whole number of workers, within the limit.  Returns 0
 * with *n set, or -1 with a one-line reason in why. */
static int
parse_config(const char *path, long long *n, char *why, size_t wlen)
{
	char buf[4096];
	const char *limwhy;
	long long v, max;
	size_t got;

	if (slurp(path, buf, sizeof(buf), &got, why, wlen) == -1 ||
	    parse_conf_text(shown(path), buf, got, &v, why, wlen) == -1)
		return -1;
	if (v > (max = headroom(&limwhy))) {
		snprintf(why, wlen, "%s: %lld workers is above %s (%lld)", shown(path), v,
			 limwhy, max);
		return -1;
	}
	*n = v;
	return 0;
}

/* The number of workers wanted now: N plus TTIN/TTOU, within 0..limit. */
static long long
target(void)
{
	long long t = P.n + P.adj;

	return t < 0 ? 0 : t > P.limit ? P.limit : t;
}

/* ---- built-in workers ------------------------------------------------- */

/* Async-signal-safe formatting for the fault handler. */
static size_t
put(char *buf, size_t at, size_t len, const char *s)
{
	while (*s && at < len - 1)
		buf[at++] = *s++;
	return at;
}

static size_t
putnum(char *buf, size_t at, size_t len, unsigned long long v, unsigned base)
{
	char tmp[24];
	int i = 0;

	do
		tmp[i++] = "0123456789abcdef"[v % base];
	while ((v /= base) && i < (int)sizeof(tmp));
	while (i > 0 && at < len - 1)
		buf[at++] = tmp[--i];
	return at;
}

static const char *
code_name(int sig, int code)
{
	if (sig == SIGSEGV && code == SEGV_MAPERR)
		return "SEGV_MAPERR: no mapping at that address";
	if (sig == SIGSEGV && code == SEGV_ACCERR)
		return "SEGV_ACCERR: mapping forbids the access";
	if (sig == SIGFPE && code == FPE_INTDIV)
		return "FPE_INTDIV: integer divide by zero";
	if (code == SI_TKILL)
		return "SI_TKILL: sent by tgkill(2), as abort(3) does";
	if (code == SI_USER)
		return "SI_USER: sent by kill(2)";
	return "other";
}

/* Runs on the alternate stack: says what hit the worker, then returns, and
 * with SA_RESETHAND the fault (or abort's second raise) kills it for real. */
static void
fault_handler(int sig, siginfo_t *si, void *uc)
{
	char buf[200];
	size_t at = 0;

	(void)uc;
	at = put(buf, at, sizeof(buf), "worker ");
	at = putnum(buf, at, sizeof(buf), (unsigned long long)getpid(), 10);
	at = put(buf, at, sizeof(buf), sig == SIGSEGV ? ": caught SIGSEGV" :
		 sig == SIGFPE ? ": caught SIGFPE" : ": caught SIGABRT");
	if (sig != SIGABRT) {
		at = put(buf, at, sizeof(buf), " at address 0x");
		at = putnum(buf, at, sizeof(buf), (uintptr_t)si->si_addr, 16);
	}
	at = put(buf, at, sizeof(buf), " (si_code ");
	if (si->si_code < 0)
		at = put(buf, at, sizeof(buf), "-");
	at = putnum(buf, at, sizeof(buf),
		    (unsigned long long)(si->si_code < 0 ? -si->si_code : si->si_code), 10);
	at = put(buf, at, sizeof(buf), " ");
	at = put(buf, at, sizeof(buf), code_name(sig, si->si_code));
	at = put(buf, at, sizeof(buf), ") on the alternate stack\n");
	(void)!write(STDERR_FILENO, buf, at);
}

static void
catch_faults(void)
{
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	const int sigs[] = { SIGSEGV, SIGFPE, SIGABRT };
	struct sigaction sa;

	if (sigaltstack(&ss, NULL) == -1)
		warn("worker: sigaltstack");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			warn("worker: sigaction");
}

/* Real faults, not raise(): the CPU traps and the kernel fills si_addr.
 * The sanitizers would intercept them first, so they are off here. */
__attribute__((no_sanitize("address", "undefined"), noinline)) static void
fault(int kind)
{
	volatile uintptr_t bad = 0x10;	/* the kernel never maps page 0 */
	volatile int zero = 0, one = 1;	/* 1 / zero alone becomes a cmov */

	if (kind == 0)
		*(volatile int *)bad = 1;
	else if (kind == 1)
		zero = one / zero;
	abort();
}

/* splitmix64: rand_r's low bits follow each other too closely here. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
rnd01(uint64_t *s)
{
	return (double)(rnd(s) >> 11) / (double)(1ULL << 53);
}

static volatile sig_atomic_t worker_told_to_stop;

static void
on_worker_term(int sig)
{
	(void)sig;
	worker_told_to_stop = 1;
}

/* A built-in worker with --listen: accepts connections on the shared
 * socket and answers each with one line.  SIGTERM lets it finish the
 * connection it is serving, then it exits 0. */
static void __attribute__((noreturn))
listen_worker(unsigned long serial)
{
	struct sigaction sa = { .sa_handler = on_worker_term };	/* no SA_RESTART */
	uint64_t seed = (uint64_t)getpid() << 32 ^ ipc_now_ns();
	unsigned long k = 0;
	char line[80];
	int c, len;

	prctl(PR_SET_NAME, "pool-worker");
	setproctitle("worker #%lu", serial);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		_exit(125);
	if (P.crash > 0)
		catch_faults();
	while (!worker_told_to_stop) {
		if ((c = accept4(LISTEN_FD, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			warn("worker %d: accept", (int)getpid());
			_exit(1);
		}
		__atomic_add_fetch(&P.cells[P.my_cell], 1, __ATOMIC_RELAXED);
		len = snprintf(line, sizeof(line), "worker %d served connection %lu\n",
			       (int)getpid(), ++k);
		(void)!send(c, line, (size_t)len, MSG_NOSIGNAL);
		close(c);
		if (P.crash > 0 && rnd01(&seed) < P.crash)
			fault((int)(rnd(&seed) % 3));
	}
	_exit(0);
}

static void __attribute__((noreturn))
builtin_worker(unsigned long serial)
{
	uint64_t seed = (uint64_t)getpid() << 32 ^ ipc_now_ns();
	long loops = 1 + (long)(rnd(&seed) % (uint64_t)P.loops);
	struct timespec ts;
	double s;

	prctl(PR_SET_NAME, "pool-worker");
	setproctitle("worker #%lu", serial);
	if (P.crash > 0)
		catch_faults();
	for (long i = 1; i <= loops; i++) {
		s = P.sleep_s * (0.5 + 0.5 * rnd01(&seed));
		ts.tv_sec = (time_t)s;
		ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		fprintf(stderr, "worker %d: loop %ld of %ld\n", (int)getpid(), i, loops);
		if (P.crash > 0 && rnd01(&seed) < P.crash)
			fault((int)(rnd(&seed) % 3));
	}
	_exit(0);
}

/* In every child: die with the master.  The master may have died between
 * fork and prctl, so the parent is checked after asking. */
static int
die_with_master(void *arg)
{
	(void)arg;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		return -1;
	if (getppid() != P.master)
		_exit(0);
	return 0;
}

/* --reuseport, in a new worker: its own socket on the master's address,
 * in the kernel's SO_REUSEPORT group, which spreads connections over the
 * group's listening sockets by a hash of the connection's addresses. */
static int
reuseport_socket(void)
{
	int one = 1, fd = socket(P.lss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&P.lss, P.lsl) == -1 || listen(fd, SOMAXCONN) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A -- COMMAND worker is spawned in the master's memory (ipc_spawn_shared:
 * nothing is copied, as posix_spawn(3) does it), so its setup may not
 * allocate: the master makes the environment once, and the child writes its
 * own PID's digits into it. */
struct worker_env {
	char **envp;
	char master[48], worker[48], listen_pid[40];
};

/* environ without the variables the pool sets, then the pool's. */
static int
worker_env_make(struct worker_env *w)
{
	extern char **environ;
	static const char *const ours[] = { "IPCLAB_POOL_MASTER=", "IPCLAB_POOL_WORKER=",
					    "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=" };
	size_t n = 0, k = 0;

	while (environ[n])
		n++;
	if ((w->envp = calloc(n + 6, sizeof(*w->envp))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < 5 && strncmp(environ[i], ours[j], strlen(ours[j])) != 0)
			j++;
		if (j == 5)
			w->envp[k++] = environ[i];
	}
	snprintf(w->master, sizeof(w->master), "IPCLAB_POOL_MASTER=%d", (int)P.master);
	w->envp[k++] = w->master;
	w->envp[k++] = w->worker;
	if (P.lfd != -1) {
		w->envp[k++] = "LISTEN_FDS=1";
		w->envp[k++] = w->listen_pid;
		w->envp[k++] = "LISTEN_FDNAMES=ipclab-pool";
	}
	return 0;
}

/* "NAME=PID" into BUF, without stdio: safe in the spawned child. */
static void
put_pid_var(char *buf, size_t len, const char *name, pid_t pid)
{
	char digits[24];
	size_t n = 0, k = strlen(name);

	do
		digits[n++] = (char)('0' + pid % 10);
	while ((pid /= 10) > 0 && n < sizeof(digits));
	if (k + n + 1 > len)
		n = 0;
	memcpy(buf, name, k);
	for (size_t i = 0; i < n; i++)
		buf[k + i] = digits[n - 1 - i];
	buf[k + n] = '\0';
}

/* In every worker, before its exec (or its built-in loop): it dies with the
 * master, has a process group of its own (so that what it starts can be
 * stopped with it), its PID in the environment, which its descendants
 * inherit even through setsid(2) (that is how a stray is told apart from
 * another worker's), and the listening socket as systemd's socket
 * activation passes it: fd 3, LISTEN_FDS=1, LISTEN_PID, LISTEN_FDNAMES.
 * System calls and W's own buffers only: a -- COMMAND worker runs this in
 * the master's memory (ipc_spawn_shared). */
static int
worker_setup(void *arg)
{
	struct worker_env *w = arg;
	pid_t me = getpid();
	int fd = P.lfd;

	if (die_with_master(NULL) == -1)
		return ipc_failed_call = "prctl", -1;
	if (P.group && setpgid(0, 0) == -1)
		return ipc_failed_call = "setpgid", -1;
	put_pid_var(w->worker, sizeof(w->worker), "IPCLAB_POOL_WORKER=", me);
	put_pid_var(w->listen_pid, sizeof(w->listen_pid), "LISTEN_PID=", me);
	if (P.reuseport && (fd = reuseport_socket()) == -1)
		return ipc_failed_call = "--reuseport socket", -1;
	if (fd != -1 && (fd == LISTEN_FD ? fcntl(LISTEN_FD, F_SETFD, 0) : dup2(fd, LISTEN_FD)) == -1)
		return ipc_failed_call = "dup2", -1;
	/* with --json, stdout holds the final report and nothing else */
	if (P.json && dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
		return ipc_failed_call = "dup2", -1;
	return 0;
}

/* ---- process groups, strays and the keeper ---------------------------- */

/* Calls fn for every live process (not a zombie).  Only on a death with
 * something left behind, a report or a stop: never on the idle path. */
static void
each_proc(void (*fn)(pid_t pid, pid_t ppid, pid_t pgrp, void *arg), void *arg)
{
	struct ipc_procs ps;

	if (ipc_procs_scan(&ps) == -1) {
		warn("/proc: %s", ipc_failed_call);
		return;
	}
	for (size_t i = 0; i < ps.n; i++)
		if (ps.v[i].state != 'Z')
			fn(ps.v[i].pid, ps.v[i].ppid, ps.v[i].pgid, arg);
	ipc_procs_free(&ps);
}

struct group_count {
	pid_t pgid;
	size_t n;
};

static void
count_member(pid_t pid, pid_t ppid, pid_t pgrp, void *arg)
{
	struct group_count *g = arg;

	(void)pid, (void)ppid;
	g->n += pgrp == g->pgid;
}

/* The shared mapping the keeper reads when the master is gone: entry i
 * below --limit is slot i's group, the rest retirees' and leftovers'. */
static void
keep_set(size_t i, pid_t pgid)
{
	if (P.keep)
		P.keep[i] = pgid;
}

static void
keep_add(pid_t pgid)
{
	for (size_t i = (size_t)P.limit; P.keep && i < P.nkeep; i++)
		if (P.keep[i] == 0) {
			P.keep[i] = pgid;
			return;
		}
}

static void
keep_del(pid_t pgid)
{
	for (size_t i = (size_t)P.limit; P.keep && i < P.nkeep; i++)
		if (P.keep[i] == pgid) {
			P.keep[i] = 0;
			return;
		}
}

/* What is left of the dead worker PGID's process group is stopped:
 * SIGTERM now, SIGKILL after the grace period.  Returns how many
 * processes that was. */
static size_t
stop_leftovers(pid_t pgid, uint64_t now)
{
	struct group_count g = { pgid, 0 };

	if (!P.group || kill(-pgid, 0) == -1)
		return 0;
	each_proc(count_member, &g);
	if (g.n == 0)
		return 0;	/* zombies only: reaped by whoever they belong to */
	if (kill(-pgid, SIGTERM) == -1 && errno != ESRCH)
		warn("process group %d: kill", (int)pgid);
	if (P.nleft == P.capleft) {
		size_t cap = P.capleft ? 2 * P.capleft : 16;
		struct leftover *l = reallocarray(P.left, cap, sizeof(*l));

		if (l == NULL)
			err(1, "leftovers: realloc");
		P.left = l;
		P.capleft = cap;
	}
	P.left[P.nleft++] = (struct leftover){ pgid, now + (uint64_t)(P.grace_s * NS) };
	keep_add(pgid);
	return g.n;
}

/* Forgets the leftover groups that are empty now; with SIGKILL_DUE, sends
 * SIGKILL to those whose grace period has passed. */
static void
prune_leftovers(uint64_t now, bool sigkill_due)
{
	for (size_t i = 0; i < P.nleft; i++) {
		struct leftover *l = &P.left[i];

		if (kill(-l->pgid, 0) == -1) {
			keep_del(l->pgid);
			P.left[i--] = P.left[--P.nleft];
		} else if (sigkill_due && now >= l->kill_at) {
			kill(-l->pgid, SIGKILL);
			l->kill_at = now + 100 * MS;
		}
	}
}

static bool
known_child(pid_t pid)
{
	if (pid == P.fifo_pid || pid == P.keeper_pid)
		return true;
	for (long long i = 0; i < P.limit; i++)
		if (P.slots[i].pid == pid)
			return true;
	for (size_t i = 0; i < P.nret; i++)
		if (P.ret[i].pid == pid)
			return true;
	return false;
}

/* The PID in variable KEY ("NAME=") of PID's environment, as it was at its
 * exec; 0 when there is none. */
static pid_t
env_pid(pid_t pid, const char *key)
{
	size_t klen = strlen(key);
	char path[64], *var = NULL;
	size_t cap = 0;
	ssize_t n;
	pid_t w = 0;
	const char *e;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while ((n = getdelim(&var, &cap, '\0', fp)) > 0)
		if (strncmp(var, key, klen) == 0) {
			w = (pid_t)strtonum(var + klen, 1, INT_MAX, &e);
			break;
		}
	free(var);
	fclose(fp);
	return w;
}

static struct stray *strays;
static size_t capstrays;

static void
add_stray(pid_t pid, pid_t ppid, pid_t pgrp, void *arg)
{
	(void)arg;
	if (ppid != P.master || known_child(pid))
		return;
	for (size_t i = 0; i < P.nleft; i++)
		if (P.left[i].pgid == pgrp)
			return;		/* being stopped with its worker's group */
	if (P.nstrays == capstrays) {
		size_t cap = capstrays ? 2 * capstrays : 16;
		struct stray *s = reallocarray(strays, cap, sizeof(*s));

		if (s == NULL)
			return;
		strays = s;
		capstrays = cap;
	}
	strays[P.nstrays++] = (struct stray){ pid, pgrp,
					      env_pid(pid, "IPCLAB_POOL_WORKER=") };
}

/* The master's children that are none of its own: what the workers'
 * descendants left when they daemonized (re-parented here, the master
 * being a child subreaper).  Returns how many. */
static size_t
find_strays(void)
{
	P.nstrays = 0;
	each_proc(add_stray, NULL);
	return P.nstrays;
}

/* A stray's process group goes with it, unless that is the master's. */
static void
stop_strays(int sig)
{
	if (!P.group)
		return;
	for (size_t i = 0; i < P.nstrays; i++) {
		if (strays[i].pgid > 1 && strays[i].pgid != getpgrp())
			kill(-strays[i].pgid, sig);
		kill(strays[i].pid, sig);
	}
}

/* In the keeper, once the master is gone: a process whose environment
 * says it descends from this pool's master is killed with its group (never
 * the keeper's own, which is the master's). */
static void
kill_descendant(pid_t pid, pid_t ppid, pid_t pgrp, void *arg)
{
	(void)ppid, (void)arg;
	if (pid == getpid() || env_pid(pid, "IPCLAB_POOL_MASTER=") != P.master)
		return;
	if (pgrp > 1 && pgrp != getpgrp())
		kill(-pgrp, SIGKILL);
	kill(pid, SIGKILL);
}

/* After kill -9 of the master nothing of the master runs: the keeper, a
 * child blocked in sigwaitinfo(2), wakes by its own PR_SET_PDEATHSIG and
 * sends SIGKILL to every process group the master recorded, then to every
 * process that IPCLAB_POOL_MASTER says descends from it: the strays. */
static void __attribute__((noreturn))
keeper(int ready)
{
	sigset_t all, one;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_NAME, "pool-keeper");
	setproctitle("keeper");
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1) == -1)
		_exit(125);
	(void)!write(ready, "k", 1);
	closefrom(STDERR_FILENO + 1);
	sigemptyset(&one);
	sigaddset(&one, SIGUSR1);
	while (getppid() == P.master)
		sigwaitinfo(&one, NULL);
	for (size_t i = 0; i < P.nkeep; i++)
		if (P.keep[i] > 1)
			kill(-P.keep[i], SIGKILL);
	each_proc(kill_descendant, NULL);	/* the strays */
	_exit(0);
}

/* Starts the keeper and waits for it to be armed (it writes one byte, or
 * dies: end of file either way, so the read cannot block for ever). */
static void
keeper_start(void)
{
	static uint64_t last;
	uint64_t now = ipc_now_ns();
	sigset_t none;
	int p[2];
	char c;
	pid_t pid;

	if (!P.group || P.keeper_pid || P.stopping || (last && now - last < NS))
		return;
	last = now;
	sigemptyset(&none);
	if (pipe2(p, O_CLOEXEC) == -1) {
		warn("keeper: pipe");
		return;
	}
	if ((pid = ipc_fork(&none)) == 0) {
		close(p[0]);
		keeper(p[1]);
	}
	close(p[1]);
	if (pid == -1)
		warn("keeper: %s", ipc_failed_call);
	else
		P.keeper_pid = pid;
	while (pid > 0 && read(p[0], &c, 1) == -1 && errno == EINTR)
		;
	close(p[0]);
}

static void
keeper_stop(void)
{
	int st;

	if (P.keeper_pid && kill(P.keeper_pid, SIGKILL) == 0)
		ipc_wait(P.keeper_pid, &st, 0);
	P.keeper_pid = 0;
}

/* ---- the pool --------------------------------------------------------- */

static void
count_cause(const char *what)
{
	size_t i;

	for (i = 0; i < P.ncauses; i++)
		if (strcmp(P.causes[i].what, what) == 0)
			break;
	P.deaths++;
	if (i == P.ncauses) {
		if (P.ncauses == P.capcauses) {
			size_t cap = P.capcauses ? 2 * P.capcauses : 32;
			struct cause *c = reallocarray(P.causes, cap, sizeof(*c));

			if (c == NULL) {
				warn("causes: realloc");
				return;
			}
			P.causes = c;
			P.capcauses = cap;
		}
		snprintf(P.causes[P.ncauses].what, sizeof(P.causes[0].what), "%s", what);
		P.causes[P.ncauses++].n = 0;
	}
	P.causes[i].n++;
}

/* ---- --listen ---------------------------------------------------------- */

/* A free connection counter for the next worker, in P.my_cell. */
static int
cell_take(void)
{
	for (size_t c = 0; c < P.ncells; c++)
		if (!P.cell_used[c]) {
			P.cell_used[c] = true;
			P.cells[c] = 0;
			P.my_cell = c;
			return 0;
		}
	return -1;
}

/* The worker PID of counter C is gone: its count joins the history. */
static void
cell_give(size_t c, pid_t pid)
{
	unsigned long n;

	if (P.lfd == -1)
		return;
	n = __atomic_load_n(&P.cells[c], __ATOMIC_RELAXED);
	P.cell_used[c] = false;
	if (pid == 0 || n == 0)
		return;
	P.served_total += n;
	if (P.nserved == P.capserved) {
		size_t cap = P.capserved ? 2 * P.capserved : 64;
		struct served *sv = reallocarray(P.served, cap, sizeof(*sv));

		if (sv == NULL) {
			warn("served: realloc");
			return;
		}
		P.served = sv;
		P.capserved = cap;
	}
	P.served[P.nserved++] = (struct served){ pid, n };
}

static unsigned long
cell_count(size_t c)
{
	return P.lfd == -1 ? 0 : __atomic_load_n(&P.cells[c], __ATOMIC_RELAXED);
}

/* Every connection accepted so far, by the dead and the living. */
static unsigned long
connections(void)
{
	unsigned long n = P.served_total;

	for (size_t c = 0; P.lfd != -1 && c < P.ncells; c++)
		if (P.cell_used[c])
			n += cell_count(c);
	return n;
}

/* [HOST:]PORT, HOST an IPv4 or IPv6 address (in brackets) or a name. */
static void
listen_split(const char *spec, char *host, size_t hlen, const char **port)
{
	const char *colon = strrchr(spec, ':'), *close;

	host[0] = '\0';
	*port = spec;
	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL || close[1] != ':')
			ipc_usage("--listen '%s': want [HOST:]PORT, an IPv6 HOST in brackets", spec);
		snprintf(host, hlen, "%.*s", (int)(close - spec - 1), spec + 1);
		*port = close + 2;
	} else if (colon) {
		if ((size_t)(colon - spec) >= hlen)
			ipc_usage("--listen '%s': the host is too long", spec);
		snprintf(host, hlen, "%.*s", (int)(colon - spec), spec);
		*port = colon + 1;
	}
}

/* Opens the listening socket before anything starts: a bad address is
 * exit 2, a port in use or forbidden exit 1, and nothing is left. */
static void
listen_open(const char *spec)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], h[INET6_ADDRSTRLEN], sv[8];
	const char *port, *e;
	long long pn;
	int one = 1, r;

	listen_split(spec, host, sizeof(host), &port);
	if (ipc_parse_count(port, 0, 65535, &pn, &e) == -1)
		ipc_usage("--listen '%s': port '%s' is %s (want 0 to 65535)", spec, port, e);
	if ((r = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0)
		ipc_usage("--listen '%s': %s", spec, gai_strerror(r));
	P.lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (P.lfd == -1)
		err(1, "--listen %s: socket", spec);
	if (setsockopt(P.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (P.reuseport &&
	     setsockopt(P.lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1))
		err(1, "--listen %s: setsockopt", spec);
	if (bind(P.lfd, ai->ai_addr, ai->ai_addrlen) == -1)
		err(1, "--listen %s: bind", spec);
	freeaddrinfo(ai);
	/* with --reuseport the master's socket is bound, never listening: it
	 * keeps the port while workers come and go, and takes no connection */
	if (!P.reuseport && listen(P.lfd, SOMAXCONN) == -1)
		err(1, "--listen %s: listen", spec);
	if (getsockname(P.lfd, (struct sockaddr *)&ss, &sl) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), sv, sizeof(sv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		err(1, "--listen %s: getsockname", spec);
	snprintf(P.laddr, sizeof(P.laddr), ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
		 h, sv);
	P.lss = ss;
	P.lsl = sl;
}

static void
cells_init(void)
{
	if (P.lfd == -1)
		return;
	P.ncells = 2 * (size_t)P.limit + 64;
	P.cells = mmap(NULL, P.ncells * sizeof(*P.cells), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (P.cells == MAP_FAILED)
		err(1, "connection counters: mmap");
	if ((P.cell_used = calloc(P.ncells, sizeof(*P.cell_used))) == NULL)
		err(1, "connection counters: calloc");
}

/* Starts the worker of slot i.  Returns 0, or -1 after saying why. */
static int
spawn(size_t i)
{
	static struct worker_env w;	/* its environment is for -- COMMAND only */
	sigset_t none;
	pid_t pid;

	sigemptyset(&none);
	if (P.lfd != -1 && cell_take() == -1) {
		errno = EAGAIN;
		ipc_failed_call = "connection counter", ipc_failed_why = "none free";
		return -1;
	}
	if (P.cmd) {
		if (w.envp == NULL && worker_env_make(&w) == -1)
			return ipc_failed_call = "malloc", ipc_failed_why = NULL, -1;
		pid = ipc_spawn_shared(P.cmd[0], P.cmd, w.envp, worker_setup, &w);
	} else if ((pid = ipc_fork(&none)) == 0) {
		if (worker_setup(&w) == -1) {
			warn("worker %d: %s", (int)getpid(), ipc_failed_call);
			_exit(125);
		}
		closefrom(P.lfd == -1 ? STDERR_FILENO + 1 : LISTEN_FD + 1);
		if (P.lfd != -1)
			listen_worker(P.serial + 1);
		builtin_worker(P.serial + 1);
	}
	if (pid == -1) {
		cell_give(P.my_cell, 0);
		return -1;	/* the caller says why, once per backoff step */
	}
	P.slots[i].cell = P.my_cell;
	if (P.group && !P.cmd)
		(void)setpgid(pid, pid);	/* the child does it too: no race */
	if (P.group)
		keep_set(i, pid);
	P.slots[i].pid = pid;
	P.slots[i].start = ipc_now_ns();
	P.created++;
	P.serial++;
	P.started_ok = true;
	return 0;
}

/* A failed fork (RLIMIT_NPROC, memory) is a failed round for the crash-loop
 * throttle: the delay starts or doubles, and it is said once per step. */
static void
spawn_failed(uint64_t now, int e)
{
	P.spawn_failures++;
	P.fork_failed = true;
	P.streak = BURST;
	if (P.delay == 0) {
		P.delay = DELAY_MIN_NS;
		P.delay_since = now;
	} else if (P.throttle && !P.doubled) {
		P.delay = P.delay * 2 > DELAY_MAX_NS ? DELAY_MAX_NS : P.delay * 2;
		P.doubled = true;
	}
	if (P.delay != P.said_delay) {
		fprintf(stderr, "%s: worker: %s: %s: %s; restarting after %.1f s%s\n",
			ipc_progname(), P.cmd ? P.cmd[0] : "built-in", ipc_failed_call,
			ipc_failed_why ? ipc_failed_why : strerror(e), (double)P.delay / NS,
			P.delay == DELAY_MAX_NS ? ", and every 5 s while it fails" : "");
		P.said_delay = P.delay;
	}
	P.next_spawn = now + P.delay;
}

/* Fills the empty slots below the target, unless restarts are delayed. */
static void
fill(void)
{
	long long t = target();
	uint64_t now = ipc_now_ns();
	int e;

	if (P.stopping || (P.delay && now < P.next_spawn))
		return;
	for (long long i = 0; i < t; i++) {
		if (P.slots[i].pid)
			continue;
		if (P.delay && P.round_start < now) {
			P.round_start = now;	/* a new round of delayed restarts */
			P.doubled = false;
		}
		if (spawn((size_t)i) == 0)
			continue;
		e = errno;
		if (!P.started_ok && P.cmd && ipc_failed_call &&
		    strcmp(ipc_failed_call, "exec") == 0) {
			warnc(e, "worker: %s: exec", P.cmd[0]);
			P.status = ipc_exec_errno_code(e);
			P.stopping = true;
			return;
		}
		spawn_failed(now, e);
		return;
	}
}

/* Signals a worker: its whole process group, unless --kill-mode process
 * (or the worker has left its group). */
static void
signal_worker(pid_t pid, int sig)
{
	if (P.group && kill(-pid, sig) == 0)
		return;
	if (kill(pid, sig) == -1 && errno != ESRCH)
		warn("worker %d: kill", (int)pid);
}

/* Tells the workers above the target to go: SIGTERM, SIGKILL after grace. */
static void
retire(void)
{
	uint64_t now = ipc_now_ns();

	for (long long i = target(); i < P.limit; i++) {
		struct slot *s = &P.slots[i];

		if (s->pid == 0)
			continue;
		if (P.nret == P.capret) {
			size_t cap = P.capret ? 2 * P.capret : 16;
			struct retiree *r = reallocarray(P.ret, cap, sizeof(*r));

			if (r == NULL)
				err(1, "retire: realloc");
			P.ret = r;
			P.capret = cap;
		}
		signal_worker(s->pid, SIGTERM);
		if (P.group) {
			keep_set((size_t)i, 0);
			keep_add(s->pid);
		}
		P.ret[P.nret++] = (struct retiree){ s->pid, s->start,
						    now + (uint64_t)(P.grace_s * NS), s->cell };
		s->pid = 0;
	}
}

/* A young failure (a signal or an exit status other than 0, within 1 s of
 * starting) may start or deepen the crash-loop delay; a worker that lived
 * 1 s ends it.  A young exit 0 is work done, neither. */
static void
throttle(uint64_t start, uint64_t now, bool failed)
{
	if (now - start >= YOUNG_NS) {
		if (P.delay)
			fprintf(stderr, "workers live normally again: restarts at once\n");
		P.streak = 0;
		P.delay = 0;
		P.said_delay = 0;
		P.fork_failed = false;
		return;
	}
	if (!P.throttle || !failed || ++P.streak < BURST)
		return;
	if (P.delay == 0) {
		P.delay = DELAY_MIN_NS;
		P.delay_since = now;
		fprintf(stderr, "crash loop: %d workers died within 1 s of starting; "
			"restarting after 100 ms, doubling up to 5 s\n", P.streak);
	} else if (start >= P.round_start && !P.doubled) {
		P.delay = P.delay * 2 > DELAY_MAX_NS ? DELAY_MAX_NS : P.delay * 2;
		P.doubled = true;
	}
	P.next_spawn = now + P.delay;
}

/* A worker started since the delay began: its 1 s alive can end it (one
 * that lived through the delay says nothing about the new ones). */
static bool
on_probation(const struct slot *s)
{
	return s->pid && s->start >= P.delay_since;
}

/* While restarts are delayed, a worker that passes 1 s alive ends it. */
static void
healthy_check(uint64_t now)
{
	if (P.delay == 0)
		return;
	for (long long i = 0; i < P.limit; i++)
		if (on_probation(&P.slots[i]) && now - P.slots[i].start >= YOUNG_NS) {
			throttle(P.slots[i].start, now, false);
			return;
		}
}

static void
log_death(pid_t pid, int st, uint64_t start, uint64_t now, const char *tag,
	  size_t left)
{
	char what[64], rest[64] = "";

	ipc_status_str(st, what, sizeof(what));
	if (left)
		snprintf(rest, sizeof(rest), "; stopped %zu process%s it left behind",
			 left, left == 1 ? "" : "es");
	fprintf(stderr, "worker %d%s %s after %.1f s%s\n", (int)pid, tag, what,
		(double)(now - start) / NS, rest);
	count_cause(what);
}

/* Finds whose death this is and forgets the worker. */
static void
bury(pid_t pid, int st, uint64_t now)
{
	if (pid == P.fifo_pid) {
		P.fifo_pid = 0;		/* restarted by the loop, unless it gave up */
		if (WIFEXITED(st) && WEXITSTATUS(st) == 1) {
			fprintf(stderr, "%s: FIFO helper gave up; no more FIFO\n", P.fifo);
			P.fifo_gone = true;
		}
		return;
	}
	if (pid == P.keeper_pid) {
		P.keeper_pid = 0;	/* restarted by the loop */
		return;
	}
	for (long long i = 0; i < P.limit; i++) {
		struct slot *s = &P.slots[i];

		if (s->pid != pid)
			continue;
		keep_set((size_t)i, 0);
		cell_give(s->cell, pid);
		log_death(pid, st, s->start, now, "", stop_leftovers(pid, now));
		s->pid = 0;
		s->exits++;
		if (!P.stopping)
			throttle(s->start, now, !WIFEXITED(st) || WEXITSTATUS(st) != 0);
		return;
	}
	for (size_t i = 0; i < P.nret; i++) {
		if (P.ret[i].pid != pid)
			continue;
		keep_del(pid);
		cell_give(P.ret[i].cell, pid);
		log_death(pid, st, P.ret[i].start, now, " (retired)",
			  stop_leftovers(pid, now));
		P.ret[i] = P.ret[--P.nret];
		return;
	}
}

/* One SIGCHLD may stand for several deaths: reaps them all. */
static void
reap(void)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		bury(pid, st, ipc_now_ns());
	if (pid == -1 && errno != ECHILD && errno != EINTR)
		warn("waitpid");
	prune_leftovers(0, false);
}

static size_t
alive(void)
{
	size_t n = 0;

	for (long long i = 0; i < P.limit; i++)
		n += P.slots[i].pid != 0;
	return n;
}

/* ---- reports ---------------------------------------------------------- */

static const int reported_sigs[] = { SIGCHLD, SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN,
				     SIGTTOU, SIGTERM, SIGINT };
#define NREPORTED (sizeof(reported_sigs) / sizeof(reported_sigs[0]))

/* How many of each signal the master received: a standard signal sent
 * again while still pending is merged by the kernel, so a storm shows here
 * as far fewer than were sent.  JSON: {"signals": [{"signal", "received"}]}. */
static int
signals_section(struct ipc_report *r)
{
	static const struct ipc_rcol cols[] = {
		{ "SIGNAL", "signal", IPC_STR, NULL, 0, SCOLS_FL_HIDDEN },
		{ "RECEIVED", "received", IPC_UINT, NULL, 0, SCOLS_FL_HIDDEN },
	};
	struct ipc_section *s = ipc_report_section(r, "signals", NULL);
	char line[256];
	size_t at;
	const char *sep = "";

	if (s == NULL)
		return -1;
	at = (size_t)snprintf(line, sizeof(line), "pool %d: signals received:", (int)P.master);
	for (size_t i = 0; i < NREPORTED && at < sizeof(line); i++) {
		if (P.seen[reported_sigs[i]] == 0)
			continue;
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s %s %lu", sep,
				       ipc_signame(reported_sigs[i]), P.seen[reported_sigs[i]]);
		sep = ",";
	}
	if (ipc_put_note(s, "%s", line) == -1)
		return -1;
	if (P.json && ipc_section_table(s, "signals", cols, 2) == 0)
		for (size_t i = 0; i < NREPORTED; i++) {
			struct libscols_line *ln = ipc_row(s);

			if (ln == NULL ||
			    ipc_cell_str(s, ln, 0, "%s", ipc_signame(reported_sigs[i])) == -1 ||
			    ipc_cell_uint(s, ln, 1, P.seen[reported_sigs[i]]) == -1)
				return -1;
		}
	if (P.seen[SIGCHLD] < P.deaths)
		return ipc_section_finding(s, "%lu deaths came with only %lu SIGCHLD: a "
			"signal sent while the same one is pending is merged into it, "
			"which is why the master reaps with waitpid(-1, WNOHANG) until "
			"none is left.", P.deaths, P.seen[SIGCHLD]);
	return 0;
}

/* The deaths by cause: a table for a person when there are any, always in
 * JSON (a top-level "causes" list). */
static int
causes_section(struct ipc_report *r)
{
	static const struct ipc_rcol cols[] = {
		{ "DEATHS", "deaths", IPC_UINT, NULL, 0, 0 },
		{ "CAUSE", "cause", IPC_STR, NULL, 0, 0 },
	};
	struct ipc_section *s;
	struct libscols_line *ln;

	if (!P.json && P.ncauses == 0)
		return 0;
	if ((s = ipc_report_section(r, NULL, NULL)) == NULL ||
	    ipc_section_table(s, "causes", cols, 2) == -1)
		return -1;
	for (size_t i = 0; i < P.ncauses; i++)
		if ((ln = ipc_row(s)) == NULL || ipc_cell_uint(s, ln, 0, P.causes[i].n) == -1 ||
		    ipc_cell_str(s, ln, 1, "%s", P.causes[i].what) == -1)
			return -1;
	return 0;
}

/* Each worker's accepted connections, the dead's and the living's: JSON
 * only (SIGUSR2's table shows the living to a person). */
static int
accepted_table(struct ipc_section *s)
{
	static const struct ipc_rcol cols[] = {
		{ "PID", "pid", IPC_INT, NULL, 0, 0 },
		{ "ACCEPTED", "accepted", IPC_UINT, NULL, 0, 0 },
	};
	struct libscols_line *ln;

	if (ipc_section_table(s, "accepted", cols, 2) == -1)
		return -1;
	for (size_t i = 0; i < P.nserved; i++)
		if ((ln = ipc_row(s)) == NULL || ipc_cell_int(s, ln, 0, P.served[i].pid) == -1 ||
		    ipc_cell_uint(s, ln, 1, P.served[i].n) == -1)
			return -1;
	for (long long i = 0; i < P.limit; i++)
		if (P.slots[i].pid &&
		    ((ln = ipc_row(s)) == NULL || ipc_cell_int(s, ln, 0, P.slots[i].pid) == -1 ||
		     ipc_cell_uint(s, ln, 1, cell_count(P.slots[i].cell)) == -1))
			return -1;
	return 0;
}

/* The smallest count among the workers of "accepted" (the dead that took
 * any and the living) over all connections: how even the spread was. */
static double
smallest_share(unsigned long n, size_t *nw)
{
	unsigned long least = ULONG_MAX, c;

	*nw = 0;
	for (size_t i = 0; i < P.nserved; i++, ++*nw)
		least = P.served[i].n < least ? P.served[i].n : least;
	for (long long i = 0; i < P.limit; i++)
		if (P.slots[i].pid) {
			c = cell_count(P.slots[i].cell);
			least = c < least ? c : least;
			++*nw;
		}
	return n && *nw ? (double)least / (double)n : 0;
}

static int
connections_finding(struct ipc_section *s)
{
	if (P.reuseport)
		return ipc_section_finding(s, "each worker listens on a socket of its own "
			"(SO_REUSEPORT): the kernel picks the socket by a hash of the "
			"connection's addresses and ports, not by which worker is waiting, "
			"so the shares follow the hash and a busy worker's connections "
			"wait for it while others are idle (SIGUSR2, ACCEPTED).");
	return ipc_section_finding(s, "each connection wakes one worker waiting in "
		"accept(2) on the shared socket, not all of them (no thundering "
		"herd since Linux 2.6); one that arrives while every worker is busy "
		"waits in the backlog for whichever calls accept(2) first, so the "
		"shares are not turns and follow how the scheduler ran the workers "
		"(SIGUSR2, ACCEPTED).");
}

/* With --listen: the address, the connections, and how they were spread. */
static int
connections_section(struct ipc_report *r)
{
	struct ipc_section *s = ipc_report_section(r, "connections", NULL);
	unsigned long n = connections();
	size_t nw;
	double least = smallest_share(n, &nw);

	if (s == NULL ||
	    ipc_put_note(s, "pool %d: listening on %s, %lu connections%s", (int)P.master,
			 P.laddr, n, P.reuseport ? ", a SO_REUSEPORT socket per worker"
						 : "") == -1 ||
	    ipc_put_str(s, "listen", NULL, P.laddr) == -1 ||
	    ipc_put_str(s, "socket", NULL, P.reuseport ? "reuseport" : "shared") == -1 ||
	    ipc_put_uint(s, "connections", NULL, n) == -1 ||
	    ipc_put_share(s, "smallest_share", NULL, least) == -1 ||
	    (P.json && accepted_table(s) == -1))
		return -1;
	if (n == 0)
		return 0;
	if (ipc_put_note(s, "pool %d: the worker that took fewest took %.1f%% of them "
			 "(%zu workers)", (int)P.master, 100 * least, nw) == -1)
		return -1;
	return connections_finding(s);
}

/* Restarts held back by the crash-loop throttle. */
static int
crash_loop_section(struct ipc_report *r)
{
	struct ipc_section *s = ipc_report_section(r, "crash_loop", NULL);

	if (s == NULL ||
	    ipc_put_note(s, "pool %d: crash loop, restarts delayed %.1f s", (int)P.master,
			 (double)P.delay / NS) == -1 ||
	    ipc_put_real(s, "delay_s", NULL, (double)P.delay / NS, "%.1f") == -1 ||
	    ipc_put_bool(s, "fork_failed", NULL, P.fork_failed) == -1)
		return -1;
	if (P.fork_failed)
		return ipc_section_finding(s, "fork(2) failed (a limit such as RLIMIT_NPROC, "
			"or memory); the delay doubles each failed round, up to 5 s, and "
			"ends when a worker lives 1 s.");
	return ipc_section_finding(s, "workers kept failing within 1 s of starting; the "
		"delay doubles each failed round, up to 5 s, and ends when a worker "
		"lives 1 s.");
}

/* The counts: one line for a person, one "pool" object in JSON. */
static int
pool_section(struct ipc_report *r)
{
	struct ipc_section *s = ipc_report_section(r, "pool", NULL);
	double up = (double)(ipc_now_ns() - P.t0) / NS;

	if (s == NULL ||
	    ipc_put_note(s, "pool %d: created %lu workers, %zu alive of %lld wanted, "
			 "%zu retiring, %zu strays, %lu deaths, up %.1f s", (int)P.master,
			 P.created, alive(), target(), P.nret, P.nstrays, P.deaths, up) == -1 ||
	    ipc_put_int(s, "master", NULL, P.master) == -1 ||
	    ipc_put_uint(s, "created", NULL, P.created) == -1 ||
	    ipc_put_uint(s, "alive", NULL, alive()) == -1 ||
	    ipc_put_int(s, "wanted", NULL, target()) == -1 ||
	    ipc_put_uint(s, "retiring", NULL, P.nret) == -1 ||
	    ipc_put_uint(s, "strays", NULL, P.nstrays) == -1 ||
	    ipc_put_str(s, "kill_mode", NULL, P.group ? "group" : "process") == -1 ||
	    ipc_put_uint(s, "deaths", NULL, P.deaths) == -1 ||
	    ipc_put_real(s, "uptime_s", NULL, up, "%.3f") == -1 ||
	    ipc_put_real(s, "restart_delay_s", NULL, (double)P.delay / NS, "%.3f") == -1 ||
	    ipc_put_uint(s, "failed_forks", NULL, P.spawn_failures) == -1)
		return -1;
	if (P.spawn_failures)
		return ipc_put_note(s, "pool %d: %lu failed forks", (int)P.master,
				    P.spawn_failures);
	return 0;
}

/* Prints R, frees it; false with errno set when it could not be made or
 * written. */
static bool
report_done(struct ipc_report *r, int rc)
{
	int e;

	if (rc == 0)
		rc = ipc_report_end(r);
	e = errno;
	ipc_report_free(r);
	errno = e;
	return rc == 0;
}

/* SIGUSR1 and the end: the counts, the connections, the throttle, the
 * signals, the deaths by cause; a new report each time.  On stderr; the
 * final one in JSON goes to stdout. */
static bool
report_counts(FILE *fp)
{
	struct ipc_report *r = ipc_report_new(fp, P.json);
	bool ok;

	if (r == NULL)
		ok = false;
	else
		ok = report_done(r, (pool_section(r) == -1 ||
				     (P.lfd != -1 && connections_section(r) == -1) ||
				     (P.delay && crash_loop_section(r) == -1) ||
				     signals_section(r) == -1 || causes_section(r) == -1) ? -1 : 0);
	if (!ok && P.json) {	/* a lost JSON document is an error, */
		P.report_errno = errno;
		return false;
	}
	return true;		/* stderr for a person, as a log */
}

/* The strays that descend from worker PID. */
static size_t
strays_of(pid_t pid)
{
	size_t n = 0;

	for (size_t i = 0; i < P.nstrays; i++)
		n += strays[i].worker == pid;
	return n;
}

static int
worker_row(struct ipc_section *s, long long slot, pid_t pid, uint64_t start,
	   unsigned long exits, size_t cell, const char *state, uint64_t now)
{
	struct libscols_line *ln = ipc_row(s);

	if (ln == NULL ||
	    (slot >= 0 && ipc_cell_int(s, ln, 0, slot) == -1) ||
	    ipc_cell_int(s, ln, 1, pid) == -1 ||
	    ipc_cell_num(s, ln, 2, (double)(now - start) / NS) == -1 ||
	    (slot >= 0 && ipc_cell_uint(s, ln, 3, exits) == -1) ||
	    (P.lfd != -1 && ipc_cell_uint(s, ln, 4, cell_count(cell)) == -1) ||
	    ipc_cell_uint(s, ln, 5, strays_of(pid)) == -1)
		return -1;
	return ipc_cell_str(s, ln, 6, "%s", state);
}

static int
stray_row(struct ipc_section *s, const struct stray *st)
{
	struct libscols_line *ln = ipc_row(s);

	if (ln == NULL || ipc_cell_int(s, ln, 1, st->pid) == -1)
		return -1;
	if (st->worker)
		return ipc_cell_str(s, ln, 6, "stray of worker %d", (int)st->worker);
	return ipc_cell_str(s, ln, 6, "stray");
}

/* The live workers, retiring ones last, then the strays. */
static int
workers_section(struct ipc_report *r)
{
	static const struct ipc_rcol cols[] = {
		{ "SLOT", "slot", IPC_INT, NULL, 0, 0 },
		{ "PID", "pid", IPC_INT, NULL, 0, 0 },
		{ "AGE-S", "age_s", IPC_REAL, "%.1f", 0, 0 },
		{ "EXITS", "exits", IPC_UINT, NULL, 0, 0 },
		{ "ACCEPTED", "accepted", IPC_UINT, NULL, 0, 0 },
		{ "STRAYS", "strays", IPC_UINT, NULL, 0, 0 },
		{ "STATE", "state", IPC_STR, NULL, 0, 0 },
	};
	struct ipc_section *s = ipc_report_section(r, "workers", NULL);
	uint64_t now = ipc_now_ns();

	if (s == NULL ||
	    ipc_put_note(s, "pool %d: %zu workers, %zu strays", (int)P.master,
			 alive() + P.nret, P.nstrays) == -1 ||
	    ipc_put_int(s, "master", NULL, P.master) == -1 ||
	    ipc_section_table(s, "workers", cols, 7) == -1)
		return -1;
	for (long long i = 0; i < P.limit; i++)
		if (P.slots[i].pid &&
		    worker_row(s, i, P.slots[i].pid, P.slots[i].start, P.slots[i].exits,
			       P.slots[i].cell, "running", now) == -1)
			return -1;
	for (size_t i = 0; i < P.nret; i++)
		if (worker_row(s, -1, P.ret[i].pid, P.ret[i].start, 0, P.ret[i].cell,
			       "retiring", now) == -1)
			return -1;
	for (size_t i = 0; i < P.nstrays; i++)
		if (stray_row(s, &strays[i]) == -1)
			return -1;
	return 0;
}

/* SIGUSR2: the workers table, a new report each time, on stderr. */
static void
report_workers(void)
{
	struct ipc_report *r = ipc_report_new(stderr, P.json);

	if (r == NULL || !report_done(r, workers_section(r)))
		warn("report");
}

/* ---- the FIFO --------------------------------------------------------- */

/* Hands "PID\n" to the readers of one open: one line at a time on a
 * one-page pipe, so poll(POLLOUT) says when a reader has taken it; stops
 * when no reader is left (POLLERR) or after FIFO_SESSION lines.  Returns
 * true in that last case: a reader is reading to end of file. */
static bool
fifo_session(int fd, const char *line, size_t len)
{
	struct pollfd pfd = { .fd = fd };

	fcntl(fd, F_SETPIPE_SZ, 4096);
	for (int i = 0; i < FIFO_SESSION; i++) {
		if (write(fd, line, len) != (ssize_t)len)
			return false;
		pfd.events = POLLOUT;	/* the page is free again: line taken */
		if (poll(&pfd, 1, -1) == -1 || (pfd.revents & POLLERR))
			return false;
		pfd.events = 0;		/* another reader waiting? */
		if (poll(&pfd, 1, 20) != 0)
			return false;
	}
	return true;
}

static void __attribute__((noreturn))
fifo_helper(void)
{
	char line[32];
	size_t len;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "pool-fifo");
	setproctitle("fifo %s", P.fifo);
	len = (size_t)snprintf(line, sizeof(line), "%d\n", (int)P.master);
	for (;;) {
		if ((fd = open(P.fifo, O_WRONLY | O_CLOEXEC)) == -1) {
			if (errno == EINTR)
				continue;
			warn("%s: open", P.fifo);
			_exit(1);
		}
		bool greedy = fifo_session(fd, line, len);

		close(fd);
		if (greedy)		/* let it see end of file before reopening */
			nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	}
}

/* The FIFO helper is a child too, but not a worker: it dies with the
 * master and is restarted (at most once a second) if something kills it. */
static void
fifo_start(void)
{
	static uint64_t last;
	uint64_t now = ipc_now_ns();
	sigset_t none;
	pid_t pid;

	if (P.fifo == NULL || P.fifo_gone || P.fifo_pid || P.stopping ||
	    (last && now - last < NS))
		return;
	last = now;
	sigemptyset(&none);
	if ((pid = ipc_fork(&none)) == -1) {
		warn("%s: %s", P.fifo, ipc_failed_call);
		return;
	}
	if (pid == 0) {
		if (die_with_master(NULL) == -1)
			_exit(125);
		closefrom(STDERR_FILENO + 1);
		fifo_helper();
	}
	P.fifo_pid = pid;
}

static void
fifo_setup(bool asked)
{
	struct stat st;

	if (stat(P.fifo, &st) == 0) {
		if (S_ISFIFO(st.st_mode))
			return;
		if (!asked) {
			warnx("%s: not a FIFO; serving no FIFO", P.fifo);
			P.fifo = NULL;
			return;
		}
		ipc_usage("%s: exists and is not a FIFO", P.fifo);
	}
	if (!asked) {
		P.fifo = NULL;
		return;
	}
	if (errno != ENOENT)
		err(1, "%s: stat", P.fifo);
	P.fifo_make = true;	/* once the pidfile is ours: a refusal makes nothing */
}

static void
fifo_make(void)
{
	if (!P.fifo_make)
		return;
	if (mkfifo(P.fifo, 0600) == -1) {
		int e = errno;

		if (P.pfh)
			pidfile_remove(P.pfh);
		errno = e;
		err(1, "%s: mkfifo", P.fifo);
	}
	P.fifo_made = true;
}

/* ---- signals and the loop --------------------------------------------- */

static void
reload(void)
{
	char why[PATH_MAX + 128];
	long long n;

	if (parse_config(P.config, &n, why, sizeof(why)) == -1) {
		fprintf(stderr, "reload: %s; keeping N=%lld\n", why, P.n);
		return;
	}
	fprintf(stderr, "reload: N=%lld (was %lld%s)\n", n, target(),
		P.adj ? ", with TTIN/TTOU" : "");
	P.n = n;
	P.adj = 0;
	setproctitle("master N=%lld", n);
}

/* Sends sig to every worker's group, every leftover group and every stray
 * (and SIGKILL to the FIFO helper). */
static void
kill_all(int sig)
{
	for (long long i = 0; i < P.limit; i++)
		if (P.slots[i].pid)
			signal_worker(P.slots[i].pid, sig);
	for (size_t i = 0; i < P.nret; i++)
		signal_worker(P.ret[i].pid, sig);
	for (size_t i = 0; i < P.nleft; i++)
		kill(-P.left[i].pgid, sig);
	if (P.group && find_strays())
		stop_strays(sig);
	if (P.fifo_pid)
		kill(P.fifo_pid, SIGKILL);
}

static void
stop(int sig)
{
	if (P.stopping) {		/* a second request: no more grace */
		kill_all(SIGKILL);
		return;
	}
	size_t n = P.group ? find_strays() : 0;

	if (n)
		fprintf(stderr, "%s: stopping %zu workers and %zu stray%s\n", ipc_signame(sig),
			alive() + P.nret, n, n == 1 ? "" : "s");
	else
		fprintf(stderr, "%s: stopping %zu workers\n", ipc_signame(sig),
			alive() + P.nret);
	P.stopping = true;
	P.stop_at = ipc_now_ns() + (uint64_t)(P.grace_s * NS);
	kill_all(SIGTERM);
	P.stopped_strays = n;
}

/* Reads every pending signal; a storm collapses into one pass here. */
static void
on_signals(void)
{
	bool hup = false, usr1 = false, usr2 = false;
	int sig;

	while ((sig = ipc_sigfd_read(P.sfd, NULL)) > 0) {
		if (sig < NSIG)
			P.seen[sig]++;
		switch (sig) {
		case SIGHUP: hup = true; break;
		case SIGUSR1: usr1 = true; break;
		case SIGUSR2: usr2 = true; break;
		case SIGTTIN: P.adj += target() < P.limit; break;
		case SIGTTOU: P.adj -= target() > 0; break;
		case SIGTERM: case SIGINT: stop(sig); break;
		default: break;		/* SIGCHLD, SIGPIPE */
		}
	}
	if (sig == -1)
		err(1, "signalfd: %s", ipc_failed_call);
	reap();
	if (hup && !P.stopping)
		reload();
	if (usr1 || usr2)
		find_strays();
	if (usr1)
		report_counts(stderr);
	if (usr2)
		report_workers();
}

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* The next deadline, or 0 when nothing is pending: then poll sleeps. */
static uint64_t
next_deadline(void)
{
	uint64_t t = 0;

	if (P.stopping)		/* and every 100 ms a look for strays */
		return P.group ? earliest(P.stop_at, ipc_now_ns() + 100 * MS) : P.stop_at;
	for (size_t i = 0; i < P.nleft; i++)
		t = earliest(t, P.left[i].kill_at);
	if (P.delay && alive() < (size_t)target())
		t = P.next_spawn;
	for (size_t i = 0; i < P.nret; i++)
		t = earliest(t, P.ret[i].kill_at);
	if (P.delay)
		for (long long i = 0; i < P.limit; i++)
			if (on_probation(&P.slots[i]))
				t = earliest(t, P.slots[i].start + YOUNG_NS);
	if ((P.fifo && !P.fifo_gone && P.fifo_pid == 0) || (P.group && P.keeper_pid == 0))
		t = earliest(t, ipc_now_ns() + NS);
	return t;
}

/* Deadlines that have passed: SIGKILL to late retirees and stoppers. */
static void
on_time(uint64_t now)
{
	if (P.stopping && now >= P.stop_at) {
		kill_all(SIGKILL);
		P.stop_at = now + NS;
	}
	for (size_t i = 0; i < P.nret; i++)
		if (P.ret[i].kill_at && now >= P.ret[i].kill_at) {
			kill(P.ret[i].pid, SIGKILL);
			P.ret[i].kill_at = 0;
		}
	prune_leftovers(now, true);
	healthy_check(now);
}

static int
poll_timeout(void)
{
	uint64_t d = next_deadline(), now = ipc_now_ns();

	if (d == 0)
		return -1;
	if (d <= now)
		return 0;
	return (int)((d - now + MS - 1) / MS);
}

/* While stopping, once the workers are gone: are strays still there?
 * They get the signal of the moment, SIGKILL once the grace has passed. */
static bool
strays_left(void)
{
	if (!P.group || find_strays() == 0)
		return false;
	stop_strays(ipc_now_ns() >= P.stop_at ? SIGKILL : SIGTERM);
	if (P.nstrays > P.stopped_strays)
		P.stopped_strays = P.nstrays;
	return true;
}

static void
loop(void)
{
	struct pollfd pfd = { .fd = P.sfd, .events = POLLIN };
	int n;

	for (;;) {
		fill();
		retire();
		fifo_start();
		keeper_start();
		if (P.stopping && alive() == 0 && P.nret == 0 && P.fifo_pid == 0 &&
		    P.nleft == 0 && !strays_left())
			return;
		n = poll(&pfd, 1, poll_timeout());
		if (n == -1 && errno != EINTR)
			err(1, "poll");
		if (n > 0)
			on_signals();
		on_time(ipc_now_ns());
	}
}

/* ---- start and end ---------------------------------------------------- */

static double
parse_rate(const char *s)
{
	char *end;
	double r;

	errno = 0;
	r = strtod(s, &end);
	if (end != s && *end == '%' && end[1] == '\0') {
		r /= 100;
		end++;
	}
	if (errno || end == s || *end || !(r >= 0 && r <= 1))
		ipc_usage("--crash '%s': want a rate from 0 to 1, or a percentage", s);
	return r;
}

static double
seconds_arg(const char *opt, const char *s, double max)
{
	const char *e;
	double v;

	if (ipc_parse_seconds(s, max, &v, &e) == -1)
		ipc_usage("%s '%s': %s", opt, s, e);
	return v;
}

static long long
count_arg(const char *opt, const char *s, long long min, long long max)
{
	const char *e;
	long long v;

	if (ipc_parse_count(s, min, max, &v, &e) == -1)
		ipc_usage("%s '%s': %s", opt, s, e);
	return v;
}

static bool
kill_mode(const char *s)
{
	if (strcmp(s, "group") == 0)
		return true;
	if (strcmp(s, "process") != 0)
		ipc_usage("--kill-mode '%s': want group or process", s);
	return false;
}

/* CONFIG [-- COMMAND [ARG...]] */
static void
parse_operands(int argc, char **argv, int i)
{
	if (i >= argc)
		ipc_usage("a CONFIG file holding the number of workers is required");
	P.config = argv[i++];
	if (i == argc)
		return;
	if (strcmp(argv[i], "--") != 0)
		ipc_usage("unexpected '%s' after CONFIG (options go before it, "
			  "a COMMAND after --)", argv[i]);
	if (++i == argc)
		ipc_usage("-- wants a COMMAND after it");
	P.cmd = &argv[i];
}

static bool
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fifo", required_argument, NULL, 'f' },
		{ "no-fifo", no_argument, NULL, OPT_NOFIFO },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "crash", required_argument, NULL, 'c' },
		{ "sleep", required_argument, NULL, 's' },
		{ "loops", required_argument, NULL, 'n' },
		{ "grace", required_argument, NULL, 'g' },
		{ "limit", required_argument, NULL, 'l' },
		{ "kill-mode", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "reuseport", no_argument, NULL, OPT_REUSEPORT },
		{ "no-throttle", no_argument, NULL, OPT_NOTHROTTLE },
		{ "json", no_argument, NULL, 'J' },
		IPC_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	bool asked = false, nofifo = false;
	int c;

	while ((c = getopt_long(argc, argv, "+f:p:c:s:n:g:l:k:jJhV", longopts, NULL)) != -1) {
		if (ipc_common_option(c, &help))
			continue;
		switch (c) {
		case 'f': P.fifo = optarg; asked = true; break;
		case OPT_NOFIFO: nofifo = true; break;
		case 'p': P.pidfile = optarg; break;
		case 'c': P.crash = parse_rate(optarg); break;
		case 's': P.sleep_s = seconds_arg("--sleep", optarg, 86400); break;
		case 'n': P.loops = count_arg("--loops", optarg, 1, 1000000000); break;
		case 'g': P.grace_s = seconds_arg("--grace", optarg, 3600); break;
		case 'l': P.limit = count_arg("--limit", optarg, 0, 1000000); break;
		case 'k': P.group = kill_mode(optarg); break;
		case OPT_LISTEN: P.listen = optarg; break;
		case OPT_REUSEPORT: P.reuseport = true; break;
		case OPT_NOTHROTTLE: P.throttle = false; break;
		case 'j':
		case 'J': P.json = true; break;
		}
	}
	parse_operands(argc, argv, optind);
	if (P.cmd && P.crash > 0)
		ipc_usage("--crash applies to built-in workers, not to a COMMAND");
	if (nofifo && asked)
		ipc_usage("--fifo and --no-fifo contradict each other");
	if (P.reuseport && P.listen == NULL)
		ipc_usage("--reuseport applies to --listen");
	if (nofifo)
		P.fifo = NULL;
	return asked;
}

/* setproctitle(3) writes over the original argument strings, which the
 * options point into: keep copies. */
static void
keep_args(void)
{
	size_t n = 0;
	char **cmd;

	if ((P.config = strdup(P.config)) == NULL ||
	    (P.fifo && (P.fifo = strdup(P.fifo)) == NULL) ||
	    (P.pidfile && (P.pidfile = strdup(P.pidfile)) == NULL))
		err(1, "strdup");
	if (P.cmd == NULL)
		return;
	while (P.cmd[n])
		n++;
	if ((cmd = calloc(n + 1, sizeof(*cmd))) == NULL)
		err(1, "calloc");
	for (size_t i = 0; i < n; i++)
		if ((cmd[i] = strdup(P.cmd[i])) == NULL)
			err(1, "strdup");
	P.cmd = cmd;
}

/* pidfile_open(3) truncates the file: refuse one that holds anything but a
 * PID, so that a mistyped path costs no data. */
static void
pidfile_check(void)
{
	char buf[64], why[256];
	struct stat st;
	size_t got;

	if (stat(P.pidfile, &st) == -1)
		return;		/* pidfile_open says what is wrong, if anything */
	if (!S_ISREG(st.st_mode))
		ipc_usage("%s: not a regular file, so not a pidfile", P.pidfile);
	if (st.st_size == 0)
		return;
	if (st.st_size > 32 ||
	    slurp(P.pidfile, buf, sizeof(buf), &got, why, sizeof(why)) == -1 ||
	    strspn(buf, "0123456789") + (buf[strspn(buf, "0123456789")] == '\n') !=
	    strlen(buf))
		ipc_usage("%s: holds something other than a PID; not overwriting it",
			  P.pidfile);
}

static void
take_pidfile(void)
{
	pid_t other = -1;

	if (P.pidfile == NULL)
		return;
	pidfile_check();
	if ((P.pfh = pidfile_open(P.pidfile, 0600, &other)) == NULL) {
		if (errno == EEXIST)
			errx(1, "%s: held by PID %d: another pool master is running",
			     P.pidfile, (int)other);
		err(1, "%s: pidfile_open", P.pidfile);
	}
	if (pidfile_write(P.pfh) == -1)
		err(1, "%s: pidfile_write", P.pidfile);
	if (fcntl(pidfile_fileno(P.pfh), F_SETFD, FD_CLOEXEC) == -1)
		err(1, "%s: fcntl", P.pidfile);
}

/* The signals the master takes from its signalfd. */
static void
master_sigs(sigset_t *set)
{
	const int sigs[] = { SIGCHLD, SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT,
			     SIGTTIN, SIGTTOU, SIGPIPE };

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
}

static void
start(void)
{
	sigset_t set;

	master_sigs(&set);
	if ((P.sfd = ipc_sigfd_open(&set)) == -1)
		err(1, "signals: %s", ipc_failed_call);
	if ((P.slots = calloc((size_t)(P.limit ? P.limit : 1), sizeof(*P.slots))) == NULL)
		err(1, "workers: calloc");
	/* orphans of the workers' own children come here to be reaped */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		warn("prctl: PR_SET_CHILD_SUBREAPER");
	P.master = getpid();
	P.t0 = ipc_now_ns();
	ipc_proctitle_init();
	cells_init();
	if (P.group) {
		P.nkeep = 2 * (size_t)P.limit + 64;
		P.keep = mmap(NULL, P.nkeep * sizeof(*P.keep), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (P.keep == MAP_FAILED)
			err(1, "keeper: mmap");
		keeper_start();
	}
	setproctitle("master N=%lld", P.n);
	fprintf(stderr, "pool %d: N=%lld, %s workers%s%s%s%s\n", (int)P.master, P.n,
		P.cmd ? P.cmd[0] : "built-in", P.fifo ? ", PID on FIFO " : "",
		P.fifo ? P.fifo : "", P.lfd != -1 ? ", listening on " : "",
		P.lfd != -1 ? P.laddr : "");
}

static void
finish(void)
{
	bool ok;

	keeper_stop();
	P.nstrays = P.stopped_strays;
	ok = report_counts(P.json ? stdout : stderr);
	if (P.keep)
		munmap(P.keep, P.nkeep * sizeof(*P.keep));
	free(strays);
	free(P.left);
	free(P.causes);
	free(P.served);
	free(P.cell_used);
	if (P.cells)
		munmap(P.cells, P.ncells * sizeof(*P.cells));
	if (P.lfd != -1)
		close(P.lfd);
	if (P.fifo_made && unlink(P.fifo) == -1)
		warn("%s: unlink", P.fifo);
	if (P.pfh && pidfile_remove(P.pfh) == -1)
		warn("%s: pidfile_remove", P.pidfile);
	free(P.slots);
	free(P.ret);
	free((char *)P.config);
	free((char *)P.fifo);
	free((char *)P.pidfile);
	for (size_t i = 0; P.cmd && P.cmd[i]; i++)
		free(P.cmd[i]);
	free(P.cmd);
	close(P.sfd);
	if (!ok) {		/* the report went nowhere: say so, exit 1 */
		clearerr(stdout);	/* said once, here, not again at exit */
		if (P.report_errno == EPIPE)
			exit(0);
		fprintf(stderr, "%s: stdout: write error: %s\n", ipc_progname(),
			strerror(P.report_errno));
		exit(1);
	}
}

int
pool_main(int argc, char **argv)
{
	char why[PATH_MAX + 128];
	sigset_t set;
	bool asked;

	P.fifo = DEFAULT_FIFO;	/* only if it exists */
	P.sleep_s = 1;
	P.loops = 10;
	P.grace_s = 2;
	P.limit = DEFAULT_LIMIT;
	P.throttle = true;
	P.group = true;
	P.lfd = -1;
	asked = parse_args(argc, argv);
	if (parse_config(P.config, &P.n, why, sizeof(why)) == -1)
		ipc_usage("%s", why);
	if (P.fifo)
		fifo_setup(asked);
	keep_args();
	if (P.listen)
		listen_open(P.listen);	/* before anything is made or started */
	/* blocked before the pidfile and the FIFO are made (a lookup of the
	 * --listen host may take long, and SIGINT still ends that): from here
	 * a SIGTERM waits in the signalfd and stops the pool with 0, as a
	 * service should, removing what it made */
	master_sigs(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		err(1, "sigprocmask");
	take_pidfile();
	fifo_make();
	start();
	loop();
	if (P.status)
		warnx("%s: cannot run it; stopping", P.cmd[0]);
	finish();
	return P.status;
}
