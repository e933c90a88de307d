// fuzz-sources: cmd/libwatch.c
/* libwatch's ELF reader on arbitrary bytes: elf_decode() must say what is
 * wrong (not an ELF file, truncated at byte N, corrupt) and never read
 * outside the bytes it was given.
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
	/* a copy of exactly N bytes, so that ASan sees any read past them */
	uint8_t *copy = malloc(n ? n : 1);
	struct lw_bytes b = { .n = n };
	struct lw_elf e;
	char holds[200];

	if (copy == NULL)
		return 0;
	memcpy(copy, d, n);
	b.d = copy;
	pagesz = 4096;
	if (elf_decode(&b, &e) == -1) {
		if (b.why[0] == '\0')
			abort();	/* a failure must say why */
	} else {
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
