/* Strict number parsing and small statistics. */
#ifndef IPCLAB_NUM_H
#define IPCLAB_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Parses a whole number in [min, max].  Accepts plain decimal ("1000000000")
 * and exact scientific notation for counts ("1e9", "2.5e3"); rejects signs
 * where min >= 0, fractions, trailing junk, blanks and overflow.  On failure
 * returns -1 and sets *errstr to "invalid", "too small" or "too large"
 * (strtonum(3)'s words) and errno to EINVAL or ERANGE. */
int ipc_parse_count(const char *s, long long min, long long max, long long *out,
		    const char **errstr);

/* Parses a duration in seconds: "1.5", "250ms", "2s", "1m".  Returns -1 with
 * *errstr set as above when it is not one, is negative or above max_s. */
int ipc_parse_seconds(const char *s, double max_s, double *out, const char **errstr);

/* Monotonic clock in nanoseconds. */
uint64_t ipc_now_ns(void);

/* A poll(2) timeout toward DEADLINE_NS (ipc_now_ns() time): the milliseconds
 * left, rounded up, at most 100 so that a loop sees its stop flag within a
 * tenth of a second; -1 once the deadline has passed. */
int ipc_slice_ms(uint64_t deadline_ns);

/* The p-quantile (0 <= p <= 1) of v[0..n-1] by the nearest-rank method; sorts
 * v in place.  Returns 0 for n == 0. */
double ipc_quantile(double *v, size_t n, double p);

/* Formats a byte count for a person with humanize_number(3): "4.0K", "128M".
 * Returns buf. */
char *ipc_human_bytes(char *buf, size_t len, uint64_t bytes);

#endif
