/* libipclab_foobar.so: the shared library that foo and bar both use.
 *
 * baz sits alone on its own page (a 4096-byte section of its own, aligned to
 * a page), so that the page's frame in /proc/PID/pagemap shows copy-on-write
 * at the moment of the first write, and not the loader's relocation writes
 * that make the rest of the data segment private at load time.  It is
 * defined in assembler because C gives no way to say "and nothing else on
 * this page".  The section is PROGBITS ("aw", not .bss), so the page comes
 * from the file, as a library's initialised data does. */
#include "foobar.h"

__asm__(".pushsection .data.ipclab_baz,\"aw\",@progbits\n"
	".balign 4096\n"
	".globl baz\n"
	".type baz, @object\n"
	".size baz, 4\n"
	"baz:\n"
	".long 0\n"
	".zero 4092\n"
	/* Something after baz's page, so that the file's last data page (where
	 * the loader clears the start of .bss) is not baz's. */
	".popsection\n"
	".pushsection .data.ipclab_tail,\"aw\",@progbits\n"
	".globl foobar_version\n"
	".type foobar_version, @object\n"
	".size foobar_version, 4\n"
	"foobar_version:\n"
	".long 1\n"
	".popsection\n");

/* How often the accessors ran, and a pointer the loader must relocate: both
 * live on the ordinary data page, which the loader writes at start-up. */
int foobar_calls = 1;
const char *foobar_name = "foobar";

void
setbaz(int v)
{
	foobar_calls++;
	baz = v;
}

int
getbaz(void)
{
	foobar_calls++;
	return baz;
}
