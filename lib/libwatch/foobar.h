/* The demo library of `ipclab libwatch` (seed 002, step 4): one global, baz,
 * and its two accessors. */
#ifndef IPCLAB_FOOBAR_H
#define IPCLAB_FOOBAR_H

extern int baz;
void setbaz(int v);
int getbaz(void);

#endif
