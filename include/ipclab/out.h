/* Output: tables for people and JSON for programs (libsmartcols), findings
 * under a result, bars, and a progress line that shows only on a terminal. */
#ifndef IPCLAB_OUT_H
#define IPCLAB_OUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <libsmartcols.h>

/* One column of a table.  name is both the header and the JSON key;
 * json_type is SCOLS_JSON_STRING (0), SCOLS_JSON_NUMBER or
 * SCOLS_JSON_BOOLEAN; flags are SCOLS_FL_* (SCOLS_FL_RIGHT for numbers). */
struct ipc_col {
	const char *name;
	double whint;
	int flags;
	int json_type;
};

/* A table with these columns.  Returns NULL with errno set. */
struct libscols_table *ipc_table_new(const struct ipc_col *cols, size_t ncols);
/* A new row, or NULL with errno set. */
struct libscols_line *ipc_table_row(struct libscols_table *t);
/* Sets cell COL of a row from a printf format.  Returns 0 or -1. */
int ipc_cell(struct libscols_line *ln, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with a va_list, for a command's own variadic row helpers. */
int ipc_vcell(struct libscols_line *ln, size_t col, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Prints the table for a person.  Returns 0 or -1. */
int ipc_table_print(struct libscols_table *t, FILE *fp);

/* A streaming JSON writer that indents like util-linux's.  Members take a
 * key inside an object and NULL inside an array. */
struct ipc_json {
	FILE *fp;
	int depth;
	bool first[32];
	char kind[32];	/* '{' or '[' per level */
};
void ipc_json_open(struct ipc_json *j, FILE *fp);	/* the document's "{" */
int ipc_json_close(struct ipc_json *j);			/* "}\n"; -1 on a write error */
void ipc_json_object(struct ipc_json *j, const char *key);
void ipc_json_array(struct ipc_json *j, const char *key);
void ipc_json_end(struct ipc_json *j);			/* closes the innermost */
void ipc_json_str(struct ipc_json *j, const char *key, const char *val); /* NULL: null */
void ipc_json_int(struct ipc_json *j, const char *key, long long val);
void ipc_json_uint(struct ipc_json *j, const char *key, unsigned long long val);
void ipc_json_double(struct ipc_json *j, const char *key, double val);
void ipc_json_bool(struct ipc_json *j, const char *key, bool val);
/* An array of one object per row of T, keyed by column name in lower case,
 * typed by the columns' JSON types (an empty numeric cell is null).
 * Strings that are not valid UTF-8 get U+FFFD for each bad byte. */
void ipc_json_table(struct ipc_json *j, const char *key, struct libscols_table *t);

/* A finding: one plain sentence under a result, saying what it means or why,
 * wrapped to the terminal, as "  why: ...". */
void ipc_finding(FILE *fp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* TEXT and a newline, as it is when it fits the terminal's width (COLUMNS
 * in a pipe, where without it TEXT stays whole, as tables do); else wrapped
 * at spaces, the lines after the first indented by two. */
void ipc_print_fitted(FILE *fp, const char *text);
/* A section heading for a report: a blank line (except the first) and NAME. */
void ipc_heading(FILE *fp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A horizontal bar of WIDTH cells filled to FRAC (0..1): Unicode eighth
 * blocks in a UTF-8 locale, '#' otherwise.  Returns buf. */
char *ipc_bar(char *buf, size_t len, double frac, int width);
/* The one UTF-8 rule of every output (RFC 3629, strict): the length (1 to 4)
 * of the well-formed sequence at P within its AVAIL bytes, or 0 when the
 * bytes there are not one: a stray continuation byte, an overlong form, a
 * surrogate (U+D800..U+DFFF), anything above U+10FFFF, or a sequence cut
 * short.  A NUL byte ends a sequence like any other byte below 0x80. */
size_t ipc_utf8_seq(const unsigned char *p, size_t avail);
/* True when all N bytes at P are well-formed UTF-8 by that rule. */
bool ipc_utf8_valid(const void *p, size_t n);

/* True when the locale's character set is UTF-8. */
bool ipc_utf8(void);

/* A progress line on stderr, shown only when stderr is a terminal, redrawn
 * at most ten times a second. */
struct ipc_progress {
	bool on;
	bool drawn;
	uint64_t last_ns;
};
void ipc_progress_init(struct ipc_progress *p);
void ipc_progress_show(struct ipc_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ipc_progress_done(struct ipc_progress *p);	/* erases the line */

#endif
