/* Unit tests for the one UTF-8 rule of every output (ipc_utf8_seq,
 * ipc_utf8_valid in src/core/out.c).  The truth: RFC 3629's table of
 * well-formed byte sequences, and glibc's iconv(3) from UTF-8, which refuses
 * the same ill-formed sequences, over every 1-, 2- and 3-byte string of the
 * bytes that matter. */
#include <errno.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ipclab/out.h"

#define OK(s) assert_true(ipc_utf8_valid(s, sizeof(s) - 1))
#define BAD(s) assert_false(ipc_utf8_valid(s, sizeof(s) - 1))

static void
rfc3629_edges(void **state)
{
	(void)state;
	OK("");
	OK("plain ASCII");
	OK("\xc2\x80");			/* U+0080 */
	OK("\xdf\xbf");			/* U+07FF */
	OK("\xe0\xa0\x80");		/* U+0800 */
	OK("\xed\x9f\xbf");		/* U+D7FF */
	OK("\xee\x80\x80");		/* U+E000 */
	OK("\xf0\x90\x80\x80");		/* U+10000 */
	OK("\xf4\x8f\xbf\xbf");		/* U+10FFFF */
	BAD("\x80");			/* a stray continuation */
	BAD("\xc0\xaf");		/* overlong '/' */
	BAD("\xc1\xbf");
	BAD("\xe0\x9f\xbf");		/* overlong U+07FF */
	BAD("a\xed\xa0\x80" "b");	/* surrogate U+D800 */
	BAD("\xed\xbf\xbf");		/* surrogate U+DFFF */
	BAD("\xf0\x8f\xbf\xbf");	/* overlong U+FFFF */
	BAD("\xf4\x90\x80\x80");	/* U+110000 */
	BAD("\xf5\x80\x80\x80");
	BAD("\xff");
	BAD("\xe2\x82");		/* cut short */
	BAD("\xf0\x9f\x98");
}

static void
a_sequence_never_reads_past_its_bytes(void **state)
{
	const unsigned char euro[] = { 0xe2, 0x82, 0xac };

	(void)state;
	assert_int_equal(ipc_utf8_seq(euro, 3), 3);
	assert_int_equal(ipc_utf8_seq(euro, 2), 0);
	assert_int_equal(ipc_utf8_seq((const unsigned char *)"\0", 1), 1);
	assert_true(ipc_utf8_valid("a\0b", 3));
}

static bool
iconv_accepts(iconv_t cd, const unsigned char *s, size_t n)
{
	char out[64], *in = (char *)s, *o = out;
	size_t il = n, ol = sizeof(out);

	iconv(cd, NULL, NULL, NULL, NULL);
	return iconv(cd, &in, &il, &o, &ol) != (size_t)-1 && il == 0;
}

/* Every string of up to three bytes drawn from the bytes where the rule has
 * an edge: the rule and iconv must agree on each. */
static void
agrees_with_iconv(void **state)
{
	static const unsigned char b[] = {
		0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2,
		0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf3, 0xf4, 0xf5, 0xff
	};
	size_t nb = sizeof(b), checked = 0;
	iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
	unsigned char s[4];

	(void)state;
	assert_true(cd != (iconv_t)-1);
	for (size_t len = 1; len <= 3; len++) {
		size_t total = 1;

		for (size_t k = 0; k < len; k++)
			total *= nb;
		for (size_t v = 0; v < total; v++) {
			size_t x = v;

			for (size_t k = 0; k < len; k++, x /= nb)
				s[k] = b[x % nb];
			if (ipc_utf8_valid(s, len) != iconv_accepts(cd, s, len))
				fail_msg("%zu bytes %02x %02x %02x: rule and iconv differ",
					 len, s[0], len > 1 ? s[1] : 0, len > 2 ? s[2] : 0);
			checked++;
		}
	}
	iconv_close(cd);
	assert_true(checked > 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc3629_edges),
		cmocka_unit_test(a_sequence_never_reads_past_its_bytes),
		cmocka_unit_test(agrees_with_iconv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
