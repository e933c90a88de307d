/* The /proc parsers (src/core/procfs.c) on any bytes, as each file's text:
 * maps and smaps (through fmemopen, as a FILE), one maps line, stat, comm,
 * io and /proc/locks.  None reads outside the bytes (ASan says so); what
 * each accepts holds together (a range that ends after it starts, a pid in
 * range, comm without its newline); a refusal says "corrupt: ..." or
 * "truncated ..." with errno EINVAL.  A broken property aborts. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipclab/proc.h"
#include "ipclab/procfs.h"

static void
check_refusal(int r)
{
	if (r == 0)
		return;
	if (r != -1 || errno != EINVAL || ipc_failed_why == NULL ||
	    (strncmp(ipc_failed_why, "corrupt: ", 9) != 0 &&
	     strncmp(ipc_failed_why, "truncated", 9) != 0))
		abort();
}

static void
maps(const uint8_t *d, size_t n)
{
	FILE *fp = fmemopen((void *)d, n, "r");
	struct ipc_maps ms;
	int r;

	if (fp == NULL)
		return;		/* fmemopen refuses a size of 0 */
	check_refusal(r = ipc_maps_parse(fp, NULL, NULL, &ms));
	for (size_t i = 0; r == 0 && i < ms.n; i++)
		if (ms.v[i].hi <= ms.v[i].lo || strlen(ms.v[i].perms) != 4 ||
		    strchr(ms.v[i].path, '\n') || ipc_maps_find(&ms, ms.v[i].lo) == NULL)
			abort();
	if (r == -1 && (ms.v != NULL || ms.n != 0))
		abort();
	ipc_maps_free(&ms);
	fclose(fp);
}

static void
io_locks(const uint8_t *d, size_t n)
{
	FILE *fp = fmemopen((void *)d, n, "r");
	struct ipc_io v;
	pid_t pid;
	int r;

	if (fp == NULL)
		return;
	check_refusal(ipc_io_parse(fp, &v));
	rewind(fp);
	if ((r = ipc_lock_holder(fp, "FLOCK", 0, 9, &pid)) != 1)
		check_refusal(r);
	if (r == 1 ? pid < -1 : pid != 0)
		abort();
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct ipc_stat s;
	struct ipc_lock l;
	struct ipc_map m;
	char comm[16], *line;
	int r;

	maps(d, n);
	io_locks(d, n);
	check_refusal(r = ipc_stat_parse((const char *)d, n, &s));
	if (r == 0 && (s.pid <= 0 || s.state == '\0' || s.ppid < 0 || s.pgid < 0))
		abort();
	check_refusal(r = ipc_comm_parse((const char *)d, n, comm, sizeof(comm)));
	if (r == 0 && (strchr(comm, '\n') || strlen(comm) >= sizeof(comm)))
		abort();
	if ((line = malloc(n + 1)) == NULL)
		abort();
	memcpy(line, d, n);
	line[n] = '\0';
	check_refusal(r = ipc_map_parse(line, &m));
	if (r == 0 && (m.hi <= m.lo || strchr(m.path, '\n')))
		abort();
	check_refusal(r = ipc_lock_parse(line, &l));
	if (r == 0 && (l.cls[0] == '\0' || l.pid < -1))
		abort();
	free(line);
	return 0;
}
