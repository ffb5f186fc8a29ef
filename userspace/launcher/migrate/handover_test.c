// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the end of a migration (handover.c) against a fake
 * peer on a socketpair that breaks the stream at each step: before
 * READY, after READY, after GO, and with a refusal or a wrong message
 * in their place. The peer's side is written before the call under test
 * (a socketpair buffers it), so no test waits on another thread. What
 * they check is the rule of handover.h: the target runs the guest only
 * after a whole GO, and the source is "committed" (never resumes) once
 * its GO went out whole. Also the target's reading of a PAGES message's
 * pages into place (transport.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "handover.h"
#include "transport.h"
#include "wire.h"

/* fd[0]: the side under test; fd[1]: the fake peer. */
static void pair(int fd[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd))
		fd[0] = fd[1] = -1;
}

static void peer_says(int fd, uint32_t type)
{
	struct mig_msg m = { .type = type };

	if (write(fd, &m, sizeof(m)) != sizeof(m))
		tap_ok(0, "migrate: the fake peer could not write");
}

/* The peer saw exactly one message, of @type, and then the end. */
static bool peer_got(int fd, uint32_t type)
{
	struct mig_msg m;
	char more;

	return read(fd, &m, sizeof(m)) == sizeof(m) && m.type == type &&
	       !m.len && read(fd, &more, 1) == 0;
}

/* The peer saw nothing: no GO went out. */
static bool peer_got_nothing(int fd)
{
	char c;

	return read(fd, &c, 1) == 0;
}

static void close_pair(int fd[2])
{
	close(fd[0]);
	close(fd[1]);
}

/* The source, the peer a target that answers @answers and then stops. */
static int source_against(const uint32_t *answers, int n, bool hang_up,
			  int fd[2], bool *committed, char *err, size_t errlen)
{
	uint64_t ready_tsc;
	int i, ret;

	pair(fd);
	for (i = 0; i < n; i++)
		peer_says(fd[1], answers[i]);
	if (hang_up) {
		close(fd[1]);	/* GO cannot go out */
		fd[1] = -1;
	} else {
		shutdown(fd[1], SHUT_WR);	/* GO goes out, no answer comes */
	}
	ret = mig_handover_source(fd[0], committed, &ready_tsc, err, errlen);
	shutdown(fd[0], SHUT_WR);
	return ret;
}

static void source_tests(void)
{
	static const uint32_t ready[] = { MIG_READY },
		ready_running[] = { MIG_READY, MIG_RUNNING },
		running[] = { MIG_RUNNING },
		ready_refuse[] = { MIG_READY, MIG_REFUSE };
	char err[256] = "";
	uint64_t ready_tsc;
	bool committed;
	int fd[2], ret;

	ret = source_against(NULL, 0, true, fd, &committed, err, sizeof(err));
	tap_ok(ret == -EPIPE && !committed &&
	       strstr(err, "no READY from the target: the peer closed the stream"),
	       "migrate handover: the stream breaks before READY: the source resumes (%s)",
	       err);
	close_pair(fd);

	pair(fd);
	{
		static const char why[] = "memory checksum differs";
		struct mig_msg m = { .type = MIG_REFUSE, .len = sizeof(why) - 1 };

		if (write(fd[1], &m, sizeof(m)) != sizeof(m) ||
		    write(fd[1], why, m.len) != (ssize_t)m.len)
			tap_ok(0, "migrate: the fake peer could not write");
	}
	ret = mig_handover_source(fd[0], &committed, &ready_tsc, err, sizeof(err));
	tap_ok(ret == -ECONNREFUSED && !committed &&
	       !strcmp(err, "the target refused: memory checksum differs"),
	       "migrate handover: REFUSE instead of READY: the source resumes (%s)",
	       err);
	close_pair(fd);

	ret = source_against(running, 1, false, fd, &committed, err, sizeof(err));
	tap_ok(ret == -EPROTO && !committed && peer_got_nothing(fd[1]) &&
	       strstr(err, "RUNNING where READY was due"),
	       "migrate handover: RUNNING without READY (a version 1 target): no GO, the source resumes (%s)",
	       err);
	close_pair(fd);

	ret = source_against(ready, 1, true, fd, &committed, err, sizeof(err));
	tap_ok(ret == -EPIPE && !committed && strstr(err, "cannot send GO"),
	       "migrate handover: the stream breaks after READY, GO cannot go out: the source resumes (%s)",
	       err);
	close_pair(fd);

	ret = source_against(ready, 1, false, fd, &committed, err, sizeof(err));
	tap_ok(ret == -EREMOTEIO && committed && peer_got(fd[1], MIG_GO) &&
	       strstr(err, "the stream broke after GO (no RUNNING from the target: the peer closed the stream): the target may run the guest; it stays stopped here"),
	       "migrate handover: the stream breaks after GO: the source is committed, never resumes (%s)",
	       err);
	close_pair(fd);

	ret = source_against(ready_refuse, 2, false, fd, &committed, err,
			     sizeof(err));
	tap_ok(ret == -EREMOTEIO && committed && peer_got(fd[1], MIG_GO),
	       "migrate handover: anything but RUNNING after GO leaves the source committed (%s)",
	       err);
	close_pair(fd);

	err[0] = '\0';
	ret = source_against(ready_running, 2, false, fd, &committed, err,
			     sizeof(err));
	tap_ok(!ret && committed && peer_got(fd[1], MIG_GO),
	       "migrate handover: READY, GO, RUNNING: migrated %s", err);
	close_pair(fd);
}

/* The target; the peer a source that wrote @len bytes of @m, then stopped. */
static int target_against(const struct mig_msg *m, size_t len, int fd[2],
			  char *err, size_t errlen)
{
	pair(fd);
	if (len && write(fd[1], m, len) != (ssize_t)len)
		tap_ok(0, "migrate: the fake peer could not write");
	shutdown(fd[1], SHUT_WR);
	return mig_handover_target(fd[0], err, errlen);
}

static void target_tests(void)
{
	struct mig_msg go = { .type = MIG_GO }, done = {
		.type = MIG_DONE, .len = sizeof(struct mig_done) };
	struct mig_msg go_long = { .type = MIG_GO, .len = 8 };
	char err[256] = "";
	int fd[2], ret;

	ret = target_against(NULL, 0, fd, err, sizeof(err));
	shutdown(fd[0], SHUT_WR);
	tap_ok(ret == -EPIPE && peer_got(fd[1], MIG_READY) &&
	       strstr(err, "no GO from the source: the peer closed the stream"),
	       "migrate handover: the stream breaks after READY: the target does not run (%s)",
	       err);
	close_pair(fd);

	ret = target_against(&go, sizeof(go) / 2, fd, err, sizeof(err));
	tap_ok(ret == -EPIPE,
	       "migrate handover: half a GO and the end: the target does not run (%s)",
	       err);
	close_pair(fd);

	ret = target_against(&done, sizeof(done), fd, err, sizeof(err));
	tap_ok(ret == -EPROTO && strstr(err, "DONE where GO was due"),
	       "migrate handover: another message instead of GO: the target does not run (%s)",
	       err);
	close_pair(fd);

	ret = target_against(&go_long, sizeof(go_long), fd, err, sizeof(err));
	tap_ok(ret == -EPROTO,
	       "migrate handover: a GO with a payload: the target does not run (%s)",
	       err);
	close_pair(fd);

	pair(fd);
	close(fd[1]);
	fd[1] = -1;
	ret = mig_handover_target(fd[0], err, sizeof(err));
	tap_ok(ret == -EPIPE && strstr(err, "cannot send READY"),
	       "migrate handover: the source gone before READY: the target does not run (%s)",
	       err);
	close_pair(fd);

	err[0] = '\0';
	ret = target_against(&go, sizeof(go), fd, err, sizeof(err));
	tap_ok(!ret && !mig_handover_running(fd[0], err, sizeof(err)),
	       "migrate handover: READY, a whole GO: the target runs and says RUNNING %s",
	       err);
	shutdown(fd[0], SHUT_WR);
	{
		struct mig_msg m[2];

		tap_ok(read(fd[1], m, sizeof(m)) == sizeof(m) &&
		       m[0].type == MIG_READY && m[1].type == MIG_RUNNING,
		       "migrate handover: the source got READY, then RUNNING");
	}
	close_pair(fd);
}

/* Fills @p with bytes that name @page, so that a page put elsewhere shows. */
static void page_pattern(uint8_t *p, unsigned int page)
{
	unsigned int i;

	for (i = 0; i < MIG_PAGE; i++)
		p[i] = (uint8_t)(page * 31 + i);
}

static void pages_tests(void)
{
	static uint8_t mem[8 * MIG_PAGE], sent[3 * MIG_PAGE], want[MIG_PAGE];
	static const uint64_t index[3] = { 5, 0, 7 };
	char err[128] = "";
	int fd[2], i, ret;
	bool placed = true;

	for (i = 0; i < 3; i++)
		page_pattern(sent + i * MIG_PAGE, index[i]);
	pair(fd);
	if (write(fd[1], sent, sizeof(sent)) != sizeof(sent))
		tap_ok(0, "migrate: the fake peer could not write");
	ret = mig_recv_pages(fd[0], mem, index, 3, err, sizeof(err));
	for (i = 0; i < 8; i++) {
		memset(want, 0, sizeof(want));
		if (i == 0 || i == 5 || i == 7)
			page_pattern(want, i);
		placed &= !memcmp(mem + i * MIG_PAGE, want, MIG_PAGE);
	}
	tap_ok(!ret && placed,
	       "migrate: PAGES land each at its page number, the others untouched %s",
	       err);
	close_pair(fd);

	memset(mem, 0, sizeof(mem));
	pair(fd);
	if (write(fd[1], sent, MIG_PAGE + MIG_PAGE / 2) != MIG_PAGE + MIG_PAGE / 2)
		tap_ok(0, "migrate: the fake peer could not write");
	shutdown(fd[1], SHUT_WR);
	ret = mig_recv_pages(fd[0], mem, index, 3, err, sizeof(err));
	page_pattern(want, 5);
	tap_ok(ret == -EPIPE && !strcmp(err, "the peer closed the stream") &&
	       !memcmp(mem + 5 * MIG_PAGE, want, MIG_PAGE),
	       "migrate: PAGES cut in the second page: -EPIPE, the first in place (%s)",
	       err);
	close_pair(fd);
}

/* mig_send_pages() to mig_recv_pages(): each page from its place to its place. */
static void pages_roundtrip_test(void)
{
	static uint8_t from[8 * MIG_PAGE], to[8 * MIG_PAGE];
	static const uint64_t index[3] = { 6, 1, 3 };
	uint64_t got[3];
	char err[128] = "";
	struct mig_msg m;
	int fd[2], i, ret;

	for (i = 0; i < 8; i++)
		page_pattern(from + i * MIG_PAGE, i);
	pair(fd);
	ret = mig_send_pages(fd[1], from, index, 3, err, sizeof(err));
	if (!ret)
		ret = mig_recv(fd[0], &m, err, sizeof(err));
	if (!ret)
		ret = mig_recv_payload(fd[0], got, sizeof(got), err, sizeof(err));
	if (!ret)
		ret = mig_recv_pages(fd[0], to, got, 3, err, sizeof(err));
	tap_ok(!ret && m.type == MIG_PAGES && m.count == 3 &&
	       !memcmp(got, index, sizeof(got)) &&
	       !memcmp(to + 6 * MIG_PAGE, from + 6 * MIG_PAGE, MIG_PAGE) &&
	       !memcmp(to + 1 * MIG_PAGE, from + 1 * MIG_PAGE, MIG_PAGE) &&
	       !memcmp(to + 3 * MIG_PAGE, from + 3 * MIG_PAGE, MIG_PAGE),
	       "migrate: PAGES sent from guest memory arrive whole and in place %s",
	       err);
	close_pair(fd);
}

void migrate_handover_tests(void)
{
	source_tests();
	target_tests();
	pages_tests();
	pages_roundtrip_test();
}
