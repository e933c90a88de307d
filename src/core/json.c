/* A small streaming JSON writer, and libsmartcols tables as JSON arrays. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipclab/out.h"

static void
indent(struct ipc_json *j)
{
	fprintf(j->fp, "%*s", 3 * j->depth, "");
}

/* A JSON string: escapes as RFC 8259 asks, and U+FFFD for each byte that is
 * not part of valid UTF-8, so the document stays valid JSON. */
static void
put_string(FILE *fp, const char *s)
{
	static const char esc[] = { '"', '"', '\\', '\\', '\n', 'n', '\t', 't', '\r', 'r', 0 };
	const unsigned char *p = (const unsigned char *)s;
	const char *e;
	int n;

	fputc('"', fp);
	while (*p) {
		if (*p >= 0x80) {
			if ((n = (int)ipc_utf8_seq(p, 4)) == 0) {
				fputs("\\ufffd", fp);
				p++;
			} else {
				fwrite(p, 1, (size_t)n, fp);
				p += n;
			}
			continue;
		}
		for (e = esc; *e && *e != (char)*p; e += 2)
			;
		if (*e)
			fprintf(fp, "\\%c", e[1]);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
		p++;
	}
	fputc('"', fp);
}

/* Starts a member: the comma after the previous one, the indent, the key. */
static void
member(struct ipc_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->fp);
	fputc('\n', j->fp);
	j->first[j->depth] = false;
	indent(j);
	if (key) {
		put_string(j->fp, key);
		fputs(": ", j->fp);
	}
}

static void
open_level(struct ipc_json *j, const char *key, int c)
{
	member(j, key);
	fputc(c, j->fp);
	if (j->depth + 1 < (int)(sizeof(j->first) / sizeof(j->first[0])))
		j->depth++;
	j->first[j->depth] = true;
	j->kind[j->depth] = (char)c;
}

void
ipc_json_open(struct ipc_json *j, FILE *fp)
{
	memset(j, 0, sizeof(*j));
	j->fp = fp;
	fputc('{', fp);
	j->depth = 1;
	j->first[1] = true;
	j->kind[1] = '{';
}

void
ipc_json_object(struct ipc_json *j, const char *key)
{
	open_level(j, key, '{');
}

void
ipc_json_array(struct ipc_json *j, const char *key)
{
	open_level(j, key, '[');
}

/* Closes the innermost object or array with the bracket that matches. */
void
ipc_json_end(struct ipc_json *j)
{
	bool empty = j->first[j->depth];

	j->depth--;
	if (!empty) {
		fputc('\n', j->fp);
		indent(j);
	}
	fputc(j->kind[j->depth + 1] == '[' ? ']' : '}', j->fp);
}

int
ipc_json_close(struct ipc_json *j)
{
	while (j->depth > 1)
		ipc_json_end(j);
	fputs("\n}\n", j->fp);
	return fflush(j->fp) == 0 && !ferror(j->fp) ? 0 : -1;
}

void
ipc_json_str(struct ipc_json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		put_string(j->fp, val);
	else
		fputs("null", j->fp);
}

void
ipc_json_int(struct ipc_json *j, const char *key, long long val)
{
	member(j, key);
	fprintf(j->fp, "%lld", val);
}

void
ipc_json_uint(struct ipc_json *j, const char *key, unsigned long long val)
{
	member(j, key);
	fprintf(j->fp, "%llu", val);
}

void
ipc_json_double(struct ipc_json *j, const char *key, double val)
{
	member(j, key);
	if (isfinite(val))
		fprintf(j->fp, "%.10g", val);
	else
		fputs("null", j->fp);
}

void
ipc_json_bool(struct ipc_json *j, const char *key, bool val)
{
	member(j, key);
	fputs(val ? "true" : "false", j->fp);
}

static void
json_cell(struct ipc_json *j, const char *key, const char *data, int type)
{
	char *end;

	if (type == SCOLS_JSON_NUMBER) {
		/* only a whole, finite number: "nan" or "12 kB" would break
		 * the document */
		double v = data && *data ? strtod(data, &end) : NAN;

		member(j, key);
		fputs(isfinite(v) && *end == '\0' ? data : "null", j->fp);
	} else if (type == SCOLS_JSON_BOOLEAN) {
		member(j, key);
		fputs(data && *data && strcmp(data, "0") != 0 &&
		      strcmp(data, "no") != 0 && strcmp(data, "false") != 0 ?
		      "true" : "false", j->fp);
	} else {
		ipc_json_str(j, key, data);
	}
}

/* A column's JSON key: its header in lower case, as util-linux has them. */
static const char *
json_key(struct libscols_column *col, char *buf, size_t len)
{
	const char *h = scols_cell_get_data(scols_column_get_header(col));
	size_t i;

	for (i = 0; h && h[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)h[i]);
	buf[i] = '\0';
	return buf;
}

void
ipc_json_table(struct ipc_json *j, const char *key, struct libscols_table *t)
{
	struct libscols_iter *li = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_line *ln;
	size_t ncols = scols_table_get_ncols(t);
	char key_buf[64];

	ipc_json_array(j, key);
	while (li && scols_table_next_line(t, li, &ln) == 0) {
		ipc_json_object(j, NULL);
		for (size_t c = 0; c < ncols; c++) {
			struct libscols_column *col = scols_table_get_column(t, c);
			struct libscols_cell *cell = scols_line_get_cell(ln, c);

			json_cell(j, json_key(col, key_buf, sizeof(key_buf)),
				  scols_cell_get_data(cell), scols_column_get_json_type(col));
		}
		ipc_json_end(j);
	}
	scols_free_iter(li);
	ipc_json_end(j);
}
