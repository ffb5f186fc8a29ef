/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the end of a migration, where the guest changes hands, on a
 * stream alone (no VM), so that host-side tests can break it at every
 * step (wire.h has the whole exchange).
 *
 * After DONE the target answers READY, having checked and built
 * everything but not started a vCPU. The source, on READY, sends GO and
 * from the moment GO went out whole never resumes the guest; the target
 * starts its vCPUs only after a whole GO, then answers RUNNING. So the
 * guest runs on one side at most:
 *
 *   the stream breaks       source                  target
 *   before READY            resumes                 exits 1, ran nothing
 *   before GO went out      resumes                 exits 1, ran nothing
 *   after GO went out,      stays stopped, exits    runs it if GO arrived,
 *     before RUNNING        LVRUN_EXIT_MIGRATE_     else exits 1
 *                           UNKNOWN (14)
 *
 * In the third case neither end can tell whether the other runs it; a
 * second copy is worse than none, so the source does not guess.
 */
#ifndef LVRUN_MIGRATE_HANDOVER_H
#define LVRUN_MIGRATE_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The next message must be @want: 0, or a negative errno with a message
 * in @err (-ECONNREFUSED with the peer's REFUSE reason, -EPROTO for any
 * other message, the stream's error if it broke).
 */
int mig_expect(int fd, uint32_t want, char *err, size_t errlen);

/*
 * The source's side, after DONE: waits for READY (its TSC in @ready_tsc,
 * else 0), sends GO, waits for RUNNING. 0 once RUNNING arrived. Otherwise a negative errno with a
 * message in @err and @committed saying whether GO went out whole: if
 * not, the target cannot run the guest and the source resumes it; if
 * so, the error is -EREMOTEIO and the source must not run it again.
 */
int mig_handover_source(int fd, bool *committed, uint64_t *ready_tsc,
			char *err, size_t errlen);

/*
 * The target's side, everything built, no vCPU started: sends READY and
 * waits for GO. 0: run the guest (then mig_handover_running()); else a
 * negative errno with a message in @err, and the guest must not run.
 */
int mig_handover_target(int fd, char *err, size_t errlen);

/* The target's vCPUs run: tells the source. 0, or a negative errno. */
int mig_handover_running(int fd, char *err, size_t errlen);

#endif /* LVRUN_MIGRATE_HANDOVER_H */
