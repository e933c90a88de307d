// fuzz-sources: cmd/iotrace.c
/*
 * The parser of the shim's report lines in `ipclab iotrace`: any program
 * that finds the report pipe can write anything to it.  Checks that no input
 * crashes it and that where the pipe's reads split the stream changes
 * nothing: the same rows, processes and counts whether the bytes come in one
 * read or in two.
 */
#include "../../cmd/iotrace.c"

static FILE *
sink(void)
{
	static FILE *null;

	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		abort();
	return null;
}

static void
take(struct report *r, const struct opts *o, const char *d, size_t n, size_t cut)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->out = sink();
	feed(r, d, cut);
	feed(r, d + cut, n - cut);
}

static void
same(const struct report *a, const struct report *b)
{
	if (a->nrows != b->nrows || a->nprocs != b->nprocs || a->nlines != b->nlines)
		abort();
	for (size_t i = 0; i < a->nrows; i++) {
		const struct row *x = &a->rows[i], *y = &b->rows[i];

		if (x->pid != y->pid || strcmp(x->path, y->path) != 0 ||
		    strcmp(x->exe, y->exe) != 0 || x->opens != y->opens ||
		    x->rbytes != y->rbytes || x->wbytes != y->wbytes ||
		    x->reads != y->reads || x->writes != y->writes ||
		    (x->renamed == NULL) != (y->renamed == NULL))
			abort();
		if (x->pid <= 0)
			abort();	/* parse_line lets no pid 0 or below through */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct opts o = { .summary = false };	/* the echo path runs too */
	struct report a, b;
	struct row total;
	size_t cut;

	if (n < 1)
		return 0;
	cut = d[0] % n;
	d++, n--;
	take(&a, &o, (const char *)d, n, n);
	take(&b, &o, (const char *)d, n, cut < n ? cut : n);
	same(&a, &b);
	unattributed(&a);
	unattr_findings(&a);	/* the sums, at their extremes */
	scols_unref_table(make_table(&a, &total, false));
	scols_unref_table(make_table(&a, &total, true));
	free_report(&a);
	free_report(&b);
	return 0;
}
