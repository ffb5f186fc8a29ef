// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the live-migration stream (wire.c): addresses as
 * lvctl migrate and lvrun --incoming take them, the HELLO a target
 * checks (version, memory size, a sane machine), every message's size
 * limits and page numbers past the guest's memory. Linked into
 * lvrun-loadertest, which prints the TAP plan.
 */
#include <arpa/inet.h>
#include <string.h>

#include "../tap.h"
#include "wire.h"

static void address_ok(const char *s, bool tcp, const char *where, int port)
{
	struct mig_address a;
	char err[128] = "";
	int ret = mig_parse_address(s, &a, err, sizeof(err));

	tap_ok(!ret && a.tcp == tcp && !strcmp(tcp ? a.host : a.path, where) &&
	       (!tcp || a.port == port), "migrate: address %s parses%s%s", s,
	       *err ? ": " : "", err);
}

static void address_bad(const char *s, const char *want)
{
	struct mig_address a;
	char err[128] = "";
	int ret = mig_parse_address(s, &a, err, sizeof(err));

	tap_ok(ret && strstr(err, want), "migrate: address '%s' refused: %s", s,
	       err);
}

static void address_tests(void)
{
	char long_path[200];

	address_ok("unix:/tmp/mig.sock", false, "/tmp/mig.sock", 0);
	address_ok("tcp:127.0.0.1:4444", true, "127.0.0.1", 4444);
	address_ok("tcp:[::1]:65535", true, "::1", 65535);
	address_ok("tcp:::1:1", true, "::1", 1);
	address_bad("udp:1.2.3.4:5", "unix:PATH or tcp:HOST:PORT");
	address_bad("unix:", "path missing");
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	memcpy(long_path, "unix:", 5);
	address_bad(long_path, "too long");
	address_bad("tcp:127.0.0.1", "needs HOST:PORT");
	address_bad("tcp:127.0.0.1:", "not a number");
	address_bad("tcp:127.0.0.1:0", "out of range");
	address_bad("tcp:127.0.0.1:65536", "out of range");
	address_bad("tcp:127.0.0.1:44a", "not a number");
	address_bad("tcp::4444", "no host");
	address_bad("tcp:example.com:4444", "not an IPv4 or IPv6 address");
}

static void hello_for(struct mig_hello *h, uint64_t mem)
{
	struct snap_machine m;

	memset(&m, 0, sizeof(m));
	m.nr_vcpus = 2;
	m.mem_size = mem;
	mig_hello_init(h, &m);
}

static void hello_tests(void)
{
	struct mig_hello h;
	char err[128] = "";

	hello_for(&h, 16 << 20);
	tap_ok(!mig_check_hello(&h, 0, err, sizeof(err)),
	       "migrate: a HELLO is accepted by a target without --mem %s", err);
	tap_ok(!mig_check_hello(&h, 16 << 20, err, sizeof(err)),
	       "migrate: and by one with the same --mem");
	tap_ok(mig_check_hello(&h, 32 << 20, err, sizeof(err)) &&
	       strstr(err, "16 MiB of memory, this lvrun --mem 32 MiB"),
	       "migrate: another --mem refuses it: %s", err);
	h.version = 1;
	tap_ok(mig_check_hello(&h, 0, err, sizeof(err)) &&
	       strstr(err, "version 1; this lvrun speaks version 3 only"),
	       "migrate: a version 1 source (no READY and GO) is refused: %s", err);
	h.version = 2;
	tap_ok(mig_check_hello(&h, 0, err, sizeof(err)) &&
	       strstr(err, "version 2; this lvrun speaks version 3 only"),
	       "migrate: a version 2 source (no SYNC) is refused: %s", err);
	h.version = 4;
	tap_ok(mig_check_hello(&h, 0, err, sizeof(err)) &&
	       strstr(err, "version 4; this lvrun speaks version 3 only"),
	       "migrate: a newer stream version is refused: %s", err);
	hello_for(&h, 16 << 20);
	h.magic[0] = 'X';
	tap_ok(mig_check_hello(&h, 0, err, sizeof(err)) && strstr(err, "bad magic"),
	       "migrate: another magic is refused: %s", err);
	hello_for(&h, (16 << 20) + 1);
	tap_ok(mig_check_hello(&h, 0, err, sizeof(err)) && strstr(err, "bad machine"),
	       "migrate: memory not in whole pages is refused: %s", err);
	hello_for(&h, 16ULL << 30);
	tap_ok(mig_check_hello(&h, 0, err, sizeof(err)) && strstr(err, "bad machine"),
	       "migrate: 16 GiB of memory is refused: %s", err);
	hello_for(&h, 16 << 20);
	h.machine.nr_vcpus = 0;
	tap_ok(mig_check_hello(&h, 0, err, sizeof(err)) && strstr(err, "0 vCPUs"),
	       "migrate: no vCPU is refused: %s", err);
	h.machine.nr_vcpus = 1000;
	tap_ok(mig_check_hello(&h, 0, err, sizeof(err)) && strstr(err, "1000 vCPUs"),
	       "migrate: 1000 vCPUs are refused: %s", err);
}

static bool msg_ok(uint32_t type, uint32_t count, uint64_t len)
{
	struct mig_msg m = { .type = type, .count = count, .len = len };
	char err[128];

	return !mig_check_msg(&m, err, sizeof(err));
}

static void msg_tests(void)
{
	const uint64_t page = sizeof(uint64_t) + MIG_PAGE;
	uint64_t index[3] = { 0, 4095, 17 };
	char err[128] = "";

	tap_ok(msg_ok(MIG_HELLO, 0, sizeof(struct mig_hello)) &&
	       !msg_ok(MIG_HELLO, 0, sizeof(struct mig_hello) + 1),
	       "migrate: HELLO has its struct's size");
	tap_ok(msg_ok(MIG_ACCEPT, 0, 0) && !msg_ok(MIG_RUNNING, 0, 8) &&
	       msg_ok(MIG_ROUND, 3, 0) && msg_ok(MIG_READY, 0, 0) &&
	       !msg_ok(MIG_READY, 0, 1) && msg_ok(MIG_GO, 0, 0) &&
	       !msg_ok(MIG_GO, 0, 16) && msg_ok(MIG_SYNC, 0, 0) &&
	       !msg_ok(MIG_SYNC, 0, 4) && msg_ok(MIG_SYNCED, 0, 0) &&
	       !msg_ok(MIG_SYNCED, 0, 8),
	       "migrate: ACCEPT, ROUND, SYNC, SYNCED, READY, GO and RUNNING carry nothing");
	tap_ok(msg_ok(MIG_PAGES, 1, page) && msg_ok(MIG_PAGES, MIG_BATCH, MIG_BATCH * page),
	       "migrate: PAGES of 1 and of %u pages", MIG_BATCH);
	tap_ok(!msg_ok(MIG_PAGES, 0, 0) && !msg_ok(MIG_PAGES, MIG_BATCH + 1,
						   (MIG_BATCH + 1) * page) &&
	       !msg_ok(MIG_PAGES, 2, page),
	       "migrate: PAGES of 0 or too many pages, or the wrong size, refused");
	tap_ok(msg_ok(MIG_STATE, 0, 4096) && !msg_ok(MIG_STATE, 0, 8) &&
	       !msg_ok(MIG_STATE, 0, 1ULL << 40),
	       "migrate: STATE between a header and the snapshot's limit");
	tap_ok(msg_ok(MIG_REFUSE, 0, MIG_REFUSE_MAX) &&
	       !msg_ok(MIG_REFUSE, 0, MIG_REFUSE_MAX + 1),
	       "migrate: REFUSE messages up to %u bytes", MIG_REFUSE_MAX);
	tap_ok(!msg_ok(0, 0, 0) && !msg_ok(99, 0, 0),
	       "migrate: unknown message types refused");
	tap_ok(!mig_check_pages(index, 3, 4096, err, sizeof(err)),
	       "migrate: page numbers inside the guest pass");
	index[2] = 4096;
	tap_ok(mig_check_pages(index, 3, 4096, err, sizeof(err)) &&
	       strstr(err, "page 4096 past the guest's 4096 pages"),
	       "migrate: a page past the guest's memory is refused: %s", err);
}

static void checksum_tests(void)
{
	static uint8_t a[3 * 4096], b[3 * 4096];

	a[5000] = 1;
	b[5000] = 1;
	tap_ok(mig_mem_checksum(a, sizeof(a)) == mig_mem_checksum(b, sizeof(b)),
	       "migrate: equal memory, equal checksums");
	b[12287] = 1;
	tap_ok(mig_mem_checksum(a, sizeof(a)) != mig_mem_checksum(b, sizeof(b)),
	       "migrate: one byte changed in the last page changes the checksum");
	b[12287] = 0;
	b[5000] = 0;
	b[4096] = 1;
	tap_ok(mig_mem_checksum(a, sizeof(a)) != mig_mem_checksum(b, sizeof(b)),
	       "migrate: a byte moved elsewhere changes it");
}

void migrate_wire_tests(void)
{
	address_tests();
	hello_tests();
	msg_tests();
	checksum_tests();
}
