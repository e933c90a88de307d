/* A plain program that mallocs what mallocprobe's tests ask for, so that
 * strace and malloc_usable_size can check mallocprobe from outside.
 *
 *   mallocprobe_alloc [-d] SIZE...   write "begin\n" to stdout, malloc each
 *                                    SIZE (after using up the top chunk with
 *                                    -d), write "end\n", then for each print
 *                                    "SIZE USABLE"
 *   mallocprobe_alloc -D SIZE        malloc(SIZE), free, malloc(SIZE) again,
 *                                    with "begin"/"again"/"end" between
 *
 * The first malloc happens before any stdio, so the heap is as fresh as in
 * mallocprobe's probe children.  Under strace -e trace=mmap,brk,write the
 * calls between "begin" and "end" are malloc's. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile keep;

static void
say(const char *s)
{
	if (write(STDOUT_FILENO, s, strlen(s)) == -1)
		exit(1);
}

static void
drain(void)
{
	size_t top;

	keep = malloc(16);
	top = mallinfo2().keepcost;
	if (top > 64)
		keep = malloc(top - 64);
}

int
main(int argc, char **argv)
{
	size_t sz[64], use[64];
	int n = 0, i = 1;

	if (argc > 2 && strcmp(argv[1], "-D") == 0) {
		size_t s = strtoul(argv[2], NULL, 0);

		say("begin\n");
		keep = malloc(s);	/* through a volatile: the pair is not optimised away */
		free(keep);
		say("again\n");
		keep = malloc(s);
		say("end\n");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "-d") == 0) {
		drain();
		i++;
	}
	say("begin\n");
	for (; i < argc && n < 64; i++, n++) {
		void *p;

		sz[n] = strtoul(argv[i], NULL, 0);
		p = malloc(sz[n]);
		use[n] = p ? malloc_usable_size(p) : 0;
		keep = p;
	}
	say("end\n");
	for (i = 0; i < n; i++)
		printf("%zu %zu\n", sz[i], use[i]);
	return 0;
}
