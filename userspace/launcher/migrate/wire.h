/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the live-migration stream, apart from any VM and socket so that
 * host-side tests can check it (docs/snapshot.md, "Live migration").
 *
 * Every message is a struct mig_msg and @len bytes of payload, in the
 * byte order of x86-64, both ends being x86-64 lvruns:
 *
 *   source                          target (lvrun --incoming ADDRESS)
 *   HELLO  (struct mig_hello)  ->
 *                              <-   ACCEPT, or REFUSE (a message)
 *   PAGES  (n indices, n pages) ->  repeated: pre-copy rounds
 *   ROUND  (count = round)      ->
 *   SYNC                        ->  pre-copy ends
 *                              <-   SYNCED (every page before SYNC is
 *                                   stored), or REFUSE (a message)
 *   PAGES, ROUND                ->  the pages dirtied before the pause
 *   STATE  (header + sections)  ->  a snapshot without its memory
 *   DONE   (struct mig_done)    ->
 *                              <-   READY (all checked and built, vCPUs
 *                                   not started), or REFUSE (a message)
 *   GO                          ->  the source commits: it never resumes
 *                              <-   RUNNING (the vCPUs run)
 *
 * SYNC keeps the pre-copy's backlog out of the downtime: the source
 * pauses the guest only once the target has stored every page sent so
 * far, not while they still wait in the socket's buffers.
 *
 * The target checks everything it receives; any error before GO ends
 * the stream and the target without running the guest, and the source
 * resumes its guest. The target runs the guest only after a whole GO;
 * the source never resumes once its GO went out whole. So at most one
 * side runs the guest: a stream that breaks between GO and RUNNING
 * leaves the source stopped, not knowing whether the target runs it
 * (handover.h).
 */
#ifndef LVRUN_MIGRATE_WIRE_H
#define LVRUN_MIGRATE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "../snapshot/snapshot.h"

#define MIG_MAGIC		"LVMIGR\r\n"
/* 2: READY and GO before the target runs the guest; 3: SYNC, SYNCED. */
#define MIG_VERSION		3
#define MIG_PAGE		4096u
/* Pages per PAGES message: 1 MiB of payload at most. */
#define MIG_BATCH		256u
/* The longest REFUSE message. */
#define MIG_REFUSE_MAX		200u

enum mig_type {
	MIG_HELLO = 1,
	MIG_ACCEPT,
	MIG_REFUSE,
	MIG_PAGES,
	MIG_ROUND,
	MIG_STATE,
	MIG_DONE,
	MIG_RUNNING,
	MIG_READY,
	MIG_GO,
	MIG_SYNC,
	MIG_SYNCED,
};

struct mig_msg {
	uint32_t type;		/* enum mig_type */
	uint32_t count;		/* PAGES: pages; ROUND: its number */
	uint64_t len;		/* payload bytes after this */
};

struct mig_hello {
	char magic[8];
	uint32_t version;
	uint32_t page_size;
	struct snap_machine machine;	/* as in a snapshot */
};

#define MIG_DONE_CHECKSUM	(1u << 0)

struct mig_done {
	uint32_t flags;		/* MIG_DONE_* */
	uint32_t padding;
	uint64_t mem_checksum;	/* with MIG_DONE_CHECKSUM: mig_mem_checksum() */
};

/* ADDRESS of migrate and --incoming: unix:PATH or tcp:HOST:PORT. */
struct mig_address {
	bool tcp;
	char path[108];		/* unix: sizeof(sun_path) */
	char host[64];		/* tcp: an IPv4 or IPv6 address, as given */
	int family;		/* tcp: AF_INET or AF_INET6 */
	struct in_addr ip4;
	struct in6_addr ip6;
	uint16_t port;		/* tcp: 1-65535 */
};

/* Parses @s into @a: 0, or -1 with a message in @err. */
int mig_parse_address(const char *s, struct mig_address *a, char *err,
		      size_t errlen);

void mig_hello_init(struct mig_hello *h, const struct snap_machine *m);
/*
 * The source's HELLO against this lvrun: magic, version, page size, a
 * sane machine, and @mem_size (0: any). 0, or -1 with a message in @err.
 */
int mig_check_hello(const struct mig_hello *h, uint64_t mem_size, char *err,
		    size_t errlen);

/*
 * A message header as received: a known type whose payload has the
 * size that type allows. 0, or -1 with a message in @err.
 */
int mig_check_msg(const struct mig_msg *m, char *err, size_t errlen);

/* Every one of the @n page indices is below @nr_pages. 0, or -1. */
int mig_check_pages(const uint64_t *index, uint32_t n, uint64_t nr_pages,
		    char *err, size_t errlen);

/* What both ends print at the switch, to show memory arrived whole. */
uint64_t mig_mem_checksum(const uint8_t *mem, uint64_t size);

/* The name of a message type, for messages. */
const char *mig_type_name(uint32_t type);

#endif /* LVRUN_MIGRATE_WIRE_H */
