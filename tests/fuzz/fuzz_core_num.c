/* The num.h parsers (src/core/num.c), ipc_parse_count and ipc_parse_seconds,
 * on any string: what they accept is in range and reads back the same when
 * printed again; plain decimal agrees with strtoll(3); a refusal says one of
 * strtonum(3)'s three words with the errno that goes with it; and numbers
 * written out from the input's bytes ("%lld", "De+E") parse back to
 * themselves.  A broken property aborts. */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipclab/num.h"

static const struct { long long min, max; } ranges[] = {
	{ 0, LLONG_MAX }, { LLONG_MIN, LLONG_MAX }, { 1, 1000 }, { -5, 5 },
	{ 2, 10000000000LL },
};

static void
check_refusal(int r, const char *errstr, int e)
{
	errno = e;
	if (r != -1)
		abort();
	if (strcmp(errstr, "invalid") == 0 ? errno != EINVAL :
	    strcmp(errstr, "too small") == 0 || strcmp(errstr, "too large") == 0 ?
	    errno != ERANGE : 1)
		abort();
}

/* A string of only [-]digits: strtoll(3) is the judge. */
static int
plain_decimal(const char *s)
{
	const char *p = s + (*s == '-');

	return *p && strspn(p, "0123456789") == strlen(p);
}

static void
count(const char *s, long long min, long long max)
{
	const char *errstr = NULL;
	long long v = 0, again = 0, ref;
	char buf[32];
	int r = ipc_parse_count(s, min, max, &v, &errstr), e = errno;

	if (plain_decimal(s) && !(*s == '-' && min >= 0)) {	/* no sign there */
		errno = 0;
		ref = strtoll(s, NULL, 10);
		if ((errno == 0 && ref >= min && ref <= max) != (r == 0) ||
		    (r == 0 && v != ref))
			abort();
	}
	if (r != 0) {
		check_refusal(r, errstr, e);
		return;
	}
	if (v < min || v > max || strspn(s, "-0123456789.eE+") != strlen(s))
		abort();
	snprintf(buf, sizeof(buf), "%lld", v);
	if (ipc_parse_count(buf, min, max, &again, &errstr) != 0 || again != v)
		abort();
}

static int
near(double a, double b)
{
	return fabs(a - b) <= 1e-12 * fabs(b);
}

/* What ipc_parse_seconds makes of S followed by SUFFIX. */
static double
unit(const char *s, const char *suffix)
{
	char buf[48];
	const char *errstr;
	double v;

	snprintf(buf, sizeof(buf), "%s%s", s, suffix);
	if (ipc_parse_seconds(buf, 1e300, &v, &errstr) != 0)
		abort();
	return v;
}

static void
seconds(const char *s, double max)
{
	const char *errstr = NULL;
	double v = -1, again = -1;
	char buf[64];
	int r = ipc_parse_seconds(s, max, &v, &errstr), e = errno;

	if (r != 0) {
		check_refusal(r, errstr, e);
		return;
	}
	if (!isfinite(v) || v < 0 || v > max)
		abort();
	if (v > 0 && v < DBL_MIN)	/* "1e-310ms": strtod calls that a range error */
		return;
	snprintf(buf, sizeof(buf), "%.17g", v);
	if (ipc_parse_seconds(buf, max, &again, &errstr) != 0 || again != v)
		abort();
	/* the units: "Xs" is X, "Xms" a thousandth of it, "Xm" sixty times */
	if (strlen(s) > 40 || strchr("0123456789.", s[strlen(s) - 1]) == NULL)
		return;
	if (unit(s, "s") != v || !near(unit(s, "ms"), v / 1000) || !near(unit(s, "m"), v * 60))
		abort();
}

/* A number made from the bytes, written as a person would, parses back. */
static void
written(const uint8_t *d, size_t n)
{
	const char *errstr = NULL;
	long long v = 0, got = 0, m;
	char buf[48];
	int e = 0;

	memcpy(&v, d, n < sizeof(v) ? n : sizeof(v));
	snprintf(buf, sizeof(buf), "%lld", v);
	if (ipc_parse_count(buf, LLONG_MIN, LLONG_MAX, &got, &errstr) != 0 || got != v)
		abort();
	if (v <= 0)
		return;
	for (m = v; m % 10 == 0; m /= 10)
		e++;
	snprintf(buf, sizeof(buf), "%llde%d", m, e);	/* 25e2 for 2500 */
	if (ipc_parse_count(buf, 0, LLONG_MAX, &got, &errstr) != 0 || got != v)
		abort();
	if (m >= 10) {					/* 2.5e3 for 2500 */
		snprintf(buf, sizeof(buf), "%lld.%llde%d", m / 10, m % 10, e + 1);
		if (ipc_parse_count(buf, 0, LLONG_MAX, &got, &errstr) != 0 || got != v)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s;

	if (n < 1 || n > 80)
		return 0;
	written(d + 1, n - 1);
	if ((s = malloc(n)) == NULL)
		abort();
	memcpy(s, d + 1, n - 1);	/* the first byte picks the range */
	s[n - 1] = '\0';
	count(s, ranges[d[0] % 5].min, ranges[d[0] % 5].max);
	seconds(s, d[0] & 0x80 ? 86400 : 1e9);
	free(s);
	return 0;
}
