/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A prepared lvrun (lvrun --pool-prepared, started by lvd): it has made
 * its VM, vCPUs and guest memory, and now serves exactly one client
 * lvrun --pool, then exits.
 */
#ifndef LVRUN_POOL_SERVE_H
#define LVRUN_POOL_SERVE_H

#include <stdint.h>

struct pool_client {
	int argc;
	char **argv;		/* the client's command line; argv[0] "lvrun" */
	uint64_t start_tsc;	/* when the client lvrun started */
	uint64_t request_tsc;	/* when its request came */
};

/*
 * Tells lvd on @notify_fd that this lvrun is prepared ('r'), accepts one
 * client on @listen_fd and closes it (no second client, ever), tells lvd
 * it is taken ('t'), takes the
 * client's stdin, stdout, stderr and working directory as its own,
 * answers it, and from then on sends it lvrun's exit status at the end
 * and ends the guest when the client does. A request of another kind,
 * or for another vCPU count than @nr_vcpus, is refused by name and this
 * lvrun exits. Fills @c with the client's command line.
 */
void pool_serve_one(int listen_fd, int notify_fd, int nr_vcpus,
		    struct pool_client *c);

/*
 * The guest is about to start: lvd may start this lvrun's replacement
 * now. (It waits for this, or for this lvrun's end, so that preparing
 * the next one does not compete with starting this guest.)
 */
void pool_serve_started(void);

#endif /* LVRUN_POOL_SERVE_H */
