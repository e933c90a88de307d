/* Strict number parsing and small statistics. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libutil.h>

#include "ipclab/num.h"

static int
fail(const char **errstr, const char *why, int e)
{
	if (errstr)
		*errstr = why;
	errno = e;
	return -1;
}

/* Appends decimal digits from *p to *mant, counting them in *digits.
 * Returns -2 on overflow, else 0. */
static int
take_digits(const char **p, unsigned long long *mant, int *digits)
{
	for (; **p >= '0' && **p <= '9'; (*p)++, (*digits)++) {
		if (*mant > (ULLONG_MAX - 9) / 10)
			return -2;
		*mant = *mant * 10 + (unsigned)(**p - '0');
	}
	return 0;
}

/* "D[.D]e[+]E": an exact whole number written in scientific notation.
 * Returns 0, -1 when it is not one, -2 when it overflows. */
static int
parse_sci(const char *s, long long *out)
{
	unsigned long long mant = 0;
	int intdigits = 0, frac = 0, exp = 0, expdigits = 0;
	const char *p = s;

	if (take_digits(&p, &mant, &intdigits) == -2)
		return -2;
	if (*p == '.') {
		p++;
		if (take_digits(&p, &mant, &frac) == -2)
			return -2;
	}
	if (intdigits + frac == 0 || (*p != 'e' && *p != 'E'))
		return -1;
	p++;
	if (*p == '+')
		p++;
	for (; *p >= '0' && *p <= '9'; p++, expdigits++)
		if ((exp = exp * 10 + (*p - '0')) > 40)
			return -2;
	if (*p != '\0' || expdigits == 0)
		return -1;
	for (exp -= frac; exp < 0; exp++) {
		if (mant % 10)
			return -1;	/* not a whole number */
		mant /= 10;
	}
	for (; exp > 0; exp--) {
		if (mant > (unsigned long long)LLONG_MAX / 10)
			return -2;
		mant *= 10;
	}
	if (mant > (unsigned long long)LLONG_MAX)
		return -2;
	*out = (long long)mant;
	return 0;
}

int
ipc_parse_count(const char *s, long long min, long long max, long long *out,
		const char **errstr)
{
	const char *e = NULL;
	long long v;

	if (s == NULL || *s == '\0')
		return fail(errstr, "invalid", EINVAL);
	if (strpbrk(s, "eE") == NULL && strchr(s, '.') == NULL) {
		/* strtonum would skip blanks and take a '+' */
		if (*s == '-' && min >= 0 && s[1] >= '0' && s[1] <= '9')
			return fail(errstr, "too small", ERANGE);
		if ((*s < '0' || *s > '9') && !(*s == '-' && min < 0))
			return fail(errstr, "invalid", EINVAL);
		v = strtonum(s, min, max, &e);
		if (e)	/* libbsd's strtonum does not always set errno */
			return fail(errstr, e, strcmp(e, "invalid") == 0 ? EINVAL : ERANGE);
		*out = v;
		return 0;
	}
	switch (parse_sci(s, &v)) {
	case -1:
		return fail(errstr, "invalid", EINVAL);
	case -2:
		return fail(errstr, "too large", ERANGE);
	}
	if (v < min)
		return fail(errstr, "too small", ERANGE);
	if (v > max)
		return fail(errstr, "too large", ERANGE);
	*out = v;
	return 0;
}

int
ipc_parse_seconds(const char *s, double max_s, double *out, const char **errstr)
{
	char *end;
	double v, unit = 1;

	/* digits first: strtod would skip blanks and read hex */
	if (s == NULL || !((*s >= '0' && *s <= '9') || *s == '.') || strpbrk(s, "xX"))
		return fail(errstr, "invalid", EINVAL);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v))
		return fail(errstr, "invalid", EINVAL);
	if (strcmp(end, "ms") == 0)
		unit = 1e-3;
	else if (strcmp(end, "m") == 0)
		unit = 60;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return fail(errstr, "invalid", EINVAL);
	v *= unit;
	if (v > max_s)
		return fail(errstr, "too large", ERANGE);
	*out = v;
	return 0;
}

uint64_t
ipc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
ipc_slice_ms(uint64_t deadline_ns)
{
	uint64_t now = ipc_now_ns();

	if (now >= deadline_ns)
		return -1;
	return deadline_ns - now > 100000000u ? 100 : (int)((deadline_ns - now + 999999) / 1000000);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
ipc_quantile(double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	/* the epsilon keeps 0.99 * 100 (99.000000000000014) at rank 99 */
	rank = (size_t)ceil(p * (double)n - 1e-9);
	if (rank > n)
		rank = n;
	return v[rank == 0 ? 0 : rank - 1];
}

char *
ipc_human_bytes(char *buf, size_t len, uint64_t bytes)
{
	/* humanize_number scales only as far as the buffer needs: give it
	 * room for four characters, "4.0K", "128M" */
	if (humanize_number(buf, len < 5 ? len : 5, (int64_t)bytes, "", HN_AUTOSCALE,
			    HN_B | HN_NOSPACE | HN_DECIMAL) < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	return buf;
}
