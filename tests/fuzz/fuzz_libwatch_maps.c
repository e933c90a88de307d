// fuzz-sources: cmd/libwatch.c
/* libwatch's /proc/PID/maps and smaps parser on arbitrary text: maps_parse()
 * reads it from a FILE (fmemopen) and must never exit or overrun.
 *
 * By hand, for 30 s or longer (-max_total_time=3600), new inputs in /tmp:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     $(pkg-config --cflags smartcols libbsd-overlay) -Iinclude -Ibuild/gen \
 *     tests/fuzz/fuzz_libwatch_maps.c src/core/[a-z]*.c -lbsd -lsmartcols -lm -lrt \
 *     -o /tmp/fuzz_libwatch_maps
 *   mkdir -p /tmp/corpus && /tmp/fuzz_libwatch_maps -max_total_time=30 \
 *     /tmp/corpus tests/fuzz/corpus/libwatch_maps
 * A crash it finds is kept in tests/fuzz/corpus/libwatch_maps/ as a regression input. */
#include "../../cmd/libwatch.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct lw_file f = { .path = "/usr/lib/libipclab_foobar.so", .dev = 0, .ino = 42 };
	struct lw_maps all, mine;
	char buf[400];
	FILE *fp;

	if (n == 0 || (fp = fmemopen((void *)d, n, "r")) == NULL)
		return 0;
	if (maps_parse(fp, NULL, &all) == 0) {
		for (size_t i = 0; i < all.n; i++) {
			map_str(&all.v[i], buf, sizeof(buf));
			if (maps_find(&all, all.v[i].lo) == NULL && all.v[i].lo < all.v[i].hi)
				abort();	/* a mapping holds its own start */
		}
		free(all.v);
	}
	rewind(fp);
	if (maps_parse(fp, &f, &mine) == 0) {
		for (size_t i = 0; i < mine.n; i++)
			if (!map_is(&mine.v[i], &f))
				abort();	/* kept only the library's */
		free(mine.v);
	}
	fclose(fp);
	return 0;
}
