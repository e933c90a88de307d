/* Readers of /proc: a process's mappings (maps, smaps), its pages (pagemap),
 * its state and family (stat), its name (comm), its I/O counts (io), and a
 * scan of every process.  Each parser takes the text as bytes or a FILE, so
 * it can be fed anything; each reader opens the file under /proc and hands
 * it to the parser.  A text that is not what the kernel writes is refused:
 * -1 with errno EINVAL and ipc_failed_why saying where ("corrupt: line 3:
 * ...", "truncated in line 7"); a failed call is -1 with its errno and
 * ipc_failed_call ("open", "read").  Nothing here exits or prints. */
#ifndef IPCLAB_PROCFS_H
#define IPCLAB_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- /proc/PID/maps and smaps ---- */

struct ipc_map {
	uint64_t lo, hi, off;
	char perms[5];		/* "r-xp" */
	unsigned maj, mnr;	/* the device of the file, 0:0 for none */
	uint64_t ino;
	char path[256];		/* "" for an anonymous mapping, "[stack]"... */
	/* from smaps, in kB; 0 from maps */
	long size, rss, pss, shared_clean, shared_dirty, private_clean, private_dirty;
	long anonymous, swap;
};

struct ipc_maps {
	struct ipc_map *v;
	size_t n;
};

/* Parses one line of maps (its newline optional).  0, or -1 (EINVAL). */
int ipc_map_parse(const char *line, struct ipc_map *m);

/* Which mappings a parse keeps: all when NULL. */
typedef bool (*ipc_map_keep)(const struct ipc_map *m, void *arg);

/* Parses a maps or smaps text from FP into *out (malloc'd; free it with
 * ipc_maps_free); the fields of smaps go to the mapping they follow. */
int ipc_maps_parse(FILE *fp, ipc_map_keep keep, void *arg, struct ipc_maps *out);

/* Reads /proc/PID/maps, or /proc/PID/smaps when smaps is true. */
int ipc_maps_read(pid_t pid, bool smaps, ipc_map_keep keep, void *arg, struct ipc_maps *out);

void ipc_maps_free(struct ipc_maps *ms);

/* The mapping that holds ADDR, or NULL. */
const struct ipc_map *ipc_maps_find(const struct ipc_maps *ms, uint64_t addr);

/* Is M a mapping of the file with device DEV and inode INO, or (when PATH
 * is not NULL) of PATH? */
bool ipc_map_is(const struct ipc_map *m, dev_t dev, ino_t ino, const char *path);

/* ---- /proc/PID/pagemap ---- */

struct ipc_page {
	bool present, swapped, file_or_shared, exclusive, soft_dirty;
	uint64_t pfn;		/* present: the frame, 0 when hidden (not root) */
};

/* The 64-bit entry RAW in words (Documentation/admin-guide/mm/pagemap.rst). */
void ipc_page_decode(uint64_t raw, struct ipc_page *p);

/* The entry of the page at ADDR from a pagemap opened on FD (pread(2)). */
int ipc_pagemap_get(int fd, uint64_t addr, struct ipc_page *p);

/* ---- /proc/PID/stat, comm, io ---- */

struct ipc_stat {
	pid_t pid;
	char comm[64];		/* between the first '(' and the last ')' */
	char state;		/* 'R', 'S', 'D', 'T', 't', 'Z', 'X', ... */
	pid_t ppid, pgid, sid;
	int tty, tpgid;
	uint64_t minflt, majflt, utime, stime;	/* utime, stime in clock ticks */
	long priority, nice, threads;
	uint64_t starttime;	/* field 22, ticks after boot: tells a reused pid */
	uint64_t vsize;		/* bytes */
	uint64_t rss;		/* pages */
	uid_t uid;		/* the owner of /proc/PID (its effective user): readers only */
};

/* Parses the N bytes of a /proc/PID/stat at D (fields 1 to 24 must be there). */
int ipc_stat_parse(const char *d, size_t n, struct ipc_stat *s);

/* Reads /proc/PID/stat: -1 with ENOENT (or ESRCH) when PID is gone. */
int ipc_stat_read(pid_t pid, struct ipc_stat *s);

/* Parses /proc/PID/comm's bytes (the newline dropped) into BUF. */
int ipc_comm_parse(const char *d, size_t n, char *buf, size_t len);
int ipc_comm_read(pid_t pid, char *buf, size_t len);

struct ipc_io {
	uint64_t rchar, wchar, syscr, syscw, read_bytes, write_bytes, cancelled_write_bytes;
};

/* Parses a /proc/PID/io text (rchar and wchar must be there). */
int ipc_io_parse(FILE *fp, struct ipc_io *io);
int ipc_io_read(pid_t pid, struct ipc_io *io);

/* ---- /proc/locks ---- */

struct ipc_lock {
	bool blocked;		/* "->": a waiter for the lock above it */
	char cls[12];		/* "FLOCK", "POSIX", "OFDLCK", "LEASE", ... */
	char mode[12];		/* "ADVISORY", "MANDATORY", ... */
	char type[12];		/* "READ", "WRITE", ... */
	pid_t pid;		/* -1 for an OFD lock */
	unsigned maj, mnr;
	uint64_t ino;
};

/* Parses one line of /proc/locks. */
int ipc_lock_parse(const char *line, struct ipc_lock *l);

/* The pid holding a lock of class CLS ("FLOCK") on inode INO of device DEV
 * (any device when DEV is 0), read from FP or, when FP is NULL, from
 * /proc/locks: 1 found (*pid set), 0 not held (*pid 0), -1 as above. */
int ipc_lock_holder(FILE *fp, const char *cls, dev_t dev, ino_t ino, pid_t *pid);

/* ---- every process ---- */

/* Calls FN with each pid in /proc, in the order readdir gives, until it
 * returns non-zero (which ipc_pid_scan then returns); 0 at the end. */
int ipc_pid_scan(int (*fn)(pid_t pid, void *arg), void *arg);

struct ipc_procs {
	struct ipc_stat *v;	/* sorted by pid */
	size_t n;
};

/* The stat of every process still there (one that ends during the scan is
 * left out), zombies included.  Free with ipc_procs_free. */
int ipc_procs_scan(struct ipc_procs *out);
void ipc_procs_free(struct ipc_procs *ps);

/* The entry of PID, or NULL. */
const struct ipc_stat *ipc_procs_find(const struct ipc_procs *ps, pid_t pid);

/* Is PID a descendant of ANCESTOR (following ppid, at most 256 steps)? */
bool ipc_procs_descends(const struct ipc_procs *ps, pid_t pid, pid_t ancestor);

/* How many entries, zombies left out, have parent PPID (unless it is 0) and
 * are in process group PGID (unless it is 0): the children of a pid, the
 * members of a group; their pids into pids[0..max-1] when pids is not NULL. */
size_t ipc_procs_select(const struct ipc_procs *ps, pid_t ppid, pid_t pgid,
			pid_t *pids, size_t max);

#endif
