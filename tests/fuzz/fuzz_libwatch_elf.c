// fuzz-sources: cmd/libwatch.c
/* What libwatch makes of the core's ELF reader on arbitrary bytes: the core
 * decodes them (tests/fuzz/fuzz_core_elf.c fuzzes that alone), then
 * elf_keep() picks the segments and sections libwatch shows and the
 * segments' and pages' tables describe them; none of it may overrun, whatever
 * the section names and addresses.
 *
 * By hand, for 30 s or longer (-max_total_time=3600), new inputs in /tmp:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     $(pkg-config --cflags smartcols libbsd-overlay) -Iinclude -Ibuild/gen \
 *     tests/fuzz/fuzz_libwatch_elf.c src/core/[a-z]*.c -lbsd -lsmartcols -lm -lrt \
 *     -o /tmp/fuzz_libwatch_elf
 *   mkdir -p /tmp/corpus && /tmp/fuzz_libwatch_elf -max_len=65536 -max_total_time=30 \
 *     /tmp/corpus tests/fuzz/corpus/libwatch_elf
 * A crash it finds is kept in tests/fuzz/corpus/libwatch_elf/ as a regression input. */
#include "../../cmd/libwatch.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct ipc_elf x;
	/* a copy of exactly N bytes, so that ASan sees any read past them */
	uint8_t *copy = malloc(n ? n : 1);
	struct lw_elf e = { .nseg = 0 };
	char holds[200];

	if (copy == NULL)
		return 0;
	memcpy(copy, d, n);
	pagesz = 4096;
	if (ipc_elf_decode(copy, n, &x) == 0 && ipc_elf_symbol(copy, n, "baz", &e.baz) != -1) {
		elf_keep(&x, &e);
		if (e.nseg > MAXSEG || e.nsect > MAXSECT)
			abort();
		for (size_t i = 0; i < 8; i++)
			page_holds(&e, i, holds, sizeof(holds));
		for (size_t i = 0; i < e.nseg; i++) {
			char fl[4];

			/* what the segments' table shows of each */
			if (load_index(&e, (int)i) > (int)i || strlen(seg_flags(e.seg[i].flags, fl)) != 3 ||
			    seg_type(e.seg[i].type)[0] == '\0' || seg_kind(&e.seg[i])[0] == '\0')
				abort();
		}
	}
	free(copy);
	return 0;
}
