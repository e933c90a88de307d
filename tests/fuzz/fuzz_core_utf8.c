/* ipc_utf8_valid and ipc_utf8_seq (src/core/out.c), the one strict UTF-8 rule,
 * against two independent judges: a decoder written from RFC 3629's
 * definition (decode the code point, then refuse overlong forms, surrogates
 * and values past U+10FFFF) and glibc's iconv(3) from UTF-8.  Also: any bytes
 * given to the JSON writer come out as valid UTF-8 with no raw control
 * character.  A disagreement aborts. */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipclab/out.h"

/* The length of the well-formed sequence at p, 0 if there is none. */
static size_t
reference_seq(const uint8_t *p, size_t avail)
{
	static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int
reference_valid(const uint8_t *d, size_t n)
{
	size_t k;

	for (size_t i = 0; i < n; i += k)
		if ((k = reference_seq(d + i, n - i)) == 0)
			return 0;
	return 1;
}

/* 1 when glibc's iconv converts all n bytes from UTF-8, 0 when it refuses. */
static int
iconv_valid(const uint8_t *d, size_t n)
{
	static iconv_t cd = (iconv_t)-1;
	char out[4096];
	char *in = (char *)d, *o;
	size_t left = n, room;

	if (cd == (iconv_t)-1 && (cd = iconv_open("UTF-32LE", "UTF-8")) == (iconv_t)-1)
		abort();
	iconv(cd, NULL, NULL, NULL, NULL);
	while (left > 0) {
		o = out;
		room = sizeof(out);
		if (iconv(cd, &in, &left, &o, &room) == (size_t)-1 && errno != E2BIG)
			return 0;	/* EILSEQ, or EINVAL: cut short */
	}
	return 1;
}

/* The JSON writer's string: valid UTF-8, no byte below 0x20 but its own
 * newlines, whatever the input. */
static void
check_json(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1), *doc = NULL;
	size_t len = 0;
	struct ipc_json j;
	FILE *fp;

	if (s == NULL || (fp = open_memstream(&doc, &len)) == NULL)
		abort();
	memcpy(s, d, n);
	s[n] = '\0';
	ipc_json_open(&j, fp);
	ipc_json_str(&j, "s", s);
	if (ipc_json_close(&j) != 0 || fclose(fp) != 0)
		abort();
	if (!reference_valid((const uint8_t *)doc, len))
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)doc[i] < 0x20 && doc[i] != '\n')
			abort();
	free(doc);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	int want = reference_valid(d, n);

	if (ipc_utf8_valid(d, n) != want)
		abort();
	if (iconv_valid(d, n) != want)
		abort();
	/* sequence by sequence, as the JSON writer walks a string */
	for (size_t i = 0; i < n; i++)
		if (ipc_utf8_seq(d + i, n - i) != reference_seq(d + i, n - i))
			abort();
	check_json(d, n);
	return 0;
}
