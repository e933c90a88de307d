/* The ELF reader (src/core/elf.c) on any bytes: it never reads outside them
 * (ASan says so), and what it accepts holds together: every loadable
 * segment and every section with bytes lies inside the file, the
 * interpreter is a path, dynamic entries were counted up to DT_NULL.  It
 * says the same from a descriptor (pread) as from memory, and a refusal
 * always carries a reason with errno set.  A broken property aborts. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "ipclab/elf.h"
#include "ipclab/proc.h"

static struct ipc_elf a, b;
static char why[96];

static void
check_accepted(const struct ipc_elf *e, size_t n)
{
	for (size_t i = 0; i < e->nseg; i++)
		if (e->seg[i].type == PT_LOAD &&
		    (e->seg[i].off > n || e->seg[i].filesz > n - e->seg[i].off ||
		     e->seg[i].filesz > e->seg[i].memsz))
			abort();
	for (size_t i = 0; i < e->nsect; i++)
		if (e->sect[i].type != SHT_NOBITS &&
		    (e->sect[i].off > n || e->sect[i].size > n - e->sect[i].off))
			abort();
	if (e->interp[0] != '\0' && memchr(e->interp, '\0', sizeof(e->interp)) == NULL)
		abort();
	if (e->ndyn > IPC_ELF_MAXDYN || e->nseg > IPC_ELF_MAXSEG || e->nsect > IPC_ELF_MAXSECT)
		abort();
	for (size_t i = 0; i < e->ndyn; i++)
		if (e->dyn[i].tag == DT_NULL)
			abort();
}

static int
fd_of(const uint8_t *d, size_t n)
{
	int fd = memfd_create("fuzz_core_elf", MFD_CLOEXEC);

	if (fd == -1 || (n > 0 && write(fd, d, n) != (ssize_t)n))
		abort();
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	int r = ipc_elf_decode(d, n, &a), fd;
	uint64_t v, w;

	if (r == -1) {
		if (errno != ENOEXEC || ipc_failed_why == NULL)
			abort();
		strncpy(why, ipc_failed_why, sizeof(why) - 1);
	} else {
		check_accepted(&a, n);
		if (a.size != n)
			abort();
	}
	fd = fd_of(d, n);
	if (ipc_elf_read_fd(fd, &b) != r)
		abort();
	if (r == 0 ? memcmp(&a, &b, sizeof(a)) != 0 : strcmp(why, ipc_failed_why) != 0)
		abort();
	r = ipc_elf_symbol(d, n, "baz", &v);
	if (ipc_elf_symbol_fd(fd, "baz", &w) != r || v != w || (r != 1 && v != 0))
		abort();
	(void)ipc_elf_preload_refusal(fd);
	close(fd);
	return 0;
}
