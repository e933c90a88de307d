// fuzz-sources: cmd/pool.c
/* The pool's CONFIG parser on any bytes: one whole number of workers with
 * blanks and "# comments" around it.  It must return a value or a reason,
 * never exit, never read outside the input, and the reason must be one line
 * that names the file. */
#include "../../cmd/pool.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char why[512];
	long long v = -1;

	why[0] = '\0';
	if (parse_conf_text("CONF", (const char *)d, n, &v, why, sizeof(why)) == 0) {
		if (v < 0)
			abort();
	} else if (strncmp(why, "CONF: ", 6) != 0 || strchr(why, '\n') != NULL) {
		abort();
	}
	return 0;
}
