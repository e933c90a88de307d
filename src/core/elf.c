/* The checked ELF reader (include/ipclab/elf.h).  Every read goes through
 * src_get(), which refuses a range that is not wholly inside the file; the
 * rest only decides what the headers mean. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "ipclab/elf.h"
#include "ipclab/proc.h"

struct src {
	const unsigned char *d;	/* the bytes, or NULL: read fd */
	int fd;
	uint64_t n;		/* the file's length */
};

static __thread char why[80];

static int
bad(int e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
bad(int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ipc_failed_call = NULL;
	ipc_failed_why = why;
	errno = e;
	return -1;
}

static int
truncated(const struct src *s)
{
	return bad(ENOEXEC, "truncated at byte %llu", (unsigned long long)s->n);
}

/* Copies LEN bytes at OFF into P; -1 when they are not all in the file. */
static int
src_get(const struct src *s, uint64_t off, void *p, size_t len)
{
	ssize_t r;

	if (off > s->n || len > s->n - off)
		return truncated(s);
	if (s->d) {
		memcpy(p, s->d + off, len);
		return 0;
	}
	do
		r = pread(s->fd, p, len, (off_t)off);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		ipc_failed_call = "pread";
		ipc_failed_why = NULL;
		return -1;
	}
	if ((size_t)r != len)	/* it shrank since fstat */
		return truncated(s);
	return 0;
}

/* Entry I of a table of entries of LEN bytes at OFF. */
static int
src_entry(const struct src *s, uint64_t off, uint64_t i, void *p, size_t len)
{
	if (off > s->n || i > (s->n - off) / len)
		return truncated(s);
	return src_get(s, off + i * len, p, len);
}

/* The range OFF, LEN must lie in the file. */
static int
src_has(const struct src *s, uint64_t off, uint64_t len)
{
	return off > s->n || len > s->n - off ? truncated(s) : 0;
}

static int
src_open(int fd, struct src *s)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		ipc_failed_call = "fstat";
		ipc_failed_why = NULL;
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return bad(EINVAL, "not a regular file");
	*s = (struct src){ .d = NULL, .fd = fd, .n = (uint64_t)st.st_size };
	return 0;
}

static int
ident(const struct src *s, Elf64_Ehdr *eh)
{
	unsigned char id[EI_NIDENT] = { 0 };
	size_t n = s->n < EI_NIDENT ? (size_t)s->n : EI_NIDENT;

	if (src_get(s, 0, id, n) == -1)
		return -1;
	if (n < SELFMAG || memcmp(id, ELFMAG, SELFMAG) != 0)
		return bad(ENOEXEC, "not an ELF file");
	if (n > EI_CLASS && id[EI_CLASS] != ELFCLASS64)
		return bad(ENOEXEC, "not a 64-bit ELF file");
	if (n > EI_DATA && id[EI_DATA] != ELFDATA2LSB)
		return bad(ENOEXEC, "not a little-endian ELF file");
	if (src_get(s, 0, eh, sizeof(*eh)) == -1)
		return -1;
	if (eh->e_phnum && eh->e_phentsize != sizeof(Elf64_Phdr))
		return bad(ENOEXEC, "corrupt: program headers of %u bytes", eh->e_phentsize);
	if (eh->e_shnum && eh->e_shentsize != sizeof(Elf64_Shdr))
		return bad(ENOEXEC, "corrupt: section headers of %u bytes", eh->e_shentsize);
	if (eh->e_phnum > IPC_ELF_MAXSEG)
		return bad(ENOEXEC, "%u program headers, more than %d", eh->e_phnum,
			   IPC_ELF_MAXSEG);
	if (eh->e_shnum > IPC_ELF_MAXSECT)
		return bad(ENOEXEC, "%u section headers, more than %d", eh->e_shnum,
			   IPC_ELF_MAXSECT);
	return 0;
}

/* PT_INTERP's path: NUL-terminated within the segment. */
static int
interp(const struct src *s, const struct ipc_elf_seg *g, struct ipc_elf *e)
{
	size_t len = g->filesz < sizeof(e->interp) ? (size_t)g->filesz : sizeof(e->interp);

	if (src_has(s, g->off, g->filesz) == -1 || src_get(s, g->off, e->interp, len) == -1)
		return -1;
	if (len == 0 || memchr(e->interp, '\0', len) == NULL || e->interp[0] == '\0') {
		e->interp[0] = '\0';
		return bad(ENOEXEC, "corrupt: a program interpreter that is not a path");
	}
	return 0;
}

static int
dynamic(const struct src *s, const struct ipc_elf_seg *g, struct ipc_elf *e)
{
	Elf64_Dyn d;

	if (src_has(s, g->off, g->filesz) == -1)
		return -1;
	e->dynamic = true;
	for (uint64_t i = 0; i < g->filesz / sizeof(d); i++) {
		if (src_entry(s, g->off, i, &d, sizeof(d)) == -1)
			return -1;
		if (d.d_tag == DT_NULL)
			return 0;
		if (e->ndyn == IPC_ELF_MAXDYN)
			return bad(ENOEXEC, "more than %d dynamic entries", IPC_ELF_MAXDYN);
		e->dyn[e->ndyn++] = (struct ipc_elf_dyn){ d.d_tag, d.d_un.d_val };
	}
	return bad(ENOEXEC, "corrupt: dynamic entries without DT_NULL");
}

static int
segments(const struct src *s, const Elf64_Ehdr *eh, struct ipc_elf *e)
{
	Elf64_Phdr ph;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		struct ipc_elf_seg *g = &e->seg[e->nseg++];

		if (src_entry(s, eh->e_phoff, i, &ph, sizeof(ph)) == -1)
			return -1;
		*g = (struct ipc_elf_seg){ ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr,
			ph.p_filesz, ph.p_memsz, ph.p_align };
		if (g->type == PT_LOAD && g->filesz > g->memsz)
			return bad(ENOEXEC, "corrupt: segment %u larger in the file than in memory", i);
		if (g->type == PT_LOAD && src_has(s, g->off, g->filesz) == -1)
			return -1;
		if (g->type == PT_INTERP && interp(s, g, e) == -1)
			return -1;
		if (g->type == PT_DYNAMIC && !e->dynamic && dynamic(s, g, e) == -1)
			return -1;
	}
	return 0;
}

/* The name at OFF of the string table NAMES, cut to fit BUF. */
static int
sect_name(const struct src *s, const Elf64_Shdr *names, uint32_t off, char *buf, size_t len)
{
	uint64_t avail;

	if (off >= names->sh_size)
		return bad(ENOEXEC, "corrupt: a name outside its string table");
	avail = names->sh_size - off;
	if (avail > len - 1)
		avail = len - 1;
	if (src_get(s, names->sh_offset + off, buf, (size_t)avail) == -1)
		return -1;
	buf[avail] = '\0';
	return 0;
}

static int
sections(const struct src *s, const Elf64_Ehdr *eh, struct ipc_elf *e)
{
	Elf64_Shdr sh, names;

	if (eh->e_shnum == 0)
		return 0;
	if (eh->e_shstrndx >= eh->e_shnum)
		return bad(ENOEXEC, "corrupt: a section name table beyond the sections");
	if (src_entry(s, eh->e_shoff, eh->e_shstrndx, &names, sizeof(names)) == -1 ||
	    src_has(s, names.sh_offset, names.sh_size) == -1)
		return -1;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		struct ipc_elf_sect *t = &e->sect[e->nsect++];

		if (src_entry(s, eh->e_shoff, i, &sh, sizeof(sh)) == -1)
			return -1;
		*t = (struct ipc_elf_sect){ .type = sh.sh_type, .link = sh.sh_link,
			.flags = sh.sh_flags, .addr = sh.sh_addr, .off = sh.sh_offset,
			.size = sh.sh_size, .entsize = sh.sh_entsize };
		if (sh.sh_link >= eh->e_shnum)
			return bad(ENOEXEC, "corrupt: section %u links beyond the sections", i);
		if (sh.sh_type != SHT_NOBITS && src_has(s, sh.sh_offset, sh.sh_size) == -1)
			return -1;
		if (sect_name(s, &names, sh.sh_name, t->name, sizeof(t->name)) == -1)
			return -1;
	}
	return 0;
}

static int
decode(const struct src *s, struct ipc_elf *e)
{
	Elf64_Ehdr eh;

	memset(e, 0, sizeof(*e));
	e->size = s->n;
	if (ident(s, &eh) == -1)
		return -1;
	e->type = eh.e_type;
	e->machine = eh.e_machine;
	e->entry = eh.e_entry;
	if (segments(s, &eh, e) == -1 || sections(s, &eh, e) == -1)
		return -1;
	return 0;
}

int
ipc_elf_decode(const void *d, size_t n, struct ipc_elf *e)
{
	struct src s = { .d = d, .fd = -1, .n = n };

	return decode(&s, e);
}

int
ipc_elf_read_fd(int fd, struct ipc_elf *e)
{
	struct src s;

	memset(e, 0, sizeof(*e));
	if (src_open(fd, &s) == -1)
		return -1;
	return decode(&s, e);
}

/* The NUL-terminated name at OFF of the string table STR equals NAME. */
static int
name_is(const struct src *s, const struct ipc_elf_sect *str, uint32_t off, const char *name)
{
	size_t len = strlen(name) + 1;
	char buf[128];

	if (len > sizeof(buf) || off >= str->size || len > str->size - off)
		return 0;
	if (src_get(s, str->off + off, buf, len) == -1)
		return -1;
	return memcmp(buf, name, len) == 0;
}

static int
symbol(const struct src *s, const char *name, uint64_t *value)
{
	static __thread struct ipc_elf e;
	const struct ipc_elf_sect *sym = NULL;
	Elf64_Sym st;
	int r;

	*value = 0;
	if (decode(s, &e) == -1)
		return -1;
	for (size_t i = 0; i < e.nsect; i++)
		if (e.sect[i].type == SHT_DYNSYM || (e.sect[i].type == SHT_SYMTAB && !sym))
			sym = &e.sect[i];
	if (sym == NULL)
		return 0;
	if (sym->entsize < sizeof(st))
		return bad(ENOEXEC, "corrupt: symbols of %llu bytes",
			   (unsigned long long)sym->entsize);
	for (uint64_t i = 0; i < sym->size / sym->entsize; i++) {
		if (src_get(s, sym->off + i * sym->entsize, &st, sizeof(st)) == -1)
			return -1;
		if (st.st_shndx == SHN_UNDEF)
			continue;
		if ((r = name_is(s, &e.sect[sym->link], st.st_name, name)) != 0) {
			if (r == 1)
				*value = st.st_value;
			return r;
		}
	}
	return 0;
}

int
ipc_elf_symbol(const void *d, size_t n, const char *name, uint64_t *value)
{
	struct src s = { .d = d, .fd = -1, .n = n };

	return symbol(&s, name, value);
}

int
ipc_elf_symbol_fd(int fd, const char *name, uint64_t *value)
{
	struct src s;

	*value = 0;
	if (src_open(fd, &s) == -1)
		return -1;
	return symbol(&s, name, value);
}

const struct ipc_elf_seg *
ipc_elf_next(const struct ipc_elf *e, uint32_t type, size_t *i)
{
	for (; *i < e->nseg; (*i)++)
		if (e->seg[*i].type == type)
			return &e->seg[(*i)++];
	return NULL;
}

int
ipc_elf_dyn_get(const struct ipc_elf *e, int64_t tag, uint64_t *val)
{
	for (size_t i = 0; i < e->ndyn; i++)
		if (e->dyn[i].tag == tag) {
			*val = e->dyn[i].val;
			return 1;
		}
	return 0;
}

const char *
ipc_elf_preload_refusal(int fd)
{
	static __thread struct ipc_elf e;
	struct stat st;

	if (fstat(fd, &st) == -1 || ipc_elf_read_fd(fd, &e) == -1)
		return NULL;	/* the loader's to say */
	if (e.interp[0] == '\0')
		return "statically linked (no PT_INTERP)";
	if ((st.st_mode & S_ISUID) && st.st_uid != geteuid())
		return "set-user-ID";
	if ((st.st_mode & S_ISGID) && st.st_gid != getegid())
		return "set-group-ID";
	if (fgetxattr(fd, "security.capability", NULL, 0) > 0)
		return "has file capabilities";
	return NULL;
}
