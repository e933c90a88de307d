/* A small checked reader of 64-bit little-endian ELF files: the program
 * headers, the section headers (with their names), the dynamic entries, the
 * program interpreter, and one symbol's value on request.  It decodes bytes
 * in memory or a file descriptor read with pread(2); every offset, size and
 * count it meets is checked against the file's length before it is used, so
 * a truncated or corrupt file is said to be one and nothing is read outside
 * it.  It never exits and never prints: a failure returns -1 with errno set
 * (ENOEXEC for bytes that are not what they claim, else the call's errno)
 * and ipc_failed_why set to a reason a user can read: "not an ELF file",
 * "not a 64-bit ELF file", "not a little-endian ELF file", "truncated at
 * byte N" (N the file's length), "corrupt: ...".
 *
 * Why not libelf (elfutils): what ipclab needs is a few fixed-size tables
 * that <elf.h> already describes, and under 400 lines check every bound of
 * them.  libelf would add a run-time dependency (libelf1, and what it pulls
 * in) to the binary and the .deb for that; its error strings do not say at
 * which byte a file was cut, which is what a user who hands libwatch a
 * broken library needs to read; and a descriptor here is read with pread(2)
 * of a few headers only, which is all iotrace's check of a program asks
 * for.  The tests check this reader against readelf(1), an independent
 * decoder. */
#ifndef IPCLAB_ELF_H
#define IPCLAB_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPC_ELF_MAXSEG 64	/* program headers: more is refused */
#define IPC_ELF_MAXSECT 256	/* section headers: more is refused */
#define IPC_ELF_MAXDYN 256	/* dynamic entries before DT_NULL: more is refused */

struct ipc_elf_seg {		/* one program header, every type */
	uint32_t type, flags;	/* PT_*, PF_R | PF_W | PF_X */
	uint64_t off, vaddr, filesz, memsz, align;
};

struct ipc_elf_sect {		/* one section header */
	char name[32];		/* from .shstrtab, cut to 31 bytes */
	uint32_t type, link;	/* SHT_*, sh_link */
	uint64_t flags, addr, off, size, entsize;
};

struct ipc_elf_dyn {		/* one entry of PT_DYNAMIC */
	int64_t tag;		/* DT_* */
	uint64_t val;
};

struct ipc_elf {
	uint16_t type, machine;	/* ET_EXEC, ET_DYN...; EM_X86_64... */
	uint64_t entry, size;	/* e_entry; the file's length */
	struct ipc_elf_seg seg[IPC_ELF_MAXSEG];
	size_t nseg;
	struct ipc_elf_sect sect[IPC_ELF_MAXSECT];
	size_t nsect;		/* section 0 (SHT_NULL) included, as readelf counts */
	struct ipc_elf_dyn dyn[IPC_ELF_MAXDYN];
	size_t ndyn;		/* DT_NULL not counted */
	bool dynamic;		/* it has a PT_DYNAMIC */
	char interp[256];	/* PT_INTERP's path, "" when none: statically linked */
};

/* Decodes the N bytes at D.  0, or -1 as above. */
int ipc_elf_decode(const void *d, size_t n, struct ipc_elf *e);

/* The same from the regular file on FD, read with pread(2) (the offset of FD
 * is not moved), its length from fstat(2). */
int ipc_elf_read_fd(int fd, struct ipc_elf *e);

/* The value of the defined symbol NAME in .dynsym (in .symtab when there is
 * no .dynsym) of the bytes D, N or of FD: 1 found (*value set), 0 not there
 * (*value 0), -1 as above. */
int ipc_elf_symbol(const void *d, size_t n, const char *name, uint64_t *value);
int ipc_elf_symbol_fd(int fd, const char *name, uint64_t *value);

/* The first program header of type TYPE (PT_LOAD, PT_GNU_RELRO...) at or
 * after index *I, which is advanced past it: for (i = 0; (s = ipc_elf_next(e,
 * PT_LOAD, &i));) walks the loadable segments.  NULL when none is left. */
const struct ipc_elf_seg *ipc_elf_next(const struct ipc_elf *e, uint32_t type, size_t *i);

/* The value of the first dynamic entry TAG: 1 found, 0 not. */
int ipc_elf_dyn_get(const struct ipc_elf *e, int64_t tag, uint64_t *val);

/* Why the dynamic linker would not preload a library into the program on
 * FD: "statically linked (no PT_INTERP)", "set-user-ID", "set-group-ID",
 * "has file capabilities" (the last three only when it would run with
 * another's rights than the caller's); NULL when it would, or when FD is not
 * a 64-bit ELF file (then it is the loader's to say what is wrong). */
const char *ipc_elf_preload_refusal(int fd);

#endif
