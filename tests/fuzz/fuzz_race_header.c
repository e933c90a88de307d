// fuzz-sources: cmd/race.c
/* The race file's header decoder, header_decode(), on any bytes: it must
 * accept or refuse without reading past them, and whatever it accepts must
 * be usable by the code that follows it: a layout and a mode in range, N
 * within the layout's slots, a file large enough for the layout's course.
 * The first 8 bytes of the input choose the file's size. */
#include "../../cmd/race.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct header h;
	uint64_t fsize = 0;

	if (n >= sizeof(fsize)) {
		memcpy(&fsize, d, sizeof(fsize));
		d += sizeof(fsize);
		n -= sizeof(fsize);
	}
	fsize &= (1ULL << 40) - 1;
	if (header_decode(d, n, (off_t)fsize, &h) != 0)
		return 0;
	if (h.layout > L_PADDED || h.sync >= S_COUNT || h.n < 1 || h.n > MAXN ||
	    (h.layout == L_PACKED && h.n > PACKED_MAXN) || h.size != fsize ||
	    h.size < file_size(h.layout) || h.arrived > h.n || h.ready > h.n)
		abort();
	/* what check_same and the reports then print from it */
	(void)sync_names[h.sync];
	(void)layout_names[h.layout];
	return 0;
}
