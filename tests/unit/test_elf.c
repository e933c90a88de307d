/* Unit tests for the ELF reader (src/core/elf.c).  The truth is readelf(1),
 * an independent decoder, on real files of this machine: /bin/true, the
 * build's libipclab_io.so and a program linked with gcc -static (when gcc
 * can).  Then every truncation of /bin/true, and headers patched one field
 * at a time, each of which must be refused with its reason. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "ipclab/elf.h"
#include "ipclab/proc.h"

static char dir[] = "/tmp/ipclab-unit-elf-XXXXXX";
static char lib[PATH_MAX], stat_prog[PATH_MAX];
static struct ipc_elf e;	/* large: not on the stack */

static unsigned char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *d;
	long len;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	rewind(fp);
	d = malloc((size_t)len + 1);
	assert_non_null(d);
	assert_int_equal(fread(d, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*n = (size_t)len;
	return d;
}

static uint32_t
pt_type(const char *s)
{
	static const struct { const char *name; uint32_t t; } t[] = {
		{ "LOAD", PT_LOAD }, { "INTERP", PT_INTERP }, { "DYNAMIC", PT_DYNAMIC },
		{ "PHDR", PT_PHDR }, { "NOTE", PT_NOTE }, { "TLS", PT_TLS },
		{ "GNU_RELRO", PT_GNU_RELRO }, { "GNU_STACK", PT_GNU_STACK },
		{ "GNU_EH_FRAME", PT_GNU_EH_FRAME }, { "GNU_PROPERTY", PT_GNU_PROPERTY },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].name) == 0)
			return t[i].t;
	return UINT32_MAX;
}

struct truth {
	size_t nseg, nsect, ndyn;	/* ndyn: readelf's count, DT_NULL included */
	size_t seen;		/* header, section and entry lines compared */
	char interp[256];
};

/* One line of readelf -lhdSW's output, checked against e as it comes. */
static void
truth_line(const char *l, struct truth *t, int *where)
{
	unsigned long long off, va, fs, ms, addr, size, tag;
	char name[64], type[64];
	unsigned idx;
	int pos;

	if (sscanf(l, "Dynamic section at offset %*x contains %zu", &t->ndyn) == 1) {
		where[0] = 'd';
		where[1] = 0;
		return;
	}
	if (sscanf(l, "  Number of program headers: %zu", &t->nseg) == 1 ||
	    sscanf(l, "  Number of section headers: %zu", &t->nsect) == 1 ||
	    sscanf(l, " [Requesting program interpreter: %255[^]]", t->interp) == 1)
		return;
	if (strncmp(l, "Program Headers:", 16) == 0 || strncmp(l, " Section to", 11) == 0 ||
	    strncmp(l, "Section Headers:", 16) == 0 || strncmp(l, "Key to", 6) == 0) {
		*where = l[0] == 'P' ? 'p' : l[0] == 'S' ? 's' : 0;
		where[1] = 0;
		return;
	}
	if (*where == 'p' && sscanf(l, " %63s 0x%llx 0x%llx 0x%*x 0x%llx 0x%llx", type, &off,
				    &va, &fs, &ms) == 5) {
		const struct ipc_elf_seg *g = &e.seg[where[1]++];

		assert_true((size_t)where[1] <= e.nseg);
		if (pt_type(type) != UINT32_MAX)
			assert_int_equal(g->type, pt_type(type));
		assert_int_equal(g->off, off);
		assert_int_equal(g->vaddr, va);
		assert_int_equal(g->filesz, fs);
		assert_int_equal(g->memsz, ms);
		t->seen++;
	} else if (*where == 's' && sscanf(l, " [%u]%n", &idx, &pos) == 1 && idx > 0 &&
		   sscanf(l + pos, " %63s %63s %llx %llx %llx", name, type, &addr, &off, &size) == 5) {
		assert_true(idx < e.nsect);
		assert_int_equal(strncmp(e.sect[idx].name, name, sizeof(e.sect[idx].name) - 1), 0);
		assert_int_equal(e.sect[idx].addr, addr);
		assert_int_equal(e.sect[idx].off, off);
		assert_int_equal(e.sect[idx].size, size);
		t->seen++;
	} else if (*where == 'd' && sscanf(l, " 0x%llx (", &tag) == 1 && tag != DT_NULL) {
		assert_true((size_t)where[1] < e.ndyn);
		assert_int_equal(e.dyn[where[1]++].tag, tag);
		t->seen++;
	}
}

/* Checks e, decoded from PATH, against readelf -lhdSW PATH. */
static void
check_against_readelf(const char *path)
{
	char cmd[PATH_MAX + 64], line[1024];
	struct truth t = { 0 };
	int where[2] = { 0, 0 };
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -lhdSW '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		truth_line(line, &t, where);
	assert_int_equal(pclose(p), 0);
	assert_int_equal(e.nseg, t.nseg);
	assert_int_equal(e.nsect, t.nsect);
	assert_int_equal(e.ndyn + (t.ndyn > 0), t.ndyn);
	assert_int_equal(e.dynamic, t.ndyn > 0);
	assert_string_equal(e.interp, t.interp);
	assert_int_equal(t.seen, e.nseg + e.nsect - 1 + e.ndyn);
}

/* PATH decodes the same from its bytes and from a descriptor, whose offset
 * pread leaves alone, and agrees with readelf. */
static void
check_file(const char *path)
{
	static struct ipc_elf m;
	size_t n;
	unsigned char *d = slurp(path, &n);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 7, SEEK_SET), 7);
	assert_int_equal(ipc_elf_decode(d, n, &m), 0);
	assert_int_equal(ipc_elf_read_fd(fd, &e), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 7);
	assert_memory_equal(&m, &e, sizeof(e));
	assert_int_equal(e.size, n);
	check_against_readelf(path);
	close(fd);
	free(d);
}

static void
test_bin_true(void **state)
{
	size_t i = 0;

	(void)state;
	check_file("/bin/true");
	assert_int_equal(e.type, ET_DYN);
	assert_int_equal(e.machine, EM_X86_64);
	assert_non_null(ipc_elf_next(&e, PT_LOAD, &i));
	assert_non_null(ipc_elf_next(&e, PT_LOAD, &i));
	assert_true(e.interp[0] == '/');
}

static void
test_library(void **state)
{
	uint64_t v, nm = 0;
	char cmd[PATH_MAX + 96];
	unsigned char *d;
	size_t n;
	FILE *p;
	int fd;

	(void)state;
	check_file(lib);
	assert_string_equal(e.interp, "");
	assert_true(e.dynamic);
	/* a symbol the shim defines, against nm -D */
	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s' | awk '$3 == \"read\" {print $1}'", lib);
	assert_non_null(p = popen(cmd, "r"));
	assert_int_equal(fscanf(p, "%" SCNx64, &nm), 1);
	pclose(p);
	d = slurp(lib, &n);
	assert_int_equal(ipc_elf_symbol(d, n, "read", &v), 1);
	assert_int_equal(v, nm);
	assert_int_equal(ipc_elf_symbol(d, n, "no_such_symbol_here", &v), 0);
	assert_int_equal(v, 0);
	assert_true((fd = open(lib, O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(ipc_elf_symbol_fd(fd, "read", &v), 1);
	assert_int_equal(v, nm);
	close(fd);
	free(d);
	/* stripped, only .dynsym is left: the symbol is still found there */
	snprintf(cmd, sizeof(cmd), "strip -o '%s/stripped.so' '%s'", dir, lib);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/stripped.so", dir);
	d = slurp(cmd, &n);
	assert_int_equal(unlink(cmd), 0);
	assert_int_equal(ipc_elf_decode(d, n, &e), 0);
	for (size_t i = 0; i < e.nsect; i++)
		assert_int_not_equal(e.sect[i].type, SHT_SYMTAB);
	assert_int_equal(ipc_elf_symbol(d, n, "read", &v), 1);
	assert_int_equal(v, nm);
	free(d);
}

static void
test_static(void **state)
{
	int fd;

	(void)state;
	if (stat_prog[0] == '\0')
		skip();
	check_file(stat_prog);
	assert_string_equal(e.interp, "");
	assert_true((fd = open(stat_prog, O_RDONLY | O_CLOEXEC)) >= 0);
	assert_string_equal(ipc_elf_preload_refusal(fd), "statically linked (no PT_INTERP)");
	close(fd);
	assert_true((fd = open("/bin/true", O_RDONLY | O_CLOEXEC)) >= 0);
	assert_null(ipc_elf_preload_refusal(fd));
	close(fd);
}

static void
expect_refusal(const void *d, size_t n, const char *why)
{
	errno = 0;
	ipc_failed_why = NULL;
	assert_int_equal(ipc_elf_decode(d, n, &e), -1);
	assert_int_equal(errno, ENOEXEC);
	assert_non_null(ipc_failed_why);
	assert_string_equal(ipc_failed_why, why);
}

/* Every proper prefix of /bin/true is refused, saying where it was cut. */
static void
test_truncated(void **state)
{
	char why[64];
	size_t n;
	unsigned char *d = slurp("/bin/true", &n);

	(void)state;
	for (size_t len = 0; len < n; len++) {
		snprintf(why, sizeof(why), "truncated at byte %zu", len);
		expect_refusal(d, len, len < SELFMAG ? "not an ELF file" : why);
	}
	assert_int_equal(ipc_elf_decode(d, n, &e), 0);
	free(d);
}

/* The same through a descriptor: a copy cut at a few lengths. */
static void
test_truncated_fd(void **state)
{
	static const size_t cut[] = { 0, 3, 63, 64, 100, 1000, 4096, 20000 };
	char path[PATH_MAX], why[64];
	size_t n;
	unsigned char *d = slurp("/bin/true", &n);

	(void)state;
	snprintf(path, sizeof(path), "%s/cut", dir);
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]) && cut[i] < n; i++) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, d, cut[i]), (ssize_t)cut[i]);
		assert_int_equal(ipc_elf_read_fd(fd, &e), -1);
		snprintf(why, sizeof(why), "truncated at byte %zu", cut[i]);
		assert_string_equal(ipc_failed_why, cut[i] < SELFMAG ? "not an ELF file" : why);
		close(fd);
	}
	assert_int_equal(unlink(path), 0);
	free(d);
}

static void
put(unsigned char *d, size_t off, uint64_t v, size_t len)
{
	memcpy(d + off, &v, len);	/* little-endian, as the files */
}

/* /bin/true with one field patched: the reason each gets. */
static void
corrupt(size_t field, uint64_t v, size_t len, const char *why)
{
	size_t n;
	unsigned char *d = slurp("/bin/true", &n);

	put(d, field, v, len);
	expect_refusal(d, n, why);
	free(d);
}

static struct ipc_elf orig;	/* /bin/true unpatched */

static size_t
phdr_of(uint32_t type, size_t field)
{
	for (size_t i = 0; i < orig.nseg; i++)
		if (orig.seg[i].type == type)
			return 64 + i * sizeof(Elf64_Phdr) + field;
	fail();
	return 0;
}

static void
test_corrupt(void **state)
{
	char why[64];
	Elf64_Ehdr eh;
	size_t n, shdr;
	unsigned char *d = slurp("/bin/true", &n);

	(void)state;
	memcpy(&eh, d, sizeof(eh));
	assert_int_equal(eh.e_phoff, 64);
	assert_int_equal(ipc_elf_decode(d, n, &orig), 0);
	shdr = eh.e_shoff + sizeof(Elf64_Shdr);		/* section 1 */
	snprintf(why, sizeof(why), "truncated at byte %zu", n);
	corrupt(0, 'M', 1, "not an ELF file");
	corrupt(EI_CLASS, ELFCLASS32, 1, "not a 64-bit ELF file");
	corrupt(EI_DATA, ELFDATA2MSB, 1, "not a little-endian ELF file");
	corrupt(offsetof(Elf64_Ehdr, e_phentsize), 55, 2, "corrupt: program headers of 55 bytes");
	corrupt(offsetof(Elf64_Ehdr, e_shentsize), 40, 2, "corrupt: section headers of 40 bytes");
	corrupt(offsetof(Elf64_Ehdr, e_phnum), 65, 2, "65 program headers, more than 64");
	corrupt(offsetof(Elf64_Ehdr, e_phoff), n - 8, 8, why);
	corrupt(offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 8, 8, why);
	corrupt(offsetof(Elf64_Ehdr, e_shoff), n - 64, 8, why);
	corrupt(offsetof(Elf64_Ehdr, e_shstrndx), eh.e_shnum, 2,
		"corrupt: a section name table beyond the sections");
	corrupt(phdr_of(PT_INTERP, offsetof(Elf64_Phdr, p_filesz)), 4, 8,
		"corrupt: a program interpreter that is not a path");
	corrupt(phdr_of(PT_INTERP, offsetof(Elf64_Phdr, p_offset)), n - 2, 8, why);
	corrupt(phdr_of(PT_LOAD, offsetof(Elf64_Phdr, p_filesz)), UINT64_MAX, 8,
		"corrupt: segment 2 larger in the file than in memory");
	corrupt(phdr_of(PT_LOAD, offsetof(Elf64_Phdr, p_offset)), n - 1, 8, why);
	corrupt(phdr_of(PT_DYNAMIC, offsetof(Elf64_Phdr, p_filesz)), 16, 8,
		"corrupt: dynamic entries without DT_NULL");
	corrupt(phdr_of(PT_DYNAMIC, offsetof(Elf64_Phdr, p_offset)), UINT64_MAX, 8, why);
	corrupt(shdr + offsetof(Elf64_Shdr, sh_name), 0xffffff, 4,
		"corrupt: a name outside its string table");
	corrupt(shdr + offsetof(Elf64_Shdr, sh_link), 1000, 4,
		"corrupt: section 1 links beyond the sections");
	corrupt(shdr + offsetof(Elf64_Shdr, sh_offset), n, 8, why);
	corrupt(shdr + offsetof(Elf64_Shdr, sh_size), UINT64_MAX, 8, why);
	free(d);
}

/* Bytes that are not in a file: a pipe's descriptor is refused. */
static void
test_not_regular(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ipc_elf_read_fd(p[0], &e), -1);
	assert_string_equal(ipc_failed_why, "not a regular file");
	assert_null(ipc_elf_preload_refusal(p[0]));
	close(p[0]);
	close(p[1]);
}

static int
setup(void **state)
{
	char exe[PATH_MAX], cmd[PATH_MAX * 2];
	ssize_t n;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
		return -1;
	exe[n] = '\0';	/* BUILD/tests/unit/test_elf */
	snprintf(lib, sizeof(lib), "%s/../../lib/ipclab/libipclab_io.so", dirname(exe));
	snprintf(stat_prog, sizeof(stat_prog), "%s/static", dir);
	snprintf(cmd, sizeof(cmd), "printf 'int main(void){return 0;}\\n' | "
		 "gcc -static -x c - -o '%s' 2>/dev/null", stat_prog);
	if (system(cmd) != 0)
		stat_prog[0] = '\0';
	return 0;
}

static int
teardown(void **state)
{
	char path[PATH_MAX];

	(void)state;
	snprintf(path, sizeof(path), "%s/static", dir);
	unlink(path);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bin_true),
		cmocka_unit_test(test_library),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_truncated_fd),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_not_regular),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
