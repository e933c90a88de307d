/* Unit tests for the /proc readers (src/core/procfs.c).  The truth is what
 * the test process knows of itself (getpid, getppid, getpgrp, the address of
 * its own code and stack, an anonymous mapping whose pages it touched) and of
 * a child it forked into a known state (its own group, a name set with
 * prctl, bytes written, stopped; then a zombie), and hand-written lines,
 * each cut or broken in one place. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ipclab/proc.h"
#include "ipclab/procfs.h"

static long pg;

static FILE *
text(const char *s)
{
	FILE *fp = fmemopen((void *)s, strlen(s), "r");

	assert_non_null(fp);
	return fp;
}

static void
expect_maps_refusal(const char *s, const char *why)
{
	struct ipc_maps ms = { NULL, 0 };
	FILE *fp = text(s);

	errno = 0;
	assert_int_equal(ipc_maps_parse(fp, NULL, NULL, &ms), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(ipc_failed_why, why);
	assert_null(ms.v);
	assert_int_equal(ms.n, 0);
	fclose(fp);
}

static void
test_map_lines(void **state)
{
	static const char *const badline[] = {
		"", "7f00-\n", "zz-7f01 r-xp 00000000 08:02 1 /x\n",
		"7f01-7f00 r-xp 00000000 08:02 1 /x\n", "7f00-7f00 r-xp 00000000 08:02 1 /x\n", "7f00-7f01 rwq 00000000 08:02 1\n",
		"7f00-7f01 r-xp 0000 08 1\n", "7f00-7f01 r-xp 00000000 08:02 x\n",
		"7f00-7f01 r-xp 00000000 08:02 12x /x\n", "-7f01 r-xp 00000000 08:02 1\n",
		"ffffffffffffffffff-1 r-xp 00000000 08:02 1\n", "7F00-7F01 r-xp 0 0:0 0\n",
	};
	struct ipc_map m;

	(void)state;
	assert_int_equal(ipc_map_parse("55d1c0a00000-55d1c0a02000 r-xp 00002000 fe:01 "
				       "1314690                    /usr/bin/true (deleted)\n", &m), 0);
	assert_int_equal(m.lo, 0x55d1c0a00000);
	assert_int_equal(m.hi, 0x55d1c0a02000);
	assert_string_equal(m.perms, "r-xp");
	assert_int_equal(m.off, 0x2000);
	assert_int_equal(m.maj, 0xfe);
	assert_int_equal(m.mnr, 1);
	assert_int_equal(m.ino, 1314690);
	assert_string_equal(m.path, "/usr/bin/true (deleted)");
	assert_int_equal(ipc_map_parse("7ffd0000-7ffd1000 rw-p 00000000 00:00 0 \n", &m), 0);
	assert_string_equal(m.path, "");
	assert_int_equal(ipc_map_parse("7ffd0000-7ffd1000 rw-p 00000000 00:00 0\n", &m), 0);
	assert_int_equal(ipc_map_parse("7ffd0000-7ffd1000 rw-p 00000000 00:00 0      [stack]", &m), 0);
	assert_string_equal(m.path, "[stack]");
	for (size_t i = 0; i < sizeof(badline) / sizeof(badline[0]); i++) {
		errno = 0;
		assert_int_equal(ipc_map_parse(badline[i], &m), -1);
		assert_int_equal(errno, EINVAL);
		assert_true(strncmp(ipc_failed_why, "corrupt: ", 9) == 0);
	}
}

static const char smaps_text[] =
	"1000-5000 rw-p 00000000 00:00 0 \n"
	"Size:                 16 kB\n"
	"KernelPageSize:        4 kB\n"
	"Rss:                   8 kB\n"
	"Pss:                   6 kB\n"
	"Shared_Clean:          1 kB\n"
	"Shared_Dirty:          2 kB\n"
	"Private_Clean:         3 kB\n"
	"Private_Dirty:         4 kB\n"
	"Anonymous:             8 kB\n"
	"Swap:                  5 kB\n"
	"THPeligible:    0\n"
	"VmFlags: rd wr mr mw me ac sd \n"
	"7000-8000 r--p 00001000 08:01 42    /lib/x.so\n"
	"Rss:                   4 kB\n";

static bool
keep_anon(const struct ipc_map *m, void *arg)
{
	(void)arg;
	return m->path[0] == '\0';
}

static void
test_smaps_text(void **state)
{
	struct ipc_maps ms;
	FILE *fp = text(smaps_text);

	(void)state;
	assert_int_equal(ipc_maps_parse(fp, NULL, NULL, &ms), 0);
	fclose(fp);
	assert_int_equal(ms.n, 2);
	assert_int_equal(ms.v[0].size, 16);
	assert_int_equal(ms.v[0].rss, 8);
	assert_int_equal(ms.v[0].pss, 6);
	assert_int_equal(ms.v[0].shared_clean, 1);
	assert_int_equal(ms.v[0].shared_dirty, 2);
	assert_int_equal(ms.v[0].private_clean, 3);
	assert_int_equal(ms.v[0].private_dirty, 4);
	assert_int_equal(ms.v[0].anonymous, 8);
	assert_int_equal(ms.v[0].swap, 5);
	assert_int_equal(ms.v[1].rss, 4);
	assert_int_equal(ms.v[1].swap, 0);
	assert_ptr_equal(ipc_maps_find(&ms, 0x7fff), &ms.v[1]);
	assert_ptr_equal(ipc_maps_find(&ms, 0x1000), &ms.v[0]);
	assert_null(ipc_maps_find(&ms, 0x5000));
	assert_true(ipc_map_is(&ms.v[1], makedev(8, 1), 42, NULL));
	assert_false(ipc_map_is(&ms.v[1], makedev(8, 2), 42, NULL));
	assert_true(ipc_map_is(&ms.v[1], 0, 0, "/lib/x.so"));
	assert_false(ipc_map_is(&ms.v[0], 0, 0, ""));
	ipc_maps_free(&ms);
	assert_null(ms.v);
	/* kept one of two: the other's sizes do not spill into it */
	fp = text(smaps_text);
	assert_int_equal(ipc_maps_parse(fp, keep_anon, NULL, &ms), 0);
	fclose(fp);
	assert_int_equal(ms.n, 1);
	assert_int_equal(ms.v[0].rss, 8);
	ipc_maps_free(&ms);
}

/* Every cut of the smaps text above that ends inside a line is refused. */
static void
test_smaps_truncated(void **state)
{
	char buf[sizeof(smaps_text)], why[64];
	size_t ln = 1;

	(void)state;
	for (size_t len = 1; len < sizeof(smaps_text) - 1; len++) {
		memcpy(buf, smaps_text, len);
		buf[len] = '\0';
		if (smaps_text[len - 1] == '\n') {
			ln++;
			continue;
		}
		snprintf(why, sizeof(why), "truncated in line %zu", ln);
		expect_maps_refusal(buf, why);
	}
}

static void
test_smaps_corrupt(void **state)
{
	(void)state;
	expect_maps_refusal("Rss:   4 kB\n1000-2000 rw-p 0 00:00 0\n",
			    "corrupt: line 1: a field before any mapping");
	expect_maps_refusal("1000-2000 rw-p 0 00:00 0\nRss:   4 MB\n",
			    "corrupt: line 2: a size that is not \"N kB\"");
	expect_maps_refusal("1000-2000 rw-p 0 00:00 0\nRss:  kB\n",
			    "corrupt: line 2: a size that is not \"N kB\"");
	expect_maps_refusal("1000-2000 rw-p 0 00:00 0\nPss: 99999999999999999999 kB\n",
			    "corrupt: line 2: a size that is not \"N kB\"");
	expect_maps_refusal("1000-2000 rw-p 0 00:00 0\n\n", "corrupt: line 2: not an address range");
	expect_maps_refusal("1000-2000 rw-p 0 00:00 0\nhello\n",
			    "corrupt: line 2: not an address range");
}

static bool
keep_exe(const struct ipc_map *m, void *arg)
{
	const struct stat *st = arg;

	return ipc_map_is(m, st->st_dev, st->st_ino, NULL);
}

/* Our own maps: our code lies in a mapping of our executable, our stack in
 * [stack]; kept only the executable's, every mapping is of it. */
static void
test_own_maps(void **state)
{
	char exe[PATH_MAX];
	struct ipc_maps ms;
	const struct ipc_map *m;
	struct stat st;
	int local = 0;

	(void)state;
	assert_non_null(realpath("/proc/self/exe", exe));
	assert_int_equal(stat(exe, &st), 0);
	assert_int_equal(ipc_maps_read(getpid(), false, NULL, NULL, &ms), 0);
	assert_non_null(m = ipc_maps_find(&ms, (uint64_t)(uintptr_t)&test_own_maps));
	assert_string_equal(m->path, exe);
	assert_true(strchr(m->perms, 'x') != NULL);
	assert_non_null(m = ipc_maps_find(&ms, (uint64_t)(uintptr_t)&local));
	assert_string_equal(m->path, "[stack]");
	ipc_maps_free(&ms);
	assert_int_equal(ipc_maps_read(getpid(), false, keep_exe, &st, &ms), 0);
	assert_true(ms.n >= 2);
	for (size_t i = 0; i < ms.n; i++)
		assert_string_equal(ms.v[i].path, exe);
	ipc_maps_free(&ms);
	assert_int_equal(ipc_maps_read(0, false, NULL, NULL, &ms), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(ipc_failed_call, "open");
}

/* Four anonymous pages, two of them written: smaps and pagemap agree. */
static void
test_own_smaps_pagemap(void **state)
{
	char *p = mmap(NULL, (size_t)pg * 4, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const struct ipc_map *m;
	struct ipc_maps ms;
	struct ipc_page page;
	int fd;

	(void)state;
	assert_true(p != MAP_FAILED);
	p[0] = 1;
	p[2 * pg] = 1;
	assert_int_equal(ipc_maps_read(getpid(), true, NULL, NULL, &ms), 0);
	assert_non_null(m = ipc_maps_find(&ms, (uint64_t)(uintptr_t)p));
	assert_int_equal(m->lo, (uint64_t)(uintptr_t)p);
	assert_true(m->size >= 4 * pg / 1024);	/* it may merge with a neighbour */
	assert_true(m->rss >= 2 * pg / 1024);
	assert_true(m->private_dirty >= 2 * pg / 1024);
	assert_true(m->anonymous >= 2 * pg / 1024);
	ipc_maps_free(&ms);
	assert_true((fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) >= 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ipc_pagemap_get(fd, (uint64_t)(uintptr_t)(p + i * pg), &page), 0);
		assert_int_equal(page.present, i % 2 == 0);
		if (!page.present || geteuid() != 0)
			assert_int_equal(page.pfn, 0);
		else
			assert_true(page.pfn != 0);
	}
	close(fd);
	assert_int_equal(munmap(p, (size_t)pg * 4), 0);
}

static void
test_page_decode(void **state)
{
	struct ipc_page p;

	(void)state;
	ipc_page_decode(UINT64_C(1) << 63 | UINT64_C(1) << 61 | UINT64_C(1) << 55 | 0x1234, &p);
	assert_true(p.present && p.file_or_shared && p.soft_dirty);
	assert_false(p.swapped || p.exclusive);
	assert_int_equal(p.pfn, 0x1234);
	ipc_page_decode(UINT64_C(1) << 62 | UINT64_C(1) << 56 | 0x55, &p);
	assert_true(p.swapped && p.exclusive);
	assert_false(p.present);
	assert_int_equal(p.pfn, 0);
	ipc_page_decode(~UINT64_C(0), &p);
	assert_int_equal(p.pfn, (UINT64_C(1) << 55) - 1);
}

/* A stat line of 24 fields (the kernel writes 52), comm with ") (" in it. */
static const char stat_text[] =
	"4242 (a) (b c) S 1 4242 4000 34817 4242 4194560 100 0 2 0 7 3 0 0 20 -5 1 0 "
	"123456 8392704 224\n";

static void
test_stat_text(void **state)
{
	struct ipc_stat s;

	(void)state;
	assert_int_equal(ipc_stat_parse(stat_text, strlen(stat_text), &s), 0);
	assert_int_equal(s.pid, 4242);
	assert_string_equal(s.comm, "a) (b c");
	assert_int_equal(s.state, 'S');
	assert_int_equal(s.ppid, 1);
	assert_int_equal(s.pgid, 4242);
	assert_int_equal(s.sid, 4000);
	assert_int_equal(s.tty, 34817);
	assert_int_equal(s.minflt, 100);
	assert_int_equal(s.majflt, 2);
	assert_int_equal(s.utime, 7);
	assert_int_equal(s.stime, 3);
	assert_int_equal(s.priority, 20);
	assert_int_equal(s.nice, -5);
	assert_int_equal(s.threads, 1);
	assert_int_equal(s.starttime, 123456);
	assert_int_equal(s.vsize, 8392704);
	assert_int_equal(s.rss, 224);
}

/* Every proper prefix of a line is refused as cut, saying in which field. */
static void
test_stat_truncated(void **state)
{
	static const char line[] = "4242 (true) S 1 4242 4000 34817 4242 4194560 100 0 2 0 "
		"7 3 0 0 20 -5 1 0 123456 8392704 224 18446744073709551615\n";
	struct ipc_stat s;
	size_t n = strlen(line);

	(void)state;
	assert_int_equal(ipc_stat_parse(line, n, &s), 0);
	for (size_t len = 0; len < n; len++) {
		errno = 0;
		if (len >= n - 21) {	/* field 24 whole: 25 is not read */
			assert_int_equal(ipc_stat_parse(line, len, &s), 0);
			continue;
		}
		assert_int_equal(ipc_stat_parse(line, len, &s), -1);
		assert_int_equal(errno, EINVAL);
		assert_true(strncmp(ipc_failed_why, "truncated in field ", 19) == 0);
	}
}

static void
expect_stat_refusal(const char *line, const char *why)
{
	struct ipc_stat s;

	assert_int_equal(ipc_stat_parse(line, strlen(line), &s), -1);
	assert_string_equal(ipc_failed_why, why);
}

static void
test_stat_corrupt(void **state)
{
	static const char tail[] = " 1 1 1 0 1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1\n";
	char line[256];
	struct ipc_stat s;

	(void)state;
	expect_stat_refusal("x (a) S 1\n", "corrupt: field 1: not a pid");
	expect_stat_refusal("0 (a) S 1\n", "corrupt: field 1: not a pid");
	expect_stat_refusal("4242 a S 1\n", "corrupt: field 2: no (comm)");
	expect_stat_refusal("4242 (a) 1 1\n", "corrupt: field 3: not a state");
	expect_stat_refusal("4242 (a)S 1\n", "corrupt: field 3: not a state");
	snprintf(line, sizeof(line), "4242 (a) S%s", tail);
	assert_int_equal(ipc_stat_parse(line, strlen(line), &s), 0);
	snprintf(line, sizeof(line), "4242 (a) S  1%s", tail + 2);
	expect_stat_refusal(line, "corrupt: field 4: not a number");
	snprintf(line, sizeof(line), "4242 (a) S x%s", tail + 2);
	expect_stat_refusal(line, "corrupt: field 4: not a number");
	snprintf(line, sizeof(line), "4242 (a) S -1%s", tail + 2);
	expect_stat_refusal(line, "corrupt: field 4: a negative count");
	snprintf(line, sizeof(line), "4242 (a) S 99999999999%s", tail + 2);
	expect_stat_refusal(line, "corrupt: a field out of range");
	snprintf(line, sizeof(line), "4242 (a) S 1%s", tail);
	line[10] = '\0';
	assert_int_equal(ipc_stat_parse(line, strlen(line) + 3, &s), -1);
	assert_string_equal(ipc_failed_why, "corrupt: a NUL byte");
}

static void
test_comm_io_text(void **state)
{
	struct ipc_io io;
	char buf[16];
	FILE *fp;

	(void)state;
	assert_int_equal(ipc_comm_parse("true\n", 5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "true");
	assert_int_equal(ipc_comm_parse("true", 4, buf, sizeof(buf)), -1);
	assert_string_equal(ipc_failed_why, "truncated in line 1");
	assert_int_equal(ipc_comm_parse("", 0, buf, sizeof(buf)), -1);
	assert_int_equal(ipc_comm_parse("a\nb\n", 4, buf, sizeof(buf)), -1);
	assert_string_equal(ipc_failed_why, "corrupt: not one line");
	assert_int_equal(ipc_comm_parse("abcdefghijklmnopqrst\n", 21, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "abcdefghijklmno");
	fp = text("rchar: 10\nwchar: 20\nsyscr: 3\nsyscw: 4\nread_bytes: 0\n"
		  "write_bytes: 4096\ncancelled_write_bytes: 0\n");
	assert_int_equal(ipc_io_parse(fp, &io), 0);
	fclose(fp);
	assert_int_equal(io.rchar, 10);
	assert_int_equal(io.wchar, 20);
	assert_int_equal(io.syscw, 4);
	assert_int_equal(io.write_bytes, 4096);
	fp = text("rchar: 10\n");
	assert_int_equal(ipc_io_parse(fp, &io), -1);
	assert_string_equal(ipc_failed_why, "truncated: no wchar line");
	fclose(fp);
	fp = text("rchar: 10\nwchar: 2");
	assert_int_equal(ipc_io_parse(fp, &io), -1);
	assert_string_equal(ipc_failed_why, "truncated in line 2");
	fclose(fp);
	fp = text("rchar: -10\nwchar: 2\n");
	assert_int_equal(ipc_io_parse(fp, &io), -1);
	assert_string_equal(ipc_failed_why, "corrupt: line 1: not a count");
	fclose(fp);
	fp = text("rchar 10\nwchar: 2\n");
	assert_int_equal(ipc_io_parse(fp, &io), -1);
	assert_string_equal(ipc_failed_why, "corrupt: line 1: not \"name: N\"");
	fclose(fp);
}

static void
test_own_stat(void **state)
{
	struct ipc_stat s;
	struct ipc_io io;
	char comm[64];

	(void)state;
	assert_int_equal(ipc_stat_read(getpid(), &s), 0);
	assert_int_equal(s.pid, getpid());
	assert_int_equal(s.ppid, getppid());
	assert_int_equal(s.pgid, getpgrp());
	assert_int_equal(s.sid, getsid(0));
	assert_int_equal(s.state, 'R');
	assert_int_equal(s.uid, geteuid());
	assert_int_equal(s.threads, 1);
	assert_int_equal(ipc_comm_read(getpid(), comm, sizeof(comm)), 0);
	assert_string_equal(comm, "test_procfs");
	assert_string_equal(s.comm, comm);
	assert_int_equal(ipc_io_read(getpid(), &io), 0);
	assert_true(io.rchar > 0);
	assert_int_equal(ipc_stat_read(0, &s), -1);
	assert_int_equal(errno, ENOENT);
}

/* Polls (bounded: 10 s) until PID's state is STATE. */
static void
wait_state(pid_t pid, char state)
{
	struct ipc_stat s;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 1000; i++) {
		if (ipc_stat_read(pid, &s) == 0 && s.state == state)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("pid %d never reached state %c", (int)pid, state);
}

static pid_t
child(bool stop)
{
	pid_t pid = fork();
	char buf[1000] = { 0 };
	int fd;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (setpgid(0, 0) == -1 || prctl(PR_SET_NAME, "ipc-child") == -1 ||
		    (fd = open("/dev/null", O_WRONLY)) == -1 || write(fd, buf, sizeof(buf)) != 1000)
			_exit(1);
		if (stop)
			raise(SIGSTOP);
		_exit(0);
	}
	return pid;
}

/* A child in its own group, named, 1000 bytes written, stopped: stat,
 * comm, io and the scan say so; then a zombie, which the scan's selection
 * leaves out; once reaped, it is gone. */
static void
test_child(void **state)
{
	pid_t pid = child(true), one;
	struct ipc_procs ps;
	struct ipc_stat s;
	struct ipc_io io;
	char comm[32];
	int status;

	(void)state;
	wait_state(pid, 'T');
	assert_int_equal(ipc_stat_read(pid, &s), 0);
	assert_int_equal(s.ppid, getpid());
	assert_int_equal(s.pgid, pid);
	assert_string_equal(s.comm, "ipc-child");
	assert_int_equal(ipc_comm_read(pid, comm, sizeof(comm)), 0);
	assert_string_equal(comm, "ipc-child");
	assert_int_equal(ipc_io_read(pid, &io), 0);
	assert_true(io.wchar >= 1000);
	assert_int_equal(ipc_procs_scan(&ps), 0);
	assert_non_null(ipc_procs_find(&ps, pid));
	assert_non_null(ipc_procs_find(&ps, getpid()));
	assert_true(ipc_procs_descends(&ps, pid, getpid()));
	assert_true(ipc_procs_descends(&ps, pid, getppid()));
	assert_false(ipc_procs_descends(&ps, getpid(), pid));
	assert_int_equal(ipc_procs_select(&ps, 0, pid, &one, 1), 1);
	assert_int_equal(one, pid);
	assert_int_equal(ipc_procs_select(&ps, getpid(), 0, &one, 1), 1);
	assert_int_equal(one, pid);
	for (size_t i = 1; i < ps.n; i++)
		assert_true(ps.v[i - 1].pid < ps.v[i].pid);
	ipc_procs_free(&ps);
	assert_int_equal(kill(pid, SIGKILL), 0);
	wait_state(pid, 'Z');
	assert_int_equal(ipc_procs_scan(&ps), 0);
	assert_non_null(ipc_procs_find(&ps, pid));
	assert_int_equal(ipc_procs_select(&ps, 0, pid, NULL, 0), 0);
	assert_int_equal(ipc_procs_select(&ps, getpid(), 0, NULL, 0), 0);
	ipc_procs_free(&ps);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(ipc_stat_read(pid, &s), -1);
	assert_true(errno == ENOENT || errno == ESRCH);
	assert_int_equal(ipc_comm_read(pid, comm, sizeof(comm)), -1);
}

static void
test_lock_lines(void **state)
{
	static const char *const badline[] = {
		"x: FLOCK  ADVISORY  WRITE 1 08:02:1 0 EOF\n", "1: FLOCK\n",
		"1: FLOCK  ADVISORY  WRITE x 08:02:1 0 EOF\n",
		"1: FLOCK  ADVISORY  WRITE -2 08:02:1 0 EOF\n",
		"1: FLOCK  ADVISORY  WRITE 1 08-02-1 0 EOF\n",
		"1: FLOCK  ADVISORY  WRITE 1 08:02:x 0 EOF\n",
	};
	struct ipc_lock l;

	(void)state;
	assert_int_equal(ipc_lock_parse("3: OFDLCK ADVISORY  READ  -1 00:05:1234 0 EOF\n", &l), 0);
	assert_string_equal(l.cls, "OFDLCK");
	assert_string_equal(l.mode, "ADVISORY");
	assert_string_equal(l.type, "READ");
	assert_int_equal(l.pid, -1);
	assert_int_equal(l.mnr, 5);
	assert_int_equal(l.ino, 1234);
	assert_false(l.blocked);
	assert_int_equal(ipc_lock_parse("3: -> FLOCK  ADVISORY  WRITE 77 fe:01:9 0 EOF\n", &l), 0);
	assert_true(l.blocked);
	assert_int_equal(l.pid, 77);
	assert_int_equal(l.maj, 0xfe);
	for (size_t i = 0; i < sizeof(badline) / sizeof(badline[0]); i++) {
		assert_int_equal(ipc_lock_parse(badline[i], &l), -1);
		assert_true(strncmp(ipc_failed_why, "corrupt: ", 9) == 0);
	}
}

/* The holder of a lock, from hand-written texts: a waiter is not one. */
static void
test_lock_holder(void **state)
{
	pid_t pid;
	FILE *fp;

	(void)state;
	fp = text("1: POSIX  ADVISORY  WRITE 10 08:02:9 0 EOF\n"
		  "2: FLOCK  ADVISORY  WRITE 20 08:02:9 0 EOF\n"
		  "2: -> FLOCK  ADVISORY  WRITE 30 08:02:9 0 EOF\n");
	assert_int_equal(ipc_lock_holder(fp, "FLOCK", makedev(8, 2), 9, &pid), 1);
	assert_int_equal(pid, 20);
	rewind(fp);
	assert_int_equal(ipc_lock_holder(fp, "FLOCK", makedev(8, 3), 9, &pid), 0);
	assert_int_equal(pid, 0);
	fclose(fp);
	fp = text("2: -> FLOCK  ADVISORY  WRITE 30 08:02:7 0 EOF\n");
	assert_int_equal(ipc_lock_holder(fp, "FLOCK", 0, 7, &pid), 0);
	assert_int_equal(pid, 0);
	fclose(fp);
	fp = text("1: FLOCK  ADVISORY  WRITE 20 08:02:9 0 EOF\n2: FLOCK  ADV");
	assert_int_equal(ipc_lock_holder(fp, "FLOCK", 0, 10, &pid), -1);
	assert_string_equal(ipc_failed_why, "truncated in line 2");
	fclose(fp);
}

/* Our own flock(2), as /proc/locks shows it. */
static void
test_own_lock(void **state)
{
	char path[] = "/tmp/ipclab-unit-procfs-XXXXXX";
	int fd = mkstemp(path);
	struct stat st;
	pid_t pid;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(ipc_lock_holder(NULL, "FLOCK", st.st_dev, st.st_ino, &pid), 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(ipc_lock_holder(NULL, "FLOCK", st.st_dev, st.st_ino, &pid), 1);
	assert_int_equal(pid, getpid());
	assert_int_equal(ipc_lock_holder(NULL, "POSIX", st.st_dev, st.st_ino, &pid), 0);
	assert_int_equal(unlink(path), 0);
	close(fd);
}

static int
count_pid(pid_t pid, void *arg)
{
	size_t *n = arg;

	(*n)++;
	return pid == getpid() ? 7 : 0;
}

static void
test_pid_scan(void **state)
{
	size_t n = 0;

	(void)state;
	assert_int_equal(ipc_pid_scan(count_pid, &n), 7);	/* it stopped at us */
	assert_true(n >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_lines),
		cmocka_unit_test(test_smaps_text),
		cmocka_unit_test(test_smaps_truncated),
		cmocka_unit_test(test_smaps_corrupt),
		cmocka_unit_test(test_own_maps),
		cmocka_unit_test(test_own_smaps_pagemap),
		cmocka_unit_test(test_page_decode),
		cmocka_unit_test(test_stat_text),
		cmocka_unit_test(test_stat_truncated),
		cmocka_unit_test(test_stat_corrupt),
		cmocka_unit_test(test_comm_io_text),
		cmocka_unit_test(test_own_stat),
		cmocka_unit_test(test_child),
		cmocka_unit_test(test_pid_scan),
		cmocka_unit_test(test_lock_lines),
		cmocka_unit_test(test_lock_holder),
		cmocka_unit_test(test_own_lock),
	};

	pg = sysconf(_SC_PAGESIZE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
