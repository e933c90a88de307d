/* Output for people: tables, findings, headings, bars and a progress line. */
#include <errno.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "ipclab/num.h"
#include "ipclab/out.h"

struct libscols_table *
ipc_table_new(const struct ipc_col *cols, size_t ncols)
{
	struct libscols_table *t = scols_new_table();

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < ncols; i++) {
		struct libscols_column *c =
			scols_table_new_column(t, cols[i].name, cols[i].whint, cols[i].flags);

		if (c == NULL || scols_column_set_json_type(c, cols[i].json_type) != 0) {
			scols_unref_table(t);
			errno = ENOMEM;
			return NULL;
		}
	}
	return t;
}

struct libscols_line *
ipc_table_row(struct libscols_table *t)
{
	return scols_table_new_line(t, NULL);
}

int
ipc_vcell(struct libscols_line *ln, size_t col, const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		return -1;
	if (scols_line_refer_data(ln, col, s) != 0) {
		free(s);
		return -1;
	}
	return 0;
}

int
ipc_cell(struct libscols_line *ln, size_t col, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ipc_vcell(ln, col, fmt, ap);
	va_end(ap);
	return r;
}

int
ipc_table_print(struct libscols_table *t, FILE *fp)
{
	/* A pipe has no width: wrapped columns stay whole there, as the
	 * others do, unless COLUMNS gives one. */
	if (!isatty(fileno(fp)) && getenv("COLUMNS") == NULL)
		scols_table_enable_nowrap(t, 1);
	scols_table_set_stream(t, fp);
	return scols_print_table(t) == 0 ? 0 : -1;
}

static int
term_width(FILE *fp)
{
	struct winsize ws;
	const char *c = getenv("COLUMNS");

	if (isatty(fileno(fp)) && ioctl(fileno(fp), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	if (c && atoi(c) > 20)
		return atoi(c);
	return 80;
}

/* Prints TEXT wrapped at the terminal's width, the first line after LEAD and
 * the others indented by INDENT. */
static void
wrap(FILE *fp, const char *lead, int indent, const char *text)
{
	int width = term_width(fp), col = (int)strlen(lead);
	const char *w = text;

	fputs(lead, fp);
	while (*w) {
		size_t n = strcspn(w, " ");

		if (w > text && col + 1 + (int)n > width) {
			fprintf(fp, "\n%*s", indent, "");
			col = indent;
		} else if (w > text) {
			fputc(' ', fp);
			col++;
		}
		fwrite(w, 1, n, fp);
		col += (int)n;
		w += n;
		while (*w == ' ')
			w++;
	}
	fputc('\n', fp);
}

void
ipc_print_fitted(FILE *fp, const char *text)
{
	if ((!isatty(fileno(fp)) && getenv("COLUMNS") == NULL) ||
	    (int)strlen(text) <= term_width(fp))
		fprintf(fp, "%s\n", text);
	else
		wrap(fp, "", 2, text);
}

void
ipc_finding(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	wrap(fp, "  why: ", 7, s);
	free(s);
}

void
ipc_heading(FILE *fp, const char *fmt, ...)
{
	static FILE *seen;
	va_list ap;

	if (seen == fp)
		fputc('\n', fp);
	seen = fp;
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fputc('\n', fp);
}

size_t
ipc_utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 :
		   (p[0] & 0xf0) == 0xe0 ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;

	if (n == 0 || n > avail)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;	/* below: overlong */
	else if (p[0] == 0xed)
		hi = 0x9f;	/* above: surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;	/* below: overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f;	/* above: past U+10FFFF */
	if (n > 1 && (p[1] < lo || p[1] > hi))
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool
ipc_utf8_valid(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0, k;

	while (i < n) {
		if ((k = ipc_utf8_seq(s + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

bool
ipc_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && strcmp(cs, "UTF-8") == 0;
}

char *
ipc_bar(char *buf, size_t len, double frac, int width)
{
	static const char *eighth[] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
	bool u = ipc_utf8();
	const char *full = u ? "█" : "#";
	size_t used = 0, piece = strlen(full);
	int units, n;

	if (!(frac > 0))	/* also NaN */
		frac = 0;
	if (frac > 1)
		frac = 1;
	units = (int)(frac * width * 8 + 0.5);
	n = u ? units / 8 : (units + 4) / 8;
	buf[0] = '\0';
	for (int i = 0; i < n && used + piece < len; i++, used += piece)
		memcpy(buf + used, full, piece + 1);
	if (u && units % 8 && used + strlen(eighth[units % 8]) < len)
		memcpy(buf + used, eighth[units % 8], strlen(eighth[units % 8]) + 1);
	return buf;
}

void
ipc_progress_init(struct ipc_progress *p)
{
	const char *term = getenv("TERM");

	/* a dumb terminal cannot erase a line: \r\033[K would show as text */
	p->on = isatty(STDERR_FILENO) && getenv("IPCLAB_NO_PROGRESS") == NULL &&
		term && *term && strcmp(term, "dumb") != 0;
	p->drawn = false;
	p->last_ns = 0;
}

void
ipc_progress_show(struct ipc_progress *p, const char *fmt, ...)
{
	uint64_t now;
	va_list ap;

	if (!p->on)
		return;
	now = ipc_now_ns();
	if (p->drawn && now - p->last_ns < 100000000u)
		return;
	p->last_ns = now;
	p->drawn = true;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

void
ipc_progress_done(struct ipc_progress *p)
{
	if (p->on && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = false;
}
