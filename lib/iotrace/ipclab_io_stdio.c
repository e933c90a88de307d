/*
 * libipclab_io.so, the stdio accounting: the FILE buffer-pointer snapshot
 * around every stdio call, failed flushes, seeks' refills, wide-character
 * stdio, and the messages glibc prints itself (error, err, perror, getopt).
 * Part of ipclab_io.c's one translation unit (see there).
 */

/* ---- stdio ------------------------------------------------------------- */

/* A FILE's buffer before a call.  With glibc's buffer pointers:
 *   read side:  [_IO_read_ptr, _IO_read_end) came from the kernel, unread;
 *   write side: [_IO_write_base, _IO_write_ptr) waits to go to the kernel.
 * Kernel bytes read by a call = bytes it handed to the program + growth of
 * the unread part; written = bytes it took from the program - growth of the
 * waiting part.  Memory streams (fmemopen, open_memstream) have no fd. */
struct snap {
	int fd, locked, err, oerr;
	long ravail, wpend, owpend;
	off64_t offset;
	FILE *out;		/* stdout, which a refill of fp may flush */
};

#define IN_BACKUP 0x100		/* glibc libio.h: _IO_IN_BACKUP */
#define ERR_SEEN 0x20		/* _IO_ERR_SEEN */
#define EOF_SEEN 0x10		/* _IO_EOF_SEEN */
#define LINE_BUF 0x200		/* _IO_LINE_BUF */
#define UNBUFFERED 0x2		/* _IO_UNBUFFERED */
#define LINKED 0x80		/* _IO_LINKED */
#define NO_WRITES 0x8		/* _IO_NO_WRITES */
#define NO_READS 0x4		/* _IO_NO_READS */

/* Unread bytes; after an ungetc that did not fit, glibc reads from a backup
 * area, and the rest of the main buffer waits in [_IO_save_base,
 * _IO_save_end). */
static inline long
ravail(FILE *fp)
{
	long n = fp->_IO_read_end - fp->_IO_read_ptr;

	if (fp->_flags & IN_BACKUP)
		n += fp->_IO_save_end - fp->_IO_save_base;
	return n;
}

static inline long
wpend(FILE *fp)
{
	return fp->_IO_write_ptr - fp->_IO_write_base;
}

/* open_memstream's FILEs say fileno 0: tell them by their jump table, which
 * glibc keeps right after the FILE (struct _IO_FILE_plus). */
static const void *memvt[2];
#define VTABLE(fp) (*(const void *const *)((const char *)(fp) + sizeof(FILE)))

static inline int
fdof(FILE *fp)
{
	if (fp == NULL || fp->_fileno < 0)
		return -1;
	if (memvt[0] && (VTABLE(fp) == memvt[0] || VTABLE(fp) == memvt[1]))
		return -1;
	return fp->_fileno;
}

/* The stdio call this thread is in, for a death inside it (on_fatal). */
static __thread struct {
	FILE *fp;
	char *wbase, *wend;
} inflight __attribute__((tls_model("initial-exec")));

/* A write that fails empties the buffer all the same (glibc drops what it
 * could not write): whether one failed in this call is told by the error
 * flag, cleared for the call and put back after, as glibc's fgets does. */
static inline __attribute__((always_inline)) int
err_clear(FILE *fp)
{
	int e = fp->_flags & ERR_SEEN;

	fp->_flags &= ~ERR_SEEN;
	return e;
}

static inline __attribute__((always_inline)) int
err_restore(FILE *fp, int was)
{
	int now = fp->_flags & ERR_SEEN;

	fp->_flags |= was;
	return now;
}

/* A refill of a line-buffered or unbuffered stream first flushes stdout
 * when stdout is line-buffered (glibc's _IO_new_file_underflow): a prompt. */
static inline __attribute__((always_inline)) void
pre_out(FILE *fp, struct snap *s)
{
	FILE *o = stdout;

	s->out = NULL;
	if (!(fp->_flags & (LINE_BUF | UNBUFFERED)) || o == fp || o == NULL ||
	    (o->_flags & (LINKED | NO_WRITES | LINE_BUF)) != (LINKED | LINE_BUF) ||
	    fdof(o) < 0)
		return;
	s->out = o;
	s->owpend = wpend(o);
	s->oerr = err_clear(o);
}

static inline __attribute__((always_inline)) void
post_out(struct snap *s)
{
	FILE *o = s->out;
	long dw;

	if (o == NULL)
		return;
	dw = s->owpend - wpend(o);
	if (!err_restore(o, s->oerr) && dw > 0)
		count_w(o->_fileno, dw);
}

/* Locked variants: take the FILE's lock around the whole comparison, as
 * glibc would for the call alone (recursive), when threads exist. */
static inline __attribute__((always_inline)) void
pre(FILE *fp, struct snap *s, int lock)
{
	s->fd = fdof(fp);
	s->locked = lock && s->fd >= 0 && (fp->_flags2 & FLAGS2_NEED_LOCK) &&
		    !(fp->_flags & USER_LOCK);
	if (s->locked)
		flockfile(fp);
	if (s->fd < 0)
		return;
	s->ravail = ravail(fp);
	s->wpend = wpend(fp);
	s->offset = fp->_offset;
	s->err = err_clear(fp);
	pre_out(fp, s);
	inflight.wbase = fp->_IO_write_base;
	inflight.wend = fp->_IO_write_end;
	inflight.fp = fp;
}

/* A write call cannot read (a stream switching from reading seeks back
 * over its buffer): it passes took < 0, and the read side is not looked at.
 * Counting makes no call, so errno is the real call's, unless the lock is
 * to be released. */
static inline __attribute__((always_inline)) void
post(FILE *fp, struct snap *s, long took, long gave)
{
	inflight.fp = NULL;
	if (s->fd >= 0) {
		long dr = took < 0 ? 0 : took + ravail(fp) - s->ravail;
		long dw = gave - (wpend(fp) - s->wpend);

		if (dr > 0)
			count_r(s->fd, dr);
		if (!err_restore(fp, s->err) && dw > 0)
			count_w(s->fd, dw);
		post_out(s);
	}
	if (s->locked) {
		int e = errno;

		funlockfile(fp);
		errno = e;
	}
}

/* A seek that succeeds moves the read pointer within the buffer (no read,
 * the FILE's kernel offset kept), or refills it with one read at the block
 * before the target: the buffer then holds [target's block, kernel offset)
 * and either the kernel offset moved or the target is the buffer's end (a
 * seek to the end of a file whose last block was in the buffer already).
 * Waiting bytes are flushed first, and the flush empties the buffer: any
 * bytes in it after such a seek were read by it (the flush moved the
 * offset too, so that it may come back to what it was). */
/* A seek past the end of a file, into the block the end is in, reads to the
 * end, finds less than it wanted, and seeks on from there with the buffer
 * left empty: the bytes it read are the file's size less the block's start
 * (its target is the FILE's kernel offset now). */
static long
seek_past_end(FILE *fp)
{
	long bs = fp->_IO_buf_end - fp->_IO_buf_base;
	off64_t target = fp->_offset, block;
	struct stat st;
	int e = errno;

	if (bs <= 0 || target <= 0 || (fp->_flags & NO_READS))
		return 0;
	block = target & ~(off64_t)(bs - 1);
	if (target == block || target - block > bs)
		return 0;	/* glibc would not have read */
	if (sys(SYS_fstat, fp->_fileno, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size <= block || st.st_size >= target) {
		errno = e;
		return 0;
	}
	errno = e;
	return (long)(st.st_size - block);
}

static inline void
post_seek(FILE *fp, struct snap *s, int ok, int cur)
{
	int e = errno;

	inflight.fp = NULL;
	if (s->fd >= 0) {
		long dw = s->wpend - wpend(fp);

		if (ok && fp->_IO_read_end > fp->_IO_read_base && !(fp->_flags & IN_BACKUP) &&
		    (s->wpend > 0 || fp->_offset != s->offset ||
		     fp->_IO_read_ptr == fp->_IO_read_end))
			count_r(s->fd, fp->_IO_read_end - fp->_IO_read_base);
		else if (ok && !(cur && s->offset == -1) &&
			 fp->_IO_read_end == fp->_IO_read_base) {
			long n = seek_past_end(fp);

			if (n > 0)
				count_r(s->fd, n);
		}
		if (!err_restore(fp, s->err) && dw > 0)
			count_w(s->fd, dw);
		post_out(s);
	}
	if (s->locked)
		funlockfile(fp);
	errno = e;
}

/* fread(p, size, n) is fread(p, 1, size * n) with the count divided back:
 * glibc computes it so, and the byte count is then exact at a partial end. */
#define FREAD(f, lock, p, size, n, fp) do { \
	struct snap s_; \
	size_t r_; \
	if (!REAL(f)) \
		NOSYS(0); \
	if (size == 0 || n == 0 || n > SIZE_MAX / size) \
		return real_##f(p, size, n, fp); \
	pre(fp, &s_, lock); \
	r_ = real_##f(p, 1, size * n, fp); \
	post(fp, &s_, (long)r_, 0); \
	return r_ == size * n ? n : r_ / size; } while (0)

#define FWRITE(f, lock, p, size, n, fp) do { \
	struct snap s_; \
	size_t r_; \
	if (!REAL(f)) \
		NOSYS(0); \
	if (size == 0 || n == 0 || n > SIZE_MAX / size) \
		return real_##f(p, size, n, fp); \
	pre(fp, &s_, lock); \
	r_ = real_##f(p, 1, size * n, fp); \
	post(fp, &s_, -1, (long)r_); \
	return r_ == size * n ? n : r_ / size; } while (0)

EXPORT size_t fread(void *p, size_t size, size_t n, FILE *fp)
{
	FREAD(fread, 1, p, size, n, fp);
}

EXPORT size_t fread_unlocked(void *p, size_t size, size_t n, FILE *fp)
{
	FREAD(fread_unlocked, 0, p, size, n, fp);
}

/* The fortified freads, read as one block of size * n bytes, like FREAD. */
#define FREAD_CHK(f, lock, p, plen, size, n, fp) do { \
	struct snap s_; \
	size_t r_; \
	if (!REAL(f)) \
		NOSYS(0); \
	if ((size) == 0 || (n) == 0 || (n) > SIZE_MAX / (size)) \
		return real_##f(p, plen, size, n, fp); \
	pre(fp, &s_, lock); \
	r_ = real_##f(p, plen, 1, (size) * (n), fp); \
	post(fp, &s_, (long)r_, 0); \
	return r_ == (size) * (n) ? (n) : r_ / (size); } while (0)

EXPORT size_t __fread_chk(void *p, size_t plen, size_t size, size_t n, FILE *fp)
{
	FREAD_CHK(__fread_chk, 1, p, plen, size, n, fp);
}

EXPORT size_t __fread_unlocked_chk(void *p, size_t plen, size_t size, size_t n, FILE *fp)
{
	FREAD_CHK(__fread_unlocked_chk, 0, p, plen, size, n, fp);
}

EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *fp)
{
	FWRITE(fwrite, 1, p, size, n, fp);
}

EXPORT size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *fp)
{
	FWRITE(fwrite_unlocked, 0, p, size, n, fp);
}

/* Calls that take a string (fgets) or a character (getc) from a FILE. */
#define TAKE_OR(f, lock, fp, ret_t, fail, took_expr, ...) do { \
	struct snap s_; \
	ret_t r_; \
	if (!REAL(f)) \
		NOSYS(fail); \
	pre(fp, &s_, lock); \
	r_ = real_##f(__VA_ARGS__); \
	post(fp, &s_, (took_expr), 0); \
	return r_; } while (0)
#define TAKE(f, lock, fp, ret_t, took_expr, ...) \
	TAKE_OR(f, lock, fp, ret_t, (ret_t)EOF, took_expr, __VA_ARGS__)

/* What fgets took: the string, unless a NUL byte came in the line.  fgets
 * stops after a newline, at n - 1 bytes, or at the end or an error: a string
 * that ends otherwise held a NUL, and the line goes on to the first newline
 * after it (what lies beyond the line in b is older, but a newline there
 * would have ended the line), or to n - 1. */
static long
line_took(const char *b, int n, FILE *fp)
{
	size_t k;
	const char *nl;

	if (b == NULL)
		return 0;
	k = strlen(b);
	if ((k > 0 && b[k - 1] == '\n') || (long)k >= (long)n - 1 ||
	    (fp->_flags & (EOF_SEEN | ERR_SEEN)))
		return (long)k;
	nl = memchr(b + k + 1, '\n', (size_t)n - 2 - k);
	return nl ? (long)(nl - b) + 1 : (long)n - 1;
}

#define LINE(r, n, fp) line_took(r, n, fp)
#define ONE(r) ((r) != EOF ? 1L : 0L)
#define POS(r) ((r) > 0 ? (long)(r) : 0L)

EXPORT char *fgets(char *b, int n, FILE *fp)
{
	TAKE_OR(fgets, 1, fp, char *, NULL, LINE(r_, n, fp), b, n, fp);
}

EXPORT char *fgets_unlocked(char *b, int n, FILE *fp)
{
	TAKE_OR(fgets_unlocked, 0, fp, char *, NULL, LINE(r_, n, fp), b, n, fp);
}

EXPORT char *__fgets_chk(char *b, size_t size, int n, FILE *fp)
{
	TAKE_OR(__fgets_chk, 1, fp, char *, NULL, LINE(r_, n, fp), b, size, n, fp);
}

EXPORT char *__fgets_unlocked_chk(char *b, size_t size, int n, FILE *fp)
{
	TAKE_OR(__fgets_unlocked_chk, 0, fp, char *, NULL, LINE(r_, n, fp), b, size, n, fp);
}

EXPORT int fgetc(FILE *fp) { TAKE(fgetc, 1, fp, int, ONE(r_), fp); }
EXPORT int getc(FILE *fp) { TAKE(getc, 1, fp, int, ONE(r_), fp); }
EXPORT int fgetc_unlocked(FILE *fp) { TAKE(fgetc_unlocked, 0, fp, int, ONE(r_), fp); }
EXPORT int getc_unlocked(FILE *fp) { TAKE(getc_unlocked, 0, fp, int, ONE(r_), fp); }
EXPORT int getchar(void) { TAKE(getchar, 1, stdin, int, ONE(r_)); }
EXPORT int getchar_unlocked(void) { TAKE(getchar_unlocked, 0, stdin, int, ONE(r_)); }
EXPORT int __uflow(FILE *fp) { TAKE(__uflow, 0, fp, int, ONE(r_), fp); }
EXPORT int __underflow(FILE *fp) { TAKE(__underflow, 0, fp, int, 0L, fp); }

EXPORT ssize_t getline(char **lp, size_t *n, FILE *fp)
{
	TAKE(getline, 1, fp, ssize_t, POS(r_), lp, n, fp);
}

EXPORT ssize_t getdelim(char **lp, size_t *n, int delim, FILE *fp)
{
	TAKE(getdelim, 1, fp, ssize_t, POS(r_), lp, n, delim, fp);
}

EXPORT ssize_t __getdelim(char **lp, size_t *n, int delim, FILE *fp)
{
	TAKE(__getdelim, 1, fp, ssize_t, POS(r_), lp, n, delim, fp);
}

/* Calls that give a string or a character to a FILE. */
#define GIVE(f, lock, fp, gave_expr, ...) do { \
	struct snap s_; \
	int r_; \
	if (!REAL(f)) \
		NOSYS(EOF); \
	pre(fp, &s_, lock); \
	r_ = real_##f(__VA_ARGS__); \
	post(fp, &s_, -1, (gave_expr)); \
	return r_; } while (0)

EXPORT int fputs(const char *str, FILE *fp)
{
	GIVE(fputs, 1, fp, r_ >= 0 ? (long)strlen(str) : 0, str, fp);
}

EXPORT int fputs_unlocked(const char *str, FILE *fp)
{
	GIVE(fputs_unlocked, 0, fp, r_ >= 0 ? (long)strlen(str) : 0, str, fp);
}

EXPORT int puts(const char *str)
{
	GIVE(puts, 1, stdout, r_ >= 0 ? (long)strlen(str) + 1 : 0, str);
}

EXPORT int fputc(int c, FILE *fp) { GIVE(fputc, 1, fp, ONE(r_), c, fp); }
EXPORT int putc(int c, FILE *fp) { GIVE(putc, 1, fp, ONE(r_), c, fp); }
EXPORT int fputc_unlocked(int c, FILE *fp) { GIVE(fputc_unlocked, 0, fp, ONE(r_), c, fp); }
EXPORT int putc_unlocked(int c, FILE *fp) { GIVE(putc_unlocked, 0, fp, ONE(r_), c, fp); }
EXPORT int putchar(int c) { GIVE(putchar, 1, stdout, ONE(r_), c); }
EXPORT int putchar_unlocked(int c) { GIVE(putchar_unlocked, 0, stdout, ONE(r_), c); }

EXPORT int __overflow(FILE *fp, int c)
{
	GIVE(__overflow, 0, fp, c != EOF && r_ != EOF ? 1L : 0L, fp, c);
}

/* printf to a FILE: the return value is what it took. */
EXPORT int vfprintf(FILE *fp, const char *fmt, va_list ap)
{
	GIVE(vfprintf, 1, fp, POS(r_), fp, fmt, ap);
}

EXPORT int vprintf(const char *fmt, va_list ap)
{
	GIVE(vprintf, 1, stdout, POS(r_), fmt, ap);
}

EXPORT int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
	GIVE(__vfprintf_chk, 1, fp, POS(r_), fp, flag, fmt, ap);
}

EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	GIVE(__vprintf_chk, 1, stdout, POS(r_), flag, fmt, ap);
}

EXPORT int fprintf(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfprintf(fp, fmt, ap);
	va_end(ap);
	return r;
}

EXPORT int printf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vprintf(fmt, ap);
	va_end(ap);
	return r;
}

EXPORT int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vfprintf_chk(fp, flag, fmt, ap);
	va_end(ap);
	return r;
}

EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vprintf_chk(flag, fmt, ap);
	va_end(ap);
	return r;
}

/* dprintf formats into a FILE of its own and writes it all to fd. */
EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	if (!REAL(vdprintf))
		NOSYS(-1);
	WR(fd, real_vdprintf(fd, fmt, ap));
}

EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	if (!REAL(__vdprintf_chk))
		NOSYS(-1);
	WR(fd, real___vdprintf_chk(fd, flag, fmt, ap));
}

EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vdprintf_chk(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* ungetc hands one byte back: it took -1. */
EXPORT int ungetc(int c, FILE *fp)
{
	TAKE(ungetc, 1, fp, int, r_ != EOF ? -1L : 0L, c, fp);
}

/* scanf does not say how much it consumed, and refills as often as it
 * needs: the bytes this thread's read calls moved meanwhile (rchar of
 * /proc/thread-self/io) are the bytes its refills read. */
static int
scan(__typeof__(vfscanf) *f, FILE *fp, const char *fmt, va_list ap)
{
	struct snap s;
	struct tio t;
	int r;

	if (f == NULL)
		NOSYS(EOF);
	pre(fp, &s, 1);
	tio_begin(&t, s.fd >= 0);
	r = f(fp, fmt, ap);
	if (tio_end(&t)) {
		count_r(s.fd, t.r);
		post(fp, &s, -1, 0);
	} else {
		post(fp, &s, 0, 0);	/* the last refill only */
	}
	return r;
}

/* <stdio.h> renames fscanf to __isoc99_fscanf in C99 mode: the old GNU
 * symbols, which programs built as gnu89 import, need labels of their own. */
int gnu_vfscanf(FILE *, const char *, va_list) __asm__("vfscanf");
int gnu_fscanf(FILE *, const char *, ...) __asm__("fscanf");
int gnu_scanf(const char *, ...) __asm__("scanf");

EXPORT int gnu_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
	return scan(REAL(vfscanf), fp, fmt, ap);
}

EXPORT int __isoc99_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
	return scan(REAL(__isoc99_vfscanf), fp, fmt, ap);
}

EXPORT int gnu_fscanf(FILE *fp, const char *fmt, ...)
{
	int r;

	VA(r = gnu_vfscanf(fp, fmt, ap), fmt);
	return r;
}

EXPORT int gnu_scanf(const char *fmt, ...)
{
	int r;

	VA(r = gnu_vfscanf(stdin, fmt, ap), fmt);
	return r;
}
int gnu_vscanf(const char *, va_list) __asm__("vscanf");
int __isoc99_vscanf(const char *, va_list);

EXPORT int gnu_vscanf(const char *fmt, va_list ap)
{
	return scan(REAL(vfscanf), stdin, fmt, ap);
}

EXPORT int __isoc99_vscanf(const char *fmt, va_list ap)
{
	return scan(REAL(__isoc99_vfscanf), stdin, fmt, ap);
}

EXPORT int __isoc99_fscanf(FILE *fp, const char *fmt, ...)
{
	int r;

	VA(r = __isoc99_vfscanf(fp, fmt, ap), fmt);
	return r;
}

EXPORT int __isoc99_scanf(const char *fmt, ...)
{
	int r;

	VA(r = __isoc99_vfscanf(stdin, fmt, ap), fmt);
	return r;
}

/* getw and putw are one fread or fwrite of an int, as glibc does them. */
EXPORT int getw(FILE *fp)
{
	int w;

	return fread(&w, sizeof(w), 1, fp) == 1 ? w : EOF;
}

EXPORT int putw(int w, FILE *fp)
{
	return fwrite(&w, sizeof(w), 1, fp) == 1 ? 0 : EOF;
}

/* ---- wide-character stdio --------------------------------------------- */

/* A wide stream converts between its wide buffer and the byte buffer as it
 * goes, so the byte pointers do not tell what reached the kernel.  A call
 * that may refill (its wide buffer is empty, or has no newline for fgetws)
 * or flush (its wide buffer may fill, or the stream is line-buffered or
 * unbuffered) is measured by this thread's rchar and wchar instead; the
 * others move nothing.  glibc libio.h: struct _IO_wide_data begins so. */
struct wide {
	wchar_t *read_ptr, *read_end, *read_base;
	wchar_t *write_base, *write_ptr, *write_end;
};

#define WD(fp) ((struct wide *)(fp)->_wide_data)

static inline int
wide_may_read(FILE *fp, int line)
{
	struct wide *w = WD(fp);

	if (w == NULL || w->read_ptr == NULL || w->read_ptr >= w->read_end)
		return 1;
	return line && wmemchr(w->read_ptr, L'\n', (size_t)(w->read_end - w->read_ptr)) == NULL;
}

static inline int
wide_may_write(FILE *fp, size_t n)
{
	struct wide *w = WD(fp);

	return w == NULL || w->write_ptr == NULL || (fp->_flags & (LINE_BUF | UNBUFFERED)) ||
	       (size_t)(w->write_end - w->write_ptr) <= n;
}

static inline long
wide_pending(FILE *fp)
{
	struct wide *w = WD(fp);

	return fp->_mode > 0 && w && w->write_ptr ? (long)(w->write_ptr - w->write_base) : 0;
}

/* The measured wide call this thread is in, for a death inside it. */
static __thread struct {
	struct tio *t;
	int fd;
} wide_now __attribute__((tls_model("initial-exec")));

static void
wide_end(void)
{
	struct tio *t = wide_now.t;

	wide_now.t = NULL;
	if (t && tio_end(t)) {
		if (t->r)
			count_r(wide_now.fd, (long)t->r);
		if (t->w)
			count_w(wide_now.fd, (long)t->w);
	}
}

/* Calls the real f, measured when may is true. */
#define WIDE(f, fp, may, fail, ...) do { \
	struct tio t_; \
	__typeof__(real_##f(__VA_ARGS__)) r_; \
	int fd_ = fdof(fp), e_; \
	if (!REAL(f)) \
		NOSYS(fail); \
	if (fd_ < 0 || !(may)) \
		return real_##f(__VA_ARGS__); \
	tio_begin(&t_, 1); \
	wide_now.t = &t_; \
	wide_now.fd = fd_; \
	r_ = real_##f(__VA_ARGS__); \
	wide_now.t = NULL; \
	e_ = errno; \
	if (tio_end(&t_)) { \
		if (t_.r) \
			count_r(fd_, (long)t_.r); \
		if (t_.w) \
			count_w(fd_, (long)t_.w); \
	} \
	errno = e_; \
	return r_; } while (0)

EXPORT wint_t fgetwc(FILE *fp) { WIDE(fgetwc, fp, wide_may_read(fp, 0), WEOF, fp); }
EXPORT wint_t getwc(FILE *fp) { WIDE(getwc, fp, wide_may_read(fp, 0), WEOF, fp); }
EXPORT wint_t getwchar(void) { WIDE(getwchar, stdin, wide_may_read(stdin, 0), WEOF); }
EXPORT wint_t fgetwc_unlocked(FILE *fp)
{
	WIDE(fgetwc_unlocked, fp, wide_may_read(fp, 0), WEOF, fp);
}

EXPORT wint_t getwc_unlocked(FILE *fp)
{
	WIDE(getwc_unlocked, fp, wide_may_read(fp, 0), WEOF, fp);
}

EXPORT wint_t getwchar_unlocked(void)
{
	WIDE(getwchar_unlocked, stdin, wide_may_read(stdin, 0), WEOF);
}

EXPORT wchar_t *fgetws(wchar_t *b, int n, FILE *fp)
{
	WIDE(fgetws, fp, wide_may_read(fp, 1), NULL, b, n, fp);
}

EXPORT wchar_t *fgetws_unlocked(wchar_t *b, int n, FILE *fp)
{
	WIDE(fgetws_unlocked, fp, wide_may_read(fp, 1), NULL, b, n, fp);
}

EXPORT wint_t fputwc(wchar_t c, FILE *fp) { WIDE(fputwc, fp, wide_may_write(fp, 1), WEOF, c, fp); }
EXPORT wint_t putwc(wchar_t c, FILE *fp) { WIDE(putwc, fp, wide_may_write(fp, 1), WEOF, c, fp); }
EXPORT wint_t putwchar(wchar_t c) { WIDE(putwchar, stdout, wide_may_write(stdout, 1), WEOF, c); }
EXPORT wint_t fputwc_unlocked(wchar_t c, FILE *fp)
{
	WIDE(fputwc_unlocked, fp, wide_may_write(fp, 1), WEOF, c, fp);
}

EXPORT wint_t putwc_unlocked(wchar_t c, FILE *fp)
{
	WIDE(putwc_unlocked, fp, wide_may_write(fp, 1), WEOF, c, fp);
}

EXPORT wint_t putwchar_unlocked(wchar_t c)
{
	WIDE(putwchar_unlocked, stdout, wide_may_write(stdout, 1), WEOF, c);
}

EXPORT int fputws(const wchar_t *str, FILE *fp)
{
	WIDE(fputws, fp, wide_may_write(fp, wcslen(str)), -1, str, fp);
}

EXPORT int fputws_unlocked(const wchar_t *str, FILE *fp)
{
	WIDE(fputws_unlocked, fp, wide_may_write(fp, wcslen(str)), -1, str, fp);
}

/* wprintf's length is known only after: always measured. */
EXPORT int vfwprintf(FILE *fp, const wchar_t *fmt, va_list ap)
{
	WIDE(vfwprintf, fp, 1, -1, fp, fmt, ap);
}

EXPORT int vwprintf(const wchar_t *fmt, va_list ap)
{
	WIDE(vwprintf, stdout, 1, -1, fmt, ap);
}

EXPORT int fwprintf(FILE *fp, const wchar_t *fmt, ...)
{
	int r;

	VA(r = vfwprintf(fp, fmt, ap), fmt);
	return r;
}

EXPORT int wprintf(const wchar_t *fmt, ...)
{
	int r;

	VA(r = vwprintf(fmt, ap), fmt);
	return r;
}

EXPORT int eventfd_read(int fd, eventfd_t *v)
{
	int r;

	if (!REAL(eventfd_read))
		NOSYS(-1);
	r = real_eventfd_read(fd, v);
	if (r == 0)
		count_r(fd, sizeof(*v));
	return r;
}

EXPORT int eventfd_write(int fd, eventfd_t v)
{
	int r;

	if (!REAL(eventfd_write))
		NOSYS(-1);
	r = real_eventfd_write(fd, v);
	if (r == 0)
		count_w(fd, sizeof(v));
	return r;
}

/* A wide stream's flush, measured (see WIDE). */
static int
wide_flush(FILE *fp)
{
	WIDE(fflush, fp, 1, EOF, fp);
}

/* fflush(NULL), fcloseall and exit's flush: every FILE on glibc's chain,
 * however many (on the stack, or mapped when they are more).  Wide streams
 * with something waiting are flushed first, one by one, each measured. */
#define FLUSHSTACK 256
struct waiting {
	FILE *fp;
	long pend;
	int err;
};

static int
flush_all(int (*f)(FILE *), FILE *arg)
{
	struct waiting stack[FLUSHSTACK], *w = stack;
	size_t n = 0, cap = FLUSHSTACK, i;
	int r, e;

	for (FILE *fp = _IO_list_all; fp; fp = fp->_chain) {
		if (fdof(fp) >= 0 && wide_pending(fp) > 0)
			wide_flush(fp);	/* measured one by one, in glibc's order */
		n++;
	}
	if (n > cap) {
		w = (struct waiting *)sys(SYS_mmap, NULL, n * sizeof(*w), PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		cap = w == MAP_FAILED ? 0 : n;
		if (w == MAP_FAILED)
			w = stack;
	}
	n = 0;
	for (FILE *fp = _IO_list_all; fp && n < cap; fp = fp->_chain, n++) {
		w[n].fp = fp;
		w[n].pend = wpend(fp);
		w[n].err = err_clear(fp);
	}
	r = f(arg);
	e = errno;
	for (i = 0; i < n; i++) {
		FILE *fp = w[i].fp;
		long d = w[i].pend - wpend(fp);

		if (!err_restore(fp, w[i].err) && fdof(fp) >= 0 && d > 0)
			count_w(fp->_fileno, d);
	}
	if (w != stack)
		sys(SYS_munmap, w, cap * sizeof(*w));
	errno = e;
	return r;
}

static int
call_fcloseall(FILE *unused)
{
	(void)unused;
	return real_fcloseall();
}

/* fcloseall flushes every FILE and makes it unbuffered; it closes none. */
EXPORT int fcloseall(void)
{
	if (!REAL(fcloseall))
		NOSYS(EOF);
	return flush_all(call_fcloseall, NULL);
}

EXPORT int fflush(FILE *fp)
{
	if (!REAL(fflush))
		NOSYS(EOF);
	if (fp == NULL)
		return flush_all(real_fflush, NULL);
	if (wide_pending(fp) > 0)
		WIDE(fflush, fp, 1, EOF, fp);
	GIVE(fflush, 1, fp, 0L, fp);
}

EXPORT int fflush_unlocked(FILE *fp)
{
	if (!REAL(fflush_unlocked))
		NOSYS(EOF);
	if (fp == NULL)
		return flush_all(real_fflush_unlocked, NULL);
	if (wide_pending(fp) > 0)
		WIDE(fflush_unlocked, fp, 1, EOF, fp);
	GIVE(fflush_unlocked, 0, fp, 0L, fp);
}

/* A relative seek while the FILE does not know its kernel offset only
 * seeks (glibc's "dumb" path): it cannot read. */
#define SEEK(f, fp, cur, ...) do { \
	struct snap s_; \
	int r_; \
	if (!REAL(f)) \
		NOSYS(-1); \
	pre(fp, &s_, 1); \
	r_ = real_##f(__VA_ARGS__); \
	post_seek(fp, &s_, r_ == 0, cur); \
	return r_; } while (0)

EXPORT int fseek(FILE *fp, long off, int whence)
{
	SEEK(fseek, fp, whence == SEEK_CUR, fp, off, whence);
}

EXPORT int fseeko(FILE *fp, off_t off, int whence)
{
	SEEK(fseeko, fp, whence == SEEK_CUR, fp, off, whence);
}

EXPORT int fseeko64(FILE *fp, off64_t off, int whence)
{
	SEEK(fseeko64, fp, whence == SEEK_CUR, fp, off, whence);
}

EXPORT int fsetpos(FILE *fp, const fpos_t *pos) { SEEK(fsetpos, fp, 0, fp, pos); }
EXPORT int fsetpos64(FILE *fp, const fpos64_t *pos) { SEEK(fsetpos64, fp, 0, fp, pos); }

EXPORT void rewind(FILE *fp)
{
	struct snap s;

	if (!REAL(rewind))
		return;
	pre(fp, &s, 1);
	real_rewind(fp);
	post_seek(fp, &s, 1, 0);
}

/* fclose flushes what waits, then closes the descriptor: the line is made
 * ready before (the name goes with the descriptor), and the flush counted
 * after, when fclose says it worked (a failed write empties the buffer all
 * the same). */
static void
close_begin(FILE *fp, struct closing *k)
{
	int e = errno, fd = fdof(fp);

	k->have = 0;
	k->w = 0;
	if (fd < 0 || !mine())
		return;
	k->w = wpend(fp);
	prepare(fd, k, k->w > 0);
	forget(fd);
	errno = e;
}

static void
close_end(struct closing *k, int ok)
{
	int e = errno;

	if (ok && k->w > 0) {
		k->have = 1;
		k->c.writes++;
		k->c.wbytes += (unsigned long)k->w;
	}
	emit_prepared(k, "close");
	errno = e;
}

/* A wide stream's last flush converts: measured. */
static int
wide_fclose(FILE *fp)
{
	struct closing k;
	struct tio t;
	int r, e = errno;

	if (!mine())
		return real_fclose(fp);
	prepare(fdof(fp), &k, 1);
	forget(k.fd);
	errno = e;
	tio_begin(&t, 1);
	r = real_fclose(fp);
	k.w = tio_end(&t) ? (long)t.w : 0;
	close_end(&k, 1);
	return r;
}

EXPORT int fclose(FILE *fp)
{
	struct closing k;
	int r;

	if (!REAL(fclose))
		NOSYS(EOF);
	if (fdof(fp) >= 0 && wide_pending(fp) > 0)
		return wide_fclose(fp);
	close_begin(fp, &k);
	r = real_fclose(fp);
	close_end(&k, r == 0);
	return r;
}

EXPORT int pclose(FILE *fp)
{
	struct closing k;
	int r;

	if (!REAL(pclose))
		NOSYS(-1);
	close_begin(fp, &k);
	r = real_pclose(fp);
	close_end(&k, r != -1);
	return r;
}

/* freopen closes the old stream, whatever its flush did. */
static void
before_freopen(FILE *fp)
{
	struct closing k;

	close_begin(fp, &k);
	close_end(&k, 1);
}

static FILE *
fopened(FILE *fp)
{
	int e = errno;

	if (fdof(fp) >= 0)
		opened(fp->_fileno, 1);
	errno = e;
	return fp;
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	if (!REAL(fopen))
		NOSYS(NULL);
	return fopened(real_fopen(path, mode));
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	if (!REAL(fopen64))
		NOSYS(NULL);
	return fopened(real_fopen64(path, mode));
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
	if (!REAL(freopen))
		NOSYS(NULL);
	before_freopen(fp);
	return fopened(real_freopen(path, mode, fp));
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
	if (!REAL(freopen64))
		NOSYS(NULL);
	before_freopen(fp);
	return fopened(real_freopen64(path, mode, fp));
}

/* ---- messages on stderr: error(3), err(3), perror(3), getopt ---------- */

/* glibc prints these through its internal stdio, as many writes as it
 * likes, into stderr: what this thread wrote during the call goes to
 * stderr's descriptor.  error() flushes stdout first: the shim's fflush does
 * that, counted, and glibc's then finds nothing. */
static void
msg_begin(struct tio *t)
{
	int e = errno;

	tio_begin(t, fdof(stderr) >= 0);
	errno = e;
}

static void
msg_end(struct tio *t)
{
	int e = errno, fd = fdof(stderr);

	if (tio_end(t) && t->w > 0 && fd >= 0)
		count_w(fd, (long)t->w);
	errno = e;
}

static char *
format(const char *fmt, va_list ap)
{
	char *msg = NULL;
	int e = errno;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	errno = e;
	return msg;
}

/* error(status, ...) is error(0, ...) then exit(status), as glibc's is. */
EXPORT void error(int status, int errnum, const char *fmt, ...)
{
	struct tio t;
	va_list ap;
	char *msg;
	int e = errno;

	va_start(ap, fmt);
	msg = format(fmt, ap);
	va_end(ap);
	fflush(stdout);
	errno = e;
	msg_begin(&t);
	if (REAL(error))
		real_error(0, errnum, "%s", msg ? msg : fmt);
	msg_end(&t);
	free(msg);
	if (status)
		exit(status);
	errno = e;
}

EXPORT void error_at_line(int status, int errnum, const char *file, unsigned int line,
			  const char *fmt, ...)
{
	struct tio t;
	va_list ap;
	char *msg;
	int e = errno;

	va_start(ap, fmt);
	msg = format(fmt, ap);
	va_end(ap);
	fflush(stdout);
	errno = e;
	msg_begin(&t);
	if (REAL(error_at_line))
		real_error_at_line(0, errnum, file, line, "%s", msg ? msg : fmt);
	msg_end(&t);
	free(msg);
	if (status)
		exit(status);
	errno = e;
}

EXPORT void vwarn(const char *fmt, va_list ap)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(vwarn))
		real_vwarn(fmt, ap);
	msg_end(&t);
}

EXPORT void vwarnx(const char *fmt, va_list ap)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(vwarnx))
		real_vwarnx(fmt, ap);
	msg_end(&t);
}

/* err is warn then exit, as glibc's is. */
EXPORT void verr(int status, const char *fmt, va_list ap)
{
	vwarn(fmt, ap);
	exit(status);
}

EXPORT void verrx(int status, const char *fmt, va_list ap)
{
	vwarnx(fmt, ap);
	exit(status);
}

EXPORT void warn(const char *fmt, ...) { VA(vwarn(fmt, ap), fmt); }
EXPORT void warnx(const char *fmt, ...) { VA(vwarnx(fmt, ap), fmt); }
EXPORT void err(int status, const char *fmt, ...) { VA(verr(status, fmt, ap), fmt); }
EXPORT void errx(int status, const char *fmt, ...) { VA(verrx(status, fmt, ap), fmt); }

EXPORT void perror(const char *s)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(perror))
		real_perror(s);
	msg_end(&t);
}

EXPORT void psignal(int sig, const char *s)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(psignal))
		real_psignal(sig, s);
	msg_end(&t);
}

EXPORT void psiginfo(const siginfo_t *si, const char *s)
{
	struct tio t;

	msg_begin(&t);
	if (REAL(psiginfo))
		real_psiginfo(si, s);
	msg_end(&t);
}

/* getopt prints its complaints only while opterr is set: look then only. */
#define GETOPT(f, ...) do { \
	struct tio t_; \
	int r_; \
	if (!REAL(f)) \
		NOSYS(-1); \
	if (!opterr) \
		return real_##f(__VA_ARGS__); \
	msg_begin(&t_); \
	r_ = real_##f(__VA_ARGS__); \
	msg_end(&t_); \
	return r_; } while (0)

EXPORT int getopt(int argc, char *const argv[], const char *opts)
{
	GETOPT(getopt, argc, argv, opts);
}

EXPORT int __posix_getopt(int argc, char *const argv[], const char *opts)
{
	GETOPT(__posix_getopt, argc, argv, opts);
}

EXPORT int getopt_long(int argc, char *const argv[], const char *opts,
		       const struct option *lo, int *li)
{
	GETOPT(getopt_long, argc, argv, opts, lo, li);
}

EXPORT int getopt_long_only(int argc, char *const argv[], const char *opts,
			    const struct option *lo, int *li)
{
	GETOPT(getopt_long_only, argc, argv, opts, lo, li);
}

/* A failed assert prints its message through glibc's internal stdio and
 * aborts: the look after the message is taken by the shim's SIGABRT
 * handler (when the program left SIGABRT at its default). */
static __thread struct tio dying __attribute__((tls_model("initial-exec")));

static void
assert_end(void)
{
	if (dying.on) {
		msg_end(&dying);
		dying.on = 0;
	}
}

EXPORT void __assert_fail(const char *what, const char *file, unsigned int line,
			  const char *fn)
{
	msg_begin(&dying);
	if (REAL(__assert_fail))
		real___assert_fail(what, file, line, fn);
	abort();
}

EXPORT void __assert_perror_fail(int errnum, const char *file, unsigned int line,
				 const char *fn)
{
	msg_begin(&dying);
	if (REAL(__assert_perror_fail))
		real___assert_perror_fail(errnum, file, line, fn);
	abort();
}
