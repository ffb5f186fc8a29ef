/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: live migration (docs/snapshot.md, "Live migration"). The source
 * (lvctl migrate ADDRESS) pre-copies guest memory while the guest runs,
 * using the hypervisor's dirty-page log, then pauses it and sends the
 * last dirty pages and the snapshot sections; the target (lvrun
 * --incoming ADDRESS) builds the VM from them and runs it. The source
 * stops only once the target says it runs the guest; until then any
 * failure resumes the guest on the source.
 */
#ifndef LVRUN_MIGRATE_H
#define LVRUN_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Pre-copy rounds at most, the first (all of memory) included. */
#define MIG_MAX_ROUNDS		8
/* A dirty set this small is left for the pause. */
#define MIG_SMALL_DIRTY		64

/* Where the source's downtime goes, in order (mig_report.downtime_phase). */
enum mig_downtime_phase {
	MIG_DOWN_PAUSE,		/* the vCPUs stop */
	MIG_DOWN_PAGES,		/* the dirty log read, its pages sent */
	MIG_DOWN_STATE,		/* the state read and sent with DONE */
	MIG_DOWN_READY,		/* DONE to the target's READY */
	MIG_DOWN_RUNNING,	/* GO to the target's RUNNING */
	MIG_NR_DOWN_PHASES
};

struct mig_report {
	int rounds;		/* entries of pages[]: pre-copy, then the pause */
	uint64_t pages[MIG_MAX_ROUNDS + 1];
	uint64_t total_ticks;	/* TSC: from the first page to RUNNING */
	uint64_t downtime_ticks;	/* TSC: from the pause to RUNNING */
	uint64_t downtime_phase[MIG_NR_DOWN_PHASES];	/* its parts, TSC */
	uint64_t paused_tsc;	/* the TSC at the pause */
	bool committed;		/* GO went out: the guest never resumes here */
	bool checksum;		/* mem_checksum set: both ends compared it */
	uint64_t mem_checksum;
};

/*
 * Sends @vm, running or paused, to the lvrun --incoming at @address.
 * With @checksum, both ends compute a checksum of guest memory at the
 * switch and the target refuses a mismatch. Returns 0 once the target
 * runs the guest (@vm stays paused: the caller ends lvrun), or a
 * negative errno with a message in @err: @vm as it was before, unless
 * @r->committed (-EREMOTEIO: the stream broke after GO; @vm stays
 * paused, the target may run the guest, the caller ends lvrun).
 */
int migrate_send(struct vm *vm, const char *address, bool checksum,
		 struct mig_report *r, char *err, size_t errlen);

/*
 * lvrun --incoming ADDRESS: waits for one source and builds @vm from its
 * stream, ready for its vCPUs to start. Dies with a message (having
 * told the source why, when it still can) on anything wrong.
 */
void vm_incoming(struct vm *vm, const char *address);
/*
 * Everything is ready but the vCPUs: tells the source READY and waits
 * for its GO. Dies, the guest not having run, if GO does not come.
 */
void migrate_incoming_ready(void);
/*
 * The vCPUs run (their threads are started): tells the source, which
 * may now end. Called by the first vCPU thread about to enter the guest
 * and by the main thread after starting them; only the first call acts.
 */
void migrate_incoming_running(void);

#endif /* LVRUN_MIGRATE_H */
