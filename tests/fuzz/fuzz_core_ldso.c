/* The readers of the dynamic loader's trace output (src/core/ldso.c),
 * ipc_ldso_trace_find and ipc_ldso_trace_error, on any bytes.  The input is
 * "NAME\nOUTPUT": NAME is looked for in OUTPUT.  What they accept holds
 * together: a found path is a non-empty string shorter than the buffer, with
 * no newline, that occurs in OUTPUT on a line that begins with a tab, and
 * that ends in "/NAME" when the line has no "NAME => "; a reason is a string
 * that occurs in OUTPUT; nothing is read outside the bytes (ASan says so).  A
 * broken property aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipclab/ldso.h"

static int
occurs(const uint8_t *d, size_t n, const char *s)
{
	return memmem(d, n, s, strlen(s)) != NULL;
}

static void
check_path(const uint8_t *out, size_t n, const char *name, const char *path, size_t cap)
{
	size_t k = strlen(path), m = strlen(name);
	char *arrow;

	if (k == 0 || k >= cap || strchr(path, '\n') || !occurs(out, n, path))
		abort();
	if ((arrow = malloc(m + 6)) == NULL)
		abort();
	memcpy(arrow, "\t", 1);
	memcpy(arrow + 1, name, m);
	memcpy(arrow + 1 + m, " => ", 5);
	if (!occurs(out, n, arrow) &&
	    (k <= m || path[k - m - 1] != '/' || strcmp(path + k - m, name) != 0))
		abort();
	free(arrow);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char name[64], path[256], small[12], why[128];
	size_t k, n;
	const uint8_t *out;

	if (nl == NULL || (k = (size_t)(nl - data)) == 0 || k >= sizeof(name) ||
	    memchr(data, '\0', k))
		return 0;
	memcpy(name, data, k);
	name[k] = '\0';
	out = nl + 1;
	n = size - k - 1;
	if (ipc_ldso_trace_find((const char *)out, n, name, path, sizeof(path)))
		check_path(out, n, name, path, sizeof(path));
	if (ipc_ldso_trace_find((const char *)out, n, name, small, sizeof(small)))
		check_path(out, n, name, small, sizeof(small));
	if (ipc_ldso_trace_error((const char *)out, n, name, why, sizeof(why)) &&
	    (strlen(why) >= sizeof(why) || !occurs(out, n, why)))
		abort();
	return 0;
}
