/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: snapshots. A file holds a whole VM: the machine's shape, every
 * vCPU, the in-kernel interrupt controllers, every device's state struct
 * and guest memory. The format is in docs/snapshot.md.
 */
#ifndef LVRUN_SNAPSHOT_H
#define LVRUN_SNAPSHOT_H

#include <stddef.h>

struct vm;

/*
 * Writes @vm to @path (through a temporary file renamed at the end, so
 * that @path never holds half a snapshot). Every vCPU must be stopped
 * between two run calls with no I/O in flight. Returns 0, or a negative
 * errno with a message in @err.
 */
int snapshot_save(struct vm *vm, const char *path, char *err, size_t errlen);

/*
 * Builds @vm from the snapshot at @path instead of an image: checks the
 * whole file first (magic, version, sizes, checksum, the sections, what
 * this host can run), then maps guest memory from the file
 * copy-on-write and restores the state. Dies with a message naming the
 * cause before anything runs.
 */
void vm_restore(struct vm *vm, const char *path);

#endif /* LVRUN_SNAPSHOT_H */
