/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: snapshots. A file holds a whole VM: the machine's shape, every
 * vCPU, the in-kernel interrupt controllers, every device's state struct
 * and guest memory. The format is in docs/snapshot.md.
 */
#ifndef LVRUN_SNAPSHOT_H
#define LVRUN_SNAPSHOT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "../hv/hv.h"
#include "format.h"

struct vm;

/* The "machine" section: the VM's shape, what a restore checks first. */
struct snap_machine {
	uint32_t nr_vcpus;
	uint32_t has_irqchip;
	uint64_t mem_size;
	uint32_t image_kind;
	uint32_t padding;
	struct hv_cpu_features cpu;	/* last: lvrun-snapforge finds it so */
};

/* @vm's shape and the CPU features its guest may have seen. */
void snapshot_describe(struct vm *vm, struct snap_machine *m);
/*
 * Whether this host can run the guest of @m: 0, or -EOPNOTSUPP naming
 * the CPU features it lacks in @err. A different TSC rate only warns.
 */
int snapshot_check_host(struct vm *vm, const struct snap_machine *m, char *err,
			size_t errlen);
/*
 * Whether @vm can be saved at all (backend, devices): 0, or
 * -EOPNOTSUPP with the reason in @err.
 */
int snapshot_savable(struct vm *vm, char *err, size_t errlen);
/*
 * The header and sections of a snapshot of @vm into @b (initialised
 * here; free it with snap_buf_free()), for mem_size bytes of memory
 * that the caller writes itself, not sealed: a file needs snap_seal(),
 * a migration's stream goes without. @vm must be paused. Returns 0, or a
 * negative errno with a message in @err (@b is then freed).
 */
int snapshot_state(struct vm *vm, struct snap_buf *b, char *err, size_t errlen);
/*
 * Makes @vm's devices, interrupt controllers (if @m has them) and vCPUs
 * for a state of machine @m, before the state itself is known: @vm has
 * its hypervisor VM (hv_init), nr_vcpus and kind set. A migration's
 * target does it while the memory comes.
 */
void snapshot_build(struct vm *vm, const struct snap_machine *m);
/*
 * The other way round: @vm has its hypervisor VM (hv_init), nr_vcpus,
 * kind and memory set and is built (snapshot_build()) for the machine
 * announced; checks the header and sections at @p (@len
 * bytes, as snap_check_header() said, unsealed: a migration's STATE)
 * as a restore does and that its machine is the one built, then puts the
 * devices, interrupt controllers and vCPUs in their saved state. 0, or
 * a negative errno with a message in @err.
 */
int snapshot_load(struct vm *vm, const uint8_t *p, size_t len, char *err,
		  size_t errlen);

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

/*
 * Puts a paused @vm, restored by vm_restore(), back as its snapshot has
 * it: the guest's written pages are dropped (its memory is the file's
 * again), then every vCPU, the interrupt controllers and the devices get
 * their saved state. Costs the pages the guest wrote, not its memory
 * size. Returns 0, or a negative errno with a message in @err:
 * -EOPNOTSUPP for a VM not restored from a snapshot, -EBUSY if a vCPU
 * thread started or ended since.
 */
int snapshot_reset(struct vm *vm, char *err, size_t errlen);

/*
 * lvrun --fork-from FILE --count N: forks N children, each of which
 * returns from here to restore FILE as a lvrun of its own. The parent
 * waits for them all and exits; it never returns.
 */
void fork_children(void);

/*
 * lvctl fork N FILE, after FILE was saved: starts "lvrun --fork-from FILE
 * --count N" as a process of its own (its pid in @pid), with the children's
 * consoles in FILE.console.K, their control sockets FILE.control.K, its
 * own messages in FILE.log, and this lvrun's --timeout. Returns 0 or a negative errno with @err set.
 */
int fork_spawn(const char *file, int count, pid_t *pid, char *err,
	       size_t errlen);

#endif /* LVRUN_SNAPSHOT_H */
