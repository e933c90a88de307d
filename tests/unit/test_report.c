/* Unit tests for the report model (src/core/report.c).  The truth for the
 * JSON rendering is jq(1), a parser that owes ipclab nothing: each document
 * is checked for being one document and for every member's type and value;
 * the person's rendering is checked line by line. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipclab/report.h"

static const struct ipc_rcol cols[] = {
	{ "MODE", "mode", IPC_STR, NULL, 0, 0 },
	{ "RATE", "rate", IPC_REAL, "%.2e", 0, 0 },
	{ "SHARE", "share", IPC_SHARE, NULL, 0, 0 },
	{ "LOST", "lost", IPC_INT, NULL, 0, 0 },
	{ "TOTAL", "total", IPC_UINT, NULL, 0, 0 },
	{ "EXACT", "exact", IPC_BOOL, NULL, 0, 0 },
	{ "ADDR", "addr", IPC_ADDR, NULL, 0, 0 },
};

/* A report of two sections on FP. */
static struct ipc_report *
sample(FILE *fp, bool json)
{
	struct ipc_report *r = ipc_report_new(fp, json);
	struct ipc_section *s = ipc_report_section(r, "runs", "Runs");
	struct libscols_line *ln;

	assert_non_null(s);
	assert_int_equal(ipc_put_int(s, "n", "participants", 2), 0);
	assert_int_equal(ipc_put_note(s, "a line for people only"), 0);
	assert_int_equal(ipc_put_share(s, "fairness", "fairness", 0.4567), 0);
	assert_int_equal(ipc_section_table(s, "rows", cols, 7), 0);
	ln = ipc_row(s);
	assert_int_equal(ipc_cell_str(s, ln, 0, "%s", "none"), 0);
	assert_int_equal(ipc_cell_num(s, ln, 1, 1.25e9), 0);
	assert_int_equal(ipc_cell_num(s, ln, 2, 0.123), 0);
	assert_int_equal(ipc_cell_int(s, ln, 3, INT64_MAX), 0);
	assert_int_equal(ipc_cell_uint(s, ln, 4, UINT64_MAX), 0);
	assert_int_equal(ipc_cell_num(s, ln, 5, 0), 0);
	assert_int_equal(ipc_cell_addr(s, ln, 6, 0x7f0012345000ull), 0);
	ln = ipc_row(s);
	assert_int_equal(ipc_cell_str(s, ln, 0, "bad \xed\xa0\x80 \"utf-8\""), 0);
	assert_int_equal(ipc_cell_num(s, ln, 1, NAN), 0);
	assert_int_equal(ipc_cell_null(s, ln, 2), 0);
	/* the wrong type for a column is refused, not guessed */
	assert_int_equal(ipc_cell_str(s, ln, 3, "12 kB"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ipc_cell_addr(s, ln, 3, 1), -1);
	assert_int_equal(ipc_section_finding(s, "The %s mode lost %d%%.", "none", 12), 0);
	s = ipc_report_section(r, "host", NULL);
	assert_int_equal(ipc_put_str(s, "cpu", "CPU", "x86_64"), 0);
	assert_int_equal(ipc_put_str(s, "model", NULL, NULL), 0);
	assert_int_equal(ipc_put_bool(s, "smt", "SMT", true), 0);
	assert_int_equal(ipc_put_real(s, "load", "load", 0.5, "%.1f"), 0);
	assert_int_equal(ipc_section_finding(s, "Second section's finding."), 0);
	return r;
}

/* Runs jq -e EXPR over the file PATH; true when it printed true. */
static bool
jq(const char *path, const char *expr)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "jq -e '%s' '%s' >/dev/null 2>&1", expr, path);
	return system(cmd) == 0;
}

static void
json_has_the_skeleton_and_types(void **state)
{
	char path[] = "/tmp/ipclab-unit-report-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	struct ipc_report *r = sample(fp, true);
	char slurp[600];

	(void)state;
	assert_int_equal(ipc_report_end(r), 0);
	ipc_report_free(r);
	fclose(fp);
	snprintf(slurp, sizeof(slurp), "jq -s -e 'length == 1' '%s' >/dev/null", path);
	assert_int_equal(system(slurp), 0);	/* one document, not a stream */
	assert_true(jq(path, ".runs.n == 2 and .runs.fairness == 0.4567"));
	assert_true(jq(path, ".runs | has(\"a line for people only\") | not"));
	assert_true(jq(path, ".runs.rows | length == 2"));
	assert_true(jq(path, ".runs.rows[0] | .mode == \"none\" and .rate == 1250000000 and "
		       ".share == 0.123 and .exact == false and .addr == \"0x7f0012345000\""));
	/* integers stay exact: jq compares the text as a double, so check it */
	assert_true(jq(path, ".runs.rows[0].lost | type == \"number\""));
	assert_true(jq(path, ".runs.rows[1] | .rate == null and .share == null and "
		       ".lost == null and .total == null"));
	assert_true(jq(path, ".runs.rows[1].mode | test(\"^bad \\ufffd+ \\\"utf-8\\\"$\")"));
	assert_true(jq(path, ".host | .cpu == \"x86_64\" and .model == null and .smt == true "
		       "and .load == 0.5"));
	assert_true(jq(path, ".findings == [{\"section\":\"runs\",\"text\":\"The none mode lost 12%.\"},"
		       "{\"section\":\"host\",\"text\":\"Second section\\u0027s finding.\"}]"));
	snprintf(slurp, sizeof(slurp), "grep -q '\"lost\": 9223372036854775807,' '%s' && "
		 "grep -q '\"total\": 18446744073709551615,' '%s'", path, path);
	assert_int_equal(system(slurp), 0);
	unlink(path);
}

static char *
human(struct ipc_report *(*make)(FILE *, bool))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct ipc_report *r = make(fp, false);

	assert_int_equal(ipc_report_end(r), 0);
	ipc_report_free(r);
	fclose(fp);
	return buf;
}

static void
a_person_sees_the_same_values(void **state)
{
	char *out;

	(void)state;
	setenv("COLUMNS", "200", 1);
	out = human(sample);
	assert_non_null(strstr(out, "Runs\nparticipants: 2\na line for people only\n"
			       "fairness: 45.7%\n"));
	assert_non_null(strstr(out, "MODE"));
	assert_non_null(strstr(out, "1.25e+09"));
	assert_non_null(strstr(out, "12.3%"));
	assert_non_null(strstr(out, "9223372036854775807"));
	assert_non_null(strstr(out, "18446744073709551615"));
	assert_non_null(strstr(out, "0x7f0012345000"));
	assert_non_null(strstr(out, "  why: The none mode lost 12%.\n"));
	assert_non_null(strstr(out, "CPU: x86_64\nSMT: yes\nload: 0.5\n"));
	assert_null(strstr(out, "model"));	/* no label: JSON only */
	assert_non_null(strstr(out, "  why: Second section's finding.\n"));
	free(out);
}

static void
flush_prints_each_section_once(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct ipc_report *r = ipc_report_new(fp, false);
	struct ipc_section *s = ipc_report_section(r, "a", "First");

	(void)state;
	ipc_put_int(s, "x", "x", 1);
	assert_int_equal(ipc_report_flush(r), 0);
	assert_string_equal(buf, "First\nx: 1\n");
	s = ipc_report_section(r, "b", "Second");
	ipc_put_int(s, "y", "y", 2);
	assert_int_equal(ipc_report_end(r), 0);
	assert_string_equal(buf, "First\nx: 1\n\nSecond\ny: 2\n");
	ipc_report_free(r);
	fclose(fp);
	free(buf);
}

/* A section without a key puts its table at the top of the document. */
static void
a_keyless_section_is_the_document_itself(void **state)
{
	char path[] = "/tmp/test_report.XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	struct ipc_report *r = ipc_report_new(fp, true);
	struct ipc_section *s = ipc_report_section(r, NULL, "Runs");
	struct libscols_line *ln;

	(void)state;
	assert_non_null(s);
	assert_int_equal(ipc_put_int(s, "n", "participants", 2), 0);
	assert_int_equal(ipc_section_table(s, "runs", cols, 2), 0);
	ln = ipc_row(s);
	assert_int_equal(ipc_cell_str(s, ln, 0, "%s", "atomic"), 0);
	assert_int_equal(ipc_cell_num(s, ln, 1, 2.5e8), 0);
	assert_int_equal(ipc_section_finding(s, "Atomics are exact."), 0);
	assert_int_equal(ipc_report_end(r), 0);
	ipc_report_free(r);
	fclose(fp);
	assert_true(jq(path, "keys == [\"findings\", \"n\", \"runs\"] and .n == 2 and "
		       ".runs == [{\"mode\": \"atomic\", \"rate\": 2.5e8}] and "
		       ".findings == [{\"section\": \"runs\", \"text\": \"Atomics are exact.\"}]"));
	unlink(path);
}

static void
a_report_that_went_nowhere_fails(void **state)
{
	FILE *fp = fopen("/dev/full", "w");
	struct ipc_report *r = sample(fp, true);

	(void)state;
	errno = 0;
	assert_int_equal(ipc_report_end(r), -1);
	assert_int_equal(errno, ENOSPC);
	ipc_report_free(r);
	fclose(fp);
	fp = fopen("/dev/full", "w");
	r = sample(fp, false);
	assert_int_equal(ipc_report_end(r), -1);
	ipc_report_free(r);
	fclose(fp);
}

static const struct ipc_rcol side_cols[] = {
	{ "ADDR", "addr", IPC_ADDR, NULL, 0, IPC_LEFT },
	{ "N", "n", IPC_UINT, NULL, 0, 0 },
	{ "SECRET", "secret", IPC_STR, NULL, 0, SCOLS_FL_HIDDEN },
};

/* A footnote under the table, a left-aligned address, a JSON-only column,
 * and a cell never set (empty for a person, null in JSON). */
static struct ipc_report *
side(FILE *fp, bool json)
{
	struct ipc_report *r = ipc_report_new(fp, json);
	struct ipc_section *s = ipc_report_section(r, "side", NULL);
	struct libscols_line *ln;

	assert_int_equal(ipc_put_note(s, "above"), 0);
	assert_int_equal(ipc_put_footnote(s, "under %d", 1), 0);
	assert_int_equal(ipc_section_table(s, "rows", side_cols, 3), 0);
	ln = ipc_row(s);
	assert_int_equal(ipc_cell_addr(s, ln, 0, 0x1000), 0);
	assert_int_equal(ipc_cell_uint(s, ln, 1, 7), 0);
	assert_int_equal(ipc_cell_str(s, ln, 2, "json only"), 0);
	ln = ipc_row(s);
	assert_int_equal(ipc_cell_addr(s, ln, 0, 0x7f0000001000ull), 0);
	assert_int_equal(ipc_section_finding(s, "Last."), 0);
	return r;
}

static void
footnotes_left_columns_and_hidden_ones(void **state)
{
	char path[] = "/tmp/ipclab-unit-report-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	struct ipc_report *r = side(fp, true);
	char *out;

	(void)state;
	assert_int_equal(ipc_report_end(r), 0);
	ipc_report_free(r);
	fclose(fp);
	assert_true(jq(path, ".side | keys == [\"rows\"]"));	/* notes are not JSON */
	assert_true(jq(path, ".side.rows == [{\"addr\":\"0x1000\",\"n\":7,\"secret\":\"json only\"},"
		       "{\"addr\":\"0x7f0000001000\",\"n\":null,\"secret\":null}]"));
	unlink(path);
	setenv("COLUMNS", "200", 1);
	out = human(side);
	assert_string_equal(out, "above\n"
			    "ADDR           N\n"
			    "0x1000         7\n"
			    "0x7f0000001000 \n"
			    "under 1\n"
			    "  why: Last.\n");
	free(out);
}

static const struct ipc_rcol bar_cols[] = {
	{ "PID", "pid", IPC_INT, NULL, 0, 0 },
	{ "", NULL, IPC_STR, NULL, 0, 0 },	/* a person's only */
	{ "CPUS", "cpus", IPC_STR, NULL, 0, 0 },
};

/* A table with a person's only column, and scalars printed as fields under
 * it, some with their own text for a person and some JSON only. */
static struct ipc_report *
fields(FILE *fp, bool json)
{
	struct ipc_report *r = ipc_report_new(fp, json);
	struct ipc_section *s = ipc_report_section(r, NULL, "race");
	struct libscols_line *ln;

	assert_int_equal(ipc_put_shown(s, "nothing yet"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ipc_section_table(s, "participants", bar_cols, 3), 0);
	ipc_section_fields(s);
	ln = ipc_row(s);
	assert_int_equal(ipc_cell_int(s, ln, 0, 42), 0);
	assert_int_equal(ipc_cell_str(s, ln, 1, "###"), 0);
	assert_int_equal(ipc_cell_str(s, ln, 2, "0,1"), 0);
	assert_int_equal(ipc_put_int(s, "total", "TOTAL", 1200), 0);
	assert_int_equal(ipc_put_int(s, "sum", "SUM", 1300), 0);
	assert_int_equal(ipc_put_shown(s, "%d (of the winnings)", 1300), 0);
	assert_int_equal(ipc_put_real(s, "lost_pct", NULL, 7.5, NULL), 0);
	assert_int_equal(ipc_put_str(s, "layout", "LAYOUT", "packed"), 0);
	assert_int_equal(ipc_put_shown(s, "packed (one line)"), 0);
	assert_int_equal(ipc_put_str(s, "stopped", NULL, NULL), 0);
	assert_int_equal(ipc_section_finding(s, "Lost some."), 0);
	return r;
}

static void
fields_under_the_table_and_their_own_text(void **state)
{
	char path[] = "/tmp/ipclab-unit-report-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	struct ipc_report *r = fields(fp, true);
	char *out;

	(void)state;
	assert_int_equal(ipc_report_end(r), 0);
	ipc_report_free(r);
	fclose(fp);
	assert_true(jq(path, ". == {\"total\":1200,\"sum\":1300,\"lost_pct\":7.5,"
		       "\"layout\":\"packed\",\"stopped\":null,"
		       "\"participants\":[{\"pid\":42,\"cpus\":\"0,1\"}],"
		       "\"findings\":[{\"section\":\"participants\",\"text\":\"Lost some.\"}]}"));
	unlink(path);
	setenv("COLUMNS", "200", 1);
	out = human(fields);
	assert_string_equal(out, "race\n"
			    "PID     CPUS\n"
			    " 42 ### 0,1\n"
			    "\n"
			    "TOTAL  1200\n"
			    "SUM    1300 (of the winnings)\n"
			    "LAYOUT packed (one line)\n"
			    "  why: Lost some.\n");
	free(out);
}

/* A column's format shapes the text of its integers and addresses, and a
 * cell without a value may say why for a person while JSON says null. */
static const struct ipc_rcol hexcols[] = {
	{ "SIZE", "size", IPC_UINT, "0x%llx", 0, 0 },
	{ "PAGE", "page", IPC_ADDR, "%#llx", 0, 0 },
	{ "SHARED", "shared", IPC_BOOL, NULL, 0, 0 },
};

static struct ipc_report *
hex(FILE *fp, bool json)
{
	struct ipc_report *r = ipc_report_new(fp, json);
	struct ipc_section *s = ipc_report_section(r, "pages", NULL);
	struct libscols_line *ln;

	assert_int_equal(ipc_section_table(s, "pages", hexcols, 3), 0);
	ln = ipc_row(s);
	assert_int_equal(ipc_cell_uint(s, ln, 0, 4096), 0);
	assert_int_equal(ipc_cell_addr(s, ln, 1, 0), 0);
	assert_int_equal(ipc_cell_null_as(s, ln, 2, "?"), 0);
	ln = ipc_row(s);
	assert_int_equal(ipc_cell_null_as(s, ln, 0, "total"), 0);
	assert_int_equal(ipc_cell_addr(s, ln, 1, 0x1000), 0);
	assert_int_equal(ipc_cell_num(s, ln, 2, 1), 0);
	return r;
}

static void
formats_and_null_cells_shown_as_said(void **state)
{
	char path[] = "/tmp/ipclab-unit-report-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	struct ipc_report *r = hex(fp, true);
	char *out;

	(void)state;
	assert_int_equal(ipc_report_end(r), 0);
	ipc_report_free(r);
	fclose(fp);
	assert_true(jq(path, ".pages.pages == [{\"size\":4096,\"page\":\"0x0\",\"shared\":null},"
		       "{\"size\":null,\"page\":\"0x1000\",\"shared\":true}]"));
	unlink(path);
	setenv("COLUMNS", "200", 1);
	out = human(hex);
	assert_string_equal(out, "  SIZE   PAGE SHARED\n"
			    "0x1000      0 ?\n"
			    " total 0x1000 yes\n");
	free(out);
}

/* A wrapped column breaks at spaces, never inside a word, once the table is
 * narrower than the cell: the strace-like call of mallocprobe's kernel table. */
static void
wrapped_column_breaks_at_spaces(void **state)
{
	static const struct ipc_rcol wcols[] = {
		{ "N", "n", IPC_UINT, NULL, 0, 0 },
		{ "CALL", "call", IPC_STR, NULL, 0, SCOLS_FL_WRAP },
	};
	static const char call[] = "mmap(NULL, 200704, PROT_READ|PROT_WRITE, "
				   "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f15ef83d000";
	char *buf = NULL, *line, *save, joined[256] = "";
	size_t len = 0, lines = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct ipc_report *r = ipc_report_new(fp, false);
	struct ipc_section *s = ipc_report_section(r, "calls", NULL);
	struct libscols_line *ln;

	(void)state;
	setenv("COLUMNS", "50", 1);	/* else a memstream, like a pipe, never wraps */
	assert_int_equal(ipc_section_table(s, "calls", wcols, 2), 0);
	scols_table_set_termforce(ipc_section_scols(s), SCOLS_TERMFORCE_ALWAYS);
	scols_table_set_termwidth(ipc_section_scols(s), 50);
	assert_non_null(ln = ipc_row(s));
	assert_int_equal(ipc_cell_uint(s, ln, 0, 1), 0);
	assert_int_equal(ipc_cell_str(s, ln, 1, "%s", call), 0);
	assert_int_equal(ipc_report_end(r), 0);
	ipc_report_free(r);
	fclose(fp);
	unsetenv("COLUMNS");
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *cell = line + 2;	/* after "N ": the column starts there */

		assert_true(strlen(line) <= 50);
		if (strcmp(line, "N CALL") == 0)
			continue;
		/* each piece ends where a word does: joined with spaces, the call */
		snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s",
			 lines++ ? " " : "", cell);
	}
	assert_true(lines >= 2);
	assert_string_equal(joined, call);
	free(buf);
}

/* In a pipe with no COLUMNS a wrapped cell stays whole on its line. */
static void
wrapped_column_is_whole_in_a_pipe(void **state)
{
	static const struct ipc_rcol wcols[] = {
		{ "CALL", "call", IPC_STR, NULL, 0, SCOLS_FL_WRAP },
		{ "N", "n", IPC_UINT, NULL, 0, 0 },
	};
	static const char call[] = "mmap(NULL, 200704, PROT_READ|PROT_WRITE, "
				   "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f15ef83d000 and more words "
				   "so that it is longer than any terminal of eighty columns";
	char *buf = NULL, want[256];
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct ipc_report *r = ipc_report_new(fp, false);
	struct ipc_section *s = ipc_report_section(r, "calls", NULL);
	struct libscols_line *ln;

	(void)state;
	unsetenv("COLUMNS");
	assert_int_equal(ipc_section_table(s, "calls", wcols, 2), 0);
	assert_non_null(ln = ipc_row(s));
	assert_int_equal(ipc_cell_str(s, ln, 0, "%s", call), 0);
	assert_int_equal(ipc_cell_uint(s, ln, 1, 7), 0);
	assert_int_equal(ipc_report_end(r), 0);
	ipc_report_free(r);
	fclose(fp);
	snprintf(want, sizeof(want), "\n%s 7\n", call);	/* whole, the next column after it */
	assert_non_null(strstr(buf, want));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wrapped_column_breaks_at_spaces),
		cmocka_unit_test(wrapped_column_is_whole_in_a_pipe),
		cmocka_unit_test(json_has_the_skeleton_and_types),
		cmocka_unit_test(a_person_sees_the_same_values),
		cmocka_unit_test(flush_prints_each_section_once),
		cmocka_unit_test(a_report_that_went_nowhere_fails),
		cmocka_unit_test(footnotes_left_columns_and_hidden_ones),
		cmocka_unit_test(a_keyless_section_is_the_document_itself),
		cmocka_unit_test(fields_under_the_table_and_their_own_text),
		cmocka_unit_test(formats_and_null_cells_shown_as_said),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
