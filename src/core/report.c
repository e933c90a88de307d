/* Reports written once and printed for a person or as one JSON document:
 * sections of scalars, a table of typed cells and findings (report.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipclab/out.h"
#include "ipclab/report.h"

/* A typed value and the text a person sees for it. */
struct val {
	enum ipc_type type;
	bool null;
	union {
		long long i;
		unsigned long long u;
		double d;
		bool b;
		uint64_t a;
	};
	char *shown;	/* also the value of an IPC_STR */
};

/* A scalar (key set) or a note (key NULL), in the order they were put;
 * a footnote is a note printed under the table.  TEXT, when set, is what a
 * person reads instead of V's own text. */
struct item {
	char *key, *label, *text;
	struct val v;
	bool under;
};

struct ipc_section {
	char *key, *title, *table_key;
	struct item *items;
	size_t nitems;
	struct libscols_table *t;
	const struct ipc_rcol *cols;
	size_t ncols;
	struct val **cells;	/* every cell's value, to free */
	size_t ncells;
	char **findings;
	size_t nfindings;
	bool printed, fields;
	struct ipc_section *next;
};

struct ipc_report {
	FILE *fp;
	bool json, begun, spoke;	/* spoke: a person's section was printed */
	struct ipc_json j;
	struct ipc_section *head, *tail;
};

/* ARR of N elements of SIZE bytes, grown by one zeroed element, or NULL
 * (ARR is then unchanged). */
static void *
grown(void *arr, size_t n, size_t size)
{
	char *p = realloc(arr, (n + 1) * size);

	if (p)
		memset(p + n * size, 0, size);
	return p;
}

struct ipc_report *
ipc_report_new(FILE *fp, bool json)
{
	struct ipc_report *r = calloc(1, sizeof(*r));

	if (r) {
		r->fp = fp;
		r->json = json;
	}
	return r;
}

struct ipc_section *
ipc_report_section(struct ipc_report *r, const char *key, const char *title)
{
	struct ipc_section *s = calloc(1, sizeof(*s));

	if (s == NULL || (key && (s->key = strdup(key)) == NULL) ||
	    (title && (s->title = strdup(title)) == NULL)) {
		if (s)
			free(s->key);
		free(s);
		return NULL;
	}
	if (r->tail)
		r->tail->next = s;
	else
		r->head = s;
	r->tail = s;
	return s;
}

/* The text a person sees for V (V's type and number set), in V->shown. */
static int
show(struct val *v, const char *fmt)
{
	int n;

	if (v->null)
		n = asprintf(&v->shown, "-");
	else if (v->type == IPC_INT)
		n = asprintf(&v->shown, fmt ? fmt : "%lld", v->i);
	else if (v->type == IPC_UINT)
		n = asprintf(&v->shown, fmt ? fmt : "%llu", v->u);
	else if (v->type == IPC_REAL)
		n = asprintf(&v->shown, fmt ? fmt : "%.3g", v->d);
	else if (v->type == IPC_SHARE)
		n = asprintf(&v->shown, "%.1f%%", 100 * v->d);
	else if (v->type == IPC_BOOL)
		n = asprintf(&v->shown, "%s", v->b ? "yes" : "no");
	else
		n = asprintf(&v->shown, fmt ? fmt : "0x%llx", (unsigned long long)v->a);
	if (n < 0) {
		v->shown = NULL;
		return -1;
	}
	return 0;
}

/* Sets V from a double for a numeric type: NaN is null. */
static int
from_double(struct val *v, enum ipc_type type, double d, const char *fmt)
{
	v->type = type;
	v->null = isnan(d);
	if (type == IPC_INT)
		v->i = (long long)d;
	else if (type == IPC_UINT)
		v->u = (unsigned long long)d;
	else if (type == IPC_BOOL)
		v->b = d != 0;
	else if (type == IPC_REAL || type == IPC_SHARE)
		v->d = d;
	else {
		errno = EINVAL;
		return -1;
	}
	return show(v, fmt);
}

static struct item *
new_item(struct ipc_section *s, const char *key, const char *label)
{
	struct item *items = grown(s->items, s->nitems, sizeof(*items)), *it;

	if (items == NULL)
		return NULL;
	s->items = items;
	it = &items[s->nitems++];
	if ((key && (it->key = strdup(key)) == NULL) ||
	    (label && (it->label = strdup(label)) == NULL)) {
		free(it->key);
		s->nitems--;
		return NULL;
	}
	return it;
}

static int
put_number(struct ipc_section *s, const char *key, const char *label, enum ipc_type type,
	   double d, const char *fmt)
{
	struct item *it = new_item(s, key, label);

	return it ? from_double(&it->v, type, d, fmt) : -1;
}

int
ipc_put_str(struct ipc_section *s, const char *key, const char *label, const char *v)
{
	struct item *it = new_item(s, key, label);

	if (it == NULL)
		return -1;
	it->v.type = IPC_STR;
	it->v.null = v == NULL;
	it->v.shown = strdup(v ? v : "-");
	return it->v.shown ? 0 : -1;
}

int
ipc_put_int(struct ipc_section *s, const char *key, const char *label, long long v)
{
	struct item *it = new_item(s, key, label);

	if (it == NULL)
		return -1;
	it->v.type = IPC_INT;
	it->v.i = v;
	return show(&it->v, NULL);
}

int
ipc_put_uint(struct ipc_section *s, const char *key, const char *label,
	     unsigned long long v)
{
	struct item *it = new_item(s, key, label);

	if (it == NULL)
		return -1;
	it->v.type = IPC_UINT;
	it->v.u = v;
	return show(&it->v, NULL);
}

int
ipc_put_real(struct ipc_section *s, const char *key, const char *label, double v,
	     const char *fmt)
{
	return put_number(s, key, label, IPC_REAL, v, fmt);
}

int
ipc_put_share(struct ipc_section *s, const char *key, const char *label, double v)
{
	return put_number(s, key, label, IPC_SHARE, v, NULL);
}

int
ipc_put_bool(struct ipc_section *s, const char *key, const char *label, bool v)
{
	return put_number(s, key, label, IPC_BOOL, v, NULL);
}

static int
put_note(struct ipc_section *s, bool under, const char *fmt, va_list ap)
{
	struct item *it = new_item(s, NULL, NULL);

	if (it == NULL)
		return -1;
	it->v.type = IPC_STR;
	it->under = under;
	if (vasprintf(&it->v.shown, fmt, ap) < 0) {
		it->v.shown = NULL;
		return -1;
	}
	return 0;
}

int
ipc_put_note(struct ipc_section *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = put_note(s, false, fmt, ap);
	va_end(ap);
	return rc;
}

int
ipc_put_footnote(struct ipc_section *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = put_note(s, true, fmt, ap);
	va_end(ap);
	return rc;
}

int
ipc_put_shown(struct ipc_section *s, const char *fmt, ...)
{
	struct item *it = NULL;
	char *text;
	va_list ap;
	int n;

	for (size_t i = s->nitems; i > 0 && it == NULL; i--)
		if (s->items[i - 1].key)
			it = &s->items[i - 1];
	if (it == NULL) {
		errno = EINVAL;
		return -1;
	}
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	free(it->text);
	it->text = text;
	return 0;
}

void
ipc_section_fields(struct ipc_section *s)
{
	s->fields = true;
}

/* Wrapped columns break at spaces: the longest word is the narrowest the
 * column may get (libsmartcols gives a wrapped last column the rest of the
 * line), and a cell is cut at its last space that fits the width the table
 * gave the column (a word longer than that stays whole). */
static size_t
wrap_word_size(const struct libscols_column *cl, const char *data, void *arg)
{
	size_t best = 0, n;

	(void)arg;
	if (data && scols_table_is_nowrap(scols_column_get_table(cl)))
		return strlen(data);	/* a pipe: the cell whole */
	for (; data && *data; data += n + (data[n] == ' ')) {
		n = strcspn(data, " ");
		best = n > best ? n : best;
	}
	return best;
}

static char *
wrap_next_line(const struct libscols_column *cl, char *data, void *arg)
{
	size_t width = scols_column_get_width(cl), cut = 0, i;

	(void)arg;
	if (data == NULL || width == 0 || strlen(data) <= width ||
	    scols_table_is_nowrap(scols_column_get_table(cl)))
		return NULL;
	for (i = 0; data[i] && (i <= width || cut == 0); i++)
		if (data[i] == ' ')
			cut = i;
	if (cut == 0)
		return NULL;
	data[cut] = '\0';
	return data + cut + 1;
}

int
ipc_section_table(struct ipc_section *s, const char *table_key,
		  const struct ipc_rcol *cols, size_t ncols)
{
	struct libscols_column *cl;

	if (s->t || (s->table_key = strdup(table_key)) == NULL ||
	    (s->t = scols_new_table()) == NULL) {
		errno = s->t ? EEXIST : ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < ncols; i++) {
		int fl = cols[i].flags & ~IPC_LEFT;

		if (cols[i].type != IPC_STR && cols[i].type != IPC_BOOL && !(cols[i].flags & IPC_LEFT))
			fl |= SCOLS_FL_RIGHT;

		if ((cl = scols_table_new_column(s->t, cols[i].header, cols[i].whint, fl)) == NULL ||
		    ((fl & SCOLS_FL_WRAP) &&
		     scols_column_set_wrapfunc(cl, wrap_word_size, wrap_next_line, NULL) != 0)) {
			errno = ENOMEM;
			return -1;
		}
	}
	s->cols = cols;
	s->ncols = ncols;
	return 0;
}

struct libscols_table *
ipc_section_scols(struct ipc_section *s)
{
	return s->t;
}

struct libscols_line *
ipc_row(struct ipc_section *s)
{
	if (s->t == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return scols_table_new_line(s->t, NULL);
}

#define NUMERIC (1u << IPC_INT | 1u << IPC_UINT | 1u << IPC_REAL | 1u << IPC_SHARE | \
		 1u << IPC_BOOL)

/* A new value for cell COL of LN, its type the column's, which must be one
 * of TYPES (a mask of 1 << enum ipc_type); NULL on error. */
static struct val *
new_cell(struct ipc_section *s, struct libscols_line *ln, size_t col, unsigned types)
{
	struct val **cells, *v;

	if (col >= s->ncols || !(types & 1u << s->cols[col].type)) {
		errno = EINVAL;
		return NULL;
	}
	if ((cells = grown(s->cells, s->ncells, sizeof(*cells))) == NULL)
		return NULL;
	s->cells = cells;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	cells[s->ncells++] = v;
	v->type = s->cols[col].type;
	if (scols_cell_set_userdata(scols_line_get_cell(ln, col), v) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	return v;
}

/* Gives the cell the text V->shown, once V is complete. */
static int
set_shown(struct libscols_line *ln, size_t col, const struct val *v)
{
	if (v->shown == NULL || scols_line_set_data(ln, col, v->shown) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
ipc_cell_str(struct ipc_section *s, struct libscols_line *ln, size_t col, const char *fmt, ...)
{
	struct val *v = new_cell(s, ln, col, 1u << IPC_STR);
	va_list ap;
	int n;

	if (v == NULL)
		return -1;
	va_start(ap, fmt);
	n = vasprintf(&v->shown, fmt, ap);
	va_end(ap);
	if (n < 0)
		v->shown = NULL;
	return set_shown(ln, col, v);
}

int
ipc_cell_num(struct ipc_section *s, struct libscols_line *ln, size_t col, double d)
{
	struct val *v = new_cell(s, ln, col, NUMERIC);

	if (v == NULL || from_double(v, v->type, d, s->cols[col].fmt) == -1)
		return -1;
	return set_shown(ln, col, v);
}

/* An integer cell set without a trip through double, so that 2^63-1 stays
 * exact. */
static int
exact_cell(struct ipc_section *s, struct libscols_line *ln, size_t col, long long i,
	   unsigned long long u, bool is_signed)
{
	struct val *v = new_cell(s, ln, col, NUMERIC);

	if (v == NULL)
		return -1;
	if (v->type == IPC_INT)
		v->i = is_signed ? i : (long long)u;
	else if (v->type == IPC_UINT)
		v->u = is_signed ? (unsigned long long)i : u;
	else
		return from_double(v, v->type, is_signed ? (double)i : (double)u,
				   s->cols[col].fmt) == -1 ? -1 : set_shown(ln, col, v);
	if (show(v, s->cols[col].fmt) == -1)
		return -1;
	return set_shown(ln, col, v);
}

int
ipc_cell_int(struct ipc_section *s, struct libscols_line *ln, size_t col, long long v)
{
	return exact_cell(s, ln, col, v, 0, true);
}

int
ipc_cell_uint(struct ipc_section *s, struct libscols_line *ln, size_t col,
	      unsigned long long v)
{
	return exact_cell(s, ln, col, 0, v, false);
}

int
ipc_cell_addr(struct ipc_section *s, struct libscols_line *ln, size_t col, uint64_t a)
{
	struct val *v = new_cell(s, ln, col, 1u << IPC_ADDR);

	if (v == NULL)
		return -1;
	v->a = a;
	if (show(v, s->cols[col].fmt) == -1)
		return -1;
	return set_shown(ln, col, v);
}

int
ipc_cell_null(struct ipc_section *s, struct libscols_line *ln, size_t col)
{
	struct val *v = new_cell(s, ln, col, ~0u);

	if (v == NULL)
		return -1;
	v->null = true;
	if (show(v, NULL) == -1)
		return -1;
	return set_shown(ln, col, v);
}

int
ipc_cell_null_as(struct ipc_section *s, struct libscols_line *ln, size_t col,
		 const char *shown)
{
	struct val *v = new_cell(s, ln, col, ~0u);

	if (v == NULL)
		return -1;
	v->null = true;
	v->shown = strdup(shown);
	return set_shown(ln, col, v);
}

int
ipc_section_finding(struct ipc_section *s, const char *fmt, ...)
{
	char **f = grown(s->findings, s->nfindings, sizeof(*f));
	va_list ap;
	int n;

	if (f == NULL)
		return -1;
	s->findings = f;
	va_start(ap, fmt);
	n = vasprintf(&f[s->nfindings], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	s->nfindings++;
	return 0;
}

/* ---- printing ---- */

static void
json_val(struct ipc_json *j, const char *key, const struct val *v)
{
	if (v == NULL || (v->null && v->type != IPC_STR))
		ipc_json_str(j, key, NULL);
	else if (v->type == IPC_STR)
		ipc_json_str(j, key, v->null ? NULL : v->shown);
	else if (v->type == IPC_INT)
		ipc_json_int(j, key, v->i);
	else if (v->type == IPC_UINT)
		ipc_json_uint(j, key, v->u);
	else if (v->type == IPC_REAL || v->type == IPC_SHARE)
		ipc_json_double(j, key, v->d);
	else if (v->type == IPC_BOOL)
		ipc_json_bool(j, key, v->b);
	else {
		char hex[24];	/* whatever the column's format, JSON's is one */

		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)v->a);
		ipc_json_str(j, key, hex);
	}
}

static void
json_table(struct ipc_json *j, const struct ipc_section *s)
{
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_line *ln;

	ipc_json_array(j, s->table_key);
	while (it && scols_table_next_line(s->t, it, &ln) == 0) {
		ipc_json_object(j, NULL);
		for (size_t c = 0; c < s->ncols; c++)
			if (s->cols[c].key)
				json_val(j, s->cols[c].key,
					 scols_cell_get_userdata(scols_line_get_cell(ln, c)));
		ipc_json_end(j);
	}
	scols_free_iter(it);
	ipc_json_end(j);
}

static void
json_section(struct ipc_report *r, const struct ipc_section *s)
{
	if (s->key)
		ipc_json_object(&r->j, s->key);
	for (size_t i = 0; i < s->nitems; i++)
		if (s->items[i].key)
			json_val(&r->j, s->items[i].key, &s->items[i].v);
	if (s->t)
		json_table(&r->j, s);
	if (s->key)
		ipc_json_end(&r->j);
}

static const char *
shown(const struct item *it)
{
	return it->text ? it->text : it->v.shown;
}

/* The items of S for a person: those above the table, or those under it. */
static void
human_items(FILE *fp, const struct ipc_section *s, bool under)
{
	for (size_t i = 0; i < s->nitems; i++) {
		const struct item *it = &s->items[i];

		if (it->under != under)
			continue;
		char *line = NULL;

		if (it->key == NULL)
			ipc_print_fitted(fp, it->v.shown);
		else if (it->label && !s->fields && asprintf(&line, "%s: %s", it->label, shown(it)) >= 0)
			ipc_print_fitted(fp, line);
		free(line);
	}
}

/* S's labelled scalars as two aligned columns without headings. */
static int
human_fields(FILE *fp, const struct ipc_section *s)
{
	struct libscols_table *t = scols_new_table();
	struct libscols_line *ln;
	int rc = -1;

	if (t == NULL || scols_table_new_column(t, "FIELD", 0, 0) == NULL ||
	    scols_table_new_column(t, "VALUE", 0, 0) == NULL)
		goto out;
	scols_table_enable_noheadings(t, 1);
	for (size_t i = 0; i < s->nitems; i++) {
		const struct item *it = &s->items[i];

		if (it->key == NULL || it->label == NULL)
			continue;
		if ((ln = scols_table_new_line(t, NULL)) == NULL ||
		    scols_line_set_data(ln, 0, it->label) != 0 ||
		    scols_line_set_data(ln, 1, shown(it)) != 0)
			goto out;
	}
	if (s->t)
		fputc('\n', fp);
	rc = ipc_table_print(t, fp);
out:
	scols_unref_table(t);
	if (rc == -1 && errno == 0)
		errno = ENOMEM;
	return rc;
}

static int
human_section(struct ipc_report *r, const struct ipc_section *s)
{
	FILE *fp = r->fp;

	if (s->title)
		fprintf(fp, "%s%s\n", r->spoke ? "\n" : "", s->title);
	r->spoke = true;
	human_items(fp, s, false);
	if (s->t && ipc_table_print(s->t, fp) == -1)
		return -1;
	if (s->fields && human_fields(fp, s) == -1)
		return -1;
	human_items(fp, s, true);
	for (size_t i = 0; i < s->nfindings; i++)
		ipc_finding(fp, "%s", s->findings[i]);
	return 0;
}

int
ipc_report_flush(struct ipc_report *r)
{
	if (r->json && !r->begun)
		ipc_json_open(&r->j, r->fp);
	r->begun = true;
	for (struct ipc_section *s = r->head; s; s = s->next) {
		if (s->printed)
			continue;
		s->printed = true;
		if (r->json)
			json_section(r, s);
		else if (human_section(r, s) == -1)
			return -1;
	}
	if (fflush(r->fp) != 0 || ferror(r->fp)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

int
ipc_report_end(struct ipc_report *r)
{
	if (ipc_report_flush(r) == -1)
		return -1;
	if (!r->json)
		return 0;
	ipc_json_array(&r->j, "findings");
	for (struct ipc_section *s = r->head; s; s = s->next)
		for (size_t i = 0; i < s->nfindings; i++) {
			ipc_json_object(&r->j, NULL);
			ipc_json_str(&r->j, "section", s->key ? s->key : s->table_key);
			ipc_json_str(&r->j, "text", s->findings[i]);
			ipc_json_end(&r->j);
		}
	ipc_json_end(&r->j);
	errno = 0;
	if (ipc_json_close(&r->j) == -1) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

static void
free_section(struct ipc_section *s)
{
	for (size_t i = 0; i < s->nitems; i++) {
		free(s->items[i].key);
		free(s->items[i].label);
		free(s->items[i].text);
		free(s->items[i].v.shown);
	}
	for (size_t i = 0; i < s->ncells; i++) {
		if (s->cells[i])
			free(s->cells[i]->shown);
		free(s->cells[i]);
	}
	for (size_t i = 0; i < s->nfindings; i++)
		free(s->findings[i]);
	scols_unref_table(s->t);
	free(s->items);
	free(s->cells);
	free(s->findings);
	free(s->key);
	free(s->title);
	free(s->table_key);
	free(s);
}

void
ipc_report_free(struct ipc_report *r)
{
	struct ipc_section *s, *next;

	if (r == NULL)
		return;
	for (s = r->head; s; s = next) {
		next = s->next;
		free_section(s);
	}
	free(r);
}
