// fuzz-sources: cmd/shmstr.c
/* The decoder of an existing shmstr file (what `ipclab shmstr --read` reads):
 * shmstr_decode() on the bytes as read_object() reads them (at most MAXLEN + 2),
 * then, for a shmstr file, the string as a person's quoted text and as the
 * JSON report --read --json prints (the core's report model), the two
 * renderings of outside bytes that follow the decoding. */
#include "../../cmd/shmstr.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	unsigned char b[MAXLEN + 2];
	char q[4 * MAXLEN + 8];
	struct ipc_report *rep;
	struct ipc_section *s;
	char *doc = NULL;
	size_t len = 0;
	FILE *fp;

	if (n > sizeof(b))
		n = sizeof(b);	/* read_object's pread reads no more */
	memcpy(b, d, n);
	switch (shmstr_decode(b, n)) {
	case SHMSTR:
		if ((size_t)b[0] + 1 != n)
			abort();	/* the size rule is what SHMSTR means */
		quoted(b + 1, b[0], q, sizeof(q));
		if ((fp = open_memstream(&doc, &len)) == NULL)
			return 0;
		if ((rep = ipc_report_new(fp, true)) == NULL ||
		    (s = ipc_report_section(rep, "read", NULL)) == NULL)
			abort();
		must(ipc_put_int(s, "length", NULL, b[0]));
		put_bytes(s, "string", b + 1, b[0]);
		if (ipc_report_end(rep) == -1)
			abort();
		ipc_report_free(rep);
		fclose(fp);
		free(doc);
		break;
	case ZEROS:
		for (size_t i = 0; i < n; i++)
			if (b[i] != 0)
				abort();
		break;
	case NOT_SHMSTR:
		break;
	}
	return 0;
}
