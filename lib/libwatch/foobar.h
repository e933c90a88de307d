/* The demo library of `ipclab libwatch` (the shared-library exercise): one
 * global, baz, and its two accessors. */
#ifndef IPCLAB_FOOBAR_H
#define IPCLAB_FOOBAR_H

extern int baz;
void setbaz(int v);
int getbaz(void);

#endif
