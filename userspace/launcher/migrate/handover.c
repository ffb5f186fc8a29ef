// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the end of a migration, READY, GO and RUNNING (handover.h).
 */
#include <errno.h>
#include <stdio.h>
#include <x86intrin.h>

#include "handover.h"
#include "transport.h"
#include "wire.h"

/* A REFUSE's reason, printable ASCII only, into @err. */
static int refused(int fd, const char *peer, uint64_t len, char *err,
		   size_t errlen)
{
	char reason[MIG_REFUSE_MAX + 1], why[160];
	uint64_t i;

	if (mig_recv_payload(fd, reason, len, why, sizeof(why))) {
		snprintf(err, errlen, "the %s refused, and then: %s", peer, why);
		return -EPROTO;
	}
	reason[len] = '\0';
	for (i = 0; i < len; i++)
		if (reason[i] < 0x20 || reason[i] > 0x7e)
			reason[i] = '?';
	snprintf(err, errlen, "the %s refused: %s", peer, reason);
	return -ECONNREFUSED;
}

int mig_expect(int fd, uint32_t want, char *err, size_t errlen)
{
	const char *peer = want == MIG_GO ? "source" : "target";
	char why[160];
	struct mig_msg m;
	int ret;

	ret = mig_recv(fd, &m, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "no %s from the %s: %s", mig_type_name(want),
			 peer, why);
		return ret;
	}
	if (m.type == want)
		return 0;
	if (m.type == MIG_REFUSE)
		return refused(fd, peer, m.len, err, errlen);
	snprintf(err, errlen, "%s where %s was due", mig_type_name(m.type),
		 mig_type_name(want));
	return -EPROTO;
}

int mig_handover_source(int fd, bool *committed, uint64_t *ready_tsc,
			char *err, size_t errlen)
{
	char why[160];
	int ret;

	*committed = false;
	*ready_tsc = 0;
	ret = mig_expect(fd, MIG_READY, err, errlen);
	if (ret)
		return ret;
	*ready_tsc = __rdtsc();
	/*
	 * A GO the socket did not take whole cannot reach the target, which
	 * runs the guest only on a whole one: the guest may resume here.
	 */
	ret = mig_send(fd, MIG_GO, 0, NULL, 0, NULL, 0, err, errlen);
	if (ret)
		return ret;
	*committed = true;
	ret = mig_expect(fd, MIG_RUNNING, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "the stream broke after GO (%s): the target may run the guest; it stays stopped here",
			 why);
	return ret ? -EREMOTEIO : 0;
}

int mig_handover_target(int fd, char *err, size_t errlen)
{
	int ret = mig_send(fd, MIG_READY, 0, NULL, 0, NULL, 0, err, errlen);

	return ret ? ret : mig_expect(fd, MIG_GO, err, errlen);
}

int mig_handover_running(int fd, char *err, size_t errlen)
{
	return mig_send(fd, MIG_RUNNING, 0, NULL, 0, NULL, 0, err, errlen);
}
