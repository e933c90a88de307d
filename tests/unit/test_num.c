/* Unit tests for src/core/num.c: strict number parsing, quantiles, the clock
 * and byte counts for people.  The truth is written out by hand (what a
 * person means by "1e9"), libc's clock_gettime(2) and libbsd's
 * humanize_number(3). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ipclab/num.h"

#define BIG 9223372036854775807LL

/* Parses S in [min, max]; asserts success and returns the value. */
static long long
count_ok(const char *s, long long min, long long max)
{
	const char *e = "untouched";
	long long v = -12345;

	errno = 0;
	if (ipc_parse_count(s, min, max, &v, &e) != 0)
		fail_msg("\"%s\" rejected: %s", s, e);
	return v;
}

/* Asserts that S is rejected with errstr WHY, *out untouched. */
static void
count_bad(const char *s, long long min, long long max, const char *why)
{
	const char *e = NULL;
	long long v = -12345;

	if (ipc_parse_count(s, min, max, &v, &e) != -1)
		fail_msg("\"%s\" accepted as %lld", s, v);
	if (e == NULL || strcmp(e, why) != 0)
		fail_msg("\"%s\": errstr \"%s\", want \"%s\"", s, e ? e : "(null)", why);
	assert_int_equal(v, -12345);
}

/* Asserts that S is rejected with errno ERR. */
static void
count_errno(const char *s, long long min, long long max, int err)
{
	const char *e = NULL;
	long long v;

	errno = 0;
	assert_int_equal(ipc_parse_count(s, min, max, &v, &e), -1);
	if (errno != err)
		fail_msg("\"%s\" (%s): errno %d (%s), want %d (%s)", s, e, errno,
			 strerror(errno), err, strerror(err));
}

static void
count_accepts_plain_and_scientific(void **state)
{
	(void)state;
	assert_int_equal(count_ok("1e9", 0, BIG), 1000000000LL);
	assert_int_equal(count_ok("1E9", 0, BIG), 1000000000LL);
	assert_int_equal(count_ok("1e+9", 0, BIG), 1000000000LL);
	assert_int_equal(count_ok("1000000000", 0, BIG), 1000000000LL);
	assert_int_equal(count_ok("2.5e3", 0, BIG), 2500);
	assert_int_equal(count_ok("1.50e1", 0, BIG), 15);
	assert_int_equal(count_ok("0", 0, BIG), 0);
	assert_int_equal(count_ok("9223372036854775807", 0, BIG), BIG);
	assert_int_equal(count_ok("9.2e18", 0, BIG), 9200000000000000000LL);
}

static void
count_rejects_malformed_as_invalid(void **state)
{
	static const char *bad[] = { "", " 1", "+1", "abc", "1.5", "1e-3", "1e", "e9",
				     "3 4", "1e9x", "0x10", "1..5e3", "1e9 ", ".",
				     "2.5e0", "1.25e1" };	/* the last two: fractions */

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		count_bad(bad[i], 0, BIG, "invalid");
}

static void
count_rejects_null_as_invalid(void **state)
{
	(void)state;
	count_bad(NULL, 0, BIG, "invalid");
}

/* Regression: strtonum(3) uses strtoll(3), which skips any leading isspace(3)
 * character; the core once refused only ' ' and '\t', so "\n5" was 5. */
static void
count_rejects_any_leading_whitespace(void **state)
{
	static const char *bad[] = { "\t5", "\n5", "\v5", "\f5", "\r5" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		count_bad(bad[i], 0, BIG, "invalid");
}

static void
count_rejects_negative_when_min_is_zero(void **state)
{
	(void)state;
	count_bad("-3", 0, BIG, "too small");
}

static void
count_rejects_overflow_as_too_large(void **state)
{
	(void)state;
	count_bad("1e99", 0, BIG, "too large");
	count_bad("99999999999999999999e0", 0, BIG, "too large");
	count_bad("1e19", 0, BIG, "too large");
	count_bad("9223372036854775808", 0, BIG, "too large");
}

/* Regression: libbsd's strtonum(3) leaves errno 0 when it fails (libbsd 0.11
 * here), and the core once passed that 0 on for "9223372036854775808", "abc"
 * and "4" in [5, 10]. */
static void
count_failure_sets_errno(void **state)
{
	(void)state;
	count_errno("", 0, BIG, EINVAL);
	count_errno("1.5", 0, BIG, EINVAL);
	count_errno("1e99", 0, BIG, ERANGE);
	count_errno("-3", 0, BIG, ERANGE);
	count_errno("2e1", 5, 10, ERANGE);
	count_errno("abc", 0, BIG, EINVAL);
	count_errno("3 4", 0, BIG, EINVAL);
	count_errno("9223372036854775808", 0, BIG, ERANGE);
	count_errno("4", 5, 10, ERANGE);
	count_errno("11", 5, 10, ERANGE);
}

static void
count_honours_min_and_max(void **state)
{
	(void)state;
	assert_int_equal(count_ok("5", 5, 10), 5);
	assert_int_equal(count_ok("10", 5, 10), 10);
	assert_int_equal(count_ok("1e1", 5, 10), 10);
	assert_int_equal(count_ok("-3", -5, 10), -3);
	count_bad("4", 5, 10, "too small");
	count_bad("11", 5, 10, "too large");
	count_bad("2e1", 5, 10, "too large");
	count_bad("0e0", 5, 10, "too small");
	count_bad("0", 1, 10, "too small");
}

static double
seconds_ok(const char *s, double max)
{
	const char *e = NULL;
	double v = -1;

	if (ipc_parse_seconds(s, max, &v, &e) != 0)
		fail_msg("\"%s\" rejected: %s", s, e);
	return v;
}

static void
seconds_bad(const char *s, double max, const char *why)
{
	const char *e = NULL;
	double v = -12345;

	if (ipc_parse_seconds(s, max, &v, &e) != -1)
		fail_msg("\"%s\" accepted as %g", s, v);
	if (e == NULL || strcmp(e, why) != 0)
		fail_msg("\"%s\": errstr \"%s\", want \"%s\"", s, e ? e : "(null)", why);
	assert_true(v == -12345);
}

static void
seconds_accepts_units(void **state)
{
	(void)state;
	assert_true(seconds_ok("1.5", 100) == 1.5);
	assert_true(seconds_ok("250ms", 100) == 0.25);
	assert_true(seconds_ok("2s", 100) == 2.0);
	assert_true(seconds_ok("1m", 100) == 60.0);
	assert_true(seconds_ok("0", 100) == 0.0);
}

static void
seconds_rejects_junk_and_negatives(void **state)
{
	static const char *bad[] = { "-1", "abc", "5x", "", " 1", "1 s", "ms", "nan",
				     "inf", "1e999" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		seconds_bad(bad[i], 100, "invalid");
}

static void
seconds_rejects_above_max(void **state)
{
	(void)state;
	seconds_bad("101", 100, "too large");
	seconds_bad("2m", 100, "too large");
	assert_true(seconds_ok("100", 100) == 100.0);
}

static void
quantile_of_one_value_is_that_value(void **state)
{
	double v[1] = { 42 };

	(void)state;
	assert_true(ipc_quantile(v, 1, 0) == 42);
	assert_true(ipc_quantile(v, 1, 0.5) == 42);
	assert_true(ipc_quantile(v, 1, 1) == 42);
}

/* 1..100 shuffled: the p-quantile by nearest rank is the ceil(100p)-th value. */
static void
quantile_nearest_rank_on_100_values(void **state)
{
	double v[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = (double)((i * 37) % 100 + 1);	/* a permutation of 1..100 */
	assert_true(ipc_quantile(v, 100, 0.5) == 50);
	assert_true(ipc_quantile(v, 100, 0.99) == 99);
	assert_true(ipc_quantile(v, 100, 1) == 100);
	assert_true(ipc_quantile(v, 100, 0) == 1);
	assert_true(ipc_quantile(v, 100, 0.001) == 1);
	for (int i = 1; i < 100; i++)
		assert_true(v[i - 1] <= v[i]);	/* sorted in place, as documented */
}

/* Regression: with a bare ceil(p * n), 0.07 * 100 is 7.000000000000001 and
 * the 7th percentile of 1..100 came out as 8 (also 0.14, 0.28, 0.55...). */
static void
quantile_rank_is_exact_for_whole_percentiles(void **state)
{
	double v[100];

	(void)state;
	for (int pct = 1; pct <= 100; pct++) {
		for (int i = 0; i < 100; i++)
			v[i] = (double)(100 - i);
		double q = ipc_quantile(v, 100, pct / 100.0);

		if (q != pct)
			fail_msg("p=%d%% of 1..100 gave %g", pct, q);
	}
}

static void
quantile_of_nothing_is_zero(void **state)
{
	(void)state;
	assert_true(ipc_quantile(NULL, 0, 0.5) == 0);
}

static uint64_t
libc_now_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
now_is_the_monotonic_clock(void **state)
{
	uint64_t a, b, c, prev;

	(void)state;
	a = libc_now_ns();
	b = ipc_now_ns();
	c = libc_now_ns();
	assert_true(a <= b && b <= c);
	assert_true(c - a < 1000000000u);	/* same clock: within a second */
	prev = ipc_now_ns();
	for (int i = 0; i < 10000; i++) {
		uint64_t t = ipc_now_ns();

		assert_true(t >= prev);
		prev = t;
	}
}

/* humanize_number(3) with a 5-byte buffer prints "4.0K" for 4096 (checked on
 * this machine); the header promises that form whatever the buffer. */
static const char *
human(uint64_t n)
{
	static char buf[32];

	memset(buf, 'x', sizeof(buf));
	return ipc_human_bytes(buf, sizeof(buf), n);
}

static void
slice_is_capped_rounded_up_and_ends_at_the_deadline(void **state)
{
	uint64_t now;

	(void)state;
	now = ipc_now_ns();
	assert_int_equal(ipc_slice_ms(now - 1), -1);	/* passed */
	assert_int_equal(ipc_slice_ms(ipc_now_ns() + 60000000000u), 100);
	/* 2.5 ms left: at least 3 ms, never 0, which would spin */
	int ms = ipc_slice_ms(ipc_now_ns() + 2500000u);
	assert_true(ms >= 1 && ms <= 3);
	ms = ipc_slice_ms(ipc_now_ns() + 50000000u);
	assert_true(ms > 40 && ms <= 50);
}

static void
human_bytes_small_counts_in_bytes(void **state)
{
	(void)state;
	assert_string_equal(human(0), "0B");
	assert_string_equal(human(999), "999B");
}

/* Regression: humanize_number(3) scales only as far as the buffer needs, so
 * with a 32-byte buffer the core once printed "4096B" and "134217728B". */
static void
human_bytes_scales_like_the_header_says(void **state)
{
	(void)state;
	assert_string_equal(human(4096), "4.0K");
	assert_string_equal(human(1536), "1.5K");
	assert_string_equal(human(128ULL << 20), "128M");
	assert_string_equal(human(5ULL << 30), "5.0G");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(count_accepts_plain_and_scientific),
		cmocka_unit_test(count_rejects_malformed_as_invalid),
		cmocka_unit_test(count_rejects_null_as_invalid),
		cmocka_unit_test(count_rejects_any_leading_whitespace),
		cmocka_unit_test(count_rejects_negative_when_min_is_zero),
		cmocka_unit_test(count_rejects_overflow_as_too_large),
		cmocka_unit_test(count_failure_sets_errno),
		cmocka_unit_test(count_honours_min_and_max),
		cmocka_unit_test(seconds_accepts_units),
		cmocka_unit_test(seconds_rejects_junk_and_negatives),
		cmocka_unit_test(seconds_rejects_above_max),
		cmocka_unit_test(quantile_of_one_value_is_that_value),
		cmocka_unit_test(quantile_nearest_rank_on_100_values),
		cmocka_unit_test(quantile_rank_is_exact_for_whole_percentiles),
		cmocka_unit_test(quantile_of_nothing_is_zero),
		cmocka_unit_test(now_is_the_monotonic_clock),
		cmocka_unit_test(slice_is_capped_rounded_up_and_ends_at_the_deadline),
		cmocka_unit_test(human_bytes_small_counts_in_bytes),
		cmocka_unit_test(human_bytes_scales_like_the_header_says),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
