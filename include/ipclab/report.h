/* A report: written once, printed for a person or as one JSON document.
 *
 * A report is an ordered list of sections.  A section has a key (its JSON
 * member, lower snake case), a title (its heading for a person, or NULL),
 * scalar values, at most one table, and findings: plain sentences that say
 * what a result means ("why:" lines; in JSON, {"section": KEY, "text": ...}
 * objects in the document's "findings" list).  A table's columns carry a
 * header, a JSON key and a type; every cell holds its display text and its
 * typed value side by side, so the JSON is never parsed back out of text.
 *
 * The JSON skeleton, the same for every command:
 *   { "KEY": { "scalar": VALUE, ..., "TABLE": [ {"col": VALUE, ...}, ... ] },
 *     ..., "findings": [ {"section": "KEY", "text": "..."}, ... ] }
 * Numbers are numbers; shares are fractions (0.123, shown as "12.3%");
 * addresses are hex strings ("0x7f12..."); a missing value is null.
 *
 * Sections print in the order they were made.  ipc_report_flush() prints the
 * sections made so far (a long experiment shows each result as it comes;
 * in JSON they join the one document), ipc_report_end() the rest, the
 * findings and the document's end. */
#ifndef IPCLAB_REPORT_H
#define IPCLAB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libsmartcols.h>

enum ipc_type {
	IPC_STR,	/* text; JSON string */
	IPC_INT,	/* "%lld"; JSON number */
	IPC_UINT,	/* "%llu"; JSON number */
	IPC_REAL,	/* the column's or value's format ("%.3g" by default); number */
	IPC_SHARE,	/* a fraction shown as a percentage ("12.3%"); JSON 0.123 */
	IPC_BOOL,	/* "yes"/"no"; JSON true/false */
	IPC_ADDR	/* "0x7f12..."; JSON the same hex string */
};

/* One column: HEADER for a person, KEY in JSON, TYPE of every cell, FMT
 * (may be NULL) for IPC_REAL cells, WHINT and FLAGS as libsmartcols takes them
 * (SCOLS_FL_RIGHT is added for numbers and addresses unless FLAGS holds
 * IPC_LEFT; SCOLS_FL_HIDDEN makes a column JSON only; a NULL KEY makes it
 * a person's only, such as a bar).  The report keeps a pointer to the array:
 * a command's static table of columns. */
#define IPC_LEFT (1 << 30)	/* in ipc_rcol.flags: a number or address kept left */

struct ipc_rcol {
	const char *header;
	const char *key;
	enum ipc_type type;
	const char *fmt;
	double whint;
	int flags;
};

/* FMT may shape the text of IPC_INT (a long long's format), IPC_UINT and
 * IPC_ADDR cells (an unsigned long long's) too: "0x%llx" shows a size in hex
 * while JSON keeps its number, "%#llx" an address 0 as "0" while JSON keeps
 * "0x0". */

struct ipc_report;
struct ipc_section;

/* A report printed on FP, as JSON when json is true.  NULL with errno set. */
struct ipc_report *ipc_report_new(FILE *fp, bool json);
/* Frees the report and everything in it (ipc_report_end prints it first). */
void ipc_report_free(struct ipc_report *r);

/* A new section at the end of the report.  NULL with errno set.  A section
 * whose KEY is NULL has no object of its own: its scalars and its table are
 * members of the document itself ({"runs": [...], "findings": [...]}), and
 * its findings name the table's key as their section. */
struct ipc_section *ipc_report_section(struct ipc_report *r, const char *key,
				       const char *title);

/* Scalars: a "LABEL: VALUE" line for a person (none when label is NULL), a
 * KEY member in JSON.  Each returns 0 or -1 with errno set. */
int ipc_put_str(struct ipc_section *s, const char *key, const char *label, const char *v);
int ipc_put_int(struct ipc_section *s, const char *key, const char *label, long long v);
int ipc_put_uint(struct ipc_section *s, const char *key, const char *label,
		 unsigned long long v);
int ipc_put_real(struct ipc_section *s, const char *key, const char *label, double v,
		 const char *fmt);
int ipc_put_share(struct ipc_section *s, const char *key, const char *label, double v);
int ipc_put_bool(struct ipc_section *s, const char *key, const char *label, bool v);
/* A line for a person only, such as a sentence of context: no JSON member. */
int ipc_put_note(struct ipc_section *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same, printed under the section's table (before its findings). */
int ipc_put_footnote(struct ipc_section *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* What a person reads for the scalar put last in S becomes FMT...; its JSON
 * value stays as it was put ("SUM: 1200 (of the winnings)", JSON 1200).
 * 0, or -1 with errno set (EINVAL when S has no scalar yet). */
int ipc_put_shown(struct ipc_section *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* S's labelled scalars print for a person as two aligned columns without
 * headings (LABEL VALUE, as lscpu does), under S's table after a blank
 * line, instead of "LABEL: VALUE" lines above it. */
void ipc_section_fields(struct ipc_section *s);

/* Gives the section its table, keyed TABLE_KEY in JSON.  0 or -1. */
int ipc_section_table(struct ipc_section *s, const char *table_key,
		      const struct ipc_rcol *cols, size_t ncols);
/* The section's libsmartcols table (for settings such as scols_table_set_name),
 * or NULL before ipc_section_table(). */
struct libscols_table *ipc_section_scols(struct ipc_section *s);
/* A new row of the section's table.  NULL with errno set. */
struct libscols_line *ipc_row(struct ipc_section *s);

/* Cells, typed by their column: the value goes into both renderings.
 * ipc_cell_str takes a printf format; ipc_cell_num takes any number for an
 * IPC_INT, IPC_UINT, IPC_REAL, IPC_SHARE or IPC_BOOL column; ipc_cell_addr
 * an address; ipc_cell_null leaves the cell empty ("-", JSON null).  Each
 * returns 0 or -1 with errno set (EINVAL for a type the column does not
 * take). */
int ipc_cell_str(struct ipc_section *s, struct libscols_line *ln, size_t col,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int ipc_cell_num(struct ipc_section *s, struct libscols_line *ln, size_t col, double v);
int ipc_cell_int(struct ipc_section *s, struct libscols_line *ln, size_t col, long long v);
int ipc_cell_uint(struct ipc_section *s, struct libscols_line *ln, size_t col,
		  unsigned long long v);
int ipc_cell_addr(struct ipc_section *s, struct libscols_line *ln, size_t col, uint64_t v);
int ipc_cell_null(struct ipc_section *s, struct libscols_line *ln, size_t col);
/* The same, with SHOWN for a person instead of "-" ("?", "hidden", "total"). */
int ipc_cell_null_as(struct ipc_section *s, struct libscols_line *ln, size_t col,
		     const char *shown);

/* A finding of the section: one plain sentence.  0 or -1. */
int ipc_section_finding(struct ipc_section *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints the sections not printed yet.  Returns 0, or -1 with errno set when
 * a write failed. */
int ipc_report_flush(struct ipc_report *r);
/* Prints the rest, then (JSON) the findings and the document's end, and
 * checks that every byte reached FP's file.  0 or -1 with errno set. */
int ipc_report_end(struct ipc_report *r);

#endif
